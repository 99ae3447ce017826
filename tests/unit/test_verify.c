// SPDX-License-Identifier: GPL-2.0
/* nt_verify: challenges per session, single use, lifetime, address binding, probe replays. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "nt_verify.h"
#include "endpoints.h"

#define MS 1000000ull
#define LIFE (5000 * MS)

/* Highest probe sequence per session (ids below 16), as struct nt_session keeps it. */
static uint64_t last_seq[16], seqn;

/* A new probe of session sid: the next sequence number. */
static int probe(struct nt_verify *v, uint64_t sid, const struct nt_endpoint *obs,
		 const uint8_t *n, uint64_t now, const struct nt_challenge **c)
{
	return nt_verify_probe(v, sid, &last_seq[sid & 15], obs, ++seqn, n, now, LIFE, c);
}

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
	cr_assert_eq(probe(&v, 42, &obs, n, 1000, &c), 0);
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
	cr_assert_eq(probe(&v, 42, &obs, n, 0, &c), 0);
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
	cr_assert_eq(probe(&v, 9, &obs, n, 0, &c), 0);
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
	cr_assert_eq(probe(&v, 5, &obs, n, 100, &c), 0);
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n, sizeof(n), &obs, 100 + LIFE), -ETIMEDOUT);
	cr_assert_eq(nt_verify_count(&v), 0, "a late challenge is dropped");
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n, sizeof(n), &obs, 100 + LIFE), -ENOENT);

	/* nt_verify_expire drops only what is past its deadline */
	cr_assert_eq(probe(&v, 5, &obs, n, 0, &c), 0);
	cr_assert_eq(probe(&v, 6, &obs, n, 1000 * MS, &c), 0);
	cr_assert_eq(nt_verify_expire(&v, LIFE), 1);
	cr_assert_eq(nt_verify_count(&v), 1);
	cr_assert_eq(nt_verify_check(&v, 6, &obs, n, sizeof(n), &obs, LIFE), 0);
	nt_verify_free(&v);
}

/* Every PROBE sent has a higher sequence: a copy of one, even from its own source, gets nothing. */
Test(verify, a_copy_of_a_probe_gets_nothing)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000), obs2 = ep4("198.51.100.7", 40002);
	const struct nt_challenge *c;
	uint8_t n1[NT_VERIFY_NONCE_LEN], n2[NT_VERIFY_NONCE_LEN];
	uint64_t last = 0;

	cr_assert_eq(nt_verify_init(&v, 8), 0);
	nonce(n1, 1);
	nonce(n2, 2);
	cr_assert_eq(nt_verify_probe(&v, 5, &last, &obs, 0, n1, 0, LIFE, &c), -EALREADY,
		     "sequences start at 1");
	cr_assert_eq(nt_verify_probe(&v, 5, &last, &obs, 10, n1, 0, LIFE, &c), 0);
	cr_assert_eq(last, 10);
	cr_assert_eq(memcmp(c->nonce, n1, sizeof(n1)), 0);
	cr_assert_eq(c->expires_ns, LIFE);
	cr_assert_eq(nt_verify_probe(&v, 5, &last, &obs, 10, n2, 500 * MS, LIFE, &c), -EALREADY);
	cr_assert_eq(nt_verify_probe(&v, 5, &last, &obs2, 10, n2, 600 * MS, LIFE, &c), -EALREADY);
	cr_assert_eq(nt_verify_count(&v), 1);
	cr_assert_eq(last, 10);
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n1, sizeof(n1), &obs, 700 * MS), 0);
	cr_assert_eq(nt_verify_probe(&v, 5, &last, &obs, 10, n2, 800 * MS, LIFE, &c), -EALREADY,
		     "and once answered, still nothing");
	cr_assert_eq(nt_verify_count(&v), 0);
	/* other sessions keep their own sequence */
	cr_assert_eq(nt_verify_probe(&v, 6, &(uint64_t){ 0 }, &obs, 1, n2, 900 * MS, LIFE, &c), 0);
	nt_verify_free(&v);
}

/*
 * The attack: a PROBE recorded on the path and sent again from another
 * source, to make the server replace the challenge the real client is about
 * to answer. Neither the current probe nor an older one may displace it.
 */
Test(verify, replayed_probe_cannot_displace_the_challenge)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000), far = ep4("192.0.2.9", 1234);
	const struct nt_challenge *c;
	uint8_t n[NT_VERIFY_NONCE_LEN], x[NT_VERIFY_NONCE_LEN];
	uint64_t last = 0;

	cr_assert_eq(nt_verify_init(&v, 8), 0);
	nonce(n, 1);
	nonce(x, 9);
	cr_assert_eq(nt_verify_probe(&v, 5, &last, &obs, 20, n, 0, LIFE, &c), 0);
	for (uint64_t seq = 1; seq <= 20; seq++)
		cr_assert_eq(nt_verify_probe(&v, 5, &last, &far, seq, x, MS, LIFE, &c), -EALREADY,
			     "seq %llu", (unsigned long long)seq);
	cr_assert_eq(nt_verify_count(&v), 1, "no challenge for the replays");
	cr_assert_eq(last, 20);
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n, sizeof(n), &obs, 2 * MS), 0,
		     "the real client's challenge still verifies");
	nt_verify_free(&v);
}

/* A replay that wins the race takes that probe only; the client's next one verifies. */
Test(verify, replay_winning_a_race_costs_one_probe)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000), far = ep4("192.0.2.9", 1234);
	const struct nt_challenge *c;
	uint8_t n1[NT_VERIFY_NONCE_LEN], n2[NT_VERIFY_NONCE_LEN];
	uint64_t last = 0;

	cr_assert_eq(nt_verify_init(&v, 8), 0);
	nonce(n1, 1);
	nonce(n2, 2);
	cr_assert_eq(nt_verify_probe(&v, 5, &last, &far, 7, n1, 0, LIFE, &c), 0, "the copy");
	cr_assert_eq(nt_verify_probe(&v, 5, &last, &obs, 7, n2, 1, LIFE, &c), -EALREADY,
		     "the original, later");
	cr_assert_eq(nt_verify_probe(&v, 5, &last, &obs, 8, n2, 500 * MS, LIFE, &c), 0,
		     "the client's next probe");
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n1, sizeof(n1), &obs, 600 * MS), -EADDRNOTAVAIL,
		     "the copy's challenge is bound to the copy's source");
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n2, sizeof(n2), &obs, 600 * MS), 0);
	cr_assert_eq(nt_verify_count(&v), 0, "the session's other challenges consumed too");
	nt_verify_free(&v);
}

/* A CHALLENGE that arrives after the client's next probe still verifies. */
Test(verify, a_few_challenges_per_session)
{
	struct nt_verify v;
	struct nt_endpoint obs = ep4("198.51.100.7", 40000);
	const struct nt_challenge *c;
	uint8_t n[NT_VERIFY_PER_SESSION + 1][NT_VERIFY_NONCE_LEN];
	uint64_t last = 0;

	cr_assert_eq(nt_verify_init(&v, 64), 0);
	for (int i = 0; i <= NT_VERIFY_PER_SESSION; i++) {
		nonce(n[i], (uint8_t)(i + 1));
		cr_assert_eq(nt_verify_probe(&v, 5, &last, &obs, (uint64_t)i + 1, n[i],
					     (uint64_t)i * MS, LIFE, &c), 0);
	}
	cr_assert_eq(nt_verify_count(&v), NT_VERIFY_PER_SESSION, "at most that many");
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n[0], sizeof(n[0]), &obs, 10 * MS), -ENOENT,
		     "the oldest made room");
	cr_assert_eq(nt_verify_check(&v, 5, &obs, n[1], sizeof(n[1]), &obs, 10 * MS), 0,
		     "an earlier one than the last verifies");
	cr_assert_eq(nt_verify_count(&v), 0);
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
		cr_assert_eq(probe(&v, s, &obs, n, s * MS, &c), 0);
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
	cr_assert_eq(probe(&v, 0, &obs, n, 0, &c), -EINVAL);
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
	cr_assert_eq(probe(&v, 42, &obs, n, 0, &c), 0);
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

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Probes, answers (right, stale, from elsewhere), forgets and expiries at
 * random over a table smaller than the sessions need: every answer gets
 * what a scan of the table says it must (the way the table was read before
 * it had indexes), and the expiry list holds exactly the live entries,
 * soonest first.
 */
Test(verify, indexes_under_churn_match_scans)
{
	enum { CAP = 24, NSESS = 20, NNONCE = 64 };
	struct nt_endpoint obs = ep4("198.51.100.7", 40000), far = ep4("203.0.113.9", 40000);
	uint64_t seed = 0x2545f4914f6cdd1dull, now = MS, last[NSESS + 1] = { 0 };
	uint8_t issued[NNONCE][NT_VERIFY_NONCE_LEN];
	uint64_t issued_sid[NNONCE] = { 0 };
	struct nt_verify v;
	unsigned nissued = 0;

	cr_assert_eq(nt_verify_init(&v, CAP), 0);
	for (int round = 0; round < 60000; round++) {
		uint64_t r = rnd(&seed), sid = 1 + (r >> 8) % NSESS;
		int op = (int)(r % 8);

		now += (r >> 40) % (400 * MS);
		if (op <= 3) {
			const struct nt_challenge *c;
			uint8_t n[NT_VERIFY_NONCE_LEN];
			/* lifetimes differ now and then: the expiry list stays sorted */
			uint64_t life = (r >> 16) % 5 ? LIFE : LIFE / 3;

			for (size_t i = 0; i < sizeof(n); i++)
				n[i] = (uint8_t)rnd(&seed);
			cr_assert_eq(nt_verify_probe(&v, sid, &last[sid], (r >> 20) & 1 ? &obs : &far,
						     last[sid] + 1, n, now, life, &c), 0);
			memcpy(issued[nissued % NNONCE], n, sizeof(n));
			issued_sid[nissued++ % NNONCE] = sid;
		} else if (op <= 5 && nissued) {
			unsigned k = (unsigned)(r >> 24) % (nissued < NNONCE ? nissued : NNONCE);
			const struct nt_endpoint *src = (r >> 32) & 1 ? &obs : &far;
			uint64_t asid = (r >> 33) % 4 ? issued_sid[k] : sid;
			struct nt_challenge *hit = NULL;
			int want;

			for (size_t i = 0; i < v.cap; i++)
				if (v.c[i].used && v.c[i].session_id == asid &&
				    !memcmp(v.c[i].nonce, issued[k], NT_VERIFY_NONCE_LEN))
					hit = &v.c[i];
			if (!hit)
				want = -ENOENT;
			else if (hit->expires_ns <= now)
				want = -ETIMEDOUT;
			else if (!nt_endpoint_eq(src, &hit->observed))
				want = -EADDRNOTAVAIL;
			else
				want = 0;
			cr_assert_eq(nt_verify_check(&v, asid, src, issued[k], NT_VERIFY_NONCE_LEN, src, now),
				     want, "round %d", round);
		} else if (op == 6) {
			nt_verify_forget(&v, sid);
			for (size_t i = 0; i < v.cap; i++)
				cr_assert(!v.c[i].used || v.c[i].session_id != sid, "forgotten");
		} else {
			size_t want = 0;

			for (size_t i = 0; i < v.cap; i++)
				want += v.c[i].used && v.c[i].expires_ns <= now - LIFE / 2;
			cr_assert_eq(nt_verify_expire(&v, now - LIFE / 2), want);
		}
		/* the table as a scan sees it */
		size_t used = 0, per[NSESS + 1] = { 0 }, listed = 0;
		uint64_t prev = 0;

		for (size_t i = 0; i < v.cap; i++) {
			used += v.c[i].used;
			if (v.c[i].used)
				cr_assert_leq(++per[v.c[i].session_id], NT_VERIFY_PER_SESSION);
		}
		cr_assert_eq(nt_verify_count(&v), used);
		for (uint32_t it = v.head; it; it = v.next[it - 1], listed++) {
			cr_assert(v.c[it - 1].used, "only live entries listed");
			cr_assert_geq(v.c[it - 1].expires_ns, prev, "soonest first");
			prev = v.c[it - 1].expires_ns;
		}
		cr_assert_eq(listed, used);
	}
	nt_verify_free(&v);
}
