/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rumors: recent changes (joins, restarts, app state, leaves) kept "hot"
 * for a number of rounds growing with log N and piggybacked as PUSH
 * packets, so news spreads epidemically whatever the digest window.
 */
#include "gsp_util.h"

#include "gsp_node_int.h"

/* ---- slot -> ring index, open-addressed (linear probing) ---- */

#define GSP_RUMOR_INDEX_BITS 9
_Static_assert(GSP_RUMOR_INDEX == 1u << GSP_RUMOR_INDEX_BITS &&
	       GSP_RUMORS_MAX <= GSP_RUMOR_INDEX / 2 && GSP_RUMORS_MAX < 65536,
	       "rumor index: half full at most, 16-bit entries");

/* Fibonacci hashing: the top bits of slot x 2^32/phi */
static uint32_t
gsp_rumor_home(uint32_t slot)
{
	return (uint32_t)(slot * 2654435761u) >> (32 - GSP_RUMOR_INDEX_BITS);
}

/* Where slot's entry is in the index, or where it would go (an empty
 * entry): the index is never more than half full, so one is found. */
static uint32_t
gsp_rumor_pos(const struct gsp_node *n, uint32_t slot)
{
	uint32_t p = gsp_rumor_home(slot);

	for (uint32_t k = 0; k < GSP_RUMOR_INDEX; k++) {
		uint16_t e = n->rumor_index[p];

		if (e == 0 || n->rumors[e - 1].slot == slot)
			return p;
		p = (p + 1) & (GSP_RUMOR_INDEX - 1);
	}
	return p;	/* not reached: at most GSP_RUMORS_MAX entries */
}

/* Ring index + 1 of slot's rumor, or 0. */
static uint16_t
gsp_rumor_of(const struct gsp_node *n, uint32_t slot)
{
	return n->rumor_index[gsp_rumor_pos(n, slot)];
}

/* Removes slot's entry, moving later ones of the same run back so that
 * every entry stays reachable from its home (no tombstones); returns
 * what it held (ring index + 1), or 0 when slot had none. */
static uint16_t
gsp_rumor_unindex(struct gsp_node *n, uint32_t slot)
{
	const uint32_t mask = GSP_RUMOR_INDEX - 1;
	uint32_t hole = gsp_rumor_pos(n, slot), p = hole;
	uint16_t had = n->rumor_index[hole];

	if (had == 0)
		return 0;
	n->rumor_index[hole] = 0;
	for (uint32_t k = 0; k < GSP_RUMOR_INDEX; k++) {
		uint16_t e;
		uint32_t home;

		p = (p + 1) & mask;
		e = n->rumor_index[p];
		if (e == 0)
			break;
		home = gsp_rumor_home(n->rumors[e - 1].slot);
		/* the entry may fill the hole when its home is not in the
		 * (cyclic) range after the hole up to it */
		if (((p - home) & mask) >= ((p - hole) & mask)) {
			n->rumor_index[hole] = e;
			n->rumor_index[p] = 0;
			hole = p;
		}
	}
	return had;
}

bool
gsp_rumor_verify(const struct gsp_node *n)
{
	uint32_t live = 0, indexed = 0;

	for (uint32_t k = 0; k < n->rumor_n; k++) {
		uint32_t i = (n->rumor_head + k) % GSP_RUMORS_MAX;
		uint32_t slot = n->rumors[i].slot;

		if (slot == GSP_NONE)
			continue;
		live++;
		if (gsp_rumor_of(n, slot) != i + 1)
			return false;
	}
	for (uint32_t p = 0; p < GSP_RUMOR_INDEX; p++) {
		uint16_t e = n->rumor_index[p];

		if (e == 0)
			continue;
		indexed++;
		/* in the ring's live window, naming a member */
		if (e > GSP_RUMORS_MAX ||
		    (e - 1u + GSP_RUMORS_MAX - n->rumor_head) %
		    GSP_RUMORS_MAX >= n->rumor_n ||
		    n->rumors[e - 1].slot == GSP_NONE)
			return false;
	}
	return live == indexed;
}

uint64_t
gsp_rumor_until(const struct gsp_node *n)
{
	/* long enough for push-pull to reach everyone: log3 N + ln ln N
	 * rounds, with room for loss */
	return n->ctr.rounds + 4 + gsp_log2_ceil(n->table->used + 1);
}

bool
gsp_rumor_add(struct gsp_node *n, uint32_t slot)
{
	uint64_t until = gsp_rumor_until(n);
	uint32_t pos = gsp_rumor_pos(n, slot);
	uint16_t have = n->rumor_index[pos];
	struct gsp_rumor *ru;
	bool evicted = false;
	uint32_t i;

	if (have != 0) {
		n->rumors[have - 1].until_round = until;
		return true;
	}
	if (n->rumor_n == GSP_RUMORS_MAX) {
		/* full: the oldest news gives way; anti-entropy still carries it */
		ru = &n->rumors[n->rumor_head];
		if (ru->slot != GSP_NONE) {
			gsp_rumor_unindex(n, ru->slot);
			evicted = true;
			/* the shift may have opened a place nearer home */
			pos = gsp_rumor_pos(n, slot);
		}
		n->rumor_head = (n->rumor_head + 1) % GSP_RUMORS_MAX;
		n->rumor_n--;
	}
	i = (n->rumor_head + n->rumor_n) % GSP_RUMORS_MAX;
	n->rumors[i] = (struct gsp_rumor){ gsp_slot_id(n, slot), until, slot };
	n->rumor_index[pos] = (uint16_t)(i + 1);
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
		if (ru->slot != GSP_NONE)
			gsp_rumor_unindex(n, ru->slot);
		n->rumor_head = (n->rumor_head + 1) % GSP_RUMORS_MAX;
		n->rumor_n--;
	}
	GSP_CTR_SET(n->ctr.rumors, n->rumor_n);
}

void
gsp_rumor_forget(struct gsp_node *n, uint32_t slot)
{
	uint16_t had = gsp_rumor_unindex(n, slot);

	if (had != 0)
		n->rumors[had - 1].slot = GSP_NONE;
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
		if (!gsp_wire_put_state(&w, st)) {
			n->rumors_overflow = true;
			break;
		}
	}
	if (gsp_wire_empty(&w))
		return;
	gsp_node_send(n, dst, gsp_wire_finish(&w));
	GSP_CTR_INC(n->ctr.tx_push);
}
