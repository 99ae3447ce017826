// SPDX-License-Identifier: GPL-2.0
/*
 * Verified mappings: written to the pinned map (what XDP forwards by) and to
 * the in-memory table (what off mode forwards by), linked to the group's
 * other verified members (a pair: each other's peer; three or more: the
 * fan-out list, nt_group.h), expired by the consent window, removed with
 * their session.
 * Orphans are mappings found in the map at start (a previous daemon's):
 * they keep forwarding until idle for a consent window.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nattravd.h"
#include "nt_endpoint.h"
#include "nt_group.h"
#include "nt_log.h"

/* "EVT <evt> session=<hex> <key>=<val> [reason=<reason>]" to s's client. */
static void tell_kv(struct nd *d, struct nt_session *s, const char *evt,
		    const char *key, const char *val, const char *reason)
{
	char b[NT_LINE_MAX + 2], sid[17];
	struct nt_line_kv kv[3] = { { "session", sid }, { key, val }, { "reason", reason } };

	snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)s->id);
	if (nt_line_fmt_evt(b, sizeof(b), evt, kv, reason ? 3 : 2) > 0)
		nd_session_tell(d, s, b);
}

/*
 * A new peer means a new route: the daemon's next hop for it (--next-hop
 * daemon), or zeros so the XDP program asks the FIB afresh (fib).
 */
static void new_route(struct nd *d, struct nt_mapping *v)
{
	nd_nh_fill_mapping(d, v);
}

/* Packets the relay sends for one of a member's under plan p: its rate is charged that. */
static uint32_t rate_weight(const struct nt_group_plan *p)
{
	return p && p->mode == NT_GROUP_FANOUT && p->n > 2 ? p->n - 1 : 1;
}

/*
 * Point src's mapping at peer (NULL: none) with the FANOUT bit of flags and
 * the rate weight, in the map and the table; the one place an existing
 * entry gets a new peer. cur: its value as just read from the map, or NULL
 * to read it here (one bpf syscall fewer for a caller that has it).
 */
static void set_relay(struct nd *d, const struct nt_endpoint *src, const struct nt_mapping *cur,
		      const struct nt_endpoint *peer, uint32_t fanout, uint32_t weight)
{
	struct nt_mapping v;
	uint32_t flags;

	/*
	 * Read-modify-write races with XDP's counter updates of this entry:
	 * a few packets may go uncounted at this instant, never misrouted.
	 */
	if (cur)
		v = *cur;
	if (cur || !nt_maps_get_mapping(&d->maps, src, &v)) {
		bool moved;

		flags = (v.flags & ~(uint32_t)NT_MAPPING_F_FANOUT) | fanout;
		moved = flags != v.flags || (peer ? !nt_endpoint_eq(&v.peer, peer) : v.peer.family != 0);
		if (moved || v.rate_weight != weight) {
			if (peer)
				v.peer = *peer;
			else
				memset(&v.peer, 0, sizeof(v.peer));
			v.flags = flags;
			v.rate_weight = weight;
			if (moved)
				new_route(d, &v);
			nt_maps_put_mapping(&d->maps, src, &v);
		}
	}
	if (nt_fwd_get(&d->fwd, src)) {
		nt_fwd_put(&d->fwd, src, peer);
		nt_fwd_get(&d->fwd, src)->flags = fanout;
	}
}

static void set_peer(struct nd *d, const struct nt_endpoint *src,
		     const struct nt_endpoint *peer)
{
	set_relay(d, src, NULL, peer, 0, 1);
}

static uint64_t h_ep(const struct nd *d, const struct nt_endpoint *ep)
{
	uint8_t k[sizeof(ep->addr) + sizeof(ep->port) + 1];

	memcpy(k, ep->addr, sizeof(ep->addr));
	memcpy(k + sizeof(ep->addr), &ep->port, sizeof(ep->port));
	k[sizeof(k) - 1] = ep->family;
	return nt_index_hash(d->orphan_hkey, k, sizeof(k));
}

static uint64_t h_u64(const struct nd *d, uint64_t v)
{
	return nt_index_hash(d->orphan_hkey, &v, sizeof(v));
}

static struct nd_orphan *orphan_find(struct nd *d, const struct nt_endpoint *ep)
{
	for (uint32_t it = nt_hidx_first(&d->orphan_by_src, h_ep(d, ep)); it;
	     it = nt_hidx_next(&d->orphan_by_src, it))
		if (d->orphans[it - 1].used && nt_endpoint_eq(&d->orphans[it - 1].src, ep))
			return &d->orphans[it - 1];
	return NULL;
}

/* An orphan is gone (taken over, deleted, expired): out of the indexes. */
static void orphan_unuse(struct nd *d, struct nd_orphan *o)
{
	uint32_t i = (uint32_t)(o - d->orphans);

	if (!o->used)
		return;
	nt_hidx_del(&d->orphan_by_src, h_ep(d, &o->src), i);
	nt_hidx_del(&d->orphan_by_session, h_u64(d, o->session_id), i);
	nt_hidx_del(&d->orphan_by_group, h_u64(d, o->group_id), i);
	o->used = false;
}

static struct nt_session *holder_of(struct nd *d, const struct nt_endpoint *ep)
{
	return nt_session_by_mapping(&d->st, ep);
}

/* "EVT GROUP session=<hex> group=<name> members=<verified> mode=<alone|pair|fanout>" */
static void tell_group(struct nd *d, struct nt_session *s, const struct nt_group_plan *p)
{
	char b[NT_LINE_MAX + 2], sid[17], n[12];
	struct nt_line_kv kv[4] = { { "session", sid }, { "group", s->group->name },
				    { "members", n }, { "mode", nt_group_mode_name(p->mode) } };

	snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)s->id);
	snprintf(n, sizeof(n), "%u", p->n);
	if (nt_line_fmt_evt(b, sizeof(b), "GROUP", kv, 4) > 0)
		nd_session_tell(d, s, b);
}

/* The nt_groups entry (and the userspace copy) for a fan-out plan. */
static void write_fanout(struct nd *d, uint32_t gid, const struct nt_group_plan *p)
{
	static struct nt_fanout_group old, val;
	bool have = !nt_maps_get_group(&d->maps, gid, &old);
	int err;

	nt_group_fanout_fill(p, have ? &old : NULL, &val);
	nd_nh_fill_group(d, &val);
	err = nt_maps_put_group(&d->maps, gid, &val);
	if (!err)
		err = nt_fwd_group_put(&d->fwd, gid, p->eps, p->n);
	if (err)
		nt_err("cannot write fan-out group %u: %s", gid, strerror(-err));
}

/* What the plan says for a member's mapping, unless it relays to an adopted orphan. */
static void plan_relay(struct nd *d, const struct nt_group_plan *p, const struct nt_endpoint *ep,
		       const struct nt_mapping *cur, struct nt_endpoint *peer, uint32_t *fanout)
{
	uint32_t flags = 0;

	nt_group_mapping_for(p, ep, peer, &flags);
	*fanout = flags & NT_MAPPING_F_FANOUT;
	/*
	 * Alone, but the mapping was adopted from a previous run with a peer
	 * that is an orphan too: keep relaying to it until that peer is back
	 * or its orphan expires (see orphan_drop).
	 */
	if (p->mode == NT_GROUP_ALONE && cur && cur->peer.family &&
	    !(cur->flags & NT_MAPPING_F_FANOUT) && orphan_find(d, &cur->peer))
		*peer = cur->peer;
}

void nd_group_sync(struct nd *d, struct nt_group *g)
{
	static struct nt_group_plan p;
	int was;

	if (!g)
		return;
	nt_group_plan(g, &p);
	was = g->mode;
	/* into or within fan-out: the list first, so a flagged mapping finds its group */
	if (p.mode == NT_GROUP_FANOUT)
		write_fanout(d, g->id, &p);
	for (int i = 0; i < NT_GROUP_MEMBERS; i++) {
		struct nt_session *m = g->members[i];
		struct nt_endpoint peer;
		struct nt_mapping cur;
		uint32_t fanout;
		bool have;

		if (!m || !m->verified)
			continue;
		have = !nt_maps_get_mapping(&d->maps, &m->mapping, &cur);
		plan_relay(d, &p, &m->mapping, have ? &cur : NULL, &peer, &fanout);
		set_relay(d, &m->mapping, have ? &cur : NULL, peer.family ? &peer : NULL, fanout,
			  rate_weight(&p));
		if (nt_fwd_get(&d->fwd, &m->mapping))
			nt_fwd_set_group(&d->fwd, &m->mapping, g->id, fanout);
	}
	/* out of fan-out: every mapping has its peer (or none) already */
	if (was == NT_GROUP_FANOUT && p.mode != NT_GROUP_FANOUT) {
		nt_maps_del_group(&d->maps, g->id);
		nt_fwd_group_del(&d->fwd, g->id);
	}
	if (was != (int)p.mode)
		nt_info("group=%s (id %u): %u verified members, %s -> %s", g->name, g->id, p.n,
			nt_group_mode_name(was), nt_group_mode_name(p.mode));
	g->mode = p.mode;
	for (int i = 0; i < NT_GROUP_MEMBERS; i++)
		if (g->members[i] && g->members[i]->verified)
			tell_group(d, g->members[i], &p);
}

int nd_mapping_install(struct nd *d, struct nt_session *s, const struct nt_endpoint *ep)
{
	static struct nt_group_plan p;
	char a[NT_ENDPOINT_STRLEN];
	struct nt_session *other = holder_of(d, ep);
	struct nd_orphan *o = orphan_find(d, ep);
	struct nt_mapping v = { 0 }, old;
	struct nt_endpoint peer;
	uint64_t now = nd_now_ns();
	bool was_verified, have_old;
	uint32_t fanout;
	int err;

	nt_endpoint_format(ep, a, sizeof(a));
	/*
	 * Media for ep must be able to leave: a mapping the relay cannot
	 * deliver to is refused, never installed as a blackhole. Before
	 * anything changes, like the quota.
	 */
	err = nd_nh_check(d, ep);
	if (err)
		return err;
	/* one socket, two sessions: the newest verification wins the endpoint */
	if (other && other != s)
		nd_mapping_remove(d, other, "rebind", "taken over by another session");
	/* checked before anything changes; a rebinding or an adopted key does not grow */
	if (!o && !s->verified && d->nmappings >= d->conf.max_mappings)
		return -EDQUOT;
	if (o) { /* the key is rewritten below: it stops being an orphan */
		orphan_unuse(d, o);
		d->nmappings--;
	}
	if (s->verified && !nt_endpoint_eq(&s->mapping, ep)) {
		char olds[NT_ENDPOINT_STRLEN];

		nt_info("mapping %s of user=%s replaced by %s (NAT rebinding)",
			nt_endpoint_format(&s->mapping, olds, sizeof(olds)), s->user, a);
		nt_maps_del_mapping(&d->maps, &s->mapping);
		nt_fwd_del(&d->fwd, &s->mapping);
		nt_session_clear_mapping(&d->st, s);
		d->nmappings--;
		tell_kv(d, s, "EXPIRED", "mapping", olds, "rebind");
		nd_count_expiry(d, "rebind");
		/* the group is brought up to date once, with the new mapping, below */
	}
	was_verified = s->verified;
	/* the group as it will be: the value is written right the first time */
	nt_session_set_mapping(&d->st, s, ep);
	nt_group_plan(s->group, &p);
	/* re-verifying the same mapping keeps its counters and rate state */
	have_old = !nt_maps_get_mapping(&d->maps, ep, &old);
	if (have_old)
		v = old;
	plan_relay(d, &p, ep, have_old && o ? &old : NULL, &peer, &fanout);
	if (p.mode == NT_GROUP_FANOUT)
		write_fanout(d, s->group->id, &p);
	v.peer = peer;
	v.flags = fanout;
	v.rate_weight = rate_weight(&p);
	new_route(d, &v);
	v.group_id = s->group->id;
	v.session_id = s->id;
	v.created_ns = now;
	err = nt_maps_put_mapping(&d->maps, ep, &v);
	if (!err)
		err = nt_fwd_put(&d->fwd, ep, peer.family ? &peer : NULL);
	if (!err)
		err = nt_fwd_set_group(&d->fwd, ep, s->group->id, fanout);
	if (err) {
		nt_err("cannot write mapping %s: %s", a, strerror(-err));
		nt_maps_del_mapping(&d->maps, ep);
		nt_fwd_del(&d->fwd, ep);
		nt_session_clear_mapping(&d->st, s);
		if (was_verified)
			d->nmappings--;
		nd_group_sync(d, s->group);
		return err;
	}
	if (!was_verified)
		d->nmappings++;
	s->verified_ns = now;
	tell_kv(d, s, "VERIFIED", "mapping", a, NULL);
	nd_group_sync(d, s->group);
	nt_info("mapping %s verified for user=%s group=%s (%u verified, %s)", a, s->user,
		s->group->name, p.n, nt_group_mode_name(p.mode));
	return 0;
}

void nd_mapping_remove(struct nd *d, struct nt_session *s, const char *reason,
		       const char *why)
{
	char a[NT_ENDPOINT_STRLEN];

	if (!s->verified)
		return;
	nt_endpoint_format(&s->mapping, a, sizeof(a));
	nt_maps_del_mapping(&d->maps, &s->mapping);
	nt_fwd_del(&d->fwd, &s->mapping);
	nt_session_clear_mapping(&d->st, s);
	d->nmappings--;
	nd_count_expiry(d, reason);
	if (reason)
		tell_kv(d, s, "EXPIRED", "mapping", a, reason);
	/* the others stop sending to it now: fan-out list, or the pair's peer */
	nd_group_sync(d, s->group);
	nt_info("mapping %s of user=%s removed: %s", a, s->user, why);
}

void nd_session_end(struct nd *d, struct nt_session *s, const char *why)
{
	char g[NT_LINE_GROUP_MAX + 1] = "";

	if (s->group)
		memcpy(g, s->group->name, sizeof(g));
	/* --keep-on-exit: the next daemon adopts what is in the map */
	if (!(d->stop && d->conf.keep_on_exit))
		nd_mapping_remove(d, s, NULL, why);
	nt_verify_forget(&d->ver, s->id);
	nt_info("session of user=%s in group=%s ended: %s", s->user, g, why);
	nt_session_del(&d->st, s);
}

/* Ids in use outside the session table: operator groups in the map, adopted mappings. */
static bool group_id_taken(uint32_t id, void *arg)
{
	static struct nt_fanout_group g;
	struct nd *d = arg;

	for (uint32_t it = nt_hidx_first(&d->orphan_by_group, h_u64(d, id)); it;
	     it = nt_hidx_next(&d->orphan_by_group, it))
		if (d->orphans[it - 1].used && d->orphans[it - 1].group_id == id)
			return true;
	return d->maps.groups_fd >= 0 && !nt_maps_get_group(&d->maps, id, &g);
}

int nd_sessions_init(struct nd *d)
{
	int err = nt_sessions_init(&d->st, d->conf.max_connections, d->conf.max_groups);

	if (err)
		return err;
	d->st.id_taken = group_id_taken;
	d->st.id_arg = d;
	return 0;
}

/* Why an adopted mapping may not stay: its address or its peer's is refused now. */
static const char *orphan_refused(const struct nd *d, const struct nt_endpoint *src,
				  const struct nt_mapping *val)
{
	const char *why = NULL;

	if (nd_addr_denied(d, src, &why) ||
	    (val->peer.family && nd_addr_denied(d, &val->peer, &why)))
		return why ? why : "address denied";
	return NULL;
}

static int adopt_one(const struct nt_endpoint *src, const struct nt_mapping *val, void *arg)
{
	static struct nt_fanout_group g;
	char a[NT_ENDPOINT_STRLEN];
	struct nd *d = arg;
	struct nd_orphan *o;
	const char *why;
	int err;

	if (val->flags & NT_MAPPING_F_STATIC)
		return 0; /* the operator's: not ours to expire */
	why = orphan_refused(d, src, val);
	if (why) {
		/* under today's rules it would never have verified */
		nt_maps_del_mapping(&d->maps, src);
		nd_count_expiry(d, "admin");
		nt_info("mapping %s of a previous run not adopted: %s",
			nt_endpoint_format(src, a, sizeof(a)), why);
		return 0;
	}
	if (d->norphans % 64 == 0) {
		o = realloc(d->orphans, (d->norphans + 64) * sizeof(*o));
		if (!o)
			return -ENOMEM;
		d->orphans = o;
	}
	o = &d->orphans[d->norphans++];
	o->used = true;
	o->src = *src;
	o->group_id = val->group_id;
	o->session_id = val->session_id;
	o->adopted_ns = nd_now_ns();
	d->nmappings++;
	nt_sessions_reserve_group_id(&d->st, val->group_id);
	err = nt_fwd_put(&d->fwd, src, val->peer.family ? &val->peer : NULL);
	if (err || !(val->flags & NT_MAPPING_F_FANOUT))
		return err;
	/* a fan-out member: off mode copies to the members the map lists */
	nt_fwd_set_group(&d->fwd, src, val->group_id, NT_MAPPING_F_FANOUT);
	if (!nt_fwd_group_get(&d->fwd, val->group_id) &&
	    !nt_maps_get_group(&d->maps, val->group_id, &g))
		err = nt_fwd_group_put(&d->fwd, val->group_id, g.members,
				       g.n_members < NT_GROUP_MAX_MEMBERS ? g.n_members : NT_GROUP_MAX_MEMBERS);
	return err;
}

/* An adopted fan-out member goes: out of its group's list, the list gone with the last one. */
static void orphan_leave_group(struct nd *d, const struct nt_endpoint *src, uint32_t gid)
{
	static struct nt_fanout_group g;
	int i = -1;

	if (nt_maps_get_group(&d->maps, gid, &g) || (i = nt_group_member_index(&g, src)) < 0)
		return;
	g.n_members--;
	memmove(&g.members[i], &g.members[i + 1], (g.n_members - (uint32_t)i) * sizeof(g.members[0]));
	memmove(&g.delivered[i], &g.delivered[i + 1], (g.n_members - (uint32_t)i) * sizeof(g.delivered[0]));
	memset(&g.members[g.n_members], 0, sizeof(g.members[0]));
	g.delivered[g.n_members] = 0;
	if (!g.n_members) {
		nt_maps_del_group(&d->maps, gid);
		nt_fwd_group_del(&d->fwd, gid);
		return;
	}
	nt_maps_put_group(&d->maps, gid, &g);
	if (nt_fwd_group_get(&d->fwd, gid))
		nt_fwd_group_put(&d->fwd, gid, g.members, g.n_members);
}

/* The array is final once adopted: indexes for it, at its size. */
static int orphans_index(struct nd *d)
{
	int err;

	nt_index_key_init(d->orphan_hkey);
	if (!d->norphans)
		return 0;
	err = nt_hidx_init(&d->orphan_by_src, d->norphans);
	if (!err)
		err = nt_hidx_init(&d->orphan_by_session, d->norphans);
	if (!err)
		err = nt_hidx_init(&d->orphan_by_group, d->norphans);
	if (err)
		return err;
	for (uint32_t i = 0; i < d->norphans; i++) {
		struct nd_orphan *o = &d->orphans[i];

		nt_hidx_add(&d->orphan_by_src, h_ep(d, &o->src), i);
		nt_hidx_add(&d->orphan_by_session, h_u64(d, o->session_id), i);
		nt_hidx_add(&d->orphan_by_group, h_u64(d, o->group_id), i);
	}
	return 0;
}

int nd_orphans_adopt(struct nd *d)
{
	int err = nt_maps_for_each_mapping(&d->maps, adopt_one, d);

	if (!err)
		err = orphans_index(d);
	if (d->norphans)
		nt_info("adopted %zu mappings of a previous run; they expire in %u s unless their sessions come back",
			d->norphans, d->conf.consent_s);
	return err;
}

static void orphan_drop(struct nd *d, struct nd_orphan *o, const char *why)
{
	char a[NT_ENDPOINT_STRLEN];
	struct nt_mapping mine;

	if (!nt_maps_get_mapping(&d->maps, &o->src, &mine) && (mine.flags & NT_MAPPING_F_FANOUT))
		orphan_leave_group(d, &o->src, mine.group_id);
	nt_maps_del_mapping(&d->maps, &o->src);
	nt_fwd_del(&d->fwd, &o->src);
	/* orphans may point at each other, and re-verified mappings at orphans */
	for (size_t i = 0; i < d->norphans; i++) {
		struct nt_mapping v;

		if (d->orphans[i].used && &d->orphans[i] != o &&
		    !nt_maps_get_mapping(&d->maps, &d->orphans[i].src, &v) &&
		    nt_endpoint_eq(&v.peer, &o->src))
			set_peer(d, &d->orphans[i].src, NULL);
	}
	for (size_t i = 0; i < d->st.nsess; i++) {
		struct nt_session *s = &d->st.sess[i];
		struct nt_mapping v;

		if (s->used && s->verified && !nt_maps_get_mapping(&d->maps, &s->mapping, &v) &&
		    nt_endpoint_eq(&v.peer, &o->src))
			set_peer(d, &s->mapping, NULL);
	}
	orphan_unuse(d, o);
	d->nmappings--;
	nt_info("adopted mapping %s removed: %s", nt_endpoint_format(&o->src, a, sizeof(a)), why);
}

/* Off mode: fold what userspace forwarded into the map, for nattravctl and expiry. */
static void sync_one(struct nt_fwd_entry *e, void *arg)
{
	struct nd *d = arg;
	struct nt_mapping v;

	if ((!e->packets && !e->rate_drops) || nt_maps_get_mapping(&d->maps, &e->src, &v))
		return;
	v.packets += e->packets;
	v.bytes += e->bytes;
	v.rate_drops += e->rate_drops;
	if (e->last_seen_ns > v.last_seen_ns)
		v.last_seen_ns = e->last_seen_ns;
	if (!nt_maps_put_mapping(&d->maps, &e->src, &v))
		e->packets = e->bytes = e->rate_drops = 0;
}

/* Off mode: the copies userspace made, into the group's entry (as TC counts them). */
static void sync_group(struct nt_fwd_group *fg, void *arg)
{
	static struct nt_fanout_group g;
	struct nd *d = arg;

	if (!fg->packets_in || nt_maps_get_group(&d->maps, fg->id, &g))
		return;
	g.packets_in += fg->packets_in;
	g.copies_out += fg->copies_out;
	g.bytes_out += fg->bytes_out;
	for (uint32_t i = 0; i < fg->n; i++) {
		int j = nt_group_member_index(&g, &fg->members[i]);

		if (j >= 0)
			g.delivered[j] += fg->delivered[i];
	}
	if (!nt_maps_put_group(&d->maps, fg->id, &g)) {
		fg->packets_in = fg->copies_out = fg->bytes_out = 0;
		memset(fg->delivered, 0, sizeof(fg->delivered));
	}
}

void nd_mappings_tick(struct nd *d, uint64_t now)
{
	uint64_t window = (uint64_t)d->conf.consent_s * 1000000000ull;

	if (d->mode == NT_XDP_OFF) {
		nt_fwd_for_each(&d->fwd, sync_one, d);
		nt_fwd_group_for_each(&d->fwd, sync_group, d);
	}
	for (size_t i = 0; i < d->st.nsess; i++) {
		struct nt_session *s = &d->st.sess[i];
		struct nt_mapping v;
		uint64_t last;

		if (!s->used || !s->verified)
			continue;
		last = s->verified_ns > s->keepalive_ns ? s->verified_ns : s->keepalive_ns;
		if (nt_maps_get_mapping(&d->maps, &s->mapping, &v)) {
			nd_mapping_remove(d, s, "admin", "deleted from the map by hand");
			continue;
		}
		if (v.last_seen_ns > last)
			last = v.last_seen_ns;
		if (now > last && now - last > window)
			nd_mapping_remove(d, s, "consent", "consent expired (no media or keepalive)");
	}
	for (size_t i = 0; i < d->norphans; i++) {
		struct nd_orphan *o = &d->orphans[i];
		struct nt_mapping v;

		if (!o->used)
			continue;
		if (nt_maps_get_mapping(&d->maps, &o->src, &v)) {
			orphan_unuse(d, o);
			d->nmappings--;
			continue;
		}
		/*
		 * Fixed from adoption: traffic on an orphan proves nothing about
		 * its session (a sender that keeps blasting must not keep a
		 * mapping nobody verifies alive); a session that comes back
		 * takes the key over (nd_mapping_install) and is not an orphan.
		 */
		if (now - o->adopted_ns > window)
			orphan_drop(d, o, "its session did not come back within the consent window");
	}
}

void nd_orphans_recheck(struct nd *d)
{
	for (size_t i = 0; i < d->norphans; i++) {
		struct nd_orphan *o = &d->orphans[i];
		struct nt_mapping v;
		const char *why;

		if (!o->used || nt_maps_get_mapping(&d->maps, &o->src, &v))
			continue;
		why = orphan_refused(d, &o->src, &v);
		if (why) {
			nd_count_expiry(d, "admin");
			orphan_drop(d, o, why);
		}
	}
}

const struct nt_endpoint *nd_orphan_of_session(struct nd *d, uint64_t id)
{
	for (uint32_t it = id ? nt_hidx_first(&d->orphan_by_session, h_u64(d, id)) : 0; it;
	     it = nt_hidx_next(&d->orphan_by_session, it))
		if (d->orphans[it - 1].used && d->orphans[it - 1].session_id == id)
			return &d->orphans[it - 1].src;
	return NULL;
}

int nd_orphan_kick(struct nd *d, const struct nt_endpoint *ep)
{
	struct nd_orphan *o = orphan_find(d, ep);

	if (!o)
		return -ENOENT;
	nd_count_expiry(d, "admin");
	orphan_drop(d, o, "kicked by the operator");
	return 0;
}

void nd_mappings_clear(struct nd *d)
{
	for (size_t i = 0; i < d->norphans; i++)
		if (d->orphans[i].used)
			orphan_drop(d, &d->orphans[i], "shutdown");
	free(d->orphans);
	d->orphans = NULL;
	d->norphans = 0;
	nt_hidx_free(&d->orphan_by_src);
	nt_hidx_free(&d->orphan_by_session);
	nt_hidx_free(&d->orphan_by_group);
}
