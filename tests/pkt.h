/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Crafting test frames (Ethernet, optional 802.1Q, IPv4/IPv6, UDP) with
 * checksums computed from scratch, and checking frames the same way. Shared
 * by the XDP program tests, fuzzing and benchmarks.
 */
#ifndef NT_TEST_PKT_H
#define NT_TEST_PKT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "nattrav_abi.h"

#define PKT_MAX 2048
#define PKT_ETH_LEN 14
#define PKT_VLAN_LEN 4
#define PKT_IP4_LEN 20
#define PKT_IP6_LEN 40
#define PKT_UDP_LEN 8

struct pkt_spec {
	bool vlan;
	uint16_t vlan_tci;
	uint8_t src_mac[6], dst_mac[6];
	struct nt_endpoint src, dst; /* same family */
	uint8_t ttl;                 /* 0 means 64 */
	const uint8_t *payload;
	size_t payload_len;
	unsigned ip_opts_len;  /* IPv4 options, multiple of 4, at most 40 */
	bool zero_udp_csum;
	uint16_t frag_off;     /* IPv4 frag_off field in host order (flags | offset) */
	bool v6_frag;          /* IPv6 fragment header; offset from frag_off */
	bool v6_dstopts;       /* IPv6 8-byte destination options header */
};

/* One's complement sum of a byte range, added to sum (not folded). */
/* A big-endian 16-bit field of a frame (a UDP port) as its number. */
static inline uint16_t pkt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t pkt_sum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static inline uint16_t pkt_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Checksum value (host order) of a region whose checksum field is zeroed. */
static inline uint16_t pkt_csum(const void *data, size_t len, uint32_t sum)
{
	return (uint16_t)~pkt_fold(pkt_sum(data, len, sum));
}

static inline uint32_t pkt_pseudo_sum(int family, const uint8_t *ip, uint16_t udp_len)
{
	uint32_t sum = 0;

	if (family == NT_FAMILY_V4) {
		sum = pkt_sum(ip + 12, 8, 0); /* saddr, daddr */
		sum += 17 + udp_len;
	} else {
		sum = pkt_sum(ip + 8, 32, 0);
		sum += 17 + udp_len;
	}
	return sum;
}

/* Build the frame into buf; returns its length, 0 when it does not fit. */
static inline size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	size_t off = 0, l3, l4, udp_len = PKT_UDP_LEN + s->payload_len;
	bool v4 = s->src.family == NT_FAMILY_V4;
	size_t need = PKT_ETH_LEN + (s->vlan ? PKT_VLAN_LEN : 0) +
		      (v4 ? PKT_IP4_LEN + s->ip_opts_len : PKT_IP6_LEN) +
		      (s->v6_frag ? 8 : 0) + (s->v6_dstopts ? 8 : 0) + udp_len;
	uint8_t *ip, *udp;

	if (need > cap)
		return 0;
	memset(buf, 0, need);
	memcpy(buf, s->dst_mac, 6);
	memcpy(buf + 6, s->src_mac, 6);
	off = 12;
	if (s->vlan) {
		buf[off++] = 0x81;
		buf[off++] = 0x00;
		buf[off++] = (uint8_t)(s->vlan_tci >> 8);
		buf[off++] = (uint8_t)s->vlan_tci;
	}
	buf[off++] = v4 ? 0x08 : 0x86;
	buf[off++] = v4 ? 0x00 : 0xdd;
	l3 = off;
	ip = buf + l3;
	if (v4) {
		size_t ihl = PKT_IP4_LEN + s->ip_opts_len;
		uint16_t tot = (uint16_t)(ihl + udp_len);

		ip[0] = (uint8_t)(0x40 | (ihl / 4));
		ip[2] = (uint8_t)(tot >> 8);
		ip[3] = (uint8_t)tot;
		ip[4] = 0x12;
		ip[5] = 0x34;
		ip[6] = (uint8_t)(s->frag_off >> 8);
		ip[7] = (uint8_t)s->frag_off;
		ip[8] = s->ttl ? s->ttl : 64;
		ip[9] = 17;
		memcpy(ip + 12, s->src.addr + 12, 4);
		memcpy(ip + 16, s->dst.addr + 12, 4);
		/* options: NOPs then an end-of-list, harmless and well-formed */
		for (unsigned i = 0; i < s->ip_opts_len; i++)
			ip[PKT_IP4_LEN + i] = i + 1 == s->ip_opts_len ? 0 : 1;
		l4 = l3 + ihl;
		uint16_t c = pkt_csum(ip, ihl, 0);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
	} else {
		size_t ext = (s->v6_frag ? 8 : 0) + (s->v6_dstopts ? 8 : 0);
		uint16_t plen = (uint16_t)(ext + udp_len);
		uint8_t *h = ip + PKT_IP6_LEN;
		uint8_t *nh = ip + 6;

		ip[0] = 0x60;
		ip[4] = (uint8_t)(plen >> 8);
		ip[5] = (uint8_t)plen;
		ip[7] = s->ttl ? s->ttl : 64;
		memcpy(ip + 8, s->src.addr, 16);
		memcpy(ip + 24, s->dst.addr, 16);
		if (s->v6_dstopts) {
			*nh = 60;
			nh = h;
			h[1] = 0; /* 8 bytes: next, len, PadN of 4... */
			h[2] = 1;
			h[3] = 4;
			h += 8;
		}
		if (s->v6_frag) {
			*nh = 44;
			nh = h;
			h[2] = (uint8_t)(s->frag_off >> 8);
			h[3] = (uint8_t)s->frag_off;
			h[7] = 1;
			h += 8;
		}
		*nh = 17;
		l4 = (size_t)(h - buf);
	}
	udp = buf + l4;
	/* nt_endpoint ports are host order, the header's network order */
	udp[0] = (uint8_t)(s->src.port >> 8);
	udp[1] = (uint8_t)s->src.port;
	udp[2] = (uint8_t)(s->dst.port >> 8);
	udp[3] = (uint8_t)s->dst.port;
	udp[4] = (uint8_t)(udp_len >> 8);
	udp[5] = (uint8_t)udp_len;
	if (s->payload_len)
		memcpy(udp + PKT_UDP_LEN, s->payload, s->payload_len);
	if (!s->zero_udp_csum) {
		uint16_t c = pkt_csum(udp, udp_len,
				      pkt_pseudo_sum(s->src.family, ip, (uint16_t)udp_len));
		if (!c)
			c = 0xffff;
		udp[6] = (uint8_t)(c >> 8);
		udp[7] = (uint8_t)c;
	}
	return need;
}

/* Offsets of the headers of a frame built by pkt_build. */
struct pkt_view {
	size_t l3, l4;
	int family;
	uint16_t udp_len;
};

static inline bool pkt_parse(const uint8_t *buf, size_t len, struct pkt_view *v)
{
	size_t off = 12;
	uint8_t nh;

	if (len < 14)
		return false;
	if (buf[12] == 0x81 && buf[13] == 0x00)
		off += 4;
	if (len < off + 2)
		return false;
	v->family = buf[off] == 0x08 ? NT_FAMILY_V4 : NT_FAMILY_V6;
	v->l3 = off + 2;
	if (v->family == NT_FAMILY_V4) {
		if (len < v->l3 + 20)
			return false;
		v->l4 = v->l3 + (size_t)(buf[v->l3] & 0xf) * 4;
	} else {
		v->l4 = v->l3 + 40;
		nh = buf[v->l3 + 6];
		while ((nh == 60 || nh == 44) && len >= v->l4 + 8) {
			nh = buf[v->l4];
			v->l4 += 8;
		}
	}
	if (len < v->l4 + 8)
		return false;
	v->udp_len = (uint16_t)(buf[v->l4 + 4] << 8 | buf[v->l4 + 5]);
	return v->l4 + v->udp_len <= len;
}

/*
 * Recompute the IPv4 header checksum and the UDP checksum from scratch and
 * compare them with the frame's. A zero IPv4 UDP checksum must have stayed
 * zero (want_zero_udp).
 */
static inline bool pkt_sums_ok(const uint8_t *buf, size_t len, bool want_zero_udp)
{
	uint8_t tmp[PKT_MAX];
	struct pkt_view v;
	uint16_t c;

	if (len > sizeof(tmp) || !pkt_parse(buf, len, &v))
		return false;
	memcpy(tmp, buf, len);
	if (v.family == NT_FAMILY_V4) {
		size_t ihl = v.l4 - v.l3;

		tmp[v.l3 + 10] = tmp[v.l3 + 11] = 0;
		c = pkt_csum(tmp + v.l3, ihl, 0);
		if ((buf[v.l3 + 10] << 8 | buf[v.l3 + 11]) != c)
			return false;
	}
	if (want_zero_udp)
		return buf[v.l4 + 6] == 0 && buf[v.l4 + 7] == 0;
	tmp[v.l4 + 6] = tmp[v.l4 + 7] = 0;
	c = pkt_csum(tmp + v.l4, v.udp_len, pkt_pseudo_sum(v.family, tmp + v.l3, v.udp_len));
	if (!c)
		c = 0xffff;
	return (buf[v.l4 + 6] << 8 | buf[v.l4 + 7]) == c;
}

/* Headers consistent enough to be forwarded, judged independently of the program. */
static inline bool pkt_forwardable(const uint8_t *f, size_t len)
{
	struct pkt_view v;

	if (!pkt_parse(f, len, &v) || v.udp_len < 8)
		return false;
	if (v.family == NT_FAMILY_V4) {
		size_t tot = (size_t)(f[v.l3 + 2] << 8 | f[v.l3 + 3]);

		if ((f[v.l3] >> 4) != 4 || v.l4 - v.l3 != 20 || f[v.l3 + 9] != 17)
			return false;
		if ((f[v.l3 + 6] & 0x3f) || f[v.l3 + 7]) /* MF or offset */
			return false;
		if (v.l3 + tot > len || tot < 28 || v.udp_len > tot - 20 || f[v.l3 + 8] <= 1)
			return false;
	} else {
		size_t plen = (size_t)(f[v.l3 + 4] << 8 | f[v.l3 + 5]);

		if ((f[v.l3] >> 4) != 6 || f[v.l3 + 6] != 17 || v.l4 - v.l3 != 40)
			return false;
		if (!plen || v.l3 + 40 + plen > len || v.udp_len > plen || f[v.l3 + 7] <= 1)
			return false;
	}
	return true;
}

/*
 * A media frame for the fuzz tests to mutate, picked by seed: IPv4 or IPv6
 * (from src4 / src6 to dst4 / dst6), with a VLAN tag or not, a zero IPv4
 * UDP checksum or not, 8 to 63 bytes of RTP-looking payload.
 */
static inline size_t pkt_fuzz_template(uint8_t *buf, unsigned seed, const struct nt_endpoint *src4,
				       const struct nt_endpoint *src6,
				       const struct nt_endpoint *dst4,
				       const struct nt_endpoint *dst6)
{
	static const uint8_t payload[64] = { 0x80, 0x60 };
	struct pkt_spec s = { .payload = payload, .payload_len = 8 + seed % 56 };
	bool v6 = seed & 1;

	s.src = v6 ? *src6 : *src4;
	s.dst = v6 ? *dst6 : *dst4;
	s.vlan = seed & 2;
	s.zero_udp_csum = !v6 && (seed & 4);
	return pkt_build(&s, buf, PKT_MAX);
}

#endif /* NT_TEST_PKT_H */
