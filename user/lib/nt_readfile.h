/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* A small file (a secret, a list of them) read whole, bounded. */
#ifndef NT_READFILE_H
#define NT_READFILE_H

#include <stddef.h>

/*
 * Up to cap bytes of path into buf, *len of them: 0, -EFBIG when the file
 * holds cap bytes or more (it may be longer: nothing is trusted past cap),
 * or -errno of open/read.
 */
int nt_read_small_file(const char *path, void *buf, size_t cap, size_t *len);

#endif /* NT_READFILE_H */
