/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building and sending datagrams: the per-thread scratch, packing
 * entries into packets (struct gsp_out, gsp_build.h), sealing and
 * sending, the tx counters, and member events to the adapter.
 */
#include <stdlib.h>
#include <string.h>

#include "gsp_util.h"

#include "gsp_build.h"
#include "gsp_node_int.h"
#include "gsp_swim_int.h"

static __thread struct gsp_scratch gsp_tls;
static __thread struct gsp_wire_state gsp_tls_out;

struct gsp_wire_state *
gsp_out_scratch(void)
{
	return &gsp_tls_out;
}

/* NULL when memory is short: the caller drops the packet (counted). */
struct gsp_scratch *
gsp_scratch_get(uint32_t send_cap)
{
	struct gsp_scratch *s = &gsp_tls;
	uint32_t max_digests = gsp_wire_max_digests(GSP_RX_MAX);

	if (s->rx_states == NULL) {
		/* once per thread, kept for the thread's life */
		free(s->rx_digests);
		free(s->listed);
		free(s->found);
		free(s->requests);
		free(s->rx_claims);
		free(s->rx_plain);
		s->rx_plain = malloc(GSP_RX_ACCEPT_MAX);
		s->rx_claims = calloc(gsp_wire_max_claims(GSP_RX_MAX),
				      sizeof(*s->rx_claims));
		s->rx_digests = calloc(max_digests, sizeof(*s->rx_digests));
		/* open addressing at most half full (gsp_listed_*) */
		s->listed = calloc(2u << gsp_log2_ceil(max_digests),
				   sizeof(*s->listed));
		s->found = calloc(max_digests, sizeof(*s->found));
		s->requests = calloc(max_digests, sizeof(*s->requests));
		if (s->rx_digests != NULL && s->listed != NULL &&
		    s->found != NULL &&
		    s->requests != NULL && s->rx_claims != NULL &&
		    s->rx_plain != NULL)
			s->rx_states = calloc(gsp_wire_max_states(GSP_RX_MAX),
					      sizeof(*s->rx_states));
		if (s->rx_states == NULL)
			return NULL;
	}
	if (s->send_cap < send_cap) {
		/* only when a thread first serves a larger table */
		uint32_t *p = realloc(s->send_slots, send_cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		s->send_slots = p;
		s->send_cap = send_cap;
	}
	return s;
}

void
gsp_count_tx(struct gsp_node *n, uint8_t type)
{
	switch (type) {
	case GSP_MSG_PING:
		GSP_CTR_INC(n->ctr.tx_ping);
		break;
	case GSP_MSG_PONG:
		GSP_CTR_INC(n->ctr.tx_pong);
		break;
	case GSP_MSG_PING_REQ:
		GSP_CTR_INC(n->ctr.tx_ping_req);
		break;
	case GSP_MSG_NACK:
		GSP_CTR_INC(n->ctr.tx_nack);
		break;
	case GSP_MSG_SYN:
		GSP_CTR_INC(n->ctr.tx_syn);
		break;
	case GSP_MSG_ACK:
		GSP_CTR_INC(n->ctr.tx_ack);
		break;
	case GSP_MSG_ACK2:
		GSP_CTR_INC(n->ctr.tx_ack2);
		break;
	case GSP_MSG_PUSH:
		GSP_CTR_INC(n->ctr.tx_push);
		break;
	default:
		GSP_CTR_INC(n->ctr.tx_leave);
		break;
	}
}

/* No zero-copy room by default (gsp_core.h): adapters without it keep
 * gsp_io_send alone. */
__attribute__((weak)) bool
gsp_io_tx_open(void *io_ctx, const struct gsp_addr *dst, uint16_t len,
	       struct gsp_io_tx *tx)
{
	(void)io_ctx;
	(void)dst;
	(void)len;
	(void)tx;
	return false;
}

__attribute__((weak)) void
gsp_io_tx_commit(void *io_ctx, const struct gsp_addr *dst,
		 struct gsp_io_tx *tx, uint16_t len)
{
	(void)io_ctx;
	(void)dst;
	(void)tx;
	(void)len;
}

void
gsp_node_send(struct gsp_node *n, const struct gsp_addr *dst, uint16_t len)
{
	struct gsp_io_tx tx;

	if (n->kr == NULL) {
		gsp_io_send(n->p.io_ctx, dst, n->tx, len);
		return;
	}
	/* fits: body_cap leaves room for the seal */
	if (gsp_io_tx_open(n->p.io_ctx, dst, len + GSP_SEC_OVERHEAD, &tx)) {
		len = gsp_sec_seal(n->kr, &n->sec_tx, n->tx, len, tx.buf);
		gsp_io_tx_commit(n->p.io_ctx, dst, &tx, len);
		return;
	}
	len = gsp_sec_seal(n->kr, &n->sec_tx, n->tx, len, n->tx_sealed);
	gsp_io_send(n->p.io_ctx, dst, n->tx_sealed, len);
}

void
gsp_out_flush(struct gsp_out *o)
{
	uint16_t len;

	if (!o->open || gsp_wire_empty(&o->w))
		return;
	len = gsp_wire_finish(&o->w);
	gsp_node_send(o->node, &o->dst, len);
	gsp_count_tx(o->node, o->type);
	o->open = false;
}

/* Names in the arena are NUL-terminated and shorter than GSP_NAME_MAX; a
 * plain copy keeps formatting off the per-member paths. */
void
gsp_copy_name(char dst[GSP_NAME_MAX], const char *src)
{
	size_t len = strnlen(src, GSP_NAME_MAX - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

void
gsp_emit_event(struct gsp_node *n, uint8_t type, const struct gsp_member_rec *r,
	       uint8_t old_state)
{
	struct gsp_event ev = {
		.type = type,
		.old_state = old_state,
		.new_state = r->state,
		.id = gsp_rec_id(n, r),
		.generation = r->generation,
		.slot = (uint32_t)(r - n->table->recs),
	};

	if (!n->p.unnamed_events)
		gsp_copy_name(ev.name, gsp_table_name(n->table, r));
	gsp_io_event(n->p.io_ctx, &ev);
}

void
gsp_rec_to_wire(struct gsp_node *n, struct gsp_member_rec *r,
		struct gsp_wire_state *st)
{
	const struct gsp_app_entry *app = gsp_table_app(n->table, r);
	/* once: from the record's address it takes a division */
	uint32_t slot = (uint32_t)(r - n->table->recs);

	st->id = gsp_slot_id(n, slot);
	st->generation = r->generation;
	/* heartbeats advance without a new version (probes carry them):
	 * a state says only as much as its version allows, which every
	 * version's decoder accepts */
	st->heartbeat = r->heartbeat < r->version ? r->heartbeat : r->version;
	st->version = r->version;
	st->wire = n->proto >= 3 ? r->wire : 0;
	{
		struct gsp_addr a = gsp_slot_addr(n, slot);

		st->ip = a.ip;
		st->port = a.port;
	}
	/* LEFT in a state is the member's own word; one an operator moved
	 * there (force-leave) is told by claims, which it can refute */
	st->status = r->state == GSP_STATE_LEFT &&
		!gsp_swim_force_left(n, slot) ?
		GSP_WIRE_STATUS_LEFT : GSP_WIRE_STATUS_NORMAL;
	st->app_count = app != NULL ? r->app_count : 0;
	st->incarnation = r->incarnation;
	gsp_copy_name(st->name, gsp_ids_name(n->table->ids, slot));
	if (st->app_count != 0)
		memcpy(st->app, app, sizeof(st->app[0]) * st->app_count);
}

void
gsp_out_slot(struct gsp_out *o, uint32_t slot)
{
	struct gsp_node *n = o->node;

	gsp_rec_to_wire(n, gsp_rec(n, slot), &gsp_tls_out);
	gsp_out_state(o, &gsp_tls_out);
}
