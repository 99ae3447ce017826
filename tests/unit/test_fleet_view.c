// SPDX-License-Identifier: GPL-2.0
/* nt_fleet_view_parse: the view script's reply, with Redis' content not trusted. */
#include <criterion/criterion.h>
#include <string.h>

#include "nt_fleet_view.h"

static redisReply str(const char *s)
{
	return (redisReply){ .type = REDIS_REPLY_STRING, .str = (char *)s, .len = strlen(s) };
}

/* One relay entry of the reply: seven strings. */
struct entry {
	redisReply r, f[7];
	redisReply *p[7];
};

static void entry(struct entry *e, const char *id, const char *addr, const char *load,
		  const char *groups, const char *maxg, const char *draining, const char *age)
{
	const char *v[7] = { id, addr, load, groups, maxg, draining, age };

	for (int i = 0; i < 7; i++) {
		e->f[i] = str(v[i]);
		e->p[i] = &e->f[i];
	}
	e->r = (redisReply){ .type = REDIS_REPLY_ARRAY, .elements = 7, .element = e->p };
}

Test(fleet_view, parses_and_skips_the_hostile)
{
	static struct entry e[8];
	redisReply *el[8], top;
	struct nt_fleet_relay out[8];
	size_t n;

	entry(&e[0], "relay1", "203.0.113.1:4433", "3", "2", "4096", "0", "812");
	entry(&e[1], "relay2", "[2001:db8::2]:4433", "0", "0", "1", "1", "0");
	entry(&e[2], "bad id", "203.0.113.3:4433", "0", "0", "1", "0", "0");
	entry(&e[3], "relay4", "203.0.113.4:4433 x=1", "0", "0", "1", "0", "0");
	entry(&e[4], "relay5", "203.0.113.5:4433", "-1", "0", "1", "0", "0");
	entry(&e[5], "relay6", "203.0.113.6:4433", "0", "99999999999", "1", "0", "0");
	entry(&e[6], "relay7", "203.0.113.7", "0", "0", "1", "0", "0");
	entry(&e[7], "relay8", "203.0.113.8:4433", "0", "0", "1", "0", "12x");
	for (int i = 0; i < 8; i++)
		el[i] = &e[i].r;
	top = (redisReply){ .type = REDIS_REPLY_ARRAY, .elements = 8, .element = el };
	n = nt_fleet_view_parse(&top, out, 8);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(out[0].id, "relay1");
	cr_assert_str_eq(out[0].addr, "203.0.113.1:4433");
	cr_assert_eq(out[0].load, 3);
	cr_assert_eq(out[0].groups, 2);
	cr_assert_eq(out[0].max_groups, 4096);
	cr_assert_not(out[0].draining);
	cr_assert_eq(out[0].age_ms, 812);
	cr_assert_str_eq(out[1].addr, "[2001:db8::2]:4433");
	cr_assert(out[1].draining);
	/* room for one: one */
	cr_assert_eq(nt_fleet_view_parse(&top, out, 1), 1);
}

Test(fleet_view, not_an_array)
{
	redisReply err = { .type = REDIS_REPLY_ERROR, .str = (char *)"NOSCRIPT", .len = 8 };
	redisReply wrong_len;
	redisReply *el[1] = { &err };
	struct nt_fleet_relay out[1];

	cr_assert_eq(nt_fleet_view_parse(NULL, out, 1), 0);
	cr_assert_eq(nt_fleet_view_parse(&err, out, 1), 0);
	wrong_len = (redisReply){ .type = REDIS_REPLY_ARRAY, .elements = 1, .element = el };
	cr_assert_eq(nt_fleet_view_parse(&wrong_len, out, 1), 0);
}
