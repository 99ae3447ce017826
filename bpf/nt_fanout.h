/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TC ingress fan-out for groups of three or more. XDP cannot copy a frame,
 * so it passes media of NT_MAPPING_F_FANOUT mappings up (pass_fanout); here,
 * before the IP stack sees it, the packet is rewritten once per receiver
 * (relay:media_port -> member) and each copy leaves with bpf_clone_redirect.
 * The original is consumed. Included by nattrav.bpf.c: one object, so both
 * programs share the maps.
 *
 * skb helpers invalidate packet pointers, so the per-copy work is done with
 * offsets and bpf_skb_store_bytes / bpf_l[34]_csum_replace.
 */
#ifndef NT_FANOUT_H
#define NT_FANOUT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nattrav_abi.h"
#include "nt_maps.h"
#include "nt_parse.h"
#include "nt_common.h"

#define NT_TC_ACT_OK 0
#define NT_TC_ACT_SHOT 2
/* eth + vlan + ipv6 + udp + a STUN header: all the parser reads */
#define NT_FAN_PULL_LEN 86

struct nt_fan_ctx {
	struct __sk_buff *skb;
	struct nt_fanout_group *g;
	struct nt_endpoint sender;
	__u8 cur_addr[16]; /* destination the packet carries now */
	__be16 cur_port;
	__u8 family;
	__u8 pad;
	__u32 l3_off, l4_off;
	__u8 fallback_macs[12]; /* dst = the sender's next hop, src = ours */
	__u32 copies;
	__u32 no_route;
};

static __always_inline bool nt_ep_eq(const struct nt_endpoint *a, const struct nt_endpoint *b)
{
	const __u32 *x = (const __u32 *)a->addr, *y = (const __u32 *)b->addr;

	return a->port == b->port && x[0] == y[0] && x[1] == y[1] && x[2] == y[2] &&
	       x[3] == y[3];
}

/* MACs for the copy to mb; returns the interface to send it from, 0 to skip it. */
static __always_inline __u32 nt_fan_route(struct nt_fan_ctx *fc, const struct nt_endpoint *mb)
{
	struct __sk_buff *skb = fc->skb;
	struct bpf_fib_lookup fib = {};
	__u32 zero = 0;
	struct nt_config *cfg = bpf_map_lookup_elem(&nt_config, &zero);
	long rc;

	if (!cfg || (cfg->flags & NT_CONFIG_F_NO_FIB))
		goto fallback;
	fib.ifindex = skb->ingress_ifindex;
	fib.l4_protocol = IPPROTO_UDP;
	fib.sport = cfg->media_port;
	fib.dport = mb->port;
	fib.tot_len = (__u16)(skb->len - fc->l3_off);
	if (fc->family == NT_FAMILY_V4) {
		fib.family = NT_AF_INET;
		__builtin_memcpy(&fib.ipv4_dst, &mb->addr[12], 4);
		__builtin_memcpy(&fib.ipv4_src, &cfg->relay_v4, 4);
	} else {
		fib.family = NT_AF_INET6;
		__builtin_memcpy(fib.ipv6_dst, mb->addr, 16);
		__builtin_memcpy(fib.ipv6_src, cfg->relay_v6, 16);
	}
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		__u8 macs[12];

		__builtin_memcpy(macs, fib.dmac, 6);
		__builtin_memcpy(macs + 6, fib.smac, 6);
		bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0);
		return fib.ifindex;
	}
	if (rc == BPF_FIB_LKUP_RET_BLACKHOLE || rc == BPF_FIB_LKUP_RET_UNREACHABLE ||
	    rc == BPF_FIB_LKUP_RET_PROHIBIT || rc == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		fc->no_route++;
		return 0;
	}
fallback:
	bpf_skb_store_bytes(skb, 0, fc->fallback_macs, sizeof(fc->fallback_macs), 0);
	return skb->ingress_ifindex;
}

/* Point the packet at member i and send a copy. bpf_loop callback. */
static long nt_fan_one(__u32 i, void *data)
{
	struct nt_fan_ctx *fc = data;
	struct __sk_buff *skb = fc->skb;
	struct nt_fanout_group *g = fc->g;
	struct nt_endpoint *mb;
	__u32 csum_off = fc->l4_off + 6, ifindex;

	if (i >= g->n_members)
		return 1;
	/* bpf_loop runs i below NT_GROUP_MAX_MEMBERS; the mask tells the verifier */
	i &= NT_GROUP_MAX_MEMBERS - 1;
	mb = &g->members[i];
	if (mb->family != fc->family || nt_ep_eq(mb, &fc->sender))
		return 0; /* never back to the sender */

	if (fc->family == NT_FAMILY_V4) {
		__be32 from, to;

		__builtin_memcpy(&from, &fc->cur_addr[12], 4);
		__builtin_memcpy(&to, &mb->addr[12], 4);
		/* MANGLED_0: a zero (absent) IPv4 UDP checksum stays zero */
		bpf_l4_csum_replace(skb, csum_off, from, to,
				    BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4);
		bpf_l3_csum_replace(skb, fc->l3_off + 10, from, to, 4);
		bpf_skb_store_bytes(skb, fc->l3_off + 16, &to, 4, 0);
	} else {
		__s64 diff = bpf_csum_diff((__be32 *)fc->cur_addr, 16, (__be32 *)mb->addr, 16, 0);

		bpf_l4_csum_replace(skb, csum_off, 0, diff, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0);
		bpf_skb_store_bytes(skb, fc->l3_off + 24, mb->addr, 16, 0);
	}
	bpf_l4_csum_replace(skb, csum_off, fc->cur_port, mb->port, BPF_F_MARK_MANGLED_0 | 2);
	bpf_skb_store_bytes(skb, fc->l4_off + 2, &mb->port, 2, 0);
	__builtin_memcpy(fc->cur_addr, mb->addr, 16);
	fc->cur_port = mb->port;

	ifindex = nt_fan_route(fc, mb);
	if (!ifindex)
		return 0;
	if (bpf_clone_redirect(skb, ifindex, 0) == 0) {
		__sync_fetch_and_add(&g->delivered[i], 1);
		fc->copies++;
	}
	return 0;
}

/* Source becomes relay:media_port and TTL drops by one, once for all copies. */
static __always_inline void nt_fan_common(struct nt_fan_ctx *fc, const struct nt_config *cfg,
					  __be16 sport, __u16 ttl_word, __u16 new_ttl_word)
{
	struct __sk_buff *skb = fc->skb;
	__u32 csum_off = fc->l4_off + 6;

	if (fc->family == NT_FAMILY_V4) {
		__be32 from, to;

		__builtin_memcpy(&from, &fc->sender.addr[12], 4);
		__builtin_memcpy(&to, cfg->relay_v4, 4);
		bpf_l4_csum_replace(skb, csum_off, from, to,
				    BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4);
		bpf_l3_csum_replace(skb, fc->l3_off + 10, from, to, 4);
		bpf_skb_store_bytes(skb, fc->l3_off + 12, &to, 4, 0);
		bpf_l3_csum_replace(skb, fc->l3_off + 10, ttl_word, new_ttl_word, 2);
		bpf_skb_store_bytes(skb, fc->l3_off + 8, &new_ttl_word, 2, 0);
	} else {
		__s64 diff = bpf_csum_diff((__be32 *)fc->sender.addr, 16,
					   (__be32 *)cfg->relay_v6, 16, 0);
		__u8 hop = (__u8)(new_ttl_word & 0xff);

		bpf_l4_csum_replace(skb, csum_off, 0, diff, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0);
		bpf_skb_store_bytes(skb, fc->l3_off + 8, cfg->relay_v6, 16, 0);
		bpf_skb_store_bytes(skb, fc->l3_off + 7, &hop, 1, 0);
	}
	bpf_l4_csum_replace(skb, csum_off, sport, cfg->media_port, BPF_F_MARK_MANGLED_0 | 2);
	bpf_skb_store_bytes(skb, fc->l4_off, &cfg->media_port, 2, 0);
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
	__u16 ttl_word = 0, new_ttl_word = 0;
	__u32 zero = 0, len = skb->len;
	__be16 proto, sport;

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
	fc.l3_off = (__u32)(c.pos - (void *)(long)skb->data);

	if (proto == bpf_htons(NT_ETH_P_IP)) {
		struct iphdr *ip;
		__u32 ihl_len;

		if (nt_parse_ipv4(&c, &ip, &ihl_len) < 0 || ihl_len != sizeof(*ip) ||
		    ip->protocol != IPPROTO_UDP || ip->daddr != *(__be32 *)cfg->relay_v4 ||
		    (ip->frag_off & bpf_htons(NT_IP_MF | NT_IP_OFFMASK)) || ip->ttl <= 1)
			return NT_TC_ACT_OK;
		fc.family = NT_FAMILY_V4;
		fc.sender.addr[10] = fc.sender.addr[11] = 0xff;
		__builtin_memcpy(&fc.sender.addr[12], &ip->saddr, 4);
		/* TTL shares a 16-bit checksum word with the protocol */
		__u8 w[2] = { ip->ttl - 1, ip->protocol };

		ttl_word = *(__u16 *)&ip->ttl;
		__builtin_memcpy(&new_ttl_word, w, 2);
	} else if (proto == bpf_htons(NT_ETH_P_IPV6)) {
		struct ipv6hdr *ip6;

		if (nt_parse_ipv6(&c, &ip6) < 0 || ip6->nexthdr != IPPROTO_UDP ||
		    ip6->hop_limit <= 1)
			return NT_TC_ACT_OK;
		if (!nt_addr6_eq(&ip6->daddr, cfg->relay_v6))
			return NT_TC_ACT_OK;
		fc.family = NT_FAMILY_V6;
		__builtin_memcpy(fc.sender.addr, &ip6->saddr, 16);
		new_ttl_word = (__u16)(ip6->hop_limit - 1); /* the low byte: new hop limit */
	} else {
		return NT_TC_ACT_OK;
	}
	fc.l4_off = (__u32)(c.pos - (void *)(long)skb->data);
	if (nt_parse_udp(&c, &udp) < 0 || udp->dest != cfg->media_port)
		return NT_TC_ACT_OK;
	if (nt_is_control(udp, bpf_ntohs(udp->len), c.end))
		return NT_TC_ACT_OK;
	sport = udp->source;
	fc.sender.port = sport;
	fc.sender.family = fc.family;

	m = bpf_map_lookup_elem(&nt_mappings, &fc.sender);
	if (!m || !(m->flags & NT_MAPPING_F_FANOUT))
		return NT_TC_ACT_OK;
	fc.g = bpf_map_lookup_elem(&nt_groups, &m->group_id);
	if (!fc.g) {
		nt_count(NT_STAT_DROP_NO_GROUP, len);
		return NT_TC_ACT_SHOT;
	}
	if (fc.family == NT_FAMILY_V4) {
		fc.cur_addr[10] = fc.cur_addr[11] = 0xff;
		__builtin_memcpy(&fc.cur_addr[12], cfg->relay_v4, 4);
	} else {
		__builtin_memcpy(fc.cur_addr, cfg->relay_v6, 16);
	}
	fc.cur_port = cfg->media_port;

	nt_fan_common(&fc, cfg, sport, ttl_word, new_ttl_word);
	bpf_loop(NT_GROUP_MAX_MEMBERS, nt_fan_one, &fc, 0);

	__sync_fetch_and_add(&fc.g->packets_in, 1);
	__sync_fetch_and_add(&fc.g->copies_out, fc.copies);
	__sync_fetch_and_add(&fc.g->bytes_out, (__u64)fc.copies * len);
	nt_count_n(NT_STAT_FANOUT_COPIES, fc.copies, (__u64)fc.copies * len);
	nt_count_n(NT_STAT_DROP_NO_ROUTE, fc.no_route, (__u64)fc.no_route * len);
	return NT_TC_ACT_SHOT;
}

#endif /* NT_FANOUT_H */
