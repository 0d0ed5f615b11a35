/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Member id -> table slot index. A link-time seam: gossipd links the
 * rte_hash implementation (dataplane/node/index_rte_hash.c), unit tests and the
 * simulator link the plain one (gsp_index_local.c). Only the protocol
 * thread calls these; other threads read table slots directly.
 */
#ifndef GSP_INDEX_H
#define GSP_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct gsp_index;

/* Slots handed out are in [0, gsp_index_slots()). NULL on failure. */
struct gsp_index *gsp_index_create(const char *name, uint32_t capacity);
void gsp_index_destroy(struct gsp_index *ix);
uint32_t gsp_index_slots(const struct gsp_index *ix);
/* Where slot s's id lives (a uint64_t at base + s * stride): an index
 * may keep slots only and read ids there. Set before the first add. */
void gsp_index_set_keys(struct gsp_index *ix, const void *base, size_t stride);
/* slot, or -ENOENT */
int32_t gsp_index_lookup(const struct gsp_index *ix, uint64_t id);
/* new slot, or -ENOSPC / -EEXIST */
int32_t gsp_index_add(struct gsp_index *ix, uint64_t id);
/* 0 or -ENOENT; the slot may be handed out again at once */
int gsp_index_del(struct gsp_index *ix, uint64_t id);
/* bytes of index memory per member, for the sizing docs */
uint32_t gsp_index_bytes_per_entry(void);

#endif /* GSP_INDEX_H */
