/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane: a thread off the dataplane lcores that resolves seeds,
 * serves gossipctl on a Unix socket and publishes the status view.
 *
 * It talks to the dataplane only through the gsp_dp_* functions below, a
 * link-time seam implemented in dataplane/ (commands go over an rte_ring to
 * the protocol lcore, events come back the same way); control/ itself
 * includes no DPDK header.
 */
#ifndef GSP_CTRL_H
#define GSP_CTRL_H

#include <stdbool.h>
#include <stdint.h>

#include "gsp_config.h"
#include "gsp_core.h"
#include "gsp_sec.h"
#include "gossipd/status_view.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What a status-view reader must see within one period, folded into a
 * u64 from the core's counters: who is in the table and in which state,
 * every version (the view digest hashes each member's id, generation
 * and version: joins, app state, refutes) and the view's agreement.
 * Heartbeats, phi and traffic counters, which move all the time in a
 * quiet cluster, are left out (docs/STATUS_VIEW.md "Freshness").
 */
static inline uint64_t
gsp_view_token(const struct gsp_node_counters *nc)
{
	const uint64_t v[] = {
		nc->members, nc->alive, nc->suspect, nc->down, nc->left,
		nc->merged, nc->suspicions, nc->refutations,
		nc->declared_down, nc->incarnation, nc->awareness,
		nc->view_digest, nc->view_peers, nc->view_agree,
		nc->tx_leave, nc->rx_leave, nc->table_full, nc->rumors,
	};
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		h = (h ^ v[i]) * 0x100000001b3ull + (h >> 29);
	return h;
}

/* ---- implemented by the dataplane ---- */

/* An eventfd that becomes readable when the control vnode's view token
 * moved or it raised an event, or -1 (then poll every period). */
int gsp_dp_view_fd(void);
/* Empties it; the next change makes it readable again. */
void gsp_dp_view_ack(void);

/* 0, or -EAGAIN (command ring full), -EINVAL. */
int gsp_dp_submit_set_app(const char *key, const char *value);
int gsp_dp_submit_del_app(const char *key);
int gsp_dp_submit_leave(void);
int gsp_dp_submit_force_leave(uint64_t id);
int gsp_dp_submit_seeds(const struct gsp_addr *seeds, unsigned int n);
/* true when an event was taken from the event ring */
bool gsp_dp_poll_event(struct gsp_event *ev);
/* Events the dataplane could not hand over (its ring was full), in all. */
uint64_t gsp_dp_events_dropped(void);
/* Events the dataplane raises itself, on the same ring (beyond the core's
 * enum gsp_event_type). ARP_CONFLICT: ARP said a peer whose MAC address
 * authenticated gossip confirmed is elsewhere, and was ignored (the first
 * such in a minute): id = the IPv4 address, generation = the MAC ARP
 * claimed, limit = the confirmed MAC (MACs as 48-bit values, first byte
 * highest), suppressed = those ignored unlogged since the last event. */
#define GSP_EV_DP_ARP_CONFLICT 0x80
/* Fills up to max per-lcore counter records; returns how many. */
unsigned int gsp_dp_lcore_stats(struct gsp_sv_lcore *out, unsigned int max);
const struct gsp_node *gsp_dp_node(void);
/* Fault injection on the node the control thread serves (docs/FAULTS.md).
 * get: the config in force (or being handed over). set: hands a copy to
 * the protocol lcore and returns once it took it: 0, -EBUSY (an earlier
 * hand-over still pending), -EAGAIN (command ring full), -ETIMEDOUT (not
 * acknowledged within a second; it applies when taken), -ENOMEM, -ENODEV.
 * counters: summed over the lcores; false when none injects. */
void gsp_dp_fault_get(struct gsp_fault_cfg *out);
int gsp_dp_fault_set(const struct gsp_fault_cfg *f);
bool gsp_dp_fault_counters(uint64_t out[GSP_FAULT_C_MAX]);
/* Authentication (docs/SECURITY.md): the keyring the node started with,
 * NULL in plaintext mode. set: hands the control vnode a copy of kr and
 * returns once it took it: 0, -EINVAL (plaintext, or refused), -EAGAIN,
 * -ETIMEDOUT (kr must then be kept: the lcore may still read it). */
const struct gsp_keyring *gsp_dp_keyring(void);
int gsp_dp_keyring_set(const struct gsp_keyring *kr);
/* The core's clock (monotonic ns), to turn core times into wall time. */
uint64_t gsp_dp_now_ns(void);
bool gsp_dp_quit_requested(void);

/* ---- implemented by control/ ---- */

/* The control thread's body; returns when gsp_dp_quit_requested(). */
int gsp_ctrl_run(const struct gsp_config *cfg);

/*
 * Seed resolution: the static list, then DNS (SRV, then A records of each
 * target; a plain name resolves A records). Blocking, bounded by
 * timeout_ms. Returns the number of seeds written, or -1 with err set.
 */
int gsp_seeds_resolve(const struct gsp_config *cfg, struct gsp_addr *out,
		      unsigned int max, unsigned int timeout_ms, char *err,
		      size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* GSP_CTRL_H */
