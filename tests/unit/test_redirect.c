// SPDX-License-Identifier: GPL-2.0
/* nt_redirect: the ERR 300 text a client follows, and what it refuses to follow. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "nt_line.h"
#include "nt_redirect.h"

Test(redirect, forms_a_relay_writes)
{
	char s[NT_REDIRECT_MAX + 1];

	cr_assert_eq(nt_redirect_parse("relay=203.0.113.2:4433", s, sizeof(s)), 0);
	cr_assert_str_eq(s, "203.0.113.2:4433");
	cr_assert_eq(nt_redirect_parse("relay=[2001:db8::2]:443", s, sizeof(s)), 0);
	cr_assert_str_eq(s, "[2001:db8::2]:443");
	cr_assert_eq(nt_redirect_parse("relay=relay-b.example.net:4433 group lives there", s,
				       sizeof(s)), 0);
	cr_assert_str_eq(s, "relay-b.example.net:4433");
}

Test(redirect, from_the_reply_line)
{
	const char *line = "ERR 300 relay=203.0.113.3:4433";
	struct nt_line_reply r;
	char s[NT_REDIRECT_MAX + 1];

	cr_assert_eq(nt_line_parse_reply(line, strlen(line), &r), 0);
	cr_assert_eq(r.kind, NT_REPLY_ERR);
	cr_assert_eq(r.code, NT_LINE_E_REDIRECT);
	cr_assert_eq(nt_redirect_parse(r.text, s, sizeof(s)), 0);
	cr_assert_str_eq(s, "203.0.113.3:4433");
}

Test(redirect, refused)
{
	char s[NT_REDIRECT_MAX + 1] = "untouched";
	const char *bad[] = {
		"", "relay=", "relay= 1.2.3.4:1", "host=1.2.3.4:1", "relay=1.2.3.4",
		"relay=1.2.3.4:0", "relay=1.2.3.4:65536", "relay=1.2.3.4:44x",
		"relay=2001:db8::1:4433", "relay=[2001:db8::1]", "relay=[zz::1]:1",
		"relay=a/b:1", "relay=-a:1", "relay=a:01", "RELAY=1.2.3.4:1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(nt_redirect_parse(bad[i], s, sizeof(s)), -EINVAL, "%s", bad[i]);
	cr_assert_eq(nt_redirect_parse(NULL, s, sizeof(s)), -EINVAL);
	cr_assert_str_eq(s, "untouched");
	/* no room: refused, never cut short into another address */
	cr_assert_eq(nt_redirect_parse("relay=203.0.113.2:4433", s, 8), -EINVAL);
}
