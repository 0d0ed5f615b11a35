/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The event loop on the virtual clock (ticks, deliveries) and
 * the nodes' lives: start, crash, restart, pause, resume.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_sim_int.h"

/* ------------------------- nodes: life and death ----------------------- */

int
gsp_sim_node_start(struct gsp_sim *s, uint32_t i, uint64_t generation,
		   uint64_t first_tick)
{
	struct gsp_sim_node *sn = &s->nodes[i];
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	struct gsp_node_params p;
	int err;

	memset(&p, 0, sizeof(p));
	snprintf(p.cluster, sizeof(p.cluster), "sim");
	snprintf(p.name, sizeof(p.name), "n%u", i);
	p.generation = generation;
	p.addr = (struct gsp_addr){ GSP_SIM_IP_BASE + i, GSP_SIM_PORT };
	p.capacity = s->c.capacity;
	p.gossip_interval_ns = s->interval_ns;
	p.fanout = s->c.fanout;
	p.phi_suspect = 5;
	p.phi_convict = 8;
	p.forget_ns = 3600 * NS_PER_S;
	p.max_payload = s->c.max_payload;
	p.leave_rounds = 3;
	p.syn_packets = s->c.syn_packets;
	p.ack_states = s->c.ack_states;
	p.detector = s->c.detector;
	p.probe_interval_ns = s->c.probe_interval_ns;
	p.probe_timeout_ns = s->c.probe_timeout_ns;
	p.indirect_probes = s->c.indirect_probes;
	p.suspicion_mult = s->c.suspicion_mult;
	p.rng_seed = gsp_sim_stream(s->c.seed, 1000 + (uint64_t)i * 65536 +
				    generation);
	p.io_ctx = sn;
	p.unnamed_events = true;	/* the watch reads ids */
	p.keyring = s->keyring;
	p.ids = s->ids;
	sn->sim = s;
	sn->idx = i;
	sn->fault = s->c.fault;
	sn->node = gsp_node_create(&p, &err);
	if (sn->node == NULL) {
		fprintf(stderr, "gossip-sim: node %u: gsp_node_create: %s\n",
			i, strerror(-err));
		return err;
	}
	sn->id = gsp_node_id(sn->node);
	sn->generation = generation;
	for (uint32_t k = 0; k < s->c.n_seeds; k++)
		seeds[k] = (struct gsp_addr){ GSP_SIM_IP_BASE + k,
					      GSP_SIM_PORT };
	gsp_node_set_seeds(sn->node, seeds, s->c.n_seeds);
	sn->up = true;
	s->n_up++;
	if (s->w.node != NULL)	/* a restart; at the cold start, all are */
		gsp_watch_set_up(&s->w, i, true);
	sn->tick_at = first_tick;
	gsp_sim_heap_push(&s->heap, first_tick, GSP_SIM_EV_TICK, i, sn->epoch);
	return 0;
}

/* the process dies: no more ticks, packets to it are dropped */
void
gsp_sim_node_crash(struct gsp_sim *s, uint32_t i)
{
	struct gsp_sim_node *sn = &s->nodes[i];

	if (!sn->up)
		return;
	sn->up = false;
	sn->epoch++;
	gsp_watch_set_up(&s->w, i, false);
	s->n_up--;
}

/* Adds a core's [limits] hits and the datagrams they dropped. */
void
gsp_sim_limits_add(const struct gsp_node *node, uint64_t *hits,
		   uint64_t *rate_limited, uint64_t *over_limit)
{
	struct gsp_node_counters c;

	if (node == NULL)
		return;
	gsp_node_counters_read(node, &c);
	*hits += c.limit_hits;
	*rate_limited += c.rx_drop[GSP_RX_RATE_LIMITED];
	*over_limit += c.rx_drop[GSP_RX_OVER_LIMIT];
}

/* a new process with the same name and a higher generation */
int
gsp_sim_node_restart(struct gsp_sim *s, uint32_t i)
{
	struct gsp_sim_node *sn = &s->nodes[i];
	uint64_t gen = sn->generation + 1;

	gsp_sim_node_crash(s, i);
	gsp_sim_limits_add(sn->node, &s->limit_hits_gone,
			   &s->rate_limited_gone, &s->over_limit_gone);
	gsp_node_destroy(sn->node);
	sn->node = NULL;
	return gsp_sim_node_start(s, i, gen, s->now +
				  gsp_sim_rand_below(&s->rng_sched,
						     s->interval_ns));
}

/* SIGSTOP: its pending round dies (epoch); packets to it queue up */
void
gsp_sim_node_pause(struct gsp_sim *s, uint32_t i)
{
	s->nodes[i].paused = true;
	s->nodes[i].epoch++;
}

/* a packet for a paused node: held like a NIC ring holds it, or dropped */
static void
gsp_sim_stall_hold(struct gsp_sim *s, uint32_t slot)
{
	struct gsp_sim_stall *st = &s->stall;

	if (st->q != NULL && st->q_n < s->c.stall_queue) {
		st->q[st->q_n++] = slot;
		st->held++;
		return;
	}
	st->dropped++;
	gsp_sim_pool_put(s, slot);
}

/*
 * SIGCONT at s->now: as gossipd's loop, one rx burst of what the ring
 * held, then the overdue round, then the rest; all at the same virtual
 * time, in that order (the heap keeps insertion order on ties).
 */
void
gsp_sim_node_resume(struct gsp_sim *s, uint32_t i)
{
	struct gsp_sim_node *sn = &s->nodes[i];
	struct gsp_sim_stall *st = &s->stall;

	sn->paused = false;
	for (uint32_t k = 0; k <= st->q_n; k++) {
		if (k == (st->q_n < GSP_SIM_RX_BURST ? st->q_n :
			  GSP_SIM_RX_BURST)) {
			sn->tick_at = s->now;
			if (!gsp_sim_heap_push(&s->heap, s->now,
					       GSP_SIM_EV_TICK, i, sn->epoch))
				s->heap_drops++;
		}
		if (k < st->q_n &&
		    !gsp_sim_heap_push(&s->heap, s->now, GSP_SIM_EV_DELIVER, i,
				       st->q[k])) {
			gsp_sim_pool_put(s, st->q[k]);
			s->heap_drops++;
		}
	}
	st->q_n = 0;
}

/*
 * A loaded CPU: every event of a slow node (round or packet) runs late by
 * uniform [0, slow_ms], but in order, as a process works through its
 * queue: never before the event ahead of it. Under a steady stream of
 * events the delay is thus near slow_ms; the mean applied is reported.
 */
static bool
gsp_sim_hold(struct gsp_sim *s, const struct gsp_sim_ev *ev)
{
	struct gsp_sim_node *sn = &s->nodes[ev->node];
	uint64_t t = s->now + gsp_sim_rand_below(&s->rng_slow,
		(uint64_t)(s->c.slow_ms * NS_PER_MS) + 1);

	if (t < sn->slow_last)
		t = sn->slow_last;
	if (!gsp_sim_heap_push(&s->heap, t, ev->kind | GSP_SIM_EV_HELD,
			       ev->node, ev->arg))
		return false;
	sn->slow_last = t;
	s->held_events++;
	s->held_ns += t - s->now;
	return true;
}

/* ---------------------------- event loop ------------------------------ */

static void
gsp_sim_on_tick(struct gsp_sim *s, const struct gsp_sim_ev *ev)
{
	struct gsp_sim_node *sn = &s->nodes[ev->node];
	struct gsp_node_counters c;
	uint64_t next, t;

	if (!sn->up || ev->arg != sn->epoch)
		return;		/* scheduled before a crash */
	t = gsp_sim_mono_ns();
	next = gsp_node_tick(sn->node, s->now);
	s->core_ns += gsp_sim_mono_ns() - t;
	if (next <= s->now)
		next = s->now + 1;
	sn->tick_at = next;
	if (!gsp_sim_heap_push(&s->heap, next, GSP_SIM_EV_TICK, ev->node,
			       sn->epoch))
		s->heap_drops++;
	if (!gsp_watch_wants_rounds(&s->w))
		return;
	gsp_node_counters_read(sn->node, &c);
	gsp_watch_round(&s->w, ev->node, s->now, &c);
	gsp_sim_check_stop(s);
}

/*
 * A packet set a deadline earlier than the one the last tick returned (a
 * helper's NACK timer, a suspicion learned from a claim): move the node's
 * tick forward, as gossipd's timer heap does; the later one dies by its
 * token.
 */
static void
gsp_sim_rx_deadline(struct gsp_sim *s, struct gsp_sim_node *sn,
		    uint64_t next)
{
	if (next <= s->now)
		next = s->now + 1;
	if (next >= sn->tick_at)	/* UINT64_MAX: nothing new */
		return;
	/* heap full: the pending (later) tick stays valid */
	if (!gsp_sim_heap_push(&s->heap, next, GSP_SIM_EV_TICK, sn->idx,
			       sn->epoch + 1))
		return;
	sn->epoch++;
	sn->tick_at = next;
	s->early_ticks++;
}

static void
gsp_sim_on_deliver(struct gsp_sim *s, const struct gsp_sim_ev *ev)
{
	struct gsp_sim_node *sn = &s->nodes[ev->node];
	struct gsp_sim_pkt *p = &s->pkts[ev->arg];
	struct gsp_addr src = { GSP_SIM_IP_BASE + p->src, GSP_SIM_PORT };
	uint64_t t, next;

	if (!sn->up) {
		s->dead_drops++;
		gsp_sim_pool_put(s, ev->arg);
		return;
	}
	if (sn->paused) {
		gsp_sim_stall_hold(s, ev->arg);
		return;
	}
	/* the receiver's blocks (its own fault config) */
	if (sn->fault.n_block != 0 &&
	    gsp_fault_in(&sn->fault, src.ip, s->fault_ctr)) {
		gsp_sim_pool_put(s, ev->arg);
		return;
	}
	s->pkts_delivered++;
	sn->rx_pkts++;
	sn->rx_bytes += p->len;
	t = gsp_sim_mono_ns();
	gsp_node_rx(sn->node, &src, p->data, p->len, s->now, &next);
	s->core_ns += gsp_sim_mono_ns() - t;
	gsp_sim_rx_deadline(s, sn, next);
	/* only ACK, ACK2 and LEAVE carry member states */
	if (s->w.goal == GSP_GOAL_INFORMED && p->len > GSP_HDR_OFF_TYPE &&
	    p->data[GSP_HDR_OFF_TYPE] != GSP_MSG_SYN) {
		gsp_watch_informed(&s->w, ev->node, s->now, sn->node);
		gsp_sim_check_stop(s);
	}
	gsp_sim_pool_put(s, ev->arg);
}

/* progress now and then on long runs; true when the wall bound is hit */
static bool
gsp_sim_wall_check(struct gsp_sim *s)
{
	double w = gsp_sim_wall_s(s);

	if (w >= s->next_progress_s) {
		s->next_progress_s = w + GSP_SIM_PROGRESS_S;
		if (w >= GSP_SIM_PROGRESS_S)
			gsp_sim_log(s, "... wall %.0f s: simulated %.2f s, "
				    "%" PRIu64 " events, %u/%u meet the "
				    "phase's goal, %u in flight", w,
				    (double)(s->now - GSP_SIM_T0) / NS_PER_S,
				    s->events, gsp_watch_ok(&s->w),
				    gsp_watch_up(&s->w), s->inflight);
	}
	if (s->c.max_wall_s > 0 && w > s->c.max_wall_s) {
		s->wall_limited = true;
		return true;
	}
	/* stop cleanly before the OOM killer picks us or a neighbour */
	if (w >= s->next_mem_check_s) {
		uint64_t avail = gsp_sim_mem_available();

		s->next_mem_check_s = w + GSP_SIM_MEM_CHECK_S;
		if (avail != 0 && avail < GSP_SIM_MEM_RESERVE) {
			gsp_sim_log(s, "stopping: MemAvailable %.0f MiB is below "
				    "the %u MiB reserve", (double)avail / 1048576,
				    (unsigned int)(GSP_SIM_MEM_RESERVE >> 20));
			s->mem_limited = true;
			s->wall_limited = true;
			return true;
		}
	}
	return false;
}

/*
 * Runs events up to t_end or until the phase's stop condition; true when
 * it stopped on the condition. The clock ends at t_end otherwise.
 */
bool
gsp_sim_run(struct gsp_sim *s, uint64_t t_end)
{
	struct gsp_sim_ev ev;

	while (!s->stop) {
		const struct gsp_sim_ev *top = gsp_sim_heap_top(&s->heap);

		if (top == NULL || top->t > t_end) {
			s->now = t_end;
			return false;
		}
		gsp_sim_heap_pop(&s->heap, &ev);
		s->now = ev.t;
		s->events++;
		if (!(ev.kind & GSP_SIM_EV_HELD) &&
		    s->nodes[ev.node].slow && gsp_sim_hold(s, &ev))
			continue;
		switch (ev.kind & ~GSP_SIM_EV_HELD) {
		case GSP_SIM_EV_TICK:
			gsp_sim_on_tick(s, &ev);
			break;
		case GSP_SIM_EV_DELIVER:
			gsp_sim_on_deliver(s, &ev);
			break;
		default:
			break;
		}
		if (s->events % GSP_SIM_WALL_CHECK == 0 &&
		    gsp_sim_wall_check(s))
			return false;
	}
	return true;
}

/* The state running node i lists for node x (i itself, a stopped node
 * or one that does not list x: false). A table scan: scenario steps
 * only. */
bool
gsp_sim_lists(const struct gsp_sim *s, uint32_t i, uint32_t x, uint8_t *state)
{
	const struct gsp_sim_node *sn = &s->nodes[i];
	struct gsp_member_view v;
	uint32_t hw;

	if (i == x || !sn->up)
		return false;
	hw = gsp_node_slot_count(sn->node);
	for (uint32_t slot = 0; slot < hw; slot++)
		if (gsp_node_member_read(sn->node, slot, &v) &&
		    v.id == s->nodes[x].id) {
			*state = v.state;
			return true;
		}
	return false;
}
