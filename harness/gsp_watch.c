/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a scenario watches at every node (gsp_watch.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_record.h"
#include "gsp_watch.h"

#define GSP_WATCH_CURVE_MAX 200		/* points in a curve */
#define GSP_WATCH_NONE UINT32_MAX

static uint64_t
gsp_watch_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void
gsp_watch_quiesce(const struct gsp_watch *w)
{
	if (w->host->quiesce != NULL)
		w->host->quiesce(w->host->ctx);
}

int
gsp_watch_init(struct gsp_watch *w, const struct gsp_harness_host *host,
	       const uint64_t *ids)
{
	uint32_t n = host->n_nodes(host->ctx);
	int ret;

	memset(w, 0, sizeof(*w));
	w->host = host;
	w->n = n;
	w->members = host->n_members != NULL ? host->n_members(host->ctx) : n;
	if (w->members < n)
		w->members = n;
	w->node = aligned_alloc(64, sizeof(*w->node) * (n ? n : 1));
	w->sizes = calloc(w->members / 64 + 1, sizeof(uint64_t));
	if (w->node == NULL || w->sizes == NULL)
		goto nomem;
	memset(w->node, 0, sizeof(*w->node) * n);
	for (uint32_t i = 0; i < n; i++) {
		w->node[i].up = 1;
		w->node[i].origin_slot = GSP_WATCH_NONE;
	}
	w->n_up = n;
	ret = gsp_ids_build(&w->ids, ids, n);
	if (ret != 0) {
		gsp_watch_free(w);
		return ret;
	}
	if (gsp_fp_init(&w->fp_join, n, n) != 0 ||
	    gsp_fp_init(&w->fp, n, n) != 0 ||
	    gsp_fp_init(&w->fp_resumed, 1, n) != 0)
		goto nomem;
	return 0;
nomem:
	gsp_watch_free(w);
	return -ENOMEM;
}

void
gsp_watch_free(struct gsp_watch *w)
{
	free(w->node);
	free(w->sizes);
	gsp_ids_free(&w->ids);
	gsp_fp_free(&w->fp_join);
	gsp_fp_free(&w->fp);
	gsp_fp_free(&w->fp_resumed);
	w->node = NULL;
	w->sizes = NULL;
}

size_t
gsp_watch_bytes(uint32_t n)
{
	return (size_t)n * (sizeof(struct gsp_watch_node) + 12) +
		2 * gsp_fp_bytes(n, n) + gsp_fp_bytes(1, n);
}

/* a goal each node meets or not by its counters, checked at its rounds */
static bool
gsp_goal_by_counters(uint32_t goal)
{
	return goal == GSP_GOAL_LISTED || goal == GSP_GOAL_SPLIT ||
		goal == GSP_GOAL_ALIVE;
}

/* does node i meet the goal, by its counters */
static bool
gsp_watch_meets(const struct gsp_watch *w, uint32_t i,
		const struct gsp_node_counters *c)
{
	uint32_t own;

	switch (w->goal) {
	case GSP_GOAL_LISTED:
		/* a suspect is still a member (SWIM lists it until its
		 * suspicion runs out, and under loss most are refuted) */
		return c->alive + c->suspect == w->members;
	case GSP_GOAL_SPLIT:
		own = w->side_size[w->node[i].side];
		return c->alive + c->suspect == own && c->down == w->n - own;
	case GSP_GOAL_ALIVE:
		return c->alive == w->members;
	default:
		return false;
	}
}

/* node i meets the goal now, or no longer; the first time is kept */
static void
gsp_watch_set_ok(struct gsp_watch *w, uint32_t i, bool ok, uint64_t now,
		 uint64_t rounds)
{
	struct gsp_watch_node *wn = &w->node[i];
	uint32_t n_ok;

	if (ok == wn->ok)
		return;
	wn->ok = ok;
	if (!wn->up)
		return;
	if (!ok) {
		__atomic_fetch_sub(&w->n_ok, 1, __ATOMIC_RELAXED);
		return;
	}
	if (wn->reached_ns == 0) {
		__atomic_store_n(&wn->reached_rounds, rounds, __ATOMIC_RELAXED);
		__atomic_store_n(&wn->reached_ns, now, __ATOMIC_RELEASE);
	}
	n_ok = __atomic_add_fetch(&w->n_ok, 1, __ATOMIC_ACQ_REL);
	/* the node that completes the set stamps it */
	if (n_ok >= __atomic_load_n(&w->n_up, __ATOMIC_ACQUIRE) &&
	    gsp_watch_load(&w->done_ns) == 0)
		__atomic_store_n(&w->done_ns, now, __ATOMIC_RELEASE);
}

void
gsp_watch_phase(struct gsp_watch *w, enum gsp_goal goal, uint64_t now)
{
	struct gsp_node_counters c;

	/* no hook may still work for the old goal while counts are reset */
	__atomic_store_n(&w->goal, GSP_GOAL_NONE, __ATOMIC_RELEASE);
	gsp_watch_quiesce(w);
	w->n_ok = 0;
	w->done_ns = 0;
	w->phase_ns = now;
	for (uint32_t i = 0; i < w->n; i++) {
		w->node[i].ok = 0;
		w->node[i].reached_ns = 0;
		w->node[i].reached_rounds = 0;
	}
	__atomic_store_n(&w->goal, goal, __ATOMIC_RELEASE);
	if (!gsp_goal_by_counters(goal))
		return;
	/* from every node's last round */
	for (uint32_t i = 0; i < w->n; i++) {
		if (!w->node[i].up)
			continue;
		w->host->counters(w->host->ctx, i, &c);
		if (gsp_watch_meets(w, i, &c))
			gsp_watch_set_ok(w, i, true, now, c.rounds);
	}
}

bool
gsp_watch_done(const struct gsp_watch *w)
{
	return gsp_watch_load(&w->done_ns) != 0;
}

uint32_t
gsp_watch_ok(const struct gsp_watch *w)
{
	return __atomic_load_n(&w->n_ok, __ATOMIC_ACQUIRE);
}

uint32_t
gsp_watch_up(const struct gsp_watch *w)
{
	return __atomic_load_n(&w->n_up, __ATOMIC_ACQUIRE);
}

void
gsp_watch_set_up(struct gsp_watch *w, uint32_t i, bool up)
{
	struct gsp_watch_node *wn = &w->node[i];

	if (i >= w->n || wn->up == up)
		return;
	wn->up = up;
	if (up) {
		__atomic_fetch_add(&w->n_up, 1, __ATOMIC_RELEASE);
		if (wn->ok)
			__atomic_fetch_add(&w->n_ok, 1, __ATOMIC_RELEASE);
		return;
	}
	if (wn->ok)
		__atomic_fetch_sub(&w->n_ok, 1, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&w->n_up, 1, __ATOMIC_RELEASE);
}

void
gsp_watch_sides(struct gsp_watch *w, const uint8_t *side)
{
	w->split = side != NULL;
	w->side_size[0] = w->side_size[1] = 0;
	for (uint32_t i = 0; i < w->n; i++) {
		w->node[i].side = side != NULL ? side[i] & 1 : 0;
		w->side_size[w->node[i].side]++;
	}
}

void
gsp_watch_subjects(struct gsp_watch *w, const uint32_t *idx, uint32_t n)
{
	uint32_t old = __atomic_load_n(&w->n_subj, __ATOMIC_ACQUIRE);

	/* the previous ones count again; the host says which are down */
	__atomic_store_n(&w->n_subj, 0, __ATOMIC_RELEASE);
	gsp_watch_quiesce(w);
	for (uint32_t k = 0; k < old; k++)
		gsp_watch_set_up(w, w->subj[k], true);
	if (n > GSP_WATCH_SUBJECTS_MAX)
		n = GSP_WATCH_SUBJECTS_MAX;
	for (uint32_t k = 0; k < n; k++) {
		w->subj[k] = idx[k];
		w->subj_t0[k] = 0;
		w->n_bad[k] = w->n_down[k] = 0;
		w->down_all_ns[k] = 0;
		for (uint32_t i = 0; i < w->n; i++) {
			struct gsp_watch_node *wn = &w->node[i];

			wn->suspect_ns[k] = wn->down_ns[k] = 0;
			wn->bad[k] = wn->is_down[k] = 0;
		}
		/* a subject observes no one that counts */
		gsp_watch_set_up(w, idx[k], false);
	}
	w->resumed_ns = w->alive_again_ns = 0;
	w->late_marks = 0;
	__atomic_store_n(&w->n_subj, n, __ATOMIC_RELEASE);
}

void
gsp_watch_subject_down(struct gsp_watch *w, uint32_t k, uint64_t now)
{
	if (k < GSP_WATCH_SUBJECTS_MAX)
		__atomic_store_n(&w->subj_t0[k], now, __ATOMIC_RELEASE);
}

uint32_t
gsp_watch_subject_of(const struct gsp_watch *w, uint32_t i)
{
	uint32_t n_subj = __atomic_load_n(&w->n_subj, __ATOMIC_ACQUIRE);

	for (uint32_t k = 0; k < n_subj; k++)
		if (w->subj[k] == i)
			return k;
	return GSP_WATCH_NONE;
}

void
gsp_watch_resumed(struct gsp_watch *w, uint64_t now)
{
	__atomic_store_n(&w->resumed_ns, now, __ATOMIC_RELEASE);
	if (__atomic_load_n(&w->n_bad[0], __ATOMIC_ACQUIRE) == 0)
		__atomic_store_n(&w->alive_again_ns, now, __ATOMIC_RELEASE);
}

bool
gsp_watch_all_accuse(const struct gsp_watch *w, uint32_t k)
{
	return __atomic_load_n(&w->n_down[k], __ATOMIC_ACQUIRE) >=
		gsp_watch_up(w);
}

void
gsp_watch_app(struct gsp_watch *w, uint64_t origin_id, const char *key,
	      const char *value)
{
	w->origin_id = origin_id;
	snprintf(w->app_key, sizeof(w->app_key), "%s", key);
	snprintf(w->app_value, sizeof(w->app_value), "%s", value);
	for (uint32_t i = 0; i < w->n; i++)
		w->node[i].origin_slot = GSP_WATCH_NONE;
}

void
gsp_watch_window(struct gsp_watch *w, uint64_t now, bool reset)
{
	if (reset)
		gsp_fp_reset(&w->fp, now);
	__atomic_store_n(&w->in_window, true, __ATOMIC_RELEASE);
}

bool
gsp_watch_wants_rounds(const struct gsp_watch *w)
{
	uint32_t goal = __atomic_load_n(&w->goal, __ATOMIC_RELAXED);

	return gsp_goal_by_counters(goal) ||
		!__atomic_load_n(&w->in_window, __ATOMIC_RELAXED);
}

void
gsp_watch_round(struct gsp_watch *w, uint32_t i, uint64_t now,
		const struct gsp_node_counters *c)
{
	uint32_t goal = __atomic_load_n(&w->goal, __ATOMIC_ACQUIRE);
	struct gsp_watch_node *wn = &w->node[i];
	uint32_t listed = c->alive <= w->members ? (uint32_t)c->alive :
		w->members;

	if (!__atomic_load_n(&w->in_window, __ATOMIC_RELAXED) &&
	    listed != wn->last_listed) {
		wn->last_listed = listed;
		__atomic_fetch_or(&w->sizes[listed / 64],
				  1ull << (listed % 64), __ATOMIC_RELAXED);
	}
	if (gsp_goal_by_counters(goal))
		gsp_watch_set_ok(w, i, gsp_watch_meets(w, i, c), now,
				 c->rounds);
}

static bool
gsp_watch_app_seen(const struct gsp_watch *w, const struct gsp_member_view *v)
{
	for (uint8_t a = 0; a < v->app_count && a < GSP_APP_KEYS_MAX; a++)
		if (strcmp(v->app[a].key, w->app_key) == 0)
			return strcmp(v->app[a].value, w->app_value) == 0;
	return false;
}

void
gsp_watch_informed(struct gsp_watch *w, uint32_t i, uint64_t now,
		   const struct gsp_node *node)
{
	struct gsp_watch_node *wn = &w->node[i];
	struct gsp_member_view v;
	uint32_t hw;

	if (__atomic_load_n(&w->goal, __ATOMIC_ACQUIRE) != GSP_GOAL_INFORMED ||
	    wn->ok)
		return;
	/* the origin's slot, found once (it moves only if forgotten) */
	if (wn->origin_slot == GSP_WATCH_NONE ||
	    !gsp_node_member_read(node, wn->origin_slot, &v) ||
	    v.id != w->origin_id) {
		wn->origin_slot = GSP_WATCH_NONE;
		hw = gsp_node_slot_count(node);
		for (uint32_t slot = 0; slot < hw; slot++)
			if (gsp_node_member_read(node, slot, &v) &&
			    v.id == w->origin_id) {
				wn->origin_slot = slot;
				break;
			}
		if (wn->origin_slot == GSP_WATCH_NONE)
			return;
	}
	if (gsp_watch_app_seen(w, &v))
		gsp_watch_set_ok(w, i, true, now, 0);
}

void
gsp_watch_subject_view(struct gsp_watch *w, uint32_t i, uint32_t k,
		       uint8_t state)
{
	struct gsp_watch_node *wn = &w->node[i];
	bool bad = gsp_fp_bad(state), down = state == GSP_STATE_DOWN;

	if (bad && !wn->bad[k])
		__atomic_fetch_add(&w->n_bad[k], 1, __ATOMIC_RELEASE);
	if (down && !wn->is_down[k])
		__atomic_fetch_add(&w->n_down[k], 1, __ATOMIC_RELEASE);
	wn->bad[k] |= bad;
	wn->is_down[k] |= down;
}

/* observer i's view of subject k changed */
static void
gsp_watch_subject_seen(struct gsp_watch *w, uint32_t i, uint32_t k,
		       const struct gsp_event *ev, bool is_bad, uint64_t now)
{
	struct gsp_watch_node *wn = &w->node[i];
	bool down = is_bad && ev->new_state == GSP_STATE_DOWN;
	uint64_t t0 = gsp_watch_load(&w->subj_t0[k]);
	uint32_t n_subj, all;

	if (is_bad != wn->bad[k]) {
		wn->bad[k] = is_bad;
		if (is_bad)
			__atomic_fetch_add(&w->n_bad[k], 1, __ATOMIC_RELEASE);
		else if (__atomic_sub_fetch(&w->n_bad[k], 1,
					    __ATOMIC_ACQ_REL) == 0 && k == 0 &&
			 gsp_watch_load(&w->resumed_ns) != 0 &&
			 gsp_watch_load(&w->alive_again_ns) == 0)
			__atomic_store_n(&w->alive_again_ns, now,
					 __ATOMIC_RELEASE);
	}
	if (down != wn->is_down[k]) {
		wn->is_down[k] = down;
		if (down)
			__atomic_fetch_add(&w->n_down[k], 1, __ATOMIC_RELEASE);
		else
			__atomic_fetch_sub(&w->n_down[k], 1, __ATOMIC_RELEASE);
	}
	if (t0 == 0 || !is_bad)
		return;
	if (down && gsp_watch_all_accuse(w, k) &&
	    gsp_watch_load(&w->down_all_ns[k]) == 0)
		__atomic_store_n(&w->down_all_ns[k], now, __ATOMIC_RELEASE);
	if (k == 0 && gsp_watch_load(&w->resumed_ns) != 0)
		__atomic_fetch_add(&w->late_marks, 1, __ATOMIC_RELAXED);
	if (wn->suspect_ns[k] == 0)
		__atomic_store_n(&wn->suspect_ns[k], now, __ATOMIC_RELEASE);
	if (!down || wn->down_ns[k] != 0)
		return;
	__atomic_store_n(&wn->down_ns[k], now, __ATOMIC_RELEASE);
	if (__atomic_load_n(&w->goal, __ATOMIC_ACQUIRE) != GSP_GOAL_DETECTED)
		return;
	/* detected: every subject down here, once */
	n_subj = __atomic_load_n(&w->n_subj, __ATOMIC_ACQUIRE);
	for (all = 0; all < n_subj; all++)
		if (wn->down_ns[all] == 0)
			return;
	gsp_watch_set_ok(w, i, true, now, 0);
}

uint32_t
gsp_watch_event(struct gsp_watch *w, uint32_t i, const struct gsp_event *ev,
		uint64_t now)
{
	uint32_t n_subj = __atomic_load_n(&w->n_subj, __ATOMIC_ACQUIRE);
	bool was_bad, is_bad, stalled, counted;
	uint64_t resumed;
	uint32_t m, k;

	if (!gsp_fp_change_of(ev, &was_bad, &is_bad))
		return GSP_WATCH_NONE;
	m = gsp_ids_node(&w->ids, ev->id);
	if (m == GSP_WATCH_NONE || m == i)
		return GSP_WATCH_NONE;
	for (k = 0; k < n_subj; k++)
		if (w->subj[k] == m)
			break;
	if (k < n_subj) {
		gsp_watch_subject_seen(w, i, k, ev, is_bad, now);
		/* a subject counts once it is down for real; before, live */
		if (gsp_watch_load(&w->subj_t0[k]) != 0)
			return GSP_WATCH_NONE;
	} else if (!w->node[m].up) {
		return GSP_WATCH_NONE;	/* crashed: down is due */
	}
	/* the stalled subject's own verdicts count apart, once it runs */
	stalled = n_subj > 0 && i == w->subj[0] &&
		gsp_watch_load(&w->subj_t0[0]) != 0;
	if (stalled || !w->node[i].up) {
		resumed = gsp_watch_load(&w->resumed_ns);
		if (stalled && resumed != 0 && now >= resumed)
			gsp_fp_event(&w->fp_resumed, 0, m, ev, now);
		return GSP_WATCH_NONE;
	}
	/* across a partition, down is due */
	if (w->split && w->node[m].side != w->node[i].side)
		return GSP_WATCH_NONE;
	counted = gsp_fp_event(__atomic_load_n(&w->in_window,
			       __ATOMIC_ACQUIRE) ? &w->fp : &w->fp_join, i,
			       m, ev, now);
	return counted ? m : GSP_WATCH_NONE;
}

json_t *
gsp_watch_curve(const struct gsp_watch *w, uint64_t t0, uint32_t of)
{
	uint64_t *t = calloc(w->n ? w->n : 1, sizeof(*t));
	json_t *a;

	if (t == NULL)
		return NULL;
	for (uint32_t i = 0; i < w->n; i++)
		t[i] = gsp_watch_load(&w->node[i].reached_ns);
	a = gsp_record_curve_array(t, w->n, t0, of, GSP_WATCH_CURVE_MAX);
	free(t);
	return a;
}

uint32_t
gsp_watch_distinct_sizes(const struct gsp_watch *w)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < w->members / 64 + 1; k++)
		n += (uint32_t)__builtin_popcountll(
			__atomic_load_n(&w->sizes[k], __ATOMIC_RELAXED));
	return n;
}

void
gsp_watch_detection(const struct gsp_watch *w, uint32_t k,
		    struct gsp_watch_det *d)
{
	uint64_t t0 = gsp_watch_load(&w->subj_t0[k]);
	struct gsp_times s, t;

	gsp_times_scan(&s, &w->node[0].suspect_ns[k], sizeof(*w->node),
		       w->n, w->subj[k]);
	gsp_times_scan(&t, &w->node[0].down_ns[k], sizeof(*w->node),
		       w->n, w->subj[k]);
	d->idx = w->subj[k];
	d->observers = gsp_watch_up(w);
	d->suspected_by = s.count;
	d->down_by = t.count;
	d->first_suspect_ns = s.min_ns;
	d->first_down_ns = t.min_ns;
	d->first_suspect_s = gsp_span_s(s.min_ns, t0);
	d->first_down_s = gsp_span_s(t.min_ns, t0);
	d->all_suspect_s = s.count >= d->observers ?
		gsp_span_s(s.max_ns, t0) : -1;
	d->all_down_s = t.count >= d->observers ?
		gsp_span_s(t.max_ns, t0) : -1;
}
