/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipctl force-leave NAME: gossipd checks the member is down, moves it
 * to left and tells the cluster (docs/PROTOCOL.md, "Force-leave").
 */
#include <stdio.h>

#include "ctl_int.h"

int
ctl_cmd_force_leave(const struct ctl_opts *o, const char *name)
{
	json_t *reply = NULL, *n, *was;
	char safe[CTL_NAME_MAX];
	int ret;

	ret = ctl_call_reply(o, json_pack("{s:s,s:s}", "cmd", "force-leave",
					  "name", name), &reply);
	if (ret != CTL_EXIT_OK || reply == NULL)
		return ret;
	n = json_object_get(reply, "name");
	was = json_object_get(reply, "was");
	ctl_safe(safe, sizeof(safe), json_is_string(n) ? json_string_value(n) :
		 name);
	if (json_is_string(was) && json_string_value(was)[0] == 'l')
		printf("%s: left already\n", safe);
	else
		printf("%s: down -> left; the cluster is told, and forgets it "
		       "after [gossip] forget_after\n", safe);
	json_decref(reply);
	return fflush(stdout) != 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
