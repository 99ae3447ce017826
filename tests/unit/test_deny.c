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
		{ "203.0.113.7:4000", NULL },	  { "[2001:db8::1]:4000", NULL },
		{ "10.1.2.3:5", NULL },		  { "223.255.255.255:1", NULL },
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
