/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TC ingress fan-out for groups of three or more. XDP cannot copy a frame,
 * so it passes media of NT_MAPPING_F_FANOUT mappings up (pass_fanout); here,
 * before the IP stack sees it, the packet is rewritten once per receiver
 * (relay:media_port -> member) and each copy leaves with bpf_clone_redirect.
 * The original is consumed. Included by nattrav.bpf.c: one object, so both
 * programs share the maps.
 *
 * skb helpers invalidate packet pointers, so the per-copy work is done on a
 * copy of the headers on the stack and written back with
 * bpf_skb_store_bytes, only from the first byte that can differ from the
 * previous copy's: the MACs only when the next hop changes; after the first
 * copy, the IP header from its checksum on (IPv6: from the destination
 * address on), not the version, lengths and TTL every copy shares.
 *
 * Counters go to the group's per-CPU nt_group_stats entry with plain adds:
 * the group entry itself is only read per packet.
 */
#ifndef NT_FANOUT_H
#define NT_FANOUT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nattrav_abi.h"
#include "nt_maps.h"
#include "nt_parse.h"
#include "nt_csum.h"
#include "nt_common.h"

#define NT_TC_ACT_OK 0
#define NT_TC_ACT_SHOT 2
/* eth + vlan + ipv6 + udp + a STUN header: all the parser reads */
#define NT_FAN_PULL_LEN 86

/* IPv6 + UDP: the most of a copy's headers that differ from the next one's */
#define NT_FAN_L34_MAX 48

/* What a group's nt_group_stats entry starts from (a map value: too big for the stack) */
static const struct nt_group_stats nt_group_stats_zero;

struct nt_fan_ctx {
	struct __sk_buff *skb;
	struct nt_fanout_group *g;
	struct nt_group_stats *st; /* this CPU's; NULL: not counted (map full) */
	struct nt_endpoint sender;
	/* IP and UDP headers as every copy starts them (nt_fan_common) */
	__u32 l34[NT_FAN_L34_MAX / 4];
	__u8 family;
	__u8 no_fib;
	__u16 pad;
	__u32 l3_off;
	__u8 fallback_macs[12]; /* dst = the sender's next hop, src = ours */
	__u32 pkt_macs[3];      /* the packet's MACs now (dst, src) */
	__u32 l34_done;         /* the common headers are in the packet */
	__be16 media_port; /* network byte order, as the copies carry it */
	__u16 pad2;
	__u32 relay_v4;
	__u8 relay_v6[16];
	__u64 now;
	__u32 ifindex_in; /* skb fields read once: the callback may not reach them */
	__u32 l3_len;     /* the IP packet's, for the FIB's MTU check */
	__u32 n;    /* members, at most NT_GROUP_MAX_MEMBERS */
	__u32 last; /* the member that gets the packet itself; n: none */
	__u32 copies;
	__u32 no_route;
};

static __always_inline bool nt_ep_eq(const struct nt_endpoint *a, const struct nt_endpoint *b)
{
	const __u32 *x = (const __u32 *)a->addr, *y = (const __u32 *)b->addr;

	return a->port == b->port && x[0] == y[0] && x[1] == y[1] && x[2] == y[2] &&
	       x[3] == y[3];
}

/*
 * MACs for the copy to mb, from the member's cached FIB answer while it is
 * fresh; returns the interface to send it from, 0 to skip it. Racy by
 * design like nt_route()'s cache: the worst case is a copy with a stale MAC.
 */
static __always_inline __u32 nt_fan_route(struct nt_fan_ctx *fc, const struct nt_endpoint *mb,
					  struct nt_fan_route *rc, __u8 macs[12])
{
	struct __sk_buff *skb = fc->skb;
	struct bpf_fib_lookup fib = {};
	long rc_fib;

	/* the daemon's next hop (NT_ROUTE_DAEMON) never expires and wins over no_fib */
	if (rc->ifindex && fc->now < rc->expires_ns) {
		__builtin_memcpy(macs, rc->dmac, 6);
		__builtin_memcpy(macs + 6, rc->smac, 6);
		return rc->ifindex;
	}
	if (fc->no_fib)
		goto fallback;
	fib.ifindex = fc->ifindex_in;
	fib.l4_protocol = IPPROTO_UDP;
	fib.sport = fc->media_port;
	fib.dport = bpf_htons(mb->port);
	fib.tot_len = (__u16)fc->l3_len;
	if (fc->family == NT_FAMILY_V4) {
		fib.family = NT_AF_INET;
		__builtin_memcpy(&fib.ipv4_dst, &mb->addr[12], 4);
		fib.ipv4_src = fc->relay_v4;
	} else {
		fib.family = NT_AF_INET6;
		__builtin_memcpy(fib.ipv6_dst, mb->addr, 16);
		__builtin_memcpy(fib.ipv6_src, fc->relay_v6, 16);
	}
	rc_fib = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc_fib == BPF_FIB_LKUP_RET_SUCCESS) {
		__builtin_memcpy(rc->dmac, fib.dmac, 6);
		__builtin_memcpy(rc->smac, fib.smac, 6);
		rc->ifindex = fib.ifindex;
		rc->expires_ns = fc->now + NT_ROUTE_CACHE_NS;
		__builtin_memcpy(macs, fib.dmac, 6);
		__builtin_memcpy(macs + 6, fib.smac, 6);
		return fib.ifindex;
	}
	if (rc_fib == BPF_FIB_LKUP_RET_BLACKHOLE || rc_fib == BPF_FIB_LKUP_RET_UNREACHABLE ||
	    rc_fib == BPF_FIB_LKUP_RET_PROHIBIT || rc_fib == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		fc->no_route++;
		return 0;
	}
fallback:
	__builtin_memcpy(macs, fc->fallback_macs, 12);
	return fc->ifindex_in;
}

/* UDP checksum after a change worth delta; an absent (zero) one stays absent. */
static __always_inline __u16 nt_fan_udp_check(__u16 check, __u32 delta)
{
	if (!check)
		return 0;
	check = nt_csum_apply(check, delta);
	return check ? check : 0xffff;
}

/*
 * Point the packet at member i: its headers, computed from the common ones
 * in fc->l34 (checksums updated from theirs), written with two stores (after
 * a clone the packet's head is shared, and each helper call that writes
 * checks for that). Returns the interface to send it from, 0 to skip it.
 * Not inlined: called from the program and from the loop, and its stack
 * would count twice against the limit of 512 bytes.
 */
static __noinline __u32 nt_fan_point(struct nt_fan_ctx *fc, __u32 i)
{
	struct nt_fanout_group *g = fc->g;
	struct nt_endpoint *mb;
	__u32 h[NT_FAN_L34_MAX / 4];
	__u32 macs[3];
	__u32 ifindex, len, skip;

	i &= NT_GROUP_MAX_MEMBERS - 1; /* i < n_members <= the maximum; tells the verifier */
	mb = &g->members[i];
	ifindex = nt_fan_route(fc, mb, &g->routes[i], (__u8 *)macs);
	if (!ifindex)
		return 0;
	__builtin_memcpy(h, fc->l34, sizeof(h));
	if (fc->family == NT_FAMILY_V4) {
		struct iphdr *ip = (void *)h;
		struct udphdr *udp = (void *)(ip + 1);
		__be32 to;
		__u32 d;

		__builtin_memcpy(&to, &mb->addr[12], 4);
		d = nt_csum_delta32(ip->daddr, to);
		ip->check = nt_csum_apply(ip->check, d);
		ip->daddr = to;
		udp->check = nt_fan_udp_check(udp->check, d + nt_csum_delta16(udp->dest, bpf_htons(mb->port)));
		udp->dest = bpf_htons(mb->port);
		len = sizeof(*ip) + sizeof(*udp);
		skip = offsetof(struct iphdr, check);
	} else {
		struct ipv6hdr *ip6 = (void *)h;
		struct udphdr *udp = (void *)(ip6 + 1);
		__u32 d = nt_csum_delta128((const __u32 *)&ip6->daddr, (const __u32 *)mb->addr);

		udp->check = nt_fan_udp_check(udp->check, d + nt_csum_delta16(udp->dest, bpf_htons(mb->port)));
		__builtin_memcpy(&ip6->daddr, mb->addr, 16);
		udp->dest = bpf_htons(mb->port);
		len = sizeof(*ip6) + sizeof(*udp);
		skip = offsetof(struct ipv6hdr, daddr);
	}
	if (!fc->l34_done)
		skip = 0;
	/*
	 * RECOMPUTE keeps skb->csum right when the driver handed the packet
	 * up with CHECKSUM_COMPLETE (it covers from the IP header on, so not
	 * for the MACs); a no-op otherwise.
	 */
	if (macs[0] != fc->pkt_macs[0] || macs[1] != fc->pkt_macs[1] ||
	    macs[2] != fc->pkt_macs[2]) {
		if (bpf_skb_store_bytes(fc->skb, 0, macs, sizeof(macs), 0))
			return 0;
		__builtin_memcpy(fc->pkt_macs, macs, sizeof(macs));
	}
	if (bpf_skb_store_bytes(fc->skb, fc->l3_off + skip, (__u8 *)h + skip, len - skip,
				BPF_F_RECOMPUTE_CSUM))
		return 0;
	fc->l34_done = 1;
	return ifindex;
}

static __always_inline bool nt_fan_wants(const struct nt_fan_ctx *fc, const struct nt_endpoint *mb)
{
	return mb->family == fc->family && !nt_ep_eq(mb, &fc->sender); /* never to the sender */
}

/*
 * A clone to member i, for i below the last member that wants a copy (the
 * loop's count, so that no field of fc bounds it: the verifier would track
 * it exactly and never see the loop's states converge). bpf_loop callback.
 */
static long nt_fan_one(__u32 i, void *data)
{
	struct nt_fan_ctx *fc = data;
	struct nt_fanout_group *g = fc->g;
	__u32 ifindex;

	i &= NT_GROUP_MAX_MEMBERS - 1;
	if (!nt_fan_wants(fc, &g->members[i]))
		return 0;
	ifindex = nt_fan_point(fc, i);
	if (ifindex && bpf_clone_redirect(fc->skb, ifindex, 0) == 0) {
		if (fc->st)
			fc->st->delivered[i]++;
		fc->copies++;
	}
	return 0;
}

/* Finds fc->last, the last member that wants a copy, from the top. bpf_loop callback. */
static long nt_fan_find_last(__u32 k, void *data)
{
	struct nt_fan_ctx *fc = data;
	__u32 i;

	if (k >= fc->n)
		return 1;
	i = (fc->n - 1 - k) & (NT_GROUP_MAX_MEMBERS - 1);
	if (!nt_fan_wants(fc, &fc->g->members[i]))
		return 0;
	fc->last = i;
	return 1;
}

/*
 * The headers every copy starts from: source relay:media_port, TTL (hop
 * limit) one less, checksums updated. l3 and udp_in point into the packet.
 */
static __always_inline void nt_fan_common(struct nt_fan_ctx *fc, const void *l3,
					  const struct udphdr *udp_in)
{
	if (fc->family == NT_FAMILY_V4) {
		struct iphdr *ip = (void *)fc->l34;
		struct udphdr *udp = (void *)(ip + 1);
		__u16 ttl_word, new_ttl_word;
		__u32 d;

		__builtin_memcpy(ip, l3, sizeof(*ip));
		__builtin_memcpy(udp, udp_in, sizeof(*udp));
		d = nt_csum_delta32(ip->saddr, fc->relay_v4);
		/* TTL shares a 16-bit checksum word with the protocol */
		__builtin_memcpy(&ttl_word, &ip->ttl, 2);
		ip->ttl--;
		__builtin_memcpy(&new_ttl_word, &ip->ttl, 2);
		ip->check = nt_csum_apply(ip->check, d + nt_csum_delta16(ttl_word, new_ttl_word));
		ip->saddr = fc->relay_v4;
		udp->check = nt_fan_udp_check(udp->check,
					      d + nt_csum_delta16(udp->source, fc->media_port));
		udp->source = fc->media_port;
	} else {
		struct ipv6hdr *ip6 = (void *)fc->l34;
		struct udphdr *udp = (void *)(ip6 + 1);
		__u32 d;

		__builtin_memcpy(ip6, l3, sizeof(*ip6));
		__builtin_memcpy(udp, udp_in, sizeof(*udp));
		d = nt_csum_delta128((const __u32 *)&ip6->saddr, (const __u32 *)fc->relay_v6);
		ip6->hop_limit--;
		__builtin_memcpy(&ip6->saddr, fc->relay_v6, 16);
		udp->check = nt_fan_udp_check(udp->check,
					      d + nt_csum_delta16(udp->source, fc->media_port));
		udp->source = fc->media_port;
	}
}

SEC("tc")
int nt_tc_fanout(struct __sk_buff *skb)
{
	struct nt_fan_ctx fc = { .skb = skb };
	const struct nt_config *cfg;
	struct nt_cursor c;
	struct nt_mapping *m;
	struct ethhdr *eth;
	struct udphdr *udp;
	void *l3;
	__u32 zero = 0, len = skb->len, n, last, ifindex = 0, ip_len, ip_hdr, udp_len, gid;
	__be16 proto;

	cfg = bpf_map_lookup_elem(&nt_config, &zero);
	if (!cfg || !cfg->media_port)
		return NT_TC_ACT_OK;
	bpf_skb_pull_data(skb, len < NT_FAN_PULL_LEN ? len : NT_FAN_PULL_LEN);
	c.pos = (void *)(long)skb->data;
	c.end = (void *)(long)skb->data_end;
	if (nt_parse_eth(&c, &eth, &proto) < 0)
		return NT_TC_ACT_OK;
	__builtin_memcpy(fc.fallback_macs, eth->h_source, 6);
	__builtin_memcpy(fc.fallback_macs + 6, eth->h_dest, 6);
	__builtin_memcpy(fc.pkt_macs, eth, sizeof(fc.pkt_macs));
	fc.l3_off = (__u32)(c.pos - (void *)(long)skb->data);
	l3 = c.pos;

	if (proto == bpf_htons(NT_ETH_P_IP)) {
		struct iphdr *ip;
		__u32 ihl_len;

		if (nt_parse_ipv4(&c, &ip, &ihl_len) < 0 || ihl_len != sizeof(*ip) ||
		    ip->protocol != IPPROTO_UDP || ip->daddr != *(__be32 *)cfg->relay_v4 ||
		    (ip->frag_off & bpf_htons(NT_IP_MF | NT_IP_OFFMASK)) || ip->ttl <= 1)
			return NT_TC_ACT_OK;
		fc.family = NT_FAMILY_V4;
		ip_len = bpf_ntohs(ip->tot_len);
		ip_hdr = sizeof(*ip);
		fc.sender.addr[10] = fc.sender.addr[11] = 0xff;
		__builtin_memcpy(&fc.sender.addr[12], &ip->saddr, 4);
	} else if (proto == bpf_htons(NT_ETH_P_IPV6)) {
		struct ipv6hdr *ip6;

		if (nt_parse_ipv6(&c, &ip6) < 0 || ip6->nexthdr != IPPROTO_UDP ||
		    ip6->hop_limit <= 1)
			return NT_TC_ACT_OK;
		if (!nt_addr6_eq(&ip6->daddr, cfg->relay_v6))
			return NT_TC_ACT_OK;
		fc.family = NT_FAMILY_V6;
		/* payload_len 0 (a jumbogram) fails the length checks below */
		ip_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		ip_hdr = sizeof(*ip6);
		__builtin_memcpy(fc.sender.addr, &ip6->saddr, 16);
	} else {
		return NT_TC_ACT_OK;
	}
	if (nt_parse_udp(&c, &udp) < 0 || udp->dest != bpf_htons(cfg->media_port))
		return NT_TC_ACT_OK;
	if (nt_is_control(udp, bpf_ntohs(udp->len), c.end))
		return NT_TC_ACT_OK;
	fc.sender.port = bpf_ntohs(udp->source);
	fc.sender.family = fc.family;

	if (fc.family == NT_FAMILY_V4) {
		struct nt_key4 k4 = { .port = bpf_ntohs(udp->source) };

		__builtin_memcpy(k4.addr, &fc.sender.addr[12], 4);
		m = bpf_map_lookup_elem(&nt_mappings4, &k4);
	} else {
		m = bpf_map_lookup_elem(&nt_mappings, &fc.sender);
	}
	if (!m || !(m->flags & NT_MAPPING_F_FANOUT))
		return NT_TC_ACT_OK;
	/*
	 * The XDP program drops inconsistent lengths before they get here;
	 * without it (detached, another program in its place) so does this one.
	 */
	udp_len = bpf_ntohs(udp->len);
	if (ip_len < ip_hdr + sizeof(*udp) || fc.l3_off + ip_len > len ||
	    udp_len < sizeof(*udp) || udp_len > ip_len - ip_hdr ||
	    (fc.family == NT_FAMILY_V6 && !udp->check)) {
		nt_count(NT_STAT_DROP_MALFORMED, len);
		return NT_TC_ACT_SHOT;
	}
	gid = m->group_id;
	fc.g = bpf_map_lookup_elem(&nt_groups, &gid);
	if (!fc.g) {
		nt_count(NT_STAT_DROP_NO_GROUP, len);
		return NT_TC_ACT_SHOT;
	}
	fc.st = bpf_map_lookup_elem(&nt_group_stats, &gid);
	if (!fc.st) { /* the group's first packet (since the daemon folded them in) */
		bpf_map_update_elem(&nt_group_stats, &gid, &nt_group_stats_zero, BPF_NOEXIST);
		fc.st = bpf_map_lookup_elem(&nt_group_stats, &gid);
	}
	fc.no_fib = !!(cfg->flags & NT_CONFIG_F_NO_FIB);
	fc.media_port = bpf_htons(cfg->media_port);
	__builtin_memcpy(&fc.relay_v4, cfg->relay_v4, 4);
	__builtin_memcpy(fc.relay_v6, cfg->relay_v6, 16);
	fc.now = nt_now();
	fc.ifindex_in = skb->ingress_ifindex;
	fc.l3_len = ip_len;
	/* the parsers checked the IP header through their cursor: again for the verifier */
	if (fc.family == NT_FAMILY_V4) {
		if (l3 + sizeof(struct iphdr) > (void *)(long)skb->data_end)
			return NT_TC_ACT_SHOT;
	} else if (l3 + sizeof(struct ipv6hdr) > (void *)(long)skb->data_end) {
		return NT_TC_ACT_SHOT;
	}
	nt_fan_common(&fc, l3, udp);

	/*
	 * Clones for all but the last member that wants a copy; that one gets
	 * the packet itself (bpf_redirect), one clone and one free fewer.
	 */
	n = fc.g->n_members;
	if (n > NT_GROUP_MAX_MEMBERS)
		n = NT_GROUP_MAX_MEMBERS;
	fc.n = fc.last = n;
	bpf_loop(NT_GROUP_MAX_MEMBERS, nt_fan_find_last, &fc, 0);
	last = fc.last;
	if (last < n) {
		bpf_loop(last, nt_fan_one, &fc, 0);
		ifindex = nt_fan_point(&fc, last);
	}

	if (ifindex)
		fc.copies++;
	if (fc.st) {
		if (ifindex)
			fc.st->delivered[last & (NT_GROUP_MAX_MEMBERS - 1)]++;
		fc.st->packets_in++;
		fc.st->copies_out += fc.copies;
		fc.st->bytes_out += (__u64)fc.copies * len;
	}
	nt_count_n(NT_STAT_FANOUT_COPIES, fc.copies, (__u64)fc.copies * len);
	nt_count_n(NT_STAT_DROP_NO_ROUTE, fc.no_route, (__u64)fc.no_route * len);
	return ifindex ? bpf_redirect(ifindex, 0) : NT_TC_ACT_SHOT;
}

#endif /* NT_FANOUT_H */
