/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulation as the harness sees a host (harness/gsp_harness.h): the
 * lcores' clock, the vnodes' counters, picks from the run's seed, and
 * changes made by commands to the lcore that owns the vnode. An
 * operation returns once its lcore applied it; the lcore tells the watch
 * (emu.c's hooks). Also the scenario thread's waits and snapshots.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "emu_int.h"
#include "gsp_log.h"
#include "gsp_util.h"

static uint64_t
gsp_emu_forwarded(const struct gsp_dp *dp)
{
	uint64_t sum = 0;
	unsigned int lcore;

	RTE_LCORE_FOREACH(lcore)
		sum += __atomic_load_n(&dp->lconf[lcore].sw.forwarded,
				       __ATOMIC_RELAXED);
	return sum;
}

bool
gsp_emu_snap(struct gsp_emu *emu, struct gsp_emu_snap *s)
{
	struct gsp_dp *dp = emu->dp;
	struct gsp_node_counters c;

	if (s->v == NULL)
		s->v = calloc((size_t)dp->n_vnodes * GSP_EMU_SNAP_N,
			      sizeof(uint64_t));
	if (s->v == NULL)
		return false;
	s->t_ns = gsp_emu_now_ns();
	s->cpu_us = gsp_emu_cpu_us();
	s->forwarded = gsp_emu_forwarded(dp);
	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		const struct gsp_vnode_stats *st = &dp->vnodes[i].stats;
		uint64_t *v = &s->v[(size_t)GSP_EMU_SNAP_N * i];

		v[GSP_EMU_SNAP_TX_PKTS] = __atomic_load_n(&st->tx_packets,
							  __ATOMIC_RELAXED);
		v[GSP_EMU_SNAP_RX_PKTS] = __atomic_load_n(&st->rx_packets,
							  __ATOMIC_RELAXED);
		v[GSP_EMU_SNAP_TX_BYTES] = __atomic_load_n(&st->tx_bytes,
							   __ATOMIC_RELAXED);
		v[GSP_EMU_SNAP_RX_BYTES] = __atomic_load_n(&st->rx_bytes,
							   __ATOMIC_RELAXED);
		gsp_node_counters_read(dp->vnodes[i].node, &c);
		v[GSP_EMU_SNAP_ROUNDS] = c.rounds;
	}
	return true;
}

/* true when quitting or past the deadline */
bool
gsp_emu_wait(struct gsp_emu *emu, uint64_t deadline_ns)
{
	if (emu->dp->force_quit || gsp_emu_now_ns() >= deadline_ns)
		return true;
	rte_delay_us_sleep(GSP_EMU_POLL_US);
	return false;
}

/* Sleeps until t_ns (or a quit); false when quitting. */
bool
gsp_emu_sleep_until(struct gsp_emu *emu, uint64_t t_ns)
{
	uint64_t now;

	while ((now = gsp_emu_now_ns()) < t_ns) {
		if (emu->dp->force_quit)
			return false;
		/* coarse, then short sleeps for the last milliseconds */
		rte_delay_us_sleep(t_ns - now > 2000000 ? GSP_EMU_POLL_US :
				   (t_ns - now) / 1000 > 200 ? 100 : 1);
	}
	return true;
}

/* The k-th distinct non-seed vnode picked by the run's seed; the last
 * vnode when there is no non-seed. */
static uint32_t
gsp_emu_pick(const struct gsp_emu *emu, uint64_t salt, uint32_t k)
{
	uint64_t s = emu->o.seed ^ salt;
	uint32_t n = emu->o.nodes, seeds = emu->local_seeds, first;

	if (n <= seeds)
		return n - 1;
	/* consecutive from a random start: distinct while k < n - seeds */
	first = (uint32_t)(gsp_rand(&s) % (n - seeds));
	return seeds + (first + k) % (n - seeds);
}

static uint64_t
gsp_emu_host_now(void *ctx)
{
	RTE_SET_USED(ctx);
	return gsp_emu_now_ns();
}

static uint32_t
gsp_emu_host_n(void *ctx)
{
	return ((const struct gsp_emu *)ctx)->o.nodes;
}

/* a join lists the whole cluster, this process's vnodes and the others */
static uint32_t
gsp_emu_host_members(void *ctx)
{
	return ((const struct gsp_emu *)ctx)->cluster;
}

/* a vnode's counters as its lcore left them (they may still move) */
static void
gsp_emu_host_counters(void *ctx, uint32_t i, struct gsp_node_counters *c)
{
	gsp_node_counters_read(((const struct gsp_emu *)ctx)->dp->vnodes[i].node,
			       c);
}

static uint32_t
gsp_emu_host_pick(void *ctx, enum gsp_pick what, uint32_t k)
{
	static const uint64_t salt[] = {
		[GSP_PICK_ORIGIN] = 0x6f726967696eull,	/* "origin" */
		[GSP_PICK_CRASH] = 0x76696374696dull,	/* "victim" */
		[GSP_PICK_STALL] = 0x7374616c6cull,	/* "stall" */
	};

	return gsp_emu_pick(ctx, salt[what], k);
}

/* applied by the origin's lcore (gsp_emu_on_cmd), which stamps when */
static int
gsp_emu_host_set_app(void *ctx, uint32_t i, const char *key,
		     const char *value, uint64_t *t_ns)
{
	struct gsp_emu *emu = ctx;
	struct gsp_cmd cmd = { .type = GSP_CMD_SET_APP, .vnode = i,
			       .flags = GSP_CMD_F_OBSERVE };

	emu->origin = i;
	snprintf(cmd.key, sizeof(cmd.key), "%s", key);
	snprintf(cmd.value, sizeof(cmd.value), "%s", value);
	if (gsp_dp_submit(&cmd) != 0)
		return -ENOBUFS;
	while ((*t_ns = __atomic_load_n(&emu->dis_t0_ns,
					__ATOMIC_ACQUIRE)) == 0)
		if (gsp_emu_wait(emu, emu->deadline_ns))
			return -ETIMEDOUT;
	return 0;
}

/* the vnode's lcore stops it (gsp_emu_on_cmd tells the watch) */
static int
gsp_emu_host_crash(void *ctx, uint32_t i)
{
	struct gsp_cmd cmd = { .type = GSP_CMD_CRASH, .vnode = i,
			       .flags = GSP_CMD_F_OBSERVE };

	RTE_SET_USED(ctx);
	return gsp_dp_submit(&cmd) != 0 ? -ENOBUFS : 0;
}

/*
 * A stop begins at the vnode's next timer, on its lcore: its switch port
 * pauses (frames queue in its ring) and its timer moves to the end of the
 * stop (gsp_emu_stall_begin). The resume unpauses the port just before
 * that timer, so, as a resumed process, it takes a burst first.
 */
static int
gsp_emu_host_pause(void *ctx, uint32_t i, bool on)
{
	struct gsp_emu *emu = ctx;
	struct gsp_vnode *vn = &emu->dp->vnodes[i];
	uint64_t t1;

	if (on) {
		emu->stall_idx = i;
		__atomic_store_n(&emu->stall_state, GSP_STALL_REQUESTED,
				 __ATOMIC_RELEASE);
		while (__atomic_load_n(&emu->w.subj_t0[0],
				       __ATOMIC_ACQUIRE) == 0)
			if (gsp_emu_wait(emu, emu->deadline_ns))
				return -ETIMEDOUT;
		return 0;
	}
	emu->stall_rx_queued = rte_ring_count(vn->rx_ring);
	emu->stall_rx_leak = __atomic_load_n(&vn->stats.rx_packets,
					     __ATOMIC_RELAXED) - emu->stall_rx0;
	t1 = gsp_emu_now_ns();
	gsp_watch_resumed(&emu->w, t1);
	__atomic_store_n(&emu->stall_state, GSP_STALL_RESUMED,
			 __ATOMIC_RELEASE);
	gsp_switch_pause(emu->dp->sw, vn, false);
	gsp_log(LOG_NOTICE, "emulation: node%u stopped for %.3f s; %" PRIu64
		" frames waiting in its ring", emu->base + i + 1,
		(t1 - emu->w.subj_t0[0]) / 1e9, emu->stall_rx_queued);
	return 0;
}

/* the scenario thread sleeps; the lcores run */
static bool
gsp_emu_host_run(void *ctx, uint64_t deadline_ns, bool stop)
{
	struct gsp_emu *emu = ctx;

	if (deadline_ns > emu->deadline_ns)
		deadline_ns = emu->deadline_ns;
	if (!stop)
		return gsp_emu_sleep_until(emu, deadline_ns);
	while (!gsp_watch_done(&emu->w))
		if (gsp_emu_wait(emu, deadline_ns))
			return gsp_watch_done(&emu->w);
	return true;
}

/* every lcore passed a quiescent state since the call (a sleeping one
 * within its idle cap); the scenario thread sleeps meanwhile */
static void
gsp_emu_host_quiesce(void *ctx)
{
	struct gsp_emu *emu = ctx;
	uint64_t token = rte_rcu_qsbr_start(emu->qsbr);

	while (!rte_rcu_qsbr_check(emu->qsbr, token, false) &&
	       !emu->dp->force_quit)
		rte_delay_us_sleep(GSP_EMU_QUIESCE_POLL_US);
}

static bool
gsp_emu_host_halted(void *ctx)
{
	return ((const struct gsp_emu *)ctx)->dp->force_quit;
}

void
gsp_emu_host_init(struct gsp_emu *emu)
{
	emu->host = (struct gsp_harness_host){
		.ctx = emu,
		.now_ns = gsp_emu_host_now,
		.n_nodes = gsp_emu_host_n,
		.n_members = gsp_emu_host_members,
		.counters = gsp_emu_host_counters,
		.pick = gsp_emu_host_pick,
		.set_app = gsp_emu_host_set_app,
		.crash = gsp_emu_host_crash,
		.pause = gsp_emu_host_pause,
		.resume_early_ns = GSP_EMU_RESUME_LEAD_NS,
		.run = gsp_emu_host_run,
		.halted = gsp_emu_host_halted,
		.quiesce = gsp_emu_host_quiesce,
	};
	emu->h = (struct gsp_harness){ .host = &emu->host, .w = &emu->w };
}
