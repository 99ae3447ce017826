// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's yardsticks for the XDP fast path (scripts/bench-xdp.sh):
 *   nt_reflect: the least a relay must do to a UDP packet - parse Ethernet,
 *     IPv4/IPv6 and UDP with the same cursor helpers as nattrav, swap MACs,
 *     addresses and ports, XDP_TX. Swapping leaves every checksum valid (the
 *     one's complement sum does not depend on order), so there is none to fix.
 *   nt_tx_only: XDP_TX without touching the frame, the cost of the transmit
 *     path alone.
 * Neither has maps: nothing here is meant for a real interface.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nt_parse.h"

static __always_inline void nt_reflect_swap(void *a, void *b, const int len)
{
	__u8 tmp[16];

	__builtin_memcpy(tmp, a, len);
	__builtin_memcpy(a, b, len);
	__builtin_memcpy(b, tmp, len);
}

SEC("xdp")
int nt_reflect(struct xdp_md *ctx)
{
	struct nt_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct ethhdr *eth;
	struct udphdr *udp;
	__be16 proto, port;

	if (nt_parse_eth(&c, &eth, &proto) < 0)
		return XDP_PASS;
	if (proto == bpf_htons(NT_ETH_P_IP)) {
		struct iphdr *ip;
		__u32 ihl_len;

		if (nt_parse_ipv4(&c, &ip, &ihl_len) < 0 || ip->protocol != IPPROTO_UDP)
			return XDP_PASS;
		if (nt_parse_udp(&c, &udp) < 0)
			return XDP_PASS;
		nt_reflect_swap(&ip->saddr, &ip->daddr, 4);
	} else if (proto == bpf_htons(NT_ETH_P_IPV6)) {
		struct ipv6hdr *ip6;

		if (nt_parse_ipv6(&c, &ip6) < 0 || ip6->nexthdr != IPPROTO_UDP)
			return XDP_PASS;
		if (nt_parse_udp(&c, &udp) < 0)
			return XDP_PASS;
		nt_reflect_swap(&ip6->saddr, &ip6->daddr, 16);
	} else {
		return XDP_PASS;
	}
	nt_reflect_swap(eth->h_source, eth->h_dest, NT_ETH_ALEN);
	port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	return XDP_TX;
}

SEC("xdp")
int nt_tx_only(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
