/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipctl stats: the counters of the status view, as text or JSON. The
 * tables come from the one list of counters (gsp_counters.h), each row
 * pinned to its field of the view (sv_counters.h).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ctl_int.h"
#include "gsp_fault.h"	/* header only */
#include "gsp_json.h"
#include "gsp_keyfile.h"
#include "sv_counters.h"	/* the list, pinned to the view: headers only */


struct ctl_counter {
	const char *name;
	size_t off;
};

/* offsets into the header of the "counters:" section, in list order;
 * each pinned against the list in sv_counters.h */
#define CTL_COUNTER_MAIN(name, off) { #name, off },
#define CTL_COUNTER_AUTH(name, off)
#define CTL_COUNTER_SECURITY(name, off)
#define CTL_COUNTER_ROW(name, group, kind, minor, view, off, help) \
	CTL_COUNTER_##group(name, off)
static const struct ctl_counter ctl_counters[] = {
	GSP_COUNTERS(CTL_COUNTER_ROW)
};
#undef CTL_COUNTER_MAIN
#undef CTL_COUNTER_AUTH
#undef CTL_COUNTER_SECURITY

/* the security section's counters: shown from their minor on, the AUTH
 * ones in text only when the node authenticates */
struct ctl_sec_counter {
	const char *name;
	size_t off;
	uint16_t minor;
	bool auth;
};

#define CTL_COUNTER_MAIN(name, off, minor)
#define CTL_COUNTER_AUTH(name, off, minor) { #name, off, minor, true },
#define CTL_COUNTER_SECURITY(name, off, minor) { #name, off, minor, false },
#undef CTL_COUNTER_ROW
#define CTL_COUNTER_ROW(name, group, kind, minor, view, off, help) \
	CTL_COUNTER_##group(name, off, minor)
static const struct ctl_sec_counter ctl_sec_counters[] = {
	GSP_COUNTERS(CTL_COUNTER_ROW)
};
#undef CTL_COUNTER_ROW
#undef CTL_COUNTER_MAIN
#undef CTL_COUNTER_AUTH
#undef CTL_COUNTER_SECURITY

#define CTL_L(f) { #f, offsetof(struct gsp_sv_lcore, f) }
static const struct ctl_counter ctl_lcore_fields[] = {
	CTL_L(rx_packets), CTL_L(rx_bytes), CTL_L(tx_packets), CTL_L(tx_bytes),
	CTL_L(rx_not_gossip), CTL_L(rx_parse_errors), CTL_L(tx_dropped),
	CTL_L(tx_no_arp), CTL_L(arp_rx), CTL_L(arp_tx), CTL_L(idle_sleeps),
	CTL_L(rx_handoff), CTL_L(rx_handoff_full), CTL_L(rx_wrong_mac),
	CTL_L(arp_ignored), CTL_L(rx_intr_waits), CTL_L(rx_intr_wakeups),
	CTL_L(arp_overheard), CTL_L(idle_spins), CTL_L(idle_spin_hits),
};
#undef CTL_L

#define CTL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* the reasons of view minor 3 (up to oversized, 18) are always shown;
 * later slots, implausible (minor 4) included, only when non-zero */
#define CTL_NAMED_DROPS 19
#define CTL_DROPS (GSP_SV_DROP_REASONS + GSP_SV_DROP_REASONS_EXT)

static uint64_t
ctl_field(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)base + off, sizeof(v));
	return v;
}

static bool
ctl_show_drop(const struct gsp_sv_header *h, unsigned int i)
{
	if (h->minor < 3 && i >= 11)	/* older writers: theirs only */
		return gsp_sv_drop_count(h, i) != 0;
	return (i > 0 && i < CTL_NAMED_DROPS) || gsp_sv_drop_count(h, i) != 0;
}

/* the fault counters the core names; later slots only when non-zero */
#define CTL_FAULT_CTRS GSP_FAULT_C_MAX

static json_t *
ctl_faults_json(const struct gsp_sv_header *h)
{
	json_t *o = json_object(), *cnt = json_object();

	if (o == NULL || cnt == NULL) {
		json_decref(o);
		json_decref(cnt);
		return NULL;
	}
	json_object_set_new(o, "active",
			    json_boolean(h->flags & GSP_SV_FLAG_FAULTS));
	for (unsigned int i = 0; i < GSP_SV_FAULT_CTRS; i++)
		if (i < CTL_FAULT_CTRS || h->extra.fault[i] != 0)
			json_object_set_new(cnt, gsp_sv_fault_ctr_name(i),
					    gsp_json_u64(h->extra.fault[i]));
	json_object_set_new(o, "counters", cnt);
	return o;
}

/* minor 3; an older writer says nothing about it */
static json_t *
ctl_security_json(const struct gsp_sv_header *h)
{
	const struct gsp_sv_security *sec = &h->security;
	char id[16];
	json_t *o;

	if (h->minor < 3)
		return json_null();
	snprintf(id, sizeof(id), "%08x", sec->primary_key_id);
	o = json_pack("{s:s,s:s,s:s,s:I}", "mode",
		      sec->mode == GSP_SV_AUTHENTICATED ? "authenticated" :
		      "plaintext", "cipher", gsp_cipher_name(sec->cipher),
		      "primary_key", id, "keys", (json_int_t)sec->n_keys);
	for (size_t i = 0; o != NULL && i < CTL_ARRAY_SIZE(ctl_sec_counters);
	     i++)
		if (h->minor >= ctl_sec_counters[i].minor)
			json_object_set_new(o, ctl_sec_counters[i].name,
				gsp_json_u64(ctl_field(h,
					ctl_sec_counters[i].off)));
	return o;
}

static void
ctl_security_text(const struct gsp_sv_header *h)
{
	const struct gsp_sv_security *sec = &h->security;

	if (h->minor < 3)
		return;
	if (sec->mode != GSP_SV_AUTHENTICATED) {
		printf("\nsecurity: PLAINTEXT (packets neither authenticated "
		       "nor encrypted)\n");
	} else {
		printf("\nsecurity: authenticated, %s, %u key(s), primary "
		       "%08x\n", gsp_cipher_name(sec->cipher), sec->n_keys,
		       sec->primary_key_id);
	}
	for (size_t i = 0; i < CTL_ARRAY_SIZE(ctl_sec_counters); i++) {
		const struct ctl_sec_counter *sc = &ctl_sec_counters[i];

		if (h->minor < sc->minor ||
		    (sc->auth && sec->mode != GSP_SV_AUTHENTICATED))
			continue;
		printf("  %-22s %" PRIu64 "\n", sc->name, ctl_field(h, sc->off));
	}
}

static int
ctl_stats_json(const struct gsp_sv_snapshot *s, bool alive)
{
	json_t *root = ctl_json_doc(&s->hdr), *cnt = json_object();
	json_t *drop = json_object(), *lcores = json_array(), *l;

	if (root == NULL || cnt == NULL || drop == NULL || lcores == NULL) {
		json_decref(root);
		json_decref(cnt);
		json_decref(drop);
		json_decref(lcores);
		ctl_err("out of memory");
		return -1;
	}
	json_object_set_new(root, "writer_alive", json_boolean(alive));
	for (size_t i = 0; i < CTL_ARRAY_SIZE(ctl_counters); i++)
		json_object_set_new(cnt, ctl_counters[i].name, gsp_json_u64(
			ctl_field(&s->hdr, ctl_counters[i].off)));
	for (unsigned int i = 0; i < CTL_DROPS; i++)
		if (ctl_show_drop(&s->hdr, i))
			json_object_set_new(drop, gsp_sv_drop_reason_name(i),
				gsp_json_u64(gsp_sv_drop_count(&s->hdr, i)));
	json_object_set_new(cnt, "rx_drop", drop);
	json_object_set_new(root, "counters", cnt);
	json_object_set_new(root, "faults", ctl_faults_json(&s->hdr));
	json_object_set_new(root, "security", ctl_security_json(&s->hdr));
	for (uint32_t i = 0; i < s->hdr.lcore_count; i++) {
		const struct gsp_sv_lcore *lc = &s->lcores[i];

		l = json_object();
		if (l == NULL)
			break;
		json_object_set_new(l, "lcore", json_integer(lc->lcore_id));
		json_object_set_new(l, "port", json_integer(lc->port_id));
		json_object_set_new(l, "queue", json_integer(lc->queue_id));
		for (size_t j = 0; j < CTL_ARRAY_SIZE(ctl_lcore_fields); j++)
			json_object_set_new(l, ctl_lcore_fields[j].name,
				gsp_json_u64(ctl_field(lc,
					ctl_lcore_fields[j].off)));
		json_array_append_new(lcores, l);
	}
	json_object_set_new(root, "lcores", lcores);
	return ctl_json_print(root);
}

static void
ctl_fmt_uptime(uint64_t start, uint64_t now, char *buf, size_t len)
{
	uint64_t s = start != 0 && now > start ? (now - start) / NS_PER_S : 0;

	if (s >= 86400)
		snprintf(buf, len, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m",
			 s / 86400, s / 3600 % 24, s / 60 % 60);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 "h %" PRIu64 "m %" PRIu64 "s",
			 s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "m %" PRIu64 "s", s / 60, s % 60);
}

static void
ctl_stats_text(const struct gsp_sv_snapshot *s, uint64_t now)
{
	char a[CTL_NAME_MAX], b[CTL_NAME_MAX], up[48], name[40];
	size_t w[CTL_ARRAY_SIZE(ctl_lcore_fields)];
	char num[24];

	ctl_fmt_uptime(s->hdr.start_unix_ns, now, up, sizeof(up));
	printf("cluster %s, node %s, pid %u, up %s\n",
	       ctl_safe(a, sizeof(a), s->hdr.cluster),
	       ctl_safe(b, sizeof(b), s->hdr.node_name), s->hdr.writer_pid, up);
	printf("\ncounters:\n");
	for (size_t i = 0; i < CTL_ARRAY_SIZE(ctl_counters); i++)
		printf("  %-22s %" PRIu64 "\n", ctl_counters[i].name,
		       ctl_field(&s->hdr, ctl_counters[i].off));
	for (unsigned int i = 0; i < CTL_DROPS; i++) {
		if (!ctl_show_drop(&s->hdr, i))
			continue;
		snprintf(name, sizeof(name), "rx_drop.%s",
			 gsp_sv_drop_reason_name(i));
		printf("  %-22s %" PRIu64 "\n", name,
		       gsp_sv_drop_count(&s->hdr, i));
	}

	ctl_security_text(&s->hdr);
	printf("\nfault injection: %s\n", (s->hdr.flags & GSP_SV_FLAG_FAULTS) ?
	       "ON (see gossipctl fault)" : "off");
	for (unsigned int i = 0; i < GSP_SV_FAULT_CTRS; i++)
		if (i < CTL_FAULT_CTRS || s->hdr.extra.fault[i] != 0)
			printf("  %-22s %" PRIu64 "\n", gsp_sv_fault_ctr_name(i),
			       s->hdr.extra.fault[i]);

	printf("\nlcores:\n");
	if (s->hdr.lcore_count == 0) {
		printf("  (none reported)\n");
		return;
	}
	for (size_t j = 0; j < CTL_ARRAY_SIZE(ctl_lcore_fields); j++) {
		w[j] = strlen(ctl_lcore_fields[j].name);
		for (uint32_t i = 0; i < s->hdr.lcore_count; i++) {
			snprintf(num, sizeof(num), "%" PRIu64, ctl_field(
				&s->lcores[i], ctl_lcore_fields[j].off));
			if (strlen(num) > w[j])
				w[j] = strlen(num);
		}
	}
	printf("%-5s  %-4s  %-5s", "lcore", "port", "queue");
	for (size_t j = 0; j < CTL_ARRAY_SIZE(ctl_lcore_fields); j++)
		printf("  %*s", (int)w[j], ctl_lcore_fields[j].name);
	printf("\n");
	for (uint32_t i = 0; i < s->hdr.lcore_count; i++) {
		const struct gsp_sv_lcore *lc = &s->lcores[i];

		printf("%-5u  %-4u  %-5u", lc->lcore_id, lc->port_id,
		       lc->queue_id);
		for (size_t j = 0; j < CTL_ARRAY_SIZE(ctl_lcore_fields); j++)
			printf("  %*" PRIu64, (int)w[j],
			       ctl_field(lc, ctl_lcore_fields[j].off));
		printf("\n");
	}
}

static int
ctl_stats_show(const struct gsp_sv_snapshot *s, uint64_t now, bool alive,
	       bool json)
{
	if (json)
		return ctl_stats_json(s, alive);
	ctl_stats_text(s, now);
	return 0;
}

int
ctl_cmd_stats(const struct ctl_opts *o)
{
	return ctl_view_show(o, ctl_stats_show);
}
