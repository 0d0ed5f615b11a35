/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The harness's small shared pieces (gsp_harness.h): the scenarios'
 * names, the member-id index, the counters summed over a host, the
 * detector's one name and the scan of per-node times.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "gsp_harness.h"

static int
gsp_ids_pair_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
gsp_ids_build(struct gsp_ids *x, const uint64_t *ids, uint32_t n)
{
	uint64_t *pairs = malloc(sizeof(*pairs) * 2 * (n ? n : 1));

	x->n = n;
	x->id = malloc(sizeof(*x->id) * (n ? n : 1));
	x->node = malloc(sizeof(*x->node) * (n ? n : 1));
	if (pairs == NULL || x->id == NULL || x->node == NULL) {
		free(pairs);
		gsp_ids_free(x);
		return -ENOMEM;
	}
	/* (id, node) pairs sorted by id: the node rides along */
	for (uint32_t i = 0; i < n; i++) {
		pairs[2 * i] = ids[i];
		pairs[2 * i + 1] = i;
	}
	qsort(pairs, n, 2 * sizeof(*pairs), gsp_ids_pair_cmp);
	for (uint32_t i = 0; i < n; i++) {
		x->id[i] = pairs[2 * i];
		x->node[i] = (uint32_t)pairs[2 * i + 1];
		if (i > 0 && x->id[i] == x->id[i - 1]) {
			free(pairs);
			gsp_ids_free(x);
			return -EEXIST;
		}
	}
	free(pairs);
	return 0;
}

void
gsp_ids_free(struct gsp_ids *x)
{
	free(x->id);
	free(x->node);
	x->id = NULL;
	x->node = NULL;
	x->n = 0;
}

uint32_t
gsp_ids_node(const struct gsp_ids *x, uint64_t id)
{
	uint32_t lo = 0, hi = x->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (x->id[mid] == id)
			return x->node[mid];
		if (x->id[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return UINT32_MAX;
}

uint64_t
gsp_ids_id_of(const struct gsp_ids *x, uint32_t i)
{
	for (uint32_t k = 0; k < x->n; k++)
		if (x->node[k] == i)
			return x->id[k];
	return 0;
}

void
gsp_harness_counters_sub(struct gsp_node_counters *a,
			 const struct gsp_node_counters *b)
{
	for (size_t k = 0; k < sizeof(*a) / sizeof(uint64_t); k++)
		((uint64_t *)a)[k] -= ((const uint64_t *)b)[k];
}

void
gsp_harness_counters_sum(const struct gsp_harness_host *h,
			 struct gsp_node_counters *sum)
{
	uint32_t n = h->n_nodes(h->ctx);
	struct gsp_node_counters c;

	memset(sum, 0, sizeof(*sum));
	for (uint32_t i = 0; i < n; i++) {
		h->counters(h->ctx, i, &c);
		gsp_harness_counters_add(sum, &c);
	}
}

void
gsp_harness_counters_add(struct gsp_node_counters *sum,
			 const struct gsp_node_counters *c)
{
	for (size_t k = 0; k < sizeof(*c) / sizeof(uint64_t); k++)
		((uint64_t *)sum)[k] += ((const uint64_t *)c)[k];
}

uint32_t
gsp_harness_detector_bits(uint32_t bits)
{
	return bits == 0 ? GSP_DETECT_DEFAULT : bits;
}

void
gsp_harness_detector_name(uint32_t bits, char *buf, size_t len)
{
	gsp_detector_format(gsp_harness_detector_bits(bits), buf, len);
}

static const char *const gsp_scn_names[GSP_SCN_MAX] = {
	[GSP_SCN_JOIN] = "join",
	[GSP_SCN_DISSEMINATE] = "disseminate",
	[GSP_SCN_DETECT] = "detect",
	[GSP_SCN_STEADY] = "steady",
	[GSP_SCN_PARTITION] = "partition",
	[GSP_SCN_FP] = "fp",
	[GSP_SCN_STALL] = "stall",
	[GSP_SCN_CPULOAD] = "cpuload",
};

const char *
gsp_scn_name(enum gsp_scn s)
{
	return (unsigned int)s < GSP_SCN_MAX ? gsp_scn_names[s] : "?";
}

int
gsp_scn_parse(const char *name, uint32_t host_mask)
{
	for (int i = 0; i < GSP_SCN_MAX; i++)
		if ((host_mask & (1u << i)) &&
		    strcmp(name, gsp_scn_names[i]) == 0)
			return i;
	return -1;
}

void
gsp_scn_list(uint32_t host_mask, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < GSP_SCN_MAX; i++) {
		int n;

		if (!(host_mask & (1u << i)))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
			     gsp_scn_names[i]);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

double
gsp_scn_bound_rounds(uint32_t n)
{
	return n > 2 ? log((double)n) / log(3.0) + log(log((double)n)) : NAN;
}

void
gsp_times_scan(struct gsp_times *t, const void *base, size_t stride,
	       uint32_t n, uint32_t skip)
{
	const uint8_t *p = base;

	*t = (struct gsp_times){ .min_ns = UINT64_MAX };
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v;

		if (i == skip)
			continue;
		v = __atomic_load_n((const uint64_t *)(const void *)
				    (p + (size_t)i * stride), __ATOMIC_ACQUIRE);
		if (v == 0)
			continue;
		t->count++;
		if (v > t->max_ns)
			t->max_ns = v;
		if (v < t->min_ns)
			t->min_ns = v;
	}
	if (t->count == 0)
		t->min_ns = 0;
}

#define GSP_HUGE_TUNABLE "glibc.malloc.hugetlb"
/* set across the exec only: the new image never tries again, whatever
 * glibc kept of the tunables (a privileged process gets none) */
#define GSP_HUGE_TRIED "GSP_HUGE_HEAP_TRIED"

static const char *
gsp_base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* Whether a tool runs the program in its own process (valgrind, whose
 * children run natively unless it traces them): no exec then. */
static bool
gsp_under_tool(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

/* GLIBC_TUNABLES back as it was: `had` says whether it was set. */
static void
gsp_tunables_restore(bool had, const char *was)
{
	unsetenv(GSP_HUGE_TRIED);
	if (had)
		setenv("GLIBC_TUNABLES", was, 1);
	else
		unsetenv("GLIBC_TUNABLES");
}

void
gsp_harness_huge_heap(char **argv)
{
	const char *env = getenv("GLIBC_TUNABLES");
	char old[1024], tunables[1024], self[4096];
	bool had = env != NULL;
	ssize_t self_len;
	int len;

	if (getenv(GSP_HUGE_TRIED) != NULL) {
		unsetenv(GSP_HUGE_TRIED);	/* not for our children */
		return;
	}
	if (argv == NULL || argv[0] == NULL ||
	    getenv("GSP_SMALL_PAGES") != NULL || getauxval(AT_SECURE) ||
	    gsp_under_tool() ||
	    (had && strstr(env, GSP_HUGE_TUNABLE) != NULL))
		return;
	/* ours, not the environment's: setenv may free what getenv gave */
	len = snprintf(old, sizeof(old), "%s", had ? env : "");
	if (len < 0 || (size_t)len >= sizeof(old))
		return;
	/* only the program itself: not when a loader runs it (ld.so, which
	 * /proc/self/exe would name instead), nor by a link of another name
	 * (the kernel's comm would change) */
	self_len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (self_len <= 0)
		return;
	self[self_len] = '\0';
	if (strcmp(gsp_base_name(self), gsp_base_name(argv[0])) != 0)
		return;
	len = snprintf(tunables, sizeof(tunables), "%s%s" GSP_HUGE_TUNABLE
		       "=1", old, old[0] != '\0' ? ":" : "");
	if (len < 0 || (size_t)len >= sizeof(tunables))
		return;
	if (setenv("GLIBC_TUNABLES", tunables, 1) != 0 ||
	    setenv(GSP_HUGE_TRIED, "1", 1) != 0) {
		gsp_tunables_restore(had, old);
		return;
	}
	execv(self, argv);
	fprintf(stderr, "%s: running on small pages: exec: %s\n", argv[0],
		strerror(errno));
	gsp_tunables_restore(had, old);
}
