/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * [limits] (docs/CONFIG.md "Limits"): per-source token buckets for joins
 * and probes, and the "report once" rule for every limit.
 *
 * Sources are IPv4 addresses in a fixed table of GSP_LIMIT_SOURCES
 * entries, GSP_LIMIT_WAYS-way set-associative: a datagram costs one probe
 * of one set (a few cache lines), never an allocation. A source not in its
 * set takes the set's stalest entry and starts with full buckets, so the
 * memory is bounded whatever the number of sources; a flood from more
 * sources than the table holds is bounded by max_members instead.
 *
 * Arithmetic is integer: a bucket holds token-nanoseconds (one token =
 * GSP_LIMIT_TOKEN), so a refill is elapsed_ns x rate, exact, with no
 * division and no rounding that a fast sender could starve.
 */
#ifndef GSP_LIMIT_H
#define GSP_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define GSP_LIMIT_SOURCES 1024		/* sources tracked per node */
#define GSP_LIMIT_WAYS 4		/* entries a source may take */
#define GSP_LIMIT_SETS (GSP_LIMIT_SOURCES / GSP_LIMIT_WAYS)
#define GSP_LIMIT_TOKEN 1000000000ull	/* one token, in token-ns */
/* a limit is reported again after this long without a hit */
#define GSP_LIMIT_QUIET_NS (60ull * 1000000000ull)

#ifndef __cplusplus
_Static_assert((GSP_LIMIT_SETS & (GSP_LIMIT_SETS - 1)) == 0,
	       "sets: a power of two");
#endif

/* Rate-limited classes of datagrams. */
enum gsp_limit_class {
	GSP_LIMIT_JOIN = 0,	/* sender id not in our table */
	GSP_LIMIT_PROBE,	/* PING, PING_REQ */
	GSP_LIMIT_CLASSES,
};

/* Limits whose hits are reported, each on its own (GSP_EV_LIMIT). */
enum gsp_limit_kind {
	GSP_LIMIT_K_JOIN_RATE = 0,
	GSP_LIMIT_K_PROBE_RATE,
	GSP_LIMIT_K_APP_VALUE,
	GSP_LIMIT_K_APP_BYTES,
	GSP_LIMIT_K_MAX,
};

/* The [limits] key of a kind: "join_rate", ..., "app_bytes_max". */
const char *gsp_limit_kind_name(unsigned int kind);

struct gsp_limit_src {
	uint32_t ip;
	uint32_t in_use;
	uint64_t stamp_ns;		/* buckets last refilled */
	/* the unknown sender last let through: its next datagrams are the
	 * same join, not new ones (a seed's ACK burst to a newcomer) */
	uint64_t join_id;
	uint64_t tokens[GSP_LIMIT_CLASSES];	/* token-ns */
};

struct gsp_rate_table {
	uint64_t rate[GSP_LIMIT_CLASSES];	/* tokens per second */
	uint64_t cap[GSP_LIMIT_CLASSES];	/* burst, token-ns */
	uint64_t fill_ns[GSP_LIMIT_CLASSES];	/* empty to full */
	uint32_t salt;				/* set choice, per node */
	struct gsp_limit_src src[GSP_LIMIT_SOURCES];
};

/* Per class: rate >= 1 token per second, burst >= 1 token. */
void gsp_rate_table_init(struct gsp_rate_table *t,
			 const uint32_t rate[GSP_LIMIT_CLASSES],
			 const uint32_t burst[GSP_LIMIT_CLASSES], uint32_t salt);

/*
 * One datagram of class c from ip: true when within its source's limit
 * (a token is taken), false when over. For GSP_LIMIT_JOIN, sender_id is
 * the unknown sender: a run of datagrams of one sender costs one token.
 */
bool gsp_rate_take(struct gsp_rate_table *t, uint32_t ip,
		   enum gsp_limit_class c, uint64_t sender_id, uint64_t now_ns);

/* "Logged once": when a limit was last hit and what was not reported. */
struct gsp_limit_report {
	uint64_t last_hit_ns;
	uint64_t unreported;		/* hits since the last report */
	bool hit;			/* ever */
};

/*
 * Notes a hit. True when it is to be reported: the first hit, or the
 * first after GSP_LIMIT_QUIET_NS without any; *suppressed is then the
 * number of hits since the previous report that were not reported.
 */
bool gsp_limit_report_hit(struct gsp_limit_report *r, uint64_t now_ns,
			  uint64_t *suppressed);

#endif /* GSP_LIMIT_H */
