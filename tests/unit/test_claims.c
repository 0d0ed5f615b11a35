/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SWIM's claims pushed at once (docs/PROTOCOL.md "SWIM probes and
 * Lifeguard", item 3), on the in-memory network and a virtual clock: a
 * verdict floods the cluster in hops, not probe periods, and a push is
 * no probe's answer.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "gsp_core.h"
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
	 * once (6 messages) and each accuser its suspicion (6, and 1 to the
	 * suspect): suspicions taken from others are not pushed on, which
	 * would make it about 12 a node */
	print_message("# pushes: %" PRIu64 " sent, %" PRIu64 " taken\n",
		      pushes, pushes_rx);
	assert_true(pushes > 0 && pushes_rx > 0 && pushes_rx <= pushes);
	assert_true(pushes <= 8 * (uint64_t)(n - 1));
	assert_true(pongs < pings);
	net_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_push_floods_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
