/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Emulation mode (--emulate N, docs/EMULATION.md): N vnodes in this
 * process behind the software switch: their set-up, the hooks through
 * which their lcores measure them, and the scenario thread's life
 * (emu_scenarios.c runs the scenario, emu_record.c writes its record).
 *
 * Identities: vnode k (0-based, over the whole cluster) is node<k+1> at
 * 10.99.0.0 + k + 1, MAC 02:00 + its address (02:00:0a:63:xx:yy up to
 * 65,534 vnodes), cluster "emu"; the first S are the seeds and every
 * vnode knows only their addresses. This process hosts k = base ..
 * base + N - 1 (--vnode-base); with --uplink the rest of the cluster
 * (--cluster-size) is reached through the switch's uplink, so the
 * identities of all processes derive from the same rule and never
 * collide.
 *
 * Measurements are taken where they happen, by the lcore that owns the
 * vnode (after its round, after its rx burst, on its core's events), into
 * the harness's watch and the lcore's lateness histogram; the scenario
 * thread only
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
#include <rte_rcu_qsbr.h>

#include "emu_int.h"
#include "port_uplink.h"
#include "gsp_util.h"
#include "gsp_ctrl.h"
#include "gsp_ids.h"
#include "gsp_log.h"

int
gsp_emu_parse_scenario(const char *s)
{
	return gsp_scn_parse(s, GSP_EMU_SCENARIOS);
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
	snprintf(cfg->node_name, sizeof(cfg->node_name), "node%u",
		 emu->base + 1);
	cfg->node_id = 0;
	cfg->addr.ip = gsp_emu_ip(emu->base);
	cfg->prefix_len = emu->prefix;
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
			 "/run/gossipd/emu.%s.node%u.sock", tag, emu->base + 1);
		snprintf(cfg->status_path, sizeof(cfg->status_path),
			 "/dev/shm/gossipd.emu.%s.node%u", tag, emu->base + 1);
	}
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
gsp_emu_alloc(struct gsp_emu *emu)
{
	emu->lat = rte_zmalloc("gsp_emu_lat", sizeof(*emu->lat) *
			       RTE_MAX_LCORE, RTE_CACHE_LINE_SIZE);
	/* the lcores' quiescent states: the scenario thread changes what
	 * the hooks watch only once none still works for the old goal */
	emu->qsbr = rte_zmalloc("gsp_emu_qsbr",
				rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE),
				RTE_CACHE_LINE_SIZE);
	if (emu->lat == NULL || emu->qsbr == NULL ||
	    rte_rcu_qsbr_init(emu->qsbr, RTE_MAX_LCORE) != 0)
		return -ENOMEM;
	return 0;
}

/* The switch's uplink to the other processes' vnodes (--uplink), polled
 * by the main lcore, which hosts node<base+1> and the control thread's
 * seam already. */
static int
gsp_emu_uplink(struct gsp_dp *dp, const struct gsp_config *cfg,
	       const struct gsp_emu *emu)
{
	unsigned int owner = rte_get_main_lcore();
	struct gsp_uplink *up;

	up = gsp_uplink_open(cfg->port_id, owner, dp->pool,
			     cfg->rx_descriptors, cfg->tx_descriptors);
	if (up == NULL)
		return -ENODEV;
	if (gsp_switch_set_uplink(dp->sw, up, gsp_emu_ip(0),
				  emu->cluster) != 0) {
		gsp_uplink_close(up);
		return -EINVAL;
	}
	dp->lconf[owner].uplink = true;
	return 0;
}

/* the observer's hooks, run by the lcore that owns the vnode */
static void gsp_emu_on_tick(void *ctx, struct gsp_vnode *vn, uint64_t due_ns,
			    uint64_t now_ns);
static void gsp_emu_on_rx(void *ctx, struct gsp_vnode *vn, uint64_t now_ns);
static void gsp_emu_on_event(void *ctx, struct gsp_vnode *vn,
			     const struct gsp_event *ev);
static void gsp_emu_on_cmd(void *ctx, struct gsp_vnode *vn,
			   const struct gsp_cmd *cmd, uint64_t now_ns);

static void
gsp_emu_cat_drop(struct gsp_ids **cat, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		gsp_ids_destroy(cat[k]);
}

int
gsp_emu_setup(struct gsp_dp *dp, struct gsp_config *cfg,
	      const struct gsp_emu_opts *o)
{
	uint32_t n = o->nodes, lcores[RTE_MAX_LCORE], n_lc = 0;
	struct gsp_ids *cat[RTE_MAX_LCORE];
	struct gsp_addr seeds[GSP_SEEDS_MAX];
	uint64_t gen0 = gsp_realtime_us(), rng = o->seed;
	char spec[256], det[64];
	struct gsp_emu *emu;
	unsigned int lcore;
	uint64_t mbufs, *ids, t0;
	int ret;

	emu = calloc(1, sizeof(*emu));
	if (emu == NULL)
		return -ENOMEM;
	emu->o = *o;
	emu->x = *gsp_emu_xopts();
	emu->dp = dp;
	emu->stall_idx = UINT32_MAX;
	emu->origin = UINT32_MAX;
	emu->wall0_ns = gsp_emu_mono_ns();
	emu->base = emu->x.vnode_base;
	emu->cluster = gsp_emu_cluster_size(n);
	emu->local_seeds = emu->base < o->seeds ?
		RTE_MIN(o->seeds - emu->base, n) : 0;
	emu->prefix = emu->cluster <= GSP_MAX_VNODES ? GSP_EMU_PREFIX :
		GSP_EMU_PREFIX_WIDE;
	if (cfg->max_members < emu->cluster) {
		gsp_log(LOG_ERR, "emulation: a cluster of %u vnodes needs "
			"[gossip] max_members >= %u (it is %u): set it in "
			"--config", emu->cluster, emu->cluster,
			cfg->max_members);
		free(emu);
		return -EINVAL;
	}
	emu->capacity = RTE_MIN(cfg->max_members,
				emu->cluster + GSP_EMU_SLACK);
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
	ret = gsp_emu_alloc(emu);
	if (ret != 0)
		return ret;
	gsp_emu_host_init(emu);
	/* the scenario's probes: one observer on every lcore, before the
	 * lcores are launched */
	emu->obs = (struct gsp_lcore_observer){
		.on_tick = gsp_emu_on_tick,
		.on_rx = gsp_emu_on_rx,
		.on_event = gsp_emu_on_event,
		.on_cmd = gsp_emu_on_cmd,
		.ctx = emu,
		.qsbr = emu->qsbr,
	};
	RTE_LCORE_FOREACH(lcore)
		dp->lconf[lcore].observer = &emu->obs;
	gsp_emu_ctrl_config(cfg, emu, cfg->path[0] != '\0', emu->capacity);
	gsp_emu_detector_config(cfg, &emu->x);
	for (uint32_t i = 0; i < o->seeds; i++)
		seeds[i] = cfg->seeds[i];

	/* frames in flight: a share of the rx rings, within reason */
	mbufs = RTE_MAX((uint64_t)cfg->mbufs,
			(uint64_t)n * GSP_EMU_MBUFS_PER_NODE + 8191 +
			(emu->x.uplink ? gsp_uplink_mbufs(cfg->rx_descriptors,
						cfg->tx_descriptors) : 0));
	emu->n_mbufs = (uint32_t)RTE_MIN(mbufs, (uint64_t)GSP_EMU_MBUFS_MAX);
	ret = gsp_pool_create(dp, emu->n_mbufs, (int)rte_socket_id());
	if (ret != 0)
		return ret;
	emu->rss_before = gsp_emu_proc_kb("VmRSS");

	dp->sw = gsp_switch_create(0, (int)rte_socket_id());
	if (dp->sw == NULL || gsp_switch_set_fault(dp->sw, &emu->fault) != 0)
		return -ENOMEM;
	if (emu->x.uplink) {
		ret = gsp_emu_uplink(dp, cfg, emu);
		if (ret != 0)
			return ret;
	}
	ret = gsp_vnodes_alloc(dp, n);
	if (ret != 0)
		return ret;
	RTE_LCORE_FOREACH(lcore)
		if (dp->lconf[lcore].enabled)
			lcores[n_lc++] = lcore;
	emu->n_lcores = n_lc;
	/* names and id -> slot maps are the same in every vnode's table:
	 * held once per lcore (the one thread that writes those tables) */
	for (unsigned int k = 0; k < n_lc; k++) {
		char cat_name[16];

		/* capacity covers the cluster: every table's slot count. A
		 * name per lcore: an rte_hash index refuses a duplicate */
		snprintf(cat_name, sizeof(cat_name), "emu%u", lcores[k]);
		cat[k] = gsp_ids_create(cat_name, emu->capacity, NULL);
		if (cat[k] == NULL) {
			gsp_emu_cat_drop(cat, k);
			return -ENOMEM;
		}
	}
	ids = malloc(sizeof(*ids) * n);
	if (ids == NULL) {
		gsp_emu_cat_drop(cat, n_lc);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct gsp_vnode *vn = &dp->vnodes[i];
		char name[GSP_NAME_MAX];
		uint32_t ip = gsp_emu_ip(emu->base + i);
		struct gsp_vnode_params p = {
			.name = name,
			.generation = gen0 + i,
			.ip = ip,
			.netmask = ~0u << (32 - emu->prefix),
			.port = cfg->addr.port,
			.capacity = emu->capacity,
			.interval_ms = emu->o.interval_ms,
			.rng_seed = gsp_rand(&rng),
			.seeds = seeds,
			.n_seeds = o->seeds,
			.ring_size = GSP_VNODE_RING_SIZE,
			.ids = cat[i % n_lc],
			/* the switch gives cluster addresses their MACs
			 * (port_switch.c): ARP is for what lies beyond */
			.arp_entries = 64,
			/* the observer reads ids; the control vnode's
			 * events are logged by name */
			.unnamed_events = i != GSP_EMU_CTRL,
		};

		snprintf(name, sizeof(name), "node%u", emu->base + i + 1);
		/* derivable from the address: the switches of other
		 * processes know it without asking (port_switch.c) */
		vn->mac = gsp_cluster_mac(ip);
		ret = gsp_vnode_init(dp, vn, &p);
		if (ret == 0)
			ret = gsp_switch_attach(dp->sw, vn);
		/* node1 on the main lcore, the rest round-robin */
		if (ret == 0)
			ret = gsp_vnode_place(dp, vn, lcores[i % n_lc]);
		if (ret != 0) {
			gsp_log(LOG_ERR, "emulation: cannot create %s (%u of "
				"%u here): %s", name, i + 1, n, strerror(-ret));
			free(ids);
			gsp_emu_cat_drop(cat, n_lc);
			return ret;
		}
		ids[i] = gsp_node_id(vn->node);
		/* first round at a random offset within one interval,
		 * relative until gsp_emu_start adds the start time */
		vn->next_tick_ns = gsp_rand(&rng) % emu->interval_ns;
	}
	gsp_emu_cat_drop(cat, n_lc);	/* the tables hold them */
	ret = gsp_watch_init(&emu->w, &emu->host, ids);
	free(ids);
	if (ret != 0) {
		gsp_log(LOG_ERR, "emulation: %s", ret == -EEXIST ?
			"two vnodes share a member id" : "out of memory");
		return ret;
	}
	/* the join: every vnode lists all N of the cluster */
	gsp_watch_phase(&emu->w, GSP_GOAL_LISTED, 0);
	dp->ctrl_vnode = &dp->vnodes[GSP_EMU_CTRL];
	ret = gsp_lcores_ready(dp);
	if (ret != 0)
		return ret;
	emu->rss_created = gsp_emu_proc_kb("VmRSS");
	/* after the snapshot, so that records still count per member: a
	 * real node learns its members over its life, the emulation all
	 * at once, so their pages are mapped before the clock starts */
	t0 = gsp_emu_mono_ns();
	for (uint32_t i = 0; i < n; i++)
		gsp_node_populate(dp->vnodes[i].node);
	emu->populate_ns = gsp_emu_mono_ns() - t0;
	gsp_fault_format(&emu->fault, spec, sizeof(spec));
	gsp_harness_detector_name(cfg->detector, det, sizeof(det));
	gsp_log(LOG_NOTICE, "emulation: %u nodes (node%u..node%u) of cluster "
		"emu (%u nodes%s) on %u lcore(s), "
		"%u seeds, %.6g ms rounds, detector %s (probes every %.6g ms), "
		"faults %s, %s, capacity "
		"%u, %u mbufs; RSS %.1f MB before the nodes, %.1f MB after "
		"(%.0f bytes per node), records mapped in %.2f s; %zu bytes "
		"per member; control socket "
		"%s, status view %s", n, emu->base + 1, emu->base + n,
		emu->cluster, emu->x.uplink ? ", the others over the uplink" :
		"", n_lc, o->seeds, emu->interval_ns / 1e6,
		det, cfg->probe_interval_ns / 1e6, spec,
		dp->keyring != NULL ? "authenticated" : "PLAINTEXT",
		emu->capacity, emu->n_mbufs, emu->rss_before / 1e6,
		emu->rss_created / 1e6,
		((double)emu->rss_created - (double)emu->rss_before) / n,
		emu->populate_ns / 1e9,
		gsp_node_bytes_per_member(dp->keyring != NULL, true),
		cfg->socket_path, cfg->status_path);
	return 0;
}

/* ---- hooks, called by the lcore that owns the vnode ---- */

static void
gsp_emu_stall_begin(struct gsp_emu *emu, struct gsp_vnode *vn,
		    uint64_t now_ns)
{
	/* no rx (frames queue in its ring) and no timer until the end */
	gsp_switch_pause(emu->dp->sw, vn, true);
	vn->next_tick_ns = now_ns + emu->stall_ns;
	emu->stall_rx0 = __atomic_load_n(&vn->stats.rx_packets,
					 __ATOMIC_RELAXED);
	gsp_watch_subject_down(&emu->w, 0, now_ns);
	__atomic_store_n(&emu->stall_state, GSP_STALL_STOPPED,
			 __ATOMIC_RELEASE);
}

static void
gsp_emu_on_tick(void *ctx, struct gsp_vnode *vn, uint64_t due_ns,
		uint64_t now_ns)
{
	struct gsp_emu *emu = ctx;
	uint32_t phase = __atomic_load_n(&emu->phase, __ATOMIC_RELAXED);
	struct gsp_node_counters c;

	if (phase == GSP_PHASE_MEASURE) {
		struct gsp_emu_lat *l = &emu->lat[rte_lcore_id()];
		/* against the deadline the lcore held, not the one the last
		 * tick returned: an answer that cleared a probe's timeout
		 * moved it later, and was no lateness */
		uint64_t late = now_ns - due_ns;

		l->ticks++;
		l->sum_ns += late;
		if (late > l->max_ns)
			l->max_ns = late;
		l->hist[gsp_emu_lat_bucket(late / 1000)]++;
	}
	if (unlikely(vn->idx == emu->stall_idx) &&
	    __atomic_load_n(&emu->stall_state, __ATOMIC_ACQUIRE) ==
	    GSP_STALL_REQUESTED)
		gsp_emu_stall_begin(emu, vn, now_ns);
	if (!gsp_watch_wants_rounds(&emu->w))
		return;
	gsp_node_counters_read(vn->node, &c);
	gsp_watch_round(&emu->w, vn->idx, now_ns, &c);
}

static void
gsp_emu_on_rx(void *ctx, struct gsp_vnode *vn, uint64_t now_ns)
{
	struct gsp_emu *emu = ctx;

	gsp_watch_informed(&emu->w, vn->idx, now_ns, vn->node);
}

static void
gsp_emu_on_event(void *ctx, struct gsp_vnode *vn, const struct gsp_event *ev)
{
	struct gsp_emu *emu = ctx;

	/* the lcore's clock as the vnode was run: what the core itself
	 * acted on, without a clock read per event (10^8 in a join). Once
	 * a stall began, now: its resume is stamped by the scenario thread,
	 * and a pass of the lcore that read its clock before it must not
	 * stamp what the resumed vnode does as earlier */
	gsp_watch_event(&emu->w, vn->idx, ev,
			unlikely(__atomic_load_n(&emu->stall_state,
						 __ATOMIC_RELAXED) !=
				 GSP_STALL_NONE) ?
			gsp_emu_now_ns() : vn->lc->now_ns);
}

static void
gsp_emu_on_cmd(void *ctx, struct gsp_vnode *vn, const struct gsp_cmd *cmd,
	       uint64_t now_ns)
{
	struct gsp_emu *emu = ctx;
	uint32_t n_subj;

	if (cmd->type == GSP_CMD_CRASH) {
		n_subj = __atomic_load_n(&emu->w.n_subj, __ATOMIC_ACQUIRE);
		for (uint32_t k = 0; k < n_subj; k++)
			if (emu->w.subj[k] == vn->idx)
				gsp_watch_subject_down(&emu->w, k, now_ns);
		return;
	}
	if (cmd->type != GSP_CMD_SET_APP || vn->idx != emu->origin)
		return;
	/* the change is made: the origin holds it, the others look for it
	 * after each rx burst */
	gsp_watch_informed(&emu->w, vn->idx, now_ns, vn->node);
	__atomic_store_n(&emu->dis_t0_ns, now_ns, __ATOMIC_RELEASE);
	__atomic_store_n(&emu->obs.watch_rx, true, __ATOMIC_RELAXED);
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
	emu->deadline_ns = emu->start_ns + (uint64_t)(emu->o.max_s * 1e9);
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
	struct gsp_emu *emu = dp->emu;

	if (emu == NULL)
		return;
	rte_free(emu->lat);
	rte_free(emu->qsbr);
	gsp_watch_free(&emu->w);
	free(emu);
	dp->emu = NULL;
}
