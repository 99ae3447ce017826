// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Control channel lines: parse commands and replies, format them, and cut
 * a TLS byte stream into lines. Everything is bounded by NT_LINE_MAX, so a
 * peer can make us hold at most one line per connection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nt_line.h"

static const char *const cmd_names[] = {
	[NT_CMD_HELLO] = "HELLO", [NT_CMD_AUTH] = "AUTH",
	[NT_CMD_JOIN] = "JOIN",   [NT_CMD_LEAVE] = "LEAVE",
	[NT_CMD_STATUS] = "STATUS", [NT_CMD_PING] = "PING",
	[NT_CMD_QUIT] = "QUIT",   [NT_CMD_RESUME] = "RESUME",
};

#define NCMDS (sizeof(cmd_names) / sizeof(cmd_names[0]))

const char *nt_line_cmd_name(enum nt_line_cmd_id id)
{
	return (unsigned int)id < NCMDS ? cmd_names[id] : NULL;
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* Non-empty words split by single spaces: no leading, trailing or double. */
static bool single_spaced(const char *s, size_t n)
{
	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (size_t i = 1; i < n; i++)
		if (s[i] == ' ' && s[i - 1] == ' ')
			return false;
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool group_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
	       c == '.' || c == '_' || c == '-';
}

static bool group_ok(const char *s, size_t n)
{
	if (n == 0 || n > NT_LINE_GROUP_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!group_char(s[i]))
			return false;
	return true;
}

bool nt_line_group_valid(const char *s)
{
	return s && group_ok(s, strnlen(s, NT_LINE_GROUP_MAX + 1));
}

/* "nattrav/" and a version of 1..3 digits without leading zero. */
static bool hello_ok(const char *s, size_t n)
{
	static const char pre[] = "nattrav/";
	size_t p = sizeof(pre) - 1;

	if (n <= p || n > p + 3 || memcmp(s, pre, p) || s[p] == '0')
		return false;
	for (size_t i = p; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

static int fail(struct nt_line_err *err, int rc, int code, const char *why)
{
	if (err) {
		err->code = code;
		err->reason = why;
	}
	return rc;
}

int nt_line_err_code(int err)
{
	switch (err) {
	case -EINVAL:
	case -ENODATA:
		return NT_LINE_E_SYNTAX;
	case -EOPNOTSUPP:
		return NT_LINE_E_UNKNOWN;
	case -EMSGSIZE:
		return NT_LINE_E_TOO_LONG;
	}
	return NT_LINE_E_INTERNAL;
}

int nt_line_parse_cmd(const char *line, size_t len, struct nt_line_cmd *cmd,
		      struct nt_line_err *err)
{
	const char *sp, *arg = NULL;
	size_t wlen, alen = 0;
	unsigned int id;

	memset(cmd, 0, sizeof(*cmd));
	if (len && line[len - 1] == '\r')
		len--;
	if (len > NT_LINE_MAX)
		return fail(err, -EMSGSIZE, NT_LINE_E_TOO_LONG, "line too long");
	if (len == 0)
		return fail(err, -ENODATA, NT_LINE_E_SYNTAX, "empty line");
	if (!printable(line, len))
		return fail(err, -EINVAL, NT_LINE_E_SYNTAX, "non-printable byte");
	if (!single_spaced(line, len))
		return fail(err, -EINVAL, NT_LINE_E_SYNTAX,
			    "words must be separated by single spaces");
	sp = memchr(line, ' ', len);
	wlen = sp ? (size_t)(sp - line) : len;
	if (sp) {
		arg = sp + 1;
		alen = len - wlen - 1;
	}
	for (id = 1; id < NCMDS; id++)
		if (strlen(cmd_names[id]) == wlen &&
		    !strncasecmp(line, cmd_names[id], wlen))
			break;
	if (id == NCMDS)
		return fail(err, -EOPNOTSUPP, NT_LINE_E_UNKNOWN, "unknown command");
	cmd->id = id;

	switch (cmd->id) {
	case NT_CMD_HELLO:
		if (!arg || memchr(arg, ' ', alen) || !hello_ok(arg, alen))
			return fail(err, -EINVAL, NT_LINE_E_SYNTAX,
				    "usage: HELLO nattrav/1");
		break;
	case NT_CMD_AUTH:
		if (!arg || memchr(arg, ' ', alen))
			return fail(err, -EINVAL, NT_LINE_E_SYNTAX,
				    "usage: AUTH <token>");
		if (alen > NT_LINE_ARG_MAX)
			return fail(err, -EINVAL, NT_LINE_E_SYNTAX, "token too long");
		break;
	case NT_CMD_RESUME:
		if (!arg || memchr(arg, ' ', alen))
			return fail(err, -EINVAL, NT_LINE_E_SYNTAX,
				    "usage: RESUME <ticket>");
		if (alen > NT_LINE_ARG_MAX)
			return fail(err, -EINVAL, NT_LINE_E_SYNTAX, "ticket too long");
		break;
	case NT_CMD_JOIN:
		if (!arg || memchr(arg, ' ', alen))
			return fail(err, -EINVAL, NT_LINE_E_SYNTAX,
				    "usage: JOIN <group>");
		if (!group_ok(arg, alen))
			return fail(err, -EINVAL, NT_LINE_E_SYNTAX,
				    "group: 1-64 of A-Z a-z 0-9 . _ -");
		break;
	default:
		if (arg)
			return fail(err, -EINVAL, NT_LINE_E_SYNTAX,
				    "command takes no argument");
		return 0;
	}
	memcpy(cmd->arg, arg, alen);
	cmd->arg[alen] = '\0';
	return 0;
}

/* Formatting: append into a line that may never pass NT_LINE_MAX. */
struct out {
	char line[NT_LINE_MAX + 1];
	size_t len;
	int err;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (n > NT_LINE_MAX - o->len) {
		o->err = -EMSGSIZE;
		return;
	}
	memcpy(o->line + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static int finish(struct out *o, char *buf, size_t cap)
{
	if (o->err)
		return o->err;
	if (cap < o->len + 2)
		return -ENOSPC;
	memcpy(buf, o->line, o->len);
	buf[o->len] = '\n';
	buf[o->len + 1] = '\0';
	return (int)o->len + 1;
}

static bool key_ok(const char *k)
{
	size_t n = strnlen(k, NT_LINE_MAX + 1);

	if (n == 0 || n > NT_LINE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || is_digit(k[i]) ||
		      k[i] == '_' || k[i] == '-'))
			return false;
	return true;
}

static bool word_ok(const char *v)
{
	size_t n = strnlen(v, NT_LINE_MAX + 1);

	return n && n <= NT_LINE_MAX && printable(v, n) && !memchr(v, ' ', n);
}

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

static int fmt_fields(char *buf, size_t cap, const char *kind,
		      const char *name, const struct nt_line_kv *kv, size_t n)
{
	struct out o = { .len = 0 };

	if (!name || !name_ok(name, strlen(name)) || (n && !kv))
		return -EINVAL;
	puts_(&o, kind);
	puts_(&o, " ");
	puts_(&o, name);
	for (size_t i = 0; i < n; i++) {
		if (!kv[i].key || !kv[i].val || !key_ok(kv[i].key) ||
		    !word_ok(kv[i].val))
			return -EINVAL;
		puts_(&o, " ");
		puts_(&o, kv[i].key);
		puts_(&o, "=");
		puts_(&o, kv[i].val);
	}
	return finish(&o, buf, cap);
}

int nt_line_fmt_ok(char *buf, size_t cap, enum nt_line_cmd_id id,
		   const struct nt_line_kv *kv, size_t n)
{
	return fmt_fields(buf, cap, "OK", nt_line_cmd_name(id), kv, n);
}

int nt_line_fmt_evt(char *buf, size_t cap, const char *name,
		    const struct nt_line_kv *kv, size_t n)
{
	return fmt_fields(buf, cap, "EVT", name, kv, n);
}

int nt_line_fmt_err(char *buf, size_t cap, int code, const char *reason)
{
	struct out o = { .len = 0 };
	char num[8];
	size_t n;

	if (code < 100 || code > 599 || !reason)
		return -EINVAL;
	n = strnlen(reason, NT_LINE_MAX + 1);
	if (n && (!printable(reason, n) || !single_spaced(reason, n)))
		return -EINVAL;
	snprintf(num, sizeof(num), "%d", code);
	puts_(&o, "ERR ");
	puts_(&o, num);
	if (n) {
		puts_(&o, " ");
		put(&o, reason, n);
	}
	return finish(&o, buf, cap);
}

int nt_line_fmt_cmd(char *buf, size_t cap, enum nt_line_cmd_id id,
		    const char *arg)
{
	struct out o = { .len = 0 };
	const char *name = nt_line_cmd_name(id);

	if (!name || (arg && !word_ok(arg)))
		return -EINVAL;
	puts_(&o, name);
	if (arg) {
		puts_(&o, " ");
		puts_(&o, arg);
	}
	return finish(&o, buf, cap);
}

/* Split "k=v k=v" (already single-spaced) into r->kv, in place in r->store. */
static int split_fields(struct nt_line_reply *r, char *s)
{
	while (s && *s) {
		char *sp = strchr(s, ' '), *eq;

		if (sp)
			*sp = '\0';
		eq = strchr(s, '=');
		if (!eq || eq == s || !eq[1])
			return -EINVAL;
		*eq = '\0';
		if (!key_ok(s))
			return -EINVAL;
		if (r->nkv == NT_LINE_KV_MAX)
			return -E2BIG;
		r->kv[r->nkv].key = s;
		r->kv[r->nkv].val = eq + 1;
		r->nkv++;
		s = sp ? sp + 1 : NULL;
	}
	return 0;
}

int nt_line_parse_reply(const char *line, size_t len, struct nt_line_reply *r)
{
	char *s = r->store, *sp;
	size_t wl;

	memset(r, 0, sizeof(*r));
	r->text = "";
	if (len && line[len - 1] == '\r')
		len--;
	if (len > NT_LINE_MAX)
		return -EMSGSIZE;
	if (!printable(line, len))
		return -EINVAL;
	memcpy(s, line, len);
	s[len] = '\0';

	if (len >= 4 && !memcmp(s, "ERR ", 4)) {
		/* "ERR ddd" or "ERR ddd reason text" */
		if (len < 7 || !is_digit(s[4]) || !is_digit(s[5]) ||
		    !is_digit(s[6]) || (len > 7 && s[7] != ' ') || s[4] < '1' ||
		    s[4] > '5')
			return -EINVAL;
		r->kind = NT_REPLY_ERR;
		r->code = (s[4] - '0') * 100 + (s[5] - '0') * 10 + (s[6] - '0');
		r->text = len > 8 ? s + 8 : "";
		return 0;
	}
	if (!single_spaced(s, len))
		return -EINVAL;
	if (len >= 3 && !memcmp(s, "OK ", 3))
		r->kind = NT_REPLY_OK, s += 3;
	else if (len >= 4 && !memcmp(s, "EVT ", 4))
		r->kind = NT_REPLY_EVT, s += 4;
	else
		return -EINVAL;
	sp = strchr(s, ' ');
	wl = sp ? (size_t)(sp - s) : strlen(s);
	if (!name_ok(s, wl))
		return -EINVAL;
	memcpy(r->word, s, wl);
	r->word[wl] = '\0';
	return split_fields(r, sp ? sp + 1 : NULL);
}

const char *nt_line_reply_get(const struct nt_line_reply *r, const char *key)
{
	for (size_t i = 0; i < r->nkv; i++)
		if (!strcmp(r->kv[i].key, key))
			return r->kv[i].val;
	return NULL;
}

int nt_line_reply_u64(const struct nt_line_reply *r, const char *key,
		      uint64_t *out)
{
	const char *v = nt_line_reply_get(r, key);
	uint64_t x = 0;
	size_t n;

	if (!v)
		return -ENOENT;
	n = strlen(v);
	if (n == 0 || n > 20 || (n > 1 && v[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned int d = (unsigned char)v[i] - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int nt_line_reply_hexbytes(const struct nt_line_reply *r, const char *key,
			   uint8_t *out, size_t len)
{
	const char *v = nt_line_reply_get(r, key);

	if (!v)
		return -ENOENT;
	if (strlen(v) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int nt_line_reply_hex64(const struct nt_line_reply *r, const char *key,
			uint64_t *out)
{
	uint8_t b[8];
	int err = nt_line_reply_hexbytes(r, key, b, sizeof(b));

	if (err)
		return err;
	*out = 0;
	for (int i = 0; i < 8; i++)
		*out = *out << 8 | b[i];
	return 0;
}

void nt_line_reader_init(struct nt_line_reader *rd)
{
	memset(rd, 0, sizeof(*rd));
}

size_t nt_line_reader_pending(const struct nt_line_reader *rd)
{
	return rd->ready || rd->discarding ? 0 : rd->len;
}

int nt_line_reader_feed(struct nt_line_reader *rd, const void *data,
			size_t len, size_t *used, const char **line,
			size_t *line_len)
{
	const char *p = data;

	if (rd->ready) {
		rd->ready = false;
		rd->len = 0;
	}
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (rd->discarding) {
			if (c == '\n')
				rd->discarding = false;
			continue;
		}
		if (c == '\n') {
			size_t n = rd->len;

			*used = i + 1;
			if (n && rd->buf[n - 1] == '\r')
				n--;
			if (n > NT_LINE_MAX) {
				rd->len = 0;
				return -EMSGSIZE;
			}
			rd->buf[n] = '\0';
			rd->ready = true;
			*line = rd->buf;
			*line_len = n;
			return 1;
		}
		/* room for NT_LINE_MAX bytes and a "\r" that may end them */
		if (rd->len == NT_LINE_MAX + 1) {
			rd->discarding = true;
			rd->len = 0;
			*used = i + 1;
			return -EMSGSIZE;
		}
		rd->buf[rd->len++] = c;
	}
	*used = len;
	return 0;
}
