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
