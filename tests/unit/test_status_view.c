/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Status view: writer + reader round trip, rejection of malformed files
 * (written by hand), a file changed behind the writer's back (detected,
 * re-created; neither side dies of SIGBUS) and a torn-read hunt with a
 * concurrent writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gossipd/status_view.h"
#include "gsp_core.h"
#include "sv_writer.h"

#define NS_PER_S 1000000000ull

struct fixture {
	char dir[PATH_MAX / 2];
	char path[PATH_MAX];
};

static uint64_t
unix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/gsp_sv_test.XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/gossipd.c1.n1", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	struct dirent *de;
	char p[PATH_MAX * 2];
	DIR *d;

	d = opendir(f->dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
params_init(struct gsp_sv_writer_params *p, const char *path, uint32_t mcap,
	    uint32_t lcap)
{
	memset(p, 0, sizeof(*p));
	p->path = path;
	p->cluster = "c1";
	p->node_name = "n1";
	p->control_socket = "/run/gossipd/c1.n1.sock";
	p->member_capacity = mcap;
	p->lcore_capacity = lcap;
	p->self_ip = 0x0a000001;
	p->self_port = 7946;
	p->gossip_interval_ns = NS_PER_S;
	p->phi_convict_milli = 8000;
}

static unsigned int
dir_entries(const char *dir)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* ---- round trip ---- */

static void
test_create_and_read(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_writer_params p;
	struct gsp_sv_writer *w;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;
	struct gsp_sv_member m[3];
	struct gsp_sv_lcore l[2];
	struct gsp_sv_counters c;
	struct gsp_sv_extra x;
	struct gsp_sv_update u;
	struct gsp_sv_header top;
	struct stat st;
	char err[256] = "";
	uint64_t now = unix_now_ns();

	params_init(&p, f->path, 8, 4);
	assert_int_equal(gsp_sv_writer_create(&p, &w, err, sizeof(err)), 0);
	assert_int_equal(gsp_sv_writer_member_capacity(w), 8);
	/* only the final file: the temp name was renamed away */
	assert_int_equal(dir_entries(f->dir), 1);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal((uint64_t)st.st_size, GSP_SV_HEADER_SIZE +
			 8 * GSP_SV_MEMBER_STRIDE + 4 * GSP_SV_LCORE_STRIDE);

	/* a fresh view is valid and empty */
	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	assert_int_equal(gsp_sv_read(r, &s), 0);
	assert_int_equal(s.hdr.magic, GSP_SV_MAGIC);
	assert_int_equal(s.hdr.major, GSP_SV_MAJOR);
	assert_int_equal(s.hdr.minor, GSP_SV_MINOR);
	assert_int_equal(s.hdr.member_count, 0);
	assert_int_equal(s.hdr.member_capacity, 8);
	assert_int_equal(s.hdr.lcore_capacity, 4);
	assert_int_equal(s.hdr.writer_pid, (uint32_t)getpid());
	assert_int_equal(s.hdr.seq % 2, 0);
	assert_string_equal(s.hdr.cluster, "c1");
	assert_string_equal(s.hdr.node_name, "n1");
	assert_string_equal(s.hdr.control_socket, "/run/gossipd/c1.n1.sock");
	assert_int_equal(s.hdr.self_ip, 0x0a000001);
	assert_int_equal(s.hdr.self_port, 7946);
	assert_int_equal(s.hdr.phi_convict_milli, 8000);
	assert_true(s.hdr.start_unix_ns >= now - NS_PER_S);
	assert_true(gsp_sv_writer_alive(&s.hdr, unix_now_ns(), 2 * NS_PER_S));
	gsp_sv_snapshot_free(&s);

	memset(m, 0, sizeof(m));
	for (int i = 0; i < 3; i++) {
		m[i].id = 100 + i;
		m[i].generation = 7;
		m[i].heartbeat = 1000 + i;
		m[i].state = GSP_SV_ALIVE + i;
		m[i].ip = 0x0a000001 + i;
		m[i].port = 7946;
		snprintf(m[i].name, sizeof(m[i].name), "node%d", i);
	}
	m[0].flags = GSP_SV_MEMBER_SELF;
	m[0].incarnation = 0xfffffffe;
	m[1].app_count = 1;
	snprintf(m[1].app[0].key, sizeof(m[1].app[0].key), "role");
	snprintf(m[1].app[0].value, sizeof(m[1].app[0].value), "db");
	/* unterminated string: the reader must terminate it */
	memset(m[2].name, 'x', sizeof(m[2].name));
	memset(l, 0, sizeof(l));
	l[0].lcore_id = 1;
	l[0].rx_packets = 11;
	l[1].lcore_id = 2;
	l[1].tx_packets = 22;
	memset(&c, 0, sizeof(c));
	c.rounds = 42;
	c.rx_drop[2] = 5;
	c.tx_ping = 6;
	c.refutations = 7;
	memset(&x, 0, sizeof(x));
	x.claims_rx = 8;
	x.incarnation = 9;
	x.fault[0] = 10;
	x.fault[GSP_SV_FAULT_CTRS - 1] = 11;

	/* counters outside the structs (minor 8 and 11) come through
	 * counters_from: the writer dropped them before */
	memset(&top, 0, sizeof(top));
	top.counters = c;	/* every counter's field comes from it */
	top.extra = x;
	top.probe_rtt_us = 250;
	top.probes_late = 3;
	top.claim_pushes = 12;
	top.claim_pushes_rx = 13;

	memset(&u, 0, sizeof(u));
	u.now_unix_ns = unix_now_ns();
	u.self_id = 100;
	u.self_generation = 7;
	u.counters = &c;
	u.extra = &x;
	u.counters_from = &top;
	u.faults = true;
	u.members = m;
	u.n_members = 3;
	u.lcores = l;
	u.n_lcores = 2;
	assert_int_equal(gsp_sv_writer_publish(w, &u), 0);

	assert_int_equal(gsp_sv_read(r, &s), 0);
	assert_int_equal(s.hdr.member_count, 3);
	assert_int_equal(s.hdr.lcore_count, 2);
	assert_int_equal(s.hdr.self_id, 100);
	assert_int_equal(s.hdr.counters.rounds, 42);
	assert_int_equal(s.hdr.counters.rx_drop[2], 5);
	/* minor 2: SWIM counters, the extra block, the faults flag */
	assert_int_equal(s.hdr.counters.tx_ping, 6);
	assert_int_equal(s.hdr.counters.refutations, 7);
	assert_int_equal(s.hdr.extra.claims_rx, 8);
	assert_int_equal(s.hdr.extra.incarnation, 9);
	assert_int_equal(s.hdr.extra.fault[0], 10);
	assert_int_equal(s.hdr.extra.fault[GSP_SV_FAULT_CTRS - 1], 11);
	assert_true(s.hdr.flags & GSP_SV_FLAG_FAULTS);
	assert_int_equal(s.hdr.probe_rtt_us, 250);
	assert_int_equal(s.hdr.probes_late, 3);
	assert_int_equal(s.hdr.claim_pushes, 12);
	assert_int_equal(s.hdr.claim_pushes_rx, 13);
	assert_int_equal(s.members[0].incarnation, 0xfffffffe);
	assert_int_equal(s.hdr.heartbeat_unix_ns, u.now_unix_ns);
	assert_int_equal(s.members[0].id, 100);
	assert_int_equal(s.members[0].flags, GSP_SV_MEMBER_SELF);
	assert_string_equal(s.members[1].name, "node1");
	assert_int_equal(s.members[1].app_count, 1);
	assert_string_equal(s.members[1].app[0].key, "role");
	assert_string_equal(s.members[1].app[0].value, "db");
	assert_int_equal(strlen(s.members[2].name), sizeof(m[2].name) - 1);
	assert_int_equal(s.lcores[0].rx_packets, 11);
	assert_int_equal(s.lcores[1].tx_packets, 22);
	assert_int_equal(s.hdr.seq % 2, 0);
	assert_true(s.hdr.seq >= 2);
	gsp_sv_snapshot_free(&s);
	assert_null(s.members);

	/* more members than the capacity are clamped, not overflowed */
	{
		struct gsp_sv_member *big = calloc(20, sizeof(*big));

		assert_non_null(big);
		u.members = big;
		u.n_members = 20;
		/* faults off clears the flag; NULL extra keeps the values */
		u.faults = false;
		u.extra = NULL;
		assert_int_equal(gsp_sv_writer_publish(w, &u), 0);
		assert_int_equal(gsp_sv_read(r, &s), 0);
		assert_int_equal(s.hdr.member_count, 8);
		assert_false(s.hdr.flags & GSP_SV_FLAG_FAULTS);
		assert_int_equal(s.hdr.extra.claims_rx, 8);
		gsp_sv_snapshot_free(&s);
		free(big);
	}

	/* close: CLOSED flag seen through an existing mapping */
	gsp_sv_writer_close(w, unix_now_ns(), false);
	assert_int_equal(gsp_sv_read(r, &s), 0);
	assert_true(s.hdr.flags & GSP_SV_FLAG_CLOSED);
	assert_false(gsp_sv_writer_alive(&s.hdr, unix_now_ns(),
					 2 * NS_PER_S));
	gsp_sv_snapshot_free(&s);
	gsp_sv_close(r);
	assert_int_equal(access(f->path, F_OK), 0);
}

static void
test_close_unlink_and_replace(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_writer_params p;
	struct gsp_sv_writer *w1, *w2;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;
	char err[256];

	params_init(&p, f->path, 4, 1);
	assert_int_equal(gsp_sv_writer_create(&p, &w1, err, sizeof(err)), 0);
	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	/* a restart in the same process replaces the file */
	p.node_name = "n1-restarted";
	assert_int_equal(gsp_sv_writer_create(&p, &w2, err, sizeof(err)), 0);
	/* the old mapping still shows the old file */
	assert_int_equal(gsp_sv_read(r, &s), 0);
	assert_string_equal(s.hdr.node_name, "n1");
	gsp_sv_snapshot_free(&s);
	gsp_sv_close(r);
	/* closing the replaced writer must not unlink the new file */
	gsp_sv_writer_close(w1, unix_now_ns(), true);
	assert_int_equal(access(f->path, F_OK), 0);
	gsp_sv_writer_close(w2, unix_now_ns(), true);
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(dir_entries(f->dir), 0);
}

static void
test_writer_bad_params(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_writer_params p;
	struct gsp_sv_writer *w;
	char err[256];
	char path[PATH_MAX + 32];

	params_init(&p, f->path, 0, 1);
	assert_int_equal(gsp_sv_writer_create(&p, &w, err, sizeof(err)),
			 -EINVAL);
	assert_null(w);
	params_init(&p, f->path, 8000000, 1);
	assert_int_equal(gsp_sv_writer_create(&p, &w, err, sizeof(err)),
			 -EFBIG);
	assert_non_null(strstr(err, "too large"));
	snprintf(path, sizeof(path), "%s/no/such/dir/view", f->dir);
	params_init(&p, path, 8, 1);
	assert_int_equal(gsp_sv_writer_create(&p, &w, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "cannot create"));
	assert_int_equal(dir_entries(f->dir), 0);
}

/* ---- hand-written files ---- */

static void
hand_header(struct gsp_sv_header *h, uint32_t mcap, uint32_t lcap)
{
	memset(h, 0, sizeof(*h));
	h->magic = GSP_SV_MAGIC;
	h->major = GSP_SV_MAJOR;
	h->minor = GSP_SV_MINOR;
	h->header_size = GSP_SV_HEADER_SIZE;
	h->member_offset = GSP_SV_HEADER_SIZE;
	h->member_stride = GSP_SV_MEMBER_STRIDE;
	h->member_capacity = mcap;
	h->lcore_offset = GSP_SV_HEADER_SIZE + mcap * GSP_SV_MEMBER_STRIDE;
	h->lcore_stride = GSP_SV_LCORE_STRIDE;
	h->lcore_capacity = lcap;
	h->total_size = h->lcore_offset + (uint64_t)lcap * GSP_SV_LCORE_STRIDE;
	h->writer_pid = (uint32_t)getpid();
	h->heartbeat_unix_ns = unix_now_ns();
	snprintf(h->cluster, sizeof(h->cluster), "c1");
	snprintf(h->node_name, sizeof(h->node_name), "n1");
}

/* Writes h and sizes the file to file_size bytes. */
static void
hand_write(const char *path, const struct gsp_sv_header *h, size_t hlen,
	   off_t file_size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, h, hlen), (ssize_t)hlen);
	assert_int_equal(ftruncate(fd, file_size), 0);
	close(fd);
}

static int
hand_open(const char *path)
{
	struct gsp_sv_reader *r = NULL;
	int ret = gsp_sv_open(path, &r);

	if (ret == 0)
		gsp_sv_close(r);
	else
		assert_null(r);
	return ret;
}

static void
test_hand_valid(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_header h;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;

	/* the control case: the hand-made file is accepted */
	hand_header(&h, 4, 2);
	h.member_count = 0;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	assert_int_equal(gsp_sv_read(r, &s), 0);
	assert_int_equal(s.hdr.member_capacity, 4);
	gsp_sv_snapshot_free(&s);
	gsp_sv_close(r);

	/* a newer minor with a bigger header and strides is readable */
	hand_header(&h, 4, 2);
	h.minor = GSP_SV_MINOR + 3;
	h.header_size = 2048;
	h.member_offset = 2048;
	h.member_stride = 4096;
	h.lcore_offset = 2048 + 4 * 4096;
	h.lcore_stride = 256;
	h.total_size = h.lcore_offset + 2 * 256;
	h.member_count = 2;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	assert_int_equal(gsp_sv_read(r, &s), 0);
	assert_int_equal(s.hdr.member_count, 2);
	gsp_sv_snapshot_free(&s);
	gsp_sv_close(r);

	/* an older minor's 128-byte lcore records: what they lack reads 0 */
	{
		struct gsp_sv_lcore old = { .lcore_id = 7, .rx_packets = 5,
			.arp_ignored = 9, .rx_intr_waits = 123 };
		int fd;

		hand_header(&h, 4, 2);
		h.minor = 5;
		h.lcore_stride = GSP_SV_LCORE_STRIDE_1_0;
		h.total_size = h.lcore_offset + 2 * GSP_SV_LCORE_STRIDE_1_0;
		h.lcore_count = 2;
		hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
		fd = open(f->path, O_RDWR);
		assert_true(fd >= 0);
		/* the second record follows 128 bytes on, over the first's
		 * minor-6 fields, which must not be read */
		assert_int_equal(pwrite(fd, &old, sizeof(old),
					(off_t)h.lcore_offset), sizeof(old));
		old.lcore_id = 8;
		old.rx_intr_waits = 0;
		assert_int_equal(pwrite(fd, &old, GSP_SV_LCORE_STRIDE_1_0,
				(off_t)h.lcore_offset + GSP_SV_LCORE_STRIDE_1_0),
				GSP_SV_LCORE_STRIDE_1_0);
		close(fd);
		assert_int_equal(gsp_sv_open(f->path, &r), 0);
		assert_int_equal(gsp_sv_read(r, &s), 0);
		assert_int_equal(s.hdr.lcore_count, 2);
		assert_int_equal(s.lcores[0].lcore_id, 7);
		assert_int_equal(s.lcores[0].arp_ignored, 9);
		assert_int_equal(s.lcores[0].rx_intr_waits, 0);
		assert_int_equal(s.lcores[1].lcore_id, 8);
		gsp_sv_snapshot_free(&s);
		gsp_sv_close(r);
	}
}

static void
test_reject_bad_magic(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_header h;

	hand_header(&h, 4, 2);
	h.magic = 0x1122334455667788ULL;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);
	/* a writer that never finished: magic still 0 */
	h.magic = 0;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);
}

static void
test_reject_bad_major(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_header h;

	hand_header(&h, 4, 2);
	h.major = GSP_SV_MAJOR + 1;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);
	h.major = 0;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);
}

static void
test_reject_truncated(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_header h;

	hand_header(&h, 4, 2);
	/* shorter than the header it claims */
	hand_write(f->path, &h, 100, 100);
	assert_int_equal(hand_open(f->path), -EPROTO);
	/* complete header, missing records */
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size - 1);
	assert_int_equal(hand_open(f->path), -EPROTO);
	/* empty file */
	hand_write(f->path, &h, 0, 0);
	assert_int_equal(hand_open(f->path), -EPROTO);
}

static void
test_reject_bad_sizes(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_header h;

	hand_header(&h, 4, 2);
	h.header_size = sizeof(h) - 8;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);

	hand_header(&h, 4, 2);
	h.member_stride = sizeof(struct gsp_sv_member) - 1;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);

	/* minor 7 records carry app_ext: the old stride is too short */
	hand_header(&h, 4, 2);
	h.member_stride = GSP_SV_MEMBER_STRIDE_1_0;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);

	/* ... and no minor has records shorter than 1.0's */
	hand_header(&h, 4, 2);
	h.minor = 6;
	h.member_stride = GSP_SV_MEMBER_STRIDE_1_0 - 1;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);

	hand_header(&h, 4, 2);
	h.lcore_stride = 8;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);

	/* capacity * stride would overflow 32 bits */
	hand_header(&h, 4, 2);
	h.member_capacity = 0xffffffffu;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);

	/* members overlapping the header */
	hand_header(&h, 4, 2);
	h.member_offset = 16;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);

	/* offset pointing past the end */
	hand_header(&h, 4, 2);
	h.lcore_offset = 0xfffff000u;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(hand_open(f->path), -EPROTO);
}

static void
test_reject_counts(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_header h;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;

	hand_header(&h, 4, 2);
	h.member_count = 5;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	assert_int_equal(gsp_sv_read(r, &s), -EPROTO);
	assert_null(s.members);
	gsp_sv_close(r);

	hand_header(&h, 4, 2);
	h.lcore_count = 0xffffffffu;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	assert_int_equal(gsp_sv_read(r, &s), -EPROTO);
	gsp_sv_close(r);
}

static void
test_reject_shrunk_after_open(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_header h;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;

	hand_header(&h, 4, 2);
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	/* truncated under us: refused instead of SIGBUS */
	assert_int_equal(truncate(f->path, 512), 0);
	assert_int_equal(gsp_sv_read(r, &s), -EPROTO);
	gsp_sv_close(r);
}

static void
test_reject_never_even(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_header h;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;

	/* a writer that died mid-update leaves seq odd */
	hand_header(&h, 4, 2);
	h.seq = 7;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	assert_int_equal(gsp_sv_read(r, &s), -EAGAIN);
	assert_null(s.members);
	gsp_sv_close(r);
}

static void
test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_reader *r;
	char p[PATH_MAX + 16];

	snprintf(p, sizeof(p), "%s/missing", f->dir);
	assert_int_equal(gsp_sv_open(p, &r), -ENOENT);
	assert_int_equal(gsp_sv_open(f->dir, &r), -EPROTO);	/* a directory */
	assert_int_equal(gsp_sv_open("", &r), -EINVAL);
}

static void
test_takeover_refused(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_writer_params p;
	struct gsp_sv_writer *w;
	struct gsp_sv_header h;
	char err[256];
	pid_t child;
	int ret;

	/* a live foreign writer (a child of ours) published just now */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	hand_header(&h, 4, 2);
	h.writer_pid = (uint32_t)child;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	params_init(&p, f->path, 4, 2);
	ret = gsp_sv_writer_create(&p, &w, err, sizeof(err));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(ret, -EBUSY);
	assert_non_null(strstr(err, "in use"));

	/* the same file once that process is gone: replaced */
	assert_int_equal(gsp_sv_writer_create(&p, &w, err, sizeof(err)), 0);
	gsp_sv_writer_close(w, unix_now_ns(), false);

	/* a live pid but the view is closed: replaced */
	hand_header(&h, 4, 2);
	h.writer_pid = 1;
	h.flags = GSP_SV_FLAG_CLOSED;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(gsp_sv_writer_create(&p, &w, err, sizeof(err)), 0);
	gsp_sv_writer_close(w, unix_now_ns(), true);
}

/* ---- the file changed behind the writer's back ---- */

#define CHG_CAP 8

/* An update of three members a, b, c and rounds = k. */
static void
chg_update(struct gsp_sv_update *u, struct gsp_sv_member *m,
	   struct gsp_sv_counters *c, uint64_t k)
{
	memset(u, 0, sizeof(*u));
	memset(c, 0, sizeof(*c));
	for (unsigned int i = 0; i < 3; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].id = i + 1;
		m[i].heartbeat = k;
		snprintf(m[i].name, sizeof(m[i].name), "%c", 'a' + i);
	}
	c->rounds = k;
	u->now_unix_ns = unix_now_ns();
	u->self_id = 1;
	u->counters = c;
	u->members = m;
	u->n_members = 3;
}

/* The view at path is whole: header as created, members, counters. */
static void
chg_assert_whole(const char *path, uint64_t start, uint64_t k)
{
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;

	assert_int_equal(gsp_sv_open(path, &r), 0);
	assert_int_equal(gsp_sv_read(r, &s), 0);
	assert_int_equal(s.hdr.start_unix_ns, start);
	assert_string_equal(s.hdr.node_name, "n1");
	assert_string_equal(s.hdr.control_socket, "/run/gossipd/c1.n1.sock");
	assert_int_equal(s.hdr.member_capacity, CHG_CAP);
	assert_int_equal(s.hdr.member_count, 3);
	assert_string_equal(s.members[2].name, "c");
	assert_int_equal(s.members[2].heartbeat, k);
	assert_int_equal(s.hdr.counters.rounds, k);
	assert_int_equal(s.hdr.seq % 2, 0);
	gsp_sv_snapshot_free(&s);
	gsp_sv_close(r);
}

static void
chg_junk(const char *path, const char *dir, size_t len)
{
	char tmp[PATH_MAX * 2];
	char *buf = malloc(len);
	int fd;

	assert_non_null(buf);
	memset(buf, 'x', len);
	snprintf(tmp, sizeof(tmp), "%s/junk", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
	assert_int_equal(rename(tmp, path), 0);
}

static void
test_check_and_recreate(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_writer_params p;
	struct gsp_sv_writer *w;
	struct gsp_sv_member m[3];
	struct gsp_sv_counters c;
	struct gsp_sv_update u;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;
	struct gsp_sv_header h;
	char err[256], detail[96], tmp[PATH_MAX * 2];
	uint64_t start, k = 1;
	struct stat st;
	ino_t ino;
	pid_t child;
	off_t full;
	int fd;

	params_init(&p, f->path, CHG_CAP, 2);
	assert_int_equal(gsp_sv_writer_create(&p, &w, err, sizeof(err)), 0);
	chg_update(&u, m, &c, k);
	assert_int_equal(gsp_sv_writer_publish(w, &u), 0);
	assert_int_equal(gsp_sv_writer_check(w, detail, sizeof(detail)),
			 GSP_SV_FILE_OK);
	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	assert_int_equal(gsp_sv_read(r, &s), 0);
	start = s.hdr.start_unix_ns;
	gsp_sv_snapshot_free(&s);
	gsp_sv_close(r);
	assert_int_equal(stat(f->path, &st), 0);
	full = st.st_size;

	/* truncated: detected by size, re-created whole at a new inode */
	ino = st.st_ino;
	assert_int_equal(truncate(f->path, 0), 0);
	assert_int_equal(gsp_sv_writer_check(w, detail, sizeof(detail)),
			 GSP_SV_FILE_TRUNCATED);
	assert_non_null(strstr(detail, "0 of"));
	chg_update(&u, m, &c, ++k);
	assert_int_equal(gsp_sv_writer_recreate(w, &u, err, sizeof(err)), 0);
	assert_int_equal(gsp_sv_writer_check(w, NULL, 0), GSP_SV_FILE_OK);
	chg_assert_whole(f->path, start, k);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(st.st_ino != ino);
	assert_int_equal(st.st_mode & 0777, 0644);

	/* cut and grown back (as a publish racing the cut would): zeros */
	assert_int_equal(truncate(f->path, 0), 0);
	assert_int_equal(truncate(f->path, full), 0);
	assert_int_equal(gsp_sv_writer_check(w, detail, sizeof(detail)),
			 GSP_SV_FILE_TRUNCATED);
	assert_int_equal(gsp_sv_writer_recreate(w, &u, err, sizeof(err)), 0);
	chg_assert_whole(f->path, start, k);

	/* overwritten in place */
	fd = open(f->path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "JUNKJUNK", 8, 0), 8);
	close(fd);
	assert_int_equal(gsp_sv_writer_check(w, NULL, 0),
			 GSP_SV_FILE_OVERWRITTEN);
	assert_int_equal(gsp_sv_writer_recreate(w, &u, err, sizeof(err)), 0);

	/* replaced by another file, then removed */
	chg_junk(f->path, f->dir, 4096);
	assert_int_equal(gsp_sv_writer_check(w, NULL, 0),
			 GSP_SV_FILE_REPLACED);
	assert_int_equal(gsp_sv_writer_recreate(w, &u, err, sizeof(err)), 0);
	chg_assert_whole(f->path, start, k);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(gsp_sv_writer_check(w, NULL, 0),
			 GSP_SV_FILE_REMOVED);
	assert_int_equal(gsp_sv_writer_recreate(w, &u, err, sizeof(err)), 0);
	chg_update(&u, m, &c, ++k);
	assert_int_equal(gsp_sv_writer_publish(w, &u), 0);
	chg_assert_whole(f->path, start, k);
	/* no temporary file left behind by any of it */
	assert_int_equal(dir_entries(f->dir), 1);

	/* the view of another live writer now at the path is not taken */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	hand_header(&h, 4, 2);
	h.writer_pid = (uint32_t)child;
	snprintf(tmp, sizeof(tmp), "%s/other", f->dir);
	hand_write(tmp, &h, sizeof(h), (off_t)h.total_size);
	assert_int_equal(rename(tmp, f->path), 0);
	assert_int_equal(gsp_sv_writer_check(w, NULL, 0),
			 GSP_SV_FILE_REPLACED);
	assert_int_equal(gsp_sv_writer_recreate(w, &u, err, sizeof(err)),
			 -EBUSY);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_non_null(strstr(err, "in use"));
	assert_int_equal(dir_entries(f->dir), 1);
	/* once that writer is gone, it is */
	assert_int_equal(gsp_sv_writer_recreate(w, &u, err, sizeof(err)), 0);
	chg_assert_whole(f->path, start, k);
	gsp_sv_writer_close(w, unix_now_ns(), true);
	assert_int_equal(dir_entries(f->dir), 0);
}

/*
 * Runs fn(path) in a child for about 300 ms; fails when the child dies of
 * a signal (SIGBUS from a mapping of a truncated file).
 */
static void
chg_in_child(const char *path, int (*fn)(const char *path))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka catches SIGBUS to go on: let the child die of it */
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		_exit(fn(path));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the child died of signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

struct chg_cutter {
	const char *path;
	const void *image;	/* NULL: only cut */
	size_t len;
	volatile int stop;
};

/* Truncates the file to 0 again and again (and writes it back whole). */
static void *
chg_cut(void *arg)
{
	struct chg_cutter *k = arg;
	int fd = open(k->path, O_WRONLY);

	if (fd < 0)
		return NULL;
	while (!k->stop) {
		if (ftruncate(fd, 0) != 0)
			break;
		if (k->image != NULL &&
		    pwrite(fd, k->image, k->len, 0) != (ssize_t)k->len)
			break;
		sched_yield();
	}
	close(fd);
	return NULL;
}

static int
chg_writer_under_cuts(const char *path)
{
	static struct gsp_sv_member m[64];
	struct gsp_sv_writer_params p;
	struct gsp_sv_writer *w;
	struct gsp_sv_update u;
	struct chg_cutter k = { .path = path };
	pthread_t tid;
	uint64_t end;
	char err[256];

	params_init(&p, path, 64, 2);
	if (gsp_sv_writer_create(&p, &w, err, sizeof(err)) != 0)
		return 2;
	memset(&u, 0, sizeof(u));
	u.members = m;
	u.n_members = 64;
	if (pthread_create(&tid, NULL, chg_cut, &k) != 0)
		return 3;
	for (end = mono_ns() + 300 * 1000000ull; mono_ns() < end;) {
		u.now_unix_ns = unix_now_ns();
		(void)gsp_sv_writer_publish(w, &u);	/* may fail: no crash */
	}
	k.stop = 1;
	pthread_join(tid, NULL);
	gsp_sv_writer_close(w, unix_now_ns(), true);
	return 0;
}

static void
test_writer_survives_truncation(void **state)
{
	struct fixture *f = *state;

	chg_in_child(f->path, chg_writer_under_cuts);
}

static int
chg_reader_under_cuts(const char *path)
{
	static struct gsp_sv_member m[64];
	struct gsp_sv_writer_params p;
	struct gsp_sv_writer *w;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;
	struct gsp_sv_update u;
	struct chg_cutter k = { .path = path };
	unsigned int ok = 0;
	pthread_t tid;
	struct stat st;
	uint64_t end;
	char err[256];
	void *image;
	int fd;

	/* a whole view of 64 members, kept as bytes to write it back */
	params_init(&p, path, 64, 2);
	if (gsp_sv_writer_create(&p, &w, err, sizeof(err)) != 0)
		return 2;
	memset(&u, 0, sizeof(u));
	u.members = m;
	u.n_members = 64;
	if (gsp_sv_writer_publish(w, &u) != 0 || stat(path, &st) != 0)
		return 3;
	image = malloc((size_t)st.st_size);
	fd = open(path, O_RDONLY);
	if (image == NULL || fd < 0 ||
	    pread(fd, image, (size_t)st.st_size, 0) != st.st_size)
		return 4;
	close(fd);
	if (gsp_sv_open(path, &r) != 0)
		return 5;
	k.image = image;
	k.len = (size_t)st.st_size;
	if (pthread_create(&tid, NULL, chg_cut, &k) != 0)
		return 6;
	for (end = mono_ns() + 300 * 1000000ull; mono_ns() < end;) {
		/* errors are fine (the file is often empty), a crash is not */
		if (gsp_sv_read(r, &s) == 0) {
			ok++;
			gsp_sv_snapshot_free(&s);
		}
	}
	k.stop = 1;
	pthread_join(tid, NULL);
	gsp_sv_close(r);
	gsp_sv_writer_close(w, unix_now_ns(), true);
	free(image);
	return 0;
}

static void
test_reader_survives_truncation(void **state)
{
	struct fixture *f = *state;

	chg_in_child(f->path, chg_reader_under_cuts);
}

/* ---- app state (minor 7: app_ext) ---- */

/* Entry i of the app state test_app_ext_round_trip writes: 16 keys,
 * three of them with 255-byte values, key + value bytes exactly the
 * core's GSP_APP_BYTES_MAX. */
static void
app_fill(unsigned int i, char *key, size_t klen, char *val, size_t vlen)
{
	size_t n = i < 3 ? 255 : i == 3 ? 15 : 14;

	/* a 31-byte key once, the longest the format holds */
	if (i == 15)
		snprintf(key, klen, "k15-%027u", 0u);
	else
		snprintf(key, klen, "k%02u", i);
	assert_true(n < vlen);
	for (size_t k = 0; k < n; k++)
		val[k] = (char)('a' + (i + k) % 26);
	val[n] = '\0';
}

static void
test_app_ext_round_trip(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_app_entry out[GSP_SV_APP_EXT_KEYS + 1];
	struct gsp_sv_writer_params p;
	struct gsp_sv_writer *w;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;
	struct gsp_sv_member m[2];
	struct gsp_sv_update u;
	char key[GSP_SV_APP_KEY_MAX], val[GSP_SV_APP_VALUE_MAX];
	char err[256] = "";
	size_t total = 0;

	memset(m, 0, sizeof(m));
	for (unsigned int i = 0; i < 2; i++) {
		m[i].id = 200 + i;
		snprintf(m[i].name, sizeof(m[i].name), "node%u", i);
	}
	for (unsigned int i = 0; i < GSP_SV_APP_EXT_KEYS; i++) {
		app_fill(i, key, sizeof(key), val, sizeof(val));
		total += strlen(key) + strlen(val);
		assert_int_equal(gsp_sv_member_app_add(&m[0], 1000 + i, key,
				 strlen(key), val, strlen(val)), 0);
	}
	assert_int_equal(total, 1024);	/* the core's GSP_APP_BYTES_MAX */
	assert_int_equal(m[0].app_ext.count, GSP_SV_APP_EXT_KEYS);
	assert_int_equal(m[0].app_ext.bytes,
			 GSP_SV_APP_EXT_KEYS * GSP_SV_APP_ENTRY_HDR + 1024);
	/* a 17th entry, a long key or value: refused, nothing changed */
	assert_int_equal(gsp_sv_member_app_add(&m[0], 1, "x", 1, "", 0),
			 -ENOSPC);
	memset(val, 'v', sizeof(val));
	assert_int_equal(gsp_sv_member_app_add(&m[1], 1, "k", 1, val,
					       GSP_SV_APP_VALUE_MAX), -EINVAL);
	assert_int_equal(gsp_sv_member_app_add(&m[1], 1, val,
					       GSP_SV_APP_KEY_MAX, "", 0),
			 -EINVAL);
	assert_int_equal(gsp_sv_member_app_add(&m[1], 1, "", 0, "v", 1),
			 -EINVAL);
	assert_int_equal(m[1].app_ext.count, 0);
	assert_int_equal(m[1].app_count, 0);
	/* the other member: one key, an empty value */
	assert_int_equal(gsp_sv_member_app_add(&m[1], 5, "empty", 5, "", 0),
			 0);

	params_init(&p, f->path, 4, 1);
	assert_int_equal(gsp_sv_writer_create(&p, &w, err, sizeof(err)), 0);
	memset(&u, 0, sizeof(u));
	u.now_unix_ns = unix_now_ns();
	u.members = m;
	u.n_members = 2;
	assert_int_equal(gsp_sv_writer_publish(w, &u), 0);

	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	assert_int_equal(gsp_sv_read(r, &s), 0);
	assert_true(s.hdr.minor >= 7);
	assert_int_equal(s.hdr.member_stride, 2304);
	assert_int_equal(s.hdr.member_count, 2);
	/* every entry back intact, in order */
	assert_int_equal(gsp_sv_member_apps(&s.members[0], out,
					    GSP_SV_APP_EXT_KEYS + 1),
			 GSP_SV_APP_EXT_KEYS);
	for (unsigned int i = 0; i < GSP_SV_APP_EXT_KEYS; i++) {
		app_fill(i, key, sizeof(key), val, sizeof(val));
		assert_int_equal(out[i].version, 1000 + i);
		assert_string_equal(out[i].key, key);
		assert_string_equal(out[i].value, val);
	}
	assert_int_equal(strlen(out[0].value), 255);
	assert_int_equal(strlen(out[15].key), 31);
	/* the legacy slots: the first 8, values cut to 63 bytes */
	assert_int_equal(s.members[0].app_count, GSP_SV_APP_KEYS);
	for (unsigned int i = 0; i < GSP_SV_APP_KEYS; i++) {
		app_fill(i, key, sizeof(key), val, sizeof(val));
		val[63] = '\0';
		assert_int_equal(s.members[0].app[i].version, 1000 + i);
		assert_string_equal(s.members[0].app[i].key, key);
		assert_string_equal(s.members[0].app[i].value, val);
	}
	/* max bounds what is unpacked */
	assert_int_equal(gsp_sv_member_apps(&s.members[0], out, 3), 3);
	assert_int_equal(gsp_sv_member_apps(&s.members[1], out, 4), 1);
	assert_string_equal(out[0].key, "empty");
	assert_string_equal(out[0].value, "");
	assert_int_equal(out[0].version, 5);
	gsp_sv_snapshot_free(&s);
	gsp_sv_close(r);
	gsp_sv_writer_close(w, unix_now_ns(), false);
}

/* Member record i of a hand-written file, its first len bytes. */
static void
hand_member(const char *path, const struct gsp_sv_header *h, uint32_t i,
	    const struct gsp_sv_member *m, size_t len)
{
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, m, len, (off_t)h->member_offset +
				(off_t)i * h->member_stride), (ssize_t)len);
	close(fd);
}

/* A minor-6 writer (1024-byte records): app_ext comes from app[]. */
static void
test_read_minor6_records(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_app_entry out[GSP_SV_APP_EXT_KEYS];
	struct gsp_sv_header h;
	struct gsp_sv_member m;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;

	hand_header(&h, 4, 2);
	h.minor = 6;
	h.member_stride = GSP_SV_MEMBER_STRIDE_1_0;
	h.lcore_offset = h.member_offset + 4 * GSP_SV_MEMBER_STRIDE_1_0;
	h.total_size = h.lcore_offset + 2 * GSP_SV_LCORE_STRIDE;
	h.member_count = 2;
	hand_write(f->path, &h, sizeof(h), (off_t)h.total_size);
	memset(&m, 0, sizeof(m));
	m.id = 1;
	m.incarnation = 77;
	snprintf(m.name, sizeof(m.name), "old0");
	m.app_count = 2;
	m.app[0].version = 3;
	snprintf(m.app[0].key, sizeof(m.app[0].key), "role");
	snprintf(m.app[0].value, sizeof(m.app[0].value), "db");
	m.app[1].version = 4;
	/* unterminated: the reader cuts both to their field */
	memset(m.app[1].key, 'k', sizeof(m.app[1].key));
	memset(m.app[1].value, 'v', sizeof(m.app[1].value));
	hand_member(f->path, &h, 0, &m, GSP_SV_MEMBER_STRIDE_1_0);
	/* the next record starts 1024 bytes on: its bytes must not be
	 * taken for record 0's app_ext */
	memset(&m, 0xee, sizeof(m));
	m.id = 2;
	m.app_count = 0;
	snprintf(m.name, sizeof(m.name), "old1");
	hand_member(f->path, &h, 1, &m, GSP_SV_MEMBER_STRIDE_1_0);

	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	assert_int_equal(gsp_sv_read(r, &s), 0);
	assert_int_equal(s.hdr.member_count, 2);
	assert_int_equal(s.members[0].incarnation, 77);
	assert_string_equal(s.members[0].name, "old0");
	assert_int_equal(s.members[0].app_ext.count, 2);
	assert_int_equal(gsp_sv_member_apps(&s.members[0], out,
					    GSP_SV_APP_EXT_KEYS), 2);
	assert_int_equal(out[0].version, 3);
	assert_string_equal(out[0].key, "role");
	assert_string_equal(out[0].value, "db");
	assert_int_equal(out[1].version, 4);
	assert_int_equal(strlen(out[1].key), 31);
	assert_int_equal(strlen(out[1].value), 63);
	assert_string_equal(s.members[1].name, "old1");
	assert_int_equal(gsp_sv_member_apps(&s.members[1], out,
					    GSP_SV_APP_EXT_KEYS), 0);
	assert_int_equal(s.members[1].app_ext.bytes, 0);
	gsp_sv_snapshot_free(&s);
	gsp_sv_close(r);
}

/* One member whose app_ext is bent by bend(); what gsp_sv_read says. */
static int
ext_read(const char *path, void (*bend)(struct gsp_sv_app_ext *x))
{
	struct gsp_sv_header h;
	struct gsp_sv_member m;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;
	int ret;

	hand_header(&h, 2, 1);
	h.member_count = 1;
	hand_write(path, &h, sizeof(h), (off_t)h.total_size);
	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "bent");
	assert_int_equal(gsp_sv_member_app_add(&m, 1, "role", 4, "db", 2), 0);
	assert_int_equal(gsp_sv_member_app_add(&m, 2, "zone", 4, "eu", 2), 0);
	if (bend != NULL)
		bend(&m.app_ext);
	hand_member(path, &h, 0, &m, sizeof(m));
	assert_int_equal(gsp_sv_open(path, &r), 0);
	ret = gsp_sv_read(r, &s);
	if (ret == 0)
		gsp_sv_snapshot_free(&s);
	else
		assert_null(s.members);
	gsp_sv_close(r);
	return ret;
}

static void bend_count_17(struct gsp_sv_app_ext *x) { x->count = 17; }
static void bend_count_3(struct gsp_sv_app_ext *x) { x->count = 3; }
static void bend_count_1(struct gsp_sv_app_ext *x) { x->count = 1; }
static void bend_bytes_big(struct gsp_sv_app_ext *x) { x->bytes = GSP_SV_APP_DATA + 1; }
static void bend_bytes_more(struct gsp_sv_app_ext *x) { x->bytes += 1; }
static void bend_bytes_less(struct gsp_sv_app_ext *x) { x->bytes -= 1; }
static void bend_klen_0(struct gsp_sv_app_ext *x) { x->data[8] = 0; }
static void bend_klen_32(struct gsp_sv_app_ext *x) { x->data[8] = 32; }
static void bend_vlen_long(struct gsp_sv_app_ext *x) { x->data[16 + 9] = 255; }
static void bend_nul_key(struct gsp_sv_app_ext *x) { x->data[11] = '\0'; }

static void
test_reject_bad_app_ext(void **state)
{
	struct fixture *f = *state;
	void (*const bad[])(struct gsp_sv_app_ext *) = {
		bend_count_17, bend_count_3, bend_count_1, bend_bytes_big,
		bend_bytes_more, bend_bytes_less, bend_klen_0, bend_klen_32,
		bend_vlen_long, bend_nul_key,
	};

	/* the control case: as the writer packs it */
	assert_int_equal(ext_read(f->path, NULL), 0);
	/* a malformed ext is a corrupt file, as counts beyond capacity */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = ext_read(f->path, bad[i]);

		if (rc != -EPROTO)
			fail_msg("bend %zu read as %d, not -EPROTO", i, rc);
	}
}

static void
test_writer_alive(void **state)
{
	struct gsp_sv_header h;
	uint64_t now = unix_now_ns();

	(void)state;
	hand_header(&h, 1, 1);
	h.heartbeat_unix_ns = now - NS_PER_S;
	assert_true(gsp_sv_writer_alive(&h, now, 2 * NS_PER_S));
	assert_false(gsp_sv_writer_alive(&h, now, NS_PER_S / 2));
	h.heartbeat_unix_ns = now + NS_PER_S;	/* clock skew: fresh */
	assert_true(gsp_sv_writer_alive(&h, now, NS_PER_S / 2));
	h.writer_pid = 0;
	assert_false(gsp_sv_writer_alive(&h, now, 2 * NS_PER_S));
	h.writer_pid = 0x7ffffff0;		/* beyond pid_max */
	assert_false(gsp_sv_writer_alive(&h, now, 2 * NS_PER_S));
	h.writer_pid = 1;			/* init: EPERM or alive */
	assert_true(gsp_sv_writer_alive(&h, now, 2 * NS_PER_S));
	h.flags = GSP_SV_FLAG_CLOSED;
	assert_false(gsp_sv_writer_alive(&h, now, 2 * NS_PER_S));
}

static void
test_names(void **state)
{
	struct gsp_sv_header h;
	char buf[128];

	(void)state;
	/* the reader's names are the core's, by index: one ABI */
	for (unsigned int i = 0; i < GSP_RX_ERR_MAX; i++)
		assert_string_equal(gsp_sv_drop_reason_name(i),
				    gsp_rx_err_name(i));
	assert_true(GSP_RX_ERR_MAX <= GSP_SV_DROP_REASONS +
		    GSP_SV_DROP_REASONS_EXT);
	assert_string_equal(gsp_sv_drop_reason_name(11), "unsealed");
	assert_string_equal(gsp_sv_drop_reason_name(18), "oversized");
	assert_string_equal(gsp_sv_drop_reason_name(23), "reason23");
	assert_string_equal(gsp_sv_drop_reason_name(99), "reason99");
	/* reasons past 15 live in the minor-3 security block */
	memset(&h, 0, sizeof(h));
	h.minor = 3;
	h.counters.rx_drop[15] = 5;
	h.security.rx_drop_ext[0] = 7;
	assert_int_equal(gsp_sv_drop_count(&h, 15), 5);
	assert_int_equal(gsp_sv_drop_count(&h, 16), 7);
	assert_int_equal(gsp_sv_drop_count(&h, 24), 0);
	h.minor = 2;		/* an older writer has no such block */
	assert_int_equal(gsp_sv_drop_count(&h, 16), 0);
	assert_string_equal(gsp_sv_fault_ctr_name(0), "dropped");
	assert_string_equal(gsp_sv_fault_ctr_name(6), "queue_full");
	assert_string_equal(gsp_sv_fault_ctr_name(GSP_SV_FAULT_CTRS),
			    "unknown");
	assert_string_equal(gsp_sv_state_name(GSP_SV_ALIVE), "alive");
	assert_string_equal(gsp_sv_state_name(GSP_SV_SUSPECT), "suspect");
	assert_string_equal(gsp_sv_state_name(GSP_SV_DOWN), "down");
	assert_string_equal(gsp_sv_state_name(GSP_SV_LEFT), "left");
	assert_string_equal(gsp_sv_state_name(200), "unknown");

	assert_int_equal(gsp_sv_default_path(buf, sizeof(buf), "prod", "web-1"),
			 0);
	assert_string_equal(buf, "/dev/shm/gossipd.prod.web-1");
	assert_int_equal(gsp_sv_default_path(buf, sizeof(buf), "prod", "../x"),
			 -EINVAL);
	assert_int_equal(gsp_sv_default_path(buf, sizeof(buf), "", "n"),
			 -EINVAL);
	assert_int_equal(gsp_sv_default_path(buf, sizeof(buf), "p", ".."),
			 -EINVAL);
	assert_int_equal(gsp_sv_default_path(buf, 10, "prod", "web-1"),
			 -ENAMETOOLONG);
}

/* ---- concurrency: no torn snapshot ---- */

#define CONC_CAP 64
#define CONC_LCORES 4

struct conc {
	struct gsp_sv_writer *w;
	volatile int stop;
	uint64_t publishes;
};

/* Every field of every record is derived from k alone. */
static void
conc_fill(struct gsp_sv_member *m, struct gsp_sv_lcore *l,
	  struct gsp_sv_counters *c, uint64_t k)
{
	for (unsigned int i = 0; i < CONC_CAP; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].id = k;
		m[i].generation = k;
		m[i].heartbeat = k;
		m[i].version = k;
		m[i].last_update_unix_ns = k;
		m[i].ip = (uint32_t)k;
		m[i].port = (uint16_t)k;
		m[i].phi_milli = (uint32_t)k;
		m[i].app_count = 1;
		snprintf(m[i].name, sizeof(m[i].name), "m%" PRIu64, k);
		m[i].app[0].version = k;
		snprintf(m[i].app[0].key, sizeof(m[i].app[0].key), "k%" PRIu64,
			 k);
		snprintf(m[i].app[0].value, sizeof(m[i].app[0].value),
			 "v%" PRIu64, k);
	}
	for (unsigned int i = 0; i < CONC_LCORES; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].lcore_id = (uint32_t)k;
		l[i].rx_packets = k;
		l[i].idle_sleeps = k;
	}
	memset(c, 0, sizeof(*c));
	c->rounds = k;
	c->rx_drop[GSP_SV_DROP_REASONS - 1] = k;
}

static void *
conc_writer(void *arg)
{
	struct conc *cc = arg;
	static struct gsp_sv_member m[CONC_CAP];
	struct gsp_sv_lcore l[CONC_LCORES];
	struct gsp_sv_counters c;
	struct gsp_sv_update u;

	for (uint64_t k = 1; !cc->stop; k++) {
		conc_fill(m, l, &c, k);
		memset(&u, 0, sizeof(u));
		u.now_unix_ns = k;
		u.self_id = k;
		u.self_generation = k;
		u.counters = &c;
		u.members = m;
		u.n_members = 1 + (uint32_t)(k % CONC_CAP);
		u.lcores = l;
		u.n_lcores = 1 + (uint32_t)(k % CONC_LCORES);
		gsp_sv_writer_publish(cc->w, &u);
		cc->publishes = k;
	}
	return NULL;
}

static void
conc_check(const struct gsp_sv_snapshot *s)
{
	uint64_t k = s->hdr.self_id;
	char name[32];

	/* a fresh view (k = 0) has no records to compare */
	if (k == 0) {
		assert_int_equal(s->hdr.member_count, 0);
		return;
	}
	snprintf(name, sizeof(name), "m%" PRIu64, k);
	assert_int_equal(s->hdr.self_generation, k);
	assert_int_equal(s->hdr.heartbeat_unix_ns, k);
	assert_int_equal(s->hdr.counters.rounds, k);
	assert_int_equal(s->hdr.counters.rx_drop[GSP_SV_DROP_REASONS - 1], k);
	assert_int_equal(s->hdr.member_count, 1 + k % CONC_CAP);
	assert_int_equal(s->hdr.lcore_count, 1 + k % CONC_LCORES);
	for (uint32_t i = 0; i < s->hdr.member_count; i++) {
		const struct gsp_sv_member *m = &s->members[i];

		assert_int_equal(m->id, k);
		assert_int_equal(m->generation, k);
		assert_int_equal(m->heartbeat, k);
		assert_int_equal(m->version, k);
		assert_int_equal(m->last_update_unix_ns, k);
		assert_int_equal(m->ip, (uint32_t)k);
		assert_int_equal(m->port, (uint16_t)k);
		assert_int_equal(m->phi_milli, (uint32_t)k);
		assert_int_equal(m->app[0].version, k);
		assert_string_equal(m->name, name);
		assert_string_equal(m->app[0].value + 1, name + 1);
	}
	for (uint32_t i = 0; i < s->hdr.lcore_count; i++) {
		assert_int_equal(s->lcores[i].lcore_id, (uint32_t)k);
		assert_int_equal(s->lcores[i].rx_packets, k);
		assert_int_equal(s->lcores[i].idle_sleeps, k);
	}
}

static void
test_concurrent_no_torn_reads(void **state)
{
	struct fixture *f = *state;
	struct gsp_sv_writer_params p;
	struct gsp_sv_reader *r;
	struct gsp_sv_snapshot s;
	struct conc cc;
	pthread_t tid;
	char err[256];
	uint64_t t_end, last_k = 0;
	unsigned int snaps = 0, distinct = 0, busy = 0;
	int ret;

	memset(&cc, 0, sizeof(cc));
	params_init(&p, f->path, CONC_CAP, CONC_LCORES);
	assert_int_equal(gsp_sv_writer_create(&p, &cc.w, err, sizeof(err)), 0);
	assert_int_equal(gsp_sv_open(f->path, &r), 0);
	assert_int_equal(pthread_create(&tid, NULL, conc_writer, &cc), 0);

	t_end = mono_ns() + NS_PER_S;
	while (mono_ns() < t_end) {
		ret = gsp_sv_read(r, &s);
		if (ret == -EAGAIN) {
			busy++;		/* allowed, bounded, rare */
			continue;
		}
		assert_int_equal(ret, 0);
		conc_check(&s);
		if (s.hdr.self_id != last_k)
			distinct++;
		last_k = s.hdr.self_id;
		snaps++;
		gsp_sv_snapshot_free(&s);
		/* let the writer run even on one CPU or under valgrind */
		if ((snaps & 15) == 0)
			sched_yield();
	}
	cc.stop = 1;
	assert_int_equal(pthread_join(tid, NULL), 0);
	gsp_sv_close(r);
	gsp_sv_writer_close(cc.w, unix_now_ns(), true);

	print_message("# %u snapshots (%u distinct), %u busy, %" PRIu64
		      " publishes\n", snaps, distinct, busy, cc.publishes);
	/* floors low enough for one loaded CPU or valgrind; a normal run
	 * takes ~10^5 snapshots of ~10^4 distinct publishes */
	assert_true(snaps >= 100);
	assert_true(distinct >= 2);
	assert_true(busy < snaps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_read, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_unlink_and_replace,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_bad_params, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hand_valid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reject_bad_magic, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reject_bad_major, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reject_truncated, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reject_bad_sizes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reject_counts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reject_shrunk_after_open,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject_never_even, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_takeover_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_and_recreate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_survives_truncation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_survives_truncation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_app_ext_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_minor6_records, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reject_bad_app_ext, setup,
						teardown),
		cmocka_unit_test(test_writer_alive),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_concurrent_no_torn_reads,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
