// SPDX-License-Identifier: GPL-2.0
/* nt_verify: one challenge per session, single use, lifetime, address binding. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "nt_verify.h"
#include "endpoints.h"

#define MS 1000000ull
#define LIFE (5000 * MS)

static const uint8_t tid1[12] = "tid-number-1", tid2[12] = "tid-number-2";

static void nonce(uint8_t *n, uint8_t v)
{
	memset(n, v, NT_VERIFY_NONCE_LEN);
}

Test(verify, answer_verifies_once)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000);
	const struct nt_challenge *c;
	uint8_t n[NT_VERIFY_NONCE_LEN];

	cr_assert_eq(nt_verify_init(&v, 8), 0);
	nonce(n, 0xaa);
	cr_assert_eq(nt_verify_probe(&v, 42, &obs, tid1, n, 1000, LIFE, &c), 0);
	cr_assert_eq(memcmp(c->nonce, n, sizeof(n)), 0);
	cr_assert_eq(nt_verify_count(&v), 1);
	cr_assert_eq(nt_verify_check(&v, 42, &obs, n, sizeof(n), &obs, 2000), 0);
	cr_assert_eq(nt_verify_count(&v), 0, "consumed");
	/* the same answer replayed finds nothing */
	cr_assert_eq(nt_verify_check(&v, 42, &obs, n, sizeof(n), &obs, 2000), -ENOENT);
	nt_verify_free(&v);
}

Test(verify, wrong_nonce_session_or_length_changes_nothing)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000);
	const struct nt_challenge *c;
	uint8_t n[NT_VERIFY_NONCE_LEN], bad[NT_VERIFY_NONCE_LEN];

	cr_assert_eq(nt_verify_init(&v, 8), 0);
	nonce(n, 1);
	nonce(bad, 1);
	bad[31] ^= 1;
	cr_assert_eq(nt_verify_probe(&v, 42, &obs, tid1, n, 0, LIFE, &c), 0);
	cr_assert_eq(nt_verify_check(&v, 42, &obs, bad, sizeof(bad), &obs, 1), -ENOENT);
	cr_assert_eq(nt_verify_check(&v, 43, &obs, n, sizeof(n), &obs, 1), -ENOENT,
		     "another session's answer");
	cr_assert_eq(nt_verify_check(&v, 42, &obs, n, 16, &obs, 1), -ENOENT);
	cr_assert_eq(nt_verify_count(&v), 1);
	cr_assert_eq(nt_verify_check(&v, 42, &obs, n, sizeof(n), &obs, 1), 0);
	nt_verify_free(&v);
}

Test(verify, address_binding)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000);
	struct nt_endpoint other_port = ep4("198.51.100.7", 40001);
	struct nt_endpoint other_ip = ep4("198.51.100.8", 40000);
	const struct nt_challenge *c;
	uint8_t n[NT_VERIFY_NONCE_LEN];

	cr_assert_eq(nt_verify_init(&v, 8), 0);
	nonce(n, 7);
	cr_assert_eq(nt_verify_probe(&v, 9, &obs, tid1, n, 0, LIFE, &c), 0);
	/* from another source, or naming another mapping: refused, challenge kept */
	cr_assert_eq(nt_verify_check(&v, 9, &other_port, n, sizeof(n), &obs, 1), -EADDRNOTAVAIL);
	cr_assert_eq(nt_verify_check(&v, 9, &other_ip, n, sizeof(n), &obs, 1), -EADDRNOTAVAIL);
	cr_assert_eq(nt_verify_check(&v, 9, &obs, n, sizeof(n), &other_port, 1), -EADDRNOTAVAIL);
	cr_assert_eq(nt_verify_check(&v, 9, &other_port, n, sizeof(n), &other_port, 1),
		     -EADDRNOTAVAIL);
	cr_assert_eq(nt_verify_count(&v), 1);
	cr_assert_eq(nt_verify_check(&v, 9, &obs, n, sizeof(n), &obs, 1), 0);
	nt_verify_free(&v);
}

Test(verify, late_answer)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000);
	const struct nt_challenge *c;
	uint8_t n[NT_VERIFY_NONCE_LEN];

	cr_assert_eq(nt_verify_init(&v, 8), 0);
	nonce(n, 3);
	cr_assert_eq(nt_verify_probe(&v, 5, &obs, tid1, n, 100, LIFE, &c), 0);
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n, sizeof(n), &obs, 100 + LIFE), -ETIMEDOUT);
	cr_assert_eq(nt_verify_count(&v), 0, "a late challenge is dropped");
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n, sizeof(n), &obs, 100 + LIFE), -ENOENT);

	/* nt_verify_expire drops only what is past its deadline */
	cr_assert_eq(nt_verify_probe(&v, 5, &obs, tid1, n, 0, LIFE, &c), 0);
	cr_assert_eq(nt_verify_probe(&v, 6, &obs, tid1, n, 1000 * MS, LIFE, &c), 0);
	cr_assert_eq(nt_verify_expire(&v, LIFE), 1);
	cr_assert_eq(nt_verify_count(&v), 1);
	cr_assert_eq(nt_verify_check(&v, 6, &obs, n, sizeof(n), &obs, LIFE), 0);
	nt_verify_free(&v);
}

Test(verify, retransmitted_probe_gets_the_same_challenge)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000), obs2 = ep4("198.51.100.7", 40002);
	const struct nt_challenge *c;
	uint8_t n1[NT_VERIFY_NONCE_LEN], n2[NT_VERIFY_NONCE_LEN];

	cr_assert_eq(nt_verify_init(&v, 8), 0);
	nonce(n1, 1);
	nonce(n2, 2);
	cr_assert_eq(nt_verify_probe(&v, 5, &obs, tid1, n1, 0, LIFE, &c), 0);
	cr_assert_eq(nt_verify_probe(&v, 5, &obs, tid1, n2, 500 * MS, LIFE, &c), 1);
	cr_assert_eq(memcmp(c->nonce, n1, sizeof(n1)), 0, "same challenge again");
	cr_assert_eq(c->expires_ns, LIFE, "and the same deadline");
	/* from another source: a new challenge, bound to the new address */
	cr_assert_eq(nt_verify_probe(&v, 5, &obs2, tid1, n2, 600 * MS, LIFE, &c), 0);
	cr_assert_eq(memcmp(c->nonce, n2, sizeof(n2)), 0);
	cr_assert_eq(nt_verify_count(&v), 1, "one outstanding challenge per session");
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n1, sizeof(n1), &obs, 700 * MS), -ENOENT,
		     "the replaced challenge is dead");
	/* a new transaction id replaces it too */
	cr_assert_eq(nt_verify_probe(&v, 5, &obs2, tid2, n1, 700 * MS, LIFE, &c), 0);
	cr_assert_eq(nt_verify_check(&v, 5, &obs2, n2, sizeof(n2), &obs2, 800 * MS), -ENOENT);
	cr_assert_eq(nt_verify_check(&v, 5, &obs2, n1, sizeof(n1), &obs2, 800 * MS), 0);
	nt_verify_free(&v);
}

Test(verify, full_table_and_forget)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000);
	const struct nt_challenge *c;
	uint8_t n[NT_VERIFY_NONCE_LEN];

	cr_assert_eq(nt_verify_init(&v, 4), 0);
	for (uint64_t s = 1; s <= 6; s++) {
		nonce(n, (uint8_t)s);
		cr_assert_eq(nt_verify_probe(&v, s, &obs, tid1, n, s * MS, LIFE, &c), 0);
	}
	cr_assert_eq(nt_verify_count(&v), 4);
	nonce(n, 1);
	cr_assert_eq(nt_verify_check(&v, 1, &obs, n, sizeof(n), &obs, 10 * MS), -ENOENT,
		     "the oldest was replaced");
	nonce(n, 6);
	nt_verify_forget(&v, 6);
	cr_assert_eq(nt_verify_check(&v, 6, &obs, n, sizeof(n), &obs, 10 * MS), -ENOENT);
	nonce(n, 5);
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n, sizeof(n), &obs, 10 * MS), 0);
	cr_assert_eq(nt_verify_probe(&v, 0, &obs, tid1, n, 0, LIFE, &c), -EINVAL);
	nt_verify_free(&v);
	cr_assert_eq(nt_verify_init(&v, 0), -EINVAL);
}

/* A replay from another source, before and after success, verifies nothing. */
Test(verify, replay_from_other_source_before_and_after)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000), other = ep4("198.51.100.7", 40001),
			   far = ep4("192.0.2.9", 40000);
	const struct nt_challenge *c;
	uint8_t n[NT_VERIFY_NONCE_LEN];

	cr_assert_eq(nt_verify_init(&v, 8), 0);
	nonce(n, 7);
	cr_assert_eq(nt_verify_probe(&v, 42, &obs, tid1, n, 0, LIFE, &c), 0);
	/* before: other port, other host, right nonce, both mapped forms */
	cr_assert_eq(nt_verify_check(&v, 42, &other, n, sizeof(n), &obs, 1), -EADDRNOTAVAIL);
	cr_assert_eq(nt_verify_check(&v, 42, &far, n, sizeof(n), &far, 1), -EADDRNOTAVAIL);
	cr_assert_eq(nt_verify_check(&v, 42, &other, n, sizeof(n), &other, 1), -EADDRNOTAVAIL);
	cr_assert_eq(nt_verify_count(&v), 1, "nothing consumed by a wrong source");
	cr_assert_eq(nt_verify_check(&v, 43, &obs, n, sizeof(n), &obs, 1), -ENOENT, "other session");
	cr_assert_eq(nt_verify_check(&v, 42, &obs, n, sizeof(n), &obs, 2), 0);
	/* after: from anywhere */
	cr_assert_eq(nt_verify_check(&v, 42, &obs, n, sizeof(n), &obs, 3), -ENOENT);
	cr_assert_eq(nt_verify_check(&v, 42, &other, n, sizeof(n), &obs, 3), -ENOENT);
	cr_assert_eq(nt_verify_check(&v, 42, &far, n, sizeof(n), &far, 3), -ENOENT);
	nt_verify_free(&v);
}

Test(ratelimit, per_address_port_ignored)
{
	static struct nt_ratelimit r;
	struct nt_endpoint a = ep4("198.51.100.7", 1), b = ep4("198.51.100.8", 1);
	uint64_t t = 1000;

	nt_ratelimit_init(&r, 5, (const uint8_t *)"0123456789abcdef");
	for (int i = 0; i < 5; i++)
		cr_assert(nt_ratelimit_allow(&r, a.addr, t + (uint64_t)i));
	cr_assert_not(nt_ratelimit_allow(&r, a.addr, t + 10), "6th in the same second");
	cr_assert_eq(r.limited, 1);
	cr_assert(nt_ratelimit_allow(&r, b.addr, t + 10), "another address has its own slot");
	cr_assert_not(nt_ratelimit_allow(&r, a.addr, t + 999999999ull));
	cr_assert(nt_ratelimit_allow(&r, a.addr, t + 1000000000ull), "next window");
	/* a flood of distinct addresses: fixed memory, and nobody beyond its budget */
	unsigned int allowed = 0;

	for (uint32_t i = 0; i < 100000; i++) {
		uint8_t x[16] = { 0 };

		memcpy(x + 12, &i, 4);
		allowed += nt_ratelimit_allow(&r, x, t + 2000000000ull);
	}
	cr_assert_leq(allowed, 5u * NT_RATELIMIT_SLOTS);
}

#include "nt_wire.h"

/* A padded PROBE is as long as the longest CHALLENGE, and still parses and verifies. */
Test(amplification, probe_at_least_challenge)
{
	static const uint8_t key[32] = { 1 };
	struct nt_wire_msg p = { .kind = NT_WIRE_PROBE, .session_id = 9, .pad_to = NT_WIRE_PROBE_MIN },
			   ch = { .kind = NT_WIRE_CHALLENGE, .session_id = 9, .challenge_len = 32,
				  .lifetime_ms = 5000 }, out;
	uint8_t b[NT_WIRE_MAX];
	int n, nc;

	n = nt_wire_build(b, sizeof(b), &p, key, true);
	cr_assert_eq(n, NT_WIRE_PROBE_MIN);
	cr_assert_eq(nt_wire_decode(b, (size_t)n, &out, key), 0);
	cr_assert_eq(out.kind, NT_WIRE_PROBE);
	cr_assert_eq(nt_wire_build(b, sizeof(b), &p, key, false), NT_WIRE_PROBE_MIN);
	ch.mapped.family = NT_FAMILY_V6;
	ch.mapped.addr[0] = 0x20;
	ch.mapped.port = 1;
	nc = nt_wire_build(b, sizeof(b), &ch, key, true);
	cr_assert_leq(nc, NT_WIRE_PROBE_MIN, "v6 challenge %d", nc);
	p.pad_to = 0;
	cr_assert_lt(nt_wire_build(b, sizeof(b), &p, key, true), nc, "unpadded probes are shorter");
}
