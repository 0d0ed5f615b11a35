/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossip-sim's command line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_params.h"
#include "gsp_sim_int.h"

/* ------------------------------- setup -------------------------------- */

static void
gsp_sim_usage(FILE *f)
{
	fprintf(f,
"usage: gossip-sim --scenario join|disseminate|detect|steady|partition|\n"
"                             fp|stall|cpuload[,...]\n"
"                  [--nodes N] [--seed S] [--interval-ms 100] [--fanout 2]\n"
"                  [--seeds 3] [--latency-us 200] [--jitter-us 100]\n"
"                  [--loss P] [--fault SPEC] [--max-rounds 600] [--json FILE]\n"
"                  [--measure-rounds 50] [--settle-rounds 5]\n"
"                  [--partition-s 10] [--max-payload 1472] [--capacity C]\n"
"                  [--max-inflight 262144] [--max-wall-s S]\n"
"                  [--syn-packets K] [--ack-states K] (0: core default)\n"
"                  [--detector phi|swim|indirect|lifeguard|all|default|off\n"
"                   (a list: swim,indirect,lifeguard)]\n"
"                  [--probe-interval-ms MS] [--probe-timeout-ms MS]\n"
"                  [--indirect-probes K] [--suspicion-mult K] (0: default)\n"
"                  [--duration-s 60] (fp, cpuload)\n"
"                  [--stall-s 5] [--after-s 10] [--stall-queue 4096] (stall)\n"
"                  [--slow-frac 0.1] [--slow-ms 50] (cpuload)\n"
"                  [--auth] (seal every packet: AES-256-GCM, or\n"
"                   ChaCha20-Poly1305 without AES-NI)\n"
"                  [--no-mem-check] [--quiet]\n"
"Runs the protocol core of N nodes on a virtual clock and a simulated\n"
"network. Every run starts with a cold join; a list of scenarios runs them\n"
"one after the other on the same cluster (one join). Appends one JSON\n"
"object per scenario to FILE (and prints it).\n"
"--fault SPEC applies gossipctl's fault syntax (\"drop=0.1 delay=5ms\n"
"jitter=2ms dup=0.01 reorder=0.05\") to every node's sends, on top of\n"
"the base latency; --loss P is drop=P. Options apply in the order given.\n"
"Exit status: 0 ran (see \"ok\"), 1 failed, 2 usage, %d would not fit in RAM.\n",
		GSP_SIM_EXIT_MEM);
}

static int
gsp_sim_parse_u32(const char *arg, const char *name, uint32_t lo, uint32_t hi,
		  uint32_t *out)
{
	uint64_t v;

	if (gsp_parse_u64(arg, lo, hi, &v) != 0) {
		fprintf(stderr, "gossip-sim: %s must be in [%u, %u]: '%s'\n",
			name, lo, hi, arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
gsp_sim_parse_f(const char *arg, const char *name, double lo, double hi,
		double *out)
{
	if (gsp_parse_double(arg, lo, hi, out) != 0) {
		fprintf(stderr, "gossip-sim: %s must be in [%g, %g]: '%s'\n",
			name, lo, hi, arg);
		return -1;
	}
	return 0;
}

/* "swim,indirect,lifeguard", "all", "phi", "default", "off" */
static int
gsp_sim_parse_detector(const char *arg, uint32_t *out)
{
	const char *why;

	if (gsp_detector_parse(arg, out, &why) != 0) {
		fprintf(stderr, "gossip-sim: --detector '%s': %s\n", arg, why);
		return -1;
	}
	return 0;
}

/* milliseconds, fractions allowed, to ns; 0 = the core's default */
static int
gsp_sim_parse_ms(const char *arg, const char *name, uint64_t *ns)
{
	double ms;

	if (gsp_sim_parse_f(arg, name, 0, 3600000, &ms) != 0)
		return -1;
	*ns = (uint64_t)(ms * NS_PER_MS + 0.5);
	return 0;
}

/* "join,detect,...": each scenario once, run in the order given */
static int
gsp_sim_parse_scenarios(const char *arg, struct gsp_sim_cfg *c)
{
	char buf[128], *save = NULL, *tok;

	if (strlen(arg) >= sizeof(buf)) {
		fprintf(stderr, "gossip-sim: --scenario list too long\n");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	c->n_scenarios = 0;
	c->scenario_mask = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		int u = gsp_scn_parse(tok, GSP_SIM_SCENARIOS);

		if (u < 0) {
			char list[160];

			gsp_scn_list(GSP_SIM_SCENARIOS, list, sizeof(list));
			fprintf(stderr, "gossip-sim: unknown scenario '%s' (%s)\n",
				tok, list);
			return -1;
		}
		if (c->scenario_mask & (1u << u)) {
			fprintf(stderr, "gossip-sim: scenario '%s' twice\n",
				tok);
			return -1;
		}
		c->scenario_mask |= 1u << u;
		c->scenarios[c->n_scenarios++] = (enum gsp_scn)u;
	}
	if (c->n_scenarios == 0) {
		fprintf(stderr, "gossip-sim: --scenario needs a name\n");
		return -1;
	}
	return 0;
}

enum {
	OPT_SCENARIO = 256, OPT_NODES, OPT_SEED, OPT_INTERVAL, OPT_FANOUT,
	OPT_SEEDS, OPT_LOSS, OPT_LATENCY, OPT_JITTER, OPT_MAX_ROUNDS, OPT_JSON,
	OPT_MEASURE, OPT_SETTLE, OPT_PARTITION, OPT_PAYLOAD, OPT_CAPACITY,
	OPT_INFLIGHT, OPT_WALL, OPT_NO_MEM, OPT_QUIET, OPT_HELP,
	OPT_SYN_PACKETS, OPT_ACK_STATES, OPT_FAULT, OPT_DETECTOR,
	OPT_PROBE_INTERVAL, OPT_PROBE_TIMEOUT, OPT_INDIRECT, OPT_SUSP_MULT,
	OPT_DURATION, OPT_STALL, OPT_AFTER, OPT_SLOW_FRAC, OPT_SLOW_MS,
	OPT_STALL_QUEUE, OPT_AUTH,
};

int
gsp_sim_parse(int argc, char **argv, struct gsp_sim_cfg *c)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, OPT_SCENARIO },
		{ "nodes", required_argument, NULL, OPT_NODES },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "interval-ms", required_argument, NULL, OPT_INTERVAL },
		{ "fanout", required_argument, NULL, OPT_FANOUT },
		{ "seeds", required_argument, NULL, OPT_SEEDS },
		{ "loss", required_argument, NULL, OPT_LOSS },
		{ "latency-us", required_argument, NULL, OPT_LATENCY },
		{ "jitter-us", required_argument, NULL, OPT_JITTER },
		{ "max-rounds", required_argument, NULL, OPT_MAX_ROUNDS },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "measure-rounds", required_argument, NULL, OPT_MEASURE },
		{ "settle-rounds", required_argument, NULL, OPT_SETTLE },
		{ "partition-s", required_argument, NULL, OPT_PARTITION },
		{ "max-payload", required_argument, NULL, OPT_PAYLOAD },
		{ "capacity", required_argument, NULL, OPT_CAPACITY },
		{ "max-inflight", required_argument, NULL, OPT_INFLIGHT },
		{ "max-wall-s", required_argument, NULL, OPT_WALL },
		{ "syn-packets", required_argument, NULL, OPT_SYN_PACKETS },
		{ "ack-states", required_argument, NULL, OPT_ACK_STATES },
		{ "fault", required_argument, NULL, OPT_FAULT },
		{ "detector", required_argument, NULL, OPT_DETECTOR },
		{ "auth", no_argument, NULL, OPT_AUTH },
		{ "probe-interval-ms", required_argument, NULL,
		  OPT_PROBE_INTERVAL },
		{ "probe-timeout-ms", required_argument, NULL,
		  OPT_PROBE_TIMEOUT },
		{ "indirect-probes", required_argument, NULL, OPT_INDIRECT },
		{ "suspicion-mult", required_argument, NULL, OPT_SUSP_MULT },
		{ "duration-s", required_argument, NULL, OPT_DURATION },
		{ "stall-s", required_argument, NULL, OPT_STALL },
		{ "after-s", required_argument, NULL, OPT_AFTER },
		{ "stall-queue", required_argument, NULL, OPT_STALL_QUEUE },
		{ "slow-frac", required_argument, NULL, OPT_SLOW_FRAC },
		{ "slow-ms", required_argument, NULL, OPT_SLOW_MS },
		{ "no-mem-check", no_argument, NULL, OPT_NO_MEM },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool have_scenario = false;
	uint32_t payload = 1472;
	int opt, rc = 0;
	char *end, err[160];

	*c = (struct gsp_sim_cfg){
		/* gossip every 100 ms, not the config's 1 s: the benchmarks'
		 * period; the rest are the core's defaults (gsp_params.h) */
		.n_nodes = 100, .n_seeds = 3, .fanout = GSP_DEF(FANOUT),
		.interval_ms = 100,
		.max_rounds = 600, .measure_rounds = 50, .settle_rounds = 5,
		.max_inflight = 262144, .latency_us = 200, .jitter_us = 100,
		.seed = 1, .partition_s = 10, .duration_s = 60, .stall_s = 5,
		.after_s = 10, .slow_frac = 0.1, .slow_ms = 50,
		.stall_queue = GSP_SIM_STALL_QUEUE,
	};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SCENARIO:
			have_scenario = true;
			if (gsp_sim_parse_scenarios(optarg, c) != 0)
				return -1;
			break;
		case OPT_NODES:
			rc = gsp_sim_parse_u32(optarg, "--nodes", 2,
					       GSP_SIM_NODES_MAX, &c->n_nodes);
			break;
		case OPT_SEED:
			errno = 0;
			c->seed = strtoull(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || end == optarg) {
				fprintf(stderr, "gossip-sim: bad --seed '%s'\n",
					optarg);
				return -1;
			}
			break;
		case OPT_INTERVAL:
			rc = gsp_sim_parse_u32(optarg, "--interval-ms", 1,
					       3600000, &c->interval_ms);
			break;
		case OPT_FANOUT:
			rc = gsp_sim_parse_u32(optarg, "--fanout", GSP_MIN(FANOUT),
					       GSP_MAX(FANOUT), &c->fanout);
			break;
		case OPT_SEEDS:
			rc = gsp_sim_parse_u32(optarg, "--seeds", 1,
					       GSP_SEEDS_MAX, &c->n_seeds);
			break;
		case OPT_LOSS:
			rc = gsp_sim_parse_f(optarg, "--loss", 0, 0.99,
					     &c->fault.drop);
			break;
		case OPT_FAULT:
			if (gsp_fault_parse(&c->fault, optarg, err,
					    sizeof(err)) != 0) {
				fprintf(stderr, "gossip-sim: --fault: %s\n", err);
				return -1;
			}
			break;
		case OPT_DETECTOR:
			rc = gsp_sim_parse_detector(optarg, &c->detector);
			break;
		case OPT_AUTH:
			c->auth = true;
			break;
		case OPT_PROBE_INTERVAL:
			rc = gsp_sim_parse_ms(optarg, "--probe-interval-ms",
					      &c->probe_interval_ns);
			break;
		case OPT_PROBE_TIMEOUT:
			rc = gsp_sim_parse_ms(optarg, "--probe-timeout-ms",
					      &c->probe_timeout_ns);
			break;
		case OPT_INDIRECT:
			rc = gsp_sim_parse_u32(optarg, "--indirect-probes", 0,
					       64, &c->indirect_probes);
			break;
		case OPT_SUSP_MULT:
			rc = gsp_sim_parse_u32(optarg, "--suspicion-mult", 0,
					       1000, &c->suspicion_mult);
			break;
		case OPT_DURATION:
			rc = gsp_sim_parse_f(optarg, "--duration-s", 0.001,
					     86400, &c->duration_s);
			break;
		case OPT_STALL:
			rc = gsp_sim_parse_f(optarg, "--stall-s", 0.001, 86400,
					     &c->stall_s);
			break;
		case OPT_AFTER:
			rc = gsp_sim_parse_f(optarg, "--after-s", 0.001, 86400,
					     &c->after_s);
			break;
		case OPT_STALL_QUEUE:
			rc = gsp_sim_parse_u32(optarg, "--stall-queue", 0,
					       GSP_SIM_STALL_QUEUE_MAX,
					       &c->stall_queue);
			break;
		case OPT_SLOW_FRAC:
			rc = gsp_sim_parse_f(optarg, "--slow-frac", 0, 1,
					     &c->slow_frac);
			break;
		case OPT_SLOW_MS:
			rc = gsp_sim_parse_f(optarg, "--slow-ms", 0, 10000,
					     &c->slow_ms);
			break;
		case OPT_LATENCY:
			rc = gsp_sim_parse_u32(optarg, "--latency-us", 0,
					       10000000, &c->latency_us);
			break;
		case OPT_JITTER:
			rc = gsp_sim_parse_u32(optarg, "--jitter-us", 0,
					       10000000, &c->jitter_us);
			break;
		case OPT_MAX_ROUNDS:
			rc = gsp_sim_parse_u32(optarg, "--max-rounds", 1,
					       1000000, &c->max_rounds);
			break;
		case OPT_JSON:
			c->json_path = optarg;
			break;
		case OPT_MEASURE:
			rc = gsp_sim_parse_u32(optarg, "--measure-rounds", 1,
					       1000000, &c->measure_rounds);
			break;
		case OPT_SETTLE:
			rc = gsp_sim_parse_u32(optarg, "--settle-rounds", 0,
					       1000000, &c->settle_rounds);
			break;
		case OPT_PARTITION:
			rc = gsp_sim_parse_f(optarg, "--partition-s", 0.001,
					     86400, &c->partition_s);
			break;
		case OPT_PAYLOAD:
			rc = gsp_sim_parse_u32(optarg, "--max-payload",
					       GSP_WIRE_MIN_PAYLOAD, 65507,
					       &payload);
			break;
		case OPT_CAPACITY:
			rc = gsp_sim_parse_u32(optarg, "--capacity", 2,
					       GSP_SIM_NODES_MAX * 2,
					       &c->capacity);
			break;
		case OPT_INFLIGHT:
			rc = gsp_sim_parse_u32(optarg, "--max-inflight", 1,
					       1u << 26, &c->max_inflight);
			break;
		case OPT_WALL:
			rc = gsp_sim_parse_f(optarg, "--max-wall-s", 0, 1e7,
					     &c->max_wall_s);
			break;
		case OPT_SYN_PACKETS:
			rc = gsp_sim_parse_u32(optarg, "--syn-packets", 0,
					       GSP_MAX(SYN_PACKETS), &c->syn_packets);
			break;
		case OPT_ACK_STATES:
			rc = gsp_sim_parse_u32(optarg, "--ack-states", 0,
					       GSP_MAX(ACK_STATES), &c->ack_states);
			break;
		case OPT_NO_MEM:
			c->no_mem_check = true;
			break;
		case OPT_QUIET:
			c->quiet = true;
			break;
		case OPT_HELP:
			gsp_sim_usage(stdout);
			exit(0);
		default:
			gsp_sim_usage(stderr);
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	if (optind != argc || !have_scenario) {
		gsp_sim_usage(stderr);
		return -1;
	}
	c->max_payload = (uint16_t)payload;
	if (c->capacity == 0)
		c->capacity = c->n_nodes;
	if (c->n_seeds > c->n_nodes)
		c->n_seeds = c->n_nodes;
	if ((c->scenario_mask & (1u << GSP_SCN_DETECT |
				 1u << GSP_SCN_STALL)) &&
	    c->n_nodes <= c->n_seeds) {
		fprintf(stderr, "gossip-sim: detect and stall need more nodes "
			"than seeds\n");
		return -1;
	}
	return 0;
}
