/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Config files of "key = value" lines: blank lines and lines starting with
 * '#' are skipped, so is " #..." after a value; spaces around key and value
 * are trimmed; keys are [a-z0-9-]+ (the long flag names). The caller judges
 * keys and values in its callback.
 */
#ifndef NT_CONF_H
#define NT_CONF_H

#include <stddef.h>

#define NT_CONF_LINE_MAX 1024

/* Called per setting; a non-zero return stops the parse and is returned. */
typedef int (*nt_conf_fn)(const char *key, const char *val, void *arg);

/*
 * Parse text (len bytes). Returns 0, the callback's error, or -EINVAL
 * (syntax) / -EMSGSIZE (line too long); *line (may be NULL) then says where.
 */
int nt_conf_parse(const char *text, size_t len, nt_conf_fn fn, void *arg,
		  unsigned int *line);
/* Read path (at most 1 MiB) and parse it; -errno of open/read otherwise. */
int nt_conf_load(const char *path, nt_conf_fn fn, void *arg,
		 unsigned int *line);

#endif /* NT_CONF_H */
