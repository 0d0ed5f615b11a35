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
 * and answer about as many, each covering a window). Doubled: a detector
 * that starts too eager convicts members whose news is merely slow; it
 * adapts to the real intervals within a few samples.
 */
static uint64_t
gsp_expected_interval(const struct gsp_node *n)
{
	uint32_t per = (n->body_cap - GSP_WIRE_HDR_LEN -
			GSP_WIRE_SYN_PREFIX) / GSP_WIRE_DIGEST_LEN;
	uint64_t window = 2ull * n->p.fanout * n->p.syn_packets * per;
	uint64_t rounds = (n->table->used + window - 1) / window;

	return 2 * (rounds > 1 ? rounds : 1) * n->p.gossip_interval_ns;
}

void
gsp_fd_init(struct gsp_node *n, uint32_t slot, uint64_t now_ns)
{
	gsp_phi_init(&n->fd[slot], now_ns, gsp_expected_interval(n),
		     n->p.gossip_interval_ns / 2);
}

void
gsp_forget(struct gsp_node *n, uint32_t slot, uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_rec(n, slot);
	struct gsp_quarantine *q = &n->quarantine[n->q_next];

	/* Forgetting more members within forget_ns than the quarantine
	 * holds would let the excess come back from peers that still have
	 * them: wait (on a later sweep) for the oldest entry to expire. */
	if (q->id != 0 && q->until_ns > now_ns)
		return;
	*q = (struct gsp_quarantine){ r->id, r->generation, r->version,
		now_ns + n->p.forget_ns };
	n->q_next = (n->q_next + 1) % GSP_QUARANTINE_MAX;
	n->q_until = q->until_ns;
	gsp_emit_event(n, GSP_EV_FORGOTTEN, r, r->state);
	if (n->rumor_of[slot] != 0) {
		n->rumors[n->rumor_of[slot] - 1].slot = GSP_NONE;
		n->rumor_of[slot] = 0;
	}
	n->cnt[r->state & 3]--;
	if (n->swim != NULL)
		gsp_swim_reset(n, slot);
	if (n->replay != NULL)
		gsp_replay_keep(n, slot, now_ns);
	gsp_bucket_del(n, slot);
	gsp_table_remove(n->table, slot);
}

/*
 * The failure detector: evaluates phi and forgets old down/left members.
 * A small table is swept whole every round; a large one in slices, the
 * whole of it every GSP_SWEEP_ROUNDS rounds, so a round costs O(1) per
 * member at most and a node with 10,000 members stays cheap.
 */
void
gsp_fd_sweep(struct gsp_node *n, uint64_t now_ns)
{
	uint32_t hw = gsp_table_slot_count(n->table);
	uint32_t budget = hw / GSP_SWEEP_ROUNDS;
	/* no member's heartbeat can be expected faster than our windows
	 * come round to it, nor faster than our own late rounds let us see
	 * it (local health, as Lifeguard: an overloaded node stretches its
	 * own patience instead of accusing its peers) */
	uint64_t floor_ns = (uint64_t)(gsp_expected_interval(n) / 2 *
				       n->lateness);

	if (budget < GSP_SWEEP_MIN)
		budget = GSP_SWEEP_MIN;
	if (budget > hw)
		budget = hw;
	for (uint32_t i = 0; i < budget; i++) {
		uint32_t slot = n->sweep_cursor++;
		struct gsp_member_rec *r;
		double phi;
		uint8_t next;

		if (n->sweep_cursor >= hw)
			n->sweep_cursor = 0;
		if (slot >= hw)
			slot = 0;
		r = gsp_rec(n, slot);
		if (r->id == 0 || slot == n->self_slot)
			continue;
		if ((r->state == GSP_STATE_DOWN || r->state == GSP_STATE_LEFT) &&
		    now_ns - r->state_since_ns >= n->p.forget_ns) {
			gsp_forget(n, slot, now_ns);
			continue;
		}
		if (r->state == GSP_STATE_LEFT)
			continue;
		phi = gsp_phi_value_floor(&n->fd[slot], now_ns, floor_ns);
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
		gsp_table_write_begin(r);
		r->phi_milli = phi * 1000.0 >= (double)UINT32_MAX ?
			UINT32_MAX : (uint32_t)(phi * 1000.0);
		gsp_set_state(n, r, next, now_ns);
		gsp_table_write_end(r);
	}
	gsp_update_counts(n);
}
