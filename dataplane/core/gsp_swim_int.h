/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SWIM's state, shared by its two files: gsp_swim.c (probing, receiving,
 * timers: the interface the node calls) and gsp_swim_claim.c (timeouts,
 * claims piggybacked on probes, suspicion), which gsp_swim.c calls and
 * which calls nothing back.
 */
#ifndef GSP_SWIM_INT_H
#define GSP_SWIM_INT_H

#include "gsp_node_int.h"

#define GSP_CLAIMS_MAX 256		/* claims being spread at once */
#define GSP_CLAIMS_PER_MSG 64		/* piggybacked per probe message */
#define GSP_RELAYS_MAX 64		/* PING_REQs served at once */
#define GSP_HINTS_MAX 16		/* members phi asks us to probe next */
#define GSP_PROBE_TRIES 256		/* slots looked at to pick a target */
#define GSP_RETRANSMIT_MULT 4		/* claim sends x ceil(log10(N+1)) */
#define GSP_STALL_PERIODS 5		/* a tick this late: we were stalled */
#define GSP_NACK_PERCENT 80		/* of the probe timeout */
#define GSP_RTT_MAX_NS 1000000000ull	/* a longer round trip counts as 1 s */
#define GSP_BUDDIES 8			/* nodes expected to probe a new suspect */
#define GSP_PUSH_FANOUT 6		/* members a verdict is pushed to */
#define GSP_PUSHES_PER_PERIOD 10	/* at most, per probe period */
/* slots per chain of entries: a lookup walks at most this many */
#define GSP_ENT_GROUP_LOG2 4

/*
 * SWIM's state of a member it suspects or holds down (or force-left),
 * protocol thread only. Held only while it says something: a live
 * member, most of a table, has none (gsp_swim_ent).
 */
struct gsp_swim_ent {
	uint64_t suspect_ns;	/* suspicion start; when down: last told */
	uint32_t slot;		/* the member's table slot */
	uint32_t pos;		/* index in suspects[], while suspected */
	uint16_t accusers;	/* one bit per accuser id: distinct count */
	uint8_t confirm;	/* independent accusers after the first */
	uint8_t by_claim : 1;	/* down by a SWIM verdict */
	uint8_t force_left : 1;	/* left by gossipctl force-leave: its own
				 * refutation may bring it back */
	uint32_t next;		/* 1 + the next entry of its slot group's
				 * chain, or 0 (the padding's room) */
};

_Static_assert(sizeof(struct gsp_swim_ent) == 24, "SWIM entry size");

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
	uint8_t version;	/* the requester's: our PONG or NACK's */
	bool active;
	bool nacked;
};

struct gsp_swim {
	/* per group of 1 << GSP_ENT_GROUP_LOG2 slots: 1 + the index in
	 * ents[] of the first entry of its chain, or 0. Chains, not an
	 * index per slot: 4 bytes per 16 members instead of 4 per member,
	 * and at most 16 entries to look at. ents[] is used from the
	 * bottom, [0, n_ents): its pages are touched only as far as
	 * members are at once suspected or down */
	uint32_t *ent_head;
	struct gsp_swim_ent *ents;	/* also holds ent_head and suspects */
	size_t lazy_size;
	uint32_t n_ents;
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
	uint64_t ping_sent_ns;		/* the probe's first ping */
	struct gsp_addr probe_addr;	/* where it went */
	bool probing;
	bool acked;
	bool indirect_sent;
	bool late_looked;		/* verdict put off once: we ran late */
	uint32_t nacks;
	uint32_t expected_nacks;

	/* a claim came that is news: pushed at once (gsp_swim_push), not
	 * only piggybacked on the next probes */
	bool push_pending;
	uint64_t push_next_ns;		/* no push before this */

	uint32_t seq;			/* 0 is never used: a PONG with seq
					 * 0 carries pushed claims */
	uint32_t awareness;		/* Lifeguard health multiplier */
	/* round trips of our direct probes, smoothed (RFC 6298's estimator):
	 * with Lifeguard the probe timeout follows them, up to the cap
	 * (gsp_swim_rtt_mult) */
	uint64_t srtt_ns;
	uint64_t rttvar_ns;
	uint64_t last_tick_ns;
	bool started;

	/* round-robin in random order: slot = (a * i + b) mod span */
	uint64_t perm_a, perm_b;
	uint32_t perm_span, perm_i;
};

static inline bool
gsp_swim_lifeguard(const struct gsp_node *n)
{
	return (n->detector & GSP_DETECT_LIFEGUARD) != 0;
}

/* The next probe sequence number; never 0 (pushed claims' PONG). */
static inline uint32_t
gsp_swim_next_seq(struct gsp_swim *s)
{
	if (++s->seq == 0)
		s->seq = 1;
	return s->seq;
}

/* What we claim of the member in r, one of n's records. */
static inline struct gsp_claim
gsp_swim_claim_of(const struct gsp_node *n, const struct gsp_member_rec *r,
		  uint8_t status)
{
	return (struct gsp_claim){ gsp_rec_id(n, r), r->generation, n->id,
		r->incarnation, status, 0 };
}

/* The SWIM state of the member in slot, or NULL: none to keep. */
static inline struct gsp_swim_ent *
gsp_swim_ent(const struct gsp_swim *s, uint32_t slot)
{
	uint32_t e = s->ent_head[slot >> GSP_ENT_GROUP_LOG2];

	while (e != 0 && s->ents[e - 1].slot != slot)
		e = s->ents[e - 1].next;
	return e != 0 ? &s->ents[e - 1] : NULL;
}

/* The same of node n, or NULL when it runs no SWIM. */
static inline const struct gsp_swim_ent *
gsp_node_swim_ent(const struct gsp_node *n, uint32_t slot)
{
	return n->swim != NULL ? gsp_swim_ent(n->swim, slot) : NULL;
}

/* LEFT by an operator's force-leave, not by the member's own LEAVE: its
 * state is gossiped as it was (read where states are built and merged) */
static inline bool
gsp_swim_force_left(const struct gsp_node *n, uint32_t slot)
{
	const struct gsp_swim_ent *e = gsp_node_swim_ent(n, slot);

	return e != NULL && e->force_left;
}

/* gsp_swim_claim.c */
bool gsp_swim_target_ok(struct gsp_node *n, uint32_t slot);
uint32_t gsp_swim_pick_alive(struct gsp_node *n, uint32_t *picked,
			     uint32_t k, uint32_t except);
uint64_t gsp_swim_scaled(const struct gsp_node *n, uint64_t base);
uint64_t gsp_swim_rtt_mult(const struct gsp_node *n);
void gsp_swim_rtt_sample(struct gsp_node *n, uint64_t rtt_ns,
			 uint64_t now_ns);
uint32_t gsp_swim_live(const struct gsp_node *n);
uint64_t gsp_swim_suspicion_ns(const struct gsp_node *n, uint32_t confirm);
void gsp_swim_aware(struct gsp_node *n, int delta);
uint32_t gsp_swim_retransmits(const struct gsp_node *n);
/* push: a change of state, pushed at once (gsp_swim_push) as well */
void gsp_swim_claim_add(struct gsp_node *n, const struct gsp_claim *c,
			bool push, uint64_t now_ns);
uint32_t gsp_swim_put_claims(struct gsp_node *n, struct gsp_wire_writer *w);
void gsp_swim_push(struct gsp_node *n, uint64_t now_ns);
/* A PONG with seq 0 to dst: first alone, or (first NULL) the claims
 * still to be spread; false, and nothing sent, when there were none. */
bool gsp_swim_push_to(struct gsp_node *n, const struct gsp_addr *dst,
		      uint8_t version, const struct gsp_claim *first);
/* version: what the receiver speaks (gsp_wire_for, or its request's) */
void gsp_swim_send(struct gsp_node *n, uint8_t type, uint8_t version,
		   const struct gsp_addr *dst, uint32_t seq,
		   uint64_t target_id, const struct gsp_addr *target,
		   const struct gsp_claim *first);
void gsp_swim_unsuspect(struct gsp_node *n, uint32_t slot);
uint16_t gsp_swim_accuser_bit(uint64_t from);
bool gsp_swim_suspect(struct gsp_node *n, uint32_t slot, uint32_t inc,
		      uint64_t from, uint64_t now_ns);
bool gsp_swim_left(struct gsp_node *n, uint32_t slot, uint32_t inc,
		   uint64_t now_ns);
bool gsp_swim_dead(struct gsp_node *n, uint32_t slot, uint32_t inc,
		   uint64_t now_ns);
void gsp_swim_check_suspects(struct gsp_node *n, uint64_t now_ns);
void gsp_swim_refute(struct gsp_node *n, const struct gsp_claim *c,
		     uint64_t now_ns);
void gsp_swim_apply(struct gsp_node *n, const struct gsp_claim *c,
		    uint64_t now_ns);

#endif /* GSP_SWIM_INT_H */
