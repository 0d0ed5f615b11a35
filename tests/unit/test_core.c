/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the protocol core: merge rules, phi accrual, tables
 * (index, names, ids) and their concurrent readers. The wire format is in
 * test_wire.c, anti-entropy in test_sync.c, whole clusters in
 * test_cluster.c.
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
#include "gsp_member.h"
#include "gsp_names.h"
#include "gsp_phi.h"
#include "gsp_swim_int.h"
#include "gsp_table.h"
#include "gsp_util.h"
#include "gsp_wire.h"
#include "test_member.h"
#include "test_net.h"

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
	assert_true(gsp_node_view_check(n));
	gsp_node_destroy(n);
}

/* Member id says it is named name (at version, from the sample's 12):
 * the name conflicts reported so far. */
static unsigned int
named(struct gsp_node *n, uint64_t id, const char *name, uint64_t version,
      uint64_t now)
{
	struct gsp_wire_state st = sample_state(id, name);

	st.version = st.heartbeat = version;
	feed(n, &st, now);
	return name_conflicts;
}

/*
 * Names are indexed from the first explicit id on, over the members
 * already held, and follow a member that changes its name: conflicts are
 * found by name lookups, not a walk of the table per new member.
 */
static void
test_name_index_follows_names(void **state)
{
	struct gsp_node *n = lone_node();
	char name[GSP_NAME_MAX];

	(void)state;
	for (unsigned int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		named(n, gsp_id_from_name(name), name, 12, 1 * MS);
	}
	name_conflicts = 0;
	/* m7 renames itself under the same id: the name m7 is free */
	named(n, gsp_id_from_name("m7"), "renamed", 13, 2 * MS);
	assert_int_equal(named(n, 9001, "m3", 12, 3 * MS), 1);
	assert_int_equal(named(n, 9002, "m7", 12, 4 * MS), 1);
	assert_int_equal(named(n, 9003, "renamed", 12, 5 * MS), 2);
	/* indexed from here on: a rename moves the member between names */
	named(n, gsp_id_from_name("m8"), "m8-new", 13, 6 * MS);
	assert_int_equal(named(n, 9004, "m8", 12, 7 * MS), 2);
	assert_int_equal(named(n, 9005, "m8-new", 12, 8 * MS), 3);
	assert_true(gsp_node_view_check(n));
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

/* -------------------------------- phi --------------------------------- */

static void
test_phi_values(void **state)
{
	struct gsp_phi fd;

	(void)state;
	/* one sample of 1 s: phi(t) = t / (1 s * ln 10) */
	gsp_phi_init(&fd, 1000 * MS);
	assert_true(fabs(gsp_phi_value(&fd, 0, 0)) < 1e-9);
	assert_true(fabs(gsp_phi_value(&fd, 1000 * MS, 0) - 0.4342945) < 1e-6);
	/* intervals 1 s (initial), 1 s, 2 s, 4 s: mean 2 s */
	gsp_phi_sample(&fd, 1000 * MS);
	gsp_phi_sample(&fd, 2000 * MS);
	gsp_phi_sample(&fd, 4000 * MS);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 0) - 2000.0 * MS) < 1.0);
	/* 3 s of silence: 3 / (2 ln 10) = 0.6514417 */
	assert_true(fabs(gsp_phi_value(&fd, 3000 * MS, 0) - 0.6514417) < 1e-6);
	/* the threshold 8 is crossed at 8 * ln 10 * 2 s = 36.84 s */
	assert_true(gsp_phi_value(&fd, 36800 * MS, 0) < 8.0);
	assert_true(gsp_phi_value(&fd, 36900 * MS, 0) > 8.0);
	/* the mean follows the arrivals: after 12 intervals of 100 ms the
	 * window is full, (4 * 2 s + 12 * 100 ms) / 16 = 575 ms */
	for (int i = 1; i <= 12; i++)
		gsp_phi_sample(&fd, 100 * MS);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 0) - 575.0 * MS) < 1000.0);
	/* then each weighs 1/16: within 1 % of 100 ms after 100 more */
	for (int i = 13; i <= 112; i++)
		gsp_phi_sample(&fd, 100 * MS);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 0) - 100.0 * MS) < 1.0 * MS);
	/* a stall of 10 minutes counts as 65.535 s, once */
	gsp_phi_init(&fd, 100 * MS);
	gsp_phi_sample(&fd, 600000 * MS);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 0) - 32817.5 * MS) < 1.0 * MS);
	/* the floor keeps bursts from making a peer look dead at once */
	gsp_phi_init(&fd, 1 * MS);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 50 * MS) - 50.0 * MS) < 1.0);
	assert_true(fabs(gsp_phi_mean_ns(&fd, 0) - 1.0 * MS) < 1.0);
}

/* The record of the member with id in lone node n. */
static struct gsp_member_rec *
rec_of(struct gsp_node *n, uint64_t id)
{
	int32_t slot = gsp_table_find(n->table, id);

	assert_true(slot >= 0);
	return gsp_rec(n, (uint32_t)slot);
}

/* A heartbeat of member st (fed to n at now): st's next. */
static void
beat(struct gsp_node *n, struct gsp_wire_state *st, uint64_t now)
{
	st->heartbeat++;
	st->version++;
	feed(n, st, now);
}

/* phi's mean of the member in r after one more sample of interval_ns. */
static uint32_t
mean_after(const struct gsp_member_rec *r, uint64_t interval_ns)
{
	struct gsp_phi fd = gsp_rec_phi(r);

	gsp_phi_sample(&fd, interval_ns);
	return fd.mean_us;
}

/*
 * Phi weighs a member's silence less our own stalls begun since it was
 * last heard, from the ring of our latest stalls: a stall before it was
 * heard is no excuse (even one counted after), a heartbeat takes the
 * interval less the stalls, one the stalls cover whole takes none, and
 * a member heard before all 32 stalls kept is excused those 32.
 */
static void
test_phi_excuses_own_stalls(void **state)
{
	struct gsp_node *n = lone_node();
	struct gsp_wire_state a = sample_state(55, "a");
	struct gsp_wire_state b = sample_state(56, "b");
	struct gsp_wire_state c = sample_state(57, "c");
	struct gsp_member_rec *ra, *rb, *rc;
	uint64_t t0, mean;

	(void)state;
	feed(n, &a, 1000 * MS);
	ra = rec_of(n, 55);
	assert_true(gsp_heard_ns(ra) <= 1000 * MS &&
		    gsp_heard_ns(ra) > 1000 * MS - 4096);
	assert_int_equal(gsp_silent_ns(n, ra, 3000 * MS),
			 3000 * MS - gsp_heard_ns(ra));
	/* a stall from 1.5 s, counted at 2 s; b is heard at 2 s, after
	 * the stall: only a, heard before it began, is excused it */
	gsp_pause_add(n, 2000 * MS, 500 * MS);
	feed(n, &b, 2000 * MS);
	rb = rec_of(n, 56);
	assert_int_equal(gsp_silent_ns(n, ra, 3000 * MS),
			 3000 * MS - gsp_heard_ns(ra) - 500 * MS);
	assert_int_equal(gsp_silent_ns(n, rb, 3000 * MS),
			 3000 * MS - gsp_heard_ns(rb));
	/* a's heartbeat: phi takes the interval less the stall */
	mean = mean_after(ra, 3000 * MS - gsp_heard_ns(ra) - 500 * MS);
	beat(n, &a, 3000 * MS);
	assert_int_equal(gsp_rec_phi(ra).mean_us, mean);
	assert_int_equal(gsp_heard_ns(ra), (3000 * MS) & ~4095ull);
	assert_int_equal(gsp_silent_ns(n, ra, gsp_heard_ns(ra)), 0);
	/* c heard at a tick's start (4096 ns x 10^6), a stall begun then:
	 * it is excused; its next heartbeat, the stall covering its whole
	 * silence, adds no sample */
	t0 = 4096 * 1000000ull;
	feed(n, &c, t0);
	rc = rec_of(n, 57);
	assert_int_equal(gsp_heard_ns(rc), t0);
	gsp_pause_add(n, t0 + 2000 * MS, 2000 * MS);
	assert_int_equal(gsp_silent_ns(n, rc, t0 + 2500 * MS), 500 * MS);
	mean = gsp_rec_phi(rc).mean_us;
	beat(n, &c, t0 + 2000 * MS);
	assert_int_equal(gsp_rec_phi(rc).mean_us, mean);
	assert_int_equal(gsp_heard_ns(rc), (t0 + 2000 * MS) & ~4095ull);
	/* 32 stalls of 10 ms after: b, heard before all of them and
	 * before the two above, is excused the 32 kept, and still only
	 * those 32 once there are 33 */
	for (uint64_t i = 0; i < 32; i++)
		gsp_pause_add(n, t0 + (3000 + 100 * i) * MS, 10 * MS);
	assert_int_equal(gsp_silent_ns(n, rb, t0 + 9000 * MS),
			 t0 + 9000 * MS - gsp_heard_ns(rb) - 320 * MS);
	gsp_pause_add(n, t0 + 6500 * MS, 10 * MS);
	assert_int_equal(gsp_silent_ns(n, rb, t0 + 9000 * MS),
			 t0 + 9000 * MS - gsp_heard_ns(rb) - 320 * MS);
	/* a member heard between kept stalls is excused those begun after */
	beat(n, &b, t0 + 6050 * MS);
	assert_int_equal(gsp_silent_ns(n, rb, t0 + 9000 * MS),
			 t0 + 9000 * MS - gsp_heard_ns(rb) - 2 * 10 * MS);
	/* a second heartbeat at the same instant is an interval of 0, as
	 * the clock phi read before took it */
	mean = mean_after(rb, 0);
	beat(n, &b, gsp_heard_ns(rb));
	assert_int_equal(gsp_rec_phi(rb).mean_us, mean);
	/* a clock set back moves nothing */
	beat(n, &a, 2000 * MS);
	assert_int_equal(gsp_heard_ns(ra), (3000 * MS) & ~4095ull);
	/* at every instant around the kept stalls' starts, the stalls
	 * excused are those kept that began at or after it, summed */
	for (uint64_t i = 0; i < GSP_PAUSES_KEPT; i++) {
		uint64_t k = n->n_pauses - GSP_PAUSES_KEPT + i;
		uint64_t start = n->pauses[k % GSP_PAUSES_KEPT].start_ns;

		for (int64_t d = -1; d <= 1; d++) {
			uint64_t t = start + (uint64_t)d, want = 0;

			for (uint64_t j = 0; j < GSP_PAUSES_KEPT; j++)
				if (n->pauses[j].start_ns >= t)
					want += n->pauses[j].stalled_ns;
			assert_int_equal(gsp_paused_since(n, t), want);
		}
	}
	gsp_node_destroy(n);
}

/* The index keeps every id findable through inserts and removals that
 * shift probe chains, and refuses what does not fit. */
static void
test_index_churn(void **state)
{
	struct gsp_table *t = gsp_table_create("churn", 64, NULL);
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

/* Tables written by one thread share one copy of each name, held by
 * the catalog's slot: the newest state any of them took in names the
 * member, and an older one does not rename it back. */
static void
test_names_shared(void **state)
{
	struct gsp_names *pool = gsp_names_create(4);
	struct gsp_ids *cat;
	struct gsp_table *a, *b;
	struct gsp_member_rec *ra, *rb, *rc;
	struct gsp_member_view v;
	struct gsp_addr at = { 0x0a000007, 7946 };
	char longname[GSP_NAME_MAX + 8];
	uint32_t slot, off;

	(void)state;
	assert_non_null(pool);
	cat = gsp_ids_create("names", 8, pool);
	assert_non_null(cat);
	gsp_names_destroy(pool);	/* the catalog holds it now */
	a = gsp_table_create("a", 8, cat);
	b = gsp_table_create("b", 8, cat);
	assert_non_null(a);
	assert_non_null(b);
	gsp_ids_destroy(cat);		/* the tables hold it now */
	slot = (uint32_t)gsp_table_insert(a, 7);
	ra = gsp_table_rec(a, slot);
	assert_int_equal(gsp_table_set_where(a, slot, at, "node7", 1, 1), 0);
	gsp_table_write_end(ra);
	assert_int_equal(gsp_table_insert(b, 7), (int32_t)slot);
	rb = gsp_table_rec(b, slot);
	/* b has not taken a state in yet: the name is already the member's */
	gsp_table_write_end(rb);
	assert_string_equal(gsp_table_name(b, rb), "node7");
	off = gsp_ids_name_array(cat)[slot];
	assert_string_equal(gsp_names_at(gsp_ids_names(cat), off), "node7");
	/* a takes in a newer state under a new name: b's member has it too */
	gsp_table_write_begin(ra);
	assert_int_equal(gsp_table_set_where(a, slot, at, "node7-renamed", 1,
					     2), 0);
	gsp_table_write_end(ra);
	assert_int_not_equal(gsp_ids_name_array(cat)[slot], off);
	assert_string_equal(gsp_table_name(b, rb), "node7-renamed");
	assert_true(gsp_table_read(b, slot, &v));
	assert_string_equal(v.name, "node7-renamed");
	/* b, behind, takes in the older state: the name stays the newest */
	gsp_table_write_begin(rb);
	assert_int_equal(gsp_table_set_where(b, slot, at, "node7", 1, 1), 0);
	gsp_table_write_end(rb);
	assert_true(gsp_table_read(a, slot, &v));
	assert_string_equal(v.name, "node7-renamed");
	/* the old name was let go: its pool slot is the next name's */
	assert_int_equal(gsp_names_find(gsp_ids_names(cat), "node7"),
			 GSP_NONE);
	slot = (uint32_t)gsp_table_insert(b, 8);
	rc = gsp_table_rec(b, slot);
	assert_int_equal(gsp_table_set_where(b, slot, at, "node8", 1, 1), 0);
	gsp_table_write_end(rc);
	assert_int_equal(gsp_ids_name_array(cat)[slot], off);
	/* the last holder lets go of the id: its name goes with it */
	gsp_table_remove(b, slot);
	assert_int_equal(gsp_ids_name_array(cat)[slot], GSP_IDS_NO_NAME);
	assert_int_equal(gsp_names_find(gsp_ids_names(cat), "node8"),
			 GSP_NONE);
	/* names are cut at GSP_NAME_MAX - 1 bytes and still shared */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	slot = (uint32_t)gsp_table_insert(b, 9);
	rb = gsp_table_rec(b, slot);
	assert_int_equal(gsp_table_set_where(b, slot, at, longname, 1, 1), 0);
	gsp_table_write_end(rb);
	assert_int_equal(strlen(gsp_table_name(b, rb)), GSP_NAME_MAX - 1);
	assert_true(gsp_ids_named_verify(cat));
	gsp_table_destroy(a);
	gsp_table_destroy(b);
}

/* Tables written by one thread share one id -> slot catalog: a member has
 * the same slot in each, a table finds only its own members, and a slot
 * is reused only once every table let it go. */
static void
test_ids_shared(void **state)
{
	struct gsp_ids *cat = gsp_ids_create("cat", 4, NULL);
	struct gsp_table *a, *b;
	struct gsp_member_view v;
	int32_t sa, sb, s2;

	(void)state;
	assert_non_null(cat);
	a = gsp_table_create("a", 4, cat);
	b = gsp_table_create("b", 4, cat);
	assert_non_null(a);
	assert_non_null(b);
	/* a table cannot promise more members than the catalog holds */
	assert_null(gsp_table_create("c", 5, cat));
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

/* Lone node `name` whose table uses catalog cat (NULL: its own). */
static struct gsp_node *
node_on(const char *name, uint32_t ip, struct gsp_ids *cat)
{
	struct gsp_node_params p = test_params(name, ip, 5, NULL);
	struct gsp_node *n;
	int err;

	p.ids = cat;
	p.detector = GSP_DETECT_PHI;
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	return n;
}

static void
assert_addr_of(struct gsp_node *n, uint64_t id, uint32_t ip, uint16_t port)
{
	struct gsp_member_view v;

	assert_true(member_of(n, id, &v));
	assert_int_equal(v.ip, ip);
	assert_int_equal(v.port, port);
}

/* Member 55's state (generation, version) at ip:port; its app entries
 * (versions up to 12) only where the version allows them. */
static struct gsp_wire_state
x_state(uint64_t generation, uint64_t version, uint32_t ip, uint16_t port)
{
	struct gsp_wire_state st = sample_state(55, "x");

	st.generation = generation;
	st.version = version;
	st.heartbeat = 1;
	if (version < 12)
		st.app_count = 0;
	st.ip = ip;
	st.port = port;
	return st;
}

/* The (generation, version) node n holds of member 55. */
static void
assert_holds_x(struct gsp_node *n, uint64_t generation, uint64_t version)
{
	struct gsp_member_view v;

	assert_true(member_of(n, 55, &v));
	assert_int_equal(v.generation, generation);
	assert_int_equal(v.version, version);
}

/*
 * A member's address is its catalog's. Nodes that share one keep the
 * address of the newest state either took in: one behind the other
 * sends to where the member is now, and a late old state moves it back
 * for neither. A node's own address is its own. A node with a catalog
 * of its own takes what it merges.
 */
static void
test_addr_shared(void **state)
{
	struct gsp_ids *cat = gsp_ids_create("addr", 4096 + 16, NULL);
	struct gsp_node *a, *b, *own;
	struct gsp_wire_state st = x_state(7, 12, 0x0a000002, 7946);

	(void)state;
	a = node_on("a", 0x0a000001, cat);
	b = node_on("b", 0x0a000003, cat);
	gsp_ids_destroy(cat);	/* the tables hold it now */
	own = node_on("own", 0x0a000004, NULL);
	feed(a, &st, 1 * MS);
	feed(b, &st, 1 * MS);
	feed(own, &st, 1 * MS);
	assert_addr_of(a, 55, 0x0a000002, 7946);
	/* x restarts elsewhere; only b hears of it */
	st = x_state(8, 12, 0x0a000020, 7946);
	feed(b, &st, 2 * MS);
	assert_addr_of(b, 55, 0x0a000020, 7946);
	assert_addr_of(a, 55, 0x0a000020, 7946);
	/* a late state of the old generation, newer for a: a takes it in,
	 * the address stays the newest */
	st = x_state(7, 13, 0x0a000002, 9000);
	feed(a, &st, 3 * MS);
	assert_holds_x(a, 7, 13);
	assert_addr_of(a, 55, 0x0a000020, 7946);
	assert_addr_of(b, 55, 0x0a000020, 7946);
	/* its own catalog: the newer state's address, whatever it is */
	feed(own, &st, 3 * MS);
	assert_addr_of(own, 55, 0x0a000002, 9000);
	/* nor one of the newest generation with a lower version */
	st = x_state(8, 11, 0x0a000030, 7946);
	feed(a, &st, 4 * MS);
	assert_holds_x(a, 8, 11);
	assert_addr_of(a, 55, 0x0a000020, 7946);
	/* each node's own address is its own, whatever a sibling takes in
	 * about its id (a forged state, a second process with its id) */
	st = sample_state(gsp_node_id(a), "a");
	st.generation = gsp_node_generation(a);
	st.version = 1000;
	st.app_count = 0;
	st.ip = 0x0b0b0b0b;
	feed(b, &st, 5 * MS);
	assert_addr_of(b, gsp_node_id(a), 0x0a000001, GSP_DEFAULT_PORT);
	assert_addr_of(a, gsp_node_id(a), 0x0a000001, GSP_DEFAULT_PORT);
	assert_addr_of(b, gsp_node_id(b), 0x0a000003, GSP_DEFAULT_PORT);
	/* a slot the last table let go is the next id's, address and all:
	 * an id of a lower generation is not held to the one before */
	gsp_forget(a, (uint32_t)gsp_table_find(a->table, 55), 6 * MS);
	gsp_forget(b, (uint32_t)gsp_table_find(b->table, 55), 6 * MS);
	assert_false(member_of(a, 55, NULL) || member_of(b, 55, NULL));
	st = sample_state(77, "y");
	st.generation = 2;
	st.ip = 0x0a000040;
	feed(b, &st, 6 * MS);
	assert_addr_of(b, 77, 0x0a000040, 7946);
	/* a gone, b still holds it: its address is as good as a's last
	 * state. A late state of a's previous generation, taken in by c
	 * (which never held a), does not move it; a's restart elsewhere
	 * does. */
	{
		uint64_t a_id = gsp_node_id(a), a_gen = gsp_node_generation(a);
		int32_t s77 = gsp_table_find(b->table, 77);
		struct gsp_node *c;

		gsp_node_destroy(a);
		/* b, alone on the catalog now, lets go of 77, and an id of a
		 * lower generation takes the slot: the stamp went with 77 (the
		 * catalog stays shared), so 88's next state moves its address
		 * once c shares the catalog again */
		gsp_forget(b, (uint32_t)s77, 7 * MS);
		st = sample_state(88, "z");
		st.generation = 1;
		st.ip = 0x0a000070;
		feed(b, &st, 7 * MS);
		assert_int_equal(gsp_table_find(b->table, 88), s77);
		c = node_on("c", 0x0a000005, b->table->ids);
		st.version++;
		st.ip = 0x0a000071;
		feed(b, &st, 8 * MS);
		assert_addr_of(b, 88, 0x0a000071, 7946);
		/* a late state of a's previous generation, taken in by c */
		st = sample_state(a_id, "a");
		st.generation = a_gen - 1;
		st.version = 50;
		st.heartbeat = 1;
		st.app_count = 0;
		st.ip = 0x0a000060;
		feed(c, &st, 9 * MS);
		assert_addr_of(c, a_id, 0x0a000001, GSP_DEFAULT_PORT);
		assert_addr_of(b, a_id, 0x0a000001, GSP_DEFAULT_PORT);
		st.generation = a_gen + 1;
		st.version = 1;
		st.ip = 0x0a000050;
		feed(b, &st, 10 * MS);
		assert_addr_of(b, a_id, 0x0a000050, 7946);
		gsp_node_destroy(c);
	}
	gsp_node_destroy(b);
	gsp_node_destroy(own);
}

/* A state change's time is kept in milliseconds, rounded up: a sweep
 * within that millisecond does not take the change for one forget_ns
 * ago (nor any time from before it). */
static void
test_forget_never_early(void **state)
{
	struct gsp_node *n = lone_node();
	struct gsp_wire_state st = sample_state(56, "l");
	uint64_t round_ns;

	(void)state;
	/* a round late by half an interval: rounds fall off the
	 * millisecond from then on */
	gsp_node_tick(n, 1 * MS);
	gsp_node_tick(n, 250 * MS + 300000);
	round_ns = n->next_round_ns;
	assert_true(round_ns % MS != 0);
	st.status = GSP_WIRE_STATUS_LEFT;
	feed(n, &st, round_ns - 100000);
	gsp_node_tick(n, round_ns);
	assert_int_equal(n->ctr.rounds, 3);	/* the sweep ran */
	assert_true(member_of(n, 56, NULL));
	gsp_node_destroy(n);
}

/* A wire version beyond what the record holds stays "newer than any we
 * know": not cut to a small one, never lowered within a generation. */
static void
test_wire_version_bounded(void **state)
{
	struct gsp_node *n = lone_node();
	struct gsp_wire_state st = sample_state(55, "x");

	(void)state;
	st.wire = 200;
	feed(n, &st, 1 * MS);
	assert_int_equal(rec_of(n, 55)->wire, GSP_REC_WIRE_MAX);
	st.wire = 32;
	st.version++;
	feed(n, &st, 2 * MS);
	assert_int_equal(rec_of(n, 55)->wire, GSP_REC_WIRE_MAX);
	st.wire = 3;		/* a relay that speaks less */
	st.version++;
	feed(n, &st, 3 * MS);
	assert_int_equal(rec_of(n, 55)->wire, GSP_REC_WIRE_MAX);
	st.generation++;	/* a restart says it anew */
	feed(n, &st, 4 * MS);
	assert_int_equal(rec_of(n, 55)->wire, 3);
	gsp_node_destroy(n);
}

/*
 * A live member on wire version 2 turns range-hash syncs off (its phi
 * reads gossiped heartbeats) the moment it is merged, not when the
 * sweep's pass comes by (an eighth of a probe cycle: 19 s at 3,000
 * members), and they stay off past a pass's end; once it has left, a
 * whole pass (one or two pass ends) turns them on again.
 */
static void
test_legacy_member_counts_at_once(void **state)
{
	struct gsp_node_params p = test_params("self", 0x0a000001, 1, NULL);
	struct gsp_wire_state st;
	struct gsp_node *n;
	uint64_t now = 1 * MS;
	int err;

	(void)state;
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	assert_non_null(n->swim);
	for (uint32_t k = 0; k < 3000; k++) {
		char name[16];

		snprintf(name, sizeof(name), "m%u", k);
		st = sample_state(10000 + k, name);
		st.wire = 5;
		feed(n, &st, now);
	}
	for (uint32_t i = 0; i < 20; i++, now += 100 * MS)
		gsp_node_tick(n, now);
	assert_true(gsp_hash_sync(n));
	st = sample_state(99, "old");
	st.wire = 2;
	feed(n, &st, now);
	assert_false(gsp_hash_sync(n));
	for (uint32_t i = 0; i < 250; i++, now += 100 * MS) {
		gsp_node_tick(n, now);
		assert_false(gsp_hash_sync(n));
	}
	st.status = GSP_WIRE_STATUS_LEFT;
	st.version++;
	feed(n, &st, now);
	assert_false(gsp_hash_sync(n));
	for (uint32_t i = 0; i < 450 && !gsp_hash_sync(n); i++, now += 100 * MS)
		gsp_node_tick(n, now);
	assert_true(gsp_hash_sync(n));
	gsp_node_destroy(n);
}

/* A table whose few members hold high slots of a shared catalog (early
 * in a join) still draws its members at random, each of them. */
static void
test_table_random_sparse(void **state)
{
	struct gsp_ids *cat = gsp_ids_create("cat", 256, NULL);
	struct gsp_table *a = gsp_table_create("a", 256, cat);
	struct gsp_table *b = gsp_table_create("b", 256, cat);
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
	/* shares t's catalog and members, never written after: its names
	 * change under it, outside its records' write sections */
	struct gsp_table *shadow;
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
			gsp_table_set_where(h->t, slot,
					    (struct gsp_addr){ 1, 1 }, name,
					    k, k);
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
	struct gsp_ids *cat = gsp_ids_create("hammer", 64, NULL);
	struct hammer h = { .t = gsp_table_create("hammer", 64, cat),
			    .shadow = gsp_table_create("shadow", 64, cat) };
	struct gsp_member_view v;
	uint64_t reads = 0, shadow_named = 0;
	pthread_t tid;

	(void)state;
	assert_non_null(h.t);
	assert_non_null(h.shadow);
	gsp_ids_destroy(cat);
	for (uint64_t id = 1; id <= 8; id++)
	{
		int32_t slot = gsp_table_insert(h.t, id);

		assert_true(slot >= 0);
		gsp_table_write_end(gsp_table_rec(h.t, (uint32_t)slot));
		assert_int_equal(gsp_table_insert(h.shadow, id), slot);
		gsp_table_write_end(gsp_table_rec(h.shadow, (uint32_t)slot));
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
			/* the shadow's name is one whole name of the writer's,
			 * never two halves: each name is one letter, and the
			 * next one another */
			assert_true(gsp_table_read(h.shadow, slot, &v));
			if (v.name[0] == '\0')
				continue;
			shadow_named++;
			assert_true(strlen(v.name) >= 5 &&
				    strlen(v.name) < 55);
			for (size_t i = 1; v.name[i] != '\0'; i++)
				assert_int_equal(v.name[i], v.name[0]);
		}
	}
	h.stop = true;
	pthread_join(tid, NULL);
	assert_true(h.writes > 1000);	/* the writer really ran */
	assert_true(shadow_named > 0);
	/* removal frees the slot for readers */
	gsp_table_remove(h.t, 3);
	assert_false(gsp_table_read(h.t, 3, &v));
	gsp_table_destroy(h.t);
	gsp_table_destroy(h.shadow);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_rules),
		cmocka_unit_test(test_app_state_limits),
		cmocka_unit_test(test_app_state_wide),
		cmocka_unit_test(test_phi_values),
		cmocka_unit_test(test_phi_excuses_own_stalls),
		cmocka_unit_test(test_table_concurrency),
		cmocka_unit_test(test_index_churn),
		cmocka_unit_test(test_names_shared),
		cmocka_unit_test(test_ids_shared),
		cmocka_unit_test(test_addr_shared),
		cmocka_unit_test(test_wire_version_bounded),
		cmocka_unit_test(test_legacy_member_counts_at_once),
		cmocka_unit_test(test_forget_never_early),
		cmocka_unit_test(test_table_random_sparse),
		cmocka_unit_test(test_names_full),
		cmocka_unit_test(test_name_reclaim),
		cmocka_unit_test(test_name_index_follows_names),
	};

	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
