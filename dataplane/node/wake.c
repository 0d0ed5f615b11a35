/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What wakes a vnode on its lcore: its timer, a min-heap on next_tick_ns
 * per lcore, and its doorbell, a bit per vnode rung when frames enter its
 * rx ring; and what wakes an lcore that waits for rx interrupts: its
 * wake eventfd. Calls nothing else in the node, so rx, tx and the switch
 * may all use it.
 */
#include <unistd.h>

#include <rte_ring.h>

#include "gossipd.h"

static void
gsp_timer_sift_down(struct gsp_vnode **h, uint32_t n, uint32_t i)
{
	struct gsp_vnode *v = h[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1]->next_tick_ns < h[c]->next_tick_ns)
			c++;
		if (v->next_tick_ns <= h[c]->next_tick_ns)
			break;
		h[i] = h[c];
		h[i]->heap_pos = i;
		i = c;
	}
	h[i] = v;
	v->heap_pos = i;
}

/* After the top vnode's deadline moved later. */
void
gsp_timer_fix_top(struct gsp_lcore_conf *lc)
{
	gsp_timer_sift_down(lc->timers, lc->n_vnodes, 0);
}

/* A packet gave vn an earlier deadline (gsp_node_rx's return). */
void
gsp_timer_earlier(struct gsp_lcore_conf *lc, struct gsp_vnode *vn,
		  uint64_t when_ns)
{
	struct gsp_vnode **h = lc->timers;
	uint32_t i = vn->heap_pos;

	if (when_ns >= vn->next_tick_ns)
		return;
	vn->next_tick_ns = when_ns;
	while (i > 0 && h[(i - 1) / 2]->next_tick_ns > when_ns) {
		h[i] = h[(i - 1) / 2];
		h[i]->heap_pos = i;
		i = (i - 1) / 2;
	}
	h[i] = vn;
	vn->heap_pos = i;
}

/* The whole heap, once its vnodes are in place (gsp_lcores_ready). */
void
gsp_timers_heapify(struct gsp_lcore_conf *lc)
{
	for (uint32_t i = lc->n_vnodes / 2; i-- > 0;)
		gsp_timer_sift_down(lc->timers, lc->n_vnodes, i);
}

unsigned int
gsp_vnode_deliver(struct gsp_vnode *vn, struct rte_mbuf **pkts,
		  unsigned int n)
{
	unsigned int in;

	in = rte_ring_mp_enqueue_burst(vn->rx_ring, (void **)pkts, n, NULL);
	/* after the enqueue: the owner clears the bit, then dequeues */
	if (in > 0)
		gsp_lcore_ring(vn->lc, vn->lc_idx);
	return in;
}

void
gsp_lcore_wake(struct gsp_lcore_conf *lc)
{
	uint64_t one = 1;

	/* non-blocking: a counter that is full already wakes it */
	if (__atomic_load_n(&lc->rx_intr, __ATOMIC_ACQUIRE))
		(void)!write(lc->wake_fd, &one, sizeof(one));
}
