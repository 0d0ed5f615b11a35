/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sv_app.h"
#include "sv_counters.h"
#include "sv_writer.h"

/* grow the backed member area by at least this many records at a time */
#define SV_ALLOC_STEP 64u
/* a live writer that published within this is not replaced */
#define SV_TAKEOVER_STALE_NS (5ull * 1000000000ull)
/* magic, versions and sizes: written once, checked before each publish */
#define SV_FIXED_LEN offsetof(struct gsp_sv_header, seq)
/* what a publish rewrites of the header: everything after seq */
#define SV_LIVE_OFF offsetof(struct gsp_sv_header, writer_pid)

/*
 * The writer never maps the file: it writes with pwrite() from its own
 * copy of the header. Through a mapping, a store into a page that someone
 * truncated away raises SIGBUS and kills the daemon, and no check before
 * the copy can close the window between the check and the store. pwrite()
 * into a truncated file cannot fault: it fails or extends the file again,
 * and gsp_sv_writer_check() sees that at the next publish (the size, or a
 * header start that is no longer ours) and the view is re-created. The
 * readers that map the file see the same page cache as with a mapping.
 */
struct gsp_sv_writer {
	int fd;
	size_t size;
	struct gsp_sv_header hdr;	/* the file's header as last written */
	uint32_t member_capacity;
	uint32_t lcore_capacity;
	uint32_t members_backed;	/* records with tmpfs pages reserved */
	dev_t dev;
	ino_t ino;
	char path[PATH_MAX];
};

static void
sv_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
sv_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint64_t
sv_unix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Copies a string into a fixed field, always NUL terminated. */
static void
sv_strfield(char *dst, size_t len, const char *src)
{
	size_t n = src == NULL ? 0 : strnlen(src, len - 1);

	memset(dst, 0, len);
	if (n > 0)
		memcpy(dst, src, n);
}

/*
 * Refuses to clobber the view of another running instance of the same
 * node: the rename would silently steal it from under that process.
 */
static int
sv_check_takeover(const char *path, char *err, size_t errlen)
{
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot snap;
	int ret;

	if (gsp_sv_open(path, &r) != 0)
		return 0;	/* absent or not a valid view: replace it */
	ret = gsp_sv_read(r, &snap);
	gsp_sv_close(r);
	if (ret != 0)
		return 0;
	ret = 0;
	if (snap.hdr.writer_pid != (uint32_t)getpid() &&
	    gsp_sv_writer_alive(&snap.hdr, sv_unix_now_ns(),
				SV_TAKEOVER_STALE_NS)) {
		sv_err(err, errlen,
		       "status view %s is in use by a running gossipd (pid %u)",
		       path, snap.hdr.writer_pid);
		ret = -EBUSY;
	}
	gsp_sv_snapshot_free(&snap);
	return ret;
}

/* The whole buffer at off, through short writes and signals. */
static int
sv_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * Reserves tmpfs pages for members [0, want) so that a full /dev/shm makes
 * publish return -ENOSPC instead of writing into holes it cannot fill.
 */
static uint32_t
sv_back_members(struct gsp_sv_writer *w, uint32_t want)
{
	uint32_t inc;
	off_t off;

	if (want <= w->members_backed)
		return want;
	/* grow geometrically so a growing table is not fallocated per call */
	inc = want - w->members_backed;
	if (inc < w->members_backed)
		inc = w->members_backed;
	if (inc < SV_ALLOC_STEP)
		inc = SV_ALLOC_STEP;
	if (inc > w->member_capacity - w->members_backed)
		inc = w->member_capacity - w->members_backed;
	/* on failure halve the step: back as many records as fit */
	while (inc > 0 && w->members_backed < want) {
		off = (off_t)w->hdr.member_offset +
			(off_t)w->members_backed * GSP_SV_MEMBER_STRIDE;
		if (posix_fallocate(w->fd, off,
				    (off_t)inc * GSP_SV_MEMBER_STRIDE) == 0) {
			w->members_backed += inc;
			if (inc > want - w->members_backed)
				inc = want - w->members_backed;
		} else {
			inc /= 2;
		}
	}
	return w->members_backed < want ? w->members_backed : want;
}

/* ".NAME.XXXXXX" next to path: hidden from "gossipd.*" globs. */
static int
sv_temp_name(const char *path, char *tmp, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(tmp, len, ".%s.XXXXXX", path);
	else
		n = snprintf(tmp, len, "%.*s/.%s.XXXXXX",
			     (int)(slash - path), path, slash + 1);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * A new file under a temporary name (tmp, PATH_MAX) with w->hdr in it, its
 * header and lcore pages backed, magic written last. The fd, or -errno
 * with a message in err (nothing left behind).
 */
static int
sv_file_make(const struct gsp_sv_writer *w, char *tmp, char *err,
	     size_t errlen)
{
	const struct gsp_sv_header *h = &w->hdr;
	const uint8_t *raw = (const uint8_t *)h;
	int fd, ret;

	if (sv_temp_name(w->path, tmp, PATH_MAX) != 0) {
		sv_err(err, errlen, "status view %s: path too long", w->path);
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		sv_err(err, errlen, "status view: cannot create %s: %s", tmp,
		       strerror(errno));
		return ret;
	}
	/* readers need no privilege; mkostemp made it 0600 */
	if (fchmod(fd, 0644) != 0 || ftruncate(fd, (off_t)w->size) != 0) {
		ret = -errno;
		sv_err(err, errlen, "status view: cannot size %s to %zu bytes: %s",
		       tmp, w->size, strerror(errno));
		goto fail;
	}
	/* header and lcores are always written: back them now */
	ret = posix_fallocate(fd, 0, GSP_SV_HEADER_SIZE);
	if (ret == 0 && w->lcore_capacity > 0)
		ret = posix_fallocate(fd, (off_t)h->lcore_offset,
				      (off_t)(w->size - h->lcore_offset));
	if (ret != 0) {
		sv_err(err, errlen, "status view: cannot allocate %s: %s", tmp,
		       strerror(ret));
		ret = -ret;
		goto fail;
	}
	/* magic last: a valid magic implies valid sizes */
	ret = sv_pwrite(fd, raw + sizeof(h->magic), sizeof(*h) -
			sizeof(h->magic), (off_t)sizeof(h->magic));
	if (ret == 0)
		ret = sv_pwrite(fd, &h->magic, sizeof(h->magic), 0);
	if (ret != 0) {
		sv_err(err, errlen, "status view: cannot write %s: %s", tmp,
		       strerror(-ret));
		goto fail;
	}
	return fd;

fail:
	unlink(tmp);
	close(fd);
	return ret;
}

int
gsp_sv_writer_create(const struct gsp_sv_writer_params *p,
		     struct gsp_sv_writer **out, char *err, size_t errlen)
{
	struct gsp_sv_writer *w = NULL;
	struct gsp_sv_header *h;
	char tmp[PATH_MAX];
	uint64_t member_off, lcore_off, size, now;
	struct stat st;
	int fd;
	int ret;

	*out = NULL;
	if (p == NULL || p->path == NULL || p->path[0] == '\0') {
		sv_err(err, errlen, "status view: no path configured");
		return -EINVAL;
	}
	if (p->member_capacity == 0) {
		sv_err(err, errlen, "status view %s: member capacity is 0",
		       p->path);
		return -EINVAL;
	}
	if (p->cluster == NULL || p->node_name == NULL) {
		sv_err(err, errlen, "status view %s: cluster or node name missing",
		       p->path);
		return -EINVAL;
	}
	if (p->control_socket != NULL &&
	    strlen(p->control_socket) >= sizeof(h->control_socket)) {
		sv_err(err, errlen,
		       "status view %s: control socket path longer than %zu bytes",
		       p->path, sizeof(h->control_socket) - 1);
		return -ENAMETOOLONG;
	}
	/* offsets are 32-bit in the ABI */
	member_off = GSP_SV_HEADER_SIZE;
	lcore_off = member_off +
		(uint64_t)p->member_capacity * GSP_SV_MEMBER_STRIDE;
	size = lcore_off + (uint64_t)p->lcore_capacity * GSP_SV_LCORE_STRIDE;
	if (lcore_off > UINT32_MAX || size > (uint64_t)SIZE_MAX / 2) {
		sv_err(err, errlen,
		       "status view %s: capacity of %u members is too large",
		       p->path, p->member_capacity);
		return -EFBIG;
	}
	if (strlen(p->path) >= sizeof(w->path) ||
	    sv_temp_name(p->path, tmp, sizeof(tmp)) != 0) {
		sv_err(err, errlen, "status view %s: path too long", p->path);
		return -ENAMETOOLONG;
	}

	ret = sv_check_takeover(p->path, err, errlen);
	if (ret != 0)
		return ret;

	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		sv_err(err, errlen, "status view %s: out of memory", p->path);
		return -ENOMEM;
	}
	w->fd = -1;
	w->size = (size_t)size;
	w->member_capacity = p->member_capacity;
	w->lcore_capacity = p->lcore_capacity;
	snprintf(w->path, sizeof(w->path), "%s", p->path);

	/* the whole header; the counts and counters start at zero */
	h = &w->hdr;
	now = sv_unix_now_ns();
	h->magic = GSP_SV_MAGIC;
	h->major = GSP_SV_MAJOR;
	h->minor = GSP_SV_MINOR;
	h->header_size = GSP_SV_HEADER_SIZE;
	h->total_size = size;
	h->seq = 0;
	h->writer_pid = (uint32_t)getpid();
	h->start_unix_ns = now;
	h->heartbeat_unix_ns = now;
	h->member_offset = (uint32_t)member_off;
	h->member_stride = GSP_SV_MEMBER_STRIDE;
	h->member_capacity = p->member_capacity;
	h->lcore_offset = (uint32_t)lcore_off;
	h->lcore_stride = GSP_SV_LCORE_STRIDE;
	h->lcore_capacity = p->lcore_capacity;
	h->self_ip = p->self_ip;
	h->self_port = p->self_port;
	h->gossip_interval_ns = p->gossip_interval_ns;
	h->phi_convict_milli = p->phi_convict_milli;
	sv_strfield(h->cluster, sizeof(h->cluster), p->cluster);
	sv_strfield(h->node_name, sizeof(h->node_name), p->node_name);
	sv_strfield(h->control_socket, sizeof(h->control_socket),
		    p->control_socket);

	fd = sv_file_make(w, tmp, err, errlen);
	if (fd < 0) {
		free(w);
		return fd;
	}
	if (fstat(fd, &st) != 0 || rename(tmp, p->path) != 0) {
		ret = -errno;
		sv_err(err, errlen, "status view: cannot rename %s to %s: %s",
		       tmp, p->path, strerror(errno));
		unlink(tmp);
		close(fd);
		free(w);
		return ret;
	}
	w->fd = fd;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	*out = w;
	return 0;
}

/*
 * seq in the file. The full fences order the pwrite()s around it for the
 * readers that map the file (the kernel's copies run on this CPU in
 * program order). Going odd changes only bit 0, so even a reader that
 * copies seq byte by byte (pread) never sees a value that was not there.
 */
static int
sv_seq_store(struct gsp_sv_writer *w)
{
	int ret;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ret = sv_pwrite(w->fd, &w->hdr.seq, sizeof(w->hdr.seq),
			(off_t)offsetof(struct gsp_sv_header, seq));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ret;
}

static int
sv_begin(struct gsp_sv_writer *w)
{
	/* odd: readers that overlap this update will retry. Already odd
	 * after a failed publish: the next odd value, never an even one */
	w->hdr.seq = (w->hdr.seq + 1) | 1;
	return sv_seq_store(w);
}

static int
sv_end(struct gsp_sv_writer *w)
{
	w->hdr.seq++;
	return sv_seq_store(w);
}

/* Everything of the header after seq, from our copy. */
static int
sv_write_live_header(struct gsp_sv_writer *w)
{
	return sv_pwrite(w->fd, (const uint8_t *)&w->hdr + SV_LIVE_OFF,
			 sizeof(w->hdr) - SV_LIVE_OFF, (off_t)SV_LIVE_OFF);
}

int
gsp_sv_writer_publish(struct gsp_sv_writer *w, const struct gsp_sv_update *u)
{
	struct gsp_sv_header *h = &w->hdr;
	uint32_t nm = u->members == NULL ? 0 : u->n_members;
	uint32_t nl = u->lcores == NULL ? 0 : u->n_lcores;
	uint32_t backed;
	int nospace = 0;
	int ret;

	if (nm > w->member_capacity)
		nm = w->member_capacity;
	if (nl > w->lcore_capacity)
		nl = w->lcore_capacity;
	/* outside the odd window: fallocate can be slow */
	backed = sv_back_members(w, nm);
	if (backed < nm) {
		nm = backed;
		nospace = -ENOSPC;
	}

	ret = sv_begin(w);
	if (ret == 0 && nm > 0)
		ret = sv_pwrite(w->fd, u->members,
				(size_t)nm * GSP_SV_MEMBER_STRIDE,
				(off_t)h->member_offset);
	if (ret == 0 && nl > 0)
		ret = sv_pwrite(w->fd, u->lcores,
				(size_t)nl * GSP_SV_LCORE_STRIDE,
				(off_t)h->lcore_offset);
	if (u->counters != NULL)
		h->counters = *u->counters;
	if (u->extra != NULL)
		h->extra = *u->extra;
	if (u->security != NULL)
		h->security = *u->security;
	if (u->view != NULL)
		h->view = *u->view;
	if (u->counters_from != NULL)
		gsp_sv_counters_copy(h, u->counters_from);
	h->flags = u->faults ? h->flags | GSP_SV_FLAG_FAULTS :
		h->flags & ~GSP_SV_FLAG_FAULTS;
	h->self_id = u->self_id;
	h->self_generation = u->self_generation;
	h->heartbeat_unix_ns = u->now_unix_ns;
	h->member_count = nm;
	h->lcore_count = nl;
	if (ret == 0)
		ret = sv_write_live_header(w);
	/* a failed write leaves seq odd: better no view than a torn one */
	if (ret == 0)
		ret = sv_end(w);
	return ret != 0 ? ret : nospace;
}

uint32_t
gsp_sv_writer_member_capacity(const struct gsp_sv_writer *w)
{
	return w->member_capacity;
}

uint32_t
gsp_sv_writer_lcore_capacity(const struct gsp_sv_writer *w)
{
	return w->lcore_capacity;
}

static bool
sv_all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static void
sv_detail(char *d, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
sv_detail(char *d, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(d, len, fmt, ap);
	va_end(ap);
}

enum gsp_sv_file
gsp_sv_writer_check(struct gsp_sv_writer *w, char *detail, size_t detail_len)
{
	uint8_t head[SV_FIXED_LEN];
	struct stat st;
	ssize_t n;

	sv_detail(detail, detail_len, "%s", "");
	if (stat(w->path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			sv_detail(detail, detail_len, "no file at the path");
			return GSP_SV_FILE_REMOVED;
		}
		return GSP_SV_FILE_OK;	/* cannot tell: keep publishing */
	}
	if (st.st_dev != w->dev || st.st_ino != w->ino) {
		sv_detail(detail, detail_len, "the path names inode %llu, not "
			  "%llu", (unsigned long long)st.st_ino,
			  (unsigned long long)w->ino);
		return GSP_SV_FILE_REPLACED;
	}
	if ((uint64_t)st.st_size < w->size) {
		sv_detail(detail, detail_len, "%llu of %zu bytes left",
			  (unsigned long long)st.st_size, w->size);
		return GSP_SV_FILE_TRUNCATED;
	}
	n = pread(w->fd, head, sizeof(head), 0);
	if (n == (ssize_t)sizeof(head) && memcmp(head, &w->hdr,
						 sizeof(head)) == 0)
		return GSP_SV_FILE_OK;
	/* zeros: cut while we wrote, and our pwrite()s extended it again */
	if (n < (ssize_t)sizeof(head) || sv_all_zero(head, sizeof(head))) {
		sv_detail(detail, detail_len, "its header was zeroed");
		return GSP_SV_FILE_TRUNCATED;
	}
	sv_detail(detail, detail_len, "its header is not the one gossipd "
		  "wrote");
	return GSP_SV_FILE_OVERWRITTEN;
}

const char *
gsp_sv_file_name(enum gsp_sv_file f)
{
	switch (f) {
	case GSP_SV_FILE_OK:
		return "intact";
	case GSP_SV_FILE_TRUNCATED:
		return "truncated";
	case GSP_SV_FILE_OVERWRITTEN:
		return "overwritten";
	case GSP_SV_FILE_REPLACED:
		return "replaced";
	case GSP_SV_FILE_REMOVED:
		return "removed";
	}
	return "changed";
}

int
gsp_sv_writer_recreate(struct gsp_sv_writer *w, const struct gsp_sv_update *u,
		       char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int old_fd = w->fd;
	uint32_t old_backed = w->members_backed;
	struct stat st;
	int fd, ret;

	/* the file at the path may be a view another live gossipd owns */
	ret = sv_check_takeover(w->path, err, errlen);
	if (ret != 0)
		return ret;
	fd = sv_file_make(w, tmp, err, errlen);
	if (fd < 0)
		return fd;
	/* fill it before it becomes visible: no reader sees it empty */
	w->fd = fd;
	w->members_backed = 0;
	ret = gsp_sv_writer_publish(w, u);
	if (ret != 0 && ret != -ENOSPC) {
		sv_err(err, errlen, "status view: cannot write %s: %s", tmp,
		       strerror(-ret));
		goto fail;
	}
	if (fstat(fd, &st) != 0 || rename(tmp, w->path) != 0) {
		ret = -errno;
		sv_err(err, errlen, "status view: cannot rename %s to %s: %s",
		       tmp, w->path, strerror(errno));
		goto fail;
	}
	close(old_fd);
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	return ret;

fail:
	unlink(tmp);
	close(fd);
	w->fd = old_fd;
	w->members_backed = old_backed;
	return ret;
}

void
gsp_sv_writer_close(struct gsp_sv_writer *w, uint64_t now_unix_ns,
		    bool unlink_file)
{
	struct stat st;

	if (w == NULL)
		return;
	/* a cut file is not written again: that would only refill it */
	if (gsp_sv_writer_check(w, NULL, 0) == GSP_SV_FILE_OK &&
	    sv_begin(w) == 0) {
		w->hdr.flags |= GSP_SV_FLAG_CLOSED;
		w->hdr.heartbeat_unix_ns = now_unix_ns;
		if (sv_write_live_header(w) == 0)
			sv_end(w);
	}
	/* only our own file: a restarted daemon may have replaced it */
	if (unlink_file && stat(w->path, &st) == 0 && st.st_dev == w->dev &&
	    st.st_ino == w->ino)
		unlink(w->path);
	close(w->fd);
	free(w);
}

int
gsp_sv_member_app_add(struct gsp_sv_member *m, uint64_t version,
		      const char *key, size_t klen, const char *value,
		      size_t vlen)
{
	struct gsp_sv_app *a;
	size_t lk, lv;

	if (klen == 0 || klen >= GSP_SV_APP_KEY_MAX ||
	    vlen >= GSP_SV_APP_VALUE_MAX)
		return -EINVAL;
	if (!sv_app_pack(&m->app_ext, version, key, klen, value, vlen))
		return -ENOSPC;
	if (m->app_count >= GSP_SV_APP_KEYS)
		return 0;
	/* the legacy slot: what an old reader can hold, NUL-terminated */
	a = &m->app[m->app_count++];
	lk = klen < sizeof(a->key) - 1 ? klen : sizeof(a->key) - 1;
	lv = vlen < sizeof(a->value) - 1 ? vlen : sizeof(a->value) - 1;
	memset(a, 0, sizeof(*a));
	a->version = version;
	memcpy(a->key, key, lk);
	memcpy(a->value, value, lv);
	return 0;
}
