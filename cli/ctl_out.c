/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipctl's output helpers: error lines, text from the network made
 * printable, JSON values and documents, and the clocks.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctl_int.h"
#include "gsp_json.h"

void
ctl_verr(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", CTL_PROG);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
}

void
ctl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verr(fmt, ap);
	va_end(ap);
}

uint64_t
ctl_unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t
ctl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Printable ASCII only: names come from the network via the view. */
const char *
ctl_safe(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < len && s[i] != '\0'; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* A counter gossipd sent, as text: "?" when it is not a u64. */
const char *
ctl_u64_text(const json_t *j, char *buf, size_t len)
{
	uint64_t v;

	if (!gsp_json_u64_value(j, &v))
		return "?";
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

json_t *
ctl_json_str(const char *s)
{
	char buf[256];

	return json_string(ctl_safe(buf, sizeof(buf), s));
}

json_t *
ctl_json_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
	return json_string(buf);
}

/* Prints the JSON document and frees it; 0 or -1. */
/* A JSON document about the view's node: {"cluster":..,"node":..}. */
json_t *
ctl_json_doc(const struct gsp_sv_header *h)
{
	json_t *root = json_object();

	if (root != NULL) {
		json_object_set_new(root, "cluster", ctl_json_str(h->cluster));
		json_object_set_new(root, "node", ctl_json_str(h->node_name));
	}
	return root;
}

int
ctl_json_print(json_t *root)
{
	int ret = -1;

	if (root != NULL &&
	    gsp_json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			   JSON_REAL_PRECISION(10)) == 0)
		ret = 0;
	if (ret == 0)
		fputc('\n', stdout);
	else
		ctl_err("cannot build the JSON output");
	json_decref(root);
	return ret;
}
