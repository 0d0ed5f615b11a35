/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A frame's UDP checksum: summed when the frame is made (frame.c), or,
 * behind the emulation's switch, asked for with the transmit-offload
 * value RTE_MBUF_F_TX_UDP_CKSUM and summed only for a frame that leaves
 * by the uplink (port_switch.c); the receiver (pkt.c) takes a zero one
 * only on a frame that still asks. Inline here so that the switch needs
 * nothing of frame.c, which routes through the switch.
 */
#ifndef GSP_FRAME_CKSUM_H
#define GSP_FRAME_CKSUM_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

static inline void
gsp_frame_udp_cksum(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
		struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
}

/* The checksum was left for later (a 2-bit field, not a flag of its
 * own). */
static inline bool
gsp_frame_cksum_asked(uint64_t ol_flags)
{
	return (ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_UDP_CKSUM;
}

/* Sums a checksum left for later: for a frame about to cross a wire. */
static inline void
gsp_frame_cksum_due(struct rte_mbuf *m)
{
	if (gsp_frame_cksum_asked(m->ol_flags)) {
		gsp_frame_udp_cksum(m);
		m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
	}
}

#endif /* GSP_FRAME_CKSUM_H */
