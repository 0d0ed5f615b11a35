/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SWIM's verdicts: timeouts scaled by Lifeguard's awareness, claims
 * (suspect, alive, dead) spread by piggybacking on probe messages and
 * pushed at once where they change a state, and suspicion: accusers,
 * confirmations, refutation, expiry.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_member.h"
#include "gsp_swim_int.h"
#include "gsp_util.h"

/* ---- timeouts ---- */

/* srtt + 4 var, and at least a quarter over srtt: a direct answer later
 * than this is not the usual one (where round trips hardly vary, half of
 * them would otherwise come just after the timeout) */
static uint64_t
gsp_swim_rto(const struct gsp_node *n)
{
	const struct gsp_swim *s = n->swim;
	uint64_t margin = 4 * s->rttvar_ns;

	if (margin < s->srtt_ns / 4)
		margin = s->srtt_ns / 4;
	return s->srtt_ns + margin;
}

/*
 * One unambiguous round trip (RFC 6298, gains 1/8 and 1/4), at most a
 * second. The first sets the variation to an eighth, not RFC 6298's
 * half: one sample must not triple the timeout (the margin's floor of
 * srtt / 4 covers it until more come). Where the multiplier moves,
 * the suspicions' deadlines are recomputed at a tick asked for now.
 */
void
gsp_swim_rtt_sample(struct gsp_node *n, uint64_t rtt_ns, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	uint64_t err, mult = gsp_swim_rtt_mult(n);

	if (rtt_ns > GSP_RTT_MAX_NS)
		rtt_ns = GSP_RTT_MAX_NS;
	if (s->srtt_ns == 0) {
		s->srtt_ns = rtt_ns;
		s->rttvar_ns = rtt_ns / 8;
	} else {
		err = rtt_ns > s->srtt_ns ? rtt_ns - s->srtt_ns :
			s->srtt_ns - rtt_ns;
		s->rttvar_ns = s->rttvar_ns - s->rttvar_ns / 4 + err / 4;
		s->srtt_ns = s->srtt_ns - s->srtt_ns / 8 + rtt_ns / 8;
	}
	GSP_CTR_SET(n->ctr.probe_rtt_us, s->srtt_ns / 1000);
	if (gsp_swim_rtt_mult(n) != mult && s->n_suspects != 0) {
		s->next_suspect_ns = 0;
		gsp_wake_at(n, now_ns);	/* we are in rx: ask for a tick */
	}
}

/*
 * How far our probes' measured round trips stretch SWIM's times: the
 * whole multiple of the probe timeout that gsp_swim_rto reaches, 1 to
 * 1 + awareness_max (whole, so probe periods stay on the rounds' grid:
 * one wake-up for both). 1 without Lifeguard.
 */
uint64_t
gsp_swim_rtt_mult(const struct gsp_node *n)
{
	uint64_t rto, pt = n->p.probe_timeout_ns, cap, mult;

	if (!gsp_swim_lifeguard(n))
		return 1;
	rto = gsp_swim_rto(n);
	cap = 1 + (uint64_t)n->p.awareness_max;
	mult = rto > pt ? (rto + pt - 1) / pt : 1;
	return mult < cap ? mult : cap;
}

/*
 * A probe period or timeout as Lifeguard stretches it: by the awareness
 * (our own trouble), and at least as far as our measured round trips
 * need (a loaded host or path: answers that come, late). Within
 * 1 + awareness_max either way.
 */
uint64_t
gsp_swim_scaled(const struct gsp_node *n, uint64_t base)
{
	uint64_t mult, rtt;

	if (!gsp_swim_lifeguard(n))
		return base;
	mult = 1 + (uint64_t)n->swim->awareness;
	rtt = gsp_swim_rtt_mult(n);
	return base * (rtt > mult ? rtt : mult);
}

uint32_t
gsp_swim_live(const struct gsp_node *n)
{
	return n->cnt[GSP_STATE_ALIVE] + n->cnt[GSP_STATE_SUSPECT];
}

/*
 * How long a suspicion with `confirm` independent confirmations lasts:
 * mult x log10(N) probe periods (SWIM); with Lifeguard it starts at
 * max_mult times that and shrinks with log(confirmations) towards it,
 * and the periods are as long as measured round trips make them: a
 * refutation crosses the same slow paths as the accusation did.
 */
uint64_t
gsp_swim_suspicion_ns(const struct gsp_node *n, uint32_t confirm)
{
	double lg = log10((double)gsp_swim_live(n));
	double min = n->p.suspicion_mult * (lg < 1.0 ? 1.0 : lg) *
		(double)n->p.probe_interval_ns * (double)gsp_swim_rtt_mult(n);
	double max = min * n->p.suspicion_max_mult;
	uint32_t k = n->p.suspicion_mult > 2 ? n->p.suspicion_mult - 2 : 1;
	double t;

	if (!gsp_swim_lifeguard(n) || gsp_swim_live(n) < k + 2)
		return (uint64_t)min;
	t = max - (max - min) * log((double)confirm + 1.0) / log(k + 1.0);
	return (uint64_t)(t < min ? min : t);
}

void
gsp_swim_aware(struct gsp_node *n, int delta)
{
	struct gsp_swim *s = n->swim;
	int64_t a = (int64_t)s->awareness + delta;

	if (!gsp_swim_lifeguard(n))
		return;
	if (a < 0)
		a = 0;
	if (a > (int64_t)n->p.awareness_max)
		a = n->p.awareness_max;
	s->awareness = (uint32_t)a;
	GSP_CTR_SET(n->ctr.awareness, s->awareness);
}

/* ---- claims: piggybacked on probe messages, and pushed ---- */

uint32_t
gsp_swim_retransmits(const struct gsp_node *n)
{
	return GSP_RETRANSMIT_MULT *
		(uint32_t)ceil(log10((double)gsp_swim_live(n) + 1.0));
}

void
gsp_swim_claim_add(struct gsp_node *n, const struct gsp_claim *c,
		   bool push, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	uint32_t limit = gsp_swim_retransmits(n);

	/* what the caller says must go now, not at the next probes:
	 * piggybacked only, a verdict spreads at the probes' pace, log N
	 * periods (gsp_swim_apply says what is pushed on) */
	if (push && !s->push_pending) {
		s->push_pending = true;
		gsp_wake_at(n, s->push_next_ns > now_ns ? s->push_next_ns :
			    now_ns);
	}

	/* the newest claim about a member supersedes older ones */
	for (uint32_t k = 0; k < s->claim_n; k++) {
		struct gsp_claim_ent *e =
			&s->claims[(s->claim_head + k) % GSP_CLAIMS_MAX];

		if (e->c.id == c->id)
			e->sent = limit;
	}
	if (s->claim_n == GSP_CLAIMS_MAX) {
		/* full: the oldest gives way; anti-entropy and the
		 * suspects' own timers still carry the verdict */
		s->claim_head = (s->claim_head + 1) % GSP_CLAIMS_MAX;
		s->claim_n--;
	}
	s->claims[(s->claim_head + s->claim_n) % GSP_CLAIMS_MAX] =
		(struct gsp_claim_ent){ *c, 0 };
	s->claim_n++;
}

/*
 * Fills a message with claims not yet sent often enough, newest first and
 * refutations and verdicts before suspicions: under heavy loss the space
 * is short, and an "alive" that arrives late lets a healthy member die.
 */
uint32_t
gsp_swim_put_claims(struct gsp_node *n, struct gsp_wire_writer *w)
{
	struct gsp_swim *s = n->swim;
	uint32_t limit = gsp_swim_retransmits(n), put = 0;
	bool full = false;

	for (int pass = 0; pass < 2 && !full; pass++) {
		for (uint32_t k = s->claim_n; k-- > 0 && !full;) {
			struct gsp_claim_ent *e =
				&s->claims[(s->claim_head + k) % GSP_CLAIMS_MAX];

			if (e->sent >= limit ||
			    (e->c.status == GSP_CLAIM_SUSPECT) != (pass == 1))
				continue;
			if (put == GSP_CLAIMS_PER_MSG ||
			    !gsp_wire_put_claim(w, &e->c)) {
				full = true;
				break;
			}
			e->sent++;
			put++;
		}
	}
	while (s->claim_n != 0 && s->claims[s->claim_head].sent >= limit) {
		s->claim_head = (s->claim_head + 1) % GSP_CLAIMS_MAX;
		s->claim_n--;
	}
	return put;
}

/* A member we may probe or tell: held, not ourselves, not down or left. */
bool
gsp_swim_target_ok(struct gsp_node *n, uint32_t slot)
{
	return gsp_table_has(n->table, slot) && slot != n->self_slot &&
		gsp_live_state(gsp_rec(n, slot)->state);
}

/*
 * Up to k distinct random members this node holds alive, neither itself
 * nor `except` (GSP_NONE: none); how many it found. Bounded tries: in a
 * table sparse among its slots (a shared catalog) it may find fewer.
 */
uint32_t
gsp_swim_pick_alive(struct gsp_node *n, uint32_t *picked, uint32_t k,
		    uint32_t except)
{
	uint32_t n_picked = 0;

	for (uint32_t t = 0; t < 4 * k + 8 && n_picked < k; t++) {
		uint32_t slot = gsp_table_random(n->table, &n->rng);
		bool dup = slot == GSP_NONE || slot == except;

		for (uint32_t i = 0; i < n_picked && !dup; i++)
			dup = picked[i] == slot;
		if (dup || !gsp_swim_target_ok(n, slot) ||
		    gsp_rec(n, slot)->state != GSP_STATE_ALIVE)
			continue;
		picked[n_picked++] = slot;
	}
	return n_picked;
}

/*
 * Our claims go at once to GSP_PUSH_FANOUT random live members, each in
 * a PONG with sequence number 0: it answers no probe, and every version
 * since 2 applies a probe message's claims before it looks at its type,
 * so any peer takes them. Those at which a verdict changes a state push
 * it on in turn: it floods the cluster in about log7 N hops instead of
 * log N probe periods, and a push flood of fanout 6 misses about e^-6
 * of the nodes (0.25%; fanout 3 missed 5%, left to the probes). The
 * pushes use the claims' retransmissions (a node sends each one the same
 * number of times as before, only sooner), at most GSP_PUSHES_PER_PERIOD
 * times a probe period, so claims that come together go together.
 */
void
gsp_swim_push(struct gsp_node *n, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	uint32_t picked[GSP_PUSH_FANOUT], n_picked;

	s->push_pending = false;
	s->push_next_ns = now_ns + gsp_swim_scaled(n, n->p.probe_interval_ns) /
		GSP_PUSHES_PER_PERIOD;
	n_picked = gsp_swim_pick_alive(n, picked, GSP_PUSH_FANOUT, GSP_NONE);
	for (uint32_t i = 0; i < n_picked; i++) {
		struct gsp_addr a = gsp_slot_addr(n, picked[i]);

		if (!gsp_swim_push_to(n, &a, gsp_wire_for(n,
				      gsp_rec(n, picked[i])), NULL))
			return;		/* all sent as often as they go */
	}
}

/* A probe message in n->tx: first, then (queue) the claims still to be
 * spread; returns how many it carries. */
static uint32_t
gsp_swim_build(struct gsp_node *n, struct gsp_wire_writer *w, uint8_t type,
	       uint8_t version, uint32_t seq, uint64_t target_id,
	       const struct gsp_addr *target, const struct gsp_claim *first,
	       bool queue)
{
	uint32_t put = first != NULL;

	gsp_wire_begin_v(w, n->tx, n->body_cap, type, version,
			 n->cluster_hash, n->id);
	gsp_wire_set_probe(w, seq, target_id, target);
	/* v3: what we hold, so the receiver sees whether we agree, and our
	 * heartbeat, fresh from the source */
	gsp_wire_set_view(w, n->sync_root, gsp_view_digest(n), n->heartbeat);
	if (first != NULL)
		gsp_wire_put_claim(w, first);
	return queue ? put + gsp_swim_put_claims(n, w) : put;
}

bool
gsp_swim_push_to(struct gsp_node *n, const struct gsp_addr *dst,
		 uint8_t version, const struct gsp_claim *first)
{
	struct gsp_wire_writer w;

	/* one claim meant for one member (a suspect, an accuser) spends
	 * none of the queue's sends on it */
	if (gsp_swim_build(n, &w, GSP_MSG_PONG, version, 0, n->id, NULL,
			   first, first == NULL) == 0)
		return false;
	gsp_node_send(n, dst, gsp_wire_finish(&w));
	GSP_CTR_INC(n->ctr.claim_pushes);
	return true;
}

void
gsp_swim_send(struct gsp_node *n, uint8_t type, uint8_t version,
	      const struct gsp_addr *dst, uint32_t seq, uint64_t target_id,
	      const struct gsp_addr *target, const struct gsp_claim *first)
{
	struct gsp_wire_writer w;

	gsp_swim_build(n, &w, type, version, seq, target_id, target, first,
		       true);
	gsp_node_send(n, dst, gsp_wire_finish(&w));
	gsp_count_tx(n, type);
}

/* ---- suspicion ---- */

/* The member's entry, made empty if it has none. */
static struct gsp_swim_ent *
gsp_swim_ent_get(struct gsp_swim *s, uint32_t slot)
{
	struct gsp_swim_ent *e = gsp_swim_ent(s, slot);

	if (e != NULL)
		return e;
	/* at most one per member: n_ents < n_slots here */
	e = &s->ents[s->n_ents++];
	memset(e, 0, sizeof(*e));
	e->slot = slot;
	e->next = s->ent_head[slot >> GSP_ENT_GROUP_LOG2];
	s->ent_head[slot >> GSP_ENT_GROUP_LOG2] = s->n_ents;
	return e;
}

/* The link that names entry 1 + i (i's slot given): its group's head or
 * the entry before it in the chain. */
static uint32_t *
gsp_swim_ent_link(struct gsp_swim *s, uint32_t slot, uint32_t i)
{
	uint32_t *link = &s->ent_head[slot >> GSP_ENT_GROUP_LOG2];

	while (*link != i + 1)
		link = &s->ents[*link - 1].next;
	return link;
}

/* Gives back the member's entry: the last one fills its place, so the
 * pool stays packed from the bottom. */
static void
gsp_swim_ent_put(struct gsp_swim *s, uint32_t slot)
{
	struct gsp_swim_ent *e = gsp_swim_ent(s, slot);
	uint32_t i, last;

	if (e == NULL)
		return;
	i = (uint32_t)(e - s->ents);
	*gsp_swim_ent_link(s, slot, i) = e->next;
	last = --s->n_ents;
	if (last != i) {
		*gsp_swim_ent_link(s, s->ents[last].slot, last) = i + 1;
		s->ents[i] = s->ents[last];
	}
}

void
gsp_swim_unsuspect(struct gsp_node *n, uint32_t slot)
{
	struct gsp_swim *s = n->swim;
	struct gsp_swim_ent *ss = gsp_swim_ent(s, slot);
	uint32_t last;

	if (ss == NULL || ss->suspect_ns == 0 || ss->by_claim)
		return;
	last = s->suspects[--s->n_suspects];
	s->suspects[ss->pos] = last;
	gsp_swim_ent(s, last)->pos = ss->pos;
	/* a suspicion is all it held: by_claim and force_left come with a
	 * verdict, which ends the suspicion first (gsp_swim_dead) */
	gsp_swim_ent_put(s, slot);
}

void
gsp_swim_reset(struct gsp_node *n, uint32_t slot)
{
	gsp_swim_unsuspect(n, slot);
	gsp_swim_ent_put(n->swim, slot);
}

void
gsp_swim_refuted(struct gsp_node *n, uint32_t slot, uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_rec(n, slot);
	bool forced = gsp_swim_force_left(n, slot);

	gsp_swim_reset(n, slot);
	if (r->state == GSP_STATE_SUSPECT || r->state == GSP_STATE_DOWN ||
	    (r->state == GSP_STATE_LEFT && forced)) {
		gsp_table_write_begin(r);
		gsp_set_state(n, r, GSP_STATE_ALIVE, now_ns);
		gsp_table_write_end(r);
	}
}

bool
gsp_swim_down_by_claim(const struct gsp_node *n, uint32_t slot)
{
	const struct gsp_swim_ent *e = gsp_node_swim_ent(n, slot);

	return e != NULL && e->by_claim;
}

uint16_t
gsp_swim_accuser_bit(uint64_t from)
{
	return (uint16_t)(1u << (gsp_id_key(from) & 15));
}

/* A suspicion of `slot` at incarnation inc by `from`; true when news. */
bool
gsp_swim_suspect(struct gsp_node *n, uint32_t slot, uint32_t inc,
		 uint64_t from, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	struct gsp_swim_ent *ss = gsp_swim_ent(s, slot);
	struct gsp_member_rec *r = gsp_rec(n, slot);
	uint16_t bit = gsp_swim_accuser_bit(from);
	uint64_t end;

	if (!gsp_live_state(r->state) || inc < r->incarnation)
		return false;
	if (r->state == GSP_STATE_SUSPECT && ss != NULL &&
	    ss->suspect_ns != 0 && inc == r->incarnation) {
		/* Lifeguard: an independent confirmation shortens it */
		if (ss->accusers & bit)
			return false;
		ss->accusers |= bit;
		if (ss->confirm < UINT8_MAX)
			ss->confirm++;
	} else {
		gsp_swim_unsuspect(n, slot);
		gsp_table_write_begin(r);
		r->incarnation = inc;
		gsp_set_state(n, r, GSP_STATE_SUSPECT, now_ns);
		gsp_table_write_end(r);
		ss = gsp_swim_ent_get(s, slot);
		ss->suspect_ns = now_ns != 0 ? now_ns : 1;	/* 0: none */
		ss->accusers = bit;
		ss->confirm = 0;
		ss->pos = s->n_suspects;
		s->suspects[s->n_suspects++] = slot;
		/* Lifeguard's buddy system: a few of those who hear of it
		 * probe the suspect at once, carrying the suspicion, so a
		 * live one hears it and refutes long before the timeout,
		 * and a dead one collects independent confirmations */
		if (from != n->id &&
		    gsp_rand_below(&n->rng, gsp_swim_live(n)) < GSP_BUDDIES)
			gsp_swim_hint(n, slot);
	}
	end = ss->suspect_ns + gsp_swim_suspicion_ns(n, ss->confirm);
	if (end < s->next_suspect_ns)
		s->next_suspect_ns = end;
	gsp_wake_at(n, end);
	return true;
}

/* A verdict of down at incarnation inc; true when news. */
bool
gsp_swim_dead(struct gsp_node *n, uint32_t slot, uint32_t inc, uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_rec(n, slot);
	struct gsp_swim_ent *ss;

	if (!gsp_live_state(r->state) || inc < r->incarnation)
		return false;
	gsp_swim_unsuspect(n, slot);
	ss = gsp_swim_ent_get(n->swim, slot);
	ss->by_claim = 1;
	ss->suspect_ns = 0;
	gsp_table_write_begin(r);
	r->incarnation = inc;
	gsp_set_state(n, r, GSP_STATE_DOWN, now_ns);
	gsp_table_write_end(r);
	return true;
}

/*
 * Moved to left at incarnation inc by an operator (force-leave), from
 * down, or from alive or suspect when the news of its failure has not
 * reached us yet; true when news. Unlike a member's own leave, its
 * refutation (a higher incarnation) or a restart brings it back.
 */
bool
gsp_swim_left(struct gsp_node *n, uint32_t slot, uint32_t inc,
	      uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_rec(n, slot);
	struct gsp_swim_ent *ss;

	if (r->state == GSP_STATE_LEFT || inc < r->incarnation)
		return false;
	gsp_swim_unsuspect(n, slot);
	ss = gsp_swim_ent_get(n->swim, slot);
	ss->by_claim = 1;
	ss->force_left = 1;
	ss->suspect_ns = 0;
	gsp_table_write_begin(r);
	r->incarnation = inc;
	gsp_set_state(n, r, GSP_STATE_LEFT, now_ns);
	gsp_table_write_end(r);
	return true;
}

void
gsp_swim_check_suspects(struct gsp_node *n, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; i < s->n_suspects;) {
		uint32_t slot = s->suspects[i];
		const struct gsp_swim_ent *ss = gsp_swim_ent(s, slot);
		struct gsp_member_rec *r = gsp_rec(n, slot);
		uint64_t end = ss->suspect_ns +
			gsp_swim_suspicion_ns(n, ss->confirm);

		if (now_ns < end) {
			if (end < next)
				next = end;
			i++;
			continue;
		}
		/* runs out: down, and everyone is told; either way the
		 * slot leaves the list and i is refilled */
		if (gsp_swim_dead(n, slot, r->incarnation, now_ns)) {
			struct gsp_claim c = gsp_swim_claim_of(n, r,
							       GSP_CLAIM_DEAD);

			GSP_CTR_INC(n->ctr.declared_down);
			gsp_swim_claim_add(n, &c, true, now_ns);
		} else {
			gsp_swim_unsuspect(n, slot);
		}
		if (i < s->n_suspects && s->suspects[i] == slot)
			i++;	/* still listed: never loop on it */
	}
	s->next_suspect_ns = next;
}

/* Someone says we are suspect or down: we are not. */
void
gsp_swim_refute(struct gsp_node *n, const struct gsp_claim *c,
		uint64_t now_ns)
{
	struct gsp_claim alive;
	int32_t slot;

	if (c->status == GSP_CLAIM_ALIVE || n->leaving ||
	    c->generation != n->generation || c->incarnation < n->incarnation)
		return;
	if (c->incarnation == UINT32_MAX) {
		/* no incarnation above it: a new generation outranks the
		 * claim (and every incarnation of this one) instead */
		if (gsp_self_renew(n, n->generation, 0, now_ns)) {
			GSP_CTR_INC(n->ctr.refutations);
			gsp_swim_aware(n, 1);
		}
		return;
	}
	n->incarnation = c->incarnation + 1;
	GSP_CTR_INC(n->ctr.refutations);
	GSP_CTR_SET(n->ctr.incarnation, n->incarnation);
	/* Lifeguard: being suspected hints that we are the slow one */
	gsp_swim_aware(n, 1);
	gsp_publish_self(n);
	alive = (struct gsp_claim){ n->id, n->generation, n->id,
		n->incarnation, GSP_CLAIM_ALIVE };
	gsp_swim_claim_add(n, &alive, true, now_ns);
	/* and the accuser at once: it holds the suspicion, so it ends it
	 * and pushes the refutation on, where random members mostly hold
	 * nothing to end */
	slot = gsp_table_find(n->table, c->from);
	if (slot >= 0 && (uint32_t)slot != n->self_slot) {
		struct gsp_addr a = gsp_slot_addr(n, (uint32_t)slot);

		gsp_swim_push_to(n, &a, gsp_wire_for(n,
				 gsp_rec(n, (uint32_t)slot)), &alive);
	}
}

void
gsp_swim_apply(struct gsp_node *n, const struct gsp_claim *c, uint64_t now_ns)
{
	struct gsp_member_rec *r;
	bool news = false;
	uint8_t state_was;
	int32_t slot;

	if (c->id == n->id) {
		gsp_swim_refute(n, c, now_ns);
		return;
	}
	slot = gsp_table_find(n->table, c->id);
	if (slot < 0)
		return;		/* unknown: its state comes by gossip */
	r = gsp_rec(n, (uint32_t)slot);
	/* other generations: an old life's news, or one we lack yet; a
	 * member that left itself stays so, one moved there hears its own
	 * refutation */
	if (r->generation != c->generation ||
	    (r->state == GSP_STATE_LEFT &&
	     !gsp_swim_force_left(n, (uint32_t)slot)))
		return;
	state_was = r->state;
	switch (c->status) {
	case GSP_CLAIM_ALIVE:
		if (c->incarnation > r->incarnation) {
			gsp_table_write_begin(r);
			r->incarnation = c->incarnation;
			gsp_table_write_end(r);
			gsp_swim_refuted(n, (uint32_t)slot, now_ns);
			news = true;
		}
		break;
	case GSP_CLAIM_SUSPECT:
		news = gsp_swim_suspect(n, (uint32_t)slot, c->incarnation,
					c->from, now_ns);
		break;
	default:
		news = (c->flags & GSP_CLAIM_FLAG_LEFT) ?
			gsp_swim_left(n, (uint32_t)slot, c->incarnation,
				      now_ns) :
			gsp_swim_dead(n, (uint32_t)slot, c->incarnation,
				      now_ns);
		break;
	}
	if (news) {
		GSP_CTR_INC(n->ctr.claims_rx);
		/* pushed on: a verdict, or an end to a suspicion or a
		 * verdict held here. Not a suspicion: the accuser told the
		 * suspect, which refutes before a flood would have spread
		 * it (floods of suspicions under loss doubled the packets
		 * and accused for longer); not a new incarnation of a member
		 * no one here suspected */
		gsp_swim_claim_add(n, c, c->status != GSP_CLAIM_SUSPECT &&
				   r->state != state_was, now_ns);
	}
}

int
gsp_node_force_leave(struct gsp_node *n, uint64_t id, uint64_t now_ns)
{
	struct gsp_member_rec *r;
	struct gsp_claim c;
	int32_t slot;

	if (n == NULL || id == 0)
		return -ENOENT;
	if (id == n->id)
		return -EINVAL;
	if (n->swim == NULL)
		return -ENOTSUP;
	slot = gsp_table_find(n->table, id);
	if (slot < 0)
		return -ENOENT;
	r = gsp_rec(n, (uint32_t)slot);
	if (r->state == GSP_STATE_LEFT)
		return 0;
	if (r->state != GSP_STATE_DOWN)
		return -EBUSY;
	c = gsp_swim_claim_of(n, r, GSP_CLAIM_DEAD);
	c.flags = GSP_CLAIM_FLAG_LEFT;
	if (gsp_swim_left(n, (uint32_t)slot, r->incarnation, now_ns))
		gsp_swim_claim_add(n, &c, true, now_ns);
	return 0;
}

/* ---- hints: members to probe next (phi, new suspects) ---- */

void
gsp_swim_hint(struct gsp_node *n, uint32_t slot)
{
	struct gsp_swim *s = n->swim;

	if (s->n_hints == GSP_HINTS_MAX)
		return;
	for (uint32_t i = 0; i < s->n_hints; i++)
		if (s->hints[i] == slot)
			return;
	s->hints[s->n_hints++] = slot;
}
