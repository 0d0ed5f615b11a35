/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keyring files: read with their permissions checked, written back
 * atomically after an online rotation (gsp_keyfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "gsp_keyfile.h"
#include "gsp_safe_open.h"

#define GSP_KEYFILE_LINE_MAX 256
#define GSP_KEYFILE_LINES_MAX 1024	/* comments included */
#define GSP_KEYFILE_SIZE_MAX (64 * 1024) /* 8 keys and room for comments */
#define GSP_KF_BLANKS " \t\r"		/* \r: files written on Windows */
#define GSP_KF_B64 \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

static void
gsp_kf_err(char *err, size_t errlen, const char *path, unsigned int line,
	   const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err == NULL || errlen == 0)
		return;
	if (line > 0)
		snprintf(err, errlen, "%s:%u: %s", path, line, msg);
	else
		snprintf(err, errlen, "%s: %s", path, msg);
}

/* Refuses what another user could read or replace. */
static int
gsp_kf_check(const struct stat *st, const char *path, char *err,
	     size_t errlen)
{
	if (st->st_uid != geteuid()) {
		gsp_kf_err(err, errlen, path, 0,
			   "owned by uid %u, not by uid %u that reads it: chown it",
			   (unsigned int)st->st_uid, (unsigned int)geteuid());
		return -1;
	}
	if (st->st_mode & 077) {
		gsp_kf_err(err, errlen, path, 0,
			   "mode %04o lets other users at the keys: chmod 600 %s",
			   (unsigned int)(st->st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/* Nothing but blanks, then the end or a '#' comment. */
static bool
gsp_kf_blank(const char *s)
{
	s += strspn(s, GSP_KF_BLANKS);
	return *s == '\0' || *s == '#';
}

/*
 * One line, NUL-terminated, without its '\n': blank, a comment, or one
 * key with nothing after it but blanks and a '#' comment. 1 and the key
 * in key, 0 for no key, -1 with err. The line is a secret: never echoed.
 */
static int
gsp_kf_parse_line(const char *line, const char *path, unsigned int lineno,
		  uint8_t key[GSP_KEY_LEN], char *err, size_t errlen)
{
	const char *b64 = line + strspn(line, GSP_KF_BLANKS), *end;
	size_t klen, len;

	if (gsp_kf_blank(b64))
		return 0;
	klen = strspn(b64, GSP_KF_B64);
	if (klen == 0 || sodium_base642bin(key, GSP_KEY_LEN, b64, klen, NULL,
					   &len, &end,
					   sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != GSP_KEY_LEN || end != b64 + klen) {
		gsp_kf_err(err, errlen, path, lineno,
			   "not a key: want base64 of exactly %d bytes (gossipctl keygen)",
			   GSP_KEY_LEN);
		return -1;
	}
	if (!gsp_kf_blank(b64 + klen)) {
		gsp_kf_err(err, errlen, path, lineno,
			   "one key per line, and after the key nothing but blanks or a # comment");
		return -1;
	}
	if (sodium_is_zero(key, GSP_KEY_LEN)) {
		/* what a zeroed or truncated secret store gives: no secret */
		gsp_kf_err(err, errlen, path, lineno,
			   "key is all zeros: not a secret (gossipctl keygen makes a random key)");
		return -1;
	}
	return 1;
}

int
gsp_keyfile_read(const char *path, uint8_t keys[][GSP_KEY_LEN],
		 unsigned int max, unsigned int *n, char *err, size_t errlen)
{
	char line[GSP_KEYFILE_LINE_MAX];
	uint8_t key[GSP_KEY_LEN];
	unsigned int lineno = 0;
	struct stat st;
	size_t len, pos = 0;
	char *text;
	int ret = -1, rc;

	*n = 0;
	/* never blocks: a FIFO or a device is "not a regular file" */
	if (gsp_file_read(path, GSP_FILE_NOFOLLOW, GSP_KEYFILE_SIZE_MAX, &text,
			  &len, &st, err, errlen) != 0)
		return -1;
	if (gsp_kf_check(&st, path, err, errlen) != 0)
		goto out;
	while (pos < len) {
		const char *p = text + pos;
		const char *nl = memchr(p, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - p) : len - pos;

		pos += llen + (nl != NULL);
		if (++lineno > GSP_KEYFILE_LINES_MAX) {
			gsp_kf_err(err, errlen, path, lineno,
				   "more than %u lines", GSP_KEYFILE_LINES_MAX);
			goto out;
		}
		if (llen >= sizeof(line)) {
			gsp_kf_err(err, errlen, path, lineno, "line too long");
			goto out;
		}
		if (memchr(p, '\0', llen) != NULL) {
			gsp_kf_err(err, errlen, path, lineno, "NUL byte in line");
			goto out;
		}
		memcpy(line, p, llen);
		line[llen] = '\0';
		rc = gsp_kf_parse_line(line, path, lineno, key, err, errlen);
		if (rc < 0)
			goto out;
		if (rc == 0)
			continue;
		for (unsigned int i = 0; i < *n; i++)
			if (sodium_memcmp(keys[i], key, GSP_KEY_LEN) == 0) {
				gsp_kf_err(err, errlen, path, lineno,
					   "the same key as an earlier line");
				goto out;
			}
		if (*n == max) {
			gsp_kf_err(err, errlen, path, lineno,
				   "more than %u keys", max);
			goto out;
		}
		memcpy(keys[(*n)++], key, GSP_KEY_LEN);
	}
	if (*n == 0) {
		gsp_kf_err(err, errlen, path, 0, "no key in the file");
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(line, sizeof(line));
	sodium_memzero(text, len);
	free(text);
	if (ret != 0) {
		sodium_memzero(keys, (size_t)max * GSP_KEY_LEN);
		*n = 0;
	}
	return ret;
}

int
gsp_keyfile_load(const char *path, enum gsp_cipher cipher,
		 struct gsp_keyring **out, char *err, size_t errlen)
{
	uint8_t keys[GSP_KEYRING_MAX][GSP_KEY_LEN];
	struct gsp_keyring *kr;
	unsigned int n;
	int ret;

	*out = NULL;
	if (gsp_keyfile_read(path, keys, GSP_KEYRING_MAX, &n, err,
			     errlen) != 0)
		return -1;
	ret = gsp_keyring_create(cipher, &kr);
	if (ret != 0) {
		gsp_kf_err(err, errlen, path, 0, "%s: %s", gsp_cipher_name(cipher),
			   ret == -ENOTSUP ? "not available on this CPU (AES-GCM needs AES-NI): set [security] cipher = chacha20-poly1305 on every node" :
			   strerror(-ret));
		sodium_memzero(keys, sizeof(keys));
		return -1;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint32_t id;

		if (gsp_keyring_add(kr, keys[i], &id) != 0) {
			gsp_kf_err(err, errlen, path, 0,
				   "two keys have the same id %08x", id);
			gsp_keyring_destroy(kr);
			sodium_memzero(keys, sizeof(keys));
			return -1;
		}
	}
	sodium_memzero(keys, sizeof(keys));
	*out = kr;
	return 0;
}

int
gsp_keyfile_save(const char *path, const struct gsp_keyring *kr, char *err,
		 size_t errlen)
{
	struct gsp_key_info info[GSP_KEYRING_MAX];
	char tmp[4096];
	unsigned int n;
	FILE *f;
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		gsp_kf_err(err, errlen, path, 0, "path too long");
		return -1;
	}
	unlink(tmp);	/* a leftover of a crash: ours to replace */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		gsp_kf_err(err, errlen, tmp, 0, "cannot create: %s",
			   strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(tmp);
		gsp_kf_err(err, errlen, tmp, 0, "%s", strerror(errno));
		return -1;
	}
	fprintf(f, "# gossipd keyring, written by gossipd after a key change;\n"
		"# the first key is the primary (it seals what this node sends)\n");
	n = gsp_keyring_list(kr, info, GSP_KEYRING_MAX);
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		uint8_t key[GSP_KEY_LEN];
		char b64[GSP_KEY_B64_LEN + 1];

		if (!gsp_keyring_key(kr, info[i].id, key)) {
			rc = -1;
			break;
		}
		sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
				  sodium_base64_VARIANT_ORIGINAL);
		if (fprintf(f, "%s\n", b64) < 0)
			rc = -1;
		sodium_memzero(key, sizeof(key));
		sodium_memzero(b64, sizeof(b64));
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0) {
		gsp_kf_err(err, errlen, path, 0, "cannot write: %s",
			   strerror(errno));
		unlink(tmp);
	}
	return rc;
}

void
gsp_key_generate_b64(char buf[GSP_KEY_B64_LEN + 1])
{
	uint8_t key[GSP_KEY_LEN];

	if (sodium_init() < 0) {
		buf[0] = '\0';
		return;
	}
	randombytes_buf(key, sizeof(key));
	/* 2^-256 from a sound CSPRNG; a broken one must not make a key the
	 * keyring reader refuses (or, worse, one that is known) */
	if (sodium_is_zero(key, sizeof(key))) {
		buf[0] = '\0';
		return;
	}
	sodium_bin2base64(buf, GSP_KEY_B64_LEN + 1, key, sizeof(key),
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
}
