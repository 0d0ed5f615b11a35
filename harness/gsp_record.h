/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A scenario's JSON record, one object on one line, built with jansson by
 * the simulator and the emulation alike: the fields both write are named
 * here once (docs/SIMULATOR.md, docs/EMULATION.md list them).
 */
#ifndef GSP_RECORD_H
#define GSP_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "gsp_core.h"
#include "gsp_fp.h"

/* {"mode": mode, "scenario": scenario}, or NULL without memory */
json_t *gsp_record_new(const char *mode, const char *scenario);
void gsp_record_str(json_t *r, const char *key, const char *v);
void gsp_record_u64(json_t *r, const char *key, uint64_t v);
void gsp_record_bool(json_t *r, const char *key, bool v);
/* null when not finite */
void gsp_record_num(json_t *r, const char *key, double v);
/* null unless ok */
void gsp_record_num_if(json_t *r, const char *key, double v, bool ok);

/* "detector" (the set in force, named once for both hosts) and
 * "detector_bits"; 0 is the core's default set */
void gsp_record_detector(json_t *r, uint32_t bits);

/* An informed curve, [[t_s, fraction], ...], from per-node times in ns
 * (0: never; t0 and before: at 0): [0, 0], then the sorted times as
 * fractions of `of`, thinned to at most max_points. Sorts t in place;
 * NULL without memory. */
json_t *gsp_record_curve_array(uint64_t *t, uint32_t n, uint64_t t0_ns,
			       uint32_t of, uint32_t max_points);

/* The core's detector counters (probes, suspicions, ...) by name, at
 * the record's top level: over the scenario. */
void gsp_record_detector_counters(json_t *r,
				  const struct gsp_node_counters *sum);
/* key: {every counting counter of the core by its name (gsp_counters.h),
 * "rx_drop": all drops}: over the whole run */
void gsp_record_core(json_t *r, const char *key,
		     const struct gsp_node_counters *sum);

/* "false_positives" (distinct pairs accused; null when not kept) and
 * "fp": {suspect_transitions, down_transitions, suspect_pairs (accused
 * but never down), down_pairs, pairs, pair_s, open_peak, open_end} */
void gsp_record_fp(json_t *r, const struct gsp_fp_sum *s);
/* key: pairs accused, null when not kept (the join's, the resumed
 * node's) */
void gsp_record_fp_pairs(json_t *r, const char *key,
			 const struct gsp_fp_sum *s);

/* A stalled node's own accusations once it ran again: resumed_suspect,
 * resumed_down (transitions), resumed_members (distinct), and
 * resumed_accused_s (member x seconds) */
void gsp_record_resumed(json_t *r, const struct gsp_fp_sum *s);

/* The subjects of a detect or stall as their observers saw them:
 * "subjects": [{node, observers, suspected_by, down_by, first_suspect_s,
 * all_suspect_s, first_down_s, all_down_s}], and over all of them the
 * first of the firsts and the last of the alls: first_suspect_s,
 * all_suspect_s, first_detect_s, all_detect_s (null: not reached). */
struct gsp_watch_det;
void gsp_record_detection(json_t *r, const struct gsp_watch_det *det,
			  uint32_t n);

/* Traffic and CPU per node over a window, the same fields for both. */
struct gsp_traffic {
	double window_s;		/* virtual (sim) or wall (emu) */
	uint32_t nodes;
	/* sums over the nodes, and the largest one node had */
	uint64_t tx_pkts, rx_pkts, tx_bytes, rx_bytes;
	uint64_t tx_pkts_max, rx_pkts_max, tx_bytes_max, rx_bytes_max;
	double cpu_s;			/* process CPU over the window */
};
/* window_s, {tx,rx}_{pps,Bps}_{mean,max}, cpu_us_per_node_s */
void gsp_record_traffic(json_t *r, const struct gsp_traffic *t);

/* Appends the record as one line to path (NULL: none) in one write, so
 * concurrent appenders do not interleave, and to stdout when echo is set;
 * takes the reference. 0 or a negative errno. */
int gsp_record_write(json_t *r, const char *path, bool echo);

#endif /* GSP_RECORD_H */
