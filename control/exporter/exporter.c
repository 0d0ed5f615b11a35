/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipd-exporter: serves GET /metrics in Prometheus text (or
 * OpenMetrics when asked) from nodes' status views, read-only, no DPDK.
 * One thread, poll(): a fixed number of connections, a bounded request,
 * a deadline per connection, one request per connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "exp_int.h"

#ifndef GSP_VERSION
#define GSP_VERSION "unknown"
#endif

#define EXP_MAX_CONN 16
#define EXP_REQ_MAX 8192		/* request line and headers */
#define EXP_DEADLINE_MS 5000		/* to send a whole request */
#define EXP_SEND_TIMEOUT_S 5

struct exp_conn {
	int fd;
	size_t len;
	int64_t deadline_ms;
	char req[EXP_REQ_MAX + 1];
};

static volatile sig_atomic_t exp_stop;

static void
exp_on_signal(int sig)
{
	(void)sig;
	exp_stop = 1;
}

static int64_t
exp_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
exp_send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* peer gone or send timeout */
		p += w;
		n -= (size_t)w;
	}
}

static void
exp_reply(int fd, int code, const char *reason, const char *extra_hdr,
	  const char *ctype, const char *body, size_t blen, bool head)
{
	char h[512];
	int n;
	struct timeval tv = { .tv_sec = EXP_SEND_TIMEOUT_S };

	/* the reply is written blocking, bounded by a send timeout */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = snprintf(h, sizeof(h), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
		     code, reason, ctype, blen, extra_hdr);
	exp_send_all(fd, h, (size_t)n);
	if (!head)
		exp_send_all(fd, body, blen);
}

static void
exp_error(int fd, int code, const char *reason, const char *msg,
	  const char *extra_hdr)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "%d %s: %s\n", code, reason, msg);

	exp_reply(fd, code, reason, extra_hdr, "text/plain; charset=utf-8",
		  body, (size_t)n, false);
}

/* Value of header name in the request (lower-case compare), or NULL. */
static const char *
exp_header(char *req, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (char *l = strstr(req, "\r\n"); l != NULL;
	     l = strstr(l + 2, "\r\n")) {
		if (strncasecmp(l + 2, name, nl) == 0 && l[2 + nl] == ':') {
			const char *v = l + 3 + nl;
			size_t k = 0;

			while (*v == ' ' || *v == '\t')
				v++;
			while (v[k] != '\r' && v[k] != '\0' && k + 1 < len) {
				out[k] = v[k];
				k++;
			}
			out[k] = '\0';
			return out;
		}
	}
	return NULL;
}

static void
exp_handle(struct exp_conn *c, struct exp_target *t, size_t nt)
{
	char method[16], target[1024], version[16], accept[512];
	struct exp_buf b = { 0 };
	bool head, om;
	char *q;

	if (sscanf(c->req, "%15[^ \r\n] %1023[^ \r\n] %15[^ \r\n]", method,
		   target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0 ||
	    strspn(c->req, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method)) {
		exp_error(c->fd, 400, "Bad Request", "expected a request line "
			  "such as GET /metrics HTTP/1.1", "");
		return;
	}
	q = strchr(target, '?');
	if (q != NULL)
		*q = '\0';
	if (strcmp(target, "/metrics") != 0 && strcmp(target, "/") != 0) {
		exp_error(c->fd, 404, "Not Found", "the only paths are "
			  "/metrics and /", "");
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		exp_error(c->fd, 405, "Method Not Allowed", "use GET or HEAD",
			  "Allow: GET, HEAD\r\n");
		return;
	}
	if (strcmp(target, "/") == 0) {
		static const char idx[] = "gossipd-exporter: metrics at "
			"/metrics\n";

		exp_reply(c->fd, 200, "OK", "", "text/plain; charset=utf-8",
			  idx, sizeof(idx) - 1, head);
		return;
	}
	om = exp_header(c->req, "accept", accept, sizeof(accept)) != NULL &&
		strstr(accept, "application/openmetrics-text") != NULL;
	b.cap = 65536;
	b.p = malloc(b.cap);
	if (b.p == NULL) {
		exp_error(c->fd, 500, "Internal Server Error", "out of memory",
			  "");
		return;
	}
	exp_render(t, nt, om, &b);
	if (b.overflow)
		exp_error(c->fd, 500, "Internal Server Error", "answer larger "
			  "than the bound", "");
	else
		exp_reply(c->fd, 200, "OK", "", om ?
			  "application/openmetrics-text; version=1.0.0; "
			  "charset=utf-8" :
			  "text/plain; version=0.0.4; charset=utf-8",
			  b.p, b.len, head);
	free(b.p);
}

/* Reads what is there; true when the connection is done with. */
static bool
exp_on_readable(struct exp_conn *c, struct exp_target *t, size_t nt)
{
	ssize_t r = recv(c->fd, c->req + c->len, EXP_REQ_MAX - c->len, 0);

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (r <= 0)
		return true;
	c->len += (size_t)r;
	c->req[c->len] = '\0';
	if (memchr(c->req, '\0', c->len) != NULL) {
		exp_error(c->fd, 400, "Bad Request", "NUL byte in request", "");
		return true;
	}
	if (strstr(c->req, "\r\n\r\n") != NULL) {
		exp_handle(c, t, nt);
		return true;
	}
	if (c->len >= EXP_REQ_MAX) {
		exp_error(c->fd, 431, "Request Header Fields Too Large",
			  "request larger than 8192 bytes", "");
		return true;
	}
	return false;
}

static int
exp_listen(const char *spec)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char *end;
	long port;
	int fd, one = 1;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host)) {
		fprintf(stderr, "gossipd-exporter: --listen %s: expected "
			"IPV4:PORT, e.g. 127.0.0.1:9946\n", spec);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || port < 1 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "gossipd-exporter: --listen %s: expected "
			"IPV4:PORT with a port in 1..65535\n", spec);
		return -1;
	}
	sa.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 64) != 0) {
		fprintf(stderr, "gossipd-exporter: --listen %s: %s\n", spec,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* --node NAME [--cluster C]: the file, as gossipctl names it. */
static int
exp_find_node(const char *dir, const char *cluster, const char *node,
	      char *out, size_t len)
{
	char pat[512];
	glob_t g;
	int ret;

	if (cluster != NULL) {
		if (snprintf(out, len, "%s/gossipd.%s.%s", dir, cluster,
			     node) >= (int)len)
			return -1;
		return 0;
	}
	snprintf(pat, sizeof(pat), "%s/gossipd.*.%s", dir, node);
	memset(&g, 0, sizeof(g));
	ret = glob(pat, 0, NULL, &g);
	if (ret != 0 || g.gl_pathc != 1) {
		fprintf(stderr, "gossipd-exporter: --node %s: %s in %s; %s\n",
			node, ret != 0 ? "no status view" :
			"several status views", dir, ret != 0 ?
			"is gossipd running?" : "add --cluster");
		globfree(&g);
		return -1;
	}
	snprintf(out, len, "%s", g.gl_pathv[0]);
	globfree(&g);
	return (size_t)strlen(out) < len - 1 ? 0 : -1;
}

static void
exp_usage(FILE *f)
{
	fprintf(f, "usage: gossipd-exporter [--view PATH]... [--node NAME]... "
		"[--cluster C] [--dir DIR]\n"
		"                        [--listen IPV4:PORT] [--version]\n"
		"Serves GET /metrics (Prometheus text, or OpenMetrics when "
		"asked) from gossipd\nstatus views. --listen defaults to "
		"127.0.0.1:9946; --dir to /dev/shm.\n");
}

static struct exp_target exp_targets[EXP_MAX_VIEWS];
static struct exp_conn exp_conns[EXP_MAX_CONN];

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "view", required_argument, NULL, 'v' },
		{ "node", required_argument, NULL, 'n' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *nodes[EXP_MAX_VIEWS], *cluster = NULL, *dir = "/dev/shm";
	const char *listen_on = "127.0.0.1:9946";
	size_t nt = 0, nn = 0;
	struct pollfd pfd[EXP_MAX_CONN + 1];
	int opt, lfd;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'v':
		case 'n':
			if (nt + nn >= EXP_MAX_VIEWS) {
				fprintf(stderr, "gossipd-exporter: at most %d "
					"views\n", EXP_MAX_VIEWS);
				return 2;
			}
			if (opt == 'n') {
				nodes[nn++] = optarg;
				break;
			}
			if (strlen(optarg) >= sizeof(exp_targets[0].path)) {
				fprintf(stderr, "gossipd-exporter: --view: path "
					"too long\n");
				return 2;
			}
			snprintf(exp_targets[nt++].path,
				 sizeof(exp_targets[0].path), "%s", optarg);
			break;
		case 'c': cluster = optarg; break;
		case 'd': dir = optarg; break;
		case 'l': listen_on = optarg; break;
		case 'V':
			printf("gossipd-exporter %s\n", GSP_VERSION);
			return 0;
		case 'h':
			exp_usage(stdout);
			return 0;
		default:
			exp_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gossipd-exporter: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	for (size_t i = 0; i < nn; i++)
		if (exp_find_node(dir, cluster, nodes[i],
				  exp_targets[nt].path,
				  sizeof(exp_targets[0].path)) != 0)
			return 1;
		else
			nt++;
	if (nt == 0) {
		fprintf(stderr, "gossipd-exporter: no view: give --view PATH "
			"or --node NAME\n");
		return 2;
	}
	for (size_t i = 0; i < nt; i++) {
		/* labels of a view never read: its file name */
		const char *s = strrchr(exp_targets[i].path, '/');

		snprintf(exp_targets[i].node, sizeof(exp_targets[i].node),
			 "%.64s", s != NULL ? s + 1 : exp_targets[i].path);
	}
	lfd = exp_listen(listen_on);
	if (lfd < 0)
		return 1;
	signal(SIGTERM, exp_on_signal);
	signal(SIGINT, exp_on_signal);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < EXP_MAX_CONN; i++)
		exp_conns[i].fd = -1;
	fprintf(stderr, "gossipd-exporter: serving %zu view(s) on http://%s"
		"/metrics\n", nt, listen_on);
	while (!exp_stop) {
		int64_t now = exp_mono_ms(), wait = 1000;
		int np = 1;

		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < EXP_MAX_CONN; i++) {
			struct exp_conn *c = &exp_conns[i];

			if (c->fd < 0)
				continue;
			if (now >= c->deadline_ms) {
				exp_error(c->fd, 408, "Request Timeout",
					  "request not complete within 5 s",
					  "");
				close(c->fd);
				c->fd = -1;
				continue;
			}
			if (c->deadline_ms - now < wait)
				wait = c->deadline_ms - now;
			pfd[np++] = (struct pollfd){ .fd = c->fd,
						     .events = POLLIN };
		}
		if (poll(pfd, np, (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			perror("gossipd-exporter: poll");
			return 1;
		}
		for (int k = 1; k < np; k++) {
			struct exp_conn *c = NULL;

			if (pfd[k].revents == 0)
				continue;
			for (int i = 0; i < EXP_MAX_CONN; i++)
				if (exp_conns[i].fd == pfd[k].fd)
					c = &exp_conns[i];
			if (c != NULL && exp_on_readable(c, exp_targets, nt)) {
				close(c->fd);
				c->fd = -1;
			}
		}
		if (pfd[0].revents & POLLIN) {
			/* bounded accepts per turn */
			for (int a = 0; a < EXP_MAX_CONN; a++) {
				int fd = accept4(lfd, NULL, NULL,
						 SOCK_NONBLOCK | SOCK_CLOEXEC);
				int i;

				if (fd < 0)
					break;
				for (i = 0; i < EXP_MAX_CONN; i++)
					if (exp_conns[i].fd < 0)
						break;
				if (i == EXP_MAX_CONN) {
					exp_error(fd, 503, "Service "
						  "Unavailable", "too many "
						  "connections", "");
					close(fd);
					continue;
				}
				exp_conns[i].fd = fd;
				exp_conns[i].len = 0;
				exp_conns[i].deadline_ms = exp_mono_ms() +
					EXP_DEADLINE_MS;
			}
		}
	}
	close(lfd);
	return 0;
}
