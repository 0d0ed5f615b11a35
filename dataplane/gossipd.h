/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipd dataplane: shared constants, per-lcore state and the process-wide
 * dataplane context. Shape after DPDK's examples/l3fwd.
 */
#ifndef GOSSIPD_H
#define GOSSIPD_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "gossipd/status_view.h"
#include "gsp_config.h"
#include "gsp_core.h"

#define GSP_MAX_PKT_BURST 64
#define GSP_MEMPOOL_CACHE 256
#define GSP_RX_DESC 1024
#define GSP_TX_DESC 1024
#define GSP_CMD_RING_SIZE 64
#define GSP_EVENT_RING_SIZE 1024
#define GSP_HANDOFF_RING_SIZE 4096
#define GSP_MAX_FRAME 9216

/* Per-lcore state, written only by its lcore. */
struct gsp_lcore_conf {
	bool enabled;
	bool is_proto;			/* runs the protocol core */
	uint16_t queue_id;
	uint16_t tx_len;
	uint32_t idle_polls;
	uint32_t sleep_us;		/* current backoff sleep */
	uint16_t ip_id;
	struct rte_mbuf *tx_buf[GSP_MAX_PKT_BURST];
	struct gsp_sv_lcore stats;	/* read by the control thread */
	uint8_t frame[GSP_MAX_FRAME];	/* linearised multi-segment frames */
} __rte_cache_aligned;

enum gsp_cmd_type {
	GSP_CMD_SET_APP = 1,
	GSP_CMD_LEAVE,
	GSP_CMD_SEEDS,
};

struct gsp_cmd {
	uint32_t type;
	uint32_t n_seeds;
	char key[GSP_APP_KEY_MAX];
	char value[GSP_APP_VALUE_MAX];
	struct gsp_addr seeds[GSP_SEEDS_MAX];
};

struct gsp_arp_cache;

/* The dataplane of this process. */
struct gsp_dp {
	const struct gsp_config *cfg;
	struct gsp_node *node;
	uint16_t port_id;
	uint16_t nb_queues;
	unsigned int proto_lcore;
	struct rte_ether_addr mac;
	uint32_t ip;			/* host order */
	uint32_t netmask;		/* host order */
	struct rte_mempool *pool;
	struct rte_ring *cmd_ring;	/* control -> protocol lcore */
	struct rte_ring *event_ring;	/* protocol lcore -> control */
	struct rte_ring *handoff_ring;	/* other workers -> protocol lcore */
	struct gsp_arp_cache *arp;
	uint64_t tsc_hz;
	uint64_t tsc_start;
	uint64_t events_dropped;
	volatile bool force_quit;
	struct gsp_lcore_conf lconf[RTE_MAX_LCORE];
};

extern struct gsp_dp gsp_dp;

static inline uint64_t
gsp_dp_tsc_to_ns(uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)(tsc - gsp_dp.tsc_start) *
			   1000000000u) / gsp_dp.tsc_hz);
}

/* Per-lcore counter update: single writer, torn-free for readers. */
#define GSP_LSTAT_ADD(lc, field, n) \
	__atomic_store_n(&(lc)->stats.field, (lc)->stats.field + (n), \
			 __ATOMIC_RELAXED)

/* lcore_loop.c */
int gsp_lcore_main(void *arg);

/* port.c */
int gsp_port_init(struct gsp_dp *dp);
void gsp_port_close(struct gsp_dp *dp);

/* pkt.c */
void gsp_pkt_process(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
		     struct rte_mbuf *m, uint64_t now_ns);
void gsp_tx_flush(struct gsp_dp *dp, struct gsp_lcore_conf *lc);
void gsp_tx_enqueue(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
		    struct rte_mbuf *m);

/* arp.c */
struct gsp_arp_cache *gsp_arp_create(uint32_t entries);
void gsp_arp_destroy(struct gsp_arp_cache *c);
/* Next-hop MAC for ip, or NULL (then an ARP request may be sent). */
const struct rte_ether_addr *gsp_arp_resolve(struct gsp_dp *dp,
		struct gsp_lcore_conf *lc, uint32_t next_hop, uint64_t now_ns);
void gsp_arp_learn(struct gsp_dp *dp, uint32_t ip,
		   const struct rte_ether_addr *mac, uint64_t now_ns);
void gsp_arp_input(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
		   const uint8_t *frame, uint32_t len, uint64_t now_ns);
void gsp_arp_announce(struct gsp_dp *dp, struct gsp_lcore_conf *lc);

/* dp_ctrl.c */
void gsp_dp_process_commands(struct gsp_dp *dp, uint64_t now_ns);

#endif /* GOSSIPD_H */
