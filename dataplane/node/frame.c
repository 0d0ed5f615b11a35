/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames out: Ethernet/IPv4/UDP headers around a payload, the next hop,
 * and the hand-over to ARP (unresolved) or the tx buffer (resolved).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "frame_cksum.h"
#include "gossipd.h"
#include "port_switch.h"

#define GSP_IP_TTL 64

/* An mbuf with the Ethernet/IPv4/UDP headers for a len-byte payload to
 * dst; the payload and the UDP checksum are the caller's. */
struct rte_mbuf *
gsp_frame_alloc(struct gsp_dp *dp, struct gsp_vnode *vn,
		const struct gsp_addr *dst, uint16_t len)
{
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	struct rte_mbuf *m;
	uint16_t frame_len = sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + len;

	m = rte_pktmbuf_alloc(dp->pool);
	if (unlikely(m == NULL || rte_pktmbuf_tailroom(m) < frame_len)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, frame_len);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	udp = (struct rte_udp_hdr *)(ip + 1);

	memset(&eth->dst_addr, 0, sizeof(eth->dst_addr));
	rte_ether_addr_copy(&vn->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(frame_len - sizeof(*eth));
	ip->packet_id = rte_cpu_to_be_16(vn->lc->ip_id++);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = GSP_IP_TTL;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(vn->ip);
	ip->dst_addr = rte_cpu_to_be_32(dst->ip);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	udp->src_port = rte_cpu_to_be_16(vn->port);
	udp->dst_port = rte_cpu_to_be_16(dst->port);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + len);
	udp->dgram_cksum = 0;
	return m;
}

uint8_t *
gsp_frame_payload(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *,
		sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
		sizeof(struct rte_udp_hdr));
}

/* Most frames of an emulation go from vnode to vnode, handed on
 * verified by the switch as a NIC with checksum offload would: summing
 * their payloads was 3.8% of a 10,000-vnode join's CPU for nothing. */
void
gsp_frame_cksum(struct gsp_dp *dp, struct rte_mbuf *m)
{
	if (dp->sw != NULL)
		m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
	else
		gsp_frame_udp_cksum(m);
}

struct rte_mbuf *
gsp_frame_build(struct gsp_dp *dp, struct gsp_vnode *vn,
		const struct gsp_addr *dst, const uint8_t *payload,
		uint16_t len)
{
	struct rte_mbuf *m = gsp_frame_alloc(dp, vn, dst, len);

	if (unlikely(m == NULL)) {
		GSP_LSTAT_ADD(vn->lc, tx_dropped, 1);
		GSP_VSTAT_ADD(vn, tx_dropped, 1);
		return NULL;
	}
	rte_memcpy(gsp_frame_payload(m), payload, len);
	gsp_frame_cksum(dp, m);
	return m;
}

void
gsp_frame_route(struct gsp_dp *dp, struct gsp_vnode *vn, struct rte_mbuf *m,
		uint32_t next_hop, uint64_t now_ns)
{
	const struct rte_ether_addr *dmac;
	struct rte_ether_addr derived;

	/* behind the emulation's switch, a cluster address's MAC is what the
	 * switch would answer ARP with: no request, no held frame, no cache
	 * entry (a vnode would otherwise ARP for each new probe target) */
	if (dp->sw != NULL && gsp_switch_resolve(dp->sw, next_hop, &derived)) {
		rte_ether_addr_copy(&derived, &rte_pktmbuf_mtod(m,
				struct rte_ether_hdr *)->dst_addr);
		vn->lc->sw.arp_derived++;
		gsp_tx_enqueue(dp, vn, m);
		return;
	}
	dmac = gsp_arp_resolve(dp, vn, next_hop, now_ns);
	if (dmac != NULL) {
		rte_ether_addr_copy(dmac, &rte_pktmbuf_mtod(m,
				struct rte_ether_hdr *)->dst_addr);
		gsp_tx_enqueue(dp, vn, m);
	} else {	/* first contact: leaves when the ARP reply comes */
		gsp_arp_hold(dp, vn, m, next_hop, now_ns);
	}
}

uint32_t
gsp_next_hop(const struct gsp_vnode *vn, const struct gsp_addr *dst)
{
	if ((dst->ip & vn->netmask) != (vn->ip & vn->netmask) &&
	    vn->gateway != 0)
		return vn->gateway;
	return dst->ip;
}
