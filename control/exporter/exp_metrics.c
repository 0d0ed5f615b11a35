/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metric families, rendered from status-view snapshots. Each family
 * is printed once with all targets' samples under it (both formats want a
 * family's samples together). Series per node are fixed in number: no
 * per-member or per-pair series, so a scrape grows linearly with nodes,
 * not with N x N.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exp_int.h"

#define H(f) offsetof(struct gsp_sv_header, f)

/* lcore counters summed per node (exp_fams name them by index) */
static const size_t exp_lcore_fields[] = {
	offsetof(struct gsp_sv_lcore, rx_packets),
	offsetof(struct gsp_sv_lcore, rx_bytes),
	offsetof(struct gsp_sv_lcore, tx_packets),
	offsetof(struct gsp_sv_lcore, tx_bytes),
	offsetof(struct gsp_sv_lcore, tx_dropped),
	offsetof(struct gsp_sv_lcore, rx_handoff_full),
	offsetof(struct gsp_sv_lcore, arp_rx),
	offsetof(struct gsp_sv_lcore, arp_tx),
	offsetof(struct gsp_sv_lcore, arp_overheard),
	offsetof(struct gsp_sv_lcore, arp_ignored),
};

#define EXP_LCORE_FIELDS \
	(sizeof(exp_lcore_fields) / sizeof(exp_lcore_fields[0]))

struct exp_snap {
	struct exp_target *t;
	struct gsp_sv_snapshot s;
	bool ok;		/* a consistent snapshot was had */
	bool alive;		/* ... and its writer runs */
	uint64_t now;
	uint64_t lc[EXP_LCORE_FIELDS];	/* lcore sums, see exp_lcore_fields */
};

struct exp_ctx {
	struct exp_buf *b;
	const struct exp_fam *f;
	const struct exp_snap *v;
	bool om;
};

typedef void exp_fn(struct exp_ctx *c);

struct exp_fam {
	const char *name;	/* without _total */
	bool counter;
	const char *help;
	size_t hdr_off;		/* a u64 of the header, when fn is NULL */
	int lcore;		/* index in lc[], when >= 0 */
	exp_fn *fn;
};

void
exp_printf(struct exp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int tries = 0; tries < 2 && !b->overflow; tries++) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->overflow = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += n;
			return;
		}
		size_t cap = b->cap * 2;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *p = cap <= EXP_BODY_MAX ? realloc(b->p, cap) : NULL;
		if (p == NULL) {
			b->overflow = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/* Label values are view names: [A-Za-z0-9._-] by the writer's rules,
 * but escape anyway, a view file is anyone's file. */
static void
exp_label(struct exp_buf *b, const char *k, const char *v, size_t max)
{
	exp_printf(b, "%s=\"", k);
	for (size_t i = 0; i < max && v[i] != '\0'; i++) {
		unsigned char ch = v[i];

		if (ch == '"' || ch == '\\')
			exp_printf(b, "\\%c", ch);
		else if (ch == '\n')
			exp_printf(b, "\\n");
		else if (ch < 0x20 || ch >= 0x7f)
			exp_printf(b, "\\x%02x", ch);
		else
			exp_printf(b, "%c", ch);
	}
	exp_printf(b, "\"");
}

/* One sample; extra label k=v when k is not NULL. */
static void
exp_sample_d(struct exp_ctx *c, const char *k, const char *v, double val,
	     bool integer, uint64_t ival)
{
	struct exp_buf *b = c->b;

	exp_printf(b, "%s%s{", c->f->name, c->f->counter ? "_total" : "");
	exp_label(b, "cluster", c->v->t->cluster, sizeof(c->v->t->cluster));
	exp_printf(b, ",");
	exp_label(b, "node", c->v->t->node, sizeof(c->v->t->node));
	if (k != NULL) {
		exp_printf(b, ",");
		exp_label(b, k, v, 64);
	}
	if (integer)
		exp_printf(b, "} %llu\n", (unsigned long long)ival);
	else
		exp_printf(b, "} %.3f\n", val);
}

static void
exp_sample(struct exp_ctx *c, const char *k, const char *v, uint64_t val)
{
	exp_sample_d(c, k, v, 0, true, val);
}

static void
f_up(struct exp_ctx *c)
{
	exp_sample(c, NULL, NULL, c->v->alive ? 1 : 0);
}

static void
f_read_errors(struct exp_ctx *c)
{
	exp_sample(c, NULL, NULL, c->v->t->read_errors);
}

static void
f_members(struct exp_ctx *c)
{
	const struct gsp_sv_counters *k = &c->v->s.hdr.counters;

	exp_sample(c, "state", "alive", k->alive);
	exp_sample(c, "state", "suspect", k->suspect);
	exp_sample(c, "state", "down", k->down);
	exp_sample(c, "state", "left", k->left);
}

static void
f_digest(struct exp_ctx *c)
{
	char d[24];

	snprintf(d, sizeof(d), "%016llx",
		 (unsigned long long)c->v->s.hdr.view.digest);
	exp_sample(c, "digest", d, 1);
}

#define MSG_TYPES(X) X(syn) X(ack) X(ack2) X(leave) X(push) X(ping) \
	X(pong) X(ping_req) X(nack)

static void
f_tx(struct exp_ctx *c)
{
	const struct gsp_sv_counters *k = &c->v->s.hdr.counters;

#define TX(t) exp_sample(c, "type", #t, k->tx_##t);
	MSG_TYPES(TX)
#undef TX
	exp_sample(c, "type", "sum", c->v->s.hdr.view.tx_sum);
}

static void
f_rx(struct exp_ctx *c)
{
	const struct gsp_sv_counters *k = &c->v->s.hdr.counters;

#define RX(t) exp_sample(c, "type", #t, k->rx_##t);
	MSG_TYPES(RX)
#undef RX
	exp_sample(c, "type", "sum", c->v->s.hdr.view.rx_sum);
}

static void
f_drops(struct exp_ctx *c)
{
	for (unsigned int r = 0;
	     r < GSP_SV_DROP_REASONS + GSP_SV_DROP_REASONS_EXT; r++) {
		const char *n = gsp_sv_drop_reason_name(r);

		/* reason 0 is "ok"; unnamed slots are reserved room */
		if (r == 0 || strncmp(n, "reason", 6) == 0)
			continue;
		exp_sample(c, "reason", n, gsp_sv_drop_count(&c->v->s.hdr, r));
	}
}

static void
f_faults(struct exp_ctx *c)
{
	for (unsigned int i = 0; i < GSP_SV_FAULT_CTRS; i++) {
		const char *n = gsp_sv_fault_ctr_name(i);

		if (strncmp(n, "fault", 5) == 0 && n[5] >= '0' && n[5] <= '9')
			continue;
		exp_sample(c, "counter", n, c->v->s.hdr.extra.fault[i]);
	}
}

static void
f_key_rx(struct exp_ctx *c)
{
	exp_sample(c, "key", "primary", c->v->s.hdr.security.rx_key_primary);
	exp_sample(c, "key", "other", c->v->s.hdr.security.rx_key_other);
}

static void
f_primary_key(struct exp_ctx *c)
{
	exp_sample(c, NULL, NULL, c->v->s.hdr.security.primary_key_id);
}

static void
f_n_keys(struct exp_ctx *c)
{
	exp_sample(c, NULL, NULL, c->v->s.hdr.security.n_keys);
}

static void
f_capacity(struct exp_ctx *c)
{
	exp_sample(c, NULL, NULL, c->v->s.hdr.member_capacity);
}

static void
f_hb_age(struct exp_ctx *c)
{
	uint64_t hb = c->v->s.hdr.heartbeat_unix_ns;
	uint64_t age = c->v->now > hb ? c->v->now - hb : 0;

	exp_sample_d(c, NULL, NULL, (double)age / 1e9, false, 0);
}

static void
f_start(struct exp_ctx *c)
{
	exp_sample_d(c, NULL, NULL, (double)c->v->s.hdr.start_unix_ns / 1e9,
		     false, 0);
}

/* kept in microseconds in the view; Prometheus' unit is the second */
static void
f_probe_rtt(struct exp_ctx *c)
{
	exp_sample_d(c, NULL, NULL, (double)c->v->s.hdr.probe_rtt_us / 1e6,
		     false, 0);
}

static const struct exp_fam exp_fams[] = {
	{ "gossipd_up", false, "1 if the view was read and its writer runs "
	  "(published within 2 s, not closed), else 0", 0, -1, f_up },
	{ "gossipd_exporter_view_errors", true, "Status-view reads that "
	  "failed (missing, malformed, no consistent copy)", 0, -1,
	  f_read_errors },
	{ "gossipd_members", false, "Members in the view by state (self "
	  "included)", 0, -1, f_members },
	{ "gossipd_member_capacity", false, "Members the table holds at "
	  "most", 0, -1, f_capacity },
	{ "gossipd_view_peers", false, "Live peers that told us their view "
	  "digest", H(view.peers), -1, NULL },
	{ "gossipd_view_agree", false, "Of those, peers whose last view "
	  "digest is ours", H(view.agree), -1, NULL },
	{ "gossipd_view_digest_info", false, "Digest of our membership view "
	  "(as a label; equal digests: equal views)", 0, -1, f_digest },
	{ "gossipd_view_syncs", true, "Range-hash syncs started",
	  H(view.syncs), -1, NULL },
	{ "gossipd_rounds", true, "Gossip rounds", H(counters.rounds), -1,
	  NULL },
	{ "gossipd_rx_packets", true, "Packets received by the dataplane "
	  "(all lcores)", 0, 0, NULL },
	{ "gossipd_rx_bytes", true, "Bytes received", 0, 1, NULL },
	{ "gossipd_tx_packets", true, "Packets sent", 0, 2, NULL },
	{ "gossipd_tx_bytes", true, "Bytes sent", 0, 3, NULL },
	{ "gossipd_tx_dropped", true, "Packets not sent: no mbuf or TX queue "
	  "full", 0, 4, NULL },
	{ "gossipd_rx_handoff_full", true, "Packets dropped: handoff ring to "
	  "the protocol lcore full", 0, 5, NULL },
	{ "gossipd_arp_rx", true, "ARP frames received (each broadcast on "
	  "the segment wakes an idle node)", 0, 6, NULL },
	{ "gossipd_arp_tx", true, "ARP frames sent", 0, 7, NULL },
	{ "gossipd_arp_overheard", true, "Next hops resolved from ARP "
	  "overheard on the segment, without a broadcast request", 0, 8,
	  NULL },
	{ "gossipd_arp_ignored", true, "ARP that tried to move a MAC "
	  "confirmed by authenticated gossip", 0, 9, NULL },
	{ "gossipd_tx_messages", true, "Protocol messages sent by type", 0,
	  -1, f_tx },
	{ "gossipd_rx_messages", true, "Protocol messages received by type",
	  0, -1, f_rx },
	{ "gossipd_rx_drops", true, "Payloads dropped by reason", 0, -1,
	  f_drops },
	{ "gossipd_merged", true, "Member states merged from peers",
	  H(counters.merged), -1, NULL },
	{ "gossipd_stale", true, "Member states older than ours, ignored",
	  H(counters.stale), -1, NULL },
	{ "gossipd_table_full", true, "New members refused: table full",
	  H(counters.table_full), -1, NULL },
	{ "gossipd_seed_contacts", true, "Rounds that contacted a seed",
	  H(counters.seed_contacts), -1, NULL },
	{ "gossipd_rumors", false, "Changes being spread now",
	  H(counters.rumors), -1, NULL },
	{ "gossipd_probes_failed", true, "Probes with no ack, direct or "
	  "indirect", H(counters.probes_failed), -1, NULL },
	{ "gossipd_suspicions", true, "Members this node accused",
	  H(counters.suspicions), -1, NULL },
	{ "gossipd_refutations", true, "Accusations against this node "
	  "refuted", H(counters.refutations), -1, NULL },
	{ "gossipd_claims", true, "Suspect/dead/alive claims applied",
	  H(extra.claims_rx), -1, NULL },
	{ "gossipd_declared_down", true, "Suspicions that ran out here",
	  H(extra.declared_down), -1, NULL },
	{ "gossipd_awareness", false, "Lifeguard health multiplier",
	  H(extra.awareness), -1, NULL },
	{ "gossipd_incarnation", false, "This node's SWIM incarnation",
	  H(extra.incarnation), -1, NULL },
	{ "gossipd_probes_late", true, "Probe verdicts put off once: this "
	  "node came to them late", H(probes_late), -1, NULL },
	{ "gossipd_claim_pushes", true, "Claims pushed at once (PONGs with "
	  "seq 0): verdicts, refutations, this node's suspicions "
	  "to the suspect",
	  H(claim_pushes), -1, NULL },
	{ "gossipd_claim_pushes_received", true, "Pushes of claims taken",
	  H(claim_pushes_rx), -1, NULL },
	{ "gossipd_probe_rtt_seconds", false, "Smoothed round trip of this "
	  "node's probes (Lifeguard's probe timeout follows it)", 0, -1,
	  f_probe_rtt },
	{ "gossipd_generation", false, "This node's generation",
	  H(self_generation), -1, NULL },
	{ "gossipd_rx_key", true, "Packets opened, by the key that opened "
	  "them (primary or another of the ring)", 0, -1, f_key_rx },
	{ "gossipd_primary_key_id", false, "Id of the key that seals what "
	  "this node sends", 0, -1, f_primary_key },
	{ "gossipd_keys", false, "Keys accepted (the ring's size)", 0, -1,
	  f_n_keys },
	{ "gossipd_limit_hits", true, "Refusals at a [limits] bound",
	  H(security.limit_hits), -1, NULL },
	{ "gossipd_implausible", true, "Member states/claims skipped as "
	  "implausible", H(security.implausible), -1, NULL },
	{ "gossipd_renewals", true, "New generations of this node",
	  H(security.renewals), -1, NULL },
	{ "gossipd_faults", true, "Fault-injection counters by counter", 0,
	  -1, f_faults },
	{ "gossipd_heartbeat_age_seconds", false, "Age of the view's last "
	  "publish", 0, -1, f_hb_age },
	{ "gossipd_start_time_seconds", false, "When the node started (Unix "
	  "time)", 0, -1, f_start },
};

static uint64_t
exp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A fresh open per scrape: a restarted node writes a new file. */
static void
exp_snap_take(struct exp_target *t, struct exp_snap *v)
{
	struct gsp_sv_reader *r;

	memset(v, 0, sizeof(*v));
	v->t = t;
	v->now = exp_now();
	if (gsp_sv_open(t->path, &r) != 0) {
		t->read_errors++;
		return;
	}
	if (gsp_sv_read(r, &v->s) == 0) {
		v->ok = true;
		v->alive = gsp_sv_writer_alive(&v->s.hdr, v->now,
					       EXP_STALE_NS);
		snprintf(t->cluster, sizeof(t->cluster), "%.*s",
			 (int)sizeof(v->s.hdr.cluster), v->s.hdr.cluster);
		snprintf(t->node, sizeof(t->node), "%.*s",
			 (int)sizeof(v->s.hdr.node_name), v->s.hdr.node_name);
		for (uint32_t i = 0; i < v->s.hdr.lcore_count; i++)
			for (size_t j = 0; j < EXP_LCORE_FIELDS; j++)
				v->lc[j] += *(const uint64_t *)
					((const char *)&v->s.lcores[i] +
					 exp_lcore_fields[j]);
	} else {
		t->read_errors++;
	}
	gsp_sv_close(r);
}

void
exp_render(struct exp_target *t, size_t n, bool om, struct exp_buf *b)
{
	static struct exp_snap snaps[EXP_MAX_VIEWS];
	struct exp_ctx c = { .b = b, .om = om };

	for (size_t i = 0; i < n; i++)
		exp_snap_take(&t[i], &snaps[i]);
	for (size_t f = 0; f < sizeof(exp_fams) / sizeof(exp_fams[0]); f++) {
		const struct exp_fam *fam = &exp_fams[f];
		const char *sfx = fam->counter && !om ? "_total" : "";
		size_t nl = strlen(fam->name);
		/* OpenMetrics reserves _info for its info type: the family
		 * is named without it there; Prometheus text has no info */
		bool info = om && nl > 5 &&
			strcmp(fam->name + nl - 5, "_info") == 0;

		c.f = fam;
		if (info)
			nl -= 5;
		exp_printf(b, "# HELP %.*s%s %s.\n", (int)nl, fam->name, sfx,
			   fam->help);
		exp_printf(b, "# TYPE %.*s%s %s\n", (int)nl, fam->name, sfx,
			   info ? "info" : fam->counter ? "counter" : "gauge");
		for (size_t i = 0; i < n; i++) {
			c.v = &snaps[i];
			/* a dead view still says up 0 and its errors;
			 * the rest would be old numbers */
			if (fam->fn == f_up || fam->fn == f_read_errors)
				fam->fn(&c);
			else if (!snaps[i].alive)
				continue;
			else if (fam->fn != NULL)
				fam->fn(&c);
			else if (fam->lcore >= 0)
				exp_sample(&c, NULL, NULL,
					   snaps[i].lc[fam->lcore]);
			else
				exp_sample(&c, NULL, NULL, *(const uint64_t *)
					   ((const char *)&snaps[i].s.hdr +
					    fam->hdr_off));
		}
	}
	if (om)
		exp_printf(b, "# EOF\n");
	for (size_t i = 0; i < n; i++)
		if (snaps[i].ok)
			gsp_sv_snapshot_free(&snaps[i].s);
}
