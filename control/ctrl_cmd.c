/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One request of the control socket: parsed, dispatched by "cmd", and the
 * small commands answered here (ping, set, leave); fault and keys have
 * their own files.
 */
#include <errno.h>
#include <string.h>

#include "ctrl_int.h"
#include "gsp_json.h"
#include "gsp_log.h"
#include "gsp_wire.h"

static bool
ctrl_key_ok(const char *k, size_t len)
{
	if (len == 0 || len > GSP_APP_KEY_MAX - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		      (k[i] >= 'A' && k[i] <= 'Z') ||
		      (k[i] >= '0' && k[i] <= '9') || k[i] == '_' ||
		      k[i] == '.' || k[i] == '-'))
			return false;
	return true;
}

static bool
ctrl_value_ok(const char *v, size_t len)
{
	if (len > GSP_APP_VALUE_MAX - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] >= 0x7f)
			return false;
	return true;
}

static json_t *
ctrl_cmd_set(struct ctrl *c, struct ctrl_client *cl, json_t *req)
{
	json_t *reply = NULL;
	const char *key, *value;
	size_t klen, vlen;
	char safe[GSP_APP_VALUE_MAX];
	int ret;

	key = ctrl_req_str(req, "key", &klen, &reply);
	if (key == NULL)
		return reply;
	value = ctrl_req_str(req, "value", &vlen, &reply);
	if (value == NULL)
		return reply;
	if (!ctrl_key_ok(key, klen))
		return ctrl_error("invalid key: must be 1 to %d characters of "
				  "A-Z a-z 0-9 _ . -", GSP_APP_KEY_MAX - 1);
	if (!ctrl_value_ok(value, vlen))
		return ctrl_error("invalid value: must be at most %d printable "
				  "ASCII characters", GSP_APP_VALUE_MAX - 1);
	if (strncmp(key, GSP_APP_RESERVED_PREFIX,
		    strlen(GSP_APP_RESERVED_PREFIX)) == 0)
		return ctrl_error("set %s: keys starting with \"%s\" are "
				  "reserved for gossipd (gsp.keys: its keyring)",
				  key, GSP_APP_RESERVED_PREFIX);
	reply = ctrl_app_check(c, "set", key, vlen);
	if (reply != NULL)
		return reply;
	ret = gsp_dp_submit_set_app(key, value);
	if (ret != 0)
		return ctrl_error("set %s: %s", key, ctrl_dp_strerror(ret));
	ctrl_safe_str(safe, sizeof(safe), value, vlen);
	gsp_log(LOG_INFO, "control: set %s=%s (uid %u pid %d)", key, safe,
		(unsigned int)cl->uid, (int)cl->pid);
	return ctrl_ok();
}

/* {"cmd":"delete","key":K}: one of our app keys, gone from the cluster */
static json_t *
ctrl_cmd_delete(struct ctrl_client *cl, json_t *req)
{
	struct gsp_member_view v;
	json_t *reply = NULL;
	const char *key;
	size_t klen;
	int ret;

	key = ctrl_req_str(req, "key", &klen, &reply);
	if (key == NULL)
		return reply;
	if (!ctrl_key_ok(key, klen))
		return ctrl_error("invalid key: must be 1 to %d characters of "
				  "A-Z a-z 0-9 _ . -", GSP_APP_KEY_MAX - 1);
	if (strncmp(key, GSP_APP_RESERVED_PREFIX,
		    strlen(GSP_APP_RESERVED_PREFIX)) == 0)
		return ctrl_error("delete %s: keys starting with \"%s\" are "
				  "reserved for gossipd", key,
				  GSP_APP_RESERVED_PREFIX);
	if (!ctrl_self_read(&v) || !ctrl_app_has(&v, key))
		return ctrl_error("delete %s: this node publishes no such key",
				  key);
	ret = gsp_dp_submit_del_app(key);
	if (ret != 0)
		return ctrl_error("delete %s: %s", key, ctrl_dp_strerror(ret));
	gsp_log(LOG_INFO, "control: delete %s (uid %u pid %d)", key,
		(unsigned int)cl->uid, (int)cl->pid);
	return ctrl_ok();
}

/* {"cmd":"join","addrs":["IPv4[:port]",...]}: the addresses become seeds
 * (contacted as the configured ones are) until gossipd stops; the reply
 * lists them with their port, {"ok":true,"addrs":["a.b.c.d:p",...]}.
 * Whether they answer is for the client to watch in the status view:
 * this thread serves other clients meanwhile. */
static json_t *
ctrl_cmd_join(struct ctrl *c, struct ctrl_client *cl, json_t *req)
{
	json_t *arr = json_object_get(req, "addrs"), *v, *out;
	struct gsp_addr a[GSP_SEEDS_MAX];
	char safe[64], text[24];
	size_t i, n;
	int ret;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return ctrl_error("join: \"addrs\" must be a non-empty array "
				  "of \"IPv4[:port]\" strings");
	n = json_array_size(arr);
	if (n > GSP_SEEDS_MAX)
		return ctrl_error("join: %zu addresses, at most %d", n,
				  GSP_SEEDS_MAX);
	json_array_foreach(arr, i, v) {
		const char *t = json_string_value(v);

		if (t == NULL)
			return ctrl_error("join: addrs[%zu] is not a string", i);
		ctrl_safe_str(safe, sizeof(safe), t, strlen(t));
		if (gsp_parse_addr(t, c->cfg->addr.port, &a[i]) != 0)
			return ctrl_error("join: \"%s\" is not IPv4[:port] "
				"(the control socket takes addresses: "
				"gossipctl join resolves hostnames)", safe);
		if (a[i].ip == 0 || (a[i].ip >> 28) >= 0xe)
			return ctrl_error("join: \"%s\" is not a unicast "
					  "address", safe);
		if (a[i].ip == c->cfg->addr.ip && a[i].port == c->cfg->addr.port)
			return ctrl_error("join: \"%s\" is this node's own "
					  "address", safe);
	}
	ret = ctrl_seeds_join(&c->seeds, a, (unsigned int)n);
	if (ret != 0)
		return ctrl_error("join: the join list is full (%d addresses; "
				  "restart gossipd to clear it)", GSP_SEEDS_MAX);
	out = json_array();
	for (i = 0; i < n; i++) {
		gsp_format_addr(&a[i], text, sizeof(text));
		json_array_append_new(out, json_string(text));
		gsp_log(LOG_NOTICE, "control: join %s (uid %u pid %d)", text,
			(unsigned int)cl->uid, (int)cl->pid);
	}
	return json_pack("{s:b,s:o}", "ok", 1, "addrs", out);
}

json_t *
ctrl_handle_request(struct ctrl *c, struct ctrl_client *cl, const char *line,
		    size_t len)
{
	json_error_t jerr;
	json_t *req, *reply = NULL;
	const char *cmd;
	char safe[40];
	size_t cmdlen;
	int ret;

	c->sv_dirty = true;	/* the view shows what it changed at once */
	req = gsp_json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		return ctrl_error("invalid JSON: %s (column %d)", jerr.text,
				  jerr.column);
	if (!json_is_object(req)) {
		reply = ctrl_error("request must be a JSON object");
		goto out;
	}
	cmd = ctrl_req_str(req, "cmd", &cmdlen, &reply);
	if (cmd == NULL)
		goto out;
	if (strcmp(cmd, "ping") == 0 && cmdlen == 4) {
		reply = json_pack("{s:b,s:s,s:s,s:{s:I,s:o,s:o}}", "ok", 1,
				  "node", c->cfg->node_name, "cluster",
				  c->cfg->cluster, "control", "clients",
				  (json_int_t)c->n_clients, "deadline_closed",
				  gsp_json_u64(c->deadline_closed), "evicted",
				  gsp_json_u64(c->evicted));
	} else if (strcmp(cmd, "set") == 0 && cmdlen == 3) {
		reply = ctrl_cmd_set(c, cl, req);
	} else if (strcmp(cmd, "fault") == 0 && cmdlen == 5) {
		reply = ctrl_cmd_fault(cl, req);
	} else if (strcmp(cmd, "keys") == 0 && cmdlen == 4) {
		reply = ctrl_cmd_keys(c, cl, req);
	} else if (strcmp(cmd, "delete") == 0 && cmdlen == 6) {
		reply = ctrl_cmd_delete(cl, req);
	} else if (strcmp(cmd, "monitor") == 0 && cmdlen == 7) {
		reply = ctrl_cmd_monitor(c, cl, req);
	} else if (strcmp(cmd, "event") == 0 && cmdlen == 5) {
		reply = ctrl_cmd_event(c, req);
	} else if (strcmp(cmd, "join") == 0 && cmdlen == 4) {
		reply = ctrl_cmd_join(c, cl, req);
	} else if (strcmp(cmd, "force-leave") == 0 && cmdlen == 11) {
		reply = ctrl_cmd_force_leave(c, cl, req);
	} else if (strcmp(cmd, "leave") == 0 && cmdlen == 5) {
		ret = gsp_dp_submit_leave();
		if (ret != 0) {
			reply = ctrl_error("leave: %s", ctrl_dp_strerror(ret));
		} else {
			gsp_log(LOG_NOTICE, "control: leave requested (uid %u pid %d)",
				(unsigned int)cl->uid, (int)cl->pid);
			reply = ctrl_ok();
		}
	} else {
		ctrl_safe_str(safe, sizeof(safe), cmd, cmdlen);
		reply = ctrl_error("unknown command \"%s\" (expected ping, set, "
				   "delete, leave, join, force-leave, monitor, "
				   "event, fault or keys)",
				   safe);
	}
out:
	json_decref(req);
	return reply;
}
