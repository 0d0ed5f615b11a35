/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulated network: the packet pool, and the
 * core's send seam (gsp_io_send): latency, jitter, the shared fault
 * module, partitions and held packets of paused nodes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_sim_int.h"

/* ---------------------------- packet pool ----------------------------- */

int
gsp_sim_pool_init(struct gsp_sim *s)
{
	uint32_t max = s->c.max_inflight;

	s->pkts = calloc(max, sizeof(*s->pkts));
	s->free_pkts = calloc(max, sizeof(*s->free_pkts));
	s->chunks = calloc(max / GSP_SIM_PKT_CHUNK + 1, sizeof(*s->chunks));
	return s->pkts && s->free_pkts && s->chunks ? 0 : -ENOMEM;
}

static bool
gsp_sim_pool_get(struct gsp_sim *s, uint32_t *slot)
{
	if (s->n_free == 0 && s->n_alloc < s->c.max_inflight) {
		uint32_t add = s->c.max_inflight - s->n_alloc;
		uint8_t *chunk;

		if (add > GSP_SIM_PKT_CHUNK)
			add = GSP_SIM_PKT_CHUNK;
		chunk = malloc((size_t)add * s->c.max_payload);
		if (chunk != NULL) {
			s->chunks[s->n_chunks++] = chunk;
			for (uint32_t i = 0; i < add; i++) {
				uint32_t k = s->n_alloc + add - 1 - i;

				s->pkts[k].data = chunk + (size_t)(add - 1 - i) *
					s->c.max_payload;
				s->free_pkts[s->n_free++] = k;
			}
			s->n_alloc += add;
		}
	}
	if (s->n_free == 0)
		return false;
	*slot = s->free_pkts[--s->n_free];
	if (++s->inflight > s->inflight_peak)
		s->inflight_peak = s->inflight;
	return true;
}

void
gsp_sim_pool_put(struct gsp_sim *s, uint32_t slot)
{
	s->free_pkts[s->n_free++] = slot;
	s->inflight--;
}

/* ------------------------- the core's I/O seam ------------------------ */

/* one copy of a packet onto the wire: base latency + jitter + fault delay */
static void
gsp_sim_send_copy(struct gsp_sim *s, struct gsp_sim_node *sn, uint32_t d,
		  const uint8_t *payload, uint16_t len, uint64_t fault_ns)
{
	uint64_t delay;
	uint32_t slot;

	if (!gsp_sim_pool_get(s, &slot)) {
		s->pool_drops++;
		return;
	}
	memcpy(s->pkts[slot].data, payload, len);
	s->pkts[slot].len = len;
	s->pkts[slot].src = sn->idx;
	delay = (uint64_t)s->c.latency_us * 1000 + fault_ns;
	if (s->c.jitter_us > 0)
		delay += gsp_sim_rand_below(&s->rng_net,
					    (uint64_t)s->c.jitter_us * 1000 + 1);
	if (!gsp_sim_heap_push(&s->heap, s->now + delay, GSP_SIM_EV_DELIVER,
			       d, slot)) {
		gsp_sim_pool_put(s, slot);
		s->heap_drops++;
	}
}

void
gsp_io_send(void *io_ctx, const struct gsp_addr *dst, const uint8_t *payload,
	    uint16_t len)
{
	struct gsp_sim_node *sn = io_ctx;
	struct gsp_sim *s = sn->sim;
	uint32_t d = dst->ip - GSP_SIM_IP_BASE;
	uint64_t fault_ns[2] = { 0, 0 };
	unsigned int copies = 1;

	s->pkts_sent++;
	sn->tx_pkts++;
	sn->tx_bytes += len;
	if (dst->port != GSP_SIM_PORT || dst->ip < GSP_SIM_IP_BASE ||
	    d >= s->c.n_nodes) {
		s->unknown_dst++;
		return;
	}
	if (s->partitioned && s->nodes[d].side != sn->side) {
		s->part_drops++;
		return;
	}
	if (len > s->c.max_payload) {
		s->oversize++;
		return;
	}
	/* the sender's faults, decided by the module gossipd uses */
	if (gsp_fault_active(&sn->fault))
		copies = gsp_fault_out(&sn->fault, dst->ip, &s->rng_fault,
				       fault_ns, s->fault_ctr);
	for (unsigned int i = 0; i < copies && i < 2; i++)
		gsp_sim_send_copy(s, sn, d, payload, len, fault_ns[i]);
}
