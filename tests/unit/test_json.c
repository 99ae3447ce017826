// SPDX-License-Identifier: GPL-2.0
/* nt_json: structure, escaping, UTF-8, numbers; output checked by Python's parser too. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nt_json.h"

static char *buf;
static size_t buflen;
static FILE *mem;
static struct nt_json j;

static void start(void)
{
	mem = open_memstream(&buf, &buflen);
	cr_assert(mem);
	nt_json_begin(&j, mem);
}

/* Ends the document; returns what nt_json_end said, the text in buf. */
static int finish(void)
{
	int err = nt_json_end(&j);

	fclose(mem);
	return err;
}

static void teardown(void)
{
	free(buf);
	buf = NULL;
}

TestSuite(json, .fini = teardown);

/* The JSON text of one string value. */
static const char *str_of(const char *s, size_t len)
{
	start();
	nt_json_strn(&j, s, len);
	cr_assert_eq(finish(), 0);
	return buf;
}

Test(json, object_array_commas)
{
	start();
	nt_json_obj(&j);
	nt_json_kstr(&j, "a", "x");
	nt_json_ku64(&j, "n", 18446744073709551615ull);
	nt_json_ki64(&j, "m", -5);
	nt_json_key(&j, "l");
	nt_json_arr(&j);
	nt_json_u64(&j, 1);
	nt_json_obj(&j);
	nt_json_obj_end(&j);
	nt_json_arr(&j);
	nt_json_arr_end(&j);
	nt_json_str(&j, NULL);
	nt_json_arr_end(&j);
	nt_json_kbool(&j, "t", true);
	nt_json_kbool(&j, "f", false);
	nt_json_knull(&j, "z");
	nt_json_obj_end(&j);
	cr_assert_eq(finish(), 0);
	cr_assert_str_eq(buf, "{\"a\":\"x\",\"n\":18446744073709551615,\"m\":-5,"
			      "\"l\":[1,{},[],null],\"t\":true,\"f\":false,\"z\":null}\n");
}

Test(json, escapes_quote_backslash_controls)
{
	cr_assert_str_eq(str_of("a\"b\\c", 5), "\"a\\\"b\\\\c\"\n");
	cr_assert_str_eq(str_of("\b\f\n\r\t", 5), "\"\\b\\f\\n\\r\\t\"\n");
	cr_assert_str_eq(str_of("\x01\x1f\x7f", 3), "\"\\u0001\\u001f\\u007f\"\n");
	/* a NUL inside a counted string is a character like any other */
	cr_assert_str_eq(str_of("a\0b", 3), "\"a\\u0000b\"\n");
	/* '/' needs no escape; keys are escaped as values are */
	cr_assert_str_eq(str_of("/", 1), "\"/\"\n");
	start();
	nt_json_obj(&j);
	nt_json_kstr(&j, "k\"\n", "v");
	nt_json_obj_end(&j);
	cr_assert_eq(finish(), 0);
	cr_assert_str_eq(buf, "{\"k\\\"\\n\":\"v\"}\n");
}

Test(json, utf8_kept_invalid_replaced)
{
	/* é, €, 😀 pass through as they are */
	cr_assert_str_eq(str_of("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9),
			 "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"\n");
	/* a lone continuation byte, a truncated sequence, an overlong '/', a surrogate,
	 * a code point past U+10FFFF, and 0xff: each invalid byte is one U+FFFD */
	cr_assert_str_eq(str_of("\x80", 1), "\"\\ufffd\"\n");
	cr_assert_str_eq(str_of("\xc3", 1), "\"\\ufffd\"\n");
	cr_assert_str_eq(str_of("\xe2\x82x", 3), "\"\\ufffd\\ufffdx\"\n");
	cr_assert_str_eq(str_of("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"\n");
	cr_assert_str_eq(str_of("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"\n");
	cr_assert_str_eq(str_of("\xf4\x90\x80\x80", 4), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"\n");
	cr_assert_str_eq(str_of("\xff", 1), "\"\\ufffd\"\n");
	cr_assert_eq(nt_json_utf8_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
	cr_assert_eq(nt_json_utf8_len((const unsigned char *)"\xe0\x9f\x80", 3), 0);
}

Test(json, numbers)
{
	start();
	nt_json_arr(&j);
	nt_json_double(&j, 1.25, 1);
	nt_json_double(&j, -1.0 / 0.0, 1);
	nt_json_double(&j, nan(""), 3);
	nt_json_double(&j, 0.5, 99);
	nt_json_i64(&j, INT64_MIN);
	nt_json_arr_end(&j);
	cr_assert_eq(finish(), 0);
	cr_assert_str_eq(buf, "[1.2,null,null,0.500000000,-9223372036854775808]\n");
}

Test(json, misuse_reported)
{
	start();
	nt_json_obj(&j);
	cr_assert_eq(finish(), -EINVAL, "an object left open");
	free(buf);
	start();
	nt_json_arr_end(&j);
	cr_assert_eq(finish(), -EINVAL, "a close with nothing open");
	free(buf);
	start();
	nt_json_obj(&j);
	nt_json_key(&j, "k");
	nt_json_obj_end(&j);
	cr_assert_eq(finish(), -EINVAL, "a key without a value");
	free(buf);
	start();
	for (int i = 0; i < NT_JSON_DEPTH_MAX + 1; i++)
		nt_json_arr(&j);
	for (int i = 0; i < NT_JSON_DEPTH_MAX + 1; i++)
		nt_json_arr_end(&j);
	cr_assert_eq(finish(), -EINVAL, "nested deeper than NT_JSON_DEPTH_MAX");
}

Test(json, write_error_reported)
{
	FILE *full = fopen("/dev/full", "w");

	cr_assert(full);
	setvbuf(full, NULL, _IONBF, 0);
	nt_json_begin(&j, full);
	nt_json_obj(&j);
	nt_json_obj_end(&j);
	cr_assert_eq(nt_json_end(&j), -EIO);
	fclose(full);
}

/*
 * Random bytes, mostly the awkward ones, as keys and values: Python's json
 * module (a parser that is not ours) must read every document back, with
 * each valid string unchanged.
 */
Test(json, random_strings_parse_in_python)
{
	static const unsigned char pool[] = { '"', '\\', '\n', 0x01, 0x1f, 0x7f, 'a', ' ', 0xc3,
					      0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80,
					      0xff, 0xc0, 0xed, 0xa0, '/', '{', ':' };
	char path[] = "/tmp/nt-json-XXXXXX", cmd[256], s[40];
	int fd = mkstemp(path), rc;
	FILE *f;

	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	srand(7);
	for (int doc = 0; doc < 500; doc++) {
		size_t n = (size_t)(rand() % (int)sizeof(s));

		for (size_t i = 0; i < n; i++)
			s[i] = (char)pool[rand() % (int)sizeof(pool)];
		nt_json_begin(&j, f);
		nt_json_obj(&j);
		nt_json_key(&j, "k");
		nt_json_strn(&j, s, n);
		nt_json_kstr(&j, "plain", "\xc3\xa9\"\\\x01");
		nt_json_obj_end(&j);
		cr_assert_eq(nt_json_end(&j), 0);
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys\n"
		 "n = 0\n"
		 "for l in open(sys.argv[1], \"rb\"):\n"
		 "    d = json.loads(l.decode(\"utf-8\"))\n"
		 "    assert d[\"plain\"] == \"\\u00e9\\\"\\\\\\x01\", d\n"
		 "    n += 1\n"
		 "sys.exit(n != 500)' %s",
		 path);
	rc = system(cmd);
	unlink(path);
	cr_assert_eq(rc, 0, "python3 could not read every document back");
}
