/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's events (gsp_dp_poll_event) as log lines: one line per
 * event, with what it means and where it is counted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctrl_int.h"
#include "gsp_log.h"
#include "gsp_util.h"

#define CTRL_EVENTS_PER_LOOP 1024

/*
 * GSP_EV_LIMIT: name is the [limits] key, then for the rate limits the
 * source address. One line per first hit, not per datagram: the core
 * reports a limit again only after it went unhit for 60 s.
 */
static void
ctrl_log_limit(const struct gsp_event *ev, const char *name)
{
	char again[96] = "";
	const char *src = strchr(name, ' ');

	if (ev->suppressed != 0)
		snprintf(again, sizeof(again), " (%" PRIu64 " more hits since "
			 "the last report)", ev->suppressed);
	src = src != NULL ? src + 1 : "?";
	if (strncmp(name, "join_rate ", 10) == 0)
		gsp_log(LOG_WARNING, "limit join_rate: datagrams from unknown "
			"senders at %s over join_rate %" PRIu64 "/s are "
			"dropped; counted in rx_drop.rate_limited and "
			"limit_hits, logged again after 60 s without a hit%s",
			src, ev->limit, again);
	else if (strncmp(name, "probe_rate ", 11) == 0)
		gsp_log(LOG_WARNING, "limit probe_rate: pings and ping-reqs "
			"from %s over probe_rate %" PRIu64 "/s are dropped "
			"unanswered; counted in rx_drop.rate_limited and "
			"limit_hits, logged again after 60 s without a hit%s",
			src, ev->limit, again);
	else if (strcmp(name, "app_value_max") == 0 ||
		 strcmp(name, "app_bytes_max") == 0)
		gsp_log(LOG_WARNING, "limit %s: member 0x%016" PRIx64
			" (generation %" PRIu64 ") publishes app state over "
			"%s %" PRIu64 " bytes; every datagram carrying it is "
			"dropped whole; counted in rx_drop.over_limit and "
			"limit_hits, logged again after 60 s without a hit%s",
			name, ev->id, ev->generation, name, ev->limit, again);
	else
		gsp_log(LOG_WARNING, "limit %s (%" PRIu64 ") hit%s", name,
			ev->limit, again);
}

static void
ctrl_log_event(const struct ctrl *c, const struct gsp_event *ev)
{
	char name[GSP_NAME_MAX];

	ctrl_safe_str(name, sizeof(name), ev->name, sizeof(ev->name));
	switch (ev->type) {
	case GSP_EV_JOINED:
		gsp_log(LOG_INFO, "member %s (0x%016" PRIx64 ") joined, "
			"generation %" PRIu64 ", %s", name, ev->id,
			ev->generation, gsp_sv_state_name(ev->new_state));
		break;
	case GSP_EV_STATE:
		gsp_log(LOG_INFO, "member %s (0x%016" PRIx64 ") %s -> %s", name,
			ev->id, gsp_sv_state_name(ev->old_state),
			gsp_sv_state_name(ev->new_state));
		break;
	case GSP_EV_RESTARTED:
		gsp_log(LOG_INFO, "member %s (0x%016" PRIx64 ") restarted with "
			"new generation %" PRIu64, name, ev->id,
			ev->generation);
		break;
	case GSP_EV_FORGOTTEN:
		gsp_log(LOG_INFO, "member %s (0x%016" PRIx64 ") forgotten",
			name, ev->id);
		break;
	case GSP_EV_APP:
		break;		/* for monitors and handlers only */
	case GSP_EV_APP_REJECTED:
		gsp_log(LOG_WARNING, "set %s refused by the core (too many "
			"keys, invalid, or over [limits] app_value_max or "
			"app_bytes_max)", name);
		break;
	case GSP_EV_NAME_CONFLICT:
		gsp_log(LOG_WARNING, "name conflict: member 0x%016" PRIx64
			" (generation %" PRIu64 ") uses the name %s of a live "
			"member; both are kept", ev->id, ev->generation, name);
		break;
	case GSP_EV_AUTH_DROP: {
		struct gsp_addr a = { .ip = (uint32_t)ev->id, .port = 0 };
		char from[32], why[160];

		gsp_format_addr(&a, from, sizeof(from));
		if (ev->old_state == GSP_RX_UNSEALED)
			snprintf(why, sizeof(why), "they are plaintext (a node "
				 "in mode = plaintext, or an attacker)");
		else if (ev->old_state == GSP_RX_SEALED)
			snprintf(why, sizeof(why), "they are sealed but this "
				 "node runs mode = plaintext");
		else if (ev->old_state == GSP_RX_UNKNOWN_KEY)
			snprintf(why, sizeof(why), "sealed with key id %08"
				 PRIx64 ", not in our keyring (a keyring behind "
				 "a rotation? gossipctl keys)", ev->generation);
		else if (ev->old_state == GSP_RX_IMPLAUSIBLE)
			snprintf(why, sizeof(why), "their sender generation %"
				 PRIu64 " is 0 or a start time beyond our clock "
				 "+ [gossip] max_clock_skew (clocks out of "
				 "sync?)", ev->generation);
		else
			snprintf(why, sizeof(why), "their tag does not verify "
				 "(forged, corrupted, or another cipher)");
		gsp_log(LOG_WARNING, "security: dropping datagrams from %s: %s; "
			"each is counted in rx_drop.%s, logged again in a "
			"minute at most", from, why,
			gsp_rx_err_name(ev->old_state));
		break;
	}
	case GSP_EV_LIMIT:
		ctrl_log_limit(ev, name);
		break;
	case GSP_EV_RENEWED:
		gsp_log(LOG_WARNING, "a peer holds a state of ours that we did "
			"not make (generation %" PRIu64 ", version %" PRIu64
			", or an incarnation we cannot refute): starting "
			"generation %" PRIu64 " above it (a buggy peer, or "
			"another process with our id %s?); counted in renewals",
			ev->limit, ev->suppressed, ev->generation, name);
		break;
	case GSP_EV_IMPLAUSIBLE:
		gsp_log(LOG_WARNING, "skipping a state or claim of member "
			"0x%016" PRIx64 " (generation %" PRIu64 "): its %s is "
			"one no member can have; counted in implausible, "
			"logged again in a minute at most (%" PRIu64 " more "
			"since the last line)", ev->id, ev->generation, name,
			ev->suppressed);
		break;
	case GSP_EV_TABLE_FULL:
		if (ev->limit == 1)
			gsp_log(LOG_WARNING, "member id catalog full (shared by "
				"the nodes of this thread; a slot is freed when "
				"every one of them forgot its member): refusing "
				"%s (0x%016" PRIx64 ")", name, ev->id);
		else
			gsp_log(LOG_WARNING, "member table full (max_members "
				"%u): refusing %s (0x%016" PRIx64 ")",
				c->cfg->max_members, name, ev->id);
		break;
	case GSP_EV_DP_ARP_CONFLICT: {
		struct gsp_addr a = { .ip = (uint32_t)ev->id, .port = 0 };
		char ip[32], mac[2][18];
		const uint64_t v[2] = { ev->generation, ev->limit };

		gsp_format_addr(&a, ip, sizeof(ip));
		for (unsigned int k = 0; k < 2; k++)
			snprintf(mac[k], sizeof(mac[k]), "%02x:%02x:%02x:%02x:"
				 "%02x:%02x", (unsigned int)(v[k] >> 40) & 0xff,
				 (unsigned int)(v[k] >> 32) & 0xff,
				 (unsigned int)(v[k] >> 24) & 0xff,
				 (unsigned int)(v[k] >> 16) & 0xff,
				 (unsigned int)(v[k] >> 8) & 0xff,
				 (unsigned int)v[k] & 0xff);
		gsp_log(LOG_WARNING, "arp: ignoring ARP that puts %s at %s: "
			"authenticated gossip confirmed it at %s (ARP "
			"spoofing, or the peer moved: its next datagram "
			"follows it); counted in arp_ignored, logged again "
			"in a minute at most (%" PRIu64 " more since the last "
			"line)", ip, mac[0], mac[1], ev->suppressed);
		break;
	}
	default:
		gsp_log(LOG_DEBUG, "unknown dataplane event type %u",
			ev->type);
		break;
	}
}

/* Events lost before they reached us: said in the log and, before their
 * next event, to every monitor. */
static void
ctrl_events_lost(struct ctrl *c)
{
	uint64_t total = gsp_dp_events_dropped(), now;
	uint64_t lost = total - c->events_lost_seen;

	if (lost == 0)
		return;
	c->events_lost_seen = total;
	for (unsigned int i = 0; i < c->n_clients; i++)
		if (c->clients[i]->monitor)
			c->clients[i]->mon_dropped += lost;
	c->events_lost_unlogged += lost;
	now = ctrl_mono_ns();
	if (now < c->events_lost_log_ns)
		return;
	gsp_log(LOG_WARNING, "events: the dataplane's event ring was full: "
		"%" PRIu64 " member event(s) lost for the log, monitors and "
		"the handler (gossipctl members still shows every state); "
		"logged again in 10 s at most", c->events_lost_unlogged);
	c->events_lost_unlogged = 0;
	c->events_lost_log_ns = now + 10 * NS_PER_S;
}

void
ctrl_drain_events(struct ctrl *c)
{
	struct gsp_event ev;

	/* bounded so a flood cannot starve the socket and the view */
	for (unsigned int i = 0; i < CTRL_EVENTS_PER_LOOP; i++) {
		if (!gsp_dp_poll_event(&ev))
			break;
		ctrl_log_event(c, &ev);
		ctrl_monitor_core_event(c, &ev);
	}
	ctrl_events_lost(c);
}
