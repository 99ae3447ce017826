// SPDX-License-Identifier: GPL-2.0
/* The view script's reply into relays (nt_fleet_view.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nt_fleet_view.h"

static const char *str_of(const redisReply *r)
{
	return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ?
		       r->str : NULL;
}

static bool u32_of(const redisReply *r, uint32_t *out)
{
	const char *s = str_of(r);
	char *end;
	unsigned long long v;

	if (!s)
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Parse the view script's reply; relays that do not parse are left out. */
size_t nt_fleet_view_parse(const redisReply *rep, struct nt_fleet_relay *out, size_t cap)
{
	size_t n = 0;

	if (!rep || rep->type != REDIS_REPLY_ARRAY)
		return 0;
	for (size_t i = 0; i < rep->elements && n < cap; i++) {
		const redisReply *e = rep->element[i];
		struct nt_fleet_relay *r = &out[n];
		const char *id, *addr;
		char hp[NT_FLEET_ADDR_MAX + 1];
		uint32_t draining, age;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 7)
			continue;
		id = str_of(e->element[0]);
		addr = str_of(e->element[1]);
		if (!nt_fleet_id_valid(id) || !addr || strlen(addr) > NT_FLEET_ADDR_MAX ||
		    nt_fleet_hostport(addr, 0, hp, sizeof(hp)) || strcmp(hp, addr) ||
		    !u32_of(e->element[2], &r->load) || !u32_of(e->element[3], &r->groups) ||
		    !u32_of(e->element[4], &r->max_groups) || !u32_of(e->element[5], &draining) ||
		    !u32_of(e->element[6], &age))
			continue;
		snprintf(r->id, sizeof(r->id), "%s", id);
		snprintf(r->addr, sizeof(r->addr), "%s", addr);
		r->draining = draining != 0;
		r->age_ms = age;
		n++;
	}
	return n;
}
