/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection for the engine's own I/O path (this kernel has no netem):
 * loss, delay with jitter, duplication, reordering and per-peer blocks
 * (partitions). One decision function and one "key=value" spec parser
 * serve the DPDK dataplane, the config file, gossipctl and the simulator,
 * so a fault means the same thing everywhere.
 *
 * Spec tokens, space separated, applied in order onto the current faults:
 *   drop=P dup=P reorder=P         probabilities in [0, 1]
 *   delay=D jitter=D reorder_by=D  durations: 250us, 5ms, 1s (bare = ms)
 *   block=IP[:in|:out|:both]       drop traffic to/from a peer (both)
 *   unblock=IP | unblock=all
 *   clear                          every fault off
 */
#ifndef GSP_FAULT_H
#define GSP_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gsp_counters.h"

#define GSP_FAULT_BLOCK_MAX 64
#define GSP_FAULT_DELAY_MAX_NS 10000000000ull	/* 10 s */

enum gsp_fault_dir {
	GSP_FAULT_OUT = 1,	/* packets we send to the peer */
	GSP_FAULT_IN = 2,	/* packets the peer sends to us */
	GSP_FAULT_BOTH = 3,
};

struct gsp_fault_block {
	uint32_t ip;		/* host byte order */
	uint8_t dir;		/* enum gsp_fault_dir */
};

struct gsp_fault_cfg {
	double drop;		/* P(a sent packet is lost) */
	double dup;		/* P(a sent packet goes out twice) */
	double reorder;		/* P(a sent packet is held back) */
	uint64_t delay_ns;	/* added to every sent packet */
	uint64_t jitter_ns;	/* plus uniform [0, jitter] */
	uint64_t reorder_ns;	/* extra hold of a reordered packet */
	uint32_t n_block;
	struct gsp_fault_block block[GSP_FAULT_BLOCK_MAX];
};

/* Why a packet was not sent as is (the list: gsp_counters.h); indexes
 * adapters' fault counters. */
enum gsp_fault_ctr {
#define GSP_FAULT_CTR_ENUM(e, name, help) GSP_FAULT_C_##e,
	GSP_FAULT_CTRS(GSP_FAULT_CTR_ENUM)
#undef GSP_FAULT_CTR_ENUM
	GSP_FAULT_C_MAX,
};

const char *gsp_fault_ctr_name(unsigned int c);

/* Any fault set at all: the fast path skips the module when not. */
bool gsp_fault_active(const struct gsp_fault_cfg *f);
/* Delay, jitter or reordering set: sent packets may need holding. */
bool gsp_fault_delays(const struct gsp_fault_cfg *f);

/*
 * Decides the fate of one packet sent to dst_ip: returns how many copies
 * go out (0: dropped or blocked, 2: duplicated) and each copy's delay.
 * ctr[] (GSP_FAULT_C_MAX entries) counts what happened.
 */
unsigned int gsp_fault_out(const struct gsp_fault_cfg *f, uint32_t dst_ip,
			   uint64_t *rng, uint64_t delay_ns[2], uint64_t *ctr);
/* true when packets from src_ip must be dropped (counted in ctr). */
bool gsp_fault_in(const struct gsp_fault_cfg *f, uint32_t src_ip,
		  uint64_t *ctr);

/*
 * One duration syntax for every file and command: a decimal number with a
 * unit, ns us ms s m h d ("250us", "1.5s", "5m", "1h"). A bare number is
 * bare_mul ns each, or GSP_DUR_NO_UNIT when bare_mul is 0. 0 or a
 * negative GSP_DUR_*: junk (sign, exponent, unknown unit), no unit,
 * above max_ns.
 */
#define GSP_DUR_BAD (-1)
#define GSP_DUR_NO_UNIT (-2)
#define GSP_DUR_RANGE (-3)
int gsp_duration_parse(const char *s, uint64_t bare_mul, uint64_t max_ns,
		       uint64_t *ns);

/* Applies a spec onto *f; on error *f is unchanged and err says why. */
int gsp_fault_parse(struct gsp_fault_cfg *f, const char *spec, char *err,
		    size_t err_len);
/* The spec that recreates *f ("none" when no fault is set). */
int gsp_fault_format(const struct gsp_fault_cfg *f, char *buf, size_t len);

#endif /* GSP_FAULT_H */
