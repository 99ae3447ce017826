// SPDX-License-Identifier: GPL-2.0
/*
 * nattrav client: the TLS control channel (connect, verify the server, the
 * line protocol, events) and the session on top of it. The UDP exchange
 * itself is in nt_client_udp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "nattrav_client.h"
#include "nt_endpoint.h"
#include "nt_line.h"
#include "nt_token.h"
#include "nt_wire.h"

#define TIMEOUT_DEFAULT_MS 5000
#define EVQ_LEN 32		/* events kept between two polls */
#define INBUF_LEN 4096
#define UDP_BURST 64		/* datagrams taken per poll, so TLS is not starved */

struct nt_client {
	SSL_CTX *ctx;
	SSL *ssl;
	int tcp, udp;
	int timeout_ms;
	bool tls_up, closed;

	struct nt_line_reader rd;
	char in[INBUF_LEN];
	size_t in_off, in_len;

	struct nt_client_grant grant;
	bool joined, verified, in_verify, denied, full;
	char mapping[NT_CLIENT_ADDRSTRLEN];
	char user[NT_TOKEN_USER_MAX + 1];

	uint64_t ka_seq;
	int64_t ka_next;

	struct nt_client_event evq[EVQ_LEN];
	unsigned evq_head, evq_n;

	char err[NT_CLIENT_ERRLEN];
	int err_code;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 3, 4))) static int fail(struct nt_client *c, int err,
						       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return err;
}

/* The first OpenSSL error on the queue, as text; clears the queue. */
static const char *ssl_errstr(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (!e)
		snprintf(buf, len, "%s", errno ? strerror(errno) : "connection closed");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* "host", "host:port", "[v6]", "[v6]:port", bare v6 -> host, port. */
static int split_server(const char *s, char *host, size_t hlen, char *port, size_t plen)
{
	const char *p = NULL, *h = s;
	size_t n;

	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		h = s + 1;
		n = (size_t)(end - h);
		if (end[1] == ':')
			p = end + 2;
	} else {
		const char *colon = strchr(s, ':');

		if (colon && !strchr(colon + 1, ':')) {
			n = (size_t)(colon - s);
			p = colon + 1;
		} else {
			n = strlen(s); /* no port, or a bare IPv6 literal */
		}
	}
	if (!n || n >= hlen)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	if (p) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(p, &end, 10);
		if (!*p || *p < '0' || *p > '9' || *end || errno || !v || v > 65535)
			return -EINVAL;
		snprintf(port, plen, "%lu", v);
	} else {
		snprintf(port, plen, "%d", NT_CLIENT_PORT_DEFAULT);
	}
	return 0;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t now;
	int n;

	do {
		now = mono_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)(deadline - now));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

static int tcp_connect(struct nt_client *c, const char *host, const char *port, int64_t deadline)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res, *ai;
	int rc, err = -EHOSTUNREACH;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc)
		return fail(c, -EHOSTUNREACH, "cannot resolve %s: %s", host, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);
		socklen_t sl = sizeof(err);
		int soerr = 0;

		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
			err = -errno;
			close(fd);
			continue;
		}
		err = wait_fd(fd, POLLOUT, deadline);
		if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
			err = -soerr;
		if (err) {
			close(fd);
			continue;
		}
		c->tcp = fd;
		break;
	}
	freeaddrinfo(res);
	if (c->tcp < 0)
		return fail(c, err, "cannot connect to %s port %s: %s", host, port, strerror(-err));
	return 0;
}

/* Run an SSL call to completion on the non-blocking socket, by deadline. */
static int ssl_wait(struct nt_client *c, int rc, int64_t deadline)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(c->tcp, POLLIN, deadline) ?: 1;
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(c->tcp, POLLOUT, deadline) ?: 1;
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	default:
		return -EPROTO;
	}
}

static int tls_setup(struct nt_client *c, const struct nt_client_opts *o, const char *host,
		     int64_t deadline)
{
	char eb[200];
	struct in6_addr a6;
	bool ip = inet_pton(AF_INET, host, &a6) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
	int rc;

	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		return fail(c, -ENOMEM, "TLS: %s", ssl_errstr(eb, sizeof(eb)));
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(c->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL) != 1)
		return fail(c, -EINVAL, "cannot load CA file %s: %s", o->ca_file,
			    ssl_errstr(eb, sizeof(eb)));
	if (o->cert_file) {
		if (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert_file) != 1)
			return fail(c, -EINVAL, "cannot load certificate %s: %s", o->cert_file,
				    ssl_errstr(eb, sizeof(eb)));
		if (SSL_CTX_use_PrivateKey_file(c->ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(c->ctx) != 1)
			return fail(c, -EINVAL, "cannot load key %s: %s", o->key_file,
				    ssl_errstr(eb, sizeof(eb)));
	}
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->tcp) != 1)
		return fail(c, -ENOMEM, "TLS: %s", ssl_errstr(eb, sizeof(eb)));
	if (ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1)
			return fail(c, -EINVAL, "TLS: bad IP %s", host);
	} else if (SSL_set1_host(c->ssl, host) != 1 ||
		   SSL_set_tlsext_host_name(c->ssl, host) != 1) {
		return fail(c, -EINVAL, "TLS: bad host name %s", host);
	}
	while ((rc = SSL_connect(c->ssl)) != 1) {
		int w = ssl_wait(c, rc, deadline);

		if (w == 1)
			continue;
		if (w == -ETIMEDOUT)
			return fail(c, w, "TLS handshake with %s timed out", host);
		if (SSL_get_verify_result(c->ssl) != X509_V_OK)
			return fail(c, -EPROTO, "TLS: server certificate of %s refused: %s", host,
				    X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
		return fail(c, -EPROTO, "TLS handshake with %s failed: %s", host,
			    ssl_errstr(eb, sizeof(eb)));
	}
	c->tls_up = true;
	return 0;
}

static int tls_write(struct nt_client *c, const char *buf, size_t len)
{
	int64_t deadline = mono_ms() + c->timeout_ms;
	char eb[200];

	while (len) {
		int rc = SSL_write(c->ssl, buf, (int)len), w;

		if (rc > 0) {
			buf += rc;
			len -= (size_t)rc;
			continue;
		}
		w = ssl_wait(c, rc, deadline);
		if (w == 1)
			continue;
		c->closed = true;
		return fail(c, w == -ETIMEDOUT ? w : -ECONNRESET, "TLS write failed: %s",
			    w == -ETIMEDOUT ? "timed out" : ssl_errstr(eb, sizeof(eb)));
	}
	return 0;
}

/*
 * Next line from the server by deadline (mono ms; now = do not wait).
 * 1 with the line, 0 when none yet, -ECONNRESET when the server closed.
 */
static int tls_read_line(struct nt_client *c, int64_t deadline, const char **line, size_t *len)
{
	char eb[200];

	if (c->closed)
		return -ECONNRESET;
	for (;;) {
		while (c->in_off < c->in_len) {
			size_t used;
			int rc = nt_line_reader_feed(&c->rd, c->in + c->in_off,
						     c->in_len - c->in_off, &used, line, len);

			c->in_off += used;
			if (rc == 1)
				return 1;
			if (rc == -EMSGSIZE)
				continue; /* a server line too long: ignored */
		}
		c->in_off = c->in_len = 0;
		int rc = SSL_read(c->ssl, c->in, sizeof(c->in));

		if (rc > 0) {
			c->in_len = (size_t)rc;
			continue;
		}
		switch (SSL_get_error(c->ssl, rc)) {
		case SSL_ERROR_WANT_READ:
			if (wait_fd(c->tcp, POLLIN, deadline))
				return 0;
			continue;
		case SSL_ERROR_WANT_WRITE:
			if (wait_fd(c->tcp, POLLOUT, deadline))
				return 0;
			continue;
		case SSL_ERROR_ZERO_RETURN:
			c->closed = true;
			return fail(c, -ECONNRESET, "server closed the connection");
		default:
			c->closed = true;
			return fail(c, -ECONNRESET, "connection lost: %s",
				    ssl_errstr(eb, sizeof(eb)));
		}
	}
}

static void push_event(struct nt_client *c, const struct nt_client_event *ev)
{
	if (c->evq_n == EVQ_LEN) { /* the application is not polling: drop the oldest */
		c->evq_head = (c->evq_head + 1) % EVQ_LEN;
		c->evq_n--;
	}
	c->evq[(c->evq_head + c->evq_n) % EVQ_LEN] = *ev;
	c->evq_n++;
}

/* Copy, truncated to fit: event fields are for display. */
static void copy_field(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static int64_t ka_interval(const struct nt_client *c)
{
	int64_t ms = (int64_t)c->grant.keepalive_s * 1000;
	int64_t third = (int64_t)c->grant.consent_s * 1000 / 3;
	uint16_t r = 0;

	if (third < ms)
		ms = third;
	/* up to 10% early, so many clients do not beat in step */
	RAND_bytes((unsigned char *)&r, sizeof(r));
	ms -= ms / 10 * r / 65535;
	return ms < 100 ? 100 : ms;
}

static void handle_evt(struct nt_client *c, const struct nt_line_reply *r, const char *line)
{
	struct nt_client_event ev = { .kind = NT_CLIENT_EV_OTHER };
	uint64_t sid;
	bool ours = nt_line_reply_hex64(r, "session", &sid) || sid == c->grant.session;

	copy_field(ev.name, sizeof(ev.name), r->word);
	copy_field(ev.mapping, sizeof(ev.mapping), nt_line_reply_get(r, "mapping"));
	copy_field(ev.reason, sizeof(ev.reason), nt_line_reply_get(r, "reason"));
	copy_field(ev.line, sizeof(ev.line), line);
	if (!strcmp(r->word, "VERIFIED")) {
		ev.kind = NT_CLIENT_EV_VERIFIED;
		if (ours && c->joined && ev.mapping[0]) {
			copy_field(c->mapping, sizeof(c->mapping), ev.mapping);
			if (!c->verified)
				c->ka_next = mono_ms() + ka_interval(c);
			c->verified = true;
			if (c->in_verify)
				return; /* nt_client_verify reports it */
		}
	} else if (!strcmp(r->word, "EXPIRED")) {
		ev.kind = NT_CLIENT_EV_EXPIRED;
		if (ours && (!ev.mapping[0] || !strcmp(ev.mapping, c->mapping))) {
			c->verified = false;
			c->mapping[0] = '\0';
		}
	} else if (!strcmp(r->word, "DENIED")) {
		ev.kind = NT_CLIENT_EV_DENIED;
		if (ours)
			c->denied = true;
		if (ours && !strcmp(ev.reason, "quota"))
			c->full = true;
	} else if (!strcmp(r->word, "BYE")) {
		ev.kind = NT_CLIENT_EV_BYE;
	}
	push_event(c, &ev);
}

/* Handle one server line: 1 for OK / ERR (in *r), 0 for an event. */
static int take_line(struct nt_client *c, const char *line, size_t len, struct nt_line_reply *r)
{
	if (nt_line_parse_reply(line, len, r))
		return fail(c, -EPROTO, "malformed line from server: %.80s", line);
	if (r->kind == NT_REPLY_EVT) {
		handle_evt(c, r, line);
		return 0;
	}
	return 1;
}

/* Send a command and read its OK (into r) or ERR (-EACCES, text kept). */
static int command(struct nt_client *c, enum nt_line_cmd_id id, const char *arg,
		   struct nt_line_reply *r)
{
	int64_t deadline = mono_ms() + c->timeout_ms;
	char buf[NT_LINE_MAX + 2];
	int n = nt_line_fmt_cmd(buf, sizeof(buf), id, arg);

	if (n < 0)
		return fail(c, n, "cannot format %s: %s", nt_line_cmd_name(id), strerror(-n));
	n = tls_write(c, buf, (size_t)n);
	if (n)
		return n;
	for (;;) {
		const char *line;
		size_t len;
		int rc = tls_read_line(c, deadline, &line, &len);

		if (rc < 0)
			return rc;
		if (rc == 0)
			return fail(c, -ETIMEDOUT, "no reply to %s within %d ms",
				    nt_line_cmd_name(id), c->timeout_ms);
		rc = take_line(c, line, len, r);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		if (r->kind == NT_REPLY_ERR) {
			c->err_code = r->code;
			return fail(c, -EACCES, "server refused %s: ERR %d %s",
				    nt_line_cmd_name(id), r->code, r->text ? r->text : "");
		}
		if (strcmp(r->word, nt_line_cmd_name(id)))
			return fail(c, -EPROTO, "expected OK %s, got OK %s", nt_line_cmd_name(id),
				    r->word);
		return 0;
	}
}

static int udp_open(struct nt_client *c, const char *bind_s)
{
	struct sockaddr_storage ss;
	size_t sl = sizeof(ss);
	int fam = c->grant.media.ss_family;
	struct nt_endpoint ep;
	int err;

	c->udp = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->udp < 0)
		return fail(c, -errno, "UDP socket: %s", strerror(errno));
	if (!bind_s)
		return 0;
	err = nt_endpoint_parse(bind_s, &ep);
	if (!err)
		err = nt_endpoint_to_sockaddr(&ep, &ss, &sl);
	if (err)
		return fail(c, -EINVAL, "bad bind address '%s' (want IP:PORT)", bind_s);
	if (ss.ss_family != fam)
		return fail(c, -EAFNOSUPPORT, "bind address %s is not of the family of media %s",
			    bind_s, c->grant.media_str);
	if (bind(c->udp, (struct sockaddr *)&ss, (socklen_t)sl))
		return fail(c, -errno, "cannot bind UDP to %s: %s", bind_s, strerror(errno));
	return 0;
}

int nt_client_open(const struct nt_client_opts *o, struct nt_client **out)
{
	char host[256], port[8];
	struct nt_line_reply r;
	struct nt_client *c;
	int64_t deadline;
	int err;

	*out = c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tcp = c->udp = -1;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : TIMEOUT_DEFAULT_MS;
	nt_line_reader_init(&c->rd);
	if (!o->server || !o->ca_file || !o->token || !o->group)
		return fail(c, -EINVAL, "server, CA file, token and group are required");
	if (!nt_line_group_valid(o->group))
		return fail(c, -EINVAL, "bad group name '%s': 1-%d of A-Z a-z 0-9 . _ -",
			    o->group, NT_LINE_GROUP_MAX);
	if (!*o->token || strlen(o->token) > NT_TOKEN_MAX || strchr(o->token, ' '))
		return fail(c, -EINVAL, "malformed token");
	if (!o->cert_file != !o->key_file)
		return fail(c, -EINVAL, "a client certificate needs its key, and a key its certificate");
	if (split_server(o->server, host, sizeof(host), port, sizeof(port)))
		return fail(c, -EINVAL, "bad server '%s' (want HOST[:PORT] or [V6][:PORT])",
			    o->server);
	deadline = mono_ms() + c->timeout_ms;
	err = tcp_connect(c, host, port, deadline);
	if (!err)
		err = tls_setup(c, o, host, deadline);
	if (err)
		return err;
	err = command(c, NT_CMD_HELLO, NT_LINE_PROTO, &r);
	if (err)
		return err;
	err = command(c, NT_CMD_AUTH, o->token, &r);
	if (err)
		return err;
	copy_field(c->user, sizeof(c->user), nt_line_reply_get(&r, "user"));
	err = command(c, NT_CMD_JOIN, o->group, &r);
	if (err)
		return err;
	/* the grant parser works on the line: rebuild it from the parsed reply */
	{
		char line[NT_LINE_MAX + 2];
		int n = nt_line_fmt_ok(line, sizeof(line), NT_CMD_JOIN, r.kv, r.nkv);

		if (n < 0)
			return fail(c, -EPROTO, "cannot read the JOIN reply");
		line[n - 1] = '\0';
		err = nt_client_grant_parse(line, &c->grant);
		OPENSSL_cleanse(line, sizeof(line));
		OPENSSL_cleanse(&r, sizeof(r));
		if (err)
			return fail(c, -EPROTO, "malformed session grant from server (%s)",
				    strerror(-err));
	}
	c->joined = true;
	return udp_open(c, o->bind);
}

int nt_client_verify(struct nt_client *c, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	int wait_ms = 500, err = 0;
	char observed[NT_CLIENT_ADDRSTRLEN];

	if (!c->joined)
		return fail(c, -ENOTCONN, "not joined to a group");
	c->verified = c->denied = c->full = false;
	c->mapping[0] = '\0';
	c->in_verify = true;
	while (!err) {
		int64_t now = mono_ms(), until;

		if (now >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		err = nt_client_exchange(c->udp, &c->grant, (int)(deadline - now), observed,
					 sizeof(observed));
		if (err)
			break;
		/* the ANSWER is out: the verdict comes over TLS */
		until = mono_ms() + wait_ms;
		if (until > deadline)
			until = deadline;
		wait_ms *= 2;
		while (!c->verified && !c->denied) {
			struct nt_line_reply r;
			const char *line;
			size_t len;
			int rc = tls_read_line(c, until, &line, &len);

			if (rc <= 0) {
				err = rc;
				break;
			}
			rc = take_line(c, line, len, &r);
			if (rc < 0) {
				err = rc;
				break;
			}
		}
		if (c->verified || c->denied)
			break;
	}
	c->in_verify = false;
	if (c->verified)
		return 0;
	if (c->full || err == -EDQUOT)
		return fail(c, -EDQUOT, "the relay is at capacity: mapping quota reached (%s)",
			    err ? "UDP error 486" : "EVT DENIED reason=quota");
	if (c->denied || err == -EPERM)
		return fail(c, -EPERM, "the relay refuses our address (%s)",
			    err ? "UDP error 403" : "EVT DENIED");
	if (err == -ETIMEDOUT)
		return fail(c, err, "mapping not verified within %d ms (no CHALLENGE or no EVT VERIFIED from %s)",
			    timeout_ms, c->grant.media_str);
	if (err == -ENOENT)
		return fail(c, err, "the relay does not know our session");
	if (err == -ECONNRESET || err == -EPROTO)
		return err; /* message already set */
	return fail(c, err, "verification failed: %s", strerror(-err));
}

static void udp_drain(struct nt_client *c, const struct nt_client_callbacks *cb, void *arg)
{
	for (int i = 0; i < UDP_BURST; i++) {
		uint8_t buf[65536];
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct nt_endpoint a, b;
		struct nt_wire_msg m;
		ssize_t n = recvfrom(c->udp, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&ss, &sl);

		if (n < 0) {
			if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH)
				continue;
			return;
		}
		if (nt_endpoint_from_sockaddr((struct sockaddr *)&ss, &a) ||
		    nt_endpoint_from_sockaddr((struct sockaddr *)&c->grant.media, &b) ||
		    memcmp(&a, &b, sizeof(a)))
			continue; /* only the relay speaks to us */
		if (!nt_wire_is_control(buf, (size_t)n)) {
			if (cb && cb->media)
				cb->media(arg, buf, (size_t)n);
			continue;
		}
		if (!nt_wire_decode(buf, (size_t)n, &m, c->grant.key) &&
		    m.kind == NT_WIRE_ERROR && m.session_id == c->grant.session) {
			struct nt_client_event ev = { .kind = NT_CLIENT_EV_UDP_ERROR,
						      .code = m.error_code };

			copy_field(ev.reason, sizeof(ev.reason), m.reason);
			push_event(c, &ev);
		}
	}
}

static void deliver(struct nt_client *c, const struct nt_client_callbacks *cb, void *arg)
{
	while (c->evq_n) {
		struct nt_client_event ev = c->evq[c->evq_head];

		c->evq_head = (c->evq_head + 1) % EVQ_LEN;
		c->evq_n--;
		if (cb && cb->event)
			cb->event(arg, &ev);
	}
}

int nt_client_poll(struct nt_client *c, int timeout_ms, const struct nt_client_callbacks *cb,
		   void *arg)
{
	struct pollfd pfd[2] = { { .fd = c->udp, .events = POLLIN },
				 { .fd = c->closed ? -1 : c->tcp, .events = POLLIN } };
	int64_t now = mono_ms();
	int wait = timeout_ms;

	if (c->verified && c->joined && now >= c->ka_next) {
		nt_client_send_keepalive(c->udp, &c->grant, ++c->ka_seq);
		c->ka_next = now + ka_interval(c);
	}
	if (c->verified && c->joined && c->ka_next - now < wait)
		wait = (int)(c->ka_next - now);
	if (c->evq_n || c->in_off < c->in_len || (c->ssl && SSL_pending(c->ssl)))
		wait = 0;
	if (wait < 0)
		wait = 0;
	if (poll(pfd, 2, wait) < 0 && errno != EINTR)
		return -errno;
	if (pfd[0].revents)
		udp_drain(c, cb, arg);
	if (!c->closed) {
		/* non-blocking: take whatever complete lines are there */
		for (;;) {
			struct nt_line_reply r;
			const char *line;
			size_t len;
			int rc = tls_read_line(c, 0, &line, &len);

			if (rc <= 0) {
				if (rc == -ECONNRESET) {
					struct nt_client_event ev = { .kind = NT_CLIENT_EV_CLOSED };

					copy_field(ev.reason, sizeof(ev.reason), c->err);
					push_event(c, &ev);
				}
				break;
			}
			if (take_line(c, line, len, &r) == 1 && r.kind == NT_REPLY_ERR) {
				/* an ERR without a command: the server is about to close */
				c->err_code = r.code;
				fail(c, 0, "server: ERR %d %s", r.code, r.text ? r.text : "");
			}
		}
	}
	deliver(c, cb, arg);
	return c->closed ? -ECONNRESET : 0;
}

int nt_client_send_media(struct nt_client *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!len || (p[0] & 0xc0) != 0x80 || len > 65507)
		return -EINVAL;
	/* -ECONNREFUSED and the like: an ICMP error for an earlier datagram */
	if (sendto(c->udp, buf, len, 0, (struct sockaddr *)&c->grant.media, c->grant.media_len) < 0)
		return -errno;
	return 0;
}

int nt_client_leave(struct nt_client *c)
{
	struct nt_line_reply r;
	int err;

	if (!c->joined)
		return fail(c, -ENOTCONN, "not joined to a group");
	err = command(c, NT_CMD_LEAVE, NULL, &r);
	if (err)
		return err;
	c->joined = c->verified = false;
	c->mapping[0] = '\0';
	return 0;
}

void nt_client_close(struct nt_client *c)
{
	if (!c)
		return;
	if (c->tls_up && !c->closed) {
		struct nt_line_reply r;
		int t = c->timeout_ms;

		c->timeout_ms = 500; /* a courtesy, not worth a long wait */
		if (!command(c, NT_CMD_QUIT, NULL, &r))
			SSL_shutdown(c->ssl);
		c->timeout_ms = t;
	}
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->tcp >= 0)
		close(c->tcp);
	if (c->udp >= 0)
		close(c->udp);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

int nt_client_udp_fd(const struct nt_client *c)
{
	return c->udp;
}

int nt_client_tls_fd(const struct nt_client *c)
{
	return c->tcp;
}

const struct nt_client_grant *nt_client_grant(const struct nt_client *c)
{
	return &c->grant;
}

const char *nt_client_mapping(const struct nt_client *c)
{
	return c->mapping;
}

const char *nt_client_user(const struct nt_client *c)
{
	return c->user;
}

const char *nt_client_error(const struct nt_client *c)
{
	return c->err[0] ? c->err : "no error";
}

int nt_client_err_code(const struct nt_client *c)
{
	return c->err_code;
}
