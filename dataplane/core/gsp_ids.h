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
 * The catalog also holds each member's address: where the member is
 * does not depend on which table asks. Tables that share the catalog
 * keep the address of the newest (generation, version) any of them took
 * in, so a table behind the others sends to where the member is now, and
 * a late old state does not move it back.
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
 * address is one 8-byte word: a reader never sees half of one.
 */
#ifndef GSP_IDS_H
#define GSP_IDS_H

#include <stddef.h>
#include <stdint.h>

struct gsp_ids;

/* Ids per chain when the catalog holds max_ids: between this and twice
 * it (chains are a power of two). */
#define GSP_IDS_CHAIN_FILL 8

/* A catalog for up to max_ids distinct ids at once. name labels the
 * index (rte_hash wants one). NULL on failure. */
struct gsp_ids *gsp_ids_create(const char *name, uint32_t max_ids);
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
/* A table took in the member's state (generation, version) with this
 * address: kept unless a table sharing the catalog holds a newer one. */
void gsp_ids_set_addr(struct gsp_ids *c, uint32_t slot, uint64_t addr,
		      uint64_t generation, uint64_t version);
/* The slot is a local node's own id: its address is its own, whatever
 * another table sharing the catalog takes in about that id. */
void gsp_ids_pin_addr(struct gsp_ids *c, uint32_t slot, uint64_t addr);
/* The node is gone: its address is as good as its last state (the other
 * tables may hold it still, and hear of it from elsewhere). */
void gsp_ids_unpin_addr(struct gsp_ids *c, uint32_t slot,
			uint64_t generation, uint64_t version);
/* Bytes per distinct id: index entry, id, count, address, chain link
 * (a shared catalog, once per thread: 16 more, the address's (generation,
 * version)); and the chain heads, 4 bytes each for GSP_IDS_CHAIN_FILL
 * ids or fewer. */
size_t gsp_ids_bytes_per_id(void);

#endif /* GSP_IDS_H */
