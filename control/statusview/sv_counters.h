/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The core's counters in the status view: where each row of GSP_COUNTERS
 * (gsp_counters.h) lives in the hand-written, fixed layout of
 * include/gossipd/status_view.h. The view stays hand-written because it is
 * a public ABI that external readers compile against: the installed header
 * must not depend on an internal list, and a new core counter must not
 * move anything in it. Instead every row is pinned here: its view field
 * is a u64 at the offset the row states, checked at compile time by every
 * file that includes this one (the writer's side and gossipctl).
 */
#ifndef GSP_SV_COUNTERS_H
#define GSP_SV_COUNTERS_H

#include <stddef.h>

#include "gossipd/status_view.h"
#include "gsp_core.h"

#define GSP_SV_COUNTER_PIN(name, group, kind, minor, view, off, help) \
	_Static_assert(offsetof(struct gsp_sv_header, view) == (off) && \
		       sizeof(((struct gsp_sv_header *)0)->view) == 8, \
		       "status view field of counter " #name " moved");
GSP_COUNTERS(GSP_SV_COUNTER_PIN)
#undef GSP_SV_COUNTER_PIN

_Static_assert(GSP_RX_ERR_MAX <= GSP_SV_DROP_REASONS + GSP_SV_DROP_REASONS_EXT,
	       "status view has fewer drop reasons than the core");

/* The core's counters into h->counters, h->extra and h->security (their
 * other fields and h->extra.fault are left alone). */
void gsp_sv_counters_fill(struct gsp_sv_header *h,
			  const struct gsp_node_counters *nc);
/* Every counter's field of src into dst, wherever the row puts it: the
 * writer publishes the header's own counter fields with it. */
void gsp_sv_counters_copy(struct gsp_sv_header *dst,
			  const struct gsp_sv_header *src);

#endif /* GSP_SV_COUNTERS_H */
