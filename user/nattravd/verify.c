// SPDX-License-Identifier: GPL-2.0
/*
 * Control messages on the media port (docs/protocol.md sections 3-5):
 * PROBE -> CHALLENGE to the observed address, ANSWER -> verified mapping,
 * KEEPALIVE -> consent refreshed. A message that fails parsing or integrity,
 * names an unknown session, or replays a PROBE or KEEPALIVE, gets no answer
 * at all (no oracle, no reflection): it is counted, and summed into one log
 * line per NT_REFUSAL_INTERVAL_S (per-datagram lines only at debug level).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "nattravd.h"
#include "nt_endpoint.h"
#include "nt_log.h"
#include "nt_wire.h"

/* How long the (authentic, so MI-carrying) request was on the wire. */
static size_t req_len(const struct nt_wire_msg *req)
{
	return req->mi_off + 4 + NT_WIRE_KEY_LEN +
	       ((req->present & NT_WIRE_HAS_FINGERPRINT) ? 8 : 0);
}

/*
 * A datagram that gets no answer: counted by reason, summed for the log,
 * and one line of its own only at debug level, so a flood of forgeries is
 * one info line per interval.
 */
static void refuse(struct nd *d, enum nt_refusal_reason r, const struct nt_endpoint *src,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void refuse(struct nd *d, enum nt_refusal_reason r, const struct nt_endpoint *src,
		   const char *fmt, ...)
{
	char line[256];
	va_list ap;

	d->cnt.refused[r]++;
	nt_refusal_note(&d->refusals, r, src->addr);
	if (nt_log_get_level() < NT_LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	nt_dbg("%s", line);
}

void nd_wire_tick(struct nd *d, uint64_t now)
{
	char line[512];

	if (now - d->refusals_ns < NT_REFUSAL_INTERVAL_S * 1000000000ull)
		return;
	d->refusals_ns = now;
	if (nt_refusal_flush(&d->refusals, NT_REFUSAL_INTERVAL_S, line, sizeof(line)))
		nt_info("%s", line);
}

/*
 * A reply not sent because of a rate: counted; noted for the summary unless
 * its request was refused already (one datagram, one reason).
 */
static void withheld(struct nd *d, bool refused, const struct nt_endpoint *to, const char *what,
		     int limit)
{
	char a[NT_ENDPOINT_STRLEN];

	nt_endpoint_format(to, a, sizeof(a));
	if (refused)
		nt_dbg("reply to %s not sent: more than %d a second %s", a, limit, what);
	else
		refuse(d, NT_REF_RATE, to, "reply to %s not sent: more than %d a second %s", a,
		       limit, what);
}

/* One more UDP ERROR for s in the current second, or false when it has had its share. */
static bool session_budget(struct nt_session *s, uint64_t now)
{
	if (now - s->reply_window_ns >= 1000000000ull) {
		s->reply_window_ns = now;
		s->replies = 0;
	}
	return ++s->replies <= ND_ANSWERS_PER_SESSION_SEC;
}

/*
 * Every UDP reply goes out here: never more bytes than the request had (no
 * amplification), and at most ND_ANSWERS_PER_ADDR_SEC a second to one
 * address from a fixed table (no per-source allocation), both counted.
 * Per session, CHALLENGEs are bounded by ND_PROBES_PER_SEC and ERRORs by
 * ND_ANSWERS_PER_SESSION_SEC.
 */
static void reply(struct nd *d, struct nd_handle *h, const struct nt_endpoint *to,
		  const struct nt_wire_msg *req, const void *buf, size_t n, bool refused)
{
	char a[NT_ENDPOINT_STRLEN];
	uint64_t now = nd_now_ns();

	if (n > req_len(req)) {
		d->cnt.answers_too_big++;
		nt_dbg("reply to %s not sent: %zu bytes for a request of %zu",
		       nt_endpoint_format(to, a, sizeof(a)), n, req_len(req));
		return;
	}
	if (!nt_ratelimit_allow(d->replies, to->addr, now)) {
		d->cnt.answers_limited++;
		withheld(d, refused, to, "to that address", ND_ANSWERS_PER_ADDR_SEC);
		return;
	}
	nd_media_send(d, h, to, buf, n);
}

/* refused: the request is counted as refused already (a stale ANSWER). */
static void send_error(struct nd *d, struct nd_handle *h, const struct nt_endpoint *to,
		       const struct nt_wire_msg *req, struct nt_session *s,
		       uint16_t code, const char *reason, bool refused)
{
	struct nt_wire_msg m = { .kind = NT_WIRE_ERROR, .error_code = code };
	uint8_t b[NT_WIRE_MAX];
	int n;

	/*
	 * A captured ANSWER replayed from many spoofed sources gets its 438s
	 * only this often, whatever the addresses: a reflector of bounded rate.
	 */
	if (!session_budget(s, nd_now_ns())) {
		d->cnt.answers_limited_session++;
		withheld(d, refused, to, "for the session", ND_ANSWERS_PER_SESSION_SEC);
		return;
	}
	memcpy(m.tid, req->tid, sizeof(m.tid));
	m.error_method = req->kind == NT_WIRE_PROBE ? NT_WIRE_METHOD_PROBE :
			 req->kind == NT_WIRE_ANSWER ? NT_WIRE_METHOD_ANSWER :
						       NT_WIRE_METHOD_KEEPALIVE;
	snprintf(m.reason, sizeof(m.reason), "%s", reason);
	m.session_id = s->id;
	n = nt_wire_build(b, sizeof(b), &m, s->key, true);
	if (n > 0 && (size_t)n > req_len(req)) {
		/* the code is what counts: drop the text and FINGERPRINT to fit */
		m.reason[0] = '\0';
		n = nt_wire_build(b, sizeof(b), &m, s->key, false);
	}
	if (n > 0)
		reply(d, h, to, req, b, (size_t)n, refused);
}

/* Probes per session per second; a retransmitting client sends a few. */
#define ND_PROBES_PER_SEC 10

/*
 * nt_addr_denied plus the relay's own addresses: media relayed to itself
 * would loop through the relay host's stack.
 */
bool nd_own_addr(const struct nd *d, const struct nt_endpoint *ep)
{
	return (d->conf.have_v4 && ep->family == NT_FAMILY_V4 &&
		!memcmp(ep->addr + 12, d->conf.addr_v4, 4)) ||
	       (d->conf.have_v6 && ep->family == NT_FAMILY_V6 &&
		!memcmp(ep->addr, d->conf.addr_v6, 16));
}

bool nd_addr_denied(const struct nd *d, const struct nt_endpoint *ep, const char **why)
{
	if (nd_own_addr(d, ep)) {
		if (why)
			*why = "relay";
		return true;
	}
	/* the relay's IPv4 address inside an IPv6 one (NAT64, 6to4, Teredo) too */
	if (d->conf.have_v4) {
		uint8_t emb[2][4];

		for (size_t i = 0, n = nt_addr_embedded_v4(ep, emb); i < n; i++)
			if (!memcmp(emb[i], d->conf.addr_v4, 4)) {
				if (why)
					*why = "embedded-relay";
				return true;
			}
	}
	return nt_addr_denied(&d->conf.deny, ep, why);
}

/* What nd_mapping_install returns for a peer the relay cannot deliver to (nexthop.h). */
static bool unreachable(int err)
{
	return err == -ENETUNREACH || err == -EHOSTUNREACH || err == -EOPNOTSUPP;
}

static void tell_denied(struct nd *d, struct nt_session *s, const char *map,
			const char *reason)
{
	char b[NT_LINE_MAX + 2], sid[17];

	snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)s->id);
	if (nt_line_fmt_evt(b, sizeof(b), "DENIED",
			    (struct nt_line_kv[]){ { "session", sid }, { "mapping", map },
						   { "reason", reason } }, 3) > 0)
		nd_session_tell(d, s, b);
}

/*
 * src is in a denied range: refused, counted, told to the client over TLS
 * only. A signed 403 sent to src would make the relay a reflector into the
 * very ranges it refuses (a spoofed source there is the usual reason).
 */
static bool refused_address(struct nd *d, struct nt_session *s, const struct nt_endpoint *src,
			    const char *srcs)
{
	const char *why;

	if (!nd_addr_denied(d, src, &why))
		return false;
	nt_info("mapping %s of user=%s refused: address %s", srcs, s->user, why);
	d->ev.verify_failed[ND_VFAIL_DENIED]++;
	refuse(d, NT_REF_DENIED, src, "probe of user=%s from %s: address %s", s->user, srcs, why);
	tell_denied(d, s, srcs, "address");
	return true;
}

static void on_probe(struct nd *d, struct nd_handle *h, struct nt_session *s,
		     const struct nt_endpoint *src, const struct nt_wire_msg *req,
		     const char *srcs)
{
	struct nt_wire_msg m = { .kind = NT_WIRE_CHALLENGE, .session_id = s->id };
	const struct nt_challenge *c;
	uint8_t b[NT_WIRE_MAX], nonce[NT_VERIFY_NONCE_LEN];
	uint64_t now = nd_now_ns();
	int n, rc;

	if (now - s->probe_window_ns >= 1000000000ull) {
		s->probe_window_ns = now;
		s->probes = 0;
	}
	if (req_len(req) < NT_WIRE_PROBE_MIN) {
		/* its CHALLENGE would be longer than it: no state, no answer */
		d->cnt.answers_too_big++;
		nt_dbg("probe of user=%s from %s dropped: %zu bytes, less than %d (unpadded)",
		       s->user, srcs, req_len(req), NT_WIRE_PROBE_MIN);
		return;
	}
	if (nd_addr_denied(d, src, NULL)) {
		/* the sequence is spent here too: a replay is not refused, and told, again */
		if (req->seq <= s->probe_seq) {
			refuse(d, NT_REF_REPLAY, src, "probe of user=%s from %s replayed (seq %llu)",
			       s->user, srcs, (unsigned long long)req->seq);
			return;
		}
		s->probe_seq = req->seq;
		refused_address(d, s, src, srcs);
		return;
	}
	if (nt_wire_random(nonce, sizeof(nonce))) {
		send_error(d, h, src, req, s, NT_WIRE_ERR_SERVER, "no randomness", false);
		return;
	}
	rc = nt_verify_probe(&d->ver, s->id, &s->probe_seq, src, req->seq, nonce, now,
			     NT_VERIFY_LIFETIME_MS * 1000000ull, &c);
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (rc == -EALREADY) {
		/* a copy of a probe already answered: it may not displace the real challenge */
		refuse(d, NT_REF_REPLAY, src, "probe of user=%s from %s replayed (seq %llu)",
		       s->user, srcs, (unsigned long long)req->seq);
		return;
	}
	if (rc < 0)
		return;
	/* counted after the replay check: replays must not use up the real client's share */
	if (++s->probes > ND_PROBES_PER_SEC) {
		d->cnt.answers_limited_session++;
		refuse(d, NT_REF_RATE, src, "probe of user=%s from %s not answered: more than %d a second",
		       s->user, srcs, ND_PROBES_PER_SEC);
		return;
	}
	/* a STUN response echoes the request's id */
	memcpy(m.tid, req->tid, sizeof(m.tid));
	memcpy(m.challenge, c->nonce, NT_VERIFY_NONCE_LEN);
	m.challenge_len = NT_VERIFY_NONCE_LEN;
	m.mapped = *src;
	m.lifetime_ms = (uint32_t)((c->expires_ns - now) / 1000000ull);
	if (!m.lifetime_ms)
		m.lifetime_ms = 1;
	n = nt_wire_build(b, sizeof(b), &m, s->key, true);
	OPENSSL_cleanse(m.challenge, sizeof(m.challenge));
	if (n < 0) {
		nt_err("cannot build a challenge: %s", strerror(-n));
		return;
	}
	nd_conn_touch(s, now);
	nt_dbg("probe of user=%s from %s: challenge sent", s->user, srcs);
	reply(d, h, src, req, b, (size_t)n, false);
}

static void on_answer(struct nd *d, struct nd_handle *h, struct nt_session *s,
		      const struct nt_endpoint *src, const struct nt_wire_msg *req,
		      const char *srcs)
{
	uint64_t now = nd_now_ns();
	const char *why;
	int err;

	err = nt_verify_check(&d->ver, s->id, src, req->challenge, req->challenge_len,
			      &req->mapped, now);
	if (err) {
		why = err == -ETIMEDOUT ? "challenge expired" :
		      err == -EADDRNOTAVAIL ? "answer from another address than the probe, or naming another" :
					      "unknown or already used challenge";
		refuse(d, err == -EADDRNOTAVAIL ? NT_REF_ADDRESS : NT_REF_STALE, src,
		       "answer of user=%s from %s verifies nothing: %s", s->user, srcs, why);
		d->ev.verify_failed[err == -ETIMEDOUT ? ND_VFAIL_EXPIRED :
				    err == -EADDRNOTAVAIL ? ND_VFAIL_ADDRESS : ND_VFAIL_STALE]++;
		/* no answer to another address than the one challenged: no reflection */
		if (err != -EADDRNOTAVAIL)
			send_error(d, h, src, req, s, NT_WIRE_ERR_STALE_CHALLENGE, "stale challenge, probe again",
				   true);
		return;
	}
	/* policy may have changed meanwhile; checked again where it is written */
	if (refused_address(d, s, src, srcs))
		return;
	nd_conn_touch(s, now);
	err = nd_mapping_install(d, s, src);
	d->ev.verify_ok += !err;
	d->ev.verify_failed[ND_VFAIL_QUOTA] += err == -EDQUOT;
	d->ev.verify_failed[ND_VFAIL_UNREACHABLE] += unreachable(err);
	d->ev.verify_failed[ND_VFAIL_INTERNAL] += err && err != -EDQUOT && !unreachable(err);
	if (unreachable(err)) {
		/* nd_nh_check logged why */
		send_error(d, h, src, req, s, NT_WIRE_ERR_SERVER,
			   err == -ENETUNREACH ? "relay has no route to this address" :
			   err == -EHOSTUNREACH ? "relay cannot reach this address (no neighbour answer)" :
						  "relay cannot send media to this address", false);
		tell_denied(d, s, srcs, "unreachable");
	} else if (err == -EDQUOT) {
		nt_warn("mapping %s of user=%s refused: %u mappings already", srcs, s->user,
			d->conf.max_mappings);
		send_error(d, h, src, req, s, NT_WIRE_ERR_QUOTA, "mapping quota reached", false);
		tell_denied(d, s, srcs, "quota");
	} else if (err) {
		send_error(d, h, src, req, s, NT_WIRE_ERR_SERVER, "cannot install the mapping", false);
		tell_denied(d, s, srcs, "internal");
	}
}

static void on_keepalive(struct nd *d, struct nd_handle *h, struct nt_session *s,
			 const struct nt_endpoint *src, const struct nt_wire_msg *req,
			 const char *srcs)
{
	uint64_t now = nd_now_ns();

	/* a recorded keepalive replayed later keeps nothing alive and gets no answer */
	if (req->seq <= s->keepalive_seq) {
		refuse(d, NT_REF_REPLAY, src, "keepalive of user=%s from %s replayed (seq %llu <= %llu)",
		       s->user, srcs, (unsigned long long)req->seq,
		       (unsigned long long)s->keepalive_seq);
		return;
	}
	s->keepalive_seq = req->seq;
	if (!s->verified || !nt_endpoint_eq(src, &s->mapping)) {
		/*
		 * Authentic and fresh, but from an address not verified: the
		 * NAT rebound. Not a sign of life for the old mapping; a signed
		 * 438 tells the client to probe again now rather than wait for
		 * the consent window to run out.
		 */
		nt_info("keepalive of user=%s from unverified %s (NAT rebinding?): asked to probe again",
			s->user, srcs);
		send_error(d, h, src, req, s, NT_WIRE_ERR_STALE_CHALLENGE, "mapping not verified, probe again",
			   false);
		return;
	}
	s->keepalive_ns = now;
	nd_conn_touch(s, now);
}

void nd_wire_input(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
		   const uint8_t *buf, size_t len)
{
	struct nt_wire_msg m;
	struct nt_session *s;
	char srcs[NT_ENDPOINT_STRLEN];
	int err = nt_wire_parse(buf, len, &m);

	nt_endpoint_format(src, srcs, sizeof(srcs));
	if (err) {
		d->cnt.control_bad++;
		refuse(d, NT_REF_MALFORMED, src, "control message from %s dropped: %s", srcs,
		       strerror(-err));
		return;
	}
	if (m.kind != NT_WIRE_PROBE && m.kind != NT_WIRE_ANSWER && m.kind != NT_WIRE_KEEPALIVE) {
		d->cnt.control_bad++;
		/* responses are ours to send, not to receive */
		refuse(d, NT_REF_NOT_REQUEST, src, "control message from %s dropped: type 0x%04x",
		       srcs, m.type);
		return;
	}
	s = nt_session_find(&d->st, m.session_id);
	if (!s) {
		d->cnt.control_bad++;
		refuse(d, NT_REF_UNKNOWN_SESSION, src,
		       "control message from %s for unknown session %016llx dropped", srcs,
		       (unsigned long long)m.session_id);
		return;
	}
	err = nt_wire_verify(buf, len, &m, s->key);
	if (err) {
		d->cnt.control_bad++;
		refuse(d, NT_REF_BAD_MAC, src,
		       "control message from %s for session of user=%s dropped: integrity %s",
		       srcs, s->user, err == -ENOKEY ? "missing" : "check failed");
		return;
	}
	switch (m.kind) {
	case NT_WIRE_PROBE:
		on_probe(d, h, s, src, &m, srcs);
		break;
	case NT_WIRE_ANSWER:
		on_answer(d, h, s, src, &m, srcs);
		break;
	default:
		on_keepalive(d, h, s, src, &m, srcs);
		break;
	}
}
