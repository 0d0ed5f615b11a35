/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Membership events for the operator (docs/EVENTS.md): the dataplane's
 * member events, local key changes and user events become one JSON object
 * each, pushed to every control client that asked for "monitor" and
 * queued for the event handler (ctrl_handlers.c).
 *
 * User events ride on the origin's own app state, under the reserved key
 * gsp.event ("SEQ UNIXSEC NAME[ PAYLOAD]"): gossip already carries it to
 * every live node, anti-entropy included. A node delivers each (member,
 * generation, seq) once; an event older than this node's start is not
 * delivered when first seen (it happened before we were here); events
 * overwritten before they reached us are reported as "missed".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl_int.h"
#include "gsp_log.h"
#include "gsp_json.h"
#include "gsp_util.h"

static const char *const ctrl_evt_names[CTRL_EVT_MAX] = {
	[CTRL_EVT_JOIN] = "member-join",
	[CTRL_EVT_SUSPECT] = "member-suspect",
	[CTRL_EVT_DOWN] = "member-down",
	[CTRL_EVT_ALIVE] = "member-alive",
	[CTRL_EVT_LEAVE] = "member-leave",
	[CTRL_EVT_RESTART] = "member-restart",
	[CTRL_EVT_REAP] = "member-reap",
	[CTRL_EVT_UPDATE] = "member-update",
	[CTRL_EVT_KEY] = "key",
	[CTRL_EVT_USER] = "user",
};

static const char *
ctrl_evt_name(unsigned int type)
{
	return type < CTRL_EVT_MAX ? ctrl_evt_names[type] : "?";
}

/* Bitmask of the types named in "a,b" or a JSON array; false: unknown. */
static bool
ctrl_evt_mask(const char *name, size_t len, uint32_t *mask)
{
	for (unsigned int t = 0; t < CTRL_EVT_MAX; t++)
		if (strlen(ctrl_evt_names[t]) == len &&
		    memcmp(ctrl_evt_names[t], name, len) == 0) {
			*mask |= 1u << t;
			return true;
		}
	return false;
}

/* One line to one monitor: dropped (and counted) when its queue is full,
 * so a reader that stalls never holds the control thread. */
static void
ctrl_monitor_queue(struct ctrl_client *cl, const char *line, size_t len)
{
	char note[96];
	int n;

	if (cl->mon_dropped > 0) {
		n = snprintf(note, sizeof(note), "{\"event\":\"dropped\","
			     "\"count\":%" PRIu64 "}\n", cl->mon_dropped);
		if (n <= 0 || cl->out_len + (size_t)n > sizeof(cl->out))
			goto drop;
		memcpy(cl->out + cl->out_len, note, (size_t)n);
		cl->out_len += (size_t)n;
		cl->mon_dropped = 0;
	}
	/* the room for one reply stays free for the client's requests */
	if (cl->out_len + len + 1 + CTRL_REPLY_MAX > sizeof(cl->out))
		goto drop;
	memcpy(cl->out + cl->out_len, line, len);
	cl->out[cl->out_len + len] = '\n';
	cl->out_len += len + 1;
	return;
drop:
	cl->mon_dropped++;
}

/* Pushes ev (consumed) to the monitors and the handler queue. */
void
ctrl_event_emit(struct ctrl *c, unsigned int type, json_t *ev)
{
	char *line;
	size_t len;

	bool wanted = c->handlers != NULL;

	for (unsigned int i = 0; !wanted && i < c->n_clients; i++)
		wanted = c->clients[i]->monitor &&
			(c->clients[i]->mon_types & (1u << type));
	/* nobody listens: no JSON to build (a 10,000-member join) */
	if (ev == NULL || !wanted) {
		json_decref(ev);
		return;
	}
	json_object_set_new(ev, "time_unix_ns",
			    json_integer((json_int_t)ctrl_unix_ns()));
	if (json_object_set_new(ev, "event",
				json_string(ctrl_evt_name(type))) != 0) {
		json_decref(ev);
		return;
	}
	line = gsp_json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(ev);
	if (line == NULL)
		return;
	len = strlen(line);
	for (unsigned int i = 0; i < c->n_clients; i++) {
		struct ctrl_client *cl = c->clients[i];

		if (cl->monitor && (cl->mon_types & (1u << type)) &&
		    len + 1 <= CTRL_REPLY_MAX)
			ctrl_monitor_queue(cl, line, len);
	}
	ctrl_handlers_push(c, type, line, len);
	free(line);
}

/* --- members seen: user events once, app changes without them ---------- */

/* The entry of id; made if absent when create (fresh then true); NULL
 * when absent and not made, or the table is full. */
static struct ctrl_seen *
ctrl_seen_get(struct ctrl *c, uint64_t id, bool create, bool *fresh)
{
	struct ctrl_seen *e, *room = NULL;
	uint32_t mask, i;

	*fresh = false;
	if (c->seen == NULL && create) {
		uint32_t cap = 64;

		/* twice the table, so probes stay short; at most 2^22 */
		while (cap < 2u * c->cfg->max_members && cap < (1u << 22))
			cap <<= 1;
		c->seen = calloc(cap, sizeof(*c->seen));
		if (c->seen != NULL)
			c->seen_cap = cap;
	}
	if (c->seen == NULL)
		return NULL;
	mask = c->seen_cap - 1;
	i = (uint32_t)gsp_id_key(id) & mask;	/* ids may be 1, 2, 3... */
	for (uint32_t n = 0; n < c->seen_cap; n++, i = (i + 1) & mask) {
		e = &c->seen[i];
		if (e->used && !e->gone && e->id == id)
			return e;
		if (room == NULL && (!e->used || e->gone))
			room = e;	/* the first free or forgotten entry */
		if (!e->used)
			break;		/* id is not further on */
	}
	if (!create || room == NULL)
		return NULL;
	memset(room, 0, sizeof(*room));
	room->used = true;
	room->id = id;
	*fresh = true;
	return room;
}

/* What every member event says: name, id, generation, state. */
static json_t *
ctrl_member_brief(const char *name, uint64_t id, uint64_t generation,
		  uint8_t state)
{
	json_t *o = json_object();
	char hex[24];

	if (o == NULL)
		return NULL;
	snprintf(hex, sizeof(hex), "0x%016" PRIx64, id);
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "id", json_string(hex));
	json_object_set_new(o, "generation",
			    json_integer((json_int_t)generation));
	json_object_set_new(o, "state", json_string(gsp_sv_state_name(state)));
	return o;
}

static json_t *
ctrl_member_json(const struct gsp_member_view *m, const char *name)
{
	struct gsp_addr a = { .ip = m->ip, .port = m->port };
	char addr[32];
	json_t *o = ctrl_member_brief(name, m->id, m->generation, m->state);
	json_t *app = json_object(), *reserved = json_object();

	if (o == NULL || app == NULL || reserved == NULL) {
		json_decref(o);
		json_decref(app);
		json_decref(reserved);
		return NULL;
	}
	gsp_format_addr(&a, addr, sizeof(addr));
	json_object_set_new(o, "address", json_string(addr));
	json_object_set_new(o, "incarnation", json_integer(m->incarnation));
	for (uint8_t i = 0; i < m->app_count && i < GSP_APP_KEYS_MAX; i++) {
		char k[GSP_APP_KEY_MAX], v[GSP_APP_VALUE_MAX];

		ctrl_safe_str(k, sizeof(k), m->app[i].key, sizeof(m->app[i].key));
		ctrl_safe_str(v, sizeof(v), m->app[i].value,
			      sizeof(m->app[i].value));
		/* gossipd's own keys apart, as gossipctl members shows them */
		json_object_set_new(strncmp(k, GSP_APP_RESERVED_PREFIX,
					    strlen(GSP_APP_RESERVED_PREFIX)) == 0 ?
				    reserved : app, k, json_string(v));
	}
	json_object_set_new(o, "app", app);
	json_object_set_new(o, "reserved", reserved);
	return o;
}

#define CTRL_FNV_BASIS 0xcbf29ce484222325ull

static uint64_t
ctrl_app_hash_empty(void)
{
	return CTRL_FNV_BASIS;
}

/* FNV-1a over the app state but the user-event key. */
static uint64_t
ctrl_app_hash(const struct gsp_member_view *m)
{
	uint64_t h = CTRL_FNV_BASIS;

	for (uint8_t i = 0; i < m->app_count && i < GSP_APP_KEYS_MAX; i++) {
		const struct gsp_app_entry *a = &m->app[i];

		if (strncmp(a->key, GSP_APP_EVENT_KEY, GSP_APP_KEY_MAX) == 0)
			continue;
		for (const char *p = a->key; *p; p++)
			h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
		h = (h ^ '=') * 0x100000001b3ull;
		for (const char *p = a->value; *p; p++)
			h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
		h = (h ^ ';') * 0x100000001b3ull;
	}
	return h;
}

/* "SEQ UNIXSEC NAME[ PAYLOAD]"; false when it is not one. */
static bool
ctrl_user_event_parse(const char *v, uint32_t *seq, uint64_t *sec,
		      char *name, size_t name_len, const char **payload)
{
	unsigned long long s, t;
	char *end;
	size_t n;

	if (*v < '0' || *v > '9')
		return false;
	s = strtoull(v, &end, 10);
	if (*end != ' ' || s == 0 || s > UINT32_MAX)
		return false;
	v = end + 1;
	if (*v < '0' || *v > '9')
		return false;
	t = strtoull(v, &end, 10);
	if (*end != ' ')
		return false;
	v = end + 1;
	n = strcspn(v, " ");
	if (n == 0 || n >= name_len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!gsp_name_char_ok(v[i]))
			return false;
	memcpy(name, v, n);
	name[n] = '\0';
	*payload = v[n] == ' ' ? v + n + 1 : "";
	*seq = (uint32_t)s;
	*sec = t;
	return true;
}

static void
ctrl_user_event(struct ctrl *c, struct ctrl_seen *e, bool fresh,
		const struct gsp_member_view *m, const char *mname)
{
	char name[GSP_APP_KEY_MAX];
	const char *payload;
	uint32_t seq;
	uint64_t sec;
	json_t *ev;

	for (uint8_t i = 0; i < m->app_count && i < GSP_APP_KEYS_MAX; i++) {
		if (strncmp(m->app[i].key, GSP_APP_EVENT_KEY,
			    GSP_APP_KEY_MAX) != 0)
			continue;
		if (!ctrl_user_event_parse(m->app[i].value, &seq, &sec, name,
					   sizeof(name), &payload))
			return;
		if (seq <= e->event_seq)
			return;
		/* first sight: only what happened since we started */
		if (fresh && sec * NS_PER_S < c->start_unix_ns -
		    c->start_unix_ns % NS_PER_S)
			goto seen;
		ev = json_object();
		if (ev != NULL) {
			char id[24];

			snprintf(id, sizeof(id), "0x%016" PRIx64, m->id);
			json_object_set_new(ev, "name", json_string(name));
			json_object_set_new(ev, "payload", json_string(payload));
			json_object_set_new(ev, "from", json_string(mname));
			json_object_set_new(ev, "from_id", json_string(id));
			json_object_set_new(ev, "seq", json_integer(seq));
			json_object_set_new(ev, "sent_unix_s",
					    json_integer((json_int_t)sec));
			json_object_set_new(ev, "missed", json_integer(
				!fresh ? seq - e->event_seq - 1 : 0));
			ctrl_event_emit(c, CTRL_EVT_USER, ev);
		}
seen:
		e->event_seq = seq;
		return;
	}
}

/* A member's record after its event: the user event and app change it
 * carries. update: emit member-update when the app state moved. */
static void
ctrl_member_seen(struct ctrl *c, const struct gsp_member_view *m,
		 const char *name, bool update)
{
	bool fresh;
	struct ctrl_seen *e = ctrl_seen_get(c, m->id, true, &fresh);
	uint64_t h;

	if (e == NULL) {
		if (!c->seen_full_logged)
			gsp_log(LOG_WARNING, "events: member table of the "
				"event stream full (%u): user events of new "
				"members are not delivered", c->seen_cap);
		c->seen_full_logged = true;
		return;
	}
	if (!fresh && e->generation != m->generation) {
		/* a new life counts again from 1, and what it restored
		 * (a snapshot) is as old as it says */
		e->event_seq = 0;
		fresh = true;
	}
	e->generation = m->generation;
	h = ctrl_app_hash(m);
	/* first sight of a change: any app state besides user events */
	if (update && (fresh ? h != ctrl_app_hash_empty() : h != e->app_hash))
		ctrl_event_emit(c, CTRL_EVT_UPDATE, ctrl_member_json(m, name));
	e->app_hash = h;
	ctrl_user_event(c, e, fresh, m, name);
}

static bool
ctrl_member_by_event(const struct gsp_event *ev, struct gsp_member_view *m)
{
	const struct gsp_node *n = gsp_dp_node();

	return n != NULL && ev->slot < gsp_node_slot_count(n) &&
		gsp_node_member_read(n, ev->slot, m) && m->id == ev->id;
}

/* The dataplane's event as the operator's, when it is one. */
void
ctrl_monitor_core_event(struct ctrl *c, const struct gsp_event *ev)
{
	struct gsp_member_view m;
	char name[GSP_NAME_MAX];
	unsigned int type;
	json_t *o;
	bool have;

	switch (ev->type) {
	case GSP_EV_JOINED:
		type = CTRL_EVT_JOIN;
		break;
	case GSP_EV_RESTARTED:
		type = CTRL_EVT_RESTART;
		break;
	case GSP_EV_FORGOTTEN:
		type = CTRL_EVT_REAP;
		break;
	case GSP_EV_APP:
		type = CTRL_EVT_UPDATE;
		break;
	case GSP_EV_STATE:
		if (ev->new_state == GSP_STATE_SUSPECT)
			type = CTRL_EVT_SUSPECT;
		else if (ev->new_state == GSP_STATE_DOWN)
			type = CTRL_EVT_DOWN;
		else if (ev->new_state == GSP_STATE_LEFT)
			type = CTRL_EVT_LEAVE;
		else
			type = CTRL_EVT_ALIVE;
		break;
	default:
		return;
	}
	ctrl_safe_str(name, sizeof(name), ev->name, sizeof(ev->name));
	have = type != CTRL_EVT_REAP && ctrl_member_by_event(ev, &m);
	if (type == CTRL_EVT_UPDATE) {
		if (have)
			ctrl_member_seen(c, &m, name, true);
		return;
	}
	if (type == CTRL_EVT_REAP) {
		bool fresh;
		struct ctrl_seen *e = ctrl_seen_get(c, ev->id, false, &fresh);

		if (e != NULL)
			e->gone = true;
	}
	/* reaped, or the record moved on already: what the event says */
	o = have ? ctrl_member_json(&m, name) :
		ctrl_member_brief(name, ev->id, ev->generation, ev->new_state);
	if (o != NULL && type != CTRL_EVT_JOIN && type != CTRL_EVT_RESTART &&
	    type != CTRL_EVT_REAP)
		json_object_set_new(o, "previous",
				    json_string(gsp_sv_state_name(ev->old_state)));
	ctrl_event_emit(c, type, o);
	if (have && (type == CTRL_EVT_JOIN || type == CTRL_EVT_RESTART))
		ctrl_member_seen(c, &m, name, false);
}

/* A change of our keyring (ctrl_keys.c). */
void
ctrl_monitor_key_event(struct ctrl *c, const char *change, uint32_t primary,
		       unsigned int n_keys)
{
	json_t *o = json_object();
	char hex[9];

	if (o == NULL)
		return;
	snprintf(hex, sizeof(hex), "%08" PRIx32, primary);
	json_object_set_new(o, "change", json_string(change));
	json_object_set_new(o, "primary", json_string(hex));
	json_object_set_new(o, "keys", json_integer(n_keys));
	ctrl_event_emit(c, CTRL_EVT_KEY, o);
}

/* {"cmd":"monitor"[,"types":[...]]}: this client gets the event stream. */
json_t *
ctrl_cmd_monitor(struct ctrl *c, struct ctrl_client *cl, json_t *req)
{
	json_t *jt = json_object_get(req, "types"), *v, *types;
	uint32_t mask = 0;
	unsigned int n = 0;
	size_t i;

	if (jt != NULL && !json_is_array(jt))
		return ctrl_error("monitor: \"types\" must be an array of "
				  "event names");
	json_array_foreach(jt, i, v) {
		const char *s = json_string_value(v);
		char safe[48];

		if (s == NULL || !ctrl_evt_mask(s, json_string_length(v),
						 &mask)) {
			ctrl_safe_str(safe, sizeof(safe), s != NULL ? s : "",
				      s != NULL ? json_string_length(v) : 0);
			return ctrl_error("monitor: unknown event type \"%s\" "
				"(member-join, member-suspect, member-down, "
				"member-alive, member-leave, member-restart, "
				"member-reap, member-update, key, user)", safe);
		}
	}
	if (mask == 0)
		mask = (1u << CTRL_EVT_MAX) - 1;
	for (unsigned int k = 0; k < c->n_clients; k++)
		n += c->clients[k]->monitor && c->clients[k] != cl;
	if (!cl->monitor && n >= CTRL_MAX_MONITORS)
		return ctrl_error("monitor: %d monitors already connected",
				  CTRL_MAX_MONITORS);
	cl->monitor = true;
	cl->mon_types = mask;
	types = json_array();
	for (unsigned int t = 0; t < CTRL_EVT_MAX; t++)
		if (mask & (1u << t))
			json_array_append_new(types,
					      json_string(ctrl_evt_names[t]));
	v = ctrl_ok();
	json_object_set_new(v, "monitor", types);
	return v;
}

/* {"cmd":"event","name":N[,"payload":P]}: a user event to every node. */
json_t *
ctrl_cmd_event(struct ctrl *c, json_t *req)
{
	json_t *reply = NULL, *jp = json_object_get(req, "payload");
	size_t nlen = 0, plen = 0;
	const char *name = ctrl_req_str(req, "name", &nlen, &reply);
	const char *payload = "";
	char value[GSP_APP_VALUE_MAX + 16];
	unsigned int keys_max;
	size_t value_max;
	int n, ret;

	if (name == NULL)
		return reply;
	if (nlen == 0 || nlen >= GSP_APP_KEY_MAX || nlen != strlen(name))
		return ctrl_error("event: name must be 1..%d characters of "
				  "[A-Za-z0-9_.-]", GSP_APP_KEY_MAX - 1);
	for (size_t i = 0; i < nlen; i++)
		if (!gsp_name_char_ok(name[i]))
			return ctrl_error("event: name must be 1..%d "
				"characters of [A-Za-z0-9_.-]",
				GSP_APP_KEY_MAX - 1);
	if (jp != NULL) {
		payload = json_string_value(jp);
		if (payload == NULL)
			return ctrl_error("event: \"payload\" must be a string");
		plen = json_string_length(jp);
		bool ok = plen == strlen(payload);

		for (size_t i = 0; ok && i < plen; i++)
			ok = payload[i] >= 0x20 && payload[i] < 0x7f;
		if (!ok)
			return ctrl_error("event: payload must be printable "
					  "ASCII");
	}
	n = snprintf(value, sizeof(value), "%" PRIu32 " %" PRIu64 " %s%s%s",
		     c->user_seq + 1, (uint64_t)(ctrl_unix_ns() / NS_PER_S), name,
		     plen > 0 ? " " : "", payload);
	gsp_cfg_app_bounds(c->cfg, &keys_max, &value_max);
	if (n < 0 || (size_t)n > value_max)
		return ctrl_error("event: name and payload take %zu bytes; at "
			"most %d fit (docs/EVENTS.md)", nlen + plen,
			(int)value_max - (n - (int)(nlen + plen)));
	/* room in our app state: the core would refuse it after we replied */
	reply = ctrl_app_check(c, "event", GSP_APP_EVENT_KEY, (size_t)n);
	if (reply != NULL)
		return reply;
	ret = gsp_dp_submit_set_app(GSP_APP_EVENT_KEY, value);
	if (ret != 0)
		return ctrl_error("event: %s", ctrl_dp_strerror(ret));
	c->user_seq++;
	reply = ctrl_ok();
	json_object_set_new(reply, "seq", json_integer(c->user_seq));
	return reply;
}
