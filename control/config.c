/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gossipd configuration loader. inih does the INI tokenising; this file
 * feeds it lines through its own reader (to know the exact line number,
 * which this inih build does not pass to handlers), checks every key
 * against a table and validates values and cross-field constraints.
 * Parsing stops at the first error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "gsp_config.h"
#include "gsp_sec.h"
#include "gsp_log.h"
#include "gsp_safe_open.h"
#include "gsp_util.h"
#include "config_int.h"

#define GSP_CFG_UNITS "ns, us, ms, s, m, h or d"

static const char *const gsp_cfg_sections[] = {
	"cluster", "node", "gossip", "seeds", "app", "control", "dataplane",
	"log", "detector", "fault", "security", "limits", "events",
};

#define GSP_CFG_NSECTIONS \
	(sizeof(gsp_cfg_sections) / sizeof(gsp_cfg_sections[0]))

/* Error about the key on the current line: "file:line: [s] k: msg". */
static void __attribute__((format(printf, 4, 5)))
gsp_cfg_key_err(struct gsp_cfg_ctx *c, const char *section, const char *name,
		const char *fmt, ...)
{
	char key[128];
	char msg[GSP_CONFIG_ERR_MAX];
	char show[GSP_CFG_SHOW_MAX + 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(key, sizeof(key), "[%s] %s", section,
		 gsp_cfg_show(name, show, sizeof(show)));
	gsp_cfg_err(c, c->lineno, "%s: %s", key, msg);
}

/* inih's inline comment rule: ';' at the start or after whitespace. */
static const char *
gsp_cfg_find(const char *s, const char *chars)
{
	bool was_space = true;

	for (; *s != '\0'; s++) {
		if (strchr(chars, *s) != NULL)
			return s;
		if (*s == ';' && was_space)
			return NULL;
		was_space = isspace((unsigned char)*s) != 0;
	}
	return NULL;
}

static bool
gsp_cfg_section_known(const char *s, size_t len)
{
	for (size_t i = 0; i < GSP_CFG_NSECTIONS; i++)
		if (strlen(gsp_cfg_sections[i]) == len &&
		    memcmp(gsp_cfg_sections[i], s, len) == 0)
			return true;
	return false;
}

/*
 * Checks the line inih is about to see for what it would only flag as
 * "error on line N": missing ']', a line with no '=', an unknown section
 * (inih never calls the handler for a section without keys).
 */
static bool
gsp_cfg_precheck(struct gsp_cfg_ctx *c, const char *line)
{
	char show[GSP_CFG_SHOW_MAX + 4];
	const char *p = line;
	const char *end;

	if (c->lineno == 1 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == ';' || *p == '#')
		return true;
	if (*p == '[') {
		end = gsp_cfg_find(p + 1, "]");
		if (end == NULL) {
			gsp_cfg_err(c, c->lineno,
				    "syntax error: section header without ']'");
			return false;
		}
		if (!gsp_cfg_section_known(p + 1, end - p - 1)) {
			char name[GSP_CFG_SHOW_MAX + 1];
			size_t n = end - p - 1;

			if (n > GSP_CFG_SHOW_MAX)
				n = GSP_CFG_SHOW_MAX;
			memcpy(name, p + 1, n);
			name[n] = '\0';
			gsp_cfg_err(c, c->lineno, "unknown section [%s]",
				    gsp_cfg_show(name, show, sizeof(show)));
			return false;
		}
		return true;
	}
	end = gsp_cfg_find(p, "=:");
	if (end == NULL) {
		gsp_cfg_err(c, c->lineno,
			    "syntax error: expected \"key = value\" or \"[section]\", got \"%s\"",
			    gsp_cfg_show(p, show, sizeof(show)));
		return false;
	}
	if (*end == ':') {
		/* inih would split "key: value" or "a:b = c"; allow '=' only */
		gsp_cfg_err(c, c->lineno,
			    "syntax error: use '=' between key and value, got \"%s\"",
			    gsp_cfg_show(p, show, sizeof(show)));
		return false;
	}
	return true;
}

/*
 * inih reader: one whole line per call, leading blanks removed (so an
 * indented key is a key, never a multi-line continuation). Lines longer
 * than inih's buffer and NUL bytes stop parsing.
 */
static char *
gsp_cfg_reader(char *str, int num, void *stream)
{
	struct gsp_cfg_ctx *c = stream;
	bool any = false, lead = true;
	int len = 0;
	int ch;

	if (c->err_line != 0 || c->eof || num < 2)
		return NULL;
	c->lineno++;
	for (;;) {
		if (c->pos == c->len) {
			c->eof = true;
			if (!any) {
				c->lineno--;
				return NULL;
			}
			break;
		}
		ch = (unsigned char)c->text[c->pos++];
		any = true;
		if (ch == '\n')
			break;
		if (ch == '\0') {
			gsp_cfg_err(c, c->lineno, "NUL byte in line");
			return NULL;
		}
		if (lead && (ch == ' ' || ch == '\t'))
			continue;
		lead = false;
		if (len >= num - 1) {
			gsp_cfg_err(c, c->lineno,
				    "line too long (max %d bytes)", num - 1);
			return NULL;
		}
		str[len++] = (char)ch;
	}
	str[len] = '\0';
	if (!gsp_cfg_precheck(c, str))
		return NULL;
	return str;
}

static int
gsp_cfg_set_string(struct gsp_cfg_ctx *c, const struct gsp_cfg_key *k,
		   const char *value)
{
	char show[GSP_CFG_SHOW_MAX + 4];
	char *dst = (char *)c->cfg + k->off;
	size_t n = strlen(value);

	if (n >= k->size) {
		gsp_cfg_key_err(c, k->section, k->name,
				"too long (%zu bytes, max %zu)", n,
				k->size - 1);
		return -1;
	}
	switch (k->type) {
	case GSP_T_NAME:
		if (*gsp_cfg_check_name(value, k->size) != '\0') {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be 1..%zu characters of [A-Za-z0-9_.-], got \"%s\"",
					k->size - 1,
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		break;
	case GSP_T_PATH:
		if (n == 0) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must not be empty");
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)value[i];

			if (ch < 0x20 || ch == 0x7f) {
				gsp_cfg_key_err(c, k->section, k->name,
						"control character in path");
				return -1;
			}
		}
		break;
	case GSP_T_DNSNAME:
		if (!gsp_cfg_dns_name_ok(value)) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be a DNS name (labels of [A-Za-z0-9_-], 1..63 bytes each), got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		break;
	case GSP_T_DNSSERVER: {
		struct gsp_addr a;
		int rc = gsp_cfg_parse_endpoint(value, GSP_DNS_PORT, &a, NULL);

		if (rc == -2) {
			gsp_cfg_key_err(c, k->section, k->name,
					"port out of range 1..65535 in \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		if (rc != 0 || a.ip == 0) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be an IPv4 address with an optional :port, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		break;
	}
	default:
		return -1;
	}
	memcpy(dst, value, n + 1);
	return 0;
}

static int
gsp_cfg_set_seed(struct gsp_cfg_ctx *c, const struct gsp_cfg_key *k,
		 const char *value)
{
	char show[GSP_CFG_SHOW_MAX + 4];
	struct gsp_config *cfg = c->cfg;
	struct gsp_addr a;
	bool has_port = false;
	int rc;

	if (cfg->n_seeds >= GSP_SEEDS_MAX) {
		gsp_cfg_key_err(c, k->section, k->name,
				"too many seeds (max %u)", GSP_SEEDS_MAX);
		return -1;
	}
	/* the default port is filled in at the end: [node] port may follow */
	rc = gsp_cfg_parse_endpoint(value, 0, &a, &has_port);
	if (rc == -2) {
		gsp_cfg_key_err(c, k->section, k->name,
				"port out of range 1..65535 in \"%s\"",
				gsp_cfg_show(value, show, sizeof(show)));
		return -1;
	}
	if (rc != 0) {
		gsp_cfg_key_err(c, k->section, k->name,
				"must be an IPv4 address with an optional :port, got \"%s\"",
				gsp_cfg_show(value, show, sizeof(show)));
		return -1;
	}
	if (!gsp_cfg_ip_unicast(a.ip)) {
		gsp_cfg_key_err(c, k->section, k->name,
				"must be a unicast address, got \"%s\"",
				gsp_cfg_show(value, show, sizeof(show)));
		return -1;
	}
	c->seed_has_port[cfg->n_seeds] = has_port;
	c->seed_line[cfg->n_seeds] = c->lineno;
	cfg->seeds[cfg->n_seeds++] = a;
	return 0;
}

static int
gsp_cfg_set_app(struct gsp_cfg_ctx *c, const char *name, const char *value)
{
	char show[GSP_CFG_SHOW_MAX + 4];
	struct gsp_config *cfg = c->cfg;
	const char *why;
	size_t n;

	if (strncmp(name, GSP_APP_RESERVED_PREFIX,
		    strlen(GSP_APP_RESERVED_PREFIX)) == 0) {
		gsp_cfg_key_err(c, "app", name, "keys starting with \"%s\" "
				"are reserved for gossipd", GSP_APP_RESERVED_PREFIX);
		return -1;
	}
	why = gsp_cfg_check_name(name, GSP_APP_KEY_MAX);
	if (*why != '\0') {
		gsp_cfg_key_err(c, "app", name,
				"key must be 1..%d characters of [A-Za-z0-9_.-] (%s)",
				GSP_APP_KEY_MAX - 1, why);
		return -1;
	}
	for (unsigned int i = 0; i < cfg->n_app; i++) {
		if (strcmp(cfg->app_keys[i], name) == 0) {
			gsp_cfg_key_err(c, "app", name,
					"duplicate key (first set on line %u)",
					c->app_line[i]);
			return -1;
		}
	}
	if (cfg->n_app >= GSP_APP_KEYS_MAX) {
		gsp_cfg_key_err(c, "app", name, "too many keys (max %d)",
				GSP_APP_KEYS_MAX);
		return -1;
	}
	n = strlen(value);
	if (n >= GSP_APP_VALUE_MAX) {
		gsp_cfg_key_err(c, "app", name,
				"value too long (%zu bytes, max %d)", n,
				GSP_APP_VALUE_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)value[i];

		if (ch < 0x20 || ch >= 0x7f) {
			gsp_cfg_key_err(c, "app", name,
					"value must be printable ASCII, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
	}
	memcpy(cfg->app_keys[cfg->n_app], name, strlen(name) + 1);
	memcpy(cfg->app_values[cfg->n_app], value, n + 1);
	c->app_line[cfg->n_app] = c->lineno;
	cfg->n_app++;
	return 0;
}

static int
gsp_cfg_set_bool(struct gsp_cfg_ctx *c, const struct gsp_cfg_key *k,
		 const char *value)
{
	static const char *const on[] = { "on", "true", "yes", "1" };
	static const char *const off[] = { "off", "false", "no", "0" };
	char show[GSP_CFG_SHOW_MAX + 4];
	uint32_t *dst = (uint32_t *)((char *)c->cfg + k->off);

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		if (strcmp(value, on[i]) == 0) {
			*dst |= (uint32_t)k->min;
			return 0;
		}
		if (strcmp(value, off[i]) == 0) {
			*dst &= ~(uint32_t)k->min;
			return 0;
		}
	}
	gsp_cfg_key_err(c, k->section, k->name,
			"must be on or off, got \"%s\"",
			gsp_cfg_show(value, show, sizeof(show)));
	return -1;
}

/*
 * [fault] key = value is the spec token "key=value", so a value means and
 * is checked exactly as on `gossipctl fault set` (same parser, same
 * message after the "[fault]" prefix).
 */
static int
gsp_cfg_set_fault(struct gsp_cfg_ctx *c, const struct gsp_cfg_key *k,
		  const char *value)
{
	char show[GSP_CFG_SHOW_MAX + 4];
	char spec[GSP_CFG_SHOW_MAX + 16];
	char perr[GSP_CONFIG_ERR_MAX / 2];
	const char *p = value;
	size_t n;

	if (k->type == GSP_T_FAULT) {
		if (!gsp_cfg_one_token(value)) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be one value, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		/* gossipctl fault set takes delay=5 as 5 ms; a file does
		 * not guess */
		if (strcmp(value, "0") != 0 &&
		    (strcmp(k->name, "delay") == 0 ||
		     strcmp(k->name, "jitter") == 0 ||
		     strcmp(k->name, "reorder_by") == 0) &&
		    gsp_cfg_parse_duration(value, UINT64_MAX, &(uint64_t){ 0 })
		    == GSP_DUR_NO_UNIT) {
			gsp_cfg_key_err(c, k->section, k->name,
					"\"%s\" needs a unit: " GSP_CFG_UNITS
					" (e.g. %sms)",
					gsp_cfg_show(value, show, sizeof(show)),
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		snprintf(spec, sizeof(spec), "%s=%s", k->name, value);
		if (strlen(value) > GSP_CFG_SHOW_MAX ||
		    gsp_fault_parse(&c->cfg->fault, spec, perr,
				    sizeof(perr)) != 0) {
			if (strlen(value) > GSP_CFG_SHOW_MAX)
				snprintf(perr, sizeof(perr), "%s: too long",
					 k->name);
			gsp_cfg_err(c, c->lineno, "[%s] %s", k->section, perr);
			return -1;
		}
		return 0;
	}
	/* block = IP[:dir] IP[:dir] ...: one "block=" token each */
	for (unsigned int i = 0;; i++) {
		p += strspn(p, " \t,");
		if (*p == '\0') {
			if (i > 0)
				return 0;
			gsp_cfg_key_err(c, k->section, k->name,
					"must list one or more IP[:in|:out|:both]");
			return -1;
		}
		n = strcspn(p, " \t,");
		if (n > GSP_CFG_SHOW_MAX) {
			gsp_cfg_key_err(c, k->section, k->name,
					"\"%s\" is too long",
					gsp_cfg_show(p, show, sizeof(show)));
			return -1;
		}
		snprintf(spec, sizeof(spec), "block=%.*s", (int)n, p);
		if (gsp_fault_parse(&c->cfg->fault, spec, perr,
				    sizeof(perr)) != 0) {
			gsp_cfg_err(c, c->lineno, "[%s] %s", k->section, perr);
			return -1;
		}
		p += n;
	}
}

/*
 * A duration names its unit: "100ms", "1.5s", "5m", "1h". A bare number
 * would be a guess (ms? s?), so only "0" may go without one. Stored as ns
 * (GSP_T_DURATION) or as a whole number of the field's unit (GSP_T_DUR32).
 */
static int
gsp_cfg_set_duration(struct gsp_cfg_ctx *c, const struct gsp_cfg_key *k,
		     const char *value)
{
	char show[GSP_CFG_SHOW_MAX + 4], lo[24], hi[24];
	uint64_t unit = k->type == GSP_T_DUR32 ? k->unit : 1;
	uint64_t min_ns = k->min * unit, max_ns = k->max * unit, ns = 0;
	int rc;

	rc = strcmp(value, "0") == 0 ? 0 :
		gsp_cfg_parse_duration(value, max_ns, &ns);
	if (rc == GSP_DUR_NO_UNIT) {
		gsp_cfg_key_err(c, k->section, k->name,
				"\"%s\" needs a unit: " GSP_CFG_UNITS
				" (e.g. %sms, %ss)",
				gsp_cfg_show(value, show, sizeof(show)),
				gsp_cfg_show(value, lo, sizeof(lo)),
				gsp_cfg_show(value, hi, sizeof(hi)));
		return -1;
	}
	if (rc != 0 || ns < min_ns || ns > max_ns) {
		gsp_cfg_key_err(c, k->section, k->name,
				"must be a duration in %s..%s (a number and a unit: "
				GSP_CFG_UNITS "), got \"%s\"",
				gsp_cfg_show_ns(min_ns, lo, sizeof(lo)),
				gsp_cfg_show_ns(max_ns, hi, sizeof(hi)),
				gsp_cfg_show(value, show, sizeof(show)));
		return -1;
	}
	if (k->type == GSP_T_DURATION) {
		*(uint64_t *)((char *)c->cfg + k->off) = ns;
		return 0;
	}
	if (ns % unit != 0) {
		gsp_cfg_key_err(c, k->section, k->name,
				"\"%s\" is not a whole number of %s",
				gsp_cfg_show(value, show, sizeof(show)),
				unit == 1000ull ? "microseconds" :
				unit == 1000000ull ? "milliseconds" : "seconds");
		return -1;
	}
	*(uint32_t *)((char *)c->cfg + k->off) = (uint32_t)(ns / unit);
	return 0;
}

/*
 * An old key's unit is in its name (interval_ms = 100 is no guess): it
 * still works, with a warning naming the key that replaced it. Setting
 * both is an error: which one would win is not obvious.
 */
static int
gsp_cfg_check_renamed(struct gsp_cfg_ctx *c, size_t i, const char *value)
{
	const struct gsp_cfg_key *k = &gsp_cfg_keys[i];
	char show[GSP_CFG_SHOW_MAX + 4];

	for (size_t j = 0; j < gsp_cfg_nkeys; j++) {
		const struct gsp_cfg_key *o = &gsp_cfg_keys[j];

		if (j == i || c->key_line[j] == 0 ||
		    strcmp(o->section, k->section) != 0)
			continue;
		if ((k->renamed != NULL && strcmp(k->renamed, o->name) == 0) ||
		    (o->renamed != NULL && strcmp(o->renamed, k->name) == 0)) {
			gsp_cfg_key_err(c, k->section, k->name,
					"also set as %s on line %u: remove one",
					o->name, c->key_line[j]);
			return -1;
		}
	}
	if (k->renamed != NULL) {
		const char *u = strrchr(k->name, '_') + 1;

		gsp_log(LOG_WARNING, "%s:%u: [%s] %s is deprecated: write "
			"%s = %s%s (a number and its unit)", c->path, c->lineno,
			k->section, k->name, k->renamed,
			gsp_cfg_show(value, show, sizeof(show)), u);
	}
	return 0;
}

static int
gsp_cfg_set(struct gsp_cfg_ctx *c, const struct gsp_cfg_key *k,
	    const char *value)
{
	char show[GSP_CFG_SHOW_MAX + 4];
	void *dst = (char *)c->cfg + k->off;
	uint64_t u;
	double d;
	uint32_t ip;

	switch (k->type) {
	case GSP_T_U8:
	case GSP_T_U16:
	case GSP_T_U32:
		if (gsp_parse_u64(value, k->min, k->max, &u) != 0) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be an integer in %llu..%llu, got \"%s\"",
					(unsigned long long)k->min,
					(unsigned long long)k->max,
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		if (k->type == GSP_T_U8)
			*(uint8_t *)dst = (uint8_t)u;
		else if (k->type == GSP_T_U16)
			*(uint16_t *)dst = (uint16_t)u;
		else
			*(uint32_t *)dst = (uint32_t)u;
		return 0;
	case GSP_T_U64:
		if (gsp_cfg_parse_u64(value, &u) != 0) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be a 64-bit integer, decimal or 0x hex, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		*(uint64_t *)dst = u;
		return 0;
	case GSP_T_DOUBLE:
		if (gsp_parse_double(value, k->dmin, k->dmax, &d) != 0) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be a number in %g..%g, got \"%s\"",
					k->dmin, k->dmax,
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		*(double *)dst = d;
		return 0;
	case GSP_T_ADDR:
	case GSP_T_GATEWAY:
		if (gsp_cfg_parse_ip(value, &ip) != 0) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be an IPv4 address, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		if ((k->type == GSP_T_ADDR || ip != 0) &&
		    !gsp_cfg_ip_unicast(ip)) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be a unicast address, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		*(uint32_t *)dst = ip;
		return 0;
	case GSP_T_LEVEL: {
		int lvl = gsp_log_level_parse(value);

		if (lvl < 0) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be one of error, warning, notice, info, debug, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		*(int *)dst = lvl;
		return 0;
	}
	case GSP_T_SEED:
		return gsp_cfg_set_seed(c, k, value);
	case GSP_T_DETECT:
		return gsp_cfg_set_bool(c, k, value);
	case GSP_T_DURATION:
	case GSP_T_DUR32:
		return gsp_cfg_set_duration(c, k, value);
	case GSP_T_FAULT:
	case GSP_T_FAULT_BLOCK:
		return gsp_cfg_set_fault(c, k, value);
	case GSP_T_SECMODE:
		if (strcmp(value, "authenticated") != 0 &&
		    strcmp(value, "plaintext") != 0) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be authenticated or plaintext, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		*(bool *)dst = strcmp(value, "plaintext") == 0;
		return 0;
	case GSP_T_CIPHER:
		if (gsp_cipher_parse(value) == 0) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be aes-256-gcm or chacha20-poly1305, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		*(uint32_t *)dst = gsp_cipher_parse(value);
		return 0;
	case GSP_T_ONSTOP:
		if (strcmp(value, "leave") != 0 && strcmp(value, "exit") != 0) {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be leave or exit, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		*(uint8_t *)dst = strcmp(value, "exit") == 0 ?
			GSP_ON_STOP_EXIT : GSP_ON_STOP_LEAVE;
		return 0;
	case GSP_T_RXINTR:
		if (strcmp(value, "auto") == 0)
			*(uint8_t *)dst = GSP_RX_INTR_AUTO;
		else if (strcmp(value, "on") == 0)
			*(uint8_t *)dst = GSP_RX_INTR_ON;
		else if (strcmp(value, "off") == 0)
			*(uint8_t *)dst = GSP_RX_INTR_OFF;
		else {
			gsp_cfg_key_err(c, k->section, k->name,
					"must be auto, on or off, got \"%s\"",
					gsp_cfg_show(value, show, sizeof(show)));
			return -1;
		}
		return 0;
	default:
		return gsp_cfg_set_string(c, k, value);
	}
}

static int
gsp_cfg_handler(void *user, const char *section, const char *name,
		const char *value)
{
	struct gsp_cfg_ctx *c = user;
	char show[GSP_CFG_SHOW_MAX + 4];
	size_t i;

	if (c->err_line != 0)
		return 0;
	if (section[0] == '\0') {
		gsp_cfg_err(c, c->lineno,
			    "key \"%s\" outside any section",
			    gsp_cfg_show(name, show, sizeof(show)));
		return 0;
	}
	if (!gsp_cfg_section_known(section, strlen(section))) {
		/* the reader already rejects these; kept for safety */
		gsp_cfg_err(c, c->lineno, "unknown section [%s]",
			    gsp_cfg_show(section, show, sizeof(show)));
		return 0;
	}
	if (strcmp(section, "app") == 0)
		return gsp_cfg_set_app(c, name, value) == 0;

	for (i = 0; i < gsp_cfg_nkeys; i++)
		if (strcmp(gsp_cfg_keys[i].section, section) == 0 &&
		    strcmp(gsp_cfg_keys[i].name, name) == 0)
			break;
	if (i == gsp_cfg_nkeys) {
		gsp_cfg_key_err(c, section, name, "unknown key");
		return 0;
	}
	if (c->key_line[i] != 0 && gsp_cfg_keys[i].type != GSP_T_SEED &&
	    gsp_cfg_keys[i].type != GSP_T_FAULT_BLOCK) {
		gsp_cfg_key_err(c, section, name,
				"duplicate key (first set on line %u)",
				c->key_line[i]);
		return 0;
	}
	if (gsp_cfg_check_renamed(c, i, value) != 0 ||
	    gsp_cfg_set(c, &gsp_cfg_keys[i], value) != 0)
		return 0;
	if (c->key_line[i] == 0)
		c->key_line[i] = c->lineno;
	return 1;
}

void
gsp_config_defaults(struct gsp_config *cfg)
{
	if (cfg == NULL)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->node_id = 0;
	cfg->addr.port = GSP_DEFAULT_PORT;
	cfg->prefix_len = 24;
	cfg->gateway = 0;
	cfg->mtu = 1500;
	cfg->on_stop = GSP_ON_STOP_LEAVE;
	cfg->interval_ms = GSP_DEF(INTERVAL_MS);
	cfg->fanout = GSP_DEF(FANOUT);
	cfg->phi_suspect = GSP_DEF(PHI_SUSPECT);
	cfg->phi_convict = GSP_DEF(PHI_CONVICT);
	cfg->forget_s = GSP_DEF(FORGET_S);
	cfg->leave_rounds = GSP_DEF(LEAVE_ROUNDS);
	cfg->max_members = GSP_DEF(MAX_MEMBERS);
	cfg->dns_refresh_s = 30;
	cfg->status_interval_ms = 100;
	cfg->event_handler_timeout_ms = 30000;
	cfg->event_handler_queue = 1024;
	cfg->port_id = 0;
	cfg->burst = 32;
	cfg->mbufs = 4095;
	cfg->rx_descriptors = GSP_RX_DESC_DEFAULT;
	cfg->tx_descriptors = GSP_TX_DESC_DEFAULT;
	cfg->idle_spin = 64;
	cfg->idle_pause = 256;
	cfg->idle_spin_us = 20;
	cfg->idle_sleep_us = GSP_IDLE_SLEEP_AUTO;
	cfg->rx_interrupts = GSP_RX_INTR_AUTO;
	cfg->arp_timeout_s = 300;
	cfg->rng_seed = 0;
	cfg->log_level = LOG_INFO;
	cfg->detector = GSP_DETECT_DEFAULT;
	cfg->probe_interval_ns = GSP_DEF(PROBE_INTERVAL_NS);
	cfg->probe_timeout_ns = GSP_DEF(PROBE_TIMEOUT_NS);
	cfg->max_clock_skew_ns = GSP_DEF(CLOCK_SKEW_NS);
	cfg->wire_version = GSP_DEF(WIRE_VERSION);
	cfg->indirect_probes = GSP_DEF(INDIRECT_PROBES);
	cfg->suspicion_mult = GSP_DEF(SUSPICION_MULT);
	cfg->suspicion_max_mult = GSP_DEF(SUSPICION_MAX_MULT);
	cfg->awareness_max = GSP_DEF(AWARENESS_MAX);
	cfg->cipher = GSP_CIPHER_AES256GCM;
	/* cfg->fault: all zero, no fault */
	/* socket_path and status_path are derived once names are known */
}

int
gsp_config_load(const char *path, struct gsp_config *cfg, char *err,
		size_t errlen)
{
	struct gsp_cfg_ctx c;
	char *text;
	int ret;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&c, 0, sizeof(c));
	c.path = path != NULL ? path : "(null)";
	c.err = err;
	c.errlen = errlen;
	if (path == NULL || cfg == NULL) {
		gsp_cfg_err(&c, 0, "cannot open: %s", strerror(EINVAL));
		return -1;
	}
	gsp_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	c.cfg = cfg;

	/* never blocks: a FIFO or a device here is "not a regular file" */
	if (gsp_file_read(path, 0, GSP_CONFIG_SIZE_MAX, &text, &c.len, NULL,
			  err, errlen) != 0)
		return -1;
	c.text = text;
	ret = ini_parse_stream(gsp_cfg_reader, &c, gsp_cfg_handler, &c);
	free(text);
	c.text = NULL;

	/* inih's own error (a line we did not pre-check) came first */
	if (ret > 0 && (c.err_line == 0 || (unsigned int)ret < c.err_line)) {
		c.err_line = 0;
		gsp_cfg_err(&c, (unsigned int)ret, "syntax error");
		return -1;
	}
	if (ret == -2 && c.err_line == 0) {
		gsp_cfg_err(&c, 0, "out of memory");
		return -1;
	}
	if (c.err_line != 0)
		return -1;
	return gsp_cfg_finish(&c) == 0 ? 0 : -1;
}
