/* SPDX-License-Identifier: BSD-3-Clause */
/* Port setup on any ethdev: a NIC or a vdev (net_af_packet, net_memif...). */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_lcore.h>
#include <rte_log.h>
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

/* A device fills its rx ring from the pool at set-up or start, and the
 * pool also holds what is in flight: where it runs out, say which keys
 * decide it */
#define GSP_PORT_NOMEM_HINT " (the pool of [dataplane] mbufs fills the " \
	"rx descriptors and holds the frames in flight: raise mbufs, or " \
	"lower rx_descriptors / tx_descriptors)"

/* Where the device took other descriptor counts than the config's (its
 * limits, its alignment): said once, at start. */
void
gsp_port_desc_adjusted(uint16_t port, const char *driver, uint16_t ask_rxd,
		       uint16_t ask_txd, uint16_t nb_rxd, uint16_t nb_txd)
{
	if (nb_rxd != ask_rxd || nb_txd != ask_txd)
		gsp_log(LOG_NOTICE, "port %u (%s) takes %u rx / %u tx "
			"descriptors, not the %u / %u of [dataplane] "
			"rx_descriptors / tx_descriptors (its limits)", port,
			driver, nb_rxd, nb_txd, ask_rxd, ask_txd);
}

/* Whether to ask the port for rx interrupts: an lcore that busy-polls
 * ([dataplane] idle_sleep_us = 0) never waits for them. */
static bool
gsp_port_want_intr(const struct gsp_config *cfg)
{
	return cfg->rx_interrupts != GSP_RX_INTR_OFF &&
		cfg->idle_sleep_us != 0;
}

/* Under auto, net_af_packet (no queue interrupts) gets a doorbell
 * socket instead (doorbell.c); on asks for the PMD's own. */
static bool
gsp_port_bell_ok(const struct gsp_dp *dp, const char *driver)
{
	return dp->cfg->rx_interrupts == GSP_RX_INTR_AUTO &&
		strcmp(driver, "net_af_packet") == 0;
}

/* rx_interrupts = on and the port has none: the node does not start. */
static int
gsp_port_intr_refused(const struct gsp_dp *dp, const char *driver,
		      const char *why, int err)
{
	const struct gsp_config *cfg = dp->cfg;

	if (cfg->rx_interrupts != GSP_RX_INTR_ON) {
		gsp_log(LOG_INFO, "port %u (%s): no rx interrupts (%s: %s); "
			"an idle lcore sleeps in bounded steps", dp->port_id,
			driver, why, strerror(-err));
		return 0;
	}
	gsp_log(LOG_ERR, "%s:%u: [dataplane] rx_interrupts = on, but port %u "
		"(%s) cannot give rx queue interrupts (%s: %s); set "
		"rx_interrupts = auto or off, or use a PMD that has them "
		"(docs/CONFIG.md)", cfg->path, cfg->rx_interrupts_line,
		dp->port_id, driver, why, strerror(-err));
	return -ENOTSUP;
}

/* Drains the wake eventfd when rte_epoll_wait reports it. */
static void
gsp_wake_drain(int fd, __rte_unused void *arg)
{
	uint64_t n;

	(void)!read(fd, &n, sizeof(n));
}

/* rte_eth_dev_rx_intr_ctl_q; under auto, a PMD without interrupts is no
 * error, so ethdev's "Rx Intr handle unset" is kept out of the log. */
static int
gsp_port_intr_ctl_q(const struct gsp_dp *dp, struct gsp_lcore_conf *lc)
{
	int lt = rte_log_register("lib.ethdev");
	int level = lt >= 0 ? rte_log_get_level((uint32_t)lt) : -1;
	int ret;

	if (level >= 0 && dp->cfg->rx_interrupts == GSP_RX_INTR_AUTO)
		rte_log_set_level((uint32_t)lt, RTE_LOG_CRIT);
	ret = rte_eth_dev_rx_intr_ctl_q(dp->port_id, lc->queue_id,
			lc->intr_epfd, RTE_INTR_EVENT_ADD, lc);
	if (level >= 0)
		rte_log_set_level((uint32_t)lt, (uint32_t)level);
	return ret;
}

void
gsp_port_intr_free(struct gsp_lcore_conf *lc)
{
	__atomic_store_n(&lc->rx_intr, false, __ATOMIC_RELEASE);
	if (lc->wake_fd >= 0)
		close(lc->wake_fd);
	if (lc->intr_epfd >= 0)
		close(lc->intr_epfd);
	lc->wake_fd = -1;
	lc->intr_epfd = -1;
}

/* The doorbell on net_af_packet (doorbell.c), or bounded sleeps with a
 * line that says why not. */
static void
gsp_port_bell(struct gsp_dp *dp)
{
	unsigned int lcore;
	int ret = gsp_doorbell_setup(dp);

	if (ret == 0)
		return;
	RTE_LCORE_FOREACH(lcore) {
		struct gsp_lcore_conf *lc = &dp->lconf[lcore];

		if (lc->port_kind != GSP_PORT_ETHDEV)
			continue;
		gsp_doorbell_free(lc);
		gsp_port_intr_free(lc);
	}
	gsp_log(LOG_INFO, "port %u (net_af_packet): no doorbell (%s); an idle "
		"lcore sleeps in bounded steps", dp->port_id, strerror(-ret));
}

/*
 * The queue's interrupt and a wake eventfd into one epoll instance per
 * lcore that polls the port (l3fwd-power registers per thread; an epoll
 * of our own does not tie it to the thread that sets it up). Returns 0
 * with lc->rx_intr false when the PMD cannot, unless rx_interrupts = on.
 */
static int
gsp_port_intr_setup(struct gsp_dp *dp, const char *driver)
{
	unsigned int lcore;
	int ret;

	RTE_LCORE_FOREACH(lcore) {
		struct gsp_lcore_conf *lc = &dp->lconf[lcore];

		if (lc->port_kind != GSP_PORT_ETHDEV)
			continue;
		lc->wake_fd = -1;
		lc->intr_epfd = epoll_create1(EPOLL_CLOEXEC);
		lc->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (lc->intr_epfd < 0 || lc->wake_fd < 0) {
			ret = -errno;
			gsp_port_intr_free(lc);
			return gsp_port_intr_refused(dp, driver, "epoll", ret);
		}
		ret = gsp_port_intr_ctl_q(dp, lc);
		if (ret != 0 && gsp_port_bell_ok(dp, driver)) {
			gsp_port_intr_free(lc);
			gsp_port_bell(dp);
			return 0;
		}
		if (ret != 0) {
			gsp_port_intr_free(lc);
			return gsp_port_intr_refused(dp, driver,
					"rte_eth_dev_rx_intr_ctl_q", ret);
		}
		lc->wake_ev = (struct rte_epoll_event){
			.epdata = { .event = EPOLLIN, .data = NULL,
				    .cb_fun = gsp_wake_drain },
		};
		ret = rte_epoll_ctl(lc->intr_epfd, EPOLL_CTL_ADD, lc->wake_fd,
				    &lc->wake_ev);
		if (ret != 0) {
			gsp_port_intr_free(lc);
			return gsp_port_intr_refused(dp, driver, "rte_epoll_ctl",
						     -EINVAL);
		}
		/* some PMDs keep the queue's event armed (net_tap: its fd is
		 * the event); the others are armed around each wait */
		ret = rte_eth_dev_rx_intr_enable(dp->port_id, lc->queue_id);
		if (ret != 0 && ret != -ENOTSUP) {
			gsp_port_intr_free(lc);
			return gsp_port_intr_refused(dp, driver,
					"rte_eth_dev_rx_intr_enable", ret);
		}
		lc->rx_intr_arm = ret == 0;
		if (lc->rx_intr_arm)
			rte_eth_dev_rx_intr_disable(dp->port_id,
						    lc->queue_id);
		__atomic_store_n(&lc->rx_intr, true, __ATOMIC_RELEASE);
		gsp_log(LOG_INFO, "port %u (%s) queue %u: rx interrupts on "
			"lcore %u: an idle lcore waits for a frame or its next "
			"timer", dp->port_id, driver, lc->queue_id, lcore);
	}
	return 0;
}

int
gsp_port_init(struct gsp_dp *dp, struct rte_ether_addr *mac)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t port = dp->port_id;
	uint16_t nb_rxd = dp->cfg->rx_descriptors;
	uint16_t nb_txd = dp->cfg->tx_descriptors;
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
	/* one queue pair (main.c): no RSS to configure. Rx interrupts where
	 * the PMD takes them: a PMD without refuses the configure */
	conf.intr_conf.rxq = gsp_port_want_intr(dp->cfg);
	ret = rte_eth_dev_configure(port, dp->nb_queues, dp->nb_queues, &conf);
	if (ret != 0 && conf.intr_conf.rxq) {
		ret = gsp_port_intr_refused(dp, info.driver_name,
					    "rte_eth_dev_configure", ret);
		if (ret != 0)
			return ret;
		conf.intr_conf.rxq = 0;
		ret = rte_eth_dev_configure(port, dp->nb_queues,
					    dp->nb_queues, &conf);
	}
	if (ret != 0) {
		gsp_log(LOG_ERR, "port %u configure: %s", port, strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret != 0)
		return ret;
	gsp_port_desc_adjusted(port, info.driver_name, dp->cfg->rx_descriptors,
			       dp->cfg->tx_descriptors, nb_rxd, nb_txd);
	for (uint16_t q = 0; q < dp->nb_queues; q++) {
		ret = rte_eth_rx_queue_setup(port, q, nb_rxd,
				rte_eth_dev_socket_id(port), NULL, dp->pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(port, q, nb_txd,
					rte_eth_dev_socket_id(port), NULL);
		if (ret != 0) {
			gsp_log(LOG_ERR, "port %u queue %u setup (%u rx / %u tx "
				"descriptors): %s%s", port, q, nb_rxd, nb_txd,
				strerror(-ret), ret == -ENOMEM ?
				GSP_PORT_NOMEM_HINT : "");
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
		gsp_log(LOG_ERR, "port %u start: %s%s", port, strerror(-ret),
			ret == -ENOMEM ? GSP_PORT_NOMEM_HINT : "");
		return ret;
	}
	if (conf.intr_conf.rxq) {
		ret = gsp_port_intr_setup(dp, info.driver_name);
		if (ret != 0) {
			rte_eth_dev_stop(port);
			return ret;
		}
	} else if (gsp_port_want_intr(dp->cfg) &&
		   gsp_port_bell_ok(dp, info.driver_name)) {
		gsp_port_bell(dp);
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
	unsigned int lcore;

	RTE_LCORE_FOREACH(lcore)
		if (dp->lconf[lcore].rx_bell) {
			gsp_doorbell_free(&dp->lconf[lcore]);
			gsp_port_intr_free(&dp->lconf[lcore]);
		} else if (dp->lconf[lcore].rx_intr) {
			rte_eth_dev_rx_intr_ctl_q(dp->port_id,
				dp->lconf[lcore].queue_id,
				dp->lconf[lcore].intr_epfd,
				RTE_INTR_EVENT_DEL, NULL);
			gsp_port_intr_free(&dp->lconf[lcore]);
		}
	rte_eth_dev_stop(dp->port_id);
	rte_eth_dev_close(dp->port_id);
}
