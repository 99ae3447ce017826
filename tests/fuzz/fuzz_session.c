// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: sequences of probes, answers, clock steps, leaves and
 * expiries on one challenge table (nt_verify), a byte-coded script. Checked
 * against a model after every step: an answer verifies only with the
 * challenge last sent to that session's observed address, from that
 * address, naming it, in time, once. Anything else verifying aborts.
 *
 * Script: each op is 4 bytes  [op] [a] [b] [c]
 *   op%6 0 probe   session a%4+1 from endpoint b%4, tid c
 *        1 answer  session a%4+1 from endpoint b%4, mapped (c>>2)%4, nonce c%4:
 *                  0 the one sent, 1 an older one, 2 one of another session, 3 bit flip
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

struct model {
	bool live;		/* a challenge the table should hold */
	uint8_t nonce[NT_VERIFY_NONCE_LEN], old[NT_VERIFY_NONCE_LEN];
	int ep;
	uint64_t expires;
};

static struct nt_endpoint eps[4];

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nt_verify v;
	struct model m[NS + 1];
	uint8_t last_ok[NT_VERIFY_NONCE_LEN];
	int last_ok_s = 0;
	uint64_t now = 1, ctr = 0;

	init_eps();
	memset(m, 0, sizeof(m));
	/* fewer slots than sessions: the table also gets full */
	if (nt_verify_init(&v, 3))
		return 0;
	for (size_t i = 0; i + 4 <= size; i += 4) {
		uint8_t op = data[i] % 6, a = data[i + 1], b = data[i + 2], c = data[i + 3];
		int s = a % NS + 1, e = b % 4;
		uint8_t tid[12] = { c }, nonce[NT_VERIFY_NONCE_LEN];
		const struct nt_challenge *ch;
		int rc;

		switch (op) {
		case 0:
			memset(nonce, 0, sizeof(nonce));
			ctr++;
			memcpy(nonce, &ctr, sizeof(ctr));
			nonce[31] = (uint8_t)s;
			rc = nt_verify_probe(&v, (uint64_t)s, &eps[e], tid, nonce, now, 5000 * MS, &ch);
			if (rc < 0)
				abort();
			/* what the table says it sent is what the observed address learns */
			if (!m[s].live || memcmp(m[s].nonce, ch->nonce, sizeof(nonce)))
				memcpy(m[s].old, m[s].nonce, sizeof(nonce));
			memcpy(m[s].nonce, ch->nonce, sizeof(nonce));
			m[s].live = true;
			m[s].ep = e;
			m[s].expires = ch->expires_ns;
			if (rc == 0 && memcmp(ch->nonce, nonce, sizeof(nonce)))
				abort(); /* a new challenge must carry the fresh nonce */
			break;
		case 1: {
			int me = (c >> 2) % 4, which = c % 4;

			if (which == 0)
				memcpy(nonce, m[s].nonce, sizeof(nonce));
			else if (which == 1)
				memcpy(nonce, m[s].old, sizeof(nonce));
			else if (which == 2)
				memcpy(nonce, m[s % NS + 1].nonce, sizeof(nonce));
			else {
				memcpy(nonce, m[s].nonce, sizeof(nonce));
				nonce[b % NT_VERIFY_NONCE_LEN] ^= (uint8_t)(1u << (a % 8));
			}
			rc = nt_verify_check(&v, (uint64_t)s, &eps[e], nonce, sizeof(nonce),
					     &eps[me], now);
			if (rc == 0) {
				bool may = m[s].live && which == 0 && e == m[s].ep && me == m[s].ep &&
					   now < m[s].expires;

				if (!may)
					abort();
				m[s].live = false; /* single use */
				memcpy(last_ok, nonce, sizeof(nonce));
				last_ok_s = s;
			} else if (rc == -ETIMEDOUT) {
				m[s].live = false;
			}
			break;
		}
		case 2:
			now += ((uint64_t)a << 8 | b) * MS;
			break;
		case 3:
			nt_verify_forget(&v, (uint64_t)s);
			m[s].live = false;
			break;
		case 4:
			nt_verify_expire(&v, now);
			break;
		default:
			if (last_ok_s && !nt_verify_check(&v, (uint64_t)last_ok_s, &eps[e], last_ok,
							  sizeof(last_ok), &eps[e], now) &&
			    !(m[last_ok_s].live && !memcmp(m[last_ok_s].nonce, last_ok, sizeof(last_ok))))
				abort(); /* a replay verified */
			break;
		}
		if (nt_verify_count(&v) > 3)
			abort();
	}
	nt_verify_free(&v);
	return 0;
}
