// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet's Redis connection: hiredis' async context on nattravd's epoll
 * loop. hiredis asks for read/write interest through the ev hooks below;
 * the loop hands our one handle back (ND_REDIS) and we let hiredis read or
 * write. A connection that does not come up, or stops answering, is
 * dropped and made again with backoff.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include "fleet_priv.h"
#include "nt_log.h"

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

bool nd_fleet_redis_tick(struct nd *d, uint64_t now)
{
	struct nd_fleet *f = d->fleet;

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
	if (!f->ac && now >= f->connect_at_ns)
		redis_connect(d);
	return f->ac != NULL;
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
void nd_fleet_redis_leave(struct nd *d)
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

int nd_fleet_read_password(const char *path, char *out, size_t cap)
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
