/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The failure detector sweep: phi per member, suspicion and conviction
 * when SWIM is off (a hint to SWIM when it is on), and forgetting old
 * down/left members.
 */
#include "gsp_member.h"
#include "gsp_node_int.h"

/*
 * The heartbeat interval to expect of a member before any was seen: one
 * round while our digest fits the window, and the rounds a window takes to
 * come round again when it does not (each round we start fanout exchanges
 * and answer about as many, each covering a window); with SWIM and wire
 * version 3, half a probe cycle through the table. Doubled: a detector
 * that starts too eager convicts members whose news is merely slow; it
 * adapts to the real intervals within a few samples.
 */
static uint64_t
gsp_expected_interval(const struct gsp_node *n)
{
	uint32_t per = gsp_syn_digests_per_packet(n);
	uint64_t window = 2ull * n->p.fanout * n->p.syn_packets * per;
	uint64_t rounds = (n->table->used + window - 1) / window;
	uint64_t cycle;

	if (n->swim == NULL || n->proto < 3)
		return 2 * (rounds > 1 ? rounds : 1) * n->p.gossip_interval_ns;
	/* v3 with SWIM: heartbeats come with probes, and a member and we
	 * probe each other once per cycle through our tables */
	cycle = (uint64_t)n->table->used * n->p.probe_interval_ns / 2;
	return 2 * (cycle > n->p.probe_interval_ns ? cycle :
		    n->p.probe_interval_ns);
}

void
gsp_heard_first(struct gsp_node *n, struct gsp_member_rec *r,
		uint64_t now_ns)
{
	struct gsp_phi fd;

	gsp_phi_init(&fd, gsp_expected_interval(n));
	gsp_rec_set_phi(r, fd);
	r->heard = gsp_heard_of(now_ns);
	r->phi_centi = 0;
}

void
gsp_forget(struct gsp_node *n, uint32_t slot, uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_rec(n, slot);
	struct gsp_quarantine *q = &n->quarantine[n->q_next];

	/* Forgetting more members within forget_ns than the quarantine
	 * holds would let the excess come back from peers that still have
	 * them: wait (on a later sweep) for the oldest entry to expire. A
	 * peer forgets up to a pass of its sweep after us: held that much
	 * longer, so a short forget_after cannot bring the member back. */
	if (q->id != 0 && q->until_ns > now_ns)
		return;
	*q = (struct gsp_quarantine){ gsp_rec_id(n, r), r->generation,
		r->version, now_ns + n->p.forget_ns + GSP_SWEEP_PASS_MAX_NS };
	n->q_next = (n->q_next + 1) % GSP_QUARANTINE_MAX;
	n->q_until = q->until_ns;
	gsp_emit_event(n, GSP_EV_FORGOTTEN, r, r->state);
	gsp_rumor_forget(n, slot);
	n->cnt[r->state & 3]--;
	n->down_hash ^= gsp_down_mark(gsp_rec_id(n, r), r->state);
	gsp_sync_toggle(n, slot);
	n->peer_view[slot] = 0;
	if (n->swim != NULL)
		gsp_swim_reset(n, slot);
	if (n->replay != NULL)
		gsp_replay_keep(n, slot, now_ns);
	gsp_bucket_del(n, slot);
	gsp_table_remove(n->table, slot);
}

/* A whole pass over the table: what it counted is now true of all of it
 * (the live members that speak only version 2, those whose last view
 * told was ours). */
static void
gsp_sweep_pass_done(struct gsp_node *n)
{
	n->sweep_cursor = 0;
	n->legacy_live = n->legacy_acc;
	GSP_CTR_SET(n->ctr.view_peers, n->view_peers_acc);
	GSP_CTR_SET(n->ctr.view_agree, n->view_agree_acc);
	n->legacy_acc = 0;
	n->view_peers_acc = 0;
	n->view_agree_acc = 0;
}

/*
 * Members the sweep evaluates this round. With phi deciding (SWIM off, or
 * version 2), a small table is swept whole every round and a large one
 * every GSP_SWEEP_ROUNDS rounds. Under SWIM with version 3 phi only
 * points, and a member's heartbeat comes once per probe cycle through our
 * table: a pass per sixteenth of the interval expected of it (twice
 * that cycle: gsp_expected_interval) is as prompt for phi, and at
 * thousands of members it was most of an idle node's work (each round
 * evaluated 1,024 members at least). So is it for the view agreement,
 * which a peer tells once per probe cycle too. A pass was held to 8 s,
 * which at 10,000 members was 1,250 members a second, a third of an idle
 * emulated node's CPU and the one part growing with N; now to
 * GSP_SWEEP_PASS_MAX_NS, which bounds how late a down member is forgotten
 * and how long the count of version-2 members takes to fall (it rises at
 * once: gsp_legacy_seen).
 */
static uint32_t
gsp_sweep_budget(const struct gsp_node *n, uint32_t hw)
{
	uint64_t round = n->p.gossip_interval_ns;
	uint64_t pass = GSP_SWEEP_ROUNDS * round;
	uint64_t budget, sixteenth;

	if (n->swim == NULL || n->proto < 3) {
		budget = hw / GSP_SWEEP_ROUNDS;
		return budget < GSP_SWEEP_MIN ? GSP_SWEEP_MIN : (uint32_t)budget;
	}
	sixteenth = gsp_expected_interval(n) / 16;
	if (sixteenth > pass)
		pass = sixteenth;
	if (pass > GSP_SWEEP_PASS_MAX_NS && GSP_SWEEP_PASS_MAX_NS > round)
		pass = GSP_SWEEP_PASS_MAX_NS;
	budget = ((uint64_t)hw * round + pass - 1) / pass;
	return budget < 1 ? 1 : (uint32_t)budget;
}

/*
 * The failure detector: evaluates phi and forgets old down/left members,
 * a slice of the table per round (gsp_sweep_budget), so a round costs
 * O(1) per member at most and a node with 10,000 members stays cheap.
 */
void
gsp_fd_sweep(struct gsp_node *n, uint64_t now_ns)
{
	uint32_t hw = gsp_table_slot_count(n->table);
	uint32_t budget = gsp_sweep_budget(n, hw);
	/* no member's heartbeat can be expected faster than our windows
	 * come round to it, nor faster than our own late rounds let us see
	 * it (local health, as Lifeguard: an overloaded node stretches its
	 * own patience instead of accusing its peers) */
	uint64_t floor_ns = (uint64_t)(gsp_expected_interval(n) / 2 *
				       n->lateness);
	uint16_t view_tag = gsp_view_tag(gsp_view_digest(n));

	/* nor faster than half a round: bursts of arrivals */
	if (floor_ns < n->p.gossip_interval_ns / 2)
		floor_ns = n->p.gossip_interval_ns / 2;
	if (budget > hw)
		budget = hw;
	for (uint32_t i = 0; i < budget; i++) {
		uint32_t slot = n->sweep_cursor++;
		struct gsp_member_rec *r;
		struct gsp_phi fd;
		uint16_t centi;
		double phi;
		uint8_t next;

		if (n->sweep_cursor >= hw)
			gsp_sweep_pass_done(n);
		if (slot >= hw)
			slot = 0;
		if (!gsp_table_has(n->table, slot) || slot == n->self_slot)
			continue;
		r = gsp_rec(n, slot);
		if (gsp_live_state(r->state)) {
			n->legacy_acc += r->wire < 3;
			n->view_peers_acc += n->peer_view[slot] != 0;
			n->view_agree_acc += n->peer_view[slot] == view_tag;
		}
		if ((r->state == GSP_STATE_DOWN || r->state == GSP_STATE_LEFT) &&
		    now_ns >= gsp_since_ns(r) &&
		    now_ns - gsp_since_ns(r) >= n->p.forget_ns) {
			gsp_forget(n, slot, now_ns);
			continue;
		}
		if (r->state == GSP_STATE_LEFT)
			continue;
		fd = gsp_rec_phi(r);
		phi = gsp_phi_value(&fd, gsp_silent_ns(n, r, now_ns),
				    floor_ns);
		next = r->state;
		if (n->swim != NULL) {
			/* phi only points: a SWIM probe gives the verdict */
			if ((n->detector & GSP_DETECT_PHI) &&
			    r->state == GSP_STATE_ALIVE &&
			    phi >= n->p.phi_suspect)
				gsp_swim_hint(n, slot);
		} else if ((n->detector & GSP_DETECT_PHI) &&
			   r->state != GSP_STATE_DOWN) {
			next = phi >= n->p.phi_convict ? GSP_STATE_DOWN :
				phi >= n->p.phi_suspect ? GSP_STATE_SUSPECT :
				GSP_STATE_ALIVE;
		}
		centi = phi * 100.0 >= (double)GSP_PHI_CENTI_MAX ?
			GSP_PHI_CENTI_MAX : (uint16_t)(phi * 100.0);
		/* most passes change nothing: no write section, no line
		 * dirtied for the readers to fetch again */
		if (centi == r->phi_centi && next == r->state)
			continue;
		gsp_table_write_begin(r);
		r->phi_centi = centi;
		gsp_set_state(n, r, next, now_ns);
		gsp_table_write_end(r);
	}
	gsp_update_counts(n);
	GSP_CTR_SET(n->ctr.view_digest, gsp_view_digest(n));
}
