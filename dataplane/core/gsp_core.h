/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipd protocol core: push-pull gossip (SYN/ACK/ACK2 digests), versioned
 * application state and a phi accrual failure detector.
 *
 * The core reads no clock, random source or socket: time is passed in as
 * now_ns (any monotonic nanosecond clock), randomness comes from a seed in
 * the parameters, and packets leave through gsp_io_send(), a link-time seam
 * implemented by each adapter (DPDK dataplane, unit tests, simulator).
 *
 * Threading: one thread (the protocol lcore) calls every gsp_node_* function
 * except the ones marked "any thread", which read the member table and the
 * counters without locks and never see a torn record.
 */
#ifndef GSP_CORE_H
#define GSP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gsp_counters.h"
#include "gsp_params.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GSP_CLUSTER_MAX 32	/* bytes incl. NUL */
#define GSP_NAME_MAX 64		/* bytes incl. NUL */
#define GSP_APP_KEYS_MAX 16	/* application state keys per member */
#define GSP_APP_KEY_MAX 32	/* bytes incl. NUL */
#define GSP_APP_VALUE_MAX 256	/* bytes incl. NUL: the wire's u8 length */
#define GSP_SEEDS_MAX 64
#define GSP_DEFAULT_PORT 7946

enum gsp_member_state {
	GSP_STATE_ALIVE = 0,
	GSP_STATE_SUSPECT = 1,
	GSP_STATE_DOWN = 2,
	GSP_STATE_LEFT = 3,
};

const char *gsp_state_name(unsigned int state);

/* IPv4 endpoint, both fields in host byte order. */
struct gsp_addr {
	uint32_t ip;
	uint16_t port;
};

struct gsp_app_entry {
	uint64_t version;
	char key[GSP_APP_KEY_MAX];
	char value[GSP_APP_VALUE_MAX];
};

/* A consistent copy of one member record. */
struct gsp_member_view {
	uint64_t id;
	uint64_t generation;
	uint64_t heartbeat;
	uint64_t version;		/* highest version of any of its state */
	uint64_t last_update_ns;	/* core clock when heartbeat last advanced */
	uint64_t state_since_ns;	/* core clock of the last state change */
	uint32_t ip;
	uint16_t port;
	uint8_t state;			/* enum gsp_member_state */
	uint8_t app_count;
	uint32_t phi_milli;		/* phi x 1000 to 0.01; 655350
					 * from 655.35 on */
	uint32_t incarnation;		/* SWIM: raised by the member to refute */
	char name[GSP_NAME_MAX];
	struct gsp_app_entry app[GSP_APP_KEYS_MAX];
};

/* Failure detection mechanisms (gsp_node_params.detector). */
#define GSP_DETECT_PHI 0x1	/* phi accrual on gossiped heartbeats */
#define GSP_DETECT_SWIM 0x2	/* direct probes, suspicion, refutation */
#define GSP_DETECT_INDIRECT 0x4	/* SWIM indirect probes through helpers */
#define GSP_DETECT_LIFEGUARD 0x8 /* local health, nacks, shrinking timeouts */
#define GSP_DETECT_OFF 0x80000000 /* none at all (tests) */
#define GSP_DETECT_DEFAULT (GSP_DETECT_PHI | GSP_DETECT_SWIM | \
	GSP_DETECT_INDIRECT | GSP_DETECT_LIFEGUARD)

/* The GSP_DETECT_* bit of a mechanism's name ("phi", "swim", "indirect",
 * "lifeguard"; "all" = GSP_DETECT_DEFAULT), len bytes of it; 0: unknown. */
uint32_t gsp_detector_bit(const char *name, size_t len);
/* The names of the bits set, comma-separated ("off" for GSP_DETECT_OFF). */
void gsp_detector_format(uint32_t bits, char *buf, size_t len);
/* A detector list ("swim,indirect", "phi+swim", "all") or "default" (0:
 * the core's set) or "off", alone; 0, or -1 with *why saying what is
 * wrong. The simulator and the emulation parse --detector with it. */
int gsp_detector_parse(const char *s, uint32_t *bits, const char **why);

struct gsp_ids;

struct gsp_node_params {
	char cluster[GSP_CLUSTER_MAX];
	char name[GSP_NAME_MAX];
	uint64_t id;			/* 0: derived from name */
	uint64_t generation;		/* must grow across restarts */
	struct gsp_addr addr;
	uint32_t capacity;		/* max members, self included */
	uint64_t gossip_interval_ns;
	uint32_t fanout;
	double phi_suspect;
	double phi_convict;
	uint64_t forget_ns;		/* down/left members dropped after */
	uint16_t max_payload;		/* gossip bytes per packet (MTU-28) */
	uint32_t leave_rounds;		/* rounds gossiped after LEAVE */
	/* Per-round traffic bounds; 0 means the default. */
	uint32_t syn_packets;		/* digest packets per peer per round: 4 */
	uint32_t ack_states;		/* states answered per SYN packet: 256 */
	/* Failure detection (docs/PROTOCOL.md); each mechanism can be
	 * switched off so that they can be compared. */
	uint32_t detector;		/* GSP_DETECT_* bits; 0: the default */
	uint64_t probe_interval_ns;	/* SWIM probe period: 0 = 100 ms */
	uint64_t probe_timeout_ns;	/* direct ack wait: 0 = interval/2 */
	uint32_t indirect_probes;	/* helpers asked on a miss: 0 = 3 */
	uint32_t suspicion_mult;	/* min timeout, x log10 N x period: 4 */
	uint32_t suspicion_max_mult;	/* max timeout = this x min: 6 */
	uint32_t awareness_max;		/* Lifeguard health multiplier cap: 8 */
	uint64_t rng_seed;
	void *io_ctx;			/* handed back to gsp_io_* */
	/* Members' events (joined, restarted, state, app, forgotten)
	 * leave the name empty: for an adapter that reads ids alone, as
	 * the simulator and an emulation's vnodes but its control one do
	 * (a copy per event, 10^8 in a 10,000-vnode join). */
	bool unnamed_events;
	/* Authentication (docs/SECURITY.md): NULL = plaintext. The node
	 * keeps its own copy; gsp_node_set_keyring() replaces it. */
	const struct gsp_keyring *keyring;
	/* An id catalog (with the members' names and addresses) shared with
	 * the other nodes this thread runs (the simulator, an emulation
	 * lcore); NULL: the node has its own. */
	struct gsp_ids *ids;
	/* Limits (docs/CONFIG.md "Limits"); 0 means the default. */
	uint32_t app_value_max;		/* value bytes per key: 255 (max) */
	uint32_t app_bytes_max;		/* key+value bytes per member: 1024 (max) */
	uint32_t join_rate;		/* unknown senders per source/s: 20 */
	uint32_t join_burst;		/* 2 x join_rate (40) */
	uint32_t probe_rate;		/* pings + ping-reqs per source/s:
					 * 0 = 20 probe periods' worth */
	uint32_t probe_burst;		/* 2 x probe_rate */
	/* How far ahead of this node's clock a peer's generation (a start
	 * time) may be: beyond it, implausible. 0 = GSP_DEF(CLOCK_SKEW_NS)
	 * (docs/PROTOCOL.md "Numbers at their edges"). */
	uint64_t max_clock_skew_ns;
	/* Highest wire version spoken: 0 = the newest (5); 4 = only up to 4, as
	 * a node of the previous release (docs/PROTOCOL.md "Versions"). */
	uint8_t wire_version;
};

/* Defaults of the [limits] (gsp_node_params): see docs/CONFIG.md. */
/* Key and value bytes per member, every key counted (gossipd's own gsp.*
 * too): the default is also the most, so that a member's whole state
 * fits one 1500-byte packet (GSP_WIRE_STATE_MAX) and its status-view
 * record (GSP_SV_APP_DATA). memberlist allows 512 bytes of metadata. */
#define GSP_APP_BYTES_MAX 1024
#define GSP_DEFAULT_JOIN_RATE 20
#define GSP_DEFAULT_PROBE_PERIODS 20	/* probe_rate: periods' worth/s */
#define GSP_DEFAULT_BURST_MULT 2	/* burst = this x rate */

/* The limits a node enforces, defaults filled in. */
struct gsp_node_limits {
	uint32_t app_value_max;
	uint32_t app_bytes_max;
	uint32_t join_rate, join_burst;
	uint32_t probe_rate, probe_burst;
};

/* Drop reasons for received payloads (the list: gsp_counters.h); index
 * into rx_drop[]. */
enum gsp_rx_err {
#define GSP_RX_ERR_ENUM(e, name, help) GSP_RX_##e,
	GSP_RX_ERRS(GSP_RX_ERR_ENUM)
#undef GSP_RX_ERR_ENUM
	GSP_RX_ERR_MAX,
};

const char *gsp_rx_err_name(unsigned int err);

/* Written by the protocol thread only; read with gsp_node_counters_read.
 * One u64 per row of GSP_COUNTERS (gsp_counters.h, which says what each
 * counts), then the drops by reason. All u64: readers copy it as such. */
struct gsp_node_counters {
#define GSP_COUNTER_FIELD(name, group, kind, minor, view, off, help) \
	uint64_t name;
	GSP_COUNTERS(GSP_COUNTER_FIELD)
#undef GSP_COUNTER_FIELD
	uint64_t rx_drop[GSP_RX_ERR_MAX];
};

enum gsp_event_type {
	GSP_EV_JOINED = 1,	/* new member learned */
	GSP_EV_STATE,		/* state changed */
	GSP_EV_RESTARTED,	/* higher generation replaced the entry */
	GSP_EV_FORGOTTEN,	/* down/left member removed */
	GSP_EV_TABLE_FULL,	/* first refusal since the table had room;
				 * limit = 1: the id catalog this thread's
				 * tables share is full, not the table */
	GSP_EV_APP_REJECTED,	/* set KEY refused: name = the key */
	GSP_EV_NAME_CONFLICT,	/* a new id uses the name of a live member */
	GSP_EV_LIMIT,		/* a [limits] bound first hit: name = which */
	GSP_EV_AUTH_DROP,	/* first datagram refused for this reason in
				 * a while: old_state = the gsp_rx_err, id =
				 * source IPv4, generation = key id seen (or,
				 * for IMPLAUSIBLE, the sender's generation) */
	GSP_EV_RENEWED,		/* we started a new generation: a peer held
				 * a state of ours we did not make; id = ours,
				 * generation = the new one, limit = the
				 * generation seen, suppressed = its version */
	GSP_EV_IMPLAUSIBLE,	/* first state or claim skipped in a while:
				 * id, generation = the member's, name =
				 * which number ("generation", "address"),
				 * suppressed = skips since the last event */
	GSP_EV_APP,		/* a known member's app state changed (a
				 * join carries it already); slot = its
				 * record, for gsp_node_member_read() */
};

/*
 * GSP_EV_LIMIT is emitted at the first hit of a limit, then not again
 * until the limit went unhit for 60 s (every hit counts in limit_hits):
 * name = the [limits] key, then for the rate limits a space and the
 * source address ("join_rate 10.0.0.9"); limit = its value in force;
 * suppressed = hits since the previous GSP_EV_LIMIT of that key; id and
 * generation = the sender (rates) or the member whose state was over.
 */
struct gsp_event {
	uint8_t type;
	uint8_t old_state;
	uint8_t new_state;
	uint32_t slot;			/* the member's record, where there is
					 * one (in the padding before id) */
	uint64_t id;
	uint64_t generation;
	char name[GSP_NAME_MAX];
	uint64_t limit;			/* GSP_EV_LIMIT */
	uint64_t suppressed;		/* GSP_EV_LIMIT */
};

struct gsp_node;
struct gsp_keyring;

/* Link-time seam: every adapter defines these. */
void gsp_io_send(void *io_ctx, const struct gsp_addr *dst,
		 const uint8_t *payload, uint16_t len);
void gsp_io_event(void *io_ctx, const struct gsp_event *ev);

/*
 * Optional link-time seam to seal a datagram straight into the adapter's
 * buffer (its mbuf) instead of sealing into a second buffer that
 * gsp_io_send then copies. gsp_io_tx_open gives room for exactly len
 * bytes to dst, at the payload's place in the frame; false: no room
 * (the core falls back to gsp_io_send). gsp_io_tx_commit sends it with
 * len as opened, or frees it when len is 0. The core's weak defaults
 * give no room, so adapters without it (simulator, tests) need nothing.
 */
struct gsp_io_tx {
	uint8_t *buf;			/* len bytes of payload */
	void *handle;			/* the adapter's, e.g. an mbuf */
};
bool gsp_io_tx_open(void *io_ctx, const struct gsp_addr *dst, uint16_t len,
		    struct gsp_io_tx *tx);
void gsp_io_tx_commit(void *io_ctx, const struct gsp_addr *dst,
		      struct gsp_io_tx *tx, uint16_t len);

uint64_t gsp_id_from_name(const char *name);
uint32_t gsp_cluster_hash(const char *cluster);

/* Returns NULL and sets *err to a negative errno on failure. */
struct gsp_node *gsp_node_create(const struct gsp_node_params *p, int *err);
void gsp_node_destroy(struct gsp_node *node);
/* Before the node's thread runs it: its member records' memory mapped
 * now rather than page by page as it learns members (an emulation's
 * join would otherwise zero GBs of pages on its clock). */
void gsp_node_populate(struct gsp_node *node);

/* Takes one datagram. Returns GSP_RX_OK when it was authentic (when the
 * node authenticates), well-formed and taken, else the enum gsp_rx_err it
 * was dropped for (counted): an adapter learns a peer's MAC address only
 * from a datagram taken. wake_ns (may be NULL) gets a deadline earlier
 * than the last gsp_node_tick() gave that this packet set (a probe it
 * relays, a suspicion), or UINT64_MAX: call gsp_node_tick() by then. */
int gsp_node_rx(struct gsp_node *node, const struct gsp_addr *src,
		const uint8_t *payload, uint16_t len, uint64_t now_ns,
		uint64_t *wake_ns);
/* Runs a round when due; returns the core clock of the next deadline. */
uint64_t gsp_node_tick(struct gsp_node *node, uint64_t now_ns);
/* The deadline gsp_node_tick() would return now, without running
 * anything: later than it gave when an answer cleared a timer since
 * (an ack before its probe's timeout). */
uint64_t gsp_node_next_deadline(const struct gsp_node *node);

/* 0 or -EINVAL (bad key/value), -ENOSPC (too many keys), -E2BIG (over
 * app_value_max or app_bytes_max; counted in limit_hits). */
int gsp_node_set_app(struct gsp_node *node, const char *key,
		     const char *value);
/* Removes one of our app keys: a new version of our state without it,
 * which replaces the whole app state wherever it arrives. 0 or -ENOENT. */
int gsp_node_del_app(struct gsp_node *node, const char *key);
void gsp_node_leave(struct gsp_node *node, uint64_t now_ns);
/*
 * gossipctl force-leave: moves a failed (down) member to left here and
 * tells the cluster (a DEAD claim flagged LEFT), so it is no longer
 * treated as failed and is forgotten after forget_ns. Its own refutation
 * or a restart brings it back. 0 (also when it is left already),
 * -ENOENT (no such member), -EBUSY (alive or suspect: it can speak for
 * itself), -EINVAL (this node), -ENOTSUP (SWIM off: claims carry it).
 */
int gsp_node_force_leave(struct gsp_node *node, uint64_t id,
			 uint64_t now_ns);

/* App keys starting with the prefix are gossipd's own: users may not set
 * them (control socket, [app]). "gsp.keys", the node's keyring state
 * (control/ctrl_keys_cluster.c, at most 8 + 63 bytes), and "gsp.event",
 * its last user event (docs/EVENTS.md), are outside app_value_max but
 * count toward app_bytes_max, which bounds a whole state to a packet; the
 * control plane holds GSP_APP_KEYRING_ROOM of it for the keyring. */
#define GSP_APP_RESERVED_PREFIX "gsp."
#define GSP_APP_KEYRING_KEY "gsp.keys"
#define GSP_APP_KEYRING_ROOM (8 + 63)
#define GSP_APP_EVENT_KEY "gsp.event"
/* true once a LEAVE was announced and its linger rounds are over */
bool gsp_node_leave_done(const struct gsp_node *node);
void gsp_node_set_seeds(struct gsp_node *node, const struct gsp_addr *seeds,
			unsigned int n);
/* Replaces the node's keyring with a copy of kr (online key rotation).
 * 0, -EINVAL (kr NULL, or the node runs plaintext), -ENOMEM. */
int gsp_node_set_keyring(struct gsp_node *node, const struct gsp_keyring *kr);

uint64_t gsp_node_id(const struct gsp_node *node);
uint64_t gsp_node_generation(const struct gsp_node *node);

/* Any thread. Slots in use are all below gsp_node_slot_count(), a
 * high-water mark that grows as members join (not the capacity). */
uint32_t gsp_node_slot_count(const struct gsp_node *node);
bool gsp_node_member_read(const struct gsp_node *node, uint32_t slot,
			  struct gsp_member_view *out);
void gsp_node_counters_read(const struct gsp_node *node,
			    struct gsp_node_counters *out);
/* Protocol thread: recomputes the range hashes and view digest from the
 * table; true when the running ones agree, and the rumor ring's index
 * finds exactly its rumors (tests, the simulator). */
bool gsp_node_view_check(const struct gsp_node *node);

/* Any thread: the limits in force (fixed at creation). */
void gsp_node_limits_read(const struct gsp_node *node,
			  struct gsp_node_limits *out);

/* Bytes of memory per member slot (table record, the node's per-member
 * state, and the id catalog's and name pool's share unless shared), with
 * the replay window of an authenticating node when authenticated. */
size_t gsp_node_bytes_per_member(bool authenticated, bool shared);
/* What SWIM adds for a member it suspects (less for one held down), on
 * top of gsp_node_bytes_per_member; resident as long as the most ever
 * held at once */
size_t gsp_node_bytes_per_suspect(void);
/* Bytes of a node's digest buckets (hash and count each) when its
 * catalog holds max_ids: one bucket per 8 to 16 of them. */
size_t gsp_node_bucket_bytes(uint32_t max_ids);

#ifdef __cplusplus
}
#endif

#endif /* GSP_CORE_H */
