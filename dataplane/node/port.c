/* SPDX-License-Identifier: BSD-3-Clause */
/* Port setup on any ethdev: a NIC or a vdev (net_af_packet, net_memif...). */
#include <errno.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "gossipd.h"
#include "gsp_log.h"

/* One pool for the process: every vnode's frames, rx and tx. */
int
gsp_pool_create(struct gsp_dp *dp, uint32_t n_mbufs, int socket)
{
	/* room for the largest frame the MTU allows in one segment */
	uint32_t data_room = RTE_PKTMBUF_HEADROOM + dp->cfg->mtu +
		RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;

	if (data_room < RTE_MBUF_DEFAULT_BUF_SIZE)
		data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
	dp->pool = rte_pktmbuf_pool_create("gsp_mbuf", n_mbufs,
			GSP_MEMPOOL_CACHE, 0, (uint16_t)data_room, socket);
	if (dp->pool == NULL) {
		gsp_log(LOG_ERR, "cannot create mbuf pool of %u mbufs: %s "
			"(more memory: -m, or fewer [dataplane] mbufs)",
			n_mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

int
gsp_port_init(struct gsp_dp *dp, struct rte_ether_addr *mac)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t port = dp->port_id;
	uint16_t nb_rxd = GSP_RX_DESC, nb_txd = GSP_TX_DESC;
	int ret;

	if (!rte_eth_dev_is_valid_port(port)) {
		gsp_log(LOG_ERR, "port %u does not exist (%u ports found; "
			"give a NIC or --vdev before --)", port,
			rte_eth_dev_count_avail());
		return -ENODEV;
	}
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	if (dp->nb_queues > info.max_rx_queues ||
	    dp->nb_queues > info.max_tx_queues) {
		gsp_log(LOG_ERR, "port %u (%s) has %u rx / %u tx queues; "
			"the node needs %u pair", port, info.driver_name,
			info.max_rx_queues, info.max_tx_queues, dp->nb_queues);
		return -EINVAL;
	}
	ret = gsp_pool_create(dp, dp->cfg->mbufs,
			rte_eth_dev_socket_id(port) < 0 ? (int)rte_socket_id() :
			rte_eth_dev_socket_id(port));
	if (ret != 0)
		return ret;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	/* the NIC checks what it can; pkt.c skips a check only on GOOD */
	conf.rxmode.offloads |= info.rx_offload_capa &
		(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	/* one queue pair (main.c): no RSS to configure */
	ret = rte_eth_dev_configure(port, dp->nb_queues, dp->nb_queues, &conf);
	if (ret != 0) {
		gsp_log(LOG_ERR, "port %u configure: %s", port, strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret != 0)
		return ret;
	for (uint16_t q = 0; q < dp->nb_queues; q++) {
		ret = rte_eth_rx_queue_setup(port, q, nb_rxd,
				rte_eth_dev_socket_id(port), NULL, dp->pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(port, q, nb_txd,
					rte_eth_dev_socket_id(port), NULL);
		if (ret != 0) {
			gsp_log(LOG_ERR, "port %u queue %u setup: %s", port, q,
				strerror(-ret));
			return ret;
		}
	}
	ret = rte_eth_dev_set_mtu(port, dp->cfg->mtu);
	if (ret != 0)
		gsp_log(LOG_WARNING, "port %u: cannot set MTU %u (%s); keeping "
			"the device's", port, dp->cfg->mtu, strerror(-ret));
	ret = rte_eth_macaddr_get(port, mac);
	if (ret != 0)
		return ret;
	ret = rte_eth_dev_start(port);
	if (ret != 0) {
		gsp_log(LOG_ERR, "port %u start: %s", port, strerror(-ret));
		return ret;
	}
	gsp_log(LOG_INFO, "port %u (%s) up: mac " RTE_ETHER_ADDR_PRT_FMT
		", %u queue pair(s), %u rx / %u tx descriptors, rx checksum "
		"offload %s", port, info.driver_name,
		RTE_ETHER_ADDR_BYTES(mac), dp->nb_queues, nb_rxd, nb_txd,
		conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_UDP_CKSUM ?
		"on" : "off");
	return 0;
}

void
gsp_port_close(struct gsp_dp *dp)
{
	rte_eth_dev_stop(dp->port_id);
	rte_eth_dev_close(dp->port_id);
}
