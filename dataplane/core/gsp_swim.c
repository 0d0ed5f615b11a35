/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SWIM failure detection with Lifeguard's refinements, see docs/PROTOCOL.md.
 *
 * Every probe period a node pings one member, taken round-robin in a random
 * order (so each member is probed by each node once per cycle: bounded
 * detection time). No answer within the probe timeout: k helpers are asked
 * to ping it too (PING_REQ). No answer by the end of the period: the member
 * is suspected, and the suspicion spreads as a claim piggybacked on every
 * probe message. A suspect that hears of it refutes by raising its
 * incarnation; one that stays silent until its suspicion times out is
 * declared down, and that claim spreads too.
 *
 * Lifeguard: a node that misses acks or nacks, is suspected itself or was
 * stalled raises its awareness and stretches its own probe period and
 * timeout instead of accusing others; suspicion timeouts start long and
 * shrink as independent accusers confirm them; helpers that hear nothing
 * send a NACK, so a prober can tell its own trouble from its target's.
 *
 * phi accrual, when also on, only points: a member whose heartbeats are
 * late is probed next; the probe gives the verdict.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_member.h"
#include "gsp_node_int.h"
#include "gsp_util.h"

#define GSP_CLAIMS_MAX 256		/* claims being spread at once */
#define GSP_CLAIMS_PER_MSG 64		/* piggybacked per probe message */
#define GSP_RELAYS_MAX 64		/* PING_REQs served at once */
#define GSP_HINTS_MAX 16		/* members phi asks us to probe next */
#define GSP_PROBE_TRIES 256		/* slots looked at to pick a target */
#define GSP_RETRANSMIT_MULT 4		/* claim sends x ceil(log10(N+1)) */
#define GSP_STALL_PERIODS 5		/* a tick this late: we were stalled */
#define GSP_NACK_PERCENT 80		/* of the probe timeout */
#define GSP_BUDDIES 8			/* nodes expected to probe a new suspect */

/* Per member, protocol thread only. */
struct gsp_swim_slot {
	uint64_t suspect_ns;	/* suspicion start; when down: last told */
	uint32_t pos;		/* index in suspects[] */
	uint16_t accusers;	/* one bit per accuser id: distinct count */
	uint8_t confirm;	/* independent accusers after the first */
	uint8_t by_claim;	/* down by a SWIM verdict */
};

struct gsp_claim_ent {
	struct gsp_claim c;
	uint32_t sent;
};

/* A PING_REQ we serve: ping target, pass its PONG back, or NACK. */
struct gsp_relay {
	struct gsp_addr req;
	uint64_t target;
	uint64_t nack_ns;
	uint64_t expire_ns;
	uint32_t req_seq;
	uint32_t seq;
	bool active;
	bool nacked;
};

struct gsp_swim {
	struct gsp_swim_slot *slot;	/* per table slot */
	uint32_t *suspects;		/* slots under suspicion */
	uint32_t n_suspects;
	uint64_t next_suspect_ns;	/* no suspicion ends before this */

	struct gsp_claim_ent claims[GSP_CLAIMS_MAX];	/* ring, oldest first */
	uint32_t claim_head, claim_n;

	struct gsp_relay relays[GSP_RELAYS_MAX];
	uint32_t n_relays;

	uint32_t hints[GSP_HINTS_MAX];
	uint32_t n_hints;

	/* the probe of this period */
	uint64_t probe_id;
	uint32_t probe_slot;
	uint32_t probe_seq;
	uint64_t probe_timeout_ns;	/* when helpers are asked */
	uint64_t probe_end_ns;		/* end of the period: verdict */
	bool probing;
	bool acked;
	bool indirect_sent;
	uint32_t nacks;
	uint32_t expected_nacks;

	uint32_t seq;
	uint32_t awareness;		/* Lifeguard health multiplier */
	uint64_t last_tick_ns;
	bool started;

	/* round-robin in random order: slot = (a * i + b) mod span */
	uint64_t perm_a, perm_b;
	uint32_t perm_span, perm_i;
};

static bool
gsp_swim_lifeguard(const struct gsp_node *n)
{
	return (n->detector & GSP_DETECT_LIFEGUARD) != 0;
}

int
gsp_swim_create(struct gsp_node *n)
{
	struct gsp_node_params *p = &n->p;
	struct gsp_swim *s;

	if (p->probe_interval_ns == 0)
		p->probe_interval_ns = GSP_DEF(PROBE_INTERVAL_NS);
	if (p->probe_timeout_ns == 0)
		p->probe_timeout_ns = p->probe_interval_ns / 2;
	if (p->indirect_probes == 0)
		p->indirect_probes = GSP_DEF(INDIRECT_PROBES);
	if (p->suspicion_mult == 0)
		p->suspicion_mult = GSP_DEF(SUSPICION_MULT);
	if (p->suspicion_max_mult == 0)
		p->suspicion_max_mult = GSP_DEF(SUSPICION_MAX_MULT);
	if (p->awareness_max == 0)
		p->awareness_max = GSP_DEF(AWARENESS_MAX);
	if (p->probe_timeout_ns >= p->probe_interval_ns ||
	    p->indirect_probes > GSP_FANOUT_MAX)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->slot = calloc(n->table->n_slots, sizeof(*s->slot));
	s->suspects = calloc(n->table->n_slots, sizeof(*s->suspects));
	if (s->slot == NULL || s->suspects == NULL) {
		free(s->slot);
		free(s->suspects);
		free(s);
		return -ENOMEM;
	}
	s->next_suspect_ns = UINT64_MAX;
	n->swim = s;
	return 0;
}

void
gsp_swim_destroy(struct gsp_node *n)
{
	if (n->swim == NULL)
		return;
	free(n->swim->slot);
	free(n->swim->suspects);
	free(n->swim);
	n->swim = NULL;
}

/* ---- timeouts ---- */

static uint64_t
gsp_swim_scaled(const struct gsp_node *n, uint64_t base)
{
	return gsp_swim_lifeguard(n) ? base * (1 + n->swim->awareness) : base;
}

static uint32_t
gsp_swim_live(const struct gsp_node *n)
{
	return n->cnt[GSP_STATE_ALIVE] + n->cnt[GSP_STATE_SUSPECT];
}

/*
 * How long a suspicion with `confirm` independent confirmations lasts:
 * mult x log10(N) probe periods (SWIM); with Lifeguard it starts at
 * max_mult times that and shrinks with log(confirmations) towards it.
 */
static uint64_t
gsp_swim_suspicion_ns(const struct gsp_node *n, uint32_t confirm)
{
	double lg = log10((double)gsp_swim_live(n));
	double min = n->p.suspicion_mult * (lg < 1.0 ? 1.0 : lg) *
		(double)n->p.probe_interval_ns;
	double max = min * n->p.suspicion_max_mult;
	uint32_t k = n->p.suspicion_mult > 2 ? n->p.suspicion_mult - 2 : 1;
	double t;

	if (!gsp_swim_lifeguard(n) || gsp_swim_live(n) < k + 2)
		return (uint64_t)min;
	t = max - (max - min) * log((double)confirm + 1.0) / log(k + 1.0);
	return (uint64_t)(t < min ? min : t);
}

static void
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

/* ---- claims: spread by piggybacking on probe messages ---- */

static uint32_t
gsp_swim_retransmits(const struct gsp_node *n)
{
	return GSP_RETRANSMIT_MULT *
		(uint32_t)ceil(log10((double)gsp_swim_live(n) + 1.0));
}

static void
gsp_swim_claim_add(struct gsp_node *n, const struct gsp_claim *c)
{
	struct gsp_swim *s = n->swim;
	uint32_t limit = gsp_swim_retransmits(n);

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
static void
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
}

static void
gsp_swim_send(struct gsp_node *n, uint8_t type, const struct gsp_addr *dst,
	      uint32_t seq, uint64_t target_id, const struct gsp_addr *target,
	      const struct gsp_claim *first)
{
	struct gsp_wire_writer w;

	gsp_wire_begin(&w, n->tx, n->body_cap, type, n->cluster_hash,
		       n->id);
	gsp_wire_set_probe(&w, seq, target_id, target);
	if (first != NULL)
		gsp_wire_put_claim(&w, first);
	gsp_swim_put_claims(n, &w);
	gsp_node_send(n, dst, gsp_wire_finish(&w));
	gsp_count_tx(n, type);
}

/* ---- suspicion ---- */

static void
gsp_swim_unsuspect(struct gsp_node *n, uint32_t slot)
{
	struct gsp_swim *s = n->swim;
	struct gsp_swim_slot *ss = &s->slot[slot];
	uint32_t last;

	if (ss->suspect_ns == 0 || ss->by_claim)
		return;
	last = s->suspects[--s->n_suspects];
	s->suspects[ss->pos] = last;
	s->slot[last].pos = ss->pos;
	ss->suspect_ns = 0;
	ss->accusers = 0;
	ss->confirm = 0;
}

void
gsp_swim_reset(struct gsp_node *n, uint32_t slot)
{
	gsp_swim_unsuspect(n, slot);
	memset(&n->swim->slot[slot], 0, sizeof(n->swim->slot[slot]));
}

void
gsp_swim_refuted(struct gsp_node *n, uint32_t slot, uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_rec(n, slot);

	gsp_swim_reset(n, slot);
	if (r->state == GSP_STATE_SUSPECT || r->state == GSP_STATE_DOWN) {
		gsp_table_write_begin(r);
		gsp_set_state(n, r, GSP_STATE_ALIVE, now_ns);
		gsp_table_write_end(r);
	}
}

bool
gsp_swim_down_by_claim(const struct gsp_node *n, uint32_t slot)
{
	return n->swim != NULL && n->swim->slot[slot].by_claim;
}

static uint16_t
gsp_swim_accuser_bit(uint64_t from)
{
	return (uint16_t)(1u << (gsp_id_key(from) & 15));
}

/* A suspicion of `slot` at incarnation inc by `from`; true when news. */
static bool
gsp_swim_suspect(struct gsp_node *n, uint32_t slot, uint32_t inc,
		 uint64_t from, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	struct gsp_swim_slot *ss = &s->slot[slot];
	struct gsp_member_rec *r = gsp_rec(n, slot);
	uint16_t bit = gsp_swim_accuser_bit(from);
	uint64_t end;

	if (!gsp_live_state(r->state) || inc < r->incarnation)
		return false;
	if (r->state == GSP_STATE_SUSPECT && ss->suspect_ns != 0 &&
	    inc == r->incarnation) {
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
		ss->suspect_ns = now_ns;
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
static bool
gsp_swim_dead(struct gsp_node *n, uint32_t slot, uint32_t inc, uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_rec(n, slot);
	struct gsp_swim_slot *ss = &n->swim->slot[slot];

	if (!gsp_live_state(r->state) || inc < r->incarnation)
		return false;
	gsp_swim_unsuspect(n, slot);
	ss->by_claim = 1;
	ss->suspect_ns = 0;
	gsp_table_write_begin(r);
	r->incarnation = inc;
	gsp_set_state(n, r, GSP_STATE_DOWN, now_ns);
	gsp_table_write_end(r);
	return true;
}

static void
gsp_swim_check_suspects(struct gsp_node *n, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; i < s->n_suspects;) {
		uint32_t slot = s->suspects[i];
		struct gsp_swim_slot *ss = &s->slot[slot];
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
			struct gsp_claim c = { r->id, r->generation, n->id,
				r->incarnation, GSP_CLAIM_DEAD };

			GSP_CTR_INC(n->ctr.declared_down);
			gsp_swim_claim_add(n, &c);
		} else {
			gsp_swim_unsuspect(n, slot);
		}
	}
	s->next_suspect_ns = next;
}

/* Someone says we are suspect or down: we are not. */
static void
gsp_swim_refute(struct gsp_node *n, const struct gsp_claim *c,
		uint64_t now_ns)
{
	struct gsp_claim alive;

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
	gsp_swim_claim_add(n, &alive);
}

static void
gsp_swim_apply(struct gsp_node *n, const struct gsp_claim *c, uint64_t now_ns)
{
	struct gsp_member_rec *r;
	bool news = false;
	int32_t slot;

	if (c->id == n->id) {
		gsp_swim_refute(n, c, now_ns);
		return;
	}
	slot = gsp_table_find(n->table, c->id);
	if (slot < 0)
		return;		/* unknown: its state comes by gossip */
	r = gsp_rec(n, (uint32_t)slot);
	/* other generations: an old life's news, or one we lack yet */
	if (r->generation != c->generation || r->state == GSP_STATE_LEFT)
		return;
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
		news = gsp_swim_dead(n, (uint32_t)slot, c->incarnation, now_ns);
		break;
	}
	if (news) {
		GSP_CTR_INC(n->ctr.claims_rx);
		gsp_swim_claim_add(n, c);
	}
}

/* ---- probing ---- */

static bool
gsp_swim_target_ok(struct gsp_node *n, uint32_t slot)
{
	const struct gsp_member_rec *r = gsp_rec(n, slot);

	return r->id != 0 && slot != n->self_slot && gsp_live_state(r->state);
}

static uint32_t
gsp_swim_next_target(struct gsp_node *n)
{
	struct gsp_swim *s = n->swim;
	uint32_t hw = gsp_table_slot_count(n->table);

	while (s->n_hints != 0) {
		uint32_t slot = s->hints[--s->n_hints];

		if (slot < hw && gsp_swim_target_ok(n, slot))
			return slot;
	}
	for (uint32_t t = 0; t < GSP_PROBE_TRIES; t++) {
		uint32_t slot;

		if (s->perm_i >= s->perm_span || s->perm_span < hw) {
			/* a new cycle in a new random order */
			s->perm_span = 1;
			while (s->perm_span < hw)
				s->perm_span <<= 1;
			s->perm_a = gsp_rand(&n->rng) | 1;
			s->perm_b = gsp_rand(&n->rng);
			s->perm_i = 0;
		}
		slot = (uint32_t)((s->perm_a * s->perm_i + s->perm_b) &
				  (s->perm_span - 1));
		s->perm_i++;
		if (slot < hw && gsp_swim_target_ok(n, slot))
			return slot;
	}
	return GSP_NONE;
}

static struct gsp_addr
gsp_swim_addr(struct gsp_node *n, uint32_t slot)
{
	const struct gsp_member_rec *r = gsp_rec(n, slot);

	return (struct gsp_addr){ r->ip, r->port };
}

static void
gsp_swim_probe_start(struct gsp_node *n, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	uint32_t slot = gsp_swim_next_target(n);
	const struct gsp_member_rec *r;
	struct gsp_claim c;
	struct gsp_addr a;

	s->probing = false;
	if (slot == GSP_NONE)
		return;
	s->probing = true;
	s->acked = false;
	s->indirect_sent = false;
	s->nacks = 0;
	s->expected_nacks = 0;
	s->probe_slot = slot;
	s->probe_id = gsp_rec(n, slot)->id;
	s->probe_seq = ++s->seq;
	s->probe_timeout_ns = now_ns + gsp_swim_scaled(n, n->p.probe_timeout_ns);
	a = gsp_swim_addr(n, slot);
	r = gsp_rec(n, slot);
	/* a suspect is told so with the probe itself */
	c = (struct gsp_claim){ r->id, r->generation, n->id, r->incarnation,
		GSP_CLAIM_SUSPECT };
	gsp_swim_send(n, GSP_MSG_PING, &a, s->probe_seq, s->probe_id, NULL,
		      r->state == GSP_STATE_SUSPECT ? &c : NULL);
}

/* No direct answer in time: ask k random live members to try. */
static void
gsp_swim_probe_indirect(struct gsp_node *n)
{
	struct gsp_swim *s = n->swim;
	uint32_t hw = gsp_table_slot_count(n->table);
	uint32_t k = n->p.indirect_probes, picked[GSP_FANOUT_MAX], n_picked = 0;
	struct gsp_addr target = gsp_swim_addr(n, s->probe_slot);

	s->indirect_sent = true;
	if (!(n->detector & GSP_DETECT_INDIRECT))
		return;
	/* and once more directly: a lost ping or pong is the likeliest
	 * cause, and costs one packet to rule out */
	gsp_swim_send(n, GSP_MSG_PING, &target, s->probe_seq, s->probe_id,
		      NULL, NULL);
	for (uint32_t t = 0; t < 4 * k + 8 && n_picked < k; t++) {
		uint32_t slot = gsp_rand_below(&n->rng, hw);
		bool dup = slot == s->probe_slot;

		for (uint32_t i = 0; i < n_picked && !dup; i++)
			dup = picked[i] == slot;
		if (dup || gsp_rec(n, slot)->state != GSP_STATE_ALIVE ||
		    !gsp_swim_target_ok(n, slot))
			continue;
		picked[n_picked++] = slot;
	}
	for (uint32_t i = 0; i < n_picked; i++) {
		struct gsp_addr a = gsp_swim_addr(n, picked[i]);

		gsp_swim_send(n, GSP_MSG_PING_REQ, &a, s->probe_seq,
			      s->probe_id, &target, NULL);
	}
	if (gsp_swim_lifeguard(n))
		s->expected_nacks = n_picked;
}

/* End of a period without an answer: suspect the target. */
static void
gsp_swim_probe_failed(struct gsp_node *n, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	struct gsp_member_rec *r = gsp_rec(n, s->probe_slot);

	GSP_CTR_INC(n->ctr.probes_failed);
	/* Lifeguard: helpers that did not even nack point at us */
	if (s->expected_nacks > 0)
		gsp_swim_aware(n, s->nacks < s->expected_nacks ?
			       (int)(s->expected_nacks - s->nacks) : 0);
	else
		gsp_swim_aware(n, 1);
	if (r->id != s->probe_id || !gsp_live_state(r->state))
		return;
	if (gsp_swim_suspect(n, s->probe_slot, r->incarnation, n->id,
			     now_ns)) {
		struct gsp_claim c = { r->id, r->generation, n->id,
			r->incarnation, GSP_CLAIM_SUSPECT };

		GSP_CTR_INC(n->ctr.suspicions);
		gsp_swim_claim_add(n, &c);
	}
}

/* ---- receiving ---- */

static struct gsp_relay *
gsp_swim_relay_alloc(struct gsp_swim *s)
{
	for (uint32_t i = 0; i < GSP_RELAYS_MAX; i++)
		if (!s->relays[i].active) {
			s->n_relays++;
			return &s->relays[i];
		}
	return NULL;
}

static void
gsp_swim_relay_free(struct gsp_swim *s, struct gsp_relay *rl)
{
	rl->active = false;
	s->n_relays--;
}

void
gsp_swim_rx(struct gsp_node *n, const struct gsp_addr *src,
	    const struct gsp_wire_msg *m, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	struct gsp_relay *rl;

	for (uint32_t i = 0; i < m->n_claims; i++)
		gsp_swim_apply(n, &m->claims[i], now_ns);
	switch (m->hdr.type) {
	case GSP_MSG_PING:
		GSP_CTR_INC(n->ctr.rx_ping);
		/* meant for whoever had this address before: stay silent */
		if (m->target_id == n->id)
			gsp_swim_send(n, GSP_MSG_PONG, src, m->seq, n->id,
				      NULL, NULL);
		break;
	case GSP_MSG_PONG:
		GSP_CTR_INC(n->ctr.rx_pong);
		if (s->probing && !s->acked && m->seq == s->probe_seq &&
		    m->target_id == s->probe_id) {
			s->acked = true;
			gsp_swim_aware(n, -1);
			break;
		}
		for (uint32_t i = 0; i < GSP_RELAYS_MAX && s->n_relays; i++) {
			rl = &s->relays[i];
			if (rl->active && rl->seq == m->seq &&
			    rl->target == m->target_id) {
				gsp_swim_send(n, GSP_MSG_PONG, &rl->req,
					      rl->req_seq, rl->target, NULL,
					      NULL);
				gsp_swim_relay_free(s, rl);
				break;
			}
		}
		break;
	case GSP_MSG_PING_REQ:
		GSP_CTR_INC(n->ctr.rx_ping_req);
		if (m->target_id == n->id || n->leaving)
			break;
		if (!gsp_addr_plausible(n, m->target.ip, m->target.port)) {
			/* we would probe loopback, multicast or ourselves */
			gsp_implausible(n, "address", m->target_id, 0, now_ns);
			break;
		}
		rl = gsp_swim_relay_alloc(s);
		if (rl == NULL)
			break;	/* busy: the prober's other helpers remain */
		*rl = (struct gsp_relay){
			.req = *src,
			.target = m->target_id,
			.nack_ns = now_ns + n->p.probe_timeout_ns *
				GSP_NACK_PERCENT / 100,
			.expire_ns = now_ns + n->p.probe_interval_ns,
			.req_seq = m->seq,
			.seq = ++s->seq,
			.active = true,
		};
		gsp_swim_send(n, GSP_MSG_PING, &m->target, rl->seq,
			      rl->target, NULL, NULL);
		gsp_wake_at(n, rl->nack_ns);
		break;
	case GSP_MSG_NACK:
		GSP_CTR_INC(n->ctr.rx_nack);
		if (s->probing && m->seq == s->probe_seq &&
		    m->target_id == s->probe_id)
			s->nacks++;
		break;
	}
}

void
gsp_swim_heard_from(struct gsp_node *n, uint64_t sender,
		    const struct gsp_addr *src, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	int32_t slot = gsp_table_find(n->table, sender);
	struct gsp_swim_slot *ss;
	struct gsp_member_rec *r;
	struct gsp_claim c;

	if (slot < 0)
		return;
	ss = &s->slot[slot];
	r = gsp_rec(n, (uint32_t)slot);
	if (r->state != GSP_STATE_DOWN || !ss->by_claim ||
	    (ss->suspect_ns != 0 &&
	     now_ns - ss->suspect_ns < n->p.probe_interval_ns))
		return;
	/* a member we hold down is talking: tell it, so that it refutes
	 * (after a partition heals, or a stall ends) */
	ss->suspect_ns = now_ns;
	c = (struct gsp_claim){ r->id, r->generation, n->id, r->incarnation,
		GSP_CLAIM_DEAD };
	gsp_swim_send(n, GSP_MSG_PING, src, ++s->seq, r->id, NULL, &c);
}

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

/* ---- timers ---- */

/* We did not run for stall_ns: our silence is no evidence against
 * anyone. The probe in flight gets no verdict, suspicions wait longer. */
static void
gsp_swim_stalled(struct gsp_node *n, uint64_t stall_ns)
{
	struct gsp_swim *s = n->swim;

	s->probing = false;
	for (uint32_t i = 0; i < s->n_suspects; i++)
		s->slot[s->suspects[i]].suspect_ns += stall_ns;
	s->next_suspect_ns = 0;		/* recomputed at once */
	for (uint32_t i = 0; i < GSP_RELAYS_MAX; i++)
		s->relays[i].active = false;
	s->n_relays = 0;
	gsp_swim_aware(n, 1);
}

uint64_t
gsp_swim_tick(struct gsp_node *n, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	uint64_t next;

	if (!s->started) {
		/* start at a random point of the period: nodes started
		 * together do not probe in lockstep */
		s->started = true;
		s->last_tick_ns = now_ns;
		s->probe_end_ns = now_ns +
			gsp_rand(&n->rng) % n->p.probe_interval_ns;
	}
	if (now_ns - s->last_tick_ns >
	    GSP_STALL_PERIODS * gsp_swim_scaled(n, n->p.probe_interval_ns))
		gsp_swim_stalled(n, now_ns - s->last_tick_ns);
	s->last_tick_ns = now_ns;

	if (s->probing && !s->acked && !s->indirect_sent &&
	    now_ns >= s->probe_timeout_ns)
		gsp_swim_probe_indirect(n);
	if (now_ns >= s->probe_end_ns) {
		if (s->probing && !s->acked)
			gsp_swim_probe_failed(n, now_ns);
		if (n->leaving)
			s->probing = false;
		else
			gsp_swim_probe_start(n, now_ns);
		s->probe_end_ns = now_ns +
			gsp_swim_scaled(n, n->p.probe_interval_ns);
	}
	next = s->probe_end_ns;
	if (s->probing && !s->acked && !s->indirect_sent &&
	    s->probe_timeout_ns < next)
		next = s->probe_timeout_ns;

	for (uint32_t i = 0; i < GSP_RELAYS_MAX && s->n_relays != 0; i++) {
		struct gsp_relay *rl = &s->relays[i];

		if (!rl->active)
			continue;
		if (now_ns >= rl->expire_ns) {
			gsp_swim_relay_free(s, rl);
			continue;
		}
		if (!rl->nacked && now_ns >= rl->nack_ns) {
			rl->nacked = true;
			if (gsp_swim_lifeguard(n))
				gsp_swim_send(n, GSP_MSG_NACK, &rl->req,
					      rl->req_seq, rl->target, NULL,
					      NULL);
		}
		if (!rl->nacked && rl->nack_ns < next)
			next = rl->nack_ns;
		if (rl->expire_ns < next)
			next = rl->expire_ns;
	}
	if (now_ns >= s->next_suspect_ns)
		gsp_swim_check_suspects(n, now_ns);
	if (s->next_suspect_ns < next)
		next = s->next_suspect_ns;
	gsp_update_counts(n);
	return next;
}
