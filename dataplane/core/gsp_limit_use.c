/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node's use of [limits] (gsp_limit.h, docs/CONFIG.md "Limits"):
 * defaults, per-source rates on receive, app state bounds, reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_util.h"

#include "gsp_node_int.h"

static uint32_t
gsp_u32_sat(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Fills in the [limits] defaults and the rate table; 0 or -errno. */
int
gsp_limits_init(struct gsp_node *n)
{
	struct gsp_node_params *p = &n->p;
	uint64_t probe_ns = p->probe_interval_ns != 0 ? p->probe_interval_ns :
		GSP_DEF(PROBE_INTERVAL_NS);
	uint32_t rate[GSP_LIMIT_CLASSES], burst[GSP_LIMIT_CLASSES];

	if (p->app_value_max == 0)
		p->app_value_max = GSP_APP_VALUE_MAX - 1;
	if (p->app_bytes_max == 0)
		p->app_bytes_max = GSP_APP_BYTES_MAX;
	if (p->app_value_max > GSP_APP_VALUE_MAX - 1 ||
	    p->app_bytes_max > GSP_APP_BYTES_MAX)
		return -EINVAL;
	/* at the wire's own bounds the decoder has checked already */
	n->app_limited = p->app_value_max < GSP_APP_VALUE_MAX - 1 ||
		p->app_bytes_max < GSP_APP_BYTES_MAX;
	if (p->join_rate == 0)
		p->join_rate = GSP_DEFAULT_JOIN_RATE;
	if (p->join_burst == 0)
		p->join_burst = gsp_u32_sat((uint64_t)GSP_DEFAULT_BURST_MULT *
					    p->join_rate);
	/* a member probes each peer about once per N periods and relays a
	 * few more for others: 20 periods' worth a second from one source
	 * is far beyond that, and bounds what a flood can make us answer */
	if (p->probe_rate == 0)
		p->probe_rate = gsp_u32_sat((GSP_DEFAULT_PROBE_PERIODS *
					     1000000000ull + probe_ns - 1) /
					    probe_ns);
	if (p->probe_burst == 0)
		p->probe_burst = gsp_u32_sat((uint64_t)GSP_DEFAULT_BURST_MULT *
					     p->probe_rate);
	rate[GSP_LIMIT_JOIN] = p->join_rate;
	burst[GSP_LIMIT_JOIN] = p->join_burst;
	rate[GSP_LIMIT_PROBE] = p->probe_rate;
	burst[GSP_LIMIT_PROBE] = p->probe_burst;
	n->rates = malloc(sizeof(*n->rates));
	if (n->rates == NULL)
		return -ENOMEM;
	/* the salt derives from the seed without drawing from n->rng, so
	 * runs stay what they were */
	gsp_rate_table_init(n->rates, rate, burst,
			    (uint32_t)(((p->rng_seed ^ n->id) *
					0x9e3779b97f4a7c15ull) >> 32));
	return 0;
}

/* A [limits] bound was hit: always counted, reported once (gsp_limit.h). */
static void
gsp_limit_hit(struct gsp_node *n, unsigned int kind, uint64_t limit,
	      const struct gsp_addr *src, uint64_t id, uint64_t generation,
	      uint64_t now_ns)
{
	struct gsp_event ev = { .type = GSP_EV_LIMIT, .id = id,
		.generation = generation, .limit = limit };

	GSP_CTR_INC(n->ctr.limit_hits);
	if (!gsp_limit_report_hit(&n->limit_rep[kind], now_ns, &ev.suppressed))
		return;
	if (src != NULL)
		snprintf(ev.name, sizeof(ev.name), "%s %u.%u.%u.%u",
			 gsp_limit_kind_name(kind), src->ip >> 24,
			 (src->ip >> 16) & 0xff, (src->ip >> 8) & 0xff,
			 src->ip & 0xff);
	else
		snprintf(ev.name, sizeof(ev.name), "%s",
			 gsp_limit_kind_name(kind));
	gsp_io_event(n->p.io_ctx, &ev);
}

/* The limit (GSP_LIMIT_K_APP_*) an app state exceeds, or -1. Checked on
 * our own state as peers check it, so that they never drop it. Every
 * key counts toward app_bytes_max, gossipd's own gsp.* too: the bound
 * is what makes a whole state fit one packet. app_value_max does not
 * apply to those: their length is gossipd's, not the operator's. */
int
gsp_app_over_limit(const struct gsp_node *n, const struct gsp_app_entry *app,
		   uint8_t count)
{
	uint32_t total = 0;

	for (uint8_t i = 0; i < count && i < GSP_APP_KEYS_MAX; i++) {
		size_t vlen = strnlen(app[i].value, GSP_APP_VALUE_MAX);

		total += (uint32_t)(strnlen(app[i].key, GSP_APP_KEY_MAX) + vlen);
		if (strncmp(app[i].key, GSP_APP_RESERVED_PREFIX,
			    sizeof(GSP_APP_RESERVED_PREFIX) - 1) != 0 &&
		    vlen > n->p.app_value_max)
			return GSP_LIMIT_K_APP_VALUE;
	}
	return total > n->p.app_bytes_max ? GSP_LIMIT_K_APP_BYTES : -1;
}

/*
 * [limits] on a decoded datagram, before any of it is applied, so that a
 * refused one changes nothing. Probes cost a token of their source's
 * probe bucket; other datagrams only when their sender is unknown (a
 * join); known members' gossip is never rate-limited.
 */
int
gsp_rx_limits(struct gsp_node *n, const struct gsp_addr *src,
	      const struct gsp_wire_msg *m, uint64_t now_ns)
{
	uint64_t sender = m->hdr.sender_id;

	/* a SUM costs its receiver work and answers as a probe does */
	if (m->hdr.type == GSP_MSG_PING || m->hdr.type == GSP_MSG_PING_REQ ||
	    m->hdr.type == GSP_MSG_SUM) {
		if (!gsp_rate_take(n->rates, src->ip, GSP_LIMIT_PROBE, 0,
				   now_ns)) {
			gsp_limit_hit(n, GSP_LIMIT_K_PROBE_RATE,
				      n->p.probe_rate, src, sender, 0, now_ns);
			return GSP_RX_RATE_LIMITED;
		}
	} else if (gsp_table_find(n->table, sender) < 0 &&
		   !gsp_rate_take(n->rates, src->ip, GSP_LIMIT_JOIN, sender,
				  now_ns)) {
		gsp_limit_hit(n, GSP_LIMIT_K_JOIN_RATE, n->p.join_rate, src,
			      sender, 0, now_ns);
		return GSP_RX_RATE_LIMITED;
	}
	if (!n->app_limited)
		return GSP_RX_OK;
	for (uint32_t i = 0; i < m->n_states; i++) {
		const struct gsp_wire_state *st = &m->states[i];
		int kind = gsp_app_over_limit(n, st->app, st->app_count);

		if (kind < 0)
			continue;
		gsp_limit_hit(n, (unsigned int)kind,
			      kind == GSP_LIMIT_K_APP_VALUE ?
			      n->p.app_value_max : n->p.app_bytes_max, NULL,
			      st->id, st->generation, now_ns);
		return GSP_RX_OVER_LIMIT;
	}
	return GSP_RX_OK;
}

void
gsp_node_limits_read(const struct gsp_node *n, struct gsp_node_limits *out)
{
	*out = (struct gsp_node_limits){
		.app_value_max = n->p.app_value_max,
		.app_bytes_max = n->p.app_bytes_max,
		.join_rate = n->p.join_rate,
		.join_burst = n->p.join_burst,
		.probe_rate = n->p.probe_rate,
		.probe_burst = n->p.probe_burst,
	};
}

bool
gsp_printable_str(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return i < max;
}
