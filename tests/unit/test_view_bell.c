/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The status view's doorbell (dataplane/node/view_bell.h), its two sides
 * raced in two threads as the lcore and the control thread run them: a
 * change rung for must wake the control thread, however the ring and the
 * answer interleave.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "view_bell.h"

#define RINGS 2000000u		/* changes the "lcore" makes */
#define STUCK_MS 5000		/* a wait this long: the bell was lost */

struct bell_race {
	int fd;
	bool rung;
	uint32_t work;		/* the last change made (events, view) */
};

/* The lcore: a change, then its ring, as gsp_io_event does. */
static void *
ringer(void *arg)
{
	struct bell_race *r = arg;

	for (uint32_t i = 1; i <= RINGS; i++) {
		__atomic_store_n(&r->work, i, __ATOMIC_RELEASE);
		gsp_view_bell_ring(r->fd, &r->rung);
	}
	return NULL;
}

/*
 * The control thread: waits for the bell, answers it, then reads what
 * changed (ctrl_loop: gsp_dp_view_ack, then ctrl_drain_events). Every
 * change must be read without a wait that only a timeout ends: the last
 * one has no change after it to ring again. A race lost shows at once
 * and for good: the other order failed 4 of 5 runs of one round, and
 * 4 of 4 runs of these 8.
 */
static void
test_no_ring_is_lost(void **state)
{
	(void)state;
	for (int round = 0; round < 8; round++) {
		struct bell_race r = {
			.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };
		uint32_t seen = 0, wakes = 0;
		struct pollfd pfd;
		pthread_t t;

		assert_true(r.fd >= 0);
		assert_int_equal(pthread_create(&t, NULL, ringer, &r), 0);
		while (seen < RINGS) {
			int ret;

			pfd = (struct pollfd){ .fd = r.fd, .events = POLLIN };
			ret = poll(&pfd, 1, STUCK_MS);
			if (ret < 0 && errno == EINTR)
				continue;
			if (ret <= 0)
				break;		/* rung for, never woken */
			gsp_view_bell_ack(r.fd, &r.rung);
			seen = __atomic_load_n(&r.work, __ATOMIC_ACQUIRE);
			wakes++;
		}
		pthread_join(t, NULL);
		close(r.fd);
		print_message("round %d: %u wakes for %u changes\n", round,
			      wakes, RINGS);
		assert_int_equal(seen, RINGS);
	}
}

/* One ring, answered: the flag re-arms, and the next change rings. */
static void
test_ring_after_ack_rings_again(void **state)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	bool rung = false;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	(void)state;
	assert_true(fd >= 0);
	gsp_view_bell_ring(fd, &rung);
	gsp_view_bell_ring(fd, &rung);		/* unanswered: no write */
	assert_true(rung);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	gsp_view_bell_ack(fd, &rung);
	assert_false(rung);
	assert_int_equal(poll(&pfd, 1, 0), 0);	/* emptied */
	gsp_view_bell_ring(fd, &rung);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	gsp_view_bell_ring(-1, &rung);		/* no eventfd: nothing */
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_after_ack_rings_again),
		cmocka_unit_test(test_no_ring_is_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
