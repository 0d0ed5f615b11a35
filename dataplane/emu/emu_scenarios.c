/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulation's scenario thread (docs/EMULATION.md): it waits for the
 * join, then runs one scenario (disseminate, detect, stall, steady, fp).
 * The scenarios themselves are the harness's (harness/gsp_scenario.h),
 * run through this process's host (emu_host.c); what is the
 * emulation's own is the window's snapshots and the checks against
 * --max-seconds. emu_record.c writes what it found.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_int.h"
#include "gsp_log.h"

static void
gsp_emu_detect(struct gsp_emu *emu, struct gsp_emu_result *r)
{
	struct gsp_scn_result sr = { 0 };
	uint32_t n_crash = emu->x.crash;

	if (n_crash + emu->o.seeds >= emu->o.nodes) {
		r->timeout = true;
		r->why = "--crash leaves no live non-seed vnode";
		return;
	}
	gsp_scn_detect(&emu->h, n_crash, emu->deadline_ns, &sr);
	r->n_det = sr.n_det;
	memcpy(r->det, sr.det, sizeof(r->det));
	r->curve = sr.curve;
	if (!sr.ok) {
		r->timeout = true;
		r->why = sr.why;
		gsp_log(LOG_ERR, "emulation: %u of %u nodes marked node%u down "
			"before the deadline", r->det[0].down_by,
			r->det[0].observers, emu->base + r->det[0].idx + 1);
		return;
	}
	r->time_s = 0;
	for (uint32_t k = 0; k < n_crash; k++)
		r->time_s = RTE_MAX(r->time_s, r->det[k].all_down_s);
	r->rounds = ceil(r->time_s * 1e9 / emu->interval_ns);
	gsp_log(LOG_NOTICE, "emulation: %u node(s) crashed (node%u first); "
		"first marked down after %.3f s, by all %u others after %.3f s "
		"(suspect: %.3f s, %.3f s)", n_crash,
		emu->base + r->det[0].idx + 1,
		r->det[0].first_down_s, r->det[0].observers, r->time_s,
		r->det[0].first_suspect_s, r->det[0].all_suspect_s);
}

static void
gsp_emu_stall(struct gsp_emu *emu, struct gsp_emu_result *r)
{
	struct gsp_scn_result sr = { 0 };
	uint64_t back;

	emu->stall_ns = (uint64_t)(emu->x.stall_s * 1e9);
	gsp_scn_stall(&emu->h, emu->stall_ns,
		      (uint64_t)((emu->x.settle_s < 0 ? 2 : emu->x.settle_s) *
				 1e9), &sr);
	r->n_det = 1;
	r->det[0] = sr.det[0];
	r->stall_rx_queued = emu->stall_rx_queued;
	r->stall_rx_leak = emu->stall_rx_leak;
	r->resumed = sr.resumed;
	if (sr.t_pause != 0 && sr.t_pause + emu->stall_ns > emu->deadline_ns) {
		r->timeout = true;
		r->why = "stall past --max-seconds";
	}
	if (!sr.ok) {
		r->timeout = true;
		r->why = sr.why;
		gsp_log(LOG_ERR, "emulation: node%u not listed alive again by "
			"every node before the end",
			emu->base + sr.stalled + 1);
		return;
	}
	back = RTE_MAX(sr.alive_again_t, sr.t_resume);
	r->stall_alive_s = (back - sr.t_resume) / 1e9;
	r->time_s = gsp_span_s(back, sr.t_pause);
	r->rounds = ceil(r->time_s * 1e9 / emu->interval_ns);
	gsp_log(LOG_NOTICE, "emulation: node%u marked down by %u of %u "
		"(first %.3f s, all %.3f s after it stopped); alive again "
		"everywhere %.3f s after it resumed; it then marked %" PRIu64
		" live nodes suspect, %" PRIu64 " down",
		emu->base + sr.stalled + 1,
		r->det[0].down_by, r->det[0].observers, r->det[0].first_down_s,
		r->det[0].all_down_s, r->stall_alive_s, sr.resumed.suspect,
		sr.resumed.down);
}

static void
gsp_emu_window(struct gsp_emu *emu, struct gsp_emu_result *r)
{
	uint64_t len = (uint64_t)(emu->o.duration_s * 1e9);
	struct gsp_scn_result sr = { 0 };
	struct gsp_fp_sum fs;

	if (gsp_emu_now_ns() + len > emu->deadline_ns) {
		r->timeout = true;
		r->why = "window past --max-seconds";
	}
	gsp_scn_window(&emu->h, len, &sr);
	r->time_s = gsp_span_s(sr.t_end, sr.t_start);
	r->rounds = 0;	/* counted from the snapshots */
	gsp_fp_sum(&emu->w.fp, sr.t_end, &fs);
	gsp_log(LOG_NOTICE, "emulation: %s measured over %.1f s: %" PRIu64
		" live members marked suspect, %" PRIu64 " down",
		gsp_scn_name(emu->o.scenario), r->time_s, fs.suspect, fs.down);
}

static void
gsp_emu_disseminate(struct gsp_emu *emu, struct gsp_emu_result *r)
{
	struct gsp_scn_result sr = { 0 };
	uint32_t n = emu->o.nodes;

	gsp_scn_disseminate(&emu->h, GSP_EMU_APP_KEY, "changed",
			    emu->deadline_ns, &sr);
	r->curve = sr.curve;
	if (!sr.ok) {
		r->timeout = true;
		r->why = sr.why;
		gsp_log(LOG_ERR, "emulation: the change reached %u of %u "
			"nodes before the deadline", gsp_watch_ok(&emu->w), n);
		return;
	}
	r->time_s = gsp_span_s(sr.t_end, sr.t_start);
	r->rounds = ceil(r->time_s * 1e9 / emu->interval_ns);
	gsp_log(LOG_NOTICE, "emulation: an app-state change reached "
		"all %u nodes in %.3f s (%.0f rounds; bound %.1f)", n,
		r->time_s, r->rounds, gsp_scn_bound_rounds(n));
}

/* The join, then the scenario's window, measured from snapshots a, b. */
void
gsp_emu_run(struct gsp_emu *emu)
{
	struct gsp_dp *dp = emu->dp;
	const struct gsp_emu_opts *o = &emu->o;
	struct gsp_emu_result r = {
		.time_s = -1, .rounds = -1, .join_s = -1,
		.stall_alive_s = -1, .why = "",
	};
	struct gsp_emu_snap a = { 0 }, b = { 0 };
	struct gsp_scn_result jr = { 0 };
	uint32_t n = o->nodes;

	if (!gsp_emu_snap(emu, &a) || !gsp_emu_snap(emu, &b)) {
		gsp_log(LOG_ERR, "emulation: out of memory");
		emu->status = 1;
		return;
	}
	a.t_ns = emu->start_ns;

	/* join: every vnode lists all N (the watch's goal since set-up) */
	gsp_scn_join(&emu->h, emu->start_ns, emu->deadline_ns, &jr);
	r.distinct_sizes = jr.distinct_sizes;
	r.join_fp = jr.join_fp;
	if (jr.ok) {
		r.join_s = gsp_span_s(jr.t_end, emu->start_ns);
		r.join_rounds = jr.join_rounds;
		gsp_log(LOG_NOTICE, "emulation: %u nodes joined in %.3f s "
			"(each lists all %u), %" PRIu64 " rounds, %u distinct "
			"cluster sizes seen", n, r.join_s, emu->cluster,
			jr.join_rounds, jr.distinct_sizes);
	} else {
		r.timeout = true;
		r.why = jr.why;
		gsp_log(LOG_ERR, "emulation: join %s after %.1f s: %u of %u "
			"nodes list all %u", dp->force_quit ?
			"interrupted" : "timed out",
			RTE_MAX(0.0, gsp_span_s(gsp_emu_now_ns(),
						    emu->start_ns)),
			gsp_watch_ok(&emu->w), n, emu->cluster);
	}
	if (o->scenario == GSP_SCN_JOIN || r.timeout) {
		r.curve = jr.curve;
		jr.curve = NULL;
		r.time_s = r.timeout ? gsp_span_s(gsp_emu_now_ns(),
						      emu->start_ns) : r.join_s;
		r.rounds = r.timeout ? -1 : (double)r.join_rounds;
		__atomic_store_n(&emu->phase, GSP_PHASE_MEASURE,
				 __ATOMIC_RELEASE);
		gsp_emu_snap(emu, &b);
		goto out;
	}
	/* the scenario's window: accusations from here */
	gsp_watch_phase(&emu->w, GSP_GOAL_NONE, gsp_emu_now_ns());
	gsp_watch_window(&emu->w, gsp_emu_now_ns(), false);
	/* idle traffic without the join's tail (the simulator's
	 * --settle-rounds), a crash in a quiet cluster, not in the join's
	 * last syncs; accusations still count from the join */
	if ((o->scenario == GSP_SCN_STEADY || o->scenario == GSP_SCN_DETECT) &&
	    emu->x.settle_s > 0) {
		struct gsp_scn_result quiet = { 0 };

		gsp_scn_window(&emu->h, (uint64_t)(emu->x.settle_s * 1e9),
			       &quiet);
		r.settle_s = emu->x.settle_s;
	}
	/* ticks and their lateness over the window alone, as the traffic:
	 * counted from before the settle, they were divided by the window
	 * and mixed the join's tail into the percentiles */
	__atomic_store_n(&emu->phase, GSP_PHASE_MEASURE, __ATOMIC_RELEASE);
	r.quiet_s = gsp_span_s(gsp_emu_now_ns(), jr.t_end);
	gsp_emu_snap(emu, &a);
	switch (o->scenario) {
	case GSP_SCN_DISSEMINATE:
		gsp_emu_disseminate(emu, &r);
		break;
	case GSP_SCN_DETECT:
		gsp_emu_detect(emu, &r);
		break;
	case GSP_SCN_STALL:
		gsp_emu_stall(emu, &r);
		break;
	case GSP_SCN_STEADY:
	case GSP_SCN_FP:
		gsp_emu_window(emu, &r);
		break;
	default:
		break;
	}
	gsp_emu_snap(emu, &b);
	if (r.timeout && r.time_s < 0)
		r.time_s = gsp_span_s(gsp_emu_now_ns(), emu->start_ns);
out:
	if (dp->force_quit && !r.timeout && o->scenario != GSP_SCN_STEADY &&
	    o->scenario != GSP_SCN_FP && o->scenario != GSP_SCN_STALL) {
		r.timeout = true;
		r.why = "interrupted";
	}
	gsp_emu_write(emu, &r, &a, &b);
	json_decref(jr.curve);
	json_decref(r.curve);
	if (r.timeout)
		emu->status = 1;
	free(a.v);
	free(b.v);
}
