// SPDX-License-Identifier: GPL-2.0
/*
 * The TLS control connections: non-blocking accept and handshake, the line
 * protocol (nt_line), replies queued and flushed as the socket allows. A
 * connection only ever waits on its own socket, so a slow or silent client
 * stalls nobody else; the tick enforces handshake and idle timeouts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include "nattravd.h"
#include "nt_endpoint.h"
#include "nt_log.h"
#include "conn.h"

static void conn_close(struct nd *d, struct nd_conn *c, const char *why);

int nd_tcp_bind(int family, const void *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, err;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, addr, 4);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, addr, 16);
		len = sizeof(*in6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int listen_one(struct nd *d, int family, const void *addr)
{
	struct nd_handle *h = &d->listen[d->nlisten];
	int fd = nd_tcp_bind(family, addr, (uint16_t)d->conf.control_port);

	if (fd < 0)
		return fd;
	h->kind = ND_LISTEN;
	h->fd = fd;
	h->family = family;
	d->nlisten++;
	return 0;
}

int nd_listen_start(struct nd *d)
{
	for (int i = 0; i < d->nlisten; i++) {
		int err;

		if (listen(d->listen[i].fd, 128) < 0) {
			err = -errno;
			nt_err("listen on the control port: %s", strerror(errno));
			return err;
		}
		err = nd_loop_add(d, &d->listen[i], EPOLLIN);
		if (err)
			return err;
	}
	return 0;
}

int nd_listen_open(struct nd *d)
{
	char a[INET6_ADDRSTRLEN];
	int err;

	d->conns = calloc(d->conf.max_connections, sizeof(*d->conns));
	d->reap = calloc(d->conf.max_connections, sizeof(*d->reap));
	d->flushq = calloc(d->conf.max_connections, sizeof(*d->flushq));
	if (!d->conns || !d->reap || !d->flushq || nt_freelist_init(&d->conn_slots, d->conf.max_connections))
		return -ENOMEM;
	err = nt_addrcount_init(&d->unauth_src, d->conf.max_unauth);
	if (err)
		return err;
	if (d->conf.have_v4) {
		err = listen_one(d, AF_INET, d->conf.addr_v4);
		if (err) {
			nt_err("cannot listen on %s:%u: %s",
			       inet_ntop(AF_INET, d->conf.addr_v4, a, sizeof(a)),
			       d->conf.control_port, strerror(-err));
			return err;
		}
	}
	if (d->conf.have_v6) {
		err = listen_one(d, AF_INET6, d->conf.addr_v6);
		if (err) {
			nt_err("cannot listen on [%s]:%u: %s",
			       inet_ntop(AF_INET6, d->conf.addr_v6, a, sizeof(a)),
			       d->conf.control_port, strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * Backpressure: while half the reply buffer is queued, the client's lines
 * are not read. A client that pipelines commands without reading replies
 * is slowed down, not cut off; only events overflowing the rest close it.
 */
static bool conn_backlogged(const struct nd_conn *c)
{
	return c->olen >= ND_OUTBUF_MAX / 2;
}

/* On the list nd_conns_reap goes through: closed, or to be closed. */
static void reap_queue(struct nd *d, struct nd_conn *c)
{
	if (c->reap_queued || d->nreap >= d->conf.max_connections)
		return;
	c->reap_queued = true;
	d->reap[d->nreap++] = c;
}

void nd_conn_doom(struct nd *d, struct nd_conn *c, const char *why)
{
	c->doom = why;
	reap_queue(d, c);
}

/* The reply buffer goes with the last byte out: replies may hold session keys. */
static void out_release(struct nd_conn *c)
{
	OPENSSL_clear_free(c->out, c->ocap);
	c->out = NULL;
	c->ocap = 0;
}

/* Room for n more bytes, within ND_OUTBUF_MAX; false when there is none. */
static bool out_reserve(struct nd_conn *c, size_t n)
{
	size_t cap = c->ocap ? c->ocap : 1024;
	char *p;

	if (c->olen + n > ND_OUTBUF_MAX)
		return false;
	if (c->olen + n <= c->ocap)
		return true;
	while (cap < c->olen + n)
		cap *= 2;
	if (cap > ND_OUTBUF_MAX)
		cap = ND_OUTBUF_MAX;
	p = malloc(cap);
	if (!p)
		return false;
	if (c->olen)
		memcpy(p, c->out, c->olen);
	OPENSSL_clear_free(c->out, c->ocap);
	c->out = p;
	c->ocap = cap;
	return true;
}

static void conn_update(struct nd *d, struct nd_conn *c)
{
	uint32_t ev = conn_backlogged(c) ? 0 : EPOLLIN;

	if (c->dead)
		return;
	if (c->olen || c->want_write)
		ev |= EPOLLOUT;
	/* level-triggered: the same mask again changes nothing, and costs a syscall */
	if (ev != c->ev_mask && !nd_loop_mod(d, &c->h, ev))
		c->ev_mask = ev;
}

static const char *ssl_errstr(void)
{
	static char buf[160];
	unsigned long e = ERR_get_error();

	if (!e)
		return errno ? strerror(errno) : "connection reset";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* Write what is queued; false when the connection failed (c->doom says why). */
static bool conn_flush(struct nd *d, struct nd_conn *c)
{
	c->want_write = false;
	while (c->olen && !c->dead && !c->doom) {
		int n = SSL_write(c->ssl, c->out, (int)c->olen);

		if (n > 0) {
			memmove(c->out, c->out + n, c->olen - (size_t)n);
			c->olen -= (size_t)n;
			continue;
		}
		switch (SSL_get_error(c->ssl, n)) {
		case SSL_ERROR_WANT_WRITE:
			c->want_write = true;
			return true;
		case SSL_ERROR_WANT_READ:
			return true;
		default:
			nd_conn_doom(d, c, "TLS write failed");
			c->lost = true;
			ERR_clear_error();
			return false;
		}
	}
	if (!c->olen && c->out)
		out_release(c);
	return !c->dead && !c->doom;
}

static void conn_queue(struct nd *d, struct nd_conn *c, const char *line, int len)
{
	if (len <= 0 || c->dead || c->doom)
		return;
	if (!out_reserve(c, (size_t)len)) {
		nd_conn_doom(d, c, c->olen + (size_t)len > ND_OUTBUF_MAX ?
				   "client does not read its replies" : "out of memory");
		return;
	}
	memcpy(c->out + c->olen, line, (size_t)len);
	c->olen += (size_t)len;
}

/* A client that keeps getting errors is probing or broken: cut it off. */
#define ND_MAX_ERRORS 20

void nd_reply_err(struct nd *d, struct nd_conn *c, int code, const char *reason)
{
	char b[NT_LINE_MAX + 2];

	if (++c->errors >= ND_MAX_ERRORS) {
		code = NT_LINE_E_LIMIT;
		reason = "too many errors, closing";
		c->close_after_flush = true;
		nt_info("connection %s: %u errors, closing", c->peer, c->errors);
	}
	conn_queue(d, c, b, nt_line_fmt_err(b, sizeof(b), code, reason));
}

static void tell_bye(struct nd *d, struct nd_conn *c, const char *reason)
{
	char b[NT_LINE_MAX + 2];

	conn_queue(d, c, b, nt_line_fmt_evt(b, sizeof(b), "BYE",
					    (struct nt_line_kv[]){ { "reason", reason } }, 1));
}

void nd_reply_ok(struct nd *d, struct nd_conn *c, enum nt_line_cmd_id id,
		     const struct nt_line_kv *kv, size_t n)
{
	char b[NT_LINE_MAX + 2];
	int len = nt_line_fmt_ok(b, sizeof(b), id, kv, n);

	if (len < 0) {
		nt_err("cannot format the %s reply: %s", nt_line_cmd_name(id), strerror(-len));
		nd_reply_err(d, c, NT_LINE_E_INTERNAL, "internal error");
		return;
	}
	conn_queue(d, c, b, len);
}

/* Read and answer lines; true when it stopped on the backlog (more may be buffered). */
static bool conn_read(struct nd *d, struct nd_conn *c)
{
	/* small reads: the replies to one chunk always fit in the other half */
	char buf[512];

	for (;;) {
		const char *p = buf;
		size_t left;
		int n;

		if (c->dead || c->close_after_flush || c->doom)
			return false;
		if (conn_backlogged(c))
			return true;
		n = SSL_read(c->ssl, buf, sizeof(buf));
		if (n <= 0) {
			int e = SSL_get_error(c->ssl, n);

			if (e == SSL_ERROR_WANT_READ)
				return false;
			if (e == SSL_ERROR_WANT_WRITE) {
				c->want_write = true;
				return false;
			}
			c->lost = e != SSL_ERROR_ZERO_RETURN;
			conn_close(d, c, e == SSL_ERROR_ZERO_RETURN ? "client closed" : ssl_errstr());
			return false;
		}
		c->active_ns = nd_now_ns();
		left = (size_t)n;
		while (left && !c->dead && !c->close_after_flush && !c->doom) {
			const char *line;
			size_t used = 0, ll;
			int rc = nt_line_reader_feed(&c->rd, p, left, &used, &line, &ll);

			p += used;
			left -= used;
			if (rc == 1)
				nd_handle_line(d, c, line, ll);
			else if (rc == -EMSGSIZE)
				nd_reply_err(d, c, NT_LINE_E_TOO_LONG, "line too long");
		}
	}
}

static void conn_drive_once(struct nd *d, struct nd_conn *c)
{
	bool more = true;

	if (c->state == C_HANDSHAKE) {
		int r = SSL_do_handshake(c->ssl);

		if (r != 1) {
			int e = SSL_get_error(c->ssl, r);

			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				c->hs_waited = true;
				c->want_write = e == SSL_ERROR_WANT_WRITE;
				conn_update(d, c);
				return;
			}
			nt_dbg("TLS handshake with %s failed: %s", c->peer, ssl_errstr());
			d->ev.tls_failed++;
			conn_close(d, c, NULL);
			return;
		}
		c->state = C_OPEN;
		d->ev.tls_ok++;
		c->want_write = false;
		c->active_ns = nd_now_ns();
		nt_dbg("TLS up with %s (%s, %s%s)", c->peer, SSL_get_version(c->ssl),
		       SSL_get_cipher_name(c->ssl), SSL_session_reused(c->ssl) ? ", resumed" : "");
	}
	/*
	 * Lines left unread for the backlog sit inside OpenSSL, where epoll
	 * cannot see them: read again as soon as the replies are out, and if
	 * this round ends with some still there, ask for a wakeup (EPOLLOUT).
	 */
	for (int round = 0; round < 16 && more; round++) {
		if (!conn_flush(d, c) || conn_backlogged(c))
			break;
		more = conn_read(d, c);
	}
	if (!c->dead && conn_flush(d, c) && more && !conn_backlogged(c))
		c->want_write = true;
	if (c->dead)
		return;
	if (c->doom) {
		conn_close(d, c, c->doom);
		return;
	}
	if (c->close_after_flush && !c->olen) {
		conn_close(d, c, "client quit");
		return;
	}
	conn_update(d, c);
}

static void cork(struct nd_conn *c, int on)
{
	setsockopt(c->h.fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

/*
 * The round that finishes a handshake writes the TLS 1.3 session ticket,
 * then the replies to lines the client sent with its Finished: corked, the
 * two writes leave as one TCP segment (the segment, not the syscall, is
 * what costs; the first flight is one write anyway).
 */
static void conn_drive(struct nd *d, struct nd_conn *c)
{
	bool corked = c->state == C_HANDSHAKE && c->hs_waited;

	if (corked)
		cork(c, 1);
	conn_drive_once(d, c);
	if (corked && !c->dead)
		cork(c, 0);
}

void nd_conn_event(struct nd *d, struct nd_conn *c, uint32_t events)
{
	if (c->dead)
		return;
	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
		c->lost = true;
		conn_close(d, c, "connection reset");
		return;
	}
	conn_drive(d, c);
}

/*
 * Room for one more connection from ep? A connection that has not
 * authenticated yet counts against a share of the slots and against its
 * source address, so one host can neither hold every slot nor the share
 * (NAT: authenticated users behind one address are not limited here).
 * Refusals are summed up in one line per interval (nd_conns_tick): a flood
 * must not become a flood of log lines.
 */
static bool admit(struct nd *d, const struct nt_endpoint *ep)
{
	if (d->nconns >= d->conf.max_connections) {
		d->refused.full++;
		d->refused_full++;
	} else if (d->nunauth >= d->conf.max_unauth) {
		d->refused.unauth++;
		d->refused_unauth++;
	} else if (nt_addrcount_get(&d->unauth_src, ep) >= d->conf.max_unauth_per_source) {
		d->refused.per_source++;
		d->refused_per_source++;
	} else {
		return true;
	}
	d->refused.last = *ep;
	return false;
}

static void unauth_release(struct nd *d, struct nd_conn *c)
{
	if (!c->unauth_counted)
		return;
	c->unauth_counted = false;
	nt_addrcount_dec(&d->unauth_src, &c->src);
	d->nunauth--;
}

void nd_conn_authed(struct nd *d, struct nd_conn *c)
{
	unauth_release(d, c);
}

#define ND_REFUSED_SUMMARY_NS 10000000000ull

static void refused_summary(struct nd *d, uint64_t now)
{
	char a[NT_ENDPOINT_STRLEN];
	uint64_t n = d->refused.full + d->refused.unauth + d->refused.per_source;

	if (now - d->refused.since_ns < ND_REFUSED_SUMMARY_NS)
		return;
	if (n)
		nt_warn("refused %llu connections in the last %llu s: %llu with all %u slots taken, "
			"%llu over the %u not yet authenticated, %llu over %u per source (last from %s)",
			(unsigned long long)n,
			(unsigned long long)((now - d->refused.since_ns) / 1000000000ull),
			(unsigned long long)d->refused.full, d->conf.max_connections,
			(unsigned long long)d->refused.unauth, d->conf.max_unauth,
			(unsigned long long)d->refused.per_source, d->conf.max_unauth_per_source,
			nt_endpoint_format(&d->refused.last, a, sizeof(a)));
	memset(&d->refused, 0, sizeof(d->refused));
	d->refused.since_ns = now;
}

static uint64_t conn_gen;

struct nd_conn *nd_conn_lookup(struct nd *d, size_t slot, uint64_t gen)
{
	struct nd_conn *c;

	if (!d->conns || slot >= d->conf.max_connections)
		return NULL;
	c = d->conns[slot];
	return c && c->gen == gen && !c->dead && !c->doom ? c : NULL;
}

void nd_conn_accept(struct nd *d, struct nd_handle *h)
{
	for (;;) {
		struct sockaddr_storage ss, ls;
		socklen_t len = sizeof(ss), llen = sizeof(ls);
		struct nt_endpoint ep;
		struct nd_conn *c;
		size_t slot;
		int fd = accept4(h->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				nt_warn("accept: %s", strerror(errno));
			return;
		}
		nt_endpoint_from_sockaddr((struct sockaddr *)&ss, &ep);
		if (!admit(d, &ep)) {
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->h.kind = ND_CONN;
		c->h.fd = fd;
		c->gen = ++conn_gen;
		nt_endpoint_format(&ep, c->peer, sizeof(c->peer));
		c->src = ep;
		getsockname(fd, (struct sockaddr *)&ls, &llen);
		nt_endpoint_from_sockaddr((struct sockaddr *)&ls, &c->local);
		nt_line_reader_init(&c->rd);
		c->deadline_ns = nd_now_ns() + d->conf.auth_timeout_s * 1000000000ull;
		c->ssl = SSL_new(d->ssl_ctx);
		if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1 || nd_loop_add(d, &c->h, EPOLLIN)) {
			SSL_free(c->ssl);
			close(fd);
			free(c);
			continue;
		}
		SSL_set_accept_state(c->ssl);
		c->ev_mask = EPOLLIN;
		/* admit() saw room: a slot is free */
		slot = (size_t)nt_freelist_get(&d->conn_slots);
		d->conns[slot] = c;
		c->slot = slot;
		d->nconns++;
		nt_addrcount_inc(&d->unauth_src, &c->src);
		d->nunauth++;
		c->unauth_counted = true;
		nt_dbg("client connected from %s", c->peer);
		conn_drive(d, c);
	}
}

static void conn_close(struct nd *d, struct nd_conn *c, const char *why)
{
	if (c->dead)
		return;
	/* unauthenticated ones at debug: a flood of them must not flood the log */
	if (why && c->authed)
		nt_info("connection %s user=%s closed: %s", c->peer, c->user, why);
	else if (why)
		nt_dbg("connection %s closed: %s", c->peer, why);
	/* a client that said QUIT and left before reading OK QUIT meant to end */
	if (c->sess && c->lost && !c->close_after_flush && !d->stop) {
		/* the mapping keeps relaying; the client comes back with RESUME */
		c->sess->owner = NULL;
		c->sess->detached_ns = nd_now_ns();
		nt_info("session of user=%s waits up to %u s for a RESUME", c->user,
			d->conf.consent_s);
		c->sess = NULL;
	} else if (c->sess) {
		nd_session_end(d, c->sess, why ? why : "connection closed");
		c->sess = NULL;
	}
	unauth_release(d, c);
	/*
	 * Lines told this round are written at its end, after a doom (a kick's
	 * EVT BYE and EXPIRED): their last chance, one best-effort write, unless
	 * writing is what failed.
	 */
	if (c->state == C_OPEN && c->olen && !c->lost && SSL_write(c->ssl, c->out, (int)c->olen) <= 0)
		ERR_clear_error();
	if (c->state == C_OPEN)
		SSL_shutdown(c->ssl); /* best effort: one close_notify, no waiting */
	close(c->h.fd); /* also leaves the epoll set */
	c->dead = true;
	reap_queue(d, c);
}

void nd_conns_reap(struct nd *d)
{
	/*
	 * Only what closed or was doomed this round: closing one may doom
	 * another (its group peer), which joins the list behind it.
	 */
	for (size_t i = 0; i < d->nreap; i++) {
		struct nd_conn *c = d->reap[i];

		if (!c->dead && c->doom)
			conn_close(d, c, c->doom);
	}
	for (size_t i = 0; i < d->nreap; i++) {
		struct nd_conn *c = d->reap[i];

		c->reap_queued = false;
		if (!c->dead)
			continue;
		SSL_free(c->ssl);
		d->conns[c->slot] = NULL;
		nt_freelist_put(&d->conn_slots, (uint32_t)c->slot);
		d->nconns--;
		OPENSSL_clear_free(c->out, c->ocap);
		nd_grant_clear(&c->grant);
		OPENSSL_cleanse(c, sizeof(*c));
		free(c);
	}
	d->nreap = 0;
}

void nd_conns_tick(struct nd *d, uint64_t now)
{
	refused_summary(d, now);
	for (size_t i = 0; i < d->conf.max_connections; i++) {
		struct nd_conn *c = d->conns[i];

		if (!c || c->dead)
			continue;
		if (!c->authed && now > c->deadline_ns) {
			/* a fixed deadline: PING, STATUS or a slow handshake never extend it */
			d->auth_timeouts++;
			conn_close(d, c, c->state == C_HANDSHAKE ? "TLS handshake timeout" :
					 "not authenticated in time");
		} else if (c->state == C_OPEN && now - c->active_ns > ND_IDLE_TIMEOUT_MS * 1000000ull)
			conn_close(d, c, "idle timeout");
		else if (c->authed && (uint64_t)time(NULL) >= c->token_expiry) {
			tell_bye(d, c, "token-expired");
			conn_flush(d, c);
			conn_close(d, c, "token expired");
		} else if (c->doom) {
			conn_close(d, c, c->doom);
		}
	}
}

void nd_sessions_tick(struct nd *d, uint64_t now)
{
	uint64_t window = (uint64_t)d->conf.consent_s * 1000000000ull;

	for (size_t i = 0; i < d->st.nsess; i++) {
		struct nt_session *s = &d->st.sess[i];

		if (s->used && !s->owner && s->detached_ns && now - s->detached_ns > window)
			nd_session_end(d, s, "its connection dropped and it did not resume");
	}
}

void nd_conn_touch(struct nt_session *s, uint64_t now)
{
	struct nd_conn *c = s->owner;

	if (c)
		c->active_ns = now;
}

void nd_conn_push(struct nd *d, struct nd_conn *c)
{
	/* a close it asked for (too many errors) happens at its next event */
	if (!c->dead && conn_flush(d, c))
		conn_update(d, c);
}

void nd_session_tell(struct nd *d, struct nt_session *s, const char *line)
{
	struct nd_conn *c = s->owner;

	if (!c || c->dead || c->state != C_OPEN)
		return;
	/* never closes here: we are inside the session code (see doom) */
	conn_queue(d, c, line, (int)strlen(line));
	/*
	 * Written at the end of the round (nd_conns_flush): a verification
	 * tells VERIFIED and GROUP, a group's change every member, and each
	 * write is a TLS record and a TCP segment.
	 */
	if (!c->flush_queued && d->nflush < d->conf.max_connections) {
		c->flush_queued = true;
		d->flushq[d->nflush++] = c;
	} else if (!c->flush_queued && conn_flush(d, c)) {
		conn_update(d, c);
	}
}

void nd_conns_flush(struct nd *d)
{
	for (size_t i = 0; i < d->nflush; i++) {
		struct nd_conn *c = d->flushq[i];

		c->flush_queued = false;
		if (!c->dead && conn_flush(d, c))
			conn_update(d, c);
	}
	d->nflush = 0;
}

void nd_conns_shutdown(struct nd *d)
{
	for (size_t i = 0; d->conns && i < d->conf.max_connections; i++) {
		struct nd_conn *c = d->conns[i];

		if (!c || c->dead)
			continue;
		if (c->state == C_OPEN) {
			/* restart: the mappings stay and the next daemon takes RESUMEs */
			tell_bye(d, c, d->conf.keep_on_exit ? "restart" : "shutdown");
			conn_flush(d, c);
		}
		conn_close(d, c, "server shutting down");
	}
	nd_conns_reap(d);
	free(d->conns);
	d->conns = NULL;
	free(d->reap);
	d->reap = NULL;
	free(d->flushq);
	d->flushq = NULL;
	d->nflush = 0;
	nt_freelist_free(&d->conn_slots);
	nt_addrcount_free(&d->unauth_src);
}
