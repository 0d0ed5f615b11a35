/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fault module (dataplane/core/gsp_fault.c): spec parsing and its
 * errors, format round trips, blocks, and the decision function's
 * outcomes measured over many draws (fixed seeds: deterministic).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gossipd/status_view.h"
#include "gsp_fault.h"

#define MS 1000000ull
#define US 1000ull
#define DRAWS 100000

static const uint32_t ip_a = 0x0a4d0002;	/* 10.77.0.2 */
static const uint32_t ip_b = 0x0a4d0003;	/* 10.77.0.3 */

static void
parse_ok(struct gsp_fault_cfg *f, const char *spec)
{
	char err[256] = "";

	if (gsp_fault_parse(f, spec, err, sizeof(err)) != 0) {
		print_error("\"%s\": unexpected error: %s\n", spec, err);
		fail();
	}
}

static void
expect_parse_err(const char *spec, int rc, const char *phrase)
{
	struct gsp_fault_cfg f, before;
	char err[256] = "";
	int got;

	memset(&f, 0, sizeof(f));
	parse_ok(&f, "drop=0.25 delay=3ms block=10.0.0.9:in");
	before = f;
	got = gsp_fault_parse(&f, spec, err, sizeof(err));
	if (got != rc || strstr(err, phrase) == NULL) {
		print_error("\"%s\": rc %d err \"%s\"; want rc %d and \"%s\"\n",
			    spec, got, err, rc, phrase);
		fail();
	}
	/* all or nothing: a bad token late in the spec changes nothing */
	assert_memory_equal(&f, &before, sizeof(f));
}

static void
test_parse(void **state)
{
	struct gsp_fault_cfg f;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_false(gsp_fault_active(&f));
	parse_ok(&f, "drop=0.1 dup=0.02,reorder=0.5\tdelay=5ms jitter=250us "
		 "reorder_by=1s block=10.77.0.2 block=10.77.0.3:in");
	assert_true(f.drop == 0.1);
	assert_true(f.dup == 0.02);
	assert_true(f.reorder == 0.5);
	assert_int_equal(f.delay_ns, 5 * MS);
	assert_int_equal(f.jitter_ns, 250 * US);
	assert_int_equal(f.reorder_ns, 1000 * MS);
	assert_int_equal(f.n_block, 2);
	assert_int_equal(f.block[0].ip, ip_a);
	assert_int_equal(f.block[0].dir, GSP_FAULT_BOTH);
	assert_int_equal(f.block[1].ip, ip_b);
	assert_int_equal(f.block[1].dir, GSP_FAULT_IN);
	assert_true(gsp_fault_active(&f));
	assert_true(gsp_fault_delays(&f));

	/* applied on top: only the named keys change; bare number = ms */
	parse_ok(&f, "delay=7 drop=0");
	assert_int_equal(f.delay_ns, 7 * MS);
	assert_true(f.drop == 0);
	assert_true(f.dup == 0.02);
	parse_ok(&f, "delay=1.5us");
	assert_int_equal(f.delay_ns, 1500);
	parse_ok(&f, "delay=10s");	/* the maximum */
	assert_int_equal(f.delay_ns, GSP_FAULT_DELAY_MAX_NS);
	parse_ok(&f, "");		/* nothing: unchanged */
	assert_int_equal(f.n_block, 2);
	parse_ok(&f, "clear");
	assert_false(gsp_fault_active(&f));
	assert_int_equal(f.n_block, 0);
	parse_ok(&f, "dup=1 clear reorder=0.5");
	assert_true(f.dup == 0 && f.reorder == 0.5);
	/* "none", what the formatter writes for no faults, clears too */
	parse_ok(&f, "none");
	assert_false(gsp_fault_active(&f));

	/* jitter alone delays; reorder_by alone does not */
	memset(&f, 0, sizeof(f));
	parse_ok(&f, "reorder_by=5ms");
	assert_false(gsp_fault_delays(&f));
	assert_false(gsp_fault_active(&f));
	parse_ok(&f, "jitter=1ms");
	assert_true(gsp_fault_delays(&f));
}

static void
test_parse_errors(void **state)
{
	char long_tok[128];

	(void)state;
	expect_parse_err("drop=1.5", -EINVAL,
			 "drop: '1.5' is not a probability in [0, 1]");
	expect_parse_err("dup=-0.1", -EINVAL, "dup: '-0.1' is not a probability");
	expect_parse_err("reorder=x", -EINVAL, "reorder: 'x' is not");
	expect_parse_err("drop=", -EINVAL, "drop: '' is not a probability");
	expect_parse_err("drop=nan", -EINVAL, "is not a probability");
	expect_parse_err("delay=11s", -EINVAL,
			 "delay: '11s' is not a duration of at most 10s");
	expect_parse_err("jitter=5m", -EINVAL, "jitter: '5m' is not a duration");
	expect_parse_err("reorder_by=-1ms", -EINVAL, "reorder_by: '-1ms'");
	expect_parse_err("delay=ms", -EINVAL, "delay: 'ms'");
	expect_parse_err("dup=0.1 bogus=1", -EINVAL, "unknown fault 'bogus'");
	expect_parse_err("drop", -EINVAL, "'drop': expected key=value");
	expect_parse_err("=1", -EINVAL, "expected key=value");
	expect_parse_err("verylongkeynamehere=1", -EINVAL, "expected key=value");
	expect_parse_err("block=10.0.0.300", -EINVAL,
			 "block: '10.0.0.300' is not IPv4[:in|:out|:both]");
	expect_parse_err("block=node2", -EINVAL, "block: 'node2' is not IPv4");
	expect_parse_err("block=10.0.0.1:sideways", -EINVAL, "is not IPv4");
	expect_parse_err("block=10.0.0.1:", -EINVAL, "is not IPv4");
	expect_parse_err("block=all", -EINVAL, "is not IPv4");
	expect_parse_err("unblock=10.0.0.1:in", -EINVAL,
			 "unblock: '10.0.0.1:in' is not an IPv4 address or 'all'");
	expect_parse_err("unblock=", -EINVAL, "unblock: ''");
	memset(long_tok, 'x', sizeof(long_tok));
	memcpy(long_tok, "drop=", 5);
	long_tok[sizeof(long_tok) - 1] = '\0';
	expect_parse_err(long_tok, -EINVAL, "token longer than 63 bytes");
	expect_parse_err(NULL, -EINVAL, "no fault spec");
}

static void
test_too_many_tokens(void **state)
{
	struct gsp_fault_cfg f;
	char spec[4096];
	char err[256] = "";
	size_t off = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	for (int i = 0; i < 129; i++)
		off += (size_t)snprintf(spec + off, sizeof(spec) - off,
					"drop=0 ");
	assert_int_equal(gsp_fault_parse(&f, spec, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 128 tokens"));
}

static void
test_block_unblock(void **state)
{
	struct gsp_fault_cfg f;
	char spec[64], err[256] = "";

	(void)state;
	memset(&f, 0, sizeof(f));
	parse_ok(&f, "block=10.77.0.2:out block=10.77.0.3");
	assert_int_equal(f.n_block, 2);
	/* blocking again changes the direction, not the count */
	parse_ok(&f, "block=10.77.0.2:in");
	assert_int_equal(f.n_block, 2);
	assert_int_equal(f.block[0].dir, GSP_FAULT_IN);
	parse_ok(&f, "block=10.77.0.2:both");
	assert_int_equal(f.block[0].dir, GSP_FAULT_BOTH);
	parse_ok(&f, "unblock=10.77.0.2");
	assert_int_equal(f.n_block, 1);
	assert_int_equal(f.block[0].ip, ip_b);
	parse_ok(&f, "unblock=10.9.9.9");	/* not blocked: fine */
	assert_int_equal(f.n_block, 1);
	parse_ok(&f, "unblock=all");
	assert_int_equal(f.n_block, 0);
	assert_false(gsp_fault_active(&f));

	for (int i = 0; i < GSP_FAULT_BLOCK_MAX; i++) {
		snprintf(spec, sizeof(spec), "block=10.1.%d.%d", i / 200,
			 i % 200 + 1);
		parse_ok(&f, spec);
	}
	assert_int_equal(f.n_block, GSP_FAULT_BLOCK_MAX);
	parse_ok(&f, "block=10.1.0.1:in");	/* existing: still fine */
	assert_int_equal(gsp_fault_parse(&f, "block=10.2.0.1", err,
					 sizeof(err)), -ENOSPC);
	assert_string_equal(err, "block: at most 64 peers");
	assert_int_equal(f.n_block, GSP_FAULT_BLOCK_MAX);
}

static void
roundtrip(const char *spec, const char *want)
{
	struct gsp_fault_cfg a, b;
	char buf[2048];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	parse_ok(&a, spec);
	assert_int_equal(gsp_fault_format(&a, buf, sizeof(buf)), 0);
	if (want != NULL)
		assert_string_equal(buf, want);
	parse_ok(&b, buf);
	if (memcmp(&a, &b, sizeof(a)) != 0) {
		print_error("\"%s\" -> \"%s\" does not parse back the same\n",
			    spec, buf);
		fail();
	}
}

static void
test_format_roundtrip(void **state)
{
	struct gsp_fault_cfg f;
	char buf[2048], spec[64];

	(void)state;
	roundtrip("", "none");
	roundtrip("drop=0.1 delay=5ms", "drop=0.1 delay=5ms");
	roundtrip("delay=5000us jitter=0.25ms", "delay=5ms jitter=250us");
	roundtrip("block=10.77.0.2:out block=10.77.0.3:in block=10.77.0.4:both",
		  "block=10.77.0.2:out block=10.77.0.3:in block=10.77.0.4");
	/* exact, not "%g": these used to come back changed */
	roundtrip("drop=0.1234567", "drop=0.1234567");
	roundtrip("dup=0.30000000000000004", NULL);
	roundtrip("delay=1.5us", "delay=1.500us");
	roundtrip("reorder=1 reorder_by=0.001ms jitter=10s",
		  "reorder=1 jitter=10000ms reorder_by=1us");
	roundtrip("drop=1 dup=1e-9 reorder=0.5 delay=2.000001ms", NULL);

	memset(&f, 0, sizeof(f));
	for (int i = 0; i < GSP_FAULT_BLOCK_MAX; i++) {
		snprintf(spec, sizeof(spec), "block=192.168.%d.%d:out",
			 100 + i, 200 + i % 50);
		parse_ok(&f, spec);
	}
	parse_ok(&f, "drop=0.123456789 dup=0.987654321 reorder=0.5 "
		 "delay=9.999999ms jitter=1.001us reorder_by=10s");
	/* the longest spec fits the control socket's reply */
	assert_int_equal(gsp_fault_format(&f, buf, sizeof(buf)), 0);
	assert_true(strlen(buf) < 2048);
	{
		struct gsp_fault_cfg g;

		memset(&g, 0, sizeof(g));
		parse_ok(&g, buf);
		assert_memory_equal(&f, &g, sizeof(f));
	}
	/* too small a buffer: an error, never a cut spec */
	assert_int_equal(gsp_fault_format(&f, buf, 40), -ENOSPC);
	memset(&f, 0, sizeof(f));
	assert_int_equal(gsp_fault_format(&f, buf, 4), -ENOSPC);
	assert_int_equal(gsp_fault_format(&f, buf, 5), 0);
	assert_string_equal(buf, "none");
	assert_int_equal(gsp_fault_format(&f, buf, 0), -ENOSPC);
}

static void
test_ctr_names(void **state)
{
	(void)state;
	assert_string_equal(gsp_fault_ctr_name(GSP_FAULT_C_DROPPED), "dropped");
	assert_string_equal(gsp_fault_ctr_name(GSP_FAULT_C_BLOCKED_OUT),
			    "blocked_out");
	assert_string_equal(gsp_fault_ctr_name(GSP_FAULT_C_QUEUE_FULL),
			    "queue_full");
	assert_string_equal(gsp_fault_ctr_name(GSP_FAULT_C_MAX), "unknown");
	for (unsigned int i = 0; i < GSP_FAULT_C_MAX; i++)
		assert_string_not_equal(gsp_fault_ctr_name(i), "unknown");
	/* gossipctl names the status view's counters without the core */
	assert_true(GSP_FAULT_C_MAX <= GSP_SV_FAULT_CTRS);
	for (unsigned int i = 0; i < GSP_FAULT_C_MAX; i++)
		assert_string_equal(gsp_sv_fault_ctr_name(i),
				    gsp_fault_ctr_name(i));
}

static void
test_off_passes_everything(void **state)
{
	struct gsp_fault_cfg f;
	uint64_t ctr[GSP_FAULT_C_MAX] = { 0 }, rng = 1, d[2] = { 9, 9 };

	(void)state;
	memset(&f, 0, sizeof(f));
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(gsp_fault_out(&f, ip_a, &rng, d, ctr), 1);
		assert_int_equal(d[0], 0);
		assert_false(gsp_fault_in(&f, ip_a, ctr));
	}
	for (unsigned int i = 0; i < GSP_FAULT_C_MAX; i++)
		assert_int_equal(ctr[i], 0);
}

/* |x - want| within tol, with the numbers in the failure message. */
static void
near(double x, double want, double tol, const char *what)
{
	if (fabs(x - want) > tol) {
		print_error("%s: %f, want %f +- %f\n", what, x, want, tol);
		fail();
	}
}

static void
test_drop_statistics(void **state)
{
	static const double ps[] = { 0.0, 0.05, 0.3, 0.5, 0.99, 1.0 };
	struct gsp_fault_cfg f;
	uint64_t d[2];

	(void)state;
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		uint64_t ctr[GSP_FAULT_C_MAX] = { 0 }, rng = 42 + k;
		unsigned int sent = 0;

		memset(&f, 0, sizeof(f));
		f.drop = ps[k];
		for (int i = 0; i < DRAWS; i++)
			sent += gsp_fault_out(&f, ip_a, &rng, d, ctr);
		assert_int_equal(sent + ctr[GSP_FAULT_C_DROPPED], DRAWS);
		/* sd of the fraction at p = 0.5 is 0.0016: 0.01 is > 6 sd */
		near((double)ctr[GSP_FAULT_C_DROPPED] / DRAWS, ps[k], 0.01,
		     "dropped fraction");
		if (ps[k] == 0.0 || ps[k] == 1.0)
			assert_int_equal(ctr[GSP_FAULT_C_DROPPED],
					 ps[k] == 0.0 ? 0 : DRAWS);
		assert_int_equal(ctr[GSP_FAULT_C_DELAYED], 0);
	}
}

static void
test_dup_statistics(void **state)
{
	struct gsp_fault_cfg f;
	uint64_t ctr[GSP_FAULT_C_MAX] = { 0 }, rng = 7, d[2];
	unsigned int twice = 0, n;

	(void)state;
	memset(&f, 0, sizeof(f));
	parse_ok(&f, "dup=0.2 drop=0.5");
	for (int i = 0; i < DRAWS; i++) {
		d[0] = d[1] = 77;
		n = gsp_fault_out(&f, ip_a, &rng, d, ctr);
		assert_true(n <= 2);
		if (n == 2) {
			twice++;
			assert_int_equal(d[0], 0);
			assert_int_equal(d[1], 0);
		}
	}
	assert_int_equal(twice, ctr[GSP_FAULT_C_DUPLICATED]);
	/* duplicated only when not dropped: 0.5 x 0.2 */
	near((double)twice / DRAWS, 0.1, 0.01, "duplicated fraction");
	near((double)ctr[GSP_FAULT_C_DROPPED] / DRAWS, 0.5, 0.01,
	     "dropped fraction");

	/* dup=1: always two copies, each with its own delay */
	memset(&f, 0, sizeof(f));
	memset(ctr, 0, sizeof(ctr));
	parse_ok(&f, "dup=1 delay=2ms jitter=1ms");
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(gsp_fault_out(&f, ip_a, &rng, d, ctr), 2);
		assert_in_range(d[0], 2 * MS, 3 * MS);
		assert_in_range(d[1], 2 * MS, 3 * MS);
	}
	assert_int_equal(ctr[GSP_FAULT_C_DUPLICATED], 1000);
	assert_int_equal(ctr[GSP_FAULT_C_DELAYED], 2000);
}

static void
test_delay_jitter(void **state)
{
	struct gsp_fault_cfg f;
	uint64_t ctr[GSP_FAULT_C_MAX] = { 0 }, rng = 99, d[2];
	uint64_t lo = UINT64_MAX, hi = 0;
	double sum = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	parse_ok(&f, "delay=20ms");
	for (int i = 0; i < 100; i++) {
		assert_int_equal(gsp_fault_out(&f, ip_a, &rng, d, ctr), 1);
		assert_int_equal(d[0], 20 * MS);
	}
	assert_int_equal(ctr[GSP_FAULT_C_DELAYED], 100);
	assert_int_equal(ctr[GSP_FAULT_C_REORDERED], 0);

	parse_ok(&f, "delay=5ms jitter=1ms");
	memset(ctr, 0, sizeof(ctr));
	for (int i = 0; i < DRAWS; i++) {
		assert_int_equal(gsp_fault_out(&f, ip_a, &rng, d, ctr), 1);
		lo = d[0] < lo ? d[0] : lo;
		hi = d[0] > hi ? d[0] : hi;
		sum += (double)d[0];
	}
	assert_int_equal(ctr[GSP_FAULT_C_DELAYED], DRAWS);
	assert_true(lo >= 5 * MS && hi <= 6 * MS);
	/* uniform jitter: it spreads over the range, mean in the middle */
	assert_true(lo < 5 * MS + 20 * US && hi > 6 * MS - 20 * US);
	near(sum / DRAWS / MS, 5.5, 0.01, "mean delay in ms");
}

static void
test_reorder(void **state)
{
	struct gsp_fault_cfg f;
	uint64_t ctr[GSP_FAULT_C_MAX] = { 0 }, rng = 5, d[2];
	unsigned int held = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	parse_ok(&f, "reorder=0.25 reorder_by=10ms delay=1ms");
	for (int i = 0; i < DRAWS; i++) {
		assert_int_equal(gsp_fault_out(&f, ip_a, &rng, d, ctr), 1);
		if (d[0] == 11 * MS)
			held++;
		else
			assert_int_equal(d[0], 1 * MS);
	}
	assert_int_equal(held, ctr[GSP_FAULT_C_REORDERED]);
	near((double)held / DRAWS, 0.25, 0.01, "reordered fraction");
	assert_int_equal(ctr[GSP_FAULT_C_DELAYED], DRAWS);

	/* without reorder_by a reordered packet is held 1 ms + delay +
	 * jitter longer: later packets always overtake it */
	memset(&f, 0, sizeof(f));
	memset(ctr, 0, sizeof(ctr));
	parse_ok(&f, "reorder=1 delay=3ms jitter=2ms");
	for (int i = 0; i < 1000; i++) {
		gsp_fault_out(&f, ip_a, &rng, d, ctr);
		assert_in_range(d[0], 3 * MS + 6 * MS, 5 * MS + 6 * MS);
	}
	assert_int_equal(ctr[GSP_FAULT_C_REORDERED], 1000);

	/* reorder alone: only the held packets are delayed */
	memset(&f, 0, sizeof(f));
	memset(ctr, 0, sizeof(ctr));
	parse_ok(&f, "reorder=0.5");
	held = 0;
	for (int i = 0; i < DRAWS; i++) {
		gsp_fault_out(&f, ip_a, &rng, d, ctr);
		assert_true(d[0] == 0 || d[0] == 1 * MS);
		held += d[0] != 0;
	}
	assert_int_equal(held, ctr[GSP_FAULT_C_DELAYED]);
	assert_int_equal(held, ctr[GSP_FAULT_C_REORDERED]);
	near((double)held / DRAWS, 0.5, 0.01, "reordered fraction");
}

static void
test_block_directions(void **state)
{
	struct gsp_fault_cfg f;
	uint64_t ctr[GSP_FAULT_C_MAX] = { 0 }, rng = 3, d[2];

	(void)state;
	memset(&f, 0, sizeof(f));
	parse_ok(&f, "block=10.77.0.2:out block=10.77.0.3:in");
	/* out only: nothing sent to .2, everything from .2 accepted */
	assert_int_equal(gsp_fault_out(&f, ip_a, &rng, d, ctr), 0);
	assert_false(gsp_fault_in(&f, ip_a, ctr));
	/* in only: sends to .3 pass, its packets are dropped */
	assert_int_equal(gsp_fault_out(&f, ip_b, &rng, d, ctr), 1);
	assert_true(gsp_fault_in(&f, ip_b, ctr));
	/* others untouched */
	assert_int_equal(gsp_fault_out(&f, 0x0a4d0004, &rng, d, ctr), 1);
	assert_false(gsp_fault_in(&f, 0x0a4d0004, ctr));
	assert_int_equal(ctr[GSP_FAULT_C_BLOCKED_OUT], 1);
	assert_int_equal(ctr[GSP_FAULT_C_BLOCKED_IN], 1);

	/* both, and a block wins over the random faults (no draw) */
	parse_ok(&f, "block=10.77.0.2 drop=1 dup=1");
	memset(ctr, 0, sizeof(ctr));
	for (int i = 0; i < 10; i++) {
		assert_int_equal(gsp_fault_out(&f, ip_a, &rng, d, ctr), 0);
		assert_true(gsp_fault_in(&f, ip_a, ctr));
	}
	assert_int_equal(ctr[GSP_FAULT_C_BLOCKED_OUT], 10);
	assert_int_equal(ctr[GSP_FAULT_C_BLOCKED_IN], 10);
	assert_int_equal(ctr[GSP_FAULT_C_DROPPED], 0);
	assert_int_equal(ctr[GSP_FAULT_C_DUPLICATED], 0);
}

/* The same seed gives the same decisions: runs can be replayed. */
static void
test_deterministic(void **state)
{
	struct gsp_fault_cfg f;
	uint64_t c1[GSP_FAULT_C_MAX] = { 0 }, c2[GSP_FAULT_C_MAX] = { 0 };
	uint64_t r1 = 11, r2 = 11, d1[2], d2[2];

	(void)state;
	memset(&f, 0, sizeof(f));
	parse_ok(&f, "drop=0.3 dup=0.3 reorder=0.3 delay=1ms jitter=1ms");
	for (int i = 0; i < 10000; i++) {
		unsigned int n = gsp_fault_out(&f, ip_a, &r1, d1, c1);

		assert_int_equal(gsp_fault_out(&f, ip_a, &r2, d2, c2), n);
		for (unsigned int j = 0; j < n; j++)
			assert_int_equal(d1[j], d2[j]);
	}
	assert_memory_equal(c1, c2, sizeof(c1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_too_many_tokens),
		cmocka_unit_test(test_block_unblock),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_ctr_names),
		cmocka_unit_test(test_off_passes_everything),
		cmocka_unit_test(test_drop_statistics),
		cmocka_unit_test(test_dup_statistics),
		cmocka_unit_test(test_delay_jitter),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_block_directions),
		cmocka_unit_test(test_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
