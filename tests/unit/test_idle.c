/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The idle lcore's spin before a wait in the kernel (idle_spin.h): it
 * shrinks to none where waits find nothing a spin would have caught (a
 * quiet node), and grows back where frames follow each other closely.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "idle_spin.h"

#define LONGEST 20000u		/* idle_spin_time's default, 20us */

/* A quiet node: its waits end by its timers, or by frames milliseconds
 * into the spell. Halved each time, it waits at once after a few. */
static void
test_quiet_waits_stop_the_spin(void **state)
{
	uint32_t spin = LONGEST;
	int waits = 0;

	(void)state;
	while (spin != 0 && waits < 100) {
		spin = gsp_spin_next(spin, LONGEST, waits % 2 == 0,
				     3000000);	/* 3 ms */
		waits++;
	}
	assert_int_equal(spin, 0);
	/* 20 -> 10 -> 5 -> 2.5us (the shortest, kept) -> off */
	assert_int_equal(waits, 4);
	/* stays off */
	assert_int_equal(gsp_spin_next(0, LONGEST, false, 50000000), 0);
	assert_int_equal(gsp_spin_next(0, LONGEST, true, 3000000), 0);
}

/* A frame soon after the spell began, even after the wake-up's own
 * latency: a longer spin would have caught it. From none, the shortest
 * step, then doubling up to the longest, never past it. */
static void
test_close_frames_grow_it_back(void **state)
{
	uint32_t spin = 0;
	uint32_t seen[6];

	(void)state;
	for (int i = 0; i < 6; i++)	/* each 30us after its spell began */
		seen[i] = spin = gsp_spin_next(spin, LONGEST, true, 30000);
	assert_int_equal(seen[0], LONGEST / GSP_SPIN_STEPS);
	assert_int_equal(seen[1], 2 * (LONGEST / GSP_SPIN_STEPS));
	assert_int_equal(seen[2], 4 * (LONGEST / GSP_SPIN_STEPS));
	assert_int_equal(seen[3], LONGEST);
	assert_int_equal(seen[4], LONGEST);
	assert_int_equal(seen[5], LONGEST);
	/* just inside and just outside twice the longest */
	assert_int_equal(gsp_spin_next(5000, LONGEST, true, 2 * LONGEST),
			 10000);
	assert_int_equal(gsp_spin_next(5000, LONGEST, true,
				       2 * LONGEST + 1), 2500);
	/* the timer or a command, however soon: no frame to catch */
	assert_int_equal(gsp_spin_next(5000, LONGEST, false, 100), 2500);
}

/* idle_spin_time = 0 and tiny values: never a spin, nothing divides by
 * zero or overflows at the largest setting (100 ms). */
static void
test_edges(void **state)
{
	const uint32_t largest = 100000000u;

	(void)state;
	assert_int_equal(gsp_spin_next(0, 0, true, 0), 0);
	assert_int_equal(gsp_spin_next(0, 0, false, 0), 0);
	assert_int_equal(gsp_spin_next(0, 5, true, 1), 5);
	assert_int_equal(gsp_spin_next(5, 5, false, 1), 2);
	assert_int_equal(gsp_spin_next(1, 5, false, 1), 0);
	assert_int_equal(gsp_spin_next(largest, largest, true, 0), largest);
	assert_int_equal(gsp_spin_next(largest / 2 + 1, largest, true,
				       UINT64_C(2) * largest), largest);
	assert_int_equal(gsp_spin_next(largest, largest, false, UINT64_MAX),
			 largest / 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quiet_waits_stop_the_spin),
		cmocka_unit_test(test_close_frames_grow_it_back),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
