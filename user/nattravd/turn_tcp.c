// SPDX-License-Identifier: GPL-2.0
/*
 * TURN over TCP (RFC 8656 with the framing of 12.5): for clients whose
 * network lets no UDP out (browsers fall back to turn:...?transport=tcp).
 * The client's messages follow each other in the stream, STUN requests and
 * ChannelData padded to 4 bytes; nattravd answers and relays on the same
 * connection. The relayed side stays UDP. An allocation lives as long as
 * its connection: closing one releases the other. Nothing of it is in the
 * XDP program (a frame cannot join a TCP stream there): turn_xdp.c leaves
 * TCP clients' channels to nattravd.
 *
 * Bounds: --turn-max-tcp connections (refused beyond, and beyond
 * TCP_PER_ADDR from one address), a connection without an allocation for
 * TCP_IDLE_NS closed, at most TCP_IN_MAX bytes per message, and at most
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
	struct nt_endpoint peer;
	uint64_t last_ns;	/* last message from the client */
	size_t in_len, out_off, out_len;
	uint8_t in[TCP_IN_MAX];
	uint8_t *out;		/* TCP_OUT_MAX once something had to wait */
};

struct nd_turn_tcp {
	struct nd_handle listen[2];
	int nlisten;
	struct tcp_conn *c;
	uint32_t cap, n;
	uint16_t port;
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

int nd_turn_tcp_open(struct nd *d)
{
	struct nd_turn_tcp *tt;
	int err = 0;

	if (!d->turn || !d->conf.turn.tcp_port)
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
	if (d->conf.have_v4)
		err = listen_one(d, &tt->listen[tt->nlisten++], AF_INET, d->conf.addr_v4, tt->port);
	if (!err && d->conf.have_v6)
		err = listen_one(d, &tt->listen[tt->nlisten++], AF_INET6, d->conf.addr_v6, tt->port);
	if (!err)
		nt_info("TURN over TCP on port %u, %u connections at most", tt->port, tt->cap);
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
	free(tt->c);
	free(tt);
	d->turn->tcp = NULL;
}

static unsigned from_addr(const struct nd_turn_tcp *tt, const struct nt_endpoint *ep)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < tt->cap; i++)
		n += tt->c[i].used && !memcmp(tt->c[i].peer.addr, ep->addr, 16);
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
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (nd_loop_add(d, &c->h, EPOLLIN)) {
			close(fd);
			memset(c, 0, sizeof(*c));
			continue;
		}
		c->used = true;
		tt->n++;
	}
}

/* Write what waits; 0, or -errno when the connection is to be closed. */
static int flush(struct nd *d, struct tcp_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->h.fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
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

void nd_turn_tcp_event(struct nd *d, struct nd_handle *h, uint32_t events)
{
	struct tcp_conn *c = (struct tcp_conn *)h;

	if (!c->used)
		return;
	if ((events & EPOLLOUT) && flush(d, c)) {
		conn_close(d, c, "write failed");
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (int round = 0; round < 16; round++) {
		ssize_t n = recv(c->h.fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			conn_close(d, c, n == 0 ? "closed by the client" : strerror(errno));
			return;
		}
		if (n < 0)
			return;
		c->in_len += (size_t)n;
		if (!messages(d, c))
			return;
	}
}

void nd_turn_tcp_tick(struct nd *d, uint64_t now)
{
	struct nd_turn_tcp *tt = d->turn ? d->turn->tcp : NULL;

	for (uint32_t i = 0; tt && i < tt->cap; i++) {
		struct tcp_conn *c = &tt->c[i];

		if (c->used && now - c->last_ns > TCP_IDLE_NS && !nd_turn_media_used(d, &c->h))
			conn_close(d, c, "no allocation for 30 s");
	}
}

size_t nd_turn_tcp_connections(const struct nd *d)
{
	return d->turn && d->turn->tcp ? d->turn->tcp->n : 0;
}
