// SPDX-License-Identifier: BSD-3-Clause
// Micro-benchmarks of the protocol core: wire decode, merging member
// states, learning a table of members, answering a SYN digest and a SUM
// of range hashes, against table size.
// Packets go nowhere (the last one is kept).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bench_common.h"

extern "C" {
#include "gsp_core.h"
#include "gsp_util.h"
#include "gsp_wire.h"
}

// The last datagram a node sent, and how many it sent.
static std::vector<uint8_t> last_sent;
static uint64_t n_sent;

extern "C" void
gsp_io_send(void *, const struct gsp_addr *, const uint8_t *buf, uint16_t len)
{
	last_sent.assign(buf, buf + len);
	n_sent++;
}

extern "C" void
gsp_io_event(void *, const struct gsp_event *)
{
}

// Packs ACK2 packets carrying the states of ids [first, first+n), named
// node<id>; derived: each id replaced by its name's hash, as a cluster
// without ids in its configs has them.
static std::vector<std::vector<uint8_t>>
ack2_packets(uint64_t first, uint64_t n, uint64_t version,
	     bool derived = false)
{
	std::vector<std::vector<uint8_t>> pkts;
	uint8_t buf[1472];
	gsp_wire_writer w;
	uint64_t id = first;

	while (id < first + n) {
		gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_ACK2,
			       gsp_cluster_hash("bench"), 999);
		while (id < first + n) {
			gsp_wire_state st = bench_state_for(id, version);

			if (derived)
				st.id = gsp_id_from_name(st.name);

			if (!gsp_wire_put_state(&w, &st))
				break;
			id++;
		}
		uint16_t len = gsp_wire_finish(&w);
		pkts.emplace_back(buf, buf + len);
	}
	return pkts;
}

// Baseline: decode and validate one full ACK2 packet.
static void
BM_WireDecodeAck2(benchmark::State &state)
{
	auto pkts = ack2_packets(100, 1000, 5);
	static gsp_digest digests[4096];
	static gsp_wire_state states[2048];
	static gsp_claim claims[2048];
	gsp_wire_msg m;

	for (auto _ : state) {
		int rc = gsp_wire_decode(pkts[0].data(), pkts[0].size(),
					 gsp_cluster_hash("bench"), &m,
					 digests, states, claims);
		benchmark::DoNotOptimize(rc);
	}
	state.SetItemsProcessed(state.iterations() * m.n_states);
	state.SetBytesProcessed(state.iterations() * pkts[0].size());
}
BENCHMARK(BM_WireDecodeAck2);

// Merge newer heartbeats of N known members (steady-state gossip).
static void
BM_MergeHeartbeats(benchmark::State &state)
{
	uint64_t n = state.range(0), version = 2;
	gsp_node *node = bench_make_node((uint32_t)n + 16);
	gsp_addr src = { 0x0a000002, 7946 };
	uint64_t now = 1;

	for (auto &p : ack2_packets(100, n, 1))
		gsp_node_rx(node, &src, p.data(), p.size(), now, NULL);
	for (auto _ : state) {
		state.PauseTiming();
		auto pkts = ack2_packets(100, n, version++);
		state.ResumeTiming();
		for (auto &p : pkts)
			gsp_node_rx(node, &src, p.data(), p.size(), ++now, NULL);
	}
	state.SetItemsProcessed(state.iterations() * n);
	gsp_node_destroy(node);
}
BENCHMARK(BM_MergeHeartbeats)->Arg(100)->Arg(1000)->Arg(10000);

// A newcomer learns N members: range(1) = 0, ids derived from names;
// 1, ids set in configs, where each new id is checked against the names
// held (a name taken over from a down member).
static void
BM_LearnMembers(benchmark::State &state)
{
	uint64_t n = state.range(0);
	auto pkts = ack2_packets(100, n, 1, state.range(1) == 0);
	gsp_addr src = { 0x0a000002, 7946 };

	for (auto _ : state) {
		state.PauseTiming();
		gsp_node *node = bench_make_node((uint32_t)n + 16);
		state.ResumeTiming();
		for (auto &p : pkts)
			gsp_node_rx(node, &src, p.data(), p.size(), 1, NULL);
		state.PauseTiming();
		gsp_node_counters c;
		gsp_node_counters_read(node, &c);
		if (c.merged != n)
			state.SkipWithError("not every member merged");
		gsp_node_destroy(node);
		state.ResumeTiming();
	}
	state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_LearnMembers)
	->ArgsProduct({ { 1000, 10000, 100000 }, { 0, 1 } })
	->Unit(benchmark::kMillisecond);

// Answer one SYN packet (a digest of up to 60 members) with N members known.
static void
BM_HandleSyn(benchmark::State &state)
{
	uint64_t n = state.range(0);
	gsp_node *node = bench_make_node((uint32_t)n + 16);
	gsp_addr src = { 0x0a000002, 7946 };
	uint8_t buf[1472];
	gsp_wire_writer w;

	for (auto &p : ack2_packets(100, n, 3))
		gsp_node_rx(node, &src, p.data(), p.size(), 1, NULL);
	// a window packet as a peer sends it: the 60 members with the
	// lowest digest keys, range [0, key of the 60th]
	std::vector<std::pair<uint64_t, uint64_t>> keyed;
	for (uint64_t id = 100; id < 100 + n; id++)
		keyed.emplace_back(gsp_id_key(id), id);
	std::sort(keyed.begin(), keyed.end());
	uint64_t k = std::min<uint64_t>(60, n);
	gsp_wire_begin(&w, buf, sizeof(buf), GSP_MSG_SYN,
		       gsp_cluster_hash("bench"), 999);
	gsp_wire_set_range(&w, 0, keyed[k - 1].first);
	for (uint64_t i = 0; i < k; i++) {
		gsp_digest d = { keyed[i].second, 1, 3 };
		gsp_wire_put_digest(&w, &d);
	}
	uint16_t len = gsp_wire_finish(&w);
	for (auto _ : state)
		gsp_node_rx(node, &src, buf, len, 2, NULL);
	state.SetItemsProcessed(state.iterations());
	gsp_node_destroy(node);
}
BENCHMARK(BM_HandleSyn)->Arg(100)->Arg(1000)->Arg(10000);

// A SUM from member 100 of 16 hashes at `level` from bucket `first`.
static std::vector<uint8_t>
sum_packet(uint8_t level, uint32_t first, uint32_t members,
	   const uint8_t *hashes, uint32_t n_hashes)
{
	uint8_t buf[1472];
	gsp_wire_writer w;

	gsp_wire_begin_v(&w, buf, sizeof(buf), GSP_MSG_SUM, 3,
			 gsp_cluster_hash("bench"), 100);
	gsp_wire_set_sum(&w, level, first, members);
	for (uint32_t i = 0; i < n_hashes; i++)
		gsp_wire_put_hash(&w, gsp_get_le64(hashes + 8 * i));
	uint16_t len = gsp_wire_finish(&w);
	return std::vector<uint8_t>(buf, buf + len);
}

// Answer a member's SUM of the 16 top buckets (level 4) with N members
// known: range(1) = 0, every hash as ours (nothing to send: the cost of
// the 16 range hashes); 1, one differs (a step down: 16 more hashes of
// its children and a SUM out), as after one member's change.
static void
BM_HandleSum(benchmark::State &state)
{
	uint64_t n = state.range(0), now = 1000000000;
	gsp_node *node = bench_make_node((uint32_t)n + 16);
	gsp_addr src = { 0x0a000002, 7946 };
	uint8_t zero[8] = {}, hashes[8 * 16];
	gsp_wire_msg m;
	static gsp_digest digests[4096];
	static gsp_wire_state states[2048];
	static gsp_claim claims[2048];

	for (auto &p : ack2_packets(100, n, 3))
		gsp_node_rx(node, &src, p.data(), p.size(), 1, NULL);
	// a wrong hash of the whole key space: the node steps down with a
	// SUM of its own 16 level-4 hashes, which we keep
	auto whole = sum_packet(0, 0, (uint32_t)n, zero, 1);
	gsp_node_rx(node, &src, whole.data(), whole.size(), now, NULL);
	if (gsp_wire_decode(last_sent.data(), last_sent.size(),
			    gsp_cluster_hash("bench"), &m, digests, states,
			    claims) != GSP_RX_OK || m.hdr.type != GSP_MSG_SUM ||
	    m.n_hashes != 16) {
		state.SkipWithError("no SUM of level 4 came back");
		gsp_node_destroy(node);
		return;
	}
	std::memcpy(hashes, m.sum_hashes, sizeof(hashes));
	if (state.range(1) != 0)
		hashes[8 * 5] ^= 1;
	auto sum = sum_packet(m.sum_level, m.sum_first, m.sum_members, hashes,
			      16);
	uint64_t sent = n_sent;

	for (auto _ : state) {
		now += 1000000000;	/* a probe token every time */
		gsp_node_rx(node, &src, sum.data(), sum.size(), now, NULL);
	}
	if (n_sent - sent != (state.range(1) != 0 ?
				(uint64_t)state.iterations() : 0))
		state.SkipWithError("answers not as expected");
	state.SetItemsProcessed(state.iterations());
	gsp_node_destroy(node);
}
BENCHMARK(BM_HandleSum)->ArgsProduct({ { 1000, 10000, 100000 }, { 0, 1 } });

BENCHMARK_MAIN();
