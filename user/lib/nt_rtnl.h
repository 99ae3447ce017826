/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtnetlink messages for the daemon's next hop resolution: requests built
 * into a caller's buffer, and replies and multicast notifications parsed.
 * The parsers take the kernel's datagrams as outside input: every length is
 * checked against the buffer before it is read. No I/O here.
 * Functions return 0 or a negative errno unless said otherwise.
 */
#ifndef NT_RTNL_H
#define NT_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"

/* A request is at most this long (header, family header, two addresses). */
#define NT_RTNL_REQ_MAX 128

/* What a route lookup (RTM_GETROUTE) answered. */
struct nt_rtnl_route {
	int family;	/* AF_INET or AF_INET6 */
	uint8_t type;	/* RTN_UNICAST, RTN_LOCAL, ... */
	uint32_t oif;	/* 0: none in the reply */
	bool has_gw;
	uint8_t gw[16];	/* IPv4: the first 4 bytes */
};

/* One neighbour entry (reply or notification). */
struct nt_rtnl_neigh {
	int family;
	uint32_t ifindex;
	uint16_t state;	/* NUD_* */
	bool has_dst;
	uint8_t dst[16];	/* IPv4: the first 4 bytes */
	bool has_lladdr;
	uint8_t lladdr[6];
};

/* A route lookup for the address of dst, from src when src is not NULL. */
size_t nt_rtnl_route_req(void *buf, size_t cap, uint32_t seq, const struct nt_endpoint *dst,
			 const struct nt_endpoint *src);
/* The neighbour entry of addr (4 or 16 bytes by family) on ifindex. */
size_t nt_rtnl_neigh_req(void *buf, size_t cap, uint32_t seq, int family, uint32_t ifindex,
			 const uint8_t *addr);
/*
 * Ask the kernel to resolve addr on ifindex now (RTM_NEWNEIGH with NTF_USE:
 * what sending a packet there would do, without sending one).
 */
size_t nt_rtnl_neigh_use_req(void *buf, size_t cap, uint32_t seq, int family, uint32_t ifindex,
			     const uint8_t *addr);

/*
 * The answer to request seq in one datagram: 0 and *out; the kernel's error
 * (negative, e.g. -ENETUNREACH, -ENOENT); -ENOMSG when the datagram holds
 * nothing for seq; -EBADMSG when it is malformed.
 */
int nt_rtnl_parse_route(const void *buf, size_t len, uint32_t seq, struct nt_rtnl_route *out);
int nt_rtnl_parse_neigh(const void *buf, size_t len, uint32_t seq, struct nt_rtnl_neigh *out);
/* An acknowledgement of seq: 0, the kernel's error, -ENOMSG, -EBADMSG. */
int nt_rtnl_parse_ack(const void *buf, size_t len, uint32_t seq);

/*
 * Multicast notifications: fn once per neighbour message (type RTM_NEWNEIGH
 * or RTM_DELNEIGH, n filled) and once per route message (n NULL). Returns
 * the number of messages passed to fn, or -EBADMSG (fn may have been called
 * for the well-formed ones before).
 */
typedef void (*nt_rtnl_event_fn)(uint16_t type, const struct nt_rtnl_neigh *n, void *arg);
int nt_rtnl_parse_events(const void *buf, size_t len, nt_rtnl_event_fn fn, void *arg);

#endif /* NT_RTNL_H */
