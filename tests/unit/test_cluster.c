/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whole clusters on the in-memory network (test_net.h), driven by a
 * virtual clock: SWIM's detection, refutation and stalls (its entries
 * checked white-box), timers, lifecycle, split digests, bounded traffic
 * and determinism.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gsp_core.h"
#include "gsp_swim_int.h"
#include "gsp_table.h"
#include "gsp_util.h"
#include "gsp_wire.h"
#include "test_member.h"
#include "test_net.h"

/* ------------------------------- SWIM --------------------------------- */

/* detector 0: the default (all of them) */
static void
swim_start_all(unsigned int n, uint64_t probe_ms, uint32_t detector)
{
	for (unsigned int i = 0; i < n; i++) {
		struct gsp_addr seeds[2];
		struct gsp_node_params p;
		char name[32];
		int err;

		snprintf(name, sizeof(name), "node%u", i + 1);
		sim[i].addr = (struct gsp_addr){ 0x0a000001 + i,
			GSP_DEFAULT_PORT };
		p = test_params(name, sim[i].addr.ip, 1000 + i, &sim[i]);
		p.rng_seed = 2000 + i;
		p.probe_interval_ns = probe_ms * MS;
		p.probe_timeout_ns = probe_ms * MS * 2 / 5;
		p.detector = detector;
		sim[i].node = gsp_node_create(&p, &err);
		assert_non_null(sim[i].node);
		for (unsigned int k = 0; k < 2; k++)
			seeds[k] = (struct gsp_addr){ 0x0a000001 + k,
				GSP_DEFAULT_PORT };
		gsp_node_set_seeds(sim[i].node, seeds, 2);
		sim[i].up = true;
	}
	sim_n = n;
}

static uint32_t
nd_suspects(unsigned int who)
{
	return sim[who].node->swim->n_suspects;
}

static unsigned int
swim_count(unsigned int who, uint8_t state)
{
	return count_state(sim[who].node, state);
}

/*
 * SWIM's entries of node `who`, white-box: the pool is packed from the
 * bottom, each entry is on its slot group's chain and found for its
 * slot, chains hold nothing else, every other slot has none, and the
 * suspects are exactly the entries under suspicion. Returns how many it
 * holds.
 */
static uint32_t
swim_entries(unsigned int who)
{
	const struct gsp_node *nd = sim[who].node;
	const struct gsp_swim *s = nd->swim;
	uint32_t chained = 0, found = 0, suspected = 0;

	for (uint32_t g = 0; g <= nd->table->n_slots >> GSP_ENT_GROUP_LOG2;
	     g++) {
		for (uint32_t e = s->ent_head[g]; e != 0;
		     e = s->ents[e - 1].next) {
			assert_true(e <= s->n_ents);
			assert_int_equal(s->ents[e - 1].slot >> GSP_ENT_GROUP_LOG2,
					 g);
			assert_true(++chained <= s->n_ents);
		}
	}
	assert_int_equal(chained, s->n_ents);
	for (uint32_t slot = 0; slot < nd->table->n_slots; slot++) {
		const struct gsp_swim_ent *e = gsp_swim_ent(s, slot);

		if (e == NULL)
			continue;
		found++;
		assert_int_equal(e->slot, slot);
		assert_true(gsp_table_has(nd->table, slot));
	}
	assert_int_equal(found, s->n_ents);
	for (uint32_t i = 0; i < s->n_ents; i++) {
		const struct gsp_swim_ent *e = &s->ents[i];

		assert_true(e->by_claim || e->suspect_ns != 0);
		if (!e->by_claim && e->suspect_ns != 0) {
			suspected++;
			assert_true(e->pos < s->n_suspects);
			assert_int_equal(s->suspects[e->pos], e->slot);
		}
	}
	assert_int_equal(suspected, s->n_suspects);
	return s->n_ents;
}

/*
 * SWIM's entries churn through full slot groups: suspicions made and
 * dropped at random over 300 members (every group of 16 slots full),
 * the chains checked after each step against what should be held.
 */
static void
test_swim_entry_chains_churn(void **state)
{
	enum { MEMBERS = 300, STEPS = 20000 };
	struct gsp_wire_state st = sample_state(0, "m");
	uint32_t slots[MEMBERS];
	bool held[MEMBERS] = { false };
	uint64_t rng = 0x636861696e73ull, now = 1000 * MS;
	uint32_t most = 0, n_held = 0;
	struct gsp_node *n;

	(void)state;
	sim_start(0, 1000, 0, 0);
	n = sim[0].node;
	st.wire = GSP_WIRE_VERSION;
	for (uint32_t i = 0; i < MEMBERS; i++) {
		st.id = 7000 + i;
		snprintf(st.name, sizeof(st.name), "m%u", i);
		feed(n, &st, now);
		slots[i] = (uint32_t)gsp_table_find(n->table, st.id);
	}
	for (uint32_t step = 0; step < STEPS; step++) {
		uint32_t k = gsp_rand_below(&rng, MEMBERS);
		struct gsp_member_rec *r = gsp_rec(n, slots[k]);

		now += MS;
		if (held[k]) {
			gsp_swim_reset(n, slots[k]);
			n_held--;
		} else {
			assert_true(gsp_swim_suspect(n, slots[k],
						     r->incarnation + 1, 0xacc,
						     now));
			n_held++;
		}
		held[k] = !held[k];
		most = n_held > most ? n_held : most;
		assert_int_equal(swim_entries(0), n_held);
		for (uint32_t i = 0; i < MEMBERS; i++)
			assert_int_equal(gsp_swim_ent(n->swim, slots[i]) != NULL,
					 held[i]);
	}
	assert_true(most > MEMBERS / 2 - 40);	/* long chains were walked */
	net_reset();
}

/*
 * Phi alone: a node that was itself stalled (descheduled 3 s: no ticks,
 * its packets lost) does not hold its peers' silence against them when
 * it resumes. Its view of them never changes, while they, who heard
 * nothing from it, took it for down and take it back.
 */
static void
test_phi_forgives_own_stall(void **state)
{
	const unsigned int n = 6;
	uint64_t now = 1000 * MS;
	unsigned int events_before, t;

	(void)state;
	swim_start_all(n, 50, GSP_DETECT_PHI);
	assert_true(run_until_converged(n, &now, 50) > 0);
	for (t = 0; t < 300; t++) {	/* learn the heartbeats' pace */
		now += 10 * MS;
		sim_step(now);
	}
	sim[0].up = false;
	events_before = sim[0].state_events;
	for (t = 0; t < 300; t++) {
		now += 10 * MS;
		sim_step(now);
	}
	assert_int_equal(swim_count(1, GSP_STATE_DOWN), 1);
	sim[0].up = true;
	for (t = 0; t < 300; t++) {
		now += 10 * MS;
		sim_step(now);
		assert_int_equal(swim_count(0, GSP_STATE_SUSPECT) +
				 swim_count(0, GSP_STATE_DOWN), 0);
	}
	assert_int_equal(sim[0].state_events, events_before);
	assert_true(all_see_alive(n));
	net_reset();
}

/* Crash, a stall that ends, and a forged accusation, with SWIM on. */
static void
test_swim_detect_refute_stall(void **state)
{
	const unsigned int n = 8;
	uint64_t now = 1000 * MS;
	struct gsp_node_counters c;
	struct gsp_member_view v;
	unsigned int events_before, t, back;
	bool all;

	(void)state;
	swim_start_all(n, 50, 0);
	assert_true(run_until_converged(n, &now, 50) > 0);

	/* node3 stops for 3 s (as under SIGSTOP: no ticks, packets lost) */
	sim[2].up = false;
	events_before = sim[2].state_events;
	for (t = 0; t < 300; t++) {
		now += 10 * MS;
		sim_step(now);
	}
	for (unsigned int i = 0; i < n; i++)
		if (i != 2) {
			assert_int_equal(swim_count(i, GSP_STATE_DOWN), 1);
			/* SWIM keeps state for the one it holds down only */
			assert_int_equal(swim_entries(i), 1);
		}
	gsp_node_counters_read(sim[0].node, &c);
	assert_true(c.tx_ping > 0 && c.rx_pong > 0);
	/* resumed: it is told, refutes, and is alive everywhere again, and
	 * its own view of its live peers never wavered */
	sim[2].up = true;
	for (t = 0; t < 500 && !all_see_alive(n); t++) {
		now += 10 * MS;
		sim_step(now);
	}
	assert_true(all_see_alive(n));
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(swim_entries(i), 0);
	assert_int_equal(sim[2].state_events, events_before);
	gsp_node_counters_read(sim[2].node, &c);
	assert_true(c.refutations >= 1);
	assert_true(member_of(sim[0].node, gsp_node_id(sim[2].node), &v));
	assert_true(v.incarnation >= 1);

	/* a forged suspicion of node1 is refuted, never a verdict */
	forge_suspicion(sim[5].node, sim[0].node, now);
	assert_int_equal(swim_count(5, GSP_STATE_SUSPECT), 1);
	assert_int_equal(swim_entries(5), 1);
	assert_int_equal(nd_suspects(5), 1);
	for (t = 0; t < 500; t++) {
		now += 10 * MS;
		sim_step(now);
		for (unsigned int i = 0; i < n; i++)
			assert_int_equal(swim_count(i, GSP_STATE_DOWN), 0);
		if (all_see_alive(n) && t > 50)
			break;
	}
	assert_true(all_see_alive(n));
	assert_int_equal(swim_entries(5), 0);
	gsp_node_counters_read(sim[0].node, &c);
	assert_int_equal(c.refutations, 1);
	assert_int_equal(c.incarnation, 1);

	/* a crash: suspected, then declared down by claims everywhere */
	sim[6].up = false;
	for (t = 0, all = false; t < 1000 && !all; t++) {
		now += 10 * MS;
		sim_step(now);
		all = true;
		for (unsigned int i = 0; i < n; i++)
			if (i != 6)
				all &= swim_count(i, GSP_STATE_DOWN) == 1;
	}
	assert_true(all);
	for (unsigned int i = 0; i < n; i++)
		if (i != 6)
			assert_int_equal(swim_entries(i), 1);
	print_message("# SWIM 50 ms probes, 8 nodes: crash down everywhere "
		      "after %u ms\n", t * 10);
	{
		uint64_t declared = 0;

		for (unsigned int i = 0; i < n; i++) {
			if (i == 6)
				continue;
			gsp_node_counters_read(sim[i].node, &c);
			declared += c.declared_down;
		}
		assert_true(declared >= 1);
	}

	/* force-leave: only a down member, never ourselves; then left
	 * everywhere by one node's claim */
	assert_int_equal(gsp_node_force_leave(sim[0].node,
			 gsp_node_id(sim[1].node), now), -EBUSY);
	assert_int_equal(gsp_node_force_leave(sim[0].node,
			 gsp_node_id(sim[0].node), now), -EINVAL);
	assert_int_equal(gsp_node_force_leave(sim[0].node, 0x77, now),
			 -ENOENT);
	assert_int_equal(gsp_node_force_leave(sim[0].node,
			 gsp_node_id(sim[6].node), now), 0);
	for (t = 0, all = false; t < 1000 && !all; t++) {
		now += 10 * MS;
		sim_step(now);
		all = true;
		for (unsigned int i = 0; i < n; i++)
			if (i != 6)
				all &= swim_count(i, GSP_STATE_LEFT) == 1 &&
					swim_count(i, GSP_STATE_DOWN) == 0;
	}
	assert_true(all);
	for (unsigned int i = 0; i < n; i++)
		if (i != 6)
			assert_int_equal(swim_entries(i), 1);
	/* left already: nothing to do, still 0 */
	assert_int_equal(gsp_node_force_leave(sim[3].node,
			 gsp_node_id(sim[6].node), now), 0);
	/* it was only cut off: back, same generation, it refutes the
	 * operator's word and is alive everywhere */
	sim[6].up = true;
	for (t = 0, all = false; t < 2000 && !all; t++) {
		now += 10 * MS;
		sim_step(now);
		all = all_see_alive(n);
	}
	assert_true(all);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(swim_entries(i), 0);

	/* two cut off at once, then the one whose entry node1 holds first
	 * back: the other's entry moves into its place, and the pool stays
	 * whole */
	sim[6].up = false;
	sim[7].up = false;
	for (t = 0, all = false; t < 1000 && !all; t++) {
		now += 10 * MS;
		sim_step(now);
		all = true;
		for (unsigned int i = 0; i < 6; i++)
			all &= swim_count(i, GSP_STATE_DOWN) == 2;
	}
	assert_true(all);
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(swim_entries(i), 2);
	back = gsp_slot_id(sim[0].node, sim[0].node->swim->ents[0].slot) ==
		gsp_node_id(sim[6].node) ? 6 : 7;
	sim[back].up = true;
	for (t = 0, all = false; t < 2000 && !all; t++) {
		now += 10 * MS;
		sim_step(now);
		all = true;
		for (unsigned int i = 0; i < 6; i++)
			all &= swim_count(i, GSP_STATE_DOWN) == 1 &&
				swim_count(i, GSP_STATE_SUSPECT) == 0;
	}
	assert_true(all);
	for (unsigned int i = 0; i < 6; i++) {
		const struct gsp_swim *s = sim[i].node->swim;

		assert_int_equal(swim_entries(i), 1);
		assert_int_equal(gsp_slot_id(sim[i].node, s->ents[0].slot),
				 gsp_node_id(sim[13 - back].node));
	}
	net_reset();
}

/*
 * A slow path: every frame arrives delay_ns after the step that sent it
 * (steps of 5 ms), held here between sim_step's deliveries.
 */
#define SLOW_HELD_MAX 100000
static struct net_pkt slow_held[SLOW_HELD_MAX];
static uint64_t slow_due[SLOW_HELD_MAX];
static unsigned int slow_n;

static void
slow_step(uint64_t now, uint64_t sent_at, uint64_t delay_ns)
{
	unsigned int keep = 0;

	for (unsigned int i = 0; i < net_n; i++) {
		assert_true(slow_n < SLOW_HELD_MAX);
		slow_held[slow_n] = net_q[i];
		slow_due[slow_n++] = sent_at + delay_ns;
	}
	net_n = 0;
	for (unsigned int i = 0; i < slow_n; i++) {
		if (slow_due[i] <= now) {
			net_q[net_n++] = slow_held[i];
		} else {
			slow_held[keep] = slow_held[i];
			slow_due[keep++] = slow_due[i];
		}
	}
	slow_n = keep;
	sim_step(now);
}

static uint64_t
suspicions_of_all(unsigned int n)
{
	struct gsp_node_counters c;
	uint64_t sum = 0;

	for (unsigned int i = 0; i < n; i++) {
		gsp_node_counters_read(sim[i].node, &c);
		sum += c.suspicions;
	}
	return sum;
}

/* `ms` of 5 ms steps over the slow path */
static void
slow_run(uint64_t *now, uint64_t ms, uint64_t delay_ns)
{
	for (uint64_t t = 0; t < ms; t += 5) {
		uint64_t sent_at = *now;

		*now += 5 * MS;
		slow_step(*now, sent_at, delay_ns);
	}
}

/*
 * Answers that come, late: with Lifeguard the probe timeout follows the
 * measured round trip, so a slow but healthy cluster stops accusing
 * itself once the first probes have measured it, while a crash is still
 * found. Without Lifeguard the same path is a suspicion after another.
 * 8 nodes, 50 ms probes (20 ms timeout), 40 ms each way: every answer
 * comes after the period.
 */
static void
test_swim_timeout_follows_round_trips(void **state)
{
	const unsigned int n = 8;
	const uint64_t delay = 40 * MS;
	uint64_t now = 1000 * MS, before;
	struct gsp_node_counters c;
	bool all = false;
	unsigned int t;

	(void)state;
	/* the control: SWIM and indirect probes alone keep accusing */
	swim_start_all(n, 50, GSP_DETECT_SWIM | GSP_DETECT_INDIRECT);
	slow_run(&now, 5000, delay);
	before = suspicions_of_all(n);
	slow_run(&now, 5000, delay);
	print_message("# 80 ms round trips, 20 ms timeout, no Lifeguard: %"
		      PRIu64 " suspicions in 5 s\n",
		      suspicions_of_all(n) - before);
	assert_true(suspicions_of_all(n) - before > 0);
	net_drop(slow_held, &slow_n);
	net_reset();

	swim_start_all(n, 50, 0);
	slow_run(&now, 5000, delay);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(swim_count(i, GSP_STATE_ALIVE), n);
	before = suspicions_of_all(n);
	slow_run(&now, 10000, delay);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(swim_count(i, GSP_STATE_ALIVE), n);
		gsp_node_counters_read(sim[i].node, &c);
		/* a round trip is 80 ms plus up to two 5 ms steps */
		assert_true(c.probe_rtt_us >= 80000 && c.probe_rtt_us <= 92000);
	}
	print_message("# the same with Lifeguard: %" PRIu64 " suspicions in "
		      "10 s, round trip %" PRIu64 " us\n",
		      suspicions_of_all(n) - before, c.probe_rtt_us);
	assert_int_equal(suspicions_of_all(n) - before, 0);
	/* the round trip holds the timeout, not the awareness: every
	 * probe answered in time brought that back to 0 */
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(sim[i].node->swim->awareness, 0);

	/* a crash: down everywhere, within the capped multiple's time
	 * (here 5: periods of 250 ms, suspicions of 1 to 6 s, shortened as
	 * the others confirm) */
	sim[3].up = false;
	for (t = 0; t < 1000 && !all; t++) {
		uint64_t sent_at = now;

		now += 5 * MS;
		slow_step(now, sent_at, delay);
		all = true;
		for (unsigned int i = 0; i < n; i++)
			if (i != 3)
				all &= swim_count(i, GSP_STATE_DOWN) == 1;
	}
	print_message("# crash down everywhere after %u ms\n", t * 5);
	assert_true(all);
	net_drop(slow_held, &slow_n);
	net_reset();
}

/* Hands node `to` what is queued for it; the rest stays queued. */
static void
deliver_to(unsigned int to, uint64_t now)
{
	unsigned int keep = 0;

	for (unsigned int i = 0; i < net_n; i++) {
		struct net_pkt p = net_q[i];

		if (sim_by_addr(&p.dst) == &sim[to]) {
			gsp_node_rx(sim[to].node, &p.src, p.data, p.len, now,
				    NULL);
			free(p.data);
		} else {
			net_q[keep++] = p;
		}
	}
	net_n = keep;
}

/* Steps of 1 ms until node 0 has just sent a new probe to node 1: its
 * PING is queued, not read. */
static void
until_probe_sent(uint64_t *now)
{
	const struct gsp_swim *s = sim[0].node->swim;
	uint32_t seq = s->probe_seq;
	unsigned int t;

	for (t = 0; t < 10000; t++) {
		*now += MS;
		deliver_to(0, *now);
		deliver_to(1, *now);
		gsp_node_tick(sim[1].node, *now);
		gsp_node_tick(sim[0].node, *now);
		if (s->probing && !s->acked && s->probe_seq != seq)
			break;
	}
	assert_true(t < 10000);
}

/* Node 0's probe period, as SWIM's own arithmetic scales it. */
static void
probe_times(uint64_t *p, uint64_t *t)
{
	const struct gsp_node *nd = sim[0].node;

	*p = gsp_swim_scaled(nd, nd->p.probe_interval_ns);
	*t = gsp_swim_scaled(nd, nd->p.probe_timeout_ns);
}

/*
 * A probe period that a late tick (45 ms, more than an eighth of the
 * period) parted from the gossip rounds ends on a round again at once,
 * so one wake-up serves both; and no period is shortened so much that
 * helpers asked at the probe's timeout have less than half of what the
 * period leaves after it.
 */
static void
test_swim_period_rejoins_rounds(void **state)
{
	const struct gsp_swim *s;
	uint64_t now = 1000 * MS, gi, p, t, seq;
	unsigned int probes = 0;

	(void)state;
	swim_start_all(2, 100, 0);
	assert_true(run_until_converged(2, &now, 50) > 0);
	s = sim[0].node->swim;
	gi = sim[0].node->p.gossip_interval_ns;
	/* node 0 stops just before its period ends and runs 45 ms late */
	while (now + MS < s->probe_end_ns) {
		now += MS;
		sim_step(now);
	}
	sim[0].up = false;
	for (uint64_t stop = s->probe_end_ns + 45 * MS; now < stop;) {
		now += MS;
		sim_step(now);
	}
	sim[0].up = true;
	seq = s->probe_seq;
	for (unsigned int k = 0; k < 1000; k++) {
		now += MS;
		sim_step(now);
		if (s->probe_seq == seq)
			continue;
		seq = s->probe_seq;
		probes++;
		probe_times(&p, &t);
		assert_true(s->probe_end_ns - s->probe_timeout_ns >=
			    (p - t) / 2);
		assert_true(s->probe_end_ns >= sim[0].node->next_round_ns);
		assert_int_equal((s->probe_end_ns -
				  sim[0].node->next_round_ns) % gi, 0);
	}
	assert_true(probes >= 5);
	net_reset();
}

/*
 * A verdict come to late (a loaded host, less than a stall) is put off
 * once: the answer may be waiting unread. On time, a probe without an
 * answer is a suspicion; a probe timeout late, the node looks again,
 * and the answer read then clears it.
 */
static void
test_swim_late_verdict_looks_again(void **state)
{
	const struct gsp_swim *s;
	struct gsp_node_counters c0, c1;
	uint64_t now = 1000 * MS, pt;
	struct net_pkt *held;
	unsigned int held_n;

	(void)state;
	swim_start_all(2, 100, 0);
	assert_true(run_until_converged(2, &now, 50) > 0);
	s = sim[0].node->swim;
	pt = sim[0].node->p.probe_timeout_ns;

	/* on time and no answer: node 1 never hears the ping; the timeout's
	 * tick asks helpers (there are none), the verdict comes half a
	 * timeout after the period */
	until_probe_sent(&now);
	gsp_node_counters_read(sim[0].node, &c0);
	net_drop(net_q, &net_n);
	now = s->probe_timeout_ns;
	gsp_node_tick(sim[0].node, now);
	net_drop(net_q, &net_n);
	now = s->probe_end_ns + pt / 2;
	gsp_node_tick(sim[0].node, now);
	gsp_node_counters_read(sim[0].node, &c1);
	assert_int_equal(c1.suspicions - c0.suspicions, 1);
	assert_int_equal(c1.probes_late - c0.probes_late, 0);

	/* node 1 refutes; then a probe whose verdict comes 2 timeouts late */
	for (unsigned int t = 0; t < 500 && !all_see_alive(2); t++) {
		now += 10 * MS;
		sim_step(now);
	}
	assert_true(all_see_alive(2));
	until_probe_sent(&now);
	gsp_node_counters_read(sim[0].node, &c0);
	/* node 1 answered in time; the PONG waits unread while node 0's
	 * tick comes 2 timeouts late (what that tick sends is lost) */
	deliver_to(1, now + MS);
	held_n = net_n;
	held = malloc(sizeof(*held) * (held_n ? held_n : 1));
	assert_non_null(held);
	memcpy(held, net_q, sizeof(*held) * held_n);
	net_n = 0;
	now = s->probe_end_ns + 2 * pt;
	gsp_node_tick(sim[0].node, now);
	net_drop(net_q, &net_n);
	gsp_node_counters_read(sim[0].node, &c1);
	assert_int_equal(c1.suspicions - c0.suspicions, 0);
	assert_int_equal(c1.probes_late - c0.probes_late, 1);
	/* the looked-again verdict finds the answer read */
	memcpy(net_q, held, sizeof(*held) * held_n);
	net_n = held_n;
	free(held);
	deliver_to(0, now + MS);
	assert_true(s->acked);
	now = s->probe_end_ns;
	gsp_node_tick(sim[0].node, now);
	gsp_node_counters_read(sim[0].node, &c1);
	assert_int_equal(c1.suspicions - c0.suspicions, 0);
	assert_int_equal(c1.probes_failed - c0.probes_failed, 0);
	net_reset();
}

/* ------------------------- in-memory clusters ------------------------- */

/*
 * A quiet SWIM pair driven as the lcore drives a node: woken at the
 * deadline its last tick gave, frames 1 ms after they were sent, and
 * after frames the deadline read again (gsp_node_next_deadline). Each
 * probe period must cost one timer wake-up (round and probe together,
 * no wake-up for a probe timeout whose ack came): three before.
 */
static void
test_swim_timers_one_wake_per_period(void **state)
{
	const unsigned int periods = 50;
	uint64_t now = 1000 * MS, warm, end, sent_at = 0, deadline[2];
	unsigned int wakes[2] = { 0, 0 };
	bool measuring = false;
	struct gsp_node_counters c0, c1;

	(void)state;
	swim_start_all(2, 100, 0);
	assert_true(run_until_converged(2, &now, 50) > 0);
	for (unsigned int r = 0; r < 20; r++)	/* the join's news is over */
		for (int sub = 0; sub < 10; sub++) {
			now += 10 * MS;
			sim_step(now);
		}
	for (unsigned int i = 0; i < 2; i++) {
		deadline[i] = gsp_node_tick(sim[i].node, now);
		assert_int_equal(gsp_node_next_deadline(sim[i].node),
				 deadline[i]);
	}
	/* 20 periods on this path first: the join's 10 ms steps made round
	 * trips of 20 ms, and the probe timeout follows measured ones */
	warm = now + 20 * 100 * MS;
	end = warm + periods * 100 * MS;
	while (now < end) {
		uint64_t t = deadline[0] < deadline[1] ? deadline[0] :
			deadline[1];

		if (net_n > 0 && sent_at == 0)
			sent_at = now;
		if (net_n > 0 && sent_at + MS < t)
			t = sent_at + MS;
		assert_true(t >= now);
		now = t;
		if (net_n > 0 && now >= sent_at + MS) {
			unsigned int n = net_n;
			struct net_pkt *batch = malloc(sizeof(*batch) * n);

			memcpy(batch, net_q, sizeof(*batch) * n);
			net_n = 0;
			sent_at = 0;
			for (unsigned int k = 0; k < n; k++) {
				struct sim_node *d = sim_by_addr(&batch[k].dst);
				unsigned int i = (unsigned int)(d - sim);

				gsp_node_rx(d->node, &batch[k].src,
					    batch[k].data, batch[k].len, now,
					    NULL);
				free(batch[k].data);
				deadline[i] = gsp_node_next_deadline(d->node);
			}
			free(batch);
		}
		if (!measuring && now >= warm) {
			measuring = true;
			gsp_node_counters_read(sim[0].node, &c0);
		}
		for (unsigned int i = 0; i < 2; i++)
			if (now >= deadline[i]) {
				wakes[i] += measuring;
				deadline[i] = gsp_node_tick(sim[i].node, now);
			}
	}
	gsp_node_counters_read(sim[0].node, &c1);
	print_message("# quiet SWIM pair, %u probe periods: %u and %u timer "
		      "wake-ups, %" PRIu64 " rounds, %" PRIu64 " pings\n",
		      periods, wakes[0], wakes[1], c1.rounds - c0.rounds,
		      c1.tx_ping - c0.tx_ping);
	/* rounds and probes still run every period */
	assert_true(c1.rounds - c0.rounds >= periods - 1);
	assert_true(c1.tx_ping - c0.tx_ping >= periods - 1);
	assert_true(c1.rx_pong - c0.rx_pong >= periods - 2);
	for (unsigned int i = 0; i < 2; i++)
		assert_true(wakes[i] <= periods + 2);
	assert_int_equal(swim_count(0, GSP_STATE_ALIVE), 2);
	net_reset();
}

static void
test_cluster_lifecycle(void **state)
{
	struct gsp_member_view v;
	uint64_t now = 1000 * MS, gen_before;
	unsigned int rounds;

	(void)state;
	for (unsigned int i = 0; i < 5; i++)
		sim_start(i, 1000 + i, 0, 2);
	rounds = run_until_converged(5, &now, 50);
	assert_true(rounds > 0);
	print_message("# 5 nodes converged in %u rounds\n", rounds);

	/* app state reaches everyone */
	assert_int_equal(gsp_node_set_app(sim[1].node, "load", "0.75"), 0);
	for (int r = 0; r < 100; r++) {
		now += 10 * MS;
		sim_step(now);
	}
	for (unsigned int i = 0; i < 5; i++) {
		assert_true(member_of(sim[i].node, gsp_node_id(sim[1].node), &v));
		assert_int_equal(v.app_count, 1);
		assert_string_equal(v.app[0].value, "0.75");
	}

	/* crash node4: every survivor marks it down */
	sim[3].up = false;
	gen_before = gsp_node_generation(sim[3].node);
	for (int r = 0; r < 1000; r++) {
		bool all = true;

		now += 10 * MS;
		sim_step(now);
		for (unsigned int i = 0; i < 5; i++) {
			if (i == 3)
				continue;
			assert_true(member_of(sim[i].node,
					      gsp_node_id(sim[3].node), &v));
			all &= v.state == GSP_STATE_DOWN;
		}
		if (all)
			break;
	}
	for (unsigned int i = 0; i < 5; i++)
		if (i != 3)
			assert_int_equal(count_state(sim[i].node,
						     GSP_STATE_DOWN), 1);

	/* restart it: alive again everywhere, with a higher generation */
	gsp_node_destroy(sim[3].node);
	sim_start(3, gen_before + 1, 0, 2);
	rounds = run_until_converged(5, &now, 100);
	assert_true(rounds > 0);
	for (unsigned int i = 0; i < 5; i++) {
		assert_true(member_of(sim[i].node, gsp_node_id(sim[3].node), &v));
		assert_int_equal(v.generation, gen_before + 1);
	}

	/* node5 leaves: "left" everywhere, not "down" */
	gsp_node_leave(sim[4].node, now);
	for (int r = 0; r < 100 && !gsp_node_leave_done(sim[4].node); r++) {
		now += 10 * MS;
		sim_step(now);
	}
	assert_true(gsp_node_leave_done(sim[4].node));
	sim[4].up = false;
	for (int r = 0; r < 300; r++) {
		now += 10 * MS;
		sim_step(now);
	}
	for (unsigned int i = 0; i < 4; i++) {
		assert_true(member_of(sim[i].node, gsp_node_id(sim[4].node), &v));
		assert_int_equal(v.state, GSP_STATE_LEFT);
	}
	net_reset();
}

/* Digests larger than one packet: 200 members over 900-byte payloads. */
static void
test_cluster_split_digests(void **state)
{
	uint64_t now = 1000 * MS;
	struct gsp_node_counters c;
	unsigned int rounds;

	(void)state;
	for (unsigned int i = 0; i < 200; i++)
		sim_start(i, 1000 + i, GSP_WIRE_MIN_PAYLOAD, 3);
	rounds = run_until_converged(200, &now, 100);
	print_message("# 200 nodes, %u-byte payloads: converged in %u rounds\n",
		      GSP_WIRE_MIN_PAYLOAD, rounds);
	assert_true(rounds > 0);
	gsp_node_counters_read(sim[0].node, &c);
	/* 200 digests need several SYN packets per round per peer */
	assert_true(c.tx_syn > 2 * c.rounds);
	net_reset();
}

/* Steady-state bytes a node sends per round, after convergence. */
static double
steady_tx_per_round(unsigned int n_nodes, unsigned int *rounds_out)
{
	uint64_t now = 1000 * MS, before = 0, after = 0;
	const unsigned int measure = 20;

	for (unsigned int i = 0; i < n_nodes; i++)
		sim_start(i, 1000 + i, 0, 3);
	*rounds_out = run_until_converged(n_nodes, &now, 200);
	for (unsigned int i = 0; i < n_nodes; i++)
		before += sim[i].tx_bytes;
	for (unsigned int r = 0; r < measure * 10; r++) {
		now += 10 * MS;
		sim_step(now);
	}
	for (unsigned int i = 0; i < n_nodes; i++)
		after += sim[i].tx_bytes;
	net_reset();
	return (double)(after - before) / n_nodes / measure;
}

/* The protocol's cost per node and round does not grow with the cluster
 * once the digest no longer fits the window (here 4 x 60 members). */
static void
test_cluster_bounded_traffic(void **state)
{
	unsigned int r_small, r_large;
	double small, large;

	(void)state;
	small = steady_tx_per_round(300, &r_small);
	large = steady_tx_per_round(1000, &r_large);
	print_message("# bytes/node/round: 300 nodes %.0f (converged in %u "
		      "rounds), 1000 nodes %.0f (%u rounds)\n", small, r_small,
		      large, r_large);
	assert_true(r_small > 0 && r_large > 0);
	/* 3.3 times the members, not 3.3 times the bytes */
	assert_true(large < 1.5 * small);
	/* 2 windows of 4 SYN packets and 2 PUSH sent, about 8 SYN packets
	 * answered with at most their 60 listed members of ~60 bytes */
	assert_true(large < (2 * 4 + 2) * 1472 + 8 * 60 * 64);
}

/* The same seeds give the same run, bit for bit. */
static void
test_cluster_deterministic(void **state)
{
	struct gsp_node_counters a, b;
	uint64_t now;

	(void)state;
	for (int run = 0; run < 2; run++) {
		now = 1000 * MS;
		for (unsigned int i = 0; i < 20; i++)
			sim_start(i, 1000 + i, 0, 2);
		run_until_converged(20, &now, 60);
		gsp_node_counters_read(sim[7].node, run == 0 ? &a : &b);
		net_reset();
	}
	assert_memory_equal(&a, &b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_lifecycle),
		cmocka_unit_test(test_cluster_split_digests),
		cmocka_unit_test(test_cluster_deterministic),
		cmocka_unit_test(test_phi_forgives_own_stall),
		cmocka_unit_test(test_swim_entry_chains_churn),
		cmocka_unit_test(test_swim_detect_refute_stall),
		cmocka_unit_test(test_swim_timers_one_wake_per_period),
		cmocka_unit_test(test_swim_timeout_follows_round_trips),
		cmocka_unit_test(test_swim_late_verdict_looks_again),
		cmocka_unit_test(test_swim_period_rejoins_rounds),
		cmocka_unit_test(test_cluster_bounded_traffic),
	};

	return cmocka_run_group_tests_name("cluster", tests, NULL, NULL);
}
