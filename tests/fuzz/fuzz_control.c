/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the control-socket protocol. The input is what one
 * client sends (newline-separated JSON requests); ctrl.c, compiled with
 * -DGSP_CTRL_FUZZ, runs it through the daemon's own framing and request
 * handling (gsp_ctrl_fuzz_input).
 *
 * The dataplane side (gsp_dp_*) is faked here around a real core node
 * that knows two peers, node2 and node3, so that "set" reaches the
 * core's key checks and "fault block node2" resolves a name.
 *
 * Oracles besides the sanitizers: every reply line is a JSON object with
 * a boolean "ok", shorter than the reply limit.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gsp_config.h"
#include "gsp_ctrl.h"
#include "gsp_ctrl_fuzz.h"
#include "gsp_log.h"
#include "gsp_wire.h"

#define FZ_REPLY_MAX 4096	/* CTRL_REPLY_MAX in ctrl.c */

static struct gsp_config fz_cfg;
static struct gsp_node *fz_node;
static struct gsp_fault_cfg fz_fault;

static void
fz_fail(const char *what, const char *line, size_t len)
{
	fprintf(stderr, "fuzz_control: %s: %.*s\n", what,
		(int)(len > 300 ? 300 : len), line != NULL ? line : "");
	abort();
}

/* the core's io seam: gsp_io_null.c, nothing leaves */

/* ---- the dataplane seam of control/gsp_ctrl.h, faked ---- */

int
gsp_dp_submit_set_app(const char *key, const char *value)
{
	return gsp_node_set_app(fz_node, key, value);
}

int
gsp_dp_submit_del_app(const char *key)
{
	(void)key;
	return 0;
}

uint64_t
gsp_dp_events_dropped(void)
{
	return 0;
}

int
gsp_dp_submit_leave(void)
{
	return 0;
}

int
gsp_dp_submit_force_leave(uint64_t id)
{
	return gsp_node_force_leave(fz_node, id, 1);
}

int
gsp_dp_submit_seeds(const struct gsp_addr *seeds, unsigned int n)
{
	(void)seeds;
	(void)n;
	return 0;
}

bool
gsp_dp_poll_event(struct gsp_event *ev)
{
	(void)ev;
	return false;
}

unsigned int
gsp_dp_lcore_stats(struct gsp_sv_lcore *out, unsigned int max)
{
	(void)out;
	(void)max;
	return 0;
}

const struct gsp_node *
gsp_dp_node(void)
{
	return fz_node;
}

void
gsp_dp_fault_get(struct gsp_fault_cfg *out)
{
	*out = fz_fault;
}

int
gsp_dp_fault_set(const struct gsp_fault_cfg *f)
{
	fz_fault = *f;
	return 0;
}

bool
gsp_dp_fault_counters(uint64_t out[GSP_FAULT_C_MAX])
{
	memset(out, 0, GSP_FAULT_C_MAX * sizeof(out[0]));
	return gsp_fault_active(&fz_fault);
}

/* An authenticated node: "keys" reaches the keyring edits; a change is
 * "taken" at once and the file written to a scratch path. */
static struct gsp_keyring *fz_keyring;

const struct gsp_keyring *
gsp_dp_keyring(void)
{
	static const uint8_t key[GSP_KEY_LEN] = { 1, 2, 3 };
	uint32_t id;

	if (fz_keyring == NULL &&
	    (gsp_keyring_create(GSP_CIPHER_CHACHA20POLY1305, &fz_keyring) != 0 ||
	     gsp_keyring_add(fz_keyring, key, &id) != 0))
		fz_fail("keyring", NULL, 0);
	return fz_keyring;
}

int
gsp_dp_keyring_set(const struct gsp_keyring *kr)
{
	return gsp_keyring_count(kr) > 0 ? 0 : -EINVAL;
}

uint64_t
gsp_dp_now_ns(void)
{
	return 1000000000ull;
}

bool
gsp_dp_quit_requested(void)
{
	return true;
}

int
gsp_dp_view_fd(void)
{
	return -1;	/* no dataplane to ring: poll every period */
}

void
gsp_dp_view_ack(void)
{
}

/* ---- harness ---- */

static void
fz_unlink_keyring(void)
{
	unlink(fz_cfg.keyring_path);
}

static void
fz_add_peer(struct gsp_wire_writer *w, uint64_t id, const char *name,
	    uint32_t ip)
{
	struct gsp_wire_state st;

	memset(&st, 0, sizeof(st));
	st.id = id;
	st.generation = 1;
	st.heartbeat = 1;
	st.version = 1;
	st.ip = ip;
	st.port = 7946;
	snprintf(st.name, sizeof(st.name), "%s", name);
	if (!gsp_wire_put_state(w, &st))
		fz_fail("peer state does not fit", name, strlen(name));
}

/* A fresh node per input: set changes its state, runs must not share. */
static struct gsp_node *
fz_make_node(void)
{
	const struct gsp_addr src = { 0x0a000002, 7946 };
	struct gsp_node_params p;
	struct gsp_wire_writer w;
	struct gsp_node *n;
	uint8_t buf[1472];
	uint16_t len;
	int err = 0;

	memset(&p, 0, sizeof(p));
	snprintf(p.cluster, sizeof(p.cluster), "%s", fz_cfg.cluster);
	snprintf(p.name, sizeof(p.name), "%s", fz_cfg.node_name);
	p.generation = 1;
	p.addr.ip = 0x0a000001;
	p.addr.port = 7946;
	p.capacity = 16;
	p.gossip_interval_ns = 100000000;
	p.fanout = 2;
	p.phi_suspect = 5;
	p.phi_convict = 8;
	p.forget_ns = 3600ull * 1000000000ull;
	p.max_payload = sizeof(buf);
	p.leave_rounds = 1;
	p.rng_seed = 1;
	n = gsp_node_create(&p, &err);
	if (n == NULL)
		fz_fail("gsp_node_create failed", NULL, 0);
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_ACK2,
		       gsp_cluster_hash(p.cluster), gsp_id_from_name("node2"));
	fz_add_peer(&w, gsp_id_from_name("node2"), "node2", 0x0a000002);
	fz_add_peer(&w, gsp_id_from_name("node3"), "node3", 0x0a000003);
	len = gsp_wire_finish(&w);
	gsp_node_rx(n, &src, buf, len, 1000000000ull, NULL);
	return n;
}

static void
fz_check_reply(const char *s, size_t len, void *arg)
{
	unsigned int *lines = arg;
	const char *end = s + len, *nl;
	json_error_t jerr;
	json_t *r, *ok;

	/* FUZZ_CONTROL_ECHO=1: show the replies (when replaying an input) */
	if (getenv("FUZZ_CONTROL_ECHO") != NULL)
		fwrite(s, 1, len, stderr);
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			fz_fail("reply without a newline", s, (size_t)(end - s));
		if ((size_t)(nl - s) + 1 > FZ_REPLY_MAX)
			fz_fail("reply over the limit", s, (size_t)(nl - s));
		r = json_loadb(s, (size_t)(nl - s), 0, &jerr);
		ok = r != NULL ? json_object_get(r, "ok") : NULL;
		if (r == NULL || !json_is_object(r) || !json_is_boolean(ok))
			fz_fail("reply is not {\"ok\":bool,...}", s,
				(size_t)(nl - s));
		json_decref(r);
		(*lines)++;
		s = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int lines = 0, replies;

	if (fz_cfg.cluster[0] == '\0') {
		gsp_config_defaults(&fz_cfg);
		snprintf(fz_cfg.cluster, sizeof(fz_cfg.cluster), "fuzz");
		snprintf(fz_cfg.node_name, sizeof(fz_cfg.node_name), "node1");
		/* where an accepted key change is saved: scratch, per process */
		snprintf(fz_cfg.keyring_path, sizeof(fz_cfg.keyring_path),
			 "/tmp/fuzz_control.%d.keyring", (int)getpid());
		atexit(fz_unlink_keyring);
		gsp_log_set_level(LOG_EMERG);	/* keep the fuzzer's output */
	}
	memset(&fz_fault, 0, sizeof(fz_fault));
	fz_node = fz_make_node();
	replies = gsp_ctrl_fuzz_input(&fz_cfg, (const char *)data, size,
				      fz_check_reply, &lines);
	if (replies != lines)
		fz_fail("reply count differs from the lines seen", NULL, 0);
	gsp_node_destroy(fz_node);
	fz_node = NULL;
	return 0;
}
