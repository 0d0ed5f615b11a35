/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * False positives, one count for both hosts (gsp_fp.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_fp.h"

#define GSP_FP_NS_PER_S 1e9

int
gsp_fp_init(struct gsp_fp *f, uint32_t rows, uint32_t cols)
{
	size_t words;

	memset(f, 0, sizeof(*f));
	f->rows = rows;
	f->cols = cols;
	f->row = calloc(rows ? rows : 1, sizeof(*f->row));
	if (f->row == NULL)
		return -ENOMEM;
	if (cols > GSP_FP_PAIRS_MAX_N)
		return 0;		/* transitions only */
	f->row_words = (cols + 63) / 64;
	words = (size_t)rows * f->row_words;
	f->seen = calloc(words ? words : 1, sizeof(uint64_t));
	f->seen_down = calloc(words ? words : 1, sizeof(uint64_t));
	f->open = calloc(words ? words : 1, sizeof(uint64_t));
	if (f->seen == NULL || f->seen_down == NULL || f->open == NULL) {
		gsp_fp_free(f);
		return -ENOMEM;
	}
	return 0;
}

size_t
gsp_fp_bytes(uint32_t rows, uint32_t cols)
{
	size_t b = (size_t)rows * sizeof(struct gsp_fp_row);

	if (cols <= GSP_FP_PAIRS_MAX_N)
		b += 3 * (size_t)rows * ((cols + 63) / 64) * sizeof(uint64_t);
	return b;
}

void
gsp_fp_free(struct gsp_fp *f)
{
	free(f->row);
	free(f->seen);
	free(f->seen_down);
	free(f->open);
	memset(f, 0, sizeof(*f));
}

void
gsp_fp_reset(struct gsp_fp *f, uint64_t now_ns)
{
	size_t words = (size_t)f->rows * f->row_words;

	for (uint32_t r = 0; r < f->rows; r++)
		f->row[r] = (struct gsp_fp_row){ .t_last = now_ns };
	if (f->seen != NULL) {
		memset(f->seen, 0, words * sizeof(uint64_t));
		memset(f->seen_down, 0, words * sizeof(uint64_t));
		memset(f->open, 0, words * sizeof(uint64_t));
	}
	f->n_open = 0;
	f->open_peak = 0;
}

bool
gsp_fp_change_of(const struct gsp_event *ev, bool *was_bad, bool *is_bad)
{
	/* a member first learned accused counts as accused; a forgotten one
	 * is no longer accused here */
	switch (ev->type) {
	case GSP_EV_STATE:
		*was_bad = gsp_fp_bad(ev->old_state);
		*is_bad = gsp_fp_bad(ev->new_state);
		break;
	case GSP_EV_JOINED:
		*was_bad = false;
		*is_bad = gsp_fp_bad(ev->new_state);
		break;
	case GSP_EV_FORGOTTEN:
		*was_bad = gsp_fp_bad(ev->old_state);
		*is_bad = false;
		break;
	default:
		return false;
	}
	return *was_bad != *is_bad || ev->old_state != ev->new_state;
}

/* sets bit col of a row; true when it was clear */
static bool
gsp_fp_bit_set(uint64_t *row, uint32_t col)
{
	uint64_t bit = 1ull << (col % 64);
	bool was = (row[col / 64] & bit) != 0;

	row[col / 64] |= bit;
	return !was;
}

/* the row's accused-time integral, brought up to now */
static void
gsp_fp_row_close(struct gsp_fp_row *r, uint64_t now_ns)
{
	if (now_ns > r->t_last)
		__atomic_store_n(&r->open_ns, r->open_ns + r->n_open *
				 (now_ns - r->t_last), __ATOMIC_RELAXED);
	__atomic_store_n(&r->t_last, now_ns, __ATOMIC_RELAXED);
}

static void
gsp_fp_open_add(struct gsp_fp *f, struct gsp_fp_row *r, bool open)
{
	uint64_t n, peak;

	__atomic_store_n(&r->n_open, open ? r->n_open + 1 : r->n_open - 1,
			 __ATOMIC_RELAXED);
	if (!open) {
		__atomic_fetch_sub(&f->n_open, 1, __ATOMIC_RELAXED);
		return;
	}
	n = __atomic_add_fetch(&f->n_open, 1, __ATOMIC_RELAXED);
	peak = __atomic_load_n(&f->open_peak, __ATOMIC_RELAXED);
	while (n > peak && !__atomic_compare_exchange_n(&f->open_peak, &peak,
			n, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

bool
gsp_fp_event(struct gsp_fp *f, uint32_t row, uint32_t col,
	     const struct gsp_event *ev, uint64_t now_ns)
{
	struct gsp_fp_row *r;
	bool was_bad, is_bad, counted = false, down;
	uint64_t *open = NULL;

	if (row >= f->rows || col >= f->cols ||
	    !gsp_fp_change_of(ev, &was_bad, &is_bad))
		return false;
	r = &f->row[row];
	down = ev->new_state == GSP_STATE_DOWN;
	gsp_fp_row_close(r, now_ns);
	if (is_bad && (!was_bad || down)) {
		counted = true;
		if (down)
			__atomic_store_n(&r->down, r->down + 1,
					 __ATOMIC_RELAXED);
		else
			__atomic_store_n(&r->suspect, r->suspect + 1,
					 __ATOMIC_RELAXED);
		if (f->seen != NULL) {
			size_t at = (size_t)row * f->row_words;

			if (gsp_fp_bit_set(f->seen + at, col))
				__atomic_store_n(&r->pairs, r->pairs + 1,
						 __ATOMIC_RELAXED);
			if (down && gsp_fp_bit_set(f->seen_down + at, col))
				__atomic_store_n(&r->down_pairs,
						 r->down_pairs + 1,
						 __ATOMIC_RELAXED);
		}
	}
	/* pairs accused now: by the bitmap where kept, so a member accused
	 * before a reset and cleared after does not count down */
	if (f->open != NULL) {
		uint64_t bit = 1ull << (col % 64);

		open = &f->open[(size_t)row * f->row_words + col / 64];
		if (is_bad && !(*open & bit)) {
			*open |= bit;
			gsp_fp_open_add(f, r, true);
		} else if (!is_bad && (*open & bit)) {
			*open &= ~bit;
			gsp_fp_open_add(f, r, false);
		}
	} else if (is_bad != was_bad && (is_bad || r->n_open > 0)) {
		gsp_fp_open_add(f, r, is_bad);
	}
	return counted;
}

void
gsp_fp_sum(const struct gsp_fp *f, uint64_t now_ns, struct gsp_fp_sum *s)
{
	double open_ns = 0;

	memset(s, 0, sizeof(*s));
	s->pairs_known = f->seen != NULL;
	for (uint32_t i = 0; i < f->rows; i++) {
		const struct gsp_fp_row *r = &f->row[i];
		uint64_t n_open = __atomic_load_n(&r->n_open, __ATOMIC_RELAXED);
		uint64_t t_last = __atomic_load_n(&r->t_last, __ATOMIC_RELAXED);

		s->suspect += __atomic_load_n(&r->suspect, __ATOMIC_RELAXED);
		s->down += __atomic_load_n(&r->down, __ATOMIC_RELAXED);
		s->pairs += __atomic_load_n(&r->pairs, __ATOMIC_RELAXED);
		s->down_pairs += __atomic_load_n(&r->down_pairs,
						 __ATOMIC_RELAXED);
		s->open_end += n_open;
		open_ns += (double)__atomic_load_n(&r->open_ns,
						   __ATOMIC_RELAXED);
		if (now_ns > t_last)
			open_ns += (double)n_open * (double)(now_ns - t_last);
	}
	s->open_peak = __atomic_load_n(&f->open_peak, __ATOMIC_RELAXED);
	s->pair_s = open_ns / GSP_FP_NS_PER_S;
}
