/* SPDX-License-Identifier: GPL-2.0 */
/* Reading the fleet's view script reply (nt_fleet.h): nattravd and nattravctl. */
#ifndef NT_FLEET_VIEW_H
#define NT_FLEET_VIEW_H

#include <stddef.h>
#include <hiredis/hiredis.h>
#include "nt_fleet.h"

/*
 * Relays of the reply into out (at most cap); an element that is not
 * {id, addr, load, groups, max_groups, draining, age} of valid values is
 * left out: Redis is not trusted more than a client. Returns how many.
 */
size_t nt_fleet_view_parse(const redisReply *rep, struct nt_fleet_relay *out, size_t cap);

#endif /* NT_FLEET_VIEW_H */
