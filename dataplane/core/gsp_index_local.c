/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Open addressing with linear probing and backward-shift deletion. A
 * bucket holds a slot and, in the bits the slot does not need, a tag
 * from the id's hash: the id itself is the record's
 * (gsp_index_set_keys), read only when the tag matches (a hit reads that
 * record next anyway), so an entry costs 8 bytes of buckets at half load
 * instead of 32, and a miss rarely touches a record.
 */
#include <errno.h>
#include <stdlib.h>

#include "gsp_index.h"

#define GSP_INDEX_EMPTY UINT32_MAX

struct gsp_index {
	uint32_t capacity;
	uint32_t mask;
	uint32_t n_free;
	uint32_t *buckets;	/* tag << slot_bits | slot, or GSP_INDEX_EMPTY */
	uint32_t slot_bits;
	uint32_t slot_mask;
	int32_t *free_slots;	/* stack of unused slots */
	const uint8_t *keys;	/* slot s's id at keys + s * stride */
	size_t stride;
};

static inline uint64_t
gsp_index_key(const struct gsp_index *ix, uint32_t slot)
{
	return *(const uint64_t *)(const void *)(ix->keys + slot * ix->stride);
}

static uint64_t
gsp_index_hash(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return id;
}

/* The bucket an entry of this hash and slot is stored as. */
static inline uint32_t
gsp_index_entry(const struct gsp_index *ix, uint64_t h, uint32_t slot)
{
	/* a 32-bit slot field leaves no tag: shifting by 32 is undefined */
	if (ix->slot_bits >= 32)
		return slot;
	return (uint32_t)(h >> 32) << ix->slot_bits | slot;
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
	/* slots up to capacity - 1 never fill their field with ones, so no
	 * entry is GSP_INDEX_EMPTY */
	while (ix->slot_bits < 32 && (1ull << ix->slot_bits) < capacity + 1ull)
		ix->slot_bits++;
	ix->slot_mask = (uint32_t)((1ull << ix->slot_bits) - 1);
	ix->buckets = malloc(size * sizeof(*ix->buckets));
	ix->free_slots = calloc(capacity, sizeof(*ix->free_slots));
	if (ix->buckets == NULL || ix->free_slots == NULL)
		goto fail;
	for (uint32_t i = 0; i < size; i++)
		ix->buckets[i] = GSP_INDEX_EMPTY;
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

void
gsp_index_set_keys(struct gsp_index *ix, const void *base, size_t stride)
{
	ix->keys = base;
	ix->stride = stride;
}

uint32_t
gsp_index_slots(const struct gsp_index *ix)
{
	return ix->capacity;
}

int32_t
gsp_index_lookup(const struct gsp_index *ix, uint64_t id)
{
	uint64_t h = gsp_index_hash(id);
	uint32_t want = gsp_index_entry(ix, h, 0);

	for (uint32_t i = (uint32_t)h & ix->mask;; i = (i + 1) & ix->mask) {
		uint32_t b = ix->buckets[i];

		if (b == GSP_INDEX_EMPTY)
			return -ENOENT;
		if ((b & ~ix->slot_mask) == want &&
		    gsp_index_key(ix, b & ix->slot_mask) == id)
			return (int32_t)(b & ix->slot_mask);
	}
}

int32_t
gsp_index_add(struct gsp_index *ix, uint64_t id)
{
	uint64_t h = gsp_index_hash(id);
	uint32_t want = gsp_index_entry(ix, h, 0);
	uint32_t i, slot;

	if (id == 0)
		return -EINVAL;
	for (i = (uint32_t)h & ix->mask; ix->buckets[i] != GSP_INDEX_EMPTY;
	     i = (i + 1) & ix->mask)
		if ((ix->buckets[i] & ~ix->slot_mask) == want &&
		    gsp_index_key(ix, ix->buckets[i] & ix->slot_mask) == id)
			return -EEXIST;
	if (ix->n_free == 0)
		return -ENOSPC;
	/* the caller stores id in the slot's record before the next call */
	slot = (uint32_t)ix->free_slots[--ix->n_free];
	ix->buckets[i] = gsp_index_entry(ix, h, slot);
	return (int32_t)slot;
}

int
gsp_index_del(struct gsp_index *ix, uint64_t id)
{
	uint64_t h = gsp_index_hash(id);
	uint32_t want = gsp_index_entry(ix, h, 0);
	uint32_t i, j;

	for (i = (uint32_t)h & ix->mask;; i = (i + 1) & ix->mask) {
		if (ix->buckets[i] == GSP_INDEX_EMPTY)
			return -ENOENT;
		if ((ix->buckets[i] & ~ix->slot_mask) == want &&
		    gsp_index_key(ix, ix->buckets[i] & ix->slot_mask) == id)
			break;
	}
	ix->free_slots[ix->n_free++] = (int32_t)(ix->buckets[i] & ix->slot_mask);
	/* backward shift keeps every probe chain unbroken */
	for (j = (i + 1) & ix->mask; ix->buckets[j] != GSP_INDEX_EMPTY;
	     j = (j + 1) & ix->mask) {
		uint32_t home = (uint32_t)gsp_index_hash(gsp_index_key(ix,
				ix->buckets[j] & ix->slot_mask)) & ix->mask;

		if (((j - home) & ix->mask) >= ((j - i) & ix->mask)) {
			ix->buckets[i] = ix->buckets[j];
			i = j;
		}
	}
	ix->buckets[i] = GSP_INDEX_EMPTY;
	return 0;
}

uint32_t
gsp_index_bytes_per_entry(void)
{
	return 2 * sizeof(uint32_t) + sizeof(int32_t);
}
