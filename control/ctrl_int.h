/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the control thread (gsp_ctrl.h): its state and the functions its
 * files share. One file per responsibility, calls going one way:
 *
 *   ctrl.c          the loop: poll, publish on time, drain events
 *     ctrl_listen.c   the socket file: create, probe a stale one, remove
 *     ctrl_clients.c  connections: accept, line framing, deadlines,
 *                     eviction, reply queues, abuse log
 *       ctrl_cmd.c      one request: parse, dispatch; ping, set, leave
 *         ctrl_monitor.c  monitor streams, user events
 *         ctrl_app.c      our own app state: read, bounds, checks
 *         ctrl_fault.c    the fault command
 *         ctrl_keys.c     the keys command
 *         ctrl_keys_cluster.c  the keyring each member publishes
 *           ctrl_reply.c    reply and request helpers
 *     ctrl_view.c     the status view: members and counters, publish
 *     ctrl_events.c   the dataplane's events, as log lines
 *     ctrl_seeds.c    the seed resolver thread
 */
#ifndef GSP_CTRL_INT_H
#define GSP_CTRL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "gsp_ctrl.h"
#include "gsp_notify.h"
#include "sv_writer.h"

#define CTRL_MAX_CLIENTS 16
#define CTRL_MAX_MONITORS 8	/* of the clients: room for requests stays */

/* The operator's events (ctrl_monitor.c, docs/EVENTS.md). */
enum ctrl_evt {
	CTRL_EVT_JOIN,
	CTRL_EVT_SUSPECT,
	CTRL_EVT_DOWN,
	CTRL_EVT_ALIVE,
	CTRL_EVT_LEAVE,
	CTRL_EVT_RESTART,
	CTRL_EVT_REAP,
	CTRL_EVT_UPDATE,
	CTRL_EVT_KEY,
	CTRL_EVT_USER,
	CTRL_EVT_MAX
};

/* A member the event stream has seen: user events once, app changes. */
struct ctrl_seen {
	uint64_t id;
	uint64_t generation;
	uint64_t app_hash;	/* app state but the user-event key */
	uint32_t event_seq;	/* last user event delivered */
	bool used;
	bool gone;		/* forgotten: the slot may be taken again */
};

struct ctrl_handlers;
#define CTRL_LINE_MAX 4096		/* request bytes, newline excluded */
#define CTRL_OUT_MAX 16384		/* queued replies per client */
#define CTRL_REPLY_MAX 4096		/* one reply line, newline included */
/* a request line must be complete this long after its first byte (after
 * accept for the first one): slow clients cannot keep every slot */
#define CTRL_REQUEST_S 2
#define CTRL_REQUEST_NS (CTRL_REQUEST_S * 1000000000ull)
#define CTRL_MAX_LCORES 128
#define CTRL_ERR_MAX 256

#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull
/* a view whose membership did not change is still rewritten this often:
 * heartbeats, phi, counters and the header's heartbeat_unix_ns move on
 * (gossipctl calls a writer silent for 2 s dead) */
#define CTRL_SV_IDLE_NS (1ull * NS_PER_S)

struct ctrl_client {
	int fd;
	uid_t uid;
	pid_t pid;
	bool eof;		/* peer sent everything it will send */
	bool closing;		/* no more requests: close once flushed */
	bool dead;		/* close now */
	bool monitor;		/* gets the event stream; never idle */
	uint32_t mon_types;	/* 1 << enum ctrl_evt */
	uint64_t mon_dropped;	/* events its full queue could not take */
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
	/* under lock: addresses of "join" requests, contacted as seeds
	 * along with the configured ones; kick: hand the list over now */
	struct gsp_addr extra[GSP_SEEDS_MAX];
	unsigned int n_extra;
	bool kick;
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
	uint64_t sv_token;		/* ctrl_view_token() at the last publish */
	uint64_t sv_full_ns;		/* last publish, monotonic */
	bool sv_dirty;			/* a request was served: publish */

	struct ctrl_seeds seeds;

	struct gsp_keyring *kr;		/* ours to edit; NULL: plaintext */

	/* events (ctrl_monitor.c, ctrl_handlers.c) */
	uint64_t start_unix_ns;
	struct ctrl_seen *seen;
	uint32_t seen_cap;
	bool seen_full_logged;
	uint32_t user_seq;		/* our last user event */
	uint64_t events_lost_seen;	/* gsp_dp_events_dropped() last read */
	uint64_t events_lost_unlogged;
	uint64_t events_lost_log_ns;
	struct ctrl_handlers *handlers;

	struct gsp_watchdog wd;		/* systemd's (gsp_notify.h) */
};

static inline uint64_t
ctrl_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
ctrl_mono_ns(void)
{
	return ctrl_clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t
ctrl_unix_ns(void)
{
	return ctrl_clock_ns(CLOCK_REALTIME);
}

/* ctrl_reply.c */
void ctrl_safe_str(char *dst, size_t len, const char *src, size_t srclen);
json_t *ctrl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
json_t *ctrl_ok(void);
const char *ctrl_req_str(json_t *req, const char *field, size_t *len,
			 json_t **reply);
bool ctrl_req_op(json_t *jop, const char **op);
const char *ctrl_dp_strerror(int ret);

/* ctrl_cmd.c, ctrl_fault.c, ctrl_keys.c: a reply for one request */
json_t *ctrl_handle_request(struct ctrl *c, struct ctrl_client *cl,
			    const char *line, size_t len);
json_t *ctrl_cmd_fault(struct ctrl_client *cl, json_t *req);
json_t *ctrl_cmd_keys(struct ctrl *c, struct ctrl_client *cl, json_t *req);

/* ctrl_force_leave.c */
json_t *ctrl_cmd_force_leave(struct ctrl *c, struct ctrl_client *cl,
			     json_t *req);

/* ctrl_keys_cluster.c: the keyring each member publishes (gsp.keys) */
void ctrl_keys_publish(struct ctrl *c);
json_t *ctrl_keys_cluster(const struct ctrl *c, unsigned int max_names);
unsigned int ctrl_keys_at_risk(uint32_t id, bool use, char *buf,
			       size_t len);

/* ctrl_listen.c */
int ctrl_listen(struct ctrl *c);
void ctrl_unlisten(struct ctrl *c);

/* ctrl_clients.c */
void ctrl_accept(struct ctrl *c, uint64_t now);
void ctrl_client_free(struct ctrl *c, unsigned int idx);
void ctrl_client_expire(struct ctrl *c, unsigned int idx);
void ctrl_abuse_log(struct ctrl *c, uint64_t now);
void ctrl_client_lines(struct ctrl *c, struct ctrl_client *cl, uint64_t now);
short ctrl_client_events(const struct ctrl_client *cl);
void ctrl_client_service(struct ctrl *c, struct ctrl_client *cl,
			 short revents, uint64_t now);

/* ctrl_view.c */
int ctrl_view_open(struct ctrl *c);
void ctrl_publish(struct ctrl *c);
void ctrl_publish_if_changed(struct ctrl *c, uint64_t now);

/* ctrl_events.c */
void ctrl_drain_events(struct ctrl *c);

/* ctrl_monitor.c */
void ctrl_event_emit(struct ctrl *c, unsigned int type, json_t *ev);
void ctrl_monitor_core_event(struct ctrl *c, const struct gsp_event *ev);
void ctrl_monitor_key_event(struct ctrl *c, const char *change,
			    uint32_t primary, unsigned int n_keys);
json_t *ctrl_cmd_monitor(struct ctrl *c, struct ctrl_client *cl, json_t *req);
json_t *ctrl_cmd_event(struct ctrl *c, json_t *req);
/* ctrl_app.c: our own record, and a change checked against our app
 * state's bounds (gsp_cfg_app_bounds) before the core could refuse it
 * after our reply */
bool ctrl_self_read(struct gsp_member_view *v);
bool ctrl_app_has(const struct gsp_member_view *v, const char *key);
json_t *ctrl_app_check(const struct ctrl *c, const char *cmd,
		       const char *key, size_t vlen);

/* ctrl_handlers.c */
int ctrl_handlers_start(struct ctrl *c);
void ctrl_handlers_stop(struct ctrl *c);
void ctrl_handlers_push(struct ctrl *c, unsigned int type, const char *line,
			size_t len);

/* ctrl_seeds.c */
int ctrl_seeds_start(struct ctrl_seeds *s, const struct gsp_config *cfg);
void ctrl_seeds_stop(struct ctrl_seeds *s);
/* Adds a to the join list (a no-op when there); 0, or -ENOSPC when the
 * list is full. Wakes the thread to hand the list to the dataplane. */
int ctrl_seeds_join(struct ctrl_seeds *s, const struct gsp_addr *a,
		    unsigned int n);

#endif /* GSP_CTRL_INT_H */
