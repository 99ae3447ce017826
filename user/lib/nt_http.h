/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The request head of a minimal HTTP/1.x responder (nattravd's /metrics):
 * GET only, one request per connection, bounded size. Parsing only.
 */
#ifndef NT_HTTP_H
#define NT_HTTP_H

#include <stddef.h>

#define NT_HTTP_REQ_MAX 4096	/* request line and headers */
#define NT_HTTP_PATH_MAX 256

/*
 * Look at the first len bytes received. Returns 1 when the head is complete
 * and acceptable (path gets the target without its query string), 0 when
 * more bytes are needed, -1 when the request must be refused: *status then
 * says how (400 malformed, 405 not GET, 414 target too long, 431 head larger
 * than NT_HTTP_REQ_MAX, 505 not HTTP/1.x).
 */
int nt_http_parse(const char *buf, size_t len, char path[NT_HTTP_PATH_MAX], int *status);

/* Reason phrase of the statuses above and 200, 404, 500, 503. */
const char *nt_http_reason(int status);

#endif /* NT_HTTP_H */
