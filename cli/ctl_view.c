/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Finding and reading a node's status view: the file named by --view, or
 * the one of --node/--cluster among the views in the view directory; a
 * consistent snapshot of it, and whether its writer is alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_int.h"
#include "gsp_util.h"	/* header only: no link to the core */

#define CTL_STALE_NS (2 * NS_PER_S)
#define CTL_MAX_VIEWS 256		/* candidate files considered */

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
int
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
int
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
int
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
bool
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

int
ctl_view_show(const struct ctl_opts *o, ctl_show_fn *show)
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
	ret = show(&s, now, alive, o->json);
	gsp_sv_snapshot_free(&s);
	if (fflush(stdout) != 0 || ret != 0)
		return CTL_EXIT_FAIL;
	if (!alive) {
		ctl_err("warning: %s", why);
		return CTL_EXIT_STALE;
	}
	return CTL_EXIT_OK;
}
