/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipd status view: a shared-memory file that any local program can map
 * read-only to see a node's membership table and counters, with no lock and
 * no DPDK. See docs/STATUS_VIEW.md.
 *
 * Layout (all fields little-endian, fixed width, offsets pinned below):
 *   [header: header_size bytes]
 *   [member_capacity records of member_stride bytes at member_offset]
 *   [lcore_capacity records of lcore_stride bytes at lcore_offset]
 *
 * Single writer (the node's control thread). Consistency: a sequence counter
 * `seq` is odd while the writer updates the file and even otherwise; a
 * reader copies what it needs and retries when seq was odd or changed.
 * Readers must accept a larger header_size or stride than they know
 * (fields are only ever appended within a major version).
 */
#ifndef GOSSIPD_STATUS_VIEW_H
#define GOSSIPD_STATUS_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the status view is little-endian; this writer stores native order"
#endif

#ifdef __cplusplus
#define GSP_SV_STATIC_ASSERT static_assert
#else
#define GSP_SV_STATIC_ASSERT _Static_assert
#endif

#define GSP_SV_MAGIC 0x5745495653505347ULL	/* "GSPSVIEW" */
#define GSP_SV_MAJOR 1
#define GSP_SV_MINOR 11
#define GSP_SV_HEADER_SIZE 1024
#define GSP_SV_MEMBER_STRIDE 2304
#define GSP_SV_MEMBER_STRIDE_1_0 1024	/* writers before minor 7 */
#define GSP_SV_LCORE_STRIDE 192
#define GSP_SV_LCORE_STRIDE_1_0 128	/* writers before minor 6 */
#define GSP_SV_APP_KEYS 8		/* legacy app[] slots */
#define GSP_SV_APP_EXT_KEYS 16		/* entries in app_ext (minor 7) */
#define GSP_SV_APP_DATA 1272		/* bytes of app_ext.data */
#define GSP_SV_APP_ENTRY_HDR 10		/* u64 version, u8 klen, u8 vlen */
#define GSP_SV_APP_KEY_MAX 32		/* key bytes incl. NUL */
#define GSP_SV_APP_VALUE_MAX 256	/* value bytes incl. NUL */
#define GSP_SV_DROP_REASONS 16
#define GSP_SV_DROP_REASONS_EXT 8	/* reasons 16..23 (minor 3) */
#define GSP_SV_FAULT_CTRS 8		/* enum gsp_fault_ctr, room for one more */

/* member states, as in the gossip core */
#define GSP_SV_ALIVE 0
#define GSP_SV_SUSPECT 1
#define GSP_SV_DOWN 2
#define GSP_SV_LEFT 3

#define GSP_SV_MEMBER_SELF 0x1u		/* member flags */
#define GSP_SV_FLAG_CLOSED 0x1u		/* header flags: writer exited */
#define GSP_SV_FLAG_FAULTS 0x2u		/* fault injection on (minor 2) */

/* gsp_sv_security.mode (minor 3) */
#define GSP_SV_PLAINTEXT 0
#define GSP_SV_AUTHENTICATED 1
/* gsp_sv_security.cipher */
#define GSP_SV_CIPHER_NONE 0
#define GSP_SV_CIPHER_AES256GCM 1
#define GSP_SV_CIPHER_CHACHA20POLY1305 2

struct gsp_sv_counters {
	uint64_t rounds;
	uint64_t tx_syn, tx_ack, tx_ack2, tx_leave;
	uint64_t rx_syn, rx_ack, rx_ack2, rx_leave;
	uint64_t merged, stale, table_full, seed_contacts;
	uint64_t members, alive, suspect, down, left;
	/* minor 1 */
	uint64_t tx_push, rx_push;	/* rumors of recent changes */
	uint64_t rumors;		/* changes being spread now */
	/* minor 2: SWIM and Lifeguard (zero while the core has none) */
	uint64_t tx_ping, rx_ping, tx_pong, rx_pong;
	uint64_t tx_ping_req, rx_ping_req, tx_nack, rx_nack;
	uint64_t probes_failed;		/* no ack direct or indirect */
	uint64_t suspicions;		/* members we accused ourselves */
	uint64_t refutations;		/* accusations against us refuted */
	/* indexed by drop reason, names in gsp_sv_drop_reason_name() */
	uint64_t rx_drop[GSP_SV_DROP_REASONS];
};

/* minor 2: in the header after the counters, which were full */
struct gsp_sv_extra {
	uint64_t claims_rx;		/* suspect/dead/alive claims applied */
	uint64_t declared_down;		/* suspicions that ran out here */
	uint64_t awareness;		/* Lifeguard health multiplier now */
	uint64_t incarnation;		/* ours (SWIM) */
	/* fault injection, summed over lcores, indexed as the core's enum
	 * gsp_fault_ctr; names in gsp_sv_fault_ctr_name() */
	uint64_t fault[GSP_SV_FAULT_CTRS];
};

/* minor 3: authentication and limits (docs/SECURITY.md), in what was
 * reserved space of the header */
struct gsp_sv_security {
	uint32_t mode;			/* GSP_SV_PLAINTEXT, _AUTHENTICATED */
	uint32_t cipher;		/* GSP_SV_CIPHER_* */
	uint32_t primary_key_id;	/* the key that seals what we send */
	uint32_t n_keys;		/* keys accepted */
	uint64_t rx_key_primary;	/* packets opened with the primary */
	uint64_t rx_key_other;		/* ... with another key of the ring */
	uint64_t limit_hits;		/* refusals at a [limits] bound */
	/* drop reasons GSP_SV_DROP_REASONS and up, by index - 16 */
	uint64_t rx_drop_ext[GSP_SV_DROP_REASONS_EXT];
	/* minor 4 (docs/PROTOCOL.md "Numbers at their edges") */
	uint64_t implausible;		/* member states/claims skipped */
	uint64_t renewals;		/* our new generations: a peer held a
					 * state of ours we did not make */
};

/* minor 6: anti-entropy by range hashes and view agreement
 * (docs/PROTOCOL.md "Range hashes"), in what was reserved */
struct gsp_sv_view {
	uint64_t tx_sum;		/* range-hash summaries sent */
	uint64_t rx_sum;		/* ... taken */
	uint64_t syncs;			/* started: a probe showed another view */
	uint64_t digest;		/* of our membership view */
	uint64_t peers;			/* live peers that told us theirs */
	uint64_t agree;			/* of those, whose last view is ours */
};

struct gsp_sv_header {
	uint64_t magic;
	uint16_t major;
	uint16_t minor;
	uint32_t header_size;
	uint64_t total_size;
	uint64_t seq;			/* odd while being written */
	uint32_t writer_pid;
	uint32_t flags;
	uint64_t start_unix_ns;		/* writer start, CLOCK_REALTIME */
	uint64_t heartbeat_unix_ns;	/* last publish, CLOCK_REALTIME */
	uint64_t self_id;
	uint64_t self_generation;
	uint32_t member_offset;
	uint32_t member_stride;
	uint32_t member_capacity;
	uint32_t member_count;
	uint32_t lcore_offset;
	uint32_t lcore_stride;
	uint32_t lcore_capacity;
	uint32_t lcore_count;
	uint32_t self_ip;		/* host byte order value */
	uint16_t self_port;
	uint16_t reserved0;
	uint64_t gossip_interval_ns;
	uint32_t phi_convict_milli;
	uint32_t reserved1;
	char cluster[32];
	char node_name[64];
	char control_socket[112];
	struct gsp_sv_security security;	/* minor 3 */
	struct gsp_sv_view view;		/* minor 6 */
	uint64_t probe_rtt_us;		/* minor 8: SWIM's smoothed probe
					 * round trip (0: none measured) */
	struct gsp_sv_counters counters;
	struct gsp_sv_extra extra;	/* minor 2 */
	uint64_t probes_late;		/* minor 8: verdicts put off once
					 * because we came to them late */
	/* minor 11, in what was reserved */
	uint64_t claim_pushes;		/* claims pushed at once (PONG
					 * seq 0) */
	uint64_t claim_pushes_rx;	/* pushes taken from others */
	uint8_t reserved3[8];
};

struct gsp_sv_app {
	uint64_t version;
	char key[32];
	char value[64];
};

/*
 * minor 7: a member's whole application state, entries packed back to
 * back as on the wire: u64 version (LE), u8 key_len, u8 value_len, the
 * key's bytes, the value's bytes (no NUL). key_len is 1..31, value_len
 * 0..255, and the count entries fill exactly `bytes` bytes of data.
 * Unpack with gsp_sv_member_apps().
 */
struct gsp_sv_app_ext {
	uint8_t count;			/* entries, <= GSP_SV_APP_EXT_KEYS */
	uint8_t reserved[3];
	uint32_t bytes;			/* of data used, <= GSP_SV_APP_DATA */
	uint8_t data[GSP_SV_APP_DATA];
};

struct gsp_sv_member {
	uint64_t id;
	uint64_t generation;
	uint64_t heartbeat;
	uint64_t version;
	uint64_t last_update_unix_ns;	/* when its heartbeat last advanced */
	uint64_t state_since_unix_ns;
	uint32_t ip;			/* host byte order value */
	uint16_t port;
	uint8_t state;
	uint8_t app_count;
	uint32_t phi_milli;
	uint32_t flags;
	char name[64];
	/* the first 8 entries of app_ext, values cut to 63 bytes: for
	 * readers of minor 6 and older; read app_ext instead */
	struct gsp_sv_app app[GSP_SV_APP_KEYS];
	uint32_t incarnation;		/* SWIM, raised to refute (minor 2) */
	uint8_t reserved[60];
	/* minor 7: the record grew to 2304 bytes (older writers: 1024;
	 * libgsp_sv fills app_ext from app[] for them) */
	struct gsp_sv_app_ext app_ext;
};

/* One entry unpacked from app_ext, NUL-terminated. */
struct gsp_sv_app_entry {
	uint64_t version;
	char key[GSP_SV_APP_KEY_MAX];
	char value[GSP_SV_APP_VALUE_MAX];
};

struct gsp_sv_lcore {
	uint32_t lcore_id;
	uint16_t port_id;
	uint16_t queue_id;
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rx_not_gossip;		/* frames for other protocols/ports */
	uint64_t rx_parse_errors;	/* malformed Ethernet/IPv4/UDP */
	uint64_t tx_dropped;		/* no mbuf or TX queue full */
	uint64_t tx_no_arp;		/* no MAC known for the next hop */
	uint64_t arp_rx;
	uint64_t arp_tx;
	uint64_t idle_sleeps;
	uint64_t rx_handoff;		/* passed to the protocol lcore */
	uint64_t rx_handoff_full;	/* dropped: handoff ring full */
	/* minor 5 (docs/SECURITY.md "Layer 2"), in what was reserved */
	uint64_t rx_wrong_mac;		/* IPv4/ARP for another host's MAC */
	uint64_t arp_ignored;		/* ARP against a confirmed MAC */
	/* minor 6: the record grew to 192 bytes (older writers: 128, read
	 * as zero) */
	uint64_t rx_intr_waits;		/* idle waits for an rx interrupt */
	uint64_t rx_intr_wakeups;	/* of them, ended by the queue's */
	/* minor 9, in what was reserved */
	uint64_t arp_overheard;		/* resolved from overheard ARP */
	/* minor 10, in what was reserved */
	uint64_t idle_spins;		/* idle spells that spun first */
	uint64_t idle_spin_hits;	/* of them, ended by a frame */
	uint8_t reserved[24];
};

GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, seq) == 24, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, start_unix_ns) == 40, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, member_offset) == 72, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, lcore_offset) == 88, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, self_ip) == 104, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, gossip_interval_ns) == 112, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, cluster) == 128, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, node_name) == 160, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, control_socket) == 224, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, security) == 336, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_security, rx_key_primary) == 16, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_security, rx_drop_ext) == 40, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_security, implausible) == 104, "sv abi");
GSP_SV_STATIC_ASSERT(sizeof(struct gsp_sv_security) == 120, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, view) == 456, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, counters) == 512, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_counters, rx_drop) == 256, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_counters, tx_ping) == 168, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_counters, refutations) == 248, "sv abi");
GSP_SV_STATIC_ASSERT(sizeof(struct gsp_sv_counters) == 384, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_header, extra) == 896, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_extra, fault) == 32, "sv abi");
GSP_SV_STATIC_ASSERT(sizeof(struct gsp_sv_extra) == 96, "sv abi");
GSP_SV_STATIC_ASSERT(sizeof(struct gsp_sv_header) == GSP_SV_HEADER_SIZE, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_member, ip) == 48, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_member, phi_milli) == 56, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_member, name) == 64, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_member, app) == 128, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_member, incarnation) == 960, "sv abi");
GSP_SV_STATIC_ASSERT(sizeof(struct gsp_sv_app) == 104, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_member, app_ext) == GSP_SV_MEMBER_STRIDE_1_0, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_app_ext, bytes) == 4, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_app_ext, data) == 8, "sv abi");
GSP_SV_STATIC_ASSERT(sizeof(struct gsp_sv_app_ext) == 1280, "sv abi");
/* 16 entries of the longest key and value would not fit data: gossipd
 * holds at most 1024 key + value bytes per member (its ctrl_view.c
 * checks that 16 headers and those bytes fit) */
GSP_SV_STATIC_ASSERT(GSP_SV_APP_KEY_MAX - 1 <= UINT8_MAX &&
		     GSP_SV_APP_VALUE_MAX - 1 <= UINT8_MAX, "sv abi");
GSP_SV_STATIC_ASSERT(sizeof(struct gsp_sv_member) == GSP_SV_MEMBER_STRIDE, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_lcore, rx_packets) == 8, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_lcore, rx_wrong_mac) == 112, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_lcore, rx_intr_waits) == 128, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_lcore, arp_overheard) == 144, "sv abi");
GSP_SV_STATIC_ASSERT(offsetof(struct gsp_sv_lcore, idle_spin_hits) == 160, "sv abi");
GSP_SV_STATIC_ASSERT(sizeof(struct gsp_sv_lcore) == GSP_SV_LCORE_STRIDE, "sv abi");

/* ---- reader library (libgsp_sv, no DPDK) ---- */

struct gsp_sv_reader;

/* A consistent copy of the whole view. */
struct gsp_sv_snapshot {
	struct gsp_sv_header hdr;
	struct gsp_sv_member *members;	/* hdr.member_count entries */
	struct gsp_sv_lcore *lcores;	/* hdr.lcore_count entries */
};

/* 0 or -errno: -ENOENT, -EACCES, -EPROTO (bad magic/major/sizes). */
int gsp_sv_open(const char *path, struct gsp_sv_reader **out);
/* 0, or -EAGAIN when no consistent copy was had in a bounded number of
 * tries, -EPROTO when the file is malformed, -ENOMEM. Copies with pread(),
 * never through a mapping: a file truncated meanwhile is an error, not a
 * SIGBUS. A file that shrank is opened again by path (the writer
 * re-creates a damaged view); -ESTALE if it shrank under that copy too. */
int gsp_sv_read(struct gsp_sv_reader *r, struct gsp_sv_snapshot *snap);
void gsp_sv_snapshot_free(struct gsp_sv_snapshot *snap);
void gsp_sv_close(struct gsp_sv_reader *r);

/* Writer alive: its pid exists, it published within stale_ns and it has
 * not set GSP_SV_FLAG_CLOSED. */
bool gsp_sv_writer_alive(const struct gsp_sv_header *h, uint64_t now_unix_ns,
			 uint64_t stale_ns);
const char *gsp_sv_state_name(unsigned int state);
const char *gsp_sv_drop_reason_name(unsigned int reason);
/* Payloads dropped for reason (0 .. GSP_SV_DROP_REASONS +
 * GSP_SV_DROP_REASONS_EXT - 1), from rx_drop or, minor 3, rx_drop_ext. */
uint64_t gsp_sv_drop_count(const struct gsp_sv_header *h, unsigned int reason);
/* "dropped", "blocked_out", ...: as gsp_fault_ctr_name() (minor 2). */
const char *gsp_sv_fault_ctr_name(unsigned int c);
/* Unpacks m->app_ext (libgsp_sv fills it for writers of every minor)
 * into out: the number of entries stored, at most max. Stops early at an
 * entry that does not fit, though gsp_sv_read() has refused those. */
unsigned int gsp_sv_member_apps(const struct gsp_sv_member *m,
				struct gsp_sv_app_entry *out, unsigned int max);
/* Default path for a node: /dev/shm/gossipd.<cluster>.<node>. */
int gsp_sv_default_path(char *buf, size_t len, const char *cluster,
			const char *node);

#ifdef __cplusplus
}
#endif

#endif /* GOSSIPD_STATUS_VIEW_H */
