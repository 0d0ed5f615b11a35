/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulator's small helpers: its seeded PRNG streams, wall and CPU
 * clocks, memory figures and progress log.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "gsp_sim_int.h"

/* ------------------------------ helpers ------------------------------- */

/* splitmix64 finalizer: derives independent streams from one seed */
static uint64_t
gsp_sim_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* splitmix64 stream */
static uint64_t
gsp_sim_rand(uint64_t *st)
{
	uint64_t x = *st;

	*st += 0x9e3779b97f4a7c15ULL;
	return gsp_sim_mix(x);
}

uint64_t
gsp_sim_rand_below(uint64_t *st, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)gsp_sim_rand(st) * n) >> 64);
}

uint64_t
gsp_sim_stream(uint64_t seed, uint64_t purpose)
{
	return gsp_sim_mix(seed ^ gsp_sim_mix(purpose * 0x632be59bd9b4e019ULL));
}

double
gsp_sim_wall_s(const struct gsp_sim *s)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - s->wall0.tv_sec) +
		(double)(t.tv_nsec - s->wall0.tv_nsec) * 1e-9;
}

uint64_t
gsp_sim_mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * NS_PER_S + (uint64_t)t.tv_nsec;
}

double
gsp_sim_cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

uint64_t
gsp_sim_peak_rss(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024;
}

/* MemAvailable in bytes, 0 if unknown */
uint64_t
gsp_sim_mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	uint64_t kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

uint32_t
gsp_sim_rounds(const struct gsp_sim *s, uint64_t dt)
{
	return (uint32_t)((dt + s->interval_ns - 1) / s->interval_ns);
}

void
gsp_sim_log(const struct gsp_sim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void
gsp_sim_log(const struct gsp_sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->c.quiet)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "gossip-sim: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
