/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The keyring as the cluster sees it. Each node publishes its own keyring
 * state in the reserved app key "gsp.keys" (its primary id, then the other
 * installed ids: "1a2b3c4d,5e6f7a8b"; a trailing "+" when more were
 * installed than fit 63 bytes, so that the state stays one a node of wire
 * version 4 reads), whenever it changes; [limits] app_value_max does not
 * apply to it, app_bytes_max does. `gossipctl keys`
 * reads every member's from the member table. `keys remove` refuses a key
 * a live member still seals with (its primary): this node could no longer
 * open that member's datagrams. A member that only has it installed is
 * harmless. `keys use` refuses a key a live member does not have: that
 * member could not open this node's datagrams (the split the README's
 * old rotation loop made).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl_int.h"
#include "gsp_log.h"
#include "gsp_wire.h"

#define CTRL_KEYS_NAMES_MAX 8	/* members named in one refusal */

void
ctrl_keys_publish(struct ctrl *c)
{
	char val[GSP_WIRE4_APP_VALUE + 1], hex[10];
	uint32_t ids[GSP_KEYRING_MAX];
	struct gsp_key_info info[GSP_KEYRING_MAX];
	const struct gsp_node *node = gsp_dp_node();
	size_t cap = sizeof(val) - 1, len;
	unsigned int n, k = 0;
	int ret;

	if (c->kr == NULL || node == NULL)
		return;
	n = gsp_keyring_list(c->kr, info, GSP_KEYRING_MAX);
	for (unsigned int i = 0; i < n; i++)
		if (!info[i].primary)
			ids[k++] = info[i].id;
	len = (size_t)snprintf(val, sizeof(val), "%08x",
			       gsp_keyring_primary(c->kr));
	for (unsigned int i = 0; i < k; i++) {
		snprintf(hex, sizeof(hex), ",%08x", ids[i]);
		/* room for this id, and for "+" if any is left after it */
		if (len + 9 + (i + 1 < k ? 1 : 0) > cap) {
			if (len + 1 <= cap)
				val[len++] = '+';
			break;
		}
		memcpy(val + len, hex, 9);
		len += 9;
	}
	val[len] = '\0';
	ret = gsp_dp_submit_set_app(GSP_APP_KEYRING_KEY, val);
	if (ret != 0)
		gsp_log(LOG_WARNING, "control: keyring not published to the "
			"cluster (%s): gossipctl keys on other nodes cannot "
			"tell what this node sends with", ctrl_dp_strerror(ret));
}

/* A member's published keyring; false if it publishes none. */
static bool
ctrl_keys_of(const struct gsp_member_view *v, uint32_t *primary,
	     uint32_t ids[GSP_KEYRING_MAX], unsigned int *n, bool *more)
{
	const char *s = NULL;
	char hex[9];

	for (uint8_t i = 0; i < v->app_count && i < GSP_APP_KEYS_MAX; i++)
		if (strcmp(v->app[i].key, GSP_APP_KEYRING_KEY) == 0)
			s = v->app[i].value;
	if (s == NULL)
		return false;
	*n = 0;
	*more = false;
	for (;;) {
		if (strspn(s, "0123456789abcdef") < 8)
			return *n > 0;
		memcpy(hex, s, 8);
		hex[8] = '\0';
		if (*n == 0)
			*primary = (uint32_t)strtoul(hex, NULL, 16);
		if (*n < GSP_KEYRING_MAX)
			ids[(*n)++] = (uint32_t)strtoul(hex, NULL, 16);
		s += 8;
		if (*s == '+')
			*more = true;
		if (*s != ',')
			return true;
		s++;
	}
}

static bool
ctrl_keys_live(const struct gsp_member_view *v)
{
	return v->state == GSP_STATE_ALIVE || v->state == GSP_STATE_SUSPECT;
}

/* How many members in a list, and the first few names in name order:
 * a reply line is bounded (CTRL_REPLY_MAX), a cluster is not. */
struct ctrl_names {
	unsigned int count, kept;
	char name[CTRL_KEYS_NAMES_MAX][GSP_NAME_MAX];
};

static void
ctrl_names_add(struct ctrl_names *l, const char *name, unsigned int max)
{
	unsigned int j;

	l->count++;
	for (j = l->kept; j > 0 && strcmp(l->name[j - 1], name) > 0; j--)
		if (j < max)
			memcpy(l->name[j], l->name[j - 1], GSP_NAME_MAX);
	if (j >= max)
		return;
	snprintf(l->name[j], GSP_NAME_MAX, "%s", name);
	if (l->kept < max)
		l->kept++;
}

static void
ctrl_names_put(json_t *obj, const char *field, const struct ctrl_names *l)
{
	char count[32];
	json_t *a = json_array();

	for (unsigned int i = 0; i < l->kept; i++)
		json_array_append_new(a, json_string(l->name[i]));
	json_object_set_new(obj, field, a);
	snprintf(count, sizeof(count), "%s_count", field);
	json_object_set_new(obj, count, json_integer(l->count));
}

/* One key id and who seals with it, has it, lacks it. */
struct ctrl_key_use {
	uint32_t id;
	struct ctrl_names primary, installed, missing;
};

/*
 * "cluster": per key id any live member publishes (at most
 * GSP_KEYRING_MAX ids, the rest counted in "more_keys"), the live
 * members that seal with it (primary_on), have it otherwise
 * (installed_on) and publish a keyring without it (missing_on), each
 * with its count and at most max names; "unpublished": the live members
 * that publish no keyring (an older gossipd, or not heard yet).
 */
json_t *
ctrl_keys_cluster(const struct ctrl *c, unsigned int max)
{
	const struct gsp_node *node = gsp_dp_node();
	struct ctrl_key_use *u;
	struct ctrl_names *none;
	struct gsp_member_view v;
	uint32_t ids[GSP_KEYRING_MAX], primary = 0, slots;
	unsigned int n, n_keys = 0, more_keys = 0;
	json_t *list, *k, *r;
	bool more;
	char hex[9];

	(void)c;
	if (max > CTRL_KEYS_NAMES_MAX)
		max = CTRL_KEYS_NAMES_MAX;
	u = calloc(GSP_KEYRING_MAX, sizeof(*u));
	none = calloc(1, sizeof(*none));
	if (u == NULL || none == NULL || node == NULL) {
		free(u);
		free(none);
		return json_pack("{s:[],s:{s:[],s:i}}", "cluster",
				 "unpublished", "unpublished", "unpublished_count",
				 0);
	}
	slots = gsp_node_slot_count(node);
	/* the ids first, so that "missing" can be told in the second pass */
	for (uint32_t slot = 0; slot < slots; slot++) {
		if (!gsp_node_member_read(node, slot, &v) ||
		    !ctrl_keys_live(&v))
			continue;
		if (!ctrl_keys_of(&v, &primary, ids, &n, &more)) {
			ctrl_names_add(none, v.name, max);
			continue;
		}
		for (unsigned int i = 0; i < n; i++) {
			unsigned int j;

			for (j = 0; j < n_keys && u[j].id != ids[i]; j++)
				;
			if (j == n_keys) {
				if (n_keys == GSP_KEYRING_MAX) {
					more_keys++;
					continue;
				}
				u[n_keys++].id = ids[i];
			}
			ctrl_names_add(i == 0 ? &u[j].primary :
				       &u[j].installed, v.name, max);
		}
	}
	for (uint32_t slot = 0; slot < slots && n_keys > 0; slot++) {
		if (!gsp_node_member_read(node, slot, &v) ||
		    !ctrl_keys_live(&v) ||
		    !ctrl_keys_of(&v, &primary, ids, &n, &more) || more)
			continue;
		for (unsigned int j = 0; j < n_keys; j++) {
			bool has = false;

			for (unsigned int i = 0; i < n; i++)
				has |= ids[i] == u[j].id;
			if (!has)
				ctrl_names_add(&u[j].missing, v.name, max);
		}
	}
	list = json_array();
	for (unsigned int j = 0; j < n_keys; j++) {
		snprintf(hex, sizeof(hex), "%08x", u[j].id);
		k = json_pack("{s:s}", "id", hex);
		ctrl_names_put(k, "primary_on", &u[j].primary);
		ctrl_names_put(k, "installed_on", &u[j].installed);
		ctrl_names_put(k, "missing_on", &u[j].missing);
		json_array_append_new(list, k);
	}
	r = json_pack("{s:o,s:i}", "cluster", list, "more_keys", more_keys);
	if (r != NULL)
		ctrl_names_put(r, "unpublished", none);
	free(u);
	free(none);
	return r;
}

/*
 * Live members other than this node that would be cut off: for "remove",
 * those still sealing with key id (their primary); for "use", those
 * without it installed. A member that publishes no keyring may be either.
 * Their names, comma-separated, in buf; how many in all.
 */
unsigned int
ctrl_keys_at_risk(uint32_t id, bool use, char *buf, size_t len)
{
	const struct gsp_node *node = gsp_dp_node();
	uint32_t ids[GSP_KEYRING_MAX], primary, slots;
	/* the CTRL_KEYS_NAMES_MAX smallest names, sorted: a stable message */
	char names[CTRL_KEYS_NAMES_MAX][GSP_NAME_MAX + 24];
	struct gsp_member_view v;
	unsigned int n, count = 0, kept = 0, j;
	uint64_t self;
	size_t off = 0;
	bool more, known, hit;

	buf[0] = '\0';
	if (node == NULL)
		return 0;
	self = gsp_node_id(node);
	slots = gsp_node_slot_count(node);
	for (uint32_t slot = 0; slot < slots; slot++) {
		if (!gsp_node_member_read(node, slot, &v) || v.id == self ||
		    !ctrl_keys_live(&v))
			continue;
		known = ctrl_keys_of(&v, &primary, ids, &n, &more);
		if (!known) {
			hit = true;
		} else if (!use) {
			hit = primary == id;
		} else {
			/* a truncated list ("+") may hold it: no claim */
			hit = !more;
			for (unsigned int i = 0; i < n; i++)
				if (ids[i] == id)
					hit = false;
		}
		if (!hit)
			continue;
		count++;
		for (j = kept; j > 0 && strcmp(names[j - 1], v.name) > 0; j--)
			if (j < CTRL_KEYS_NAMES_MAX)
				memcpy(names[j], names[j - 1], sizeof(names[0]));
		if (j < CTRL_KEYS_NAMES_MAX) {
			snprintf(names[j], sizeof(names[0]), "%s%s", v.name,
				 known ? "" : " (publishes no keyring)");
			if (kept < CTRL_KEYS_NAMES_MAX)
				kept++;
		}
	}
	for (j = 0; j < kept && off < len; j++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					j > 0 ? ", " : "", names[j]);
	if (count > kept && off < len)
		snprintf(buf + off, len - off, " and %u more", count - kept);
	return count;
}
