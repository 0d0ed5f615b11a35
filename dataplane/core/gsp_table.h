/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The membership table: fixed-capacity member records, one writer (the
 * protocol thread), any number of lock-free readers.
 *
 * Each record carries a sequence counter, odd while the writer changes it;
 * a reader copies the record and retries when the counter was odd or moved,
 * so it never sees a torn entry (the protocol of rte_seqcount, written with
 * C11 atomics because the core builds without DPDK). Records are never
 * freed, only marked free (id 0) and reused, so readers need no RCU grace
 * period. The id -> slot index is the gsp_index seam (rte_hash in gossipd).
 */
#ifndef GSP_TABLE_H
#define GSP_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "gsp_core.h"

struct gsp_member_rec {
	uint32_t seq;
	uint32_t pad;
	struct gsp_member_view v;
} __attribute__((aligned(64)));

struct gsp_table {
	struct gsp_index *index;
	struct gsp_member_rec *recs;
	uint32_t capacity;	/* members accepted */
	uint32_t n_slots;	/* records allocated (index slot range) */
	uint32_t high_water;	/* slots below this may be in use */
	uint32_t used;
};

struct gsp_table *gsp_table_create(const char *name, uint32_t capacity);
void gsp_table_destroy(struct gsp_table *t);

/* Writer side (protocol thread only). */
int32_t gsp_table_find(const struct gsp_table *t, uint64_t id);
/* New zeroed record with v.id set, or -ENOSPC. */
int32_t gsp_table_insert(struct gsp_table *t, uint64_t id);
void gsp_table_remove(struct gsp_table *t, uint32_t slot);

static inline struct gsp_member_rec *
gsp_table_rec(struct gsp_table *t, uint32_t slot)
{
	return &t->recs[slot];
}

static inline void
gsp_table_write_begin(struct gsp_member_rec *r)
{
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
gsp_table_write_end(struct gsp_member_rec *r)
{
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELEASE);
}

/* Reader side (any thread). */
uint32_t gsp_table_slot_count(const struct gsp_table *t);
/* false when the slot is free */
bool gsp_table_read(const struct gsp_table *t, uint32_t slot,
		    struct gsp_member_view *out);

#endif /* GSP_TABLE_H */
