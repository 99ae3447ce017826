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
#include <bpf/libbpf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <time.h>
#include "fleet.h"
#include "nattravd.h"
#include "nt_ctlproto.h"
#include "nt_version.h"
#include "nt_endpoint.h"
#include "nt_http.h"
#include "nt_log.h"
#include "nt_prom.h"

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
static const char *const stun_names[ND_STUN_MAX] = {
	[ND_STUN_ANSWERED] = "answered", [ND_STUN_REFUSED] = "unknown_attribute",
	[ND_STUN_MALFORMED] = "malformed", [ND_STUN_LIMITED] = "rate_limited",
	[ND_STUN_IGNORED] = "not_request",
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

/* Counted by the TC fan-out program for copies it sends, not for packets received. */
static bool stat_is_copy(int i)
{
	return i == NT_STAT_FANOUT_COPIES || i == NT_STAT_DROP_NO_GROUP;
}

/*
 * Each packet received on the media port is counted once, under the path
 * that judged it (the XDP program, or nattravd's own socket when XDP is
 * off), so a sum by verdict is the traffic. Media that reaches the socket
 * while XDP runs was judged there already and is not counted again. Copies
 * the relay makes of one packet (fan-out) are families of their own.
 */
static void render_packets(struct nd *d, FILE *f, const struct nt_counter *c)
{
	const struct { const char *verdict; uint64_t n; } us[] = {
		{ "forwarded", d->cnt.forwarded },	   { "drop_unverified", d->cnt.drop_unverified },
		{ "drop_no_peer", d->cnt.drop_no_peer }, { "drop_family", d->cnt.drop_family },
		{ "drop_rate", d->cnt.drop_rate },	   { "drop_send", d->cnt.drop_send },
	};

	HELP(f, "nattrav_received_packets_total", "counter",
	     "Packets received on the media port, each once, by the path that judged it and its verdict.");
	for (int i = 0; c && i < NT_STAT_MAX; i++)
		if (!stat_is_copy(i))
			fprintf(f, "nattrav_received_packets_total{path=\"xdp\",verdict=\"%s\"} %llu\n",
				stat_names[i], (unsigned long long)c[i].packets);
	for (size_t i = 0; i < sizeof(us) / sizeof(us[0]); i++)
		fprintf(f, "nattrav_received_packets_total{path=\"userspace\",verdict=\"%s\"} %llu\n",
			us[i].verdict, (unsigned long long)us[i].n);
	HELP(f, "nattrav_received_bytes_total", "counter",
	     "IP bytes of those packets, by path and verdict.");
	for (int i = 0; c && i < NT_STAT_MAX; i++)
		if (!stat_is_copy(i))
			fprintf(f, "nattrav_received_bytes_total{path=\"xdp\",verdict=\"%s\"} %llu\n",
				stat_names[i], (unsigned long long)c[i].bytes);
	fprintf(f, "nattrav_received_bytes_total{path=\"userspace\",verdict=\"forwarded\"} %llu\n",
		(unsigned long long)d->cnt.fwd_bytes);
	HELP(f, "nattrav_fanout_sent_packets_total", "counter",
	     "Copies sent to members of fan-out groups, by the path that made them.");
	if (c)
		fprintf(f, "nattrav_fanout_sent_packets_total{path=\"tc\"} %llu\n",
			(unsigned long long)c[NT_STAT_FANOUT_COPIES].packets);
	fprintf(f, "nattrav_fanout_sent_packets_total{path=\"userspace\"} %llu\n",
		(unsigned long long)d->cnt.fanout_copies);
	if (!c)
		return;
	HELP(f, "nattrav_fanout_sent_bytes_total", "counter",
	     "IP bytes of the copies the TC program sent.");
	fprintf(f, "nattrav_fanout_sent_bytes_total{path=\"tc\"} %llu\n",
		(unsigned long long)c[NT_STAT_FANOUT_COPIES].bytes);
	HELP(f, "nattrav_fanout_dropped_packets_total", "counter",
	     "Fan-out packets the TC program could not copy, by reason.");
	fprintf(f, "nattrav_fanout_dropped_packets_total{reason=\"no_group\"} %llu\n",
		(unsigned long long)c[NT_STAT_DROP_NO_GROUP].packets);
}

/*
 * GET /healthz: 200 while the relay does its job. The loop that answers is
 * the loop that serves clients, so a stuck loop is a request that times out;
 * beyond that, the maps must be readable and, unless media is forwarded in
 * userspace, nattrav's XDP program must still be the one on the interface
 * (a program detached or replaced by another tool leaves media unrelayed).
 */
static int health(struct nd *d, char *why, size_t n)
{
	struct nt_counter c[NT_STAT_MAX];
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id = 0;

	if (nt_maps_read_stats(&d->maps, c)) {
		snprintf(why, n, "unhealthy: the relay's maps cannot be read\n");
		return 503;
	}
	if (d->mode == NT_XDP_OFF) {
		snprintf(why, n, "ok: media forwarded by nattravd (XDP off)\n");
		return 200;
	}
	if (bpf_obj_get_info_by_fd(nt_xdp_prog_fd(d->xdp), &info, &len)) {
		snprintf(why, n, "unhealthy: nattrav's XDP program cannot be read\n");
		return 503;
	}
	if (bpf_xdp_query_id(d->ifindex, 0, &id) || id != info.id) {
		snprintf(why, n, "unhealthy: nattrav's XDP program %u is not attached to %s\n", info.id,
			d->conf.iface);
		return 503;
	}
	snprintf(why, n, "ok: XDP program %u on %s, %s mode\n", info.id, d->conf.iface,
		nd_mode_name(d->mode));
	return 200;
}

/* When the control port's certificate stops being valid, for an alert ahead of it. */
static void render_cert(struct nd *d, FILE *f)
{
	X509 *cert = d->ssl_ctx ? SSL_CTX_get0_certificate(d->ssl_ctx) : NULL;
	const ASN1_TIME *na = cert ? X509_get0_notAfter(cert) : NULL;
	struct tm tm;

	if (!na || !ASN1_TIME_to_tm(na, &tm))
		return;
	HELP(f, "nattrav_tls_certificate_expiry_timestamp_seconds", "gauge",
	     "Unix time the control port's TLS certificate expires (notAfter).");
	fprintf(f, "nattrav_tls_certificate_expiry_timestamp_seconds %lld\n", (long long)timegm(&tm));
}

/*
 * Per allocation (at most --turn-max-allocations series of each): what each
 * relayed, by direction and path, labelled with its relayed address and
 * user. Read once (the XDP counts are map lookups), written as two families.
 */
static void render_turn_allocations(struct nd *d, FILE *f)
{
	static const char *const dir[2] = { "to_peer", "to_client" };
	static const struct {
		const char *name, *help;
	} fam[2] = {
		{ "nattrav_turn_allocation_relayed_packets_total",
		  "Datagrams each TURN allocation relayed, by direction and path." },
		{ "nattrav_turn_allocation_relayed_bytes_total",
		  "Application bytes each TURN allocation relayed, by direction and path." },
	};
	size_t cap = nd_turn_allocations(d), n = 0;
	struct nd_turn_alloc_info *ai = cap ? calloc(cap, sizeof(*ai)) : NULL;
	char rel[NT_ENDPOINT_STRLEN];

	for (uint32_t slot = 0; n < cap && ai && !nd_turn_alloc_info(d, &slot, &ai[n]); slot++)
		n++;
	for (int m = 0; n && m < 2; m++) {
		/* HELP takes literals: these names are not */
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", fam[m].name, fam[m].help, fam[m].name);
		for (size_t i = 0; i < n; i++) {
			const uint64_t *us = m ? ai[i].bytes : ai[i].pkts;
			const uint64_t *xdp = m ? ai[i].xdp_bytes : ai[i].xdp_pkts;

			nt_endpoint_format(&ai[i].relayed, rel, sizeof(rel));
			for (int k = 0; k < 4; k++) {
				fprintf(f, "%s{relayed=\"%s\",user=\"", fam[m].name, rel);
				nt_prom_escape(f, ai[i].user);
				fprintf(f, "\",direction=\"%s\",path=\"%s\"} %llu\n", dir[k & 1],
					k < 2 ? "userspace" : "xdp",
					(unsigned long long)(k < 2 ? us[k & 1] : xdp[k & 1]));
			}
		}
	}
	free(ai);
}

/* TURN (--turn-secret-file): allocations, requests, data through the userspace path. */
static void render_turn(struct nd *d, FILE *f)
{
	static const char *const methods[ND_TREQ_MAX] = {
		"allocate", "refresh", "create_permission", "channel_bind", "send",
	};
	static const char *const results[ND_TRES_MAX] = { "ok", "unauthorized", "refused" };
	const struct nd_turn_stats *st = nd_turn_stats(d);
	uint64_t xp[2], xb[2], xrate;

	if (!st)
		return;
	HELP(f, "nattrav_turn_allocations", "gauge", "TURN allocations.");
	fprintf(f, "nattrav_turn_allocations %zu\n", nd_turn_allocations(d));
	HELP(f, "nattrav_turn_tcp_connections", "gauge", "TURN clients' connections over TCP.");
	fprintf(f, "nattrav_turn_tcp_connections %zu\n", nd_turn_tcp_connections(d));
	HELP(f, "nattrav_turn_tcp_refused_total", "counter",
	     "TURN connections over TCP refused: --turn-max-tcp, or 16 without an allocation from one address.");
	fprintf(f, "nattrav_turn_tcp_refused_total %llu\n", (unsigned long long)st->tcp_refused);
	HELP(f, "nattrav_turn_requests_total", "counter",
	     "TURN requests and Send indications by method and result (unauthorized: 401/438).");
	for (int i = 0; i < ND_TREQ_MAX; i++)
		for (int r = 0; r < ND_TRES_MAX; r++)
			fprintf(f, "nattrav_turn_requests_total{method=\"%s\",result=\"%s\"} %llu\n",
				methods[i], results[r], (unsigned long long)st->req[i][r]);
	nd_turn_xdp_counts(d, xp, xb, &xrate);
	HELP(f, "nattrav_turn_relayed_packets_total", "counter",
	     "Datagrams TURN relayed, by direction and path (xdp: channels relayed by the XDP program).");
	fprintf(f, "nattrav_turn_relayed_packets_total{direction=\"to_peer\",path=\"userspace\"} %llu\n"
		   "nattrav_turn_relayed_packets_total{direction=\"to_client\",path=\"userspace\"} %llu\n"
		   "nattrav_turn_relayed_packets_total{direction=\"to_peer\",path=\"xdp\"} %llu\n"
		   "nattrav_turn_relayed_packets_total{direction=\"to_client\",path=\"xdp\"} %llu\n",
		(unsigned long long)st->to_peer_pkts, (unsigned long long)st->to_client_pkts,
		(unsigned long long)xp[0], (unsigned long long)xp[1]);
	HELP(f, "nattrav_turn_relayed_bytes_total", "counter",
	     "Application bytes TURN relayed, by direction and path.");
	fprintf(f, "nattrav_turn_relayed_bytes_total{direction=\"to_peer\",path=\"userspace\"} %llu\n"
		   "nattrav_turn_relayed_bytes_total{direction=\"to_client\",path=\"userspace\"} %llu\n"
		   "nattrav_turn_relayed_bytes_total{direction=\"to_peer\",path=\"xdp\"} %llu\n"
		   "nattrav_turn_relayed_bytes_total{direction=\"to_client\",path=\"xdp\"} %llu\n",
		(unsigned long long)st->to_peer_bytes, (unsigned long long)st->to_client_bytes,
		(unsigned long long)xb[0], (unsigned long long)xb[1]);
	HELP(f, "nattrav_turn_dropped_packets_total", "counter",
	     "Datagrams TURN did not relay, by reason.");
	fprintf(f, "nattrav_turn_dropped_packets_total{reason=\"no_permission\"} %llu\n"
		   "nattrav_turn_dropped_packets_total{reason=\"no_allocation\"} %llu\n"
		   "nattrav_turn_dropped_packets_total{reason=\"rate\"} %llu\n"
		   "nattrav_turn_dropped_packets_total{reason=\"tcp_malformed\"} %llu\n"
		   "nattrav_turn_dropped_packets_total{reason=\"tcp_slow_reader\"} %llu\n",
		(unsigned long long)st->drop_no_permission, (unsigned long long)st->drop_no_allocation,
		(unsigned long long)(st->drop_rate + xrate), (unsigned long long)st->tcp_malformed,
		(unsigned long long)st->tcp_out_dropped);
	render_turn_allocations(d, f);
}

/* Drain and the fleet (fleet.h): families present only with --redis, but drain always. */
static void render_fleet(struct nd *d, FILE *f)
{
	const struct nd_fleet_stats *s = nd_fleet_stats(d);

	HELP(f, "nattrav_draining", "gauge",
	     "1 while nattravctl drain is on: no new groups, members of groups here still accepted.");
	fprintf(f, "nattrav_draining %d\n", d->draining ? 1 : 0);
	if (!s)
		return;
	HELP(f, "nattrav_fleet_redis_up", "gauge",
	     "1 while Redis answers this relay's heartbeats (--redis).");
	fprintf(f, "nattrav_fleet_redis_up %d\n", s->redis_up ? 1 : 0);
	HELP(f, "nattrav_fleet_relays", "gauge",
	     "Live relays of the fleet, this one included, as of the last heartbeat.");
	fprintf(f, "nattrav_fleet_relays %llu\n", (unsigned long long)s->relays_live);
	HELP(f, "nattrav_fleet_placements_total", "counter",
	     "JOINs of a group not live here, by where Redis placed it: here, elsewhere (redirect), nowhere (ERR 503).");
	fprintf(f, "nattrav_fleet_placements_total{result=\"here\"} %llu\n"
		   "nattrav_fleet_placements_total{result=\"redirect\"} %llu\n"
		   "nattrav_fleet_placements_total{result=\"unavailable\"} %llu\n",
		(unsigned long long)s->placed_here, (unsigned long long)s->redirects,
		(unsigned long long)s->unavailable);
	HELP(f, "nattrav_fleet_placement_timeouts_total", "counter",
	     "Placements Redis did not answer in time (also counted as unavailable).");
	fprintf(f, "nattrav_fleet_placement_timeouts_total %llu\n", (unsigned long long)s->timeouts);
	HELP(f, "nattrav_fleet_redis_connects_total", "counter",
	     "Times this relay (re)registered after connecting to Redis.");
	fprintf(f, "nattrav_fleet_redis_connects_total %llu\n",
		(unsigned long long)s->redis_connects);
	HELP(f, "nattrav_fleet_heartbeats_total", "counter", "Heartbeats Redis acknowledged.");
	fprintf(f, "nattrav_fleet_heartbeats_total %llu\n", (unsigned long long)s->heartbeats);
	HELP(f, "nattrav_fleet_split_groups_total", "counter",
	     "Heartbeats that found a group live here homed on another relay.");
	fprintf(f, "nattrav_fleet_split_groups_total %llu\n", (unsigned long long)s->split_groups);
}

static void render(struct nd *d, FILE *f)
{
	struct nt_counter c[NT_STAT_MAX];
	uint64_t fgroups = 0, fmembers = 0;
	struct nt_proc_stats ps;
	char why[128];
	bool maps_ok = !nt_maps_read_stats(&d->maps, c);
	const char *path = d->mode == NT_XDP_OFF ? "userspace" : "xdp";

	count_fanout(d, &fgroups, &fmembers);
	HELP(f, "nattrav_up", "gauge", "1 when nattravd runs and can read its maps.");
	fprintf(f, "nattrav_up %d\n", maps_ok ? 1 : 0);
	HELP(f, "nattrav_healthy", "gauge",
	     "1 when /healthz answers 200: maps readable and, unless XDP is off, nattrav's program attached.");
	fprintf(f, "nattrav_healthy %d\n", health(d, why, sizeof(why)) == 200);
	render_cert(d, f);
	HELP(f, "nattrav_info", "gauge", "Version, interface and XDP mode in effect.");
	fputs("nattrav_info{version=\"", f);
	nt_prom_escape(f, NT_VERSION);
	fputs("\",iface=\"", f);
	nt_prom_escape(f, d->conf.iface);
	fprintf(f, "\",xdp_mode=\"%s\"} 1\n", nd_mode_name(d->mode));
	HELP(f, "nattrav_start_time_seconds", "gauge", "Unix time nattravd started.");
	fprintf(f, "nattrav_start_time_seconds %.3f\n", d->start_unix_s);
	HELP(f, "nattrav_uptime_seconds", "gauge", "Seconds since nattravd started.");
	fprintf(f, "nattrav_uptime_seconds %llu\n",
		(unsigned long long)((nd_now_ns() - d->start_ns) / 1000000000ull));
	render_packets(d, f, maps_ok ? c : NULL);
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
	HELP(f, "nattrav_stun_binding_requests_total", "counter",
	     "Standard STUN Binding messages on the media port, by result (unknown_attribute: answered with 420).");
	for (int i = 0; i < ND_STUN_MAX; i++)
		fprintf(f, "nattrav_stun_binding_requests_total{result=\"%s\"} %llu\n", stun_names[i],
			(unsigned long long)d->cnt.stun_binding[i]);
	render_turn(d, f);
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
	render_fleet(d, f);
	if (!nt_proc_stats_read(&ps))
		nt_prom_process(f, &ps);
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
	if (status == 200 && !strcmp(path, "/metrics"))
		render(d, f);
	else if (status == 200 && !strcmp(path, "/healthz")) {
		char why[128];

		status = health(d, why, sizeof(why));
		fputs(why, f);
	}
	else if (status == 200)
		status = 404;
	if (status != 200 && strcmp(path, "/healthz"))
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
		status == 200 && !strcmp(path, "/metrics") ?
			"text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8", blen);
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
