// SPDX-License-Identifier: GPL-2.0
/*
 * Next hops resolved by the daemon (nexthop.h): one netlink socket asks,
 * route then neighbour (a few microseconds each, answered in the kernel's
 * context, so asked synchronously); answers are cached per peer address in
 * the table nexthop_watch.c rebuilds when something changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "nattravd.h"
#include "nexthop.h"
#include "nexthop_priv.h"
#include "nt_endpoint.h"
#include "nt_log.h"
#include "nt_rtnl.h"

int nd_nh_mode_parse(const char *s, enum nd_nh_mode *m)
{
	if (!strcmp(s, "daemon"))
		*m = ND_NH_DAEMON;
	else if (!strcmp(s, "fib"))
		*m = ND_NH_FIB;
	else
		return -EINVAL;
	return 0;
}

const char *nd_nh_mode_name(enum nd_nh_mode m)
{
	return m == ND_NH_FIB ? "fib" : "daemon";
}

static size_t addr_len(const struct nt_endpoint *e)
{
	return e->family == NT_FAMILY_V4 ? 4 : 16;
}

static const uint8_t *addr_of(const struct nt_endpoint *e)
{
	return e->family == NT_FAMILY_V4 ? e->addr + 12 : e->addr;
}

int nh_af(const struct nt_endpoint *e)
{
	return e->family == NT_FAMILY_V4 ? AF_INET : AF_INET6;
}

static uint32_t hash_ep(const struct nt_endpoint *e)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ e->addr[i]) * 16777619u;
	return h % NH_BUCKETS;
}

struct nh_entry *nh_tab_find(struct nh_table *t, const struct nt_endpoint *e)
{
	for (struct nh_entry *x = t->b[hash_ep(e)]; x; x = x->next)
		if (x->addr.family == e->family && !memcmp(x->addr.addr, e->addr, 16))
			return x;
	return NULL;
}

struct nh_entry *nh_tab_add(struct nh_table *t, const struct nt_endpoint *e)
{
	struct nh_entry *x = nh_tab_find(t, e);
	uint32_t h = hash_ep(e);

	if (x)
		return x;
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->addr.family = e->family;
	memcpy(x->addr.addr, e->addr, 16);
	x->next = t->b[h];
	t->b[h] = x;
	t->n++;
	return x;
}

void nh_tab_clear(struct nh_table *t)
{
	for (int i = 0; i < NH_BUCKETS; i++) {
		while (t->b[i]) {
			struct nh_entry *x = t->b[i];

			t->b[i] = x->next;
			free(x);
		}
	}
	t->n = 0;
}

ssize_t nh_recv(int fd, uint8_t *buf, size_t cap, int flags)
{
	struct sockaddr_nl from;
	socklen_t fl;
	ssize_t n;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(fd, buf, cap, flags, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return -errno;
		/* only the kernel speaks for routes and neighbours */
		if (fl == sizeof(from) && from.nl_family == AF_NETLINK && from.nl_pid == 0)
			return n;
	}
}

/* Send req, then read until the answer to its sequence number is parsed by parse. */
static int nl_ask(struct nd_nexthop *nh, const void *req, size_t len, uint32_t seq,
		  int (*parse)(const void *, size_t, uint32_t, void *), void *out)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int rc = -ENOMSG;

	if (!len)
		return -EINVAL;
	if (sendto(nh->fd, req, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	/* answers to earlier requests that timed out may come first: skipped by seq */
	for (int i = 0; i < 16 && rc == -ENOMSG; i++) {
		ssize_t n = nh_recv(nh->fd, nh->buf, sizeof(nh->buf), 0);

		if (n < 0)
			return n == -EAGAIN ? -ETIMEDOUT : (int)n;
		rc = parse(nh->buf, (size_t)n, seq, out);
	}
	return rc;
}

static int parse_route(const void *b, size_t n, uint32_t seq, void *out)
{
	return nt_rtnl_parse_route(b, n, seq, out);
}

static int parse_neigh(const void *b, size_t n, uint32_t seq, void *out)
{
	return nt_rtnl_parse_neigh(b, n, seq, out);
}

static int parse_ack(const void *b, size_t n, uint32_t seq, void *out)
{
	(void)out;
	return nt_rtnl_parse_ack(b, n, seq);
}

/* The MAC of an egress interface; -EOPNOTSUPP when it has no Ethernet address or is down. */
static int iface_mac(struct nd_nexthop *nh, uint32_t ifindex, uint8_t mac[6])
{
	struct ifreq ifr = { .ifr_ifindex = (int)ifindex };

	/* not if_indextoname(): it opens and closes a socket per call */
	if (ioctl(nh->ioc, SIOCGIFNAME, &ifr) < 0)
		return errno == ENODEV ? -ENODEV : -errno;
	if (ioctl(nh->ioc, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	if (!(ifr.ifr_flags & IFF_UP))
		return -ENETDOWN;
	if (ioctl(nh->ioc, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EOPNOTSUPP;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * The neighbour hop on ifindex, usable: 0 and its MAC. Not known yet: ask the
 * kernel to resolve it and wait a little (the challenge sent to a peer being
 * verified has normally resolved it already). wait false: no waiting.
 */
static int neighbour(struct nd_nexthop *nh, int family, uint32_t ifindex, const uint8_t *hop,
		     bool wait, uint8_t mac[6])
{
	uint8_t req[NT_RTNL_REQ_MAX];
	struct nt_rtnl_neigh n;
	bool kicked = false;
	int rc;

	for (int step = 0;; step++) {
		uint32_t seq = ++nh->seq;

		rc = nl_ask(nh, req, nt_rtnl_neigh_req(req, sizeof(req), seq, family, ifindex, hop),
			    seq, parse_neigh, &n);
		if (!rc && (n.state & NH_NUD_USABLE)) {
			if (!n.has_lladdr)
				return -EOPNOTSUPP; /* NOARP link: no MAC to write */
			memcpy(mac, n.lladdr, 6);
			return 0;
		}
		if (rc && rc != -ENOENT)
			return rc;
		if (!kicked) {
			seq = ++nh->seq;
			nl_ask(nh, req, nt_rtnl_neigh_use_req(req, sizeof(req), seq, family, ifindex, hop),
			       seq, parse_ack, NULL);
			kicked = true;
		}
		if (!wait || step >= NH_WAIT_STEPS)
			return rc == -ENOENT || !(n.state & NUD_FAILED) ? -EAGAIN : -EHOSTUNREACH;
		sleep_ms(NH_WAIT_STEP_MS);
	}
}

int nh_resolve(struct nd *d, struct nh_entry *x, bool wait)
{
	struct nd_nexthop *nh = d->nh;
	struct nt_endpoint src = { 0 };
	uint8_t req[NT_RTNL_REQ_MAX], dmac[6], smac[6];
	struct nt_rtnl_route r;
	const uint8_t *hop;
	uint32_t seq = ++nh->seq;
	int rc;

	if (x->addr.family == NT_FAMILY_V4 && d->conf.have_v4) {
		src.family = NT_FAMILY_V4;
		src.addr[10] = src.addr[11] = 0xff;
		memcpy(src.addr + 12, d->conf.addr_v4, 4);
	} else if (x->addr.family == NT_FAMILY_V6 && d->conf.have_v6) {
		src.family = NT_FAMILY_V6;
		memcpy(src.addr, d->conf.addr_v6, 16);
	}
	rc = nl_ask(nh, req,
		    nt_rtnl_route_req(req, sizeof(req), seq, &x->addr, src.family ? &src : NULL),
		    seq, parse_route, &r);
	/* unreachable, prohibit, blackhole routes, or no usable source: all "no route" */
	if (rc == -EHOSTUNREACH || rc == -EINVAL || rc == -EACCES || rc == -EPERM || rc == -ESRCH)
		rc = -ENETUNREACH;
	if (!rc && (r.type != RTN_UNICAST || !r.oif))
		rc = -ENETUNREACH;
	if (rc)
		goto out;
	hop = r.has_gw ? r.gw : addr_of(&x->addr);
	rc = iface_mac(nh, r.oif, smac);
	if (!rc)
		rc = neighbour(nh, nh_af(&x->addr), r.oif, hop, wait, dmac);
	/* the hop is remembered even unresolved: the monitor says when it is */
	memcpy(x->hop, hop, addr_len(&x->addr));
	x->hop_ifindex = r.oif;
	if (rc)
		goto out;
	if (r.oif != (uint32_t)d->ifindex && d->mode != NT_XDP_OFF) {
		int err = nt_maps_put_egress(&d->maps, r.oif);

		if (err)
			nt_warn("egress interface %u not usable for redirects: %s", r.oif,
				strerror(-err));
	}
	memcpy(x->dmac, dmac, 6);
	memcpy(x->smac, smac, 6);
	x->ifindex = r.oif;
	x->have = true;
out:
	x->err = rc;
	return rc;
}

int nd_nh_check(struct nd *d, const struct nt_endpoint *ep)
{
	char a[NT_ENDPOINT_STRLEN];
	struct nh_entry *x;
	int rc;

	if (!d->nh)
		return 0;
	x = nh_tab_add(&d->nh->t, ep);
	if (!x)
		return -ENOMEM;
	/*
	 * A good answer the monitor has not seen change is still good (the
	 * tick re-resolves within a second of a change, and every minute):
	 * peers behind one address, and re-verifications, ask netlink once.
	 */
	if (x->have && !x->err && !d->nh->dirty)
		return 0;
	rc = nh_resolve(d, x, true);
	if (!rc)
		return 0;
	nt_endpoint_format(ep, a, sizeof(a));
	switch (rc) {
	case -ENETUNREACH:
	case -ENETDOWN:
		nt_warn("peer %s unreachable: no route to it from the relay", a);
		return -ENETUNREACH;
	case -EAGAIN:
	case -EHOSTUNREACH:
		nt_warn("peer %s unreachable: its next hop does not answer neighbour discovery", a);
		return -EHOSTUNREACH;
	case -EOPNOTSUPP:
		nt_warn("peer %s unreachable for XDP: its egress interface has no Ethernet address", a);
		return -EOPNOTSUPP;
	default:
		nt_err("next hop of %s: rtnetlink: %s", a, strerror(-rc));
		return -EIO;
	}
}

/* The cached answer for peer, resolved now when not cached; NULL when there is none. */
static const struct nh_entry *answer_for(struct nd *d, const struct nt_endpoint *peer)
{
	struct nh_entry *x;

	if (!d->nh || d->conf.next_hop != ND_NH_DAEMON || !peer->family)
		return NULL;
	x = nh_tab_find(&d->nh->t, peer);
	if (!x) {
		x = nh_tab_add(&d->nh->t, peer);
		if (x)
			nh_resolve(d, x, false);
	}
	return x && x->have ? x : NULL;
}

void nh_route_set(const struct nh_entry *x, __u8 dmac[6], __u8 smac[6], __u32 *ifindex,
		  __u64 *expires)
{
	if (!x) {
		memset(dmac, 0, 6);
		memset(smac, 0, 6);
		*ifindex = 0;
		*expires = 0;
		return;
	}
	memcpy(dmac, x->dmac, 6);
	memcpy(smac, x->smac, 6);
	*ifindex = x->ifindex;
	*expires = NT_ROUTE_DAEMON;
}

void nd_nh_fill_mapping(struct nd *d, struct nt_mapping *v)
{
	const struct nh_entry *x = (v->flags & NT_MAPPING_F_FANOUT) ? NULL : answer_for(d, &v->peer);

	nh_route_set(x, v->route_dmac, v->route_smac, &v->route_ifindex, &v->route_expires_ns);
}

void nd_nh_fill_group(struct nd *d, struct nt_fanout_group *g)
{
	for (uint32_t i = 0; i < g->n_members && i < NT_GROUP_MAX_MEMBERS; i++) {
		struct nt_fan_route *r = &g->routes[i];

		nh_route_set(answer_for(d, &g->members[i]), r->dmac, r->smac, &r->ifindex,
			  &r->expires_ns);
	}
}

static void warn_forwarding(struct nd *d)
{
	static const char *const fmt[2] = { "/proc/sys/net/ipv4/conf/%s/forwarding",
					    "/proc/sys/net/ipv6/conf/%s/forwarding" };
	bool have[2] = { d->conf.have_v4, d->conf.have_v6 };

	for (int i = 0; i < 2; i++) {
		char path[128], v = '1';
		FILE *f;

		if (!have[i])
			continue;
		snprintf(path, sizeof(path), fmt[i], d->conf.iface);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fread(&v, 1, 1, f) == 1 && v == '0')
			nt_warn("--next-hop fib with %s forwarding off on %s: the XDP program's FIB lookups "
				"fail and media to peers is bounced to the sender's next hop; use "
				"--next-hop daemon (the default), or turn forwarding on",
				i ? "IPv6" : "IPv4", d->conf.iface);
		fclose(f);
	}
}

int nd_nh_open(struct nd *d)
{
	struct sockaddr_nl mon = { .nl_family = AF_NETLINK,
				   .nl_groups = RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE };
	struct timeval tv = { 0, 200000 };
	struct nd_nexthop *nh;
	int err;

	if (d->mode == NT_XDP_OFF)
		return 0; /* the kernel's stack sends what userspace forwards */
	if (d->conf.next_hop == ND_NH_FIB)
		warn_forwarding(d);
	nh = calloc(1, sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	nh->mon.kind = ND_NETLINK;
	nh->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	nh->mon.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	nh->ioc = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (nh->fd < 0 || nh->mon.fd < 0 || nh->ioc < 0)
		goto fail_errno;
	/* the kernel answers at once; a lost answer must not hang the loop */
	if (setsockopt(nh->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto fail_errno;
	if (bind(nh->mon.fd, (struct sockaddr *)&mon, sizeof(mon)) < 0)
		goto fail_errno;
	d->nh = nh;
	err = nd_loop_add(d, &nh->mon, EPOLLIN);
	if (err) {
		d->nh = NULL;
		goto fail;
	}
	nh->last_refresh_ns = nd_now_ns();
	/* adopted mappings of a previous run, perhaps in the other mode: brought in line */
	nh_refresh(d);
	nt_info("next hops: %s%s", nd_nh_mode_name(d->conf.next_hop),
		d->conf.next_hop == ND_NH_DAEMON ? " (resolved by nattravd, followed over rtnetlink)" :
						   " (bpf_fib_lookup in the XDP program)");
	return 0;
fail_errno:
	err = -errno;
fail:
	nt_err("next hop resolution: cannot open rtnetlink: %s", strerror(-err));
	if (nh->fd >= 0)
		close(nh->fd);
	if (nh->mon.fd >= 0)
		close(nh->mon.fd);
	if (nh->ioc >= 0)
		close(nh->ioc);
	free(nh);
	return err;
}

void nd_nh_close(struct nd *d)
{
	struct nd_nexthop *nh = d->nh;

	if (!nh)
		return;
	close(nh->fd);
	close(nh->mon.fd);
	close(nh->ioc);
	nh_tab_clear(&nh->t);
	free(nh);
	d->nh = NULL;
}
