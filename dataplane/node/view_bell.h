/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The status view's doorbell: an eventfd the dataplane writes when the
 * control vnode's view moved or it raised an event, at most once until
 * the control thread answers (a flag, so a busy lcore makes a handful of
 * syscalls a period, none per packet). No DPDK: the unit tests race the
 * two sides alone (tests/unit/test_view_bell.c).
 */
#ifndef GSP_VIEW_BELL_H
#define GSP_VIEW_BELL_H

#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

/* The dataplane's side: ring, unless a ring is still unanswered. */
static inline void
gsp_view_bell_ring(int fd, bool *rung)
{
	uint64_t one = 1;

	if (fd >= 0 && !__atomic_exchange_n(rung, true, __ATOMIC_ACQ_REL))
		(void)!write(fd, &one, sizeof(one));
}

/*
 * The control thread's side, after the eventfd polled readable and
 * before it reads the events and the view: emptied first, then
 * re-armed. A ring between the two writes nothing, and what it rang for
 * is read next: the exchange reads the ring's flag, so the change made
 * before the ring is visible to what follows (a plain store could let
 * those reads run ahead of it). A ring after them rings again. The
 * other order lost the bell for good: a ring between re-arming and
 * emptying was read away with the flag left set, and every later change
 * waited for the control thread's idle second (a node logged a crash's
 * verdict 1 s late).
 */
static inline void
gsp_view_bell_ack(int fd, bool *rung)
{
	uint64_t n;

	(void)!read(fd, &n, sizeof(n));
	(void)__atomic_exchange_n(rung, false, __ATOMIC_ACQ_REL);
}

#endif /* GSP_VIEW_BELL_H */
