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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "gsp_keyfile.h"

#define GSP_KEYFILE_LINE_MAX 256
#define GSP_KEYFILE_LINES_MAX 1024	/* comments included */

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
gsp_kf_check(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		gsp_kf_err(err, errlen, path, 0, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		gsp_kf_err(err, errlen, path, 0, "not a regular file");
		return -1;
	}
	if (st.st_uid != geteuid()) {
		gsp_kf_err(err, errlen, path, 0,
			   "owned by uid %u, not by uid %u that reads it: chown it",
			   (unsigned int)st.st_uid, (unsigned int)geteuid());
		return -1;
	}
	if (st.st_mode & 077) {
		gsp_kf_err(err, errlen, path, 0,
			   "mode %04o lets other users at the keys: chmod 600 %s",
			   (unsigned int)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

static bool
gsp_kf_blank(const char *s)
{
	s += strspn(s, " \t\r\n");
	return *s == '\0' || *s == '#';
}

int
gsp_keyfile_read(const char *path, uint8_t keys[][GSP_KEY_LEN],
		 unsigned int max, unsigned int *n, char *err, size_t errlen)
{
	char line[GSP_KEYFILE_LINE_MAX];
	unsigned int lineno = 0;
	int fd, ret = -1;
	FILE *f;

	*n = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		gsp_kf_err(err, errlen, path, 0, "cannot open: %s%s",
			   strerror(errno), errno == ELOOP ?
			   " (a symbolic link: name the file itself)" : "");
		return -1;
	}
	if (gsp_kf_check(fd, path, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		gsp_kf_err(err, errlen, path, 0, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		uint8_t key[GSP_KEY_LEN];
		size_t len = strlen(line), klen;
		const char *b64, *end;

		if (++lineno > GSP_KEYFILE_LINES_MAX) {
			gsp_kf_err(err, errlen, path, lineno,
				   "more than %u lines", GSP_KEYFILE_LINES_MAX);
			goto out;
		}
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			gsp_kf_err(err, errlen, path, lineno, "line too long");
			goto out;
		}
		if (gsp_kf_blank(line))
			continue;
		b64 = line + strspn(line, " \t");
		klen = strcspn(b64, " \t\r\n");
		if (!gsp_kf_blank(b64 + klen)) {
			gsp_kf_err(err, errlen, path, lineno,
				   "one key per line, nothing after it");
			goto out;
		}
		if (sodium_base642bin(key, sizeof(key), b64, klen, NULL, &len,
				      &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    len != GSP_KEY_LEN || end != b64 + klen) {
			/* the line is a secret: never echoed */
			gsp_kf_err(err, errlen, path, lineno,
				   "not a key: want base64 of exactly %d bytes (gossipctl keygen)",
				   GSP_KEY_LEN);
			sodium_memzero(key, sizeof(key));
			goto out;
		}
		for (unsigned int i = 0; i < *n; i++)
			if (sodium_memcmp(keys[i], key, GSP_KEY_LEN) == 0) {
				gsp_kf_err(err, errlen, path, lineno,
					   "the same key as an earlier line");
				sodium_memzero(key, sizeof(key));
				goto out;
			}
		if (*n == max) {
			gsp_kf_err(err, errlen, path, lineno,
				   "more than %u keys", max);
			sodium_memzero(key, sizeof(key));
			goto out;
		}
		memcpy(keys[(*n)++], key, GSP_KEY_LEN);
		sodium_memzero(key, sizeof(key));
	}
	if (ferror(f)) {
		gsp_kf_err(err, errlen, path, 0, "read error");
		goto out;
	}
	if (*n == 0) {
		gsp_kf_err(err, errlen, path, 0, "no key in the file");
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(line, sizeof(line));
	fclose(f);
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
	sodium_bin2base64(buf, GSP_KEY_B64_LEN + 1, key, sizeof(key),
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
}
