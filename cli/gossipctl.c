/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipctl: the operator CLI. Reads the status view (members, watch,
 * stats) and talks to the control socket (set, leave, ping, fault, keys).
 * Links only libgsp_sv and jansson: fault specs are parsed by gossipd.
 * This file parses the arguments and dispatches; ctl_int.h lists the
 * others.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"
#include "gsp_keyfile.h"
#include "gsp_util.h"	/* header only: no link to the core */
#include "gsp_version.h"
#include "gossipd/status_view.h"

#define CTL_INTERVAL_MIN_MS 10
#define CTL_INTERVAL_MAX_MS 3600000

static void
ctl_usage(FILE *f)
{
	fprintf(f,
"Usage: %s [--node NAME] [--cluster NAME] [--view PATH] [--socket PATH]\n"
"                 COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  members [--json] [FILTERS]          membership table of the node, with\n"
"                                      each member's app state (App)\n"
"  join [--wait MS] ADDR|HOST[:PORT]...\n"
"                                      contact them as seeds (HOST resolved\n"
"                                      here); waits up to MS (5000) ms for\n"
"                                      each to be a member\n"
"  watch [--interval MS] [--count N]   redraw the table every MS (1000) ms,\n"
"                                      N times (0: until interrupted)\n"
"  stats [--json]                      protocol and per-lcore counters\n"
"  set KEY VALUE                       set an application state key\n"
"  delete KEY                          remove one of this node's app keys\n"
"  leave                               announce a graceful leave\n"
"  ping                                check that gossipd answers\n"
"  fault [--json]                      injected faults and their counters\n"
"  fault set TOKEN...                  add faults: drop=P dup=P reorder=P\n"
"                                      delay=D jitter=D reorder_by=D\n"
"                                      block=IP[:in|:out|:both] unblock=IP|all\n"
"                                      clear (P in [0, 1], D like 5ms)\n"
"  fault clear                         every fault off\n"
"  fault block PEER[:in|:out|:both]    drop traffic with PEER (IPv4 or\n"
"                                      member name; both directions)\n"
"  fault unblock PEER|all              lift a block (docs/FAULTS.md)\n"
"  keys [--json]                       keyring: mode, cipher, key ids, and\n"
"                                      which members seal with / have each\n"
"  keys install FILE                   add the keys of FILE (mode 0600; read\n"
"                                      by gossipd, never sent) to the ring\n"
"  keys use ID [--force]               seal with key ID from now on; refused\n"
"                                      while a live member lacks it, unless\n"
"                                      --force\n"
"  keys remove ID [--force]            drop key ID (not the primary); refused\n"
"                                      while a live member seals with it,\n"
"                                      unless --force\n"
"  monitor [--type T[,T]] [--count N]  stream membership events as JSON\n"
"                                      lines (member-join, member-suspect,\n"
"                                      member-down, member-alive,\n"
"                                      member-leave, member-restart,\n"
"                                      member-reap, member-update, key,\n"
"                                      user; docs/EVENTS.md)\n"
"  event NAME [PAYLOAD]                send a user event to every live\n"
"                                      node's monitors and handler\n"
"  force-leave NAME                     move failed (down) member NAME to left,\n"
"                                      on every node (Serf's force-leave)\n"
"  keygen                              print a new random key (base64);\n"
"                                      umask 077 before redirecting it\n"
"                                      (docs/SECURITY.md)\n"
"\n"
"Options:\n"
"  -n, --node NAME      node whose view to read (finds %s/gossipd.*.NAME)\n"
"  -c, --cluster NAME   cluster of the node (needed when names clash)\n"
"      --view PATH      status view file to read\n"
"  -s, --socket PATH    control socket (default: named by the view)\n"
"  -j, --json           JSON output (members, stats, fault, keys)\n"
"  -i, --interval MS    watch refresh interval\n"
"      --state S[,S]    members/watch: only these states (alive, suspect,\n"
"                       down, left)\n"
"      --name GLOB      members/watch: only names matching GLOB (fnmatch)\n"
"      --type T[,T]     monitor: only these event types\n"
"      --app KEY=GLOB   members/watch: only members whose app key KEY\n"
"                       matches GLOB; repeatable, all must match\n"
"      --wait MS        join: how long to wait for the addresses (0: send\n"
"                       only)\n"
"      --count N        watch iterations; monitor: events (0: endless)\n"
"  -h, --help           this help\n"
"  -V, --version        print gossipctl's version\n"
"\n"
"Environment: GOSSIPCTL_VIEW_DIR replaces %s as the directory searched.\n"
"\n"
"Exit status: 0 ok, 1 error, 2 usage error, 3 gossipd not running or\n"
"not updating its view (the data shown is stale).\n",
		CTL_PROG, CTL_DEFAULT_DIR, CTL_DEFAULT_DIR);
}

static int
ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verr(fmt, ap);
	va_end(ap);
	ctl_usage(stderr);
	return CTL_EXIT_USAGE;
}

static bool
ctl_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CTL_NAME_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!gsp_name_char_ok(*s))
			return false;
	return true;
}

static bool
ctl_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int
main(int argc, char **argv)
{
	enum { OPT_VIEW = 256, OPT_COUNT, OPT_STATE, OPT_NAME, OPT_APP,
		OPT_WAIT, OPT_FORCE, OPT_TYPE };
	static const struct option longopts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "view", required_argument, NULL, OPT_VIEW },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "app", required_argument, NULL, OPT_APP },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts o;
	char ferr[160];
	const char *cmd;
	char **args;
	int nargs;
	int opt;

	memset(&o, 0, sizeof(o));
	o.dir = getenv("GOSSIPCTL_VIEW_DIR");
	if (o.dir == NULL || o.dir[0] == '\0')
		o.dir = CTL_DEFAULT_DIR;
	opterr = 0;
	/* options may come before or after the command */
	while ((opt = getopt_long(argc, argv, ":n:c:s:ji:hV", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (!ctl_name_ok(optarg))
				return ctl_usage_error("--node: \"%s\" is not a "
					"node name ([A-Za-z0-9_.-], 1..63)",
					optarg);
			o.node = optarg;
			break;
		case 'c':
			if (!ctl_name_ok(optarg) || strlen(optarg) > 31)
				return ctl_usage_error("--cluster: \"%s\" is not "
					"a cluster name ([A-Za-z0-9_.-], 1..31)",
					optarg);
			o.cluster = optarg;
			break;
		case OPT_VIEW:
			o.view = optarg;
			break;
		case 's':
			o.socket = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'i':
			if (!ctl_parse_long(optarg, CTL_INTERVAL_MIN_MS,
					    CTL_INTERVAL_MAX_MS, &o.interval_ms))
				return ctl_usage_error("--interval: \"%s\" is not "
					"a number of milliseconds in %d..%d",
					optarg, CTL_INTERVAL_MIN_MS,
					CTL_INTERVAL_MAX_MS);
			o.interval_set = true;
			break;
		case OPT_COUNT:
			if (!ctl_parse_long(optarg, 0, LONG_MAX, &o.count))
				return ctl_usage_error("--count: \"%s\" is not a "
					"non-negative number", optarg);
			o.count_set = true;
			break;
		case OPT_STATE:
			if (!ctl_filter_states(&o.filter, optarg, ferr,
					       sizeof(ferr)))
				return ctl_usage_error("%s", ferr);
			break;
		case OPT_NAME:
			if (optarg[0] == '\0')
				return ctl_usage_error("--name: empty glob");
			o.filter.name_glob = optarg;
			break;
		case OPT_APP:
			if (!ctl_filter_app(&o.filter, optarg, ferr,
					    sizeof(ferr)))
				return ctl_usage_error("%s", ferr);
			break;
		case OPT_WAIT:
			if (!ctl_parse_long(optarg, 0, CTL_INTERVAL_MAX_MS,
					    &o.join_wait_ms))
				return ctl_usage_error("--wait: \"%s\" is not "
					"a number of milliseconds in 0..%d",
					optarg, CTL_INTERVAL_MAX_MS);
			o.join_wait_set = true;
			break;
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_TYPE:
			o.types = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("gossipctl %s (status view %u.%u)\n",
			       GSP_VERSION, GSP_SV_MAJOR, GSP_SV_MINOR);
			return CTL_EXIT_OK;
		case ':':
			return ctl_usage_error("option %s needs an argument",
					       argv[optind - 1]);
		default:
			if (optopt != 0)
				return ctl_usage_error("unknown option -%c",
						       optopt);
			return ctl_usage_error("unknown option %s",
					       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return ctl_usage_error("no command given");
	cmd = argv[optind];
	args = argv + optind + 1;
	nargs = argc - optind - 1;
	if (o.view != NULL && (o.node != NULL || o.cluster != NULL))
		return ctl_usage_error("--view cannot be combined with --node "
				       "or --cluster");
	if (o.json && strcmp(cmd, "members") != 0 && strcmp(cmd, "stats") != 0 &&
	    strcmp(cmd, "fault") != 0 && strcmp(cmd, "keys") != 0)
		return ctl_usage_error("--json applies to members, stats, "
				       "fault and keys only");
	if (o.force && !(strcmp(cmd, "keys") == 0 && nargs > 0 &&
			 (strcmp(args[0], "remove") == 0 ||
			  strcmp(args[0], "use") == 0)))
		return ctl_usage_error("--force applies to keys use and keys "
				       "remove only");
	if (o.interval_set && strcmp(cmd, "watch") != 0)
		return ctl_usage_error("--interval applies to watch only");
	if (o.count_set && strcmp(cmd, "watch") != 0 &&
	    strcmp(cmd, "monitor") != 0)
		return ctl_usage_error("--count applies to watch and monitor "
				       "only");
	if (o.types != NULL && strcmp(cmd, "monitor") != 0)
		return ctl_usage_error("--type applies to monitor only");
	if (ctl_filter_active(&o.filter) && strcmp(cmd, "members") != 0 &&
	    strcmp(cmd, "watch") != 0)
		return ctl_usage_error("--state, --name and --app apply to "
				       "members and watch only");
	if (o.join_wait_set && strcmp(cmd, "join") != 0)
		return ctl_usage_error("--wait applies to join only");

	if (strcmp(cmd, "members") == 0 || strcmp(cmd, "watch") == 0 ||
	    strcmp(cmd, "stats") == 0 || strcmp(cmd, "leave") == 0 ||
	    strcmp(cmd, "ping") == 0) {
		if (nargs != 0)
			return ctl_usage_error("%s takes no arguments (got "
					       "\"%s\")", cmd, args[0]);
	} else if (strcmp(cmd, "join") == 0) {
		if (nargs < 1)
			return ctl_usage_error("join needs one or more "
					       "ADDR[:PORT] (IPv4) or "
					       "HOST[:PORT]");
		return ctl_cmd_join(&o, args, nargs);
	} else if (strcmp(cmd, "delete") == 0) {
		if (nargs != 1)
			return ctl_usage_error("delete needs one KEY");
		return ctl_cmd_socket(&o, json_pack("{s:s,s:s}", "cmd",
			"delete", "key", args[0]));
	} else if (strcmp(cmd, "monitor") == 0) {
		if (nargs != 0)
			return ctl_usage_error("monitor takes no arguments (got "
					       "\"%s\")", args[0]);
		return ctl_cmd_monitor(&o, o.types);
	} else if (strcmp(cmd, "event") == 0) {
		if (nargs < 1 || nargs > 2)
			return ctl_usage_error("event needs NAME and at most "
					       "one PAYLOAD (quote it)");
		return ctl_cmd_event(&o, args[0], nargs == 2 ? args[1] : NULL);
	} else if (strcmp(cmd, "force-leave") == 0) {
		if (nargs != 1)
			return ctl_usage_error("force-leave needs one member "
					       "NAME");
		if (!ctl_name_ok(args[0]))
			return ctl_usage_error("force-leave: \"%s\" is not a "
				"member name ([A-Za-z0-9_.-], 1..63)", args[0]);
		return ctl_cmd_force_leave(&o, args[0]);
	} else if (strcmp(cmd, "set") == 0) {
		if (nargs != 2)
			return ctl_usage_error("set needs KEY and VALUE (got %d "
					       "argument%s)", nargs,
					       nargs == 1 ? "" : "s");
	} else if (strcmp(cmd, "fault") == 0) {
		const char *op = nargs > 0 ? args[0] : "show";

		if (strcmp(op, "show") == 0 || strcmp(op, "clear") == 0) {
			if (nargs > 1)
				return ctl_usage_error("fault %s takes no "
					"arguments (got \"%s\")", op, args[1]);
		} else if (strcmp(op, "set") == 0) {
			if (nargs < 2)
				return ctl_usage_error("fault set needs one or "
					"more TOKENs, e.g. drop=0.1 delay=5ms");
		} else if (strcmp(op, "block") == 0 ||
			   strcmp(op, "unblock") == 0) {
			if (nargs != 2)
				return ctl_usage_error("fault %s needs one "
					"PEER (IPv4 address or member name)%s",
					op, strcmp(op, "unblock") == 0 ?
					" or all" : "");
		} else {
			return ctl_usage_error("unknown fault command \"%s\" "
				"(expected set, clear, block or unblock)", op);
		}
		return ctl_cmd_fault(&o, op, nargs > 1 ? args + 1 : args,
				     nargs > 1 ? nargs - 1 : 0);
	} else if (strcmp(cmd, "keys") == 0) {
		const char *op = nargs > 0 ? args[0] : "list";

		if (strcmp(op, "list") == 0) {
			if (nargs > 1)
				return ctl_usage_error("keys list takes no "
					"arguments (got \"%s\")", args[1]);
		} else if (strcmp(op, "install") == 0 || strcmp(op, "use") == 0 ||
			   strcmp(op, "remove") == 0) {
			if (nargs != 2)
				return ctl_usage_error("keys %s needs one %s",
					op, strcmp(op, "install") == 0 ?
					"FILE" : "key ID (8 hex digits)");
		} else {
			return ctl_usage_error("unknown keys command \"%s\" "
				"(expected list, install, use or remove)", op);
		}
		return ctl_cmd_keys(&o, op, nargs > 1 ? args[1] : NULL);
	} else if (strcmp(cmd, "keygen") == 0) {
		char b64[GSP_KEY_B64_LEN + 1];

		if (nargs != 0)
			return ctl_usage_error("keygen takes no arguments");
		gsp_key_generate_b64(b64);
		if (b64[0] == '\0') {
			ctl_err("keygen: libsodium failed to initialise");
			return CTL_EXIT_FAIL;
		}
		printf("%s\n", b64);
		return fflush(stdout) != 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	} else {
		return ctl_usage_error("unknown command \"%s\"", cmd);
	}

	if (strcmp(cmd, "members") == 0)
		return ctl_cmd_members(&o);
	if (strcmp(cmd, "watch") == 0)
		return ctl_cmd_watch(&o);
	if (strcmp(cmd, "stats") == 0)
		return ctl_cmd_stats(&o);
	if (strcmp(cmd, "set") == 0)
		return ctl_cmd_socket(&o, json_pack("{s:s,s:s,s:s}", "cmd",
			"set", "key", args[0], "value", args[1]));
	if (strcmp(cmd, "leave") == 0)
		return ctl_cmd_socket(&o, json_pack("{s:s}", "cmd", "leave"));
	return ctl_cmd_socket(&o, json_pack("{s:s}", "cmd", "ping"));
}
