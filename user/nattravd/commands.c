// SPDX-License-Identifier: GPL-2.0
/*
 * The control channel's commands (docs/protocol.md section 2): HELLO, AUTH,
 * JOIN, LEAVE, STATUS, PING, QUIT. Every line gets exactly one OK or ERR;
 * an ERR changes no state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "conn.h"
#include "fleet.h"
#include "nt_log.h"

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* "EVT TICKET session=<hex> ticket=<t>": what the client resumes with (nt_ticket.h). */
static void send_ticket(struct nd *d, struct nd_conn *c)
{
	struct nt_session *s = c->sess;
	char b[NT_LINE_MAX + 2], sid[17], tk[NT_TICKET_MAX + 1];
	struct nt_ticket t = { 0 };

	if (!s)
		return;
	t.session_id = s->id;
	memcpy(t.key, s->key, sizeof(t.key));
	t.expiry = c->token_expiry;
	snprintf(t.user, sizeof(t.user), "%s", s->user);
	snprintf(t.group, sizeof(t.group), "%s", s->group->name);
	snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)s->id);
	if (nt_ticket_seal(d->ticket_key, &t, tk, sizeof(tk)) > 0 &&
	    nt_line_fmt_evt(b, sizeof(b), "TICKET",
			    (struct nt_line_kv[]){ { "session", sid }, { "ticket", tk } }, 2) > 0)
		nd_session_tell(d, s, b);
	else
		nt_warn("no resume ticket for session %s of user=%s", sid, s->user);
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(tk, sizeof(tk));
	OPENSSL_cleanse(b, sizeof(b));
}

/* A grant of n names (none with any); -ENOMEM. */
static int grant_make(struct nd_grant *g, bool any, const char (*names)[NT_LINE_GROUP_MAX + 1],
		      size_t n)
{
	size_t len = 0, off = 0;

	memset(g, 0, sizeof(*g));
	g->any_group = any;
	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	if (!len)
		return 0;
	g->names = malloc(len);
	if (!g->names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]) + 1;

		memcpy(g->names + off, names[i], l);
		off += l;
	}
	g->ngroups = (uint32_t)n;
	g->len = len;
	return 0;
}

static bool grant_allows(const struct nd_grant *g, const char *group)
{
	const char *p = g->names;

	if (g->any_group)
		return true;
	for (uint32_t i = 0; i < g->ngroups; i++, p += strlen(p) + 1)
		if (!strcmp(p, group))
			return true;
	return false;
}

void nd_grant_clear(struct nd_grant *g)
{
	free(g->names);
	memset(g, 0, sizeof(*g));
}

static void cmd_auth(struct nd *d, struct nd_conn *c, const char *token)
{
	static struct nt_token_claims t;
	struct nd_grant ng;
	uint64_t now = (uint64_t)time(NULL);
	char exp[24];
	int err;

	if (!c->greeted) {
		nd_reply_err(d, c, NT_LINE_E_STATE, "HELLO first");
		return;
	}
	err = nt_token_verify_any(&d->secrets, token, now, &t);
	if (err == -ETIMEDOUT) {
		nt_info("auth refused from %s: token of user=%s expired", c->peer, t.user);
		nd_reply_err(d, c, NT_LINE_E_EXPIRED, "token expired");
		return;
	}
	if (err == -EACCES) {
		nt_info("auth refused from %s: token forged or signed with another secret", c->peer);
		nd_reply_err(d, c, NT_LINE_E_FORBIDDEN, "token not valid");
		return;
	}
	if (err == -EPROTO) {
		nt_info("auth refused from %s: token of format v1 (names no groups)", c->peer);
		nd_reply_err(d, c, NT_LINE_E_SYNTAX,
			     "token format v1 names no groups, mint a v2 token");
		return;
	}
	if (err) {
		nt_info("auth refused from %s: malformed token", c->peer);
		nd_reply_err(d, c, NT_LINE_E_SYNTAX, "malformed token");
		return;
	}
	/* a stolen long-lived token is worth little: the relay caps what it accepts */
	if (d->conf.max_token_ttl_s && t.expiry - now > d->conf.max_token_ttl_s) {
		nt_info("auth refused from %s: token of user=%s valid for %llu s, over --max-token-ttl %u",
			c->peer, t.user, (unsigned long long)(t.expiry - now), d->conf.max_token_ttl_s);
		nd_reply_err(d, c, NT_LINE_E_FORBIDDEN, "token lifetime longer than this relay allows");
		return;
	}
	if (grant_make(&ng, t.any_group, t.groups, t.ngroups)) {
		nd_reply_err(d, c, NT_LINE_E_INTERNAL, "internal error");
		return;
	}
	if (c->authed) {
		/* a fresh token for the same user extends the deadline */
		if (strcmp(t.user, c->user)) {
			nd_grant_clear(&ng);
			nd_reply_err(d, c, NT_LINE_E_STATE, "already authenticated as another user");
			return;
		}
		if (c->sess && !nt_token_allows(&t, c->sess->group->name)) {
			nd_grant_clear(&ng);
			nd_reply_err(d, c, NT_LINE_E_FORBIDDEN,
				     "new token does not allow the group joined");
			return;
		}
		if (t.expiry > c->token_expiry)
			c->token_expiry = t.expiry;
		nd_grant_clear(&c->grant);
		c->grant = ng;
		nt_info("user=%s from %s re-authenticated, deadline extended", t.user, c->peer);
	} else {
		c->authed = true;
		snprintf(c->user, sizeof(c->user), "%s", t.user);
		c->token_expiry = t.expiry;
		nd_grant_clear(&c->grant);
		c->grant = ng;
		nd_conn_authed(d, c);
		nt_info("authenticated user=%s from %s", t.user, c->peer);
	}
	snprintf(exp, sizeof(exp), "%llu", (unsigned long long)c->token_expiry);
	nd_reply_ok(d, c, NT_CMD_AUTH,
		 (struct nt_line_kv[]){ { "user", c->user }, { "expires", exp } }, 2);
	/* a later deadline: a ticket that lives as long */
	send_ticket(d, c);
}

/*
 * The token's grant and the per-user quotas, checked before anything
 * changes; false when refused (the reply is queued). A user may hold at
 * most half a group's seats (one of a pair), so no user fills a group.
 */
static bool join_allowed(struct nd *d, struct nd_conn *c, const char *group)
{
	struct nt_user_usage u;
	uint32_t seats = d->conf.max_members / 2 ? d->conf.max_members / 2 : 1;

	if (!nt_line_group_valid(group)) {
		nd_reply_err(d, c, NT_LINE_E_SYNTAX, "bad group name");
		return false;
	}
	if (!grant_allows(&c->grant, group)) {
		nt_warn("join refused for user=%s from %s: token does not name group=%s",
			c->user, c->peer, group);
		nd_reply_err(d, c, NT_LINE_E_FORBIDDEN, "group not allowed");
		return false;
	}
	nt_sessions_user_usage(&d->st, c->user, group, &u);
	if (u.sessions >= d->conf.max_sessions_per_user) {
		nt_info("join refused for user=%s: %zu sessions, --max-sessions-per-user %u",
			c->user, u.sessions, d->conf.max_sessions_per_user);
		nd_reply_err(d, c, NT_LINE_E_LIMIT, "too many sessions for this user");
		return false;
	}
	if (!u.in_group && u.groups >= d->conf.max_groups_per_user) {
		nt_info("join refused for user=%s: in %zu groups, --max-groups-per-user %u",
			c->user, u.groups, d->conf.max_groups_per_user);
		nd_reply_err(d, c, NT_LINE_E_LIMIT, "too many groups for this user");
		return false;
	}
	if (u.in_group >= seats) {
		nt_info("join refused for user=%s: holds %zu of group=%s's %u seats a user may",
			c->user, u.in_group, group, seats);
		nd_reply_err(d, c, NT_LINE_E_LIMIT, "too many sessions of this user in the group");
		return false;
	}
	return true;
}

/*
 * Session id with key, joined to group, for c's user: 0, -EEXIST (id taken,
 * nothing replied: draw another), or another -errno with the ERR replied.
 */
static int session_open(struct nd *d, struct nd_conn *c, uint64_t id, const uint8_t *key,
			const char *group, struct nt_session **out)
{
	struct nt_session *s = NULL;
	int err = nt_session_new(&d->st, id, key, c->user, c, &s);

	if (err == -EEXIST)
		return err;
	if (err) {
		nt_warn("join refused for user=%s: too many sessions", c->user);
		nd_reply_err(d, c, NT_LINE_E_LIMIT, "too many sessions");
		return err;
	}
	err = nt_session_join(&d->st, s, group);
	if (err) {
		nt_session_del(&d->st, s);
		if (err == -EUSERS) {
			nt_info("join refused for user=%s: group=%s full", c->user, group);
			nd_reply_err(d, c, NT_LINE_E_LIMIT, "group full");
		} else if (err == -ENOSPC) {
			nt_warn("join refused for user=%s: too many groups", c->user);
			nd_reply_err(d, c, NT_LINE_E_LIMIT, "too many groups");
		} else {
			nd_reply_err(d, c, NT_LINE_E_SYNTAX, "bad group name");
		}
		return err;
	}
	*out = s;
	return 0;
}

/* The grant's relay-wide fields: where media goes, the consent window, the keepalive gap. */
struct grant_text {
	char media[NT_ENDPOINT_STRLEN], consent[16], keepalive[16];
};

static void grant_text(const struct nd *d, const struct nd_conn *c, struct grant_text *g)
{
	struct nt_endpoint m = c->local;

	m.port = d->conf.media_port;
	nt_endpoint_format(&m, g->media, sizeof(g->media));
	snprintf(g->consent, sizeof(g->consent), "%u", d->conf.consent_s);
	/* three keepalives per window: one lost packet does not expire anyone */
	snprintf(g->keepalive, sizeof(g->keepalive), "%u",
		 d->conf.consent_s >= 3 ? d->conf.consent_s / 3 : 1);
}

/* The JOIN made here: a session in group, the grant and a ticket sent. */
static void join_here(struct nd *d, struct nd_conn *c, const char *group)
{
	uint8_t key[NT_WIRE_KEY_LEN];
	char sid[17], keyhex[2 * NT_WIRE_KEY_LEN + 1];
	struct nt_session *s = NULL;
	struct grant_text gt;
	uint64_t id = 0;
	int err;

	do {
		if (RAND_bytes((uint8_t *)&id, sizeof(id)) != 1 ||
		    RAND_bytes(key, sizeof(key)) != 1) {
			nd_reply_err(d, c, NT_LINE_E_INTERNAL, "no randomness");
			return;
		}
		err = session_open(d, c, id, key, group, &s);
	} while (err == -EEXIST);
	OPENSSL_cleanse(key, sizeof(key));
	if (err)
		return;
	c->sess = s;
	snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)s->id);
	hex(keyhex, s->key, sizeof(s->key));
	grant_text(d, c, &gt);
	nt_info("user=%s joined group=%s (id %u) session=%s", c->user, group, s->group->id, sid);
	nd_reply_ok(d, c, NT_CMD_JOIN,
		 (struct nt_line_kv[]){ { "session", sid },
					{ "key", keyhex },
					{ "media", gt.media },
					{ "group", s->group->name },
					{ "consent", gt.consent },
					{ "keepalive", gt.keepalive } },
		 6);
	OPENSSL_cleanse(keyhex, sizeof(keyhex));
	send_ticket(d, c);
}

static void cmd_join(struct nd *d, struct nd_conn *c, const char *group)
{
	int err;

	if (!c->authed) {
		nd_reply_err(d, c, NT_LINE_E_UNAUTH, "not authenticated");
		return;
	}
	if (c->sess) {
		nd_reply_err(d, c, NT_LINE_E_STATE, "already in a group, LEAVE first");
		return;
	}
	if (!join_allowed(d, c, group))
		return;
	/* a group live here stays here: new members need no Redis, draining or not */
	if (!nt_group_find(&d->st, group)) {
		if (nd_fleet_on(d)) {
			err = nd_fleet_place(d, c, group);
			if (err) {
				nt_warn("join of group=%s by user=%s: fleet placement unavailable: %s",
					group, c->user, strerror(-err));
				nd_reply_err(d, c, NT_LINE_E_UNAVAILABLE,
					     "group placement unavailable, retry later");
				return;
			}
			/* the answer comes to nd_join_placed */
			c->join_waiting = true;
			return;
		}
		if (d->draining) {
			nt_info("join of new group=%s by user=%s refused: relay draining", group,
				c->user);
			nd_reply_err(d, c, NT_LINE_E_UNAVAILABLE, "relay draining, no new groups");
			return;
		}
	}
	join_here(d, c, group);
}

void nd_join_placed(struct nd *d, struct nd_conn *c, const char *group,
		    enum nt_fleet_verdict v, const char *addr)
{
	char why[NT_LINE_MAX];

	c->join_waiting = false;
	switch (v) {
	case NT_FLEET_LOCAL:
		/* checked again: the user's sessions may have changed meanwhile */
		if (join_allowed(d, c, group))
			join_here(d, c, group);
		break;
	case NT_FLEET_REDIRECT:
		nt_info("user=%s from %s redirected: group=%s lives on relay %s", c->user, c->peer,
			group, addr);
		snprintf(why, sizeof(why), "relay=%s", addr);
		nd_reply_err(d, c, NT_LINE_E_REDIRECT, why);
		break;
	case NT_FLEET_NONE:
		nt_warn("join of group=%s by user=%s: no relay of the fleet can take it now",
			group, c->user);
		nd_reply_err(d, c, NT_LINE_E_UNAVAILABLE, "group placement unavailable, retry later");
		break;
	}
	nd_conn_push(d, c);
}

/*
 * RESUME <ticket>: the session of a dropped connection, or of a relay that
 * restarted, back on this connection with its id, key and group. A mapping
 * still relayed (the session's own, or one adopted from the pinned maps)
 * stays and is reported; otherwise the client verifies again.
 */
static void cmd_resume(struct nd *d, struct nd_conn *c, const char *ticket)
{
	static struct nt_ticket t;
	struct nd_grant ng;
	char sid[17], map[NT_ENDPOINT_STRLEN] = "none", exp[24];
	const struct nt_endpoint *adopt = NULL;
	struct nt_session *s = NULL;
	struct grant_text gt;
	bool back;
	int err;

	if (!c->greeted) {
		nd_reply_err(d, c, NT_LINE_E_STATE, "HELLO first");
		return;
	}
	if (c->authed) {
		nd_reply_err(d, c, NT_LINE_E_STATE, "RESUME instead of AUTH, not after it");
		return;
	}
	err = nt_ticket_open(d->ticket_key, ticket, (uint64_t)time(NULL), &t);
	if (err == -ETIMEDOUT) {
		nt_info("resume refused from %s: ticket of user=%s expired", c->peer, t.user);
		nd_reply_err(d, c, NT_LINE_E_EXPIRED, "ticket expired");
		goto out;
	}
	if (err) {
		nt_info("resume refused from %s: ticket %s", c->peer,
			err == -EACCES ? "not sealed by this relay's secret" : "malformed");
		nd_reply_err(d, c, err == -EACCES ? NT_LINE_E_FORBIDDEN : NT_LINE_E_SYNTAX,
			     "ticket not valid");
		goto out;
	}
	s = nt_session_find(&d->st, t.session_id);
	back = s != NULL;
	if (s && (strcmp(s->user, t.user) || !s->group || strcmp(s->group->name, t.group))) {
		/* an id reused by another session since: this ticket's session is gone */
		nd_reply_err(d, c, NT_LINE_E_STATE, "session ended, JOIN again");
		goto out;
	}
	/*
	 * Not here: either the relay restarted (its mapping was adopted, or we
	 * are within one consent window of the start), or the session ended
	 * (LEAVE, QUIT, kicked, expired): that one stays ended.
	 */
	if (!s && !nd_orphan_of_session(d, t.session_id) &&
	    nd_now_ns() - d->start_ns > (uint64_t)d->conf.consent_s * 1000000000ull) {
		nd_reply_err(d, c, NT_LINE_E_STATE, "session ended, JOIN again");
		goto out;
	}
	/* the grant of a ticket: its one group, as a token naming it would */
	if (grant_make(&ng, false, &t.group, 1)) {
		nd_reply_err(d, c, NT_LINE_E_INTERNAL, "internal error");
		goto out;
	}
	c->authed = true;
	snprintf(c->user, sizeof(c->user), "%s", t.user);
	c->token_expiry = t.expiry;
	nd_grant_clear(&c->grant);
	c->grant = ng;
	if (!s) {
		/* the relay restarted: the same session again, under today's quotas */
		if (!join_allowed(d, c, t.group))
			goto unauth;
		err = session_open(d, c, t.session_id, t.key, t.group, &s);
		if (err == -EEXIST) /* not found above: only if the table changed under us */
			nd_reply_err(d, c, NT_LINE_E_STATE, "session ended, JOIN again");
		if (err)
			goto unauth;
		adopt = nd_orphan_of_session(d, s->id);
	} else {
		struct nd_conn *old = s->owner;

		if (old && old != c) {
			/* the old connection is dead and does not know it yet */
			old->sess = NULL;
			nd_conn_doom(d, old, "its session resumed on another connection");
		}
		s->owner = c;
		s->detached_ns = 0;
	}
	c->sess = s;
	nd_conn_authed(d, c);
	snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)s->id);
	grant_text(d, c, &gt);
	snprintf(exp, sizeof(exp), "%llu", (unsigned long long)c->token_expiry);
	if (s->verified)
		nt_endpoint_format(&s->mapping, map, sizeof(map));
	else if (adopt)
		nt_endpoint_format(adopt, map, sizeof(map));
	nd_reply_ok(d, c, NT_CMD_RESUME,
		 (struct nt_line_kv[]){ { "session", sid },
					{ "user", c->user },
					{ "group", s->group->name },
					{ "media", gt.media },
					{ "consent", gt.consent },
					{ "keepalive", gt.keepalive },
					{ "expires", exp },
					{ "mapping", map } },
		 8);
	nt_info("user=%s resumed session=%s in group=%s from %s (%s; mapping %s)", c->user, sid,
		s->group->name, c->peer, back ? "session was waiting" : "after a relay restart",
		adopt ? "adopted" : s->verified ? "kept" : "verify again");
	/* after the OK: its EVT VERIFIED follows the reply */
	if (adopt) {
		struct nt_endpoint ep = *adopt;

		err = nd_mapping_install(d, s, &ep);
		if (err)
			nt_warn("session %s: adopted mapping %s not taken back: %s", sid, map,
				strerror(-err));
	}
	goto out;
unauth:
	c->authed = false;
	c->user[0] = '\0';
	nd_grant_clear(&c->grant);
out:
	OPENSSL_cleanse(&t, sizeof(t));
}

static void cmd_status(struct nd *d, struct nd_conn *c)
{
	char sid[17], map[NT_ENDPOINT_STRLEN] = "none";
	char n[6][24];
	struct nt_line_kv kv[NT_LINE_KV_MAX];
	size_t k = 0;
	const char *state = c->sess ? (c->sess->verified ? "verified" : "joined") :
			    c->authed ? "authed" : c->greeted ? "greeted" : "start";

	kv[k++] = (struct nt_line_kv){ "state", state };
	if (c->authed)
		kv[k++] = (struct nt_line_kv){ "user", c->user };
	if (c->sess) {
		snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)c->sess->id);
		kv[k++] = (struct nt_line_kv){ "group", c->sess->group->name };
		kv[k++] = (struct nt_line_kv){ "session", sid };
		if (c->sess->verified)
			nt_endpoint_format(&c->sess->mapping, map, sizeof(map));
		kv[k++] = (struct nt_line_kv){ "mapping", map };
		kv[k++] = (struct nt_line_kv){ "peer", nt_session_peer(c->sess) &&
							       nt_session_peer(c->sess)->verified ?
						       "verified" : nt_session_peer(c->sess) ? "joined" : "none" };
	}
	/* the relay's own view, for operators trying things by hand; not for strangers */
	if (!c->authed) {
		nd_reply_ok(d, c, NT_CMD_STATUS, kv, k);
		return;
	}
	kv[k++] = (struct nt_line_kv){ "xdp", nd_mode_name(d->mode) };
	snprintf(n[0], sizeof(n[0]), "%zu", nt_sessions_count(&d->st));
	snprintf(n[1], sizeof(n[1]), "%zu", d->nmappings);
	snprintf(n[2], sizeof(n[2]), "%llu", (unsigned long long)d->cnt.forwarded);
	snprintf(n[3], sizeof(n[3]), "%llu", (unsigned long long)d->cnt.drop_unverified);
	snprintf(n[4], sizeof(n[4]), "%llu", (unsigned long long)d->cnt.drop_no_peer);
	snprintf(n[5], sizeof(n[5]), "%llu", (unsigned long long)d->cnt.control);
	kv[k++] = (struct nt_line_kv){ "sessions", n[0] };
	kv[k++] = (struct nt_line_kv){ "mappings", n[1] };
	kv[k++] = (struct nt_line_kv){ "user_forwarded", n[2] };
	kv[k++] = (struct nt_line_kv){ "user_drop_unverified", n[3] };
	kv[k++] = (struct nt_line_kv){ "user_drop_no_peer", n[4] };
	kv[k++] = (struct nt_line_kv){ "control_msgs", n[5] };
	nd_reply_ok(d, c, NT_CMD_STATUS, kv, k);
}

void nd_handle_line(struct nd *d, struct nd_conn *c, const char *line, size_t len)
{
	struct nt_line_cmd cmd;
	struct nt_line_err e = { 0 };

	if (c->join_waiting) {
		/* its reply comes before the JOIN's: clients wait for a reply before the next line */
		nd_reply_err(d, c, NT_LINE_E_STATE, "JOIN in progress, wait for its reply");
		return;
	}
	if (nt_line_parse_cmd(line, len, &cmd, &e)) {
		nt_dbg("bad line from %s: %s", c->peer, e.reason);
		nd_reply_err(d, c, e.code, e.reason);
		return;
	}
	switch (cmd.id) {
	case NT_CMD_HELLO:
		if (c->greeted) {
			nd_reply_err(d, c, NT_LINE_E_STATE, "HELLO already done");
			return;
		}
		if (strcmp(cmd.arg, NT_LINE_PROTO)) {
			nd_reply_err(d, c, NT_LINE_E_SYNTAX, "unsupported version");
			return;
		}
		c->greeted = true;
		nd_reply_ok(d, c, NT_CMD_HELLO,
			 (struct nt_line_kv[]){ { "proto", NT_LINE_PROTO } }, 1);
		break;
	case NT_CMD_AUTH:
		cmd_auth(d, c, cmd.arg);
		break;
	case NT_CMD_JOIN:
		cmd_join(d, c, cmd.arg);
		break;
	case NT_CMD_RESUME:
		cmd_resume(d, c, cmd.arg);
		break;
	case NT_CMD_LEAVE: {
		char sid[17];

		if (!c->sess) {
			nd_reply_err(d, c, c->authed ? NT_LINE_E_STATE : NT_LINE_E_UNAUTH,
				  c->authed ? "not in a group" : "not authenticated");
			return;
		}
		snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)c->sess->id);
		nd_session_end(d, c->sess, "left");
		c->sess = NULL;
		nd_reply_ok(d, c, NT_CMD_LEAVE, (struct nt_line_kv[]){ { "session", sid } }, 1);
		break;
	}
	case NT_CMD_STATUS:
		cmd_status(d, c);
		break;
	case NT_CMD_PING:
		nd_reply_ok(d, c, NT_CMD_PING, NULL, 0);
		break;
	case NT_CMD_QUIT:
		nd_reply_ok(d, c, NT_CMD_QUIT, NULL, 0);
		c->close_after_flush = true;
		break;
	}
}

