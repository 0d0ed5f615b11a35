/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulator's record: one JSON object per scenario, built with the
 * harness's record (harness/gsp_record.h) so that the emulation's has the
 * same names, and the digest that pins a run.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_record.h"
#include "gsp_sec.h"
#include "gsp_sim_int.h"
#include "gsp_watch.h"

/* -------------------------------- JSON -------------------------------- */

/* the record under construction (harness/gsp_record.h) */
struct gsp_json {
	json_t *o;
};

static void
gsp_json_str(struct gsp_json *j, const char *k, const char *v)
{
	gsp_record_str(j->o, k, v);
}

static void
gsp_json_u64(struct gsp_json *j, const char *k, uint64_t v)
{
	gsp_record_u64(j->o, k, v);
}

static void
gsp_json_bool(struct gsp_json *j, const char *k, bool v)
{
	gsp_record_bool(j->o, k, v);
}

static void
gsp_json_num(struct gsp_json *j, const char *k, double v)
{
	gsp_record_num(j->o, k, v);
}

/* a time in seconds relative to a start, or null when never reached */
static void
gsp_json_time(struct gsp_json *j, const char *k, bool reached, uint64_t t,
	      uint64_t t0)
{
	gsp_json_num(j, k, reached ? (double)(t - t0) / NS_PER_S : NAN);
}

static void
gsp_json_rounds(struct gsp_json *j, const struct gsp_sim *s, const char *k,
		bool reached, uint64_t dt)
{
	if (reached)
		gsp_json_u64(j, k, gsp_sim_rounds(s, dt));
	else
		gsp_json_num(j, k, NAN);
}

/* when the nodes met the scenario's goal (harness/gsp_watch.h) */
static void
gsp_json_curve(struct gsp_json *j, const char *k,
	       const struct gsp_sim_result *r)
{
	json_object_set(j->o, k, r->curve != NULL ? r->curve : json_null());
}

/* The core's counters summed over the nodes now (harness); returns the
 * highest awareness now. */
uint64_t
gsp_sim_det_sum(const struct gsp_sim *s, struct gsp_node_counters *sum)
{
	struct gsp_node_counters c;
	uint64_t aw = 0;

	memset(sum, 0, sizeof(*sum));
	for (uint32_t i = 0; i < s->c.n_nodes; i++) {
		gsp_node_counters_read(s->nodes[i].node, &c);
		gsp_harness_counters_add(sum, &c);
		if (c.awareness > aw)
			aw = c.awareness;
	}
	return aw;
}

static uint64_t
gsp_sim_fnv(uint64_t h, uint64_t v)
{
	for (int b = 0; b < 8; b++) {
		h ^= (v >> (8 * b)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Every node's running range hashes and view digest against its table
 * (gsp_node_view_check): a change that misses them shows here. */
static bool
gsp_sim_view_check(const struct gsp_sim *s)
{
	for (uint32_t i = 0; i < s->c.n_nodes; i++)
		if (!gsp_node_view_check(s->nodes[i].node)) {
			fprintf(stderr, "gossip-sim: node %u: range hashes "
				"disagree with its table\n", i);
			return false;
		}
	return true;
}

/* FNV-1a over the final counters of every node and the network totals */
static uint64_t
gsp_sim_digest(const struct gsp_sim *s, const struct gsp_sim_result *r)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	struct gsp_node_counters c;

	for (uint32_t i = 0; i < s->c.n_nodes; i++) {
		const struct gsp_sim_node *sn = &s->nodes[i];
		const uint64_t *w = (const uint64_t *)&c;

		gsp_node_counters_read(sn->node, &c);
		for (size_t k = 0; k < sizeof(c) / sizeof(uint64_t); k++)
			h = gsp_sim_fnv(h, w[k]);
		h = gsp_sim_fnv(h, sn->tx_pkts);
		h = gsp_sim_fnv(h, sn->tx_bytes);
		h = gsp_sim_fnv(h, sn->rx_pkts);
		h = gsp_sim_fnv(h, sn->rx_bytes);
		h = gsp_sim_fnv(h, sn->generation);
	}
	h = gsp_sim_fnv(h, s->pkts_sent);
	h = gsp_sim_fnv(h, s->pkts_delivered);
	for (unsigned int k = 0; k < GSP_FAULT_C_MAX; k++)
		h = gsp_sim_fnv(h, s->fault_ctr[k]);
	h = gsp_sim_fnv(h, s->part_drops);
	h = gsp_sim_fnv(h, s->pool_drops);
	h = gsp_sim_fnv(h, s->events);
	h = gsp_sim_fnv(h, s->now);
	h = gsp_sim_fnv(h, r->join_t);
	h = gsp_sim_fnv(h, r->t_end);
	return h;
}

double
gsp_sim_per_s(uint64_t v, double sim_s)
{
	return sim_s > 0 ? (double)v / sim_s : 0;
}

int
gsp_sim_write_json(struct gsp_sim *s, const struct gsp_sim_result *r,
		   uint64_t est_bytes)
{
	const struct gsp_sim_cfg *c = &s->c;
	struct gsp_json j;
	uint64_t dt = r->t_end - r->t_start;
	char hex[24], spec[1024], key[48];
	struct gsp_node_counters all;
	struct gsp_fp_sum fs;
	int ret;

	j.o = gsp_record_new("sim", gsp_scn_name(c->scenario));
	if (j.o == NULL)
		return -ENOMEM;
	gsp_json_u64(&j, "nodes", c->n_nodes);
	gsp_json_u64(&j, "seed", c->seed);
	gsp_json_u64(&j, "interval_ms", c->interval_ms);
	gsp_json_num(&j, "loss", c->fault.drop);
	if (gsp_fault_format(&c->fault, spec, sizeof(spec)) != 0)
		snprintf(spec, sizeof(spec), "?");
	gsp_json_str(&j, "fault", spec);
	gsp_record_detector(j.o, c->detector);
	gsp_json_str(&j, "auth", s->keyring == NULL ? "plaintext" :
		     gsp_cipher_name(gsp_keyring_cipher(s->keyring)));
	gsp_json_num(&j, "probe_interval_ms",
		     (double)c->probe_interval_ns / NS_PER_MS);
	gsp_json_num(&j, "probe_timeout_ms",
		     (double)c->probe_timeout_ns / NS_PER_MS);
	gsp_json_u64(&j, "indirect_probes", c->indirect_probes);
	gsp_json_u64(&j, "suspicion_mult", c->suspicion_mult);
	gsp_json_u64(&j, "early_ticks", s->early_ticks);
	gsp_json_u64(&j, "fanout", c->fanout);
	gsp_json_u64(&j, "seeds", c->n_seeds);
	gsp_json_u64(&j, "latency_us", c->latency_us);
	gsp_json_u64(&j, "jitter_us", c->jitter_us);
	gsp_json_u64(&j, "max_payload", c->max_payload);
	gsp_json_u64(&j, "max_rounds", c->max_rounds);
	gsp_json_u64(&j, "syn_packets", c->syn_packets);
	gsp_json_u64(&j, "ack_states", c->ack_states);
	gsp_json_bool(&j, "converged", r->join_ok);
	gsp_json_time(&j, "join_s", r->join_ok, r->join_t, GSP_SIM_T0);
	gsp_json_rounds(&j, s, "join_rounds", r->join_ok,
			r->join_t - GSP_SIM_T0);
	gsp_record_fp_pairs(j.o, "join_false_positives", &r->join_fp);
	gsp_json_bool(&j, "ok", r->ok);
	gsp_json_time(&j, "time_s", r->ok, r->t_end, r->t_start);
	gsp_json_rounds(&j, s, "rounds", r->ok, dt);
	/* steady, fp, cpuload: what the window cost */
	if (r->has_traffic)
		gsp_record_traffic(j.o, &r->traffic);

	switch (c->scenario) {
	case GSP_SCN_JOIN:
		gsp_json_u64(&j, "distinct_sizes", r->distinct_sizes);
		gsp_json_curve(&j, "informed_curve", r);
		break;
	case GSP_SCN_DISSEMINATE:
		gsp_json_u64(&j, "origin", r->origin);
		gsp_json_num(&j, "bound_rounds",
			     log((double)c->n_nodes) / log(3.0) +
			     log(log((double)c->n_nodes)));
		gsp_json_curve(&j, "informed_curve", r);
		break;
	case GSP_SCN_DETECT:
		gsp_json_u64(&j, "crashed", r->crashed);
		gsp_record_detection(j.o, &r->subject, 1);
		gsp_json_time(&j, "rejoin_s", r->rejoin_ok, r->rejoin_dt, 0);
		gsp_json_curve(&j, "informed_curve", r);
		break;
	case GSP_SCN_STEADY:
		gsp_json_u64(&j, "measure_rounds", c->measure_rounds);
		gsp_json_num(&j, "syn_per_node_round", r->syn_per_node_round);
		gsp_json_num(&j, "ack_per_node_round", r->ack_per_node_round);
		gsp_json_num(&j, "ack2_per_node_round", r->ack2_per_node_round);
		gsp_json_num(&j, "merged_per_node_round",
			     r->merged_per_node_round);
		gsp_json_num(&j, "core_wall_us_per_node_s",
			     r->core_us_per_node_s);
		break;
	case GSP_SCN_PARTITION:
		gsp_json_num(&j, "partition_s", c->partition_s);
		gsp_json_bool(&j, "split_detected", r->split_ok);
		gsp_json_time(&j, "split_detect_s", r->split_ok, r->split_dt, 0);
		gsp_json_time(&j, "heal_time_s", r->ok, r->t_end, r->t_start);
		gsp_json_rounds(&j, s, "heal_rounds", r->ok, dt);
		gsp_json_curve(&j, "informed_curve", r);
		break;
	case GSP_SCN_FP:
		gsp_json_num(&j, "duration_s", c->duration_s);
		break;
	case GSP_SCN_STALL: {
		const struct gsp_sim_stall *st = &r->stall;

		gsp_json_u64(&j, "stalled", r->stalled);
		gsp_json_num(&j, "stall_s", c->stall_s);
		gsp_json_num(&j, "after_s", c->after_s);
		/* from the pause: others notice it, as they should */
		gsp_json_time(&j, "stall_suspect_s", st->suspect_t != 0,
			      st->suspect_t, st->t_pause);
		gsp_json_time(&j, "stall_down_s", st->down_t != 0, st->down_t,
			      st->t_pause);
		gsp_json_time(&j, "stall_down_all_s", st->down_all_t != 0,
			      st->down_all_t, st->t_pause);
		gsp_json_u64(&j, "stall_down_at_resume", st->down_at_resume);
		gsp_json_u64(&j, "stall_bad_end", st->n_bad);
		gsp_json_u64(&j, "stall_views_bad_end", st->views_bad_end);
		gsp_json_u64(&j, "stall_held", st->held);
		gsp_json_u64(&j, "stall_dropped", st->dropped);
		gsp_json_u64(&j, "stall_queue", c->stall_queue);
		/* from the resume: alive again at every other node */
		gsp_json_bool(&j, "alive_again", st->alive_t != 0);
		gsp_json_time(&j, "alive_again_s", st->alive_t != 0,
			      st->alive_t, st->t_resume);
		/* the key figure: accusations by the resumed node itself */
		gsp_fp_sum(&s->w.fp_resumed, s->now, &fs);
		gsp_record_resumed(j.o, &fs);
		break;
	}
	case GSP_SCN_CPULOAD:
		gsp_json_num(&j, "duration_s", c->duration_s);
		gsp_json_num(&j, "slow_frac", c->slow_frac);
		gsp_json_num(&j, "slow_ms", c->slow_ms);
		gsp_json_u64(&j, "slow_nodes", r->n_slow);
		gsp_json_u64(&j, "slow_events", s->held_events);
		gsp_json_num(&j, "slow_delay_mean_ms", s->held_events ?
			     (double)s->held_ns / s->held_events / NS_PER_MS :
			     0);
		gsp_json_u64(&j, "fp_about_slow", s->fp_about_slow);
		gsp_json_u64(&j, "fp_by_slow", s->fp_by_slow);
		gsp_json_time(&j, "recovered_s", r->rejoin_ok, r->rejoin_dt, 0);
		break;
	default:
		break;
	}
	/* accusations of live members (harness/gsp_fp.h) */
	if (r->fp_taken)
		fs = r->fp;
	else
		gsp_fp_sum(c->scenario == GSP_SCN_JOIN ? &s->w.fp_join :
			   &s->w.fp, s->now, &fs);
	gsp_record_fp(j.o, &fs);
	gsp_record_detector_counters(j.o, &r->det);
	/* the cores' own counters, whole run, all nodes (as the emulation) */
	gsp_harness_counters_sum(&s->host, &all);
	gsp_record_core(j.o, "core", &all);
	gsp_json_u64(&j, "awareness_max_end", r->awareness_max);
	/* a gauge: its mean over the nodes now */
	gsp_json_num(&j, "probe_rtt_us_mean_end",
		     (double)all.probe_rtt_us / c->n_nodes);
	gsp_json_u64(&j, "packets_sent", s->pkts_sent);
	gsp_json_u64(&j, "packets_delivered", s->pkts_delivered);
	gsp_json_u64(&j, "packets_lost", s->fault_ctr[GSP_FAULT_C_DROPPED]);
	for (unsigned int k = 0; k < GSP_FAULT_C_MAX; k++) {
		snprintf(key, sizeof(key), "fault_%s", gsp_fault_ctr_name(k));
		gsp_json_u64(&j, key, s->fault_ctr[k]);
	}
	gsp_json_u64(&j, "partition_drops", s->part_drops);
	gsp_json_u64(&j, "pool_drops", s->pool_drops + s->heap_drops);
	{
		/* legitimate traffic never reaches a [limits] bound */
		uint64_t hits = s->limit_hits_gone;
		uint64_t rate_limited = s->rate_limited_gone;
		uint64_t over_limit = s->over_limit_gone;

		for (uint32_t i = 0; i < s->c.n_nodes; i++)
			gsp_sim_limits_add(s->nodes[i].node, &hits,
					   &rate_limited, &over_limit);
		gsp_json_u64(&j, "limit_hits", hits);
		gsp_json_u64(&j, "drop_rate_limited", rate_limited);
		gsp_json_u64(&j, "drop_over_limit", over_limit);
	}
	gsp_json_u64(&j, "dead_drops", s->dead_drops);
	gsp_json_u64(&j, "inflight_peak", s->inflight_peak);
	gsp_json_u64(&j, "events", s->events);
	gsp_json_num(&j, "sim_time_s",
		     (double)(s->now - GSP_SIM_T0) / NS_PER_S);
	gsp_json_bool(&j, "wall_limited", s->wall_limited);
	gsp_json_bool(&j, "memory_limited", s->mem_limited);
	gsp_json_u64(&j, "bytes_per_member",
		     gsp_node_bytes_per_member(s->c.auth, true));
	gsp_json_u64(&j, "est_memory_bytes", est_bytes);
	gsp_json_u64(&j, "peak_rss_bytes", gsp_sim_peak_rss());
	gsp_json_num(&j, "wall_s", gsp_sim_wall_s(s));
	gsp_json_bool(&j, "view_hashes_ok", gsp_sim_view_check(s));
	snprintf(hex, sizeof(hex), "%016" PRIx64, gsp_sim_digest(s, r));
	gsp_json_str(&j, "digest", hex);
	ret = gsp_record_write(j.o, c->json_path, true);
	if (ret != 0 && c->json_path != NULL)
		fprintf(stderr, "gossip-sim: %s: %s\n", c->json_path,
			strerror(-ret));
	return ret;
}
