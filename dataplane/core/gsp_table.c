/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_index.h"
#include "gsp_table.h"

#define GSP_TABLE_READ_TRIES (1u << 20)

struct gsp_table *
gsp_table_create(const char *name, uint32_t capacity)
{
	struct gsp_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->index = gsp_index_create(name, capacity);
	if (t->index == NULL)
		goto fail;
	t->capacity = capacity;
	t->n_slots = gsp_index_slots(t->index);
	t->recs = aligned_alloc(64, (size_t)t->n_slots * sizeof(*t->recs));
	if (t->recs == NULL)
		goto fail;
	memset(t->recs, 0, (size_t)t->n_slots * sizeof(*t->recs));
	return t;
fail:
	gsp_table_destroy(t);
	return NULL;
}

void
gsp_table_destroy(struct gsp_table *t)
{
	if (t == NULL)
		return;
	if (t->index != NULL)
		gsp_index_destroy(t->index);
	free(t->recs);
	free(t);
}

int32_t
gsp_table_find(const struct gsp_table *t, uint64_t id)
{
	return gsp_index_lookup(t->index, id);
}

int32_t
gsp_table_insert(struct gsp_table *t, uint64_t id)
{
	struct gsp_member_rec *r;
	int32_t slot;

	if (t->used >= t->capacity)
		return -ENOSPC;
	slot = gsp_index_add(t->index, id);
	if (slot < 0)
		return slot;
	if ((uint32_t)slot >= t->n_slots) {
		gsp_index_del(t->index, id);
		return -ENOSPC;
	}
	r = &t->recs[slot];
	gsp_table_write_begin(r);
	memset(&r->v, 0, sizeof(r->v));
	r->v.id = id;
	gsp_table_write_end(r);
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

	gsp_index_del(t->index, r->v.id);
	gsp_table_write_begin(r);
	r->v.id = 0;
	gsp_table_write_end(r);
	t->used--;
}

uint32_t
gsp_table_slot_count(const struct gsp_table *t)
{
	return __atomic_load_n(&t->high_water, __ATOMIC_ACQUIRE);
}

bool
gsp_table_read(const struct gsp_table *t, uint32_t slot,
	       struct gsp_member_view *out)
{
	const struct gsp_member_rec *r;
	uint32_t s1, s2;

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
		if ((s1 & 1) == 0) {
			memcpy(out, &r->v, sizeof(*out));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = __atomic_load_n(&r->seq, __ATOMIC_RELAXED);
			if (s1 == s2)
				break;
		}
		if (tries > 64)
			sched_yield();
	}
	if (out->id == 0)
		return false;
	out->name[GSP_NAME_MAX - 1] = '\0';
	return true;
}
