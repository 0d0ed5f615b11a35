/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config loader's own files, each calling only those after it:
 * config.c (reading lines, setting values), config_check.c (cross-key
 * checks), config_keys.c (the key table, lines, errors), config_values.c
 * (value parsers).
 */
#ifndef GSP_CONFIG_INT_H
#define GSP_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gsp_config.h"

#define GSP_DNS_PORT 53
#define GSP_CFG_SHOW_MAX 64	/* bytes of a bad value quoted in errors */
#define GSP_CFG_KEYS_MAX 96	/* rows of the key table (config_keys.c) */
#define GSP_CFG_MS 1000000ull

enum gsp_cfg_type {
	GSP_T_NAME,	/* char[], [A-Za-z0-9_.-], size from the table */
	GSP_T_U8,
	GSP_T_U16,
	GSP_T_U32,
	GSP_T_U64,	/* decimal or 0x hex, full range */
	GSP_T_DOUBLE,
	GSP_T_ADDR,	/* unicast IPv4 (uint32_t) */
	GSP_T_GATEWAY,	/* IPv4, 0.0.0.0 = none */
	GSP_T_PATH,	/* char[GSP_PATH_MAX] */
	GSP_T_LEVEL,
	GSP_T_SEED,	/* repeatable */
	GSP_T_DNSNAME,
	GSP_T_DNSSERVER,
	GSP_T_DETECT,	/* on/off of the GSP_DETECT_* bit in min */
	GSP_T_DURATION,	/* uint64_t ns in min..max: 250us, 5ms, 1s */
	GSP_T_DUR32,	/* uint32_t in units of .unit ns, min..max of them */
	GSP_T_FAULT,	/* a fault spec token: key=value for gsp_fault_parse */
	GSP_T_FAULT_BLOCK, /* repeatable list of IP[:in|:out|:both] */
	GSP_T_SECMODE,	/* authenticated | plaintext (bool plaintext) */
	GSP_T_CIPHER,	/* enum gsp_cipher by name */
	GSP_T_ONSTOP,	/* leave | exit (enum gsp_on_stop) */
	GSP_T_RXINTR,	/* auto | on | off (enum gsp_rx_intr) */
};

struct gsp_cfg_key {
	const char *section;
	const char *name;
	enum gsp_cfg_type type;
	size_t off;		/* into struct gsp_config */
	size_t size;		/* for strings */
	uint64_t min, max;	/* integers */
	double dmin, dmax;	/* doubles */
	uint64_t unit;		/* GSP_T_DUR32: ns per stored unit */
	const char *renamed;	/* old name: the key that replaces it */
};

extern const struct gsp_cfg_key gsp_cfg_keys[];
extern const size_t gsp_cfg_nkeys;

struct gsp_cfg_ctx {
	struct gsp_config *cfg;
	const char *path;
	const char *text;	/* the whole file, read by gsp_file_read */
	size_t len, pos;
	unsigned int lineno;	/* line last handed to inih */
	bool eof;
	unsigned int err_line;	/* 0: no error yet */
	char *err;
	size_t errlen;
	unsigned int key_line[GSP_CFG_KEYS_MAX];	/* where each key was set */
	unsigned int app_line[GSP_APP_KEYS_MAX];
	bool seed_has_port[GSP_SEEDS_MAX];
	unsigned int seed_line[GSP_SEEDS_MAX];
};

/* config_keys.c */
void gsp_cfg_err(struct gsp_cfg_ctx *c, unsigned int line, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));
unsigned int gsp_cfg_line_of(const struct gsp_cfg_ctx *c,
			     const char *section, const char *name);

/* config_values.c */
const char *gsp_cfg_show(const char *s, char *buf, size_t len);
int gsp_cfg_parse_u64(const char *s, uint64_t *out);
int gsp_cfg_parse_ip(const char *s, uint32_t *out);
int gsp_cfg_parse_endpoint(const char *s, uint16_t default_port,
			   struct gsp_addr *out, bool *has_port);
bool gsp_cfg_ip_unicast(uint32_t ip);
const char *gsp_cfg_check_name(const char *s, size_t size);
bool gsp_cfg_dns_name_ok(const char *s);
const char *gsp_cfg_show_ns(uint64_t ns, char *buf, size_t len);
bool gsp_cfg_one_token(const char *v);
int gsp_cfg_parse_duration(const char *v, uint64_t max_ns, uint64_t *ns);

/* config_check.c: required keys, derived defaults, cross-key checks */
int gsp_cfg_finish(struct gsp_cfg_ctx *c);

#endif /* GSP_CONFIG_INT_H */
