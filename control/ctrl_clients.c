/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's connections: accept (root or our uid only), one
 * JSON request per line, a deadline per line, bounded reply queues with
 * backpressure, eviction when every slot is taken, and the abuse log.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctrl_int.h"
#include "gsp_json.h"
#include "gsp_log.h"

#define CTRL_ABUSE_LOG_NS (60ull * 1000000000ull)
#define CTRL_ACCEPTS_PER_LOOP 16

/*
 * Unread input makes close() reset the connection, and the peer may then
 * get ECONNRESET before it reads our last reply: drain a bounded amount.
 */
static void
ctrl_close_gently(int fd)
{
	char sink[4096];

	for (int i = 0; i < 16; i++)
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
	close(fd);
}

/*
 * Best effort single line to a connection we are about to drop; retry:
 * its request was never read, sending it again is safe.
 */
static void
ctrl_send_reject(int fd, const char *error, bool retry)
{
	json_t *r = retry ?
		json_pack("{s:b,s:s,s:b}", "ok", 0, "error", error, "retry", 1) :
		json_pack("{s:b,s:s}", "ok", 0, "error", error);
	char *s = r != NULL ? gsp_json_dumps(r, JSON_COMPACT) : NULL;

	if (s != NULL) {
		/* ignoring the result: the connection is closed either way */
		if (send(fd, s, strlen(s), MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
			(void)send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	free(s);
	json_decref(r);
}

void
ctrl_client_free(struct ctrl *c, unsigned int idx)
{
	struct ctrl_client *cl = c->clients[idx];

	if (cl->dead)
		close(cl->fd);
	else
		ctrl_close_gently(cl->fd);
	free(cl);
	c->clients[idx] = c->clients[--c->n_clients];
	c->clients[c->n_clients] = NULL;
}

/*
 * Abuse of the socket is logged at most once a minute per kind, with the
 * counts since the last line: requests past their deadline and evictions
 * (totals in the ping reply), and connections of other users.
 */
void
ctrl_abuse_log(struct ctrl *c, uint64_t now)
{
	if (c->abuse_closed + c->abuse_evicted > 0 &&
	    now >= c->abuse_log_ns) {
		gsp_log(LOG_WARNING, "control: %" PRIu64 " connection(s) "
			"closed for not completing a request line within %d "
			"s, %" PRIu64 " evicted to make room for new ones (all "
			"%d slots in use): slow or stuck clients; logged again "
			"in a minute at most, with the counts since this line",
			c->abuse_closed, CTRL_REQUEST_S, c->abuse_evicted,
			CTRL_MAX_CLIENTS);
		c->abuse_closed = 0;
		c->abuse_evicted = 0;
		c->abuse_log_ns = now + CTRL_ABUSE_LOG_NS;
	}
	if (c->refused > 0 && now >= c->refused_log_ns) {
		gsp_log(LOG_WARNING, "control: refused %" PRIu64 " connection(s) "
			"of other users, the last from uid %u pid %d: not root "
			"or uid %u; logged again in a minute at most",
			c->refused, (unsigned int)c->refused_uid,
			(int)c->refused_pid, (unsigned int)geteuid());
		c->refused = 0;
		c->refused_log_ns = now + CTRL_ABUSE_LOG_NS;
	}
}

/*
 * Closes client idx with an error line, when nothing else is queued for
 * it (it would land inside an unfinished reply).
 */
static void
ctrl_client_drop(struct ctrl *c, unsigned int idx, const char *why,
		 bool retry)
{
	struct ctrl_client *cl = c->clients[idx];

	if (cl->out_len == 0 && !cl->dead)
		ctrl_send_reject(cl->fd, why, retry);
	ctrl_client_free(c, idx);
}

void
ctrl_client_expire(struct ctrl *c, unsigned int idx)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "request line not completed within %d s "
		 "of its first byte (or of connecting)", CTRL_REQUEST_S);
	ctrl_client_drop(c, idx, msg, false);
	c->deadline_closed++;
	c->abuse_closed++;
}

/*
 * All slots taken: the client that has gone longest without a request
 * answered (since accept or its last answer) makes room. A new client's
 * queued request is read right after its accept (ctrl_loop), so within
 * one pass of at most CTRL_ACCEPTS_PER_LOOP = CTRL_MAX_CLIENTS accepts a
 * newcomer is never the one evicted.
 */
static void
ctrl_evict_one(struct ctrl *c)
{
	char msg[160];
	unsigned int v = 0;

	for (unsigned int i = 1; i < c->n_clients; i++) {
		const struct ctrl_client *a = c->clients[i];
		const struct ctrl_client *b = c->clients[v];

		if (a->served_ns < b->served_ns ||
		    (a->served_ns == b->served_ns && a->serial < b->serial))
			v = i;
	}
	snprintf(msg, sizeof(msg), "closed to make room: all %d control "
		 "connections were in use and this one had gone longest "
		 "without a request answered", CTRL_MAX_CLIENTS);
	/* the line that is pending, if any, was not taken: "retry" */
	ctrl_client_drop(c, v, msg, true);
	c->evicted++;
	c->abuse_evicted++;
}

void
ctrl_accept(struct ctrl *c, uint64_t now)
{
	struct ctrl_client *cl;
	struct ucred cred;
	socklen_t cl_len;
	char msg[128];
	int fd;

	for (unsigned int i = 0; i < CTRL_ACCEPTS_PER_LOOP; i++) {
		fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				gsp_log(LOG_WARNING, "control: accept: %s",
					strerror(errno));
			return;
		}
		cl_len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl_len) != 0) {
			gsp_log(LOG_WARNING, "control: SO_PEERCRED: %s",
				strerror(errno));
			close(fd);
			continue;
		}
		if (cred.uid != 0 && cred.uid != geteuid()) {
			c->refused++;
			c->refused_uid = cred.uid;
			c->refused_pid = cred.pid;
			ctrl_abuse_log(c, now);
			snprintf(msg, sizeof(msg), "permission denied: uid %u "
				 "is neither root nor uid %u",
				 (unsigned int)cred.uid, (unsigned int)geteuid());
			ctrl_send_reject(fd, msg, false);
			ctrl_close_gently(fd);
			continue;
		}
		cl = calloc(1, sizeof(*cl));
		if (cl == NULL) {
			gsp_log(LOG_WARNING, "control: out of memory for a client");
			close(fd);
			continue;
		}
		/* a newcomer always gets in: an operator is never locked out */
		if (c->n_clients >= CTRL_MAX_CLIENTS)
			ctrl_evict_one(c);
		cl->fd = fd;
		cl->uid = cred.uid;
		cl->pid = cred.pid;
		cl->last_active_ns = now;
		cl->line_since_ns = now;	/* the first request is due */
		cl->served_ns = now;
		cl->serial = c->next_serial++;
		c->clients[c->n_clients++] = cl;
		gsp_log(LOG_DEBUG, "control: client uid %u pid %d connected",
			(unsigned int)cred.uid, (int)cred.pid);
	}
}

static void
ctrl_client_queue(struct ctrl_client *cl, json_t *reply)
{
	static const char fallback[] =
		"{\"ok\":false,\"error\":\"internal error building the reply\"}";
	char *s = reply != NULL ? gsp_json_dumps(reply, JSON_COMPACT) : NULL;
	const char *line = s;
	size_t len = s != NULL ? strlen(s) : 0;

	if (s == NULL || len + 1 > CTRL_REPLY_MAX) {
		line = fallback;
		len = sizeof(fallback) - 1;
	}
	/* callers checked that CTRL_REPLY_MAX bytes are free */
	if (cl->out_len + len + 1 <= sizeof(cl->out)) {
		memcpy(cl->out + cl->out_len, line, len);
		cl->out[cl->out_len + len] = '\n';
		cl->out_len += len + 1;
	}
	free(s);
	json_decref(reply);
}

static bool
ctrl_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

void
ctrl_client_lines(struct ctrl *c, struct ctrl_client *cl, uint64_t now)
{
	char *nl;
	size_t len, used;

	while (!cl->closing) {
		/* backpressure: a client that does not read gets no more */
		if (sizeof(cl->out) - cl->out_len < CTRL_REPLY_MAX)
			return;
		nl = memchr(cl->in, '\n', cl->in_len);
		if (nl == NULL) {
			if (cl->in_len >= sizeof(cl->in)) {
				ctrl_client_queue(cl, ctrl_error("request line "
					"longer than %d bytes", CTRL_LINE_MAX));
				cl->in_len = 0;
				cl->closing = true;
				return;
			}
			if (!cl->eof)
				return;
			if (cl->in_len == 0) {
				cl->closing = true;
				return;
			}
			/* last line without a newline still counts */
			len = cl->in_len;
			used = cl->in_len;
		} else {
			len = (size_t)(nl - cl->in);
			used = len + 1;
		}
		if (len > 0 && cl->in[len - 1] == '\r')
			len--;
		/* blank lines are keep-alives, not requests */
		if (!ctrl_blank(cl->in, len)) {
			ctrl_client_queue(cl, ctrl_handle_request(c, cl, cl->in,
								  len));
			cl->served_ns = now;
		}
		memmove(cl->in, cl->in + used, cl->in_len - used);
		cl->in_len -= used;
		/* the next line's deadline runs from its first byte */
		cl->line_since_ns = cl->in_len > 0 ? now : 0;
	}
}

static void
ctrl_client_flush(struct ctrl_client *cl, uint64_t now)
{
	ssize_t r;

	while (cl->out_off < cl->out_len) {
		r = send(cl->fd, cl->out + cl->out_off,
			 cl->out_len - cl->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r > 0) {
			cl->out_off += (size_t)r;
			cl->last_active_ns = now;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && errno == EAGAIN) {
			break;
		} else {
			cl->dead = true;
			return;
		}
	}
	if (cl->out_off == cl->out_len) {
		cl->out_off = 0;
		cl->out_len = 0;
	} else if (cl->out_off > 0) {
		memmove(cl->out, cl->out + cl->out_off,
			cl->out_len - cl->out_off);
		cl->out_len -= cl->out_off;
		cl->out_off = 0;
	}
}

static void
ctrl_client_read(struct ctrl *c, struct ctrl_client *cl, uint64_t now)
{
	ssize_t r;

	/* a zero-length recv would look like EOF */
	if (cl->in_len >= sizeof(cl->in)) {
		ctrl_client_lines(c, cl, now);
		return;
	}
	r = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, 0);
	if (r > 0) {
		cl->in_len += (size_t)r;
		cl->last_active_ns = now;
		if (cl->line_since_ns == 0)
			cl->line_since_ns = now;
	} else if (r == 0) {
		cl->eof = true;
	} else if (errno != EAGAIN && errno != EINTR) {
		cl->dead = true;
		return;
	}
	ctrl_client_lines(c, cl, now);
}

short
ctrl_client_events(const struct ctrl_client *cl)
{
	short ev = 0;

	if (!cl->closing && !cl->eof && cl->in_len < sizeof(cl->in) &&
	    sizeof(cl->out) - cl->out_len >= CTRL_REPLY_MAX)
		ev |= POLLIN;
	if (cl->out_len > 0)
		ev |= POLLOUT;
	return ev;
}

void
ctrl_client_service(struct ctrl *c, struct ctrl_client *cl, short revents,
		    uint64_t now)
{
	if (revents & POLLNVAL) {
		cl->dead = true;
		return;
	}
	if (revents & POLLIN)
		ctrl_client_read(c, cl, now);
	else if (revents & (POLLERR | POLLHUP))
		cl->dead = true;	/* peer gone, nothing left to read */
	if (!cl->dead && cl->out_len > 0)
		ctrl_client_flush(cl, now);
	/* replies freed room: take the lines that were held back */
	if (!cl->dead)
		ctrl_client_lines(c, cl, now);
	if (!cl->dead && cl->out_len > 0)
		ctrl_client_flush(cl, now);
}
