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

/* How many vnodes have the field set (nonzero); *min_ns, *max_ns. */
static uint32_t
gsp_emu_count(const struct gsp_emu *emu, const struct gsp_emu_field *f,
	      uint64_t *min_ns, uint64_t *max_ns)
{
	struct gsp_times t;

	gsp_times_scan(&t, f->base, f->stride, emu->o.nodes, f->skip);
	*min_ns = t.min_ns;
	*max_ns = t.max_ns;
	return t.count;
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

/* Each vnode's table slot of the origin, before the change is made. */
static bool
gsp_emu_find_origin(struct gsp_emu *emu)
{
	struct gsp_dp *dp = emu->dp;
	struct gsp_member_view v;

	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		struct gsp_vnode *vn = &dp->vnodes[i];
		struct gsp_emu_probe *pr = &emu->vs[i].probe;
		uint32_t hw = gsp_node_slot_count(vn->node);

		pr->origin_slot = UINT32_MAX;
		for (uint32_t s = 0; s < hw; s++)
			if (gsp_node_member_read(vn->node, s, &v) &&
			    v.id == emu->origin_id) {
				pr->origin_slot = s;
				break;
			}
		if (pr->origin_slot == UINT32_MAX)
			return false;
		if (dp->force_quit)
			return false;
	}
	return true;
}

/* Declares the subjects (before they go down): their events are
 * tracked per observer from then on. */
static void
gsp_emu_subjects(struct gsp_emu *emu, const uint32_t *idx, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		emu->subj_idx[k] = idx[k];
		emu->subj_id[k] = gsp_node_id(emu->dp->vnodes[idx[k]].node);
	}
	__atomic_store_n(&emu->n_subj, n, __ATOMIC_RELEASE);
}

static bool
gsp_emu_is_subject(const struct gsp_emu *emu, uint32_t i)
{
	for (uint32_t k = 0; k < emu->n_subj; k++)
		if (emu->subj_idx[k] == i)
			return true;
	return false;
}

/* Subject k as its live observers saw it. */
static void
gsp_emu_detection(const struct gsp_emu *emu, uint32_t k,
		  struct gsp_emu_det *d)
{
	uint64_t t0 = __atomic_load_n(&emu->subj_t0[k], __ATOMIC_ACQUIRE);
	uint64_t s_min, s_max, d_min, d_max;
	struct gsp_emu_field fs = gsp_emu_vs_field(&emu->vs[0].suspect_ns[k],
						   UINT32_MAX);
	struct gsp_emu_field fd = gsp_emu_vs_field(&emu->vs[0].down_ns[k],
						   UINT32_MAX);

	d->idx = emu->subj_idx[k];
	d->observers = emu->o.nodes - emu->n_subj;
	d->suspected_by = d->down_by = 0;
	s_min = d_min = UINT64_MAX;
	s_max = d_max = 0;
	for (uint32_t i = 0; i < emu->o.nodes; i++) {
		uint64_t s, t;

		if (gsp_emu_is_subject(emu, i))
			continue;
		s = gsp_emu_field_get(&fs, i);
		t = gsp_emu_field_get(&fd, i);
		if (s != 0) {
			d->suspected_by++;
			s_min = RTE_MIN(s_min, s);
			s_max = RTE_MAX(s_max, s);
		}
		if (t != 0) {
			d->down_by++;
			d_min = RTE_MIN(d_min, t);
			d_max = RTE_MAX(d_max, t);
		}
	}
	d->first_suspect_s = d->suspected_by ? gsp_emu_span_s(s_min, t0) : -1;
	d->first_down_s = d->down_by ? gsp_emu_span_s(d_min, t0) : -1;
	d->all_suspect_s = d->suspected_by == d->observers ?
		gsp_emu_span_s(s_max, t0) : -1;
	d->all_down_s = d->down_by == d->observers ?
		gsp_emu_span_s(d_max, t0) : -1;
}

static bool
gsp_emu_all_down(const struct gsp_emu *emu)
{
	for (uint32_t k = 0; k < emu->n_subj; k++) {
		struct gsp_emu_det d;

		gsp_emu_detection(emu, k, &d);
		if (d.down_by < d.observers)
			return false;
	}
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
	gsp_emu_subjects(emu, idx, n_crash);
	for (k = 0; k < n_crash; k++) {
		cmd.vnode = idx[k];
		if (gsp_dp_submit(&cmd) != 0) {
			r->timeout = true;
			r->why = "command ring full";
			return;
		}
	}
	while (!gsp_emu_all_down(emu))
		if (gsp_emu_wait(emu, deadline))
			break;
	r->n_det = n_crash;
	for (k = 0; k < n_crash; k++) {
		gsp_emu_detection(emu, k, &r->det[k]);
		if (r->det[k].all_down_s < 0) {
			r->timeout = true;
			r->why = "detect";
		}
	}
	r->curve = true;
	r->curve_f = gsp_emu_vs_field(&emu->vs[0].down_ns[0],
				      UINT32_MAX);
	r->curve_t0 = __atomic_load_n(&emu->subj_t0[0], __ATOMIC_ACQUIRE);
	r->curve_of = emu->o.nodes - n_crash;
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

/* Every live observer lists the stalled vnode alive; the last time one
 * of them switched back (or 0 when none had to). */
static bool
gsp_emu_alive_everywhere(const struct gsp_emu *emu, uint64_t *last_ns)
{
	*last_ns = 0;
	for (uint32_t i = 0; i < emu->o.nodes; i++) {
		const struct gsp_emu_vs *vs = &emu->vs[i];

		if (i == emu->stall_idx)
			continue;
		if (__atomic_load_n(&vs->state[0], __ATOMIC_ACQUIRE) !=
		    GSP_STATE_ALIVE)
			return false;
		*last_ns = RTE_MAX(*last_ns, __atomic_load_n(&vs->alive_ns,
							     __ATOMIC_ACQUIRE));
	}
	return true;
}

static void
gsp_emu_stall(struct gsp_emu *emu, struct gsp_emu_result *r,
	      uint64_t deadline)
{
	struct gsp_dp *dp = emu->dp;
	uint32_t idx = gsp_emu_pick(emu, 0x7374616c6cull, 0);
	struct gsp_vnode *vn = &dp->vnodes[idx];
	struct gsp_fp_sum fs;
	uint64_t t0, t1, last;

	emu->stall_ns = (uint64_t)(emu->x.stall_s * 1e9);
	gsp_emu_subjects(emu, &idx, 1);
	emu->stall_idx = idx;
	/* it stops at its next timer, run by its own lcore */
	__atomic_store_n(&emu->stall_state, GSP_STALL_REQUESTED,
			 __ATOMIC_RELEASE);
	while ((t0 = __atomic_load_n(&emu->subj_t0[0], __ATOMIC_ACQUIRE)) == 0)
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
	__atomic_store_n(&emu->stall_t1, t1, __ATOMIC_RELEASE);
	__atomic_store_n(&emu->stall_state, GSP_STALL_RESUMED,
			 __ATOMIC_RELEASE);
	gsp_switch_pause(dp->sw, vn, false);
	gsp_log(LOG_NOTICE, "emulation: node%u stopped for %.3f s; %" PRIu64
		" frames waiting in its ring", idx + 1, (t1 - t0) / 1e9,
		r->stall_rx_queued);
	while (!gsp_emu_alive_everywhere(emu, &last))
		if (gsp_emu_wait(emu, deadline))
			break;
	r->n_det = 1;
	if (!gsp_emu_alive_everywhere(emu, &last)) {
		gsp_emu_detection(emu, 0, &r->det[0]);
		r->timeout = true;
		r->why = "stalled node not alive again everywhere";
		gsp_log(LOG_ERR, "emulation: node%u not listed alive again by "
			"every node before the deadline", idx + 1);
		return;
	}
	r->stall_alive_s = last > t1 ? (last - t1) / 1e9 : 0;
	r->time_s = gsp_emu_span_s(RTE_MAX(last, t1), t0);
	r->rounds = ceil(r->time_s * 1e9 / emu->interval_ns);
	/* what the resumed vnode does next, and late verdicts on it */
	gsp_emu_sleep_until(emu, RTE_MIN(deadline, gsp_emu_now_ns() +
			    (uint64_t)(emu->x.settle_s * 1e9)));
	gsp_emu_detection(emu, 0, &r->det[0]);
	gsp_fp_sum(&emu->fp_resumed, gsp_emu_now_ns(), &fs);
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
	struct gsp_emu_field joined = gsp_emu_probe_field(emu,
			offsetof(struct gsp_emu_probe, joined_ns));
	uint64_t t_first, t_last = 0;
	uint32_t n = o->nodes, got = 0;
	struct gsp_cmd cmd = { .flags = GSP_CMD_F_OBSERVE };
	struct gsp_fp_sum fs;

	if (!gsp_emu_snap(emu, &a) || !gsp_emu_snap(emu, &b)) {
		gsp_log(LOG_ERR, "emulation: out of memory");
		emu->status = 1;
		return;
	}
	a.t_ns = emu->start_ns;

	/* join: every vnode lists all N alive */
	while ((got = gsp_emu_count(emu, &joined, &t_first, &t_last)) < n)
		if (gsp_emu_wait(emu, deadline))
			break;
	if (got == n) {
		uint64_t rmax = 0;

		for (uint32_t i = 0; i < n; i++)
			rmax = RTE_MAX(rmax, emu->vs[i].probe.joined_rounds);
		r.join_s = gsp_emu_span_s(t_last, emu->start_ns);
		r.join_rounds = rmax;
		gsp_log(LOG_NOTICE, "emulation: %u nodes joined in %.3f s, "
			"%" PRIu64 " rounds, %u distinct cluster sizes seen",
			n, r.join_s, rmax, gsp_emu_distinct_sizes(emu));
	} else {
		r.timeout = true;
		r.why = dp->force_quit ? "interrupted" : "join";
		gsp_log(LOG_ERR, "emulation: join %s after %.1f s: %u of %u "
			"nodes list all %u alive", dp->force_quit ?
			"interrupted" : "timed out",
			RTE_MAX(0.0, gsp_emu_span_s(gsp_emu_now_ns(),
						    emu->start_ns)), got, n, n);
	}
	__atomic_store_n(&emu->phase, GSP_PHASE_MEASURE, __ATOMIC_RELEASE);

	if (o->scenario == GSP_SCN_JOIN || r.timeout) {
		r.curve = true;
		r.curve_f = joined;
		r.curve_t0 = emu->start_ns;
		r.curve_of = n;
		r.time_s = r.timeout ? gsp_emu_span_s(gsp_emu_now_ns(),
						      emu->start_ns) : r.join_s;
		r.rounds = r.timeout ? -1 : (double)r.join_rounds;
		gsp_emu_snap(emu, &b);
		goto out;
	}

	gsp_emu_snap(emu, &a);
	switch (o->scenario) {
	case GSP_SCN_DISSEMINATE:
		emu->origin = gsp_emu_pick(emu, 0x6f726967696eull, 0);
		emu->origin_id = gsp_node_id(dp->vnodes[emu->origin].node);
		if (!gsp_emu_find_origin(emu)) {
			r.timeout = true;
			r.why = "origin unknown somewhere";
			break;
		}
		gsp_emu_snap(emu, &a);
		cmd.type = GSP_CMD_SET_APP;
		cmd.vnode = emu->origin;
		snprintf(cmd.key, sizeof(cmd.key), GSP_EMU_APP_KEY);
		snprintf(cmd.value, sizeof(cmd.value), "changed");
		if (gsp_dp_submit(&cmd) != 0) {
			r.timeout = true;
			r.why = "command ring full";
			break;
		}
		r.curve = true;
		r.curve_f = gsp_emu_probe_field(emu,
				offsetof(struct gsp_emu_probe, informed_ns));
		r.curve_of = n;
		while ((got = gsp_emu_count(emu, &r.curve_f, &t_first,
					    &t_last)) < n)
			if (gsp_emu_wait(emu, deadline))
				break;
		r.curve_t0 = emu->dis_t0_ns;
		if (got < n) {
			r.timeout = true;
			r.why = "disseminate";
			gsp_log(LOG_ERR, "emulation: the change reached %u of "
				"%u nodes before the deadline", got, n);
			break;
		}
		r.time_s = gsp_emu_span_s(t_last, emu->dis_t0_ns);
		r.rounds = ceil(r.time_s * 1e9 / emu->interval_ns);
		gsp_log(LOG_NOTICE, "emulation: an app-state change reached "
			"all %u nodes in %.3f s (%.0f rounds; bound %.1f)", n,
			r.time_s, r.rounds, log(n) / log(3.0) + log(log(n)));
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
		gsp_fp_sum(&emu->fp, gsp_emu_now_ns(), &fs);
		gsp_log(LOG_NOTICE, "emulation: %s measured over %.1f s: "
			"%" PRIu64 " live members marked suspect, %" PRIu64
			" down", gsp_scn_name(o->scenario), r.time_s,
			fs.suspect, fs.down);
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
	if (r.timeout)
		emu->status = 1;
	free(a.v);
	free(b.v);
}
