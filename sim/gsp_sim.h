/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossip-sim: a deterministic discrete-event simulator of a whole cluster
 * running the unmodified protocol core (dataplane/core) on a virtual clock
 * and a simulated network. One thread, one event heap, seeded PRNGs owned by
 * the simulator: the same arguments give the same run, bit for bit.
 */
#ifndef GSP_SIM_H
#define GSP_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "gsp_core.h"
#include "gsp_fault.h"
#include "gsp_harness.h"
#include "gsp_sim_heap.h"

#define GSP_SIM_IP_BASE 0x0a000001u	/* node i is 10.0.0.1 + i */
#define GSP_SIM_PORT GSP_DEFAULT_PORT
#define GSP_SIM_NODES_MAX (1u << 22)
#define GSP_SIM_PKT_CHUNK 1024u		/* pool grows by this many buffers */
#define GSP_SIM_APP_KEY "simkey"
#define GSP_SIM_APP_VALUE "v1"
#define GSP_SIM_STALL_QUEUE 4096u	/* default: packets a paused node holds */
#define GSP_SIM_STALL_QUEUE_MAX (1u << 20)
#define GSP_SIM_RX_BURST 32u		/* [dataplane] burst: frames before a round */
/*
 * For the RAM check only. Peak RSS of the join at N = 4,000 and 8,000
 * fits N^2 x 54.5 + N x 82 KB (3 and 6 KB of it buckets), and predicts
 * N = 20,000 within 1%. The estimate is an upper bound: it counts
 * gsp_node_bytes_per_member() (its shares rounded up), each node's
 * node and SWIM state (32 KiB), [limits] source table (gsp_limit.h,
 * 40 KiB) and buckets (gsp_node_bucket_bytes), and the packet pool whole
 * though it grows only as packets are in flight (48 MB of its 386 at
 * 20,000). No slack on top.
 */
#define GSP_SIM_MEMBER_SLACK 0u
#define GSP_SIM_NODE_OVERHEAD ((32u + 40u) * 1024u)

/* the scenarios the simulator runs: all (enum gsp_scn) */
#define GSP_SIM_SCENARIOS ((1u << GSP_SCN_MAX) - 1)

struct gsp_sim_cfg {
	enum gsp_scn scenario;	/* the one running now */
	enum gsp_scn scenarios[GSP_SCN_MAX];
	uint32_t n_scenarios;
	uint32_t scenario_mask;
	uint32_t n_nodes;
	uint32_t n_seeds;
	uint32_t fanout;
	uint32_t interval_ms;
	uint32_t max_rounds;		/* bound of every waiting phase */
	uint32_t measure_rounds;	/* steady: measured window */
	uint32_t settle_rounds;		/* after join, before the scenario */
	uint32_t capacity;		/* per node table; 0 = n_nodes */
	uint32_t max_inflight;		/* packet buffers in flight */
	uint32_t latency_us;
	uint32_t jitter_us;
	uint32_t syn_packets;		/* 0: the core's default */
	uint32_t ack_states;		/* 0: the core's default */
	uint16_t max_payload;
	uint64_t seed;
	struct gsp_fault_cfg fault;	/* every node's; --loss P is drop=P */
	/* detector knobs written into every node's params; 0: core default */
	uint32_t detector;
	uint64_t probe_interval_ns;
	uint64_t probe_timeout_ns;
	uint32_t indirect_probes;
	uint32_t suspicion_mult;
	double partition_s;
	double duration_s;		/* fp, cpuload: measured window */
	double stall_s;			/* stall: pause length */
	uint32_t stall_queue;		/* stall: packets held, like a NIC ring */
	double after_s;			/* stall: watched after the resume */
	double slow_frac;		/* cpuload: share of slow nodes */
	double slow_ms;			/* cpuload: extra delay, uniform 0..this */
	double max_wall_s;		/* 0 = unbounded */
	const char *json_path;
	bool auth;			/* seal every packet (AES-256-GCM) */
	bool no_mem_check;
	bool quiet;
};

struct gsp_sim;

struct gsp_sim_node {
	struct gsp_sim *sim;
	struct gsp_node *node;
	uint64_t id;
	uint64_t generation;
	uint32_t idx;
	uint32_t epoch;			/* token of the pending tick: a crash, a
					 * pause or an earlier one voids it */
	uint64_t tick_at;		/* when the pending tick is due */
	uint8_t side;			/* partition side */
	bool up;
	bool paused;			/* stall: no rounds, packets held */
	bool slow;			/* cpuload: events run late */
	uint64_t slow_last;		/* cpuload: last held event's time */
	struct gsp_fault_cfg fault;	/* on its sends (and blocks on receive) */
	uint64_t tx_pkts, tx_bytes, rx_pkts, rx_bytes;
};

struct gsp_sim_pkt {
	uint8_t *data;
	uint32_t src;
	uint16_t len;
};

#endif /* GSP_SIM_H */
