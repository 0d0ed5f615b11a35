/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: gsp_config_load() (inih plus our validation) on a file
 * holding the input. The file is a memfd reached through /proc/self/fd,
 * so the parser reads it exactly as it reads a file from disk.
 *
 * Oracles besides the sanitizers: a failure always comes with a message;
 * a success gives a config with the required fields set and its strings
 * terminated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gsp_config.h"
#include "gsp_log.h"

static int fz_fd = -1;
static char fz_path[64];

static void
fz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	abort();
}

static bool
fz_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
fz_setup(void)
{
	fz_fd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (fz_fd < 0)
		fz_fail("memfd_create failed", NULL);
	snprintf(fz_path, sizeof(fz_path), "/proc/self/fd/%d", fz_fd);
	gsp_log_set_level(LOG_EMERG);	/* silence: the fuzzer's output only */
}

static void
fz_write(const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t w;

	if (ftruncate(fz_fd, 0) != 0)
		fz_fail("ftruncate failed", NULL);
	while (off < size) {
		w = pwrite(fz_fd, data + off, size - off, (off_t)off);
		if (w <= 0)
			fz_fail("pwrite failed", NULL);
		off += (size_t)w;
	}
}

static void
fz_check(const struct gsp_config *c)
{
	if (!fz_terminated(c->cluster, sizeof(c->cluster)) ||
	    c->cluster[0] == '\0' ||
	    !fz_terminated(c->node_name, sizeof(c->node_name)) ||
	    c->node_name[0] == '\0' ||
	    !fz_terminated(c->seed_dns, sizeof(c->seed_dns)) ||
	    !fz_terminated(c->dns_server, sizeof(c->dns_server)) ||
	    !fz_terminated(c->socket_path, sizeof(c->socket_path)) ||
	    !fz_terminated(c->status_path, sizeof(c->status_path)))
		fz_fail("loaded config has a bad string", NULL);
	if (c->n_seeds > GSP_SEEDS_MAX || c->n_app > GSP_APP_KEYS_MAX)
		fz_fail("loaded config has too many entries", NULL);
	for (unsigned int i = 0; i < c->n_app; i++)
		if (!fz_terminated(c->app_keys[i], sizeof(c->app_keys[i])) ||
		    !fz_terminated(c->app_values[i],
				   sizeof(c->app_values[i])))
			fz_fail("loaded config has a bad app entry", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gsp_config cfg;
	char err[GSP_CONFIG_ERR_MAX];
	int ret;

	if (fz_fd < 0)
		fz_setup();
	fz_write(data, size);
	memset(err, 0x55, sizeof(err));	/* an unset message shows */
	ret = gsp_config_load(fz_path, &cfg, err, sizeof(err));
	/* FUZZ_CONFIG_ECHO=1: show the verdict (when replaying an input) */
	if (getenv("FUZZ_CONFIG_ECHO") != NULL)
		fprintf(stderr, "fuzz_config: %s\n", ret == 0 ? "loaded" :
			fz_terminated(err, sizeof(err)) ? err : "(no message)");
	if (ret != 0) {
		if (!fz_terminated(err, sizeof(err)) || err[0] == '\0')
			fz_fail("load failed without a message", NULL);
		if (strncmp(err, fz_path, strlen(fz_path)) != 0)
			fz_fail("message does not name the file", err);
		return 0;
	}
	if (!fz_terminated(err, sizeof(err)))
		fz_fail("load left a bad message", NULL);
	fz_check(&cfg);
	return 0;
}
