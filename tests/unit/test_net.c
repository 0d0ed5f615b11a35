/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The core's unit tests' harness (test_net.h): an in-memory network
 * behind the core's I/O seam, nodes stepped in lockstep on a virtual
 * clock, sample member states.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gsp_core.h"
#include "gsp_wire.h"
#include "test_net.h"

/*
 * Not the simulator's network (sim/): these tests step every node in
 * lockstep (deliver what is queued, then tick) and read or drop the
 * queued datagrams themselves, white-box; the simulator's scenarios,
 * which measure through the shared harness, run in tests/sim/.
 */

struct net_pkt net_q[NET_QUEUE_MAX];
unsigned int net_n;
struct sim_node sim[NET_MAX_NODES];
unsigned int sim_n;
struct gsp_event last_event;
unsigned int name_conflicts;

void
gsp_io_send(void *io_ctx, const struct gsp_addr *dst, const uint8_t *payload,
	    uint16_t len)
{
	struct sim_node *s = io_ctx;
	struct net_pkt *p;

	if (s == NULL || net_n >= NET_QUEUE_MAX)
		return;
	s->tx_bytes += len;
	p = &net_q[net_n++];
	p->src = s->addr;
	p->dst = *dst;
	p->len = len;
	p->data = malloc(len);
	memcpy(p->data, payload, len);
}

void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	struct sim_node *s = io_ctx;

	last_event = *ev;
	if (ev->type == GSP_EV_NAME_CONFLICT)
		name_conflicts++;
	if (s == NULL)
		return;
	if (ev->type == GSP_EV_JOINED)
		s->joined++;
	else if (ev->type == GSP_EV_STATE)
		s->state_events++;
	else if (ev->type == GSP_EV_RESTARTED)
		s->restarted++;
}

void
net_drop(struct net_pkt *q, unsigned int *n)
{
	for (unsigned int i = 0; i < *n; i++)
		free(q[i].data);
	*n = 0;
}

void
net_reset(void)
{
	net_drop(net_q, &net_n);
	for (unsigned int i = 0; i < sim_n; i++)
		gsp_node_destroy(sim[i].node);
	memset(sim, 0, sizeof(sim));
	sim_n = 0;
}

struct gsp_node_params
test_params(const char *name, uint32_t ip, uint64_t generation, void *ctx)
{
	struct gsp_node_params p = {
		.generation = generation,
		.addr = { ip, GSP_DEFAULT_PORT },
		.capacity = 4096,
		.gossip_interval_ns = 100 * MS,
		.fanout = 2,
		.phi_suspect = 5,
		.phi_convict = 8,
		.forget_ns = 60000 * MS,
		.max_payload = 1472,
		.leave_rounds = 2,
		.rng_seed = 42,
		.io_ctx = ctx,
	};

	snprintf(p.cluster, sizeof(p.cluster), "%s", CLUSTER);
	snprintf(p.name, sizeof(p.name), "%s", name);
	return p;
}

void
sim_start(unsigned int i, uint64_t generation, uint16_t max_payload,
	  unsigned int n_seeds)
{
	struct gsp_addr seeds[3];
	struct gsp_node_params p;
	char name[32];
	int err;

	snprintf(name, sizeof(name), "node%u", i + 1);
	sim[i].addr = (struct gsp_addr){ 0x0a000001 + i, GSP_DEFAULT_PORT };
	p = test_params(name, sim[i].addr.ip, generation, &sim[i]);
	p.rng_seed = 1000 + i;
	if (max_payload != 0)
		p.max_payload = max_payload;
	sim[i].node = gsp_node_create(&p, &err);
	assert_non_null(sim[i].node);
	for (unsigned int k = 0; k < n_seeds; k++)
		seeds[k] = (struct gsp_addr){ 0x0a000001 + k, GSP_DEFAULT_PORT };
	gsp_node_set_seeds(sim[i].node, seeds, n_seeds);
	sim[i].up = true;
	if (i >= sim_n)
		sim_n = i + 1;
}

struct sim_node *
sim_by_addr(const struct gsp_addr *a)
{
	for (unsigned int i = 0; i < sim_n; i++)
		if (sim[i].addr.ip == a->ip && sim[i].addr.port == a->port)
			return &sim[i];
	return NULL;
}

/* Delivers what is queued (1 ms latency) and ticks the live nodes. */
void
sim_step(uint64_t now)
{
	unsigned int n = net_n;
	struct net_pkt *batch = malloc(sizeof(*batch) * (n ? n : 1));

	memcpy(batch, net_q, sizeof(*batch) * n);
	net_n = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct sim_node *d = sim_by_addr(&batch[i].dst);

		if (d != NULL && d->up)
			gsp_node_rx(d->node, &batch[i].src, batch[i].data,
				    batch[i].len, now, NULL);
		free(batch[i].data);
	}
	free(batch);
	for (unsigned int i = 0; i < sim_n; i++)
		if (sim[i].up)
			gsp_node_tick(sim[i].node, now);
}

unsigned int
count_state(struct gsp_node *n, uint8_t state)
{
	struct gsp_member_view v;
	uint32_t hw = gsp_node_slot_count(n);
	unsigned int c = 0;

	for (uint32_t s = 0; s < hw; s++)
		if (gsp_node_member_read(n, s, &v) && v.state == state)
			c++;
	return c;
}

bool
all_see_alive(unsigned int expect)
{
	for (unsigned int i = 0; i < sim_n; i++)
		if (sim[i].up && count_state(sim[i].node, GSP_STATE_ALIVE) != expect)
			return false;
	return true;
}

unsigned int
run_until_converged(unsigned int n, uint64_t *now, unsigned int max_rounds)
{
	for (unsigned int r = 0; r < max_rounds; r++) {
		for (int sub = 0; sub < 10; sub++) {
			*now += 10 * MS;
			sim_step(*now);
		}
		if (all_see_alive(n))
			return r + 1;
	}
	return 0;
}

struct gsp_wire_state
sample_state(uint64_t id, const char *name)
{
	struct gsp_wire_state st = {
		.id = id, .generation = 7, .heartbeat = 9, .version = 12,
		.ip = 0x0a000002, .port = 7946, .status = 0, .app_count = 2,
	};

	snprintf(st.name, sizeof(st.name), "%s", name);
	st.app[0] = (struct gsp_app_entry){ .version = 10 };
	snprintf(st.app[0].key, sizeof(st.app[0].key), "load");
	snprintf(st.app[0].value, sizeof(st.app[0].value), "0.75");
	st.app[1] = (struct gsp_app_entry){ .version = 12 };
	snprintf(st.app[1].key, sizeof(st.app[1].key), "zone");
	snprintf(st.app[1].value, sizeof(st.app[1].value), "eu west 1");
	return st;
}

static struct gsp_digest dig_scratch[4096];
static struct gsp_wire_state st_scratch[2048];
static struct gsp_claim claim_scratch[2048];

int
decode_in(const char *cluster, const uint8_t *buf, uint16_t len,
	  struct gsp_wire_msg *m)
{
	return gsp_wire_decode(buf, len, gsp_cluster_hash(cluster), m,
			       dig_scratch, st_scratch, claim_scratch);
}

int
decode(const uint8_t *buf, uint16_t len, struct gsp_wire_msg *m)
{
	return decode_in(CLUSTER, buf, len, m);
}

void
feed(struct gsp_node *n, const struct gsp_wire_state *st, uint64_t now)
{
	uint8_t buf[1500];
	struct gsp_wire_writer w;
	struct gsp_addr src = { 0x0a000009, 7946 };

	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_ACK2,
		       gsp_cluster_hash(CLUSTER), 999);
	assert_true(gsp_wire_put_state(&w, st));
	gsp_node_rx(n, &src, buf, gsp_wire_finish(&w), now, NULL);
}

void
forge_suspicion(struct gsp_node *to, struct gsp_node *about, uint64_t now)
{
	uint8_t buf[512];
	struct gsp_wire_writer w;
	struct gsp_addr src = { 0x0a0000ff, GSP_DEFAULT_PORT };
	struct gsp_claim cl = { gsp_node_id(about), gsp_node_generation(about),
		0xbad, 0, GSP_CLAIM_SUSPECT };

	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_PING,
		       gsp_cluster_hash(CLUSTER), 0xbad);
	gsp_wire_set_probe(&w, 1, gsp_node_id(to), NULL);
	assert_true(gsp_wire_put_claim(&w, &cl));
	gsp_node_rx(to, &src, buf, gsp_wire_finish(&w), now, NULL);
}
