/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "gsp_core.h"
#include "gsp_util.h"

int
gsp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void *
gsp_lazy_zalloc(size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	/* private anonymous pages read as zero and are backed on first
	 * write. malloc's own flags and no madvise, so the kernel merges
	 * neighbouring mappings: a simulator makes thousands, and a process
	 * may hold at most vm.max_map_count (65,530) */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
gsp_lazy_free(void *p, size_t size)
{
	if (p != NULL)
		munmap(p, size == 0 ? 1 : size);
}

int
gsp_parse_double(const char *s, double min, double max, double *out)
{
	double v;
	char *end;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

uint64_t
gsp_id_from_name(const char *name)
{
	/* FNV-1a 64: stable across restarts and builds, so a restarted node
	 * keeps its id and only its generation changes. */
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name != '\0'; name++) {
		h ^= (uint8_t)*name;
		h *= 0x100000001b3ULL;
	}
	return h != 0 ? h : 1;
}

uint32_t
gsp_cluster_hash(const char *cluster)
{
	uint32_t h = 0x811c9dc5u;

	for (; *cluster != '\0'; cluster++) {
		h ^= (uint8_t)*cluster;
		h *= 0x01000193u;
	}
	return h;
}

const char *
gsp_state_name(unsigned int state)
{
	static const char *const names[] = {
		[GSP_STATE_ALIVE] = "alive",
		[GSP_STATE_SUSPECT] = "suspect",
		[GSP_STATE_DOWN] = "down",
		[GSP_STATE_LEFT] = "left",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

const char *
gsp_rx_err_name(unsigned int err)
{
	static const char *const names[GSP_RX_ERR_MAX] = {
#define GSP_RX_ERR_NAME(e, name, help) [GSP_RX_##e] = #name,
		GSP_RX_ERRS(GSP_RX_ERR_NAME)
#undef GSP_RX_ERR_NAME
	};

	return err < GSP_RX_ERR_MAX ? names[err] : "unknown";
}
