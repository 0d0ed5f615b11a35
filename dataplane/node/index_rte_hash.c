/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The core's member index on rte_hash. Lock-free read/write concurrency is
 * on so other lcores may look members up while the protocol lcore writes;
 * the extendable bucket table guarantees the configured capacity.
 *
 * Linked instead of the core's plain index (gsp_index_local.c) when
 * gossipd is built with -Dindex=rte_hash: a link-time seam, one index per
 * binary. Each rte_hash takes two memzones (its free-slot rings) and DPDK
 * 22.11 has 2,560 in all, so such a build emulates about a thousand
 * vnodes at most; the default build links the plain index.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>

#include "gossipd.h"
#include "gsp_index.h"

struct gsp_index *
gsp_index_create(const char *name, uint32_t capacity)
{
	char hname[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters params = {
		.name = hname,
		.entries = capacity < 8 ? 8 : capacity,
		.key_len = sizeof(uint64_t),
		.hash_func = rte_jhash,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	snprintf(hname, sizeof(hname), "gsp_ix_%.20s", name);
	return (struct gsp_index *)rte_hash_create(&params);
}

void
gsp_index_destroy(struct gsp_index *ix)
{
	rte_hash_free((struct rte_hash *)ix);
}

void
gsp_index_set_keys(struct gsp_index *ix, const void *base, size_t stride)
{
	/* rte_hash keeps its own copy of every key */
	(void)ix;
	(void)base;
	(void)stride;
}

uint32_t
gsp_index_slots(const struct gsp_index *ix)
{
	return (uint32_t)rte_hash_max_key_id((const struct rte_hash *)ix) + 1;
}

int32_t
gsp_index_lookup(const struct gsp_index *ix, uint64_t id)
{
	int32_t pos;

	pos = rte_hash_lookup((const struct rte_hash *)ix, &id);

	return pos >= 0 ? pos : -ENOENT;
}

int32_t
gsp_index_add(struct gsp_index *ix, uint64_t id)
{
	struct rte_hash *h = (struct rte_hash *)ix;

	if (rte_hash_lookup(h, &id) >= 0)
		return -EEXIST;
	return rte_hash_add_key(h, &id);
}

int
gsp_index_del(struct gsp_index *ix, uint64_t id)
{
	struct rte_hash *h = (struct rte_hash *)ix;
	int32_t pos;

	pos = rte_hash_del_key(h, &id);
	if (pos < 0)
		return -ENOENT;
	/* RW_CONCURRENCY_LF defers slot reuse to the caller; readers of a
	 * reused table slot re-check the id under the record's seqcount. */
	rte_hash_free_key_with_position(h, pos);
	return 0;
}

uint32_t
gsp_index_bytes_per_entry(void)
{
	/* key slot (key + pointer) and bucket share, rounded up */
	return 64;
}
