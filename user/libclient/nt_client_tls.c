// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The client's control connection, each step non-blocking: TCP connect, TLS
 * with the server verified (versions and ciphers of nt_tls_policy.h), lines;
 * every write with MSG_NOSIGNAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
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

/*
 * A socket BIO of our own: OpenSSL's writes with write(2), which raises
 * SIGPIPE when the relay has reset the connection. send(MSG_NOSIGNAL)
 * gets EPIPE instead, whatever the application does with the signal.
 */
static int nsb_write(BIO *b, const char *buf, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_write(b);
		return -1;
	}
	return (int)n;
}

static int nsb_read(BIO *b, char *buf, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = recv(fd, buf, (size_t)len, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_read(b);
		return -1;
	}
	return (int)n;
}

static long nsb_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	int fd = (int)(intptr_t)BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_C_GET_FD:
		if (ptr)
			*(int *)ptr = fd;
		return fd;
	default:
		return 0;
	}
}

/* The method is the client's own (freed with it): no state shared between clients. */
static BIO *nosig_bio(struct nt_client *c)
{
	BIO *b;

	if (!c->bio_meth) {
		c->bio_meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
					   BIO_TYPE_DESCRIPTOR, "nattrav socket");
		if (!c->bio_meth || BIO_meth_set_write(c->bio_meth, nsb_write) != 1 ||
		    BIO_meth_set_read(c->bio_meth, nsb_read) != 1 ||
		    BIO_meth_set_ctrl(c->bio_meth, nsb_ctrl) != 1)
			return NULL;
	}
	b = BIO_new(c->bio_meth);
	if (!b)
		return NULL;
	BIO_set_data(b, (void *)(intptr_t)c->tcp);
	BIO_set_init(b, 1);
	return b;
}

int ntc_resolve(struct nt_client *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	int rc;

	freeaddrinfo(c->ai_res);
	c->ai_res = c->ai_cur = NULL;
	rc = getaddrinfo(c->host, c->port, &hints, &c->ai_res);
	if (rc) {
		c->ai_res = NULL;
		return ntc_fail(c, -EHOSTUNREACH, "cannot resolve %s: %s", c->host,
				gai_strerror(rc));
	}
	c->ai_cur = c->ai_res;
	c->conn_err = -EHOSTUNREACH;
	return 0;
}

static void next_addr(struct nt_client *c, int err)
{
	c->conn_err = err;
	if (c->tcp >= 0)
		close(c->tcp);
	c->tcp = -1;
	c->ai_cur = c->ai_cur->ai_next;
}

int ntc_tcp_step(struct nt_client *c)
{
	for (;;) {
		struct addrinfo *ai = c->ai_cur;
		struct pollfd pfd;
		socklen_t sl = sizeof(int);
		int soerr = 0;

		if (!ai) {
			int err = c->conn_err;

			freeaddrinfo(c->ai_res);
			c->ai_res = NULL;
			return ntc_fail(c, err, "cannot connect to %s port %s: %s", c->host, c->port,
					strerror(-err));
		}
		if (c->tcp < 0) {
			c->tcp = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
					ai->ai_protocol);
			if (c->tcp < 0) {
				next_addr(c, -errno);
				continue;
			}
			if (connect(c->tcp, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
				next_addr(c, -errno);
				continue;
			}
		}
		pfd = (struct pollfd){ .fd = c->tcp, .events = POLLOUT };
		if (poll(&pfd, 1, 0) == 0)
			return 0; /* still connecting */
		if (getsockopt(c->tcp, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr) {
			next_addr(c, soerr ? -soerr : -errno);
			continue;
		}
		freeaddrinfo(c->ai_res);
		c->ai_res = c->ai_cur = NULL;
		return 1;
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

int ntc_tls_begin(struct nt_client *c)
{
	const struct nt_client_opts *o = &c->opts;
	const char *host = c->host;
	char eb[200];
	struct in6_addr a6;
	bool ip = inet_pton(AF_INET, host, &a6) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
	BIO *bio;

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
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	c->ssl = SSL_new(c->ctx);
	bio = c->ssl ? nosig_bio(c) : NULL;
	if (!bio)
		return ntc_fail(c, -ENOMEM, "TLS: %s", ssl_errstr(eb, sizeof(eb)));
	SSL_set_bio(c->ssl, bio, bio);
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
	return 0;
}

int ntc_tls_step(struct nt_client *c)
{
	char eb[200];
	int rc = SSL_connect(c->ssl);

	if (rc == 1) {
		c->tls_up = true;
		c->ssl_want = POLLIN;
		return 1;
	}
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		c->ssl_want = POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->ssl_want = POLLOUT;
		return 0;
	default:
		break;
	}
	if (SSL_get_verify_result(c->ssl) != X509_V_OK)
		return ntc_fail(c, -EPROTO, "TLS: server certificate of %s refused: %s", c->host,
				X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
	return ntc_fail(c, -EPROTO, "TLS handshake with %s failed: %s", c->host,
			ssl_errstr(eb, sizeof(eb)));
}

int ntc_tls_flush(struct nt_client *c)
{
	char eb[200];

	while (c->out_off < c->out_len) {
		int rc = SSL_write(c->ssl, c->out + c->out_off, (int)(c->out_len - c->out_off));

		if (rc > 0) {
			c->out_off += (size_t)rc;
			continue;
		}
		switch (SSL_get_error(c->ssl, rc)) {
		case SSL_ERROR_WANT_WRITE:
			c->ssl_want = POLLOUT;
			return 0;
		case SSL_ERROR_WANT_READ:
			c->ssl_want = POLLIN;
			return 0;
		default:
			c->closed = true;
			return ntc_fail(c, -ECONNRESET, "TLS write failed: %s",
					ssl_errstr(eb, sizeof(eb)));
		}
	}
	c->out_off = c->out_len = 0;
	c->ssl_want = POLLIN;
	return 1;
}

/* Next line from the server, not waiting: 1 with the line, 0 none yet, -ECONNRESET. */
int ntc_tls_read_line(struct nt_client *c, const char **line, size_t *len)
{
	char eb[200];

	if (c->closed || !c->ssl)
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
			if (!c->out_len)
				c->ssl_want = POLLIN;
			return 0;
		case SSL_ERROR_WANT_WRITE:
			c->ssl_want = POLLOUT;
			return 0;
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

void ntc_tls_drop(struct nt_client *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	SSL_CTX_free(c->ctx);
	c->ctx = NULL;
	if (c->tcp >= 0)
		close(c->tcp);
	c->tcp = -1;
	freeaddrinfo(c->ai_res);
	c->ai_res = c->ai_cur = NULL;
	c->tls_up = false;
	c->ssl_want = 0;
	nt_line_reader_init(&c->rd);
	c->in_off = c->in_len = 0;
	c->out_off = c->out_len = 0;
}
