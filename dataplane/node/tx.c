/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lcore's tx buffer: frames queue here and leave in one burst through
 * the port seam (portq.h): an ethdev tx queue or the software switch.
 * Calls nothing back in the node, so every sender may use it.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "gossipd.h"
#include "portq.h"

void
gsp_tx_flush(struct gsp_dp *dp, struct gsp_lcore_conf *lc)
{
	uint16_t sent;

	if (lc->tx_len == 0)
		return;
	sent = gsp_portq_tx(dp, lc, lc->tx_buf, lc->tx_len);
	/* whatever the kind, what the port refused is dropped here */
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
