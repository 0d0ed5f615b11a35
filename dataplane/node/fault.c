/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection in the engine's own I/O path (docs/FAULTS.md), for the
 * vnode the control socket serves. The decisions are gsp_fault_out() and
 * gsp_fault_in() (dataplane/core/gsp_fault.c); this file applies them:
 *
 *   tx: gsp_io_send -> [blocked/dropped: gone] -> frame built -> copy if
 *       duplicated -> delay 0: ARP + tx buffer as usual; else the lcore's
 *       delay heap, released by the loop's timer step, then ARP + tx
 *   rx: parsed UDP/IPv4 from a blocked source: dropped before the core
 *
 * Faults off cost one branch on vn->fault. New configs come from the
 * control thread as immutable copies over the command ring; the control
 * thread frees the old copy once the lcore has acknowledged the new one.
 * Also this file's side of the control seam (gsp_dp_fault_*).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "gossipd.h"
#include "gsp_ctrl.h"
#include "gsp_log.h"

#define GSP_FAULT_SPEC_MAX 2048		/* the longest spec, 64 blocks */

/* ---- the packet path ---- */

static void
gsp_fault_hold(struct gsp_dp *dp, struct gsp_vnode *vn, struct rte_mbuf *m,
	       uint32_t next_hop, uint64_t now_ns, uint64_t delay_ns)
{
	struct gsp_lcore_conf *lc = vn->lc;
	struct gsp_held e;

	if (delay_ns == 0) {
		gsp_frame_route(dp, vn, m, next_hop, now_ns);
		return;
	}
	e = (struct gsp_held){ .due_ns = now_ns + delay_ns, .m = m,
		.vn = vn, .seq = lc->fq != NULL ? lc->fq->seq++ : 0,
		.next_hop = next_hop };
	if (unlikely(lc->fq == NULL || !gsp_held_push(lc->fq->h, &lc->fq->n,
						      GSP_FAULT_QUEUE_SIZE, &e))) {
		rte_pktmbuf_free(m);
		lc->fault_ctr[GSP_FAULT_C_QUEUE_FULL]++;
	}
}

void
gsp_fault_send(struct gsp_dp *dp, struct gsp_vnode *vn,
	       const struct gsp_addr *dst, uint32_t next_hop,
	       const uint8_t *payload, uint16_t len, uint64_t now_ns)
{
	struct gsp_lcore_conf *lc = vn->lc;
	struct rte_mbuf *m, *copy = NULL;
	uint64_t delay_ns[2];
	unsigned int n;

	n = gsp_fault_out(vn->fault, dst->ip, &lc->fault_rng, delay_ns,
			  lc->fault_ctr);
	lc->fault_dirty = true;
	if (n == 0)
		return;		/* blocked or lost: never built, never ARPed */
	m = gsp_frame_build(dp, vn, dst, payload, len);
	if (unlikely(m == NULL))
		return;
	if (n == 2) {
		copy = rte_pktmbuf_copy(m, dp->pool, 0, UINT32_MAX);
		if (unlikely(copy == NULL)) {
			GSP_LSTAT_ADD(lc, tx_dropped, 1);
			GSP_VSTAT_ADD(vn, tx_dropped, 1);
		}
	}
	gsp_fault_hold(dp, vn, m, next_hop, now_ns, delay_ns[0]);
	if (copy != NULL)
		gsp_fault_hold(dp, vn, copy, next_hop, now_ns, delay_ns[1]);
}

unsigned int
gsp_fault_step(struct gsp_dp *dp, struct gsp_lcore_conf *lc, uint64_t now_ns,
	       uint64_t *next_ns)
{
	struct gsp_fault_queue *q = lc->fq;
	unsigned int released = 0;

	lc->now_ns = now_ns;
	/* bounded: a backlog leaves over several passes, rx in between */
	while (q->n > 0 && q->h[0].due_ns <= now_ns &&
	       released < GSP_MAX_PKT_BURST) {
		struct gsp_held e = q->h[0];

		gsp_held_pop(q->h, &q->n);
		released++;
		if (unlikely(e.vn->stopped))
			rte_pktmbuf_free(e.m);
		else
			gsp_frame_route(dp, e.vn, e.m, e.next_hop, now_ns);
	}
	if (q->n > 0 && q->h[0].due_ns < *next_ns)
		*next_ns = q->h[0].due_ns;	/* the idle sleep wakes then */
	if (lc->fault_dirty) {
		for (unsigned int i = 0; i < GSP_FAULT_C_MAX; i++)
			__atomic_store_n(&lc->fault_pub[i], lc->fault_ctr[i],
					 __ATOMIC_RELAXED);
		lc->fault_dirty = false;
	}
	return released;
}

void
gsp_fault_take(struct gsp_dp *dp, struct gsp_vnode *vn,
	       const struct gsp_cmd *cmd)
{
	vn->fault = cmd->fault;
	/* after the switch: the control thread may now free the old one */
	__atomic_store_n(&dp->fault.ack, cmd->seq, __ATOMIC_RELEASE);
}

/* ---- set-up and tear-down ---- */

static struct gsp_fault_cfg *
gsp_fault_copy(const struct gsp_fault_cfg *f)
{
	struct gsp_fault_cfg *c;

	if (!gsp_fault_active(f))
		return NULL;	/* no fault: vn->fault stays NULL */
	c = rte_malloc("gsp_fault", sizeof(*c), 0);
	if (c != NULL)
		*c = *f;
	return c;
}

int
gsp_fault_dp_init(struct gsp_dp *dp)
{
	const struct gsp_config *cfg = dp->cfg;
	struct gsp_vnode *vn = dp->ctrl_vnode;
	struct gsp_lcore_conf *lc;
	char spec[GSP_FAULT_SPEC_MAX];

	if (vn == NULL)
		return 0;
	lc = vn->lc;
	lc->fq = rte_zmalloc_socket("gsp_fault_queue", sizeof(*lc->fq),
				    RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
	if (lc->fq == NULL)
		return -ENOMEM;
	/* a fixed rng_seed replays the same fault decisions */
	lc->fault_rng = (cfg->rng_seed != 0 ? cfg->rng_seed :
			 rte_get_tsc_cycles()) ^ 0x6661756c74ull;
	dp->fault.want = cfg->fault;
	if (!gsp_fault_active(&cfg->fault))
		return 0;
	dp->fault.cur = gsp_fault_copy(&cfg->fault);
	if (dp->fault.cur == NULL)
		return -ENOMEM;
	vn->fault = dp->fault.cur;
	if (gsp_fault_format(&cfg->fault, spec, sizeof(spec)) != 0)
		snprintf(spec, sizeof(spec), "(too long to show)");
	/* loud: faults in production would be a mistake */
	gsp_log(LOG_WARNING, "FAULT INJECTION ON for node %s from [fault] "
		"in %s: %s. This node drops, delays or blocks its own "
		"packets on purpose; testing only (docs/FAULTS.md). Turn "
		"off with: gossipctl --node %s fault clear", cfg->node_name,
		cfg->path, spec, cfg->node_name);
	return 0;
}

void
gsp_fault_dp_free(struct gsp_dp *dp)
{
	unsigned int lcore;

	RTE_LCORE_FOREACH(lcore) {
		struct gsp_lcore_conf *lc = &dp->lconf[lcore];

		if (lc->fq == NULL)
			continue;
		for (uint32_t i = 0; i < lc->fq->n; i++)
			rte_pktmbuf_free(lc->fq->h[i].m);
		rte_free(lc->fq);
		lc->fq = NULL;
	}
	if (dp->ctrl_vnode != NULL)
		dp->ctrl_vnode->fault = NULL;
	/* the lcores are gone: neither config is in use any more */
	if (dp->fault.sent != dp->fault.cur)
		rte_free(dp->fault.sent);
	rte_free(dp->fault.cur);
	dp->fault.sent = NULL;
	dp->fault.cur = NULL;
	dp->fault.pending = false;
}

/* ---- the control seam (control thread only) ---- */

static void
gsp_fault_reap(struct gsp_fault_ctl *fc)
{
	if (!fc->pending ||
	    __atomic_load_n(&fc->ack, __ATOMIC_ACQUIRE) != fc->seq)
		return;
	rte_free(fc->cur);
	fc->cur = fc->sent;
	fc->sent = NULL;
	fc->pending = false;
}

/* Until the hand-over in flight is acknowledged; false on timeout. */
static bool
gsp_fault_wait(struct gsp_fault_ctl *fc)
{
	const struct timespec tick = { 0, 1000000 };

	for (unsigned int ms = 0; ; ms++) {
		gsp_fault_reap(fc);
		if (!fc->pending)
			return true;
		if (ms >= GSP_FAULT_ACK_MS || gsp_dp.force_quit)
			return false;
		nanosleep(&tick, NULL);
	}
}

void
gsp_dp_fault_get(struct gsp_fault_cfg *out)
{
	*out = gsp_dp.fault.want;
}

int
gsp_dp_fault_set(const struct gsp_fault_cfg *f)
{
	struct gsp_fault_ctl *fc = &gsp_dp.fault;
	struct gsp_cmd cmd = { .type = GSP_CMD_FAULT };
	struct gsp_fault_cfg *n;
	int ret;

	if (gsp_dp.ctrl_vnode == NULL || gsp_dp.ctrl_vnode->lc->fq == NULL)
		return -ENODEV;
	if (!gsp_fault_wait(fc))
		return -EBUSY;
	n = gsp_fault_copy(f);
	if (n == NULL && gsp_fault_active(f))
		return -ENOMEM;
	cmd.vnode = gsp_dp.ctrl_vnode->idx;
	cmd.fault = n;
	cmd.seq = fc->seq + 1;
	ret = gsp_dp_submit(&cmd);
	if (ret != 0) {
		rte_free(n);
		return ret;
	}
	fc->seq++;
	fc->sent = n;
	fc->pending = true;
	fc->want = *f;
	return gsp_fault_wait(fc) ? 0 : -ETIMEDOUT;
}

bool
gsp_dp_fault_counters(uint64_t out[GSP_FAULT_C_MAX])
{
	unsigned int lcore;
	bool any = false;

	memset(out, 0, sizeof(uint64_t) * GSP_FAULT_C_MAX);
	RTE_LCORE_FOREACH(lcore) {
		const struct gsp_lcore_conf *lc = &gsp_dp.lconf[lcore];

		if (!lc->enabled || lc->fq == NULL)
			continue;
		any = true;
		for (unsigned int i = 0; i < GSP_FAULT_C_MAX; i++)
			out[i] += __atomic_load_n(&lc->fault_pub[i],
						  __ATOMIC_RELAXED);
	}
	return any;
}
