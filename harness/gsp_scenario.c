/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scenarios, once for both hosts (gsp_scenario.h).
 */
#include <stdio.h>
#include <string.h>

#include "gsp_scenario.h"

static uint64_t
gsp_scn_now(const struct gsp_harness *h)
{
	return h->host->now_ns(h->host->ctx);
}

static uint64_t
gsp_scn_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

void
gsp_scn_join(const struct gsp_harness *h, uint64_t t0, uint64_t deadline,
	     struct gsp_scn_result *r)
{
	const struct gsp_harness_host *host = h->host;
	struct gsp_watch *w = h->w;

	if (__atomic_load_n(&w->goal, __ATOMIC_ACQUIRE) != GSP_GOAL_LISTED)
		gsp_watch_phase(w, GSP_GOAL_LISTED, t0);
	r->t_start = t0;
	r->ok = host->run(host->ctx, deadline, true);
	r->t_end = r->ok ? gsp_scn_load(&w->done_ns) : gsp_scn_now(h);
	if (!r->ok)
		r->why = host->halted(host->ctx) ? "interrupted" : "join";
	for (uint32_t i = 0; i < w->n; i++)
		if (w->node[i].reached_rounds > r->join_rounds)
			r->join_rounds = w->node[i].reached_rounds;
	r->distinct_sizes = gsp_watch_distinct_sizes(w);
	gsp_fp_sum(&w->fp_join, gsp_scn_now(h), &r->join_fp);
	r->curve = gsp_watch_curve(w, t0, w->n);
}

void
gsp_scn_disseminate(const struct gsp_harness *h, const char *key,
		    const char *value, uint64_t deadline,
		    struct gsp_scn_result *r)
{
	const struct gsp_harness_host *host = h->host;
	struct gsp_watch *w = h->w;
	uint32_t o = host->pick(host->ctx, GSP_PICK_ORIGIN, 0);

	r->origin = o;
	gsp_watch_app(w, gsp_ids_id_of(&w->ids, o), key, value);
	gsp_watch_phase(w, GSP_GOAL_INFORMED, gsp_scn_now(h));
	if (host->set_app(host->ctx, o, key, value, &r->t_start) != 0) {
		r->why = "the change could not be made";
		r->t_start = r->t_end = gsp_scn_now(h);
		return;
	}
	r->ok = host->run(host->ctx, deadline, true);
	r->t_end = r->ok ? gsp_scn_load(&w->done_ns) : gsp_scn_now(h);
	if (!r->ok)
		r->why = "disseminate";
	r->curve = gsp_watch_curve(w, r->t_start, gsp_watch_up(w));
	gsp_watch_phase(w, GSP_GOAL_NONE, r->t_end);
}

void
gsp_scn_detect(const struct gsp_harness *h, uint32_t k, uint64_t deadline,
	       struct gsp_scn_result *r)
{
	const struct gsp_harness_host *host = h->host;
	struct gsp_watch *w = h->w;
	uint32_t idx[GSP_WATCH_SUBJECTS_MAX] = { 0 };

	if (k > GSP_WATCH_SUBJECTS_MAX)
		k = GSP_WATCH_SUBJECTS_MAX;
	for (uint32_t j = 0; j < k; j++)
		idx[j] = host->pick(host->ctx, GSP_PICK_CRASH, j);
	gsp_watch_subjects(w, idx, k);
	r->t_start = gsp_scn_now(h);
	/* before the crashes: the first verdicts count */
	gsp_watch_phase(w, GSP_GOAL_DETECTED, r->t_start);
	for (uint32_t j = 0; j < k; j++)
		if (host->crash(host->ctx, idx[j]) != 0) {
			r->why = "a crash could not be made";
			r->t_end = r->t_start;
			return;
		}
	r->ok = host->run(host->ctx, deadline, true);
	r->t_end = r->ok ? gsp_scn_load(&w->done_ns) : gsp_scn_now(h);
	if (!r->ok)
		r->why = "detect";
	r->n_det = k;
	for (uint32_t j = 0; j < k; j++)
		gsp_watch_detection(w, j, &r->det[j]);
	r->curve = gsp_watch_curve(w, gsp_scn_load(&w->subj_t0[0]),
				   gsp_watch_up(w));
	gsp_watch_phase(w, GSP_GOAL_NONE, r->t_end);
}

void
gsp_scn_stall(const struct gsp_harness *h, uint64_t stall_ns,
	      uint64_t after_ns, struct gsp_scn_result *r)
{
	const struct gsp_harness_host *host = h->host;
	struct gsp_watch *w = h->w;
	uint32_t x = host->pick(host->ctx, GSP_PICK_STALL, 0);
	uint64_t back = stall_ns - (host->resume_early_ns < stall_ns ?
				    host->resume_early_ns : stall_ns);

	r->stalled = x;
	r->t_start = gsp_scn_now(h);
	gsp_watch_subjects(w, &x, 1);
	if (host->pause(host->ctx, x, true) != 0) {
		r->why = "the stop could not be made";
		r->t_end = gsp_scn_now(h);
		return;
	}
	r->t_pause = gsp_scn_load(&w->subj_t0[0]);
	host->run(host->ctx, r->t_pause + back, false);
	if (host->halted(host->ctx)) {
		r->why = "interrupted";
		goto out;
	}
	r->down_at_resume = __atomic_load_n(&w->n_down[0], __ATOMIC_ACQUIRE);
	if (host->pause(host->ctx, x, false) != 0) {
		r->why = "the resume could not be made";
		goto out;
	}
	r->t_resume = gsp_scn_load(&w->resumed_ns);
	host->run(host->ctx, gsp_scn_now(h) + after_ns, false);
	r->alive_again_t = gsp_scn_load(&w->alive_again_ns);
	r->ok = r->alive_again_t != 0 && !host->halted(host->ctx);
	if (!r->ok)
		r->why = "the stopped node not alive again everywhere";
out:
	r->t_end = gsp_scn_now(h);
	r->n_det = 1;
	gsp_watch_detection(w, 0, &r->det[0]);
	gsp_fp_sum(&w->fp_resumed, r->t_end, &r->resumed);
}

void
gsp_scn_window(const struct gsp_harness *h, uint64_t duration_ns,
	       struct gsp_scn_result *r)
{
	const struct gsp_harness_host *host = h->host;

	r->t_start = gsp_scn_now(h);
	host->run(host->ctx, r->t_start + duration_ns, false);
	r->t_end = gsp_scn_now(h);
	r->ok = !host->halted(host->ctx);
	if (!r->ok)
		r->why = "interrupted";
}
