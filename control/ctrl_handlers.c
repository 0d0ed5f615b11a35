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

extern char **environ;

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
	uint64_t ran;
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

static void
ctrl_handler_env_add(char env[][CTRL_HANDLER_ENV_LEN], char **envp,
		     unsigned int *n, const char *name, json_t *v)
{
	char num[32];
	const char *s = json_string_value(v);

	if (*n + 1 >= CTRL_HANDLER_ENV)
		return;
	if (s == NULL && json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		s = num;
	}
	if (s == NULL)
		return;
	snprintf(env[*n], CTRL_HANDLER_ENV_LEN, "%s=%s", name, s);
	envp[*n] = env[*n];
	(*n)++;
	envp[*n] = NULL;
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

static void
ctrl_handler_run(struct ctrl_handlers *h, const char *line)
{
	static char env[CTRL_HANDLER_ENV][CTRL_HANDLER_ENV_LEN];
	char *envp[CTRL_HANDLER_ENV + 1] = { NULL };
	char *argv[2] = { (char *)h->cfg->event_handler, NULL };
	posix_spawn_file_actions_t fa;
	unsigned int n = 0;
	json_t *ev = json_loads(line, 0, NULL);
	bool killed;
	int pfd[2], status, err;
	pid_t pid;

	/* what a handler may need that is not in the event: PATH */
	for (char **e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, "PATH=", 5) == 0 && n + 1 < CTRL_HANDLER_ENV) {
			snprintf(env[n], CTRL_HANDLER_ENV_LEN, "%s", *e);
			envp[n] = env[n];
			envp[++n] = NULL;
		}
	ctrl_handler_env_add(env, envp, &n, "GOSSIPD_EVENT",
			     json_object_get(ev, "event"));
	{
		json_t *s = json_string(h->cfg->node_name);
		json_t *cl = json_string(h->cfg->cluster);

		ctrl_handler_env_add(env, envp, &n, "GOSSIPD_NODE", s);
		ctrl_handler_env_add(env, envp, &n, "GOSSIPD_CLUSTER", cl);
		json_decref(s);
		json_decref(cl);
	}
	if (json_object_get(ev, "from") != NULL) {
		ctrl_handler_env_add(env, envp, &n, "GOSSIPD_USER_EVENT",
				     json_object_get(ev, "name"));
		ctrl_handler_env_add(env, envp, &n, "GOSSIPD_USER_FROM",
				     json_object_get(ev, "from"));
		ctrl_handler_env_add(env, envp, &n, "GOSSIPD_USER_SEQ",
				     json_object_get(ev, "seq"));
	} else {
		ctrl_handler_env_add(env, envp, &n, "GOSSIPD_MEMBER_NAME",
				     json_object_get(ev, "name"));
	}
	ctrl_handler_env_add(env, envp, &n, "GOSSIPD_MEMBER_ID",
			     json_object_get(ev, "id"));
	ctrl_handler_env_add(env, envp, &n, "GOSSIPD_MEMBER_ADDRESS",
			     json_object_get(ev, "address"));
	ctrl_handler_env_add(env, envp, &n, "GOSSIPD_MEMBER_STATE",
			     json_object_get(ev, "state"));
	ctrl_handler_env_add(env, envp, &n, "GOSSIPD_MEMBER_GENERATION",
			     json_object_get(ev, "generation"));
	json_decref(ev);

	if (pipe2(pfd, O_CLOEXEC) != 0)
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], STDIN_FILENO);
	err = posix_spawn(&pid, h->cfg->event_handler, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[0]);
	if (err != 0) {
		close(pfd[1]);
		h->failed++;
		if (ctrl_mono_ns() >= h->fail_log_ns) {
			gsp_log(LOG_WARNING, "events: handler %s: %s (logged "
				"again in 10 s at most)", h->cfg->event_handler,
				strerror(err));
			h->fail_log_ns = ctrl_mono_ns() + CTRL_HANDLER_LOG_NS;
			h->failed = 0;
		}
		return;
	}
	/* a line is far below the pipe's buffer: never blocks */
	signal(SIGPIPE, SIG_IGN);
	(void)!write(pfd[1], line, strlen(line));
	(void)!write(pfd[1], "\n", 1);
	close(pfd[1]);
	status = ctrl_handler_wait(h, pid, &killed);
	h->ran++;
	if (killed || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		h->failed++;
		if (ctrl_mono_ns() >= h->fail_log_ns) {
			if (killed)
				gsp_log(LOG_WARNING, "events: handler %s killed "
					"after [events] handler_timeout %u ms "
					"(%" PRIu64 " failure(s) since the last "
					"line)", h->cfg->event_handler,
					h->cfg->event_handler_timeout_ms,
					h->failed);
			else
				gsp_log(LOG_WARNING, "events: handler %s exited "
					"with status %d (%" PRIu64 " failure(s) "
					"since the last line)",
					h->cfg->event_handler,
					WIFEXITED(status) ? WEXITSTATUS(status) :
					128 + WTERMSIG(status), h->failed);
			h->fail_log_ns = ctrl_mono_ns() + CTRL_HANDLER_LOG_NS;
			h->failed = 0;
		}
	}
}

static void *
ctrl_handlers_main(void *arg)
{
	struct ctrl_handlers *h = arg;
	char *line;

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
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	if (pthread_create(&h->tid, NULL, ctrl_handlers_main, h) != 0) {
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
	free(h->queue);
	free(h);
	c->handlers = NULL;
}
