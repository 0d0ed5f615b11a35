/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gossip wire format (docs/PROTOCOL.md). Every message is one UDP payload:
 * a 24-byte header, then a body whose shape depends on the type. All
 * integers are little-endian. Decoders validate a whole message before the
 * node applies any of it, so a malformed packet changes nothing.
 */
#ifndef GSP_WIRE_H
#define GSP_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "gsp_core.h"

#define GSP_WIRE_MAGIC 0x31505347u	/* "GSP1" */
/* 2: incarnation, SWIM probes. 3: probes carry the sender's view
 * (sync root, view digest, heartbeat), SUM range hashes; a member state's
 * first reserved byte says the highest version its member speaks. A v3
 * node accepts 2 and speaks it to members not known to speak 3, so a
 * rolling upgrade does not split the cluster; messages whose layout 3
 * did not change (SYN, ACK, ACK2, LEAVE, PUSH) go out as 2 to anyone.
 * 4: the same probes in 32 bytes instead of 48 (no n_claims, no empty
 * address, the view as the 32-bit tag receivers compare), spoken only to
 * members known to speak 4; SUM stays 3.
 * 5: member states with up to 16 app keys and 255-byte values (4: 8 and
 * 63), their key and value bytes at most 1024. The layout is 4's; a
 * state beyond 4's bounds, which a v4 decoder drops with its whole
 * message, goes only to members known to speak 5. Probes go out as 5 to
 * them, in 4's layout. */
#define GSP_WIRE_VERSION 5
#define GSP_WIRE_VERSION_MIN 2	/* the oldest we accept and speak */
#define GSP_WIRE_HDR_LEN 24
#define GSP_WIRE_DIGEST_LEN 24
#define GSP_WIRE_SYN_PREFIX 16		/* range_lo, range_hi */
#define GSP_WIRE_ACK_PREFIX 8		/* n_states, n_requests, reserved */
#define GSP_WIRE_STATE_FIXED 48
#define GSP_WIRE_PROBE_PREFIX 24	/* seq, n_claims, target id/ip/port */
#define GSP_WIRE_PROBE_VIEW 24		/* v3: sync root, view, heartbeat */
#define GSP_WIRE_PROBE4 32		/* v4: the whole prefix, view included */
#define GSP_WIRE_PROBE4_ADDR 8		/* v4 PING_REQ: target ip, port */
#define GSP_WIRE_SUM_PREFIX 12		/* level, first, members */
#define GSP_WIRE_SUM_HASHES 64		/* at most, per SUM */
#define GSP_SUM_LEVEL_STEP 4		/* bits a step adds: 16 children */
#define GSP_SUM_LEVEL_MAX 30
#define GSP_WIRE_CLAIM_LEN 32
#define GSP_WIRE_APP_FIXED 10
/* v4's app bounds: a state within them goes to any member */
#define GSP_WIRE4_APP_KEYS 8
#define GSP_WIRE4_APP_VALUE 63
/* The largest member state a node holding app_bytes_max key and value
 * bytes per member sends, in one message: what its packets must fit. */
#define GSP_WIRE_STATE_LEN(app_bytes) (GSP_WIRE_STATE_FIXED + \
	GSP_NAME_MAX - 1 + GSP_APP_KEYS_MAX * GSP_WIRE_APP_FIXED + (app_bytes))
#define GSP_WIRE_PAYLOAD_FOR(app_bytes) (GSP_WIRE_HDR_LEN + \
	GSP_WIRE_ACK_PREFIX + GSP_WIRE_STATE_LEN(app_bytes))
#define GSP_WIRE_STATE_MAX GSP_WIRE_STATE_LEN(GSP_APP_BYTES_MAX)	/* 1295 */
#define GSP_WIRE_MIN_PAYLOAD GSP_WIRE_PAYLOAD_FOR(GSP_APP_BYTES_MAX)	/* 1327 */

enum gsp_msg_type {
	GSP_MSG_SYN = 1,	/* digest of a range of members */
	GSP_MSG_ACK = 2,	/* states the SYN sender lacks + requests */
	GSP_MSG_ACK2 = 3,	/* states that an ACK requested */
	GSP_MSG_LEAVE = 4,	/* the sender's own state, marked left */
	GSP_MSG_PUSH = 5,	/* recent changes, unsolicited (rumors) */
	/* SWIM probes; each carries claims piggybacked */
	GSP_MSG_PING = 6,	/* are you alive? (target = the receiver) */
	GSP_MSG_PONG = 7,	/* yes: answer to a PING, or relayed */
	GSP_MSG_PING_REQ = 8,	/* please probe target for me */
	GSP_MSG_NACK = 9,	/* helper got no answer from target (Lifeguard) */
	/* v3: hashes of the sender's members over key ranges */
	GSP_MSG_SUM = 10,
};

/* What a claim says about a member (SWIM's alive/suspect/dead). */
enum gsp_claim_status {
	GSP_CLAIM_ALIVE = 0,	/* from the member itself: refutation */
	GSP_CLAIM_SUSPECT = 1,	/* from = the accuser */
	GSP_CLAIM_DEAD = 2,	/* from = who declared it */
};
/* Claim flags (the byte after the status; older decoders ignore it, as
 * the reserved byte it was). LEFT, on a DEAD claim only: an operator
 * moved the failed member to left (gossipctl force-leave); an older node
 * reads it as the DEAD it also is. */
#define GSP_CLAIM_FLAG_LEFT 0x01

/* Probe message prefix offsets, after the header; pinned. */
#define GSP_PROBE_OFF_SEQ 0
#define GSP_PROBE_OFF_NCLAIMS 4
#define GSP_PROBE_OFF_TARGET 8
#define GSP_PROBE_OFF_TARGET_IP 16
#define GSP_PROBE_OFF_TARGET_PORT 20
/* v3 view block, after the prefix */
#define GSP_PROBE_OFF_SYNC_ROOT 24
#define GSP_PROBE_OFF_VIEW 32
#define GSP_PROBE_OFF_HEARTBEAT 40
/* v4 probe prefix, after the header: 8-byte fields aligned */
#define GSP_PROBE4_OFF_TARGET 0
#define GSP_PROBE4_OFF_SYNC_ROOT 8
#define GSP_PROBE4_OFF_HEARTBEAT 16
#define GSP_PROBE4_OFF_SEQ 24
#define GSP_PROBE4_OFF_VIEW_TAG 28	/* the view digest's top 32 bits */
#define GSP_PROBE4_OFF_TARGET_IP 32	/* PING_REQ only */
#define GSP_PROBE4_OFF_TARGET_PORT 36	/* then 2 bytes reserved */
/* SUM prefix, after the header; the hashes follow */
#define GSP_SUM_OFF_LEVEL 0
#define GSP_SUM_OFF_RESERVED 1		/* 3 bytes, zero */
#define GSP_SUM_OFF_FIRST 4
#define GSP_SUM_OFF_MEMBERS 8
/* Claim entry offsets; pinned. */
#define GSP_CLAIM_OFF_ID 0
#define GSP_CLAIM_OFF_GENERATION 8
#define GSP_CLAIM_OFF_FROM 16
#define GSP_CLAIM_OFF_INCARNATION 24
#define GSP_CLAIM_OFF_STATUS 28
#define GSP_CLAIM_OFF_FLAGS 29		/* GSP_CLAIM_FLAG_*; was reserved */
#define GSP_CLAIM_OFF_RESERVED 30	/* 2 bytes, zero */
/* Member state offsets; pinned. The name, then the app entries follow. */
#define GSP_STATE_OFF_ID 0
#define GSP_STATE_OFF_GENERATION 8
#define GSP_STATE_OFF_HEARTBEAT 16
#define GSP_STATE_OFF_VERSION 24
#define GSP_STATE_OFF_IP 32
#define GSP_STATE_OFF_PORT 36
#define GSP_STATE_OFF_STATUS 38
#define GSP_STATE_OFF_NAME_LEN 39
#define GSP_STATE_OFF_APP_COUNT 40
#define GSP_STATE_OFF_WIRE 41		/* v3: highest version spoken */
#define GSP_STATE_OFF_RESERVED 42	/* 2 bytes: zero, ignored on receive */
#define GSP_STATE_OFF_INCARNATION 44
/* App entry offsets (after a state's name); key and value follow. */
#define GSP_APP_OFF_VERSION 0
#define GSP_APP_OFF_KEY_LEN 8
#define GSP_APP_OFF_VALUE_LEN 9
/* Digest entry offsets; pinned. */
#define GSP_DIGEST_OFF_ID 0
#define GSP_DIGEST_OFF_GENERATION 8
#define GSP_DIGEST_OFF_VERSION 16
/* SYN and ACK prefixes, after the header; pinned. */
#define GSP_SYN_OFF_RANGE_LO 0
#define GSP_SYN_OFF_RANGE_HI 8
#define GSP_ACK_OFF_N_STATES 0
#define GSP_ACK_OFF_N_REQUESTS 2
#ifndef __cplusplus
_Static_assert(GSP_PROBE_OFF_TARGET_PORT + 4 == GSP_WIRE_PROBE_PREFIX,
	       "probe prefix");
_Static_assert(GSP_PROBE_OFF_SYNC_ROOT == GSP_WIRE_PROBE_PREFIX &&
	       GSP_PROBE_OFF_HEARTBEAT + 8 == GSP_WIRE_PROBE_PREFIX +
	       GSP_WIRE_PROBE_VIEW, "probe view block");
_Static_assert(GSP_PROBE4_OFF_VIEW_TAG + 4 == GSP_WIRE_PROBE4 &&
	       GSP_PROBE4_OFF_TARGET_PORT + 4 == GSP_WIRE_PROBE4 +
	       GSP_WIRE_PROBE4_ADDR, "v4 probe prefix");
_Static_assert(GSP_SUM_OFF_MEMBERS + 4 == GSP_WIRE_SUM_PREFIX, "SUM prefix");
_Static_assert(GSP_CLAIM_OFF_STATUS + 4 == GSP_WIRE_CLAIM_LEN, "claim");
_Static_assert(GSP_STATE_OFF_INCARNATION + 4 == GSP_WIRE_STATE_FIXED,
	       "member state");
_Static_assert(GSP_CLAIM_OFF_INCARNATION + 4 == GSP_CLAIM_OFF_STATUS &&
	       GSP_CLAIM_OFF_STATUS + 1 == GSP_CLAIM_OFF_FLAGS &&
	       GSP_CLAIM_OFF_FLAGS + 1 == GSP_CLAIM_OFF_RESERVED, "claim");
_Static_assert(GSP_STATE_OFF_GENERATION == GSP_STATE_OFF_ID + 8 &&
	       GSP_STATE_OFF_HEARTBEAT == GSP_STATE_OFF_GENERATION + 8 &&
	       GSP_STATE_OFF_VERSION == GSP_STATE_OFF_HEARTBEAT + 8 &&
	       GSP_STATE_OFF_IP == GSP_STATE_OFF_VERSION + 8 &&
	       GSP_STATE_OFF_PORT == GSP_STATE_OFF_IP + 4 &&
	       GSP_STATE_OFF_STATUS == GSP_STATE_OFF_PORT + 2 &&
	       GSP_STATE_OFF_NAME_LEN == GSP_STATE_OFF_STATUS + 1 &&
	       GSP_STATE_OFF_APP_COUNT == GSP_STATE_OFF_NAME_LEN + 1 &&
	       GSP_STATE_OFF_WIRE == GSP_STATE_OFF_APP_COUNT + 1 &&
	       GSP_STATE_OFF_RESERVED == GSP_STATE_OFF_WIRE + 1 &&
	       GSP_STATE_OFF_INCARNATION == GSP_STATE_OFF_RESERVED + 2,
	       "member state fields");
_Static_assert(GSP_APP_OFF_VALUE_LEN + 1 == GSP_WIRE_APP_FIXED, "app entry");
_Static_assert(GSP_APP_VALUE_MAX - 1 == UINT8_MAX &&
	       GSP_APP_KEY_MAX - 1 <= UINT8_MAX, "app lengths are one byte");
_Static_assert(GSP_DIGEST_OFF_VERSION + 8 == GSP_WIRE_DIGEST_LEN, "digest");
_Static_assert(GSP_SYN_OFF_RANGE_HI + 8 == GSP_WIRE_SYN_PREFIX, "SYN prefix");
_Static_assert(GSP_ACK_OFF_N_REQUESTS + 2 <= GSP_WIRE_ACK_PREFIX,
	       "ACK prefix");
#endif

struct gsp_claim {
	uint64_t id;
	uint64_t generation;
	uint64_t from;
	uint32_t incarnation;
	uint8_t status;		/* enum gsp_claim_status */
	uint8_t flags;		/* GSP_CLAIM_FLAG_* */
};

/* SYN header flags */
#define GSP_SYN_FLAG_FIRST 0x0001	/* first packet of a round's window */

/* member state status byte on the wire */
#define GSP_WIRE_STATUS_NORMAL 0
#define GSP_WIRE_STATUS_LEFT 1

/* Header offsets, pinned. */
#define GSP_HDR_OFF_MAGIC 0
#define GSP_HDR_OFF_VERSION 4
#define GSP_HDR_OFF_TYPE 5
#define GSP_HDR_OFF_FLAGS 6
#define GSP_HDR_OFF_LENGTH 8
#define GSP_HDR_OFF_COUNT 10
#define GSP_HDR_OFF_CLUSTER 12
#define GSP_HDR_OFF_SENDER 16
#ifndef __cplusplus
_Static_assert(GSP_HDR_OFF_SENDER + 8 == GSP_WIRE_HDR_LEN, "wire header");
#endif

struct gsp_wire_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint16_t length;
	uint16_t count;
	uint32_t cluster;
	uint64_t sender_id;
};

struct gsp_digest {
	uint64_t id;
	uint64_t generation;
	uint64_t version;
};

/* A member's gossiped state, as its owner published it. */
struct gsp_wire_state {
	uint64_t id;
	uint64_t generation;
	uint64_t heartbeat;
	uint64_t version;
	uint32_t ip;
	uint16_t port;
	uint8_t status;
	uint8_t app_count;
	uint8_t wire;		/* highest wire version; 0: unknown (v2) */
	uint32_t incarnation;
	char name[GSP_NAME_MAX];
	struct gsp_app_entry app[GSP_APP_KEYS_MAX];
};

/* A decoded message: pointers into caller-provided scratch arrays. */
struct gsp_wire_msg {
	struct gsp_wire_hdr hdr;
	uint64_t range_lo, range_hi;		/* SYN */
	struct gsp_digest *digests;		/* SYN digests, ACK requests */
	uint32_t n_digests;
	struct gsp_wire_state *states;		/* ACK, ACK2, LEAVE */
	uint32_t n_states;
	uint32_t seq;				/* probes */
	uint64_t target_id;
	struct gsp_addr target;			/* PING_REQ */
	struct gsp_claim *claims;
	uint32_t n_claims;
	bool has_view;				/* v3, v4 probes */
	uint64_t sync_root, view, heartbeat;
	uint8_t sum_level;			/* SUM */
	uint32_t sum_first, sum_members;
	const uint8_t *sum_hashes;		/* n_hashes of them, LE */
	uint32_t n_hashes;
};

/* Largest entry counts a payload of max_payload bytes can carry. */
uint32_t gsp_wire_max_digests(uint16_t max_payload);
uint32_t gsp_wire_max_states(uint16_t max_payload);
uint32_t gsp_wire_max_claims(uint16_t max_payload);

/* The header checks every datagram gets, plain or sealed, in the order
 * the reasons are counted: GSP_RX_OK, or TRUNCATED (shorter than a
 * header), BAD_MAGIC, BAD_VERSION; then, once the caller knows how long
 * the datagram must at least be, BAD_LENGTH (length field), then
 * WRONG_CLUSTER. frame needs len >= GSP_WIRE_HDR_LEN. */
int gsp_wire_check_prefix(const uint8_t *buf, uint16_t len);
int gsp_wire_check_frame(const uint8_t *buf, uint16_t len, uint32_t cluster);

/*
 * Decode and validate a whole message. digests/states/claims must hold
 * gsp_wire_max_digests/states/claims(len) entries. Returns GSP_RX_OK or
 * the enum gsp_rx_err reason it was rejected for.
 */
int gsp_wire_decode(const uint8_t *buf, uint16_t len, uint32_t cluster,
		    struct gsp_wire_msg *msg, struct gsp_digest *digests,
		    struct gsp_wire_state *states, struct gsp_claim *claims);

/* Incremental encoder over a caller buffer. */
struct gsp_wire_writer {
	uint8_t *buf;
	uint16_t cap;
	uint16_t off;
	uint16_t n_states;
	uint16_t n_digests;
	uint16_t n_claims;
	uint8_t type;
	uint8_t version;
};

/* Starts a message of the version its layout needs: probes and SUM
 * take gsp_wire_begin_v with the version the receiver speaks. */
void gsp_wire_begin(struct gsp_wire_writer *w, uint8_t *buf, uint16_t cap,
		    uint8_t type, uint32_t cluster, uint64_t sender_id);
void gsp_wire_begin_v(struct gsp_wire_writer *w, uint8_t *buf, uint16_t cap,
		      uint8_t type, uint8_t version, uint32_t cluster,
		      uint64_t sender_id);
void gsp_wire_set_range(struct gsp_wire_writer *w, uint64_t lo, uint64_t hi);
uint16_t gsp_wire_state_len(const struct gsp_wire_state *st);
/* Beyond v4's app bounds: only for members that speak 5. */
bool gsp_app_wide(const struct gsp_app_entry *app, uint8_t count);
bool gsp_wire_state_wide(const struct gsp_wire_state *st);
/* false when the entry does not fit; the writer is then unchanged */
bool gsp_wire_put_state(struct gsp_wire_writer *w,
			const struct gsp_wire_state *st);
bool gsp_wire_put_digest(struct gsp_wire_writer *w,
			 const struct gsp_digest *d);
/* Probe messages: the prefix, then claims while they fit. */
void gsp_wire_set_probe(struct gsp_wire_writer *w, uint32_t seq,
			uint64_t target_id, const struct gsp_addr *target);
/* v3, v4 probes only: the sender's view block (v4 keeps the view's top
 * 32 bits, all a receiver compares). */
void gsp_wire_set_view(struct gsp_wire_writer *w, uint64_t sync_root,
		       uint64_t view, uint64_t heartbeat);
bool gsp_wire_put_claim(struct gsp_wire_writer *w, const struct gsp_claim *c);
/* SUM: level and first bucket, then hashes while they fit (at most
 * GSP_WIRE_SUM_HASHES). */
void gsp_wire_set_sum(struct gsp_wire_writer *w, uint8_t level,
		      uint32_t first, uint32_t members);
bool gsp_wire_put_hash(struct gsp_wire_writer *w, uint64_t h);
/* For ACK: states must all be put before the first request digest. */
uint16_t gsp_wire_finish(struct gsp_wire_writer *w);
bool gsp_wire_empty(const struct gsp_wire_writer *w);

/* (generation, version) order: <0, 0, >0 */
static inline int
gsp_version_cmp(uint64_t gen_a, uint64_t ver_a, uint64_t gen_b, uint64_t ver_b)
{
	if (gen_a != gen_b)
		return gen_a < gen_b ? -1 : 1;
	if (ver_a != ver_b)
		return ver_a < ver_b ? -1 : 1;
	return 0;
}

#endif /* GSP_WIRE_H */
