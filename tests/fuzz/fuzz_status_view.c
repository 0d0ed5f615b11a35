/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the status view reader (libgsp_sv) on a file holding
 * the input, as a program reading a hostile or corrupt /dev/shm file would.
 * The file is a memfd opened through /proc/self/fd: a regular file that
 * the reader maps like any other.
 *
 * Built with SV_READ_TRIES small: an odd (mid-publish) sequence number
 * makes the reader retry and sleep, which is right for a live writer but
 * would spend the fuzzing budget waiting.
 *
 * Oracles besides the sanitizers: errors are negative errno values from
 * the documented set; a snapshot has counts within its capacities,
 * terminated strings, and app_ext that unpacks whole (minor 7: checked;
 * older writers: filled from the legacy slots).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gossipd/status_view.h"

static int fz_fd = -1;
static char fz_path[64];

static void
fz_fail(const char *what, int ret)
{
	fprintf(stderr, "fuzz_status_view: %s (%d)\n", what, ret);
	abort();
}

static bool
fz_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
fz_write(const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t w;

	if (fz_fd < 0) {
		fz_fd = memfd_create("fuzz_status_view", MFD_CLOEXEC);
		if (fz_fd < 0)
			fz_fail("memfd_create failed", -errno);
		snprintf(fz_path, sizeof(fz_path), "/proc/self/fd/%d", fz_fd);
	}
	if (ftruncate(fz_fd, 0) != 0)
		fz_fail("ftruncate failed", -errno);
	while (off < size) {
		w = pwrite(fz_fd, data + off, size - off, (off_t)off);
		if (w <= 0)
			fz_fail("pwrite failed", -errno);
		off += (size_t)w;
	}
}

/* Every entry of app_ext comes out, each key 1..31 bytes, no more. */
static void
fz_check_apps(const struct gsp_sv_member *m, uint32_t i)
{
	struct gsp_sv_app_entry a[GSP_SV_APP_EXT_KEYS];
	unsigned int n;

	if (m->app_ext.count > GSP_SV_APP_EXT_KEYS ||
	    m->app_ext.bytes > GSP_SV_APP_DATA)
		fz_fail("member app_ext bounds", (int)i);
	n = gsp_sv_member_apps(m, a, GSP_SV_APP_EXT_KEYS);
	if (n != m->app_ext.count)
		fz_fail("member app_ext does not unpack whole", (int)i);
	for (unsigned int k = 0; k < n; k++) {
		size_t kl = strnlen(a[k].key, sizeof(a[k].key));

		if (kl == 0 || kl >= sizeof(a[k].key) ||
		    !fz_terminated(a[k].value, sizeof(a[k].value)))
			fz_fail("member app_ext entry", (int)i);
	}
}

static void
fz_check(const struct gsp_sv_snapshot *s)
{
	if (!fz_terminated(s->hdr.cluster, sizeof(s->hdr.cluster)) ||
	    !fz_terminated(s->hdr.node_name, sizeof(s->hdr.node_name)) ||
	    !fz_terminated(s->hdr.control_socket,
			   sizeof(s->hdr.control_socket)))
		fz_fail("header string not terminated", 0);
	if (s->hdr.member_count > s->hdr.member_capacity ||
	    s->hdr.lcore_count > s->hdr.lcore_capacity)
		fz_fail("count above capacity", 0);
	for (uint32_t i = 0; i < s->hdr.member_count; i++) {
		const struct gsp_sv_member *m = &s->members[i];

		if (!fz_terminated(m->name, sizeof(m->name)) ||
		    m->app_count > GSP_SV_APP_KEYS)
			fz_fail("member record", (int)i);
		for (unsigned int k = 0; k < GSP_SV_APP_KEYS; k++)
			if (!fz_terminated(m->app[k].key,
					   sizeof(m->app[k].key)) ||
			    !fz_terminated(m->app[k].value,
					   sizeof(m->app[k].value)))
				fz_fail("member app entry", (int)i);
		fz_check_apps(m, i);
		/* names are for display: they must be callable on anything */
		(void)gsp_sv_state_name(m->state);
	}
	for (uint32_t i = 0; i < s->hdr.lcore_count; i++)
		(void)s->lcores[i].rx_packets;
}

static bool
fz_errno_ok(int ret)
{
	return ret == -EPROTO || ret == -EAGAIN || ret == -ENOMEM ||
		ret == -EINVAL || ret == -ENOENT || ret == -EACCES;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gsp_sv_reader *r = NULL;
	struct gsp_sv_snapshot snap;
	int ret;

	fz_write(data, size);
	ret = gsp_sv_open(fz_path, &r);
	if (ret != 0) {
		if (!fz_errno_ok(ret) || r != NULL)
			fz_fail("gsp_sv_open: unexpected result", ret);
		return 0;
	}
	/* twice: the second read reuses the mapping */
	for (int k = 0; k < 2; k++) {
		ret = gsp_sv_read(r, &snap);
		if (ret == 0) {
			fz_check(&snap);
			(void)gsp_sv_writer_alive(&snap.hdr, 0, 0);
			gsp_sv_snapshot_free(&snap);
		} else if (!fz_errno_ok(ret)) {
			fz_fail("gsp_sv_read: unexpected error", ret);
		}
	}
	gsp_sv_close(r);
	return 0;
}
