/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread: publishes the status view, serves the control socket
 * (one JSON request per line) and runs the seed resolver thread. Talks to
 * the dataplane only through gsp_dp_* (gsp_ctrl.h). This file is its loop;
 * ctrl_int.h lists the others.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl_int.h"
#include "gsp_log.h"
#include "gsp_snapshot.h"
#include "gsp_notify.h"

/* a connection with nothing pending is closed after this long quiet */
#define CTRL_IDLE_NS (5ull * 1000000000ull)

static void ctrl_watchdog_tick(struct ctrl *c, uint64_t now);

static int
ctrl_poll_timeout(const struct ctrl *c, uint64_t now, uint64_t next_pub)
{
	uint64_t dl = next_pub;
	uint64_t t;

	for (unsigned int i = 0; i < c->n_clients; i++) {
		const struct ctrl_client *cl = c->clients[i];

		if (cl->line_since_ns == 0 && cl->monitor)
			continue;	/* a monitor waits for events */
		t = cl->line_since_ns != 0 ? cl->line_since_ns + CTRL_REQUEST_NS :
			cl->last_active_ns + CTRL_IDLE_NS;
		if (t < dl)
			dl = t;
	}
	if (c->wd.period_ns != 0 && c->wd.next_ns < dl)
		dl = c->wd.next_ns;
	if (dl <= now)
		return 0;
	t = (dl - now + NS_PER_MS - 1) / NS_PER_MS;
	/* bounded so a quit request is seen within a second */
	return t > 1000 ? 1000 : (int)t;
}

/* One period after the last publish, or now if that has passed. */
static uint64_t
ctrl_next_publish(const struct ctrl *c, uint64_t now, uint64_t period)
{
	uint64_t t = c->sv_full_ns + period;

	return t > now ? t : now;
}

static void
ctrl_loop(struct ctrl *c)
{
	uint64_t interval = (uint64_t)(c->cfg->status_interval_ms > 0 ?
				       c->cfg->status_interval_ms : 100) *
		NS_PER_MS;
	struct pollfd pfd[CTRL_MAX_CLIENTS + 2];
	struct ctrl_client *polled[CTRL_MAX_CLIENTS];
	uint64_t idle = interval > CTRL_SV_IDLE_NS ? interval : CTRL_SV_IDLE_NS;
	int view_fd = gsp_dp_view_fd();
	unsigned int np, nv, i;
	uint64_t now, serial, next_pub = ctrl_mono_ns();
	bool poll_err_logged = false, bell = false;
	int ret;

	while (!gsp_dp_quit_requested()) {
		now = ctrl_mono_ns();
		ctrl_watchdog_tick(c, now);
		gsp_snap_tick(c->cfg, now, false);
		if (now >= next_pub) {
			ctrl_publish_if_changed(c, now);
			if (view_fd >= 0) {
				/* idle: until the dataplane's doorbell rings
				 * (docs/STATUS_VIEW.md "Freshness") */
				next_pub = ctrl_next_publish(c, now, idle);
				bell = true;
			} else {
				next_pub += interval;
				if (next_pub <= now)
					next_pub = now + interval;
			}
		}
		ctrl_drain_events(c);

		pfd[0].fd = c->lfd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		np = 1;
		for (i = 0; i < c->n_clients; i++) {
			polled[i] = c->clients[i];
			pfd[np].fd = c->clients[i]->fd;
			pfd[np].events = ctrl_client_events(c->clients[i]);
			pfd[np].revents = 0;
			np++;
		}
		/* the view's doorbell, while no publish is due already: a
		 * changing cluster wakes us once per period, not per change */
		nv = np;
		if (bell) {
			pfd[nv].fd = view_fd;
			pfd[nv].events = POLLIN;
			pfd[nv].revents = 0;
			nv++;
		}
		ret = poll(pfd, nv, ctrl_poll_timeout(c, now, next_pub));
		if (ret < 0) {
			if (errno != EINTR && !poll_err_logged) {
				gsp_log(LOG_ERR, "control: poll: %s",
					strerror(errno));
				poll_err_logged = true;
			}
			continue;
		}
		now = ctrl_mono_ns();
		if (bell && pfd[np].revents != 0) {
			gsp_dp_view_ack();
			bell = false;
			next_pub = ctrl_next_publish(c, now, interval);
		}
		for (i = 0; i + 1 < np; i++)
			if (pfd[i + 1].revents != 0)
				ctrl_client_service(c, polled[i],
						    pfd[i + 1].revents, now);
		/* after servicing: client slots move when one is freed */
		for (i = 0; i < c->n_clients;) {
			struct ctrl_client *cl = c->clients[i];

			if (cl->dead || (cl->closing && cl->out_len == 0)) {
				ctrl_client_free(c, i);
			} else if (cl->line_since_ns != 0 &&
				   now - cl->line_since_ns > CTRL_REQUEST_NS) {
				ctrl_client_expire(c, i);
			} else if (cl->line_since_ns == 0 && !cl->monitor &&
				   now - cl->last_active_ns > CTRL_IDLE_NS) {
				gsp_log(LOG_DEBUG, "control: dropping client "
					"pid %d idle for 5 s", (int)cl->pid);
				ctrl_client_free(c, i);
			} else {
				i++;
			}
		}
		if (pfd[0].revents & POLLIN) {
			serial = c->next_serial;
			ctrl_accept(c, now);
			/* a request that came with the connection is answered
			 * now, before later accepts could evict its client */
			for (i = 0; i < c->n_clients; i++)
				if (c->clients[i]->serial >= serial)
					ctrl_client_service(c, c->clients[i],
							    POLLIN, now);
		}
		if (c->sv_dirty && bell) {
			/* a request changed something: show it this period */
			bell = false;
			next_pub = ctrl_next_publish(c, now, interval);
		}
		ctrl_abuse_log(c, now);
	}
}

/* WATCHDOG=1 while the protocol lcore's rounds advance (gsp_notify.h) */
static void
ctrl_watchdog_tick(struct ctrl *c, uint64_t now)
{
	const struct gsp_node *node = gsp_dp_node();
	struct gsp_node_counters nc;
	bool was_stalled = c->wd.stalled;
	int due;

	if (c->wd.period_ns == 0 || node == NULL)
		return;
	gsp_node_counters_read(node, &nc);
	due = gsp_watchdog_due(&c->wd, nc.rounds, now);
	if (due > 0)
		gsp_notify_watchdog();
	if (due < 0 && !was_stalled)
		gsp_log(LOG_ERR, "watchdog: no gossip round for %" PRIu64
			" ms: the dataplane is stuck; WATCHDOG=1 withheld, "
			"systemd restarts the node",
			(uint64_t)((now - c->wd.progress_ns) / NS_PER_MS));
	else if (due > 0 && was_stalled)
		gsp_log(LOG_NOTICE, "watchdog: gossip rounds run again; "
			"WATCHDOG=1 sent again");
}

int
gsp_ctrl_run(const struct gsp_config *cfg)
{
	struct ctrl *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		gsp_log(LOG_ERR, "control: out of memory");
		return -ENOMEM;
	}
	c->cfg = cfg;
	c->lfd = -1;
	c->start_unix_ns = ctrl_unix_ns();
	if (gsp_dp_keyring() != NULL) {
		c->kr = gsp_keyring_dup(gsp_dp_keyring());
		if (c->kr == NULL) {
			free(c);
			return -ENOMEM;
		}
	}

	/* socket first: it detects a second instance before the view is hit */
	ret = ctrl_listen(c);
	if (ret != 0)
		goto out;
	ret = ctrl_view_open(c);
	if (ret != 0)
		goto out_sock;
	ret = ctrl_handlers_start(c);
	if (ret != 0) {
		gsp_log(LOG_ERR, "events: cannot start the handler thread: %s",
			strerror(-ret));
		goto out_view;
	}
	ret = ctrl_seeds_start(&c->seeds, cfg);
	if (ret != 0)
		goto out_view;
	{
		/* the snapshot's peers: contacted as seeds, as a join's */
		struct gsp_addr peers[GSP_SNAP_PEERS_MAX];
		unsigned int n = gsp_snap_peers(peers, GSP_SNAP_PEERS_MAX);

		if (n > 0)
			ctrl_seeds_join(&c->seeds, peers, n);
	}
	gsp_log(LOG_INFO, "control: socket %s, status view %s every %u ms",
		cfg->socket_path, cfg->status_path, cfg->status_interval_ms);
	/* what this node seals with, for gossipctl keys on the others */
	ctrl_keys_publish(c);
	/* the port came up before this thread started: the node serves */
	{
		char st[300];

		snprintf(st, sizeof(st), "node %s of cluster %s serving, "
			 "control socket %s", cfg->node_name, cfg->cluster,
			 cfg->socket_path);
		gsp_notify_ready(st);
	}
	gsp_watchdog_init(&c->wd, gsp_notify_watchdog_ns(),
			  (uint64_t)cfg->interval_ms * NS_PER_MS, ctrl_mono_ns());
	if (c->wd.period_ns != 0)
		gsp_log(LOG_INFO, "watchdog: WATCHDOG=1 every %" PRIu64 " ms "
			"while gossip rounds run (stuck after %" PRIu64 " ms "
			"without one)", (uint64_t)(c->wd.period_ns / 2 / NS_PER_MS),
			(uint64_t)(c->wd.stall_ns / NS_PER_MS));

	ctrl_loop(c);

	ctrl_drain_events(c);
	ctrl_publish(c);
	gsp_snap_tick(cfg, ctrl_mono_ns(), true);
	ret = 0;
out_view:
	gsp_sv_writer_close(c->sv, ctrl_unix_ns(), false);
out_sock:
	while (c->n_clients > 0)
		ctrl_client_free(c, c->n_clients - 1);
	ctrl_unlisten(c);
	ctrl_seeds_stop(&c->seeds);
	ctrl_handlers_stop(c);
out:
	gsp_keyring_destroy(c->kr);
	free(c->seen);
	free(c->staging);
	free(c);
	return ret;
}

#ifdef GSP_CTRL_FUZZ
#include "gsp_ctrl_fuzz.h"

/* As ctrl_client_read()/ctrl_client_service() do for a socket, with the
 * input arriving in chunks of whatever room the buffer has. */
unsigned int
gsp_ctrl_fuzz_input(const struct gsp_config *cfg, const char *in, size_t len,
		    void (*out)(const char *line, size_t len, void *arg),
		    void *arg)
{
	struct ctrl c = { .cfg = cfg, .lfd = -1 };
	struct ctrl_client *cl = calloc(1, sizeof(*cl));
	unsigned int replies = 0;
	size_t off = 0, n;

	if (cl == NULL)
		return 0;
	/* the keys command edits a copy, as gsp_ctrl_run() makes */
	if (gsp_dp_keyring() != NULL)
		c.kr = gsp_keyring_dup(gsp_dp_keyring());
	cl->fd = -1;
	/* each pass takes input or consumes a line (or closes) */
	for (size_t pass = 0; pass < 2 * len + 2 && !cl->closing; pass++) {
		n = sizeof(cl->in) - cl->in_len;
		if (n > len - off)
			n = len - off;
		memcpy(cl->in + cl->in_len, in + off, n);
		cl->in_len += n;
		off += n;
		if (off == len)
			cl->eof = true;
		ctrl_client_lines(&c, cl, 0);
		for (size_t i = 0; i < cl->out_len; i++)
			if (cl->out[i] == '\n')
				replies++;
		if (cl->out_len > 0)
			out(cl->out, cl->out_len, arg);
		cl->out_len = 0;
	}
	gsp_keyring_destroy(c.kr);
	free(cl);
	return replies;
}
#endif
