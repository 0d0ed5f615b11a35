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

#include "gsp_core.h"
#include "gsp_fault.h"
#include "gsp_fp.h"
#include "gsp_harness.h"
#include "gsp_record.h"
#include "gsp_sec.h"
#include "gsp_sim.h"
#include "gsp_sim_heap.h"
#include "gsp_util.h"
#include "gsp_wire.h"

#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull
#define GSP_SIM_T0 NS_PER_S		/* virtual time of the cold start */
#define GSP_SIM_WALL_CHECK 1024u	/* events between wall-clock checks */
#define GSP_SIM_EXIT_MEM 3		/* refused: would not fit in RAM */
#define GSP_SIM_PROGRESS_S 30.0		/* wall seconds between progress lines */
#define GSP_SIM_MEM_RESERVE (256ull << 20) /* stop when less is available */
#define GSP_SIM_MAX(a, b) ((a) > (b) ? (a) : (b))
#define GSP_SIM_MEM_CHECK_S 0.2	/* wall seconds between MemAvailable reads */

enum gsp_sim_want {
	GSP_SIM_WANT_NONE,
	GSP_SIM_WANT_ALL_ALIVE,		/* every node listed, none down */
	GSP_SIM_WANT_SPLIT,		/* own side alive, other side down */
};

enum gsp_sim_stop {
	GSP_SIM_STOP_NONE,
	GSP_SIM_STOP_OK,		/* every up node meets the want */
	GSP_SIM_STOP_INFORMED,
	GSP_SIM_STOP_DETECTED,
};

enum gsp_sim_curve {
	GSP_SIM_CURVE_NONE,
	GSP_SIM_CURVE_OK,
	GSP_SIM_CURVE_INFORMED,
	GSP_SIM_CURVE_DETECTED,
};

/* stall: one node paused (SIGSTOP), then resumed */
struct gsp_sim_stall {
	uint32_t node;			/* ~0: none */
	bool resumed;
	uint32_t *q;			/* pool slots sent to it while paused */
	uint32_t q_n;
	uint64_t held, dropped;		/* packets queued, and refused: full */
	uint32_t n_bad, n_down;		/* observers seeing it suspect|down, down */
	uint32_t down_at_resume;
	uint32_t views_bad_end;		/* n_bad re-counted from the tables */
	uint64_t t_pause, t_resume;
	uint64_t suspect_t, down_t, down_all_t, alive_t;	/* 0: not yet */
};

struct gsp_sim {
	struct gsp_sim_cfg c;
	struct gsp_keyring *keyring;	/* --auth; NULL: plaintext */
	struct gsp_sim_node *nodes;
	struct gsp_ids ids;		/* member id -> node */
	struct gsp_harness_host host;	/* this simulator, to the harness */
	struct gsp_sim_heap heap;

	/* packet buffer pool: grows by chunks up to max_inflight */
	struct gsp_sim_pkt *pkts;
	uint32_t *free_pkts;
	uint32_t n_free;
	uint32_t n_alloc;
	uint8_t **chunks;
	uint32_t n_chunks;
	uint32_t inflight, inflight_peak;

	uint64_t now;
	uint64_t interval_ns;
	uint64_t rng_net, rng_sched, rng_scn, rng_fault, rng_slow;
	uint32_t n_up;

	/* the running phase */
	enum gsp_sim_want want;
	enum gsp_sim_stop stop_on;
	bool stop;
	uint64_t stop_t;
	uint32_t n_ok, n_informed, n_detected;
	uint64_t phase_t0;
	uint32_t sample_epoch;
	enum gsp_sim_curve curve_kind;
	struct gsp_curve_point *curve;
	uint32_t curve_n, curve_cap;
	uint8_t *sizes_seen;		/* join: bitmap of reported alive counts */
	bool partitioned;
	uint32_t side_size[2];
	uint64_t split_t;		/* first time both sides saw the split */
	bool track_app;
	uint64_t origin_id;
	uint32_t crashed;		/* ~0: none */
	uint64_t first_detect_t, first_suspect_t;

	/* accusations of live members by live nodes (not the stalled one) */
	struct gsp_fp fp;
	bool fp_active;
	uint64_t fp_about_slow, fp_by_slow;	/* cpuload: of fp's transitions */
	/* the stalled node's own accusations after it resumed */
	struct gsp_fp fp_self;
	struct gsp_sim_stall stall;
	uint32_t n_slow;
	uint64_t held_events, held_ns;	/* cpuload: delays actually applied */
	uint64_t early_ticks;		/* ticks moved forward by a packet */

	/* network and simulator counters */
	uint64_t fault_ctr[GSP_FAULT_C_MAX];
	uint64_t pkts_sent, pkts_delivered, part_drops, pool_drops;
	/* [limits] hits of nodes since restarted (their cores are gone) */
	uint64_t limit_hits_gone, rate_limited_gone, over_limit_gone;
	uint64_t dead_drops, unknown_dst, oversize, heap_drops, events;
	uint64_t core_ns;		/* monotonic time inside rx/tick */
	bool wall_limited;
	struct timespec wall0;
	double next_progress_s;
	double next_mem_check_s;
	bool mem_limited;		/* stopped: the machine ran short of RAM */
};

/* ------------------------------ helpers ------------------------------- */

/* splitmix64 finalizer: derives independent streams from one seed */
static uint64_t
gsp_sim_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* splitmix64 stream */
static uint64_t
gsp_sim_rand(uint64_t *st)
{
	uint64_t x = *st;

	*st += 0x9e3779b97f4a7c15ULL;
	return gsp_sim_mix(x);
}

static uint64_t
gsp_sim_rand_below(uint64_t *st, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)gsp_sim_rand(st) * n) >> 64);
}

static uint64_t
gsp_sim_stream(uint64_t seed, uint64_t purpose)
{
	return gsp_sim_mix(seed ^ gsp_sim_mix(purpose * 0x632be59bd9b4e019ULL));
}

static double
gsp_sim_wall_s(const struct gsp_sim *s)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - s->wall0.tv_sec) +
		(double)(t.tv_nsec - s->wall0.tv_nsec) * 1e-9;
}

static uint64_t
gsp_sim_mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * NS_PER_S + (uint64_t)t.tv_nsec;
}

static double
gsp_sim_cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t
gsp_sim_peak_rss(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024;
}

/* MemAvailable in bytes, 0 if unknown */
static uint64_t
gsp_sim_mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	uint64_t kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static double
gsp_sim_rel_s(const struct gsp_sim *s, uint64_t t)
{
	return (double)(t - s->phase_t0) / (double)NS_PER_S;
}

static uint32_t
gsp_sim_rounds(const struct gsp_sim *s, uint64_t dt)
{
	return (uint32_t)((dt + s->interval_ns - 1) / s->interval_ns);
}

static void
gsp_sim_log(const struct gsp_sim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
gsp_sim_log(const struct gsp_sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->c.quiet)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "gossip-sim: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* --------------------------- node id lookup --------------------------- */

/* node index of a member id, or ~0 */
static uint32_t
gsp_sim_node_of(const struct gsp_sim *s, uint64_t id)
{
	return gsp_ids_node(&s->ids, id);
}

/* ids are FNV-1a of the names, as in gossipd */
static int
gsp_sim_build_ids(struct gsp_sim *s)
{
	uint32_t n = s->c.n_nodes;
	uint64_t *ids = malloc(sizeof(*ids) * n);
	int ret;

	if (ids == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		ids[i] = s->nodes[i].id;
	ret = gsp_ids_build(&s->ids, ids, n);
	if (ret == -EEXIST)
		fprintf(stderr, "gossip-sim: node id collision\n");
	free(ids);
	return ret;
}

/* ---------------------------- packet pool ----------------------------- */

static int
gsp_sim_pool_init(struct gsp_sim *s)
{
	uint32_t max = s->c.max_inflight;

	s->pkts = calloc(max, sizeof(*s->pkts));
	s->free_pkts = calloc(max, sizeof(*s->free_pkts));
	s->chunks = calloc(max / GSP_SIM_PKT_CHUNK + 1, sizeof(*s->chunks));
	return s->pkts && s->free_pkts && s->chunks ? 0 : -ENOMEM;
}

static bool
gsp_sim_pool_get(struct gsp_sim *s, uint32_t *slot)
{
	if (s->n_free == 0 && s->n_alloc < s->c.max_inflight) {
		uint32_t add = s->c.max_inflight - s->n_alloc;
		uint8_t *chunk;

		if (add > GSP_SIM_PKT_CHUNK)
			add = GSP_SIM_PKT_CHUNK;
		chunk = malloc((size_t)add * s->c.max_payload);
		if (chunk != NULL) {
			s->chunks[s->n_chunks++] = chunk;
			for (uint32_t i = 0; i < add; i++) {
				uint32_t k = s->n_alloc + add - 1 - i;

				s->pkts[k].data = chunk + (size_t)(add - 1 - i) *
					s->c.max_payload;
				s->free_pkts[s->n_free++] = k;
			}
			s->n_alloc += add;
		}
	}
	if (s->n_free == 0)
		return false;
	*slot = s->free_pkts[--s->n_free];
	if (++s->inflight > s->inflight_peak)
		s->inflight_peak = s->inflight;
	return true;
}

static void
gsp_sim_pool_put(struct gsp_sim *s, uint32_t slot)
{
	s->free_pkts[s->n_free++] = slot;
	s->inflight--;
}

/* ------------------------- the core's I/O seam ------------------------ */

/* one copy of a packet onto the wire: base latency + jitter + fault delay */
static void
gsp_sim_send_copy(struct gsp_sim *s, struct gsp_sim_node *sn, uint32_t d,
		  const uint8_t *payload, uint16_t len, uint64_t fault_ns)
{
	uint64_t delay;
	uint32_t slot;

	if (!gsp_sim_pool_get(s, &slot)) {
		s->pool_drops++;
		return;
	}
	memcpy(s->pkts[slot].data, payload, len);
	s->pkts[slot].len = len;
	s->pkts[slot].src = sn->idx;
	delay = (uint64_t)s->c.latency_us * 1000 + fault_ns;
	if (s->c.jitter_us > 0)
		delay += gsp_sim_rand_below(&s->rng_net,
					    (uint64_t)s->c.jitter_us * 1000 + 1);
	if (!gsp_sim_heap_push(&s->heap, s->now + delay, GSP_SIM_EV_DELIVER,
			       d, slot)) {
		gsp_sim_pool_put(s, slot);
		s->heap_drops++;
	}
}

void
gsp_io_send(void *io_ctx, const struct gsp_addr *dst, const uint8_t *payload,
	    uint16_t len)
{
	struct gsp_sim_node *sn = io_ctx;
	struct gsp_sim *s = sn->sim;
	uint32_t d = dst->ip - GSP_SIM_IP_BASE;
	uint64_t fault_ns[2] = { 0, 0 };
	unsigned int copies = 1;

	s->pkts_sent++;
	sn->tx_pkts++;
	sn->tx_bytes += len;
	if (dst->port != GSP_SIM_PORT || dst->ip < GSP_SIM_IP_BASE ||
	    d >= s->c.n_nodes) {
		s->unknown_dst++;
		return;
	}
	if (s->partitioned && s->nodes[d].side != sn->side) {
		s->part_drops++;
		return;
	}
	if (len > s->c.max_payload) {
		s->oversize++;
		return;
	}
	/* the sender's faults, decided by the module gossipd uses */
	if (gsp_fault_active(&sn->fault))
		copies = gsp_fault_out(&sn->fault, dst->ip, &s->rng_fault,
				       fault_ns, s->fault_ctr);
	for (unsigned int i = 0; i < copies && i < 2; i++)
		gsp_sim_send_copy(s, sn, d, payload, len, fault_ns[i]);
}

static void gsp_sim_check_stop(struct gsp_sim *s);

/* the stalled node as others see it: suspect/down times, alive again */
static void
gsp_sim_stall_seen(struct gsp_sim *s, bool was_bad, uint8_t new_state,
		   bool is_bad, bool was_down)
{
	struct gsp_sim_stall *st = &s->stall;
	bool is_down = new_state == GSP_STATE_DOWN && is_bad;

	st->n_bad += is_bad && !was_bad;
	st->n_bad -= was_bad && !is_bad && st->n_bad > 0;
	st->n_down += is_down && !was_down;
	st->n_down -= was_down && !is_down && st->n_down > 0;
	if (is_bad && st->suspect_t == 0)
		st->suspect_t = s->now;
	if (is_down && st->down_t == 0)
		st->down_t = s->now;
	/* every other node that runs (it does not see itself) */
	if (is_down && st->down_all_t == 0 && st->n_down + 1 >= s->n_up)
		st->down_all_t = s->now;
	if (st->resumed && st->n_bad == 0 && st->alive_t == 0)
		st->alive_t = s->now;
}

void
gsp_io_event(void *io_ctx, const struct gsp_event *ev)
{
	struct gsp_sim_node *sn = io_ctx;
	bool was_bad, is_bad, was_down;
	struct gsp_sim *s;
	uint32_t m;

	if (sn == NULL)
		return;
	s = sn->sim;
	if (!gsp_fp_change_of(ev, &was_bad, &is_bad))
		return;
	was_down = ev->old_state == GSP_STATE_DOWN && ev->type != GSP_EV_JOINED;
	m = gsp_sim_node_of(s, ev->id);
	if (m == UINT32_MAX || m == sn->idx)
		return;
	if (m == s->crashed) {
		if (is_bad && s->first_suspect_t == 0)
			s->first_suspect_t = s->now;
		if (ev->new_state == GSP_STATE_DOWN && is_bad &&
		    !sn->detected && sn->up) {
			sn->detected = true;
			if (s->n_detected++ == 0)
				s->first_detect_t = s->now;
			gsp_sim_check_stop(s);
		}
		return;
	}
	if (m == s->stall.node) {
		gsp_sim_stall_seen(s, was_bad, ev->new_state, is_bad,
				   was_down);
		return;
	}
	if (!s->fp_active || !s->nodes[m].up)
		return;
	if (sn->idx == s->stall.node) {
		if (s->stall.resumed)
			gsp_fp_event(&s->fp_self, 0, m, ev, s->now);
		return;
	}
	/* across a partition, down is due */
	if (s->c.scenario == GSP_SCN_PARTITION && s->nodes[m].side != sn->side)
		return;
	if (gsp_fp_event(&s->fp, sn->idx, m, ev, s->now)) {
		s->fp_about_slow += s->nodes[m].slow;
		s->fp_by_slow += sn->slow;
	}
}

/* ------------------------------ phases -------------------------------- */

static bool
gsp_sim_meets(const struct gsp_sim *s, const struct gsp_sim_node *sn,
	      const struct gsp_node_counters *c)
{
	uint32_t own;

	switch (s->want) {
	case GSP_SIM_WANT_ALL_ALIVE:
		/* a suspect is still a member (SWIM lists it until its
		 * suspicion runs out, and under loss most are refuted) */
		return c->alive + c->suspect == s->c.n_nodes;
	case GSP_SIM_WANT_SPLIT:
		own = s->side_size[sn->side];
		return c->alive + c->suspect == own &&
			c->down == s->c.n_nodes - own;
	default:
		return false;
	}
}

static void
gsp_sim_set_ok(struct gsp_sim *s, struct gsp_sim_node *sn, bool ok)
{
	if (ok == sn->ok)
		return;
	sn->ok = ok;
	if (ok)
		s->n_ok++;
	else
		s->n_ok--;
}

/* a new target view: re-evaluate every node from its last round */
static void
gsp_sim_set_want(struct gsp_sim *s, enum gsp_sim_want want)
{
	struct gsp_node_counters c;

	s->want = want;
	s->n_ok = 0;
	for (uint32_t i = 0; i < s->c.n_nodes; i++) {
		struct gsp_sim_node *sn = &s->nodes[i];

		sn->ok = false;
		if (!sn->up || want == GSP_SIM_WANT_NONE)
			continue;
		gsp_node_counters_read(sn->node, &c);
		gsp_sim_set_ok(s, sn, gsp_sim_meets(s, sn, &c));
	}
}

static void
gsp_sim_curve_add(struct gsp_sim *s, uint64_t t, double frac)
{
	if (s->curve_n < s->curve_cap)
		s->curve[s->curve_n++] = (struct gsp_curve_point){
			gsp_sim_rel_s(s, t), frac };
}

static double
gsp_sim_curve_frac(const struct gsp_sim *s)
{
	double up = s->n_up > 0 ? (double)s->n_up : 1.0;

	switch (s->curve_kind) {
	case GSP_SIM_CURVE_OK:
		return (double)s->n_ok / up;
	case GSP_SIM_CURVE_INFORMED:
		return (double)s->n_informed / up;
	case GSP_SIM_CURVE_DETECTED:
		return (double)s->n_detected / up;
	default:
		return 0;
	}
}

/* Starts a phase at s->now: per-round samples of `curve` from here on. */
static void
gsp_sim_phase(struct gsp_sim *s, enum gsp_sim_stop stop_on,
	      enum gsp_sim_curve curve)
{
	s->stop_on = stop_on;
	s->stop = false;
	s->stop_t = 0;
	s->phase_t0 = s->now;
	s->curve_kind = curve;
	s->curve_n = 0;
	s->sample_epoch++;
	if (curve != GSP_SIM_CURVE_NONE) {
		gsp_sim_curve_add(s, s->now, gsp_sim_curve_frac(s));
		gsp_sim_heap_push(&s->heap, s->now + s->interval_ns,
				  GSP_SIM_EV_SAMPLE, 0, s->sample_epoch);
	}
}

static void
gsp_sim_check_stop(struct gsp_sim *s)
{
	bool done = false;

	if (s->stop)
		return;
	switch (s->stop_on) {
	case GSP_SIM_STOP_OK:
		done = s->n_ok >= s->n_up;
		break;
	case GSP_SIM_STOP_INFORMED:
		done = s->n_informed >= s->n_up;
		break;
	case GSP_SIM_STOP_DETECTED:
		done = s->n_detected >= s->n_up;
		break;
	default:
		break;
	}
	if (done) {
		s->stop = true;
		s->stop_t = s->now;
		if (s->curve_kind != GSP_SIM_CURVE_NONE)
			gsp_sim_curve_add(s, s->now, 1.0);
	}
}

/* ------------------------- nodes: life and death ----------------------- */

static int
gsp_sim_node_start(struct gsp_sim *s, uint32_t i, uint64_t generation,
		   uint64_t first_tick)
{
	struct gsp_sim_node *sn = &s->nodes[i];
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	struct gsp_node_params p;
	int err;

	memset(&p, 0, sizeof(p));
	snprintf(p.cluster, sizeof(p.cluster), "sim");
	snprintf(p.name, sizeof(p.name), "n%u", i);
	p.generation = generation;
	p.addr = (struct gsp_addr){ GSP_SIM_IP_BASE + i, GSP_SIM_PORT };
	p.capacity = s->c.capacity;
	p.gossip_interval_ns = s->interval_ns;
	p.fanout = s->c.fanout;
	p.phi_suspect = 5;
	p.phi_convict = 8;
	p.forget_ns = 3600 * NS_PER_S;
	p.max_payload = s->c.max_payload;
	p.leave_rounds = 3;
	p.syn_packets = s->c.syn_packets;
	p.ack_states = s->c.ack_states;
	p.detector = s->c.detector;
	p.probe_interval_ns = s->c.probe_interval_ns;
	p.probe_timeout_ns = s->c.probe_timeout_ns;
	p.indirect_probes = s->c.indirect_probes;
	p.suspicion_mult = s->c.suspicion_mult;
	p.rng_seed = gsp_sim_stream(s->c.seed, 1000 + (uint64_t)i * 65536 +
				    generation);
	p.io_ctx = sn;
	p.keyring = s->keyring;
	sn->sim = s;
	sn->idx = i;
	sn->fault = s->c.fault;
	sn->node = gsp_node_create(&p, &err);
	if (sn->node == NULL) {
		fprintf(stderr, "gossip-sim: node %u: gsp_node_create: %s\n",
			i, strerror(-err));
		return err;
	}
	sn->id = gsp_node_id(sn->node);
	sn->generation = generation;
	for (uint32_t k = 0; k < s->c.n_seeds; k++)
		seeds[k] = (struct gsp_addr){ GSP_SIM_IP_BASE + k,
					      GSP_SIM_PORT };
	gsp_node_set_seeds(sn->node, seeds, s->c.n_seeds);
	sn->up = true;
	sn->ok = false;
	sn->app_slot = UINT32_MAX;
	s->n_up++;
	sn->tick_at = first_tick;
	gsp_sim_heap_push(&s->heap, first_tick, GSP_SIM_EV_TICK, i, sn->epoch);
	return 0;
}

/* the process dies: no more ticks, packets to it are dropped */
static void
gsp_sim_node_crash(struct gsp_sim *s, uint32_t i)
{
	struct gsp_sim_node *sn = &s->nodes[i];

	if (!sn->up)
		return;
	sn->up = false;
	sn->epoch++;
	gsp_sim_set_ok(s, sn, false);
	s->n_up--;
}

/* Adds a core's [limits] hits and the datagrams they dropped. */
static void
gsp_sim_limits_add(const struct gsp_node *node, uint64_t *hits,
		   uint64_t *rate_limited, uint64_t *over_limit)
{
	struct gsp_node_counters c;

	if (node == NULL)
		return;
	gsp_node_counters_read(node, &c);
	*hits += c.limit_hits;
	*rate_limited += c.rx_drop[GSP_RX_RATE_LIMITED];
	*over_limit += c.rx_drop[GSP_RX_OVER_LIMIT];
}

/* a new process with the same name and a higher generation */
static int
gsp_sim_node_restart(struct gsp_sim *s, uint32_t i)
{
	struct gsp_sim_node *sn = &s->nodes[i];
	uint64_t gen = sn->generation + 1;

	gsp_sim_node_crash(s, i);
	gsp_sim_limits_add(sn->node, &s->limit_hits_gone,
			   &s->rate_limited_gone, &s->over_limit_gone);
	gsp_node_destroy(sn->node);
	sn->node = NULL;
	return gsp_sim_node_start(s, i, gen, s->now +
				  gsp_sim_rand_below(&s->rng_sched,
						     s->interval_ns));
}

/* SIGSTOP: its pending round dies (epoch); packets to it queue up */
static void
gsp_sim_node_pause(struct gsp_sim *s, uint32_t i)
{
	s->nodes[i].paused = true;
	s->nodes[i].epoch++;
}

/* a packet for a paused node: held like a NIC ring holds it, or dropped */
static void
gsp_sim_stall_hold(struct gsp_sim *s, uint32_t slot)
{
	struct gsp_sim_stall *st = &s->stall;

	if (st->q != NULL && st->q_n < s->c.stall_queue) {
		st->q[st->q_n++] = slot;
		st->held++;
		return;
	}
	st->dropped++;
	gsp_sim_pool_put(s, slot);
}

/*
 * SIGCONT at s->now: as gossipd's loop, one rx burst of what the ring
 * held, then the overdue round, then the rest; all at the same virtual
 * time, in that order (the heap keeps insertion order on ties).
 */
static void
gsp_sim_node_resume(struct gsp_sim *s, uint32_t i)
{
	struct gsp_sim_node *sn = &s->nodes[i];
	struct gsp_sim_stall *st = &s->stall;

	sn->paused = false;
	for (uint32_t k = 0; k <= st->q_n; k++) {
		if (k == (st->q_n < GSP_SIM_RX_BURST ? st->q_n :
			  GSP_SIM_RX_BURST)) {
			sn->tick_at = s->now;
			if (!gsp_sim_heap_push(&s->heap, s->now,
					       GSP_SIM_EV_TICK, i, sn->epoch))
				s->heap_drops++;
		}
		if (k < st->q_n &&
		    !gsp_sim_heap_push(&s->heap, s->now, GSP_SIM_EV_DELIVER, i,
				       st->q[k])) {
			gsp_sim_pool_put(s, st->q[k]);
			s->heap_drops++;
		}
	}
	st->q_n = 0;
}

/*
 * A loaded CPU: every event of a slow node (round or packet) runs late by
 * uniform [0, slow_ms], but in order, as a process works through its
 * queue: never before the event ahead of it. Under a steady stream of
 * events the delay is thus near slow_ms; the mean applied is reported.
 */
static bool
gsp_sim_hold(struct gsp_sim *s, const struct gsp_sim_ev *ev)
{
	struct gsp_sim_node *sn = &s->nodes[ev->node];
	uint64_t t = s->now + gsp_sim_rand_below(&s->rng_slow,
		(uint64_t)(s->c.slow_ms * NS_PER_MS) + 1);

	if (t < sn->slow_last)
		t = sn->slow_last;
	if (!gsp_sim_heap_push(&s->heap, t, ev->kind | GSP_SIM_EV_HELD,
			       ev->node, ev->arg))
		return false;
	sn->slow_last = t;
	s->held_events++;
	s->held_ns += t - s->now;
	return true;
}

static bool
gsp_sim_app_ok(const struct gsp_member_view *v)
{
	for (uint8_t a = 0; a < v->app_count && a < GSP_APP_KEYS_MAX; a++)
		if (strcmp(v->app[a].key, GSP_SIM_APP_KEY) == 0)
			return strcmp(v->app[a].value, GSP_SIM_APP_VALUE) == 0;
	return false;
}

/* finds the origin's slot once per node, then re-reads only that slot */
static void
gsp_sim_check_informed(struct gsp_sim *s, struct gsp_sim_node *sn)
{
	struct gsp_member_view v;
	uint32_t hw;

	if (sn->app_slot == UINT32_MAX ||
	    !gsp_node_member_read(sn->node, sn->app_slot, &v) ||
	    v.id != s->origin_id) {
		sn->app_slot = UINT32_MAX;
		hw = gsp_node_slot_count(sn->node);
		for (uint32_t slot = 0; slot < hw; slot++) {
			if (gsp_node_member_read(sn->node, slot, &v) &&
			    v.id == s->origin_id) {
				sn->app_slot = slot;
				break;
			}
		}
		if (sn->app_slot == UINT32_MAX)
			return;
	}
	if (gsp_sim_app_ok(&v)) {
		sn->informed = true;
		s->n_informed++;
		gsp_sim_check_stop(s);
	}
}

/* ---------------------------- event loop ------------------------------ */

static void
gsp_sim_on_tick(struct gsp_sim *s, const struct gsp_sim_ev *ev)
{
	struct gsp_sim_node *sn = &s->nodes[ev->node];
	struct gsp_node_counters c;
	uint64_t next, t;

	if (!sn->up || ev->arg != sn->epoch)
		return;		/* scheduled before a crash */
	t = gsp_sim_mono_ns();
	next = gsp_node_tick(sn->node, s->now);
	s->core_ns += gsp_sim_mono_ns() - t;
	if (next <= s->now)
		next = s->now + 1;
	sn->tick_at = next;
	if (!gsp_sim_heap_push(&s->heap, next, GSP_SIM_EV_TICK, ev->node,
			       sn->epoch))
		s->heap_drops++;
	if (s->want == GSP_SIM_WANT_NONE && s->sizes_seen == NULL)
		return;
	gsp_node_counters_read(sn->node, &c);
	if (s->sizes_seen != NULL && c.alive <= s->c.n_nodes)
		s->sizes_seen[c.alive / 8] |= (uint8_t)(1u << (c.alive % 8));
	if (s->want != GSP_SIM_WANT_NONE) {
		gsp_sim_set_ok(s, sn, gsp_sim_meets(s, sn, &c));
		if (s->want == GSP_SIM_WANT_SPLIT && s->split_t == 0 &&
		    s->n_ok >= s->n_up)
			s->split_t = s->now;
		gsp_sim_check_stop(s);
	}
}

/*
 * A packet set a deadline earlier than the one the last tick returned (a
 * helper's NACK timer, a suspicion learned from a claim): move the node's
 * tick forward, as gossipd's timer heap does; the later one dies by its
 * token.
 */
static void
gsp_sim_rx_deadline(struct gsp_sim *s, struct gsp_sim_node *sn,
		    uint64_t next)
{
	if (next <= s->now)
		next = s->now + 1;
	if (next >= sn->tick_at)	/* UINT64_MAX: nothing new */
		return;
	/* heap full: the pending (later) tick stays valid */
	if (!gsp_sim_heap_push(&s->heap, next, GSP_SIM_EV_TICK, sn->idx,
			       sn->epoch + 1))
		return;
	sn->epoch++;
	sn->tick_at = next;
	s->early_ticks++;
}

static void
gsp_sim_on_deliver(struct gsp_sim *s, const struct gsp_sim_ev *ev)
{
	struct gsp_sim_node *sn = &s->nodes[ev->node];
	struct gsp_sim_pkt *p = &s->pkts[ev->arg];
	struct gsp_addr src = { GSP_SIM_IP_BASE + p->src, GSP_SIM_PORT };
	uint64_t t, next;

	if (!sn->up) {
		s->dead_drops++;
		gsp_sim_pool_put(s, ev->arg);
		return;
	}
	if (sn->paused) {
		gsp_sim_stall_hold(s, ev->arg);
		return;
	}
	/* the receiver's blocks (its own fault config) */
	if (sn->fault.n_block != 0 &&
	    gsp_fault_in(&sn->fault, src.ip, s->fault_ctr)) {
		gsp_sim_pool_put(s, ev->arg);
		return;
	}
	s->pkts_delivered++;
	sn->rx_pkts++;
	sn->rx_bytes += p->len;
	t = gsp_sim_mono_ns();
	gsp_node_rx(sn->node, &src, p->data, p->len, s->now, &next);
	s->core_ns += gsp_sim_mono_ns() - t;
	gsp_sim_rx_deadline(s, sn, next);
	/* only ACK, ACK2 and LEAVE carry member states */
	if (s->track_app && !sn->informed && p->len > GSP_HDR_OFF_TYPE &&
	    p->data[GSP_HDR_OFF_TYPE] != GSP_MSG_SYN)
		gsp_sim_check_informed(s, sn);
	gsp_sim_pool_put(s, ev->arg);
}

static void
gsp_sim_on_sample(struct gsp_sim *s, const struct gsp_sim_ev *ev)
{
	if (ev->arg != s->sample_epoch || s->curve_kind == GSP_SIM_CURVE_NONE)
		return;
	gsp_sim_curve_add(s, s->now, gsp_sim_curve_frac(s));
	gsp_sim_heap_push(&s->heap, s->now + s->interval_ns, GSP_SIM_EV_SAMPLE,
			  0, s->sample_epoch);
}

/* progress now and then on long runs; true when the wall bound is hit */
static bool
gsp_sim_wall_check(struct gsp_sim *s)
{
	double w = gsp_sim_wall_s(s);

	if (w >= s->next_progress_s) {
		s->next_progress_s = w + GSP_SIM_PROGRESS_S;
		if (w >= GSP_SIM_PROGRESS_S)
			gsp_sim_log(s, "... wall %.0f s: simulated %.2f s, "
				    "%" PRIu64 " events, %u/%u ok, %u informed, "
				    "%u detected, %u in flight", w,
				    (double)(s->now - GSP_SIM_T0) / NS_PER_S,
				    s->events, s->n_ok, s->n_up, s->n_informed,
				    s->n_detected, s->inflight);
	}
	if (s->c.max_wall_s > 0 && w > s->c.max_wall_s) {
		s->wall_limited = true;
		return true;
	}
	/* stop cleanly before the OOM killer picks us or a neighbour */
	if (w >= s->next_mem_check_s) {
		uint64_t avail = gsp_sim_mem_available();

		s->next_mem_check_s = w + GSP_SIM_MEM_CHECK_S;
		if (avail != 0 && avail < GSP_SIM_MEM_RESERVE) {
			gsp_sim_log(s, "stopping: MemAvailable %.0f MiB is below "
				    "the %u MiB reserve", (double)avail / 1048576,
				    (unsigned int)(GSP_SIM_MEM_RESERVE >> 20));
			s->mem_limited = true;
			s->wall_limited = true;
			return true;
		}
	}
	return false;
}

/*
 * Runs events up to t_end or until the phase's stop condition; true when
 * it stopped on the condition. The clock ends at t_end otherwise.
 */
static bool
gsp_sim_run(struct gsp_sim *s, uint64_t t_end)
{
	struct gsp_sim_ev ev;

	while (!s->stop) {
		const struct gsp_sim_ev *top = gsp_sim_heap_top(&s->heap);

		if (top == NULL || top->t > t_end) {
			s->now = t_end;
			return false;
		}
		gsp_sim_heap_pop(&s->heap, &ev);
		s->now = ev.t;
		s->events++;
		if (ev.kind != GSP_SIM_EV_SAMPLE && !(ev.kind & GSP_SIM_EV_HELD) &&
		    s->nodes[ev.node].slow && gsp_sim_hold(s, &ev))
			continue;
		switch (ev.kind & ~GSP_SIM_EV_HELD) {
		case GSP_SIM_EV_TICK:
			gsp_sim_on_tick(s, &ev);
			break;
		case GSP_SIM_EV_DELIVER:
			gsp_sim_on_deliver(s, &ev);
			break;
		case GSP_SIM_EV_SAMPLE:
			gsp_sim_on_sample(s, &ev);
			break;
		default:
			break;
		}
		if (s->events % GSP_SIM_WALL_CHECK == 0 &&
		    gsp_sim_wall_check(s))
			return false;
	}
	return true;
}

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

static void
gsp_json_curve(struct gsp_json *j, const char *k, const struct gsp_sim *s)
{
	gsp_record_curve(j->o, k, s->curve, s->curve_n);
}

/* ------------------------------ results ------------------------------- */

struct gsp_sim_result {
	bool join_ok;
	uint64_t join_t;		/* absolute */
	uint32_t distinct_sizes;
	struct gsp_fp_sum join_fp;	/* accusations during the join */
	bool ok;			/* the scenario's goal was reached */
	uint64_t t_start, t_end;	/* the scenario's measured interval */
	/* detect */
	uint32_t crashed;
	bool first_detected;
	uint64_t first_detect_t, first_suspect_t;	/* 0: never */
	bool rejoin_ok;
	uint64_t rejoin_dt;
	/* disseminate */
	uint32_t origin;
	/* partition */
	bool split_ok;
	uint64_t split_dt;
	/* steady */
	struct gsp_traffic traffic;
	double core_us_per_node_s;
	double syn_per_node_round, ack_per_node_round, ack2_per_node_round;
	double merged_per_node_round;
	/* detector counters over the scenario (SWIM and Lifeguard) */
	struct gsp_node_counters det;
	uint64_t awareness_max;
	/* stall (times absolute, 0: never) */
	uint32_t stalled;
	struct gsp_sim_stall stall;
	/* cpuload */
	uint32_t n_slow;
};

/* The core's counters summed over the nodes now (harness); returns the
 * highest awareness now. */
static uint64_t
gsp_sim_det_sum(const struct gsp_sim *s, struct gsp_node_counters *sum)
{
	struct gsp_node_counters c;
	uint64_t aw = 0;

	gsp_harness_counters_sum(&s->host, sum);
	for (uint32_t i = 0; i < s->c.n_nodes; i++) {
		gsp_node_counters_read(s->nodes[i].node, &c);
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

static double
gsp_sim_per_s(uint64_t v, double sim_s)
{
	return sim_s > 0 ? (double)v / sim_s : 0;
}

static int
gsp_sim_write_json(struct gsp_sim *s, const struct gsp_sim_result *r,
		   uint64_t est_bytes)
{
	const struct gsp_sim_cfg *c = &s->c;
	struct gsp_json j;
	uint64_t dt = r->t_end - r->t_start;
	char hex[24], spec[1024], key[48];
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

	switch (c->scenario) {
	case GSP_SCN_JOIN:
		gsp_json_u64(&j, "distinct_sizes", r->distinct_sizes);
		gsp_json_curve(&j, "informed_curve", s);
		break;
	case GSP_SCN_DISSEMINATE:
		gsp_json_u64(&j, "origin", r->origin);
		gsp_json_num(&j, "bound_rounds",
			     log((double)c->n_nodes) / log(3.0) +
			     log(log((double)c->n_nodes)));
		gsp_json_curve(&j, "informed_curve", s);
		break;
	case GSP_SCN_DETECT:
		gsp_json_u64(&j, "crashed", r->crashed);
		gsp_json_time(&j, "first_suspect_s", r->first_suspect_t != 0,
			      r->first_suspect_t, r->t_start);
		gsp_json_time(&j, "first_detect_s", r->first_detected,
			      r->first_detect_t, r->t_start);
		gsp_json_time(&j, "all_detect_s", r->ok, r->t_end, r->t_start);
		gsp_json_time(&j, "rejoin_s", r->rejoin_ok, r->rejoin_dt, 0);
		gsp_json_curve(&j, "informed_curve", s);
		break;
	case GSP_SCN_STEADY:
		gsp_json_u64(&j, "measure_rounds", c->measure_rounds);
		gsp_record_traffic(j.o, &r->traffic);
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
		gsp_json_curve(&j, "informed_curve", s);
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
		gsp_fp_sum(&s->fp_self, s->now, &fs);
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
		break;
	default:
		break;
	}
	/* accusations of live members (harness/gsp_fp.h) */
	gsp_fp_sum(&s->fp, s->now, &fs);
	gsp_record_fp(j.o, &fs);
	gsp_record_detector_counters(j.o, &r->det);
	gsp_json_u64(&j, "awareness_max_end", r->awareness_max);
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
		     gsp_node_bytes_per_member(s->c.auth));
	gsp_json_u64(&j, "est_memory_bytes", est_bytes);
	gsp_json_u64(&j, "peak_rss_bytes", gsp_sim_peak_rss());
	gsp_json_num(&j, "wall_s", gsp_sim_wall_s(s));
	snprintf(hex, sizeof(hex), "%016" PRIx64, gsp_sim_digest(s, r));
	gsp_json_str(&j, "digest", hex);
	ret = gsp_record_write(j.o, c->json_path, true);
	if (ret != 0 && c->json_path != NULL)
		fprintf(stderr, "gossip-sim: %s: %s\n", c->json_path,
			strerror(-ret));
	return ret;
}

/* ----------------------------- scenarios ------------------------------ */

static uint64_t
gsp_sim_phase_end(const struct gsp_sim *s)
{
	return s->now + (uint64_t)s->c.max_rounds * s->interval_ns;
}

static void
gsp_sim_join(struct gsp_sim *s, struct gsp_sim_result *r)
{
	uint32_t n = s->c.n_nodes;

	s->sizes_seen = calloc(n / 8 + 1, 1);
	s->want = GSP_SIM_WANT_ALL_ALIVE;
	s->fp_active = true;
	s->now = GSP_SIM_T0;
	gsp_sim_phase(s, GSP_SIM_STOP_OK, GSP_SIM_CURVE_OK);
	r->join_ok = gsp_sim_run(s, gsp_sim_phase_end(s));
	r->join_t = s->stop_t;
	if (s->sizes_seen != NULL) {
		for (uint32_t i = 0; i <= n; i++)
			r->distinct_sizes +=
				(s->sizes_seen[i / 8] >> (i % 8)) & 1;
		free(s->sizes_seen);
		s->sizes_seen = NULL;
	}
	gsp_fp_sum(&s->fp, s->now, &r->join_fp);
	r->awareness_max = gsp_sim_det_sum(s, &r->det);
	gsp_sim_log(s, "join: %s, %.3f s, %u rounds, %u distinct sizes, "
		    "%" PRIu64 " join false positives, wall %.1f s",
		    r->join_ok ? "converged" : "NOT converged",
		    r->join_ok ? (double)(r->join_t - GSP_SIM_T0) / NS_PER_S :
		    NAN, r->join_ok ? gsp_sim_rounds(s, r->join_t - GSP_SIM_T0) :
		    0, r->distinct_sizes, r->join_fp.pairs, gsp_sim_wall_s(s));
	s->want = GSP_SIM_WANT_NONE;
	r->ok = r->join_ok;
	r->t_start = GSP_SIM_T0;
	r->t_end = r->join_ok ? r->join_t : s->now;
}

/* after the join: counts from here on */
static void
gsp_sim_settle(struct gsp_sim *s)
{
	gsp_sim_phase(s, GSP_SIM_STOP_NONE, GSP_SIM_CURVE_NONE);
	gsp_sim_run(s, s->now + (uint64_t)s->c.settle_rounds * s->interval_ns);
	gsp_fp_reset(&s->fp, s->now);
	gsp_fp_reset(&s->fp_self, s->now);
	s->fp_about_slow = s->fp_by_slow = 0;
}

static void
gsp_sim_disseminate(struct gsp_sim *s, struct gsp_sim_result *r)
{
	struct gsp_sim_node *o;
	int rc;

	r->origin = (uint32_t)gsp_sim_rand_below(&s->rng_scn, s->c.n_nodes);
	o = &s->nodes[r->origin];
	s->origin_id = o->id;
	rc = gsp_node_set_app(o->node, GSP_SIM_APP_KEY, GSP_SIM_APP_VALUE);
	if (rc != 0) {
		fprintf(stderr, "gossip-sim: set_app: %s\n", strerror(-rc));
		return;
	}
	s->track_app = true;
	o->informed = true;
	s->n_informed = 1;
	gsp_sim_phase(s, GSP_SIM_STOP_INFORMED, GSP_SIM_CURVE_INFORMED);
	r->t_start = s->now;
	gsp_sim_check_stop(s);
	r->ok = s->stop || gsp_sim_run(s, gsp_sim_phase_end(s));
	r->t_end = r->ok ? s->stop_t : s->now;
	s->track_app = false;
	gsp_sim_log(s, "disseminate: %s %u/%u nodes after %.3f s (%u rounds; "
		    "bound %.2f)", r->ok ? "reached" : "NOT reached",
		    s->n_informed, s->n_up,
		    (double)(r->t_end - r->t_start) / NS_PER_S,
		    gsp_sim_rounds(s, r->t_end - r->t_start),
		    log((double)s->c.n_nodes) / log(3.0) +
		    log(log((double)s->c.n_nodes)));
}

static void
gsp_sim_detect(struct gsp_sim *s, struct gsp_sim_result *r)
{
	uint32_t n = s->c.n_nodes, non_seeds = n - s->c.n_seeds;
	struct gsp_fp_sum fs;
	uint64_t t;

	r->crashed = s->c.n_seeds +
		(uint32_t)gsp_sim_rand_below(&s->rng_scn, non_seeds);
	s->crashed = r->crashed;
	gsp_sim_node_crash(s, r->crashed);
	gsp_sim_phase(s, GSP_SIM_STOP_DETECTED, GSP_SIM_CURVE_DETECTED);
	r->t_start = s->now;
	r->ok = gsp_sim_run(s, gsp_sim_phase_end(s));
	r->t_end = r->ok ? s->stop_t : s->now;
	r->first_detected = s->n_detected > 0;
	r->first_detect_t = s->first_detect_t;
	r->first_suspect_t = s->first_suspect_t;
	gsp_fp_sum(&s->fp, s->now, &fs);
	gsp_sim_log(s, "detect: node %u crashed; first suspect after %.3f s, "
		    "first down after %.3f s, %u/%u after %.3f s; %" PRIu64
		    " false positives", r->crashed, r->first_suspect_t != 0 ?
		    (double)(r->first_suspect_t - r->t_start) / NS_PER_S : NAN,
		    r->first_detected ?
		    (double)(r->first_detect_t - r->t_start) / NS_PER_S : NAN,
		    s->n_detected, s->n_up,
		    (double)(r->t_end - r->t_start) / NS_PER_S, fs.pairs);
	if (!r->ok || s->wall_limited)
		return;
	/* restart it: a higher generation is alive again everywhere */
	s->crashed = UINT32_MAX;
	if (gsp_sim_node_restart(s, r->crashed) != 0)
		return;
	t = s->now;
	gsp_sim_set_want(s, GSP_SIM_WANT_ALL_ALIVE);
	s->stop = false;
	s->stop_on = GSP_SIM_STOP_OK;
	s->curve_kind = GSP_SIM_CURVE_NONE;
	r->rejoin_ok = gsp_sim_run(s, gsp_sim_phase_end(s));
	r->rejoin_dt = (r->rejoin_ok ? s->stop_t : s->now) - t;
	s->want = GSP_SIM_WANT_NONE;
	gsp_sim_log(s, "detect: restarted node %u %s after %.3f s", r->crashed,
		    r->rejoin_ok ? "alive everywhere" : "NOT alive everywhere",
		    (double)r->rejoin_dt / NS_PER_S);
}

static void
gsp_sim_steady(struct gsp_sim *s, struct gsp_sim_result *r)
{
	uint32_t n = s->c.n_nodes;
	uint64_t (*snap)[4] = calloc(n, sizeof(*snap));
	struct gsp_node_counters c0, c1;
	struct gsp_traffic *t = &r->traffic;
	uint64_t core0;
	double cpu0, rounds;

	if (snap == NULL)
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct gsp_sim_node *sn = &s->nodes[i];

		snap[i][0] = sn->tx_pkts;
		snap[i][1] = sn->tx_bytes;
		snap[i][2] = sn->rx_pkts;
		snap[i][3] = sn->rx_bytes;
	}
	gsp_harness_counters_sum(&s->host, &c0);
	gsp_sim_phase(s, GSP_SIM_STOP_NONE, GSP_SIM_CURVE_NONE);
	r->t_start = s->now;
	core0 = s->core_ns;
	cpu0 = gsp_sim_cpu_s();
	gsp_sim_run(s, s->now + (uint64_t)s->c.measure_rounds * s->interval_ns);
	t->cpu_s = gsp_sim_cpu_s() - cpu0;
	r->t_end = s->now;
	r->ok = !s->wall_limited;
	t->window_s = (double)(r->t_end - r->t_start) / NS_PER_S;
	t->nodes = n;
	for (uint32_t i = 0; i < n; i++) {
		struct gsp_sim_node *sn = &s->nodes[i];
		uint64_t v[4] = {
			sn->tx_pkts - snap[i][0], sn->tx_bytes - snap[i][1],
			sn->rx_pkts - snap[i][2], sn->rx_bytes - snap[i][3],
		};

		t->tx_pkts += v[0];
		t->tx_bytes += v[1];
		t->rx_pkts += v[2];
		t->rx_bytes += v[3];
		t->tx_pkts_max = GSP_SIM_MAX(t->tx_pkts_max, v[0]);
		t->tx_bytes_max = GSP_SIM_MAX(t->tx_bytes_max, v[1]);
		t->rx_pkts_max = GSP_SIM_MAX(t->rx_pkts_max, v[2]);
		t->rx_bytes_max = GSP_SIM_MAX(t->rx_bytes_max, v[3]);
	}
	gsp_harness_counters_sum(&s->host, &c1);
	gsp_harness_counters_sub(&c1, &c0);
	rounds = (double)n * t->window_s * NS_PER_S / (double)s->interval_ns;
	if (rounds > 0) {
		r->syn_per_node_round = (double)c1.tx_syn / rounds;
		r->ack_per_node_round = (double)c1.tx_ack / rounds;
		r->ack2_per_node_round = (double)c1.tx_ack2 / rounds;
		r->merged_per_node_round = (double)c1.merged / rounds;
	}
	if (t->window_s > 0)
		r->core_us_per_node_s = (double)(s->core_ns - core0) / 1e3 /
			n / t->window_s;
	free(snap);
	gsp_sim_log(s, "steady: %.1f s simulated; per node: tx %.1f pkt/s "
		    "%.0f B/s (max %.0f), rx %.1f pkt/s %.0f B/s; "
		    "%.1f SYN/round; cpu %.1f us/node/s", t->window_s,
		    gsp_sim_per_s(t->tx_pkts, t->window_s) / n,
		    gsp_sim_per_s(t->tx_bytes, t->window_s) / n,
		    gsp_sim_per_s(t->tx_bytes_max, t->window_s),
		    gsp_sim_per_s(t->rx_pkts, t->window_s) / n,
		    gsp_sim_per_s(t->rx_bytes, t->window_s) / n,
		    r->syn_per_node_round,
		    gsp_sim_per_s((uint64_t)(t->cpu_s * 1e6), t->window_s) / n);
}

static void
gsp_sim_partition(struct gsp_sim *s, struct gsp_sim_result *r)
{
	uint32_t n = s->c.n_nodes;
	uint32_t *perm = malloc(sizeof(*perm) * n);
	uint64_t t_split;

	if (perm == NULL)
		return;
	/* a random half on each side (Fisher-Yates) */
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t k = (uint32_t)gsp_sim_rand_below(&s->rng_scn, i + 1);
		uint32_t tmp = perm[i];

		perm[i] = perm[k];
		perm[k] = tmp;
	}
	s->side_size[0] = s->side_size[1] = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t side = i < n / 2 ? 0 : 1;

		s->nodes[perm[i]].side = side;
		s->side_size[side]++;
	}
	free(perm);

	s->partitioned = true;
	t_split = s->now;
	gsp_sim_set_want(s, GSP_SIM_WANT_SPLIT);
	gsp_sim_phase(s, GSP_SIM_STOP_NONE, GSP_SIM_CURVE_NONE);
	gsp_sim_run(s, s->now + (uint64_t)(s->c.partition_s * NS_PER_S));
	r->split_ok = s->split_t != 0;
	r->split_dt = r->split_ok ? s->split_t - t_split : 0;
	gsp_sim_log(s, "partition: sides %u/%u %s after %.3f s", s->side_size[0],
		    s->side_size[1], r->split_ok ? "marked each other down" :
		    "did NOT mark each other down",
		    (double)r->split_dt / NS_PER_S);
	if (s->wall_limited)
		return;

	s->partitioned = false;
	gsp_sim_set_want(s, GSP_SIM_WANT_ALL_ALIVE);
	gsp_sim_phase(s, GSP_SIM_STOP_OK, GSP_SIM_CURVE_OK);
	r->t_start = s->now;
	gsp_sim_check_stop(s);
	r->ok = s->stop || gsp_sim_run(s, gsp_sim_phase_end(s));
	r->t_end = r->ok ? s->stop_t : s->now;
	s->want = GSP_SIM_WANT_NONE;
	gsp_sim_log(s, "partition: healed %s after %.3f s (%u rounds)",
		    r->ok ? "into one view" : "NOT into one view",
		    (double)(r->t_end - r->t_start) / NS_PER_S,
		    gsp_sim_rounds(s, r->t_end - r->t_start));
}

static void
gsp_sim_fp_log(const struct gsp_sim *s, const char *what)
{
	struct gsp_fp_sum fs;

	gsp_fp_sum(&s->fp, s->now, &fs);
	gsp_sim_log(s, "%s: %" PRIu64 " live members accused (%" PRIu64
		    " to suspect, %" PRIu64 " to down) over %" PRIu64
		    " pairs, %.3f pair-seconds accused", what,
		    fs.suspect + fs.down, fs.suspect, fs.down, fs.pairs,
		    fs.pair_s);
}

/* a steady cluster, no crash: every accusation is a false positive */
static void
gsp_sim_fp_run(struct gsp_sim *s, struct gsp_sim_result *r)
{
	gsp_sim_phase(s, GSP_SIM_STOP_NONE, GSP_SIM_CURVE_NONE);
	r->t_start = s->now;
	gsp_sim_run(s, s->now + (uint64_t)(s->c.duration_s * NS_PER_S));
	r->t_end = s->now;
	r->ok = !s->wall_limited;
	gsp_sim_fp_log(s, "fp");
}

/* how many running nodes list node x as suspect or down, and as down:
 * read from their tables (O(N x table); the events keep it current) */
static void
gsp_sim_views_of(const struct gsp_sim *s, uint32_t x, uint32_t *bad,
		 uint32_t *down)
{
	struct gsp_member_view v;

	*bad = *down = 0;
	for (uint32_t i = 0; i < s->c.n_nodes; i++) {
		const struct gsp_sim_node *sn = &s->nodes[i];
		uint32_t hw;

		if (i == x || !sn->up)
			continue;
		hw = gsp_node_slot_count(sn->node);
		for (uint32_t slot = 0; slot < hw; slot++) {
			if (!gsp_node_member_read(sn->node, slot, &v) ||
			    v.id != s->nodes[x].id)
				continue;
			*bad += gsp_fp_bad(v.state);
			*down += v.state == GSP_STATE_DOWN;
			break;
		}
	}
}

static void
gsp_sim_stall_run(struct gsp_sim *s, struct gsp_sim_result *r)
{
	uint32_t unused;
	struct gsp_fp_sum fs;
	struct gsp_sim_stall *st = &s->stall;
	uint32_t x;

	st->q = calloc(s->c.stall_queue + 1, sizeof(*st->q));
	if (st->q == NULL)
		return;
	x = s->c.n_seeds +
		(uint32_t)gsp_sim_rand_below(&s->rng_scn,
					     s->c.n_nodes - s->c.n_seeds);
	r->stalled = x;
	gsp_sim_phase(s, GSP_SIM_STOP_NONE, GSP_SIM_CURVE_NONE);
	r->t_start = s->now;
	*st = (struct gsp_sim_stall){ .node = x, .q = st->q,
				      .t_pause = s->now };
	/* a lossy network may have it suspected already */
	gsp_sim_views_of(s, x, &st->n_bad, &st->n_down);
	gsp_sim_node_pause(s, x);
	gsp_sim_run(s, s->now + (uint64_t)(s->c.stall_s * NS_PER_S));
	if (s->wall_limited)
		goto out;
	st->t_resume = s->now;
	st->resumed = true;
	st->down_at_resume = st->n_down;
	if (st->n_bad == 0)
		st->alive_t = s->now;
	gsp_sim_log(s, "stall: node %u paused %.3f s: first suspect after "
		    "%.3f s, first down after %.3f s, %u/%u had it down; %"
		    PRIu64 " packets held, %" PRIu64 " dropped", x,
		    s->c.stall_s, st->suspect_t ? (double)(st->suspect_t -
		    st->t_pause) / NS_PER_S : NAN, st->down_t ?
		    (double)(st->down_t - st->t_pause) / NS_PER_S : NAN,
		    st->n_down, s->n_up - 1, st->held, st->dropped);
	gsp_sim_node_resume(s, x);
	gsp_sim_run(s, s->now + (uint64_t)(s->c.after_s * NS_PER_S));
	r->ok = st->alive_t != 0 && !s->wall_limited;
	gsp_sim_views_of(s, x, &st->views_bad_end, &unused);
	gsp_fp_sum(&s->fp_self, s->now, &fs);
	gsp_sim_log(s, "stall: node %u %s after %.3f s; it accused %" PRIu64
		    " live members (%" PRIu64 " suspect, %" PRIu64 " down)",
		    x, st->alive_t ? "alive everywhere" :
		    "NOT alive everywhere", st->alive_t ?
		    (double)(st->alive_t - st->t_resume) / NS_PER_S : NAN,
		    fs.pairs, fs.suspect, fs.down);
	gsp_sim_fp_log(s, "stall: others");
out:
	r->t_end = s->now;
	r->stall = *st;
	r->stall.q = NULL;
	free(st->q);
	/* the node runs normally again: later scenarios track no stall */
	*st = (struct gsp_sim_stall){ .node = UINT32_MAX };
}

static void
gsp_sim_cpuload(struct gsp_sim *s, struct gsp_sim_result *r)
{
	uint32_t n = s->c.n_nodes;
	uint32_t k = (uint32_t)(s->c.slow_frac * n + 0.5);
	uint32_t *perm = malloc(sizeof(*perm) * n);

	if (perm == NULL)
		return;
	/* k random nodes (partial Fisher-Yates) */
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = 0; i < k && i < n; i++) {
		uint32_t j = i + (uint32_t)gsp_sim_rand_below(&s->rng_scn,
							      n - i);
		uint32_t tmp = perm[i];

		perm[i] = perm[j];
		perm[j] = tmp;
		s->nodes[perm[i]].slow = true;
	}
	r->n_slow = s->n_slow = k;
	s->held_events = s->held_ns = 0;
	gsp_sim_phase(s, GSP_SIM_STOP_NONE, GSP_SIM_CURVE_NONE);
	r->t_start = s->now;
	gsp_sim_run(s, s->now + (uint64_t)(s->c.duration_s * NS_PER_S));
	r->t_end = s->now;
	r->ok = !s->wall_limited;
	for (uint32_t i = 0; i < k && i < n; i++)
		s->nodes[perm[i]].slow = false;
	s->n_slow = 0;
	free(perm);
	gsp_sim_fp_log(s, "cpuload");
	gsp_sim_log(s, "cpuload: %u slow nodes (+0..%g ms per event): %"
		    PRIu64 " accusations of them, %" PRIu64 " by them", k,
		    s->c.slow_ms, s->fp_about_slow, s->fp_by_slow);
}

static void
gsp_sim_scenario_run(struct gsp_sim *s, struct gsp_sim_result *r)
{
	struct gsp_node_counters det0;

	gsp_sim_det_sum(s, &det0);
	switch (s->c.scenario) {
	case GSP_SCN_FP:
		gsp_sim_fp_run(s, r);
		break;
	case GSP_SCN_STALL:
		gsp_sim_stall_run(s, r);
		break;
	case GSP_SCN_CPULOAD:
		gsp_sim_cpuload(s, r);
		break;
	case GSP_SCN_DISSEMINATE:
		gsp_sim_disseminate(s, r);
		break;
	case GSP_SCN_DETECT:
		gsp_sim_detect(s, r);
		break;
	case GSP_SCN_STEADY:
		gsp_sim_steady(s, r);
		break;
	case GSP_SCN_PARTITION:
		gsp_sim_partition(s, r);
		break;
	default:
		break;
	}
	/* over the scenario only (detect: its rejoin too) */
	r->awareness_max = gsp_sim_det_sum(s, &r->det);
	for (size_t k = 0; k < sizeof(det0) / sizeof(uint64_t); k++)
		((uint64_t *)&r->det)[k] -= ((const uint64_t *)&det0)[k];
}

/* ------------------------------- setup -------------------------------- */

static void
gsp_sim_usage(FILE *f)
{
	fprintf(f,
"usage: gossip-sim --scenario join|disseminate|detect|steady|partition|\n"
"                             fp|stall|cpuload[,...]\n"
"                  [--nodes N] [--seed S] [--interval-ms 100] [--fanout 2]\n"
"                  [--seeds 3] [--latency-us 200] [--jitter-us 100]\n"
"                  [--loss P] [--fault SPEC] [--max-rounds 600] [--json FILE]\n"
"                  [--measure-rounds 50] [--settle-rounds 5]\n"
"                  [--partition-s 10] [--max-payload 1472] [--capacity C]\n"
"                  [--max-inflight 262144] [--max-wall-s S]\n"
"                  [--syn-packets K] [--ack-states K] (0: core default)\n"
"                  [--detector phi|swim|indirect|lifeguard|all|default|off\n"
"                   (a list: swim,indirect,lifeguard)]\n"
"                  [--probe-interval-ms MS] [--probe-timeout-ms MS]\n"
"                  [--indirect-probes K] [--suspicion-mult K] (0: default)\n"
"                  [--duration-s 60] (fp, cpuload)\n"
"                  [--stall-s 5] [--after-s 10] [--stall-queue 4096] (stall)\n"
"                  [--slow-frac 0.1] [--slow-ms 50] (cpuload)\n"
"                  [--auth] (seal every packet: AES-256-GCM, or\n"
"                   ChaCha20-Poly1305 without AES-NI)\n"
"                  [--no-mem-check] [--quiet]\n"
"Runs the protocol core of N nodes on a virtual clock and a simulated\n"
"network. Every run starts with a cold join; a list of scenarios runs them\n"
"one after the other on the same cluster (one join). Appends one JSON\n"
"object per scenario to FILE (and prints it).\n"
"--fault SPEC applies gossipctl's fault syntax (\"drop=0.1 delay=5ms\n"
"jitter=2ms dup=0.01 reorder=0.05\") to every node's sends, on top of\n"
"the base latency; --loss P is drop=P. Options apply in the order given.\n"
"Exit status: 0 ran (see \"ok\"), 1 failed, 2 usage, %d would not fit in RAM.\n",
		GSP_SIM_EXIT_MEM);
}

static int
gsp_sim_parse_u32(const char *arg, const char *name, uint32_t lo, uint32_t hi,
		  uint32_t *out)
{
	uint64_t v;

	if (gsp_parse_u64(arg, lo, hi, &v) != 0) {
		fprintf(stderr, "gossip-sim: %s must be in [%u, %u]: '%s'\n",
			name, lo, hi, arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
gsp_sim_parse_f(const char *arg, const char *name, double lo, double hi,
		double *out)
{
	if (gsp_parse_double(arg, lo, hi, out) != 0) {
		fprintf(stderr, "gossip-sim: %s must be in [%g, %g]: '%s'\n",
			name, lo, hi, arg);
		return -1;
	}
	return 0;
}

/* "swim,indirect,lifeguard", "all", "phi", "default", "off" */
static int
gsp_sim_parse_detector(const char *arg, uint32_t *out)
{
	const char *why;

	if (gsp_detector_parse(arg, out, &why) != 0) {
		fprintf(stderr, "gossip-sim: --detector '%s': %s\n", arg, why);
		return -1;
	}
	return 0;
}

/* milliseconds, fractions allowed, to ns; 0 = the core's default */
static int
gsp_sim_parse_ms(const char *arg, const char *name, uint64_t *ns)
{
	double ms;

	if (gsp_sim_parse_f(arg, name, 0, 3600000, &ms) != 0)
		return -1;
	*ns = (uint64_t)(ms * NS_PER_MS + 0.5);
	return 0;
}

/* "join,detect,...": each scenario once, run in the order given */
static int
gsp_sim_parse_scenarios(const char *arg, struct gsp_sim_cfg *c)
{
	char buf[128], *save = NULL, *tok;

	if (strlen(arg) >= sizeof(buf)) {
		fprintf(stderr, "gossip-sim: --scenario list too long\n");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	c->n_scenarios = 0;
	c->scenario_mask = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		int u = gsp_scn_parse(tok, GSP_SIM_SCENARIOS);

		if (u < 0) {
			char list[160];

			gsp_scn_list(GSP_SIM_SCENARIOS, list, sizeof(list));
			fprintf(stderr, "gossip-sim: unknown scenario '%s' (%s)\n",
				tok, list);
			return -1;
		}
		if (c->scenario_mask & (1u << u)) {
			fprintf(stderr, "gossip-sim: scenario '%s' twice\n",
				tok);
			return -1;
		}
		c->scenario_mask |= 1u << u;
		c->scenarios[c->n_scenarios++] = (enum gsp_scn)u;
	}
	if (c->n_scenarios == 0) {
		fprintf(stderr, "gossip-sim: --scenario needs a name\n");
		return -1;
	}
	return 0;
}

enum {
	OPT_SCENARIO = 256, OPT_NODES, OPT_SEED, OPT_INTERVAL, OPT_FANOUT,
	OPT_SEEDS, OPT_LOSS, OPT_LATENCY, OPT_JITTER, OPT_MAX_ROUNDS, OPT_JSON,
	OPT_MEASURE, OPT_SETTLE, OPT_PARTITION, OPT_PAYLOAD, OPT_CAPACITY,
	OPT_INFLIGHT, OPT_WALL, OPT_NO_MEM, OPT_QUIET, OPT_HELP,
	OPT_SYN_PACKETS, OPT_ACK_STATES, OPT_FAULT, OPT_DETECTOR,
	OPT_PROBE_INTERVAL, OPT_PROBE_TIMEOUT, OPT_INDIRECT, OPT_SUSP_MULT,
	OPT_DURATION, OPT_STALL, OPT_AFTER, OPT_SLOW_FRAC, OPT_SLOW_MS,
	OPT_STALL_QUEUE, OPT_AUTH,
};

static int
gsp_sim_parse(int argc, char **argv, struct gsp_sim_cfg *c)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, OPT_SCENARIO },
		{ "nodes", required_argument, NULL, OPT_NODES },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "interval-ms", required_argument, NULL, OPT_INTERVAL },
		{ "fanout", required_argument, NULL, OPT_FANOUT },
		{ "seeds", required_argument, NULL, OPT_SEEDS },
		{ "loss", required_argument, NULL, OPT_LOSS },
		{ "latency-us", required_argument, NULL, OPT_LATENCY },
		{ "jitter-us", required_argument, NULL, OPT_JITTER },
		{ "max-rounds", required_argument, NULL, OPT_MAX_ROUNDS },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "measure-rounds", required_argument, NULL, OPT_MEASURE },
		{ "settle-rounds", required_argument, NULL, OPT_SETTLE },
		{ "partition-s", required_argument, NULL, OPT_PARTITION },
		{ "max-payload", required_argument, NULL, OPT_PAYLOAD },
		{ "capacity", required_argument, NULL, OPT_CAPACITY },
		{ "max-inflight", required_argument, NULL, OPT_INFLIGHT },
		{ "max-wall-s", required_argument, NULL, OPT_WALL },
		{ "syn-packets", required_argument, NULL, OPT_SYN_PACKETS },
		{ "ack-states", required_argument, NULL, OPT_ACK_STATES },
		{ "fault", required_argument, NULL, OPT_FAULT },
		{ "detector", required_argument, NULL, OPT_DETECTOR },
		{ "auth", no_argument, NULL, OPT_AUTH },
		{ "probe-interval-ms", required_argument, NULL,
		  OPT_PROBE_INTERVAL },
		{ "probe-timeout-ms", required_argument, NULL,
		  OPT_PROBE_TIMEOUT },
		{ "indirect-probes", required_argument, NULL, OPT_INDIRECT },
		{ "suspicion-mult", required_argument, NULL, OPT_SUSP_MULT },
		{ "duration-s", required_argument, NULL, OPT_DURATION },
		{ "stall-s", required_argument, NULL, OPT_STALL },
		{ "after-s", required_argument, NULL, OPT_AFTER },
		{ "stall-queue", required_argument, NULL, OPT_STALL_QUEUE },
		{ "slow-frac", required_argument, NULL, OPT_SLOW_FRAC },
		{ "slow-ms", required_argument, NULL, OPT_SLOW_MS },
		{ "no-mem-check", no_argument, NULL, OPT_NO_MEM },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool have_scenario = false;
	uint32_t payload = 1472;
	int opt, rc = 0;
	char *end, err[160];

	*c = (struct gsp_sim_cfg){
		/* gossip every 100 ms, not the config's 1 s: the benchmarks'
		 * period; the rest are the core's defaults (gsp_params.h) */
		.n_nodes = 100, .n_seeds = 3, .fanout = GSP_DEF(FANOUT),
		.interval_ms = 100,
		.max_rounds = 600, .measure_rounds = 50, .settle_rounds = 5,
		.max_inflight = 262144, .latency_us = 200, .jitter_us = 100,
		.seed = 1, .partition_s = 10, .duration_s = 60, .stall_s = 5,
		.after_s = 10, .slow_frac = 0.1, .slow_ms = 50,
		.stall_queue = GSP_SIM_STALL_QUEUE,
	};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SCENARIO:
			have_scenario = true;
			if (gsp_sim_parse_scenarios(optarg, c) != 0)
				return -1;
			break;
		case OPT_NODES:
			rc = gsp_sim_parse_u32(optarg, "--nodes", 2,
					       GSP_SIM_NODES_MAX, &c->n_nodes);
			break;
		case OPT_SEED:
			errno = 0;
			c->seed = strtoull(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || end == optarg) {
				fprintf(stderr, "gossip-sim: bad --seed '%s'\n",
					optarg);
				return -1;
			}
			break;
		case OPT_INTERVAL:
			rc = gsp_sim_parse_u32(optarg, "--interval-ms", 1,
					       3600000, &c->interval_ms);
			break;
		case OPT_FANOUT:
			rc = gsp_sim_parse_u32(optarg, "--fanout", GSP_MIN(FANOUT),
					       GSP_MAX(FANOUT), &c->fanout);
			break;
		case OPT_SEEDS:
			rc = gsp_sim_parse_u32(optarg, "--seeds", 1,
					       GSP_SEEDS_MAX, &c->n_seeds);
			break;
		case OPT_LOSS:
			rc = gsp_sim_parse_f(optarg, "--loss", 0, 0.99,
					     &c->fault.drop);
			break;
		case OPT_FAULT:
			if (gsp_fault_parse(&c->fault, optarg, err,
					    sizeof(err)) != 0) {
				fprintf(stderr, "gossip-sim: --fault: %s\n", err);
				return -1;
			}
			break;
		case OPT_DETECTOR:
			rc = gsp_sim_parse_detector(optarg, &c->detector);
			break;
		case OPT_AUTH:
			c->auth = true;
			break;
		case OPT_PROBE_INTERVAL:
			rc = gsp_sim_parse_ms(optarg, "--probe-interval-ms",
					      &c->probe_interval_ns);
			break;
		case OPT_PROBE_TIMEOUT:
			rc = gsp_sim_parse_ms(optarg, "--probe-timeout-ms",
					      &c->probe_timeout_ns);
			break;
		case OPT_INDIRECT:
			rc = gsp_sim_parse_u32(optarg, "--indirect-probes", 0,
					       64, &c->indirect_probes);
			break;
		case OPT_SUSP_MULT:
			rc = gsp_sim_parse_u32(optarg, "--suspicion-mult", 0,
					       1000, &c->suspicion_mult);
			break;
		case OPT_DURATION:
			rc = gsp_sim_parse_f(optarg, "--duration-s", 0.001,
					     86400, &c->duration_s);
			break;
		case OPT_STALL:
			rc = gsp_sim_parse_f(optarg, "--stall-s", 0.001, 86400,
					     &c->stall_s);
			break;
		case OPT_AFTER:
			rc = gsp_sim_parse_f(optarg, "--after-s", 0.001, 86400,
					     &c->after_s);
			break;
		case OPT_STALL_QUEUE:
			rc = gsp_sim_parse_u32(optarg, "--stall-queue", 0,
					       GSP_SIM_STALL_QUEUE_MAX,
					       &c->stall_queue);
			break;
		case OPT_SLOW_FRAC:
			rc = gsp_sim_parse_f(optarg, "--slow-frac", 0, 1,
					     &c->slow_frac);
			break;
		case OPT_SLOW_MS:
			rc = gsp_sim_parse_f(optarg, "--slow-ms", 0, 10000,
					     &c->slow_ms);
			break;
		case OPT_LATENCY:
			rc = gsp_sim_parse_u32(optarg, "--latency-us", 0,
					       10000000, &c->latency_us);
			break;
		case OPT_JITTER:
			rc = gsp_sim_parse_u32(optarg, "--jitter-us", 0,
					       10000000, &c->jitter_us);
			break;
		case OPT_MAX_ROUNDS:
			rc = gsp_sim_parse_u32(optarg, "--max-rounds", 1,
					       1000000, &c->max_rounds);
			break;
		case OPT_JSON:
			c->json_path = optarg;
			break;
		case OPT_MEASURE:
			rc = gsp_sim_parse_u32(optarg, "--measure-rounds", 1,
					       1000000, &c->measure_rounds);
			break;
		case OPT_SETTLE:
			rc = gsp_sim_parse_u32(optarg, "--settle-rounds", 0,
					       1000000, &c->settle_rounds);
			break;
		case OPT_PARTITION:
			rc = gsp_sim_parse_f(optarg, "--partition-s", 0.001,
					     86400, &c->partition_s);
			break;
		case OPT_PAYLOAD:
			rc = gsp_sim_parse_u32(optarg, "--max-payload",
					       GSP_WIRE_MIN_PAYLOAD, 65507,
					       &payload);
			break;
		case OPT_CAPACITY:
			rc = gsp_sim_parse_u32(optarg, "--capacity", 2,
					       GSP_SIM_NODES_MAX * 2,
					       &c->capacity);
			break;
		case OPT_INFLIGHT:
			rc = gsp_sim_parse_u32(optarg, "--max-inflight", 1,
					       1u << 26, &c->max_inflight);
			break;
		case OPT_WALL:
			rc = gsp_sim_parse_f(optarg, "--max-wall-s", 0, 1e7,
					     &c->max_wall_s);
			break;
		case OPT_SYN_PACKETS:
			rc = gsp_sim_parse_u32(optarg, "--syn-packets", 0,
					       GSP_MAX(SYN_PACKETS), &c->syn_packets);
			break;
		case OPT_ACK_STATES:
			rc = gsp_sim_parse_u32(optarg, "--ack-states", 0,
					       GSP_MAX(ACK_STATES), &c->ack_states);
			break;
		case OPT_NO_MEM:
			c->no_mem_check = true;
			break;
		case OPT_QUIET:
			c->quiet = true;
			break;
		case OPT_HELP:
			gsp_sim_usage(stdout);
			exit(0);
		default:
			gsp_sim_usage(stderr);
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	if (optind != argc || !have_scenario) {
		gsp_sim_usage(stderr);
		return -1;
	}
	c->max_payload = (uint16_t)payload;
	if (c->capacity == 0)
		c->capacity = c->n_nodes;
	if (c->n_seeds > c->n_nodes)
		c->n_seeds = c->n_nodes;
	if ((c->scenario_mask & (1u << GSP_SCN_DETECT |
				 1u << GSP_SCN_STALL)) &&
	    c->n_nodes <= c->n_seeds) {
		fprintf(stderr, "gossip-sim: detect and stall need more nodes "
			"than seeds\n");
		return -1;
	}
	return 0;
}

/* N tables of `capacity` members, core scratch, the packet pool */
static uint64_t
gsp_sim_estimate(const struct gsp_sim_cfg *c)
{
	return (uint64_t)c->n_nodes * c->capacity *
		(gsp_node_bytes_per_member(c->auth) + GSP_SIM_MEMBER_SLACK) +
		(uint64_t)c->n_nodes * GSP_SIM_NODE_OVERHEAD +
		(uint64_t)c->max_inflight * c->max_payload +
		gsp_fp_bytes(c->n_nodes, c->n_nodes) +
		gsp_fp_bytes(1, c->n_nodes);
}

static int
gsp_sim_mem_check(const struct gsp_sim_cfg *c, uint64_t est)
{
	uint64_t avail = gsp_sim_mem_available();
	double gib = 1024.0 * 1024.0 * 1024.0;

	fprintf(stderr, "gossip-sim: N=%u: estimated memory %.2f GiB "
		"(%u nodes x %u members x (%zu+%u) B/member + %u KiB/node + "
		"packet pool); MemAvailable %.2f GiB\n", c->n_nodes,
		(double)est / gib, c->n_nodes, c->capacity,
		gsp_node_bytes_per_member(c->auth), GSP_SIM_MEMBER_SLACK,
		GSP_SIM_NODE_OVERHEAD / 1024, (double)avail / gib);
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
	gsp_keyring_destroy(s->keyring);
	gsp_ids_free(&s->ids);
	gsp_sim_heap_free(&s->heap);
	for (uint32_t i = 0; i < s->n_chunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s->pkts);
	free(s->free_pkts);
	free(s->curve);
	gsp_fp_free(&s->fp);
	gsp_fp_free(&s->fp_self);
	free(s->sizes_seen);
}

/* this simulator, as the harness sees a host */
static uint64_t
gsp_sim_host_now(void *ctx)
{
	return ((const struct gsp_sim *)ctx)->now;
}

static uint32_t
gsp_sim_host_n(void *ctx)
{
	return ((const struct gsp_sim *)ctx)->c.n_nodes;
}

static void
gsp_sim_host_counters(void *ctx, uint32_t i, struct gsp_node_counters *c)
{
	gsp_node_counters_read(((const struct gsp_sim *)ctx)->nodes[i].node, c);
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
	s->crashed = UINT32_MAX;
	s->stall.node = UINT32_MAX;
	s->host = (struct gsp_harness_host){ .ctx = s,
		.now_ns = gsp_sim_host_now, .n_nodes = gsp_sim_host_n,
		.counters = gsp_sim_host_counters };
	s->curve_cap = s->c.max_rounds + 4;
	if (s->c.auth && gsp_sim_keyring(s) != 0)
		return -ENOMEM;
	s->nodes = calloc(n, sizeof(*s->nodes));
	s->curve = calloc(s->curve_cap, sizeof(*s->curve));
	/* every node has one tick pending (plus voided ones, which a tick
	 * moved forward leaves: it gives way when the heap is full), every
	 * packet one delivery, and a phase at most one sample */
	if (s->nodes == NULL || s->curve == NULL ||
	    gsp_fp_init(&s->fp, n, n) != 0 ||
	    gsp_fp_init(&s->fp_self, 1, n) != 0 ||
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
	if (gsp_sim_build_ids(s) != 0)
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
	gsp_sim_free(s);
	return rc;
}
