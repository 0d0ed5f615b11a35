/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdint.h>
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

uint64_t
gsp_notify_watchdog_ns(void)
{
#ifdef GSP_HAVE_SYSTEMD
	uint64_t usec = 0;

	/* 0: unit without WatchdogSec=, or WATCHDOG_PID names another */
	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec * 1000;
#endif
	return 0;
}

void
gsp_notify_watchdog(void)
{
	gsp_notify_send("WATCHDOG=1", "WATCHDOG=1");
}

void
gsp_watchdog_init(struct gsp_watchdog *w, uint64_t period_ns,
		  uint64_t interval_ns, uint64_t now_ns)
{
	*w = (struct gsp_watchdog){
		.period_ns = period_ns,
		.stall_ns = period_ns > 3 * interval_ns ? period_ns :
			3 * interval_ns,
		.next_ns = now_ns,
		.progress_ns = now_ns,
	};
}

int
gsp_watchdog_due(struct gsp_watchdog *w, uint64_t rounds, uint64_t now_ns)
{
	if (w->period_ns == 0)
		return 0;
	if (rounds != w->rounds) {
		w->rounds = rounds;
		w->progress_ns = now_ns;
	}
	if (now_ns < w->next_ns)
		return 0;
	w->next_ns = now_ns + w->period_ns / 2;
	w->stalled = now_ns - w->progress_ns >= w->stall_ns;
	return w->stalled ? -1 : 1;
}
