/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scenarios, written once against the host interface
 * (gsp_harness.h) and the watch (gsp_watch.h): each picks its subjects,
 * acts on the cluster through the host, lets it run until the watch's
 * goal or a time, and reads what the watch saw. The simulator and the
 * emulation run them alike; what only one of them measures (the
 * simulator's rejoin after a crash and its partitions and slow nodes, the
 * emulation's timer lateness and switch) stays with that host.
 */
#ifndef GSP_SCENARIO_H
#define GSP_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "gsp_harness.h"
#include "gsp_watch.h"

/* A host and the watch of its nodes. */
struct gsp_harness {
	const struct gsp_harness_host *host;
	struct gsp_watch *w;
};

/* What a scenario found; times in ns of the host's clock, 0: never. */
struct gsp_scn_result {
	bool ok;			/* the goal was reached */
	const char *why;		/* when not: what failed */
	uint64_t t_start, t_end;	/* the measured interval */
	json_t *curve;			/* when the nodes met the goal; owned */
	/* join */
	uint64_t join_rounds;		/* the most rounds a node needed */
	uint32_t distinct_sizes;
	struct gsp_fp_sum join_fp;	/* accusations during the join */
	/* disseminate */
	uint32_t origin;
	/* detect, stall: each subject as its observers saw it */
	uint32_t n_det;
	struct gsp_watch_det det[GSP_WATCH_SUBJECTS_MAX];
	/* stall */
	uint32_t stalled;
	uint64_t t_pause, t_resume, alive_again_t;
	uint32_t down_at_resume;
	struct gsp_fp_sum resumed;	/* its own accusations after */
};

/* Every node lists every member (the watch's goal is set, or set now,
 * before the nodes' first rounds); until the deadline. */
void gsp_scn_join(const struct gsp_harness *h, uint64_t t0, uint64_t deadline,
		  struct gsp_scn_result *r);
/* KEY=VALUE at a node the host picks (GSP_PICK_ORIGIN), until every
 * node holds it. */
void gsp_scn_disseminate(const struct gsp_harness *h, const char *key,
			 const char *value, uint64_t deadline,
			 struct gsp_scn_result *r);
/* k nodes the host picks crash (GSP_PICK_CRASH), until every other
 * node marks them all down. */
void gsp_scn_detect(const struct gsp_harness *h, uint32_t k, uint64_t deadline,
		    struct gsp_scn_result *r);
/* A node the host picks (GSP_PICK_STALL) stops for stall_ns, then runs
 * again; watched for after_ns more. ok: no live node accuses it then. */
void gsp_scn_stall(const struct gsp_harness *h, uint64_t stall_ns,
		   uint64_t after_ns, struct gsp_scn_result *r);
/* Nothing happens for duration_ns: what is measured is the cost and the
 * accusations (steady, fp). */
void gsp_scn_window(const struct gsp_harness *h, uint64_t duration_ns,
		    struct gsp_scn_result *r);

#endif /* GSP_SCENARIO_H */
