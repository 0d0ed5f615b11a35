/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the protocol core: wire format, merge rules, phi accrual,
 * table concurrency, and whole clusters on an in-memory network driven by
 * a virtual clock (the same code gossipd runs, without DPDK).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gsp_core.h"
#include "gsp_names.h"
#include "gsp_phi.h"
#include "gsp_swim_int.h"
#include "gsp_table.h"
#include "gsp_util.h"
#include "gsp_wire.h"
#include "test_member.h"

#define MS 1000000ull
#define CLUSTER "unit"

/* ---------------- in-memory network: the core's I/O seam ---------------- */

/*
 * Not the simulator's network (sim/): these tests step every node in
 * lockstep (deliver what is queued, then tick) and read or drop the
 * queued datagrams themselves, white-box; the simulator's scenarios,
 * which measure through the shared harness, run in tests/sim/.
 */

#define NET_MAX_NODES 2048
#define NET_QUEUE_MAX 200000

struct net_pkt {
	struct gsp_addr src, dst;
	uint16_t len;
	uint8_t *data;
};

struct sim_node {
	struct gsp_node *node;
	struct gsp_addr addr;
	bool up;
	uint64_t tx_bytes;
	unsigned int joined, state_events, restarted;
};

static struct net_pkt net_q[NET_QUEUE_MAX];
static unsigned int net_n;
static struct sim_node sim[NET_MAX_NODES];
static unsigned int sim_n;
static struct gsp_event last_event;
static unsigned int name_conflicts;

void
gsp_io_send(void *io_ctx, const struct gsp_addr *dst, const uint8_t *payload,
	    uint16_t len)
{
	struct sim_node *s = io_ctx;
	struct net_pkt *p;

	if (s == NULL || net_n >= NET_QUEUE_MAX)
		return;
	s->tx_bytes += len;
	p = &net_q[net_n++];
	p->src = s->addr;
	p->dst = *dst;
	p->len = len;
	p->data = malloc(len);
	memcpy(p->data, payload, len);
}

void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	struct sim_node *s = io_ctx;

	last_event = *ev;
	if (ev->type == GSP_EV_NAME_CONFLICT)
		name_conflicts++;
	if (s == NULL)
		return;
	if (ev->type == GSP_EV_JOINED)
		s->joined++;
	else if (ev->type == GSP_EV_STATE)
		s->state_events++;
	else if (ev->type == GSP_EV_RESTARTED)
		s->restarted++;
}

static void
net_reset(void)
{
	for (unsigned int i = 0; i < net_n; i++)
		free(net_q[i].data);
	net_n = 0;
	for (unsigned int i = 0; i < sim_n; i++)
		gsp_node_destroy(sim[i].node);
	memset(sim, 0, sizeof(sim));
	sim_n = 0;
}

static struct gsp_node_params
test_params(const char *name, uint32_t ip, uint64_t generation, void *ctx)
{
	struct gsp_node_params p = {
		.generation = generation,
		.addr = { ip, GSP_DEFAULT_PORT },
		.capacity = 4096,
		.gossip_interval_ns = 100 * MS,
		.fanout = 2,
		.phi_suspect = 5,
		.phi_convict = 8,
		.forget_ns = 60000 * MS,
		.max_payload = 1472,
		.leave_rounds = 2,
		.rng_seed = 42,
		.io_ctx = ctx,
	};

	snprintf(p.cluster, sizeof(p.cluster), "%s", CLUSTER);
	snprintf(p.name, sizeof(p.name), "%s", name);
	return p;
}

static void
sim_start(unsigned int i, uint64_t generation, uint16_t max_payload,
	  unsigned int n_seeds)
{
	struct gsp_addr seeds[3];
	struct gsp_node_params p;
	char name[32];
	int err;

	snprintf(name, sizeof(name), "node%u", i + 1);
	sim[i].addr = (struct gsp_addr){ 0x0a000001 + i, GSP_DEFAULT_PORT };
	p = test_params(name, sim[i].addr.ip, generation, &sim[i]);
	p.rng_seed = 1000 + i;
	if (max_payload != 0)
		p.max_payload = max_payload;
	sim[i].node = gsp_node_create(&p, &err);
	assert_non_null(sim[i].node);
	for (unsigned int k = 0; k < n_seeds; k++)
		seeds[k] = (struct gsp_addr){ 0x0a000001 + k, GSP_DEFAULT_PORT };
	gsp_node_set_seeds(sim[i].node, seeds, n_seeds);
	sim[i].up = true;
	if (i >= sim_n)
		sim_n = i + 1;
}

static struct sim_node *
sim_by_addr(const struct gsp_addr *a)
{
	for (unsigned int i = 0; i < sim_n; i++)
		if (sim[i].addr.ip == a->ip && sim[i].addr.port == a->port)
			return &sim[i];
	return NULL;
}

/* Delivers what is queued (1 ms latency) and ticks the live nodes. */
static void
sim_step(uint64_t now)
{
	unsigned int n = net_n;
	struct net_pkt *batch = malloc(sizeof(*batch) * (n ? n : 1));

	memcpy(batch, net_q, sizeof(*batch) * n);
	net_n = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct sim_node *d = sim_by_addr(&batch[i].dst);

		if (d != NULL && d->up)
			gsp_node_rx(d->node, &batch[i].src, batch[i].data,
				    batch[i].len, now, NULL);
		free(batch[i].data);
	}
	free(batch);
	for (unsigned int i = 0; i < sim_n; i++)
		if (sim[i].up)
			gsp_node_tick(sim[i].node, now);
}

static unsigned int
count_state(struct gsp_node *n, uint8_t state)
{
	struct gsp_member_view v;
	uint32_t hw = gsp_node_slot_count(n);
	unsigned int c = 0;

	for (uint32_t s = 0; s < hw; s++)
		if (gsp_node_member_read(n, s, &v) && v.state == state)
			c++;
	return c;
}

static bool
all_see_alive(unsigned int expect)
{
	for (unsigned int i = 0; i < sim_n; i++)
		if (sim[i].up && count_state(sim[i].node, GSP_STATE_ALIVE) != expect)
			return false;
	return true;
}


/* ------------------------------- SWIM --------------------------------- */

static unsigned int run_until_converged(unsigned int n, uint64_t *now,
					unsigned int max_rounds);

static void
swim_start_all(unsigned int n, uint64_t probe_ms)
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
 * bottom, each entry and its slot's index name each other, every other
 * slot has none, and the suspects are exactly the entries under
 * suspicion. Returns how many it holds.
 */
static uint32_t
swim_entries(unsigned int who)
{
	const struct gsp_node *nd = sim[who].node;
	const struct gsp_swim *s = nd->swim;
	uint32_t indexed = 0, suspected = 0;

	for (uint32_t slot = 0; slot < nd->table->n_slots; slot++) {
		uint32_t e = s->ent_of[slot];

		if (e == 0)
			continue;
		indexed++;
		assert_true(e <= s->n_ents);
		assert_int_equal(s->ents[e - 1].slot, slot);
		assert_true(gsp_table_has(nd->table, slot));
	}
	assert_int_equal(indexed, s->n_ents);
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
	swim_start_all(n, 50);
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
	{
		uint8_t buf[512];
		struct gsp_wire_writer w;
		struct gsp_addr src = { 0x0a0000ff, GSP_DEFAULT_PORT };
		struct gsp_claim cl = { gsp_node_id(sim[0].node),
			gsp_node_generation(sim[0].node), 0xbad,
			0, GSP_CLAIM_SUSPECT };

		gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_PING,
			       gsp_cluster_hash(CLUSTER), 0xbad);
		gsp_wire_set_probe(&w, 1, gsp_node_id(sim[5].node), NULL);
		assert_true(gsp_wire_put_claim(&w, &cl));
		gsp_node_rx(sim[5].node, &src, buf, gsp_wire_finish(&w), now, NULL);
		assert_int_equal(swim_count(5, GSP_STATE_SUSPECT), 1);
		assert_int_equal(swim_entries(5), 1);
		assert_int_equal(nd_suspects(5), 1);
	}
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

/* ------------------------------- wire --------------------------------- */

static struct gsp_wire_state
sample_state(uint64_t id, const char *name)
{
	struct gsp_wire_state st = {
		.id = id, .generation = 7, .heartbeat = 9, .version = 12,
		.ip = 0x0a000002, .port = 7946, .status = 0, .app_count = 2,
	};

	snprintf(st.name, sizeof(st.name), "%s", name);
	st.app[0] = (struct gsp_app_entry){ .version = 10 };
	snprintf(st.app[0].key, sizeof(st.app[0].key), "load");
	snprintf(st.app[0].value, sizeof(st.app[0].value), "0.75");
	st.app[1] = (struct gsp_app_entry){ .version = 12 };
	snprintf(st.app[1].key, sizeof(st.app[1].key), "zone");
	snprintf(st.app[1].value, sizeof(st.app[1].value), "eu west 1");
	return st;
}

static struct gsp_digest dig_scratch[4096];
static struct gsp_wire_state st_scratch[2048];
static struct gsp_claim claim_scratch[2048];

static int
decode(const uint8_t *buf, uint16_t len, struct gsp_wire_msg *m)
{
	return gsp_wire_decode(buf, len, gsp_cluster_hash(CLUSTER), m,
			       dig_scratch, st_scratch, claim_scratch);
}

static void
test_wire_roundtrip(void **state)
{
	uint8_t buf[1500];
	struct gsp_wire_writer w;
	struct gsp_wire_state st = sample_state(55, "node-a");
	struct gsp_digest d1 = { 5, 1, 2 }, d2 = { 9, 3, 4 };
	struct gsp_wire_msg m;
	uint16_t len;

	(void)state;
	/* SYN */
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_SYN,
		       gsp_cluster_hash(CLUSTER), 77);
	/* ranges are over digest keys */
	uint64_t lo = gsp_id_key(5) < gsp_id_key(9) ? gsp_id_key(5) : gsp_id_key(9);
	uint64_t hi = gsp_id_key(5) ^ gsp_id_key(9) ^ lo;

	gsp_wire_set_range(&w, lo, hi);
	assert_true(gsp_wire_put_digest(&w, &d1));
	assert_true(gsp_wire_put_digest(&w, &d2));
	len = gsp_wire_finish(&w);
	assert_int_equal(len, GSP_WIRE_HDR_LEN + 16 + 2 * 24);
	assert_int_equal(decode(buf, len, &m), GSP_RX_OK);
	assert_int_equal(m.hdr.type, GSP_MSG_SYN);
	assert_int_equal(m.hdr.sender_id, 77);
	assert_int_equal(m.range_lo, lo);
	assert_int_equal(m.range_hi, hi);
	assert_int_equal(m.n_digests, 2);
	assert_memory_equal(&m.digests[1], &d2, sizeof(d2));

	/* ACK: states then requests */
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_ACK,
		       gsp_cluster_hash(CLUSTER), 77);
	assert_true(gsp_wire_put_state(&w, &st));
	assert_true(gsp_wire_put_digest(&w, &d1));
	assert_false(gsp_wire_put_state(&w, &st));	/* after a request */
	len = gsp_wire_finish(&w);
	assert_int_equal(decode(buf, len, &m), GSP_RX_OK);
	assert_int_equal(m.n_states, 1);
	assert_int_equal(m.n_digests, 1);
	assert_int_equal(m.states[0].id, 55);
	assert_string_equal(m.states[0].name, "node-a");
	assert_int_equal(m.states[0].app_count, 2);
	assert_string_equal(m.states[0].app[1].value, "eu west 1");
	assert_int_equal(m.states[0].app[0].version, 10);
	assert_int_equal(m.states[0].heartbeat, 9);

	/* LEAVE */
	st.status = GSP_WIRE_STATUS_LEFT;
	st.id = 77;
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_LEAVE,
		       gsp_cluster_hash(CLUSTER), 77);
	assert_true(gsp_wire_put_state(&w, &st));
	len = gsp_wire_finish(&w);
	assert_int_equal(decode(buf, len, &m), GSP_RX_OK);
	assert_int_equal(m.states[0].status, GSP_WIRE_STATUS_LEFT);

	/* a writer never overflows its buffer */
	gsp_wire_begin(&w, buf, 100, GSP_MSG_ACK2,
		       gsp_cluster_hash(CLUSTER), 77);
	assert_false(gsp_wire_put_state(&w, &st));
}

static uint16_t
build_syn(uint8_t *buf, unsigned int n)
{
	struct gsp_wire_writer w;

	gsp_wire_begin(&w, buf, 1500, GSP_MSG_SYN, gsp_cluster_hash(CLUSTER),
		       77);
	gsp_wire_set_range(&w, 0, UINT64_MAX);
	for (unsigned int i = 0; i < n; i++) {
		struct gsp_digest d = { 10 + i, 1, 1 };

		gsp_wire_put_digest(&w, &d);
	}
	return gsp_wire_finish(&w);
}

static uint16_t
build_ack2(uint8_t *buf)
{
	struct gsp_wire_writer w;
	struct gsp_wire_state st = sample_state(55, "node-a");

	gsp_wire_begin(&w, buf, 1500, GSP_MSG_ACK2, gsp_cluster_hash(CLUSTER),
		       77);
	gsp_wire_put_state(&w, &st);
	return gsp_wire_finish(&w);
}

static void
test_wire_rejects(void **state)
{
	uint8_t buf[1500], bad[1500];
	struct gsp_wire_msg m;
	uint16_t len;

	(void)state;
	len = build_syn(buf, 3);
	/* truncated: shorter than the header, and every shorter prefix */
	assert_int_equal(decode(buf, 10, &m), GSP_RX_TRUNCATED);
	for (uint16_t l = 0; l < len; l++)
		assert_int_not_equal(decode(buf, l, &m), GSP_RX_OK);

	memcpy(bad, buf, len);
	bad[0] ^= 0xff;
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_MAGIC);

	memcpy(bad, buf, len);
	bad[GSP_HDR_OFF_VERSION] = GSP_WIRE_VERSION + 1;
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_VERSION);

	memcpy(bad, buf, len);
	gsp_put_le16(bad + GSP_HDR_OFF_LENGTH, len + 24);
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_LENGTH);

	memcpy(bad, buf, len);
	bad[GSP_HDR_OFF_TYPE] = 99;
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_TYPE);

	assert_int_equal(gsp_wire_decode(buf, len, gsp_cluster_hash("other"),
					 &m, dig_scratch, st_scratch,
					 claim_scratch),
			 GSP_RX_WRONG_CLUSTER);

	/* oversized count: more entries than the bytes can hold */
	memcpy(bad, buf, len);
	gsp_put_le16(bad + GSP_HDR_OFF_COUNT, 60000);
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_COUNT);

	/* a digest outside the packet's range */
	memcpy(bad, buf, len);
	gsp_put_le64(bad + GSP_WIRE_HDR_LEN, gsp_id_key(10) + 1);	/* lo */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	/* an inverted range */
	memcpy(bad, buf, len);
	gsp_put_le64(bad + GSP_WIRE_HDR_LEN, 12);	/* range_lo > hi */
	gsp_put_le64(bad + GSP_WIRE_HDR_LEN + 8, 11);
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);

	/* a zero sender id */
	memcpy(bad, buf, len);
	gsp_put_le64(bad + GSP_HDR_OFF_SENDER, 0);
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);

	/* member states */
	len = build_ack2(buf);
	assert_int_equal(decode(buf, len, &m), GSP_RX_OK);
	memcpy(bad, buf, len);
	bad[GSP_WIRE_HDR_LEN + 39] = 0;			/* empty name */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	memcpy(bad, buf, len);
	bad[GSP_WIRE_HDR_LEN + 40] = 17;		/* > 16 app keys */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	memcpy(bad, buf, len);
	bad[GSP_WIRE_HDR_LEN + GSP_WIRE_STATE_FIXED] = '\n'; /* bad name */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	/* no address (found by tests/fuzz: PING_REQs to port 0) */
	memcpy(bad, buf, len);
	gsp_put_le32(bad + GSP_WIRE_HDR_LEN + 32, 0);	/* ip 0 */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	memcpy(bad, buf, len);
	gsp_put_le16(bad + GSP_WIRE_HDR_LEN + 36, 0);	/* port 0 */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	memcpy(bad, buf, len);
	bad[GSP_WIRE_HDR_LEN + 39] = 60;		/* name past the end */
	gsp_put_le16(bad + GSP_HDR_OFF_LENGTH, len);
	assert_int_not_equal(decode(bad, len, &m), GSP_RX_OK);
	memcpy(bad, buf, len);
	gsp_put_le16(bad + GSP_HDR_OFF_COUNT, 2);	/* count says 2 */
	assert_int_not_equal(decode(bad, len, &m), GSP_RX_OK);
	/* trailing garbage after the last state */
	memcpy(bad, buf, len);
	bad[len] = 0;
	gsp_put_le16(bad + GSP_HDR_OFF_LENGTH, len + 1);
	assert_int_equal(decode(bad, len + 1, &m), GSP_RX_BAD_LENGTH);
}

/* Every single-byte corruption is either rejected or decodes to something
 * self-consistent; never a crash (run under ASan in CI for the rest). */
static void
test_wire_fuzz_bytes(void **state)
{
	uint8_t buf[1500], bad[1500];
	struct gsp_wire_msg m;
	uint64_t rng = 1;
	uint16_t len = build_ack2(buf);

	(void)state;
	for (int i = 0; i < 20000; i++) {
		memcpy(bad, buf, len);
		bad[gsp_rand_below(&rng, len)] = (uint8_t)gsp_rand(&rng);
		if (decode(bad, len, &m) == GSP_RX_OK)
			assert_true(m.n_states <= 1);
	}
}

/* ------------------------------- merge -------------------------------- */

static struct gsp_node *
lone_node(void)
{
	struct gsp_node_params p = test_params("self", 0x0a000001, 1, NULL);
	struct gsp_node *n;
	int err;

	p.detector = GSP_DETECT_PHI;	/* these tests drive phi by silence */
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	return n;
}

static void
feed(struct gsp_node *n, const struct gsp_wire_state *st, uint64_t now)
{
	uint8_t buf[1500];
	struct gsp_wire_writer w;
	struct gsp_addr src = { 0x0a000009, 7946 };

	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_ACK2,
		       gsp_cluster_hash(CLUSTER), 999);
	assert_true(gsp_wire_put_state(&w, st));
	gsp_node_rx(n, &src, buf, gsp_wire_finish(&w), now, NULL);
}

static void
test_merge_rules(void **state)
{
	struct gsp_node *n = lone_node();
	struct gsp_wire_state st = sample_state(55, "peer");
	struct gsp_node_counters c;
	struct gsp_member_view v;

	(void)state;
	feed(n, &st, 1 * MS);
	assert_true(member_of(n, 55, &v));
	assert_int_equal(v.state, GSP_STATE_ALIVE);
	assert_int_equal(v.version, 12);
	assert_string_equal(v.app[0].value, "0.75");

	/* older version of the same generation: ignored */
	st.version = 11;
	st.heartbeat = 11;
	st.app[1].version = 11;
	snprintf(st.app[0].value, sizeof(st.app[0].value), "old");
	feed(n, &st, 2 * MS);
	assert_true(member_of(n, 55, &v));
	assert_int_equal(v.version, 12);
	assert_string_equal(v.app[0].value, "0.75");
	gsp_node_counters_read(n, &c);
	assert_int_equal(c.stale, 1);

	/* lower generation, higher version: ignored */
	st.generation = 6;
	st.version = 500;
	feed(n, &st, 3 * MS);
	assert_true(member_of(n, 55, &v));
	assert_int_equal(v.generation, 7);

	/* newer version: taken */
	st = sample_state(55, "peer");
	st.version = 20;
	st.heartbeat = 20;
	snprintf(st.app[0].value, sizeof(st.app[0].value), "0.9");
	feed(n, &st, 4 * MS);
	assert_true(member_of(n, 55, &v));
	assert_int_equal(v.heartbeat, 20);
	assert_string_equal(v.app[0].value, "0.9");

	/* mark it down by silence (suspect first), then a heartbeat brings
	 * it back */
	{
		bool saw_suspect = false;

		for (uint64_t t = 5 * MS; t <= 30000 * MS; t += 100 * MS) {
			gsp_node_tick(n, t);
			assert_true(member_of(n, 55, &v));
			saw_suspect |= v.state == GSP_STATE_SUSPECT;
		}
		assert_true(saw_suspect);
	}
	assert_int_equal(v.state, GSP_STATE_DOWN);
	/* our own stall is not evidence against peers */
	st.version = 20;
	{
		struct gsp_node *m = lone_node();

		feed(m, &st, 1 * MS);
		gsp_node_tick(m, 2 * MS);
		gsp_node_tick(m, 60000 * MS);	/* we were stopped 60 s */
		assert_true(member_of(m, 55, &v));
		assert_int_equal(v.state, GSP_STATE_ALIVE);
		gsp_node_destroy(m);
	}
	st.version = 21;
	st.heartbeat = 21;
	feed(n, &st, 30010 * MS);
	assert_true(member_of(n, 55, &v));
	assert_int_equal(v.state, GSP_STATE_ALIVE);

	/* a higher generation (restart) replaces the entry, lower version ok */
	st.generation = 8;
	st.version = 2;
	st.heartbeat = 1;
	st.app_count = 0;
	feed(n, &st, 30020 * MS);
	assert_true(member_of(n, 55, &v));
	assert_int_equal(v.generation, 8);
	assert_int_equal(v.app_count, 0);
	assert_int_equal(last_event.type, GSP_EV_RESTARTED);

	/* LEFT is "left", not "down" */
	st.version = 3;
	st.status = GSP_WIRE_STATUS_LEFT;
	feed(n, &st, 30030 * MS);
	assert_true(member_of(n, 55, &v));
	assert_int_equal(v.state, GSP_STATE_LEFT);
	gsp_node_tick(n, 60000 * MS);
	assert_true(member_of(n, 55, &v));
	assert_int_equal(v.state, GSP_STATE_LEFT);
	/* forgotten after forget_ns, and its old state cannot come back */
	gsp_node_tick(n, 90100 * MS);
	assert_false(member_of(n, 55, &v));
	feed(n, &st, 90200 * MS);
	assert_false(member_of(n, 55, &v));
	st.version = 4;		/* but news from it after that is taken */
	st.status = GSP_WIRE_STATUS_NORMAL;
	feed(n, &st, 90300 * MS);
	assert_true(member_of(n, 55, &v));

	/* nobody else may speak for us: a state of ours that we did not
	 * make, at a higher generation, is answered by a new generation
	 * above it that says what we say (docs/PROTOCOL.md, "Numbers at
	 * their edges") */
	st = sample_state(gsp_node_id(n), "self");
	st.generation = 99;
	st.ip = 0x0a0000ee;
	feed(n, &st, 90400 * MS);
	assert_true(member_of(n, gsp_node_id(n), &v));
	assert_true(v.generation > 99);
	assert_int_equal(v.ip, 0x0a000001);
	assert_int_equal(gsp_node_generation(n), v.generation);
	assert_int_equal(last_event.type, GSP_EV_RENEWED);
	gsp_node_counters_read(n, &c);
	assert_int_equal(c.renewals, 1);
	/* an older life of ours changes nothing; another forgery within a
	 * minute waits (a peer cannot make us renew at its pace) */
	st.generation = 50;
	feed(n, &st, 90500 * MS);
	st.generation = v.generation + 5;
	feed(n, &st, 90600 * MS);
	assert_true(member_of(n, gsp_node_id(n), &v));
	assert_true(v.generation < st.generation);
	gsp_node_counters_read(n, &c);
	assert_int_equal(c.renewals, 1);
	feed(n, &st, 151000 * MS);
	assert_true(member_of(n, gsp_node_id(n), &v));
	assert_true(v.generation > st.generation);
	gsp_node_counters_read(n, &c);
	assert_int_equal(c.renewals, 2);

	/* a malformed packet changes nothing and is counted */
	gsp_node_counters_read(n, &c);
	{
		uint8_t junk[64] = { 0x47, 0x53, 0x50, 0x31, GSP_WIRE_VERSION,
				     3 };
		struct gsp_addr src = { 1, 1 };

		gsp_node_rx(n, &src, junk, sizeof(junk), 90500 * MS, NULL);
	}
	{
		struct gsp_node_counters c2;

		gsp_node_counters_read(n, &c2);
		assert_int_equal(c2.rx_drop[GSP_RX_BAD_LENGTH],
				 c.rx_drop[GSP_RX_BAD_LENGTH] + 1);
		assert_int_equal(c2.merged, c.merged);
	}
	gsp_node_destroy(n);
}


/* A dead member's name is taken over by a new id; a live one's is not. */
static void
test_name_reclaim(void **state)
{
	struct gsp_node *n = lone_node();
	struct gsp_wire_state st = sample_state(55, "db1");
	struct gsp_member_view v;

	(void)state;
	feed(n, &st, 1 * MS);
	assert_true(member_of(n, 55, &v));
	/* a second id claiming a live member's name: kept, reported */
	st = sample_state(56, "db1");
	name_conflicts = 0;
	feed(n, &st, 2 * MS);
	assert_int_equal(name_conflicts, 1);
	assert_true(member_of(n, 55, &v) && member_of(n, 56, &v));
	/* both fall silent and go down; a third id takes the name over */
	for (uint64_t t = 100 * MS; t <= 30000 * MS; t += 100 * MS)
		gsp_node_tick(n, t);
	assert_true(member_of(n, 55, &v));
	assert_int_equal(v.state, GSP_STATE_DOWN);
	st = sample_state(57, "db1");
	feed(n, &st, 30100 * MS);
	assert_true(member_of(n, 57, &v));
	assert_string_equal(v.name, "db1");
	assert_false(member_of(n, 55, &v));
	assert_false(member_of(n, 56, &v));
	gsp_node_destroy(n);
}

static void
test_app_state_limits(void **state)
{
	struct gsp_node *n = lone_node();
	struct gsp_member_view v;
	char key[16];

	(void)state;
	assert_int_equal(gsp_node_set_app(n, "", "x"), -EINVAL);
	assert_int_equal(gsp_node_set_app(n, "bad key", "x"), -EINVAL);
	assert_int_equal(gsp_node_set_app(n, "k", "tab\there"), -EINVAL);
	for (int i = 0; i < GSP_APP_KEYS_MAX; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(gsp_node_set_app(n, key, "v"), 0);
	}
	assert_int_equal(gsp_node_set_app(n, "one-more", "v"), -ENOSPC);
	assert_int_equal(gsp_node_set_app(n, "k3", "updated"), 0);
	assert_true(member_of(n, gsp_node_id(n), &v));
	assert_int_equal(v.app_count, GSP_APP_KEYS_MAX);
	assert_string_equal(v.app[3].value, "updated");
	assert_int_equal(v.app[3].version, v.version);
	gsp_node_destroy(n);
}

/* The states an ACK from sender asking for member id gets back. */
static unsigned int
ack2_states_for(struct gsp_node *n, uint64_t sender, uint64_t id,
		uint64_t now, uint8_t *app_count)
{
	struct gsp_addr src = { 0x0a000009, 7946 };
	struct gsp_digest d = { id, 1, 0 };
	struct gsp_wire_writer w;
	struct gsp_wire_msg m;
	unsigned int states = 0;
	uint8_t buf[1500];

	net_n = 0;
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_ACK,
		       gsp_cluster_hash(CLUSTER), sender);
	assert_true(gsp_wire_put_digest(&w, &d));
	gsp_node_rx(n, &src, buf, gsp_wire_finish(&w), now, NULL);
	for (unsigned int i = 0; i < net_n; i++) {
		assert_int_equal(decode(net_q[i].data, net_q[i].len, &m),
				 GSP_RX_OK);
		if (m.hdr.type == GSP_MSG_ACK2 && m.n_states != 0) {
			*app_count = m.states[0].app_count;
			states += m.n_states;
		}
		free(net_q[i].data);
	}
	net_n = 0;
	return states;
}

/* Wire 5: 16 keys, 255-byte values, 1024 bytes; a state beyond v4's
 * bounds goes to members that speak 5 and not to those on 4, and a node
 * on 4 drops a message carrying one, as a v4 decoder does. */
static void
test_app_state_wide(void **state)
{
	struct gsp_node_params p = test_params("self", 0x0a000001, 1, &sim[0]);
	struct gsp_wire_state old = sample_state(55, "old");
	struct gsp_wire_state cur = sample_state(66, "new");
	struct gsp_member_view v;
	char key[16], value[GSP_APP_VALUE_MAX];
	struct gsp_node *n;
	uint8_t count = 0;
	int err;

	(void)state;
	sim[0].addr = p.addr;
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	old.wire = 4;
	cur.wire = 5;
	feed(n, &old, 1 * MS);
	feed(n, &cur, 1 * MS);
	/* within v4's bounds: both get it */
	assert_int_equal(gsp_node_set_app(n, "k0", "v"), 0);
	assert_int_equal(ack2_states_for(n, 55, gsp_node_id(n), 2 * MS,
					 &count), 1);
	assert_int_equal(ack2_states_for(n, 66, gsp_node_id(n), 2 * MS,
					 &count), 1);
	/* a 255-byte value: only the member on 5 */
	memset(value, 'x', GSP_APP_VALUE_MAX - 1);
	value[GSP_APP_VALUE_MAX - 1] = '\0';
	assert_int_equal(gsp_node_set_app(n, "big", value), 0);
	assert_int_equal(ack2_states_for(n, 55, gsp_node_id(n), 3 * MS,
					 &count), 0);
	assert_int_equal(ack2_states_for(n, 66, gsp_node_id(n), 3 * MS,
					 &count), 1);
	assert_int_equal(count, 2);
	assert_int_equal(gsp_node_del_app(n, "big"), 0);
	/* 16 keys */
	for (int i = 1; i < GSP_APP_KEYS_MAX; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(gsp_node_set_app(n, key, "v"), 0);
	}
	assert_true(member_of(n, gsp_node_id(n), &v));
	assert_int_equal(v.app_count, 16);
	assert_int_equal(ack2_states_for(n, 55, gsp_node_id(n), 4 * MS,
					 &count), 0);
	assert_int_equal(ack2_states_for(n, 66, gsp_node_id(n), 4 * MS,
					 &count), 1);
	assert_int_equal(count, 16);
	/* 1024 key and value bytes at most: 38 key bytes and 16 one-byte
	 * values make 54; three values of 255 make 816, a fourth 1070 */
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(gsp_node_set_app(n, key, value), 0);
	}
	assert_int_equal(gsp_node_set_app(n, "k3", value), -E2BIG);
	/* leaving with a wide state while a member speaks 4: the LEFT state
	 * goes without app state, to everyone alike, so that member hears
	 * the leave */
	net_n = 0;
	gsp_node_leave(n, 5 * MS);
	assert_true(net_n > 0);
	for (unsigned int i = 0; i < net_n; i++) {
		struct gsp_wire_msg m;

		assert_int_equal(decode(net_q[i].data, net_q[i].len, &m),
				 GSP_RX_OK);
		if (m.hdr.type == GSP_MSG_LEAVE) {
			assert_int_equal(m.n_states, 1);
			assert_int_equal(m.states[0].app_count, 0);
			count = 99;
		}
		free(net_q[i].data);
	}
	net_n = 0;
	assert_int_equal(count, 99);
	assert_true(member_of(n, gsp_node_id(n), &v));
	assert_int_equal(v.app_count, 0);
	assert_int_equal(v.state, GSP_STATE_LEFT);
	gsp_node_destroy(n);

	/* a node on 4 keeps to 4's bounds, and drops what it cannot read */
	p.wire_version = 4;
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	assert_int_equal(gsp_node_set_app(n, "big", value), -E2BIG);
	cur.app_count = 9;
	for (int i = 2; i < 9; i++) {
		cur.app[i] = (struct gsp_app_entry){ .version = 12 };
		snprintf(cur.app[i].key, sizeof(cur.app[i].key), "k%d", i);
	}
	feed(n, &cur, 1 * MS);
	assert_false(member_of(n, 66, &v));
	cur.app_count = 8;
	feed(n, &cur, 1 * MS);
	assert_true(member_of(n, 66, &v));
	gsp_node_destroy(n);
}

/* A forged ACK asking 60 times for one member gets it once. */
static void
test_ack2_answers_once(void **state)
{
	struct gsp_node_params p = test_params("self", 0x0a000001, 1, &sim[0]);
	struct gsp_wire_state st = sample_state(55, "peer");
	struct gsp_addr src = { 0x0a000009, 7946 };
	struct gsp_wire_writer w;
	struct gsp_wire_msg m;
	struct gsp_node *n;
	uint8_t buf[1500];
	unsigned int states = 0;
	int err;

	(void)state;
	sim[0].addr = p.addr;
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	feed(n, &st, 1 * MS);
	net_n = 0;
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_ACK,
		       gsp_cluster_hash(CLUSTER), 999);
	for (int i = 0; i < 60; i++) {
		struct gsp_digest d = { 55, 7, 1 };

		assert_true(gsp_wire_put_digest(&w, &d));
	}
	gsp_node_rx(n, &src, buf, gsp_wire_finish(&w), 2 * MS, NULL);
	for (unsigned int i = 0; i < net_n; i++) {
		assert_int_equal(decode(net_q[i].data, net_q[i].len, &m),
				 GSP_RX_OK);
		assert_int_equal(m.hdr.type, GSP_MSG_ACK2);
		states += m.n_states;
		free(net_q[i].data);
	}
	net_n = 0;
	assert_int_equal(states, 1);
	gsp_node_destroy(n);
}

/* The types of the datagrams a node queued, counted; the queue is
 * emptied. *syn_digests adds up the digests the SYNs list. */
static void
drain_types(unsigned int *sums, unsigned int *syns, unsigned int *syn_digests)
{
	struct gsp_wire_msg m;

	*sums = *syns = *syn_digests = 0;
	for (unsigned int i = 0; i < net_n; i++) {
		assert_int_equal(decode(net_q[i].data, net_q[i].len, &m),
				 GSP_RX_OK);
		if (m.hdr.type == GSP_MSG_SUM)
			(*sums)++;
		if (m.hdr.type == GSP_MSG_SYN) {
			(*syns)++;
			*syn_digests += m.n_digests;
		}
		free(net_q[i].data);
	}
	net_n = 0;
}

/* The answers to a SUM of level-4 hashes, read from the queue and
 * emptied: the SUMs sent (steps down), and the level-4 buckets the SYNs
 * list. Every listed bucket must be listed whole: SYN ranges that join
 * into whole buckets, never a listing cut short. */
static void
sum_answers(unsigned int *sums, unsigned int *listed)
{
	const uint64_t bucket = 1ull << 60;
	uint64_t lo[64], hi[64];
	struct gsp_wire_msg m;
	unsigned int k = 0;

	*sums = *listed = 0;
	for (unsigned int i = 0; i < net_n; i++) {
		assert_int_equal(decode(net_q[i].data, net_q[i].len, &m),
				 GSP_RX_OK);
		if (m.hdr.type == GSP_MSG_SUM)
			(*sums)++;
		if (m.hdr.type == GSP_MSG_SYN) {
			assert_true(k < 64);
			lo[k] = m.range_lo;
			hi[k] = m.range_hi;
			/* in order by lo */
			for (unsigned int j = k; j > 0 && lo[j - 1] > lo[j];
			     j--) {
				uint64_t tl = lo[j], th = hi[j];

				lo[j] = lo[j - 1];
				hi[j] = hi[j - 1];
				lo[j - 1] = tl;
				hi[j - 1] = th;
			}
			k++;
		}
		free(net_q[i].data);
	}
	net_n = 0;
	for (unsigned int i = 0; i < k;) {
		uint64_t a = lo[i], z = hi[i];

		while (++i < k && z != UINT64_MAX && lo[i] == z + 1)
			z = hi[i];
		assert_int_equal(a % bucket, 0);
		assert_true(z == UINT64_MAX || (z + 1) % bucket == 0);
		*listed += (unsigned int)(z / bucket - a / bucket) + 1;
	}
}

/* A node that knows member 999 (the SUMs' sender), with syn_packets
 * SYN packets per listing (0: the default). */
static struct gsp_node *
sum_node(uint32_t syn_packets)
{
	struct gsp_node_params p = test_params("self", 0x0a000001, 1, &sim[0]);
	struct gsp_wire_state st = sample_state(999, "peer");
	struct gsp_node *n;
	int err;

	p.syn_packets = syn_packets;
	sim[0].addr = p.addr;
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	feed(n, &st, 1 * MS);
	return n;
}

/* Member 10000 + k, named mk, learned by n. */
static void
feed_member(struct gsp_node *n, unsigned int k)
{
	struct gsp_wire_state st;
	char name[16];

	snprintf(name, sizeof(name), "m%u", k);
	st = sample_state(10000 + k, name);
	feed(n, &st, 1 * MS);
}

/* Node n's own first SUM, decoded into *mine, its hashes copied into
 * hashes (16 of them) */
static void
own_sum(struct gsp_node *n, struct gsp_wire_msg *mine, uint8_t *hashes)
{
	struct gsp_addr peer = { 0x0a000009, 7946 };

	net_n = 0;
	gsp_sync_start(n, &peer);
	assert_int_equal(net_n, 1);
	assert_int_equal(decode(net_q[0].data, net_q[0].len, mine),
			 GSP_RX_OK);
	assert_int_equal(mine->hdr.type, GSP_MSG_SUM);
	assert_int_equal(mine->n_hashes, 16);
	memcpy(hashes, mine->sum_hashes, 8 * 16);
	free(net_q[0].data);
	net_n = 0;
}

/* Node n's own first SUM (16 hashes of level 4) sent back to it from
 * member 999, with the hashes whose bit is set in `flip` changed. */
static void
sum_back(struct gsp_node *n, const struct gsp_wire_msg *mine,
	 const uint8_t *hashes, uint32_t flip, uint64_t now)
{
	struct gsp_addr src = { 0x0a000009, 7946 };
	struct gsp_wire_writer w;
	uint8_t buf[1500];

	gsp_wire_begin_v(&w, buf, sizeof(buf), GSP_MSG_SUM, mine->hdr.version,
			 gsp_cluster_hash(CLUSTER), 999);
	gsp_wire_set_sum(&w, mine->sum_level, mine->sum_first,
			 mine->sum_members);
	for (uint32_t i = 0; i < mine->n_hashes; i++)
		assert_true(gsp_wire_put_hash(&w, gsp_get_le64(hashes + 8 * i) ^
					      ((flip >> i & 1) ? 0x5a5a : 0)));
	gsp_node_rx(n, &src, buf, gsp_wire_finish(&w), now, NULL);
}

/*
 * Range sync: a SUM that differs in one bucket steps down into it (a SUM
 * of its 16 children: cheap in bytes for a few changes); one that differs
 * in most (a cold join, a healed partition) lists the buckets that differ,
 * one SYN packet each, instead of descending into 16 children each; a
 * differing range too large for a window of SYN packets is descended
 * into all the same.
 */
static void
test_sum_dense_lists_sparse_descends(void **state)
{
	unsigned int sums, syns, digests, listed;
	struct gsp_wire_msg mine;
	uint8_t hashes[8 * 16];
	struct gsp_node *n;
	uint64_t now = 1 * MS;

	(void)state;
	n = sum_node(0);
	for (unsigned int k = 0; k < 1000; k++)
		feed_member(n, k);
	own_sum(n, &mine, hashes);
	assert_int_equal(mine.sum_members, 1002);

	/* the same view: nothing to do */
	sum_back(n, &mine, hashes, 0, now);
	drain_types(&sums, &syns, &digests);
	assert_int_equal(sums + syns, 0);

	/* one bucket of about 63 members differs: a step down */
	sum_back(n, &mine, hashes, 1u << 5, now);
	drain_types(&sums, &syns, &digests);
	assert_int_equal(sums, 1);
	assert_int_equal(syns, 0);

	/* three of 16: still sparse */
	sum_back(n, &mine, hashes, 0x0111, now);
	drain_types(&sums, &syns, &digests);
	assert_int_equal(sums, 3);
	assert_int_equal(syns, 0);

	/* four of 16: dense, so each is listed whole, not stepped into */
	sum_back(n, &mine, hashes, 0x000f, now);
	sum_answers(&sums, &listed);
	assert_int_equal(sums, 0);
	assert_int_equal(listed, 4);

	/* all 16 differ: 8 of them (the most a SUM answers) listed, about
	 * 500 members in one or two packets each (59 digests fill one),
	 * and no step down */
	sum_back(n, &mine, hashes, 0xffff, now);
	drain_types(&sums, &syns, &digests);
	assert_int_equal(sums, 0);
	assert_in_range(syns, 8, 16);
	assert_in_range(digests, 8 * 40, 8 * 90);
	sum_back(n, &mine, hashes, 0xffff, now);
	sum_answers(&sums, &listed);
	assert_int_equal(listed, 8);

	/* the whole key space differs and holds 1,002 members, more than a
	 * window of 4 packets of 59 lists: a step down */
	mine.sum_level = 0;
	mine.n_hashes = 1;
	sum_back(n, &mine, hashes, 1, now);
	drain_types(&sums, &syns, &digests);
	assert_int_equal(sums, 1);
	assert_int_equal(syns, 0);
	gsp_node_destroy(n);
}

/*
 * A dense SUM lists a bucket only when the listing fits its window whole:
 * SYN packets hold whole buckets of ours, so a range of up to 2 x 59
 * members may need three packets of 59. With two packets per listing, a
 * range that packs into more is stepped into instead; listed cut short,
 * its end would never be compared, at every sync alike. Swept over table
 * sizes that put the level-4 buckets around 118 members.
 */
static void
test_sum_dense_listing_is_whole(void **state)
{
	unsigned int sums, listed, both = 0;
	struct gsp_wire_msg mine;
	uint8_t hashes[8 * 16];
	struct gsp_node *n;
	uint64_t now = 1 * MS;

	(void)state;
	n = sum_node(2);
	for (unsigned int k = 0; k < 2000; k++) {
		feed_member(n, k);
		if (k < 1600 || k % 4 != 0)
			continue;
		own_sum(n, &mine, hashes);
		sum_back(n, &mine, hashes, 0xffff, now);
		sum_answers(&sums, &listed);	/* each listing whole */
		assert_int_equal(sums + listed, 8);
		both += sums != 0 && listed != 0;
	}
	/* the sweep met sizes where some buckets fit and others did not */
	assert_true(both > 0);
	gsp_node_destroy(n);
}

/* -------------------------------- phi --------------------------------- */

static void
test_phi_values(void **state)
{
	struct gsp_phi fd;

	(void)state;
	/* one sample of 1 s: phi(t) = t / (1 s * ln 10) */
	gsp_phi_init(&fd, 0, 1000 * MS);
	assert_true(fabs(gsp_phi_value(&fd, 0, 0)) < 1e-9);
	assert_true(fabs(gsp_phi_value(&fd, 1000 * MS, 0) - 0.4342945) < 1e-6);
	/* intervals 1 s (initial), 1 s, 2 s, 4 s: mean 2 s */
	gsp_phi_heartbeat(&fd, 1000 * MS);
	gsp_phi_heartbeat(&fd, 3000 * MS);
	gsp_phi_heartbeat(&fd, 7000 * MS);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 0) - 2000.0 * MS) < 1.0);
	/* 3 s after the last arrival: 3 / (2 ln 10) = 0.6514417 */
	assert_true(fabs(gsp_phi_value(&fd, 10000 * MS, 0) - 0.6514417) < 1e-6);
	/* the threshold 8 is crossed at 8 * ln 10 * 2 s = 36.84 s */
	assert_true(gsp_phi_value(&fd, 7000 * MS + 36800 * MS, 0) < 8.0);
	assert_true(gsp_phi_value(&fd, 7000 * MS + 36900 * MS, 0) > 8.0);
	/* the mean follows the arrivals: after 12 intervals of 100 ms the
	 * window is full, (4 * 2 s + 12 * 100 ms) / 16 = 575 ms */
	for (int i = 1; i <= 12; i++)
		gsp_phi_heartbeat(&fd, 7000 * MS + i * 100 * MS);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 0) - 575.0 * MS) < 1000.0);
	/* then each weighs 1/16: within 1 % of 100 ms after 100 more */
	for (int i = 13; i <= 112; i++)
		gsp_phi_heartbeat(&fd, 7000 * MS + i * 100 * MS);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 0) - 100.0 * MS) < 1.0 * MS);
	/* a stall of 10 minutes counts as 65.535 s, once */
	gsp_phi_init(&fd, 0, 100 * MS);
	gsp_phi_heartbeat(&fd, 600000 * MS);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 0) - 32817.5 * MS) < 1.0 * MS);
	/* the floor keeps bursts from making a peer look dead at once */
	gsp_phi_init(&fd, 0, 1 * MS);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 50 * MS) - 50.0 * MS) < 1.0);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 0) - 1.0 * MS) < 1.0);
	/* a stall of our own is forgiven */
	gsp_phi_shift(&fd, 500 * MS);
	assert_true(gsp_phi_value(&fd, 500 * MS, 0) < 1e-9);
}

/* The index keeps every id findable through inserts and removals that
 * shift probe chains, and refuses what does not fit. */
static void
test_index_churn(void **state)
{
	struct gsp_table *t = gsp_table_create("churn", 64, NULL, NULL);
	uint64_t held[64], rng = 42;
	uint32_t n = 0;

	(void)state;
	assert_non_null(t);
	for (int op = 0; op < 20000; op++) {
		/* few distinct ids, so the same ones come and go */
		uint64_t id = 1 + gsp_rand_below(&rng, 200);
		int32_t slot = gsp_table_find(t, id);
		uint32_t k;

		for (k = 0; k < n && held[k] != id; k++)
			;
		assert_int_equal(slot >= 0, k < n);
		if (slot >= 0) {
			assert_int_equal(gsp_table_rec_id(t,
					 gsp_table_rec(t, (uint32_t)slot)), id);
			gsp_table_remove(t, (uint32_t)slot);
			held[k] = held[--n];
		} else {
			slot = gsp_table_insert(t, id);
			if (n == 64) {
				assert_int_equal(slot, -ENOSPC);
				continue;
			}
			assert_true(slot >= 0);
			gsp_table_write_end(gsp_table_rec(t, (uint32_t)slot));
			held[n++] = id;
			/* a full table says so before it looks */
			assert_int_equal(gsp_table_insert(t, id),
					 n < 64 ? -EEXIST : -ENOSPC);
		}
	}
	for (uint32_t k = 0; k < n; k++)
		assert_true(gsp_table_find(t, held[k]) >= 0);
	gsp_table_destroy(t);
}

/* Tables written by one thread share one copy of each name. */
static void
test_names_shared(void **state)
{
	struct gsp_names *pool = gsp_names_create(4);
	struct gsp_table *a, *b;
	struct gsp_member_rec *ra, *rb, *rc;
	struct gsp_member_view v;
	char longname[GSP_NAME_MAX + 8];
	uint32_t off;

	(void)state;
	assert_non_null(pool);
	a = gsp_table_create("a", 8, NULL, pool);
	b = gsp_table_create("b", 8, NULL, pool);
	assert_non_null(a);
	assert_non_null(b);
	gsp_names_destroy(pool);	/* the tables hold it now */
	ra = gsp_table_rec(a, (uint32_t)gsp_table_insert(a, 7));
	rb = gsp_table_rec(b, (uint32_t)gsp_table_insert(b, 7));
	assert_int_equal(gsp_table_set_name(a, ra, "node7"), 0);
	assert_int_equal(gsp_table_set_name(b, rb, "node7"), 0);
	gsp_table_write_end(ra);
	gsp_table_write_end(rb);
	/* one slot for both */
	assert_int_equal(ra->name_off, rb->name_off);
	assert_string_equal(gsp_table_name(b, rb), "node7");
	/* a renames its member: b keeps the old name */
	off = ra->name_off;
	gsp_table_write_begin(ra);
	assert_int_equal(gsp_table_set_name(a, ra, "node7-renamed"), 0);
	gsp_table_write_end(ra);
	assert_int_not_equal(ra->name_off, off);
	assert_string_equal(gsp_table_name(b, rb), "node7");
	assert_true(gsp_table_read(a, (uint32_t)gsp_table_find(a, 7), &v));
	assert_string_equal(v.name, "node7-renamed");
	/* the last holder lets go: the slot is reused for the next name */
	gsp_table_remove(b, (uint32_t)gsp_table_find(b, 7));
	rc = gsp_table_rec(b, (uint32_t)gsp_table_insert(b, 8));
	assert_int_equal(gsp_table_set_name(b, rc, "node8"), 0);
	gsp_table_write_end(rc);
	assert_int_equal(rc->name_off, off);
	/* names are cut at GSP_NAME_MAX - 1 bytes and still shared */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	rb = gsp_table_rec(b, (uint32_t)gsp_table_insert(b, 9));
	assert_int_equal(gsp_table_set_name(b, rb, longname), 0);
	gsp_table_write_end(rb);
	assert_int_equal(strlen(gsp_table_name(b, rb)), GSP_NAME_MAX - 1);
	gsp_table_destroy(a);
	gsp_table_destroy(b);
}

/* Tables written by one thread share one id -> slot catalog: a member has
 * the same slot in each, a table finds only its own members, and a slot
 * is reused only once every table let it go. */
static void
test_ids_shared(void **state)
{
	struct gsp_ids *cat = gsp_ids_create("cat", 4);
	struct gsp_table *a, *b;
	struct gsp_member_view v;
	int32_t sa, sb, s2;

	(void)state;
	assert_non_null(cat);
	a = gsp_table_create("a", 4, cat, NULL);
	b = gsp_table_create("b", 4, cat, NULL);
	assert_non_null(a);
	assert_non_null(b);
	/* a table cannot promise more members than the catalog holds */
	assert_null(gsp_table_create("c", 5, cat, NULL));
	gsp_ids_destroy(cat);	/* the tables hold it now */
	sa = gsp_table_insert(a, 7);
	assert_true(sa >= 0);
	gsp_table_write_end(gsp_table_rec(a, (uint32_t)sa));
	assert_int_equal(gsp_table_find(b, 7), -ENOENT);
	assert_false(gsp_table_read(b, (uint32_t)sa, &v));
	sb = gsp_table_insert(b, 7);
	gsp_table_write_end(gsp_table_rec(b, (uint32_t)sb));
	assert_int_equal(sa, sb);
	assert_int_equal(gsp_table_insert(b, 7), -EEXIST);
	/* a lets go: b keeps the member, and the slot stays 7's */
	gsp_table_remove(a, (uint32_t)sa);
	assert_int_equal(gsp_table_find(a, 7), -ENOENT);
	assert_int_equal(gsp_table_find(b, 7), sb);
	assert_true(gsp_table_read(b, (uint32_t)sb, &v));
	assert_int_equal(v.id, 7);
	s2 = gsp_table_insert(a, 8);
	gsp_table_write_end(gsp_table_rec(a, (uint32_t)s2));
	assert_int_not_equal(s2, sb);
	/* the last holder lets go: the next id may take the slot */
	gsp_table_remove(b, (uint32_t)sb);
	assert_false(gsp_table_read(b, (uint32_t)sb, &v));
	for (uint64_t id = 9; id < 12; id++) {
		int32_t s = gsp_table_insert(b, id);

		assert_true(s >= 0);
		gsp_table_write_end(gsp_table_rec(b, (uint32_t)s));
		assert_true(gsp_table_read(b, (uint32_t)s, &v));
		assert_int_equal(v.id, id);
	}
	/* four distinct ids fill the catalog although a holds only one */
	assert_int_equal(gsp_table_insert(a, 12), -ENOBUFS);
	assert_true(gsp_table_read(a, (uint32_t)s2, &v));
	assert_int_equal(v.id, 8);
	/* a table destroyed gives its slots back: b's three go, and a can
	 * take three new ids (a sim node's restart makes a new table) */
	gsp_table_destroy(b);
	assert_int_equal(gsp_ids_find(a->ids, 9), -ENOENT);
	for (uint64_t id = 12; id < 15; id++) {
		int32_t s = gsp_table_insert(a, id);

		assert_true(s >= 0);
		gsp_table_write_end(gsp_table_rec(a, (uint32_t)s));
	}
	gsp_table_destroy(a);
}

/* A table whose few members hold high slots of a shared catalog (early
 * in a join) still draws its members at random, each of them. */
static void
test_table_random_sparse(void **state)
{
	struct gsp_ids *cat = gsp_ids_create("cat", 256);
	struct gsp_table *a = gsp_table_create("a", 256, cat, NULL);
	struct gsp_table *b = gsp_table_create("b", 256, cat, NULL);
	uint32_t seen = 0, hw;
	uint64_t rng = 7;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	gsp_ids_destroy(cat);
	assert_int_equal(gsp_table_random(b, &rng), GSP_NONE);
	for (uint64_t id = 1; id <= 200; id++)
		gsp_table_write_end(gsp_table_rec(a,
			(uint32_t)gsp_table_insert(a, id)));
	for (uint64_t id = 195; id <= 200; id++)
		gsp_table_write_end(gsp_table_rec(b,
			(uint32_t)gsp_table_insert(b, id)));
	hw = gsp_table_slot_count(b);
	assert_true(hw >= 200);
	for (int i = 0; i < 1000; i++) {
		uint32_t slot = gsp_table_random(b, &rng);

		assert_true(slot < hw);
		assert_true(gsp_table_has(b, slot));
		seen |= 1u << (gsp_table_rec_id(b, gsp_table_rec(b, slot)) -
			       195);
	}
	assert_int_equal(seen, 0x3f);
	/* dense: any slot below the high water, as before */
	for (int i = 0; i < 1000; i++)
		assert_true(gsp_table_random(a, &rng) <
			    gsp_table_slot_count(a));
	gsp_table_destroy(a);
	gsp_table_destroy(b);
}

/* A pool never grows past its size: a full one refuses the name. */
static void
test_names_full(void **state)
{
	struct gsp_names *pool = gsp_names_create(1);	/* 128 bytes */
	char name[GSP_NAME_MAX];
	int64_t off;
	int taken = 0;

	(void)state;
	assert_non_null(pool);
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "member-%02d", i);
		off = gsp_names_get(pool, name);
		if (off == -ENOSPC)
			break;
		assert_true(off >= 0);
		taken++;
	}
	assert_int_equal(taken, 8);		/* 128 / 16 */
	assert_int_equal(gsp_names_get(pool, "member-99"), -ENOSPC);
	/* a name it holds is still found, and one let go makes room */
	assert_int_equal(gsp_names_get(pool, "member-03"), 48);
	gsp_names_put(pool, 48);
	gsp_names_put(pool, 48);
	assert_int_equal(gsp_names_get(pool, "member-99"), 48);
	assert_string_equal(gsp_names_at(pool, 48), "member-99");
	gsp_names_destroy(pool);
}

/* ------------------------- table concurrency -------------------------- */

struct hammer {
	struct gsp_table *t;
	volatile bool stop;
	uint64_t writes;
};

static void *
hammer_writer(void *arg)
{
	struct hammer *h = arg;
	struct gsp_app_entry app[GSP_APP_KEYS_MAX];
	char name[GSP_NAME_MAX];
	uint64_t k = 1;

	while (!h->stop) {
		for (uint32_t slot = 0; slot < 8; slot++) {
			struct gsp_member_rec *r = gsp_table_rec(h->t, slot);
			/* names of changing length move between arena slots */
			size_t len = 5 + k % 50;
			uint8_t n_app = (uint8_t)(1 + k % GSP_APP_KEYS_MAX);

			memset(name, 'a' + (int)(k % 26), len);
			name[len] = '\0';
			memset(app, (int)(k & 0x7f), sizeof(app));
			for (int i = 0; i < GSP_APP_KEYS_MAX; i++) {
				app[i].key[GSP_APP_KEY_MAX - 1] = '\0';
				app[i].value[GSP_APP_VALUE_MAX - 1] = '\0';
				app[i].version = k;
			}
			/* n_app moves the record between block sizes */
			assert_true(gsp_table_app_ready(h->t, n_app));
			gsp_table_write_begin(r);
			r->generation = k;
			r->heartbeat = k;
			r->version = k;
			r->phi_centi = (uint16_t)(k % GSP_PHI_CENTI_MAX);
			gsp_table_set_name(h->t, r, name);
			gsp_table_set_app(h->t, r, app, n_app);
			gsp_table_write_end(r);
			k++;
		}
		h->writes = k;
	}
	return NULL;
}

static void
test_table_concurrency(void **state)
{
	struct hammer h = { .t = gsp_table_create("hammer", 64, NULL, NULL) };
	struct gsp_member_view v;
	uint64_t reads = 0;
	pthread_t tid;

	(void)state;
	assert_non_null(h.t);
	for (uint64_t id = 1; id <= 8; id++)
	{
		int32_t slot = gsp_table_insert(h.t, id);

		assert_true(slot >= 0);
		gsp_table_write_end(gsp_table_rec(h.t, (uint32_t)slot));
	}
	assert_int_equal(gsp_table_slot_count(h.t), 8);
	assert_int_equal(pthread_create(&tid, NULL, hammer_writer, &h), 0);
	while (reads < 2000000) {
		for (uint32_t slot = 0; slot < 8; slot++, reads++) {
			uint64_t k;

			assert_true(gsp_table_read(h.t, slot, &v));
			if (v.generation == 0)
				continue;
			k = v.generation;
			/* every field, name and app entry from the same write */
			assert_int_equal(v.heartbeat, k);
			assert_int_equal(v.version, k);
			assert_int_equal(v.phi_milli,
					 10u * (k % GSP_PHI_CENTI_MAX));
			assert_int_equal(strlen(v.name), 5 + k % 50);
			assert_int_equal(v.name[0], 'a' + (int)(k % 26));
			assert_int_equal(v.name[4 + k % 50], v.name[0]);
			assert_int_equal(v.app_count, 1 + k % GSP_APP_KEYS_MAX);
			for (uint8_t i = 0; i < v.app_count; i++) {
				assert_int_equal(v.app[i].version, k);
				assert_int_equal((uint8_t)v.app[i].key[0],
						 (uint8_t)(k & 0x7f));
				assert_int_equal((uint8_t)v.app[i].value[62],
						 (uint8_t)(k & 0x7f));
				assert_int_equal((uint8_t)v.app[i].value[254],
						 (uint8_t)(k & 0x7f));
			}
		}
	}
	h.stop = true;
	pthread_join(tid, NULL);
	assert_true(h.writes > 1000);	/* the writer really ran */
	/* removal frees the slot for readers */
	gsp_table_remove(h.t, 3);
	assert_false(gsp_table_read(h.t, 3, &v));
	gsp_table_destroy(h.t);
}

/* ------------------------- in-memory clusters ------------------------- */

static unsigned int
run_until_converged(unsigned int n, uint64_t *now, unsigned int max_rounds)
{
	for (unsigned int r = 0; r < max_rounds; r++) {
		for (int sub = 0; sub < 10; sub++) {
			*now += 10 * MS;
			sim_step(*now);
		}
		if (all_see_alive(n))
			return r + 1;
	}
	return 0;
}

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
	uint64_t now = 1000 * MS, end, sent_at = 0, deadline[2];
	unsigned int wakes[2] = { 0, 0 };
	struct gsp_node_counters c0, c1;

	(void)state;
	swim_start_all(2, 100);
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
	gsp_node_counters_read(sim[0].node, &c0);
	end = now + periods * 100 * MS;
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
		for (unsigned int i = 0; i < 2; i++)
			if (now >= deadline[i]) {
				wakes[i]++;
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
		cmocka_unit_test(test_wire_roundtrip),
		cmocka_unit_test(test_wire_rejects),
		cmocka_unit_test(test_wire_fuzz_bytes),
		cmocka_unit_test(test_merge_rules),
		cmocka_unit_test(test_app_state_limits),
		cmocka_unit_test(test_app_state_wide),
		cmocka_unit_test(test_ack2_answers_once),
		cmocka_unit_test(test_sum_dense_lists_sparse_descends),
		cmocka_unit_test(test_sum_dense_listing_is_whole),
		cmocka_unit_test(test_phi_values),
		cmocka_unit_test(test_table_concurrency),
		cmocka_unit_test(test_index_churn),
		cmocka_unit_test(test_names_shared),
		cmocka_unit_test(test_ids_shared),
		cmocka_unit_test(test_table_random_sparse),
		cmocka_unit_test(test_names_full),
		cmocka_unit_test(test_cluster_lifecycle),
		cmocka_unit_test(test_cluster_split_digests),
		cmocka_unit_test(test_cluster_deterministic),
		cmocka_unit_test(test_swim_detect_refute_stall),
		cmocka_unit_test(test_swim_timers_one_wake_per_period),
		cmocka_unit_test(test_name_reclaim),
		cmocka_unit_test(test_cluster_bounded_traffic),
	};

	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
