/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipd dataplane: shared constants, the per-virtual-node context, the
 * per-lcore state and the process-wide dataplane context. Shape after
 * DPDK's examples/l3fwd.
 *
 * A process hosts one or more virtual nodes (vnodes), each a complete
 * gossip endpoint: identity, IPv4 and MAC address, ARP cache, counters and
 * an rx ring. Normal mode is one vnode bound to the DPDK port; emulation
 * (--emulate N) is N vnodes behind an in-process software switch. Both run
 * the same loop, frame builder, parser and ARP code.
 */
#ifndef GOSSIPD_H
#define GOSSIPD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <rte_common.h>
#include <rte_epoll.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "gossipd/status_view.h"
#include "gsp_config.h"
#include "gsp_core.h"
#include "gsp_fault.h"
#include "observer.h"

#define GSP_MAX_PKT_BURST 256		/* [dataplane] burst is at most this */
#define GSP_MEMPOOL_CACHE 256
#define GSP_CMD_RING_SIZE 64
#define GSP_EVENT_RING_SIZE 1024
#define GSP_VNODE_RING_SIZE 1024	/* a switch port's rx ring, as a NIC's */
#define GSP_TICKS_PER_POLL 8		/* rounds per loop pass: rx first */
#define GSP_MAX_FRAME 9216
#define GSP_MAX_VNODES 65534		/* 10.99.0.1 .. 10.99.255.254 */
#define GSP_FAULT_QUEUE_SIZE 4096	/* frames held back per lcore */
#define GSP_FAULT_ACK_MS 1000		/* the lcore takes a fault config */

/* Per-vnode counters: one writer (the owning lcore), torn-free readers. */
struct gsp_vnode_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_dropped;		/* no mbuf, or held frame evicted */
	uint64_t tx_no_arp;		/* next hop never resolved */
};

struct gsp_lcore_conf;
struct gsp_arp_cache;

/* One gossip endpoint. Touched only by its lcore, except the counters. */
struct gsp_vnode {
	struct gsp_node *node;
	struct gsp_lcore_conf *lc;	/* owner */
	struct rte_ring *rx_ring;	/* switch port; NULL on a real port */
	struct gsp_arp_cache *arp;
	uint32_t idx;			/* in gsp_dp.vnodes */
	uint32_t lc_idx;		/* in lc->vnodes: its doorbell bit */
	uint32_t ip;			/* host order */
	uint32_t netmask;		/* host order */
	uint32_t gateway;		/* 0: none */
	uint16_t port;			/* UDP, host order */
	bool stopped;			/* crashed (emulation) or left */
	/* injected faults, immutable while set; NULL (the usual): none */
	const struct gsp_fault_cfg *fault;
	struct rte_ether_addr mac;
	uint64_t next_tick_ns;		/* timer heap key */
	uint32_t heap_pos;		/* index in lc->timers */
	struct gsp_vnode_stats stats;
} __rte_cache_aligned;

/* Software switch counters, per transmitting lcore. */
struct gsp_switch_stats {
	uint64_t forwarded;
	uint64_t arp_suppressed;	/* requests the switch answered */
	uint64_t arp_derived;		/* frames addressed without ARP */
	uint64_t garp_absorbed;		/* gratuitous ARP: nothing to learn */
	uint64_t arp_unknown;		/* request for an address nobody has */
	uint64_t flood_dropped;		/* other broadcast/multicast */
	uint64_t unknown_dropped;	/* unicast to a MAC not on the switch */
	uint64_t ring_full;		/* destination rx ring full */
	uint64_t lost;			/* --loss */
	uint64_t runt;			/* shorter than an Ethernet header */
	/* the uplink (port_uplink.h): to and from other processes */
	uint64_t uplink_out;		/* handed to the uplink */
	uint64_t uplink_out_dropped;	/* its ring or device queue full */
	uint64_t uplink_in;		/* received on it */
	uint64_t uplink_in_unknown;	/* for a MAC not on this switch */
	uint64_t uplink_in_flood;	/* broadcast, multicast or runt */
};

/* A frame held back (delay, jitter, reordering) until due_ns: by fault
 * injection on a node's tx path, and by the emulation's switch. */
struct gsp_held {
	uint64_t due_ns;
	struct rte_mbuf *m;
	struct gsp_vnode *vn;		/* fault: the sender; switch: receiver */
	uint32_t seq;			/* FIFO among equal due times */
	uint32_t next_hop;		/* fault: ARP target (MAC not set yet) */
};

static inline bool
gsp_held_before(const struct gsp_held *a, const struct gsp_held *b)
{
	if (a->due_ns != b->due_ns)
		return a->due_ns < b->due_ns;
	return (int32_t)(a->seq - b->seq) < 0;
}

/* Binary min-heap on (due_ns, seq) in h[0..*n); false when full. */
static inline bool
gsp_held_push(struct gsp_held *h, uint32_t *n, uint32_t cap,
	      const struct gsp_held *e)
{
	uint32_t i;

	if (*n == cap)
		return false;
	i = (*n)++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!gsp_held_before(e, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = *e;
	return true;
}

/* Removes h[0], the earliest. */
static inline void
gsp_held_pop(struct gsp_held *h, uint32_t *n)
{
	struct gsp_held last = h[--(*n)];
	uint32_t i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && gsp_held_before(&h[c + 1], &h[c]))
			c++;
		if (!gsp_held_before(&h[c], &last))
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n > 0)
		h[i] = last;
}

/* One per lcore that injects faults. */
struct gsp_fault_queue {
	uint32_t n;
	uint32_t seq;
	struct gsp_held h[GSP_FAULT_QUEUE_SIZE];
};

/* The kind of port behind an lcore (portq.h); fixed before it runs. */
enum gsp_port_kind {
	GSP_PORT_NONE = 0,		/* no vnode here, or no port */
	GSP_PORT_ETHDEV,		/* a queue pair of dp->port_id */
	GSP_PORT_SWITCH,		/* dp->sw: its vnodes' rx rings */
};

/* Per-lcore state, written only by its lcore (doorbell and bell_words:
 * see vnode.c). */
struct gsp_lcore_conf {
	bool enabled;
	uint8_t port_kind;		/* enum gsp_port_kind */
	bool uplink;			/* polls the switch's uplink first */
	uint16_t queue_id;
	uint16_t burst;			/* rx burst, per queue and per vnode */
	uint16_t tx_len;
	uint16_t ip_id;
	uint32_t idle_polls;
	uint64_t idle_since_ns;		/* the first empty poll of this spell */
	/* waiting for frames in the kernel: the spin before a wait, adapted
	 * to what waits found (idle_spin.h), and whether this spell spins */
	uint32_t spin_ns;
	bool spinning;
	uint64_t now_ns;		/* the time its vnodes are run with:
					 * their events happen then */
	uint32_t sleep_us;		/* current backoff sleep */
	struct rte_ring *cmd_ring;	/* control/scenario -> this lcore */
	struct gsp_vnode **vnodes;	/* hosted here */
	uint32_t n_vnodes;
	struct gsp_vnode **timers;	/* min-heap on next_tick_ns */
	uint64_t *doorbell;		/* bit per vnode: frames in its ring */
	uint64_t *bell_words;		/* bit per doorbell word: rung */
	uint64_t rng;			/* switch loss */
	struct gsp_switch_stats sw;
	struct rte_mbuf *tx_buf[GSP_MAX_PKT_BURST];
	struct gsp_sv_lcore stats;	/* read by the control thread */
	/* rx interrupts (port.c): the queue's event and wake_fd in
	 * intr_epfd, where an idle lcore waits; false: bounded sleeps */
	bool rx_intr;
	bool rx_intr_arm;		/* the PMD arms the queue per wait */
	int intr_epfd;
	int wake_fd;			/* eventfd: commands, signals */
	struct rte_epoll_event wake_ev;
	/* net_af_packet (doorbell.c): a packet socket in intr_epfd */
	bool rx_bell;
	int rx_bell_fd;
	struct rte_epoll_event rx_bell_ev;
	/* fault injection: the queue exists on the control vnode's lcore */
	struct gsp_fault_queue *fq;
	uint64_t fault_rng;
	bool fault_dirty;		/* fault_ctr moved since published */
	uint64_t fault_ctr[GSP_FAULT_C_MAX];	/* gsp_fault_*() count here */
	uint64_t fault_pub[GSP_FAULT_C_MAX];	/* torn-free copy for readers */
	/* ARP conflicts (arp.c): logged once a minute at most */
	bool arp_told;
	uint64_t arp_told_ns;
	uint64_t arp_untold;		/* ignored since the last event */
	uint32_t rx_src_ip;		/* on our subnet, in the core now; 0 */
	/* measurement hooks installed at start-up (emulation); NULL: none */
	struct gsp_lcore_observer *observer;
	uint8_t frame[GSP_MAX_FRAME];	/* linearised multi-segment frames */
} __rte_cache_aligned;

enum gsp_cmd_type {
	GSP_CMD_SET_APP = 1,
	GSP_CMD_LEAVE,
	GSP_CMD_SEEDS,
	GSP_CMD_CRASH,			/* emulation: stop the vnode dead */
	GSP_CMD_FAULT,			/* new vnode->fault; acked by seq */
	GSP_CMD_KEYRING,		/* copy cmd.keyring; acked by seq */
	GSP_CMD_FORCE_LEAVE,		/* member cmd.seq: down -> left */
	GSP_CMD_DEL_APP,		/* remove app key cmd.key */
};

struct gsp_cmd {
	uint32_t type;
	uint32_t vnode;			/* index in gsp_dp.vnodes */
	uint32_t n_seeds;
	uint32_t flags;
	char key[GSP_APP_KEY_MAX];
	char value[GSP_APP_VALUE_MAX];
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	const struct gsp_fault_cfg *fault;	/* GSP_CMD_FAULT; NULL: off */
	uint64_t seq;			/* GSP_CMD_FAULT, _KEYRING; _FORCE_LEAVE: id */
	const struct gsp_keyring *keyring;	/* GSP_CMD_KEYRING */
};
#define GSP_CMD_F_OBSERVE 1u	/* the lcore's observer sees it applied */

struct gsp_switch;
struct gsp_emu;

/*
 * Fault configs handed from the control thread to the control vnode's
 * lcore (fault.c): each is immutable once sent; the old one is freed only
 * after the lcore acknowledged the new one, so the packet path takes no
 * lock and never sees a config being freed.
 */
struct gsp_fault_ctl {
	struct gsp_fault_cfg want;	/* control thread: in force or sent */
	struct gsp_fault_cfg *cur;	/* vn->fault as last acknowledged */
	struct gsp_fault_cfg *sent;	/* handed over, not acknowledged */
	bool pending;			/* sent is in flight */
	uint64_t seq;			/* of the last hand-over */
	uint64_t ack;			/* written by the lcore (release) */
};

/* The dataplane of this process. */
struct gsp_dp {
	const struct gsp_config *cfg;
	bool has_port;			/* false in emulation */
	/* many vnodes in one process (emulation): a vnode's leave stops
	 * only it, and a signal ends the process without a leave */
	bool hosts_vnodes;
	uint16_t port_id;
	uint16_t nb_queues;
	struct rte_mempool *pool;
	struct rte_ring *event_ring;	/* control vnode -> control thread */
	struct gsp_vnode *vnodes;
	uint32_t n_vnodes;
	struct gsp_vnode *port_vnode;	/* bound to the port, or NULL */
	struct gsp_vnode *ctrl_vnode;	/* served by the control thread */
	struct gsp_switch *sw;		/* the switch port (emulation) */
	struct gsp_emu *emu;		/* emulation scenario */
	uint64_t tsc_hz;
	uint64_t tsc_start;
	uint64_t tsc_mult;		/* ns per cycle << GSP_TSC_SHIFT */
	uint64_t events_dropped;
	/* the status view's doorbell (dp_ctrl.c): view_fd is written once
	 * per gsp_dp_view_ack() at most (view_poked); the rest belongs to
	 * the control vnode's lcore */
	int view_fd;
	bool view_poked;
	bool view_due;
	uint64_t view_token;
	uint64_t view_check_ns;
	struct gsp_fault_ctl fault;
	/* authentication: the keyring the vnodes started with (NULL:
	 * plaintext); rotations reach the control vnode by command */
	struct gsp_keyring *keyring;
	uint64_t keyring_seq;		/* control thread: last hand-over */
	uint64_t keyring_ack;		/* lcore: last taken (release) */
	int keyring_ret;		/* lcore: gsp_node_set_keyring's */
	volatile bool force_quit;
	/* SIGTERM/SIGINT: the handler only counts them; the main lcore's
	 * loop acts on them (lcore_loop.c, gsp_stop_step) */
	int stop_signals;		/* atomic */
	int stop_signo;			/* atomic: the latest */
	int stop_seen;			/* main lcore: signals acted on */
	uint64_t stop_deadline_ns;	/* main lcore: the leave's bound */
	struct gsp_lcore_conf lconf[RTE_MAX_LCORE];
};

extern struct gsp_dp gsp_dp;

/* Wall clock in microseconds: a node's generation, which must grow
 * across restarts. */
static inline uint64_t
gsp_realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* Cycles to ns as a multiply and a shift: a 128-bit division took 2% of
 * the emulation's CPU (the clock is read after every vnode's tick). The
 * factor's rounding drifts by 1 ns in 220 s at 5 GHz, less below. */
#define GSP_TSC_SHIFT 40

static inline uint64_t
gsp_dp_tsc_to_ns(uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)(tsc - gsp_dp.tsc_start) *
			   gsp_dp.tsc_mult) >> GSP_TSC_SHIFT);
}

/* Single-writer counter update, torn-free for readers. */
#define GSP_STAT_ADD(s, field, n) \
	__atomic_store_n(&(s)->field, (s)->field + (n), __ATOMIC_RELAXED)
#define GSP_LSTAT_ADD(lc, field, n) GSP_STAT_ADD(&(lc)->stats, field, n)
#define GSP_VSTAT_ADD(vn, field, n) GSP_STAT_ADD(&(vn)->stats, field, n)

/* lcore_loop.c */
int gsp_lcore_main(void *arg);

/* vnode.c */
struct gsp_vnode_params {
	const char *name;
	uint64_t id;			/* 0: from the name */
	uint64_t generation;
	uint32_t ip;
	uint32_t netmask;
	uint32_t gateway;
	uint16_t port;
	uint32_t capacity;		/* members */
	uint32_t interval_ms;
	uint64_t rng_seed;
	const struct gsp_addr *seeds;
	unsigned int n_seeds;
	unsigned int ring_size;		/* rx ring slots, power of 2; 0: none */
	/* id catalog (with names, addresses) shared by its lcore's vnodes;
	 * NULL */
	struct gsp_ids *ids;
	uint32_t arp_entries;		/* 0: one per possible peer */
	bool unnamed_events;		/* gsp_node_params.unnamed_events */
};
int gsp_vnodes_alloc(struct gsp_dp *dp, uint32_t n);
int gsp_vnode_init(struct gsp_dp *dp, struct gsp_vnode *vn,
		   const struct gsp_vnode_params *p);
void gsp_vnodes_free(struct gsp_dp *dp);
/* Hosts vn on lcore lc; call for every vnode before gsp_lcores_ready. */
int gsp_vnode_place(struct gsp_dp *dp, struct gsp_vnode *vn, unsigned int lc);
int gsp_lcores_ready(struct gsp_dp *dp);

/* wake.c */
/*
 * Rings vnode idx's doorbell on lc: its bit, then its word's bit in
 * bell_words, so the owner reads only the words that rang (an lcore of
 * 5,000 vnodes read 79 words a pass, most of them written by the other
 * lcore since). The owner clears a word's bit in bell_words before the
 * word, so no ring is lost: at worst a word is read empty. The word's
 * bit is set only when clear: one shared line, rung per burst.
 */
static inline void
gsp_lcore_ring(struct gsp_lcore_conf *lc, uint32_t idx)
{
	uint32_t w = idx / 64;
	uint64_t *sum = &lc->bell_words[w / 64], bit = 1ull << (w % 64);

	__atomic_fetch_or(&lc->doorbell[w], 1ull << (idx % 64),
			  __ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(sum, __ATOMIC_SEQ_CST) & bit))
		__atomic_fetch_or(sum, bit, __ATOMIC_SEQ_CST);
}

/* Frames into vn's rx ring, doorbell rung; returns how many went in. */
unsigned int gsp_vnode_deliver(struct gsp_vnode *vn, struct rte_mbuf **pkts,
			       unsigned int n);
void gsp_timers_heapify(struct gsp_lcore_conf *lc);
void gsp_timer_fix_top(struct gsp_lcore_conf *lc);
void gsp_timer_earlier(struct gsp_lcore_conf *lc, struct gsp_vnode *vn,
		       uint64_t when_ns);

/* Wakes lc from its rx-interrupt wait (commands, signals, quit);
 * async-signal-safe, a no-op for an lcore that never waits there. */
void gsp_lcore_wake(struct gsp_lcore_conf *lc);

/* port.c */
int gsp_pool_create(struct gsp_dp *dp, uint32_t n_mbufs, int socket);
int gsp_port_init(struct gsp_dp *dp, struct rte_ether_addr *mac);
void gsp_port_desc_adjusted(uint16_t port, const char *driver,
			    uint16_t ask_rxd, uint16_t ask_txd, uint16_t nb_rxd,
			    uint16_t nb_txd);
void gsp_port_close(struct gsp_dp *dp);
void gsp_port_intr_free(struct gsp_lcore_conf *lc);
int gsp_doorbell_setup(struct gsp_dp *dp);
void gsp_doorbell_drain(const struct gsp_lcore_conf *lc);
void gsp_doorbell_free(struct gsp_lcore_conf *lc);

/* pkt.c */
/* Processes a burst of frames for vn, then frees them in bulk. */
void gsp_pkt_process_burst(struct gsp_dp *dp, struct gsp_vnode *vn,
			   struct rte_mbuf **pkts, unsigned int n,
			   uint64_t now_ns);

/* frame.c */
/* An mbuf with the Ethernet/IPv4/UDP headers for a len-byte payload to
 * dst (destination MAC zero); the payload and checksum are the caller's. */
struct rte_mbuf *gsp_frame_alloc(struct gsp_dp *dp, struct gsp_vnode *vn,
				 const struct gsp_addr *dst, uint16_t len);
uint8_t *gsp_frame_payload(struct rte_mbuf *m);
/* The UDP checksum once the payload is in place; behind the emulation's
 * switch, only asked for (frame_cksum.h). */
void gsp_frame_cksum(struct gsp_dp *dp, struct rte_mbuf *m);
/* The gateway for off-subnet destinations, else dst itself. */
uint32_t gsp_next_hop(const struct gsp_vnode *vn, const struct gsp_addr *dst);
/* Ethernet/IPv4/UDP around a payload, destination MAC zero; or NULL. */
struct rte_mbuf *gsp_frame_build(struct gsp_dp *dp, struct gsp_vnode *vn,
				 const struct gsp_addr *dst,
				 const uint8_t *payload, uint16_t len);
/* Sets the next hop's MAC and queues the frame, or holds it for ARP. */
void gsp_frame_route(struct gsp_dp *dp, struct gsp_vnode *vn,
		     struct rte_mbuf *m, uint32_t next_hop, uint64_t now_ns);

/* tx.c */
void gsp_tx_flush(struct gsp_dp *dp, struct gsp_lcore_conf *lc);
/* Counted as the vnode's and its lcore's; leaves at the next flush. */
void gsp_tx_enqueue(struct gsp_dp *dp, struct gsp_vnode *vn,
		    struct rte_mbuf *m);

/* arp.c */
struct gsp_arp_cache *gsp_arp_create(uint32_t entries, int socket);
void gsp_arp_destroy(struct gsp_arp_cache *c);
size_t gsp_arp_bytes(uint32_t entries);
/* Next-hop MAC for ip, or NULL (then an ARP request may be sent). */
const struct rte_ether_addr *gsp_arp_resolve(struct gsp_dp *dp,
		struct gsp_vnode *vn, uint32_t next_hop, uint64_t now_ns);
/* Keeps a frame (dst MAC unset) until next_hop resolves. */
void gsp_arp_hold(struct gsp_dp *dp, struct gsp_vnode *vn,
		  struct rte_mbuf *m, uint32_t next_hop, uint64_t now_ns);
/* ip is at mac: a datagram from there that the core took (authentic when
 * the node authenticates). Confirms the entry, over anything ARP said. */
void gsp_arp_confirm(struct gsp_dp *dp, struct gsp_vnode *vn, uint32_t ip,
		     const struct rte_ether_addr *mac, uint64_t now_ns);
void gsp_arp_input(struct gsp_dp *dp, struct gsp_vnode *vn,
		   const uint8_t *frame, uint32_t len, uint64_t now_ns);
void gsp_arp_announce(struct gsp_dp *dp, struct gsp_vnode *vn);
/* Frees held frames (a stopped vnode). */
void gsp_arp_flush(struct gsp_vnode *vn);

/* port_switch.c: port_switch.h; the port seam: portq.h */

/* fault.c */
/* Queue and start-up faults ([fault]) for the control vnode. */
int gsp_fault_dp_init(struct gsp_dp *dp);
/* After the lcores stopped: held frames and configs freed. */
void gsp_fault_dp_free(struct gsp_dp *dp);
/* gsp_io_send when vn->fault is set. */
void gsp_fault_send(struct gsp_dp *dp, struct gsp_vnode *vn,
		    const struct gsp_addr *dst, uint32_t next_hop,
		    const uint8_t *payload, uint16_t len, uint64_t now_ns);
/* Timer step: releases due frames (bounded), publishes the counters and
 * lowers *next_ns to the next release; returns frames released. */
unsigned int gsp_fault_step(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
			    uint64_t now_ns, uint64_t *next_ns);
/* GSP_CMD_FAULT on the owning lcore. */
void gsp_fault_take(struct gsp_dp *dp, struct gsp_vnode *vn,
		    const struct gsp_cmd *cmd);

/* dp_ctrl.c */
void gsp_view_watch(struct gsp_dp *dp, unsigned int work, uint64_t now_ns);
void gsp_dp_process_commands(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
			     uint64_t now_ns);

/* cmd.c */
/* Puts cmd on the ring of the lcore owning cmd->vnode; 0, -ENODEV or
 * -EAGAIN (ring full). */
int gsp_dp_submit(const struct gsp_cmd *cmd);


/* emu.c */
struct gsp_emu_opts {
	uint32_t nodes;			/* 0: normal mode */
	uint32_t seeds;
	uint32_t interval_ms;		/* 0: config's, else 100 */
	int scenario;
	const char *json;
	double max_s;
	double duration_s;
	double loss;
	uint64_t seed;
};
int gsp_emu_parse_scenario(const char *s);
int gsp_emu_setup(struct gsp_dp *dp, struct gsp_config *cfg,
		  const struct gsp_emu_opts *o);
int gsp_emu_start(struct gsp_dp *dp);
/* Exit status of the scenario (0 done, 1 timed out or failed). */
int gsp_emu_finish(struct gsp_dp *dp);
void gsp_emu_free(struct gsp_dp *dp);

/* rte_log's lines through gsp_log_line (log_dpdk.c); before EAL init */
int gsp_log_dpdk_init(void);

#endif /* GOSSIPD_H */
