/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Defaults and bounds of the protocol's tunables, one row each, read by
 * the config parser (control/config.c: defaults and range checks), the
 * core (what 0 in struct gsp_node_params means) and the simulator. A row
 * is (default, min, max), in the unit its name ends with; read one with
 * GSP_DEF(NAME), GSP_MIN(NAME), GSP_MAX(NAME). docs/CONFIG.md lists the
 * same values, and tests/integration/test_config_errors.py checks they agree.
 */
#ifndef GSP_PARAMS_H
#define GSP_PARAMS_H

#define GSP_PARAM_MS 1000000ull
#define GSP_PARAM_S (1000ull * GSP_PARAM_MS)

/* [gossip] */
#define GSP_PARAM_INTERVAL_MS			(1000, 10, 60000)
#define GSP_PARAM_FANOUT			(2, 1, 16)
#define GSP_PARAM_PHI_SUSPECT			(5.0, 0.1, 100.0)
#define GSP_PARAM_PHI_CONVICT			(8.0, 0.1, 100.0) /* > suspect */
#define GSP_PARAM_FORGET_S			(3600, 1, 604800)
#define GSP_PARAM_LEAVE_ROUNDS			(3, 1, 64)
#define GSP_PARAM_MAX_MEMBERS			(65536, 2, 1048576)
#define GSP_PARAM_CLOCK_SKEW_NS \
	(60 * GSP_PARAM_S, 1 * GSP_PARAM_S, 86400 * GSP_PARAM_S)
/* highest wire version spoken: 2 behaves as the previous release */
#define GSP_PARAM_WIRE_VERSION			(5, 2, 5)
/* anti-entropy: digest packets per SYN window, states per ACK */
#define GSP_PARAM_SYN_PACKETS			(4, 1, 65535)
#define GSP_PARAM_ACK_STATES			(256, 1, 1u << 20)

/* [detector]; a probe timeout of 0 in the core is half the interval */
#define GSP_PARAM_PROBE_INTERVAL_NS \
	(100 * GSP_PARAM_MS, 1 * GSP_PARAM_MS, 10000 * GSP_PARAM_MS)
#define GSP_PARAM_PROBE_TIMEOUT_NS \
	(50 * GSP_PARAM_MS, 100000, 10000 * GSP_PARAM_MS)
#define GSP_PARAM_INDIRECT_PROBES		(3, 0, 16)
#define GSP_PARAM_SUSPICION_MULT		(4, 1, 100)
#define GSP_PARAM_SUSPICION_MAX_MULT		(6, 1, 100)
#define GSP_PARAM_AWARENESS_MAX			(8, 1, 100)

#define GSP_PARAM_DEF_(d, lo, hi) (d)
#define GSP_PARAM_MIN_(d, lo, hi) (lo)
#define GSP_PARAM_MAX_(d, lo, hi) (hi)
/* the row is expanded first, as an argument, then taken apart */
#define GSP_PARAM_APPLY_(f, row) f row
#define GSP_DEF(name) GSP_PARAM_APPLY_(GSP_PARAM_DEF_, GSP_PARAM_##name)
#define GSP_MIN(name) GSP_PARAM_APPLY_(GSP_PARAM_MIN_, GSP_PARAM_##name)
#define GSP_MAX(name) GSP_PARAM_APPLY_(GSP_PARAM_MAX_, GSP_PARAM_##name)

#endif /* GSP_PARAMS_H */
