// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet (fleet.h): hiredis' async context on nattravd's epoll loop.
 * hiredis asks for read/write interest through the ev hooks below; the
 * loop hands our one handle back (ND_REDIS) and we let hiredis read or
 * write. Everything that waits on Redis has a deadline checked on the tick.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include "conn.h"
#include "fleet.h"
#include "nt_fleet_view.h"
#include "nt_log.h"

#define FLEET_CONNECT_MS 2000		/* connect (and AUTH) done by then, or retry */
#define FLEET_BACKOFF_MIN_MS 250
#define FLEET_BACKOFF_MAX_MS 4000
#define FLEET_HB_STUCK_MS 3000		/* a heartbeat unanswered this long: Redis is stuck */
#define FLEET_ASSERT_CHUNK 128		/* groups per assert script call */
#define FLEET_RELAYS_MAX 256		/* relays kept from the view */
#define FLEET_PASSWORD_MAX 512
#define FLEET_LEAVE_MS 500		/* a clean exit waits this long for Redis to forget us */

/* A JOIN waiting for the place script: found again by slot and generation. */
struct place_req {
	struct place_req *next, *prev;
	size_t slot;
	uint64_t gen;
	uint64_t deadline_ns;
	bool done;		/* answered (or timed out): the reply is only freed */
	char group[NT_LINE_GROUP_MAX + 1];
};

struct nd_fleet {
	struct nd_handle h;		/* fd of the Redis socket, -1 without one */
	redisAsyncContext *ac;
	bool want_read, want_write, in_epoll;
	bool connected;			/* TCP up (AUTH may still be on its way) */
	bool closing;			/* daemon exits: callbacks only free */
	bool drop;			/* free the context at the next tick (bad password) */
	bool left;			/* the leave script answered (or was dropped) */
	char ip[NT_FLEET_ADDR_MAX + 1];	/* an address (conf.c checked) */
	int port;
	char password[FLEET_PASSWORD_MAX + 1];
	char id[NT_FLEET_ID_MAX + 1];
	char addr[NT_FLEET_ADDR_MAX + 1];
	uint32_t backoff_ms;
	uint64_t connect_at_ns;		/* next attempt */
	uint64_t connect_started_ns;	/* 0: not connecting */
	uint64_t next_hb_ns;
	uint64_t hb_sent_ns;		/* 0: no heartbeat waiting */
	struct nt_fleet_relay relays[FLEET_RELAYS_MAX];
	size_t nrelays;
	struct place_req *reqs;
	struct nd_fleet_stats st;
};

static uint64_t ms_ns(uint64_t ms)
{
	return ms * 1000000ull;
}

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

/* hiredis' ev hooks: privdata is d */
static void ev_apply(struct nd *d)
{
	struct nd_fleet *f = d->fleet;
	uint32_t ev = (f->want_read ? EPOLLIN : 0) | (f->want_write ? EPOLLOUT : 0);

	if (f->h.fd < 0)
		return;
	if (!f->in_epoll) {
		if (!nd_loop_add(d, &f->h, ev))
			f->in_epoll = true;
		return;
	}
	nd_loop_mod(d, &f->h, ev);
}

static void ev_add_read(void *p)
{
	struct nd *d = p;

	d->fleet->want_read = true;
	ev_apply(d);
}

static void ev_del_read(void *p)
{
	struct nd *d = p;

	d->fleet->want_read = false;
	ev_apply(d);
}

static void ev_add_write(void *p)
{
	struct nd *d = p;

	d->fleet->want_write = true;
	ev_apply(d);
}

static void ev_del_write(void *p)
{
	struct nd *d = p;

	d->fleet->want_write = false;
	ev_apply(d);
}

static void retry_later(struct nd_fleet *f)
{
	f->connect_at_ns = nd_now_ns() + ms_ns(f->backoff_ms);
	f->backoff_ms = f->backoff_ms * 2 > FLEET_BACKOFF_MAX_MS ? FLEET_BACKOFF_MAX_MS :
								   f->backoff_ms * 2;
}

/* The context is being freed, whatever freed it: the one place that forgets it. */
static void ev_cleanup(void *p)
{
	struct nd *d = p;
	struct nd_fleet *f = d->fleet;

	if (f->in_epoll && f->h.fd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, f->h.fd, NULL);
	f->in_epoll = f->want_read = f->want_write = false;
	f->h.fd = -1;
	f->ac = NULL;
	if (!f->closing && (f->connected || f->st.redis_up))
		nt_warn("fleet: lost Redis %s:%d; new groups get ERR 503 until it is back",
			f->ip, f->port);
	f->connected = false;
	f->st.redis_up = false;
	f->connect_started_ns = 0;
	f->hb_sent_ns = 0;
	if (!f->closing)
		retry_later(f);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct nd *d = ac->data;
	struct nd_fleet *f = d->fleet;

	if (status != REDIS_OK) {
		nt_dbg("fleet: Redis %s:%d: %s", f->ip, f->port, ac->errstr);
		return;	/* hiredis frees the context: ev_cleanup */
	}
	f->connected = true;
	f->connect_started_ns = 0;
	/* register now, not at the next beat: within a few seconds of Redis' return */
	f->next_hb_ns = 0;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)ac;
	(void)status;	/* ev_cleanup does the forgetting */
}

static void auth_cb(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply *rep = r;
	struct nd *d = ac->data;

	if (!rep || d->fleet->closing)
		return;
	if (rep->type == REDIS_REPLY_ERROR) {
		nt_err("fleet: Redis refused the password: %s", rep->str);
		/* cannot free from inside a callback: the tick drops it */
		d->fleet->drop = true;
	}
}

static void redis_connect(struct nd *d)
{
	struct nd_fleet *f = d->fleet;
	redisAsyncContext *ac = redisAsyncConnect(f->ip, f->port);

	if (!ac) {
		retry_later(f);
		return;
	}
	if (ac->err) {
		nt_dbg("fleet: Redis %s:%d: %s", f->ip, f->port, ac->errstr);
		redisAsyncFree(ac);
		retry_later(f);
		return;
	}
	f->ac = ac;
	f->h.fd = ac->c.fd;
	ac->data = d;
	ac->ev.data = d;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	/* connecting: hiredis learns it is done when the socket turns writable */
	ev_add_write(d);
	f->connect_started_ns = nd_now_ns();
	if (f->password[0]) {
		const char *argv[] = { "AUTH", f->password };

		redisAsyncCommandArgv(ac, auth_cb, NULL, 2, argv, NULL);
	}
}

void nd_fleet_event(struct nd *d, uint32_t events)
{
	struct nd_fleet *f = d->fleet;
	redisAsyncContext *ac;

	if (!f || !f->ac)
		return;	/* an event of a context freed earlier this round */
	ac = f->ac;
	if (events & EPOLLOUT)
		redisAsyncHandleWrite(ac);
	/* freed meanwhile: ev_cleanup cleared f->ac */
	if (f->ac == ac && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		redisAsyncHandleRead(ac);
}

/* Answer a waiting JOIN once; a connection gone meanwhile is skipped. */
static void req_resolve(struct nd *d, struct place_req *r, enum nt_fleet_verdict v,
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
	req_resolve(d, r, nt_fleet_verdict(d->fleet->id, home, addr), addr);
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
			req_resolve(d, r, NT_FLEET_NONE, NULL);
		}
	if (f->ac && f->drop) {
		f->drop = false;
		redisAsyncFree(f->ac);
	}
	if (f->ac && ((f->connect_started_ns &&
		       now - f->connect_started_ns >= ms_ns(FLEET_CONNECT_MS)) ||
		      (f->hb_sent_ns && now - f->hb_sent_ns >= ms_ns(FLEET_HB_STUCK_MS)))) {
		nt_warn("fleet: Redis %s:%d does not answer, reconnecting", f->ip, f->port);
		/* pending callbacks run with no reply: their JOINs get ERR 503 */
		redisAsyncFree(f->ac);
	}
	if (!f->ac) {
		if (now >= f->connect_at_ns)
			redis_connect(d);
		return;
	}
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

static int read_password(const char *path, char *out, size_t cap)
{
	FILE *fp = fopen(path, "re");
	size_t n;

	if (!fp)
		return -errno;
	if (!fgets(out, (int)cap, fp)) {
		fclose(fp);
		return -ENODATA;
	}
	fclose(fp);
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return n ? 0 : -ENODATA;
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
		err = read_password(d->conf.redis_password_file, f->password, sizeof(f->password));
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

static void leave_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct nd *d = ac->data;

	d->fleet->left = true;
}

/*
 * A clean exit (not --keep-on-exit: then the flows and groups stay for the
 * next daemon): the relay leaves the fleet now, so its groups are placed
 * elsewhere at once rather than after its heartbeat expires. The loop is
 * over: waiting here, at most FLEET_LEAVE_MS, stalls no one.
 */
static void leave(struct nd *d)
{
	struct nd_fleet *f = d->fleet;
	const char *argv[] = { "EVAL", nt_fleet_leave_lua, "0", f->id };
	uint64_t end = nd_now_ns() + ms_ns(FLEET_LEAVE_MS);

	if (!f->ac || !f->st.redis_up ||
	    redisAsyncCommandArgv(f->ac, leave_cb, NULL, 4, argv, NULL) != REDIS_OK)
		return;
	while (!f->left && f->ac) {
		uint64_t now = nd_now_ns();
		redisAsyncContext *ac = f->ac;
		struct pollfd p = { .fd = f->h.fd, .events = POLLIN };

		if (now >= end)
			break;
		if (f->want_write)
			p.events |= POLLOUT;
		if (poll(&p, 1, (int)((end - now) / 1000000ull) + 1) <= 0)
			break;
		if (p.revents & POLLOUT)
			redisAsyncHandleWrite(ac);
		if (f->ac == ac && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			redisAsyncHandleRead(ac);
	}
	if (f->left)
		nt_info("fleet: relay %s left the fleet", f->id);
}

void nd_fleet_close(struct nd *d)
{
	struct nd_fleet *f = d->fleet;

	if (!f)
		return;
	f->closing = true;
	if (d->stop && !d->conf.keep_on_exit)
		leave(d);
	if (f->ac)
		redisAsyncFree(f->ac);
	while (f->reqs)
		req_free(f, f->reqs);
	OPENSSL_cleanse(f->password, sizeof(f->password));
	free(f);
	d->fleet = NULL;
}
