/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulation's own options (docs/EMULATION.md): faults in the switch,
 * the failure detector's knobs and the scenarios' lengths. They are taken
 * out of the arguments after "--" before main.c's parser runs, so that
 * parser keeps only the options every mode shares.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "gsp_util.h"

#define GSP_EMU_MS_MAX 60000.0

static struct gsp_emu_xopts gsp_emu_x = {
	.crash = 1,
	.stall_s = 5,
	.settle_s = -1,		/* the scenario's: stall 2, steady 0 */
};

const struct gsp_emu_xopts *
gsp_emu_xopts(void)
{
	return &gsp_emu_x;
}

enum gsp_emu_xkind { X_MS, X_U32, X_SECONDS, X_FAULT, X_DETECTOR, X_FLAG };

static const struct {
	const char *name;
	enum gsp_emu_xkind kind;
	size_t off;
	double min, max;
} gsp_emu_xtab[] = {
#define X(n, k, f, lo, hi) { n, k, offsetof(struct gsp_emu_xopts, f), lo, hi }
	X("fault", X_FAULT, fault, 0, 0),
	X("detector", X_DETECTOR, detector, 0, 0),
	X("gossip-interval-ms", X_U32, gossip_interval_ms, 1, GSP_EMU_MS_MAX),
	X("probe-interval-ms", X_MS, probe_interval_ms, 0.1, GSP_EMU_MS_MAX),
	X("probe-timeout-ms", X_MS, probe_timeout_ms, 0.05, GSP_EMU_MS_MAX),
	X("indirect-probes", X_U32, indirect_probes, 1, 16),
	X("suspicion-mult", X_U32, suspicion_mult, 1, 100),
	X("suspicion-max-mult", X_U32, suspicion_max_mult, 1, 100),
	X("crash", X_U32, crash, 1, GSP_EMU_CRASH_MAX),
	X("stall-s", X_SECONDS, stall_s, 0.01, 3600),
	X("settle-s", X_SECONDS, settle_s, 0, 3600),
	X("duration-s", X_SECONDS, duration_s, 0.1, 86400),
	X("vnode-base", X_U32, vnode_base, 0, GSP_EMU_CLUSTER_MAX - 1),
	X("cluster-size", X_U32, cluster_size, 1, GSP_EMU_CLUSTER_MAX),
	X("uplink", X_FLAG, uplink, 0, 0),
#undef X
};

/* main.c's options that take a value: their values are not options. */
static const char *const gsp_emu_main_valued[] = {
	"--config", "-c", "--emulate", "--seeds", "--interval-ms",
	"--scenario", "--json", "--max-seconds", "--duration", "--seed",
	"--loss",
};

static bool
gsp_emu_main_takes_value(const char *a)
{
	for (size_t i = 0; i < sizeof(gsp_emu_main_valued) /
	     sizeof(gsp_emu_main_valued[0]); i++)
		if (strcmp(a, gsp_emu_main_valued[i]) == 0)
			return true;
	return false;
}

static int
gsp_emu_xset(size_t k, const char *v)
{
	void *field = (uint8_t *)&gsp_emu_x + gsp_emu_xtab[k].off;
	const char *name = gsp_emu_xtab[k].name;
	double lo = gsp_emu_xtab[k].min, hi = gsp_emu_xtab[k].max;
	char err[160];
	uint64_t u;

	switch (gsp_emu_xtab[k].kind) {
	case X_FAULT:
		if (gsp_fault_parse(&gsp_emu_x.fault, v, err, sizeof(err)) != 0) {
			fprintf(stderr, "gossipd: --fault '%s': %s\n", v, err);
			return -1;
		}
		gsp_emu_x.fault_set = true;
		return 0;
	case X_DETECTOR: {
		const char *why;

		if (gsp_detector_parse(v, field, &why) != 0) {
			fprintf(stderr, "gossipd: --detector '%s': %s\n", v,
				why);
			return -1;
		}
		return 0;
	}
	case X_FLAG:
		*(uint32_t *)field = 1;
		return 0;
	case X_U32:
		if (gsp_parse_u64(v, (uint64_t)lo, (uint64_t)hi, &u) != 0) {
			fprintf(stderr, "gossipd: --%s %s: expected an integer "
				"in %.0f..%.0f\n", name, v, lo, hi);
			return -1;
		}
		*(uint32_t *)field = (uint32_t)u;
		return 0;
	case X_MS:
	case X_SECONDS:
		if (gsp_parse_double(v, lo, hi, field) != 0) {
			fprintf(stderr, "gossipd: --%s %s: expected a number in "
				"%g..%g\n", name, v, lo, hi);
			return -1;
		}
		return 0;
	}
	return -1;
}

int
gsp_emu_take_args(int *argc, char **argv)
{
	const char *first = NULL;
	bool emulate = false, loss = false;
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t k, len;

		if (strcmp(a, "--emulate") == 0 ||
		    strncmp(a, "--emulate=", 10) == 0)
			emulate = true;
		if (strncmp(a, "--loss=", 7) == 0)
			loss = strtod(a + 7, NULL) > 0;
		if (gsp_emu_main_takes_value(a) && i + 1 < *argc) {
			if (strcmp(a, "--loss") == 0)
				loss = strtod(argv[i + 1], NULL) > 0;
			argv[out++] = argv[i++];
			argv[out++] = argv[i];
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			argv[out++] = argv[i];
			continue;
		}
		len = strcspn(a + 2, "=");
		for (k = 0; k < sizeof(gsp_emu_xtab) / sizeof(gsp_emu_xtab[0]);
		     k++)
			if (strlen(gsp_emu_xtab[k].name) == len &&
			    strncmp(a + 2, gsp_emu_xtab[k].name, len) == 0)
				break;
		if (k == sizeof(gsp_emu_xtab) / sizeof(gsp_emu_xtab[0])) {
			argv[out++] = argv[i];	/* main.c's */
			continue;
		}
		if (gsp_emu_xtab[k].kind == X_FLAG) {
			if (a[2 + len] == '=') {
				fprintf(stderr, "gossipd: --%s takes no "
					"value\n", gsp_emu_xtab[k].name);
				return -1;
			}
			v = "";
		} else if (a[2 + len] == '=') {
			v = a + 3 + len;
		} else if (i + 1 < *argc) {
			v = argv[++i];
		}
		if (v == NULL) {
			fprintf(stderr, "gossipd: %s needs a value\n", a);
			return -1;
		}
		if (gsp_emu_xset(k, v) != 0)
			return -1;
		if (first == NULL)
			first = gsp_emu_xtab[k].name;
	}
	if (first != NULL && !emulate) {
		fprintf(stderr, "gossipd: --%s needs --emulate N\n", first);
		return -1;
	}
	if (gsp_emu_x.probe_timeout_ms > 0 && gsp_emu_x.probe_interval_ms > 0 &&
	    gsp_emu_x.probe_timeout_ms >= gsp_emu_x.probe_interval_ms) {
		fprintf(stderr, "gossipd: --probe-timeout-ms must be below "
			"--probe-interval-ms\n");
		return -1;
	}
	/* --loss P is drop=P: two drops would be ambiguous */
	if (loss && gsp_emu_x.fault.drop > 0) {
		fprintf(stderr, "gossipd: --loss and --fault drop= both set; "
			"give one\n");
		return -1;
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

uint32_t
gsp_emu_cluster_size(uint32_t nodes)
{
	if (gsp_emu_x.cluster_size != 0)
		return gsp_emu_x.cluster_size;
	return gsp_emu_x.vnode_base + nodes;
}

int
gsp_emu_check_opts(uint32_t nodes, uint32_t seeds)
{
	uint64_t end = (uint64_t)gsp_emu_x.vnode_base + nodes;
	uint32_t cluster = gsp_emu_cluster_size(nodes);

	if (end > GSP_EMU_CLUSTER_MAX) {
		fprintf(stderr, "gossipd: --vnode-base %u + --emulate %u "
			"passes the last vnode of a cluster (%u)\n",
			gsp_emu_x.vnode_base, nodes, GSP_EMU_CLUSTER_MAX);
		return -1;
	}
	if (end > cluster) {
		fprintf(stderr, "gossipd: --vnode-base %u + --emulate %u = "
			"%" PRIu64 " vnodes: more than --cluster-size %u\n",
			gsp_emu_x.vnode_base, nodes, end, cluster);
		return -1;
	}
	if (cluster > nodes && !gsp_emu_x.uplink) {
		fprintf(stderr, "gossipd: --cluster-size %u with %u vnodes "
			"here: the other %u live in other processes, reached "
			"through --uplink (and a port: --vdev before --)\n",
			cluster, nodes, cluster - nodes);
		return -1;
	}
	if (seeds > cluster) {
		fprintf(stderr, "gossipd: --seeds %u is more than the %u "
			"vnodes of the cluster\n", seeds, cluster);
		return -1;
	}
	return 0;
}

void
gsp_emu_usage(FILE *f)
{
	fprintf(f,
		"  --scenario NAME    also stall|fp (see docs/EMULATION.md)\n"
		"  --fault SPEC       faults on every frame the switch forwards:\n"
		"                     drop=P dup=P reorder=P delay=D jitter=D\n"
		"                     block=IP[:in|:out]; --loss P = drop=P\n"
		"  --detector LIST    phi|swim|indirect|lifeguard, comma-separated,\n"
		"                     or all (default: [detector] of --config)\n"
		"  --gossip-interval-ms MS  gossip interval (= --interval-ms)\n"
		"  --probe-interval-ms MS   SWIM probe period\n"
		"  --probe-timeout-ms MS    SWIM direct ack wait\n"
		"  --indirect-probes K      helpers asked after a missed ack\n"
		"  --suspicion-mult M       SWIM suspicion timeout multiplier\n"
		"  --suspicion-max-mult M   Lifeguard: max / min suspicion timeout\n"
		"  --crash K          detect: crash K vnodes at once (1)\n"
		"  --stall-s S        stall: the vnode stops for S seconds (5)\n"
		"  --settle-s S       stall: watched after it is alive again (2);\n"
		"                     steady, detect: quiet before the window\n"
		"                     or the crash (0)\n"
		"  --duration-s S     fp, steady: measured window (= --duration)\n"
		"One cluster over several processes (docs/EMULATION.md):\n"
		"  --uplink           join the switch to the other processes'\n"
		"                     through the ethdev port ([dataplane] port,\n"
		"                     0: the first --vdev, e.g. net_memif)\n"
		"  --vnode-base K     this process hosts node<K+1>..node<K+N> (0)\n"
		"  --cluster-size C   vnodes of all processes (K + N); the join's\n"
		"                     goal, and the seeds are node1..node<S>\n");
}
