// SPDX-License-Identifier: GPL-2.0
/*
 * STUN Binding (RFC 8489) on the media port: any client, a browser's ICE
 * agent as much as nattrav's own, learns the address and port its NAT gave
 * it. The answer is 20 to 32 bytes longer than the smallest request (the
 * standard's own shape), so it shares the per-address reply rate of
 * nattrav's control replies: a spoofed flood reflects at most that rate.
 */
#include <errno.h>
#include <string.h>
#include "nattravd.h"
#include "nt_endpoint.h"
#include "nt_log.h"
#include "nt_stun.h"

/* The header's type names the Binding method, whatever its class (RFC 8489 5). */
static bool is_binding(const uint8_t *buf, size_t len)
{
	return len >= 2 && ((buf[0] << 8 | buf[1]) & 0x3eef) == NT_STUN_METHOD_BINDING;
}

/* TURN's methods (RFC 8656 18); nattrav's own (0x0E1..) are not among them. */
static bool turn_input(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
		       const uint8_t *buf, size_t len)
{
	struct nt_stun_msg m;
	uint16_t method = (uint16_t)((buf[0] << 8 | buf[1]) & 0x3eef);

	if (method != ND_TURN_METHOD_ALLOCATE && method != ND_TURN_METHOD_REFRESH &&
	    method != ND_TURN_METHOD_SEND && method != ND_TURN_METHOD_CREATE_PERMISSION &&
	    method != ND_TURN_METHOD_CHANNEL_BIND)
		return false;
	if (nt_stun_parse(buf, len, &m)) {
		d->cnt.stun_binding[ND_STUN_MALFORMED]++;
		return true;
	}
	nd_turn_input(d, h, src, buf, len, &m);
	return true;
}

bool nd_stun_input(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
		   const uint8_t *buf, size_t len)
{
	uint8_t out[NT_STUN_MAX];
	char a[NT_ENDPOINT_STRLEN];
	int n;

	if (!is_binding(buf, len))
		return d->turn ? turn_input(d, h, src, buf, len) : false;
	n = nt_stun_binding_answer(buf, len, src, out, sizeof(out));
	if (n == -ENOMSG) {
		/* an indication (a client's keepalive) or a response: nothing owed */
		d->cnt.stun_binding[ND_STUN_IGNORED]++;
		return true;
	}
	if (n < 0) {
		d->cnt.stun_binding[ND_STUN_MALFORMED]++;
		nt_dbg("STUN Binding from %s dropped: %s", nt_endpoint_format(src, a, sizeof(a)),
		       strerror(-n));
		return true;
	}
	if (!nt_ratelimit_allow(d->replies, src->addr, nd_now_ns())) {
		d->cnt.stun_binding[ND_STUN_LIMITED]++;
		return true;
	}
	d->cnt.stun_binding[out[1] == 0x11 ? ND_STUN_REFUSED : ND_STUN_ANSWERED]++;
	nd_media_send(d, h, src, out, (size_t)n);
	return true;
}
