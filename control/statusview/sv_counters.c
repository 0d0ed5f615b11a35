/* SPDX-License-Identifier: BSD-3-Clause */
/* The core's counters into the status view, one assignment per row of
 * GSP_COUNTERS (gsp_counters.h). */
#include "sv_counters.h"

void
gsp_sv_counters_fill(struct gsp_sv_header *h,
		     const struct gsp_node_counters *nc)
{
#define GSP_SV_COUNTER_COPY(name, group, kind, minor, view, off, help) \
	h->view = nc->name;
	GSP_COUNTERS(GSP_SV_COUNTER_COPY)
#undef GSP_SV_COUNTER_COPY
	for (unsigned int i = 0; i < GSP_RX_ERR_MAX; i++) {
		if (i < GSP_SV_DROP_REASONS)
			h->counters.rx_drop[i] = nc->rx_drop[i];
		else
			h->security.rx_drop_ext[i - GSP_SV_DROP_REASONS] =
				nc->rx_drop[i];
	}
}

void
gsp_sv_counters_copy(struct gsp_sv_header *dst,
		     const struct gsp_sv_header *src)
{
#define GSP_SV_COUNTER_MOVE(name, group, kind, minor, view, off, help) \
	dst->view = src->view;
	GSP_COUNTERS(GSP_SV_COUNTER_MOVE)
#undef GSP_SV_COUNTER_MOVE
}
