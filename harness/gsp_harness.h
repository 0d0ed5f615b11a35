/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scenario harness: what the simulator (virtual clock, sim/) and the
 * emulation (lcores, dataplane/emu/) measure the same way: the scenarios'
 * names, the member-id index, the accounting of false positives
 * (gsp_fp.h), the informed curves and the JSON record (gsp_record.h).
 *
 * A host is described by a table of function pointers: a cold path,
 * called per scenario step and per record, never per packet. Each host
 * keeps its own driver of the scenarios, because one runs them in
 * virtual time event by event and the other sleeps while lcores run.
 */
#ifndef GSP_HARNESS_H
#define GSP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gsp_core.h"

/* Whom a scenario picks (gsp_harness_host.pick). */
enum gsp_pick {
	GSP_PICK_ORIGIN,		/* disseminate: the node that changes */
	GSP_PICK_CRASH,			/* detect: the k-th to crash */
	GSP_PICK_STALL,			/* stall: the node that stops */
};

/*
 * A runtime that hosts n nodes of one cluster. Node i is 0..n-1. The
 * operations that change a node say so to the watch (gsp_watch.h) when
 * the change took effect, which in the emulation is on the node's lcore:
 * the crash or stop (gsp_watch_subject_down), the app-state change
 * (gsp_watch_informed at its node), the resume (gsp_watch_resumed).
 */
struct gsp_harness_host {
	void *ctx;
	uint64_t (*now_ns)(void *ctx);
	uint32_t (*n_nodes)(void *ctx);
	/* members a node lists once joined, when the host runs part of a
	 * larger cluster (its other nodes in other processes); NULL: the
	 * host's n_nodes */
	uint32_t (*n_members)(void *ctx);
	/* node i's core counters; the emulation's may still be moving */
	void (*counters)(void *ctx, uint32_t i, struct gsp_node_counters *c);
	/* the k-th node picked for a purpose (enum gsp_pick), by the run's
	 * seed; distinct for distinct k */
	uint32_t (*pick)(void *ctx, enum gsp_pick what, uint32_t k);
	/* KEY=VALUE at node i, applied when this returns; *t_ns: when */
	int (*set_app)(void *ctx, uint32_t i, const char *key,
		       const char *value, uint64_t *t_ns);
	/* node i stops for good (a crash: no leave) */
	int (*crash)(void *ctx, uint32_t i);
	/* node i stops (frames wait for it, no timer runs) or runs again;
	 * stopped when this returns; resumed_early_ns: how long before the
	 * end of a stop it must be told, so that its overdue timer runs
	 * after the frames that waited, as a resumed process's would */
	int (*pause)(void *ctx, uint32_t i, bool on);
	uint64_t resume_early_ns;
	/* let the cluster run until deadline_ns, or until the watch's goal
	 * is met when stop is set; true when it was */
	bool (*run)(void *ctx, uint64_t deadline_ns, bool stop);
	/* the host gave up (a wall-clock or memory limit, a quit) */
	bool (*halted)(void *ctx);
	/* returns once no hook into the watch that began before the call
	 * still runs (the emulation's lcores: RCU quiescent states); NULL
	 * where the hooks run on the caller's thread (the simulator) */
	void (*quiesce)(void *ctx);
};

/*
 * A host of thousands of nodes faults in and walks hundreds of MB to GB
 * of records, at random: on 2 MB pages (transparent huge pages) its
 * join takes about a sixth less CPU (docs/BENCHMARKS.md "Join CPU").
 * glibc asks the kernel for them (madvise) only when its tunable
 * glibc.malloc.hugetlb is set before the process starts, so this starts
 * the process again, once, with the tunable added to GLIBC_TUNABLES.
 * Returns when it did not: this is the new image, the tunable is already
 * set (by the user too), GSP_SMALL_PAGES is set (to anything), the
 * process is privileged (AT_SECURE: glibc would not take the tunable),
 * valgrind runs it (LD_PRELOAD), /proc/self/exe is not the program
 * argv[0] names (ld.so), the tunables would not fit 1 KB, or the exec
 * failed (then it runs on small pages, and says so).
 */
void gsp_harness_huge_heap(char **argv);

/* Sums every counter of the core over the host's nodes. */
void gsp_harness_counters_sum(const struct gsp_harness_host *h,
			      struct gsp_node_counters *sum);
/* sum += c, counter by counter (every counter of the core is a u64) */
void gsp_harness_counters_add(struct gsp_node_counters *sum,
			      const struct gsp_node_counters *c);
/* a -= b, counter by counter: what happened between two sums */
void gsp_harness_counters_sub(struct gsp_node_counters *a,
			      const struct gsp_node_counters *b);

/* The scenarios, one list for both hosts; each host runs a subset. */
enum gsp_scn {
	GSP_SCN_JOIN,
	GSP_SCN_DISSEMINATE,
	GSP_SCN_DETECT,
	GSP_SCN_STEADY,
	GSP_SCN_PARTITION,
	GSP_SCN_FP,			/* long steady run: false positives */
	GSP_SCN_STALL,			/* one node paused, then resumed */
	GSP_SCN_CPULOAD,		/* some nodes process events late */
	GSP_SCN_MAX,
};

const char *gsp_scn_name(enum gsp_scn s);
/* the scenario of this name among the host's (bit per enum gsp_scn);
 * -1 when unknown there */
int gsp_scn_parse(const char *name, uint32_t host_mask);
/* "join, disseminate, ..." of the host's scenarios, for messages */
void gsp_scn_list(uint32_t host_mask, char *buf, size_t len);

/* Push-pull's dissemination bound in rounds, log3 N + ln ln N. */
double gsp_scn_bound_rounds(uint32_t n);

/* The member-id index: an event names a member by id, a scenario wants
 * its node. Sorted ids, binary search. */
struct gsp_ids {
	uint64_t *id;
	uint32_t *node;			/* node of id[k] */
	uint32_t n;
};

/* Builds the index of n ids (ids[i]: node i's); 0, -ENOMEM, or -EEXIST
 * when two nodes share an id. */
int gsp_ids_build(struct gsp_ids *x, const uint64_t *ids, uint32_t n);
void gsp_ids_free(struct gsp_ids *x);
/* The node with this member id, or UINT32_MAX. */
uint32_t gsp_ids_node(const struct gsp_ids *x, uint64_t id);
/* Node i's member id (a scan: once per scenario), or 0. */
uint64_t gsp_ids_id_of(const struct gsp_ids *x, uint32_t i);

/* The detector set in force, one name for both hosts: 0 is the core's
 * default set, named by its members ("phi,swim,indirect,lifeguard"). */
uint32_t gsp_harness_detector_bits(uint32_t bits);
void gsp_harness_detector_name(uint32_t bits, char *buf, size_t len);

/* Seconds from t0 to t in ns, or -1 (null in a record) when either is 0
 * or t is not after t0: a clock difference is never allowed to wrap. */
static inline double
gsp_span_s(uint64_t t, uint64_t t0)
{
	return t == 0 || t0 == 0 || t < t0 ? -1 : (double)(t - t0) / 1e9;
}

/* Per-node arrival times (0: never) of a scenario's goal. */
struct gsp_times {
	uint32_t count;			/* nodes that got there */
	uint64_t min_ns, max_ns;	/* 0 when count is 0 */
};
/* Over n values at base + i * stride (u64, read atomically: lcores may
 * still write them), skipping node `skip` (UINT32_MAX: none). */
void gsp_times_scan(struct gsp_times *t, const void *base, size_t stride,
		    uint32_t n, uint32_t skip);

#endif /* GSP_HARNESS_H */
