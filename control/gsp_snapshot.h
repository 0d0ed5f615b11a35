/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * [node] snapshot = PATH (docs/SNAPSHOT.md): what a node must not forget
 * across a restart, as Serf's snapshots: its app state as written at run
 * time, and some live peers' addresses, contacted at start as extra
 * seeds. A JSON file, versioned, written atomically by the control thread
 * when it changed (at most once a second) and at exit.
 */
#ifndef GSP_SNAPSHOT_H
#define GSP_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "gsp_config.h"

#define GSP_SNAP_FORMAT "gossipd-snapshot"
#define GSP_SNAP_VERSION 1
#define GSP_SNAP_PEERS_MAX 32		/* live peers kept */
#define GSP_SNAP_SIZE_MAX (64u * 1024)	/* a larger file is refused */
#define GSP_SNAP_CHECK_NS 1000000000ull	/* the table looked at, at most */

/*
 * Before the node exists: reads cfg->snapshot_path (when set) into cfg's
 * [app] (precedence in docs/SNAPSHOT.md) and keeps its peers for
 * gsp_snap_peers(). Never stops the start: a missing file is a first
 * start; an unreadable, corrupt or foreign one is a warning naming the
 * file and what is wrong, renamed to PATH.corrupt, and ignored.
 */
void gsp_snap_restore(struct gsp_config *cfg);
/* The peers gsp_snap_restore() read (at most max). */
unsigned int gsp_snap_peers(struct gsp_addr *out, unsigned int max);
/*
 * The control thread, each loop: at most once per GSP_SNAP_CHECK_NS (or
 * at once when force), rewrites the snapshot when what it holds changed.
 * now: monotonic ns.
 */
void gsp_snap_tick(const struct gsp_config *cfg, uint64_t now, bool force);

/* Parses text (len bytes) as a snapshot of cfg's node; 0, or -1 with
 * "what" in err. app/peers filled on success (unit tests). */
struct gsp_snap {
	char app_keys[GSP_APP_KEYS_MAX][GSP_APP_KEY_MAX];
	char app_values[GSP_APP_KEYS_MAX][GSP_APP_VALUE_MAX];
	unsigned int n_app;
	char cfg_keys[GSP_APP_KEYS_MAX][GSP_APP_KEY_MAX];
	char cfg_values[GSP_APP_KEYS_MAX][GSP_APP_VALUE_MAX];
	unsigned int n_cfg;
	struct gsp_addr peers[GSP_SNAP_PEERS_MAX];
	unsigned int n_peers;
};
int gsp_snap_parse(const struct gsp_config *cfg, const char *text,
		   size_t len, struct gsp_snap *out, char *err, size_t errlen);
/* Merges s's app state into cfg's [app]. */
void gsp_snap_merge_app(struct gsp_config *cfg, const struct gsp_snap *s);

#endif /* GSP_SNAPSHOT_H */
