/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging for the cold paths (startup, control thread). Lines go to stderr
 * as "gossipd[pid]: LEVEL: message". Never called on the packet path.
 * Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG.
 */
#ifndef GSP_LOG_H
#define GSP_LOG_H

#include <syslog.h>

#ifdef __cplusplus
extern "C" {
#endif

void gsp_log_set_level(int level);
int gsp_log_level_parse(const char *name);	/* -1 when unknown */
void gsp_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif /* GSP_LOG_H */
