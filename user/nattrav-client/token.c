// SPDX-License-Identifier: GPL-2.0
/*
 * Where the client's token comes from: --token, --token-file or
 * NATTRAV_TOKEN. A file or the environment keeps the token out of the
 * argument list, which every local user can read (ps, /proc/PID/cmdline).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

/* At most size bytes of path into buf (a pipe or <(cmd) may return them in pieces). */
static ssize_t read_bounded(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	return (ssize_t)len;
}

static int token_file(struct cli *cli, const char *path)
{
	/* the token, "\r\n", and one byte more to tell "too long" from "fits" */
	char raw[NT_TOKEN_MAX + 3];
	ssize_t n = read_bounded(path, raw, sizeof(raw));
	size_t len;

	if (n < 0)
		return cli_error(CLI_EXIT_USAGE, "--token-file %s: %s", path, strerror((int)-n));
	len = (size_t)n;
	if (len == sizeof(raw))
		return cli_error(CLI_EXIT_USAGE, "--token-file %s: longer than a token (%d characters at most)",
				 path, NT_TOKEN_MAX);
	if (len && raw[len - 1] == '\n')
		len--;
	if (len && raw[len - 1] == '\r')
		len--;
	if (!len)
		return cli_error(CLI_EXIT_USAGE, "--token-file %s: the file is empty", path);
	if (memchr(raw, '\n', len) || memchr(raw, '\r', len) || memchr(raw, '\0', len))
		return cli_error(CLI_EXIT_USAGE, "--token-file %s: not a single line", path);
	if (len > NT_TOKEN_MAX)
		return cli_error(CLI_EXIT_USAGE, "--token-file %s: longer than a token (%d characters at most)",
				 path, NT_TOKEN_MAX);
	memcpy(cli->token_buf, raw, len);
	cli->token_buf[len] = '\0';
	cli->opts.token = cli->token_buf;
	return 0;
}

int cli_token(struct cli *cli, const char *arg, const char *file)
{
	const char *env = getenv("NATTRAV_TOKEN");

	if (arg && file)
		return cli_error(CLI_EXIT_USAGE, "--token and --token-file exclude each other");
	if (file)
		return token_file(cli, file);
	if (arg) {
		cli->opts.token = arg;
		return 0;
	}
	if (!env)
		return 0; /* none: the caller reports the missing option */
	if (!*env)
		return cli_error(CLI_EXIT_USAGE, "NATTRAV_TOKEN is set but empty");
	if (strlen(env) > NT_TOKEN_MAX)
		return cli_error(CLI_EXIT_USAGE, "NATTRAV_TOKEN: longer than a token (%d characters at most)",
				 NT_TOKEN_MAX);
	cli->opts.token = env;
	return 0;
}
