/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Incremental Internet checksum updates (RFC 1624, eqn. 3):
 *   HC' = ~(~HC + ~m + m')
 * done on 32-bit sums of 16-bit words so that a whole address changes in one
 * call. All values are in network byte order, as they sit in the packet: the
 * one's complement sum is byte-order independent as long as both sides agree.
 */
#ifndef NT_CSUM_H
#define NT_CSUM_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

static __always_inline __u16 nt_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Partial sum of ~old + new over one 16-bit word. */
static __always_inline __u32 nt_csum_delta16(__u16 old, __u16 new)
{
	return (__u32)(__u16)~old + new;
}

static __always_inline __u32 nt_csum_delta32(__u32 old, __u32 new)
{
	return nt_csum_delta16(old >> 16, new >> 16) +
	       nt_csum_delta16(old & 0xffff, new & 0xffff);
}

/* Fold an accumulated delta into an existing checksum field. */
static __always_inline __u16 nt_csum_apply(__u16 check, __u32 delta)
{
	__u32 sum = (__u16)~check;

	/* delta is at most a handful of 17-bit terms: fold before adding */
	sum += nt_csum_fold(delta);
	return ~nt_csum_fold(sum);
}

/* Delta for a 16-byte (IPv6) address change. */
static __always_inline __u32 nt_csum_delta128(const __u32 *old, const __u32 *new)
{
	__u32 d = 0;

#pragma unroll
	for (int i = 0; i < 4; i++)
		d += nt_csum_fold(nt_csum_delta32(old[i], new[i]));
	return d;
}

/*
 * The same on a 64-bit accumulator of 32-bit words, folded once at the end:
 * the XDP fast path's form, fewer instructions than folding each word. The
 * one's complement sum of 32-bit words folds to that of their 16-bit halves.
 */
static __always_inline __u64 nt_csum64_delta32(__u32 old, __u32 new)
{
	return (__u64)(__u32)~old + new;
}

static __always_inline __u64 nt_csum64_delta128(const __u32 *old, const __u32 *new)
{
	return nt_csum64_delta32(old[0], new[0]) + nt_csum64_delta32(old[1], new[1]) +
	       nt_csum64_delta32(old[2], new[2]) + nt_csum64_delta32(old[3], new[3]);
}

static __always_inline __u16 nt_csum64_apply(__u16 check, __u64 delta)
{
	__u64 sum = (__u64)(__u16)~check + delta;

	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return ~nt_csum_fold((__u32)sum);
}

#endif /* NT_CSUM_H */
