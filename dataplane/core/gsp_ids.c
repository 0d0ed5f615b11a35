/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_core.h"
#include "gsp_ids.h"
#include "gsp_index.h"
#include "gsp_names.h"
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
	struct gsp_names *names;
	uint32_t *name_off;	/* per slot: in names, or GSP_IDS_NO_NAME */
	/* name -> slots, made on demand (gsp_ids_index_names): chains per
	 * name slot */
	uint32_t *named_head;
	uint32_t *named_next;	/* per slot */
	uint32_t named_mask;
	/* names let go so far: a reader's copy of a name is whole when this
	 * did not move under it (gsp_table_read) */
	uint32_t name_moves;
	bool shared;		/* a table was handed it (gsp_ids_hold) */
	uint32_t n_slots;
	uint32_t holders;	/* tables sharing the catalog */
};

struct gsp_ids *
gsp_ids_create(const char *name, uint32_t max_ids, struct gsp_names *names)
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
	c->chain_bits = gsp_ids_chain_bits_for(max_ids);
	c->chain_head = malloc(sizeof(*c->chain_head) << c->chain_bits);
	c->chain_next = malloc(c->n_slots * sizeof(*c->chain_next));
	c->name_off = malloc(c->n_slots * sizeof(*c->name_off));
	if (c->name_off != NULL)	/* before any exit: destroy reads it */
		memset(c->name_off, 0xff, c->n_slots * sizeof(*c->name_off));
	if (names != NULL)
		gsp_names_hold(names);
	else
		names = gsp_names_create(c->n_slots);
	c->names = names;
	if (c->ids == NULL || c->refs == NULL || c->addr == NULL ||
	    c->addr_from == NULL || c->chain_head == NULL ||
	    c->chain_next == NULL || c->name_off == NULL || c->names == NULL)
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
	if (c->name_off != NULL && c->names != NULL)
		for (uint32_t slot = 0; slot < c->n_slots; slot++)
			gsp_names_put(c->names, c->name_off[slot]);
	free(c->name_off);
	free(c->named_head);
	free(c->named_next);
	gsp_names_destroy(c->names);
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

/* The catalog's singly linked lists of slots (bucket chains, name
 * chains) end in UINT32_MAX. */
_Static_assert(GSP_IDS_CHAIN_END == UINT32_MAX &&
	       GSP_IDS_NO_NAME == UINT32_MAX, "lists end alike");

static void
gsp_list_push(uint32_t *head, uint32_t *next, uint32_t slot)
{
	next[slot] = *head;
	*head = slot;
}

/* Walks the list to slot: bounded by its length. */
static void
gsp_list_unlink(uint32_t *head, uint32_t *next, uint32_t slot)
{
	while (*head != slot && *head != UINT32_MAX)
		head = &next[*head];
	if (*head == slot)
		*head = next[slot];
}

static uint32_t *
gsp_ids_chain_of(struct gsp_ids *c, uint64_t id)
{
	return &c->chain_head[gsp_ids_chain_of_key(gsp_id_key(id),
						   c->chain_bits)];
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

/* ---- names, and the index of slots by name ---- */

/* A name's chain: its slot in the pool, spread by a multiplicative hash
 * (pool slots are handed out in order). */
static uint32_t *
gsp_named_chain(const struct gsp_ids *c, uint32_t off)
{
	uint32_t h = (off / 16u) * 0x9e3779b1u;

	return &c->named_head[(h ^ (h >> 16)) & c->named_mask];
}

static void
gsp_named_link(struct gsp_ids *c, uint32_t slot)
{
	if (c->named_head != NULL && c->name_off[slot] != GSP_IDS_NO_NAME)
		gsp_list_push(gsp_named_chain(c, c->name_off[slot]),
			      c->named_next, slot);
}

static void
gsp_named_unlink(struct gsp_ids *c, uint32_t slot)
{
	/* chains are as short as the buckets are many, unless many ids
	 * share one name: each of those holders was reported */
	if (c->named_head != NULL && c->name_off[slot] != GSP_IDS_NO_NAME)
		gsp_list_unlink(gsp_named_chain(c, c->name_off[slot]),
				c->named_next, slot);
}

/* A name no slot points at any more goes back to the pool, where its
 * bytes may be reused at once: the count moves first, so a reader
 * copying it sees the count moved and copies again. */
static void
gsp_ids_name_let_go(struct gsp_ids *c, uint32_t off)
{
	if (off == GSP_IDS_NO_NAME)
		return;
	__atomic_store_n(&c->name_moves, c->name_moves + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	gsp_names_put(c->names, off);
}

/* The slot's name becomes name: 0, or -ENOSPC (the pool is full: the
 * old name stays). */
static int
gsp_ids_rename(struct gsp_ids *c, uint32_t slot, const char *name)
{
	uint32_t old = c->name_off[slot];
	int64_t off;

	if (old != GSP_IDS_NO_NAME &&
	    strncmp(gsp_names_at(c->names, old), name, GSP_NAME_MAX - 1) == 0)
		return 0;
	/* taken before the old one is let go: the same slot may be both */
	off = gsp_names_get(c->names, name);
	if (off < 0)
		return (int)off;
	gsp_named_unlink(c, slot);
	__atomic_store_n(&c->name_off[slot], (uint32_t)off, __ATOMIC_RELEASE);
	gsp_ids_name_let_go(c, old);
	gsp_named_link(c, slot);
	return 0;
}

/* The slot is free again: its name goes with it. */
static void
gsp_ids_unname(struct gsp_ids *c, uint32_t slot)
{
	uint32_t old = c->name_off[slot];

	gsp_named_unlink(c, slot);
	__atomic_store_n(&c->name_off[slot], GSP_IDS_NO_NAME,
			 __ATOMIC_RELEASE);
	gsp_ids_name_let_go(c, old);
}

const uint32_t *
gsp_ids_name_array(const struct gsp_ids *c)
{
	return c->name_off;
}

const uint32_t *
gsp_ids_name_moves(const struct gsp_ids *c)
{
	return &c->name_moves;
}

const struct gsp_names *
gsp_ids_names(const struct gsp_ids *c)
{
	return c->names;
}

const char *
gsp_ids_name(const struct gsp_ids *c, uint32_t slot)
{
	return gsp_names_at(c->names, c->name_off[slot]);
}

int
gsp_ids_index_names(struct gsp_ids *c)
{
	uint32_t buckets = 1;

	if (c->named_head != NULL)
		return 0;
	while (buckets < c->n_slots)
		buckets <<= 1;
	c->named_head = malloc((size_t)buckets * sizeof(*c->named_head));
	c->named_next = malloc((size_t)c->n_slots * sizeof(*c->named_next));
	if (c->named_head == NULL || c->named_next == NULL) {
		free(c->named_head);
		free(c->named_next);
		c->named_head = c->named_next = NULL;
		return -ENOMEM;
	}
	memset(c->named_head, 0xff, (size_t)buckets * sizeof(*c->named_head));
	c->named_mask = buckets - 1;
	for (uint32_t slot = 0; slot < c->n_slots; slot++)
		gsp_named_link(c, slot);
	return 0;
}

/* slot, or the next slot after it on its chain, holding off */
static uint32_t
gsp_named_from(const struct gsp_ids *c, uint32_t slot, uint32_t off)
{
	while (slot != GSP_IDS_NO_NAME && c->name_off[slot] != off)
		slot = c->named_next[slot];
	return slot;
}

uint32_t
gsp_ids_named_first(const struct gsp_ids *c, const char *name)
{
	uint32_t off = gsp_names_find(c->names, name);

	if (off == GSP_IDS_NO_NAME || c->named_head == NULL)
		return GSP_IDS_NO_NAME;
	return gsp_named_from(c, *gsp_named_chain(c, off), off);
}

uint32_t
gsp_ids_named_next(const struct gsp_ids *c, uint32_t slot)
{
	return gsp_named_from(c, c->named_next[slot], c->name_off[slot]);
}

bool
gsp_ids_named_verify(const struct gsp_ids *c)
{
	uint32_t linked = 0, named = 0;

	if (c->named_head == NULL)
		return true;
	for (uint32_t b = 0; b <= c->named_mask; b++)
		for (uint32_t s = c->named_head[b]; s != GSP_IDS_NO_NAME;
		     s = c->named_next[s]) {
			if (s >= c->n_slots || c->refs[s] == 0 ||
			    c->name_off[s] == GSP_IDS_NO_NAME ||
			    gsp_named_chain(c, c->name_off[s]) !=
			    &c->named_head[b] || ++linked > c->n_slots)
				return false;
		}
	for (uint32_t slot = 0; slot < c->n_slots; slot++) {
		uint32_t off = c->name_off[slot], s;

		if (off == GSP_IDS_NO_NAME)
			continue;
		if (c->refs[slot] == 0)
			return false;	/* a free slot keeps no name */
		named++;
		s = gsp_named_from(c, *gsp_named_chain(c, off), off);
		while (s != slot && s != GSP_IDS_NO_NAME)
			s = gsp_ids_named_next(c, s);
		if (s != slot)
			return false;
	}
	return linked == named;
}

/* ---- where a member is: its address and name ---- */

int
gsp_ids_set_where(struct gsp_ids *c, uint32_t slot, uint64_t addr,
		  const char *name, uint64_t generation, uint64_t version)
{
	if (c->shared) {
		struct gsp_ids_stamp *from = &c->addr_from[slot];

		if (generation < from->generation ||
		    (generation == from->generation &&
		     version < from->version))
			return 0;
		*from = (struct gsp_ids_stamp){ generation, version };
	}
	/* nearly always the same: no line dirtied for it */
	if (c->addr[slot] != addr)
		__atomic_store_n(&c->addr[slot], addr, __ATOMIC_RELAXED);
	return name != NULL ? gsp_ids_rename(c, slot, name) : 0;
}

int
gsp_ids_pin(struct gsp_ids *c, uint32_t slot, uint64_t addr,
	    const char *name)
{
	c->addr_from[slot] = (struct gsp_ids_stamp){ UINT64_MAX, UINT64_MAX };
	__atomic_store_n(&c->addr[slot], addr, __ATOMIC_RELAXED);
	return gsp_ids_rename(c, slot, name);
}

void
gsp_ids_unpin(struct gsp_ids *c, uint32_t slot, uint64_t generation,
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
	return gsp_ids_take_at(c, id, -1);
}

int32_t
gsp_ids_take_at(struct gsp_ids *c, uint64_t id, int32_t at)
{
	int32_t slot;

	if (id == 0)
		return -EINVAL;
	slot = gsp_ids_still_at(c->ids, c->n_slots, id, at) ? at :
		gsp_index_lookup(c->index, id);
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
		gsp_list_push(gsp_ids_chain_of(c, id), c->chain_next,
			      (uint32_t)slot);
	}
	c->refs[slot]++;
	return slot;
}

void
gsp_ids_put(struct gsp_ids *c, uint32_t slot)
{
	if (slot >= c->n_slots || c->refs[slot] == 0 || --c->refs[slot] > 0)
		return;
	/* under 2 x GSP_IDS_CHAIN_FILL to walk at max_ids */
	gsp_list_unlink(gsp_ids_chain_of(c, c->ids[slot]), c->chain_next,
			slot);
	gsp_ids_unname(c, slot);
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
		sizeof(uint32_t) + sizeof(uint64_t) + 2 * sizeof(uint32_t) +
		(sizeof(uint32_t) + GSP_IDS_CHAIN_FILL - 1) /
		GSP_IDS_CHAIN_FILL;
}
