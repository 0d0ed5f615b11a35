/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet authentication (docs/SECURITY.md): a cluster keyring, AEAD
 * sealing and opening of whole gossip datagrams, and a per-sender replay
 * window. libsodium does the cryptography; this file holds no DPDK.
 *
 * A sealed datagram is the 24-byte gossip header in the clear (flag
 * GSP_HDR_FLAG_SEALED, length = the whole datagram), a 24-byte security
 * block in the clear, the body encrypted, and a 16-byte tag. Header and
 * block are authenticated as associated data, so neither can be altered.
 *
 *   block +0  key_id      u32  fingerprint of the key (and cipher) used
 *         +4  salt        u32  random per sender process }  the 96-bit
 *         +8  seq         u64  +1 per datagram sent      }  AEAD nonce
 *         +16 generation  u64  the sender's generation (replay window)
 *
 * Nonces never repeat under a key: seq starts at a random 64-bit value
 * from the OS CSPRNG and only grows, and salt separates senders. (The
 * core's seeded rng is not used here: a replayed seed must not replay
 * nonces.)
 */
#ifndef GSP_SEC_H
#define GSP_SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GSP_KEY_LEN 32
#define GSP_KEYRING_MAX 8
#define GSP_SEC_BLOCK_LEN 24
#define GSP_SEC_TAG_LEN 16
#define GSP_SEC_OVERHEAD (GSP_SEC_BLOCK_LEN + GSP_SEC_TAG_LEN)
#define GSP_HDR_FLAG_SEALED 0x8000	/* in the gossip header's flags */
#define GSP_REPLAY_WINDOW 256		/* sequence numbers remembered */

/* Security block offsets after the gossip header; pinned. */
#define GSP_SEC_OFF_KEY_ID 0
#define GSP_SEC_OFF_SALT 4
#define GSP_SEC_OFF_SEQ 8
#define GSP_SEC_OFF_GENERATION 16
#ifndef __cplusplus
_Static_assert(GSP_SEC_OFF_GENERATION + 8 == GSP_SEC_BLOCK_LEN,
	       "security block");
_Static_assert(GSP_SEC_OFF_SEQ + 8 - GSP_SEC_OFF_SALT == 12,
	       "salt + seq form the 96-bit nonce");
#endif

enum gsp_cipher {
	GSP_CIPHER_AES256GCM = 1,	/* needs AES-NI (libsodium's rule) */
	GSP_CIPHER_CHACHA20POLY1305 = 2,	/* IETF, 96-bit nonce */
};

struct gsp_keyring;

struct gsp_key_info {
	uint32_t id;
	bool primary;
};

/* "aes-256-gcm" / "chacha20-poly1305" <-> enum; 0: unknown name. */
enum gsp_cipher gsp_cipher_parse(const char *name);
const char *gsp_cipher_name(enum gsp_cipher c);
/* true when this machine can run the cipher (AES-NI for AES-GCM) */
bool gsp_cipher_available(enum gsp_cipher c);

/* The public fingerprint of a key under a cipher: what key_id carries and
 * what operators see. Never 0. */
uint32_t gsp_key_id(enum gsp_cipher c, const uint8_t key[GSP_KEY_LEN]);

/* 0, -ENOTSUP (cipher unavailable here), -EINVAL, -ENOMEM. */
int gsp_keyring_create(enum gsp_cipher c, struct gsp_keyring **out);
void gsp_keyring_destroy(struct gsp_keyring *kr);	/* wipes the keys */
/* A deep copy; NULL on no memory. */
struct gsp_keyring *gsp_keyring_dup(const struct gsp_keyring *kr);
enum gsp_cipher gsp_keyring_cipher(const struct gsp_keyring *kr);
/* Adds a key; the first becomes primary. 0 with *id set, -EEXIST (that
 * id is in the ring already), -ENOSPC (GSP_KEYRING_MAX keys). */
int gsp_keyring_add(struct gsp_keyring *kr, const uint8_t key[GSP_KEY_LEN],
		    uint32_t *id);
/* Seal with key id from now on. 0 or -ENOENT. */
int gsp_keyring_use(struct gsp_keyring *kr, uint32_t id);
/* 0, -ENOENT, -EBUSY (the primary cannot be removed). */
int gsp_keyring_remove(struct gsp_keyring *kr, uint32_t id);
unsigned int gsp_keyring_count(const struct gsp_keyring *kr);
uint32_t gsp_keyring_primary(const struct gsp_keyring *kr);
/* Up to max keys, primary first; returns how many. */
unsigned int gsp_keyring_list(const struct gsp_keyring *kr,
			      struct gsp_key_info *out, unsigned int max);
/* The raw key of id, for writing the keyring file back; false if none. */
bool gsp_keyring_key(const struct gsp_keyring *kr, uint32_t id,
		     uint8_t key[GSP_KEY_LEN]);

/* A sender's nonce state. */
struct gsp_sec_tx {
	uint32_t salt;
	uint64_t seq;			/* next one to use */
	uint64_t generation;
};

/* Random salt and starting sequence (OS CSPRNG). */
void gsp_sec_tx_init(struct gsp_sec_tx *tx, uint64_t generation);

/*
 * Seals the plain datagram in[0..len) (a gossip header + body) into out,
 * which must hold len + GSP_SEC_OVERHEAD bytes. Returns the sealed length,
 * or 0 when it would not fit 65535 bytes.
 */
uint16_t gsp_sec_seal(const struct gsp_keyring *kr, struct gsp_sec_tx *tx,
		      const uint8_t *in, uint16_t len, uint8_t *out);

/* What an opened datagram said about its sender. */
struct gsp_sec_rx {
	uint64_t sender_id;
	uint64_t generation;
	uint64_t seq;
	bool primary;			/* opened with the primary key */
};

/*
 * Checks and decrypts a sealed datagram into out (len - GSP_SEC_OVERHEAD
 * bytes): a plain gossip datagram whose header has the sealed flag
 * cleared and its length fixed, ready for gsp_wire_decode(). Returns
 * GSP_RX_OK with *out_len and *info set, or the enum gsp_rx_err reason:
 * TRUNCATED, BAD_MAGIC, BAD_VERSION, BAD_LENGTH, WRONG_CLUSTER, UNSEALED,
 * UNKNOWN_KEY, FORGED. Unless GSP_RX_OK, out holds nothing of the
 * plaintext (libsodium zeroes what it would have decrypted).
 */
int gsp_sec_open(const struct gsp_keyring *kr, uint32_t cluster,
		 const uint8_t *in, uint16_t len, uint8_t *out,
		 uint16_t *out_len, struct gsp_sec_rx *info);

/* true when a datagram carries the sealed flag (len >= header). */
bool gsp_sec_is_sealed(const uint8_t *in, uint16_t len);

/*
 * Replay window of one sender (docs/SECURITY.md "Replays"). A datagram is
 * taken once: inside the 256-wide sliding window over the sender's
 * sequence numbers, or as a step of at most GSP_REPLAY_STEP ahead of it.
 * Anything else (a new generation of the sender, a jump further ahead, a
 * sender not heard before) is a "far" datagram: taken once and
 * remembered, but it moves the window only when a second far datagram
 * confirms it, one within GSP_REPLAY_STEP + GSP_REPLAY_RATE per second
 * between the two. So no single datagram, even one sealed by a buggy key
 * holder with a sequence of 2^64-1 or a generation in the future, can
 * push the window past the real sender's traffic.
 */
#define GSP_REPLAY_STEP 4096		/* ahead of the top, one datagram */
#define GSP_REPLAY_RATE 65536		/* datagrams/s a sender can send */

struct gsp_replay {
	uint64_t sender_id;		/* 0: unused */
	uint64_t generation;		/* 0: no window yet */
	uint64_t top;			/* highest sequence in the window */
	uint64_t bits[GSP_REPLAY_WINDOW / 64];	/* bit i: top - i seen */
	uint64_t far_generation;	/* 0: no far datagram held */
	uint64_t far_seq;
	uint32_t far_s;			/* core clock (s) it came at */
	uint32_t reserved;
};

/*
 * Admits an authentic datagram: GSP_RX_OK (it is recorded as seen, taken
 * or not later, so it cannot come again) or GSP_RX_REPLAY. An entry of
 * another sender (or unused) is taken over for rx's sender first.
 */
int gsp_replay_admit(struct gsp_replay *r, const struct gsp_sec_rx *rx,
		     uint64_t now_ns);

/*
 * Windows of senders that are not in the member table: never met yet,
 * or forgotten (their window moves here, so that a forgotten member's
 * captured datagrams stay refused). Set-associative, least recently used
 * out: a replay can get through only for a sender evicted by newer
 * unknown senders of its set.
 */
#define GSP_REPLAY_CACHE_WAYS 4
#define GSP_REPLAY_CACHE_SETS 32

struct gsp_replay_cache {
	struct gsp_replay e[GSP_REPLAY_CACHE_SETS * GSP_REPLAY_CACHE_WAYS];
	uint32_t used_s[GSP_REPLAY_CACHE_SETS * GSP_REPLAY_CACHE_WAYS];
};

/* The entry of sender_id, or NULL. */
struct gsp_replay *gsp_replay_cache_find(struct gsp_replay_cache *c,
					 uint64_t sender_id, uint64_t now_ns);
/* The entry of sender_id, made (evicting the set's least recently used)
 * when there is none. */
struct gsp_replay *gsp_replay_cache_get(struct gsp_replay_cache *c,
					uint64_t sender_id, uint64_t now_ns);

#endif /* GSP_SEC_H */
