/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commands to an lcore: any thread puts one on the ring of the lcore that
 * owns the target vnode (MP/SC, never blocks); the lcore applies it
 * between bursts (dp_ctrl.c), woken for it when it waits for rx
 * interrupts (wake.c). A leaf: the control seam, fault injection
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
	struct gsp_lcore_conf *lc;

	if (cmd->vnode >= gsp_dp.n_vnodes)
		return -ENODEV;
	lc = gsp_dp.vnodes[cmd->vnode].lc;
	if (lc->cmd_ring == NULL)
		return -ENODEV;
	if (rte_ring_mp_enqueue_elem(lc->cmd_ring, (void *)(uintptr_t)cmd,
				     sizeof(*cmd)) != 0)
		return -EAGAIN;
	/* an lcore asleep in its rx-interrupt wait takes it now */
	gsp_lcore_wake(lc);
	return 0;
}
