/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packing of a member's app state into its record's app_ext (minor 7),
 * shared by the writer and by libgsp_sv, which fills app_ext from the
 * legacy app[] of an older writer's record. Header only.
 */
#ifndef GSP_SV_APP_H
#define GSP_SV_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gossipd/status_view.h"

/* Appends one entry; false (x unchanged) when it does not fit the
 * format: an empty or too long key, a too long value, a full ext. */
static inline bool
sv_app_pack(struct gsp_sv_app_ext *x, uint64_t version, const char *key,
	    size_t klen, const char *value, size_t vlen)
{
	uint8_t *p;

	if (klen == 0 || klen >= GSP_SV_APP_KEY_MAX ||
	    vlen >= GSP_SV_APP_VALUE_MAX || x->count >= GSP_SV_APP_EXT_KEYS ||
	    x->bytes > GSP_SV_APP_DATA ||
	    GSP_SV_APP_DATA - x->bytes < GSP_SV_APP_ENTRY_HDR + klen + vlen)
		return false;
	p = x->data + x->bytes;
	/* little-endian host (status_view.h refuses others) */
	memcpy(p, &version, sizeof(version));
	p[8] = (uint8_t)klen;
	p[9] = (uint8_t)vlen;
	memcpy(p + GSP_SV_APP_ENTRY_HDR, key, klen);
	memcpy(p + GSP_SV_APP_ENTRY_HDR + klen, value, vlen);
	x->bytes += (uint32_t)(GSP_SV_APP_ENTRY_HDR + klen + vlen);
	x->count++;
	return true;
}

#endif /* GSP_SV_APP_H */
