/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipctl members and watch: the membership table of the status view,
 * as a table or JSON, once or redrawn every interval.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_int.h"
#include "gsp_json.h"
#include "gsp_util.h"	/* header only: no link to the core */

static volatile sig_atomic_t ctl_interrupted;
/* the filter of this run: ctl_show_fn has no room for it */
static const struct ctl_filter *ctl_cur_filter;

/* The app column on a terminal: wider cells are cut with "..."; piped
 * output and --json carry the whole state. */
#define CTL_APP_TTY_MAX 40

bool
ctl_filter_active(const struct ctl_filter *f)
{
	return f != NULL && (f->states != 0 || f->name_glob != NULL ||
			     f->n_app != 0);
}

bool
ctl_filter_states(struct ctl_filter *f, const char *arg, char *err,
		  size_t len)
{
	const char *p = arg, *e;
	size_t n;

	if (*arg == '\0') {
		snprintf(err, len, "--state: empty (expected alive, suspect, "
			 "down or left, comma-separated)");
		return false;
	}
	for (;;) {
		unsigned int st;

		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		for (st = 0; st < 4; st++)
			if (strlen(gsp_sv_state_name(st)) == n &&
			    strncmp(gsp_sv_state_name(st), p, n) == 0)
				break;
		if (st == 4) {
			snprintf(err, len, "--state: \"%.*s\" is not a state "
				 "(expected alive, suspect, down or left, "
				 "comma-separated)", (int)(n > 40 ? 40 : n), p);
			return false;
		}
		f->states |= 1u << st;
		if (e == NULL)
			return true;
		p = e + 1;
	}
}

bool
ctl_filter_app(struct ctl_filter *f, const char *arg, char *err, size_t len)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg) {
		snprintf(err, len, "--app: \"%.60s\" is not KEY=VALUE (VALUE "
			 "may be a glob, e.g. role=web*)", arg);
		return false;
	}
	if (f->n_app >= CTL_APP_FILTERS_MAX) {
		snprintf(err, len, "--app: at most %d filters",
			 CTL_APP_FILTERS_MAX);
		return false;
	}
	f->app_arg[f->n_app++] = arg;
	return true;
}

/* One --app KEY=GLOB against m: its KEY exists and its value matches. */
static bool
ctl_app_match(const struct gsp_sv_member *m, const char *arg)
{
	struct gsp_sv_app_entry a[GSP_SV_APP_EXT_KEYS];
	const char *eq = strchr(arg, '=');
	size_t klen = (size_t)(eq - arg);
	unsigned int n = gsp_sv_member_apps(m, a, GSP_SV_APP_EXT_KEYS);

	for (unsigned int i = 0; i < n; i++)
		if (strlen(a[i].key) == klen &&
		    strncmp(a[i].key, arg, klen) == 0)
			return fnmatch(eq + 1, a[i].value, 0) == 0;
	return false;
}

static bool
ctl_member_match(const struct ctl_filter *f, const struct gsp_sv_member *m)
{
	char name[sizeof(m->name) + 1];

	if (f == NULL)
		return true;
	if (f->states != 0 && (m->state >= 4 || !(f->states & (1u << m->state))))
		return false;
	if (f->name_glob != NULL) {
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(m->name),
			 m->name);
		if (fnmatch(f->name_glob, name, 0) != 0)
			return false;
	}
	for (unsigned int i = 0; i < f->n_app; i++)
		if (!ctl_app_match(m, f->app_arg[i]))
			return false;
	return true;
}

/* Keys gossipd writes itself ("gsp.keys", "gsp.event"): shown apart. */
static bool
ctl_app_reserved(const char *key)
{
	return strncmp(key, "gsp.", 4) == 0;
}

/* "k1=v1,k2=v2" into buf (cut with "..." at max when max > 0). */
static void
ctl_fmt_app(const struct gsp_sv_member *m, char *buf, size_t len, size_t max)
{
	struct gsp_sv_app_entry a[GSP_SV_APP_EXT_KEYS];
	char k[GSP_SV_APP_KEY_MAX], v[GSP_SV_APP_VALUE_MAX];
	unsigned int n = gsp_sv_member_apps(m, a, GSP_SV_APP_EXT_KEYS);
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n; i++) {
		int w;

		if (ctl_app_reserved(a[i].key))
			continue;
		w = snprintf(buf + off, len - off, "%s%s=%s",
			     off > 0 ? "," : "",
			     ctl_safe(k, sizeof(k), a[i].key),
			     ctl_safe(v, sizeof(v), a[i].value));

		if (w < 0 || (size_t)w >= len - off) {
			off = len - 1;
			break;
		}
		off += (size_t)w;
	}
	if (max > 3 && off > max)
		snprintf(buf + max - 3, len - (max - 3), "...");
	if (buf[0] == '\0')
		snprintf(buf, len, "-");
}

static int
ctl_member_cmp(const void *a, const void *b)
{
	const struct gsp_sv_member *x = *(const struct gsp_sv_member *const *)a;
	const struct gsp_sv_member *y = *(const struct gsp_sv_member *const *)b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool
ctl_is_self(const struct gsp_sv_snapshot *s, const struct gsp_sv_member *m)
{
	return (m->flags & GSP_SV_MEMBER_SELF) ||
		(s->hdr.self_id != 0 && m->id == s->hdr.self_id);
}

static void
ctl_fmt_addr(uint32_t ip, uint16_t port, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u:%u", (ip >> 24) & 0xff,
		 (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, port);
}

static void
ctl_fmt_ago(uint64_t t, uint64_t now, char *buf, size_t len)
{
	uint64_t s;

	if (t == 0) {
		snprintf(buf, len, "never");
		return;
	}
	s = now > t ? (now - t) / NS_PER_S : 0;
	snprintf(buf, len, "%" PRIu64 " second%s ago", s, s == 1 ? "" : "s");
}

/* Sorted pointers to the members the filter keeps, their number in
 * *kept; NULL with an error printed. */
static const struct gsp_sv_member **
ctl_sorted_members(const struct gsp_sv_snapshot *s, uint32_t *kept)
{
	const struct gsp_sv_member **v;
	uint32_t n = s->hdr.member_count, k = 0;

	v = calloc(n > 0 ? n : 1, sizeof(*v));
	if (v == NULL) {
		ctl_err("out of memory for %u members", n);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		if (ctl_member_match(ctl_cur_filter, &s->members[i]))
			v[k++] = &s->members[i];
	qsort(v, k, sizeof(*v), ctl_member_cmp);
	*kept = k;
	return v;
}

enum { COL_NAME, COL_HB, COL_UPD, COL_STATE, COL_ADDR, COL_GEN, COL_PHI,
	COL_APP, COL_N };

#define CTL_CELL 72

static int
ctl_print_members(FILE *f, const struct gsp_sv_snapshot *s, uint64_t now)
{
	static const char *const titles[COL_N] = {
		"Node Name", "Heartbeat", "Last Updated", "State", "Address",
		"Generation", "Phi", "App",
	};
	/* every key=value: each entry's "=" and "," take less than its
	 * 10-byte header in app_ext, so the whole state fits its data */
	enum { APP_CELL = GSP_SV_APP_DATA + 1 };
	const struct gsp_sv_member **v;
	uint32_t n = s->hdr.member_count, k = 0;
	uint64_t cnt[4] = { 0, 0, 0, 0 };
	size_t w[COL_N];
	char (*cells)[COL_N][CTL_CELL];
	char (*app)[APP_CELL];
	char c[CTL_NAME_MAX], nn[CTL_NAME_MAX], name[CTL_NAME_MAX];
	size_t app_max = isatty(fileno(f)) ? CTL_APP_TTY_MAX : 0;

	v = ctl_sorted_members(s, &k);
	if (v == NULL)
		return -ENOMEM;
	cells = calloc(k > 0 ? k : 1, sizeof(*cells));
	app = calloc(k > 0 ? k : 1, sizeof(*app));
	if (cells == NULL || app == NULL) {
		free(cells);
		free(app);
		free(v);
		ctl_err("out of memory for %u members", n);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		if (s->members[i].state < 4)
			cnt[s->members[i].state]++;
	for (int j = 0; j < COL_N; j++)
		w[j] = strlen(titles[j]);
	for (uint32_t i = 0; i < k; i++) {
		const struct gsp_sv_member *m = v[i];

		snprintf(cells[i][COL_NAME], CTL_CELL, "%s%s",
			 ctl_safe(name, sizeof(name), m->name),
			 ctl_is_self(s, m) ? "*" : "");
		snprintf(cells[i][COL_HB], CTL_CELL, "%" PRIu64, m->heartbeat);
		ctl_fmt_ago(m->last_update_unix_ns, now, cells[i][COL_UPD],
			    CTL_CELL);
		snprintf(cells[i][COL_STATE], CTL_CELL, "%s",
			 gsp_sv_state_name(m->state));
		ctl_fmt_addr(m->ip, m->port, cells[i][COL_ADDR], CTL_CELL);
		snprintf(cells[i][COL_GEN], CTL_CELL, "%" PRIu64,
			 m->generation);
		snprintf(cells[i][COL_PHI], CTL_CELL, "%.2f",
			 m->phi_milli / 1000.0);
		ctl_fmt_app(m, app[i], APP_CELL, app_max);
		for (int j = 0; j < COL_APP; j++)
			if (strlen(cells[i][j]) > w[j])
				w[j] = strlen(cells[i][j]);
	}
	fprintf(f, "cluster %s, node %s, %u member%s (%" PRIu64 " alive, %"
		PRIu64 " suspect, %" PRIu64 " down, %" PRIu64 " left)\n",
		ctl_safe(c, sizeof(c), s->hdr.cluster),
		ctl_safe(nn, sizeof(nn), s->hdr.node_name), n,
		n == 1 ? "" : "s", cnt[0], cnt[1], cnt[2], cnt[3]);
	if (ctl_filter_active(ctl_cur_filter))
		fprintf(f, "filter: %u of %u member%s shown\n", k, n,
			n == 1 ? "" : "s");
	/* minor 6: how many live peers last told us the view we hold */
	if (s->hdr.minor >= 6 && s->hdr.view.peers > 0)
		fprintf(f, "view %016" PRIx64 ": %" PRIu64 " of %" PRIu64
			" peers agree (%.0f%%)\n", s->hdr.view.digest,
			s->hdr.view.agree, s->hdr.view.peers,
			100.0 * (double)s->hdr.view.agree /
			(double)s->hdr.view.peers);
	for (int j = 0; j + 1 < COL_N; j++)
		fprintf(f, "%-*s  ", (int)w[j], titles[j]);
	fprintf(f, "%s\n", titles[COL_N - 1]);
	for (uint32_t i = 0; i < k; i++) {
		for (int j = 0; j + 1 < COL_N; j++)
			fprintf(f, "%-*s  ", (int)w[j], cells[i][j]);
		fprintf(f, "%s\n", app[i]);
	}
	free(app);
	free(cells);
	free(v);
	return 0;
}

static json_t *
ctl_member_json(const struct gsp_sv_snapshot *s, const struct gsp_sv_member *m,
		uint64_t now)
{
	json_t *o = json_object(), *app = json_object();
	json_t *reserved = json_object();
	struct gsp_sv_app_entry a[GSP_SV_APP_EXT_KEYS];
	unsigned int n_app;
	char addr[32];

	if (o == NULL || app == NULL || reserved == NULL) {
		json_decref(o);
		json_decref(app);
		json_decref(reserved);
		return NULL;
	}
	ctl_fmt_addr(m->ip, m->port, addr, sizeof(addr));
	json_object_set_new(o, "name", ctl_json_str(m->name));
	json_object_set_new(o, "id", ctl_json_hex(m->id));
	json_object_set_new(o, "address", json_string(addr));
	json_object_set_new(o, "generation", gsp_json_u64(m->generation));
	json_object_set_new(o, "heartbeat", gsp_json_u64(m->heartbeat));
	json_object_set_new(o, "version", gsp_json_u64(m->version));
	json_object_set_new(o, "state", json_string(gsp_sv_state_name(m->state)));
	json_object_set_new(o, "phi", json_real(m->phi_milli / 1000.0));
	json_object_set_new(o, "incarnation", json_integer(m->incarnation));
	if (m->last_update_unix_ns == 0)
		json_object_set_new(o, "last_updated_s", json_null());
	else
		json_object_set_new(o, "last_updated_s", json_real(
			now > m->last_update_unix_ns ?
			(double)(now - m->last_update_unix_ns) / 1e9 : 0.0));
	json_object_set_new(o, "self", json_boolean(ctl_is_self(s, m)));
	n_app = gsp_sv_member_apps(m, a, GSP_SV_APP_EXT_KEYS);
	for (unsigned int i = 0; i < n_app; i++) {
		char key[GSP_SV_APP_KEY_MAX];

		ctl_safe(key, sizeof(key), a[i].key);
		json_object_set_new(ctl_app_reserved(key) ? reserved : app, key,
				    ctl_json_str(a[i].value));
	}
	json_object_set_new(o, "app", app);
	json_object_set_new(o, "reserved", reserved);
	return o;
}

static int
ctl_members_json(const struct gsp_sv_snapshot *s, uint64_t now, bool alive)
{
	const struct gsp_sv_member **v;
	json_t *root, *arr, *m;
	uint32_t k = 0;

	v = ctl_sorted_members(s, &k);
	if (v == NULL)
		return -1;
	root = ctl_json_doc(&s->hdr);
	arr = json_array();
	if (root == NULL || arr == NULL) {
		json_decref(root);
		json_decref(arr);
		free(v);
		ctl_err("out of memory");
		return -1;
	}
	json_object_set_new(root, "self_id", ctl_json_hex(s->hdr.self_id));
	json_object_set_new(root, "generation",
			    gsp_json_u64(s->hdr.self_generation));
	json_object_set_new(root, "writer_alive", json_boolean(alive));
	if (s->hdr.minor >= 6) {
		json_t *vw = json_object();

		if (vw != NULL) {
			json_object_set_new(vw, "digest",
					    ctl_json_hex(s->hdr.view.digest));
			json_object_set_new(vw, "peers",
					    gsp_json_u64(s->hdr.view.peers));
			json_object_set_new(vw, "agree",
					    gsp_json_u64(s->hdr.view.agree));
			json_object_set_new(root, "view", vw);
		}
	}
	if (ctl_filter_active(ctl_cur_filter))
		json_object_set_new(root, "member_count_total",
				    json_integer(s->hdr.member_count));
	for (uint32_t i = 0; i < k; i++) {
		m = ctl_member_json(s, v[i], now);
		if (m == NULL || json_array_append_new(arr, m) != 0) {
			json_decref(arr);
			json_decref(root);
			free(v);
			ctl_err("out of memory");
			return -1;
		}
	}
	json_object_set_new(root, "members", arr);
	free(v);
	return ctl_json_print(root);
}

static int
ctl_members_show(const struct gsp_sv_snapshot *s, uint64_t now, bool alive,
		 bool json)
{
	return json ? ctl_members_json(s, now, alive) :
		ctl_print_members(stdout, s, now);
}

int
ctl_cmd_members(const struct ctl_opts *o)
{
	ctl_cur_filter = &o->filter;
	return ctl_view_show(o, ctl_members_show);
}

static void
ctl_on_sigint(int sig)
{
	(void)sig;
	ctl_interrupted = 1;
}

/* Sleeps ms or until SIGINT. */
static void
ctl_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (!ctl_interrupted && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
ctl_cmd_watch(const struct ctl_opts *o)
{
	struct gsp_sv_snapshot s;
	struct sigaction sa;
	char path[PATH_MAX];
	char why[256];
	bool tty = isatty(STDOUT_FILENO);
	long interval = o->interval_set ? o->interval_ms : 1000;
	uint64_t now, t0;
	long elapsed;
	int ret;

	ret = ctl_find_view(o, path, sizeof(path));
	if (ret != 0)
		return ret;
	ctl_cur_filter = &o->filter;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_on_sigint;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: the sleep must end on ^C */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (long i = 0; !ctl_interrupted && (o->count == 0 || i < o->count);
	     i++) {
		t0 = ctl_mono_ms();
		/* reopened each time: a restarted gossipd has a new file */
		ret = ctl_snapshot_why(path, &s, why, sizeof(why));
		if (ret != 0 && i == 0) {
			ctl_err("%s: %s", path, why);
			return CTL_EXIT_FAIL;
		}
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (i > 0)
			fputc('\n', stdout);
		if (ret != 0) {
			fprintf(stdout, "%s: %s\n", path, why);
		} else {
			now = ctl_unix_ns();
			ctl_print_members(stdout, &s, now);
			if (!ctl_check_alive(&s.hdr, now, why, sizeof(why)))
				fprintf(stdout, "warning: %s\n", why);
			gsp_sv_snapshot_free(&s);
		}
		if (fflush(stdout) != 0)
			return CTL_EXIT_FAIL;
		if (o->count != 0 && i + 1 >= o->count)
			break;
		elapsed = (long)(ctl_mono_ms() - t0);
		if (elapsed < interval)
			ctl_sleep_ms(interval - elapsed);
	}
	return CTL_EXIT_OK;
}
