/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* Big-endian (network order) integers in byte buffers, as STUN lays them out. */
#ifndef NT_BE_H
#define NT_BE_H

#include <stdint.h>

static inline void nt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void nt_put32(uint8_t *p, uint32_t v)
{
	nt_put16(p, (uint16_t)(v >> 16));
	nt_put16(p + 2, (uint16_t)v);
}

static inline void nt_put64(uint8_t *p, uint64_t v)
{
	nt_put32(p, (uint32_t)(v >> 32));
	nt_put32(p + 4, (uint32_t)v);
}

static inline uint16_t nt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t nt_get32(const uint8_t *p)
{
	return (uint32_t)nt_get16(p) << 16 | nt_get16(p + 2);
}

static inline uint64_t nt_get64(const uint8_t *p)
{
	return (uint64_t)nt_get32(p) << 32 | nt_get32(p + 4);
}

#endif /* NT_BE_H */
