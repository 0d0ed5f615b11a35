/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a scenario watches at every node, the same for the simulator and
 * the emulation: the phase's goal (every member listed, a split seen, an
 * app-state change seen, the subjects marked down), when each node first
 * met it and when all did at once, the subjects as each observer sees
 * them, the cluster sizes the join went through, and the accusations of
 * live members (gsp_fp.h).
 *
 * A host calls the three hooks where the node runs: after its round
 * (gsp_watch_round), on its core's events (gsp_watch_event) and after it
 * took packets that may carry member states (gsp_watch_informed). In the
 * emulation they run on the lcore that owns the node, so a node's entry
 * has one writer; counts are atomics and the scenario thread reads. The
 * simulator calls them from its event loop, at the same points as the
 * emulation, and stops a phase the instant gsp_watch_done() turns true.
 */
#ifndef GSP_WATCH_H
#define GSP_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gsp_core.h"
#include "gsp_fp.h"
#include "gsp_harness.h"

#define GSP_WATCH_SUBJECTS_MAX 16	/* crashed or stalled nodes tracked */

enum gsp_goal {
	GSP_GOAL_NONE,
	GSP_GOAL_LISTED,	/* every node listed alive or suspect: a join */
	GSP_GOAL_SPLIT,		/* own side listed, the other down: a partition */
	GSP_GOAL_INFORMED,	/* the origin's app-state change seen */
	GSP_GOAL_DETECTED,	/* every subject marked down */
	GSP_GOAL_ALIVE,		/* every node lists every member alive */
};

/* One node, written by the thread that runs it; a cache line or more
 * apart from its neighbours, which other lcores own. */
struct gsp_watch_node {
	uint64_t reached_ns;		/* this phase's goal first met; 0: not */
	uint64_t reached_rounds;	/* its round counter then */
	uint64_t suspect_ns[GSP_WATCH_SUBJECTS_MAX];	/* first suspect/down */
	uint64_t down_ns[GSP_WATCH_SUBJECTS_MAX];	/* first down */
	uint8_t bad[GSP_WATCH_SUBJECTS_MAX];	/* subject accused here now */
	uint8_t is_down[GSP_WATCH_SUBJECTS_MAX];
	uint32_t origin_slot;		/* the origin in its table; ~0: unknown */
	uint32_t last_listed;
	uint8_t ok;			/* meets the goal now */
	uint8_t up;			/* runs and is no subject: counted */
	uint8_t side;			/* partition side */
} __attribute__((aligned(64)));

struct gsp_watch {
	const struct gsp_harness_host *host;
	uint32_t n;
	uint32_t members;		/* the join's goal: the cluster */
	struct gsp_watch_node *node;
	struct gsp_ids ids;		/* member id -> node */
	uint32_t goal;			/* enum gsp_goal (atomic) */
	uint32_t n_ok, n_up;		/* (atomic) */
	uint64_t phase_ns;
	uint64_t done_ns;		/* all up nodes met the goal at once */
	bool split;			/* sides set: across them, down is due */
	uint32_t side_size[2];
	/* the join's alive counts, one bit each */
	uint64_t *sizes;
	/* subjects: crashed or stalled; before their t0 they are live */
	uint32_t n_subj;		/* (release, after the arrays) */
	uint32_t subj[GSP_WATCH_SUBJECTS_MAX];
	uint64_t subj_t0[GSP_WATCH_SUBJECTS_MAX];	/* (atomic) 0: live */
	uint32_t n_bad[GSP_WATCH_SUBJECTS_MAX];	/* observers accusing now */
	uint32_t n_down[GSP_WATCH_SUBJECTS_MAX];
	uint64_t down_all_ns[GSP_WATCH_SUBJECTS_MAX];	/* every observer */
	uint64_t resumed_ns;		/* the stalled subject 0 runs again */
	uint64_t alive_again_ns;	/* ... and no observer accuses it */
	uint64_t late_marks;		/* accusations of it after the resume */
	/* the app-state change */
	uint64_t origin_id;
	char app_key[GSP_APP_KEY_MAX];
	char app_value[GSP_APP_VALUE_MAX];
	/* accusations of live members: during the join, in the window, and
	 * the stalled subject's own once it runs again */
	bool in_window;
	struct gsp_fp fp_join, fp, fp_resumed;
};

/* Every node up, none a subject; the ids are the nodes' member ids.
 * 0, -ENOMEM or -EEXIST (two nodes share an id). */
int gsp_watch_init(struct gsp_watch *w, const struct gsp_harness_host *host,
		   const uint64_t *ids);
void gsp_watch_free(struct gsp_watch *w);
/* bytes gsp_watch_init takes for n nodes, for a memory estimate */
size_t gsp_watch_bytes(uint32_t n);

/* A new phase and its goal from now on: every node's first time is
 * forgotten and the nodes that meet it already (from their counters)
 * count at once. GSP_GOAL_SPLIT needs gsp_watch_sides first. */
void gsp_watch_phase(struct gsp_watch *w, enum gsp_goal goal, uint64_t now);
/* All up nodes meet the goal (and when: w->done_ns). */
bool gsp_watch_done(const struct gsp_watch *w);
/* Up nodes that meet the goal now / are counted. */
uint32_t gsp_watch_ok(const struct gsp_watch *w);
uint32_t gsp_watch_up(const struct gsp_watch *w);

/* A node stopped or runs again (a crash, a restart): counted or not. */
void gsp_watch_set_up(struct gsp_watch *w, uint32_t i, bool up);
/* Partition sides (0 or 1 each) for GSP_GOAL_SPLIT, and accusations
 * across them are no false positives; NULL: one side again. */
void gsp_watch_sides(struct gsp_watch *w, const uint8_t *side);

/* The subjects (up to GSP_WATCH_SUBJECTS_MAX), declared before they go
 * down; each is live until gsp_watch_subject_down. The previous ones
 * count as up again (none: no subject). */
void gsp_watch_subjects(struct gsp_watch *w, const uint32_t *idx, uint32_t n);
void gsp_watch_subject_down(struct gsp_watch *w, uint32_t k, uint64_t now);
/* The subject number of node i, or UINT32_MAX. */
uint32_t gsp_watch_subject_of(const struct gsp_watch *w, uint32_t i);
/* What observer i listed for subject k when it was declared (a lossy
 * network may have it accused already), where the host can read it. */
void gsp_watch_subject_view(struct gsp_watch *w, uint32_t i, uint32_t k,
			    uint8_t state);
/* The stalled subject 0 runs again: its own accusations count apart. */
void gsp_watch_resumed(struct gsp_watch *w, uint64_t now);
/* Every observer accuses subject k now. */
bool gsp_watch_all_accuse(const struct gsp_watch *w, uint32_t k);

/* The change to look for: KEY=VALUE at the node with this member id. */
void gsp_watch_app(struct gsp_watch *w, uint64_t origin_id, const char *key,
		   const char *value);
/* Accusations count in the window from now (false: the join's); reset
 * forgets the window's (one thread only: the simulator). */
void gsp_watch_window(struct gsp_watch *w, uint64_t now, bool reset);

/* Whether gsp_watch_round needs a node's counters after its rounds now
 * (a goal counted from them, or the join's sizes): none in a window. */
bool gsp_watch_wants_rounds(const struct gsp_watch *w);

/* ---- hooks, by the thread that runs node i ---- */
/* After a round; its counters as the round left them. */
void gsp_watch_round(struct gsp_watch *w, uint32_t i, uint64_t now,
		     const struct gsp_node_counters *c);
/* After packets that may carry member states (GSP_GOAL_INFORMED). */
void gsp_watch_informed(struct gsp_watch *w, uint32_t i, uint64_t now,
			const struct gsp_node *node);
/* The core's event at node i. Returns the member accused falsely (an
 * accusation counted in the join or the window), or UINT32_MAX. */
uint32_t gsp_watch_event(struct gsp_watch *w, uint32_t i,
			 const struct gsp_event *ev, uint64_t now);

/* ---- results ---- */
/* When the nodes first met the phase's goal: [[t_s, fraction of `of`],
 * ...] from t0, at most 200 points; NULL without memory. */
json_t *gsp_watch_curve(const struct gsp_watch *w, uint64_t t0, uint32_t of);
/* Distinct alive counts the nodes reported while sizes were tracked. */
uint32_t gsp_watch_distinct_sizes(const struct gsp_watch *w);
/* Subject k as its observers saw it, in seconds from its t0 (-1: not). */
struct gsp_watch_det {
	uint32_t idx;
	uint32_t observers;
	uint32_t suspected_by, down_by;
	double first_suspect_s, all_suspect_s;
	double first_down_s, all_down_s;
	uint64_t first_suspect_ns, first_down_ns;	/* 0: none */
};
void gsp_watch_detection(const struct gsp_watch *w, uint32_t k,
			 struct gsp_watch_det *d);

#endif /* GSP_WATCH_H */
