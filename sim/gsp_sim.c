/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossip-sim: N protocol cores on one virtual clock and a simulated network
 * (latency + jitter, the shared fault module's loss, delay, duplication,
 * reordering and blocks, partitions, crashes, restarts, paused and slow
 * nodes). See gsp_sim.h.
 *
 * Every scenario starts with a cold join (all nodes at once, knowing only
 * the seeds), then runs its own phase and appends one JSON object to the
 * --json file. Convergence checks use the core's counters (O(1) per node per
 * round); member tables are read only for the app-state check.
 *
 * This file: main, the set-up and the memory check; gsp_sim_int.h lists
 * the others.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "gsp_record.h"
#include "gsp_ids.h"
#include "gsp_names.h"
#include "gsp_sec.h"
#include "gsp_sim_int.h"

/* What SWIM's state may add per member: a partition has every node
 * suspect, then hold down, the other half of the cluster. */
static size_t
gsp_sim_suspect_bytes(const struct gsp_sim_cfg *c)
{
	return (c->scenario_mask & (1u << GSP_SCN_PARTITION)) ?
		gsp_node_bytes_per_suspect() / 2 : 0;
}

/* Ids the catalog has room for: every table's slot count. */
static uint32_t
gsp_sim_catalog_ids(const struct gsp_sim_cfg *c)
{
	return c->capacity > c->n_nodes ? c->capacity : c->n_nodes;
}

/* N tables of `capacity` members, core scratch, the packet pool */
static uint64_t
gsp_sim_estimate(const struct gsp_sim_cfg *c)
{
	uint32_t ids = gsp_sim_catalog_ids(c);

	/* a shared catalog keeps each address's (generation, version) */
	return (uint64_t)c->n_nodes * c->capacity *
		(gsp_node_bytes_per_member(c->auth, true) +
		 gsp_sim_suspect_bytes(c) + GSP_SIM_MEMBER_SLACK) +
		(uint64_t)ids * (gsp_names_bytes_per_name() +
				 gsp_ids_bytes_per_id() + 16) +
		(uint64_t)c->n_nodes * (GSP_SIM_NODE_OVERHEAD +
					gsp_node_bucket_bytes(ids)) +
		(uint64_t)c->max_inflight * c->max_payload +
		gsp_watch_bytes(c->n_nodes);
}

static int
gsp_sim_mem_check(const struct gsp_sim_cfg *c, uint64_t est)
{
	uint64_t avail = gsp_sim_mem_available();
	double gib = 1024.0 * 1024.0 * 1024.0;

	fprintf(stderr, "gossip-sim: N=%u: estimated memory %.2f GiB "
		"(%u nodes x %u members x (%zu+%zu+%u) B/member + (%u+%zu) "
		"KiB/node + packet pool); MemAvailable %.2f GiB\n", c->n_nodes,
		(double)est / gib, c->n_nodes, c->capacity,
		gsp_node_bytes_per_member(c->auth, true),
		gsp_sim_suspect_bytes(c), GSP_SIM_MEMBER_SLACK,
		GSP_SIM_NODE_OVERHEAD / 1024,
		gsp_node_bucket_bytes(gsp_sim_catalog_ids(c)) / 1024,
		(double)avail / gib);
	if (c->no_mem_check || avail == 0 || est <= avail)
		return 0;
	fprintf(stderr, "gossip-sim: refusing N=%u: needs about %.2f GiB but "
		"only %.2f GiB is available (MemAvailable); use fewer nodes "
		"(or --no-mem-check to try anyway)\n", c->n_nodes,
		(double)est / gib, (double)avail / gib);
	return -ENOMEM;
}

/* One cluster key for every node; its value does not matter. */
static int
gsp_sim_keyring(struct gsp_sim *s)
{
	enum gsp_cipher c = gsp_cipher_available(GSP_CIPHER_AES256GCM) ?
		GSP_CIPHER_AES256GCM : GSP_CIPHER_CHACHA20POLY1305;
	uint8_t key[GSP_KEY_LEN];
	uint32_t id;

	for (unsigned int i = 0; i < GSP_KEY_LEN; i++)
		key[i] = (uint8_t)gsp_sim_stream(s->c.seed, 6 + i);
	if (gsp_keyring_create(c, &s->keyring) != 0)
		return -1;
	return gsp_keyring_add(s->keyring, key, &id);
}

static void
gsp_sim_free(struct gsp_sim *s)
{
	if (s->nodes != NULL)
		for (uint32_t i = 0; i < s->c.n_nodes; i++)
			gsp_node_destroy(s->nodes[i].node);
	free(s->nodes);
	gsp_ids_destroy(s->ids);
	gsp_keyring_destroy(s->keyring);
	gsp_watch_free(&s->w);
	gsp_sim_heap_free(&s->heap);
	for (uint32_t i = 0; i < s->n_chunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s->pkts);
	free(s->free_pkts);
}

int
main(int argc, char **argv)
{
	static struct gsp_sim sim;
	struct gsp_sim *s = &sim;
	struct gsp_sim_result jr, r;
	uint64_t est;
	uint32_t n;
	int rc = 1;

	if (gsp_sim_parse(argc, argv, &s->c) != 0)
		return 2;
	gsp_harness_huge_heap(argv);
	clock_gettime(CLOCK_MONOTONIC, &s->wall0);
	est = gsp_sim_estimate(&s->c);
	if (gsp_sim_mem_check(&s->c, est) != 0)
		return GSP_SIM_EXIT_MEM;
	n = s->c.n_nodes;
	memset(&jr, 0, sizeof(jr));
	s->interval_ns = (uint64_t)s->c.interval_ms * NS_PER_MS;
	s->rng_net = gsp_sim_stream(s->c.seed, 1);
	s->rng_sched = gsp_sim_stream(s->c.seed, 2);
	s->rng_scn = gsp_sim_stream(s->c.seed, 3);
	s->rng_fault = gsp_sim_stream(s->c.seed, 4);
	s->rng_slow = gsp_sim_stream(s->c.seed, 5);
	s->stall.node = UINT32_MAX;
	gsp_sim_host_init(s);
	if (s->c.auth && gsp_sim_keyring(s) != 0)
		return -ENOMEM;
	s->nodes = calloc(n, sizeof(*s->nodes));
	/* the cluster's ids (a restart keeps its node's id), which a
	 * --capacity below N must still hold: every node inserts its own.
	 * The catalog's size is every table's slot count, so no larger */
	s->ids = gsp_ids_create("sim", gsp_sim_catalog_ids(&s->c), NULL);
	/* every node has one tick pending (plus voided ones, which a tick
	 * moved forward leaves: it gives way when the heap is full) and
	 * every packet one delivery */
	if (s->nodes == NULL || s->ids == NULL ||
	    gsp_sim_heap_init(&s->heap, 2 * n + s->c.max_inflight + 16) != 0 ||
	    gsp_sim_pool_init(s) != 0) {
		fprintf(stderr, "gossip-sim: out of memory\n");
		goto out;
	}
	/* cold start: everyone within one interval of T0 */
	for (uint32_t i = 0; i < n; i++)
		if (gsp_sim_node_start(s, i, 1, GSP_SIM_T0 +
				       gsp_sim_rand_below(&s->rng_sched,
							  s->interval_ns)) != 0)
			goto out;
	if (gsp_sim_watch_init(s) != 0)
		goto out;
	gsp_sim_log(s, "%u nodes up, %.1f MiB RSS after creation, wall %.2f s",
		    n, (double)gsp_sim_peak_rss() / (1024.0 * 1024.0),
		    gsp_sim_wall_s(s));

	s->c.scenario = GSP_SCN_JOIN;
	gsp_sim_join(s, &jr);
	rc = 0;
	if (s->c.scenario_mask & (1u << GSP_SCN_JOIN))
		rc |= gsp_sim_write_json(s, &jr, est);
	for (uint32_t k = 0; k < s->c.n_scenarios; k++) {
		enum gsp_scn sc = s->c.scenarios[k];

		if (sc == GSP_SCN_JOIN)
			continue;
		/* the join part is shared; a step that cannot run says so */
		r = (struct gsp_sim_result){
			.join_ok = jr.join_ok, .join_t = jr.join_t,
			.join_fp = jr.join_fp,
		};
		s->c.scenario = sc;
		/* fp and cpuload count accusations, not convergence: they
		 * also run after a join that never converged (it says so) */
		if ((jr.join_ok || sc == GSP_SCN_FP || sc == GSP_SCN_CPULOAD) &&
		    !s->wall_limited) {
			gsp_sim_settle(s);
			gsp_sim_scenario_run(s, &r);
		}
		if (r.t_end < r.t_start)
			r.t_end = r.t_start;
		rc |= gsp_sim_write_json(s, &r, est);
		json_decref(r.curve);
	}
	if (s->wall_limited)
		gsp_sim_log(s, "stopped early (%s) at simulated %.3f s",
			    s->mem_limited ? "memory" : "--max-wall-s",
			    (double)(s->now - GSP_SIM_T0) / NS_PER_S);
	if (s->pool_drops + s->heap_drops > 0)
		gsp_sim_log(s, "%" PRIu64 " packets dropped: more than "
			    "--max-inflight %u in flight",
			    s->pool_drops + s->heap_drops, s->c.max_inflight);
	rc = rc == 0 ? 0 : 1;
out:
	json_decref(jr.curve);
	gsp_sim_free(s);
	return rc;
}
