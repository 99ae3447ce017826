// SPDX-License-Identifier: GPL-2.0
/* token: mint a time-limited auth token with the operator's shared secret. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include "ctl.h"
#include "nt_num.h"
#include "nt_token.h"

int ctl_token(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "secret-file", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "ttl", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char secret[NT_TOKEN_SECRET_MAX];
	const char *file = NULL, *user = NULL;
	char token[NT_TOKEN_MAX + 1];
	uint64_t ttl = 86400;
	size_t secret_len;
	int c, n;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			file = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 't':
			if (nt_parse_u64(optarg, 1, 10ull * 365 * 86400, &ttl))
				return ctl_error(CTL_EXIT_USAGE, "--ttl: '%s' is not a number of seconds (1 to 10 years)", optarg);
			break;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (!file || !user || optind != argc)
		return ctl_error(CTL_EXIT_USAGE, "usage: token --secret-file F --user NAME [--ttl SECONDS]");
	if (!nt_token_user_valid(user))
		return ctl_error(CTL_EXIT_USAGE, "--user: 1-%d characters of A-Z a-z 0-9 . _ @ -",
				 NT_TOKEN_USER_MAX);
	n = nt_token_read_secret(file, secret, &secret_len);
	if (n < 0)
		return ctl_error(CTL_EXIT_FAIL, "cannot read secret file %s: %s", file, strerror(-n));
	n = nt_token_mint_ttl(secret, secret_len, user, (uint64_t)time(NULL), ttl, token,
			      sizeof(token));
	OPENSSL_cleanse(secret, sizeof(secret));
	if (n < 0)
		return ctl_error(CTL_EXIT_FAIL, "cannot mint token: %s", strerror(-n));
	if (ctl->json)
		printf("{\"user\":\"%s\",\"ttl\":%llu,\"token\":\"%s\"}\n", user,
		       (unsigned long long)ttl, token);
	else
		printf("%s\n", token);
	return 0;
}
