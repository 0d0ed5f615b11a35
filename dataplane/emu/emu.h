/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Emulation mode beyond gossipd.h (docs/EMULATION.md): the options that
 * only the emulation takes, the hook that writes them into every vnode's
 * core parameters, and the switch's fault injection and port pause.
 */
#ifndef GSP_EMU_H
#define GSP_EMU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gsp_core.h"
#include "gsp_fault.h"

struct gsp_dp;
struct gsp_lcore_conf;
struct gsp_switch;
struct gsp_vnode;

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
	double settle_s;		/* stall: watched after recovery (2) */
	double duration_s;		/* --duration-s: fp/steady window */
};

#define GSP_EMU_CRASH_MAX 16		/* --crash: subjects tracked per vnode */

/* emu_opts.c */
/* Takes the emulation-only options out of argv (after "--"), before
 * main's own parser sees it; 0, or -1 after a message (exit 2). */
int gsp_emu_take_args(int *argc, char **argv);
void gsp_emu_usage(FILE *f);
const struct gsp_emu_xopts *gsp_emu_xopts(void);

/* switch.c */
int gsp_switch_set_fault(struct gsp_switch *sw, const struct gsp_fault_cfg *f);
/* Releases delayed frames that are due, from this lcore's delay queue. */
void gsp_switch_poll(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
		     uint64_t now_ns);
/* A paused port queues frames in the vnode's ring without waking its
 * lcore (a stopped process); unpausing wakes it. */
void gsp_switch_pause(struct gsp_switch *sw, struct gsp_vnode *vn, bool on);

/* Fault and pause counters, summed over the lcores. */
struct gsp_switch_fstats {
	uint64_t fault[GSP_FAULT_C_MAX];
	uint64_t paused_dropped;	/* a paused port's full ring */
	uint64_t delay_late_max_ns;	/* worst release after the due time */
	uint64_t delay_late_sum_ns;
	uint64_t delay_released;
	uint64_t delay_queued_max;	/* high-water mark of one queue */
};
void gsp_switch_fstats(const struct gsp_switch *sw,
		       struct gsp_switch_fstats *out);

#endif /* GSP_EMU_H */
