// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Resume tickets; see nt_ticket.h for the format. */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "nt_ticket.h"

#define VERSION 1
#define NONCE_LEN 12
#define TAG_LEN 16
#define PLAIN_MAX (8 + NT_WIRE_KEY_LEN + 8 + 1 + NT_TOKEN_USER_MAX + 1 + NT_LINE_GROUP_MAX)
#define RAW_MAX (1 + NONCE_LEN + PLAIN_MAX + TAG_LEN)

_Static_assert((RAW_MAX + 2) / 3 * 4 == NT_TICKET_MAX, "NT_TICKET_MAX is the base64 of RAW_MAX");

static const char label[] = "nattrav resume ticket key v1";
/* bound into the tag: a ticket is only ever a ticket of this version */
static const unsigned char aad[] = "nattrav-ticket-v1";

int nt_ticket_key(const void *secret, size_t secret_len, uint8_t out[NT_TICKET_KEY_LEN])
{
	unsigned int len = NT_TICKET_KEY_LEN;

	if (!secret || !secret_len || secret_len > NT_TOKEN_SECRET_MAX)
		return -EINVAL;
	if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)label,
		  sizeof(label) - 1, out, &len) || len != NT_TICKET_KEY_LEN)
		return -EIO;
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* encrypt: 1 seals in place (plain -> cipher, tag out), 0 opens (tag in). */
static int gcm(int encrypt, const uint8_t key[NT_TICKET_KEY_LEN], const uint8_t *nonce,
	       uint8_t *buf, int len, uint8_t *tag)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	if (!x)
		return -ENOMEM;
	ok = EVP_CipherInit_ex(x, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) == 1 &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
	     EVP_CipherInit_ex(x, NULL, NULL, key, nonce, encrypt) == 1 &&
	     EVP_CipherUpdate(x, NULL, &n, aad, sizeof(aad) - 1) == 1 &&
	     EVP_CipherUpdate(x, buf, &n, buf, len) == 1;
	if (ok && !encrypt)
		ok = EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(x, buf + n, &n) == 1;
	if (ok && encrypt)
		ok = EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : encrypt ? -EIO : -EACCES;
}

int nt_ticket_seal(const uint8_t key[NT_TICKET_KEY_LEN], const struct nt_ticket *t, char *out,
		   size_t cap)
{
	uint8_t raw[RAW_MAX], *p = raw + 1 + NONCE_LEN;
	size_t ulen, glen, plen;
	int err;

	if (!nt_token_user_valid(t->user) || !nt_line_group_valid(t->group) || !t->session_id)
		return -EINVAL;
	ulen = strlen(t->user);
	glen = strlen(t->group);
	raw[0] = VERSION;
	if (RAND_bytes(raw + 1, NONCE_LEN) != 1)
		return -EIO;
	put64(p, t->session_id);
	memcpy(p + 8, t->key, NT_WIRE_KEY_LEN);
	put64(p + 8 + NT_WIRE_KEY_LEN, t->expiry);
	plen = 8 + NT_WIRE_KEY_LEN + 8;
	p[plen++] = (uint8_t)ulen;
	memcpy(p + plen, t->user, ulen);
	plen += ulen;
	p[plen++] = (uint8_t)glen;
	memcpy(p + plen, t->group, glen);
	plen += glen;
	err = gcm(1, key, raw + 1, p, (int)plen, p + plen);
	if (!err && ((1 + NONCE_LEN + plen + TAG_LEN + 2) / 3 * 4 + 1 > cap))
		err = -ENOSPC;
	if (!err)
		err = EVP_EncodeBlock((unsigned char *)out, raw, (int)(1 + NONCE_LEN + plen + TAG_LEN));
	OPENSSL_cleanse(raw, sizeof(raw));
	return err;
}

int nt_ticket_open(const uint8_t key[NT_TICKET_KEY_LEN], const char *s, uint64_t now,
		   struct nt_ticket *t)
{
	uint8_t raw[RAW_MAX + 3], *p = raw + 1 + NONCE_LEN;
	char again[NT_TICKET_MAX + 1];
	size_t n = s ? strnlen(s, NT_TICKET_MAX + 1) : 0, rlen, plen, ulen, glen;
	int dec, err = -EINVAL;

	memset(t, 0, sizeof(*t));
	if (n < 4 || n > NT_TICKET_MAX || n % 4)
		return -EINVAL;
	dec = EVP_DecodeBlock(raw, (const unsigned char *)s, (int)n);
	if (dec < 0)
		return -EINVAL;
	/* EVP_DecodeBlock counts padding as zero bytes: take them off */
	rlen = (size_t)dec - (s[n - 1] == '=') - (s[n - 2] == '=');
	/* one spelling per ticket: what re-encodes differently is not ours */
	EVP_EncodeBlock((unsigned char *)again, raw, (int)rlen);
	if (strcmp(again, s) || rlen < 1 + NONCE_LEN + 8 + NT_WIRE_KEY_LEN + 8 + 2 + TAG_LEN ||
	    raw[0] != VERSION)
		goto out;
	plen = rlen - 1 - NONCE_LEN - TAG_LEN;
	err = gcm(0, key, raw + 1, p, (int)plen, p + plen);
	if (err)
		goto out;
	err = -EINVAL;
	t->session_id = get64(p);
	memcpy(t->key, p + 8, NT_WIRE_KEY_LEN);
	t->expiry = get64(p + 8 + NT_WIRE_KEY_LEN);
	n = 8 + NT_WIRE_KEY_LEN + 8;
	ulen = p[n++];
	if (ulen > NT_TOKEN_USER_MAX || n + ulen + 1 > plen)
		goto out;
	memcpy(t->user, p + n, ulen);
	n += ulen;
	glen = p[n++];
	if (glen > NT_LINE_GROUP_MAX || n + glen != plen)
		goto out;
	memcpy(t->group, p + n, glen);
	/* sealed by us, but checked as if not: a bug elsewhere stays contained */
	if (!t->session_id || !nt_token_user_valid(t->user) || !nt_line_group_valid(t->group))
		goto out;
	err = now >= t->expiry ? -ETIMEDOUT : 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	if (err && err != -ETIMEDOUT)
		OPENSSL_cleanse(t, sizeof(*t));
	return err;
}
