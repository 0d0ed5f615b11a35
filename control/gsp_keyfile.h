/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keyring files (docs/SECURITY.md): one base64 key of 32 bytes per line,
 * '#' comments and blank lines ignored, the first key is the primary.
 * After a key only blanks and a '#' comment; an all-zero key is refused.
 * The file must be a regular file (never a symbolic link), at most
 * 64 KiB, owned by this user with no group or other permission (0600 or
 * stricter). No message ever shows a key.
 */
#ifndef GSP_KEYFILE_H
#define GSP_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "gsp_sec.h"

#define GSP_KEY_B64_LEN 44	/* base64 of 32 bytes, padded */

/* The keys of a file, in order, into keys[0..*n). 0, or -1 with a
 * "path:line: message" (or "path: message") in err. */
int gsp_keyfile_read(const char *path, uint8_t keys[][GSP_KEY_LEN],
		     unsigned int max, unsigned int *n, char *err,
		     size_t errlen);
/* A keyring of the file's keys, the first primary. 0 or -1 with err. */
int gsp_keyfile_load(const char *path, enum gsp_cipher cipher,
		     struct gsp_keyring **out, char *err, size_t errlen);
/* Writes kr back, primary first, atomically (temporary file + rename),
 * mode 0600. 0 or -1 with err. */
int gsp_keyfile_save(const char *path, const struct gsp_keyring *kr,
		     char *err, size_t errlen);
/* A new random key, base64, NUL-terminated: buf holds 45 bytes; ""
 * when libsodium fails (never an all-zero key). */
void gsp_key_generate_b64(char buf[GSP_KEY_B64_LEN + 1]);

#endif /* GSP_KEYFILE_H */
