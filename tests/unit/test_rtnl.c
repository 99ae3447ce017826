// SPDX-License-Identifier: GPL-2.0
/*
 * nt_rtnl: requests as the kernel expects them, and replies and
 * notifications built here byte by byte (not with the code under test),
 * well-formed and damaged.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "nt_rtnl.h"
#include "endpoints.h"

/* A datagram under construction: messages appended, attributes into the last. */
struct dgram {
	uint8_t b[1024];
	size_t len, msg; /* msg: offset of the last message */
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void msg(struct dgram *d, uint16_t type, uint32_t seq, const void *fam, size_t fam_len)
{
	struct nlmsghdr nh = { .nlmsg_type = type, .nlmsg_seq = seq };

	d->msg = d->len;
	nh.nlmsg_len = (uint32_t)(16 + fam_len);
	memcpy(d->b + d->len, &nh, 16);
	memcpy(d->b + d->len + 16, fam, fam_len);
	d->len += 16 + ((fam_len + 3) & ~3u);
	put32(d->b + d->msg, (uint32_t)(d->len - d->msg));
}

static void attr(struct dgram *d, uint16_t type, const void *data, size_t len)
{
	uint16_t hdr[2] = { (uint16_t)(4 + len), type };

	memcpy(d->b + d->len, hdr, 4);
	memcpy(d->b + d->len + 4, data, len);
	d->len += (4 + len + 3) & ~3u;
	put32(d->b + d->msg, (uint32_t)(d->len - d->msg));
}

static void route_msg(struct dgram *d, uint32_t seq, uint8_t family)
{
	struct rtmsg rt = { .rtm_family = family, .rtm_type = RTN_UNICAST, .rtm_dst_len = 32 };

	msg(d, RTM_NEWROUTE, seq, &rt, sizeof(rt));
}

static void neigh_msg(struct dgram *d, uint16_t type, uint32_t seq, int ifindex, uint16_t state)
{
	struct ndmsg nd = { .ndm_family = AF_INET, .ndm_ifindex = ifindex, .ndm_state = state };

	msg(d, type, seq, &nd, sizeof(nd));
}

static void error_msg(struct dgram *d, uint32_t seq, int error)
{
	struct nlmsgerr e = { .error = error };

	msg(d, NLMSG_ERROR, seq, &e, sizeof(e));
}

static const uint8_t gw4[4] = { 192, 0, 2, 1 }, mac[6] = { 2, 0, 0, 0, 0, 0x42 };

Test(rtnl, route_with_gateway_and_interface)
{
	struct dgram d = { 0 };
	struct nt_rtnl_route r;
	uint32_t oif = 7;

	route_msg(&d, 5, AF_INET);
	attr(&d, RTA_TABLE, &oif, 4); /* unknown to the parser: skipped */
	attr(&d, RTA_OIF, &oif, 4);
	attr(&d, RTA_GATEWAY, gw4, 4);
	cr_assert_eq(nt_rtnl_parse_route(d.b, d.len, 5, &r), 0);
	cr_assert_eq(r.family, AF_INET);
	cr_assert_eq(r.type, RTN_UNICAST);
	cr_assert_eq(r.oif, 7);
	cr_assert(r.has_gw);
	cr_assert_arr_eq(r.gw, gw4, 4);
}

Test(rtnl, connected_route_has_no_gateway)
{
	struct dgram d = { 0 };
	struct nt_rtnl_route r;
	uint32_t oif = 3;

	route_msg(&d, 9, AF_INET6);
	attr(&d, RTA_OIF, &oif, 4);
	cr_assert_eq(nt_rtnl_parse_route(d.b, d.len, 9, &r), 0);
	cr_assert_eq(r.family, AF_INET6);
	cr_assert_not(r.has_gw);
}

Test(rtnl, multipath_takes_the_first_hop)
{
	struct dgram d = { 0 };
	struct nt_rtnl_route r;
	uint8_t mp[2 * 16];
	struct rtnexthop nh = { .rtnh_len = 16, .rtnh_ifindex = 4 };
	uint16_t gwhdr[2] = { 8, RTA_GATEWAY };

	memcpy(mp, &nh, 8);
	memcpy(mp + 8, gwhdr, 4);
	memcpy(mp + 12, gw4, 4);
	nh.rtnh_ifindex = 5;
	memcpy(mp + 16, &nh, 8);
	memcpy(mp + 24, gwhdr, 4);
	memcpy(mp + 28, (uint8_t[]){ 192, 0, 2, 2 }, 4);
	route_msg(&d, 1, AF_INET);
	attr(&d, RTA_MULTIPATH, mp, sizeof(mp));
	cr_assert_eq(nt_rtnl_parse_route(d.b, d.len, 1, &r), 0);
	cr_assert_eq(r.oif, 4);
	cr_assert_arr_eq(r.gw, gw4, 4);
}

Test(rtnl, kernel_error_is_returned)
{
	struct dgram d = { 0 };
	struct nt_rtnl_route r;

	error_msg(&d, 3, -ENETUNREACH);
	cr_assert_eq(nt_rtnl_parse_route(d.b, d.len, 3, &r), -ENETUNREACH);
	cr_assert_eq(nt_rtnl_parse_ack(d.b, d.len, 3), -ENETUNREACH);
}

Test(rtnl, ack_alone_is_not_an_answer)
{
	struct dgram d = { 0 };
	struct nt_rtnl_route r;

	error_msg(&d, 3, 0);
	cr_assert_eq(nt_rtnl_parse_ack(d.b, d.len, 3), 0);
	cr_assert_eq(nt_rtnl_parse_route(d.b, d.len, 3, &r), -EBADMSG);
}

Test(rtnl, answer_to_another_request_is_ignored)
{
	struct dgram d = { 0 };
	struct nt_rtnl_route r;

	route_msg(&d, 4, AF_INET);
	cr_assert_eq(nt_rtnl_parse_route(d.b, d.len, 5, &r), -ENOMSG);
}

Test(rtnl, message_longer_than_the_datagram)
{
	struct dgram d = { 0 };
	struct nt_rtnl_route r;
	uint32_t oif = 7;

	route_msg(&d, 5, AF_INET);
	attr(&d, RTA_OIF, &oif, 4);
	cr_assert_eq(nt_rtnl_parse_route(d.b, d.len - 4, 5, &r), -EBADMSG);
	cr_assert_eq(nt_rtnl_parse_route(d.b, 10, 5, &r), -ENOMSG, "a partial header is no message");
}

Test(rtnl, attribute_longer_than_its_message)
{
	struct dgram d = { 0 };
	struct nt_rtnl_route r;
	uint32_t oif = 7;

	route_msg(&d, 5, AF_INET);
	attr(&d, RTA_OIF, &oif, 4);
	d.b[d.len - 8] = 40; /* rta_len */
	cr_assert_eq(nt_rtnl_parse_route(d.b, d.len, 5, &r), -EBADMSG);
}

Test(rtnl, gateway_of_the_wrong_size)
{
	struct dgram d = { 0 };
	struct nt_rtnl_route r;

	route_msg(&d, 5, AF_INET);
	attr(&d, RTA_GATEWAY, gw4, 3);
	cr_assert_eq(nt_rtnl_parse_route(d.b, d.len, 5, &r), -EBADMSG);
}

Test(rtnl, message_too_short_for_its_family_header)
{
	struct dgram d = { 0 };
	struct nt_rtnl_route r;
	uint8_t half[4] = { AF_INET };

	msg(&d, RTM_NEWROUTE, 5, half, sizeof(half));
	cr_assert_eq(nt_rtnl_parse_route(d.b, d.len, 5, &r), -EBADMSG);
}

Test(rtnl, neighbour_with_its_mac)
{
	struct dgram d = { 0 };
	struct nt_rtnl_neigh n;

	neigh_msg(&d, RTM_NEWNEIGH, 8, 2, NUD_REACHABLE);
	attr(&d, NDA_DST, gw4, 4);
	attr(&d, NDA_LLADDR, mac, 6);
	cr_assert_eq(nt_rtnl_parse_neigh(d.b, d.len, 8, &n), 0);
	cr_assert_eq(n.ifindex, 2);
	cr_assert_eq(n.state, NUD_REACHABLE);
	cr_assert(n.has_dst && n.has_lladdr);
	cr_assert_arr_eq(n.dst, gw4, 4);
	cr_assert_arr_eq(n.lladdr, mac, 6);
}

Test(rtnl, neighbour_of_another_link_layer_has_no_mac)
{
	struct dgram d = { 0 };
	struct nt_rtnl_neigh n;
	uint8_t ib[20] = { 1 };

	neigh_msg(&d, RTM_NEWNEIGH, 8, 2, NUD_REACHABLE);
	attr(&d, NDA_LLADDR, ib, sizeof(ib));
	cr_assert_eq(nt_rtnl_parse_neigh(d.b, d.len, 8, &n), 0);
	cr_assert_not(n.has_lladdr);
}

static void count_event(uint16_t type, const struct nt_rtnl_neigh *n, void *arg)
{
	int *seen = arg;

	if (type == RTM_DELNEIGH && n && n->ifindex == 6)
		seen[0]++;
	if (type == RTM_NEWROUTE && !n)
		seen[1]++;
}

Test(rtnl, notifications_of_neighbours_and_routes)
{
	struct dgram d = { 0 };
	int seen[2] = { 0 };

	neigh_msg(&d, RTM_DELNEIGH, 0, 6, NUD_FAILED);
	attr(&d, NDA_DST, gw4, 4);
	route_msg(&d, 0, AF_INET);
	msg(&d, RTM_NEWLINK, 0, (uint8_t[16]){ 0 }, 16); /* not ours: skipped */
	cr_assert_eq(nt_rtnl_parse_events(d.b, d.len, count_event, seen), 2);
	cr_assert_eq(seen[0], 1);
	cr_assert_eq(seen[1], 1);
	d.b[d.msg] = 0xff; /* the last message now claims more than there is */
	cr_assert_eq(nt_rtnl_parse_events(d.b, d.len, count_event, seen), -EBADMSG);
}

Test(rtnl, route_request_layout)
{
	struct nt_endpoint dst = ep4("198.51.100.20", 5000), src = ep4("203.0.113.1", 3478);
	uint8_t b[NT_RTNL_REQ_MAX];
	struct nlmsghdr nh;
	struct rtmsg rt;
	size_t n = nt_rtnl_route_req(b, sizeof(b), 77, &dst, &src);

	cr_assert_eq(n, 16 + 12 + 8 + 8);
	memcpy(&nh, b, 16);
	memcpy(&rt, b + 16, sizeof(rt));
	cr_assert_eq(nh.nlmsg_len, n);
	cr_assert_eq(nh.nlmsg_type, RTM_GETROUTE);
	cr_assert_eq(nh.nlmsg_seq, 77);
	cr_assert_eq(rt.rtm_family, AF_INET);
	cr_assert_eq(rt.rtm_dst_len, 32);
	cr_assert_eq(rt.rtm_src_len, 32);
	cr_assert_arr_eq(b + 28, ((uint8_t[]){ 8, 0, RTA_DST, 0, 198, 51, 100, 20 }), 8);
	cr_assert_arr_eq(b + 36, ((uint8_t[]){ 8, 0, RTA_SRC, 0, 203, 0, 113, 1 }), 8);
	cr_assert_eq(nt_rtnl_route_req(b, 40, 77, &dst, &src), 0, "no room: nothing built");
}

Test(rtnl, neighbour_use_request_asks_to_resolve)
{
	uint8_t b[NT_RTNL_REQ_MAX];
	struct nlmsghdr nh;
	struct ndmsg nd;
	size_t n = nt_rtnl_neigh_use_req(b, sizeof(b), 1, AF_INET, 9, gw4);

	cr_assert_gt(n, 0);
	memcpy(&nh, b, 16);
	memcpy(&nd, b + 16, sizeof(nd));
	cr_assert_eq(nh.nlmsg_type, RTM_NEWNEIGH);
	cr_assert(nh.nlmsg_flags & NLM_F_CREATE);
	cr_assert_eq(nd.ndm_flags, NTF_USE);
	cr_assert_eq(nd.ndm_ifindex, 9);
}
