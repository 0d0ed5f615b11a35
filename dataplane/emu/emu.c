/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Emulation mode (--emulate N, docs/EMULATION.md): N vnodes in this
 * process behind the software switch, and the scenario that measures them.
 *
 * Identities: vnode i (0-based) is node<i+1> at 10.99.0.0 + i + 1, MAC
 * 02:00:0a:63:xx:yy (xx.yy the address's low 16 bits), cluster "emu"; the
 * first S are the seeds and every vnode knows only their addresses.
 *
 * Measurements are taken where they happen, by the lcore that owns the
 * vnode (after its round, after its rx burst, on its core's events), into
 * the vnode's probe and its struct gsp_emu_vs; the scenario thread only
 * reads them and the counters, sends commands (an app-state change, a
 * crash), pauses a switch port (a stall) and writes the record.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "gossipd.h"
#include "emu.h"
#include "gsp_util.h"
#include "gsp_ctrl.h"
#include "gsp_log.h"

#define GSP_EMU_NET 0x0a630000u		/* 10.99.0.0/16 */
#define GSP_EMU_PREFIX 16
#define GSP_EMU_SLACK 16		/* table room beyond N members */
#define GSP_EMU_START_NS (50ull * 1000 * 1000)
#define GSP_EMU_POLL_US 5000
#define GSP_EMU_CURVE_MAX 200		/* points in informed_curve */
#define GSP_EMU_MBUFS_PER_NODE 32
#define GSP_EMU_MBUFS_MAX 1048575u
#define GSP_EMU_APP_KEY "emu"
#define GSP_EMU_PAIRS_MAX_N 8192	/* distinct (observer, member) bitmaps */
/* a resumed vnode receives just before its overdue timers run, as a
 * process's loop after SIGCONT does (rx burst first) */
#define GSP_EMU_RESUME_LEAD_NS (50ull * 1000)
#define GSP_EMU_LAT_SUB 8		/* lateness buckets per octave */
#define GSP_EMU_LAT_BUCKETS (42 * GSP_EMU_LAT_SUB)

/* per-vnode values of a snapshot */
enum {
	GSP_EMU_SNAP_TX_PKTS,
	GSP_EMU_SNAP_RX_PKTS,
	GSP_EMU_SNAP_TX_BYTES,
	GSP_EMU_SNAP_RX_BYTES,
	GSP_EMU_SNAP_ROUNDS,
	GSP_EMU_SNAP_N,
};

enum gsp_emu_scenario {
	GSP_EMU_JOIN = 0,
	GSP_EMU_DISSEMINATE,
	GSP_EMU_DETECT,
	GSP_EMU_STEADY,
	GSP_EMU_STALL,
	GSP_EMU_FP,
};

static const char *const gsp_emu_names[] = {
	[GSP_EMU_JOIN] = "join",
	[GSP_EMU_DISSEMINATE] = "disseminate",
	[GSP_EMU_DETECT] = "detect",
	[GSP_EMU_STEADY] = "steady",
	[GSP_EMU_STALL] = "stall",
	[GSP_EMU_FP] = "fp",
};

enum gsp_emu_phase {
	GSP_PHASE_JOIN = 0,
	GSP_PHASE_MEASURE,
	GSP_PHASE_DONE,
};

enum gsp_emu_stall_state {
	GSP_STALL_NONE = 0,
	GSP_STALL_REQUESTED,		/* begins at the vnode's next timer */
	GSP_STALL_STOPPED,
	GSP_STALL_RESUMED,
};

/* Traffic and CPU at one instant, for the cost of a window. */
struct gsp_emu_snap {
	uint64_t t_ns;
	uint64_t cpu_us;
	uint64_t forwarded;		/* by the switch, all lcores */
	uint64_t *v;			/* per vnode: GSP_EMU_SNAP_* */
};

/* What a scenario measures at each vnode (its lcore writes). */
struct gsp_emu_probe {
	uint64_t joined_ns;		/* first round that saw all N alive */
	uint64_t joined_rounds;		/* its round counter then */
	uint64_t informed_ns;		/* disseminate: origin's change seen */
	uint64_t detect_ns;		/* detect: the victim marked down */
	uint32_t origin_slot;		/* disseminate: origin's table slot */
	uint32_t last_alive;
};

/*
 * What one vnode saw of the scenario's subjects (crashed or stalled
 * vnodes), and its timer. Written by its lcore only; a cache line apart
 * from its neighbours, which other lcores own.
 */
struct gsp_emu_vs {
	struct gsp_emu_probe probe;
	uint64_t due_ns;		/* the deadline its last tick returned */
	uint64_t alive_ns;		/* stall: last "alive" of the subject */
	uint64_t suspect_ns[GSP_EMU_CRASH_MAX];	/* first suspect or down */
	uint64_t down_ns[GSP_EMU_CRASH_MAX];	/* first down */
	uint8_t state[GSP_EMU_CRASH_MAX];	/* its latest view of each */
} __rte_cache_aligned;

/* Timer lateness of one lcore's vnodes, measured window only. */
struct gsp_emu_lat {
	uint64_t ticks;
	uint64_t ticks_early;		/* a packet moved the timer earlier */
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t hist[GSP_EMU_LAT_BUCKETS];	/* by microseconds, log-linear */
} __rte_cache_aligned;

struct gsp_emu_id {
	uint64_t id;
	uint32_t idx;
};

struct gsp_emu {
	struct gsp_emu_opts o;
	struct gsp_emu_xopts x;
	struct gsp_dp *dp;
	pthread_t tid;
	bool started;
	bool joined;			/* the scenario thread ended */
	int status;			/* exit status once done */
	uint32_t phase;			/* enum gsp_emu_phase */
	struct gsp_lcore_observer obs;	/* on every lcore; watch_rx:
					 * disseminate armed */
	uint64_t interval_ns;		/* gossip interval */
	uint64_t start_ns;		/* everyone's first round from here */
	uint64_t wall0_ns;		/* CLOCK_MONOTONIC at setup */
	uint64_t *sizes;		/* bitmap: alive counts reported */
	uint32_t capacity;
	uint32_t n_lcores;
	uint32_t n_mbufs;
	uint64_t rss_before, rss_created;
	struct gsp_fault_cfg fault;	/* in the switch: --fault + --loss */
	struct gsp_emu_vs *vs;		/* per vnode */
	struct gsp_emu_lat *lat;	/* per lcore id */
	struct gsp_emu_id *ids;		/* sorted: member id -> vnode */
	/* disseminate */
	uint32_t origin;
	uint64_t origin_id;
	uint64_t dis_version;		/* release: armed */
	uint64_t dis_t0_ns;
	/* subjects: crashed (detect) or stalled vnodes */
	uint32_t n_subj;		/* release, after the arrays */
	uint32_t subj_idx[GSP_EMU_CRASH_MAX];
	uint64_t subj_id[GSP_EMU_CRASH_MAX];
	uint64_t subj_t0[GSP_EMU_CRASH_MAX];	/* crashed/stopped at; 0: up */
	/* stall */
	uint32_t stall_idx;		/* UINT32_MAX: none */
	uint32_t stall_state;		/* enum gsp_emu_stall_state */
	uint64_t stall_ns;
	uint64_t stall_t1;		/* resumed at (release) */
	uint64_t stall_rx0;		/* its rx_packets when it stopped */
	uint64_t *res_sus, *res_down;	/* members it marked after resuming */
	uint64_t res_sus_n, res_down_n;
	uint64_t late_marks;		/* of the subject after it resumed */
	/* false positives: live members marked suspect/down */
	uint64_t fp_sus, fp_down;	/* transitions, measured window */
	uint64_t join_fp_sus, join_fp_down;	/* during the join */
	uint64_t *pair_sus, *pair_down;	/* N rows of bits; NULL: large N */
	uint32_t row_words;
	uint64_t pairs_sus, pairs_down;	/* distinct (observer, member) */
};

int
gsp_emu_parse_scenario(const char *s)
{
	for (unsigned int i = 0; i < RTE_DIM(gsp_emu_names); i++)
		if (strcmp(s, gsp_emu_names[i]) == 0)
			return (int)i;
	return -1;
}

static uint64_t
gsp_emu_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Seconds from t0 to t, or -1 (null in the record) when t is not after
 * t0: a clock difference is never allowed to wrap. */
static double
gsp_emu_span_s(uint64_t t, uint64_t t0)
{
	if (t == 0 || t0 == 0 || t < t0)
		return -1;
	return (double)(t - t0) / 1e9;
}

/* "VmRSS" or "VmHWM" of this process, in bytes; 0 when unreadable. */
static uint64_t
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

static uint64_t
gsp_emu_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
		(uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static uint32_t
gsp_emu_ip(uint32_t idx)
{
	return GSP_EMU_NET + idx + 1;
}

/*
 * A name for this process's control paths: the EAL file prefix, which a
 * second primary process cannot share while this one runs; the pid when
 * the prefix does not fit a path.
 */
static void
gsp_emu_tag(char *buf, size_t len)
{
	const char *dir = rte_eal_get_runtime_dir();
	const char *p = dir != NULL ? strrchr(dir, '/') : NULL;
	bool ok;

	p = p != NULL ? p + 1 : dir;
	ok = p != NULL && p[0] != '\0' && strlen(p) < len && strlen(p) <= 40;
	for (const char *c = p; ok && *c != '\0'; c++)
		ok = gsp_name_char_ok(*c);
	if (ok)
		snprintf(buf, len, "%s", p);
	else
		snprintf(buf, len, "pid%ld", (long)getpid());
}

/* The identity of node1 for the control thread and the status view. */
static void
gsp_emu_ctrl_config(struct gsp_config *cfg, const struct gsp_emu *emu,
		    bool from_file, uint32_t capacity)
{
	const struct gsp_emu_opts *o = &emu->o;
	char tag[48];

	snprintf(cfg->cluster, sizeof(cfg->cluster), "emu");
	snprintf(cfg->node_name, sizeof(cfg->node_name), "node1");
	cfg->node_id = 0;
	cfg->addr.ip = gsp_emu_ip(0);
	cfg->prefix_len = GSP_EMU_PREFIX;
	cfg->gateway = 0;
	cfg->interval_ms = (uint32_t)((emu->interval_ns + 999999) / 1000000);
	cfg->max_members = capacity;
	cfg->seed_dns[0] = '\0';
	cfg->dns_server[0] = '\0';
	cfg->n_seeds = o->seeds;
	for (uint32_t i = 0; i < o->seeds; i++)
		cfg->seeds[i] = (struct gsp_addr){ gsp_emu_ip(i),
			cfg->addr.port };
	if (!from_file) {
		/* one per process: emulations side by side must not share */
		gsp_emu_tag(tag, sizeof(tag));
		snprintf(cfg->socket_path, sizeof(cfg->socket_path),
			 "/run/gossipd/emu.%s.node1.sock", tag);
		snprintf(cfg->status_path, sizeof(cfg->status_path),
			 "/dev/shm/gossipd.emu.%s.node1", tag);
	}
}

static int
gsp_emu_id_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct gsp_emu_id *)a)->id;
	uint64_t y = ((const struct gsp_emu_id *)b)->id;

	return x < y ? -1 : x > y;
}

/* The vnode with this member id, or UINT32_MAX. */
static uint32_t
gsp_emu_idx_of(const struct gsp_emu *emu, uint64_t id)
{
	uint32_t lo = 0, hi = emu->o.nodes;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (emu->ids[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < emu->o.nodes && emu->ids[lo].id == id ?
		emu->ids[lo].idx : UINT32_MAX;
}

/*
 * The emulation's detector options into the configuration, which every
 * vnode's core parameters come from (gsp_vnode_init); what is not given
 * stays as the file (or the defaults) set it.
 */
static void
gsp_emu_detector_config(struct gsp_config *cfg, const struct gsp_emu_xopts *x)
{
	if (x->detector != 0)
		cfg->detector = x->detector;
	if (x->probe_interval_ms > 0) {
		cfg->probe_interval_ns = (uint64_t)(x->probe_interval_ms * 1e6);
		/* 0: the core waits half the period, as the config does */
		cfg->probe_timeout_ns = 0;
	}
	if (x->probe_timeout_ms > 0)
		cfg->probe_timeout_ns = (uint64_t)(x->probe_timeout_ms * 1e6);
	if (x->indirect_probes > 0)
		cfg->indirect_probes = x->indirect_probes;
	if (x->suspicion_mult > 0)
		cfg->suspicion_mult = x->suspicion_mult;
	if (x->suspicion_max_mult > 0)
		cfg->suspicion_max_mult = x->suspicion_max_mult;
}

static int
gsp_emu_alloc(struct gsp_emu *emu, uint32_t n)
{
	emu->sizes = calloc((n + 64) / 64, sizeof(uint64_t));
	emu->vs = rte_zmalloc("gsp_emu_vs", sizeof(*emu->vs) * n,
			      RTE_CACHE_LINE_SIZE);
	emu->lat = rte_zmalloc("gsp_emu_lat", sizeof(*emu->lat) *
			       RTE_MAX_LCORE, RTE_CACHE_LINE_SIZE);
	emu->ids = calloc(n, sizeof(*emu->ids));
	if (emu->sizes == NULL || emu->vs == NULL || emu->lat == NULL ||
	    emu->ids == NULL)
		return -ENOMEM;
	/* (observer, member) pairs: N^2 bits twice, while that is small */
	emu->row_words = (n + 63) / 64;
	if (n <= GSP_EMU_PAIRS_MAX_N) {
		size_t words = (size_t)n * emu->row_words;

		emu->pair_sus = calloc(words, sizeof(uint64_t));
		emu->pair_down = calloc(words, sizeof(uint64_t));
		if (emu->pair_sus == NULL || emu->pair_down == NULL)
			return -ENOMEM;
	}
	emu->res_sus = calloc(emu->row_words, sizeof(uint64_t));
	emu->res_down = calloc(emu->row_words, sizeof(uint64_t));
	if (emu->res_sus == NULL || emu->res_down == NULL)
		return -ENOMEM;
	return 0;
}

/* the observer's hooks, run by the lcore that owns the vnode */
static void gsp_emu_on_tick(void *ctx, struct gsp_vnode *vn, uint64_t now_ns);
static void gsp_emu_on_rx(void *ctx, struct gsp_vnode *vn, uint64_t now_ns);
static void gsp_emu_on_event(void *ctx, struct gsp_vnode *vn,
			     const struct gsp_event *ev);
static void gsp_emu_on_cmd(void *ctx, struct gsp_vnode *vn,
			   const struct gsp_cmd *cmd, uint64_t now_ns);

int
gsp_emu_setup(struct gsp_dp *dp, struct gsp_config *cfg,
	      const struct gsp_emu_opts *o)
{
	uint32_t n = o->nodes, lcores[RTE_MAX_LCORE], n_lc = 0;
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	uint64_t gen0 = gsp_realtime_us(), rng = o->seed;
	char spec[256], det[64];
	struct gsp_emu *emu;
	unsigned int lcore;
	uint64_t mbufs;
	int ret;

	emu = calloc(1, sizeof(*emu));
	if (emu == NULL)
		return -ENOMEM;
	emu->o = *o;
	emu->x = *gsp_emu_xopts();
	emu->dp = dp;
	emu->stall_idx = UINT32_MAX;
	emu->wall0_ns = gsp_emu_mono_ns();
	emu->capacity = RTE_MIN(cfg->max_members, n + GSP_EMU_SLACK);
	if (emu->x.gossip_interval_ms > 0)
		emu->o.interval_ms = emu->x.gossip_interval_ms;
	emu->interval_ns = (uint64_t)emu->o.interval_ms * 1000000u;
	if (emu->x.duration_s > 0)
		emu->o.duration_s = emu->x.duration_s;
	/* --loss P is drop=P (emu_opts.c refuses both) */
	emu->fault = emu->x.fault;
	if (o->loss > 0)
		emu->fault.drop = o->loss;
	dp->emu = emu;
	dp->hosts_vnodes = true;
	ret = gsp_emu_alloc(emu, n);
	if (ret != 0)
		return ret;
	/* the scenario's probes: one observer on every lcore, before the
	 * lcores are launched */
	emu->obs = (struct gsp_lcore_observer){
		.on_tick = gsp_emu_on_tick,
		.on_rx = gsp_emu_on_rx,
		.on_event = gsp_emu_on_event,
		.on_cmd = gsp_emu_on_cmd,
		.ctx = emu,
	};
	RTE_LCORE_FOREACH(lcore)
		dp->lconf[lcore].observer = &emu->obs;
	gsp_emu_ctrl_config(cfg, emu, cfg->path[0] != '\0', emu->capacity);
	gsp_emu_detector_config(cfg, &emu->x);
	for (uint32_t i = 0; i < o->seeds; i++)
		seeds[i] = cfg->seeds[i];

	/* frames in flight: a share of the rx rings, within reason */
	mbufs = RTE_MAX((uint64_t)cfg->mbufs,
			(uint64_t)n * GSP_EMU_MBUFS_PER_NODE + 8191);
	emu->n_mbufs = (uint32_t)RTE_MIN(mbufs, (uint64_t)GSP_EMU_MBUFS_MAX);
	ret = gsp_pool_create(dp, emu->n_mbufs, (int)rte_socket_id());
	if (ret != 0)
		return ret;
	emu->rss_before = gsp_emu_proc_kb("VmRSS");

	dp->sw = gsp_switch_create(0, (int)rte_socket_id());
	if (dp->sw == NULL || gsp_switch_set_fault(dp->sw, &emu->fault) != 0)
		return -ENOMEM;
	ret = gsp_vnodes_alloc(dp, n);
	if (ret != 0)
		return ret;
	RTE_LCORE_FOREACH(lcore)
		if (dp->lconf[lcore].enabled)
			lcores[n_lc++] = lcore;
	emu->n_lcores = n_lc;
	for (uint32_t i = 0; i < n; i++) {
		struct gsp_vnode *vn = &dp->vnodes[i];
		char name[GSP_NAME_MAX];
		uint32_t ip = gsp_emu_ip(i);
		struct gsp_vnode_params p = {
			.name = name,
			.generation = gen0 + i,
			.ip = ip,
			.netmask = ~0u << (32 - GSP_EMU_PREFIX),
			.port = cfg->addr.port,
			.capacity = emu->capacity,
			.interval_ms = emu->o.interval_ms,
			.rng_seed = gsp_rand(&rng),
			.seeds = seeds,
			.n_seeds = o->seeds,
			.ring_size = GSP_VNODE_RING_SIZE,
		};

		snprintf(name, sizeof(name), "node%u", i + 1);
		vn->mac = (struct rte_ether_addr){ { 0x02, 0x00, 0x0a, 0x63,
			(uint8_t)(ip >> 8), (uint8_t)ip } };
		ret = gsp_vnode_init(dp, vn, &p);
		if (ret == 0)
			ret = gsp_switch_attach(dp->sw, vn);
		/* node1 on the main lcore, the rest round-robin */
		if (ret == 0)
			ret = gsp_vnode_place(dp, vn, lcores[i % n_lc]);
		if (ret != 0) {
			gsp_log(LOG_ERR, "emulation: cannot create %s (%u of "
				"%u): %s", name, i + 1, n, strerror(-ret));
			return ret;
		}
		emu->ids[i] = (struct gsp_emu_id){ gsp_node_id(vn->node), i };
		/* first round at a random offset within one interval,
		 * relative until gsp_emu_start adds the start time */
		vn->next_tick_ns = gsp_rand(&rng) % emu->interval_ns;
	}
	qsort(emu->ids, n, sizeof(*emu->ids), gsp_emu_id_cmp);
	dp->ctrl_vnode = &dp->vnodes[0];
	ret = gsp_lcores_ready(dp);
	if (ret != 0)
		return ret;
	emu->rss_created = gsp_emu_proc_kb("VmRSS");
	gsp_fault_format(&emu->fault, spec, sizeof(spec));
	gsp_emu_detector_name(cfg->detector, det, sizeof(det));
	gsp_log(LOG_NOTICE, "emulation: %u nodes of cluster emu on %u lcore(s), "
		"%u seeds, %.6g ms rounds, detector %s (probes every %.6g ms), "
		"faults %s, %s, capacity "
		"%u, %u mbufs; RSS %.1f MB before the nodes, %.1f MB after "
		"(%.0f bytes per node); %zu bytes per member; control socket "
		"%s, status view %s", n, n_lc, o->seeds, emu->interval_ns / 1e6,
		det, cfg->probe_interval_ns / 1e6, spec,
		dp->keyring != NULL ? "authenticated" : "PLAINTEXT",
		emu->capacity, emu->n_mbufs, emu->rss_before / 1e6,
		emu->rss_created / 1e6,
		((double)emu->rss_created - (double)emu->rss_before) / n,
		gsp_node_bytes_per_member(dp->keyring != NULL), cfg->socket_path,
		cfg->status_path);
	return 0;
}

/* ---- hooks, called by the lcore that owns the vnode ---- */

static uint64_t
gsp_emu_now_ns(void)
{
	return gsp_dp_tsc_to_ns(rte_get_tsc_cycles());
}

/* Log-linear bucket of a lateness in microseconds: exact below 8 us,
 * then GSP_EMU_LAT_SUB buckets per power of two (12.5 % wide). */
static unsigned int
gsp_emu_lat_bucket(uint64_t us)
{
	unsigned int o, b;

	if (us < GSP_EMU_LAT_SUB)
		return (unsigned int)us;
	o = 63u - (unsigned int)__builtin_clzll(us);	/* >= 3 */
	b = (o - 2) * GSP_EMU_LAT_SUB +
		(unsigned int)((us >> (o - 3)) & (GSP_EMU_LAT_SUB - 1));
	return b < GSP_EMU_LAT_BUCKETS ? b : GSP_EMU_LAT_BUCKETS - 1;
}

/* The upper edge of a bucket, in microseconds. */
static double
gsp_emu_lat_edge(unsigned int b)
{
	unsigned int o = b / GSP_EMU_LAT_SUB + 2, sub = b % GSP_EMU_LAT_SUB;

	if (b < GSP_EMU_LAT_SUB)
		return b + 1;
	return (double)((uint64_t)(GSP_EMU_LAT_SUB + sub + 1) << (o - 3));
}

static void
gsp_emu_stall_begin(struct gsp_emu *emu, struct gsp_vnode *vn,
		    uint64_t now_ns)
{
	struct gsp_emu_vs *vs = &emu->vs[vn->idx];

	/* no rx (frames queue in its ring) and no timer until the end */
	gsp_switch_pause(emu->dp->sw, vn, true);
	vn->next_tick_ns = now_ns + emu->stall_ns;
	vs->due_ns = vn->next_tick_ns;
	emu->stall_rx0 = __atomic_load_n(&vn->stats.rx_packets,
					 __ATOMIC_RELAXED);
	__atomic_store_n(&emu->subj_t0[0], now_ns, __ATOMIC_RELEASE);
	__atomic_store_n(&emu->stall_state, GSP_STALL_STOPPED,
			 __ATOMIC_RELEASE);
}

static void
gsp_emu_on_tick(void *ctx, struct gsp_vnode *vn, uint64_t now_ns)
{
	struct gsp_emu *emu = ctx;
	struct gsp_emu_vs *vs = &emu->vs[vn->idx];
	struct gsp_emu_probe *pr = &vs->probe;
	uint32_t phase = __atomic_load_n(&emu->phase, __ATOMIC_RELAXED);
	struct gsp_node_counters c;
	uint32_t alive;

	if (phase == GSP_PHASE_MEASURE) {
		struct gsp_emu_lat *l = &emu->lat[rte_lcore_id()];
		uint64_t late = now_ns - vs->due_ns;

		/* before the deadline its last tick set: a packet moved the
		 * timer earlier (gsp_timer_earlier), to a time not kept */
		if (now_ns < vs->due_ns) {
			l->ticks_early++;
		} else {
			l->ticks++;
			l->sum_ns += late;
			if (late > l->max_ns)
				l->max_ns = late;
			l->hist[gsp_emu_lat_bucket(late / 1000)]++;
		}
	}
	vs->due_ns = vn->next_tick_ns;
	if (unlikely(vn->idx == emu->stall_idx) &&
	    __atomic_load_n(&emu->stall_state, __ATOMIC_ACQUIRE) ==
	    GSP_STALL_REQUESTED)
		gsp_emu_stall_begin(emu, vn, now_ns);
	if (phase != GSP_PHASE_JOIN)
		return;
	gsp_node_counters_read(vn->node, &c);
	alive = (uint32_t)RTE_MIN(c.alive, (uint64_t)emu->o.nodes);
	if (alive != pr->last_alive) {
		pr->last_alive = alive;
		__atomic_fetch_or(&emu->sizes[alive / 64], 1ull << (alive % 64),
				  __ATOMIC_RELAXED);
	}
	if (alive == emu->o.nodes && pr->joined_ns == 0) {
		__atomic_store_n(&pr->joined_rounds, c.rounds, __ATOMIC_RELAXED);
		__atomic_store_n(&pr->joined_ns, now_ns, __ATOMIC_RELEASE);
	}
}

static void
gsp_emu_on_rx(void *ctx, struct gsp_vnode *vn, uint64_t now_ns)
{
	struct gsp_emu *emu = ctx;
	struct gsp_emu_probe *pr = &emu->vs[vn->idx].probe;
	struct gsp_member_view v;
	uint64_t want;

	if (pr->informed_ns != 0)
		return;
	want = __atomic_load_n(&emu->dis_version, __ATOMIC_ACQUIRE);
	if (want == 0)
		return;
	if (gsp_node_member_read(vn->node, pr->origin_slot, &v) &&
	    v.id == emu->origin_id && v.version >= want)
		__atomic_store_n(&pr->informed_ns, now_ns,
				 __ATOMIC_RELEASE);
}

/* Sets bit i of a bitmap row; true when it was clear. */
static bool
gsp_emu_bit_set(uint64_t *row, uint32_t i)
{
	uint64_t bit = 1ull << (i % 64);

	return !(__atomic_fetch_or(&row[i / 64], bit, __ATOMIC_RELAXED) & bit);
}

/* A live member marked suspect or down by vn: a false positive. */
static void
gsp_emu_false_positive(struct gsp_emu *emu, struct gsp_vnode *vn,
		       uint64_t id, bool down, uint64_t now_ns)
{
	uint32_t subj;
	uint64_t t1;

	if (__atomic_load_n(&emu->phase, __ATOMIC_RELAXED) == GSP_PHASE_JOIN) {
		__atomic_fetch_add(down ? &emu->join_fp_down :
				   &emu->join_fp_sus, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(down ? &emu->fp_down : &emu->fp_sus, 1,
			   __ATOMIC_RELAXED);
	subj = gsp_emu_idx_of(emu, id);
	if (subj == UINT32_MAX)
		return;
	if (emu->pair_sus != NULL &&
	    gsp_emu_bit_set((down ? emu->pair_down : emu->pair_sus) +
			    (size_t)vn->idx * emu->row_words, subj))
		__atomic_fetch_add(down ? &emu->pairs_down : &emu->pairs_sus, 1,
				   __ATOMIC_RELAXED);
	/* the stalled vnode's own verdicts once it runs again */
	t1 = __atomic_load_n(&emu->stall_t1, __ATOMIC_ACQUIRE);
	if (vn->idx == emu->stall_idx && t1 != 0 && now_ns >= t1 &&
	    gsp_emu_bit_set(down ? emu->res_down : emu->res_sus, subj))
		__atomic_fetch_add(down ? &emu->res_down_n : &emu->res_sus_n, 1,
				   __ATOMIC_RELAXED);
}

static void
gsp_emu_on_event(void *ctx, struct gsp_vnode *vn, const struct gsp_event *ev)
{
	struct gsp_emu *emu = ctx;
	struct gsp_emu_vs *vs = &emu->vs[vn->idx];
	uint32_t n_subj = __atomic_load_n(&emu->n_subj, __ATOMIC_ACQUIRE);
	bool down = ev->new_state == GSP_STATE_DOWN;
	uint64_t now_ns;
	uint32_t k;

	if (ev->type != GSP_EV_STATE || ev->new_state == GSP_STATE_LEFT)
		return;
	for (k = 0; k < n_subj; k++)
		if (emu->subj_id[k] == ev->id)
			break;
	if (ev->new_state == GSP_STATE_ALIVE) {
		if (k < n_subj) {
			__atomic_store_n(&vs->state[k], GSP_STATE_ALIVE,
					 __ATOMIC_RELEASE);
			__atomic_store_n(&vs->alive_ns, gsp_emu_now_ns(),
					 __ATOMIC_RELEASE);
		}
		return;
	}
	now_ns = gsp_emu_now_ns();
	/* a subject counts once it is down for real; before, it was live */
	if (k < n_subj && __atomic_load_n(&emu->subj_t0[k], __ATOMIC_ACQUIRE)) {
		uint64_t t1 = __atomic_load_n(&emu->stall_t1, __ATOMIC_ACQUIRE);

		if (vs->suspect_ns[k] == 0)
			__atomic_store_n(&vs->suspect_ns[k], now_ns,
					 __ATOMIC_RELEASE);
		if (down && vs->down_ns[k] == 0)
			__atomic_store_n(&vs->down_ns[k], now_ns,
					 __ATOMIC_RELEASE);
		__atomic_store_n(&vs->state[k], ev->new_state,
				 __ATOMIC_RELEASE);
		if (emu->subj_idx[k] == emu->stall_idx && t1 != 0)
			__atomic_fetch_add(&emu->late_marks, 1,
					   __ATOMIC_RELAXED);
		return;
	}
	gsp_emu_false_positive(emu, vn, ev->id, down, now_ns);
}

static void
gsp_emu_on_cmd(void *ctx, struct gsp_vnode *vn, const struct gsp_cmd *cmd,
	       uint64_t now_ns)
{
	struct gsp_emu *emu = ctx;
	struct gsp_member_view v;
	uint32_t hw;

	if (cmd->type == GSP_CMD_CRASH) {
		for (uint32_t k = 0; k < emu->n_subj; k++)
			if (emu->subj_idx[k] == vn->idx)
				__atomic_store_n(&emu->subj_t0[k], now_ns,
						 __ATOMIC_RELEASE);
		return;
	}
	if (cmd->type != GSP_CMD_SET_APP)
		return;
	/* the version that carries the change: seeing it means informed */
	hw = gsp_node_slot_count(vn->node);
	for (uint32_t s = 0; s < hw; s++)
		if (gsp_node_member_read(vn->node, s, &v) &&
		    v.id == emu->origin_id) {
			emu->dis_t0_ns = now_ns;
			emu->vs[vn->idx].probe.informed_ns = now_ns;
			__atomic_store_n(&emu->dis_version, v.version,
					 __ATOMIC_RELEASE);
			__atomic_store_n(&emu->obs.watch_rx, true,
					 __ATOMIC_RELAXED);
			return;
		}
}

/* ---- the scenario thread ---- */

static uint64_t
gsp_emu_forwarded(const struct gsp_dp *dp)
{
	uint64_t sum = 0;
	unsigned int lcore;

	RTE_LCORE_FOREACH(lcore)
		sum += __atomic_load_n(&dp->lconf[lcore].sw.forwarded,
				       __ATOMIC_RELAXED);
	return sum;
}

static bool
gsp_emu_snap(struct gsp_emu *emu, struct gsp_emu_snap *s)
{
	struct gsp_dp *dp = emu->dp;
	struct gsp_node_counters c;

	if (s->v == NULL)
		s->v = calloc((size_t)dp->n_vnodes * GSP_EMU_SNAP_N,
			      sizeof(uint64_t));
	if (s->v == NULL)
		return false;
	s->t_ns = gsp_emu_now_ns();
	s->cpu_us = gsp_emu_cpu_us();
	s->forwarded = gsp_emu_forwarded(dp);
	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		const struct gsp_vnode_stats *st = &dp->vnodes[i].stats;
		uint64_t *v = &s->v[(size_t)GSP_EMU_SNAP_N * i];

		v[GSP_EMU_SNAP_TX_PKTS] = __atomic_load_n(&st->tx_packets,
							  __ATOMIC_RELAXED);
		v[GSP_EMU_SNAP_RX_PKTS] = __atomic_load_n(&st->rx_packets,
							  __ATOMIC_RELAXED);
		v[GSP_EMU_SNAP_TX_BYTES] = __atomic_load_n(&st->tx_bytes,
							   __ATOMIC_RELAXED);
		v[GSP_EMU_SNAP_RX_BYTES] = __atomic_load_n(&st->rx_bytes,
							   __ATOMIC_RELAXED);
		gsp_node_counters_read(dp->vnodes[i].node, &c);
		v[GSP_EMU_SNAP_ROUNDS] = c.rounds;
	}
	return true;
}

/* true when quitting or past the deadline */
static bool
gsp_emu_wait(struct gsp_emu *emu, uint64_t deadline_ns)
{
	if (emu->dp->force_quit || gsp_emu_now_ns() >= deadline_ns)
		return true;
	rte_delay_us_sleep(GSP_EMU_POLL_US);
	return false;
}

/* Sleeps until t_ns (or a quit); false when quitting. */
static bool
gsp_emu_sleep_until(struct gsp_emu *emu, uint64_t t_ns)
{
	uint64_t now;

	while ((now = gsp_emu_now_ns()) < t_ns) {
		if (emu->dp->force_quit)
			return false;
		/* coarse, then short sleeps for the last milliseconds */
		rte_delay_us_sleep(t_ns - now > 2000000 ? GSP_EMU_POLL_US :
				   (t_ns - now) / 1000 > 200 ? 100 : 1);
	}
	return true;
}

/*
 * A per-vnode u64 field, wherever it lives: at base + i * stride. The
 * same walk serves the probes in the vnodes and struct gsp_emu_vs.
 */
struct gsp_emu_field {
	const uint8_t *base;
	size_t stride;
	uint32_t skip;			/* a vnode not counted, or UINT32_MAX */
};

static uint64_t
gsp_emu_field_get(const struct gsp_emu_field *f, uint32_t i)
{
	return __atomic_load_n((const uint64_t *)(const void *)
			       (f->base + i * f->stride), __ATOMIC_ACQUIRE);
}

static struct gsp_emu_field
gsp_emu_probe_field(const struct gsp_emu *emu, size_t off)
{
	return (struct gsp_emu_field){
		(const uint8_t *)&emu->vs[0].probe + off,
		sizeof(struct gsp_emu_vs), UINT32_MAX };
}

static struct gsp_emu_field
gsp_emu_vs_field(const uint64_t *first, uint32_t skip)
{
	return (struct gsp_emu_field){ (const uint8_t *)first,
		sizeof(struct gsp_emu_vs), skip };
}

/* How many vnodes have the field set (nonzero); *min_ns, *max_ns. */
static uint32_t
gsp_emu_count(const struct gsp_emu *emu, const struct gsp_emu_field *f,
	      uint64_t *min_ns, uint64_t *max_ns)
{
	uint32_t n = 0;

	*max_ns = 0;
	*min_ns = UINT64_MAX;
	for (uint32_t i = 0; i < emu->o.nodes; i++) {
		uint64_t t;

		if (i == f->skip || (t = gsp_emu_field_get(f, i)) == 0)
			continue;
		n++;
		*max_ns = RTE_MAX(*max_ns, t);
		*min_ns = RTE_MIN(*min_ns, t);
	}
	if (n == 0)
		*min_ns = 0;
	return n;
}

static int
gsp_emu_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* [t_s, fraction] points from the per-vnode times (0: never). */
static void
gsp_emu_curve(FILE *f, const struct gsp_emu *emu,
	      const struct gsp_emu_field *fld, uint64_t t0_ns, uint32_t of)
{
	uint64_t *t = malloc(sizeof(*t) * emu->o.nodes);
	uint32_t n = 0, step;

	fputs("[", f);
	if (t == NULL || of == 0) {
		fputs("]", f);
		free(t);
		return;
	}
	for (uint32_t i = 0; i < emu->o.nodes; i++) {
		uint64_t v = i == fld->skip ? 0 : gsp_emu_field_get(fld, i);

		if (v != 0)
			t[n++] = v < t0_ns ? 0 : v - t0_ns;
	}
	qsort(t, n, sizeof(*t), gsp_emu_u64_cmp);
	fputs("[0,0]", f);
	step = (n + GSP_EMU_CURVE_MAX - 1) / GSP_EMU_CURVE_MAX;
	if (step == 0)
		step = 1;
	for (uint32_t k = 0; k < n; k++)
		if ((k + 1) % step == 0 || k + 1 == n)
			fprintf(f, ",[%.4f,%.5f]", t[k] / 1e9,
				(double)(k + 1) / of);
	fputs("]", f);
	free(t);
}

static uint32_t
gsp_emu_distinct_sizes(const struct gsp_emu *emu)
{
	uint32_t n = 0;

	for (uint32_t w = 0; w < (emu->o.nodes + 64) / 64; w++)
		n += (uint32_t)__builtin_popcountll(
			__atomic_load_n(&emu->sizes[w], __ATOMIC_RELAXED));
	return n;
}

/* How one subject was detected, in seconds from its crash or stop. */
struct gsp_emu_det {
	uint32_t idx;
	uint32_t observers;
	uint32_t suspected_by, down_by;
	double first_suspect_s, all_suspect_s;
	double first_down_s, all_down_s;	/* -1: not (all) */
};

struct gsp_emu_result {
	bool timeout;
	double time_s;
	double rounds;
	double join_s;
	uint64_t join_rounds;
	bool curve;
	struct gsp_emu_field curve_f;
	uint64_t curve_t0;
	uint32_t curve_of;
	uint32_t n_det;
	struct gsp_emu_det det[GSP_EMU_CRASH_MAX];
	uint64_t fp_sus0, fp_down0, pairs_sus0, pairs_down0;
	/* stall */
	double stall_alive_s;		/* resume -> alive everywhere */
	uint64_t stall_rx_queued;	/* in its ring when it resumed */
	uint64_t stall_rx_leak;		/* frames it took while stopped */
	const char *why;		/* timeout reason */
};

static void
gsp_emu_json_num(FILE *f, const char *key, double v, bool ok)
{
	if (ok && isfinite(v))
		fprintf(f, ",\"%s\":%.6g", key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

/* The vnodes' tick lateness over the window, merged over the lcores. */
static void
gsp_emu_write_timing(FILE *f, const struct gsp_emu *emu, double dt,
		     const struct gsp_emu_snap *a, const struct gsp_emu_snap *b)
{
	static const double pct[] = { 0.5, 0.9, 0.99, 0.999 };
	static const char *const pname[] = { "p50", "p90", "p99", "p999" };
	uint64_t ticks = 0, early = 0, sum = 0, max = 0, *h;
	unsigned int lcore;

	h = calloc(GSP_EMU_LAT_BUCKETS, sizeof(*h));
	RTE_LCORE_FOREACH(lcore) {
		const struct gsp_emu_lat *l = &emu->lat[lcore];

		ticks += __atomic_load_n(&l->ticks, __ATOMIC_RELAXED);
		early += __atomic_load_n(&l->ticks_early, __ATOMIC_RELAXED);
		sum += __atomic_load_n(&l->sum_ns, __ATOMIC_RELAXED);
		max = RTE_MAX(max, __atomic_load_n(&l->max_ns,
						   __ATOMIC_RELAXED));
		for (unsigned int k = 0; h != NULL && k < GSP_EMU_LAT_BUCKETS;
		     k++)
			h[k] += __atomic_load_n(&l->hist[k], __ATOMIC_RELAXED);
	}
	fprintf(f, ",\"timing\":{\"ticks\":%" PRIu64 ",\"ticks_early\":%"
		PRIu64, ticks, early);
	gsp_emu_json_num(f, "ticks_per_s", (ticks + early) / dt, dt > 0);
	gsp_emu_json_num(f, "tick_late_us_mean", sum / 1e3 / ticks, ticks > 0);
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
		gsp_emu_json_num(f, key, edge, edge >= 0);
	}
	gsp_emu_json_num(f, "tick_late_us_max", max / 1e3, ticks > 0);
	gsp_emu_json_num(f, "switched_pps", (b->forwarded - a->forwarded) / dt,
			 dt > 0);
	/* of the lcores' capacity: near 1, the machine is the limit */
	gsp_emu_json_num(f, "cpu_util", (double)(b->cpu_us - a->cpu_us) /
			 1e6 / dt / emu->n_lcores, dt > 0);
	fputs("}", f);
	free(h);
}

static void
gsp_emu_write_det(FILE *f, const struct gsp_emu_det *d)
{
	fprintf(f, "{\"node\":\"node%u\",\"observers\":%u,\"suspected_by\":%u,"
		"\"down_by\":%u", d->idx + 1, d->observers, d->suspected_by,
		d->down_by);
	gsp_emu_json_num(f, "first_suspect_s", d->first_suspect_s,
			 d->first_suspect_s >= 0);
	gsp_emu_json_num(f, "all_suspect_s", d->all_suspect_s,
			 d->all_suspect_s >= 0);
	gsp_emu_json_num(f, "first_down_s", d->first_down_s,
			 d->first_down_s >= 0);
	gsp_emu_json_num(f, "all_down_s", d->all_down_s, d->all_down_s >= 0);
	fputs("}", f);
}

static void
gsp_emu_write(struct gsp_emu *emu, const struct gsp_emu_result *r,
	      const struct gsp_emu_snap *a, const struct gsp_emu_snap *b)
{
	const struct gsp_dp *dp = emu->dp;
	const struct gsp_emu_opts *o = &emu->o;
	const struct gsp_config *cfg = dp->cfg;
	double dt = b->t_ns > a->t_ns ? (b->t_ns - a->t_ns) / 1e9 : 0;
	double sum[GSP_EMU_SNAP_N] = { 0 }, max[GSP_EMU_SNAP_N] = { 0 };
	uint64_t tx_dropped = 0, tx_no_arp = 0, rx_drop = 0;
	struct gsp_node_counters c, sum_c = { 0 };
	uint64_t peak = gsp_emu_proc_kb("VmHWM");
	struct gsp_switch_stats sw = { 0 };
	struct gsp_switch_fstats fs;
	uint64_t members = (uint64_t)o->nodes * o->nodes;
	double first_sus = -1, all_sus = -1, first_down = -1, all_down = -1;
	bool all_ok = r->n_det > 0;
	char spec[256], det[64];
	unsigned int lcore;
	FILE *f;

	for (uint32_t i = 0; i < dp->n_vnodes; i++)
		for (size_t k = 0; k < GSP_EMU_SNAP_N; k++) {
			size_t j = (size_t)GSP_EMU_SNAP_N * i + k;
			double d = (double)(b->v[j] - a->v[j]);

			sum[k] += d;
			if (d > max[k])
				max[k] = d;
		}
	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		const struct gsp_vnode_stats *st = &dp->vnodes[i].stats;

		tx_dropped += __atomic_load_n(&st->tx_dropped, __ATOMIC_RELAXED);
		tx_no_arp += __atomic_load_n(&st->tx_no_arp, __ATOMIC_RELAXED);
		gsp_node_counters_read(dp->vnodes[i].node, &c);
		/* every counter of the core is a u64: sum them all */
		for (size_t k = 0; k < sizeof(c) / sizeof(uint64_t); k++)
			((uint64_t *)&sum_c)[k] += ((const uint64_t *)&c)[k];
	}
	for (int k = 1; k < GSP_RX_ERR_MAX; k++)
		rx_drop += sum_c.rx_drop[k];
	RTE_LCORE_FOREACH(lcore) {
		const uint64_t *src = (const uint64_t *)&dp->lconf[lcore].sw;
		uint64_t *dst = (uint64_t *)&sw;

		/* the lcores may still be counting */
		for (size_t k = 0; k < sizeof(sw) / sizeof(uint64_t); k++)
			dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
	}
	gsp_switch_fstats(dp->sw, &fs);
	/* over all subjects: the first of the firsts, the last of the alls */
	for (uint32_t k = 0; k < r->n_det; k++) {
		const struct gsp_emu_det *d = &r->det[k];

		if (d->first_suspect_s >= 0 && (first_sus < 0 ||
		    d->first_suspect_s < first_sus))
			first_sus = d->first_suspect_s;
		if (d->first_down_s >= 0 && (first_down < 0 ||
		    d->first_down_s < first_down))
			first_down = d->first_down_s;
		all_sus = RTE_MAX(all_sus, d->all_suspect_s);
		all_down = RTE_MAX(all_down, d->all_down_s);
		if (d->all_down_s < 0)
			all_ok = false;
	}
	f = o->json != NULL ? fopen(o->json, "a") : stdout;
	if (f == NULL) {
		gsp_log(LOG_ERR, "emulation: cannot open %s: %s", o->json,
			strerror(errno));
		emu->status = 1;
		return;
	}
	gsp_fault_format(&emu->fault, spec, sizeof(spec));
	gsp_emu_detector_name(cfg->detector, det, sizeof(det));
	fprintf(f, "{\"mode\":\"emu\",\"scenario\":\"%s\",\"nodes\":%u,"
		"\"seed\":%" PRIu64 ",\"interval_ms\":%.6g,\"loss\":%.6g,"
		"\"fault\":\"%s\",\"fanout\":%u,\"seeds\":%u,\"lcores\":%u",
		gsp_emu_names[o->scenario], o->nodes, o->seed,
		emu->interval_ns / 1e6, emu->fault.drop, spec, dp->cfg->fanout,
		o->seeds, emu->n_lcores);
	/* the detector as every vnode's core got it */
	fprintf(f, ",\"detector\":\"%s\"", det);
	gsp_emu_json_num(f, "probe_interval_ms", cfg->probe_interval_ns / 1e6,
			 true);
	gsp_emu_json_num(f, "probe_timeout_ms", (cfg->probe_timeout_ns ?
			 cfg->probe_timeout_ns : cfg->probe_interval_ns / 2) /
			 1e6, true);
	fprintf(f, ",\"indirect_probes\":%u,\"suspicion_mult\":%u,"
		"\"suspicion_max_mult\":%u,\"awareness_max\":%u",
		cfg->indirect_probes, cfg->suspicion_mult,
		cfg->suspicion_max_mult, cfg->awareness_max);
	gsp_emu_json_num(f, "phi_suspect", cfg->phi_suspect, true);
	gsp_emu_json_num(f, "phi_convict", cfg->phi_convict, true);
	fprintf(f, ",\"timeout\":%s", r->timeout ? "true" : "false");
	gsp_emu_json_num(f, "time_s", r->time_s, r->time_s >= 0);
	/* steady, fp: the rounds each vnode really ran in the window */
	gsp_emu_json_num(f, "rounds", o->scenario == GSP_EMU_STEADY ||
			 o->scenario == GSP_EMU_FP ?
			 sum[GSP_EMU_SNAP_ROUNDS] / o->nodes : r->rounds,
			 r->rounds >= 0);
	gsp_emu_json_num(f, "join_s", r->join_s, r->join_s >= 0);
	gsp_emu_json_num(f, "join_rounds", (double)r->join_rounds,
			 r->join_s >= 0);
	fprintf(f, ",\"distinct_sizes\":%u", gsp_emu_distinct_sizes(emu));
	fputs(",\"informed_curve\":", f);
	if (r->curve)
		gsp_emu_curve(f, emu, &r->curve_f, r->curve_t0, r->curve_of);
	else
		fputs("[]", f);
	gsp_emu_json_num(f, "bound_rounds", log(o->nodes) / log(3.0) +
			 log(log(o->nodes)), o->scenario == GSP_EMU_DISSEMINATE &&
			 o->nodes > 2);
	fprintf(f, ",\"crashed\":%u", o->scenario == GSP_EMU_DETECT ?
		r->n_det : 0);
	gsp_emu_json_num(f, "first_suspect_s", first_sus, first_sus >= 0);
	gsp_emu_json_num(f, "all_suspect_s", all_sus,
			 all_sus >= 0 && r->n_det > 0);
	gsp_emu_json_num(f, "first_detect_s", first_down, first_down >= 0);
	gsp_emu_json_num(f, "all_detect_s", all_down, all_ok);
	fputs(",\"subjects\":[", f);
	for (uint32_t k = 0; k < r->n_det; k++) {
		if (k > 0)
			fputs(",", f);
		gsp_emu_write_det(f, &r->det[k]);
	}
	fputs("]", f);
	/* live members marked suspect/down, measured window */
	fprintf(f, ",\"false_positives\":%" PRIu64, emu->fp_down - r->fp_down0);
	fprintf(f, ",\"fp\":{\"suspect_transitions\":%" PRIu64
		",\"down_transitions\":%" PRIu64, emu->fp_sus - r->fp_sus0,
		emu->fp_down - r->fp_down0);
	gsp_emu_json_num(f, "suspect_pairs", (double)(emu->pairs_sus -
			 r->pairs_sus0), emu->pair_sus != NULL);
	gsp_emu_json_num(f, "down_pairs", (double)(emu->pairs_down -
			 r->pairs_down0), emu->pair_sus != NULL);
	fprintf(f, "},\"join_false_positives\":%" PRIu64
		",\"join_false_suspicions\":%" PRIu64, emu->join_fp_down,
		emu->join_fp_sus);
	if (o->scenario == GSP_EMU_STALL) {
		fprintf(f, ",\"stall\":{\"node\":\"node%u\"", emu->stall_idx + 1);
		gsp_emu_json_num(f, "stall_s", emu->stall_ns / 1e9, true);
		gsp_emu_json_num(f, "alive_again_s", r->stall_alive_s,
				 r->stall_alive_s >= 0);
		fprintf(f, ",\"resumed_suspected\":%" PRIu64
			",\"resumed_downed\":%" PRIu64 ",\"late_marks\":%" PRIu64
			",\"rx_queued\":%" PRIu64 ",\"rx_dropped\":%" PRIu64
			",\"rx_while_stopped\":%" PRIu64 "}", emu->res_sus_n,
			emu->res_down_n, emu->late_marks, r->stall_rx_queued,
			fs.paused_dropped, r->stall_rx_leak);
	}
	gsp_emu_json_num(f, "window_s", dt, true);
	gsp_emu_json_num(f, "tx_pps_mean",
			 sum[GSP_EMU_SNAP_TX_PKTS] / o->nodes / dt, dt > 0);
	gsp_emu_json_num(f, "rx_pps_mean",
			 sum[GSP_EMU_SNAP_RX_PKTS] / o->nodes / dt, dt > 0);
	gsp_emu_json_num(f, "tx_Bps_mean",
			 sum[GSP_EMU_SNAP_TX_BYTES] / o->nodes / dt, dt > 0);
	gsp_emu_json_num(f, "rx_Bps_mean",
			 sum[GSP_EMU_SNAP_RX_BYTES] / o->nodes / dt, dt > 0);
	gsp_emu_json_num(f, "tx_Bps_max", max[GSP_EMU_SNAP_TX_BYTES] / dt,
			 dt > 0);
	gsp_emu_json_num(f, "rx_Bps_max", max[GSP_EMU_SNAP_RX_BYTES] / dt,
			 dt > 0);
	/* above the interval: the lcores could not keep up (see docs) */
	gsp_emu_json_num(f, "round_ms_mean", dt * 1e3 * o->nodes /
			 sum[GSP_EMU_SNAP_ROUNDS], sum[GSP_EMU_SNAP_ROUNDS] > 0);
	gsp_emu_json_num(f, "cpu_us_per_node_s",
			 (double)(b->cpu_us - a->cpu_us) / o->nodes / dt,
			 dt > 0);
	gsp_emu_write_timing(f, emu, dt, a, b);
	fprintf(f, ",\"peak_rss_bytes\":%" PRIu64 ",\"rss_before_bytes\":%"
		PRIu64 ",\"rss_created_bytes\":%" PRIu64, peak,
		emu->rss_before, emu->rss_created);
	gsp_emu_json_num(f, "wall_s", (gsp_emu_mono_ns() - emu->wall0_ns) / 1e9,
			 true);
	fprintf(f, ",\"auth\":\"%s\",\"bytes_per_member\":%zu",
		dp->keyring != NULL ? gsp_cipher_name(
			gsp_keyring_cipher(dp->keyring)) : "plaintext",
		gsp_node_bytes_per_member(dp->keyring != NULL));
	gsp_emu_json_num(f, "bytes_per_member_measured",
			 ((double)peak - (double)emu->rss_created) / members,
			 peak > emu->rss_created);
	gsp_emu_json_num(f, "bytes_per_vnode",
			 ((double)emu->rss_created - (double)emu->rss_before) /
			 o->nodes, emu->rss_created > emu->rss_before);
	fprintf(f, ",\"capacity\":%u,\"mbufs\":%u,\"tx_dropped\":%" PRIu64
		",\"tx_no_arp\":%" PRIu64, emu->capacity, emu->n_mbufs,
		tx_dropped, tx_no_arp);
	fprintf(f, ",\"control_socket\":\"%s\",\"status_view\":\"%s\"",
		dp->cfg->socket_path, dp->cfg->status_path);
	fprintf(f, ",\"switch\":{\"forwarded\":%" PRIu64 ",\"arp_suppressed\":%"
		PRIu64 ",\"garp_absorbed\":%" PRIu64 ",\"arp_unknown\":%" PRIu64
		",\"flood_dropped\":%" PRIu64 ",\"unknown_dropped\":%" PRIu64
		",\"ring_full\":%" PRIu64 ",\"lost\":%" PRIu64,
		sw.forwarded, sw.arp_suppressed, sw.garp_absorbed,
		sw.arp_unknown, sw.flood_dropped, sw.unknown_dropped,
		sw.ring_full, fs.fault[GSP_FAULT_C_DROPPED]);
	fputs(",\"fault\":{", f);
	for (unsigned int k = 0; k < GSP_FAULT_C_MAX; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "",
			gsp_fault_ctr_name(k), fs.fault[k]);
	fprintf(f, ",\"delay_queued_max\":%" PRIu64, fs.delay_queued_max);
	gsp_emu_json_num(f, "delay_late_us_mean", fs.delay_late_sum_ns / 1e3 /
			 fs.delay_released, fs.delay_released > 0);
	gsp_emu_json_num(f, "delay_late_us_max", fs.delay_late_max_ns / 1e3,
			 fs.delay_released > 0);
	fputs("}}", f);
	/* the cores' own counters, whole run, all vnodes */
	fprintf(f, ",\"core\":{\"rounds\":%" PRIu64 ",\"tx_syn\":%" PRIu64
		",\"tx_ack\":%" PRIu64 ",\"tx_ack2\":%" PRIu64 ",\"tx_push\":%"
		PRIu64 ",\"merged\":%" PRIu64 ",\"stale\":%" PRIu64
		",\"table_full\":%" PRIu64 ",\"rx_drop\":%" PRIu64,
		sum_c.rounds, sum_c.tx_syn, sum_c.tx_ack, sum_c.tx_ack2,
		sum_c.tx_push, sum_c.merged, sum_c.stale, sum_c.table_full,
		rx_drop);
	fprintf(f, ",\"tx_ping\":%" PRIu64 ",\"tx_pong\":%" PRIu64
		",\"tx_ping_req\":%" PRIu64 ",\"tx_nack\":%" PRIu64
		",\"probes_failed\":%" PRIu64 ",\"suspicions\":%" PRIu64
		",\"refutations\":%" PRIu64 ",\"claims_rx\":%" PRIu64
		",\"declared_down\":%" PRIu64 "}", sum_c.tx_ping, sum_c.tx_pong,
		sum_c.tx_ping_req, sum_c.tx_nack, sum_c.probes_failed,
		sum_c.suspicions, sum_c.refutations, sum_c.claims_rx,
		sum_c.declared_down);
	if (r->timeout)
		fprintf(f, ",\"timeout_reason\":\"%s\"", r->why);
	fputs("}\n", f);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

/* The k-th distinct non-seed vnode picked by the run's seed; the last
 * vnode when there is no non-seed. */
static uint32_t
gsp_emu_pick(const struct gsp_emu *emu, uint64_t salt, uint32_t k)
{
	uint64_t s = emu->o.seed ^ salt;
	uint32_t n = emu->o.nodes, seeds = emu->o.seeds, first;

	if (n <= seeds)
		return n - 1;
	/* consecutive from a random start: distinct while k < n - seeds */
	first = (uint32_t)(gsp_rand(&s) % (n - seeds));
	return seeds + (first + k) % (n - seeds);
}

/* Each vnode's table slot of the origin, before the change is made. */
static bool
gsp_emu_find_origin(struct gsp_emu *emu)
{
	struct gsp_dp *dp = emu->dp;
	struct gsp_member_view v;

	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		struct gsp_vnode *vn = &dp->vnodes[i];
		struct gsp_emu_probe *pr = &emu->vs[i].probe;
		uint32_t hw = gsp_node_slot_count(vn->node);

		pr->origin_slot = UINT32_MAX;
		for (uint32_t s = 0; s < hw; s++)
			if (gsp_node_member_read(vn->node, s, &v) &&
			    v.id == emu->origin_id) {
				pr->origin_slot = s;
				break;
			}
		if (pr->origin_slot == UINT32_MAX)
			return false;
		if (dp->force_quit)
			return false;
	}
	return true;
}

/* Declares the subjects (before they go down): their events are
 * tracked per observer from then on. */
static void
gsp_emu_subjects(struct gsp_emu *emu, const uint32_t *idx, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		emu->subj_idx[k] = idx[k];
		emu->subj_id[k] = gsp_node_id(emu->dp->vnodes[idx[k]].node);
	}
	__atomic_store_n(&emu->n_subj, n, __ATOMIC_RELEASE);
}

static bool
gsp_emu_is_subject(const struct gsp_emu *emu, uint32_t i)
{
	for (uint32_t k = 0; k < emu->n_subj; k++)
		if (emu->subj_idx[k] == i)
			return true;
	return false;
}

/* Subject k as its live observers saw it. */
static void
gsp_emu_detection(const struct gsp_emu *emu, uint32_t k,
		  struct gsp_emu_det *d)
{
	uint64_t t0 = __atomic_load_n(&emu->subj_t0[k], __ATOMIC_ACQUIRE);
	uint64_t s_min, s_max, d_min, d_max;
	struct gsp_emu_field fs = gsp_emu_vs_field(&emu->vs[0].suspect_ns[k],
						   UINT32_MAX);
	struct gsp_emu_field fd = gsp_emu_vs_field(&emu->vs[0].down_ns[k],
						   UINT32_MAX);

	d->idx = emu->subj_idx[k];
	d->observers = emu->o.nodes - emu->n_subj;
	d->suspected_by = d->down_by = 0;
	s_min = d_min = UINT64_MAX;
	s_max = d_max = 0;
	for (uint32_t i = 0; i < emu->o.nodes; i++) {
		uint64_t s, t;

		if (gsp_emu_is_subject(emu, i))
			continue;
		s = gsp_emu_field_get(&fs, i);
		t = gsp_emu_field_get(&fd, i);
		if (s != 0) {
			d->suspected_by++;
			s_min = RTE_MIN(s_min, s);
			s_max = RTE_MAX(s_max, s);
		}
		if (t != 0) {
			d->down_by++;
			d_min = RTE_MIN(d_min, t);
			d_max = RTE_MAX(d_max, t);
		}
	}
	d->first_suspect_s = d->suspected_by ? gsp_emu_span_s(s_min, t0) : -1;
	d->first_down_s = d->down_by ? gsp_emu_span_s(d_min, t0) : -1;
	d->all_suspect_s = d->suspected_by == d->observers ?
		gsp_emu_span_s(s_max, t0) : -1;
	d->all_down_s = d->down_by == d->observers ?
		gsp_emu_span_s(d_max, t0) : -1;
}

static bool
gsp_emu_all_down(const struct gsp_emu *emu)
{
	for (uint32_t k = 0; k < emu->n_subj; k++) {
		struct gsp_emu_det d;

		gsp_emu_detection(emu, k, &d);
		if (d.down_by < d.observers)
			return false;
	}
	return true;
}

static void
gsp_emu_detect(struct gsp_emu *emu, struct gsp_emu_result *r,
	       uint64_t deadline)
{
	uint32_t idx[GSP_EMU_CRASH_MAX], k, n_crash = emu->x.crash;
	struct gsp_cmd cmd = { .type = GSP_CMD_CRASH, .flags = GSP_CMD_F_OBSERVE };

	if (n_crash + emu->o.seeds >= emu->o.nodes) {
		r->timeout = true;
		r->why = "--crash leaves no live non-seed vnode";
		return;
	}
	for (k = 0; k < n_crash; k++)
		idx[k] = gsp_emu_pick(emu, 0x76696374696dull, k);
	gsp_emu_subjects(emu, idx, n_crash);
	for (k = 0; k < n_crash; k++) {
		cmd.vnode = idx[k];
		if (gsp_dp_submit(&cmd) != 0) {
			r->timeout = true;
			r->why = "command ring full";
			return;
		}
	}
	while (!gsp_emu_all_down(emu))
		if (gsp_emu_wait(emu, deadline))
			break;
	r->n_det = n_crash;
	for (k = 0; k < n_crash; k++) {
		gsp_emu_detection(emu, k, &r->det[k]);
		if (r->det[k].all_down_s < 0) {
			r->timeout = true;
			r->why = "detect";
		}
	}
	r->curve = true;
	r->curve_f = gsp_emu_vs_field(&emu->vs[0].down_ns[0],
				      UINT32_MAX);
	r->curve_t0 = __atomic_load_n(&emu->subj_t0[0], __ATOMIC_ACQUIRE);
	r->curve_of = emu->o.nodes - n_crash;
	if (r->timeout) {
		gsp_log(LOG_ERR, "emulation: %u of %u nodes marked node%u down "
			"before the deadline", r->det[0].down_by,
			r->det[0].observers, idx[0] + 1);
		return;
	}
	r->time_s = 0;
	for (k = 0; k < n_crash; k++)
		r->time_s = RTE_MAX(r->time_s, r->det[k].all_down_s);
	r->rounds = ceil(r->time_s * 1e9 / emu->interval_ns);
	gsp_log(LOG_NOTICE, "emulation: %u node(s) crashed (node%u first); "
		"first marked down after %.3f s, by all %u others after %.3f s "
		"(suspect: %.3f s, %.3f s)", n_crash, idx[0] + 1,
		r->det[0].first_down_s, r->det[0].observers, r->time_s,
		r->det[0].first_suspect_s, r->det[0].all_suspect_s);
}

/* Every live observer lists the stalled vnode alive; the last time one
 * of them switched back (or 0 when none had to). */
static bool
gsp_emu_alive_everywhere(const struct gsp_emu *emu, uint64_t *last_ns)
{
	*last_ns = 0;
	for (uint32_t i = 0; i < emu->o.nodes; i++) {
		const struct gsp_emu_vs *vs = &emu->vs[i];

		if (i == emu->stall_idx)
			continue;
		if (__atomic_load_n(&vs->state[0], __ATOMIC_ACQUIRE) !=
		    GSP_STATE_ALIVE)
			return false;
		*last_ns = RTE_MAX(*last_ns, __atomic_load_n(&vs->alive_ns,
							     __ATOMIC_ACQUIRE));
	}
	return true;
}

static void
gsp_emu_stall(struct gsp_emu *emu, struct gsp_emu_result *r,
	      uint64_t deadline)
{
	struct gsp_dp *dp = emu->dp;
	uint32_t idx = gsp_emu_pick(emu, 0x7374616c6cull, 0);
	struct gsp_vnode *vn = &dp->vnodes[idx];
	uint64_t t0, t1, last;

	emu->stall_ns = (uint64_t)(emu->x.stall_s * 1e9);
	gsp_emu_subjects(emu, &idx, 1);
	emu->stall_idx = idx;
	/* it stops at its next timer, run by its own lcore */
	__atomic_store_n(&emu->stall_state, GSP_STALL_REQUESTED,
			 __ATOMIC_RELEASE);
	while ((t0 = __atomic_load_n(&emu->subj_t0[0], __ATOMIC_ACQUIRE)) == 0)
		if (gsp_emu_wait(emu, deadline)) {
			r->timeout = true;
			r->why = "stall never began";
			return;
		}
	if (t0 + emu->stall_ns > deadline) {
		r->timeout = true;
		r->why = "stall past --max-seconds";
	}
	/* its overdue timer runs at t0 + stall; rx comes back just before */
	if (!gsp_emu_sleep_until(emu, t0 + emu->stall_ns -
				 RTE_MIN(emu->stall_ns, GSP_EMU_RESUME_LEAD_NS)))
		return;
	r->stall_rx_queued = rte_ring_count(vn->rx_ring);
	r->stall_rx_leak = __atomic_load_n(&vn->stats.rx_packets,
					   __ATOMIC_RELAXED) - emu->stall_rx0;
	t1 = gsp_emu_now_ns();
	__atomic_store_n(&emu->stall_t1, t1, __ATOMIC_RELEASE);
	__atomic_store_n(&emu->stall_state, GSP_STALL_RESUMED,
			 __ATOMIC_RELEASE);
	gsp_switch_pause(dp->sw, vn, false);
	gsp_log(LOG_NOTICE, "emulation: node%u stopped for %.3f s; %" PRIu64
		" frames waiting in its ring", idx + 1, (t1 - t0) / 1e9,
		r->stall_rx_queued);
	while (!gsp_emu_alive_everywhere(emu, &last))
		if (gsp_emu_wait(emu, deadline))
			break;
	r->n_det = 1;
	if (!gsp_emu_alive_everywhere(emu, &last)) {
		gsp_emu_detection(emu, 0, &r->det[0]);
		r->timeout = true;
		r->why = "stalled node not alive again everywhere";
		gsp_log(LOG_ERR, "emulation: node%u not listed alive again by "
			"every node before the deadline", idx + 1);
		return;
	}
	r->stall_alive_s = last > t1 ? (last - t1) / 1e9 : 0;
	r->time_s = gsp_emu_span_s(RTE_MAX(last, t1), t0);
	r->rounds = ceil(r->time_s * 1e9 / emu->interval_ns);
	/* what the resumed vnode does next, and late verdicts on it */
	gsp_emu_sleep_until(emu, RTE_MIN(deadline, gsp_emu_now_ns() +
			    (uint64_t)(emu->x.settle_s * 1e9)));
	gsp_emu_detection(emu, 0, &r->det[0]);
	gsp_log(LOG_NOTICE, "emulation: node%u marked down by %u of %u "
		"(first %.3f s, all %.3f s after it stopped); alive again "
		"everywhere %.3f s after it resumed; it then marked %" PRIu64
		" live nodes suspect, %" PRIu64 " down", idx + 1,
		r->det[0].down_by, r->det[0].observers, r->det[0].first_down_s,
		r->det[0].all_down_s, r->stall_alive_s, emu->res_sus_n,
		emu->res_down_n);
}

static void
gsp_emu_window(struct gsp_emu *emu, struct gsp_emu_result *r,
	       uint64_t deadline, uint64_t t0)
{
	uint64_t end = t0 + (uint64_t)(emu->o.duration_s * 1e9);

	if (end > deadline) {
		r->timeout = true;
		r->why = "window past --max-seconds";
		end = deadline;
	}
	gsp_emu_sleep_until(emu, end);
	r->time_s = gsp_emu_span_s(gsp_emu_now_ns(), t0);
	r->rounds = 0;	/* counted from the snapshots */
}

static void
gsp_emu_run(struct gsp_emu *emu)
{
	struct gsp_dp *dp = emu->dp;
	const struct gsp_emu_opts *o = &emu->o;
	uint64_t deadline = emu->start_ns + (uint64_t)(o->max_s * 1e9);
	struct gsp_emu_result r = {
		.time_s = -1, .rounds = -1, .join_s = -1,
		.stall_alive_s = -1, .why = "",
	};
	struct gsp_emu_snap a = { 0 }, b = { 0 };
	struct gsp_emu_field joined = gsp_emu_probe_field(emu,
			offsetof(struct gsp_emu_probe, joined_ns));
	uint64_t t_first, t_last = 0;
	uint32_t n = o->nodes, got = 0;
	struct gsp_cmd cmd = { .flags = GSP_CMD_F_OBSERVE };

	if (!gsp_emu_snap(emu, &a) || !gsp_emu_snap(emu, &b)) {
		gsp_log(LOG_ERR, "emulation: out of memory");
		emu->status = 1;
		return;
	}
	a.t_ns = emu->start_ns;

	/* join: every vnode lists all N alive */
	while ((got = gsp_emu_count(emu, &joined, &t_first, &t_last)) < n)
		if (gsp_emu_wait(emu, deadline))
			break;
	if (got == n) {
		uint64_t rmax = 0;

		for (uint32_t i = 0; i < n; i++)
			rmax = RTE_MAX(rmax, emu->vs[i].probe.joined_rounds);
		r.join_s = gsp_emu_span_s(t_last, emu->start_ns);
		r.join_rounds = rmax;
		gsp_log(LOG_NOTICE, "emulation: %u nodes joined in %.3f s, "
			"%" PRIu64 " rounds, %u distinct cluster sizes seen",
			n, r.join_s, rmax, gsp_emu_distinct_sizes(emu));
	} else {
		r.timeout = true;
		r.why = dp->force_quit ? "interrupted" : "join";
		gsp_log(LOG_ERR, "emulation: join %s after %.1f s: %u of %u "
			"nodes list all %u alive", dp->force_quit ?
			"interrupted" : "timed out",
			RTE_MAX(0.0, gsp_emu_span_s(gsp_emu_now_ns(),
						    emu->start_ns)), got, n, n);
	}
	__atomic_store_n(&emu->phase, GSP_PHASE_MEASURE, __ATOMIC_RELEASE);

	if (o->scenario == GSP_EMU_JOIN || r.timeout) {
		r.curve = true;
		r.curve_f = joined;
		r.curve_t0 = emu->start_ns;
		r.curve_of = n;
		r.time_s = r.timeout ? gsp_emu_span_s(gsp_emu_now_ns(),
						      emu->start_ns) : r.join_s;
		r.rounds = r.timeout ? -1 : (double)r.join_rounds;
		gsp_emu_snap(emu, &b);
		goto out;
	}

	gsp_emu_snap(emu, &a);
	r.fp_sus0 = emu->fp_sus;
	r.fp_down0 = emu->fp_down;
	r.pairs_sus0 = emu->pairs_sus;
	r.pairs_down0 = emu->pairs_down;
	switch (o->scenario) {
	case GSP_EMU_DISSEMINATE:
		emu->origin = gsp_emu_pick(emu, 0x6f726967696eull, 0);
		emu->origin_id = gsp_node_id(dp->vnodes[emu->origin].node);
		if (!gsp_emu_find_origin(emu)) {
			r.timeout = true;
			r.why = "origin unknown somewhere";
			break;
		}
		gsp_emu_snap(emu, &a);
		cmd.type = GSP_CMD_SET_APP;
		cmd.vnode = emu->origin;
		snprintf(cmd.key, sizeof(cmd.key), GSP_EMU_APP_KEY);
		snprintf(cmd.value, sizeof(cmd.value), "changed");
		if (gsp_dp_submit(&cmd) != 0) {
			r.timeout = true;
			r.why = "command ring full";
			break;
		}
		r.curve = true;
		r.curve_f = gsp_emu_probe_field(emu,
				offsetof(struct gsp_emu_probe, informed_ns));
		r.curve_of = n;
		while ((got = gsp_emu_count(emu, &r.curve_f, &t_first,
					    &t_last)) < n)
			if (gsp_emu_wait(emu, deadline))
				break;
		r.curve_t0 = emu->dis_t0_ns;
		if (got < n) {
			r.timeout = true;
			r.why = "disseminate";
			gsp_log(LOG_ERR, "emulation: the change reached %u of "
				"%u nodes before the deadline", got, n);
			break;
		}
		r.time_s = gsp_emu_span_s(t_last, emu->dis_t0_ns);
		r.rounds = ceil(r.time_s * 1e9 / emu->interval_ns);
		gsp_log(LOG_NOTICE, "emulation: an app-state change reached "
			"all %u nodes in %.3f s (%.0f rounds; bound %.1f)", n,
			r.time_s, r.rounds, log(n) / log(3.0) + log(log(n)));
		break;
	case GSP_EMU_DETECT:
		gsp_emu_detect(emu, &r, deadline);
		break;
	case GSP_EMU_STALL:
		gsp_emu_stall(emu, &r, deadline);
		break;
	case GSP_EMU_STEADY:
	case GSP_EMU_FP:
		gsp_emu_window(emu, &r, deadline, a.t_ns);
		gsp_log(LOG_NOTICE, "emulation: %s measured over %.1f s: "
			"%" PRIu64 " live members marked suspect, %" PRIu64
			" down", gsp_emu_names[o->scenario], r.time_s,
			emu->fp_sus - r.fp_sus0, emu->fp_down - r.fp_down0);
		break;
	}
	gsp_emu_snap(emu, &b);
	if (r.timeout && r.time_s < 0)
		r.time_s = gsp_emu_span_s(gsp_emu_now_ns(), emu->start_ns);
out:
	if (dp->force_quit && !r.timeout && o->scenario != GSP_EMU_STEADY &&
	    o->scenario != GSP_EMU_FP && o->scenario != GSP_EMU_STALL) {
		r.timeout = true;
		r.why = "interrupted";
	}
	gsp_emu_write(emu, &r, &a, &b);
	if (r.timeout)
		emu->status = 1;
	free(a.v);
	free(b.v);
}

static void *
gsp_emu_main(void *arg)
{
	struct gsp_emu *emu = arg;

	gsp_emu_run(emu);
	__atomic_store_n(&emu->phase, GSP_PHASE_DONE, __ATOMIC_RELAXED);
	emu->dp->force_quit = true;
	return NULL;
}

int
gsp_emu_start(struct gsp_dp *dp)
{
	struct gsp_emu *emu = dp->emu;
	int ret;

	/* everyone starts together, shortly after the lcores are launched;
	 * the same shift for all keeps each lcore's timer heap valid */
	emu->start_ns = gsp_emu_now_ns() + GSP_EMU_START_NS;
	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		dp->vnodes[i].next_tick_ns += emu->start_ns;
		emu->vs[i].due_ns = dp->vnodes[i].next_tick_ns;
	}
	ret = rte_ctrl_thread_create(&emu->tid, "gsp-emu", NULL, gsp_emu_main,
				     emu);
	if (ret != 0) {
		gsp_log(LOG_ERR, "emulation: cannot start the scenario thread: "
			"%s", strerror(ret));
		return -ret;
	}
	emu->started = true;
	return 0;
}

int
gsp_emu_finish(struct gsp_dp *dp)
{
	struct gsp_emu *emu = dp->emu;
	int status;

	if (emu == NULL)
		return 0;
	if (emu->started) {
		pthread_join(emu->tid, NULL);
		emu->started = false;
		emu->joined = true;
	}
	status = emu->joined ? emu->status : 1;
	__atomic_store_n(&emu->phase, GSP_PHASE_DONE, __ATOMIC_RELAXED);
	return status;
}

void
gsp_emu_free(struct gsp_dp *dp)
{
	struct gsp_emu *emu = dp->emu;

	if (emu == NULL)
		return;
	free(emu->sizes);
	rte_free(emu->vs);
	rte_free(emu->lat);
	free(emu->ids);
	free(emu->pair_sus);
	free(emu->pair_down);
	free(emu->res_sus);
	free(emu->res_down);
	free(emu);
	dp->emu = NULL;
}
