// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: sequences of probes, answers, clock steps, leaves and
 * expiries on one challenge table (nt_verify), a byte-coded script. Checked
 * against a model after every step: an answer verifies only with a
 * challenge sent for that session to the observed address, from that
 * address, naming it, in time, once (then none of the session's others
 * does); a probe gets a new challenge only with a sequence above every
 * earlier one of its session. Anything else aborts.
 *
 * Script: each op is 4 bytes  [op] [a] [b] [c]
 *   op%6 0 probe   session a%4+1 from endpoint b%4, sequence by c%4:
 *                  0 the last one again, 1 an older one, 2..3 a new one
 *        1 answer  session a%4+1 from endpoint b%4, mapped (c>>2)%4, nonce c%4:
 *                  0 the last sent, 1 an older one, 2 one of another session, 3 bit flip
 *        2 clock   + (a << 8 | b) ms
 *        3 forget  session a%4+1
 *        4 expire
 *        5 replay  the last answer that verified, from endpoint b%4
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "nt_verify.h"

#define NS 4
#define MS 1000000ull
#define MAXC 1024	/* challenges one script can issue: more than its ops */

/* Every challenge the table handed out; the table may forget more, never less. */
struct issued {
	int s, ep;
	bool dead;		/* consumed, dropped late, or its session forgotten */
	uint64_t seq, expires;
	uint8_t nonce[NT_VERIFY_NONCE_LEN];
};

static struct nt_endpoint eps[4];
static struct issued is[MAXC];
static size_t nis;

static void init_eps(void)
{
	for (int i = 0; i < 4; i++) {
		memset(&eps[i], 0, sizeof(eps[i]));
		eps[i].family = NT_FAMILY_V4;
		eps[i].addr[10] = eps[i].addr[11] = 0xff;
		eps[i].addr[12] = 198, eps[i].addr[13] = 51, eps[i].addr[14] = 100;
		eps[i].addr[15] = (uint8_t)(i / 2 + 1); /* 2 hosts, 2 ports each */
		eps[i].port = (uint16_t)(40000 + i % 2);
	}
}

/* The session's k-th latest challenge (0: the last), or NULL. */
static struct issued *latest(int s, int k)
{
	for (size_t i = nis; i-- > 0;)
		if (is[i].s == s && k-- == 0)
			return &is[i];
	return NULL;
}

static void kill_session(int s)
{
	for (size_t i = 0; i < nis; i++)
		if (is[i].s == s)
			is[i].dead = true;
}

/* Could the table still hold this nonce for s, sent to e? */
static struct issued *may_verify(int s, const uint8_t *nonce, int e, uint64_t now)
{
	for (size_t i = 0; i < nis; i++)
		if (is[i].s == s && !is[i].dead && is[i].ep == e && now < is[i].expires &&
		    !memcmp(is[i].nonce, nonce, NT_VERIFY_NONCE_LEN))
			return &is[i];
	return NULL;
}

static void probe(struct nt_verify *v, uint64_t *last, uint64_t *model_last, int s, int e,
		  uint8_t how, uint64_t now, uint64_t *ctr)
{
	uint8_t nonce[NT_VERIFY_NONCE_LEN] = { 0 };
	const struct nt_challenge *ch;
	uint64_t seq;
	int rc;

	seq = how == 0 ? model_last[s] : how == 1 ? model_last[s] / 2 : model_last[s] + 1 + how;
	++*ctr;
	memcpy(nonce, ctr, sizeof(*ctr));
	nonce[31] = (uint8_t)s;
	rc = nt_verify_probe(v, (uint64_t)s, &last[s], &eps[e], seq, nonce, now, 5000 * MS, &ch);
	if (rc == 0) {
		/* new: only above every earlier sequence, with the fresh nonce */
		if (seq <= model_last[s] || memcmp(ch->nonce, nonce, sizeof(nonce)) ||
		    last[s] != seq || nis == MAXC)
			abort();
		is[nis] = (struct issued){ .s = s, .ep = e, .seq = seq, .expires = ch->expires_ns };
		memcpy(is[nis++].nonce, nonce, sizeof(nonce));
		model_last[s] = seq;
	} else if (rc != -EALREADY || seq > model_last[s] || last[s] != model_last[s]) {
		abort(); /* a replay refused changes nothing; nothing else is refused */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nt_verify v;
	uint64_t last[NS + 1] = { 0 }, model_last[NS + 1] = { 0 };
	uint8_t last_ok[NT_VERIFY_NONCE_LEN];
	int last_ok_s = 0;
	uint64_t now = 1, ctr = 0;

	init_eps();
	nis = 0;
	/* fewer slots than sessions: the table also gets full */
	if (nt_verify_init(&v, 3))
		return 0;
	for (size_t i = 0; i + 4 <= size && nis < MAXC; i += 4) {
		uint8_t op = data[i] % 6, a = data[i + 1], b = data[i + 2], c = data[i + 3];
		int s = a % NS + 1, e = b % 4;
		uint8_t nonce[NT_VERIFY_NONCE_LEN] = { 0 };
		int rc;

		switch (op) {
		case 0:
			probe(&v, last, model_last, s, e, c % 4, now, &ctr);
			break;
		case 1: {
			int me = (c >> 2) % 4, which = c % 4;
			struct issued *src = which == 0 ? latest(s, 0) :
					     which == 1 ? latest(s, 1) :
					     which == 2 ? latest(s % NS + 1, 0) : latest(s, 0);
			struct issued *ok;

			if (src)
				memcpy(nonce, src->nonce, sizeof(nonce));
			if (which == 3)
				nonce[b % NT_VERIFY_NONCE_LEN] ^= (uint8_t)(1u << (a % 8));
			ok = may_verify(s, nonce, e, now);
			rc = nt_verify_check(&v, (uint64_t)s, &eps[e], nonce, sizeof(nonce),
					     &eps[me], now);
			if (rc == 0) {
				if (!ok || me != e)
					abort();
				kill_session(s); /* single use, and the others are moot */
				memcpy(last_ok, nonce, sizeof(nonce));
				last_ok_s = s;
			} else if (rc == -ETIMEDOUT) {
				for (size_t k = 0; k < nis; k++)
					if (is[k].s == s && !memcmp(is[k].nonce, nonce, sizeof(nonce)))
						is[k].dead = true;
			}
			break;
		}
		case 2:
			now += ((uint64_t)a << 8 | b) * MS;
			break;
		case 3:
			nt_verify_forget(&v, (uint64_t)s);
			kill_session(s);
			break;
		case 4:
			nt_verify_expire(&v, now);
			break;
		default:
			if (last_ok_s && !nt_verify_check(&v, (uint64_t)last_ok_s, &eps[e], last_ok,
							  sizeof(last_ok), &eps[e], now))
				abort(); /* a replay verified */
			break;
		}
		if (nt_verify_count(&v) > 3)
			abort();
	}
	nt_verify_free(&v);
	return 0;
}
