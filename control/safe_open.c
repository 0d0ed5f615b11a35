/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading the files an operator names without ever blocking on them
 * (gsp_safe_open.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gsp_safe_open.h"

#define GSP_FILE_CHUNK 4096	/* first buffer when fstat says less */

static void __attribute__((format(printf, 4, 5)))
gsp_file_err(char *err, size_t errlen, const char *path, const char *fmt,
	     ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

static const char *
gsp_file_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "of an unknown type";
}

/* Why open() failed; a socket, say, fails (ENXIO) before fstat can tell. */
static void
gsp_file_open_err(const char *path, unsigned int flags, int e, char *err,
		  size_t errlen)
{
	struct stat st;

	if (e == ELOOP && (flags & GSP_FILE_NOFOLLOW))
		gsp_file_err(err, errlen, path, "cannot open: %s (a symbolic "
			     "link: name the file itself)", strerror(e));
	else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		gsp_file_err(err, errlen, path, "not a regular file (%s)",
			     gsp_file_kind(st.st_mode));
	else
		gsp_file_err(err, errlen, path, "cannot open: %s",
			     strerror(e));
}

/*
 * Doubles *cap, up to max + 1 bytes, into a new buffer: realloc could
 * leave a copy of keys behind, so the old one is zeroed first.
 */
static int
gsp_file_grow(char **b, size_t n, size_t *cap, size_t max)
{
	size_t ncap = *cap <= (max + 1) / 2 ? *cap * 2 : max + 1;
	char *nb = malloc(ncap + 1);

	if (nb == NULL)
		return -1;
	memcpy(nb, *b, n);
	explicit_bzero(*b, n);
	free(*b);
	*b = nb;
	*cap = ncap;
	return 0;
}

int
gsp_file_read(const char *path, unsigned int flags, size_t max,
	      char **buf, size_t *len, struct stat *st, char *err,
	      size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO would wait for a writer, a device for
	 * its carrier; O_NOCTTY: a terminal never becomes ours */
	int oflags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	struct stat fst;
	size_t n = 0, cap;
	char *b = NULL;
	int fd, fl;

	*buf = NULL;
	*len = 0;
	if (flags & GSP_FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	fd = open(path, oflags);
	if (fd < 0) {
		gsp_file_open_err(path, flags, errno, err, errlen);
		return -1;
	}
	if (fstat(fd, &fst) != 0) {
		gsp_file_err(err, errlen, path, "cannot stat: %s",
			     strerror(errno));
		goto fail;
	}
	if (!S_ISREG(fst.st_mode)) {
		gsp_file_err(err, errlen, path, "not a regular file (%s)",
			     gsp_file_kind(fst.st_mode));
		goto fail;
	}
	if (fst.st_size < 0 || (unsigned long long)fst.st_size > max) {
		gsp_file_err(err, errlen, path, "too large (%lld bytes, max "
			     "%zu)", (long long)fst.st_size, max);
		goto fail;
	}
	/* a regular file: reads need not be non-blocking any more */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		gsp_file_err(err, errlen, path, "fcntl: %s", strerror(errno));
		goto fail;
	}
	/* room for the size fstat gave and one byte more, which tells a
	 * file that grew since (or a size of 0 that /proc reports) */
	cap = (size_t)fst.st_size + 1;
	if (cap < GSP_FILE_CHUNK)
		cap = GSP_FILE_CHUNK < max + 1 ? GSP_FILE_CHUNK : max + 1;
	b = malloc(cap + 1);
	if (b == NULL)
		goto fail_oom;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap > max)
				break;		/* too large */
			if (gsp_file_grow(&b, n, &cap, max) != 0)
				goto fail_oom;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			gsp_file_err(err, errlen, path, "cannot read: %s",
				     strerror(errno));
			goto fail_buf;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		gsp_file_err(err, errlen, path, "too large (more than %zu "
			     "bytes)", max);
		goto fail_buf;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	if (st != NULL)
		*st = fst;
	return 0;
fail_oom:
	gsp_file_err(err, errlen, path, "out of memory");
fail_buf:
	if (b != NULL)
		explicit_bzero(b, n);	/* it may have held keys */
	free(b);
fail:
	close(fd);
	return -1;
}
