// SPDX-License-Identifier: GPL-2.0
/*
 * The client library's non-blocking state machine (nt_client_start / fds /
 * next_timeout / process) against a fake relay on loopback: TLS with a
 * certificate made here, the control lines, PROBE / CHALLENGE / ANSWER and
 * keepalives. The relay is stepped by the test's own loop, one thread.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "nattrav_client.h"
#include "nt_client_priv.h"
#include "nt_endpoint.h"
#include "nt_wire.h"

struct relay {
	SSL_CTX *ctx;
	int lfd, udp, cfd;
	SSL *ssl;
	bool tls_up;
	char in[4096];
	size_t in_len;
	struct sockaddr_in media, ctl;
	char ca_path[64];

	uint64_t session;
	uint8_t key[NT_WIRE_KEY_LEN];
	char group[65], ticket[32];
	uint8_t chal[32];
	bool have_mapping;
	struct nt_endpoint mapping;
	bool resume_forgets;	/* RESUME answers mapping=none */
	const char *auth_err;	/* ERR line for AUTH */
	char last_token[NT_TOKEN_MAX + 1];

	int conns, hellos, auths, joins, resumes, leaves, probes, answers, keepalives, stale;
};

static struct relay R;

static void relay_send(struct relay *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void relay_send(struct relay *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r->ssl && r->tls_up)
		SSL_write(r->ssl, buf, n); /* loopback, small: goes at once */
}

static void make_cert(struct relay *r)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;
	X509_EXTENSION *e;
	FILE *f;
	int fd;

	cr_assert(pk && x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fake relay", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	cr_assert(X509_sign(x, pk, EVP_sha256()) > 0);
	strcpy(r->ca_path, "/tmp/nt-client-nb-ca-XXXXXX");
	fd = mkstemp(r->ca_path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	PEM_write_X509(f, x);
	fclose(f);
	r->ctx = SSL_CTX_new(TLS_server_method());
	cr_assert_eq(SSL_CTX_use_certificate(r->ctx, x), 1);
	cr_assert_eq(SSL_CTX_use_PrivateKey(r->ctx, pk), 1);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static int bound(int type, struct sockaddr_in *sin)
{
	socklen_t sl = sizeof(*sin);
	int fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)sin, &sl), 0);
	return fd;
}

static void relay_init(void)
{
	memset(&R, 0, sizeof(R));
	make_cert(&R);
	R.lfd = bound(SOCK_STREAM, &R.ctl);
	cr_assert_eq(listen(R.lfd, 4), 0);
	R.udp = bound(SOCK_DGRAM, &R.media);
	R.cfd = -1;
	nt_wire_random(R.chal, sizeof(R.chal));
}

/* The connection goes away: reset (RST, as a crashed relay) or closed without close_notify. */
static void relay_drop(struct relay *r, bool rst)
{
	if (r->cfd < 0)
		return;
	if (rst) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(r->cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	SSL_free(r->ssl);
	r->ssl = NULL;
	close(r->cfd);
	r->cfd = -1;
	r->tls_up = false;
	r->in_len = 0;
}

static void relay_fini(void)
{
	relay_drop(&R, false);
	close(R.lfd);
	close(R.udp);
	SSL_CTX_free(R.ctx);
	unlink(R.ca_path);
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void mapping_str(const struct relay *r, char *buf)
{
	if (r->have_mapping)
		nt_endpoint_format(&r->mapping, buf, NT_ENDPOINT_STRLEN);
	else
		strcpy(buf, "none");
}

static void relay_line(struct relay *r, char *line)
{
	char k[2 * NT_WIRE_KEY_LEN + 1], m[NT_ENDPOINT_STRLEN];
	unsigned int port = ntohs(r->media.sin_port);

	if (!strncmp(line, "HELLO ", 6)) {
		r->hellos++;
		relay_send(r, "OK HELLO proto=nattrav/1\n");
	} else if (!strncmp(line, "AUTH ", 5)) {
		r->auths++;
		snprintf(r->last_token, sizeof(r->last_token), "%s", line + 5);
		if (r->auth_err)
			relay_send(r, "%s\n", r->auth_err);
		else
			relay_send(r, "OK AUTH user=alice expires=%lld\n", atoll(line + 5));
	} else if (!strncmp(line, "JOIN ", 5)) {
		r->joins++;
		snprintf(r->group, sizeof(r->group), "%s", line + 5);
		nt_wire_random(&r->session, sizeof(r->session));
		nt_wire_random(r->key, sizeof(r->key));
		r->have_mapping = false;
		snprintf(r->ticket, sizeof(r->ticket), "tkt%d", r->joins);
		hex(k, r->key, sizeof(r->key));
		relay_send(r, "OK JOIN session=%016llx key=%s media=127.0.0.1:%u group=%s consent=3 keepalive=1\n",
			   (unsigned long long)r->session, k, port, r->group);
		relay_send(r, "EVT TICKET session=%016llx ticket=%s\n", (unsigned long long)r->session,
			   r->ticket);
	} else if (!strncmp(line, "RESUME ", 7)) {
		r->resumes++;
		if (strcmp(line + 7, r->ticket)) {
			relay_send(r, "ERR 403 ticket not valid\n");
			return;
		}
		if (r->resume_forgets)
			r->have_mapping = false;
		mapping_str(r, m);
		relay_send(r, "OK RESUME session=%016llx user=alice group=%s media=127.0.0.1:%u consent=3 keepalive=1 expires=0 mapping=%s\n",
			   (unsigned long long)r->session, r->group, port, m);
	} else if (!strcmp(line, "LEAVE")) {
		r->leaves++;
		r->have_mapping = false;
		relay_send(r, "OK LEAVE session=%016llx\n", (unsigned long long)r->session);
	} else if (!strcmp(line, "QUIT")) {
		relay_send(r, "OK QUIT\n");
		relay_drop(r, false);
	}
}

static void relay_udp(struct relay *r)
{
	for (;;) {
		uint8_t buf[NT_WIRE_MAX];
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct nt_wire_msg q, a = { .session_id = r->session };
		struct nt_endpoint src;
		char m[NT_ENDPOINT_STRLEN];
		ssize_t n = recvfrom(r->udp, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);
		int len;

		if (n <= 0)
			return;
		if (nt_wire_decode(buf, (size_t)n, &q, r->key) || q.session_id != r->session)
			continue;
		nt_endpoint_from_sockaddr((struct sockaddr *)&ss, &src);
		memcpy(a.tid, q.tid, sizeof(a.tid));
		if (q.kind == NT_WIRE_PROBE) {
			r->probes++;
			a.kind = NT_WIRE_CHALLENGE;
			memcpy(a.challenge, r->chal, sizeof(r->chal));
			a.challenge_len = sizeof(r->chal);
			a.mapped = src;
			a.lifetime_ms = 5000;
		} else if (q.kind == NT_WIRE_ANSWER) {
			if (q.challenge_len != sizeof(r->chal) || memcmp(q.challenge, r->chal, sizeof(r->chal)))
				continue;
			r->answers++;
			r->have_mapping = true;
			r->mapping = src;
			mapping_str(r, m);
			relay_send(r, "EVT VERIFIED session=%016llx mapping=%s\n",
				   (unsigned long long)r->session, m);
			continue;
		} else if (q.kind == NT_WIRE_KEEPALIVE) {
			r->keepalives++;
			if (r->have_mapping && !memcmp(&src, &r->mapping, sizeof(src)))
				continue;
			/* from a source not verified: the NAT rebound, as nattravd answers it */
			r->stale++;
			a.kind = NT_WIRE_ERROR;
			a.error_method = NT_WIRE_METHOD_KEEPALIVE;
			a.error_code = NT_WIRE_ERR_STALE_CHALLENGE;
			strcpy(a.reason, "mapping not verified, probe again");
		} else {
			continue;
		}
		len = nt_wire_build(buf, sizeof(buf), &a, r->key, true);
		if (len > 0)
			sendto(r->udp, buf, (size_t)len, 0, (struct sockaddr *)&ss, sl);
	}
}

static void relay_step(struct relay *r)
{
	if (r->cfd < 0) {
		r->cfd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK);
		if (r->cfd < 0)
			goto udp;
		r->conns++;
		r->ssl = SSL_new(r->ctx);
		SSL_set_fd(r->ssl, r->cfd);
		SSL_set_accept_state(r->ssl);
	}
	if (!r->tls_up) {
		int rc = SSL_accept(r->ssl);

		if (rc == 1)
			r->tls_up = true;
		else if (SSL_get_error(r->ssl, rc) != SSL_ERROR_WANT_READ &&
			 SSL_get_error(r->ssl, rc) != SSL_ERROR_WANT_WRITE)
			relay_drop(r, false);
	}
	while (r->tls_up) {
		int n = SSL_read(r->ssl, r->in + r->in_len, (int)(sizeof(r->in) - r->in_len - 1));
		char *nl;

		if (n <= 0) {
			int e = SSL_get_error(r->ssl, n);

			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				relay_drop(r, false);
			break;
		}
		r->in_len += (size_t)n;
		r->in[r->in_len] = '\0';
		while (r->tls_up && (nl = strchr(r->in, '\n'))) {
			*nl = '\0';
			if (nl > r->in && nl[-1] == '\r')
				nl[-1] = '\0';
			relay_line(r, r->in);
			if (!r->tls_up)
				break;
			r->in_len -= (size_t)(nl + 1 - r->in);
			memmove(r->in, nl + 1, r->in_len + 1);
		}
	}
udp:
	relay_udp(r);
}

/* ---- the client side: events recorded, the loop the application would run ---- */

struct rec {
	enum nt_client_event_kind kinds[64];
	char reasons[64][128];
	char mappings[64][NT_CLIENT_ADDRSTRLEN];
	int n;
	int media;
};

static void on_event(void *arg, const struct nt_client_event *ev)
{
	struct rec *r = arg;

	if (r->n < 64) {
		r->kinds[r->n] = ev->kind;
		snprintf(r->reasons[r->n], sizeof(r->reasons[0]), "%s", ev->reason);
		snprintf(r->mappings[r->n], sizeof(r->mappings[0]), "%s", ev->mapping);
		r->n++;
	}
}

static int count(const struct rec *r, enum nt_client_event_kind k)
{
	int n = 0;

	for (int i = 0; i < r->n; i++)
		n += r->kinds[i] == k;
	return n;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The application's loop: wait on what nt_client_fds asks (and the relay's
 * sockets) no longer than nt_client_next_timeout, then step both. Returns
 * the last nt_client_process result once done(c) holds or after ms.
 */
static int pump(struct nt_client *c, struct rec *rec, bool (*done)(struct nt_client *, struct rec *),
		int ms)
{
	const struct nt_client_callbacks cb = { .event = on_event };
	int64_t end = mono_ms() + ms;
	int rc = 0;

	while (mono_ms() < end && !(done && done(c, rec))) {
		struct pollfd pfd[5] = { { .fd = R.lfd, .events = POLLIN },
					 { .fd = R.udp, .events = POLLIN },
					 { .fd = R.cfd, .events = POLLIN } };
		int n = nt_client_fds(c, pfd + 3, 2), t = nt_client_next_timeout(c);

		cr_assert_leq(n, 2);
		for (int i = 0; i < n; i++)
			cr_assert(pfd[3 + i].events & (POLLIN | POLLOUT));
		if (t < 0 || t > 20)
			t = 20; /* the relay's side has no timers of its own */
		poll(pfd, (nfds_t)(3 + n), t);
		relay_step(&R);
		rc = nt_client_process(c, &cb, rec);
		if (rc)
			break;
	}
	return rc;
}

static bool verified(struct nt_client *c, struct rec *r)
{
	return count(r, NT_CLIENT_EV_VERIFIED) > 0;
}

static struct nt_client_opts opts(const char *token)
{
	static char server[32];

	snprintf(server, sizeof(server), "127.0.0.1:%u", ntohs(R.ctl.sin_port));
	return (struct nt_client_opts){ .sz = sizeof(struct nt_client_opts),
					.server = server, .ca_file = R.ca_path, .token = token,
					.group = "room1", .timeout_ms = 2000 };
}

#define TOKEN "4000000000:alice:bWFj"

/* Start, and run until the mapping is verified. */
static struct nt_client *up(struct nt_client_opts o, struct rec *rec)
{
	struct nt_client *c;
	char want[NT_ENDPOINT_STRLEN];
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	cr_assert_eq(nt_client_start(&o, &c), 0, "%s", c ? nt_client_error(c) : "");
	cr_assert_eq(pump(c, rec, verified, 5000), 0, "%s", nt_client_error(c));
	cr_assert_eq(count(rec, NT_CLIENT_EV_JOINED), 1);
	cr_assert_eq(count(rec, NT_CLIENT_EV_VERIFIED), 1, "%s", nt_client_error(c));
	for (int i = 0; i < rec->n && rec->kinds[i] != NT_CLIENT_EV_JOINED; i++)
		cr_assert_neq(rec->kinds[i], NT_CLIENT_EV_VERIFIED, "JOINED comes before VERIFIED");
	getsockname(nt_client_udp_fd(c), (struct sockaddr *)&sin, &sl);
	snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(sin.sin_port));
	cr_assert_str_eq(nt_client_mapping(c), want);
	return c;
}

TestSuite(client_nb, .init = relay_init, .fini = relay_fini, .timeout = 30);

Test(client_nb, start_returns_before_anything_is_done)
{
	struct nt_client_opts o = opts(TOKEN);
	struct nt_client *c;
	struct pollfd pfd[2];

	cr_assert_eq(nt_client_start(&o, &c), 0);
	/* the relay has not even accepted: start cannot have waited for it */
	cr_assert_eq(R.conns, 0);
	cr_assert_not(nt_client_joined(c));
	/* on loopback the connect may be done already: then TLS waits for the ServerHello */
	cr_assert_eq(nt_client_fds(c, pfd, 2), 1, "only the TCP socket");
	cr_assert(pfd[0].events & (POLLIN | POLLOUT));
	cr_assert_eq(pfd[0].fd, nt_client_tls_fd(c));
	cr_assert_geq(nt_client_next_timeout(c), 0, "the connect deadline is a timer");
	nt_client_close(c);
}

Test(client_nb, join_and_verify_from_the_loop)
{
	struct rec rec = { 0 };
	struct nt_client *c = up(opts(TOKEN), &rec);
	struct pollfd pfd[2];

	cr_assert_eq(R.hellos, 1);
	cr_assert_eq(R.auths, 1);
	cr_assert_eq(R.joins, 1);
	cr_assert_eq(R.answers, 1);
	cr_assert(nt_client_joined(c));
	cr_assert_eq(nt_client_fds(c, pfd, 2), 2, "UDP and TLS");
	cr_assert_eq(pfd[0].fd, nt_client_udp_fd(c));
	/* verified: keepalives are a timer now, and they reach the relay */
	cr_assert_geq(nt_client_next_timeout(c), 0);
	pump(c, &rec, NULL, 1500);
	cr_assert_geq(R.keepalives, 1);
	cr_assert_eq(R.stale, 0);
	nt_client_close(c);
}

static bool reconnected(struct nt_client *c, struct rec *r)
{
	return count(r, NT_CLIENT_EV_RECONNECTED) > 0;
}

Test(client_nb, resumes_after_a_reset)
{
	struct rec rec = { 0 };
	struct nt_client *c = up(opts(TOKEN), &rec);
	char before[NT_CLIENT_ADDRSTRLEN];
	uint64_t sid = nt_client_grant(c)->session;

	snprintf(before, sizeof(before), "%s", nt_client_mapping(c));
	relay_drop(&R, true);
	cr_assert_eq(pump(c, &rec, reconnected, 5000), 0, "%s", nt_client_error(c));
	cr_assert_eq(count(&rec, NT_CLIENT_EV_RECONNECTED), 1);
	cr_assert_str_eq(rec.reasons[rec.n - 1], "resumed");
	cr_assert_str_eq(rec.mappings[rec.n - 1], before, "the relay kept the mapping");
	cr_assert_eq(R.conns, 2);
	cr_assert_eq(R.resumes, 1);
	cr_assert_eq(R.auths, 1, "the ticket, not the token");
	cr_assert_eq(R.probes, 1, "nothing to prove again");
	cr_assert_eq(nt_client_grant(c)->session, sid);
	nt_client_close(c);
}

static bool verified_twice(struct nt_client *c, struct rec *r)
{
	return count(r, NT_CLIENT_EV_VERIFIED) >= 2 || count(r, NT_CLIENT_EV_RECONNECTED) > 0;
}

Test(client_nb, resumed_without_mapping_verifies_again)
{
	struct rec rec = { 0 };
	struct nt_client *c = up(opts(TOKEN), &rec);

	R.resume_forgets = true;
	relay_drop(&R, true);
	cr_assert_eq(pump(c, &rec, reconnected, 5000), 0, "%s", nt_client_error(c));
	cr_assert_str_eq(rec.reasons[rec.n - 1], "resumed");
	cr_assert_str_eq(rec.mappings[rec.n - 1], nt_client_mapping(c));
	cr_assert_neq(nt_client_mapping(c)[0], '\0', "RECONNECTED after the mapping was proven");
	cr_assert_eq(R.answers, 2);
	nt_client_close(c);
}

Test(client_nb, rebinding_verified_again_without_the_application)
{
	struct rec rec = { 0 };
	struct nt_client *c = up(opts(TOKEN), &rec);

	/* the relay now holds another source for us: our keepalives come from a "new" one */
	R.mapping.port ^= 0x1234;
	cr_assert_eq(pump(c, &rec, verified_twice, 5000), 0, "%s", nt_client_error(c));
	cr_assert_geq(R.stale, 1, "the relay told the client with a signed 438");
	cr_assert_eq(count(&rec, NT_CLIENT_EV_VERIFIED), 2);
	cr_assert_eq(R.answers, 2);
	cr_assert_eq(R.conns, 1, "UDP only: the TLS connection stayed");
	cr_assert_str_neq(nt_client_mapping(c), "");
	nt_client_close(c);
}

Test(client_nb, no_auto_verify_leaves_it_to_the_application)
{
	struct rec rec = { 0 };
	struct nt_client_opts o = opts(TOKEN);
	struct nt_client *c;

	o.no_auto_verify = true;
	cr_assert_eq(nt_client_start(&o, &c), 0);
	pump(c, &rec, NULL, 1000);
	cr_assert_eq(count(&rec, NT_CLIENT_EV_JOINED), 1);
	cr_assert_eq(R.probes, 0);
	cr_assert_eq(nt_client_verify_start(c, 3000), 0);
	cr_assert_eq(pump(c, &rec, verified, 3000), 0);
	cr_assert_eq(count(&rec, NT_CLIENT_EV_VERIFIED), 1);
	nt_client_close(c);
}

Test(client_nb, reset_relay_does_not_raise_sigpipe)
{
	struct rec rec = { 0 };
	struct nt_client_opts o = opts(TOKEN);
	struct nt_client *c;
	BIO *b;

	signal(SIGPIPE, SIG_DFL);
	o.no_reconnect = true;
	c = up(o, &rec);
	relay_drop(&R, true);
	usleep(100 * 1000);
	/*
	 * Straight at the client's TLS socket BIO: the first write after the
	 * RST gets ECONNRESET, the second EPIPE, which write(2) turns into
	 * SIGPIPE (death at default disposition) and send(MSG_NOSIGNAL) not.
	 */
	b = SSL_get_wbio(c->ssl);
	cr_assert_not_null(b);
	cr_assert_lt(BIO_write(b, "x", 1), 0);
	cr_assert_lt(BIO_write(b, "x", 1), 0);
	cr_assert_eq(errno, EPIPE);
	/* and through the API: LEAVE on the dead connection */
	nt_client_leave_start(c);
	cr_assert_eq(pump(c, &rec, NULL, 2000), -ECONNRESET);
	cr_assert_eq(count(&rec, NT_CLIENT_EV_CLOSED), 1);
	cr_assert_eq(nt_client_process(c, NULL, NULL), -ECONNRESET, "ended for good");
	cr_assert_eq(nt_client_next_timeout(c), -1);
	nt_client_close(c);
}

Test(client_nb, refused_start_ends_with_its_error)
{
	struct rec rec = { 0 };
	struct nt_client_opts o = opts(TOKEN);
	struct nt_client *c;

	R.auth_err = "ERR 403 token not valid";
	cr_assert_eq(nt_client_start(&o, &c), 0);
	cr_assert_eq(pump(c, &rec, NULL, 3000), -EACCES);
	cr_assert_eq(count(&rec, NT_CLIENT_EV_CLOSED), 1);
	cr_assert_eq(nt_client_err_code(c), 403);
	cr_assert(strstr(nt_client_error(c), "token not valid"), "%s", nt_client_error(c));
	nt_client_close(c);
}

static int refreshes;

static int refresh(void *arg, char *buf, size_t cap)
{
	refreshes++;
	snprintf(buf, cap, "%lld:alice:bmV3", (long long)time(NULL) + 3600);
	return 0;
}

Test(client_nb, expiring_token_refreshed_before_auth)
{
	struct rec rec = { 0 };
	char tok[64];
	struct nt_client_opts o;
	struct nt_client *c;

	snprintf(tok, sizeof(tok), "%lld:alice:b2xk", (long long)time(NULL) + 20);
	o = opts(tok);
	o.token_refresh = refresh;
	refreshes = 0;
	c = up(o, &rec);
	cr_assert_eq(refreshes, 1);
	cr_assert_eq(R.auths, 1);
	cr_assert(strstr(R.last_token, ":alice:bmV3"), "AUTH used the fresh token: %s", R.last_token);
	cr_assert_eq(count(&rec, NT_CLIENT_EV_TOKEN_REFRESHED), 1);
	nt_client_close(c);
}

static bool authed_twice(struct nt_client *c, struct rec *r)
{
	return R.auths >= 2;
}

Test(client_nb, token_refreshed_while_connected)
{
	struct rec rec = { 0 };
	char tok[64];
	struct nt_client_opts o;
	struct nt_client *c;

	/* expires in 62 s: within the 60 s margin about two seconds from now */
	snprintf(tok, sizeof(tok), "%lld:alice:b2xk", (long long)time(NULL) + 62);
	o = opts(tok);
	o.token_refresh = refresh;
	refreshes = 0;
	c = up(o, &rec);
	cr_assert_eq(R.auths, 1);
	cr_assert(strstr(R.last_token, ":alice:b2xk"), "not due yet at the first AUTH");
	cr_assert_eq(pump(c, &rec, authed_twice, 10000), 0);
	cr_assert_eq(R.auths, 2, "AUTH again on the same connection");
	cr_assert_eq(R.conns, 1);
	cr_assert(strstr(R.last_token, ":alice:bmV3"));
	cr_assert_eq(refreshes, 1);
	nt_client_close(c);
}

Test(client_nb, blocking_calls_run_the_same_machine)
{
	struct nt_client_opts o = opts(TOKEN);
	struct nt_client *c = NULL;
	struct rec rec = { 0 };
	const struct nt_client_callbacks cb = { .event = on_event };
	int err;

	/* the relay runs on this thread: step it from a child process instead */
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (int64_t end = mono_ms() + 4000; mono_ms() < end;) {
			struct pollfd pfd[3] = { { .fd = R.lfd, .events = POLLIN },
						 { .fd = R.udp, .events = POLLIN },
						 { .fd = R.cfd, .events = POLLIN } };

			poll(pfd, 3, 20);
			relay_step(&R);
		}
		_exit(0);
	}
	err = nt_client_open(&o, &c);
	cr_assert_eq(err, 0, "%s", nt_client_error(c));
	cr_assert(nt_client_joined(c));
	cr_assert_eq(nt_client_verify(c, 3000), 0, "%s", nt_client_error(c));
	cr_assert_neq(nt_client_mapping(c)[0], '\0');
	cr_assert_eq(nt_client_leave(c), 0, "%s", nt_client_error(c));
	cr_assert_not(nt_client_joined(c));
	cr_assert_eq(nt_client_poll(c, 10, &cb, &rec), 0);
	/* open reports JOINED too (same machine); verify and leave report by return */
	cr_assert_eq(count(&rec, NT_CLIENT_EV_JOINED), 1);
	cr_assert_eq(count(&rec, NT_CLIENT_EV_VERIFIED), 0);
	nt_client_close(c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
