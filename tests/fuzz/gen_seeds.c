/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes the binary seed corpora of tests/fuzz/corpus with the project's
 * own encoders, so the seeds are valid by construction:
 *
 *	gen_seeds packet DIR       one file per message type, and sequences
 *	gen_seeds status_view DIR  a view made by the status view writer
 *
 * Packet seeds use fuzz_packet's input format (byte 0: mode, see
 * fuzz_packet.c) and its cluster "fuzz"; the node there is "self".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossipd/status_view.h"
#include "gsp_core.h"
#include "gsp_wire.h"
#include "sv_writer.h"

#define PKT_MAX 1472
#define SEQ_MAX 8192

/* the core's io seam: gsp_io_null.c, nothing leaves */

static const char *out_dir;

static void
put_file(const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static struct gsp_wire_state
state_of(const char *name, uint64_t version, bool app)
{
	struct gsp_wire_state st;

	memset(&st, 0, sizeof(st));
	st.id = gsp_id_from_name(name);
	st.generation = 5;
	st.heartbeat = version;
	st.version = version;
	st.ip = 0x0a000002;
	st.port = 7946;
	snprintf(st.name, sizeof(st.name), "%s", name);
	if (app) {
		st.app_count = 2;
		st.app[0].version = version;
		snprintf(st.app[0].key, sizeof(st.app[0].key), "role");
		snprintf(st.app[0].value, sizeof(st.app[0].value), "db");
		st.app[1].version = 1;
		snprintf(st.app[1].key, sizeof(st.app[1].key), "load");
		snprintf(st.app[1].value, sizeof(st.app[1].value), "0.42");
	}
	return st;
}

static struct gsp_claim
claim_of(const char *name, const char *from, uint8_t status)
{
	struct gsp_claim c;

	memset(&c, 0, sizeof(c));
	c.id = gsp_id_from_name(name);
	c.generation = 5;
	c.from = gsp_id_from_name(from);
	c.incarnation = 1;
	c.status = status;
	return c;
}

/* One message from "node2", probes in wire version `version`; returns
 * its length. */
static uint16_t
make_msg_v(uint8_t *buf, uint8_t type, uint8_t version)
{
	struct gsp_wire_writer w;
	struct gsp_wire_state st = state_of("node2", 3, true);
	struct gsp_wire_state other = state_of("node3", 9, false);
	struct gsp_digest d = { gsp_id_from_name("node3"), 5, 2 };
	struct gsp_digest self = { gsp_id_from_name("self"), 1, 1 };
	struct gsp_addr target = { 0x0a000003, 7946 };
	struct gsp_claim c;

	if (type >= GSP_MSG_PING && type <= GSP_MSG_NACK)
		gsp_wire_begin_v(&w, buf, PKT_MAX, type, version,
				 gsp_cluster_hash("fuzz"), st.id);
	else
		gsp_wire_begin(&w, buf, PKT_MAX, type,
			       gsp_cluster_hash("fuzz"), st.id);
	switch (type) {
	case GSP_MSG_SYN:
		gsp_wire_set_range(&w, 0, UINT64_MAX);
		gsp_wire_put_digest(&w, &self);
		gsp_wire_put_digest(&w, &d);
		break;
	case GSP_MSG_ACK:
		gsp_wire_put_state(&w, &st);
		gsp_wire_put_digest(&w, &self);
		break;
	case GSP_MSG_ACK2:
	case GSP_MSG_PUSH:
		gsp_wire_put_state(&w, &st);
		gsp_wire_put_state(&w, &other);
		break;
	case GSP_MSG_LEAVE:
		st.status = GSP_WIRE_STATUS_LEFT;
		gsp_wire_put_state(&w, &st);
		break;
	default:	/* probes: PING targets us, the others node3 */
		gsp_wire_set_probe(&w, 77, type == GSP_MSG_PING ?
				   gsp_id_from_name("self") :
				   gsp_id_from_name("node3"), &target);
		gsp_wire_set_view(&w, 0x1234, 0x5678ull << 32, 40);
		c = claim_of("node3", "node2", GSP_CLAIM_SUSPECT);
		gsp_wire_put_claim(&w, &c);
		c = claim_of("node2", "node2", GSP_CLAIM_ALIVE);
		gsp_wire_put_claim(&w, &c);
		break;
	}
	return gsp_wire_finish(&w);
}

static uint16_t
make_msg(uint8_t *buf, uint8_t type)
{
	return make_msg_v(buf, type, GSP_WIRE_VERSION_MIN);
}

static size_t
seq_add(uint8_t *seq, size_t off, uint8_t dt, uint8_t src, uint8_t type)
{
	uint8_t pkt[PKT_MAX];
	uint16_t len = make_msg(pkt, type);

	if (off + 4 + len > SEQ_MAX) {
		fprintf(stderr, "gen_seeds: sequence too long\n");
		exit(1);
	}
	seq[off] = (uint8_t)len;
	seq[off + 1] = (uint8_t)(len >> 8);
	seq[off + 2] = dt;
	seq[off + 3] = src;
	memcpy(seq + off + 4, pkt, len);
	return off + 4 + len;
}

static void
gen_packets(void)
{
	static const char *const names[] = {
		[GSP_MSG_SYN] = "syn", [GSP_MSG_ACK] = "ack",
		[GSP_MSG_ACK2] = "ack2", [GSP_MSG_LEAVE] = "leave",
		[GSP_MSG_PUSH] = "push", [GSP_MSG_PING] = "ping",
		[GSP_MSG_PONG] = "pong", [GSP_MSG_PING_REQ] = "ping_req",
		[GSP_MSG_NACK] = "nack",
	};
	uint8_t buf[1 + PKT_MAX], seq[SEQ_MAX];
	char name[64];
	size_t off;

	for (uint8_t t = GSP_MSG_SYN; t <= GSP_MSG_NACK; t++) {
		buf[0] = 0;	/* one datagram */
		snprintf(name, sizeof(name), "%s.bin", names[t]);
		put_file(name, buf, 1 + (size_t)make_msg(buf + 1, t));
	}
	/* probes in the newest layout (wire version 4) */
	for (uint8_t t = GSP_MSG_PING; t <= GSP_MSG_NACK; t++) {
		buf[0] = 0;
		snprintf(name, sizeof(name), "%s-v4.bin", names[t]);
		put_file(name, buf, 1 + (size_t)make_msg_v(buf + 1, t, 4));
	}
	/* learn node2 and node3, hear a suspicion, time passes, refute */
	seq[0] = 0x80;
	off = seq_add(seq, 1, 0, 0, GSP_MSG_ACK2);
	off = seq_add(seq, off, 1, 0, GSP_MSG_PING);
	off = seq_add(seq, off, 50, 1, GSP_MSG_PING_REQ);
	off = seq_add(seq, off, 100, 0, GSP_MSG_NACK);
	off = seq_add(seq, off, 200, 0, GSP_MSG_PUSH);
	put_file("seq-join-suspect.bin", seq, off);
	/* gossip exchange, then node2 leaves */
	off = seq_add(seq, 1, 0, 0, GSP_MSG_SYN);
	off = seq_add(seq, off, 1, 0, GSP_MSG_ACK);
	off = seq_add(seq, off, 10, 0, GSP_MSG_ACK2);
	off = seq_add(seq, off, 10, 2, GSP_MSG_PONG);
	off = seq_add(seq, off, 250, 0, GSP_MSG_LEAVE);
	put_file("seq-gossip-leave.bin", seq, off);
}

static void
gen_status_view(void)
{
	struct gsp_sv_writer_params p;
	struct gsp_sv_writer *w;
	struct gsp_sv_member m[2];
	struct gsp_sv_lcore l[1];
	struct gsp_sv_counters c;
	struct gsp_sv_update u;
	char path[4096], err[256];

	snprintf(path, sizeof(path), "%s/view.sv", out_dir);
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.cluster = "fuzz";
	p.node_name = "node1";
	p.control_socket = "/run/gossipd/fuzz.node1.sock";
	p.member_capacity = 2;
	p.lcore_capacity = 1;
	p.self_ip = 0x0a000001;
	p.self_port = 7946;
	p.gossip_interval_ns = 1000000000ull;
	p.phi_convict_milli = 8000;
	if (gsp_sv_writer_create(&p, &w, err, sizeof(err)) != 0) {
		fprintf(stderr, "gen_seeds: %s\n", err);
		exit(1);
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 2; i++) {
		m[i].id = 100 + i;
		m[i].generation = 7;
		m[i].heartbeat = 1000 + i;
		m[i].state = GSP_SV_ALIVE + i;
		m[i].ip = 0x0a000001 + i;
		m[i].port = 7946;
		snprintf(m[i].name, sizeof(m[i].name), "node%d", i + 1);
	}
	m[0].flags = GSP_SV_MEMBER_SELF;
	/* minor 7: more keys than the 8 legacy slots, one 255-byte value */
	for (unsigned int k = 0; k < 10; k++) {
		char key[16], val[GSP_SV_APP_VALUE_MAX];
		size_t vlen = k == 0 ? 255 : 2 + k;

		snprintf(key, sizeof(key), k == 0 ? "role" : "k%u", k);
		memset(val, 'a' + (int)k, vlen);
		if (gsp_sv_member_app_add(&m[1], 1 + k, key, strlen(key), val,
					  vlen) != 0) {
			fprintf(stderr, "gen_seeds: app entry %u\n", k);
			exit(1);
		}
	}
	memset(l, 0, sizeof(l));
	l[0].lcore_id = 1;
	l[0].rx_packets = 11;
	memset(&c, 0, sizeof(c));
	c.rounds = 42;
	memset(&u, 0, sizeof(u));
	u.now_unix_ns = 1700000000000000000ull;
	u.self_id = 100;
	u.self_generation = 7;
	u.counters = &c;
	u.members = m;
	u.n_members = 2;
	u.lcores = l;
	u.n_lcores = 1;
	if (gsp_sv_writer_publish(w, &u) != 0) {
		fprintf(stderr, "gen_seeds: publish failed\n");
		exit(1);
	}
	/* closed, kept: the CLOSED flag is one more state to read */
	gsp_sv_writer_close(w, u.now_unix_ns, false);
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: gen_seeds packet|status_view DIR\n");
		return 2;
	}
	out_dir = argv[2];
	if (strcmp(argv[1], "packet") == 0)
		gen_packets();
	else if (strcmp(argv[1], "status_view") == 0)
		gen_status_view();
	else
		return 2;
	return 0;
}
