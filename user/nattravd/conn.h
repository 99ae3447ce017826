/* SPDX-License-Identifier: GPL-2.0 */
/* A control connection, shared by control.c (TLS I/O) and commands.c (the lines). */
#ifndef ND_CONN_H
#define ND_CONN_H

#include "nattravd.h"
#include "nt_endpoint.h"

enum conn_state { C_HANDSHAKE, C_OPEN };

/*
 * The groups a connection's token (or ticket) names, in as many bytes as
 * the names take: a token's claims have room for NT_TOKEN_GROUPS_MAX of
 * them (over 1 KB), and every session's connection holds a grant.
 */
struct nd_grant {
	bool any_group;		/* "*" */
	uint32_t ngroups;
	char *names;		/* ngroups NUL-terminated names in a row; malloc'd */
	size_t len;
};

struct nd_conn {
	struct nd_handle h;	/* first: epoll hands this back */
	SSL *ssl;
	enum conn_state state;
	bool dead;		/* closed; freed by nd_conns_reap */
	bool want_write;	/* TLS needs the socket writable to go on */
	bool close_after_flush;
	bool hs_waited;		/* the handshake waited for the client once (its first flight is out) */
	/*
	 * Why it must close, set where closing at once would re-enter the
	 * session code (an event to a peer that does not read): closed by
	 * conn_drive or nd_conns_reap, from the top of the loop.
	 */
	const char *doom;
	/*
	 * The network failed it (reset, TLS error), not the client: its
	 * session waits for a RESUME instead of ending (nd_sessions_tick).
	 */
	bool lost;
	size_t slot;
	uint64_t gen;		/* unique per connection: a late Redis answer finds it by slot and gen */
	bool join_waiting;	/* a JOIN waits on the fleet's placement (fleet.h) */
	char peer[NT_ENDPOINT_STRLEN];
	struct nt_endpoint local;	/* where the client reached us */
	uint64_t deadline_ns;	/* TLS, HELLO and AUTH must be done by then */
	uint64_t active_ns;	/* last line, or UDP from its session */
	struct nt_endpoint src;	/* the client's address, for the per-source budget */
	bool unauth_counted;	/* in the pre-auth budget (nd_unauth.h) */
	bool greeted;		/* HELLO done */
	bool authed;
	unsigned int errors;	/* ERR replies so far */
	char user[NT_TOKEN_USER_MAX + 1];
	uint64_t token_expiry;
	struct nd_grant grant;	/* the groups the token names */
	struct nt_session *sess;
	bool reap_queued;	/* on the list nd_conns_reap looks at */
	bool flush_queued;	/* on the list nd_conns_flush looks at */
	uint32_t ev_mask;	/* what epoll watches for now */
	struct nt_line_reader rd;
	/*
	 * Replies not yet taken by TLS: allocated when one has to wait, grown
	 * up to ND_OUTBUF_MAX, freed when drained: an idle connection holds
	 * none.
	 */
	char *out;
	size_t olen, ocap;
};

/* c must close (why), from the top of the loop: see doom above. */
void nd_conn_doom(struct nd *d, struct nd_conn *c, const char *why);
/* Frees a grant's names; the grant allows nothing then. */
void nd_grant_clear(struct nd_grant *g);
/* Queue a reply; a client over ND_MAX_ERRORS errors gets ERR 429 and is closed. */
void nd_reply_err(struct nd *d, struct nd_conn *c, int code, const char *reason);
void nd_reply_ok(struct nd *d, struct nd_conn *c, enum nt_line_cmd_id id,
		 const struct nt_line_kv *kv, size_t n);
/* The live connection in slot with generation gen, or NULL (closed meanwhile). */
struct nd_conn *nd_conn_lookup(struct nd *d, size_t slot, uint64_t gen);
/* Send what was queued outside the connection's own event (a late answer). */
void nd_conn_push(struct nd *d, struct nd_conn *c);
/* Answer one line (commands.c). */
void nd_handle_line(struct nd *d, struct nd_conn *c, const char *line, size_t len);

#endif /* ND_CONN_H */
