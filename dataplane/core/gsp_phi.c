/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>
#include <string.h>

#include "gsp_phi.h"

static uint16_t
gsp_phi_ms(uint64_t ns)
{
	uint64_t ms = (ns + 500000) / 1000000;

	return ms > UINT16_MAX ? UINT16_MAX : (uint16_t)ms;
}

static void
gsp_phi_add(struct gsp_phi *fd, uint16_t ms)
{
	if (fd->n == GSP_PHI_WINDOW)
		fd->sum_ms -= fd->interval_ms[fd->next];
	else
		fd->n++;
	fd->interval_ms[fd->next] = ms;
	fd->sum_ms += ms;
	fd->next = (uint8_t)((fd->next + 1) % GSP_PHI_WINDOW);
}

void
gsp_phi_init(struct gsp_phi *fd, uint64_t now_ns, uint64_t initial_ns,
	     uint64_t min_mean_ns)
{
	memset(fd, 0, sizeof(*fd));
	fd->last_ns = now_ns;
	fd->min_mean_us = min_mean_ns / 1000 > UINT32_MAX ? UINT32_MAX :
		(uint32_t)(min_mean_ns / 1000);
	gsp_phi_add(fd, gsp_phi_ms(initial_ns));
}

void
gsp_phi_heartbeat(struct gsp_phi *fd, uint64_t now_ns)
{
	if (now_ns < fd->last_ns)
		return;
	gsp_phi_add(fd, gsp_phi_ms(now_ns - fd->last_ns));
	fd->last_ns = now_ns;
}

double
gsp_phi_mean_ns(const struct gsp_phi *fd)
{
	double mean_us = fd->n != 0 ? 1000.0 * fd->sum_ms / fd->n : 0.0;

	if (mean_us < fd->min_mean_us)
		mean_us = fd->min_mean_us;
	if (mean_us < 1000.0)	/* the resolution of the window */
		mean_us = 1000.0;
	return mean_us * 1000.0;
}

double
gsp_phi_value_floor(const struct gsp_phi *fd, uint64_t now_ns,
		    uint64_t floor_ns)
{
	double elapsed = now_ns > fd->last_ns ? (double)(now_ns - fd->last_ns) : 0.0;
	double mean = gsp_phi_mean_ns(fd);

	if (mean < (double)floor_ns)
		mean = (double)floor_ns;
	return elapsed / (mean * M_LN10);
}

double
gsp_phi_value(const struct gsp_phi *fd, uint64_t now_ns)
{
	return gsp_phi_value_floor(fd, now_ns, 0);
}

void
gsp_phi_shift(struct gsp_phi *fd, uint64_t delta_ns)
{
	fd->last_ns += delta_ns;
}
