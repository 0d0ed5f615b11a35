/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader, keyring file and static seed resolution tests. Each
 * error test writes a file into a mkdtemp directory and checks the exact
 * "file:line: " prefix plus a key phrase of the message.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "gsp_config.h"
#include "gsp_notify.h"
#include "gsp_ctrl.h"
#include "gsp_keyfile.h"

static char tmp_dir[64];
static char cfg_path[128];

/* Minimal valid config: 5 lines, so appended text starts on line 6. */
#define MIN_CFG \
	"[cluster]\n" \
	"name = c1\n" \
	"[node]\n" \
	"name = n1\n" \
	"address = 10.0.0.5\n"

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/gsp_test_config.XXXXXX");
	if (mkdtemp(tmp_dir) == NULL)
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "%s/cfg.ini", tmp_dir);
	return 0;
}

static int
teardown_dir(void **state)
{
	(void)state;
	unlink(cfg_path);
	return rmdir(tmp_dir);
}

static void
write_cfg(const char *text, size_t len)
{
	FILE *f = fopen(cfg_path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int
load_n(const char *text, size_t len, struct gsp_config *cfg, char *err,
       size_t errlen)
{
	int rc;

	write_cfg(text, len);
	rc = gsp_config_load(cfg_path, cfg, err, errlen);
	unlink(cfg_path);
	return rc;
}

static int
load(const char *text, struct gsp_config *cfg, char *err, size_t errlen)
{
	return load_n(text, strlen(text), cfg, err, errlen);
}

/* line 0: a file-level error ("file: message"). */
static void
expect_err_n(const char *text, size_t len, unsigned int line,
	     const char *phrase)
{
	struct gsp_config cfg;
	char err[GSP_CONFIG_ERR_MAX];
	char prefix[256];
	int rc;

	memset(err, 0, sizeof(err));
	rc = load_n(text, len, &cfg, err, sizeof(err));
	if (line != 0)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", cfg_path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", cfg_path);
	if (rc != -1 || strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err + strlen(prefix), phrase) == NULL) {
		print_error("rc %d, err \"%s\"; want prefix \"%s\", phrase \"%s\"\n",
			    rc, err, prefix, phrase);
		fail();
	}
}

static void
expect_err(const char *text, unsigned int line, const char *phrase)
{
	expect_err_n(text, strlen(text), line, phrase);
}

static void
expect_ok(const char *text, struct gsp_config *cfg)
{
	char err[GSP_CONFIG_ERR_MAX] = "";

	if (load(text, cfg, err, sizeof(err)) != 0) {
		print_error("unexpected error: %s\n", err);
		fail();
	}
}

static void
test_full(void **state)
{
	struct gsp_config cfg;
	char buf[32];

	(void)state;
	expect_ok(
		"; a full config\n"
		"[cluster]\n"
		"name = prod-eu.1\n"
		"\n"
		"[node]\n"
		"name = node_7\n"
		"id = 0xDEADbeef00000001\n"
		"address = 192.168.10.7\n"
		"port = 8000\n"
		"prefix = 16\n"
		"gateway = 192.168.0.1\n"
		"mtu = 9000\n"
		"[gossip]\n"
		"interval = 250ms\n"
		"fanout = 3\n"
		"phi_suspect = 4.5\n"
		"phi_threshold = 9.25\n"
		"forget_after = 2m\n"
		"leave_rounds = 5\n"
		"max_members = 1024\n"
		"[seeds]\n"
		"seed = 192.168.10.1\n"
		"seed = 192.168.10.2:9000\n"
		"dns = _gossip._udp.example.com\n"
		"dns_server = 127.0.0.1:5353\n"
		"dns_refresh = 1m\n"
		"[app]\n"
		"role = web\n"
		"dc.zone-1 = eu west ; comment\n"
		"empty =\n"
		"[control]\n"
		"socket = /tmp/g.sock\n"
		"status_view = /dev/shm/g.view\n"
		"status_interval = 0.05s\n"
		"[dataplane]\n"
		"  port = 1\n"
		"\tburst = 64\n"
		"mbufs = 8191\n"
		"rx_descriptors = 4096\n"
		"tx_descriptors = 512\n"
		"idle_spin = 10\n"
		"idle_pause = 20\n"
		"idle_spin_time = 7us\n"
		"idle_sleep = 500us\n"
		"rx_interrupts = off\n"
		"arp_timeout = 60s\n"
		"rng_seed = 12345678901234567890\n"
		"[log]\n"
		"level = debug\n", &cfg);

	assert_string_equal(cfg.path, cfg_path);
	assert_string_equal(cfg.cluster, "prod-eu.1");
	assert_string_equal(cfg.node_name, "node_7");
	assert_true(cfg.node_id == 0xdeadbeef00000001ULL);
	assert_int_equal(cfg.addr.ip, 0xc0a80a07);
	assert_int_equal(cfg.addr.port, 8000);
	assert_int_equal(cfg.prefix_len, 16);
	assert_int_equal(cfg.gateway, 0xc0a80001);
	assert_int_equal(cfg.mtu, 9000);
	assert_int_equal(cfg.interval_ms, 250);
	assert_int_equal(cfg.fanout, 3);
	assert_true(cfg.phi_suspect == 4.5);
	assert_true(cfg.phi_convict == 9.25);
	assert_int_equal(cfg.forget_s, 120);
	assert_int_equal(cfg.leave_rounds, 5);
	assert_int_equal(cfg.max_members, 1024);
	assert_int_equal(cfg.n_seeds, 2);
	assert_int_equal(cfg.seeds[0].ip, 0xc0a80a01);
	assert_int_equal(cfg.seeds[0].port, 8000);	/* the node's port */
	assert_int_equal(cfg.seeds[1].ip, 0xc0a80a02);
	assert_int_equal(cfg.seeds[1].port, 9000);
	assert_string_equal(cfg.seed_dns, "_gossip._udp.example.com");
	assert_string_equal(cfg.dns_server, "127.0.0.1:5353");
	assert_int_equal(cfg.dns_refresh_s, 60);
	assert_int_equal(cfg.n_app, 3);
	assert_string_equal(cfg.app_keys[0], "role");
	assert_string_equal(cfg.app_values[0], "web");
	assert_string_equal(cfg.app_keys[1], "dc.zone-1");
	assert_string_equal(cfg.app_values[1], "eu west");
	assert_string_equal(cfg.app_keys[2], "empty");
	assert_string_equal(cfg.app_values[2], "");
	assert_string_equal(cfg.socket_path, "/tmp/g.sock");
	assert_string_equal(cfg.status_path, "/dev/shm/g.view");
	assert_int_equal(cfg.status_interval_ms, 50);
	assert_int_equal(cfg.port_id, 1);
	assert_int_equal(cfg.burst, 64);
	assert_int_equal(cfg.mbufs, 8191);
	assert_int_equal(cfg.rx_descriptors, 4096);
	assert_int_equal(cfg.tx_descriptors, 512);
	assert_int_equal(cfg.idle_spin, 10);
	assert_int_equal(cfg.idle_pause, 20);
	assert_int_equal(cfg.idle_spin_us, 7);
	assert_int_equal(cfg.idle_sleep_us, 500);
	assert_int_equal(cfg.rx_interrupts, GSP_RX_INTR_OFF);
	assert_int_equal(cfg.arp_timeout_s, 60);
	assert_true(cfg.rng_seed == 12345678901234567890ULL);
	assert_int_equal(cfg.log_level, LOG_DEBUG);

	gsp_format_addr(&cfg.seeds[1], buf, sizeof(buf));
	assert_string_equal(buf, "192.168.10.2:9000");
}

static void
check_defaults(const struct gsp_config *cfg)
{
	assert_int_equal(cfg->node_id, 0);
	assert_int_equal(cfg->addr.port, GSP_DEFAULT_PORT);
	assert_int_equal(cfg->prefix_len, 24);
	assert_int_equal(cfg->gateway, 0);
	assert_int_equal(cfg->mtu, 1500);
	assert_int_equal(cfg->interval_ms, 1000);
	assert_int_equal(cfg->fanout, 2);
	assert_true(cfg->phi_suspect == 5.0);
	assert_true(cfg->phi_convict == 8.0);
	assert_int_equal(cfg->forget_s, 3600);
	assert_int_equal(cfg->leave_rounds, 3);
	assert_int_equal(cfg->max_members, 65536);
	assert_int_equal(cfg->n_seeds, 0);
	assert_string_equal(cfg->seed_dns, "");
	assert_string_equal(cfg->dns_server, "");
	assert_int_equal(cfg->dns_refresh_s, 30);
	assert_int_equal(cfg->n_app, 0);
	assert_int_equal(cfg->status_interval_ms, 100);
	assert_int_equal(cfg->port_id, 0);
	assert_int_equal(cfg->burst, 32);
	assert_int_equal(cfg->mbufs, 4095);
	assert_int_equal(cfg->rx_descriptors, 1024);
	assert_int_equal(cfg->tx_descriptors, 1024);
	assert_int_equal(cfg->idle_spin, 64);
	assert_int_equal(cfg->idle_pause, 256);
	assert_int_equal(cfg->idle_spin_us, 20);
	assert_int_equal(cfg->idle_sleep_us, GSP_IDLE_SLEEP_AUTO);
	assert_int_equal(cfg->rx_interrupts, GSP_RX_INTR_AUTO);
	assert_int_equal(cfg->arp_timeout_s, 300);
	assert_int_equal(cfg->rng_seed, 0);
	assert_int_equal(cfg->log_level, LOG_INFO);
	assert_int_equal(cfg->detector, GSP_DETECT_DEFAULT);
	assert_int_equal(cfg->probe_interval_ns, 100000000);
	assert_int_equal(cfg->probe_timeout_ns, 50000000);
	assert_int_equal(cfg->indirect_probes, 3);
	assert_int_equal(cfg->suspicion_mult, 4);
	assert_int_equal(cfg->suspicion_max_mult, 6);
	assert_int_equal(cfg->awareness_max, 8);
	assert_false(gsp_fault_active(&cfg->fault));
}

static void
test_defaults(void **state)
{
	struct gsp_config cfg;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	gsp_config_defaults(&cfg);
	check_defaults(&cfg);
	assert_string_equal(cfg.socket_path, "");

	memset(&cfg, 0xa5, sizeof(cfg));
	expect_ok(MIN_CFG, &cfg);
	check_defaults(&cfg);
	assert_string_equal(cfg.cluster, "c1");
	assert_string_equal(cfg.node_name, "n1");
	assert_int_equal(cfg.addr.ip, 0x0a000005);
	assert_string_equal(cfg.socket_path, "/run/gossipd/c1.n1.sock");
	assert_string_equal(cfg.status_path, "/dev/shm/gossipd.c1.n1");
}

/* A seed without a port takes [node] port, even when port comes later. */
static void
test_seed_default_port(void **state)
{
	struct gsp_config cfg;

	(void)state;
	expect_ok("[seeds]\nseed = 10.0.0.1\n" MIN_CFG "port = 7000\n", &cfg);
	assert_int_equal(cfg.n_seeds, 1);
	assert_int_equal(cfg.seeds[0].port, 7000);
	expect_ok(MIN_CFG "[seeds]\nseed = 10.0.0.1\n", &cfg);
	assert_int_equal(cfg.seeds[0].port, GSP_DEFAULT_PORT);
	expect_ok(MIN_CFG "[seeds]\ndns = seeds.example.com\n", &cfg);
	assert_string_equal(cfg.seed_dns, "seeds.example.com");
	/* hex id, upper-case prefix */
	expect_ok(MIN_CFG "id = 0XFF\n", &cfg);
	assert_int_equal(cfg.node_id, 255);
}

static void
test_err_open(void **state)
{
	struct gsp_config cfg;
	char err[GSP_CONFIG_ERR_MAX];
	char want[256];

	(void)state;
	snprintf(want, sizeof(want), "%s/none.ini: cannot open: ", tmp_dir);
	snprintf(cfg_path, sizeof(cfg_path), "%s/none.ini", tmp_dir);
	assert_int_equal(gsp_config_load(cfg_path, &cfg, err, sizeof(err)),
			 -1);
	snprintf(cfg_path, sizeof(cfg_path), "%s/cfg.ini", tmp_dir);
	assert_true(strncmp(err, want, strlen(want)) == 0);
	assert_non_null(strstr(err, "No such file or directory"));
	/* a directory is refused before any read */
	assert_int_equal(gsp_config_load(tmp_dir, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file (a directory)"));
}

static void
test_err_section(void **state)
{
	(void)state;
	expect_err(MIN_CFG "[foo]\n", 6, "unknown section [foo]");
	expect_err(MIN_CFG "[gossip\n", 6, "section header without ']'");
	expect_err("name = x\n" MIN_CFG, 1, "outside any section");
}

static void
test_err_key(void **state)
{
	(void)state;
	expect_err(MIN_CFG "[gossip]\nfanot = 2\n", 7,
		   "[gossip] fanot: unknown key");
	expect_err(MIN_CFG "[gossip]\nfanout = 2\n\nfanout = 3\n", 9,
		   "[gossip] fanout: duplicate key (first set on line 7)");
	expect_err(MIN_CFG "name = n2\n", 6, "[node] name: duplicate key");
	/* a section may reopen, but its keys still may not repeat */
	expect_err(MIN_CFG "[cluster]\nname = c2\n", 7,
		   "[cluster] name: duplicate key");
}

static void
test_err_syntax(void **state)
{
	(void)state;
	expect_err(MIN_CFG "[gossip]\nfanout 3\n", 7,
		   "syntax error: expected \"key = value\"");
	expect_err(MIN_CFG "[gossip]\nfanout: 3\n", 7, "use '='");
	expect_err_n(MIN_CFG "mtu = 1500\x00\n", sizeof(MIN_CFG "mtu = 1500\x00\n") - 1,
		     6, "NUL byte");
	/* whitespace-only and comment lines, CRLF, a BOM: all fine */
	expect_err("\xEF\xBB\xBF# c\r\n \t\r\n[cluster]\r\nname = c ; x\r\n"
		   "[node]\r\nname=n\r\naddress = 10.0.0.1\r\nbogus = 1\r\n",
		   8, "[node] bogus: unknown key");
}

static void
test_err_long_line(void **state)
{
	char text[512];
	int n;

	(void)state;
	n = snprintf(text, sizeof(text), MIN_CFG "[app]\nk = ");
	memset(text + n, 'v', 250);
	snprintf(text + n + 250, sizeof(text) - n - 250, "\n");
	expect_err(text, 7, "line too long");
}

static void
test_err_number(void **state)
{
	(void)state;
	expect_err(MIN_CFG "[gossip]\nfanout = x\n", 7,
		   "[gossip] fanout: must be an integer in 1..16, got \"x\"");
	expect_err(MIN_CFG "[gossip]\nfanout = 17\n", 7, "in 1..16, got \"17\"");
	expect_err(MIN_CFG "[gossip]\nfanout = 0\n", 7, "in 1..16");
	expect_err(MIN_CFG "[gossip]\nfanout = -1\n", 7, "got \"-1\"");
	expect_err(MIN_CFG "[gossip]\nfanout = 3x\n", 7, "got \"3x\"");
	expect_err(MIN_CFG "[gossip]\nfanout =\n", 7, "got \"\"");
	expect_err(MIN_CFG "[gossip]\ninterval_ms = 99999999999999999999\n",
		   7, "must be an integer");
	expect_err(MIN_CFG "mtu = 100\n", 6, "[node] mtu: must be an integer in 1000..9000");
	expect_err(MIN_CFG "[dataplane]\nrx_descriptors = 63\n", 7,
		   "[dataplane] rx_descriptors: must be an integer in "
		   "64..32768, got \"63\"");
	expect_err(MIN_CFG "[dataplane]\ntx_descriptors = 32769\n", 7,
		   "in 64..32768");
	expect_err(MIN_CFG "[gossip]\nphi_suspect = abc\n", 7,
		   "[gossip] phi_suspect: must be a number");
	expect_err(MIN_CFG "[gossip]\nphi_threshold = nan\n", 7,
		   "must be a number");
	expect_err(MIN_CFG "[gossip]\nphi_threshold = 1e999\n", 7,
		   "must be a number");
	expect_err(MIN_CFG "id = 0x\n", 6, "[node] id: must be a 64-bit integer");
	expect_err(MIN_CFG "id = 18446744073709551616\n", 6,
		   "must be a 64-bit integer");
	expect_err(MIN_CFG "[dataplane]\nrng_seed = 0x1g\n", 7,
		   "[dataplane] rng_seed: must be a 64-bit integer");
	expect_err(MIN_CFG "[log]\nlevel = verbose\n", 7,
		   "[log] level: must be one of error, warning");
}

static void
test_err_addr(void **state)
{
	(void)state;
	expect_err("[cluster]\nname = c\n[node]\nname = n\naddress = 10.0.0\n",
		   5, "[node] address: must be an IPv4 address, got \"10.0.0\"");
	expect_err("[node]\naddress = 010.0.0.1\n", 2, "must be an IPv4");
	expect_err("[node]\naddress = 224.0.0.1\n", 2, "unicast");
	expect_err("[node]\naddress = 0.0.0.0\n", 2, "unicast");
	expect_err(MIN_CFG "port = 0\n", 6, "[node] port: must be an integer in 1..65535");
	expect_err(MIN_CFG "port = 65536\n", 6, "in 1..65535");
	expect_err(MIN_CFG "gateway = 1.2.3.4.5\n", 6, "[node] gateway: must be an IPv4");
	expect_err(MIN_CFG "[seeds]\nseed = 10.0.0.1:70000\n", 7,
		   "[seeds] seed: port out of range 1..65535");
	expect_err(MIN_CFG "[seeds]\nseed = 10.0.0.1:\n", 7,
		   "port out of range");
	expect_err(MIN_CFG "[seeds]\nseed = host:7946\n", 7,
		   "must be an IPv4 address with an optional :port");
	expect_err(MIN_CFG "[seeds]\ndns_server = 1.2.3.4:0\n", 7,
		   "[seeds] dns_server: port out of range");
	expect_err(MIN_CFG "[seeds]\ndns = bad..name\n", 7,
		   "[seeds] dns: must be a DNS name");
}

static void
test_err_name(void **state)
{
	(void)state;
	expect_err("[cluster]\nname = a b\n", 2,
		   "[cluster] name: must be 1..31 characters of [A-Za-z0-9_.-], got \"a b\"");
	expect_err("[cluster]\nname = abcdefghijabcdefghijabcdefghij12\n", 2,
		   "[cluster] name: too long (32 bytes, max 31)");
	expect_err("[node]\nname = n/1\n", 2, "[node] name: must be 1..63");
	expect_err("[node]\nname =\n", 2, "[node] name: must be 1..63");
}

static void
test_err_app(void **state)
{
	(void)state;
	expect_err(MIN_CFG "[app]\nabcdefghijabcdefghijabcdefghij12 = v\n", 7,
		   "key must be 1..31 characters");
	/* a value of 255 bytes is longer than a config line: [app] takes
	 * what a line holds, gossipctl set the rest */
	{
		char text[512];

		snprintf(text, sizeof(text), MIN_CFG "[app]\nk = %0255d\n", 7);
		expect_err(text, 7, "line too long (max 199 bytes)");
	}
	expect_err(MIN_CFG "[app]\nk = caf\xc3\xa9\n", 7,
		   "value must be printable");
	expect_err(MIN_CFG "[app]\nk = 1\nk = 2\n", 8,
		   "[app] k: duplicate key (first set on line 7)");
	/* over app_bytes_max at the key that crosses it; an mtu too small
	 * for a whole state at the limit, with both numbers */
	expect_err(MIN_CFG "[limits]\napp_bytes_max = 10\n[security]\n"
		   "mode = plaintext\n[app]\na = 1234\nb = 12345\n", 12,
		   "[app] b: the keys and values so far take 11 bytes (0 of "
		   "them held for gossipd's keyring, gsp.keys), over [limits] "
		   "app_bytes_max 10");
	/* sealed: 71 bytes held for gsp.keys */
	expect_err(MIN_CFG "[limits]\napp_bytes_max = 80\n[app]\na = 1234\n"
		   "b = 12345\n", 10, "[app] b: the keys and values so far "
		   "take 82 bytes (71 of them held for gossipd's keyring, "
		   "gsp.keys), over [limits] app_bytes_max 80");
	/* sealed, gsp.keys is one of the 16: the 16th [app] key is refused */
	expect_err(MIN_CFG "[app]\na=1\nb=2\nc=3\nd=4\ne=5\nf=6\ng=7\nh=8\n"
		   "i=9\nj=1\nk=1\nl=1\nm=1\nn=1\no=1\np=1\n", 22,
		   "[app] p: this node publishes at most 16 keys (gossipd's "
		   "gsp.keys among them) of at most 255 bytes");
	/* a node that speaks only 4 keeps to 4's bounds */
	{
		char text[512];

		snprintf(text, sizeof(text), MIN_CFG "[gossip]\nwire_version = 4"
			 "\n[app]\nk = %064d\n", 7);
		expect_err(text, 9, "[app] k: this node publishes at most 8 "
			   "keys (gossipd's gsp.keys among them) of at most 63 "
			   "bytes ([gossip] wire_version 4)");
	}
	expect_err(MIN_CFG "mtu = 1300\n[security]\nmode = plaintext\n", 6,
		   "[node] mtu 1300 is too small for a member state of "
		   "[limits] app_bytes_max 1024: it needs mtu 1355 or more");
	{
		struct gsp_config cfg;

		expect_ok(MIN_CFG "mtu = 1300\n[security]\nmode = plaintext\n"
			  "[limits]\napp_bytes_max = 900\n", &cfg);
	}
	expect_err(MIN_CFG "[app]\na=1\nb=2\nc=3\nd=4\ne=5\nf=6\ng=7\nh=8\ni=9\n"
		   "j=1\nk=1\nl=1\nm=1\nn=1\no=1\np=1\nq=1\n",
		   23, "[app] q: too many keys (max 16)");
}

/* systemd's watchdog: petted every half period while rounds advance,
 * withheld once none ran for the longer of the period and 3 intervals,
 * petted again when they resume (gsp_notify.h). */
static void
test_watchdog_pets_while_rounds_advance(void **state)
{
	const uint64_t s = 1000000000ull;
	struct gsp_watchdog w;
	uint64_t t = 100 * s, rounds = 1;

	(void)state;
	gsp_watchdog_init(&w, 10 * s, 1 * s, t);
	assert_int_equal(w.stall_ns, 10 * s);
	assert_int_equal(gsp_watchdog_due(&w, rounds, t), 1);
	assert_int_equal(gsp_watchdog_due(&w, rounds, t + 1), 0);
	/* rounds advance: a pet every 5 s */
	for (int i = 1; i <= 6; i++) {
		t += s;
		rounds++;
		assert_int_equal(gsp_watchdog_due(&w, rounds, t),
				 i % 5 == 0 ? 1 : 0);
	}
	/* stuck: still petted up to 10 s after the last round, then not */
	assert_int_equal(gsp_watchdog_due(&w, rounds, t + 4 * s), 1);
	assert_int_equal(gsp_watchdog_due(&w, rounds, t + 9 * s), 1);
	assert_int_equal(gsp_watchdog_due(&w, rounds, t + 14 * s), -1);
	assert_true(w.stalled);
	assert_int_equal(gsp_watchdog_due(&w, rounds, t + 15 * s), 0);
	/* resumed */
	assert_int_equal(gsp_watchdog_due(&w, rounds + 1, t + 19 * s), 1);
	assert_false(w.stalled);
	/* a long interval stretches the stall bound; 0: off */
	gsp_watchdog_init(&w, 10 * s, 60 * s, t);
	assert_int_equal(w.stall_ns, 180 * s);
	gsp_watchdog_init(&w, 0, 1 * s, t);
	assert_int_equal(gsp_watchdog_due(&w, 1, t + 100 * s), 0);
}

static void
test_err_too_many_seeds(void **state)
{
	char text[4096];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), MIN_CFG "[seeds]\n");
	for (unsigned int i = 0; i <= GSP_SEEDS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "seed = 10.1.0.%u\n", i + 1);
	assert_true(n < sizeof(text));
	expect_err(text, 7 + GSP_SEEDS_MAX, "[seeds] seed: too many seeds (max 64)");
}

static void
test_err_required(void **state)
{
	(void)state;
	expect_err("[node]\nname = n\naddress = 10.0.0.1\n", 0,
		   "[cluster] name is required");
	expect_err("[cluster]\nname = c\n[node]\naddress = 10.0.0.1\n", 0,
		   "[node] name is required");
	expect_err("[cluster]\nname = c\n[node]\nname = n\n", 0,
		   "[node] address is required");
	expect_err("", 0, "[cluster] name is required");
}

static void
test_err_cross(void **state)
{
	(void)state;
	expect_err(MIN_CFG "[gossip]\nphi_threshold = 4\n", 7,
		   "[gossip] phi_suspect (5) must be below phi_threshold (4)");
	expect_err(MIN_CFG "[gossip]\nphi_threshold = 6\nphi_suspect = 6\n", 8,
		   "must be below phi_threshold");
	expect_err(MIN_CFG "gateway = 10.0.1.1\n", 6,
		   "[node] gateway 10.0.1.1 is not on-link for 10.0.0.5/24");
	expect_err(MIN_CFG "gateway = 10.0.0.5\n", 6, "must differ");
	expect_err(MIN_CFG "[seeds]\ndns_server = 127.0.0.1\n", 7,
		   "dns_server is set but [seeds] dns is not");
	expect_err(MIN_CFG "[gossip]\ninterval = 2s\nforget_after = 19s\n",
		   8, "[gossip] forget_after (19s) must be at least 10 gossip intervals (interval 2000ms)");
	/* the line is found under the old names too */
	expect_err(MIN_CFG "[gossip]\ninterval_ms = 2000\nforget_after_s = 19\n",
		   8, "at least 10 gossip intervals");
	expect_err(MIN_CFG "[control]\nsocket = /tmp/x\nstatus_view = /tmp/x\n",
		   8, "must differ");
	/* 31 + 63 byte names do not fit the default paths */
	expect_err("[cluster]\nname = abcdefghijabcdefghijabcdefghij1\n"
		   "[node]\naddress = 10.0.0.1\nname = "
		   "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123\n",
		   0, "[control] socket: the default path");
}

static void
test_detector(void **state)
{
	struct gsp_config cfg;

	(void)state;
	expect_ok(MIN_CFG "[detector]\n"
		  "phi = off\n"
		  "swim = on\n"
		  "indirect = yes\n"
		  "lifeguard = false\n"
		  "probe_interval = 200ms\n"
		  "probe_timeout = 150000us\n"
		  "indirect_probes = 5\n"
		  "suspicion_mult = 3\n"
		  "suspicion_max_mult = 10\n"
		  "awareness_max = 4\n", &cfg);
	assert_int_equal(cfg.detector, GSP_DETECT_SWIM | GSP_DETECT_INDIRECT);
	assert_int_equal(cfg.probe_interval_ns, 200000000);
	assert_int_equal(cfg.probe_timeout_ns, 150000000);
	assert_int_equal(cfg.indirect_probes, 5);
	assert_int_equal(cfg.suspicion_mult, 3);
	assert_int_equal(cfg.suspicion_max_mult, 10);
	assert_int_equal(cfg.awareness_max, 4);

	/* the timeout follows the interval unless set */
	expect_ok(MIN_CFG "[detector]\nprobe_interval = 1s\n", &cfg);
	assert_int_equal(cfg.probe_timeout_ns, 500000000);
	expect_ok(MIN_CFG "[detector]\nprobe_interval = 30ms\nswim = 0\n", &cfg);
	assert_int_equal(cfg.probe_interval_ns, 30000000);
	assert_int_equal(cfg.probe_timeout_ns, 15000000);
	assert_int_equal(cfg.detector, GSP_DETECT_DEFAULT & ~GSP_DETECT_SWIM);
	/* no helpers means no indirect probing (0 is the core's default) */
	expect_ok(MIN_CFG "[detector]\nindirect_probes = 0\n", &cfg);
	assert_int_equal(cfg.detector,
			 GSP_DETECT_DEFAULT & ~GSP_DETECT_INDIRECT);
	/* phi alone is a detector */
	expect_ok(MIN_CFG "[detector]\nswim = off\nindirect = off\n"
		  "lifeguard = off\n", &cfg);
	assert_int_equal(cfg.detector, GSP_DETECT_PHI);
}

static void load_logged(const char *text, char *log, size_t loglen);

/* Durations at their edges: every time key names its unit; the old
 * names (unit in the name) still work, with a warning; not both. */
static void
test_durations(void **state)
{
	struct gsp_config cfg;
	char log[4096];

	(void)state;
	expect_ok(MIN_CFG "[gossip]\ninterval = 10ms\nforget_after = 1h\n",
		  &cfg);
	assert_int_equal(cfg.interval_ms, 10);
	assert_int_equal(cfg.forget_s, 3600);
	/* the maxima, in other units than the field's */
	expect_ok(MIN_CFG "[gossip]\ninterval = 1m\nforget_after = 7d\n"
		  "[seeds]\ndns_refresh = 24h\n"
		  "[dataplane]\nidle_sleep = 0.1s\narp_timeout = 1d\n", &cfg);
	assert_int_equal(cfg.interval_ms, 60000);
	assert_int_equal(cfg.forget_s, 604800);
	assert_int_equal(cfg.dns_refresh_s, 86400);
	assert_int_equal(cfg.idle_sleep_us, 100000);
	assert_int_equal(cfg.arp_timeout_s, 86400);
	/* 0 is 0 in every unit: no guess */
	expect_ok(MIN_CFG "[dataplane]\nidle_sleep = 0\nidle_spin_time = 0us\n",
		  &cfg);
	assert_int_equal(cfg.idle_sleep_us, 0);
	assert_int_equal(cfg.idle_spin_us, 0);
	expect_ok(MIN_CFG "[gossip]\nmax_clock_skew = 1d\n", &cfg);
	assert_true(cfg.max_clock_skew_ns == 86400ull * 1000000000ull);

	expect_err(MIN_CFG "[gossip]\ninterval = 100\n", 7,
		   "[gossip] interval: \"100\" needs a unit: ns, us, ms, s, m, h or d (e.g. 100ms, 100s)");
	expect_err(MIN_CFG "[gossip]\ninterval = 0\n", 7,
		   "[gossip] interval: must be a duration in 10ms..1m (a number and a unit: ns, us, ms, s, m, h or d), got \"0\"");
	expect_err(MIN_CFG "[gossip]\ninterval = 9ms\n", 7, "got \"9ms\"");
	expect_err(MIN_CFG "[gossip]\ninterval = 60001ms\n", 7,
		   "10ms..1m");
	expect_err(MIN_CFG "[gossip]\nforget_after = 8d\n", 7,
		   "[gossip] forget_after: must be a duration in 1s..7d");
	/* overflow of the number and of number x unit */
	expect_err(MIN_CFG "[gossip]\nforget_after = 99999999999999999999999d\n",
		   7, "must be a duration");
	expect_err(MIN_CFG "[gossip]\nmax_clock_skew = 999999999999999h\n",
		   7, "[gossip] max_clock_skew: must be a duration in 1s..1d");
	/* junk suffix, missing number, sign, exponent, space, two dots */
	expect_err(MIN_CFG "[gossip]\ninterval = 100msec\n", 7,
		   "got \"100msec\"");
	expect_err(MIN_CFG "[gossip]\ninterval = 1w\n", 7, "got \"1w\"");
	expect_err(MIN_CFG "[gossip]\ninterval = ms\n", 7, "got \"ms\"");
	expect_err(MIN_CFG "[gossip]\ninterval = .ms\n", 7, "got \".ms\"");
	expect_err(MIN_CFG "[gossip]\ninterval = -100ms\n", 7,
		   "got \"-100ms\"");
	expect_err(MIN_CFG "[gossip]\ninterval = 1e3ms\n", 7, "got \"1e3ms\"");
	expect_err(MIN_CFG "[gossip]\ninterval = 100 ms\n", 7,
		   "got \"100 ms\"");
	expect_err(MIN_CFG "[gossip]\ninterval = 1.2.3s\n", 7,
		   "got \"1.2.3s\"");
	expect_err(MIN_CFG "[gossip]\ninterval =\n", 7, "got \"\"");
	/* the field holds whole ms, s, us */
	expect_err(MIN_CFG "[gossip]\ninterval = 100.5ms\n", 7,
		   "[gossip] interval: \"100.5ms\" is not a whole number of milliseconds");
	expect_err(MIN_CFG "[gossip]\nforget_after = 1500ms\n", 7,
		   "not a whole number of seconds");

	/* gossipd's own app keys */
	expect_err(MIN_CFG "[app]\ngsp.keys = 00000000\n", 7,
		   "[app] gsp.keys: keys starting with \"gsp.\" are reserved for gossipd");

	/* old names: bare numbers in the unit of the name, and a warning */
	load_logged(MIN_CFG "[gossip]\ninterval_ms = 250\n", log, sizeof(log));
	if (strstr(log, "cfg.ini:7: [gossip] interval_ms is deprecated: "
		   "write interval = 250ms (a number and its unit)") == NULL) {
		print_error("no deprecation warning in:\n%s\n", log);
		fail();
	}
	expect_ok(MIN_CFG "[gossip]\ninterval_ms = 250\n"
		  "[dataplane]\narp_timeout_s = 7\nidle_sleep_us = 3\n", &cfg);
	assert_int_equal(cfg.interval_ms, 250);
	assert_int_equal(cfg.arp_timeout_s, 7);
	assert_int_equal(cfg.idle_sleep_us, 3);
	expect_err(MIN_CFG "[gossip]\ninterval_ms = 250ms\n", 7,
		   "[gossip] interval_ms: must be an integer");
	/* both names: which would win? */
	expect_err(MIN_CFG "[gossip]\ninterval_ms = 250\ninterval = 1s\n", 8,
		   "[gossip] interval: also set as interval_ms on line 7: remove one");
	expect_err(MIN_CFG "[control]\nstatus_interval = 50ms\n"
		   "status_interval_ms = 50\n", 8,
		   "[control] status_interval_ms: also set as status_interval on line 7");
}

static void
test_err_detector(void **state)
{
	(void)state;
	expect_err(MIN_CFG "[detector]\nphi = maybe\n", 7,
		   "[detector] phi: must be on or off, got \"maybe\"");
	expect_err(MIN_CFG "[detector]\nswim = ON\n", 7,
		   "[detector] swim: must be on or off");
	expect_err(MIN_CFG "[detector]\nphi = off\nswim = off\n", 8,
		   "[detector] phi and swim are both off: no failure detection");
	/* the later of the two lines, whichever key it is */
	expect_err(MIN_CFG "[detector]\nswim = off\nlifeguard = off\n"
		   "phi = off\n", 9, "phi and swim are both off");
	expect_err(MIN_CFG "[detector]\nprobe_interval = fast\n", 7,
		   "[detector] probe_interval: must be a duration in 1ms..10s (a number and a unit: ns, us, ms, s, m, h or d), got \"fast\"");
	expect_err(MIN_CFG "[detector]\nprobe_interval = 0\n", 7,
		   "must be a duration in 1ms..10s");
	/* a bare number was ms: no more guessing */
	expect_err(MIN_CFG "[detector]\nprobe_interval = 30\n", 7,
		   "[detector] probe_interval: \"30\" needs a unit: ns, us, ms, s, m, h or d (e.g. 30ms, 30s)");
	expect_err(MIN_CFG "[detector]\nprobe_interval = 11s\n", 7,
		   "got \"11s\"");
	expect_err(MIN_CFG "[detector]\nprobe_interval = 5ms delay=1\n", 7,
		   "got \"5ms delay=1\"");
	expect_err(MIN_CFG "[detector]\nprobe_timeout = 50us\n", 7,
		   "[detector] probe_timeout: must be a duration in 100us..10s");
	expect_err(MIN_CFG "[detector]\nprobe_timeout = 100ms\n", 7,
		   "[detector] probe_timeout (100ms) must be below probe_interval (100ms)");
	expect_err(MIN_CFG "[detector]\nprobe_timeout = 80ms\n"
		   "probe_interval = 50ms\n", 8,
		   "probe_timeout (80ms) must be below probe_interval (50ms)");
	expect_err(MIN_CFG "[detector]\nindirect_probes = 17\n", 7,
		   "[detector] indirect_probes: must be an integer in 0..16");
	expect_err(MIN_CFG "[detector]\nsuspicion_mult = 0\n", 7,
		   "[detector] suspicion_mult: must be an integer in 1..100");
	expect_err(MIN_CFG "[detector]\nawareness_max = x\n", 7,
		   "[detector] awareness_max: must be an integer");
	expect_err(MIN_CFG "[detector]\nphi = on\nphi = off\n", 8,
		   "[detector] phi: duplicate key (first set on line 7)");
	expect_err(MIN_CFG "[detector]\nsuspicion = 4\n", 7,
		   "[detector] suspicion: unknown key");
}

static void
test_fault_section(void **state)
{
	struct gsp_config cfg;
	char spec[256];

	(void)state;
	expect_ok(MIN_CFG "[fault]\n"
		  "drop = 0.5 ; testing only\n"
		  "dup = 0.01\n"
		  "reorder = 0.2\n"
		  "delay = 20ms\n"
		  "jitter = 500us\n"
		  "reorder_by = 5ms\n"
		  "block = 10.0.0.2 10.0.0.3:in,10.0.0.4:out\n"
		  "block = 10.0.0.9:both\n", &cfg);
	assert_true(gsp_fault_active(&cfg.fault));
	assert_int_equal(gsp_fault_format(&cfg.fault, spec, sizeof(spec)), 0);
	assert_string_equal(spec, "drop=0.5 dup=0.01 reorder=0.2 delay=20ms "
			    "jitter=500us reorder_by=5ms block=10.0.0.2 "
			    "block=10.0.0.3:in block=10.0.0.4:out block=10.0.0.9");
	/* zero is a value too: no fault */
	expect_ok(MIN_CFG "[fault]\ndrop = 0\n", &cfg);
	assert_false(gsp_fault_active(&cfg.fault));
}

static void
test_err_fault(void **state)
{
	char text[4096];
	size_t n;

	(void)state;
	/* the messages are the fault parser's, as gossipctl fault set says */
	expect_err(MIN_CFG "[fault]\ndrop = 2\n", 7,
		   "[fault] drop: '2' is not a probability in [0, 1]");
	expect_err(MIN_CFG "[fault]\ndup = -1\n", 7,
		   "[fault] dup: '-1' is not a probability in [0, 1]");
	expect_err(MIN_CFG "[fault]\ndelay = 20 minutes\n", 7,
		   "[fault] delay: must be one value, got \"20 minutes\"");
	expect_err(MIN_CFG "[fault]\ndrop = 0.1,dup=1\n", 7,
		   "[fault] drop: must be one value");
	expect_err(MIN_CFG "[fault]\njitter = 20m\n", 7,
		   "[fault] jitter: '20m' is not a duration of at most 10s");
	expect_err(MIN_CFG "[fault]\ndelay = 20\n", 7,
		   "[fault] delay: \"20\" needs a unit: ns, us, ms, s, m, h or d (e.g. 20ms)");
	expect_err(MIN_CFG "[fault]\nreorder_by = 11s\n", 7,
		   "[fault] reorder_by: '11s' is not a duration");
	expect_err(MIN_CFG "[fault]\nblock = 10.0.0.2 node3\n", 7,
		   "[fault] block: 'node3' is not IPv4[:in|:out|:both]");
	expect_err(MIN_CFG "[fault]\nblock = 10.0.0.2:up\n", 7,
		   "[fault] block: '10.0.0.2:up' is not IPv4");
	expect_err(MIN_CFG "[fault]\nblock = drop=1\n", 7,
		   "[fault] block: 'drop=1' is not IPv4");
	expect_err(MIN_CFG "[fault]\nblock =\n", 7,
		   "[fault] block: must list one or more IP[:in|:out|:both]");
	expect_err(MIN_CFG "[fault]\ndrop = 0.1\ndrop = 0.2\n", 8,
		   "[fault] drop: duplicate key (first set on line 7)");
	expect_err(MIN_CFG "[fault]\nloss = 0.1\n", 7,
		   "[fault] loss: unknown key");
	expect_err(MIN_CFG "[fault]\nclear = 1\n", 7,
		   "[fault] clear: unknown key");

	/* block repeats, up to the parser's 64 peers */
	n = (size_t)snprintf(text, sizeof(text), MIN_CFG "[fault]\n");
	for (unsigned int i = 0; i < 13; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "block = 10.2.%u.1 10.2.%u.2 10.2.%u.3 "
				      "10.2.%u.4 10.2.%u.5\n", i, i, i, i, i);
	assert_true(n < sizeof(text));
	expect_err(text, 19, "[fault] block: at most 64 peers");
}

static void
test_parse_format_addr(void **state)
{
	struct gsp_addr a;
	char buf[32];

	(void)state;
	assert_int_equal(gsp_parse_addr("1.2.3.4", 99, &a), 0);
	assert_int_equal(a.ip, 0x01020304);
	assert_int_equal(a.port, 99);
	assert_int_equal(gsp_parse_addr("255.0.0.1:65535", 99, &a), 0);
	assert_int_equal(a.ip, 0xff000001);
	assert_int_equal(a.port, 65535);
	assert_int_equal(gsp_parse_addr("1.2.3.4:0", 99, &a), -1);
	assert_int_equal(gsp_parse_addr("1.2.3.4:65536", 99, &a), -1);
	assert_int_equal(gsp_parse_addr("1.2.3.4:+1", 99, &a), -1);
	assert_int_equal(gsp_parse_addr("1.2.3", 99, &a), -1);
	assert_int_equal(gsp_parse_addr("", 99, &a), -1);
	assert_int_equal(gsp_parse_addr("111.111.111.111111:1", 99, &a), -1);
	assert_int_equal(gsp_parse_addr(NULL, 99, &a), -1);
	a.ip = 0x0a000001;
	a.port = 7946;
	gsp_format_addr(&a, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.1:7946");
	a.port = 0;
	gsp_format_addr(&a, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.1");
	gsp_format_addr(&a, buf, 4);
	assert_string_equal(buf, "10.");
}

static void
test_seeds_static(void **state)
{
	struct gsp_config cfg;
	struct gsp_addr out[GSP_SEEDS_MAX];
	char err[256];

	(void)state;
	gsp_config_defaults(&cfg);
	cfg.addr.ip = 0x0a000009;
	cfg.addr.port = 7946;
	cfg.seeds[0] = (struct gsp_addr){ 0x0a000001, 7946 };
	cfg.seeds[1] = (struct gsp_addr){ 0x0a000002, 7946 };
	cfg.seeds[2] = (struct gsp_addr){ 0x0a000001, 7946 };	/* dup */
	cfg.seeds[3] = (struct gsp_addr){ 0x0a000001, 7000 };	/* other port */
	cfg.seeds[4] = (struct gsp_addr){ 0x0a000009, 7946 };	/* ourselves */
	cfg.seeds[5] = (struct gsp_addr){ 0x0a000003, 0 };	/* node port */
	cfg.n_seeds = 6;

	assert_int_equal(gsp_seeds_resolve(&cfg, out, GSP_SEEDS_MAX, 100, err,
					   sizeof(err)), 4);
	assert_int_equal(out[0].ip, 0x0a000001);
	assert_int_equal(out[0].port, 7946);
	assert_int_equal(out[1].ip, 0x0a000002);
	assert_int_equal(out[2].ip, 0x0a000001);
	assert_int_equal(out[2].port, 7000);
	assert_int_equal(out[3].ip, 0x0a000003);
	assert_int_equal(out[3].port, 7946);

	/* never more than max, and nothing written past it */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(gsp_seeds_resolve(&cfg, out, 2, 100, err,
					   sizeof(err)), 2);
	assert_int_equal(out[1].ip, 0x0a000002);
	assert_int_equal(out[2].ip, 0xeeeeeeee);
	assert_int_equal(gsp_seeds_resolve(&cfg, NULL, 0, 100, err,
					   sizeof(err)), 0);
	assert_int_equal(gsp_seeds_resolve(&cfg, NULL, 1, 100, err,
					   sizeof(err)), -1);

	/* none configured: a lone first node */
	cfg.n_seeds = 0;
	assert_int_equal(gsp_seeds_resolve(&cfg, out, GSP_SEEDS_MAX, 100, err,
					   sizeof(err)), 0);
}

/* A hang (the old blocking open of a FIFO) fails the test, not the run. */
#define HANG_S 10

static void
expect_not_regular(const char *path, const char *kind)
{
	uint8_t keys[GSP_KEYRING_MAX][GSP_KEY_LEN];
	struct gsp_config cfg;
	char err[GSP_CONFIG_ERR_MAX], want[256];
	unsigned int n;

	snprintf(want, sizeof(want), "%s: not a regular file (%s)", path,
		 kind);
	assert_int_equal(gsp_config_load(path, &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_int_equal(gsp_keyfile_read(path, keys, GSP_KEYRING_MAX, &n, err,
					  sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_int_equal(n, 0);
}

/* Config and keyring paths naming a FIFO, a directory, a device or a
 * socket: refused at once with what they are, never read or waited on. */
static void
test_file_not_regular(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t keys[GSP_KEYRING_MAX][GSP_KEY_LEN];
	char fifo[160], sock[sizeof(sa.sun_path)];
	char err[GSP_CONFIG_ERR_MAX], want[256];
	struct gsp_config cfg;
	unsigned int n;
	int fd;

	(void)state;
	alarm(HANG_S);
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmp_dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	expect_not_regular(fifo, "a FIFO");
	unlink(fifo);

	expect_not_regular(tmp_dir, "a directory");
	expect_not_regular("/dev/zero", "a character device");
	expect_not_regular("/dev/null", "a character device");

	snprintf(sock, sizeof(sock), "%s/sock", tmp_dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	expect_not_regular(sock, "a socket");
	close(fd);
	unlink(sock);

	/* a FIFO behind a symbolic link: the config follows it, a keyring
	 * is never read through one (it could be swapped for another file) */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink(fifo, sock), 0);
	assert_int_equal(gsp_config_load(sock, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file (a FIFO)", sock);
	assert_string_equal(err, want);
	assert_int_equal(gsp_keyfile_read(sock, keys, GSP_KEYRING_MAX, &n, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "(a symbolic link: name the file itself)"));
	unlink(sock);
	unlink(fifo);
	alarm(0);
}

static void
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* A file of exactly size bytes: MIN_CFG, then comment lines. */
static char *
padded(const char *head, size_t size)
{
	char *t = malloc(size + 1);
	size_t off = strlen(head);

	assert_non_null(t);
	memcpy(t, head, off);
	while (off < size) {
		size_t line = size - off < 100 ? size - off : 100;

		memset(t + off, '#', line - 1);
		t[off + line - 1] = '\n';
		off += line;
	}
	t[size] = '\0';
	return t;
}

static void
test_file_too_large(void **state)
{
	struct gsp_config cfg;
	char err[GSP_CONFIG_ERR_MAX] = "";
	char *t;

	(void)state;
	t = padded(MIN_CFG, GSP_CONFIG_SIZE_MAX);
	assert_int_equal(load(t, &cfg, err, sizeof(err)), 0);
	free(t);
	t = padded(MIN_CFG, GSP_CONFIG_SIZE_MAX + 1);
	expect_err(t, 0, "too large (");
	free(t);
	/* a size fstat does not know (0 in /proc) is still read: line 1
	 * ("Name:\tgossipd...") is there to be refused */
	assert_int_equal(gsp_config_load("/proc/self/status", &cfg, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "/proc/self/status:1: syntax error"));
}

/* The warning lines gsp_log writes to stderr while loading text. */
static void
load_logged(const char *text, char *log, size_t loglen)
{
	struct gsp_config cfg;
	char err[GSP_CONFIG_ERR_MAX] = "", path[160];
	int saved, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr", tmp_dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	write_cfg(text, strlen(text));
	n = gsp_config_load(cfg_path, &cfg, err, sizeof(err));
	unlink(cfg_path);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	if (n != 0) {
		print_error("unexpected error: %s\n", err);
		fail();
	}
	n = pread(fd, log, loglen - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n >= 0);
	log[n] = '\0';
}

/* A seed at our own address:port loads, with a warning naming its line. */
static void
test_self_seed_warning(void **state)
{
	char log[4096], want[256];

	(void)state;
	load_logged(MIN_CFG "[seeds]\nseed = 10.0.0.1\nseed = 10.0.0.5\n"
		    "seed = 10.0.0.5:7000\n", log, sizeof(log));
	snprintf(want, sizeof(want), "%s:8: [seeds] seed 10.0.0.5:%u is this "
		 "node itself ([node] address and port); ignored", cfg_path,
		 GSP_DEFAULT_PORT);
	if (strstr(log, want) == NULL) {
		print_error("want \"%s\" in the log:\n%s\n", want, log);
		fail();
	}
	/* only that line: another port on our address is another node */
	assert_null(strstr(strstr(log, want) + strlen(want),
			   "is this node itself"));
	/* the port given after [seeds] still counts */
	load_logged("[seeds]\nseed = 10.0.0.5:7000\n" MIN_CFG "port = 7000\n",
		    log, sizeof(log));
	snprintf(want, sizeof(want), "%s:2: [seeds] seed 10.0.0.5:7000 is "
		 "this node itself", cfg_path);
	assert_non_null(strstr(log, want));
	load_logged(MIN_CFG "[seeds]\nseed = 10.0.0.6\n", log, sizeof(log));
	assert_null(strstr(log, "itself"));
}

static void
b64_of(uint8_t byte, char out[GSP_KEY_B64_LEN + 1])
{
	uint8_t k[GSP_KEY_LEN];

	memset(k, byte, sizeof(k));
	sodium_bin2base64(out, GSP_KEY_B64_LEN + 1, k, sizeof(k),
			  sodium_base64_VARIANT_ORIGINAL);
}

/* gsp_keyfile_read on text; its rc, the error in err. */
static int
read_keys(const char *text, size_t len, mode_t mode,
	  uint8_t keys[][GSP_KEY_LEN], unsigned int *n, char *err,
	  size_t errlen)
{
	int rc;

	write_file(cfg_path, text, len, mode);
	rc = gsp_keyfile_read(cfg_path, keys, GSP_KEYRING_MAX, n, err, errlen);
	unlink(cfg_path);
	return rc;
}

static void
expect_key_err(const char *text, size_t len, unsigned int line,
	       const char *phrase)
{
	uint8_t keys[GSP_KEYRING_MAX][GSP_KEY_LEN];
	char err[GSP_CONFIG_ERR_MAX] = "", prefix[256], k1[GSP_KEY_B64_LEN + 1];
	unsigned int n = 99;
	int rc;

	rc = read_keys(text, len, 0600, keys, &n, err, sizeof(err));
	if (line != 0)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", cfg_path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", cfg_path);
	b64_of(0x11, k1);
	if (rc != -1 || n != 0 || strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, phrase) == NULL || strstr(err, k1) != NULL ||
	    strstr(err, "AAAAAAAA") != NULL) {
		print_error("rc %d n %u, err \"%s\"; want prefix \"%s\", phrase \"%s\", no key\n",
			    rc, n, err, prefix, phrase);
		fail();
	}
}

#define AFTER "after the key nothing but blanks or a # comment"

/* Keyring lines: one key, then only blanks and a '#' comment; no key of
 * zeros; the same parser for the daemon's file and `keys install`. */
static void
test_keyfile_rules(void **state)
{
	uint8_t keys[GSP_KEYRING_MAX][GSP_KEY_LEN], want[GSP_KEY_LEN];
	char k1[GSP_KEY_B64_LEN + 1], k2[GSP_KEY_B64_LEN + 1];
	char z[GSP_KEY_B64_LEN + 1], t[512], err[GSP_CONFIG_ERR_MAX], *big;
	unsigned int n;
	int len;

	(void)state;
	b64_of(0x11, k1);
	b64_of(0x22, k2);
	b64_of(0x00, z);

	/* comments, blank lines, CRLF, a trailing comment with or without
	 * a blank before it */
	len = snprintf(t, sizeof(t), "# ring\n\n  %s  # new in May\r\n"
		       "\t%s#old\n", k1, k2);
	assert_int_equal(read_keys(t, (size_t)len, 0600, keys, &n, err,
				   sizeof(err)), 0);
	assert_int_equal(n, 2);
	memset(want, 0x11, sizeof(want));
	assert_memory_equal(keys[0], want, GSP_KEY_LEN);
	memset(want, 0x22, sizeof(want));
	assert_memory_equal(keys[1], want, GSP_KEY_LEN);

	/* keygen's keys read back, none of them zero */
	for (int i = 0; i < 8; i++) {
		gsp_key_generate_b64(k2);
		assert_int_equal(strlen(k2), GSP_KEY_B64_LEN);
		len = snprintf(t, sizeof(t), "%s\n", k2);
		assert_int_equal(read_keys(t, (size_t)len, 0600, keys, &n, err,
					   sizeof(err)), 0);
		assert_false(sodium_is_zero(keys[0], GSP_KEY_LEN));
	}
	b64_of(0x22, k2);

	len = snprintf(t, sizeof(t), "%s\n%s\n", k1, z);
	expect_key_err(t, (size_t)len, 2, "key is all zeros");
	len = snprintf(t, sizeof(t), "%s # primary\n", z);
	expect_key_err(t, (size_t)len, 1, "key is all zeros");
	len = snprintf(t, sizeof(t), "%s %s\n", k1, k2);
	expect_key_err(t, (size_t)len, 1, AFTER);
	len = snprintf(t, sizeof(t), "%s,%s\n", k1, k2);
	expect_key_err(t, (size_t)len, 1, AFTER);
	len = snprintf(t, sizeof(t), "# x\n%s ;old\n", k1);
	expect_key_err(t, (size_t)len, 2, AFTER);
	len = snprintf(t, sizeof(t), "%s\v%s\n", k1, k2);
	expect_key_err(t, (size_t)len, 1, AFTER);
	/* what follows a NUL is still on the line */
	len = snprintf(t, sizeof(t), "%s%cjunk\n", k1, '\0');
	expect_key_err(t, (size_t)len, 1, "NUL byte");
	expect_key_err("not-a-key!\n", 11, 1, "not a key");
	len = snprintf(t, sizeof(t), "%s=\n", k1);
	expect_key_err(t, (size_t)len, 1, "not a key");
	expect_key_err("# none\n", 7, 0, "no key in the file");

	/* bounded: 64 KiB of comments and a key is too much */
	big = padded("", 64 * 1024 + 1);
	memcpy(big, k1, strlen(k1));
	expect_key_err(big, strlen(big), 0, "too large (");
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_seed_default_port),
		cmocka_unit_test(test_err_open),
		cmocka_unit_test(test_err_section),
		cmocka_unit_test(test_err_key),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_err_long_line),
		cmocka_unit_test(test_err_number),
		cmocka_unit_test(test_err_addr),
		cmocka_unit_test(test_err_name),
		cmocka_unit_test(test_err_app),
		cmocka_unit_test(test_err_too_many_seeds),
		cmocka_unit_test(test_watchdog_pets_while_rounds_advance),
		cmocka_unit_test(test_err_required),
		cmocka_unit_test(test_err_cross),
		cmocka_unit_test(test_detector),
		cmocka_unit_test(test_err_detector),
		cmocka_unit_test(test_fault_section),
		cmocka_unit_test(test_err_fault),
		cmocka_unit_test(test_parse_format_addr),
		cmocka_unit_test(test_seeds_static),
		cmocka_unit_test(test_file_not_regular),
		cmocka_unit_test(test_file_too_large),
		cmocka_unit_test(test_self_seed_warning),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_keyfile_rules),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
