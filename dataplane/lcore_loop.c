/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-lcore polling loop: rx burst -> process -> timers when due ->
 * tx flush -> idle backoff. The protocol lcore runs the gossip core; other
 * worker lcores hand their frames to it over an rte_ring, so the
 * membership table keeps a single writer.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "gossipd.h"

/* Spin, then pause, then sleep with a doubling period: several nodes can
 * share two cores while a busy node still polls flat out. */
static void
gsp_idle(struct gsp_lcore_conf *lc, uint64_t until_ns, uint64_t now_ns)
{
	const struct gsp_config *cfg = gsp_dp.cfg;
	uint64_t max_us;

	lc->idle_polls++;
	if (lc->idle_polls < cfg->idle_spin)
		return;
	if (lc->idle_polls < cfg->idle_spin + cfg->idle_pause) {
		rte_pause();
		return;
	}
	lc->sleep_us = lc->sleep_us == 0 ? 1 : lc->sleep_us * 2;
	if (lc->sleep_us > cfg->idle_sleep_us)
		lc->sleep_us = cfg->idle_sleep_us;
	max_us = until_ns > now_ns ? (until_ns - now_ns) / 1000 : 0;
	if (max_us == 0)
		return;
	GSP_LSTAT_ADD(lc, idle_sleeps, 1);
	rte_delay_us_sleep(lc->sleep_us < max_us ? lc->sleep_us : max_us);
}

static void
gsp_idle_reset(struct gsp_lcore_conf *lc)
{
	lc->idle_polls = 0;
	lc->sleep_us = 0;
}

static int
gsp_proto_loop(struct gsp_dp *dp, struct gsp_lcore_conf *lc)
{
	struct rte_mbuf *pkts[GSP_MAX_PKT_BURST];
	uint64_t next_tick = 0, now_ns;
	uint16_t nb_rx, nb_ring;

	gsp_arp_announce(dp, lc);
	while (!dp->force_quit) {
		nb_rx = rte_eth_rx_burst(dp->port_id, lc->queue_id, pkts,
					 GSP_MAX_PKT_BURST);
		now_ns = gsp_dp_tsc_to_ns(rte_get_tsc_cycles());
		for (uint16_t i = 0; i < nb_rx; i++)
			gsp_pkt_process(dp, lc, pkts[i], now_ns);
		nb_ring = dp->handoff_ring == NULL ? 0 :
			rte_ring_sc_dequeue_burst(dp->handoff_ring,
				(void **)pkts, GSP_MAX_PKT_BURST, NULL);
		for (uint16_t i = 0; i < nb_ring; i++)
			gsp_pkt_process(dp, lc, pkts[i], now_ns);

		gsp_dp_process_commands(dp, now_ns);
		if (now_ns >= next_tick) {
			next_tick = gsp_node_tick(dp->node, now_ns);
			if (gsp_node_leave_done(dp->node))
				dp->force_quit = true;
		}
		gsp_tx_flush(dp, lc);

		if (nb_rx + nb_ring == 0)
			gsp_idle(lc, next_tick, now_ns);
		else
			gsp_idle_reset(lc);
	}
	gsp_tx_flush(dp, lc);
	return 0;
}

static int
gsp_worker_loop(struct gsp_dp *dp, struct gsp_lcore_conf *lc)
{
	struct rte_mbuf *pkts[GSP_MAX_PKT_BURST];
	uint16_t nb_rx;
	unsigned int queued;

	while (!dp->force_quit) {
		nb_rx = rte_eth_rx_burst(dp->port_id, lc->queue_id, pkts,
					 GSP_MAX_PKT_BURST);
		if (nb_rx == 0) {
			uint64_t now_ns = gsp_dp_tsc_to_ns(rte_get_tsc_cycles());

			gsp_idle(lc, now_ns + 1000000, now_ns);
			continue;
		}
		gsp_idle_reset(lc);
		queued = rte_ring_mp_enqueue_burst(dp->handoff_ring,
						   (void **)pkts, nb_rx, NULL);
		GSP_LSTAT_ADD(lc, rx_handoff, queued);
		if (queued < nb_rx) {
			GSP_LSTAT_ADD(lc, rx_handoff_full, nb_rx - queued);
			rte_pktmbuf_free_bulk(&pkts[queued], nb_rx - queued);
		}
	}
	return 0;
}

int
gsp_lcore_main(__rte_unused void *arg)
{
	struct gsp_lcore_conf *lc = &gsp_dp.lconf[rte_lcore_id()];

	if (!lc->enabled)
		return 0;
	return lc->is_proto ? gsp_proto_loop(&gsp_dp, lc) :
		gsp_worker_loop(&gsp_dp, lc);
}
