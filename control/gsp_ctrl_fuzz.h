/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzzing seam of the control socket (tests/fuzz/fuzz_control.c): only in
 * a ctrl.c compiled with -DGSP_CTRL_FUZZ, never in gossipd.
 */
#ifndef GSP_CTRL_FUZZ_H
#define GSP_CTRL_FUZZ_H

#include <stddef.h>

#include "gsp_config.h"

/*
 * Feeds len bytes, as one client sending them and then closing its end,
 * through the socket's line framing and request handling. The replies
 * go to out() as they are queued (whole lines, newline included), in one
 * or more calls. Returns the number of replies.
 */
unsigned int gsp_ctrl_fuzz_input(const struct gsp_config *cfg,
				 const char *in, size_t len,
				 void (*out)(const char *line, size_t len,
					     void *arg),
				 void *arg);

#endif /* GSP_CTRL_FUZZ_H */
