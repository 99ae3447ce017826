// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet (fleet.h): registration, heartbeat and re-assertion, placement
 * at JOIN. The Redis connection itself is fleet_redis.c's. Everything that
 * waits on Redis has a deadline checked on the tick.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include "conn.h"
#include "fleet.h"
#include "fleet_priv.h"
#include "nt_fleet_view.h"
#include "nt_log.h"

bool nd_fleet_on(const struct nd *d)
{
	return d->fleet != NULL;
}

const struct nd_fleet_stats *nd_fleet_stats(const struct nd *d)
{
	return d->fleet ? &d->fleet->st : NULL;
}

const char *nd_fleet_id(const struct nd *d)
{
	return d->fleet ? d->fleet->id : NULL;
}

/* Answer a waiting JOIN once; a connection gone meanwhile is skipped. */
void nd_fleet_req_resolve(struct nd *d, struct place_req *r, enum nt_fleet_verdict v,
			const char *addr)
{
	struct nd_fleet *f = d->fleet;
	struct nd_conn *c;

	if (r->done)
		return;
	r->done = true;
	if (f->closing)
		return;
	if (v == NT_FLEET_LOCAL)
		f->st.placed_here++;
	else if (v == NT_FLEET_REDIRECT)
		f->st.redirects++;
	else
		f->st.unavailable++;
	c = nd_conn_lookup(d, r->slot, r->gen);
	if (c)
		nd_join_placed(d, c, r->group, v, addr);
}

static void req_free(struct nd_fleet *f, struct place_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		f->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	free(r);
}

static const char *str_of(const redisReply *r)
{
	return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ?
		       r->str : NULL;
}

static void place_cb(redisAsyncContext *ac, void *rp, void *priv)
{
	redisReply *rep = rp;
	struct nd *d = ac->data;
	struct place_req *r = priv;
	const char *home = NULL, *addr = NULL;

	if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
		home = str_of(rep->element[0]);
		addr = str_of(rep->element[1]);
	} else if (rep && rep->type == REDIS_REPLY_ERROR) {
		nt_warn("fleet: placement of group=%s failed: %s", r->group, rep->str);
	}
	nd_fleet_req_resolve(d, r, nt_fleet_verdict(d->fleet->id, home, addr), addr);
	req_free(d->fleet, r);
}

static bool can_take(const struct nd *d)
{
	return !d->draining && nt_groups_count(&d->st) < d->conf.max_groups;
}

int nd_fleet_place(struct nd *d, struct nd_conn *c, const char *group)
{
	struct nd_fleet *f = d->fleet;
	const char *chosen = "";
	char ttl[16];
	struct place_req *r;

	if (!f->ac || !f->connected || !f->st.redis_up) {
		f->st.unavailable++;
		return -ENOTCONN;
	}
	/* the view is at most one heartbeat old; the script checks the choice is alive */
	if (nt_fleet_choose(f->id, can_take(d), f->relays, f->nrelays, &chosen))
		chosen = "";
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->slot = c->slot;
	r->gen = c->gen;
	/* checked on the tick: one tick early, so the ERR 503 leaves within NT_FLEET_REPLY_MS */
	r->deadline_ns = nd_now_ns() + ms_ns(NT_FLEET_REPLY_MS - ND_TICK_MS);
	snprintf(r->group, sizeof(r->group), "%s", group);
	snprintf(ttl, sizeof(ttl), "%u", NT_FLEET_TTL_MS);
	{
		const char *argv[] = { "EVAL", nt_fleet_place_lua, "0", group, f->id,
				       d->draining ? "1" : "0", chosen, ttl };

		if (redisAsyncCommandArgv(f->ac, place_cb, r, 8, argv, NULL) != REDIS_OK) {
			free(r);
			f->st.unavailable++;
			return -ENOTCONN;
		}
	}
	r->next = f->reqs;
	if (f->reqs)
		f->reqs->prev = r;
	f->reqs = r;
	return 0;
}

static void register_cb(redisAsyncContext *ac, void *rp, void *priv)
{
	redisReply *rep = rp;
	struct nd *d = ac->data;
	struct nd_fleet *f = d->fleet;

	if (!rep || f->closing)
		return;
	f->hb_sent_ns = 0;
	if (rep->type == REDIS_REPLY_ERROR) {
		nt_warn("fleet: registration refused: %s", rep->str);
		return;
	}
	if (!f->st.redis_up) {
		f->st.redis_connects++;
		nt_info("fleet: relay %s registered in Redis %s:%d as %s", f->id, f->ip, f->port,
			f->addr);
	}
	f->st.redis_up = true;
	f->st.heartbeats++;
	f->backoff_ms = FLEET_BACKOFF_MIN_MS;
}

static void assert_cb(redisAsyncContext *ac, void *rp, void *priv)
{
	redisReply *rep = rp;
	struct nd *d = ac->data;

	if (!rep || d->fleet->closing)
		return;
	if (rep->type == REDIS_REPLY_ERROR) {
		nt_warn("fleet: re-asserting groups failed: %s", rep->str);
		return;
	}
	if (rep->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i < rep->elements; i++) {
		const char *g = str_of(rep->element[i]);

		d->fleet->st.split_groups++;
		/* members already here keep their media; new ones go to the other home */
		nt_warn("fleet: group=%s is live here but homed on another relay",
			g && nt_line_group_valid(g) ? g : "?");
	}
}

static void view_cb(redisAsyncContext *ac, void *rp, void *priv)
{
	redisReply *rep = rp;
	struct nd *d = ac->data;
	struct nd_fleet *f = d->fleet;

	if (!rep || f->closing || rep->type != REDIS_REPLY_ARRAY)
		return;
	f->nrelays = nt_fleet_view_parse(rep, f->relays, FLEET_RELAYS_MAX);
	f->st.relays_live = f->nrelays;
}

/* Register, re-assert the groups live here, refresh the view: in this order, one pipeline. */
static void heartbeat(struct nd *d)
{
	struct nd_fleet *f = d->fleet;
	char load[16], groups[16], maxg[16], ttl[16];
	const char *argv[3 + 2 + FLEET_ASSERT_CHUNK];
	size_t n = 0;

	snprintf(load, sizeof(load), "%zu", nt_sessions_count(&d->st));
	snprintf(groups, sizeof(groups), "%zu", nt_groups_count(&d->st));
	snprintf(maxg, sizeof(maxg), "%u", d->conf.max_groups);
	snprintf(ttl, sizeof(ttl), "%u", NT_FLEET_TTL_MS);
	{
		const char *rv[] = { "EVAL", nt_fleet_register_lua, "0", f->id, f->addr, load,
				     groups, maxg, d->draining ? "1" : "0", ttl };

		if (redisAsyncCommandArgv(f->ac, register_cb, NULL, 10, rv, NULL) != REDIS_OK)
			return;
	}
	f->hb_sent_ns = nd_now_ns();
	argv[0] = "EVAL";
	argv[1] = nt_fleet_assert_lua;
	argv[2] = "0";
	argv[3] = f->id;
	argv[4] = ttl;
	for (size_t i = 0; i < d->st.ngroups; i++) {
		const struct nt_group *g = &d->st.groups[i];

		if (!g->used || !g->nmembers)
			continue;
		argv[5 + n++] = g->name;
		if (n == FLEET_ASSERT_CHUNK) {
			redisAsyncCommandArgv(f->ac, assert_cb, NULL, (int)(5 + n), argv, NULL);
			n = 0;
		}
	}
	if (n)
		redisAsyncCommandArgv(f->ac, assert_cb, NULL, (int)(5 + n), argv, NULL);
	{
		const char *vv[] = { "EVAL", nt_fleet_view_lua, "0" };

		redisAsyncCommandArgv(f->ac, view_cb, NULL, 3, vv, NULL);
	}
}

void nd_fleet_tick(struct nd *d, uint64_t now)
{
	struct nd_fleet *f = d->fleet;

	if (!f)
		return;
	/* JOINs not answered in time: ERR 503 now; a late reply is only freed */
	for (struct place_req *r = f->reqs; r; r = r->next)
		if (!r->done && now >= r->deadline_ns) {
			f->st.timeouts++;
			nt_warn("fleet: no placement from Redis within %u ms for group=%s",
				NT_FLEET_REPLY_MS, r->group);
			nd_fleet_req_resolve(d, r, NT_FLEET_NONE, NULL);
		}
	if (!nd_fleet_redis_tick(d, now))
		return;
	if (f->connected && !f->hb_sent_ns && now >= f->next_hb_ns) {
		f->next_hb_ns = now + ms_ns(NT_FLEET_HEARTBEAT_MS);
		heartbeat(d);
	}
}

/* The advertised address: --advertise, or the relay's IPv4 (else IPv6) and control port. */
static int advertised(struct nd *d, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN + 2], a[INET6_ADDRSTRLEN];

	if (d->conf.advertise)
		return nt_fleet_hostport(d->conf.advertise, d->conf.control_port, out, cap);
	if (d->conf.have_v4)
		inet_ntop(AF_INET, d->conf.addr_v4, ip, sizeof(ip));
	else if (d->conf.have_v6 && inet_ntop(AF_INET6, d->conf.addr_v6, a, sizeof(a)))
		snprintf(ip, sizeof(ip), "[%s]", a);
	else
		return -EINVAL;
	return nt_fleet_hostport(ip, d->conf.control_port, out, cap);
}

int nd_fleet_open(struct nd *d)
{
	struct nd_fleet *f;
	const char *colon;
	char host[NT_FLEET_ADDR_MAX + 1];
	int err;

	d->fleet = NULL;
	if (!d->conf.redis)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->h.kind = ND_REDIS;
	f->h.fd = -1;
	f->backoff_ms = FLEET_BACKOFF_MIN_MS;
	snprintf(host, sizeof(host), "%s", d->conf.redis);
	colon = strrchr(host, ':');
	f->port = atoi(colon + 1);
	host[colon - host] = '\0';
	if (host[0] == '[') {
		host[strlen(host) - 1] = '\0';
		snprintf(f->ip, sizeof(f->ip), "%s", host + 1);
	} else {
		snprintf(f->ip, sizeof(f->ip), "%s", host);
	}
	if (!d->conf.relay_id) {
		/* the host name, when it is a valid id: one relay per host is the common case */
		if (gethostname(host, sizeof(host)))
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
	}
	if (!nt_fleet_id_valid(d->conf.relay_id ? d->conf.relay_id : host)) {
		fprintf(stderr, "nattravd: --redis needs --relay-id (the host name is no valid id)\n");
		free(f);
		return -EINVAL;
	}
	/* valid: at most NT_FLEET_ID_MAX characters */
	snprintf(f->id, sizeof(f->id), "%.*s", NT_FLEET_ID_MAX,
		 d->conf.relay_id ? d->conf.relay_id : host);
	if (advertised(d, f->addr, sizeof(f->addr))) {
		fprintf(stderr, "nattravd: --redis needs --advertise HOST[:PORT] (no relay address known)\n");
		free(f);
		return -EINVAL;
	}
	if (d->conf.redis_password_file) {
		err = nd_fleet_read_password(d->conf.redis_password_file, f->password, sizeof(f->password));
		if (err) {
			fprintf(stderr, "nattravd: --redis-password-file %s: %s\n",
				d->conf.redis_password_file,
				err == -ENODATA ? "empty first line" : strerror(-err));
			free(f);
			return err;
		}
	}
	d->fleet = f;
	nt_info("fleet: relay %s, advertised as %s, placement in Redis %s", f->id, f->addr,
		d->conf.redis);
	/* not connected yet: the first tick connects; JOINs before that get ERR 503 */
	return 0;
}

void nd_fleet_close(struct nd *d)
{
	struct nd_fleet *f = d->fleet;

	if (!f)
		return;
	f->closing = true;
	if (d->stop && !d->conf.keep_on_exit)
		nd_fleet_redis_leave(d);
	if (f->ac)
		redisAsyncFree(f->ac);
	while (f->reqs)
		req_free(f, f->reqs);
	OPENSSL_cleanse(f->password, sizeof(f->password));
	free(f);
	d->fleet = NULL;
}
