/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every counter of the protocol core, described once. Each list is an
 * X-macro: a user defines X(...), expands the list and gets a struct, a
 * copy or a table from it. Today they make the core's counter struct
 * (gsp_core.h), its copy into the status view (control/statusview/
 * sv_counters.c), gossipctl's stats table (cli/), the drop
 * reason enum and names (gsp_core.h, gsp_util.c, sv_reader.c) and the
 * fault counter enum and names (gsp_fault.h, gsp_fault.c, sv_reader.c).
 *
 * Self-contained (no includes, no types): the status view reader, which
 * links no core, expands it too.
 */
#ifndef GSP_COUNTERS_H
#define GSP_COUNTERS_H

/*
 * GSP_COUNTERS(X): X(name, group, kind, minor, view, view_off, help)
 *   name      field of struct gsp_node_counters, and the name gossipctl
 *             prints (never rename: scripts parse it)
 *   group     where gossipctl shows it: MAIN ("counters:"), AUTH (the
 *             security section of an authenticating node) or SECURITY
 *             (the security section of every node)
 *   kind      COUNT (a total since start) or GAUGE (a level now: do not
 *             sum or take differences)
 *   minor     the status view minor version that added it
 *   view      its field in struct gsp_sv_header (include/gossipd/
 *             status_view.h, hand-written: a fixed public ABI)
 *   view_off  that field's byte offset in the header, pinned by
 *             _Static_assert where the view is filled: a row can never
 *             move a field of the view
 *   help      what it counts
 * Rows are in gossipctl's order; a new counter gets a new row and, if it
 * is published, a field in the view's reserved space with a new minor.
 */
#define GSP_COUNTERS(X) \
	X(rounds, MAIN, COUNT, 0, counters.rounds, 512, \
	  "gossip rounds run") \
	X(tx_syn, MAIN, COUNT, 0, counters.tx_syn, 520, "SYN digests sent") \
	X(tx_ack, MAIN, COUNT, 0, counters.tx_ack, 528, "ACKs sent") \
	X(tx_ack2, MAIN, COUNT, 0, counters.tx_ack2, 536, "ACK2s sent") \
	X(tx_leave, MAIN, COUNT, 0, counters.tx_leave, 544, \
	  "LEAVE announcements sent") \
	X(rx_syn, MAIN, COUNT, 0, counters.rx_syn, 552, "SYNs taken") \
	X(rx_ack, MAIN, COUNT, 0, counters.rx_ack, 560, "ACKs taken") \
	X(rx_ack2, MAIN, COUNT, 0, counters.rx_ack2, 568, "ACK2s taken") \
	X(rx_leave, MAIN, COUNT, 0, counters.rx_leave, 576, \
	  "LEAVE announcements taken") \
	X(merged, MAIN, COUNT, 0, counters.merged, 584, \
	  "member states that were newer") \
	X(stale, MAIN, COUNT, 0, counters.stale, 592, \
	  "member states that were not") \
	X(table_full, MAIN, COUNT, 0, counters.table_full, 600, \
	  "new members refused: capacity") \
	X(seed_contacts, MAIN, COUNT, 0, counters.seed_contacts, 608, \
	  "rounds that contacted a seed") \
	X(members, MAIN, GAUGE, 0, counters.members, 616, \
	  "members in the table, self included") \
	X(alive, MAIN, GAUGE, 0, counters.alive, 624, "members alive") \
	X(suspect, MAIN, GAUGE, 0, counters.suspect, 632, "members suspect") \
	X(down, MAIN, GAUGE, 0, counters.down, 640, "members down") \
	X(left, MAIN, GAUGE, 0, counters.left, 648, "members that left") \
	X(tx_push, MAIN, COUNT, 1, counters.tx_push, 656, \
	  "rumors of recent changes sent") \
	X(rx_push, MAIN, COUNT, 1, counters.rx_push, 664, \
	  "rumors of recent changes taken") \
	X(rumors, MAIN, GAUGE, 1, counters.rumors, 672, \
	  "changes being spread now") \
	X(tx_ping, MAIN, COUNT, 2, counters.tx_ping, 680, "SWIM pings sent") \
	X(rx_ping, MAIN, COUNT, 2, counters.rx_ping, 688, "SWIM pings taken") \
	X(tx_pong, MAIN, COUNT, 2, counters.tx_pong, 696, "SWIM acks sent") \
	X(rx_pong, MAIN, COUNT, 2, counters.rx_pong, 704, "SWIM acks taken") \
	X(tx_ping_req, MAIN, COUNT, 2, counters.tx_ping_req, 712, \
	  "indirect probe requests sent") \
	X(rx_ping_req, MAIN, COUNT, 2, counters.rx_ping_req, 720, \
	  "indirect probe requests taken") \
	X(tx_nack, MAIN, COUNT, 2, counters.tx_nack, 728, \
	  "Lifeguard nacks sent") \
	X(rx_nack, MAIN, COUNT, 2, counters.rx_nack, 736, \
	  "Lifeguard nacks taken") \
	X(probes_failed, MAIN, COUNT, 2, counters.probes_failed, 744, \
	  "probes with no ack direct or indirect") \
	X(suspicions, MAIN, COUNT, 2, counters.suspicions, 752, \
	  "members we accused ourselves") \
	X(refutations, MAIN, COUNT, 2, counters.refutations, 760, \
	  "accusations against us refuted") \
	X(claims_rx, MAIN, COUNT, 2, extra.claims_rx, 896, \
	  "suspect/dead/alive claims applied") \
	X(declared_down, MAIN, COUNT, 2, extra.declared_down, 904, \
	  "suspicions that ran out here") \
	X(awareness, MAIN, GAUGE, 2, extra.awareness, 912, \
	  "Lifeguard health multiplier now") \
	X(incarnation, MAIN, GAUGE, 2, extra.incarnation, 920, \
	  "ours, raised to refute") \
	X(probes_late, MAIN, COUNT, 8, probes_late, 992, \
	  "probe verdicts put off once: we came to them late") \
	X(claim_pushes, MAIN, COUNT, 11, claim_pushes, 1000, \
	  "claims pushed at once (PONGs with seq 0): verdicts, " \
	  "refutations, our suspicions") \
	X(claim_pushes_rx, MAIN, COUNT, 11, claim_pushes_rx, 1008, \
	  "pushes of claims taken") \
	X(probe_rtt_us, MAIN, GAUGE, 8, probe_rtt_us, 504, \
	  "our probes' smoothed round trip, microseconds (Lifeguard's " \
	  "probe timeout follows it)") \
	X(tx_sum, MAIN, COUNT, 6, view.tx_sum, 456, \
	  "range-hash summaries sent (wire version 3)") \
	X(rx_sum, MAIN, COUNT, 6, view.rx_sum, 464, \
	  "range-hash summaries taken") \
	X(syncs, MAIN, COUNT, 6, view.syncs, 472, \
	  "syncs started: a peer's probe showed another view") \
	X(view_digest, MAIN, GAUGE, 6, view.digest, 480, \
	  "digest of our membership view (members, versions, who is down)") \
	X(view_peers, MAIN, GAUGE, 6, view.peers, 488, \
	  "live peers that told us their view") \
	X(view_agree, MAIN, GAUGE, 6, view.agree, 496, \
	  "of those, peers whose last view told is ours") \
	X(rx_key_primary, AUTH, COUNT, 3, security.rx_key_primary, 352, \
	  "packets opened with the primary key") \
	X(rx_key_other, AUTH, COUNT, 3, security.rx_key_other, 360, \
	  "packets opened with another key of the ring (a rotation in " \
	  "progress somewhere)") \
	X(limit_hits, SECURITY, COUNT, 3, security.limit_hits, 368, \
	  "refusals at a [limits] bound") \
	X(implausible, SECURITY, COUNT, 4, security.implausible, 440, \
	  "member states and claims skipped: a number or address no " \
	  "member has (docs/PROTOCOL.md \"Numbers at their edges\")") \
	X(renewals, SECURITY, COUNT, 4, security.renewals, 448, \
	  "new generations of ours: a peer held a state of ours we did " \
	  "not make")

/*
 * GSP_RX_ERRS(X): X(ENUM, name, help), the reasons a received payload is
 * dropped, in enum gsp_rx_err order (the index of rx_drop[] in the core
 * and in the status view: append only). name is what gossipctl and the
 * logs print as rx_drop.<name>.
 */
#define GSP_RX_ERRS(X) \
	X(OK, ok, "taken, not dropped") \
	X(TRUNCATED, truncated, "shorter than its header or its entries") \
	X(BAD_MAGIC, bad_magic, "not a gossipd payload") \
	X(BAD_VERSION, bad_version, "a protocol version we do not speak") \
	X(BAD_LENGTH, bad_length, "length field disagrees with datagram") \
	X(BAD_TYPE, bad_type, "unknown message type") \
	X(WRONG_CLUSTER, wrong_cluster, "from another cluster") \
	X(BAD_COUNT, bad_count, "entry count impossible for the length") \
	X(BAD_ENTRY, bad_entry, "malformed member/app record") \
	X(SELF, self, "claims to come from our own id") \
	X(NOMEM, nomem, "no scratch memory for this thread") \
	X(UNSEALED, unsealed, "plaintext packet, this node authenticates") \
	X(SEALED, sealed, "sealed packet, this node runs plaintext") \
	X(UNKNOWN_KEY, unknown_key, "sealed with a key id not in our keyring") \
	X(FORGED, forged, "authentication tag did not verify") \
	X(REPLAY, replay, "sequence already seen or too old") \
	X(RATE_LIMITED, rate_limited, "source over its join or probe rate") \
	X(OVER_LIMIT, over_limit, "app state beyond [limits]") \
	X(OVERSIZED, oversized, "datagram larger than this node accepts") \
	X(IMPLAUSIBLE, implausible, "sealed by a sender generation 0 or " \
	  "beyond our clock + max_clock_skew")

/*
 * GSP_FAULT_CTRS(X): X(ENUM, name, help), why a packet was not sent as
 * is under fault injection (docs/FAULTS.md), in enum gsp_fault_ctr order
 * (the index of the status view's extra.fault[]: append only).
 */
#define GSP_FAULT_CTRS(X) \
	X(DROPPED, dropped, "random loss") \
	X(BLOCKED_OUT, blocked_out, "blocked on the way out") \
	X(BLOCKED_IN, blocked_in, "blocked on the way in") \
	X(DUPLICATED, duplicated, "sent twice") \
	X(DELAYED, delayed, "held back for a delay") \
	X(REORDERED, reordered, "overtaken by a later packet") \
	X(QUEUE_FULL, queue_full, "delay queue overflow: dropped")

#endif /* GSP_COUNTERS_H */
