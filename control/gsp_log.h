/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging for the cold paths (startup, control thread). Lines go to stderr
 * as "2026-01-02T03:04:05.678Z gossipd[pid]: LEVEL: message", or, when
 * stderr is systemd's journal stream (JOURNAL_STREAM), as "<N>LEVEL:
 * message" so journald applies priority N. DPDK's rte_log lines are fed
 * through gsp_log_line (dataplane/node/log_dpdk.c): one format for both.
 * Never called on the packet path.
 * Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG.
 */
#ifndef GSP_LOG_H
#define GSP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#ifdef __cplusplus
extern "C" {
#endif

void gsp_log_set_level(int level);
int gsp_log_level_parse(const char *name);	/* -1 when unknown */
/* one line at LEVEL whatever the threshold (the caller filtered) */
void gsp_log_line(int level, const char *msg, size_t len);
bool gsp_log_to_journal(void);
void gsp_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif /* GSP_LOG_H */
