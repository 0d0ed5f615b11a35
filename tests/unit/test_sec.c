/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet authentication (dataplane/core/gsp_sec.c): keyring operations,
 * seal/open of both ciphers, every way a sealed datagram is refused, the
 * replay window, and nodes that authenticate end to end (join, replay,
 * wrong key, online rotation).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gsp_core.h"
#include "gsp_sec.h"
#include "gsp_util.h"
#include "gsp_wire.h"

#define MS 1000000ull
#define CLUSTER "sectest"

/* ---- the io seam: the last datagram each node sent ---- */

struct out {
	uint8_t buf[2048];
	uint16_t len;
	unsigned int sent;
};

void
gsp_io_send(void *io_ctx, const struct gsp_addr *dst, const uint8_t *payload,
	    uint16_t len)
{
	struct out *o = io_ctx;

	(void)dst;
	if (o == NULL || len > sizeof(o->buf))
		return;
	memcpy(o->buf, payload, len);
	o->len = len;
	o->sent++;
}

void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	(void)io_ctx;
	(void)ev;
}

static void
key_fill(uint8_t key[GSP_KEY_LEN], uint8_t seed)
{
	for (unsigned int i = 0; i < GSP_KEY_LEN; i++)
		key[i] = (uint8_t)(seed * 31 + i);
}

static struct gsp_keyring *
ring_of(enum gsp_cipher c, const uint8_t *seeds, unsigned int n)
{
	struct gsp_keyring *kr;
	uint8_t key[GSP_KEY_LEN];
	uint32_t id;

	assert_int_equal(gsp_keyring_create(c, &kr), 0);
	for (unsigned int i = 0; i < n; i++) {
		key_fill(key, seeds[i]);
		assert_int_equal(gsp_keyring_add(kr, key, &id), 0);
	}
	return kr;
}

/* A plain SYN datagram with n digests. */
static uint16_t
plain_syn(uint8_t *buf, uint16_t cap, unsigned int n)
{
	struct gsp_wire_writer w;

	gsp_wire_begin(&w, buf, cap, GSP_MSG_SYN, gsp_cluster_hash(CLUSTER),
		       0x1111);
	gsp_wire_set_range(&w, 0, UINT64_MAX);
	for (unsigned int i = 0; i < n; i++) {
		struct gsp_digest d = { .id = 100 + i, .generation = 1,
					.version = i + 1 };

		assert_true(gsp_wire_put_digest(&w, &d));
	}
	return gsp_wire_finish(&w);
}

static void
test_keyring_ops(void **state)
{
	static const uint8_t seeds[] = { 1, 2, 3 };
	struct gsp_key_info info[GSP_KEYRING_MAX];
	struct gsp_keyring *kr = ring_of(GSP_CIPHER_AES256GCM, seeds, 3), *d;
	uint8_t key[GSP_KEY_LEN], back[GSP_KEY_LEN];
	uint32_t ids[3], id;

	(void)state;
	for (unsigned int i = 0; i < 3; i++) {
		key_fill(key, seeds[i]);
		ids[i] = gsp_key_id(GSP_CIPHER_AES256GCM, key);
		assert_int_not_equal(ids[i], 0);
		/* the cipher is part of the id */
		assert_int_not_equal(ids[i],
			gsp_key_id(GSP_CIPHER_CHACHA20POLY1305, key));
	}
	assert_int_equal(gsp_keyring_count(kr), 3);
	assert_int_equal(gsp_keyring_primary(kr), ids[0]);
	key_fill(key, 2);
	assert_int_equal(gsp_keyring_add(kr, key, &id), -EEXIST);
	assert_int_equal(id, ids[1]);
	assert_int_equal(gsp_keyring_use(kr, 0xdeadbeef), -ENOENT);
	assert_int_equal(gsp_keyring_remove(kr, ids[0]), -EBUSY);
	assert_int_equal(gsp_keyring_use(kr, ids[2]), 0);
	assert_int_equal(gsp_keyring_remove(kr, ids[0]), 0);
	assert_int_equal(gsp_keyring_count(kr), 2);
	/* primary first in the list, and still the same key after removal
	 * moved slots around */
	assert_int_equal(gsp_keyring_list(kr, info, GSP_KEYRING_MAX), 2);
	assert_true(info[0].primary && info[0].id == ids[2]);
	assert_true(!info[1].primary && info[1].id == ids[1]);
	assert_true(gsp_keyring_key(kr, ids[2], back));
	key_fill(key, 3);
	assert_memory_equal(key, back, GSP_KEY_LEN);
	assert_false(gsp_keyring_key(kr, ids[0], back));
	d = gsp_keyring_dup(kr);
	assert_non_null(d);
	assert_int_equal(gsp_keyring_primary(d), ids[2]);
	for (uint8_t s = 10; gsp_keyring_count(kr) < GSP_KEYRING_MAX; s++) {
		key_fill(key, s);
		assert_int_equal(gsp_keyring_add(kr, key, &id), 0);
	}
	key_fill(key, 99);
	assert_int_equal(gsp_keyring_add(kr, key, &id), -ENOSPC);
	assert_int_equal(gsp_keyring_count(d), 2);	/* a deep copy */
	gsp_keyring_destroy(kr);
	gsp_keyring_destroy(d);
	assert_int_equal(gsp_cipher_parse("aes-256-gcm"), GSP_CIPHER_AES256GCM);
	assert_int_equal(gsp_cipher_parse("chacha20-poly1305"),
			 GSP_CIPHER_CHACHA20POLY1305);
	assert_int_equal(gsp_cipher_parse("des"), 0);
}

static void
roundtrip(enum gsp_cipher c)
{
	static const uint8_t one = 7;
	struct gsp_keyring *kr = ring_of(c, &one, 1);
	uint8_t plain[1600], sealed[1700], opened[1700];
	struct gsp_sec_tx tx;
	struct gsp_sec_rx rx;
	uint16_t n_digests[] = { 0, 1, 10, 59 };

	gsp_sec_tx_init(&tx, 42);
	for (unsigned int i = 0; i < 4; i++) {
		uint16_t len = plain_syn(plain, 1472, n_digests[i]), slen, olen;
		uint64_t seq = tx.seq;

		slen = gsp_sec_seal(kr, &tx, plain, len, sealed);
		assert_int_equal(slen, len + GSP_SEC_OVERHEAD);
		assert_true(gsp_sec_is_sealed(sealed, slen));
		/* the body is not in the clear */
		if (len > GSP_WIRE_HDR_LEN + 16)
			assert_memory_not_equal(plain + GSP_WIRE_HDR_LEN,
				sealed + GSP_WIRE_HDR_LEN + GSP_SEC_BLOCK_LEN,
				16);
		assert_int_equal(gsp_sec_open(kr, gsp_cluster_hash(CLUSTER),
					      sealed, slen, opened, &olen, &rx),
				 GSP_RX_OK);
		assert_int_equal(olen, len);
		assert_memory_equal(opened, plain, len);
		assert_int_equal(rx.sender_id, 0x1111);
		assert_int_equal(rx.generation, 42);
		assert_int_equal(rx.seq, seq);
		assert_true(rx.primary);
	}
	gsp_keyring_destroy(kr);
}

static void
test_roundtrip_aes(void **state)
{
	(void)state;
	if (!gsp_cipher_available(GSP_CIPHER_AES256GCM))
		skip();
	roundtrip(GSP_CIPHER_AES256GCM);
}

static void
test_roundtrip_chacha(void **state)
{
	(void)state;
	roundtrip(GSP_CIPHER_CHACHA20POLY1305);
}

/* Every way a sealed datagram is refused. */
static void
test_open_refuses(void **state)
{
	static const uint8_t k1 = 1, k2 = 2, k12[] = { 2, 1 };
	struct gsp_keyring *kr = ring_of(GSP_CIPHER_CHACHA20POLY1305, &k1, 1);
	struct gsp_keyring *other = ring_of(GSP_CIPHER_CHACHA20POLY1305, &k2, 1);
	struct gsp_keyring *both = ring_of(GSP_CIPHER_CHACHA20POLY1305, k12, 2);
	uint32_t cl = gsp_cluster_hash(CLUSTER);
	uint8_t plain[512], sealed[600], bad[600], out[600];
	struct gsp_sec_tx tx;
	struct gsp_sec_rx rx;
	uint16_t len, slen, olen;

	(void)state;
	gsp_sec_tx_init(&tx, 1);
	len = plain_syn(plain, 512, 3);
	slen = gsp_sec_seal(kr, &tx, plain, len, sealed);

	assert_int_equal(gsp_sec_open(kr, cl, plain, len, out, &olen, &rx),
			 GSP_RX_UNSEALED);
	assert_int_equal(gsp_sec_open(kr, cl, sealed, 10, out, &olen, &rx),
			 GSP_RX_TRUNCATED);
	assert_int_equal(gsp_sec_open(kr, cl, sealed, GSP_WIRE_HDR_LEN + 30,
				      out, &olen, &rx), GSP_RX_TRUNCATED);
	assert_int_equal(gsp_sec_open(kr, cl, sealed, slen - 1, out, &olen,
				      &rx), GSP_RX_BAD_LENGTH);
	assert_int_equal(gsp_sec_open(kr, cl ^ 1, sealed, slen, out, &olen,
				      &rx), GSP_RX_WRONG_CLUSTER);
	assert_int_equal(gsp_sec_open(other, cl, sealed, slen, out, &olen,
				      &rx), GSP_RX_UNKNOWN_KEY);
	/* a ring holding the key opens it, though not with its primary */
	assert_int_equal(gsp_sec_open(both, cl, sealed, slen, out, &olen, &rx),
			 GSP_RX_OK);
	assert_false(rx.primary);

	/* any bit flipped anywhere after the framing fields: forged */
	for (uint16_t i = 0; i < slen; i++) {
		int rc;

		memcpy(bad, sealed, slen);
		bad[i] ^= 0x01;
		rc = gsp_sec_open(kr, cl, bad, slen, out, &olen, &rx);
		assert_int_not_equal(rc, GSP_RX_OK);
		if (i >= GSP_HDR_OFF_SENDER && !(i >= GSP_WIRE_HDR_LEN &&
		    i < GSP_WIRE_HDR_LEN + GSP_SEC_OFF_SALT))
			assert_int_equal(rc, GSP_RX_FORGED);
	}
	gsp_keyring_destroy(kr);
	gsp_keyring_destroy(other);
	gsp_keyring_destroy(both);
}

static void
test_nonces_differ(void **state)
{
	static const uint8_t k = 5;
	struct gsp_keyring *kr = ring_of(GSP_CIPHER_CHACHA20POLY1305, &k, 1);
	uint8_t plain[256], a[300], b[300];
	struct gsp_sec_tx t1, t2;
	uint16_t len, la, lb;

	(void)state;
	gsp_sec_tx_init(&t1, 1);
	gsp_sec_tx_init(&t2, 1);
	/* two processes with the same generation: still different nonces */
	assert_true(t1.salt != t2.salt || t1.seq != t2.seq);
	assert_true(t1.seq < (1ull << 63));
	len = plain_syn(plain, 256, 2);
	la = gsp_sec_seal(kr, &t1, plain, len, a);
	lb = gsp_sec_seal(kr, &t1, plain, len, b);
	assert_int_equal(la, lb);
	assert_int_equal(gsp_get_le64(b + GSP_WIRE_HDR_LEN + GSP_SEC_OFF_SEQ),
		gsp_get_le64(a + GSP_WIRE_HDR_LEN + GSP_SEC_OFF_SEQ) + 1);
	assert_memory_not_equal(a + GSP_WIRE_HDR_LEN + GSP_SEC_BLOCK_LEN,
				b + GSP_WIRE_HDR_LEN + GSP_SEC_BLOCK_LEN,
				la - GSP_WIRE_HDR_LEN - GSP_SEC_BLOCK_LEN);
	gsp_keyring_destroy(kr);
}

#define S_NS 1000000000ull

static int
replay_at(struct gsp_replay *r, uint64_t gen, uint64_t seq, uint64_t now_s)
{
	struct gsp_sec_rx rx = { .sender_id = 9, .generation = gen,
				 .seq = seq };

	return gsp_replay_admit(r, &rx, now_s * S_NS);
}

static int
replay_try(struct gsp_replay *r, uint64_t gen, uint64_t seq)
{
	return replay_at(r, gen, seq, 100);
}

static void
test_replay_window(void **state)
{
	struct gsp_replay r = { 0 };
	struct gsp_sec_rx other = { .sender_id = 10, .generation = 1,
				    .seq = 1 };

	(void)state;
	/* a new sender: the first datagram is held, the second of the same
	 * stream sets the window */
	assert_int_equal(replay_try(&r, 5, 1000), GSP_RX_OK);
	assert_int_equal(r.generation, 0);
	assert_int_equal(replay_try(&r, 5, 1000), GSP_RX_REPLAY);
	assert_int_equal(replay_try(&r, 5, 1001), GSP_RX_OK);
	assert_int_equal(r.generation, 5);
	assert_int_equal(r.top, 1001);
	assert_int_equal(replay_try(&r, 5, 1000), GSP_RX_REPLAY);
	assert_int_equal(replay_try(&r, 5, 1001), GSP_RX_REPLAY);
	/* reordering inside the window is fine, once */
	assert_int_equal(replay_try(&r, 5, 1100), GSP_RX_OK);
	assert_int_equal(replay_try(&r, 5, 1050), GSP_RX_OK);
	assert_int_equal(replay_try(&r, 5, 1050), GSP_RX_REPLAY);
	assert_int_equal(replay_try(&r, 5, 1001), GSP_RX_REPLAY);
	assert_int_equal(replay_try(&r, 5, 1100 - GSP_REPLAY_WINDOW + 1),
			 GSP_RX_OK);
	/* older than the window: cannot tell, refused */
	assert_int_equal(replay_try(&r, 5, 1100 - GSP_REPLAY_WINDOW),
			 GSP_RX_REPLAY);
	/* shifts across word boundaries keep what was seen */
	for (uint64_t s = 1101; s < 1101 + 3 * 64 + 7; s += 13)
		assert_int_equal(replay_try(&r, 5, s), GSP_RX_OK);
	for (uint64_t s = 1101; s < 1101 + 3 * 64 + 7; s += 13)
		assert_int_equal(replay_try(&r, 5, s), GSP_RX_REPLAY);
	assert_int_equal(replay_try(&r, 5, 1102), GSP_RX_OK);
	/* a step of up to GSP_REPLAY_STEP moves the window at once */
	assert_int_equal(r.top, 1296);
	assert_int_equal(replay_try(&r, 5, 1296 + GSP_REPLAY_STEP), GSP_RX_OK);
	assert_int_equal(r.top, 1296 + GSP_REPLAY_STEP);
	/* a jump further is held until a second datagram confirms it */
	assert_int_equal(replay_try(&r, 5, 1000000), GSP_RX_OK);
	assert_int_equal(r.top, 1296 + GSP_REPLAY_STEP);
	assert_int_equal(replay_try(&r, 5, 1000000), GSP_RX_REPLAY);
	assert_int_equal(replay_try(&r, 5, 999999), GSP_RX_OK);
	assert_int_equal(r.top, 1000000);
	assert_int_equal(replay_try(&r, 5, 1000000), GSP_RX_REPLAY);
	assert_int_equal(replay_try(&r, 5, 999999), GSP_RX_REPLAY);
	/* an earlier life of the sender is a replay; a later one is held,
	 * then confirmed */
	assert_int_equal(replay_try(&r, 4, 5000000), GSP_RX_REPLAY);
	assert_int_equal(replay_try(&r, 6, 3), GSP_RX_OK);
	assert_int_equal(r.generation, 5);
	assert_int_equal(replay_try(&r, 6, 3), GSP_RX_REPLAY);
	assert_int_equal(replay_try(&r, 6, 4), GSP_RX_OK);
	assert_int_equal(r.generation, 6);
	assert_int_equal(replay_try(&r, 5, 1000001), GSP_RX_REPLAY);
	assert_int_equal(replay_try(&r, 6, 3), GSP_RX_REPLAY);
	/* another sender takes the entry over */
	assert_int_equal(gsp_replay_admit(&r, &other, 100 * S_NS), GSP_RX_OK);
	assert_int_equal(r.sender_id, 10);
}

/*
 * One datagram at an extreme sequence or generation, as a buggy key
 * holder could seal, must not push the window past the real sender: its
 * traffic goes on being taken, and replays of it stay refused.
 */
static void
test_replay_extremes(void **state)
{
	static const uint64_t far[] = { UINT64_MAX, UINT64_MAX - 1,
					(1ull << 63), 1000 + 2 * GSP_REPLAY_STEP };
	static const uint64_t gens[] = { 6, UINT64_MAX };

	(void)state;
	for (size_t f = 0; f < sizeof(far) / sizeof(far[0]); f++) {
		struct gsp_replay r = { 0 };
		uint64_t seq = 1000;

		assert_int_equal(replay_try(&r, 5, seq++), GSP_RX_OK);
		assert_int_equal(replay_try(&r, 5, seq++), GSP_RX_OK);
		assert_int_equal(replay_at(&r, 5, far[f], 100), GSP_RX_OK);
		assert_int_equal(replay_at(&r, 5, far[f], 100), GSP_RX_REPLAY);
		/* the real sender, later on, a datagram per second */
		for (uint64_t t = 101; t < 400; t++)
			assert_int_equal(replay_at(&r, 5, seq++, t), GSP_RX_OK);
		assert_int_equal(replay_at(&r, 5, seq - 1, 400), GSP_RX_REPLAY);
		assert_true(r.top < 2000);
	}
	for (size_t g = 0; g < sizeof(gens) / sizeof(gens[0]); g++) {
		struct gsp_replay r = { 0 };
		uint64_t seq = 1000;

		assert_int_equal(replay_try(&r, 5, seq++), GSP_RX_OK);
		assert_int_equal(replay_try(&r, 5, seq++), GSP_RX_OK);
		assert_int_equal(replay_try(&r, gens[g], seq + 7), GSP_RX_OK);
		for (int i = 0; i < 100; i++)
			assert_int_equal(replay_try(&r, 5, seq++), GSP_RX_OK);
		assert_int_equal(r.generation, 5);
	}
	/* a new sender's window cannot be set by one datagram either */
	{
		struct gsp_replay r = { 0 };

		assert_int_equal(replay_try(&r, 5, UINT64_MAX), GSP_RX_OK);
		assert_int_equal(replay_try(&r, 5, 77), GSP_RX_OK);
		assert_int_equal(replay_try(&r, 5, 78), GSP_RX_OK);
		assert_int_equal(r.top, 78);
		assert_int_equal(replay_try(&r, 5, 77), GSP_RX_REPLAY);
	}
	/* two datagrams of one stream far apart in time confirm each
	 * other: a sender that talks to us once a minute moves the window */
	{
		struct gsp_replay r = { 0 };

		assert_int_equal(replay_at(&r, 5, 10, 100), GSP_RX_OK);
		assert_int_equal(replay_at(&r, 5, 10 + 60 * 2000, 160),
				 GSP_RX_OK);
		assert_int_equal(r.top, 10 + 60 * 2000);
		assert_int_equal(replay_at(&r, 5, 10, 161), GSP_RX_REPLAY);
	}
}

/* Senders outside the table: a set fills, the least recently used goes;
 * a looked-up entry is kept. */
static void
test_replay_cache(void **state)
{
	struct gsp_replay_cache *c = calloc(1, sizeof(*c));
	struct gsp_replay *first;
	uint64_t same_set[GSP_REPLAY_CACHE_WAYS + 1];
	unsigned int n = 0;

	(void)state;
	assert_non_null(c);
	first = gsp_replay_cache_get(c, 1, 1 * S_NS);
	assert_int_equal(first->sender_id, 1);
	assert_ptr_equal(gsp_replay_cache_find(c, 1, 2 * S_NS), first);
	assert_null(gsp_replay_cache_find(c, 2, 2 * S_NS));
	/* ids that land in the first one's set */
	for (uint64_t id = 2; n < GSP_REPLAY_CACHE_WAYS; id++) {
		struct gsp_replay *e = gsp_replay_cache_get(c, id, 3 * S_NS);

		if ((size_t)(e - c->e) / GSP_REPLAY_CACHE_WAYS ==
		    (size_t)(first - c->e) / GSP_REPLAY_CACHE_WAYS)
			same_set[n++] = id;
		else
			memset(e, 0, sizeof(*e));
	}
	/* the set had room for 3 more; the 4th evicted the oldest (1) */
	assert_null(gsp_replay_cache_find(c, 1, 4 * S_NS));
	for (unsigned int i = 0; i < GSP_REPLAY_CACHE_WAYS; i++)
		assert_non_null(gsp_replay_cache_find(c, same_set[i], 4 * S_NS));
	free(c);
}

/* ---- nodes ---- */

static struct gsp_node *
node_with(const char *name, uint32_t ip, struct gsp_keyring *kr,
	  struct out *o)
{
	struct gsp_node_params p = {
		.generation = 1000 + ip,
		.addr = { ip, GSP_DEFAULT_PORT },
		.capacity = 64,
		.gossip_interval_ns = 100 * MS,
		.fanout = 1,
		.phi_suspect = 5,
		.phi_convict = 8,
		.forget_ns = 60000 * MS,
		.max_payload = 1472,
		.leave_rounds = 1,
		.detector = GSP_DETECT_OFF,
		.rng_seed = 1,
		.io_ctx = o,
		.keyring = kr,
	};
	struct gsp_node *n;
	int err;

	snprintf(p.cluster, sizeof(p.cluster), "%s", CLUSTER);
	snprintf(p.name, sizeof(p.name), "%s", name);
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	return n;
}

static struct gsp_node_counters
ctr(const struct gsp_node *n)
{
	struct gsp_node_counters c;

	gsp_node_counters_read(n, &c);
	return c;
}

static void
test_nodes_authenticate(void **state)
{
	static const uint8_t k1 = 1, k2 = 2, k12[] = { 1, 2 }, k21[] = { 2, 1 };
	struct gsp_keyring *r1 = ring_of(GSP_CIPHER_CHACHA20POLY1305, &k1, 1);
	struct gsp_keyring *r2 = ring_of(GSP_CIPHER_CHACHA20POLY1305, &k2, 1);
	struct gsp_keyring *r12 = ring_of(GSP_CIPHER_CHACHA20POLY1305, k12, 2);
	struct gsp_keyring *r21 = ring_of(GSP_CIPHER_CHACHA20POLY1305, k21, 2);
	struct out oa = { 0 }, ob = { 0 }, oc = { 0 }, od = { 0 };
	struct gsp_node *a = node_with("a", 1, r1, &oa);
	struct gsp_node *b = node_with("b", 2, r1, &ob);
	struct gsp_node *c = node_with("c", 3, r2, &oc);
	struct gsp_node *d = node_with("d", 4, NULL, &od);
	struct gsp_addr seed = { 2, GSP_DEFAULT_PORT };
	struct gsp_addr src = { 1, GSP_DEFAULT_PORT };
	uint8_t first[2048];
	uint16_t first_len;
	uint64_t now = 1000 * MS;

	(void)state;
	gsp_node_set_seeds(a, &seed, 1);
	gsp_node_tick(a, now);
	assert_true(oa.sent > 0);
	assert_true(gsp_sec_is_sealed(oa.buf, oa.len));
	assert_true(oa.len <= 1472);
	memcpy(first, oa.buf, oa.len);
	first_len = oa.len;

	gsp_node_rx(b, &src, first, first_len, now, NULL);
	assert_int_equal(ctr(b).rx_key_primary, 1);
	assert_int_equal(ctr(b).rx_drop[GSP_RX_REPLAY], 0);
	gsp_node_rx(b, &src, first, first_len, now, NULL);	/* once more */
	assert_int_equal(ctr(b).rx_drop[GSP_RX_REPLAY], 1);
	gsp_node_rx(c, &src, first, first_len, now, NULL);	/* wrong key */
	assert_int_equal(ctr(c).rx_drop[GSP_RX_UNKNOWN_KEY], 1);
	gsp_node_rx(d, &src, first, first_len, now, NULL);	/* plaintext node */
	assert_int_equal(ctr(d).rx_drop[GSP_RX_SEALED], 1);
	/* d's own plaintext packets are refused by the authenticated b */
	gsp_node_set_seeds(d, &seed, 1);
	gsp_node_tick(d, now);
	assert_false(gsp_sec_is_sealed(od.buf, od.len));
	gsp_node_rx(b, &src, od.buf, od.len, now, NULL);
	assert_int_equal(ctr(b).rx_drop[GSP_RX_UNSEALED], 1);

	/* rotation: a starts sealing with k2 before b knows it */
	assert_int_equal(gsp_node_set_keyring(a, r21), 0);
	now += 200 * MS;
	gsp_node_tick(a, now);
	gsp_node_rx(b, &src, oa.buf, oa.len, now, NULL);
	assert_int_equal(ctr(b).rx_drop[GSP_RX_UNKNOWN_KEY], 1);
	/* b installs k2 (still sealing with k1): it opens a's, not primary */
	assert_int_equal(gsp_node_set_keyring(b, r12), 0);
	now += 200 * MS;
	gsp_node_tick(a, now);
	gsp_node_rx(b, &src, oa.buf, oa.len, now, NULL);
	assert_int_equal(ctr(b).rx_key_other, 1);
	/* a plaintext node cannot be given keys, nor a node another cipher */
	assert_int_equal(gsp_node_set_keyring(d, r1), -EINVAL);
	gsp_node_destroy(a);
	gsp_node_destroy(b);
	gsp_node_destroy(c);
	gsp_node_destroy(d);
	gsp_keyring_destroy(r1);
	gsp_keyring_destroy(r2);
	gsp_keyring_destroy(r12);
	gsp_keyring_destroy(r21);
}

/* A datagram bigger than any MTU we run is refused before any work. */
static void
test_oversized(void **state)
{
	static uint8_t big[9000];
	struct out o = { 0 };
	struct gsp_node *n = node_with("n", 9, NULL, &o);
	struct gsp_addr src = { 1, GSP_DEFAULT_PORT };

	(void)state;
	gsp_node_rx(n, &src, big, sizeof(big), 1, NULL);
	assert_int_equal(ctr(n).rx_drop[GSP_RX_OVERSIZED], 1);
	gsp_node_destroy(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyring_ops),
		cmocka_unit_test(test_roundtrip_aes),
		cmocka_unit_test(test_roundtrip_chacha),
		cmocka_unit_test(test_open_refuses),
		cmocka_unit_test(test_nonces_differ),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_replay_extremes),
		cmocka_unit_test(test_replay_cache),
		cmocka_unit_test(test_nodes_authenticate),
		cmocka_unit_test(test_oversized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
