/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Push-pull gossip node (Scuttlebutt/Cassandra style), see docs/PROTOCOL.md.
 *
 * Every round a node bumps its heartbeat and sends a SYN digest of every
 * member it knows, (id, generation, version) sorted by id and split into
 * id ranges that each fit one packet, to `fanout` random live peers, now
 * and then to a down member or a seed. The receiver answers with an ACK:
 * the states the sender lacks (newer than its digest, or in the digest's
 * range but absent from it) and requests for what it lacks itself; ACK2
 * carries the requested states. Higher generation wins, then higher version.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_core.h"
#include "gsp_index.h"
#include "gsp_phi.h"
#include "gsp_table.h"
#include "gsp_util.h"
#include "gsp_wire.h"

#define GSP_QUARANTINE_MAX 1024
#define GSP_LEAVE_FANOUT 16
#define GSP_FANOUT_MAX 16
#define GSP_RX_MAX 65535	/* largest UDP payload a peer can send */

/* Recently forgotten members: their old state must not come back to life
 * through a peer that has not forgotten them yet. */
struct gsp_quarantine {
	uint64_t id;
	uint64_t generation;
	uint64_t version;
	uint64_t until_ns;
};

struct gsp_node {
	struct gsp_node_params p;
	uint32_t cluster_hash;
	uint64_t id;
	struct gsp_table *table;
	uint32_t self_slot;
	struct gsp_phi *fd;		/* per slot; protocol thread only */
	uint64_t version;		/* own highest version */
	uint64_t heartbeat;		/* own heartbeat, +1 per round */
	uint64_t next_round_ns;
	uint64_t last_round_ns;
	bool started;
	bool leaving;
	bool leave_done;
	uint32_t leave_rounds_left;
	bool table_full_reported;
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	unsigned int n_seeds;
	uint64_t rng;
	struct gsp_node_counters ctr;
	struct gsp_quarantine quarantine[GSP_QUARANTINE_MAX];
	unsigned int q_next;

	/* scratch, sized at creation so nothing is allocated per packet */
	uint8_t *tx;
	struct gsp_digest *rx_digests;
	struct gsp_wire_state *rx_states;
	struct gsp_digest *digests;	/* all members, for SYN */
	struct gsp_digest *requests;
	uint32_t *send_slots;
	struct gsp_wire_state out_state;
};

/* Packs entries of one message type into packets to one destination. */
struct gsp_out {
	struct gsp_node *node;
	struct gsp_wire_writer w;
	struct gsp_addr dst;
	uint8_t type;
	bool open;
};

static void
gsp_count_tx(struct gsp_node *n, uint8_t type)
{
	switch (type) {
	case GSP_MSG_SYN:
		GSP_CTR_INC(n->ctr.tx_syn);
		break;
	case GSP_MSG_ACK:
		GSP_CTR_INC(n->ctr.tx_ack);
		break;
	case GSP_MSG_ACK2:
		GSP_CTR_INC(n->ctr.tx_ack2);
		break;
	default:
		GSP_CTR_INC(n->ctr.tx_leave);
		break;
	}
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

	gsp_wire_begin(&o->w, n->tx, n->p.max_payload, o->type,
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
	gsp_io_send(o->node->p.io_ctx, &o->dst, o->node->tx, len);
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

static void
gsp_emit_event(struct gsp_node *n, uint8_t type, const struct gsp_member_view *v,
	       uint8_t old_state)
{
	struct gsp_event ev = {
		.type = type,
		.old_state = old_state,
		.new_state = v->state,
		.id = v->id,
		.generation = v->generation,
	};

	memcpy(ev.name, v->name, sizeof(ev.name));
	gsp_io_event(n->p.io_ctx, &ev);
}

static void
gsp_view_to_wire(const struct gsp_member_view *v, struct gsp_wire_state *st)
{
	st->id = v->id;
	st->generation = v->generation;
	st->heartbeat = v->heartbeat;
	st->version = v->version;
	st->ip = v->ip;
	st->port = v->port;
	st->status = v->state == GSP_STATE_LEFT ? GSP_WIRE_STATUS_LEFT :
		GSP_WIRE_STATUS_NORMAL;
	st->app_count = v->app_count;
	memcpy(st->name, v->name, sizeof(st->name));
	memcpy(st->app, v->app, sizeof(st->app[0]) * v->app_count);
}

static struct gsp_member_view *
gsp_slot_view(struct gsp_node *n, uint32_t slot)
{
	return &gsp_table_rec(n->table, slot)->v;
}

static void
gsp_out_slot(struct gsp_out *o, uint32_t slot)
{
	struct gsp_node *n = o->node;

	gsp_view_to_wire(gsp_slot_view(n, slot), &n->out_state);
	gsp_out_state(o, &n->out_state);
}

struct gsp_node *
gsp_node_create(const struct gsp_node_params *p, int *err)
{
	struct gsp_node *n;
	struct gsp_member_rec *r;
	uint32_t max_digests = gsp_wire_max_digests(GSP_RX_MAX);
	uint32_t max_states = gsp_wire_max_states(GSP_RX_MAX);
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
	n->id = p->id != 0 ? p->id : gsp_id_from_name(n->p.name);
	n->cluster_hash = gsp_cluster_hash(n->p.cluster);
	n->rng = p->rng_seed ^ n->id;
	n->table = gsp_table_create(n->p.name, p->capacity);
	if (n->table == NULL)
		goto fail;
	n->fd = calloc(n->table->n_slots, sizeof(*n->fd));
	n->tx = malloc(p->max_payload);
	n->rx_digests = calloc(max_digests, sizeof(*n->rx_digests));
	n->rx_states = calloc(max_states, sizeof(*n->rx_states));
	n->digests = calloc(n->table->n_slots, sizeof(*n->digests));
	n->requests = calloc(max_digests, sizeof(*n->requests));
	n->send_slots = calloc(n->table->n_slots, sizeof(*n->send_slots));
	if (n->fd == NULL || n->tx == NULL || n->rx_digests == NULL ||
	    n->rx_states == NULL || n->digests == NULL ||
	    n->requests == NULL || n->send_slots == NULL)
		goto fail;

	slot = gsp_table_insert(n->table, n->id);
	if (slot < 0)
		goto fail;
	n->self_slot = (uint32_t)slot;
	n->version = 1;
	r = gsp_table_rec(n->table, n->self_slot);
	gsp_table_write_begin(r);
	r->v.generation = p->generation;
	r->v.version = n->version;
	r->v.ip = p->addr.ip;
	r->v.port = p->addr.port;
	r->v.state = GSP_STATE_ALIVE;
	memcpy(r->v.name, n->p.name, GSP_NAME_MAX);
	gsp_table_write_end(r);
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
	gsp_table_destroy(n->table);
	free(n->fd);
	free(n->tx);
	free(n->rx_digests);
	free(n->rx_states);
	free(n->digests);
	free(n->requests);
	free(n->send_slots);
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
	return n->p.generation;
}

static bool
gsp_quarantined(struct gsp_node *n, const struct gsp_wire_state *st,
		uint64_t now_ns)
{
	for (unsigned int i = 0; i < GSP_QUARANTINE_MAX; i++) {
		const struct gsp_quarantine *q = &n->quarantine[i];

		if (q->id == st->id && q->until_ns > now_ns &&
		    gsp_version_cmp(st->generation, st->version,
				    q->generation, q->version) <= 0)
			return true;
	}
	return false;
}

static void
gsp_set_state(struct gsp_node *n, struct gsp_member_view *v, uint8_t state,
	      uint64_t now_ns)
{
	uint8_t old = v->state;

	if (old == state)
		return;
	v->state = state;
	v->state_since_ns = now_ns;
	gsp_emit_event(n, GSP_EV_STATE, v, old);
}

static void
gsp_copy_state(struct gsp_member_view *v, const struct gsp_wire_state *st)
{
	v->generation = st->generation;
	v->heartbeat = st->heartbeat;
	v->version = st->version;
	v->ip = st->ip;
	v->port = st->port;
	v->app_count = st->app_count;
	memcpy(v->name, st->name, sizeof(v->name));
	memcpy(v->app, st->app, sizeof(v->app[0]) * st->app_count);
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
	slot = gsp_table_insert(n->table, st->id);
	if (slot < 0) {
		GSP_CTR_INC(n->ctr.table_full);
		if (!n->table_full_reported) {
			struct gsp_member_view v = { .id = st->id };

			memcpy(v.name, st->name, sizeof(v.name));
			gsp_emit_event(n, GSP_EV_TABLE_FULL, &v, 0);
			n->table_full_reported = true;
		}
		return;
	}
	r = gsp_table_rec(n->table, (uint32_t)slot);
	gsp_table_write_begin(r);
	gsp_copy_state(&r->v, st);
	r->v.state = st->status == GSP_WIRE_STATUS_LEFT ? GSP_STATE_LEFT :
		GSP_STATE_ALIVE;
	r->v.last_update_ns = now_ns;
	r->v.state_since_ns = now_ns;
	gsp_table_write_end(r);
	gsp_phi_init(&n->fd[slot], now_ns, n->p.gossip_interval_ns,
		     n->p.gossip_interval_ns / 2);
	GSP_CTR_INC(n->ctr.merged);
	gsp_emit_event(n, GSP_EV_JOINED, &r->v, r->v.state);
}

/* Applies one received member state: the core merge rule. */
static void
gsp_merge(struct gsp_node *n, const struct gsp_wire_state *st, uint64_t now_ns)
{
	struct gsp_member_rec *r;
	bool restarted, hb_advanced;
	uint8_t old_state;
	int32_t slot;

	if (st->id == n->id) {
		/* only we write our own state */
		GSP_CTR_INC(n->ctr.stale);
		return;
	}
	slot = gsp_table_find(n->table, st->id);
	if (slot < 0) {
		gsp_merge_new(n, st, now_ns);
		return;
	}
	r = gsp_table_rec(n->table, (uint32_t)slot);
	if (gsp_version_cmp(st->generation, st->version, r->v.generation,
			    r->v.version) <= 0) {
		GSP_CTR_INC(n->ctr.stale);
		return;
	}
	restarted = st->generation > r->v.generation;
	hb_advanced = restarted || st->heartbeat > r->v.heartbeat;
	old_state = r->v.state;

	gsp_table_write_begin(r);
	gsp_copy_state(&r->v, st);
	if (st->status == GSP_WIRE_STATUS_LEFT) {
		gsp_set_state(n, &r->v, GSP_STATE_LEFT, now_ns);
	} else if (restarted ||
		   (hb_advanced && old_state != GSP_STATE_LEFT)) {
		/* a down node whose heartbeat advances is alive again */
		gsp_set_state(n, &r->v, GSP_STATE_ALIVE, now_ns);
	}
	if (hb_advanced) {
		r->v.last_update_ns = now_ns;
		r->v.phi_milli = 0;
	}
	gsp_table_write_end(r);

	if (restarted) {
		gsp_phi_init(&n->fd[slot], now_ns, n->p.gossip_interval_ns,
			     n->p.gossip_interval_ns / 2);
		gsp_emit_event(n, GSP_EV_RESTARTED, &r->v, old_state);
	} else if (hb_advanced) {
		gsp_phi_heartbeat(&n->fd[slot], now_ns);
	}
	GSP_CTR_INC(n->ctr.merged);
}

static int
gsp_digest_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct gsp_digest *)a)->id;
	uint64_t y = ((const struct gsp_digest *)b)->id;

	return x < y ? -1 : x > y;
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
	       const struct gsp_wire_msg *m)
{
	uint32_t n_send = 0, n_req = 0, hw;
	struct gsp_out o;

	for (uint32_t i = 0; i < m->n_digests; i++) {
		const struct gsp_digest *d = &m->digests[i];
		int32_t slot = gsp_table_find(n->table, d->id);
		const struct gsp_member_view *v;
		int c;

		if (slot < 0) {
			n->requests[n_req++] = (struct gsp_digest){ d->id, 0, 0 };
			continue;
		}
		v = gsp_slot_view(n, (uint32_t)slot);
		c = gsp_version_cmp(v->generation, v->version, d->generation,
				    d->version);
		if (c > 0)
			n->send_slots[n_send++] = (uint32_t)slot;
		else if (c < 0)
			n->requests[n_req++] = (struct gsp_digest){
				d->id, v->generation, v->version };
	}
	/* members in the digest's range the sender did not list */
	hw = gsp_table_slot_count(n->table);
	for (uint32_t slot = 0; slot < hw; slot++) {
		const struct gsp_member_view *v = gsp_slot_view(n, slot);

		if (v->id == 0 || v->id < m->range_lo || v->id > m->range_hi)
			continue;
		if (!gsp_digest_has(m->digests, m->n_digests, v->id) &&
		    n_send < n->table->n_slots)
			n->send_slots[n_send++] = slot;
	}
	if (n_send == 0 && n_req == 0)
		return;
	gsp_out_init(&o, n, GSP_MSG_ACK, src);
	for (uint32_t i = 0; i < n_send; i++)
		gsp_out_slot(&o, n->send_slots[i]);
	for (uint32_t i = 0; i < n_req; i++)
		gsp_out_digest(&o, &n->requests[i]);
	gsp_out_flush(&o);
}

static void
gsp_handle_ack(struct gsp_node *n, const struct gsp_addr *src,
	       const struct gsp_wire_msg *m, uint64_t now_ns)
{
	struct gsp_out o;

	for (uint32_t i = 0; i < m->n_states; i++)
		gsp_merge(n, &m->states[i], now_ns);
	gsp_out_init(&o, n, GSP_MSG_ACK2, src);
	for (uint32_t i = 0; i < m->n_digests; i++) {
		const struct gsp_digest *d = &m->digests[i];
		int32_t slot = gsp_table_find(n->table, d->id);
		const struct gsp_member_view *v;

		if (slot < 0)
			continue;
		v = gsp_slot_view(n, (uint32_t)slot);
		if (gsp_version_cmp(v->generation, v->version, d->generation,
				    d->version) > 0)
			gsp_out_slot(&o, (uint32_t)slot);
	}
	gsp_out_flush(&o);
}

void
gsp_node_rx(struct gsp_node *n, const struct gsp_addr *src,
	    const uint8_t *payload, uint16_t len, uint64_t now_ns)
{
	struct gsp_wire_msg m;
	int rc;

	rc = gsp_wire_decode(payload, len, n->cluster_hash, &m, n->rx_digests,
			     n->rx_states);
	if (rc == GSP_RX_OK && m.hdr.sender_id == n->id)
		rc = GSP_RX_SELF;
	if (rc != GSP_RX_OK) {
		GSP_CTR_INC(n->ctr.rx_drop[rc]);
		return;
	}
	switch (m.hdr.type) {
	case GSP_MSG_SYN:
		GSP_CTR_INC(n->ctr.rx_syn);
		gsp_handle_syn(n, src, &m);
		break;
	case GSP_MSG_ACK:
		GSP_CTR_INC(n->ctr.rx_ack);
		gsp_handle_ack(n, src, &m, now_ns);
		break;
	case GSP_MSG_ACK2:
		GSP_CTR_INC(n->ctr.rx_ack2);
		for (uint32_t i = 0; i < m.n_states; i++)
			gsp_merge(n, &m.states[i], now_ns);
		break;
	case GSP_MSG_LEAVE:
		GSP_CTR_INC(n->ctr.rx_leave);
		gsp_merge(n, &m.states[0], now_ns);
		break;
	}
}

static void
gsp_send_syn(struct gsp_node *n, const struct gsp_addr *dst, uint32_t n_dig)
{
	uint32_t per = (n->p.max_payload - GSP_WIRE_HDR_LEN -
			GSP_WIRE_SYN_PREFIX) / GSP_WIRE_DIGEST_LEN;
	uint64_t lo = 0;
	uint32_t i = 0;

	/* n_dig >= 1: we are always in our own table */
	while (i < n_dig) {
		uint32_t chunk = n_dig - i < per ? n_dig - i : per;
		uint64_t hi = i + chunk == n_dig ? UINT64_MAX :
			n->digests[i + chunk - 1].id;
		struct gsp_wire_writer w;

		gsp_wire_begin(&w, n->tx, n->p.max_payload, GSP_MSG_SYN,
			       n->cluster_hash, n->id);
		gsp_wire_set_range(&w, lo, hi);
		for (uint32_t k = 0; k < chunk; k++)
			gsp_wire_put_digest(&w, &n->digests[i + k]);
		gsp_io_send(n->p.io_ctx, dst, n->tx, gsp_wire_finish(&w));
		GSP_CTR_INC(n->ctr.tx_syn);
		lo = hi + 1;
		i += chunk;
	}
}

static bool
gsp_addr_eq(const struct gsp_addr *a, const struct gsp_addr *b)
{
	return a->ip == b->ip && a->port == b->port;
}

/* Reservoir-samples up to k live peers; returns how many were chosen. */
struct gsp_scan {
	uint32_t live[GSP_LEAVE_FANOUT];
	uint32_t n_live;
	uint32_t down;		/* one random down member */
	uint32_t n_down;
	uint32_t n_digests;
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

/*
 * One pass over the table per round: failure detection, forgetting,
 * counters, the digest and the choice of peers.
 */
static void
gsp_round_scan(struct gsp_node *n, uint64_t now_ns, uint32_t k,
	       struct gsp_scan *s)
{
	uint32_t hw = gsp_table_slot_count(n->table);
	uint64_t cnt[4] = { 0 };

	memset(s, 0, sizeof(*s));
	for (uint32_t slot = 0; slot < hw; slot++) {
		struct gsp_member_rec *r = gsp_table_rec(n->table, slot);
		struct gsp_member_view *v = &r->v;
		double phi;
		uint8_t next;

		if (v->id == 0)
			continue;
		if (slot != n->self_slot &&
		    (v->state == GSP_STATE_DOWN || v->state == GSP_STATE_LEFT) &&
		    now_ns - v->state_since_ns >= n->p.forget_ns) {
			struct gsp_quarantine *q = &n->quarantine[n->q_next];

			*q = (struct gsp_quarantine){ v->id, v->generation,
				v->version, now_ns + n->p.forget_ns };
			n->q_next = (n->q_next + 1) % GSP_QUARANTINE_MAX;
			gsp_emit_event(n, GSP_EV_FORGOTTEN, v, v->state);
			gsp_table_remove(n->table, slot);
			continue;
		}
		n->digests[s->n_digests++] = (struct gsp_digest){
			v->id, v->generation, v->version };
		cnt[v->state & 3]++;
		if (slot == n->self_slot || v->state == GSP_STATE_LEFT)
			continue;

		phi = gsp_phi_value(&n->fd[slot], now_ns);
		next = v->state;
		if (v->state != GSP_STATE_DOWN)
			next = phi >= n->p.phi_convict ? GSP_STATE_DOWN :
				phi >= n->p.phi_suspect ? GSP_STATE_SUSPECT :
				GSP_STATE_ALIVE;
		gsp_table_write_begin(r);
		v->phi_milli = phi * 1000.0 >= (double)UINT32_MAX ?
			UINT32_MAX : (uint32_t)(phi * 1000.0);
		if (next != v->state) {
			cnt[v->state & 3]--;
			cnt[next & 3]++;
			gsp_set_state(n, v, next, now_ns);
		}
		gsp_table_write_end(r);

		if (v->state == GSP_STATE_DOWN) {
			s->n_down++;
			gsp_scan_pick(n, &s->down, s->n_down, 1, slot);
		} else {
			s->n_live++;
			gsp_scan_pick(n, s->live, s->n_live, k, slot);
		}
	}
	GSP_CTR_SET(n->ctr.members, n->table->used);
	GSP_CTR_SET(n->ctr.alive, cnt[GSP_STATE_ALIVE]);
	GSP_CTR_SET(n->ctr.suspect, cnt[GSP_STATE_SUSPECT]);
	GSP_CTR_SET(n->ctr.down, cnt[GSP_STATE_DOWN]);
	GSP_CTR_SET(n->ctr.left, cnt[GSP_STATE_LEFT]);
}

static struct gsp_addr
gsp_slot_addr(struct gsp_node *n, uint32_t slot)
{
	const struct gsp_member_view *v = gsp_slot_view(n, slot);

	return (struct gsp_addr){ v->ip, v->port };
}

static void
gsp_gossip_round(struct gsp_node *n, uint64_t now_ns)
{
	uint32_t k = n->p.fanout, chosen;
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	unsigned int n_seeds = 0;
	bool seed_chosen = false;
	struct gsp_scan s;

	gsp_round_scan(n, now_ns, k, &s);
	qsort(n->digests, s.n_digests, sizeof(n->digests[0]), gsp_digest_cmp);
	chosen = s.n_live < k ? s.n_live : k;

	for (unsigned int i = 0; i < n->n_seeds; i++)
		if (!gsp_addr_eq(&n->seeds[i], &n->p.addr))
			seeds[n_seeds++] = n->seeds[i];

	for (uint32_t i = 0; i < chosen; i++) {
		struct gsp_addr a = gsp_slot_addr(n, s.live[i]);

		for (unsigned int j = 0; j < n_seeds; j++)
			seed_chosen |= gsp_addr_eq(&a, &seeds[j]);
		gsp_send_syn(n, &a, s.n_digests);
	}
	/* gossip to the dead now and then, so a healed node is found */
	if (s.n_down > 0 &&
	    gsp_rand_below(&n->rng, s.n_live + s.n_down + 1) < s.n_down) {
		struct gsp_addr a = gsp_slot_addr(n, s.down);

		gsp_send_syn(n, &a, s.n_digests);
	}
	if (n_seeds == 0)
		return;
	if (s.n_live == 0) {
		/* alone: knock on every seed until one answers */
		for (unsigned int j = 0; j < n_seeds; j++) {
			gsp_send_syn(n, &seeds[j], s.n_digests);
			GSP_CTR_INC(n->ctr.seed_contacts);
		}
	} else if (!seed_chosen &&
		   gsp_rand_below(&n->rng, s.n_live + s.n_down) < n_seeds) {
		gsp_send_syn(n, &seeds[gsp_rand_below(&n->rng, n_seeds)],
			     s.n_digests);
		GSP_CTR_INC(n->ctr.seed_contacts);
	}
}

uint64_t
gsp_node_tick(struct gsp_node *n, uint64_t now_ns)
{
	uint64_t interval = n->p.gossip_interval_ns;

	if (n->started && now_ns < n->next_round_ns)
		return n->next_round_ns;
	/* We were stalled (descheduled, stopped): the silence of our peers
	 * during our own pause is no evidence against them. */
	if (n->started && now_ns - n->last_round_ns > 5 * interval) {
		uint64_t stall = now_ns - n->last_round_ns - interval;
		uint32_t hw = gsp_table_slot_count(n->table);

		for (uint32_t slot = 0; slot < hw; slot++)
			if (gsp_slot_view(n, slot)->id != 0)
				gsp_phi_shift(&n->fd[slot], stall);
	}
	n->started = true;
	n->last_round_ns = now_ns;
	n->next_round_ns += interval;
	if (n->next_round_ns <= now_ns)
		n->next_round_ns = now_ns + interval;

	GSP_CTR_INC(n->ctr.rounds);
	if (!n->leaving) {
		struct gsp_member_rec *r = gsp_table_rec(n->table, n->self_slot);

		n->version++;
		n->heartbeat++;
		gsp_table_write_begin(r);
		r->v.heartbeat = n->heartbeat;
		r->v.version = n->version;
		r->v.last_update_ns = now_ns;
		gsp_table_write_end(r);
	}
	gsp_gossip_round(n, now_ns);
	if (n->leaving && n->leave_rounds_left > 0 &&
	    --n->leave_rounds_left == 0)
		n->leave_done = true;
	return n->next_round_ns;
}

static bool
gsp_printable_str(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return i < max;
}

int
gsp_node_set_app(struct gsp_node *n, const char *key, const char *value)
{
	struct gsp_member_rec *r = gsp_table_rec(n->table, n->self_slot);
	size_t klen = strnlen(key, GSP_APP_KEY_MAX);
	struct gsp_app_entry *a = NULL;

	if (klen == 0 || klen >= GSP_APP_KEY_MAX ||
	    !gsp_printable_str(value, GSP_APP_VALUE_MAX))
		return -EINVAL;
	for (size_t i = 0; i < klen; i++)
		if (!gsp_name_char_ok(key[i]))
			return -EINVAL;
	for (uint8_t i = 0; i < r->v.app_count; i++)
		if (strcmp(r->v.app[i].key, key) == 0)
			a = &r->v.app[i];
	if (a == NULL && r->v.app_count >= GSP_APP_KEYS_MAX)
		return -ENOSPC;

	n->version++;
	gsp_table_write_begin(r);
	if (a == NULL) {
		a = &r->v.app[r->v.app_count++];
		memcpy(a->key, key, klen + 1);
	}
	snprintf(a->value, sizeof(a->value), "%s", value);
	a->version = n->version;
	r->v.version = n->version;
	gsp_table_write_end(r);
	return 0;
}

void
gsp_node_leave(struct gsp_node *n, uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_table_rec(n->table, n->self_slot);
	struct gsp_wire_state st;
	struct gsp_scan s;
	uint32_t k;

	if (n->leaving)
		return;
	n->leaving = true;
	n->leave_rounds_left = n->p.leave_rounds > 0 ? n->p.leave_rounds : 1;
	n->version++;
	gsp_table_write_begin(r);
	r->v.version = n->version;
	r->v.state = GSP_STATE_LEFT;
	r->v.state_since_ns = now_ns;
	gsp_table_write_end(r);

	gsp_round_scan(n, now_ns, GSP_LEAVE_FANOUT, &s);
	k = s.n_live < GSP_LEAVE_FANOUT ? s.n_live : GSP_LEAVE_FANOUT;
	gsp_view_to_wire(&r->v, &st);
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
gsp_node_bytes_per_member(void)
{
	return sizeof(struct gsp_member_rec) + sizeof(struct gsp_phi) +
		sizeof(struct gsp_digest) + sizeof(uint32_t) +
		gsp_index_bytes_per_entry();
}
