/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * nattrav client library: what an application links to reach a nattrav
 * relay (docs/protocol.md). TLS control channel, token auth, group join,
 * mapping verification over UDP, keepalives, media on one UDP socket.
 *
 *	NT_CLIENT_OPTS(o, .server = "relay.example.org", .ca_file = ...,
 *		       .token = tok, .group = "room1");
 *	struct nt_client *c;
 *	if (nt_client_open(&o, &c) || nt_client_verify(c, 5000)) {
 *		fprintf(stderr, "%s\n", c ? nt_client_error(c) : "out of memory");
 *		...
 *	}
 *	while (running)
 *		nt_client_poll(c, 100, &callbacks, app);	// media in, keepalives, events
 *	nt_client_close(c);
 *
 * The same flow without blocking, from the application's own event loop
 * (epoll, libuv, GLib): nt_client_start(), then on every wake-up
 *
 *	n = nt_client_fds(c, pfd, 2);		// (re)register these, level-triggered
 *	t = nt_client_next_timeout(c);		// ms until process must run, -1: none
 *	... wait ...
 *	err = nt_client_process(c, &callbacks, app);	// never blocks
 *
 * The library then connects, authenticates, joins, verifies the mapping,
 * sends keepalives, re-verifies after a NAT rebinding, reconnects and
 * resumes after a drop or a relay restart, and reports each step as an
 * event. nt_client_open / verify / leave / close are that same state
 * machine, run to completion with poll(2).
 *
 * Functions return 0 (or a length) on success, a negative errno otherwise;
 * nt_client_error() then says what went wrong in one line.
 *
 * Media is any datagram: RTP, SRTP, DTLS, QUIC or the application's own
 * framing. Only nattrav's control framing is reserved: a datagram of 20 bytes
 * or more whose first two bits are 00 and whose bytes 4..7 are the STUN magic
 * cookie 0x2112A442 (docs/protocol.md, "Telling control from media").
 *
 * Link with `pkg-config --cflags --libs nattrav-client`; only nt_client_*
 * symbols are exported. Licence: LGPL-2.1 OR BSD-2-Clause.
 *
 * Threads: the library has no global state (no static variables, no
 * signal handlers, no global OpenSSL settings changed), so clients on
 * different threads are independent. One client is used by one thread at
 * a time: calls on the same client must not overlap. Callbacks (media,
 * event, token_refresh) run on the calling thread, inside
 * nt_client_process or nt_client_poll (token_refresh also inside the
 * blocking calls); media that arrives during open / verify / leave is kept
 * for the next of those.
 *
 * Signals: nothing it sends raises SIGPIPE (MSG_NOSIGNAL on every socket
 * write, TLS included), so a relay that resets the connection cannot kill
 * an application that keeps SIGPIPE at its default disposition.
 *
 * Blocking: the one step that can block is the name lookup (getaddrinfo)
 * when opts->server is a host name, at each connection attempt; pass an IP
 * literal for a loop that must never block.
 */
#ifndef NATTRAV_CLIENT_H
#define NATTRAV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What this header declares is the library's API: exported from the shared library. */
#pragma GCC visibility push(default)

#define NT_CLIENT_PORT_DEFAULT 4433	/* TLS control port */
#define NT_CLIENT_KEY_LEN 32		/* session key bytes */
#define NT_CLIENT_ADDRSTRLEN 56		/* "[v6]:port" + NUL */
#define NT_CLIENT_ERRLEN 256

struct nt_client;

/*
 * Options of nt_client_open. sz is sizeof(struct nt_client_opts) as the
 * caller was built: fields are only ever added at the end, a library reads
 * the ones the caller knows of and refuses (-EINVAL) a larger struct whose
 * extra fields it does not know are set. Declare it with NT_CLIENT_OPTS.
 */
struct nt_client_opts {
	size_t sz;
	const char *server;	/* "host", "host:port", "[v6]" or "[v6]:port" */
	const char *ca_file;	/* PEM CA the server certificate must chain to */
	const char *cert_file;	/* optional client certificate (mutual TLS) */
	const char *key_file;	/* its key; required with cert_file */
	const char *token;	/* "<expiry>:<user>:<mac>" */
	const char *group;	/* group to join */
	const char *bind;	/* optional local UDP "ip:port" */
	int timeout_ms;		/* connect + handshake + each reply; 0: 5000 */
	/*
	 * By default, when the TLS connection drops or the relay restarts,
	 * nt_client_poll reconnects (backoff with jitter) and resumes the
	 * session with its ticket, or joins again with the token; media keeps
	 * its UDP socket. true: a drop ends the client (NT_CLIENT_EV_CLOSED).
	 */
	bool no_reconnect;
	/*
	 * By default the library proves the mapping again on its own when it
	 * learns the old one is gone: EVT EXPIRED for it, a signed 438 to a
	 * keepalive (the NAT rebound: the relay sees a new source), or a
	 * resumption that found no mapping; failures are retried every 5 s.
	 * true: leave that to the application (nt_client_verify*).
	 */
	bool no_auto_verify;
	/*
	 * Optional: called from the library's own loop when the token expires
	 * within 60 s, before a reconnection authenticates with it and while
	 * connected (the relay then extends the session with AUTH, and sends a
	 * new resume ticket). Write a fresh token ("<expiry>:<user>:<mac>",
	 * same user) and its NUL into buf (cap bytes) and return 0; a negative
	 * errno keeps the old token (asked again 10 s later).
	 */
	int (*token_refresh)(void *arg, char *buf, size_t cap);
	void *token_refresh_arg;
};

/*
 * A struct nt_client_opts called NAME, its size set, fields as designated
 * initializers in declaration order (C99, or C++20).
 */
#define NT_CLIENT_OPTS(NAME, ...)                                          \
	struct nt_client_opts NAME = { .sz = sizeof(struct nt_client_opts), \
				       __VA_ARGS__ }

/* What the server granted with OK JOIN. */
struct nt_client_grant {
	uint64_t session;
	uint8_t key[NT_CLIENT_KEY_LEN];
	struct sockaddr_storage media;	/* where probes and media go */
	socklen_t media_len;
	char media_str[NT_CLIENT_ADDRSTRLEN];
	char group[65];
	uint32_t consent_s;	/* consent window; 30 when not given */
	uint32_t keepalive_s;	/* longest keepalive gap; 10 when not given */
};

enum nt_client_event_kind {
	NT_CLIENT_EV_VERIFIED = 1,	/* mapping is relayed (also after a rebind) */
	NT_CLIENT_EV_EXPIRED,		/* mapping removed; nt_client_verify again */
	NT_CLIENT_EV_DENIED,		/* the relay refuses our observed address */
	NT_CLIENT_EV_BYE,		/* the server is closing the connection */
	NT_CLIENT_EV_CLOSED,		/* TLS connection ended */
	NT_CLIENT_EV_UDP_ERROR,		/* a signed UDP ERROR for our session */
	NT_CLIENT_EV_OTHER,		/* an EVT this library does not know */
	NT_CLIENT_EV_RECONNECTED,	/* back after a drop: reason "resumed" (same session)
					 * or "rejoined" (a new one); mapping if verified */
	NT_CLIENT_EV_JOINED,		/* nt_client_start: the session is granted
					 * (nt_client_grant() is valid) */
	NT_CLIENT_EV_VERIFY_FAILED,	/* a verification the library ran (or
					 * nt_client_verify_start) failed: code = -errno,
					 * reason = the error text */
	NT_CLIENT_EV_LEFT,		/* nt_client_leave_start: LEAVE done */
	NT_CLIENT_EV_TOKEN_REFRESHED,	/* token_refresh gave a new token, now in use */
	NT_CLIENT_EV_REDIRECTED,	/* at open: the group lives on another relay of the
					 * fleet, joined there; reason: its HOST:PORT, line:
					 * the ERR 300 text, nt_client_server() the relay now */
};

struct nt_client_event {
	enum nt_client_event_kind kind;
	char name[16];				/* EVT name ("EXPIRED"), "" if none */
	char mapping[NT_CLIENT_ADDRSTRLEN];	/* mapping= field, "" if none */
	char reason[128];			/* reason= field, UDP error reason */
	int code;				/* UDP_ERROR: STUN error code */
	char line[520];				/* the EVT line as received */
};

struct nt_client_callbacks {
	/* A datagram that is not a control message (media from the relay). */
	void (*media)(void *arg, const void *buf, size_t len);
	void (*event)(void *arg, const struct nt_client_event *ev);
};

/*
 * Connect (TLS 1.2+, server certificate checked against ca_file and the
 * host name or IP of opts->server), HELLO, AUTH, JOIN, and open the UDP
 * socket. *out is set even on failure (unless -ENOMEM) so nt_client_error()
 * can tell why; close it either way. -EACCES: the server refused (its ERR
 * code is nt_client_err_code()), -EPROTO: TLS or protocol failure.
 */
int nt_client_open(const struct nt_client_opts *opts, struct nt_client **out);
/*
 * Prove the UDP mapping: probe / challenge / answer, then wait for
 * EVT VERIFIED on TLS, re-probing with backoff. -ETIMEDOUT when nothing
 * verified within timeout_ms, -EPERM when the server denied the address.
 */
int nt_client_verify(struct nt_client *c, int timeout_ms);
/*
 * One round of work, waiting at most timeout_ms: poll(2) on nt_client_fds
 * until nt_client_next_timeout, then nt_client_process (keepalives,
 * media to cb->media, events to cb->event, the reconnection after a drop).
 * Returns 0, or -ECONNRESET once the TLS connection is gone for good (a
 * drop with no_reconnect, BYE reason=admin or token-expired, or a relay
 * that stayed away longer than it could resume).
 */
int nt_client_poll(struct nt_client *c, int timeout_ms, const struct nt_client_callbacks *cb,
		   void *arg);
/*
 * Send one media datagram (1..65507 bytes, any content but nattrav's control
 * framing, see above) to the relay. -EINVAL for an empty, oversized or
 * control-framed datagram; -EAGAIN when the socket buffer is full; an ICMP
 * error for an earlier datagram may come back here (-ECONNREFUSED).
 */
int nt_client_send_media(struct nt_client *c, const void *buf, size_t len);

/* One datagram of a batch. */
struct nt_client_msg {
	void *buf;
	size_t len;	/* send: its length; receive: buf's capacity in, the length out */
	uint32_t flags;	/* receive: NT_CLIENT_MSG_TRUNC */
};
#define NT_CLIENT_MSG_TRUNC 1u	/* longer than the buffer: the rest was dropped */

/*
 * Send n datagrams in one system call (sendmmsg). Returns how many were
 * sent, from the first; fewer than n when the socket buffer filled up.
 * -errno when not even the first went (-EINVAL: one of them is empty,
 * oversized or control-framed; nothing is sent then).
 */
int nt_client_send_media_batch(struct nt_client *c, const struct nt_client_msg *msgs,
			       unsigned int n);
/*
 * Receive up to n (at most 64) media datagrams from the relay without
 * waiting (recvmmsg): returns how many were stored into msgs[0..], 0 when
 * none is waiting. Control messages among them are taken as nt_client_poll
 * takes them (their events come with the next poll), datagrams from anyone
 * but the relay are dropped, and later datagrams are copied down to close
 * the gaps: give every message a buffer of the same size, at least 1500
 * bytes (a control message cut short is lost). Call it when
 * nt_client_udp_fd() is readable; nt_client_poll still runs keepalives and
 * events.
 */
int nt_client_recv_media_batch(struct nt_client *c, struct nt_client_msg *msgs, unsigned int n);
/* LEAVE the group (session ends, mappings removed); the UDP socket stays open. */
int nt_client_leave(struct nt_client *c);
/*
 * QUIT if still connected (waiting up to 500 ms for OK QUIT, unless
 * nt_client_quit_start ran first), close everything, free c. NULL is fine.
 */
void nt_client_close(struct nt_client *c);

/* ---- non-blocking: the same client driven from the application's loop ---- */

/*
 * Check the options, copy them, and start connecting (the TCP connect is
 * under way when this returns). Nothing else happens until
 * nt_client_process: TLS, HELLO, AUTH, JOIN (NT_CLIENT_EV_JOINED), then
 * the mapping's verification (NT_CLIENT_EV_VERIFIED, or
 * NT_CLIENT_EV_VERIFY_FAILED and another try 5 s later unless the relay
 * denied the address). A failure before JOIN ends the client:
 * NT_CLIENT_EV_CLOSED with the reason, and nt_client_process returns the
 * error (-EACCES refused, -EPROTO TLS or protocol, -ETIMEDOUT, -errno of
 * connect). *out is set even on failure (unless -ENOMEM); close it either way.
 */
int nt_client_start(const struct nt_client_opts *opts, struct nt_client **out);
/*
 * The descriptors to watch now and what for (POLLIN, POLLOUT) into fds
 * (room for max; 2 is always enough); returns how many. They change: the
 * TLS socket is a new one after each reconnection (possibly with the same
 * number, the old one closed) and wants POLLOUT while connecting. Call it
 * after every nt_client_process and register again, level-triggered: with
 * epoll, EPOLL_CTL_ADD, and EPOLL_CTL_MOD when that says EEXIST.
 */
int nt_client_fds(const struct nt_client *c, struct pollfd *fds, int max);
/* Milliseconds until nt_client_process must run even with no fd ready; 0: now, -1: none. */
int nt_client_next_timeout(const struct nt_client *c);
/*
 * Do what is ready and due, without blocking: read the sockets, advance
 * the connection, the verification and a reconnection, send keepalives,
 * then give media and queued events to cb (NULL: events wait for a later
 * call). 0, or the negative errno that ended the client for good (see
 * nt_client_start and nt_client_poll); NT_CLIENT_EV_CLOSED is its event.
 */
int nt_client_process(struct nt_client *c, const struct nt_client_callbacks *cb, void *arg);
/*
 * Start proving the mapping (as nt_client_verify, without waiting): the
 * outcome comes as NT_CLIENT_EV_VERIFIED or NT_CLIENT_EV_VERIFY_FAILED
 * within timeout_ms. One already under way is restarted. -ENOTCONN when
 * not joined.
 */
int nt_client_verify_start(struct nt_client *c, int timeout_ms);
/*
 * Send LEAVE; NT_CLIENT_EV_LEFT when the relay confirmed. -ENOTCONN when
 * not joined or not connected, -EBUSY while another command is pending.
 */
int nt_client_leave_start(struct nt_client *c);
/*
 * Send QUIT (no reconnection after it); NT_CLIENT_EV_CLOSED when the relay
 * closed the connection, after which nt_client_close does not wait.
 */
int nt_client_quit_start(struct nt_client *c);
/* True from JOIN (or open) until LEAVE or the end of the client. */
bool nt_client_joined(const struct nt_client *c);

int nt_client_udp_fd(const struct nt_client *c);
int nt_client_tls_fd(const struct nt_client *c);
const struct nt_client_grant *nt_client_grant(const struct nt_client *c);
/* Verified mapping "addr:port", or "" while unverified. */
const char *nt_client_mapping(const struct nt_client *c);
/* The relay connected to: the server of the options, or the one a redirect named. */
const char *nt_client_server(const struct nt_client *c);
/* The user name the server confirmed in OK AUTH. */
const char *nt_client_user(const struct nt_client *c);
/* Last error text, and the server's ERR code behind it (0 if none). */
const char *nt_client_error(const struct nt_client *c);
int nt_client_err_code(const struct nt_client *c);

/* ---- lower level: usable without TLS (tests, other control planes) ---- */

/* Parse an "OK JOIN session=.. key=.. media=.. ..." line into g. -EINVAL, -EPROTO. */
int nt_client_grant_parse(const char *line, struct nt_client_grant *g);
/*
 * On fd (a UDP socket), send PROBE to g->media, retransmit after 500 ms,
 * doubling, until a CHALLENGE for it arrives whose MAC checks with g->key;
 * then send the ANSWER from the same fd and return 0 with the observed
 * address (our NAT mapping) in mapping. Every PROBE sent carries a higher
 * NT-SEQUENCE than the last (CLOCK_MONOTONIC ns): the server ignores copies.
 * Other datagrams are ignored, and so is a signed ERROR whose transaction id
 * is not the PROBE's. -ETIMEDOUT after timeout_ms; -EPERM after a signed
 * ERROR 403 for our PROBE (nattravd reports refusals over TLS instead).
 */
int nt_client_exchange(int fd, const struct nt_client_grant *g, int timeout_ms, char *mapping,
		       size_t mapping_len);
/* Send one signed KEEPALIVE with sequence seq to g->media on fd. */
int nt_client_send_keepalive(int fd, const struct nt_client_grant *g, uint64_t seq);

/* ---- test media: RTP-like packets carrying a sequence and a send time ---- */

/*
 * 12-byte RTP header (0x80, payload type, 16-bit seq, 32-bit timestamp,
 * SSRC), then the send time in ns (CLOCK_REALTIME) and the full 64-bit
 * sequence, all big-endian, then zeros up to the packet size.
 */
#define NT_CLIENT_MEDIA_HDR_LEN 28
#define NT_CLIENT_MEDIA_PT 96		/* dynamic payload type */

struct nt_client_media {
	uint8_t pt;
	uint32_t ssrc;
	uint64_t seq;
	uint64_t send_ns;
};

/* Build a size-byte packet into buf; returns size, -EINVAL / -ENOSPC. */
int nt_client_media_encode(void *buf, size_t cap, size_t size, const struct nt_client_media *m);
/* 0, or -EINVAL when buf is not such a packet. */
int nt_client_media_decode(const void *buf, size_t len, struct nt_client_media *m);
/* CLOCK_REALTIME in ns. */
uint64_t nt_client_now_ns(void);

/* Receive statistics over all senders (told apart by SSRC). */
struct nt_client_stats;

struct nt_client_stats_summary {
	uint64_t received;	/* every packet, duplicates included */
	uint64_t lost;		/* sum over senders of gaps in [lowest, highest] seq */
	uint64_t out_of_order;	/* arrived after a higher sequence of its sender */
	uint64_t duplicates;
	uint64_t senders;
	uint64_t lat_p50_us, lat_p90_us, lat_p99_us, lat_max_us;
	uint64_t lat_samples;
};

struct nt_client_stats *nt_client_stats_new(void);
void nt_client_stats_free(struct nt_client_stats *s);
/* Account one packet; latency_us < 0: unknown. -ENOMEM. */
int nt_client_stats_add(struct nt_client_stats *s, uint32_t ssrc, uint64_t seq,
			int64_t latency_us);
void nt_client_stats_summary(struct nt_client_stats *s, struct nt_client_stats_summary *out);
/* Nearest-rank percentile (0 < pct <= 100) of n values, sorted in place. */
uint64_t nt_client_percentile(uint64_t *v, size_t n, double pct);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* NATTRAV_CLIENT_H */
