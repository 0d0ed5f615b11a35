/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The software switch, a kind of port (portq.h): in-process, its ports
 * are the vnodes' rx rings. The node owns and drives it (tx burst, due
 * work); the emulation creates it, attaches the vnodes, sets its faults
 * and pauses ports.
 */
#ifndef GSP_PORT_SWITCH_H
#define GSP_PORT_SWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "gsp_fault.h"

struct gsp_lcore_conf;
struct gsp_switch;
struct gsp_uplink;
struct gsp_vnode;

struct gsp_switch *gsp_switch_create(double loss, int socket);
void gsp_switch_destroy(struct gsp_switch *sw);
int gsp_switch_attach(struct gsp_switch *sw, struct gsp_vnode *vn);
/* Before the lcores run: the delay queues are not locked. */
int gsp_switch_set_fault(struct gsp_switch *sw, const struct gsp_fault_cfg *f);
/* A paused port queues frames in the vnode's ring without waking its
 * lcore (a stopped process); unpausing wakes it. */
void gsp_switch_pause(struct gsp_switch *sw, struct gsp_vnode *vn, bool on);
/* Before the lcores run: the switch takes up (closes it when destroyed)
 * and sends out of it unicast to the cluster's vnodes it does not host:
 * addresses first_ip .. first_ip + n_ips - 1, MAC 02:00 + address. The
 * uplink's owner lcore must have lc->uplink set. */
int gsp_switch_set_uplink(struct gsp_switch *sw, struct gsp_uplink *up,
			  uint32_t first_ip, uint32_t n_ips);

/* A cluster MAC: 02:00 and the four bytes of ip, an emulated vnode's,
 * so that the switches of other processes know it without asking. */
static inline struct rte_ether_addr
gsp_cluster_mac(uint32_t ip)
{
	return (struct rte_ether_addr){ { 0x02, 0x00, (uint8_t)(ip >> 24),
		(uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip } };
}

/* The address a cluster MAC was made from; 0 for any other MAC. */
static inline uint32_t
gsp_cluster_mac_ip(const struct rte_ether_addr *a)
{
	const uint8_t *b = a->addr_bytes;

	if (b[0] != 0x02 || b[1] != 0x00)
		return 0;
	return (uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 |
		(uint32_t)b[4] << 8 | b[5];
}

/* The MAC the switch answers ARP for ip with: its vnode's, or 02:00 +
 * ip for the cluster's range beyond the uplink; false for any other
 * address. A vnode behind the switch takes it from here without a
 * request: the answer is the same, and needs no frame. */
bool gsp_switch_resolve(const struct gsp_switch *sw, uint32_t ip,
			struct rte_ether_addr *mac);

/* The port seam's calls (portq.h), on the transmitting lcore. */
/* Forwards a burst; returns how many the switch took (forwarded, held
 * or consumed). pkts[ret..n) are refused by full rx rings: the caller
 * counts and frees them, as for an ethdev's tx burst. */
uint16_t gsp_switch_tx(struct gsp_switch *sw, struct gsp_lcore_conf *lc,
		       struct rte_mbuf **pkts, uint16_t n);
/* The uplink's owner: its rx bursts of this pass (GSP_UPLINK_RX_BURSTS
 * of lc->burst at most) switched to the vnodes' rings; returns the frames
 * received. */
unsigned int gsp_switch_uplink_rx(struct gsp_switch *sw,
				  struct gsp_lcore_conf *lc);
/* Delivers this lcore's delayed frames that are due (and, on the
 * uplink's owner, sends what other lcores handed to the uplink) and
 * lowers *next_ns to the next release; returns frames released. */
unsigned int gsp_switch_due(struct gsp_switch *sw, struct gsp_lcore_conf *lc,
			    uint64_t *next_ns);

/* Fault and pause counters, summed over the lcores. */
struct gsp_switch_fstats {
	uint64_t fault[GSP_FAULT_C_MAX];
	uint64_t paused_dropped;	/* a paused port's full ring */
	uint64_t delay_late_max_ns;	/* worst release after the due time */
	uint64_t delay_late_sum_ns;
	uint64_t delay_released;
	uint64_t delay_queued_max;	/* high-water mark of one queue */
};
void gsp_switch_fstats(const struct gsp_switch *sw,
		       struct gsp_switch_fstats *out);
struct gsp_uplink_stats;
/* The uplink's device counters; false when the switch has none. */
bool gsp_switch_uplink_stats(const struct gsp_switch *sw,
			     struct gsp_uplink_stats *out);

#endif /* GSP_PORT_SWITCH_H */
