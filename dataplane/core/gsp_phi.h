/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Phi accrual failure detector (Hayashibara et al.), with the exponential
 * inter-arrival model Cassandra uses:
 *   phi(t) = (t - last_arrival) / (mean_interval * ln 10)
 * i.e. -log10 of the probability that a heartbeat is still to come.
 * The mean is the running average of the first GSP_PHI_WINDOW intervals,
 * then an exponentially weighted one with weight 1/GSP_PHI_WINDOW: the
 * same memory as a sliding window of that many samples in 4 bytes per
 * member instead of a ring of them, since every node keeps one per
 * member. Intervals saturate at 65 s, as a stall must not make the mean
 * forget its history at once.
 *
 * The state holds no time: the caller keeps when a member was last heard
 * (the record's heard) and passes intervals and silences less the
 * node's own stalls since (gsp_heard, gsp_silent_ns), so its peers'
 * silence during its own pause counts against none of them.
 */
#ifndef GSP_PHI_H
#define GSP_PHI_H

#include <stdint.h>

#define GSP_PHI_WINDOW 16
#define GSP_PHI_SAMPLE_MAX_US 65535000u

/* 4 bytes, inside every member record. The mean never exceeds a sample,
 * so 27 bits hold it; n counts to the window. */
struct gsp_phi {
	uint32_t mean_us : 27;		/* mean inter-arrival interval */
	uint32_t n : 5;			/* samples so far, up to the window */
};

_Static_assert(sizeof(struct gsp_phi) == 4, "phi state per member");
_Static_assert(GSP_PHI_SAMPLE_MAX_US < (1u << 27), "phi mean field");
_Static_assert(GSP_PHI_WINDOW < (1u << 5), "phi sample count field");

/* Starts with one sample of initial_ns (the expected interval). */
void gsp_phi_init(struct gsp_phi *fd, uint64_t initial_ns);
/* One more heartbeat, interval_ns after the one before. */
void gsp_phi_sample(struct gsp_phi *fd, uint64_t interval_ns);
/* The mean, floored at floor_ns (the caller's lower bound on a member's
 * heartbeat interval: bursts must not make a peer look dead at once)
 * and at 1 ms. Inline, as gsp_phi_value: the sweep asks for thousands
 * a second per node. */
static inline double
gsp_phi_mean_ns(const struct gsp_phi *fd, uint64_t floor_ns)
{
	double mean = 1000.0 * fd->mean_us;

	if (mean < (double)floor_ns)
		mean = (double)floor_ns;
	if (mean < 1e6)		/* no member beats faster than 1 ms */
		mean = 1e6;
	return mean;
}

/* Phi after silent_ns without a heartbeat. */
static inline double
gsp_phi_value(const struct gsp_phi *fd, uint64_t silent_ns, uint64_t floor_ns)
{
	/* ln 10: phi is -log10 of the exponential model's tail */
	return (double)silent_ns /
		(gsp_phi_mean_ns(fd, floor_ns) * 2.302585092994045684);
}

#endif /* GSP_PHI_H */
