// SPDX-License-Identifier: GPL-2.0
/*
 * Next hops resolved by the daemon (nexthop.h). One netlink socket asks
 * (route, then neighbour: a few microseconds each, answered in the
 * kernel's context, so asked synchronously), another listens to neighbour
 * and route notifications. Answers are cached per peer address; a change
 * that touches a cached next hop marks the cache dirty, and the tick
 * re-resolves every address the mappings use and rewrites the mappings and
 * fan-out groups whose answer moved. The rebuild also drops addresses no
 * mapping uses any more.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "nattravd.h"
#include "nexthop.h"
#include "nt_endpoint.h"
#include "nt_log.h"
#include "nt_rtnl.h"

#define NH_BUCKETS 4096
#define NH_RECV_MAX 16384
/* a neighbour being resolved: how long one check waits for its answer */
#define NH_WAIT_STEP_MS 10
#define NH_WAIT_STEPS 30
#define NH_REFRESH_MIN_NS 1000000000ull	/* after a change, at most once a second */
#define NH_REFRESH_MAX_NS 60000000000ull	/* and every minute: a lost notification */

/* neighbour states whose link-layer address may be used */
#define NH_NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

struct nh_entry {
	struct nh_entry *next;
	struct nt_endpoint addr; /* port 0 */
	int err;		 /* the last resolution: 0 or -errno */
	bool have;		 /* dmac..ifindex hold an answer (maybe the last good one) */
	uint8_t dmac[6], smac[6];
	uint32_t ifindex;
	uint8_t hop[16];	 /* the neighbour the answer came from, for the monitor */
	uint32_t hop_ifindex;
};

struct nh_table {
	struct nh_entry *b[NH_BUCKETS];
	size_t n;
};

struct nd_nexthop {
	struct nd_handle mon; /* first: what epoll hands back */
	int fd;		      /* requests */
	int ioc;	      /* interface ioctls */
	uint32_t seq;
	struct nh_table t;
	bool dirty;
	uint64_t last_refresh_ns;
	uint8_t buf[NH_RECV_MAX];
};

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

static int af_of(const struct nt_endpoint *e)
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

static struct nh_entry *tab_find(struct nh_table *t, const struct nt_endpoint *e)
{
	for (struct nh_entry *x = t->b[hash_ep(e)]; x; x = x->next)
		if (x->addr.family == e->family && !memcmp(x->addr.addr, e->addr, 16))
			return x;
	return NULL;
}

static struct nh_entry *tab_add(struct nh_table *t, const struct nt_endpoint *e)
{
	struct nh_entry *x = tab_find(t, e);
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

static void tab_clear(struct nh_table *t)
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
		ssize_t n = recv(nh->fd, nh->buf, sizeof(nh->buf), 0);

		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
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
	struct ifreq ifr = { 0 };

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -ENODEV;
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

/* Route and neighbour towards e into x; x keeps its last good answer on failure. */
static int resolve(struct nd *d, struct nh_entry *x, bool wait)
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
		rc = neighbour(nh, af_of(&x->addr), r.oif, hop, wait, dmac);
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
	x = tab_add(&d->nh->t, ep);
	if (!x)
		return -ENOMEM;
	rc = resolve(d, x, true);
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
	x = tab_find(&d->nh->t, peer);
	if (!x) {
		x = tab_add(&d->nh->t, peer);
		if (x)
			resolve(d, x, false);
	}
	return x && x->have ? x : NULL;
}

static void route_set(const struct nh_entry *x, uint8_t dmac[6], uint8_t smac[6],
		      __u32 *ifindex, __u64 *expires)
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

	route_set(x, v->route_dmac, v->route_smac, &v->route_ifindex, &v->route_expires_ns);
}

void nd_nh_fill_group(struct nd *d, struct nt_fanout_group *g)
{
	for (uint32_t i = 0; i < g->n_members && i < NT_GROUP_MAX_MEMBERS; i++) {
		struct nt_fan_route *r = &g->routes[i];

		route_set(answer_for(d, &g->members[i]), r->dmac, r->smac, &r->ifindex,
			  &r->expires_ns);
	}
}

/*
 * Does this neighbour notification change a cached answer: gone, unusable,
 * another MAC, or usable again after a failure?
 */
static bool neigh_changes(struct nd_nexthop *nh, uint16_t type, const struct nt_rtnl_neigh *n)
{
	size_t len = n->family == AF_INET ? 4 : 16;

	if (!n->has_dst)
		return false;
	for (int i = 0; i < NH_BUCKETS; i++) {
		for (struct nh_entry *x = nh->t.b[i]; x; x = x->next) {
			if (x->hop_ifindex != n->ifindex || af_of(&x->addr) != n->family ||
			    memcmp(x->hop, n->dst, len))
				continue;
			if (type == RTM_DELNEIGH || !(n->state & NH_NUD_USABLE) || x->err ||
			    !x->have || (n->has_lladdr && memcmp(n->lladdr, x->dmac, 6)))
				return true;
		}
	}
	return false;
}

static void on_event(uint16_t type, const struct nt_rtnl_neigh *n, void *arg)
{
	struct nd_nexthop *nh = arg;

	/* neighbours change state all the time: only changes to our answers count */
	if (!nh->dirty && (!n || neigh_changes(nh, type, n)))
		nh->dirty = true;
}

void nd_nh_event(struct nd *d)
{
	struct nd_nexthop *nh = d->nh;

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(nh->mon.fd, nh->buf, sizeof(nh->buf), MSG_DONTWAIT);

		if (n < 0) {
			/* ENOBUFS: notifications were lost; resolve everything again */
			if (errno == ENOBUFS)
				nh->dirty = true;
			else if (errno != EAGAIN && errno != EINTR)
				nt_warn("netlink monitor: %s", strerror(errno));
			if (errno != ENOBUFS)
				return;
			continue;
		}
		if (nt_rtnl_parse_events(nh->buf, (size_t)n, on_event, nh) < 0)
			nh->dirty = true; /* could not tell what changed: assume it is ours */
	}
}

struct refresh {
	struct nd *d;
	struct nh_table old;
	size_t changed, failed;
};

/* The entry for addr in the new table: resolved once per refresh, the last answer kept. */
static const struct nh_entry *refresh_answer(struct refresh *rf, const struct nt_endpoint *addr)
{
	struct nd *d = rf->d;
	struct nh_entry *x, *was;
	char a[NT_ENDPOINT_STRLEN];

	if (!addr->family)
		return NULL;
	x = tab_find(&d->nh->t, addr);
	if (x)
		return x->have ? x : NULL;
	x = tab_add(&d->nh->t, addr);
	if (!x)
		return NULL;
	was = tab_find(&rf->old, addr);
	if (was) {
		*x = (struct nh_entry){ .next = x->next, .addr = x->addr, .have = was->have,
					.ifindex = was->ifindex };
		memcpy(x->dmac, was->dmac, 6);
		memcpy(x->smac, was->smac, 6);
	}
	if (resolve(d, x, false)) {
		rf->failed++;
		/* keep sending to the last answer: the neighbour may only be flushed */
		if (!was || !was->err)
			nt_warn("next hop of %s: %s%s", nt_endpoint_format(addr, a, sizeof(a)),
				strerror(-x->err), x->have ? " (the last answer stays in use)" : "");
	}
	return x->have ? x : NULL;
}

static int refresh_mapping(const struct nt_endpoint *src, const struct nt_mapping *val, void *arg)
{
	struct refresh *rf = arg;
	struct nt_mapping v = *val;
	const struct nh_entry *x = NULL;

	/* the operator's static mappings keep the FIB's path */
	if ((val->flags & NT_MAPPING_F_STATIC) && val->route_expires_ns != NT_ROUTE_DAEMON)
		return 0;
	if (rf->d->conf.next_hop == ND_NH_DAEMON && !(val->flags & NT_MAPPING_F_FANOUT) &&
	    !(val->flags & NT_MAPPING_F_STATIC))
		x = refresh_answer(rf, &val->peer);
	else if (val->route_expires_ns != NT_ROUTE_DAEMON)
		return 0; /* fib mode: the program's own cache, not ours to touch */
	route_set(x, v.route_dmac, v.route_smac, &v.route_ifindex, &v.route_expires_ns);
	if (!memcmp(&v, val, sizeof(v)))
		return 0;
	/* read-modify-write: a packet's counter update may be lost at this instant */
	if (!nt_maps_put_mapping(&rf->d->maps, src, &v))
		rf->changed++;
	return 0;
}

static void refresh_groups(struct refresh *rf)
{
	static struct nt_fanout_group g, old;
	struct nd *d = rf->d;
	__u32 key, next, *prev = NULL;

	while (bpf_map_get_next_key(d->maps.groups_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (nt_maps_get_group(&d->maps, key, &g))
			continue;
		old = g;
		for (uint32_t i = 0; i < g.n_members && i < NT_GROUP_MAX_MEMBERS; i++) {
			struct nt_fan_route *r = &g.routes[i];
			const struct nh_entry *x = NULL;

			if (d->conf.next_hop == ND_NH_DAEMON)
				x = refresh_answer(rf, &g.members[i]);
			else if (r->expires_ns != NT_ROUTE_DAEMON)
				continue;
			route_set(x, r->dmac, r->smac, &r->ifindex, &r->expires_ns);
		}
		if (memcmp(g.routes, old.routes, sizeof(g.routes)) &&
		    !nt_maps_put_group(&d->maps, key, &g))
			rf->changed++;
	}
}

/* Every address in use resolved again, the mappings and groups whose answer moved rewritten. */
static void refresh(struct nd *d)
{
	struct refresh rf = { .d = d };

	rf.old = d->nh->t;
	memset(&d->nh->t, 0, sizeof(d->nh->t));
	d->nh->dirty = false;
	nt_maps_for_each_mapping(&d->maps, refresh_mapping, &rf);
	refresh_groups(&rf);
	tab_clear(&rf.old);
	/* failures are retried at the next change or the next minute, not every tick */
	if (rf.changed || rf.failed)
		nt_info("next hops resolved again: %zu addresses, %zu entries rewritten, %zu unresolved",
			d->nh->t.n, rf.changed, rf.failed);
}

void nd_nh_tick(struct nd *d, uint64_t now)
{
	struct nd_nexthop *nh = d->nh;

	if (!nh)
		return;
	if (nh->dirty ? now - nh->last_refresh_ns < NH_REFRESH_MIN_NS :
			now - nh->last_refresh_ns < NH_REFRESH_MAX_NS)
		return;
	nh->last_refresh_ns = now;
	refresh(d);
}

/* fib mode with forwarding off: bpf_fib_lookup answers "disabled" and media is bounced. */
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
	refresh(d);
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
	tab_clear(&nh->t);
	free(nh);
	d->nh = NULL;
}
