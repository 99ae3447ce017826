// SPDX-License-Identifier: GPL-2.0
/*
 * nattrav client: the session over the control channel (HELLO, AUTH, JOIN,
 * events, keepalives, media). The connection itself is in nt_client_tls.c,
 * the UDP exchange in nt_client_udp.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include "nattrav_client.h"
#include "nt_endpoint.h"
#include "nt_line.h"
#include "nt_redirect.h"
#include "nt_token.h"
#include "nt_wire.h"

#include "nt_client_priv.h"

int64_t ntc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ntc_fail(struct nt_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return err;
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
				c->ka_next = ntc_mono_ms() + ka_interval(c);
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
		if (ours && !strcmp(ev.reason, "unreachable"))
			c->unreachable = true;
	} else if (!strcmp(r->word, "BYE")) {
		ev.kind = NT_CLIENT_EV_BYE;
		/* the operator or the token ended it: resuming would be refused or wrong */
		if (!strcmp(ev.reason, "admin") || !strcmp(ev.reason, "token-expired"))
			c->gone = true;
	} else if (!strcmp(r->word, "TICKET")) {
		/* a credential: kept, never handed to the application's event log */
		if (ours)
			copy_field(c->ticket, sizeof(c->ticket), nt_line_reply_get(r, "ticket"));
		OPENSSL_cleanse(&ev, sizeof(ev));
		return;
	}
	push_event(c, &ev);
}

/* Handle one server line: 1 for OK / ERR (in *r), 0 for an event. */
static int take_line(struct nt_client *c, const char *line, size_t len, struct nt_line_reply *r)
{
	if (nt_line_parse_reply(line, len, r))
		return ntc_fail(c, -EPROTO, "malformed line from server: %.80s", line);
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
	int64_t deadline = ntc_mono_ms() + c->timeout_ms;
	char buf[NT_LINE_MAX + 2];
	int n = nt_line_fmt_cmd(buf, sizeof(buf), id, arg);

	if (n < 0)
		return ntc_fail(c, n, "cannot format %s: %s", nt_line_cmd_name(id), strerror(-n));
	n = ntc_tls_write(c, buf, (size_t)n);
	if (n)
		return n;
	for (;;) {
		const char *line;
		size_t len;
		int rc = ntc_tls_read_line(c, deadline, &line, &len);

		if (rc < 0)
			return rc;
		if (rc == 0)
			return ntc_fail(c, -ETIMEDOUT, "no reply to %s within %d ms",
				    nt_line_cmd_name(id), c->timeout_ms);
		rc = take_line(c, line, len, r);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		if (r->kind == NT_REPLY_ERR) {
			c->err_code = r->code;
			if (r->code == NT_LINE_E_REDIRECT)
				copy_field(c->redirect, sizeof(c->redirect), r->text);
			return ntc_fail(c, -EACCES, "server refused %s: ERR %d %s",
				    nt_line_cmd_name(id), r->code, r->text ? r->text : "");
		}
		if (strcmp(r->word, nt_line_cmd_name(id)))
			return ntc_fail(c, -EPROTO, "expected OK %s, got OK %s", nt_line_cmd_name(id),
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
		return ntc_fail(c, -errno, "UDP socket: %s", strerror(errno));
	if (!bind_s)
		return 0;
	err = nt_endpoint_parse(bind_s, &ep);
	if (!err)
		err = nt_endpoint_to_sockaddr(&ep, &ss, &sl);
	if (err)
		return ntc_fail(c, -EINVAL, "bad bind address '%s' (want IP:PORT)", bind_s);
	if (ss.ss_family != fam)
		return ntc_fail(c, -EAFNOSUPPORT, "bind address %s is not of the family of media %s",
			    bind_s, c->grant.media_str);
	if (bind(c->udp, (struct sockaddr *)&ss, (socklen_t)sl))
		return ntc_fail(c, -errno, "cannot bind UDP to %s: %s", bind_s, strerror(errno));
	return 0;
}

/* Copies of the options: a reconnection needs them after open returned. */
static int keep_opts(struct nt_client *c, const struct nt_client_opts *o)
{
	const char *src[7] = { o->server, o->ca_file, o->cert_file, o->key_file, o->token,
			       o->group, o->bind };

	c->opts = *o;
	for (int i = 0; i < 7; i++) {
		if (!src[i])
			continue;
		c->opt_strs[i] = strdup(src[i]);
		if (!c->opt_strs[i])
			return ntc_fail(c, -ENOMEM, "out of memory");
	}
	c->opts.server = c->opt_strs[0];
	c->opts.ca_file = c->opt_strs[1];
	c->opts.cert_file = c->opt_strs[2];
	c->opts.key_file = c->opt_strs[3];
	c->opts.token = c->opt_strs[4];
	c->opts.group = c->opt_strs[5];
	c->opts.bind = c->opt_strs[6];
	return 0;
}

/* AUTH with the token, JOIN the group: a new session and its grant. */
static int auth_join(struct nt_client *c)
{
	struct nt_line_reply r;
	int err = command(c, NT_CMD_AUTH, c->opts.token, &r);

	if (err)
		return err;
	copy_field(c->user, sizeof(c->user), nt_line_reply_get(&r, "user"));
	err = command(c, NT_CMD_JOIN, c->opts.group, &r);
	if (err)
		return err;
	/* the grant parser works on the line: rebuild it from the parsed reply */
	{
		char line[NT_LINE_MAX + 2];
		int n = nt_line_fmt_ok(line, sizeof(line), NT_CMD_JOIN, r.kv, r.nkv);

		if (n < 0)
			return ntc_fail(c, -EPROTO, "cannot read the JOIN reply");
		line[n - 1] = '\0';
		err = nt_client_grant_parse(line, &c->grant);
		OPENSSL_cleanse(line, sizeof(line));
		OPENSSL_cleanse(&r, sizeof(r));
		if (err)
			return ntc_fail(c, -EPROTO, "malformed session grant from server (%s)",
				    strerror(-err));
	}
	c->joined = true;
	return 0;
}

/* TCP, TLS and HELLO to the server of the options kept: at open, and again after a drop. */
static int connect_hello(struct nt_client *c)
{
	char host[256], port[8];
	struct nt_line_reply r;
	int64_t deadline = ntc_mono_ms() + c->timeout_ms;
	int err;

	if (ntc_split_server(c->opts.server, host, sizeof(host), port, sizeof(port)))
		return ntc_fail(c, -EINVAL, "bad server '%s' (want HOST[:PORT] or [V6][:PORT])",
				c->opts.server);
	err = ntc_tcp_connect(c, host, port, deadline);
	if (!err)
		err = ntc_tls_setup(c, &c->opts, host, deadline);
	if (!err)
		err = command(c, NT_CMD_HELLO, NT_LINE_PROTO, &r);
	return err;
}

static void drop_tls(struct nt_client *c);

/*
 * ERR 300 to JOIN: the group lives on another relay of the fleet. Dial it
 * once with the same token; a second redirect is an error, never followed.
 */
static int follow_redirect(struct nt_client *c)
{
	struct nt_client_event ev = { .kind = NT_CLIENT_EV_REDIRECTED };
	char to[NT_REDIRECT_MAX + 1], *s;
	int err;

	if (nt_redirect_parse(c->redirect, to, sizeof(to)))
		return ntc_fail(c, -EPROTO, "malformed redirect from %s: %.80s", c->opts.server,
				c->redirect);
	s = strdup(to);
	if (!s)
		return ntc_fail(c, -ENOMEM, "out of memory");
	snprintf(ev.name, sizeof(ev.name), "REDIRECTED");
	/* a name longer than reason holds is in nt_client_server() whole */
	copy_field(ev.reason, sizeof(ev.reason), to);
	_Static_assert(sizeof(ev.line) >= sizeof(c->redirect), "event line holds an ERR text");
	memcpy(ev.line, c->redirect, sizeof(c->redirect));
	/* the home relay from now on: reconnections go there */
	free(c->opt_strs[0]);
	c->opt_strs[0] = s;
	c->opts.server = s;
	drop_tls(c);
	c->closed = false;
	err = connect_hello(c);
	if (!err)
		err = auth_join(c);
	if (err == -EACCES && c->err_code == NT_LINE_E_REDIRECT)
		return ntc_fail(c, -EACCES, "redirected again by %s (to %.80s): not followed", to,
				c->redirect);
	if (!err)
		push_event(c, &ev);
	return err;
}

int nt_client_open(const struct nt_client_opts *o, struct nt_client **out)
{
	char host[256], port[8];
	struct nt_client *c;
	int err;

	*out = c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tcp = c->udp = -1;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : TIMEOUT_DEFAULT_MS;
	nt_line_reader_init(&c->rd);
	if (!o->server || !o->ca_file || !o->token || !o->group)
		return ntc_fail(c, -EINVAL, "server, CA file, token and group are required");
	if (!nt_line_group_valid(o->group))
		return ntc_fail(c, -EINVAL, "bad group name '%s': 1-%d of A-Z a-z 0-9 . _ -",
			    o->group, NT_LINE_GROUP_MAX);
	if (!*o->token || strlen(o->token) > NT_TOKEN_MAX || strchr(o->token, ' '))
		return ntc_fail(c, -EINVAL, "malformed token");
	if (!o->cert_file != !o->key_file)
		return ntc_fail(c, -EINVAL, "a client certificate needs its key, and a key its certificate");
	if (ntc_split_server(o->server, host, sizeof(host), port, sizeof(port)))
		return ntc_fail(c, -EINVAL, "bad server '%s' (want HOST[:PORT] or [V6][:PORT])",
			    o->server);
	err = keep_opts(c, o);
	if (!err)
		err = connect_hello(c);
	if (!err)
		err = auth_join(c);
	if (err == -EACCES && c->err_code == NT_LINE_E_REDIRECT)
		err = follow_redirect(c);
	if (err)
		return err;
	return udp_open(c, o->bind);
}

/* During the UDP exchange: take what TLS has; true once the verdict is in. */
static bool verify_wake(void *arg)
{
	struct nt_client *c = arg;

	for (;;) {
		struct nt_line_reply r;
		const char *line;
		size_t len;

		if (ntc_tls_read_line(c, 0, &line, &len) <= 0 || take_line(c, line, len, &r) < 0)
			break;
	}
	return c->verified || c->denied || c->closed;
}

int nt_client_verify(struct nt_client *c, int timeout_ms)
{
	const struct ntc_wake wake = { .fd = c->tcp, .fn = verify_wake, .arg = c };
	int64_t deadline = ntc_mono_ms() + timeout_ms;
	int wait_ms = 500, err = 0;
	char observed[NT_CLIENT_ADDRSTRLEN];

	if (!c->joined)
		return ntc_fail(c, -ENOTCONN, "not joined to a group");
	c->verified = c->denied = c->full = c->unreachable = false;
	c->mapping[0] = '\0';
	c->in_verify = true;
	while (!err) {
		int64_t now = ntc_mono_ms(), until;

		if (now >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		err = ntc_exchange(c->udp, &c->grant, (int)(deadline - now), &wake, observed,
				   sizeof(observed), c->ans_tid);
		if (err == -ECANCELED) {
			/* the verdict came over TLS while we probed */
			err = c->closed && !c->verified && !c->denied ? -ECONNRESET : 0;
			break;
		}
		if (err)
			break;
		c->ans_sent = true;
		/* the ANSWER is out: the verdict comes over TLS */
		until = ntc_mono_ms() + wait_ms;
		if (until > deadline)
			until = deadline;
		wait_ms *= 2;
		while (!c->verified && !c->denied) {
			struct nt_line_reply r;
			const char *line;
			size_t len;
			int rc = ntc_tls_read_line(c, until, &line, &len);

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
		return ntc_fail(c, -EDQUOT, "the relay is at capacity: mapping quota reached (%s)",
			    err ? "UDP error 486" : "EVT DENIED reason=quota");
	if (c->unreachable)
		return ntc_fail(c, -EHOSTUNREACH,
			    "the relay cannot send media to our mapping %s (EVT DENIED reason=unreachable)",
			    observed);
	if (c->denied || err == -EPERM)
		return ntc_fail(c, -EPERM, "the relay refuses our address (%s)",
			    err ? "UDP error 403" : "EVT DENIED");
	if (err == -ETIMEDOUT)
		return ntc_fail(c, err, "mapping not verified within %d ms (no CHALLENGE or no EVT VERIFIED from %s)",
			    timeout_ms, c->grant.media_str);
	if (err == -ENOENT)
		return ntc_fail(c, err, "the relay does not know our session");
	if (err == -ECONNRESET || err == -EPROTO)
		return err; /* message already set */
	return ntc_fail(c, err, "verification failed: %s", strerror(-err));
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
		    m.kind == NT_WIRE_ERROR && m.session_id == c->grant.session &&
		    ntc_our_request(c, m.tid)) {
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

/* The TLS side gone: a reconnection starts from nothing; the UDP socket stays. */
static void drop_tls(struct nt_client *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	SSL_CTX_free(c->ctx);
	c->ctx = NULL;
	if (c->tcp >= 0)
		close(c->tcp);
	c->tcp = -1;
	c->tls_up = false;
	c->closed = true;
	nt_line_reader_init(&c->rd);
	c->in_off = c->in_len = 0;
}

/*
 * Connect again: RESUME with the ticket (same session, key and, when the
 * relay still has it, mapping), or when the relay no longer knows the
 * session, AUTH and JOIN as at first. 0 with *resumed set; -EACCES when
 * the relay refused the token too (no point in trying again).
 */
static int reconnect(struct nt_client *c, bool *resumed)
{
	struct nt_line_reply r;
	int err;

	*resumed = false;
	drop_tls(c);
	c->closed = false;
	err = connect_hello(c);
	if (!err && c->ticket[0]) {
		err = command(c, NT_CMD_RESUME, c->ticket, &r);
		if (!err) {
			const char *m = nt_line_reply_get(&r, "mapping");

			*resumed = true;
			c->verified = m && strcmp(m, "none");
			copy_field(c->mapping, sizeof(c->mapping), c->verified ? m : NULL);
			return 0;
		}
		/* refused: the session is gone (ended, or the relay forgot it) */
		if (err == -EACCES) {
			c->ticket[0] = '\0';
			err = 0;
		}
	}
	if (!err) {
		c->joined = c->verified = false;
		c->mapping[0] = '\0';
		err = auth_join(c);
		if (err == -EACCES)
			return err;
	}
	if (err)
		drop_tls(c);
	return err;
}

/* One attempt when due; the event when back, CLOSED when given up. */
static void reconnect_step(struct nt_client *c)
{
	int64_t now = ntc_mono_ms(), limit = (int64_t)c->grant.consent_s * 2000;
	struct nt_client_event ev = { .kind = NT_CLIENT_EV_RECONNECTED };
	uint16_t r = 0;
	bool resumed;
	int err;

	if (now < c->rc_next)
		return;
	err = reconnect(c, &resumed);
	if (!err) {
		/* a new session, or one whose mapping the relay lost: prove it again */
		if (!c->verified)
			nt_client_verify(c, c->timeout_ms);
		c->rc_next = c->rc_since = 0;
		if (c->verified)
			c->ka_next = ntc_mono_ms();
		snprintf(ev.name, sizeof(ev.name), "RECONNECTED");
		snprintf(ev.reason, sizeof(ev.reason), "%s", resumed ? "resumed" : "rejoined");
		copy_field(ev.mapping, sizeof(ev.mapping), c->mapping);
		push_event(c, &ev);
		return;
	}
	if (limit < 30000)
		limit = 30000;
	if (err == -EACCES || c->gone || now - c->rc_since > limit) {
		c->gone = true;
		c->closed = true;
		ev.kind = NT_CLIENT_EV_CLOSED;
		copy_field(ev.reason, sizeof(ev.reason), c->err);
		push_event(c, &ev);
		return;
	}
	/* doubling up to 5 s, up to a quarter less: clients of one relay spread out */
	c->rc_delay_ms = c->rc_delay_ms < 2500 ? c->rc_delay_ms * 2 : 5000;
	RAND_bytes((unsigned char *)&r, sizeof(r));
	c->rc_next = ntc_mono_ms() + c->rc_delay_ms - c->rc_delay_ms / 4 * r / 65535;
}

static bool may_reconnect(const struct nt_client *c)
{
	return c->joined && c->opts.server && !c->opts.no_reconnect && !c->gone;
}

int nt_client_poll(struct nt_client *c, int timeout_ms, const struct nt_client_callbacks *cb,
		   void *arg)
{
	struct pollfd pfd[2] = { { .fd = c->udp, .events = POLLIN },
				 { .fd = c->closed ? -1 : c->tcp, .events = POLLIN } };
	int64_t now = ntc_mono_ms();
	int wait = timeout_ms;

	if (c->verified && c->joined && now >= c->ka_next) {
		ntc_keepalive(c);
		c->ka_next = now + ka_interval(c);
	}
	if (c->verified && c->joined && c->ka_next - now < wait)
		wait = (int)(c->ka_next - now);
	if (c->evq_n || c->in_off < c->in_len || (c->ssl && SSL_pending(c->ssl)))
		wait = 0;
	if (c->closed && c->rc_since && c->rc_next - now < wait)
		wait = (int)(c->rc_next - now);
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
			int rc = ntc_tls_read_line(c, 0, &line, &len);

			if (rc <= 0) {
				if (rc == -ECONNRESET && may_reconnect(c)) {
					uint16_t j = 0;

					/* soon, but not all clients of a restarted relay at once */
					RAND_bytes((unsigned char *)&j, sizeof(j));
					c->rc_since = ntc_mono_ms();
					c->rc_delay_ms = 200;
					c->rc_next = c->rc_since + 50 + 200 * j / 65535;
				} else if (rc == -ECONNRESET) {
					struct nt_client_event ev = { .kind = NT_CLIENT_EV_CLOSED };

					copy_field(ev.reason, sizeof(ev.reason), c->err);
					push_event(c, &ev);
				}
				break;
			}
			if (take_line(c, line, len, &r) == 1 && r.kind == NT_REPLY_ERR) {
				/* an ERR without a command: the server is about to close */
				c->err_code = r.code;
				ntc_fail(c, 0, "server: ERR %d %s", r.code, r.text ? r.text : "");
			}
		}
	}
	if (c->closed && c->rc_since && may_reconnect(c))
		reconnect_step(c);
	deliver(c, cb, arg);
	return c->closed && !(c->rc_since && may_reconnect(c)) ? -ECONNRESET : 0;
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
		return ntc_fail(c, -ENOTCONN, "not joined to a group");
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
	SSL_SESSION_free(c->tls_sess);
	if (c->tcp >= 0)
		close(c->tcp);
	if (c->udp >= 0)
		close(c->udp);
	for (int i = 0; i < 7; i++) {
		if (c->opt_strs[i])
			OPENSSL_cleanse(c->opt_strs[i], strlen(c->opt_strs[i]));
		free(c->opt_strs[i]);
	}
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

const char *nt_client_server(const struct nt_client *c)
{
	return c->opts.server;
}
