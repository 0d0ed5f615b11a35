/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commands to an lcore: any thread puts one on the ring of the lcore that
 * owns the target vnode (MP/SC, never blocks); the lcore applies it
 * between bursts (dp_ctrl.c). A leaf: the control seam, fault injection
 * and the emulation all submit through it.
 */
#include <errno.h>
#include <stdint.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "gossipd.h"

int
gsp_dp_submit(const struct gsp_cmd *cmd)
{
	struct rte_ring *r;

	if (cmd->vnode >= gsp_dp.n_vnodes)
		return -ENODEV;
	r = gsp_dp.vnodes[cmd->vnode].lc->cmd_ring;
	if (r == NULL)
		return -ENODEV;
	return rte_ring_mp_enqueue_elem(r, (void *)(uintptr_t)cmd,
					sizeof(*cmd)) == 0 ? 0 : -EAGAIN;
}
