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
#include "gsp_scenario.h"
#include "gsp_watch.h"

#define GSP_EMU_NET 0x0a630000u		/* 10.99.0.0/16 */
#define GSP_EMU_PREFIX 16
#define GSP_EMU_PREFIX_WIDE 12		/* 10.96.0.0/12: larger clusters */
#define GSP_EMU_SLACK 16		/* table room beyond N members */
/* The control vnode (the status view, gossipctl, logged events): the
 * first of the process, on the main lcore */
#define GSP_EMU_CTRL 0
#define GSP_EMU_START_NS (50ull * 1000 * 1000)
#define GSP_EMU_POLL_US 5000
#define GSP_EMU_QUIESCE_POLL_US 100
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

/* Timer lateness of one lcore's vnodes, measured window only. */
struct gsp_emu_lat {
	uint64_t ticks;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t hist[GSP_EMU_LAT_BUCKETS];	/* by microseconds, log-linear */
} __rte_cache_aligned;

struct rte_rcu_qsbr;

/* every crashed vnode is a subject of the harness's watch */
_Static_assert(GSP_EMU_CRASH_MAX <= GSP_WATCH_SUBJECTS_MAX,
	       "--crash beyond the subjects the watch tracks");

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
	uint32_t capacity;
	uint32_t base;			/* global index of vnodes[0] */
	uint32_t cluster;		/* vnodes of all processes */
	uint32_t local_seeds;		/* vnodes here that are seeds */
	uint32_t prefix;		/* the cluster's subnet */
	uint32_t n_lcores;
	uint32_t n_mbufs;
	uint64_t rss_before, rss_created;
	uint64_t populate_ns;		/* records mapped before the start */
	struct gsp_fault_cfg fault;	/* in the switch: --fault + --loss */
	struct gsp_emu_lat *lat;	/* per lcore id */
	struct gsp_harness_host host;	/* this emulation, to the harness */
	struct gsp_harness h;		/* host + watch, for the scenarios */
	struct rte_rcu_qsbr *qsbr;	/* the lcores' quiescent states */
	uint64_t deadline_ns;		/* start + --max-seconds */
	/* what the scenario watches at every vnode: goals, subjects,
	 * accusations (harness/gsp_watch.h); the lcores' hooks write it */
	struct gsp_watch w;
	/* disseminate */
	uint32_t origin;
	uint64_t dis_t0_ns;		/* the change made (release) */
	/* stall: subject 0 of the watch */
	uint32_t stall_idx;		/* UINT32_MAX: none */
	uint32_t stall_state;		/* enum gsp_emu_stall_state */
	uint64_t stall_ns;
	uint64_t stall_rx0;		/* its rx_packets when it stopped */
	uint64_t stall_rx_queued;	/* in its ring when it resumed */
	uint64_t stall_rx_leak;		/* frames it took while stopped */
};



struct gsp_emu_result {
	bool timeout;
	double time_s;
	double rounds;
	double join_s;
	uint64_t join_rounds;
	double settle_s;		/* --settle-s, where it applied */
	double quiet_s;			/* join done -> the scenario began */
	json_t *curve;			/* when the vnodes met the goal */
	uint32_t distinct_sizes;	/* alive counts seen in the join */
	struct gsp_fp_sum join_fp;	/* accusations during the join */
	uint32_t n_det;
	struct gsp_watch_det det[GSP_WATCH_SUBJECTS_MAX];
	/* stall */
	double stall_alive_s;		/* resume -> alive everywhere */
	uint64_t stall_rx_queued;	/* in its ring when it resumed */
	uint64_t stall_rx_leak;		/* frames it took while stopped */
	struct gsp_fp_sum resumed;	/* its own accusations after */
	const char *why;		/* timeout reason */
};

static inline uint64_t
gsp_emu_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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




/* emu_host.c: the emulation as a host of the harness, and the scenario
 * thread's waits and snapshots */
void gsp_emu_host_init(struct gsp_emu *emu);
bool gsp_emu_snap(struct gsp_emu *emu, struct gsp_emu_snap *s);
/* true when quitting or past the deadline (after one short sleep) */
bool gsp_emu_wait(struct gsp_emu *emu, uint64_t deadline_ns);
/* sleeps until t_ns (or a quit); false when quitting */
bool gsp_emu_sleep_until(struct gsp_emu *emu, uint64_t t_ns);

/* emu_scenarios.c: the scenario thread's body */
void gsp_emu_run(struct gsp_emu *emu);

/* emu_record.c */
/* "VmRSS" or "VmHWM" of this process, in bytes; 0 when unreadable. */
uint64_t gsp_emu_proc_kb(const char *key);
/* CPU time of the process (user + system), in microseconds */
uint64_t gsp_emu_cpu_us(void);
/* Writes the scenario's record (--json FILE, else stdout); a and b: the
 * window's snapshots. */
void gsp_emu_write(struct gsp_emu *emu, const struct gsp_emu_result *r,
		   const struct gsp_emu_snap *a, const struct gsp_emu_snap *b);

#endif /* GSP_EMU_INT_H */
