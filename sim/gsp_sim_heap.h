/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixed-capacity binary min-heap of simulator events, ordered by
 * (time, insertion sequence): two events due at the same nanosecond always
 * run in the order they were scheduled, so a run is reproducible.
 */
#ifndef GSP_SIM_HEAP_H
#define GSP_SIM_HEAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

enum gsp_sim_ev_kind {
	GSP_SIM_EV_TICK = 1,	/* node round deadline; arg = node epoch */
	GSP_SIM_EV_DELIVER,	/* packet arrival; arg = pool slot */
};
#define GSP_SIM_EV_HELD 0x100u	/* kind flag: already delayed by cpuload */

struct gsp_sim_ev {
	uint64_t t;
	uint64_t seq;
	uint32_t node;
	uint32_t arg;
	uint32_t kind;
};

struct gsp_sim_heap {
	struct gsp_sim_ev *ev;
	uint32_t n;
	uint32_t cap;
	uint64_t next_seq;
};

static inline bool
gsp_sim_ev_before(const struct gsp_sim_ev *a, const struct gsp_sim_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static inline int
gsp_sim_heap_init(struct gsp_sim_heap *h, uint32_t cap)
{
	h->ev = calloc(cap, sizeof(*h->ev));
	h->n = 0;
	h->cap = cap;
	h->next_seq = 0;
	return h->ev == NULL ? -1 : 0;
}

static inline void
gsp_sim_heap_free(struct gsp_sim_heap *h)
{
	free(h->ev);
	h->ev = NULL;
	h->n = h->cap = 0;
}

/* false when full: the caller counts the event as dropped */
static inline bool
gsp_sim_heap_push(struct gsp_sim_heap *h, uint64_t t, uint32_t kind,
		  uint32_t node, uint32_t arg)
{
	struct gsp_sim_ev e = { t, h->next_seq++, node, arg, kind };
	uint32_t i;

	if (h->n >= h->cap)
		return false;
	i = h->n++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!gsp_sim_ev_before(&e, &h->ev[parent]))
			break;
		h->ev[i] = h->ev[parent];
		i = parent;
	}
	h->ev[i] = e;
	return true;
}

static inline const struct gsp_sim_ev *
gsp_sim_heap_top(const struct gsp_sim_heap *h)
{
	return h->n > 0 ? &h->ev[0] : NULL;
}

static inline void
gsp_sim_heap_pop(struct gsp_sim_heap *h, struct gsp_sim_ev *out)
{
	struct gsp_sim_ev last;
	uint32_t i = 0;

	*out = h->ev[0];
	last = h->ev[--h->n];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		const struct gsp_sim_ev *best = &last;

		if (l < h->n && gsp_sim_ev_before(&h->ev[l], best)) {
			m = l;
			best = &h->ev[l];
		}
		if (r < h->n && gsp_sim_ev_before(&h->ev[r], best))
			m = r;
		if (m == i)
			break;
		h->ev[i] = h->ev[m];
		i = m;
	}
	if (h->n > 0)
		h->ev[i] = last;
}

#endif /* GSP_SIM_HEAP_H */
