/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulator's own state, shared by its files (docs/ARCHITECTURE.md):
 * gsp_sim.c (main), gsp_sim_opts.c (options), gsp_sim_scenarios.c (the
 * scenarios), gsp_sim_run.c (the event loop and the nodes' lives),
 * gsp_sim_watch.c (what a phase waits for, and the core's events),
 * gsp_sim_net.c (the network and the core's send seam),
 * gsp_sim_record.c (the record), gsp_sim_util.c (clocks, PRNG, log).
 */
#ifndef GSP_SIM_INT_H
#define GSP_SIM_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "gsp_core.h"
#include "gsp_fault.h"
#include "gsp_fp.h"
#include "gsp_harness.h"
#include "gsp_record.h"
#include "gsp_scenario.h"
#include "gsp_sim.h"
#include "gsp_sim_heap.h"
#include "gsp_watch.h"
#include "gsp_util.h"
#include "gsp_wire.h"

#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull
#define GSP_SIM_T0 NS_PER_S		/* virtual time of the cold start */
#define GSP_SIM_WALL_CHECK 1024u	/* events between wall-clock checks */
#define GSP_SIM_EXIT_MEM 3		/* refused: would not fit in RAM */
#define GSP_SIM_PROGRESS_S 30.0		/* wall seconds between progress lines */
#define GSP_SIM_MEM_RESERVE (256ull << 20) /* stop when less is available */
#define GSP_SIM_MAX(a, b) ((a) > (b) ? (a) : (b))
#define GSP_SIM_MEM_CHECK_S 0.2	/* wall seconds between MemAvailable reads */

/* stall: one node paused (SIGSTOP), then resumed */
struct gsp_sim_stall {
	uint32_t node;			/* ~0: none */
	bool resumed;
	uint32_t *q;			/* pool slots sent to it while paused */
	uint32_t q_n;
	uint64_t held, dropped;		/* packets queued, and refused: full */
	uint32_t n_bad, n_down;		/* observers seeing it suspect|down, down */
	uint32_t down_at_resume;
	uint32_t views_bad_end;		/* n_bad re-counted from the tables */
	uint64_t t_pause, t_resume;
	uint64_t suspect_t, down_t, down_all_t, alive_t;	/* 0: not yet */
};

struct gsp_sim {
	struct gsp_sim_cfg c;
	struct gsp_keyring *keyring;	/* --auth; NULL: plaintext */
	struct gsp_ids *ids;		/* every node's id -> slot, once */
	struct gsp_sim_node *nodes;
	struct gsp_harness_host host;	/* this simulator, to the harness */
	struct gsp_harness h;		/* host + watch, for the scenarios */
	struct gsp_sim_heap heap;

	/* packet buffer pool: grows by chunks up to max_inflight */
	struct gsp_sim_pkt *pkts;
	uint32_t *free_pkts;
	uint32_t n_free;
	uint32_t n_alloc;
	uint8_t **chunks;
	uint32_t n_chunks;
	uint32_t inflight, inflight_peak;

	uint64_t now;
	uint64_t interval_ns;
	uint64_t rng_net, rng_sched, rng_scn, rng_fault, rng_slow;
	uint32_t n_up;

	/* the running phase: what the harness watches, and its stop */
	struct gsp_watch w;
	bool stop_on_goal;
	bool stop;
	uint64_t stop_t;
	bool partitioned;		/* the network drops across sides */
	uint64_t fp_about_slow, fp_by_slow;	/* cpuload: accusations */
	struct gsp_sim_stall stall;
	uint32_t n_slow;
	uint64_t held_events, held_ns;	/* cpuload: delays actually applied */
	uint64_t early_ticks;		/* ticks moved forward by a packet */

	/* network and simulator counters */
	uint64_t fault_ctr[GSP_FAULT_C_MAX];
	uint64_t pkts_sent, pkts_delivered, part_drops, pool_drops;
	/* [limits] hits of nodes since restarted (their cores are gone) */
	uint64_t limit_hits_gone, rate_limited_gone, over_limit_gone;
	uint64_t dead_drops, unknown_dst, oversize, heap_drops, events;
	uint64_t core_ns;		/* monotonic time inside rx/tick */
	bool wall_limited;
	struct timespec wall0;
	double next_progress_s;
	double next_mem_check_s;
	bool mem_limited;		/* stopped: the machine ran short of RAM */
};

/* ------------------------------ results ------------------------------- */

struct gsp_sim_result {
	bool join_ok;
	uint64_t join_t;		/* absolute */
	uint32_t distinct_sizes;
	struct gsp_fp_sum join_fp;	/* accusations during the join */
	bool ok;			/* the scenario's goal was reached */
	uint64_t t_start, t_end;	/* the scenario's measured interval */
	/* detect */
	uint32_t crashed;
	struct gsp_watch_det subject;	/* the crashed node, as seen */
	/* the window's accusations, taken before a scenario's epilogue
	 * (cpuload's recovery); not taken: read when the record is */
	struct gsp_fp_sum fp;
	bool fp_taken;
	bool det_taken;		/* det (below) too, by the scenario */
	/* detect: the restarted node alive everywhere; cpuload: every
	 * node lists every member alive again after the slow window */
	bool rejoin_ok;
	uint64_t rejoin_dt;
	/* disseminate */
	uint32_t origin;
	/* partition */
	bool split_ok;
	uint64_t split_dt;
	/* steady */
	struct gsp_traffic traffic;
	bool has_traffic;		/* traffic holds the window's */
	double core_us_per_node_s;
	double syn_per_node_round, ack_per_node_round, ack2_per_node_round;
	double merged_per_node_round;
	/* detector counters over the scenario (SWIM and Lifeguard) */
	struct gsp_node_counters det;
	uint64_t awareness_max;
	/* stall (times absolute, 0: never) */
	uint32_t stalled;
	struct gsp_sim_stall stall;
	/* cpuload */
	uint32_t n_slow;
	/* when the nodes met the goal; NULL: none (json, the caller frees) */
	json_t *curve;
};

/* gsp_sim_util.c */
uint64_t gsp_sim_rand_below(uint64_t *st, uint64_t n);
uint64_t gsp_sim_stream(uint64_t seed, uint64_t purpose);
double gsp_sim_wall_s(const struct gsp_sim *s);
uint64_t gsp_sim_mono_ns(void);
double gsp_sim_cpu_s(void);
uint64_t gsp_sim_peak_rss(void);
uint64_t gsp_sim_mem_available(void);
uint32_t gsp_sim_rounds(const struct gsp_sim *s, uint64_t dt);
void gsp_sim_log(const struct gsp_sim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* gsp_sim_net.c */
int gsp_sim_pool_init(struct gsp_sim *s);
void gsp_sim_pool_put(struct gsp_sim *s, uint32_t slot);

/* gsp_sim_host.c */
void gsp_sim_host_init(struct gsp_sim *s);

/* gsp_sim_watch.c */
int gsp_sim_watch_init(struct gsp_sim *s);
void gsp_sim_phase(struct gsp_sim *s, enum gsp_goal goal, bool stop);
void gsp_sim_check_stop(struct gsp_sim *s);

/* gsp_sim_run.c */
int gsp_sim_node_start(struct gsp_sim *s, uint32_t i, uint64_t generation,
	uint64_t first_tick);
void gsp_sim_node_crash(struct gsp_sim *s, uint32_t i);
void gsp_sim_limits_add(const struct gsp_node *node, uint64_t *hits,
	uint64_t *rate_limited, uint64_t *over_limit);
int gsp_sim_node_restart(struct gsp_sim *s, uint32_t i);
void gsp_sim_node_pause(struct gsp_sim *s, uint32_t i);
void gsp_sim_node_resume(struct gsp_sim *s, uint32_t i);
bool gsp_sim_run(struct gsp_sim *s, uint64_t t_end);
bool gsp_sim_lists(const struct gsp_sim *s, uint32_t i, uint32_t x,
	uint8_t *state);

/* gsp_sim_record.c */
uint64_t gsp_sim_det_sum(const struct gsp_sim *s,
	struct gsp_node_counters *sum);
double gsp_sim_per_s(uint64_t v, double sim_s);
int gsp_sim_write_json(struct gsp_sim *s, const struct gsp_sim_result *r,
	uint64_t est_bytes);

/* gsp_sim_scenarios.c */
void gsp_sim_join(struct gsp_sim *s, struct gsp_sim_result *r);
void gsp_sim_settle(struct gsp_sim *s);
void gsp_sim_scenario_run(struct gsp_sim *s, struct gsp_sim_result *r);

/* gsp_sim_opts.c */
int gsp_sim_parse(int argc, char **argv, struct gsp_sim_cfg *c);

#endif /* GSP_SIM_INT_H */
