/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The software switch's uplink (port_uplink.c): an ethdev queue pair
 * (net_memif, net_af_packet, a NIC) joining this process's switch to the
 * switches of other processes or machines, so that their vnodes form one
 * cluster (docs/EMULATION.md, "One cluster, many processes").
 *
 * One lcore owns the queue pair: it polls rx and calls rte_eth_tx_burst,
 * so no PMD needs thread-safe queues. Other lcores hand their frames over
 * through a bounded MP/SC ring that the owner drains every pass.
 */
#ifndef GSP_PORT_UPLINK_H
#define GSP_PORT_UPLINK_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#define GSP_UPLINK_RING 4096		/* frames handed to the owner */
#define GSP_UPLINK_DRAIN_MAX 1024	/* frames sent per pass from it */
/* rx bursts per pass, at most: a pass of thousands of vnodes takes
 * milliseconds, and what the peer sends meanwhile must fit its ring */
#define GSP_UPLINK_RX_BURSTS 128
/* pool share: the ring and what the owner holds, on top of the
 * device's descriptors (gsp_uplink_mbufs) */
#define GSP_UPLINK_MBUFS 6144

/* What the uplink takes from the pool with nb_rxd / nb_txd descriptors. */
static inline uint32_t
gsp_uplink_mbufs(uint32_t nb_rxd, uint32_t nb_txd)
{
	return GSP_UPLINK_MBUFS + nb_rxd + nb_txd;
}

struct gsp_uplink;

/* Device counters, written by the owner lcore only. */
struct gsp_uplink_stats {
	uint64_t tx;			/* taken by the device */
	uint64_t tx_refused;		/* device queue full (or link down) */
};

/* Configures and starts port_id (one queue pair of nb_rxd / nb_txd
 * descriptors, as the device adjusts them; rx into pool; promiscuous:
 * frames are for the vnodes' MACs, not the port's); owner is the lcore
 * that will poll it. NULL after a logged error. */
struct gsp_uplink *gsp_uplink_open(uint16_t port_id, unsigned int owner,
				   struct rte_mempool *pool, uint16_t nb_rxd,
				   uint16_t nb_txd);
void gsp_uplink_close(struct gsp_uplink *up);
unsigned int gsp_uplink_owner(const struct gsp_uplink *up);

/* Owner: one rx burst of at most n frames. */
unsigned int gsp_uplink_rx(struct gsp_uplink *up, struct rte_mbuf **pkts,
			   unsigned int n);
/* Any lcore: frames out; returns how many were taken. pkts[ret..n) are
 * the caller's to count and free. */
unsigned int gsp_uplink_send(struct gsp_uplink *up, struct rte_mbuf **pkts,
			     unsigned int n);
/* Owner: sends what other lcores handed over, at most
 * GSP_UPLINK_DRAIN_MAX; returns frames taken from the ring. */
unsigned int gsp_uplink_drain(struct gsp_uplink *up);
void gsp_uplink_stats(const struct gsp_uplink *up,
		      struct gsp_uplink_stats *out);

#endif /* GSP_PORT_UPLINK_H */
