// SPDX-License-Identifier: GPL-2.0
/*
 * Control messages on the media port: PROBE -> CHALLENGE to the observed
 * address, ANSWER -> verified mapping, KEEPALIVE -> consent refreshed.
 * Everything is checked against the session key first; errors to unknown
 * or unauthenticated senders go back unsigned and no larger than what
 * came in, so the port is no amplifier.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "nattravd.h"
#include "nt_endpoint.h"
#include "nt_log.h"
#include "nt_wire.h"

static void send_error(struct nd *d, struct nd_handle *h, const struct nt_endpoint *to,
		       const struct nt_wire_msg *req, const struct nt_session *s,
		       uint16_t code, const char *reason)
{
	struct nt_wire_msg m = { .kind = NT_WIRE_ERROR, .error_code = code };
	uint8_t b[NT_WIRE_MAX];
	int n;

	memcpy(m.tid, req->tid, sizeof(m.tid));
	m.error_method = req->kind == NT_WIRE_PROBE ? NT_WIRE_METHOD_PROBE :
			 req->kind == NT_WIRE_ANSWER ? NT_WIRE_METHOD_ANSWER :
						       NT_WIRE_METHOD_KEEPALIVE;
	snprintf(m.reason, sizeof(m.reason), "%s", reason);
	if (s)
		m.session_id = s->id;
	n = nt_wire_build(b, sizeof(b), &m, s ? s->key : NULL, true);
	if (n > 0)
		nd_media_send(d, h, to, b, (size_t)n);
}

static void tell_refused(struct nd *d, struct nt_session *s, const char *map,
			 const char *code, const char *reason)
{
	char b[NT_LINE_MAX + 2];

	if (nt_line_fmt_evt(b, sizeof(b), "REFUSED",
			    (struct nt_line_kv[]){ { "mapping", map }, { "code", code },
						   { "reason", reason } }, 3) > 0)
		nd_session_tell(d, s, b);
}

static void on_probe(struct nd *d, struct nd_handle *h, struct nt_session *s,
		     const struct nt_endpoint *src, const struct nt_wire_msg *req,
		     const char *srcs)
{
	struct nt_wire_msg m = { .kind = NT_WIRE_CHALLENGE, .session_id = s->id };
	uint8_t b[NT_WIRE_MAX];
	const char *why;
	uint64_t now = nd_now_ns();
	int n;

	if (nt_addr_denied(&d->conf.deny, src, &why)) {
		nt_info("mapping %s of user=%s refused: address %s", srcs, s->user, why);
		send_error(d, h, src, req, s, NT_WIRE_ERR_FORBIDDEN, "address denied");
		tell_refused(d, s, srcs, "403", why);
		return;
	}
	memcpy(m.tid, req->tid, sizeof(m.tid)); /* a STUN response echoes the request's id */
	m.challenge_len = NT_VERIFY_NONCE_LEN;
	if (nt_wire_random(m.challenge, NT_VERIFY_NONCE_LEN)) {
		send_error(d, h, src, req, s, NT_WIRE_ERR_SERVER, "no randomness");
		return;
	}
	m.mapped = *src;
	m.lifetime_ms = NT_VERIFY_LIFETIME_MS;
	if (nt_verify_issue(&d->ver, s->id, src, m.challenge, now,
			    NT_VERIFY_LIFETIME_MS * 1000000ull))
		return;
	n = nt_wire_build(b, sizeof(b), &m, s->key, true);
	if (n < 0) {
		nt_err("cannot build a challenge: %s", strerror(-n));
		return;
	}
	nd_conn_touch(s, now);
	nt_dbg("probe of user=%s from %s: challenge sent", s->user, srcs);
	nd_media_send(d, h, src, b, (size_t)n);
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
		      err == -EADDRNOTAVAIL ? "answer from another address than the probe" :
					      "unknown or already used challenge";
		nt_info("answer of user=%s from %s verifies nothing: %s", s->user, srcs, why);
		send_error(d, h, src, req, s, NT_WIRE_ERR_STALE_CHALLENGE, "stale challenge, probe again");
		return;
	}
	/* policy may have changed meanwhile; checked again where it is written */
	if (nt_addr_denied(&d->conf.deny, src, &why)) {
		nt_info("mapping %s of user=%s refused: address %s", srcs, s->user, why);
		send_error(d, h, src, req, s, NT_WIRE_ERR_FORBIDDEN, "address denied");
		tell_refused(d, s, srcs, "403", why);
		return;
	}
	nd_conn_touch(s, now);
	err = nd_mapping_install(d, s, src);
	if (err == -EDQUOT) {
		nt_warn("mapping %s of user=%s refused: %u mappings already", srcs, s->user,
			d->conf.max_mappings);
		send_error(d, h, src, req, s, NT_WIRE_ERR_QUOTA, "mapping quota reached");
		tell_refused(d, s, srcs, "429", "quota");
	} else if (err) {
		send_error(d, h, src, req, s, NT_WIRE_ERR_SERVER, "cannot install the mapping");
		tell_refused(d, s, srcs, "500", "internal");
	}
}

static void on_keepalive(struct nd *d, struct nd_handle *h, struct nt_session *s,
			 const struct nt_endpoint *src, const struct nt_wire_msg *req,
			 const char *srcs)
{
	uint64_t now = nd_now_ns();

	if (!s->verified || !nt_endpoint_eq(src, &s->mapping)) {
		/* a rebinding NAT, or keepalives before verification: probe first */
		nt_dbg("keepalive of user=%s from unverified %s", s->user, srcs);
		send_error(d, h, src, req, s, NT_WIRE_ERR_STALE_CHALLENGE, "mapping not verified, probe again");
		return;
	}
	if (req->seq <= s->keepalive_seq) {
		nt_dbg("keepalive of user=%s from %s replayed (seq %llu <= %llu)", s->user, srcs,
		       (unsigned long long)req->seq, (unsigned long long)s->keepalive_seq);
		return;
	}
	s->keepalive_seq = req->seq;
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
		nt_dbg("control message from %s dropped: %s", srcs, strerror(-err));
		return;
	}
	if (m.kind != NT_WIRE_PROBE && m.kind != NT_WIRE_ANSWER && m.kind != NT_WIRE_KEEPALIVE) {
		d->cnt.control_bad++;
		return; /* responses are ours to send, not to receive */
	}
	s = nt_session_find(&d->st, m.session_id);
	if (!s) {
		d->cnt.control_bad++;
		nt_info("control message from %s for unknown session %016llx", srcs,
			(unsigned long long)m.session_id);
		if (m.kind != NT_WIRE_KEEPALIVE)
			send_error(d, h, src, &m, NULL, NT_WIRE_ERR_UNKNOWN_SESSION, "unknown session");
		return;
	}
	err = nt_wire_verify(buf, len, &m, s->key);
	if (err) {
		d->cnt.control_bad++;
		nt_info("control message from %s for session of user=%s failed integrity: %s",
			srcs, s->user, err == -ENOKEY ? "unsigned" : "wrong key or altered");
		if (m.kind != NT_WIRE_KEEPALIVE)
			send_error(d, h, src, &m, NULL, NT_WIRE_ERR_UNAUTHORIZED, "integrity check failed");
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
