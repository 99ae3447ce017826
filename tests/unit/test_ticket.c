// SPDX-License-Identifier: GPL-2.0
/* nt_ticket: seal/open round trips, tampering, other keys, expiry, malformed input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <openssl/evp.h>
#include "nt_ticket.h"

static const char secret[] = "shared-auth-secret";
#define NOW 1700000000ull

static void sample(struct nt_ticket *t)
{
	memset(t, 0, sizeof(*t));
	t->session_id = 0x0123456789abcdefull;
	for (int i = 0; i < NT_WIRE_KEY_LEN; i++)
		t->key[i] = (uint8_t)(i * 7 + 1);
	t->expiry = NOW + 600;
	strcpy(t->user, "alice@example.org");
	strcpy(t->group, "room9");
}

Test(ticket, round_trip_and_fresh_nonces)
{
	uint8_t k[NT_TICKET_KEY_LEN];
	struct nt_ticket t, back;
	char a[NT_TICKET_MAX + 1], b[NT_TICKET_MAX + 1];

	cr_assert_eq(nt_ticket_key(secret, sizeof(secret) - 1, k), 0);
	sample(&t);
	cr_assert_gt(nt_ticket_seal(k, &t, a, sizeof(a)), 0);
	cr_assert_gt(nt_ticket_seal(k, &t, b, sizeof(b)), 0);
	cr_assert_str_neq(a, b, "two seals of one session must differ (nonce)");
	cr_assert_eq(nt_ticket_open(k, a, NOW, &back), 0);
	cr_assert_eq(back.session_id, t.session_id);
	cr_assert_arr_eq(back.key, t.key, NT_WIRE_KEY_LEN);
	cr_assert_eq(back.expiry, t.expiry);
	cr_assert_str_eq(back.user, t.user);
	cr_assert_str_eq(back.group, t.group);
	/* the key is not readable in the ticket */
	cr_assert_null(memmem(a, strlen(a), "room9", 5));
}

Test(ticket, longest_fits)
{
	uint8_t k[NT_TICKET_KEY_LEN];
	struct nt_ticket t, back;
	char a[NT_TICKET_MAX + 1];

	nt_ticket_key(secret, sizeof(secret) - 1, k);
	sample(&t);
	memset(t.user, 'u', NT_TOKEN_USER_MAX);
	t.user[NT_TOKEN_USER_MAX] = '\0';
	memset(t.group, 'g', NT_LINE_GROUP_MAX);
	t.group[NT_LINE_GROUP_MAX] = '\0';
	cr_assert_eq(nt_ticket_seal(k, &t, a, sizeof(a)), NT_TICKET_MAX);
	cr_assert_eq(nt_ticket_open(k, a, NOW, &back), 0);
	cr_assert_str_eq(back.group, t.group);
	cr_assert_eq(nt_ticket_seal(k, &t, a, NT_TICKET_MAX), -ENOSPC);
}

Test(ticket, tampering_other_key_expiry)
{
	uint8_t k[NT_TICKET_KEY_LEN], k2[NT_TICKET_KEY_LEN], raw[256];
	struct nt_ticket t, back;
	char a[NT_TICKET_MAX + 1], f[NT_TICKET_MAX + 1];
	int n;

	nt_ticket_key(secret, sizeof(secret) - 1, k);
	nt_ticket_key("another-secret", 14, k2);
	sample(&t);
	nt_ticket_seal(k, &t, a, sizeof(a));
	cr_assert_eq(nt_ticket_open(k2, a, NOW, &back), -EACCES);
	cr_assert_eq(nt_ticket_open(k, a, NOW + 600, &back), -ETIMEDOUT);
	cr_assert_str_eq(back.user, "alice@example.org");
	/* every byte after the version flipped: never accepted */
	n = EVP_DecodeBlock(raw, (unsigned char *)a, (int)strlen(a));
	n -= (a[strlen(a) - 1] == '=') + (a[strlen(a) - 2] == '=');
	for (int i = 1; i < n; i++) {
		raw[i] ^= 0x01;
		EVP_EncodeBlock((unsigned char *)f, raw, n);
		cr_assert_eq(nt_ticket_open(k, f, NOW, &back), -EACCES, "byte %d", i);
		raw[i] ^= 0x01;
	}
	raw[0] = 2;
	EVP_EncodeBlock((unsigned char *)f, raw, n);
	cr_assert_eq(nt_ticket_open(k, f, NOW, &back), -EINVAL);
}

Test(ticket, malformed)
{
	uint8_t k[NT_TICKET_KEY_LEN];
	struct nt_ticket t, back;
	char a[NT_TICKET_MAX + 1], f[NT_TICKET_MAX + 8];

	nt_ticket_key(secret, sizeof(secret) - 1, k);
	sample(&t);
	nt_ticket_seal(k, &t, a, sizeof(a));
	const char *cases[] = { "", "AAAA", "====", "not base64!", "AAA", NULL };
	for (int i = 0; cases[i]; i++)
		cr_assert_eq(nt_ticket_open(k, cases[i], NOW, &back), -EINVAL, "%s", cases[i]);
	cr_assert_eq(nt_ticket_open(k, NULL, NOW, &back), -EINVAL);
	snprintf(f, sizeof(f), "%.*s", (int)strlen(a) - 4, a);
	cr_assert_neq(nt_ticket_open(k, f, NOW, &back), 0);
	snprintf(f, sizeof(f), "%sAAAA", a);
	cr_assert_eq(nt_ticket_open(k, f, NOW, &back), -EINVAL);
	strcpy(t.group, "bad group");
	cr_assert_eq(nt_ticket_seal(k, &t, a, sizeof(a)), -EINVAL);
}
