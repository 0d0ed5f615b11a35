/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread: publishes the status view, serves the control socket
 * (one JSON request per line) and runs the seed resolver thread. Talks to
 * the dataplane only through gsp_dp_* (gsp_ctrl.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "gsp_ctrl.h"
#include "gsp_json.h"
#include "gsp_keyfile.h"
#include "gsp_log.h"
#include "gsp_util.h"
#include "sv_counters.h"
#include "sv_writer.h"

#define CTRL_MAX_CLIENTS 16
#define CTRL_LINE_MAX 4096		/* request bytes, newline excluded */
#define CTRL_OUT_MAX 16384		/* queued replies per client */
#define CTRL_REPLY_MAX 4096		/* one reply line, newline included */
#define CTRL_FAULT_SPEC_MAX 2048	/* the longest spec: 64 blocks */
/* a request line must be complete this long after its first byte (after
 * accept for the first one): slow clients cannot keep every slot */
#define CTRL_REQUEST_S 2
#define CTRL_REQUEST_NS (CTRL_REQUEST_S * 1000000000ull)
/* a connection with nothing pending is closed after this long quiet */
#define CTRL_IDLE_NS (5ull * 1000000000ull)
#define CTRL_ABUSE_LOG_NS (60ull * 1000000000ull)
#define CTRL_BACKLOG 64
#define CTRL_ACCEPTS_PER_LOOP 16
#define CTRL_SV_RETRY_NS (1ull * 1000000000ull)
#define CTRL_EVENTS_PER_LOOP 1024
#define CTRL_MAX_LCORES 128
#define CTRL_SEED_RETRY_S 2
#define CTRL_SEED_TIMEOUT_MS 3000
#define CTRL_ERR_MAX 256

#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull

_Static_assert(GSP_FAULT_C_MAX <= GSP_SV_FAULT_CTRS,
	       "status view has fewer fault counters than the core");
_Static_assert(GSP_NAME_MAX <= sizeof(((struct gsp_sv_member *)0)->name),
	       "member name does not fit the status view");
_Static_assert(GSP_APP_KEYS_MAX <= GSP_SV_APP_KEYS &&
	       GSP_APP_KEY_MAX <= sizeof(((struct gsp_sv_app *)0)->key) &&
	       GSP_APP_VALUE_MAX <= sizeof(((struct gsp_sv_app *)0)->value),
	       "application state does not fit the status view");

struct ctrl_client {
	int fd;
	uid_t uid;
	pid_t pid;
	bool eof;		/* peer sent everything it will send */
	bool closing;		/* no more requests: close once flushed */
	bool dead;		/* close now */
	uint64_t last_active_ns;
	uint64_t line_since_ns;	/* the pending line's deadline runs from
				 * here; 0: nothing pending */
	uint64_t served_ns;	/* accept or last request answered */
	uint64_t serial;	/* accept order: ties in eviction */
	size_t in_len;
	size_t out_off;
	size_t out_len;
	char in[CTRL_LINE_MAX + 1];	/* one full line plus its newline */
	char out[CTRL_OUT_MAX];
};

struct ctrl_seeds {
	const struct gsp_config *cfg;
	pthread_t tid;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

struct ctrl {
	const struct gsp_config *cfg;
	int lfd;
	dev_t sock_dev;
	ino_t sock_ino;
	struct ctrl_client *clients[CTRL_MAX_CLIENTS];
	unsigned int n_clients;
	uint64_t next_serial;
	uint64_t deadline_closed;	/* totals since start (ping reply) */
	uint64_t evicted;
	uint64_t abuse_closed;		/* since the last abuse line */
	uint64_t abuse_evicted;
	uint64_t abuse_log_ns;		/* no abuse line before this */
	uint64_t refused;		/* other users, since their line */
	uid_t refused_uid;		/* the last one refused */
	pid_t refused_pid;
	uint64_t refused_log_ns;

	struct gsp_sv_writer *sv;
	struct gsp_sv_member *staging;	/* members built before a publish */
	uint32_t staging_cap;
	struct gsp_sv_lcore lcores[CTRL_MAX_LCORES];
	bool have_self;
	uint64_t self_id;
	uint64_t self_generation;
	bool sv_nospace_logged;
	bool sv_write_err_logged;
	bool staging_nomem_logged;
	enum gsp_sv_file sv_lost;	/* GSP_SV_FILE_OK while intact */
	char sv_lost_detail[96];
	bool sv_retrying;		/* a failed re-creation was logged */
	uint64_t sv_retry_ns;		/* next attempt, monotonic */

	struct ctrl_seeds seeds;

	struct gsp_keyring *kr;		/* ours to edit; NULL: plaintext */
};

static uint64_t
ctrl_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t
ctrl_mono_ns(void)
{
	return ctrl_clock_ns(CLOCK_MONOTONIC);
}

static uint64_t
ctrl_unix_ns(void)
{
	return ctrl_clock_ns(CLOCK_REALTIME);
}

/* Names come from the network: never let them put escapes in the log. */
static void
ctrl_safe_str(char *dst, size_t len, const char *src, size_t srclen)
{
	size_t i;

	for (i = 0; i + 1 < len && i < srclen && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

static void
ctrl_fmt_ip(uint32_t ip, uint16_t port, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u:%u", (ip >> 24) & 0xff,
		 (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, port);
}

/* ---------------------------------------------------------------------- */
/* seeds thread */

static int
ctrl_addr_cmp(const void *a, const void *b)
{
	const struct gsp_addr *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return 0;
}

static bool
ctrl_seeds_equal(const struct gsp_addr *a, unsigned int na,
		 const struct gsp_addr *b, unsigned int nb)
{
	if (na != nb)
		return false;
	for (unsigned int i = 0; i < na; i++)
		if (ctrl_addr_cmp(&a[i], &b[i]) != 0)
			return false;
	return true;
}

/* Logs a problem only when it differs from the last one logged. */
static void
ctrl_seeds_problem(char *last, const char *msg)
{
	/* seeds.c messages may carry their own prefix */
	if (strncmp(msg, "seeds: ", 7) == 0)
		msg += 7;
	if (strcmp(last, msg) == 0)
		return;
	gsp_log(LOG_WARNING, "seeds: %s (retrying every %d s)", msg,
		CTRL_SEED_RETRY_S);
	snprintf(last, CTRL_ERR_MAX, "%s", msg);
}

static void
ctrl_seeds_log_list(const struct gsp_addr *s, unsigned int n)
{
	char list[512];
	char one[24];
	size_t off = 0;
	unsigned int i;

	list[0] = '\0';
	for (i = 0; i < n; i++) {
		ctrl_fmt_ip(s[i].ip, s[i].port, one, sizeof(one));
		if (off + strlen(one) + 8 >= sizeof(list))
			break;
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
					i > 0 ? " " : "", one);
	}
	if (i < n)
		snprintf(list + off, sizeof(list) - off, " ...");
	gsp_log(LOG_INFO, "seeds: %u address%s%s%s", n, n == 1 ? "" : "es",
		n > 0 ? ": " : "", list);
}

/* Submits the static seeds only; true when the dataplane took them. */
static bool
ctrl_seeds_static(const struct gsp_config *cfg, struct gsp_addr *out,
		  unsigned int *n_out)
{
	struct gsp_config *tmp;
	char err[CTRL_ERR_MAX];
	int n;

	/* a copy without the DNS name resolves the static list only */
	tmp = malloc(sizeof(*tmp));
	if (tmp == NULL)
		return false;
	*tmp = *cfg;
	tmp->seed_dns[0] = '\0';
	n = gsp_seeds_resolve(tmp, out, GSP_SEEDS_MAX, CTRL_SEED_TIMEOUT_MS,
			      err, sizeof(err));
	free(tmp);
	if (n <= 0)
		return false;
	if (n > GSP_SEEDS_MAX)
		n = GSP_SEEDS_MAX;
	qsort(out, (size_t)n, sizeof(out[0]), ctrl_addr_cmp);
	if (gsp_dp_submit_seeds(out, (unsigned int)n) != 0)
		return false;
	gsp_log(LOG_NOTICE, "seeds: using the %d static seeds until DNS "
		"answers", n);
	*n_out = (unsigned int)n;
	return true;
}

/* Sleeps up to wait_s seconds (0: until stopped); false once stopped. */
static bool
ctrl_seeds_sleep(struct ctrl_seeds *s, unsigned int wait_s)
{
	struct timespec dl;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += wait_s;
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		if (wait_s == 0)
			pthread_cond_wait(&s->cond, &s->lock);
		else if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) ==
			 ETIMEDOUT)
			break;
	}
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return !stop;
}

static void *
ctrl_seeds_main(void *arg)
{
	struct ctrl_seeds *s = arg;
	const struct gsp_config *cfg = s->cfg;
	bool has_dns = cfg->seed_dns[0] != '\0';
	unsigned int refresh_s = cfg->dns_refresh_s > 0 ? cfg->dns_refresh_s : 30;
	struct gsp_addr cur[GSP_SEEDS_MAX], last[GSP_SEEDS_MAX];
	unsigned int n_last = 0;
	bool submitted = false;
	char err[CTRL_ERR_MAX];
	char msg[CTRL_ERR_MAX];
	char last_err[CTRL_ERR_MAX] = "";
	unsigned int wait_s;
	int n, ret;

	do {
		/* static seeds never change: no refresh without DNS */
		wait_s = has_dns ? refresh_s : 0;
		err[0] = '\0';
		memset(cur, 0, sizeof(cur));
		n = gsp_seeds_resolve(cfg, cur, GSP_SEEDS_MAX,
				      CTRL_SEED_TIMEOUT_MS, err, sizeof(err));
		if (n < 0) {
			ctrl_seeds_problem(last_err, err[0] != '\0' ? err :
					   "resolution failed");
			wait_s = CTRL_SEED_RETRY_S;
			/* DNS down at start: the static seeds alone meanwhile */
			if (!submitted && has_dns && cfg->n_seeds > 0)
				submitted = ctrl_seeds_static(cfg, last,
							      &n_last);
			continue;
		}
		if (n > GSP_SEEDS_MAX)
			n = GSP_SEEDS_MAX;
		if (n == 0 && has_dns) {
			/* keep the last good list through a DNS outage */
			snprintf(msg, sizeof(msg), "%.200s resolved to no address",
				 cfg->seed_dns);
			ctrl_seeds_problem(last_err, msg);
			wait_s = CTRL_SEED_RETRY_S;
			continue;
		}
		qsort(cur, (size_t)n, sizeof(cur[0]), ctrl_addr_cmp);
		if (submitted && ctrl_seeds_equal(cur, (unsigned int)n, last,
						  n_last)) {
			if (last_err[0] != '\0')
				gsp_log(LOG_NOTICE, "seeds: resolution recovered");
			last_err[0] = '\0';
			continue;
		}
		ret = gsp_dp_submit_seeds(cur, (unsigned int)n);
		if (ret != 0) {
			snprintf(msg, sizeof(msg),
				 "cannot hand %d seeds to the dataplane: %s", n,
				 strerror(-ret));
			ctrl_seeds_problem(last_err, msg);
			wait_s = CTRL_SEED_RETRY_S;
			continue;
		}
		if (last_err[0] != '\0')
			gsp_log(LOG_NOTICE, "seeds: resolution recovered");
		last_err[0] = '\0';
		ctrl_seeds_log_list(cur, (unsigned int)n);
		memcpy(last, cur, sizeof(cur[0]) * (size_t)n);
		n_last = (unsigned int)n;
		submitted = true;
	} while (ctrl_seeds_sleep(s, wait_s));
	return NULL;
}

static int
ctrl_seeds_start(struct ctrl_seeds *s, const struct gsp_config *cfg)
{
	pthread_condattr_t ca;
	int ret;

	s->cfg = cfg;
	s->stop = false;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	/* timed waits on the monotonic clock: immune to clock steps */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	ret = pthread_create(&s->tid, NULL, ctrl_seeds_main, s);
	if (ret != 0) {
		gsp_log(LOG_ERR, "control: cannot start the seeds thread: %s",
			strerror(ret));
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		return -ret;
	}
	pthread_setname_np(s->tid, "gsp-seeds");
	s->started = true;
	return 0;
}

static void
ctrl_seeds_stop(struct ctrl_seeds *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	/* a DNS query in flight ends within CTRL_SEED_TIMEOUT_MS */
	pthread_join(s->tid, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	s->started = false;
}

/* ---------------------------------------------------------------------- */
/* status view */

static uint64_t
ctrl_core_to_unix(uint64_t t, uint64_t core_now, uint64_t unix_now)
{
	if (t == 0)
		return 0;		/* never */
	if (t >= core_now)
		return unix_now;
	if (core_now - t >= unix_now)
		return 1;		/* keep "some time", not "never" */
	return unix_now - (core_now - t);
}

static void
ctrl_security_fill(const struct ctrl *c, struct gsp_sv_security *sec)
{
	if (c->kr == NULL) {
		sec->mode = GSP_SV_PLAINTEXT;
		sec->cipher = GSP_SV_CIPHER_NONE;
		return;
	}
	sec->mode = GSP_SV_AUTHENTICATED;
	sec->cipher = gsp_keyring_cipher(c->kr);
	sec->primary_key_id = gsp_keyring_primary(c->kr);
	sec->n_keys = gsp_keyring_count(c->kr);
}

static void
ctrl_member_convert(const struct gsp_member_view *mv, uint64_t self_id,
		    uint64_t core_now, uint64_t unix_now,
		    struct gsp_sv_member *m)
{
	unsigned int n = mv->app_count;

	memset(m, 0, sizeof(*m));
	m->id = mv->id;
	m->generation = mv->generation;
	m->heartbeat = mv->heartbeat;
	m->version = mv->version;
	m->last_update_unix_ns = ctrl_core_to_unix(mv->last_update_ns,
						   core_now, unix_now);
	m->state_since_unix_ns = ctrl_core_to_unix(mv->state_since_ns,
						   core_now, unix_now);
	m->ip = mv->ip;
	m->port = mv->port;
	m->state = mv->state;
	m->phi_milli = mv->phi_milli;
	m->incarnation = mv->incarnation;
	m->flags = mv->id == self_id ? GSP_SV_MEMBER_SELF : 0;
	memcpy(m->name, mv->name, sizeof(mv->name));
	m->name[sizeof(m->name) - 1] = '\0';
	if (n > GSP_APP_KEYS_MAX)
		n = GSP_APP_KEYS_MAX;
	m->app_count = (uint8_t)n;
	for (unsigned int i = 0; i < n; i++) {
		m->app[i].version = mv->app[i].version;
		memcpy(m->app[i].key, mv->app[i].key, sizeof(mv->app[i].key));
		m->app[i].key[sizeof(m->app[i].key) - 1] = '\0';
		memcpy(m->app[i].value, mv->app[i].value,
		       sizeof(mv->app[i].value));
		m->app[i].value[sizeof(m->app[i].value) - 1] = '\0';
	}
}

/* Room for index i in the staging array, grown by doubling up to cap. */
static bool
ctrl_staging_room(struct ctrl *c, uint32_t i, uint32_t cap)
{
	struct gsp_sv_member *p;
	uint32_t n;

	if (i < c->staging_cap)
		return true;
	n = c->staging_cap < 64 ? 64 : c->staging_cap * 2;
	if (n > cap)
		n = cap;
	if (n <= i)
		return false;
	p = realloc(c->staging, (size_t)n * sizeof(*p));
	if (p == NULL) {
		if (!c->staging_nomem_logged)
			gsp_log(LOG_WARNING,
				"status view: out of memory for %u members, publishing %u",
				n, i);
		c->staging_nomem_logged = true;
		return false;
	}
	c->staging = p;
	c->staging_cap = n;
	return true;
}

/*
 * Publishes u into the view after a check that its file is still the one
 * we made (gsp_sv_writer_check: a stat and a 24-byte pread, once per
 * period, on this thread). A file that was truncated, overwritten,
 * replaced or removed is re-created at its path with u in it. One log
 * line per incident; a second one only if re-creating had to be retried.
 */
static int
ctrl_view_write(struct ctrl *c, const struct gsp_sv_update *u)
{
	const char *path = c->cfg->status_path;
	char err[512];
	uint64_t now;
	int ret;

	if (c->sv_lost == GSP_SV_FILE_OK) {
		c->sv_lost = gsp_sv_writer_check(c->sv, c->sv_lost_detail,
						 sizeof(c->sv_lost_detail));
		if (c->sv_lost == GSP_SV_FILE_OK)
			return gsp_sv_writer_publish(c->sv, u);
		c->sv_retrying = false;
		c->sv_retry_ns = 0;
	}
	now = ctrl_mono_ns();
	if (now < c->sv_retry_ns)
		return 0;
	ret = gsp_sv_writer_recreate(c->sv, u, err, sizeof(err));
	if (ret != 0 && ret != -ENOSPC) {
		if (!c->sv_retrying)
			gsp_log(LOG_WARNING, "status view %s was %s behind "
				"gossipd's back (%s); cannot re-create it: %s; "
				"retrying every %llu s, gossip goes on", path,
				gsp_sv_file_name(c->sv_lost), c->sv_lost_detail,
				err, CTRL_SV_RETRY_NS / NS_PER_S);
		c->sv_retrying = true;
		c->sv_retry_ns = now + CTRL_SV_RETRY_NS;
		return 0;
	}
	if (c->sv_retrying)
		gsp_log(LOG_NOTICE, "status view %s re-created", path);
	else
		gsp_log(LOG_WARNING, "status view %s was %s behind gossipd's "
			"back (%s); re-created it at the same path, gossip "
			"goes on", path, gsp_sv_file_name(c->sv_lost),
			c->sv_lost_detail);
	c->sv_lost = GSP_SV_FILE_OK;
	return ret;
}

static void
ctrl_publish(struct ctrl *c)
{
	const struct gsp_node *node = gsp_dp_node();
	uint32_t cap = gsp_sv_writer_member_capacity(c->sv);
	uint32_t lcap = gsp_sv_writer_lcore_capacity(c->sv);
	struct gsp_sv_header view;	/* only its counter sections */
	struct gsp_node_counters nc;
	struct gsp_member_view mv;
	struct gsp_fault_cfg fault;
	struct gsp_sv_update u;
	uint64_t core_now, unix_now;
	uint32_t slots, n = 0;
	int ret;

	memset(&u, 0, sizeof(u));
	if (lcap > CTRL_MAX_LCORES)
		lcap = CTRL_MAX_LCORES;
	if (node != NULL) {
		if (!c->have_self) {
			c->self_id = gsp_node_id(node);
			c->have_self = true;
		}
		gsp_node_counters_read(node, &nc);
		memset(&view, 0, sizeof(view));
		gsp_sv_counters_fill(&view, &nc);
		ctrl_security_fill(c, &view.security);
		gsp_dp_fault_counters(view.extra.fault);
		gsp_dp_fault_get(&fault);
		u.counters = &view.counters;
		u.extra = &view.extra;
		u.security = &view.security;
		u.faults = gsp_fault_active(&fault);
		core_now = gsp_dp_now_ns();
		unix_now = ctrl_unix_ns();
		slots = gsp_node_slot_count(node);
		for (uint32_t slot = 0; slot < slots && n < cap; slot++) {
			if (!gsp_node_member_read(node, slot, &mv))
				continue;	/* free slot */
			if (!ctrl_staging_room(c, n, cap))
				break;
			ctrl_member_convert(&mv, c->self_id, core_now, unix_now,
					    &c->staging[n]);
			if (mv.id == c->self_id)
				c->self_generation = mv.generation;
			n++;
		}
	}
	u.now_unix_ns = ctrl_unix_ns();
	u.self_id = c->self_id;
	u.self_generation = c->self_generation;
	u.members = c->staging;
	u.n_members = n;
	u.lcores = c->lcores;
	u.n_lcores = lcap > 0 ? gsp_dp_lcore_stats(c->lcores, lcap) : 0;
	if (u.n_lcores > lcap)
		u.n_lcores = lcap;
	ret = ctrl_view_write(c, &u);
	if (ret == -ENOSPC && !c->sv_nospace_logged) {
		gsp_log(LOG_WARNING,
			"status view: no space left in the file system of %s, "
			"the view lists only some of the %u members",
			c->cfg->status_path, n);
		c->sv_nospace_logged = true;
	} else if (ret < 0 && ret != -ENOSPC && !c->sv_write_err_logged) {
		/* seq is left odd: readers wait rather than see a torn view */
		gsp_log(LOG_ERR, "status view %s: cannot write: %s (logged "
			"once)", c->cfg->status_path, strerror(-ret));
		c->sv_write_err_logged = true;
	}
}

/*
 * GSP_EV_LIMIT: name is the [limits] key, then for the rate limits the
 * source address. One line per first hit, not per datagram: the core
 * reports a limit again only after it went unhit for 60 s.
 */
static void
ctrl_log_limit(const struct gsp_event *ev, const char *name)
{
	char again[96] = "";
	const char *src = strchr(name, ' ');

	if (ev->suppressed != 0)
		snprintf(again, sizeof(again), " (%" PRIu64 " more hits since "
			 "the last report)", ev->suppressed);
	src = src != NULL ? src + 1 : "?";
	if (strncmp(name, "join_rate ", 10) == 0)
		gsp_log(LOG_WARNING, "limit join_rate: datagrams from unknown "
			"senders at %s over join_rate %" PRIu64 "/s are "
			"dropped; counted in rx_drop.rate_limited and "
			"limit_hits, logged again after 60 s without a hit%s",
			src, ev->limit, again);
	else if (strncmp(name, "probe_rate ", 11) == 0)
		gsp_log(LOG_WARNING, "limit probe_rate: pings and ping-reqs "
			"from %s over probe_rate %" PRIu64 "/s are dropped "
			"unanswered; counted in rx_drop.rate_limited and "
			"limit_hits, logged again after 60 s without a hit%s",
			src, ev->limit, again);
	else if (strcmp(name, "app_value_max") == 0 ||
		 strcmp(name, "app_bytes_max") == 0)
		gsp_log(LOG_WARNING, "limit %s: member 0x%016" PRIx64
			" (generation %" PRIu64 ") publishes app state over "
			"%s %" PRIu64 " bytes; every datagram carrying it is "
			"dropped whole; counted in rx_drop.over_limit and "
			"limit_hits, logged again after 60 s without a hit%s",
			name, ev->id, ev->generation, name, ev->limit, again);
	else
		gsp_log(LOG_WARNING, "limit %s (%" PRIu64 ") hit%s", name,
			ev->limit, again);
}

static void
ctrl_log_event(const struct ctrl *c, const struct gsp_event *ev)
{
	char name[GSP_NAME_MAX];

	ctrl_safe_str(name, sizeof(name), ev->name, sizeof(ev->name));
	switch (ev->type) {
	case GSP_EV_JOINED:
		gsp_log(LOG_INFO, "member %s (0x%016" PRIx64 ") joined, "
			"generation %" PRIu64 ", %s", name, ev->id,
			ev->generation, gsp_sv_state_name(ev->new_state));
		break;
	case GSP_EV_STATE:
		gsp_log(LOG_INFO, "member %s (0x%016" PRIx64 ") %s -> %s", name,
			ev->id, gsp_sv_state_name(ev->old_state),
			gsp_sv_state_name(ev->new_state));
		break;
	case GSP_EV_RESTARTED:
		gsp_log(LOG_INFO, "member %s (0x%016" PRIx64 ") restarted with "
			"new generation %" PRIu64, name, ev->id,
			ev->generation);
		break;
	case GSP_EV_FORGOTTEN:
		gsp_log(LOG_INFO, "member %s (0x%016" PRIx64 ") forgotten",
			name, ev->id);
		break;
	case GSP_EV_APP_REJECTED:
		gsp_log(LOG_WARNING, "set %s refused by the core (too many "
			"keys, invalid, or over [limits] app_value_max or "
			"app_bytes_max)", name);
		break;
	case GSP_EV_NAME_CONFLICT:
		gsp_log(LOG_WARNING, "name conflict: member 0x%016" PRIx64
			" (generation %" PRIu64 ") uses the name %s of a live "
			"member; both are kept", ev->id, ev->generation, name);
		break;
	case GSP_EV_AUTH_DROP: {
		struct gsp_addr a = { .ip = (uint32_t)ev->id, .port = 0 };
		char from[32], why[160];

		gsp_format_addr(&a, from, sizeof(from));
		if (ev->old_state == GSP_RX_UNSEALED)
			snprintf(why, sizeof(why), "they are plaintext (a node "
				 "in mode = plaintext, or an attacker)");
		else if (ev->old_state == GSP_RX_SEALED)
			snprintf(why, sizeof(why), "they are sealed but this "
				 "node runs mode = plaintext");
		else if (ev->old_state == GSP_RX_UNKNOWN_KEY)
			snprintf(why, sizeof(why), "sealed with key id %08"
				 PRIx64 ", not in our keyring (a keyring behind "
				 "a rotation? gossipctl keys)", ev->generation);
		else if (ev->old_state == GSP_RX_IMPLAUSIBLE)
			snprintf(why, sizeof(why), "their sender generation %"
				 PRIu64 " is 0 or a start time beyond our clock "
				 "+ [gossip] max_clock_skew (clocks out of "
				 "sync?)", ev->generation);
		else
			snprintf(why, sizeof(why), "their tag does not verify "
				 "(forged, corrupted, or another cipher)");
		gsp_log(LOG_WARNING, "security: dropping datagrams from %s: %s; "
			"each is counted in rx_drop.%s, logged again in a "
			"minute at most", from, why,
			gsp_rx_err_name(ev->old_state));
		break;
	}
	case GSP_EV_LIMIT:
		ctrl_log_limit(ev, name);
		break;
	case GSP_EV_RENEWED:
		gsp_log(LOG_WARNING, "a peer holds a state of ours that we did "
			"not make (generation %" PRIu64 ", version %" PRIu64
			", or an incarnation we cannot refute): starting "
			"generation %" PRIu64 " above it (a buggy peer, or "
			"another process with our id %s?); counted in renewals",
			ev->limit, ev->suppressed, ev->generation, name);
		break;
	case GSP_EV_IMPLAUSIBLE:
		gsp_log(LOG_WARNING, "skipping a state or claim of member "
			"0x%016" PRIx64 " (generation %" PRIu64 "): its %s is "
			"one no member can have; counted in implausible, "
			"logged again in a minute at most (%" PRIu64 " more "
			"since the last line)", ev->id, ev->generation, name,
			ev->suppressed);
		break;
	case GSP_EV_TABLE_FULL:
		gsp_log(LOG_WARNING, "member table full (max_members %u): "
			"refusing %s (0x%016" PRIx64 ")", c->cfg->max_members,
			name, ev->id);
		break;
	case GSP_EV_DP_ARP_CONFLICT: {
		struct gsp_addr a = { .ip = (uint32_t)ev->id, .port = 0 };
		char ip[32], mac[2][18];
		const uint64_t v[2] = { ev->generation, ev->limit };

		gsp_format_addr(&a, ip, sizeof(ip));
		for (unsigned int k = 0; k < 2; k++)
			snprintf(mac[k], sizeof(mac[k]), "%02x:%02x:%02x:%02x:"
				 "%02x:%02x", (unsigned int)(v[k] >> 40) & 0xff,
				 (unsigned int)(v[k] >> 32) & 0xff,
				 (unsigned int)(v[k] >> 24) & 0xff,
				 (unsigned int)(v[k] >> 16) & 0xff,
				 (unsigned int)(v[k] >> 8) & 0xff,
				 (unsigned int)v[k] & 0xff);
		gsp_log(LOG_WARNING, "arp: ignoring ARP that puts %s at %s: "
			"authenticated gossip confirmed it at %s (ARP "
			"spoofing, or the peer moved: its next datagram "
			"follows it); counted in arp_ignored, logged again "
			"in a minute at most (%" PRIu64 " more since the last "
			"line)", ip, mac[0], mac[1], ev->suppressed);
		break;
	}
	default:
		gsp_log(LOG_DEBUG, "unknown dataplane event type %u",
			ev->type);
		break;
	}
}

static void
ctrl_drain_events(struct ctrl *c)
{
	struct gsp_event ev;

	/* bounded so a flood cannot starve the socket and the view */
	for (unsigned int i = 0; i < CTRL_EVENTS_PER_LOOP; i++) {
		if (!gsp_dp_poll_event(&ev))
			break;
		ctrl_log_event(c, &ev);
	}
}

static int
ctrl_view_open(struct ctrl *c)
{
	const struct gsp_config *cfg = c->cfg;
	struct gsp_sv_writer_params p;
	char err[512];
	double phi;
	int ret;

	memset(&p, 0, sizeof(p));
	p.path = cfg->status_path;
	p.cluster = cfg->cluster;
	p.node_name = cfg->node_name;
	p.control_socket = cfg->socket_path;
	/* the core table holds max_members (its capacity parameter);
	 * gsp_node_slot_count() is only a high-water mark that grows */
	p.member_capacity = cfg->max_members > 0 ? cfg->max_members : 1;
	p.lcore_capacity = CTRL_MAX_LCORES;
	p.self_ip = cfg->addr.ip;
	p.self_port = cfg->addr.port;
	p.gossip_interval_ns = (uint64_t)cfg->interval_ms * NS_PER_MS;
	phi = cfg->phi_convict * 1000.0;
	p.phi_convict_milli = phi <= 0 ? 0 :
		phi >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)phi;
	ret = gsp_sv_writer_create(&p, &c->sv, err, sizeof(err));
	if (ret != 0) {
		gsp_log(LOG_ERR, "%s", err);
		return ret;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* control socket */

/* mkdir -p with mode 0700 for the components we create. */
static int
ctrl_mkdir_p(const char *dir)
{
	char buf[GSP_PATH_MAX];
	struct stat st;
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			gsp_log(LOG_ERR, "control: cannot create directory %s: %s",
				buf, strerror(errno));
			return -errno;
		}
		if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
			gsp_log(LOG_ERR, "control: %s is not a directory", buf);
			return -ENOTDIR;
		}
		if (i < len)
			buf[i] = '/';
	}
	return 0;
}

/*
 * A socket file left by a crashed daemon is removed; one that answers
 * belongs to a live process and is left alone.
 */
static int
ctrl_clear_stale_socket(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, ret;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		gsp_log(LOG_ERR, "control: %s exists and is not a socket",
			sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (ret == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		gsp_log(LOG_ERR, "control: socket %s is in use by another "
			"process (is gossipd already running for this node?)",
			sa->sun_path);
		return -EADDRINUSE;
	}
	ret = errno;
	close(fd);
	if (ret != ECONNREFUSED) {
		gsp_log(LOG_ERR, "control: cannot probe existing socket %s: %s",
			sa->sun_path, strerror(ret));
		return -ret;
	}
	if (unlink(sa->sun_path) != 0 && errno != ENOENT) {
		gsp_log(LOG_ERR, "control: cannot remove stale socket %s: %s",
			sa->sun_path, strerror(errno));
		return -errno;
	}
	gsp_log(LOG_NOTICE, "control: removed stale socket %s", sa->sun_path);
	return 0;
}

static int
ctrl_listen(struct ctrl *c)
{
	const char *path = c->cfg->socket_path;
	struct sockaddr_un sa;
	char dir[GSP_PATH_MAX];
	const char *slash;
	struct stat st;
	mode_t old;
	int fd, ret;

	if (path[0] == '\0') {
		gsp_log(LOG_ERR, "control: no control socket path configured");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		gsp_log(LOG_ERR, "control: socket path %s is longer than %zu bytes",
			path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	slash = strrchr(path, '/');
	if (slash != NULL && slash != path) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		ret = ctrl_mkdir_p(dir);
		if (ret != 0)
			return ret;
	}
	ret = ctrl_clear_stale_socket(&sa);
	if (ret != 0)
		return ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ret = -errno;
		gsp_log(LOG_ERR, "control: socket(): %s", strerror(errno));
		return ret;
	}
	/* the socket is born 0600: no window where others can connect */
	old = umask(0177);
	ret = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret != 0) {
		ret = -errno;
		gsp_log(LOG_ERR, "control: cannot bind %s: %s", path,
			strerror(errno));
		close(fd);
		return ret;
	}
	if (chmod(path, 0600) != 0 || listen(fd, CTRL_BACKLOG) != 0 ||
	    stat(path, &st) != 0) {
		ret = -errno;
		gsp_log(LOG_ERR, "control: cannot set up %s: %s", path,
			strerror(errno));
		close(fd);
		unlink(path);
		return ret;
	}
	c->lfd = fd;
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	return 0;
}

static void
ctrl_unlisten(struct ctrl *c)
{
	struct stat st;

	if (c->lfd < 0)
		return;
	close(c->lfd);
	c->lfd = -1;
	/* only ours: another instance may own the path by now */
	if (stat(c->cfg->socket_path, &st) == 0 && st.st_dev == c->sock_dev &&
	    st.st_ino == c->sock_ino)
		unlink(c->cfg->socket_path);
}

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

static void
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
static void
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

static void
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

static void
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

static json_t *
ctrl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *
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

static json_t *
ctrl_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static bool
ctrl_key_ok(const char *k, size_t len)
{
	if (len == 0 || len > GSP_APP_KEY_MAX - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		      (k[i] >= 'A' && k[i] <= 'Z') ||
		      (k[i] >= '0' && k[i] <= '9') || k[i] == '_' ||
		      k[i] == '.' || k[i] == '-'))
			return false;
	return true;
}

static bool
ctrl_value_ok(const char *v, size_t len)
{
	if (len > GSP_APP_VALUE_MAX - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] >= 0x7f)
			return false;
	return true;
}

/* A string field of the request, or NULL with *reply set. */
static const char *
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
static bool
ctrl_req_op(json_t *jop, const char **op)
{
	if (jop == NULL)
		return true;
	if (!json_is_string(jop))
		return false;
	*op = json_string_value(jop);
	return true;
}

static const char *
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

/* A new key when all GSP_APP_KEYS_MAX are taken would be refused by the
 * core after we replied; check our own record first so the operator hears. */
static bool
ctrl_app_table_full(const char *key)
{
	const struct gsp_node *node = gsp_dp_node();
	uint64_t self = gsp_node_id(node);
	uint32_t slots = gsp_node_slot_count(node);
	struct gsp_member_view v;

	for (uint32_t slot = 0; slot < slots; slot++) {
		if (!gsp_node_member_read(node, slot, &v) || v.id != self)
			continue;
		for (uint8_t i = 0; i < v.app_count && i < GSP_APP_KEYS_MAX; i++)
			if (strcmp(v.app[i].key, key) == 0)
				return false;
		return v.app_count >= GSP_APP_KEYS_MAX;
	}
	return false;
}

/* The [limits] a set would exceed, checked before the core refuses it
 * after we replied; NULL when within them. Our own record as it is now. */
static json_t *
ctrl_app_over_limit(const char *key, size_t vlen)
{
	const struct gsp_node *node = gsp_dp_node();
	struct gsp_node_limits lim;
	struct gsp_member_view v;
	uint64_t self;
	uint32_t slots;
	size_t total;

	if (node == NULL)
		return NULL;
	gsp_node_limits_read(node, &lim);
	if (vlen > lim.app_value_max)
		return ctrl_error("set %s: value of %zu bytes is over [limits] "
				  "app_value_max %u", key, vlen,
				  lim.app_value_max);
	self = gsp_node_id(node);
	slots = gsp_node_slot_count(node);
	total = strlen(key) + vlen;
	for (uint32_t slot = 0; slot < slots; slot++) {
		if (!gsp_node_member_read(node, slot, &v) || v.id != self)
			continue;
		for (uint8_t i = 0; i < v.app_count && i < GSP_APP_KEYS_MAX; i++)
			if (strcmp(v.app[i].key, key) != 0)
				total += strnlen(v.app[i].key, GSP_APP_KEY_MAX) +
					strnlen(v.app[i].value,
						GSP_APP_VALUE_MAX);
		break;
	}
	if (total > lim.app_bytes_max)
		return ctrl_error("set %s: this node's app state would be %zu "
				  "bytes (keys + values), over [limits] "
				  "app_bytes_max %u", key, total,
				  lim.app_bytes_max);
	return NULL;
}

static json_t *
ctrl_cmd_set(struct ctrl_client *cl, json_t *req)
{
	json_t *reply = NULL;
	const char *key, *value;
	size_t klen, vlen;
	char safe[GSP_APP_VALUE_MAX];
	int ret;

	key = ctrl_req_str(req, "key", &klen, &reply);
	if (key == NULL)
		return reply;
	value = ctrl_req_str(req, "value", &vlen, &reply);
	if (value == NULL)
		return reply;
	if (!ctrl_key_ok(key, klen))
		return ctrl_error("invalid key: must be 1 to %d characters of "
				  "A-Z a-z 0-9 _ . -", GSP_APP_KEY_MAX - 1);
	if (!ctrl_value_ok(value, vlen))
		return ctrl_error("invalid value: must be at most %d printable "
				  "ASCII characters", GSP_APP_VALUE_MAX - 1);
	if (ctrl_app_table_full(key))
		return ctrl_error("set %s: this node already publishes %d keys, "
				  "the maximum", key, GSP_APP_KEYS_MAX);
	reply = ctrl_app_over_limit(key, vlen);
	if (reply != NULL)
		return reply;
	ret = gsp_dp_submit_set_app(key, value);
	if (ret != 0)
		return ctrl_error("set %s: %s", key, ctrl_dp_strerror(ret));
	ctrl_safe_str(safe, sizeof(safe), value, vlen);
	gsp_log(LOG_INFO, "control: set %s=%s (uid %u pid %d)", key, safe,
		(unsigned int)cl->uid, (int)cl->pid);
	return ctrl_ok();
}

/* ---- fault injection (docs/FAULTS.md) ---- */

/* {"ok":true,"spec":..,"active":..,"counters":{..}}: the state after. */
static json_t *
ctrl_fault_state(void)
{
	struct gsp_fault_cfg f;
	uint64_t ctr[GSP_FAULT_C_MAX];
	char spec[CTRL_FAULT_SPEC_MAX];
	json_t *r, *cnt;

	gsp_dp_fault_get(&f);
	if (gsp_fault_format(&f, spec, sizeof(spec)) != 0)
		return ctrl_error("fault spec longer than %d bytes",
				  CTRL_FAULT_SPEC_MAX - 1);
	gsp_dp_fault_counters(ctr);
	cnt = json_object();
	for (unsigned int i = 0; cnt != NULL && i < GSP_FAULT_C_MAX; i++)
		json_object_set_new(cnt, gsp_fault_ctr_name(i),
				    gsp_json_u64(ctr[i]));
	r = json_pack("{s:b,s:s,s:b,s:o*}", "ok", 1, "spec", spec, "active",
		      gsp_fault_active(&f), "counters", cnt);
	return r;
}

/*
 * PEER[:dir] for block/unblock: an IPv4 address as is, a member name
 * resolved in this node's table to its address. Writes the spec token
 * "key=IP[:dir]" (the parser checks the direction); NULL or an error.
 */
static json_t *
ctrl_fault_peer(const char *key, const char *peer, size_t len, char *tok,
		size_t toklen)
{
	const struct gsp_node *node = gsp_dp_node();
	char name[GSP_NAME_MAX], safe[GSP_NAME_MAX];
	const char *colon = memchr(peer, ':', len);
	size_t nlen = colon != NULL ? (size_t)(colon - peer) : len;
	const char *dir = colon != NULL ? colon : "";
	struct gsp_member_view mv;
	struct in_addr a;
	uint32_t slots;

	if (strlen(peer) != len || nlen == 0 || nlen >= sizeof(name) ||
	    len - nlen > 8) {
		ctrl_safe_str(safe, sizeof(safe), peer, len);
		return ctrl_error("%s: '%s' is not an IPv4 address or a member "
				  "name, with an optional :in, :out or :both",
				  key, safe);
	}
	memcpy(name, peer, nlen);
	name[nlen] = '\0';
	if (strcmp(name, "all") == 0 || inet_pton(AF_INET, name, &a) == 1) {
		snprintf(tok, toklen, "%s=%s%s", key, name, dir);
		return NULL;
	}
	for (size_t i = 0; i < nlen; i++)
		if (!gsp_name_char_ok(name[i])) {
			ctrl_safe_str(safe, sizeof(safe), name, nlen);
			return ctrl_error("%s: '%s' is not an IPv4 address or "
					  "a member name", key, safe);
		}
	slots = node != NULL ? gsp_node_slot_count(node) : 0;
	for (uint32_t slot = 0; slot < slots; slot++) {
		struct in_addr ip;
		char ips[INET_ADDRSTRLEN];

		if (!gsp_node_member_read(node, slot, &mv) ||
		    strcmp(mv.name, name) != 0)
			continue;
		if (mv.id == gsp_node_id(node))
			return ctrl_error("%s: %s is this node", key, name);
		ip.s_addr = htonl(mv.ip);
		inet_ntop(AF_INET, &ip, ips, sizeof(ips));
		snprintf(tok, toklen, "%s=%s%s", key, ips, dir);
		return NULL;
	}
	return ctrl_error("%s: unknown member '%s' (not in this node's member "
			  "table; give its IPv4 address instead)", key, name);
}

static json_t *
ctrl_cmd_fault(struct ctrl_client *cl, json_t *req)
{
	json_t *reply = NULL, *jop = json_object_get(req, "op");
	struct gsp_fault_cfg f;
	char perr[256], tok[GSP_NAME_MAX + 32];
	char spec[CTRL_FAULT_SPEC_MAX];
	const char *op = "show", *arg = NULL;
	size_t len = 0;
	int ret;

	if (!ctrl_req_op(jop, &op))
		return ctrl_error("\"op\" must be a string");
	if (strcmp(op, "show") == 0)
		return ctrl_fault_state();
	gsp_dp_fault_get(&f);
	if (strcmp(op, "set") == 0) {
		arg = ctrl_req_str(req, "spec", &len, &reply);
		if (arg == NULL)
			return reply;
		if (strlen(arg) != len)
			return ctrl_error("spec: NUL byte in the spec");
	} else if (strcmp(op, "clear") == 0) {
		arg = "clear";
	} else if (strcmp(op, "block") == 0 || strcmp(op, "unblock") == 0) {
		const char *peer = ctrl_req_str(req, "peer", &len, &reply);

		if (peer == NULL)
			return reply;
		reply = ctrl_fault_peer(op, peer, len, tok, sizeof(tok));
		if (reply != NULL)
			return reply;
		arg = tok;
	} else {
		ctrl_safe_str(tok, sizeof(tok), op, strlen(op));
		return ctrl_error("fault: unknown op \"%s\" (expected show, set, "
				  "clear, block or unblock)", tok);
	}
	/* the one parser: its message goes back as is */
	if (gsp_fault_parse(&f, arg, perr, sizeof(perr)) != 0)
		return ctrl_error("%s", perr);
	if (gsp_fault_format(&f, spec, sizeof(spec)) != 0)
		return ctrl_error("fault spec longer than %d bytes",
				  CTRL_FAULT_SPEC_MAX - 1);
	ret = gsp_dp_fault_set(&f);
	switch (ret) {
	case 0:
		break;
	case -EBUSY:
		return ctrl_error("fault: the dataplane has not taken the "
				  "previous change yet, try again");
	case -ETIMEDOUT:
		gsp_log(LOG_WARNING, "control: faults %s not acknowledged by "
			"the dataplane within %d ms", spec, 1000);
		return ctrl_error("fault: the dataplane did not take the change "
				  "within 1 s; it applies when it does");
	case -ENODEV:
		return ctrl_error("fault: no fault injection on this node");
	default:
		return ctrl_error("fault: %s", ctrl_dp_strerror(ret));
	}
	if (gsp_fault_active(&f))
		gsp_log(LOG_WARNING, "control: FAULT INJECTION ON: %s (uid %u "
			"pid %d); testing only", spec, (unsigned int)cl->uid,
			(int)cl->pid);
	else
		gsp_log(LOG_NOTICE, "control: fault injection off (uid %u "
			"pid %d)", (unsigned int)cl->uid, (int)cl->pid);
	return ctrl_fault_state();
}

/* ---- keyring (docs/SECURITY.md) ---- */

_Static_assert(GSP_SV_CIPHER_AES256GCM == GSP_CIPHER_AES256GCM &&
	       GSP_SV_CIPHER_CHACHA20POLY1305 == GSP_CIPHER_CHACHA20POLY1305,
	       "status view cipher numbers");

static void
ctrl_key_hex(uint32_t id, char buf[9])
{
	snprintf(buf, 9, "%08x", id);
}

/* {"ok":true,"mode":..,"cipher":..,"keys":[..],..}: the state now. */
static json_t *
ctrl_keys_state(const struct ctrl *c)
{
	struct gsp_key_info info[GSP_KEYRING_MAX];
	const struct gsp_node *node = gsp_dp_node();
	struct gsp_node_counters nc;
	json_t *r, *keys;
	unsigned int n;
	char hex[9];

	if (c->kr == NULL)
		return json_pack("{s:b,s:s}", "ok", 1, "mode", "plaintext");
	keys = json_array();
	n = gsp_keyring_list(c->kr, info, GSP_KEYRING_MAX);
	for (unsigned int i = 0; i < n; i++) {
		ctrl_key_hex(info[i].id, hex);
		json_array_append_new(keys, json_pack("{s:s,s:b}", "id", hex,
						      "primary", info[i].primary));
	}
	ctrl_key_hex(gsp_keyring_primary(c->kr), hex);
	r = json_pack("{s:b,s:s,s:s,s:s,s:s,s:o}", "ok", 1, "mode",
		      "authenticated", "cipher",
		      gsp_cipher_name(gsp_keyring_cipher(c->kr)), "keyring",
		      c->cfg->keyring_path, "primary", hex, "keys", keys);
	if (r != NULL && node != NULL) {
		gsp_node_counters_read(node, &nc);
		json_object_set_new(r, "rx_key_primary",
				    gsp_json_u64(nc.rx_key_primary));
		json_object_set_new(r, "rx_key_other",
				    gsp_json_u64(nc.rx_key_other));
		json_object_set_new(r, "rx_unknown_key",
				    gsp_json_u64(nc.rx_drop[GSP_RX_UNKNOWN_KEY]));
	}
	return r;
}

/* "1a2b3c4d" -> id; false if it is not 8 hex digits. */
static bool
ctrl_key_id_parse(const char *s, size_t len, uint32_t *id)
{
	/* strspn stops at an embedded NUL too */
	if (len != 8 || strspn(s, "0123456789abcdefABCDEF") != len)
		return false;
	*id = (uint32_t)strtoul(s, NULL, 16);
	return true;
}

/* Puts next in force on the node, then in the keyring file; takes next. */
static json_t *
ctrl_keys_apply(struct ctrl *c, struct gsp_keyring *next, const char *what,
		const struct ctrl_client *cl)
{
	char err[GSP_CONFIG_ERR_MAX + 64];
	char hex[9];
	int ret = gsp_dp_keyring_set(next);

	if (ret == -ETIMEDOUT) {
		/* the lcore may still copy it: never freed (rare, small) */
		gsp_log(LOG_WARNING, "control: keyring change (%s) not taken "
			"by the dataplane within %d ms", what, 1000);
		return ctrl_error("keys: the dataplane did not take the change "
				  "within 1 s; it applies when it does");
	}
	if (ret != 0) {
		gsp_keyring_destroy(next);
		return ctrl_error("keys: %s", ctrl_dp_strerror(ret));
	}
	gsp_keyring_destroy(c->kr);
	c->kr = next;
	ctrl_key_hex(gsp_keyring_primary(next), hex);
	gsp_log(LOG_NOTICE, "control: keyring: %s (uid %u pid %d); %u key(s), "
		"primary %s", what, (unsigned int)cl->uid, (int)cl->pid,
		gsp_keyring_count(next), hex);
	if (gsp_keyfile_save(c->cfg->keyring_path, next, err,
			     sizeof(err)) != 0) {
		gsp_log(LOG_ERR, "control: keyring in force but not saved, a "
			"restart would lose it: %s", err);
		return ctrl_error("keys: %s is in force, but saving the keyring "
				  "failed: %s", what, err);
	}
	return ctrl_keys_state(c);
}

static json_t *
ctrl_cmd_keys(struct ctrl *c, struct ctrl_client *cl, json_t *req)
{
	uint8_t keys[GSP_KEYRING_MAX][GSP_KEY_LEN];
	char err[GSP_CONFIG_ERR_MAX], what[64], tok[40], hex[9];
	json_t *reply = NULL, *jop = json_object_get(req, "op");
	struct gsp_keyring *next;
	const char *op = "list", *arg;
	unsigned int n;
	uint32_t id;
	size_t len;
	int ret;

	if (!ctrl_req_op(jop, &op))
		return ctrl_error("\"op\" must be a string");
	if (strcmp(op, "list") == 0)
		return ctrl_keys_state(c);
	if (strcmp(op, "install") != 0 && strcmp(op, "use") != 0 &&
	    strcmp(op, "remove") != 0) {
		ctrl_safe_str(tok, sizeof(tok), op, strlen(op));
		return ctrl_error("keys: unknown op \"%s\" (expected list, "
				  "install, use or remove)", tok);
	}
	if (c->kr == NULL)
		return ctrl_error("keys: this node runs mode = plaintext; "
				  "authentication is chosen at start");
	next = gsp_keyring_dup(c->kr);
	if (next == NULL)
		return ctrl_error("keys: out of memory");
	if (strcmp(op, "install") == 0) {
		arg = ctrl_req_str(req, "file", &len, &reply);
		if (arg == NULL || strlen(arg) != len || arg[0] != '/') {
			gsp_keyring_destroy(next);
			return reply != NULL ? reply :
				ctrl_error("keys install: \"file\" must be an "
					   "absolute path");
		}
		/* read by the daemon: the key never crosses the socket */
		if (gsp_keyfile_read(arg, keys, GSP_KEYRING_MAX, &n, err,
				     sizeof(err)) != 0) {
			gsp_keyring_destroy(next);
			return ctrl_error("keys install: %s", err);
		}
		what[0] = '\0';
		for (unsigned int i = 0; i < n; i++) {
			ret = gsp_keyring_add(next, keys[i], &id);
			ctrl_key_hex(id, hex);
			if (ret != 0) {
				sodium_memzero(keys, sizeof(keys));
				gsp_keyring_destroy(next);
				return ctrl_error("keys install: key %s: %s", hex,
					ret == -EEXIST ? "installed already" :
					"the keyring is full (8 keys): remove one");
			}
			snprintf(what + strlen(what), sizeof(what) - strlen(what),
				 "%s%s", i == 0 ? "installed " : ",", hex);
		}
		sodium_memzero(keys, sizeof(keys));
		return ctrl_keys_apply(c, next, what, cl);
	}
	arg = ctrl_req_str(req, "id", &len, &reply);
	if (arg == NULL || !ctrl_key_id_parse(arg, len, &id)) {
		gsp_keyring_destroy(next);
		return reply != NULL ? reply :
			ctrl_error("keys %s: \"id\" must be a key id of 8 hex "
				   "digits (gossipctl keys)", op);
	}
	ctrl_key_hex(id, hex);
	if (strcmp(op, "use") == 0)
		ret = gsp_keyring_use(next, id);
	else
		ret = gsp_keyring_remove(next, id);
	if (ret != 0) {
		gsp_keyring_destroy(next);
		return ctrl_error("keys %s %s: %s", op, hex, ret == -ENOENT ?
				  "no such key in the keyring" :
				  "it is the primary: use another key first");
	}
	snprintf(what, sizeof(what), "%s %s", strcmp(op, "use") == 0 ?
		 "now sealing with" : "removed", hex);
	return ctrl_keys_apply(c, next, what, cl);
}

static json_t *
ctrl_handle_request(struct ctrl *c, struct ctrl_client *cl, const char *line,
		    size_t len)
{
	json_error_t jerr;
	json_t *req, *reply = NULL;
	const char *cmd;
	char safe[40];
	size_t cmdlen;
	int ret;

	req = gsp_json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		return ctrl_error("invalid JSON: %s (column %d)", jerr.text,
				  jerr.column);
	if (!json_is_object(req)) {
		reply = ctrl_error("request must be a JSON object");
		goto out;
	}
	cmd = ctrl_req_str(req, "cmd", &cmdlen, &reply);
	if (cmd == NULL)
		goto out;
	if (strcmp(cmd, "ping") == 0 && cmdlen == 4) {
		reply = json_pack("{s:b,s:s,s:s,s:{s:I,s:o,s:o}}", "ok", 1,
				  "node", c->cfg->node_name, "cluster",
				  c->cfg->cluster, "control", "clients",
				  (json_int_t)c->n_clients, "deadline_closed",
				  gsp_json_u64(c->deadline_closed), "evicted",
				  gsp_json_u64(c->evicted));
	} else if (strcmp(cmd, "set") == 0 && cmdlen == 3) {
		reply = ctrl_cmd_set(cl, req);
	} else if (strcmp(cmd, "fault") == 0 && cmdlen == 5) {
		reply = ctrl_cmd_fault(cl, req);
	} else if (strcmp(cmd, "keys") == 0 && cmdlen == 4) {
		reply = ctrl_cmd_keys(c, cl, req);
	} else if (strcmp(cmd, "leave") == 0 && cmdlen == 5) {
		ret = gsp_dp_submit_leave();
		if (ret != 0) {
			reply = ctrl_error("leave: %s", ctrl_dp_strerror(ret));
		} else {
			gsp_log(LOG_NOTICE, "control: leave requested (uid %u pid %d)",
				(unsigned int)cl->uid, (int)cl->pid);
			reply = ctrl_ok();
		}
	} else {
		ctrl_safe_str(safe, sizeof(safe), cmd, cmdlen);
		reply = ctrl_error("unknown command \"%s\" (expected ping, set, "
				   "leave, fault or keys)", safe);
	}
out:
	json_decref(req);
	return reply;
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

static void
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

static short
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

static void
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

/* ---------------------------------------------------------------------- */

static int
ctrl_poll_timeout(const struct ctrl *c, uint64_t now, uint64_t next_pub)
{
	uint64_t dl = next_pub;
	uint64_t t;

	for (unsigned int i = 0; i < c->n_clients; i++) {
		const struct ctrl_client *cl = c->clients[i];

		t = cl->line_since_ns != 0 ? cl->line_since_ns + CTRL_REQUEST_NS :
			cl->last_active_ns + CTRL_IDLE_NS;
		if (t < dl)
			dl = t;
	}
	if (dl <= now)
		return 0;
	t = (dl - now + NS_PER_MS - 1) / NS_PER_MS;
	/* bounded so a quit request is seen within a second */
	return t > 1000 ? 1000 : (int)t;
}

static void
ctrl_loop(struct ctrl *c)
{
	uint64_t interval = (uint64_t)(c->cfg->status_interval_ms > 0 ?
				       c->cfg->status_interval_ms : 100) *
		NS_PER_MS;
	struct pollfd pfd[CTRL_MAX_CLIENTS + 1];
	struct ctrl_client *polled[CTRL_MAX_CLIENTS];
	unsigned int np, i;
	uint64_t now, serial, next_pub = ctrl_mono_ns();
	bool poll_err_logged = false;
	int ret;

	while (!gsp_dp_quit_requested()) {
		now = ctrl_mono_ns();
		if (now >= next_pub) {
			ctrl_publish(c);
			next_pub += interval;
			if (next_pub <= now)
				next_pub = now + interval;
		}
		ctrl_drain_events(c);

		pfd[0].fd = c->lfd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		np = 1;
		for (i = 0; i < c->n_clients; i++) {
			polled[i] = c->clients[i];
			pfd[np].fd = c->clients[i]->fd;
			pfd[np].events = ctrl_client_events(c->clients[i]);
			pfd[np].revents = 0;
			np++;
		}
		ret = poll(pfd, np, ctrl_poll_timeout(c, now, next_pub));
		if (ret < 0) {
			if (errno != EINTR && !poll_err_logged) {
				gsp_log(LOG_ERR, "control: poll: %s",
					strerror(errno));
				poll_err_logged = true;
			}
			continue;
		}
		now = ctrl_mono_ns();
		for (i = 0; i + 1 < np; i++)
			if (pfd[i + 1].revents != 0)
				ctrl_client_service(c, polled[i],
						    pfd[i + 1].revents, now);
		/* after servicing: client slots move when one is freed */
		for (i = 0; i < c->n_clients;) {
			struct ctrl_client *cl = c->clients[i];

			if (cl->dead || (cl->closing && cl->out_len == 0)) {
				ctrl_client_free(c, i);
			} else if (cl->line_since_ns != 0 &&
				   now - cl->line_since_ns > CTRL_REQUEST_NS) {
				ctrl_client_expire(c, i);
			} else if (cl->line_since_ns == 0 &&
				   now - cl->last_active_ns > CTRL_IDLE_NS) {
				gsp_log(LOG_DEBUG, "control: dropping client "
					"pid %d idle for 5 s", (int)cl->pid);
				ctrl_client_free(c, i);
			} else {
				i++;
			}
		}
		if (pfd[0].revents & POLLIN) {
			serial = c->next_serial;
			ctrl_accept(c, now);
			/* a request that came with the connection is answered
			 * now, before later accepts could evict its client */
			for (i = 0; i < c->n_clients; i++)
				if (c->clients[i]->serial >= serial)
					ctrl_client_service(c, c->clients[i],
							    POLLIN, now);
		}
		ctrl_abuse_log(c, now);
	}
}

int
gsp_ctrl_run(const struct gsp_config *cfg)
{
	struct ctrl *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		gsp_log(LOG_ERR, "control: out of memory");
		return -ENOMEM;
	}
	c->cfg = cfg;
	c->lfd = -1;
	if (gsp_dp_keyring() != NULL) {
		c->kr = gsp_keyring_dup(gsp_dp_keyring());
		if (c->kr == NULL) {
			free(c);
			return -ENOMEM;
		}
	}

	/* socket first: it detects a second instance before the view is hit */
	ret = ctrl_listen(c);
	if (ret != 0)
		goto out;
	ret = ctrl_view_open(c);
	if (ret != 0)
		goto out_sock;
	ret = ctrl_seeds_start(&c->seeds, cfg);
	if (ret != 0)
		goto out_view;
	gsp_log(LOG_INFO, "control: socket %s, status view %s every %u ms",
		cfg->socket_path, cfg->status_path, cfg->status_interval_ms);

	ctrl_loop(c);

	ctrl_drain_events(c);
	ctrl_publish(c);
	ret = 0;
out_view:
	gsp_sv_writer_close(c->sv, ctrl_unix_ns(), false);
out_sock:
	while (c->n_clients > 0)
		ctrl_client_free(c, c->n_clients - 1);
	ctrl_unlisten(c);
	ctrl_seeds_stop(&c->seeds);
out:
	gsp_keyring_destroy(c->kr);
	free(c->staging);
	free(c);
	return ret;
}

#ifdef GSP_CTRL_FUZZ
#include "gsp_ctrl_fuzz.h"

/* As ctrl_client_read()/ctrl_client_service() do for a socket, with the
 * input arriving in chunks of whatever room the buffer has. */
unsigned int
gsp_ctrl_fuzz_input(const struct gsp_config *cfg, const char *in, size_t len,
		    void (*out)(const char *line, size_t len, void *arg),
		    void *arg)
{
	struct ctrl c = { .cfg = cfg, .lfd = -1 };
	struct ctrl_client *cl = calloc(1, sizeof(*cl));
	unsigned int replies = 0;
	size_t off = 0, n;

	if (cl == NULL)
		return 0;
	/* the keys command edits a copy, as gsp_ctrl_run() makes */
	if (gsp_dp_keyring() != NULL)
		c.kr = gsp_keyring_dup(gsp_dp_keyring());
	cl->fd = -1;
	/* each pass takes input or consumes a line (or closes) */
	for (size_t pass = 0; pass < 2 * len + 2 && !cl->closing; pass++) {
		n = sizeof(cl->in) - cl->in_len;
		if (n > len - off)
			n = len - off;
		memcpy(cl->in + cl->in_len, in + off, n);
		cl->in_len += n;
		off += n;
		if (off == len)
			cl->eof = true;
		ctrl_client_lines(&c, cl, 0);
		for (size_t i = 0; i < cl->out_len; i++)
			if (cl->out[i] == '\n')
				replies++;
		if (cl->out_len > 0)
			out(cl->out, cl->out_len, arg);
		cl->out_len = 0;
	}
	gsp_keyring_destroy(c.kr);
	free(cl);
	return replies;
}
#endif
