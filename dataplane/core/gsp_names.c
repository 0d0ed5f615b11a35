/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_core.h"
#include "gsp_names.h"
#include "gsp_table.h"
#include "gsp_util.h"

#define GSP_NAME_UNIT 16u	/* the smallest slot: offsets count these */

static const uint8_t gsp_name_class_size[GSP_NAME_CLASSES] = { 16, 32, 64 };

struct gsp_names {
	char *arena;
	uint32_t size;			/* arena bytes */
	uint32_t top;			/* never used above this */
	uint32_t free[GSP_NAME_CLASSES];	/* lists through the slots */
	uint32_t *refs;			/* per unit: catalog slots holding it */
	uint32_t *next;			/* per unit: hash chain */
	uint8_t *cls;			/* per unit: size class */
	uint32_t *heads;		/* hash buckets */
	uint32_t mask;
	uint32_t holders;		/* catalogs sharing the pool */
};

struct gsp_names *
gsp_names_create(uint32_t max_names)
{
	struct gsp_names *p = calloc(1, sizeof(*p));
	uint64_t size = (uint64_t)max_names * 64 * 2;
	uint32_t buckets = 1;

	if (p == NULL)
		return NULL;
	p->holders = 1;		/* destroy on failure frees it */
	while (buckets <= max_names && buckets < (1u << 31))
		buckets <<= 1;
	/* twice the worst case, so fragmentation between size classes can
	 * never exhaust it; calloc maps zero pages lazily */
	if (size > UINT32_MAX - 64)
		size = (UINT32_MAX - 64) / GSP_NAME_UNIT * GSP_NAME_UNIT;
	p->size = (uint32_t)size;
	p->arena = calloc(p->size + GSP_NAME_MAX, 1);	/* + read slack */
	p->refs = calloc(p->size / GSP_NAME_UNIT, sizeof(*p->refs));
	p->next = calloc(p->size / GSP_NAME_UNIT, sizeof(*p->next));
	p->cls = calloc(p->size / GSP_NAME_UNIT, sizeof(*p->cls));
	p->heads = malloc((size_t)buckets * sizeof(*p->heads));
	if (p->arena == NULL || p->refs == NULL || p->next == NULL ||
	    p->cls == NULL || p->heads == NULL) {
		gsp_names_destroy(p);
		return NULL;
	}
	memset(p->heads, 0xff, (size_t)buckets * sizeof(*p->heads));
	p->mask = buckets - 1;
	for (int c = 0; c < GSP_NAME_CLASSES; c++)
		p->free[c] = GSP_NONE;
	return p;
}

void
gsp_names_hold(struct gsp_names *p)
{
	p->holders++;
}

void
gsp_names_destroy(struct gsp_names *p)
{
	if (p == NULL || --p->holders > 0)
		return;
	free(p->arena);
	free(p->refs);
	free(p->next);
	free(p->cls);
	free(p->heads);
	free(p);
}

static uint32_t
gsp_names_bucket(const struct gsp_names *p, const char *name)
{
	/* the name as stored, cut at GSP_NAME_MAX - 1 bytes: a longer one
	 * would hash to another chain than its slot's, and be lost there */
	size_t len = strnlen(name, GSP_NAME_MAX - 1);
	char cut[GSP_NAME_MAX];
	uint64_t h;

	memcpy(cut, name, len);
	cut[len] = '\0';
	h = gsp_id_from_name(cut);

	return (uint32_t)(h ^ (h >> 32)) & p->mask;
}

/* The slot in chain b holding name (len bytes of it), or GSP_NONE. */
static uint32_t
gsp_names_lookup(const struct gsp_names *p, uint32_t b, const char *name,
		 size_t len)
{
	for (uint32_t off = p->heads[b]; off != GSP_NONE;
	     off = p->next[off / GSP_NAME_UNIT])
		if (strncmp(p->arena + off, name, len) == 0 &&
		    p->arena[off + len] == '\0')
			return off;
	return GSP_NONE;
}

uint32_t
gsp_names_find(const struct gsp_names *p, const char *name)
{
	return gsp_names_lookup(p, gsp_names_bucket(p, name), name,
				strnlen(name, GSP_NAME_MAX - 1));
}

int64_t
gsp_names_get(struct gsp_names *p, const char *name)
{
	size_t len = strnlen(name, GSP_NAME_MAX - 1);
	uint32_t b = gsp_names_bucket(p, name);
	uint32_t off = gsp_names_lookup(p, b, name, len), u;
	uint8_t c = 0;

	if (off != GSP_NONE) {
		p->refs[off / GSP_NAME_UNIT]++;
		return off;
	}
	while (len + 1 > gsp_name_class_size[c])
		c++;
	if (p->free[c] != GSP_NONE) {
		off = p->free[c];
		memcpy(&p->free[c], p->arena + off, sizeof(uint32_t));
	} else if (p->top + gsp_name_class_size[c] <= p->size) {
		off = p->top;
		p->top += gsp_name_class_size[c];
	} else {
		return -ENOSPC;
	}
	u = off / GSP_NAME_UNIT;
	memcpy(p->arena + off, name, len);
	p->arena[off + len] = '\0';
	p->refs[u] = 1;
	p->cls[u] = c;
	p->next[u] = p->heads[b];
	p->heads[b] = off;
	return off;
}

void
gsp_names_put(struct gsp_names *p, uint32_t off)
{
	uint32_t u = off / GSP_NAME_UNIT;
	uint32_t *link;

	if (off == GSP_NONE || --p->refs[u] > 0)
		return;
	link = &p->heads[gsp_names_bucket(p, p->arena + off)];
	while (*link != off)
		link = &p->next[*link / GSP_NAME_UNIT];
	*link = p->next[u];
	/* the free list runs through the freed slots themselves */
	memcpy(p->arena + off, &p->free[p->cls[u]], sizeof(uint32_t));
	p->free[p->cls[u]] = off;
}

const char *
gsp_names_at(const struct gsp_names *p, uint32_t off)
{
	static const char none[GSP_NAME_MAX];

	return off == GSP_NONE || off >= p->size ? none : p->arena + off;
}

size_t
gsp_names_bytes_per_name(void)
{
	return GSP_NAME_UNIT + 2 * sizeof(uint32_t) + 1 + sizeof(uint32_t);
}
