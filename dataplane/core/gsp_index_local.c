/* SPDX-License-Identifier: BSD-3-Clause */
/* Open addressing with linear probing and backward-shift deletion. */
#include <errno.h>
#include <stdlib.h>

#include "gsp_index.h"

struct gsp_index_bucket {
	uint64_t id;		/* 0 = empty */
	int32_t slot;
};

struct gsp_index {
	uint32_t capacity;
	uint32_t mask;
	uint32_t n_free;
	struct gsp_index_bucket *buckets;
	int32_t *free_slots;	/* stack of unused slots */
};

static uint32_t
gsp_index_hash(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (uint32_t)id;
}

struct gsp_index *
gsp_index_create(const char *name, uint32_t capacity)
{
	struct gsp_index *ix = calloc(1, sizeof(*ix));
	uint32_t size = 16;

	(void)name;
	if (ix == NULL || capacity == 0)
		goto fail;
	while (size < capacity * 2)	/* load factor <= 0.5 */
		size <<= 1;
	ix->capacity = capacity;
	ix->mask = size - 1;
	ix->buckets = calloc(size, sizeof(*ix->buckets));
	ix->free_slots = calloc(capacity, sizeof(*ix->free_slots));
	if (ix->buckets == NULL || ix->free_slots == NULL)
		goto fail;
	/* hand out low slots first so readers scan a short prefix */
	for (uint32_t i = 0; i < capacity; i++)
		ix->free_slots[i] = (int32_t)(capacity - 1 - i);
	ix->n_free = capacity;
	return ix;
fail:
	gsp_index_destroy(ix);
	return NULL;
}

void
gsp_index_destroy(struct gsp_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->buckets);
	free(ix->free_slots);
	free(ix);
}

uint32_t
gsp_index_slots(const struct gsp_index *ix)
{
	return ix->capacity;
}

int32_t
gsp_index_lookup(const struct gsp_index *ix, uint64_t id)
{
	for (uint32_t i = gsp_index_hash(id) & ix->mask;; i = (i + 1) & ix->mask) {
		if (ix->buckets[i].id == id)
			return ix->buckets[i].slot;
		if (ix->buckets[i].id == 0)
			return -ENOENT;
	}
}

int32_t
gsp_index_add(struct gsp_index *ix, uint64_t id)
{
	uint32_t i;

	if (id == 0)
		return -EINVAL;
	for (i = gsp_index_hash(id) & ix->mask; ix->buckets[i].id != 0;
	     i = (i + 1) & ix->mask)
		if (ix->buckets[i].id == id)
			return -EEXIST;
	if (ix->n_free == 0)
		return -ENOSPC;
	ix->buckets[i].id = id;
	ix->buckets[i].slot = ix->free_slots[--ix->n_free];
	return ix->buckets[i].slot;
}

int
gsp_index_del(struct gsp_index *ix, uint64_t id)
{
	uint32_t i, j;

	for (i = gsp_index_hash(id) & ix->mask; ix->buckets[i].id != id;
	     i = (i + 1) & ix->mask)
		if (ix->buckets[i].id == 0)
			return -ENOENT;
	ix->free_slots[ix->n_free++] = ix->buckets[i].slot;
	/* backward shift keeps every probe chain unbroken */
	for (j = (i + 1) & ix->mask; ix->buckets[j].id != 0;
	     j = (j + 1) & ix->mask) {
		uint32_t home = gsp_index_hash(ix->buckets[j].id) & ix->mask;

		if (((j - home) & ix->mask) >= ((j - i) & ix->mask)) {
			ix->buckets[i] = ix->buckets[j];
			i = j;
		}
	}
	ix->buckets[i].id = 0;
	return 0;
}

uint32_t
gsp_index_bytes_per_entry(void)
{
	return 2 * sizeof(struct gsp_index_bucket) + sizeof(int32_t);
}
