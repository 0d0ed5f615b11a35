/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rounds: each gossip interval our heartbeat, the detector sweep and
 * exchanges with `fanout` peers picked at random; gsp_node_tick runs
 * them and SWIM's timers.
 */
#include <string.h>

#include "gsp_util.h"

#include "gsp_member.h"
#include "gsp_node_int.h"

static void
gsp_scan_pick(struct gsp_node *n, uint32_t *pick, uint32_t seen, uint32_t k,
	      uint32_t slot)
{
	if (seen <= k) {
		pick[seen - 1] = slot;
	} else {
		uint32_t r = gsp_rand_below(&n->rng, seen);

		if (r < k)
			pick[r] = slot;
	}
}

static bool
gsp_pick_ok(struct gsp_node *n, uint32_t slot, bool down,
	    const uint32_t *picked, uint32_t n_picked)
{
	const struct gsp_member_rec *r;

	if (!gsp_table_has(n->table, slot) || slot == n->self_slot)
		return false;
	r = gsp_rec(n, slot);
	if (down ? r->state != GSP_STATE_DOWN :
	    r->state != GSP_STATE_ALIVE && r->state != GSP_STATE_SUSPECT)
		return false;
	for (uint32_t i = 0; i < n_picked; i++)
		if (picked[i] == slot)
			return false;
	return true;
}

/*
 * Up to k random live peers and one random down member: reservoir
 * sampling over a small table, random probes into a large one (where live
 * members are most slots, so a few probes suffice).
 */
void
gsp_pick_peers(struct gsp_node *n, uint32_t k, struct gsp_scan *s)
{
	uint32_t hw = gsp_table_slot_count(n->table);
	uint32_t self_live = n->leaving ? 0 : 1;

	memset(s, 0, sizeof(*s));
	s->n_live = n->cnt[GSP_STATE_ALIVE] + n->cnt[GSP_STATE_SUSPECT] -
		self_live;
	s->n_down = n->cnt[GSP_STATE_DOWN];
	if (hw <= GSP_SWEEP_MIN) {
		uint32_t seen_live = 0, seen_down = 0;

		for (uint32_t slot = 0; slot < hw; slot++) {
			if (gsp_pick_ok(n, slot, false, NULL, 0))
				gsp_scan_pick(n, s->live, ++seen_live, k, slot);
			else if (gsp_pick_ok(n, slot, true, NULL, 0))
				gsp_scan_pick(n, &s->down, ++seen_down, 1, slot);
		}
		s->n_picked = seen_live < k ? seen_live : k;
		if (seen_down == 0)
			s->n_down = 0;
		return;
	}
	for (uint32_t t = 0; t < GSP_PICK_TRIES && s->n_picked < k &&
	     s->n_picked < s->n_live; t++) {
		uint32_t slot = gsp_table_random(n->table, &n->rng);

		if (slot != GSP_NONE &&
		    gsp_pick_ok(n, slot, false, s->live, s->n_picked))
			s->live[s->n_picked++] = slot;
	}
	s->down = GSP_NONE;
	for (uint32_t t = 0; s->n_down != 0 && t < GSP_PICK_TRIES; t++) {
		uint32_t slot = gsp_table_random(n->table, &n->rng);

		if (slot != GSP_NONE && gsp_pick_ok(n, slot, true, NULL, 0)) {
			s->down = slot;
			break;
		}
	}
	if (s->down == GSP_NONE)
		s->n_down = 0;
}

/* A SYN window and our news to one peer; returns the next window start. */
static uint32_t
gsp_gossip_to(struct gsp_node *n, const struct gsp_addr *dst,
	      const struct gsp_member_rec *r, uint32_t window)
{
	window = gsp_send_window(n, dst, window);
	gsp_rumor_push(n, dst, gsp_wire_for(n, r));
	return window;
}

/* A member at dst, NULL when none: linear, for the rare seed contact
 * (about `seeds` slots looked at per round, amortized). */
static const struct gsp_member_rec *
gsp_member_at(struct gsp_node *n, const struct gsp_addr *dst)
{
	uint32_t hw = gsp_table_slot_count(n->table);

	for (uint32_t slot = 0; slot < hw; slot++) {
		struct gsp_addr a = gsp_slot_addr(n, slot);

		if (gsp_table_has(n->table, slot) && gsp_addr_eq(&a, dst))
			return gsp_rec(n, slot);
	}
	return NULL;
}

/* News, and a sync (a SUM: version 3 only) when our view moved and the
 * peer is known to speak 3; otherwise a window of digests, as before. */
static uint32_t
gsp_hash_gossip_to(struct gsp_node *n, const struct gsp_addr *dst,
		   const struct gsp_member_rec *r, bool flux, uint32_t window)
{
	if (r == NULL || r->wire < 3)
		return gsp_gossip_to(n, dst, r, window);
	gsp_rumor_push(n, dst, gsp_wire_for(n, r));
	if (flux)
		gsp_sync_start(n, dst);
	return window;
}

static void
gsp_gossip_round(struct gsp_node *n, uint64_t now_ns)
{
	uint32_t k = n->p.fanout, chosen, window = n->syn_cursor;
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	unsigned int n_seeds = 0;
	bool seed_chosen = false, hashes = gsp_hash_sync(n), flux;
	struct gsp_scan s;

	/* our view moved by what rumors do not carry: news the ring gave
	 * up or never took (gsp_merge), or news taken as carried while
	 * more rumors live than one PUSH holds */
	if (n->sync_root != n->round_root ||
	    (n->rumors_overflow && n->ctr.rounds <= n->carried_until)) {
		n->round_root = n->sync_root;
		n->flux_rounds = GSP_FLUX_ROUNDS;
	}
	n->rumors_overflow = false;
	flux = n->flux_rounds > 0;
	if (flux)
		n->flux_rounds--;

	gsp_fd_sweep(n, now_ns);
	gsp_pick_peers(n, k, &s);
	gsp_rumor_expire(n);
	chosen = s.n_picked;

	for (unsigned int i = 0; i < n->n_seeds; i++)
		if (!gsp_addr_eq(&n->seeds[i], &n->p.addr))
			seeds[n_seeds++] = n->seeds[i];

	/* each peer gets the next window, so a round covers fanout windows
	 * (or, syncing by hashes, our news, and a sync while in flux) */
	for (uint32_t i = 0; i < chosen; i++) {
		struct gsp_addr a = gsp_slot_addr(n, s.live[i]);

		for (unsigned int j = 0; j < n_seeds; j++)
			seed_chosen |= gsp_addr_eq(&a, &seeds[j]);
		if (hashes)
			window = gsp_hash_gossip_to(n, &a, gsp_rec(n, s.live[i]),
						    flux, window);
		else
			window = gsp_gossip_to(n, &a, gsp_rec(n, s.live[i]),
					       window);
	}
	/* gossip to the dead now and then, so a healed node is found: one
	 * that speaks 3 is told it is down, and refutes if it lives */
	if (s.n_down > 0 &&
	    gsp_rand_below(&n->rng, s.n_live + s.n_down + 1) < s.n_down) {
		struct gsp_addr a = gsp_slot_addr(n, s.down);

		if (hashes && gsp_rec(n, s.down)->wire >= 3)
			gsp_swim_tell_down(n, s.down, &a);
		else
			window = gsp_gossip_to(n, &a, gsp_rec(n, s.down),
					       window);
	}
	if (n_seeds != 0 && s.n_live == 0) {
		/* alone: knock on a few seeds until one answers */
		for (unsigned int j = 0; j < GSP_ALONE_SEEDS && j < n_seeds; j++) {
			uint32_t pick = gsp_rand_below(&n->rng, n_seeds - j) + j;
			struct gsp_addr t = seeds[pick];

			seeds[pick] = seeds[j];
			seeds[j] = t;
			window = gsp_gossip_to(n, &seeds[j], NULL, window);
			GSP_CTR_INC(n->ctr.seed_contacts);
		}
	} else if (n_seeds != 0 && !seed_chosen &&
		   gsp_rand_below(&n->rng, s.n_live + s.n_down) < n_seeds) {
		struct gsp_addr *a = &seeds[gsp_rand_below(&n->rng, n_seeds)];

		if (hashes)
			window = gsp_hash_gossip_to(n, a, gsp_member_at(n, a),
						    true, window);
		else
			window = gsp_gossip_to(n, a, NULL, window);
		GSP_CTR_INC(n->ctr.seed_contacts);
	}
	n->syn_cursor = window;
}

static void
gsp_round_tick(struct gsp_node *n, uint64_t now_ns)
{
	uint64_t interval = n->p.gossip_interval_ns;
	/* We were stalled (descheduled, stopped): the silence of our peers
	 * during our own pause is no evidence against them. */
	if (n->started && now_ns - n->last_round_ns > 5 * interval)
		gsp_pause_add(n, now_ns, now_ns - n->last_round_ns - interval);
	if (n->started) {
		double late = (double)(now_ns - n->last_round_ns) / interval;

		late = late < 1.0 ? 1.0 : late > 5.0 ? 5.0 : late;
		n->lateness = 0.75 * n->lateness + 0.25 * late;
	}
	n->started = true;
	n->last_round_ns = now_ns;
	n->next_round_ns += interval;
	if (n->next_round_ns <= now_ns)
		n->next_round_ns = now_ns + interval;

	GSP_CTR_INC(n->ctr.rounds);
	/* Our heartbeat counts our rounds. It makes a new version (a state
	 * every peer must fetch again) only where gossiped heartbeats are a
	 * detector's input: phi without SWIM, or a live peer that speaks
	 * version 2 (its phi reads them). Otherwise our probes carry it
	 * (docs/PROTOCOL.md "Heartbeats"), and a state changes only when
	 * something real does. */
	if (!n->leaving) {
		struct gsp_member_rec *r = gsp_rec(n, n->self_slot);
		bool publish = n->swim == NULL || n->proto < 3 ||
			n->legacy_live > 0;

		n->heartbeat++;
		if (publish) {
			n->version++;
			gsp_sync_toggle(n, n->self_slot);
		}
		gsp_table_write_begin(r);
		r->heartbeat = n->heartbeat;
		if (publish)
			r->version = n->version;
		r->heard = gsp_heard_of(now_ns);
		gsp_table_write_end(r);
		if (publish)
			gsp_sync_toggle(n, n->self_slot);
	}
	gsp_gossip_round(n, now_ns);
	if (n->leaving && n->leave_rounds_left > 0 &&
	    --n->leave_rounds_left == 0)
		n->leave_done = true;
}

/* The next deadline as the last tick or rx left it; reads only. An
 * adapter that asks after frames came wakes for nothing less often. */
uint64_t
gsp_node_next_deadline(const struct gsp_node *n)
{
	uint64_t next = n->next_round_ns;

	if (!n->started)
		return 0;
	if (n->swim != NULL) {
		uint64_t t = gsp_swim_next(n);

		if (t < next)
			next = t;
	}
	return next;
}

uint64_t
gsp_node_tick(struct gsp_node *n, uint64_t now_ns)
{
	uint64_t next;

	if (!n->started)
		gsp_generation_clock_start(n, now_ns);
	if (!n->started || now_ns >= n->next_round_ns)
		gsp_round_tick(n, now_ns);
	next = n->next_round_ns;
	if (n->swim != NULL) {
		uint64_t t = gsp_swim_tick(n, now_ns);

		if (t < next)
			next = t;
	}
	return next;
}
