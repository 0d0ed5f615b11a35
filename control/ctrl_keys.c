/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The keys command (docs/SECURITY.md): list, install, use and remove keys
 * of the keyring in force; each change goes to the dataplane first, then
 * into the keyring file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctrl_int.h"
#include "gsp_json.h"
#include "gsp_keyfile.h"
#include "gsp_log.h"

_Static_assert(GSP_SV_CIPHER_AES256GCM == GSP_CIPHER_AES256GCM &&
	       GSP_SV_CIPHER_CHACHA20POLY1305 == GSP_CIPHER_CHACHA20POLY1305,
	       "status view cipher numbers");

static void
ctrl_key_hex(uint32_t id, char buf[9])
{
	snprintf(buf, 9, "%08x", id);
}

/* {"ok":true,"mode":..,"cipher":..,"keys":[..],..}: the state now. */
static json_t *
ctrl_keys_state(const struct ctrl *c)
{
	struct gsp_key_info info[GSP_KEYRING_MAX];
	const struct gsp_node *node = gsp_dp_node();
	struct gsp_node_counters nc;
	json_t *r, *keys;
	unsigned int n;
	char hex[9];

	if (c->kr == NULL)
		return json_pack("{s:b,s:s}", "ok", 1, "mode", "plaintext");
	keys = json_array();
	n = gsp_keyring_list(c->kr, info, GSP_KEYRING_MAX);
	for (unsigned int i = 0; i < n; i++) {
		ctrl_key_hex(info[i].id, hex);
		json_array_append_new(keys, json_pack("{s:s,s:b}", "id", hex,
						      "primary", info[i].primary));
	}
	ctrl_key_hex(gsp_keyring_primary(c->kr), hex);
	r = json_pack("{s:b,s:s,s:s,s:s,s:s,s:o}", "ok", 1, "mode",
		      "authenticated", "cipher",
		      gsp_cipher_name(gsp_keyring_cipher(c->kr)), "keyring",
		      c->cfg->keyring_path, "primary", hex, "keys", keys);
	if (r != NULL && node != NULL) {
		gsp_node_counters_read(node, &nc);
		json_object_set_new(r, "rx_key_primary",
				    gsp_json_u64(nc.rx_key_primary));
		json_object_set_new(r, "rx_key_other",
				    gsp_json_u64(nc.rx_key_other));
		json_object_set_new(r, "rx_unknown_key",
				    gsp_json_u64(nc.rx_drop[GSP_RX_UNKNOWN_KEY]));
	}
	/* as many names per list as fit one reply line */
	for (unsigned int max = 8; r != NULL; max /= 2) {
		json_t *t = json_deep_copy(r);
		char *s;
		size_t len;

		if (t == NULL)
			break;
		json_object_update_new(t, ctrl_keys_cluster(c, max));
		s = gsp_json_dumps(t, JSON_COMPACT);
		len = s != NULL ? strlen(s) : SIZE_MAX;
		free(s);
		if (len < CTRL_REPLY_MAX - 1 || max == 0) {
			json_decref(r);
			return t;
		}
		json_decref(t);
	}
	return r;
}

static bool
ctrl_keyring_has(const struct gsp_keyring *kr, uint32_t id)
{
	struct gsp_key_info info[GSP_KEYRING_MAX];
	unsigned int n = gsp_keyring_list(kr, info, GSP_KEYRING_MAX);

	for (unsigned int i = 0; i < n; i++)
		if (info[i].id == id)
			return true;
	return false;
}

/* "1a2b3c4d" -> id; false if it is not 8 hex digits. */
static bool
ctrl_key_id_parse(const char *s, size_t len, uint32_t *id)
{
	/* strspn stops at an embedded NUL too */
	if (len != 8 || strspn(s, "0123456789abcdefABCDEF") != len)
		return false;
	*id = (uint32_t)strtoul(s, NULL, 16);
	return true;
}

/* Puts next in force on the node, then in the keyring file; takes next. */
static json_t *
ctrl_keys_apply(struct ctrl *c, struct gsp_keyring *next, const char *what,
		const struct ctrl_client *cl)
{
	char err[GSP_CONFIG_ERR_MAX + 64];
	char hex[9];
	int ret = gsp_dp_keyring_set(next);

	if (ret == -ETIMEDOUT) {
		/* the lcore may still copy it: never freed (rare, small) */
		gsp_log(LOG_WARNING, "control: keyring change (%s) not taken "
			"by the dataplane within %d ms", what, 1000);
		return ctrl_error("keys: the dataplane did not take the change "
				  "within 1 s; it applies when it does");
	}
	if (ret != 0) {
		gsp_keyring_destroy(next);
		return ctrl_error("keys: %s", ctrl_dp_strerror(ret));
	}
	gsp_keyring_destroy(c->kr);
	c->kr = next;
	ctrl_keys_publish(c);
	ctrl_key_hex(gsp_keyring_primary(next), hex);
	ctrl_monitor_key_event(c, what, gsp_keyring_primary(next),
			       gsp_keyring_count(next));
	gsp_log(LOG_NOTICE, "control: keyring: %s (uid %u pid %d); %u key(s), "
		"primary %s", what, (unsigned int)cl->uid, (int)cl->pid,
		gsp_keyring_count(next), hex);
	if (gsp_keyfile_save(c->cfg->keyring_path, next, err,
			     sizeof(err)) != 0) {
		gsp_log(LOG_ERR, "control: keyring in force but not saved, a "
			"restart would lose it: %s", err);
		return ctrl_error("keys: %s is in force, but saving the keyring "
				  "failed: %s", what, err);
	}
	return ctrl_keys_state(c);
}

json_t *
ctrl_cmd_keys(struct ctrl *c, struct ctrl_client *cl, json_t *req)
{
	uint8_t keys[GSP_KEYRING_MAX][GSP_KEY_LEN];
	char err[GSP_CONFIG_ERR_MAX], what[64], tok[40], hex[9];
	json_t *reply = NULL, *jop = json_object_get(req, "op");
	struct gsp_keyring *next;
	const char *op = "list", *arg;
	unsigned int n;
	uint32_t id;
	size_t len;
	int ret;

	if (!ctrl_req_op(jop, &op))
		return ctrl_error("\"op\" must be a string");
	if (strcmp(op, "list") == 0)
		return ctrl_keys_state(c);
	if (strcmp(op, "install") != 0 && strcmp(op, "use") != 0 &&
	    strcmp(op, "remove") != 0) {
		ctrl_safe_str(tok, sizeof(tok), op, strlen(op));
		return ctrl_error("keys: unknown op \"%s\" (expected list, "
				  "install, use or remove)", tok);
	}
	if (c->kr == NULL)
		return ctrl_error("keys: this node runs mode = plaintext; "
				  "authentication is chosen at start");
	next = gsp_keyring_dup(c->kr);
	if (next == NULL)
		return ctrl_error("keys: out of memory");
	if (strcmp(op, "install") == 0) {
		arg = ctrl_req_str(req, "file", &len, &reply);
		if (arg == NULL || strlen(arg) != len || arg[0] != '/') {
			gsp_keyring_destroy(next);
			return reply != NULL ? reply :
				ctrl_error("keys install: \"file\" must be an "
					   "absolute path");
		}
		/* read by the daemon: the key never crosses the socket */
		if (gsp_keyfile_read(arg, keys, GSP_KEYRING_MAX, &n, err,
				     sizeof(err)) != 0) {
			gsp_keyring_destroy(next);
			return ctrl_error("keys install: %s", err);
		}
		what[0] = '\0';
		for (unsigned int i = 0; i < n; i++) {
			ret = gsp_keyring_add(next, keys[i], &id);
			ctrl_key_hex(id, hex);
			if (ret != 0) {
				sodium_memzero(keys, sizeof(keys));
				gsp_keyring_destroy(next);
				return ctrl_error("keys install: key %s: %s", hex,
					ret == -EEXIST ? "installed already" :
					"the keyring is full (8 keys): remove one");
			}
			snprintf(what + strlen(what), sizeof(what) - strlen(what),
				 "%s%s", i == 0 ? "installed " : ",", hex);
		}
		sodium_memzero(keys, sizeof(keys));
		return ctrl_keys_apply(c, next, what, cl);
	}
	arg = ctrl_req_str(req, "id", &len, &reply);
	if (arg == NULL || !ctrl_key_id_parse(arg, len, &id)) {
		gsp_keyring_destroy(next);
		return reply != NULL ? reply :
			ctrl_error("keys %s: \"id\" must be a key id of 8 hex "
				   "digits (gossipctl keys)", op);
	}
	ctrl_key_hex(id, hex);
	jop = json_object_get(req, "force");
	if (jop != NULL && !json_is_boolean(jop)) {
		gsp_keyring_destroy(next);
		return ctrl_error("\"force\" must be true or false");
	}
	/* (this node's own primary: the keyring's refusal says it better) */
	if (!json_is_true(jop) && ctrl_keyring_has(next, id) &&
	    gsp_keyring_primary(next) != id) {
		bool use = strcmp(op, "use") == 0;
		char names[512];
		unsigned int risk;

		/* the datagrams a live member could no longer exchange */
		risk = ctrl_keys_at_risk(id, use, names, sizeof(names));
		if (risk > 0) {
			gsp_keyring_destroy(next);
			return ctrl_error("keys %s %s: %u live member%s %s: %s. "
				"%s would be cut off: %s first, or %s with "
				"--force", op, hex, risk, risk == 1 ? "" : "s",
				use ? "lack it" : "may still send under it",
				names, risk == 1 ? "It" : "They",
				use ? "keys install the key's file there" :
				"keys use the new key there", op);
		}
	}
	if (strcmp(op, "use") == 0)
		ret = gsp_keyring_use(next, id);
	else
		ret = gsp_keyring_remove(next, id);
	if (ret != 0) {
		gsp_keyring_destroy(next);
		return ctrl_error("keys %s %s: %s", op, hex, ret == -ENOENT ?
				  "no such key in the keyring" :
				  "it is the primary: use another key first");
	}
	snprintf(what, sizeof(what), "%s %s", strcmp(op, "use") == 0 ?
		 "now sealing with" : "removed", hex);
	return ctrl_keys_apply(c, next, what, cl);
}
