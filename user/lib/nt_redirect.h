/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The redirect of a fleet (docs/protocol.md, "ERR 300"): "relay=HOST:PORT"
 * as the text of an ERR 300 to JOIN, naming the relay where the group
 * lives. A client dials it once with the same token; never a second one.
 */
#ifndef NT_REDIRECT_H
#define NT_REDIRECT_H

#include <stddef.h>
#include <stdint.h>

/* "HOST:PORT": a DNS name, IPv4 address or [IPv6], a port 1..65535 */
#define NT_REDIRECT_MAX 262

/*
 * The ERR 300 text into server ("HOST:PORT", room for NT_REDIRECT_MAX + 1).
 * Words after the first (" reason...") are ignored: later relays may
 * explain. 0, or -EINVAL when the text names no valid HOST:PORT.
 */
int nt_redirect_parse(const char *text, char *server, size_t cap);

/*
 * "HOST[:PORT]" (HOST a DNS name, IPv4 address or [IPv6]) into out as
 * "HOST:PORT", port defaulting to def. 0 or -EINVAL.
 */
int nt_fleet_hostport(const char *s, uint16_t def, char *out, size_t cap);

#endif /* NT_REDIRECT_H */
