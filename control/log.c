/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "gsp_log.h"

static int gsp_log_threshold = LOG_INFO;
/* -1: not decided yet; 0: plain lines; 1: journald's "<N>" prefix */
static int gsp_log_journal = -1;

static const char *const gsp_level_names[] = {
	[LOG_ERR] = "error",
	[LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void
gsp_log_set_level(int level)
{
	gsp_log_threshold = level;
}

int
gsp_log_level_parse(const char *name)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (strcmp(name, gsp_level_names[i]) == 0)
			return i;
	return -1;
}

/*
 * systemd sets JOURNAL_STREAM=DEV:INODE when stderr is its journal stream
 * (systemd.exec(5)); only then is the "<N>" prefix read as a priority. A
 * child that inherited the variable but writes elsewhere stays plain.
 */
bool
gsp_log_to_journal(void)
{
	const char *js;
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (gsp_log_journal >= 0)
		return gsp_log_journal == 1;
	gsp_log_journal = 0;
	js = getenv("JOURNAL_STREAM");
	if (js != NULL &&
	    sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino)
		gsp_log_journal = 1;
	return gsp_log_journal == 1;
}

void
gsp_log_line(int level, const char *msg, size_t len)
{
	char line[1100];
	struct timespec ts;
	struct tm tm;
	int n;

	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	if (len > 1023)
		len = 1023;
	while (len > 0 && msg[len - 1] == '\n')
		len--;
	if (gsp_log_to_journal()) {
		/* journald stamps the time and the pid itself */
		n = snprintf(line, sizeof(line), "<%d>%s: ", level,
			     gsp_level_names[level]);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
			"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ gossipd[%d]: %s: ",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000, (int)getpid(),
			gsp_level_names[level]);
	}
	if (n < 0 || (size_t)n + len + 2 > sizeof(line))
		return;
	memcpy(line + n, msg, len);
	line[n + len] = '\n';
	/* one write per line so lines from several threads do not mix */
	if (write(STDERR_FILENO, line, n + len + 1) < 0)
		return;
}

void
gsp_log(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	if (level > gsp_log_threshold)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	gsp_log_line(level, msg, (size_t)n < sizeof(msg) ? (size_t)n :
		     sizeof(msg) - 1);
}
