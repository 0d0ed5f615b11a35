/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port-queue seam: what an lcore's loop and tx buffer say to the port
 * behind them, whatever its kind. An ethdev queue pair (a real node) and
 * the software switch (port_switch.c; its ports are the vnodes' rx rings)
 * both give:
 *
 *   gsp_portq_rx   the next rx burst of this pass and the vnode it is for
 *   gsp_portq_tx   a tx burst; returns how many the port took, the caller
 *                  counts (tx_dropped) and frees the rest
 *   gsp_portq_due  the port's timed work (delayed frames), from the loop's
 *                  timer step; lowers the loop's next wake-up
 *
 * The kind is the lcore's (lc->port_kind, set before the lcores run), so
 * the branch is always taken the same way: no call through a pointer per
 * packet or burst.
 */
#ifndef GSP_PORTQ_H
#define GSP_PORTQ_H

#include <rte_ethdev.h>
#include <rte_ring.h>

#include "gossipd.h"
#include "port_switch.h"

/* One loop pass over the lcore's rx side; zeroed at its start. */
struct gsp_portq_pass {
	uint32_t sum;			/* switch: next bell_words word */
	uint64_t sum_bits;		/* switch: rung words of sum - 1 */
	uint32_t word;			/* switch: doorbell word + 1 */
	uint64_t bits;			/* switch: rung bits of word - 1 */
	bool polled;			/* ethdev: the burst was taken */
	bool uplink_polled;		/* switch: its uplink's burst taken */
	unsigned int uplink;		/* switch: frames from the uplink */
};

/* The switch's rx side: the rx rings whose doorbell rang, one burst each
 * per pass; a ring with more rings its bell again for the next pass. The
 * uplink's owner first takes its bursts of the uplink (bounded,
 * gsp_switch_uplink_rx) and switches them to these rings, so its own
 * vnodes' share is read in the same pass. */
static inline struct gsp_vnode *
gsp_portq_switch_rx(struct gsp_lcore_conf *lc, struct gsp_portq_pass *p,
		    struct rte_mbuf **pkts, unsigned int *n)
{
	uint32_t sums = ((lc->n_vnodes + 63) / 64 + 63) / 64;
	struct gsp_vnode *vn;
	unsigned int b, left;
	uint32_t w;

	while (p->bits == 0) {
		/* the doorbell words that rang (gsp_lcore_ring), each read
		 * once a pass */
		while (p->sum_bits == 0) {
			if (p->sum >= sums)
				return NULL;
			w = p->sum++;
			if (__atomic_load_n(&lc->bell_words[w],
					    __ATOMIC_RELAXED) == 0)
				continue;
			/* the summary first, then its words */
			p->sum_bits = __atomic_exchange_n(&lc->bell_words[w], 0,
							  __ATOMIC_SEQ_CST);
		}
		w = (p->sum - 1) * 64 + (uint32_t)__builtin_ctzll(p->sum_bits);
		p->sum_bits &= p->sum_bits - 1;
		p->word = w + 1;
		/* clear, then dequeue: a frame queued meanwhile rings again */
		p->bits = __atomic_exchange_n(&lc->doorbell[w], 0,
					      __ATOMIC_SEQ_CST);
	}
	w = p->word - 1;
	b = (unsigned int)__builtin_ctzll(p->bits);
	p->bits &= p->bits - 1;
	vn = lc->vnodes[w * 64 + b];
	*n = rte_ring_sc_dequeue_burst(vn->rx_ring, (void **)pkts, lc->burst,
				       &left);
	if (left > 0)	/* more than one burst: next pass */
		gsp_lcore_ring(lc, w * 64 + b);
	return vn;
}

/* The next burst of this pass: frames in pkts[0..*n), for the returned
 * vnode; NULL when the pass has no more. */
static inline struct gsp_vnode *
gsp_portq_rx(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
	     struct gsp_portq_pass *p, struct rte_mbuf **pkts, unsigned int *n)
{
	switch (lc->port_kind) {
	case GSP_PORT_ETHDEV:
		if (p->polled)
			return NULL;
		p->polled = true;
		*n = rte_eth_rx_burst(dp->port_id, lc->queue_id, pkts,
				      lc->burst);
		return *n != 0 ? dp->port_vnode : NULL;
	case GSP_PORT_SWITCH:
		if (unlikely(lc->uplink) && !p->uplink_polled) {
			p->uplink_polled = true;
			p->uplink = gsp_switch_uplink_rx(dp->sw, lc);
		}
		return gsp_portq_switch_rx(lc, p, pkts, n);
	default:
		return NULL;
	}
}

static inline uint16_t
gsp_portq_tx(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
	     struct rte_mbuf **pkts, uint16_t n)
{
	switch (lc->port_kind) {
	case GSP_PORT_ETHDEV:
		return rte_eth_tx_burst(dp->port_id, lc->queue_id, pkts, n);
	case GSP_PORT_SWITCH:
		return gsp_switch_tx(dp->sw, lc, pkts, n);
	default:
		return 0;	/* no port: nothing leaves */
	}
}

/* An ethdev queue has no timed work: the NIC keeps its own time. The
 * switch reads the clock only when it holds frames. */
static inline unsigned int
gsp_portq_due(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
	      uint64_t *next_ns)
{
	if (lc->port_kind == GSP_PORT_SWITCH)
		return gsp_switch_due(dp->sw, lc, next_ns);
	return 0;
}

#endif /* GSP_PORTQ_H */
