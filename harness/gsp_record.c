/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON record of a scenario, through jansson (gsp_record.h).
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_counters.h"
#include "gsp_harness.h"
#include "gsp_record.h"
#include "gsp_watch.h"

json_t *
gsp_record_new(const char *mode, const char *scenario)
{
	json_t *r = json_object();

	if (r == NULL)
		return NULL;
	gsp_record_str(r, "mode", mode);
	gsp_record_str(r, "scenario", scenario);
	return r;
}

void
gsp_record_str(json_t *r, const char *key, const char *v)
{
	json_object_set_new(r, key, json_string(v));
}

void
gsp_record_u64(json_t *r, const char *key, uint64_t v)
{
	/* jansson's integers are signed: beyond, the nearest double */
	json_object_set_new(r, key, v <= (uint64_t)INT64_MAX ?
			    json_integer((json_int_t)v) :
			    json_real((double)v));
}

void
gsp_record_bool(json_t *r, const char *key, bool v)
{
	json_object_set_new(r, key, json_boolean(v));
}

void
gsp_record_num(json_t *r, const char *key, double v)
{
	json_object_set_new(r, key, isfinite(v) ? json_real(v) : json_null());
}

void
gsp_record_num_if(json_t *r, const char *key, double v, bool ok)
{
	gsp_record_num(r, key, ok ? v : NAN);
}

void
gsp_record_detector(json_t *r, uint32_t bits)
{
	char name[64];

	gsp_harness_detector_name(bits, name, sizeof(name));
	gsp_record_str(r, "detector", name);
	gsp_record_u64(r, "detector_bits", gsp_harness_detector_bits(bits));
}

static json_t *
gsp_record_point(double t_s, double frac)
{
	return json_pack("[ff]", t_s, frac);
}

static int
gsp_record_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

json_t *
gsp_record_curve_array(uint64_t *t, uint32_t n, uint64_t t0_ns, uint32_t of,
		       uint32_t max_points)
{
	json_t *a = json_array();
	uint32_t got = 0, step;

	if (a == NULL || of == 0)
		return a;
	for (uint32_t i = 0; i < n; i++)
		if (t[i] != 0)
			t[got++] = t[i] < t0_ns ? 0 : t[i] - t0_ns;
	qsort(t, got, sizeof(*t), gsp_record_u64_cmp);
	json_array_append_new(a, gsp_record_point(0, 0));
	step = max_points > 0 ? (got + max_points - 1) / max_points : 1;
	if (step == 0)
		step = 1;
	for (uint32_t k = 0; k < got; k++)
		if ((k + 1) % step == 0 || k + 1 == got)
			json_array_append_new(a, gsp_record_point(t[k] / 1e9,
					      (double)(k + 1) / of));
	return a;
}

/* the core's detector counters, named as in the records */
static const struct {
	const char *name;
	size_t off;
} gsp_record_det_ctrs[] = {
#define GSP_DET_CTR(n) { #n, offsetof(struct gsp_node_counters, n) }
	GSP_DET_CTR(tx_ping),
	GSP_DET_CTR(tx_ping_req),
	GSP_DET_CTR(tx_pong),
	GSP_DET_CTR(tx_nack),
	GSP_DET_CTR(probes_failed),
	GSP_DET_CTR(suspicions),
	GSP_DET_CTR(refutations),
	GSP_DET_CTR(claims_rx),
	GSP_DET_CTR(declared_down),
#undef GSP_DET_CTR
};

void
gsp_record_detector_counters(json_t *r, const struct gsp_node_counters *sum)
{
	for (size_t k = 0; k < sizeof(gsp_record_det_ctrs) /
	     sizeof(gsp_record_det_ctrs[0]); k++)
		gsp_record_u64(r, gsp_record_det_ctrs[k].name,
			       *(const uint64_t *)((const char *)sum +
			       gsp_record_det_ctrs[k].off));
}

void
gsp_record_core(json_t *r, const char *key,
		const struct gsp_node_counters *sum)
{
	json_t *o = json_object();
	uint64_t rx_drop = 0;

	if (o == NULL)
		return;
	/* gauges are levels now: their sums over nodes mean nothing */
#define GSP_REC_COUNT(name, group, kind, minor, view, view_off, help) \
	if (GSP_REC_IS_##kind) \
		gsp_record_u64(o, #name, sum->name);
#define GSP_REC_IS_COUNT 1
#define GSP_REC_IS_GAUGE 0
	GSP_COUNTERS(GSP_REC_COUNT)
#undef GSP_REC_COUNT
#undef GSP_REC_IS_COUNT
#undef GSP_REC_IS_GAUGE
	for (int k = 1; k < GSP_RX_ERR_MAX; k++)
		rx_drop += sum->rx_drop[k];
	gsp_record_u64(o, "rx_drop", rx_drop);
	json_object_set_new(r, key, o);
}

void
gsp_record_fp_pairs(json_t *r, const char *key, const struct gsp_fp_sum *s)
{
	if (s->pairs_known)
		gsp_record_u64(r, key, s->pairs);
	else
		json_object_set_new(r, key, json_null());
}

void
gsp_record_fp(json_t *r, const struct gsp_fp_sum *s)
{
	json_t *o = json_object();

	gsp_record_fp_pairs(r, "false_positives", s);
	if (o == NULL)
		return;
	gsp_record_u64(o, "suspect_transitions", s->suspect);
	gsp_record_u64(o, "down_transitions", s->down);
	if (s->pairs_known) {
		gsp_record_u64(o, "suspect_pairs", s->pairs - s->down_pairs);
		gsp_record_u64(o, "down_pairs", s->down_pairs);
		gsp_record_u64(o, "pairs", s->pairs);
	} else {
		json_object_set_new(o, "suspect_pairs", json_null());
		json_object_set_new(o, "down_pairs", json_null());
		json_object_set_new(o, "pairs", json_null());
	}
	gsp_record_num(o, "pair_s", s->pair_s);
	gsp_record_u64(o, "open_peak", s->open_peak);
	gsp_record_u64(o, "open_end", s->open_end);
	json_object_set_new(r, "fp", o);
}

void
gsp_record_resumed(json_t *r, const struct gsp_fp_sum *s)
{
	gsp_record_u64(r, "resumed_suspect", s->suspect);
	gsp_record_u64(r, "resumed_down", s->down);
	gsp_record_fp_pairs(r, "resumed_members", s);
	gsp_record_num(r, "resumed_accused_s", s->pair_s);
}

void
gsp_record_traffic(json_t *r, const struct gsp_traffic *t)
{
	double dt = t->window_s;
	bool ok = dt > 0 && t->nodes > 0;
	double per = ok ? 1.0 / dt / t->nodes : NAN;

	gsp_record_num(r, "window_s", dt);
	gsp_record_num_if(r, "tx_pps_mean", t->tx_pkts * per, ok);
	gsp_record_num_if(r, "tx_pps_max", t->tx_pkts_max / dt, ok);
	gsp_record_num_if(r, "tx_Bps_mean", t->tx_bytes * per, ok);
	gsp_record_num_if(r, "tx_Bps_max", t->tx_bytes_max / dt, ok);
	gsp_record_num_if(r, "rx_pps_mean", t->rx_pkts * per, ok);
	gsp_record_num_if(r, "rx_pps_max", t->rx_pkts_max / dt, ok);
	gsp_record_num_if(r, "rx_Bps_mean", t->rx_bytes * per, ok);
	gsp_record_num_if(r, "rx_Bps_max", t->rx_bytes_max / dt, ok);
	gsp_record_num_if(r, "cpu_us_per_node_s", t->cpu_s * 1e6 * per, ok);
}

static json_t *
gsp_record_subject(const struct gsp_watch_det *d)
{
	json_t *o = json_object();
	char name[24];

	snprintf(name, sizeof(name), "node%u", d->idx + 1);
	gsp_record_str(o, "node", name);
	gsp_record_u64(o, "observers", d->observers);
	gsp_record_u64(o, "suspected_by", d->suspected_by);
	gsp_record_u64(o, "down_by", d->down_by);
	gsp_record_num_if(o, "first_suspect_s", d->first_suspect_s,
			  d->first_suspect_s >= 0);
	gsp_record_num_if(o, "all_suspect_s", d->all_suspect_s,
			  d->all_suspect_s >= 0);
	gsp_record_num_if(o, "first_down_s", d->first_down_s,
			  d->first_down_s >= 0);
	gsp_record_num_if(o, "all_down_s", d->all_down_s, d->all_down_s >= 0);
	return o;
}

void
gsp_record_detection(json_t *rec, const struct gsp_watch_det *det,
		     uint32_t n)
{
	double first_sus = -1, all_sus = -1, first_down = -1, all_down = -1;
	bool all_ok = n > 0;
	json_t *subjects = json_array();

	for (uint32_t k = 0; k < n; k++) {
		const struct gsp_watch_det *d = &det[k];

		if (d->first_suspect_s >= 0 && (first_sus < 0 ||
		    d->first_suspect_s < first_sus))
			first_sus = d->first_suspect_s;
		if (d->first_down_s >= 0 && (first_down < 0 ||
		    d->first_down_s < first_down))
			first_down = d->first_down_s;
		all_sus = (d->all_suspect_s > all_sus ? d->all_suspect_s : all_sus);
		all_down = (d->all_down_s > all_down ? d->all_down_s : all_down);
		if (d->all_down_s < 0)
			all_ok = false;
		json_array_append_new(subjects, gsp_record_subject(d));
	}
	gsp_record_num_if(rec, "first_suspect_s", first_sus, first_sus >= 0);
	gsp_record_num_if(rec, "all_suspect_s", all_sus,
			  all_sus >= 0 && n > 0);
	gsp_record_num_if(rec, "first_detect_s", first_down, first_down >= 0);
	gsp_record_num_if(rec, "all_detect_s", all_down, all_ok);
	json_object_set_new(rec, "subjects", subjects);
}

int
gsp_record_write(json_t *r, const char *path, bool echo)
{
	char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER |
			     JSON_REAL_PRECISION(9));
	size_t len;
	int ret = 0;
	FILE *f;

	json_decref(r);
	if (s == NULL)
		return -ENOMEM;
	len = strlen(s);
	s[len] = '\n';	/* json_dumps's NUL: the line's end, written once */
	if (echo) {
		fwrite(s, 1, len + 1, stdout);
		fflush(stdout);
	}
	if (path != NULL) {
		f = fopen(path, "a");
		if (f == NULL) {
			ret = -errno;
		} else {
			fwrite(s, 1, len + 1, f);
			if (fclose(f) != 0)
				ret = -EIO;
		}
	}
	free(s);
	return ret;
}
