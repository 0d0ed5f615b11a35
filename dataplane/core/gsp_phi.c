/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>
#include <string.h>

#include "gsp_phi.h"

static uint32_t
gsp_phi_us(uint64_t ns)
{
	uint64_t us = ns / 1000;

	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void
gsp_phi_add(struct gsp_phi *fd, uint32_t us)
{
	if (fd->n == GSP_PHI_WINDOW)
		fd->sum_us -= fd->interval_us[fd->next];
	else
		fd->n++;
	fd->interval_us[fd->next] = us;
	fd->sum_us += us;
	fd->next = (uint16_t)((fd->next + 1) % GSP_PHI_WINDOW);
}

void
gsp_phi_init(struct gsp_phi *fd, uint64_t now_ns, uint64_t initial_ns,
	     uint64_t min_mean_ns)
{
	memset(fd, 0, sizeof(*fd));
	fd->last_ns = now_ns;
	fd->min_mean_us = gsp_phi_us(min_mean_ns);
	gsp_phi_add(fd, gsp_phi_us(initial_ns));
}

void
gsp_phi_heartbeat(struct gsp_phi *fd, uint64_t now_ns)
{
	if (now_ns < fd->last_ns)
		return;
	gsp_phi_add(fd, gsp_phi_us(now_ns - fd->last_ns));
	fd->last_ns = now_ns;
}

double
gsp_phi_mean_ns(const struct gsp_phi *fd)
{
	double mean_us = fd->n != 0 ? (double)fd->sum_us / fd->n : 0.0;

	if (mean_us < fd->min_mean_us)
		mean_us = fd->min_mean_us;
	if (mean_us < 1.0)
		mean_us = 1.0;
	return mean_us * 1000.0;
}

double
gsp_phi_value(const struct gsp_phi *fd, uint64_t now_ns)
{
	double elapsed = now_ns > fd->last_ns ? (double)(now_ns - fd->last_ns) : 0.0;

	return elapsed / (gsp_phi_mean_ns(fd) * M_LN10);
}

void
gsp_phi_shift(struct gsp_phi *fd, uint64_t delta_ns)
{
	fd->last_ns += delta_ns;
}
