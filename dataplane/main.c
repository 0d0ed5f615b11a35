/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipd: a gossip membership node on a DPDK port.
 *
 *   gossipd [EAL options] -- --config FILE [--check-config]
 *
 * Setup only: configuration, EAL, rings, the gossip core, the port, the
 * control thread; then every lcore runs gsp_lcore_main until a signal or a
 * completed LEAVE.
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

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "gossipd.h"
#include "gsp_ctrl.h"
#include "gsp_log.h"

struct gsp_dp gsp_dp;

static struct gsp_config gsp_cfg;
static int gsp_ctrl_status;

static void
gsp_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [EAL options] -- --config FILE [--check-config]\n"
		"  --config FILE    node configuration (docs/CONFIG.md)\n"
		"  --check-config   validate FILE and exit (no EAL needed)\n"
		"  --help           this text\n"
		"EAL options name the port, e.g. --vdev "
		"net_af_packet0,iface=eth1 or a PCI NIC; see README.md.\n",
		prog);
}

static void
gsp_signal(int sig)
{
	RTE_SET_USED(sig);
	gsp_dp.force_quit = true;
}

static void *
gsp_ctrl_thread(void *arg)
{
	gsp_ctrl_status = gsp_ctrl_run(arg);
	if (gsp_ctrl_status != 0)
		gsp_dp.force_quit = true;
	return NULL;
}

static uint64_t
gsp_realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* Parses the options after "--"; returns 1 to exit 0, -1 to exit 2. */
static int
gsp_parse_app_args(int argc, char **argv, const char **config,
		   bool *check_only)
{
	static const struct option lgopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", lgopts, NULL)) != -1) {
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
		default:
			gsp_usage(stderr, argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gossipd: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (*config == NULL) {
		fprintf(stderr, "gossipd: --config FILE is required\n");
		gsp_usage(stderr, argv[0]);
		return -1;
	}
	return 0;
}

static int
gsp_setup_lcores(struct gsp_dp *dp)
{
	unsigned int lcore;
	uint16_t q = 0;

	dp->proto_lcore = rte_get_main_lcore();
	RTE_LCORE_FOREACH(lcore) {
		struct gsp_lcore_conf *lc = &dp->lconf[lcore];

		lc->enabled = true;
		lc->is_proto = lcore == dp->proto_lcore;
		lc->queue_id = q++;
	}
	dp->nb_queues = q;
	dp->cmd_ring = rte_ring_create_elem("gsp_cmd", sizeof(struct gsp_cmd),
			GSP_CMD_RING_SIZE, (int)rte_socket_id(), RING_F_SC_DEQ);
	dp->event_ring = rte_ring_create_elem("gsp_event",
			sizeof(struct gsp_event), GSP_EVENT_RING_SIZE,
			(int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (dp->cmd_ring == NULL || dp->event_ring == NULL)
		return -ENOMEM;
	if (dp->nb_queues > 1) {
		dp->handoff_ring = rte_ring_create("gsp_handoff",
				GSP_HANDOFF_RING_SIZE, (int)rte_socket_id(),
				RING_F_SC_DEQ);
		if (dp->handoff_ring == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
gsp_setup_node(struct gsp_dp *dp, const struct gsp_config *cfg)
{
	struct gsp_node_params p = {
		.id = cfg->node_id,
		.generation = gsp_realtime_us(),
		.addr = cfg->addr,
		.capacity = cfg->max_members,
		.gossip_interval_ns = (uint64_t)cfg->interval_ms * 1000000u,
		.fanout = cfg->fanout,
		.phi_suspect = cfg->phi_suspect,
		.phi_convict = cfg->phi_convict,
		.forget_ns = (uint64_t)cfg->forget_s * 1000000000u,
		.max_payload = (uint16_t)(cfg->mtu - 28),
		.leave_rounds = cfg->leave_rounds,
		.rng_seed = cfg->rng_seed != 0 ? cfg->rng_seed :
			gsp_realtime_us() ^ ((uint64_t)getpid() << 32),
		.io_ctx = &dp->lconf[dp->proto_lcore],
	};
	int err;

	memcpy(p.cluster, cfg->cluster, sizeof(p.cluster));
	memcpy(p.name, cfg->node_name, sizeof(p.name));
	dp->node = gsp_node_create(&p, &err);
	if (dp->node == NULL) {
		gsp_log(LOG_ERR, "cannot create the gossip node for %u members: "
			"%s", cfg->max_members, strerror(-err));
		return err;
	}
	for (unsigned int i = 0; i < cfg->n_app; i++)
		if (gsp_node_set_app(dp->node, cfg->app_keys[i],
				     cfg->app_values[i]) != 0)
			gsp_log(LOG_WARNING, "[app] %s rejected",
				cfg->app_keys[i]);
	gsp_node_set_seeds(dp->node, cfg->seeds, cfg->n_seeds);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *config = NULL;
	bool check_only = false;
	char err[GSP_CONFIG_ERR_MAX];
	char addr[32];
	int eal_argc = argc, ret;
	pthread_t ctrl_tid;

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
		ret = gsp_parse_app_args(app_argc, app_argv, &config,
					 &check_only);
		if (ret != 0)
			return ret > 0 ? 0 : 2;
	}
	if (gsp_config_load(config, &gsp_cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "gossipd: %s\n", err);
		return 1;
	}
	if (check_only) {
		printf("gossipd: %s: configuration OK\n", config);
		return 0;
	}
	gsp_log_set_level(gsp_cfg.log_level);

	ret = rte_eal_init(eal_argc, argv);
	if (ret < 0) {
		fprintf(stderr, "gossipd: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, gsp_signal);
	signal(SIGTERM, gsp_signal);

	gsp_dp.cfg = &gsp_cfg;
	gsp_dp.port_id = gsp_cfg.port_id;
	gsp_dp.ip = gsp_cfg.addr.ip;
	gsp_dp.netmask = gsp_cfg.prefix_len == 0 ? 0 :
		~0u << (32 - gsp_cfg.prefix_len);
	gsp_dp.tsc_hz = rte_get_tsc_hz();
	gsp_dp.tsc_start = rte_get_tsc_cycles();

	ret = gsp_setup_lcores(&gsp_dp);
	if (ret != 0) {
		gsp_log(LOG_ERR, "cannot create rings: %s", strerror(-ret));
		goto out_eal;
	}
	/* one ARP entry per possible peer on the segment, within reason */
	gsp_dp.arp = gsp_arp_create(gsp_cfg.max_members < 64 ? 64 :
				    RTE_MIN(gsp_cfg.max_members, 65536u));
	if (gsp_dp.arp == NULL) {
		gsp_log(LOG_ERR, "cannot create the ARP cache");
		ret = -ENOMEM;
		goto out_eal;
	}
	ret = gsp_setup_node(&gsp_dp, &gsp_cfg);
	if (ret != 0)
		goto out_eal;
	ret = gsp_port_init(&gsp_dp);
	if (ret != 0)
		goto out_node;

	ret = rte_ctrl_thread_create(&ctrl_tid, "gsp-ctrl", NULL,
				     gsp_ctrl_thread, &gsp_cfg);
	if (ret != 0) {
		gsp_log(LOG_ERR, "cannot start the control thread: %s",
			strerror(ret));
		goto out_port;
	}
	gsp_format_addr(&gsp_cfg.addr, addr, sizeof(addr));
	gsp_log(LOG_NOTICE, "node %s (id 0x%016" PRIx64 ", generation %" PRIu64
		") of cluster %s at %s: %u lcore(s), %zu bytes per member, "
		"capacity %u", gsp_cfg.node_name, gsp_node_id(gsp_dp.node),
		gsp_node_generation(gsp_dp.node), gsp_cfg.cluster, addr,
		gsp_dp.nb_queues, gsp_node_bytes_per_member(),
		gsp_cfg.max_members);

	rte_eal_mp_remote_launch(gsp_lcore_main, NULL, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	gsp_dp.force_quit = true;
	pthread_join(ctrl_tid, NULL);
	ret = gsp_ctrl_status;
	gsp_log(LOG_NOTICE, "node %s stopped%s", gsp_cfg.node_name,
		gsp_node_leave_done(gsp_dp.node) ? " after leaving" : "");
out_port:
	gsp_port_close(&gsp_dp);
out_node:
	gsp_node_destroy(gsp_dp.node);
out_eal:
	gsp_arp_destroy(gsp_dp.arp);
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
