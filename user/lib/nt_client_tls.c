// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The client's control connection: TCP connect with a deadline, TLS with the
 * server verified (versions and ciphers of nt_tls_policy.h), lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "nt_client_priv.h"
#include "nt_tls_policy.h"

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
int ntc_split_server(const char *s, char *host, size_t hlen, char *port, size_t plen)
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
		now = ntc_mono_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)(deadline - now));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

int ntc_tcp_connect(struct nt_client *c, const char *host, const char *port, int64_t deadline)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res, *ai;
	int rc, err = -EHOSTUNREACH;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc)
		return ntc_fail(c, -EHOSTUNREACH, "cannot resolve %s: %s", host, gai_strerror(rc));
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
		return ntc_fail(c, err, "cannot connect to %s port %s: %s", host, port, strerror(-err));
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

/*
 * The relay's TLS 1.3 ticket, kept for a reconnection to resume with
 * (no certificate check and signature, a fresh ECDHE still). A copy: the
 * connection's own session is marked spent when it ends without a
 * close_notify, as a reset connection does, and that is when a client
 * reconnects.
 */
static int keep_session(SSL *ssl, SSL_SESSION *s)
{
	struct nt_client *c = SSL_get_app_data(ssl);
	SSL_SESSION *dup = SSL_SESSION_dup(s);

	if (c && dup) {
		SSL_SESSION_free(c->tls_sess);
		c->tls_sess = dup;
	} else {
		SSL_SESSION_free(dup);
	}
	return 0; /* the library keeps its reference */
}

int ntc_tls_setup(struct nt_client *c, const struct nt_client_opts *o, const char *host,
		     int64_t deadline)
{
	char eb[200];
	struct in6_addr a6;
	bool ip = inet_pton(AF_INET, host, &a6) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
	int rc;

	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		return ntc_fail(c, -ENOMEM, "TLS: %s", ssl_errstr(eb, sizeof(eb)));
	if (nt_tls_policy(c->ctx))
		return ntc_fail(c, -EINVAL, "TLS: this OpenSSL refuses the TLS policy: %s",
				ssl_errstr(eb, sizeof(eb)));
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL) != 1)
		return ntc_fail(c, -EINVAL, "cannot load CA file %s: %s", o->ca_file,
			    ssl_errstr(eb, sizeof(eb)));
	if (o->cert_file) {
		if (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert_file) != 1)
			return ntc_fail(c, -EINVAL, "cannot load certificate %s: %s", o->cert_file,
				    ssl_errstr(eb, sizeof(eb)));
		if (SSL_CTX_use_PrivateKey_file(c->ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(c->ctx) != 1)
			return ntc_fail(c, -EINVAL, "cannot load key %s: %s", o->key_file,
				    ssl_errstr(eb, sizeof(eb)));
	}
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(c->ctx, keep_session);
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->tcp) != 1)
		return ntc_fail(c, -ENOMEM, "TLS: %s", ssl_errstr(eb, sizeof(eb)));
	SSL_set_app_data(c->ssl, c);
	/* a reconnection (the same server): resume when the ticket is still good */
	if (c->tls_sess && SSL_set_session(c->ssl, c->tls_sess) != 1)
		ERR_clear_error();
	if (ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1)
			return ntc_fail(c, -EINVAL, "TLS: bad IP %s", host);
	} else if (SSL_set1_host(c->ssl, host) != 1 ||
		   SSL_set_tlsext_host_name(c->ssl, host) != 1) {
		return ntc_fail(c, -EINVAL, "TLS: bad host name %s", host);
	}
	while ((rc = SSL_connect(c->ssl)) != 1) {
		int w = ssl_wait(c, rc, deadline);

		if (w == 1)
			continue;
		if (w == -ETIMEDOUT)
			return ntc_fail(c, w, "TLS handshake with %s timed out", host);
		if (SSL_get_verify_result(c->ssl) != X509_V_OK)
			return ntc_fail(c, -EPROTO, "TLS: server certificate of %s refused: %s", host,
				    X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
		return ntc_fail(c, -EPROTO, "TLS handshake with %s failed: %s", host,
			    ssl_errstr(eb, sizeof(eb)));
	}
	c->tls_up = true;
	return 0;
}

int ntc_tls_write(struct nt_client *c, const char *buf, size_t len)
{
	int64_t deadline = ntc_mono_ms() + c->timeout_ms;
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
		return ntc_fail(c, w == -ETIMEDOUT ? w : -ECONNRESET, "TLS write failed: %s",
			    w == -ETIMEDOUT ? "timed out" : ssl_errstr(eb, sizeof(eb)));
	}
	return 0;
}

/*
 * Next line from the server by deadline (mono ms; now = do not wait).
 * 1 with the line, 0 when none yet, -ECONNRESET when the server closed.
 */
int ntc_tls_read_line(struct nt_client *c, int64_t deadline, const char **line, size_t *len)
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
			return ntc_fail(c, -ECONNRESET, "server closed the connection");
		default:
			c->closed = true;
			return ntc_fail(c, -ECONNRESET, "connection lost: %s",
				    ssl_errstr(eb, sizeof(eb)));
		}
	}
}
