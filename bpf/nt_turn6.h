/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TURN channels in XDP over IPv6 (nt_turn.h does IPv4): frames with no
 * extension header and no VLAN tag, client, peer and relayed address all
 * IPv6 (the frame keeps its family). Everything else returns -1 and goes
 * on to nattravd. The UDP checksum, mandatory over IPv6, is updated, not
 * recomputed; there is no IP header checksum.
 */
#ifndef NT_TURN6_H
#define NT_TURN6_H

#include "nt_turn.h"

#define NT_TURN6_HDRS (14 + 40 + 8)	/* Ethernet, IPv6 without extensions, UDP */

struct nt_turn6_hdrs {
	__u8 b[NT_TURN6_HDRS];
};

/*
 * Addresses, ports, lengths, hop limit and MACs in place for f, the UDP
 * length becoming udp_len + grow; extra as in nt_turn_rewrite.
 */
static __always_inline void nt_turn6_rewrite(struct ethhdr *eth, struct ipv6hdr *ip6,
					     struct udphdr *udp, const struct nt_turn_fwd *f,
					     int grow, __u64 extra)
{
	__be16 old_len = udp->len;
	__be16 new_len = bpf_htons((__u16)(bpf_ntohs(udp->len) + grow));
	__u32 old_s[4], old_d[4];
	__u64 d;

	__builtin_memcpy(old_s, &ip6->saddr, 16);
	__builtin_memcpy(old_d, &ip6->daddr, 16);
	d = nt_csum64_delta128(old_s, (const __u32 *)f->from.addr) +
	    nt_csum64_delta128(old_d, (const __u32 *)f->to.addr) +
	    nt_csum64_delta16(udp->source, bpf_htons(f->from.port)) +
	    nt_csum64_delta16(udp->dest, bpf_htons(f->to.port)) +
	    /* the length is in the pseudo-header and the UDP header */
	    2 * nt_csum64_delta16(old_len, new_len) + extra;
	udp->check = nt_csum64_apply(udp->check, d) ?: 0xffff;
	__builtin_memcpy(&ip6->saddr, f->from.addr, 16);
	__builtin_memcpy(&ip6->daddr, f->to.addr, 16);
	ip6->payload_len = new_len;
	ip6->hop_limit--;
	udp->source = bpf_htons(f->from.port);
	udp->dest = bpf_htons(f->to.port);
	udp->len = new_len;
	__builtin_memcpy(eth->h_dest, f->route_dmac, 6);
	__builtin_memcpy(eth->h_source, f->route_smac, 6);
}

/* A plain IPv6 frame: UDP right after the fixed header, hop limit left, lengths that agree. */
static __always_inline bool nt_turn6_plain(struct ethhdr *eth, void *end, struct ipv6hdr **ipp,
					   struct udphdr **udpp)
{
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip6 + 1);

	if ((void *)(udp + 1) > end)
		return false;
	if (eth->h_proto != bpf_htons(0x86DD) || ip6->version != 6 ||
	    ip6->nexthdr != IPPROTO_UDP || ip6->hop_limit <= 1 || !udp->check ||
	    ip6->payload_len != udp->len || bpf_ntohs(udp->len) < sizeof(*udp))
		return false;
	*ipp = ip6;
	*udpp = udp;
	return true;
}

static __always_inline void nt_turn6_ep(struct nt_endpoint *ep, const struct in6_addr *a,
					__be16 port)
{
	__builtin_memcpy(ep->addr, a, 16);
	ep->port = bpf_ntohs(port);
	ep->family = NT_FAMILY_V6;
}

static __always_inline int nt_turn6_from_client(struct xdp_md *ctx, const struct nt_config *cfg,
						struct ethhdr *eth, void *end)
{
	struct nt_turn_chan_key k = {};
	struct nt_turn6_hdrs h;
	struct nt_turn_fwd *f;
	struct ipv6hdr *ip6;
	struct udphdr *udp;
	__u8 *p;
	__u16 dlen, chan_w, dlen_w;
	void *data;

	if (!nt_turn6_plain(eth, end, &ip6, &udp))
		return -1;
	p = (void *)(udp + 1);
	if ((void *)(p + NT_CHANNEL_HDR) > end)
		return -1;
	dlen = (__u16)(p[2] << 8 | p[3]);
	if ((__u32)dlen + sizeof(*udp) + NT_CHANNEL_HDR != bpf_ntohs(udp->len))
		return -1;
	nt_turn6_ep(&k.client, &ip6->saddr, udp->source);
	k.channel = (__u16)(p[0] << 8 | p[1]);
	f = bpf_map_lookup_elem(&nt_turn_chans, &k);
	if (!f || f->route_ifindex != ctx->ingress_ifindex || f->to.family != NT_FAMILY_V6 ||
	    f->from.family != NT_FAMILY_V6)
		return -1;
	if (nt_turn_over_rate(f, cfg))
		return nt_verdict(NT_STAT_DROP_RATE, sizeof(*ip6) + bpf_ntohs(ip6->payload_len),
				  XDP_DROP);
	__builtin_memcpy(&chan_w, p, 2);
	__builtin_memcpy(&dlen_w, p + 2, 2);
	if (f->flags & NT_TURN_F_HAIRPIN) {
		__be16 new_w = bpf_htons(f->channel);

		nt_turn6_rewrite(eth, ip6, udp, f, 0, (__u64)(__u16)~chan_w + new_w);
		__builtin_memcpy(p, &new_w, 2);
		f->packets++;
		f->bytes += dlen;
		return nt_verdict(NT_STAT_FORWARDED,
				  sizeof(*ip6) + sizeof(*udp) + NT_CHANNEL_HDR + dlen, XDP_TX);
	}
	nt_turn6_rewrite(eth, ip6, udp, f, -NT_CHANNEL_HDR,
			 (__u64)(__u16)~chan_w + (__u16)~dlen_w);
	f->packets++;
	f->bytes += dlen;
	__builtin_memcpy(&h, eth, sizeof(h));
	if (bpf_xdp_adjust_head(ctx, NT_CHANNEL_HDR))
		return nt_verdict(NT_STAT_DROP_MALFORMED, 0, XDP_DROP);
	data = (void *)(long)ctx->data;
	if (data + sizeof(h) > (void *)(long)ctx->data_end)
		return nt_verdict(NT_STAT_DROP_MALFORMED, 0, XDP_DROP);
	__builtin_memcpy(data, &h, sizeof(h));
	return nt_verdict(NT_STAT_FORWARDED, sizeof(*ip6) + sizeof(*udp) + dlen, XDP_TX);
}

static __always_inline int nt_turn6_from_peer(struct xdp_md *ctx, struct ethhdr *eth, void *end)
{
	struct nt_turn_peer_key k = {};
	struct nt_turn6_hdrs h;
	struct nt_turn_fwd *f;
	struct ipv6hdr *ip6;
	struct udphdr *udp;
	__u16 dlen;
	__be16 chan_w, dlen_w;
	void *data;

	if (!nt_turn6_plain(eth, end, &ip6, &udp))
		return -1;
	dlen = bpf_ntohs(udp->len) - sizeof(*udp);
	nt_turn6_ep(&k.relayed, &ip6->daddr, udp->dest);
	nt_turn6_ep(&k.peer, &ip6->saddr, udp->source);
	f = bpf_map_lookup_elem(&nt_turn_peers, &k);
	if (!f || f->route_ifindex != ctx->ingress_ifindex || f->to.family != NT_FAMILY_V6 ||
	    f->from.family != NT_FAMILY_V6)
		return -1;
	chan_w = bpf_htons(f->channel);
	dlen_w = bpf_htons(dlen);
	nt_turn6_rewrite(eth, ip6, udp, f, NT_CHANNEL_HDR, (__u64)chan_w + dlen_w);
	f->packets++;
	f->bytes += dlen;
	__builtin_memcpy(&h, eth, sizeof(h));
	/* the headers are rewritten already: no way back to nattravd */
	if (bpf_xdp_adjust_head(ctx, -NT_CHANNEL_HDR))
		return nt_verdict(NT_STAT_DROP_MALFORMED, 0, XDP_DROP);
	data = (void *)(long)ctx->data;
	if (data + sizeof(h) + NT_CHANNEL_HDR > (void *)(long)ctx->data_end)
		return nt_verdict(NT_STAT_DROP_MALFORMED, 0, XDP_DROP);
	__builtin_memcpy(data, &h, sizeof(h));
	__builtin_memcpy(data + sizeof(h), &chan_w, 2);
	__builtin_memcpy(data + sizeof(h) + 2, &dlen_w, 2);
	return nt_verdict(NT_STAT_FORWARDED,
			  sizeof(*ip6) + sizeof(*udp) + NT_CHANNEL_HDR + dlen, XDP_TX);
}

#endif /* NT_TURN6_H */
