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
 * the vnode's probe; the scenario thread only reads probes and counters,
 * sends commands (an app-state change, a crash) and writes the record.
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
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "gossipd.h"
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
};

static const char *const gsp_emu_names[] = {
	[GSP_EMU_JOIN] = "join",
	[GSP_EMU_DISSEMINATE] = "disseminate",
	[GSP_EMU_DETECT] = "detect",
	[GSP_EMU_STEADY] = "steady",
};

enum gsp_emu_phase {
	GSP_PHASE_JOIN = 0,
	GSP_PHASE_MEASURE,
	GSP_PHASE_DONE,
};

/* Traffic and CPU at one instant, for the cost of a window. */
struct gsp_emu_snap {
	uint64_t t_ns;
	uint64_t cpu_us;
	uint64_t *v;			/* per vnode: GSP_EMU_SNAP_* */
};

struct gsp_emu {
	struct gsp_emu_opts o;
	struct gsp_dp *dp;
	pthread_t tid;
	bool started;
	bool joined;			/* the scenario thread ended */
	int status;			/* exit status once done */
	uint32_t phase;			/* enum gsp_emu_phase */
	bool watch_rx;			/* disseminate armed */
	uint64_t start_ns;		/* everyone's first round from here */
	uint64_t wall0_ns;		/* CLOCK_MONOTONIC at setup */
	uint64_t *sizes;		/* bitmap: alive counts reported */
	uint32_t capacity;
	uint32_t n_lcores;
	uint32_t n_mbufs;
	uint64_t rss_before, rss_created;
	/* disseminate */
	uint32_t origin;
	uint64_t origin_id;
	uint64_t dis_version;		/* release: armed */
	uint64_t dis_t0_ns;
	/* detect */
	uint32_t victim;
	uint64_t victim_id;
	uint64_t crash_ns;		/* release: crashed */
	uint64_t false_pos;		/* DOWN events for live members */
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

/* The identity of node1 for the control thread and the status view. */
static void
gsp_emu_ctrl_config(struct gsp_config *cfg, const struct gsp_emu_opts *o,
		    bool from_file, uint32_t capacity)
{
	snprintf(cfg->cluster, sizeof(cfg->cluster), "emu");
	snprintf(cfg->node_name, sizeof(cfg->node_name), "node1");
	cfg->node_id = 0;
	cfg->addr.ip = gsp_emu_ip(0);
	cfg->prefix_len = GSP_EMU_PREFIX;
	cfg->gateway = 0;
	cfg->interval_ms = o->interval_ms;
	cfg->max_members = capacity;
	cfg->seed_dns[0] = '\0';
	cfg->dns_server[0] = '\0';
	cfg->n_seeds = o->seeds;
	for (uint32_t i = 0; i < o->seeds; i++)
		cfg->seeds[i] = (struct gsp_addr){ gsp_emu_ip(i),
			cfg->addr.port };
	if (!from_file) {
		snprintf(cfg->socket_path, sizeof(cfg->socket_path),
			 "/run/gossipd/emu.node1.sock");
		snprintf(cfg->status_path, sizeof(cfg->status_path),
			 "/dev/shm/gossipd.emu.node1");
	}
}

int
gsp_emu_setup(struct gsp_dp *dp, struct gsp_config *cfg,
	      const struct gsp_emu_opts *o)
{
	uint32_t n = o->nodes, lcores[RTE_MAX_LCORE], n_lc = 0;
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	uint64_t gen0 = gsp_realtime_us(), rng = o->seed;
	struct gsp_emu *emu;
	unsigned int lcore;
	uint64_t mbufs;
	int ret;

	emu = calloc(1, sizeof(*emu));
	if (emu == NULL)
		return -ENOMEM;
	emu->o = *o;
	emu->dp = dp;
	emu->wall0_ns = gsp_emu_mono_ns();
	emu->capacity = RTE_MIN(cfg->max_members, n + GSP_EMU_SLACK);
	emu->sizes = calloc((n + 64) / 64, sizeof(uint64_t));
	if (emu->sizes == NULL) {
		free(emu);
		return -ENOMEM;
	}
	dp->emu = emu;
	gsp_emu_ctrl_config(cfg, o, cfg->path[0] != '\0', emu->capacity);
	for (uint32_t i = 0; i < o->seeds; i++)
		seeds[i] = cfg->seeds[i];

	/* rte_hash would need two memzones per vnode */
	gsp_index_use_plain(true);

	/* frames in flight: a share of the rx rings, within reason */
	mbufs = RTE_MAX((uint64_t)cfg->mbufs,
			(uint64_t)n * GSP_EMU_MBUFS_PER_NODE + 8191);
	emu->n_mbufs = (uint32_t)RTE_MIN(mbufs, (uint64_t)GSP_EMU_MBUFS_MAX);
	ret = gsp_pool_create(dp, emu->n_mbufs, (int)rte_socket_id());
	if (ret != 0)
		return ret;
	emu->rss_before = gsp_emu_proc_kb("VmRSS");

	dp->sw = gsp_switch_create(o->loss, (int)rte_socket_id());
	if (dp->sw == NULL)
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
			.interval_ms = o->interval_ms,
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
		/* first round at a random offset within one interval,
		 * relative until gsp_emu_start adds the start time */
		vn->next_tick_ns = gsp_rand(&rng) %
			((uint64_t)o->interval_ms * 1000000u);
	}
	dp->ctrl_vnode = &dp->vnodes[0];
	ret = gsp_lcores_ready(dp);
	if (ret != 0)
		return ret;
	emu->rss_created = gsp_emu_proc_kb("VmRSS");
	gsp_log(LOG_NOTICE, "emulation: %u nodes of cluster emu on %u lcore(s), "
		"%u seeds, %u ms rounds, capacity %u, %u mbufs; RSS %.1f MB "
		"before the nodes, %.1f MB after (%.0f bytes per node); %zu "
		"bytes per member", n, n_lc, o->seeds, o->interval_ms,
		emu->capacity, emu->n_mbufs, emu->rss_before / 1e6,
		emu->rss_created / 1e6,
		((double)emu->rss_created - (double)emu->rss_before) / n,
		gsp_node_bytes_per_member());
	return 0;
}

/* ---- hooks, called by the lcore that owns the vnode ---- */

static uint64_t
gsp_emu_now_ns(void)
{
	return gsp_dp_tsc_to_ns(rte_get_tsc_cycles());
}

void
gsp_emu_on_tick(struct gsp_dp *dp, struct gsp_vnode *vn, uint64_t now_ns)
{
	struct gsp_emu *emu = dp->emu;
	struct gsp_emu_probe *pr = &vn->probe;
	struct gsp_node_counters c;
	uint32_t alive;

	if (__atomic_load_n(&emu->phase, __ATOMIC_RELAXED) != GSP_PHASE_JOIN)
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

bool
gsp_emu_watch_rx(const struct gsp_dp *dp)
{
	return dp->emu != NULL &&
		__atomic_load_n(&dp->emu->watch_rx, __ATOMIC_RELAXED);
}

void
gsp_emu_on_rx(struct gsp_dp *dp, struct gsp_vnode *vn, uint64_t now_ns)
{
	struct gsp_emu *emu = dp->emu;
	struct gsp_member_view v;
	uint64_t want;

	if (vn->probe.informed_ns != 0)
		return;
	want = __atomic_load_n(&emu->dis_version, __ATOMIC_ACQUIRE);
	if (want == 0)
		return;
	if (gsp_node_member_read(vn->node, vn->probe.origin_slot, &v) &&
	    v.id == emu->origin_id && v.version >= want)
		__atomic_store_n(&vn->probe.informed_ns, now_ns,
				 __ATOMIC_RELEASE);
}

void
gsp_emu_on_event(struct gsp_dp *dp, struct gsp_vnode *vn,
		 const struct gsp_event *ev)
{
	struct gsp_emu *emu = dp->emu;

	if (ev->type != GSP_EV_STATE || ev->new_state != GSP_STATE_DOWN)
		return;
	if (ev->id == __atomic_load_n(&emu->victim_id, __ATOMIC_RELAXED) &&
	    ev->id != 0) {
		if (vn->probe.detect_ns == 0)
			__atomic_store_n(&vn->probe.detect_ns, gsp_emu_now_ns(),
					 __ATOMIC_RELEASE);
		return;
	}
	__atomic_fetch_add(&emu->false_pos, 1, __ATOMIC_RELAXED);
}

void
gsp_emu_on_cmd(struct gsp_dp *dp, struct gsp_vnode *vn,
	       const struct gsp_cmd *cmd, uint64_t now_ns)
{
	struct gsp_emu *emu = dp->emu;
	struct gsp_member_view v;
	uint32_t hw;

	if (emu == NULL)
		return;
	if (cmd->type == GSP_CMD_CRASH) {
		__atomic_store_n(&emu->crash_ns, now_ns, __ATOMIC_RELEASE);
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
			vn->probe.informed_ns = now_ns;
			__atomic_store_n(&emu->dis_version, v.version,
					 __ATOMIC_RELEASE);
			__atomic_store_n(&emu->watch_rx, true, __ATOMIC_RELAXED);
			return;
		}
}

/* ---- the scenario thread ---- */

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

/* How many vnodes have the probe field at offset off set (nonzero). */
static uint32_t
gsp_emu_count(const struct gsp_emu *emu, size_t off, uint64_t *max_ns)
{
	const struct gsp_dp *dp = emu->dp;
	uint32_t n = 0;

	*max_ns = 0;
	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		const uint64_t *f = (const uint64_t *)(const void *)
			((const uint8_t *)&dp->vnodes[i].probe + off);
		uint64_t t = __atomic_load_n(f, __ATOMIC_ACQUIRE);

		if (t != 0) {
			n++;
			if (t > *max_ns)
				*max_ns = t;
		}
	}
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
gsp_emu_curve(FILE *f, const struct gsp_emu *emu, size_t off, uint64_t t0_ns,
	      uint32_t of)
{
	const struct gsp_dp *dp = emu->dp;
	uint64_t *t = malloc(sizeof(*t) * dp->n_vnodes);
	uint32_t n = 0, step;

	fputs("[", f);
	if (t == NULL || of == 0) {
		fputs("]", f);
		free(t);
		return;
	}
	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		const uint64_t *p = (const uint64_t *)(const void *)
			((const uint8_t *)&dp->vnodes[i].probe + off);
		uint64_t v = __atomic_load_n(p, __ATOMIC_ACQUIRE);

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

struct gsp_emu_result {
	bool timeout;
	double time_s;
	double rounds;
	double join_s;
	uint64_t join_rounds;
	size_t curve_off;		/* probe field, or SIZE_MAX: no curve */
	uint64_t curve_t0;
	uint32_t curve_of;
	double first_detect_s, all_detect_s;	/* < 0: none */
	uint64_t false_pos;
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

static void
gsp_emu_write(struct gsp_emu *emu, const struct gsp_emu_result *r,
	      const struct gsp_emu_snap *a, const struct gsp_emu_snap *b)
{
	const struct gsp_dp *dp = emu->dp;
	const struct gsp_emu_opts *o = &emu->o;
	double dt = b->t_ns > a->t_ns ? (b->t_ns - a->t_ns) / 1e9 : 0;
	double sum[GSP_EMU_SNAP_N] = { 0 }, max[GSP_EMU_SNAP_N] = { 0 };
	uint64_t tx_dropped = 0, tx_no_arp = 0, rx_drop = 0;
	struct gsp_node_counters c, sum_c = { 0 };
	uint64_t peak = gsp_emu_proc_kb("VmHWM");
	struct gsp_switch_stats sw = { 0 };
	uint64_t members = (uint64_t)o->nodes * o->nodes;
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
		sum_c.rounds += c.rounds;
		sum_c.tx_syn += c.tx_syn;
		sum_c.tx_ack += c.tx_ack;
		sum_c.tx_ack2 += c.tx_ack2;
		sum_c.tx_push += c.tx_push;
		sum_c.merged += c.merged;
		sum_c.stale += c.stale;
		sum_c.table_full += c.table_full;
		for (int k = 1; k < GSP_RX_ERR_MAX; k++)
			rx_drop += c.rx_drop[k];
	}
	RTE_LCORE_FOREACH(lcore) {
		const uint64_t *src = (const uint64_t *)&dp->lconf[lcore].sw;
		uint64_t *dst = (uint64_t *)&sw;

		/* the lcores may still be counting */
		for (size_t k = 0; k < sizeof(sw) / sizeof(uint64_t); k++)
			dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
	}
	f = o->json != NULL ? fopen(o->json, "a") : stdout;
	if (f == NULL) {
		gsp_log(LOG_ERR, "emulation: cannot open %s: %s", o->json,
			strerror(errno));
		emu->status = 1;
		return;
	}
	fprintf(f, "{\"mode\":\"emu\",\"scenario\":\"%s\",\"nodes\":%u,"
		"\"seed\":%" PRIu64 ",\"interval_ms\":%u,\"loss\":%.6g,"
		"\"fanout\":%u,\"seeds\":%u,\"lcores\":%u",
		gsp_emu_names[o->scenario], o->nodes, o->seed, o->interval_ms,
		o->loss, dp->cfg->fanout, o->seeds, emu->n_lcores);
	fprintf(f, ",\"timeout\":%s", r->timeout ? "true" : "false");
	gsp_emu_json_num(f, "time_s", r->time_s, r->time_s >= 0);
	/* steady: the rounds each vnode really ran in the window, on average */
	gsp_emu_json_num(f, "rounds", o->scenario == GSP_EMU_STEADY ?
			 sum[GSP_EMU_SNAP_ROUNDS] / o->nodes : r->rounds,
			 r->rounds >= 0);
	gsp_emu_json_num(f, "join_s", r->join_s, r->join_s >= 0);
	gsp_emu_json_num(f, "join_rounds", (double)r->join_rounds,
			 r->join_s >= 0);
	fprintf(f, ",\"distinct_sizes\":%u", gsp_emu_distinct_sizes(emu));
	fputs(",\"informed_curve\":", f);
	if (r->curve_off != SIZE_MAX)
		gsp_emu_curve(f, emu, r->curve_off, r->curve_t0, r->curve_of);
	else
		fputs("[]", f);
	gsp_emu_json_num(f, "bound_rounds", log(o->nodes) / log(3.0) +
			 log(log(o->nodes)), o->scenario == GSP_EMU_DISSEMINATE &&
			 o->nodes > 2);
	gsp_emu_json_num(f, "first_detect_s", r->first_detect_s,
			 r->first_detect_s >= 0);
	gsp_emu_json_num(f, "all_detect_s", r->all_detect_s,
			 r->all_detect_s >= 0);
	fprintf(f, ",\"false_positives\":%" PRIu64, r->false_pos);
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
	fprintf(f, ",\"peak_rss_bytes\":%" PRIu64 ",\"rss_before_bytes\":%"
		PRIu64 ",\"rss_created_bytes\":%" PRIu64, peak,
		emu->rss_before, emu->rss_created);
	gsp_emu_json_num(f, "wall_s", (gsp_emu_mono_ns() - emu->wall0_ns) / 1e9,
			 true);
	fprintf(f, ",\"bytes_per_member\":%zu", gsp_node_bytes_per_member());
	gsp_emu_json_num(f, "bytes_per_member_measured",
			 ((double)peak - (double)emu->rss_created) / members,
			 peak > emu->rss_created);
	gsp_emu_json_num(f, "bytes_per_vnode",
			 ((double)emu->rss_created - (double)emu->rss_before) /
			 o->nodes, emu->rss_created > emu->rss_before);
	fprintf(f, ",\"capacity\":%u,\"mbufs\":%u,\"tx_dropped\":%" PRIu64
		",\"tx_no_arp\":%" PRIu64, emu->capacity, emu->n_mbufs,
		tx_dropped, tx_no_arp);
	fprintf(f, ",\"switch\":{\"forwarded\":%" PRIu64 ",\"arp_suppressed\":%"
		PRIu64 ",\"garp_absorbed\":%" PRIu64 ",\"arp_unknown\":%" PRIu64
		",\"flood_dropped\":%" PRIu64 ",\"unknown_dropped\":%" PRIu64
		",\"ring_full\":%" PRIu64 ",\"lost\":%" PRIu64 "}",
		sw.forwarded, sw.arp_suppressed, sw.garp_absorbed,
		sw.arp_unknown, sw.flood_dropped, sw.unknown_dropped,
		sw.ring_full, sw.lost);
	/* the cores' own counters, whole run, all vnodes */
	fprintf(f, ",\"core\":{\"rounds\":%" PRIu64 ",\"tx_syn\":%" PRIu64
		",\"tx_ack\":%" PRIu64 ",\"tx_ack2\":%" PRIu64 ",\"tx_push\":%"
		PRIu64 ",\"merged\":%" PRIu64 ",\"stale\":%" PRIu64
		",\"table_full\":%" PRIu64 ",\"rx_drop\":%" PRIu64 "}",
		sum_c.rounds, sum_c.tx_syn, sum_c.tx_ack, sum_c.tx_ack2,
		sum_c.tx_push, sum_c.merged, sum_c.stale, sum_c.table_full,
		rx_drop);
	if (r->timeout)
		fprintf(f, ",\"timeout_reason\":\"%s\"", r->why);
	fputs("}\n", f);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

/* A non-seed vnode picked by the run's seed (the last one if none). */
static uint32_t
gsp_emu_pick(const struct gsp_emu *emu, uint64_t salt)
{
	uint64_t s = emu->o.seed ^ salt;
	uint32_t n = emu->o.nodes, k = emu->o.seeds;

	if (n <= k)
		return n - 1;
	return k + (uint32_t)(gsp_rand(&s) % (n - k));
}

/* Each vnode's table slot of the origin, before the change is made. */
static bool
gsp_emu_find_origin(struct gsp_emu *emu)
{
	struct gsp_dp *dp = emu->dp;
	struct gsp_member_view v;

	for (uint32_t i = 0; i < dp->n_vnodes; i++) {
		struct gsp_vnode *vn = &dp->vnodes[i];
		uint32_t hw = gsp_node_slot_count(vn->node);

		vn->probe.origin_slot = UINT32_MAX;
		for (uint32_t s = 0; s < hw; s++)
			if (gsp_node_member_read(vn->node, s, &v) &&
			    v.id == emu->origin_id) {
				vn->probe.origin_slot = s;
				break;
			}
		if (vn->probe.origin_slot == UINT32_MAX)
			return false;
		if (dp->force_quit)
			return false;
	}
	return true;
}

static void
gsp_emu_run(struct gsp_emu *emu)
{
	struct gsp_dp *dp = emu->dp;
	const struct gsp_emu_opts *o = &emu->o;
	uint64_t deadline = emu->start_ns + (uint64_t)(o->max_s * 1e9);
	uint64_t interval = (uint64_t)o->interval_ms * 1000000u;
	struct gsp_emu_result r = {
		.time_s = -1, .rounds = -1, .join_s = -1,
		.curve_off = SIZE_MAX, .first_detect_s = -1,
		.all_detect_s = -1, .why = "",
	};
	struct gsp_emu_snap a = { 0 }, b = { 0 };
	uint64_t t_last = 0, fp0;
	uint32_t n = o->nodes, got = 0;
	struct gsp_cmd cmd = { .flags = GSP_CMD_F_EMU };

	if (!gsp_emu_snap(emu, &a) || !gsp_emu_snap(emu, &b)) {
		gsp_log(LOG_ERR, "emulation: out of memory");
		emu->status = 1;
		return;
	}
	a.t_ns = emu->start_ns;

	/* join: every vnode lists all N alive */
	while ((got = gsp_emu_count(emu, offsetof(struct gsp_emu_probe,
			joined_ns), &t_last)) < n)
		if (gsp_emu_wait(emu, deadline))
			break;
	__atomic_store_n(&emu->phase, GSP_PHASE_MEASURE, __ATOMIC_RELAXED);
	if (got == n) {
		uint64_t rmax = 0;

		for (uint32_t i = 0; i < n; i++)
			rmax = RTE_MAX(rmax, dp->vnodes[i].probe.joined_rounds);
		r.join_s = (t_last - emu->start_ns) / 1e9;
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
			(gsp_emu_now_ns() - emu->start_ns) / 1e9, got, n, n);
	}
	r.false_pos = __atomic_load_n(&emu->false_pos, __ATOMIC_RELAXED);

	if (o->scenario == GSP_EMU_JOIN || r.timeout) {
		r.curve_off = offsetof(struct gsp_emu_probe, joined_ns);
		r.curve_t0 = emu->start_ns;
		r.curve_of = n;
		r.time_s = r.timeout ?
			(gsp_emu_now_ns() - emu->start_ns) / 1e9 : r.join_s;
		r.rounds = r.timeout ? -1 : (double)r.join_rounds;
		gsp_emu_snap(emu, &b);
		goto out;
	}

	fp0 = __atomic_load_n(&emu->false_pos, __ATOMIC_RELAXED);
	switch (o->scenario) {
	case GSP_EMU_DISSEMINATE:
		emu->origin = gsp_emu_pick(emu, 0x6f726967696eull);
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
		while ((got = gsp_emu_count(emu, offsetof(struct gsp_emu_probe,
				informed_ns), &t_last)) < n)
			if (gsp_emu_wait(emu, deadline))
				break;
		gsp_emu_snap(emu, &b);
		r.curve_off = offsetof(struct gsp_emu_probe, informed_ns);
		r.curve_t0 = emu->dis_t0_ns;
		r.curve_of = n;
		if (got < n) {
			r.timeout = true;
			r.why = "disseminate";
			gsp_log(LOG_ERR, "emulation: the change reached %u of "
				"%u nodes before the deadline", got, n);
			break;
		}
		r.time_s = (t_last - emu->dis_t0_ns) / 1e9;
		r.rounds = ceil((double)(t_last - emu->dis_t0_ns) / interval);
		gsp_log(LOG_NOTICE, "emulation: an app-state change reached "
			"all %u nodes in %.3f s (%.0f rounds; bound %.1f)", n,
			r.time_s, r.rounds, log(n) / log(3.0) + log(log(n)));
		break;
	case GSP_EMU_DETECT: {
		uint64_t first = UINT64_MAX, crash;

		emu->victim = gsp_emu_pick(emu, 0x76696374696dull);
		__atomic_store_n(&emu->victim_id,
				 gsp_node_id(dp->vnodes[emu->victim].node),
				 __ATOMIC_RELAXED);
		gsp_emu_snap(emu, &a);
		fp0 = __atomic_load_n(&emu->false_pos, __ATOMIC_RELAXED);
		cmd.type = GSP_CMD_CRASH;
		cmd.vnode = emu->victim;
		if (gsp_dp_submit(&cmd) != 0) {
			r.timeout = true;
			r.why = "command ring full";
			break;
		}
		while ((got = gsp_emu_count(emu, offsetof(struct gsp_emu_probe,
				detect_ns), &t_last)) < n - 1)
			if (gsp_emu_wait(emu, deadline))
				break;
		gsp_emu_snap(emu, &b);
		crash = __atomic_load_n(&emu->crash_ns, __ATOMIC_ACQUIRE);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t t = dp->vnodes[i].probe.detect_ns;

			if (t != 0 && t < first)
				first = t;
		}
		r.curve_off = offsetof(struct gsp_emu_probe, detect_ns);
		r.curve_t0 = crash;
		r.curve_of = n - 1;
		if (first != UINT64_MAX && crash != 0)
			r.first_detect_s = (first - crash) / 1e9;
		if (got < n - 1 || crash == 0) {
			r.timeout = true;
			r.why = "detect";
			gsp_log(LOG_ERR, "emulation: %u of %u nodes marked "
				"node%u down before the deadline", got, n - 1,
				emu->victim + 1);
			break;
		}
		r.all_detect_s = (t_last - crash) / 1e9;
		r.time_s = r.all_detect_s;
		r.rounds = ceil((double)(t_last - crash) / interval);
		gsp_log(LOG_NOTICE, "emulation: node%u crashed; first marked "
			"down after %.3f s, by all %u others after %.3f s",
			emu->victim + 1, r.first_detect_s, n - 1,
			r.all_detect_s);
		break;
	}
	case GSP_EMU_STEADY: {
		uint64_t end;

		gsp_emu_snap(emu, &a);
		end = a.t_ns + (uint64_t)(o->duration_s * 1e9);
		if (end > deadline) {
			r.timeout = true;
			r.why = "steady window past --max-seconds";
			end = deadline;
		}
		while (gsp_emu_now_ns() < end && !dp->force_quit)
			rte_delay_us_sleep(GSP_EMU_POLL_US);
		gsp_emu_snap(emu, &b);
		r.time_s = (b.t_ns - a.t_ns) / 1e9;
		r.rounds = 0;	/* counted from the snapshots */
		gsp_log(LOG_NOTICE, "emulation: steady state measured over "
			"%.1f s", r.time_s);
		break;
	}
	}
	r.false_pos = __atomic_load_n(&emu->false_pos, __ATOMIC_RELAXED) - fp0;
	if (r.timeout && r.time_s < 0)
		r.time_s = (gsp_emu_now_ns() - emu->start_ns) / 1e9;
out:
	if (dp->force_quit && !r.timeout && got < n &&
	    o->scenario != GSP_EMU_STEADY) {
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
	for (uint32_t i = 0; i < dp->n_vnodes; i++)
		dp->vnodes[i].next_tick_ns += emu->start_ns;
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
	if (dp->emu == NULL)
		return;
	free(dp->emu->sizes);
	free(dp->emu);
	dp->emu = NULL;
}
