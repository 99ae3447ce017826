// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: nattravd's config file parser. */
#include <stdint.h>
#include <string.h>
#include "nt_conf.h"

static int on_setting(const char *key, const char *val, void *arg)
{
	size_t *n = arg;

	/* keys are the long flag names: never empty, never with spaces */
	if (!*key || strchr(key, ' ') || !val)
		__builtin_trap();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int line = 0;
	size_t n = 0;

	(void)nt_conf_parse((const char *)data, size, on_setting, &n, &line);
	return 0;
}
