/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The membership table: fixed-capacity member records, one writer (the
 * protocol thread), any number of lock-free readers.
 *
 * Each record carries a sequence counter, odd while the writer changes it;
 * a reader copies the record (with its name and app state) and retries when
 * the counter was odd or moved, so it never sees a torn entry (the protocol
 * of rte_seqcount, written with C11 atomics because the core builds
 * without DPDK). Records, names and app blocks are never freed, only
 * reused, so readers need no RCU grace period.
 *
 * Records are compact (52 bytes): a node holds one per member of the
 * cluster, and a simulator holds N of those tables. Ids map
 * to slots through a catalog that the tables written by one thread share
 * (gsp_ids.h; it holds the members' addresses and interned names too,
 * gsp_names.h): a member has the same slot in each of them, and app
 * state lives in blocks of 1, 2, 4, 8 or 16 entries (a class each, its
 * pool made on first use) taken only by members that publish some: a
 * member with one key holds one entry, not GSP_APP_KEYS_MAX.
 * Pools are reserved virtually and backed by pages as they are used.
 * The catalog's id -> slot index is the gsp_index seam.
 */
#ifndef GSP_TABLE_H
#define GSP_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "gsp_core.h"
#include "gsp_ids.h"
#include "gsp_index.h"
#include "gsp_names.h"
#include "gsp_phi.h"

#define GSP_NONE UINT32_MAX
#define GSP_APP_CLASSES 5	/* blocks of 1, 2, 4, 8, 16 entries */
_Static_assert((1u << (GSP_APP_CLASSES - 1)) == GSP_APP_KEYS_MAX,
	       "the largest app block holds every key");

/* 8-byte fields aligned on 4: the record packs into 52 bytes with no
 * hole, and x86 reads them unaligned at no cost. */
typedef uint64_t gsp_u64_a4 __attribute__((aligned(4)));

/*
 * 52 bytes: every node holds one per member. The
 * member's id is the catalog's (gsp_table_rec_id): the slot says it;
 * whether the slot is in use, the table's map (gsp_table_has). The
 * sequence is 16 bits: a reader copies a record in well under a
 * microsecond, and a member's record is written a few times a second,
 * so 32,768 writes never fall inside one copy.
 *
 * Times are the core clock's, in as many bits as it needs from its
 * start: heard (in 4.096 us ticks) lasts 36 years, since_ms 34 (both
 * saturate).
 * The phi detector's state is the running mean alone, split over two
 * words (gsp_rec_phi, gsp_rec_set_phi): its last arrival is heard
 * (gsp_heard_* in the node). The address and the name are the
 * catalog's (gsp_table_addr, gsp_table_name).
 */
struct gsp_member_rec {
	uint16_t seq;
	uint8_t state : 3;
	uint8_t wire : 5;		/* highest wire version it speaks */
	uint8_t phi_mean_lo;		/* low 8 bits of phi's mean (us) */
	uint32_t app_block : 24;	/* app pool block, or GSP_APP_NO_BLOCK */
	uint32_t app_class : 3;		/* block of 1 << app_class entries */
	uint32_t app_count : 5;
	gsp_u64_a4 generation;
	gsp_u64_a4 heartbeat;
	gsp_u64_a4 version;
	gsp_u64_a4 heard : 48;		/* when its heartbeat last advanced */
	gsp_u64_a4 phi_centi : 16;	/* phi x 100, saturated */
	gsp_u64_a4 since_ms : 40;	/* its last state change, rounded up */
	gsp_u64_a4 phi_mean_hi : 19;
	gsp_u64_a4 phi_n : 5;
	uint32_t incarnation;		/* SWIM refutation counter */
};

#define GSP_REC_WIRE_MAX 31	/* the wire field's top */
#define GSP_HEARD_SHIFT 12	/* heard counts 4,096 ns ticks */
#define GSP_HEARD_MAX ((1ull << 48) - 1)
#define GSP_SINCE_MS_MAX ((1ull << 40) - 1)

_Static_assert(GSP_STATE_LEFT < 8, "state field");

static inline struct gsp_phi
gsp_rec_phi(const struct gsp_member_rec *r)
{
	return (struct gsp_phi){
		.mean_us = (uint32_t)r->phi_mean_hi << 8 | r->phi_mean_lo,
		.n = r->phi_n };
}

static inline void
gsp_rec_set_phi(struct gsp_member_rec *r, struct gsp_phi fd)
{
	r->phi_mean_lo = (uint8_t)fd.mean_us;
	r->phi_mean_hi = fd.mean_us >> 8;
	r->phi_n = fd.n;
}

/* The record's times from the core clock, saturated. */
static inline uint64_t
gsp_heard_of(uint64_t now_ns)
{
	uint64_t t = now_ns >> GSP_HEARD_SHIFT;

	return t < GSP_HEARD_MAX ? t : GSP_HEARD_MAX;
}

/* When the member in r last changed state, in core clock ns. */
static inline uint64_t
gsp_since_ns(const struct gsp_member_rec *r)
{
	return (uint64_t)r->since_ms * 1000000;
}

/* When the member in r was last heard, in core clock ns. */
static inline uint64_t
gsp_heard_ns(const struct gsp_member_rec *r)
{
	return (uint64_t)r->heard << GSP_HEARD_SHIFT;
}

/* Rounded up: a member is never forgotten before forget_ns is over. */
static inline uint64_t
gsp_since_ms_of(uint64_t now_ns)
{
	uint64_t ms = now_ns / 1000000 + (now_ns % 1000000 != 0);

	return ms < GSP_SINCE_MS_MAX ? ms : GSP_SINCE_MS_MAX;
}

#define GSP_APP_NO_BLOCK 0xffffffu
#define GSP_PHI_CENTI_MAX UINT16_MAX

_Static_assert(sizeof(struct gsp_member_rec) == 52, "member record size");
_Static_assert(GSP_APP_KEYS_MAX < 32 && GSP_APP_CLASSES <= 8,
	       "app count and class fields");

struct gsp_table {
	struct gsp_ids *ids;	/* maybe shared with other tables */
	const struct gsp_index *index;	/* the catalog's */
	const uint64_t *id_of;	/* the catalog's slot -> id */
	const uint64_t *addr_of;	/* the catalog's slot -> address */
	const uint32_t *name_of;	/* the catalog's slot -> name */
	const uint32_t *name_moves;	/* the catalog's names let go */
	const struct gsp_names *names;	/* the catalog's */
	struct gsp_member_rec *recs;
	uint32_t capacity;	/* members accepted */
	uint32_t n_slots;	/* records allocated (index slot range) */
	uint32_t high_water;	/* slots below this may be in use */
	uint32_t used;
	bool shared_ids;	/* the catalog holds other tables' ids too */
	/* bit per slot, set while used: slots are the catalog's, so a table
	 * that knows few members may hold high ones (gsp_table_random).
	 * Changed inside the record's write section: a reader that reads
	 * its bit inside the sequence window sees it consistent */
	uint64_t *used_map;
	/* per class: n_slots blocks of 1 << class entries, or NULL */
	struct gsp_app_entry *apps[GSP_APP_CLASSES];
	uint32_t apps_top[GSP_APP_CLASSES];
	uint32_t app_free[GSP_APP_CLASSES];
};

/* ids: a catalog shared with the other tables this thread writes, or
 * NULL for one of its own. A shared catalog has room for at least
 * capacity ids. */
struct gsp_table *gsp_table_create(const char *name, uint32_t capacity,
				   struct gsp_ids *ids);
void gsp_table_destroy(struct gsp_table *t);
/* Maps its records' pages now, which otherwise fault in one at a time as
 * members are learned; what they hold is unchanged. Not while readers
 * or a writer run: before the node's thread starts. */
void gsp_table_populate(struct gsp_table *t);

/* Writer side (protocol thread only). */
int32_t gsp_table_find(const struct gsp_table *t, uint64_t id);
/* The same with `at`, the catalog slot an earlier lookup of id gave (or
 * -1): used when the catalog still holds id there, which is checked. */
int32_t gsp_table_find_at(const struct gsp_table *t, uint64_t id, int32_t at);
/* New zeroed record with id set, or -ENOSPC (the table holds capacity
 * members), -ENOBUFS (a shared catalog holds as many ids as it can, for
 * all the tables that share it). The record's write section is left
 * open: fill it, then gsp_table_write_end(). */
int32_t gsp_table_insert(struct gsp_table *t, uint64_t id);
/* The same with `at` as for gsp_table_find_at. */
int32_t gsp_table_insert_at(struct gsp_table *t, uint64_t id, int32_t at);
void gsp_table_remove(struct gsp_table *t, uint32_t slot);

static inline struct gsp_member_rec *
gsp_table_rec(struct gsp_table *t, uint32_t slot)
{
	return &t->recs[slot];
}

/* Asks for the lines slot's record spans (a record may cross two) and
 * its bit of the used map: a batch looks its slots up first, so the
 * misses on a table larger than the caches overlap instead of following
 * one another. Always inlined: gcc takes a call that only prefetches for
 * one without effect, and drops it when it does not inline it. */
static inline __attribute__((always_inline)) void
gsp_table_prefetch(const struct gsp_table *t, uint32_t slot)
{
	const char *r = (const char *)&t->recs[slot];

	__builtin_prefetch(r, 1);
	__builtin_prefetch(r + sizeof(*t->recs) - 1, 1);
	__builtin_prefetch(&t->used_map[slot / 64], 0);
}

/* The slot holds a member of t's (the writer; a reader within the
 * record's sequence window). The map, not the record: scans of a sparse
 * table touch no record of a free slot. */
static inline bool
gsp_table_has(const struct gsp_table *t, uint32_t slot)
{
	return (__atomic_load_n(&t->used_map[slot / 64], __ATOMIC_RELAXED) >>
		(slot % 64)) & 1;
}

/* The address of the member in slot (one of t's): the catalog's. */
static inline struct gsp_addr
gsp_table_addr(const struct gsp_table *t, uint32_t slot)
{
	uint64_t a = gsp_ids_addr_at(t->addr_of, slot);

	return (struct gsp_addr){ (uint32_t)(a >> 16), (uint16_t)a };
}

/* The slot holds the node's own id (inside its record's write
 * section): its address is a and its name name, whatever other tables
 * take in. 0 or -ENOSPC (the name pool is full). */
static inline int
gsp_table_pin(struct gsp_table *t, uint32_t slot, struct gsp_addr a,
	      const char *name)
{
	return gsp_ids_pin(t->ids, slot, gsp_ids_addr_word(a.ip, a.port),
			   name);
}

/* The member in slot, of t's, is at a and called name in the state
 * (generation, version) t just took in (inside its record's write
 * section). 0 or -ENOSPC (the name pool is full: the old name stays).
 * name NULL: the name it has is the state's. */
static inline int
gsp_table_set_where(struct gsp_table *t, uint32_t slot, struct gsp_addr a,
		    const char *name, uint64_t generation, uint64_t version)
{
	return gsp_ids_set_where(t->ids, slot,
				 gsp_ids_addr_word(a.ip, a.port), name,
				 generation, version);
}

/* The name of the member in r, a record of t's (writer side). */
static inline const char *
gsp_table_name(const struct gsp_table *t, const struct gsp_member_rec *r)
{
	return gsp_ids_name(t->ids, (uint32_t)(r - t->recs));
}

/* The id of the member in slot, or 0 for a slot t does not use. */
static inline uint64_t
gsp_table_slot_id(const struct gsp_table *t, uint32_t slot)
{
	return gsp_table_has(t, slot) ? gsp_ids_at(t->id_of, slot) : 0;
}

/* The id of the member in r (a record of t's), or 0 for a free slot. */
static inline uint64_t
gsp_table_rec_id(const struct gsp_table *t, const struct gsp_member_rec *r)
{
	return gsp_table_slot_id(t, (uint32_t)(r - t->recs));
}

static inline void
gsp_table_write_begin(struct gsp_member_rec *r)
{
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* The same for a record that may never have been touched: its first
 * access is a write (one locked add), so the kernel maps its page once,
 * not the zero page on the read and then a copy with a TLB shootdown of
 * every lcore on the write (8% of a 10,000-vnode join's CPU). */
static inline void
gsp_table_write_begin_fresh(struct gsp_member_rec *r)
{
	__atomic_fetch_add(&r->seq, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
gsp_table_write_end(struct gsp_member_rec *r)
{
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELEASE);
}

/* Keep an index of slots by name from now on (idempotent, the
 * catalog's: gsp_ids_index_names): 0, or -ENOMEM. */
int gsp_table_index_names(struct gsp_table *t);
/* With the index: the first of t's slots whose member is named name, and
 * the next after slot with the same name; GSP_NONE when there is none.
 * Take the next before removing slot. */
uint32_t gsp_table_named_first(const struct gsp_table *t, const char *name);
uint32_t gsp_table_named_next(const struct gsp_table *t, uint32_t slot);
/* The record's app_count entries, or NULL when it has none. Writer
 * side; change them in place only between write_begin and write_end. */
struct gsp_app_entry *gsp_table_app(struct gsp_table *t,
				    const struct gsp_member_rec *r);
/* The pool for n entries exists (made on first use); false when memory
 * is short. Asked before a record changes, so set_app cannot fail. */
bool gsp_table_app_ready(struct gsp_table *t, uint8_t n);
/* Between write_begin and write_end, once gsp_table_app_ready(n): the
 * record's app state becomes app[0..n) (which may point into its current
 * block). */
void gsp_table_set_app(struct gsp_table *t, struct gsp_member_rec *r,
		       const struct gsp_app_entry *app, uint8_t n);

/* Writer side: a random slot below the high water, used at least one
 * time in 8: a table whose members are sparse among its slots (a shared
 * catalog, early in a join) draws one of its used slots, so random picks
 * do not miss them all. GSP_NONE when the table is empty. */
uint32_t gsp_table_random(const struct gsp_table *t, uint64_t *rng);

/* Reader side (any thread). */
uint32_t gsp_table_slot_count(const struct gsp_table *t);
/* false when the slot is free */
bool gsp_table_read(const struct gsp_table *t, uint32_t slot,
		    struct gsp_member_view *out);
/* Bytes per member slot: the record, and an id and a name unless the
 * catalog and the names are shared. */
size_t gsp_table_bytes_per_member(bool shared);

#endif /* GSP_TABLE_H */
