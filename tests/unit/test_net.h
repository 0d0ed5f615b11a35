/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The core's unit tests' harness: an in-memory network behind the core's
 * I/O seam (gsp_io_send, gsp_io_event: this file's test_net.c defines
 * them), nodes stepped in lockstep on a virtual clock, sample member
 * states, and the decoder and feeder the tests share.
 */
#ifndef TEST_NET_H
#define TEST_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "gsp_core.h"
#include "gsp_wire.h"

#define MS 1000000ull
#define CLUSTER "unit"

#define NET_MAX_NODES 2048
#define NET_QUEUE_MAX 200000

struct net_pkt {
	struct gsp_addr src, dst;
	uint16_t len;
	uint8_t *data;
};

struct sim_node {
	struct gsp_node *node;
	struct gsp_addr addr;
	bool up;
	uint64_t tx_bytes;
	unsigned int joined, state_events, restarted;
};

extern struct net_pkt net_q[NET_QUEUE_MAX];
extern unsigned int net_n;
extern struct sim_node sim[NET_MAX_NODES];
extern unsigned int sim_n;
extern struct gsp_event last_event;
extern unsigned int name_conflicts;

/* Frees the n packets of q (net_q or a test's own), *n = 0. */
void net_drop(struct net_pkt *q, unsigned int *n);
/* Frees what is queued and destroys the nodes. */
void net_reset(void);
struct gsp_node_params test_params(const char *name, uint32_t ip,
				   uint64_t generation, void *ctx);
/* Node i (node<i+1>, 10.0.0.<i+1>), the first n_seeds nodes its seeds;
 * max_payload 0: the default. */
void sim_start(unsigned int i, uint64_t generation, uint16_t max_payload,
	       unsigned int n_seeds);
struct sim_node *sim_by_addr(const struct gsp_addr *a);
/* Delivers what is queued (1 ms latency) and ticks the live nodes. */
void sim_step(uint64_t now);
unsigned int count_state(struct gsp_node *n, uint8_t state);
bool all_see_alive(unsigned int expect);
/* Rounds of 10 steps of 10 ms until the first n nodes all see n alive:
 * how many, or 0 after max_rounds. */
unsigned int run_until_converged(unsigned int n, uint64_t *now,
				 unsigned int max_rounds);
/* A member's state with a name and two app keys. */
struct gsp_wire_state sample_state(uint64_t id, const char *name);
/* buf decoded as a member of `cluster` would, or of ours (CLUSTER); what
 * it lists stays valid until the next call. */
int decode_in(const char *cluster, const uint8_t *buf, uint16_t len,
	      struct gsp_wire_msg *m);
int decode(const uint8_t *buf, uint16_t len, struct gsp_wire_msg *m);
/* st, as an ACK2 from member 999 at 10.0.0.9. */
void feed(struct gsp_node *n, const struct gsp_wire_state *st, uint64_t now);
/* A PING to `to` from a stranger (10.0.0.255, id 0xbad) carrying a claim
 * that `about` is suspect at incarnation 0. */
void forge_suspicion(struct gsp_node *to, struct gsp_node *about,
		     uint64_t now);

#endif /* TEST_NET_H */
