// SPDX-License-Identifier: GPL-2.0
/*
 * TURN over TCP and TLS (RFC 8656 with the framing of 12.5): for clients
 * whose network lets no UDP out (browsers fall back to
 * turn:...?transport=tcp, then turns:, which passes proxies and firewalls
 * that allow only TLS). TLS uses nattravd's certificate and key, without
 * client certificates.
 * The client's messages follow each other in the stream, STUN requests and
 * ChannelData padded to 4 bytes; nattravd answers and relays on the same
 * connection. The relayed side stays UDP. An allocation lives as long as
 * its connection: closing one releases the other. Nothing of it is in the
 * XDP program (a frame cannot join a TCP stream there): turn_xdp.c leaves
 * TCP clients' channels to nattravd.
 *
 * Bounds: --turn-max-tcp connections (refused beyond, and beyond
 * TCP_PER_ADDR from one address that have no allocation yet: a NAT may
 * hide many users, a flood has no credentials), a connection without an
 * allocation for TCP_IDLE_NS closed, at most TCP_IN_MAX bytes per message, and at most
 * TCP_OUT_MAX bytes waiting for a slow reader (whole messages beyond it
 * are dropped, so the stream stays framed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "nt_endpoint.h"
#include "nt_log.h"
#include "nt_stun.h"
#include "turn_priv.h"

#define TCP_IN_MAX 4096				/* a STUN message or ChannelData, padded */
#define TCP_OUT_MAX (256 * 1024)
#define TCP_IDLE_NS (30 * 1000000000ull)
#define TCP_PER_ADDR 16

struct tcp_conn {
	struct nd_handle h;	/* first: epoll hands this back */
	bool used;
	bool want_out;		/* EPOLLOUT asked for */
	bool handshaken;	/* TLS: the handshake is done (always, without TLS) */
	SSL *ssl;		/* NULL: plain TCP */
	struct nt_endpoint peer;
	uint64_t last_ns;	/* last message from the client */
	uint32_t allocs;	/* allocations it carries */
	size_t in_len, out_off, out_len;
	uint8_t in[TCP_IN_MAX];
	uint8_t *out;		/* TCP_OUT_MAX once something had to wait */
};

struct nd_turn_tcp {
	struct nd_handle listen[4];	/* TCP, TLS; each per family */
	bool listen_tls[4];
	int nlisten;
	SSL_CTX *tls;			/* NULL: no TURN over TLS */
	struct tcp_conn *c;
	uint32_t cap, n;
	uint16_t port, tls_port;
};

static int listen_one(struct nd *d, struct nd_handle *h, int family, const uint8_t *addr,
		      uint16_t port)
{
	int fd = nd_tcp_bind(family, addr, port);

	if (fd < 0 || listen(fd, 128) < 0) {
		int err = fd < 0 ? fd : -errno;

		nt_err("TURN over TCP: cannot listen on port %u: %s", port, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	h->kind = ND_TURN_TCP_LISTEN;
	h->fd = fd;
	h->family = family;
	return nd_loop_add(d, h, EPOLLIN);
}

/* Both families on port; the listeners of TLS are told apart by their port. */
static int listen_port(struct nd *d, struct nd_turn_tcp *tt, uint16_t port)
{
	int err = 0;

	int first = tt->nlisten;

	if (d->conf.have_v4)
		err = listen_one(d, &tt->listen[tt->nlisten++], AF_INET, d->conf.addr_v4, port);
	if (!err && d->conf.have_v6)
		err = listen_one(d, &tt->listen[tt->nlisten++], AF_INET6, d->conf.addr_v6, port);
	for (int i = first; i < tt->nlisten; i++)
		tt->listen_tls[i] = port == tt->tls_port;
	return err;
}

int nd_turn_tcp_open(struct nd *d)
{
	struct nd_turn_tcp *tt;
	int err = 0;

	if (!d->turn || (!d->conf.turn.tcp_port && !d->conf.turn.tls_port))
		return 0;
	tt = calloc(1, sizeof(*tt));
	if (!tt)
		return -ENOMEM;
	tt->cap = d->conf.turn.max_tcp;
	tt->c = calloc(tt->cap, sizeof(*tt->c));
	if (!tt->c) {
		free(tt);
		return -ENOMEM;
	}
	d->turn->tcp = tt;
	tt->port = (uint16_t)(d->conf.turn.tcp_port == ND_TURN_TCP_MEDIA_PORT ? d->conf.media_port :
									       d->conf.turn.tcp_port);
	tt->tls_port = (uint16_t)d->conf.turn.tls_port;
	if (tt->port)
		err = listen_port(d, tt, tt->port);
	/* nattravd's certificate, no client certificates: TURN authenticates on its own */
	if (!err && tt->tls_port)
		err = nd_tls_ctx(d->conf.cert, d->conf.key, NULL, &tt->tls) ?: listen_port(d, tt, tt->tls_port);
	if (!err)
		nt_info("TURN over TCP on port %u, over TLS on port %u (0: off), %u connections at most",
			tt->port, tt->tls_port, tt->cap);
	return err;
}

static void conn_close(struct nd *d, struct tcp_conn *c, const char *why)
{
	struct nd_turn_tcp *tt = d->turn->tcp;
	char a[NT_ENDPOINT_STRLEN];

	if (!c->used)
		return;
	nt_dbg("TURN over TCP: connection from %s closed: %s",
	       nt_endpoint_format(&c->peer, a, sizeof(a)), why);
	/* the allocations it carried end with it (RFC 8656 3.1) */
	nd_turn_release_media(d, &c->h, "its TCP connection closed");
	SSL_free(c->ssl);
	close(c->h.fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	tt->n--;
}

void nd_turn_tcp_close(struct nd *d)
{
	struct nd_turn_tcp *tt = d->turn ? d->turn->tcp : NULL;

	if (!tt)
		return;
	for (uint32_t i = 0; i < tt->cap; i++)
		conn_close(d, &tt->c[i], "shutdown");
	for (int i = 0; i < tt->nlisten; i++)
		close(tt->listen[i].fd);
	SSL_CTX_free(tt->tls);
	free(tt->c);
	free(tt);
	d->turn->tcp = NULL;
}

static unsigned from_addr(const struct nd_turn_tcp *tt, const struct nt_endpoint *ep)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < tt->cap; i++)
		n += tt->c[i].used && !tt->c[i].allocs && !memcmp(tt->c[i].peer.addr, ep->addr, 16);
	return n;
}

void nd_turn_tcp_accept(struct nd *d, struct nd_handle *h)
{
	struct nd_turn_tcp *tt = d->turn->tcp;

	for (int round = 0; round < 64; round++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct nt_endpoint ep;
		struct tcp_conn *c = NULL;
		int one = 1, fd = accept4(h->fd, (struct sockaddr *)&ss, &sl,
					  SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (nt_endpoint_from_sockaddr((struct sockaddr *)&ss, &ep) || tt->n >= tt->cap ||
		    from_addr(tt, &ep) >= TCP_PER_ADDR) {
			d->turn->st.tcp_refused++;
			close(fd);
			continue;
		}
		for (uint32_t i = 0; !c && i < tt->cap; i++)
			if (!tt->c[i].used)
				c = &tt->c[i];
		c->h.kind = ND_TURN_TCP;
		c->h.fd = fd;
		c->h.family = h->family;
		c->peer = ep;
		c->last_ns = nd_now_ns();
		c->handshaken = true;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (tt->listen_tls[h - tt->listen]) {
			c->handshaken = false;
			c->ssl = SSL_new(tt->tls);
			if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1)
				goto drop;
			SSL_set_accept_state(c->ssl);
		}
		if (nd_loop_add(d, &c->h, EPOLLIN))
			goto drop;
		c->used = true;
		tt->n++;
		continue;
drop:
		SSL_free(c->ssl);
		close(fd);
		memset(c, 0, sizeof(*c));
	}
}

/* An SSL_* result as the plain socket calls say it: -EAGAIN for "not yet", 0 at the end. */
static long tls_result(struct tcp_conn *c, int n)
{
	int e = SSL_get_error(c->ssl, n);

	if (n > 0)
		return n;
	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	return e == SSL_ERROR_ZERO_RETURN ? 0 : -EPROTO;
}

/* Bytes from the stream: > 0, 0 at its end, -EAGAIN for none yet, else -errno. */
static long io_read(struct tcp_conn *c, void *buf, size_t cap)
{
	ssize_t n;

	if (c->ssl)
		return tls_result(c, SSL_read(c->ssl, buf, (int)cap));
	n = recv(c->h.fd, buf, cap, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	return n;
}

static long io_write(struct tcp_conn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->ssl)
		return tls_result(c, SSL_write(c->ssl, buf, (int)len));
	n = send(c->h.fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	return n;
}

/* Write what waits; 0, or -errno when the connection is to be closed. */
static int flush(struct nd *d, struct tcp_conn *c)
{
	while (c->handshaken && c->out_off < c->out_len) {
		long n = io_write(c, c->out + c->out_off, c->out_len - c->out_off);

		if (n == -EAGAIN)
			break;
		if (n <= 0)
			return n ? (int)n : -EPIPE;
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->want_out != (c->out_len != 0)) {
		c->want_out = c->out_len != 0;
		nd_loop_mod(d, &c->h, EPOLLIN | (c->want_out ? EPOLLOUT : 0));
	}
	return 0;
}

int nd_turn_tcp_send(struct nd *d, struct nd_handle *h, const void *buf, size_t len)
{
	static const uint8_t zero[3];
	struct tcp_conn *c = (struct tcp_conn *)h;
	/* ChannelData over a stream is padded to 4 bytes (RFC 8656 12.5) */
	size_t pad = (((const uint8_t *)buf)[0] & 0xc0) == 0x40 ? (4 - (len & 3)) & 3 : 0;

	if (!c->used)
		return -ENOTCONN;
	if (!c->out && !(c->out = malloc(TCP_OUT_MAX)))
		return -ENOMEM;
	/* whole messages or none: what a slow reader cannot take is dropped */
	if (c->out_len + len + pad > TCP_OUT_MAX) {
		d->turn->st.tcp_out_dropped++;
		return -ENOBUFS;
	}
	memcpy(c->out + c->out_len, buf, len);
	memcpy(c->out + c->out_len + len, zero, pad);
	c->out_len += len + pad;
	if (flush(d, c)) {
		conn_close(d, c, "write failed");
		return -EPIPE;
	}
	return 0;
}

/* Every whole message in c->in, in order; false when the connection was closed. */
static bool messages(struct nd *d, struct tcp_conn *c)
{
	size_t off = 0;

	while (c->used) {
		long f = nt_stun_stream_frame(c->in + off, c->in_len - off, TCP_IN_MAX);
		const uint8_t *m = c->in + off;

		if (f < 0) {
			d->turn->st.tcp_malformed++;
			conn_close(d, c, "neither STUN nor ChannelData");
			return false;
		}
		if (!f)
			break;
		c->last_ns = nd_now_ns();
		if ((m[0] & 0xc0) == 0x40)
			nd_turn_channel_data(d, &c->h, &c->peer, m, (size_t)f);
		else if (!nd_stun_input(d, &c->h, &c->peer, m, (size_t)f))
			d->turn->st.tcp_malformed++; /* STUN, but no method of TURN's or Binding */
		off += (size_t)f;
	}
	if (!c->used)
		return false;
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return true;
}

/* The TLS handshake, as far as it goes: true once done; false (closed or waiting) else. */
static bool handshake(struct nd *d, struct tcp_conn *c)
{
	long r = tls_result(c, SSL_do_handshake(c->ssl));

	if (r > 0) {
		c->handshaken = true;
		return true;
	}
	if (r != -EAGAIN) {
		d->turn->st.tcp_malformed++;
		conn_close(d, c, "TLS handshake failed");
		return false;
	}
	/* waiting for the client or for room to write: EPOLLOUT only for the latter */
	c->want_out = SSL_want_write(c->ssl);
	nd_loop_mod(d, &c->h, EPOLLIN | (c->want_out ? EPOLLOUT : 0));
	return false;
}

void nd_turn_tcp_event(struct nd *d, struct nd_handle *h, uint32_t events)
{
	struct tcp_conn *c = (struct tcp_conn *)h;

	if (!c->used || (!c->handshaken && !handshake(d, c)))
		return;
	if ((events & EPOLLOUT) && flush(d, c)) {
		conn_close(d, c, "write failed");
		return;
	}
	/* TLS may hold decrypted bytes the socket no longer signals */
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !(c->ssl && SSL_pending(c->ssl)))
		return;
	for (int round = 0; round < 64; round++) {
		long n = io_read(c, c->in + c->in_len, sizeof(c->in) - c->in_len);

		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			conn_close(d, c, n == 0 ? "closed by the client" : strerror((int)-n));
			return;
		}
		c->in_len += (size_t)n;
		if (!messages(d, c))
			return;
	}
	/* bytes left inside TLS: come back for them (EPOLLOUT fires at once) */
	if (c->ssl && SSL_pending(c->ssl) && !c->want_out) {
		c->want_out = true;
		nd_loop_mod(d, &c->h, EPOLLIN | EPOLLOUT);
	}
}

void nd_turn_tcp_tick(struct nd *d, uint64_t now)
{
	struct nd_turn_tcp *tt = d->turn ? d->turn->tcp : NULL;

	for (uint32_t i = 0; tt && i < tt->cap; i++) {
		struct tcp_conn *c = &tt->c[i];

		if (c->used && now - c->last_ns > TCP_IDLE_NS && !c->allocs)
			conn_close(d, c, "no allocation for 30 s");
	}
}

void nd_turn_tls_reload(struct nd *d)
{
	struct nd_turn_tcp *tt = d->turn ? d->turn->tcp : NULL;
	SSL_CTX *ctx;

	if (!tt || !tt->tls)
		return;
	/* the files passed the control port's load just now; connections up keep theirs */
	if (nd_tls_ctx(d->conf.cert, d->conf.key, NULL, &ctx)) {
		nt_warn("reload: TURN over TLS keeps its previous certificate");
		return;
	}
	SSL_CTX_free(tt->tls);
	tt->tls = ctx;
}

void nd_turn_tcp_carries(struct nd_handle *h, int delta)
{
	struct tcp_conn *c = (struct tcp_conn *)h;

	if (h->kind == ND_TURN_TCP)
		c->allocs = (uint32_t)((int)c->allocs + delta);
}

size_t nd_turn_tcp_connections(const struct nd *d)
{
	return d->turn && d->turn->tcp ? d->turn->tcp->n : 0;
}
