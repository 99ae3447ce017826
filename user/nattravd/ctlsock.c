// SPDX-License-Identifier: GPL-2.0
/*
 * The local control socket (docs/protocol.md section 6): a Unix stream
 * socket, mode 0660, for nattravctl's status and kick. One request line,
 * one reply line, then close. Whoever can open the file may connect; only
 * root and the daemon's own user are answered (SO_PEERCRED).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "conn.h"
#include "fleet.h"
#include "nt_ctlproto.h"
#include "nt_version.h"
#include "nt_endpoint.h"
#include "nt_log.h"

#define CTL_CONNS_MAX 16
#define CTL_TIMEOUT_NS 5000000000ull

struct ctl_conn {
	struct nd_handle h;	/* first: epoll hands this back */
	bool used, dead;	/* dead: closed, freed at the next tick */
	uint64_t deadline_ns;
	size_t len;
	char buf[NT_CTL_LINE_MAX + 2];
};

static struct ctl_conn conns[CTL_CONNS_MAX];
static bool own_path;	/* we bound it: ours to unlink */

/* Another daemon answering on path? Then it is not ours to take over. */
static bool path_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return alive;
}

int nd_ctl_open(struct nd *d)
{
	const char *path = d->conf.ctl_socket;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	mode_t old;
	int fd, err;

	d->ctl.fd = -1;
	d->ctl.kind = ND_CTL;
	if (!path || !strcmp(path, "off"))
		return 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		nt_warn("--ctl-socket %s: path too long; no control socket", path);
		return 0;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST)
			nt_warn("cannot create %s: %s", dir, strerror(errno));
	}
	/* a second daemon must not steal the first one's socket */
	if (path_alive(&sa)) {
		nt_warn("control socket %s is in use by another nattravd; running without one", path);
		return 0;
	}
	unlink(path); /* stale, from a daemon that died */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0117); /* never a moment with wider permissions than 0660 */
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (!err && chmod(path, 0660) < 0)
		err = -errno;
	if (!err && listen(fd, 16) < 0)
		err = -errno;
	if (err) {
		nt_warn("control socket %s: %s; nattravctl status/kick will not reach the daemon",
			path, strerror(-err));
		close(fd);
		return 0;
	}
	own_path = true;
	d->ctl.fd = fd;
	return nd_loop_add(d, &d->ctl, EPOLLIN);
}

static void ctl_conn_close(struct ctl_conn *c)
{
	if (c->dead)
		return;
	close(c->h.fd);
	c->dead = true;
}

/* One line and close; small enough for an empty socket buffer. */
static void reply(struct ctl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct ctl_conn *c, const char *fmt, ...)
{
	char b[NT_CTL_REPLY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(b) - 2)
		n = (int)sizeof(b) - 2;
	b[n++] = '\n';
	if (send(c->h.fd, b, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		nt_dbg("control socket: reply not sent whole");
	ctl_conn_close(c);
}

static void do_status(struct nd *d, struct ctl_conn *c)
{
	char m[NT_ENDPOINT_STRLEN] = "off";

	if (d->conf.metrics.family)
		nt_endpoint_format(&d->conf.metrics, m, sizeof(m));
	reply(c, "OK STATUS version=%s pid=%d uptime=%llu iface=%s ifindex=%d xdp=%s "
		 "control_port=%u media_port=%u pin_dir=%s sessions=%zu groups=%zu mappings=%zu "
		 "connections=%zu consent=%u metrics=%s user_forwarded=%llu draining=%d relay_id=%s",
	      NT_VERSION, (int)getpid(),
	      (unsigned long long)((nd_now_ns() - d->start_ns) / 1000000000ull), d->conf.iface,
	      d->ifindex, nd_mode_name(d->mode), d->conf.control_port, d->conf.media_port,
	      d->conf.pin_dir, nt_sessions_count(&d->st), nt_groups_count(&d->st), d->nmappings,
	      d->nconns, d->conf.consent_s, m, (unsigned long long)d->cnt.forwarded,
	      d->draining ? 1 : 0, nd_fleet_on(d) ? nd_fleet_id(d) : "none");
}

/* The session ends: mapping out (EVT EXPIRED reason=admin), BYE, connection closed. */
static void kick_session(struct nd *d, struct nt_session *s, const char *why)
{
	struct nd_conn *conn = s->owner;
	char b[NT_LINE_MAX + 2];

	/* BYE first: a client told its mapping expired would start verifying again */
	if (conn && !conn->dead &&
	    nt_line_fmt_evt(b, sizeof(b), "BYE", (struct nt_line_kv[]){ { "reason", "admin" } }, 1) > 0)
		nd_session_tell(d, s, b);
	nd_mapping_remove(d, s, "admin", why);
	if (conn && !conn->dead)
		/* closed from the top of the loop: nd_conns_reap ends the session */
		nd_conn_doom(d, conn, "kicked by the operator");
	else
		nd_session_end(d, s, why);
}

static void do_kick(struct nd *d, struct ctl_conn *c, const struct nt_ctl_req *r)
{
	char a[NT_ENDPOINT_STRLEN], sid[17];
	struct nt_session *s = NULL;
	struct nt_mapping v;

	if (r->cmd == NT_CTL_KICK_SESSION) {
		s = nt_session_find(&d->st, r->session);
		if (!s) {
			reply(c, "ERR 404 no session %016llx", (unsigned long long)r->session);
			return;
		}
		snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)s->id);
		nt_info("control socket: kicking session %s of user=%s", sid, s->user);
		reply(c, "OK KICK session=%s user=%s", sid, s->user);
		kick_session(d, s, "kicked by the operator");
		return;
	}
	nt_endpoint_format(&r->ep, a, sizeof(a));
	s = nt_session_by_mapping(&d->st, &r->ep);
	if (s) {
		snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)s->id);
		nt_info("control socket: kicking mapping %s of user=%s", a, s->user);
		nd_mapping_remove(d, s, "admin", "kicked by the operator");
		reply(c, "OK KICK mapping=%s session=%s user=%s", a, sid, s->user);
		return;
	}
	if (nt_maps_get_mapping(&d->maps, &r->ep, &v)) {
		reply(c, "ERR 404 no mapping %s", a);
		return;
	}
	if (v.flags & NT_MAPPING_F_STATIC) {
		reply(c, "ERR 409 mapping %s was added by hand; remove it with nattravctl map del", a);
		return;
	}
	/* adopted from a previous run: out of the map, the forwarding table and its group */
	if (nd_orphan_kick(d, &r->ep)) {
		nt_maps_del_mapping(&d->maps, &r->ep);
		nt_fwd_del(&d->fwd, &r->ep);
		nd_count_expiry(d, "admin");
	}
	nt_info("control socket: adopted mapping %s kicked", a);
	reply(c, "OK KICK mapping=%s session=none", a);
}

/*
 * Drain: no new groups here (with --redis they are placed elsewhere); members
 * joining groups already here are still accepted, running flows untouched.
 */
static void do_drain(struct nd *d, struct ctl_conn *c, const struct nt_ctl_req *r)
{
	bool was = d->draining;

	if (r->drain != NT_CTL_DRAIN_SHOW)
		d->draining = r->drain == NT_CTL_DRAIN_ON;
	if (was != d->draining)
		nt_info("control socket: drain %s (%zu groups here)", d->draining ? "on" : "off",
			nt_groups_count(&d->st));
	reply(c, "OK DRAIN draining=%d groups=%zu sessions=%zu", d->draining ? 1 : 0,
	      nt_groups_count(&d->st), nt_sessions_count(&d->st));
}

/* One TURN allocation a line: nattravctl turn asks again from the next slot until "end". */
static void do_turn(struct nd *d, struct ctl_conn *c, const struct nt_ctl_req *r)
{
	struct nd_turn_alloc_info ai;
	char rel[NT_ENDPOINT_STRLEN], cli[NT_ENDPOINT_STRLEN];
	uint32_t slot = r->from;

	if (!nd_turn_enabled(d)) {
		reply(c, "ERR 404 TURN is off (nattravd runs without --turn-secret-file)");
		return;
	}
	if (nd_turn_alloc_info(d, &slot, &ai)) {
		reply(c, "OK TURN end allocations=%zu", nd_turn_allocations(d));
		return;
	}
	reply(c, "OK TURN slot=%u relayed=%s client=%s lifetime=%u permissions=%u channels=%u "
		 "xdp_channels=%u to_peer_packets=%llu to_peer_bytes=%llu to_client_packets=%llu "
		 "to_client_bytes=%llu xdp_to_peer_packets=%llu xdp_to_peer_bytes=%llu "
		 "xdp_to_client_packets=%llu xdp_to_client_bytes=%llu rate_drops=%llu transport=%s "
		 "user=%s",
	      slot, nt_endpoint_format(&ai.relayed, rel, sizeof(rel)),
	      nt_endpoint_format(&ai.client, cli, sizeof(cli)), ai.lifetime_s, ai.permissions,
	      ai.channels, ai.xdp_channels, (unsigned long long)ai.pkts[0],
	      (unsigned long long)ai.bytes[0], (unsigned long long)ai.pkts[1],
	      (unsigned long long)ai.bytes[1], (unsigned long long)ai.xdp_pkts[0],
	      (unsigned long long)ai.xdp_bytes[0], (unsigned long long)ai.xdp_pkts[1],
	      (unsigned long long)ai.xdp_bytes[1], (unsigned long long)ai.rate_drops,
	      ai.tcp ? "tcp" : "udp", ai.user);
}

static void ctl_line(struct nd *d, struct ctl_conn *c, const char *line, size_t len)
{
	struct nt_ctl_req r;
	const char *why = NULL;

	if (nt_ctl_parse(line, len, &r, &why)) {
		reply(c, "ERR 400 %s", why);
		return;
	}
	if (r.cmd == NT_CTL_STATUS)
		do_status(d, c);
	else if (r.cmd == NT_CTL_DRAIN)
		do_drain(d, c, &r);
	else if (r.cmd == NT_CTL_TURN)
		do_turn(d, c, &r);
	else
		do_kick(d, c, &r);
}

static bool peer_allowed(int fd, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	*uid = cr.uid;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void ctl_accept(struct nd *d)
{
	for (;;) {
		struct ctl_conn *c = NULL;
		uid_t uid = (uid_t)-1;
		int fd = accept4(d->ctl.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				nt_warn("control socket accept: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < CTL_CONNS_MAX && !c; i++)
			if (!conns[i].used)
				c = &conns[i];
		if (!c) {
			static const char busy[] = "ERR 429 busy, try again\n";

			send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->h.kind = ND_CTL;
		c->h.fd = fd;
		c->deadline_ns = nd_now_ns() + CTL_TIMEOUT_NS;
		if (!peer_allowed(fd, &uid)) {
			nt_warn("control socket: uid %d refused (only root and the daemon's user)",
				(int)uid);
			reply(c, "ERR 403 uid %d may not use this socket", (int)uid);
			continue;
		}
		if (nd_loop_add(d, &c->h, EPOLLIN)) {
			ctl_conn_close(c);
			continue;
		}
	}
}

void nd_ctl_event(struct nd *d, struct nd_handle *h, uint32_t events)
{
	struct ctl_conn *c = (struct ctl_conn *)h;
	char *nl;
	ssize_t n;

	if (h == &d->ctl) {
		ctl_accept(d);
		return;
	}
	if (c->dead)
		return;
	n = recv(c->h.fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	nl = memchr(c->buf, '\n', c->len);
	if (nl)
		ctl_line(d, c, c->buf, (size_t)(nl - c->buf));
	else if (c->len >= sizeof(c->buf) - 1)
		reply(c, "ERR 413 line too long");
}

void nd_ctl_tick(struct nd *d, uint64_t now)
{
	(void)d;
	for (int i = 0; i < CTL_CONNS_MAX; i++) {
		struct ctl_conn *c = &conns[i];

		if (!c->used)
			continue;
		/* closed during an earlier round: epoll has nothing of it queued any more */
		if (c->dead)
			c->used = false;
		else if (now > c->deadline_ns)
			ctl_conn_close(c);
	}
}

void nd_ctl_close(struct nd *d)
{
	for (int i = 0; i < CTL_CONNS_MAX; i++) {
		if (conns[i].used)
			ctl_conn_close(&conns[i]);
		conns[i].used = false;
	}
	if (d->ctl.fd >= 0) {
		close(d->ctl.fd);
		d->ctl.fd = -1;
	}
	if (own_path) {
		unlink(d->conf.ctl_socket);
		own_path = false;
	}
}
