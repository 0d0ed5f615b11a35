/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libgsp_sv: read-only access to a gossipd status view. Plain C and libc
 * only (no DPDK, no gossip core) because it is installed for users.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gossipd/status_view.h"
#include "sv_app.h"
#include "gsp_counters.h"	/* the lists only: no link to the core */
#include "gsp_util.h"	/* header only: no link to the core */

#ifndef SV_READ_TRIES	/* tests/fuzz: fewer, not to wait on a stuck seq */
#define SV_READ_TRIES 1000
#endif
#define SV_READ_SPINS 16		/* tries that only yield */
#define SV_READ_SLEEP_NS 100000L	/* then sleep this between tries */

/* Layout fields, validated once; they never change for a file. */
struct sv_layout {
	uint64_t total_size;
	uint16_t minor;			/* minor 7 on: app_ext in each record */
	uint32_t header_size;
	uint32_t member_offset;
	uint32_t member_stride;
	uint32_t member_capacity;
	uint32_t lcore_offset;
	uint32_t lcore_stride;
	uint32_t lcore_capacity;
};

/*
 * The reader copies with pread(), never through a mapping: a file that is
 * truncated while we copy (by accident, or by a writer that re-creates it)
 * then gives a short read, not a SIGBUS that would kill the program that
 * links us. A file that shrank is re-opened by path, once per read.
 */
struct gsp_sv_reader {
	int fd;
	struct sv_layout l;
	char *path;
};

static void
sv_layout_get(const struct gsp_sv_header *h, struct sv_layout *l)
{
	l->total_size = h->total_size;
	l->minor = h->minor;
	l->header_size = h->header_size;
	l->member_offset = h->member_offset;
	l->member_stride = h->member_stride;
	l->member_capacity = h->member_capacity;
	l->lcore_offset = h->lcore_offset;
	l->lcore_stride = h->lcore_stride;
	l->lcore_capacity = h->lcore_capacity;
}

static bool
sv_layout_equal(const struct sv_layout *a, const struct sv_layout *b)
{
	return a->total_size == b->total_size && a->minor == b->minor &&
		a->header_size == b->header_size &&
		a->member_offset == b->member_offset &&
		a->member_stride == b->member_stride &&
		a->member_capacity == b->member_capacity &&
		a->lcore_offset == b->lcore_offset &&
		a->lcore_stride == b->lcore_stride &&
		a->lcore_capacity == b->lcore_capacity;
}

/* 64-bit arithmetic: a hostile header cannot overflow these sums. */
static int
sv_layout_check(const struct sv_layout *l, uint64_t file_size)
{
	uint64_t mend, lend;

	if (l->header_size < sizeof(struct gsp_sv_header) ||
	    l->member_stride < GSP_SV_MEMBER_STRIDE_1_0 ||
	    l->lcore_stride < GSP_SV_LCORE_STRIDE_1_0)
		return -EPROTO;
	/* from minor 7 every record carries app_ext */
	if (l->minor >= 7 && l->member_stride < sizeof(struct gsp_sv_member))
		return -EPROTO;
	if (l->total_size > file_size)
		return -EPROTO;		/* truncated */
	mend = (uint64_t)l->member_offset +
		(uint64_t)l->member_capacity * l->member_stride;
	lend = (uint64_t)l->lcore_offset +
		(uint64_t)l->lcore_capacity * l->lcore_stride;
	if (l->member_offset < l->header_size ||
	    l->lcore_offset < l->header_size ||
	    mend > l->total_size || lend > l->total_size)
		return -EPROTO;
	return 0;
}

/* The whole buffer from off: 0, -ESTALE when the file ends before. */
static int
sv_pread(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ESTALE;	/* shorter than its header says */
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Validates the header of the file open at fd; its layout into *l. */
static int
sv_load(int fd, struct sv_layout *l)
{
	struct gsp_sv_header h;
	struct stat st;
	int ret;

	if (fstat(fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < sizeof(struct gsp_sv_header))
		return -EPROTO;
	ret = sv_pread(fd, &h, sizeof(h), 0);
	if (ret != 0)
		return ret == -ESTALE ? -EPROTO : ret;
	if (h.magic != GSP_SV_MAGIC || h.major != GSP_SV_MAJOR)
		return -EPROTO;
	sv_layout_get(&h, l);
	return sv_layout_check(l, (uint64_t)st.st_size);
}

static int
sv_open_fd(const char *path, struct sv_layout *l)
{
	int fd, ret;

	/* O_NONBLOCK: a FIFO planted at the path must not hang us */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ret = sv_load(fd, l);
	if (ret != 0) {
		close(fd);
		return ret;
	}
	return fd;
}

int
gsp_sv_open(const char *path, struct gsp_sv_reader **out)
{
	struct gsp_sv_reader *r;
	int fd;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->path = strdup(path);
	if (r->path == NULL) {
		free(r);
		return -ENOMEM;
	}
	fd = sv_open_fd(path, &r->l);
	if (fd < 0) {
		free(r->path);
		free(r);
		return fd;
	}
	r->fd = fd;
	*out = r;
	return 0;
}

void
gsp_sv_close(struct gsp_sv_reader *r)
{
	if (r == NULL)
		return;
	close(r->fd);
	free(r->path);
	free(r);
}

/* The file shrank under us: whatever is at the path now, if valid. */
static int
sv_reopen(struct gsp_sv_reader *r)
{
	struct sv_layout l;
	int fd = sv_open_fd(r->path, &l);

	if (fd < 0)
		return fd;
	close(r->fd);
	r->fd = fd;
	r->l = l;
	return 0;
}

static void
sv_nul(char *s, size_t len)
{
	s[len - 1] = '\0';
}

/*
 * app_ext of a minor-7 record: count entries that fill exactly `bytes`,
 * each with a key of 1..31 and a value of 0..255 bytes, no NUL in them.
 * Packed entries cannot be clamped like fixed slots: once one length is
 * wrong every later entry is misread, so a bad ext is a corrupt file.
 */
static bool
sv_app_ext_ok(const struct gsp_sv_app_ext *x)
{
	uint32_t off = 0;

	if (x->count > GSP_SV_APP_EXT_KEYS || x->bytes > GSP_SV_APP_DATA)
		return false;
	for (unsigned int i = 0; i < x->count; i++) {
		const uint8_t *p = x->data + off;
		uint32_t klen, vlen;

		if (x->bytes - off < GSP_SV_APP_ENTRY_HDR)
			return false;
		klen = p[8];
		vlen = p[9];
		if (klen == 0 || klen >= GSP_SV_APP_KEY_MAX ||
		    vlen >= GSP_SV_APP_VALUE_MAX ||
		    x->bytes - off - GSP_SV_APP_ENTRY_HDR < klen + vlen)
			return false;
		if (memchr(p + GSP_SV_APP_ENTRY_HDR, '\0', klen + vlen) != NULL)
			return false;
		off += GSP_SV_APP_ENTRY_HDR + klen + vlen;
	}
	return off == x->bytes;
}

/* An older writer's record: app_ext from its legacy slots, so that
 * consumers read app state in one place whatever the writer. */
static void
sv_app_ext_legacy(struct gsp_sv_member *m)
{
	memset(&m->app_ext, 0, sizeof(m->app_ext));
	for (unsigned int i = 0; i < m->app_count; i++) {
		const struct gsp_sv_app *a = &m->app[i];

		/* an empty key cannot be packed: it is left out */
		(void)sv_app_pack(&m->app_ext, a->version, a->key,
				  strlen(a->key), a->value, strlen(a->value));
	}
}

/* Terminates strings, clamps the legacy slots; -EPROTO for a bad ext. */
static int
sv_fix_member(struct gsp_sv_member *m, uint16_t minor)
{
	sv_nul(m->name, sizeof(m->name));
	if (m->app_count > GSP_SV_APP_KEYS)
		m->app_count = GSP_SV_APP_KEYS;
	for (unsigned int i = 0; i < GSP_SV_APP_KEYS; i++) {
		sv_nul(m->app[i].key, sizeof(m->app[i].key));
		sv_nul(m->app[i].value, sizeof(m->app[i].value));
	}
	if (minor < 7) {
		sv_app_ext_legacy(m);
		return 0;
	}
	return sv_app_ext_ok(&m->app_ext) ? 0 : -EPROTO;
}

/* Grows *buf to hold n records; buffers never exceed a validated capacity. */
static int
sv_reserve(void **buf, uint32_t *cap, uint32_t n, size_t rec)
{
	void *p;

	if (n <= *cap)
		return 0;
	p = realloc(*buf, (size_t)n * rec);
	if (p == NULL)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static void
sv_pause(unsigned int attempt)
{
	struct timespec ts = { 0, SV_READ_SLEEP_NS };

	if (attempt < SV_READ_SPINS)
		sched_yield();
	else
		nanosleep(&ts, NULL);
}

/* Records [0, n) of stride bytes at off into out (rec bytes each). */
static int
sv_pread_records(int fd, void *out, uint32_t n, size_t rec, uint64_t off,
		 uint32_t stride)
{
	size_t take = stride < rec ? stride : rec;
	int ret;

	if (n == 0)
		return 0;
	if (stride == rec)
		return sv_pread(fd, out, (size_t)n * rec, off);
	/* an older writer's shorter records: what it lacks reads as 0 */
	if (take < rec)
		memset(out, 0, (size_t)n * rec);
	for (uint32_t i = 0; i < n; i++) {
		ret = sv_pread(fd, (uint8_t *)out + (size_t)i * rec, take,
			       off + (uint64_t)i * stride);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static int
sv_read_once(struct gsp_sv_reader *r, struct gsp_sv_snapshot *snap)
{
	const uint64_t seq_off = offsetof(struct gsp_sv_header, seq);
	struct sv_layout l;
	uint32_t mcap = 0, lcap = 0;
	uint32_t nm, nl;
	uint64_t s1, s2;
	int ret;

	for (unsigned int attempt = 0; attempt < SV_READ_TRIES; attempt++) {
		if (attempt > 0)
			sv_pause(attempt);
		ret = sv_pread(r->fd, &s1, sizeof(s1), seq_off);
		if (ret != 0)
			goto fail;
		if (s1 & 1)
			continue;
		/* the copies below happen after the load of s1 */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		ret = sv_pread(r->fd, &snap->hdr, sizeof(snap->hdr), 0);
		if (ret != 0)
			goto fail;
		nm = snap->hdr.member_count;
		nl = snap->hdr.lcore_count;
		/* bound the copies by the validated layout, judge later */
		if (nm > r->l.member_capacity)
			nm = r->l.member_capacity;
		if (nl > r->l.lcore_capacity)
			nl = r->l.lcore_capacity;
		if (sv_reserve((void **)&snap->members, &mcap, nm,
			       sizeof(*snap->members)) != 0 ||
		    sv_reserve((void **)&snap->lcores, &lcap, nl,
			       sizeof(*snap->lcores)) != 0) {
			ret = -ENOMEM;
			goto fail;
		}
		ret = sv_pread_records(r->fd, snap->members, nm,
				       sizeof(*snap->members),
				       r->l.member_offset, r->l.member_stride);
		if (ret == 0)
			ret = sv_pread_records(r->fd, snap->lcores, nl,
					       sizeof(*snap->lcores),
					       r->l.lcore_offset,
					       r->l.lcore_stride);
		if (ret != 0)
			goto fail;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		ret = sv_pread(r->fd, &s2, sizeof(s2), seq_off);
		if (ret != 0)
			goto fail;
		if (s1 != s2)
			continue;

		/* consistent copy: now judge what the writer wrote */
		sv_layout_get(&snap->hdr, &l);
		if (snap->hdr.magic != GSP_SV_MAGIC ||
		    snap->hdr.major != GSP_SV_MAJOR ||
		    !sv_layout_equal(&l, &r->l) ||
		    snap->hdr.member_count > r->l.member_capacity ||
		    snap->hdr.lcore_count > r->l.lcore_capacity) {
			ret = -EPROTO;
			goto fail;
		}
		sv_nul(snap->hdr.cluster, sizeof(snap->hdr.cluster));
		sv_nul(snap->hdr.node_name, sizeof(snap->hdr.node_name));
		sv_nul(snap->hdr.control_socket,
		       sizeof(snap->hdr.control_socket));
		for (uint32_t i = 0; i < nm; i++) {
			ret = sv_fix_member(&snap->members[i], r->l.minor);
			if (ret != 0)
				goto fail;
		}
		return 0;
	}
	ret = -EAGAIN;
fail:
	gsp_sv_snapshot_free(snap);
	return ret;
}

int
gsp_sv_read(struct gsp_sv_reader *r, struct gsp_sv_snapshot *snap)
{
	struct stat st;
	int ret;

	if (r == NULL || snap == NULL)
		return -EINVAL;
	memset(snap, 0, sizeof(*snap));
	/* shrunk: truncated, maybe re-created at the path since */
	if (fstat(r->fd, &st) != 0)
		return -errno;
	if ((uint64_t)st.st_size < r->l.total_size) {
		ret = sv_reopen(r);
		if (ret != 0)
			return ret;
	}
	ret = sv_read_once(r, snap);
	/* shrank while we read: once more with what the path holds now */
	if (ret == -ESTALE) {
		ret = sv_reopen(r);
		if (ret == 0)
			ret = sv_read_once(r, snap);
	}
	return ret;
}

void
gsp_sv_snapshot_free(struct gsp_sv_snapshot *snap)
{
	if (snap == NULL)
		return;
	free(snap->members);
	free(snap->lcores);
	snap->members = NULL;
	snap->lcores = NULL;
	snap->hdr.member_count = 0;
	snap->hdr.lcore_count = 0;
}

bool
gsp_sv_writer_alive(const struct gsp_sv_header *h, uint64_t now_unix_ns,
		    uint64_t stale_ns)
{
	pid_t pid;

	if (h == NULL || (h->flags & GSP_SV_FLAG_CLOSED))
		return false;
	pid = (pid_t)h->writer_pid;
	/* kill(0 or -1, 0) would probe process groups, not a process */
	if (pid <= 0)
		return false;
	if (kill(pid, 0) != 0 && errno != EPERM)
		return false;
	/* a heartbeat ahead of our clock counts as fresh */
	if (h->heartbeat_unix_ns < now_unix_ns &&
	    now_unix_ns - h->heartbeat_unix_ns > stale_ns)
		return false;
	return true;
}

const char *
gsp_sv_state_name(unsigned int state)
{
	static const char *const names[] = {
		[GSP_SV_ALIVE] = "alive",
		[GSP_SV_SUSPECT] = "suspect",
		[GSP_SV_DOWN] = "down",
		[GSP_SV_LEFT] = "left",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] :
		"unknown";
}

/* The core's drop reasons and fault counters, by the index the view
 * stores them under; slots the core does not use are named by number. */
#define SV_COUNT_ROW(e, name, help) + 1
_Static_assert(0 GSP_RX_ERRS(SV_COUNT_ROW) <=
	       GSP_SV_DROP_REASONS + GSP_SV_DROP_REASONS_EXT,
	       "the view has fewer drop reasons than the core");
_Static_assert(0 GSP_FAULT_CTRS(SV_COUNT_ROW) <= GSP_SV_FAULT_CTRS,
	       "the view has fewer fault counters than the core");
#undef SV_COUNT_ROW
#define SV_NAME_ROW(e, name, help) #name,

const char *
gsp_sv_drop_reason_name(unsigned int reason)
{
	static const char *const names[GSP_SV_DROP_REASONS +
					GSP_SV_DROP_REASONS_EXT] = {
		GSP_RX_ERRS(SV_NAME_ROW)
	};
	static __thread char buf[24];

	if (reason < GSP_SV_DROP_REASONS + GSP_SV_DROP_REASONS_EXT &&
	    names[reason] != NULL)
		return names[reason];
	snprintf(buf, sizeof(buf), "reason%u", reason);
	return buf;
}

uint64_t
gsp_sv_drop_count(const struct gsp_sv_header *h, unsigned int reason)
{
	if (reason < GSP_SV_DROP_REASONS)
		return h->counters.rx_drop[reason];
	reason -= GSP_SV_DROP_REASONS;
	if (h->minor < 3 || reason >= GSP_SV_DROP_REASONS_EXT)
		return 0;
	return h->security.rx_drop_ext[reason];
}

const char *
gsp_sv_fault_ctr_name(unsigned int c)
{
	static const char *const names[GSP_SV_FAULT_CTRS] = {
		GSP_FAULT_CTRS(SV_NAME_ROW)
	};
	static __thread char buf[24];

	if (c >= GSP_SV_FAULT_CTRS)
		return "unknown";
	if (names[c] != NULL)
		return names[c];
	snprintf(buf, sizeof(buf), "fault%u", c);
	return buf;
}
#undef SV_NAME_ROW

unsigned int
gsp_sv_member_apps(const struct gsp_sv_member *m,
		   struct gsp_sv_app_entry *out, unsigned int max)
{
	const struct gsp_sv_app_ext *x;
	uint32_t off = 0;
	unsigned int n = 0;

	if (m == NULL || out == NULL)
		return 0;
	x = &m->app_ext;
	/* a record not from gsp_sv_read() may hold anything: stop at the
	 * first entry that does not fit */
	while (n < max && n < x->count && n < GSP_SV_APP_EXT_KEYS &&
	       off + GSP_SV_APP_ENTRY_HDR <= x->bytes &&
	       x->bytes <= GSP_SV_APP_DATA) {
		const uint8_t *p = x->data + off;
		uint32_t klen = p[8], vlen = p[9];

		if (klen >= GSP_SV_APP_KEY_MAX || vlen >= GSP_SV_APP_VALUE_MAX ||
		    off + GSP_SV_APP_ENTRY_HDR + klen + vlen > x->bytes)
			break;
		memcpy(&out[n].version, p, sizeof(out[n].version));
		memcpy(out[n].key, p + GSP_SV_APP_ENTRY_HDR, klen);
		out[n].key[klen] = '\0';
		memcpy(out[n].value, p + GSP_SV_APP_ENTRY_HDR + klen, vlen);
		out[n].value[vlen] = '\0';
		off += GSP_SV_APP_ENTRY_HDR + klen + vlen;
		n++;
	}
	return n;
}

static bool
sv_name_ok(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return false;
	/* no '/' and no "..": the result must stay a file in /dev/shm */
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s != '\0'; s++)
		if (!gsp_name_char_ok(*s))
			return false;
	return true;
}

int
gsp_sv_default_path(char *buf, size_t len, const char *cluster,
		    const char *node)
{
	int n;

	if (buf == NULL || len == 0 || !sv_name_ok(cluster) ||
	    !sv_name_ok(node))
		return -EINVAL;
	n = snprintf(buf, len, "/dev/shm/gossipd.%s.%s", cluster, node);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
