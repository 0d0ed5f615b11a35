/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The node's snapshot (gsp_snapshot.h, docs/SNAPSHOT.md): read once
 * before the node is created, rewritten by the control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "gsp_ctrl.h"
#include "gsp_json.h"
#include "gsp_log.h"
#include "gsp_safe_open.h"
#include "gsp_snapshot.h"

static struct gsp_addr snap_peers[GSP_SNAP_PEERS_MAX];
static unsigned int snap_n_peers;
/* [app] as the config had it, before the merge: written back so the next
 * start can tell the operator's edits from run-time writes */
static char snap_cfg_keys[GSP_APP_KEYS_MAX][GSP_APP_KEY_MAX];
static char snap_cfg_values[GSP_APP_KEYS_MAX][GSP_APP_VALUE_MAX];
static unsigned int snap_n_cfg;
/* the writer (control thread only) */
static char *snap_last;		/* the text last written */
static uint64_t snap_next_ns;
static bool snap_err_logged;

static bool
gsp_snap_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n >= GSP_APP_KEY_MAX)
		return false;
	for (; *k != '\0'; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '.' ||
		      *k == '-'))
			return false;
	return true;
}

static bool
gsp_snap_value_ok(const char *v)
{
	if (strlen(v) >= GSP_APP_VALUE_MAX)
		return false;
	for (; *v != '\0'; v++)
		if (*v < 0x20 || *v >= 0x7f)
			return false;
	return true;
}

/* obj's string members into keys/values; false with err set. */
static bool
gsp_snap_parse_app(json_t *obj, const char *field,
		   char keys[][GSP_APP_KEY_MAX],
		   char values[][GSP_APP_VALUE_MAX], unsigned int *n,
		   char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	*n = 0;
	if (obj == NULL)
		return true;
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "\"%s\" is not an object", field);
		return false;
	}
	if (json_object_size(obj) > GSP_APP_KEYS_MAX) {
		snprintf(err, errlen, "\"%s\" has %zu keys, at most %d", field,
			 json_object_size(obj), GSP_APP_KEYS_MAX);
		return false;
	}
	json_object_foreach(obj, k, v) {
		if (!gsp_snap_key_ok(k)) {
			snprintf(err, errlen, "\"%s\": key \"%.40s\" is not "
				 "1..%d of [A-Za-z0-9_.-]", field, k,
				 GSP_APP_KEY_MAX - 1);
			return false;
		}
		if (!json_is_string(v) || !gsp_snap_value_ok(json_string_value(v))) {
			snprintf(err, errlen, "\"%s\": value of \"%s\" is not "
				 "a string of at most %d printable ASCII "
				 "characters", field, k, GSP_APP_VALUE_MAX - 1);
			return false;
		}
		snprintf(keys[*n], GSP_APP_KEY_MAX, "%s", k);
		snprintf(values[*n], GSP_APP_VALUE_MAX, "%s",
			 json_string_value(v));
		(*n)++;
	}
	return true;
}

int
gsp_snap_parse(const struct gsp_config *cfg, const char *text, size_t len,
	       struct gsp_snap *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *peers, *p;
	const char *fmt, *cl, *node;
	json_int_t ver;
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	root = gsp_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "not JSON (line %d: %s); truncated?",
			 jerr.line, jerr.text);
		return -1;
	}
	fmt = json_string_value(json_object_get(root, "format"));
	if (!json_is_object(root) || fmt == NULL ||
	    strcmp(fmt, GSP_SNAP_FORMAT) != 0) {
		snprintf(err, errlen, "not a gossipd snapshot (no \"format\": "
			 "\"%s\")", GSP_SNAP_FORMAT);
		goto out;
	}
	if (!json_is_integer(json_object_get(root, "version"))) {
		snprintf(err, errlen, "no integer \"version\"");
		goto out;
	}
	ver = json_integer_value(json_object_get(root, "version"));
	if (ver != GSP_SNAP_VERSION) {
		snprintf(err, errlen, "version %lld, this gossipd reads version "
			 "%d", (long long)ver, GSP_SNAP_VERSION);
		goto out;
	}
	cl = json_string_value(json_object_get(root, "cluster"));
	node = json_string_value(json_object_get(root, "node"));
	if (cl == NULL || node == NULL || strcmp(cl, cfg->cluster) != 0 ||
	    strcmp(node, cfg->node_name) != 0) {
		snprintf(err, errlen, "written by node \"%.63s\" of cluster "
			 "\"%.31s\", not this node (%s of %s)",
			 node != NULL ? node : "?", cl != NULL ? cl : "?",
			 cfg->node_name, cfg->cluster);
		goto out;
	}
	if (!gsp_snap_parse_app(json_object_get(root, "app"), "app",
				out->app_keys, out->app_values, &out->n_app,
				err, errlen) ||
	    !gsp_snap_parse_app(json_object_get(root, "config_app"),
				"config_app", out->cfg_keys, out->cfg_values,
				&out->n_cfg, err, errlen))
		goto out;
	peers = json_object_get(root, "peers");
	if (peers != NULL && !json_is_array(peers)) {
		snprintf(err, errlen, "\"peers\" is not an array");
		goto out;
	}
	json_array_foreach(peers, i, p) {
		const char *s = json_string_value(p);

		if (i >= GSP_SNAP_PEERS_MAX) {
			snprintf(err, errlen, "\"peers\" has %zu entries, at "
				 "most %d", json_array_size(peers),
				 GSP_SNAP_PEERS_MAX);
			goto out;
		}
		if (s == NULL || gsp_parse_addr(s, 7946, &out->peers[i]) != 0 ||
		    out->peers[i].port == 0) {
			snprintf(err, errlen, "peers[%zu] is not \"IPv4:port\"",
				 i);
			goto out;
		}
		out->n_peers++;
	}
	ret = 0;
out:
	json_decref(root);
	return ret;
}

static int
gsp_snap_find(char keys[][GSP_APP_KEY_MAX], unsigned int n, const char *k)
{
	for (unsigned int i = 0; i < n; i++)
		if (strcmp(keys[i], k) == 0)
			return (int)i;
	return -1;
}

/*
 * The snapshot's app state, except where the config changed since it was
 * written: a key added or edited in [app] takes the config's value, a key
 * removed from [app] and untouched at run time goes.
 */
void
gsp_snap_merge_app(struct gsp_config *cfg, const struct gsp_snap *s)
{
	char keys[GSP_APP_KEYS_MAX][GSP_APP_KEY_MAX];
	char values[GSP_APP_KEYS_MAX][GSP_APP_VALUE_MAX];
	unsigned int n = 0;
	int j, c;

	for (unsigned int i = 0; i < s->n_app; i++) {
		c = gsp_snap_find((char (*)[GSP_APP_KEY_MAX])s->cfg_keys,
				  s->n_cfg, s->app_keys[i]);
		/* gone from [app] and as [app] had it: the operator's
		 * removal */
		if (c >= 0 && strcmp(s->cfg_values[c], s->app_values[i]) == 0 &&
		    gsp_snap_find(cfg->app_keys, cfg->n_app,
				  s->app_keys[i]) < 0)
			continue;
		memcpy(keys[n], s->app_keys[i], GSP_APP_KEY_MAX);
		memcpy(values[n], s->app_values[i], GSP_APP_VALUE_MAX);
		n++;
	}
	for (unsigned int i = 0; i < cfg->n_app; i++) {
		c = gsp_snap_find((char (*)[GSP_APP_KEY_MAX])s->cfg_keys,
				  s->n_cfg, cfg->app_keys[i]);
		if (c >= 0 && strcmp(s->cfg_values[c], cfg->app_values[i]) == 0)
			continue;	/* unchanged in the config */
		j = gsp_snap_find(keys, n, cfg->app_keys[i]);
		if (j < 0) {
			if (n >= GSP_APP_KEYS_MAX)
				continue;
			j = (int)n++;
			memcpy(keys[j], cfg->app_keys[i], GSP_APP_KEY_MAX);
		}
		memcpy(values[j], cfg->app_values[i], GSP_APP_VALUE_MAX);
	}
	memcpy(cfg->app_keys, keys, sizeof(keys[0]) * n);
	memcpy(cfg->app_values, values, sizeof(values[0]) * n);
	cfg->n_app = n;
}

void
gsp_snap_restore(struct gsp_config *cfg)
{
	struct gsp_snap *s;
	struct stat st;
	char err[GSP_CONFIG_ERR_MAX], bad[PATH_MAX + 16];
	char *text = NULL;
	size_t len;

	snap_n_cfg = cfg->n_app;
	memcpy(snap_cfg_keys, cfg->app_keys, sizeof(snap_cfg_keys));
	memcpy(snap_cfg_values, cfg->app_values, sizeof(snap_cfg_values));
	if (cfg->snapshot_path[0] == '\0')
		return;
	if (stat(cfg->snapshot_path, &st) != 0 && errno == ENOENT) {
		gsp_log(LOG_INFO, "snapshot: %s: none yet (first start); "
			"written once the node runs", cfg->snapshot_path);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return;
	if (gsp_file_read(cfg->snapshot_path, 0, GSP_SNAP_SIZE_MAX, &text,
			  &len, NULL, err, sizeof(err)) != 0) {
		gsp_log(LOG_WARNING, "snapshot: %s; starting without it", err);
		free(s);
		return;
	}
	if (gsp_snap_parse(cfg, text, len, s, err, sizeof(err)) != 0) {
		snprintf(bad, sizeof(bad), "%s.corrupt", cfg->snapshot_path);
		/* kept for a look; the next write starts afresh */
		if (rename(cfg->snapshot_path, bad) != 0)
			bad[0] = '\0';
		gsp_log(LOG_WARNING, "snapshot: %s: %s; starting without it "
			"(%s%s)", cfg->snapshot_path, err, bad[0] != '\0' ?
			"moved to " : "left in place", bad);
		free(text);
		free(s);
		return;
	}
	gsp_snap_merge_app(cfg, s);
	memcpy(snap_peers, s->peers, sizeof(s->peers[0]) * s->n_peers);
	snap_n_peers = s->n_peers;
	gsp_log(LOG_NOTICE, "snapshot: %s: %u app key%s, %u peer%s to "
		"contact as seeds", cfg->snapshot_path, cfg->n_app,
		cfg->n_app == 1 ? "" : "s", snap_n_peers,
		snap_n_peers == 1 ? "" : "s");
	free(text);
	free(s);
}

unsigned int
gsp_snap_peers(struct gsp_addr *out, unsigned int max)
{
	unsigned int n = snap_n_peers < max ? snap_n_peers : max;

	memcpy(out, snap_peers, sizeof(out[0]) * n);
	return n;
}

/* The snapshot's text now; NULL when the node is not there yet. */
static char *
gsp_snap_build(const struct gsp_config *cfg)
{
	const struct gsp_node *node = gsp_dp_node();
	json_t *root, *app, *capp, *peers;
	struct gsp_member_view v;
	struct gsp_addr a;
	char addr[24];
	uint64_t self;
	uint32_t slots;
	bool have_self = false;
	char *text;

	if (node == NULL)
		return NULL;
	root = json_object();
	app = json_object();
	capp = json_object();
	peers = json_array();
	if (root == NULL || app == NULL || capp == NULL || peers == NULL)
		goto fail;
	self = gsp_node_id(node);
	slots = gsp_node_slot_count(node);
	/* stops once it has us and enough peers: bounded in a big table */
	for (uint32_t slot = 0; slot < slots && (!have_self ||
	     json_array_size(peers) < GSP_SNAP_PEERS_MAX); slot++) {
		if (!gsp_node_member_read(node, slot, &v))
			continue;
		if (v.id == self) {
			have_self = true;
			/* gossipd's own keys (keyring, last user event) are
			 * made anew by the next run, never restored */
			for (uint8_t i = 0; i < v.app_count &&
			     i < GSP_APP_KEYS_MAX; i++)
				if (strncmp(v.app[i].key,
					    GSP_APP_RESERVED_PREFIX,
					    strlen(GSP_APP_RESERVED_PREFIX)) != 0)
					json_object_set_new(app, v.app[i].key,
						json_string(v.app[i].value));
		} else if (v.state == GSP_STATE_ALIVE &&
			   json_array_size(peers) < GSP_SNAP_PEERS_MAX) {
			a.ip = v.ip;
			a.port = v.port;
			gsp_format_addr(&a, addr, sizeof(addr));
			json_array_append_new(peers, json_string(addr));
		}
	}
	if (!have_self)
		goto fail;
	for (unsigned int i = 0; i < snap_n_cfg; i++)
		json_object_set_new(capp, snap_cfg_keys[i],
				    json_string(snap_cfg_values[i]));
	json_object_set_new(root, "format", json_string(GSP_SNAP_FORMAT));
	json_object_set_new(root, "version", json_integer(GSP_SNAP_VERSION));
	json_object_set_new(root, "cluster", json_string(cfg->cluster));
	json_object_set_new(root, "node", json_string(cfg->node_name));
	json_object_set_new(root, "app", app);
	json_object_set_new(root, "config_app", capp);
	json_object_set_new(root, "peers", peers);
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	return text;
fail:
	json_decref(root);
	json_decref(app);
	json_decref(capp);
	json_decref(peers);
	return NULL;
}

/* text to path: a temporary file, fsync, rename, fsync of the directory,
 * so a crash leaves the old snapshot or the new one, never half of one. */
static int
gsp_snap_write(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	size_t len = strlen(text), off = 0;
	ssize_t w;
	int fd, dfd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "%s: write: %s", tmp,
				 w < 0 ? strerror(errno) : "no progress");
			goto fail;
		}
		off += (size_t)w;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: write/fsync: %s", tmp,
			 strerror(errno));
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "rename %s to %s: %s", tmp, path,
			 strerror(errno));
		unlink(tmp);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return -1;
}

void
gsp_snap_tick(const struct gsp_config *cfg, uint64_t now, bool force)
{
	char err[2 * PATH_MAX + 64];
	char *text;

	if (cfg->snapshot_path[0] == '\0' || (!force && now < snap_next_ns))
		return;
	snap_next_ns = now + GSP_SNAP_CHECK_NS;
	text = gsp_snap_build(cfg);
	if (text == NULL)
		return;
	if (snap_last != NULL && strcmp(text, snap_last) == 0) {
		free(text);
		return;
	}
	if (gsp_snap_write(cfg->snapshot_path, text, err, sizeof(err)) != 0) {
		/* once until it works again: retried every check */
		if (!snap_err_logged)
			gsp_log(LOG_WARNING, "snapshot: cannot write it: %s",
				err);
		snap_err_logged = true;
		free(text);
		return;
	}
	if (snap_err_logged)
		gsp_log(LOG_NOTICE, "snapshot: %s written again",
			cfg->snapshot_path);
	snap_err_logged = false;
	free(snap_last);
	snap_last = text;
}
