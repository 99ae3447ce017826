/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Header parsing on a cursor, xdp-tools style: each helper checks bounds
 * against data_end before it reads, advances the cursor, and returns -1 when
 * the packet is too short. The verifier rejects any access it cannot prove
 * in bounds, so every pointer handed back here has been checked.
 */
#ifndef NT_PARSE_H
#define NT_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NT_ETH_ALEN 6
#define NT_ETH_P_IP 0x0800
#define NT_ETH_P_IPV6 0x86DD
#define NT_ETH_P_8021Q 0x8100
#define NT_ETH_P_8021AD 0x88A8
#define NT_IP_MF 0x2000
#define NT_IP_OFFMASK 0x1fff
#define NT_IPV6_FRAG_OFFMASK 0xfff8 /* network order masks applied after ntohs */
#define NT_NEXTHDR_HOP 0
#define NT_NEXTHDR_ROUTING 43
#define NT_NEXTHDR_FRAGMENT 44
#define NT_NEXTHDR_DEST 60
#define NT_NEXTHDR_NONE 59
#define NT_IPV6_EXT_MAX 4 /* extension headers walked before giving up */

struct nt_cursor {
	void *pos;
	void *end;
};

struct nt_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* Ethernet, then at most one 802.1Q/802.1ad tag. Returns the inner ethertype (network order). */
static __always_inline int nt_parse_eth(struct nt_cursor *c, struct ethhdr **eth,
					__be16 *proto)
{
	struct ethhdr *e = c->pos;

	if ((void *)(e + 1) > c->end)
		return -1;
	c->pos = e + 1;
	*eth = e;
	*proto = e->h_proto;
	if (*proto == bpf_htons(NT_ETH_P_8021Q) || *proto == bpf_htons(NT_ETH_P_8021AD)) {
		struct nt_vlan_hdr *v = c->pos;

		if ((void *)(v + 1) > c->end)
			return -1;
		c->pos = v + 1;
		*proto = v->proto;
	}
	return 0;
}

/* IPv4 header with its options; *ihl_len is the header length in bytes. */
static __always_inline int nt_parse_ipv4(struct nt_cursor *c, struct iphdr **ip,
					 __u32 *ihl_len)
{
	struct iphdr *h = c->pos;
	__u32 len;

	if ((void *)(h + 1) > c->end)
		return -1;
	if (h->version != 4 || h->ihl < 5)
		return -1;
	len = h->ihl * 4;
	/* len is at most 60: bounded for the verifier by the 4-bit field */
	if (c->pos + len > c->end)
		return -1;
	c->pos += len;
	*ip = h;
	*ihl_len = len;
	return 0;
}

static __always_inline int nt_parse_ipv6(struct nt_cursor *c, struct ipv6hdr **ip6)
{
	struct ipv6hdr *h = c->pos;

	if ((void *)(h + 1) > c->end)
		return -1;
	if (h->version != 6)
		return -1;
	c->pos = h + 1;
	*ip6 = h;
	return 0;
}

/*
 * Walk IPv6 extension headers up to the transport header. *nexthdr is the
 * transport protocol; *frag is set to the fragment header when there is one;
 * *ext is the number of extension headers seen. -1 on truncation or when
 * there are more than NT_IPV6_EXT_MAX of them.
 */
static __always_inline int nt_parse_ipv6_ext(struct nt_cursor *c, __u8 *nexthdr,
					     struct frag_hdr **frag, int *ext)
{
	*frag = NULL;
	*ext = 0;
#pragma unroll
	for (int i = 0; i < NT_IPV6_EXT_MAX; i++) {
		switch (*nexthdr) {
		case NT_NEXTHDR_HOP:
		case NT_NEXTHDR_ROUTING:
		case NT_NEXTHDR_DEST: {
			struct ipv6_opt_hdr *o = c->pos;

			if ((void *)(o + 1) > c->end)
				return -1;
			/* hdrlen counts 8-octet units beyond the first 8 */
			__u32 len = ((__u32)o->hdrlen + 1) * 8;

			if (c->pos + len > c->end)
				return -1;
			*nexthdr = o->nexthdr;
			c->pos += len;
			(*ext)++;
			break;
		}
		case NT_NEXTHDR_FRAGMENT: {
			struct frag_hdr *f = c->pos;

			if ((void *)(f + 1) > c->end)
				return -1;
			*nexthdr = f->nexthdr;
			*frag = f;
			c->pos = f + 1;
			(*ext)++;
			break;
		}
		default:
			return 0;
		}
	}
	switch (*nexthdr) {
	case NT_NEXTHDR_HOP:
	case NT_NEXTHDR_ROUTING:
	case NT_NEXTHDR_DEST:
	case NT_NEXTHDR_FRAGMENT:
		return -1;
	}
	return 0;
}

static __always_inline int nt_parse_udp(struct nt_cursor *c, struct udphdr **udp)
{
	struct udphdr *u = c->pos;

	if ((void *)(u + 1) > c->end)
		return -1;
	c->pos = u + 1;
	*udp = u;
	return 0;
}

#endif /* NT_PARSE_H */
