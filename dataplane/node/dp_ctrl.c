/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane side of the control seam (control/gsp_ctrl.h): commands go
 * to the lcore that owns the target vnode over that lcore's MP/SC
 * rte_ring, events of the control vnode come back over an SP/SC ring.
 * Neither side ever blocks the other. The control thread serves one vnode:
 * the port's, or node1 in emulation.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "gossipd.h"
#include "gsp_ctrl.h"
#include "view_bell.h"

/* the u64 counters of struct gsp_sv_lcore: rx_packets up to reserved */
#define GSP_LSTAT_COUNT ((offsetof(struct gsp_sv_lcore, reserved) - \
	offsetof(struct gsp_sv_lcore, rx_packets)) / sizeof(uint64_t))

static uint32_t
gsp_dp_ctrl_vnode(void)
{
	return gsp_dp.ctrl_vnode != NULL ? gsp_dp.ctrl_vnode->idx : UINT32_MAX;
}

int
gsp_dp_submit_set_app(const char *key, const char *value)
{
	struct gsp_cmd cmd = { .type = GSP_CMD_SET_APP,
		.vnode = gsp_dp_ctrl_vnode() };

	if (strlen(key) >= sizeof(cmd.key) || strlen(value) >= sizeof(cmd.value))
		return -EINVAL;
	strcpy(cmd.key, key);
	strcpy(cmd.value, value);
	return gsp_dp_submit(&cmd);
}

int
gsp_dp_submit_del_app(const char *key)
{
	struct gsp_cmd cmd = { .type = GSP_CMD_DEL_APP,
		.vnode = gsp_dp_ctrl_vnode() };

	if (strlen(key) >= sizeof(cmd.key))
		return -EINVAL;
	strcpy(cmd.key, key);
	return gsp_dp_submit(&cmd);
}

int
gsp_dp_submit_leave(void)
{
	struct gsp_cmd cmd = { .type = GSP_CMD_LEAVE,
		.vnode = gsp_dp_ctrl_vnode() };

	return gsp_dp_submit(&cmd);
}

int
gsp_dp_submit_force_leave(uint64_t id)
{
	/* the member id rides in seq: no field of its own in every cmd */
	struct gsp_cmd cmd = { .type = GSP_CMD_FORCE_LEAVE,
		.vnode = gsp_dp_ctrl_vnode(), .seq = id };

	return gsp_dp_submit(&cmd);
}

int
gsp_dp_submit_seeds(const struct gsp_addr *seeds, unsigned int n)
{
	struct gsp_cmd cmd = { .type = GSP_CMD_SEEDS,
		.vnode = gsp_dp_ctrl_vnode() };

	if (n > GSP_SEEDS_MAX)
		return -EINVAL;
	cmd.n_seeds = n;
	memcpy(cmd.seeds, seeds, n * sizeof(*seeds));
	return gsp_dp_submit(&cmd);
}

const struct gsp_keyring *
gsp_dp_keyring(void)
{
	return gsp_dp.keyring;
}

int
gsp_dp_keyring_set(const struct gsp_keyring *kr)
{
	const struct timespec tick = { 0, 1000000 };
	struct gsp_cmd cmd = { .type = GSP_CMD_KEYRING,
		.vnode = gsp_dp_ctrl_vnode() };
	int ret;

	if (gsp_dp.keyring == NULL)
		return -EINVAL;	/* plaintext stays plaintext */
	cmd.keyring = kr;
	cmd.seq = ++gsp_dp.keyring_seq;
	ret = gsp_dp_submit(&cmd);
	if (ret != 0)
		return ret;
	/* kr must live until the lcore took its copy */
	for (unsigned int ms = 0; ms < GSP_FAULT_ACK_MS; ms++) {
		if (__atomic_load_n(&gsp_dp.keyring_ack, __ATOMIC_ACQUIRE) ==
		    cmd.seq)
			return gsp_dp.keyring_ret;
		if (gsp_dp.force_quit)
			break;
		nanosleep(&tick, NULL);
	}
	return -ETIMEDOUT;
}

bool
gsp_dp_poll_event(struct gsp_event *ev)
{
	return rte_ring_sc_dequeue_elem(gsp_dp.event_ring, ev,
					sizeof(*ev)) == 0;
}

uint64_t
gsp_dp_events_dropped(void)
{
	return __atomic_load_n(&gsp_dp.events_dropped, __ATOMIC_RELAXED);
}

unsigned int
gsp_dp_lcore_stats(struct gsp_sv_lcore *out, unsigned int max)
{
	unsigned int n = 0, lcore;

	RTE_LCORE_FOREACH(lcore) {
		const struct gsp_lcore_conf *lc = &gsp_dp.lconf[lcore];
		const uint64_t *src = &lc->stats.rx_packets;
		uint64_t *dst;

		if (!lc->enabled || n >= max)
			continue;
		/* port 65535: the lcore has no port queue (emulation) */
		out[n] = (struct gsp_sv_lcore){ .lcore_id = lcore,
			.port_id = lc->port_kind == GSP_PORT_ETHDEV ?
				gsp_dp.port_id : UINT16_MAX,
			.queue_id = lc->queue_id };
		dst = &out[n].rx_packets;
		for (size_t i = 0; i < GSP_LSTAT_COUNT; i++)
			dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		n++;
	}
	return n;
}

const struct gsp_node *
gsp_dp_node(void)
{
	return gsp_dp.ctrl_vnode != NULL ? gsp_dp.ctrl_vnode->node : NULL;
}

uint64_t
gsp_dp_now_ns(void)
{
	return gsp_dp_tsc_to_ns(rte_get_tsc_cycles());
}

bool
gsp_dp_quit_requested(void)
{
	return gsp_dp.force_quit;
}

#define GSP_VIEW_CHECK_NS (10ull * 1000 * 1000)	/* busy: this often */

/* Rings the status view's doorbell (view_bell.h). */
static void
gsp_view_poke(struct gsp_dp *dp)
{
	gsp_view_bell_ring(dp->view_fd, &dp->view_poked);
}

/*
 * After each pass of the control vnode's lcore: once the work of a burst
 * is done (or every GSP_VIEW_CHECK_NS while it lasts), whether the view
 * token moved. An idle control thread sleeps until it does, or a second.
 */
void
gsp_view_watch(struct gsp_dp *dp, unsigned int work, uint64_t now_ns)
{
	struct gsp_node_counters nc;
	uint64_t t;

	if (work != 0)
		dp->view_due = true;
	if (!dp->view_due ||
	    (work != 0 && now_ns - dp->view_check_ns < GSP_VIEW_CHECK_NS))
		return;
	dp->view_due = false;
	dp->view_check_ns = now_ns;
	gsp_node_counters_read(dp->ctrl_vnode->node, &nc);
	t = gsp_view_token(&nc);
	if (t == dp->view_token)
		return;
	dp->view_token = t;
	gsp_view_poke(dp);
}

int
gsp_dp_view_fd(void)
{
	return gsp_dp.view_fd;
}

void
gsp_dp_view_ack(void)
{
	gsp_view_bell_ack(gsp_dp.view_fd, &gsp_dp.view_poked);
}

/* The core's event seam: the control vnode's events go to the control
 * thread, which logs them; an lcore's observer sees every vnode's. */
void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	struct gsp_vnode *vn = io_ctx;
	struct gsp_lcore_observer *obs = vn->lc != NULL ?
		vn->lc->observer : NULL;

	if (unlikely(obs != NULL))
		obs->on_event(obs->ctx, vn, ev);
	if (vn != gsp_dp.ctrl_vnode)
		return;
	if (rte_ring_sp_enqueue_elem(gsp_dp.event_ring, (void *)(uintptr_t)ev,
				     sizeof(*ev)) != 0)
		__atomic_fetch_add(&gsp_dp.events_dropped, 1, __ATOMIC_RELAXED);
	gsp_view_poke(&gsp_dp);	/* logged within a period, not a second */
}

void
gsp_dp_process_commands(struct gsp_dp *dp, struct gsp_lcore_conf *lc,
			uint64_t now_ns)
{
	struct gsp_cmd cmd;

	lc->now_ns = now_ns;
	/* bounded: at most the ring's size per loop iteration */
	for (unsigned int i = 0; i < GSP_CMD_RING_SIZE; i++) {
		struct gsp_vnode *vn;

		if (rte_ring_sc_dequeue_elem(lc->cmd_ring, &cmd,
					     sizeof(cmd)) != 0)
			return;
		if (cmd.vnode >= dp->n_vnodes)
			continue;
		vn = &dp->vnodes[cmd.vnode];
		if (vn->lc != lc)
			continue;
		/* acknowledged even when stopped: the control thread waits */
		if (cmd.type == GSP_CMD_FAULT) {
			gsp_fault_take(dp, vn, &cmd);
			continue;
		}
		if (cmd.type == GSP_CMD_KEYRING) {
			/* a copy: the control thread frees its own after */
			dp->keyring_ret = gsp_node_set_keyring(vn->node,
							       cmd.keyring);
			__atomic_store_n(&dp->keyring_ack, cmd.seq,
					 __ATOMIC_RELEASE);
			continue;
		}
		if (vn->stopped)
			continue;
		switch (cmd.type) {
		case GSP_CMD_SET_APP:
			if (gsp_node_set_app(vn->node, cmd.key, cmd.value) != 0) {
				struct gsp_event ev = {
					.type = GSP_EV_APP_REJECTED };

				snprintf(ev.name, sizeof(ev.name), "%s", cmd.key);
				gsp_io_event(vn, &ev);
			}
			break;
		case GSP_CMD_DEL_APP:
			/* checked by the control thread: absent is nothing */
			(void)gsp_node_del_app(vn->node, cmd.key);
			break;
		case GSP_CMD_LEAVE:
			gsp_node_leave(vn->node, now_ns);
			break;
		case GSP_CMD_FORCE_LEAVE:
			/* checked by the control thread; state may have
			 * moved since (refuted, restarted): then nothing */
			(void)gsp_node_force_leave(vn->node, cmd.seq, now_ns);
			break;
		case GSP_CMD_SEEDS:
			gsp_node_set_seeds(vn->node, cmd.seeds, cmd.n_seeds);
			break;
		case GSP_CMD_CRASH:
			vn->stopped = true;
			gsp_arp_flush(vn);
			break;
		}
		if ((cmd.flags & GSP_CMD_F_OBSERVE) && lc->observer != NULL)
			lc->observer->on_cmd(lc->observer->ctx, vn, &cmd,
					     now_ns);
	}
}
