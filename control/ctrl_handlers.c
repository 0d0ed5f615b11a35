/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The event handler ([events] handler, docs/EVENTS.md): an executable run
 * once per event, one at a time, by a thread of its own, so a slow script
 * delays neither the dataplane nor the control socket. Events wait in a
 * bounded queue; when it is full they are dropped, counted and logged.
 * The event is the handler's standard input (one JSON line) and its
 * environment (GOSSIPD_*); a handler that outlives handler_timeout is
 * killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctrl_int.h"
#include "gsp_log.h"

#define CTRL_HANDLER_ENV 16
#define CTRL_HANDLER_ENV_LEN 320
#define CTRL_HANDLER_POLL_NS (10 * NS_PER_MS)
#define CTRL_HANDLER_LOG_NS (10 * NS_PER_S)

struct ctrl_handlers {
	const struct gsp_config *cfg;
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	char **queue;			/* ring of JSON lines */
	unsigned int cap, head, len;
	uint64_t dropped;		/* since the last line about it */
	uint64_t drop_log_ns;
	uint64_t failed;		/* since the last line about it */
	uint64_t fail_log_ns;
	/* the handler's environment: PATH, node and cluster fixed at start,
	 * then each event's variables */
	char env[CTRL_HANDLER_ENV][CTRL_HANDLER_ENV_LEN];
	char *envp[CTRL_HANDLER_ENV + 1];
	unsigned int n_fixed;
	/* the handler starts with no signal blocked and SIGPIPE default */
	posix_spawnattr_t attr;
};

/* Control thread: queues one event line (copied). */
void
ctrl_handlers_push(struct ctrl *c, unsigned int type, const char *line,
		   size_t len)
{
	struct ctrl_handlers *h = c->handlers;
	char *copy;
	uint64_t now;

	(void)type;	/* every type: GOSSIPD_EVENT lets it choose */
	if (h == NULL)
		return;
	copy = malloc(len + 1);
	pthread_mutex_lock(&h->lock);
	if (copy == NULL || h->len == h->cap) {
		free(copy);
		h->dropped++;
		now = ctrl_mono_ns();
		if (now >= h->drop_log_ns) {
			gsp_log(LOG_WARNING, "events: handler queue full (%u): "
				"%" PRIu64 " event(s) not handed to %s; a "
				"slow handler? (logged again in 10 s at most)",
				h->cap, h->dropped, h->cfg->event_handler);
			h->dropped = 0;
			h->drop_log_ns = now + CTRL_HANDLER_LOG_NS;
		}
		pthread_mutex_unlock(&h->lock);
		return;
	}
	memcpy(copy, line, len);
	copy[len] = '\0';
	h->queue[(h->head + h->len) % h->cap] = copy;
	h->len++;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* Appends NAME=value to the environment after the fixed entries. */
static void
ctrl_handler_env_put(struct ctrl_handlers *h, unsigned int *n,
		     const char *name, const char *value)
{
	if (*n >= CTRL_HANDLER_ENV)
		return;
	snprintf(h->env[*n], CTRL_HANDLER_ENV_LEN, "%s=%s", name, value);
	h->envp[*n] = h->env[*n];
	(*n)++;
	h->envp[*n] = NULL;
}

/* The event's field as a variable, when the event has it. */
static void
ctrl_handler_env_field(struct ctrl_handlers *h, unsigned int *n,
		       const char *name, json_t *v)
{
	char num[32];

	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		ctrl_handler_env_put(h, n, name, num);
	} else if (json_is_string(v)) {
		ctrl_handler_env_put(h, n, name, json_string_value(v));
	}
}

/* One line per 10 s at most about handlers that failed, with the count. */
static void
ctrl_handler_failed(struct ctrl_handlers *h, const char *why)
{
	uint64_t now = ctrl_mono_ns();

	h->failed++;
	if (now < h->fail_log_ns)
		return;
	gsp_log(LOG_WARNING, "events: handler %s %s (%" PRIu64 " failure(s) "
		"since the last line; logged again in 10 s at most)",
		h->cfg->event_handler, why, h->failed);
	h->fail_log_ns = now + CTRL_HANDLER_LOG_NS;
	h->failed = 0;
}

/* Waits for pid, bounded; kills it past the timeout. Its exit status. */
static int
ctrl_handler_wait(struct ctrl_handlers *h, pid_t pid, bool *killed)
{
	uint64_t limit = (uint64_t)h->cfg->event_handler_timeout_ms * NS_PER_MS;
	uint64_t start = ctrl_mono_ns();
	struct timespec tick = { 0, CTRL_HANDLER_POLL_NS };
	int status = 0;
	pid_t r;

	*killed = false;
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (ctrl_mono_ns() - start >= limit) {
			kill(pid, SIGKILL);
			*killed = true;
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return status;
		}
		nanosleep(&tick, NULL);
	}
}

/* GOSSIPD_* variable of each event field a handler may want; "name" is
 * the member's, or the user event's when the event has "from". */
static const struct {
	const char *var;
	const char *field;
} ctrl_handler_vars[] = {
	{ "GOSSIPD_EVENT", "event" },
	{ "GOSSIPD_MEMBER_ID", "id" },
	{ "GOSSIPD_MEMBER_ADDRESS", "address" },
	{ "GOSSIPD_MEMBER_STATE", "state" },
	{ "GOSSIPD_MEMBER_GENERATION", "generation" },
	{ "GOSSIPD_USER_FROM", "from" },
	{ "GOSSIPD_USER_SEQ", "seq" },
};

static void
ctrl_handler_run(struct ctrl_handlers *h, const char *line)
{
	char *argv[2] = { (char *)h->cfg->event_handler, NULL };
	posix_spawn_file_actions_t fa;
	unsigned int n = h->n_fixed;
	json_t *ev = json_loads(line, 0, NULL);
	char why[96];
	bool killed;
	int pfd[2], status, err;
	pid_t pid;

	for (size_t i = 0; i < sizeof(ctrl_handler_vars) /
	     sizeof(ctrl_handler_vars[0]); i++)
		ctrl_handler_env_field(h, &n, ctrl_handler_vars[i].var,
			json_object_get(ev, ctrl_handler_vars[i].field));
	ctrl_handler_env_field(h, &n, json_object_get(ev, "from") != NULL ?
			       "GOSSIPD_USER_EVENT" : "GOSSIPD_MEMBER_NAME",
			       json_object_get(ev, "name"));
	json_decref(ev);

	if (pipe2(pfd, O_CLOEXEC) != 0)
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], STDIN_FILENO);
	err = posix_spawn(&pid, h->cfg->event_handler, &fa, &h->attr, argv,
			  h->envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[0]);
	if (err != 0) {
		close(pfd[1]);
		snprintf(why, sizeof(why), "cannot run: %s", strerror(err));
		ctrl_handler_failed(h, why);
		return;
	}
	/* a line is far below the pipe's buffer: never blocks; a handler
	 * that exited without reading leaves a SIGPIPE, blocked in this
	 * thread, to take back */
	if (write(pfd[1], line, strlen(line)) < 0 ||
	    write(pfd[1], "\n", 1) < 0) {
		if (errno == EPIPE) {
			struct timespec zero = { 0, 0 };
			sigset_t pipe_set;

			sigemptyset(&pipe_set);
			sigaddset(&pipe_set, SIGPIPE);
			(void)sigtimedwait(&pipe_set, NULL, &zero);
		}
	}
	close(pfd[1]);
	status = ctrl_handler_wait(h, pid, &killed);
	if (killed) {
		snprintf(why, sizeof(why), "killed after [events] "
			 "handler_timeout %u ms",
			 h->cfg->event_handler_timeout_ms);
		ctrl_handler_failed(h, why);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof(why), "exited with status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) :
			 128 + WTERMSIG(status));
		ctrl_handler_failed(h, why);
	}
}

static void *
ctrl_handlers_main(void *arg)
{
	struct ctrl_handlers *h = arg;
	sigset_t pipe_set;
	char *line;

	/* a handler that exits unread raises SIGPIPE here, not in the
	 * whole process (ctrl_handler_run takes it back) */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		if (h->len == 0) {
			pthread_cond_wait(&h->cond, &h->lock);
			continue;
		}
		line = h->queue[h->head];
		h->head = (h->head + 1) % h->cap;
		h->len--;
		pthread_mutex_unlock(&h->lock);
		ctrl_handler_run(h, line);
		free(line);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* What every run has: PATH (the handler's own lookups), node, cluster. */
static void
ctrl_handlers_env_fixed(struct ctrl_handlers *h)
{
	const char *path = getenv("PATH");
	unsigned int n = 0;

	if (path != NULL)
		ctrl_handler_env_put(h, &n, "PATH", path);
	ctrl_handler_env_put(h, &n, "GOSSIPD_NODE", h->cfg->node_name);
	ctrl_handler_env_put(h, &n, "GOSSIPD_CLUSTER", h->cfg->cluster);
	h->n_fixed = n;
}

/* The handler starts with no signal blocked and SIGPIPE at its default,
 * whatever this process does with them. */
static int
ctrl_handlers_attr(struct ctrl_handlers *h)
{
	sigset_t none, pipe_set;

	if (posix_spawnattr_init(&h->attr) != 0)
		return -1;
	sigemptyset(&none);
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	posix_spawnattr_setsigmask(&h->attr, &none);
	posix_spawnattr_setsigdefault(&h->attr, &pipe_set);
	posix_spawnattr_setflags(&h->attr, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	return 0;
}

int
ctrl_handlers_start(struct ctrl *c)
{
	struct ctrl_handlers *h;

	if (c->cfg->event_handler[0] == '\0')
		return 0;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->cfg = c->cfg;
	h->cap = c->cfg->event_handler_queue;
	h->queue = calloc(h->cap, sizeof(*h->queue));
	if (h->queue == NULL) {
		free(h);
		return -ENOMEM;
	}
	ctrl_handlers_env_fixed(h);
	if (ctrl_handlers_attr(h) != 0) {
		free(h->queue);
		free(h);
		return -ENOMEM;
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	if (pthread_create(&h->tid, NULL, ctrl_handlers_main, h) != 0) {
		posix_spawnattr_destroy(&h->attr);
		free(h->queue);
		free(h);
		return -EAGAIN;
	}
	c->handlers = h;
	gsp_log(LOG_INFO, "events: handler %s runs for each event (queue %u, "
		"timeout %u ms)", c->cfg->event_handler, h->cap,
		c->cfg->event_handler_timeout_ms);
	return 0;
}

/* Lets a running handler finish (bounded by its timeout); what is still
 * queued is dropped, and said. */
void
ctrl_handlers_stop(struct ctrl *c)
{
	struct ctrl_handlers *h = c->handlers;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->tid, NULL);
	if (h->len > 0)
		gsp_log(LOG_NOTICE, "events: %u queued event(s) not handed to "
			"the handler at exit", h->len);
	while (h->len > 0) {
		free(h->queue[h->head]);
		h->head = (h->head + 1) % h->cap;
		h->len--;
	}
	posix_spawnattr_destroy(&h->attr);
	free(h->queue);
	free(h);
	c->handlers = NULL;
}
