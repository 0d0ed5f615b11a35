/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gsp_table.h"
#include "gsp_util.h"

#define GSP_TABLE_READ_TRIES (1u << 20)

struct gsp_table *
gsp_table_create(const char *name, uint32_t capacity, struct gsp_ids *ids)
{
	struct gsp_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->shared_ids = ids != NULL;
	if (ids != NULL)
		gsp_ids_hold(ids);
	else
		ids = gsp_ids_create(name, capacity, NULL);
	t->ids = ids;
	/* a record names its app block in 24 bits */
	if (t->ids == NULL || gsp_ids_slots(ids) < capacity ||
	    gsp_ids_slots(ids) >= GSP_APP_NO_BLOCK)
		goto fail;
	t->capacity = capacity;
	t->n_slots = gsp_ids_slots(ids);
	t->id_of = gsp_ids_array(ids);
	t->addr_of = gsp_ids_addr_array(ids);
	t->name_of = gsp_ids_name_array(ids);
	t->name_moves = gsp_ids_name_moves(ids);
	t->names = gsp_ids_names(ids);
	t->index = gsp_ids_index(ids);
	/* calloc of large sizes maps zero pages lazily: only used records
	 * and app blocks take memory */
	t->recs = calloc(t->n_slots, sizeof(*t->recs));
	t->used_map = calloc(t->n_slots / 64 + 1, sizeof(*t->used_map));
	if (t->recs == NULL || t->used_map == NULL)
		goto fail;
	for (unsigned int c = 0; c < GSP_APP_CLASSES; c++)
		t->app_free[c] = GSP_NONE;
	return t;
fail:
	gsp_table_destroy(t);
	return NULL;
}

void
gsp_table_populate(struct gsp_table *t)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)t->recs & ~(uintptr_t)(page - 1);
	uintptr_t hi = (uintptr_t)t->recs +
		(size_t)t->n_slots * sizeof(*t->recs);

#ifdef MADV_POPULATE_WRITE
	/* maps the pages as a write would, without writing */
	if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0)
		return;
#endif
	/* before Linux 5.14: an add of 0 per page, a write that changes
	 * nothing (the node's own record is already there) */
	for (uintptr_t a = (uintptr_t)t->recs; a < hi;
	     a = (a & ~(uintptr_t)(page - 1)) + page)
		__atomic_fetch_add((char *)a, 0, __ATOMIC_RELAXED);
}

/* The first used slot at or after slot, or GSP_NONE: walks of a table's
 * members, by its map. */
static uint32_t
gsp_used_from(const struct gsp_table *t, uint32_t slot)
{
	for (uint32_t w = slot / 64; slot < t->n_slots && w <= t->n_slots / 64;
	     w++) {
		uint64_t m = t->used_map[w];

		if (w == slot / 64)
			m &= ~0ull << (slot % 64);
		if (m != 0)
			return w * 64 + (uint32_t)__builtin_ctzll(m);
	}
	return GSP_NONE;
}

void
gsp_table_destroy(struct gsp_table *t)
{
	if (t == NULL)
		return;
	/* a shared catalog outlives the table: give back the ids its
	 * members hold (the writer thread, as every table change) */
	for (uint32_t slot = t->used_map != NULL && t->recs != NULL ?
	     gsp_used_from(t, 0) : GSP_NONE; slot != GSP_NONE;
	     slot = gsp_used_from(t, slot + 1))
		gsp_ids_put(t->ids, slot);
	gsp_ids_destroy(t->ids);
	free(t->recs);
	free(t->used_map);
	for (unsigned int c = 0; c < GSP_APP_CLASSES; c++)
		free(t->apps[c]);
	free(t);
}

int32_t
gsp_table_find(const struct gsp_table *t, uint64_t id)
{
	return gsp_table_find_at(t, id, -1);
}

int32_t
gsp_table_find_at(const struct gsp_table *t, uint64_t id, int32_t at)
{
	int32_t slot = gsp_ids_still_at(t->id_of, t->n_slots, id, at) ? at :
		gsp_index_lookup(t->index, id);

	/* a shared catalog knows the ids of every table sharing it; the
	 * map answers for this one without touching a record */
	if (slot >= 0 && t->shared_ids && !gsp_table_has(t, (uint32_t)slot))
		return -ENOENT;
	return slot;
}

int
gsp_table_index_names(struct gsp_table *t)
{
	return gsp_ids_index_names(t->ids);
}

/* slot, or the next slot after it with its name, that is t's: the
 * catalog's index holds the names of every table sharing it */
static uint32_t
gsp_named_ours(const struct gsp_table *t, uint32_t slot)
{
	while (slot != GSP_NONE && !gsp_table_has(t, slot))
		slot = gsp_ids_named_next(t->ids, slot);
	return slot;
}

uint32_t
gsp_table_named_first(const struct gsp_table *t, const char *name)
{
	return gsp_named_ours(t, gsp_ids_named_first(t->ids, name));
}

uint32_t
gsp_table_named_next(const struct gsp_table *t, uint32_t slot)
{
	return gsp_named_ours(t, gsp_ids_named_next(t->ids, slot));
}

static inline struct gsp_app_entry *
gsp_app_block(const struct gsp_table *t, unsigned int c, uint32_t b)
{
	return &t->apps[c][(size_t)b << c];
}

struct gsp_app_entry *
gsp_table_app(struct gsp_table *t, const struct gsp_member_rec *r)
{
	if (r->app_block == GSP_APP_NO_BLOCK)
		return NULL;
	return gsp_app_block(t, r->app_class, r->app_block);
}

/* The smallest class whose blocks hold n entries (n >= 1). */
static unsigned int
gsp_app_class_of(uint8_t n)
{
	unsigned int c = 0;

	while ((1u << c) < n)
		c++;
	return c;
}

bool
gsp_table_app_ready(struct gsp_table *t, uint8_t n)
{
	unsigned int c;
	struct gsp_app_entry *p;

	if (n == 0)
		return true;
	if (n > GSP_APP_KEYS_MAX)
		return false;
	c = gsp_app_class_of(n);
	if (t->apps[c] != NULL)
		return true;
	/* made once and kept: readers may hold its address */
	p = calloc((size_t)t->n_slots << c, sizeof(*p));
	if (p == NULL)
		return false;
	__atomic_store_n(&t->apps[c], p, __ATOMIC_RELEASE);
	return true;
}

/* A free block of class c, whose pool exists: every record holds at most
 * one block of a class, so there is always one. */
static uint32_t
gsp_app_alloc(struct gsp_table *t, unsigned int c)
{
	uint32_t b;

	if (t->app_free[c] != GSP_NONE) {
		b = t->app_free[c];
		memcpy(&t->app_free[c], gsp_app_block(t, c, b),
		       sizeof(uint32_t));
		return b;
	}
	return t->apps_top[c]++;	/* < n_slots: one block per record */
}

static void
gsp_app_free(struct gsp_table *t, struct gsp_member_rec *r)
{
	unsigned int c = r->app_class;

	if (r->app_block == GSP_APP_NO_BLOCK)
		return;
	memcpy(gsp_app_block(t, c, r->app_block), &t->app_free[c],
	       sizeof(uint32_t));
	t->app_free[c] = r->app_block;
	r->app_block = GSP_APP_NO_BLOCK;
	r->app_count = 0;
	r->app_class = 0;
}

void
gsp_table_set_app(struct gsp_table *t, struct gsp_member_rec *r,
		  const struct gsp_app_entry *app, uint8_t n)
{
	unsigned int c;
	uint32_t b;

	if (n == 0) {
		gsp_app_free(t, r);
		return;
	}
	c = gsp_app_class_of(n);
	if (r->app_block != GSP_APP_NO_BLOCK && r->app_class == c) {
		memmove(gsp_app_block(t, c, r->app_block), app,
			n * sizeof(*app));
		r->app_count = n;
		return;
	}
	/* another size: copy into a block that fits, then let the old one
	 * go (app may point into it) */
	b = gsp_app_alloc(t, c);
	memcpy(gsp_app_block(t, c, b), app, n * sizeof(*app));
	gsp_app_free(t, r);
	r->app_block = b & GSP_APP_NO_BLOCK;	/* b < n_slots < that */
	r->app_class = c;
	r->app_count = n;
}

/* One writer: a plain read, and a store that readers load whole. */
static void
gsp_table_mark(struct gsp_table *t, uint32_t slot, bool used)
{
	uint64_t *w = &t->used_map[slot / 64], bit = 1ull << (slot % 64);

	__atomic_store_n(w, used ? *w | bit : *w & ~bit, __ATOMIC_RELAXED);
}

int32_t
gsp_table_insert(struct gsp_table *t, uint64_t id)
{
	return gsp_table_insert_at(t, id, -1);
}

int32_t
gsp_table_insert_at(struct gsp_table *t, uint64_t id, int32_t at)
{
	struct gsp_member_rec *r;
	int32_t slot;

	if (t->used >= t->capacity)
		return -ENOSPC;
	slot = gsp_ids_take_at(t->ids, id, at);
	if (slot < 0)
		return slot;
	r = &t->recs[slot];
	if (gsp_table_has(t, (uint32_t)slot)) {
		gsp_ids_put(t->ids, (uint32_t)slot);
		return -EEXIST;
	}
	gsp_table_write_begin_fresh(r);
	memset((uint8_t *)r + sizeof(r->seq), 0, sizeof(*r) - sizeof(r->seq));
	gsp_table_mark(t, (uint32_t)slot, true);
	r->app_block = GSP_APP_NO_BLOCK;
	/* left open: the caller fills the record and ends the write, so no
	 * reader sees a member without its name and generation */
	t->used++;
	if ((uint32_t)slot >= t->high_water)
		__atomic_store_n(&t->high_water, (uint32_t)slot + 1,
				 __ATOMIC_RELEASE);
	return slot;
}

void
gsp_table_remove(struct gsp_table *t, uint32_t slot)
{
	struct gsp_member_rec *r = &t->recs[slot];

	gsp_table_write_begin(r);
	gsp_table_mark(t, slot, false);
	gsp_app_free(t, r);
	gsp_table_write_end(r);
	gsp_ids_put(t->ids, slot);
	t->used--;
}

uint32_t
gsp_table_random(const struct gsp_table *t, uint64_t *rng)
{
	uint32_t hw = t->high_water, words = hw / 64 + 1, k;

	if (t->used == 0)
		return GSP_NONE;
	if ((uint64_t)t->used * 8 >= hw)
		return gsp_rand_below(rng, hw);
	/* the k-th used slot, a popcount per 64 slots */
	k = gsp_rand_below(rng, t->used);
	for (uint32_t w = 0; w < words; w++) {
		uint64_t m = t->used_map[w];
		uint32_t c = (uint32_t)__builtin_popcountll(m);

		if (k >= c) {
			k -= c;
			continue;
		}
		while (k-- > 0)
			m &= m - 1;
		return w * 64 + (uint32_t)__builtin_ctzll(m);
	}
	return GSP_NONE;	/* not reached: used bits lie below hw */
}

uint32_t
gsp_table_slot_count(const struct gsp_table *t)
{
	return __atomic_load_n(&t->high_water, __ATOMIC_ACQUIRE);
}

/* Copies one record with its name and app state; true when the slot is
 * used. */
static bool
gsp_table_copy(const struct gsp_table *t, const struct gsp_member_rec *r,
	       struct gsp_member_view *out)
{
	struct gsp_member_rec c;
	uint8_t n;

	memcpy(&c, r, sizeof(c));
	/* whether the slot is used, and its id, read inside the same
	 * sequence window: both change only in this table's write section
	 * or after it ended */
	out->id = gsp_table_rec_id(t, r);
	out->generation = c.generation;
	out->heartbeat = c.heartbeat;
	out->version = c.version;
	out->last_update_ns = gsp_heard_ns(&c);
	out->state_since_ns = gsp_since_ns(&c);
	{
		struct gsp_addr a = gsp_table_addr(t, (uint32_t)(r - t->recs));

		out->ip = a.ip;
		out->port = a.port;
	}
	out->state = c.state;
	/* a member down for long reaches the top: 655350, not a jump to
	 * UINT32_MAX that graphs and alerts would take for news */
	out->phi_milli = 10u * c.phi_centi;
	out->incarnation = c.incarnation;
	out->name[0] = '\0';
	/* offsets may be garbage in a torn copy: bound them, the sequence
	 * check then throws the copy away */
	memcpy(out->name, gsp_names_at(t->names,
				       gsp_ids_name_at(t->name_of,
						       (uint32_t)(r - t->recs))),
	       GSP_NAME_MAX);
	out->name[GSP_NAME_MAX - 1] = '\0';
	n = c.app_count;
	out->app_count = 0;
	if (n != 0 && c.app_class < GSP_APP_CLASSES &&
	    n <= (1u << c.app_class) && c.app_block < t->n_slots) {
		const struct gsp_app_entry *pool =
			__atomic_load_n(&t->apps[c.app_class],
					__ATOMIC_ACQUIRE);

		if (pool != NULL) {
			memcpy(out->app,
			       &pool[(size_t)c.app_block << c.app_class],
			       n * sizeof(out->app[0]));
			out->app_count = n;
		}
	}
	return out->id != 0;
}

bool
gsp_table_read(const struct gsp_table *t, uint32_t slot,
	       struct gsp_member_view *out)
{
	const struct gsp_member_rec *r;
	uint32_t m1;
	uint16_t s1, s2;
	bool used;

	if (slot >= t->n_slots)
		return false;
	r = &t->recs[slot];
	/* The writer holds a record for well under a microsecond, so a
	 * reader retries a handful of times; the bound only guards against
	 * a writer that died mid-update. */
	for (unsigned int tries = 0;; tries++) {
		if (tries > GSP_TABLE_READ_TRIES)
			return false;
		s1 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		m1 = __atomic_load_n(t->name_moves, __ATOMIC_ACQUIRE);
		if ((s1 & 1) == 0) {
			used = gsp_table_copy(t, r, out);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = __atomic_load_n(&r->seq, __ATOMIC_RELAXED);
			/* another table sharing the catalog may rename the
			 * member outside our record's write section, and a
			 * name let go may be reused under the copy */
			if (s1 == s2 &&
			    m1 == __atomic_load_n(t->name_moves,
						  __ATOMIC_RELAXED))
				break;
		}
		if (tries > 64)
			sched_yield();
	}
	if (!used)
		return false;
	for (uint8_t i = 0; i < out->app_count; i++) {
		out->app[i].key[GSP_APP_KEY_MAX - 1] = '\0';
		out->app[i].value[GSP_APP_VALUE_MAX - 1] = '\0';
	}
	return true;
}

size_t
gsp_table_bytes_per_member(bool shared)
{
	return sizeof(struct gsp_member_rec) + (shared ? 0 :
		gsp_ids_bytes_per_id() + gsp_names_bytes_per_name());
}
