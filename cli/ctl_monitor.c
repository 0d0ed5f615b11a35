/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipctl monitor: the node's membership events as JSON lines, pushed
 * by gossipd over one control-socket connection until it closes or
 * --count events came (docs/EVENTS.md). gossipctl event: a user event.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_int.h"
#include "gsp_json.h"

#define CTL_MON_LINE_MAX 8192

/* "a,b" into a JSON array; NULL with an error printed. */
static json_t *
ctl_monitor_types(const char *types)
{
	json_t *a = json_array();
	const char *p = types;

	if (a == NULL)
		return NULL;
	while (types != NULL && *p != '\0') {
		size_t n = strcspn(p, ",");

		if (n == 0 || n > 32) {
			ctl_err("--type: empty or overlong event type in \"%s\"",
				types);
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

static int
ctl_monitor_connect(const char *sock)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		ctl_err("%s: socket path too long", sock);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ctl_err("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ctl_err("%s: %s%s", sock, strerror(errno),
			errno == ENOENT || errno == ECONNREFUSED ?
			" (is gossipd running?)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

int
ctl_cmd_monitor(const struct ctl_opts *o, const char *types)
{
	char sock[PATH_MAX], *line = NULL, *buf;
	json_t *req = json_object(), *jt = ctl_monitor_types(types);
	size_t len = 0, off;
	long seen = 0;
	bool replied = false;
	int fd, ret = CTL_EXIT_FAIL;
	ssize_t r;

	buf = malloc(CTL_MON_LINE_MAX);
	if (req == NULL || jt == NULL || buf == NULL)
		goto out;
	ret = ctl_socket_path(o, sock, sizeof(sock));
	if (ret != 0)
		goto out;
	ret = CTL_EXIT_FAIL;
	json_object_set_new(req, "cmd", json_string("monitor"));
	if (json_array_size(jt) > 0)
		json_object_set(req, "types", jt);
	line = gsp_json_dumps(req, JSON_COMPACT);
	fd = ctl_monitor_connect(sock);
	if (line == NULL || fd < 0)
		goto out;
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		ctl_err("%s: %s", sock, strerror(errno));
		close(fd);
		goto out;
	}
	for (;;) {
		char *nl;

		r = recv(fd, buf + len, CTL_MON_LINE_MAX - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ctl_err("monitor: %s closed the connection%s", sock,
				r < 0 ? " with an error" : " (gossipd stopped?)");
			break;
		}
		len += (size_t)r;
		off = 0;
		while ((nl = memchr(buf + off, '\n', len - off)) != NULL) {
			size_t n = (size_t)(nl - (buf + off));

			if (!replied) {
				json_t *rep = json_loadb(buf + off, n, 0, NULL);
				const char *err = json_string_value(
					json_object_get(rep, "error"));

				replied = true;
				if (!json_is_true(json_object_get(rep, "ok"))) {
					ctl_err("monitor: %s", err != NULL ? err :
						"unexpected reply");
					json_decref(rep);
					close(fd);
					goto out;
				}
				/* stdout carries events only: the operator
				 * (and a script) learns here that none before
				 * this line will come */
				fprintf(stderr, "gossipctl: monitoring %s: %zu "
					"event type(s)\n", sock, json_array_size(
					json_object_get(rep, "monitor")));
				json_decref(rep);
			} else {
				fwrite(buf + off, 1, n + 1, stdout);
				fflush(stdout);
				if (o->count > 0 && ++seen >= o->count) {
					ret = CTL_EXIT_OK;
					close(fd);
					goto out;
				}
			}
			off += n + 1;
		}
		memmove(buf, buf + off, len - off);
		len -= off;
		if (len == CTL_MON_LINE_MAX) {
			ctl_err("monitor: a line longer than %d bytes",
				CTL_MON_LINE_MAX);
			break;
		}
	}
	close(fd);
out:
	free(line);
	free(buf);
	json_decref(jt);
	json_decref(req);
	return ret;
}

int
ctl_cmd_event(const struct ctl_opts *o, const char *name, const char *payload)
{
	/* NULL (not UTF-8) is refused by ctl_cmd_socket */
	return ctl_cmd_socket(o, payload != NULL ?
		json_pack("{s:s,s:s,s:s}", "cmd", "event", "name", name,
			  "payload", payload) :
		json_pack("{s:s,s:s}", "cmd", "event", "name", name));
}
