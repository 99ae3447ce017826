// SPDX-License-Identifier: GPL-2.0
/*
 * TURN over UDP (RFC 8656): Allocate, Refresh, CreatePermission,
 * ChannelBind, Send and Data indications, ChannelData. One allocation per
 * client 5-tuple, each with its own relayed UDP socket from --turn-ports on
 * the epoll loop. Credentials: the long-term mechanism with coturn's
 * use-auth-secret usernames and passwords, stateless nonces. Peers pass
 * the relay's deny list (RFC 8656 21: loopback, private and special ranges
 * refused unless --allow'ed): no open relay into the host's networks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "nattravd.h"
#include "nt_endpoint.h"
#include "nt_fwd.h"
#include "nt_index.h"
#include "nt_log.h"
#include "nt_readfile.h"
#include "nt_turn_auth.h"
#include "turn_priv.h"

#define LIFETIME_DEFAULT_S 600
#define NONCE_AGE_S 600

#define ATTR_CHANNEL_NUMBER 0x000C
#define ATTR_LIFETIME 0x000D
#define ATTR_XOR_PEER_ADDRESS 0x0012
#define ATTR_DATA 0x0013
#define ATTR_XOR_RELAYED_ADDRESS 0x0016
#define ATTR_REQUESTED_ADDRESS_FAMILY 0x0017
#define ATTR_EVEN_PORT 0x0018
#define ATTR_REQUESTED_TRANSPORT 0x0019
#define ATTR_DONT_FRAGMENT 0x001A
#define ATTR_RESERVATION_TOKEN 0x0022

bool nd_turn_enabled(const struct nd *d)
{
	return d->turn != NULL;
}

size_t nd_turn_allocations(const struct nd *d)
{
	return d->turn ? d->turn->n : 0;
}

const struct nd_turn_stats *nd_turn_stats(const struct nd *d)
{
	return d->turn ? &d->turn->st : NULL;
}

int nd_turn_alloc_info(struct nd *d, uint32_t *slot, struct nd_turn_alloc_info *out)
{
	struct nd_turn *t = d->turn;
	uint64_t now = nd_now_ns();

	for (uint32_t i = *slot; t && i < t->cap; i++) {
		struct alloc *a = &t->a[i];

		if (!a->used)
			continue;
		memset(out, 0, sizeof(*out));
		out->relayed = a->relayed;
		out->client = a->client;
		memcpy(out->user, a->user, sizeof(out->user));
		out->tcp = a->media->kind == ND_TURN_TCP;
		out->lifetime_s = a->expires_ns > now ? (uint32_t)((a->expires_ns - now) / 1000000000ull) : 0;
		for (int k = 0; k < PERMS_MAX; k++)
			out->permissions += a->perm[k].expires_ns > now;
		for (int k = 0; k < CHANS_MAX; k++) {
			out->channels += a->chan[k].num != 0;
			out->xdp_channels += a->chan[k].in_xdp;
		}
		memcpy(out->pkts, a->pkts, sizeof(out->pkts));
		memcpy(out->bytes, a->bytes, sizeof(out->bytes));
		nd_turn_xdp_alloc_counts(d, a, out->xdp_pkts, out->xdp_bytes, &out->rate_drops);
		out->rate_drops += a->rate_drops;
		*slot = i;
		return 0;
	}
	return -ENOENT;
}

/* coturn's static-auth-secret: the file's first line as it is, the bytes the HMAC keys on */
static int read_secret(const char *path, uint8_t *out, size_t *len)
{
	char buf[SECRET_MAX + 2];
	size_t n;
	int err = nt_read_small_file(path, buf, sizeof(buf) - 1, &n);

	/* only the first line counts: what follows it may be longer */
	if (err && err != -EFBIG)
		return err;
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	if (n == 0 || n > SECRET_MAX)
		return -EINVAL;
	memcpy(out, buf, n);
	*len = n;
	return 0;
}

int nd_turn_open(struct nd *d)
{
	const struct nd_turn_conf *c = &d->conf.turn;
	struct nd_turn *t;
	int err;

	if (!c->secret_file)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cap = c->max_allocations;
	t->a = calloc(t->cap, sizeof(*t->a));
	t->by_port = calloc(c->port_max - c->port_min + 1, sizeof(*t->by_port));
	err = !t->a || !t->by_port || nt_freelist_init(&t->free, t->cap) || nt_hidx_init(&t->by_client, t->cap) ?
		      -ENOMEM : 0;
	if (!err) {
		err = read_secret(c->secret_file, t->secret, &t->secret_len);
		if (err)
			nt_err("--turn-secret-file %s: %s", c->secret_file,
			       err == -EINVAL ? "empty or longer than 256 bytes" : strerror(-err));
	}
	if (!err && nt_wire_random(t->nonce_key, sizeof(t->nonce_key)))
		err = -EIO;
	if (err) {
		free(t->a);
		free(t->by_port);
		nt_freelist_free(&t->free);
		nt_hidx_free(&t->by_client);
		free(t);
		return err;
	}
	nt_index_key_init(t->hkey);
	t->next_port = c->port_min;
	d->turn = t;
	nt_info("TURN on the media port: realm %s, relayed ports %u-%u, %u allocations at most",
		c->realm, c->port_min, c->port_max, c->max_allocations);
	return nd_turn_tcp_open(d);
}

static uint64_t client_hash(const struct nd_turn *t, const struct nt_endpoint *ep)
{
	return nt_index_hash(t->hkey, ep, sizeof(*ep));
}

static void release(struct nd *d, struct alloc *a, const char *why);

/* The client's allocation: its address and port, over the same transport (UDP or its TCP connection). */
static struct alloc *find(struct nd_turn *t, const struct nd_handle *h,
			  const struct nt_endpoint *client)
{
	for (uint32_t it = nt_hidx_first(&t->by_client, client_hash(t, client)); it;
	     it = nt_hidx_next(&t->by_client, it)) {
		struct alloc *a = &t->a[it - 1];

		if (nt_endpoint_eq(&a->client, client) &&
		    (a->media == h || (a->media->kind == ND_MEDIA && h->kind == ND_MEDIA)))
			return a;
	}
	return NULL;
}

void nd_turn_release_media(struct nd *d, const struct nd_handle *h, const char *why)
{
	struct nd_turn *t = d->turn;

	for (uint32_t i = 0; t && i < t->cap; i++)
		if (t->a[i].used && t->a[i].media == h)
			release(d, &t->a[i], why);
}

static void release(struct nd *d, struct alloc *a, const char *why)
{
	struct nd_turn *t = d->turn;
	char c[NT_ENDPOINT_STRLEN], r[NT_ENDPOINT_STRLEN];
	uint32_t i = (uint32_t)(a - t->a);

	nt_info("TURN allocation %s of user=%s for %s released: %s",
		nt_endpoint_format(&a->relayed, r, sizeof(r)), a->user,
		nt_endpoint_format(&a->client, c, sizeof(c)), why);
	for (int k = 0; k < CHANS_MAX; k++)
		nd_turn_xdp_remove(d, a, &a->chan[k]);
	nd_turn_xdp_unlink(d, a);
	nd_turn_tcp_carries(a->media, -1);
	close(a->h.fd); /* leaves the epoll set with it */
	nt_hidx_del(&t->by_client, client_hash(t, &a->client), i);
	t->by_port[a->relayed.port - d->conf.turn.port_min] = 0;
	memset(a, 0, sizeof(*a));
	nt_freelist_put(&t->free, i);
	t->n--;
}

void nd_turn_close(struct nd *d)
{
	struct nd_turn *t = d->turn;

	if (!t)
		return;
	nd_turn_tcp_close(d);
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->a[i].used)
			release(d, &t->a[i], "shutdown");
	free(t->a);
	free(t->by_port);
	nt_freelist_free(&t->free);
	nt_hidx_free(&t->by_client);
	free(t);
	d->turn = NULL;
}

void nd_turn_tick(struct nd *d, uint64_t now)
{
	struct nd_turn *t = d->turn;

	nd_turn_tcp_tick(d, now);
	if (!t || !t->n)
		return;
	for (uint32_t i = 0; i < t->cap; i++) {
		struct alloc *a = &t->a[i];

		if (!a->used)
			continue;
		if (now > a->expires_ns) {
			release(d, a, "lifetime over");
			continue;
		}
		for (int k = 0; k < CHANS_MAX; k++) {
			struct chan *ch = &a->chan[k];

			if (ch->num && now > ch->expires_ns) {
				nd_turn_xdp_remove(d, a, ch);
				ch->num = 0;
			}
			nd_turn_xdp_check(d, a, ch, now);
		}
	}
}

struct alloc *nd_turn_local(struct nd *d, const struct nt_endpoint *ep)
{
	struct nd_turn *t = d->turn;
	uint32_t port = ep->port, i;

	if (!nd_own_addr(d, ep) || port < d->conf.turn.port_min ||
	    port > d->conf.turn.port_max)
		return NULL;
	i = t->by_port[port - d->conf.turn.port_min];
	if (!i || !nt_endpoint_eq(&t->a[i - 1].relayed, ep))
		return NULL;
	return &t->a[i - 1];
}

/* --- answers ---------------------------------------------------------------- */

static enum nd_turn_req req_index(uint16_t method)
{
	switch (method) {
	case ND_TURN_METHOD_ALLOCATE: return ND_TREQ_ALLOCATE;
	case ND_TURN_METHOD_REFRESH: return ND_TREQ_REFRESH;
	case ND_TURN_METHOD_CREATE_PERMISSION: return ND_TREQ_PERMISSION;
	case ND_TURN_METHOD_CHANNEL_BIND: return ND_TREQ_CHANNEL_BIND;
	default: return ND_TREQ_SEND;
	}
}

static void send_to(struct nd *d, struct nd_handle *h, const struct nt_endpoint *to,
		    const uint8_t *buf, int n)
{
	if (n > 0)
		nd_media_send(d, h, to, buf, (size_t)n);
}

/*
 * An error with no integrity (the requester is not known yet): REALM and a
 * fresh NONCE with 401 and 438 so the client can try again. These go to
 * addresses nobody vouched for: the per-address reply rate bounds them.
 */
static void reply_error(struct nd *d, struct nd_handle *h, const struct nt_endpoint *to,
			const struct nt_stun_msg *m, unsigned code, const char *reason,
			const uint8_t *key)
{
	struct nd_turn *t = d->turn;
	uint8_t out[NT_STUN_MAX];
	char nonce[NT_TURN_NONCE_LEN + 1];
	struct nt_stun_builder b;

	t->st.req[req_index(m->method)][code == 401 || code == 438 ? ND_TRES_UNAUTHORIZED :
								     ND_TRES_REFUSED]++;
	if (!key && !nt_ratelimit_allow(d->replies, to->addr, nd_now_ns()))
		return;
	nt_stun_begin(&b, out, sizeof(out), m->method, NT_STUN_ERROR, m->tid);
	nt_stun_put_error(&b, code, reason);
	if (code == 401 || code == 438) {
		nt_turn_nonce_make(t->nonce_key, (uint64_t)time(NULL), nonce);
		nt_stun_put(&b, NT_STUN_ATTR_REALM, d->conf.turn.realm, strlen(d->conf.turn.realm));
		nt_stun_put(&b, NT_STUN_ATTR_NONCE, nonce, NT_TURN_NONCE_LEN);
	}
	if (key)
		nt_stun_put_integrity(&b, key, NT_TURN_KEY_LEN);
	send_to(d, h, to, out, nt_stun_finish(&b));
}

/*
 * The long-term credential check of RFC 8489 9.2.4: the key that signs the
 * answer into key; false when an error was sent instead.
 */
static bool authenticate(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
			 const uint8_t *buf, const struct nt_stun_msg *m, uint8_t key[NT_TURN_KEY_LEN],
			 char username[NT_TURN_USERNAME_MAX], char user[64])
{
	struct nd_turn *t = d->turn;
	const struct nt_stun_attr *un = nt_stun_find(m, NT_STUN_ATTR_USERNAME);
	const struct nt_stun_attr *realm = nt_stun_find(m, NT_STUN_ATTR_REALM);
	const struct nt_stun_attr *nonce = nt_stun_find(m, NT_STUN_ATTR_NONCE);
	char pw[NT_TURN_PASSWORD_LEN + 1];
	int err;

	if (!m->mi_off || !un || !realm || !nonce) {
		reply_error(d, h, src, m, m->mi_off ? 400 : 401,
			    m->mi_off ? "Bad Request" : "Unauthorized", NULL);
		return false;
	}
	err = nt_turn_nonce_check(t->nonce_key, (const char *)nonce->val, nonce->len,
				  (uint64_t)time(NULL), NONCE_AGE_S);
	if (err) {
		reply_error(d, h, src, m, 438, "Stale Nonce", NULL);
		return false;
	}
	if (realm->len != strlen(d->conf.turn.realm) ||
	    memcmp(realm->val, d->conf.turn.realm, realm->len) ||
	    nt_turn_rest_user((const char *)un->val, un->len, (uint64_t)time(NULL), user)) {
		reply_error(d, h, src, m, 401, "Unauthorized", NULL);
		return false;
	}
	memcpy(username, un->val, un->len);
	username[un->len] = '\0';
	if (nt_turn_rest_password(t->secret, t->secret_len, username, pw) ||
	    nt_turn_lt_key(username, d->conf.turn.realm, pw, key) ||
	    nt_stun_check_integrity(buf, m, key, NT_TURN_KEY_LEN)) {
		reply_error(d, h, src, m, 401, "Unauthorized", NULL);
		return false;
	}
	return true;
}

/* A success response signed with key: attributes put by the caller's fill. */
static void reply_ok(struct nd *d, struct nd_handle *h, const struct nt_endpoint *to,
		     const struct nt_stun_msg *m, struct nt_stun_builder *b, uint8_t *out)
{
	(void)out;
	d->turn->st.req[req_index(m->method)][ND_TRES_OK]++;
	send_to(d, h, to, b->buf, nt_stun_finish(b));
}

/* --- Allocate ------------------------------------------------------------------- */

/* A UDP socket on the relay's address of that family, at a port of the range. */
static int bind_relayed(struct nd *d, int family, bool even, struct nt_endpoint *ep)
{
	struct nd_turn *t = d->turn;
	uint32_t span = d->conf.turn.port_max - d->conf.turn.port_min + 1;

	for (uint32_t tries = 0; tries < span && tries < 256; tries++) {
		struct sockaddr_storage ss;
		size_t sl;
		int fd;

		/* taken in the other family: one allocation per port number */
		if ((even && (t->next_port & 1)) || t->by_port[t->next_port - d->conf.turn.port_min]) {
			t->next_port = t->next_port >= d->conf.turn.port_max ? d->conf.turn.port_min :
									       t->next_port + 1;
			continue;
		}
		memset(ep, 0, sizeof(*ep));
		ep->family = family == AF_INET ? NT_FAMILY_V4 : NT_FAMILY_V6;
		if (family == AF_INET) {
			ep->addr[10] = ep->addr[11] = 0xff;
			memcpy(ep->addr + 12, d->conf.addr_v4, 4);
		} else {
			memcpy(ep->addr, d->conf.addr_v6, 16);
		}
		ep->port = (uint16_t)t->next_port;
		t->next_port = t->next_port >= d->conf.turn.port_max ? d->conf.turn.port_min :
								       t->next_port + 1;
		if (nt_endpoint_to_sockaddr(ep, &ss, &sl))
			return -EAFNOSUPPORT;
		fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!bind(fd, (struct sockaddr *)&ss, (socklen_t)sl))
			return fd;
		close(fd);
		if (errno != EADDRINUSE)
			return -errno;
	}
	return -EADDRINUSE;
}

static size_t user_allocations(const struct nd_turn *t, const char *user)
{
	size_t n = 0;

	for (uint32_t i = 0; i < t->cap; i++)
		n += t->a[i].used && !strcmp(t->a[i].user, user);
	return n;
}

static uint32_t lifetime_of(const struct nd *d, const struct nt_stun_msg *m)
{
	const struct nt_stun_attr *lt = nt_stun_find(m, ATTR_LIFETIME);
	uint32_t v = LIFETIME_DEFAULT_S;

	if (lt && lt->len == 4)
		v = (uint32_t)lt->val[0] << 24 | (uint32_t)lt->val[1] << 16 |
		    (uint32_t)lt->val[2] << 8 | lt->val[3];
	if (lt && v == 0)
		return 0;
	if (v < LIFETIME_DEFAULT_S)
		v = LIFETIME_DEFAULT_S;
	return v < d->conf.turn.max_lifetime_s ? v : d->conf.turn.max_lifetime_s;
}

static void put_u32(struct nt_stun_builder *b, uint16_t type, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	nt_stun_put(b, type, x, 4);
}

static void allocate_ok(struct nd *d, struct nd_handle *h, const struct nt_stun_msg *m,
			struct alloc *a, uint32_t lifetime)
{
	uint8_t out[NT_STUN_MAX];
	struct nt_stun_builder b;

	nt_stun_begin(&b, out, sizeof(out), m->method, NT_STUN_SUCCESS, m->tid);
	nt_stun_put_xor_addr(&b, ATTR_XOR_RELAYED_ADDRESS, &a->relayed);
	put_u32(&b, ATTR_LIFETIME, lifetime);
	nt_stun_put_xor_addr(&b, NT_STUN_ATTR_XOR_MAPPED_ADDRESS, &a->client);
	nt_stun_put_integrity(&b, a->key, NT_TURN_KEY_LEN);
	reply_ok(d, h, &a->client, m, &b, out);
}

static void on_allocate(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
			const uint8_t *buf, const struct nt_stun_msg *m)
{
	struct nd_turn *t = d->turn;
	const struct nt_stun_attr *rt = nt_stun_find(m, ATTR_REQUESTED_TRANSPORT);
	const struct nt_stun_attr *fam = nt_stun_find(m, ATTR_REQUESTED_ADDRESS_FAMILY);
	const struct nt_stun_attr *even;
	char user[64], username[NT_TURN_USERNAME_MAX], r[NT_ENDPOINT_STRLEN], c[NT_ENDPOINT_STRLEN];
	uint8_t key[NT_TURN_KEY_LEN];
	struct alloc *a = find(t, h, src);
	uint32_t lifetime;
	int64_t slot;
	int family = src->family == NT_FAMILY_V4 ? AF_INET : AF_INET6, fd;

	if (!authenticate(d, h, src, buf, m, key, username, user))
		return;
	if (a) {
		/* the same request again: its answer was lost */
		if (!memcmp(a->alloc_tid, m->tid, NT_STUN_TID_LEN))
			allocate_ok(d, h, m, a, (uint32_t)((a->expires_ns - nd_now_ns()) / 1000000000ull));
		else
			reply_error(d, h, src, m, 437, "Allocation Mismatch", key);
		return;
	}
	if (!rt || rt->len != 4 || rt->val[0] != IPPROTO_UDP) {
		reply_error(d, h, src, m, rt ? 442 : 400,
			    rt ? "Unsupported Transport Protocol" : "Bad Request", key);
		return;
	}
	even = nt_stun_find(m, ATTR_EVEN_PORT);
	/* no port pairs are reserved: a request for one (R bit, or a token) cannot be met */
	if ((even && (even->len < 1 || (even->val[0] & 0x80))) ||
	    nt_stun_find(m, ATTR_RESERVATION_TOKEN)) {
		reply_error(d, h, src, m, 508, "Insufficient Capacity", key);
		return;
	}
	if (fam && fam->len == 4)
		family = fam->val[0] == 0x01 ? AF_INET : fam->val[0] == 0x02 ? AF_INET6 : 0;
	if (!family || (family == AF_INET && !d->conf.have_v4) ||
	    (family == AF_INET6 && !d->conf.have_v6)) {
		reply_error(d, h, src, m, 440, "Address Family not Supported", key);
		return;
	}
	if (t->n >= t->cap || user_allocations(t, user) >= d->conf.turn.max_per_user) {
		nt_info("TURN allocation for user=%s refused: quota (%u in all, %u per user)", user,
			t->cap, d->conf.turn.max_per_user);
		reply_error(d, h, src, m, 486, "Allocation Quota Reached", key);
		return;
	}
	lifetime = lifetime_of(d, m);
	if (!lifetime) {
		reply_error(d, h, src, m, 400, "Bad Request", key);
		return;
	}
	slot = nt_freelist_get(&t->free);
	if (slot < 0) {
		reply_error(d, h, src, m, 486, "Allocation Quota Reached", key);
		return;
	}
	a = &t->a[slot];
	memset(a, 0, sizeof(*a));
	fd = bind_relayed(d, family, even != NULL, &a->relayed);
	if (fd < 0) {
		nt_freelist_put(&t->free, (uint32_t)slot);
		nt_warn("TURN: no relayed port free for user=%s: %s", user, strerror(-fd));
		reply_error(d, h, src, m, 508, "Insufficient Capacity", key);
		return;
	}
	a->h.kind = ND_TURN_RELAY;
	a->h.fd = fd;
	a->h.family = family;
	a->used = true;
	a->client = *src;
	a->media = h;
	memcpy(a->user, user, sizeof(a->user));
	memcpy(a->username, username, sizeof(a->username));
	memcpy(a->key, key, sizeof(a->key));
	memcpy(a->alloc_tid, m->tid, NT_STUN_TID_LEN);
	a->expires_ns = nd_now_ns() + (uint64_t)lifetime * 1000000000ull;
	if (nd_loop_add(d, &a->h, EPOLLIN)) {
		close(fd);
		memset(a, 0, sizeof(*a));
		nt_freelist_put(&t->free, (uint32_t)slot);
		reply_error(d, h, src, m, 500, "Server Error", key);
		return;
	}
	nt_hidx_add(&t->by_client, client_hash(t, src), (uint32_t)slot);
	nd_turn_tcp_carries(h, 1);
	t->by_port[a->relayed.port - d->conf.turn.port_min] = (uint32_t)slot + 1;
	t->n++;
	nt_info("TURN allocation %s for user=%s at %s, lifetime %u s",
		nt_endpoint_format(&a->relayed, r, sizeof(r)), user,
		nt_endpoint_format(src, c, sizeof(c)), lifetime);
	allocate_ok(d, h, m, a, lifetime);
}

/* --- requests on an allocation ----------------------------------------------- */

/* The client's allocation, authenticated as its owner; NULL when an error was sent. */
static struct alloc *owner(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
			   const uint8_t *buf, const struct nt_stun_msg *m)
{
	char user[64], username[NT_TURN_USERNAME_MAX];
	uint8_t key[NT_TURN_KEY_LEN];
	struct alloc *a;

	if (!authenticate(d, h, src, buf, m, key, username, user))
		return NULL;
	a = find(d->turn, h, src);
	if (!a) {
		reply_error(d, h, src, m, 437, "Allocation Mismatch", key);
		return NULL;
	}
	if (strcmp(a->username, username)) {
		reply_error(d, h, src, m, 441, "Wrong Credentials", key);
		return NULL;
	}
	return a;
}

static void on_refresh(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
		       const uint8_t *buf, const struct nt_stun_msg *m)
{
	struct alloc *a = owner(d, h, src, buf, m);
	uint8_t out[NT_STUN_MAX], key[NT_TURN_KEY_LEN];
	struct nt_stun_builder b;
	uint32_t lifetime;

	if (!a)
		return;
	lifetime = lifetime_of(d, m);
	memcpy(key, a->key, sizeof(key));
	nt_stun_begin(&b, out, sizeof(out), m->method, NT_STUN_SUCCESS, m->tid);
	put_u32(&b, ATTR_LIFETIME, lifetime);
	nt_stun_put_integrity(&b, key, NT_TURN_KEY_LEN);
	if (!lifetime)
		release(d, a, "refreshed with lifetime 0");
	else
		a->expires_ns = nd_now_ns() + (uint64_t)lifetime * 1000000000ull;
	reply_ok(d, h, src, m, &b, out);
}

/*
 * A peer the relay may send to: same family as the relayed address, not
 * refused. The relay's own address only for its relayed ports (two
 * clients of this relay reaching each other's allocation): to_peer
 * delivers those inside, nothing else on the host is reachable.
 */
static int peer_ok(struct nd *d, const struct alloc *a, const struct nt_endpoint *peer,
		   bool with_port)
{
	const char *why;
	uint32_t port = peer->port;

	if (peer->family != a->relayed.family)
		return 443;
	if (nd_own_addr(d, peer))
		return !with_port || (port >= d->conf.turn.port_min && port <= d->conf.turn.port_max) ?
			       0 : 403;
	if (nd_addr_denied(d, peer, &why))
		return 403;
	return 0;
}

struct perm *nd_turn_perm_find(struct alloc *a, const uint8_t addr[16], uint64_t now)
{
	for (int i = 0; i < PERMS_MAX; i++)
		if (a->perm[i].expires_ns > now && !memcmp(a->perm[i].addr, addr, 16))
			return &a->perm[i];
	return NULL;
}

static int perm_install(struct alloc *a, const uint8_t addr[16], uint64_t now)
{
	struct perm *p = nd_turn_perm_find(a, addr, now);

	for (int i = 0; !p && i < PERMS_MAX; i++)
		if (a->perm[i].expires_ns <= now)
			p = &a->perm[i];
	if (!p)
		return -ENOSPC;
	memcpy(p->addr, addr, 16);
	p->expires_ns = now + PERM_NS;
	return 0;
}

static void on_permission(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
			  const uint8_t *buf, const struct nt_stun_msg *m)
{
	struct alloc *a = owner(d, h, src, buf, m);
	uint8_t out[NT_STUN_MAX];
	struct nt_stun_builder b;
	struct nt_endpoint peers[NT_STUN_ATTRS_MAX];
	size_t np = 0;
	uint64_t now = nd_now_ns();
	int code;

	if (!a)
		return;
	/* all or nothing: every peer is checked before any is installed */
	for (size_t i = 0; i < m->nattrs; i++) {
		if (m->attrs[i].type != ATTR_XOR_PEER_ADDRESS)
			continue;
		if (nt_stun_xor_addr_decode(&m->attrs[i], m->tid, &peers[np])) {
			reply_error(d, h, src, m, 400, "Bad Request", a->key);
			return;
		}
		code = peer_ok(d, a, &peers[np], false);
		if (code) {
			reply_error(d, h, src, m, (unsigned)code,
				    code == 403 ? "Forbidden" : "Peer Address Family Mismatch", a->key);
			return;
		}
		np++;
	}
	if (!np) {
		reply_error(d, h, src, m, 400, "Bad Request", a->key);
		return;
	}
	for (size_t i = 0; i < np; i++)
		if (perm_install(a, peers[i].addr, now)) {
			reply_error(d, h, src, m, 508, "Insufficient Capacity", a->key);
			return;
		}
	nt_stun_begin(&b, out, sizeof(out), m->method, NT_STUN_SUCCESS, m->tid);
	nt_stun_put_integrity(&b, a->key, NT_TURN_KEY_LEN);
	reply_ok(d, h, src, m, &b, out);
}

static struct chan *chan_by_num(struct alloc *a, uint16_t num)
{
	for (int i = 0; i < CHANS_MAX; i++)
		if (a->chan[i].num == num)
			return &a->chan[i];
	return NULL;
}

struct chan *nd_turn_chan_by_peer(struct alloc *a, const struct nt_endpoint *peer)
{
	for (int i = 0; i < CHANS_MAX; i++)
		if (a->chan[i].num && nt_endpoint_eq(&a->chan[i].peer, peer))
			return &a->chan[i];
	return NULL;
}

static void on_channel_bind(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
			    const uint8_t *buf, const struct nt_stun_msg *m)
{
	struct alloc *a = owner(d, h, src, buf, m), *other;
	const struct nt_stun_attr *cn, *pa;
	struct nt_endpoint peer;
	struct chan *byn, *byp;
	uint8_t out[NT_STUN_MAX];
	struct nt_stun_builder b;
	uint64_t now = nd_now_ns();
	uint16_t num;
	int code;

	if (!a)
		return;
	cn = nt_stun_find(m, ATTR_CHANNEL_NUMBER);
	pa = nt_stun_find(m, ATTR_XOR_PEER_ADDRESS);
	if (!cn || cn->len != 4 || !pa || nt_stun_xor_addr_decode(pa, m->tid, &peer)) {
		reply_error(d, h, src, m, 400, "Bad Request", a->key);
		return;
	}
	num = (uint16_t)(cn->val[0] << 8 | cn->val[1]);
	byn = chan_by_num(a, num);
	byp = nd_turn_chan_by_peer(a, &peer);
	/*
	 * 0x4000..0x4FFF (RFC 8656), and up to 0x7FFF as RFC 5766 allowed and
	 * clients still pick; a number or a peer already bound to another:
	 * refused (RFC 8656 11.2)
	 */
	if (num < 0x4000 || num > 0x7fff || byn != byp) {
		reply_error(d, h, src, m, 400, "Bad Request", a->key);
		return;
	}
	code = peer_ok(d, a, &peer, true);
	if (code) {
		reply_error(d, h, src, m, (unsigned)code,
			    code == 403 ? "Forbidden" : "Peer Address Family Mismatch", a->key);
		return;
	}
	if (!byn)
		byn = chan_by_num(a, 0);
	if (!byn || perm_install(a, peer.addr, now)) {
		reply_error(d, h, src, m, 508, "Insufficient Capacity", a->key);
		return;
	}
	byn->num = num;
	byn->peer = peer;
	byn->expires_ns = now + CHAN_NS;
	nd_turn_xdp_install(d, a, byn);
	/* a hairpin: the other allocation's channel to this one may go in now too */
	other = nd_turn_local(d, &peer);
	if (other && (byp = nd_turn_chan_by_peer(other, &a->relayed)))
		nd_turn_xdp_install(d, other, byp);
	nt_stun_begin(&b, out, sizeof(out), m->method, NT_STUN_SUCCESS, m->tid);
	nt_stun_put_integrity(&b, a->key, NT_TURN_KEY_LEN);
	reply_ok(d, h, src, m, &b, out);
}

/* --- data ------------------------------------------------------------------- */

/*
 * A datagram from peer (its permission checked here) to b's client: as
 * ChannelData on the channel bound to peer, else in a Data indication.
 */
static void to_client(struct nd *d, struct alloc *b, const struct nt_endpoint *peer,
		      const uint8_t *data, size_t len)
{
	struct nd_turn *t = d->turn;
	static uint8_t out[NT_STUN_MAX + 64];
	struct chan *ch;
	ssize_t n;

	if (!nd_turn_perm_find(b, peer->addr, nd_now_ns())) {
		t->st.drop_no_permission++;
		return;
	}
	ch = nd_turn_chan_by_peer(b, peer);
	if (ch && len <= NT_STUN_MAX) {
		out[0] = (uint8_t)(ch->num >> 8);
		out[1] = (uint8_t)ch->num;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		memcpy(out + 4, data, len);
		n = 4 + (ssize_t)len;
	} else {
		struct nt_stun_builder sb;
		uint8_t tid[NT_STUN_TID_LEN];

		if (nt_wire_random(tid, sizeof(tid)))
			return;
		nt_stun_begin(&sb, out, sizeof(out), ND_TURN_METHOD_DATA, NT_STUN_INDICATION, tid);
		nt_stun_put_xor_addr(&sb, ATTR_XOR_PEER_ADDRESS, peer);
		nt_stun_put(&sb, ATTR_DATA, data, len);
		n = nt_stun_finish(&sb);
		if (n < 0)
			return; /* larger than a datagram to the client may be */
	}
	if (!nd_media_send(d, b->media, &b->client, out, (size_t)n)) {
		t->st.to_client_pkts++;
		t->st.to_client_bytes += len;
		b->pkts[1]++;
		b->bytes[1] += len;
	}
}

static void to_peer(struct nd *d, struct alloc *a, const struct nt_endpoint *peer,
		    const uint8_t *data, size_t len)
{
	struct nd_turn *t = d->turn;
	struct alloc *b;
	uint64_t now = nd_now_ns();

	if (!nd_turn_perm_find(a, peer->addr, now)) {
		t->st.drop_no_permission++;
		return;
	}
	/* the client's rate, as a mapping's media (--max-pps): no flood through the relay */
	if (nt_bucket_over(&a->tb_credit_ns, &a->tb_last_ns, d->pkt_cost_ns, d->burst_ns, now)) {
		t->st.drop_rate++;
		a->rate_drops++;
		return;
	}
	if (nd_own_addr(d, peer)) {
		/* another allocation of this relay: handed over here, never sent to the host */
		b = nd_turn_local(d, peer);
		if (!b) {
			t->st.drop_no_permission++;
			return;
		}
		t->st.to_peer_pkts++;
		t->st.to_peer_bytes += len;
		a->pkts[0]++;
		a->bytes[0] += len;
		to_client(d, b, &a->relayed, data, len);
		return;
	}
	if (!nd_media_send(d, &a->h, peer, data, len)) {
		t->st.to_peer_pkts++;
		t->st.to_peer_bytes += len;
		a->pkts[0]++;
		a->bytes[0] += len;
	}
}

static void on_send(struct nd *d, const struct nd_handle *h, const struct nt_endpoint *src,
		    const struct nt_stun_msg *m)
{
	struct nd_turn *t = d->turn;
	struct alloc *a = find(t, h, src);
	const struct nt_stun_attr *pa = nt_stun_find(m, ATTR_XOR_PEER_ADDRESS);
	const struct nt_stun_attr *data = nt_stun_find(m, ATTR_DATA);
	struct nt_endpoint peer;

	/* indications get no answer: what is wrong is dropped and counted */
	if (!a) {
		t->st.drop_no_allocation++;
		return;
	}
	if (!pa || !data || nt_stun_xor_addr_decode(pa, m->tid, &peer)) {
		t->st.req[ND_TREQ_SEND][ND_TRES_REFUSED]++;
		return;
	}
	t->st.req[ND_TREQ_SEND][ND_TRES_OK]++;
	to_peer(d, a, &peer, data->val, data->len);
}

bool nd_turn_channel_data(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
			  const uint8_t *buf, size_t len)
{
	struct nd_turn *t = d->turn;
	struct alloc *a;
	struct chan *ch;
	uint16_t num, dlen;

	if (!t || len < 4 || (buf[0] & 0xc0) != 0x40)
		return false;
	num = (uint16_t)(buf[0] << 8 | buf[1]);
	dlen = (uint16_t)(buf[2] << 8 | buf[3]);
	a = find(t, h, src);
	if (!a) {
		t->st.drop_no_allocation++;
		return true;
	}
	ch = chan_by_num(a, num);
	if (!ch || (size_t)dlen + 4 > len) {
		t->st.drop_no_permission++;
		return true;
	}
	to_peer(d, a, &ch->peer, buf + 4, dlen);
	return true;
}

void nd_turn_relay_event(struct nd *d, struct nd_handle *h)
{
	struct alloc *a = (struct alloc *)h;
	static uint8_t in[65536];

	for (int round = 0; round < 64; round++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct nt_endpoint peer;
		ssize_t n = recvfrom(h->fd, in, sizeof(in), 0, (struct sockaddr *)&ss, &sl);

		if (n < 0)
			return;
		if (nt_endpoint_from_sockaddr((struct sockaddr *)&ss, &peer))
			continue;
		/* allocations of this relay reach each other inside (to_peer), not through the host */
		if (nd_own_addr(d, &peer)) {
			d->turn->st.drop_no_permission++;
			continue;
		}
		to_client(d, a, &peer, in, (size_t)n);
	}
}

void nd_turn_input(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
		   const uint8_t *buf, size_t len, const struct nt_stun_msg *m)
{
	(void)len;
	if (m->cls == NT_STUN_INDICATION && m->method == ND_TURN_METHOD_SEND) {
		on_send(d, h, src, m);
		return;
	}
	if (m->cls != NT_STUN_REQUEST)
		return;
	switch (m->method) {
	case ND_TURN_METHOD_ALLOCATE:
		on_allocate(d, h, src, buf, m);
		break;
	case ND_TURN_METHOD_REFRESH:
		on_refresh(d, h, src, buf, m);
		break;
	case ND_TURN_METHOD_CREATE_PERMISSION:
		on_permission(d, h, src, buf, m);
		break;
	case ND_TURN_METHOD_CHANNEL_BIND:
		on_channel_bind(d, h, src, buf, m);
		break;
	default:
		break;
	}
}
