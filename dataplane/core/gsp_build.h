/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packing entries of one message type into datagrams to one destination
 * (gsp_build.c). Inline: the anti-entropy paths call these per entry.
 */
#ifndef GSP_BUILD_H
#define GSP_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "gsp_node_int.h"
#include "gsp_wire.h"

/* Packs entries of one message type into packets to one destination. */
struct gsp_out {
	struct gsp_node *node;
	struct gsp_wire_writer w;
	struct gsp_addr dst;
	uint8_t type;
	uint8_t dst_wire;	/* the version dst speaks (gsp_wire_for) */
	bool open;
};

/* Sends what the open packet holds, if anything. */
void gsp_out_flush(struct gsp_out *o);
/* Adds the current state of the member in slot. */
void gsp_out_slot(struct gsp_out *o, uint32_t slot);

/* dst_wire: gsp_wire_for() the member at dst (GSP_WIRE_VERSION_MIN
 * when unknown): states it cannot take are not sent to it. */
static inline void
gsp_out_init(struct gsp_out *o, struct gsp_node *n, uint8_t type,
	     const struct gsp_addr *dst, uint8_t dst_wire)
{
	o->node = n;
	o->type = type;
	o->dst = *dst;
	o->dst_wire = dst_wire;
	o->open = false;
}

static inline void
gsp_out_open(struct gsp_out *o)
{
	struct gsp_node *n = o->node;

	gsp_wire_begin(&o->w, n->tx, n->body_cap, o->type,
		       n->cluster_hash, n->id);
	o->open = true;
}

static inline void
gsp_out_state(struct gsp_out *o, const struct gsp_wire_state *st)
{
	/* a v4 decoder would drop the whole message for it; the member
	 * learns it once it speaks 5 (docs/PROTOCOL.md "Versions") */
	if (o->dst_wire < 5 && gsp_wire_state_wide(st))
		return;
	if (!o->open)
		gsp_out_open(o);
	if (gsp_wire_put_state(&o->w, st))
		return;
	gsp_out_flush(o);
	gsp_out_open(o);
	/* fits: max_payload >= GSP_WIRE_PAYLOAD_FOR(app_bytes_max) is
	 * checked at creation, and no state we hold is larger */
	gsp_wire_put_state(&o->w, st);
}

static inline void
gsp_out_digest(struct gsp_out *o, const struct gsp_digest *d)
{
	if (!o->open)
		gsp_out_open(o);
	if (gsp_wire_put_digest(&o->w, d))
		return;
	gsp_out_flush(o);
	gsp_out_open(o);
	gsp_wire_put_digest(&o->w, d);
}

#endif /* GSP_BUILD_H */
