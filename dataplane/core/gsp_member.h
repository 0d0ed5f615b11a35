/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A member's bookkeeping (gsp_member.c): the lowest layer of the node, used
 * by SWIM, the guard and the node's own files alike.
 */
#ifndef GSP_MEMBER_H
#define GSP_MEMBER_H

#include <stdbool.h>
#include <stdint.h>

#include "gsp_node_int.h"
#include "gsp_util.h"

/* gsp_member.c: a member's state, counts, bucket and replay window;
 * our own stalls (what a silence is excused) */
void gsp_bucket_add(struct gsp_node *n, uint32_t slot);
void gsp_bucket_del(struct gsp_node *n, uint32_t slot);
/* Adds or removes (XOR: the same call) a member's (id, generation,
 * version) from its bucket's hash and the sync root: call it before and
 * after any change of those, and once on insert and on removal. */
void gsp_sync_toggle(struct gsp_node *n, uint32_t slot);
/* Recomputes every hash from the table: true when the running ones
 * agree (tests, the simulator's final check). */
bool gsp_view_verify(const struct gsp_node *n);
void gsp_update_counts(struct gsp_node *n);
void gsp_publish_self(struct gsp_node *n);	/* version++ and spread */
/* A change of our own record: begin opens its write section with the
 * next version (and returns it), end closes it, updates the range hashes
 * and spreads it as a rumor. */
struct gsp_member_rec *gsp_self_change_begin(struct gsp_node *n);
void gsp_self_change_end(struct gsp_node *n, struct gsp_member_rec *r);
struct gsp_replay *gsp_replay_for(struct gsp_node *n, uint64_t sender_id,
				  uint64_t now_ns);
void gsp_replay_keep(struct gsp_node *n, uint32_t slot, uint64_t now_ns);

/* Our stall of stalled_ns, seen at now_ns: silence over it is excused. */
void gsp_pause_add(struct gsp_node *n, uint64_t now_ns, uint64_t stalled_ns);
uint64_t gsp_paused_since_slow(const struct gsp_node *n, uint64_t t_ns);

/* Our own stalls begun at or after t_ns. */
static inline uint64_t
gsp_paused_since(const struct gsp_node *n, uint64_t t_ns)
{
	const struct gsp_pause *newest;

	if (n->n_pauses == 0)
		return 0;
	newest = &n->pauses[(n->n_pauses - 1) % GSP_PAUSES_KEPT];
	if (newest->start_ns < t_ns)	/* nearly always: none since */
		return 0;
	return gsp_paused_since_slow(n, t_ns);
}

/* How long the member in r has been silent, less our own stalls begun
 * since it was last heard: its silence while we were paused
 * (descheduled, stopped) is no evidence against it. */
static inline uint64_t
gsp_silent_ns(const struct gsp_node *n, const struct gsp_member_rec *r,
	      uint64_t now_ns)
{
	uint64_t heard_ns = gsp_heard_ns(r);
	uint64_t silent, paused;

	if (now_ns <= heard_ns)
		return 0;
	silent = now_ns - heard_ns;
	paused = gsp_paused_since(n, heard_ns);
	return silent > paused ? silent - paused : 0;
}

/* The member's heartbeat advanced: phi takes the interval, and the
 * record when. Inside r's write section. */
static inline void
gsp_heard(struct gsp_node *n, struct gsp_member_rec *r, uint64_t now_ns)
{
	uint64_t heard_ns = gsp_heard_ns(r);
	uint64_t silent, paused;
	struct gsp_phi fd;

	if (now_ns < heard_ns)	/* a clock set back */
		return;
	silent = now_ns - heard_ns;
	paused = gsp_paused_since(n, heard_ns);
	/* a silence our own stalls cover whole tells nothing of its pace
	 * (one of 0, a second heartbeat at once, is an interval of 0) */
	if (paused < silent || silent == 0) {
		fd = gsp_rec_phi(r);
		gsp_phi_sample(&fd, silent - (paused < silent ? paused : 0));
		gsp_rec_set_phi(r, fd);
	}
	r->heard = gsp_heard_of(now_ns);
	r->phi_centi = 0;
}

static inline bool
gsp_live_state(uint8_t state)
{
	return state == GSP_STATE_ALIVE || state == GSP_STATE_SUSPECT;
}

/* A member merged: one live on version 2 counts at once, in this pass
 * and the last, not when the sweep's pass (up to a minute) comes by:
 * heartbeats are then published as soon as it is there. */
static inline void
gsp_legacy_seen(struct gsp_node *n, const struct gsp_member_rec *r)
{
	if (r->wire >= 3 || !gsp_live_state(r->state))
		return;
	if (n->legacy_live == 0)
		n->legacy_live = 1;
	if (n->legacy_acc == 0)
		n->legacy_acc = 1;
}

/* A member's (id, generation, version) as anti-entropy hashes it. */
static inline uint64_t
gsp_sync_hash(const struct gsp_node *n, const struct gsp_member_rec *r)
{
	return gsp_id_key(gsp_rec_id(n, r) ^
			  gsp_id_key(r->generation ^ gsp_id_key(r->version)));
}

/* A member's part of the view digest beyond its state: who is down or
 * left (suspect counts as alive: it is a question, not a verdict). */
static inline uint64_t
gsp_down_mark(uint64_t id, uint8_t state)
{
	if (state == GSP_STATE_DOWN)
		return gsp_id_key(id ^ 0x646f776e00000000ull);
	if (state == GSP_STATE_LEFT)
		return gsp_id_key(id ^ 0x6c65667400000000ull);
	return 0;
}

/* Inline: every merged heartbeat calls it, nearly always for no change. */
static inline void
gsp_set_state(struct gsp_node *n, struct gsp_member_rec *r, uint8_t state,
	      uint64_t now_ns)
{
	uint8_t old = r->state;
	uint64_t id;

	if (old == state)
		return;
	n->cnt[old & 3]--;
	n->cnt[state & 3]++;
	id = gsp_rec_id(n, r);
	n->down_hash ^= gsp_down_mark(id, old) ^ gsp_down_mark(id, state);
	r->state = state;
	r->since_ms = gsp_since_ms_of(now_ns);
	gsp_emit_event(n, GSP_EV_STATE, r, old);
}

#endif /* GSP_MEMBER_H */
