/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Merging received member states: the core merge rule (higher
 * generation wins, then higher version), new members, quarantine of
 * forgotten ones, names reclaimed by a new id.
 */
#include <errno.h>
#include <string.h>

#include "gsp_util.h"

#include "gsp_member.h"
#include "gsp_node_int.h"
#include "gsp_swim_int.h"

static bool
gsp_quarantined(struct gsp_node *n, const struct gsp_wire_state *st,
		uint64_t now_ns)
{
	if (now_ns >= n->q_until)
		return false;
	for (unsigned int i = 0; i < GSP_QUARANTINE_MAX; i++) {
		const struct gsp_quarantine *q = &n->quarantine[i];

		if (q->id == st->id && q->until_ns > now_ns &&
		    gsp_version_cmp(st->generation, st->version,
				    q->generation, q->version) <= 0)
			return true;
	}
	return false;
}

/* Copies a received state; true when more than the heartbeat changed. */
static bool
gsp_copy_state(struct gsp_node *n, struct gsp_member_rec *r,
	       const struct gsp_wire_state *st)
{
	const struct gsp_app_entry *app = gsp_table_app(n->table, r);
	bool app_news = r->app_count != st->app_count;
	/* a new record (generation 0) or a restart has its own event */
	bool same_generation = r->generation == st->generation;
	uint32_t slot = (uint32_t)(r - n->table->recs);
	struct gsp_addr at = gsp_table_addr(n->table, slot);
	/* compared once: the catalog takes a name only when it differs */
	bool same_name = strcmp(gsp_table_name(n->table, r), st->name) == 0;
	bool news = at.ip != st->ip || at.port != st->port || !same_name;

	for (uint8_t i = 0; !app_news && i < st->app_count && app != NULL; i++)
		app_news = app[i].version != st->app[i].version ||
			strcmp(app[i].key, st->app[i].key) != 0;
	news = news || app_news;
	if (r->generation != st->generation)
		r->incarnation = st->incarnation;
	else if (st->incarnation > r->incarnation)
		r->incarnation = st->incarnation;
	/* states carry min(heartbeat, version) (docs/PROTOCOL.md): within a
	 * generation the highest heard, from them or the member's probes */
	if (r->generation != st->generation || st->heartbeat > r->heartbeat)
		r->heartbeat = st->heartbeat;
	/* what a peer says it speaks, up to what the field holds: more
	 * is "newer than any we know" all the same */
	if (r->generation != st->generation || st->wire > r->wire)
		r->wire = st->wire < GSP_REC_WIRE_MAX ? st->wire :
			GSP_REC_WIRE_MAX;
	r->generation = st->generation;
	r->version = st->version;
	gsp_table_set_where(n->table, slot,
			    (struct gsp_addr){ st->ip, st->port },
			    same_name ? NULL : st->name, st->generation,
			    st->version);
	gsp_table_set_app(n->table, r, st->app, st->app_count);
	if (app_news && same_generation)
		gsp_emit_event(n, GSP_EV_APP, r, r->state);
	return news;
}

/*
 * A new id with a name we already hold under another id (ids set in the
 * config rather than derived from the name): a down or departed holder
 * gives the name up, a live one is a conflict worth reporting. With
 * derived ids a name is an id, and a restart is just a new generation,
 * so the table indexes names only once explicit ids were seen.
 */
static void
gsp_reclaim_name(struct gsp_node *n, const struct gsp_wire_state *st,
		 uint64_t now_ns)
{
	uint32_t slot, next;

	if (st->id != gsp_id_from_name(st->name))
		n->explicit_ids = true;
	/* without memory for the index, names are not reclaimed: a holder
	 * that is down is forgotten in time all the same */
	if (!n->explicit_ids || gsp_table_index_names(n->table) != 0)
		return;
	for (slot = gsp_table_named_first(n->table, st->name);
	     slot != GSP_NONE; slot = next) {
		struct gsp_member_rec *r = gsp_rec(n, slot);
		struct gsp_event ev = { .type = GSP_EV_NAME_CONFLICT };

		next = gsp_table_named_next(n->table, slot);
		if (gsp_rec_id(n, r) == st->id)
			continue;
		if (slot != n->self_slot && (r->state == GSP_STATE_DOWN ||
					     r->state == GSP_STATE_LEFT)) {
			gsp_forget(n, slot, now_ns);
			continue;
		}
		ev.id = st->id;
		ev.generation = st->generation;
		ev.old_state = r->state;
		ev.new_state = r->state;
		gsp_copy_name(ev.name, st->name);
		gsp_io_event(n->p.io_ctx, &ev);
	}
}

static void
gsp_merge_new(struct gsp_node *n, const struct gsp_wire_state *st,
	      uint64_t now_ns, int32_t at)
{
	struct gsp_member_rec *r;
	int32_t slot;

	if (gsp_quarantined(n, st, now_ns)) {
		GSP_CTR_INC(n->ctr.stale);
		return;
	}
	gsp_reclaim_name(n, st, now_ns);
	slot = gsp_table_insert_at(n->table, st->id, at);
	if (slot < 0) {
		GSP_CTR_INC(n->ctr.table_full);
		if (!n->table_full_reported) {
			struct gsp_event ev = { .type = GSP_EV_TABLE_FULL,
				.id = st->id, .generation = st->generation,
				.limit = slot == -ENOBUFS };

			memcpy(ev.name, st->name, sizeof(ev.name));
			gsp_io_event(n->p.io_ctx, &ev);
			n->table_full_reported = true;
		}
		return;
	}
	r = gsp_rec(n, (uint32_t)slot);	/* still open for writing */
	gsp_copy_state(n, r, st);
	r->state = st->status == GSP_WIRE_STATUS_LEFT ? GSP_STATE_LEFT :
		GSP_STATE_ALIVE;
	n->cnt[r->state]++;
	n->down_hash ^= gsp_down_mark(gsp_rec_id(n, r), r->state);
	r->since_ms = gsp_since_ms_of(now_ns);
	gsp_heard_first(n, r, now_ns);
	gsp_table_write_end(r);
	/* a free slot has no SWIM entry: gsp_forget gave it back */
	gsp_bucket_add(n, (uint32_t)slot);
	gsp_sync_toggle(n, (uint32_t)slot);
	n->peer_view[slot] = 0;
	gsp_rumor_add(n, (uint32_t)slot);
	gsp_legacy_seen(n, r);
	GSP_CTR_INC(n->ctr.merged);
	gsp_emit_event(n, GSP_EV_JOINED, r, r->state);
}

/* Applies one received member state: the core merge rule. at: the
 * catalog's slot for its id from a lookup made ahead, or -1. */
static void
gsp_merge_at(struct gsp_node *n, const struct gsp_wire_state *st,
	     uint64_t now_ns, int32_t at)
{
	struct gsp_member_rec *r;
	bool restarted, refuted, hb_advanced, news;
	uint64_t root_before;
	uint8_t old_state;
	int32_t slot;

	if (st->id == n->id) {
		/* only we write our own state: one a peer holds that we did
		 * not make must not outrank what we say next */
		if (gsp_generation_plausible(n, st->generation, now_ns)) {
			gsp_self_state_seen(n, st, now_ns);
			GSP_CTR_INC(n->ctr.stale);
		} else {
			gsp_implausible(n, "generation", st->id,
					st->generation, now_ns);
		}
		return;
	}
	if (!gsp_state_plausible(n, st, now_ns))
		return;
	/* the pool its app state needs, made before anything changes */
	if (!gsp_table_app_ready(n->table, st->app_count)) {
		GSP_CTR_INC(n->ctr.table_full);
		return;
	}
	slot = gsp_table_find_at(n->table, st->id, at);
	if (slot < 0) {
		gsp_merge_new(n, st, now_ns, at);
		return;
	}
	r = gsp_rec(n, (uint32_t)slot);
	if (gsp_version_cmp(st->generation, st->version, r->generation,
			    r->version) <= 0) {
		GSP_CTR_INC(n->ctr.stale);
		return;
	}
	restarted = st->generation > r->generation;
	refuted = !restarted && st->incarnation > r->incarnation;
	hb_advanced = restarted || st->heartbeat > r->heartbeat;
	old_state = r->state;

	root_before = n->sync_root;
	gsp_sync_toggle(n, (uint32_t)slot);
	gsp_table_write_begin(r);
	news = gsp_copy_state(n, r, st) || restarted || refuted;
	if (st->status == GSP_WIRE_STATUS_LEFT) {
		news |= old_state != GSP_STATE_LEFT;
		gsp_set_state(n, r, GSP_STATE_LEFT, now_ns);
	} else if (restarted || (refuted && (old_state != GSP_STATE_LEFT ||
			gsp_swim_force_left(n, (uint32_t)slot)))) {
		gsp_set_state(n, r, GSP_STATE_ALIVE, now_ns);
	} else if (hb_advanced && old_state != GSP_STATE_LEFT &&
		   n->swim == NULL) {
		/* phi alone: a down node whose heartbeat advances is alive
		 * again. Under SWIM only the member's own incarnation undoes
		 * a suspicion: a newer heartbeat may predate the accusation */
		gsp_set_state(n, r, GSP_STATE_ALIVE, now_ns);
	}
	if (restarted)
		gsp_heard_first(n, r, now_ns);
	else if (hb_advanced)
		gsp_heard(n, r, now_ns);
	gsp_table_write_end(r);
	gsp_sync_toggle(n, (uint32_t)slot);
	gsp_legacy_seen(n, r);

	if (n->swim != NULL && restarted)
		gsp_swim_reset(n, (uint32_t)slot);
	else if (n->swim != NULL && refuted)
		gsp_swim_refuted(n, (uint32_t)slot, now_ns);
	if (restarted)
		gsp_emit_event(n, GSP_EV_RESTARTED, r, old_state);
	/* A change of a member we hold needs no sync of its own (flux):
	 * news travels on as our rumor (while one PUSH holds them all:
	 * rumors_overflow), and a new version with nothing else new (a
	 * refutation whose claim came first, a heartbeat published as a
	 * version) through the member's own pushes and claims and the
	 * syncs differing probe roots start. A refutation reaches all N
	 * nodes, and each starting syncs for it cost N times what the news
	 * does. The next round sees our root move only by what rumors do
	 * not carry; a new member still starts syncs: a join brings more
	 * than rumors hold. */
	if (news ? gsp_rumor_add(n, (uint32_t)slot) : gsp_hash_sync(n)) {
		uint64_t until = news ? gsp_rumor_until(n) : 0;

		n->round_root ^= root_before ^ n->sync_root;
		if (until > n->carried_until)
			n->carried_until = until;
	}
	GSP_CTR_INC(n->ctr.merged);
}

void
gsp_merge(struct gsp_node *n, const struct gsp_wire_state *st, uint64_t now_ns)
{
	gsp_merge_at(n, st, now_ns, -1);
}

/* States in one message from which the rumor index is asked for whole */
#define GSP_RUMOR_PREFETCH_MIN 8
/* States looked up ahead at once: more than a 1,500-byte packet holds */
#define GSP_MERGE_BATCH 64

/* A message's states, in order. Where tables outgrow the caches (many
 * sharing a catalog in one thread, or one very large), their members are
 * looked up and asked for first: the misses on records and links are
 * then most of a merge's cost, and they overlap. */
void
gsp_merge_all(struct gsp_node *n, const struct gsp_wire_state *st,
	      uint32_t count, uint64_t now_ns)
{
	int32_t at[GSP_MERGE_BATCH];

	if (!gsp_prefetching(n)) {
		for (uint32_t i = 0; i < count; i++)
			gsp_merge(n, &st[i], now_ns);
		return;
	}
	/* a few states touch a few of its 16 lines: a bulk transfer's
	 * touch them all */
	if (count >= GSP_RUMOR_PREFETCH_MIN)
		gsp_prefetch_rumors(n, count);
	/* the lookups made ahead serve the merges, checked there: a merge
	 * before may have changed the catalog */
	for (uint32_t b = 0; b < count; b += GSP_MERGE_BATCH) {
		uint32_t k = count - b < GSP_MERGE_BATCH ? count - b :
			GSP_MERGE_BATCH;

		for (uint32_t i = 0; i < k; i++)
			at[i] = gsp_prefetch_member(n, st[b + i].id);
		for (uint32_t i = 0; i < k; i++)
			gsp_merge_at(n, &st[b + i], now_ns, at[i]);
	}
}
