/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of anti-entropy, white-box: what a node answers to an ACK's
 * requests and to a SUM of range hashes, read from the in-memory
 * network's queue (test_net.h).
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
#include "gsp_node_int.h"
#include "gsp_util.h"
#include "gsp_wire.h"
#include "test_member.h"
#include "test_net.h"

/* ------------------------------- sync --------------------------------- */

/* A forged ACK asking 60 times for one member gets it once. */
static void
test_ack2_answers_once(void **state)
{
	struct gsp_node_params p = test_params("self", 0x0a000001, 1, &sim[0]);
	struct gsp_wire_state st = sample_state(55, "peer");
	struct gsp_addr src = { 0x0a000009, 7946 };
	struct gsp_wire_writer w;
	struct gsp_wire_msg m;
	struct gsp_node *n;
	uint8_t buf[1500];
	unsigned int states = 0;
	int err;

	(void)state;
	sim[0].addr = p.addr;
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	feed(n, &st, 1 * MS);
	net_n = 0;
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_ACK,
		       gsp_cluster_hash(CLUSTER), 999);
	for (int i = 0; i < 60; i++) {
		struct gsp_digest d = { 55, 7, 1 };

		assert_true(gsp_wire_put_digest(&w, &d));
	}
	gsp_node_rx(n, &src, buf, gsp_wire_finish(&w), 2 * MS, NULL);
	for (unsigned int i = 0; i < net_n; i++) {
		assert_int_equal(decode(net_q[i].data, net_q[i].len, &m),
				 GSP_RX_OK);
		assert_int_equal(m.hdr.type, GSP_MSG_ACK2);
		states += m.n_states;
		free(net_q[i].data);
	}
	net_n = 0;
	assert_int_equal(states, 1);
	gsp_node_destroy(n);
}

/*
 * A SYN from member 999 listing, over [lo, hi], every member n holds
 * there as n holds it, except `skip` (0: none), plus `extra` (0: none),
 * an id n does not hold; the ACK's states and requests are read back.
 * A SYN that lists all we hold in its range is answered from its digests
 * alone (gsp_range_has_more): the one member it leaves out must still
 * come back, and only it.
 */
static void
syn_listing(struct gsp_node *n, uint64_t lo, uint64_t hi, uint64_t skip,
	    uint64_t extra, uint64_t *states, unsigned int *n_states,
	    unsigned int *n_requests)
{
	struct gsp_addr src = { 0x0a000009, 7946 };
	struct gsp_wire_writer w;
	struct gsp_wire_msg m;
	uint8_t buf[1500];

	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_SYN,
		       gsp_cluster_hash(CLUSTER), 999);
	gsp_wire_set_range(&w, lo, hi);
	for (uint32_t slot = 0; slot < n->table->high_water; slot++) {
		const struct gsp_member_rec *r;
		struct gsp_digest d;
		uint64_t key;

		if (!gsp_table_has(n->table, slot))
			continue;
		r = gsp_rec(n, slot);
		d = (struct gsp_digest){ gsp_rec_id(n, r), r->generation,
					 r->version };
		key = gsp_id_key(d.id);
		if (key < lo || key > hi || d.id == skip)
			continue;
		assert_true(gsp_wire_put_digest(&w, &d));
	}
	if (extra != 0) {
		struct gsp_digest d = { extra, 7, 12 };

		assert_true(gsp_wire_put_digest(&w, &d));
	}
	net_n = 0;
	gsp_node_rx(n, &src, buf, gsp_wire_finish(&w), 5 * MS, NULL);
	*n_states = *n_requests = 0;
	for (unsigned int i = 0; i < net_n; i++) {
		assert_int_equal(decode(net_q[i].data, net_q[i].len, &m),
				 GSP_RX_OK);
		assert_int_equal(m.hdr.type, GSP_MSG_ACK);
		for (uint32_t k = 0; k < m.n_states; k++) {
			assert_true(*n_states < 64);
			states[(*n_states)++] = m.states[k].id;
		}
		*n_requests += m.n_digests;
		free(net_q[i].data);
	}
	net_n = 0;
}

static void
test_syn_answers_what_it_was_not_told(void **state)
{
	struct gsp_node_params p = test_params("self", 0x0a000001, 1, &sim[0]);
	const uint64_t half = UINT64_MAX / 2;
	uint64_t got[64], low = 0, high = 0, outside = 0;
	unsigned int n_states, n_requests;
	struct gsp_node *n;
	int err;

	(void)state;
	sim[0].addr = p.addr;
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	for (uint64_t id = 101; id <= 140; id++) {
		char name[16];
		struct gsp_wire_state st;

		snprintf(name, sizeof(name), "m%u", (unsigned int)id);
		st = sample_state(id, name);
		feed(n, &st, 1 * MS);
		if (gsp_id_key(id) <= half && low == 0)
			low = id;
		else if (gsp_id_key(id) > half && high == 0)
			high = id;
	}
	assert_true(low != 0 && high != 0);
	/* each of 1,000,001.. is in the low half or not */
	for (uint64_t id = 1000001; outside == 0; id++)
		if (gsp_id_key(id) <= half)
			outside = id;

	/* everything listed: nothing to send, nothing to ask */
	syn_listing(n, 0, UINT64_MAX, 0, 0, got, &n_states, &n_requests);
	assert_int_equal(n_states, 0);
	assert_int_equal(n_requests, 0);
	/* one left out, over the whole space: it alone comes back */
	syn_listing(n, 0, UINT64_MAX, high, 0, got, &n_states, &n_requests);
	assert_int_equal(n_states, 1);
	assert_true(got[0] == high);
	assert_int_equal(n_requests, 0);
	/* over the low half: the one left out there, none of the other
	 * half's; an id we lack listed in its place is asked for */
	syn_listing(n, 0, half, low, outside, got, &n_states, &n_requests);
	assert_int_equal(n_states, 1);
	assert_true(got[0] == low);
	assert_int_equal(n_requests, 1);
	/* the low half listed whole: the high half's members stay ours */
	syn_listing(n, 0, half, 0, 0, got, &n_states, &n_requests);
	assert_int_equal(n_states, 0);
	gsp_node_destroy(n);
}

/* The types of the datagrams a node queued, counted; the queue is
 * emptied. *syn_digests adds up the digests the SYNs list. */
static void
drain_types(unsigned int *sums, unsigned int *syns, unsigned int *syn_digests)
{
	struct gsp_wire_msg m;

	*sums = *syns = *syn_digests = 0;
	for (unsigned int i = 0; i < net_n; i++) {
		assert_int_equal(decode(net_q[i].data, net_q[i].len, &m),
				 GSP_RX_OK);
		if (m.hdr.type == GSP_MSG_SUM)
			(*sums)++;
		if (m.hdr.type == GSP_MSG_SYN) {
			(*syns)++;
			*syn_digests += m.n_digests;
		}
		free(net_q[i].data);
	}
	net_n = 0;
}

/* The answers to a SUM of level-4 hashes, read from the queue and
 * emptied: the SUMs sent (steps down), and the level-4 buckets the SYNs
 * list. Every listed bucket must be listed whole: SYN ranges that join
 * into whole buckets, never a listing cut short. */
static void
sum_answers(unsigned int *sums, unsigned int *listed)
{
	const uint64_t bucket = 1ull << 60;
	uint64_t lo[64], hi[64];
	struct gsp_wire_msg m;
	unsigned int k = 0;

	*sums = *listed = 0;
	for (unsigned int i = 0; i < net_n; i++) {
		assert_int_equal(decode(net_q[i].data, net_q[i].len, &m),
				 GSP_RX_OK);
		if (m.hdr.type == GSP_MSG_SUM)
			(*sums)++;
		if (m.hdr.type == GSP_MSG_SYN) {
			assert_true(k < 64);
			lo[k] = m.range_lo;
			hi[k] = m.range_hi;
			/* in order by lo */
			for (unsigned int j = k; j > 0 && lo[j - 1] > lo[j];
			     j--) {
				uint64_t tl = lo[j], th = hi[j];

				lo[j] = lo[j - 1];
				hi[j] = hi[j - 1];
				lo[j - 1] = tl;
				hi[j - 1] = th;
			}
			k++;
		}
		free(net_q[i].data);
	}
	net_n = 0;
	for (unsigned int i = 0; i < k;) {
		uint64_t a = lo[i], z = hi[i];

		while (++i < k && z != UINT64_MAX && lo[i] == z + 1)
			z = hi[i];
		assert_int_equal(a % bucket, 0);
		assert_true(z == UINT64_MAX || (z + 1) % bucket == 0);
		*listed += (unsigned int)(z / bucket - a / bucket) + 1;
	}
}

/* A node that knows member 999 (the SUMs' sender), with syn_packets
 * SYN packets per listing (0: the default) and room for capacity members
 * (0: test_params'). */
static struct gsp_node *
sum_node_of(uint32_t syn_packets, uint32_t capacity)
{
	struct gsp_node_params p = test_params("self", 0x0a000001, 1, &sim[0]);
	struct gsp_wire_state st = sample_state(999, "peer");
	struct gsp_node *n;
	int err;

	p.syn_packets = syn_packets;
	if (capacity != 0)
		p.capacity = capacity;
	sim[0].addr = p.addr;
	n = gsp_node_create(&p, &err);
	assert_non_null(n);
	feed(n, &st, 1 * MS);
	return n;
}

static struct gsp_node *
sum_node(uint32_t syn_packets)
{
	return sum_node_of(syn_packets, 0);
}

/* Member 10000 + k, named mk, learned by n. */
static void
feed_member(struct gsp_node *n, unsigned int k)
{
	struct gsp_wire_state st;
	char name[16];

	snprintf(name, sizeof(name), "m%u", k);
	st = sample_state(10000 + k, name);
	feed(n, &st, 1 * MS);
}

/* A node of the default window that knows member 999 and members
 * 10000 .. 10000 + count - 1 (1,002 in all with itself at 1,000). */
static struct gsp_node *
sum_node_knowing(unsigned int count)
{
	struct gsp_node *n = sum_node(0);

	for (unsigned int k = 0; k < count; k++)
		feed_member(n, k);
	return n;
}

/* Node n's own first SUM, decoded into *mine, its hashes copied into
 * hashes (16 of them) */
static void
own_sum(struct gsp_node *n, struct gsp_wire_msg *mine, uint8_t *hashes)
{
	struct gsp_addr peer = { 0x0a000009, 7946 };

	net_n = 0;
	gsp_sync_start(n, &peer);
	assert_int_equal(net_n, 1);
	assert_int_equal(decode(net_q[0].data, net_q[0].len, mine),
			 GSP_RX_OK);
	assert_int_equal(mine->hdr.type, GSP_MSG_SUM);
	assert_int_equal(mine->n_hashes, 16);
	memcpy(hashes, mine->sum_hashes, 8 * 16);
	free(net_q[0].data);
	net_n = 0;
}

/* Node n's own first SUM (16 hashes of level 4) sent back to it from
 * member 999, with the hashes whose bit is set in `flip` changed. */
static void
sum_back(struct gsp_node *n, const struct gsp_wire_msg *mine,
	 const uint8_t *hashes, uint32_t flip, uint64_t now)
{
	struct gsp_addr src = { 0x0a000009, 7946 };
	struct gsp_wire_writer w;
	uint8_t buf[1500];

	gsp_wire_begin_v(&w, buf, sizeof(buf), GSP_MSG_SUM, mine->hdr.version,
			 gsp_cluster_hash(CLUSTER), 999);
	gsp_wire_set_sum(&w, mine->sum_level, mine->sum_first,
			 mine->sum_members);
	for (uint32_t i = 0; i < mine->n_hashes; i++)
		assert_true(gsp_wire_put_hash(&w, gsp_get_le64(hashes + 8 * i) ^
					      ((flip >> i & 1) ? 0x5a5a : 0)));
	gsp_node_rx(n, &src, buf, gsp_wire_finish(&w), now, NULL);
}

/*
 * Range sync: a SUM that differs in one bucket steps down into it (a SUM
 * of its 16 children: cheap in bytes for a few changes); one that differs
 * in most (a cold join, a healed partition) lists the buckets that differ,
 * one SYN packet each, instead of descending into 16 children each; a
 * differing range too large for a window of SYN packets is descended
 * into all the same.
 */
static void
test_sum_dense_lists_sparse_descends(void **state)
{
	unsigned int sums, syns, digests, listed;
	struct gsp_wire_msg mine;
	uint8_t hashes[8 * 16];
	struct gsp_node *n;
	uint64_t now = 1 * MS;

	(void)state;
	n = sum_node_knowing(1000);
	own_sum(n, &mine, hashes);
	assert_int_equal(mine.sum_members, 1002);

	/* the same view: nothing to do */
	sum_back(n, &mine, hashes, 0, now);
	drain_types(&sums, &syns, &digests);
	assert_int_equal(sums + syns, 0);

	/* one bucket of about 63 members differs: a step down */
	sum_back(n, &mine, hashes, 1u << 5, now);
	drain_types(&sums, &syns, &digests);
	assert_int_equal(sums, 1);
	assert_int_equal(syns, 0);

	/* three of 16: still sparse */
	sum_back(n, &mine, hashes, 0x0111, now);
	drain_types(&sums, &syns, &digests);
	assert_int_equal(sums, 3);
	assert_int_equal(syns, 0);

	/* four of 16: dense, so each is listed whole, not stepped into */
	sum_back(n, &mine, hashes, 0x000f, now);
	sum_answers(&sums, &listed);
	assert_int_equal(sums, 0);
	assert_int_equal(listed, 4);

	/* all 16 differ: 8 of them (the most a SUM answers) listed, about
	 * 500 members in one or two packets each (59 digests fill one),
	 * and no step down */
	sum_back(n, &mine, hashes, 0xffff, now);
	drain_types(&sums, &syns, &digests);
	assert_int_equal(sums, 0);
	assert_in_range(syns, 8, 16);
	assert_in_range(digests, 8 * 40, 8 * 90);
	sum_back(n, &mine, hashes, 0xffff, now);
	sum_answers(&sums, &listed);
	assert_int_equal(listed, 8);

	/* the whole key space differs and holds 1,002 members, more than a
	 * window of 4 packets of 59 lists: a step down */
	mine.sum_level = 0;
	mine.n_hashes = 1;
	sum_back(n, &mine, hashes, 1, now);
	drain_types(&sums, &syns, &digests);
	assert_int_equal(sums, 1);
	assert_int_equal(syns, 0);
	gsp_node_destroy(n);
}

/*
 * A dense SUM lists a bucket only when the listing fits its window whole:
 * SYN packets hold whole buckets of ours, so a range of up to 2 x 59
 * members may need three packets of 59. With two packets per listing, a
 * range that packs into more is stepped into instead; listed cut short,
 * its end would never be compared, at every sync alike. Swept over table
 * sizes that put the level-4 buckets around 118 members.
 */
static void
test_sum_dense_listing_is_whole(void **state)
{
	unsigned int sums, listed, both = 0;
	struct gsp_wire_msg mine;
	uint8_t hashes[8 * 16];
	struct gsp_node *n;
	uint64_t now = 1 * MS;

	(void)state;
	n = sum_node(2);
	for (unsigned int k = 0; k < 2000; k++) {
		feed_member(n, k);
		if (k < 1600 || k % 4 != 0)
			continue;
		own_sum(n, &mine, hashes);
		sum_back(n, &mine, hashes, 0xffff, now);
		sum_answers(&sums, &listed);	/* each listing whole */
		assert_int_equal(sums + listed, 8);
		both += sums != 0 && listed != 0;
	}
	/* the sweep met sizes where some buckets fit and others did not */
	assert_true(both > 0);
	gsp_node_destroy(n);
}

/*
 * A node far behind (a newcomer: its SUM counts fewer than half our
 * members) is answered with listings, not steps down; a listing too big
 * for its window of packets is cut short. Cut at the same place at every
 * sync, it would hand the newcomer the same members each time. Each SYN
 * packet must list exactly the members we hold in its range, none twice
 * in a sync; some listings must wrap past the range's end; and a few
 * syncs must between them list all 1,002.
 */
static void
test_behind_listings_cover_the_range(void **state)
{
	static bool seen[1002];
	struct gsp_wire_msg mine, m;
	uint8_t hashes[8 * 16];
	unsigned int syncs = 0, covered = 0, starts_differ = 0, wrapped = 0;
	uint64_t first_lo = 0, ids[1002];
	struct gsp_node *n;
	uint64_t now = 1 * MS;

	(void)state;
	n = sum_node_knowing(1000);
	for (unsigned int k = 0; k < 1000; k++)
		ids[k] = 10000 + k;
	ids[1000] = 999;
	ids[1001] = gsp_node_id(n);
	own_sum(n, &mine, hashes);
	mine.sum_level = 0;
	mine.n_hashes = 1;
	mine.sum_members = 2;		/* the sender holds 2 of our 1,002 */
	for (; syncs < 40; syncs++) {
		bool in_sync[1002] = { false };
		uint64_t prev_lo = 0;
		unsigned int syns = 0;

		sum_back(n, &mine, hashes, 1, now);
		for (unsigned int i = 0; i < net_n; i++) {
			unsigned int in_range = 0;

			assert_int_equal(decode(net_q[i].data, net_q[i].len,
						&m), GSP_RX_OK);
			assert_int_equal(m.hdr.type, GSP_MSG_SYN);
			if (syns == 0) {
				starts_differ += syncs > 0 &&
					m.range_lo != first_lo;
				if (syncs == 0)
					first_lo = m.range_lo;
			} else if (m.range_lo < prev_lo) {
				wrapped++;	/* on from the range's start */
			}
			prev_lo = m.range_lo;
			syns++;
			for (unsigned int k = 0; k < 1002; k++) {
				uint64_t key = gsp_id_key(ids[k]);

				in_range += key >= m.range_lo &&
					key <= m.range_hi;
			}
			/* the range holds exactly what the packet lists: as
			 * many, each inside, none listed twice in a sync */
			assert_int_equal(m.n_digests, in_range);
			for (unsigned int d = 0; d < m.n_digests; d++) {
				uint64_t key = gsp_id_key(m.digests[d].id);
				unsigned int k = 0;

				assert_true(key >= m.range_lo &&
					    key <= m.range_hi);
				while (k < 1002 && ids[k] != m.digests[d].id)
					k++;
				assert_true(k < 1002);
				assert_false(in_sync[k]);
				in_sync[k] = true;
				covered += !seen[k];
				seen[k] = true;
			}
			free(net_q[i].data);
		}
		net_n = 0;
		/* a window of 4 packets of 59: a listing cut short */
		assert_int_equal(syns, 4);
	}
	assert_int_equal(covered, 1002);
	assert_true(starts_differ > 0);
	assert_true(wrapped > 0);
	gsp_node_destroy(n);
}

/* The first SUM queued, decoded, its hashes copied; the queue emptied. */
static void
first_sum(struct gsp_wire_msg *m, uint8_t *hashes)
{
	unsigned int found = 0;

	for (unsigned int i = 0; i < net_n; i++) {
		struct gsp_wire_msg d;

		assert_int_equal(decode(net_q[i].data, net_q[i].len, &d),
				 GSP_RX_OK);
		if (d.hdr.type == GSP_MSG_SUM && found++ == 0) {
			*m = d;
			memcpy(hashes, d.sum_hashes, 8 * d.n_hashes);
		}
		free(net_q[i].data);
	}
	net_n = 0;
	assert_true(found > 0);
}

/*
 * A SUM's range hashes come from the coarsest cells that tile the range
 * (kept as members change), from buckets, or from walking one bucket,
 * depending on the node's capacity. Three nodes that hold the same
 * members, with room for 1,000 (64 buckets: no cells; a level-8 range
 * is walked inside a bucket), 4,096 (512 buckets: cells at level 4;
 * level 8 from buckets) and 40,000 (4,096: cells at levels 4 and 8), must
 * send the same hashes at level 4 and, a step down, at level 8.
 */
static void
test_sum_hashes_same_at_any_capacity(void **state)
{
	static const uint32_t caps[] = { 1000, 4096, 40000 };
	uint8_t top[3][8 * 16], down[3][8 * 16];
	struct gsp_wire_msg mine, step;
	struct gsp_node *n[3];

	(void)state;
	for (unsigned int c = 0; c < 3; c++) {
		n[c] = sum_node_of(0, caps[c]);
		for (unsigned int k = 0; k < 990; k++)
			feed_member(n[c], k);
		assert_true(gsp_node_view_check(n[c]));
		own_sum(n[c], &mine, top[c]);
		assert_int_equal(mine.sum_members, 992);
		/* one level-4 bucket (about 62 members) differs: its 16
		 * children come back */
		sum_back(n[c], &mine, top[c], 1u << 6, 1 * MS);
		first_sum(&step, down[c]);
		assert_int_equal(step.sum_level, 8);
		assert_int_equal(step.n_hashes, 16);
		assert_int_equal(step.sum_members, 992);
	}
	for (unsigned int c = 1; c < 3; c++) {
		assert_memory_equal(top[c], top[0], sizeof(top[0]));
		assert_memory_equal(down[c], down[0], sizeof(down[0]));
	}
	/* a member that moves changes one top hash alike everywhere */
	for (unsigned int c = 0; c < 3; c++) {
		struct gsp_wire_state st = sample_state(10000 + 7, "m7");

		st.version = 99;
		feed(n[c], &st, 2 * MS);
		assert_true(gsp_node_view_check(n[c]));
		own_sum(n[c], &mine, down[c]);
		gsp_node_destroy(n[c]);
	}
	assert_memory_not_equal(down[0], top[0], sizeof(top[0]));
	assert_memory_equal(down[1], down[0], sizeof(down[0]));
	assert_memory_equal(down[2], down[0], sizeof(down[0]));
}

/* ------------------------- news and flux ------------------------------ */

/* Nodes 0..n-1 other than `except` that will sync with their round's
 * targets (flux), white-box. */
static unsigned int
nodes_in_flux(unsigned int n, unsigned int except)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++)
		k += i != except && sim[i].node->flux_rounds > 0;
	return k;
}

static bool
roots_agree(unsigned int n)
{
	for (unsigned int i = 1; i < n; i++)
		if (sim[i].node->sync_root != sim[0].node->sync_root)
			return false;
	return true;
}

/* Steps of 10 ms until the n nodes agree, and none has flux or rumors
 * left: false after max_steps. */
static bool
run_until_quiet(unsigned int n, uint64_t *now, unsigned int max_steps)
{
	for (unsigned int t = 0; t < max_steps; t++) {
		bool quiet = roots_agree(n);

		for (unsigned int i = 0; i < n && quiet; i++)
			quiet = sim[i].node->flux_rounds == 0 &&
				sim[i].node->rumor_n == 0;
		if (quiet)
			return true;
		*now += 10 * MS;
		sim_step(*now);
	}
	return false;
}

/* What spread_flux saw. */
struct spread {
	unsigned int most_in_flux;	/* nodes other than the origin */
	bool claim_first;	/* a node held the origin's new incarnation
				 * before its new version */
};

/* Steps until the origin has refuted (when `refuted`), every node holds
 * its record at the version it holds itself, and all views agree: false
 * when that takes more than 10 s. */
static bool
spread_flux(unsigned int n, unsigned int origin, bool refuted, uint64_t *now,
	    struct spread *out)
{
	uint64_t id = gsp_node_id(sim[origin].node);

	*out = (struct spread){ 0 };
	for (unsigned int t = 0; t < 1000; t++) {
		struct gsp_node_counters c;
		struct gsp_member_view self, v;
		unsigned int k = nodes_in_flux(n, origin);
		bool done;

		if (k > out->most_in_flux)
			out->most_in_flux = k;
		assert_true(member_of(sim[origin].node, id, &self));
		gsp_node_counters_read(sim[origin].node, &c);
		done = roots_agree(n) && (!refuted || c.refutations > 0);
		for (unsigned int i = 0; i < n; i++) {
			if (!member_of(sim[i].node, id, &v)) {
				done = false;	/* a new member, not yet here */
				continue;
			}
			done = done && v.version == self.version;
			out->claim_first |= v.incarnation == self.incarnation &&
				v.version < self.version && self.incarnation > 0;
		}
		if (done)
			return true;
		*now += 10 * MS;
		sim_step(*now);
	}
	return false;
}

/*
 * A change to a member all nodes hold travels as rumors: the nodes that
 * learn it do not also sync with their round's targets for it, which at
 * N nodes would cost N times the news. That holds for news (an app
 * change) and for a refutation whose claim arrived before the new
 * version. A new member still sets them syncing: a join brings more
 * than the rumors hold.
 */
static void
test_carried_news_starts_no_syncs(void **state)
{
	const unsigned int n = 40;
	uint64_t now = 1000 * MS;
	struct gsp_node_counters c;
	struct gsp_member_view v;
	struct spread sp;

	(void)state;
	for (unsigned int i = 0; i < n; i++)
		sim_start(i, 1000 + i, 0, 2);
	assert_true(run_until_converged(n, &now, 100) > 0);
	assert_true(run_until_quiet(n, &now, 2000));
	/* quiet, after a sweep pass: most peers a node heard from told it
	 * the view it holds (the rest last spoke before the last change) */
	for (unsigned int t = 0; t < 100; t++) {
		now += 10 * MS;
		sim_step(now);
	}
	for (unsigned int i = 0; i < n; i++) {
		gsp_node_counters_read(sim[i].node, &c);
		assert_true(c.view_peers > 0);
		assert_true(c.view_agree <= c.view_peers &&
			    2 * c.view_agree >= c.view_peers);
	}

	/* node 8 publishes an app key */
	assert_int_equal(gsp_node_set_app(sim[7].node, "zone", "b"), 0);
	assert_true(spread_flux(n, 7, false, &now, &sp));
	assert_int_equal(sp.most_in_flux, 0);
	for (unsigned int i = 0; i < n; i++) {
		const struct gsp_member_rec *r =
			gsp_rec(sim[i].node, (uint32_t)gsp_table_find(
				sim[i].node->table, gsp_node_id(sim[7].node)));

		assert_int_equal(r->app_count, 1);
	}
	assert_true(run_until_quiet(n, &now, 2000));

	/* a forged suspicion of node 6: refuted, the claim ahead of the
	 * new version almost everywhere */
	forge_suspicion(sim[11].node, sim[5].node, now);
	assert_true(spread_flux(n, 5, true, &now, &sp));
	assert_int_equal(sp.most_in_flux, 0);
	assert_true(sp.claim_first);	/* the version after the claim */
	gsp_node_counters_read(sim[5].node, &c);
	assert_int_equal(c.refutations, 1);
	for (unsigned int i = 0; i < n; i++) {
		assert_true(member_of(sim[i].node, gsp_node_id(sim[5].node),
				      &v));
		assert_int_equal(v.incarnation, 1);
		assert_int_equal(v.state, GSP_STATE_ALIVE);
	}
	assert_true(run_until_quiet(n, &now, 2000));

	/* a new node: those that learn it sync */
	sim_start(n, 1000 + n, 0, 2);
	assert_true(spread_flux(n + 1, n, false, &now, &sp));
	assert_true(sp.most_in_flux > 0);
	net_reset();
}

/* The ring holds a live rumor of slot's member (white-box). */
static bool
rumored(const struct gsp_node *n, uint32_t slot)
{
	for (uint32_t k = 0; k < n->rumor_n; k++)
		if (n->rumors[(n->rumor_head + k) % GSP_RUMORS_MAX].slot == slot)
			return true;
	return false;
}

/* A node that learned `count` members (ids from 5000) at `now`. */
static struct gsp_node *
node_with_members(uint32_t count, uint64_t now, struct gsp_wire_state *st)
{
	struct gsp_node *n;

	sim_start(0, 1000, 0, 0);
	n = sim[0].node;
	*st = sample_state(0, "m");
	st->wire = GSP_WIRE_VERSION;
	for (uint32_t i = 0; i < count; i++) {
		st->id = 5000 + i;
		snprintf(st->name, sizeof(st->name), "m%u", i);
		feed(n, st, now);
	}
	return n;
}

/*
 * Whether a change is carried is the rumor ring's to say: a member's
 * news the ring holds is, news that made the ring give up older news is
 * not, and a sync must then start for it at the next round.
 */
static void
test_rumor_ring_full_news_syncs(void **state)
{
	struct gsp_wire_state st;
	uint64_t now = 1000 * MS;
	struct gsp_node *n = node_with_members(GSP_RUMORS_MAX + 44, now, &st);
	int32_t first, last;

	(void)state;
	assert_int_equal(n->rumor_n, GSP_RUMORS_MAX);
	first = gsp_table_find(n->table, 5000);
	last = gsp_table_find(n->table, 5000 + GSP_RUMORS_MAX + 43);
	assert_true(first >= 0 && last >= 0);
	assert_false(rumored(n, (uint32_t)first));	/* given up */
	assert_true(rumored(n, (uint32_t)last));
	now += 100 * MS;
	gsp_node_tick(n, now);		/* a round: the root is seen */
	assert_int_equal(n->round_root, n->sync_root);

	/* news of the last member: its rumor carries it */
	st.id = 5000 + GSP_RUMORS_MAX + 43;
	snprintf(st.name, sizeof(st.name), "m%u", GSP_RUMORS_MAX + 43);
	st.version++;
	st.app[1].version = st.version;
	snprintf(st.app[1].value, sizeof(st.app[1].value), "eu west 2");
	feed(n, &st, now);
	assert_int_equal(n->round_root, n->sync_root);

	/* news of the first: the ring gives up another's for it */
	st.id = 5000;
	snprintf(st.name, sizeof(st.name), "m0");
	feed(n, &st, now);
	assert_int_not_equal(n->round_root, n->sync_root);
	assert_true(rumored(n, (uint32_t)first));

	net_reset();
}

/*
 * A round pushes one packet of rumors per target: with more live than
 * it holds, news taken as carried may be left out, so a round whose
 * PUSH overflowed syncs while such news lives; one whose rumors are
 * news that started syncs anyway (joins) does not sync again for it.
 */
static void
test_full_push_syncs_for_carried_news(void **state)
{
	struct gsp_wire_state st;
	uint64_t now = 1000 * MS;
	struct gsp_node *n = node_with_members(GSP_RUMORS_MAX, now, &st);

	(void)state;
	/* joins: flux for them, then none, though every PUSH overflows */
	for (int r = 0; r < 2 * GSP_FLUX_ROUNDS; r++) {
		now += 100 * MS;
		gsp_node_tick(n, now);
		assert_true(n->rumors_overflow);
	}
	assert_int_equal(n->flux_rounds, 0);
	assert_int_equal(n->round_root, n->sync_root);

	/* news of a member the ring holds: carried, no flux of its own,
	 * but the next overflowing round syncs */
	st.version++;
	st.app[1].version = st.version;
	feed(n, &st, now);
	assert_int_equal(n->round_root, n->sync_root);
	now += 100 * MS;
	gsp_node_tick(n, now);
	assert_true(n->flux_rounds > 0);
	assert_true(n->rumors_overflow);

	/* once the rumors fit one PUSH, carried news starts no sync */
	for (int r = 0; r < 40 && n->rumor_n > 0; r++) {
		now += 100 * MS;
		gsp_node_tick(n, now);
	}
	assert_int_equal(n->rumor_n, 0);
	for (int r = 0; r < 2 * GSP_FLUX_ROUNDS; r++) {
		now += 100 * MS;
		gsp_node_tick(n, now);
	}
	assert_int_equal(n->flux_rounds, 0);
	st.version++;
	st.app[1].version = st.version;
	feed(n, &st, now);
	assert_int_equal(n->rumor_n, 1);
	now += 100 * MS;
	gsp_node_tick(n, now);
	assert_false(n->rumors_overflow);
	assert_int_equal(n->round_root, n->sync_root);
	assert_int_equal(n->flux_rounds, 0);
	net_reset();
}

/*
 * The rumor ring's slot index under churn: adds (new and again), a full
 * ring giving up its oldest, expiry, and forgotten members, in random
 * order; after each step the index finds exactly the ring's live rumors
 * and no other slot.
 */
static void
test_rumor_index_matches_ring(void **state)
{
	struct gsp_wire_state st;
	uint64_t rng = 12345, now = 1000 * MS;
	const uint32_t members = 700;
	struct gsp_node *n = node_with_members(members, now, &st);
	unsigned int evicted = 0, forgotten = 0;

	(void)state;
	assert_true(gsp_rumor_verify(n));
	for (int step = 0; step < 20000; step++) {
		uint32_t op, slot;
		int32_t found;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		/* first a full ring that keeps giving up rumors, then one
		 * that expiry drains as fast as adds fill it */
		op = (uint32_t)(rng >> 33) % (step < 10000 ? 7 : 10);
		found = gsp_table_find(n->table, 5000 + (rng >> 40) % members);
		assert_true(found >= 0);
		slot = (uint32_t)found;
		if (op < 6) {
			evicted += !gsp_rumor_add(n, slot);
		} else if (op < 7) {
			forgotten += rumored(n, slot);
			gsp_rumor_forget(n, slot);
			assert_false(rumored(n, slot));
		} else {
			n->ctr.rounds++;
			gsp_rumor_expire(n);
		}
		assert_true(gsp_rumor_verify(n));
		if (op < 6)
			assert_true(rumored(n, slot));
	}
	/* the churn did reach a full ring, and forgot rumored members */
	assert_true(evicted > 1000 && forgotten > 100);
	net_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ack2_answers_once),
		cmocka_unit_test(test_syn_answers_what_it_was_not_told),
		cmocka_unit_test(test_sum_dense_lists_sparse_descends),
		cmocka_unit_test(test_sum_dense_listing_is_whole),
		cmocka_unit_test(test_behind_listings_cover_the_range),
		cmocka_unit_test(test_sum_hashes_same_at_any_capacity),
		cmocka_unit_test(test_carried_news_starts_no_syncs),
		cmocka_unit_test(test_rumor_ring_full_news_syncs),
		cmocka_unit_test(test_full_push_syncs_for_carried_news),
		cmocka_unit_test(test_rumor_index_matches_ring),
	};

	return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
