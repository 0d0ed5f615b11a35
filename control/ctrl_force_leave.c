/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipctl force-leave NAME (Serf's force-leave): a failed member is
 * moved to left, here and, by a SWIM claim, everywhere, so the cluster no
 * longer treats it as failed; it is forgotten after [gossip]
 * forget_after as any left member. Only a down member: an alive or
 * suspect one speaks for itself (it would refute at once). The core
 * checks again when the command arrives (gsp_node_force_leave()).
 */
#include <string.h>

#include "ctrl_int.h"
#include "gsp_log.h"

json_t *
ctrl_cmd_force_leave(struct ctrl *c, struct ctrl_client *cl, json_t *req)
{
	const struct gsp_node *node = gsp_dp_node();
	struct gsp_member_view v, found;
	char safe[GSP_NAME_MAX];
	json_t *reply = NULL;
	const char *name;
	bool have = false;
	uint32_t slots;
	size_t len;
	int ret;

	name = ctrl_req_str(req, "name", &len, &reply);
	if (name == NULL)
		return reply;
	ctrl_safe_str(safe, sizeof(safe), name, len);
	if (len == 0 || len >= GSP_NAME_MAX || strlen(name) != len)
		return ctrl_error("force-leave: \"name\" must be a member name "
				  "of 1..%d bytes", GSP_NAME_MAX - 1);
	if (!(c->cfg->detector & GSP_DETECT_SWIM))
		return ctrl_error("force-leave: [detector] swim is off on this "
				  "node; the cluster is told by SWIM claims");
	if (node == NULL)
		return ctrl_error("force-leave: the dataplane is not running");
	/* a name may be held by several ids (explicit ids): the down one */
	slots = gsp_node_slot_count(node);
	for (uint32_t slot = 0; slot < slots; slot++) {
		if (!gsp_node_member_read(node, slot, &v) ||
		    strcmp(v.name, name) != 0)
			continue;
		if (!have || v.state == GSP_STATE_DOWN)
			found = v;
		have = true;
	}
	if (!have)
		return ctrl_error("force-leave: no member named \"%s\"", safe);
	if (found.id == gsp_node_id(node))
		return ctrl_error("force-leave: %s is this node: use gossipctl "
				  "leave", safe);
	if (found.state == GSP_STATE_LEFT)
		return json_pack("{s:b,s:s,s:s,s:s}", "ok", 1, "name",
				 found.name, "state", "left", "was", "left");
	if (found.state != GSP_STATE_DOWN)
		return ctrl_error("force-leave: %s is %s, not down: a live "
				  "member speaks for itself (stop it, or run "
				  "gossipctl leave on it)", safe,
				  gsp_state_name(found.state));
	ret = gsp_dp_submit_force_leave(found.id);
	if (ret != 0)
		return ctrl_error("force-leave %s: %s", safe,
				  ctrl_dp_strerror(ret));
	gsp_log(LOG_NOTICE, "control: force-leave %s (0x%016llx, down -> "
		"left; uid %u pid %d)", safe, (unsigned long long)found.id,
		(unsigned int)cl->uid, (int)cl->pid);
	return json_pack("{s:b,s:s,s:s,s:s}", "ok", 1, "name", found.name,
			 "state", "left", "was", "down");
}
