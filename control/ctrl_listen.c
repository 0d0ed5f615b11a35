/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's file: its directory, a stale socket left by a
 * crashed daemon, the listening socket born 0600, and its removal (only
 * if it is still ours).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctrl_int.h"
#include "gsp_log.h"

#define CTRL_BACKLOG 64

/* mkdir -p with mode 0700 for the components we create. */
static int
ctrl_mkdir_p(const char *dir)
{
	char buf[GSP_PATH_MAX];
	struct stat st;
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			gsp_log(LOG_ERR, "control: cannot create directory %s: %s",
				buf, strerror(errno));
			return -errno;
		}
		if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
			gsp_log(LOG_ERR, "control: %s is not a directory", buf);
			return -ENOTDIR;
		}
		if (i < len)
			buf[i] = '/';
	}
	return 0;
}

/*
 * A socket file left by a crashed daemon is removed; one that answers
 * belongs to a live process and is left alone.
 */
static int
ctrl_clear_stale_socket(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, ret;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		gsp_log(LOG_ERR, "control: %s exists and is not a socket",
			sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (ret == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		gsp_log(LOG_ERR, "control: socket %s is in use by another "
			"process (is gossipd already running for this node?)",
			sa->sun_path);
		return -EADDRINUSE;
	}
	ret = errno;
	close(fd);
	if (ret != ECONNREFUSED) {
		gsp_log(LOG_ERR, "control: cannot probe existing socket %s: %s",
			sa->sun_path, strerror(ret));
		return -ret;
	}
	if (unlink(sa->sun_path) != 0 && errno != ENOENT) {
		gsp_log(LOG_ERR, "control: cannot remove stale socket %s: %s",
			sa->sun_path, strerror(errno));
		return -errno;
	}
	gsp_log(LOG_NOTICE, "control: removed stale socket %s", sa->sun_path);
	return 0;
}

int
ctrl_listen(struct ctrl *c)
{
	const char *path = c->cfg->socket_path;
	struct sockaddr_un sa;
	char dir[GSP_PATH_MAX];
	const char *slash;
	struct stat st;
	mode_t old;
	int fd, ret;

	if (path[0] == '\0') {
		gsp_log(LOG_ERR, "control: no control socket path configured");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		gsp_log(LOG_ERR, "control: socket path %s is longer than %zu bytes",
			path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	slash = strrchr(path, '/');
	if (slash != NULL && slash != path) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		ret = ctrl_mkdir_p(dir);
		if (ret != 0)
			return ret;
	}
	ret = ctrl_clear_stale_socket(&sa);
	if (ret != 0)
		return ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ret = -errno;
		gsp_log(LOG_ERR, "control: socket(): %s", strerror(errno));
		return ret;
	}
	/* the socket is born 0600: no window where others can connect */
	old = umask(0177);
	ret = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret != 0) {
		ret = -errno;
		gsp_log(LOG_ERR, "control: cannot bind %s: %s", path,
			strerror(errno));
		close(fd);
		return ret;
	}
	if (chmod(path, 0600) != 0 || listen(fd, CTRL_BACKLOG) != 0 ||
	    stat(path, &st) != 0) {
		ret = -errno;
		gsp_log(LOG_ERR, "control: cannot set up %s: %s", path,
			strerror(errno));
		close(fd);
		unlink(path);
		return ret;
	}
	c->lfd = fd;
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	return 0;
}

void
ctrl_unlisten(struct ctrl *c)
{
	struct stat st;

	if (c->lfd < 0)
		return;
	close(c->lfd);
	c->lfd = -1;
	/* only ours: another instance may own the path by now */
	if (stat(c->cfg->socket_path, &st) == 0 && st.st_dev == c->sock_dev &&
	    st.st_ino == c->sock_ino)
		unlink(c->cfg->socket_path);
}
