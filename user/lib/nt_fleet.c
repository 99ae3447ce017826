// SPDX-License-Identifier: GPL-2.0
/* Fleet placement: scripts and decisions, no I/O (nt_fleet.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "nt_fleet.h"
#include "nt_num.h"

/*
 * One script decides, so two relays placing the same group at once cannot
 * both win: Redis runs scripts one at a time. A home counts while its
 * relay's heartbeat key lives; a draining relay's own unused home is
 * given up to the chosen one.
 */
const char nt_fleet_place_lua[] =
	"local gk = 'nattrav:group:' .. ARGV[1]\n"
	"local home = redis.call('GET', gk)\n"
	"if home then\n"
	"  local a = redis.call('HGET', 'nattrav:relay:' .. home, 'addr')\n"
	"  if a and not (home == ARGV[2] and ARGV[3] == '1') then\n"
	"    if home == ARGV[2] then redis.call('PEXPIRE', gk, ARGV[5]) end\n"
	"    return {home, a}\n"
	"  end\n"
	"end\n"
	"if ARGV[4] == '' then return {} end\n"
	"local a = redis.call('HGET', 'nattrav:relay:' .. ARGV[4], 'addr')\n"
	"if not a then return {} end\n"
	"redis.call('SET', gk, ARGV[4], 'PX', ARGV[5])\n"
	"return {ARGV[4], a}\n";

/* ts from Redis' clock: every relay's age is measured on one clock */
const char nt_fleet_register_lua[] =
	"local k = 'nattrav:relay:' .. ARGV[1]\n"
	"local t = redis.call('TIME')\n"
	"redis.call('HSET', k, 'addr', ARGV[2], 'load', ARGV[3], 'groups', ARGV[4],\n"
	"  'max_groups', ARGV[5], 'draining', ARGV[6],\n"
	"  'ts', tostring(t[1] * 1000 + math.floor(t[2] / 1000)))\n"
	"redis.call('PEXPIRE', k, ARGV[7])\n"
	"redis.call('SADD', 'nattrav:relays', ARGV[1])\n"
	"return 1\n";

/* a group homed on another live relay stays there: two homes is a split, logged */
const char nt_fleet_assert_lua[] =
	"local out = {}\n"
	"for i = 3, #ARGV do\n"
	"  local gk = 'nattrav:group:' .. ARGV[i]\n"
	"  local home = redis.call('GET', gk)\n"
	"  if home and home ~= ARGV[1] and\n"
	"     redis.call('EXISTS', 'nattrav:relay:' .. home) == 1 then\n"
	"    out[#out + 1] = ARGV[i]\n"
	"  else\n"
	"    redis.call('SET', gk, ARGV[1], 'PX', ARGV[2])\n"
	"  end\n"
	"end\n"
	"return out\n";

const char nt_fleet_leave_lua[] =
	"redis.call('DEL', 'nattrav:relay:' .. ARGV[1])\n"
	"redis.call('SREM', 'nattrav:relays', ARGV[1])\n"
	"return 1\n";

const char nt_fleet_view_lua[] =
	"local t = redis.call('TIME')\n"
	"local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
	"local out = {}\n"
	"for _, id in ipairs(redis.call('SMEMBERS', 'nattrav:relays')) do\n"
	"  local h = redis.call('HMGET', 'nattrav:relay:' .. id, 'addr', 'load', 'groups',\n"
	"    'max_groups', 'draining', 'ts')\n"
	"  if h[1] then\n"
	"    out[#out + 1] = {id, h[1], h[2] or '0', h[3] or '0', h[4] or '0', h[5] or '0',\n"
	"      tostring(math.max(0, now - tonumber(h[6] or now)))}\n"
	"  else\n"
	"    redis.call('SREM', 'nattrav:relays', id)\n"
	"  end\n"
	"end\n"
	"return out\n";

bool nt_fleet_id_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char ch = s[n];

		if (n >= NT_FLEET_ID_MAX)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return n > 0;
}

static bool better(const struct nt_fleet_relay *a, const struct nt_fleet_relay *b)
{
	if (a->groups != b->groups)
		return a->groups < b->groups;
	if (a->load != b->load)
		return a->load < b->load;
	return strcmp(a->id, b->id) < 0;
}

int nt_fleet_choose(const char *self, bool self_can_take,
		    const struct nt_fleet_relay *relays, size_t n, const char **out)
{
	const struct nt_fleet_relay *best = NULL;

	if (self_can_take) {
		*out = self;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct nt_fleet_relay *r = &relays[i];

		if (!strcmp(r->id, self) || r->draining || r->groups >= r->max_groups ||
		    r->age_ms >= NT_FLEET_TTL_MS)
			continue;
		if (!best || better(r, best))
			best = r;
	}
	if (!best)
		return -ENOENT;
	*out = best->id;
	return 0;
}

enum nt_fleet_verdict nt_fleet_verdict(const char *self, const char *home, const char *addr)
{
	char hp[NT_FLEET_ADDR_MAX + 1];

	if (!home || !nt_fleet_id_valid(home))
		return NT_FLEET_NONE;
	if (!strcmp(home, self))
		return NT_FLEET_LOCAL;
	if (!addr || strlen(addr) > NT_FLEET_ADDR_MAX ||
	    nt_fleet_hostport(addr, 0, hp, sizeof(hp)) || strcmp(hp, addr))
		return NT_FLEET_NONE;
	return NT_FLEET_REDIRECT;
}
