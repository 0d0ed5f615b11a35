/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-process software switch (docs/EMULATION.md): a kind of port of
 * the node, behind the same seam as an ethdev queue (portq.h). The
 * emulation creates it and attaches its vnodes.
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
 *
 * Faults (--fault, gsp_fault.h) apply to every frame the switch forwards,
 * ARP replies included: the same decision function as a real node's, with
 * the destination vnode's address for drop/dup/delay and block, and the
 * source's for block. A delayed frame waits in the transmitting lcore's
 * delay queue (a min-heap on its due time, bounded: a full queue drops and
 * counts) and is delivered by that lcore's next flush or by its loop's
 * due-work step (gsp_switch_due, every pass).
 *
 * A paused port (the stall scenario: a stopped process) still queues
 * frames in the vnode's ring, up to its size, but does not wake its lcore.
 *
 * Uplink (port_uplink.h): an ethdev queue pair of the switch's own, to
 * the switches of other processes whose vnodes belong to the same
 * cluster. The cluster's addresses are a known range and every vnode's
 * MAC is 02:00 + its address, so the switch knows every binding without
 * learning: it answers ARP for any address of the range (no ARP crosses
 * the uplink), and unicast to a cluster MAC that is not on this switch
 * goes out of the uplink. The uplink's owner lcore takes a burst from it
 * first in each pass (portq.h) and switches it to the vnodes' rings,
 * faults included (a frame crossing is faulted once: where it is
 * delivered). Nothing received is sent back out: no loops.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "frame_cksum.h"
#include "gossipd.h"
#include "port_switch.h"
#include "port_uplink.h"
#include "gsp_util.h"

#define GSP_SW_PORTS 65536
#define GSP_SW_DELAY_MAX 32768		/* delayed frames per lcore */

/* Written by one transmitting lcore only. */
struct gsp_sw_lcore {
	uint64_t fault[GSP_FAULT_C_MAX];
	uint64_t paused_dropped;
	uint64_t late_max_ns, late_sum_ns, released;
	uint64_t queued_max;
	uint32_t n_delayed;
	uint32_t seq;			/* FIFO among equal due times */
	struct gsp_held *heap;		/* GSP_SW_DELAY_MAX; NULL: no delays */
} __rte_cache_aligned;

struct gsp_switch {
	struct gsp_fault_cfg fault;
	bool fault_on;			/* any fault: the slow path */
	bool delays;			/* delay, jitter or reorder */
	uint8_t paused[GSP_SW_PORTS];	/* by port; any thread writes */
	struct gsp_sw_lcore lc[RTE_MAX_LCORE];
	struct gsp_vnode *port[GSP_SW_PORTS];
	struct gsp_uplink *up;		/* NULL: none */
	uint32_t up_first_ip;		/* the cluster: up_first_ip .. */
	uint32_t up_n_ips;		/* ... + up_n_ips - 1 */
};

/* The uplink, as a port: what gsp_switch_port returns for it. */
static struct gsp_vnode gsp_sw_uplink_port;
#define GSP_SW_UPLINK (&gsp_sw_uplink_port)

struct gsp_switch *
gsp_switch_create(double loss, int socket)
{
	struct gsp_switch *sw = rte_zmalloc_socket("gsp_switch", sizeof(*sw),
						   RTE_CACHE_LINE_SIZE, socket);
	struct gsp_fault_cfg f = { .drop = loss };

	if (sw == NULL)
		return NULL;
	if (gsp_switch_set_fault(sw, &f) != 0) {
		gsp_switch_destroy(sw);
		return NULL;
	}
	return sw;
}

/* Before the lcores run: the queues are not locked. */
int
gsp_switch_set_fault(struct gsp_switch *sw, const struct gsp_fault_cfg *f)
{
	unsigned int lcore;

	sw->fault = *f;
	sw->fault_on = gsp_fault_active(f);
	sw->delays = gsp_fault_delays(f);
	if (!sw->delays)
		return 0;
	RTE_LCORE_FOREACH(lcore) {
		struct gsp_sw_lcore *sl = &sw->lc[lcore];

		if (sl->heap != NULL)
			continue;
		sl->heap = rte_malloc_socket("gsp_sw_delay", sizeof(*sl->heap) *
				GSP_SW_DELAY_MAX, 0,
				(int)rte_lcore_to_socket_id(lcore));
		if (sl->heap == NULL)
			return -ENOMEM;
	}
	return 0;
}

void
gsp_switch_destroy(struct gsp_switch *sw)
{
	if (sw == NULL)
		return;
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		struct gsp_sw_lcore *sl = &sw->lc[l];

		for (uint32_t i = 0; i < sl->n_delayed; i++)
			rte_pktmbuf_free(sl->heap[i].m);
		rte_free(sl->heap);
	}
	gsp_uplink_close(sw->up);
	rte_free(sw);
}

void
gsp_switch_fstats(const struct gsp_switch *sw, struct gsp_switch_fstats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct gsp_sw_lcore *sl = &sw->lc[l];
		uint64_t v;

		/* the lcores may still be counting */
		for (unsigned int k = 0; k < GSP_FAULT_C_MAX; k++)
			out->fault[k] += __atomic_load_n(&sl->fault[k],
							 __ATOMIC_RELAXED);
		out->paused_dropped += __atomic_load_n(&sl->paused_dropped,
						       __ATOMIC_RELAXED);
		out->delay_late_sum_ns += __atomic_load_n(&sl->late_sum_ns,
							  __ATOMIC_RELAXED);
		out->delay_released += __atomic_load_n(&sl->released,
						       __ATOMIC_RELAXED);
		v = __atomic_load_n(&sl->late_max_ns, __ATOMIC_RELAXED);
		out->delay_late_max_ns = RTE_MAX(out->delay_late_max_ns, v);
		v = __atomic_load_n(&sl->queued_max, __ATOMIC_RELAXED);
		out->delay_queued_max = RTE_MAX(out->delay_queued_max, v);
	}
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

bool
gsp_switch_uplink_stats(const struct gsp_switch *sw,
			struct gsp_uplink_stats *out)
{
	if (sw->up == NULL)
		return false;
	gsp_uplink_stats(sw->up, out);
	return true;
}

int
gsp_switch_set_uplink(struct gsp_switch *sw, struct gsp_uplink *up,
		      uint32_t first_ip, uint32_t n_ips)
{
	if (sw->up != NULL || up == NULL || n_ips == 0)
		return -EINVAL;
	sw->up = up;
	sw->up_first_ip = first_ip;
	sw->up_n_ips = n_ips;
	return 0;
}

/* An address of the cluster beyond the uplink: its MAC is derived. */
static bool
gsp_switch_remote_ip(const struct gsp_switch *sw, uint32_t ip)
{
	return sw->up != NULL && ip - sw->up_first_ip < sw->up_n_ips;
}

/* A cluster MAC (02:00 + address) that is not on this switch. */
static bool
gsp_switch_remote_mac(const struct gsp_switch *sw,
		      const struct rte_ether_addr *a)
{
	uint32_t ip = gsp_cluster_mac_ip(a);

	return ip != 0 && gsp_switch_remote_ip(sw, ip);
}

bool
gsp_switch_resolve(const struct gsp_switch *sw, uint32_t ip,
		   struct rte_ether_addr *mac)
{
	const struct gsp_vnode *vn = gsp_switch_by_ip(sw, ip);

	if (vn != NULL)
		*mac = vn->mac;
	else if (gsp_switch_remote_ip(sw, ip))	/* beyond the uplink */
		*mac = gsp_cluster_mac(ip);
	else
		return false;
	return true;
}

/* ARP suppression: the request becomes the target's reply, in place. */
static struct gsp_vnode *
gsp_switch_arp(const struct gsp_switch *sw, struct gsp_lcore_conf *lc,
	       struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *a = &arp->arp_data;
	struct gsp_vnode *asker;
	struct rte_ether_addr tmac;
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
	asker = gsp_switch_by_mac(sw, &eth->src_addr);
	if (!gsp_switch_resolve(sw, tip, &tmac) || asker == NULL) {
		lc->sw.arp_unknown++;
		return NULL;
	}
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&tmac, &eth->src_addr);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&a->arp_sha, &a->arp_tha);
	a->arp_tip = a->arp_sip;
	rte_ether_addr_copy(&tmac, &a->arp_sha);
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
		if (dst == NULL && gsp_switch_remote_mac(sw, &eth->dst_addr))
			dst = GSP_SW_UPLINK;
		else if (dst == NULL)
			lc->sw.unknown_dropped++;
	}
	return dst;
}

/* The port of a frame received on the uplink: unicast to a vnode here
 * only; the rest is dropped and counted, never sent back out. */
static struct gsp_vnode *
gsp_switch_port_in(const struct gsp_switch *sw, struct gsp_lcore_conf *lc,
		   struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth;
	struct gsp_vnode *dst;

	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eth))) {
		lc->sw.uplink_in_flood++;
		return NULL;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	/* peers' switches answer ARP themselves: a broadcast here is
	 * someone else's (the kernel of a veth, a NIC's neighbours) */
	if (unlikely(!rte_is_unicast_ether_addr(&eth->dst_addr))) {
		lc->sw.uplink_in_flood++;
		return NULL;
	}
	dst = gsp_switch_by_mac(sw, &eth->dst_addr);
	if (dst == NULL)
		lc->sw.uplink_in_unknown++;
	return dst;
}

/* Into dst's rx ring; returns how many went in. The rest are refused, as
 * a NIC's full ring drops: the caller counts tx_dropped and frees them. */
static unsigned int
gsp_switch_deliver(struct gsp_switch *sw, struct gsp_lcore_conf *lc,
		   struct gsp_vnode *dst, struct rte_mbuf **pkts, unsigned int n)
{
	unsigned int in;

	if (likely(!__atomic_load_n(&sw->paused[dst->ip & 0xffff],
				    __ATOMIC_ACQUIRE))) {
		in = gsp_vnode_deliver(dst, pkts, n);
	} else {
		/* queued, but its lcore is not woken: nobody reads it */
		in = rte_ring_mp_enqueue_burst(dst->rx_ring, (void **)pkts, n,
					       NULL);
		sw->lc[rte_lcore_id()].paused_dropped += n - in;
	}
	lc->sw.forwarded += in;
	lc->sw.ring_full += n - in;
	return in;
}

void
gsp_switch_pause(struct gsp_switch *sw, struct gsp_vnode *vn, bool on)
{
	uint64_t *bell = &vn->lc->doorbell[vn->lc_idx / 64];
	uint64_t bit = 1ull << (vn->lc_idx % 64);

	__atomic_store_n(&sw->paused[vn->ip & 0xffff], on, __ATOMIC_SEQ_CST);
	/* paused: forget a wake-up already rung; resumed: wake it for what
	 * queued meanwhile (as gsp_vnode_deliver rings) */
	if (on)
		__atomic_fetch_and(bell, ~bit, __ATOMIC_SEQ_CST);
	else
		gsp_lcore_ring(vn->lc, vn->lc_idx);
}

/* ---- delay queue: gsp_held's min-heap, per lcore ---- */

static bool
gsp_sw_hold(struct gsp_sw_lcore *sl, uint64_t due_ns, struct rte_mbuf *m,
	    struct gsp_vnode *dst)
{
	struct gsp_held e = { .due_ns = due_ns, .m = m, .vn = dst,
		.seq = sl->seq++ };

	if (!gsp_held_push(sl->heap, &sl->n_delayed, GSP_SW_DELAY_MAX, &e))
		return false;
	if (sl->n_delayed > sl->queued_max)
		__atomic_store_n(&sl->queued_max, sl->n_delayed,
				 __ATOMIC_RELAXED);
	return true;
}

/* Delivers what is due; at most the queue's size per call. A refused
 * frame is no tx burst's: it is counted and freed here. */
static unsigned int
gsp_sw_release(struct gsp_switch *sw, struct gsp_lcore_conf *lc,
	       struct gsp_sw_lcore *sl, uint64_t now_ns)
{
	unsigned int n = 0;

	while (sl->n_delayed > 0 && sl->heap[0].due_ns <= now_ns) {
		struct gsp_held d = sl->heap[0];
		uint64_t late = now_ns - d.due_ns;

		gsp_held_pop(sl->heap, &sl->n_delayed);
		sl->late_sum_ns += late;
		sl->released++;
		if (late > sl->late_max_ns)
			sl->late_max_ns = late;
		if (gsp_switch_deliver(sw, lc, d.vn, &d.m, 1) == 0) {
			GSP_LSTAT_ADD(lc, tx_dropped, 1);
			rte_pktmbuf_free(d.m);
		}
		n++;
	}
	return n;
}

unsigned int
gsp_switch_due(struct gsp_switch *sw, struct gsp_lcore_conf *lc,
	       uint64_t *next_ns)
{
	struct gsp_sw_lcore *sl;
	unsigned int n = 0;

	/* what the other lcores handed to the uplink leaves here */
	if (lc->uplink)
		n += gsp_uplink_drain(sw->up);
	if (!sw->delays)
		return n;
	sl = &sw->lc[rte_lcore_id()];
	if (sl->n_delayed == 0)
		return n;
	n += gsp_sw_release(sw, lc, sl,
			    gsp_dp_tsc_to_ns(rte_get_tsc_cycles()));
	/* the idle backoff wakes for the next release */
	if (sl->n_delayed > 0 && sl->heap[0].due_ns < *next_ns)
		*next_ns = sl->heap[0].due_ns;
	return n;
}

/*
 * The faults' verdict on one forwarded frame: how many copies go now
 * (into now[], 0..2); delayed copies are queued here.
 */
static unsigned int
gsp_switch_fault(struct gsp_switch *sw, struct gsp_lcore_conf *lc,
		 struct gsp_sw_lcore *sl, struct rte_mbuf *m,
		 struct gsp_vnode *dst, uint64_t now_ns, struct rte_mbuf **now)
{
	const struct rte_ether_hdr *eth =
		rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct gsp_vnode *src = gsp_switch_by_mac(sw, &eth->src_addr);
	uint64_t delay[2];
	unsigned int copies, n_now = 0;

	if (src != NULL && gsp_fault_in(&sw->fault, src->ip, sl->fault)) {
		rte_pktmbuf_free(m);
		return 0;
	}
	copies = gsp_fault_out(&sw->fault, dst->ip, &lc->rng, delay,
			       sl->fault);
	if (copies == 0) {
		rte_pktmbuf_free(m);
		return 0;
	}
	/* a duplicate is the same mbuf twice: receivers only read it */
	if (copies == 2)
		rte_mbuf_refcnt_update(m, 1);
	for (unsigned int c = 0; c < copies; c++) {
		if (delay[c] == 0)
			now[n_now++] = m;
		else if (!gsp_sw_hold(sl, now_ns + delay[c], m, dst)) {
			sl->fault[GSP_FAULT_C_QUEUE_FULL]++;
			rte_pktmbuf_free(m);
		}
	}
	return n_now;
}

/* Moves a run's refused frames to the refused list. */
static void
gsp_switch_run(struct gsp_switch *sw, struct gsp_lcore_conf *lc,
	       struct gsp_vnode *dst, struct rte_mbuf **run, unsigned int n,
	       struct rte_mbuf **refused, unsigned int *n_refused)
{
	unsigned int in = gsp_switch_deliver(sw, lc, dst, run, n);

	for (unsigned int i = in; i < n; i++)
		refused[(*n_refused)++] = run[i];
}

/* Frames to the uplink; the refused join the refused list. */
static void
gsp_switch_out(struct gsp_switch *sw, struct gsp_lcore_conf *lc,
	       struct rte_mbuf **out, unsigned int n,
	       struct rte_mbuf **refused, unsigned int *n_refused)
{
	unsigned int in;

	/* what leaves the process carries its checksum (gsp_frame_cksum) */
	for (unsigned int i = 0; i < n; i++)
		gsp_frame_cksum_due(out[i]);
	in = gsp_uplink_send(sw->up, out, n);

	lc->sw.uplink_out += in;
	lc->sw.uplink_out_dropped += n - in;
	for (unsigned int i = in; i < n; i++)
		refused[(*n_refused)++] = out[i];
}

/*
 * Switches pkts[0..n) (from this lcore's vnodes, or from the uplink with
 * from_up): into the vnodes' rings in runs, to the uplink (not what came
 * from it). Returns how many were refused, in refused[].
 */
static unsigned int
gsp_switch_forward(struct gsp_switch *sw, struct gsp_lcore_conf *lc,
		   struct rte_mbuf **pkts, uint16_t n, bool from_up,
		   struct rte_mbuf **refused)
{
	/* duplicates may double a burst */
	struct rte_mbuf *run[2 * GSP_MAX_PKT_BURST];
	struct rte_mbuf *out[GSP_MAX_PKT_BURST];
	struct gsp_sw_lcore *sl = NULL;
	struct gsp_vnode *cur = NULL;
	unsigned int n_run = 0, n_refused = 0, n_out = 0;
	uint64_t now_ns = 0;

	if (unlikely(sw->fault_on)) {
		sl = &sw->lc[rte_lcore_id()];
		now_ns = gsp_dp_tsc_to_ns(rte_get_tsc_cycles());
		if (sl->n_delayed > 0)
			gsp_sw_release(sw, lc, sl, now_ns);
	}
	for (uint16_t i = 0; i < n; i++) {
		struct gsp_vnode *dst = from_up ?
			gsp_switch_port_in(sw, lc, pkts[i]) :
			gsp_switch_port(sw, lc, pkts[i]);
		struct rte_mbuf *go[2] = { pkts[i] };
		unsigned int n_go = 1;

		if (dst == NULL) {
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		/* faulted where it is delivered, in the other process */
		if (dst == GSP_SW_UPLINK) {
			out[n_out++] = pkts[i];
			continue;
		}
		/* a frame one of our vnodes made never crossed a wire: the
		 * switch hands it on verified, as a NIC with receive checksum
		 * offload would (its UDP checksum, not summed, is left to
		 * gsp_frame_cksum_due should it take the uplink) */
		if (!from_up)
			pkts[i]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD |
					     RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		if (unlikely(sl != NULL))
			n_go = gsp_switch_fault(sw, lc, sl, pkts[i], dst,
						now_ns, go);
		if (n_go == 0)
			continue;
		if (dst != cur && n_run > 0) {
			gsp_switch_run(sw, lc, cur, run, n_run, refused,
				       &n_refused);
			n_run = 0;
		}
		cur = dst;
		for (unsigned int c = 0; c < n_go; c++)
			run[n_run++] = go[c];
	}
	if (n_run > 0)
		gsp_switch_run(sw, lc, cur, run, n_run, refused, &n_refused);
	if (n_out > 0)
		gsp_switch_out(sw, lc, out, n_out, refused, &n_refused);
	return n_refused;
}

uint16_t
gsp_switch_tx(struct gsp_switch *sw, struct gsp_lcore_conf *lc,
	      struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *refused[2 * GSP_MAX_PKT_BURST];
	unsigned int n_refused, back;

	n_refused = gsp_switch_forward(sw, lc, pkts, n, false, refused);
	if (likely(n_refused == 0))
		return n;
	/* pkts[] is all read: the refused go back at its end. Only
	 * duplicates can refuse more than n: the excess is counted here. */
	back = RTE_MIN(n_refused, (unsigned int)n);
	if (unlikely(n_refused > back)) {
		GSP_LSTAT_ADD(lc, tx_dropped, n_refused - back);
		rte_pktmbuf_free_bulk(&refused[back], n_refused - back);
	}
	memcpy(&pkts[n - back], refused, back * sizeof(*refused));
	return (uint16_t)(n - back);
}

unsigned int
gsp_switch_uplink_rx(struct gsp_switch *sw, struct gsp_lcore_conf *lc)
{
	struct rte_mbuf *pkts[GSP_MAX_PKT_BURST];
	struct rte_mbuf *refused[2 * GSP_MAX_PKT_BURST];
	unsigned int n, n_refused, total = 0;

	/* the uplink carries the share of many vnodes: several bursts a
	 * pass, bounded, until one comes back short */
	for (unsigned int b = 0; b < GSP_UPLINK_RX_BURSTS; b++) {
		n = gsp_uplink_rx(sw->up, pkts, lc->burst);
		if (n == 0)
			break;
		total += n;
		lc->sw.uplink_in += n;
		n_refused = gsp_switch_forward(sw, lc, pkts, (uint16_t)n, true,
					       refused);
		/* full rings: counted in ring_full, dropped as a NIC's rx */
		if (unlikely(n_refused > 0))
			rte_pktmbuf_free_bulk(refused, n_refused);
		if (n < lc->burst)
			break;
	}
	return total;
}
