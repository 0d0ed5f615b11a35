/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sv_writer.h"

/* grow the backed member area by at least this many records at a time */
#define SV_ALLOC_STEP 64u
/* a live writer that published within this is not replaced */
#define SV_TAKEOVER_STALE_NS (5ull * 1000000000ull)

struct gsp_sv_writer {
	int fd;
	uint8_t *base;
	size_t size;
	struct gsp_sv_header *hdr;
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

/*
 * Reserves tmpfs pages for members [0, want) so that a full /dev/shm makes
 * publish return -ENOSPC instead of killing the daemon with SIGBUS.
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
		off = (off_t)w->hdr->member_offset +
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

int
gsp_sv_writer_create(const struct gsp_sv_writer_params *p,
		     struct gsp_sv_writer **out, char *err, size_t errlen)
{
	struct gsp_sv_writer *w = NULL;
	struct gsp_sv_header *h;
	char tmp[PATH_MAX];
	const char *slash;
	uint64_t member_off, lcore_off, size, now;
	struct stat st;
	int fd = -1;
	int ret;
	int n;

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

	/* temp file in the same directory, hidden from "gossipd.*" globs */
	slash = strrchr(p->path, '/');
	if (slash == NULL)
		n = snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", p->path);
	else
		n = snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX",
			     (int)(slash - p->path), p->path, slash + 1);
	if (n < 0 || (size_t)n >= sizeof(tmp) ||
	    strlen(p->path) >= sizeof(w->path)) {
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
	w->base = MAP_FAILED;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		sv_err(err, errlen, "status view: cannot create %s: %s", tmp,
		       strerror(errno));
		goto fail_free;
	}
	/* readers need no privilege; mkostemp made it 0600 */
	if (fchmod(fd, 0644) != 0 || ftruncate(fd, (off_t)size) != 0) {
		ret = -errno;
		sv_err(err, errlen, "status view: cannot size %s to %llu bytes: %s",
		       tmp, (unsigned long long)size, strerror(errno));
		goto fail_unlink;
	}
	/* header and lcores are always written: back them now */
	ret = posix_fallocate(fd, 0, GSP_SV_HEADER_SIZE);
	if (ret == 0 && p->lcore_capacity > 0)
		ret = posix_fallocate(fd, (off_t)lcore_off,
				      (off_t)(size - lcore_off));
	if (ret != 0) {
		sv_err(err, errlen, "status view: cannot allocate %s: %s", tmp,
		       strerror(ret));
		ret = -ret;
		goto fail_unlink;
	}
	w->base = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);
	if (w->base == MAP_FAILED) {
		ret = -errno;
		sv_err(err, errlen, "status view: cannot map %s: %s", tmp,
		       strerror(errno));
		goto fail_unlink;
	}
	w->fd = fd;
	w->size = (size_t)size;
	w->hdr = h = (struct gsp_sv_header *)w->base;
	w->member_capacity = p->member_capacity;
	w->lcore_capacity = p->lcore_capacity;
	snprintf(w->path, sizeof(w->path), "%s", p->path);

	/* everything but magic; the file is fresh so all else is zero */
	now = sv_unix_now_ns();
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
	/* magic last: a valid magic implies valid sizes */
	__atomic_store_n(&h->magic, GSP_SV_MAGIC, __ATOMIC_RELEASE);

	if (fstat(fd, &st) != 0 || rename(tmp, p->path) != 0) {
		ret = -errno;
		sv_err(err, errlen, "status view: cannot rename %s to %s: %s",
		       tmp, p->path, strerror(errno));
		goto fail_unmap;
	}
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	*out = w;
	return 0;

fail_unmap:
	munmap(w->base, (size_t)size);
fail_unlink:
	unlink(tmp);
	close(fd);
fail_free:
	free(w);
	return ret;
}

static void
sv_begin(struct gsp_sv_writer *w)
{
	uint64_t s = w->hdr->seq;

	/* odd: readers that overlap this update will retry */
	__atomic_store_n(&w->hdr->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
sv_end(struct gsp_sv_writer *w)
{
	uint64_t s = w->hdr->seq;

	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&w->hdr->seq, s + 1, __ATOMIC_RELEASE);
}

int
gsp_sv_writer_publish(struct gsp_sv_writer *w, const struct gsp_sv_update *u)
{
	struct gsp_sv_header *h = w->hdr;
	uint32_t nm = u->members == NULL ? 0 : u->n_members;
	uint32_t nl = u->lcores == NULL ? 0 : u->n_lcores;
	uint32_t backed;
	int ret = 0;

	if (nm > w->member_capacity)
		nm = w->member_capacity;
	if (nl > w->lcore_capacity)
		nl = w->lcore_capacity;
	/* outside the odd window: fallocate can be slow */
	backed = sv_back_members(w, nm);
	if (backed < nm) {
		nm = backed;
		ret = -ENOSPC;
	}

	sv_begin(w);
	if (nm > 0)
		memcpy(w->base + h->member_offset, u->members,
		       (size_t)nm * GSP_SV_MEMBER_STRIDE);
	if (nl > 0)
		memcpy(w->base + h->lcore_offset, u->lcores,
		       (size_t)nl * GSP_SV_LCORE_STRIDE);
	if (u->counters != NULL)
		h->counters = *u->counters;
	if (u->extra != NULL)
		h->extra = *u->extra;
	if (u->security != NULL)
		h->security = *u->security;
	h->flags = u->faults ? h->flags | GSP_SV_FLAG_FAULTS :
		h->flags & ~GSP_SV_FLAG_FAULTS;
	h->self_id = u->self_id;
	h->self_generation = u->self_generation;
	h->heartbeat_unix_ns = u->now_unix_ns;
	h->member_count = nm;
	h->lcore_count = nl;
	sv_end(w);
	return ret;
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

void
gsp_sv_writer_close(struct gsp_sv_writer *w, uint64_t now_unix_ns,
		    bool unlink_file)
{
	struct stat st;

	if (w == NULL)
		return;
	sv_begin(w);
	w->hdr->flags |= GSP_SV_FLAG_CLOSED;
	w->hdr->heartbeat_unix_ns = now_unix_ns;
	sv_end(w);
	/* only our own file: a restarted daemon may have replaced it */
	if (unlink_file && stat(w->path, &st) == 0 && st.st_dev == w->dev &&
	    st.st_ino == w->ino)
		unlink(w->path);
	munmap(w->base, w->size);
	close(w->fd);
	free(w);
}
