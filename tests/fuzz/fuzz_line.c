// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the TLS control channel, byte stream to lines to
 * commands (server side) and replies (client side). The first byte picks
 * the chunk size the stream is fed in, as TLS records would split it.
 */
#include <stdint.h>
#include <string.h>
#include "nt_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nt_line_reader rd;
	struct nt_line_cmd cmd;
	struct nt_line_err err;
	static struct nt_line_reply reply;
	size_t chunk, off = 1;
	uint64_t u;
	uint8_t bytes[32];

	if (!size)
		return 0;
	chunk = 1 + data[0] % 64;
	nt_line_reader_init(&rd);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk, used = 0;

		while (n) {
			const char *line;
			size_t line_len;
			int r = nt_line_reader_feed(&rd, data + off, n, &used, &line, &line_len);

			if (used > n)
				__builtin_trap();
			off += used;
			n -= used;
			if (r == 1) {
				(void)nt_line_parse_cmd(line, line_len, &cmd, &err);
				if (nt_line_parse_reply(line, line_len, &reply) == 0) {
					(void)nt_line_reply_get(&reply, "session");
					(void)nt_line_reply_u64(&reply, "consent", &u);
					(void)nt_line_reply_hex64(&reply, "session", &u);
					(void)nt_line_reply_hexbytes(&reply, "key", bytes, sizeof(bytes));
				}
			} else if (!used) {
				break;
			}
		}
		if (n)
			off += n;
	}
	return 0;
}
