// SPDX-License-Identifier: GPL-2.0
/* nattrav-client: the run loop (connect, verify, send, count) and its output. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/rand.h>
#include "cli.h"
#include "nt_json.h"
#include "nt_line.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int cli_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("nattrav-client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

struct run {
	const struct cli *cli;
	struct nt_client *c;
	struct nt_client_stats *st;
	uint32_t ssrc;
	uint64_t sent, send_errors, invalid, own, after_leave;
	bool left, closed;
	bool peer_verified;	/* EVT GROUP said another member is verified */
	int verify_failed;	/* a verification the library ran failed: -errno */
	int64_t last_rx_ms;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void session_hex(const struct run *r, char *buf, size_t len)
{
	snprintf(buf, len, "%016" PRIx64, nt_client_grant(r->c)->session);
}

/* {"event":"NAME","k":"v",...} from key / value pairs, NULL terminated. */
static void json_event(const char *name, ...)
{
	const char *k, *v;
	struct nt_json j;
	va_list ap;

	nt_json_begin(&j, stdout);
	nt_json_obj(&j);
	nt_json_kstr(&j, "event", name);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		nt_json_kstr(&j, k, v);
	}
	va_end(ap);
	nt_json_obj_end(&j);
	nt_json_end(&j);
}

static int fail(const struct run *r, const char *stage, int err)
{
	const char *msg = r->c ? nt_client_error(r->c) : strerror(-err);

	if (r->cli->json) {
		struct nt_json j;

		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		nt_json_kstr(&j, "event", "error");
		nt_json_kstr(&j, "stage", stage);
		nt_json_ki64(&j, "code", r->c ? nt_client_err_code(r->c) : 0);
		nt_json_kstr(&j, "message", msg);
		nt_json_obj_end(&j);
		nt_json_end(&j);
	}
	return cli_error(CLI_EXIT_FAIL, "%s", msg);
}

static void print_verified(const struct run *r)
{
	char sid[20];

	session_hex(r, sid, sizeof(sid));
	if (r->cli->json)
		json_event("verified", "mapping", nt_client_mapping(r->c), "session", sid, NULL);
	else
		printf("verified: mapping %s (session %s)\n", nt_client_mapping(r->c), sid);
	fflush(stdout);
}

static void on_media(void *arg, const void *buf, size_t len)
{
	struct run *r = arg;
	struct nt_client_media m;
	int64_t lat;

	r->last_rx_ms = mono_ms();
	if (nt_client_media_decode(buf, len, &m)) {
		r->invalid++;
		return;
	}
	if (m.ssrc == r->ssrc) {
		r->own++; /* the relay must never send our media back to us */
		return;
	}
	if (r->left)
		r->after_leave++;
	lat = (int64_t)(nt_client_now_ns() - m.send_ns) / 1000;
	nt_client_stats_add(r->st, m.ssrc, m.seq, lat < 0 ? 0 : lat);
}

/* An event this client does not know: its name in lower case and its fields. */
static void json_other(const struct nt_client_event *ev)
{
	struct nt_line_reply rp;
	char name[sizeof(ev->name)];
	struct nt_json j;
	size_t i;

	if (nt_line_parse_reply(ev->line, strlen(ev->line), &rp))
		return json_event("server_event", "line", ev->line, NULL);
	for (i = 0; ev->name[i]; i++)
		name[i] = (char)(ev->name[i] | 0x20);
	name[i] = '\0';
	nt_json_begin(&j, stdout);
	nt_json_obj(&j);
	nt_json_kstr(&j, "event", name);
	for (i = 0; i < rp.nkv; i++) {
		if (!strcmp(rp.kv[i].key, "event"))
			continue;
		nt_json_kstr(&j, rp.kv[i].key, rp.kv[i].val);
	}
	nt_json_obj_end(&j);
	nt_json_end(&j);
}

static void json_udp_error(const char *name, const char *sid, const struct nt_client_event *ev)
{
	struct nt_json j;

	nt_json_begin(&j, stdout);
	nt_json_obj(&j);
	nt_json_kstr(&j, "event", name);
	nt_json_kstr(&j, "session", sid);
	nt_json_ki64(&j, "code", ev->code);
	nt_json_kstr(&j, "reason", ev->reason);
	nt_json_obj_end(&j);
	nt_json_end(&j);
}

/* members= of "EVT GROUP session=.. group=.. members=N mode=..": verified members, 0 if absent */
static unsigned long group_members(const char *line)
{
	const char *m = strstr(line, " members=");

	return m ? strtoul(m + 9, NULL, 10) : 0;
}

static void on_event(void *arg, const struct nt_client_event *ev)
{
	struct run *r = arg;
	static const char *const names[] = {
		[NT_CLIENT_EV_VERIFIED] = "verified", [NT_CLIENT_EV_EXPIRED] = "expired",
		[NT_CLIENT_EV_DENIED] = "denied",     [NT_CLIENT_EV_BYE] = "bye",
		[NT_CLIENT_EV_CLOSED] = "closed",     [NT_CLIENT_EV_UDP_ERROR] = "udp_error",
		[NT_CLIENT_EV_OTHER] = "server_event", [NT_CLIENT_EV_RECONNECTED] = "reconnected",
		[NT_CLIENT_EV_JOINED] = "joined", [NT_CLIENT_EV_VERIFY_FAILED] = "verify_failed",
		[NT_CLIENT_EV_LEFT] = "left", [NT_CLIENT_EV_TOKEN_REFRESHED] = "token_refreshed",
		[NT_CLIENT_EV_REDIRECTED] = "redirected",
	};
	const char *name = ev->kind < sizeof(names) / sizeof(names[0]) && names[ev->kind] ?
				   names[ev->kind] : "server_event";
	char sid[20], code[16];

	/* the mapping proven again (the library does it after a rebinding or expiry) */
	if (ev->kind == NT_CLIENT_EV_VERIFIED && !strcmp(ev->mapping, nt_client_mapping(r->c)))
		return print_verified(r);
	/* open and leave report these themselves */
	if (ev->kind == NT_CLIENT_EV_JOINED || ev->kind == NT_CLIENT_EV_LEFT)
		return;
	if (ev->kind == NT_CLIENT_EV_VERIFY_FAILED && !r->left) {
		r->verify_failed = -ev->code;
		return;
	}
	if (ev->kind == NT_CLIENT_EV_CLOSED)
		r->closed = true;
	/* latched: a member leaving later does not hold back the rest */
	if (ev->kind == NT_CLIENT_EV_OTHER && !strcmp(ev->name, "GROUP") &&
	    group_members(ev->line) >= 2)
		r->peer_verified = true;
	session_hex(r, sid, sizeof(sid));
	snprintf(code, sizeof(code), "%d", ev->code);
	if (ev->kind == NT_CLIENT_EV_REDIRECTED) {
		if (r->cli->json)
			json_event(name, "from", r->cli->opts.server, "to", nt_client_server(r->c),
				   "session", sid, NULL);
		else
			printf("redirected: from %s to %s (the group lives there)\n",
			       r->cli->opts.server, nt_client_server(r->c));
	} else if (r->cli->json) {
		if (ev->kind == NT_CLIENT_EV_UDP_ERROR)
			json_udp_error(name, sid, ev);
		else if (ev->kind == NT_CLIENT_EV_OTHER)
			json_other(ev);
		else
			json_event(name, "session", sid, "mapping", ev->mapping, "reason", ev->reason,
				   NULL);
	} else if (ev->kind == NT_CLIENT_EV_UDP_ERROR) {
		printf("%s: %s %s\n", name, code, ev->reason);
	} else {
		printf("%s: %s%s%s\n", name, ev->line[0] ? ev->line : "", ev->reason[0] ? " " : "",
		       ev->line[0] ? "" : ev->reason);
	}
	fflush(stdout);
}

static void print_summary(const struct run *r)
{
	struct nt_client_stats_summary s;

	nt_client_stats_summary(r->st, &s);
	if (r->cli->json) {
		struct nt_json j;

		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		nt_json_kstr(&j, "event", "summary");
		nt_json_ku64(&j, "sent", r->sent);
		nt_json_ku64(&j, "received", s.received);
		nt_json_ku64(&j, "lost", s.lost);
		nt_json_ku64(&j, "out_of_order", s.out_of_order);
		nt_json_ku64(&j, "duplicates", s.duplicates);
		nt_json_ku64(&j, "senders", s.senders);
		nt_json_ku64(&j, "send_errors", r->send_errors);
		nt_json_ku64(&j, "invalid", r->invalid);
		nt_json_ku64(&j, "own", r->own);
		if (r->cli->leave_ms)
			nt_json_ku64(&j, "received_after_leave", r->after_leave);
		nt_json_key(&j, "latency_us");
		nt_json_obj(&j);
		nt_json_ku64(&j, "p50", s.lat_p50_us);
		nt_json_ku64(&j, "p90", s.lat_p90_us);
		nt_json_ku64(&j, "p99", s.lat_p99_us);
		nt_json_ku64(&j, "max", s.lat_max_us);
		nt_json_obj_end(&j);
		nt_json_obj_end(&j);
		nt_json_end(&j);
	} else {
		printf("sent %" PRIu64 " (%" PRIu64 " send errors), received %" PRIu64
		       " from %" PRIu64 " sender(s): lost %" PRIu64 ", out of order %" PRIu64
		       ", duplicates %" PRIu64 ", invalid %" PRIu64 "\n",
		       r->sent, r->send_errors, s.received, s.senders, s.lost, s.out_of_order,
		       s.duplicates, r->invalid);
		if (r->cli->leave_ms)
			printf("received after leave: %" PRIu64 "\n", r->after_leave);
		printf("latency us: p50 %" PRIu64 " p90 %" PRIu64 " p99 %" PRIu64 " max %" PRIu64 "\n",
		       s.lat_p50_us, s.lat_p90_us, s.lat_p99_us, s.lat_max_us);
	}
	fflush(stdout);
}

static void print_connected(const struct run *r)
{
	const struct nt_client_grant *g = nt_client_grant(r->c);
	char sid[20];

	session_hex(r, sid, sizeof(sid));
	if (r->cli->json) {
		struct nt_json j;

		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		nt_json_kstr(&j, "event", "connected");
		nt_json_kstr(&j, "server", nt_client_server(r->c));
		nt_json_kstr(&j, "user", nt_client_user(r->c));
		nt_json_kstr(&j, "group", g->group);
		nt_json_kstr(&j, "session", sid);
		nt_json_kstr(&j, "media", g->media_str);
		nt_json_ku64(&j, "consent", g->consent_s);
		nt_json_ku64(&j, "keepalive", g->keepalive_s);
		nt_json_obj_end(&j);
		nt_json_end(&j);
	} else
		printf("connected to %s as %s: group %s, session %s, media %s\n",
		       nt_client_server(r->c), nt_client_user(r->c), g->group, sid, g->media_str);
	fflush(stdout);
}

static void send_due(struct run *r, uint64_t *next_ns, uint64_t interval_ns)
{
	uint8_t buf[1500];
	uint64_t now = mono_ns();
	int burst = 0;

	while (r->sent + r->send_errors < r->cli->send && now >= *next_ns && burst++ < 256) {
		struct nt_client_media m = { .pt = NT_CLIENT_MEDIA_PT, .ssrc = r->ssrc,
					     .seq = r->sent + r->send_errors + 1,
					     .send_ns = nt_client_now_ns() };
		int n = nt_client_media_encode(buf, sizeof(buf), r->cli->size, &m);

		if (n > 0 && !nt_client_send_media(r->c, buf, (size_t)n))
			r->sent++;
		else
			r->send_errors++;
		*next_ns += interval_ns;
	}
}

static int loop(struct run *r)
{
	const struct cli *cli = r->cli;
	const struct nt_client_callbacks cb = { .media = on_media, .event = on_event };
	uint64_t interval_ns = 1000000000ull / cli->rate, next_ns = mono_ns();
	int64_t start = mono_ms(), done_sending = cli->send ? 0 : start;
	int err;

	r->last_rx_ms = start;
	while (!stop) {
		int64_t now = mono_ms();
		int wait = 50;

		if (cli->duration_ms && now - start >= (int64_t)cli->duration_ms)
			break;
		if (!cli->duration_ms && cli->send && done_sending) {
			int64_t quiet = now - (r->last_rx_ms > done_sending ? r->last_rx_ms : done_sending);

			if (quiet >= (int64_t)cli->wait_ms)
				break;
		}
		if (cli->leave_ms && !r->left && now - start >= (int64_t)cli->leave_ms) {
			char sid[20];

			session_hex(r, sid, sizeof(sid));
			err = nt_client_leave(r->c);
			if (err)
				return fail(r, "leave", err);
			r->left = true;
			if (cli->json)
				json_event("left", "session", sid, NULL);
			else
				printf("left group (session %s)\n", sid);
			fflush(stdout);
		}
		/* the mapping could not be proven again (rebinding, expiry, reconnection) */
		if (r->verify_failed)
			return fail(r, "verify", r->verify_failed);
		if (cli->wait_peer_ms && !r->peer_verified && !r->left) {
			/* nothing sent yet: the schedule starts once someone can receive */
			if (now - start >= (int64_t)cli->wait_peer_ms) {
				cli_error(CLI_EXIT_FAIL, "no other member of the group verified within %llu s",
					  (unsigned long long)(cli->wait_peer_ms / 1000));
				return CLI_EXIT_FAIL;
			}
			next_ns = mono_ns();
		} else if (!r->left) {
			send_due(r, &next_ns, interval_ns);
			if (!done_sending && r->sent + r->send_errors >= cli->send)
				done_sending = mono_ms();
			if (r->sent + r->send_errors < cli->send) {
				uint64_t ns = mono_ns();

				wait = next_ns > ns ? (int)((next_ns - ns) / 1000000) : 0;
				if (wait > 50)
					wait = 50;
			}
		}
		err = nt_client_poll(r->c, wait, &cb, r);
		if (err == -ECONNRESET)
			return cli_error(CLI_EXIT_FAIL, "%s", nt_client_error(r->c));
	}
	return 0;
}

int cli_run(const struct cli *cli)
{
	struct run r = { .cli = cli };
	struct sigaction sa = { .sa_handler = on_signal };
	int err, rc;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r.st = nt_client_stats_new();
	if (!r.st || RAND_bytes((unsigned char *)&r.ssrc, sizeof(r.ssrc)) != 1)
		return cli_error(CLI_EXIT_FAIL, "out of memory");
	err = nt_client_open(&cli->opts, &r.c);
	if (err) {
		rc = fail(&r, "connect", err);
		goto out;
	}
	print_connected(&r);
	err = nt_client_verify(r.c, (int)cli->verify_ms);
	if (err) {
		rc = fail(&r, "verify", err);
		goto out;
	}
	print_verified(&r);
	rc = loop(&r);
	print_summary(&r);
out:
	nt_client_close(r.c);
	nt_client_stats_free(r.st);
	return rc;
}
