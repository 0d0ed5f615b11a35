/* SPDX-License-Identifier: BSD-3-Clause */
/* The core's link-time io seam for programs whose packets go nowhere. */
#include "gsp_core.h"

void
gsp_io_send(void *io_ctx, const struct gsp_addr *dst, const uint8_t *payload,
	    uint16_t len)
{
	(void)io_ctx;
	(void)dst;
	(void)payload;
	(void)len;
}

void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	(void)io_ctx;
	(void)ev;
}
