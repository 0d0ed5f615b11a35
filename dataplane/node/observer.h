/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node loop's measurement seam: an observer that a runtime installs on
 * an lcore at start-up (before the lcores are launched), called back by
 * the loop for the vnodes that lcore owns. The emulation's scenarios hook
 * in here, so the loop names no emulation; a real node installs none.
 *
 * A table of function pointers: called once per vnode round, per rx burst
 * while watch_rx is set, per event and per command, never per packet.
 */
#ifndef GSP_OBSERVER_H
#define GSP_OBSERVER_H

#include <stdbool.h>
#include <stdint.h>

struct gsp_cmd;
struct gsp_event;
struct gsp_vnode;
struct rte_rcu_qsbr;

struct gsp_lcore_observer {
	/* after the vnode's round, which was due at due_ns: the later of
	 * the timer the lcore held (a packet may have moved it earlier) and
	 * the node's own next deadline (an answer may have cleared the one
	 * the timer was for); vn->next_tick_ns holds the next one */
	void (*on_tick)(void *ctx, struct gsp_vnode *vn, uint64_t due_ns,
			uint64_t now_ns);
	/* after an rx burst was processed, only while watch_rx is set */
	void (*on_rx)(void *ctx, struct gsp_vnode *vn, uint64_t now_ns);
	/* every event of the vnode's core, before it goes anywhere else */
	void (*on_event)(void *ctx, struct gsp_vnode *vn,
			 const struct gsp_event *ev);
	/* after a command flagged GSP_CMD_F_OBSERVE was applied */
	void (*on_cmd)(void *ctx, struct gsp_vnode *vn,
		       const struct gsp_cmd *cmd, uint64_t now_ns);
	void *ctx;
	bool watch_rx;			/* atomic: the observer wants on_rx */
	/* the lcore reports a quiescent state after every loop pass (no
	 * hook running), so the observer's owner can wait until no hook
	 * that started before a change still runs; NULL: none */
	struct rte_rcu_qsbr *qsbr;
};

#endif /* GSP_OBSERVER_H */
