/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-entropy: SYN digests over a window of id buckets, the ACK with
 * the states a peer lacks and requests for what we lack, and ACK2.
 */
#include <string.h>

#include "gsp_util.h"

#include "gsp_build.h"
#include "gsp_member.h"
#include "gsp_node_int.h"

/*
 * The slots a packet's digests name, as a set: to skip what a SYN
 * listed while walking our buckets, and to answer a repeated request
 * once. Open addressing on slot + 1 at most half full, cleared for each
 * packet (a few lines): no sort of the digests. Returns the mask.
 */
static uint32_t
gsp_listed_clear(struct gsp_scratch *s, uint32_t n_digests)
{
	uint32_t size = 2u << gsp_log2_ceil(n_digests | 1);

	memset(s->listed, 0, size * sizeof(*s->listed));
	return size - 1;
}

/* The largest set (a 64 KB datagram of digests, at most half full)
 * takes its home from the product's top 16 bits. */
_Static_assert(4u * (GSP_RX_MAX / GSP_WIRE_DIGEST_LEN) <= 1u << 16,
	       "listed set: a mask of 16 bits at most");

/* Fibonacci hashing: slots that differ in their low bits spread. */
static inline uint32_t
gsp_listed_home(uint32_t slot, uint32_t mask)
{
	return ((slot * 2654435761u) >> 16) & mask;
}

/* The entry holding slot, or the empty one where it would go: the set
 * is never more than half full, so the probe ends. */
static uint32_t *
gsp_listed_at(struct gsp_scratch *s, uint32_t mask, uint32_t slot)
{
	uint32_t i = gsp_listed_home(slot, mask);

	while (s->listed[i] != 0 && s->listed[i] != slot + 1)
		i = (i + 1) & mask;
	return &s->listed[i];
}

/* Adds slot; false when it was there already. */
static bool
gsp_listed_add(struct gsp_scratch *s, uint32_t mask, uint32_t slot)
{
	uint32_t *e = gsp_listed_at(s, mask, slot);

	if (*e != 0)
		return false;
	*e = slot + 1;
	return true;
}

static uint32_t gsp_bucket_size_in(struct gsp_node *n, uint32_t b,
				   uint64_t lo, uint64_t hi);

/* Whether we hold a member in [lo, hi] besides the `listed` ones a
 * peer's SYN packet names: with distinct ids (an honest peer's), the
 * members we hold there are then exactly those; a peer that repeats ids
 * may go without some. Counted from the buckets, so a SYN that lists
 * all we hold needs no walk of them. */
static bool
gsp_range_has_more(struct gsp_node *n, uint64_t lo, uint64_t hi,
		   uint32_t listed)
{
	uint32_t b_hi = gsp_bucket_of(n, hi), held = 0;

	for (uint32_t b = gsp_bucket_of(n, lo); b <= b_hi; b++) {
		held += gsp_bucket_size_in(n, b, lo, hi);
		if (held > listed)
			return true;
	}
	return false;
}

/* Our slot for each of d[0..count) (found[i] < 0: not held), their
 * records asked for before any is read: the misses overlap. Returns how
 * many we hold. */
static uint32_t
gsp_digests_find(struct gsp_node *n, const struct gsp_digest *d,
		 uint32_t count, int32_t *found)
{
	uint32_t held = 0;

	for (uint32_t i = 0; i < count; i++) {
		found[i] = gsp_table_find(n->table, d[i].id);
		if (found[i] >= 0) {
			gsp_table_prefetch(n->table, (uint32_t)found[i]);
			held++;
		}
	}
	return held;
}

/* States an ACK asks for ahead of the one it encodes */
#define GSP_SEND_AHEAD 8

void
gsp_handle_syn(struct gsp_node *n, const struct gsp_addr *src,
	       const struct gsp_wire_msg *m, struct gsp_scratch *s)
{
	uint32_t n_send = 0, n_req = 0, listed, b_lo, b_hi;
	uint32_t max = n->p.ack_states;
	uint8_t dst_wire = gsp_wire_for_id(n, m->hdr.sender_id);
	bool prefetch = gsp_prefetching(n);
	struct gsp_out o;

	listed = gsp_digests_find(n, m->digests, m->n_digests, s->found);
	for (uint32_t i = 0; i < m->n_digests; i++) {
		const struct gsp_digest *d = &m->digests[i];
		int32_t slot = s->found[i];
		const struct gsp_member_rec *r;
		int c;

		if (slot < 0) {
			s->requests[n_req++] = (struct gsp_digest){ d->id, 0, 0 };
			continue;
		}
		r = gsp_rec(n, (uint32_t)slot);
		c = gsp_version_cmp(r->generation, r->version, d->generation,
				    d->version);
		/* ids may repeat in a hostile digest: bound by both */
		if (c > 0 && n_send < max && n_send < s->send_cap)
			s->send_slots[n_send++] = (uint32_t)slot;
		else if (c < 0)
			s->requests[n_req++] = (struct gsp_digest){
				d->id, r->generation, r->version };
	}
	if (max > s->send_cap)
		max = s->send_cap;
	/* members in the listed range that the sender did not list: walk
	 * our buckets of that range (bounded by the answer budget) */
	if (n_send < max &&
	    gsp_range_has_more(n, m->range_lo, m->range_hi, listed)) {
		uint32_t mask = gsp_listed_clear(s, m->n_digests);

		for (uint32_t i = 0; i < m->n_digests; i++)
			if (s->found[i] >= 0)
				gsp_listed_add(s, mask, (uint32_t)s->found[i]);
		b_lo = gsp_bucket_of(n, m->range_lo);
		b_hi = gsp_bucket_of(n, m->range_hi);
		for (uint32_t b = b_lo; b <= b_hi && n_send < max; b++) {
			for (uint32_t slot = gsp_bucket_first(n, b);
			     slot != GSP_NONE && n_send < max;
			     slot = gsp_bucket_next(n, slot)) {
				uint64_t key = gsp_id_key(gsp_slot_id(n, slot));

				if (key >= m->range_lo && key <= m->range_hi &&
				    *gsp_listed_at(s, mask, slot) == 0)
					s->send_slots[n_send++] = slot;
			}
		}
	}
	if (n_send != 0 || n_req != 0) {
		gsp_out_init(&o, n, GSP_MSG_ACK, src, dst_wire);
		/* those found from the digests were asked for, those from
		 * the walk of our buckets not yet: all are, ahead */
		for (uint32_t i = 0; prefetch && i < n_send &&
		     i < GSP_SEND_AHEAD; i++)
			gsp_table_prefetch(n->table, s->send_slots[i]);
		for (uint32_t i = 0; i < n_send; i++) {
			if (prefetch && i + GSP_SEND_AHEAD < n_send)
				gsp_table_prefetch(n->table,
					s->send_slots[i + GSP_SEND_AHEAD]);
			gsp_out_slot(&o, s->send_slots[i]);
		}
		for (uint32_t i = 0; i < n_req; i++)
			gsp_out_digest(&o, &s->requests[i]);
		gsp_out_flush(&o);
	}
	/* the pull half of the epidemic: the first packet of a window
	 * carries our news back */
	if (m->hdr.flags & GSP_SYN_FLAG_FIRST)
		gsp_rumor_push(n, src, dst_wire);
}

void
gsp_handle_ack(struct gsp_node *n, const struct gsp_addr *src,
	       const struct gsp_wire_msg *m, uint64_t now_ns,
	       struct gsp_scratch *s)
{
	struct gsp_out o;

	uint32_t sent = 0, mask;

	gsp_merge_all(n, m->states, m->n_states, now_ns);
	/* answer each requested member once, and no more than a SYN packet
	 * is answered with: a forged ACK must not make us an amplifier */
	gsp_digests_find(n, m->digests, m->n_digests, s->found);
	mask = gsp_listed_clear(s, m->n_digests);
	gsp_out_init(&o, n, GSP_MSG_ACK2, src,
		     gsp_wire_for_id(n, m->hdr.sender_id));
	for (uint32_t i = 0; i < m->n_digests && sent < n->p.ack_states; i++) {
		const struct gsp_digest *d = &m->digests[i];
		int32_t slot = s->found[i];
		const struct gsp_member_rec *r;

		if (slot < 0 || !gsp_listed_add(s, mask, (uint32_t)slot))
			continue;
		r = gsp_rec(n, (uint32_t)slot);
		if (gsp_version_cmp(r->generation, r->version, d->generation,
				    d->version) > 0) {
			gsp_out_slot(&o, (uint32_t)slot);
			sent++;
		}
	}
	gsp_out_flush(&o);
}

/* Digests a SYN packet gathers before it lists them. */
#define GSP_SYN_BATCH 16

static void
gsp_syn_add_slots(struct gsp_node *n, struct gsp_wire_writer *w,
		  const uint32_t *slots, uint32_t *count)
{
	for (uint32_t i = 0; i < *count; i++) {
		const struct gsp_member_rec *r = gsp_rec(n, slots[i]);
		struct gsp_digest d = { gsp_rec_id(n, r), r->generation,
					r->version };

		gsp_wire_put_digest(w, &d);
	}
	*count = 0;
}

/*
 * One SYN packet listing every member we hold with a key in [lo, hi],
 * whole buckets from *b on while they fit, never past bucket `last`; *b
 * is left at the first bucket not covered. Its range is the interval
 * those buckets (cut to [lo, hi]) cover, so the receiver knows that what
 * it holds inside and is not listed, we lack. A bucket too big for one
 * packet (only with hostile ids) is sent alone, truncated: the receiver
 * then sends the unlisted members, which is harmless.
 */
/* Members of bucket b with a key in [lo, hi]: its count when the range
 * holds the whole bucket, else counted by walking it. */
static uint32_t
gsp_bucket_size_in(struct gsp_node *n, uint32_t b, uint64_t lo, uint64_t hi)
{
	uint64_t b_hi = b + 1 >= n->n_buckets ? UINT64_MAX :
		gsp_bucket_lo(n, b + 1) - 1;
	uint32_t size = 0;

	if (gsp_bucket_lo(n, b) >= lo && b_hi <= hi)
		return n->bucket_count[b];
	for (uint32_t s = gsp_bucket_first(n, b); s != GSP_NONE;
	     s = gsp_bucket_next(n, s)) {
		uint64_t key = gsp_id_key(gsp_slot_id(n, s));

		size += key >= lo && key <= hi;
	}
	return size;
}

/* Whether a SYN packet holding `count` digests starts a new one rather
 * than take a bucket of `size` more: packets hold whole buckets. */
static inline bool
gsp_syn_packet_full(uint32_t count, uint32_t size, uint32_t per)
{
	return count != 0 && count + size > per;
}

static void
gsp_syn_packet(struct gsp_node *n, const struct gsp_addr *dst, uint32_t *b,
	       uint32_t last, uint64_t lo, uint64_t hi, uint16_t flags)
{
	uint32_t per = gsp_syn_digests_per_packet(n);
	uint64_t plo = gsp_bucket_lo(n, *b), phi;
	uint32_t batch[GSP_SYN_BATCH], n_batch = 0;
	struct gsp_wire_writer w;
	uint32_t count = 0;

	gsp_wire_begin(&w, n->tx, n->body_cap, GSP_MSG_SYN, n->cluster_hash,
		       n->id);
	if (flags != 0)
		gsp_put_le16(n->tx + GSP_HDR_OFF_FLAGS, flags);
	do {
		uint32_t s;

		if (gsp_syn_packet_full(count,
					gsp_bucket_size_in(n, *b, lo, hi), per))
			break;
		for (s = gsp_bucket_first(n, *b); s != GSP_NONE && count < per;
		     s = gsp_bucket_next(n, s)) {
			uint64_t key = gsp_id_key(gsp_slot_id(n, s));

			if (key < lo || key > hi)
				continue;
			/* listed once the batch is full: its records are
			 * asked for first, so the misses overlap */
			gsp_table_prefetch(n->table, s);
			batch[n_batch++] = s;
			count++;
			if (n_batch == GSP_SYN_BATCH)
				gsp_syn_add_slots(n, &w, batch, &n_batch);
		}
		(*b)++;
	} while (*b <= last);
	gsp_syn_add_slots(n, &w, batch, &n_batch);
	phi = *b >= n->n_buckets ? UINT64_MAX : gsp_bucket_lo(n, *b) - 1;
	gsp_wire_set_range(&w, plo > lo ? plo : lo, phi < hi ? phi : hi);
	gsp_node_send(n, dst, gsp_wire_finish(&w));
	GSP_CTR_INC(n->ctr.tx_syn);
}

/*
 * Sends a window of at most syn_packets digest packets starting at bucket
 * `first`; returns the bucket where the next window starts. A packet
 * never crosses the end of the id space, so its range stays one
 * interval; the window wraps around to bucket 0 in its next packet.
 */
uint32_t
gsp_send_window(struct gsp_node *n, const struct gsp_addr *dst, uint32_t first)
{
	uint32_t b = first, covered = 0;

	for (uint32_t pkt = 0; pkt < n->p.syn_packets &&
	     covered < n->n_buckets; pkt++) {
		uint32_t next = b, last = b + (n->n_buckets - covered) - 1;

		if (last > n->n_buckets - 1)
			last = n->n_buckets - 1;
		gsp_syn_packet(n, dst, &next, last, 0, UINT64_MAX,
			       pkt == 0 ? GSP_SYN_FLAG_FIRST : 0);
		covered += next - b;
		b = next & (n->n_buckets - 1);
	}
	return b;
}

/* ---- range hashes (wire version 3) ---- */

/* Members of one sync answered from a SUM at most: a SUM's differing
 * buckets beyond these wait for the next sync. */
#define GSP_SYNC_DIFF_MAX 8
/* A differing range this small (at the responder) is listed, not
 * descended into: one SYN packet settles it. */
#define GSP_SYNC_LEAF 24
/* A SUM whose buckets differ in a quarter or more is dense
 * (gsp_handle_sum). */
#define GSP_SYNC_DENSE_DIV 4
_Static_assert(GSP_WIRE_SUM_HASHES <= 64,
	       "a SUM's differing buckets in a mask");

static uint64_t
gsp_level_lo(uint8_t level, uint64_t b)
{
	return level == 0 ? 0 : b << (64 - level);
}

static uint64_t
gsp_level_hi(uint8_t level, uint64_t b)
{
	return level == 0 ? UINT64_MAX : ((b + 1) << (64 - level)) - 1;
}

/*
 * Our hash and member count over the key range [lo, hi], where the range
 * is a bucket at some level: whole buckets of ours are summed from the
 * running hashes and counts of the coarsest SUM cells that tile it (16
 * loads for a SUM's range at any N), or of its buckets; a range inside
 * one of our buckets is walked (a bucket holds GSP_IDS_CHAIN_FILL to twice
 * members).
 */
static uint64_t
gsp_range_hash(const struct gsp_node *n, uint64_t lo, uint64_t hi,
	       uint32_t *count)
{
	uint32_t b_lo = gsp_bucket_of(n, lo), b_hi = gsp_bucket_of(n, hi);
	bool whole = gsp_bucket_lo(n, b_lo) == lo &&
		(b_hi == n->n_buckets - 1 ? hi == UINT64_MAX :
		 gsp_bucket_lo(n, b_hi + 1) - 1 == hi);
	uint64_t h = 0;
	uint32_t c = 0;

	if (whole) {
		uint32_t i = 0, span = b_hi - b_lo + 1;

		/* the coarsest cells that tile the range, else buckets */
		while (i < n->sum_levels &&
		       ((b_lo | span) & ((1u << n->sum_shift[i]) - 1)) != 0)
			i++;
		if (i < n->sum_levels) {
			for (uint32_t cell = b_lo >> n->sum_shift[i];
			     cell <= b_hi >> n->sum_shift[i]; cell++) {
				h ^= n->sum_hash[n->sum_off[i] + cell];
				c += n->sum_count[n->sum_off[i] + cell];
			}
		} else {
			for (uint32_t b = b_lo; b <= b_hi; b++) {
				h ^= n->bucket_hash[b];
				c += n->bucket_count[b];
			}
		}
	} else {
		for (uint32_t b = b_lo; b <= b_hi; b++)
			for (uint32_t s = gsp_bucket_first(n, b);
			     s != GSP_NONE; s = gsp_bucket_next(n, s)) {
				const struct gsp_member_rec *r =
					gsp_table_rec(n->table, s);
				uint64_t key = gsp_id_key(gsp_rec_id(n, r));

				if (key < lo || key > hi)
					continue;
				c++;
				h ^= gsp_sync_hash(n, r);
			}
	}
	if (count != NULL)
		*count = c;
	return h;
}

/* SUM of the 16 children of bucket b at `level` (the 16 top buckets for
 * level 0): the first step of a sync, and each step down. 16, not more:
 * a step costs 128 bytes of hashes, and it takes three steps down to
 * single members at 10,000. */
static void
gsp_send_sum(struct gsp_node *n, const struct gsp_addr *dst, uint8_t level,
	     uint64_t b)
{
	uint8_t child = level + GSP_SUM_LEVEL_STEP;
	uint64_t first = b << GSP_SUM_LEVEL_STEP;
	struct gsp_wire_writer w;

	gsp_wire_begin_v(&w, n->tx, n->body_cap, GSP_MSG_SUM, 3,
			 n->cluster_hash, n->id);
	gsp_wire_set_sum(&w, child, (uint32_t)first, n->table->used);
	for (uint32_t i = 0; i < (1u << GSP_SUM_LEVEL_STEP); i++)
		gsp_wire_put_hash(&w, gsp_range_hash(n,
				  gsp_level_lo(child, first + i),
				  gsp_level_hi(child, first + i), NULL));
	gsp_node_send(n, dst, gsp_wire_finish(&w));
	GSP_CTR_INC(n->ctr.tx_sum);
}

/*
 * Whether gsp_send_range lists every member we hold in [lo, hi] within
 * max_pkts packets: packed as gsp_syn_packet packs them (whole buckets
 * per packet), not merely count <= max_pkts x per, since a packet closes
 * before a bucket that does not fit. A dense SUM steps into a range that
 * does not fit rather than list it cut short: a cut listing starts at a
 * random bucket (gsp_send_range) and settles the rest only over several
 * syncs.
 */
static bool
gsp_range_fits(struct gsp_node *n, uint64_t lo, uint64_t hi,
	       uint32_t max_pkts)
{
	uint32_t per = gsp_syn_digests_per_packet(n);
	uint32_t last = gsp_bucket_of(n, hi), pkts = 1, count = 0;

	for (uint32_t b = gsp_bucket_of(n, lo); b <= last; b++) {
		uint32_t size = gsp_bucket_size_in(n, b, lo, hi);

		if (size > per)		/* sent truncated */
			return false;
		if (gsp_syn_packet_full(count, size, per)) {
			if (++pkts > max_pkts)
				return false;
			count = 0;
		}
		count += size;
	}
	return true;
}

/* SYN packets listing every member we hold with a key in [lo, hi] (a
 * bucket at some level), at most max_pkts of them: the receiver answers
 * as to any SYN (not the first of a window: no PUSH back). A listing cut
 * short (a node far behind asked for a big range) starts at a random
 * bucket of the range and wraps: cut at the same place at every sync, it
 * would hand a newcomer the same first members each time and the rest
 * only through other peers' rounds. */
static void
gsp_send_range(struct gsp_node *n, const struct gsp_addr *dst, uint64_t lo,
	       uint64_t hi, uint32_t max_pkts)
{
	uint32_t first = gsp_bucket_of(n, lo), last = gsp_bucket_of(n, hi);
	uint32_t b = first, start = first, pkt = 0;

	if (last > first && !gsp_range_fits(n, lo, hi, max_pkts))
		start = b = first + gsp_rand_below(&n->rng, last - first + 1);
	for (; pkt < max_pkts && b <= last; pkt++)
		gsp_syn_packet(n, dst, &b, last, lo, hi, 0);
	for (b = first; pkt < max_pkts && b < start; pkt++)
		gsp_syn_packet(n, dst, &b, start - 1, lo, hi, 0);
}

void
gsp_sync_start(struct gsp_node *n, const struct gsp_addr *dst)
{
	GSP_CTR_INC(n->ctr.syncs);
	gsp_send_sum(n, dst, 0, 0);
}

/* A SUM from a sender we do not hold: list its own key's range, empty,
 * so that it answers with its state (what a SYN's range holds and the
 * SYN does not list) and is known for the next sync. One small packet:
 * a stranger cannot make us send our table. */
void
gsp_sum_from_stranger(struct gsp_node *n, const struct gsp_addr *src,
		      uint64_t sender_id)
{
	uint64_t key = gsp_id_key(sender_id);

	gsp_send_range(n, src, key, key, 1);
}

/*
 * A SUM: for each bucket whose hash differs from ours, go one level
 * down (SUM of its children) while our side of it is large, or list it
 * (SYN) once it is small and its listing fits whole in a window of
 * packets (gsp_range_fits), at the deepest level, or when the sender is
 * far behind (a newcomer: it needs the members, not their hashes).
 *
 * Where many of the SUM's buckets differ (a cold join, a healed
 * partition), the difference is dense and each child would differ as
 * well: a step down then costs a SUM and a small SYN, ACK and ACK2 per
 * child, where listing the bucket costs one SYN, ACK and ACK2 per packet
 * of digests. So a dense SUM lists every differing bucket that fits in a
 * window of packets, however many members it holds. A sparse one (a few
 * changes: a quiet cluster's) still descends, which costs fewer bytes.
 *
 * At most GSP_SYNC_DIFF_MAX buckets per SUM: the work a SUM can cause is
 * bounded, and what is left is found by the next sync.
 */
void
gsp_handle_sum(struct gsp_node *n, const struct gsp_addr *src,
	       const struct gsp_wire_msg *m)
{
	bool behind = (uint64_t)m->sum_members * 2 < n->table->used;
	uint32_t window = n->p.syn_packets * gsp_syn_digests_per_packet(n);
	uint32_t count[GSP_WIRE_SUM_HASHES];
	uint32_t answered = 0, start;
	uint64_t differ = 0;		/* bit i: bucket i's hashes differ */
	bool dense, small;

	if (m->n_hashes == 0)
		return;
	for (uint32_t i = 0; i < m->n_hashes; i++) {
		uint64_t b = (uint64_t)m->sum_first + i;
		uint64_t mine = gsp_range_hash(n,
			gsp_level_lo(m->sum_level, b),
			gsp_level_hi(m->sum_level, b), &count[i]);

		if (mine != gsp_get_le64(m->sum_hashes + 8 * i))
			differ |= 1ull << i;
	}
	dense = (uint32_t)__builtin_popcountll(differ) * GSP_SYNC_DENSE_DIV >=
		m->n_hashes;
	/* from a random bucket on: the syncs a node runs with several peers
	 * at once settle different ranges, not the same first ones */
	start = gsp_rand_below(&n->rng, m->n_hashes);
	for (uint32_t k = 0; k < m->n_hashes &&
	     answered < GSP_SYNC_DIFF_MAX; k++) {
		uint32_t i = (start + k) % m->n_hashes;
		uint64_t b = (uint64_t)m->sum_first + i;
		uint64_t lo = gsp_level_lo(m->sum_level, b);
		uint64_t hi = gsp_level_hi(m->sum_level, b);

		if (!(differ >> i & 1))
			continue;
		answered++;
		small = count[i] <= GSP_SYNC_LEAF ||
			(dense && count[i] <= window);
		if (behind || (small &&
		    gsp_range_fits(n, lo, hi, n->p.syn_packets)) ||
		    m->sum_level + GSP_SUM_LEVEL_STEP > GSP_SUM_LEVEL_MAX)
			gsp_send_range(n, src, lo, hi, n->p.syn_packets);
		else
			gsp_send_sum(n, src, m->sum_level, b);
	}
}

/*
 * A v3 probe message from a member: its view block. Its heartbeat, heard
 * from the member itself, is the freshest there is: it feeds the
 * Heartbeat column and phi. Its view digest says whether we agree. And a
 * PONG whose sync root differs from ours starts a sync with its sender,
 * at most one per gossip interval: views that agree cost nothing more
 * than the probes already carry.
 */
void
gsp_view_heard(struct gsp_node *n, const struct gsp_addr *src,
	       const struct gsp_wire_msg *m, uint64_t now_ns)
{
	int32_t slot = gsp_table_find(n->table, m->hdr.sender_id);
	struct gsp_member_rec *r;
	struct gsp_addr at;
	bool hb;

	if (slot < 0)
		return;
	r = gsp_rec(n, (uint32_t)slot);
	hb = m->heartbeat > r->heartbeat &&
		gsp_heartbeat_plausible(n, r->generation, m->heartbeat, now_ns);
	if (hb || r->wire < m->hdr.version) {
		gsp_table_write_begin(r);
		if (r->wire < m->hdr.version)	/* it speaks what it sent */
			r->wire = m->hdr.version;
		if (hb) {
			r->heartbeat = m->heartbeat;
			gsp_heard(n, r, now_ns);
		}
		gsp_table_write_end(r);
	}
	n->peer_view[slot] = gsp_view_tag(m->view);
	at = gsp_slot_addr(n, (uint32_t)slot);
	/* an answer to a probe, not pushed claims (seq 0): syncs start
	 * from probes' answers only, at most one a gossip interval */
	if (m->hdr.type == GSP_MSG_PONG && m->seq != 0 &&
	    m->sync_root != n->sync_root &&
	    now_ns >= n->sync_next_ns && gsp_addr_eq(&at, src)) {
		n->sync_next_ns = now_ns + n->p.gossip_interval_ns;
		gsp_sync_start(n, src);
	}
}
