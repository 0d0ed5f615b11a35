/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The snapshot file (control/snapshot.c): what it accepts, the errors it
 * gives for what it does not, and how its app state and the config's
 * [app] combine (docs/SNAPSHOT.md "Precedence").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gsp_ctrl.h"
#include "gsp_snapshot.h"

/* the dataplane seam: no node in this test */
const struct gsp_node *
gsp_dp_node(void)
{
	return NULL;
}

static struct gsp_config cfg;

static void
cfg_app(const char *const *kv)
{
	cfg.n_app = 0;
	for (; kv[0] != NULL; kv += 2) {
		snprintf(cfg.app_keys[cfg.n_app], GSP_APP_KEY_MAX, "%s", kv[0]);
		snprintf(cfg.app_values[cfg.n_app], GSP_APP_VALUE_MAX, "%s",
			 kv[1]);
		cfg.n_app++;
	}
}

static const char *
cfg_get(const char *k)
{
	for (unsigned int i = 0; i < cfg.n_app; i++)
		if (strcmp(cfg.app_keys[i], k) == 0)
			return cfg.app_values[i];
	return NULL;
}

static int
parse(const char *text, struct gsp_snap *s, char *err, size_t len)
{
	err[0] = '\0';
	return gsp_snap_parse(&cfg, text, strlen(text), s, err, len);
}

static int
setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.cluster, sizeof(cfg.cluster), "prod");
	snprintf(cfg.node_name, sizeof(cfg.node_name), "node3");
	return 0;
}

#define HEAD "{\"format\":\"gossipd-snapshot\",\"version\":1," \
	"\"cluster\":\"prod\",\"node\":\"node3\""

static void
test_good(void **state)
{
	static struct gsp_snap s;
	char err[256];

	(void)state;
	assert_int_equal(parse(HEAD ",\"app\":{\"role\":\"cache\"},"
			       "\"config_app\":{},\"peers\":[\"10.0.0.1:7946\","
			       "\"10.0.0.2:8000\"]}", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n_app, 1);
	assert_string_equal(s.app_keys[0], "role");
	assert_string_equal(s.app_values[0], "cache");
	assert_int_equal(s.n_peers, 2);
	assert_int_equal(s.peers[1].ip, 0x0a000002);
	assert_int_equal(s.peers[1].port, 8000);
}

static void
test_bad(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "", "not JSON" },
		{ HEAD ",\"app\":{", "not JSON" },
		{ "[1]", "not a gossipd snapshot" },
		{ "{\"format\":\"x\",\"version\":1}", "not a gossipd snapshot" },
		{ "{\"format\":\"gossipd-snapshot\"}", "no integer \"version\"" },
		{ "{\"format\":\"gossipd-snapshot\",\"version\":2}",
		  "version 2, this gossipd reads version 1" },
		{ "{\"format\":\"gossipd-snapshot\",\"version\":1,"
		  "\"cluster\":\"prod\",\"node\":\"node4\"}",
		  "written by node \"node4\"" },
		{ HEAD ",\"app\":[]}", "\"app\" is not an object" },
		{ HEAD ",\"app\":{\"bad key\":\"x\"}}", "key \"bad key\"" },
		{ HEAD ",\"app\":{\"k\":1}}", "value of \"k\"" },
		{ HEAD ",\"app\":{\"k\":\"\\u0001\"}}", "value of \"k\"" },
		{ HEAD ",\"peers\":\"x\"}", "\"peers\" is not an array" },
		{ HEAD ",\"peers\":[\"host:1\"]}", "peers[0] is not" },
		{ HEAD ",\"peers\":[7]}", "peers[0] is not" },
		{ "{\"format\":\"gossipd-snapshot\",\"format\":\"x\"}",
		  "not JSON" },
	};
	static struct gsp_snap s;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].text, &s, err, sizeof(err)), -1);
		if (strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
				 cases[i].msg);
	}
}

static void
test_too_many_peers(void **state)
{
	static struct gsp_snap s;
	char text[4096], err[256];
	size_t off;

	(void)state;
	off = (size_t)snprintf(text, sizeof(text), HEAD ",\"peers\":[");
	for (int i = 0; i <= GSP_SNAP_PEERS_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"%s\"10.0.0.%d:7946\"", i ? "," : "",
					i + 1);
	snprintf(text + off, sizeof(text) - off, "]}");
	assert_int_equal(parse(text, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 32"));
}

/* docs/SNAPSHOT.md's example, and a key removed from [app] */
static void
test_precedence(void **state)
{
	static const char *const now[] = { "zone", "b", "tier", "1",
		"new", "n", NULL };
	static struct gsp_snap s;
	char err[256];

	(void)state;
	assert_int_equal(parse(HEAD ",\"app\":{\"zone\":\"a\",\"tier\":\"2\","
			       "\"role\":\"cache\",\"gone\":\"g\",\"kept\":\"k2\"},"
			       "\"config_app\":{\"zone\":\"a\",\"tier\":\"1\","
			       "\"gone\":\"g\",\"kept\":\"k1\"}}", &s, err,
			       sizeof(err)), 0);
	cfg_app(now);
	gsp_snap_merge_app(&cfg, &s);
	assert_string_equal(cfg_get("zone"), "b");	/* edited in [app] */
	assert_string_equal(cfg_get("tier"), "2");	/* set at run time */
	assert_string_equal(cfg_get("role"), "cache");	/* only at run time */
	assert_string_equal(cfg_get("new"), "n");	/* added to [app] */
	assert_null(cfg_get("gone"));	/* removed from [app], untouched */
	assert_string_equal(cfg_get("kept"), "k2");	/* removed, but set */
	assert_int_equal(cfg.n_app, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good, setup),
		cmocka_unit_test_setup(test_bad, setup),
		cmocka_unit_test_setup(test_too_many_peers, setup),
		cmocka_unit_test_setup(test_precedence, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
