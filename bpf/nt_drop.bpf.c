// SPDX-License-Identifier: GPL-2.0
/*
 * The far end of the benchmark's veth: a veth delivers XDP_TX'd frames only
 * when its peer runs an XDP program, and dropping them there costs least.
 * The per-CPU count lets the benchmark check that every frame it sent
 * really went out (a full veth ring drops silently).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Frames dropped, index 0; per-CPU so the softirq path needs no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} nt_drop_count SEC(".maps");

SEC("xdp")
int nt_drop(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&nt_drop_count, &zero);

	if (n)
		(*n)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
