/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Phi accrual failure detector (Hayashibara et al.), with the exponential
 * inter-arrival model Cassandra uses:
 *   phi(t) = (t - last_arrival) / (mean_interval * ln 10)
 * i.e. -log10 of the probability that a heartbeat is still to come.
 * The last GSP_PHI_WINDOW intervals are kept in milliseconds (saturating
 * at 65 s): 56 bytes per member, since every node keeps one per member.
 */
#ifndef GSP_PHI_H
#define GSP_PHI_H

#include <stdint.h>

#define GSP_PHI_WINDOW 16

struct gsp_phi {
	uint64_t last_ns;		/* last heartbeat arrival */
	uint32_t sum_ms;		/* sum of the window */
	uint32_t min_mean_us;		/* floor on the mean: damp bursts */
	uint8_t n;			/* samples in the window */
	uint8_t next;			/* ring index of the next sample */
	uint16_t interval_ms[GSP_PHI_WINDOW];
};

/* Starts with one sample of initial_ns (the expected interval). */
void gsp_phi_init(struct gsp_phi *fd, uint64_t now_ns, uint64_t initial_ns,
		  uint64_t min_mean_ns);
void gsp_phi_heartbeat(struct gsp_phi *fd, uint64_t now_ns);
double gsp_phi_mean_ns(const struct gsp_phi *fd);
double gsp_phi_value(const struct gsp_phi *fd, uint64_t now_ns);
/* The same with the mean floored at floor_ns as well (the caller's
 * current lower bound on a member's heartbeat interval). */
double gsp_phi_value_floor(const struct gsp_phi *fd, uint64_t now_ns,
			   uint64_t floor_ns);
/* Moves the last arrival forward: time the local node itself was stalled
 * must not count against its peers. */
void gsp_phi_shift(struct gsp_phi *fd, uint64_t delta_ns);

#endif /* GSP_PHI_H */
