/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lcore's tx buffer: frames queue here and leave in one burst, to the
 * port's tx queue or, in emulation, to the software switch. Calls nothing
 * back in the node, so every sender may use it.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "gossipd.h"

void
gsp_tx_flush(struct gsp_dp *dp, struct gsp_lcore_conf *lc)
{
	uint16_t sent;

	if (lc->tx_len == 0)
		return;
	if (dp->sw != NULL) {
		gsp_switch_tx(dp, lc, lc->tx_buf, lc->tx_len);
		lc->tx_len = 0;
		return;
	}
	sent = rte_eth_tx_burst(dp->port_id, lc->queue_id, lc->tx_buf,
				lc->tx_len);
	if (unlikely(sent < lc->tx_len)) {
		GSP_LSTAT_ADD(lc, tx_dropped, lc->tx_len - sent);
		rte_pktmbuf_free_bulk(&lc->tx_buf[sent], lc->tx_len - sent);
	}
	lc->tx_len = 0;
}

void
gsp_tx_enqueue(struct gsp_dp *dp, struct gsp_vnode *vn, struct rte_mbuf *m)
{
	struct gsp_lcore_conf *lc = vn->lc;
	uint32_t len = rte_pktmbuf_pkt_len(m);

	GSP_LSTAT_ADD(lc, tx_packets, 1);
	GSP_LSTAT_ADD(lc, tx_bytes, len);
	GSP_VSTAT_ADD(vn, tx_packets, 1);
	GSP_VSTAT_ADD(vn, tx_bytes, len);
	lc->tx_buf[lc->tx_len++] = m;
	if (lc->tx_len == GSP_MAX_PKT_BURST)
		gsp_tx_flush(dp, lc);
}
