// SPDX-License-Identifier: GPL-2.0
/*
 * The nattrav fast path. On the relay's interface:
 *   - UDP to relay:media_port from a verified mapping: rewrite to
 *     relay:media_port -> peer, fix checksums, send back out (XDP_TX or
 *     redirect through nt_egress when the next hop, the daemon's or the
 *     FIB's, is behind another interface);
 *   - control messages (STUN header layout) to the media port: XDP_PASS to
 *     the daemon's socket;
 *   - anything else to the media port: drop and count why;
 *   - everything not aimed at the media port: XDP_PASS untouched.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nattrav_abi.h"
#include "nt_maps.h"
#include "nt_parse.h"
#include "nt_csum.h"
#include "nt_common.h"
#include "nt_turn.h"

/* What the rewrite needs to know about the packet, whatever its family. */
struct nt_pkt {
	struct ethhdr *eth;
	struct udphdr *udp;
	void *l3;
	__u32 l3_len; /* IP total length: counted in the mapping's bytes */
	__u8 family;
};

/*
 * MACs in three 16-bit moves: struct ethhdr is packed, so a memcpy of it
 * goes byte by byte. Frames start 2-byte aligned, as do the mapping's MACs.
 */
static __always_inline void nt_mac_copy(void *dst, const void *src)
{
	__u16 *d = dst;
	const __u16 *s = src;

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
}

static __always_inline void nt_swap_macs(struct ethhdr *eth)
{
	__u16 *d = (__u16 *)eth->h_dest, *s = (__u16 *)eth->h_source, t;

	t = d[0], d[0] = s[0], s[0] = t;
	t = d[1], d[1] = s[1], s[1] = t;
	t = d[2], d[2] = s[2], s[2] = t;
}

/*
 * Fill in the MACs for the rewritten packet and pick the way out. When the
 * FIB has no complete answer (no neighbour entry yet, forwarding disabled on
 * the interface, or lookups turned off), send it back where it came from:
 * the peer is reached through the same next hop the sender came through on
 * a single-homed relay.
 */
static __always_inline int nt_route(struct xdp_md *ctx, const struct nt_config *cfg,
				    struct nt_pkt *pkt, struct nt_mapping *m, __u64 now)
{
	struct bpf_fib_lookup fib = {};
	__u64 bytes = pkt->l3_len;
	long rc;

	/*
	 * Racy by design: another CPU may rewrite the cache while this one
	 * reads it; one sender's packets come in on one RX queue, and the
	 * worst case is one frame with a stale MAC. The daemon's next hop
	 * (NT_ROUTE_DAEMON) never expires and wins over NO_FIB: it is the
	 * answer, not a guess.
	 */
	if (m->route_ifindex && now < m->route_expires_ns) {
		/* the common case, straight from the mapping into the frame */
		if (m->route_ifindex == ctx->ingress_ifindex) {
			nt_mac_copy(pkt->eth->h_dest, m->route_dmac);
			nt_mac_copy(pkt->eth->h_source, m->route_smac);
			return nt_verdict(NT_STAT_FORWARDED, bytes, XDP_TX);
		}
		fib.ifindex = m->route_ifindex;
		__builtin_memcpy(fib.dmac, m->route_dmac, NT_ETH_ALEN);
		__builtin_memcpy(fib.smac, m->route_smac, NT_ETH_ALEN);
		goto send;
	}
	if (cfg->flags & NT_CONFIG_F_NO_FIB)
		goto bounce;

	fib.ifindex = ctx->ingress_ifindex;
	fib.l4_protocol = IPPROTO_UDP;
	fib.sport = pkt->udp->source;
	fib.dport = pkt->udp->dest;
	fib.tot_len = pkt->l3_len;
	if (pkt->family == NT_FAMILY_V4) {
		struct iphdr *ip = pkt->l3;

		fib.family = NT_AF_INET;
		fib.tos = ip->tos;
		fib.ipv4_src = ip->saddr;
		fib.ipv4_dst = ip->daddr;
	} else {
		struct ipv6hdr *ip6 = pkt->l3;

		fib.family = NT_AF_INET6;
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
	}

	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		__builtin_memcpy(m->route_dmac, fib.dmac, NT_ETH_ALEN);
		__builtin_memcpy(m->route_smac, fib.smac, NT_ETH_ALEN);
		m->route_ifindex = fib.ifindex;
		m->route_expires_ns = now + NT_ROUTE_CACHE_NS;
		goto send;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return nt_verdict(NT_STAT_DROP_NO_ROUTE, bytes, XDP_DROP);
	}
	goto bounce;
send:
	if (fib.ifindex != ctx->ingress_ifindex) {
		/*
		 * Only to validated egress ports: a redirect to an interface
		 * that cannot take it is dropped by the kernel after the
		 * program counted it. Not there: the stack decides, counted.
		 */
		rc = bpf_redirect_map(&nt_egress, fib.ifindex, XDP_PASS);
		if (rc != XDP_REDIRECT)
			return nt_verdict(NT_STAT_PASS_NO_EGRESS, bytes, XDP_PASS);
	}
	nt_mac_copy(pkt->eth->h_dest, fib.dmac);
	nt_mac_copy(pkt->eth->h_source, fib.smac);
	if (fib.ifindex == ctx->ingress_ifindex)
		return nt_verdict(NT_STAT_FORWARDED, bytes, XDP_TX);
	return nt_verdict(NT_STAT_REDIRECTED, bytes, XDP_REDIRECT);
bounce:
	nt_swap_macs(pkt->eth);
	return nt_verdict(NT_STAT_FORWARDED, bytes, XDP_TX);
}

/* Source and destination port as the first 32-bit word of a UDP header. */
static __always_inline __u32 nt_ports(__be16 sport, __be16 dport)
{
	union {
		__be16 port[2];
		__u32 word;
	} u = { .port = { sport, dport } };

	return u.word;
}

/*
 * m, the sender's mapping as looked up (NULL: none), if its media is to be
 * rewritten here, with the packet accounted to it; otherwise NULL and
 * *verdict, counted.
 */
static __always_inline struct nt_mapping *nt_admit(const struct nt_config *cfg,
						   struct nt_mapping *m, __u8 family,
						   __u32 tot_len, struct udphdr *udp, void *end,
						   __u64 *now, int *verdict)
{
	enum nt_stat why;

	if (!m) {
		/* TURN's ChannelData: nattravd's userspace TURN relays it */
		if ((cfg->flags & NT_CONFIG_F_TURN) && nt_is_channel_data(udp, end)) {
			*verdict = nt_verdict(NT_STAT_PASS_CONTROL, tot_len, XDP_PASS);
			return NULL;
		}
		why = NT_STAT_DROP_UNVERIFIED;
		goto refuse;
	}
	*now = nt_now();
	nt_touch(m, tot_len);
	if (nt_over_rate(m, cfg, *now)) {
		why = NT_STAT_DROP_RATE;
		goto refuse;
	}
	/* XDP cannot copy a frame: groups of three or more go to the TC program */
	if (m->flags & NT_MAPPING_F_FANOUT) {
		nt_consent(m, *now);
		*verdict = nt_verdict(NT_STAT_PASS_FANOUT, tot_len, XDP_PASS);
		return NULL;
	}
	if (!m->peer.family) {
		why = NT_STAT_DROP_NO_PEER;
		goto refuse;
	}
	if (m->peer.family != family) {
		why = NT_STAT_DROP_FAMILY;
		goto refuse;
	}
	nt_consent(m, *now);
	return m;
refuse:
	*verdict = nt_verdict(why, tot_len, XDP_DROP);
	return NULL;
}

static __always_inline int nt_handle_v4(struct xdp_md *ctx, const struct nt_config *cfg,
					struct nt_cursor *c, struct ethhdr *eth)
{
	struct iphdr *ip = c->pos;
	union {
		struct nt_key4 k;
		__u64 word; /* aligned: the address goes in as one 32-bit store */
	} src;
	struct nt_mapping *m;
	struct udphdr *udp;
	struct nt_pkt pkt;
	__u32 ihl_len, tot_len, ports;
	__be32 new_saddr, new_daddr;
	__u64 delta;
	union {
		__u8 b[2]; /* TTL, protocol */
		__u16 w;
	} ttl;
	__u16 old_ttl_word;
	__u64 now = 0;
	int verdict;

	/*
	 * The common case at fixed offsets behind one bounds check: a plain
	 * 20-byte header, UDP to the media port, no fragment, consistent
	 * lengths, not a control message. Whatever fails a test here goes the
	 * long way below, which gives it its verdict.
	 */
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) <= c->end && *(__u8 *)ip == 0x45 && ip->protocol == IPPROTO_UDP &&
	    ip->daddr == *(__be32 *)cfg->relay_v4 && ip->daddr &&
	    !(ip->frag_off & bpf_htons(NT_IP_MF | NT_IP_OFFMASK)) &&
	    udp->dest == bpf_htons(cfg->media_port)) {
		tot_len = bpf_ntohs(ip->tot_len);
		if (tot_len >= sizeof(*ip) + sizeof(*udp) && (void *)ip + tot_len <= c->end &&
		    bpf_ntohs(udp->len) >= sizeof(*udp) &&
		    bpf_ntohs(udp->len) <= tot_len - sizeof(*ip) &&
		    !nt_is_control(udp, bpf_ntohs(udp->len), c->end))
			goto media;
	}

	/* Too short to say where it goes: not ours to judge. */
	if ((void *)(ip + 1) > c->end)
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);
	if (ip->protocol != IPPROTO_UDP || ip->daddr != *(__be32 *)cfg->relay_v4 ||
	    !ip->daddr)
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);

	/*
	 * Non-first fragments carry no UDP header, so their port is unknown;
	 * the kernel discards them once the first one (dropped below when it
	 * is for the media port) never arrives.
	 */
	if (ip->frag_off & bpf_htons(NT_IP_OFFMASK))
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);

	tot_len = bpf_ntohs(ip->tot_len);
	if (nt_parse_ipv4(c, &ip, &ihl_len) < 0 || tot_len < ihl_len + sizeof(*udp) ||
	    (void *)ip + tot_len > c->end)
		return nt_verdict(NT_STAT_DROP_MALFORMED, 0, XDP_DROP);
	if (nt_parse_udp(c, &udp) < 0)
		return nt_verdict(NT_STAT_DROP_MALFORMED, 0, XDP_DROP);
	if (udp->dest != bpf_htons(cfg->media_port)) {
		/* a TURN peer's datagram to a relayed address, of a channel XDP relays */
		if (cfg->flags & NT_CONFIG_F_TURN) {
			verdict = nt_turn_from_peer(ctx, eth, c->end, false);
			if (verdict >= 0)
				return verdict;
		}
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);
	}
	if (ip->frag_off & bpf_htons(NT_IP_MF))
		return nt_verdict(NT_STAT_DROP_FRAGMENT, tot_len, XDP_DROP);
	if (bpf_ntohs(udp->len) < sizeof(*udp) || bpf_ntohs(udp->len) > tot_len - ihl_len)
		return nt_verdict(NT_STAT_DROP_MALFORMED, tot_len, XDP_DROP);
	if (nt_is_control(udp, bpf_ntohs(udp->len), c->end))
		return nt_verdict(NT_STAT_PASS_CONTROL, tot_len, XDP_PASS);
	if (ihl_len != sizeof(*ip))
		return nt_verdict(NT_STAT_DROP_IP_OPTIONS, tot_len, XDP_DROP);
media:
	/* TURN ChannelData of a channel XDP relays (only with TURN on) */
	if ((cfg->flags & NT_CONFIG_F_TURN) && nt_is_channel_data(udp, c->end)) {
		verdict = nt_turn_from_client(ctx, cfg, eth, c->end, false);
		if (verdict >= 0)
			return verdict;
	}
	*(__be32 *)src.k.addr = ip->saddr;
	src.k.port = bpf_ntohs(udp->source);
	src.k.pad = 0;
	m = bpf_map_lookup_elem(&nt_mappings4, &src.k);
	m = nt_admit(cfg, m, NT_FAMILY_V4, tot_len, udp, c->end, &now, &verdict);
	if (!m)
		return verdict;
	if (ip->ttl <= 1)
		return nt_verdict(NT_STAT_DROP_TTL, tot_len, XDP_DROP);

	new_saddr = ip->daddr;
	__builtin_memcpy(&new_daddr, &m->peer.addr[12], 4);

	/*
	 * TTL shares a 16-bit checksum word with the protocol field. The word
	 * is decremented in a register and stored whole: a byte store read
	 * back as a word cannot be forwarded from the store buffer and stalls.
	 */
	ttl.w = old_ttl_word = *(__u16 *)&ip->ttl;
	ttl.b[0]--;
	*(__u16 *)&ip->ttl = ttl.w;

	delta = nt_csum64_delta32(ip->saddr, new_saddr) + nt_csum64_delta32(ip->daddr, new_daddr);
	ip->check = nt_csum64_apply(ip->check, delta + nt_csum_delta16(old_ttl_word, ttl.w));
	/* both ports in one 32-bit word, as they sit in the header */
	ports = nt_ports(udp->dest, bpf_htons(m->peer.port));
	/* A zero UDP checksum over IPv4 means "none": keep it that way. */
	if (udp->check) {
		__u16 check = nt_csum64_apply(udp->check,
					      delta + nt_csum64_delta32(*(__u32 *)udp, ports));
		udp->check = check ? check : 0xffff;
	}
	ip->saddr = new_saddr;
	ip->daddr = new_daddr;
	*(__u32 *)udp = ports;

	pkt.eth = eth;
	pkt.udp = udp;
	pkt.l3 = ip;
	pkt.l3_len = tot_len;
	pkt.family = NT_FAMILY_V4;
	return nt_route(ctx, cfg, &pkt, m, now);
}

static __always_inline int nt_handle_v6(struct xdp_md *ctx, const struct nt_config *cfg,
					struct nt_cursor *c, struct ethhdr *eth)
{
	struct nt_endpoint src = {};
	struct frag_hdr *frag;
	struct ipv6hdr *ip6;
	struct nt_mapping *m;
	struct udphdr *udp;
	struct nt_pkt pkt;
	__u32 payload_len, tot_len, ports, old_addr[4];
	__u16 check;
	__u64 delta;
	__u8 nexthdr;
	__u64 now = 0;
	int ext, verdict;

	if (nt_parse_ipv6(c, &ip6) < 0)
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);
	if (nt_addr6_zero(cfg->relay_v6) || !nt_addr6_eq(&ip6->daddr, cfg->relay_v6))
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);

	payload_len = bpf_ntohs(ip6->payload_len);
	tot_len = payload_len + sizeof(*ip6);
	/* payload_len 0 would be a jumbogram: never media */
	if (!payload_len || (void *)ip6 + tot_len > c->end)
		return nt_verdict(NT_STAT_DROP_MALFORMED, 0, XDP_DROP);

	nexthdr = ip6->nexthdr;
	if (nt_parse_ipv6_ext(c, &nexthdr, &frag, &ext) < 0)
		return nt_verdict(NT_STAT_DROP_MALFORMED, tot_len, XDP_DROP);
	if (nexthdr != IPPROTO_UDP)
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);
	/* Non-first fragment: no UDP header here, see nt_handle_v4. */
	if (frag && (frag->frag_off & bpf_htons(NT_IPV6_FRAG_OFFMASK)))
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);
	if (nt_parse_udp(c, &udp) < 0)
		return nt_verdict(NT_STAT_DROP_MALFORMED, tot_len, XDP_DROP);
	if (udp->dest != bpf_htons(cfg->media_port)) {
		/* a TURN peer's datagram to a relayed address, of a channel XDP relays */
		if (cfg->flags & NT_CONFIG_F_TURN) {
			verdict = nt_turn_from_peer(ctx, eth, c->end, true);
			if (verdict >= 0)
				return verdict;
		}
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);
	}
	if (frag)
		return nt_verdict(NT_STAT_DROP_FRAGMENT, tot_len, XDP_DROP);
	if (bpf_ntohs(udp->len) < sizeof(*udp) ||
	    (void *)udp + bpf_ntohs(udp->len) > (void *)ip6 + tot_len)
		return nt_verdict(NT_STAT_DROP_MALFORMED, tot_len, XDP_DROP);
	if (nt_is_control(udp, bpf_ntohs(udp->len), c->end))
		return nt_verdict(NT_STAT_PASS_CONTROL, tot_len, XDP_PASS);
	if (ext)
		return nt_verdict(NT_STAT_DROP_IP_OPTIONS, tot_len, XDP_DROP);
	/* Over IPv6 the UDP checksum is mandatory (RFC 8200 8.1). */
	if (!udp->check)
		return nt_verdict(NT_STAT_DROP_MALFORMED, tot_len, XDP_DROP);
	/* TURN ChannelData of a channel XDP relays (only with TURN on) */
	if ((cfg->flags & NT_CONFIG_F_TURN) && nt_is_channel_data(udp, c->end)) {
		verdict = nt_turn_from_client(ctx, cfg, eth, c->end, true);
		if (verdict >= 0)
			return verdict;
	}

	__builtin_memcpy(src.addr, &ip6->saddr, 16);
	src.port = bpf_ntohs(udp->source);
	src.family = NT_FAMILY_V6;
	m = bpf_map_lookup_elem(&nt_mappings, &src);
	m = nt_admit(cfg, m, NT_FAMILY_V6, tot_len, udp, c->end, &now, &verdict);
	if (!m)
		return verdict;
	if (ip6->hop_limit <= 1)
		return nt_verdict(NT_STAT_DROP_TTL, tot_len, XDP_DROP);

	/*
	 * No IPv6 header checksum; the UDP one covers both addresses. The
	 * source becomes the relay (the old destination), so the old
	 * destination's words cancel out: the sum changes by ~saddr + peer.
	 */
	__builtin_memcpy(old_addr, &ip6->saddr, 16);
	delta = nt_csum64_delta128(old_addr, (const __u32 *)m->peer.addr);
	ports = nt_ports(udp->dest, bpf_htons(m->peer.port));
	delta += nt_csum64_delta32(*(__u32 *)udp, ports);
	check = nt_csum64_apply(udp->check, delta);
	udp->check = check ? check : 0xffff;

	__builtin_memcpy(&ip6->saddr, &ip6->daddr, 16);
	__builtin_memcpy(&ip6->daddr, m->peer.addr, 16);
	ip6->hop_limit--;
	*(__u32 *)udp = ports;

	pkt.eth = eth;
	pkt.udp = udp;
	pkt.l3 = ip6;
	pkt.l3_len = tot_len;
	pkt.family = NT_FAMILY_V6;
	return nt_route(ctx, cfg, &pkt, m, now);
}

SEC("xdp")
int nt_xdp(struct xdp_md *ctx)
{
	struct nt_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	const struct nt_config *cfg;
	struct ethhdr *eth;
	__u32 zero = 0;
	__be16 proto;

	cfg = bpf_map_lookup_elem(&nt_config, &zero);
	if (!cfg || !cfg->media_port)
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);
	if (nt_parse_eth(&c, &eth, &proto) < 0)
		return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);
	if (proto == bpf_htons(NT_ETH_P_IP))
		return nt_handle_v4(ctx, cfg, &c, eth);
	if (proto == bpf_htons(NT_ETH_P_IPV6))
		return nt_handle_v6(ctx, cfg, &c, eth);
	return nt_verdict(NT_STAT_PASS_OTHER, 0, XDP_PASS);
}

/* The TC fan-out program lives in the same object so that both share the maps. */
#include "nt_fanout.h"

char LICENSE[] SEC("license") = "GPL";
