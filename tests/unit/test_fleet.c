// SPDX-License-Identifier: GPL-2.0
/* nt_fleet: where a new group goes, and how the place script's answer is judged. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nt_fleet.h"

static struct nt_fleet_relay relay(const char *id, uint32_t groups, uint32_t max, bool draining,
				   uint64_t age_ms)
{
	struct nt_fleet_relay r = { .groups = groups, .max_groups = max, .draining = draining,
				    .age_ms = age_ms };

	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.addr, sizeof(r.addr), "%s.example:4433", id);
	return r;
}

Test(fleet_choose, self_when_it_can_take)
{
	struct nt_fleet_relay rs[] = { relay("b", 0, 10, false, 0) };
	const char *out = NULL;

	cr_assert_eq(nt_fleet_choose("a", true, rs, 1, &out), 0);
	cr_assert_str_eq(out, "a");
}

Test(fleet_choose, full_self_picks_the_emptiest_other)
{
	struct nt_fleet_relay rs[] = {
		relay("a", 10, 10, false, 0),	/* self, in the view too */
		relay("b", 5, 10, false, 0),
		relay("c", 2, 10, false, 0),
		relay("d", 3, 10, false, 0),
	};
	const char *out = NULL;

	cr_assert_eq(nt_fleet_choose("a", false, rs, 4, &out), 0);
	cr_assert_str_eq(out, "c");
}

Test(fleet_choose, skips_draining_full_and_expired)
{
	struct nt_fleet_relay rs[] = {
		relay("b", 0, 10, true, 0),			/* draining */
		relay("c", 10, 10, false, 0),			/* full */
		relay("d", 0, 10, false, NT_FLEET_TTL_MS),	/* heartbeat too old */
		relay("a", 0, 10, false, 0),			/* self, cannot take */
	};
	const char *out = "x";

	cr_assert_eq(nt_fleet_choose("a", false, rs, 4, &out), -ENOENT);
	rs[2].age_ms = NT_FLEET_TTL_MS - 1;
	cr_assert_eq(nt_fleet_choose("a", false, rs, 4, &out), 0);
	cr_assert_str_eq(out, "d");
}

Test(fleet_choose, ties_by_load_then_id)
{
	struct nt_fleet_relay rs[] = {
		relay("c", 1, 10, false, 0),
		relay("b", 1, 10, false, 0),
		relay("d", 1, 10, false, 0),
	};
	const char *out = NULL;

	rs[2].load = 0;
	rs[0].load = rs[1].load = 4;
	cr_assert_eq(nt_fleet_choose("a", false, rs, 3, &out), 0);
	cr_assert_str_eq(out, "d");
	rs[2].load = 4;
	cr_assert_eq(nt_fleet_choose("a", false, rs, 3, &out), 0);
	cr_assert_str_eq(out, "b");
}

Test(fleet_choose, nobody)
{
	const char *out = NULL;

	cr_assert_eq(nt_fleet_choose("a", false, NULL, 0, &out), -ENOENT);
}

Test(fleet_verdict, home_here_elsewhere_nowhere)
{
	cr_assert_eq(nt_fleet_verdict("a", "a", "10.0.0.1:4433"), NT_FLEET_LOCAL);
	cr_assert_eq(nt_fleet_verdict("a", "b", "10.0.0.2:4433"), NT_FLEET_REDIRECT);
	cr_assert_eq(nt_fleet_verdict("a", "b", "[2001:db8::2]:4433"), NT_FLEET_REDIRECT);
	cr_assert_eq(nt_fleet_verdict("a", "b", "relay-b.example.net:443"), NT_FLEET_REDIRECT);
	cr_assert_eq(nt_fleet_verdict("a", NULL, NULL), NT_FLEET_NONE);
}

Test(fleet_verdict, hostile_answers_steer_nobody)
{
	/* Redis content is not trusted to put anything into a reply line */
	cr_assert_eq(nt_fleet_verdict("a", "b", NULL), NT_FLEET_NONE);
	cr_assert_eq(nt_fleet_verdict("a", "b", "10.0.0.2"), NT_FLEET_NONE);	/* no port */
	cr_assert_eq(nt_fleet_verdict("a", "b", "10.0.0.2:4433 x=y"), NT_FLEET_NONE);
	cr_assert_eq(nt_fleet_verdict("a", "b", "10.0.0.2:0"), NT_FLEET_NONE);
	cr_assert_eq(nt_fleet_verdict("a", "b", "10.0.0.2:70000"), NT_FLEET_NONE);
	cr_assert_eq(nt_fleet_verdict("a", "b", "a\r\nOK JOIN:1"), NT_FLEET_NONE);
	cr_assert_eq(nt_fleet_verdict("a", "b c", "10.0.0.2:4433"), NT_FLEET_NONE);
	cr_assert_eq(nt_fleet_verdict("a", "", "10.0.0.2:4433"), NT_FLEET_NONE);
}

Test(fleet_hostport, forms)
{
	char out[NT_FLEET_ADDR_MAX + 1];

	cr_assert_eq(nt_fleet_hostport("203.0.113.2", 4433, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "203.0.113.2:4433");
	cr_assert_eq(nt_fleet_hostport("relay.example:443", 4433, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "relay.example:443");
	cr_assert_eq(nt_fleet_hostport("[2001:db8::1]", 4433, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "[2001:db8::1]:4433");
	cr_assert_eq(nt_fleet_hostport("[2001:db8::1]:9", 4433, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "[2001:db8::1]:9");
	cr_assert_eq(nt_fleet_hostport("", 4433, out, sizeof(out)), -EINVAL);
	cr_assert_eq(nt_fleet_hostport("2001:db8::1", 4433, out, sizeof(out)), -EINVAL);
	cr_assert_eq(nt_fleet_hostport("[]:1", 4433, out, sizeof(out)), -EINVAL);
	cr_assert_eq(nt_fleet_hostport("[::1]x", 4433, out, sizeof(out)), -EINVAL);
	cr_assert_eq(nt_fleet_hostport("-x:1", 4433, out, sizeof(out)), -EINVAL);
	cr_assert_eq(nt_fleet_hostport("a b:1", 4433, out, sizeof(out)), -EINVAL);
	cr_assert_eq(nt_fleet_hostport("h:", 4433, out, sizeof(out)), -EINVAL);
	cr_assert_eq(nt_fleet_hostport("h:65536", 4433, out, sizeof(out)), -EINVAL);
	cr_assert_eq(nt_fleet_hostport("h", 0, out, sizeof(out)), -EINVAL);
	cr_assert_eq(nt_fleet_hostport("relay.example:443", 1, out, 8), -EINVAL);
}

Test(fleet_id, valid)
{
	char longid[NT_FLEET_ID_MAX + 2];

	cr_assert(nt_fleet_id_valid("relay-1.fra_2"));
	cr_assert_not(nt_fleet_id_valid(""));
	cr_assert_not(nt_fleet_id_valid(NULL));
	cr_assert_not(nt_fleet_id_valid("a b"));
	cr_assert_not(nt_fleet_id_valid("a:b"));
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	cr_assert_not(nt_fleet_id_valid(longid));
	longid[NT_FLEET_ID_MAX] = '\0';
	cr_assert(nt_fleet_id_valid(longid));
}
