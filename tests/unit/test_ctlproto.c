// SPDX-License-Identifier: GPL-2.0
/* nt_ctlproto: nattravd's control-socket requests and --metrics addresses. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "nt_ctlproto.h"
#include "nt_endpoint.h"

static int parse(const char *s, struct nt_ctl_req *r, const char **why)
{
	return nt_ctl_parse(s, strlen(s), r, why);
}

Test(ctlproto, status)
{
	struct nt_ctl_req r;

	cr_assert_eq(parse("STATUS", &r, NULL), 0);
	cr_assert_eq(r.cmd, NT_CTL_STATUS);
	cr_assert_eq(parse("status\r", &r, NULL), 0);
	cr_assert_eq(parse("STATUS now", &r, NULL), -EINVAL);
}

Test(ctlproto, drain)
{
	struct nt_ctl_req r;
	const char *why = NULL;

	cr_assert_eq(parse("DRAIN", &r, NULL), 0);
	cr_assert_eq(r.cmd, NT_CTL_DRAIN);
	cr_assert_eq(r.drain, NT_CTL_DRAIN_SHOW);
	cr_assert_eq(parse("drain on", &r, NULL), 0);
	cr_assert_eq(r.drain, NT_CTL_DRAIN_ON);
	cr_assert_eq(parse("DRAIN OFF\r", &r, NULL), 0);
	cr_assert_eq(r.drain, NT_CTL_DRAIN_OFF);
	cr_assert_eq(parse("DRAIN maybe", &r, &why), -EINVAL);
	cr_assert_str_eq(why, "usage: DRAIN [ON|OFF]");
	cr_assert_eq(parse("DRAIN ON now", &r, NULL), -EINVAL);
}

Test(ctlproto, turn)
{
	struct nt_ctl_req r;
	const char *why = NULL;

	cr_assert_eq(parse("TURN", &r, NULL), 0);
	cr_assert_eq(r.cmd, NT_CTL_TURN);
	cr_assert_eq(r.from, 0);
	cr_assert_eq(parse("turn from 17", &r, NULL), 0);
	cr_assert_eq(r.from, 17);
	cr_assert_eq(parse("TURN FROM -1", &r, &why), -EINVAL);
	cr_assert_str_eq(why, "usage: TURN [FROM slot]");
	cr_assert_eq(parse("TURN FROM 4294967295", &r, NULL), -EINVAL);
	cr_assert_eq(parse("TURN FROM", &r, NULL), -EINVAL);
	cr_assert_eq(parse("TURN 5", &r, NULL), -EINVAL);
}

Test(ctlproto, kick_mapping)
{
	struct nt_ctl_req r;
	char b[NT_ENDPOINT_STRLEN];

	cr_assert_eq(parse("KICK MAPPING 203.0.113.7:4000", &r, NULL), 0);
	cr_assert_eq(r.cmd, NT_CTL_KICK_MAPPING);
	cr_assert_str_eq(nt_endpoint_format(&r.ep, b, sizeof(b)), "203.0.113.7:4000");
	cr_assert_eq(parse("kick mapping [2001:db8::1]:9", &r, NULL), 0);
	cr_assert_eq(r.ep.family, NT_FAMILY_V6);
}

Test(ctlproto, kick_session)
{
	struct nt_ctl_req r;

	cr_assert_eq(parse("KICK SESSION 3f2a9c0d11e4b702", &r, NULL), 0);
	cr_assert_eq(r.cmd, NT_CTL_KICK_SESSION);
	cr_assert_eq(r.session, 0x3f2a9c0d11e4b702ull);
	cr_assert_eq(parse("KICK SESSION ABC", &r, NULL), 0);
	cr_assert_eq(r.session, 0xabc);
}

Test(ctlproto, refused_with_a_reason)
{
	static const char *const bad[] = {
		"", " ", "KICK", "KICK MAPPING", "KICK MAPPING 1.2.3.4", "KICK MAPPING 1.2.3.4:0",
		"KICK SESSION 0", "KICK SESSION 00000000000000000", "KICK SESSION xyz",
		"KICK SESSION -1", "KICK GROUP 1", "KICK SESSION 1 2", "HELLO", "STATUS\x01",
		"KICK MAPPING 999.1.1.1:5",
	};
	struct nt_ctl_req r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		cr_assert_eq(parse(bad[i], &r, &why), -EINVAL, "'%s' accepted", bad[i]);
		cr_assert_not_null(why);
	}
}

Test(ctlproto, too_long)
{
	char line[NT_CTL_LINE_MAX + 2];
	struct nt_ctl_req r;
	const char *why = NULL;

	memset(line, 'A', sizeof(line));
	cr_assert_eq(nt_ctl_parse(line, sizeof(line), &r, &why), -EINVAL);
	cr_assert_str_eq(why, "line too long");
}

Test(ctlproto, listen_addr)
{
	struct nt_endpoint ep;
	char b[NT_ENDPOINT_STRLEN];

	cr_assert_eq(nt_listen_addr_parse("9469", &ep), 0);
	cr_assert_str_eq(nt_endpoint_format(&ep, b, sizeof(b)), "127.0.0.1:9469");
	cr_assert_eq(nt_listen_addr_parse("0.0.0.0:80", &ep), 0);
	cr_assert_str_eq(nt_endpoint_format(&ep, b, sizeof(b)), "0.0.0.0:80");
	cr_assert_eq(nt_listen_addr_parse("[::1]:9469", &ep), 0);
	cr_assert_eq(ep.family, NT_FAMILY_V6);
	cr_assert_eq(nt_listen_addr_parse("0", &ep), -EINVAL);
	cr_assert_eq(nt_listen_addr_parse("65536", &ep), -EINVAL);
	cr_assert_eq(nt_listen_addr_parse("", &ep), -EINVAL);
	cr_assert_eq(nt_listen_addr_parse("localhost:9469", &ep), -EINVAL);
}
