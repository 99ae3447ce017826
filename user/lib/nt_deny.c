// SPDX-License-Identifier: GPL-2.0
/* Refused peer addresses: built-in special ranges plus the operator's --deny. */
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

int nt_deny_add(struct nt_deny *d, const char *cidr)
{
	struct nt_cidr c;
	int err = nt_cidr_parse(cidr, &c);

	if (err)
		return err;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct nt_cidr *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = c;
	return 0;
}

void nt_deny_free(struct nt_deny *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* Built-in refusals, on the 128-bit form. Keep in sync with nt_deny.h's list. */
static const struct {
	const char *cidr;
	const char *why;
} builtin[] = {
	{ "0.0.0.0/8", "unspecified" },	{ "::/128", "unspecified" },
	{ "127.0.0.0/8", "loopback" },	{ "::1/128", "loopback" },
	{ "224.0.0.0/4", "multicast" },	{ "ff00::/8", "multicast" },
	{ "255.255.255.255/32", "broadcast" },
};

bool nt_addr_denied(const struct nt_deny *d, const struct nt_endpoint *ep,
		    const char **why)
{
	const char *w = NULL;

	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]) && !w; i++) {
		struct nt_cidr c;

		/* parsing a constant cannot fail; a few ns per verification */
		if (!nt_cidr_parse(builtin[i].cidr, &c) &&
		    in_prefix(ep->addr, c.addr, c.plen))
			w = builtin[i].why;
	}
	for (size_t i = 0; d && i < d->n && !w; i++)
		if (in_prefix(ep->addr, d->v[i].addr, d->v[i].plen))
			w = "denied";
	if (!w && ep->family != NT_FAMILY_V4 && ep->family != NT_FAMILY_V6)
		w = "unspecified";
	if (why)
		*why = w;
	return w != NULL;
}
