/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Exact u64 in JSON (control/gsp_json.c): the emitter at 0, INT64_MAX,
 * 2^63 and UINT64_MAX, the round trip through the decoder, and that no
 * other text is ever mistaken for a marked value.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gsp_json.h"

static const struct {
	uint64_t v;
	const char *text;
} edges[] = {
	{ 0, "0" },
	{ 1, "1" },
	{ (uint64_t)INT64_MAX, "9223372036854775807" },
	{ (uint64_t)INT64_MAX + 1, "9223372036854775808" },
	{ UINT64_MAX - 1, "18446744073709551614" },
	{ UINT64_MAX, "18446744073709551615" },
};

/* {"v":N} as gsp_json_dumps() writes it, compact. */
static char *
dump_one(uint64_t v, size_t flags)
{
	json_t *o = json_object();
	char *s;

	assert_non_null(o);
	assert_int_equal(json_object_set_new(o, "v", gsp_json_u64(v)), 0);
	s = gsp_json_dumps(o, flags);
	json_decref(o);
	assert_non_null(s);
	return s;
}

static void
test_emit_edges(void **state)
{
	char want[64];
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		snprintf(want, sizeof(want), "{\"v\":%s}", edges[i].text);
		s = dump_one(edges[i].v, JSON_COMPACT);
		assert_string_equal(s, want);
		free(s);
		/* indented, as gossipctl prints: the same integer token */
		s = dump_one(edges[i].v, JSON_INDENT(2));
		snprintf(want, sizeof(want), "{\n  \"v\": %s\n}",
			 edges[i].text);
		assert_string_equal(s, want);
		free(s);
	}
}

static void
test_round_trip(void **state)
{
	json_error_t err;
	json_t *j, *v;
	uint64_t got;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		s = dump_one(edges[i].v, JSON_COMPACT);
		j = gsp_json_loadb(s, strlen(s), JSON_REJECT_DUPLICATES, &err);
		assert_non_null(j);
		v = json_object_get(j, "v");
		assert_true(gsp_json_u64_value(v, &got));
		assert_true(got == edges[i].v);
		/* and out again unchanged */
		free(s);
		s = gsp_json_dumps(j, JSON_COMPACT);
		assert_non_null(strstr(s, edges[i].text));
		free(s);
		json_decref(j);
	}
}

static void
test_nested_and_arrays(void **state)
{
	static const char in[] = "{\"a\":[18446744073709551615, 1, "
		"9223372036854775808],\"b\":{\"c\":18446744073709551614},"
		"\"d\":-9223372036854775808,\"e\":0.5,\"f\":\"x\"}";
	json_error_t err;
	uint64_t v;
	json_t *j;
	char *s;

	(void)state;
	j = gsp_json_loadb(in, strlen(in), 0, &err);
	assert_non_null(j);
	assert_true(gsp_json_u64_value(json_array_get(json_object_get(j, "a"),
						      0), &v));
	assert_true(v == UINT64_MAX);
	assert_true(gsp_json_u64_value(json_object_get(json_object_get(j, "b"),
						       "c"), &v));
	assert_true(v == UINT64_MAX - 1);
	/* negative, real and string values are not u64 */
	assert_false(gsp_json_u64_value(json_object_get(j, "d"), &v));
	assert_false(gsp_json_u64_value(json_object_get(j, "e"), &v));
	assert_false(gsp_json_u64_value(json_object_get(j, "f"), &v));
	s = gsp_json_dumps(j, JSON_COMPACT);
	assert_string_equal(s, "{\"a\":[18446744073709551615,1,"
			    "9223372036854775808],\"b\":{\"c\":"
			    "18446744073709551614},\"d\":-9223372036854775808,"
			    "\"e\":0.5,\"f\":\"x\"}");
	free(s);
	json_decref(j);
}

static void
test_strings_are_never_numbers(void **state)
{
	/* the mark's text inside strings and as a key stays a string */
	static const char in[] = "{\"s\":\"\\\\u0000u64:18446744073709551615\","
		"\"t\":\"18446744073709551615\",\"u\":\"u64:5\"}";
	json_error_t err;
	json_t *j, *o;
	uint64_t v;
	char *s;

	(void)state;
	j = gsp_json_loadb(in, strlen(in), 0, &err);
	assert_non_null(j);
	assert_false(gsp_json_u64_value(json_object_get(j, "s"), &v));
	assert_false(gsp_json_u64_value(json_object_get(j, "t"), &v));
	s = gsp_json_dumps(j, JSON_COMPACT);
	assert_string_equal(s, in);
	free(s);
	json_decref(j);

	/* a key that holds a NUL and the tag is left alone */
	o = json_object();
	assert_int_equal(json_object_setn_new(o, "\0u64:7", 6,
					      json_integer(1)), 0);
	s = gsp_json_dumps(o, JSON_COMPACT);
	assert_string_equal(s, "{\"\\u0000u64:7\":1}");
	free(s);
	json_decref(o);
}

static void
test_decoder_refusals(void **state)
{
	json_error_t err;
	json_t *j;
	const char *in;

	(void)state;
	/* one past UINT64_MAX: refused as jansson refuses a big integer */
	in = "{\"v\":18446744073709551616}";
	j = gsp_json_loadb(in, strlen(in), 0, &err);
	assert_null(j);
	assert_non_null(strstr(err.text, "too big"));
	/* leading zeros stay invalid */
	in = "{\"v\":09223372036854775808}";
	assert_null(gsp_json_loadb(in, strlen(in), 0, &err));
	/* a NUL in a string is refused, as without big integers */
	in = "{\"v\":9223372036854775808,\"s\":\"a\\u0000b\"}";
	j = gsp_json_loadb(in, strlen(in), 0, &err);
	assert_null(j);
	assert_non_null(strstr(err.text, "\\u0000"));
	in = "{\"s\":\"a\\u0000b\"}";
	assert_null(gsp_json_loadb(in, strlen(in), 0, &err));
	/* a big integer glued to letters is not a number */
	in = "{\"v\":18446744073709551615x}";
	assert_null(gsp_json_loadb(in, strlen(in), 0, &err));
	/* duplicates are still refused when asked */
	in = "{\"v\":18446744073709551615,\"v\":1}";
	assert_null(gsp_json_loadb(in, strlen(in), JSON_REJECT_DUPLICATES,
				   &err));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emit_edges),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_nested_and_arrays),
		cmocka_unit_test(test_strings_are_never_numbers),
		cmocka_unit_test(test_decoder_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
