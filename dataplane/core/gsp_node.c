/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Push-pull gossip node (Scuttlebutt/Cassandra style), see docs/PROTOCOL.md.
 *
 * Every round a node bumps its heartbeat and sends to `fanout` random live
 * peers (now and then also a down member or a seed):
 *  - a SYN digest, (id, generation, version) of each member it knows, for a
 *    window of id ranges: at most syn_packets packets per peer per round.
 *    Small clusters fit in the window whole; larger ones rotate it across
 *    rounds, so the bytes a node sends per round stay bounded at any size;
 *  - a PUSH of its recent changes (joins, restarts, app state, leaves),
 *    each kept "hot" for a number of rounds growing with log N, so news
 *    spreads epidemically in O(log N) rounds whatever the window.
 * The receiver answers with an ACK (states the sender lacks: newer than its
 * digest, or in a listed range but absent; bounded per packet, so a newcomer
 * gets the table in bulk over a few exchanges) plus requests for what it
 * lacks itself, and a PUSH of its own recent changes (the pull half of the
 * epidemic). ACK2 carries the requested states. Higher generation wins,
 * then higher version.
 *
 * Members are grouped in buckets by the top bits of their id, so a digest
 * window (a run of buckets = an id range) and the receiver's scan of that
 * range cost O(window), never O(N).
 *
 * This file holds the node's public API (create, destroy, app state,
 * leave, keyring, reads); the protocol's parts sit in files of their own
 * (layering in gsp_node_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_util.h"

#include "gsp_build.h"
#include "gsp_member.h"
#include "gsp_node_int.h"
#include "gsp_swim_int.h"

struct gsp_node *
gsp_node_create(const struct gsp_node_params *p, int *err)
{
	struct gsp_member_rec *r;
	struct gsp_node *n;
	uint32_t n_slots, sum_cells = 0;
	int32_t slot;

	*err = -EINVAL;
	if (p->capacity < 2 || p->gossip_interval_ns == 0 || p->fanout == 0 ||
	    p->fanout > GSP_FANOUT_MAX || p->generation == 0 ||
	    p->max_payload < GSP_WIRE_PAYLOAD_FOR(gsp_app_bytes_max(p)) ||
	    p->name[0] == '\0' ||
	    p->cluster[0] == '\0' || !(p->phi_suspect > 0) ||
	    !(p->phi_convict > p->phi_suspect))
		return NULL;
	*err = -ENOMEM;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->p = *p;
	n->p.cluster[GSP_CLUSTER_MAX - 1] = '\0';
	n->p.name[GSP_NAME_MAX - 1] = '\0';
	if (n->p.syn_packets == 0)
		n->p.syn_packets = GSP_DEF(SYN_PACKETS);
	if (n->p.ack_states == 0)
		n->p.ack_states = GSP_DEF(ACK_STATES);
	n->id = p->id != 0 ? p->id : gsp_id_from_name(n->p.name);
	n->generation = p->generation;
	if (n->p.max_clock_skew_ns == 0)
		n->p.max_clock_skew_ns = GSP_DEF(CLOCK_SKEW_NS);
	n->explicit_ids = n->id != gsp_id_from_name(n->p.name);
	n->cluster_hash = gsp_cluster_hash(n->p.cluster);
	n->detector = p->detector == 0 ? GSP_DETECT_DEFAULT :
		(p->detector & GSP_DETECT_OFF) ? 0 : p->detector;
	n->rng = p->rng_seed ^ n->id;
	n->lateness = 1.0;
	n->proto = p->wire_version == 0 || p->wire_version > GSP_WIRE_VERSION ?
		GSP_WIRE_VERSION : p->wire_version < GSP_WIRE_VERSION_MIN ?
		GSP_WIRE_VERSION_MIN : p->wire_version;
	n->table = gsp_table_create(n->p.name, p->capacity, p->ids);
	if (n->table == NULL)
		goto fail;
	n_slots = n->table->n_slots;
	/* the catalog's chains are our buckets: tables that share it have
	 * as many, whatever their capacity */
	n->bucket_bits = gsp_ids_chain_bits(n->table->ids);
	n->n_buckets = 1u << n->bucket_bits;
	n->bucket_head = gsp_ids_chain_heads(n->table->ids);
	n->bucket_next = gsp_ids_chain_next(n->table->ids);
	n->bucket_hash = calloc(n->n_buckets, sizeof(*n->bucket_hash));
	n->bucket_count = calloc(n->n_buckets, sizeof(*n->bucket_count));
	for (uint32_t level = GSP_SUM_LEVEL_STEP;
	     level + GSP_SUM_CELL_MIN_LOG2 <= n->bucket_bits;
	     level += GSP_SUM_LEVEL_STEP) {
		n->sum_shift[n->sum_levels] = n->bucket_bits - level;
		n->sum_off[n->sum_levels++] = sum_cells;
		sum_cells += 1u << level;
	}
	n->sum_hash = calloc(sum_cells + 1, sizeof(*n->sum_hash));
	n->sum_count = calloc(sum_cells + 1, sizeof(*n->sum_count));
	n->peer_view = calloc(n_slots, sizeof(*n->peer_view));
	n->tx = malloc(p->max_payload);
	n->body_cap = p->max_payload;
	if (n->tx == NULL || n->bucket_hash == NULL ||
	    n->bucket_count == NULL || n->sum_hash == NULL ||
	    n->sum_count == NULL ||
	    n->peer_view == NULL)
		goto fail;
	if (p->keyring != NULL) {
		*err = -EINVAL;
		if (gsp_keyring_count(p->keyring) == 0 || p->max_payload <
		    GSP_WIRE_PAYLOAD_FOR(gsp_app_bytes_max(p)) +
		    GSP_SEC_OVERHEAD)
			goto fail;
		*err = -ENOMEM;
		n->body_cap = p->max_payload - GSP_SEC_OVERHEAD;
		n->kr = gsp_keyring_dup(p->keyring);
		n->tx_sealed = malloc(p->max_payload);
		n->replay = calloc(n_slots, sizeof(*n->replay));
		n->replay_cache = calloc(1, sizeof(*n->replay_cache));
		if (n->kr == NULL || n->tx_sealed == NULL || n->replay == NULL ||
		    n->replay_cache == NULL)
			goto fail;
		gsp_sec_tx_init(&n->sec_tx, p->generation);
	}
	n->p.keyring = NULL;	/* not ours: never kept */
	n->p.ids = NULL;	/* the table holds them */
	*err = gsp_limits_init(n);
	if (*err != 0)
		goto fail;
	*err = -ENOMEM;
	if (gsp_scratch_get(n_slots) == NULL)
		goto fail;

	slot = gsp_table_insert(n->table, n->id);
	if (slot < 0) {
		*err = slot;
		goto fail;
	}
	n->self_slot = (uint32_t)slot;
	n->version = 1;
	r = gsp_rec(n, n->self_slot);	/* still open for writing */
	r->generation = p->generation;
	r->version = n->version;
	gsp_table_pin(n->table, n->self_slot, p->addr, n->p.name);
	r->state = GSP_STATE_ALIVE;
	r->wire = n->proto >= 3 ? n->proto : 0;
	n->cnt[GSP_STATE_ALIVE]++;
	gsp_table_write_end(r);
	gsp_bucket_add(n, n->self_slot);
	gsp_sync_toggle(n, n->self_slot);
	gsp_rumor_add(n, n->self_slot);	/* our own join is news */
	if (n->detector & GSP_DETECT_SWIM) {
		int rc = gsp_swim_create(n);

		if (rc < 0) {
			*err = rc;
			goto fail;
		}
	}
	*err = 0;
	return n;
fail:
	gsp_node_destroy(n);
	return NULL;
}

void
gsp_node_populate(struct gsp_node *n)
{
	gsp_table_populate(n->table);
}

void
gsp_node_destroy(struct gsp_node *n)
{
	if (n == NULL)
		return;
	gsp_swim_destroy(n);
	if (n->table != NULL && gsp_table_find(n->table, n->id) ==
	    (int32_t)n->self_slot) {
		const struct gsp_member_rec *r = gsp_rec(n, n->self_slot);

		gsp_ids_unpin(n->table->ids, n->self_slot, r->generation,
			      r->version);
	}
	gsp_table_destroy(n->table);
	free(n->bucket_hash);
	free(n->bucket_count);
	free(n->sum_hash);
	free(n->sum_count);
	free(n->peer_view);
	free(n->tx);
	gsp_keyring_destroy(n->kr);
	free(n->tx_sealed);
	free(n->replay);
	free(n->replay_cache);
	free(n->rates);
	free(n);
}

uint64_t
gsp_node_id(const struct gsp_node *n)
{
	return n->id;
}

uint64_t
gsp_node_generation(const struct gsp_node *n)
{
	return n->generation;
}

int
gsp_node_set_keyring(struct gsp_node *n, const struct gsp_keyring *kr)
{
	struct gsp_keyring *c;

	if (kr == NULL || n->kr == NULL || gsp_keyring_count(kr) == 0 ||
	    gsp_keyring_cipher(kr) != gsp_keyring_cipher(n->kr))
		return -EINVAL;
	c = gsp_keyring_dup(kr);
	if (c == NULL)
		return -ENOMEM;
	gsp_keyring_destroy(n->kr);
	n->kr = c;
	return 0;
}

/* Our record's app state becomes next[0..count): one new version. */
static int
gsp_self_set_app(struct gsp_node *n, const struct gsp_app_entry *next,
		 uint8_t count)
{
	struct gsp_member_rec *r;

	if (!gsp_table_app_ready(n->table, count))
		return -ENOMEM;
	r = gsp_self_change_begin(n);
	gsp_table_set_app(n->table, r, next, count);
	gsp_self_change_end(n, r);
	gsp_emit_event(n, GSP_EV_APP, r, r->state);
	return 0;
}

int
gsp_node_set_app(struct gsp_node *n, const char *key, const char *value)
{
	struct gsp_member_rec *r = gsp_rec(n, n->self_slot);
	const struct gsp_app_entry *app = gsp_table_app(n->table, r);
	size_t klen = strnlen(key, GSP_APP_KEY_MAX);
	struct gsp_app_entry next[GSP_APP_KEYS_MAX];
	uint8_t count = app != NULL ? r->app_count : 0;
	uint8_t i;

	if (klen == 0 || klen >= GSP_APP_KEY_MAX ||
	    !gsp_printable_str(value, GSP_APP_VALUE_MAX))
		return -EINVAL;
	for (size_t k = 0; k < klen; k++)
		if (!gsp_name_char_ok(key[k]))
			return -EINVAL;
	for (i = 0; i < count; i++)
		if (strcmp(app[i].key, key) == 0)
			break;
	if (i == GSP_APP_KEYS_MAX)
		return -ENOSPC;
	if (count != 0)
		memcpy(next, app, count * sizeof(*app));
	if (i == count) {
		memcpy(next[i].key, key, klen + 1);
		count++;
	}
	snprintf(next[i].value, sizeof(next[i].value), "%s", value);
	/* the version the change below gives our record */
	next[i].version = n->version + 1;
	/* a node on 4 or older (wire_version) keeps to 4's bounds */
	if (gsp_app_over_limit(n, next, count) >= 0 || (n->proto < 5 &&
	    gsp_app_wide(next, count))) {
		GSP_CTR_INC(n->ctr.limit_hits);
		return -E2BIG;
	}
	return gsp_self_set_app(n, next, count);
}

int
gsp_node_del_app(struct gsp_node *n, const char *key)
{
	struct gsp_member_rec *r = gsp_rec(n, n->self_slot);
	const struct gsp_app_entry *app = gsp_table_app(n->table, r);
	struct gsp_app_entry next[GSP_APP_KEYS_MAX];
	uint8_t count = app != NULL ? r->app_count : 0;
	uint8_t i, kept = 0;

	for (i = 0; i < count; i++)
		if (strncmp(app[i].key, key, GSP_APP_KEY_MAX) == 0)
			break;
	if (i == count)
		return -ENOENT;
	for (uint8_t k = 0; k < count; k++)
		if (k != i)
			next[kept++] = app[k];
	return gsp_self_set_app(n, next, kept);
}

/* A live member that speaks wire version 4 or older: O(N), at a leave. */
static bool
gsp_any_live_before_5(struct gsp_node *n)
{
	uint32_t hw = gsp_table_slot_count(n->table);

	for (uint32_t slot = 0; slot < hw; slot++) {
		const struct gsp_member_rec *r = gsp_rec(n, slot);

		if (gsp_table_has(n->table, slot) && slot != n->self_slot && r->wire < 5 &&
		    (r->state == GSP_STATE_ALIVE ||
		     r->state == GSP_STATE_SUSPECT))
			return true;
	}
	return false;
}

void
gsp_node_leave(struct gsp_node *n, uint64_t now_ns)
{
	struct gsp_member_rec *r = gsp_rec(n, n->self_slot);
	struct gsp_wire_state *st = gsp_out_scratch();
	struct gsp_scan s;
	bool strip;
	uint32_t k;

	if (n->leaving)
		return;
	n->leaving = true;
	n->leave_rounds_left = n->p.leave_rounds > 0 ? n->p.leave_rounds : 1;
	/* a wide state would reach no member on version 4: they would not
	 * hear that we left. Our last state leaves its app state behind
	 * then, in the same version everywhere (we are gone) */
	strip = r->app_count != 0 &&
		gsp_app_wide(gsp_table_app(n->table, r), r->app_count) &&
		gsp_any_live_before_5(n);
	gsp_self_change_begin(n);
	gsp_set_state(n, r, GSP_STATE_LEFT, now_ns);
	if (strip)
		gsp_table_set_app(n->table, r, NULL, 0);
	gsp_self_change_end(n, r);

	gsp_pick_peers(n, GSP_LEAVE_FANOUT, &s);
	k = s.n_picked;
	gsp_rec_to_wire(n, r, st);
	for (uint32_t i = 0; i < k; i++) {
		struct gsp_addr a = gsp_slot_addr(n, s.live[i]);
		struct gsp_out o;

		gsp_out_init(&o, n, GSP_MSG_LEAVE, &a,
			     gsp_wire_for(n, gsp_rec(n, s.live[i])));
		gsp_out_state(&o, st);
		gsp_out_flush(&o);
	}
}

bool
gsp_node_leave_done(const struct gsp_node *n)
{
	return n->leave_done;
}

void
gsp_node_set_seeds(struct gsp_node *n, const struct gsp_addr *seeds,
		   unsigned int count)
{
	if (count > GSP_SEEDS_MAX)
		count = GSP_SEEDS_MAX;
	memcpy(n->seeds, seeds, count * sizeof(*seeds));
	n->n_seeds = count;
}

uint32_t
gsp_node_slot_count(const struct gsp_node *n)
{
	return gsp_table_slot_count(n->table);
}

bool
gsp_node_member_read(const struct gsp_node *n, uint32_t slot,
		     struct gsp_member_view *out)
{
	return gsp_table_read(n->table, slot, out);
}

void
gsp_node_counters_read(const struct gsp_node *n, struct gsp_node_counters *out)
{
	const uint64_t *src = (const uint64_t *)&n->ctr;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

bool
gsp_node_view_check(const struct gsp_node *n)
{
	return gsp_view_verify(n) && gsp_rumor_verify(n);
}

size_t
gsp_node_bytes_per_member(bool authenticated, bool shared)
{
	/* record (with the detector's mean; + id, name and bucket link
	 * unless shared), the view a peer told, and rounded up together its
	 * shares of a bucket's hash and count and of a SWIM chain's head;
	 * app state adds blocks for members that publish some, and SWIM
	 * gsp_node_bytes_per_suspect for each member it suspects or holds
	 * down at once */
	size_t shares = ((sizeof(uint64_t) + sizeof(uint32_t)) <<
			 GSP_ENT_GROUP_LOG2) / GSP_IDS_CHAIN_FILL +
		sizeof(uint32_t);

	return gsp_table_bytes_per_member(shared) + sizeof(uint16_t) +
		(shares + (1u << GSP_ENT_GROUP_LOG2) - 1) /
		(1u << GSP_ENT_GROUP_LOG2) +
		(authenticated ? sizeof(struct gsp_replay) : 0);
}

size_t
gsp_node_bucket_bytes(uint32_t max_ids)
{
	/* the catalog's chain count (gsp_ids_create) */
	return (sizeof(uint64_t) + sizeof(uint32_t)) <<
		gsp_ids_chain_bits_for(max_ids);
}

/* an entry and a place in the suspects list (a down member: no place) */
size_t
gsp_node_bytes_per_suspect(void)
{
	return sizeof(struct gsp_swim_ent) + sizeof(uint32_t);
}

static const struct {
	const char *name;
	uint32_t bit;
} gsp_detectors[] = {
	{ "phi", GSP_DETECT_PHI },
	{ "swim", GSP_DETECT_SWIM },
	{ "indirect", GSP_DETECT_INDIRECT },
	{ "lifeguard", GSP_DETECT_LIFEGUARD },
	{ "all", GSP_DETECT_DEFAULT },
};
#define GSP_DETECTORS_N (sizeof(gsp_detectors) / sizeof(gsp_detectors[0]))

uint32_t
gsp_detector_bit(const char *name, size_t len)
{
	for (size_t i = 0; i < GSP_DETECTORS_N; i++)
		if (strlen(gsp_detectors[i].name) == len &&
		    strncmp(name, gsp_detectors[i].name, len) == 0)
			return gsp_detectors[i].bit;
	return 0;
}

void
gsp_detector_format(uint32_t bits, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (bits & GSP_DETECT_OFF) {
		snprintf(buf, len, "off");
		return;
	}
	/* the single mechanisms only, not "all" */
	for (size_t i = 0; i + 1 < GSP_DETECTORS_N; i++) {
		int n;

		if (!(bits & gsp_detectors[i].bit))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
			     gsp_detectors[i].name);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

int
gsp_detector_parse(const char *s, uint32_t *bits, const char **why)
{
	const char *p = s;
	uint32_t out = 0;

	if (strcmp(s, "default") == 0 || strcmp(s, "off") == 0) {
		*bits = s[0] == 'o' ? GSP_DETECT_OFF : 0;
		return 0;
	}
	while (*p != '\0') {
		size_t len = strcspn(p, ",+");
		uint32_t bit = gsp_detector_bit(p, len);

		if (bit == 0) {
			*why = len == 0 ? "an empty name in the list" :
				"unknown name (phi, swim, indirect, lifeguard, "
				"all; or default or off alone)";
			return -1;
		}
		out |= bit;
		p += len;
		if (*p != '\0' && *++p == '\0') {
			*why = "an empty name in the list";
			return -1;
		}
	}
	if (out == 0) {
		*why = "needs a name";
		return -1;
	}
	/* indirect probes and Lifeguard refine SWIM's probing */
	if ((out & (GSP_DETECT_INDIRECT | GSP_DETECT_LIFEGUARD)) &&
	    !(out & GSP_DETECT_SWIM)) {
		*why = "indirect and lifeguard need swim";
		return -1;
	}
	*bits = out;
	return 0;
}
