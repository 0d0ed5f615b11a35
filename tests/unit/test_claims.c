/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SWIM's claims pushed at once (docs/PROTOCOL.md "SWIM probes and
 * Lifeguard", item 3), on the in-memory network and a virtual clock: a
 * verdict floods the cluster in hops, not probe periods, and a push is
 * no probe's answer and starts no sync.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "gsp_core.h"
#include "gsp_wire.h"
#include "test_member.h"
#include "test_net.h"

static unsigned int
holding_down(unsigned int n, unsigned int dead)
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < n; i++)
		if (i != dead && count_state(sim[i].node, GSP_STATE_DOWN) == 1)
			c++;
	return c;
}

/*
 * 64 nodes, 100 ms probes, 10 ms steps (a hop is a step). One crashes.
 * Piggybacked on probes alone, a verdict reaches every node in several
 * probe periods (each node sends one PING and about one PONG a period);
 * pushed, in about log7 64 = 2 hops: every node holds the member down
 * within one probe period of the first.
 */
static void
test_claim_push_floods_verdict(void **state)
{
	const unsigned int n = 64, dead = 40;
	uint64_t now = 1000 * MS, pushes = 0, pushes_rx = 0, pongs = 0;
	uint64_t pings = 0;
	unsigned int t, first = 0, downs = 0;
	struct gsp_node_counters c;

	(void)state;
	for (unsigned int i = 0; i < n; i++)
		sim_start(i, 1000 + i, 0, 2);
	assert_true(run_until_converged(n, &now, 300) > 0);
	sim[dead].up = false;
	for (t = 1; t <= 1000 && downs < n - 1; t++) {
		now += 10 * MS;
		sim_step(now);
		downs = holding_down(n, dead);
		if (downs > 0 && first == 0)
			first = t;
	}
	assert_int_equal(downs, n - 1);
	print_message("# 64 nodes, 100 ms probes: first down after %u ms, "
		      "every node %u ms later\n", first * 10,
		      (t - 1 - first) * 10);
	assert_true(t - 1 - first <= 10);
	for (unsigned int i = 0; i < n; i++) {
		if (i == dead)
			continue;
		gsp_node_counters_read(sim[i].node, &c);
		pushes += c.claim_pushes;
		pushes_rx += c.claim_pushes_rx;
		pongs += c.rx_pong;
		pings += c.tx_ping;
	}
	/* pushes were sent and taken, and none counted as a probe's answer:
	 * fewer answers came than pings went. Each node pushed the verdict
	 * once (6 messages) and each accuser its suspicion to the suspect
	 * (1): suspicions are not pushed to random members, and those taken
	 * from others are not pushed on, which would make it about 12 a
	 * node */
	print_message("# pushes: %" PRIu64 " sent, %" PRIu64 " taken\n",
		      pushes, pushes_rx);
	assert_true(pushes > 0 && pushes_rx > 0 && pushes_rx <= pushes);
	assert_true(pushes <= 8 * (uint64_t)(n - 1));
	assert_true(pongs < pings);
	net_reset();
}

/*
 * A PONG with seq 0 from a member whose view differs: its verdict is
 * taken and pushed on from the receive path, and it is no probe's answer
 * (rx_pong stays) and starts no sync, where a probe's answer would.
 */
static void
test_claim_push_is_no_answer(void **state)
{
	const unsigned int n = 8;
	uint64_t now = 1000 * MS;
	struct gsp_node_counters c0, c1;
	struct gsp_member_view v;
	struct gsp_wire_writer w;
	uint8_t buf[512];
	struct gsp_node *to;
	struct gsp_claim cl;

	(void)state;
	for (unsigned int i = 0; i < n; i++)
		sim_start(i, 1000 + i, 0, 2);
	assert_true(run_until_converged(n, &now, 300) > 0);
	to = sim[0].node;
	assert_true(member_of(to, gsp_node_id(sim[2].node), &v));
	cl = (struct gsp_claim){ v.id, v.generation, gsp_node_id(sim[1].node),
		v.incarnation, GSP_CLAIM_DEAD, 0 };
	now += 1000 * MS;	/* past any sync's gap */
	gsp_node_counters_read(to, &c0);
	gsp_wire_begin_v(&w, buf, sizeof(buf), GSP_MSG_PONG, GSP_WIRE_VERSION,
			 gsp_cluster_hash(CLUSTER), gsp_node_id(sim[1].node));
	gsp_wire_set_probe(&w, 0, gsp_node_id(sim[1].node), NULL);
	/* a sync root that is not ours: an answer would start a sync */
	gsp_wire_set_view(&w, 0x5eed, 0x5eed, 0);
	assert_true(gsp_wire_put_claim(&w, &cl));
	gsp_node_rx(to, &sim[1].addr, buf, gsp_wire_finish(&w), now, NULL);
	gsp_node_counters_read(to, &c1);
	assert_int_equal(count_state(to, GSP_STATE_DOWN), 1);
	assert_int_equal(c1.claim_pushes_rx - c0.claim_pushes_rx, 1);
	assert_int_equal(c1.rx_pong, c0.rx_pong);
	assert_int_equal(c1.syncs, c0.syncs);
	/* the verdict changed a state here: pushed on at once */
	assert_true(c1.claim_pushes > c0.claim_pushes);
	net_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_push_floods_verdict),
		cmocka_unit_test(test_claim_push_is_no_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
