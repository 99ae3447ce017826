// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * STUN-framed control messages (RFC 8489): encode, decode, integrity.
 * Every read of a datagram is bounded by the length the caller passed; the
 * header length field is only trusted after it matched that length.
 */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "nt_hmac.h"
#include "nt_be.h"
#include "nt_stun.h"
#include "nt_wire.h"

#define ATTR_HDR 4
#define MI_LEN 32

static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool nt_wire_is_control(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	return len >= NT_STUN_HDR_LEN && (p[0] & 0xc0) == 0 &&
	       nt_get32(p + 4) == NT_STUN_MAGIC;
}

int nt_wire_random(void *out, size_t len)
{
	return RAND_bytes(out, (int)len) == 1 ? 0 : -EIO;
}

/* Per kind: the attributes it must carry and the ones it may carry. */
struct kind_rule {
	uint32_t need, allow;
};

static const struct kind_rule rules[] = {
	[NT_WIRE_PROBE] = { NT_WIRE_HAS_SESSION_ID | NT_WIRE_HAS_SEQUENCE |
			    NT_WIRE_HAS_MI, 0 },
	[NT_WIRE_CHALLENGE] = { NT_WIRE_HAS_SESSION_ID | NT_WIRE_HAS_CHALLENGE |
				NT_WIRE_HAS_MAPPED | NT_WIRE_HAS_LIFETIME |
				NT_WIRE_HAS_MI, 0 },
	[NT_WIRE_ANSWER] = { NT_WIRE_HAS_SESSION_ID | NT_WIRE_HAS_CHALLENGE |
			     NT_WIRE_HAS_MAPPED | NT_WIRE_HAS_MI, 0 },
	[NT_WIRE_KEEPALIVE] = { NT_WIRE_HAS_SESSION_ID | NT_WIRE_HAS_SEQUENCE |
				NT_WIRE_HAS_MI, 0 },
	[NT_WIRE_ERROR] = { NT_WIRE_HAS_ERROR_CODE,
			    NT_WIRE_HAS_SESSION_ID | NT_WIRE_HAS_MI },
};

static bool method_ok(uint16_t m)
{
	return m >= NT_WIRE_METHOD_PROBE && m <= NT_WIRE_METHOD_KEEPALIVE;
}

/* STUN type: method bits M11..M0 with class bits C1 at 8 and C0 at 4. */
static uint16_t stun_type(uint16_t method, unsigned int cls)
{
	return (method & 0x000f) | (method & 0x0070) << 1 |
	       (method & 0x0f80) << 2 | (cls & 1) << 4 | (cls & 2) << 7;
}

static int kind_of(uint16_t type, enum nt_wire_kind *kind, uint16_t *method)
{
	switch (type) {
	case NT_WIRE_TYPE_PROBE:
		*kind = NT_WIRE_PROBE;
		return 0;
	case NT_WIRE_TYPE_CHALLENGE:
		*kind = NT_WIRE_CHALLENGE;
		return 0;
	case NT_WIRE_TYPE_ANSWER:
		*kind = NT_WIRE_ANSWER;
		return 0;
	case NT_WIRE_TYPE_KEEPALIVE:
		*kind = NT_WIRE_KEEPALIVE;
		return 0;
	case NT_WIRE_TYPE_PROBE_ERROR:
		*method = NT_WIRE_METHOD_PROBE;
		break;
	case NT_WIRE_TYPE_ANSWER_ERROR:
		*method = NT_WIRE_METHOD_ANSWER;
		break;
	case NT_WIRE_TYPE_KEEPALIVE_ERROR:
		*method = NT_WIRE_METHOD_KEEPALIVE;
		break;
	default:
		return -EOPNOTSUPP;
	}
	*kind = NT_WIRE_ERROR;
	return 0;
}

static bool reason_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* One canonical form: IPv4 only as family 4, so v4-mapped v6 is refused. */
static bool endpoint_ok(const struct nt_endpoint *ep)
{
	bool mapped = !memcmp(ep->addr, v4_prefix, sizeof(v4_prefix));

	if (ep->pad)
		return false;
	if (ep->family == NT_FAMILY_V4)
		return mapped;
	return ep->family == NT_FAMILY_V6 && !mapped;
}

/* XOR-MAPPED-ADDRESS into an endpoint of the one canonical form (endpoint_ok). */
static int unxor_addr(struct nt_endpoint *ep, const uint8_t *v, size_t n,
		      const uint8_t *tid)
{
	const struct nt_stun_attr a = { .len = (uint16_t)n, .val = v };
	struct nt_endpoint tmp;

	if (n > 0xffff || nt_stun_xor_addr_decode(&a, tid, &tmp) || !endpoint_ok(&tmp))
		return -EBADMSG;
	*ep = tmp;
	return 0;
}

struct builder {
	uint8_t *buf;
	size_t cap, off;
};

static int put_attr(struct builder *b, uint16_t type, const void *val,
		    size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	if (b->off + ATTR_HDR + padded > b->cap)
		return -ENOSPC;
	nt_put16(b->buf + b->off, type);
	nt_put16(b->buf + b->off + 2, (uint16_t)len);
	memcpy(b->buf + b->off + ATTR_HDR, val, len);
	memset(b->buf + b->off + ATTR_HDR + len, 0, padded - len);
	b->off += ATTR_HDR + padded;
	nt_put16(b->buf + 2, (uint16_t)(b->off - NT_STUN_HDR_LEN));
	return 0;
}

/*
 * HMAC over the message before the MI attribute, with the header length
 * field covering the attributes through MI (RFC 8489 14.6): so a FINGERPRINT
 * added after does not change what was signed.
 */
static int mi_compute(const uint8_t *msg, size_t mi_off, const uint8_t *key,
		      uint8_t out[MI_LEN])
{
	uint8_t tmp[NT_WIRE_MAX];

	if (mi_off < NT_STUN_HDR_LEN || mi_off + ATTR_HDR + MI_LEN > NT_WIRE_MAX)
		return -EINVAL;
	memcpy(tmp, msg, mi_off);
	nt_put16(tmp + 2, (uint16_t)(mi_off - NT_STUN_HDR_LEN + ATTR_HDR + MI_LEN));
	return nt_hmac_sha256(key, NT_WIRE_KEY_LEN, tmp, mi_off, out);
}

static int check_fields(const struct nt_wire_msg *m, uint32_t need,
			const uint8_t *key)
{
	if (m->kind != NT_WIRE_ERROR && !key)
		return -EINVAL;
	if ((need & NT_WIRE_HAS_SESSION_ID) && !m->session_id)
		return -EINVAL;
	if ((need & NT_WIRE_HAS_CHALLENGE) &&
	    (m->challenge_len < NT_WIRE_CHALLENGE_MIN ||
	     m->challenge_len > NT_WIRE_CHALLENGE_MAX))
		return -EINVAL;
	if ((need & NT_WIRE_HAS_MAPPED) && !endpoint_ok(&m->mapped))
		return -EINVAL;
	if ((need & NT_WIRE_HAS_LIFETIME) && !m->lifetime_ms)
		return -EINVAL;
	if ((need & NT_WIRE_HAS_ERROR_CODE) &&
	    (!method_ok(m->error_method) || m->error_code < 300 ||
	     m->error_code > 699 ||
	     !reason_ok(m->reason, strnlen(m->reason, sizeof(m->reason))) ||
	     strnlen(m->reason, sizeof(m->reason)) > NT_WIRE_REASON_MAX))
		return -EINVAL;
	return 0;
}

int nt_wire_build(void *buf, size_t cap, const struct nt_wire_msg *m,
		  const uint8_t *key, bool fingerprint)
{
	struct builder b = { .buf = buf, .cap = cap < NT_WIRE_MAX ? cap : NT_WIRE_MAX };
	uint8_t v[NT_WIRE_REASON_MAX + 4];
	uint32_t need, cls;
	uint16_t method;
	int err;

	if (!buf || !m || m->kind < NT_WIRE_PROBE || m->kind > NT_WIRE_ERROR)
		return -EINVAL;
	need = rules[m->kind].need;
	if (m->kind == NT_WIRE_ERROR && m->session_id)
		need |= NT_WIRE_HAS_SESSION_ID;
	err = check_fields(m, need, key);
	if (err)
		return err;
	if (b.cap < NT_STUN_HDR_LEN)
		return -ENOSPC;

	switch (m->kind) {
	case NT_WIRE_PROBE:
		method = NT_WIRE_METHOD_PROBE, cls = 0;
		break;
	case NT_WIRE_CHALLENGE:
		method = NT_WIRE_METHOD_PROBE, cls = 2;
		break;
	case NT_WIRE_ANSWER:
		method = NT_WIRE_METHOD_ANSWER, cls = 0;
		break;
	case NT_WIRE_KEEPALIVE:
		method = NT_WIRE_METHOD_KEEPALIVE, cls = 1;
		break;
	default:
		method = m->error_method, cls = 3;
		break;
	}
	nt_put16(b.buf, stun_type(method, cls));
	nt_put16(b.buf + 2, 0);
	nt_put32(b.buf + 4, NT_STUN_MAGIC);
	memcpy(b.buf + 8, m->tid, NT_WIRE_TID_LEN);
	b.off = NT_STUN_HDR_LEN;

	if (need & NT_WIRE_HAS_SESSION_ID) {
		nt_put64(v, m->session_id);
		err = err ?: put_attr(&b, NT_WIRE_ATTR_SESSION_ID, v, 8);
	}
	if (need & NT_WIRE_HAS_CHALLENGE)
		err = err ?: put_attr(&b, NT_WIRE_ATTR_CHALLENGE, m->challenge,
				      m->challenge_len);
	if (need & NT_WIRE_HAS_MAPPED)
		err = err ?: put_attr(&b, NT_WIRE_ATTR_XOR_MAPPED, v,
				      nt_stun_xor_addr_encode(v, &m->mapped, m->tid));
	if (need & NT_WIRE_HAS_LIFETIME) {
		nt_put32(v, m->lifetime_ms);
		err = err ?: put_attr(&b, NT_WIRE_ATTR_LIFETIME, v, 4);
	}
	if (need & NT_WIRE_HAS_SEQUENCE) {
		nt_put64(v, m->seq);
		err = err ?: put_attr(&b, NT_WIRE_ATTR_SEQUENCE, v, 8);
	}
	if (need & NT_WIRE_HAS_ERROR_CODE) {
		size_t rl = strlen(m->reason);

		nt_put16(v, 0);
		v[2] = m->error_code / 100;
		v[3] = m->error_code % 100;
		memcpy(v + 4, m->reason, rl);
		err = err ?: put_attr(&b, NT_WIRE_ATTR_ERROR_CODE, v, 4 + rl);
	}
	if (!err && m->kind == NT_WIRE_PROBE && m->pad_to) {
		size_t tail = ATTR_HDR + MI_LEN + (fingerprint ? ATTR_HDR + 4 : 0);
		static const uint8_t zeros[NT_WIRE_PROBE_MIN];

		if (m->pad_to > NT_WIRE_PROBE_MIN)
			return -EINVAL;
		if (b.off + tail + ATTR_HDR <= m->pad_to)
			err = put_attr(&b, NT_WIRE_ATTR_PADDING, zeros,
				       (m->pad_to - b.off - tail - ATTR_HDR) & ~(size_t)3);
	}
	if (!err && key) {
		size_t mi_off = b.off;
		uint8_t mac[MI_LEN];

		if (mi_off + ATTR_HDR + MI_LEN > b.cap)
			return -ENOSPC;
		err = mi_compute(b.buf, mi_off, key, mac);
		err = err ?: put_attr(&b, NT_WIRE_ATTR_MI_SHA256, mac, MI_LEN);
	}
	if (!err && fingerprint) {
		if (b.off + ATTR_HDR + 4 > b.cap)
			return -ENOSPC;
		/* the CRC covers a header whose length already counts FINGERPRINT */
		nt_put16(b.buf + 2, (uint16_t)(b.off + ATTR_HDR + 4 - NT_STUN_HDR_LEN));
		nt_put32(v, nt_stun_fingerprint(b.buf, b.off));
		err = put_attr(&b, NT_WIRE_ATTR_FINGERPRINT, v, 4);
	}
	return err ?: (int)b.off;
}

static uint32_t attr_bit(uint16_t type)
{
	switch (type) {
	case NT_WIRE_ATTR_SESSION_ID:
		return NT_WIRE_HAS_SESSION_ID;
	case NT_WIRE_ATTR_CHALLENGE:
		return NT_WIRE_HAS_CHALLENGE;
	case NT_WIRE_ATTR_XOR_MAPPED:
		return NT_WIRE_HAS_MAPPED;
	case NT_WIRE_ATTR_LIFETIME:
		return NT_WIRE_HAS_LIFETIME;
	case NT_WIRE_ATTR_SEQUENCE:
		return NT_WIRE_HAS_SEQUENCE;
	case NT_WIRE_ATTR_ERROR_CODE:
		return NT_WIRE_HAS_ERROR_CODE;
	case NT_WIRE_ATTR_MI_SHA256:
		return NT_WIRE_HAS_MI;
	case NT_WIRE_ATTR_FINGERPRINT:
		return NT_WIRE_HAS_FINGERPRINT;
	}
	return 0;
}

/* Check one known attribute's value and store it in m. */
static int take_attr(struct nt_wire_msg *m, const uint8_t *msg, size_t off,
		     uint32_t bit, const uint8_t *v, size_t n)
{
	switch (bit) {
	case NT_WIRE_HAS_SESSION_ID:
		if (n != 8)
			return -EBADMSG;
		m->session_id = nt_get64(v);
		return 0;
	case NT_WIRE_HAS_CHALLENGE:
		if (n < NT_WIRE_CHALLENGE_MIN || n > NT_WIRE_CHALLENGE_MAX)
			return -EBADMSG;
		memcpy(m->challenge, v, n);
		m->challenge_len = n;
		return 0;
	case NT_WIRE_HAS_MAPPED:
		return unxor_addr(&m->mapped, v, n, m->tid);
	case NT_WIRE_HAS_LIFETIME:
		if (n != 4)
			return -EBADMSG;
		m->lifetime_ms = nt_get32(v);
		return 0;
	case NT_WIRE_HAS_SEQUENCE:
		if (n != 8)
			return -EBADMSG;
		m->seq = nt_get64(v);
		return 0;
	case NT_WIRE_HAS_ERROR_CODE:
		if (n < 4 || n > 4 + NT_WIRE_REASON_MAX || nt_get16(v) ||
		    v[2] < 3 || v[2] > 6 || v[3] > 99 ||
		    !reason_ok((const char *)v + 4, n - 4))
			return -EBADMSG;
		m->error_code = v[2] * 100 + v[3];
		memcpy(m->reason, v + 4, n - 4);
		m->reason[n - 4] = '\0';
		return 0;
	case NT_WIRE_HAS_MI:
		if (n != MI_LEN)
			return -EBADMSG;
		m->mi_off = off;
		return 0;
	case NT_WIRE_HAS_FINGERPRINT:
		if (n != 4 || nt_get32(v) != nt_stun_fingerprint(msg, off))
			return -EBADMSG;
		return 0;
	}
	return -EBADMSG;
}

int nt_wire_parse(const void *buf, size_t len, struct nt_wire_msg *m)
{
	const uint8_t *p = buf;
	uint32_t bit, allow;
	size_t off;
	int err;

	memset(m, 0, sizeof(*m));
	if (!nt_wire_is_control(buf, len))
		return -ENOMSG;
	if (len > NT_WIRE_MAX)
		return -EMSGSIZE;
	if (nt_get16(p + 2) != len - NT_STUN_HDR_LEN || (len & 3))
		return -EBADMSG;
	m->type = nt_get16(p);
	err = kind_of(m->type, &m->kind, &m->error_method);
	if (err)
		return err;
	memcpy(m->tid, p + 8, NT_WIRE_TID_LEN);
	allow = rules[m->kind].need | rules[m->kind].allow |
		NT_WIRE_HAS_FINGERPRINT;

	/* len - off stays a multiple of 4, so an attribute header always fits */
	for (off = NT_STUN_HDR_LEN; off < len;) {
		uint16_t type = nt_get16(p + off), alen = nt_get16(p + off + 2);
		size_t padded = ((size_t)alen + 3) & ~(size_t)3;

		if (padded > len - off - ATTR_HDR)
			return -EBADMSG;
		if (m->present & NT_WIRE_HAS_FINGERPRINT)
			return -EBADMSG;
		bit = attr_bit(type);
		if ((m->present & NT_WIRE_HAS_MI) && bit != NT_WIRE_HAS_FINGERPRINT)
			return -EBADMSG;
		if (!bit) {
			if (type < 0x8000)
				return -ENOPROTOOPT;
		} else {
			if ((m->present & bit) || !(allow & bit))
				return -EBADMSG;
			err = take_attr(m, p, off, bit, p + off + ATTR_HDR, alen);
			if (err)
				return err;
			m->present |= bit;
		}
		off += ATTR_HDR + padded;
	}
	if ((m->present & rules[m->kind].need) != rules[m->kind].need)
		return -EBADMSG;
	return 0;
}

int nt_wire_verify(const void *buf, size_t len, const struct nt_wire_msg *m,
		   const uint8_t key[NT_WIRE_KEY_LEN])
{
	const uint8_t *p = buf;
	uint8_t mac[MI_LEN];
	int err;

	if (!(m->present & NT_WIRE_HAS_MI))
		return -ENOKEY;
	if (m->mi_off + ATTR_HDR + MI_LEN > len)
		return -EINVAL;
	err = mi_compute(p, m->mi_off, key, mac);
	if (err)
		return err;
	err = CRYPTO_memcmp(mac, p + m->mi_off + ATTR_HDR, MI_LEN) ? -EACCES : 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return err;
}

int nt_wire_decode(const void *buf, size_t len, struct nt_wire_msg *m,
		   const uint8_t key[NT_WIRE_KEY_LEN])
{
	int err = nt_wire_parse(buf, len, m);

	return err ?: nt_wire_verify(buf, len, m, key);
}
