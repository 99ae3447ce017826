// SPDX-License-Identifier: GPL-2.0
/* token: mint a time-limited auth token for named groups with the operator's shared secret. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include "ctl.h"
#include "nt_json.h"
#include "nt_num.h"
#include "nt_token.h"

static const char token_usage[] =
	"usage: nattravctl token --secret-file F --user NAME --group G [--group G2 ...] [--ttl SECONDS]\n"
	"\n"
	"Mint an auth token (format v2, docs/protocol.md section 1) that lets NAME join\n"
	"the groups named, until now + SECONDS (default 86400).\n"
	"\n"
	"  --secret-file F   the auth secret shared with nattravd (--auth-secret-file);\n"
	"                    of several (one per line, for rotation) the first mints\n"
	"  --user NAME       1-64 of A-Z a-z 0-9 . _ @ -\n"
	"  --group G         a group the holder may join (1-64 of A-Z a-z 0-9 . _ -);\n"
	"                    up to 16; '*' alone: any group\n"
	"  --ttl SECONDS     lifetime, 1 s to 10 years (nattravd may cap it: --max-token-ttl)\n"
	"\n"
	"Examples:\n"
	"  nattravctl token --secret-file /etc/nattrav/secret --user alice --group room9\n"
	"  nattravctl token --secret-file /etc/nattrav/secret --user bot --group '*' --ttl 600\n";

int ctl_token(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "secret-file", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct nt_token_secrets secrets;
	const char *file = NULL, *user = NULL;
	const char *groups[NT_TOKEN_GROUPS_MAX];
	char token[NT_TOKEN_MAX + 1];
	uint64_t ttl = 86400;
	size_t ngroups = 0;
	int c, n;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			file = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'g':
			if (ngroups == NT_TOKEN_GROUPS_MAX)
				return ctl_error(CTL_EXIT_USAGE, "--group: at most %d groups in a token",
						 NT_TOKEN_GROUPS_MAX);
			if (strcmp(optarg, "*") && !nt_line_group_valid(optarg))
				return ctl_error(CTL_EXIT_USAGE,
						 "--group '%s': 1-%d characters of A-Z a-z 0-9 . _ -, or '*'",
						 optarg, NT_LINE_GROUP_MAX);
			groups[ngroups++] = optarg;
			break;
		case 't':
			if (nt_parse_u64(optarg, 1, 10ull * 365 * 86400, &ttl))
				return ctl_error(CTL_EXIT_USAGE, "--ttl: '%s' is not a number of seconds (1 to 10 years)", optarg);
			break;
		case 'h':
			fputs(token_usage, stdout);
			return 0;
		default:
			fputs(token_usage, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (!file || !user || optind != argc) {
		fputs(token_usage, stderr);
		return CTL_EXIT_USAGE;
	}
	if (ngroups == 0)
		return ctl_error(CTL_EXIT_USAGE,
				 "token: --group is required (a group name, or '*' for any group)");
	for (size_t i = 0; i < ngroups; i++) {
		if (ngroups > 1 && !strcmp(groups[i], "*"))
			return ctl_error(CTL_EXIT_USAGE, "--group '*' means any group: give it alone");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(groups[i], groups[j]))
				return ctl_error(CTL_EXIT_USAGE, "--group '%s' given twice", groups[i]);
	}
	if (!nt_token_user_valid(user))
		return ctl_error(CTL_EXIT_USAGE, "--user: 1-%d characters of A-Z a-z 0-9 . _ @ -",
				 NT_TOKEN_USER_MAX);
	/* the first line mints; the others only verify (rotation) */
	n = nt_token_read_secrets(file, &secrets);
	if (n < 0)
		return ctl_error(CTL_EXIT_FAIL, "cannot read secret file %s: %s", file,
				 n == -E2BIG ? "too many secrets" : n == -EFBIG ? "a line too long" :
				 strerror(-n));
	n = nt_token_mint_ttl(secrets.key[0], secrets.len[0], user, groups, ngroups,
			      (uint64_t)time(NULL), ttl,
			      token, sizeof(token));
	OPENSSL_cleanse(&secrets, sizeof(secrets));
	if (n == -ENOSPC)
		return ctl_error(CTL_EXIT_USAGE, "token: the group names are too long for one token (%d characters of names at most)",
				 NT_TOKEN_GROUPS_LEN);
	if (n < 0)
		return ctl_error(CTL_EXIT_FAIL, "cannot mint token: %s", strerror(-n));
	if (ctl->json) {
		struct nt_json j;

		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		nt_json_kstr(&j, "user", user);
		nt_json_ku64(&j, "ttl", ttl);
		nt_json_key(&j, "groups");
		nt_json_arr(&j);
		for (size_t i = 0; i < ngroups; i++)
			nt_json_str(&j, groups[i]);
		nt_json_arr_end(&j);
		nt_json_kstr(&j, "token", token);
		nt_json_obj_end(&j);
		nt_json_end(&j);
	} else {
		printf("%s\n", token);
	}
	return 0;
}
