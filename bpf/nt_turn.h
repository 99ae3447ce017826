/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TURN channels in XDP (RFC 8656 12.4), IPv4 and IPv6 frames without a VLAN
 * tag, IP options or extension headers: the cases nattravd wrote a channel
 * for and whose next hop is back out of the ingress interface, client,
 * relayed address and peer of one family. Everything else returns -1 and
 * goes on to nattravd's userspace TURN, which relays the same datagrams the
 * slower way. Counted as forwarded in nt_stats and per channel side in the
 * nt_turn_* maps.
 *
 * Client side: ChannelData to the media port loses its 4-byte header and
 * leaves from the relayed address to the peer. Peer side: a datagram to a
 * relayed address gains the header and leaves from the media port to the
 * client. Ethernet, IP and UDP headers (42 or 62 bytes) move by 4 bytes
 * around bpf_xdp_adjust_head; the UDP checksum is updated, not recomputed.
 * Hairpin (NT_TURN_F_HAIRPIN): the peer is another allocation of this
 * relay; the ChannelData goes straight to that allocation's client with
 * its channel number, header and length unchanged.
 *
 * The family is a constant argument of the always-inlined functions, so
 * each caller's copy holds one family's code only.
 */
#ifndef NT_TURN_H
#define NT_TURN_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nattrav_abi.h"
#include "nt_maps.h"
#include "nt_csum.h"
#include "nt_common.h"

#define NT_TURN_HDRS4 (14 + 20 + 8)	/* Ethernet, IPv4 without options, UDP */
#define NT_TURN_HDRS6 (14 + 40 + 8)	/* Ethernet, IPv6 without extensions, UDP */
#define NT_CHANNEL_HDR 4

static __always_inline void nt_turn_ip_csum(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;

	ip->check = 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	ip->check = ~nt_csum_fold(sum);
}

static __always_inline __u64 nt_csum64_delta16(__u16 old, __u16 new)
{
	return (__u64)(__u16)~old + new;
}

/*
 * Rewrite addresses, ports, lengths, TTL or hop limit and MACs in place for
 * f, the UDP length becoming udp_len + grow (grow is +4, 0 or -4); extra is
 * the one's complement sum the payload gains (+) or loses (complemented).
 * IPv6 has no header checksum and a UDP checksum that is never zero.
 */
static __always_inline void nt_turn_rewrite(struct ethhdr *eth, void *l3, struct udphdr *udp,
					    const struct nt_turn_fwd *f, int grow, __u64 extra,
					    const bool v6)
{
	__be16 old_len = udp->len;
	__be16 new_len = bpf_htons((__u16)(bpf_ntohs(udp->len) + grow));
	__u64 d = nt_csum64_delta16(udp->source, bpf_htons(f->from.port)) +
		  nt_csum64_delta16(udp->dest, bpf_htons(f->to.port)) +
		  /* the length is in the pseudo-header and the UDP header */
		  2 * nt_csum64_delta16(old_len, new_len) + extra;

	if (v6) {
		struct ipv6hdr *ip6 = l3;
		__u32 old_s[4], old_d[4];

		__builtin_memcpy(old_s, &ip6->saddr, 16);
		__builtin_memcpy(old_d, &ip6->daddr, 16);
		d += nt_csum64_delta128(old_s, (const __u32 *)f->from.addr) +
		     nt_csum64_delta128(old_d, (const __u32 *)f->to.addr);
		udp->check = nt_csum64_apply(udp->check, d) ?: 0xffff;
		__builtin_memcpy(&ip6->saddr, f->from.addr, 16);
		__builtin_memcpy(&ip6->daddr, f->to.addr, 16);
		ip6->payload_len = new_len;
		ip6->hop_limit--;
	} else {
		struct iphdr *ip = l3;
		__be32 new_s = *(__be32 *)&f->from.addr[12], new_d = *(__be32 *)&f->to.addr[12];

		if (udp->check) {
			d += nt_csum64_delta32(ip->saddr, new_s) + nt_csum64_delta32(ip->daddr, new_d);
			udp->check = nt_csum64_apply(udp->check, d) ?: 0xffff;
		}
		ip->saddr = new_s;
		ip->daddr = new_d;
		ip->tot_len = bpf_htons((__u16)(bpf_ntohs(ip->tot_len) + grow));
		ip->ttl--;
		nt_turn_ip_csum(ip);
	}
	udp->source = bpf_htons(f->from.port);
	udp->dest = bpf_htons(f->to.port);
	udp->len = new_len;
	__builtin_memcpy(eth->h_dest, f->route_dmac, 6);
	__builtin_memcpy(eth->h_source, f->route_smac, 6);
}

/* What a client sends is held to --max-pps as a mapping's media is: true (counted) when over. */
static __always_inline bool nt_turn_over_rate(struct nt_turn_fwd *f, const struct nt_config *cfg)
{
	if (!cfg->pkt_cost_ns ||
	    !nt_bucket_over(&f->tb_credit_ns, &f->tb_last_ns, cfg->pkt_cost_ns, cfg->burst_ns,
			    nt_now()))
		return false;
	f->rate_drops++; /* plain add, as nt_touch's */
	return true;
}

static __always_inline void nt_turn_ep(struct nt_endpoint *ep, const void *addr, __be16 port,
				       const bool v6)
{
	if (v6) {
		__builtin_memcpy(ep->addr, addr, 16);
	} else {
		ep->addr[10] = 0xff;
		ep->addr[11] = 0xff;
		__builtin_memcpy(&ep->addr[12], addr, 4);
	}
	ep->port = bpf_ntohs(port);
	ep->family = v6 ? NT_FAMILY_V6 : NT_FAMILY_V4;
}

/*
 * A plain frame this path takes, its headers at fixed offsets from eth (the
 * verifier learns nothing from comparing two packet pointers): IPv4 with no
 * VLAN, options or fragment, TTL left, lengths that agree (the frame may be
 * longer: Ethernet padding); IPv6 with UDP right after the fixed header, hop
 * limit left, a UDP checksum, lengths that agree. Its source into src,
 * its destination into dst unless NULL; *ip_len: IP header and UDP.
 */
static __always_inline bool nt_turn_parse(struct ethhdr *eth, void *end, const bool v6,
					  void **l3, struct udphdr **udpp, __u32 *ip_len,
					  struct nt_endpoint *src, struct nt_endpoint *dst)
{
	struct udphdr *udp;

	if (v6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > end)
			return false;
		if (eth->h_proto != bpf_htons(0x86DD) || ip6->version != 6 ||
		    ip6->nexthdr != IPPROTO_UDP || ip6->hop_limit <= 1 || !udp->check ||
		    ip6->payload_len != udp->len || bpf_ntohs(udp->len) < sizeof(*udp))
			return false;
		nt_turn_ep(src, &ip6->saddr, udp->source, true);
		if (dst)
			nt_turn_ep(dst, &ip6->daddr, udp->dest, true);
		*l3 = ip6;
		*ip_len = sizeof(*ip6) + bpf_ntohs(udp->len);
	} else {
		struct iphdr *ip = (void *)(eth + 1);

		udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > end)
			return false;
		if (eth->h_proto != bpf_htons(0x0800) || ip->ihl != 5 || ip->version != 4 ||
		    ip->protocol != IPPROTO_UDP || ip->ttl <= 1 ||
		    (ip->frag_off & bpf_htons(NT_IP_MF | NT_IP_OFFMASK)) ||
		    bpf_ntohs(ip->tot_len) != sizeof(*ip) + bpf_ntohs(udp->len) ||
		    bpf_ntohs(udp->len) < sizeof(*udp))
			return false;
		nt_turn_ep(src, &ip->saddr, udp->source, false);
		if (dst)
			nt_turn_ep(dst, &ip->daddr, udp->dest, false);
		*l3 = ip;
		*ip_len = bpf_ntohs(ip->tot_len);
	}
	*udpp = udp;
	return true;
}

/*
 * The rewritten headers moved by delta bytes (bpf_xdp_adjust_head): +4 drops
 * the channel header behind them, -4 makes room for one (chan_w, dlen_w).
 * The frame leaves, ip_len bytes of IP counted.
 */
static __always_inline int nt_turn_shift(struct xdp_md *ctx, struct ethhdr *eth, int delta,
					 __be16 chan_w, __be16 dlen_w, __u32 ip_len, const bool v6)
{
	__u8 h[NT_TURN_HDRS6];
	const __u32 hl = v6 ? NT_TURN_HDRS6 : NT_TURN_HDRS4;
	void *data;

	if (v6)
		__builtin_memcpy(h, eth, NT_TURN_HDRS6);
	else
		__builtin_memcpy(h, eth, NT_TURN_HDRS4);
	/* the headers are rewritten already: no way back to nattravd */
	if (bpf_xdp_adjust_head(ctx, delta))
		return nt_verdict(NT_STAT_DROP_MALFORMED, 0, XDP_DROP);
	data = (void *)(long)ctx->data;
	if (data + hl + (delta < 0 ? NT_CHANNEL_HDR : 0) > (void *)(long)ctx->data_end)
		return nt_verdict(NT_STAT_DROP_MALFORMED, 0, XDP_DROP);
	if (v6)
		__builtin_memcpy(data, h, NT_TURN_HDRS6);
	else
		__builtin_memcpy(data, h, NT_TURN_HDRS4);
	if (delta < 0) {
		__builtin_memcpy(data + hl, &chan_w, 2);
		__builtin_memcpy(data + hl + 2, &dlen_w, 2);
	}
	return nt_verdict(NT_STAT_FORWARDED, ip_len, XDP_TX);
}

static __always_inline int nt_turn_from_client(struct xdp_md *ctx, const struct nt_config *cfg,
					       struct ethhdr *eth, void *end, const bool v6)
{
	struct nt_turn_chan_key k = {};
	struct nt_turn_fwd *f;
	struct udphdr *udp;
	void *l3;
	__u8 *p;
	__u32 ip_len;
	__u16 dlen, chan_w, dlen_w;

	if (!nt_turn_parse(eth, end, v6, &l3, &udp, &ip_len, &k.client, NULL))
		return -1;
	p = (void *)(udp + 1);
	if ((void *)(p + NT_CHANNEL_HDR) > end)
		return -1;
	dlen = (__u16)(p[2] << 8 | p[3]);
	/* padded (allowed over UDP) or short: nattravd trims or refuses it */
	if ((__u32)dlen + sizeof(*udp) + NT_CHANNEL_HDR != bpf_ntohs(udp->len))
		return -1;
	k.channel = (__u16)(p[0] << 8 | p[1]);
	f = bpf_map_lookup_elem(&nt_turn_chans, &k);
	if (!f || f->route_ifindex != ctx->ingress_ifindex || f->to.family != k.client.family ||
	    f->from.family != k.client.family)
		return -1;
	if (nt_turn_over_rate(f, cfg))
		return nt_verdict(NT_STAT_DROP_RATE, ip_len, XDP_DROP);
	__builtin_memcpy(&chan_w, p, 2);
	__builtin_memcpy(&dlen_w, p + 2, 2);
	f->packets++;
	f->bytes += dlen;
	if (f->flags & NT_TURN_F_HAIRPIN) {
		__be16 new_w = bpf_htons(f->channel);

		/* same length, another channel number: only that word changes */
		nt_turn_rewrite(eth, l3, udp, f, 0, (__u64)(__u16)~chan_w + new_w, v6);
		__builtin_memcpy(p, &new_w, 2);
		return nt_verdict(NT_STAT_FORWARDED, ip_len, XDP_TX);
	}
	/* the channel header leaves the payload: its two words leave the sum */
	nt_turn_rewrite(eth, l3, udp, f, -NT_CHANNEL_HDR, (__u64)(__u16)~chan_w + (__u16)~dlen_w,
			v6);
	return nt_turn_shift(ctx, eth, NT_CHANNEL_HDR, 0, 0, ip_len - NT_CHANNEL_HDR, v6);
}

static __always_inline int nt_turn_from_peer(struct xdp_md *ctx, struct ethhdr *eth, void *end,
					     const bool v6)
{
	struct nt_turn_peer_key k = {};
	struct nt_turn_fwd *f;
	struct udphdr *udp;
	void *l3;
	__u32 ip_len;
	__u16 dlen;
	__be16 chan_w, dlen_w;

	if (!nt_turn_parse(eth, end, v6, &l3, &udp, &ip_len, &k.peer, &k.relayed))
		return -1;
	dlen = bpf_ntohs(udp->len) - sizeof(*udp);
	f = bpf_map_lookup_elem(&nt_turn_peers, &k);
	if (!f || f->route_ifindex != ctx->ingress_ifindex || f->to.family != k.peer.family ||
	    f->from.family != k.peer.family)
		return -1;
	chan_w = bpf_htons(f->channel);
	dlen_w = bpf_htons(dlen);
	/* the channel header joins the payload: its two words join the sum */
	nt_turn_rewrite(eth, l3, udp, f, NT_CHANNEL_HDR, (__u64)chan_w + dlen_w, v6);
	f->packets++;
	f->bytes += dlen;
	return nt_turn_shift(ctx, eth, -NT_CHANNEL_HDR, chan_w, dlen_w, ip_len + NT_CHANNEL_HDR, v6);
}

#endif /* NT_TURN_H */
