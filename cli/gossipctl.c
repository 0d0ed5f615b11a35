/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipctl: the operator CLI. Reads the status view (members, watch,
 * stats) and talks to the control socket (set, leave, ping, fault). Links
 * only libgsp_sv and jansson: fault specs are parsed by gossipd.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gossipd/status_view.h"
#include "gsp_json.h"
#include "gsp_keyfile.h"
#include "gsp_util.h"	/* header only: no link to the core */
#include "gsp_fault.h"	/* header only */
#include "sv_counters.h"	/* the list, pinned to the view: headers only */

#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_STALE 3

#define NS_PER_S 1000000000ull
#define CTL_STALE_NS (2 * NS_PER_S)
#define CTL_IO_TIMEOUT_MS 3000
#define CTL_TRIES 4			/* a connection evicted unread */
#define CTL_REPLY_MAX 65536
#define CTL_MAX_VIEWS 256		/* candidate files considered */
#define CTL_INTERVAL_MIN_MS 10
#define CTL_INTERVAL_MAX_MS 3600000
#define CTL_NAME_MAX 64
#define CTL_DEFAULT_DIR "/dev/shm"

static const char *ctl_prog = "gossipctl";

struct ctl_opts {
	const char *node;
	const char *cluster;
	const char *view;
	const char *socket;
	const char *dir;		/* where views are searched */
	bool json;
	bool interval_set;
	bool count_set;
	long interval_ms;
	long count;
};

static volatile sig_atomic_t ctl_interrupted;

static void
ctl_usage(FILE *f)
{
	fprintf(f,
"Usage: %s [--node NAME] [--cluster NAME] [--view PATH] [--socket PATH]\n"
"                 COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  members [--json]                    membership table of the node\n"
"  watch [--interval MS] [--count N]   redraw the table every MS (1000) ms,\n"
"                                      N times (0: until interrupted)\n"
"  stats [--json]                      protocol and per-lcore counters\n"
"  set KEY VALUE                       set an application state key\n"
"  leave                               announce a graceful leave\n"
"  ping                                check that gossipd answers\n"
"  fault [--json]                      injected faults and their counters\n"
"  fault set TOKEN...                  add faults: drop=P dup=P reorder=P\n"
"                                      delay=D jitter=D reorder_by=D\n"
"                                      block=IP[:in|:out|:both] unblock=IP|all\n"
"                                      clear (P in [0, 1], D like 5ms)\n"
"  fault clear                         every fault off\n"
"  fault block PEER[:in|:out|:both]    drop traffic with PEER (IPv4 or\n"
"                                      member name; both directions)\n"
"  fault unblock PEER|all              lift a block (docs/FAULTS.md)\n"
"  keys [--json]                       keyring: mode, cipher, key ids\n"
"  keys install FILE                   add the keys of FILE (mode 0600; read\n"
"                                      by gossipd, never sent) to the ring\n"
"  keys use ID                         seal with key ID from now on\n"
"  keys remove ID                      drop key ID (not the primary)\n"
"  keygen                              print a new random key (base64);\n"
"                                      umask 077 before redirecting it\n"
"                                      (docs/SECURITY.md)\n"
"\n"
"Options:\n"
"  -n, --node NAME      node whose view to read (finds %s/gossipd.*.NAME)\n"
"  -c, --cluster NAME   cluster of the node (needed when names clash)\n"
"      --view PATH      status view file to read\n"
"  -s, --socket PATH    control socket (default: named by the view)\n"
"  -j, --json           JSON output (members, stats, fault, keys)\n"
"  -i, --interval MS    watch refresh interval\n"
"      --count N        watch iterations\n"
"  -h, --help           this help\n"
"\n"
"Environment: GOSSIPCTL_VIEW_DIR replaces %s as the directory searched.\n"
"\n"
"Exit status: 0 ok, 1 error, 2 usage error, 3 gossipd not running or\n"
"not updating its view (the data shown is stale).\n",
		ctl_prog, CTL_DEFAULT_DIR, CTL_DEFAULT_DIR);
}

static int
ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
ctl_verr(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", ctl_prog);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
}

static int
ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verr(fmt, ap);
	va_end(ap);
	ctl_usage(stderr);
	return CTL_EXIT_USAGE;
}

static void
ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
ctl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verr(fmt, ap);
	va_end(ap);
}

static uint64_t
ctl_unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t
ctl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Printable ASCII only: names come from the network via the view. */
static const char *
ctl_safe(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < len && s[i] != '\0'; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static bool
ctl_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CTL_NAME_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!gsp_name_char_ok(*s))
			return false;
	return true;
}

static bool
ctl_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* ---------------------------------------------------------------------- */
/* finding and reading the view */

/* A specific reason for -EPROTO from gsp_sv_open(). */
static void
ctl_explain_bad_view(const char *path, char *why, size_t len)
{
	struct gsp_sv_header h;
	ssize_t n = -1;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		n = pread(fd, &h, sizeof(h), 0);
		close(fd);
	}
	if (n < (ssize_t)offsetof(struct gsp_sv_header, header_size))
		snprintf(why, len, "not a gossipd status view (too short or "
			 "not a file)");
	else if (h.magic != GSP_SV_MAGIC)
		snprintf(why, len, "not a gossipd status view (bad magic)");
	else if (h.major != GSP_SV_MAJOR)
		snprintf(why, len, "status view format %u.%u is not supported "
			 "by this gossipctl (it reads major version %d)",
			 h.major, h.minor, GSP_SV_MAJOR);
	else
		snprintf(why, len, "corrupt status view (sizes or offsets do "
			 "not fit the file; truncated?)");
}

static void
ctl_explain_open(const char *path, int ret, char *why, size_t len)
{
	if (ret == -ENOENT)
		snprintf(why, len, "no such status view (is gossipd running?)");
	else if (ret == -EPROTO)
		ctl_explain_bad_view(path, why, len);
	else
		snprintf(why, len, "%s", strerror(-ret));
}

static void
ctl_explain_read(int ret, char *why, size_t len)
{
	if (ret == -EAGAIN)
		snprintf(why, len, "no consistent snapshot after many tries "
			 "(writer too busy, or it died in the middle of an "
			 "update)");
	else if (ret == -EPROTO)
		snprintf(why, len, "corrupt status view (counts beyond "
			 "capacity or layout changed)");
	else if (ret == -ESTALE)
		snprintf(why, len, "the status view was truncated while being "
			 "read, twice (something else writes to it?)");
	else
		snprintf(why, len, "%s", strerror(-ret));
}

/* Opens and snapshots a view; 0 or -errno, with the reason in why. */
static int
ctl_snapshot_why(const char *path, struct gsp_sv_snapshot *snap, char *why,
		 size_t len)
{
	struct gsp_sv_reader *r;
	int ret;

	memset(snap, 0, sizeof(*snap));
	ret = gsp_sv_open(path, &r);
	if (ret != 0) {
		ctl_explain_open(path, ret, why, len);
		return ret;
	}
	ret = gsp_sv_read(r, snap);
	gsp_sv_close(r);
	if (ret != 0)
		ctl_explain_read(ret, why, len);
	return ret;
}

/* As ctl_snapshot_why(), the reason printed unless quiet. */
static int
ctl_snapshot(const char *path, struct gsp_sv_snapshot *snap, bool quiet)
{
	char why[256];
	int ret = ctl_snapshot_why(path, snap, why, sizeof(why));

	if (ret != 0 && !quiet)
		ctl_err("%s: %s", path, why);
	return ret;
}

/*
 * Keeps the glob results that are views of the wanted node/cluster.
 * Files that cannot be read (permissions) are kept: the later open names
 * the problem.
 */
static size_t
ctl_filter_views(glob_t *g, const struct ctl_opts *o, char **keep,
		 char names[][CTL_NAME_MAX * 3], size_t max)
{
	struct gsp_sv_snapshot snap;
	char c[CTL_NAME_MAX], n[CTL_NAME_MAX];
	size_t k = 0;
	int ret;

	for (size_t i = 0; i < g->gl_pathc && k < max; i++) {
		ret = ctl_snapshot(g->gl_pathv[i], &snap, true);
		if (ret == -EPROTO || ret == -ENOENT)
			continue;
		if (ret == 0) {
			/* "a.b.c" is ambiguous, the header is not */
			if ((o->node != NULL &&
			     strcmp(snap.hdr.node_name, o->node) != 0) ||
			    (o->cluster != NULL &&
			     strcmp(snap.hdr.cluster, o->cluster) != 0)) {
				gsp_sv_snapshot_free(&snap);
				continue;
			}
			snprintf(names[k], sizeof(names[k]), "cluster %s, node %s",
				 ctl_safe(c, sizeof(c), snap.hdr.cluster),
				 ctl_safe(n, sizeof(n), snap.hdr.node_name));
			gsp_sv_snapshot_free(&snap);
		} else {
			snprintf(names[k], sizeof(names[k]), "unreadable: %s",
				 strerror(-ret));
		}
		keep[k++] = g->gl_pathv[i];
	}
	return k;
}

/* Resolves the view path from the options; 0, or an exit code. */
static int
ctl_find_view(const struct ctl_opts *o, char *path, size_t len)
{
	static char names[CTL_MAX_VIEWS][CTL_NAME_MAX * 3];
	char *keep[CTL_MAX_VIEWS];
	char pattern[PATH_MAX];
	glob_t g;
	size_t k;
	int n, ret;

	if (o->view != NULL) {
		if (strlen(o->view) >= len) {
			ctl_err("--view: path too long");
			return CTL_EXIT_USAGE;
		}
		snprintf(path, len, "%s", o->view);
		return 0;
	}
	if (o->node != NULL && o->cluster != NULL) {
		n = snprintf(path, len, "%s/gossipd.%s.%s", o->dir, o->cluster,
			     o->node);
		if (n < 0 || (size_t)n >= len) {
			ctl_err("status view path too long");
			return CTL_EXIT_FAIL;
		}
		if (access(path, F_OK) != 0 && errno == ENOENT) {
			ctl_err("no status view for node %s of cluster %s at %s "
				"(is gossipd running?)", o->node, o->cluster,
				path);
			return CTL_EXIT_FAIL;
		}
		return 0;
	}
	snprintf(pattern, sizeof(pattern), "%s/gossipd.%s.%s", o->dir,
		 o->cluster != NULL ? o->cluster : "*",
		 o->node != NULL ? o->node : "*");
	memset(&g, 0, sizeof(g));
	ret = glob(pattern, 0, NULL, &g);
	if (ret != 0 && ret != GLOB_NOMATCH) {
		ctl_err("cannot list %s: %s", o->dir,
			ret == GLOB_NOSPACE ? "out of memory" : "read error");
		globfree(&g);
		return CTL_EXIT_FAIL;
	}
	k = ret == 0 ? ctl_filter_views(&g, o, keep, names, CTL_MAX_VIEWS) : 0;
	if (k == 1) {
		snprintf(path, len, "%s", keep[0]);
		globfree(&g);
		return 0;
	}
	if (k == 0) {
		if (o->node != NULL)
			ctl_err("no status view for node %s in %s (is gossipd "
				"running?)", o->node, o->dir);
		else if (o->cluster != NULL)
			ctl_err("no status view for cluster %s in %s (is "
				"gossipd running?)", o->cluster, o->dir);
		else
			ctl_err("no status view in %s (is gossipd running?)",
				o->dir);
	} else {
		if (o->node != NULL)
			ctl_err("several status views for node %s in %s; use "
				"--cluster to pick one:", o->node, o->dir);
		else
			ctl_err("several status views in %s; use --node (and "
				"--cluster) to pick one:", o->dir);
		for (size_t i = 0; i < k; i++)
			fprintf(stderr, "  %s (%s)\n", keep[i], names[i]);
	}
	globfree(&g);
	return CTL_EXIT_FAIL;
}

/* Says why the writer is not alive; false when it is. */
static bool
ctl_check_alive(const struct gsp_sv_header *h, uint64_t now, char *msg,
		size_t len)
{
	uint64_t age;

	if (gsp_sv_writer_alive(h, now, CTL_STALE_NS))
		return true;
	age = now > h->heartbeat_unix_ns ? now - h->heartbeat_unix_ns : 0;
	if (h->flags & GSP_SV_FLAG_CLOSED)
		snprintf(msg, len, "gossipd (pid %u) has exited; this is its "
			 "last published state", h->writer_pid);
	else if (h->writer_pid == 0 || (kill((pid_t)h->writer_pid, 0) != 0 &&
					errno != EPERM))
		snprintf(msg, len, "gossipd (pid %u) is not running; the view "
			 "is stale", h->writer_pid);
	else
		snprintf(msg, len, "gossipd (pid %u) has not updated its view "
			 "for %.1f s; it may be stuck", h->writer_pid,
			 (double)age / 1e9);
	return false;
}

/* ---------------------------------------------------------------------- */
/* members / watch */

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

/* Sorted pointers into the snapshot; NULL with an error printed. */
static const struct gsp_sv_member **
ctl_sorted_members(const struct gsp_sv_snapshot *s)
{
	const struct gsp_sv_member **v;
	uint32_t n = s->hdr.member_count;

	v = calloc(n > 0 ? n : 1, sizeof(*v));
	if (v == NULL) {
		ctl_err("out of memory for %u members", n);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		v[i] = &s->members[i];
	qsort(v, n, sizeof(*v), ctl_member_cmp);
	return v;
}

enum { COL_NAME, COL_HB, COL_UPD, COL_STATE, COL_ADDR, COL_GEN, COL_PHI,
	COL_N };

#define CTL_CELL 72

static int
ctl_print_members(FILE *f, const struct gsp_sv_snapshot *s, uint64_t now)
{
	static const char *const titles[COL_N] = {
		"Node Name", "Heartbeat", "Last Updated", "State", "Address",
		"Generation", "Phi",
	};
	const struct gsp_sv_member **v;
	uint32_t n = s->hdr.member_count;
	uint64_t cnt[4] = { 0, 0, 0, 0 };
	size_t w[COL_N];
	char (*cells)[COL_N][CTL_CELL];
	char c[CTL_NAME_MAX], nn[CTL_NAME_MAX], name[CTL_NAME_MAX];

	v = ctl_sorted_members(s);
	if (v == NULL)
		return -ENOMEM;
	cells = calloc(n > 0 ? n : 1, sizeof(*cells));
	if (cells == NULL) {
		free(v);
		ctl_err("out of memory for %u members", n);
		return -ENOMEM;
	}
	for (int j = 0; j < COL_N; j++)
		w[j] = strlen(titles[j]);
	for (uint32_t i = 0; i < n; i++) {
		const struct gsp_sv_member *m = v[i];

		if (m->state < 4)
			cnt[m->state]++;
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
		for (int j = 0; j < COL_N; j++)
			if (strlen(cells[i][j]) > w[j])
				w[j] = strlen(cells[i][j]);
	}
	fprintf(f, "cluster %s, node %s, %u member%s (%" PRIu64 " alive, %"
		PRIu64 " suspect, %" PRIu64 " down, %" PRIu64 " left)\n",
		ctl_safe(c, sizeof(c), s->hdr.cluster),
		ctl_safe(nn, sizeof(nn), s->hdr.node_name), n,
		n == 1 ? "" : "s", cnt[0], cnt[1], cnt[2], cnt[3]);
	for (int j = 0; j + 1 < COL_N; j++)
		fprintf(f, "%-*s  ", (int)w[j], titles[j]);
	fprintf(f, "%s\n", titles[COL_N - 1]);
	for (uint32_t i = 0; i < n; i++) {
		for (int j = 0; j + 1 < COL_N; j++)
			fprintf(f, "%-*s  ", (int)w[j], cells[i][j]);
		fprintf(f, "%s\n", cells[i][COL_N - 1]);
	}
	free(cells);
	free(v);
	return 0;
}

/* A counter gossipd sent, as text: "?" when it is not a u64. */
static const char *
ctl_u64_text(const json_t *j, char *buf, size_t len)
{
	uint64_t v;

	if (!gsp_json_u64_value(j, &v))
		return "?";
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static json_t *
ctl_json_str(const char *s)
{
	char buf[256];

	return json_string(ctl_safe(buf, sizeof(buf), s));
}

static json_t *
ctl_json_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
	return json_string(buf);
}

/* Prints the JSON document and frees it; 0 or -1. */
static int
ctl_json_print(json_t *root)
{
	int ret = -1;

	if (root != NULL &&
	    gsp_json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			   JSON_REAL_PRECISION(10)) == 0)
		ret = 0;
	if (ret == 0)
		fputc('\n', stdout);
	else
		ctl_err("cannot build the JSON output");
	json_decref(root);
	return ret;
}

static json_t *
ctl_member_json(const struct gsp_sv_snapshot *s, const struct gsp_sv_member *m,
		uint64_t now)
{
	json_t *o = json_object(), *app = json_object();
	char addr[32];

	if (o == NULL || app == NULL) {
		json_decref(o);
		json_decref(app);
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
	for (unsigned int i = 0; i < m->app_count && i < GSP_SV_APP_KEYS; i++) {
		char key[sizeof(m->app[i].key)];

		ctl_safe(key, sizeof(key), m->app[i].key);
		json_object_set_new(app, key, ctl_json_str(m->app[i].value));
	}
	json_object_set_new(o, "app", app);
	return o;
}

static int
ctl_members_json(const struct gsp_sv_snapshot *s, uint64_t now, bool alive)
{
	const struct gsp_sv_member **v;
	json_t *root, *arr, *m;

	v = ctl_sorted_members(s);
	if (v == NULL)
		return -1;
	root = json_object();
	arr = json_array();
	if (root == NULL || arr == NULL) {
		json_decref(root);
		json_decref(arr);
		free(v);
		ctl_err("out of memory");
		return -1;
	}
	json_object_set_new(root, "cluster", ctl_json_str(s->hdr.cluster));
	json_object_set_new(root, "node", ctl_json_str(s->hdr.node_name));
	json_object_set_new(root, "self_id", ctl_json_hex(s->hdr.self_id));
	json_object_set_new(root, "generation",
			    gsp_json_u64(s->hdr.self_generation));
	json_object_set_new(root, "writer_alive", json_boolean(alive));
	for (uint32_t i = 0; i < s->hdr.member_count; i++) {
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
ctl_cmd_members(const struct ctl_opts *o)
{
	struct gsp_sv_snapshot s;
	char path[PATH_MAX];
	char why[160];
	uint64_t now;
	bool alive;
	int ret;

	ret = ctl_find_view(o, path, sizeof(path));
	if (ret != 0)
		return ret;
	if (ctl_snapshot(path, &s, false) != 0)
		return CTL_EXIT_FAIL;
	now = ctl_unix_ns();
	alive = ctl_check_alive(&s.hdr, now, why, sizeof(why));
	if (o->json)
		ret = ctl_members_json(&s, now, alive);
	else
		ret = ctl_print_members(stdout, &s, now);
	gsp_sv_snapshot_free(&s);
	if (fflush(stdout) != 0 || ret != 0)
		return CTL_EXIT_FAIL;
	if (!alive) {
		ctl_err("warning: %s", why);
		return CTL_EXIT_STALE;
	}
	return CTL_EXIT_OK;
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

static int
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

/* ---------------------------------------------------------------------- */
/* stats */

struct ctl_counter {
	const char *name;
	size_t off;
};

/* offsets into the header of the "counters:" section, in list order;
 * each pinned against the list in sv_counters.h */
#define CTL_COUNTER_MAIN(name, off) { #name, off },
#define CTL_COUNTER_AUTH(name, off)
#define CTL_COUNTER_SECURITY(name, off)
#define CTL_COUNTER_ROW(name, group, kind, minor, view, off, help) \
	CTL_COUNTER_##group(name, off)
static const struct ctl_counter ctl_counters[] = {
	GSP_COUNTERS(CTL_COUNTER_ROW)
};
#undef CTL_COUNTER_MAIN
#undef CTL_COUNTER_AUTH
#undef CTL_COUNTER_SECURITY

/* the security section's counters: shown from their minor on, the AUTH
 * ones in text only when the node authenticates */
struct ctl_sec_counter {
	const char *name;
	size_t off;
	uint16_t minor;
	bool auth;
};

#define CTL_COUNTER_MAIN(name, off, minor)
#define CTL_COUNTER_AUTH(name, off, minor) { #name, off, minor, true },
#define CTL_COUNTER_SECURITY(name, off, minor) { #name, off, minor, false },
#undef CTL_COUNTER_ROW
#define CTL_COUNTER_ROW(name, group, kind, minor, view, off, help) \
	CTL_COUNTER_##group(name, off, minor)
static const struct ctl_sec_counter ctl_sec_counters[] = {
	GSP_COUNTERS(CTL_COUNTER_ROW)
};
#undef CTL_COUNTER_ROW
#undef CTL_COUNTER_MAIN
#undef CTL_COUNTER_AUTH
#undef CTL_COUNTER_SECURITY

#define CTL_L(f) { #f, offsetof(struct gsp_sv_lcore, f) }
static const struct ctl_counter ctl_lcore_fields[] = {
	CTL_L(rx_packets), CTL_L(rx_bytes), CTL_L(tx_packets), CTL_L(tx_bytes),
	CTL_L(rx_not_gossip), CTL_L(rx_parse_errors), CTL_L(tx_dropped),
	CTL_L(tx_no_arp), CTL_L(arp_rx), CTL_L(arp_tx), CTL_L(idle_sleeps),
	CTL_L(rx_handoff), CTL_L(rx_handoff_full), CTL_L(rx_wrong_mac),
	CTL_L(arp_ignored),
};
#undef CTL_L

#define CTL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* the reasons of view minor 3 (up to oversized, 18) are always shown;
 * later slots, implausible (minor 4) included, only when non-zero */
#define CTL_NAMED_DROPS 19
#define CTL_DROPS (GSP_SV_DROP_REASONS + GSP_SV_DROP_REASONS_EXT)

static uint64_t
ctl_field(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)base + off, sizeof(v));
	return v;
}

static bool
ctl_show_drop(const struct gsp_sv_header *h, unsigned int i)
{
	if (h->minor < 3 && i >= 11)	/* older writers: theirs only */
		return gsp_sv_drop_count(h, i) != 0;
	return (i > 0 && i < CTL_NAMED_DROPS) || gsp_sv_drop_count(h, i) != 0;
}

/* the fault counters the core names; later slots only when non-zero */
#define CTL_FAULT_CTRS GSP_FAULT_C_MAX

static json_t *
ctl_faults_json(const struct gsp_sv_header *h)
{
	json_t *o = json_object(), *cnt = json_object();

	if (o == NULL || cnt == NULL) {
		json_decref(o);
		json_decref(cnt);
		return NULL;
	}
	json_object_set_new(o, "active",
			    json_boolean(h->flags & GSP_SV_FLAG_FAULTS));
	for (unsigned int i = 0; i < GSP_SV_FAULT_CTRS; i++)
		if (i < CTL_FAULT_CTRS || h->extra.fault[i] != 0)
			json_object_set_new(cnt, gsp_sv_fault_ctr_name(i),
					    gsp_json_u64(h->extra.fault[i]));
	json_object_set_new(o, "counters", cnt);
	return o;
}

/* minor 3; an older writer says nothing about it */
static json_t *
ctl_security_json(const struct gsp_sv_header *h)
{
	const struct gsp_sv_security *sec = &h->security;
	char id[16];
	json_t *o;

	if (h->minor < 3)
		return json_null();
	snprintf(id, sizeof(id), "%08x", sec->primary_key_id);
	o = json_pack("{s:s,s:s,s:s,s:I}", "mode",
		      sec->mode == GSP_SV_AUTHENTICATED ? "authenticated" :
		      "plaintext", "cipher", gsp_cipher_name(sec->cipher),
		      "primary_key", id, "keys", (json_int_t)sec->n_keys);
	for (size_t i = 0; o != NULL && i < CTL_ARRAY_SIZE(ctl_sec_counters);
	     i++)
		if (h->minor >= ctl_sec_counters[i].minor)
			json_object_set_new(o, ctl_sec_counters[i].name,
				gsp_json_u64(ctl_field(h,
					ctl_sec_counters[i].off)));
	return o;
}

static void
ctl_security_text(const struct gsp_sv_header *h)
{
	const struct gsp_sv_security *sec = &h->security;

	if (h->minor < 3)
		return;
	if (sec->mode != GSP_SV_AUTHENTICATED) {
		printf("\nsecurity: PLAINTEXT (packets neither authenticated "
		       "nor encrypted)\n");
	} else {
		printf("\nsecurity: authenticated, %s, %u key(s), primary "
		       "%08x\n", gsp_cipher_name(sec->cipher), sec->n_keys,
		       sec->primary_key_id);
	}
	for (size_t i = 0; i < CTL_ARRAY_SIZE(ctl_sec_counters); i++) {
		const struct ctl_sec_counter *sc = &ctl_sec_counters[i];

		if (h->minor < sc->minor ||
		    (sc->auth && sec->mode != GSP_SV_AUTHENTICATED))
			continue;
		printf("  %-22s %" PRIu64 "\n", sc->name, ctl_field(h, sc->off));
	}
}

static int
ctl_stats_json(const struct gsp_sv_snapshot *s, bool alive)
{
	json_t *root = json_object(), *cnt = json_object();
	json_t *drop = json_object(), *lcores = json_array(), *l;

	if (root == NULL || cnt == NULL || drop == NULL || lcores == NULL) {
		json_decref(root);
		json_decref(cnt);
		json_decref(drop);
		json_decref(lcores);
		ctl_err("out of memory");
		return -1;
	}
	json_object_set_new(root, "cluster", ctl_json_str(s->hdr.cluster));
	json_object_set_new(root, "node", ctl_json_str(s->hdr.node_name));
	json_object_set_new(root, "writer_alive", json_boolean(alive));
	for (size_t i = 0; i < CTL_ARRAY_SIZE(ctl_counters); i++)
		json_object_set_new(cnt, ctl_counters[i].name, gsp_json_u64(
			ctl_field(&s->hdr, ctl_counters[i].off)));
	for (unsigned int i = 0; i < CTL_DROPS; i++)
		if (ctl_show_drop(&s->hdr, i))
			json_object_set_new(drop, gsp_sv_drop_reason_name(i),
				gsp_json_u64(gsp_sv_drop_count(&s->hdr, i)));
	json_object_set_new(cnt, "rx_drop", drop);
	json_object_set_new(root, "counters", cnt);
	json_object_set_new(root, "faults", ctl_faults_json(&s->hdr));
	json_object_set_new(root, "security", ctl_security_json(&s->hdr));
	for (uint32_t i = 0; i < s->hdr.lcore_count; i++) {
		const struct gsp_sv_lcore *lc = &s->lcores[i];

		l = json_object();
		if (l == NULL)
			break;
		json_object_set_new(l, "lcore", json_integer(lc->lcore_id));
		json_object_set_new(l, "port", json_integer(lc->port_id));
		json_object_set_new(l, "queue", json_integer(lc->queue_id));
		for (size_t j = 0; j < CTL_ARRAY_SIZE(ctl_lcore_fields); j++)
			json_object_set_new(l, ctl_lcore_fields[j].name,
				gsp_json_u64(ctl_field(lc,
					ctl_lcore_fields[j].off)));
		json_array_append_new(lcores, l);
	}
	json_object_set_new(root, "lcores", lcores);
	return ctl_json_print(root);
}

static void
ctl_fmt_uptime(uint64_t start, uint64_t now, char *buf, size_t len)
{
	uint64_t s = start != 0 && now > start ? (now - start) / NS_PER_S : 0;

	if (s >= 86400)
		snprintf(buf, len, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m",
			 s / 86400, s / 3600 % 24, s / 60 % 60);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 "h %" PRIu64 "m %" PRIu64 "s",
			 s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "m %" PRIu64 "s", s / 60, s % 60);
}

static void
ctl_stats_text(const struct gsp_sv_snapshot *s, uint64_t now)
{
	char a[CTL_NAME_MAX], b[CTL_NAME_MAX], up[48], name[40];
	size_t w[CTL_ARRAY_SIZE(ctl_lcore_fields)];
	char num[24];

	ctl_fmt_uptime(s->hdr.start_unix_ns, now, up, sizeof(up));
	printf("cluster %s, node %s, pid %u, up %s\n",
	       ctl_safe(a, sizeof(a), s->hdr.cluster),
	       ctl_safe(b, sizeof(b), s->hdr.node_name), s->hdr.writer_pid, up);
	printf("\ncounters:\n");
	for (size_t i = 0; i < CTL_ARRAY_SIZE(ctl_counters); i++)
		printf("  %-22s %" PRIu64 "\n", ctl_counters[i].name,
		       ctl_field(&s->hdr, ctl_counters[i].off));
	for (unsigned int i = 0; i < CTL_DROPS; i++) {
		if (!ctl_show_drop(&s->hdr, i))
			continue;
		snprintf(name, sizeof(name), "rx_drop.%s",
			 gsp_sv_drop_reason_name(i));
		printf("  %-22s %" PRIu64 "\n", name,
		       gsp_sv_drop_count(&s->hdr, i));
	}

	ctl_security_text(&s->hdr);
	printf("\nfault injection: %s\n", (s->hdr.flags & GSP_SV_FLAG_FAULTS) ?
	       "ON (see gossipctl fault)" : "off");
	for (unsigned int i = 0; i < GSP_SV_FAULT_CTRS; i++)
		if (i < CTL_FAULT_CTRS || s->hdr.extra.fault[i] != 0)
			printf("  %-22s %" PRIu64 "\n", gsp_sv_fault_ctr_name(i),
			       s->hdr.extra.fault[i]);

	printf("\nlcores:\n");
	if (s->hdr.lcore_count == 0) {
		printf("  (none reported)\n");
		return;
	}
	for (size_t j = 0; j < CTL_ARRAY_SIZE(ctl_lcore_fields); j++) {
		w[j] = strlen(ctl_lcore_fields[j].name);
		for (uint32_t i = 0; i < s->hdr.lcore_count; i++) {
			snprintf(num, sizeof(num), "%" PRIu64, ctl_field(
				&s->lcores[i], ctl_lcore_fields[j].off));
			if (strlen(num) > w[j])
				w[j] = strlen(num);
		}
	}
	printf("%-5s  %-4s  %-5s", "lcore", "port", "queue");
	for (size_t j = 0; j < CTL_ARRAY_SIZE(ctl_lcore_fields); j++)
		printf("  %*s", (int)w[j], ctl_lcore_fields[j].name);
	printf("\n");
	for (uint32_t i = 0; i < s->hdr.lcore_count; i++) {
		const struct gsp_sv_lcore *lc = &s->lcores[i];

		printf("%-5u  %-4u  %-5u", lc->lcore_id, lc->port_id,
		       lc->queue_id);
		for (size_t j = 0; j < CTL_ARRAY_SIZE(ctl_lcore_fields); j++)
			printf("  %*" PRIu64, (int)w[j],
			       ctl_field(lc, ctl_lcore_fields[j].off));
		printf("\n");
	}
}

static int
ctl_cmd_stats(const struct ctl_opts *o)
{
	struct gsp_sv_snapshot s;
	char path[PATH_MAX];
	char why[160];
	uint64_t now;
	bool alive;
	int ret = 0;

	ret = ctl_find_view(o, path, sizeof(path));
	if (ret != 0)
		return ret;
	if (ctl_snapshot(path, &s, false) != 0)
		return CTL_EXIT_FAIL;
	now = ctl_unix_ns();
	alive = ctl_check_alive(&s.hdr, now, why, sizeof(why));
	if (o->json)
		ret = ctl_stats_json(&s, alive);
	else
		ctl_stats_text(&s, now);
	gsp_sv_snapshot_free(&s);
	if (fflush(stdout) != 0 || ret != 0)
		return CTL_EXIT_FAIL;
	if (!alive) {
		ctl_err("warning: %s", why);
		return CTL_EXIT_STALE;
	}
	return CTL_EXIT_OK;
}

/* ---------------------------------------------------------------------- */
/* control socket */

static int
ctl_socket_path(const struct ctl_opts *o, char *buf, size_t len)
{
	struct gsp_sv_snapshot s;
	char path[PATH_MAX];
	int ret;

	if (o->socket != NULL) {
		snprintf(buf, len, "%s", o->socket);
		return 0;
	}
	ret = ctl_find_view(o, path, sizeof(path));
	if (ret != 0)
		return ret;
	if (ctl_snapshot(path, &s, false) != 0)
		return CTL_EXIT_FAIL;
	snprintf(buf, len, "%s", s.hdr.control_socket);
	gsp_sv_snapshot_free(&s);
	if (buf[0] == '\0') {
		ctl_err("%s names no control socket; use --socket", path);
		return CTL_EXIT_FAIL;
	}
	return 0;
}

/* Sends one request line and returns the parsed reply, or NULL. */
static json_t *
ctl_request(const char *sock, json_t *req)
{
	struct timeval tv = { CTL_IO_TIMEOUT_MS / 1000, 0 };
	struct sockaddr_un sa;
	char *buf = NULL, *line = NULL, *nl = NULL;
	size_t len = 0, off = 0;
	json_error_t jerr;
	json_t *reply = NULL;
	struct pollfd pfd;
	uint64_t deadline, now;
	ssize_t r;
	int send_err = 0;
	int fd, left;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		ctl_err("%s: socket path longer than %zu bytes", sock,
			sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	line = gsp_json_dumps(req, JSON_COMPACT);
	buf = malloc(CTL_REPLY_MAX + 1);
	if (line == NULL || buf == NULL) {
		ctl_err("out of memory");
		goto out_free;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ctl_err("socket: %s", strerror(errno));
		goto out_free;
	}
	/* bounds a connect to a daemon whose accept backlog is full */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			ctl_err("%s: %s (is gossipd running?)", sock,
				strerror(errno));
		else if (errno == EACCES || errno == EPERM)
			ctl_err("%s: %s (run as root or as the gossipd user)",
				sock, strerror(errno));
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			ctl_err("%s: connect timed out after %d s", sock,
				CTL_IO_TIMEOUT_MS / 1000);
		else
			ctl_err("%s: %s", sock, strerror(errno));
		goto out_close;
	}
	len = strlen(line);
	/* the reply needs the newline; json_dumps did not add one */
	for (size_t sent = 0; sent <= len;) {
		const char *p = sent < len ? line + sent : "\n";
		size_t n = sent < len ? len - sent : 1;

		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		/* gossipd may have refused us with a reply, then closed */
		if (r < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			send_err = errno;
			break;
		}
		if (r <= 0) {
			ctl_err("%s: send: %s", sock, r < 0 ?
				(errno == EAGAIN ? "timed out" : strerror(errno)) :
				"connection closed");
			goto out_close;
		}
		sent += (size_t)r;
	}

	deadline = ctl_mono_ms() + CTL_IO_TIMEOUT_MS;
	while (nl == NULL) {
		if (off >= CTL_REPLY_MAX) {
			ctl_err("%s: reply longer than %d bytes", sock,
				CTL_REPLY_MAX);
			goto out_close;
		}
		now = ctl_mono_ms();
		left = now < deadline ? (int)(deadline - now) : 0;
		if (left <= 0) {
			ctl_err("%s: no reply from gossipd within %d s", sock,
				CTL_IO_TIMEOUT_MS / 1000);
			goto out_close;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ctl_err("poll: %s", strerror(errno));
			goto out_close;
		}
		if (r == 0)
			continue;	/* the deadline check reports it */
		r = recv(fd, buf + off, CTL_REPLY_MAX - off, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0) {
			ctl_err("%s: %s: %s", sock, send_err != 0 ? "send" :
				"recv", strerror(send_err != 0 ? send_err :
						 errno));
			goto out_close;
		}
		if (r == 0) {
			if (send_err != 0)
				ctl_err("%s: send: %s", sock,
					strerror(send_err));
			else
				ctl_err("%s: gossipd closed the connection "
					"without a reply", sock);
			goto out_close;
		}
		nl = memchr(buf + off, '\n', (size_t)r);
		off += (size_t)r;
	}
	reply = gsp_json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
	if (reply == NULL || !json_is_object(reply)) {
		ctl_err("%s: unreadable reply from gossipd: %s", sock,
			reply == NULL ? jerr.text : "not a JSON object");
		json_decref(reply);
		reply = NULL;
	}
out_close:
	close(fd);
out_free:
	free(buf);
	free(line);
	return reply;
}

/* Sends req (taken); an exit code, and on success the reply in *out
 * (or "ok" printed when out is NULL). gossipd's error is printed as is. */
static int
ctl_socket_call(const struct ctl_opts *o, json_t *req, json_t **out)
{
	char sock[PATH_MAX];
	json_t *reply, *ok, *err;
	int ret;

	if (req == NULL) {
		ctl_err("cannot build the request (arguments must be UTF-8)");
		return CTL_EXIT_USAGE;
	}
	ret = ctl_socket_path(o, sock, sizeof(sock));
	if (ret != 0) {
		json_decref(req);
		return ret;
	}
	/* gossipd evicts the connection that waited longest when all its
	 * slots are taken; "retry": our request was not read, send it again */
	for (int i = 0; i < CTL_TRIES; i++) {
		reply = ctl_request(sock, req);
		if (reply == NULL ||
		    !json_is_true(json_object_get(reply, "retry")) ||
		    i + 1 == CTL_TRIES)
			break;
		json_decref(reply);
	}
	json_decref(req);
	if (reply == NULL)
		return CTL_EXIT_FAIL;
	ok = json_object_get(reply, "ok");
	err = json_object_get(reply, "error");
	if (json_is_true(ok)) {
		if (out == NULL) {
			printf("ok\n");
			json_decref(reply);
		} else {
			*out = reply;
		}
		ret = CTL_EXIT_OK;
	} else {
		char safe[512];

		ctl_err("%s", json_is_string(err) ?
			ctl_safe(safe, sizeof(safe), json_string_value(err)) :
			"request failed (no error given)");
		json_decref(reply);
		ret = CTL_EXIT_FAIL;
	}
	if (fflush(stdout) != 0)
		ret = CTL_EXIT_FAIL;
	return ret;
}

/* A request whose reply is shown: with --json printed here whole (and
 * freed by ctl_json_print: *reply NULL after), else handed back without
 * its "ok" for the caller's text. */
static int
ctl_call_reply(const struct ctl_opts *o, json_t *req, json_t **reply)
{
	int ret = ctl_socket_call(o, req, reply);

	if (ret != CTL_EXIT_OK)
		return ret;
	json_object_del(*reply, "ok");
	if (!o->json)
		return CTL_EXIT_OK;
	ret = ctl_json_print(*reply) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
	*reply = NULL;
	return fflush(stdout) != 0 ? CTL_EXIT_FAIL : ret;
}

static int
ctl_cmd_socket(const struct ctl_opts *o, json_t *req)
{
	return ctl_socket_call(o, req, NULL);
}

/* ---------------------------------------------------------------------- */
/* fault: specs are parsed by gossipd, the one parser (gsp_fault_parse) */

static json_t *
ctl_fault_request(const char *op, char **args, int nargs)
{
	json_t *req;
	char *spec;
	size_t len = 0, off = 0;

	if (strcmp(op, "show") == 0 || strcmp(op, "clear") == 0)
		return json_pack("{s:s,s:s}", "cmd", "fault", "op", op);
	if (strcmp(op, "block") == 0 || strcmp(op, "unblock") == 0)
		return json_pack("{s:s,s:s,s:s}", "cmd", "fault", "op", op,
				 "peer", args[0]);
	/* set: the tokens, one spec separated by blanks */
	for (int i = 0; i < nargs; i++)
		len += strlen(args[i]) + 1;
	spec = malloc(len + 1);
	if (spec == NULL)
		return NULL;
	spec[0] = '\0';
	for (int i = 0; i < nargs; i++)
		off += (size_t)snprintf(spec + off, len + 1 - off, "%s%s",
					i > 0 ? " " : "", args[i]);
	req = json_pack("{s:s,s:s,s:s}", "cmd", "fault", "op", "set", "spec",
			spec);
	free(spec);
	return req;
}

static int
ctl_cmd_fault(const struct ctl_opts *o, const char *op, char **args,
	      int nargs)
{
	json_t *reply = NULL, *spec, *cnt, *v;
	const char *key;
	char safe[4096], num[24];
	int ret;

	ret = ctl_call_reply(o, ctl_fault_request(op, args, nargs), &reply);
	if (ret != CTL_EXIT_OK || reply == NULL)
		return ret;
	spec = json_object_get(reply, "spec");
	cnt = json_object_get(reply, "counters");
	printf("faults: %s\n", json_is_string(spec) ?
	       ctl_safe(safe, sizeof(safe), json_string_value(spec)) : "?");
	json_object_foreach(cnt, key, v)
		printf("  %-12s %s\n", ctl_safe(safe, 64, key),
		       ctl_u64_text(v, num, sizeof(num)));
	json_decref(reply);
	return fflush(stdout) != 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

/* ---------------------------------------------------------------------- */
/* keys: the keyring lives in gossipd; key files are read by gossipd */

static int
ctl_cmd_keys(const struct ctl_opts *o, const char *op, const char *arg)
{
	char path[PATH_MAX], safe[256], num[3][24];
	json_t *req, *reply = NULL, *keys, *k, *v;
	size_t i;
	int ret;

	if (strcmp(op, "list") == 0) {
		req = json_pack("{s:s,s:s}", "cmd", "keys", "op", "list");
	} else if (strcmp(op, "install") == 0) {
		/* gossipd may run elsewhere in the tree: an absolute path */
		if (realpath(arg, path) == NULL) {
			ctl_err("keys install: %s: %s", ctl_safe(safe,
				sizeof(safe), arg), strerror(errno));
			return CTL_EXIT_FAIL;
		}
		req = json_pack("{s:s,s:s,s:s}", "cmd", "keys", "op", op,
				"file", path);
	} else {
		req = json_pack("{s:s,s:s,s:s}", "cmd", "keys", "op", op,
				"id", arg);
	}
	ret = ctl_call_reply(o, req, &reply);
	if (ret != CTL_EXIT_OK || reply == NULL)
		return ret;
	v = json_object_get(reply, "mode");
	if (json_is_string(v) && strcmp(json_string_value(v), "plaintext") == 0) {
		printf("security: PLAINTEXT: packets are neither authenticated "
		       "nor encrypted\n");
		json_decref(reply);
		return fflush(stdout) != 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	}
	v = json_object_get(reply, "cipher");
	printf("security: authenticated, %s\n", json_is_string(v) ?
	       ctl_safe(safe, sizeof(safe), json_string_value(v)) : "?");
	v = json_object_get(reply, "keyring");
	printf("keyring file: %s\n", json_is_string(v) ?
	       ctl_safe(safe, sizeof(safe), json_string_value(v)) : "?");
	keys = json_object_get(reply, "keys");
	json_array_foreach(keys, i, k) {
		v = json_object_get(k, "id");
		printf("  %s%s\n", json_is_string(v) ? ctl_safe(safe, sizeof(safe),
		       json_string_value(v)) : "?",
		       json_is_true(json_object_get(k, "primary")) ?
		       "  primary (seals what this node sends)" : "");
	}
	printf("packets opened with the primary: %s, with another key: %s, "
	       "unknown key (dropped): %s\n",
	       ctl_u64_text(json_object_get(reply, "rx_key_primary"), num[0],
			    sizeof(num[0])),
	       ctl_u64_text(json_object_get(reply, "rx_key_other"), num[1],
			    sizeof(num[1])),
	       ctl_u64_text(json_object_get(reply, "rx_unknown_key"), num[2],
			    sizeof(num[2])));
	json_decref(reply);
	return fflush(stdout) != 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

/* ---------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	enum { OPT_VIEW = 256, OPT_COUNT };
	static const struct option longopts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "view", required_argument, NULL, OPT_VIEW },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts o;
	const char *cmd;
	char **args;
	int nargs;
	int opt;

	memset(&o, 0, sizeof(o));
	o.dir = getenv("GOSSIPCTL_VIEW_DIR");
	if (o.dir == NULL || o.dir[0] == '\0')
		o.dir = CTL_DEFAULT_DIR;
	opterr = 0;
	/* options may come before or after the command */
	while ((opt = getopt_long(argc, argv, ":n:c:s:ji:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (!ctl_name_ok(optarg))
				return ctl_usage_error("--node: \"%s\" is not a "
					"node name ([A-Za-z0-9_.-], 1..63)",
					optarg);
			o.node = optarg;
			break;
		case 'c':
			if (!ctl_name_ok(optarg) || strlen(optarg) > 31)
				return ctl_usage_error("--cluster: \"%s\" is not "
					"a cluster name ([A-Za-z0-9_.-], 1..31)",
					optarg);
			o.cluster = optarg;
			break;
		case OPT_VIEW:
			o.view = optarg;
			break;
		case 's':
			o.socket = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'i':
			if (!ctl_parse_long(optarg, CTL_INTERVAL_MIN_MS,
					    CTL_INTERVAL_MAX_MS, &o.interval_ms))
				return ctl_usage_error("--interval: \"%s\" is not "
					"a number of milliseconds in %d..%d",
					optarg, CTL_INTERVAL_MIN_MS,
					CTL_INTERVAL_MAX_MS);
			o.interval_set = true;
			break;
		case OPT_COUNT:
			if (!ctl_parse_long(optarg, 0, LONG_MAX, &o.count))
				return ctl_usage_error("--count: \"%s\" is not a "
					"non-negative number", optarg);
			o.count_set = true;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		case ':':
			return ctl_usage_error("option %s needs an argument",
					       argv[optind - 1]);
		default:
			if (optopt != 0)
				return ctl_usage_error("unknown option -%c",
						       optopt);
			return ctl_usage_error("unknown option %s",
					       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return ctl_usage_error("no command given");
	cmd = argv[optind];
	args = argv + optind + 1;
	nargs = argc - optind - 1;
	if (o.view != NULL && (o.node != NULL || o.cluster != NULL))
		return ctl_usage_error("--view cannot be combined with --node "
				       "or --cluster");
	if (o.json && strcmp(cmd, "members") != 0 && strcmp(cmd, "stats") != 0 &&
	    strcmp(cmd, "fault") != 0 && strcmp(cmd, "keys") != 0)
		return ctl_usage_error("--json applies to members, stats, "
				       "fault and keys only");
	if ((o.interval_set || o.count_set) && strcmp(cmd, "watch") != 0)
		return ctl_usage_error("--interval and --count apply to watch "
				       "only");

	if (strcmp(cmd, "members") == 0 || strcmp(cmd, "watch") == 0 ||
	    strcmp(cmd, "stats") == 0 || strcmp(cmd, "leave") == 0 ||
	    strcmp(cmd, "ping") == 0) {
		if (nargs != 0)
			return ctl_usage_error("%s takes no arguments (got "
					       "\"%s\")", cmd, args[0]);
	} else if (strcmp(cmd, "set") == 0) {
		if (nargs != 2)
			return ctl_usage_error("set needs KEY and VALUE (got %d "
					       "argument%s)", nargs,
					       nargs == 1 ? "" : "s");
	} else if (strcmp(cmd, "fault") == 0) {
		const char *op = nargs > 0 ? args[0] : "show";

		if (strcmp(op, "show") == 0 || strcmp(op, "clear") == 0) {
			if (nargs > 1)
				return ctl_usage_error("fault %s takes no "
					"arguments (got \"%s\")", op, args[1]);
		} else if (strcmp(op, "set") == 0) {
			if (nargs < 2)
				return ctl_usage_error("fault set needs one or "
					"more TOKENs, e.g. drop=0.1 delay=5ms");
		} else if (strcmp(op, "block") == 0 ||
			   strcmp(op, "unblock") == 0) {
			if (nargs != 2)
				return ctl_usage_error("fault %s needs one "
					"PEER (IPv4 address or member name)%s",
					op, strcmp(op, "unblock") == 0 ?
					" or all" : "");
		} else {
			return ctl_usage_error("unknown fault command \"%s\" "
				"(expected set, clear, block or unblock)", op);
		}
		return ctl_cmd_fault(&o, op, nargs > 1 ? args + 1 : args,
				     nargs > 1 ? nargs - 1 : 0);
	} else if (strcmp(cmd, "keys") == 0) {
		const char *op = nargs > 0 ? args[0] : "list";

		if (strcmp(op, "list") == 0) {
			if (nargs > 1)
				return ctl_usage_error("keys list takes no "
					"arguments (got \"%s\")", args[1]);
		} else if (strcmp(op, "install") == 0 || strcmp(op, "use") == 0 ||
			   strcmp(op, "remove") == 0) {
			if (nargs != 2)
				return ctl_usage_error("keys %s needs one %s",
					op, strcmp(op, "install") == 0 ?
					"FILE" : "key ID (8 hex digits)");
		} else {
			return ctl_usage_error("unknown keys command \"%s\" "
				"(expected list, install, use or remove)", op);
		}
		return ctl_cmd_keys(&o, op, nargs > 1 ? args[1] : NULL);
	} else if (strcmp(cmd, "keygen") == 0) {
		char b64[GSP_KEY_B64_LEN + 1];

		if (nargs != 0)
			return ctl_usage_error("keygen takes no arguments");
		gsp_key_generate_b64(b64);
		if (b64[0] == '\0') {
			ctl_err("keygen: libsodium failed to initialise");
			return CTL_EXIT_FAIL;
		}
		printf("%s\n", b64);
		return fflush(stdout) != 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	} else {
		return ctl_usage_error("unknown command \"%s\"", cmd);
	}

	if (strcmp(cmd, "members") == 0)
		return ctl_cmd_members(&o);
	if (strcmp(cmd, "watch") == 0)
		return ctl_cmd_watch(&o);
	if (strcmp(cmd, "stats") == 0)
		return ctl_cmd_stats(&o);
	if (strcmp(cmd, "set") == 0)
		return ctl_cmd_socket(&o, json_pack("{s:s,s:s,s:s}", "cmd",
			"set", "key", args[0], "value", args[1]));
	if (strcmp(cmd, "leave") == 0)
		return ctl_cmd_socket(&o, json_pack("{s:s}", "cmd", "leave"));
	return ctl_cmd_socket(&o, json_pack("{s:s}", "cmd", "ping"));
}
