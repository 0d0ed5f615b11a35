/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the wire decoder and the core's receive/merge path.
 *
 * Input: byte 0 is a mode. Bit 6 set: the node authenticates (a fixed
 * key); then bit 5 set: the harness seals each datagram with that key
 * first, so the fuzzer reaches the decoder behind authentication; clear:
 * the bytes go to gsp_sec_open() as they are. Bit 7 clear: the rest is
 * one datagram. Bit 7 set: the rest is a sequence of records
 *	u16 len (LE) | u8 dt (x 10 ms) | u8 src | len bytes
 * so several packets reach one table, with time passing between them
 * (suspicion timers, probes). Every datagram is decoded on its own (with
 * the cluster it names, so decoding goes past the cluster check) and
 * handed to gsp_node_rx() of a fresh node with SWIM on.
 *
 * Oracles besides the sanitizers: whatever decodes is within its entry
 * bounds; every packet the node sends decodes; the table keeps its
 * invariants (NUL-terminated names, app_count, state, slot count).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_core.h"
#include "gsp_sec.h"
#include "gsp_wire.h"

#define FZ_CAPACITY 256
#define FZ_MAX_DGRAMS 32
#define FZ_REC_HDR 4
#define FZ_TICK_NS 10000000ull		/* dt unit: 10 ms */
#define FZ_START_NS 1000000000000ull	/* core clock at the first packet */
#define FZ_MAX_PAYLOAD 1472

static struct gsp_digest fz_digests[65535 / GSP_WIRE_DIGEST_LEN + 1];
static struct gsp_wire_state fz_states[65535 / GSP_WIRE_STATE_FIXED + 1];
static struct gsp_claim fz_claims[65535 / GSP_WIRE_CLAIM_LEN + 1];
static uint32_t fz_cluster;
static unsigned long fz_sent;
static struct gsp_keyring *fz_keyring;	/* the cluster key, made once */
static bool fz_auth;			/* this input's node authenticates */
static bool fz_seal;			/* and the harness seals its input */
static struct gsp_sec_tx fz_tx;
static uint8_t fz_sealed[65535];
static uint8_t fz_opened[65535];

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_packet: invariant broken: %s\n", what);
	abort();
}

static bool
fz_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
fz_check_msg(const struct gsp_wire_msg *m, uint16_t len)
{
	if (m->n_states > gsp_wire_max_states(len) ||
	    m->n_digests > gsp_wire_max_digests(len) ||
	    m->n_claims > gsp_wire_max_claims(len) ||
	    m->n_hashes > GSP_WIRE_SUM_HASHES ||
	    (m->n_hashes != 0 && GSP_WIRE_HDR_LEN + GSP_WIRE_SUM_PREFIX +
	     8u * m->n_hashes != len))
		fz_fail("decoded more entries than the length allows");
	for (uint32_t i = 0; i < m->n_states; i++) {
		const struct gsp_wire_state *st = &m->states[i];

		if (!fz_terminated(st->name, sizeof(st->name)) ||
		    st->app_count > GSP_APP_KEYS_MAX)
			fz_fail("decoded state");
		for (uint8_t k = 0; k < st->app_count; k++)
			if (!fz_terminated(st->app[k].key,
					   sizeof(st->app[k].key)) ||
			    !fz_terminated(st->app[k].value,
					   sizeof(st->app[k].value)))
				fz_fail("decoded app entry");
	}
}

/* Decodes with the cluster the packet names; checks what came out. */
static int
fz_decode(const uint8_t *buf, uint16_t len, uint32_t cluster)
{
	struct gsp_wire_msg m;
	int rc;

	rc = gsp_wire_decode(buf, len, cluster, &m, fz_digests, fz_states,
			     fz_claims);
	if (rc < GSP_RX_OK || rc >= GSP_RX_ERR_MAX)
		fz_fail("decode returned an unknown reason");
	if (rc == GSP_RX_OK)
		fz_check_msg(&m, len);
	return rc;
}

/* The node's own packets must always be valid. */
void
gsp_io_send(void *io_ctx, const struct gsp_addr *dst, const uint8_t *payload,
	    uint16_t len)
{
	int rc;

	(void)io_ctx;
	fz_sent++;
	if (len > FZ_MAX_PAYLOAD)
		fz_fail("sent a packet over max_payload");
	if (fz_auth) {
		struct gsp_sec_rx rx;

		/* sealed by the node: must open with the cluster key */
		if (gsp_sec_open(fz_keyring, fz_cluster, payload, len,
				 fz_opened, &len, &rx) != GSP_RX_OK)
			fz_fail("sent a packet that does not open");
		payload = fz_opened;
	}
	rc = fz_decode(payload, len, fz_cluster);
	if (rc != GSP_RX_OK) {
		fprintf(stderr, "fuzz_packet: sent type %u, %u bytes, to "
			"%#x:%u: %s\n", len > GSP_HDR_OFF_TYPE ?
			payload[GSP_HDR_OFF_TYPE] : 0, len, dst->ip, dst->port,
			gsp_rx_err_name((unsigned int)rc));
		fz_fail("sent a packet that does not decode");
	}
}

void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	(void)io_ctx;
	if (!fz_terminated(ev->name, sizeof(ev->name)))
		fz_fail("event name");
}

static struct gsp_node *
fz_make_node(void)
{
	struct gsp_node_params p;
	struct gsp_node *n;
	int err = 0;

	memset(&p, 0, sizeof(p));
	snprintf(p.cluster, sizeof(p.cluster), "fuzz");
	snprintf(p.name, sizeof(p.name), "self");
	p.generation = 1;
	p.addr.ip = 0x0a000001;
	p.addr.port = 7946;
	p.capacity = FZ_CAPACITY;
	p.gossip_interval_ns = 100000000;
	p.fanout = 2;
	p.phi_suspect = 5;
	p.phi_convict = 8;
	p.forget_ns = 60ull * 1000000000ull;
	p.max_payload = FZ_MAX_PAYLOAD;
	p.leave_rounds = 1;
	p.detector = GSP_DETECT_DEFAULT;	/* SWIM, indirect, Lifeguard */
	p.rng_seed = 1;
	p.keyring = fz_auth ? fz_keyring : NULL;
	n = gsp_node_create(&p, &err);
	if (n == NULL) {
		fprintf(stderr, "fuzz_packet: gsp_node_create: %d\n", err);
		abort();
	}
	return n;
}

static void
fz_check_table(const struct gsp_node *n)
{
	uint32_t slots = gsp_node_slot_count(n);
	struct gsp_member_view v;
	struct gsp_node_counters c;

	if (slots > FZ_CAPACITY)
		fz_fail("slot count above capacity");
	for (uint32_t s = 0; s < slots; s++) {
		if (!gsp_node_member_read(n, s, &v))
			continue;
		if (v.id == 0 || v.state > GSP_STATE_LEFT ||
		    v.app_count > GSP_APP_KEYS_MAX ||
		    !fz_terminated(v.name, sizeof(v.name)) || v.name[0] == '\0')
			fz_fail("member record");
		for (uint8_t k = 0; k < v.app_count; k++)
			if (!fz_terminated(v.app[k].key, sizeof(v.app[k].key)) ||
			    !fz_terminated(v.app[k].value,
					   sizeof(v.app[k].value)))
				fz_fail("member app entry");
	}
	gsp_node_counters_read(n, &c);
	if (c.members > FZ_CAPACITY ||
	    c.alive + c.suspect + c.down + c.left != c.members)
		fz_fail("member counters");
}

static uint32_t
fz_cluster_of(const uint8_t *buf, uint16_t len)
{
	if (len < GSP_HDR_OFF_CLUSTER + 4)
		return 0;
	return (uint32_t)buf[GSP_HDR_OFF_CLUSTER] |
		(uint32_t)buf[GSP_HDR_OFF_CLUSTER + 1] << 8 |
		(uint32_t)buf[GSP_HDR_OFF_CLUSTER + 2] << 16 |
		(uint32_t)buf[GSP_HDR_OFF_CLUSTER + 3] << 24;
}

static void
fz_datagram(struct gsp_node *n, const uint8_t *buf, size_t size, uint8_t src,
	    uint64_t now)
{
	struct gsp_addr from = { 0x0a000002u + (src & 3u), 7946 };
	uint16_t len = size > UINT16_MAX ? UINT16_MAX : (uint16_t)size;

	fz_decode(buf, len, fz_cluster_of(buf, len));
	if (fz_seal && len >= GSP_WIRE_HDR_LEN &&
	    len <= sizeof(fz_sealed) - GSP_SEC_OVERHEAD) {
		len = gsp_sec_seal(fz_keyring, &fz_tx, buf, len, fz_sealed);
		buf = fz_sealed;
	}
	gsp_node_rx(n, &from, buf, len, now, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gsp_node *n;
	uint64_t now = FZ_START_NS;
	size_t off = 1, len;
	unsigned int k;

	if (size < 1)
		return 0;
	if (fz_keyring == NULL) {
		static const uint8_t key[GSP_KEY_LEN] = { 7 };
		uint32_t id;

		if (gsp_keyring_create(GSP_CIPHER_CHACHA20POLY1305,
				       &fz_keyring) != 0 ||
		    gsp_keyring_add(fz_keyring, key, &id) != 0)
			fz_fail("keyring");
	}
	fz_auth = data[0] & 0x40;
	fz_seal = fz_auth && (data[0] & 0x20);
	/* fixed, not gsp_sec_tx_init()'s random start: inputs replay */
	fz_tx = (struct gsp_sec_tx){ .salt = 1, .seq = 1000, .generation = 5 };
	fz_cluster = gsp_cluster_hash("fuzz");
	n = fz_make_node();
	if (!(data[0] & 0x80)) {
		fz_datagram(n, data + 1, size - 1, 0, now);
	} else {
		for (k = 0; k < FZ_MAX_DGRAMS && off + FZ_REC_HDR <= size; k++) {
			len = (size_t)data[off] | (size_t)data[off + 1] << 8;
			if (len > size - off - FZ_REC_HDR)
				len = size - off - FZ_REC_HDR;
			if (data[off + 2] != 0) {
				now += data[off + 2] * FZ_TICK_NS;
				gsp_node_tick(n, now);
			}
			fz_datagram(n, data + off + FZ_REC_HDR, len,
				    data[off + 3], now);
			off += FZ_REC_HDR + len;
			fz_check_table(n);
		}
	}
	fz_check_table(n);
	/* a round gossips what was merged: the encoder meets it too */
	gsp_node_tick(n, now + 200000000ull);
	fz_check_table(n);
	gsp_node_destroy(n);
	return 0;
}
