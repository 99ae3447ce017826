// SPDX-License-Identifier: GPL-2.0
/* Refused datagrams counted by reason and source, summed into one log line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "nt_endpoint.h"
#include "nt_refusal.h"

static const char *const names[NT_REF_MAX] = {
	[NT_REF_MALFORMED] = "malformed",
	[NT_REF_NOT_REQUEST] = "not a request",
	[NT_REF_UNKNOWN_SESSION] = "unknown session",
	[NT_REF_BAD_MAC] = "bad mac",
	[NT_REF_REPLAY] = "replayed",
	[NT_REF_STALE] = "stale answer",
	[NT_REF_ADDRESS] = "wrong address",
	[NT_REF_DENIED] = "address denied",
	[NT_REF_RATE] = "over rate",
};

const char *nt_refusal_name(enum nt_refusal_reason r)
{
	return (unsigned int)r < NT_REF_MAX ? names[r] : "?";
}

void nt_refusal_note(struct nt_refusals *rf, enum nt_refusal_reason r, const uint8_t addr[16])
{
	uint32_t i;

	if ((unsigned int)r >= NT_REF_MAX)
		return;
	rf->n[r]++;
	rf->total++;
	for (i = 0; i < rf->nsrc; i++)
		if (!memcmp(rf->src[i].addr, addr, 16))
			break;
	if (i == rf->nsrc) {
		if (rf->nsrc == NT_REFUSAL_SOURCES) {
			rf->untracked++;
			return;
		}
		memcpy(rf->src[rf->nsrc++].addr, addr, 16);
	}
	rf->src[i].n++;
}

/* snprintf that never moves past cap. */
static size_t add(char *buf, size_t cap, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t add(char *buf, size_t cap, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (off + 1 >= cap)
		return off;
	va_start(ap, fmt);
	n = vsnprintf(buf + off, cap - off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return off;
	return off + (size_t)n < cap ? off + (size_t)n : cap - 1;
}

size_t nt_refusal_flush(struct nt_refusals *rf, unsigned int secs, char *buf, size_t cap)
{
	struct nt_endpoint top = { .family = NT_FAMILY_V6 };
	char topstr[NT_ENDPOINT_STRLEN], *colon;
	uint64_t topn = 0;
	size_t off = 0;
	const char *sep = "";

	if (!cap)
		return 0;
	buf[0] = '\0';
	if (!rf->total) {
		memset(rf, 0, sizeof(*rf));
		return 0;
	}
	off = add(buf, cap, off, "udp: refused %llu datagram%s from %s%u source%s in the last %us (",
		  (unsigned long long)rf->total, rf->total == 1 ? "" : "s",
		  rf->untracked ? "more than " : "", rf->nsrc, rf->nsrc == 1 ? "" : "s", secs);
	for (int r = 0; r < NT_REF_MAX; r++) {
		if (!rf->n[r])
			continue;
		off = add(buf, cap, off, "%s%s: %llu", sep, names[r], (unsigned long long)rf->n[r]);
		sep = ", ";
	}
	for (uint32_t i = 0; i < rf->nsrc; i++)
		if (rf->src[i].n > topn) {
			topn = rf->src[i].n;
			memcpy(top.addr, rf->src[i].addr, 16);
		}
	if (!memcmp(top.addr, (const uint8_t[12]){ [10] = 0xff, [11] = 0xff }, 12))
		top.family = NT_FAMILY_V4;
	nt_endpoint_format(&top, topstr, sizeof(topstr));
	/* the port means nothing here: the table ignores it */
	colon = strrchr(topstr, ':');
	if (colon)
		*colon = '\0';
	off = add(buf, cap, off, "; top source %s: %llu)", topstr, (unsigned long long)topn);
	memset(rf, 0, sizeof(*rf));
	return off;
}
