/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP, per vnode: answer for the vnode's own IPv4 address, resolve peers'
 * MAC addresses into a cache with expiry, and hold the frames sent to a
 * peer that is still being resolved (as a kernel's neighbour queue does),
 * so the first contact with a peer is not lost.
 *
 * Layer-2 trust (docs/SECURITY.md "Layer 2"): a MAC address seen on an
 * authenticated datagram the core took is confirmed and always wins; ARP,
 * which anyone can forge, fills only entries that are not confirmed (or
 * whose confirmation expired after arp_timeout_s) and never moves a
 * confirmed one: such ARP is counted (arp_ignored) and logged once a
 * minute at most, through the control thread.
 *
 * Senders overheard in ARP not addressed to us (a peer's gratuitous ARP
 * at start, its requests for others) are kept in a small ring, not the
 * cache, and used only when we come to resolve one of them: a newcomer
 * otherwise draws a broadcast request from every member that learns of
 * it, and each such broadcast wakes every process on the segment (N^2
 * wake-ups per join; on a host of hundreds of nodes, a storm of late
 * answers). What the ring gives is trusted as ARP is: it never moves a
 * confirmed entry, and the peer's first authenticated datagram confirms
 * or corrects it. A MAC that replaced another heard within the ring's
 * window (60 s, or arp_timeout where shorter) is not taken from the ring
 * until it has stood a whole window
 * (a flapping address: we ask; against a forger it adds nothing, as an
 * ARP reply addressed to us already fills an unconfirmed entry).
 *
 * The cache is a plain open-addressing table (linear probing, never
 * shrinks: an entry expires but keeps its bucket): only the owning lcore
 * touches it, and unlike an rte_hash it takes no memzone, so thousands of
 * vnodes can each have one.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_malloc.h>

#include "gossipd.h"
#include "gsp_ctrl.h"

#define GSP_ARP_RETRY_DS 2			/* request spacing, 1/10 s */
#define GSP_ARP_HOLD 64				/* frames awaiting resolution */
#define GSP_ARP_HOLD_NS (1000ull * 1000 * 1000)	/* then dropped */

#define GSP_ARP_TELL_NS (60ull * 1000 * 1000 * 1000)	/* ARP conflicts */

#define GSP_ARP_HEARD 32		/* overheard senders kept */
#define GSP_ARP_HEARD_S 60u		/* and used for this long at most */

#define GSP_ARP_VALID 1u
#define GSP_ARP_REQUESTED 2u
#define GSP_ARP_CONFIRMED 4u	/* the MAC came with authenticated gossip */

/* 16 bytes: a vnode holds one per peer, and a process thousands of
 * vnodes. Times are coarse on purpose: expiry is counted in seconds (no
 * wrap for a century), request spacing in tenths of a second modulo 256
 * (a wrap only delays one request by a tenth). */
struct gsp_arp_entry {
	uint32_t ip;			/* 0: empty bucket */
	uint32_t learned_s;		/* set, or refreshed by a source it
					 * trusts (CONFIRMED: gossip, or ARP
					 * that agrees) */
	struct rte_ether_addr mac;
	uint8_t flags;			/* GSP_ARP_* */
	uint8_t requested_ds;
};
_Static_assert(sizeof(struct gsp_arp_entry) == 16, "ARP entry size");

/* A sender overheard in ARP not addressed to us. */
struct gsp_arp_heard {
	uint32_t ip;			/* 0: unused */
	uint32_t heard_s;		/* last heard */
	uint32_t since_s;		/* mac heard first */
	struct rte_ether_addr mac;
	uint8_t rival;			/* another MAC was heard just before */
	uint8_t pad;
};
_Static_assert(sizeof(struct gsp_arp_heard) == 20, "ARP heard size");

struct gsp_arp_held {
	struct rte_mbuf *m;
	uint32_t next_hop;
	uint64_t since_ns;
};

struct gsp_arp_cache {
	uint32_t buckets;		/* at most 3/4 used: probes stay short */
	uint32_t max_used;
	uint32_t used;
	uint32_t n_hold;		/* oldest first */
	uint32_t heard_next;		/* ring slot overwritten next */
	struct gsp_arp_held hold[GSP_ARP_HOLD];
	struct gsp_arp_heard heard[GSP_ARP_HEARD];
	struct gsp_arp_entry e[];
};

static uint32_t
gsp_arp_buckets(uint32_t entries)
{
	return entries + entries / 3 + 1;
}

size_t
gsp_arp_bytes(uint32_t entries)
{
	return sizeof(struct gsp_arp_cache) +
		sizeof(struct gsp_arp_entry) * gsp_arp_buckets(entries);
}

struct gsp_arp_cache *
gsp_arp_create(uint32_t entries, int socket)
{
	struct gsp_arp_cache *c;

	c = rte_zmalloc_socket("gsp_arp", gsp_arp_bytes(entries),
			       RTE_CACHE_LINE_SIZE, socket);
	if (c == NULL)
		return NULL;
	c->buckets = gsp_arp_buckets(entries);
	c->max_used = entries;
	return c;
}

void
gsp_arp_destroy(struct gsp_arp_cache *c)
{
	rte_free(c);
}

/*
 * The entry of ip; with create, a new one, taking over a stale entry on
 * the probe path when the cache is full (a full cache must not stop us
 * from resolving new peers forever). Overwriting an occupied bucket's key
 * keeps every probe chain intact.
 */
static struct gsp_arp_entry *
gsp_arp_entry(struct gsp_arp_cache *c, uint32_t ip, bool create,
	      uint32_t now_s, uint32_t timeout_s)
{
	/* Fibonacci hash (addresses of a subnet differ in the low bits),
	 * mapped onto [0, buckets) by a multiply, not a modulo */
	uint32_t h = ip * 2654435761u;
	uint32_t i = (uint32_t)(((uint64_t)h * c->buckets) >> 32);
	struct gsp_arp_entry *stale = NULL;

	if (ip == 0)
		return NULL;
	for (;;) {
		struct gsp_arp_entry *e = &c->e[i];

		if (e->ip == ip)
			return e;
		if (e->ip == 0)
			break;
		if (stale == NULL && !(e->flags & GSP_ARP_REQUESTED) &&
		    (!(e->flags & GSP_ARP_VALID) ||
		     now_s - e->learned_s >= timeout_s))
			stale = e;
		if (++i == c->buckets)
			i = 0;
	}
	if (!create)
		return NULL;
	if (c->used < c->max_used) {
		c->used++;
		stale = &c->e[i];
	} else if (stale == NULL) {
		return NULL;
	}
	*stale = (struct gsp_arp_entry){ .ip = ip };
	return stale;
}

static bool
gsp_arp_fresh(const struct gsp_dp *dp, const struct gsp_arp_entry *e,
	      uint32_t now_s)
{
	return (e->flags & GSP_ARP_VALID) &&
		now_s - e->learned_s < dp->cfg->arp_timeout_s;
}

static void
gsp_arp_send(struct gsp_dp *dp, struct gsp_vnode *vn, uint16_t op,
	     const struct rte_ether_addr *dst_mac, uint32_t target_ip)
{
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);

	if (m == NULL) {
		GSP_LSTAT_ADD(vn->lc, tx_dropped, 1);
		GSP_VSTAT_ADD(vn, tx_dropped, 1);
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m,
			sizeof(*eth) + sizeof(*arp));
	arp = (struct rte_arp_hdr *)(eth + 1);
	if (dst_mac != NULL)
		rte_ether_addr_copy(dst_mac, &eth->dst_addr);
	else
		memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	rte_ether_addr_copy(&vn->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = sizeof(uint32_t);
	arp->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&vn->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(vn->ip);
	if (dst_mac != NULL)
		rte_ether_addr_copy(dst_mac, &arp->arp_data.arp_tha);
	else
		memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = rte_cpu_to_be_32(target_ip);
	GSP_LSTAT_ADD(vn->lc, arp_tx, 1);
	gsp_tx_enqueue(dp, vn, m);
}

static void
gsp_arp_drop_held(struct gsp_vnode *vn, uint32_t n)
{
	struct gsp_arp_cache *c = vn->arp;

	for (uint32_t i = 0; i < n; i++)
		rte_pktmbuf_free(c->hold[i].m);
	GSP_LSTAT_ADD(vn->lc, tx_no_arp, n);
	GSP_VSTAT_ADD(vn, tx_no_arp, n);
	c->n_hold -= n;
	memmove(&c->hold[0], &c->hold[n], sizeof(c->hold[0]) * c->n_hold);
}

/* Held frames older than GSP_ARP_HOLD_NS: their peer does not answer. */
static void
gsp_arp_expire_held(struct gsp_vnode *vn, uint64_t now_ns)
{
	struct gsp_arp_cache *c = vn->arp;
	uint32_t n = 0;

	while (n < c->n_hold && now_ns - c->hold[n].since_ns > GSP_ARP_HOLD_NS)
		n++;
	if (n > 0)
		gsp_arp_drop_held(vn, n);
}

static void gsp_arp_set(struct gsp_dp *dp, struct gsp_vnode *vn,
			struct gsp_arp_entry *e,
			const struct rte_ether_addr *mac, uint8_t confirmed,
			uint32_t now_s);

/* How long an overheard sender is used, and how long a MAC that replaced
 * another must stand: no longer than an entry lives either. */
static uint32_t
gsp_arp_heard_window(const struct gsp_dp *dp)
{
	return RTE_MIN(GSP_ARP_HEARD_S, dp->cfg->arp_timeout_s);
}

/* The ring's slot of ip, or NULL. */
static struct gsp_arp_heard *
gsp_arp_heard_find(struct gsp_arp_cache *c, uint32_t ip)
{
	for (uint32_t i = 0; i < GSP_ARP_HEARD; i++)
		if (c->heard[i].ip == ip)
			return &c->heard[i];
	return NULL;
}

/* Keeps what ARP not addressed to us says of an address we hold no
 * entry for; one slot per address, the oldest overwritten. */
static void
gsp_arp_overhear(struct gsp_arp_cache *c, uint32_t ip,
		 const struct rte_ether_addr *mac, uint32_t now_s,
		 uint32_t window_s)
{
	struct gsp_arp_heard *h = gsp_arp_heard_find(c, ip);

	if (h == NULL) {
		h = &c->heard[c->heard_next];
		c->heard_next = (c->heard_next + 1) % GSP_ARP_HEARD;
		*h = (struct gsp_arp_heard){ .ip = ip, .heard_s = now_s,
					     .since_s = now_s, .mac = *mac };
		return;
	}
	if (!rte_is_same_ether_addr(&h->mac, mac)) {
		/* a move, or a forger: which, we cannot tell */
		h->rival = now_s - h->heard_s < window_s;
		h->mac = *mac;
		h->since_s = now_s;
	}
	h->heard_s = now_s;
}

/* e (not fresh) takes the MAC overheard for its address, if it was
 * heard lately and no rival came just before it: no broadcast request. */
static bool
gsp_arp_from_heard(struct gsp_dp *dp, struct gsp_vnode *vn,
		   struct gsp_arp_entry *e, uint32_t now_s)
{
	const struct gsp_arp_heard *h = gsp_arp_heard_find(vn->arp, e->ip);
	uint32_t window_s = gsp_arp_heard_window(dp);

	if (h == NULL || now_s - h->heard_s >= window_s ||
	    (h->rival && now_s - h->since_s < window_s))
		return false;
	gsp_arp_set(dp, vn, e, &h->mac, 0, now_s);
	return true;
}

const struct rte_ether_addr *
gsp_arp_resolve(struct gsp_dp *dp, struct gsp_vnode *vn, uint32_t next_hop,
		uint64_t now_ns)
{
	uint32_t now_s = (uint32_t)(now_ns / 1000000000u);
	uint8_t now_ds = (uint8_t)(now_ns / 100000000u);
	struct gsp_arp_entry *e = gsp_arp_entry(vn->arp, next_hop, true, now_s,
						dp->cfg->arp_timeout_s);
	bool fresh;

	if (vn->arp->n_hold > 0)
		gsp_arp_expire_held(vn, now_ns);
	if (e == NULL)		/* cache full: nothing sensible to do */
		return NULL;
	fresh = gsp_arp_fresh(dp, e, now_s);
	/* (the sender of the datagram being read is followed to the MAC
	 * that datagram authenticates, below) */
	if (!fresh && next_hop != vn->lc->rx_src_ip &&
	    gsp_arp_from_heard(dp, vn, e, now_s)) {
		GSP_LSTAT_ADD(vn->lc, arp_overheard, 1);
		return &e->mac;
	}
	/* refresh before expiry so a live peer never drops out of the cache;
	 * but an answer to the datagram being read waits without a request:
	 * that datagram's MAC comes when the core took it (pkt.c) */
	if ((!fresh || now_s - e->learned_s > dp->cfg->arp_timeout_s / 2) &&
	    next_hop != vn->lc->rx_src_ip &&
	    (!(e->flags & GSP_ARP_REQUESTED) ||
	     (uint8_t)(now_ds - e->requested_ds) >= GSP_ARP_RETRY_DS)) {
		e->requested_ds = now_ds;
		e->flags |= GSP_ARP_REQUESTED;
		gsp_arp_send(dp, vn, RTE_ARP_OP_REQUEST, NULL, next_hop);
	}
	return fresh ? &e->mac : NULL;
}

void
gsp_arp_hold(struct gsp_dp *dp, struct gsp_vnode *vn, struct rte_mbuf *m,
	     uint32_t next_hop, uint64_t now_ns)
{
	struct gsp_arp_cache *c = vn->arp;

	RTE_SET_USED(dp);
	if (c->n_hold == GSP_ARP_HOLD)
		gsp_arp_drop_held(vn, 1);	/* oldest goes */
	c->hold[c->n_hold++] = (struct gsp_arp_held){ m, next_hop, now_ns };
}

/* The next hop resolved: its held frames leave, in order. */
static void
gsp_arp_release(struct gsp_dp *dp, struct gsp_vnode *vn, uint32_t ip,
		const struct rte_ether_addr *mac)
{
	struct gsp_arp_cache *c = vn->arp;
	uint32_t keep = 0;

	for (uint32_t i = 0; i < c->n_hold; i++) {
		struct gsp_arp_held *h = &c->hold[i];

		if (h->next_hop != ip) {
			c->hold[keep++] = *h;
			continue;
		}
		rte_ether_addr_copy(mac, &rte_pktmbuf_mtod(h->m,
				struct rte_ether_hdr *)->dst_addr);
		gsp_tx_enqueue(dp, vn, h->m);
	}
	c->n_hold = keep;
}

/* Sets e's MAC, fresh from now; the frames held for it leave. */
static void
gsp_arp_set(struct gsp_dp *dp, struct gsp_vnode *vn, struct gsp_arp_entry *e,
	    const struct rte_ether_addr *mac, uint8_t confirmed, uint32_t now_s)
{
	bool was_fresh = gsp_arp_fresh(dp, e, now_s);

	e->mac = *mac;
	e->flags = GSP_ARP_VALID | confirmed;
	e->learned_s = now_s;
	if (!was_fresh && vn->arp->n_hold > 0)
		gsp_arp_release(dp, vn, e->ip, mac);
}

void
gsp_arp_confirm(struct gsp_dp *dp, struct gsp_vnode *vn, uint32_t ip,
		const struct rte_ether_addr *mac, uint64_t now_ns)
{
	uint32_t now_s = (uint32_t)(now_ns / 1000000000u);
	struct gsp_arp_entry *e;

	if (ip == 0 || ip == vn->ip || !rte_is_valid_assigned_ether_addr(mac))
		return;
	e = gsp_arp_entry(vn->arp, ip, true, now_s, dp->cfg->arp_timeout_s);
	if (e == NULL)
		return;
	/* plaintext gossip proves nothing: it teaches as ARP does */
	gsp_arp_set(dp, vn, e, mac, dp->keyring != NULL ? GSP_ARP_CONFIRMED : 0,
		    now_s);
}

static uint64_t
gsp_arp_mac_u64(const struct rte_ether_addr *mac)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v = v << 8 | mac->addr_bytes[i];
	return v;
}

/* ARP that would move a confirmed entry: counted, and told to the
 * control thread (the log) once a minute at most, never per packet. */
static void
gsp_arp_conflict(struct gsp_dp *dp, struct gsp_vnode *vn,
		 const struct gsp_arp_entry *e,
		 const struct rte_ether_addr *claimed, uint64_t now_ns)
{
	struct gsp_lcore_conf *lc = vn->lc;
	struct gsp_event ev = { .type = GSP_EV_DP_ARP_CONFLICT };

	GSP_LSTAT_ADD(lc, arp_ignored, 1);
	if (vn != dp->ctrl_vnode)	/* only its events reach the log */
		return;
	if (lc->arp_told && now_ns - lc->arp_told_ns < GSP_ARP_TELL_NS) {
		lc->arp_untold++;
		return;
	}
	ev.id = e->ip;
	ev.generation = gsp_arp_mac_u64(claimed);
	ev.limit = gsp_arp_mac_u64(&e->mac);
	ev.suppressed = lc->arp_untold;
	lc->arp_told = true;
	lc->arp_told_ns = now_ns;
	lc->arp_untold = 0;
	gsp_io_event(vn, &ev);
}

/* What ARP says: ip is at mac. create: it may take a new entry. */
static void
gsp_arp_learn(struct gsp_dp *dp, struct gsp_vnode *vn, uint32_t ip,
	      const struct rte_ether_addr *mac, bool create, uint64_t now_ns)
{
	uint32_t now_s = (uint32_t)(now_ns / 1000000000u);
	struct gsp_arp_entry *e;
	bool confirmed;

	if (ip == 0 || ip == vn->ip || !rte_is_valid_assigned_ether_addr(mac))
		return;
	e = gsp_arp_entry(vn->arp, ip, create, now_s, dp->cfg->arp_timeout_s);
	if (e == NULL) {
		if (!create)
			gsp_arp_overhear(vn->arp, ip, mac, now_s,
					 gsp_arp_heard_window(dp));
		return;
	}
	confirmed = (e->flags & GSP_ARP_CONFIRMED) &&
		gsp_arp_fresh(dp, e, now_s);
	if (!confirmed) {
		gsp_arp_set(dp, vn, e, mac, 0, now_s);
	} else if (rte_is_same_ether_addr(&e->mac, mac)) {
		/* agrees: keeps the entry (and its requests) from ageing */
		gsp_arp_set(dp, vn, e, mac, GSP_ARP_CONFIRMED, now_s);
	} else {
		gsp_arp_conflict(dp, vn, e, mac, now_ns);
	}
}

void
gsp_arp_input(struct gsp_dp *dp, struct gsp_vnode *vn, const uint8_t *frame,
	      uint32_t len, uint64_t now_ns)
{
	const struct rte_ether_hdr *eth = (const void *)frame;
	const struct rte_arp_hdr *arp = (const void *)(eth + 1);
	uint32_t sip, tip;

	if (len < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
	    arp->arp_plen != sizeof(uint32_t)) {
		GSP_LSTAT_ADD(vn->lc, rx_parse_errors, 1);
		return;
	}
	GSP_LSTAT_ADD(vn->lc, arp_rx, 1);
	sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
	/* as Linux does: a new entry only from ARP addressed to us, any
	 * other ARP only refreshes what we already know; otherwise every
	 * host (or forger) on the segment would take a slot */
	if ((sip & vn->netmask) == (vn->ip & vn->netmask))
		gsp_arp_learn(dp, vn, sip, &arp->arp_data.arp_sha,
			      tip == vn->ip, now_ns);
	if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
	    tip == vn->ip &&
	    rte_is_valid_assigned_ether_addr(&arp->arp_data.arp_sha))
		gsp_arp_send(dp, vn, RTE_ARP_OP_REPLY, &arp->arp_data.arp_sha,
			     sip);
}

/* Gratuitous ARP at start: peers learn our (possibly new) MAC at once,
 * but for those that confirmed our old one: they follow our first
 * datagram. */
void
gsp_arp_announce(struct gsp_dp *dp, struct gsp_vnode *vn)
{
	gsp_arp_send(dp, vn, RTE_ARP_OP_REQUEST, NULL, vn->ip);
}

void
gsp_arp_flush(struct gsp_vnode *vn)
{
	struct gsp_arp_cache *c = vn->arp;

	for (uint32_t i = 0; i < c->n_hold; i++)
		rte_pktmbuf_free(c->hold[i].m);
	c->n_hold = 0;
}
