/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The service manager's side: sd_notify(3) READY=1 once the node serves
 * (port up, control socket listening), STOPPING=1 when it starts to stop,
 * STATUS= lines, and WATCHDOG=1 while the node makes progress (unit's
 * WatchdogSec=). No-ops without NOTIFY_SOCKET or when built without
 * libsystemd (-Dsystemd=disabled). Cold paths only.
 */
#ifndef GSP_NOTIFY_H
#define GSP_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void gsp_notify_ready(const char *status);
void gsp_notify_stopping(const char *status);
void gsp_notify_status(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* The service's watchdog period (sd_watchdog_enabled(3)); 0 when off. */
uint64_t gsp_notify_watchdog_ns(void);
void gsp_notify_watchdog(void);

/*
 * When to send WATCHDOG=1: every half period while the protocol lcore
 * makes progress (its gossip rounds advance). A process that lives but
 * whose dataplane hangs stops being petted once no round has run for
 * stall_ns, so systemd kills and restarts it; a hung control thread
 * stops petting by itself.
 */
struct gsp_watchdog {
	uint64_t period_ns;	/* WatchdogSec; 0: off */
	uint64_t stall_ns;	/* the longer of the period, 3 intervals */
	uint64_t next_ns;	/* the next WATCHDOG=1 is due */
	uint64_t rounds;	/* the count at the last progress */
	uint64_t progress_ns;
	bool stalled;
};

void gsp_watchdog_init(struct gsp_watchdog *w, uint64_t period_ns,
		       uint64_t interval_ns, uint64_t now_ns);
/* 1: send WATCHDOG=1 now; 0: not due; -1: due, but the rounds have
 * stalled: withhold it. */
int gsp_watchdog_due(struct gsp_watchdog *w, uint64_t rounds,
		     uint64_t now_ns);

#ifdef __cplusplus
}
#endif

#endif /* GSP_NOTIFY_H */
