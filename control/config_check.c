/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * After the last line: required keys, defaults that depend on other keys
 * (the control paths), and checks across keys, each error pointing at
 * the later of the lines involved.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gsp_config.h"
#include "gsp_log.h"
#include "gsp_sec.h"
#include "gsp_util.h"
#include "gsp_wire.h"
#include "config_int.h"

/* The later of the lines that set either key: where to point the user. */
static unsigned int
gsp_cfg_line_of2(const struct gsp_cfg_ctx *c, const char *s1, const char *n1,
		 const char *s2, const char *n2)
{
	unsigned int a = gsp_cfg_line_of(c, s1, n1);
	unsigned int b = gsp_cfg_line_of(c, s2, n2);

	return a > b ? a : b;
}

static int
gsp_cfg_default_path(struct gsp_cfg_ctx *c, char *dst, size_t size,
		     const char *fmt_key, const char *prefix,
		     const char *suffix)
{
	const struct gsp_config *cfg = c->cfg;
	int n;

	if (dst[0] != '\0')
		return 0;
	n = snprintf(dst, size, "%s%s.%s%s", prefix, cfg->cluster,
		     cfg->node_name, suffix);
	if (n < 0 || (size_t)n >= size) {
		dst[0] = '\0';
		gsp_cfg_err(c, 0,
			    "[control] %s: the default path %s<cluster>.<node>%s would be %d bytes (max %zu); set it explicitly",
			    fmt_key, prefix, suffix, n, size - 1);
		return -1;
	}
	return 0;
}

static int
gsp_cfg_finish_detector(struct gsp_cfg_ctx *c)
{
	struct gsp_config *cfg = c->cfg;
	char a[24], b[24];
	unsigned int line;

	if (!(cfg->detector & (GSP_DETECT_PHI | GSP_DETECT_SWIM))) {
		line = gsp_cfg_line_of2(c, "detector", "phi", "detector",
					"swim");
		gsp_cfg_err(c, line,
			    "[detector] phi and swim are both off: no failure detection at all (turn one on)");
		return -1;
	}
	if (gsp_cfg_line_of(c, "detector", "probe_timeout") == 0)
		cfg->probe_timeout_ns = cfg->probe_interval_ns / 2;
	if (cfg->probe_timeout_ns >= cfg->probe_interval_ns) {
		line = gsp_cfg_line_of2(c, "detector", "probe_timeout",
					"detector", "probe_interval");
		gsp_cfg_err(c, line,
			    "[detector] probe_timeout (%s) must be below probe_interval (%s)",
			    gsp_cfg_show_ns(cfg->probe_timeout_ns, a, sizeof(a)),
			    gsp_cfg_show_ns(cfg->probe_interval_ns, b,
					    sizeof(b)));
		return -1;
	}
	/* the core reads indirect_probes 0 as "the default": say it with
	 * the mechanism bit instead */
	if (cfg->indirect_probes == 0)
		cfg->detector &= ~(uint32_t)GSP_DETECT_INDIRECT;
	return 0;
}

/*
 * A seed at our own address and port is harmless (seed resolution and
 * the core skip it) but likely a mistake, or one list shared by every
 * node: a warning per line, once the file is otherwise good.
 */
static void
gsp_cfg_warn_self_seeds(const struct gsp_cfg_ctx *c)
{
	const struct gsp_config *cfg = c->cfg;
	char a[32];

	for (unsigned int i = 0; i < cfg->n_seeds; i++) {
		if (cfg->seeds[i].ip != cfg->addr.ip ||
		    cfg->seeds[i].port != cfg->addr.port)
			continue;
		gsp_format_addr(&cfg->seeds[i], a, sizeof(a));
		gsp_log(LOG_WARNING, "%s:%u: [seeds] seed %s is this node "
			"itself ([node] address and port); ignored", c->path,
			c->seed_line[i], a);
	}
}

/* Required keys, defaults that depend on others, cross-field checks. */
void
gsp_cfg_app_bounds(const struct gsp_config *cfg, unsigned int *keys,
		   size_t *value)
{
	bool v4 = cfg->wire_version != 0 && cfg->wire_version < 5;

	*keys = v4 ? GSP_WIRE4_APP_KEYS : GSP_APP_KEYS_MAX;
	*value = v4 ? GSP_WIRE4_APP_VALUE : GSP_APP_VALUE_MAX - 1;
}

/* [app] within [limits] app_bytes_max (a sealed node holds room for its
 * keyring, gsp.keys, as ctrl_app_check does), within wire version 4's
 * bounds on a node that speaks only 4, and a whole member state within
 * one packet of [node] mtu: the core would refuse any of them at start. */
static int
gsp_cfg_finish_app(struct gsp_cfg_ctx *c)
{
	struct gsp_config *cfg = c->cfg;
	uint32_t bytes_max = cfg->app_bytes_max != 0 ? cfg->app_bytes_max :
		GSP_APP_BYTES_MAX;
	uint32_t need = GSP_WIRE_PAYLOAD_FOR(bytes_max) + 28 +
		(cfg->plaintext ? 0 : GSP_SEC_OVERHEAD);
	uint32_t held = cfg->plaintext ? 0 : GSP_APP_KEYRING_ROOM;
	unsigned int keys = cfg->plaintext ? 0 : 1, keys_max;
	uint32_t total = held;
	size_t value_max;

	gsp_cfg_app_bounds(cfg, &keys_max, &value_max);

	for (unsigned int i = 0; i < cfg->n_app; i++) {
		size_t vlen = strlen(cfg->app_values[i]);

		total += (uint32_t)(strlen(cfg->app_keys[i]) + vlen);
		if (total > bytes_max) {
			gsp_cfg_err(c, c->app_line[i],
				    "[app] %s: the keys and values so far take "
				    "%u bytes (%u of them held for gossipd's "
				    "keyring, gsp.keys), over [limits] "
				    "app_bytes_max %u", cfg->app_keys[i], total,
				    held, bytes_max);
			return -1;
		}
		/* gsp.keys takes one of the keys on a sealed node */
		if (++keys > keys_max || vlen > value_max) {
			gsp_cfg_err(c, c->app_line[i],
				    "[app] %s: this node publishes at most %u "
				    "keys (gossipd's gsp.keys among them) of at "
				    "most %zu bytes ([gossip] wire_version %u)",
				    cfg->app_keys[i], keys_max, value_max,
				    cfg->wire_version);
			return -1;
		}
	}
	if (cfg->mtu != 0 && cfg->mtu < need) {
		gsp_cfg_err(c, gsp_cfg_line_of2(c, "node", "mtu", "limits",
						"app_bytes_max"),
			    "[node] mtu %u is too small for a member state of "
			    "[limits] app_bytes_max %u: it needs mtu %u or more%s;"
			    " raise mtu or lower app_bytes_max",
			    cfg->mtu, bytes_max, need, cfg->plaintext ? "" :
			    " (sealed)");
		return -1;
	}
	return 0;
}

int
gsp_cfg_finish(struct gsp_cfg_ctx *c)
{
	struct gsp_config *cfg = c->cfg;
	unsigned int line;

	if (cfg->cluster[0] == '\0') {
		gsp_cfg_err(c, 0, "[cluster] name is required");
		return -1;
	}
	if (cfg->node_name[0] == '\0') {
		gsp_cfg_err(c, 0, "[node] name is required");
		return -1;
	}
	if (gsp_cfg_line_of(c, "node", "address") == 0) {
		gsp_cfg_err(c, 0, "[node] address is required");
		return -1;
	}

	for (unsigned int i = 0; i < cfg->n_seeds; i++)
		if (!c->seed_has_port[i])
			cfg->seeds[i].port = cfg->addr.port;

	if (!(cfg->phi_suspect < cfg->phi_convict)) {
		line = gsp_cfg_line_of2(c, "gossip", "phi_suspect", "gossip",
					"phi_threshold");
		gsp_cfg_err(c, line,
			    "[gossip] phi_suspect (%g) must be below phi_threshold (%g)",
			    cfg->phi_suspect, cfg->phi_convict);
		return -1;
	}
	if ((uint64_t)cfg->forget_s * 1000 < (uint64_t)cfg->interval_ms * 10) {
		line = gsp_cfg_line_of2(c, "gossip", "forget_after",
					"gossip", "interval");
		gsp_cfg_err(c, line,
			    "[gossip] forget_after (%us) must be at least 10 gossip intervals (interval %ums)",
			    cfg->forget_s, cfg->interval_ms);
		return -1;
	}
	if (cfg->gateway != 0) {
		uint32_t mask = cfg->prefix_len >= 32 ? UINT32_MAX :
			~(UINT32_MAX >> cfg->prefix_len);

		line = gsp_cfg_line_of2(c, "node", "gateway", "node",
					"prefix");
		if (cfg->gateway == cfg->addr.ip) {
			gsp_cfg_err(c, line,
				    "[node] gateway must differ from [node] address");
			return -1;
		}
		if ((cfg->gateway & mask) != (cfg->addr.ip & mask)) {
			char gw[32], ad[32];
			struct gsp_addr g = { .ip = cfg->gateway, .port = 0 };
			struct gsp_addr a = { .ip = cfg->addr.ip, .port = 0 };

			gsp_format_addr(&g, gw, sizeof(gw));
			gsp_format_addr(&a, ad, sizeof(ad));
			gsp_cfg_err(c, line,
				    "[node] gateway %s is not on-link for %s/%u",
				    gw, ad, cfg->prefix_len);
			return -1;
		}
	}
	if (cfg->event_handler[0] != '\0' &&
	    (cfg->event_handler[0] != '/' ||
	     access(cfg->event_handler, X_OK) != 0)) {
		gsp_cfg_err(c, gsp_cfg_line_of(c, "events", "handler"),
			    "[events] handler %s: %s", cfg->event_handler,
			    cfg->event_handler[0] != '/' ?
			    "must be an absolute path" :
			    "is not an executable file");
		return -1;
	}
	if (cfg->dns_server[0] != '\0' && cfg->seed_dns[0] == '\0') {
		gsp_cfg_err(c, gsp_cfg_line_of(c, "seeds", "dns_server"),
			    "[seeds] dns_server is set but [seeds] dns is not");
		return -1;
	}

	if (gsp_cfg_finish_detector(c) != 0)
		return -1;
	if (gsp_cfg_finish_app(c) != 0)
		return -1;
	if (cfg->plaintext && cfg->keyring_path[0] != '\0') {
		gsp_cfg_err(c, gsp_cfg_line_of2(c, "security", "mode",
						"security", "keyring"),
			    "[security] keyring is set but mode = plaintext: remove one");
		return -1;
	}

	if (gsp_cfg_default_path(c, cfg->socket_path, sizeof(cfg->socket_path),
				 "socket", "/run/gossipd/", ".sock") != 0 ||
	    gsp_cfg_default_path(c, cfg->status_path, sizeof(cfg->status_path),
				 "status_view", "/dev/shm/gossipd.", "") != 0)
		return -1;
	if (strcmp(cfg->socket_path, cfg->status_path) == 0) {
		line = gsp_cfg_line_of2(c, "control", "socket", "control",
					"status_view");
		gsp_cfg_err(c, line,
			    "[control] socket and status_view must differ");
		return -1;
	}
	if (cfg->rx_interrupts == GSP_RX_INTR_ON && cfg->idle_sleep_us == 0) {
		line = gsp_cfg_line_of2(c, "dataplane", "rx_interrupts",
					"dataplane", "idle_sleep");
		gsp_cfg_err(c, line,
			    "[dataplane] rx_interrupts = on waits for frames, idle_sleep = 0 never waits (busy polling): remove one");
		return -1;
	}
	/* only the port knows, at start-up, whether it has them: its error
	 * points here */
	cfg->rx_interrupts_line = gsp_cfg_line_of(c, "dataplane",
						  "rx_interrupts");
	gsp_cfg_warn_self_seeds(c);
	return 0;
}
