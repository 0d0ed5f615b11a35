/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A member's bookkeeping in the node's side tables: its state and the
 * counts by state, its digest bucket, its replay window, and our own
 * state published. The lowest layer of the node: SWIM (gsp_swim.c) and
 * the guard (gsp_guard.c) change member states through it only.
 */
#include <string.h>

#include "gsp_util.h"

#include "gsp_member.h"
#include "gsp_node_int.h"

/* A member's count and hash into bucket b and the SUM cells above it. */
static void
gsp_sums_count(struct gsp_node *n, uint32_t b, int32_t delta)
{
	n->bucket_count[b] += (uint32_t)delta;
	for (uint32_t i = 0; i < n->sum_levels; i++)
		n->sum_count[n->sum_off[i] + (b >> n->sum_shift[i])] +=
			(uint32_t)delta;
}

static void
gsp_sums_hash(struct gsp_node *n, uint32_t b, uint64_t h)
{
	n->bucket_hash[b] ^= h;
	for (uint32_t i = 0; i < n->sum_levels; i++)
		n->sum_hash[n->sum_off[i] + (b >> n->sum_shift[i])] ^= h;
}

/* The catalog links the slot into its bucket's chain when the table
 * takes the id (gsp_ids_take); the node counts it. */
void
gsp_bucket_add(struct gsp_node *n, uint32_t slot)
{
	gsp_sums_count(n, gsp_bucket_of(n, gsp_id_key(gsp_slot_id(n, slot))),
		       1);
}

void
gsp_bucket_del(struct gsp_node *n, uint32_t slot)
{
	gsp_sums_count(n, gsp_bucket_of(n, gsp_id_key(gsp_slot_id(n, slot))),
		       -1);
}

void
gsp_sync_toggle(struct gsp_node *n, uint32_t slot)
{
	const struct gsp_member_rec *r = gsp_rec(n, slot);
	uint64_t h = gsp_sync_hash(n, r);

	gsp_sums_hash(n, gsp_bucket_of(n, gsp_id_key(gsp_rec_id(n, r))), h);
	n->sync_root ^= h;
}

bool
gsp_view_verify(const struct gsp_node *n)
{
	uint64_t root = 0, down = 0;

	for (uint32_t b = 0; b < n->n_buckets; b++) {
		uint64_t h = 0;
		uint32_t c = 0;

		for (uint32_t s = gsp_bucket_first(n, b); s != GSP_NONE;
		     s = gsp_bucket_next(n, s)) {
			const struct gsp_member_rec *r =
				gsp_table_rec(n->table, s);

			h ^= gsp_sync_hash(n, r);
			down ^= gsp_down_mark(gsp_rec_id(n, r), r->state);
			c++;
		}
		if (h != n->bucket_hash[b] || c != n->bucket_count[b])
			return false;
		root ^= h;
	}
	for (uint32_t i = 0; i < n->sum_levels; i++) {
		uint32_t per = 1u << n->sum_shift[i];

		for (uint32_t cell = 0; cell < n->n_buckets / per; cell++) {
			uint64_t h = 0;
			uint32_t c = 0;

			for (uint32_t b = cell * per; b < (cell + 1) * per; b++) {
				h ^= n->bucket_hash[b];
				c += n->bucket_count[b];
			}
			if (h != n->sum_hash[n->sum_off[i] + cell] ||
			    c != n->sum_count[n->sum_off[i] + cell])
				return false;
		}
	}
	return root == n->sync_root && down == n->down_hash &&
		gsp_ids_named_verify(n->table->ids);
}

/*
 * The replay window of a sender: its table slot's, or the cache's for a
 * sender not in the table. A sender that joined the table takes its
 * window along, so what it sent before it joined stays refused.
 */
struct gsp_replay *
gsp_replay_for(struct gsp_node *n, uint64_t sender_id, uint64_t now_ns)
{
	int32_t slot = gsp_table_find(n->table, sender_id);
	struct gsp_replay *r, *c;

	if (slot < 0)
		return gsp_replay_cache_get(n->replay_cache, sender_id, now_ns);
	r = &n->replay[slot];
	if (r->sender_id != sender_id) {
		c = gsp_replay_cache_find(n->replay_cache, sender_id, now_ns);
		if (c != NULL) {
			*r = *c;
			memset(c, 0, sizeof(*c));
		}
	}
	return r;
}

/* A forgotten member's window outlives its slot: its captured datagrams
 * must stay refused once it is out of the table. */
void
gsp_replay_keep(struct gsp_node *n, uint32_t slot, uint64_t now_ns)
{
	struct gsp_replay *r = &n->replay[slot];

	if (n->replay_cache == NULL || r->sender_id == 0 ||
	    r->sender_id != gsp_slot_id(n, slot))
		return;
	*gsp_replay_cache_get(n->replay_cache, r->sender_id, now_ns) = *r;
	memset(r, 0, sizeof(*r));
}

void
gsp_update_counts(struct gsp_node *n)
{
	GSP_CTR_SET(n->ctr.members, n->table->used);
	GSP_CTR_SET(n->ctr.alive, n->cnt[GSP_STATE_ALIVE]);
	GSP_CTR_SET(n->ctr.suspect, n->cnt[GSP_STATE_SUSPECT]);
	GSP_CTR_SET(n->ctr.down, n->cnt[GSP_STATE_DOWN]);
	GSP_CTR_SET(n->ctr.left, n->cnt[GSP_STATE_LEFT]);
}

struct gsp_member_rec *
gsp_self_change_begin(struct gsp_node *n)
{
	struct gsp_member_rec *r = gsp_rec(n, n->self_slot);

	n->version++;
	gsp_sync_toggle(n, n->self_slot);
	gsp_table_write_begin(r);
	r->version = n->version;
	return r;
}

void
gsp_self_change_end(struct gsp_node *n, struct gsp_member_rec *r)
{
	gsp_table_write_end(r);
	gsp_sync_toggle(n, n->self_slot);
	gsp_rumor_add(n, n->self_slot);
}

void
gsp_publish_self(struct gsp_node *n)
{
	struct gsp_member_rec *r = gsp_self_change_begin(n);

	r->incarnation = n->incarnation;
	gsp_self_change_end(n, r);
}

void
gsp_pause_add(struct gsp_node *n, uint64_t now_ns, uint64_t stalled_ns)
{
	struct gsp_pause *p = &n->pauses[n->n_pauses++ % GSP_PAUSES_KEPT];

	n->phi_paused_ns += stalled_ns;
	*p = (struct gsp_pause){ now_ns - stalled_ns, stalled_ns,
		n->phi_paused_ns };
}

/*
 * The stalls we keep are in the order they began: the oldest begun at or
 * after t_ns is found by bisection. After a saturated stretch (a big
 * join) most members were last heard before every stall we keep, and
 * the sweep asks this for each of them: that case is one comparison.
 */
uint64_t
gsp_paused_since_slow(const struct gsp_node *n, uint64_t t_ns)
{
	uint64_t kept = n->n_pauses < GSP_PAUSES_KEPT ? n->n_pauses :
		GSP_PAUSES_KEPT;
	uint64_t oldest = n->n_pauses - kept, lo = 0, hi = kept;
	const struct gsp_pause *p = &n->pauses[oldest % GSP_PAUSES_KEPT];

	/* heard before every stall we keep: all of those (and no older
	 * ones given up: a member silent through more than 32 of our
	 * stalls is weighed as if we had not stalled before those). The
	 * common case, checked first: a bisection's branches are a coin
	 * toss each */
	if (p->start_ns >= t_ns)
		return n->phi_paused_ns - (p->total_ns - p->stalled_ns);
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (n->pauses[(oldest + mid) % GSP_PAUSES_KEPT].start_ns < t_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == kept)		/* none begun since (the caller checks) */
		return 0;
	/* all from that one on */
	p = &n->pauses[(oldest + lo) % GSP_PAUSES_KEPT];
	return n->phi_paused_ns - (p->total_ns - p->stalled_ns);
}
