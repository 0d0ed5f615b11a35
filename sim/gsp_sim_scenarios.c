/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulator's scenarios (harness/gsp_harness.h names them): join,
 * disseminate, detect, steady, partition, fp, stall, cpuload.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_sim_int.h"

/* ----------------------------- scenarios ------------------------------ */

static uint64_t
gsp_sim_phase_end(const struct gsp_sim *s)
{
	return s->now + (uint64_t)s->c.max_rounds * s->interval_ns;
}

/* Runs until every node meets goal (at most --max-rounds): whether they
 * did, and after how long. */
static void
gsp_sim_until(struct gsp_sim *s, enum gsp_goal goal, bool *ok, uint64_t *dt)
{
	uint64_t t = s->now;

	gsp_sim_phase(s, goal, true);
	*ok = s->stop || gsp_sim_run(s, gsp_sim_phase_end(s));
	*dt = (*ok ? s->stop_t : s->now) - t;
	gsp_sim_phase(s, GSP_GOAL_NONE, false);
}
void
gsp_sim_join(struct gsp_sim *s, struct gsp_sim_result *r)
{
	struct gsp_scn_result sr = { 0 };

	s->now = GSP_SIM_T0;
	gsp_scn_join(&s->h, GSP_SIM_T0, gsp_sim_phase_end(s), &sr);
	r->join_ok = sr.ok;
	r->join_t = sr.ok ? sr.t_end : 0;
	r->distinct_sizes = sr.distinct_sizes;
	r->curve = sr.curve;
	r->join_fp = sr.join_fp;
	r->awareness_max = gsp_sim_det_sum(s, &r->det);
	gsp_sim_log(s, "join: %s, %.3f s, %u rounds, %u distinct sizes, "
		    "%" PRIu64 " join false positives, wall %.1f s",
		    r->join_ok ? "converged" : "NOT converged",
		    r->join_ok ? (double)(r->join_t - GSP_SIM_T0) / NS_PER_S :
		    NAN, r->join_ok ? gsp_sim_rounds(s, r->join_t - GSP_SIM_T0) :
		    0, r->distinct_sizes, r->join_fp.pairs, gsp_sim_wall_s(s));
	gsp_sim_phase(s, GSP_GOAL_NONE, false);
	r->ok = r->join_ok;
	r->t_start = GSP_SIM_T0;
	r->t_end = r->join_ok ? r->join_t : s->now;
}

void
gsp_sim_settle(struct gsp_sim *s)
{
	gsp_sim_phase(s, GSP_GOAL_NONE, false);
	gsp_sim_run(s, s->now + (uint64_t)s->c.settle_rounds * s->interval_ns);
	/* the scenario's accusations from here */
	gsp_watch_window(&s->w, s->now, true);
	gsp_fp_reset(&s->w.fp_resumed, s->now);
	s->fp_about_slow = s->fp_by_slow = 0;
}
static void
gsp_sim_disseminate(struct gsp_sim *s, struct gsp_sim_result *r)
{
	struct gsp_scn_result sr = { 0 };

	gsp_scn_disseminate(&s->h, GSP_SIM_APP_KEY, GSP_SIM_APP_VALUE,
			    gsp_sim_phase_end(s), &sr);
	r->origin = sr.origin;
	r->ok = sr.ok;
	r->t_start = sr.t_start;
	r->t_end = sr.t_end;
	r->curve = sr.curve;
	gsp_sim_log(s, "disseminate: %s %u/%u nodes after %.3f s (%u rounds; "
		    "bound %.2f)", r->ok ? "reached" : "NOT reached",
		    gsp_watch_ok(&s->w), gsp_watch_up(&s->w),
		    (double)(r->t_end - r->t_start) / NS_PER_S,
		    gsp_sim_rounds(s, r->t_end - r->t_start),
		    gsp_scn_bound_rounds(s->c.n_nodes));
}
static void
gsp_sim_detect(struct gsp_sim *s, struct gsp_sim_result *r)
{
	struct gsp_scn_result sr = { 0 };
	struct gsp_fp_sum fs;

	gsp_scn_detect(&s->h, 1, s->now + (uint64_t)s->c.max_rounds *
		       s->interval_ns, &sr);
	r->crashed = sr.det[0].idx;
	r->ok = sr.ok;
	r->t_start = sr.t_start;
	r->t_end = sr.t_end;
	r->curve = sr.curve;
	r->subject = sr.det[0];
	gsp_fp_sum(&s->w.fp, s->now, &fs);
	gsp_sim_log(s, "detect: node %u crashed; first suspect after %.3f s, "
		    "first down after %.3f s, %u/%u after %.3f s; %" PRIu64
		    " false positives", r->crashed,
		    r->subject.first_suspect_s >= 0 ?
		    r->subject.first_suspect_s : NAN,
		    r->subject.first_down_s >= 0 ? r->subject.first_down_s :
		    NAN, sr.det[0].down_by, sr.det[0].observers,
		    (double)(r->t_end - r->t_start) / NS_PER_S, fs.pairs);
	if (!r->ok || s->wall_limited)
		return;
	/* the simulator's own epilogue: restarted, a higher generation is
	 * alive again everywhere */
	gsp_watch_subjects(&s->w, NULL, 0);
	if (gsp_sim_node_restart(s, r->crashed) != 0)
		return;
	gsp_sim_until(s, GSP_GOAL_LISTED, &r->rejoin_ok, &r->rejoin_dt);
	gsp_sim_log(s, "detect: restarted node %u %s after %.3f s", r->crashed,
		    r->rejoin_ok ? "alive everywhere" : "NOT alive everywhere",
		    (double)r->rejoin_dt / NS_PER_S);
}

/* Per-node packet and byte counts at a window's start (gsp_sim_traffic_end
 * frees it), and the process CPU then; NULL when memory is short. */
struct gsp_sim_tsnap {
	double cpu0;
	uint64_t (*at)[4];
};

static bool
gsp_sim_traffic_begin(struct gsp_sim *s, struct gsp_sim_tsnap *ts)
{
	uint32_t n = s->c.n_nodes;

	ts->at = calloc(n ? n : 1, sizeof(*ts->at));
	if (ts->at == NULL)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct gsp_sim_node *sn = &s->nodes[i];

		ts->at[i][0] = sn->tx_pkts;
		ts->at[i][1] = sn->tx_bytes;
		ts->at[i][2] = sn->rx_pkts;
		ts->at[i][3] = sn->rx_bytes;
	}
	ts->cpu0 = gsp_sim_cpu_s();
	return true;
}

/* What the nodes sent and received since gsp_sim_traffic_begin, over the
 * scenario's window r->t_start..t_end. */
static void
gsp_sim_traffic_end(struct gsp_sim *s, struct gsp_sim_tsnap *ts,
		    struct gsp_sim_result *r)
{
	struct gsp_traffic *t = &r->traffic;
	uint32_t n = s->c.n_nodes;

	*t = (struct gsp_traffic){ .nodes = n,
		.cpu_s = gsp_sim_cpu_s() - ts->cpu0,
		.window_s = (double)(r->t_end - r->t_start) / NS_PER_S };
	for (uint32_t i = 0; i < n; i++) {
		struct gsp_sim_node *sn = &s->nodes[i];
		uint64_t v[4] = {
			sn->tx_pkts - ts->at[i][0], sn->tx_bytes - ts->at[i][1],
			sn->rx_pkts - ts->at[i][2], sn->rx_bytes - ts->at[i][3],
		};

		t->tx_pkts += v[0];
		t->tx_bytes += v[1];
		t->rx_pkts += v[2];
		t->rx_bytes += v[3];
		t->tx_pkts_max = GSP_SIM_MAX(t->tx_pkts_max, v[0]);
		t->tx_bytes_max = GSP_SIM_MAX(t->tx_bytes_max, v[1]);
		t->rx_pkts_max = GSP_SIM_MAX(t->rx_pkts_max, v[2]);
		t->rx_bytes_max = GSP_SIM_MAX(t->rx_bytes_max, v[3]);
	}
	free(ts->at);
	ts->at = NULL;
	r->has_traffic = true;
}

static void
gsp_sim_steady(struct gsp_sim *s, struct gsp_sim_result *r)
{
	uint32_t n = s->c.n_nodes;
	struct gsp_scn_result sr = { 0 };
	struct gsp_node_counters c0, c1;
	struct gsp_traffic *t = &r->traffic;
	struct gsp_sim_tsnap ts;
	uint64_t core0;
	double rounds;

	if (!gsp_sim_traffic_begin(s, &ts)) {
		gsp_sim_log(s, "steady: no memory for the traffic window");
		return;
	}
	gsp_harness_counters_sum(&s->host, &c0);
	gsp_sim_phase(s, GSP_GOAL_NONE, false);
	core0 = s->core_ns;
	gsp_scn_window(&s->h, (uint64_t)s->c.measure_rounds * s->interval_ns,
		       &sr);
	r->t_start = sr.t_start;
	r->t_end = sr.t_end;
	r->ok = sr.ok;
	gsp_sim_traffic_end(s, &ts, r);
	gsp_harness_counters_sum(&s->host, &c1);
	gsp_harness_counters_sub(&c1, &c0);
	rounds = (double)n * t->window_s * NS_PER_S / (double)s->interval_ns;
	if (rounds > 0) {
		r->syn_per_node_round = (double)c1.tx_syn / rounds;
		r->ack_per_node_round = (double)c1.tx_ack / rounds;
		r->ack2_per_node_round = (double)c1.tx_ack2 / rounds;
		r->merged_per_node_round = (double)c1.merged / rounds;
	}
	if (t->window_s > 0)
		r->core_us_per_node_s = (double)(s->core_ns - core0) / 1e3 /
			n / t->window_s;
	gsp_sim_log(s, "steady: %.1f s simulated; per node: tx %.1f pkt/s "
		    "%.0f B/s (max %.0f), rx %.1f pkt/s %.0f B/s; "
		    "%.1f SYN/round; cpu %.1f us/node/s", t->window_s,
		    gsp_sim_per_s(t->tx_pkts, t->window_s) / n,
		    gsp_sim_per_s(t->tx_bytes, t->window_s) / n,
		    gsp_sim_per_s(t->tx_bytes_max, t->window_s),
		    gsp_sim_per_s(t->rx_pkts, t->window_s) / n,
		    gsp_sim_per_s(t->rx_bytes, t->window_s) / n,
		    r->syn_per_node_round,
		    gsp_sim_per_s((uint64_t)(t->cpu_s * 1e6), t->window_s) / n);
}

static void
gsp_sim_partition(struct gsp_sim *s, struct gsp_sim_result *r)
{
	uint32_t n = s->c.n_nodes;
	uint32_t *perm = malloc(sizeof(*perm) * n);
	uint8_t *side = malloc(n ? n : 1);
	uint64_t t_split;

	if (perm == NULL || side == NULL) {
		free(perm);
		free(side);
		return;
	}
	/* a random half on each side (Fisher-Yates) */
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t k = (uint32_t)gsp_sim_rand_below(&s->rng_scn, i + 1);
		uint32_t tmp = perm[i];

		perm[i] = perm[k];
		perm[k] = tmp;
	}
	for (uint32_t i = 0; i < n; i++) {
		s->nodes[perm[i]].side = i < n / 2 ? 0 : 1;
		side[perm[i]] = s->nodes[perm[i]].side;
	}
	free(perm);

	s->partitioned = true;
	gsp_watch_sides(&s->w, side);
	free(side);
	t_split = s->now;
	gsp_sim_phase(s, GSP_GOAL_SPLIT, false);
	gsp_sim_run(s, s->now + (uint64_t)(s->c.partition_s * NS_PER_S));
	r->split_ok = gsp_watch_done(&s->w);
	r->split_dt = r->split_ok ? s->w.done_ns - t_split : 0;
	gsp_sim_log(s, "partition: sides %u/%u %s after %.3f s",
		    s->w.side_size[0], s->w.side_size[1], r->split_ok ?
		    "marked each other down" :
		    "did NOT mark each other down",
		    (double)r->split_dt / NS_PER_S);
	if (s->wall_limited)
		goto out;

	s->partitioned = false;
	gsp_sim_phase(s, GSP_GOAL_LISTED, true);
	r->t_start = s->now;
	r->ok = s->stop || gsp_sim_run(s, gsp_sim_phase_end(s));
	r->t_end = r->ok ? s->stop_t : s->now;
	r->curve = gsp_watch_curve(&s->w, r->t_start, s->c.n_nodes);
	gsp_sim_phase(s, GSP_GOAL_NONE, false);
	gsp_sim_log(s, "partition: healed %s after %.3f s (%u rounds)",
		    r->ok ? "into one view" : "NOT into one view",
		    (double)(r->t_end - r->t_start) / NS_PER_S,
		    gsp_sim_rounds(s, r->t_end - r->t_start));
out:
	s->partitioned = false;
	gsp_watch_sides(&s->w, NULL);
}

static void
gsp_sim_fp_log(const struct gsp_sim *s, const char *what)
{
	struct gsp_fp_sum fs;

	gsp_fp_sum(&s->w.fp, s->now, &fs);
	gsp_sim_log(s, "%s: %" PRIu64 " live members accused (%" PRIu64
		    " to suspect, %" PRIu64 " to down) over %" PRIu64
		    " pairs, %.3f pair-seconds accused", what,
		    fs.suspect + fs.down, fs.suspect, fs.down, fs.pairs,
		    fs.pair_s);
}

static void
gsp_sim_fp_run(struct gsp_sim *s, struct gsp_sim_result *r)
{
	struct gsp_scn_result sr = { 0 };
	struct gsp_sim_tsnap ts;
	bool traffic = gsp_sim_traffic_begin(s, &ts);

	gsp_sim_phase(s, GSP_GOAL_NONE, false);
	gsp_scn_window(&s->h, (uint64_t)(s->c.duration_s * NS_PER_S), &sr);
	r->t_start = sr.t_start;
	r->t_end = sr.t_end;
	r->ok = sr.ok;
	if (traffic)
		gsp_sim_traffic_end(s, &ts, r);
	gsp_sim_fp_log(s, "fp");
}

/* how many running nodes list node x as suspect or down, and as down:
 * read from their tables (O(N x table); the events keep it current) */
static void
gsp_sim_views_of(const struct gsp_sim *s, uint32_t x, uint32_t *bad,
		 uint32_t *down)
{
	uint8_t state;

	*bad = *down = 0;
	for (uint32_t i = 0; i < s->c.n_nodes; i++)
		if (gsp_sim_lists(s, i, x, &state)) {
			*bad += gsp_fp_bad(state);
			*down += state == GSP_STATE_DOWN;
		}
}

static void
gsp_sim_stall_run(struct gsp_sim *s, struct gsp_sim_result *r)
{
	struct gsp_sim_stall *st = &s->stall;
	struct gsp_scn_result sr = { 0 };
	const struct gsp_watch_det *d = &sr.det[0];
	uint32_t unused;

	gsp_sim_phase(s, GSP_GOAL_NONE, false);
	gsp_scn_stall(&s->h, (uint64_t)(s->c.stall_s * NS_PER_S),
		      (uint64_t)(s->c.after_s * NS_PER_S), &sr);
	r->stalled = sr.stalled;
	r->t_start = sr.t_start;
	r->t_end = sr.t_end;
	/* as others saw it (the harness's watch) */
	st->down_at_resume = sr.down_at_resume;
	st->suspect_t = d->first_suspect_ns;
	st->down_t = d->first_down_ns;
	st->down_all_t = s->w.down_all_ns[0];
	st->alive_t = sr.alive_again_t;
	st->n_bad = s->w.n_bad[0];
	st->n_down = s->w.n_down[0];
	r->ok = sr.ok;
	if (st->resumed)
		gsp_sim_views_of(s, sr.stalled, &st->views_bad_end, &unused);
	gsp_sim_log(s, "stall: node %u paused %.3f s: first suspect after "
		    "%.3f s, first down after %.3f s, %u/%u had it down at the "
		    "resume; %" PRIu64 " packets held, %" PRIu64 " dropped; %s "
		    "after %.3f s; it accused %" PRIu64 " live members (%"
		    PRIu64 " suspect, %" PRIu64 " down)", sr.stalled,
		    s->c.stall_s, d->first_suspect_s >= 0 ?
		    d->first_suspect_s : NAN, d->first_down_s >= 0 ?
		    d->first_down_s : NAN, st->down_at_resume, s->n_up - 1,
		    st->held, st->dropped, st->alive_t ? "alive everywhere" :
		    "NOT alive everywhere", st->alive_t ?
		    (double)(st->alive_t - st->t_resume) / NS_PER_S : NAN,
		    sr.resumed.pairs, sr.resumed.suspect, sr.resumed.down);
	gsp_sim_fp_log(s, "stall: others");
	r->stall = *st;
	r->stall.q = NULL;
	free(st->q);
	/* the node runs normally again: later scenarios track no stall */
	*st = (struct gsp_sim_stall){ .node = UINT32_MAX };
	gsp_watch_subjects(&s->w, NULL, 0);
}

static void
gsp_sim_cpuload(struct gsp_sim *s, struct gsp_sim_result *r)
{
	uint32_t n = s->c.n_nodes;
	uint32_t k = (uint32_t)(s->c.slow_frac * n + 0.5);
	uint32_t *perm = malloc(sizeof(*perm) * n);
	struct gsp_scn_result sr = { 0 };
	struct gsp_sim_tsnap ts;
	bool traffic;

	if (perm == NULL)
		return;
	/* k random nodes (partial Fisher-Yates) */
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = 0; i < k && i < n; i++) {
		uint32_t j = i + (uint32_t)gsp_sim_rand_below(&s->rng_scn,
							      n - i);
		uint32_t tmp = perm[i];

		perm[i] = perm[j];
		perm[j] = tmp;
		s->nodes[perm[i]].slow = true;
	}
	r->n_slow = s->n_slow = k;
	s->held_events = s->held_ns = 0;
	traffic = gsp_sim_traffic_begin(s, &ts);
	gsp_sim_phase(s, GSP_GOAL_NONE, false);
	gsp_scn_window(&s->h, (uint64_t)(s->c.duration_s * NS_PER_S), &sr);
	r->t_start = sr.t_start;
	r->t_end = sr.t_end;
	r->ok = sr.ok;
	if (traffic)
		gsp_sim_traffic_end(s, &ts, r);
	for (uint32_t i = 0; i < k && i < n; i++)
		s->nodes[perm[i]].slow = false;
	s->n_slow = 0;
	free(perm);
	gsp_sim_fp_log(s, "cpuload");
	gsp_sim_log(s, "cpuload: %u slow nodes (+0..%g ms per event): %"
		    PRIu64 " accusations of them, %" PRIu64 " by them", k,
		    s->c.slow_ms, s->fp_about_slow, s->fp_by_slow);
	gsp_fp_sum(&s->w.fp, s->now, &r->fp);
	r->fp_taken = true;
	r->awareness_max = gsp_sim_det_sum(s, &r->det);
	r->det_taken = true;
	if (!r->ok || s->wall_limited)
		return;
	/* the slow nodes are well again: until every node lists every
	 * member alive once more (a storm's accusations refuted
	 * everywhere) */
	gsp_sim_until(s, GSP_GOAL_ALIVE, &r->rejoin_ok, &r->rejoin_dt);
}

void
gsp_sim_scenario_run(struct gsp_sim *s, struct gsp_sim_result *r)
{
	struct gsp_node_counters det0;

	gsp_sim_det_sum(s, &det0);
	switch (s->c.scenario) {
	case GSP_SCN_FP:
		gsp_sim_fp_run(s, r);
		break;
	case GSP_SCN_STALL:
		gsp_sim_stall_run(s, r);
		break;
	case GSP_SCN_CPULOAD:
		gsp_sim_cpuload(s, r);
		break;
	case GSP_SCN_DISSEMINATE:
		gsp_sim_disseminate(s, r);
		break;
	case GSP_SCN_DETECT:
		gsp_sim_detect(s, r);
		break;
	case GSP_SCN_STEADY:
		gsp_sim_steady(s, r);
		break;
	case GSP_SCN_PARTITION:
		gsp_sim_partition(s, r);
		break;
	default:
		break;
	}
	/* over the scenario only (detect: its rejoin too; cpuload: its
	 * window, not its recovery) */
	if (!r->det_taken)
		r->awareness_max = gsp_sim_det_sum(s, &r->det);
	for (size_t k = 0; k < sizeof(det0) / sizeof(uint64_t); k++)
		((uint64_t *)&r->det)[k] -= ((const uint64_t *)&det0)[k];
}
