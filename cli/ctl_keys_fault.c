/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipctl fault and keys: requests to gossipd, which parses fault specs
 * (the one parser) and holds the keyring; their replies as text.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"

/* fault: specs are parsed by gossipd, the one parser (gsp_fault_parse) */

static json_t *
ctl_fault_request(const char *op, char **args, int nargs)
{
	json_t *req;
	char *spec;
	size_t len = 0, off = 0;

	if (strcmp(op, "show") == 0 || strcmp(op, "clear") == 0)
		return json_pack("{s:s,s:s}", "cmd", "fault", "op", op);
	if (strcmp(op, "block") == 0 || strcmp(op, "unblock") == 0)
		return json_pack("{s:s,s:s,s:s}", "cmd", "fault", "op", op,
				 "peer", args[0]);
	/* set: the tokens, one spec separated by blanks */
	for (int i = 0; i < nargs; i++)
		len += strlen(args[i]) + 1;
	spec = malloc(len + 1);
	if (spec == NULL)
		return NULL;
	spec[0] = '\0';
	for (int i = 0; i < nargs; i++)
		off += (size_t)snprintf(spec + off, len + 1 - off, "%s%s",
					i > 0 ? " " : "", args[i]);
	req = json_pack("{s:s,s:s,s:s}", "cmd", "fault", "op", "set", "spec",
			spec);
	free(spec);
	return req;
}

int
ctl_cmd_fault(const struct ctl_opts *o, const char *op, char **args,
	      int nargs)
{
	json_t *reply = NULL, *spec, *cnt, *v;
	const char *key;
	char safe[4096], num[24];
	int ret;

	ret = ctl_call_reply(o, ctl_fault_request(op, args, nargs), &reply);
	if (ret != CTL_EXIT_OK || reply == NULL)
		return ret;
	spec = json_object_get(reply, "spec");
	cnt = json_object_get(reply, "counters");
	printf("faults: %s\n", json_is_string(spec) ?
	       ctl_safe(safe, sizeof(safe), json_string_value(spec)) : "?");
	json_object_foreach(cnt, key, v)
		printf("  %-12s %s\n", ctl_safe(safe, 64, key),
		       ctl_u64_text(v, num, sizeof(num)));
	json_decref(reply);
	return fflush(stdout) != 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

/* ---------------------------------------------------------------------- */
/* keys: the keyring lives in gossipd; key files are read by gossipd */

static int
ctl_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "node1, node2 and 3 more" of obj's field (names, sorted) and
 * field_count, or "-". */
static const char *
ctl_names(const json_t *obj, const char *field, char *buf, size_t len)
{
	const json_t *a = json_object_get(obj, field), *v;
	char safe[CTL_NAME_MAX], cf[40];
	const char **s;
	size_t i, n = 0, off = 0;
	json_int_t count;

	snprintf(cf, sizeof(cf), "%s_count", field);
	count = json_integer_value(json_object_get(obj, cf));
	snprintf(buf, len, "-");
	if (json_array_size(a) == 0 && count <= 0)
		return buf;
	s = calloc(json_array_size(a) + 1, sizeof(*s));
	if (s == NULL)
		return buf;
	json_array_foreach(a, i, v)
		if (json_is_string(v))
			s[n++] = json_string_value(v);
	qsort(s, n, sizeof(*s), ctl_name_cmp);
	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i > 0 ? ", " : "",
					ctl_safe(safe, sizeof(safe), s[i]));
	if (count > (json_int_t)n && off < len)
		snprintf(buf + off, len - off, "%s%lld %s", n > 0 ?
			 " and " : "", (long long)(count - (json_int_t)n),
			 n > 0 ? "more" : "members");
	free(s);
	return buf;
}

/* The keys as the cluster sees them: what each live member published. */
static void
ctl_keys_cluster_print(const json_t *reply)
{
	const json_t *cl = json_object_get(reply, "cluster"), *k, *v;
	char names[1024], safe[CTL_NAME_MAX];
	size_t i;

	if (!json_is_array(cl))
		return;
	printf("in the cluster (live members, as each publishes its keyring):\n");
	json_array_foreach(cl, i, k) {
		v = json_object_get(k, "id");
		printf("  %s\n", json_is_string(v) ? ctl_safe(safe, sizeof(safe),
		       json_string_value(v)) : "?");
		printf("    primary on:   %s\n",
		       ctl_names(k, "primary_on", names, sizeof(names)));
		printf("    installed on: %s\n",
		       ctl_names(k, "installed_on", names, sizeof(names)));
		printf("    missing on:   %s\n",
		       ctl_names(k, "missing_on", names, sizeof(names)));
	}
	if (json_integer_value(json_object_get(reply, "more_keys")) > 0)
		printf("  (and more key ids than a keyring holds: not listed)\n");
	if (json_integer_value(json_object_get(reply, "unpublished_count")) > 0)
		printf("  publishing no keyring (older gossipd, or not heard "
		       "yet): %s\n", ctl_names(reply, "unpublished", names,
						 sizeof(names)));
}

int
ctl_cmd_keys(const struct ctl_opts *o, const char *op, const char *arg)
{
	char path[PATH_MAX], safe[256], num[3][24];
	json_t *req, *reply = NULL, *keys, *k, *v;
	size_t i;
	int ret;

	if (strcmp(op, "list") == 0) {
		req = json_pack("{s:s,s:s}", "cmd", "keys", "op", "list");
	} else if (strcmp(op, "install") == 0) {
		/* gossipd may run elsewhere in the tree: an absolute path */
		if (realpath(arg, path) == NULL) {
			ctl_err("keys install: %s: %s", ctl_safe(safe,
				sizeof(safe), arg), strerror(errno));
			return CTL_EXIT_FAIL;
		}
		req = json_pack("{s:s,s:s,s:s}", "cmd", "keys", "op", op,
				"file", path);
	} else {
		req = json_pack("{s:s,s:s,s:s,s:b}", "cmd", "keys", "op", op,
				"id", arg, "force", o->force);
	}
	ret = ctl_call_reply(o, req, &reply);
	if (ret != CTL_EXIT_OK || reply == NULL)
		return ret;
	v = json_object_get(reply, "mode");
	if (json_is_string(v) && strcmp(json_string_value(v), "plaintext") == 0) {
		printf("security: PLAINTEXT: packets are neither authenticated "
		       "nor encrypted\n");
		json_decref(reply);
		return fflush(stdout) != 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	}
	v = json_object_get(reply, "cipher");
	printf("security: authenticated, %s\n", json_is_string(v) ?
	       ctl_safe(safe, sizeof(safe), json_string_value(v)) : "?");
	v = json_object_get(reply, "keyring");
	printf("keyring file: %s\n", json_is_string(v) ?
	       ctl_safe(safe, sizeof(safe), json_string_value(v)) : "?");
	keys = json_object_get(reply, "keys");
	json_array_foreach(keys, i, k) {
		v = json_object_get(k, "id");
		printf("  %s%s\n", json_is_string(v) ? ctl_safe(safe, sizeof(safe),
		       json_string_value(v)) : "?",
		       json_is_true(json_object_get(k, "primary")) ?
		       "  primary (seals what this node sends)" : "");
	}
	ctl_keys_cluster_print(reply);
	printf("packets opened with the primary: %s, with another key: %s, "
	       "unknown key (dropped): %s\n",
	       ctl_u64_text(json_object_get(reply, "rx_key_primary"), num[0],
			    sizeof(num[0])),
	       ctl_u64_text(json_object_get(reply, "rx_key_other"), num[1],
			    sizeof(num[1])),
	       ctl_u64_text(json_object_get(reply, "rx_unknown_key"), num[2],
			    sizeof(num[2])));
	json_decref(reply);
	return fflush(stdout) != 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
