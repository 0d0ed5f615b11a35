/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "gsp_util.h"
#include "gsp_wire.h"

static uint16_t
gsp_wire_body_off(uint8_t type, uint8_t version)
{
	switch (type) {
	case GSP_MSG_SUM:
		return GSP_WIRE_HDR_LEN + GSP_WIRE_SUM_PREFIX;
	case GSP_MSG_SYN:
		return GSP_WIRE_HDR_LEN + GSP_WIRE_SYN_PREFIX;
	case GSP_MSG_ACK:
		return GSP_WIRE_HDR_LEN + GSP_WIRE_ACK_PREFIX;
	case GSP_MSG_PING:
	case GSP_MSG_PONG:
	case GSP_MSG_PING_REQ:
	case GSP_MSG_NACK:
		if (version >= 4)
			return GSP_WIRE_HDR_LEN + GSP_WIRE_PROBE4 +
				(type == GSP_MSG_PING_REQ ?
				 GSP_WIRE_PROBE4_ADDR : 0);
		return GSP_WIRE_HDR_LEN + GSP_WIRE_PROBE_PREFIX +
			(version >= 3 ? GSP_WIRE_PROBE_VIEW : 0);
	default:
		return GSP_WIRE_HDR_LEN;
	}
}

uint32_t
gsp_wire_max_digests(uint16_t max_payload)
{
	if (max_payload < GSP_WIRE_HDR_LEN + GSP_WIRE_SYN_PREFIX)
		return 0;
	return (max_payload - GSP_WIRE_HDR_LEN) / GSP_WIRE_DIGEST_LEN;
}

uint32_t
gsp_wire_max_states(uint16_t max_payload)
{
	if (max_payload < GSP_WIRE_HDR_LEN)
		return 0;
	return (max_payload - GSP_WIRE_HDR_LEN) / GSP_WIRE_STATE_FIXED;
}

uint32_t
gsp_wire_max_claims(uint16_t max_payload)
{
	if (max_payload < GSP_WIRE_HDR_LEN + GSP_WIRE_PROBE_PREFIX)
		return 0;
	return (max_payload - GSP_WIRE_HDR_LEN - GSP_WIRE_PROBE_PREFIX) /
		GSP_WIRE_CLAIM_LEN;
}

static bool
gsp_printable(const uint8_t *p, uint8_t len)
{
	for (uint8_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

static bool
gsp_name_ok(const uint8_t *p, uint8_t len)
{
	for (uint8_t i = 0; i < len; i++)
		if (!gsp_name_char_ok((char)p[i]))
			return false;
	return true;
}

/*
 * The fixed part of a member state, field by field: the decoder and the
 * encoder below, side by side, so one list of offsets serves both.
 * Returns the name's length; the reserved bytes are ignored on receive
 * (forward compatibility) and zero on send. The wire byte was reserved
 * in version 2: a v2 node ignores it and forwards it as 0.
 */
static inline uint8_t
gsp_wire_state_fixed_get(const uint8_t *p, struct gsp_wire_state *st)
{
	st->id = gsp_get_le64(p + GSP_STATE_OFF_ID);
	st->generation = gsp_get_le64(p + GSP_STATE_OFF_GENERATION);
	st->heartbeat = gsp_get_le64(p + GSP_STATE_OFF_HEARTBEAT);
	st->version = gsp_get_le64(p + GSP_STATE_OFF_VERSION);
	st->ip = gsp_get_le32(p + GSP_STATE_OFF_IP);
	st->port = gsp_get_le16(p + GSP_STATE_OFF_PORT);
	st->status = p[GSP_STATE_OFF_STATUS];
	st->app_count = p[GSP_STATE_OFF_APP_COUNT];
	st->wire = p[GSP_STATE_OFF_WIRE];
	st->incarnation = gsp_get_le32(p + GSP_STATE_OFF_INCARNATION);
	return p[GSP_STATE_OFF_NAME_LEN];
}

static inline void
gsp_wire_state_fixed_put(uint8_t *p, const struct gsp_wire_state *st,
			 uint8_t name_len)
{
	gsp_put_le64(p + GSP_STATE_OFF_ID, st->id);
	gsp_put_le64(p + GSP_STATE_OFF_GENERATION, st->generation);
	gsp_put_le64(p + GSP_STATE_OFF_HEARTBEAT, st->heartbeat);
	gsp_put_le64(p + GSP_STATE_OFF_VERSION, st->version);
	gsp_put_le32(p + GSP_STATE_OFF_IP, st->ip);
	gsp_put_le16(p + GSP_STATE_OFF_PORT, st->port);
	p[GSP_STATE_OFF_STATUS] = st->status;
	p[GSP_STATE_OFF_APP_COUNT] = st->app_count;
	p[GSP_STATE_OFF_WIRE] = st->wire;
	memset(p + GSP_STATE_OFF_RESERVED, 0,
	       GSP_STATE_OFF_INCARNATION - GSP_STATE_OFF_RESERVED);
	gsp_put_le32(p + GSP_STATE_OFF_INCARNATION, st->incarnation);
	p[GSP_STATE_OFF_NAME_LEN] = name_len;
}

/* Reads one member state at *off; advances *off. */
static int
gsp_wire_read_state(const uint8_t *buf, uint16_t len, uint16_t *off,
		    struct gsp_wire_state *st)
{
	const uint8_t *p = buf + *off;
	uint32_t o = *off, app_bytes = 0;
	uint8_t name_len;

	if (o + GSP_WIRE_STATE_FIXED > len)
		return GSP_RX_TRUNCATED;
	name_len = gsp_wire_state_fixed_get(p, st);
	/* no address: probes and gossip to it would go nowhere, and the
	 * PING_REQs naming it would be dropped by every helper */
	if (st->id == 0 || st->generation == 0 || st->ip == 0 ||
	    st->port == 0 || st->status > GSP_WIRE_STATUS_LEFT ||
	    name_len == 0 || name_len >= GSP_NAME_MAX ||
	    st->app_count > GSP_APP_KEYS_MAX || st->heartbeat > st->version)
		return GSP_RX_BAD_ENTRY;
	o += GSP_WIRE_STATE_FIXED;
	if (o + name_len > len)
		return GSP_RX_TRUNCATED;
	if (!gsp_name_ok(buf + o, name_len))
		return GSP_RX_BAD_ENTRY;
	memcpy(st->name, buf + o, name_len);
	st->name[name_len] = '\0';
	o += name_len;
	for (uint8_t i = 0; i < st->app_count; i++) {
		struct gsp_app_entry *a = &st->app[i];
		uint8_t klen, vlen;

		if (o + GSP_WIRE_APP_FIXED > len)
			return GSP_RX_TRUNCATED;
		a->version = gsp_get_le64(buf + o + GSP_APP_OFF_VERSION);
		klen = buf[o + GSP_APP_OFF_KEY_LEN];
		vlen = buf[o + GSP_APP_OFF_VALUE_LEN];
		/* vlen: any u8 fits GSP_APP_VALUE_MAX */
		if (klen == 0 || klen >= GSP_APP_KEY_MAX ||
		    a->version > st->version)
			return GSP_RX_BAD_ENTRY;
		o += GSP_WIRE_APP_FIXED;
		if (o + klen + vlen > len)
			return GSP_RX_TRUNCATED;
		if (!gsp_name_ok(buf + o, klen) ||
		    !gsp_printable(buf + o + klen, vlen))
			return GSP_RX_BAD_ENTRY;
		memcpy(a->key, buf + o, klen);
		a->key[klen] = '\0';
		memcpy(a->value, buf + o + klen, vlen);
		a->value[vlen] = '\0';
		o += klen + vlen;
		app_bytes += klen + vlen;
		/* more than any member may hold: no node makes such a state */
		if (app_bytes > GSP_APP_BYTES_MAX)
			return GSP_RX_BAD_ENTRY;
		for (uint8_t j = 0; j < i; j++)
			if (strcmp(st->app[j].key, a->key) == 0)
				return GSP_RX_BAD_ENTRY;
	}
	*off = (uint16_t)o;
	return GSP_RX_OK;
}

static void
gsp_wire_read_digest(const uint8_t *p, struct gsp_digest *d)
{
	d->id = gsp_get_le64(p + GSP_DIGEST_OFF_ID);
	d->generation = gsp_get_le64(p + GSP_DIGEST_OFF_GENERATION);
	d->version = gsp_get_le64(p + GSP_DIGEST_OFF_VERSION);
}

static int
gsp_wire_decode_syn(const uint8_t *buf, uint16_t len, struct gsp_wire_msg *m)
{
	uint32_t body = len - GSP_WIRE_HDR_LEN;
	const uint8_t *p;

	if (body < GSP_WIRE_SYN_PREFIX)
		return GSP_RX_TRUNCATED;
	if ((uint32_t)m->hdr.count * GSP_WIRE_DIGEST_LEN !=
	    body - GSP_WIRE_SYN_PREFIX)
		return GSP_RX_BAD_COUNT;
	p = buf + GSP_WIRE_HDR_LEN;
	m->range_lo = gsp_get_le64(p + GSP_SYN_OFF_RANGE_LO);
	m->range_hi = gsp_get_le64(p + GSP_SYN_OFF_RANGE_HI);
	if (m->range_lo > m->range_hi)
		return GSP_RX_BAD_ENTRY;
	p += GSP_WIRE_SYN_PREFIX;
	for (uint32_t i = 0; i < m->hdr.count; i++) {
		struct gsp_digest *d = &m->digests[i];

		gsp_wire_read_digest(p + i * GSP_WIRE_DIGEST_LEN, d);
		/* inside the range (of keys): then the receiver knows that
		 * what it has in the range but is not listed, the sender
		 * lacks */
		if (d->id == 0 || gsp_id_key(d->id) < m->range_lo ||
		    gsp_id_key(d->id) > m->range_hi)
			return GSP_RX_BAD_ENTRY;
	}
	m->n_digests = m->hdr.count;
	return GSP_RX_OK;
}

static int
gsp_wire_decode_states(const uint8_t *buf, uint16_t len, uint16_t off,
		       uint32_t n, struct gsp_wire_msg *m)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc = gsp_wire_read_state(buf, len, &off, &m->states[i]);

		if (rc != GSP_RX_OK)
			return rc;
	}
	m->n_states = n;
	return GSP_RX_OK;
}

/* v4: the prefix without n_claims (the header's count says it), without
 * an address but in PING_REQ, and the view as its 32-bit tag. */
static int
gsp_wire_decode_probe4(const uint8_t *buf, uint16_t len,
		       struct gsp_wire_msg *m, uint32_t *pre)
{
	const uint8_t *p = buf + GSP_WIRE_HDR_LEN;

	*pre = gsp_wire_body_off(m->hdr.type, m->hdr.version) -
		GSP_WIRE_HDR_LEN;
	if (len < GSP_WIRE_HDR_LEN + *pre)
		return GSP_RX_TRUNCATED;
	m->target_id = gsp_get_le64(p + GSP_PROBE4_OFF_TARGET);
	m->sync_root = gsp_get_le64(p + GSP_PROBE4_OFF_SYNC_ROOT);
	m->heartbeat = gsp_get_le64(p + GSP_PROBE4_OFF_HEARTBEAT);
	m->seq = gsp_get_le32(p + GSP_PROBE4_OFF_SEQ);
	m->view = (uint64_t)gsp_get_le32(p + GSP_PROBE4_OFF_VIEW_TAG) << 32;
	m->has_view = true;
	if (m->hdr.type == GSP_MSG_PING_REQ) {
		m->target.ip = gsp_get_le32(p + GSP_PROBE4_OFF_TARGET_IP);
		m->target.port = gsp_get_le16(p + GSP_PROBE4_OFF_TARGET_PORT);
	}
	if (GSP_WIRE_HDR_LEN + *pre +
	    (uint32_t)m->hdr.count * GSP_WIRE_CLAIM_LEN != len)
		return GSP_RX_BAD_COUNT;
	return GSP_RX_OK;
}

static int
gsp_wire_decode_probe(const uint8_t *buf, uint16_t len, struct gsp_wire_msg *m)
{
	const uint8_t *p = buf + GSP_WIRE_HDR_LEN;
	uint32_t pre = GSP_WIRE_PROBE_PREFIX;
	uint32_t n = m->hdr.count;
	int rc;

	if (m->hdr.version >= 4) {
		rc = gsp_wire_decode_probe4(buf, len, m, &pre);
		if (rc != GSP_RX_OK)
			return rc;
		goto claims;
	}
	if (m->hdr.version >= 3)
		pre += GSP_WIRE_PROBE_VIEW;
	if (len < GSP_WIRE_HDR_LEN + pre)
		return GSP_RX_TRUNCATED;
	m->seq = gsp_get_le32(p + GSP_PROBE_OFF_SEQ);
	n = gsp_get_le16(p + GSP_PROBE_OFF_NCLAIMS);
	m->target_id = gsp_get_le64(p + GSP_PROBE_OFF_TARGET);
	m->target.ip = gsp_get_le32(p + GSP_PROBE_OFF_TARGET_IP);
	m->target.port = gsp_get_le16(p + GSP_PROBE_OFF_TARGET_PORT);
	if (n != m->hdr.count || GSP_WIRE_HDR_LEN + pre +
	    n * GSP_WIRE_CLAIM_LEN != len)
		return GSP_RX_BAD_COUNT;
	if (m->hdr.version >= 3) {
		m->has_view = true;
		m->sync_root = gsp_get_le64(p + GSP_PROBE_OFF_SYNC_ROOT);
		m->view = gsp_get_le64(p + GSP_PROBE_OFF_VIEW);
		m->heartbeat = gsp_get_le64(p + GSP_PROBE_OFF_HEARTBEAT);
	}
claims:
	if (m->target_id == 0 || (m->hdr.type == GSP_MSG_PING_REQ &&
	    (m->target.ip == 0 || m->target.port == 0)))
		return GSP_RX_BAD_ENTRY;
	p += pre;
	for (uint32_t i = 0; i < n; i++, p += GSP_WIRE_CLAIM_LEN) {
		struct gsp_claim *c = &m->claims[i];

		c->id = gsp_get_le64(p + GSP_CLAIM_OFF_ID);
		c->generation = gsp_get_le64(p + GSP_CLAIM_OFF_GENERATION);
		c->from = gsp_get_le64(p + GSP_CLAIM_OFF_FROM);
		c->incarnation = gsp_get_le32(p + GSP_CLAIM_OFF_INCARNATION);
		c->status = p[GSP_CLAIM_OFF_STATUS];
		/* unknown flags are a later version's: ignored, as older
		 * decoders ignore this byte */
		c->flags = p[GSP_CLAIM_OFF_FLAGS] & GSP_CLAIM_FLAG_LEFT;
		/* an alive claim comes from the member itself only; only a
		 * dead member can be moved to left */
		if (c->id == 0 || c->generation == 0 || c->from == 0 ||
		    c->status > GSP_CLAIM_DEAD ||
		    (c->status == GSP_CLAIM_ALIVE && c->from != c->id) ||
		    (c->flags != 0 && c->status != GSP_CLAIM_DEAD))
			return GSP_RX_BAD_ENTRY;
	}
	m->n_claims = n;
	return GSP_RX_OK;
}

/*
 * SUM: the sender's hashes of `count` consecutive buckets at a level
 * (2^level buckets over the key space). A level beyond
 * GSP_SUM_LEVEL_MAX, buckets past the end, or no hash at all: bad.
 */
static int
gsp_wire_decode_sum(const uint8_t *buf, uint16_t len, struct gsp_wire_msg *m)
{
	const uint8_t *p = buf + GSP_WIRE_HDR_LEN;
	uint32_t n = m->hdr.count;

	if (len < GSP_WIRE_HDR_LEN + GSP_WIRE_SUM_PREFIX)
		return GSP_RX_TRUNCATED;
	if (n == 0 || n > GSP_WIRE_SUM_HASHES ||
	    GSP_WIRE_HDR_LEN + GSP_WIRE_SUM_PREFIX + 8 * n != len)
		return GSP_RX_BAD_COUNT;
	m->sum_level = p[GSP_SUM_OFF_LEVEL];
	m->sum_first = gsp_get_le32(p + GSP_SUM_OFF_FIRST);
	m->sum_members = gsp_get_le32(p + GSP_SUM_OFF_MEMBERS);
	if (m->sum_level > GSP_SUM_LEVEL_MAX ||
	    (uint64_t)m->sum_first + n > (1ull << m->sum_level))
		return GSP_RX_BAD_ENTRY;
	m->sum_hashes = p + GSP_WIRE_SUM_PREFIX;
	m->n_hashes = n;
	return GSP_RX_OK;
}

int
gsp_wire_check_prefix(const uint8_t *buf, uint16_t len)
{
	if (len < GSP_WIRE_HDR_LEN)
		return GSP_RX_TRUNCATED;
	if (gsp_get_le32(buf + GSP_HDR_OFF_MAGIC) != GSP_WIRE_MAGIC)
		return GSP_RX_BAD_MAGIC;
	if (buf[GSP_HDR_OFF_VERSION] < GSP_WIRE_VERSION_MIN ||
	    buf[GSP_HDR_OFF_VERSION] > GSP_WIRE_VERSION)
		return GSP_RX_BAD_VERSION;
	return GSP_RX_OK;
}

int
gsp_wire_check_frame(const uint8_t *buf, uint16_t len, uint32_t cluster)
{
	if (gsp_get_le16(buf + GSP_HDR_OFF_LENGTH) != len)
		return GSP_RX_BAD_LENGTH;
	if (gsp_get_le32(buf + GSP_HDR_OFF_CLUSTER) != cluster)
		return GSP_RX_WRONG_CLUSTER;
	return GSP_RX_OK;
}

int
gsp_wire_decode(const uint8_t *buf, uint16_t len, uint32_t cluster,
		struct gsp_wire_msg *m, struct gsp_digest *digests,
		struct gsp_wire_state *states, struct gsp_claim *claims)
{
	struct gsp_wire_hdr *h = &m->hdr;
	uint32_t n_states, n_req, max_states;
	uint16_t off;
	int rc;

	memset(m, 0, sizeof(*m));
	m->digests = digests;
	m->states = states;
	m->claims = claims;
	rc = gsp_wire_check_prefix(buf, len);
	if (rc == GSP_RX_OK)
		rc = gsp_wire_check_frame(buf, len, cluster);
	if (rc != GSP_RX_OK)
		return rc;
	h->version = buf[GSP_HDR_OFF_VERSION];
	h->type = buf[GSP_HDR_OFF_TYPE];
	h->flags = gsp_get_le16(buf + GSP_HDR_OFF_FLAGS);
	h->length = gsp_get_le16(buf + GSP_HDR_OFF_LENGTH);
	h->count = gsp_get_le16(buf + GSP_HDR_OFF_COUNT);
	h->cluster = gsp_get_le32(buf + GSP_HDR_OFF_CLUSTER);
	h->sender_id = gsp_get_le64(buf + GSP_HDR_OFF_SENDER);
	if (h->sender_id == 0)
		return GSP_RX_BAD_ENTRY;
	max_states = gsp_wire_max_states(len);

	switch (h->type) {
	case GSP_MSG_SYN:
		return gsp_wire_decode_syn(buf, len, m);
	case GSP_MSG_ACK:
		if (len < GSP_WIRE_HDR_LEN + GSP_WIRE_ACK_PREFIX)
			return GSP_RX_TRUNCATED;
		n_states = gsp_get_le16(buf + GSP_WIRE_HDR_LEN +
					GSP_ACK_OFF_N_STATES);
		n_req = gsp_get_le16(buf + GSP_WIRE_HDR_LEN +
				     GSP_ACK_OFF_N_REQUESTS);
		if (n_states + n_req != h->count || n_states > max_states ||
		    GSP_WIRE_HDR_LEN + GSP_WIRE_ACK_PREFIX +
		    n_states * GSP_WIRE_STATE_FIXED +
		    n_req * GSP_WIRE_DIGEST_LEN > len)
			return GSP_RX_BAD_COUNT;
		off = GSP_WIRE_HDR_LEN + GSP_WIRE_ACK_PREFIX;
		for (uint32_t i = 0; i < n_states; i++) {
			rc = gsp_wire_read_state(buf, len, &off, &states[i]);
			if (rc != GSP_RX_OK)
				return rc;
		}
		m->n_states = n_states;
		if ((uint32_t)off + n_req * GSP_WIRE_DIGEST_LEN != len)
			return GSP_RX_BAD_LENGTH;
		for (uint32_t i = 0; i < n_req; i++) {
			gsp_wire_read_digest(buf + off, &digests[i]);
			if (digests[i].id == 0)
				return GSP_RX_BAD_ENTRY;
			off += GSP_WIRE_DIGEST_LEN;
		}
		m->n_digests = n_req;
		return GSP_RX_OK;
	case GSP_MSG_ACK2:
	case GSP_MSG_PUSH:
	case GSP_MSG_LEAVE:
		if (h->count > max_states || h->count == 0 ||
		    (h->type == GSP_MSG_LEAVE && h->count != 1))
			return GSP_RX_BAD_COUNT;
		rc = gsp_wire_decode_states(buf, len, GSP_WIRE_HDR_LEN,
					    h->count, m);
		if (rc != GSP_RX_OK)
			return rc;
		off = GSP_WIRE_HDR_LEN;
		for (uint32_t i = 0; i < m->n_states; i++)
			off += gsp_wire_state_len(&states[i]);
		if (off != len)
			return GSP_RX_BAD_LENGTH;
		if (h->type == GSP_MSG_LEAVE &&
		    (states[0].id != h->sender_id ||
		     states[0].status != GSP_WIRE_STATUS_LEFT))
			return GSP_RX_BAD_ENTRY;
		return GSP_RX_OK;
	case GSP_MSG_PING:
	case GSP_MSG_PONG:
	case GSP_MSG_PING_REQ:
	case GSP_MSG_NACK:
		return gsp_wire_decode_probe(buf, len, m);
	case GSP_MSG_SUM:
		if (h->version < 3)
			return GSP_RX_BAD_TYPE;
		return gsp_wire_decode_sum(buf, len, m);
	default:
		return GSP_RX_BAD_TYPE;
	}
}

void
gsp_wire_begin(struct gsp_wire_writer *w, uint8_t *buf, uint16_t cap,
	       uint8_t type, uint32_t cluster, uint64_t sender_id)
{
	/* layouts unchanged since version 2 go as 2: any peer reads them */
	gsp_wire_begin_v(w, buf, cap, type, GSP_WIRE_VERSION_MIN, cluster,
			 sender_id);
}

void
gsp_wire_begin_v(struct gsp_wire_writer *w, uint8_t *buf, uint16_t cap,
		 uint8_t type, uint8_t version, uint32_t cluster,
		 uint64_t sender_id)
{
	w->buf = buf;
	w->cap = cap;
	w->type = type;
	w->n_states = 0;
	w->n_digests = 0;
	w->n_claims = 0;
	w->version = version;
	w->off = gsp_wire_body_off(type, version);
	memset(buf, 0, w->off);
	gsp_put_le32(buf + GSP_HDR_OFF_MAGIC, GSP_WIRE_MAGIC);
	buf[GSP_HDR_OFF_VERSION] = version;
	buf[GSP_HDR_OFF_TYPE] = type;
	gsp_put_le32(buf + GSP_HDR_OFF_CLUSTER, cluster);
	gsp_put_le64(buf + GSP_HDR_OFF_SENDER, sender_id);
}

void
gsp_wire_set_range(struct gsp_wire_writer *w, uint64_t lo, uint64_t hi)
{
	gsp_put_le64(w->buf + GSP_WIRE_HDR_LEN + GSP_SYN_OFF_RANGE_LO, lo);
	gsp_put_le64(w->buf + GSP_WIRE_HDR_LEN + GSP_SYN_OFF_RANGE_HI, hi);
}

void
gsp_wire_set_probe(struct gsp_wire_writer *w, uint32_t seq, uint64_t target_id,
		   const struct gsp_addr *target)
{
	uint8_t *p = w->buf + GSP_WIRE_HDR_LEN;

	if (w->version >= 4) {
		gsp_put_le64(p + GSP_PROBE4_OFF_TARGET, target_id);
		gsp_put_le32(p + GSP_PROBE4_OFF_SEQ, seq);
		if (w->type != GSP_MSG_PING_REQ)
			return;		/* no room for an address */
		gsp_put_le32(p + GSP_PROBE4_OFF_TARGET_IP,
			     target ? target->ip : 0);
		gsp_put_le16(p + GSP_PROBE4_OFF_TARGET_PORT,
			     target ? target->port : 0);
		return;
	}
	gsp_put_le32(p + GSP_PROBE_OFF_SEQ, seq);
	gsp_put_le64(p + GSP_PROBE_OFF_TARGET, target_id);
	gsp_put_le32(p + GSP_PROBE_OFF_TARGET_IP, target ? target->ip : 0);
	gsp_put_le16(p + GSP_PROBE_OFF_TARGET_PORT, target ? target->port : 0);
}

void
gsp_wire_set_view(struct gsp_wire_writer *w, uint64_t sync_root, uint64_t view,
		  uint64_t heartbeat)
{
	uint8_t *p = w->buf + GSP_WIRE_HDR_LEN;

	if (w->version < 3)
		return;
	if (w->version >= 4) {
		gsp_put_le64(p + GSP_PROBE4_OFF_SYNC_ROOT, sync_root);
		gsp_put_le64(p + GSP_PROBE4_OFF_HEARTBEAT, heartbeat);
		gsp_put_le32(p + GSP_PROBE4_OFF_VIEW_TAG,
			     (uint32_t)(view >> 32));
		return;
	}
	gsp_put_le64(p + GSP_PROBE_OFF_SYNC_ROOT, sync_root);
	gsp_put_le64(p + GSP_PROBE_OFF_VIEW, view);
	gsp_put_le64(p + GSP_PROBE_OFF_HEARTBEAT, heartbeat);
}

void
gsp_wire_set_sum(struct gsp_wire_writer *w, uint8_t level, uint32_t first,
		 uint32_t members)
{
	uint8_t *p = w->buf + GSP_WIRE_HDR_LEN;

	p[GSP_SUM_OFF_LEVEL] = level;
	gsp_put_le32(p + GSP_SUM_OFF_FIRST, first);
	gsp_put_le32(p + GSP_SUM_OFF_MEMBERS, members);
}

bool
gsp_wire_put_hash(struct gsp_wire_writer *w, uint64_t h)
{
	if ((uint32_t)w->off + 8 > w->cap ||
	    w->n_digests >= GSP_WIRE_SUM_HASHES)
		return false;
	gsp_put_le64(w->buf + w->off, h);
	w->off += 8;
	w->n_digests++;
	return true;
}

bool
gsp_wire_put_claim(struct gsp_wire_writer *w, const struct gsp_claim *c)
{
	uint8_t *p = w->buf + w->off;

	if ((uint32_t)w->off + GSP_WIRE_CLAIM_LEN > w->cap)
		return false;
	gsp_put_le64(p + GSP_CLAIM_OFF_ID, c->id);
	gsp_put_le64(p + GSP_CLAIM_OFF_GENERATION, c->generation);
	gsp_put_le64(p + GSP_CLAIM_OFF_FROM, c->from);
	gsp_put_le32(p + GSP_CLAIM_OFF_INCARNATION, c->incarnation);
	p[GSP_CLAIM_OFF_STATUS] = c->status;
	p[GSP_CLAIM_OFF_FLAGS] = c->flags;
	memset(p + GSP_CLAIM_OFF_RESERVED, 0,
	       GSP_WIRE_CLAIM_LEN - GSP_CLAIM_OFF_RESERVED);
	w->off += GSP_WIRE_CLAIM_LEN;
	w->n_claims++;
	return true;
}

uint16_t
gsp_wire_state_len(const struct gsp_wire_state *st)
{
	uint16_t n = GSP_WIRE_STATE_FIXED + (uint16_t)strlen(st->name);

	for (uint8_t i = 0; i < st->app_count; i++)
		n += GSP_WIRE_APP_FIXED + strlen(st->app[i].key) +
			strlen(st->app[i].value);
	return n;
}

bool
gsp_app_wide(const struct gsp_app_entry *app, uint8_t count)
{
	if (count > GSP_WIRE4_APP_KEYS)
		return true;
	for (uint8_t i = 0; i < count; i++)
		if (strnlen(app[i].value, GSP_WIRE4_APP_VALUE + 1) >
		    GSP_WIRE4_APP_VALUE)
			return true;
	return false;
}

bool
gsp_wire_state_wide(const struct gsp_wire_state *st)
{
	return gsp_app_wide(st->app, st->app_count);
}

bool
gsp_wire_put_state(struct gsp_wire_writer *w, const struct gsp_wire_state *st)
{
	uint16_t need = gsp_wire_state_len(st);
	uint8_t *p = w->buf + w->off;
	size_t name_len = strlen(st->name);

	if ((uint32_t)w->off + need > w->cap || w->n_digests != 0)
		return false;
	gsp_wire_state_fixed_put(p, st, (uint8_t)name_len);
	p += GSP_WIRE_STATE_FIXED;
	memcpy(p, st->name, name_len);
	p += name_len;
	for (uint8_t i = 0; i < st->app_count; i++) {
		size_t kl = strlen(st->app[i].key);
		size_t vl = strlen(st->app[i].value);

		gsp_put_le64(p + GSP_APP_OFF_VERSION, st->app[i].version);
		p[GSP_APP_OFF_KEY_LEN] = (uint8_t)kl;
		p[GSP_APP_OFF_VALUE_LEN] = (uint8_t)vl;
		memcpy(p + GSP_WIRE_APP_FIXED, st->app[i].key, kl);
		memcpy(p + GSP_WIRE_APP_FIXED + kl, st->app[i].value, vl);
		p += GSP_WIRE_APP_FIXED + kl + vl;
	}
	w->off += need;
	w->n_states++;
	return true;
}

bool
gsp_wire_put_digest(struct gsp_wire_writer *w, const struct gsp_digest *d)
{
	uint8_t *p = w->buf + w->off;

	if ((uint32_t)w->off + GSP_WIRE_DIGEST_LEN > w->cap)
		return false;
	gsp_put_le64(p + GSP_DIGEST_OFF_ID, d->id);
	gsp_put_le64(p + GSP_DIGEST_OFF_GENERATION, d->generation);
	gsp_put_le64(p + GSP_DIGEST_OFF_VERSION, d->version);
	w->off += GSP_WIRE_DIGEST_LEN;
	w->n_digests++;
	return true;
}

uint16_t
gsp_wire_finish(struct gsp_wire_writer *w)
{
	gsp_put_le16(w->buf + GSP_HDR_OFF_LENGTH, w->off);
	gsp_put_le16(w->buf + GSP_HDR_OFF_COUNT,
		     w->n_states + w->n_digests + w->n_claims);
	if (w->n_claims != 0 && w->version < 4)	/* v4 has no n_claims */
		gsp_put_le16(w->buf + GSP_WIRE_HDR_LEN + GSP_PROBE_OFF_NCLAIMS,
			     w->n_claims);
	if (w->type == GSP_MSG_ACK) {
		gsp_put_le16(w->buf + GSP_WIRE_HDR_LEN + GSP_ACK_OFF_N_STATES,
			     w->n_states);
		gsp_put_le16(w->buf + GSP_WIRE_HDR_LEN +
			     GSP_ACK_OFF_N_REQUESTS, w->n_digests);
	}
	return w->off;
}

bool
gsp_wire_empty(const struct gsp_wire_writer *w)
{
	return w->n_states == 0 && w->n_digests == 0 && w->n_claims == 0;
}
