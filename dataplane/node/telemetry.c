/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_telemetry commands (/gossipd/info, /gossipd/stats, /gossipd/members)
 * so that dpdk-telemetry.py shows a node. They run on DPDK's telemetry
 * thread and answer from the status view the control thread publishes:
 * a consistent copy through libgsp_sv, no lock and no work on the lcores.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_telemetry.h>

#include "gossipd/status_view.h"
#include "gsp_log.h"
#include "gsp_telemetry.h"

/* members answered per call: the reply is at most 16 KiB; page on with
 * /gossipd/members,OFFSET */
#define GSP_TEL_MEMBERS 100

static char gsp_tel_path[256];

static int
gsp_tel_snap(struct gsp_sv_snapshot *s)
{
	struct gsp_sv_reader *r;
	int ret = gsp_sv_open(gsp_tel_path, &r);

	if (ret != 0)
		return ret;
	ret = gsp_sv_read(r, s);
	gsp_sv_close(r);
	return ret;
}

static int
gsp_tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gsp_sv_snapshot s;
	char id[24];

	(void)cmd;
	(void)params;
	if (gsp_tel_snap(&s) != 0)
		return -1;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "cluster", s.hdr.cluster);
	rte_tel_data_add_dict_string(d, "node", s.hdr.node_name);
	snprintf(id, sizeof(id), "0x%016" PRIx64, s.hdr.self_id);
	rte_tel_data_add_dict_string(d, "id", id);
	rte_tel_data_add_dict_u64(d, "generation", s.hdr.self_generation);
	rte_tel_data_add_dict_u64(d, "incarnation", s.hdr.extra.incarnation);
	rte_tel_data_add_dict_u64(d, "pid", s.hdr.writer_pid);
	rte_tel_data_add_dict_u64(d, "port", s.hdr.self_port);
	rte_tel_data_add_dict_u64(d, "member_capacity",
				  s.hdr.member_capacity);
	rte_tel_data_add_dict_string(d, "status_view", gsp_tel_path);
	gsp_sv_snapshot_free(&s);
	return 0;
}

static int
gsp_tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct gsp_sv_counters *k;
	struct gsp_sv_snapshot s;
	uint64_t lc[4] = { 0 };

	(void)cmd;
	(void)params;
	if (gsp_tel_snap(&s) != 0)
		return -1;
	k = &s.hdr.counters;
	for (uint32_t i = 0; i < s.hdr.lcore_count; i++) {
		lc[0] += s.lcores[i].rx_packets;
		lc[1] += s.lcores[i].rx_bytes;
		lc[2] += s.lcores[i].tx_packets;
		lc[3] += s.lcores[i].tx_bytes;
	}
	rte_tel_data_start_dict(d);
#define U(n, v) rte_tel_data_add_dict_u64(d, n, v)
	U("members", k->members);
	U("alive", k->alive);
	U("suspect", k->suspect);
	U("down", k->down);
	U("left", k->left);
	U("view_peers", s.hdr.view.peers);
	U("view_agree", s.hdr.view.agree);
	U("rounds", k->rounds);
	U("rx_packets", lc[0]);
	U("rx_bytes", lc[1]);
	U("tx_packets", lc[2]);
	U("tx_bytes", lc[3]);
	U("tx_ping", k->tx_ping);
	U("rx_ping", k->rx_ping);
	U("tx_pong", k->tx_pong);
	U("rx_pong", k->rx_pong);
	U("tx_ping_req", k->tx_ping_req);
	U("rx_ping_req", k->rx_ping_req);
	U("tx_nack", k->tx_nack);
	U("rx_nack", k->rx_nack);
	U("probes_failed", k->probes_failed);
	U("suspicions", k->suspicions);
	U("refutations", k->refutations);
	U("claims", s.hdr.extra.claims_rx);
	U("declared_down", s.hdr.extra.declared_down);
	U("awareness", s.hdr.extra.awareness);
	U("rx_key_primary", s.hdr.security.rx_key_primary);
	U("rx_key_other", s.hdr.security.rx_key_other);
	U("limit_hits", s.hdr.security.limit_hits);
	U("implausible", s.hdr.security.implausible);
	U("renewals", s.hdr.security.renewals);
	for (unsigned int r = 0;
	     r < GSP_SV_DROP_REASONS + GSP_SV_DROP_REASONS_EXT; r++) {
		char n[RTE_TEL_MAX_STRING_LEN];
		const char *rn = gsp_sv_drop_reason_name(r);

		/* reason 0 is "ok"; unnamed slots are reserved room */
		if (r == 0 || strncmp(rn, "reason", 6) == 0)
			continue;
		snprintf(n, sizeof(n), "drop_%s", rn);
		U(n, gsp_sv_drop_count(&s.hdr, r));
	}
#undef U
	gsp_sv_snapshot_free(&s);
	return 0;
}

static int
gsp_tel_members(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct gsp_sv_snapshot s;
	struct rte_tel_data *m;
	unsigned long off = 0;
	uint32_t i, shown = 0;
	char *end;

	(void)cmd;
	if (params != NULL && params[0] != '\0') {
		off = strtoul(params, &end, 10);
		if (*end != '\0')
			return -1;	/* "not a number": an error reply */
	}
	m = rte_tel_data_alloc();
	if (m == NULL)
		return -1;
	if (gsp_tel_snap(&s) != 0) {
		rte_tel_data_free(m);
		return -1;
	}
	rte_tel_data_start_dict(m);
	for (i = off; i < s.hdr.member_count && shown < GSP_TEL_MEMBERS;
	     i++, shown++) {
		char name[sizeof(s.members[i].name) + 1];

		snprintf(name, sizeof(name), "%.*s",
			 (int)sizeof(s.members[i].name), s.members[i].name);
		rte_tel_data_add_dict_string(m, name,
			gsp_sv_state_name(s.members[i].state));
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "count", s.hdr.member_count);
	rte_tel_data_add_dict_u64(d, "offset", off);
	rte_tel_data_add_dict_u64(d, "shown", shown);
	rte_tel_data_add_dict_container(d, "members", m, 0);
	gsp_sv_snapshot_free(&s);
	return 0;
}

void
gsp_telemetry_register(const char *status_path)
{
	snprintf(gsp_tel_path, sizeof(gsp_tel_path), "%s", status_path);
	/* fails only with telemetry off or a name taken: not fatal */
	if (rte_telemetry_register_cmd("/gossipd/info", gsp_tel_info,
			"This node: cluster, name, id, generation. No "
			"parameters") != 0 ||
	    rte_telemetry_register_cmd("/gossipd/stats", gsp_tel_stats,
			"Member counts by state and the protocol's counters. "
			"No parameters") != 0 ||
	    rte_telemetry_register_cmd("/gossipd/members", gsp_tel_members,
			"Members: name -> state, 100 at most from OFFSET. "
			"Parameters: OFFSET (default 0)") != 0)
		gsp_log(LOG_WARNING, "telemetry: cannot register the "
			"/gossipd commands");
}
