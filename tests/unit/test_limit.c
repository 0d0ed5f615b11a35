/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of [limits] (dataplane/core/gsp_limit.[ch] and their use in
 * gsp_node_rx / gsp_node_set_app): token-bucket arithmetic, the bounded
 * source table, floods of probes and first contacts, over-limit app state,
 * and the "reported once" rule.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gsp_core.h"
#include "gsp_limit.h"
#include "gsp_wire.h"
#include "test_member.h"

#define MS 1000000ull
#define S 1000000000ull
#define CLUSTER "unit"
#define SRC_A 0x0a000009	/* 10.0.0.9 */
#define SRC_B 0x0a00000a

/* ------------------------- the core's I/O seam ------------------------- */

#define EVENTS_MAX 64

static struct gsp_event events[EVENTS_MAX];
static unsigned int n_events, n_limit_events, n_sent;

void
gsp_io_send(void *io_ctx, const struct gsp_addr *dst, const uint8_t *payload,
	    uint16_t len)
{
	(void)io_ctx;
	(void)dst;
	(void)payload;
	(void)len;
	n_sent++;
}

void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	(void)io_ctx;
	if (ev->type == GSP_EV_LIMIT)
		n_limit_events++;
	if (n_events < EVENTS_MAX)
		events[n_events++] = *ev;
}

static void
events_reset(void)
{
	n_events = n_limit_events = n_sent = 0;
}

/* The last GSP_EV_LIMIT, or NULL. */
static const struct gsp_event *
last_limit_event(void)
{
	for (unsigned int i = n_events; i-- > 0;)
		if (events[i].type == GSP_EV_LIMIT)
			return &events[i];
	return NULL;
}

/* --------------------------- token buckets ---------------------------- */

static struct gsp_rate_table rt;

static void
rt_init(uint32_t join_rate, uint32_t join_burst, uint32_t probe_rate,
	uint32_t probe_burst)
{
	uint32_t rate[GSP_LIMIT_CLASSES] = { join_rate, probe_rate };
	uint32_t burst[GSP_LIMIT_CLASSES] = { join_burst, probe_burst };

	gsp_rate_table_init(&rt, rate, burst, 0x1234);
}

/* Probes taken from ip at now out of `tries`. */
static unsigned int
probes(uint32_t ip, unsigned int tries, uint64_t now)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < tries; i++)
		ok += gsp_rate_take(&rt, ip, GSP_LIMIT_PROBE, 0, now);
	return ok;
}

static void
test_bucket_burst_and_refill(void **state)
{
	uint64_t t = 5 * S;

	(void)state;
	rt_init(20, 40, 10, 20);
	/* a new source starts with its burst, then nothing */
	assert_int_equal(probes(SRC_A, 100, t), 20);
	/* 10/s: 100 ms buys one token, 99 ms none yet */
	assert_int_equal(probes(SRC_A, 5, t + 99 * MS), 0);
	assert_int_equal(probes(SRC_A, 5, t + 100 * MS), 1);
	/* refill in many small steps loses nothing to rounding */
	t += 100 * MS;
	for (unsigned int i = 1; i <= 1000; i++)
		assert_int_equal(probes(SRC_A, 1, t + i * 100000ull),
				 i % 1000 == 0);
	/* a long silence fills the bucket to its burst, not beyond */
	assert_int_equal(probes(SRC_A, 100, t + 3600 * S), 20);
	/* classes are separate: the joins of that source are untouched */
	for (unsigned int i = 0; i < 40; i++)
		assert_true(gsp_rate_take(&rt, SRC_A, GSP_LIMIT_JOIN, 100 + i,
					  t + 3600 * S));
	assert_false(gsp_rate_take(&rt, SRC_A, GSP_LIMIT_JOIN, 999,
				   t + 3600 * S));
}

static void
test_bucket_extremes(void **state)
{
	(void)state;
	/* the largest rates: no overflow after any silence */
	rt_init(UINT32_MAX, UINT32_MAX, 1000000, 1000000);
	assert_int_equal(probes(SRC_A, 10, 1), 10);
	assert_int_equal(probes(SRC_A, 10, UINT64_MAX / 2), 10);
	/* the smallest: one a second, exactly */
	rt_init(1, 1, 1, 1);
	assert_int_equal(probes(SRC_A, 3, 10 * S), 1);
	assert_int_equal(probes(SRC_A, 3, 11 * S - 1), 0);
	assert_int_equal(probes(SRC_A, 3, 11 * S), 1);
	/* a clock stepping back refills nothing */
	assert_int_equal(probes(SRC_A, 3, 2 * S), 0);
	assert_int_equal(probes(SRC_A, 3, 12 * S), 1);
}

static void
test_bucket_per_source(void **state)
{
	(void)state;
	rt_init(20, 40, 10, 20);
	assert_int_equal(probes(SRC_A, 1000, 1 * S), 20);
	assert_int_equal(probes(SRC_B, 1000, 1 * S), 20);
	assert_int_equal(probes(SRC_A, 10, 1 * S), 0);
}

/* A run of datagrams of one unknown sender is one join; new senders each
 * cost a token. */
static void
test_join_same_sender_costs_once(void **state)
{
	(void)state;
	rt_init(20, 40, 10, 20);
	for (unsigned int i = 0; i < 1000; i++)
		assert_true(gsp_rate_take(&rt, SRC_A, GSP_LIMIT_JOIN, 77, S));
	for (unsigned int i = 0; i < 39; i++)
		assert_true(gsp_rate_take(&rt, SRC_A, GSP_LIMIT_JOIN, 1000 + i,
					  S));
	assert_false(gsp_rate_take(&rt, SRC_A, GSP_LIMIT_JOIN, 5000, S));
	/* the sender last let through still passes */
	assert_true(gsp_rate_take(&rt, SRC_A, GSP_LIMIT_JOIN, 1038, S));
}

/* The set (way group) ip was put in. */
static int
set_of(uint32_t ip)
{
	for (unsigned int i = 0; i < GSP_LIMIT_SOURCES; i++)
		if (rt.src[i].in_use && rt.src[i].ip == ip)
			return (int)(i / GSP_LIMIT_WAYS);
	return -1;
}

static unsigned int
entries_in_use(void)
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < GSP_LIMIT_SOURCES; i++)
		c += rt.src[i].in_use != 0;
	return c;
}

static void
test_table_bounded_evicts_stalest(void **state)
{
	uint32_t same[GSP_LIMIT_WAYS + 1];
	unsigned int n_same = 1;
	int set;

	(void)state;
	rt_init(20, 40, 10, 20);
	/* many more sources than entries: the table stays its size */
	for (uint32_t i = 0; i < 20 * GSP_LIMIT_SOURCES; i++)
		probes(0x0b000000 + i, 1, S + i);
	assert_int_equal(entries_in_use(), GSP_LIMIT_SOURCES);

	/* five sources of one set: the least recently seen gives way */
	same[0] = SRC_A;
	for (uint32_t ip = 0x0c000000; n_same <= GSP_LIMIT_WAYS; ip++) {
		rt_init(20, 40, 10, 20);
		probes(SRC_A, 1, S);
		set = set_of(SRC_A);
		probes(ip, 1, S);
		if (set_of(ip) == set)
			same[n_same++] = ip;
	}
	/* a fresh table, in order: A exhausted, then B, C, D */
	rt_init(20, 40, 10, 20);
	assert_int_equal(probes(same[0], 100, 1 * S), 20);
	for (unsigned int i = 1; i < GSP_LIMIT_WAYS; i++)
		assert_int_equal(probes(same[i], 1, (1 + i) * S / 1000 + S), 1);
	/* A keeps knocking (still limited: used recently), then E comes:
	 * B, the stalest, is evicted, and A stays limited */
	assert_int_equal(probes(same[0], 1, S + 10 * MS), 0);
	assert_int_equal(probes(same[GSP_LIMIT_WAYS], 1, S + 11 * MS), 1);
	assert_int_equal(set_of(same[1]), -1);
	assert_int_equal(set_of(same[0]), set);
	assert_int_equal(probes(same[0], 1, S + 12 * MS), 0);
}

static void
test_report_once(void **state)
{
	struct gsp_limit_report r = { 0 };
	uint64_t sup = 99;

	(void)state;
	assert_true(gsp_limit_report_hit(&r, 10 * S, &sup));
	assert_int_equal(sup, 0);
	/* a continuous flood: never again */
	for (uint64_t t = 11 * S; t < 600 * S; t += S)
		assert_false(gsp_limit_report_hit(&r, t, &sup));
	/* 59 s after the last hit: still quiet; 60 s without a hit: reported
	 * again, with the number that was not */
	assert_false(gsp_limit_report_hit(&r, 599 * S + 59 * S, &sup));
	assert_true(gsp_limit_report_hit(&r, 658 * S + 60 * S, &sup));
	assert_int_equal(sup, 590);
	assert_string_equal(gsp_limit_kind_name(GSP_LIMIT_K_JOIN_RATE),
			    "join_rate");
	assert_string_equal(gsp_limit_kind_name(GSP_LIMIT_K_APP_BYTES),
			    "app_bytes_max");
}

/* ------------------------------- nodes -------------------------------- */

static struct gsp_node_params
params(void)
{
	struct gsp_node_params p = {
		.generation = 1,
		.addr = { 0x0a000001, GSP_DEFAULT_PORT },
		.capacity = 256,
		.gossip_interval_ns = 100 * MS,
		.fanout = 2,
		.phi_suspect = 5,
		.phi_convict = 8,
		.forget_ns = 60000 * MS,
		.max_payload = 1472,
		.leave_rounds = 2,
		.rng_seed = 42,
	};

	snprintf(p.cluster, sizeof(p.cluster), "%s", CLUSTER);
	snprintf(p.name, sizeof(p.name), "self");
	return p;
}

static struct gsp_node *
node_with(const struct gsp_node_params *p)
{
	struct gsp_node *n;
	int err;

	n = gsp_node_create(p, &err);
	assert_non_null(n);
	events_reset();
	return n;
}

static struct gsp_node_counters
counters(const struct gsp_node *n)
{
	struct gsp_node_counters c;

	gsp_node_counters_read(n, &c);
	return c;
}

static void
rx(struct gsp_node *n, uint32_t src_ip, const uint8_t *buf, uint16_t len,
   uint64_t now)
{
	struct gsp_addr src = { src_ip, GSP_DEFAULT_PORT };

	gsp_node_rx(n, &src, buf, len, now, NULL);
}

static void
send_ping(struct gsp_node *n, uint32_t src_ip, uint64_t sender, uint64_t now)
{
	struct gsp_wire_writer w;
	uint8_t buf[256];

	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_PING,
		       gsp_cluster_hash(CLUSTER), sender);
	gsp_wire_set_probe(&w, 1, gsp_node_id(n), NULL);
	rx(n, src_ip, buf, gsp_wire_finish(&w), now);
}

static void
send_syn(struct gsp_node *n, uint32_t src_ip, uint64_t sender, uint64_t now)
{
	struct gsp_digest d = { sender, 1, 1 };
	struct gsp_wire_writer w;
	uint8_t buf[256];

	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_SYN,
		       gsp_cluster_hash(CLUSTER), sender);
	gsp_wire_set_range(&w, 0, UINT64_MAX);
	assert_true(gsp_wire_put_digest(&w, &d));
	rx(n, src_ip, buf, gsp_wire_finish(&w), now);
}

static struct gsp_wire_state
member_state(uint64_t id, const char *name, unsigned int n_app,
	     unsigned int value_len)
{
	struct gsp_wire_state st = {
		.id = id, .generation = 3, .heartbeat = 5, .version = 9,
		.ip = 0x0a000002, .port = GSP_DEFAULT_PORT,
		.app_count = (uint8_t)n_app,
	};

	snprintf(st.name, sizeof(st.name), "%s", name);
	for (unsigned int i = 0; i < n_app; i++) {
		st.app[i].version = 9;
		snprintf(st.app[i].key, sizeof(st.app[i].key), "k%u", i);
		memset(st.app[i].value, 'v', value_len);
	}
	return st;
}

/* One ACK2 datagram of these states from src_ip. */
static void
send_states(struct gsp_node *n, uint32_t src_ip, uint64_t sender,
	    const struct gsp_wire_state *st, unsigned int count, uint64_t now)
{
	struct gsp_wire_writer w;
	uint8_t buf[1472];

	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_ACK2,
		       gsp_cluster_hash(CLUSTER), sender);
	for (unsigned int i = 0; i < count; i++)
		assert_true(gsp_wire_put_state(&w, &st[i]));
	rx(n, src_ip, buf, gsp_wire_finish(&w), now);
}

static void
test_defaults_and_bounds(void **state)
{
	struct gsp_node_params p = params();
	struct gsp_node_limits l;
	struct gsp_node *n;
	int err;

	(void)state;
	n = node_with(&p);
	gsp_node_limits_read(n, &l);
	assert_int_equal(l.app_value_max, 255);
	assert_int_equal(l.app_bytes_max, 1024);
	assert_int_equal(l.join_rate, 20);
	assert_int_equal(l.join_burst, 40);
	assert_int_equal(l.probe_rate, 200);	/* 20 x 100 ms periods */
	assert_int_equal(l.probe_burst, 400);
	gsp_node_destroy(n);

	p.probe_interval_ns = 1000 * MS;
	p.join_rate = 5;
	n = node_with(&p);
	gsp_node_limits_read(n, &l);
	assert_int_equal(l.probe_rate, 20);
	assert_int_equal(l.probe_burst, 40);
	assert_int_equal(l.join_burst, 10);
	gsp_node_destroy(n);

	/* past the wire's own bounds: refused at creation */
	p = params();
	p.app_value_max = GSP_APP_VALUE_MAX;
	assert_null(gsp_node_create(&p, &err));
	assert_int_equal(err, -EINVAL);
	p = params();
	p.app_bytes_max = GSP_APP_BYTES_MAX + 1;
	assert_null(gsp_node_create(&p, &err));
	assert_int_equal(err, -EINVAL);
}

/* A PING flood from one source is cut at its burst, reported once; another
 * source is answered meanwhile. */
static void
test_ping_flood_one_source(void **state)
{
	struct gsp_node_params p = params();
	struct gsp_node_counters c;
	const struct gsp_event *ev;
	struct gsp_node *n;
	uint64_t t = 10 * S;

	(void)state;
	n = node_with(&p);
	for (unsigned int i = 0; i < 1000; i++)
		send_ping(n, SRC_A, 0xbad, t);
	c = counters(n);
	assert_int_equal(c.rx_ping, 400);
	assert_int_equal(c.tx_pong, 400);
	assert_int_equal(c.rx_drop[GSP_RX_RATE_LIMITED], 600);
	assert_int_equal(c.limit_hits, 600);
	assert_int_equal(n_limit_events, 1);
	ev = last_limit_event();
	assert_string_equal(ev->name, "probe_rate 10.0.0.9");
	assert_int_equal(ev->limit, 200);
	assert_int_equal(ev->suppressed, 0);
	assert_int_equal(ev->id, 0xbad);

	/* another source is not touched */
	for (unsigned int i = 0; i < 10; i++)
		send_ping(n, SRC_B, 0xbee, t);
	assert_int_equal(counters(n).tx_pong, 410);

	/* A refills at its rate: 200 more a second later */
	for (unsigned int i = 0; i < 1000; i++)
		send_ping(n, SRC_A, 0xbad, t + S);
	c = counters(n);
	assert_int_equal(c.rx_ping, 610);
	assert_int_equal(c.limit_hits, 1400);
	assert_int_equal(n_limit_events, 1);

	/* quiet for 60 s: the next hit is reported with the count missed */
	for (unsigned int i = 0; i < 401; i++)
		send_ping(n, SRC_A, 0xbad, t + 62 * S);
	assert_int_equal(n_limit_events, 2);
	ev = last_limit_event();
	assert_int_equal(ev->suppressed, 1400 - 1);
	/* no member was added by any of it */
	assert_int_equal(gsp_node_slot_count(n), 1);
	gsp_node_destroy(n);
}

/* First contacts of ever new sender ids from one source are limited; the
 * same unknown sender, known members and other sources are not. */
static void
test_first_contact_flood(void **state)
{
	struct gsp_node_params p = params();
	struct gsp_wire_state st = member_state(500, "member", 0, 0);
	struct gsp_node_counters c;
	struct gsp_node *n;
	uint64_t t = 10 * S;

	(void)state;
	p.detector = GSP_DETECT_PHI;
	n = node_with(&p);
	for (unsigned int i = 0; i < 200; i++)
		send_syn(n, SRC_A, 1000 + i, t);
	c = counters(n);
	assert_int_equal(c.rx_syn, 40);
	assert_int_equal(c.rx_drop[GSP_RX_RATE_LIMITED], 160);
	assert_int_equal(gsp_node_slot_count(n), 1);
	assert_int_equal(n_limit_events, 1);
	assert_string_equal(last_limit_event()->name, "join_rate 10.0.0.9");
	assert_int_equal(last_limit_event()->limit, 20);

	/* a newcomer's run of SYNs (one sender id) from another source */
	for (unsigned int i = 0; i < 200; i++)
		send_syn(n, SRC_B, 77, t);
	assert_int_equal(counters(n).rx_syn, 240);

	/* a known member is never a join, even from the limited source */
	send_states(n, SRC_B, 77, &st, 1, t);
	assert_true(member_of(n, 500, NULL));
	for (unsigned int i = 0; i < 200; i++)
		send_syn(n, SRC_A, 500, t);
	c = counters(n);
	assert_int_equal(c.rx_syn, 440);
	assert_int_equal(c.rx_drop[GSP_RX_RATE_LIMITED], 160);
	assert_int_equal(n_limit_events, 1);

	/* refused states never reach the table */
	st = member_state(600, "newbie", 0, 0);
	send_states(n, SRC_A, 601, &st, 1, t);
	assert_false(member_of(n, 600, NULL));
	assert_int_equal(counters(n).rx_drop[GSP_RX_RATE_LIMITED], 161);
	/* a second later the source has 20 joins again */
	send_states(n, SRC_A, 601, &st, 1, t + S);
	assert_true(member_of(n, 600, NULL));
	gsp_node_destroy(n);
}

/* Over-limit app state anywhere in a datagram drops all of it. */
static void
test_app_over_limit_dropped(void **state)
{
	struct gsp_node_params p = params();
	struct gsp_wire_state st[3];
	struct gsp_node_counters c;
	struct gsp_node *n;
	uint64_t t = 10 * S;

	(void)state;
	p.detector = GSP_DETECT_PHI;
	p.app_value_max = 8;
	p.app_bytes_max = 30;
	n = node_with(&p);
	st[0] = member_state(500, "fine", 2, 8);	/* 2 x (2 + 8) = 20 */
	st[1] = member_state(501, "long-value", 1, 9);
	send_states(n, SRC_A, 500, st, 2, t);
	c = counters(n);
	assert_false(member_of(n, 500, NULL));
	assert_false(member_of(n, 501, NULL));
	assert_int_equal(gsp_node_slot_count(n), 1);
	assert_int_equal(c.merged, 0);
	assert_int_equal(c.rx_ack2, 0);
	assert_int_equal(c.rx_drop[GSP_RX_OVER_LIMIT], 1);
	assert_int_equal(c.limit_hits, 1);
	assert_int_equal(n_limit_events, 1);
	assert_string_equal(last_limit_event()->name, "app_value_max");
	assert_int_equal(last_limit_event()->id, 501);
	assert_int_equal(last_limit_event()->limit, 8);

	/* too many bytes in all: 4 x (2 + 8) = 40 > 30 */
	st[2] = member_state(502, "many-keys", 4, 8);
	send_states(n, SRC_A, 500, &st[2], 1, t);
	assert_false(member_of(n, 502, NULL));
	assert_int_equal(n_limit_events, 2);
	assert_string_equal(last_limit_event()->name, "app_bytes_max");
	assert_int_equal(last_limit_event()->limit, 30);

	/* again and again: counted, not reported */
	for (unsigned int i = 0; i < 50; i++)
		send_states(n, SRC_A, 500, &st[1], 2, t);
	c = counters(n);
	assert_int_equal(c.rx_drop[GSP_RX_OVER_LIMIT], 52);
	assert_int_equal(c.limit_hits, 52);
	assert_int_equal(n_limit_events, 2);

	/* within the limits: taken */
	send_states(n, SRC_A, 500, st, 1, t);
	assert_true(member_of(n, 500, NULL));
	gsp_node_destroy(n);
}

static void
test_set_app_refused(void **state)
{
	struct gsp_node_params p = params();
	char big[GSP_APP_VALUE_MAX];
	struct gsp_node *n;

	(void)state;
	n = node_with(&p);
	/* the defaults are the wire's bounds: a 63-byte value fits */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(gsp_node_set_app(n, "k", big), 0);
	gsp_node_destroy(n);

	p.app_value_max = 8;
	p.app_bytes_max = 25;
	n = node_with(&p);
	assert_int_equal(gsp_node_set_app(n, "k", "123456789"), -E2BIG);
	assert_int_equal(gsp_node_set_app(n, "k1", "12345678"), 0);	/* 10 */
	assert_int_equal(gsp_node_set_app(n, "k2", "12345678"), 0);	/* 20 */
	assert_int_equal(gsp_node_set_app(n, "k3", "xxxx"), -E2BIG);	/* 26 */
	assert_int_equal(gsp_node_set_app(n, "k3", "xx"), 0);	/* 24 */
	/* replacing a value counts the new one, not both */
	assert_int_equal(gsp_node_set_app(n, "k1", "123"), 0);	/* 19 */
	assert_int_equal(gsp_node_set_app(n, "k3", "12345678"), 0);	/* 25 */
	assert_int_equal(counters(n).limit_hits, 2);
	assert_int_equal(n_limit_events, 0);	/* the caller is told */
	gsp_node_destroy(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_burst_and_refill),
		cmocka_unit_test(test_bucket_extremes),
		cmocka_unit_test(test_bucket_per_source),
		cmocka_unit_test(test_join_same_sender_costs_once),
		cmocka_unit_test(test_table_bounded_evicts_stalest),
		cmocka_unit_test(test_report_once),
		cmocka_unit_test(test_defaults_and_bounds),
		cmocka_unit_test(test_ping_flood_one_source),
		cmocka_unit_test(test_first_contact_flood),
		cmocka_unit_test(test_app_over_limit_dropped),
		cmocka_unit_test(test_set_app_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
