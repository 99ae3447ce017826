/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nattravd's own next hop resolution (--next-hop daemon): the route and the
 * neighbour towards each verified peer, asked of the kernel over rtnetlink,
 * written into the mappings (NT_ROUTE_DAEMON) so that the XDP and TC
 * programs need no FIB lookup, which forwarding=0 would answer with
 * "disabled". A monitor socket follows neighbour and route changes and the
 * affected mappings are rewritten. In --next-hop fib mode the resolution
 * still vets each peer (an unreachable one is refused) and validates egress
 * ports; the programs ask the FIB themselves.
 */
#ifndef ND_NEXTHOP_H
#define ND_NEXTHOP_H

#include <stdint.h>
#include "nattrav_abi.h"

struct nd;

enum nd_nh_mode {
	ND_NH_DAEMON, /* default */
	ND_NH_FIB,
};

/* "daemon" or "fib" into *m: 0, or -EINVAL. */
int nd_nh_mode_parse(const char *s, enum nd_nh_mode *m);
const char *nd_nh_mode_name(enum nd_nh_mode m);

/* The sockets and the monitor on the loop; warns about fib mode with forwarding off. */
int nd_nh_open(struct nd *d);
void nd_nh_close(struct nd *d);

/*
 * Can media reach ep? 0 when the route and the neighbour are known (the
 * answer cached for the mappings written next); -ENETUNREACH (no route),
 * -EHOSTUNREACH (the neighbour does not answer), -EOPNOTSUPP (an egress
 * XDP cannot send Ethernet frames to), -EIO (rtnetlink failed). Logged.
 */
int nd_nh_check(struct nd *d, const struct nt_endpoint *ep);

/* The route fields of v for v->peer: the daemon's answer, or zeros (fib mode, none). */
void nd_nh_fill_mapping(struct nd *d, struct nt_mapping *v);
/* The same for each member of a fan-out group. */
void nd_nh_fill_group(struct nd *d, struct nt_fanout_group *g);

/* The monitor socket is readable. */
void nd_nh_event(struct nd *d);
/* On the loop's tick: re-resolve after changes (at most once a second) and every minute. */
void nd_nh_tick(struct nd *d, uint64_t now);

#endif /* ND_NEXTHOP_H */
