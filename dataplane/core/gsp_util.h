/* SPDX-License-Identifier: BSD-3-Clause */
/* Small helpers shared by the core modules: little-endian access, PRNG. */
#ifndef GSP_UTIL_H
#define GSP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Wire fields are little-endian; x86 and arm64 need no swap, others do. */
static inline uint16_t
gsp_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
gsp_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
		((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t
gsp_get_le64(const uint8_t *p)
{
	return (uint64_t)gsp_get_le32(p) | ((uint64_t)gsp_get_le32(p + 4) << 32);
}

static inline void
gsp_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
gsp_put_le32(uint8_t *p, uint32_t v)
{
	gsp_put_le16(p, (uint16_t)v);
	gsp_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void
gsp_put_le64(uint8_t *p, uint64_t v)
{
	gsp_put_le32(p, (uint32_t)v);
	gsp_put_le32(p + 4, (uint32_t)(v >> 32));
}

/*
 * The position of a member id in the digest key space: the splitmix64
 * finalizer, a bijection, so ids that operators number 1, 2, 3... spread
 * evenly over digest buckets and ranges instead of piling into one.
 */
static inline uint64_t
gsp_id_key(uint64_t id)
{
	id = (id ^ (id >> 30)) * 0xbf58476d1ce4e5b9ULL;
	id = (id ^ (id >> 27)) * 0x94d049bb133111ebULL;
	return id ^ (id >> 31);
}

/* The least b with 1 << b >= v (31 at most). */
static inline uint32_t
gsp_log2_ceil(uint32_t v)
{
	uint32_t b = 0;

	while ((1u << b) < v && b < 31)
		b++;
	return b;
}

/* splitmix64: tiny, seedable, good enough to pick gossip peers. */
static inline uint64_t
gsp_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias worth caring about (n << 2^64). */
static inline uint32_t
gsp_rand_below(uint64_t *state, uint32_t n)
{
	return (uint32_t)(((unsigned __int128)gsp_rand(state) * n) >> 64);
}

/* Counters are written by one thread and read by others: relaxed atomics
 * keep each 64-bit value whole without ordering cost. */
#define GSP_CTR_ADD(field, n) \
	__atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define GSP_CTR_INC(field) GSP_CTR_ADD(field, 1)
#define GSP_CTR_SET(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

/* Bytes allowed in names and keys on the wire and in configs. */
static inline int
gsp_name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Whole-string decimal integer (no sign, no spaces) in [min, max]; 0 or -1.
 * Shared by the config file, gossipd's and gossip-sim's options. */
int gsp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Zeroed memory for an array used from the bottom or sparsely: its pages
 * are resident only once written. calloc gives that only above malloc's
 * mmap threshold, which moves; below it, it clears (and so touches) all.
 * NULL on failure. Set-up paths only.
 */
void *gsp_lazy_zalloc(size_t size);
void gsp_lazy_free(void *p, size_t size);
/* Whole-string finite number in [min, max]; 0 or -1. */
int gsp_parse_double(const char *s, double min, double max, double *out);

#endif /* GSP_UTIL_H */
