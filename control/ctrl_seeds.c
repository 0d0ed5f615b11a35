/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The seed resolver thread: resolves the static seeds and the DNS name
 * (seeds.c), hands changed lists to the dataplane, and keeps the last good
 * list through a DNS outage.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctrl_int.h"
#include "gsp_log.h"

#define CTRL_SEED_RETRY_S 2
#define CTRL_SEED_TIMEOUT_MS 3000

static void
ctrl_fmt_ip(uint32_t ip, uint16_t port, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u:%u", (ip >> 24) & 0xff,
		 (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, port);
}

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

/* Resolves the static seeds only, into out; true when there are some. */
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
	gsp_log(LOG_NOTICE, "seeds: using the %d static seeds until DNS "
		"answers", n);
	*n_out = (unsigned int)n;
	return true;
}

/* cur (n of them, sorted) plus the join addresses not in it, sorted,
 * at most GSP_SEEDS_MAX; the new count. */
static unsigned int
ctrl_seeds_merge(struct ctrl_seeds *s, struct gsp_addr *cur, unsigned int n)
{
	unsigned int n0 = n;

	pthread_mutex_lock(&s->lock);
	for (unsigned int i = 0; i < s->n_extra && n < GSP_SEEDS_MAX; i++) {
		unsigned int j;

		for (j = 0; j < n0; j++)
			if (ctrl_addr_cmp(&cur[j], &s->extra[i]) == 0)
				break;
		if (j == n0)
			cur[n++] = s->extra[i];
	}
	pthread_mutex_unlock(&s->lock);
	qsort(cur, n, sizeof(cur[0]), ctrl_addr_cmp);
	return n;
}

int
ctrl_seeds_join(struct ctrl_seeds *s, const struct gsp_addr *a,
		unsigned int n)
{
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	for (unsigned int k = 0; k < n && ret == 0; k++) {
		unsigned int i;

		for (i = 0; i < s->n_extra; i++)
			if (ctrl_addr_cmp(&s->extra[i], &a[k]) == 0)
				break;
		if (i < s->n_extra)
			continue;
		if (s->n_extra >= GSP_SEEDS_MAX)
			ret = -ENOSPC;
		else
			s->extra[s->n_extra++] = a[k];
	}
	s->kick = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* Whether this node has a live peer now (any thread may read the table;
 * one look every interval, off the dataplane). */
static bool
ctrl_seeds_has_peer(void)
{
	const struct gsp_node *node = gsp_dp_node();
	struct gsp_member_view v;
	uint64_t self;
	uint32_t slots;

	if (node == NULL)
		return true;	/* nothing to say yet */
	self = gsp_node_id(node);
	slots = gsp_node_slot_count(node);
	for (uint32_t slot = 0; slot < slots; slot++)
		if (gsp_node_member_read(node, slot, &v) && v.id != self &&
		    v.state == GSP_STATE_ALIVE)
			return true;
	return false;
}

/* Once per interval while alone: an operator sees why nothing joins. */
static void
ctrl_seeds_alone_check(unsigned int n_seeds, unsigned int interval_s)
{
	if (ctrl_seeds_has_peer())
		return;
	if (n_seeds == 0)
		gsp_log(LOG_WARNING, "seeds: no seed configured and no live "
			"peer known: this node stays alone until another "
			"contacts it or `gossipctl join ADDR` (again in %u s)",
			interval_s);
	else
		gsp_log(LOG_WARNING, "seeds: none of the %u seed address%s "
			"answered: no live peer (again in %u s)", n_seeds,
			n_seeds == 1 ? "" : "es", interval_s);
}

/* Sleeps until deadline (monotonic s), a join's kick or a stop; false
 * once stopped. */
static bool
ctrl_seeds_sleep(struct ctrl_seeds *s, time_t deadline)
{
	struct timespec dl = { deadline, 0 };
	bool stop;

	pthread_mutex_lock(&s->lock);
	while (!s->stop && !s->kick)
		if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) ==
		    ETIMEDOUT)
			break;
	stop = s->stop;
	s->kick = false;
	pthread_mutex_unlock(&s->lock);
	return !stop;
}

static time_t
ctrl_seeds_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

#define CTRL_SEED_NEVER ((time_t)1 << 62)

/* Resolves into res when due; *next_resolve: when to again. */
static void
ctrl_seeds_refresh(const struct gsp_config *cfg, struct gsp_addr *res,
		   unsigned int *n_res, bool *have_res, char *last_err,
		   time_t now, time_t *next_resolve)
{
	bool has_dns = cfg->seed_dns[0] != '\0';
	unsigned int refresh_s = cfg->dns_refresh_s > 0 ? cfg->dns_refresh_s : 30;
	struct gsp_addr cur[GSP_SEEDS_MAX];
	char err[CTRL_ERR_MAX];
	char msg[CTRL_ERR_MAX];
	int n;

	err[0] = '\0';
	memset(cur, 0, sizeof(cur));
	n = gsp_seeds_resolve(cfg, cur, GSP_SEEDS_MAX, CTRL_SEED_TIMEOUT_MS,
			      err, sizeof(err));
	if (n < 0) {
		ctrl_seeds_problem(last_err, err[0] != '\0' ? err :
				   "resolution failed");
		*next_resolve = now + CTRL_SEED_RETRY_S;
		/* DNS down at start: the static seeds alone meanwhile */
		if (!*have_res && has_dns && cfg->n_seeds > 0)
			*have_res = ctrl_seeds_static(cfg, res, n_res);
		return;
	}
	if (n > GSP_SEEDS_MAX)
		n = GSP_SEEDS_MAX;
	if (n == 0 && has_dns) {
		/* keep the last good list through a DNS outage */
		snprintf(msg, sizeof(msg), "%.200s resolved to no address",
			 cfg->seed_dns);
		ctrl_seeds_problem(last_err, msg);
		*next_resolve = now + CTRL_SEED_RETRY_S;
		return;
	}
	if (last_err[0] != '\0')
		gsp_log(LOG_NOTICE, "seeds: resolution recovered");
	last_err[0] = '\0';
	memcpy(res, cur, sizeof(cur[0]) * (size_t)n);
	*n_res = (unsigned int)n;
	*have_res = true;
	/* static seeds never change: no refresh without DNS */
	*next_resolve = has_dns ? now + refresh_s : CTRL_SEED_NEVER;
}

static void *
ctrl_seeds_main(void *arg)
{
	struct ctrl_seeds *s = arg;
	const struct gsp_config *cfg = s->cfg;
	unsigned int refresh_s = cfg->dns_refresh_s > 0 ? cfg->dns_refresh_s : 30;
	/* res: the configured seeds as last resolved; sub: what the
	 * dataplane holds (res plus the join addresses) */
	struct gsp_addr res[GSP_SEEDS_MAX], cur[GSP_SEEDS_MAX];
	struct gsp_addr sub[GSP_SEEDS_MAX];
	unsigned int n_res = 0, n_sub = 0, n;
	bool have_res = false, submitted = false;
	char last_err[CTRL_ERR_MAX] = "";
	char msg[CTRL_ERR_MAX];
	time_t now = ctrl_seeds_mono_s(), next_resolve = now;
	/* the alone warning: once per dns_refresh, the first one after
	 * a full interval (time to join) */
	time_t warn_at = now + refresh_s;
	int ret;

	do {
		now = ctrl_seeds_mono_s();
		if (now >= next_resolve)
			ctrl_seeds_refresh(cfg, res, &n_res, &have_res,
					   last_err, now, &next_resolve);
		memcpy(cur, res, sizeof(cur[0]) * n_res);
		n = ctrl_seeds_merge(s, cur, n_res);
		if ((have_res || n > 0) && (!submitted ||
		    !ctrl_seeds_equal(cur, n, sub, n_sub))) {
			ret = gsp_dp_submit_seeds(cur, n);
			if (ret != 0) {
				snprintf(msg, sizeof(msg), "cannot hand %u "
					 "seeds to the dataplane: %s", n,
					 strerror(-ret));
				ctrl_seeds_problem(last_err, msg);
				if (next_resolve > now + CTRL_SEED_RETRY_S)
					next_resolve = now + CTRL_SEED_RETRY_S;
			} else {
				ctrl_seeds_log_list(cur, n);
				memcpy(sub, cur, sizeof(cur[0]) * n);
				n_sub = n;
				submitted = true;
			}
		}
		if (now >= warn_at) {
			ctrl_seeds_alone_check(n_sub, refresh_s);
			warn_at = now + refresh_s;
		}
	} while (ctrl_seeds_sleep(s, next_resolve < warn_at ? next_resolve :
				  warn_at));
	return NULL;
}

int
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

void
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
