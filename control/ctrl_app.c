/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * This node's own app state as the control thread sees it: read from our
 * record, and a change (set, a user event) checked against the bounds the
 * core and the peers apply, so that the operator hears a refusal in the
 * reply rather than the core refusing after it.
 */
#include <string.h>

#include "ctrl_int.h"
#include "gsp_wire.h"

/* Our own record as it is now; false when the node has none yet. */
bool
ctrl_self_read(struct gsp_member_view *v)
{
	const struct gsp_node *node = gsp_dp_node();
	uint64_t self;
	uint32_t slots;

	if (node == NULL)
		return false;
	self = gsp_node_id(node);
	slots = gsp_node_slot_count(node);
	for (uint32_t slot = 0; slot < slots; slot++)
		if (gsp_node_member_read(node, slot, v) && v->id == self)
			return true;
	return false;
}

bool
ctrl_app_has(const struct gsp_member_view *v, const char *key)
{
	for (uint8_t i = 0; i < v->app_count && i < GSP_APP_KEYS_MAX; i++)
		if (strcmp(v->app[i].key, key) == 0)
			return true;
	return false;
}

/*
 * What the core would refuse after we replied, checked on our own record
 * first so the operator hears it: key (a user's, or gsp.event) set to a
 * value of vlen bytes. Every key counts toward app_bytes_max, and a
 * sealed node holds GSP_APP_KEYRING_ROOM of it for gsp.keys, which grows
 * when keys are installed: a set never leaves the keyring without room.
 * NULL when within the bounds.
 */
json_t *
ctrl_app_check(const struct ctrl *c, const char *cmd, const char *key,
	       size_t vlen)
{
	const struct gsp_node *node = gsp_dp_node();
	bool user = strncmp(key, GSP_APP_RESERVED_PREFIX,
			    strlen(GSP_APP_RESERVED_PREFIX)) != 0;
	size_t total, held = 0, value_max;
	unsigned int keys = 1, keys_max;
	struct gsp_node_limits lim;
	struct gsp_member_view v;
	bool has_keyring = false;

	if (node == NULL)
		return NULL;
	gsp_node_limits_read(node, &lim);
	gsp_cfg_app_bounds(c->cfg, &keys_max, &value_max);
	if (user && vlen > lim.app_value_max)
		return ctrl_error("%s %s: value of %zu bytes is over [limits] "
				  "app_value_max %u", cmd, key, vlen,
				  lim.app_value_max);
	if (vlen > value_max)
		return ctrl_error("%s %s: value of %zu bytes; this node speaks "
				  "wire version %u ([gossip] wire_version), "
				  "whose values are at most %zu bytes", cmd, key,
				  vlen, c->cfg->wire_version, value_max);
	total = strlen(key) + vlen;
	if (ctrl_self_read(&v))
		for (uint8_t i = 0; i < v.app_count && i < GSP_APP_KEYS_MAX; i++) {
			size_t n = strnlen(v.app[i].key, GSP_APP_KEY_MAX) +
				strnlen(v.app[i].value, GSP_APP_VALUE_MAX);

			if (strcmp(v.app[i].key, key) == 0)
				continue;
			keys++;
			if (strcmp(v.app[i].key, GSP_APP_KEYRING_KEY) == 0) {
				has_keyring = true;
				n = GSP_APP_KEYRING_ROOM;
			}
			total += n;
			if (!user || strncmp(v.app[i].key,
					     GSP_APP_RESERVED_PREFIX,
					     strlen(GSP_APP_RESERVED_PREFIX)) == 0)
				held += n;
		}
	if (c->kr != NULL && !has_keyring) {
		keys++;
		total += GSP_APP_KEYRING_ROOM;
		held += GSP_APP_KEYRING_ROOM;
	}
	if (keys > keys_max)
		return ctrl_error("%s %s: this node already publishes %u keys, "
				  "the maximum%s", cmd, key, keys - 1,
				  held != 0 ? " (gossipd's own gsp.* among "
				  "them)" : "");
	if (total > lim.app_bytes_max)
		return ctrl_error("%s %s: this node's app state would be %zu "
				  "bytes (keys + values, %zu of them held for "
				  "gossipd's own gsp.* keys), over [limits] "
				  "app_bytes_max %u", cmd, key, total, held,
				  lim.app_bytes_max);
	return NULL;
}
