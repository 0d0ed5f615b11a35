/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The status view's publisher: each period, the core's members and
 * counters (gsp_sv_counters_fill, from the one counter list) and the
 * lcores' stats into one gsp_sv_writer_publish(); a view file damaged
 * behind our back is re-created.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl_int.h"
#include "gsp_log.h"
#include "sv_counters.h"

#define CTRL_SV_RETRY_NS (1ull * 1000000000ull)

_Static_assert(GSP_FAULT_C_MAX <= GSP_SV_FAULT_CTRS,
	       "status view has fewer fault counters than the core");
_Static_assert(GSP_NAME_MAX <= sizeof(((struct gsp_sv_member *)0)->name),
	       "member name does not fit the status view");
/* a member's whole app state fits its record's app_ext (minor 7) */
_Static_assert(GSP_APP_KEYS_MAX <= GSP_SV_APP_EXT_KEYS,
	       "status view has fewer app entries than the core");
_Static_assert(GSP_APP_KEYS_MAX * GSP_SV_APP_ENTRY_HDR + GSP_APP_BYTES_MAX <=
	       GSP_SV_APP_DATA, "app state does not fit the status view");
_Static_assert(GSP_APP_KEY_MAX <= GSP_SV_APP_KEY_MAX &&
	       GSP_APP_VALUE_MAX <= GSP_SV_APP_VALUE_MAX,
	       "app key or value does not fit the status view's u8 lengths");

static uint64_t
ctrl_core_to_unix(uint64_t t, uint64_t core_now, uint64_t unix_now)
{
	if (t == 0)
		return 0;		/* never */
	if (t >= core_now)
		return unix_now;
	if (core_now - t >= unix_now)
		return 1;		/* keep "some time", not "never" */
	return unix_now - (core_now - t);
}

static void
ctrl_security_fill(const struct ctrl *c, struct gsp_sv_security *sec)
{
	if (c->kr == NULL) {
		sec->mode = GSP_SV_PLAINTEXT;
		sec->cipher = GSP_SV_CIPHER_NONE;
		return;
	}
	sec->mode = GSP_SV_AUTHENTICATED;
	sec->cipher = gsp_keyring_cipher(c->kr);
	sec->primary_key_id = gsp_keyring_primary(c->kr);
	sec->n_keys = gsp_keyring_count(c->kr);
}

static void
ctrl_member_convert(const struct gsp_member_view *mv, uint64_t self_id,
		    uint64_t core_now, uint64_t unix_now,
		    struct gsp_sv_member *m)
{
	unsigned int n = mv->app_count;

	memset(m, 0, sizeof(*m));
	m->id = mv->id;
	m->generation = mv->generation;
	m->heartbeat = mv->heartbeat;
	m->version = mv->version;
	m->last_update_unix_ns = ctrl_core_to_unix(mv->last_update_ns,
						   core_now, unix_now);
	m->state_since_unix_ns = ctrl_core_to_unix(mv->state_since_ns,
						   core_now, unix_now);
	m->ip = mv->ip;
	m->port = mv->port;
	m->state = mv->state;
	m->phi_milli = mv->phi_milli;
	m->incarnation = mv->incarnation;
	m->flags = mv->id == self_id ? GSP_SV_MEMBER_SELF : 0;
	memcpy(m->name, mv->name, sizeof(mv->name));
	m->name[sizeof(m->name) - 1] = '\0';
	if (n > GSP_APP_KEYS_MAX)
		n = GSP_APP_KEYS_MAX;
	/* all of it into app_ext; the first 8, values cut to 63 bytes, into
	 * the legacy app[] for readers of minor 6 and older */
	for (unsigned int i = 0; i < n; i++) {
		const struct gsp_app_entry *a = &mv->app[i];

		/* the asserts above make -ENOSPC impossible for state the
		 * core holds; a key it never has (empty) is no entry */
		(void)gsp_sv_member_app_add(m, a->version, a->key,
				strnlen(a->key, sizeof(a->key) - 1), a->value,
				strnlen(a->value, sizeof(a->value) - 1));
	}
}

/* Room for index i in the staging array, grown by doubling up to cap. */
static bool
ctrl_staging_room(struct ctrl *c, uint32_t i, uint32_t cap)
{
	struct gsp_sv_member *p;
	uint32_t n;

	if (i < c->staging_cap)
		return true;
	n = c->staging_cap < 64 ? 64 : c->staging_cap * 2;
	if (n > cap)
		n = cap;
	if (n <= i)
		return false;
	p = realloc(c->staging, (size_t)n * sizeof(*p));
	if (p == NULL) {
		if (!c->staging_nomem_logged)
			gsp_log(LOG_WARNING,
				"status view: out of memory for %u members, publishing %u",
				n, i);
		c->staging_nomem_logged = true;
		return false;
	}
	c->staging = p;
	c->staging_cap = n;
	return true;
}

/*
 * Publishes u into the view after a check that its file is still the one
 * we made (gsp_sv_writer_check: a stat and a 24-byte pread, once per
 * period, on this thread). A file that was truncated, overwritten,
 * replaced or removed is re-created at its path with u in it. One log
 * line per incident; a second one only if re-creating had to be retried.
 */
static int
ctrl_view_write(struct ctrl *c, const struct gsp_sv_update *u)
{
	const char *path = c->cfg->status_path;
	char err[512];
	uint64_t now;
	int ret;

	if (c->sv_lost == GSP_SV_FILE_OK) {
		c->sv_lost = gsp_sv_writer_check(c->sv, c->sv_lost_detail,
						 sizeof(c->sv_lost_detail));
		if (c->sv_lost == GSP_SV_FILE_OK)
			return gsp_sv_writer_publish(c->sv, u);
		c->sv_retrying = false;
		c->sv_retry_ns = 0;
	}
	now = ctrl_mono_ns();
	if (now < c->sv_retry_ns)
		return 0;
	ret = gsp_sv_writer_recreate(c->sv, u, err, sizeof(err));
	if (ret != 0 && ret != -ENOSPC) {
		if (!c->sv_retrying)
			gsp_log(LOG_WARNING, "status view %s was %s behind "
				"gossipd's back (%s); cannot re-create it: %s; "
				"retrying every %llu s, gossip goes on", path,
				gsp_sv_file_name(c->sv_lost), c->sv_lost_detail,
				err, CTRL_SV_RETRY_NS / NS_PER_S);
		c->sv_retrying = true;
		c->sv_retry_ns = now + CTRL_SV_RETRY_NS;
		return 0;
	}
	if (c->sv_retrying)
		gsp_log(LOG_NOTICE, "status view %s re-created", path);
	else
		gsp_log(LOG_WARNING, "status view %s was %s behind gossipd's "
			"back (%s); re-created it at the same path, gossip "
			"goes on", path, gsp_sv_file_name(c->sv_lost),
			c->sv_lost_detail);
	c->sv_lost = GSP_SV_FILE_OK;
	return ret;
}

/* The period's publish, skipped while the membership stands still and
 * the last one is under CTRL_SV_IDLE_NS old: an idle node's control
 * thread then only reads the counters (docs/STATUS_VIEW.md "Freshness"). */
void
ctrl_publish_if_changed(struct ctrl *c, uint64_t now)
{
	const struct gsp_node *node = gsp_dp_node();
	struct gsp_node_counters nc;

	if (node != NULL && !c->sv_dirty && c->sv_lost == GSP_SV_FILE_OK &&
	    now - c->sv_full_ns < CTRL_SV_IDLE_NS) {
		gsp_node_counters_read(node, &nc);
		if (gsp_view_token(&nc) == c->sv_token)
			return;
	}
	ctrl_publish(c);
}

void
ctrl_publish(struct ctrl *c)
{
	const struct gsp_node *node = gsp_dp_node();
	uint32_t cap = gsp_sv_writer_member_capacity(c->sv);
	uint32_t lcap = gsp_sv_writer_lcore_capacity(c->sv);
	struct gsp_sv_header view;	/* only its counter sections */
	struct gsp_node_counters nc;
	struct gsp_member_view mv;
	struct gsp_fault_cfg fault;
	struct gsp_sv_update u;
	uint64_t core_now, unix_now;
	uint32_t slots, n = 0;
	int ret;

	memset(&u, 0, sizeof(u));
	c->sv_dirty = false;
	c->sv_full_ns = ctrl_mono_ns();
	if (lcap > CTRL_MAX_LCORES)
		lcap = CTRL_MAX_LCORES;
	if (node != NULL) {
		if (!c->have_self) {
			c->self_id = gsp_node_id(node);
			c->have_self = true;
		}
		gsp_node_counters_read(node, &nc);
		c->sv_token = gsp_view_token(&nc);
		memset(&view, 0, sizeof(view));
		gsp_sv_counters_fill(&view, &nc);
		ctrl_security_fill(c, &view.security);
		gsp_dp_fault_counters(view.extra.fault);
		gsp_dp_fault_get(&fault);
		u.counters = &view.counters;
		u.extra = &view.extra;
		u.security = &view.security;
		u.view = &view.view;
		u.counters_from = &view;
		u.faults = gsp_fault_active(&fault);
		core_now = gsp_dp_now_ns();
		unix_now = ctrl_unix_ns();
		slots = gsp_node_slot_count(node);
		for (uint32_t slot = 0; slot < slots && n < cap; slot++) {
			if (!gsp_node_member_read(node, slot, &mv))
				continue;	/* free slot */
			if (!ctrl_staging_room(c, n, cap))
				break;
			ctrl_member_convert(&mv, c->self_id, core_now, unix_now,
					    &c->staging[n]);
			if (mv.id == c->self_id)
				c->self_generation = mv.generation;
			n++;
		}
	}
	u.now_unix_ns = ctrl_unix_ns();
	u.self_id = c->self_id;
	u.self_generation = c->self_generation;
	u.members = c->staging;
	u.n_members = n;
	u.lcores = c->lcores;
	u.n_lcores = lcap > 0 ? gsp_dp_lcore_stats(c->lcores, lcap) : 0;
	if (u.n_lcores > lcap)
		u.n_lcores = lcap;
	ret = ctrl_view_write(c, &u);
	if (ret == -ENOSPC && !c->sv_nospace_logged) {
		gsp_log(LOG_WARNING,
			"status view: no space left in the file system of %s, "
			"the view lists only some of the %u members",
			c->cfg->status_path, n);
		c->sv_nospace_logged = true;
	} else if (ret < 0 && ret != -ENOSPC && !c->sv_write_err_logged) {
		/* seq is left odd: readers wait rather than see a torn view */
		gsp_log(LOG_ERR, "status view %s: cannot write: %s (logged "
			"once)", c->cfg->status_path, strerror(-ret));
		c->sv_write_err_logged = true;
	}
}

int
ctrl_view_open(struct ctrl *c)
{
	const struct gsp_config *cfg = c->cfg;
	struct gsp_sv_writer_params p;
	char err[512];
	double phi;
	int ret;

	memset(&p, 0, sizeof(p));
	p.path = cfg->status_path;
	p.cluster = cfg->cluster;
	p.node_name = cfg->node_name;
	p.control_socket = cfg->socket_path;
	/* the core table holds max_members (its capacity parameter);
	 * gsp_node_slot_count() is only a high-water mark that grows */
	p.member_capacity = cfg->max_members > 0 ? cfg->max_members : 1;
	p.lcore_capacity = CTRL_MAX_LCORES;
	p.self_ip = cfg->addr.ip;
	p.self_port = cfg->addr.port;
	p.gossip_interval_ns = (uint64_t)cfg->interval_ms * NS_PER_MS;
	phi = cfg->phi_convict * 1000.0;
	p.phi_convict_milli = phi <= 0 ? 0 :
		phi >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)phi;
	ret = gsp_sv_writer_create(&p, &c->sv, err, sizeof(err));
	if (ret != 0) {
		gsp_log(LOG_ERR, "%s", err);
		return ret;
	}
	return 0;
}
