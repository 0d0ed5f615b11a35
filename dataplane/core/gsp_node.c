/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Push-pull gossip node (Scuttlebutt/Cassandra style), see docs/PROTOCOL.md.
 *
 * Every round a node bumps its heartbeat and sends to `fanout` random live
 * peers (now and then also a down member or a seed):
 *  - a SYN digest, (id, generation, version) of each member it knows, for a
 *    window of id ranges: at most syn_packets packets per peer per round.
 *    Small clusters fit in the window whole; larger ones rotate it across
 *    rounds, so the bytes a node sends per round stay bounded at any size;
 *  - a PUSH of its recent changes (joins, restarts, app state, leaves),
 *    each kept "hot" for a number of rounds growing with log N, so news
 *    spreads epidemically in O(log N) rounds whatever the window.
 * The receiver answers with an ACK (states the sender lacks: newer than its
 * digest, or in a listed range but absent; bounded per packet, so a newcomer
 * gets the table in bulk over a few exchanges) plus requests for what it
 * lacks itself, and a PUSH of its own recent changes (the pull half of the
 * epidemic). ACK2 carries the requested states. Higher generation wins,
 * then higher version.
 *
 * Members are grouped in buckets by the top bits of their id, so a digest
 * window (a run of buckets = an id range) and the receiver's scan of that
 * range cost O(window), never O(N).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_core.h"
#include "gsp_index.h"
#include "gsp_phi.h"
#include "gsp_table.h"
#include "gsp_util.h"
#include "gsp_wire.h"

#include "gsp_node_int.h"

static __thread struct gsp_scratch gsp_tls;

/* NULL when memory is short: the caller drops the packet (counted). */
struct gsp_scratch *
gsp_scratch_get(uint32_t send_cap)
{
	struct gsp_scratch *s = &gsp_tls;
	uint32_t max_digests = gsp_wire_max_digests(GSP_RX_MAX);

	if (s->rx_states == NULL) {
		/* once per thread, kept for the thread's life */
		free(s->rx_digests);
		free(s->sorted);
		free(s->requests);
		free(s->rx_claims);
		free(s->rx_plain);
		s->rx_plain = malloc(GSP_RX_ACCEPT_MAX);
		s->rx_claims = calloc(gsp_wire_max_claims(GSP_RX_MAX),
				      sizeof(*s->rx_claims));
		s->rx_digests = calloc(max_digests, sizeof(*s->rx_digests));
		s->sorted = calloc(max_digests, sizeof(*s->sorted));
		s->requests = calloc(max_digests, sizeof(*s->requests));
		if (s->rx_digests != NULL && s->sorted != NULL &&
		    s->requests != NULL && s->rx_claims != NULL &&
		    s->rx_plain != NULL)
			s->rx_states = calloc(gsp_wire_max_states(GSP_RX_MAX),
					      sizeof(*s->rx_states));
		if (s->rx_states == NULL)
			return NULL;
	}
	if (s->send_cap < send_cap) {
		/* only when a thread first serves a larger table */
		uint32_t *p = realloc(s->send_slots, send_cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		s->send_slots = p;
		s->send_cap = send_cap;
	}
	return s;
}

/* Packs entries of one message type into packets to one destination. */
struct gsp_out {
	struct gsp_node *node;
	struct gsp_wire_writer w;
	struct gsp_addr dst;
	uint8_t type;
	bool open;
};

void
gsp_count_tx(struct gsp_node *n, uint8_t type)
{
	switch (type) {
	case GSP_MSG_PING:
		GSP_CTR_INC(n->ctr.tx_ping);
		break;
	case GSP_MSG_PONG:
		GSP_CTR_INC(n->ctr.tx_pong);
		break;
	case GSP_MSG_PING_REQ:
		GSP_CTR_INC(n->ctr.tx_ping_req);
		break;
	case GSP_MSG_NACK:
		GSP_CTR_INC(n->ctr.tx_nack);
		break;
	case GSP_MSG_SYN:
		GSP_CTR_INC(n->ctr.tx_syn);
		break;
	case GSP_MSG_ACK:
		GSP_CTR_INC(n->ctr.tx_ack);
		break;
	case GSP_MSG_ACK2:
		GSP_CTR_INC(n->ctr.tx_ack2);
		break;
	case GSP_MSG_PUSH:
		GSP_CTR_INC(n->ctr.tx_push);
		break;
	default:
		GSP_CTR_INC(n->ctr.tx_leave);
		break;
	}
}

void
gsp_node_send(struct gsp_node *n, const struct gsp_addr *dst, uint16_t len)
{
	if (n->kr == NULL) {
		gsp_io_send(n->p.io_ctx, dst, n->tx, len);
		return;
	}
	/* fits: body_cap leaves room for the seal */
	len = gsp_sec_seal(n->kr, &n->sec_tx, n->tx, len, n->tx_sealed);
	gsp_io_send(n->p.io_ctx, dst, n->tx_sealed, len);
}

static void
gsp_out_init(struct gsp_out *o, struct gsp_node *n, uint8_t type,
	     const struct gsp_addr *dst)
{
	o->node = n;
	o->type = type;
	o->dst = *dst;
	o->open = false;
}

static void
gsp_out_open(struct gsp_out *o)
{
	struct gsp_node *n = o->node;

	gsp_wire_begin(&o->w, n->tx, n->body_cap, o->type,
		       n->cluster_hash, n->id);
	o->open = true;
}

static void
gsp_out_flush(struct gsp_out *o)
{
	uint16_t len;

	if (!o->open || gsp_wire_empty(&o->w))
		return;
	len = gsp_wire_finish(&o->w);
	gsp_node_send(o->node, &o->dst, len);
	gsp_count_tx(o->node, o->type);
	o->open = false;
}

static void
gsp_out_state(struct gsp_out *o, const struct gsp_wire_state *st)
{
	if (!o->open)
		gsp_out_open(o);
	if (gsp_wire_put_state(&o->w, st))
		return;
	gsp_out_flush(o);
	gsp_out_open(o);
	/* fits: max_payload >= GSP_WIRE_MIN_PAYLOAD is checked at creation */
	gsp_wire_put_state(&o->w, st);
}

static void
gsp_out_digest(struct gsp_out *o, const struct gsp_digest *d)
{
	if (!o->open)
		gsp_out_open(o);
	if (gsp_wire_put_digest(&o->w, d))
		return;
	gsp_out_flush(o);
	gsp_out_open(o);
	gsp_wire_put_digest(&o->w, d);
}

/* Names in the arena are NUL-terminated and shorter than GSP_NAME_MAX; a
 * plain copy keeps formatting off the per-member paths. */
void
gsp_copy_name(char dst[GSP_NAME_MAX], const char *src)
{
	size_t len = strnlen(src, GSP_NAME_MAX - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
gsp_emit_event(struct gsp_node *n, uint8_t type, const struct gsp_member_rec *r,
	       uint8_t old_state)
{
	struct gsp_event ev = {
		.type = type,
		.old_state = old_state,
		.new_state = r->state,
		.id = r->id,
		.generation = r->generation,
	};

	gsp_copy_name(ev.name, gsp_table_name(n->table, r));
	gsp_io_event(n->p.io_ctx, &ev);
}

static void
gsp_rec_to_wire(struct gsp_node *n, struct gsp_member_rec *r,
		struct gsp_wire_state *st)
{
	const struct gsp_app_entry *app = gsp_table_app(n->table, r, false);

	st->id = r->id;
	st->generation = r->generation;
	st->heartbeat = r->heartbeat;
	st->version = r->version;
	st->ip = r->ip;
	st->port = r->port;
	st->status = r->state == GSP_STATE_LEFT ? GSP_WIRE_STATUS_LEFT :
		GSP_WIRE_STATUS_NORMAL;
	st->app_count = app != NULL ? r->app_count : 0;
	st->incarnation = r->incarnation;
	gsp_copy_name(st->name, gsp_table_name(n->table, r));
	if (st->app_count != 0)
		memcpy(st->app, app, sizeof(st->app[0]) * st->app_count);
}

static void
gsp_out_slot(struct gsp_out *o, uint32_t slot)
{
	struct gsp_node *n = o->node;

	gsp_rec_to_wire(n, gsp_rec(n, slot), &n->out_state);
	gsp_out_state(o, &n->out_state);
}

/* ---- buckets ---- */

/* Bucket of a digest key (gsp_id_key of a member id). */
static uint32_t
gsp_bucket_of(const struct gsp_node *n, uint64_t key)
{
	return n->bucket_bits == 0 ? 0 : (uint32_t)(key >> (64 - n->bucket_bits));
}

static uint64_t
gsp_bucket_lo(const struct gsp_node *n, uint32_t b)
{
	return n->bucket_bits == 0 ? 0 : (uint64_t)b << (64 - n->bucket_bits);
}

static void
gsp_bucket_add(struct gsp_node *n, uint32_t slot)
{
	uint32_t b = gsp_bucket_of(n, gsp_id_key(gsp_rec(n, slot)->id));

	n->bucket_next[slot] = n->bucket_head[b];
	n->bucket_head[b] = slot;
}

static void
gsp_bucket_del(struct gsp_node *n, uint32_t slot)
{
	uint32_t *link = &n->bucket_head[gsp_bucket_of(n,
			gsp_id_key(gsp_rec(n, slot)->id))];

	/* bounded by the bucket's size (GSP_BUCKET_FILL at capacity) */
	while (*link != GSP_NONE && *link != slot)
		link = &n->bucket_next[*link];
	if (*link == slot)
		*link = n->bucket_next[slot];
}

/* ---- rumors: recent changes, spread for a few rounds ---- */

static uint32_t
gsp_log2_ceil(uint32_t v)
{
	uint32_t b = 0;

	while ((1u << b) < v && b < 31)
		b++;
	return b;
}


void
gsp_rumor_add(struct gsp_node *n, uint32_t slot)
{
	/* long enough for push-pull to reach everyone: log3 N + ln ln N
	 * rounds, with room for loss */
	uint64_t until = n->ctr.rounds + 4 + gsp_log2_ceil(n->table->used + 1);
	struct gsp_rumor *ru;
	uint32_t i;

	if (n->rumor_of[slot] != 0) {
		ru = &n->rumors[n->rumor_of[slot] - 1];
		ru->until_round = until;
		return;
	}
	if (n->rumor_n == GSP_RUMORS_MAX) {
		/* full: the oldest news gives way; anti-entropy still carries it */
		ru = &n->rumors[n->rumor_head];
		if (ru->slot != GSP_NONE && n->rumor_of[ru->slot] ==
		    n->rumor_head + 1)
			n->rumor_of[ru->slot] = 0;
		n->rumor_head = (n->rumor_head + 1) % GSP_RUMORS_MAX;
		n->rumor_n--;
	}
	i = (n->rumor_head + n->rumor_n) % GSP_RUMORS_MAX;
	n->rumors[i] = (struct gsp_rumor){ gsp_rec(n, slot)->id, until, slot };
	n->rumor_of[slot] = (uint16_t)(i + 1);
	n->rumor_n++;
}

static void
gsp_rumor_expire(struct gsp_node *n)
{
	while (n->rumor_n != 0) {
		struct gsp_rumor *ru = &n->rumors[n->rumor_head];

		if (ru->until_round > n->ctr.rounds && ru->slot != GSP_NONE)
			break;
		if (ru->slot != GSP_NONE &&
		    n->rumor_of[ru->slot] == n->rumor_head + 1)
			n->rumor_of[ru->slot] = 0;
		n->rumor_head = (n->rumor_head + 1) % GSP_RUMORS_MAX;
		n->rumor_n--;
	}
	GSP_CTR_SET(n->ctr.rumors, n->rumor_n);
}

/* One PUSH packet of the newest live rumors. */
static void
gsp_rumor_push(struct gsp_node *n, const struct gsp_addr *dst)
{
	struct gsp_wire_writer w;

	if (n->rumor_n == 0)
		return;
	gsp_wire_begin(&w, n->tx, n->body_cap, GSP_MSG_PUSH,
		       n->cluster_hash, n->id);
	for (uint32_t k = n->rumor_n; k-- > 0;) {
		struct gsp_rumor *ru =
			&n->rumors[(n->rumor_head + k) % GSP_RUMORS_MAX];
		struct gsp_member_rec *r;

		if (ru->slot == GSP_NONE || ru->until_round <= n->ctr.rounds)
			continue;
		r = gsp_rec(n, ru->slot);
		if (r->id != ru->id)
			continue;
		gsp_rec_to_wire(n, r, &n->out_state);
		if (!gsp_wire_put_state(&w, &n->out_state))
			break;
	}
	if (gsp_wire_empty(&w))
		return;
	gsp_node_send(n, dst, gsp_wire_finish(&w));
	GSP_CTR_INC(n->ctr.tx_push);
}

/* ---- limits (gsp_limit.h, docs/CONFIG.md "Limits") ---- */

static uint32_t
gsp_u32_sat(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Fills in the [limits] defaults and the rate table; 0 or -errno. */
static int
gsp_limits_init(struct gsp_node *n)
{
	struct gsp_node_params *p = &n->p;
	uint64_t probe_ns = p->probe_interval_ns != 0 ? p->probe_interval_ns :
		GSP_DEFAULT_PROBE_INTERVAL_NS;
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

/* The limit (GSP_LIMIT_K_APP_*) an app state exceeds, or -1. */
static int
gsp_app_over_limit(const struct gsp_node *n, const struct gsp_app_entry *app,
		   uint8_t count)
{
	uint32_t total = 0;

	for (uint8_t i = 0; i < count && i < GSP_APP_KEYS_MAX; i++) {
		size_t vlen = strnlen(app[i].value, GSP_APP_VALUE_MAX);

		if (vlen > n->p.app_value_max)
			return GSP_LIMIT_K_APP_VALUE;
		total += (uint32_t)(strnlen(app[i].key, GSP_APP_KEY_MAX) + vlen);
	}
	return total > n->p.app_bytes_max ? GSP_LIMIT_K_APP_BYTES : -1;
}

/*
 * [limits] on a decoded datagram, before any of it is applied, so that a
 * refused one changes nothing. Probes cost a token of their source's
 * probe bucket; other datagrams only when their sender is unknown (a
 * join); known members' gossip is never rate-limited.
 */
static int
gsp_rx_limits(struct gsp_node *n, const struct gsp_addr *src,
	      const struct gsp_wire_msg *m, uint64_t now_ns)
{
	uint64_t sender = m->hdr.sender_id;

	if (m->hdr.type == GSP_MSG_PING || m->hdr.type == GSP_MSG_PING_REQ) {
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

/* ---- creation ---- */

struct gsp_node *
gsp_node_create(const struct gsp_node_params *p, int *err)
{
	struct gsp_member_rec *r;
	struct gsp_node *n;
	uint32_t n_slots;
	int32_t slot;

	*err = -EINVAL;
	if (p->capacity < 2 || p->gossip_interval_ns == 0 || p->fanout == 0 ||
	    p->fanout > GSP_FANOUT_MAX || p->generation == 0 ||
	    p->max_payload < GSP_WIRE_MIN_PAYLOAD || p->name[0] == '\0' ||
	    p->cluster[0] == '\0' || !(p->phi_suspect > 0) ||
	    !(p->phi_convict > p->phi_suspect))
		return NULL;
	*err = -ENOMEM;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->p = *p;
	n->p.cluster[GSP_CLUSTER_MAX - 1] = '\0';
	n->p.name[GSP_NAME_MAX - 1] = '\0';
	if (n->p.syn_packets == 0)
		n->p.syn_packets = GSP_DEFAULT_SYN_PACKETS;
	if (n->p.ack_states == 0)
		n->p.ack_states = GSP_DEFAULT_ACK_STATES;
	n->id = p->id != 0 ? p->id : gsp_id_from_name(n->p.name);
	n->generation = p->generation;
	if (n->p.max_clock_skew_ns == 0)
		n->p.max_clock_skew_ns = GSP_DEFAULT_CLOCK_SKEW_NS;
	n->explicit_ids = n->id != gsp_id_from_name(n->p.name);
	n->cluster_hash = gsp_cluster_hash(n->p.cluster);
	n->detector = p->detector == 0 ? GSP_DETECT_DEFAULT :
		(p->detector & GSP_DETECT_OFF) ? 0 : p->detector;
	n->rng = p->rng_seed ^ n->id;
	n->lateness = 1.0;
	n->table = gsp_table_create(n->p.name, p->capacity);
	if (n->table == NULL)
		goto fail;
	n_slots = n->table->n_slots;
	n->bucket_bits = gsp_log2_ceil(p->capacity / GSP_BUCKET_FILL + 1);
	n->n_buckets = 1u << n->bucket_bits;
	n->fd = calloc(n_slots, sizeof(*n->fd));
	n->bucket_head = malloc(n->n_buckets * sizeof(*n->bucket_head));
	n->bucket_next = calloc(n_slots, sizeof(*n->bucket_next));
	n->rumor_of = calloc(n_slots, sizeof(*n->rumor_of));
	n->tx = malloc(p->max_payload);
	n->body_cap = p->max_payload;
	if (n->fd == NULL || n->bucket_head == NULL || n->bucket_next == NULL ||
	    n->rumor_of == NULL || n->tx == NULL)
		goto fail;
	if (p->keyring != NULL) {
		*err = -EINVAL;
		if (gsp_keyring_count(p->keyring) == 0 || p->max_payload <
		    GSP_WIRE_MIN_PAYLOAD + GSP_SEC_OVERHEAD)
			goto fail;
		*err = -ENOMEM;
		n->body_cap = p->max_payload - GSP_SEC_OVERHEAD;
		n->kr = gsp_keyring_dup(p->keyring);
		n->tx_sealed = malloc(p->max_payload);
		n->replay = calloc(n_slots, sizeof(*n->replay));
		n->replay_cache = calloc(1, sizeof(*n->replay_cache));
		if (n->kr == NULL || n->tx_sealed == NULL || n->replay == NULL ||
		    n->replay_cache == NULL)
			goto fail;
		gsp_sec_tx_init(&n->sec_tx, p->generation);
	}
	n->p.keyring = NULL;	/* not ours: never kept */
	*err = gsp_limits_init(n);
	if (*err != 0)
		goto fail;
	*err = -ENOMEM;
	memset(n->bucket_head, 0xff, n->n_buckets * sizeof(*n->bucket_head));
	if (gsp_scratch_get(n_slots) == NULL)
		goto fail;

	slot = gsp_table_insert(n->table, n->id);
	if (slot < 0)
		goto fail;
	n->self_slot = (uint32_t)slot;
	n->version = 1;
	r = gsp_rec(n, n->self_slot);	/* still open for writing */
	r->generation = p->generation;
	r->version = n->version;
	r->ip = p->addr.ip;
	r->port = p->addr.port;
	r->state = GSP_STATE_ALIVE;
	n->cnt[GSP_STATE_ALIVE]++;
	gsp_table_set_name(n->table, r, n->p.name);
	gsp_table_write_end(r);
	gsp_bucket_add(n, n->self_slot);
	gsp_rumor_add(n, n->self_slot);	/* our own join is news */
	if (n->detector & GSP_DETECT_SWIM) {
		int rc = gsp_swim_create(n);

		if (rc < 0) {
			*err = rc;
			goto fail;
		}
	}
	*err = 0;
	return n;
fail:
	gsp_node_destroy(n);
	return NULL;
}

void
gsp_node_destroy(struct gsp_node *n)
{
	if (n == NULL)
		return;
	gsp_swim_destroy(n);
	gsp_table_destroy(n->table);
	free(n->fd);
	free(n->bucket_head);
	free(n->bucket_next);
	free(n->rumor_of);
	free(n->tx);
	gsp_keyring_destroy(n->kr);
	free(n->tx_sealed);
	free(n->replay);
	free(n->replay_cache);
	free(n->rates);
	free(n);
}

uint64_t
gsp_node_id(const struct gsp_node *n)
{
	return n->id;
}

uint64_t
gsp_node_generation(const struct gsp_node *n)
{
	return n->generation;
}

/* ---- merging ---- */

static bool
gsp_quarantined(struct gsp_node *n, const struct gsp_wire_state *st,
		uint64_t now_ns)
{
	if (now_ns >= n->q_until)
		return false;
	for (unsigned int i = 0; i < GSP_QUARANTINE_MAX; i++) {
		const struct gsp_quarantine *q = &n->quarantine[i];

		if (q->id == st->id && q->until_ns > now_ns &&
		    gsp_version_cmp(st->generation, st->version,
				    q->generation, q->version) <= 0)
			return true;
	}
	return false;
}

void
gsp_set_state(struct gsp_node *n, struct gsp_member_rec *r, uint8_t state,
	      uint64_t now_ns)
{
	uint8_t old = r->state;

	if (old == state)
		return;
	n->cnt[old & 3]--;
	n->cnt[state & 3]++;
	r->state = state;
	r->state_since_ns = now_ns;
	gsp_emit_event(n, GSP_EV_STATE, r, old);
}

/* Copies a received state; true when more than the heartbeat changed. */
static bool
gsp_copy_state(struct gsp_node *n, struct gsp_member_rec *r,
	       const struct gsp_wire_state *st)
{
	const struct gsp_app_entry *app = gsp_table_app(n->table, r, false);
	bool news = r->ip != st->ip || r->port != st->port ||
		r->app_count != st->app_count ||
		strcmp(gsp_table_name(n->table, r), st->name) != 0;

	for (uint8_t i = 0; !news && i < st->app_count && app != NULL; i++)
		news = app[i].version != st->app[i].version ||
			strcmp(app[i].key, st->app[i].key) != 0;
	if (r->generation != st->generation)
		r->incarnation = st->incarnation;
	else if (st->incarnation > r->incarnation)
		r->incarnation = st->incarnation;
	r->generation = st->generation;
	r->heartbeat = st->heartbeat;
	r->version = st->version;
	r->ip = st->ip;
	r->port = st->port;
	gsp_table_set_name(n->table, r, st->name);
	gsp_table_set_app(n->table, r, st->app, st->app_count);
	return news;
}

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

static void
gsp_fd_init(struct gsp_node *n, uint32_t slot, uint64_t now_ns)
{
	gsp_phi_init(&n->fd[slot], now_ns, gsp_expected_interval(n),
		     n->p.gossip_interval_ns / 2);
}

static void gsp_forget(struct gsp_node *n, uint32_t slot, uint64_t now_ns);

/*
 * A new id with a name we already hold under another id (ids set in the
 * config rather than derived from the name): a down or departed holder
 * gives the name up, a live one is a conflict worth reporting. With
 * derived ids a name is an id, and a restart is just a new generation,
 * so the O(N) scan runs only once explicit ids were seen.
 */
static void
gsp_reclaim_name(struct gsp_node *n, const struct gsp_wire_state *st,
		 uint64_t now_ns)
{
	uint32_t hw = gsp_table_slot_count(n->table);

	if (st->id != gsp_id_from_name(st->name))
		n->explicit_ids = true;
	if (!n->explicit_ids)
		return;
	for (uint32_t slot = 0; slot < hw; slot++) {
		struct gsp_member_rec *r = gsp_rec(n, slot);
		struct gsp_event ev = { .type = GSP_EV_NAME_CONFLICT };

		if (r->id == 0 || r->id == st->id ||
		    strcmp(gsp_table_name(n->table, r), st->name) != 0)
			continue;
		if (slot != n->self_slot && (r->state == GSP_STATE_DOWN ||
					     r->state == GSP_STATE_LEFT)) {
			gsp_forget(n, slot, now_ns);
			continue;
		}
		ev.id = st->id;
		ev.generation = st->generation;
		ev.old_state = r->state;
		ev.new_state = r->state;
		gsp_copy_name(ev.name, st->name);
		gsp_io_event(n->p.io_ctx, &ev);
	}
}

static void
gsp_merge_new(struct gsp_node *n, const struct gsp_wire_state *st,
	      uint64_t now_ns)
{
	struct gsp_member_rec *r;
	int32_t slot;

	if (gsp_quarantined(n, st, now_ns)) {
		GSP_CTR_INC(n->ctr.stale);
		return;
	}
	gsp_reclaim_name(n, st, now_ns);
	slot = gsp_table_insert(n->table, st->id);
	if (slot < 0) {
		GSP_CTR_INC(n->ctr.table_full);
		if (!n->table_full_reported) {
			struct gsp_event ev = { .type = GSP_EV_TABLE_FULL,
				.id = st->id, .generation = st->generation };

			memcpy(ev.name, st->name, sizeof(ev.name));
			gsp_io_event(n->p.io_ctx, &ev);
			n->table_full_reported = true;
		}
		return;
	}
	r = gsp_rec(n, (uint32_t)slot);	/* still open for writing */
	gsp_copy_state(n, r, st);
	r->state = st->status == GSP_WIRE_STATUS_LEFT ? GSP_STATE_LEFT :
		GSP_STATE_ALIVE;
	n->cnt[r->state]++;
	r->last_update_ns = now_ns;
	r->state_since_ns = now_ns;
	gsp_table_write_end(r);
	gsp_fd_init(n, (uint32_t)slot, now_ns);
	if (n->swim != NULL)
		gsp_swim_reset(n, (uint32_t)slot);
	gsp_bucket_add(n, (uint32_t)slot);
	gsp_rumor_add(n, (uint32_t)slot);
	GSP_CTR_INC(n->ctr.merged);
	gsp_emit_event(n, GSP_EV_JOINED, r, r->state);
}

/* Applies one received member state: the core merge rule. */
static void
gsp_merge(struct gsp_node *n, const struct gsp_wire_state *st, uint64_t now_ns)
{
	struct gsp_member_rec *r;
	bool restarted, refuted, hb_advanced, news;
	uint8_t old_state;
	int32_t slot;

	if (st->id == n->id) {
		/* only we write our own state: one a peer holds that we did
		 * not make must not outrank what we say next */
		if (gsp_generation_plausible(n, st->generation, now_ns)) {
			gsp_self_state_seen(n, st, now_ns);
			GSP_CTR_INC(n->ctr.stale);
		} else {
			gsp_implausible(n, "generation", st->id,
					st->generation, now_ns);
		}
		return;
	}
	if (!gsp_state_plausible(n, st, now_ns))
		return;
	slot = gsp_table_find(n->table, st->id);
	if (slot < 0) {
		gsp_merge_new(n, st, now_ns);
		return;
	}
	r = gsp_rec(n, (uint32_t)slot);
	if (gsp_version_cmp(st->generation, st->version, r->generation,
			    r->version) <= 0) {
		GSP_CTR_INC(n->ctr.stale);
		return;
	}
	restarted = st->generation > r->generation;
	refuted = !restarted && st->incarnation > r->incarnation;
	hb_advanced = restarted || st->heartbeat > r->heartbeat;
	old_state = r->state;

	gsp_table_write_begin(r);
	news = gsp_copy_state(n, r, st) || restarted || refuted;
	if (st->status == GSP_WIRE_STATUS_LEFT) {
		news |= old_state != GSP_STATE_LEFT;
		gsp_set_state(n, r, GSP_STATE_LEFT, now_ns);
	} else if (restarted || (refuted && old_state != GSP_STATE_LEFT)) {
		gsp_set_state(n, r, GSP_STATE_ALIVE, now_ns);
	} else if (hb_advanced && old_state != GSP_STATE_LEFT &&
		   n->swim == NULL) {
		/* phi alone: a down node whose heartbeat advances is alive
		 * again. Under SWIM only the member's own incarnation undoes
		 * a suspicion: a newer heartbeat may predate the accusation */
		gsp_set_state(n, r, GSP_STATE_ALIVE, now_ns);
	}
	if (hb_advanced) {
		r->last_update_ns = now_ns;
		r->phi_milli = 0;
	}
	gsp_table_write_end(r);

	if (n->swim != NULL && restarted)
		gsp_swim_reset(n, (uint32_t)slot);
	else if (n->swim != NULL && refuted)
		gsp_swim_refuted(n, (uint32_t)slot, now_ns);
	if (restarted) {
		gsp_fd_init(n, (uint32_t)slot, now_ns);
		gsp_emit_event(n, GSP_EV_RESTARTED, r, old_state);
	} else if (hb_advanced) {
		gsp_phi_heartbeat(&n->fd[slot], now_ns);
	}
	if (news)
		gsp_rumor_add(n, (uint32_t)slot);
	GSP_CTR_INC(n->ctr.merged);
}

/* ---- receiving ---- */

/*
 * Digests by id, in place: heapsort, because glibc's qsort allocates a
 * merge buffer for arrays over 1 KiB (43 digests), once per packet.
 */
static void
gsp_digest_sift(struct gsp_digest *d, uint32_t i, uint32_t n)
{
	struct gsp_digest v = d[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && d[c + 1].id > d[c].id)
			c++;
		if (d[c].id <= v.id)
			break;
		d[i] = d[c];
		i = c;
	}
	d[i] = v;
}

static void
gsp_digest_sort(struct gsp_digest *d, uint32_t n)
{
	for (uint32_t i = n / 2; i-- > 0;)
		gsp_digest_sift(d, i, n);
	for (uint32_t end = n; end-- > 1;) {
		struct gsp_digest t = d[0];

		d[0] = d[end];
		d[end] = t;
		gsp_digest_sift(d, 0, end);
	}
}

static bool
gsp_digest_has(const struct gsp_digest *d, uint32_t n, uint64_t id)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (d[mid].id == id)
			return true;
		if (d[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void
gsp_handle_syn(struct gsp_node *n, const struct gsp_addr *src,
	       const struct gsp_wire_msg *m, struct gsp_scratch *s)
{
	uint32_t n_send = 0, n_req = 0, b_lo, b_hi, max = n->p.ack_states;
	struct gsp_out o;

	for (uint32_t i = 0; i < m->n_digests; i++) {
		const struct gsp_digest *d = &m->digests[i];
		int32_t slot = gsp_table_find(n->table, d->id);
		const struct gsp_member_rec *r;
		int c;

		if (slot < 0) {
			s->requests[n_req++] = (struct gsp_digest){ d->id, 0, 0 };
			continue;
		}
		r = gsp_rec(n, (uint32_t)slot);
		c = gsp_version_cmp(r->generation, r->version, d->generation,
				    d->version);
		/* ids may repeat in a hostile digest: bound by both */
		if (c > 0 && n_send < max && n_send < s->send_cap)
			s->send_slots[n_send++] = (uint32_t)slot;
		else if (c < 0)
			s->requests[n_req++] = (struct gsp_digest){
				d->id, r->generation, r->version };
	}
	/* members in the listed range that the sender did not list: walk
	 * our buckets of that range (bounded by the answer budget) */
	memcpy(s->sorted, m->digests, m->n_digests * sizeof(*s->sorted));
	gsp_digest_sort(s->sorted, m->n_digests);
	b_lo = gsp_bucket_of(n, m->range_lo);
	b_hi = gsp_bucket_of(n, m->range_hi);
	if (max > s->send_cap)
		max = s->send_cap;
	for (uint32_t b = b_lo; b <= b_hi && n_send < max; b++) {
		for (uint32_t slot = n->bucket_head[b];
		     slot != GSP_NONE && n_send < max;
		     slot = n->bucket_next[slot]) {
			uint64_t id = gsp_rec(n, slot)->id;
			uint64_t key = gsp_id_key(id);

			if (key >= m->range_lo && key <= m->range_hi &&
			    !gsp_digest_has(s->sorted, m->n_digests, id))
				s->send_slots[n_send++] = slot;
		}
	}
	if (n_send != 0 || n_req != 0) {
		gsp_out_init(&o, n, GSP_MSG_ACK, src);
		for (uint32_t i = 0; i < n_send; i++)
			gsp_out_slot(&o, s->send_slots[i]);
		for (uint32_t i = 0; i < n_req; i++)
			gsp_out_digest(&o, &s->requests[i]);
		gsp_out_flush(&o);
	}
	/* the pull half of the epidemic: the first packet of a window
	 * carries our news back */
	if (m->hdr.flags & GSP_SYN_FLAG_FIRST)
		gsp_rumor_push(n, src);
}

static void
gsp_handle_ack(struct gsp_node *n, const struct gsp_addr *src,
	       const struct gsp_wire_msg *m, uint64_t now_ns)
{
	struct gsp_out o;

	uint32_t sent = 0;

	for (uint32_t i = 0; i < m->n_states; i++)
		gsp_merge(n, &m->states[i], now_ns);
	/* answer each requested member once, and no more than a SYN packet
	 * is answered with: a forged ACK must not make us an amplifier */
	gsp_digest_sort(m->digests, m->n_digests);
	gsp_out_init(&o, n, GSP_MSG_ACK2, src);
	for (uint32_t i = 0; i < m->n_digests && sent < n->p.ack_states; i++) {
		const struct gsp_digest *d = &m->digests[i];
		int32_t slot = gsp_table_find(n->table, d->id);
		const struct gsp_member_rec *r;

		if (slot < 0 || (i > 0 && d->id == m->digests[i - 1].id))
			continue;
		r = gsp_rec(n, (uint32_t)slot);
		if (gsp_version_cmp(r->generation, r->version, d->generation,
				    d->version) > 0) {
			gsp_out_slot(&o, (uint32_t)slot);
			sent++;
		}
	}
	gsp_out_flush(&o);
}

static int gsp_node_rx_msg(struct gsp_node *n, const struct gsp_addr *src,
			   const uint8_t *payload, uint16_t len,
			   uint64_t now_ns, struct gsp_scratch *s);

/*
 * The replay window of a sender: its table slot's, or the cache's for a
 * sender not in the table. A sender that joined the table takes its
 * window along, so what it sent before it joined stays refused.
 */
static struct gsp_replay *
gsp_replay_for(struct gsp_node *n, uint64_t sender_id, uint64_t now_ns)
{
	int32_t slot = gsp_table_find(n->table, sender_id);
	struct gsp_replay *r, *c;

	if (slot < 0)
		return gsp_replay_cache_get(n->replay_cache, sender_id, now_ns);
	r = &n->replay[slot];
	if (r->sender_id != sender_id) {
		c = gsp_replay_cache_find(n->replay_cache, sender_id, now_ns);
		if (c != NULL) {
			*r = *c;
			memset(c, 0, sizeof(*c));
		}
	}
	return r;
}

/* A forgotten member's window outlives its slot: its captured datagrams
 * must stay refused once it is out of the table. */
static void
gsp_replay_keep(struct gsp_node *n, uint32_t slot, uint64_t now_ns)
{
	struct gsp_replay *r = &n->replay[slot];

	if (n->replay_cache == NULL || r->sender_id == 0 ||
	    r->sender_id != gsp_rec(n, slot)->id)
		return;
	*gsp_replay_cache_get(n->replay_cache, r->sender_id, now_ns) = *r;
	memset(r, 0, sizeof(*r));
}

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

int
gsp_node_set_keyring(struct gsp_node *n, const struct gsp_keyring *kr)
{
	struct gsp_keyring *c;

	if (kr == NULL || n->kr == NULL || gsp_keyring_count(kr) == 0 ||
	    gsp_keyring_cipher(kr) != gsp_keyring_cipher(n->kr))
		return -EINVAL;
	c = gsp_keyring_dup(kr);
	if (c == NULL)
		return -ENOMEM;
	gsp_keyring_destroy(n->kr);
	n->kr = c;
	return 0;
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
		gsp_handle_ack(n, src, &m, now_ns);
		break;
	case GSP_MSG_ACK2:
	case GSP_MSG_PUSH:
		if (m.hdr.type == GSP_MSG_ACK2)
			GSP_CTR_INC(n->ctr.rx_ack2);
		else
			GSP_CTR_INC(n->ctr.rx_push);
		for (uint32_t i = 0; i < m.n_states; i++)
			gsp_merge(n, &m.states[i], now_ns);
		break;
	case GSP_MSG_LEAVE:
		GSP_CTR_INC(n->ctr.rx_leave);
		gsp_merge(n, &m.states[0], now_ns);
		break;
	default:
		/* probes: answered only when SWIM is on here */
		if (n->swim != NULL)
			gsp_swim_rx(n, src, &m, now_ns);
		break;
	}
	if (n->swim != NULL && (m.hdr.type == GSP_MSG_PING ||
	    m.hdr.type == GSP_MSG_PING_REQ ||
	    (m.hdr.type == GSP_MSG_SYN && (m.hdr.flags & GSP_SYN_FLAG_FIRST))))
		gsp_swim_heard_from(n, m.hdr.sender_id, src, now_ns);
	return GSP_RX_OK;
}

/* ---- sending digests ---- */

static void
gsp_syn_add_slot(struct gsp_node *n, struct gsp_wire_writer *w, uint32_t slot)
{
	const struct gsp_member_rec *r = gsp_rec(n, slot);
	struct gsp_digest d = { r->id, r->generation, r->version };

	gsp_wire_put_digest(w, &d);
}

static uint32_t
gsp_bucket_size(const struct gsp_node *n, uint32_t b)
{
	uint32_t c = 0;

	for (uint32_t s = n->bucket_head[b]; s != GSP_NONE; s = n->bucket_next[s])
		c++;
	return c;
}

/*
 * Sends a window of at most syn_packets digest packets starting at bucket
 * `first`; returns the bucket where the next window starts. Each packet
 * covers whole buckets, i.e. an id range, and lists every member we know
 * in it. A bucket too big for one packet (only with hostile ids) is sent
 * alone, truncated: its range still ends at the bucket's end.
 */
static uint32_t
gsp_send_window(struct gsp_node *n, const struct gsp_addr *dst, uint32_t first)
{
	uint32_t per = (n->body_cap - GSP_WIRE_HDR_LEN -
			GSP_WIRE_SYN_PREFIX) / GSP_WIRE_DIGEST_LEN;
	uint32_t b = first, covered = 0;

	for (uint32_t pkt = 0; pkt < n->p.syn_packets &&
	     covered < n->n_buckets; pkt++) {
		struct gsp_wire_writer w;
		uint32_t count = 0;
		uint64_t lo = gsp_bucket_lo(n, b), hi;

		gsp_wire_begin(&w, n->tx, n->body_cap, GSP_MSG_SYN,
			       n->cluster_hash, n->id);
		if (pkt == 0)
			gsp_put_le16(n->tx + GSP_HDR_OFF_FLAGS,
				     GSP_SYN_FLAG_FIRST);
		/* whole buckets, and never across the end of the id space,
		 * so the packet's range stays one interval */
		do {
			uint32_t size = gsp_bucket_size(n, b);

			if (count != 0 && count + size > per)
				break;
			for (uint32_t s = n->bucket_head[b];
			     s != GSP_NONE && count < per; s = n->bucket_next[s]) {
				gsp_syn_add_slot(n, &w, s);
				count++;
			}
			b = (b + 1) & (n->n_buckets - 1);
			covered++;
		} while (b != 0 && covered < n->n_buckets);
		hi = b == 0 ? UINT64_MAX : gsp_bucket_lo(n, b) - 1;
		gsp_wire_set_range(&w, lo, hi);
		gsp_node_send(n, dst, gsp_wire_finish(&w));
		GSP_CTR_INC(n->ctr.tx_syn);
	}
	return b;
}

static bool
gsp_addr_eq(const struct gsp_addr *a, const struct gsp_addr *b)
{
	return a->ip == b->ip && a->port == b->port;
}

/* Peers chosen for a round. */
struct gsp_scan {
	uint32_t live[GSP_LEAVE_FANOUT];
	uint32_t n_picked;	/* entries of live[] */
	uint32_t n_live;	/* live members known */
	uint32_t down;		/* one random down member */
	uint32_t n_down;	/* down members known (0: none picked) */
};

static void
gsp_scan_pick(struct gsp_node *n, uint32_t *pick, uint32_t seen, uint32_t k,
	      uint32_t slot)
{
	if (seen <= k) {
		pick[seen - 1] = slot;
	} else {
		uint32_t r = gsp_rand_below(&n->rng, seen);

		if (r < k)
			pick[r] = slot;
	}
}

static void
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
static void
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

void
gsp_update_counts(struct gsp_node *n)
{
	GSP_CTR_SET(n->ctr.members, n->table->used);
	GSP_CTR_SET(n->ctr.alive, n->cnt[GSP_STATE_ALIVE]);
	GSP_CTR_SET(n->ctr.suspect, n->cnt[GSP_STATE_SUSPECT]);
	GSP_CTR_SET(n->ctr.down, n->cnt[GSP_STATE_DOWN]);
	GSP_CTR_SET(n->ctr.left, n->cnt[GSP_STATE_LEFT]);
}

bool
gsp_live_state(uint8_t state)
{
	return state == GSP_STATE_ALIVE || state == GSP_STATE_SUSPECT;
}

void
gsp_publish_self(struct gsp_node *n)
{
	struct gsp_member_rec *r = gsp_rec(n, n->self_slot);

	n->version++;
	gsp_table_write_begin(r);
	r->version = n->version;
	r->incarnation = n->incarnation;
	gsp_table_write_end(r);
	gsp_rumor_add(n, n->self_slot);
}

static bool
gsp_pick_ok(struct gsp_node *n, uint32_t slot, bool down,
	    const uint32_t *picked, uint32_t n_picked)
{
	const struct gsp_member_rec *r = gsp_rec(n, slot);

	if (r->id == 0 || slot == n->self_slot)
		return false;
	if (down ? r->state != GSP_STATE_DOWN :
	    r->state != GSP_STATE_ALIVE && r->state != GSP_STATE_SUSPECT)
		return false;
	for (uint32_t i = 0; i < n_picked; i++)
		if (picked[i] == slot)
			return false;
	return true;
}

/*
 * Up to k random live peers and one random down member: reservoir
 * sampling over a small table, random probes into a large one (where live
 * members are most slots, so a few probes suffice).
 */
static void
gsp_pick_peers(struct gsp_node *n, uint32_t k, struct gsp_scan *s)
{
	uint32_t hw = gsp_table_slot_count(n->table);
	uint32_t self_live = n->leaving ? 0 : 1;

	memset(s, 0, sizeof(*s));
	s->n_live = n->cnt[GSP_STATE_ALIVE] + n->cnt[GSP_STATE_SUSPECT] -
		self_live;
	s->n_down = n->cnt[GSP_STATE_DOWN];
	if (hw <= GSP_SWEEP_MIN) {
		uint32_t seen_live = 0, seen_down = 0;

		for (uint32_t slot = 0; slot < hw; slot++) {
			if (gsp_pick_ok(n, slot, false, NULL, 0))
				gsp_scan_pick(n, s->live, ++seen_live, k, slot);
			else if (gsp_pick_ok(n, slot, true, NULL, 0))
				gsp_scan_pick(n, &s->down, ++seen_down, 1, slot);
		}
		s->n_picked = seen_live < k ? seen_live : k;
		if (seen_down == 0)
			s->n_down = 0;
		return;
	}
	for (uint32_t t = 0; t < GSP_PICK_TRIES && s->n_picked < k &&
	     s->n_picked < s->n_live; t++) {
		uint32_t slot = gsp_rand_below(&n->rng, hw);

		if (gsp_pick_ok(n, slot, false, s->live, s->n_picked))
			s->live[s->n_picked++] = slot;
	}
	s->down = GSP_NONE;
	for (uint32_t t = 0; s->n_down != 0 && t < GSP_PICK_TRIES; t++) {
		uint32_t slot = gsp_rand_below(&n->rng, hw);

		if (gsp_pick_ok(n, slot, true, NULL, 0)) {
			s->down = slot;
			break;
		}
	}
	if (s->down == GSP_NONE)
		s->n_down = 0;
}

static struct gsp_addr
gsp_slot_addr(struct gsp_node *n, uint32_t slot)
{
	const struct gsp_member_rec *r = gsp_rec(n, slot);

	return (struct gsp_addr){ r->ip, r->port };
}

/* A SYN window and our news to one peer; returns the next window start. */
static uint32_t
gsp_gossip_to(struct gsp_node *n, const struct gsp_addr *dst, uint32_t window)
{
	window = gsp_send_window(n, dst, window);
	gsp_rumor_push(n, dst);
	return window;
}

static void
gsp_gossip_round(struct gsp_node *n, uint64_t now_ns)
{
	uint32_t k = n->p.fanout, chosen, window = n->syn_cursor;
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	unsigned int n_seeds = 0;
	bool seed_chosen = false;
	struct gsp_scan s;

	gsp_fd_sweep(n, now_ns);
	gsp_pick_peers(n, k, &s);
	gsp_rumor_expire(n);
	chosen = s.n_picked;

	for (unsigned int i = 0; i < n->n_seeds; i++)
		if (!gsp_addr_eq(&n->seeds[i], &n->p.addr))
			seeds[n_seeds++] = n->seeds[i];

	/* each peer gets the next window, so a round covers fanout windows */
	for (uint32_t i = 0; i < chosen; i++) {
		struct gsp_addr a = gsp_slot_addr(n, s.live[i]);

		for (unsigned int j = 0; j < n_seeds; j++)
			seed_chosen |= gsp_addr_eq(&a, &seeds[j]);
		window = gsp_gossip_to(n, &a, window);
	}
	/* gossip to the dead now and then, so a healed node is found */
	if (s.n_down > 0 &&
	    gsp_rand_below(&n->rng, s.n_live + s.n_down + 1) < s.n_down) {
		struct gsp_addr a = gsp_slot_addr(n, s.down);

		window = gsp_gossip_to(n, &a, window);
	}
	if (n_seeds != 0 && s.n_live == 0) {
		/* alone: knock on a few seeds until one answers */
		for (unsigned int j = 0; j < GSP_ALONE_SEEDS && j < n_seeds; j++) {
			uint32_t pick = gsp_rand_below(&n->rng, n_seeds - j) + j;
			struct gsp_addr t = seeds[pick];

			seeds[pick] = seeds[j];
			seeds[j] = t;
			window = gsp_gossip_to(n, &seeds[j], window);
			GSP_CTR_INC(n->ctr.seed_contacts);
		}
	} else if (n_seeds != 0 && !seed_chosen &&
		   gsp_rand_below(&n->rng, s.n_live + s.n_down) < n_seeds) {
		window = gsp_gossip_to(n, &seeds[gsp_rand_below(&n->rng,
							      n_seeds)], window);
		GSP_CTR_INC(n->ctr.seed_contacts);
	}
	n->syn_cursor = window;
}

static void
gsp_round_tick(struct gsp_node *n, uint64_t now_ns)
{
	uint64_t interval = n->p.gossip_interval_ns;
	/* We were stalled (descheduled, stopped): the silence of our peers
	 * during our own pause is no evidence against them. */
	if (n->started && now_ns - n->last_round_ns > 5 * interval) {
		uint64_t stall = now_ns - n->last_round_ns - interval;
		uint32_t hw = gsp_table_slot_count(n->table);

		for (uint32_t slot = 0; slot < hw; slot++)
			if (gsp_rec(n, slot)->id != 0)
				gsp_phi_shift(&n->fd[slot], stall);
	}
	if (n->started) {
		double late = (double)(now_ns - n->last_round_ns) / interval;

		late = late < 1.0 ? 1.0 : late > 5.0 ? 5.0 : late;
		n->lateness = 0.75 * n->lateness + 0.25 * late;
	}
	n->started = true;
	n->last_round_ns = now_ns;
	n->next_round_ns += interval;
	if (n->next_round_ns <= now_ns)
		n->next_round_ns = now_ns + interval;

	GSP_CTR_INC(n->ctr.rounds);
	/* Heartbeats feed phi. With SWIM alone there is nothing to feed, and
	 * a state that does not change every round is not re-sent by every
	 * window exchange: steady-state gossip shrinks to digests. */
	if (!n->leaving && (n->swim == NULL || (n->detector & GSP_DETECT_PHI))) {
		struct gsp_member_rec *r = gsp_rec(n, n->self_slot);

		n->version++;
		n->heartbeat++;
		gsp_table_write_begin(r);
		r->heartbeat = n->heartbeat;
		r->version = n->version;
		r->last_update_ns = now_ns;
		gsp_table_write_end(r);
	}
	gsp_gossip_round(n, now_ns);
	if (n->leaving && n->leave_rounds_left > 0 &&
	    --n->leave_rounds_left == 0)
		n->leave_done = true;
}

uint64_t
gsp_node_tick(struct gsp_node *n, uint64_t now_ns)
{
	uint64_t next;

	if (!n->started)
		gsp_generation_clock_start(n, now_ns);
	if (!n->started || now_ns >= n->next_round_ns)
		gsp_round_tick(n, now_ns);
	next = n->next_round_ns;
	if (n->swim != NULL) {
		uint64_t t = gsp_swim_tick(n, now_ns);

		if (t < next)
			next = t;
	}
	return next;
}

/* ---- local changes ---- */

static bool
gsp_printable_str(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return i < max;
}

/* Our app state with key set to value would exceed a [limits] bound:
 * checked as peers will check it, so that they never drop our state. */
static bool
gsp_set_over_limit(const struct gsp_node *n, const struct gsp_app_entry *app,
		   uint8_t count, const struct gsp_app_entry *replaced,
		   const char *key, const char *value)
{
	struct gsp_app_entry next[GSP_APP_KEYS_MAX];
	uint8_t i = 0;

	for (uint8_t k = 0; k < count && i < GSP_APP_KEYS_MAX; k++)
		if (&app[k] != replaced)
			next[i++] = app[k];
	if (i < GSP_APP_KEYS_MAX) {
		snprintf(next[i].key, sizeof(next[i].key), "%s", key);
		snprintf(next[i].value, sizeof(next[i].value), "%s", value);
		i++;
	}
	return gsp_app_over_limit(n, next, i) >= 0;
}

int
gsp_node_set_app(struct gsp_node *n, const char *key, const char *value)
{
	struct gsp_member_rec *r = gsp_rec(n, n->self_slot);
	size_t klen = strnlen(key, GSP_APP_KEY_MAX);
	struct gsp_app_entry *app, *a = NULL;

	if (klen == 0 || klen >= GSP_APP_KEY_MAX ||
	    !gsp_printable_str(value, GSP_APP_VALUE_MAX))
		return -EINVAL;
	for (size_t i = 0; i < klen; i++)
		if (!gsp_name_char_ok(key[i]))
			return -EINVAL;
	app = gsp_table_app(n->table, r, true);
	for (uint8_t i = 0; i < r->app_count; i++)
		if (strcmp(app[i].key, key) == 0)
			a = &app[i];
	if (a == NULL && r->app_count >= GSP_APP_KEYS_MAX)
		return -ENOSPC;
	if (gsp_set_over_limit(n, app, r->app_count, a, key, value)) {
		GSP_CTR_INC(n->ctr.limit_hits);
		return -E2BIG;
	}

	n->version++;
	gsp_table_write_begin(r);
	if (a == NULL) {
		a = &app[r->app_count++];
		memcpy(a->key, key, klen + 1);
	}
	snprintf(a->value, sizeof(a->value), "%s", value);
	a->version = n->version;
	r->version = n->version;
	gsp_table_write_end(r);
	gsp_rumor_add(n, n->self_slot);
	return 0;
}

void
gsp_node_leave(struct gsp_node *n, uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_rec(n, n->self_slot);
	struct gsp_wire_state st;
	struct gsp_scan s;
	uint32_t k;

	if (n->leaving)
		return;
	n->leaving = true;
	n->leave_rounds_left = n->p.leave_rounds > 0 ? n->p.leave_rounds : 1;
	n->version++;
	gsp_table_write_begin(r);
	r->version = n->version;
	gsp_set_state(n, r, GSP_STATE_LEFT, now_ns);
	gsp_table_write_end(r);
	gsp_rumor_add(n, n->self_slot);

	gsp_pick_peers(n, GSP_LEAVE_FANOUT, &s);
	k = s.n_picked;
	gsp_rec_to_wire(n, r, &st);
	for (uint32_t i = 0; i < k; i++) {
		struct gsp_addr a = gsp_slot_addr(n, s.live[i]);
		struct gsp_out o;

		gsp_out_init(&o, n, GSP_MSG_LEAVE, &a);
		gsp_out_state(&o, &st);
		gsp_out_flush(&o);
	}
}

bool
gsp_node_leave_done(const struct gsp_node *n)
{
	return n->leave_done;
}

void
gsp_node_set_seeds(struct gsp_node *n, const struct gsp_addr *seeds,
		   unsigned int count)
{
	if (count > GSP_SEEDS_MAX)
		count = GSP_SEEDS_MAX;
	memcpy(n->seeds, seeds, count * sizeof(*seeds));
	n->n_seeds = count;
}

uint32_t
gsp_node_slot_count(const struct gsp_node *n)
{
	return gsp_table_slot_count(n->table);
}

bool
gsp_node_member_read(const struct gsp_node *n, uint32_t slot,
		     struct gsp_member_view *out)
{
	return gsp_table_read(n->table, slot, out);
}

void
gsp_node_counters_read(const struct gsp_node *n, struct gsp_node_counters *out)
{
	const uint64_t *src = (const uint64_t *)&n->ctr;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

size_t
gsp_node_bytes_per_member(bool authenticated)
{
	/* record + name slot + index entry, detector, bucket link, rumor
	 * mark; app state adds GSP_APP_KEYS_MAX entries for members that
	 * publish some */
	return gsp_table_bytes_per_member() + sizeof(struct gsp_phi) +
		sizeof(uint32_t) + sizeof(uint16_t) +
		(authenticated ? sizeof(struct gsp_replay) : 0);
}

static const struct {
	const char *name;
	uint32_t bit;
} gsp_detectors[] = {
	{ "phi", GSP_DETECT_PHI },
	{ "swim", GSP_DETECT_SWIM },
	{ "indirect", GSP_DETECT_INDIRECT },
	{ "lifeguard", GSP_DETECT_LIFEGUARD },
	{ "all", GSP_DETECT_DEFAULT },
};
#define GSP_DETECTORS_N (sizeof(gsp_detectors) / sizeof(gsp_detectors[0]))

uint32_t
gsp_detector_bit(const char *name, size_t len)
{
	for (size_t i = 0; i < GSP_DETECTORS_N; i++)
		if (strlen(gsp_detectors[i].name) == len &&
		    strncmp(name, gsp_detectors[i].name, len) == 0)
			return gsp_detectors[i].bit;
	return 0;
}

void
gsp_detector_format(uint32_t bits, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (bits & GSP_DETECT_OFF) {
		snprintf(buf, len, "off");
		return;
	}
	/* the single mechanisms only, not "all" */
	for (size_t i = 0; i + 1 < GSP_DETECTORS_N; i++) {
		int n;

		if (!(bits & gsp_detectors[i].bit))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
			     gsp_detectors[i].name);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}
