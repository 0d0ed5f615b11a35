/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How long an idle lcore that waits for frames in the kernel spins
 * first: adapted to what its waits found, as Linux's cpuidle-haltpoll
 * adapts its poll. No DPDK: the unit tests run the rule alone.
 */
#ifndef GSP_IDLE_SPIN_H
#define GSP_IDLE_SPIN_H

#include <stdbool.h>
#include <stdint.h>

/* The shortest spin is the longest (idle_spin_time) / this; below it,
 * none: a spin that short catches nothing a wait would not. */
#define GSP_SPIN_STEPS 8

/*
 * The spin before the next wait, after a wait that ended idle_ns after
 * the idle spell began (its spin included). A frame that ended it within
 * twice the longest spin (a wake-up's own latency counted in) would have
 * been caught by a longer spin without a wake-up: double the spin, from
 * the shortest step. Anything else (the next timer, a command, a frame
 * that came later) was waited for anyway, and the spin was paid for
 * nothing: halve it, and stop spinning below the shortest step. A quiet
 * node's frames come milliseconds apart, so it soon waits at once; a
 * busy port's come microseconds apart, and its spin stays long.
 */
static inline uint32_t
gsp_spin_next(uint32_t spin_ns, uint32_t longest_ns, bool by_frame,
	      uint64_t idle_ns)
{
	uint32_t shortest = longest_ns / GSP_SPIN_STEPS;

	if (by_frame && idle_ns <= 2ull * longest_ns) {
		if (spin_ns == 0 || spin_ns < shortest)
			return shortest != 0 ? shortest : longest_ns;
		return spin_ns > longest_ns / 2 ? longest_ns : 2 * spin_ns;
	}
	spin_ns /= 2;
	return spin_ns < shortest || spin_ns == 0 ? 0 : spin_ns;
}

#endif /* GSP_IDLE_SPIN_H */
