/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The switch's uplink (port_uplink.h): set-up of its ethdev and the
 * owner lcore's rx and tx. The switch (port_switch.c) decides what goes
 * out and where what comes in goes; this file only moves frames.
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "gossipd.h"
#include "gsp_log.h"
#include "port_uplink.h"

struct gsp_uplink {
	uint16_t port_id;
	unsigned int owner;		/* lcore polling the queue pair */
	struct rte_ring *tx_ring;	/* other lcores -> owner (MP/SC) */
	struct gsp_uplink_stats st;	/* owner writes */
};

struct gsp_uplink *
gsp_uplink_open(uint16_t port_id, unsigned int owner,
		struct rte_mempool *pool, uint16_t nb_rxd, uint16_t nb_txd)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t ask_rxd = nb_rxd, ask_txd = nb_txd;
	struct gsp_uplink *up;
	int socket;
	int ret;

	if (!rte_eth_dev_is_valid_port(port_id)) {
		gsp_log(LOG_ERR, "--uplink: port %u does not exist (%u ports "
			"found): give one before --, e.g. --vdev "
			"net_memif0,role=server,socket=/run/gsp.sock or "
			"--vdev net_af_packet0,iface=veth0", port_id,
			rte_eth_dev_count_avail());
		return NULL;
	}
	/* DPDK 22.11 reads the device before it checks the id: not before */
	socket = rte_eth_dev_socket_id(port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	up = rte_zmalloc_socket("gsp_uplink", sizeof(*up), RTE_CACHE_LINE_SIZE,
				socket);
	if (up == NULL)
		return NULL;
	up->port_id = port_id;
	up->owner = owner;
	up->tx_ring = rte_ring_create("gsp_uplink_tx", GSP_UPLINK_RING, socket,
				      RING_F_SC_DEQ);
	ret = up->tx_ring == NULL ? -ENOMEM : rte_eth_dev_info_get(port_id,
								   &info);
	/* the frames carry checksums computed in software: no tx offload */
	if (ret == 0)
		ret = rte_eth_dev_configure(port_id, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd,
						       &nb_txd);
	if (ret == 0) {
		gsp_port_desc_adjusted(port_id, info.driver_name, ask_rxd,
				       ask_txd, nb_rxd, nb_txd);
		ret = rte_eth_rx_queue_setup(port_id, 0, nb_rxd, socket, NULL,
					     pool);
	}
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port_id, 0, nb_txd, socket, NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port_id);
	if (ret != 0) {
		gsp_log(LOG_ERR, "--uplink: port %u set-up (%u rx / %u tx "
			"descriptors: [dataplane] rx_descriptors, "
			"tx_descriptors): %s", port_id, nb_rxd, nb_txd,
			strerror(-ret));
		gsp_uplink_close(up);
		return NULL;
	}
	/* frames are addressed to the vnodes' MACs, not to the port's */
	ret = rte_eth_promiscuous_enable(port_id);
	if (ret != 0 && ret != -ENOTSUP)
		gsp_log(LOG_WARNING, "--uplink: port %u: no promiscuous mode "
			"(%s): frames for the vnodes may be filtered",
			port_id, strerror(-ret));
	gsp_log(LOG_NOTICE, "uplink: port %u (%s), 1 queue pair (%u rx / %u "
		"tx descriptors) polled by lcore %u", port_id,
		info.driver_name, nb_rxd, nb_txd, owner);
	return up;
}

void
gsp_uplink_close(struct gsp_uplink *up)
{
	struct rte_mbuf *m;

	if (up == NULL)
		return;
	if (up->tx_ring != NULL) {
		while (rte_ring_sc_dequeue(up->tx_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(up->tx_ring);
		rte_eth_dev_stop(up->port_id);
		rte_eth_dev_close(up->port_id);
	}
	rte_free(up);
}

unsigned int
gsp_uplink_owner(const struct gsp_uplink *up)
{
	return up->owner;
}

unsigned int
gsp_uplink_rx(struct gsp_uplink *up, struct rte_mbuf **pkts, unsigned int n)
{
	return rte_eth_rx_burst(up->port_id, 0, pkts, (uint16_t)n);
}

/* Owner only: into the device; the refused stay the caller's. */
static unsigned int
gsp_uplink_xmit(struct gsp_uplink *up, struct rte_mbuf **pkts,
		unsigned int n)
{
	unsigned int sent = rte_eth_tx_burst(up->port_id, 0, pkts,
					     (uint16_t)n);

	GSP_STAT_ADD(&up->st, tx, sent);
	GSP_STAT_ADD(&up->st, tx_refused, n - sent);
	return sent;
}

unsigned int
gsp_uplink_drain(struct gsp_uplink *up)
{
	struct rte_mbuf *pkts[GSP_MAX_PKT_BURST];
	unsigned int total = 0, n, sent;

	while (total < GSP_UPLINK_DRAIN_MAX) {
		n = rte_ring_sc_dequeue_burst(up->tx_ring, (void **)pkts,
					      GSP_MAX_PKT_BURST, NULL);
		if (n == 0)
			break;
		total += n;
		sent = gsp_uplink_xmit(up, pkts, n);
		/* a full device queue drops, as a NIC's would */
		if (sent < n)
			rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	}
	return total;
}

unsigned int
gsp_uplink_send(struct gsp_uplink *up, struct rte_mbuf **pkts, unsigned int n)
{
	if (rte_lcore_id() != up->owner)
		return rte_ring_mp_enqueue_burst(up->tx_ring, (void **)pkts, n,
						 NULL);
	/* what others handed over first: it is older */
	gsp_uplink_drain(up);
	return gsp_uplink_xmit(up, pkts, n);
}

void
gsp_uplink_stats(const struct gsp_uplink *up, struct gsp_uplink_stats *out)
{
	out->tx = __atomic_load_n(&up->st.tx, __ATOMIC_RELAXED);
	out->tx_refused = __atomic_load_n(&up->st.tx_refused,
					  __ATOMIC_RELAXED);
}
