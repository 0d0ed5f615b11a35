/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulator as the harness sees a host (harness/gsp_harness.h): its
 * virtual clock, its nodes' counters, the scenario's picks from its
 * seeded stream, and crashes, stops and app-state changes that take
 * effect at once, on the virtual clock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_sim_int.h"

static uint64_t
gsp_sim_host_now(void *ctx)
{
	return ((const struct gsp_sim *)ctx)->now;
}

static uint32_t
gsp_sim_host_n(void *ctx)
{
	return ((const struct gsp_sim *)ctx)->c.n_nodes;
}

static void
gsp_sim_host_counters(void *ctx, uint32_t i, struct gsp_node_counters *c)
{
	gsp_node_counters_read(((const struct gsp_sim *)ctx)->nodes[i].node, c);
}

/* one draw of the scenario stream each: the origin may be any node, a
 * crashed or stopped one is no seed */
static uint32_t
gsp_sim_host_pick(void *ctx, enum gsp_pick what, uint32_t k)
{
	struct gsp_sim *s = ctx;
	uint32_t n = s->c.n_nodes, seeds = s->c.n_seeds;

	(void)k;	/* one subject at a time here */
	if (what == GSP_PICK_ORIGIN)
		return (uint32_t)gsp_sim_rand_below(&s->rng_scn, n);
	return seeds + (uint32_t)gsp_sim_rand_below(&s->rng_scn, n - seeds);
}

static int
gsp_sim_host_set_app(void *ctx, uint32_t i, const char *key,
		     const char *value, uint64_t *t_ns)
{
	struct gsp_sim *s = ctx;
	struct gsp_sim_node *sn = &s->nodes[i];
	int rc = gsp_node_set_app(sn->node, key, value);

	if (rc != 0) {
		fprintf(stderr, "gossip-sim: set_app: %s\n", strerror(-rc));
		return rc;
	}
	gsp_watch_informed(&s->w, i, s->now, sn->node);
	*t_ns = s->now;
	return 0;
}

static int
gsp_sim_host_crash(void *ctx, uint32_t i)
{
	struct gsp_sim *s = ctx;
	uint32_t k = gsp_watch_subject_of(&s->w, i);

	gsp_sim_node_crash(s, i);
	if (k != UINT32_MAX)
		gsp_watch_subject_down(&s->w, k, s->now);
	return 0;
}

/* what each running node lists for node x now: a lossy network may
 * have it accused already (the watch follows from there) */
static void
gsp_sim_subject_views(struct gsp_sim *s, uint32_t x, uint32_t k)
{
	uint8_t state;

	for (uint32_t i = 0; i < s->c.n_nodes; i++)
		if (gsp_sim_lists(s, i, x, &state))
			gsp_watch_subject_view(&s->w, i, k, state);
}

/* a stop holds the packets sent to it, as a NIC ring would */
static int
gsp_sim_host_pause(void *ctx, uint32_t i, bool on)
{
	struct gsp_sim *s = ctx;
	struct gsp_sim_stall *st = &s->stall;
	uint32_t k = gsp_watch_subject_of(&s->w, i);

	if (!on) {
		st->t_resume = s->now;
		st->resumed = true;
		gsp_watch_resumed(&s->w, s->now);
		gsp_sim_node_resume(s, i);
		return 0;
	}
	st->q = calloc(s->c.stall_queue + 1, sizeof(*st->q));
	if (st->q == NULL)
		return -ENOMEM;
	*st = (struct gsp_sim_stall){ .node = i, .q = st->q,
				      .t_pause = s->now };
	if (k != UINT32_MAX) {
		gsp_sim_subject_views(s, i, k);
		gsp_watch_subject_down(&s->w, k, s->now);
	}
	gsp_sim_node_pause(s, i);
	return 0;
}

static bool
gsp_sim_host_run(void *ctx, uint64_t deadline_ns, bool stop)
{
	struct gsp_sim *s = ctx;

	s->stop_on_goal = stop;
	s->stop = false;
	s->stop_t = 0;
	gsp_sim_check_stop(s);
	return s->stop || gsp_sim_run(s, deadline_ns);
}

static bool
gsp_sim_host_halted(void *ctx)
{
	return ((const struct gsp_sim *)ctx)->wall_limited;
}

void
gsp_sim_host_init(struct gsp_sim *s)
{
	s->host = (struct gsp_harness_host){
		.ctx = s,
		.now_ns = gsp_sim_host_now,
		.n_nodes = gsp_sim_host_n,
		.counters = gsp_sim_host_counters,
		.pick = gsp_sim_host_pick,
		.set_app = gsp_sim_host_set_app,
		.crash = gsp_sim_host_crash,
		.pause = gsp_sim_host_pause,
		.resume_early_ns = 0,
		.run = gsp_sim_host_run,
		.halted = gsp_sim_host_halted,
	};
	s->h = (struct gsp_harness){ .host = &s->host, .w = &s->w };
}
