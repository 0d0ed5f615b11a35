/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Status view writer: creates the shared-memory file described in
 * include/gossipd/status_view.h and publishes into it with the seqcount
 * protocol. Single writer; no DPDK and no core calls, the caller (ctrl.c)
 * gathers the data and hands it over in one gsp_sv_writer_publish().
 */
#ifndef GSP_SV_WRITER_H
#define GSP_SV_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gossipd/status_view.h"

#ifdef __cplusplus
extern "C" {
#endif

struct gsp_sv_writer;

/* What goes into the header once, at creation. */
struct gsp_sv_writer_params {
	const char *path;		/* final file name */
	const char *cluster;
	const char *node_name;
	const char *control_socket;	/* may be NULL or "" */
	uint32_t member_capacity;	/* >= 1 */
	uint32_t lcore_capacity;
	uint32_t self_ip;		/* host byte order */
	uint16_t self_port;
	uint64_t gossip_interval_ns;
	uint32_t phi_convict_milli;
};

/* One publish: everything a reader sees changes atomically. */
struct gsp_sv_update {
	uint64_t now_unix_ns;		/* becomes heartbeat_unix_ns */
	uint64_t self_id;
	uint64_t self_generation;
	const struct gsp_sv_counters *counters;	/* NULL: keep the old ones */
	const struct gsp_sv_extra *extra;	/* NULL: keep the old ones */
	const struct gsp_sv_security *security;	/* NULL: keep the old */
	const struct gsp_sv_view *view;		/* NULL: keep the old */
	/* a header whose every GSP_COUNTERS field is published, the ones
	 * outside the structs above too (probe_rtt_us, probes_late,
	 * claim_pushes...: gsp_sv_counters_copy); NULL: keep the old */
	const struct gsp_sv_header *counters_from;
	bool faults;			/* GSP_SV_FLAG_FAULTS */
	const struct gsp_sv_member *members;
	uint32_t n_members;		/* clamped to the capacity */
	const struct gsp_sv_lcore *lcores;
	uint32_t n_lcores;		/* clamped to the capacity */
};

/*
 * Creates the view at p->path (temp file + rename, mode 0644). Refuses to
 * replace a view whose writer is another live process. 0, or -errno with
 * a message in err.
 */
int gsp_sv_writer_create(const struct gsp_sv_writer_params *p,
			 struct gsp_sv_writer **out, char *err, size_t errlen);

/*
 * Publishes an update. 0, or -ENOSPC when the file system could not back
 * all members (the view then holds only the first ones that fit), or
 * -errno when a write failed (seq is then left odd: readers never see a
 * half-written update as consistent).
 */
int gsp_sv_writer_publish(struct gsp_sv_writer *w,
			  const struct gsp_sv_update *u);

/* What became of the view's file since it was created. */
enum gsp_sv_file {
	GSP_SV_FILE_OK,
	GSP_SV_FILE_TRUNCATED,		/* shorter, or cut and refilled */
	GSP_SV_FILE_OVERWRITTEN,	/* its header is not what we wrote */
	GSP_SV_FILE_REPLACED,		/* another file at the path */
	GSP_SV_FILE_REMOVED,		/* nothing at the path */
};

/*
 * Checks the file before a publish: one stat() of the path (compared with
 * the file we wrote: device, inode, size) and one pread() of the header's
 * first 24 bytes. detail (may be NULL) gets a few words for a log line.
 */
enum gsp_sv_file gsp_sv_writer_check(struct gsp_sv_writer *w, char *detail,
				     size_t detail_len);
const char *gsp_sv_file_name(enum gsp_sv_file f);

/*
 * Builds a fresh view at the path (same header, start time and seq) with
 * the update u in it, and renames it into place; the old file is let go.
 * Refuses (-EBUSY) when the path now holds the view of another live
 * writer. 0, -ENOSPC as publish, or -errno with a message in err.
 */
int gsp_sv_writer_recreate(struct gsp_sv_writer *w,
			   const struct gsp_sv_update *u, char *err,
			   size_t errlen);

/*
 * Appends one app entry to a member record being built: to app_ext (all
 * of the member's state, minor 7) and, while it has a free slot, to the
 * legacy app[] for readers of minor 6 and older, the value cut to 63
 * bytes there. 0; -EINVAL for an empty or long (>= 32) key or a long
 * (>= 256) value; -ENOSPC when app_ext is full (nothing added).
 */
int gsp_sv_member_app_add(struct gsp_sv_member *m, uint64_t version,
			  const char *key, size_t klen, const char *value,
			  size_t vlen);

uint32_t gsp_sv_writer_member_capacity(const struct gsp_sv_writer *w);
uint32_t gsp_sv_writer_lcore_capacity(const struct gsp_sv_writer *w);

/*
 * Marks the view CLOSED (last publish, when the file is still intact) and
 * closes it; with unlink_file the file is removed too, unless another
 * writer has replaced it since.
 */
void gsp_sv_writer_close(struct gsp_sv_writer *w, uint64_t now_unix_ns,
			 bool unlink_file);

#ifdef __cplusplus
}
#endif

#endif /* GSP_SV_WRITER_H */
