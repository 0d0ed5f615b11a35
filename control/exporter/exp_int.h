/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipd-exporter: Prometheus/OpenMetrics text from status views.
 * exp_metrics.c renders the views (docs/METRICS.md lists every name);
 * exporter.c parses options and serves HTTP.
 */
#ifndef GSP_EXP_INT_H
#define GSP_EXP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gossipd/status_view.h"

#define EXP_MAX_VIEWS 64
#define EXP_BODY_MAX (4u << 20)		/* bound of one answer */
#define EXP_STALE_NS 2000000000ULL	/* writer silent this long: down */

struct exp_target {
	char path[256];
	char cluster[33];	/* last names seen, for a dead view's labels */
	char node[65];
	uint64_t read_errors;
};

struct exp_buf {
	char *p;
	size_t len, cap;
	bool overflow;
};

void exp_printf(struct exp_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Renders every target into b; openmetrics selects that format. */
void exp_render(struct exp_target *t, size_t n, bool openmetrics,
		struct exp_buf *b);

#endif /* GSP_EXP_INT_H */
