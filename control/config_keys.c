/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config's keys: one row each (section, name, type, field, bounds;
 * the protocol's defaults and bounds come from gsp_params.h), the line
 * that set each, and errors that point at a line. Calls nothing else of
 * the loader, so config.c and config_check.c both use it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "gsp_config.h"
#include "gsp_core.h"
#include "gsp_log.h"
#include "config_int.h"

#define OFF(f) offsetof(struct gsp_config, f)
#define SZ(f) sizeof(((struct gsp_config *)0)->f)
#define US 1000ull
#define MS 1000000ull
#define S 1000000000ull

/* Keys, in the order docs/CONFIG.md lists them. [app] is free-form. */
const struct gsp_cfg_key gsp_cfg_keys[] = {
	{ "cluster", "name", GSP_T_NAME, OFF(cluster), SZ(cluster), 0, 0, 0, 0 },
	{ "node", "name", GSP_T_NAME, OFF(node_name), SZ(node_name), 0, 0, 0, 0 },
	{ "node", "id", GSP_T_U64, OFF(node_id), 0, 0, UINT64_MAX, 0, 0 },
	{ "node", "address", GSP_T_ADDR, OFF(addr.ip), 0, 0, 0, 0, 0 },
	{ "node", "port", GSP_T_U16, OFF(addr.port), 0, 1, 65535, 0, 0 },
	{ "node", "prefix", GSP_T_U8, OFF(prefix_len), 0, 1, 32, 0, 0 },
	{ "node", "gateway", GSP_T_GATEWAY, OFF(gateway), 0, 0, 0, 0, 0 },
	{ "node", "mtu", GSP_T_U16, OFF(mtu), 0, 1000, 9000, 0, 0 },
	{ "node", "on_stop", GSP_T_ONSTOP, OFF(on_stop), 0, 0, 0, 0, 0 },
	{ "node", "snapshot", GSP_T_PATH, OFF(snapshot_path),
	  SZ(snapshot_path), 0, 0, 0, 0 },
	{ "gossip", "interval", GSP_T_DUR32, OFF(interval_ms), 0,
	  GSP_MIN(INTERVAL_MS), GSP_MAX(INTERVAL_MS), 0, 0, .unit = MS },
	{ "gossip", "interval_ms", GSP_T_U32, OFF(interval_ms), 0,
	  GSP_MIN(INTERVAL_MS), GSP_MAX(INTERVAL_MS), 0, 0,
	  .renamed = "interval" },
	{ "gossip", "fanout", GSP_T_U32, OFF(fanout), 0,
	  GSP_MIN(FANOUT), GSP_MAX(FANOUT), 0, 0 },
	{ "gossip", "phi_suspect", GSP_T_DOUBLE, OFF(phi_suspect), 0, 0, 0,
	  GSP_MIN(PHI_SUSPECT), GSP_MAX(PHI_SUSPECT) },
	{ "gossip", "phi_threshold", GSP_T_DOUBLE, OFF(phi_convict), 0, 0, 0,
	  GSP_MIN(PHI_CONVICT), GSP_MAX(PHI_CONVICT) },
	{ "gossip", "forget_after", GSP_T_DUR32, OFF(forget_s), 0,
	  GSP_MIN(FORGET_S), GSP_MAX(FORGET_S), 0, 0, .unit = S },
	{ "gossip", "forget_after_s", GSP_T_U32, OFF(forget_s), 0,
	  GSP_MIN(FORGET_S), GSP_MAX(FORGET_S), 0, 0,
	  .renamed = "forget_after" },
	{ "gossip", "leave_rounds", GSP_T_U32, OFF(leave_rounds), 0,
	  GSP_MIN(LEAVE_ROUNDS), GSP_MAX(LEAVE_ROUNDS), 0, 0 },
	{ "gossip", "max_members", GSP_T_U32, OFF(max_members), 0,
	  GSP_MIN(MAX_MEMBERS), GSP_MAX(MAX_MEMBERS), 0, 0 },
	{ "gossip", "max_clock_skew", GSP_T_DURATION, OFF(max_clock_skew_ns), 0,
	  GSP_MIN(CLOCK_SKEW_NS), GSP_MAX(CLOCK_SKEW_NS), 0, 0 },
	{ "gossip", "wire_version", GSP_T_U8, OFF(wire_version), 0,
	  GSP_MIN(WIRE_VERSION), GSP_MAX(WIRE_VERSION), 0, 0 },
	{ "seeds", "seed", GSP_T_SEED, 0, 0, 0, 0, 0, 0 },
	{ "seeds", "dns", GSP_T_DNSNAME, OFF(seed_dns), SZ(seed_dns), 0, 0,
	  0, 0 },
	{ "seeds", "dns_server", GSP_T_DNSSERVER, OFF(dns_server),
	  SZ(dns_server), 0, 0, 0, 0 },
	{ "seeds", "dns_refresh", GSP_T_DUR32, OFF(dns_refresh_s), 0, 1, 86400,
	  0, 0, .unit = S },
	{ "seeds", "dns_refresh_s", GSP_T_U32, OFF(dns_refresh_s), 0, 1, 86400,
	  0, 0,
	  .renamed = "dns_refresh" },
	{ "events", "handler", GSP_T_PATH, OFF(event_handler),
	  SZ(event_handler), 0, 0, 0, 0 },
	{ "events", "handler_timeout", GSP_T_DUR32,
	  OFF(event_handler_timeout_ms), 0, 1, 3600000, 0, 0, .unit = MS },
	{ "events", "handler_queue", GSP_T_U32, OFF(event_handler_queue), 0,
	  1, 65536, 0, 0 },
	{ "control", "socket", GSP_T_PATH, OFF(socket_path), SZ(socket_path),
	  0, 0, 0, 0 },
	{ "control", "status_view", GSP_T_PATH, OFF(status_path),
	  SZ(status_path), 0, 0, 0, 0 },
	{ "control", "status_interval", GSP_T_DUR32, OFF(status_interval_ms),
	  0, 10, 1000, 0, 0, .unit = MS },
	{ "control", "status_interval_ms", GSP_T_U32, OFF(status_interval_ms),
	  0, 10, 1000, 0, 0,
	  .renamed = "status_interval" },
	{ "dataplane", "port", GSP_T_U16, OFF(port_id), 0, 0, 1023, 0, 0 },
	{ "dataplane", "burst", GSP_T_U32, OFF(burst), 0, 1, 256, 0, 0 },
	{ "dataplane", "mbufs", GSP_T_U32, OFF(mbufs), 0, 511, 1048575, 0, 0 },
	{ "dataplane", "rx_descriptors", GSP_T_U16, OFF(rx_descriptors), 0,
	  64, 32768, 0, 0 },
	{ "dataplane", "tx_descriptors", GSP_T_U16, OFF(tx_descriptors), 0,
	  64, 32768, 0, 0 },
	{ "dataplane", "idle_spin", GSP_T_U32, OFF(idle_spin), 0, 0, 1000000,
	  0, 0 },
	{ "dataplane", "idle_pause", GSP_T_U32, OFF(idle_pause), 0, 0, 1000000,
	  0, 0 },
	{ "dataplane", "idle_spin_time", GSP_T_DUR32, OFF(idle_spin_us), 0, 0,
	  100000, 0, 0, .unit = US },
	{ "dataplane", "idle_spin_us", GSP_T_U32, OFF(idle_spin_us), 0, 0,
	  100000, 0, 0,
	  .renamed = "idle_spin_time" },
	{ "dataplane", "idle_sleep", GSP_T_DUR32, OFF(idle_sleep_us), 0, 0,
	  100000, 0, 0, .unit = US },
	{ "dataplane", "idle_sleep_us", GSP_T_U32, OFF(idle_sleep_us), 0, 0,
	  100000, 0, 0,
	  .renamed = "idle_sleep" },
	{ "dataplane", "rx_interrupts", GSP_T_RXINTR, OFF(rx_interrupts), 0,
	  0, 0, 0, 0 },
	{ "dataplane", "arp_timeout", GSP_T_DUR32, OFF(arp_timeout_s), 0, 1,
	  86400, 0, 0, .unit = S },
	{ "dataplane", "arp_timeout_s", GSP_T_U32, OFF(arp_timeout_s), 0, 1,
	  86400, 0, 0,
	  .renamed = "arp_timeout" },
	{ "dataplane", "rng_seed", GSP_T_U64, OFF(rng_seed), 0, 0, UINT64_MAX,
	  0, 0 },
	{ "log", "level", GSP_T_LEVEL, OFF(log_level), 0, 0, 0, 0, 0 },
	{ "detector", "phi", GSP_T_DETECT, OFF(detector), 0, GSP_DETECT_PHI,
	  0, 0, 0 },
	{ "detector", "swim", GSP_T_DETECT, OFF(detector), 0, GSP_DETECT_SWIM,
	  0, 0, 0 },
	{ "detector", "indirect", GSP_T_DETECT, OFF(detector), 0,
	  GSP_DETECT_INDIRECT, 0, 0, 0 },
	{ "detector", "lifeguard", GSP_T_DETECT, OFF(detector), 0,
	  GSP_DETECT_LIFEGUARD, 0, 0, 0 },
	{ "detector", "probe_interval", GSP_T_DURATION, OFF(probe_interval_ns), 0,
	  GSP_MIN(PROBE_INTERVAL_NS), GSP_MAX(PROBE_INTERVAL_NS), 0, 0 },
	{ "detector", "probe_timeout", GSP_T_DURATION, OFF(probe_timeout_ns), 0,
	  GSP_MIN(PROBE_TIMEOUT_NS), GSP_MAX(PROBE_TIMEOUT_NS), 0, 0 },
	{ "detector", "indirect_probes", GSP_T_U32, OFF(indirect_probes), 0,
	  GSP_MIN(INDIRECT_PROBES), GSP_MAX(INDIRECT_PROBES), 0, 0 },
	{ "detector", "suspicion_mult", GSP_T_U32, OFF(suspicion_mult), 0,
	  GSP_MIN(SUSPICION_MULT), GSP_MAX(SUSPICION_MULT), 0, 0 },
	{ "detector", "suspicion_max_mult", GSP_T_U32, OFF(suspicion_max_mult), 0,
	  GSP_MIN(SUSPICION_MAX_MULT), GSP_MAX(SUSPICION_MAX_MULT), 0, 0 },
	{ "detector", "awareness_max", GSP_T_U32, OFF(awareness_max), 0,
	  GSP_MIN(AWARENESS_MAX), GSP_MAX(AWARENESS_MAX), 0, 0 },
	{ "fault", "drop", GSP_T_FAULT, 0, 0, 0, 0, 0, 0 },
	{ "fault", "dup", GSP_T_FAULT, 0, 0, 0, 0, 0, 0 },
	{ "fault", "reorder", GSP_T_FAULT, 0, 0, 0, 0, 0, 0 },
	{ "fault", "delay", GSP_T_FAULT, 0, 0, 0, 0, 0, 0 },
	{ "fault", "jitter", GSP_T_FAULT, 0, 0, 0, 0, 0, 0 },
	{ "fault", "reorder_by", GSP_T_FAULT, 0, 0, 0, 0, 0, 0 },
	{ "fault", "block", GSP_T_FAULT_BLOCK, 0, 0, 0, 0, 0, 0 },
	{ "security", "mode", GSP_T_SECMODE, OFF(plaintext), 0, 0, 0, 0, 0 },
	{ "security", "keyring", GSP_T_PATH, OFF(keyring_path),
	  SZ(keyring_path), 0, 0, 0, 0 },
	{ "security", "cipher", GSP_T_CIPHER, OFF(cipher), 0, 0, 0, 0, 0 },
	{ "limits", "app_value_max", GSP_T_U32, OFF(app_value_max), 0, 1,
	  GSP_APP_VALUE_MAX - 1, 0, 0 },
	{ "limits", "app_bytes_max", GSP_T_U32, OFF(app_bytes_max), 0, 1,
	  GSP_APP_BYTES_MAX,
	  0, 0 },
	{ "limits", "join_rate", GSP_T_U32, OFF(join_rate), 0, 1, 1000000,
	  0, 0 },
	{ "limits", "join_burst", GSP_T_U32, OFF(join_burst), 0, 1, 1000000,
	  0, 0 },
	{ "limits", "probe_rate", GSP_T_U32, OFF(probe_rate), 0, 1, 1000000,
	  0, 0 },
	{ "limits", "probe_burst", GSP_T_U32, OFF(probe_burst), 0, 1, 1000000,
	  0, 0 },
};

#define GSP_CFG_NKEYS (sizeof(gsp_cfg_keys) / sizeof(gsp_cfg_keys[0]))
_Static_assert(GSP_CFG_NKEYS <= GSP_CFG_KEYS_MAX, "raise GSP_CFG_KEYS_MAX");
const size_t gsp_cfg_nkeys = GSP_CFG_NKEYS;

static void
gsp_cfg_vset_err(struct gsp_cfg_ctx *c, unsigned int line, const char *fmt,
		 va_list ap)
{
	int n;

	if (c->err_line != 0)
		return;		/* only the first error is reported */
	c->err_line = line == 0 ? (unsigned int)-1 : line;
	if (c->err == NULL || c->errlen == 0)
		return;
	if (line != 0)
		n = snprintf(c->err, c->errlen, "%s:%u: ", c->path, line);
	else
		n = snprintf(c->err, c->errlen, "%s: ", c->path);
	if (n >= 0 && (size_t)n < c->errlen)
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
}

void
gsp_cfg_err(struct gsp_cfg_ctx *c, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gsp_cfg_vset_err(c, line, fmt, ap);
	va_end(ap);
}

unsigned int
gsp_cfg_line_of(const struct gsp_cfg_ctx *c, const char *section,
		const char *name)
{
	/* a renamed key may have been set under its old name */
	for (size_t i = 0; i < gsp_cfg_nkeys; i++)
		if (strcmp(gsp_cfg_keys[i].section, section) == 0 &&
		    c->key_line[i] != 0 &&
		    (strcmp(gsp_cfg_keys[i].name, name) == 0 ||
		     (gsp_cfg_keys[i].renamed != NULL &&
		      strcmp(gsp_cfg_keys[i].renamed, name) == 0)))
			return c->key_line[i];
	return 0;
}
