/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TURN channels in XDP (RFC 8656 12.4; IPv6 in nt_turn6.h), IPv4 frames without a VLAN tag or
 * IP options: the cases nattravd wrote a channel for and whose next hop is
 * back out of the ingress interface. Everything else returns -1 and goes
 * on to nattravd's userspace TURN, which relays the same datagrams the
 * slower way. Counted as forwarded in nt_stats and per channel side in the
 * nt_turn_* maps.
 *
 * Client side: ChannelData to the media port loses its 4-byte header and
 * leaves from the relayed address to the peer. Peer side: a datagram to a
 * relayed address gains the header and leaves from the media port to the
 * client. Ethernet, IP and UDP headers (42 bytes) move by 4 bytes around
 * bpf_xdp_adjust_head; the UDP checksum is updated, not recomputed.
 * Hairpin (NT_TURN_F_HAIRPIN): the peer is another allocation of this
 * relay; the ChannelData goes straight to that allocation's client with
 * its channel number, header and length unchanged.
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

#define NT_TURN_HDRS (14 + 20 + 8)	/* Ethernet, IPv4 without options, UDP */
#define NT_CHANNEL_HDR 4

struct nt_turn_hdrs {
	__u8 b[NT_TURN_HDRS];
};

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
 * Rewrite addresses, ports, lengths and MACs in place for f, the UDP
 * length becoming udp_len + grow (grow is +4 or -4); extra is the one's
 * complement sum the payload gains (+) or loses (already complemented).
 */
static __always_inline void nt_turn_rewrite(struct ethhdr *eth, struct iphdr *ip,
					    struct udphdr *udp, const struct nt_turn_fwd *f,
					    int grow, __u64 extra)
{
	__be32 new_s = *(__be32 *)&f->from.addr[12], new_d = *(__be32 *)&f->to.addr[12];
	__be16 old_len = udp->len;
	__be16 new_len = bpf_htons((__u16)(bpf_ntohs(udp->len) + grow));
	__u64 d;

	if (udp->check) {
		d = nt_csum64_delta32(ip->saddr, new_s) + nt_csum64_delta32(ip->daddr, new_d) +
		    nt_csum64_delta16(udp->source, bpf_htons(f->from.port)) +
		    nt_csum64_delta16(udp->dest, bpf_htons(f->to.port)) +
		    /* the length is in the pseudo-header and the UDP header */
		    2 * nt_csum64_delta16(old_len, new_len) + extra;
		udp->check = nt_csum64_apply(udp->check, d) ?: 0xffff;
	}
	ip->saddr = new_s;
	ip->daddr = new_d;
	ip->tot_len = bpf_htons((__u16)(bpf_ntohs(ip->tot_len) + grow));
	ip->ttl--;
	nt_turn_ip_csum(ip);
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

/*
 * A plain IPv4 frame this path takes: no VLAN, no options, no fragment, TTL
 * left, lengths that agree (the frame may be longer: Ethernet padding).
 * The headers are found at fixed offsets from eth, so the verifier knows
 * each bound (it learns nothing from comparing two packet pointers).
 */
static __always_inline bool nt_turn_plain(struct ethhdr *eth, void *end, struct iphdr **ipp,
					  struct udphdr **udpp)
{
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > end)
		return false;
	if (eth->h_proto != bpf_htons(0x0800) || ip->ihl != 5 || ip->version != 4 ||
	    ip->protocol != IPPROTO_UDP || ip->ttl <= 1 ||
	    (ip->frag_off & bpf_htons(NT_IP_MF | NT_IP_OFFMASK)) ||
	    bpf_ntohs(ip->tot_len) != sizeof(*ip) + bpf_ntohs(udp->len) ||
	    bpf_ntohs(udp->len) < sizeof(*udp))
		return false;
	*ipp = ip;
	*udpp = udp;
	return true;
}

static __always_inline int nt_turn_from_client(struct xdp_md *ctx, const struct nt_config *cfg,
					       struct ethhdr *eth, void *end)
{
	struct nt_turn_chan_key k = {};
	struct nt_turn_hdrs h;
	struct nt_turn_fwd *f;
	struct iphdr *ip;
	struct udphdr *udp;
	__u8 *p;
	__u16 dlen, chan_w, dlen_w;
	void *data;

	if (!nt_turn_plain(eth, end, &ip, &udp))
		return -1;
	p = (void *)(udp + 1);
	if ((void *)(p + NT_CHANNEL_HDR) > end)
		return -1;
	dlen = (__u16)(p[2] << 8 | p[3]);
	/* padded (allowed over UDP) or short: nattravd trims or refuses it */
	if ((__u32)dlen + sizeof(*udp) + NT_CHANNEL_HDR != bpf_ntohs(udp->len))
		return -1;
	k.client.addr[10] = 0xff;
	k.client.addr[11] = 0xff;
	__builtin_memcpy(&k.client.addr[12], &ip->saddr, 4);
	k.client.port = bpf_ntohs(udp->source);
	k.client.family = NT_FAMILY_V4;
	k.channel = (__u16)(p[0] << 8 | p[1]);
	f = bpf_map_lookup_elem(&nt_turn_chans, &k);
	if (!f || f->route_ifindex != ctx->ingress_ifindex || f->to.family != NT_FAMILY_V4)
		return -1;
	if (nt_turn_over_rate(f, cfg))
		return nt_verdict(NT_STAT_DROP_RATE, bpf_ntohs(ip->tot_len), XDP_DROP);
	__builtin_memcpy(&chan_w, p, 2);
	__builtin_memcpy(&dlen_w, p + 2, 2);
	if (f->flags & NT_TURN_F_HAIRPIN) {
		__be16 new_w = bpf_htons(f->channel);

		/* same length, another channel number: only that word changes */
		nt_turn_rewrite(eth, ip, udp, f, 0, (__u64)(__u16)~chan_w + new_w);
		__builtin_memcpy(p, &new_w, 2);
		f->packets++;
		f->bytes += dlen;
		return nt_verdict(NT_STAT_FORWARDED,
				  sizeof(struct iphdr) + sizeof(*udp) + NT_CHANNEL_HDR + dlen, XDP_TX);
	}
	/* the channel header leaves the payload: its two words leave the sum */
	nt_turn_rewrite(eth, ip, udp, f, -NT_CHANNEL_HDR,
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
	return nt_verdict(NT_STAT_FORWARDED, sizeof(struct iphdr) + sizeof(*udp) + dlen, XDP_TX);
}

static __always_inline int nt_turn_from_peer(struct xdp_md *ctx, struct ethhdr *eth, void *end)
{
	struct nt_turn_peer_key k = {};
	struct nt_turn_hdrs h;
	struct nt_turn_fwd *f;
	struct iphdr *ip;
	struct udphdr *udp;
	__u16 dlen;
	__be16 chan_w, dlen_w;
	void *data;

	if (!nt_turn_plain(eth, end, &ip, &udp))
		return -1;
	dlen = bpf_ntohs(udp->len) - sizeof(*udp);
	k.relayed.addr[10] = k.peer.addr[10] = 0xff;
	k.relayed.addr[11] = k.peer.addr[11] = 0xff;
	__builtin_memcpy(&k.relayed.addr[12], &ip->daddr, 4);
	__builtin_memcpy(&k.peer.addr[12], &ip->saddr, 4);
	k.relayed.port = bpf_ntohs(udp->dest);
	k.peer.port = bpf_ntohs(udp->source);
	k.relayed.family = k.peer.family = NT_FAMILY_V4;
	f = bpf_map_lookup_elem(&nt_turn_peers, &k);
	if (!f || f->route_ifindex != ctx->ingress_ifindex || f->to.family != NT_FAMILY_V4)
		return -1;
	chan_w = bpf_htons(f->channel);
	dlen_w = bpf_htons(dlen);
	/* the channel header joins the payload: its two words join the sum */
	nt_turn_rewrite(eth, ip, udp, f, NT_CHANNEL_HDR, (__u64)chan_w + dlen_w);
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
			  sizeof(struct iphdr) + sizeof(*udp) + NT_CHANNEL_HDR + dlen, XDP_TX);
}

#endif /* NT_TURN_H */
