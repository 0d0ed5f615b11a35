/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-process software switch of emulation mode (docs/EMULATION.md).
 *
 * Every vnode is a switch port: its rx ring. A transmitting lcore flushes
 * its tx buffer here; each frame goes, by destination MAC, into the
 * destination vnode's rx ring: the same mbuf, no copy. Consecutive frames
 * to one port go in one burst.
 *
 * The forwarding table is static (ports are known when they attach, there
 * is nothing to learn) and direct-mapped: vnode MACs are 02:00:0a:63:xx:yy
 * and addresses 10.99.xx.yy, so the low 16 bits index the port table and a
 * full compare confirms the hit.
 *
 * Broadcast is never flooded: with thousands of ports one broadcast would
 * become thousands of frames. ARP requests for a vnode's address are
 * answered by the switch itself, in place (the request mbuf becomes the
 * reply from the target's MAC), the way EVPN fabrics suppress ARP:
 * resolution costs two frames however many vnodes there are. Gratuitous
 * ARP is absorbed (the switch already has the binding); other broadcast
 * and multicast, and unicast to an unknown MAC, are dropped and counted.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_malloc.h>

#include "gossipd.h"
#include "gsp_util.h"

#define GSP_SW_PORTS 65536

struct gsp_switch {
	uint64_t loss_thresh;		/* drop when rand64 < this; 0: never */
	struct gsp_vnode *port[GSP_SW_PORTS];
};

struct gsp_switch *
gsp_switch_create(double loss, int socket)
{
	struct gsp_switch *sw = rte_zmalloc_socket("gsp_switch", sizeof(*sw),
						   RTE_CACHE_LINE_SIZE, socket);

	if (sw == NULL)
		return NULL;
	if (loss > 0)
		sw->loss_thresh = loss >= 1.0 ? UINT64_MAX :
			(uint64_t)(loss * 18446744073709551616.0);
	return sw;
}

void
gsp_switch_destroy(struct gsp_switch *sw)
{
	rte_free(sw);
}

int
gsp_switch_attach(struct gsp_switch *sw, struct gsp_vnode *vn)
{
	uint32_t host = vn->ip & 0xffff;

	if (sw->port[host] != NULL || vn->rx_ring == NULL ||
	    (uint32_t)((vn->mac.addr_bytes[4] << 8) |
		       vn->mac.addr_bytes[5]) != host)
		return -EINVAL;
	sw->port[host] = vn;
	return 0;
}

static struct gsp_vnode *
gsp_switch_by_mac(const struct gsp_switch *sw, const struct rte_ether_addr *a)
{
	struct gsp_vnode *vn =
		sw->port[(a->addr_bytes[4] << 8) | a->addr_bytes[5]];

	return vn != NULL && rte_is_same_ether_addr(&vn->mac, a) ? vn : NULL;
}

static struct gsp_vnode *
gsp_switch_by_ip(const struct gsp_switch *sw, uint32_t ip)
{
	struct gsp_vnode *vn = sw->port[ip & 0xffff];

	return vn != NULL && vn->ip == ip ? vn : NULL;
}

/* ARP suppression: the request becomes the target's reply, in place. */
static struct gsp_vnode *
gsp_switch_arp(const struct gsp_switch *sw, struct gsp_lcore_conf *lc,
	       struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *a = &arp->arp_data;
	struct gsp_vnode *target, *asker;
	uint32_t sip, tip;

	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) {
		lc->sw.flood_dropped++;
		return NULL;
	}
	sip = rte_be_to_cpu_32(a->arp_sip);
	tip = rte_be_to_cpu_32(a->arp_tip);
	if (sip == tip) {
		lc->sw.garp_absorbed++;
		return NULL;
	}
	target = gsp_switch_by_ip(sw, tip);
	asker = gsp_switch_by_mac(sw, &eth->src_addr);
	if (target == NULL || asker == NULL) {
		lc->sw.arp_unknown++;
		return NULL;
	}
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&target->mac, &eth->src_addr);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&a->arp_sha, &a->arp_tha);
	a->arp_tip = a->arp_sip;
	rte_ether_addr_copy(&target->mac, &a->arp_sha);
	a->arp_sip = rte_cpu_to_be_32(tip);
	lc->sw.arp_suppressed++;
	return asker;
}

/* The port a frame goes to, or NULL when the switch consumed it. */
static struct gsp_vnode *
gsp_switch_port(const struct gsp_switch *sw, struct gsp_lcore_conf *lc,
		struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth;
	struct gsp_vnode *dst;

	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eth))) {
		lc->sw.runt++;
		return NULL;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (unlikely(!rte_is_unicast_ether_addr(&eth->dst_addr))) {
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
			dst = gsp_switch_arp(sw, lc, m);
		else
			dst = NULL, lc->sw.flood_dropped++;
	} else {
		dst = gsp_switch_by_mac(sw, &eth->dst_addr);
		if (dst == NULL)
			lc->sw.unknown_dropped++;
	}
	if (dst != NULL && sw->loss_thresh != 0 &&
	    gsp_rand(&lc->rng) < sw->loss_thresh) {
		lc->sw.lost++;
		dst = NULL;
	}
	return dst;
}

static void
gsp_switch_deliver(struct gsp_lcore_conf *lc, struct gsp_vnode *dst,
		   struct rte_mbuf **pkts, unsigned int n)
{
	unsigned int in = gsp_vnode_deliver(dst, pkts, n);

	lc->sw.forwarded += in;
	if (unlikely(in < n)) {
		/* a full rx ring drops, as a NIC's does */
		lc->sw.ring_full += n - in;
		GSP_LSTAT_ADD(lc, tx_dropped, n - in);
		rte_pktmbuf_free_bulk(&pkts[in], n - in);
	}
}

void
gsp_switch_tx(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
	      struct rte_mbuf **pkts, uint16_t n)
{
	const struct gsp_switch *sw = dp->sw;
	struct rte_mbuf *run[GSP_MAX_PKT_BURST];
	struct gsp_vnode *cur = NULL;
	unsigned int n_run = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct gsp_vnode *dst = gsp_switch_port(sw, lc, pkts[i]);

		if (dst == NULL) {
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		if (dst != cur && n_run > 0) {
			gsp_switch_deliver(lc, cur, run, n_run);
			n_run = 0;
		}
		cur = dst;
		run[n_run++] = pkts[i];
	}
	if (n_run > 0)
		gsp_switch_deliver(lc, cur, run, n_run);
}
