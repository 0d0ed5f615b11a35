/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * [limits]: per-source token buckets and the "report once" rule; see
 * gsp_limit.h. No clock, allocation or I/O: the node owns the table and
 * passes the time in.
 */
#include <string.h>

#include "gsp_limit.h"

const char *
gsp_limit_kind_name(unsigned int kind)
{
	static const char *const names[GSP_LIMIT_K_MAX] = {
		[GSP_LIMIT_K_JOIN_RATE] = "join_rate",
		[GSP_LIMIT_K_PROBE_RATE] = "probe_rate",
		[GSP_LIMIT_K_APP_VALUE] = "app_value_max",
		[GSP_LIMIT_K_APP_BYTES] = "app_bytes_max",
	};

	return kind < GSP_LIMIT_K_MAX ? names[kind] : "unknown";
}

void
gsp_rate_table_init(struct gsp_rate_table *t,
		    const uint32_t rate[GSP_LIMIT_CLASSES],
		    const uint32_t burst[GSP_LIMIT_CLASSES], uint32_t salt)
{
	memset(t, 0, sizeof(*t));
	t->salt = salt;
	for (unsigned int c = 0; c < GSP_LIMIT_CLASSES; c++) {
		/* u32 x 1e9 < 2^64: no overflow anywhere below */
		t->rate[c] = rate[c] > 0 ? rate[c] : 1;
		t->cap[c] = (uint64_t)(burst[c] > 0 ? burst[c] : 1) *
			GSP_LIMIT_TOKEN;
		t->fill_ns[c] = (t->cap[c] + t->rate[c] - 1) / t->rate[c];
	}
}

static uint32_t
gsp_limit_set_of(const struct gsp_rate_table *t, uint32_t ip)
{
	/* Fibonacci hashing of a salted address: neighbouring addresses
	 * spread, and a sender cannot aim at another's set without the salt */
	uint32_t h = (ip ^ t->salt) * 0x9e3779b1u;

	return h >> (32 - __builtin_ctz(GSP_LIMIT_SETS));
}

/* The entry of ip: found in its set, else the set's stalest, reset. */
static struct gsp_limit_src *
gsp_limit_src_get(struct gsp_rate_table *t, uint32_t ip, uint64_t now_ns)
{
	struct gsp_limit_src *set = &t->src[gsp_limit_set_of(t, ip) *
					    GSP_LIMIT_WAYS];
	struct gsp_limit_src *victim = &set[0];

	for (unsigned int w = 0; w < GSP_LIMIT_WAYS; w++) {
		struct gsp_limit_src *e = &set[w];

		if (e->in_use && e->ip == ip)
			return e;
		if (!victim->in_use)
			continue;
		if (!e->in_use || e->stamp_ns < victim->stamp_ns)
			victim = e;
	}
	victim->ip = ip;
	victim->in_use = 1;
	victim->stamp_ns = now_ns;
	victim->join_id = 0;
	for (unsigned int c = 0; c < GSP_LIMIT_CLASSES; c++)
		victim->tokens[c] = t->cap[c];
	return victim;
}

static void
gsp_limit_refill(const struct gsp_rate_table *t, struct gsp_limit_src *e,
		 uint64_t now_ns)
{
	uint64_t elapsed;

	if (now_ns <= e->stamp_ns)
		return;		/* a clock that stepped back refills nothing */
	elapsed = now_ns - e->stamp_ns;
	e->stamp_ns = now_ns;
	for (unsigned int c = 0; c < GSP_LIMIT_CLASSES; c++) {
		/* below fill_ns, elapsed x rate < cap: no overflow */
		if (elapsed >= t->fill_ns[c] ||
		    t->cap[c] - e->tokens[c] <= elapsed * t->rate[c])
			e->tokens[c] = t->cap[c];
		else
			e->tokens[c] += elapsed * t->rate[c];
	}
}

bool
gsp_rate_take(struct gsp_rate_table *t, uint32_t ip, enum gsp_limit_class c,
	      uint64_t sender_id, uint64_t now_ns)
{
	struct gsp_limit_src *e = gsp_limit_src_get(t, ip, now_ns);

	gsp_limit_refill(t, e, now_ns);	/* also marks it recently used */
	if (c == GSP_LIMIT_JOIN && sender_id != 0 && e->join_id == sender_id)
		return true;
	if (e->tokens[c] < GSP_LIMIT_TOKEN)
		return false;
	e->tokens[c] -= GSP_LIMIT_TOKEN;
	if (c == GSP_LIMIT_JOIN)
		e->join_id = sender_id;
	return true;
}

bool
gsp_limit_report_hit(struct gsp_limit_report *r, uint64_t now_ns,
		     uint64_t *suppressed)
{
	bool due = !r->hit || now_ns - r->last_hit_ns >= GSP_LIMIT_QUIET_NS;

	/* a clock stepping back never makes a hit due */
	if (r->hit && now_ns < r->last_hit_ns)
		due = false;
	r->hit = true;
	r->last_hit_ns = now_ns;
	if (!due) {
		r->unreported++;
		return false;
	}
	*suppressed = r->unreported;
	r->unreported = 0;
	return true;
}
