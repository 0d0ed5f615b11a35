/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SWIM failure detection with Lifeguard's refinements, see docs/PROTOCOL.md.
 *
 * Every probe period a node pings one member, taken round-robin in a random
 * order (so each member is probed by each node once per cycle: bounded
 * detection time). No answer within the probe timeout: k helpers are asked
 * to ping it too (PING_REQ). No answer by the end of the period: the member
 * is suspected: the accuser tells the suspect at once, and the
 * suspicion spreads as a claim piggybacked on every probe message. A
 * suspect that hears of it refutes by raising its incarnation (told to
 * its accuser at once); one that stays silent until its
 * suspicion times out is declared down, and that verdict is pushed from
 * node to node (gsp_swim_push) as well as piggybacked.
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
#include "gsp_swim_int.h"
#include "gsp_util.h"

static size_t
gsp_swim_lazy_size(uint32_t n_slots)
{
	return (size_t)n_slots * (sizeof(struct gsp_swim_ent) +
				  sizeof(uint32_t)) +
		((size_t)(n_slots >> GSP_ENT_GROUP_LOG2) + 1) * sizeof(uint32_t);
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
	if (p->probe_timeout_ns == 0 ||
	    p->probe_timeout_ns >= p->probe_interval_ns ||
	    p->indirect_probes > GSP_FANOUT_MAX)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	/* one entry per member at most, so the pool never runs out; one
	 * lazy mapping holds the pool, the list and the chains' heads, so
	 * what is resident is the heads written and the entries ever in
	 * use at once */
	s->lazy_size = gsp_swim_lazy_size(n->table->n_slots);
	s->ents = gsp_lazy_zalloc(s->lazy_size);
	if (s->ents == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->suspects = (uint32_t *)(s->ents + n->table->n_slots);
	s->ent_head = s->suspects + n->table->n_slots;
	s->next_suspect_ns = UINT64_MAX;
	n->swim = s;
	return 0;
}

void
gsp_swim_destroy(struct gsp_node *n)
{
	if (n->swim == NULL)
		return;
	gsp_lazy_free(n->swim->ents, n->swim->lazy_size);
	free(n->swim);
	n->swim = NULL;
}

/* ---- probing ---- */

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
	/* members sparse among the slots (a shared catalog, early in a
	 * join): one drawn from the used ones, out of the cycle's order */
	for (uint32_t t = 0; t < GSP_PICK_TRIES; t++) {
		uint32_t slot = gsp_table_random(n->table, &n->rng);

		if (slot != GSP_NONE && gsp_swim_target_ok(n, slot))
			return slot;
	}
	return GSP_NONE;
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
	s->late_looked = false;
	s->nacks = 0;
	s->expected_nacks = 0;
	s->probe_slot = slot;
	s->probe_id = gsp_slot_id(n, slot);
	s->probe_seq = gsp_swim_next_seq(s);
	s->probe_timeout_ns = now_ns + gsp_swim_scaled(n, n->p.probe_timeout_ns);
	s->ping_sent_ns = now_ns;
	a = gsp_slot_addr(n, slot);
	s->probe_addr = a;
	r = gsp_rec(n, slot);
	/* a suspect is told so with the probe itself */
	c = gsp_swim_claim_of(n, r, GSP_CLAIM_SUSPECT);
	gsp_swim_send(n, GSP_MSG_PING, gsp_wire_for(n, r), &a, s->probe_seq,
		      s->probe_id, NULL,
		      r->state == GSP_STATE_SUSPECT ? &c : NULL);
}

/* No direct answer in time: ask k random live members to try. */
static void
gsp_swim_probe_indirect(struct gsp_node *n)
{
	struct gsp_swim *s = n->swim;
	uint32_t k = n->p.indirect_probes, picked[GSP_FANOUT_MAX], n_picked = 0;
	struct gsp_addr target = gsp_slot_addr(n, s->probe_slot);

	s->indirect_sent = true;
	if (!(n->detector & GSP_DETECT_INDIRECT))
		return;
	/* and once more directly: a lost ping or pong is the likeliest
	 * cause, and costs one packet to rule out */
	gsp_swim_send(n, GSP_MSG_PING, gsp_wire_for(n, gsp_rec(n, s->probe_slot)),
		      &target, s->probe_seq, s->probe_id, NULL, NULL);
	n_picked = gsp_swim_pick_alive(n, picked, k, s->probe_slot);
	for (uint32_t i = 0; i < n_picked; i++) {
		struct gsp_addr a = gsp_slot_addr(n, picked[i]);

		gsp_swim_send(n, GSP_MSG_PING_REQ,
			      gsp_wire_for(n, gsp_rec(n, picked[i])), &a,
			      s->probe_seq, s->probe_id, &target, NULL);
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
	if (gsp_rec_id(n, r) != s->probe_id || !gsp_live_state(r->state))
		return;
	if (gsp_swim_suspect(n, s->probe_slot, r->incarnation, n->id,
			     now_ns)) {
		struct gsp_claim c = gsp_swim_claim_of(n, r,
						       GSP_CLAIM_SUSPECT);

		GSP_CTR_INC(n->ctr.suspicions);
		/* rides on the probes, not pushed to random members: when
		 * it was, every false suspicion reached 7 nodes at once and
		 * had to be refuted there (twice the suspect transitions,
		 * 1.11x the packets at 20% loss, detection no faster:
		 * BENCHMARKS.md, "A suspicion goes to the suspect only") */
		gsp_swim_claim_add(n, &c, false, now_ns);
		/* and the suspect itself at once: where only our path to it
		 * failed, it refutes before the suspicion spreads */
		gsp_swim_push_to(n, &s->probe_addr, gsp_wire_for(n, r), &c);
	}
}

/* No tick for GSP_STALL_PERIODS probe periods: we were stopped or
 * starved (noticed at the next tick, gsp_swim_stalled) */
static bool
gsp_swim_was_stalled(const struct gsp_node *n, uint64_t now_ns)
{
	const struct gsp_swim *s = n->swim;

	return s->started && now_ns > s->last_tick_ns &&
		now_ns - s->last_tick_ns >
		GSP_STALL_PERIODS * gsp_swim_scaled(n, n->p.probe_interval_ns);
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
	int32_t slot;

	for (uint32_t i = 0; i < m->n_claims; i++)
		gsp_swim_apply(n, &m->claims[i], now_ns);
	/* a change they made goes on from here, not at our next tick: a
	 * flood's hop is then the network's latency alone */
	if (s->push_pending && now_ns >= s->push_next_ns)
		gsp_swim_push(n, now_ns);
	switch (m->hdr.type) {
	case GSP_MSG_PING:
		GSP_CTR_INC(n->ctr.rx_ping);
		/* meant for whoever had this address before: stay silent */
		if (m->target_id == n->id)
			gsp_swim_send(n, GSP_MSG_PONG, m->hdr.version, src,
				      m->seq, n->id, NULL, NULL);
		break;
	case GSP_MSG_PONG:
		if (m->seq == 0) {
			/* pushed claims (gsp_swim_push), applied above */
			GSP_CTR_INC(n->ctr.claim_pushes_rx);
			break;
		}
		GSP_CTR_INC(n->ctr.rx_pong);
		if (s->probing && !s->acked && m->seq == s->probe_seq &&
		    m->target_id == s->probe_id) {
			s->acked = true;
			/* Karn: after the second ping, which one is answered
			 * is unknown; a helper's relay is another path. A
			 * PONG read late because we are slow counts (our own
			 * delay is what our timeouts must allow for), one
			 * read after a stall (before the tick that notices
			 * it) does not: that measures the stall */
			if (!s->indirect_sent && now_ns >= s->ping_sent_ns &&
			    !gsp_swim_was_stalled(n, now_ns) &&
			    gsp_addr_eq(src, &s->probe_addr))
				gsp_swim_rtt_sample(n, now_ns - s->ping_sent_ns,
						    now_ns);
			gsp_swim_aware(n, -1);
			break;
		}
		for (uint32_t i = 0; i < GSP_RELAYS_MAX && s->n_relays; i++) {
			rl = &s->relays[i];
			if (rl->active && rl->seq == m->seq &&
			    rl->target == m->target_id) {
				gsp_swim_send(n, GSP_MSG_PONG, rl->version,
					      &rl->req, rl->req_seq,
					      rl->target, NULL, NULL);
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
		/* on slow paths a helper passes a PONG on as late as its
		 * own probes wait for one; its NACK keeps its time, so as
		 * to reach the prober before the verdict where it can */
		*rl = (struct gsp_relay){
			.req = *src,
			.target = m->target_id,
			.nack_ns = now_ns + n->p.probe_timeout_ns *
				GSP_NACK_PERCENT / 100,
			.expire_ns = now_ns + n->p.probe_interval_ns *
				gsp_swim_rtt_mult(n),
			.req_seq = m->seq,
			.seq = gsp_swim_next_seq(s),
			.version = m->hdr.version,
			.active = true,
		};
		slot = gsp_table_find(n->table, rl->target);
		gsp_swim_send(n, GSP_MSG_PING, gsp_wire_for(n, slot < 0 ? NULL :
			      gsp_rec(n, (uint32_t)slot)), &m->target,
			      rl->seq, rl->target, NULL, NULL);
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
	struct gsp_swim_ent *ss;
	struct gsp_member_rec *r;

	if (slot < 0)
		return;
	ss = gsp_swim_ent(s, (uint32_t)slot);
	if (ss == NULL || !ss->by_claim)
		return;
	r = gsp_rec(n, (uint32_t)slot);
	if ((r->state != GSP_STATE_DOWN &&
	     !(r->state == GSP_STATE_LEFT && ss->force_left)) ||
	    (ss->suspect_ns != 0 &&
	     now_ns - ss->suspect_ns < n->p.probe_interval_ns))
		return;
	/* a member we hold down is talking: tell it, so that it refutes
	 * (after a partition heals, or a stall ends) */
	ss->suspect_ns = now_ns;
	gsp_swim_tell_down(n, (uint32_t)slot, src);
}

void
gsp_swim_tell_down(struct gsp_node *n, uint32_t slot,
		   const struct gsp_addr *dst)
{
	const struct gsp_member_rec *r = gsp_rec(n, slot);
	struct gsp_claim c = gsp_swim_claim_of(n, r, GSP_CLAIM_DEAD);

	gsp_swim_send(n, GSP_MSG_PING, gsp_wire_for(n, r), dst,
		      gsp_swim_next_seq(n->swim), c.id, NULL, &c);
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
		gsp_swim_ent(s, s->suspects[i])->suspect_ns += stall_ns;
	s->next_suspect_ns = 0;		/* recomputed at once */
	for (uint32_t i = 0; i < GSP_RELAYS_MAX; i++)
		s->relays[i].active = false;
	s->n_relays = 0;
	gsp_swim_aware(n, 1);
}

/*
 * The end of a probe period that starts now, moved onto a round when one
 * is near: then one wake-up does both, and an idle node wakes once per
 * period, not twice. Earlier by at most half of what the period leaves
 * after the probe's timeout (helpers keep time to answer), or an eighth
 * of the period. Later, where rounds are as frequent as probes, by up to
 * a gossip interval less that: every end has a round within reach, so
 * the first period after the two part (a late tick, a stall, a Lifeguard
 * stretch, their random start) brings them together again, at the cost
 * of that one period's length. Sparse rounds: an eighth either way.
 */
static uint64_t
gsp_swim_period_end(const struct gsp_node *n, uint64_t now_ns)
{
	uint64_t p = gsp_swim_scaled(n, n->p.probe_interval_ns);
	uint64_t t = gsp_swim_scaled(n, n->p.probe_timeout_ns);
	uint64_t end = now_ns + p, gi = n->p.gossip_interval_ns;
	uint64_t before = (p - t) / 2, after;	/* t < p: checked at start */
	uint64_t g = n->next_round_ns;

	if (gi > p && before > p / 8)
		before = p / 8;
	after = gi > p ? p / 8 : gi > before ? gi - before : 0;
	if (g <= now_ns)
		return end;
	if (g <= end) {
		g += (end - g) / gi * gi;	/* the last round at or before end */
		if (end - g <= before)
			return g;
		g += gi;			/* the first after it */
	}
	return g - end <= after ? g : end;
}

uint64_t
gsp_swim_tick(struct gsp_node *n, uint64_t now_ns)
{
	struct gsp_swim *s = n->swim;
	bool indirect_now;

	if (!s->started) {
		/* start at a random point of the period: nodes started
		 * together do not probe in lockstep */
		s->started = true;
		s->last_tick_ns = now_ns;
		s->probe_end_ns = now_ns +
			gsp_rand(&n->rng) % n->p.probe_interval_ns;
		/* rounds follow the probes' phase: one wake-up does both */
		if (s->probe_end_ns < n->next_round_ns)
			n->next_round_ns = s->probe_end_ns;
	}
	if (gsp_swim_was_stalled(n, now_ns))
		gsp_swim_stalled(n, now_ns - s->last_tick_ns);
	s->last_tick_ns = now_ns;

	indirect_now = s->probing && !s->acked && !s->indirect_sent &&
		now_ns >= s->probe_timeout_ns;
	if (indirect_now)
		gsp_swim_probe_indirect(n);
	if (now_ns >= s->probe_end_ns && s->probing && !s->acked &&
	    !s->late_looked && (indirect_now ||
	    now_ns - s->probe_end_ns > n->p.probe_timeout_ns)) {
		/* We come to the verdict late (a loaded host, but less than
		 * a stall): the answer may be waiting unread behind what
		 * delayed us, and helpers asked just now had no time. The
		 * adapter reads before it ticks again, so look once more,
		 * a probe timeout from now. */
		s->late_looked = true;
		s->probe_end_ns = now_ns + gsp_swim_scaled(n,
							   n->p.probe_timeout_ns);
		GSP_CTR_INC(n->ctr.probes_late);
	} else if (now_ns >= s->probe_end_ns) {
		if (s->probing && !s->acked)
			gsp_swim_probe_failed(n, now_ns);
		if (n->leaving)
			s->probing = false;
		else
			gsp_swim_probe_start(n, now_ns);
		s->probe_end_ns = gsp_swim_period_end(n, now_ns);
	}

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
				gsp_swim_send(n, GSP_MSG_NACK, rl->version,
					      &rl->req, rl->req_seq,
					      rl->target, NULL, NULL);
		}
	}
	if (now_ns >= s->next_suspect_ns)
		gsp_swim_check_suspects(n, now_ns);
	/* after the verdicts: one that ran out now goes with the rest */
	if (s->push_pending && now_ns >= s->push_next_ns)
		gsp_swim_push(n, now_ns);
	gsp_update_counts(n);
	return gsp_swim_next(n);
}

/* The earliest SWIM timer still pending; reads only. An ack that came
 * since the last tick has cleared the probe timeout: no wake-up for it. */
uint64_t
gsp_swim_next(const struct gsp_node *n)
{
	const struct gsp_swim *s = n->swim;
	uint64_t next;

	if (!s->started)
		return 0;
	next = s->probe_end_ns;
	if (s->probing && !s->acked && !s->indirect_sent &&
	    s->probe_timeout_ns < next)
		next = s->probe_timeout_ns;
	for (uint32_t i = 0; i < GSP_RELAYS_MAX && s->n_relays != 0; i++) {
		const struct gsp_relay *rl = &s->relays[i];

		if (!rl->active)
			continue;
		if (!rl->nacked && rl->nack_ns < next)
			next = rl->nack_ns;
		if (rl->expire_ns < next)
			next = rl->expire_ns;
	}
	if (s->next_suspect_ns < next)
		next = s->next_suspect_ns;
	if (s->push_pending && s->push_next_ns < next)
		next = s->push_next_ns;
	return next;
}
