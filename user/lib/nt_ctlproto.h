/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nattravd's local control socket (docs/protocol.md section 6): one request
 * line, one reply line, then the daemon closes. Parsing only, no state.
 */
#ifndef NT_CTLPROTO_H
#define NT_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"

#define NT_CTL_SOCKET_DEFAULT "/run/nattrav/nattravd.sock"
#define NT_CTL_LINE_MAX 256	/* request bytes before "\n" */
#define NT_CTL_REPLY_MAX 1024	/* reply bytes, "\n" included */

enum nt_ctl_cmd { NT_CTL_STATUS, NT_CTL_KICK_MAPPING, NT_CTL_KICK_SESSION, NT_CTL_DRAIN, NT_CTL_TURN };

/* DRAIN: what to do with the relay's drain switch */
enum nt_ctl_drain { NT_CTL_DRAIN_SHOW, NT_CTL_DRAIN_ON, NT_CTL_DRAIN_OFF };

struct nt_ctl_req {
	enum nt_ctl_cmd cmd;
	struct nt_endpoint ep;	/* KICK MAPPING */
	uint64_t session;	/* KICK SESSION, never 0 */
	enum nt_ctl_drain drain;	/* DRAIN [ON|OFF] */
	uint32_t from;		/* TURN [FROM n]: the first allocation slot to report */
};

/*
 * Parse one request line (without "\n"; a trailing "\r" is accepted).
 * Command words are case-insensitive. Returns 0, or -EINVAL with *why
 * (may be NULL) saying what is wrong.
 */
int nt_ctl_parse(const char *line, size_t len, struct nt_ctl_req *r, const char **why);

/*
 * "ADDR:PORT", "[V6]:PORT" or just "PORT" (then 127.0.0.1): a TCP listen
 * address for --metrics. 0 or -EINVAL.
 */
int nt_listen_addr_parse(const char *s, struct nt_endpoint *ep);

#endif /* NT_CTLPROTO_H */
