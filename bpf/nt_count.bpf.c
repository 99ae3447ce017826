// SPDX-License-Identifier: GPL-2.0
/*
 * Receiver of the end-to-end relay benchmark (tests/bench/bench_relay.c),
 * attached to a client namespace's eth0: counts and drops the relayed
 * media (UDP to nt_count_port whose payload starts with RTP version 2),
 * passes everything else (TLS, probes, keepalives) to the stack, so the
 * client programs in that namespace keep working. Counting in XDP keeps the
 * receiver from being the bottleneck.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define NT_ETH_P_IP 0x0800

/* UDP destination port (network order) of the media to count; 0: none. */
__u16 nt_count_port;
/* Ports counted: nt_count_port and the nt_count_nports - 1 after it (0, 1: one). */
__u16 nt_count_nports;

/* Frames counted and dropped, index 0; per-CPU: no atomics in softirq. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} nt_count_pkts SEC(".maps");

SEC("xdp")
int nt_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	__u8 *pl;
	__u32 zero = 0;
	__u64 *n;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(NT_ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)(ip + 1);
	pl = (void *)(udp + 1);
	if ((void *)(pl + 1) > end || !nt_count_port || (*pl & 0xC0) != 0x80)
		return XDP_PASS;
	if (udp->dest != nt_count_port &&
	    (__u16)(bpf_ntohs(udp->dest) - bpf_ntohs(nt_count_port)) >= nt_count_nports)
		return XDP_PASS;
	n = bpf_map_lookup_elem(&nt_count_pkts, &zero);
	if (n)
		(*n)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
