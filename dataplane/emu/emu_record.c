/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulation's record (docs/EMULATION.md), built with the harness's
 * JSON record (harness/gsp_record.h) so that the simulator's and the
 * emulation's share their names, and the process's own measures.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <rte_lcore.h>

#include "emu_int.h"
#include "port_uplink.h"
#include "gsp_fp.h"
#include "gsp_log.h"
#include "gsp_record.h"
#include "gsp_sec.h"

uint64_t
gsp_emu_proc_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	uint64_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			kb = strtoull(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb * 1024;
}

uint64_t
gsp_emu_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
		(uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* The vnodes' tick lateness over the window, merged over the lcores. */
static void
gsp_emu_write_timing(json_t *rec, const struct gsp_emu *emu, double dt,
		     const struct gsp_emu_snap *a, const struct gsp_emu_snap *b)
{
	static const double pct[] = { 0.5, 0.9, 0.99, 0.999 };
	static const char *const pname[] = { "p50", "p90", "p99", "p999" };
	uint64_t ticks = 0, sum = 0, max = 0, *h;
	json_t *o = json_object();
	unsigned int lcore;

	h = calloc(GSP_EMU_LAT_BUCKETS, sizeof(*h));
	RTE_LCORE_FOREACH(lcore) {
		const struct gsp_emu_lat *l = &emu->lat[lcore];

		ticks += __atomic_load_n(&l->ticks, __ATOMIC_RELAXED);
		sum += __atomic_load_n(&l->sum_ns, __ATOMIC_RELAXED);
		max = RTE_MAX(max, __atomic_load_n(&l->max_ns,
						   __ATOMIC_RELAXED));
		for (unsigned int k = 0; h != NULL && k < GSP_EMU_LAT_BUCKETS;
		     k++)
			h[k] += __atomic_load_n(&l->hist[k], __ATOMIC_RELAXED);
	}
	gsp_record_u64(o, "ticks", ticks);
	gsp_record_num_if(o, "ticks_per_s", ticks / dt, dt > 0);
	gsp_record_num_if(o, "tick_late_us_mean", sum / 1e3 / ticks, ticks > 0);
	for (size_t p = 0; p < RTE_DIM(pct); p++) {
		uint64_t want = (uint64_t)ceil(pct[p] * ticks), acc = 0;
		double edge = -1;
		char key[32];

		for (unsigned int k = 0; h != NULL && k < GSP_EMU_LAT_BUCKETS;
		     k++) {
			acc += h[k];
			if (acc >= want && want > 0) {
				edge = gsp_emu_lat_edge(k);
				break;
			}
		}
		snprintf(key, sizeof(key), "tick_late_us_%s", pname[p]);
		gsp_record_num_if(o, key, edge, edge >= 0);
	}
	gsp_record_num_if(o, "tick_late_us_max", max / 1e3, ticks > 0);
	gsp_record_num_if(o, "switched_pps", (b->forwarded - a->forwarded) / dt,
			  dt > 0);
	/* of the lcores' capacity: near 1, the machine is the limit */
	gsp_record_num_if(o, "cpu_util", (double)(b->cpu_us - a->cpu_us) /
			  1e6 / dt / emu->n_lcores, dt > 0);
	json_object_set_new(rec, "timing", o);
	free(h);
}

/* The uplink's counters (--uplink), null without one. */
static void
gsp_emu_write_uplink(json_t *sw_o, const struct gsp_dp *dp,
		     const struct gsp_switch_stats *sw)
{
	struct gsp_uplink_stats us;
	json_t *o;

	if (!gsp_switch_uplink_stats(dp->sw, &us)) {
		json_object_set_new(sw_o, "uplink", json_null());
		return;
	}
	o = json_object();
	gsp_record_u64(o, "out", sw->uplink_out);
	gsp_record_u64(o, "out_dropped", sw->uplink_out_dropped);
	gsp_record_u64(o, "tx", us.tx);
	gsp_record_u64(o, "tx_refused", us.tx_refused);
	gsp_record_u64(o, "in", sw->uplink_in);
	gsp_record_u64(o, "in_unknown", sw->uplink_in_unknown);
	gsp_record_u64(o, "in_flood", sw->uplink_in_flood);
	json_object_set_new(sw_o, "uplink", o);
}

/* The switch's counters, summed over the lcores, and its faults. */
static void
gsp_emu_write_switch(json_t *rec, const struct gsp_dp *dp)
{
	struct gsp_switch_stats sw = { 0 };
	struct gsp_switch_fstats fs;
	json_t *o = json_object(), *fo = json_object();
	unsigned int lcore;

	RTE_LCORE_FOREACH(lcore) {
		const uint64_t *src = (const uint64_t *)&dp->lconf[lcore].sw;
		uint64_t *dst = (uint64_t *)&sw;

		/* the lcores may still be counting */
		for (size_t k = 0; k < sizeof(sw) / sizeof(uint64_t); k++)
			dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
	}
	gsp_switch_fstats(dp->sw, &fs);
	gsp_record_u64(o, "forwarded", sw.forwarded);
	gsp_record_u64(o, "arp_suppressed", sw.arp_suppressed);
	gsp_record_u64(o, "arp_derived", sw.arp_derived);
	gsp_record_u64(o, "garp_absorbed", sw.garp_absorbed);
	gsp_record_u64(o, "arp_unknown", sw.arp_unknown);
	gsp_record_u64(o, "flood_dropped", sw.flood_dropped);
	gsp_record_u64(o, "unknown_dropped", sw.unknown_dropped);
	gsp_record_u64(o, "ring_full", sw.ring_full);
	gsp_record_u64(o, "lost", fs.fault[GSP_FAULT_C_DROPPED]);
	gsp_emu_write_uplink(o, dp, &sw);
	for (unsigned int k = 0; k < GSP_FAULT_C_MAX; k++)
		gsp_record_u64(fo, gsp_fault_ctr_name(k), fs.fault[k]);
	gsp_record_u64(fo, "delay_queued_max", fs.delay_queued_max);
	gsp_record_num_if(fo, "delay_late_us_mean", fs.delay_late_sum_ns / 1e3 /
			  fs.delay_released, fs.delay_released > 0);
	gsp_record_num_if(fo, "delay_late_us_max", fs.delay_late_max_ns / 1e3,
			  fs.delay_released > 0);
	json_object_set_new(o, "fault", fo);
	json_object_set_new(rec, "switch", o);
}

static void
gsp_emu_write_stall(json_t *rec, const struct gsp_emu *emu,
		    const struct gsp_emu_result *r)
{
	json_t *o = json_object();
	struct gsp_switch_fstats fs;
	struct gsp_fp_sum res;
	char name[24];

	gsp_switch_fstats(emu->dp->sw, &fs);
	res = r->resumed;
	snprintf(name, sizeof(name), "node%u", emu->base + emu->stall_idx + 1);
	gsp_record_str(o, "node", name);
	gsp_record_num(o, "stall_s", emu->stall_ns / 1e9);
	gsp_record_num_if(o, "alive_again_s", r->stall_alive_s,
			  r->stall_alive_s >= 0);
	gsp_record_resumed(o, &res);
	gsp_record_u64(o, "late_marks", emu->w.late_marks);
	gsp_record_u64(o, "rx_queued", r->stall_rx_queued);
	gsp_record_u64(o, "rx_dropped", fs.paused_dropped);
	gsp_record_u64(o, "rx_while_stopped", r->stall_rx_leak);
	json_object_set_new(rec, "stall", o);
}

/* The window's traffic per vnode, from the snapshots. */
static void
gsp_emu_write_traffic(json_t *rec, const struct gsp_emu *emu,
		      const struct gsp_emu_snap *a, const struct gsp_emu_snap *b,
		      double dt, double *rounds)
{
	struct gsp_traffic t = { .window_s = dt, .nodes = emu->o.nodes,
		.cpu_s = (double)(b->cpu_us - a->cpu_us) / 1e6 };
	uint64_t *sum[GSP_EMU_SNAP_N] = {
		[GSP_EMU_SNAP_TX_PKTS] = &t.tx_pkts,
		[GSP_EMU_SNAP_RX_PKTS] = &t.rx_pkts,
		[GSP_EMU_SNAP_TX_BYTES] = &t.tx_bytes,
		[GSP_EMU_SNAP_RX_BYTES] = &t.rx_bytes,
	};
	uint64_t *max[GSP_EMU_SNAP_N] = {
		[GSP_EMU_SNAP_TX_PKTS] = &t.tx_pkts_max,
		[GSP_EMU_SNAP_RX_PKTS] = &t.rx_pkts_max,
		[GSP_EMU_SNAP_TX_BYTES] = &t.tx_bytes_max,
		[GSP_EMU_SNAP_RX_BYTES] = &t.rx_bytes_max,
	};
	uint64_t all_rounds = 0;

	for (uint32_t i = 0; i < emu->dp->n_vnodes; i++)
		for (size_t k = 0; k < GSP_EMU_SNAP_N; k++) {
			size_t j = (size_t)GSP_EMU_SNAP_N * i + k;
			uint64_t d = b->v[j] - a->v[j];

			if (k == GSP_EMU_SNAP_ROUNDS) {
				all_rounds += d;
				continue;
			}
			*sum[k] += d;
			*max[k] = RTE_MAX(*max[k], d);
		}
	gsp_record_traffic(rec, &t);
	/* above the interval: the lcores could not keep up (see docs) */
	gsp_record_num_if(rec, "round_ms_mean", dt * 1e3 * emu->o.nodes /
			  all_rounds, all_rounds > 0);
	*rounds = (double)all_rounds / emu->o.nodes;
}

void
gsp_emu_write(struct gsp_emu *emu, const struct gsp_emu_result *r,
	      const struct gsp_emu_snap *a, const struct gsp_emu_snap *b)
{
	const struct gsp_dp *dp = emu->dp;
	const struct gsp_emu_opts *o = &emu->o;
	const struct gsp_config *cfg = dp->cfg;
	double dt = b->t_ns > a->t_ns ? (b->t_ns - a->t_ns) / 1e9 : 0;
	uint64_t tx_dropped = 0, tx_no_arp = 0, now_ns = gsp_emu_now_ns();
	uint64_t peak = gsp_emu_proc_kb("VmHWM");
	uint64_t members = (uint64_t)o->nodes * emu->cluster;
	struct gsp_node_counters sum_c;
	struct gsp_fp_sum fs;
	double window_rounds;
	char spec[256];
	json_t *rec;
	int ret;

	rec = gsp_record_new("emu", gsp_scn_name(o->scenario));
	if (rec == NULL) {
		gsp_log(LOG_ERR, "emulation: out of memory for the record");
		emu->status = 1;
		return;
	}
	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		const struct gsp_vnode_stats *st = &dp->vnodes[i].stats;

		tx_dropped += __atomic_load_n(&st->tx_dropped, __ATOMIC_RELAXED);
		tx_no_arp += __atomic_load_n(&st->tx_no_arp, __ATOMIC_RELAXED);
	}
	gsp_harness_counters_sum(&emu->host, &sum_c);
	gsp_fault_format(&emu->fault, spec, sizeof(spec));
	gsp_record_u64(rec, "nodes", o->nodes);
	gsp_record_u64(rec, "vnode_base", emu->base);
	gsp_record_u64(rec, "cluster_size", emu->cluster);
	gsp_record_u64(rec, "seed", o->seed);
	gsp_record_num(rec, "interval_ms", emu->interval_ns / 1e6);
	gsp_record_num(rec, "loss", emu->fault.drop);
	gsp_record_str(rec, "fault", spec);
	gsp_record_u64(rec, "fanout", cfg->fanout);
	gsp_record_u64(rec, "seeds", o->seeds);
	gsp_record_u64(rec, "lcores", emu->n_lcores);
	/* the detector as every vnode's core got it */
	gsp_record_detector(rec, cfg->detector);
	gsp_record_num(rec, "probe_interval_ms", cfg->probe_interval_ns / 1e6);
	gsp_record_num(rec, "probe_timeout_ms", (cfg->probe_timeout_ns ?
		       cfg->probe_timeout_ns : cfg->probe_interval_ns / 2) / 1e6);
	gsp_record_u64(rec, "indirect_probes", cfg->indirect_probes);
	gsp_record_u64(rec, "suspicion_mult", cfg->suspicion_mult);
	gsp_record_u64(rec, "suspicion_max_mult", cfg->suspicion_max_mult);
	gsp_record_u64(rec, "awareness_max", cfg->awareness_max);
	gsp_record_num(rec, "phi_suspect", cfg->phi_suspect);
	gsp_record_num(rec, "phi_convict", cfg->phi_convict);
	gsp_record_bool(rec, "timeout", r->timeout);
	gsp_record_num_if(rec, "time_s", r->time_s, r->time_s >= 0);
	gsp_emu_write_traffic(rec, emu, a, b, dt, &window_rounds);
	/* steady, fp: the rounds each vnode really ran in the window */
	gsp_record_num_if(rec, "rounds", o->scenario == GSP_SCN_STEADY ||
			  o->scenario == GSP_SCN_FP ? window_rounds : r->rounds,
			  r->rounds >= 0);
	gsp_record_num_if(rec, "join_s", r->join_s, r->join_s >= 0);
	gsp_record_num_if(rec, "join_rounds", (double)r->join_rounds,
			  r->join_s >= 0);
	gsp_record_u64(rec, "distinct_sizes", r->distinct_sizes);
	json_object_set(rec, "informed_curve", r->curve != NULL ? r->curve :
			json_array());
	gsp_record_num_if(rec, "bound_rounds", gsp_scn_bound_rounds(o->nodes),
			  o->scenario == GSP_SCN_DISSEMINATE);
	gsp_record_u64(rec, "crashed", o->scenario == GSP_SCN_DETECT ?
		       r->n_det : 0);
	/* the quiet spell before a steady window or a crash: asked for,
	 * and measured from the join's end to the scenario's start */
	gsp_record_num(rec, "settle_s", r->settle_s);
	gsp_record_num_if(rec, "quiet_s", r->quiet_s, r->join_s >= 0 &&
			  o->scenario != GSP_SCN_JOIN);
	gsp_record_detection(rec, r->det, r->n_det);
	/* live members accused after the join, and during it */
	gsp_fp_sum(&emu->w.fp, now_ns, &fs);
	gsp_record_fp(rec, &fs);
	gsp_record_fp_pairs(rec, "join_false_positives", &r->join_fp);
	if (o->scenario == GSP_SCN_STALL)
		gsp_emu_write_stall(rec, emu, r);
	gsp_emu_write_timing(rec, emu, dt, a, b);
	gsp_record_u64(rec, "peak_rss_bytes", peak);
	gsp_record_u64(rec, "rss_before_bytes", emu->rss_before);
	gsp_record_u64(rec, "rss_created_bytes", emu->rss_created);
	gsp_record_num(rec, "populate_s", emu->populate_ns / 1e9);
	gsp_record_num(rec, "wall_s", (gsp_emu_mono_ns() - emu->wall0_ns) /
		       1e9);
	gsp_record_str(rec, "auth", dp->keyring != NULL ? gsp_cipher_name(
		       gsp_keyring_cipher(dp->keyring)) : "plaintext");
	gsp_record_u64(rec, "bytes_per_member",
		       gsp_node_bytes_per_member(dp->keyring != NULL, true));
	gsp_record_num_if(rec, "bytes_per_member_measured",
			  ((double)peak - (double)emu->rss_created) / members,
			  peak > emu->rss_created);
	gsp_record_num_if(rec, "bytes_per_vnode",
			  ((double)emu->rss_created - (double)emu->rss_before) /
			  o->nodes, emu->rss_created > emu->rss_before);
	gsp_record_u64(rec, "capacity", emu->capacity);
	gsp_record_u64(rec, "mbufs", emu->n_mbufs);
	gsp_record_u64(rec, "tx_dropped", tx_dropped);
	gsp_record_u64(rec, "tx_no_arp", tx_no_arp);
	gsp_record_str(rec, "control_socket", cfg->socket_path);
	gsp_record_str(rec, "status_view", cfg->status_path);
	gsp_emu_write_switch(rec, dp);
	/* the cores' own counters, whole run, all vnodes */
	gsp_record_core(rec, "core", &sum_c);
	/* a gauge: its mean over the vnodes now */
	gsp_record_num(rec, "probe_rtt_us_mean_end",
		       (double)sum_c.probe_rtt_us / o->nodes);
	if (r->timeout)
		gsp_record_str(rec, "timeout_reason", r->why);
	ret = gsp_record_write(rec, o->json, o->json == NULL);
	if (ret != 0) {
		gsp_log(LOG_ERR, "emulation: cannot write the record to %s: %s",
			o->json != NULL ? o->json : "stdout", strerror(-ret));
		emu->status = 1;
	}
}
