/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket from gossipctl's side: one JSON request line, its
 * reply within a deadline, a retry when gossipd evicted us unread; set,
 * leave and ping are just that.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_int.h"
#include "gsp_json.h"

#define CTL_IO_TIMEOUT_MS 3000
#define CTL_TRIES 4			/* a connection evicted unread */
#define CTL_REPLY_MAX 65536

int
ctl_socket_path(const struct ctl_opts *o, char *buf, size_t len)
{
	struct gsp_sv_snapshot s;
	char path[PATH_MAX];
	int ret;

	if (o->socket != NULL) {
		snprintf(buf, len, "%s", o->socket);
		return 0;
	}
	ret = ctl_find_view(o, path, sizeof(path));
	if (ret != 0)
		return ret;
	if (ctl_snapshot(path, &s, false) != 0)
		return CTL_EXIT_FAIL;
	snprintf(buf, len, "%s", s.hdr.control_socket);
	gsp_sv_snapshot_free(&s);
	if (buf[0] == '\0') {
		ctl_err("%s names no control socket; use --socket", path);
		return CTL_EXIT_FAIL;
	}
	return 0;
}

/* Sends one request line and returns the parsed reply, or NULL. */
static json_t *
ctl_request(const char *sock, json_t *req)
{
	struct timeval tv = { CTL_IO_TIMEOUT_MS / 1000, 0 };
	struct sockaddr_un sa;
	char *buf = NULL, *line = NULL, *nl = NULL;
	size_t len = 0, off = 0;
	json_error_t jerr;
	json_t *reply = NULL;
	struct pollfd pfd;
	uint64_t deadline, now;
	ssize_t r;
	int send_err = 0;
	int fd, left;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		ctl_err("%s: socket path longer than %zu bytes", sock,
			sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	line = gsp_json_dumps(req, JSON_COMPACT);
	buf = malloc(CTL_REPLY_MAX + 1);
	if (line == NULL || buf == NULL) {
		ctl_err("out of memory");
		goto out_free;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ctl_err("socket: %s", strerror(errno));
		goto out_free;
	}
	/* bounds a connect to a daemon whose accept backlog is full */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			ctl_err("%s: %s (is gossipd running?)", sock,
				strerror(errno));
		else if (errno == EACCES || errno == EPERM)
			ctl_err("%s: %s (run as root or as the gossipd user)",
				sock, strerror(errno));
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			ctl_err("%s: connect timed out after %d s", sock,
				CTL_IO_TIMEOUT_MS / 1000);
		else
			ctl_err("%s: %s", sock, strerror(errno));
		goto out_close;
	}
	len = strlen(line);
	/* the reply needs the newline; json_dumps did not add one */
	for (size_t sent = 0; sent <= len;) {
		const char *p = sent < len ? line + sent : "\n";
		size_t n = sent < len ? len - sent : 1;

		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		/* gossipd may have refused us with a reply, then closed */
		if (r < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			send_err = errno;
			break;
		}
		if (r <= 0) {
			ctl_err("%s: send: %s", sock, r < 0 ?
				(errno == EAGAIN ? "timed out" : strerror(errno)) :
				"connection closed");
			goto out_close;
		}
		sent += (size_t)r;
	}

	deadline = ctl_mono_ms() + CTL_IO_TIMEOUT_MS;
	while (nl == NULL) {
		if (off >= CTL_REPLY_MAX) {
			ctl_err("%s: reply longer than %d bytes", sock,
				CTL_REPLY_MAX);
			goto out_close;
		}
		now = ctl_mono_ms();
		left = now < deadline ? (int)(deadline - now) : 0;
		if (left <= 0) {
			ctl_err("%s: no reply from gossipd within %d s", sock,
				CTL_IO_TIMEOUT_MS / 1000);
			goto out_close;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ctl_err("poll: %s", strerror(errno));
			goto out_close;
		}
		if (r == 0)
			continue;	/* the deadline check reports it */
		r = recv(fd, buf + off, CTL_REPLY_MAX - off, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0) {
			ctl_err("%s: %s: %s", sock, send_err != 0 ? "send" :
				"recv", strerror(send_err != 0 ? send_err :
						 errno));
			goto out_close;
		}
		if (r == 0) {
			if (send_err != 0)
				ctl_err("%s: send: %s", sock,
					strerror(send_err));
			else
				ctl_err("%s: gossipd closed the connection "
					"without a reply", sock);
			goto out_close;
		}
		nl = memchr(buf + off, '\n', (size_t)r);
		off += (size_t)r;
	}
	reply = gsp_json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
	if (reply == NULL || !json_is_object(reply)) {
		ctl_err("%s: unreadable reply from gossipd: %s", sock,
			reply == NULL ? jerr.text : "not a JSON object");
		json_decref(reply);
		reply = NULL;
	}
out_close:
	close(fd);
out_free:
	free(buf);
	free(line);
	return reply;
}

/* Sends req (taken); an exit code, and on success the reply in *out
 * (or "ok" printed when out is NULL). gossipd's error is printed as is. */
static int
ctl_socket_call(const struct ctl_opts *o, json_t *req, json_t **out)
{
	char sock[PATH_MAX];
	json_t *reply, *ok, *err;
	int ret;

	if (req == NULL) {
		ctl_err("cannot build the request (arguments must be UTF-8)");
		return CTL_EXIT_USAGE;
	}
	ret = ctl_socket_path(o, sock, sizeof(sock));
	if (ret != 0) {
		json_decref(req);
		return ret;
	}
	/* gossipd evicts the connection that waited longest when all its
	 * slots are taken; "retry": our request was not read, send it again */
	for (int i = 0; i < CTL_TRIES; i++) {
		reply = ctl_request(sock, req);
		if (reply == NULL ||
		    !json_is_true(json_object_get(reply, "retry")) ||
		    i + 1 == CTL_TRIES)
			break;
		json_decref(reply);
	}
	json_decref(req);
	if (reply == NULL)
		return CTL_EXIT_FAIL;
	ok = json_object_get(reply, "ok");
	err = json_object_get(reply, "error");
	if (json_is_true(ok)) {
		if (out == NULL) {
			printf("ok\n");
			json_decref(reply);
		} else {
			*out = reply;
		}
		ret = CTL_EXIT_OK;
	} else {
		char safe[512];

		ctl_err("%s", json_is_string(err) ?
			ctl_safe(safe, sizeof(safe), json_string_value(err)) :
			"request failed (no error given)");
		json_decref(reply);
		ret = CTL_EXIT_FAIL;
	}
	if (fflush(stdout) != 0)
		ret = CTL_EXIT_FAIL;
	return ret;
}

/* A request whose reply is shown: with --json printed here whole (and
 * freed by ctl_json_print: *reply NULL after), else handed back without
 * its "ok" for the caller's text. */
int
ctl_call_reply(const struct ctl_opts *o, json_t *req, json_t **reply)
{
	int ret = ctl_socket_call(o, req, reply);

	if (ret != CTL_EXIT_OK)
		return ret;
	json_object_del(*reply, "ok");
	if (!o->json)
		return CTL_EXIT_OK;
	ret = ctl_json_print(*reply) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
	*reply = NULL;
	return fflush(stdout) != 0 ? CTL_EXIT_FAIL : ret;
}

int
ctl_cmd_socket(const struct ctl_opts *o, json_t *req)
{
	return ctl_socket_call(o, req, NULL);
}
