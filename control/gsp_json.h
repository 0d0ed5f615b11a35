/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Exact unsigned 64-bit integers in JSON, for gossipd's control socket and
 * gossipctl's --json output. jansson's integers are signed 64-bit: it
 * cannot hold a value above INT64_MAX and its decoder refuses one. Every
 * u64 that goes into a document goes through gsp_json_u64(), every
 * document is written with gsp_json_dumps()/_dumpf() and read with
 * gsp_json_loadb(), so such values come out and go in as plain integer
 * tokens with all their digits (docs/SECURITY.md, "Control socket").
 *
 * Inside a json_t tree a value above INT64_MAX is a string made of a NUL
 * byte, "u64:" and the decimal digits. No string read by gsp_json_loadb()
 * can hold a NUL (\u0000 is refused unless the caller allows NUL) and
 * json_string() cannot make one, so the mark is never an ordinary string.
 */
#ifndef GSP_JSON_H
#define GSP_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A JSON integer of exactly v (a new reference, NULL when out of memory). */
json_t *gsp_json_u64(uint64_t v);

/* The value of a non-negative integer made by gsp_json_u64() or read by
 * gsp_json_loadb(); false for anything else (negative, real, string). */
bool gsp_json_u64_value(const json_t *j, uint64_t *v);

/* As json_dumps()/json_dumpf(), with marked values written as integers. */
char *gsp_json_dumps(const json_t *root, size_t flags);
int gsp_json_dumpf(const json_t *root, FILE *f, size_t flags);

/* As json_loadb(), but an integer token in (INT64_MAX, UINT64_MAX] is
 * read exactly (gsp_json_u64_value() gives it back) instead of refused. */
json_t *gsp_json_loadb(const char *buf, size_t len, size_t flags,
		       json_error_t *err);

#ifdef __cplusplus
}
#endif

#endif /* GSP_JSON_H */
