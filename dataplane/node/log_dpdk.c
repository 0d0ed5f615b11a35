/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK's rte_log lines in gossipd's format: a stdio stream whose write
 * function cuts what rte_log formatted into lines and hands each to
 * gsp_log_line at the message's level (RTE_LOG_ERR is LOG_ERR + 1). DPDK
 * already filtered by its own levels (--log-level). Cold paths only: the
 * dataplane logs nothing per packet.
 */
#include <stdio.h>
#include <string.h>

#include <rte_log.h>

#include "gossipd.h"
#include "gsp_log.h"

/* rte_log is called from several threads: one partial line each */
static __thread char gsp_dpdk_buf[1024];
static __thread size_t gsp_dpdk_len;

static ssize_t
gsp_dpdk_write(void *cookie, const char *buf, size_t size)
{
	int level = rte_log_cur_msg_loglevel() - 1;
	size_t i;

	(void)cookie;
	for (i = 0; i < size; i++) {
		if (buf[i] == '\n' ||
		    gsp_dpdk_len == sizeof(gsp_dpdk_buf) - 1) {
			gsp_log_line(level, gsp_dpdk_buf, gsp_dpdk_len);
			gsp_dpdk_len = 0;
			if (buf[i] == '\n')
				continue;
		}
		gsp_dpdk_buf[gsp_dpdk_len++] = buf[i];
	}
	return size;
}

int
gsp_log_dpdk_init(void)
{
	static const cookie_io_functions_t io = { .write = gsp_dpdk_write };
	FILE *f = fopencookie(NULL, "w", io);

	if (f == NULL)
		return -1;
	/* unbuffered: each rte_log call reaches the line cutter at once */
	setvbuf(f, NULL, _IONBF, 0);
	return rte_openlog_stream(f);
}
