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
 * all members (the view then holds only the first ones that fit).
 */
int gsp_sv_writer_publish(struct gsp_sv_writer *w,
			  const struct gsp_sv_update *u);

uint32_t gsp_sv_writer_member_capacity(const struct gsp_sv_writer *w);
uint32_t gsp_sv_writer_lcore_capacity(const struct gsp_sv_writer *w);

/*
 * Marks the view CLOSED (last publish) and unmaps it; with unlink_file the
 * file is removed too, unless another writer has replaced it since.
 */
void gsp_sv_writer_close(struct gsp_sv_writer *w, uint64_t now_unix_ns,
			 bool unlink_file);

#ifdef __cplusplus
}
#endif

#endif /* GSP_SV_WRITER_H */
