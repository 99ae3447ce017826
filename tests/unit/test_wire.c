// SPDX-License-Identifier: GPL-2.0
/* nt_wire: round trips, RFC 5769 byte layouts, integrity, hostile input. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <zlib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "nt_wire.h"
#include "endpoints.h"

static const uint8_t key[NT_WIRE_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const uint8_t key2[NT_WIRE_KEY_LEN] = "0123456789abcdef0123456789abcdeF";
/* RFC 5769 section 2.2/2.3 transaction id */
static const uint8_t tid5769[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
				     0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };

/* A valid message of each kind; mapped may be v4 or v6. */
static struct nt_wire_msg sample(enum nt_wire_kind kind, bool v6)
{
	struct nt_wire_msg m = { .kind = kind, .session_id = 0x0123456789abcdefull };

	memcpy(m.tid, tid5769, sizeof(m.tid));
	for (int i = 0; i < 24; i++)
		m.challenge[i] = (uint8_t)(0xa0 + i);
	m.challenge_len = 24;
	m.mapped = v6 ? ep6("2001:db8:1234:5678:11:2233:4455:6677", 32853) :
			ep4("192.0.2.1", 32853);
	m.lifetime_ms = 5000;
	m.seq = 0x1122334455667788ull;
	m.error_method = NT_WIRE_METHOD_ANSWER;
	m.error_code = 438;
	strcpy(m.reason, "Stale challenge");
	return m;
}

static const enum nt_wire_kind kinds[] = { NT_WIRE_PROBE, NT_WIRE_CHALLENGE,
					   NT_WIRE_ANSWER, NT_WIRE_KEEPALIVE,
					   NT_WIRE_ERROR };
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* Offset of the first attribute of type t, or 0. */
static size_t find_attr(const uint8_t *b, size_t len, uint16_t t)
{
	for (size_t off = 20; off + 4 <= len;) {
		uint16_t at = b[off] << 8 | b[off + 1];
		uint16_t al = b[off + 2] << 8 | b[off + 3];

		if (at == t)
			return off;
		off += 4 + ((al + 3u) & ~3u);
	}
	return 0;
}

static int build(const struct nt_wire_msg *m, uint8_t *b, bool fp)
{
	int n = nt_wire_build(b, NT_WIRE_MAX, m, key, fp);

	cr_assert_gt(n, 0, "build kind %d: %d", m->kind, n);
	return n;
}

Test(wire, round_trip_every_kind_and_family)
{
	for (size_t k = 0; k < NKINDS; k++)
		for (int v6 = 0; v6 < 2; v6++)
			for (int fp = 0; fp < 2; fp++) {
				struct nt_wire_msg in = sample(kinds[k], v6), out;
				uint8_t b[NT_WIRE_MAX];
				int n = build(&in, b, fp);

				cr_assert(nt_wire_is_control(b, n));
				cr_assert_eq(n % 4, 0);
				cr_assert_eq(nt_wire_decode(b, n, &out, key), 0,
					     "kind %d v6 %d fp %d", in.kind, v6, fp);
				cr_assert_eq(out.kind, in.kind);
				cr_assert_eq(memcmp(out.tid, in.tid, 12), 0);
				cr_assert_eq(out.session_id, in.session_id);
				cr_assert_eq(!!(out.present & NT_WIRE_HAS_FINGERPRINT), fp);
				switch (in.kind) {
				case NT_WIRE_CHALLENGE:
					cr_assert_eq(out.lifetime_ms, 5000);
					/* fallthrough */
				case NT_WIRE_ANSWER:
					cr_assert_eq(out.challenge_len, 24);
					cr_assert_eq(memcmp(out.challenge, in.challenge, 24), 0);
					cr_assert_eq(memcmp(&out.mapped, &in.mapped,
							    sizeof(in.mapped)), 0);
					break;
				case NT_WIRE_PROBE:
				case NT_WIRE_KEEPALIVE:
					cr_assert_eq(out.seq, in.seq);
					break;
				case NT_WIRE_ERROR:
					cr_assert_eq(out.error_code, 438);
					cr_assert_eq(out.error_method, NT_WIRE_METHOD_ANSWER);
					cr_assert_str_eq(out.reason, "Stale challenge");
					cr_assert_eq(out.type, NT_WIRE_TYPE_ANSWER_ERROR);
					break;
				default:
					break;
				}
			}
}

Test(wire, type_numbers)
{
	static const uint16_t want[] = { NT_WIRE_TYPE_PROBE, NT_WIRE_TYPE_CHALLENGE,
					 NT_WIRE_TYPE_ANSWER, NT_WIRE_TYPE_KEEPALIVE,
					 NT_WIRE_TYPE_ANSWER_ERROR };
	uint8_t b[NT_WIRE_MAX];

	for (size_t k = 0; k < NKINDS; k++) {
		struct nt_wire_msg m = sample(kinds[k], false);

		build(&m, b, false);
		cr_assert_eq(b[0] << 8 | b[1], want[k]);
		cr_assert_leq(b[0], 3, "RFC 7983: first byte 0..3 is STUN");
		cr_assert_eq(b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7], NT_STUN_MAGIC);
	}
	/* RFC 8489 figure 3, computed bit by bit here */
	for (uint16_t meth = NT_WIRE_METHOD_PROBE; meth <= NT_WIRE_METHOD_KEEPALIVE; meth++)
		for (unsigned int cls = 0; cls < 4; cls++) {
			uint16_t t = 0;

			for (int i = 0; i < 12; i++)
				if (meth & (1u << i))
					t |= 1u << (i < 4 ? i : i < 7 ? i + 1 : i + 2);
			t |= (cls & 1) << 4 | (cls & 2) << 7;
			if (meth == NT_WIRE_METHOD_PROBE && cls == 0)
				cr_assert_eq(t, NT_WIRE_TYPE_PROBE);
			if (meth == NT_WIRE_METHOD_PROBE && cls == 2)
				cr_assert_eq(t, NT_WIRE_TYPE_CHALLENGE);
			if (meth == NT_WIRE_METHOD_ANSWER && cls == 0)
				cr_assert_eq(t, NT_WIRE_TYPE_ANSWER);
			if (meth == NT_WIRE_METHOD_KEEPALIVE && cls == 1)
				cr_assert_eq(t, NT_WIRE_TYPE_KEEPALIVE);
			if (cls == 3)
				cr_assert_eq(t, NT_WIRE_TYPE_PROBE_ERROR +
						(meth - NT_WIRE_METHOD_PROBE));
		}
	/* class bits as RFC 8489 places them: C1 at 0x100, C0 at 0x010 */
	cr_assert_eq(NT_WIRE_TYPE_CHALLENGE & 0x110, 0x100);
	cr_assert_eq(NT_WIRE_TYPE_KEEPALIVE & 0x110, 0x010);
	cr_assert_eq(NT_WIRE_TYPE_PROBE_ERROR & 0x110, 0x110);
	cr_assert_eq(NT_WIRE_TYPE_PROBE & 0x3eef, NT_WIRE_TYPE_PROBE_ERROR & 0x3eef);
}

/* RFC 5769 sections 2.2 and 2.3: the XOR-MAPPED-ADDRESS bytes, exactly. */
Test(wire, xor_mapped_address_layout)
{
	static const uint8_t v4[] = { 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47,
				      0xe1, 0x12, 0xa6, 0x43 };
	static const uint8_t v6[] = { 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47,
				      0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
				      0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9 };
	uint8_t b[NT_WIRE_MAX];
	struct nt_wire_msg m = sample(NT_WIRE_CHALLENGE, false);
	int n = build(&m, b, false);
	size_t off = find_attr(b, n, NT_WIRE_ATTR_XOR_MAPPED);

	cr_assert_gt(off, 0);
	cr_assert_eq(memcmp(b + off, v4, sizeof(v4)), 0);

	m = sample(NT_WIRE_ANSWER, true);
	n = build(&m, b, false);
	off = find_attr(b, n, NT_WIRE_ATTR_XOR_MAPPED);
	cr_assert_gt(off, 0);
	cr_assert_eq(memcmp(b + off, v6, sizeof(v6)), 0);
}

/* MI-SHA256 and FINGERPRINT recomputed here with OpenSSL and zlib directly. */
Test(wire, integrity_and_fingerprint_layout)
{
	uint8_t b[NT_WIRE_MAX], tmp[NT_WIRE_MAX], mac[32];
	unsigned int mlen = 32;
	struct nt_wire_msg m = sample(NT_WIRE_KEEPALIVE, false);
	int n = build(&m, b, true);
	size_t mi = find_attr(b, n, NT_WIRE_ATTR_MI_SHA256);
	size_t fp = find_attr(b, n, NT_WIRE_ATTR_FINGERPRINT);
	uint32_t crc;

	cr_assert_gt(mi, 0);
	cr_assert_eq(fp, mi + 36);
	cr_assert_eq((size_t)n, fp + 8);
	memcpy(tmp, b, mi);
	tmp[2] = (mi + 36 - 20) >> 8;
	tmp[3] = (mi + 36 - 20) & 0xff;
	HMAC(EVP_sha256(), key, 32, tmp, mi, mac, &mlen);
	cr_assert_eq(memcmp(b + mi + 4, mac, 32), 0);
	crc = crc32(0, b, fp) ^ 0x5354554eu;
	cr_assert_eq(b[fp + 4] << 24 | b[fp + 5] << 16 | b[fp + 6] << 8 | b[fp + 7],
		     crc);
}

Test(wire, wrong_key)
{
	uint8_t b[NT_WIRE_MAX];
	struct nt_wire_msg out;

	for (size_t k = 0; k < NKINDS; k++) {
		struct nt_wire_msg m = sample(kinds[k], true);
		int n = build(&m, b, false);

		cr_assert_eq(nt_wire_parse(b, n, &out), 0);
		cr_assert_eq(nt_wire_verify(b, n, &out, key2), -EACCES);
		cr_assert_eq(nt_wire_verify(b, n, &out, key), 0);
	}
}

/* Every single-bit flip anywhere is caught by parse or by verify. */
Test(wire, every_bit_flip_fails)
{
	uint8_t b[NT_WIRE_MAX];
	struct nt_wire_msg out;

	for (size_t k = 0; k < NKINDS; k++)
		for (int fp = 0; fp < 2; fp++) {
			struct nt_wire_msg m = sample(kinds[k], k & 1);
			int n = build(&m, b, fp);

			for (int i = 0; i < n * 8; i++) {
				b[i / 8] ^= 1u << (i % 8);
				cr_assert_neq(nt_wire_decode(b, n, &out, key), 0,
					      "kind %d bit %d", m.kind, i);
				b[i / 8] ^= 1u << (i % 8);
			}
			cr_assert_eq(nt_wire_decode(b, n, &out, key), 0);
		}
}

Test(wire, every_truncation_fails)
{
	uint8_t b[NT_WIRE_MAX], t[NT_WIRE_MAX];
	struct nt_wire_msg out;

	for (size_t k = 0; k < NKINDS; k++)
		for (int v6 = 0; v6 < 2; v6++) {
			struct nt_wire_msg m = sample(kinds[k], v6);
			int n = build(&m, b, false);

			for (int len = 0; len < n; len++) {
				/* header untouched: length field disagrees */
				memcpy(t, b, len);
				cr_assert_lt(nt_wire_parse(t, len, &out), 0,
					     "kind %d len %d", m.kind, len);
				if (len < 20)
					continue;
				/* length field lies to match the prefix */
				t[2] = (len - 20) >> 8;
				t[3] = (len - 20) & 0xff;
				cr_assert_neq(nt_wire_decode(t, len, &out, key), 0,
					      "kind %d len %d", m.kind, len);
			}
		}
}

Test(wire, length_field_lies)
{
	uint8_t b[NT_WIRE_MAX + 8] = { 0 };
	struct nt_wire_msg m = sample(NT_WIRE_PROBE, false), out;
	int n = build(&m, b, false);

	b[3] += 4; /* claims more than the datagram holds */
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);
	cr_assert_eq(nt_wire_parse(b, n + 4, &out), -EBADMSG); /* 4 zero bytes: attr 0 */
	b[3] -= 8; /* claims less */
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);
	b[3] += 5; /* not a multiple of 4 */
	cr_assert_eq(nt_wire_parse(b, n + 1, &out), -EBADMSG);
	b[3] -= 1;
	cr_assert_eq(nt_wire_decode(b, n, &out, key), 0);
	b[2] = 0xff; /* huge */
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);
}

/* Hand-made message: header, raw attributes, then a correct MI-SHA256. */
static int craft(uint8_t *b, uint16_t type, const uint8_t *attrs, size_t alen,
		 bool sign)
{
	unsigned int mlen = 32;
	size_t n = 20 + alen;

	b[0] = type >> 8, b[1] = type & 0xff;
	b[4] = 0x21, b[5] = 0x12, b[6] = 0xa4, b[7] = 0x42;
	memcpy(b + 8, tid5769, 12);
	if (alen)
		memcpy(b + 20, attrs, alen);
	b[2] = (alen + (sign ? 36 : 0)) >> 8;
	b[3] = (alen + (sign ? 36 : 0)) & 0xff;
	if (sign) {
		HMAC(EVP_sha256(), key, 32, b, n, b + n + 4, &mlen);
		b[n] = 0x00, b[n + 1] = 0x1c, b[n + 2] = 0, b[n + 3] = 32;
		n += 36;
	}
	return (int)n;
}

#define SID 0x4e, 0x01, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8
#define SEQ 0x4e, 0x04, 0, 8, 0, 0, 0, 0, 0, 0, 0, 9

Test(wire, crafted_attributes)
{
	uint8_t b[NT_WIRE_MAX];
	struct nt_wire_msg out;
	int n;

	static const uint8_t ok[] = { SID, SEQ };
	n = craft(b, NT_WIRE_TYPE_PROBE, ok, sizeof(ok), true);
	cr_assert_eq(nt_wire_decode(b, n, &out, key), 0);
	cr_assert_eq(out.session_id, 0x0102030405060708ull);
	cr_assert_eq(out.seq, 9);

	static const uint8_t opt[] = { 0x80, 0x22, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, SID, SEQ };
	n = craft(b, NT_WIRE_TYPE_PROBE, opt, sizeof(opt), true);
	cr_assert_eq(nt_wire_decode(b, n, &out, key), 0, "unknown optional ignored");

	static const uint8_t req[] = { 0x7f, 0x00, 0, 4, 1, 2, 3, 4, SID, SEQ };
	n = craft(b, NT_WIRE_TYPE_PROBE, req, sizeof(req), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -ENOPROTOOPT);

	static const uint8_t dup[] = { SID, SID, SEQ };
	n = craft(b, NT_WIRE_TYPE_PROBE, dup, sizeof(dup), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);
	static const uint8_t dupseq[] = { SID, SEQ, SEQ };
	n = craft(b, NT_WIRE_TYPE_PROBE, dupseq, sizeof(dupseq), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);

	static const uint8_t noseq[] = { SID };
	n = craft(b, NT_WIRE_TYPE_PROBE, noseq, sizeof(noseq), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG, "a PROBE without a sequence");
	static const uint8_t shortseq[] = { SID, 0x4e, 0x04, 0, 4, 0, 0, 0, 1 };
	n = craft(b, NT_WIRE_TYPE_PROBE, shortseq, sizeof(shortseq), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);

	static const uint8_t notallowed[] = { SID, SEQ, 0x4e, 0x03, 0, 4, 0, 0, 0x13, 0x88 };
	n = craft(b, NT_WIRE_TYPE_PROBE, notallowed, sizeof(notallowed), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG, "NT-LIFETIME on a PROBE");

	static const uint8_t shortsid[] = { 0x4e, 0x01, 0, 4, 1, 2, 3, 4 };
	n = craft(b, NT_WIRE_TYPE_PROBE, shortsid, sizeof(shortsid), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);

	static const uint8_t overrun[] = { 0x4e, 0x01, 0, 200, 1, 2, 3, 4, 5, 6, 7, 8 };
	n = craft(b, NT_WIRE_TYPE_PROBE, overrun, sizeof(overrun), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);
	n = craft(b, NT_WIRE_TYPE_PROBE, overrun, sizeof(overrun), false);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);

	static const uint8_t overrun_pad[] = { 0x4e, 0x02, 0, 17, 1, 2, 3, 4, 5, 6, 7, 8,
					       1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0 };
	n = craft(b, NT_WIRE_TYPE_PROBE, overrun_pad, 20, false);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG, "padding past the end");

	n = craft(b, NT_WIRE_TYPE_PROBE, NULL, 0, true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG, "no session id");
	n = craft(b, NT_WIRE_TYPE_PROBE, ok, sizeof(ok), false);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG, "unsigned probe");

	/* anything but FINGERPRINT after MI-SHA256 */
	n = craft(b, NT_WIRE_TYPE_PROBE, ok, sizeof(ok), true);
	memcpy(b + n, ok, sizeof(ok));
	b[3] += sizeof(ok);
	cr_assert_eq(nt_wire_parse(b, n + sizeof(ok), &out), -EBADMSG);

	/* short MI-SHA256 (RFC 8489 allows truncation; nattrav does not) */
	static const uint8_t mi16[] = { SID, 0x00, 0x1c, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8,
					1, 2, 3, 4, 5, 6, 7, 8 };
	n = craft(b, NT_WIRE_TYPE_PROBE, mi16, sizeof(mi16), false);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);

	/* XOR-MAPPED-ADDRESS: bad family, bad length */
	static const uint8_t fam[] = { SID, 0x00, 0x20, 0, 8, 0, 3, 0, 0, 0, 0, 0, 0 };
	n = craft(b, NT_WIRE_TYPE_ANSWER, fam, sizeof(fam), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);
	static const uint8_t alen[] = { SID, 0x00, 0x20, 0, 12, 0, 1, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0 };
	n = craft(b, NT_WIRE_TYPE_ANSWER, alen, sizeof(alen), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG);

	/* unknown types: a STUN Binding request, an unknown method */
	n = craft(b, 0x0001, ok, sizeof(ok), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EOPNOTSUPP);
	n = craft(b, 0x02C4, ok, sizeof(ok), true); /* method 0x0E4 */
	cr_assert_eq(nt_wire_parse(b, n, &out), -EOPNOTSUPP);
	n = craft(b, NT_WIRE_TYPE_PROBE_ERROR, ok, sizeof(ok), true);
	cr_assert_eq(nt_wire_parse(b, n, &out), -EBADMSG, "error without ERROR-CODE");
}

Test(wire, media_and_size)
{
	uint8_t b[NT_WIRE_MAX + 4] = { 0x80, 0x60, 0x12, 0x34 };
	struct nt_wire_msg m = sample(NT_WIRE_PROBE, false), out;
	int n;

	cr_assert_not(nt_wire_is_control(b, 172));
	cr_assert_eq(nt_wire_parse(b, 172, &out), -ENOMSG);
	n = build(&m, b, false);
	cr_assert_not(nt_wire_is_control(b, 19));
	b[0] |= 0x40;
	cr_assert_eq(nt_wire_parse(b, n, &out), -ENOMSG);
	b[0] &= ~0x40;
	b[5] ^= 1; /* cookie */
	cr_assert_eq(nt_wire_parse(b, n, &out), -ENOMSG);
	b[5] ^= 1;
	memset(b + n, 0, sizeof(b) - n);
	b[2] = (NT_WIRE_MAX + 4 - 20) >> 8, b[3] = (NT_WIRE_MAX + 4 - 20) & 0xff;
	cr_assert_eq(nt_wire_parse(b, NT_WIRE_MAX + 4, &out), -EMSGSIZE);
}

Test(wire, unsigned_error)
{
	uint8_t b[NT_WIRE_MAX];
	struct nt_wire_msg m = sample(NT_WIRE_ERROR, false), out;
	int n;

	m.session_id = 0;
	m.error_method = NT_WIRE_METHOD_PROBE;
	m.error_code = NT_WIRE_ERR_UNKNOWN_SESSION;
	strcpy(m.reason, "Unknown session");
	n = nt_wire_build(b, sizeof(b), &m, NULL, true);
	cr_assert_gt(n, 0);
	cr_assert_eq(nt_wire_parse(b, n, &out), 0);
	cr_assert_eq(out.type, NT_WIRE_TYPE_PROBE_ERROR);
	cr_assert_eq(out.error_code, 404);
	cr_assert_eq(out.present & (NT_WIRE_HAS_MI | NT_WIRE_HAS_SESSION_ID), 0);
	cr_assert_eq(nt_wire_verify(b, n, &out, key), -ENOKEY);
}

Test(wire, build_refuses_bad_fields)
{
	uint8_t b[NT_WIRE_MAX];
	struct nt_wire_msg m;

	m = sample(NT_WIRE_PROBE, false);
	cr_assert_eq(nt_wire_build(b, sizeof(b), &m, NULL, false), -EINVAL);
	m.session_id = 0;
	cr_assert_eq(nt_wire_build(b, sizeof(b), &m, key, false), -EINVAL);
	m = sample(NT_WIRE_CHALLENGE, false);
	m.challenge_len = 15;
	cr_assert_eq(nt_wire_build(b, sizeof(b), &m, key, false), -EINVAL);
	m.challenge_len = 33;
	cr_assert_eq(nt_wire_build(b, sizeof(b), &m, key, false), -EINVAL);
	m = sample(NT_WIRE_ANSWER, false);
	m.mapped.family = NT_FAMILY_V6; /* v4-mapped spelled as v6 */
	cr_assert_eq(nt_wire_build(b, sizeof(b), &m, key, false), -EINVAL);
	m = sample(NT_WIRE_ANSWER, false);
	m.mapped.pad = 1;
	cr_assert_eq(nt_wire_build(b, sizeof(b), &m, key, false), -EINVAL);
	m = sample(NT_WIRE_ERROR, false);
	m.error_code = 299;
	cr_assert_eq(nt_wire_build(b, sizeof(b), &m, key, false), -EINVAL);
	m = sample(NT_WIRE_ERROR, false);
	strcpy(m.reason, "bad\nreason");
	cr_assert_eq(nt_wire_build(b, sizeof(b), &m, key, false), -EINVAL);
	m = sample(NT_WIRE_ERROR, false);
	m.kind = 99;
	cr_assert_eq(nt_wire_build(b, sizeof(b), &m, key, false), -EINVAL);

	m = sample(NT_WIRE_CHALLENGE, true);
	int full = nt_wire_build(b, sizeof(b), &m, key, true);
	cr_assert_gt(full, 0);
	for (int cap = 0; cap < full; cap++)
		cr_assert_eq(nt_wire_build(b, cap, &m, key, true), -ENOSPC, "cap %d", cap);
	cr_assert_eq(nt_wire_build(b, full, &m, key, true), full);
}

Test(wire, random_is_random)
{
	uint8_t a[16], c[16];

	cr_assert_eq(nt_wire_random(a, sizeof(a)), 0);
	cr_assert_eq(nt_wire_random(c, sizeof(c)), 0);
	cr_assert_neq(memcmp(a, c, sizeof(a)), 0);
}

/* The example bytes of docs/protocol.md section 3, exactly: the document is the spec. */
Test(wire, protocol_md_examples)
{
	static const uint8_t probe[] = {
		0x02, 0xc1, 0x00, 0x7c, 0x21, 0x12, 0xa4, 0x42, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
		0xb8, 0xb9, 0xba, 0xbb, 0x4e, 0x01, 0x00, 0x08, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x4e, 0x04, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x8e, 0x05, 0x00, 0x34,
		[48 ... 99] = 0x00, /* NT-PADDING */
		0x00, 0x1c, 0x00, 0x20, 0xc8, 0x4b, 0x0d, 0x23, 0xf4, 0x0e, 0xa8, 0x18,
		0x92, 0xe2, 0x24, 0x10, 0xc6, 0x6d, 0xc2, 0x17, 0x60, 0x9d, 0xba, 0x44, 0x0e, 0xa9, 0x41, 0x81,
		0xc8, 0x9b, 0xc6, 0x34, 0xca, 0xba, 0x49, 0x52, 0x80, 0x28, 0x00, 0x04, 0x4e, 0x41, 0x30, 0xb3,
	};
	static const uint8_t challenge[] = {
		0x03, 0xc1, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
		0xb8, 0xb9, 0xba, 0xbb, 0x4e, 0x01, 0x00, 0x08, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x4e, 0x02, 0x00, 0x10, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb,
		0xcc, 0xcd, 0xce, 0xcf, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xbd, 0x52, 0xea, 0x12, 0xd5, 0x45,
		0x4e, 0x03, 0x00, 0x04, 0x00, 0x00, 0x13, 0x88, 0x00, 0x1c, 0x00, 0x20, 0x81, 0x6e, 0xc3, 0xb1,
		0x0c, 0x17, 0xbb, 0x3a, 0x25, 0xc9, 0x57, 0x10, 0x0c, 0xc9, 0x71, 0x15, 0x03, 0xbc, 0x53, 0xdb,
		0x6b, 0xb3, 0x1a, 0xc4, 0xef, 0x02, 0x90, 0x0f, 0xcb, 0x54, 0x8d, 0x9c, 0x80, 0x28, 0x00, 0x04,
		0x5c, 0xf5, 0xef, 0x09,
	};
	uint8_t k[NT_WIRE_KEY_LEN], b[NT_WIRE_MAX];
	struct nt_wire_msg p = { .kind = NT_WIRE_PROBE, .session_id = 0x0123456789abcdefull,
				 .seq = 1, .pad_to = NT_WIRE_PROBE_MIN },
			   c = { .kind = NT_WIRE_CHALLENGE, .session_id = 0x0123456789abcdefull,
				 .challenge_len = 16, .lifetime_ms = 5000,
				 .mapped = ep4("203.0.113.7", 40000) },
			   out;

	cr_assert_eq(sizeof(probe), 144);
	for (int i = 0; i < NT_WIRE_KEY_LEN; i++)
		k[i] = (uint8_t)i;
	for (int i = 0; i < NT_WIRE_TID_LEN; i++)
		p.tid[i] = c.tid[i] = (uint8_t)(0xb0 + i);
	for (int i = 0; i < 16; i++)
		c.challenge[i] = (uint8_t)(0xc0 + i);
	cr_assert_eq(nt_wire_build(b, sizeof(b), &p, k, true), (int)sizeof(probe));
	cr_assert_eq(memcmp(b, probe, sizeof(probe)), 0, "PROBE differs from docs/protocol.md");
	cr_assert_eq(nt_wire_build(b, sizeof(b), &c, k, true), (int)sizeof(challenge));
	cr_assert_eq(memcmp(b, challenge, sizeof(challenge)), 0,
		     "CHALLENGE differs from docs/protocol.md");
	cr_assert_eq(nt_wire_decode(probe, sizeof(probe), &out, k), 0);
	cr_assert_eq(out.seq, 1);
	cr_assert_eq(nt_wire_decode(challenge, sizeof(challenge), &out, k), 0);
}
