/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GSP_TELEMETRY_H
#define GSP_TELEMETRY_H

/* /gossipd/info, /gossipd/stats, /gossipd/members, answered from the
 * status view at status_path (telemetry.c). */
void gsp_telemetry_register(const char *status_path);

#endif
