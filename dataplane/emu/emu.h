/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Emulation mode beyond gossipd.h (docs/EMULATION.md): the options that
 * only the emulation takes and the hook that writes them into every
 * vnode's core parameters. The switch it builds on is the node's
 * (port_switch.h).
 */
#ifndef GSP_EMU_H
#define GSP_EMU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gsp_core.h"
#include "gsp_fault.h"
#include "port_switch.h"

/* Emulation options parsed by emu_opts.c (main.c parses the older ones
 * into struct gsp_emu_opts). Zero means "the default" throughout. */
struct gsp_emu_xopts {
	struct gsp_fault_cfg fault;	/* --fault, applied in order */
	bool fault_set;
	uint32_t detector;		/* --detector: GSP_DETECT_* bits */
	uint32_t gossip_interval_ms;	/* --gossip-interval-ms */
	double probe_interval_ms;	/* --probe-interval-ms */
	double probe_timeout_ms;	/* --probe-timeout-ms */
	uint32_t indirect_probes;	/* --indirect-probes */
	uint32_t suspicion_mult;	/* --suspicion-mult */
	uint32_t suspicion_max_mult;	/* --suspicion-max-mult */
	uint32_t crash;			/* detect: vnodes crashed (1) */
	double stall_s;			/* stall: length of the stop (5) */
	double settle_s;		/* stall: watched after recovery (2);
					 * steady: before the window (0);
					 * < 0: that default */
	double duration_s;		/* --duration-s: fp/steady window */
	/* one cluster over several processes (docs/EMULATION.md) */
	uint32_t vnode_base;		/* --vnode-base: first vnode index */
	uint32_t cluster_size;		/* --cluster-size: all processes' */
	uint32_t uplink;		/* --uplink: 1, the ethdev port joins */
};

/* The cluster's addresses: vnode k (0-based, over all processes) is at
 * 10.99.0.0 + k + 1, in 10.99.0.0/16 up to 65,534 vnodes, else in
 * 10.96.0.0/12 (up to 10.111.255.254). */
#define GSP_EMU_CLUSTER_MAX (0x0a6ffffeu - 0x0a630000u)

#define GSP_EMU_CRASH_MAX 16		/* --crash: subjects tracked per vnode */

/* emu_opts.c */
/* Takes the emulation-only options out of argv (after "--"), before
 * main's own parser sees it; 0, or -1 after a message (exit 2). */
int gsp_emu_take_args(int *argc, char **argv);
void gsp_emu_usage(FILE *f);
/* The cluster's size with nodes vnodes here: --cluster-size, or --vnode-
 * base + nodes. */
uint32_t gsp_emu_cluster_size(uint32_t nodes);
/* Checks the options across each other once main.c parsed its own (nodes:
 * --emulate, seeds: --seeds); 0, or -1 after a message (exit 2). */
int gsp_emu_check_opts(uint32_t nodes, uint32_t seeds);
const struct gsp_emu_xopts *gsp_emu_xopts(void);

#endif /* GSP_EMU_H */
