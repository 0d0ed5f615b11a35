/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive dispatch: opening sealed datagrams, replay and [limits]
 * checks, then each message type to its handler.
 */
#include "gsp_util.h"

#include "gsp_member.h"
#include "gsp_node_int.h"

static int gsp_node_rx_msg(struct gsp_node *n, const struct gsp_addr *src,
			   const uint8_t *payload, uint16_t len,
			   uint64_t now_ns, struct gsp_scratch *s);

/* A key mismatch is a configuration error an operator must hear of, but
 * a flood of them must not flood the log: one event per reason a minute. */
static void
gsp_auth_drop_event(struct gsp_node *n, int rc, const struct gsp_addr *src,
		    const uint8_t *payload, uint16_t len, uint64_t now_ns)
{
	struct gsp_event ev = { .type = GSP_EV_AUTH_DROP,
				.old_state = (uint8_t)rc, .id = src->ip };

	if (!gsp_once_per(&n->auth_told_ns[rc], now_ns, GSP_AUTH_LOG_NS))
		return;
	if (rc == GSP_RX_UNKNOWN_KEY &&
	    len >= GSP_WIRE_HDR_LEN + GSP_SEC_BLOCK_LEN)
		ev.generation = gsp_get_le32(payload + GSP_WIRE_HDR_LEN +
					     GSP_SEC_OFF_KEY_ID);
	if (rc == GSP_RX_IMPLAUSIBLE &&
	    len >= GSP_WIRE_HDR_LEN + GSP_SEC_BLOCK_LEN)
		ev.generation = gsp_get_le64(payload + GSP_WIRE_HDR_LEN +
					     GSP_SEC_OFF_GENERATION);
	gsp_io_event(n->p.io_ctx, &ev);
}

int
gsp_node_rx(struct gsp_node *n, const struct gsp_addr *src,
	    const uint8_t *payload, uint16_t len, uint64_t now_ns,
	    uint64_t *wake_ns)
{
	struct gsp_scratch *s = gsp_scratch_get(n->table->n_slots);
	struct gsp_sec_rx info;
	int rc;

	n->wake_ns = UINT64_MAX;
	if (s == NULL)
		rc = GSP_RX_NOMEM;
	else if (len > GSP_RX_ACCEPT_MAX)
		rc = GSP_RX_OVERSIZED;
	else if (n->kr == NULL)
		rc = gsp_sec_is_sealed(payload, len) ? GSP_RX_SEALED :
			gsp_node_rx_msg(n, src, payload, len, now_ns, s);
	else {
		rc = gsp_sec_open(n->kr, n->cluster_hash, payload, len,
				  s->rx_plain, &len, &info);
		if (rc == GSP_RX_OK && info.sender_id == n->id)
			rc = GSP_RX_SELF;
		if (rc == GSP_RX_OK &&
		    !gsp_generation_plausible(n, info.generation, now_ns))
			rc = GSP_RX_IMPLAUSIBLE;
		/* recorded before it is processed: an authentic datagram
		 * that limits or the decoder refuse cannot come again */
		if (rc == GSP_RX_OK)
			rc = gsp_replay_admit(gsp_replay_for(n, info.sender_id,
							     now_ns),
					      &info, now_ns);
		if (rc == GSP_RX_OK)
			rc = gsp_node_rx_msg(n, src, s->rx_plain, len, now_ns,
					     s);
		if (rc == GSP_RX_OK) {
			if (info.primary)
				GSP_CTR_INC(n->ctr.rx_key_primary);
			else
				GSP_CTR_INC(n->ctr.rx_key_other);
		}
	}
	if (rc != GSP_RX_OK) {
		GSP_CTR_INC(n->ctr.rx_drop[rc]);
		if ((rc >= GSP_RX_UNSEALED && rc <= GSP_RX_FORGED) ||
		    rc == GSP_RX_IMPLAUSIBLE)
			gsp_auth_drop_event(n, rc, src, payload, len, now_ns);
	}
	if (wake_ns != NULL)
		*wake_ns = n->wake_ns;
	return rc;
}

/* GSP_RX_OK when the message was taken, else why not (not yet counted). */
static int
gsp_node_rx_msg(struct gsp_node *n, const struct gsp_addr *src,
		const uint8_t *payload, uint16_t len, uint64_t now_ns,
		struct gsp_scratch *s)
{
	struct gsp_wire_msg m;
	int rc;

	rc = gsp_wire_decode(payload, len, n->cluster_hash, &m, s->rx_digests,
			     s->rx_states, s->rx_claims);
	if (rc == GSP_RX_OK && m.hdr.sender_id == n->id)
		rc = GSP_RX_SELF;
	/* a node that speaks only 2 (a rolling upgrade's old release, or
	 * one configured so) drops 3 as that release does */
	if (rc == GSP_RX_OK && m.hdr.version > n->proto)
		rc = GSP_RX_BAD_VERSION;
	/* and one on 4 or older drops a state beyond 4's app bounds with
	 * its whole message, as its decoder does */
	for (uint32_t i = 0; rc == GSP_RX_OK && n->proto < 5 &&
	     i < m.n_states; i++)
		if (gsp_wire_state_wide(&m.states[i]))
			rc = GSP_RX_BAD_ENTRY;
	if (rc == GSP_RX_OK)
		rc = gsp_rx_limits(n, src, &m, now_ns);
	if (rc != GSP_RX_OK)
		return rc;
	switch (m.hdr.type) {
	case GSP_MSG_SYN:
		GSP_CTR_INC(n->ctr.rx_syn);
		gsp_handle_syn(n, src, &m, s);
		break;
	case GSP_MSG_ACK:
		GSP_CTR_INC(n->ctr.rx_ack);
		gsp_handle_ack(n, src, &m, now_ns, s);
		break;
	case GSP_MSG_ACK2:
	case GSP_MSG_PUSH:
		if (m.hdr.type == GSP_MSG_ACK2)
			GSP_CTR_INC(n->ctr.rx_ack2);
		else
			GSP_CTR_INC(n->ctr.rx_push);
		gsp_merge_all(n, m.states, m.n_states, now_ns);
		break;
	case GSP_MSG_LEAVE:
		GSP_CTR_INC(n->ctr.rx_leave);
		gsp_merge(n, &m.states[0], now_ns);
		break;
	case GSP_MSG_SUM:
		GSP_CTR_INC(n->ctr.rx_sum);
		/* a member's sync only: a stranger's SUM would make us list
		 * our table to it; it is asked for its state instead */
		if (gsp_table_find(n->table, m.hdr.sender_id) >= 0)
			gsp_handle_sum(n, src, &m);
		else
			gsp_sum_from_stranger(n, src, m.hdr.sender_id);
		break;
	default:
		/* probes: answered only when SWIM is on here */
		if (n->swim != NULL)
			gsp_swim_rx(n, src, &m, now_ns);
		break;
	}
	if (m.has_view)
		gsp_view_heard(n, src, &m, now_ns);
	if (n->swim != NULL && (m.hdr.type == GSP_MSG_PING ||
	    m.hdr.type == GSP_MSG_PING_REQ ||
	    (m.hdr.type == GSP_MSG_SYN && (m.hdr.flags & GSP_SYN_FLAG_FIRST))))
		gsp_swim_heard_from(n, m.hdr.sender_id, src, now_ns);
	return GSP_RX_OK;
}
