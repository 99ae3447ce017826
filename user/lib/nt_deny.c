// SPDX-License-Identifier: GPL-2.0
/* Refused peer addresses: IANA special-purpose ranges plus the operator's --deny/--allow. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "nt_deny.h"
#include "nt_num.h"

static bool in_prefix(const uint8_t *a, const uint8_t *p, unsigned int plen)
{
	unsigned int full = plen / 8, rest = plen % 8;

	if (memcmp(a, p, full))
		return false;
	if (!rest)
		return true;
	return ((a[full] ^ p[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int nt_cidr_parse(const char *s, struct nt_cidr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	uint32_t plen;
	bool v4;

	memset(out, 0, sizeof(*out));
	if (!hl || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, out->addr + 12) == 1) {
		out->addr[10] = out->addr[11] = 0xff;
		v4 = true;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		v4 = false;
	} else {
		return -EINVAL;
	}
	if (!slash)
		plen = v4 ? 32 : 128;
	else if (nt_parse_u32(slash + 1, 0, v4 ? 32 : 128, &plen))
		return -EINVAL;
	out->plen = (uint8_t)(v4 ? plen + 96 : plen);
	/* clear host bits so "10.1.2.3/8" means 10.0.0.0/8 */
	for (unsigned int b = out->plen; b < 128; b++)
		out->addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
	return 0;
}

static int cidrs_add(struct nt_cidr **v, size_t *n, size_t *cap, const char *cidr)
{
	struct nt_cidr c;
	int err = nt_cidr_parse(cidr, &c);

	if (err)
		return err;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct nt_cidr *nv = realloc(*v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = c;
	return 0;
}

int nt_deny_add(struct nt_deny *d, const char *cidr)
{
	return cidrs_add(&d->v, &d->n, &d->cap, cidr);
}

int nt_allow_add(struct nt_deny *d, const char *cidr)
{
	return cidrs_add(&d->allow.v, &d->allow.n, &d->allow.cap, cidr);
}

void nt_deny_free(struct nt_deny *d)
{
	free(d->v);
	free(d->allow.v);
	memset(d, 0, sizeof(*d));
}

/*
 * IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
 * updates), first match wins, so narrower ranges come before the ranges
 * holding them. hard: never a peer, whatever --allow says.
 */
struct range {
	const char *cidr, *why, *ewhy;
	bool hard;
};
#define R(c, w, h) { c, w, "embedded-" w, h }
static const struct range builtin[] = {
	R("0.0.0.0/8", "unspecified", true),
	R("10.0.0.0/8", "private", false),
	R("100.64.0.0/10", "cgnat", false),
	R("127.0.0.0/8", "loopback", true),
	R("169.254.0.0/16", "link-local", false),
	R("172.16.0.0/12", "private", false),
	R("192.0.0.0/24", "ietf-protocol", false),
	R("192.0.2.0/24", "documentation", false),
	R("192.88.99.0/24", "6to4-relay", false),
	R("192.168.0.0/16", "private", false),
	R("198.18.0.0/15", "benchmarking", false),
	R("198.51.100.0/24", "documentation", false),
	R("203.0.113.0/24", "documentation", false),
	R("224.0.0.0/4", "multicast", true),
	R("255.255.255.255/32", "broadcast", true),
	R("240.0.0.0/4", "reserved", false),
	R("::/128", "unspecified", true),
	R("::1/128", "loopback", true),
	R("::/96", "ipv4-compatible", true),
	R("64:ff9b:1::/48", "nat64-local", false),
	R("100::/64", "discard", false),
	R("100:0:0:1::/64", "dummy", false),
	R("2001:2::/48", "benchmarking", false),
	R("2001:10::/28", "orchid", false),
	R("2001:20::/28", "orchid", false),
	R("2001:db8::/32", "documentation", false),
	R("3fff::/20", "documentation", false),
	R("5f00::/16", "srv6", false),
	R("fc00::/7", "ula", false),
	R("fe80::/10", "link-local", false),
	R("fec0::/10", "site-local", false),
	R("ff00::/8", "multicast", true),
};
#undef R
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Parsed once; the table is constant, so a failure here is a bug in it. */
static const struct nt_cidr *builtin_cidrs(void)
{
	static struct nt_cidr c[NBUILTIN];
	static bool ready;

	if (!ready) {
		for (size_t i = 0; i < NBUILTIN; i++)
			if (nt_cidr_parse(builtin[i].cidr, &c[i]))
				abort();
		ready = true;
	}
	return c;
}

bool nt_addr_canon(const struct nt_endpoint *ep, struct nt_endpoint *out)
{
	*out = *ep;
	out->pad = 0;
	if (ep->family == NT_FAMILY_V6 && !memcmp(ep->addr, v4mapped, sizeof(v4mapped)))
		out->family = NT_FAMILY_V4;
	else if (ep->family == NT_FAMILY_V4)
		memcpy(out->addr, v4mapped, sizeof(v4mapped));
	return out->family == NT_FAMILY_V4 || out->family == NT_FAMILY_V6;
}

size_t nt_addr_embedded_v4(const struct nt_endpoint *ep, uint8_t out[2][4])
{
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t compat[12] = { 0 };
	const uint8_t *a = ep->addr;

	if (ep->family != NT_FAMILY_V6)
		return 0;
	if (!memcmp(a, nat64, sizeof(nat64)) || !memcmp(a, compat, sizeof(compat))) {
		memcpy(out[0], a + 12, 4);
		return 1;
	}
	if (a[0] == 0x20 && a[1] == 0x02) {	/* 6to4: 2002:V4ADDR::/48 */
		memcpy(out[0], a + 2, 4);
		return 1;
	}
	if (a[0] == 0x20 && a[1] == 0x01 && !a[2] && !a[3]) {
		/* Teredo 2001:0:SERVER:flags:~port:~CLIENT (RFC 4380) */
		memcpy(out[0], a + 4, 4);
		for (int i = 0; i < 4; i++)
			out[1][i] = (uint8_t)~a[12 + i];
		return 2;
	}
	return 0;
}

static bool in_list(const struct nt_cidr *v, size_t n, const uint8_t *a)
{
	for (size_t i = 0; i < n; i++)
		if (in_prefix(a, v[i].addr, v[i].plen))
			return true;
	return false;
}

/* One address on the 128-bit form; NULL when it may be a peer. */
static const char *check(const struct nt_deny *d, const uint8_t *a, bool embedded)
{
	const struct nt_cidr *c = builtin_cidrs();
	const struct range *soft = NULL;

	for (size_t i = 0; i < NBUILTIN; i++) {
		if (!in_prefix(a, c[i].addr, c[i].plen))
			continue;
		if (builtin[i].hard)
			return embedded ? builtin[i].ewhy : builtin[i].why;
		soft = &builtin[i];
		break;
	}
	if (d && in_list(d->v, d->n, a))
		return embedded ? "embedded-denied" : "denied";
	if (soft && !(d && in_list(d->allow.v, d->allow.n, a)))
		return embedded ? soft->ewhy : soft->why;
	return NULL;
}

bool nt_addr_denied(const struct nt_deny *d, const struct nt_endpoint *ep,
		    const char **why)
{
	struct nt_endpoint c;
	uint8_t emb[2][4], m[16];
	const char *w;

	if (!nt_addr_canon(ep, &c)) {
		w = "unspecified";
	} else {
		w = check(d, c.addr, false);
		for (size_t i = 0, n = nt_addr_embedded_v4(&c, emb); i < n && !w; i++) {
			memcpy(m, v4mapped, sizeof(v4mapped));
			memcpy(m + 12, emb[i], 4);
			w = check(d, m, true);
		}
	}
	if (why)
		*why = w;
	return w != NULL;
}
