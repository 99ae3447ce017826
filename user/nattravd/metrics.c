// SPDX-License-Identifier: GPL-2.0
/*
 * --metrics: Prometheus text format (version 0.0.4) on GET /metrics, from a
 * minimal HTTP/1.0 responder on the epoll loop. One request per
 * connection, bounded head (NT_HTTP_REQ_MAX), one response, then close.
 * The per-CPU packet counters are summed only when scraped: the fast path
 * pays nothing for them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "nattravd.h"
#include "nt_ctlproto.h"
#include "nt_endpoint.h"
#include "nt_http.h"
#include "nt_log.h"

#define MX_CONNS_MAX 32
#define MX_TIMEOUT_NS 5000000000ull

struct mx_conn {
	struct nd_handle h;	/* first: epoll hands this back */
	bool used, dead;	/* dead: closed, freed at the next tick */
	uint64_t deadline_ns;
	size_t len;
	char req[NT_HTTP_REQ_MAX];
	char *out;		/* the whole response */
	size_t olen, off;
};

static struct mx_conn conns[MX_CONNS_MAX];

static const char *const stat_names[NT_STAT_MAX] = NT_STAT_NAMES;
static const char *const vfail_names[ND_VFAIL_MAX] = {
	[ND_VFAIL_STALE] = "stale_challenge", [ND_VFAIL_EXPIRED] = "challenge_expired",
	[ND_VFAIL_ADDRESS] = "wrong_address", [ND_VFAIL_DENIED] = "address_denied",
	[ND_VFAIL_QUOTA] = "quota",           [ND_VFAIL_INTERNAL] = "internal",
	[ND_VFAIL_UNREACHABLE] = "unreachable",
};
static const char *const refusal_names[NT_REF_MAX] = {
	[NT_REF_MALFORMED] = "malformed",	[NT_REF_NOT_REQUEST] = "not_request",
	[NT_REF_UNKNOWN_SESSION] = "unknown_session", [NT_REF_BAD_MAC] = "bad_mac",
	[NT_REF_REPLAY] = "replayed",		[NT_REF_STALE] = "stale_answer",
	[NT_REF_ADDRESS] = "wrong_address",	[NT_REF_DENIED] = "address_denied",
	[NT_REF_RATE] = "rate",
};
static const char *const exp_names[ND_EXP_MAX] = {
	[ND_EXP_CONSENT] = "consent", [ND_EXP_REBIND] = "rebind",
	[ND_EXP_ADMIN] = "admin",     [ND_EXP_SESSION_END] = "session_end",
};

void nd_count_expiry(struct nd *d, const char *reason)
{
	enum nd_expiry e = !reason ? ND_EXP_SESSION_END :
			   !strcmp(reason, "consent") ? ND_EXP_CONSENT :
			   !strcmp(reason, "rebind") ? ND_EXP_REBIND : ND_EXP_ADMIN;

	d->ev.expiries[e]++;
}

int nd_metrics_open(struct nd *d)
{
	struct sockaddr_storage ss;
	size_t len = sizeof(ss);
	char a[NT_ENDPOINT_STRLEN];
	int one = 1, fd, err;

	d->metrics.fd = -1;
	d->metrics.kind = ND_METRICS;
	if (!d->conf.metrics.family)
		return 0;
	nt_endpoint_format(&d->conf.metrics, a, sizeof(a));
	if (nt_endpoint_to_sockaddr(&d->conf.metrics, &ss, &len))
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 || listen(fd, 16) < 0) {
		err = -errno;
		nt_err("cannot serve metrics on %s: %s", a, strerror(-err));
		close(fd);
		return err;
	}
	d->metrics.fd = fd;
	err = nd_loop_add(d, &d->metrics, EPOLLIN);
	if (!err)
		nt_info("metrics on http://%s/metrics", a);
	return err;
}

static int count_fanout(struct nd *d, uint64_t *groups, uint64_t *members)
{
	static struct nt_fanout_group g;
	__u32 key, next, *prev = NULL;

	*groups = *members = 0;
	while (bpf_map_get_next_key(d->maps.groups_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		/* members only: not the per-CPU counters nt_maps_get_group() adds up */
		if (bpf_map_lookup_elem(d->maps.groups_fd, &key, &g))
			continue;
		(*groups)++;
		*members += g.n_members;
	}
	return 0;
}

#define HELP(f, name, type, text) \
	fprintf(f, "# HELP " name " " text "\n# TYPE " name " " type "\n")

static void render(struct nd *d, FILE *f)
{
	struct nt_counter c[NT_STAT_MAX];
	uint64_t fgroups = 0, fmembers = 0;
	bool maps_ok = !nt_maps_read_stats(&d->maps, c);
	const char *path = d->mode == NT_XDP_OFF ? "userspace" : "xdp";

	count_fanout(d, &fgroups, &fmembers);
	HELP(f, "nattrav_up", "gauge", "1 when nattravd runs and can read its maps.");
	fprintf(f, "nattrav_up %d\n", maps_ok ? 1 : 0);
	HELP(f, "nattrav_info", "gauge", "Version, interface and XDP mode in effect.");
	fprintf(f, "nattrav_info{version=\"%s\",iface=\"%s\",xdp_mode=\"%s\"} 1\n", NT_VERSION,
		d->conf.iface, nd_mode_name(d->mode));
	HELP(f, "nattrav_uptime_seconds", "gauge", "Seconds since nattravd started.");
	fprintf(f, "nattrav_uptime_seconds %llu\n",
		(unsigned long long)((nd_now_ns() - d->start_ns) / 1000000000ull));
	if (maps_ok) {
		HELP(f, "nattrav_packets_total", "counter",
		     "Packets to the media port by verdict of the XDP/TC programs (nt_stats).");
		for (int i = 0; i < NT_STAT_MAX; i++)
			fprintf(f, "nattrav_packets_total{reason=\"%s\"} %llu\n", stat_names[i],
				(unsigned long long)c[i].packets);
		HELP(f, "nattrav_bytes_total", "counter", "Bytes of those packets, by verdict.");
		for (int i = 0; i < NT_STAT_MAX; i++)
			fprintf(f, "nattrav_bytes_total{reason=\"%s\"} %llu\n", stat_names[i],
				(unsigned long long)c[i].bytes);
	}
	HELP(f, "nattrav_userspace_packets_total", "counter",
	     "Media seen by nattravd's own socket (XDP off, or before XDP took over), by verdict.");
	fprintf(f, "nattrav_userspace_packets_total{verdict=\"forwarded\"} %llu\n"
		   "nattrav_userspace_packets_total{verdict=\"drop_unverified\"} %llu\n"
		   "nattrav_userspace_packets_total{verdict=\"drop_no_peer\"} %llu\n"
		   "nattrav_userspace_packets_total{verdict=\"drop_send\"} %llu\n",
		(unsigned long long)d->cnt.forwarded, (unsigned long long)d->cnt.drop_unverified,
		(unsigned long long)d->cnt.drop_no_peer, (unsigned long long)d->cnt.drop_send);
	HELP(f, "nattrav_userspace_bytes_total", "counter", "Bytes nattravd forwarded itself.");
	fprintf(f, "nattrav_userspace_bytes_total %llu\n", (unsigned long long)d->cnt.fwd_bytes);
	HELP(f, "nattrav_control_messages_total", "counter",
	     "UDP control messages (probe, answer, keepalive) by result.");
	fprintf(f, "nattrav_control_messages_total{result=\"ok\"} %llu\n"
		   "nattrav_control_messages_total{result=\"bad\"} %llu\n",
		(unsigned long long)d->cnt.control, (unsigned long long)d->cnt.control_bad);
	HELP(f, "nattrav_udp_replies_withheld_total", "counter",
	     "UDP replies not sent: over the per-address or per-session rate, or larger than the request.");
	fprintf(f, "nattrav_udp_replies_withheld_total{reason=\"rate\"} %llu\n"
		   "nattrav_udp_replies_withheld_total{reason=\"session_rate\"} %llu\n"
		   "nattrav_udp_replies_withheld_total{reason=\"size\"} %llu\n",
		(unsigned long long)d->cnt.answers_limited,
		(unsigned long long)d->cnt.answers_limited_session,
		(unsigned long long)d->cnt.answers_too_big);
	HELP(f, "nattrav_udp_refused_total", "counter",
	     "UDP control messages that got no answer, by reason.");
	for (int i = 0; i < NT_REF_MAX; i++)
		fprintf(f, "nattrav_udp_refused_total{reason=\"%s\"} %llu\n", refusal_names[i],
			(unsigned long long)d->cnt.refused[i]);
	HELP(f, "nattrav_sessions", "gauge", "Sessions (clients joined to a group).");
	fprintf(f, "nattrav_sessions %zu\n", nt_sessions_count(&d->st));
	HELP(f, "nattrav_connections", "gauge", "TLS control connections.");
	fprintf(f, "nattrav_connections %zu\n", d->nconns);
	HELP(f, "nattrav_mappings", "gauge",
	     "Verified mappings by forwarding path (tc: members of fan-out groups).");
	fprintf(f, "nattrav_mappings{path=\"%s\"} %zu\n", path, d->nmappings);
	fprintf(f, "nattrav_mappings{path=\"%s\"} 0\n",
		d->mode == NT_XDP_OFF ? "xdp" : "userspace");
	fprintf(f, "nattrav_mappings{path=\"tc\"} %llu\n", (unsigned long long)fmembers);
	HELP(f, "nattrav_groups", "gauge", "Groups with at least one session.");
	fprintf(f, "nattrav_groups %zu\n", nt_groups_count(&d->st));
	HELP(f, "nattrav_fanout_groups", "gauge", "Fan-out groups in the nt_groups map.");
	fprintf(f, "nattrav_fanout_groups %llu\n", (unsigned long long)fgroups);
	HELP(f, "nattrav_verifications_total", "counter",
	     "Answers to a challenge: mappings verified, or why not.");
	fprintf(f, "nattrav_verifications_total{result=\"ok\",reason=\"verified\"} %llu\n",
		(unsigned long long)d->ev.verify_ok);
	for (int i = 0; i < ND_VFAIL_MAX; i++) {
		fprintf(f, "nattrav_verifications_total{result=\"failed\",reason=\"%s\"} %llu\n",
			vfail_names[i], (unsigned long long)d->ev.verify_failed[i]);
	}
	HELP(f, "nattrav_tls_handshakes_total", "counter", "TLS handshakes on the control port.");
	fprintf(f, "nattrav_tls_handshakes_total{result=\"ok\"} %llu\n"
		   "nattrav_tls_handshakes_total{result=\"failed\"} %llu\n",
		(unsigned long long)d->ev.tls_ok, (unsigned long long)d->ev.tls_failed);
	HELP(f, "nattrav_connections_unauthenticated", "gauge",
	     "Control connections that have not authenticated yet (the pre-auth budget).");
	fprintf(f, "nattrav_connections_unauthenticated %zu\n", d->nunauth);
	HELP(f, "nattrav_connections_refused_total", "counter",
	     "Control connections closed at accept, by the budget that was full.");
	fprintf(f, "nattrav_connections_refused_total{budget=\"all\"} %llu\n"
		   "nattrav_connections_refused_total{budget=\"unauthenticated\"} %llu\n"
		   "nattrav_connections_refused_total{budget=\"per_source\"} %llu\n",
		(unsigned long long)d->refused_full, (unsigned long long)d->refused_unauth,
		(unsigned long long)d->refused_per_source);
	HELP(f, "nattrav_auth_timeouts_total", "counter",
	     "Connections closed for not finishing TLS, HELLO and AUTH within --auth-timeout.");
	fprintf(f, "nattrav_auth_timeouts_total %llu\n", (unsigned long long)d->auth_timeouts);
	HELP(f, "nattrav_event_loop_stall_max_seconds", "gauge",
	     "Longest round of events the daemon's loop spent without waiting, since start.");
	fprintf(f, "nattrav_event_loop_stall_max_seconds %.6f\n", (double)d->loop_stall_max_ns / 1e9);
	HELP(f, "nattrav_expiries_total", "counter",
	     "Mappings removed, by reason (consent window, NAT rebinding, operator, session end).");
	for (int i = 0; i < ND_EXP_MAX; i++)
		fprintf(f, "nattrav_expiries_total{reason=\"%s\"} %llu\n", exp_names[i],
			(unsigned long long)d->ev.expiries[i]);
}

static void mx_close(struct mx_conn *c)
{
	if (c->dead)
		return;
	close(c->h.fd);
	free(c->out);
	c->out = NULL;
	c->dead = true;
}

static void mx_respond(struct nd *d, struct mx_conn *c, int status, const char *path)
{
	char *body = NULL, *out = NULL;
	size_t blen = 0, olen = 0;
	FILE *f = open_memstream(&body, &blen);
	FILE *o;

	if (!f) {
		mx_close(c);
		return;
	}
	if (status == 200 && strcmp(path, "/metrics"))
		status = 404;
	if (status == 200)
		render(d, f);
	else
		fprintf(f, "%d %s\n", status, nt_http_reason(status));
	fclose(f);
	o = open_memstream(&out, &olen);
	if (!o) {
		free(body);
		mx_close(c);
		return;
	}
	fprintf(o, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		   "Connection: close\r\n\r\n",
		status, nt_http_reason(status),
		status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain", blen);
	fwrite(body, 1, blen, o);
	fclose(o);
	free(body);
	c->out = out;
	c->olen = olen;
	c->off = 0;
	nd_loop_mod(d, &c->h, EPOLLOUT);
}

static void mx_write(struct mx_conn *c)
{
	while (c->off < c->olen) {
		ssize_t n = send(c->h.fd, c->out + c->off, c->olen - c->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				mx_close(c);
			return;
		}
		c->off += (size_t)n;
	}
	shutdown(c->h.fd, SHUT_WR);
	mx_close(c);
}

static void mx_accept(struct nd *d)
{
	for (;;) {
		struct mx_conn *c = NULL;
		int fd = accept4(d->metrics.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				nt_warn("metrics accept: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < MX_CONNS_MAX && !c; i++)
			if (!conns[i].used)
				c = &conns[i];
		if (!c) { /* a scraper does not need many at once */
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->h.kind = ND_METRICS;
		c->h.fd = fd;
		c->deadline_ns = nd_now_ns() + MX_TIMEOUT_NS;
		if (nd_loop_add(d, &c->h, EPOLLIN))
			mx_close(c);
	}
}

void nd_metrics_event(struct nd *d, struct nd_handle *h, uint32_t events)
{
	struct mx_conn *c = (struct mx_conn *)h;
	char path[NT_HTTP_PATH_MAX] = "";
	int status, rc;
	ssize_t n;

	if (h == &d->metrics) {
		mx_accept(d);
		return;
	}
	if (c->dead)
		return;
	if (c->out) {
		mx_write(c);
		return;
	}
	n = recv(c->h.fd, c->req + c->len, sizeof(c->req) - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		mx_close(c);
		return;
	}
	c->len += (size_t)n;
	rc = nt_http_parse(c->req, c->len, path, &status);
	if (rc == 0)
		return;
	mx_respond(d, c, rc > 0 ? 200 : status, path);
	if (!c->dead)
		mx_write(c);
}

void nd_metrics_tick(struct nd *d, uint64_t now)
{
	(void)d;
	for (int i = 0; i < MX_CONNS_MAX; i++) {
		struct mx_conn *c = &conns[i];

		if (!c->used)
			continue;
		if (c->dead)
			c->used = false;
		else if (now > c->deadline_ns)
			mx_close(c);
	}
}

void nd_metrics_close(struct nd *d)
{
	for (int i = 0; i < MX_CONNS_MAX; i++) {
		if (conns[i].used)
			mx_close(&conns[i]);
		conns[i].used = false;
	}
	if (d->metrics.fd >= 0) {
		close(d->metrics.fd);
		d->metrics.fd = -1;
	}
}
