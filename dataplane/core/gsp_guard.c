/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a peer may tell us, and what we do when it outranks us
 * (docs/PROTOCOL.md "Numbers at their edges").
 *
 * Every number a peer sends orders something: a generation orders a
 * member's lives, a version its changes, an incarnation its refutations,
 * a sequence number its datagrams. A buggy peer that holds the key can
 * send any of them at 0 or at 2^64-1. Two rules keep one such datagram
 * from doing lasting harm:
 *
 *  - bounds where a bound exists: a generation is a start time, so one
 *    further ahead of our own clock than max_clock_skew is implausible
 *    and skipped; so is a member at an address no peer can have;
 *  - the owner always has the last word: a member that sees a state of
 *    its own that it did not make (a higher version or generation than
 *    it holds) starts a new generation above it, as a restart would, and
 *    one that is accused at the highest incarnation does the same
 *    instead of wrapping to 0.
 */
#include <stdio.h>
#include <string.h>

#include "gsp_member.h"
#include "gsp_params.h"
#include "gsp_node_int.h"
#include "gsp_util.h"

void
gsp_generation_clock_start(struct gsp_node *n, uint64_t now_ns)
{
	if (!n->clock_started) {
		n->clock_started = true;
		n->clock_t0_ns = now_ns;
	}
}

/* Our clock in generation units (microseconds since the epoch): our own
 * start time plus the core clock since. No wall clock is read, so a
 * step of the system clock cannot move the bound. */
static uint64_t
gsp_generation_clock(struct gsp_node *n, uint64_t now_ns)
{
	gsp_generation_clock_start(n, now_ns);
	if (now_ns < n->clock_t0_ns)
		return n->p.generation;
	return n->p.generation + (now_ns - n->clock_t0_ns) / 1000;
}

bool
gsp_generation_plausible(struct gsp_node *n, uint64_t generation,
			 uint64_t now_ns)
{
	uint64_t now = gsp_generation_clock(n, now_ns);
	uint64_t skew = n->p.max_clock_skew_ns / 1000;

	if (generation == 0)
		return false;
	return generation <= now || generation - now <= skew;
}

/* A heartbeat counts a member's rounds, at most one per the shortest
 * gossip interval a config allows since its generation (a start time)
 * began: more is a number no member can have made, and taking it would
 * freeze the member's heartbeat for us for good. */
bool
gsp_heartbeat_plausible(struct gsp_node *n, uint64_t generation,
			uint64_t heartbeat, uint64_t now_ns)
{
	uint64_t now = gsp_generation_clock(n, now_ns) +
		n->p.max_clock_skew_ns / 1000;
	uint64_t per_us = GSP_MIN(INTERVAL_MS) * 1000ull;

	return now >= generation && heartbeat <= (now - generation) / per_us + 1;
}

bool
gsp_addr_plausible(const struct gsp_node *n, uint32_t ip, uint16_t port)
{
	uint32_t first = ip >> 24;

	/* "this network", loopback, multicast, reserved and broadcast: no
	 * peer can be reached there, and our own address is ours alone */
	return port != 0 && first != 0 && first != 127 && first < 224 &&
		ip != n->p.addr.ip;
}

void
gsp_implausible(struct gsp_node *n, const char *what, uint64_t id,
		uint64_t generation, uint64_t now_ns)
{
	struct gsp_event ev = { .type = GSP_EV_IMPLAUSIBLE, .id = id,
		.generation = generation };

	GSP_CTR_INC(n->ctr.implausible);
	if (!gsp_once_per(&n->implausible_told_ns, now_ns,
			  GSP_IMPLAUSIBLE_LOG_NS)) {
		n->implausible_untold++;
		return;
	}
	ev.suppressed = n->implausible_untold;
	n->implausible_untold = 0;
	snprintf(ev.name, sizeof(ev.name), "%s", what);
	gsp_io_event(n->p.io_ctx, &ev);
}

bool
gsp_state_plausible(struct gsp_node *n, const struct gsp_wire_state *st,
		    uint64_t now_ns)
{
	if (!gsp_generation_plausible(n, st->generation, now_ns)) {
		gsp_implausible(n, "generation", st->id, st->generation, now_ns);
		return false;
	}
	if (!gsp_addr_plausible(n, st->ip, st->port)) {
		gsp_implausible(n, "address", st->id, st->generation, now_ns);
		return false;
	}
	return true;
}

bool
gsp_self_renew(struct gsp_node *n, uint64_t above, uint64_t version,
	       uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_rec(n, n->self_slot);
	struct gsp_event ev = { .type = GSP_EV_RENEWED, .id = n->id,
		.limit = above, .suppressed = version };
	uint64_t gen = gsp_generation_clock(n, now_ns);
	struct gsp_app_entry *app;

	/* a peer that keeps doing it (two processes with one id) makes us
	 * renew once a minute, not at its pace */
	if (n->leaving || !gsp_once_per(&n->renewed_ns, now_ns,
					GSP_RENEW_GAP_NS))
		return false;
	if (above != UINT64_MAX && gen <= above)
		gen = above + 1;
	if (gen <= n->generation)
		gen = n->generation + 1;
	n->generation = gen;
	n->incarnation = 0;
	n->heartbeat = 0;
	n->version = 0;
	app = gsp_table_app(n->table, r);
	gsp_sync_toggle(n, n->self_slot);
	gsp_table_write_begin(r);
	r->generation = gen;
	r->heartbeat = 0;
	r->incarnation = 0;
	/* app versions stay below the state's, as in any generation */
	for (uint8_t i = 0; app != NULL && i < r->app_count; i++)
		app[i].version = ++n->version;
	r->version = n->version;
	gsp_table_write_end(r);
	gsp_sync_toggle(n, n->self_slot);
	/* peers' replay windows follow the new generation */
	n->sec_tx.generation = gen;
	GSP_CTR_INC(n->ctr.renewals);
	GSP_CTR_SET(n->ctr.incarnation, 0);
	ev.generation = gen;
	gsp_copy_name(ev.name, gsp_table_name(n->table, r));
	gsp_io_event(n->p.io_ctx, &ev);
	gsp_publish_self(n);
	return true;
}

void
gsp_self_state_seen(struct gsp_node *n, const struct gsp_wire_state *st,
		    uint64_t now_ns)
{
	if (st->generation < n->generation)
		return;		/* an earlier life of ours */
	if (st->generation > n->generation || st->version > n->version) {
		gsp_self_renew(n, st->generation, st->version, now_ns);
		return;
	}
	/* an incarnation we never had: refutations must start above it */
	if (st->incarnation > n->incarnation) {
		n->incarnation = st->incarnation;
		GSP_CTR_SET(n->ctr.incarnation, n->incarnation);
		gsp_publish_self(n);
	}
}
