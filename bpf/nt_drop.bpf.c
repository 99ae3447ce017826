// SPDX-License-Identifier: GPL-2.0
/*
 * The far end of the benchmark's veth (tests/bench/bench_xdp.c). A veth
 * delivers XDP_TX'd frames only when its peer runs an XDP program; this one
 * counts and drops them.
 *
 * It also puts back the frame's original headers before dropping. In
 * BPF_F_TEST_XDP_LIVE_FRAMES mode the dropped page returns to the test run's
 * page pool and is handed to the program again with whatever it holds: the
 * kernel resets the xdp_md, not the packet data (Documentation/bpf/
 * bpf_prog_run.rst). nattrav's rewrite is not its own inverse, so without
 * this every frame after the first batch would be the already-relayed one,
 * addressed to the peer, and nattrav would pass it instead of relaying it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Bytes put back: covers Ethernet + IPv6 + UDP (62), every field a relay rewrites. */
#define NT_DROP_HEAD 64

/* Frames dropped, index 0; per-CPU so the softirq path needs no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} nt_drop_count SEC(".maps");

/*
 * The first NT_DROP_HEAD bytes of the frame being injected, written by the
 * benchmark before each run; all zero (no ethertype): leave frames as they are.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[NT_DROP_HEAD]);
} nt_drop_orig SEC(".maps");

SEC("xdp")
int nt_drop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *o;
	__u32 zero = 0;
	__u64 *n;

	n = bpf_map_lookup_elem(&nt_drop_count, &zero);
	if (n)
		(*n)++;
	o = bpf_map_lookup_elem(&nt_drop_orig, &zero);
	if (o && (o[12] | o[13]) && data + NT_DROP_HEAD <= end)
		__builtin_memcpy(data, o, NT_DROP_HEAD);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
