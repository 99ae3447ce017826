// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink requests and the parsing of what the kernel sends back. The
 * kernel is trusted to mean well but not to fit our buffer: a datagram may
 * be cut short (MSG_TRUNC) or come from a newer kernel with attributes we
 * do not know, so every header and attribute is checked against what is
 * left of the buffer, and unknown attributes are skipped.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "nt_rtnl.h"

#define ALIGN4(x) (((x) + 3u) & ~3u)

struct req {
	uint8_t *buf;
	size_t cap, len;
};

static struct nlmsghdr *req_start(struct req *r, uint16_t type, uint16_t flags, uint32_t seq,
				  const void *fam, size_t fam_len)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)r->buf;

	r->len = NLMSG_HDRLEN + ALIGN4(fam_len);
	if (r->cap < r->len)
		return NULL;
	memset(r->buf, 0, r->len);
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = seq;
	memcpy(r->buf + NLMSG_HDRLEN, fam, fam_len);
	nh->nlmsg_len = (uint32_t)r->len;
	return nh;
}

static bool req_attr(struct req *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(r->buf + r->len);
	size_t need = ALIGN4(RTA_LENGTH(len));

	if (r->cap - r->len < need)
		return false;
	memset(a, 0, need);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->len += need;
	((struct nlmsghdr *)r->buf)->nlmsg_len = (uint32_t)r->len;
	return true;
}

static int ep_af(const struct nt_endpoint *e, const uint8_t **addr, size_t *alen)
{
	if (e->family == NT_FAMILY_V4) {
		*addr = e->addr + 12;
		*alen = 4;
		return AF_INET;
	}
	*addr = e->addr;
	*alen = 16;
	return AF_INET6;
}

size_t nt_rtnl_route_req(void *buf, size_t cap, uint32_t seq, const struct nt_endpoint *dst,
			 const struct nt_endpoint *src)
{
	struct req r = { buf, cap, 0 };
	struct rtmsg rt = { 0 };
	const uint8_t *a;
	size_t alen;

	rt.rtm_family = (uint8_t)ep_af(dst, &a, &alen);
	rt.rtm_dst_len = (uint8_t)(alen * 8);
	if (!req_start(&r, RTM_GETROUTE, 0, seq, &rt, sizeof(rt)) || !req_attr(&r, RTA_DST, a, alen))
		return 0;
	if (src && src->family == dst->family) {
		ep_af(src, &a, &alen);
		rt.rtm_src_len = (uint8_t)(alen * 8);
		memcpy(r.buf + NLMSG_HDRLEN, &rt, sizeof(rt));
		if (!req_attr(&r, RTA_SRC, a, alen))
			return 0;
	}
	return r.len;
}

static size_t neigh_req(void *buf, size_t cap, uint16_t type, uint16_t flags, uint8_t ntf,
			uint32_t seq, int family, uint32_t ifindex, const uint8_t *addr)
{
	struct req r = { buf, cap, 0 };
	struct ndmsg nd = { 0 };

	nd.ndm_family = (uint8_t)family;
	nd.ndm_ifindex = (int)ifindex;
	nd.ndm_flags = ntf;
	if (!req_start(&r, type, flags, seq, &nd, sizeof(nd)) ||
	    !req_attr(&r, NDA_DST, addr, family == AF_INET ? 4 : 16))
		return 0;
	return r.len;
}

size_t nt_rtnl_neigh_req(void *buf, size_t cap, uint32_t seq, int family, uint32_t ifindex,
			 const uint8_t *addr)
{
	return neigh_req(buf, cap, RTM_GETNEIGH, 0, 0, seq, family, ifindex, addr);
}

size_t nt_rtnl_neigh_use_req(void *buf, size_t cap, uint32_t seq, int family, uint32_t ifindex,
			     const uint8_t *addr)
{
	/* CREATE: resolving an address the kernel never saw needs an entry to hold it */
	return neigh_req(buf, cap, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK, NTF_USE, seq, family,
			 ifindex, addr);
}

/*
 * Next message of the datagram at *off: NULL at the end, *err -EBADMSG when
 * its header does not fit what is left.
 */
static const struct nlmsghdr *next_msg(const uint8_t *buf, size_t len, size_t *off, int *err)
{
	const struct nlmsghdr *nh;

	*err = 0;
	if (len - *off < NLMSG_HDRLEN)
		return NULL; /* nothing, or padding */
	nh = (const struct nlmsghdr *)(buf + *off);
	if (nh->nlmsg_len < NLMSG_HDRLEN || nh->nlmsg_len > len - *off) {
		*err = -EBADMSG;
		return NULL;
	}
	*off += ALIGN4(nh->nlmsg_len) < len - *off ? ALIGN4(nh->nlmsg_len) : len - *off;
	return nh;
}

/* The kernel's error of an NLMSG_ERROR message: 0 (an ack), -errno, or -EBADMSG. */
static int msg_error(const struct nlmsghdr *nh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nh);

	if (nh->nlmsg_len < NLMSG_HDRLEN + sizeof(int))
		return -EBADMSG;
	if (e->error > 0 || e->error < -4095)
		return -EBADMSG;
	return e->error;
}

/*
 * The message answering seq: 0 and *out, or the kernel's error, -ENOMSG
 * (nothing for seq) or -EBADMSG. want: the answer's type.
 */
static int find_answer(const void *buf, size_t len, uint32_t seq, uint16_t want,
		       const struct nlmsghdr **out)
{
	const struct nlmsghdr *nh;
	size_t off = 0;
	int err;

	while ((nh = next_msg(buf, len, &off, &err))) {
		if (nh->nlmsg_seq != seq)
			continue;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			err = msg_error(nh);
			return err ? err : -EBADMSG; /* an ack where data was due */
		}
		if (nh->nlmsg_type == want) {
			*out = nh;
			return 0;
		}
	}
	return err ? err : -ENOMSG;
}

/* Attributes of a message after its fixed header of hdr bytes. */
struct attrs {
	const uint8_t *p;
	size_t left;
};

static bool attrs_init(struct attrs *a, const struct nlmsghdr *nh, size_t hdr)
{
	size_t body = nh->nlmsg_len - NLMSG_HDRLEN;

	if (body < hdr)
		return false;
	a->p = (const uint8_t *)NLMSG_DATA(nh) + ALIGN4(hdr);
	a->left = body > ALIGN4(hdr) ? body - ALIGN4(hdr) : 0;
	return true;
}

/* Next attribute: 1 (type, data and its length filled), 0 at the end, -EBADMSG. */
static int attrs_next(struct attrs *a, uint16_t *type, const uint8_t **data, size_t *dlen)
{
	struct rtattr ra;
	size_t step;

	if (a->left < sizeof(ra))
		return 0;
	memcpy(&ra, a->p, sizeof(ra));
	if (ra.rta_len < sizeof(ra) || ra.rta_len > a->left)
		return -EBADMSG;
	*type = ra.rta_type & NLA_TYPE_MASK;
	*data = a->p + sizeof(ra);
	*dlen = ra.rta_len - sizeof(ra);
	step = ALIGN4(ra.rta_len);
	if (step > a->left)
		step = a->left;
	a->p += step;
	a->left -= step;
	return 1;
}

static bool addr_len_ok(int family, size_t dlen)
{
	return dlen == (family == AF_INET ? 4u : 16u);
}

/* The first hop of an RTA_MULTIPATH list: its interface and gateway. */
static int parse_multipath(const uint8_t *p, size_t len, struct nt_rtnl_route *r)
{
	struct rtnexthop nh;
	struct attrs a;
	const uint8_t *data;
	size_t dlen;
	uint16_t type;
	int rc;

	if (len < sizeof(nh))
		return -EBADMSG;
	memcpy(&nh, p, sizeof(nh));
	if (nh.rtnh_len < sizeof(nh) || nh.rtnh_len > len || nh.rtnh_ifindex < 0)
		return -EBADMSG;
	r->oif = (uint32_t)nh.rtnh_ifindex;
	a.p = p + sizeof(nh);
	a.left = nh.rtnh_len - sizeof(nh);
	while ((rc = attrs_next(&a, &type, &data, &dlen)) > 0) {
		if (type == RTA_GATEWAY && addr_len_ok(r->family, dlen)) {
			memcpy(r->gw, data, dlen);
			r->has_gw = true;
		}
	}
	return rc;
}

int nt_rtnl_parse_route(const void *buf, size_t len, uint32_t seq, struct nt_rtnl_route *out)
{
	const struct nlmsghdr *nh;
	const struct rtmsg *rt;
	const uint8_t *data;
	struct attrs a;
	size_t dlen;
	uint16_t type;
	uint32_t oif;
	int rc;

	rc = find_answer(buf, len, seq, RTM_NEWROUTE, &nh);
	if (rc)
		return rc;
	if (!attrs_init(&a, nh, sizeof(*rt)))
		return -EBADMSG;
	rt = NLMSG_DATA(nh);
	memset(out, 0, sizeof(*out));
	out->family = rt->rtm_family;
	out->type = rt->rtm_type;
	if (out->family != AF_INET && out->family != AF_INET6)
		return -EBADMSG;
	while ((rc = attrs_next(&a, &type, &data, &dlen)) > 0) {
		switch (type) {
		case RTA_OIF:
			if (dlen != sizeof(oif))
				return -EBADMSG;
			memcpy(&oif, data, sizeof(oif));
			out->oif = oif;
			break;
		case RTA_GATEWAY:
			if (!addr_len_ok(out->family, dlen))
				return -EBADMSG;
			memcpy(out->gw, data, dlen);
			out->has_gw = true;
			break;
		case RTA_MULTIPATH:
			if (!out->oif && parse_multipath(data, dlen, out) < 0)
				return -EBADMSG;
			break;
		}
	}
	return rc;
}

static int parse_neigh_msg(const struct nlmsghdr *nh, struct nt_rtnl_neigh *out)
{
	const struct ndmsg *nd;
	const uint8_t *data;
	struct attrs a;
	size_t dlen;
	uint16_t type;
	int rc;

	if (!attrs_init(&a, nh, sizeof(*nd)))
		return -EBADMSG;
	nd = NLMSG_DATA(nh);
	memset(out, 0, sizeof(*out));
	out->family = nd->ndm_family;
	if (nd->ndm_ifindex < 0)
		return -EBADMSG;
	out->ifindex = (uint32_t)nd->ndm_ifindex;
	out->state = nd->ndm_state;
	while ((rc = attrs_next(&a, &type, &data, &dlen)) > 0) {
		if (type == NDA_DST && (out->family == AF_INET || out->family == AF_INET6)) {
			if (!addr_len_ok(out->family, dlen))
				return -EBADMSG;
			memcpy(out->dst, data, dlen);
			out->has_dst = true;
		} else if (type == NDA_LLADDR && dlen == sizeof(out->lladdr)) {
			/* other lengths: not Ethernet, never a next hop we can write */
			memcpy(out->lladdr, data, dlen);
			out->has_lladdr = true;
		}
	}
	return rc;
}

int nt_rtnl_parse_neigh(const void *buf, size_t len, uint32_t seq, struct nt_rtnl_neigh *out)
{
	const struct nlmsghdr *nh;
	int rc = find_answer(buf, len, seq, RTM_NEWNEIGH, &nh);

	return rc ? rc : parse_neigh_msg(nh, out);
}

int nt_rtnl_parse_ack(const void *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nh;
	size_t off = 0;
	int err;

	while ((nh = next_msg(buf, len, &off, &err)))
		if (nh->nlmsg_seq == seq && nh->nlmsg_type == NLMSG_ERROR)
			return msg_error(nh);
	return err ? err : -ENOMSG;
}

int nt_rtnl_parse_events(const void *buf, size_t len, nt_rtnl_event_fn fn, void *arg)
{
	const struct nlmsghdr *nh;
	struct nt_rtnl_neigh n;
	size_t off = 0;
	int err, count = 0;

	while ((nh = next_msg(buf, len, &off, &err))) {
		switch (nh->nlmsg_type) {
		case RTM_NEWNEIGH:
		case RTM_DELNEIGH:
			if (parse_neigh_msg(nh, &n) < 0)
				return -EBADMSG;
			fn(nh->nlmsg_type, &n, arg);
			count++;
			break;
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			if (nh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct rtmsg))
				return -EBADMSG;
			fn(nh->nlmsg_type, NULL, arg);
			count++;
			break;
		}
	}
	return err ? err : count;
}
