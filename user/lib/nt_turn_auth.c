// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "nt_turn_auth.h"

int nt_turn_rest_user(const char *username, size_t len, uint64_t now_s, char user[64])
{
	uint64_t expiry = 0;
	size_t i = 0, ulen;

	if (len == 0 || len >= NT_TURN_USERNAME_MAX)
		return -EINVAL;
	for (; i < len && username[i] >= '0' && username[i] <= '9'; i++) {
		if (i >= 19) /* more digits than any Unix time in a u64 */
			return -EINVAL;
		expiry = expiry * 10 + (uint64_t)(username[i] - '0');
	}
	if (i == 0 || i == len || username[i] != ':')
		return -EINVAL;
	ulen = len - i - 1;
	if (ulen == 0 || ulen > 63)
		return -EINVAL;
	for (size_t k = i + 1; k < len; k++)
		if (username[k] <= ' ' || username[k] > '~' || username[k] == ':')
			return -EINVAL;
	if (expiry < now_s)
		return -EKEYEXPIRED;
	memcpy(user, username + i + 1, ulen);
	user[ulen] = '\0';
	return 0;
}

int nt_turn_rest_password(const uint8_t *secret, size_t slen, const char *username,
			  char out[NT_TURN_PASSWORD_LEN + 1])
{
	uint8_t mac[20];
	unsigned int n = sizeof(mac);

	if (!HMAC(EVP_sha1(), secret, (int)slen, (const uint8_t *)username, strlen(username), mac,
		  &n))
		return -EIO;
	return EVP_EncodeBlock((unsigned char *)out, mac, (int)n) == NT_TURN_PASSWORD_LEN ? 0 : -EIO;
}

int nt_turn_lt_key(const char *username, const char *realm, const char *password,
		   uint8_t key[NT_TURN_KEY_LEN])
{
	char buf[NT_TURN_USERNAME_MAX + NT_TURN_REALM_MAX + 64];
	unsigned int n = NT_TURN_KEY_LEN;
	int len = snprintf(buf, sizeof(buf), "%s:%s:%s", username, realm, password);

	if (len < 0 || (size_t)len >= sizeof(buf))
		return -EINVAL;
	return EVP_Digest(buf, (size_t)len, key, &n, EVP_md5(), NULL) ? 0 : -EIO;
}

static void nonce_mac(const uint8_t key[32], const char time_hex[16], char out[16])
{
	uint8_t mac[32];
	unsigned int n = sizeof(mac);
	static const char hex[] = "0123456789abcdef";

	HMAC(EVP_sha256(), key, 32, (const uint8_t *)time_hex, 16, mac, &n);
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
}

void nt_turn_nonce_make(const uint8_t key[32], uint64_t now_s, char out[NT_TURN_NONCE_LEN + 1])
{
	snprintf(out, 17, "%016llx", (unsigned long long)now_s);
	nonce_mac(key, out, out + 16);
	out[NT_TURN_NONCE_LEN] = '\0';
}

int nt_turn_nonce_check(const uint8_t key[32], const char *nonce, size_t len, uint64_t now_s,
			uint64_t max_age_s)
{
	char want[16], t[17];
	unsigned long long made;

	if (len != NT_TURN_NONCE_LEN)
		return -EINVAL;
	memcpy(t, nonce, 16);
	t[16] = '\0';
	if (strspn(t, "0123456789abcdef") != 16 || sscanf(t, "%llx", &made) != 1)
		return -EINVAL;
	nonce_mac(key, t, want);
	if (CRYPTO_memcmp(want, nonce + 16, 16))
		return -EINVAL;
	if (made > now_s + 5 || now_s - made > max_age_s)
		return -ESTALE;
	return 0;
}
