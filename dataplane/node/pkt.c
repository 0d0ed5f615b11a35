/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet/IPv4/UDP in and out, per vnode. Every header field is
 * bounds-checked against the frame before use; anything that is not a
 * well-formed UDP datagram (checksum included) to the vnode's MAC, address
 * and port is counted and dropped. Frames leave through the lcore's tx
 * buffer to the port's tx queue or, in emulation, to the software switch.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "frame_cksum.h"
#include "gossipd.h"
#include "port_switch.h"

/* The core's packet seam: wrap a gossip payload in UDP/IPv4/Ethernet. */
void
gsp_io_send(void *io_ctx, const struct gsp_addr *dst, const uint8_t *payload,
	    uint16_t len)
{
	struct gsp_vnode *vn = io_ctx;
	struct gsp_dp *dp = &gsp_dp;
	struct rte_mbuf *m;
	uint32_t next_hop = gsp_next_hop(vn, dst);
	uint64_t now_ns = gsp_dp_tsc_to_ns(rte_get_tsc_cycles());

	if (dst->ip == vn->ip && dst->port == vn->port)
		return;
	/* faults off, the usual: this one branch is all they cost */
	if (unlikely(vn->fault != NULL)) {
		gsp_fault_send(dp, vn, dst, next_hop, payload, len, now_ns);
		return;
	}
	m = gsp_frame_build(dp, vn, dst, payload, len);
	if (likely(m != NULL))
		gsp_frame_route(dp, vn, m, next_hop, now_ns);
}

/* The core seals a datagram straight into its mbuf (gsp_core.h). To
 * ourselves or through faults it takes gsp_io_send, which handles both. */
bool
gsp_io_tx_open(void *io_ctx, const struct gsp_addr *dst, uint16_t len,
	       struct gsp_io_tx *tx)
{
	struct gsp_vnode *vn = io_ctx;
	struct rte_mbuf *m;

	if (unlikely(vn->fault != NULL) ||
	    (dst->ip == vn->ip && dst->port == vn->port))
		return false;
	m = gsp_frame_alloc(&gsp_dp, vn, dst, len);
	if (unlikely(m == NULL))
		return false;	/* gsp_io_send tries once more, or counts it */
	tx->handle = m;
	tx->buf = gsp_frame_payload(m);
	return true;
}

void
gsp_io_tx_commit(void *io_ctx, const struct gsp_addr *dst,
		 struct gsp_io_tx *tx, uint16_t len)
{
	struct gsp_vnode *vn = io_ctx;
	struct rte_mbuf *m = tx->handle;

	if (unlikely(len == 0)) {
		rte_pktmbuf_free(m);
		return;
	}
	gsp_frame_cksum(&gsp_dp, m);
	gsp_frame_route(&gsp_dp, vn, m, gsp_next_hop(vn, dst),
			gsp_dp_tsc_to_ns(rte_get_tsc_cycles()));
}

static void
gsp_parse_error(struct gsp_lcore_conf *lc)
{
	GSP_LSTAT_ADD(lc, rx_parse_errors, 1);
}

/* Parses one frame (contiguous) and hands a gossip payload to the core.
 * ol_flags: what the NIC verified (receive checksum offload, set in
 * port.c from the device's capabilities, or by the emulation's switch
 * for a frame of its own vnodes); a GOOD verdict spares our own check,
 * anything else (BAD, UNKNOWN, none: a vdev) gets it. */
static void
gsp_frame_process(struct gsp_dp *dp, struct gsp_vnode *vn,
		  const uint8_t *frame, uint32_t len, uint64_t ol_flags,
		  uint64_t now_ns)
{
	struct gsp_lcore_conf *lc = vn->lc;
	const struct rte_ether_hdr *eth = (const void *)frame;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	uint32_t ihl, ip_len, udp_len, src_ip;
	uint64_t wake;
	struct gsp_addr src;
	uint16_t type;
	bool local;
	int rc;

	if (len < sizeof(*eth)) {
		gsp_parse_error(lc);
		return;
	}
	type = rte_be_to_cpu_16(eth->ether_type);
	/* a promiscuous port or a flooding switch shows us frames for other
	 * hosts: none is ours; only ARP may come to everyone */
	if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, &vn->mac)) &&
	    (type == RTE_ETHER_TYPE_IPV4 || (type == RTE_ETHER_TYPE_ARP &&
	     !rte_is_broadcast_ether_addr(&eth->dst_addr)))) {
		GSP_LSTAT_ADD(lc, rx_wrong_mac, 1);
		return;
	}
	if (type == RTE_ETHER_TYPE_ARP) {
		gsp_arp_input(dp, vn, frame, len, now_ns);
		return;
	}
	if (type != RTE_ETHER_TYPE_IPV4) {
		GSP_LSTAT_ADD(lc, rx_not_gossip, 1);
		return;
	}
	len -= sizeof(*eth);
	ip = (const void *)(eth + 1);
	if (len < sizeof(*ip)) {
		gsp_parse_error(lc);
		return;
	}
	ihl = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
	ip_len = rte_be_to_cpu_16(ip->total_length);
	/* frames may carry Ethernet padding past total_length, never less */
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || ihl > len ||
	    ip_len < ihl || ip_len > len ||
	    ((ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) !=
	     RTE_MBUF_F_RX_IP_CKSUM_GOOD && rte_raw_cksum(ip, ihl) != 0xffff)) {
		gsp_parse_error(lc);
		return;
	}
	if (rte_be_to_cpu_32(ip->dst_addr) != vn->ip ||
	    ip->next_proto_id != IPPROTO_UDP) {
		GSP_LSTAT_ADD(lc, rx_not_gossip, 1);
		return;
	}
	/* gossip never fragments (DF, payload <= MTU) */
	if (rte_be_to_cpu_16(ip->fragment_offset) &
	    (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		gsp_parse_error(lc);
		return;
	}
	if (ip_len - ihl < sizeof(*udp)) {
		gsp_parse_error(lc);
		return;
	}
	udp = (const void *)((const uint8_t *)ip + ihl);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (udp_len < sizeof(*udp) || udp_len != ip_len - ihl) {
		gsp_parse_error(lc);
		return;
	}
	if (rte_be_to_cpu_16(udp->dst_port) != vn->port) {
		GSP_LSTAT_ADD(lc, rx_not_gossip, 1);
		return;
	}
	/* with options or without (the helper takes the L4 length from
	 * total_length - IHL); every gossip sender sets the checksum, so a
	 * zero one ("none", RFC 768) is refused too, unless the frame is
	 * one of our vnodes' that the switch left it to (gsp_frame_cksum:
	 * no NIC hands a received frame a transmit flag) */
	if ((udp->dgram_cksum == 0 && !gsp_frame_cksum_asked(ol_flags)) ||
	    ((ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) !=
	     RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
	     rte_ipv4_udptcp_cksum_verify(ip, udp) != 0)) {
		gsp_parse_error(lc);
		return;
	}
	src_ip = rte_be_to_cpu_32(ip->src_addr);
	/* a blocked peer's gossip never reaches the core (nor teaches ARP) */
	if (unlikely(vn->fault != NULL) &&
	    gsp_fault_in(vn->fault, src_ip, lc->fault_ctr)) {
		lc->fault_dirty = true;
		return;
	}
	src.ip = src_ip;
	src.port = rte_be_to_cpu_16(udp->src_port);
	local = (src_ip & vn->netmask) == (vn->ip & vn->netmask);
	lc->rx_src_ip = local ? src_ip : 0;
	rc = gsp_node_rx(vn->node, &src, (const uint8_t *)(udp + 1),
			 (uint16_t)(udp_len - sizeof(*udp)), now_ns, &wake);
	lc->rx_src_ip = 0;
	/* the MAC of a peer only from a datagram the core took (authentic):
	 * a forged, replayed or malformed one teaches nothing. The frame is
	 * still ours: its burst is freed after it (gsp_pkt_process_burst).
	 * Answers the core held for it leave now. Behind the switch a
	 * sender's cluster MAC (gsp_cluster_mac) teaches nothing: frames
	 * for it take that MAC from the switch (frame.c), and learning it
	 * was a probe of a 64-entry cache thousands of peers churn. */
	if (rc == GSP_RX_OK && local &&
	    !(dp->sw != NULL && gsp_cluster_mac_ip(&eth->src_addr) == src_ip))
		gsp_arp_confirm(dp, vn, src_ip, &eth->src_addr, now_ns);
	/* a relayed probe or a suspicion set a timer before the next tick */
	if (unlikely(wake < vn->next_tick_ns))
		gsp_timer_earlier(vn->lc, vn, wake);
}

static void
gsp_pkt_process(struct gsp_dp *dp, struct gsp_vnode *vn, struct rte_mbuf *m,
		uint64_t now_ns)
{
	struct gsp_lcore_conf *lc = vn->lc;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *frame;

	GSP_LSTAT_ADD(lc, rx_packets, 1);
	GSP_LSTAT_ADD(lc, rx_bytes, len);
	GSP_VSTAT_ADD(vn, rx_packets, 1);
	GSP_VSTAT_ADD(vn, rx_bytes, len);
	if (likely(m->nb_segs == 1)) {
		frame = rte_pktmbuf_mtod(m, const uint8_t *);
	} else if (len <= sizeof(lc->frame)) {
		frame = rte_pktmbuf_read(m, 0, len, lc->frame);
	} else {
		gsp_parse_error(lc);
		return;
	}
	if (frame != NULL)
		gsp_frame_process(dp, vn, frame, len, m->ol_flags, now_ns);
}

/* Frames whose first line is asked for before their turn, as l3fwd does:
 * a burst's mbufs and frames were last written on another vnode's turn,
 * maybe on another lcore, and are cold here. */
#define GSP_PREFETCH_AHEAD 3

/* A burst for one vnode: every frame processed, then all freed at once
 * (nothing on the receive path keeps an mbuf; answers are new ones). */
void
gsp_pkt_process_burst(struct gsp_dp *dp, struct gsp_vnode *vn,
		      struct rte_mbuf **pkts, unsigned int n, uint64_t now_ns)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		rte_prefetch0(pkts[i]);
	for (i = 0; i < n && i < GSP_PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		if (i + GSP_PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(
				pkts[i + GSP_PREFETCH_AHEAD], void *));
		gsp_pkt_process(dp, vn, pkts[i], now_ns);
	}
	rte_pktmbuf_free_bulk(pkts, n);
}
