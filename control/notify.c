/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef GSP_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "gsp_log.h"
#include "gsp_notify.h"

/* sd_notify returns 0 without NOTIFY_SOCKET: nothing to log then */
static void
gsp_notify_send(const char *what, const char *state)
{
#ifdef GSP_HAVE_SYSTEMD
	int ret = sd_notify(0, state);

	if (ret < 0)
		gsp_log(LOG_WARNING, "systemd: cannot send %s: %s", what,
			strerror(-ret));
	else if (ret > 0)
		gsp_log(LOG_DEBUG, "systemd: sent %s", what);
#else
	(void)what;
	(void)state;
#endif
}

void
gsp_notify_ready(const char *status)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	gsp_notify_send("READY=1", msg);
}

void
gsp_notify_stopping(const char *status)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", status);
	gsp_notify_send("STOPPING=1", msg);
}

void
gsp_notify_status(const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	gsp_notify_send("STATUS", msg);
}
