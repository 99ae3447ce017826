// SPDX-License-Identifier: GPL-2.0
/*
 * Traffic generator for the end-to-end relay benchmark (tests/bench/
 * bench_relay.c). Run with BPF_F_TEST_XDP_LIVE_FRAMES on a client
 * namespace's eth0: XDP_TX sends every frame out of that interface, across
 * the bridge, to the relay under test. Or (nt_inject) on the relay's own
 * eth0, as that interface's receive path.
 *
 * It writes the frame's head back first: live-frame mode recycles pages
 * with whatever the last user left in them (the kernel resets the xdp_md,
 * not the data), and a relay that rewrites in place on the same page would
 * otherwise hand us its own output, addressed past the relay, to send again.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Bytes written back: Ethernet + IPv4 + UDP + ChannelData header + some payload. */
#define NT_GEN_HEAD 64

/* The frame's first NT_GEN_HEAD bytes, set by the benchmark before each run. */
__u8 nt_gen_head[NT_GEN_HEAD];

/* false: a frame shorter than the head (the benchmark never makes one) */
static __always_inline bool nt_gen_write_head(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (data + NT_GEN_HEAD > end)
		return false;
	__builtin_memcpy(data, nt_gen_head, NT_GEN_HEAD);
	return true;
}

SEC("xdp")
int nt_gen(struct xdp_md *ctx)
{
	return nt_gen_write_head(ctx) ? XDP_TX : XDP_ABORTED;
}

/* The XDP program frames are injected into (slot 0), set by the benchmark. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} nt_inject_next SEC(".maps");

/*
 * Run on the relay's own interface instead: the frame is "received" there
 * and goes on to the XDP program attached to it (nt_inject_next), or to the
 * stack when none is (XDP_PASS).
 */
SEC("xdp")
int nt_inject(struct xdp_md *ctx)
{
	if (!nt_gen_write_head(ctx))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &nt_inject_next, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
