// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * nattrav client: one state machine for the session over the control
 * channel (connect, HELLO, RESUME or AUTH and JOIN, events, verification,
 * keepalives, reconnection, media), driven without blocking by
 * nt_client_process; the blocking calls (open, verify, leave, close) run it
 * to completion with poll(2). The connection itself is in nt_client_tls.c,
 * the UDP messages in nt_client_udp.c.
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

#define VERIFY_AUTO_MS 10000	/* a verification the library starts on its own */
#define VERIFY_RETRY_MS 5000	/* after one failed, the next */
#define PROBE_RTO_MS 500
#define PROBE_RTO_MAX_MS 4000
#define TOKEN_MARGIN_S 60	/* refresh a token expiring this soon */
#define TOKEN_RETRY_MS 10000

static void verify_begin(struct nt_client *c, int timeout_ms, bool quiet, bool announce);
static void verify_end(struct nt_client *c, int err);

static bool auto_verify(const struct nt_client *c)
{
	return !c->opts.no_auto_verify && c->joined && c->st != NTC_DONE;
}

/* The mapping is gone: prove the current one, now or when connected again. */
static void mapping_lost(struct nt_client *c)
{
	c->verified = false;
	c->mapping[0] = '\0';
	if (auto_verify(c) && c->session_up && !c->vf.active)
		verify_begin(c, VERIFY_AUTO_MS, false, false);
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
			bool report = !c->vf.active || (!c->vf.quiet && !c->vf.announce);

			copy_field(c->mapping, sizeof(c->mapping), ev.mapping);
			if (!c->verified)
				c->ka_next = ntc_mono_ms() + ka_interval(c);
			c->verified = true;
			c->vf_retry = 0;
			if (c->vf.active)
				verify_end(c, 0);
			if (!report)
				return; /* nt_client_verify or RECONNECTED reports it */
		}
	} else if (!strcmp(r->word, "EXPIRED")) {
		ev.kind = NT_CLIENT_EV_EXPIRED;
		if (ours && (!ev.mapping[0] || !strcmp(ev.mapping, c->mapping))) {
			push_event(c, &ev);
			mapping_lost(c);
			return;
		}
	} else if (!strcmp(r->word, "DENIED")) {
		ev.kind = NT_CLIENT_EV_DENIED;
		if (ours)
			c->denied = true;
		if (ours && !strcmp(ev.reason, "quota"))
			c->full = true;
		if (ours && !strcmp(ev.reason, "unreachable"))
			c->unreachable = true;
		if (ours && c->vf.active) {
			push_event(c, &ev);
			verify_end(c, c->full ? -EDQUOT : c->unreachable ? -EHOSTUNREACH : -EPERM);
			return;
		}
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

/* ---- verification: PROBE until a CHALLENGE, ANSWER, then EVT VERIFIED over TLS ---- */

static void verify_exchange(struct nt_client *c, int64_t now)
{
	nt_wire_random(c->vf.tid, sizeof(c->vf.tid));
	c->vf.answered = false;
	c->vf.next_probe = now;
	c->vf.rto = PROBE_RTO_MS;
}

static void verify_begin(struct nt_client *c, int timeout_ms, bool quiet, bool announce)
{
	int64_t now = ntc_mono_ms();

	c->verified = c->denied = c->full = c->unreachable = false;
	c->mapping[0] = '\0';
	c->vf.observed[0] = '\0';
	c->vf.active = true;
	c->vf.quiet = quiet;
	c->vf.announce = c->vf.announce || announce;
	c->vf.timeout_ms = timeout_ms;
	c->vf.deadline = now + timeout_ms;
	c->vf.wait_ms = 500;
	c->vf.result = -EINPROGRESS;
	c->vf_retry = 0;
	verify_exchange(c, now);
}

/* The reason for a failed verification, in c->err; returns err. */
static int verify_msg(struct nt_client *c, int err)
{
	if (err == -EDQUOT)
		return ntc_fail(c, err, "the relay is at capacity: mapping quota reached (%s)",
				c->full ? "EVT DENIED reason=quota" : "UDP error 486");
	if (err == -EHOSTUNREACH)
		return ntc_fail(c, err,
			    "the relay cannot send media to our mapping %s (EVT DENIED reason=unreachable)",
			    c->vf.observed);
	if (err == -EPERM)
		return ntc_fail(c, err, "the relay refuses our address (%s)",
				c->denied ? "EVT DENIED" : "UDP error 403");
	if (err == -ETIMEDOUT)
		return ntc_fail(c, err, "mapping not verified within %d ms (no CHALLENGE or no EVT VERIFIED from %s)",
			    c->vf.timeout_ms, c->grant.media_str);
	if (err == -ENOENT)
		return ntc_fail(c, err, "the relay does not know our session");
	if (err == -ECONNRESET || err == -EPROTO)
		return err; /* message already set */
	return ntc_fail(c, err, "verification failed: %s", strerror(-err));
}

static void announce_reconnected(struct nt_client *c)
{
	struct nt_client_event ev = { .kind = NT_CLIENT_EV_RECONNECTED };

	snprintf(ev.name, sizeof(ev.name), "RECONNECTED");
	snprintf(ev.reason, sizeof(ev.reason), "%s", c->resumed ? "resumed" : "rejoined");
	copy_field(ev.mapping, sizeof(ev.mapping), c->mapping);
	push_event(c, &ev);
}

static void verify_end(struct nt_client *c, int err)
{
	bool quiet = c->vf.quiet;

	c->vf.active = false;
	c->vf.quiet = false;
	c->vf.result = err;
	if (err)
		verify_msg(c, err);
	if (c->vf.announce) {
		c->vf.announce = false;
		announce_reconnected(c);
	}
	if (err && !quiet) {
		struct nt_client_event ev = { .kind = NT_CLIENT_EV_VERIFY_FAILED, .code = -err };

		snprintf(ev.name, sizeof(ev.name), "VERIFY_FAILED");
		copy_field(ev.reason, sizeof(ev.reason), c->err);
		push_event(c, &ev);
	}
	/* a refusal stands; a timeout or a forgotten session may pass later */
	if (err && !quiet && err != -EPERM && err != -EHOSTUNREACH && err != -ECONNRESET &&
	    auto_verify(c))
		c->vf_retry = ntc_mono_ms() + VERIFY_RETRY_MS;
}

/* Time-driven part: the next PROBE, a new exchange when no verdict came, the deadline. */
static void verify_tick(struct nt_client *c, int64_t now)
{
	struct ntc_verify *v = &c->vf;

	if (!v->active) {
		if (c->vf_retry && now >= c->vf_retry && c->session_up && auto_verify(c) &&
		    !c->verified)
			verify_begin(c, VERIFY_AUTO_MS, false, false);
		return;
	}
	if (now >= v->deadline) {
		verify_end(c, -ETIMEDOUT);
		return;
	}
	if (v->answered && now >= v->verdict_until)
		verify_exchange(c, now); /* no EVT VERIFIED: probe again */
	if (!v->answered && now >= v->next_probe) {
		int err = ntc_probe_send(c);

		if (err) {
			verify_end(c, err);
			return;
		}
		v->next_probe = now + v->rto;
		v->rto = v->rto * 2 > PROBE_RTO_MAX_MS ? PROBE_RTO_MAX_MS : v->rto * 2;
	}
}

/* A control datagram while verifying: the CHALLENGE, or an ERROR that ends or restarts it. */
static void verify_datagram(struct nt_client *c, const uint8_t *buf, size_t len)
{
	int64_t now;
	int rc = ntc_verify_datagram(c, buf, len);

	if (rc == 0)
		return;
	now = ntc_mono_ms();
	if (rc == -EAGAIN) {
		verify_exchange(c, now);
		return;
	}
	if (rc < 0) {
		verify_end(c, rc);
		return;
	}
	/* the ANSWER is out: the verdict comes over TLS, or we probe again */
	c->vf.answered = true;
	c->vf.verdict_until = now + c->vf.wait_ms;
	if (c->vf.verdict_until > c->vf.deadline)
		c->vf.verdict_until = c->vf.deadline;
	c->vf.wait_ms *= 2;
}

/* ---- the control connection ---- */

/* Queue a command line; the reply is handled by on_reply. */
static int send_cmd(struct nt_client *c, enum nt_line_cmd_id id, const char *arg)
{
	int n;

	if (c->out_len)
		return -EBUSY;
	n = nt_line_fmt_cmd(c->out, sizeof(c->out), id, arg);
	if (n < 0)
		return ntc_fail(c, n, "cannot format %s: %s", nt_line_cmd_name(id), strerror(-n));
	c->out_len = (size_t)n;
	c->out_off = 0;
	c->cmd = id;
	c->cmd_deadline = ntc_mono_ms() + c->timeout_ms;
	n = ntc_tls_flush(c);
	return n < 0 ? n : 0;
}

/* "<expiry>:..." of a token; 0 when it does not start with a number. */
static int64_t token_expiry(const char *tok)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(tok, &end, 10);
	return errno || *end != ':' ? 0 : (int64_t)v;
}

/* Ask the application for a fresh token when ours expires soon: true when it gave one. */
static bool token_refresh(struct nt_client *c, int64_t now_ms)
{
	char buf[NT_TOKEN_MAX + 1];
	int64_t exp = token_expiry(c->opts.token);
	struct nt_client_event ev = { .kind = NT_CLIENT_EV_TOKEN_REFRESHED };
	char *copy;

	if (!c->opts.token_refresh || !exp || exp - time(NULL) > TOKEN_MARGIN_S ||
	    now_ms < c->tok_next)
		return false;
	c->tok_next = now_ms + TOKEN_RETRY_MS;
	buf[0] = '\0';
	if (c->opts.token_refresh(c->opts.token_refresh_arg, buf, sizeof(buf)) ||
	    !memchr(buf, '\0', sizeof(buf)) || !*buf || strchr(buf, ' ') ||
	    token_expiry(buf) <= exp || !(copy = strdup(buf))) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return false;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(c->opt_strs[4], strlen(c->opt_strs[4]));
	free(c->opt_strs[4]);
	c->opts.token = c->opt_strs[4] = copy;
	c->tok_next = 0;
	snprintf(ev.name, sizeof(ev.name), "TOKEN_REFRESHED");
	push_event(c, &ev);
	return true;
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

/* Copies of the options: a reconnection needs them after start returned. */
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

static bool may_reconnect(const struct nt_client *c)
{
	return c->ever_joined && !c->left && !c->opts.no_reconnect && !c->gone && !c->quitting;
}

/* The end of the client: CLOSED with the reason, and err from process from now on. */
static void finish(struct nt_client *c, int err)
{
	struct nt_client_event ev = { .kind = NT_CLIENT_EV_CLOSED };

	if (c->st == NTC_DONE)
		return;
	ntc_tls_drop(c);
	c->closed = true;
	c->st = NTC_DONE;
	c->fatal_err = err;
	c->cmd = -1;
	if (c->vf.active)
		verify_end(c, -ECONNRESET);
	copy_field(ev.reason, sizeof(ev.reason), c->err);
	push_event(c, &ev);
}

/* Start a connection attempt: resolve, TCP connect under way. */
static int connect_begin(struct nt_client *c)
{
	int err;

	c->closed = false;
	c->session_up = false;
	c->cmd = -1;
	c->conn_deadline = ntc_mono_ms() + c->timeout_ms;
	err = ntc_resolve(c);
	if (err)
		return err;
	c->st = NTC_TCP;
	return 0;
}

/* The attempt or the connection failed with err (message in c->err). */
static void conn_failed(struct nt_client *c, int err)
{
	int64_t now = ntc_mono_ms(), limit = (int64_t)c->grant.consent_s * 2000;
	uint16_t r = 0;

	ntc_tls_drop(c);
	c->closed = true;
	c->session_up = false;
	c->cmd = -1;
	/*
	 * The verdict comes over TLS: a verification under way cannot end. The
	 * reconnection proves the mapping again if the relay lost it (and a
	 * blocking nt_client_verify, vf.quiet, waits for that one).
	 */
	c->vf.active = false;
	if (!may_reconnect(c) || err == -EACCES) {
		finish(c, c->ever_joined ? -ECONNRESET : err);
		return;
	}
	RAND_bytes((unsigned char *)&r, sizeof(r));
	if (!c->rc_since) {
		/* soon, but not all clients of a restarted relay at once */
		c->rc_since = now;
		c->rc_delay_ms = 200;
		c->rc_next = now + 50 + 200 * r / 65535;
	} else {
		if (limit < 30000)
			limit = 30000;
		if (now - c->rc_since > limit) {
			finish(c, -ECONNRESET);
			return;
		}
		/* doubling up to 5 s, up to a quarter less: clients of one relay spread out */
		c->rc_delay_ms = c->rc_delay_ms < 2500 ? c->rc_delay_ms * 2 : 5000;
		c->rc_next = now + c->rc_delay_ms - c->rc_delay_ms / 4 * r / 65535;
	}
	c->st = NTC_BACKOFF;
}

/*
 * ERR 300 to JOIN: the group lives on another relay of the fleet. Dial it
 * once with the same token (a new connection from the start: TCP, TLS,
 * HELLO, AUTH, JOIN); a second redirect is an error, never followed.
 */
static int follow_redirect(struct nt_client *c, const char *text)
{
	struct nt_client_event ev = { .kind = NT_CLIENT_EV_REDIRECTED };
	char to[NT_REDIRECT_MAX + 1], host[sizeof(c->host)], port[sizeof(c->port)], *s;

	copy_field(c->redirect, sizeof(c->redirect), text);
	if (c->redirected)
		return ntc_fail(c, -EACCES, "redirected again by %s (to %.80s): not followed",
				c->opts.server, c->redirect);
	if (nt_redirect_parse(c->redirect, to, sizeof(to)) ||
	    ntc_split_server(to, host, sizeof(host), port, sizeof(port)))
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
	memcpy(c->host, host, sizeof(host));
	memcpy(c->port, port, sizeof(port));
	c->redirected = true;
	push_event(c, &ev);
	ntc_tls_drop(c);
	return connect_begin(c);
}

/* The session is carried by this connection again (or for the first time). */
static void session_ready(struct nt_client *c, bool reconnect)
{
	c->session_up = true;
	c->cmd = -1;
	if (!reconnect) {
		struct nt_client_event ev = { .kind = NT_CLIENT_EV_JOINED };

		snprintf(ev.name, sizeof(ev.name), "JOINED");
		push_event(c, &ev);
		if (c->verify_on_join && !c->opts.no_auto_verify)
			verify_begin(c, c->timeout_ms > VERIFY_AUTO_MS ? c->timeout_ms : VERIFY_AUTO_MS,
				     false, false);
		return;
	}
	c->rc_since = c->rc_next = 0;
	if (c->verified) {
		c->ka_next = ntc_mono_ms();
		announce_reconnected(c);
		return;
	}
	/* a new session, or one whose mapping the relay lost: prove it again */
	if (c->opts.no_auto_verify) {
		announce_reconnected(c);
		return;
	}
	/* a blocking nt_client_verify waiting across the drop takes this one */
	verify_begin(c, c->vf.quiet ? (int)(c->vf.deadline - ntc_mono_ms()) : c->timeout_ms,
		     c->vf.quiet, true);
}

static int send_auth(struct nt_client *c)
{
	token_refresh(c, ntc_mono_ms());
	return send_cmd(c, NT_CMD_AUTH, c->opts.token);
}

/* OK JOIN: the grant (the parser works on a line: rebuilt from the parsed reply). */
static int take_grant(struct nt_client *c, struct nt_line_reply *r)
{
	char line[NT_LINE_MAX + 2];
	int n = nt_line_fmt_ok(line, sizeof(line), NT_CMD_JOIN, r->kv, r->nkv), err;

	if (n < 0)
		return ntc_fail(c, -EPROTO, "cannot read the JOIN reply");
	line[n - 1] = '\0';
	err = nt_client_grant_parse(line, &c->grant);
	OPENSSL_cleanse(line, sizeof(line));
	if (err)
		return ntc_fail(c, -EPROTO, "malformed session grant from server (%s)",
				strerror(-err));
	return 0;
}

/* A reply (OK or ERR) to the command in flight: the next step. 0 or -errno. */
static int on_reply(struct nt_client *c, struct nt_line_reply *r)
{
	int id = c->cmd;
	bool reconnect = c->ever_joined;
	int err;

	if (id < 0) {
		/* an ERR without a command: the server is about to close */
		if (r->kind == NT_REPLY_ERR) {
			c->err_code = r->code;
			ntc_fail(c, 0, "server: ERR %d %s", r->code, r->text ? r->text : "");
		}
		return 0;
	}
	c->cmd = -1;
	if (r->kind == NT_REPLY_ERR) {
		c->err_code = r->code;
		if (id == NT_CMD_JOIN && r->code == NT_LINE_E_REDIRECT && !c->ever_joined)
			return follow_redirect(c, r->text ? r->text : "");
		ntc_fail(c, -EACCES, "server refused %s: ERR %d %s", nt_line_cmd_name(id), r->code,
			 r->text ? r->text : "");
		if (id == NT_CMD_RESUME) {
			/* the session is gone (ended, or the relay forgot it): a new one */
			c->ticket[0] = '\0';
			c->joined = c->verified = false;
			c->mapping[0] = '\0';
			return send_auth(c);
		}
		if (id == NT_CMD_AUTH && c->session_up)
			return 0; /* a refresh refused: the session goes on until the old deadline */
		if (id == NT_CMD_LEAVE || id == NT_CMD_QUIT) {
			c->cmd_result = -EACCES;
			return 0;
		}
		return -EACCES;
	}
	if (strcmp(r->word, nt_line_cmd_name(id)))
		return ntc_fail(c, -EPROTO, "expected OK %s, got OK %s", nt_line_cmd_name(id),
				r->word);
	switch (id) {
	case NT_CMD_HELLO:
		if (c->ticket[0] && reconnect)
			return send_cmd(c, NT_CMD_RESUME, c->ticket);
		c->joined = c->verified = false;
		c->mapping[0] = '\0';
		return send_auth(c);
	case NT_CMD_RESUME: {
		const char *m = nt_line_reply_get(r, "mapping");

		c->resumed = true;
		c->joined = true;
		c->verified = m && strcmp(m, "none");
		copy_field(c->mapping, sizeof(c->mapping), c->verified ? m : NULL);
		session_ready(c, true);
		return 0;
	}
	case NT_CMD_AUTH:
		copy_field(c->user, sizeof(c->user), nt_line_reply_get(r, "user"));
		if (c->session_up)
			return 0; /* a refresh: the relay extended the session */
		return send_cmd(c, NT_CMD_JOIN, c->opts.group);
	case NT_CMD_JOIN:
		err = take_grant(c, r);
		if (err)
			return err;
		c->joined = true;
		c->resumed = false;
		if (!c->ever_joined) {
			err = udp_open(c, c->opts.bind);
			if (err)
				return err;
			c->ever_joined = true;
			session_ready(c, false);
		} else {
			session_ready(c, true);
		}
		return 0;
	case NT_CMD_LEAVE:
		c->left = true;
		c->joined = c->verified = false;
		c->mapping[0] = '\0';
		c->vf_retry = 0;
		if (c->vf.active)
			verify_end(c, -ENOTCONN);
		c->cmd_result = 0;
		{
			struct nt_client_event ev = { .kind = NT_CLIENT_EV_LEFT };

			snprintf(ev.name, sizeof(ev.name), "LEFT");
			push_event(c, &ev);
		}
		return 0;
	case NT_CMD_QUIT:
		c->cmd_result = 0;
		if (c->ssl)
			SSL_shutdown(c->ssl);
		return 0;
	default:
		return 0;
	}
}

/* Read and handle every complete line TLS has. 0, or -errno (connection unusable). */
static int tls_input(struct nt_client *c)
{
	for (int i = 0; i < 256; i++) {
		struct nt_line_reply r;
		const char *line;
		size_t len;
		int rc = ntc_tls_read_line(c, &line, &len);

		if (rc <= 0)
			return rc;
		if (nt_line_parse_reply(line, len, &r))
			return ntc_fail(c, -EPROTO, "malformed line from server: %.80s", line);
		if (r.kind == NT_REPLY_EVT) {
			handle_evt(c, &r, line);
			continue;
		}
		rc = on_reply(c, &r);
		OPENSSL_cleanse(&r, sizeof(r));
		if (rc)
			return rc;
		/* a redirect dropped this connection for another */
		if (c->st != NTC_UP)
			return 0;
	}
	return 0;
}

/* Advance the control connection as far as it goes without waiting. */
static void conn_step(struct nt_client *c, int64_t now)
{
	int rc;

	switch (c->st) {
	case NTC_BACKOFF:
		if (now < c->rc_next)
			return;
		rc = connect_begin(c);
		if (rc) {
			conn_failed(c, rc);
			return;
		}
		__attribute__((fallthrough));
	case NTC_TCP:
		rc = ntc_tcp_step(c);
		if (rc == 0 && now >= c->conn_deadline)
			rc = ntc_fail(c, -ETIMEDOUT, "cannot connect to %s port %s: timed out",
				      c->host, c->port);
		if (rc <= 0) {
			if (rc)
				conn_failed(c, rc);
			return;
		}
		rc = ntc_tls_begin(c);
		if (rc) {
			conn_failed(c, rc);
			return;
		}
		c->st = NTC_TLS;
		__attribute__((fallthrough));
	case NTC_TLS:
		rc = ntc_tls_step(c);
		if (rc == 0 && now >= c->conn_deadline)
			rc = ntc_fail(c, -ETIMEDOUT, "TLS handshake with %s timed out", c->host);
		if (rc <= 0) {
			if (rc)
				conn_failed(c, rc);
			return;
		}
		c->st = NTC_UP;
		rc = send_cmd(c, NT_CMD_HELLO, NT_LINE_PROTO);
		if (rc) {
			conn_failed(c, rc);
			return;
		}
		__attribute__((fallthrough));
	case NTC_UP:
		rc = c->out_len ? ntc_tls_flush(c) : 1;
		if (rc >= 0)
			rc = tls_input(c);
		if (rc == 0 && c->cmd >= 0 && now >= c->cmd_deadline)
			rc = ntc_fail(c, -ETIMEDOUT, "no reply to %s within %d ms",
				      nt_line_cmd_name(c->cmd), c->timeout_ms);
		if (rc < 0) {
			if (c->cmd == NT_CMD_LEAVE)
				c->cmd_result = rc;
			conn_failed(c, c->quitting ? -ECONNRESET : rc);
		}
		return;
	default:
		return;
	}
}

/* ---- UDP: media, control messages, keepalives ---- */

/*
 * Media that arrives while a blocking call runs the machine (no callbacks):
 * kept for the next nt_client_process / poll, as the socket buffer would.
 */
static void hold_media(struct nt_client *c, const uint8_t *buf, size_t len)
{
	uint8_t *copy;

	if (c->held_n == UDP_HOLD || c->held_bytes + len > UDP_HOLD_BYTES)
		return;
	copy = malloc(len);
	if (!copy)
		return;
	memcpy(copy, buf, len);
	c->held[c->held_n].buf = copy;
	c->held[c->held_n].len = len;
	c->held_n++;
	c->held_bytes += len;
}

static void held_deliver(struct nt_client *c, const struct nt_client_callbacks *cb, void *arg)
{
	for (unsigned int i = 0; i < c->held_n; i++) {
		if (cb->media)
			cb->media(arg, c->held[i].buf, c->held[i].len);
		free(c->held[i].buf);
	}
	c->held_n = 0;
	c->held_bytes = 0;
}

/* hold: a blocking call runs the machine; keep media for the application */
static void udp_input(struct nt_client *c, const struct nt_client_callbacks *cb, void *arg,
		      bool hold)
{
	if (c->udp < 0)
		return;
	for (int i = 0; i < UDP_BURST; i++) {
		uint8_t buf[65536];
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct nt_endpoint a, b;
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
			else if (hold)
				hold_media(c, buf, (size_t)n);
			continue;
		}
		if (c->vf.active && !c->vf.answered) {
			verify_datagram(c, buf, (size_t)n);
			continue;
		}
		ntc_udp_control(c, buf, (size_t)n);
	}
}

/*
 * A control datagram outside a verification: a signed ERROR answering one
 * of ours becomes an event; a 438 to our ANSWER means it came late (ask
 * again), to a keepalive that the NAT rebound (prove the mapping again).
 */
void ntc_udp_control(struct nt_client *c, const void *buf, size_t len)
{
	struct nt_wire_msg m;
	struct nt_client_event ev = { .kind = NT_CLIENT_EV_UDP_ERROR };
	bool to_answer;

	if (nt_wire_decode(buf, len, &m, c->grant.key) || m.kind != NT_WIRE_ERROR ||
	    m.session_id != c->grant.session || !ntc_our_request(c, m.tid))
		return;
	to_answer = c->ans_sent && !memcmp(m.tid, c->ans_tid, NTC_TID_LEN);
	ev.code = m.error_code;
	copy_field(ev.reason, sizeof(ev.reason), m.reason);
	push_event(c, &ev);
	if (m.error_code != NT_WIRE_ERR_STALE_CHALLENGE)
		return;
	if (c->vf.active && to_answer)
		verify_exchange(c, ntc_mono_ms()); /* our ANSWER came late: again */
	else if (!to_answer && c->verified)
		mapping_lost(c); /* a keepalive from a new source: the NAT rebound */
}

/* The part of process that never calls back: connection, verification, timers. */
static void step(struct nt_client *c)
{
	int64_t now = ntc_mono_ms();

	if (c->st == NTC_DONE)
		return;
	conn_step(c, now);
	if (c->st == NTC_UP && c->session_up && c->cmd < 0 && !c->out_len &&
	    token_refresh(c, now) && send_cmd(c, NT_CMD_AUTH, c->opts.token))
		conn_failed(c, -ECONNRESET);
	if (c->joined)
		verify_tick(c, now);
	if (c->verified && c->joined && now >= c->ka_next) {
		ntc_keepalive(c);
		c->ka_next = now + ka_interval(c);
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

int nt_client_process(struct nt_client *c, const struct nt_client_callbacks *cb, void *arg)
{
	if (c->held_n)
		held_deliver(c, cb ? cb : &(struct nt_client_callbacks){ 0 }, arg);
	udp_input(c, cb, arg, false);
	step(c);
	if (cb)
		deliver(c, cb, arg);
	return c->st == NTC_DONE ? c->fatal_err : 0;
}

int nt_client_fds(const struct nt_client *c, struct pollfd *fds, int max)
{
	int n = 0;

	if (c->udp >= 0 && n < max)
		fds[n++] = (struct pollfd){ .fd = c->udp, .events = POLLIN };
	if (c->tcp >= 0 && n < max && (c->st == NTC_TCP || c->st == NTC_TLS || c->st == NTC_UP)) {
		short ev = c->st == NTC_TCP ? POLLOUT : c->ssl_want ? c->ssl_want : POLLIN;

		if (c->st == NTC_UP && c->out_len)
			ev |= POLLOUT;
		fds[n++] = (struct pollfd){ .fd = c->tcp, .events = (short)(ev | POLLIN) };
	}
	return n;
}

static void sooner(int64_t *t, int64_t when)
{
	if (when < *t)
		*t = when;
}

int nt_client_next_timeout(const struct nt_client *c)
{
	int64_t now = ntc_mono_ms(), t = INT64_MAX;

	if (c->evq_n || c->held_n || c->in_off < c->in_len || (c->ssl && SSL_pending(c->ssl)))
		return 0;
	if (c->st == NTC_DONE)
		return -1;
	if (c->st == NTC_BACKOFF)
		sooner(&t, c->rc_next);
	if (c->st == NTC_TCP || c->st == NTC_TLS)
		sooner(&t, c->conn_deadline);
	if (c->st == NTC_UP && c->cmd >= 0)
		sooner(&t, c->cmd_deadline);
	if (c->verified && c->joined)
		sooner(&t, c->ka_next);
	if (c->vf.active) {
		sooner(&t, c->vf.deadline);
		sooner(&t, c->vf.answered ? c->vf.verdict_until : c->vf.next_probe);
	} else if (c->vf_retry && c->joined && c->session_up) {
		sooner(&t, c->vf_retry);
	}
	/* both wait for the connection (or its command) otherwise: no timer to spin on */
	if (c->opts.token_refresh && c->st == NTC_UP && c->session_up && c->cmd < 0) {
		int64_t exp = token_expiry(c->opts.token);

		int64_t when = now + (exp - TOKEN_MARGIN_S - (int64_t)time(NULL)) * 1000;

		if (exp)
			sooner(&t, when > c->tok_next ? when : c->tok_next);
	}
	if (t == INT64_MAX)
		return -1;
	if (t <= now)
		return 0;
	return t - now > INT32_MAX ? INT32_MAX : (int)(t - now);
}

/* ---- the public calls; the blocking ones run the same machine with poll(2) ---- */

static int client_new(const struct nt_client_opts *uo, struct nt_client **out)
{
	struct nt_client_opts oc;
	const struct nt_client_opts *o = &oc;
	struct nt_client *c;
	int err;

	*out = c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tcp = c->udp = -1;
	c->cmd = -1;
	/* the caller's struct may be older or newer than ours: copied by its size */
	err = ntc_opts_copy(c, uo, &oc);
	if (err)
		return err;
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
	if (ntc_split_server(o->server, c->host, sizeof(c->host), c->port, sizeof(c->port)))
		return ntc_fail(c, -EINVAL, "bad server '%s' (want HOST[:PORT] or [V6][:PORT])",
			    o->server);
	return keep_opts(c, o);
}

static int start(const struct nt_client_opts *o, struct nt_client **out, bool verify)
{
	int err = client_new(o, out);

	if (err) {
		if (*out)
			(*out)->st = NTC_DONE, (*out)->fatal_err = err;
		return err;
	}
	(*out)->verify_on_join = verify;
	err = connect_begin(*out);
	if (err) {
		(*out)->st = NTC_DONE;
		(*out)->fatal_err = err;
		return err;
	}
	step(*out);
	return 0;
}

int nt_client_start(const struct nt_client_opts *o, struct nt_client **out)
{
	return start(o, out, true);
}

/* One wait (until the machine's next deadline, at most until) and one step. */
static int wait_step(struct nt_client *c, int64_t until)
{
	struct pollfd pfd[2];
	int n = nt_client_fds(c, pfd, 2), t = nt_client_next_timeout(c);
	int64_t now = ntc_mono_ms();

	if (until >= 0 && (t < 0 || now + t > until))
		t = until > now ? (int)(until - now) : 0;
	if (poll(pfd, (nfds_t)n, t) < 0 && errno != EINTR)
		return -errno;
	udp_input(c, NULL, NULL, true);
	step(c);
	return 0;
}

int nt_client_open(const struct nt_client_opts *o, struct nt_client **out)
{
	struct nt_client *c;
	int err = start(o, out, false);

	if (err)
		return err;
	c = *out;
	while (c->st != NTC_DONE && !c->session_up) {
		err = wait_step(c, -1);
		if (err)
			return ntc_fail(c, err, "poll: %s", strerror(-err));
	}
	return c->st == NTC_DONE ? c->fatal_err : 0;
}

static bool reconnecting(const struct nt_client *c)
{
	return c->st != NTC_DONE && c->rc_since;
}

int nt_client_verify_start(struct nt_client *c, int timeout_ms)
{
	if (!c->joined || c->st == NTC_DONE)
		return ntc_fail(c, -ENOTCONN, "not joined to a group");
	if (!c->session_up)
		return ntc_fail(c, -ENOTCONN,
				"not connected to the relay (the reconnection verifies the mapping)");
	verify_begin(c, timeout_ms, false, false);
	return 0;
}

int nt_client_verify(struct nt_client *c, int timeout_ms)
{
	int64_t deadline = ntc_mono_ms() + timeout_ms;

	if (!c->joined || c->st == NTC_DONE)
		return ntc_fail(c, -ENOTCONN, "not joined to a group");
	if (!c->session_up)
		c->vf.quiet = true; /* reconnecting: wait for the verification it brings */
	else
		verify_begin(c, timeout_ms, true, false);
	c->vf.deadline = deadline;
	c->vf.timeout_ms = timeout_ms;
	while (c->vf.active || reconnecting(c)) {
		int err;

		if (ntc_mono_ms() >= deadline) {
			if (c->vf.active)
				verify_end(c, -ETIMEDOUT);
			else
				c->vf.result = verify_msg(c, -ETIMEDOUT);
			break;
		}
		err = wait_step(c, deadline);
		if (err)
			return ntc_fail(c, err, "poll: %s", strerror(-err));
	}
	c->vf.quiet = false;
	if (c->verified)
		return 0;
	if (c->st == NTC_DONE)
		return -ECONNRESET;
	return c->vf.result ? c->vf.result : verify_msg(c, -ETIMEDOUT);
}

int nt_client_poll(struct nt_client *c, int timeout_ms, const struct nt_client_callbacks *cb,
		   void *arg)
{
	struct pollfd pfd[2];
	int n = nt_client_fds(c, pfd, 2), t = nt_client_next_timeout(c);

	if (t < 0 || t > timeout_ms)
		t = timeout_ms;
	if (poll(pfd, (nfds_t)n, t) < 0 && errno != EINTR)
		return -errno;
	return nt_client_process(c, cb, arg) ? -ECONNRESET : 0;
}

int nt_client_send_media(struct nt_client *c, const void *buf, size_t len)
{
	if (!ntc_media_ok(buf, len))
		return -EINVAL;
	if (c->udp < 0)
		return -ENOTCONN;
	/* -ECONNREFUSED and the like: an ICMP error for an earlier datagram */
	if (sendto(c->udp, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&c->grant.media,
		   c->grant.media_len) < 0)
		return -errno;
	return 0;
}

int nt_client_leave_start(struct nt_client *c)
{
	int err;

	if (!c->joined)
		return ntc_fail(c, -ENOTCONN, "not joined to a group");
	if (c->st != NTC_UP || !c->session_up)
		return ntc_fail(c, -ENOTCONN, "not connected to the relay");
	if (c->cmd >= 0 || c->out_len)
		return -EBUSY;
	c->cmd_result = -EINPROGRESS;
	err = send_cmd(c, NT_CMD_LEAVE, NULL);
	if (err)
		conn_failed(c, err);
	return err;
}

int nt_client_leave(struct nt_client *c)
{
	int err;

	/* a command of the library's own (a token refresh) first */
	while (c->st == NTC_UP && c->cmd >= 0) {
		err = wait_step(c, -1);
		if (err)
			return err;
	}
	err = nt_client_leave_start(c);
	if (err)
		return err;
	while (c->cmd_result == -EINPROGRESS && c->st != NTC_DONE && c->cmd == NT_CMD_LEAVE) {
		err = wait_step(c, -1);
		if (err)
			return err;
	}
	if (c->cmd_result == -EINPROGRESS)
		return -ECONNRESET;
	return c->cmd_result;
}

int nt_client_quit_start(struct nt_client *c)
{
	int err;

	if (c->st == NTC_DONE)
		return 0;
	c->quitting = true;
	if (c->st != NTC_UP || c->cmd >= 0 || c->out_len) {
		finish(c, -ECONNRESET);
		return 0;
	}
	c->cmd_result = -EINPROGRESS;
	err = send_cmd(c, NT_CMD_QUIT, NULL);
	if (err)
		finish(c, -ECONNRESET);
	return 0;
}

void nt_client_close(struct nt_client *c)
{
	if (!c)
		return;
	if (c->st == NTC_UP && c->tls_up && !c->quitting) {
		int64_t until = ntc_mono_ms() + 500; /* a courtesy, not worth a long wait */

		c->timeout_ms = 500;
		nt_client_quit_start(c);
		while (c->st == NTC_UP && c->cmd_result == -EINPROGRESS && ntc_mono_ms() < until)
			if (wait_step(c, until))
				break;
	}
	held_deliver(c, &(struct nt_client_callbacks){ 0 }, NULL);
	ntc_tls_drop(c);
	SSL_SESSION_free(c->tls_sess);
	BIO_meth_free(c->bio_meth);
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

bool nt_client_joined(const struct nt_client *c)
{
	return c->joined && c->st != NTC_DONE;
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
