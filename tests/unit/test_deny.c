// SPDX-License-Identifier: GPL-2.0
/* nt_deny: built-in special addresses and operator ranges. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "nt_deny.h"
#include "nt_endpoint.h"

static struct nt_endpoint ep(const char *s)
{
	struct nt_endpoint e;

	cr_assert_eq(nt_endpoint_parse(s, &e), 0, "%s", s);
	return e;
}

static bool denied(const struct nt_deny *d, const char *s, const char **why)
{
	struct nt_endpoint e = ep(s);

	return nt_addr_denied(d, &e, why);
}

Test(deny, builtin)
{
	static const struct {
		const char *ep, *why;
	} cases[] = {
		{ "0.0.0.0:1", "unspecified" },	  { "0.1.2.3:1", "unspecified" },
		{ "[::]:1", "unspecified" },	  { "127.0.0.1:1", "loopback" },
		{ "127.255.0.9:1", "loopback" },  { "[::1]:1", "loopback" },
		{ "224.0.0.1:1", "multicast" },	  { "239.255.255.250:1900", "multicast" },
		{ "[ff02::1]:1", "multicast" },	  { "255.255.255.255:1", "broadcast" },
		{ "8.8.8.8:4000", NULL },	  { "[2606:4700::1111]:4000", NULL },
		{ "1.2.3.4:5", NULL },		  { "223.255.255.255:1", NULL },
	};
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool d = denied(NULL, cases[i].ep, &why);

		cr_assert_eq(d, cases[i].why != NULL, "%s", cases[i].ep);
		if (d)
			cr_assert_str_eq(why, cases[i].why, "%s", cases[i].ep);
		else
			cr_assert_null(why);
	}
	struct nt_endpoint none = { 0 };
	cr_assert(nt_addr_denied(NULL, &none, NULL), "family 0");
}

Test(deny, operator_ranges)
{
	struct nt_deny d = { 0 };
	const char *why;

	cr_assert_eq(nt_deny_add(&d, "10.0.0.0/8"), 0);
	cr_assert_eq(nt_deny_add(&d, "192.168.1.77/24"), 0, "host bits ignored");
	cr_assert_eq(nt_deny_add(&d, "2001:db8:bad::/48"), 0);
	cr_assert_eq(nt_deny_add(&d, "198.51.100.9"), 0, "bare address: /32");
	/* soft built-in ranges allowed, so only the operator's --deny refuses here */
	cr_assert_eq(nt_allow_add(&d, "192.168.0.0/16"), 0);
	cr_assert_eq(nt_allow_add(&d, "2001:db8::/32"), 0);
	cr_assert_eq(nt_allow_add(&d, "198.51.100.0/24"), 0);
	cr_assert_eq(nt_allow_add(&d, "10.0.0.0/8"), 0, "--deny wins over --allow");
	cr_assert(denied(&d, "10.200.3.4:9", &why));
	cr_assert_str_eq(why, "denied");
	cr_assert(denied(&d, "192.168.1.1:9", NULL));
	cr_assert_not(denied(&d, "192.168.2.1:9", NULL));
	cr_assert(denied(&d, "[2001:db8:bad:1::5]:9", NULL));
	cr_assert_not(denied(&d, "[2001:db8:bae::5]:9", NULL));
	cr_assert(denied(&d, "198.51.100.9:1", NULL));
	cr_assert_not(denied(&d, "198.51.100.10:1", NULL));
	cr_assert_not(denied(&d, "11.0.0.1:1", NULL));
	/* a v4 range never matches a v6 address that only looks alike */
	cr_assert_not(denied(&d, "[a00::1]:1", NULL));
	nt_deny_free(&d);
}

Test(deny, bad_ranges)
{
	static const char *bad[] = { "", "/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1",
				     "10.0.0.0/8x", "2001:db8::/129", "host.example/8",
				     "10.0.0/8", "10.0.0.0/08x" };
	struct nt_deny d = { 0 };
	struct nt_cidr c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(nt_deny_add(&d, bad[i]), -EINVAL, "'%s'", bad[i]);
	cr_assert_eq(d.n, 0);
	cr_assert_eq(nt_cidr_parse("0.0.0.0/0", &c), 0);
	cr_assert_eq(c.plen, 96);
	cr_assert_eq(nt_cidr_parse("::/0", &c), 0);
	cr_assert_eq(c.plen, 0);
}

struct ecase {
	const char *ep, *why;
};

static void run_cases(const struct nt_deny *d, const struct ecase *c, size_t n)
{
	const char *why;

	for (size_t i = 0; i < n; i++) {
		bool r = denied(d, c[i].ep, &why);

		cr_assert_eq(r, c[i].why != NULL, "%s: %s", c[i].ep, why ? why : "allowed");
		if (r)
			cr_assert_str_eq(why, c[i].why, "%s", c[i].ep);
	}
}

/* The IANA special-purpose registries, and IPv4 hidden in IPv6 forms. */
Test(deny, iana_and_tricky_encodings)
{
	static const struct ecase cases[] = {
		{ "10.0.0.1:1", "private" },
		{ "172.16.0.1:1", "private" },
		{ "172.31.255.255:1", "private" },
		{ "172.32.0.0:1", NULL },
		{ "192.168.1.1:1", "private" },
		{ "100.64.0.1:1", "cgnat" },
		{ "100.127.255.255:1", "cgnat" },
		{ "100.128.0.0:1", NULL },
		{ "169.254.1.1:1", "link-local" },
		{ "192.0.0.8:1", "ietf-protocol" },
		{ "192.0.2.1:1", "documentation" },
		{ "198.51.100.1:1", "documentation" },
		{ "203.0.113.7:1", "documentation" },
		{ "198.18.0.1:1", "benchmarking" },
		{ "198.19.255.255:1", "benchmarking" },
		{ "198.20.0.0:1", NULL },
		{ "192.88.99.1:1", "6to4-relay" },
		{ "240.0.0.1:1", "reserved" },
		{ "255.255.255.254:1", "reserved" },
		{ "255.255.255.255:1", "broadcast" },
		{ "[fd00::1]:1", "ula" },
		{ "[fc00::1]:1", "ula" },
		{ "[fe80::1]:1", "link-local" },
		{ "[fec0::1]:1", "site-local" },
		{ "[2001:db8::1]:1", "documentation" },
		{ "[3fff::1]:1", "documentation" },
		{ "[2001:2::1]:1", "benchmarking" },
		{ "[100::1]:1", "discard" },
		{ "[64:ff9b:1::1]:1", "nat64-local" },
		/* IPv4-mapped: parsed to IPv4, then checked as IPv4 */
		{ "[::ffff:127.0.0.1]:1", "loopback" },
		{ "[::ffff:10.1.2.3]:1", "private" },
		{ "[::ffff:808:808]:1", NULL },
		/* IPv4-compatible (deprecated): never */
		{ "[::7f00:1]:1", "ipv4-compatible" },
		{ "[::808:808]:1", "ipv4-compatible" },
		/* NAT64 well-known prefix: the IPv4 inside decides */
		{ "[64:ff9b::7f00:1]:1", "embedded-loopback" },
		{ "[64:ff9b::10.9.8.7]:1", "embedded-private" },
		{ "[64:ff9b::a9fe:a9fe]:1", "embedded-link-local" },
		{ "[64:ff9b::808:808]:1", NULL },
		/* 6to4: 2002:V4::/48 */
		{ "[2002:7f00:1::1]:1", "embedded-loopback" },
		{ "[2002:c0a8:101::1]:1", "embedded-private" },
		{ "[2002:e000:1::1]:1", "embedded-multicast" },
		{ "[2002:808:808::1]:1", NULL },
		/* Teredo 2001:0:SERVER:flags:~port:~CLIENT */
		{ "[2001:0:808:808:0:f227:f5ff:fffe]:1", "embedded-private" },	/* client 10.0.0.1 */
		{ "[2001:0:808:808:0:f227:80ff:fffe]:1", "embedded-loopback" },	/* client 127.0.0.1 */
		{ "[2001:0:a00:1:0:f227:fefd:fcfb]:1", "embedded-private" },	/* server 10.0.0.1 */
		{ "[2001:0:808:808:0:f227:fefd:fcfb]:1", NULL },		/* 1.2.3.4 via 8.8.8.8 */
	};

	run_cases(NULL, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Endpoints that did not come through the parser: one canonical form first. */
Test(deny, canonical_form_of_raw_endpoints)
{
	struct nt_endpoint e = { .family = NT_FAMILY_V6 }, c;
	const char *why;

	/* a v4-mapped address carried as family V6 is IPv4 */
	memset(e.addr + 10, 0xff, 2);
	e.addr[12] = 127, e.addr[15] = 1;
	cr_assert(nt_addr_canon(&e, &c));
	cr_assert_eq(c.family, NT_FAMILY_V4);
	cr_assert(nt_addr_denied(NULL, &e, &why));
	cr_assert_str_eq(why, "loopback");
	/* family V4 with junk in the first 12 bytes: only the last 4 count */
	memset(&e, 0xab, sizeof(e));
	e.family = NT_FAMILY_V4;
	e.addr[12] = 10, e.addr[13] = e.addr[14] = 0, e.addr[15] = 1;
	cr_assert(nt_addr_denied(NULL, &e, &why));
	cr_assert_str_eq(why, "private");
	e.addr[12] = 8, e.addr[13] = 8, e.addr[14] = 8, e.addr[15] = 8;
	cr_assert_not(nt_addr_denied(NULL, &e, &why));
	/* an unknown family is refused */
	e.family = 9;
	cr_assert(nt_addr_denied(NULL, &e, &why));
	cr_assert_str_eq(why, "unspecified");
}

/* --allow overrides soft ranges only, for embedded IPv4 too; --deny wins. */
Test(deny, allow)
{
	static const struct ecase cases[] = {
		{ "203.0.113.7:1", NULL },
		{ "[2002:cb00:7107::1]:1", NULL },	/* 6to4 of 203.0.113.7 */
		{ "198.51.100.1:1", "denied" },
		{ "10.1.2.3:1", NULL },
		{ "10.9.0.1:1", "denied" },
		{ "[64:ff9b::10.9.0.1]:1", "embedded-denied" },
		{ "127.0.0.1:1", "loopback" },
		{ "0.0.0.0:1", "unspecified" },
		{ "224.0.0.1:1", "multicast" },
		{ "255.255.255.255:1", "broadcast" },
		{ "[::1]:1", "loopback" },
		{ "[ff02::1]:1", "multicast" },
		{ "[::7f00:1]:1", "ipv4-compatible" },
		{ "[fd00::1]:1", NULL },
		{ "[64:ff9b::7f00:1]:1", "embedded-loopback" },
	};
	struct nt_deny d = { 0 };

	cr_assert_eq(nt_allow_add(&d, "203.0.113.0/24"), 0);
	cr_assert_eq(nt_allow_add(&d, "10.0.0.0/8"), 0);
	cr_assert_eq(nt_allow_add(&d, "0.0.0.0/0"), 0, "cannot open hard ranges");
	cr_assert_eq(nt_allow_add(&d, "::/0"), 0);
	cr_assert_eq(nt_deny_add(&d, "10.9.0.0/16"), 0);
	cr_assert_eq(nt_allow_add(&d, "10.0.0.0/33"), -EINVAL);
	/* with allow 0.0.0.0/0 nothing soft is left: re-deny documentation */
	cr_assert_eq(nt_deny_add(&d, "198.51.100.0/24"), 0);
	run_cases(&d, cases, sizeof(cases) / sizeof(cases[0]));
	nt_deny_free(&d);
}
