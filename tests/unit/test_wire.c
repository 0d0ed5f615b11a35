/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the wire format: every message built and decoded again,
 * each way a datagram is refused, and random bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gsp_core.h"
#include "gsp_util.h"
#include "gsp_wire.h"
#include "test_net.h"

/* ------------------------------- wire --------------------------------- */

static void
test_wire_roundtrip(void **state)
{
	uint8_t buf[1500];
	struct gsp_wire_writer w;
	struct gsp_wire_state st = sample_state(55, "node-a");
	struct gsp_digest d1 = { 5, 1, 2 }, d2 = { 9, 3, 4 };
	struct gsp_wire_msg m;
	uint16_t len;

	(void)state;
	/* SYN */
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_SYN,
		       gsp_cluster_hash(CLUSTER), 77);
	/* ranges are over digest keys */
	uint64_t lo = gsp_id_key(5) < gsp_id_key(9) ? gsp_id_key(5) : gsp_id_key(9);
	uint64_t hi = gsp_id_key(5) ^ gsp_id_key(9) ^ lo;

	gsp_wire_set_range(&w, lo, hi);
	assert_true(gsp_wire_put_digest(&w, &d1));
	assert_true(gsp_wire_put_digest(&w, &d2));
	len = gsp_wire_finish(&w);
	assert_int_equal(len, GSP_WIRE_HDR_LEN + 16 + 2 * 24);
	assert_int_equal(decode(buf, len, &m), GSP_RX_OK);
	assert_int_equal(m.hdr.type, GSP_MSG_SYN);
	assert_int_equal(m.hdr.sender_id, 77);
	assert_int_equal(m.range_lo, lo);
	assert_int_equal(m.range_hi, hi);
	assert_int_equal(m.n_digests, 2);
	assert_memory_equal(&m.digests[1], &d2, sizeof(d2));

	/* ACK: states then requests */
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_ACK,
		       gsp_cluster_hash(CLUSTER), 77);
	assert_true(gsp_wire_put_state(&w, &st));
	assert_true(gsp_wire_put_digest(&w, &d1));
	assert_false(gsp_wire_put_state(&w, &st));	/* after a request */
	len = gsp_wire_finish(&w);
	assert_int_equal(decode(buf, len, &m), GSP_RX_OK);
	assert_int_equal(m.n_states, 1);
	assert_int_equal(m.n_digests, 1);
	assert_int_equal(m.states[0].id, 55);
	assert_string_equal(m.states[0].name, "node-a");
	assert_int_equal(m.states[0].app_count, 2);
	assert_string_equal(m.states[0].app[1].value, "eu west 1");
	assert_int_equal(m.states[0].app[0].version, 10);
	assert_int_equal(m.states[0].heartbeat, 9);

	/* LEAVE */
	st.status = GSP_WIRE_STATUS_LEFT;
	st.id = 77;
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_LEAVE,
		       gsp_cluster_hash(CLUSTER), 77);
	assert_true(gsp_wire_put_state(&w, &st));
	len = gsp_wire_finish(&w);
	assert_int_equal(decode(buf, len, &m), GSP_RX_OK);
	assert_int_equal(m.states[0].status, GSP_WIRE_STATUS_LEFT);

	/* a writer never overflows its buffer */
	gsp_wire_begin(&w, buf, 100, GSP_MSG_ACK2,
		       gsp_cluster_hash(CLUSTER), 77);
	assert_false(gsp_wire_put_state(&w, &st));
}

static uint16_t
build_syn(uint8_t *buf, unsigned int n)
{
	struct gsp_wire_writer w;

	gsp_wire_begin(&w, buf, 1500, GSP_MSG_SYN, gsp_cluster_hash(CLUSTER),
		       77);
	gsp_wire_set_range(&w, 0, UINT64_MAX);
	for (unsigned int i = 0; i < n; i++) {
		struct gsp_digest d = { 10 + i, 1, 1 };

		gsp_wire_put_digest(&w, &d);
	}
	return gsp_wire_finish(&w);
}

static uint16_t
build_ack2(uint8_t *buf)
{
	struct gsp_wire_writer w;
	struct gsp_wire_state st = sample_state(55, "node-a");

	gsp_wire_begin(&w, buf, 1500, GSP_MSG_ACK2, gsp_cluster_hash(CLUSTER),
		       77);
	gsp_wire_put_state(&w, &st);
	return gsp_wire_finish(&w);
}

static void
test_wire_rejects(void **state)
{
	uint8_t buf[1500], bad[1500];
	struct gsp_wire_msg m;
	uint16_t len;

	(void)state;
	len = build_syn(buf, 3);
	/* truncated: shorter than the header, and every shorter prefix */
	assert_int_equal(decode(buf, 10, &m), GSP_RX_TRUNCATED);
	for (uint16_t l = 0; l < len; l++)
		assert_int_not_equal(decode(buf, l, &m), GSP_RX_OK);

	memcpy(bad, buf, len);
	bad[0] ^= 0xff;
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_MAGIC);

	memcpy(bad, buf, len);
	bad[GSP_HDR_OFF_VERSION] = GSP_WIRE_VERSION + 1;
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_VERSION);

	memcpy(bad, buf, len);
	gsp_put_le16(bad + GSP_HDR_OFF_LENGTH, len + 24);
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_LENGTH);

	memcpy(bad, buf, len);
	bad[GSP_HDR_OFF_TYPE] = 99;
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_TYPE);

	assert_int_equal(decode_in("other", buf, len, &m),
			 GSP_RX_WRONG_CLUSTER);

	/* oversized count: more entries than the bytes can hold */
	memcpy(bad, buf, len);
	gsp_put_le16(bad + GSP_HDR_OFF_COUNT, 60000);
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_COUNT);

	/* a digest outside the packet's range */
	memcpy(bad, buf, len);
	gsp_put_le64(bad + GSP_WIRE_HDR_LEN, gsp_id_key(10) + 1);	/* lo */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	/* an inverted range */
	memcpy(bad, buf, len);
	gsp_put_le64(bad + GSP_WIRE_HDR_LEN, 12);	/* range_lo > hi */
	gsp_put_le64(bad + GSP_WIRE_HDR_LEN + 8, 11);
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);

	/* a zero sender id */
	memcpy(bad, buf, len);
	gsp_put_le64(bad + GSP_HDR_OFF_SENDER, 0);
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);

	/* member states */
	len = build_ack2(buf);
	assert_int_equal(decode(buf, len, &m), GSP_RX_OK);
	memcpy(bad, buf, len);
	bad[GSP_WIRE_HDR_LEN + 39] = 0;			/* empty name */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	memcpy(bad, buf, len);
	bad[GSP_WIRE_HDR_LEN + 40] = 17;		/* > 16 app keys */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	memcpy(bad, buf, len);
	bad[GSP_WIRE_HDR_LEN + GSP_WIRE_STATE_FIXED] = '\n'; /* bad name */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	/* no address (found by tests/fuzz: PING_REQs to port 0) */
	memcpy(bad, buf, len);
	gsp_put_le32(bad + GSP_WIRE_HDR_LEN + 32, 0);	/* ip 0 */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	memcpy(bad, buf, len);
	gsp_put_le16(bad + GSP_WIRE_HDR_LEN + 36, 0);	/* port 0 */
	assert_int_equal(decode(bad, len, &m), GSP_RX_BAD_ENTRY);
	memcpy(bad, buf, len);
	bad[GSP_WIRE_HDR_LEN + 39] = 60;		/* name past the end */
	gsp_put_le16(bad + GSP_HDR_OFF_LENGTH, len);
	assert_int_not_equal(decode(bad, len, &m), GSP_RX_OK);
	memcpy(bad, buf, len);
	gsp_put_le16(bad + GSP_HDR_OFF_COUNT, 2);	/* count says 2 */
	assert_int_not_equal(decode(bad, len, &m), GSP_RX_OK);
	/* trailing garbage after the last state */
	memcpy(bad, buf, len);
	bad[len] = 0;
	gsp_put_le16(bad + GSP_HDR_OFF_LENGTH, len + 1);
	assert_int_equal(decode(bad, len + 1, &m), GSP_RX_BAD_LENGTH);
}

/* Every single-byte corruption is either rejected or decodes to something
 * self-consistent; never a crash (run under ASan in CI for the rest). */
static void
test_wire_fuzz_bytes(void **state)
{
	uint8_t buf[1500], bad[1500];
	struct gsp_wire_msg m;
	uint64_t rng = 1;
	uint16_t len = build_ack2(buf);

	(void)state;
	for (int i = 0; i < 20000; i++) {
		memcpy(bad, buf, len);
		bad[gsp_rand_below(&rng, len)] = (uint8_t)gsp_rand(&rng);
		if (decode(bad, len, &m) == GSP_RX_OK)
			assert_true(m.n_states <= 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_roundtrip),
		cmocka_unit_test(test_wire_rejects),
		cmocka_unit_test(test_wire_fuzz_bytes),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
