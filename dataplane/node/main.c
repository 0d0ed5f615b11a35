/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipd: a gossip membership node on a DPDK port, or many emulated ones.
 *
 *   gossipd [EAL options] -- --config FILE [--check-config]
 *   gossipd [EAL options] -- --emulate N [--scenario ...] (docs/EMULATION.md)
 *
 * Setup only: configuration, EAL, rings, the vnodes (one on the port, or N
 * behind the software switch), the control thread; then every lcore runs
 * gsp_lcore_main until a completed LEAVE (SIGTERM/SIGINT start one, see
 * [node] on_stop), a second signal or the scenario's end.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <sys/eventfd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_version.h>

#include "gossipd.h"
#include "emu.h"
#include "gsp_harness.h"
#include "port_switch.h"
#include "gsp_ctrl.h"
#include "gsp_keyfile.h"
#include "gsp_util.h"
#include "gsp_log.h"
#include "gsp_snapshot.h"
#include "gsp_telemetry.h"
#include "gsp_notify.h"
#include "gsp_version.h"

struct gsp_dp gsp_dp = { .view_fd = -1 };

static struct gsp_config gsp_cfg;
static int gsp_ctrl_status;

static void
gsp_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [EAL options] -- --config FILE [--check-config]\n"
		"       %s [EAL options] -- --emulate N [options]\n"
		"  --config FILE      node configuration (docs/CONFIG.md)\n"
		"  --check-config     validate FILE and exit (no EAL needed)\n"
		"  --help             this text\n"
		"  --version          print the version and DPDK's, and exit\n"
		"EAL options name the port, e.g. --vdev "
		"net_af_packet0,iface=eth1 or a PCI NIC; see README.md.\n"
		"Many nodes in one process (docs/EMULATION.md), no port:\n"
		"  --emulate N        host node1..nodeN behind a software switch\n"
		"  --seeds S          nodes 1..S are the seeds (3, at most N)\n"
		"  --interval-ms MS   gossip interval (100)\n"
		"  --scenario NAME    join|disseminate|detect|steady (join)\n"
		"  --json FILE        append the result record (else stdout)\n"
		"  --max-seconds S    give up after S seconds, exit 1 (120)\n"
		"  --duration S       steady: measured window (10)\n"
		"  --seed X           run seed (1)\n"
		"  --loss P           switch drops each frame with probability P (0)\n"
		"  --config FILE is then optional: the other knobs\n",
		prog, prog);
	gsp_emu_usage(f);
}

/* Only counts, and wakes the port's lcore from an rx-interrupt wait: the
 * main lcore's loop leaves or quits (gsp_stop_step). */
static void
gsp_signal(int sig)
{
	__atomic_store_n(&gsp_dp.stop_signo, sig, __ATOMIC_RELAXED);
	__atomic_fetch_add(&gsp_dp.stop_signals, 1, __ATOMIC_RELEASE);
	if (gsp_dp.port_vnode != NULL)
		gsp_lcore_wake(gsp_dp.port_vnode->lc);
}

static void *
gsp_ctrl_thread(void *arg)
{
	gsp_ctrl_status = gsp_ctrl_run(arg);
	if (gsp_ctrl_status != 0) {
		gsp_dp.force_quit = true;
		if (gsp_dp.port_vnode != NULL)
			gsp_lcore_wake(gsp_dp.port_vnode->lc);
	}
	return NULL;
}

static int
gsp_opt_u32(const char *opt, const char *v, uint32_t min, uint32_t max,
	    uint32_t *out)
{
	uint64_t x;

	if (gsp_parse_u64(v, min, max, &x) != 0) {
		fprintf(stderr, "gossipd: --%s %s: expected an integer in "
			"%u..%u\n", opt, v, min, max);
		return -1;
	}
	*out = (uint32_t)x;
	return 0;
}

static int
gsp_opt_double(const char *opt, const char *v, double min, double max,
	       double *out)
{
	if (gsp_parse_double(v, min, max, out) != 0) {
		fprintf(stderr, "gossipd: --%s %s: expected a number in "
			"%g..%g\n", opt, v, min, max);
		return -1;
	}
	return 0;
}

/* Parses the options after "--"; returns 1 to exit 0, -1 to exit 2. */
static int
gsp_parse_app_args(int argc, char **argv, const char **config,
		   bool *check_only, struct gsp_emu_opts *emu)
{
	enum { O_EMULATE = 256, O_SEEDS, O_INTERVAL, O_SCENARIO, O_JSON,
	       O_MAX_S, O_DURATION, O_SEED, O_LOSS };
	static const struct option lgopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "emulate", required_argument, NULL, O_EMULATE },
		{ "seeds", required_argument, NULL, O_SEEDS },
		{ "interval-ms", required_argument, NULL, O_INTERVAL },
		{ "scenario", required_argument, NULL, O_SCENARIO },
		{ "json", required_argument, NULL, O_JSON },
		{ "max-seconds", required_argument, NULL, O_MAX_S },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "seed", required_argument, NULL, O_SEED },
		{ "loss", required_argument, NULL, O_LOSS },
		{ NULL, 0, NULL, 0 },
	};
	const char *emu_only = NULL;
	bool seeds_set = false;
	uint32_t cluster;
	char *end;
	int opt, rc = 0;

	*emu = (struct gsp_emu_opts){ .seeds = 3, .max_s = 120,
		.duration_s = 10, .seed = 1 };
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", lgopts, NULL)) != -1) {
		if (opt >= O_SEEDS)
			emu_only = lgopts[opt - O_EMULATE + 3].name;
		switch (opt) {
		case 'c':
			*config = optarg;
			break;
		case 'C':
			*check_only = true;
			break;
		case 'h':
			gsp_usage(stdout, argv[0]);
			return 1;
		case O_EMULATE:
			rc |= gsp_opt_u32("emulate", optarg, 1, GSP_MAX_VNODES,
					  &emu->nodes);
			break;
		case O_SEEDS:
			rc |= gsp_opt_u32("seeds", optarg, 1, GSP_SEEDS_MAX,
					  &emu->seeds);
			seeds_set = true;
			break;
		case O_INTERVAL:
			rc |= gsp_opt_u32("interval-ms", optarg, 10, 60000,
					  &emu->interval_ms);
			break;
		case O_SCENARIO:
			emu->scenario = gsp_emu_parse_scenario(optarg);
			if (emu->scenario < 0) {
				fprintf(stderr, "gossipd: --scenario %s: "
					"expected join, disseminate, detect "
					"or steady\n", optarg);
				rc = -1;
			}
			break;
		case O_JSON:
			emu->json = optarg;
			break;
		case O_MAX_S:
			rc |= gsp_opt_double("max-seconds", optarg, 1, 86400,
					     &emu->max_s);
			break;
		case O_DURATION:
			rc |= gsp_opt_double("duration", optarg, 0.1, 86400,
					     &emu->duration_s);
			break;
		case O_SEED:
			errno = 0;
			emu->seed = strtoull(optarg, &end, 0);
			if (errno != 0 || end == optarg || *end != '\0') {
				fprintf(stderr, "gossipd: --seed %s: expected "
					"an integer\n", optarg);
				rc = -1;
			}
			break;
		case O_LOSS:
			rc |= gsp_opt_double("loss", optarg, 0, 1, &emu->loss);
			break;
		default:
			gsp_usage(stderr, argv[0]);
			return -1;
		}
	}
	if (rc != 0)
		return -1;
	if (optind < argc) {
		fprintf(stderr, "gossipd: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (emu->nodes == 0 && emu_only != NULL) {
		fprintf(stderr, "gossipd: --%s needs --emulate N\n", emu_only);
		return -1;
	}
	/* the seeds are the cluster's first vnodes, in whichever process */
	cluster = gsp_emu_cluster_size(emu->nodes);
	if (!seeds_set && emu->seeds > cluster && emu->nodes > 0)
		emu->seeds = cluster;
	if (emu->nodes > 0 && gsp_emu_check_opts(emu->nodes, emu->seeds) != 0)
		return -1;
	if (emu->nodes > 0 && emu->nodes < 2 &&
	    emu->scenario != 0) {
		fprintf(stderr, "gossipd: --scenario needs at least 2 nodes\n");
		return -1;
	}
	if (*config == NULL && (emu->nodes == 0 || *check_only)) {
		fprintf(stderr, "gossipd: --config FILE is required\n");
		gsp_usage(stderr, argv[0]);
		return -1;
	}
	return 0;
}

static int
gsp_setup_lcores(struct gsp_dp *dp)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int lcore;
	uint16_t q = 0;

	RTE_LCORE_FOREACH(lcore) {
		struct gsp_lcore_conf *lc = &dp->lconf[lcore];

		lc->enabled = true;
		/* One gossip endpoint has one single-writer table, so one lcore
		 * does all its work: the main lcore, which hosts the port's
		 * vnode, polls the port's one queue pair itself (no other
		 * lcore receives and hands frames over). In emulation no lcore
		 * has a port queue. */
		if (dp->has_port && lcore == rte_get_main_lcore())
			lc->port_kind = GSP_PORT_ETHDEV;
		lc->queue_id = 0;
		if (lc->port_kind == GSP_PORT_ETHDEV)
			q++;
		lc->burst = (uint16_t)RTE_MIN(dp->cfg->burst,
					      (uint32_t)GSP_MAX_PKT_BURST);
		lc->rng = dp->tsc_start ^ ((uint64_t)lcore << 32);
		snprintf(name, sizeof(name), "gsp_cmd_%u", lcore);
		lc->cmd_ring = rte_ring_create_elem(name, sizeof(struct gsp_cmd),
				GSP_CMD_RING_SIZE,
				(int)rte_lcore_to_socket_id(lcore),
				RING_F_SC_DEQ);
		if (lc->cmd_ring == NULL)
			return -ENOMEM;
	}
	dp->nb_queues = q;
	dp->event_ring = rte_ring_create_elem("gsp_event",
			sizeof(struct gsp_event), GSP_EVENT_RING_SIZE,
			(int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (dp->event_ring == NULL)
		return -ENOMEM;
	/* none: the control thread looks every period instead */
	dp->view_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return 0;
}

/* Normal mode: one vnode, bound to the port, on the main lcore. */
static int
gsp_setup_single(struct gsp_dp *dp, const struct gsp_config *cfg)
{
	struct gsp_vnode_params p = {
		.name = cfg->node_name,
		.id = cfg->node_id,
		.generation = gsp_realtime_us(),
		.ip = cfg->addr.ip,
		.netmask = cfg->prefix_len == 0 ? 0 :
			~0u << (32 - cfg->prefix_len),
		.gateway = cfg->gateway,
		.port = cfg->addr.port,
		.capacity = cfg->max_members,
		.interval_ms = cfg->interval_ms,
		.rng_seed = cfg->rng_seed != 0 ? cfg->rng_seed :
			gsp_realtime_us() ^ ((uint64_t)getpid() << 32),
		.seeds = cfg->seeds,
		.n_seeds = cfg->n_seeds,
		/* frames come from the port queue its lcore polls: no ring */
		.ring_size = 0,
	};
	struct gsp_vnode *vn;
	int ret;

	ret = gsp_vnodes_alloc(dp, 1);
	if (ret != 0)
		return ret;
	vn = &dp->vnodes[0];
	ret = gsp_vnode_init(dp, vn, &p);
	if (ret != 0) {
		gsp_log(LOG_ERR, "cannot create the gossip node for %u members: "
			"%s", cfg->max_members, strerror(-ret));
		return ret;
	}
	ret = gsp_vnode_place(dp, vn, rte_get_main_lcore());
	if (ret == 0)
		ret = gsp_lcores_ready(dp);
	if (ret != 0)
		return ret;
	dp->port_vnode = vn;
	dp->ctrl_vnode = vn;
	return gsp_port_init(dp, &vn->mac);
}

/*
 * The keyring, loaded before EAL so a bad key file fails fast. An
 * emulation without one gets an ephemeral key: its vnodes all share it.
 */
static int
gsp_security_init(struct gsp_config *cfg, bool emulation)
{
	char err[GSP_CONFIG_ERR_MAX + 128];
	uint8_t key[GSP_KEY_LEN];
	uint32_t id;
	int ret;

	if (cfg->plaintext) {
		gsp_log(LOG_WARNING, "security: PLAINTEXT MODE: gossip is "
			"NEITHER AUTHENTICATED NOR ENCRYPTED; anyone who can "
			"send UDP to port %u can forge members, declare live "
			"nodes dead and read all state ([security] mode = "
			"plaintext; docs/SECURITY.md)", cfg->addr.port);
		return 0;
	}
	if (!gsp_cipher_available(cfg->cipher)) {
		fprintf(stderr, "gossipd: [security] cipher %s is not available "
			"on this CPU (AES-GCM needs AES-NI): set cipher = "
			"chacha20-poly1305 on every node\n",
			gsp_cipher_name(cfg->cipher));
		return -1;
	}
	if (cfg->keyring_path[0] != '\0') {
		if (gsp_keyfile_load(cfg->keyring_path, cfg->cipher,
				     &gsp_dp.keyring, err, sizeof(err)) != 0) {
			fprintf(stderr, "gossipd: [security] keyring %s\n", err);
			return -1;
		}
	} else if (emulation) {
		randombytes_buf(key, sizeof(key));
		ret = gsp_keyring_create(cfg->cipher, &gsp_dp.keyring);
		if (ret == 0 && gsp_keyring_add(gsp_dp.keyring, key, &id) != 0)
			ret = -EINVAL;
		sodium_memzero(key, sizeof(key));
		if (ret != 0) {
			fprintf(stderr, "gossipd: ephemeral key: %s\n",
				strerror(-ret));
			return -1;
		}
	} else {
		fprintf(stderr, "gossipd: %s: [security] keyring is required: "
			"a file of base64 keys, mode 0600 (gossipctl keygen "
			"makes one; docs/SECURITY.md), or mode = plaintext to "
			"run unauthenticated\n", cfg->path);
		return -1;
	}
	gsp_log(LOG_NOTICE, "security: authenticated, %s, %u key(s), primary "
		"%08x%s", gsp_cipher_name(cfg->cipher),
		gsp_keyring_count(gsp_dp.keyring),
		gsp_keyring_primary(gsp_dp.keyring),
		cfg->keyring_path[0] == '\0' ? " (ephemeral: emulation)" : "");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *config = NULL;
	bool check_only = false;
	struct gsp_emu_opts emu;
	char err[GSP_CONFIG_ERR_MAX];
	char addr[32];
	int eal_argc = argc, ret;
	bool ctrl_started = false, port_up = false;
	pthread_t ctrl_tid;

	/* --version anywhere, before EAL: no hugepages, no port needed */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--version") == 0) {
			printf("gossipd %s (%s)\n", GSP_VERSION, rte_version());
			return 0;
		}
	/* EAL options before "--", ours after, as DPDK's examples do; ours
	 * are parsed first so a bad config fails fast and without EAL. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			eal_argc = i;
			break;
		}
	{
		char *app_argv[argc + 1];
		int app_argc = 0;

		app_argv[app_argc++] = argv[0];
		for (int i = eal_argc + 1; i < argc; i++)
			app_argv[app_argc++] = argv[i];
		app_argv[app_argc] = NULL;
		/* the emulation's own options first (emu_opts.c) */
		if (gsp_emu_take_args(&app_argc, app_argv) != 0)
			return 2;
		ret = gsp_parse_app_args(app_argc, app_argv, &config,
					 &check_only, &emu);
		if (ret != 0)
			return ret > 0 ? 0 : 2;
	}
	if (emu.nodes > 0)
		gsp_harness_huge_heap(argv);
	if (config != NULL) {
		if (gsp_config_load(config, &gsp_cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "gossipd: %s\n", err);
			return 1;
		}
	} else {
		/* emulation without a file: defaults, quieter log */
		gsp_config_defaults(&gsp_cfg);
		gsp_cfg.log_level = LOG_NOTICE;
	}
	/* an ephemeral key is each process's own: its vnodes could not
	 * open the others' datagrams */
	if (emu.nodes > 0 && gsp_emu_xopts()->uplink && !gsp_cfg.plaintext &&
	    gsp_cfg.keyring_path[0] == '\0') {
		fprintf(stderr, "gossipd: --uplink: the processes of one "
			"cluster must share a key: --config FILE with "
			"[security] keyring = a file of the same key "
			"(gossipctl keygen), or mode = plaintext\n");
		return 2;
	}
	if (gsp_security_init(&gsp_cfg, emu.nodes > 0) != 0)
		return 1;
	if (check_only) {
		printf("gossipd: %s: configuration OK\n", config);
		return 0;
	}
	/* the emulated cluster's rounds are --interval-ms's, not the file's */
	if (emu.nodes > 0 && emu.interval_ms == 0)
		emu.interval_ms = 100;
	gsp_log_set_level(gsp_cfg.log_level);
	/* the emulation's vnodes are not one node: no snapshot there */
	if (emu.nodes > 0 && gsp_cfg.snapshot_path[0] != '\0') {
		gsp_log(LOG_WARNING, "snapshot: ignored by the emulation");
		gsp_cfg.snapshot_path[0] = '\0';
	}
	gsp_snap_restore(&gsp_cfg);
	if (gsp_log_dpdk_init() != 0)
		gsp_log(LOG_WARNING, "DPDK's log lines keep DPDK's format: "
			"cannot open a log stream");

	ret = rte_eal_init(eal_argc, argv);
	if (ret < 0) {
		fprintf(stderr, "gossipd: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, gsp_signal);
	signal(SIGTERM, gsp_signal);
	if (emu.nodes == 0)
		gsp_telemetry_register(gsp_cfg.status_path);

	gsp_dp.cfg = &gsp_cfg;
	gsp_dp.has_port = emu.nodes == 0;
	gsp_dp.port_id = gsp_cfg.port_id;
	gsp_dp.tsc_hz = rte_get_tsc_hz();
	gsp_dp.tsc_start = rte_get_tsc_cycles();
	gsp_dp.tsc_mult = (uint64_t)(((unsigned __int128)1000000000u <<
				      GSP_TSC_SHIFT) / gsp_dp.tsc_hz);

	ret = gsp_setup_lcores(&gsp_dp);
	if (ret != 0) {
		gsp_log(LOG_ERR, "cannot create rings: %s", strerror(-ret));
		goto out;
	}
	if (emu.nodes > 0) {
		ret = gsp_emu_setup(&gsp_dp, &gsp_cfg, &emu);
		if (ret != 0) {
			gsp_log(LOG_ERR, "emulation: setup failed: %s (more "
				"memory: -m)", strerror(-ret));
			goto out;
		}
	} else {
		ret = gsp_setup_single(&gsp_dp, &gsp_cfg);
		if (ret != 0)
			goto out;
		port_up = true;
	}

	ret = gsp_fault_dp_init(&gsp_dp);
	if (ret != 0) {
		gsp_log(LOG_ERR, "cannot set up fault injection: %s",
			strerror(-ret));
		goto out;
	}

	ret = rte_ctrl_thread_create(&ctrl_tid, "gsp-ctrl", NULL,
				     gsp_ctrl_thread, &gsp_cfg);
	if (ret != 0) {
		gsp_log(LOG_ERR, "cannot start the control thread: %s",
			strerror(ret));
		ret = -ret;
		goto out;
	}
	ctrl_started = true;
	if (emu.nodes > 0) {
		ret = gsp_emu_start(&gsp_dp);
		if (ret != 0) {
			gsp_dp.force_quit = true;
			goto out;
		}
	} else {
		gsp_format_addr(&gsp_cfg.addr, addr, sizeof(addr));
		gsp_log(LOG_NOTICE, "node %s (id 0x%016" PRIx64 ", generation %"
			PRIu64 ") of cluster %s at %s: %u lcore(s), %zu bytes "
			"per member, capacity %u", gsp_cfg.node_name,
			gsp_node_id(gsp_dp.vnodes[0].node),
			gsp_node_generation(gsp_dp.vnodes[0].node),
			gsp_cfg.cluster, addr, gsp_dp.nb_queues,
			gsp_node_bytes_per_member(gsp_dp.keyring != NULL,
						  false),
			gsp_cfg.max_members);
	}

	rte_eal_mp_remote_launch(gsp_lcore_main, NULL, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	/* stopped by gossipctl leave or an error, not by a signal */
	if (gsp_dp.stop_signals == 0)
		gsp_notify_stopping("stopping");
	if (emu.nodes == 0)
		gsp_log(LOG_NOTICE, "node %s stopped%s", gsp_cfg.node_name,
			gsp_node_leave_done(gsp_dp.vnodes[0].node) ?
			" after leaving" : "");
out:
	gsp_dp.force_quit = true;
	if (ctrl_started) {
		pthread_join(ctrl_tid, NULL);
		if (ret == 0)
			ret = gsp_ctrl_status;
	}
	/* the scenario's verdict: 0 done, 1 timed out (record written) */
	if (gsp_dp.emu != NULL && gsp_emu_finish(&gsp_dp) != 0)
		ret = -1;
	if (port_up)
		gsp_port_close(&gsp_dp);
	gsp_fault_dp_free(&gsp_dp);
	gsp_vnodes_free(&gsp_dp);
	gsp_switch_destroy(gsp_dp.sw);
	gsp_emu_free(&gsp_dp);
	gsp_keyring_destroy(gsp_dp.keyring);
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
