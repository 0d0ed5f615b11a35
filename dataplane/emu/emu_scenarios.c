/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulation's scenario thread (docs/EMULATION.md): it waits for the
 * join, then runs one scenario (disseminate, detect, stall, steady, fp)
 * by commands to the lcores (an app-state change, a crash) and a switch
 * port's pause, reading what the lcores measured; it never touches a
 * vnode's core. emu_record.c writes what it found.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
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

static bool
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
static bool
gsp_emu_wait(struct gsp_emu *emu, uint64_t deadline_ns)
{
	if (emu->dp->force_quit || gsp_emu_now_ns() >= deadline_ns)
		return true;
	rte_delay_us_sleep(GSP_EMU_POLL_US);
	return false;
}

/* Sleeps until t_ns (or a quit); false when quitting. */
static bool
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
	uint32_t n = emu->o.nodes, seeds = emu->o.seeds, first;

	if (n <= seeds)
		return n - 1;
	/* consecutive from a random start: distinct while k < n - seeds */
	first = (uint32_t)(gsp_rand(&s) % (n - seeds));
	return seeds + (first + k) % (n - seeds);
}

/* Waits until the watch's goal is met by every counted vnode; false at
 * the deadline or on a quit. */
static bool
gsp_emu_wait_goal(struct gsp_emu *emu, uint64_t deadline)
{
	while (!gsp_watch_done(&emu->w))
		if (gsp_emu_wait(emu, deadline))
			return gsp_watch_done(&emu->w);
	return true;
}

static void
gsp_emu_detect(struct gsp_emu *emu, struct gsp_emu_result *r,
	       uint64_t deadline)
{
	uint32_t idx[GSP_EMU_CRASH_MAX], k, n_crash = emu->x.crash;
	struct gsp_cmd cmd = { .type = GSP_CMD_CRASH, .flags = GSP_CMD_F_OBSERVE };

	if (n_crash + emu->o.seeds >= emu->o.nodes) {
		r->timeout = true;
		r->why = "--crash leaves no live non-seed vnode";
		return;
	}
	for (k = 0; k < n_crash; k++)
		idx[k] = gsp_emu_pick(emu, 0x76696374696dull, k);
	gsp_watch_subjects(&emu->w, idx, n_crash);
	gsp_watch_phase(&emu->w, GSP_GOAL_DETECTED, gsp_emu_now_ns());
	for (k = 0; k < n_crash; k++) {
		cmd.vnode = idx[k];
		if (gsp_dp_submit(&cmd) != 0) {
			r->timeout = true;
			r->why = "command ring full";
			return;
		}
	}
	gsp_emu_wait_goal(emu, deadline);
	r->n_det = n_crash;
	for (k = 0; k < n_crash; k++) {
		gsp_watch_detection(&emu->w, k, &r->det[k]);
		if (r->det[k].all_down_s < 0) {
			r->timeout = true;
			r->why = "detect";
		}
	}
	/* the first crash's time: every observer's first "all down" */
	r->curve = gsp_watch_curve(&emu->w, __atomic_load_n(&emu->w.subj_t0[0],
				   __ATOMIC_ACQUIRE), gsp_watch_up(&emu->w));
	if (r->timeout) {
		gsp_log(LOG_ERR, "emulation: %u of %u nodes marked node%u down "
			"before the deadline", r->det[0].down_by,
			r->det[0].observers, idx[0] + 1);
		return;
	}
	r->time_s = 0;
	for (k = 0; k < n_crash; k++)
		r->time_s = RTE_MAX(r->time_s, r->det[k].all_down_s);
	r->rounds = ceil(r->time_s * 1e9 / emu->interval_ns);
	gsp_log(LOG_NOTICE, "emulation: %u node(s) crashed (node%u first); "
		"first marked down after %.3f s, by all %u others after %.3f s "
		"(suspect: %.3f s, %.3f s)", n_crash, idx[0] + 1,
		r->det[0].first_down_s, r->det[0].observers, r->time_s,
		r->det[0].first_suspect_s, r->det[0].all_suspect_s);
}

static void
gsp_emu_stall(struct gsp_emu *emu, struct gsp_emu_result *r,
	      uint64_t deadline)
{
	struct gsp_dp *dp = emu->dp;
	uint32_t idx = gsp_emu_pick(emu, 0x7374616c6cull, 0);
	struct gsp_vnode *vn = &dp->vnodes[idx];
	struct gsp_fp_sum fs;
	uint64_t t0, t1, back;

	emu->stall_ns = (uint64_t)(emu->x.stall_s * 1e9);
	gsp_watch_subjects(&emu->w, &idx, 1);
	emu->stall_idx = idx;
	/* it stops at its next timer, run by its own lcore */
	__atomic_store_n(&emu->stall_state, GSP_STALL_REQUESTED,
			 __ATOMIC_RELEASE);
	while ((t0 = __atomic_load_n(&emu->w.subj_t0[0],
				     __ATOMIC_ACQUIRE)) == 0)
		if (gsp_emu_wait(emu, deadline)) {
			r->timeout = true;
			r->why = "stall never began";
			return;
		}
	if (t0 + emu->stall_ns > deadline) {
		r->timeout = true;
		r->why = "stall past --max-seconds";
	}
	/* its overdue timer runs at t0 + stall; rx comes back just before */
	if (!gsp_emu_sleep_until(emu, t0 + emu->stall_ns -
				 RTE_MIN(emu->stall_ns, GSP_EMU_RESUME_LEAD_NS)))
		return;
	r->stall_rx_queued = rte_ring_count(vn->rx_ring);
	r->stall_rx_leak = __atomic_load_n(&vn->stats.rx_packets,
					   __ATOMIC_RELAXED) - emu->stall_rx0;
	t1 = gsp_emu_now_ns();
	gsp_watch_resumed(&emu->w, t1);
	__atomic_store_n(&emu->stall_state, GSP_STALL_RESUMED,
			 __ATOMIC_RELEASE);
	gsp_switch_pause(dp->sw, vn, false);
	gsp_log(LOG_NOTICE, "emulation: node%u stopped for %.3f s; %" PRIu64
		" frames waiting in its ring", idx + 1, (t1 - t0) / 1e9,
		r->stall_rx_queued);
	/* alive again: no live vnode accuses it any more */
	while ((back = __atomic_load_n(&emu->w.alive_again_ns,
				       __ATOMIC_ACQUIRE)) == 0)
		if (gsp_emu_wait(emu, deadline))
			break;
	r->n_det = 1;
	if (back == 0) {
		gsp_watch_detection(&emu->w, 0, &r->det[0]);
		r->timeout = true;
		r->why = "stalled node not alive again everywhere";
		gsp_log(LOG_ERR, "emulation: node%u not listed alive again by "
			"every node before the deadline", idx + 1);
		return;
	}
	r->stall_alive_s = back > t1 ? (back - t1) / 1e9 : 0;
	r->time_s = gsp_emu_span_s(RTE_MAX(back, t1), t0);
	r->rounds = ceil(r->time_s * 1e9 / emu->interval_ns);
	/* what the resumed vnode does next, and late verdicts on it */
	gsp_emu_sleep_until(emu, RTE_MIN(deadline, gsp_emu_now_ns() +
			    (uint64_t)(emu->x.settle_s * 1e9)));
	gsp_watch_detection(&emu->w, 0, &r->det[0]);
	gsp_fp_sum(&emu->w.fp_resumed, gsp_emu_now_ns(), &fs);
	gsp_log(LOG_NOTICE, "emulation: node%u marked down by %u of %u "
		"(first %.3f s, all %.3f s after it stopped); alive again "
		"everywhere %.3f s after it resumed; it then marked %" PRIu64
		" live nodes suspect, %" PRIu64 " down", idx + 1,
		r->det[0].down_by, r->det[0].observers, r->det[0].first_down_s,
		r->det[0].all_down_s, r->stall_alive_s, fs.suspect, fs.down);
}

static void
gsp_emu_window(struct gsp_emu *emu, struct gsp_emu_result *r,
	       uint64_t deadline, uint64_t t0)
{
	uint64_t end = t0 + (uint64_t)(emu->o.duration_s * 1e9);

	if (end > deadline) {
		r->timeout = true;
		r->why = "window past --max-seconds";
		end = deadline;
	}
	gsp_emu_sleep_until(emu, end);
	r->time_s = gsp_emu_span_s(gsp_emu_now_ns(), t0);
	r->rounds = 0;	/* counted from the snapshots */
}

static void
gsp_emu_disseminate(struct gsp_emu *emu, struct gsp_emu_result *r,
		    uint64_t deadline, struct gsp_emu_snap *a)
{
	struct gsp_dp *dp = emu->dp;
	struct gsp_cmd cmd = { .type = GSP_CMD_SET_APP,
			       .flags = GSP_CMD_F_OBSERVE };
	uint32_t n = emu->o.nodes;
	uint64_t t0;

	emu->origin = gsp_emu_pick(emu, 0x6f726967696eull, 0);
	gsp_watch_app(&emu->w, gsp_node_id(dp->vnodes[emu->origin].node),
		      GSP_EMU_APP_KEY, "changed");
	gsp_watch_phase(&emu->w, GSP_GOAL_INFORMED, gsp_emu_now_ns());
	gsp_emu_snap(emu, a);
	cmd.vnode = emu->origin;
	snprintf(cmd.key, sizeof(cmd.key), GSP_EMU_APP_KEY);
	snprintf(cmd.value, sizeof(cmd.value), "changed");
	if (gsp_dp_submit(&cmd) != 0) {
		r->timeout = true;
		r->why = "command ring full";
		return;
	}
	gsp_emu_wait_goal(emu, deadline);
	t0 = __atomic_load_n(&emu->dis_t0_ns, __ATOMIC_ACQUIRE);
	r->curve = gsp_watch_curve(&emu->w, t0, n);
	if (!gsp_watch_done(&emu->w)) {
		r->timeout = true;
		r->why = "disseminate";
		gsp_log(LOG_ERR, "emulation: the change reached %u of "
			"%u nodes before the deadline", gsp_watch_ok(&emu->w),
			n);
		return;
	}
	r->time_s = gsp_emu_span_s(emu->w.done_ns, t0);
	r->rounds = ceil(r->time_s * 1e9 / emu->interval_ns);
	gsp_log(LOG_NOTICE, "emulation: an app-state change reached "
		"all %u nodes in %.3f s (%.0f rounds; bound %.1f)", n,
		r->time_s, r->rounds, gsp_scn_bound_rounds(n));
}

void
gsp_emu_run(struct gsp_emu *emu)
{
	struct gsp_dp *dp = emu->dp;
	const struct gsp_emu_opts *o = &emu->o;
	uint64_t deadline = emu->start_ns + (uint64_t)(o->max_s * 1e9);
	struct gsp_emu_result r = {
		.time_s = -1, .rounds = -1, .join_s = -1,
		.stall_alive_s = -1, .why = "",
	};
	struct gsp_emu_snap a = { 0 }, b = { 0 };
	struct gsp_watch *w = &emu->w;
	uint32_t n = o->nodes;
	struct gsp_fp_sum fs;

	if (!gsp_emu_snap(emu, &a) || !gsp_emu_snap(emu, &b)) {
		gsp_log(LOG_ERR, "emulation: out of memory");
		emu->status = 1;
		return;
	}
	a.t_ns = emu->start_ns;

	/* join: every vnode lists all N (the watch's goal since set-up) */
	if (gsp_emu_wait_goal(emu, deadline)) {
		uint64_t rmax = 0;

		for (uint32_t i = 0; i < n; i++)
			rmax = RTE_MAX(rmax, w->node[i].reached_rounds);
		r.join_s = gsp_emu_span_s(w->done_ns, emu->start_ns);
		r.join_rounds = rmax;
		gsp_log(LOG_NOTICE, "emulation: %u nodes joined in %.3f s, "
			"%" PRIu64 " rounds, %u distinct cluster sizes seen",
			n, r.join_s, rmax, gsp_watch_distinct_sizes(w));
	} else {
		r.timeout = true;
		r.why = dp->force_quit ? "interrupted" : "join";
		gsp_log(LOG_ERR, "emulation: join %s after %.1f s: %u of %u "
			"nodes list all %u", dp->force_quit ?
			"interrupted" : "timed out",
			RTE_MAX(0.0, gsp_emu_span_s(gsp_emu_now_ns(),
						    emu->start_ns)),
			gsp_watch_ok(w), n, n);
	}
	gsp_fp_sum(&w->fp_join, gsp_emu_now_ns(), &r.join_fp);
	r.distinct_sizes = gsp_watch_distinct_sizes(w);
	if (o->scenario == GSP_SCN_JOIN || r.timeout) {
		r.curve = gsp_watch_curve(w, emu->start_ns, n);
		r.time_s = r.timeout ? gsp_emu_span_s(gsp_emu_now_ns(),
						      emu->start_ns) : r.join_s;
		r.rounds = r.timeout ? -1 : (double)r.join_rounds;
		__atomic_store_n(&emu->phase, GSP_PHASE_MEASURE,
				 __ATOMIC_RELEASE);
		gsp_emu_snap(emu, &b);
		goto out;
	}
	/* the scenario's window: accusations and timer lateness from here */
	gsp_watch_phase(w, GSP_GOAL_NONE, gsp_emu_now_ns());
	gsp_watch_window(w, gsp_emu_now_ns(), false);
	__atomic_store_n(&emu->phase, GSP_PHASE_MEASURE, __ATOMIC_RELEASE);
	gsp_emu_snap(emu, &a);
	switch (o->scenario) {
	case GSP_SCN_DISSEMINATE:
		gsp_emu_disseminate(emu, &r, deadline, &a);
		break;
	case GSP_SCN_DETECT:
		gsp_emu_detect(emu, &r, deadline);
		break;
	case GSP_SCN_STALL:
		gsp_emu_stall(emu, &r, deadline);
		break;
	case GSP_SCN_STEADY:
	case GSP_SCN_FP:
		gsp_emu_window(emu, &r, deadline, a.t_ns);
		gsp_fp_sum(&w->fp, gsp_emu_now_ns(), &fs);
		gsp_log(LOG_NOTICE, "emulation: %s measured over %.1f s: "
			"%" PRIu64 " live members marked suspect, %" PRIu64
			" down", gsp_scn_name(o->scenario), r.time_s,
			fs.suspect, fs.down);
		break;
	default:
		break;
	}
	gsp_emu_snap(emu, &b);
	if (r.timeout && r.time_s < 0)
		r.time_s = gsp_emu_span_s(gsp_emu_now_ns(), emu->start_ns);
out:
	if (dp->force_quit && !r.timeout && o->scenario != GSP_SCN_STEADY &&
	    o->scenario != GSP_SCN_FP && o->scenario != GSP_SCN_STALL) {
		r.timeout = true;
		r.why = "interrupted";
	}
	gsp_emu_write(emu, &r, &a, &b);
	json_decref(r.curve);
	if (r.timeout)
		emu->status = 1;
	free(a.v);
	free(b.v);
}
