// SPDX-License-Identifier: GPL-2.0
/*
 * Following changes to the daemon's next hops: a netlink socket listens to
 * neighbour and route notifications; one that touches a cached next hop
 * marks the cache dirty, and the tick re-resolves every address the
 * mappings use and rewrites the mappings and fan-out groups whose answer
 * moved. The rebuild also drops addresses no mapping uses any more.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "nattravd.h"
#include "nexthop.h"
#include "nexthop_priv.h"
#include "nt_endpoint.h"
#include "nt_log.h"
#include "nt_rtnl.h"

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
			if (x->hop_ifindex != n->ifindex || nh_af(&x->addr) != n->family ||
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
		ssize_t n = nh_recv(nh->mon.fd, nh->buf, sizeof(nh->buf), MSG_DONTWAIT);

		if (n == -ENOBUFS) {
			/* notifications were lost: resolve everything again */
			nh->dirty = true;
			continue;
		}
		if (n < 0) {
			if (n != -EAGAIN && n != -EINTR)
				nt_warn("netlink monitor: %s", strerror((int)-n));
			return;
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
	x = nh_tab_find(&d->nh->t, addr);
	if (x)
		return x->have ? x : NULL;
	x = nh_tab_add(&d->nh->t, addr);
	if (!x)
		return NULL;
	was = nh_tab_find(&rf->old, addr);
	if (was) {
		*x = (struct nh_entry){ .next = x->next, .addr = x->addr, .have = was->have,
					.ifindex = was->ifindex };
		memcpy(x->dmac, was->dmac, 6);
		memcpy(x->smac, was->smac, 6);
	}
	if (nh_resolve(d, x, false)) {
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
	nh_route_set(x, v.route_dmac, v.route_smac, &v.route_ifindex, &v.route_expires_ns);
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
			nh_route_set(x, r->dmac, r->smac, &r->ifindex, &r->expires_ns);
		}
		if (memcmp(g.routes, old.routes, sizeof(g.routes)) &&
		    !nt_maps_put_group(&d->maps, key, &g))
			rf->changed++;
	}
}

/* Every address in use resolved again, the mappings and groups whose answer moved rewritten. */
void nh_refresh(struct nd *d)
{
	struct refresh rf = { .d = d };

	rf.old = d->nh->t;
	memset(&d->nh->t, 0, sizeof(d->nh->t));
	d->nh->dirty = false;
	nt_maps_for_each_mapping(&d->maps, refresh_mapping, &rf);
	refresh_groups(&rf);
	nh_tab_clear(&rf.old);
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
	nh_refresh(d);
}

/* fib mode with forwarding off: bpf_fib_lookup answers "disabled" and media is bounced. */
