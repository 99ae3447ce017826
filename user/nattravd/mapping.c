// SPDX-License-Identifier: GPL-2.0
/*
 * Verified mappings: written to the pinned map (what XDP forwards by) and to
 * the in-memory table (what off mode forwards by), linked to the group's
 * other member, expired by the consent window, removed with their session.
 * Orphans are mappings found in the map at start (a previous daemon's):
 * they keep forwarding until idle for a consent window.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nattravd.h"
#include "nt_endpoint.h"
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

/* A new peer means a new route: the XDP program's cached FIB answer goes. */
static void forget_route(struct nt_mapping *v)
{
	memset(v->route_dmac, 0, sizeof(v->route_dmac));
	memset(v->route_smac, 0, sizeof(v->route_smac));
	v->route_ifindex = 0;
	v->route_expires_ns = 0;
}

/* Point src's mapping at peer (NULL: none), in the map and the table. */
static void set_peer(struct nd *d, const struct nt_endpoint *src,
		     const struct nt_endpoint *peer)
{
	struct nt_mapping v;

	/*
	 * Read-modify-write races with XDP's counter updates of this entry:
	 * a few packets may go uncounted at this instant, never misrouted.
	 */
	if (!nt_maps_get_mapping(&d->maps, src, &v)) {
		if (peer)
			v.peer = *peer;
		else
			memset(&v.peer, 0, sizeof(v.peer));
		forget_route(&v);
		nt_maps_put_mapping(&d->maps, src, &v);
	}
	if (nt_fwd_get(&d->fwd, src))
		nt_fwd_put(&d->fwd, src, peer);
}

static struct nd_orphan *orphan_find(struct nd *d, const struct nt_endpoint *ep)
{
	for (size_t i = 0; i < d->norphans; i++)
		if (d->orphans[i].used && nt_endpoint_eq(&d->orphans[i].src, ep))
			return &d->orphans[i];
	return NULL;
}

static struct nt_session *holder_of(struct nd *d, const struct nt_endpoint *ep)
{
	for (size_t i = 0; i < d->st.nsess; i++) {
		struct nt_session *s = &d->st.sess[i];

		if (s->used && s->verified && nt_endpoint_eq(&s->mapping, ep))
			return s;
	}
	return NULL;
}

int nd_mapping_install(struct nd *d, struct nt_session *s, const struct nt_endpoint *ep)
{
	char a[NT_ENDPOINT_STRLEN], pa[NT_ENDPOINT_STRLEN] = "none";
	struct nt_session *peer, *other = holder_of(d, ep);
	struct nd_orphan *o = orphan_find(d, ep);
	const struct nt_endpoint *pep;
	struct nt_mapping v = { 0 }, old;
	uint64_t now = nd_now_ns();
	int err;

	nt_endpoint_format(ep, a, sizeof(a));
	/* one socket, two sessions: the newest verification wins the endpoint */
	if (other && other != s)
		nd_mapping_remove(d, other, "rebind", "taken over by another session");
	/* after the take-over: the peer may have been the one that lost it */
	peer = nt_session_peer(s);
	pep = peer && peer->verified ? &peer->mapping : NULL;
	/* checked before anything changes; a rebinding or an adopted key does not grow */
	if (!o && !s->verified && d->nmappings >= d->conf.max_mappings)
		return -EDQUOT;
	if (o) { /* the key is rewritten below: it stops being an orphan */
		o->used = false;
		d->nmappings--;
	}
	if (s->verified && !nt_endpoint_eq(&s->mapping, ep)) {
		char olds[NT_ENDPOINT_STRLEN];

		nt_info("mapping %s of user=%s replaced by %s (NAT rebinding)",
			nt_endpoint_format(&s->mapping, olds, sizeof(olds)), s->user, a);
		nt_maps_del_mapping(&d->maps, &s->mapping);
		nt_fwd_del(&d->fwd, &s->mapping);
		s->verified = false;
		d->nmappings--;
		tell_kv(d, s, "EXPIRED", "mapping", olds, "rebind");
		nd_count_expiry(d, "rebind");
	}
	/* re-verifying the same mapping keeps its counters and rate state */
	if (!nt_maps_get_mapping(&d->maps, ep, &old)) {
		v = old;
		/*
		 * Adopted from a previous run and its peer not back yet: keep
		 * relaying to that orphan rather than drop the media until the
		 * peer verifies again (or its orphan expires, see orphan_drop).
		 */
		if (!pep && o && old.peer.family && orphan_find(d, &old.peer))
			pep = &old.peer;
	}
	if (pep)
		v.peer = *pep;
	else
		memset(&v.peer, 0, sizeof(v.peer));
	forget_route(&v);
	v.flags = 0;
	v.group_id = s->group->id;
	v.session_id = s->id;
	v.created_ns = now;
	err = nt_maps_put_mapping(&d->maps, ep, &v);
	if (!err)
		err = nt_fwd_put(&d->fwd, ep, pep);
	if (err) {
		nt_err("cannot write mapping %s: %s", a, strerror(-err));
		nt_maps_del_mapping(&d->maps, ep);
		nt_fwd_del(&d->fwd, ep);
		if (s->verified) {
			s->verified = false;
			d->nmappings--;
		}
		return err;
	}
	if (!s->verified)
		d->nmappings++;
	s->verified = true;
	s->mapping = *ep;
	s->verified_ns = now;
	tell_kv(d, s, "VERIFIED", "mapping", a, NULL);
	if (pep)
		nt_endpoint_format(pep, pa, sizeof(pa));
	if (pep && peer && peer->verified) {
		set_peer(d, pep, ep);
		tell_kv(d, s, "PEER", "peer", pa, NULL);
		tell_kv(d, peer, "PEER", "peer", a, NULL);
	}
	nt_info("mapping %s verified for user=%s group=%s peer=%s", a, s->user, s->group->name, pa);
	return 0;
}

void nd_mapping_remove(struct nd *d, struct nt_session *s, const char *reason,
		       const char *why)
{
	struct nt_session *peer = nt_session_peer(s);
	char a[NT_ENDPOINT_STRLEN];

	if (!s->verified)
		return;
	nt_endpoint_format(&s->mapping, a, sizeof(a));
	nt_maps_del_mapping(&d->maps, &s->mapping);
	nt_fwd_del(&d->fwd, &s->mapping);
	s->verified = false;
	d->nmappings--;
	nd_count_expiry(d, reason);
	if (peer && peer->verified) {
		set_peer(d, &peer->mapping, NULL);
		tell_kv(d, peer, "PEER", "peer", "none", NULL);
	}
	if (reason)
		tell_kv(d, s, "EXPIRED", "mapping", a, reason);
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

static int adopt_one(const struct nt_endpoint *src, const struct nt_mapping *val, void *arg)
{
	struct nd *d = arg;
	struct nd_orphan *o;

	if (val->flags & NT_MAPPING_F_STATIC)
		return 0; /* the operator's: not ours to expire */
	if (d->norphans % 64 == 0) {
		o = realloc(d->orphans, (d->norphans + 64) * sizeof(*o));
		if (!o)
			return -ENOMEM;
		d->orphans = o;
	}
	o = &d->orphans[d->norphans++];
	o->used = true;
	o->src = *src;
	o->adopted_ns = nd_now_ns();
	d->nmappings++;
	nt_sessions_reserve_group_id(&d->st, val->group_id);
	return nt_fwd_put(&d->fwd, src, val->peer.family ? &val->peer : NULL);
}

int nd_orphans_adopt(struct nd *d)
{
	int err = nt_maps_for_each_mapping(&d->maps, adopt_one, d);

	if (d->norphans)
		nt_info("adopted %zu mappings of a previous run; they expire after %u s without traffic",
			d->norphans, d->conf.consent_s);
	return err;
}

static void orphan_drop(struct nd *d, struct nd_orphan *o, const char *why)
{
	char a[NT_ENDPOINT_STRLEN];

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
	o->used = false;
	d->nmappings--;
	nt_info("adopted mapping %s removed: %s", nt_endpoint_format(&o->src, a, sizeof(a)), why);
}

/* Off mode: fold what userspace forwarded into the map, for nattravctl and expiry. */
static void sync_one(struct nt_fwd_entry *e, void *arg)
{
	struct nd *d = arg;
	struct nt_mapping v;

	if (!e->packets || nt_maps_get_mapping(&d->maps, &e->src, &v))
		return;
	v.packets += e->packets;
	v.bytes += e->bytes;
	if (e->last_seen_ns > v.last_seen_ns)
		v.last_seen_ns = e->last_seen_ns;
	if (!nt_maps_put_mapping(&d->maps, &e->src, &v))
		e->packets = e->bytes = 0;
}

void nd_mappings_tick(struct nd *d, uint64_t now)
{
	uint64_t window = (uint64_t)d->conf.consent_s * 1000000000ull;

	if (d->mode == NT_XDP_OFF)
		nt_fwd_for_each(&d->fwd, sync_one, d);
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
		uint64_t last;

		if (!o->used)
			continue;
		if (nt_maps_get_mapping(&d->maps, &o->src, &v)) {
			o->used = false;
			d->nmappings--;
			continue;
		}
		last = v.last_seen_ns > o->adopted_ns ? v.last_seen_ns : o->adopted_ns;
		if (now > last && now - last > window)
			orphan_drop(d, o, "consent expired");
	}
}

void nd_mappings_clear(struct nd *d)
{
	for (size_t i = 0; i < d->norphans; i++)
		if (d->orphans[i].used)
			orphan_drop(d, &d->orphans[i], "shutdown");
	free(d->orphans);
	d->orphans = NULL;
	d->norphans = 0;
}
