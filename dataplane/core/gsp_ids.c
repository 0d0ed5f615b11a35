/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_ids.h"
#include "gsp_index.h"
#include "gsp_util.h"

struct gsp_ids {
	struct gsp_index *index;
	uint64_t *ids;		/* per slot: its id, 0 when free */
	uint32_t *refs;		/* per slot: tables holding it */
	uint64_t *addr;		/* per slot: gsp_ids_addr_word() */
	/* per slot, written only once shared: the (generation, version)
	 * the address came with; a local node's own is above all */
	struct gsp_ids_stamp {
		uint64_t generation;
		uint64_t version;
	} *addr_from;
	uint32_t chain_bits;
	uint32_t *chain_head;	/* 1 << chain_bits */
	uint32_t *chain_next;	/* per slot */
	bool shared;		/* a table was handed it (gsp_ids_hold) */
	uint32_t n_slots;
	uint32_t holders;	/* tables sharing the catalog */
};

struct gsp_ids *
gsp_ids_create(const char *name, uint32_t max_ids)
{
	struct gsp_ids *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->holders = 1;
	c->index = gsp_index_create(name, max_ids);
	if (c->index == NULL)
		goto fail;
	c->n_slots = gsp_index_slots(c->index);
	/* calloc of large sizes maps zero pages lazily */
	c->ids = calloc(c->n_slots, sizeof(*c->ids));
	c->refs = calloc(c->n_slots, sizeof(*c->refs));
	c->addr = calloc(c->n_slots, sizeof(*c->addr));
	c->addr_from = calloc(c->n_slots, sizeof(*c->addr_from));
	c->chain_bits = gsp_log2_ceil(max_ids / GSP_IDS_CHAIN_FILL + 1);
	c->chain_head = malloc(sizeof(*c->chain_head) << c->chain_bits);
	c->chain_next = malloc(c->n_slots * sizeof(*c->chain_next));
	if (c->ids == NULL || c->refs == NULL || c->addr == NULL ||
	    c->addr_from == NULL || c->chain_head == NULL ||
	    c->chain_next == NULL)
		goto fail;
	memset(c->chain_head, 0xff, sizeof(*c->chain_head) << c->chain_bits);
	gsp_index_set_keys(c->index, c->ids, sizeof(*c->ids));
	return c;
fail:
	gsp_ids_destroy(c);
	return NULL;
}

void
gsp_ids_hold(struct gsp_ids *c)
{
	c->holders++;
	c->shared = true;
}

void
gsp_ids_destroy(struct gsp_ids *c)
{
	if (c == NULL || --c->holders > 0)
		return;
	if (c->index != NULL)
		gsp_index_destroy(c->index);
	free(c->ids);
	free(c->refs);
	free(c->addr);
	free(c->addr_from);
	free(c->chain_head);
	free(c->chain_next);
	free(c);
}

uint32_t
gsp_ids_slots(const struct gsp_ids *c)
{
	return c->n_slots;
}

const uint64_t *
gsp_ids_array(const struct gsp_ids *c)
{
	return c->ids;
}

static uint32_t *
gsp_ids_chain_of(struct gsp_ids *c, uint64_t id)
{
	return &c->chain_head[c->chain_bits == 0 ? 0 :
			      gsp_id_key(id) >> (64 - c->chain_bits)];
}

uint32_t
gsp_ids_chain_bits(const struct gsp_ids *c)
{
	return c->chain_bits;
}

const uint32_t *
gsp_ids_chain_heads(const struct gsp_ids *c)
{
	return c->chain_head;
}

const uint32_t *
gsp_ids_chain_next(const struct gsp_ids *c)
{
	return c->chain_next;
}

const uint64_t *
gsp_ids_addr_array(const struct gsp_ids *c)
{
	return c->addr;
}

void
gsp_ids_set_addr(struct gsp_ids *c, uint32_t slot, uint64_t addr,
		 uint64_t generation, uint64_t version)
{
	if (c->shared) {
		struct gsp_ids_stamp *from = &c->addr_from[slot];

		if (generation < from->generation ||
		    (generation == from->generation &&
		     version < from->version))
			return;
		*from = (struct gsp_ids_stamp){ generation, version };
	}
	/* nearly always the same: no line dirtied for it */
	if (c->addr[slot] != addr)
		__atomic_store_n(&c->addr[slot], addr, __ATOMIC_RELAXED);
}

void
gsp_ids_pin_addr(struct gsp_ids *c, uint32_t slot, uint64_t addr)
{
	c->addr_from[slot] = (struct gsp_ids_stamp){ UINT64_MAX, UINT64_MAX };
	__atomic_store_n(&c->addr[slot], addr, __ATOMIC_RELAXED);
}

void
gsp_ids_unpin_addr(struct gsp_ids *c, uint32_t slot, uint64_t generation,
		   uint64_t version)
{
	if (c->shared)
		c->addr_from[slot] = (struct gsp_ids_stamp){ generation,
			version };
}

const struct gsp_index *
gsp_ids_index(const struct gsp_ids *c)
{
	return c->index;
}

int32_t
gsp_ids_find(const struct gsp_ids *c, uint64_t id)
{
	return gsp_index_lookup(c->index, id);
}

int32_t
gsp_ids_take(struct gsp_ids *c, uint64_t id)
{
	uint32_t *head;
	int32_t slot;

	if (id == 0)
		return -EINVAL;
	slot = gsp_index_lookup(c->index, id);
	if (slot < 0) {
		slot = gsp_index_add(c->index, id);
		if (slot == -ENOSPC)
			return -ENOBUFS;
		if (slot < 0)
			return slot;
		if ((uint32_t)slot >= c->n_slots) {	/* rte_hash: keeps it */
			gsp_index_del(c->index, id);
			return -ENOBUFS;
		}
		/* the plain index reads the id from here from now on */
		__atomic_store_n(&c->ids[slot], id, __ATOMIC_RELEASE);
		head = gsp_ids_chain_of(c, id);
		c->chain_next[slot] = *head;
		*head = (uint32_t)slot;
	}
	c->refs[slot]++;
	return slot;
}

void
gsp_ids_put(struct gsp_ids *c, uint32_t slot)
{
	uint32_t *link;

	if (slot >= c->n_slots || c->refs[slot] == 0 || --c->refs[slot] > 0)
		return;
	/* bounded by the chain's length: GSP_IDS_CHAIN_FILL at max_ids */
	link = gsp_ids_chain_of(c, c->ids[slot]);
	while (*link != GSP_IDS_CHAIN_END && *link != slot)
		link = &c->chain_next[*link];
	if (*link == slot)
		*link = c->chain_next[slot];
	gsp_index_del(c->index, c->ids[slot]);
	if (c->shared)		/* the next id's own */
		c->addr_from[slot] = (struct gsp_ids_stamp){ 0, 0 };
	/* release: a reader that sees the slot change sees the record's
	 * sequence moved too (gsp_table_read retries) */
	__atomic_store_n(&c->ids[slot], 0, __ATOMIC_RELEASE);
}

size_t
gsp_ids_bytes_per_id(void)
{
	return gsp_index_bytes_per_entry() + sizeof(uint64_t) +
		sizeof(uint32_t) + sizeof(uint64_t) + sizeof(uint32_t) +
		(sizeof(uint32_t) + GSP_IDS_CHAIN_FILL - 1) /
		GSP_IDS_CHAIN_FILL;
}
