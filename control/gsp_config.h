/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipd configuration: an INI file parsed with inih and validated into
 * struct gsp_config. Every error names file:line. See docs/CONFIG.md.
 */
#ifndef GSP_CONFIG_H
#define GSP_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gsp_core.h"
#include "gsp_fault.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GSP_CONFIG_ERR_MAX 512
#define GSP_CONFIG_SIZE_MAX (1u << 20)	/* bytes; real ones are a few KiB */
#define GSP_PATH_MAX 108	/* fits sockaddr_un.sun_path */

/* What SIGTERM and SIGINT do ([node] on_stop; docs/CONFIG.md) */
enum gsp_on_stop {
	GSP_ON_STOP_LEAVE,	/* announce LEAVE, linger, exit (bounded) */
	GSP_ON_STOP_EXIT,	/* exit at once: the others detect it down */
};

/* [dataplane] rx_interrupts: how an idle lcore waits for frames */
enum gsp_rx_intr {
	GSP_RX_INTR_AUTO,	/* the port's rx interrupts when it has them */
	GSP_RX_INTR_ON,		/* them, or the node does not start */
	GSP_RX_INTR_OFF,	/* bounded sleeps only */
};

/* [dataplane] idle_sleep_us not set: derived from the detector's timeout */
#define GSP_IDLE_SLEEP_AUTO UINT32_MAX
/* [dataplane] rx_descriptors / tx_descriptors not set */
#define GSP_RX_DESC_DEFAULT 1024
#define GSP_TX_DESC_DEFAULT 1024

struct gsp_config {
	char path[PATH_MAX];		/* the file that was loaded */

	/* [cluster] */
	char cluster[GSP_CLUSTER_MAX];	/* name: required, [A-Za-z0-9_.-] */

	/* [node] */
	char node_name[GSP_NAME_MAX];	/* name: required, [A-Za-z0-9_.-] */
	uint64_t node_id;		/* id: 0 = derived from the name */
	struct gsp_addr addr;		/* address (required) + port (7946) */
	uint8_t prefix_len;		/* prefix: on-link subnet, default 24 */
	uint32_t gateway;		/* gateway: 0 = none (host order) */
	uint16_t mtu;			/* mtu: 576..9000, default 1500 */
	uint8_t on_stop;		/* on_stop: leave (enum gsp_on_stop) */
	char snapshot_path[256];	/* snapshot: "" = off (snapshot.c) */

	/* [gossip] */
	uint32_t interval_ms;		/* interval_ms: 1000 */
	uint32_t fanout;		/* fanout: 2 (1..16) */
	double phi_suspect;		/* phi_suspect: 5 */
	double phi_convict;		/* phi_threshold: 8 */
	uint32_t forget_s;		/* forget_after_s: 3600 */
	uint32_t leave_rounds;		/* leave_rounds: 3 */
	uint32_t max_members;		/* max_members: 65536 */
	uint64_t max_clock_skew_ns;	/* max_clock_skew: 60s (1s..1d) */
	uint8_t wire_version;		/* wire_version: 4 (2..4) */

	/* [seeds] */
	struct gsp_addr seeds[GSP_SEEDS_MAX];	/* seed = ip[:port], repeated */
	unsigned int n_seeds;
	char seed_dns[256];		/* dns = name; "_x._udp.y" is SRV */
	char dns_server[64];		/* dns_server = ip[:port], optional */
	uint32_t dns_refresh_s;		/* dns_refresh_s: 30 */

	/* [app] key = value: initial application state */
	char app_keys[GSP_APP_KEYS_MAX][GSP_APP_KEY_MAX];
	char app_values[GSP_APP_KEYS_MAX][GSP_APP_VALUE_MAX];
	unsigned int n_app;

	/* [events] (docs/EVENTS.md) */
	char event_handler[GSP_PATH_MAX];	/* handler: "" = none */
	uint32_t event_handler_timeout_ms;	/* handler_timeout: 30s */
	uint32_t event_handler_queue;		/* handler_queue: 1024 */

	/* [control] */
	char socket_path[GSP_PATH_MAX];	/* socket: /run/gossipd/<c>.<n>.sock */
	char status_path[GSP_PATH_MAX];	/* status_view: /dev/shm/gossipd.<c>.<n> */
	uint32_t status_interval_ms;	/* status_interval_ms: 100 (10..1000) */

	/* [dataplane] */
	uint16_t port_id;		/* port: DPDK port id, 0 */
	uint32_t burst;			/* burst: 32 (1..256) */
	uint16_t rx_descriptors;	/* rx_descriptors: 1024 (64..32768),
					 * of the port and of --uplink's */
	uint16_t tx_descriptors;	/* tx_descriptors: 1024 (64..32768) */
	uint32_t mbufs;			/* mbufs: 4095 */
	uint32_t idle_spin;		/* idle_spin: empty polls before pause, 64 */
	uint32_t idle_pause;		/* idle_pause: empty polls before sleep, 256 */
	/* idle_spin_us: where the lcore can wait for a frame (rx interrupts,
	 * the doorbell), the longest spin before a wait (it adapts): 20 */
	uint32_t idle_spin_us;
	/* idle_sleep_us: the longest idle sleep; 0 polls without sleeping;
	 * GSP_IDLE_SLEEP_AUTO (not set) is a tenth of the probe timeout */
	uint32_t idle_sleep_us;
	uint8_t rx_interrupts;		/* rx_interrupts: auto (enum gsp_rx_intr) */
	uint32_t rx_interrupts_line;	/* its line, for the port's error; 0 */
	uint32_t arp_timeout_s;		/* arp_timeout_s: 300 */
	uint64_t rng_seed;		/* rng_seed: 0 = from the clock */

	/* [log] */
	int log_level;			/* level: error|warning|notice|info|debug */

	/* [detector]: gsp_node_params' failure detection fields */
	uint32_t detector;		/* phi, swim, indirect, lifeguard: all on */
	uint64_t probe_interval_ns;	/* probe_interval: 100ms */
	uint64_t probe_timeout_ns;	/* probe_timeout: probe_interval / 2 */
	uint32_t indirect_probes;	/* indirect_probes: 3 (0: indirect off) */
	uint32_t suspicion_mult;	/* suspicion_mult: 4 */
	uint32_t suspicion_max_mult;	/* suspicion_max_mult: 6 */
	uint32_t awareness_max;		/* awareness_max: 8 */

	/* [fault]: injected at start (testing only; docs/FAULTS.md) */
	struct gsp_fault_cfg fault;

	/* [security] (docs/SECURITY.md) */
	bool plaintext;			/* mode: authenticated | plaintext */
	char keyring_path[GSP_PATH_MAX];	/* keyring: required unless plaintext */
	uint32_t cipher;		/* cipher: aes-256-gcm (enum gsp_cipher) */

	/* [limits]: gsp_node_params' limits; 0 = the core's default */
	uint32_t app_value_max;		/* app_value_max: 255 */
	uint32_t app_bytes_max;		/* app_bytes_max: 1024 */
	uint32_t join_rate;		/* join_rate: 20 per source per second */
	uint32_t join_burst;		/* join_burst: 40 */
	uint32_t probe_rate;		/* probe_rate: 20 probe periods' worth */
	uint32_t probe_burst;		/* probe_burst: 2 x probe_rate */
};

/* Defaults for every field; the file then overrides them. */
void gsp_config_defaults(struct gsp_config *cfg);
/* 0, or -1 with a "file:line: message" (or "file: message") in err. */
int gsp_config_load(const char *path, struct gsp_config *cfg, char *err,
		    size_t errlen);
/* "1.2.3.4" or "1.2.3.4:7946" -> addr; 0 or -1. */
int gsp_parse_addr(const char *s, uint16_t default_port, struct gsp_addr *out);
void gsp_format_addr(const struct gsp_addr *a, char *buf, size_t len);
/* The bounds of the node's own app state as its peers will read it: keys
 * (gossipd's own among them) and value bytes. A node that speaks wire
 * version 4 or older ([gossip] wire_version) keeps to 4's. */
void gsp_cfg_app_bounds(const struct gsp_config *cfg, unsigned int *keys,
			size_t *value);

#ifdef __cplusplus
}
#endif

#endif /* GSP_CONFIG_H */
