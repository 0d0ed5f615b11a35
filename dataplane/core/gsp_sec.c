/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet authentication: keyring, AEAD seal/open, replay window
 * (gsp_sec.h, docs/SECURITY.md). The cryptography is libsodium's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gsp_core.h"
#include "gsp_sec.h"
#include "gsp_util.h"
#include "gsp_wire.h"

#define GSP_NONCE_LEN 12
#define GSP_KEY_ID_CONTEXT "gossipd key id v1"

_Static_assert(crypto_aead_aes256gcm_NPUBBYTES == GSP_NONCE_LEN, "nonce");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == GSP_NONCE_LEN,
	       "nonce");
_Static_assert(crypto_aead_aes256gcm_ABYTES == GSP_SEC_TAG_LEN, "tag");
_Static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == GSP_SEC_TAG_LEN,
	       "tag");
_Static_assert(crypto_aead_aes256gcm_KEYBYTES == GSP_KEY_LEN, "key");
_Static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == GSP_KEY_LEN,
	       "key");
_Static_assert(GSP_REPLAY_WINDOW % 64 == 0, "replay window in words");

struct gsp_key_slot {
	crypto_aead_aes256gcm_state aes;	/* expanded key, AES-GCM */
	uint8_t raw[GSP_KEY_LEN];
	uint32_t id;
};

struct gsp_keyring {
	struct gsp_key_slot keys[GSP_KEYRING_MAX];
	enum gsp_cipher cipher;
	unsigned int n;
	unsigned int primary;		/* index into keys */
};

static bool
gsp_sodium_ready(void)
{
	return sodium_init() >= 0;	/* idempotent and thread-safe */
}

enum gsp_cipher
gsp_cipher_parse(const char *name)
{
	if (strcmp(name, "aes-256-gcm") == 0)
		return GSP_CIPHER_AES256GCM;
	if (strcmp(name, "chacha20-poly1305") == 0)
		return GSP_CIPHER_CHACHA20POLY1305;
	return 0;
}

const char *
gsp_cipher_name(enum gsp_cipher c)
{
	switch (c) {
	case GSP_CIPHER_AES256GCM:
		return "aes-256-gcm";
	case GSP_CIPHER_CHACHA20POLY1305:
		return "chacha20-poly1305";
	}
	return "none";
}

bool
gsp_cipher_available(enum gsp_cipher c)
{
	if (!gsp_sodium_ready())
		return false;
	if (c == GSP_CIPHER_AES256GCM)
		return crypto_aead_aes256gcm_is_available() != 0;
	return c == GSP_CIPHER_CHACHA20POLY1305;
}

uint32_t
gsp_key_id(enum gsp_cipher c, const uint8_t key[GSP_KEY_LEN])
{
	uint8_t msg[sizeof(GSP_KEY_ID_CONTEXT) + 1 + GSP_KEY_LEN];
	uint8_t h[crypto_generichash_BYTES_MIN];
	uint32_t id;

	/* the cipher is hashed in: a cluster mixing ciphers sees unknown
	 * key ids rather than forgeries */
	memcpy(msg, GSP_KEY_ID_CONTEXT, sizeof(GSP_KEY_ID_CONTEXT));
	msg[sizeof(GSP_KEY_ID_CONTEXT)] = (uint8_t)c;
	memcpy(msg + sizeof(GSP_KEY_ID_CONTEXT) + 1, key, GSP_KEY_LEN);
	crypto_generichash(h, sizeof(h), msg, sizeof(msg), NULL, 0);
	sodium_memzero(msg, sizeof(msg));
	id = gsp_get_le32(h);
	return id != 0 ? id : 1;
}

int
gsp_keyring_create(enum gsp_cipher c, struct gsp_keyring **out)
{
	struct gsp_keyring *kr;

	*out = NULL;
	if (c != GSP_CIPHER_AES256GCM && c != GSP_CIPHER_CHACHA20POLY1305)
		return -EINVAL;
	if (!gsp_cipher_available(c))
		return -ENOTSUP;
	kr = aligned_alloc(64, (sizeof(*kr) + 63) & ~(size_t)63);
	if (kr == NULL)
		return -ENOMEM;
	memset(kr, 0, sizeof(*kr));
	kr->cipher = c;
	*out = kr;
	return 0;
}

void
gsp_keyring_destroy(struct gsp_keyring *kr)
{
	if (kr == NULL)
		return;
	sodium_memzero(kr, sizeof(*kr));
	free(kr);
}

struct gsp_keyring *
gsp_keyring_dup(const struct gsp_keyring *kr)
{
	struct gsp_keyring *c;

	if (gsp_keyring_create(kr->cipher, &c) != 0)
		return NULL;
	memcpy(c, kr, sizeof(*c));
	return c;
}

enum gsp_cipher
gsp_keyring_cipher(const struct gsp_keyring *kr)
{
	return kr->cipher;
}

static int
gsp_keyring_find(const struct gsp_keyring *kr, uint32_t id)
{
	for (unsigned int i = 0; i < kr->n; i++)
		if (kr->keys[i].id == id)
			return (int)i;
	return -1;
}

int
gsp_keyring_add(struct gsp_keyring *kr, const uint8_t key[GSP_KEY_LEN],
		uint32_t *id)
{
	struct gsp_key_slot *k;

	*id = gsp_key_id(kr->cipher, key);
	if (gsp_keyring_find(kr, *id) >= 0)
		return -EEXIST;
	if (kr->n == GSP_KEYRING_MAX)
		return -ENOSPC;
	k = &kr->keys[kr->n];
	memcpy(k->raw, key, GSP_KEY_LEN);
	k->id = *id;
	if (kr->cipher == GSP_CIPHER_AES256GCM)
		crypto_aead_aes256gcm_beforenm(&k->aes, key);
	if (kr->n == 0)
		kr->primary = 0;
	kr->n++;
	return 0;
}

int
gsp_keyring_use(struct gsp_keyring *kr, uint32_t id)
{
	int i = gsp_keyring_find(kr, id);

	if (i < 0)
		return -ENOENT;
	kr->primary = (unsigned int)i;
	return 0;
}

int
gsp_keyring_remove(struct gsp_keyring *kr, uint32_t id)
{
	int i = gsp_keyring_find(kr, id);

	if (i < 0)
		return -ENOENT;
	if ((unsigned int)i == kr->primary)
		return -EBUSY;
	kr->n--;
	if ((unsigned int)i != kr->n)
		memcpy(&kr->keys[i], &kr->keys[kr->n], sizeof(kr->keys[i]));
	if (kr->primary == kr->n)
		kr->primary = (unsigned int)i;	/* it moved */
	sodium_memzero(&kr->keys[kr->n], sizeof(kr->keys[kr->n]));
	return 0;
}

unsigned int
gsp_keyring_count(const struct gsp_keyring *kr)
{
	return kr->n;
}

uint32_t
gsp_keyring_primary(const struct gsp_keyring *kr)
{
	return kr->n > 0 ? kr->keys[kr->primary].id : 0;
}

unsigned int
gsp_keyring_list(const struct gsp_keyring *kr, struct gsp_key_info *out,
		 unsigned int max)
{
	unsigned int n = 0;

	if (kr->n > 0 && n < max)
		out[n++] = (struct gsp_key_info){
			.id = kr->keys[kr->primary].id, .primary = true };
	for (unsigned int i = 0; i < kr->n && n < max; i++)
		if (i != kr->primary)
			out[n++] = (struct gsp_key_info){ .id = kr->keys[i].id };
	return n;
}

bool
gsp_keyring_key(const struct gsp_keyring *kr, uint32_t id,
		uint8_t key[GSP_KEY_LEN])
{
	int i = gsp_keyring_find(kr, id);

	if (i < 0)
		return false;
	memcpy(key, kr->keys[i].raw, GSP_KEY_LEN);
	return true;
}

/* ---- sealing ---- */

void
gsp_sec_tx_init(struct gsp_sec_tx *tx, uint64_t generation)
{
	uint64_t seq;

	gsp_sodium_ready();
	tx->salt = randombytes_random();
	randombytes_buf(&seq, sizeof(seq));
	/* below 2^63: the sequence cannot wrap within any lifetime */
	tx->seq = seq >> 1;
	tx->generation = generation;
}

bool
gsp_sec_is_sealed(const uint8_t *in, uint16_t len)
{
	return len >= GSP_WIRE_HDR_LEN &&
		(gsp_get_le16(in + GSP_HDR_OFF_FLAGS) & GSP_HDR_FLAG_SEALED);
}

uint16_t
gsp_sec_seal(const struct gsp_keyring *kr, struct gsp_sec_tx *tx,
	     const uint8_t *in, uint16_t len, uint8_t *out)
{
	const struct gsp_key_slot *k = &kr->keys[kr->primary];
	uint8_t *blk = out + GSP_WIRE_HDR_LEN;
	uint32_t total = (uint32_t)len + GSP_SEC_OVERHEAD;
	unsigned long long clen;

	if (len < GSP_WIRE_HDR_LEN || total > UINT16_MAX || kr->n == 0)
		return 0;
	memcpy(out, in, GSP_WIRE_HDR_LEN);
	gsp_put_le16(out + GSP_HDR_OFF_FLAGS,
		     gsp_get_le16(in + GSP_HDR_OFF_FLAGS) | GSP_HDR_FLAG_SEALED);
	gsp_put_le16(out + GSP_HDR_OFF_LENGTH, (uint16_t)total);
	gsp_put_le32(blk + GSP_SEC_OFF_KEY_ID, k->id);
	gsp_put_le32(blk + GSP_SEC_OFF_SALT, tx->salt);
	gsp_put_le64(blk + GSP_SEC_OFF_SEQ, tx->seq++);
	gsp_put_le64(blk + GSP_SEC_OFF_GENERATION, tx->generation);
	if (kr->cipher == GSP_CIPHER_AES256GCM)
		crypto_aead_aes256gcm_encrypt_afternm(
			blk + GSP_SEC_BLOCK_LEN, &clen, in + GSP_WIRE_HDR_LEN,
			len - GSP_WIRE_HDR_LEN, out,
			GSP_WIRE_HDR_LEN + GSP_SEC_BLOCK_LEN, NULL,
			blk + GSP_SEC_OFF_SALT, &k->aes);
	else
		crypto_aead_chacha20poly1305_ietf_encrypt(
			blk + GSP_SEC_BLOCK_LEN, &clen, in + GSP_WIRE_HDR_LEN,
			len - GSP_WIRE_HDR_LEN, out,
			GSP_WIRE_HDR_LEN + GSP_SEC_BLOCK_LEN, NULL,
			blk + GSP_SEC_OFF_SALT, k->raw);
	return (uint16_t)total;
}

int
gsp_sec_open(const struct gsp_keyring *kr, uint32_t cluster,
	     const uint8_t *in, uint16_t len, uint8_t *out,
	     uint16_t *out_len, struct gsp_sec_rx *info)
{
	const uint8_t *blk = in + GSP_WIRE_HDR_LEN;
	const struct gsp_key_slot *k;
	unsigned long long mlen;
	uint16_t flags;
	int i, rc;

	rc = gsp_wire_check_prefix(in, len);
	if (rc != GSP_RX_OK)
		return rc;
	flags = gsp_get_le16(in + GSP_HDR_OFF_FLAGS);
	if (!(flags & GSP_HDR_FLAG_SEALED))
		return GSP_RX_UNSEALED;
	if (len < GSP_WIRE_HDR_LEN + GSP_SEC_OVERHEAD)
		return GSP_RX_TRUNCATED;
	rc = gsp_wire_check_frame(in, len, cluster);
	if (rc != GSP_RX_OK)
		return rc;
	i = gsp_keyring_find(kr, gsp_get_le32(blk + GSP_SEC_OFF_KEY_ID));
	if (i < 0)
		return GSP_RX_UNKNOWN_KEY;
	k = &kr->keys[i];
	if (kr->cipher == GSP_CIPHER_AES256GCM)
		rc = crypto_aead_aes256gcm_decrypt_afternm(
			out + GSP_WIRE_HDR_LEN, &mlen, NULL,
			blk + GSP_SEC_BLOCK_LEN,
			len - GSP_WIRE_HDR_LEN - GSP_SEC_BLOCK_LEN, in,
			GSP_WIRE_HDR_LEN + GSP_SEC_BLOCK_LEN,
			blk + GSP_SEC_OFF_SALT, &k->aes);
	else
		rc = crypto_aead_chacha20poly1305_ietf_decrypt(
			out + GSP_WIRE_HDR_LEN, &mlen, NULL,
			blk + GSP_SEC_BLOCK_LEN,
			len - GSP_WIRE_HDR_LEN - GSP_SEC_BLOCK_LEN, in,
			GSP_WIRE_HDR_LEN + GSP_SEC_BLOCK_LEN,
			blk + GSP_SEC_OFF_SALT, k->raw);
	if (rc != 0)
		return GSP_RX_FORGED;
	memcpy(out, in, GSP_WIRE_HDR_LEN);
	gsp_put_le16(out + GSP_HDR_OFF_FLAGS, flags & ~GSP_HDR_FLAG_SEALED);
	*out_len = (uint16_t)(len - GSP_SEC_OVERHEAD);
	gsp_put_le16(out + GSP_HDR_OFF_LENGTH, *out_len);
	info->sender_id = gsp_get_le64(in + GSP_HDR_OFF_SENDER);
	info->generation = gsp_get_le64(blk + GSP_SEC_OFF_GENERATION);
	info->seq = gsp_get_le64(blk + GSP_SEC_OFF_SEQ);
	info->primary = (unsigned int)i == kr->primary;
	return GSP_RX_OK;
}

/* ---- replay window ---- */

/* bits <<= s, as one GSP_REPLAY_WINDOW-bit number (bit i: top - i) */
static void
gsp_replay_shift(uint64_t *bits, uint64_t s)
{
	const unsigned int words = GSP_REPLAY_WINDOW / 64;
	unsigned int w, b;

	if (s >= GSP_REPLAY_WINDOW) {
		memset(bits, 0, words * sizeof(*bits));
		return;
	}
	w = (unsigned int)(s / 64);
	b = (unsigned int)(s % 64);
	for (unsigned int i = words; i-- > 0;) {
		uint64_t v = 0;

		if (i >= w) {
			v = bits[i - w] << b;
			if (b != 0 && i > w)
				v |= bits[i - w - 1] >> (64 - b);
		}
		bits[i] = v;
	}
}

/* Marks seq seen when it is inside the window (top >= seq). */
static void
gsp_replay_mark(struct gsp_replay *r, uint64_t seq)
{
	uint64_t d = r->top - seq;

	if (d < GSP_REPLAY_WINDOW)
		r->bits[d / 64] |= 1ull << (d % 64);
}

static uint64_t
gsp_u64_dist(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* How far two datagrams of one sender, dt_s seconds apart, can be. */
static uint64_t
gsp_replay_reach(uint64_t dt_s)
{
	if (dt_s > (UINT64_MAX - GSP_REPLAY_STEP) / GSP_REPLAY_RATE)
		return UINT64_MAX;
	return GSP_REPLAY_STEP + GSP_REPLAY_RATE * dt_s;
}

/* A datagram beyond the window's reach, or of a generation it lacks. */
static int
gsp_replay_far(struct gsp_replay *r, const struct gsp_sec_rx *rx,
	       uint32_t now_s)
{
	uint64_t seq = rx->seq;

	if (r->far_generation == rx->generation) {
		if (r->far_seq == seq)
			return GSP_RX_REPLAY;
		if (gsp_u64_dist(seq, r->far_seq) <=
		    gsp_replay_reach((uint32_t)(now_s - r->far_s))) {
			/* two datagrams of one stream: the window moves */
			r->generation = rx->generation;
			r->top = seq > r->far_seq ? seq : r->far_seq;
			memset(r->bits, 0, sizeof(r->bits));
			gsp_replay_mark(r, seq);
			gsp_replay_mark(r, r->far_seq);
			r->far_generation = 0;
			r->far_seq = 0;
			return GSP_RX_OK;
		}
	}
	/* taken once and held: the newest far datagram replaces the last */
	r->far_generation = rx->generation;
	r->far_seq = seq;
	r->far_s = now_s;
	return GSP_RX_OK;
}

int
gsp_replay_admit(struct gsp_replay *r, const struct gsp_sec_rx *rx,
		 uint64_t now_ns)
{
	uint32_t now_s = (uint32_t)(now_ns / 1000000000ull);
	uint64_t d;

	if (r->sender_id != rx->sender_id) {
		memset(r, 0, sizeof(*r));
		r->sender_id = rx->sender_id;
	}
	if (r->generation == 0 || rx->generation > r->generation)
		return gsp_replay_far(r, rx, now_s);
	if (rx->generation < r->generation)
		return GSP_RX_REPLAY;		/* an earlier life of the sender */
	if (rx->seq > r->top) {
		d = rx->seq - r->top;
		if (d > GSP_REPLAY_STEP)
			return gsp_replay_far(r, rx, now_s);
		gsp_replay_shift(r->bits, d);
		r->top = rx->seq;
		r->bits[0] |= 1;
		return GSP_RX_OK;
	}
	d = r->top - rx->seq;
	if (d >= GSP_REPLAY_WINDOW)
		return GSP_RX_REPLAY;		/* too old to tell: refuse */
	if ((r->bits[d / 64] >> (d % 64)) & 1)
		return GSP_RX_REPLAY;
	r->bits[d / 64] |= 1ull << (d % 64);
	return GSP_RX_OK;
}

/* ---- windows of senders outside the table ---- */

static uint32_t
gsp_replay_cache_set(uint64_t sender_id)
{
	/* ids may be chosen by operators: mix before taking bits */
	return (uint32_t)((sender_id * 0x9e3779b97f4a7c15ull) >> 32) %
		GSP_REPLAY_CACHE_SETS;
}

struct gsp_replay *
gsp_replay_cache_find(struct gsp_replay_cache *c, uint64_t sender_id,
		      uint64_t now_ns)
{
	uint32_t base = gsp_replay_cache_set(sender_id) * GSP_REPLAY_CACHE_WAYS;

	if (sender_id == 0)
		return NULL;
	for (uint32_t w = 0; w < GSP_REPLAY_CACHE_WAYS; w++)
		if (c->e[base + w].sender_id == sender_id) {
			c->used_s[base + w] =
				(uint32_t)(now_ns / 1000000000ull);
			return &c->e[base + w];
		}
	return NULL;
}

struct gsp_replay *
gsp_replay_cache_get(struct gsp_replay_cache *c, uint64_t sender_id,
		     uint64_t now_ns)
{
	uint32_t base = gsp_replay_cache_set(sender_id) * GSP_REPLAY_CACHE_WAYS;
	uint32_t now_s = (uint32_t)(now_ns / 1000000000ull);
	struct gsp_replay *r = gsp_replay_cache_find(c, sender_id, now_ns);
	uint32_t victim = base;

	if (r != NULL)
		return r;
	for (uint32_t w = 0; w < GSP_REPLAY_CACHE_WAYS; w++) {
		uint32_t i = base + w;

		if (c->e[i].sender_id == 0) {
			victim = i;
			break;
		}
		if (now_s - c->used_s[i] > now_s - c->used_s[victim])
			victim = i;
	}
	memset(&c->e[victim], 0, sizeof(c->e[victim]));
	c->e[victim].sender_id = sender_id;
	c->used_s[victim] = now_s;
	return &c->e[victim];
}
