/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_fault.h"
#include "gsp_util.h"

#define GSP_FAULT_TOKEN_MAX 64
#define GSP_FAULT_TOKENS_MAX 128	/* bound on a spec's length in tokens */

static const char *const gsp_fault_ctr_names[GSP_FAULT_C_MAX] = {
#define GSP_FAULT_CTR_NAME(e, name, help) [GSP_FAULT_C_##e] = #name,
	GSP_FAULT_CTRS(GSP_FAULT_CTR_NAME)
#undef GSP_FAULT_CTR_NAME
};

const char *
gsp_fault_ctr_name(unsigned int c)
{
	return c < GSP_FAULT_C_MAX ? gsp_fault_ctr_names[c] : "unknown";
}

bool
gsp_fault_active(const struct gsp_fault_cfg *f)
{
	return f->drop > 0 || f->dup > 0 || f->n_block != 0 ||
		gsp_fault_delays(f);
}

bool
gsp_fault_delays(const struct gsp_fault_cfg *f)
{
	return f->delay_ns != 0 || f->jitter_ns != 0 || f->reorder > 0;
}

/* Uniform in [0, 1). */
static double
gsp_fault_unit(uint64_t *rng)
{
	return (double)(gsp_rand(rng) >> 11) * 0x1.0p-53;
}

static uint8_t
gsp_fault_blocked(const struct gsp_fault_cfg *f, uint32_t ip)
{
	for (uint32_t i = 0; i < f->n_block && i < GSP_FAULT_BLOCK_MAX; i++)
		if (f->block[i].ip == ip)
			return f->block[i].dir;
	return 0;
}

static uint64_t
gsp_fault_delay(const struct gsp_fault_cfg *f, uint64_t *rng, uint64_t *ctr)
{
	uint64_t d = f->delay_ns;

	if (f->jitter_ns != 0)
		d += gsp_rand(rng) % (f->jitter_ns + 1);
	if (f->reorder > 0 && gsp_fault_unit(rng) < f->reorder) {
		/* held back long enough for later packets to overtake it */
		d += f->reorder_ns != 0 ? f->reorder_ns :
			1000000 + f->delay_ns + f->jitter_ns;
		ctr[GSP_FAULT_C_REORDERED]++;
	}
	if (d != 0)
		ctr[GSP_FAULT_C_DELAYED]++;
	return d;
}

unsigned int
gsp_fault_out(const struct gsp_fault_cfg *f, uint32_t dst_ip, uint64_t *rng,
	      uint64_t delay_ns[2], uint64_t *ctr)
{
	unsigned int copies = 1;

	if (gsp_fault_blocked(f, dst_ip) & GSP_FAULT_OUT) {
		ctr[GSP_FAULT_C_BLOCKED_OUT]++;
		return 0;
	}
	if (f->drop > 0 && gsp_fault_unit(rng) < f->drop) {
		ctr[GSP_FAULT_C_DROPPED]++;
		return 0;
	}
	if (f->dup > 0 && gsp_fault_unit(rng) < f->dup) {
		ctr[GSP_FAULT_C_DUPLICATED]++;
		copies = 2;
	}
	for (unsigned int i = 0; i < copies; i++)
		delay_ns[i] = gsp_fault_delays(f) ?
			gsp_fault_delay(f, rng, ctr) : 0;
	return copies;
}

bool
gsp_fault_in(const struct gsp_fault_cfg *f, uint32_t src_ip, uint64_t *ctr)
{
	if (f->n_block == 0 || !(gsp_fault_blocked(f, src_ip) & GSP_FAULT_IN))
		return false;
	ctr[GSP_FAULT_C_BLOCKED_IN]++;
	return true;
}

int
gsp_duration_parse(const char *s, uint64_t bare_mul, uint64_t max_ns,
		   uint64_t *ns)
{
	/* two-letter units first: "5ms" must not read as 5m + "s" */
	static const struct { const char *sfx; uint64_t mul; } units[] = {
		{ "ns", 1ull }, { "us", 1000ull }, { "ms", 1000000ull },
		{ "s", 1000000000ull }, { "m", 60000000000ull },
		{ "h", 3600000000000ull }, { "d", 86400000000000ull },
	};
	char num[32];
	size_t len, dots = 0;
	uint64_t mul = 0;
	double v, t;

	if (s == NULL || ns == NULL)
		return GSP_DUR_BAD;
	len = strlen(s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t sl = strlen(units[i].sfx);

		if (len > sl && strcmp(s + len - sl, units[i].sfx) == 0) {
			len -= sl;
			mul = units[i].mul;
			break;
		}
	}
	if (len == 0 || len >= sizeof(num))
		return GSP_DUR_BAD;
	/* digits and one dot: strtod alone would take 1e3, 0x10, inf */
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] < '0' || s[i] > '9')
			return GSP_DUR_BAD;
	}
	if (dots > 1 || (dots == 1 && len == 1))
		return GSP_DUR_BAD;
	if (mul == 0) {
		if (bare_mul == 0)
			return GSP_DUR_NO_UNIT;
		mul = bare_mul;
	}
	memcpy(num, s, len);
	num[len] = '\0';
	if (gsp_parse_double(num, 0, 1e18, &v) < 0)
		return GSP_DUR_BAD;
	t = v * (double)mul;
	if (t > (double)max_ns)
		return GSP_DUR_RANGE;
	*ns = (uint64_t)(t + 0.5);
	if (*ns > max_ns)	/* rounding at the very top */
		*ns = max_ns;
	return 0;
}

/* The fault spec's durations: a bare number is ms (gossipctl fault set
 * has always taken one); at most 10 s. */
static int
gsp_fault_parse_duration(const char *s, uint64_t *ns)
{
	return gsp_duration_parse(s, 1000000ull, GSP_FAULT_DELAY_MAX_NS, ns);
}

static int
gsp_fault_parse_block(struct gsp_fault_cfg *f, const char *v, bool add)
{
	char ip_s[INET_ADDRSTRLEN];
	const char *colon = strchr(v, ':');
	size_t len = colon != NULL ? (size_t)(colon - v) : strlen(v);
	uint8_t dir = GSP_FAULT_BOTH;
	struct in_addr a;
	uint32_t ip, i;

	if (!add && strcmp(v, "all") == 0) {
		f->n_block = 0;
		return 0;
	}
	if (len == 0 || len >= sizeof(ip_s))
		return -1;
	memcpy(ip_s, v, len);
	ip_s[len] = '\0';
	if (inet_pton(AF_INET, ip_s, &a) != 1)
		return -1;
	if (colon != NULL) {
		if (!add)
			return -1;
		if (strcmp(colon + 1, "in") == 0)
			dir = GSP_FAULT_IN;
		else if (strcmp(colon + 1, "out") == 0)
			dir = GSP_FAULT_OUT;
		else if (strcmp(colon + 1, "both") != 0)
			return -1;
	}
	ip = ntohl(a.s_addr);
	for (i = 0; i < f->n_block && f->block[i].ip != ip; i++)
		;
	if (!add) {
		if (i < f->n_block)
			f->block[i] = f->block[--f->n_block];
		return 0;
	}
	if (i == f->n_block) {
		if (f->n_block == GSP_FAULT_BLOCK_MAX)
			return -2;
		f->n_block++;
	}
	f->block[i] = (struct gsp_fault_block){ ip, dir };
	return 0;
}

static int
gsp_fault_apply(struct gsp_fault_cfg *f, const char *tok, char *err,
		size_t err_len)
{
	const char *eq = strchr(tok, '=');
	char key[16];
	const char *v;
	size_t klen;
	int rc;

	/* "none" is what gsp_fault_format() writes for no faults */
	if (strcmp(tok, "clear") == 0 || strcmp(tok, "none") == 0) {
		memset(f, 0, sizeof(*f));
		return 0;
	}
	if (eq == NULL || eq == tok || (klen = (size_t)(eq - tok)) >= sizeof(key)) {
		snprintf(err, err_len, "'%s': expected key=value or 'clear'",
			 tok);
		return -EINVAL;
	}
	memcpy(key, tok, klen);
	key[klen] = '\0';
	v = eq + 1;
	if (strcmp(key, "drop") == 0 || strcmp(key, "dup") == 0 ||
	    strcmp(key, "reorder") == 0) {
		double p;

		if (gsp_parse_double(v, 0, 1, &p) < 0) {
			snprintf(err, err_len,
				 "%s: '%s' is not a probability in [0, 1]",
				 key, v);
			return -EINVAL;
		}
		*(key[0] == 'd' ? (key[1] == 'r' ? &f->drop : &f->dup) :
		  &f->reorder) = p;
		return 0;
	}
	if (strcmp(key, "delay") == 0 || strcmp(key, "jitter") == 0 ||
	    strcmp(key, "reorder_by") == 0) {
		uint64_t ns;

		if (gsp_fault_parse_duration(v, &ns) < 0) {
			snprintf(err, err_len,
				 "%s: '%s' is not a duration of at most 10s "
				 "(e.g. 250us, 5ms, 1s)", key, v);
			return -EINVAL;
		}
		*(key[0] == 'd' ? &f->delay_ns : key[0] == 'j' ?
		  &f->jitter_ns : &f->reorder_ns) = ns;
		return 0;
	}
	if (strcmp(key, "block") == 0 || strcmp(key, "unblock") == 0) {
		rc = gsp_fault_parse_block(f, v, key[0] == 'b');
		if (rc == -2) {
			snprintf(err, err_len, "block: at most %d peers",
				 GSP_FAULT_BLOCK_MAX);
			return -ENOSPC;
		}
		if (rc < 0) {
			snprintf(err, err_len, "%s: '%s' is not %s", key, v,
				 key[0] == 'b' ? "IPv4[:in|:out|:both]" :
				 "an IPv4 address or 'all'");
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, err_len, "unknown fault '%s' (drop, dup, reorder, delay, "
		 "jitter, reorder_by, block, unblock, clear)", key);
	return -EINVAL;
}

int
gsp_fault_parse(struct gsp_fault_cfg *f, const char *spec, char *err,
		size_t err_len)
{
	struct gsp_fault_cfg next = *f;
	const char *p = spec;
	unsigned int n = 0;

	if (spec == NULL) {
		snprintf(err, err_len, "no fault spec");
		return -EINVAL;
	}
	for (;;) {
		char tok[GSP_FAULT_TOKEN_MAX];
		size_t len;
		int rc;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, " \t,");
		if (len >= sizeof(tok)) {
			snprintf(err, err_len, "'%.20s...': token longer than "
				 "%d bytes", p, GSP_FAULT_TOKEN_MAX - 1);
			return -EINVAL;
		}
		if (++n > GSP_FAULT_TOKENS_MAX) {
			snprintf(err, err_len, "fault spec too long (more than "
				 "%d tokens)", GSP_FAULT_TOKENS_MAX);
			return -EINVAL;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		p += len;
		rc = gsp_fault_apply(&next, tok, err, err_len);
		if (rc < 0)
			return rc;
	}
	*f = next;
	return 0;
}

/* Exact: the parser takes fractions, so "1.5us" must not come back as
 * "1us". */
static int
gsp_fault_put_ns(char *buf, size_t len, const char *key, uint64_t ns)
{
	if (ns % 1000000 == 0)
		return snprintf(buf, len, " %s=%llums", key,
				(unsigned long long)(ns / 1000000));
	if (ns % 1000 == 0)
		return snprintf(buf, len, " %s=%lluus", key,
				(unsigned long long)(ns / 1000));
	return snprintf(buf, len, " %s=%llu.%03lluus", key,
			(unsigned long long)(ns / 1000),
			(unsigned long long)(ns % 1000));
}

/* The shortest text that parses back to the same double: "%g" alone
 * would turn 0.1234567 into 0.123457. */
static int
gsp_fault_put_p(char *buf, size_t len, const char *key, double p)
{
	char num[32];

	for (int prec = 6; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, p);
		if (strtod(num, NULL) == p)
			break;
	}
	return snprintf(buf, len, " %s=%s", key, num);
}

int
gsp_fault_format(const struct gsp_fault_cfg *f, char *buf, size_t len)
{
	static const char *const dirs[] = { "", ":out", ":in", "" };
	size_t off = 0;
	int n = 0;

#define GSP_PUT(expr) do { \
		n = (expr); \
		if (n < 0 || (size_t)n >= len - off) \
			return -ENOSPC; \
		off += (size_t)n; \
	} while (0)
	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (f->drop > 0)
		GSP_PUT(gsp_fault_put_p(buf + off, len - off, "drop",
					f->drop));
	if (f->dup > 0)
		GSP_PUT(gsp_fault_put_p(buf + off, len - off, "dup", f->dup));
	if (f->reorder > 0)
		GSP_PUT(gsp_fault_put_p(buf + off, len - off, "reorder",
					f->reorder));
	if (f->delay_ns != 0)
		GSP_PUT(gsp_fault_put_ns(buf + off, len - off, "delay",
					 f->delay_ns));
	if (f->jitter_ns != 0)
		GSP_PUT(gsp_fault_put_ns(buf + off, len - off, "jitter",
					 f->jitter_ns));
	if (f->reorder_ns != 0)
		GSP_PUT(gsp_fault_put_ns(buf + off, len - off, "reorder_by",
					 f->reorder_ns));
	for (uint32_t i = 0; i < f->n_block && i < GSP_FAULT_BLOCK_MAX; i++) {
		struct in_addr a = { .s_addr = htonl(f->block[i].ip) };
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		GSP_PUT(snprintf(buf + off, len - off, " block=%s%s", ip,
				 dirs[f->block[i].dir & 3]));
	}
#undef GSP_PUT
	if (off == 0)
		return snprintf(buf, len, "none") < (int)len ? 0 : -ENOSPC;
	memmove(buf, buf + 1, off);	/* drop the leading space */
	return 0;
}
