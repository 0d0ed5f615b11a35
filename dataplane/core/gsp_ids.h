/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Member ids -> table slots, shared by every table written from one
 * thread.
 *
 * The simulator and the emulation run thousands of nodes in a process and
 * each knows nearly every member: one index per node was N copies of the
 * same map, and the largest part of the join's cache misses. Tables that
 * share this catalog give a member the same slot in every table, so one
 * small index serves them all and a table is an array by slot. The
 * catalog counts the tables holding each id and lets the slot go when
 * the last one removes it. A real node's table has a catalog of its own.
 *
 * The catalog also holds each member's address and name: where the
 * member is and what it is called do not depend on which table asks.
 * Tables that share the catalog keep those of the newest (generation,
 * version) any of them took in, so a table behind the others sends to
 * where the member is now, and a late old state does not move it back.
 * Names are interned in a pool (gsp_names.h); the catalog holds one
 * reference per named slot, so N tables of N members cost N offsets,
 * not N².
 *
 * The catalog chains its ids by the top bits of their digest key
 * (gsp_id_key): these chains are the nodes' digest buckets. One chain per
 * catalog, not one per table, costs 4 bytes per id instead of 4 per
 * member per table; a table walks it and skips the ids it does not hold
 * (gsp_table_has), which are few once it has joined.
 *
 * One writer: the thread that writes the tables sharing it. Ids are read
 * by other threads only through a record's sequence counter
 * (gsp_table_read): a slot is reused only after every table let it go,
 * inside its write section, so a reader never keeps a reused id. An
 * address is one 8-byte word: a reader never sees half of one. A name
 * is copied between two reads of a count of the names the catalog let
 * go: one let go under the copy (its bytes may be reused) shows as the
 * count moved, and the reader copies again.
 */
#ifndef GSP_IDS_H
#define GSP_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsp_names;

struct gsp_ids;

/* Ids per chain when the catalog holds max_ids: at least this, and
 * less than twice it (chains are a power of two, rounded down). */
#define GSP_IDS_CHAIN_FILL 8

/* The chain of a digest key (gsp_id_key) among 1 << bits: its top bits.
 * A node's digest bucket is its catalog chain. */
static inline uint32_t
gsp_ids_chain_of_key(uint64_t key, uint32_t bits)
{
	return bits == 0 ? 0 : (uint32_t)(key >> (64 - bits));
}

/* log2 of the chains of a catalog for max_ids. */
static inline uint32_t
gsp_ids_chain_bits_for(uint32_t max_ids)
{
	return 31 - (uint32_t)__builtin_clz(max_ids / GSP_IDS_CHAIN_FILL + 1);
}

/* A catalog for up to max_ids distinct ids at once. name labels the
 * index (rte_hash wants one). names: the pool for the members' names,
 * maybe shared with other catalogs, or NULL for one of its own. NULL on
 * failure. */
struct gsp_ids *gsp_ids_create(const char *name, uint32_t max_ids,
			       struct gsp_names *names);
/* Tables that share the catalog: it is freed with the last one. */
void gsp_ids_hold(struct gsp_ids *c);
void gsp_ids_destroy(struct gsp_ids *c);
/* Slots handed out are in [0, gsp_ids_slots()). */
uint32_t gsp_ids_slots(const struct gsp_ids *c);
/* id's slot, or -ENOENT: no table of this thread holds it. */
int32_t gsp_ids_find(const struct gsp_ids *c, uint64_t id);
/* The index behind gsp_ids_find, for a caller that looks ids up per
 * packet and wants no call in between. */
const struct gsp_index *gsp_ids_index(const struct gsp_ids *c);
/* id's slot, held once more (made on first use): -ENOBUFS when the
 * catalog is full (whatever room the tables have), -EINVAL for id 0. */
int32_t gsp_ids_take(struct gsp_ids *c, uint64_t id);
/* The same, where `at` may be id's slot from an earlier lookup (the
 * catalog may have changed since: it is checked), or -1. */
int32_t gsp_ids_take_at(struct gsp_ids *c, uint64_t id, int32_t at);
/* A table lets go of the slot it took. */
void gsp_ids_put(struct gsp_ids *c, uint32_t slot);
/* The id at slot (0: free); a reader's copy is checked by the caller. */
static inline uint64_t
gsp_ids_at(const uint64_t *ids, uint32_t slot)
{
	return __atomic_load_n(&ids[slot], __ATOMIC_RELAXED);
}
/* The slot -> id array, for gsp_ids_at(). */
const uint64_t *gsp_ids_array(const struct gsp_ids *c);
/* Whether at, a slot an earlier lookup of id gave (or -1), still holds
 * it: a slot holds one id, and an id one slot. */
static inline bool
gsp_ids_still_at(const uint64_t *ids, uint32_t n_slots, uint64_t id,
		 int32_t at)
{
	return at >= 0 && (uint32_t)at < n_slots && id != 0 &&
		gsp_ids_at(ids, (uint32_t)at) == id;
}

/* Chains: 1 << bits heads, the first slot of each (GSP_IDS_CHAIN_END:
 * empty), and per slot the next one. A slot's chain is the top bits of
 * gsp_id_key(id); the order within a chain means nothing. */
#define GSP_IDS_CHAIN_END UINT32_MAX
uint32_t gsp_ids_chain_bits(const struct gsp_ids *c);
const uint32_t *gsp_ids_chain_heads(const struct gsp_ids *c);
const uint32_t *gsp_ids_chain_next(const struct gsp_ids *c);

/* An address as the catalog keeps it: ip << 16 | port. */
static inline uint64_t
gsp_ids_addr_word(uint32_t ip, uint16_t port)
{
	return (uint64_t)ip << 16 | port;
}
/* The slot -> address array, for gsp_ids_addr_at(). */
const uint64_t *gsp_ids_addr_array(const struct gsp_ids *c);
static inline uint64_t
gsp_ids_addr_at(const uint64_t *addrs, uint32_t slot)
{
	return __atomic_load_n(&addrs[slot], __ATOMIC_RELAXED);
}
/* A slot's name offset in the pool, or none. */
#define GSP_IDS_NO_NAME UINT32_MAX

/* A table took in the member's state (generation, version) with this
 * address and name: kept unless a table sharing the catalog holds a
 * newer one. 0, or -ENOSPC when the name pool is full (the old name
 * stays). name NULL: the slot's name, as the caller found it, is the
 * state's. */
int gsp_ids_set_where(struct gsp_ids *c, uint32_t slot, uint64_t addr,
		      const char *name, uint64_t generation,
		      uint64_t version);
/* The slot is a local node's own id: its address and name are its own,
 * whatever another table sharing the catalog takes in about that id. */
int gsp_ids_pin(struct gsp_ids *c, uint32_t slot, uint64_t addr,
		const char *name);
/* The node is gone: its address and name are as good as its last state
 * (the other tables may hold it still, and hear of it from elsewhere). */
void gsp_ids_unpin(struct gsp_ids *c, uint32_t slot, uint64_t generation,
		   uint64_t version);
/* The member's name ("" when none), writer side. */
const char *gsp_ids_name(const struct gsp_ids *c, uint32_t slot);
/* For readers: the slot -> name offset array (read it with
 * gsp_ids_name_at), the pool the offsets point into, and the count of
 * names let go (read it before and after a copy). */
const uint32_t *gsp_ids_name_array(const struct gsp_ids *c);
const struct gsp_names *gsp_ids_names(const struct gsp_ids *c);
const uint32_t *gsp_ids_name_moves(const struct gsp_ids *c);

static inline uint32_t
gsp_ids_name_at(const uint32_t *name_offs, uint32_t slot)
{
	return __atomic_load_n(&name_offs[slot], __ATOMIC_ACQUIRE);
}

/* Keep an index of slots by name from now on (idempotent): 0, or
 * -ENOMEM. It costs 8 to 12 bytes per slot (a link, and buckets rounded
 * up to a power of two), so only nodes that need it (ids set in configs,
 * not derived from names) make one. */
int gsp_ids_index_names(struct gsp_ids *c);
/* With the index: the first slot named name, and the next after slot
 * with the same name; GSP_IDS_NO_NAME when there is none. Take the next
 * before letting slot go. */
uint32_t gsp_ids_named_first(const struct gsp_ids *c, const char *name);
uint32_t gsp_ids_named_next(const struct gsp_ids *c, uint32_t slot);
/* The index holds exactly the named slots under their names (tests). */
bool gsp_ids_named_verify(const struct gsp_ids *c);

/* Bytes per distinct id: index entry, id, count, address, chain link,
 * name offset (a shared catalog, once per thread: 16 more, the address's
 * (generation, version)); and the chain heads, 4 bytes for
 * GSP_IDS_CHAIN_FILL ids or more. */
size_t gsp_ids_bytes_per_id(void);

#endif /* GSP_IDS_H */
