/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a phase waits for (a target view, the informed, the detected) and
 * the core's event seam (gsp_io_event): accusations of live members are
 * counted by the harness (harness/gsp_fp.h), a stalled node as others see
 * it here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_sim_int.h"

/* the stalled node as others see it: suspect/down times, alive again */
static void
gsp_sim_stall_seen(struct gsp_sim *s, bool was_bad, uint8_t new_state,
		   bool is_bad, bool was_down)
{
	struct gsp_sim_stall *st = &s->stall;
	bool is_down = new_state == GSP_STATE_DOWN && is_bad;

	st->n_bad += is_bad && !was_bad;
	st->n_bad -= was_bad && !is_bad && st->n_bad > 0;
	st->n_down += is_down && !was_down;
	st->n_down -= was_down && !is_down && st->n_down > 0;
	if (is_bad && st->suspect_t == 0)
		st->suspect_t = s->now;
	if (is_down && st->down_t == 0)
		st->down_t = s->now;
	/* every other node that runs (it does not see itself) */
	if (is_down && st->down_all_t == 0 && st->n_down + 1 >= s->n_up)
		st->down_all_t = s->now;
	if (st->resumed && st->n_bad == 0 && st->alive_t == 0)
		st->alive_t = s->now;
}

void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	struct gsp_sim_node *sn = io_ctx;
	bool was_bad, is_bad, was_down;
	struct gsp_sim *s;
	uint32_t m;

	if (sn == NULL)
		return;
	s = sn->sim;
	if (!gsp_fp_change_of(ev, &was_bad, &is_bad))
		return;
	was_down = ev->old_state == GSP_STATE_DOWN && ev->type != GSP_EV_JOINED;
	m = gsp_sim_node_of(s, ev->id);
	if (m == UINT32_MAX || m == sn->idx)
		return;
	if (m == s->crashed) {
		if (is_bad && s->first_suspect_t == 0)
			s->first_suspect_t = s->now;
		if (ev->new_state == GSP_STATE_DOWN && is_bad &&
		    !sn->detected && sn->up) {
			sn->detected = true;
			if (s->n_detected++ == 0)
				s->first_detect_t = s->now;
			gsp_sim_check_stop(s);
		}
		return;
	}
	if (m == s->stall.node) {
		gsp_sim_stall_seen(s, was_bad, ev->new_state, is_bad,
				   was_down);
		return;
	}
	if (!s->fp_active || !s->nodes[m].up)
		return;
	if (sn->idx == s->stall.node) {
		if (s->stall.resumed)
			gsp_fp_event(&s->fp_self, 0, m, ev, s->now);
		return;
	}
	/* across a partition, down is due */
	if (s->c.scenario == GSP_SCN_PARTITION && s->nodes[m].side != sn->side)
		return;
	if (gsp_fp_event(&s->fp, sn->idx, m, ev, s->now)) {
		s->fp_about_slow += s->nodes[m].slow;
		s->fp_by_slow += sn->slow;
	}
}

/* ------------------------------ phases -------------------------------- */

bool
gsp_sim_meets(const struct gsp_sim *s, const struct gsp_sim_node *sn,
	      const struct gsp_node_counters *c)
{
	uint32_t own;

	switch (s->want) {
	case GSP_SIM_WANT_ALL_ALIVE:
		/* a suspect is still a member (SWIM lists it until its
		 * suspicion runs out, and under loss most are refuted) */
		return c->alive + c->suspect == s->c.n_nodes;
	case GSP_SIM_WANT_SPLIT:
		own = s->side_size[sn->side];
		return c->alive + c->suspect == own &&
			c->down == s->c.n_nodes - own;
	default:
		return false;
	}
}

void
gsp_sim_set_ok(struct gsp_sim *s, struct gsp_sim_node *sn, bool ok)
{
	if (ok == sn->ok)
		return;
	sn->ok = ok;
	if (ok)
		s->n_ok++;
	else
		s->n_ok--;
}

/* a new target view: re-evaluate every node from its last round */
void
gsp_sim_set_want(struct gsp_sim *s, enum gsp_sim_want want)
{
	struct gsp_node_counters c;

	s->want = want;
	s->n_ok = 0;
	for (uint32_t i = 0; i < s->c.n_nodes; i++) {
		struct gsp_sim_node *sn = &s->nodes[i];

		sn->ok = false;
		if (!sn->up || want == GSP_SIM_WANT_NONE)
			continue;
		gsp_node_counters_read(sn->node, &c);
		gsp_sim_set_ok(s, sn, gsp_sim_meets(s, sn, &c));
	}
}

void
gsp_sim_curve_add(struct gsp_sim *s, uint64_t t, double frac)
{
	if (s->curve_n < s->curve_cap)
		s->curve[s->curve_n++] = (struct gsp_curve_point){
			gsp_sim_rel_s(s, t), frac };
}

double
gsp_sim_curve_frac(const struct gsp_sim *s)
{
	double up = s->n_up > 0 ? (double)s->n_up : 1.0;

	switch (s->curve_kind) {
	case GSP_SIM_CURVE_OK:
		return (double)s->n_ok / up;
	case GSP_SIM_CURVE_INFORMED:
		return (double)s->n_informed / up;
	case GSP_SIM_CURVE_DETECTED:
		return (double)s->n_detected / up;
	default:
		return 0;
	}
}

/* Starts a phase at s->now: per-round samples of `curve` from here on. */
void
gsp_sim_phase(struct gsp_sim *s, enum gsp_sim_stop stop_on,
	      enum gsp_sim_curve curve)
{
	s->stop_on = stop_on;
	s->stop = false;
	s->stop_t = 0;
	s->phase_t0 = s->now;
	s->curve_kind = curve;
	s->curve_n = 0;
	s->sample_epoch++;
	if (curve != GSP_SIM_CURVE_NONE) {
		gsp_sim_curve_add(s, s->now, gsp_sim_curve_frac(s));
		gsp_sim_heap_push(&s->heap, s->now + s->interval_ns,
				  GSP_SIM_EV_SAMPLE, 0, s->sample_epoch);
	}
}

void
gsp_sim_check_stop(struct gsp_sim *s)
{
	bool done = false;

	if (s->stop)
		return;
	switch (s->stop_on) {
	case GSP_SIM_STOP_OK:
		done = s->n_ok >= s->n_up;
		break;
	case GSP_SIM_STOP_INFORMED:
		done = s->n_informed >= s->n_up;
		break;
	case GSP_SIM_STOP_DETECTED:
		done = s->n_detected >= s->n_up;
		break;
	default:
		break;
	}
	if (done) {
		s->stop = true;
		s->stop_t = s->now;
		if (s->curve_kind != GSP_SIM_CURVE_NONE)
			gsp_sim_curve_add(s, s->now, 1.0);
	}
}

static bool
gsp_sim_app_ok(const struct gsp_member_view *v)
{
	for (uint8_t a = 0; a < v->app_count && a < GSP_APP_KEYS_MAX; a++)
		if (strcmp(v->app[a].key, GSP_SIM_APP_KEY) == 0)
			return strcmp(v->app[a].value, GSP_SIM_APP_VALUE) == 0;
	return false;
}

/* finds the origin's slot once per node, then re-reads only that slot */
void
gsp_sim_check_informed(struct gsp_sim *s, struct gsp_sim_node *sn)
{
	struct gsp_member_view v;
	uint32_t hw;

	if (sn->app_slot == UINT32_MAX ||
	    !gsp_node_member_read(sn->node, sn->app_slot, &v) ||
	    v.id != s->origin_id) {
		sn->app_slot = UINT32_MAX;
		hw = gsp_node_slot_count(sn->node);
		for (uint32_t slot = 0; slot < hw; slot++) {
			if (gsp_node_member_read(sn->node, slot, &v) &&
			    v.id == s->origin_id) {
				sn->app_slot = slot;
				break;
			}
		}
		if (sn->app_slot == UINT32_MAX)
			return;
	}
	if (gsp_sim_app_ok(&v)) {
		sn->informed = true;
		s->n_informed++;
		gsp_sim_check_stop(s);
	}
}
