/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Numbers at their edges (docs/PROTOCOL.md): every number a peer sends,
 * at 0, 1, max-1 and max, against one node. What each case checks is the
 * rule: nothing a peer sends outranks what the owner can later say, and a
 * state no member can have is skipped and counted, not applied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gsp_core.h"
#include "gsp_wire.h"
#include "test_member.h"

#define MS 1000000ull
#define S (1000 * MS)
#define CLUSTER "edges"
#define SELF_IP 0x0a000001u
#define GEN0 1000000ull		/* our generation: 1 s after the epoch */

static unsigned int sent;		/* datagrams the node sent */
static uint32_t last_dst_ip;
static struct gsp_event last_renewal;

void
gsp_io_send(void *io_ctx, const struct gsp_addr *dst, const uint8_t *payload,
	    uint16_t len)
{
	(void)io_ctx;
	(void)payload;
	(void)len;
	sent++;
	last_dst_ip = dst->ip;
}

void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	(void)io_ctx;
	if (ev->type == GSP_EV_RENEWED)
		last_renewal = *ev;
}

static struct gsp_node *
swim_node(void)
{
	struct gsp_node_params p = {
		.generation = GEN0,
		.addr = { SELF_IP, GSP_DEFAULT_PORT },
		.capacity = 64,
		.gossip_interval_ns = 100 * MS,
		.fanout = 2,
		.phi_suspect = 5,
		.phi_convict = 8,
		.forget_ns = 60 * S,
		.max_payload = 1472,
		.rng_seed = 1,
	};
	struct gsp_node *n;
	int err;

	snprintf(p.cluster, sizeof(p.cluster), "%s", CLUSTER);
	snprintf(p.name, sizeof(p.name), "self");
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	gsp_node_tick(n, 1 * MS);	/* our clock starts */
	return n;
}

static struct gsp_wire_state
peer_state(uint64_t id, uint64_t generation, uint32_t ip)
{
	struct gsp_wire_state st = {
		.id = id, .generation = generation, .heartbeat = 1,
		.version = 1, .ip = ip, .port = GSP_DEFAULT_PORT,
	};

	snprintf(st.name, sizeof(st.name), "peer%llu",
		 (unsigned long long)(id & 0xffff));
	return st;
}

static int
feed_state(struct gsp_node *n, const struct gsp_wire_state *st, uint64_t now)
{
	uint8_t buf[1500];
	struct gsp_wire_writer w;
	struct gsp_addr src = { 0x0a000009, GSP_DEFAULT_PORT };

	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_PUSH,
		       gsp_cluster_hash(CLUSTER), 999);
	assert_true(gsp_wire_put_state(&w, st));
	return gsp_node_rx(n, &src, buf, gsp_wire_finish(&w), now, NULL);
}

static int
feed_probe(struct gsp_node *n, uint8_t type, uint64_t target,
	   const struct gsp_addr *target_addr, const struct gsp_claim *c,
	   uint64_t now)
{
	uint8_t buf[1500];
	struct gsp_wire_writer w;
	struct gsp_addr src = { 0x0a000009, GSP_DEFAULT_PORT };

	gsp_wire_begin(&w, buf, sizeof(buf), type, gsp_cluster_hash(CLUSTER),
		       999);
	gsp_wire_set_probe(&w, 1, target, target_addr);
	if (c != NULL)
		assert_true(gsp_wire_put_claim(&w, c));
	return gsp_node_rx(n, &src, buf, gsp_wire_finish(&w), now, NULL);
}

static uint64_t
counter(struct gsp_node *n, size_t off)
{
	struct gsp_node_counters c;

	gsp_node_counters_read(n, &c);
	return *(const uint64_t *)((const char *)&c + off);
}

#define CTR(n, f) counter(n, offsetof(struct gsp_node_counters, f))

/* A suspicion at max-1 is refuted with max; one at max cannot be: a new
 * generation outranks it (it used to wrap to 0). */
static void
test_incarnation_edges(void **state)
{
	struct gsp_node *n = swim_node();
	struct gsp_member_view v;
	struct gsp_claim c = { .id = gsp_node_id(n), .generation = GEN0,
		.from = 999, .incarnation = UINT32_MAX - 1,
		.status = GSP_CLAIM_SUSPECT };

	(void)state;
	assert_int_equal(feed_probe(n, GSP_MSG_PING, gsp_node_id(n), NULL, &c,
				    2 * MS), GSP_RX_OK);
	assert_true(member_of(n, gsp_node_id(n), &v));
	assert_int_equal(v.incarnation, UINT32_MAX);
	assert_int_equal(v.generation, GEN0);
	c.incarnation = UINT32_MAX;
	c.status = GSP_CLAIM_DEAD;
	assert_int_equal(feed_probe(n, GSP_MSG_PING, gsp_node_id(n), NULL, &c,
				    3 * MS), GSP_RX_OK);
	assert_true(member_of(n, gsp_node_id(n), &v));
	assert_true(v.generation > GEN0);
	assert_int_equal(v.incarnation, 0);
	assert_int_equal(v.state, GSP_STATE_ALIVE);
	assert_int_equal(CTR(n, renewals), 1);
	assert_int_equal(last_renewal.generation, v.generation);
	/* the old generation's claims no longer touch us */
	c.generation = GEN0;
	assert_int_equal(feed_probe(n, GSP_MSG_PING, gsp_node_id(n), NULL, &c,
				    4 * MS), GSP_RX_OK);
	assert_true(member_of(n, gsp_node_id(n), &v));
	assert_true(v.generation > GEN0);
	/* an incarnation of ours that we never had, in a state a peer
	 * holds: our refutations start above it */
	{
		struct gsp_wire_state st = peer_state(gsp_node_id(n),
						      v.generation, SELF_IP);

		st.incarnation = 77;
		feed_state(n, &st, 5 * MS);
		assert_true(member_of(n, gsp_node_id(n), &v));
		assert_int_equal(v.incarnation, 77);
	}
	gsp_node_destroy(n);
}

/* Generations are start times: 0 is refused by the decoder, the future
 * beyond max_clock_skew is skipped, anything up to it is taken. */
static void
test_generation_edges(void **state)
{
	struct gsp_node *n = swim_node();
	uint64_t skew_us = GSP_DEF(CLOCK_SKEW_NS) / 1000;
	/* at 10 s our clock reads GEN0 + ~10 s */
	uint64_t now = 10 * S, clock = GEN0 + (now - 1 * MS) / 1000;
	struct gsp_wire_state st;

	(void)state;
	st = peer_state(0x100, 0, 0x0a000002);
	assert_int_equal(feed_state(n, &st, now), GSP_RX_BAD_ENTRY);
	st = peer_state(0x101, 1, 0x0a000002);
	assert_int_equal(feed_state(n, &st, now), GSP_RX_OK);
	assert_true(member_of(n, 0x101, NULL));
	st = peer_state(0x102, clock + skew_us, 0x0a000003);
	feed_state(n, &st, now);
	assert_true(member_of(n, 0x102, NULL));
	st = peer_state(0x103, clock + skew_us + 1000, 0x0a000004);
	feed_state(n, &st, now);
	assert_false(member_of(n, 0x103, NULL));
	st = peer_state(0x104, UINT64_MAX - 1, 0x0a000005);
	feed_state(n, &st, now);
	st = peer_state(0x105, UINT64_MAX, 0x0a000006);
	feed_state(n, &st, now);
	assert_false(member_of(n, 0x104, NULL));
	assert_false(member_of(n, 0x105, NULL));
	assert_int_equal(CTR(n, implausible), 3);
	/* and a known member cannot be moved there either */
	st = peer_state(0x101, UINT64_MAX, 0x0a000002);
	feed_state(n, &st, now);
	assert_int_equal(CTR(n, implausible), 4);
	gsp_node_destroy(n);
}

/* A version of ours at max: taken by nobody we talk to matters less
 * than that we outrank it; the owner renews above it. */
static void
test_version_edges(void **state)
{
	static const uint64_t versions[] = { 0, 1, UINT64_MAX - 1, UINT64_MAX };
	struct gsp_member_view v;

	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct gsp_node *n = swim_node();
		struct gsp_wire_state st;
		uint64_t own_version;

		assert_true(member_of(n, gsp_node_id(n), &v));
		own_version = v.version;
		st = peer_state(gsp_node_id(n), GEN0, SELF_IP);
		st.version = versions[i];
		st.heartbeat = versions[i];
		feed_state(n, &st, 2 * MS);
		assert_true(member_of(n, gsp_node_id(n), &v));
		if (versions[i] > own_version) {
			assert_true(v.generation > GEN0);
			assert_int_equal(CTR(n, renewals), 1);
		} else {
			assert_int_equal(v.generation, GEN0);
			assert_int_equal(CTR(n, renewals), 0);
		}
		gsp_node_destroy(n);
	}
}

/* Addresses no peer can have are skipped, in states and PING_REQs. */
static void
test_address_edges(void **state)
{
	static const uint32_t bad[] = {
		0x00000001u,	/* 0.0.0.1 */
		0x7f000001u,	/* 127.0.0.1 */
		0xe0000001u,	/* 224.0.0.1 */
		0xfffffffeu,	/* 255.255.255.254 */
		0xffffffffu,	/* broadcast */
		SELF_IP,	/* ours, under another id */
	};
	struct gsp_node *n = swim_node();
	struct gsp_wire_state st;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = peer_state(0x200 + i, GEN0, bad[i]);
		assert_int_equal(feed_state(n, &st, 2 * MS), GSP_RX_OK);
		assert_false(member_of(n, 0x200 + i, NULL));
	}
	assert_int_equal(CTR(n, implausible), 6);
	st = peer_state(0x2ff, GEN0, 0xdfffffffu);	/* 223.255.255.255 */
	feed_state(n, &st, 2 * MS);
	assert_true(member_of(n, 0x2ff, NULL));
	/* asked to probe loopback or ourselves: nothing is sent */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gsp_addr t = { bad[i], GSP_DEFAULT_PORT };
		unsigned int before = sent;

		assert_int_equal(feed_probe(n, GSP_MSG_PING_REQ, 0x300, &t,
					    NULL, 3 * MS), GSP_RX_OK);
		assert_int_equal(sent, before);
	}
	assert_int_equal(CTR(n, implausible), 12);
	{
		struct gsp_addr t = { 0x0a000007, GSP_DEFAULT_PORT };

		feed_probe(n, GSP_MSG_PING_REQ, 0x300, &t, NULL, 4 * MS);
		assert_int_equal(last_dst_ip, 0x0a000007);
	}
	gsp_node_destroy(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_incarnation_edges),
		cmocka_unit_test(test_generation_edges),
		cmocka_unit_test(test_version_edges),
		cmocka_unit_test(test_address_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
