/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-lcore polling loop, the same for one node on a port and for
 * thousands of emulated vnodes:
 *
 *   rx bursts of the lcore's port (portq.h: its ethdev queue, or the
 *   switch's rings of its vnodes whose doorbell rang, bounded per vnode)
 *   -> commands -> rounds of the vnodes whose timer is due (heap, bounded)
 *   -> frames held back by fault injection that are due (bounded) -> the
 *   port's due work (the switch's delayed frames) -> tx flush -> idle
 *   backoff until the next round or release: spin, pause, then wait for
 *   the queue's rx interrupt where the port has them, else sleep in
 *   bounded steps
 *
 * Each vnode is owned by one lcore, so every gossip core keeps a single
 * writer. The loop speaks to its port only through portq.h; bursts are
 * freed in bulk once processed.
 */
#include <signal.h>

#include <rte_cycles.h>
#include <rte_epoll.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "gossipd.h"
#include "gsp_log.h"
#include "gsp_notify.h"
#include "idle_spin.h"
#include "portq.h"

#define GSP_IDLE_CHECK_NS (1000ull * 1000)	/* lcore without timers */
/* a stop's LEAVE gets this long to linger before the process exits anyway
 * (docs/CONFIG.md, [node] on_stop) */
#define GSP_STOP_LEAVE_S 5

static inline uint64_t
gsp_now_ns(void)
{
	return gsp_dp_tsc_to_ns(rte_get_tsc_cycles());
}

#define GSP_IDLE_SLEEP_MIN_US 100	/* derived cap: bounds */
#define GSP_IDLE_SLEEP_MAX_US 100000
#define GSP_IDLE_SLEEP_STEPS 8		/* first sleep: the cap / this */
#define GSP_INTR_WAIT_MAX_MS 1000	/* a belt: the next timer is sooner */

/*
 * The longest idle sleep: what is configured, or (not set) a tenth of
 * the time within which a peer expects our answer (the probe timeout
 * with SWIM, else the gossip interval). Without rx interrupts a frame
 * that arrives during a sleep waits for its end: a tenth keeps that well
 * inside the timeout while an idle node wakes ~10x less than at 1 ms.
 */
static uint32_t
gsp_idle_cap_us(const struct gsp_config *cfg)
{
	uint64_t t_ns, cap_us;

	if (cfg->idle_sleep_us != GSP_IDLE_SLEEP_AUTO)
		return cfg->idle_sleep_us;
	if (cfg->detector & GSP_DETECT_SWIM)
		t_ns = cfg->probe_timeout_ns != 0 ? cfg->probe_timeout_ns :
			cfg->probe_interval_ns / 2;
	else
		t_ns = (uint64_t)cfg->interval_ms * 1000000u;
	cap_us = t_ns / 10000;		/* a tenth, in microseconds */
	if (cap_us < GSP_IDLE_SLEEP_MIN_US)
		cap_us = GSP_IDLE_SLEEP_MIN_US;
	if (cap_us > GSP_IDLE_SLEEP_MAX_US)
		cap_us = GSP_IDLE_SLEEP_MAX_US;
	return (uint32_t)cap_us;
}

static void
gsp_idle_reset(struct gsp_lcore_conf *lc)
{
	lc->idle_polls = 0;
	lc->sleep_us = 0;
	lc->spinning = false;
}

/* The port's rx bursts of this pass, each for one vnode. */
static unsigned int
gsp_poll_rx(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
	    struct rte_mbuf **pkts, uint64_t now_ns)
{
	struct gsp_lcore_observer *obs = lc->observer;
	bool watch = obs != NULL &&
		__atomic_load_n(&obs->watch_rx, __ATOMIC_RELAXED);
	struct gsp_portq_pass pass = { 0 };
	unsigned int total = 0, n;
	struct gsp_vnode *vn;

	lc->now_ns = now_ns;
	while ((vn = gsp_portq_rx(dp, lc, &pass, pkts, &n)) != NULL) {
		if (unlikely(vn->stopped)) {
			/* a crashed host: frames die on its port */
			rte_pktmbuf_free_bulk(pkts, n);
			continue;
		}
		gsp_pkt_process_burst(dp, vn, pkts, n, now_ns);
		if (unlikely(watch))
			obs->on_rx(obs->ctx, vn, now_ns);
		total += n;
	}
	/* switched to other lcores' vnodes, maybe: work all the same */
	return total + pass.uplink;
}

/*
 * Waits in the kernel for a frame on the lcore's queue, a wake-up
 * (command, signal) or the next timer, whichever comes first. As
 * l3fwd-power: arm the queue's interrupt, look once more (a frame that
 * came before the arming raised none), wait, disarm. False when the timer
 * is due: nothing to wait for. *by_frame: a frame ended it; *woke_ns:
 * when the wait ended, before any frame was worked on.
 */
static bool
gsp_intr_wait(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
	      struct rte_mbuf **pkts, uint64_t until_ns, uint64_t now_ns,
	      bool *by_frame, uint64_t *woke_ns)
{
	struct rte_epoll_event ev[2];
	uint64_t wait_ms;
	int n;

	/* rounded up: a timer a fraction of a millisecond late costs less
	 * than waking early and then once more for the rest */
	wait_ms = until_ns > now_ns ? (until_ns - now_ns + 999999) / 1000000 :
		0;
	if (wait_ms == 0)
		return false;
	if (wait_ms > GSP_INTR_WAIT_MAX_MS)
		wait_ms = GSP_INTR_WAIT_MAX_MS;
	if (lc->rx_intr_arm)
		rte_eth_dev_rx_intr_enable(dp->port_id, lc->queue_id);
	else if (lc->rx_bell)
		gsp_doorbell_drain(lc);
	*by_frame = true;
	*woke_ns = gsp_now_ns();
	if (gsp_poll_rx(dp, lc, pkts, *woke_ns) != 0) {
		if (lc->rx_intr_arm)
			rte_eth_dev_rx_intr_disable(dp->port_id, lc->queue_id);
		gsp_tx_flush(dp, lc);
		return true;
	}
	*by_frame = false;
	GSP_LSTAT_ADD(lc, rx_intr_waits, 1);
	n = rte_epoll_wait_interruptible(lc->intr_epfd, ev, RTE_DIM(ev),
					 (int)wait_ms);
	*woke_ns = gsp_now_ns();
	for (int i = 0; i < n; i++)
		if (ev[i].epdata.data == lc) {	/* the queue, not wake_fd */
			GSP_LSTAT_ADD(lc, rx_intr_wakeups, 1);
			*by_frame = true;
			break;
		}
	if (lc->rx_intr_arm)
		rte_eth_dev_rx_intr_disable(dp->port_id, lc->queue_id);
	return true;
}

/* A spell's first empty poll that goes on to spin, where the lcore
 * then waits in the kernel: counted once (idle_spins), and a frame
 * that ends the spin is a hit (gsp_loop). */
static inline void
gsp_spin_counted(struct gsp_lcore_conf *lc, uint32_t cap_us)
{
	if (lc->rx_intr && cap_us != 0 && lc->idle_polls == 1) {
		lc->spinning = true;
		GSP_LSTAT_ADD(lc, idle_spins, 1);
	}
}

/* Spin, then pause, then wait for an rx interrupt or sleep with a
 * doubling period up to the cap, never past the next timer: several
 * nodes can share two cores while a busy node still polls flat out; a
 * cap of 0 polls without sleeping. */
static void
gsp_idle(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
	 struct rte_mbuf **pkts, uint32_t cap_us, uint64_t until_ns,
	 uint64_t now_ns)
{
	const struct gsp_config *cfg = dp->cfg;
	bool spun, by_frame;
	uint64_t max_us, woke_ns;

	/* Where a frame wakes us, polling on only saves a wake-up if the
	 * frame comes within microseconds; on a PMD whose empty poll is a
	 * syscall (net_tap, the doorbell's af_packet) 320 polls cost more
	 * than the wake-up they might save. So spin by time there, as long
	 * as spins have been paying (lc->spin_ns, idle_spin.h). */
	if (lc->idle_polls++ == 0)
		lc->idle_since_ns = now_ns;
	spun = lc->rx_intr && cap_us != 0 &&
		now_ns - lc->idle_since_ns >= lc->spin_ns;
	if (!spun && lc->idle_polls < cfg->idle_spin) {
		gsp_spin_counted(lc, cap_us);
		return;
	}
	if (cap_us == 0 || (!spun &&
	    lc->idle_polls < cfg->idle_spin + cfg->idle_pause)) {
		gsp_spin_counted(lc, cap_us);
		rte_pause();
		return;
	}
	lc->spinning = false;		/* over: what comes now was waited for */
	if (lc->rx_intr && gsp_intr_wait(dp, lc, pkts, until_ns, now_ns,
					 &by_frame, &woke_ns)) {
		lc->spin_ns = gsp_spin_next(lc->spin_ns,
					    cfg->idle_spin_us * 1000u, by_frame,
					    woke_ns - lc->idle_since_ns);
		gsp_idle_reset(lc);	/* awake: poll hard again */
		return;
	}
	lc->sleep_us = lc->sleep_us == 0 ?
		RTE_MAX(1u, cap_us / GSP_IDLE_SLEEP_STEPS) : lc->sleep_us * 2;
	if (lc->sleep_us > cap_us)
		lc->sleep_us = cap_us;
	max_us = until_ns > now_ns ? (until_ns - now_ns) / 1000 : 0;
	if (max_us == 0)
		return;
	GSP_LSTAT_ADD(lc, idle_sleeps, 1);
	rte_delay_us_sleep(lc->sleep_us < max_us ? lc->sleep_us : max_us);
}

static void
gsp_vnode_left(struct gsp_dp *dp, struct gsp_vnode *vn)
{
	/* a process with one node exits; a hosted vnode just stops */
	if (!dp->hosts_vnodes) {
		dp->force_quit = true;
		return;
	}
	vn->stopped = true;
	gsp_arp_flush(vn);
}

/* Rounds of the vnodes that are due, earliest first, a bounded number. */
static unsigned int
gsp_run_timers(struct gsp_dp *dp, struct gsp_lcore_conf *lc, uint64_t now_ns,
	       uint64_t *next_ns)
{
	unsigned int ran = 0, looked = 0;

	if (lc->n_vnodes == 0) {
		*next_ns = now_ns + GSP_IDLE_CHECK_NS;
		return 0;
	}
	while (ran < GSP_TICKS_PER_POLL && looked++ < 4 * GSP_TICKS_PER_POLL) {
		struct gsp_vnode *vn = lc->timers[0];
		uint64_t due_ns = vn->next_tick_ns, t;

		if (due_ns > now_ns)
			break;
		if (unlikely(vn->stopped)) {
			vn->next_tick_ns = UINT64_MAX;	/* sinks for good */
			gsp_timer_fix_top(lc);
			continue;
		}
		/* an answer cleared what it was due for (a PONG before its
		 * probe's timeout): no tick, only a move to its next deadline
		 * (a quarter of all ticks with thousands of vnodes a lcore) */
		t = gsp_node_next_deadline(vn->node);
		if (t > now_ns) {
			vn->next_tick_ns = t;
			gsp_timer_fix_top(lc);
			continue;
		}
		/* both passed: it is late for the one it still had */
		if (t > due_ns)
			due_ns = t;
		lc->now_ns = now_ns;
		vn->next_tick_ns = gsp_node_tick(vn->node, now_ns);
		if (unlikely(lc->observer != NULL))
			lc->observer->on_tick(lc->observer->ctx, vn, due_ns,
					      now_ns);
		if (unlikely(gsp_node_leave_done(vn->node)))
			gsp_vnode_left(dp, vn);
		gsp_timer_fix_top(lc);
		ran++;
		/* a round scans the whole table: time moves on */
		now_ns = gsp_now_ns();
	}
	/* an answer may have cleared the top's timer since (an ack before
	 * its probe's timeout): sleep to what is left, not to nothing */
	for (unsigned int i = 0; i < GSP_TICKS_PER_POLL; i++) {
		struct gsp_vnode *vn = lc->timers[0];
		uint64_t t;

		if (vn->stopped)
			break;
		t = gsp_node_next_deadline(vn->node);
		if (t <= vn->next_tick_ns)
			break;
		vn->next_tick_ns = t;
		gsp_timer_fix_top(lc);
	}
	*next_ns = lc->timers[0]->next_tick_ns;
	return ran;
}

/*
 * SIGTERM/SIGINT, on the main lcore (it owns the port's node). The first
 * makes the node leave as `gossipctl leave` does: LEAVE, leave_rounds
 * rounds, exit 0 (lcore loop: gsp_vnode_left), or exit anyway once
 * GSP_STOP_LEAVE_S passed. A second signal, on_stop = exit and a process
 * hosting vnodes (their leaves would only blur the scenario's record)
 * end the loops at once.
 */
static void
gsp_stop_step(struct gsp_dp *dp, struct gsp_lcore_conf *lc, uint64_t now_ns)
{
	int n = __atomic_load_n(&dp->stop_signals, __ATOMIC_RELAXED);
	const char *sig;
	struct gsp_vnode *vn = dp->port_vnode;

	if (likely(n == dp->stop_seen)) {
		if (unlikely(dp->stop_deadline_ns != 0) &&
		    now_ns >= dp->stop_deadline_ns) {
			gsp_log(LOG_WARNING, "stop: the leave did not finish "
				"within %d s: exiting without it",
				GSP_STOP_LEAVE_S);
			dp->stop_deadline_ns = 0;
			dp->force_quit = true;
		}
		return;
	}
	dp->stop_seen = n;
	sig = __atomic_load_n(&dp->stop_signo, __ATOMIC_RELAXED) == SIGINT ?
		"SIGINT" : "SIGTERM";
	/* once per signal, off the packet path: systemd sees the stop */
	gsp_notify_stopping(dp->cfg->on_stop == GSP_ON_STOP_EXIT ||
			    dp->hosts_vnodes ? "stopping" :
			    "stopping: leaving the cluster");
	if (n > 1 || dp->stop_deadline_ns != 0) {
		gsp_log(LOG_NOTICE, "stop: %s again: exiting now", sig);
		dp->force_quit = true;
	} else if (dp->hosts_vnodes || vn == NULL || vn->lc != lc ||
		   dp->cfg->on_stop == GSP_ON_STOP_EXIT) {
		gsp_log(LOG_NOTICE, "stop: %s: exiting without a leave (%s)",
			sig, dp->hosts_vnodes ? "emulation" :
			dp->cfg->on_stop == GSP_ON_STOP_EXIT ?
			"[node] on_stop = exit" : "no node of ours on the port");
		dp->force_quit = true;
	} else {
		gsp_log(LOG_NOTICE, "stop: %s: leaving the cluster (LEAVE, "
			"%u rounds, exit within %d s; a second signal exits "
			"now)", sig, dp->cfg->leave_rounds, GSP_STOP_LEAVE_S);
		dp->stop_deadline_ns = now_ns + GSP_STOP_LEAVE_S * 1000000000ull;
		gsp_node_leave(vn->node, now_ns);
	}
}

static int
gsp_loop(struct gsp_dp *dp, struct gsp_lcore_conf *lc)
{
	struct rte_mbuf *pkts[GSP_MAX_PKT_BURST];
	bool main_lc = rte_lcore_id() == rte_get_main_lcore();
	uint32_t idle_cap_us = gsp_idle_cap_us(dp->cfg);
	struct rte_rcu_qsbr *qsbr = lc->observer != NULL ?
		lc->observer->qsbr : NULL;
	unsigned int self = rte_lcore_id();
	uint64_t now_ns, next_ns;
	unsigned int work, rx;

	if (qsbr != NULL) {
		rte_rcu_qsbr_thread_register(qsbr, self);
		rte_rcu_qsbr_thread_online(qsbr, self);
	}
	for (uint32_t i = 0; i < lc->n_vnodes; i++)
		gsp_arp_announce(dp, lc->vnodes[i]);
	lc->spin_ns = dp->cfg->idle_spin_us * 1000u;	/* then adapted */
	while (!dp->force_quit) {
		now_ns = gsp_now_ns();
		if (main_lc)
			gsp_stop_step(dp, lc, now_ns);
		rx = gsp_poll_rx(dp, lc, pkts, now_ns);
		work = rx;
		if (lc->cmd_ring != NULL)
			gsp_dp_process_commands(dp, lc, now_ns);
		work += gsp_run_timers(dp, lc, now_ns, &next_ns);
		/* only the control vnode's lcore has a fault queue; with
		 * faults off it stays empty and clean */
		if (unlikely(lc->fq != NULL) &&
		    (lc->fq->n != 0 || lc->fault_dirty))
			work += gsp_fault_step(dp, lc, gsp_now_ns(), &next_ns);
		work += gsp_portq_due(dp, lc, &next_ns);
		gsp_tx_flush(dp, lc);
		if (unlikely(dp->ctrl_vnode != NULL) &&
		    dp->ctrl_vnode->lc == lc)
			gsp_view_watch(dp, work, now_ns);
		/* no observer hook runs between passes */
		if (qsbr != NULL)
			rte_rcu_qsbr_quiescent(qsbr, self);

		/* Frames come in bursts (a sync is four exchanges): after
		 * one, poll hard again. A node's own timers bring no frame
		 * it must read at once (a PONG is looked for at the probe
		 * timeout), so after them a lone node sleeps on as it was:
		 * every restart of the ramp is several more wake-ups. */
		if (work == 0) {
			gsp_idle(dp, lc, pkts, idle_cap_us, next_ns, now_ns);
		} else if (rx != 0 || dp->hosts_vnodes) {
			if (lc->spinning && rx != 0)	/* caught, no wait */
				GSP_LSTAT_ADD(lc, idle_spin_hits, 1);
			gsp_idle_reset(lc);
		}
	}
	gsp_tx_flush(dp, lc);
	if (qsbr != NULL) {
		rte_rcu_qsbr_thread_offline(qsbr, self);
		rte_rcu_qsbr_thread_unregister(qsbr, self);
	}
	return 0;
}

int
gsp_lcore_main(__rte_unused void *arg)
{
	struct gsp_lcore_conf *lc = &gsp_dp.lconf[rte_lcore_id()];

	if (!lc->enabled)
		return 0;
	return gsp_loop(&gsp_dp, lc);
}
