/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gsp_json.h"

/* the mark of a value above INT64_MAX inside a tree: NUL "u64:" digits */
#define GSP_JSON_TAG "\0u64:"
#define GSP_JSON_TAG_LEN 5
/* the same string as jansson writes it, opening quote included */
#define GSP_JSON_TAG_TEXT "\"\\u0000u64:"
#define GSP_JSON_TAG_TEXT_LEN 11
#define GSP_JSON_U64_DIGITS 20		/* 18446744073709551615 */

json_t *
gsp_json_u64(uint64_t v)
{
	char s[GSP_JSON_TAG_LEN + GSP_JSON_U64_DIGITS + 1];
	int n;

	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	memcpy(s, GSP_JSON_TAG, GSP_JSON_TAG_LEN);
	n = snprintf(s + GSP_JSON_TAG_LEN, sizeof(s) - GSP_JSON_TAG_LEN,
		     "%" PRIu64, v);
	return json_stringn(s, GSP_JSON_TAG_LEN + (size_t)n);
}

static bool
gsp_json_all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Exactly n decimal digits (1..20, no sign, no leading zero) above
 * INT64_MAX and at most UINT64_MAX. */
static bool
gsp_json_big_digits(const char *s, size_t n, uint64_t *v)
{
	char buf[GSP_JSON_U64_DIGITS + 1];
	unsigned long long x;
	char *end;

	if (n < 19 || n > GSP_JSON_U64_DIGITS || s[0] == '0' ||
	    !gsp_json_all_digits(s, n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	x = strtoull(buf, &end, 10);
	if (errno != 0 || *end != '\0' || x <= (unsigned long long)INT64_MAX)
		return false;
	*v = (uint64_t)x;
	return true;
}

bool
gsp_json_u64_value(const json_t *j, uint64_t *v)
{
	const char *s;
	size_t n;

	if (json_is_integer(j)) {
		if (json_integer_value(j) < 0)
			return false;
		*v = (uint64_t)json_integer_value(j);
		return true;
	}
	if (!json_is_string(j))
		return false;
	s = json_string_value(j);
	n = json_string_length(j);
	return n > GSP_JSON_TAG_LEN &&
		memcmp(s, GSP_JSON_TAG, GSP_JSON_TAG_LEN) == 0 &&
		gsp_json_big_digits(s + GSP_JSON_TAG_LEN, n - GSP_JSON_TAG_LEN,
				    v);
}

/*
 * Rewrites jansson's output in place: each string token that is exactly a
 * mark ("\u0000u64:DIGITS") in a value position becomes DIGITS. Tokens
 * are found by JSON's own rules (a string ends at the first unescaped
 * quote), so text inside other strings is never touched; the result only
 * shrinks.
 */
static void
gsp_json_unmark(char *s)
{
	size_t i = 0, o = 0, j, k, d;

	while (s[i] != '\0') {
		if (s[i] != '"') {
			s[o++] = s[i++];
			continue;
		}
		for (j = i + 1; s[j] != '\0' && s[j] != '"';)
			j += (s[j] == '\\' && s[j + 1] != '\0') ? 2 : 1;
		if (s[j] == '\0') {		/* cannot happen: copy as is */
			memmove(s + o, s + i, j - i);
			o += j - i;
			break;
		}
		/* s[i..j] is one string token; a key is followed by ':' */
		for (k = j + 1; s[k] == ' ' || s[k] == '\n' || s[k] == '\t';)
			k++;
		d = j - i - GSP_JSON_TAG_TEXT_LEN;
		if (j - i > GSP_JSON_TAG_TEXT_LEN && s[k] != ':' &&
		    memcmp(s + i, GSP_JSON_TAG_TEXT,
			   GSP_JSON_TAG_TEXT_LEN) == 0 &&
		    d <= GSP_JSON_U64_DIGITS &&
		    gsp_json_all_digits(s + i + GSP_JSON_TAG_TEXT_LEN, d)) {
			memmove(s + o, s + i + GSP_JSON_TAG_TEXT_LEN, d);
			o += d;
		} else {
			memmove(s + o, s + i, j + 1 - i);
			o += j + 1 - i;
		}
		i = j + 1;
	}
	s[o] = '\0';
}

char *
gsp_json_dumps(const json_t *root, size_t flags)
{
	char *s = json_dumps(root, flags);

	if (s != NULL)
		gsp_json_unmark(s);
	return s;
}

int
gsp_json_dumpf(const json_t *root, FILE *f, size_t flags)
{
	char *s = gsp_json_dumps(root, flags);
	int ret = -1;

	if (s != NULL && fputs(s, f) >= 0)
		ret = 0;
	free(s);
	return ret;
}

static bool
gsp_json_token_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		(c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
}

/* As jansson reports: line and column (1-based) of buf[pos]. */
static void
gsp_json_error(json_error_t *err, const char *buf, size_t pos,
	       const char *text)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	err->line = 1;
	err->column = 1;
	for (size_t i = 0; i < pos; i++) {
		err->column++;
		if (buf[i] == '\n') {
			err->line++;
			err->column = 1;
		}
	}
	err->position = (int)pos;
	snprintf(err->source, sizeof(err->source), "<buffer>");
	snprintf(err->text, sizeof(err->text) - 1, "%s", text);
	err->text[sizeof(err->text) - 1] = (char)json_error_invalid_syntax;
}

/*
 * One pass over the text outside strings. Counts the integer tokens above
 * INT64_MAX (copying each as a mark into out when out is not NULL) and
 * reports a \u0000 escape inside a string at *nul (SIZE_MAX: none).
 */
static size_t
gsp_json_scan(const char *buf, size_t len, char *out, size_t *out_len,
	      size_t *nul)
{
	size_t i = 0, o = 0, j, big = 0;
	uint64_t v;

	*nul = SIZE_MAX;
	while (i < len) {
		if (buf[i] == '"') {
			for (j = i + 1; j < len && buf[j] != '"';) {
				if (buf[j] == '\\' && j + 5 < len &&
				    buf[j + 1] == 'u' &&
				    memcmp(buf + j + 2, "0000", 4) == 0 &&
				    *nul == SIZE_MAX)
					*nul = j;
				j += (buf[j] == '\\' && j + 1 < len) ? 2 : 1;
			}
			j = j < len ? j + 1 : len;
		} else if (gsp_json_token_char(buf[i])) {
			for (j = i; j < len && gsp_json_token_char(buf[j]);)
				j++;
			if (gsp_json_big_digits(buf + i, j - i, &v)) {
				big++;
				if (out != NULL) {
					memcpy(out + o, GSP_JSON_TAG_TEXT,
					       GSP_JSON_TAG_TEXT_LEN);
					o += GSP_JSON_TAG_TEXT_LEN;
					memcpy(out + o, buf + i, j - i);
					o += j - i;
					out[o++] = '"';
				}
				i = j;
				continue;
			}
		} else {
			j = i + 1;
		}
		if (out != NULL) {
			memcpy(out + o, buf + i, j - i);
			o += j - i;
		}
		i = j;
	}
	if (out_len != NULL)
		*out_len = o;
	return big;
}

json_t *
gsp_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err)
{
	size_t big, nul, out_len;
	json_t *j;
	char *out;

	big = gsp_json_scan(buf, len, NULL, NULL, &nul);
	if (big == 0)
		return json_loadb(buf, len, flags, err);
	/* the marks need NUL in strings: refuse one the text brings itself */
	if (nul != SIZE_MAX && !(flags & JSON_ALLOW_NUL)) {
		gsp_json_error(err, buf, nul,
			       "\\u0000 is not allowed in a string");
		return NULL;
	}
	/* each mark adds its quotes and tag to the digits */
	if (big > (SIZE_MAX - len) / (GSP_JSON_TAG_TEXT_LEN + 1)) {
		gsp_json_error(err, buf, 0, "out of memory");
		return NULL;
	}
	out = malloc(len + big * (GSP_JSON_TAG_TEXT_LEN + 1));
	if (out == NULL) {
		gsp_json_error(err, buf, 0, "out of memory");
		return NULL;
	}
	gsp_json_scan(buf, len, out, &out_len, &nul);
	j = json_loadb(out, out_len, flags | JSON_ALLOW_NUL, err);
	free(out);
	return j;
}
