/* SPDX-License-Identifier: GPL-2.0 */
/* nattrav-client: options, the run loop and its output. */
#ifndef NT_CLI_H
#define NT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include "nattrav_client.h"
#include "nt_token.h"

/* Exit codes: 0 ok, 1 the operation failed, 2 bad usage. */
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct cli {
	struct nt_client_opts opts;
	uint64_t send;		/* packets to send */
	uint32_t rate;		/* packets per second */
	uint32_t size;		/* bytes per packet */
	uint64_t duration_ms;	/* 0: until sent + drained (or a signal) */
	uint64_t wait_ms;	/* drain: quiet time after the last packet */
	uint64_t wait_peer_ms;	/* 0: send at once; else once another member is verified */
	uint64_t leave_ms;	/* 0: never; else LEAVE this long after verified */
	uint64_t verify_ms;
	bool json;
	char token_buf[NT_TOKEN_MAX + 1];	/* --token-file's token */
};

/*
 * opts.token from --token (arg), --token-file (file) or else NATTRAV_TOKEN;
 * left NULL when none is given. 0, or the exit code after an error line.
 */
int cli_token(struct cli *cli, const char *arg, const char *file);

/* Connect, verify, send and count; returns the exit code. */
int cli_run(const struct cli *cli);

/* An error line on stderr "nattrav-client: ..."; returns code. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* NT_CLI_H */
