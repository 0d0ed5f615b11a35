/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fault command (docs/FAULTS.md): show, set, clear, block and unblock
 * through the one spec parser, peers named by address or member name.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctrl_int.h"
#include "gsp_json.h"
#include "gsp_log.h"
#include "gsp_util.h"

#define CTRL_FAULT_SPEC_MAX 2048	/* the longest spec: 64 blocks */

/* {"ok":true,"spec":..,"active":..,"counters":{..}}: the state after. */
static json_t *
ctrl_fault_state(void)
{
	struct gsp_fault_cfg f;
	uint64_t ctr[GSP_FAULT_C_MAX];
	char spec[CTRL_FAULT_SPEC_MAX];
	json_t *r, *cnt;

	gsp_dp_fault_get(&f);
	if (gsp_fault_format(&f, spec, sizeof(spec)) != 0)
		return ctrl_error("fault spec longer than %d bytes",
				  CTRL_FAULT_SPEC_MAX - 1);
	gsp_dp_fault_counters(ctr);
	cnt = json_object();
	for (unsigned int i = 0; cnt != NULL && i < GSP_FAULT_C_MAX; i++)
		json_object_set_new(cnt, gsp_fault_ctr_name(i),
				    gsp_json_u64(ctr[i]));
	r = json_pack("{s:b,s:s,s:b,s:o*}", "ok", 1, "spec", spec, "active",
		      gsp_fault_active(&f), "counters", cnt);
	return r;
}

/*
 * PEER[:dir] for block/unblock: an IPv4 address as is, a member name
 * resolved in this node's table to its address. Writes the spec token
 * "key=IP[:dir]" (the parser checks the direction); NULL or an error.
 */
static json_t *
ctrl_fault_peer(const char *key, const char *peer, size_t len, char *tok,
		size_t toklen)
{
	const struct gsp_node *node = gsp_dp_node();
	char name[GSP_NAME_MAX], safe[GSP_NAME_MAX];
	const char *colon = memchr(peer, ':', len);
	size_t nlen = colon != NULL ? (size_t)(colon - peer) : len;
	const char *dir = colon != NULL ? colon : "";
	struct gsp_member_view mv;
	struct in_addr a;
	uint32_t slots;

	if (strlen(peer) != len || nlen == 0 || nlen >= sizeof(name) ||
	    len - nlen > 8) {
		ctrl_safe_str(safe, sizeof(safe), peer, len);
		return ctrl_error("%s: '%s' is not an IPv4 address or a member "
				  "name, with an optional :in, :out or :both",
				  key, safe);
	}
	memcpy(name, peer, nlen);
	name[nlen] = '\0';
	if (strcmp(name, "all") == 0 || inet_pton(AF_INET, name, &a) == 1) {
		snprintf(tok, toklen, "%s=%s%s", key, name, dir);
		return NULL;
	}
	for (size_t i = 0; i < nlen; i++)
		if (!gsp_name_char_ok(name[i])) {
			ctrl_safe_str(safe, sizeof(safe), name, nlen);
			return ctrl_error("%s: '%s' is not an IPv4 address or "
					  "a member name", key, safe);
		}
	slots = node != NULL ? gsp_node_slot_count(node) : 0;
	for (uint32_t slot = 0; slot < slots; slot++) {
		struct in_addr ip;
		char ips[INET_ADDRSTRLEN];

		if (!gsp_node_member_read(node, slot, &mv) ||
		    strcmp(mv.name, name) != 0)
			continue;
		if (mv.id == gsp_node_id(node))
			return ctrl_error("%s: %s is this node", key, name);
		ip.s_addr = htonl(mv.ip);
		inet_ntop(AF_INET, &ip, ips, sizeof(ips));
		snprintf(tok, toklen, "%s=%s%s", key, ips, dir);
		return NULL;
	}
	return ctrl_error("%s: unknown member '%s' (not in this node's member "
			  "table; give its IPv4 address instead)", key, name);
}

json_t *
ctrl_cmd_fault(struct ctrl_client *cl, json_t *req)
{
	json_t *reply = NULL, *jop = json_object_get(req, "op");
	struct gsp_fault_cfg f;
	char perr[256], tok[GSP_NAME_MAX + 32];
	char spec[CTRL_FAULT_SPEC_MAX];
	const char *op = "show", *arg = NULL;
	size_t len = 0;
	int ret;

	if (!ctrl_req_op(jop, &op))
		return ctrl_error("\"op\" must be a string");
	if (strcmp(op, "show") == 0)
		return ctrl_fault_state();
	gsp_dp_fault_get(&f);
	if (strcmp(op, "set") == 0) {
		arg = ctrl_req_str(req, "spec", &len, &reply);
		if (arg == NULL)
			return reply;
		if (strlen(arg) != len)
			return ctrl_error("spec: NUL byte in the spec");
	} else if (strcmp(op, "clear") == 0) {
		arg = "clear";
	} else if (strcmp(op, "block") == 0 || strcmp(op, "unblock") == 0) {
		const char *peer = ctrl_req_str(req, "peer", &len, &reply);

		if (peer == NULL)
			return reply;
		reply = ctrl_fault_peer(op, peer, len, tok, sizeof(tok));
		if (reply != NULL)
			return reply;
		arg = tok;
	} else {
		ctrl_safe_str(tok, sizeof(tok), op, strlen(op));
		return ctrl_error("fault: unknown op \"%s\" (expected show, set, "
				  "clear, block or unblock)", tok);
	}
	/* the one parser: its message goes back as is */
	if (gsp_fault_parse(&f, arg, perr, sizeof(perr)) != 0)
		return ctrl_error("%s", perr);
	if (gsp_fault_format(&f, spec, sizeof(spec)) != 0)
		return ctrl_error("fault spec longer than %d bytes",
				  CTRL_FAULT_SPEC_MAX - 1);
	ret = gsp_dp_fault_set(&f);
	switch (ret) {
	case 0:
		break;
	case -EBUSY:
		return ctrl_error("fault: the dataplane has not taken the "
				  "previous change yet, try again");
	case -ETIMEDOUT:
		gsp_log(LOG_WARNING, "control: faults %s not acknowledged by "
			"the dataplane within %d ms", spec, 1000);
		return ctrl_error("fault: the dataplane did not take the change "
				  "within 1 s; it applies when it does");
	case -ENODEV:
		return ctrl_error("fault: no fault injection on this node");
	default:
		return ctrl_error("fault: %s", ctrl_dp_strerror(ret));
	}
	if (gsp_fault_active(&f))
		gsp_log(LOG_WARNING, "control: FAULT INJECTION ON: %s (uid %u "
			"pid %d); testing only", spec, (unsigned int)cl->uid,
			(int)cl->pid);
	else
		gsp_log(LOG_NOTICE, "control: fault injection off (uid %u "
			"pid %d)", (unsigned int)cl->uid, (int)cl->pid);
	return ctrl_fault_state();
}
