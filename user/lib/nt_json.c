// SPDX-License-Identifier: GPL-2.0
/* A JSON writer with escaping (nt_json.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include "nt_json.h"

void nt_json_begin(struct nt_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* The comma before a member or an element, unless it is the first or follows a key. */
static void sep(struct nt_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->nonempty[j->depth])
		fputc(',', j->f);
	j->nonempty[j->depth] = true;
}

static void json_open(struct nt_json *j, char c)
{
	sep(j);
	fputc(c, j->f);
	if (j->depth >= NT_JSON_DEPTH_MAX) {
		j->bad = true;
		return;
	}
	j->nonempty[++j->depth] = false;
}

static void json_close(struct nt_json *j, char c)
{
	if (!j->depth || j->after_key)
		j->bad = true;
	else
		j->depth--;
	fputc(c, j->f);
}

void nt_json_obj(struct nt_json *j)
{
	json_open(j, '{');
}

void nt_json_obj_end(struct nt_json *j)
{
	json_close(j, '}');
}

void nt_json_arr(struct nt_json *j)
{
	json_open(j, '[');
}

void nt_json_arr_end(struct nt_json *j)
{
	json_close(j, ']');
}

size_t nt_json_utf8_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;	/* continuation byte, overlong lead (c0, c1), or past U+10FFFF */
	/* the second byte's range rules out overlong forms, surrogates and > U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void put_str(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	fputc('"', f);
	while (i < len) {
		unsigned char c = s[i];

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			/* DEL too: valid JSON raw, but a terminal control character */
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
				break;
			}
			n = nt_json_utf8_len(s + i, len - i);
			if (!n) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(s + i, 1, n, f);
			i += n;
			continue;
		}
		i++;
	}
	fputc('"', f);
}

void nt_json_key(struct nt_json *j, const char *key)
{
	if (j->after_key)
		j->bad = true;
	sep(j);
	put_str(j->f, key ? key : "", key ? strlen(key) : 0);
	fputc(':', j->f);
	j->after_key = true;
}

void nt_json_strn(struct nt_json *j, const char *s, size_t len)
{
	if (!s)
		return nt_json_null(j);
	sep(j);
	put_str(j->f, s, len);
}

void nt_json_str(struct nt_json *j, const char *s)
{
	nt_json_strn(j, s, s ? strlen(s) : 0);
}

void nt_json_u64(struct nt_json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void nt_json_i64(struct nt_json *j, int64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void nt_json_double(struct nt_json *j, double v, int decimals)
{
	if (!isfinite(v))
		return nt_json_null(j);
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	sep(j);
	/* -0.0 prints as "-0.0", which parses; %.*f never gives an exponent */
	fprintf(j->f, "%.*f", decimals, v);
}

void nt_json_bool(struct nt_json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void nt_json_null(struct nt_json *j)
{
	sep(j);
	fputs("null", j->f);
}

void nt_json_kstr(struct nt_json *j, const char *key, const char *s)
{
	nt_json_key(j, key);
	nt_json_str(j, s);
}

void nt_json_ku64(struct nt_json *j, const char *key, uint64_t v)
{
	nt_json_key(j, key);
	nt_json_u64(j, v);
}

void nt_json_ki64(struct nt_json *j, const char *key, int64_t v)
{
	nt_json_key(j, key);
	nt_json_i64(j, v);
}

void nt_json_kdouble(struct nt_json *j, const char *key, double v, int decimals)
{
	nt_json_key(j, key);
	nt_json_double(j, v, decimals);
}

void nt_json_kbool(struct nt_json *j, const char *key, bool v)
{
	nt_json_key(j, key);
	nt_json_bool(j, v);
}

void nt_json_knull(struct nt_json *j, const char *key)
{
	nt_json_key(j, key);
	nt_json_null(j);
}

int nt_json_end(struct nt_json *j)
{
	fputc('\n', j->f);
	if (fflush(j->f) || ferror(j->f))
		return -EIO;
	return j->bad || j->depth || j->after_key ? -EINVAL : 0;
}
