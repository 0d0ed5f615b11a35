/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipctl join: asks gossipd to contact addresses as it contacts its
 * seeds (control-socket "join"), then waits, bounded, in the status view
 * for a member at each address: the wait is ours, so gossipd's control
 * thread never blocks on it. A HOST[:PORT] is resolved here (IPv4, as
 * Serf's join does), for the same reason: gossipd's control thread never
 * waits on a resolver.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_int.h"

#define CTL_JOIN_WAIT_MS 5000
#define CTL_JOIN_POLL_MS 100
#define CTL_JOIN_MAX 64		/* GSP_SEEDS_MAX: more never fits */
#define CTL_JOIN_PER_NAME 8	/* addresses taken from one hostname */

struct ctl_join_addr {
	char text[24];
	uint32_t ip;
	uint16_t port;
	char member[CTL_NAME_MAX];	/* who answered there; "" none yet */
};

static bool
ctl_join_parse(const char *s, struct ctl_join_addr *a)
{
	unsigned int b[4], p;
	char tail;

	if (sscanf(s, "%u.%u.%u.%u:%u%c", &b[0], &b[1], &b[2], &b[3], &p,
		   &tail) != 5 || b[0] > 255 || b[1] > 255 || b[2] > 255 ||
	    b[3] > 255 || p == 0 || p > 65535)
		return false;
	a->ip = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	a->port = (uint16_t)p;
	snprintf(a->text, sizeof(a->text), "%s", s);
	a->member[0] = '\0';
	return true;
}

/* Marks the addresses that have an alive member; how many have one. */
static int
ctl_join_scan(const struct gsp_sv_snapshot *s, struct ctl_join_addr *a, int n)
{
	int found = 0;

	for (int i = 0; i < n; i++) {
		for (uint32_t j = 0; j < s->hdr.member_count &&
		     a[i].member[0] == '\0'; j++) {
			const struct gsp_sv_member *m = &s->members[j];

			if (m->ip == a[i].ip && m->port == a[i].port &&
			    m->state == GSP_SV_ALIVE &&
			    !(m->flags & GSP_SV_MEMBER_SELF))
				ctl_safe(a[i].member, sizeof(a[i].member),
					 m->name);
		}
		found += a[i].member[0] != '\0';
	}
	return found;
}

static void
ctl_join_sleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Appends arg to arr as gossipd takes it: an IPv4 literal (with or
 * without its port) as given, for gossipd to check; a HOST[:PORT] as the
 * IPv4 addresses it resolves to, up to CTL_JOIN_PER_NAME, each with the
 * port. CTL_EXIT_OK, or an exit status after saying why.
 */
static int
ctl_join_expand(const char *arg, json_t *arr)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res, *ai;
	char host[256], out[32], ip[INET_ADDRSTRLEN];
	const char *colon = strrchr(arg, ':');
	size_t hlen = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
	unsigned int taken = 0;
	long port = 0;
	int rc;

	if (hlen == 0 || hlen >= sizeof(host)) {
		ctl_err("join: \"%s\" is not IPv4[:port] or HOST[:port]", arg);
		return CTL_EXIT_FAIL;
	}
	memcpy(host, arg, hlen);
	host[hlen] = '\0';
	if (strspn(host, "0123456789.") == hlen) {
		json_array_append_new(arr, json_string(arg));
		return CTL_EXIT_OK;	/* gossipd checks the rest */
	}
	if (colon != NULL) {
		char *end;

		port = strtol(colon + 1, &end, 10);
		if (*end != '\0' || colon[1] == '\0' || port < 1 ||
		    port > 65535) {
			ctl_err("join: \"%s\": the port must be 1..65535", arg);
			return CTL_EXIT_FAIL;
		}
	}
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		ctl_err("join: cannot resolve \"%s\": %s", host,
			rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return CTL_EXIT_FAIL;
	}
	for (ai = res; ai != NULL && taken < CTL_JOIN_PER_NAME;
	     ai = ai->ai_next) {
		const struct sockaddr_in *sin =
			(const struct sockaddr_in *)ai->ai_addr;
		bool dup = false;
		size_t i;
		json_t *v;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		if (port != 0)
			snprintf(out, sizeof(out), "%s:%ld", ip, port);
		else
			snprintf(out, sizeof(out), "%s", ip);
		json_array_foreach(arr, i, v)
			dup |= strcmp(json_string_value(v), out) == 0;
		if (dup)
			continue;
		json_array_append_new(arr, json_string(out));
		taken++;
	}
	freeaddrinfo(res);
	return CTL_EXIT_OK;
}

int
ctl_cmd_join(const struct ctl_opts *o, char **addrs, int nargs)
{
	struct ctl_join_addr a[CTL_JOIN_MAX];
	long wait_ms = o->join_wait_set ? o->join_wait_ms : CTL_JOIN_WAIT_MS;
	struct gsp_sv_snapshot s;
	char path[PATH_MAX];
	json_t *req, *arr, *reply = NULL, *got;
	uint64_t t0;
	int n = 0, found = 0, ret;
	size_t i;

	if (nargs > CTL_JOIN_MAX) {
		ctl_err("join: at most %d addresses at once", CTL_JOIN_MAX);
		return CTL_EXIT_USAGE;
	}
	arr = json_array();
	if (arr == NULL)
		return CTL_EXIT_FAIL;
	for (int k = 0; k < nargs; k++) {
		ret = ctl_join_expand(addrs[k], arr);
		if (ret != CTL_EXIT_OK) {
			json_decref(arr);
			return ret;
		}
	}
	if (json_array_size(arr) > CTL_JOIN_MAX) {
		ctl_err("join: the names resolve to %zu addresses, at most %d "
			"at once", json_array_size(arr), CTL_JOIN_MAX);
		json_decref(arr);
		return CTL_EXIT_FAIL;
	}
	req = json_pack("{s:s,s:o}", "cmd", "join", "addrs", arr);
	ret = ctl_call_reply(o, req, &reply);
	if (ret != CTL_EXIT_OK || reply == NULL)
		return ret;
	/* gossipd answers with the addresses as it parsed them (port
	 * added): those are what members show */
	json_array_foreach(json_object_get(reply, "addrs"), i, got) {
		if (n < CTL_JOIN_MAX && json_is_string(got) &&
		    ctl_join_parse(json_string_value(got), &a[n]))
			n++;
	}
	json_decref(reply);
	if (n == 0) {
		ctl_err("join: gossipd's reply names no address");
		return CTL_EXIT_FAIL;
	}
	if (wait_ms == 0) {
		printf("sent to %d address%s\n", n, n == 1 ? "" : "es");
		return fflush(stdout) != 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	}
	ret = ctl_find_view(o, path, sizeof(path));
	if (ret != 0)
		return ret;
	t0 = ctl_mono_ms();
	for (;;) {
		if (ctl_snapshot(path, &s, true) == 0) {
			found = ctl_join_scan(&s, a, n);
			gsp_sv_snapshot_free(&s);
		}
		if (found == n || ctl_mono_ms() - t0 >= (uint64_t)wait_ms)
			break;
		ctl_join_sleep(CTL_JOIN_POLL_MS);
	}
	printf("joined %d of %d address%s\n", found, n, n == 1 ? "" : "es");
	for (int k = 0; k < n; k++)
		if (a[k].member[0] != '\0')
			printf("  %-21s  %s alive\n", a[k].text, a[k].member);
		else
			printf("  %-21s  no member there within %ld ms (still "
			       "contacted as a seed)\n", a[k].text, wait_ms);
	if (fflush(stdout) != 0)
		return CTL_EXIT_FAIL;
	return found > 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}
