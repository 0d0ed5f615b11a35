/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rumors: recent changes (joins, restarts, app state, leaves) kept "hot"
 * for a number of rounds growing with log N and piggybacked as PUSH
 * packets, so news spreads epidemically whatever the digest window.
 */
#include "gsp_util.h"

#include "gsp_node_int.h"

uint32_t
gsp_log2_ceil(uint32_t v)
{
	uint32_t b = 0;

	while ((1u << b) < v && b < 31)
		b++;
	return b;
}

bool
gsp_rumor_add(struct gsp_node *n, uint32_t slot)
{
	/* long enough for push-pull to reach everyone: log3 N + ln ln N
	 * rounds, with room for loss */
	uint64_t until = n->ctr.rounds + 4 + gsp_log2_ceil(n->table->used + 1);
	struct gsp_rumor *ru;
	bool evicted = false;
	uint32_t i;

	if (n->rumor_of[slot] != 0) {
		ru = &n->rumors[n->rumor_of[slot] - 1];
		ru->until_round = until;
		return true;
	}
	if (n->rumor_n == GSP_RUMORS_MAX) {
		/* full: the oldest news gives way; anti-entropy still carries it */
		ru = &n->rumors[n->rumor_head];
		if (ru->slot != GSP_NONE && n->rumor_of[ru->slot] ==
		    n->rumor_head + 1)
			n->rumor_of[ru->slot] = 0;
		n->rumor_head = (n->rumor_head + 1) % GSP_RUMORS_MAX;
		n->rumor_n--;
		evicted = ru->slot != GSP_NONE;
	}
	i = (n->rumor_head + n->rumor_n) % GSP_RUMORS_MAX;
	n->rumors[i] = (struct gsp_rumor){ gsp_slot_id(n, slot), until, slot };
	n->rumor_of[slot] = (uint16_t)(i + 1);
	n->rumor_n++;
	return !evicted;
}

void
gsp_rumor_expire(struct gsp_node *n)
{
	while (n->rumor_n != 0) {
		struct gsp_rumor *ru = &n->rumors[n->rumor_head];

		if (ru->until_round > n->ctr.rounds && ru->slot != GSP_NONE)
			break;
		if (ru->slot != GSP_NONE &&
		    n->rumor_of[ru->slot] == n->rumor_head + 1)
			n->rumor_of[ru->slot] = 0;
		n->rumor_head = (n->rumor_head + 1) % GSP_RUMORS_MAX;
		n->rumor_n--;
	}
	GSP_CTR_SET(n->ctr.rumors, n->rumor_n);
}

/* One PUSH packet of the newest live rumors it can take (dst_wire:
 * gsp_wire_for the member at dst). */
void
gsp_rumor_push(struct gsp_node *n, const struct gsp_addr *dst,
	       uint8_t dst_wire)
{
	struct gsp_wire_state *st = gsp_out_scratch();
	struct gsp_wire_writer w;

	if (n->rumor_n == 0)
		return;
	gsp_wire_begin(&w, n->tx, n->body_cap, GSP_MSG_PUSH,
		       n->cluster_hash, n->id);
	for (uint32_t k = n->rumor_n; k-- > 0;) {
		struct gsp_rumor *ru =
			&n->rumors[(n->rumor_head + k) % GSP_RUMORS_MAX];
		struct gsp_member_rec *r;

		if (ru->slot == GSP_NONE || ru->until_round <= n->ctr.rounds)
			continue;
		r = gsp_rec(n, ru->slot);
		if (gsp_rec_id(n, r) != ru->id)
			continue;
		gsp_rec_to_wire(n, r, st);
		if (dst_wire < 5 && gsp_wire_state_wide(st))
			continue;	/* as gsp_out_state */
		if (!gsp_wire_put_state(&w, st))
			break;
	}
	if (gsp_wire_empty(&w))
		return;
	gsp_node_send(n, dst, gsp_wire_finish(&w));
	GSP_CTR_INC(n->ctr.tx_push);
}
