/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Strict number parsing for flags and config: whole string, decimal, in range. */
#ifndef NT_NUM_H
#define NT_NUM_H

#include <stdint.h>

/* 0, or -EINVAL (not a plain decimal number) / -ERANGE (outside [min, max]). */
int nt_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int nt_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

#endif /* NT_NUM_H */
