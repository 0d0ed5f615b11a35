// SPDX-License-Identifier: BSD-3-Clause
// The cost of packet authentication (docs/BENCHMARKS.md, "Authentication
// cost"): AEAD seal and open per datagram size for both ciphers, the
// replay window, and the core's receive path of realistic datagrams with a
// plaintext node against an authenticated one. Packets go nowhere.
//
// Sizes are on-wire datagram sizes (UDP payload, seal included): the
// plain datagram sealed is size - GSP_SEC_OVERHEAD bytes, as a node with
// max_payload = size sends it. 1472 and 8972 fill an MTU of 1500 / 9000.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bench_common.h"

extern "C" {
#include "gsp_core.h"
#include "gsp_sec.h"
#include "gsp_util.h"
#include "gsp_wire.h"
}

static uint64_t bench_tx_packets, bench_tx_bytes;

extern "C" void
gsp_io_send(void *, const struct gsp_addr *, const uint8_t *, uint16_t len)
{
	bench_tx_packets++;
	bench_tx_bytes += len;
}

extern "C" void
gsp_io_event(void *, const struct gsp_event *)
{
}

static const uint8_t bench_key[GSP_KEY_LEN] = { 0x42, 0x17, 0x99 };
static const uint64_t bench_sender = 999;

static gsp_keyring *
make_keyring(enum gsp_cipher c)
{
	gsp_keyring *kr = nullptr;
	uint32_t id;

	if (gsp_keyring_create(c, &kr) != 0)
		return nullptr;
	if (gsp_keyring_add(kr, bench_key, &id) != 0) {
		gsp_keyring_destroy(kr);
		return nullptr;
	}
	return kr;
}

// A plain datagram of len bytes: a PUSH header, then filler the AEAD does
// not look into (seal and open never parse the body).
static std::vector<uint8_t>
plain_datagram(uint16_t len)
{
	std::vector<uint8_t> buf(len);
	gsp_wire_writer w;

	gsp_wire_begin(&w, buf.data(), len, GSP_MSG_PUSH,
		       gsp_cluster_hash("bench"), bench_sender);
	gsp_wire_finish(&w);
	for (size_t i = GSP_WIRE_HDR_LEN; i < len; i++)
		buf[i] = (uint8_t)(i * 131);
	return buf;
}

// ---- AEAD seal / open per size ----

static void
bm_seal(benchmark::State &state, enum gsp_cipher c)
{
	uint16_t size = (uint16_t)state.range(0);
	gsp_keyring *kr = make_keyring(c);
	std::vector<uint8_t> in, out(size);
	gsp_sec_tx tx;

	if (kr == nullptr) {
		state.SkipWithError("cipher not available here");
		return;
	}
	in = plain_datagram(size - GSP_SEC_OVERHEAD);
	gsp_sec_tx_init(&tx, 1);
	for (auto _ : state) {
		uint16_t n = gsp_sec_seal(kr, &tx, in.data(), (uint16_t)in.size(),
					  out.data());
		benchmark::DoNotOptimize(n);
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * size);
	gsp_keyring_destroy(kr);
}

static void
bm_open(benchmark::State &state, enum gsp_cipher c)
{
	uint16_t size = (uint16_t)state.range(0);
	gsp_keyring *kr = make_keyring(c);
	std::vector<uint8_t> in, sealed(size), out(size);
	gsp_sec_tx tx;
	gsp_sec_rx info;
	uint16_t out_len = 0;

	if (kr == nullptr) {
		state.SkipWithError("cipher not available here");
		return;
	}
	in = plain_datagram(size - GSP_SEC_OVERHEAD);
	gsp_sec_tx_init(&tx, 1);
	if (gsp_sec_seal(kr, &tx, in.data(), (uint16_t)in.size(),
			 sealed.data()) != size) {
		state.SkipWithError("seal");
		return;
	}
	// open does not consult the replay window: the same datagram is a
	// full verification and decryption every time
	for (auto _ : state) {
		int rc = gsp_sec_open(kr, gsp_cluster_hash("bench"),
				      sealed.data(), size, out.data(),
				      &out_len, &info);
		if (rc != GSP_RX_OK) {
			state.SkipWithError("open failed");
			break;
		}
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * size);
	gsp_keyring_destroy(kr);
}

static void
BM_SealAes(benchmark::State &state)
{
	bm_seal(state, GSP_CIPHER_AES256GCM);
}

static void
BM_OpenAes(benchmark::State &state)
{
	bm_open(state, GSP_CIPHER_AES256GCM);
}

static void
BM_SealChacha(benchmark::State &state)
{
	bm_seal(state, GSP_CIPHER_CHACHA20POLY1305);
}

static void
BM_OpenChacha(benchmark::State &state)
{
	bm_open(state, GSP_CIPHER_CHACHA20POLY1305);
}

#define SEC_SIZES Arg(64)->Arg(256)->Arg(512)->Arg(1024)->Arg(1472)->Arg(8972)
BENCHMARK(BM_SealAes)->SEC_SIZES;
BENCHMARK(BM_OpenAes)->SEC_SIZES;
BENCHMARK(BM_SealChacha)->SEC_SIZES;
BENCHMARK(BM_OpenChacha)->SEC_SIZES;

// ---- replay window: check + accept of one datagram ----

// Arg 0: in order (seq + 1 each); arg 1: pairs swapped (1, 0, 3, 2, ...),
// so every other datagram lands below the top, inside the window.
static void
BM_ReplayCheckAccept(benchmark::State &state)
{
	bool swapped = state.range(0) != 0;
	gsp_replay r = {};
	gsp_sec_rx rx = {};
	uint64_t i = 1000;

	rx.sender_id = bench_sender;
	rx.generation = 1;
	for (auto _ : state) {
		rx.seq = swapped ? (i ^ 1) : i;
		i++;
		if (gsp_replay_admit(&r, &rx, 1) != GSP_RX_OK) {
			state.SkipWithError("replay rejected a fresh seq");
			break;
		}
		benchmark::ClobberMemory();
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReplayCheckAccept)->Arg(0)->Arg(1);

// ---- the core's receive path, plaintext vs authenticated ----

static const uint32_t rx_members = 1000;
static const size_t rx_ring = 1024;	// pre-built datagrams per refill

// One ACK2 datagram of cap bytes at most, states of members first, first+1,
// ... (wrapping in [100, 100 + rx_members)) at version; *next: the member
// after the last one put.
static std::vector<uint8_t>
ack2_datagram(uint16_t cap, uint64_t first, uint64_t version, uint64_t *next)
{
	std::vector<uint8_t> buf(cap);
	gsp_wire_writer w;
	uint64_t id = first;

	gsp_wire_begin(&w, buf.data(), cap, GSP_MSG_ACK2,
		       gsp_cluster_hash("bench"), bench_sender);
	for (uint32_t i = 0; i < rx_members; i++) {
		gsp_wire_state st = bench_state_for(id, version);

		if (!gsp_wire_put_state(&w, &st))
			break;
		id = 100 + (id - 100 + 1) % rx_members;
	}
	buf.resize(gsp_wire_finish(&w));
	*next = id;
	return buf;
}

// Both nodes know members 100..1099 at version 1 (one pass of ACK2s).
static void
fill_node(gsp_node *node, gsp_keyring *sender_kr, gsp_sec_tx *tx)
{
	gsp_addr src = { 0x0a000002, 7946 };
	std::vector<uint8_t> sealed(1472);
	uint64_t id = 100, next;

	do {
		auto p = ack2_datagram(1472 - GSP_SEC_OVERHEAD, id, 1, &next);
		if (sender_kr != nullptr) {
			uint16_t n = gsp_sec_seal(sender_kr, tx, p.data(),
						  (uint16_t)p.size(),
						  sealed.data());
			gsp_node_rx(node, &src, sealed.data(), n, 1, NULL);
		} else {
			gsp_node_rx(node, &src, p.data(), (uint16_t)p.size(),
				    1, NULL);
		}
		if (next < id)
			break;		/* wrapped: every member was sent */
		id = next;
	} while (id != 100);
}

static uint64_t
rx_dropped(const gsp_node *node)
{
	gsp_node_counters c;
	uint64_t d = 0;

	gsp_node_counters_read(node, &c);
	for (unsigned int i = 0; i < GSP_RX_ERR_MAX; i++)
		d += c.rx_drop[i];
	return d;
}

enum rx_kind { RX_ACK2, RX_SYN };

// A ring of rx_ring datagrams the node has not seen: plain ones for the
// plaintext node, each sealed with the next sequence number for the
// authenticated one (the replay window would drop a datagram received
// twice). ACK2: every datagram carries newer heartbeats (version grows),
// a steady-state merge. SYN: a digest window of 60 members, answered
// with an ACK (sealed too on the authenticated node).
static void
build_ring(rx_kind kind, gsp_keyring *kr, gsp_sec_tx *tx, uint64_t *version,
	   uint64_t *first, const std::vector<uint8_t> &syn,
	   std::vector<std::vector<uint8_t>> &ring)
{
	for (size_t i = 0; i < rx_ring; i++) {
		std::vector<uint8_t> p;

		if (kind == RX_ACK2) {
			uint64_t next;

			// same bytes for both nodes: leave room for the seal
			p = ack2_datagram(1472 - GSP_SEC_OVERHEAD, *first,
					  ++*version, &next);
			*first = next;
		} else {
			p = syn;
		}
		if (kr != nullptr) {
			std::vector<uint8_t> s(p.size() + GSP_SEC_OVERHEAD);

			gsp_sec_seal(kr, tx, p.data(), (uint16_t)p.size(),
				     s.data());
			p.swap(s);
		}
		ring[i].swap(p);
	}
}

// Arg 0: plaintext node; 1: AES-256-GCM; 2: ChaCha20-Poly1305.
static void
bm_node_rx(benchmark::State &state, rx_kind kind)
{
	int mode = (int)state.range(0);
	gsp_keyring *kr = mode == 1 ? make_keyring(GSP_CIPHER_AES256GCM) :
		mode == 2 ? make_keyring(GSP_CIPHER_CHACHA20POLY1305) : nullptr;
	gsp_addr src = { 0x0a000002, 7946 };
	std::vector<std::vector<uint8_t>> ring(rx_ring);
	std::vector<uint8_t> syn(1472);
	uint64_t version = 1, first = 100, now = 2, bytes = 0;
	uint64_t tx_packets, tx_bytes;
	gsp_sec_tx tx;
	gsp_node *node;
	size_t k = 0;

	if (mode != 0 && kr == nullptr) {
		state.SkipWithError("cipher not available here");
		return;
	}
	node = bench_make_node(rx_members + 16, kr);
	gsp_sec_tx_init(&tx, 1);
	fill_node(node, kr, &tx);
	if (kind == RX_SYN) {
		// the 60 members with the lowest digest keys, range [0, key of
		// the 60th], at the version the node has: answered with an ACK
		// of what the sender lacks (its own state) and no requests
		std::vector<std::pair<uint64_t, uint64_t>> keyed;
		gsp_wire_writer w;

		for (uint64_t id = 100; id < 100 + rx_members; id++)
			keyed.emplace_back(gsp_id_key(id), id);
		std::sort(keyed.begin(), keyed.end());
		gsp_wire_begin(&w, syn.data(), 1472 - GSP_SEC_OVERHEAD,
			       GSP_MSG_SYN, gsp_cluster_hash("bench"),
			       bench_sender);
		gsp_wire_set_range(&w, 0, keyed[59].first);
		for (uint64_t i = 0; i < 60; i++) {
			gsp_digest d = { keyed[i].second, 1, 1 };
			gsp_wire_put_digest(&w, &d);
		}
		syn.resize(gsp_wire_finish(&w));
	}
	build_ring(kind, kr, &tx, &version, &first, syn, ring);
	tx_packets = bench_tx_packets;
	tx_bytes = bench_tx_bytes;
	for (auto _ : state) {
		if (k == rx_ring) {
			state.PauseTiming();
			build_ring(kind, kr, &tx, &version, &first, syn, ring);
			k = 0;
			state.ResumeTiming();
		}
		const std::vector<uint8_t> &p = ring[k++];
		gsp_node_rx(node, &src, p.data(), (uint16_t)p.size(), ++now, NULL);
		bytes += p.size();
	}
	if (rx_dropped(node) != 0)
		state.SkipWithError("the node dropped benchmark datagrams");
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(bytes);
	state.counters["rx_bytes"] = benchmark::Counter(
		(double)bytes / (double)state.iterations());
	state.counters["tx_pkts"] = benchmark::Counter(
		(double)(bench_tx_packets - tx_packets) /
		(double)state.iterations());
	state.counters["tx_bytes"] = benchmark::Counter(
		(double)(bench_tx_bytes - tx_bytes) /
		(double)state.iterations());
	gsp_node_destroy(node);
	gsp_keyring_destroy(kr);
}

// An ACK2 full of member states (1,432 bytes plain, 1,472 sealed): merge.
static void
BM_NodeRxAck2(benchmark::State &state)
{
	bm_node_rx(state, RX_ACK2);
}
BENCHMARK(BM_NodeRxAck2)->Arg(0)->Arg(1)->Arg(2);

// A SYN digest packet (60 digests), answered: the reply is sealed too.
static void
BM_NodeRxSyn(benchmark::State &state)
{
	bm_node_rx(state, RX_SYN);
}
BENCHMARK(BM_NodeRxSyn)->Arg(0)->Arg(1)->Arg(2);

BENCHMARK_MAIN();
