/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Files an operator names (the config, keyrings, `keys install FILE`):
 * opened without blocking, refused unless they are regular files, read
 * whole up to a size bound. A FIFO, a device, a directory or a socket is
 * an error at once, never a hang of start-up or of the control thread
 * (docs/CONFIG.md, "Files").
 */
#ifndef GSP_SAFE_OPEN_H
#define GSP_SAFE_OPEN_H

#include <stddef.h>
#include <sys/stat.h>

#define GSP_FILE_NOFOLLOW 0x1u	/* refuse a symbolic link as the last part */

/*
 * The contents of path, at most max bytes, NUL-terminated, in *buf (the
 * caller frees it, after zeroing it if it held a secret), their length
 * in *len and, when st is not NULL, the opened file's stat. 0, or -1 with
 * "path: why" in err, e.g. "path: not a regular file (a FIFO)" or
 * "path: too large (N bytes, max M)".
 */
int gsp_file_read(const char *path, unsigned int flags, size_t max,
		  char **buf, size_t *len, struct stat *st, char *err,
		  size_t errlen);

#endif /* GSP_SAFE_OPEN_H */
