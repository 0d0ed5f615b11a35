/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The service manager's side: sd_notify(3) READY=1 once the node serves
 * (port up, control socket listening), STOPPING=1 when it starts to stop,
 * STATUS= lines. No-ops without NOTIFY_SOCKET or when built without
 * libsystemd (-Dsystemd=disabled). Cold paths only.
 */
#ifndef GSP_NOTIFY_H
#define GSP_NOTIFY_H

#ifdef __cplusplus
extern "C" {
#endif

void gsp_notify_ready(const char *status);
void gsp_notify_stopping(const char *status);
void gsp_notify_status(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif

#endif /* GSP_NOTIFY_H */
