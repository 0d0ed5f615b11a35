// SPDX-License-Identifier: BSD-3-Clause
// What the benchmark programs share: a node to feed and member states to
// feed it. Packets go nowhere (each program defines the io seam).
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <cstdio>

extern "C" {
#include "gsp_core.h"
#include "gsp_wire.h"
}

// A node of cluster "bench" with room for capacity members; kr NULL:
// plaintext.
static inline gsp_node *
bench_make_node(uint32_t capacity, const gsp_keyring *kr = nullptr)
{
	gsp_node_params p = {};
	int err;

	std::snprintf(p.cluster, sizeof(p.cluster), "bench");
	std::snprintf(p.name, sizeof(p.name), "self");
	p.generation = 1;
	p.addr = { 0x0a000001, 7946 };
	p.capacity = capacity;
	p.gossip_interval_ns = 100000000;
	p.fanout = 2;
	p.phi_suspect = 5;
	p.phi_convict = 8;
	p.forget_ns = 3600ull * 1000000000ull;
	p.max_payload = 1472;
	p.leave_rounds = 1;
	p.rng_seed = 1;
	p.keyring = kr;
	return gsp_node_create(&p, &err);
}

// Member id's state at version (its heartbeat too).
static inline gsp_wire_state
bench_state_for(uint64_t id, uint64_t version)
{
	gsp_wire_state st = {};

	st.id = id;
	st.generation = 1;
	st.heartbeat = version;
	st.version = version;
	st.ip = 0x0a000000u + (uint32_t)id;
	st.port = 7946;
	std::snprintf(st.name, sizeof(st.name), "node%llu",
		      (unsigned long long)id);
	return st;
}

#endif // BENCH_COMMON_H
