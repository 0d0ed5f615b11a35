/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config's value parsers and printers: integers, addresses, names,
 * durations. Plain functions of their arguments, no parser state.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_config.h"
#include "gsp_log.h"
#include "gsp_util.h"
#include "config_int.h"

/* Copies at most GSP_CFG_SHOW_MAX bytes of s, non-printables as '?'. */
const char *
gsp_cfg_show(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 4 < len && i < GSP_CFG_SHOW_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s[i] != '\0' && i + 4 <= len) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

int
gsp_cfg_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	const char *digits = s;
	char *end;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		digits = s + 2;
		if (!isxdigit((unsigned char)*digits))
			return -1;
	} else if (!isdigit((unsigned char)*digits)) {
		/* strtoull would take "-1", " 1" and "+1" */
		return -1;
	}
	errno = 0;
	v = strtoull(digits, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
gsp_cfg_parse_ip(const char *s, uint32_t *out)
{
	struct in_addr in;

	/* inet_pton takes exactly a.b.c.d, no octal or short forms */
	if (inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*out = ntohl(in.s_addr);
	return 0;
}

/* 0, -1 bad address, -2 bad port. */
int
gsp_cfg_parse_endpoint(const char *s, uint16_t default_port,
		       struct gsp_addr *out, bool *has_port)
{
	char ip[INET_ADDRSTRLEN];
	const char *colon;
	uint64_t port = default_port;
	size_t n;

	colon = strchr(s, ':');
	n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	if (n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (gsp_cfg_parse_ip(ip, &out->ip) != 0)
		return -1;
	if (colon != NULL &&
	    gsp_parse_u64(colon + 1, 1, 65535, &port) != 0)
		return -2;
	out->port = (uint16_t)port;
	if (has_port != NULL)
		*has_port = colon != NULL;
	return 0;
}

int
gsp_parse_addr(const char *s, uint16_t default_port, struct gsp_addr *out)
{
	struct gsp_addr a;

	if (s == NULL || out == NULL)
		return -1;
	if (gsp_cfg_parse_endpoint(s, default_port, &a, NULL) != 0)
		return -1;
	*out = a;
	return 0;
}

/* "a.b.c.d:port", or "a.b.c.d" when port is 0. */
void
gsp_format_addr(const struct gsp_addr *a, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
	if (a == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	if (a->port != 0)
		snprintf(buf, len, "%u.%u.%u.%u:%u", a->ip >> 24,
			 (a->ip >> 16) & 0xff, (a->ip >> 8) & 0xff, a->ip & 0xff,
			 a->port);
	else
		snprintf(buf, len, "%u.%u.%u.%u", a->ip >> 24,
			 (a->ip >> 16) & 0xff, (a->ip >> 8) & 0xff,
			 a->ip & 0xff);
}

/* Unicast: not 0.0.0.0, not multicast or class E, not broadcast. */
bool
gsp_cfg_ip_unicast(uint32_t ip)
{
	return ip != 0 && (ip >> 28) < 0xe;
}

/* "" when ok, else why not. */
const char *
gsp_cfg_check_name(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == 0)
		return "must not be empty";
	if (n >= size)
		return "too long";
	for (size_t i = 0; i < n; i++)
		if (!gsp_name_char_ok(s[i]))
			return "bad character";
	return "";
}

/* DNS name: labels of [A-Za-z0-9_-], 1..63 bytes, 253 bytes in all. */
bool
gsp_cfg_dns_name_ok(const char *s)
{
	size_t n = strnlen(s, 254);
	size_t label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '.') {
			/* a trailing dot (rooted name) is fine */
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)ch) && ch != '_' && ch != '-')
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

/* "5ms", "250us", "10s", "1h": exact, in the largest unit that is. */
const char *
gsp_cfg_show_ns(uint64_t ns, char *buf, size_t len)
{
	static const struct { const char *sfx; uint64_t ns; } units[] = {
		{ "d", 86400000000000ull }, { "h", 3600000000000ull },
		{ "m", 60000000000ull }, { "s", 1000000000ull },
		{ "ms", 1000000ull }, { "us", 1000ull },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ns != 0 && ns % units[i].ns == 0) {
			snprintf(buf, len, "%llu%s",
				 (unsigned long long)(ns / units[i].ns),
				 units[i].sfx);
			return buf;
		}
	snprintf(buf, len, ns == 0 ? "0s" : "%lluns", (unsigned long long)ns);
	return buf;
}

/* Separators would let one value smuggle in more fault tokens. */
bool
gsp_cfg_one_token(const char *v)
{
	return strpbrk(v, " \t,") == NULL;
}

/* One duration syntax in every file and command (gsp_duration_parse),
 * but a file's value always names its unit: GSP_DUR_* on error. */
int
gsp_cfg_parse_duration(const char *v, uint64_t max_ns, uint64_t *ns)
{
	if (!gsp_cfg_one_token(v) || strlen(v) > GSP_CFG_SHOW_MAX)
		return GSP_DUR_BAD;
	return gsp_duration_parse(v, 0, max_ns, ns);
}
