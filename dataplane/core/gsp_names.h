/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interned member names, held by an id catalog (gsp_ids.h) that every
 * table written from one thread shares.
 *
 * The simulator and the emulation run thousands of nodes in a process,
 * and each holds the name of every member: the same N strings N times.
 * A pool holds each distinct name once, counted by the catalog slots
 * that point at it, and reuses a name's slot when the last one lets go.
 * A real node's catalog has a pool of its own.
 *
 * One writer: the thread that writes the tables sharing the catalog.
 * Readers on other threads copy a name between two reads of the
 * catalog's count of names let go (gsp_table_read): a slot reused under
 * a reader shows as the count moved, and is copied again. Slots are
 * never unmapped.
 */
#ifndef GSP_NAMES_H
#define GSP_NAMES_H

#include <stdint.h>

#define GSP_NAME_CLASSES 3	/* 16, 32, 64-byte name slots */

struct gsp_names;

/* A pool for up to max_names names at once (each a 64-byte slot at
 * worst, twice over against fragmentation; backed by pages as used). */
struct gsp_names *gsp_names_create(uint32_t max_names);
void gsp_names_destroy(struct gsp_names *p);
/* Tables that share the pool: it is freed with the last one. */
void gsp_names_hold(struct gsp_names *p);

/* The slot holding name (up to GSP_NAME_MAX - 1 bytes), taken once
 * more: its offset, or -ENOSPC when the pool is full. */
int64_t gsp_names_get(struct gsp_names *p, const char *name);
void gsp_names_put(struct gsp_names *p, uint32_t off);
/* The slot holding name, not taken, or GSP_NONE when none holds it: a
 * name has one slot, so its offset stands for it. */
uint32_t gsp_names_find(const struct gsp_names *p, const char *name);
/* The name at off ("" for GSP_NONE); GSP_NAME_MAX bytes are readable. */
const char *gsp_names_at(const struct gsp_names *p, uint32_t off);
/* Bytes held per distinct name: slot, count, chain link. */
size_t gsp_names_bytes_per_name(void);

#endif /* GSP_NAMES_H */
