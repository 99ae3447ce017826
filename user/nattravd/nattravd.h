/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nattravd: the relay daemon. One thread, one epoll loop: TLS control
 * connections, the media UDP sockets, a periodic timer, signals.
 * Functions return 0 or a negative errno unless said otherwise.
 */
#ifndef NATTRAVD_H
#define NATTRAVD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include "nattrav_abi.h"
#include "nt_addrcount.h"
#include "nt_bpf.h"
#include "nt_deny.h"
#include "nt_fwd.h"
#include "nt_line.h"
#include "nt_refusal.h"
#include "nt_session.h"
#include "nt_ticket.h"
#include "nt_token.h"
#include "nt_verify.h"
#include "turn.h"
#include "nexthop.h"

/* Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad usage or config. */
#define ND_EXIT_FAIL 1
#define ND_EXIT_USAGE 2

/* Read when it exists and --config is not given. */
#define ND_CONFIG_DEFAULT "/etc/nattrav/nattravd.conf"

#define ND_IDLE_TIMEOUT_MS 120000	/* no line and no UDP from the session */
#define ND_TICK_MS 500
/* UDP replies per source address and second, port ignored (NAT: many clients, one address). */
#define ND_ANSWERS_PER_ADDR_SEC 50
/* UDP ERRORs per session and second, whatever address they go to. */
#define ND_ANSWERS_PER_SESSION_SEC 10
#define ND_OUTBUF_MAX 65536		/* a client reading slower than this is dropped */
#define ND_MEDIA_BATCH 64
#define ND_MEDIA_MAXPKT 9216	/* jumbo frames: XDP forwards up to the MTU too */

struct nd_conf {
	const char *iface;
	uint8_t addr_v4[4];
	uint8_t addr_v6[16];
	bool have_v4, have_v6;
	uint16_t control_port, media_port;
	const char *cert, *key, *secret_file, *pin_dir, *config;
	const char *client_ca;		/* mutual TLS: NULL, no client certificate asked */
	enum nt_xdp_mode xdp_mode;
	enum nd_nh_mode next_hop;
	struct nt_deny deny;
	uint32_t max_mappings, max_groups, max_connections;
	/* pre-auth budget: connections not yet authenticated, in all and per source address */
	uint32_t max_unauth, max_unauth_per_source;
	uint32_t auth_timeout_s;	/* accept to AUTH done */
	uint32_t max_sessions_per_user, max_groups_per_user;
	uint32_t max_token_ttl_s;	/* 0: no limit */
	uint32_t max_members;		/* per group, 2..NT_GROUP_MAX_MEMBERS */
	uint32_t max_pps, burst;	/* per sender; max_pps 0: no limit */
	int log_level;
	uint32_t consent_s;
	bool keep_on_exit;
	bool force;			/* replace another's XDP / TC program */
	const char *ctl_socket;		/* "off": none */
	struct nt_endpoint metrics;	/* family 0: no metrics endpoint */
	struct nd_turn_conf turn;
	/* fleet (fleet.c): redis NULL, a lone relay */
	const char *redis;		/* "IP:PORT" ([v6]:PORT) */
	const char *redis_password_file;
	const char *relay_id;		/* default: the host name */
	const char *advertise;		/* "HOST:PORT"; default: the IPv4 address, control port */
};

/*
 * Parse flags and the config file into c. Returns 0, or the exit code to use.
 * *help: --help or --version was asked for and answered on stdout; exit 0.
 */
int nd_conf_parse(struct nd_conf *c, int argc, char **argv, bool *help);
/* Frees what one parse owns (the deny list); its strings stay for the process. */
void nd_conf_free(struct nd_conf *c);
void nd_conf_strings_free(void);
void nd_usage(FILE *f);

enum nd_kind { ND_LISTEN, ND_MEDIA, ND_CONN, ND_TIMER, ND_SIGNAL, ND_CTL, ND_METRICS,
	       ND_NETLINK, ND_TURN_RELAY, ND_REDIS, ND_TURN_TCP_LISTEN, ND_TURN_TCP };

/* What epoll hands back: every watched object starts with one. */
struct nd_handle {
	enum nd_kind kind;
	int fd;
	int family;	/* ND_LISTEN, ND_MEDIA: AF_INET or AF_INET6 */
};

/* Verdicts of userspace-seen media, for STATUS and debug logs. */
/* STUN Binding requests on the media port, by what became of them (metrics.c names them). */
enum nd_stun_result { ND_STUN_ANSWERED, ND_STUN_REFUSED, ND_STUN_MALFORMED, ND_STUN_LIMITED,
		      ND_STUN_IGNORED, ND_STUN_MAX };

struct nd_counters {
	/* UDP replies not sent: per-address rate, per-session rate (probes, errors); too long */
	uint64_t answers_limited, answers_limited_session, answers_too_big;
	/* control datagrams refused (no answer), by reason */
	uint64_t refused[NT_REF_MAX];
	uint64_t forwarded, fwd_bytes, drop_unverified, drop_no_peer,
		drop_family, drop_send, media_with_xdp, control, control_bad,
		drop_rate, fanout_copies;
	uint64_t stun_binding[ND_STUN_MAX];
};

/* Daemon-side events, for --metrics (metrics.c names them). */
enum nd_vfail { ND_VFAIL_STALE, ND_VFAIL_EXPIRED, ND_VFAIL_ADDRESS, ND_VFAIL_DENIED,
		ND_VFAIL_QUOTA, ND_VFAIL_INTERNAL, ND_VFAIL_UNREACHABLE, ND_VFAIL_MAX };
enum nd_expiry { ND_EXP_CONSENT, ND_EXP_REBIND, ND_EXP_ADMIN, ND_EXP_SESSION_END, ND_EXP_MAX };
struct nd_events {
	uint64_t verify_ok, verify_failed[ND_VFAIL_MAX];
	uint64_t tls_ok, tls_failed;
	uint64_t expiries[ND_EXP_MAX];
};

/*
 * A mapping found in the pinned map at start: it keeps forwarding for one
 * consent window, for its session to come back; then it goes.
 */
struct nd_orphan {
	bool used;
	struct nt_endpoint src;
	uint32_t group_id;
	uint64_t session_id;	/* whose: a RESUME of it takes the mapping back */
	uint64_t adopted_ns;
};

struct nd_conn;
struct nd_fleet;

struct nd {
	struct nd_conf conf;
	int epfd;
	struct nd_handle listen[2], media[2], timer, sig;
	int nlisten, nmedia;
	SSL_CTX *ssl_ctx;
	struct nt_token_secrets secrets;	/* the first mints (apps), any verifies */
	uint8_t secret[NT_TOKEN_SECRET_MAX];	/* the first: the ticket key's source */
	size_t secret_len;
	uint8_t ticket_key[NT_TICKET_KEY_LEN];	/* from the secret: resume tickets */
	int ifindex;
	struct nt_xdp *xdp;
	struct nt_maps maps;
	enum nt_xdp_mode mode;		/* what is in effect */
	struct nt_sessions st;
	struct nt_verify ver;
	struct nt_ratelimit *replies;	/* UDP replies per source address */
	struct nt_refusals refusals;	/* since the last summary line */
	uint64_t refusals_ns;		/* when that line was due last */
	struct nt_fwd fwd;
	struct nd_nexthop *nh;		/* NULL with --xdp-mode off */
	struct nd_conn **conns;
	size_t nconns;
	struct nt_freelist conn_slots;	/* free entries of conns */
	/* connections closed or doomed this round, for nd_conns_reap */
	struct nd_conn **reap;
	size_t nreap;
	/* connections told an event this round, written once at its end */
	struct nd_conn **flushq;
	size_t nflush;
	/* pre-auth budget: connections not yet authenticated, in all and per address */
	size_t nunauth;
	struct nt_addrcount unauth_src;
	/* connections refused at accept since the last summary line */
	struct {
		uint64_t full, unauth, per_source;
		struct nt_endpoint last;
		uint64_t since_ns;
	} refused;
	/* refused connections by budget, since start (metrics) */
	uint64_t refused_full, refused_unauth, refused_per_source, auth_timeouts;
	uint64_t loop_stall_max_ns;	/* longest round of events, since start */
	struct nd_orphan *orphans;
	size_t norphans;
	/* orphans by address, by session and by group id, made once adopted */
	uint64_t orphan_hkey[2];
	struct nt_hidx orphan_by_src, orphan_by_session, orphan_by_group;
	size_t nmappings;		/* session + orphan entries we own */
	struct nd_counters cnt;
	uint64_t pkt_cost_ns, burst_ns;	/* the sender rate in effect (nt_config too) */
	struct nd_events ev;
	uint64_t start_ns;
	double start_unix_s;		/* the same moment on the wall clock */
	struct nd_handle ctl, metrics;	/* listening sockets; fd -1 when off */
	struct nd_turn *turn;		/* NULL: TURN off */
	bool stop;
	bool draining;			/* nattravctl drain: no new groups here */
	struct nd_fleet *fleet;		/* NULL without --redis (fleet.h) */
	uint64_t last_stats_ns;
	int argc;			/* kept for SIGHUP */
	char **argv;
};

uint64_t nd_now_ns(void);
const char *nd_mode_name(enum nt_xdp_mode m);

/* main.c: why --auth-secret-file was refused, for an error line */
const char *nd_secrets_errstr(int err);

/* tls.c: a server context from PEM files; errors printed as one line. */
int nd_tls_ctx(const char *cert, const char *key, const char *client_ca, SSL_CTX **out);

/* reload.c: SIGHUP re-reads the flags and config file, applies what can change live */
int nd_reload(struct nd *d);

/* control.c */
/* Bind the control port(s): fails early when taken, accepts nothing yet. */
int nd_listen_open(struct nd *d);
/* Listen and accept: a listening control port means the daemon is ready. */
int nd_listen_start(struct nd *d);
void nd_conn_accept(struct nd *d, struct nd_handle *h);
void nd_conn_event(struct nd *d, struct nd_conn *c, uint32_t events);
void nd_conns_tick(struct nd *d, uint64_t now);
void nd_conns_shutdown(struct nd *d);
/* Free connections closed during this round of events. */
void nd_conns_reap(struct nd *d);
/* Write the events told this round: one TLS record per connection, not one per line. */
void nd_conns_flush(struct nd *d);
/* Send a full line to the session's connection, if it still has one (by nd_conns_flush). */
void nd_session_tell(struct nd *d, struct nt_session *s, const char *line);
void nd_conn_touch(struct nt_session *s, uint64_t now);
/* The connection authenticated: it leaves the pre-auth budget. */
void nd_conn_authed(struct nd *d, struct nd_conn *c);
/* Sessions whose connection dropped and that did not resume within the consent window end. */
void nd_sessions_tick(struct nd *d, uint64_t now);

/* media.c */
int nd_media_open(struct nd *d);
void nd_media_event(struct nd *d, struct nd_handle *h);
int nd_media_send(struct nd *d, struct nd_handle *h,
		  const struct nt_endpoint *to, const void *buf, size_t len);
/* --max-pps / --burst into nt_config and the userspace forwarder (start, SIGHUP). */
int nd_rate_apply(struct nd *d);

/* verify.c: control messages on the media port */
/* Refused peer: nt_addr_denied's ranges plus the relay's own addresses. */
bool nd_addr_denied(const struct nd *d, const struct nt_endpoint *ep, const char **why);
/* True when ep's address (any port) is one of the relay's own (--addr). */
bool nd_own_addr(const struct nd *d, const struct nt_endpoint *ep);
/*
 * stun.c: a standard STUN Binding message answered (or dropped) and true;
 * false for anything else, which is nattrav's own control framing.
 */
bool nd_stun_input(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
		   const uint8_t *buf, size_t len);
void nd_wire_input(struct nd *d, struct nd_handle *h,
		   const struct nt_endpoint *src, const uint8_t *buf,
		   size_t len);
/* Every NT_REFUSAL_INTERVAL_S: one log line for the datagrams refused meanwhile. */
void nd_wire_tick(struct nd *d, uint64_t now);

/* mapping.c: sessions' mappings in the BPF map and the forwarding table */
int nd_mapping_install(struct nd *d, struct nt_session *s,
		       const struct nt_endpoint *ep);
/* reason: the EVT EXPIRED reason (consent, rebind, admin), NULL for no event. */
void nd_mapping_remove(struct nd *d, struct nt_session *s, const char *reason,
		       const char *why);
/* End a session: mapping out, challenges forgotten, group left. */
void nd_session_end(struct nd *d, struct nt_session *s, const char *why);
/* The session and group tables, with group ids kept apart from the maps' (operator groups, orphans). */
int nd_sessions_init(struct nd *d);
int nd_orphans_adopt(struct nd *d);
/* Orphans whose address (or peer's) is denied now go (SIGHUP). */
void nd_orphans_recheck(struct nd *d);
/* The operator kicks an adopted mapping: out of the map, the forwarding table and its group. -ENOENT: no such orphan. */
int nd_orphan_kick(struct nd *d, const struct nt_endpoint *ep);
/* The adopted mapping of session id, or NULL. */
const struct nt_endpoint *nd_orphan_of_session(struct nd *d, uint64_t id);
/* Relay g as its verified members are now: alone, pair or fan-out (nt_group.h). */
void nd_group_sync(struct nd *d, struct nt_group *g);
void nd_mappings_tick(struct nd *d, uint64_t now);
void nd_mappings_clear(struct nd *d);

/* ctlsock.c: the local control socket (STATUS, KICK) for nattravctl */
int nd_ctl_open(struct nd *d);
void nd_ctl_event(struct nd *d, struct nd_handle *h, uint32_t events);
void nd_ctl_tick(struct nd *d, uint64_t now);
void nd_ctl_close(struct nd *d);

/* metrics.c: Prometheus text on GET /metrics (--metrics) */
int nd_metrics_open(struct nd *d);
void nd_metrics_event(struct nd *d, struct nd_handle *h, uint32_t events);
void nd_metrics_tick(struct nd *d, uint64_t now);
void nd_metrics_close(struct nd *d);
/* Count the removal of a mapping by its EVT EXPIRED reason (NULL: session end). */
void nd_count_expiry(struct nd *d, const char *reason);

/* loop.c */
int nd_loop_init(struct nd *d);
/* A non-blocking TCP socket bound to addr:port (not listening yet): fd, or -errno. */
int nd_tcp_bind(int family, const void *addr, uint16_t port);
int nd_loop_add(struct nd *d, struct nd_handle *h, uint32_t events);
int nd_loop_mod(struct nd *d, struct nd_handle *h, uint32_t events);
int nd_loop_run(struct nd *d);

#endif /* NATTRAVD_H */
