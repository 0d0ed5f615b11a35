/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "gsp_phi.h"

static uint32_t
gsp_phi_us(uint64_t ns)
{
	uint64_t us = (ns + 500) / 1000;

	return us > GSP_PHI_SAMPLE_MAX_US ? GSP_PHI_SAMPLE_MAX_US : (uint32_t)us;
}

static void
gsp_phi_add(struct gsp_phi *fd, uint32_t us)
{
	int64_t delta = (int64_t)us - (int64_t)fd->mean_us;

	if (fd->n < GSP_PHI_WINDOW)
		fd->n++;
	/* rounded to nearest, so a constant interval is the mean exactly */
	delta = delta >= 0 ? (delta + fd->n / 2) / fd->n :
		-((-delta + fd->n / 2) / fd->n);
	fd->mean_us = (uint32_t)((int64_t)fd->mean_us + delta);
}

void
gsp_phi_init(struct gsp_phi *fd, uint64_t initial_ns)
{
	memset(fd, 0, sizeof(*fd));
	gsp_phi_add(fd, gsp_phi_us(initial_ns));
}

void
gsp_phi_sample(struct gsp_phi *fd, uint64_t interval_ns)
{
	gsp_phi_add(fd, gsp_phi_us(interval_ns));
}
