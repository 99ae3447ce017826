/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The TLS control channel's line protocol (docs/protocol.md): one command
 * or reply per line, "\n" terminated ("\r\n" accepted), at most
 * NT_LINE_MAX bytes before the terminator, printable ASCII, tokens split by
 * single spaces. Parsers, formatters and an incremental reader usable on top
 * of SSL_read at both ends. No I/O here.
 *
 * Functions return 0 (or a length) on success, a negative errno otherwise.
 */
#ifndef NT_LINE_H
#define NT_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NT_LINE_MAX 512		/* bytes of a line, without "\r\n" */
#define NT_LINE_PROTO "nattrav/1"
#define NT_LINE_GROUP_MAX 64	/* characters of [A-Za-z0-9._-] */
#define NT_LINE_ARG_MAX 480	/* longest argument: a token (fits "AUTH " + it in NT_LINE_MAX) */
#define NT_LINE_KV_MAX 16	/* key=value fields kept per reply */

/* ERR codes, grouped like SMTP/HTTP. */
enum nt_line_code {
	NT_LINE_E_REDIRECT = 300,	/* the group lives on another relay: "relay=HOST:PORT" */
	NT_LINE_E_SYNTAX = 400,		/* bad syntax, bad argument */
	NT_LINE_E_UNAUTH = 401,		/* not authenticated (AUTH first) */
	NT_LINE_E_FORBIDDEN = 403,	/* token forged, address or group denied */
	NT_LINE_E_UNKNOWN = 404,	/* unknown command */
	NT_LINE_E_STATE = 409,		/* command not valid in this state */
	NT_LINE_E_TOO_LONG = 413,	/* line longer than NT_LINE_MAX */
	NT_LINE_E_EXPIRED = 419,	/* token expired */
	NT_LINE_E_LIMIT = 429,		/* rate, quota or capacity */
	NT_LINE_E_INTERNAL = 500,
	NT_LINE_E_UNAVAILABLE = 503,	/* shutting down */
};

enum nt_line_cmd_id {
	NT_CMD_HELLO = 1,	/* HELLO nattrav/1 */
	NT_CMD_AUTH,		/* AUTH <token> */
	NT_CMD_JOIN,		/* JOIN <group> */
	NT_CMD_LEAVE,
	NT_CMD_STATUS,
	NT_CMD_PING,
	NT_CMD_QUIT,
	NT_CMD_RESUME,		/* RESUME <ticket> */
};

struct nt_line_cmd {
	enum nt_line_cmd_id id;
	char arg[NT_LINE_ARG_MAX + 1];	/* HELLO version, AUTH token, JOIN group */
};

/* Why a line was refused: an ERR code and a static reason text. */
struct nt_line_err {
	int code;
	const char *reason;
};

/* Upper-case name of a command ("JOIN"), or NULL. */
const char *nt_line_cmd_name(enum nt_line_cmd_id id);

/* True when s is 1..NT_LINE_GROUP_MAX characters of [A-Za-z0-9._-]. */
bool nt_line_group_valid(const char *s);

/*
 * Parse one line (without its terminator; a trailing "\r" is tolerated).
 * Command words are case-insensitive. Returns 0, or -EINVAL (err->code 400),
 * -ENODATA for an empty line (400), -EOPNOTSUPP for an unknown command (404),
 * -EMSGSIZE when longer than NT_LINE_MAX (413). err may be NULL.
 */
int nt_line_parse_cmd(const char *line, size_t len, struct nt_line_cmd *cmd,
		      struct nt_line_err *err);

/* The ERR code for a negative errno from this module (500 for others). */
int nt_line_err_code(int err);

/* One key=value field: key [a-z0-9_-]+, value printable without spaces. */
struct nt_line_kv {
	const char *key;
	const char *val;
};

/*
 * Formatters: write one full line with "\n" into buf (NUL terminated) and
 * return its length; -EINVAL when a word, key or value would break the
 * syntax, -EMSGSIZE when the line would exceed NT_LINE_MAX, -ENOSPC when
 * buf is too small (NT_LINE_MAX + 2 is always enough).
 */
/* "OK <CMD> k=v ..." */
int nt_line_fmt_ok(char *buf, size_t cap, enum nt_line_cmd_id id,
		   const struct nt_line_kv *kv, size_t n);
/* "EVT <NAME> k=v ...", NAME upper-case letters */
int nt_line_fmt_evt(char *buf, size_t cap, const char *name,
		    const struct nt_line_kv *kv, size_t n);
/* "ERR <code> <reason>", reason printable, may contain single spaces */
int nt_line_fmt_err(char *buf, size_t cap, int code, const char *reason);
/* A command line, for the client: "JOIN room1"; arg NULL for none. */
int nt_line_fmt_cmd(char *buf, size_t cap, enum nt_line_cmd_id id,
		    const char *arg);

enum nt_line_reply_kind {
	NT_REPLY_OK = 1,
	NT_REPLY_ERR,
	NT_REPLY_EVT,
};

/* A parsed server line. kv and text point into store. */
struct nt_line_reply {
	enum nt_line_reply_kind kind;
	char word[16];		/* OK: command name; EVT: event name */
	int code;		/* ERR: 100..599 */
	const char *text;	/* ERR: reason text (may be empty) */
	struct nt_line_kv kv[NT_LINE_KV_MAX];
	size_t nkv;
	char store[NT_LINE_MAX + 1];
};

/*
 * Parse one server line (OK / ERR / EVT). -EINVAL on bad syntax, -E2BIG
 * when it has more than NT_LINE_KV_MAX fields, -EMSGSIZE when too long.
 */
int nt_line_parse_reply(const char *line, size_t len, struct nt_line_reply *r);

/* Value of key in a parsed reply, or NULL. */
const char *nt_line_reply_get(const struct nt_line_reply *r, const char *key);
/* Typed getters: -ENOENT when missing, -EINVAL when malformed. */
int nt_line_reply_u64(const struct nt_line_reply *r, const char *key,
		      uint64_t *out);	/* decimal */
int nt_line_reply_hex64(const struct nt_line_reply *r, const char *key,
			uint64_t *out);	/* exactly 16 hex digits */
int nt_line_reply_hexbytes(const struct nt_line_reply *r, const char *key,
			   uint8_t *out, size_t len); /* exactly 2*len hex digits */

/*
 * Incremental reader: feed what SSL_read returned, take complete lines out.
 *
 *	while (len) {
 *		rc = nt_line_reader_feed(&rd, p, len, &used, &line, &llen);
 *		p += used, len -= used;
 *		if (rc == 1) handle(line, llen);
 *		else if (rc == -EMSGSIZE) reply ERR 413;
 *	}
 *
 * Returns 1 with a line (NUL terminated, "\r\n" stripped, valid until the
 * next feed), 0 when all input was used without completing a line, or
 * -EMSGSIZE once per overlong line: the rest of that line, up to its "\n",
 * is discarded. *used always says how many input bytes were taken.
 */
struct nt_line_reader {
	char buf[NT_LINE_MAX + 2];	/* line, a possible "\r", NUL */
	size_t len;
	bool discarding;
	bool ready;			/* buf holds a returned line */
};

void nt_line_reader_init(struct nt_line_reader *rd);
int nt_line_reader_feed(struct nt_line_reader *rd, const void *data,
			size_t len, size_t *used, const char **line,
			size_t *line_len);
/* Bytes of a partial line waiting for its "\n" (0 when discarding). */
size_t nt_line_reader_pending(const struct nt_line_reader *rd);

#endif /* NT_LINE_H */
