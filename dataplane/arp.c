/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP: answer for our own IPv4 address, resolve peers' MAC addresses into a
 * cache with expiry. Only the protocol lcore touches the cache, so the
 * rte_hash needs no concurrency flags.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "gossipd.h"

#define GSP_ARP_RETRY_NS (200ull * 1000 * 1000)	/* per-IP request spacing */

struct gsp_arp_entry {
	struct rte_ether_addr mac;
	bool valid;
	uint64_t learned_ns;
	uint64_t requested_ns;
};

struct gsp_arp_cache {
	struct rte_hash *hash;
	uint32_t entries;
	struct gsp_arp_entry *e;	/* indexed by rte_hash position */
};

struct gsp_arp_cache *
gsp_arp_create(uint32_t entries)
{
	struct rte_hash_parameters params = {
		.name = "gsp_arp",
		.entries = entries,
		.key_len = sizeof(uint32_t),
		.hash_func = rte_jhash,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct gsp_arp_cache *c = rte_zmalloc("gsp_arp", sizeof(*c), 0);

	if (c == NULL)
		return NULL;
	c->hash = rte_hash_create(&params);
	c->entries = (uint32_t)rte_hash_max_key_id(c->hash) + 1;
	c->e = rte_zmalloc("gsp_arp_entries", sizeof(*c->e) * c->entries, 0);
	if (c->hash == NULL || c->e == NULL) {
		gsp_arp_destroy(c);
		return NULL;
	}
	return c;
}

void
gsp_arp_destroy(struct gsp_arp_cache *c)
{
	if (c == NULL)
		return;
	rte_hash_free(c->hash);
	rte_free(c->e);
	rte_free(c);
}

static struct gsp_arp_entry *
gsp_arp_entry(struct gsp_arp_cache *c, uint32_t ip, bool create)
{
	int32_t pos = rte_hash_lookup(c->hash, &ip);

	if (pos < 0 && create) {
		pos = rte_hash_add_key(c->hash, &ip);
		if (pos >= 0)
			memset(&c->e[pos], 0, sizeof(c->e[pos]));
	}
	return pos >= 0 && (uint32_t)pos < c->entries ? &c->e[pos] : NULL;
}

static void
gsp_arp_send(struct gsp_dp *dp, struct gsp_lcore_conf *lc, uint16_t op,
	     const struct rte_ether_addr *dst_mac, uint32_t target_ip)
{
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);

	if (m == NULL) {
		GSP_LSTAT_ADD(lc, tx_dropped, 1);
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m,
			sizeof(*eth) + sizeof(*arp));
	arp = (struct rte_arp_hdr *)(eth + 1);
	if (dst_mac != NULL)
		rte_ether_addr_copy(dst_mac, &eth->dst_addr);
	else
		memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	rte_ether_addr_copy(&dp->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = sizeof(uint32_t);
	arp->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&dp->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(dp->ip);
	if (dst_mac != NULL)
		rte_ether_addr_copy(dst_mac, &arp->arp_data.arp_tha);
	else
		memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = rte_cpu_to_be_32(target_ip);
	GSP_LSTAT_ADD(lc, arp_tx, 1);
	gsp_tx_enqueue(dp, lc, m);
}

const struct rte_ether_addr *
gsp_arp_resolve(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
		uint32_t next_hop, uint64_t now_ns)
{
	uint64_t timeout = (uint64_t)dp->cfg->arp_timeout_s * 1000000000ull;
	struct gsp_arp_entry *e = gsp_arp_entry(dp->arp, next_hop, true);
	bool fresh;

	if (e == NULL)		/* cache full: nothing sensible to do */
		return NULL;
	fresh = e->valid && now_ns - e->learned_ns < timeout;
	/* refresh before expiry so a live peer never drops out of the cache */
	if ((!fresh || now_ns - e->learned_ns > timeout / 2) &&
	    (e->requested_ns == 0 || now_ns - e->requested_ns > GSP_ARP_RETRY_NS)) {
		e->requested_ns = now_ns;
		gsp_arp_send(dp, lc, RTE_ARP_OP_REQUEST, NULL, next_hop);
	}
	return fresh ? &e->mac : NULL;
}

void
gsp_arp_learn(struct gsp_dp *dp, uint32_t ip, const struct rte_ether_addr *mac,
	      uint64_t now_ns)
{
	struct gsp_arp_entry *e;

	if (ip == 0 || ip == dp->ip || !rte_is_unicast_ether_addr(mac))
		return;
	e = gsp_arp_entry(dp->arp, ip, true);
	if (e == NULL)
		return;
	e->mac = *mac;
	e->valid = true;
	e->learned_ns = now_ns;
}

void
gsp_arp_input(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
	      const uint8_t *frame, uint32_t len, uint64_t now_ns)
{
	const struct rte_ether_hdr *eth = (const void *)frame;
	const struct rte_arp_hdr *arp = (const void *)(eth + 1);
	uint32_t sip, tip;

	if (len < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
	    arp->arp_plen != sizeof(uint32_t)) {
		GSP_LSTAT_ADD(lc, rx_parse_errors, 1);
		return;
	}
	GSP_LSTAT_ADD(lc, arp_rx, 1);
	sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
	if ((sip & dp->netmask) == (dp->ip & dp->netmask))
		gsp_arp_learn(dp, sip, &arp->arp_data.arp_sha, now_ns);
	if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
	    tip == dp->ip && rte_is_unicast_ether_addr(&arp->arp_data.arp_sha))
		gsp_arp_send(dp, lc, RTE_ARP_OP_REPLY, &arp->arp_data.arp_sha,
			     sip);
}

/* Gratuitous ARP at start: peers learn our (possibly new) MAC at once. */
void
gsp_arp_announce(struct gsp_dp *dp, struct gsp_lcore_conf *lc)
{
	gsp_arp_send(dp, lc, RTE_ARP_OP_REQUEST, NULL, dp->ip);
}
