/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside gossipctl: its options and the functions its files share. One
 * file per responsibility, calls going one way:
 *
 *   gossipctl.c         arguments, usage, dispatch
 *     ctl_members.c       members and watch (status view)
 *     ctl_stats.c         stats (status view), tables from the one
 *                         counter list (gsp_counters.h)
 *     ctl_keys_fault.c    fault and keys (control socket)
 *       ctl_socket.c        one request and its reply; set, leave, ping
 *         ctl_view.c          finding, reading and checking the view,
 *                             showing it with a command's printer
 *           ctl_out.c           errors, safe text, JSON output, clocks
 */
#ifndef GSP_CTL_INT_H
#define GSP_CTL_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gossipd/status_view.h"

#define CTL_PROG "gossipctl"

#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_STALE 3

#define NS_PER_S 1000000000ull
#define CTL_NAME_MAX 64
#define CTL_DEFAULT_DIR "/dev/shm"
#define CTL_APP_FILTERS_MAX 16		/* --app given at most this often */

/* members/watch filters (ctl_members.c); an empty filter matches all */
struct ctl_filter {
	unsigned int states;		/* bit per GSP_SV_* state; 0: all */
	const char *name_glob;		/* fnmatch(3); NULL: all */
	unsigned int n_app;
	const char *app_arg[CTL_APP_FILTERS_MAX];	/* KEY=GLOB as given */
};

struct ctl_opts {
	const char *node;
	const char *cluster;
	const char *view;
	const char *socket;
	const char *dir;		/* where views are searched */
	bool json;
	bool interval_set;
	bool count_set;
	bool force;		/* keys use/remove: even if it cuts members off */
	long interval_ms;
	long count;
	struct ctl_filter filter;
	long join_wait_ms;		/* join: how long to wait for answers */
	bool join_wait_set;
	const char *types;		/* monitor --type */
};

/* ctl_out.c */
void ctl_verr(const char *fmt, va_list ap);
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t ctl_unix_ns(void);
uint64_t ctl_mono_ms(void);
const char *ctl_safe(char *buf, size_t len, const char *s);
const char *ctl_u64_text(const json_t *j, char *buf, size_t len);
json_t *ctl_json_str(const char *s);
json_t *ctl_json_hex(uint64_t v);
json_t *ctl_json_doc(const struct gsp_sv_header *h);
int ctl_json_print(json_t *root);

/* ctl_view.c */
int ctl_find_view(const struct ctl_opts *o, char *path, size_t len);
int ctl_snapshot(const char *path, struct gsp_sv_snapshot *snap, bool quiet);
int ctl_snapshot_why(const char *path, struct gsp_sv_snapshot *snap, char *why,
		     size_t len);
bool ctl_check_alive(const struct gsp_sv_header *h, uint64_t now, char *msg,
		     size_t len);
/* Prints snapshot s (json: as JSON); 0, or -1 after an error line. */
typedef int ctl_show_fn(const struct gsp_sv_snapshot *s, uint64_t now,
			bool alive, bool json);
/* Reads the view o names and shows it; CTL_EXIT_STALE (with a warning)
 * when its writer is not alive. */
int ctl_view_show(const struct ctl_opts *o, ctl_show_fn *show);

/* ctl_socket.c */
int ctl_call_reply(const struct ctl_opts *o, json_t *req, json_t **reply);
int ctl_cmd_socket(const struct ctl_opts *o, json_t *req);

/* ctl_members.c: parse --state / --app into f; false after an error */
bool ctl_filter_states(struct ctl_filter *f, const char *arg, char *err,
		       size_t len);
bool ctl_filter_app(struct ctl_filter *f, const char *arg, char *err,
		    size_t len);
bool ctl_filter_active(const struct ctl_filter *f);

/* the commands: an exit status each */
int ctl_cmd_members(const struct ctl_opts *o);
int ctl_cmd_watch(const struct ctl_opts *o);
int ctl_cmd_stats(const struct ctl_opts *o);
int ctl_cmd_fault(const struct ctl_opts *o, const char *op, char **args,
		  int nargs);
int ctl_cmd_keys(const struct ctl_opts *o, const char *op, const char *arg);
int ctl_cmd_join(const struct ctl_opts *o, char **addrs, int n);
/* ctl_socket.c: the control socket's path (--socket, else the view's) */
int ctl_socket_path(const struct ctl_opts *o, char *buf, size_t len);
/* ctl_monitor.c */
int ctl_cmd_monitor(const struct ctl_opts *o, const char *types);
int ctl_cmd_event(const struct ctl_opts *o, const char *name,
		  const char *payload);
/* ctl_force_leave.c */
int ctl_cmd_force_leave(const struct ctl_opts *o, const char *name);

#endif /* GSP_CTL_INT_H */
