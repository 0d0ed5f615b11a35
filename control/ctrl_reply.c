/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replies and requests of the control socket: the error and ok replies,
 * the fields of a request, and text from the network made safe to log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctrl_int.h"

/* Names come from the network: never let them put escapes in the log. */
void
ctrl_safe_str(char *dst, size_t len, const char *src, size_t srclen)
{
	size_t i;

	for (i = 0; i + 1 < len && i < srclen && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

json_t *
ctrl_error(const char *fmt, ...)
{
	char msg[CTRL_ERR_MAX];
	char safe[CTRL_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* json_string() refuses invalid UTF-8: keep it plain ASCII */
	ctrl_safe_str(safe, sizeof(safe), msg, sizeof(msg));
	return json_pack("{s:b,s:s}", "ok", 0, "error", safe);
}

json_t *
ctrl_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

/* A string field of the request, or NULL with *reply set. */
const char *
ctrl_req_str(json_t *req, const char *field, size_t *len, json_t **reply)
{
	json_t *v = json_object_get(req, field);

	if (v == NULL) {
		*reply = ctrl_error("missing \"%s\"", field);
		return NULL;
	}
	if (!json_is_string(v)) {
		*reply = ctrl_error("\"%s\" must be a string", field);
		return NULL;
	}
	*len = json_string_length(v);
	return json_string_value(v);
}

/* The optional "op" of a request (*op keeps its default when absent);
 * false when it is not a string. */
bool
ctrl_req_op(json_t *jop, const char **op)
{
	if (jop == NULL)
		return true;
	if (!json_is_string(jop))
		return false;
	*op = json_string_value(jop);
	return true;
}

const char *
ctrl_dp_strerror(int ret)
{
	switch (ret) {
	case -EAGAIN:
		return "dataplane command queue full, try again";
	case -EINVAL:
		return "rejected by the dataplane as invalid";
	case -E2BIG:
		return "over [limits] app_value_max or app_bytes_max";
	default:
		return strerror(-ret);
	}
}
