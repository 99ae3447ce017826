/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One JSON document written to a stdio stream: objects, arrays, keys and
 * values, commas and escaping done here, so no caller prints a brace or a
 * quote itself. Strings are escaped per RFC 8259 (quote, backslash, every
 * control character); bytes that are not valid UTF-8 become U+FFFD, so the
 * output parses whatever a name or a peer's message holds. A number that
 * is not finite is written as null.
 *
 *	struct nt_json j;
 *
 *	nt_json_begin(&j, stdout);
 *	nt_json_obj(&j);
 *	nt_json_kstr(&j, "user", user);
 *	nt_json_ku64(&j, "ttl", ttl);
 *	nt_json_obj_end(&j);
 *	err = nt_json_end(&j);	// "\n", flush; -EIO on a write error
 */
#ifndef NT_JSON_H
#define NT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NT_JSON_DEPTH_MAX 16

struct nt_json {
	FILE *f;
	unsigned depth;
	bool nonempty[NT_JSON_DEPTH_MAX + 1];	/* a member was written at this depth */
	bool after_key;		/* the next value follows "key": without a comma */
	bool bad;		/* nesting misused: nt_json_end returns -EINVAL */
};

void nt_json_begin(struct nt_json *j, FILE *f);
/* Ends the document with "\n" and flushes: 0, -EINVAL (unbalanced), -EIO. */
int nt_json_end(struct nt_json *j);

void nt_json_obj(struct nt_json *j);
void nt_json_obj_end(struct nt_json *j);
void nt_json_arr(struct nt_json *j);
void nt_json_arr_end(struct nt_json *j);
void nt_json_key(struct nt_json *j, const char *key);

/* Values; s == NULL writes null. */
void nt_json_str(struct nt_json *j, const char *s);
void nt_json_strn(struct nt_json *j, const char *s, size_t len);
void nt_json_u64(struct nt_json *j, uint64_t v);
void nt_json_i64(struct nt_json *j, int64_t v);
/* decimals: digits after the point, 0..9 */
void nt_json_double(struct nt_json *j, double v, int decimals);
void nt_json_bool(struct nt_json *j, bool v);
void nt_json_null(struct nt_json *j);

/* "key": value in one call. */
void nt_json_kstr(struct nt_json *j, const char *key, const char *s);
void nt_json_ku64(struct nt_json *j, const char *key, uint64_t v);
void nt_json_ki64(struct nt_json *j, const char *key, int64_t v);
void nt_json_kdouble(struct nt_json *j, const char *key, double v, int decimals);
void nt_json_kbool(struct nt_json *j, const char *key, bool v);
void nt_json_knull(struct nt_json *j, const char *key);

/* How many bytes of s (at most len) form one valid UTF-8 character: 1..4, or 0. */
size_t nt_json_utf8_len(const unsigned char *s, size_t len);

#endif /* NT_JSON_H */
