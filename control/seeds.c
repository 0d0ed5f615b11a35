/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seed resolution: the static [seeds] list, then DNS through c-ares. A name
 * starting with '_' is an SRV name (each target's A records, with the SRV
 * port); any other name is looked up for A records with the node's port.
 * The lookup blocks the calling (control) thread, bounded by timeout_ms.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ares.h>

#include "gsp_config.h"
#include "gsp_ctrl.h"
#include "gsp_log.h"

/* c-ares per-try timeout bounds; the overall bound is timeout_ms. */
#define GSP_DNS_TRY_MIN_MS 100
#define GSP_DNS_TRY_MAX_MS 2000
#define GSP_DNS_TRIES 2
#define GSP_DNS_TARGETS_MAX GSP_SEEDS_MAX

struct gsp_dns_ctx;

struct gsp_dns_target {
	struct gsp_dns_ctx *ctx;
	uint16_t port;
	char name[256];
};

struct gsp_dns_ctx {
	ares_channel ch;
	const char *qname;	/* cfg->seed_dns */
	bool srv;
	bool timed_out;
	bool srv_failed;
	struct gsp_addr self;
	struct gsp_addr *out;
	unsigned int max;
	unsigned int n;
	unsigned int pending;	/* queries whose callback has not run */
	unsigned int a_ok;	/* targets that gave at least one address */
	unsigned int a_failed;
	char first_err[256];	/* first failure, reported when all failed */
	struct gsp_dns_target targets[GSP_DNS_TARGETS_MAX];
	unsigned int n_targets;
};

static pthread_once_t gsp_ares_once = PTHREAD_ONCE_INIT;
static int gsp_ares_init_rc = ARES_ENOTINITIALIZED;

static void
gsp_ares_init(void)
{
	gsp_ares_init_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

static void __attribute__((format(printf, 3, 4)))
gsp_seeds_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3)))
gsp_dns_fail(struct gsp_dns_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->first_err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(c->first_err, sizeof(c->first_err), fmt, ap);
	va_end(ap);
}

/* Appends a unless it is a duplicate, ourselves, or there is no room. */
static void
gsp_seeds_add(struct gsp_addr *out, unsigned int *n, unsigned int max,
	      const struct gsp_addr *self, struct gsp_addr a)
{
	if (a.ip == 0 || a.port == 0)
		return;
	if (a.ip == self->ip && a.port == self->port)
		return;
	for (unsigned int i = 0; i < *n; i++)
		if (out[i].ip == a.ip && out[i].port == a.port)
			return;
	if (*n >= max)
		return;
	out[(*n)++] = a;
}

static void
gsp_dns_a_cb(void *arg, int status, int timeouts, unsigned char *abuf,
	     int alen)
{
	struct gsp_dns_target *t = arg;
	struct gsp_dns_ctx *c = t->ctx;
	struct ares_addrttl ttls[GSP_SEEDS_MAX];
	int naddr = GSP_SEEDS_MAX;
	int rc;

	(void)timeouts;
	c->pending--;
	if (status == ARES_SUCCESS) {
		rc = ares_parse_a_reply(abuf, alen, NULL, ttls, &naddr);
		if (rc == ARES_SUCCESS && naddr <= 0)
			rc = ARES_ENODATA;
	} else {
		rc = status;
	}
	if (rc != ARES_SUCCESS) {
		c->a_failed++;
		if (c->srv)
			gsp_dns_fail(c, "dns %s: A query for SRV target %s failed: %s",
				     c->qname, t->name, ares_strerror(rc));
		else
			gsp_dns_fail(c, "dns %s: A query failed: %s", c->qname,
				     ares_strerror(rc));
		return;
	}
	c->a_ok++;
	for (int i = 0; i < naddr && i < GSP_SEEDS_MAX; i++) {
		struct gsp_addr a = {
			.ip = ntohl(ttls[i].ipaddr.s_addr),
			.port = t->port,
		};

		gsp_seeds_add(c->out, &c->n, c->max, &c->self, a);
	}
}

static void
gsp_dns_query_a(struct gsp_dns_ctx *c, const char *name, uint16_t port)
{
	struct gsp_dns_target *t;

	if (c->n_targets >= GSP_DNS_TARGETS_MAX)
		return;
	t = &c->targets[c->n_targets++];
	t->ctx = c;
	t->port = port;
	snprintf(t->name, sizeof(t->name), "%s", name);
	c->pending++;
	/* the callback may run right away (e.g. no servers): count first */
	ares_query(c->ch, t->name, ns_c_in, ns_t_a, gsp_dns_a_cb, t);
}

static void
gsp_dns_srv_cb(void *arg, int status, int timeouts, unsigned char *abuf,
	       int alen)
{
	struct gsp_dns_ctx *c = arg;
	struct ares_srv_reply *srv = NULL;
	unsigned int used = 0;
	int rc;

	(void)timeouts;
	c->pending--;
	if (status != ARES_SUCCESS) {
		c->srv_failed = true;
		gsp_dns_fail(c, "dns %s: SRV query failed: %s", c->qname,
			     ares_strerror(status));
		return;
	}
	rc = ares_parse_srv_reply(abuf, alen, &srv);
	if (rc != ARES_SUCCESS) {
		c->srv_failed = true;
		gsp_dns_fail(c, "dns %s: bad SRV reply: %s", c->qname,
			     ares_strerror(rc));
		return;
	}
	for (struct ares_srv_reply *r = srv; r != NULL; r = r->next) {
		/* "." (empty) target: the service is decidedly not here */
		if (r->host == NULL || r->host[0] == '\0' ||
		    strcmp(r->host, ".") == 0 || r->port == 0)
			continue;
		if (c->timed_out || c->n_targets >= GSP_DNS_TARGETS_MAX)
			break;
		gsp_dns_query_a(c, r->host, r->port);
		used++;
	}
	ares_free_data(srv);
	if (used == 0) {
		c->srv_failed = true;
		gsp_dns_fail(c, "dns %s: SRV reply has no usable target",
			     c->qname);
	}
}

static int64_t
gsp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs c-ares until every query answered or the deadline passed. */
static int
gsp_dns_wait(struct gsp_dns_ctx *c, unsigned int timeout_ms)
{
	int64_t deadline = gsp_now_ms() + timeout_ms;

	while (c->pending > 0) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval maxtv, tv, *tvp;
		int64_t left = deadline - gsp_now_ms();
		unsigned int ubits;
		int nfds = 0, wait_ms, rc;

		if (left <= 0) {
			c->timed_out = true;
			/* runs the pending callbacks with ARES_ECANCELLED */
			ares_cancel(c->ch);
			return -1;
		}
		ubits = (unsigned int)ares_getsock(c->ch, socks,
						   ARES_GETSOCK_MAXNUM);
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;

			/* c-ares's macros shift a signed 1 into bit 31 */
			if (ubits & (1u << i))
				ev |= POLLIN;
			if (ubits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			pfd[nfds].fd = socks[i];
			pfd[nfds].events = ev;
			pfd[nfds].revents = 0;
			nfds++;
		}
		maxtv.tv_sec = left / 1000;
		maxtv.tv_usec = (left % 1000) * 1000;
		tvp = ares_timeout(c->ch, &maxtv, &tv);
		wait_ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
		if (wait_ms < 0)
			wait_ms = 0;
		rc = poll(pfd, nfds, wait_ms);
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc <= 0) {
			/* let c-ares retry or expire timed-out queries */
			ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < nfds; i++) {
			short re = pfd[i].revents;

			if (re == 0)
				continue;
			ares_process_fd(c->ch,
				(re & (POLLIN | POLLERR | POLLHUP)) ?
					pfd[i].fd : ARES_SOCKET_BAD,
				(re & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
		}
	}
	return 0;
}

static int
gsp_seeds_dns(const struct gsp_config *cfg, struct gsp_addr *out,
	      unsigned int *n, unsigned int max, unsigned int timeout_ms,
	      char *err, size_t errlen)
{
	struct gsp_dns_ctx *c;
	struct ares_options opts;
	unsigned int try_ms;
	uint16_t port = cfg->addr.port != 0 ? cfg->addr.port : GSP_DEFAULT_PORT;
	int rc, ret = -1;

	pthread_once(&gsp_ares_once, gsp_ares_init);
	if (gsp_ares_init_rc != ARES_SUCCESS) {
		gsp_seeds_err(err, errlen, "dns %s: c-ares init failed: %s",
			      cfg->seed_dns, ares_strerror(gsp_ares_init_rc));
		return -1;
	}
	/* ~17 KiB of targets: keep it off the control thread's stack */
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		gsp_seeds_err(err, errlen, "dns %s: out of memory",
			      cfg->seed_dns);
		return -1;
	}
	c->qname = cfg->seed_dns;
	c->srv = cfg->seed_dns[0] == '_';
	c->self = cfg->addr;
	c->out = out;
	c->max = max;
	c->n = *n;

	try_ms = timeout_ms / (GSP_DNS_TRIES + 1);
	if (try_ms < GSP_DNS_TRY_MIN_MS)
		try_ms = GSP_DNS_TRY_MIN_MS;
	if (try_ms > GSP_DNS_TRY_MAX_MS)
		try_ms = GSP_DNS_TRY_MAX_MS;
	memset(&opts, 0, sizeof(opts));
	opts.timeout = (int)try_ms;
	opts.tries = GSP_DNS_TRIES;
	rc = ares_init_options(&c->ch, &opts,
			       ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		gsp_seeds_err(err, errlen, "dns %s: c-ares init failed: %s",
			      cfg->seed_dns, ares_strerror(rc));
		free(c);
		return -1;
	}
	if (cfg->dns_server[0] != '\0') {
		rc = ares_set_servers_ports_csv(c->ch, cfg->dns_server);
		if (rc != ARES_SUCCESS) {
			gsp_seeds_err(err, errlen,
				      "dns %s: bad dns_server \"%s\": %s",
				      cfg->seed_dns, cfg->dns_server,
				      ares_strerror(rc));
			goto out;
		}
	}

	if (c->srv) {
		c->pending++;
		ares_query(c->ch, c->qname, ns_c_in, ns_t_srv, gsp_dns_srv_cb,
			   c);
	} else {
		gsp_dns_query_a(c, c->qname, port);
	}
	if (gsp_dns_wait(c, timeout_ms) != 0 && !c->timed_out) {
		gsp_seeds_err(err, errlen, "dns %s: poll failed: %s",
			      c->qname, strerror(errno));
		goto out;
	}

	if (c->srv_failed || c->a_ok == 0) {
		if (c->timed_out)
			gsp_seeds_err(err, errlen, "dns %s: timed out after %u ms",
				      c->qname, timeout_ms);
		else if (c->first_err[0] != '\0')
			gsp_seeds_err(err, errlen, "%s", c->first_err);
		else
			gsp_seeds_err(err, errlen, "dns %s: no addresses",
				      c->qname);
		goto out;
	}
	/* some targets answered: use them, but say what was missed */
	if (c->timed_out)
		gsp_log(LOG_WARNING, "dns %s: timed out after %u ms, using %u of %u SRV targets",
			c->qname, timeout_ms, c->a_ok, c->n_targets);
	else if (c->a_failed > 0)
		gsp_log(LOG_WARNING, "%s", c->first_err);
	*n = c->n;
	ret = 0;
out:
	ares_destroy(c->ch);
	free(c);
	return ret;
}

int
gsp_seeds_resolve(const struct gsp_config *cfg, struct gsp_addr *out,
		  unsigned int max, unsigned int timeout_ms, char *err,
		  size_t errlen)
{
	uint16_t port;
	unsigned int n = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (cfg == NULL || (out == NULL && max > 0)) {
		gsp_seeds_err(err, errlen, "seeds: invalid argument");
		return -1;
	}
	port = cfg->addr.port != 0 ? cfg->addr.port : GSP_DEFAULT_PORT;
	for (unsigned int i = 0; i < cfg->n_seeds && i < GSP_SEEDS_MAX; i++) {
		struct gsp_addr a = cfg->seeds[i];

		if (a.port == 0)
			a.port = port;
		gsp_seeds_add(out, &n, max, &cfg->addr, a);
	}
	if (cfg->seed_dns[0] == '\0')
		return (int)n;
	/* cfg may come from code rather than the loader: check the strings */
	if (strnlen(cfg->seed_dns, sizeof(cfg->seed_dns)) ==
		    sizeof(cfg->seed_dns) ||
	    strnlen(cfg->dns_server, sizeof(cfg->dns_server)) ==
		    sizeof(cfg->dns_server)) {
		gsp_seeds_err(err, errlen, "seeds: unterminated dns name");
		return -1;
	}
	if (gsp_seeds_dns(cfg, out, &n, max, timeout_ms, err, errlen) != 0)
		return -1;
	return (int)n;
}
