/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulation's own state, shared by its three files: emu.c (set-up and
 * the observer hooks the lcores run), emu_scenarios.c (the scenario
 * thread) and emu_record.c (the record and the process's measures).
 * They call one way: emu.c -> emu_scenarios.c -> emu_record.c.
 */
#ifndef GSP_EMU_INT_H
#define GSP_EMU_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <rte_common.h>
#include <rte_cycles.h>

#include "gossipd.h"
#include "emu.h"
#include "gsp_fp.h"
#include "gsp_harness.h"

#define GSP_EMU_NET 0x0a630000u		/* 10.99.0.0/16 */
#define GSP_EMU_PREFIX 16
#define GSP_EMU_SLACK 16		/* table room beyond N members */
#define GSP_EMU_START_NS (50ull * 1000 * 1000)
#define GSP_EMU_POLL_US 5000
#define GSP_EMU_CURVE_MAX 200		/* points in informed_curve */
#define GSP_EMU_MBUFS_PER_NODE 32
#define GSP_EMU_MBUFS_MAX 1048575u
#define GSP_EMU_APP_KEY "emu"
/* a resumed vnode receives just before its overdue timers run, as a
 * process's loop after SIGCONT does (rx burst first) */
#define GSP_EMU_RESUME_LEAD_NS (50ull * 1000)
#define GSP_EMU_LAT_SUB 8		/* lateness buckets per octave */
#define GSP_EMU_LAT_BUCKETS (42 * GSP_EMU_LAT_SUB)

/* per-vnode values of a snapshot */
enum {
	GSP_EMU_SNAP_TX_PKTS,
	GSP_EMU_SNAP_RX_PKTS,
	GSP_EMU_SNAP_TX_BYTES,
	GSP_EMU_SNAP_RX_BYTES,
	GSP_EMU_SNAP_ROUNDS,
	GSP_EMU_SNAP_N,
};

/* the scenarios the emulation runs (enum gsp_scn) */
#define GSP_EMU_SCENARIOS (1u << GSP_SCN_JOIN | 1u << GSP_SCN_DISSEMINATE | \
	1u << GSP_SCN_DETECT | 1u << GSP_SCN_STEADY | 1u << GSP_SCN_STALL | \
	1u << GSP_SCN_FP)

enum gsp_emu_phase {
	GSP_PHASE_JOIN = 0,
	GSP_PHASE_MEASURE,
	GSP_PHASE_DONE,
};

enum gsp_emu_stall_state {
	GSP_STALL_NONE = 0,
	GSP_STALL_REQUESTED,		/* begins at the vnode's next timer */
	GSP_STALL_STOPPED,
	GSP_STALL_RESUMED,
};

/* Traffic and CPU at one instant, for the cost of a window. */
struct gsp_emu_snap {
	uint64_t t_ns;
	uint64_t cpu_us;
	uint64_t forwarded;		/* by the switch, all lcores */
	uint64_t *v;			/* per vnode: GSP_EMU_SNAP_* */
};

/* What a scenario measures at each vnode (its lcore writes). */
struct gsp_emu_probe {
	uint64_t joined_ns;		/* first round that saw all N alive */
	uint64_t joined_rounds;		/* its round counter then */
	uint64_t informed_ns;		/* disseminate: origin's change seen */
	uint64_t detect_ns;		/* detect: the victim marked down */
	uint32_t origin_slot;		/* disseminate: origin's table slot */
	uint32_t last_alive;
};

/*
 * What one vnode saw of the scenario's subjects (crashed or stalled
 * vnodes), and its timer. Written by its lcore only; a cache line apart
 * from its neighbours, which other lcores own.
 */
struct gsp_emu_vs {
	struct gsp_emu_probe probe;
	uint64_t due_ns;		/* the deadline its last tick returned */
	uint64_t alive_ns;		/* stall: last "alive" of the subject */
	uint64_t suspect_ns[GSP_EMU_CRASH_MAX];	/* first suspect or down */
	uint64_t down_ns[GSP_EMU_CRASH_MAX];	/* first down */
	uint8_t state[GSP_EMU_CRASH_MAX];	/* its latest view of each */
} __rte_cache_aligned;

/* Timer lateness of one lcore's vnodes, measured window only. */
struct gsp_emu_lat {
	uint64_t ticks;
	uint64_t ticks_early;		/* a packet moved the timer earlier */
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t hist[GSP_EMU_LAT_BUCKETS];	/* by microseconds, log-linear */
} __rte_cache_aligned;

struct gsp_emu {
	struct gsp_emu_opts o;
	struct gsp_emu_xopts x;
	struct gsp_dp *dp;
	pthread_t tid;
	bool started;
	bool joined;			/* the scenario thread ended */
	int status;			/* exit status once done */
	uint32_t phase;			/* enum gsp_emu_phase */
	struct gsp_lcore_observer obs;	/* on every lcore; watch_rx:
					 * disseminate armed */
	uint64_t interval_ns;		/* gossip interval */
	uint64_t start_ns;		/* everyone's first round from here */
	uint64_t wall0_ns;		/* CLOCK_MONOTONIC at setup */
	uint64_t *sizes;		/* bitmap: alive counts reported */
	uint32_t capacity;
	uint32_t n_lcores;
	uint32_t n_mbufs;
	uint64_t rss_before, rss_created;
	struct gsp_fault_cfg fault;	/* in the switch: --fault + --loss */
	struct gsp_emu_vs *vs;		/* per vnode */
	struct gsp_emu_lat *lat;	/* per lcore id */
	struct gsp_ids ids;		/* member id -> vnode */
	struct gsp_harness_host host;	/* this emulation, to the harness */
	/* disseminate */
	uint32_t origin;
	uint64_t origin_id;
	uint64_t dis_version;		/* release: armed */
	uint64_t dis_t0_ns;
	/* subjects: crashed (detect) or stalled vnodes */
	uint32_t n_subj;		/* release, after the arrays */
	uint32_t subj_idx[GSP_EMU_CRASH_MAX];
	uint64_t subj_id[GSP_EMU_CRASH_MAX];
	uint64_t subj_t0[GSP_EMU_CRASH_MAX];	/* crashed/stopped at; 0: up */
	/* stall */
	uint32_t stall_idx;		/* UINT32_MAX: none */
	uint32_t stall_state;		/* enum gsp_emu_stall_state */
	uint64_t stall_ns;
	uint64_t stall_t1;		/* resumed at (release) */
	uint64_t stall_rx0;		/* its rx_packets when it stopped */
	uint64_t late_marks;		/* of the subject after it resumed */
	/* live members accused (harness/gsp_fp.h): during the join, after
	 * it, and by the stalled vnode itself once it resumed */
	struct gsp_fp fp_join, fp, fp_resumed;
};

/*
 * A per-vnode u64 field, wherever it lives: at base + i * stride. The
 * same walk serves the probes in the vnodes and struct gsp_emu_vs.
 */
struct gsp_emu_field {
	const uint8_t *base;
	size_t stride;
	uint32_t skip;			/* a vnode not counted, or UINT32_MAX */
};

/* How one subject was detected, in seconds from its crash or stop. */
struct gsp_emu_det {
	uint32_t idx;
	uint32_t observers;
	uint32_t suspected_by, down_by;
	double first_suspect_s, all_suspect_s;
	double first_down_s, all_down_s;	/* -1: not (all) */
};

struct gsp_emu_result {
	bool timeout;
	double time_s;
	double rounds;
	double join_s;
	uint64_t join_rounds;
	bool curve;
	struct gsp_emu_field curve_f;
	uint64_t curve_t0;
	uint32_t curve_of;
	uint32_t n_det;
	struct gsp_emu_det det[GSP_EMU_CRASH_MAX];
	/* stall */
	double stall_alive_s;		/* resume -> alive everywhere */
	uint64_t stall_rx_queued;	/* in its ring when it resumed */
	uint64_t stall_rx_leak;		/* frames it took while stopped */
	const char *why;		/* timeout reason */
};

static inline uint64_t
gsp_emu_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Seconds from t0 to t, or -1 (null in the record) when t is not after
 * t0: a clock difference is never allowed to wrap. */
static inline double
gsp_emu_span_s(uint64_t t, uint64_t t0)
{
	if (t == 0 || t0 == 0 || t < t0)
		return -1;
	return (double)(t - t0) / 1e9;
}

static inline uint64_t
gsp_emu_now_ns(void)
{
	return gsp_dp_tsc_to_ns(rte_get_tsc_cycles());
}

/* Log-linear bucket of a lateness in microseconds: exact below 8 us,
 * then GSP_EMU_LAT_SUB buckets per power of two (12.5 % wide). */
static inline unsigned int
gsp_emu_lat_bucket(uint64_t us)
{
	unsigned int o, b;

	if (us < GSP_EMU_LAT_SUB)
		return (unsigned int)us;
	o = 63u - (unsigned int)__builtin_clzll(us);	/* >= 3 */
	b = (o - 2) * GSP_EMU_LAT_SUB +
		(unsigned int)((us >> (o - 3)) & (GSP_EMU_LAT_SUB - 1));
	return b < GSP_EMU_LAT_BUCKETS ? b : GSP_EMU_LAT_BUCKETS - 1;
}

/* The upper edge of a bucket, in microseconds. */
static inline double
gsp_emu_lat_edge(unsigned int b)
{
	unsigned int o = b / GSP_EMU_LAT_SUB + 2, sub = b % GSP_EMU_LAT_SUB;

	if (b < GSP_EMU_LAT_SUB)
		return b + 1;
	return (double)((uint64_t)(GSP_EMU_LAT_SUB + sub + 1) << (o - 3));
}

static inline uint64_t
gsp_emu_field_get(const struct gsp_emu_field *f, uint32_t i)
{
	return __atomic_load_n((const uint64_t *)(const void *)
			       (f->base + i * f->stride), __ATOMIC_ACQUIRE);
}

static inline struct gsp_emu_field
gsp_emu_probe_field(const struct gsp_emu *emu, size_t off)
{
	return (struct gsp_emu_field){
		(const uint8_t *)&emu->vs[0].probe + off,
		sizeof(struct gsp_emu_vs), UINT32_MAX };
}

static inline struct gsp_emu_field
gsp_emu_vs_field(const uint64_t *first, uint32_t skip)
{
	return (struct gsp_emu_field){ (const uint8_t *)first,
		sizeof(struct gsp_emu_vs), skip };
}

/* emu_scenarios.c: the scenario thread's body */
void gsp_emu_run(struct gsp_emu *emu);

/* emu_record.c */
/* "VmRSS" or "VmHWM" of this process, in bytes; 0 when unreadable. */
uint64_t gsp_emu_proc_kb(const char *key);
/* CPU time of the process (user + system), in microseconds */
uint64_t gsp_emu_cpu_us(void);
/* alive counts the vnodes reported during the join */
uint32_t gsp_emu_distinct_sizes(const struct gsp_emu *emu);
/* Writes the scenario's record (--json FILE, else stdout); a and b: the
 * window's snapshots. */
void gsp_emu_write(struct gsp_emu *emu, const struct gsp_emu_result *r,
		   const struct gsp_emu_snap *a, const struct gsp_emu_snap *b);

#endif /* GSP_EMU_INT_H */
