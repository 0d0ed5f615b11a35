/* SPDX-License-Identifier: BSD-3-Clause */
/* Test helper shared by the core's unit tests. */
#ifndef TEST_MEMBER_H
#define TEST_MEMBER_H

#include <stdbool.h>
#include <stdint.h>

#include "gsp_core.h"

/* Whether node n holds member id; its record in *out unless out is NULL. */
static inline bool
member_of(struct gsp_node *n, uint64_t id, struct gsp_member_view *out)
{
	struct gsp_member_view v;
	uint32_t hw = gsp_node_slot_count(n);

	if (out == NULL)
		out = &v;
	for (uint32_t s = 0; s < hw; s++)
		if (gsp_node_member_read(n, s, out) && out->id == id)
			return true;
	return false;
}

#endif /* TEST_MEMBER_H */
