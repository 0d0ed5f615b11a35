/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulator's side of the harness's watch (harness/gsp_watch.h): a
 * phase and its stop, and the core's event seam (gsp_io_event). What a
 * phase waits for, the subjects as others see them and the accusations
 * of live members are the harness's, the same as in the emulation; the
 * event loop calls its hooks where the emulation's lcores do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_sim_int.h"

/* the harness's watch, over the nodes' member ids (FNV-1a of the
 * names, as in gossipd) */
int
gsp_sim_watch_init(struct gsp_sim *s)
{
	uint32_t n = s->c.n_nodes;
	uint64_t *ids = malloc(sizeof(*ids) * (n ? n : 1));
	int ret;

	if (ids == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		ids[i] = s->nodes[i].id;
	ret = gsp_watch_init(&s->w, &s->host, ids);
	if (ret != 0)
		fprintf(stderr, "gossip-sim: %s\n", ret == -EEXIST ?
			"node id collision" : "out of memory");
	free(ids);
	return ret;
}

void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	struct gsp_sim_node *sn = io_ctx;
	struct gsp_sim *s;
	uint32_t m;

	if (sn == NULL)
		return;
	s = sn->sim;
	m = gsp_watch_event(&s->w, sn->idx, ev, s->now);
	if (m != UINT32_MAX) {
		/* cpuload: who accuses and who is accused */
		s->fp_about_slow += s->nodes[m].slow;
		s->fp_by_slow += sn->slow;
	}
	gsp_sim_check_stop(s);
}

/*
 * Starts a phase at s->now with its goal (harness/gsp_watch.h); with
 * stop, gsp_sim_run returns the instant every counted node meets it.
 */
void
gsp_sim_phase(struct gsp_sim *s, enum gsp_goal goal, bool stop)
{
	s->stop_on_goal = stop;
	s->stop = false;
	s->stop_t = 0;
	gsp_watch_phase(&s->w, goal, s->now);
	gsp_sim_check_stop(s);
}

void
gsp_sim_check_stop(struct gsp_sim *s)
{
	if (s->stop || !s->stop_on_goal || !gsp_watch_done(&s->w))
		return;
	s->stop = true;
	s->stop_t = s->w.done_ns;
}
