/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The keyring as the cluster sees it. Each node publishes its own keyring
 * state in the reserved app key "gsp.keys" (its primary id, then the other
 * installed ids: "1a2b3c4d,5e6f7a8b"; a trailing "+" when more were
 * installed than fit a value's 63 bytes), whenever it changes; [limits]
 * do not apply to it. `gossipctl keys`
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

#define CTRL_KEYS_NAMES_MAX 8	/* members named in one refusal */

void
ctrl_keys_publish(struct ctrl *c)
{
	char val[GSP_APP_VALUE_MAX], hex[10];
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

static void
ctrl_keys_add_name(json_t *obj, const char *field, const char *name)
{
	json_t *a = json_object_get(obj, field);

	if (a == NULL) {
		a = json_array();
		json_object_set_new(obj, field, a);
	}
	json_array_append_new(a, json_string(name));
}

/*
 * "members": each member's state and published keyring (null: publishes
 * none, an older gossipd or plaintext); "cluster": per key id, the
 * members sealing with it (primary_on), having it (installed_on) and the
 * live members that lack it (missing_on).
 */
json_t *
ctrl_keys_cluster(const struct ctrl *c)
{
	const struct gsp_node *node = gsp_dp_node();
	struct gsp_member_view v;
	uint32_t ids[GSP_KEYRING_MAX], primary = 0, slots;
	json_t *members = json_array(), *by_key = json_object(), *m, *k;
	json_t *r, *list;
	const char *id;
	unsigned int n;
	bool more;
	char hex[9];

	(void)c;
	if (node == NULL)
		return json_pack("{s:o,s:o}", "members", members, "cluster",
				 json_array());
	slots = gsp_node_slot_count(node);
	for (uint32_t slot = 0; slot < slots; slot++) {
		if (!gsp_node_member_read(node, slot, &v))
			continue;
		m = json_pack("{s:s,s:s}", "name", v.name, "state",
			      gsp_state_name(v.state));
		if (!ctrl_keys_of(&v, &primary, ids, &n, &more)) {
			json_object_set_new(m, "primary", json_null());
			json_array_append_new(members, m);
			continue;
		}
		snprintf(hex, sizeof(hex), "%08x", primary);
		json_object_set_new(m, "primary", json_string(hex));
		list = json_array();
		for (unsigned int i = 0; i < n; i++) {
			snprintf(hex, sizeof(hex), "%08x", ids[i]);
			json_array_append_new(list, json_string(hex));
			k = json_object_get(by_key, hex);
			if (k == NULL) {
				k = json_pack("{s:s}", "id", hex);
				json_object_set_new(by_key, hex, k);
			}
			if (!ctrl_keys_live(&v))
				continue;
			ctrl_keys_add_name(k, i == 0 ? "primary_on" :
					   "installed_on", v.name);
		}
		json_object_set_new(m, "installed", list);
		json_object_set_new(m, "more", json_boolean(more));
		json_array_append_new(members, m);
	}
	/* the live members that publish a keyring without a key; one pass
	 * per key, each bounded by the table */
	json_object_foreach(by_key, id, k) {
		for (uint32_t slot = 0; slot < slots; slot++) {
			bool has = false;

			if (!gsp_node_member_read(node, slot, &v) ||
			    !ctrl_keys_live(&v) ||
			    !ctrl_keys_of(&v, &primary, ids, &n, &more) || more)
				continue;
			for (unsigned int i = 0; i < n; i++) {
				snprintf(hex, sizeof(hex), "%08x", ids[i]);
				has |= strcmp(hex, id) == 0;
			}
			if (!has)
				ctrl_keys_add_name(k, "missing_on", v.name);
		}
	}
	list = json_array();
	json_object_foreach(by_key, id, k)
		json_array_append(list, k);
	json_decref(by_key);
	r = json_pack("{s:o,s:o}", "members", members, "cluster", list);
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
