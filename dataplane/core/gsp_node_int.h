/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node's internals, shared by the files of the protocol core only.
 */
#ifndef GSP_NODE_INT_H
#define GSP_NODE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "gsp_core.h"
#include "gsp_limit.h"
#include "gsp_phi.h"
#include "gsp_sec.h"
#include "gsp_table.h"
#include "gsp_util.h"
#include "gsp_wire.h"

#define GSP_QUARANTINE_MAX 256
_Static_assert(GSP_WIRE_VERSION <= GSP_REC_WIRE_MAX, "the record's wire field");
#define GSP_PAUSES_KEPT 32	/* our stalls phi excuses (power of 2) */
#define GSP_LEAVE_FANOUT 16
#define GSP_FANOUT_MAX 16
#define GSP_RX_MAX 65535	/* largest UDP payload a peer can send */
#define GSP_RX_ACCEPT_MAX 8972	/* largest we take: a 9000-byte jumbo MTU */
#define GSP_AUTH_LOG_NS (60ull * 1000000000ull) /* one line per reason */
#define GSP_RUMORS_MAX 256
#define GSP_RUMOR_INDEX (2 * GSP_RUMORS_MAX)	/* open-addressed, power of 2 */
#define GSP_ALONE_SEEDS 2	/* seeds knocked on per round when alone */
#define GSP_SUM_CELL_MIN_LOG2 4	/* finer SUM cells are summed bucket by bucket */
#define GSP_SUM_LEVELS_MAX 8	/* levels 4..32 cover any bucket count */
#define GSP_SWEEP_MIN 1024	/* members evaluated per round at least */
#define GSP_SWEEP_ROUNDS 8	/* a full pass over a large table takes */
#define GSP_SWEEP_PASS_MAX_NS (60ull * 1000000000ull)	/* at most, SWIM v3 */
#define GSP_PICK_TRIES 64	/* random probes for peers in a large table */
#define GSP_FLUX_ROUNDS 3	/* rounds of syncs after our view moved */
#define GSP_RENEW_GAP_NS (60ull * 1000000000ull) /* between renewals */
#define GSP_IMPLAUSIBLE_LOG_NS (60ull * 1000000000ull)

/* Recently forgotten members: their old state must not come back to life
 * through a peer that has not forgotten them yet. */
struct gsp_quarantine {
	uint64_t id;
	uint64_t generation;
	uint64_t version;
	uint64_t until_ns;
};

/* A recent change being spread: the member's current state is sent. */
struct gsp_rumor {
	uint64_t id;
	uint64_t until_round;
	uint32_t slot;
};

struct gsp_node {
	struct gsp_node_params p;
	uint32_t cluster_hash;
	uint64_t id;
	struct gsp_table *table;
	uint32_t self_slot;
	uint64_t version;		/* own highest version */
	uint64_t heartbeat;		/* own heartbeat, +1 per round */
	uint64_t next_round_ns;
	uint64_t last_round_ns;
	bool started;
	bool leaving;
	bool leave_done;
	uint32_t leave_rounds_left;
	bool table_full_reported;
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	unsigned int n_seeds;
	uint64_t rng;
	struct gsp_node_counters ctr;
	uint32_t cnt[4];		/* members by state, self included */
	double lateness;		/* our rounds' real/configured interval */
	uint32_t sweep_cursor;		/* next slot the detector evaluates */
	uint64_t phi_paused_ns;		/* our own stalls, summed */
	/* the latest of them: when each began, how long, and the sum with
	 * it. A member's silence since it was last heard less our stalls
	 * begun since (gsp_silent_ns) is what phi weighs */
	struct gsp_pause {
		uint64_t start_ns;
		uint64_t stalled_ns;
		uint64_t total_ns;
	} pauses[GSP_PAUSES_KEPT];
	uint64_t n_pauses;		/* ever: the newest is [(n - 1) % KEPT] */

	/* digest buckets: the catalog's chains of slots by id prefix
	 * (gsp_ids.h), walked with gsp_bucket_first/next */
	uint32_t n_buckets;		/* power of two */
	uint32_t bucket_bits;
	const uint32_t *bucket_head;
	const uint32_t *bucket_next;	/* per slot */
	uint32_t syn_cursor;		/* first bucket of the next window */

	/* what anti-entropy compares (gsp_member.c): per bucket the XOR of
	 * its members' (id, generation, version) hashes, and their XOR */
	uint64_t *bucket_hash;
	uint32_t *bucket_count;		/* members per bucket */
	/* the same over coarser cells, one per range a SUM compares at the
	 * levels GSP_SUM_LEVEL_STEP, 2 x STEP... whose cells span at least
	 * 1 << GSP_SUM_CELL_MIN_LOG2 buckets: a SUM's 16 hashes then cost 16 loads,
	 * not a pass over every bucket (gsp_range_hash) */
	uint32_t sum_levels;
	uint8_t sum_shift[GSP_SUM_LEVELS_MAX];	/* buckets per cell, log2 */
	uint32_t sum_off[GSP_SUM_LEVELS_MAX];	/* first cell of the level */
	uint64_t *sum_hash;
	uint32_t *sum_count;
	uint64_t sync_root;
	uint64_t down_hash;		/* XOR of the down and left marks */
	uint16_t *peer_view;		/* per slot: the view it last told */
	uint64_t sync_next_ns;		/* no sync starts before this */
	uint8_t proto;			/* highest wire version we speak */
	/* live members speaking v2, counted by the sweep's passes (only
	 * zero or not is used: gsp_legacy_seen may count one twice) */
	uint32_t legacy_live, legacy_acc;
	uint32_t view_peers_acc, view_agree_acc;
	uint64_t round_root;		/* sync root at the last round */
	uint32_t flux_rounds;		/* rounds left to sync with targets */
	/* a PUSH of this round was full with live rumors left out: while
	 * news we took as carried (gsp_merge) is still among them, rumors
	 * may not carry it, so the next round syncs (flux) */
	bool rumors_overflow;
	uint64_t carried_until;		/* round its last rumor lives to */

	struct gsp_rumor rumors[GSP_RUMORS_MAX];	/* ring, oldest first */
	uint32_t rumor_head, rumor_n;
	/* slot -> ring index + 1 (0: empty) for the ring's live slots, by
	 * linear probing: 1 KB a node rather than 2 bytes a member */
	uint16_t rumor_index[GSP_RUMOR_INDEX];

	struct gsp_quarantine quarantine[GSP_QUARANTINE_MAX];
	unsigned int q_next;
	uint64_t q_until;		/* latest expiry: skip the scan after */

	uint8_t *tx;			/* a datagram being built, plain */
	uint16_t body_cap;		/* its room: max_payload - seal */

	/* authentication (gsp_sec.h); kr NULL: plaintext */
	struct gsp_keyring *kr;
	struct gsp_sec_tx sec_tx;
	uint8_t *tx_sealed;
	struct gsp_replay *replay;	/* per slot */
	struct gsp_replay_cache *replay_cache;	/* senders not in the table */
	uint64_t auth_told_ns[GSP_RX_ERR_MAX];	/* last event per reason */

	/* [limits]: n->p holds them with the defaults filled in */
	struct gsp_rate_table *rates;	/* per source: joins, probes */
	struct gsp_limit_report limit_rep[GSP_LIMIT_K_MAX];
	bool app_limited;		/* tighter than the wire allows */

	bool explicit_ids;		/* a member id not derived from its name */
	uint32_t detector;		/* GSP_DETECT_* in force */
	uint32_t incarnation;		/* ours: raised to refute */
	struct gsp_swim *swim;		/* NULL when SWIM is off */
	uint64_t wake_ns;		/* deadline set since the last tick */

	/* what a peer may say (gsp_guard.c) */
	uint64_t generation;		/* ours now: p.generation, or renewed */
	uint64_t clock_t0_ns;		/* core clock when p.generation held */
	bool clock_started;
	uint64_t renewed_ns;		/* last renewal (0: none) */
	uint64_t implausible_told_ns;	/* last GSP_EV_IMPLAUSIBLE */
	uint64_t implausible_untold;	/* skips since */
};

/* Scratch big enough for any datagram, per thread rather than per node:
 * a simulator or an emulating gossipd runs thousands of nodes per thread. */
struct gsp_scratch {
	struct gsp_digest *rx_digests;
	struct gsp_wire_state *rx_states;
	uint32_t *listed;		/* a set of our slots: gsp_sync.c */
	int32_t *found;			/* per received digest: our slot */
	struct gsp_digest *requests;
	uint32_t *send_slots;
	uint32_t send_cap;
	struct gsp_claim *rx_claims;
	uint8_t *rx_plain;		/* an opened sealed datagram */
};


struct gsp_swim;

static inline struct gsp_member_rec *
gsp_rec(struct gsp_node *n, uint32_t slot)
{
	return gsp_table_rec(n->table, slot);
}

/* The id of the member in r, one of n's records (0: a free slot). */
static inline uint64_t
gsp_rec_id(const struct gsp_node *n, const struct gsp_member_rec *r)
{
	return gsp_table_rec_id(n->table, r);
}

/* Where the member in slot is (the catalog's word: gsp_ids.h). */
static inline struct gsp_addr
gsp_slot_addr(const struct gsp_node *n, uint32_t slot)
{
	return gsp_table_addr(n->table, slot);
}

static inline struct gsp_addr
gsp_rec_addr(const struct gsp_node *n, const struct gsp_member_rec *r)
{
	return gsp_slot_addr(n, (uint32_t)(r - n->table->recs));
}

static inline uint64_t
gsp_slot_id(struct gsp_node *n, uint32_t slot)
{
	/* by the slot: from a record's address it takes a division */
	return gsp_table_slot_id(n->table, slot);
}

static inline bool
gsp_addr_eq(const struct gsp_addr *a, const struct gsp_addr *b)
{
	return a->ip == b->ip && a->port == b->port;
}

/* At most once per period_ns: true (and *last_ns = now) when the last
 * time was long enough ago, or never. Logs of floods and renewals go
 * through it, so a peer cannot make them run at its pace. */
static inline bool
gsp_once_per(uint64_t *last_ns, uint64_t now_ns, uint64_t period_ns)
{
	if (*last_ns != 0 && now_ns - *last_ns < period_ns)
		return false;
	*last_ns = now_ns != 0 ? now_ns : 1;	/* 0 means never */
	return true;
}

/* A timer set outside gsp_node_tick: the adapter must tick by then. */
static inline void
gsp_wake_at(struct gsp_node *n, uint64_t t)
{
	if (t < n->wake_ns)
		n->wake_ns = t;
}

/* Bucket of a digest key (gsp_id_key of a member id). */
static inline uint32_t
gsp_bucket_of(const struct gsp_node *n, uint64_t key)
{
	return gsp_ids_chain_of_key(key, n->bucket_bits);
}

/* Lowest digest key of bucket b. */
static inline uint64_t
gsp_bucket_lo(const struct gsp_node *n, uint32_t b)
{
	return n->bucket_bits == 0 ? 0 : (uint64_t)b << (64 - n->bucket_bits);
}

_Static_assert(GSP_NONE == GSP_IDS_CHAIN_END,
	       "a chain ends where a slot is none");

/* A bucket's chain holds the ids of every table sharing the catalog:
 * the first at or after slot s that is ours, or GSP_NONE. */
static inline uint32_t
gsp_bucket_skip(const struct gsp_node *n, uint32_t s)
{
	/* a catalog of our own holds our members only */
	if (!n->table->shared_ids)
		return s;
	while (s != GSP_NONE && !gsp_table_has(n->table, s))
		s = n->bucket_next[s];
	return s;
}

/* Our members in bucket b: for (s = gsp_bucket_first(n, b);
 * s != GSP_NONE; s = gsp_bucket_next(n, s)). */
static inline uint32_t
gsp_bucket_first(const struct gsp_node *n, uint32_t b)
{
	return gsp_bucket_skip(n, n->bucket_head[b]);
}

static inline uint32_t
gsp_bucket_next(const struct gsp_node *n, uint32_t s)
{
	return gsp_bucket_skip(n, n->bucket_next[s]);
}

/* A node alone prefetches from this many slots on (3.5 MB of records,
 * beyond a core's L2 and most of a shared L3): a judgment. Measured:
 * at 100 to 10,000 members the lookups ahead cost 6% more than they save
 * (BM_MergeHeartbeats); nothing between 10,000 and this. */
#define GSP_PREFETCH_SLOTS (1u << 16)

/* Whether n's records are worth asking for ahead: its tables outgrow the
 * caches (many sharing a catalog in one thread, or one very large). */
static inline bool
gsp_prefetching(const struct gsp_node *n)
{
	return n->table->shared_ids || n->table->n_slots >= GSP_PREFETCH_SLOTS;
}

/* Asks for the rumor ring's index (1 KB: every line of it, since news of
 * a packet's states lands all over it) and the ring entries `count` new
 * rumors would take or evict. */
static inline __attribute__((always_inline)) void
gsp_prefetch_rumors(struct gsp_node *n, uint32_t count)
{
	uint32_t at = (n->rumor_head + n->rumor_n) % GSP_RUMORS_MAX;
	const char *ix = (const char *)n->rumor_index;

	/* 16 lines, or 17 where the node leaves it unaligned */
	for (uint32_t o = 0; o < sizeof(n->rumor_index); o += 64)
		__builtin_prefetch(ix + o, 1);
	__builtin_prefetch(ix + sizeof(n->rumor_index) - 1, 1);
	if (count > GSP_RUMORS_MAX)
		count = GSP_RUMORS_MAX;
	for (uint32_t k = 0; k < count; k += 64 / sizeof(n->rumors[0]))
		__builtin_prefetch(&n->rumors[(at + k) % GSP_RUMORS_MAX], 1);
}

/* Asks for what a merge of member id touches in our table: its record
 * when the catalog knows it (a table sharing the catalog may not hold
 * it yet), its bucket's counts, and its view tag. Returns the catalog's
 * slot for id, or -1, for the merge to start from (gsp_merge_at). */
static inline __attribute__((always_inline)) int32_t
gsp_prefetch_member(struct gsp_node *n, uint64_t id)
{
	int32_t slot = gsp_index_lookup(n->table->index, id);
	uint32_t b = gsp_bucket_of(n, gsp_id_key(id));

	__builtin_prefetch(&n->bucket_count[b], 1);
	__builtin_prefetch(&n->bucket_hash[b], 1);
	if (slot < 0)
		return -1;
	gsp_table_prefetch(n->table, (uint32_t)slot);
	__builtin_prefetch(&n->peer_view[slot], 1);
	return slot;
}

/* Digest entries one SYN packet of ours lists at most. */
static inline uint32_t
gsp_syn_digests_per_packet(const struct gsp_node *n)
{
	return (n->body_cap - GSP_WIRE_HDR_LEN - GSP_WIRE_SYN_PREFIX) /
		GSP_WIRE_DIGEST_LEN;
}

/* The digest of a node's membership view: its sync root (what it holds
 * of each member) with who it holds down or left. */
static inline uint64_t
gsp_view_digest(const struct gsp_node *n)
{
	return n->sync_root ^ n->down_hash;
}

/* What a node keeps of a view digest to count the peers that agree
 * with it: 16 bits, never 0 (0: it told none). A peer whose view differs
 * counts as agreeing once in 32,768: the share is a statistic. */
static inline uint16_t
gsp_view_tag(uint64_t view)
{
	return (uint16_t)(view >> 48) | 1;
}

/* [limits] app_bytes_max, 0 meaning the default (as gsp_limits_init) */
static inline uint32_t
gsp_app_bytes_max(const struct gsp_node_params *p)
{
	return p->app_bytes_max != 0 ? p->app_bytes_max : GSP_APP_BYTES_MAX;
}

/*
 * With SWIM and wire version 3 (and no live peer on version 2), a peer
 * that is in step with us gets our news and nothing else: probes carry
 * sync roots, and a differing one starts a sync (gsp_view_heard). For a
 * few rounds after our own view moved (a join, a change learned), our
 * round's targets get a sync as well, so news spreads by push and pull
 * as fast as full digests did, at the cost of the differences only.
 */
static inline bool
gsp_hash_sync(const struct gsp_node *n)
{
	return n->swim != NULL && n->proto >= 3 && n->legacy_live == 0;
}

/* The wire version to speak to a member: the lower of ours and its. */
static inline uint8_t
gsp_wire_for(const struct gsp_node *n, const struct gsp_member_rec *r)
{
	if (r == NULL || r->wire < 3 || n->proto < 3)
		return GSP_WIRE_VERSION_MIN;
	return r->wire < n->proto ? r->wire : n->proto;
}

/* gsp_wire_for the member with this id (a message's sender), unknown
 * ones as the oldest. */
static inline uint8_t
gsp_wire_for_id(const struct gsp_node *n, uint64_t id)
{
	int32_t slot = gsp_table_find(n->table, id);

	return gsp_wire_for(n, slot < 0 ? NULL : &n->table->recs[slot]);
}

/*
 * The core's files call downwards only: each may call those after it,
 * none calls one before it.
 *   gsp_node.c (API), gsp_rx.c, gsp_round.c, gsp_sync.c, gsp_merge.c,
 *   gsp_sweep.c, gsp_swim.c, gsp_swim_claim.c, gsp_guard.c,
 *   gsp_limit_use.c, gsp_member.c (.h), gsp_rumor.c, gsp_build.c (.h)
 * SWIM's interface to the node is gsp_swim_* below; SWIM itself uses
 * only gsp_guard.c, gsp_member.c and gsp_build.c.
 */

/* gsp_build.c: datagrams out, events to the adapter */
struct gsp_scratch *gsp_scratch_get(uint32_t send_cap);
void gsp_count_tx(struct gsp_node *n, uint8_t type);
/* Sends n->tx[0..len), sealed when the node authenticates. */
void gsp_node_send(struct gsp_node *n, const struct gsp_addr *dst,
		   uint16_t len);
void gsp_copy_name(char dst[GSP_NAME_MAX], const char *src);
void gsp_emit_event(struct gsp_node *n, uint8_t type,
		    const struct gsp_member_rec *r, uint8_t old_state);
void gsp_rec_to_wire(struct gsp_node *n, struct gsp_member_rec *r,
		     struct gsp_wire_state *st);

/* gsp_rumor.c: recent changes, piggybacked for a few rounds */
/* true when the ring holds the news and gave none up for it: rumors
 * carry it, so it needs no sync of its own (gsp_merge), as long as a
 * PUSH holds all the live ones (rumors_overflow) */
bool gsp_rumor_add(struct gsp_node *n, uint32_t slot);
/* The round a rumor added now lives to. */
uint64_t gsp_rumor_until(const struct gsp_node *n);
void gsp_rumor_expire(struct gsp_node *n);
/* The slot's member is forgotten: its rumor, if any, is dropped. */
void gsp_rumor_forget(struct gsp_node *n, uint32_t slot);
/* The index finds exactly the ring's live rumors (gsp_node_view_check). */
bool gsp_rumor_verify(const struct gsp_node *n);
/* One PUSH packet of the newest live rumors. */
/* The thread's scratch state for building one outgoing member state: a
 * state is up to 4.8 KB, one per thread rather than one per node (the
 * simulator runs thousands of nodes on a thread). */
struct gsp_wire_state *gsp_out_scratch(void);
void gsp_rumor_push(struct gsp_node *n, const struct gsp_addr *dst,
		    uint8_t dst_wire);

/* gsp_limit_use.c: [limits] applied */
int gsp_limits_init(struct gsp_node *n);
int gsp_rx_limits(struct gsp_node *n, const struct gsp_addr *src,
		  const struct gsp_wire_msg *m, uint64_t now_ns);
bool gsp_printable_str(const char *s, size_t max);
/* The GSP_LIMIT_K_APP_* limit app[0..count) exceeds, or -1. */
int gsp_app_over_limit(const struct gsp_node *n,
		       const struct gsp_app_entry *app, uint8_t count);

/* gsp_sweep.c: the failure detector and forgetting */
/* The member in r is heard for the first time (or restarted): phi
 * starts over from the expected interval. Inside r's write section. */
void gsp_heard_first(struct gsp_node *n, struct gsp_member_rec *r,
		     uint64_t now_ns);
void gsp_forget(struct gsp_node *n, uint32_t slot, uint64_t now_ns);
void gsp_fd_sweep(struct gsp_node *n, uint64_t now_ns);

/* gsp_merge.c: the merge rule */
void gsp_merge_all(struct gsp_node *n, const struct gsp_wire_state *st,
		   uint32_t count, uint64_t now_ns);
void gsp_merge(struct gsp_node *n, const struct gsp_wire_state *st,
	       uint64_t now_ns);

/* gsp_sync.c: anti-entropy (SYN, ACK, ACK2, SUM) */
void gsp_handle_syn(struct gsp_node *n, const struct gsp_addr *src,
		    const struct gsp_wire_msg *m, struct gsp_scratch *s);
void gsp_handle_ack(struct gsp_node *n, const struct gsp_addr *src,
		    const struct gsp_wire_msg *m, uint64_t now_ns,
		    struct gsp_scratch *s);
uint32_t gsp_send_window(struct gsp_node *n, const struct gsp_addr *dst,
			 uint32_t first);
/* Range hashes (v3): a sync starts with a SUM of the top buckets and
 * goes down only where hashes differ. */
void gsp_sync_start(struct gsp_node *n, const struct gsp_addr *dst);
void gsp_handle_sum(struct gsp_node *n, const struct gsp_addr *src,
		    const struct gsp_wire_msg *m);
void gsp_sum_from_stranger(struct gsp_node *n, const struct gsp_addr *src,
			   uint64_t sender_id);
/* A v3 probe message's view block: the sender's heartbeat and view. */
void gsp_view_heard(struct gsp_node *n, const struct gsp_addr *src,
		    const struct gsp_wire_msg *m, uint64_t now_ns);

/* gsp_round.c: rounds; peers picked for one */
struct gsp_scan {
	uint32_t live[GSP_LEAVE_FANOUT];
	uint32_t n_picked;	/* entries of live[] */
	uint32_t n_live;	/* live members known */
	uint32_t down;		/* one random down member */
	uint32_t n_down;	/* down members known (0: none picked) */
};

void gsp_pick_peers(struct gsp_node *n, uint32_t k, struct gsp_scan *s);

/* gsp_guard.c: the numbers and addresses a peer may send us, and what
 * we do when a peer holds a state of ours that we did not make */
/* Starts our clock in generation units (at the first tick or datagram). */
void gsp_generation_clock_start(struct gsp_node *n, uint64_t now_ns);
bool gsp_generation_plausible(struct gsp_node *n, uint64_t generation,
			      uint64_t now_ns);
/* true when a received member state may be merged; else counted and
 * reported (as implausible) */
bool gsp_state_plausible(struct gsp_node *n, const struct gsp_wire_state *st,
			 uint64_t now_ns);
bool gsp_addr_plausible(const struct gsp_node *n, uint32_t ip, uint16_t port);
bool gsp_heartbeat_plausible(struct gsp_node *n, uint64_t generation,
			     uint64_t heartbeat, uint64_t now_ns);
void gsp_implausible(struct gsp_node *n, const char *what, uint64_t id,
		     uint64_t generation, uint64_t now_ns);
/* A state about us that a peer holds: we take over its incarnation, or
 * start a new generation when it outranks what we can still say. */
void gsp_self_state_seen(struct gsp_node *n, const struct gsp_wire_state *st,
			 uint64_t now_ns);
/* Starts a new generation above `above`; false when one was started
 * less than GSP_RENEW_GAP_NS ago. */
bool gsp_self_renew(struct gsp_node *n, uint64_t above, uint64_t version,
		    uint64_t now_ns);

/* gsp_swim.c: SWIM probes, suspicion and refutation, Lifeguard */
int gsp_swim_create(struct gsp_node *n);
void gsp_swim_destroy(struct gsp_node *n);
void gsp_swim_rx(struct gsp_node *n, const struct gsp_addr *src,
		 const struct gsp_wire_msg *m, uint64_t now_ns);
/* Runs what is due; returns the next deadline (UINT64_MAX: none). */
uint64_t gsp_swim_tick(struct gsp_node *n, uint64_t now_ns);
uint64_t gsp_swim_next(const struct gsp_node *n);
/* A slot got a new occupant or generation: its SWIM state starts over. */
void gsp_swim_reset(struct gsp_node *n, uint32_t slot);
/* A member's incarnation grew (its own news): suspicion is over. */
void gsp_swim_refuted(struct gsp_node *n, uint32_t slot, uint64_t now_ns);
/* A packet came from a member we hold down by claim: tell it so. */
void gsp_swim_heard_from(struct gsp_node *n, uint64_t sender,
			 const struct gsp_addr *src, uint64_t now_ns);
/* A PING that tells a member we hold it down (so that, alive, it
 * refutes and answers with its view). */
void gsp_swim_tell_down(struct gsp_node *n, uint32_t slot,
			const struct gsp_addr *dst);
/* phi finds a member late: probe it soon. */
void gsp_swim_hint(struct gsp_node *n, uint32_t slot);
/* true when a down state came from a SWIM claim (heartbeats don't undo) */
bool gsp_swim_down_by_claim(const struct gsp_node *n, uint32_t slot);

#endif /* GSP_NODE_INT_H */
