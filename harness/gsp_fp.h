/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * False positives, counted the same way by the simulator and the
 * emulation: an observer accusing a live member (SUSPECT or DOWN).
 *
 * - transitions to SUSPECT and to DOWN (a member first learned accused
 *   counts; DOWN after SUSPECT counts again);
 * - distinct (observer, member) pairs accused, and those declared DOWN;
 * - pairs accused now, their peak, and pairs x seconds accused.
 *
 * One row per observer, written only by the thread that runs that
 * observer (an lcore owns its vnodes), so rows need no lock; the totals
 * are read from another thread with relaxed atomic loads. Only the count
 * of pairs accused now, for its peak, is shared (an atomic, touched per
 * accusation, which is rare). Pair bitmaps take 3 bits per (observer,
 * member): above GSP_FP_PAIRS_MAX_N members they are not kept and pair
 * counts are reported as unknown.
 */
#ifndef GSP_FP_H
#define GSP_FP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gsp_core.h"

#define GSP_FP_PAIRS_MAX_N 16384u

struct gsp_fp_row {
	uint64_t suspect, down;		/* transitions */
	uint64_t pairs, down_pairs;	/* distinct members */
	uint64_t n_open;		/* accused now */
	uint64_t t_last;
	uint64_t open_ns;		/* pairs x ns accused, to t_last */
	uint64_t pad;
};

struct gsp_fp {
	uint32_t rows, cols;
	uint32_t row_words;
	struct gsp_fp_row *row;
	uint64_t *seen, *seen_down, *open;	/* rows x row_words; or NULL */
	uint64_t n_open;		/* all rows (atomic) */
	uint64_t open_peak;		/* (atomic) */
};

/* The sum over the rows, closed at a time. */
struct gsp_fp_sum {
	uint64_t suspect, down;
	uint64_t pairs, down_pairs;
	bool pairs_known;
	uint64_t open_end, open_peak;
	double pair_s;
};

/* rows observers, cols members; 0 or -ENOMEM */
int gsp_fp_init(struct gsp_fp *f, uint32_t rows, uint32_t cols);
void gsp_fp_free(struct gsp_fp *f);
/* what gsp_fp_init takes, for a memory estimate */
size_t gsp_fp_bytes(uint32_t rows, uint32_t cols);
/* Forgets everything counted (one thread only: the simulator). */
void gsp_fp_reset(struct gsp_fp *f, uint64_t now_ns);

/* Suspect or down: an accusation. */
static inline bool
gsp_fp_bad(uint8_t state)
{
	return state == GSP_STATE_SUSPECT || state == GSP_STATE_DOWN;
}

/*
 * The core told `row` that member `col` changed (a state change, first
 * learned, or forgotten). The caller checked that the member is live and
 * that the observer's accusations count. True when it was an accusation
 * counted (a transition to SUSPECT or DOWN).
 */
bool gsp_fp_event(struct gsp_fp *f, uint32_t row, uint32_t col,
		  const struct gsp_event *ev, uint64_t now_ns);

/* The totals now (pair-seconds up to now_ns). */
void gsp_fp_sum(const struct gsp_fp *f, uint64_t now_ns,
		struct gsp_fp_sum *s);

/* The event's accusation before and after, as the accounting sees it;
 * false when the event changes no state it counts. */
bool gsp_fp_change_of(const struct gsp_event *ev, bool *was_bad,
		      bool *is_bad);

#endif /* GSP_FP_H */
