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
 * Per-CPU: with the veth's rx queue picked by the sending CPU, each CPU's
 * frames come back to the sink on that CPU, so injectors on several CPUs
 * (bench_xdp --cpus) each get their own frame, one sender per CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[NT_DROP_HEAD]);
} nt_drop_orig SEC(".maps");

/*
 * Many senders (bench_xdp --senders): n nonzero makes every IPv4 frame put
 * back come from the next of n senders of the benchmark's synthetic
 * population (keys 0, 2, 4, ... of synth_key: 10.x.y.z, port 1024 + i %
 * 60000), so that the recycled pages the test run hands nattrav again carry
 * a different source each. Checksums are left as they were: nattrav updates
 * them incrementally and checks none.
 */
struct nt_drop_vary {
	__u32 n;
	__u32 next;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_drop_vary);
} nt_drop_vary SEC(".maps");

static __always_inline void nt_drop_next_sender(__u8 *data, void *end)
{
	struct nt_drop_vary *v;
	__u32 zero = 0, i;
	__u16 port;

	v = bpf_map_lookup_elem(&nt_drop_vary, &zero);
	if (!v || !v->n || (void *)(data + 36) > end || data[12] != 0x08 || data[13] != 0x00)
		return;
	i = 2 * (v->next++ % v->n);
	data[26] = 10;
	data[27] = (__u8)(i >> 16);
	data[28] = (__u8)(i >> 8);
	data[29] = (__u8)i;
	port = (__u16)(1024 + i % 60000);
	data[34] = (__u8)(port >> 8);
	data[35] = (__u8)port;
}

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
	if (o && (o[12] | o[13]) && data + NT_DROP_HEAD <= end) {
		__builtin_memcpy(data, o, NT_DROP_HEAD);
		nt_drop_next_sender(data, end);
	}
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
