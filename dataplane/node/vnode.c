/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtual nodes: creation, placement on lcores, the per-lcore timer heap
 * and the rx doorbell.
 *
 * A vnode lives on one lcore for its whole life; that lcore is the only
 * thread that calls into its gossip core, so every core stays
 * single-writer. Frames reach a vnode through its rx ring (MP enqueue from
 * any lcore, SC dequeue by the owner). The enqueuer then sets the vnode's
 * bit in the owner's doorbell bitmap, and that word's bit in a bitmap of
 * words (gsp_lcore_ring), so an lcore hosting thousands of vnodes polls
 * only the rings that have frames, reading only the words that rang.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "gossipd.h"
#include "gsp_log.h"

int
gsp_vnodes_alloc(struct gsp_dp *dp, uint32_t n)
{
	if (n == 0 || n > GSP_MAX_VNODES)
		return -EINVAL;
	dp->vnodes = rte_zmalloc_socket("gsp_vnodes", sizeof(*dp->vnodes) * n,
					RTE_CACHE_LINE_SIZE,
					(int)rte_socket_id());
	if (dp->vnodes == NULL)
		return -ENOMEM;
	dp->n_vnodes = n;
	for (uint32_t i = 0; i < n; i++)
		dp->vnodes[i].idx = i;
	return 0;
}

/* Not registered by name: thousands of rings would exhaust the memzones. */
static struct rte_ring *
gsp_vnode_ring(uint32_t idx, unsigned int size)
{
	char name[RTE_RING_NAMESIZE];
	ssize_t sz = rte_ring_get_memsize(size);
	struct rte_ring *r;

	if (sz < 0)
		return NULL;
	r = rte_zmalloc_socket("gsp_vnode_ring", (size_t)sz,
			       RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
	if (r == NULL)
		return NULL;
	snprintf(name, sizeof(name), "gsp_rx_%u", idx);
	if (rte_ring_init(r, name, size, RING_F_SC_DEQ) != 0) {
		rte_free(r);
		return NULL;
	}
	return r;
}

int
gsp_vnode_init(struct gsp_dp *dp, struct gsp_vnode *vn,
	       const struct gsp_vnode_params *p)
{
	const struct gsp_config *cfg = dp->cfg;
	struct gsp_node_params np = {
		.id = p->id,
		.generation = p->generation,
		.addr = { .ip = p->ip, .port = p->port },
		.capacity = p->capacity,
		.gossip_interval_ns = (uint64_t)p->interval_ms * 1000000u,
		.fanout = cfg->fanout,
		.phi_suspect = cfg->phi_suspect,
		.phi_convict = cfg->phi_convict,
		.forget_ns = (uint64_t)cfg->forget_s * 1000000000u,
		.max_payload = (uint16_t)(cfg->mtu - 28),
		.leave_rounds = cfg->leave_rounds,
		/* [detector]: every vnode, on a port or emulated */
		.detector = cfg->detector,
		.probe_interval_ns = cfg->probe_interval_ns,
		.probe_timeout_ns = cfg->probe_timeout_ns,
		.indirect_probes = cfg->indirect_probes,
		.suspicion_mult = cfg->suspicion_mult,
		.suspicion_max_mult = cfg->suspicion_max_mult,
		.awareness_max = cfg->awareness_max,
		.keyring = dp->keyring,
		.ids = p->ids,
		.app_value_max = cfg->app_value_max,
		.app_bytes_max = cfg->app_bytes_max,
		.join_rate = cfg->join_rate,
		.join_burst = cfg->join_burst,
		.probe_rate = cfg->probe_rate,
		.probe_burst = cfg->probe_burst,
		.max_clock_skew_ns = cfg->max_clock_skew_ns,
		.wire_version = cfg->wire_version,
		.rng_seed = p->rng_seed,
		.io_ctx = vn,
		.unnamed_events = p->unnamed_events,
	};
	uint32_t arp_entries;
	int err;

	vn->ip = p->ip;
	vn->netmask = p->netmask;
	vn->gateway = p->gateway;
	vn->port = p->port;
	snprintf(np.cluster, sizeof(np.cluster), "%s", cfg->cluster);
	snprintf(np.name, sizeof(np.name), "%s", p->name);
	/* one ARP entry per possible peer on the segment, within reason */
	arp_entries = p->arp_entries != 0 ? p->arp_entries :
		RTE_MIN(p->capacity, 65536u);
	if (arp_entries < 64)
		arp_entries = 64;
	vn->arp = gsp_arp_create(arp_entries, (int)rte_socket_id());
	if (vn->arp == NULL)
		return -ENOMEM;
	if (p->ring_size > 0) {
		vn->rx_ring = gsp_vnode_ring(vn->idx, p->ring_size);
		if (vn->rx_ring == NULL)
			return -ENOMEM;
	}
	vn->node = gsp_node_create(&np, &err);
	if (vn->node == NULL)
		return err;
	for (unsigned int i = 0; i < cfg->n_app; i++) {
		int rc = gsp_node_set_app(vn->node, cfg->app_keys[i],
					  cfg->app_values[i]);

		if (rc != 0 && vn->idx == 0)
			gsp_log(LOG_WARNING, "[app] %s rejected: %s",
				cfg->app_keys[i], rc == -E2BIG ?
				"over [limits] app_value_max or app_bytes_max" :
				rc == -ENOSPC ? "too many keys" : "invalid");
	}
	gsp_node_set_seeds(vn->node, p->seeds, p->n_seeds);
	return 0;
}

static void
gsp_ring_drain_free(struct rte_ring *r)
{
	struct rte_mbuf *pkts[GSP_MAX_PKT_BURST];
	unsigned int n;

	while ((n = rte_ring_sc_dequeue_burst(r, (void **)pkts,
					      GSP_MAX_PKT_BURST, NULL)) > 0)
		rte_pktmbuf_free_bulk(pkts, n);
}

void
gsp_vnodes_free(struct gsp_dp *dp)
{
	unsigned int lcore;

	for (uint32_t i = 0; dp->vnodes != NULL && i < dp->n_vnodes; i++) {
		struct gsp_vnode *vn = &dp->vnodes[i];

		gsp_node_destroy(vn->node);
		if (vn->arp != NULL)
			gsp_arp_flush(vn);
		gsp_arp_destroy(vn->arp);
		if (vn->rx_ring != NULL) {
			gsp_ring_drain_free(vn->rx_ring);
			rte_free(vn->rx_ring);
		}
	}
	RTE_LCORE_FOREACH(lcore) {
		struct gsp_lcore_conf *lc = &dp->lconf[lcore];

		rte_free(lc->vnodes);
		rte_free(lc->timers);
		rte_free(lc->doorbell);
		rte_free(lc->bell_words);
		lc->vnodes = NULL;
		lc->timers = NULL;
		lc->doorbell = NULL;
		lc->bell_words = NULL;
	}
	rte_free(dp->vnodes);
	dp->vnodes = NULL;
	dp->n_vnodes = 0;
}

int
gsp_vnode_place(struct gsp_dp *dp, struct gsp_vnode *vn, unsigned int lcore)
{
	struct gsp_lcore_conf *lc;

	if (lcore >= RTE_MAX_LCORE || !dp->lconf[lcore].enabled)
		return -EINVAL;
	lc = &dp->lconf[lcore];
	vn->lc = lc;
	vn->lc_idx = lc->n_vnodes++;
	return 0;
}

/* ---- timer heap: the vnode whose round is due first is on top ---- */

int
gsp_lcores_ready(struct gsp_dp *dp)
{
	unsigned int lcore;

	RTE_LCORE_FOREACH(lcore) {
		struct gsp_lcore_conf *lc = &dp->lconf[lcore];
		uint32_t words = (lc->n_vnodes + 63) / 64;

		if (!lc->enabled || lc->n_vnodes == 0)
			continue;
		/* the vnodes' rx rings are the switch's ports (emulation) */
		if (dp->sw != NULL)
			lc->port_kind = GSP_PORT_SWITCH;
		lc->vnodes = rte_zmalloc_socket("gsp_lc_vnodes",
				sizeof(*lc->vnodes) * lc->n_vnodes, 0,
				(int)rte_lcore_to_socket_id(lcore));
		lc->timers = rte_zmalloc_socket("gsp_lc_timers",
				sizeof(*lc->timers) * lc->n_vnodes, 0,
				(int)rte_lcore_to_socket_id(lcore));
		/* its own cache lines: other lcores write it */
		lc->doorbell = rte_zmalloc_socket("gsp_lc_doorbell",
				sizeof(*lc->doorbell) * words,
				RTE_CACHE_LINE_SIZE,
				(int)rte_lcore_to_socket_id(lcore));
		lc->bell_words = rte_zmalloc_socket("gsp_lc_bell_words",
				sizeof(*lc->bell_words) * ((words + 63) / 64),
				RTE_CACHE_LINE_SIZE,
				(int)rte_lcore_to_socket_id(lcore));
		if (lc->vnodes == NULL || lc->timers == NULL ||
		    lc->doorbell == NULL || lc->bell_words == NULL)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		struct gsp_vnode *vn = &dp->vnodes[i];

		vn->lc->vnodes[vn->lc_idx] = vn;
		vn->lc->timers[vn->lc_idx] = vn;
		vn->heap_pos = vn->lc_idx;
	}
	RTE_LCORE_FOREACH(lcore) {
		struct gsp_lcore_conf *lc = &dp->lconf[lcore];

		gsp_timers_heapify(lc);
	}
	return 0;
}
