// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: rtnetlink datagrams as the daemon's next hop resolver
 * receives them (route and neighbour replies, acks, multicast notifications).
 * The first four bytes are the sequence number the reply must answer.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include "nt_rtnl.h"

static void on_event(uint16_t type, const struct nt_rtnl_neigh *n, void *arg)
{
	(void)type;
	if (n && (n->family != AF_INET && n->family != AF_INET6) && n->has_dst)
		__builtin_trap(); /* NDA_DST is only taken for IP families */
	++*(int *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nt_rtnl_route r;
	struct nt_rtnl_neigh n;
	uint32_t seq;
	int calls = 0, rc;

	if (size < 4)
		return 0;
	memcpy(&seq, data, 4);
	data += 4;
	size -= 4;
	if (nt_rtnl_parse_route(data, size, seq, &r) == 0 && r.family != AF_INET &&
	    r.family != AF_INET6)
		__builtin_trap();
	(void)nt_rtnl_parse_neigh(data, size, seq, &n);
	(void)nt_rtnl_parse_ack(data, size, seq);
	rc = nt_rtnl_parse_events(data, size, on_event, &calls);
	if (rc >= 0 && rc != calls)
		__builtin_trap();
	return 0;
}
