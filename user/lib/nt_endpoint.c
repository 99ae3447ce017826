// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nt_endpoint.h"

static const __u8 v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void set_v4(struct nt_endpoint *ep, const void *a4)
{
	memcpy(ep->addr, v4mapped_prefix, sizeof(v4mapped_prefix));
	memcpy(ep->addr + 12, a4, 4);
	ep->family = NT_FAMILY_V4;
}

/* Strict decimal port 1..65535: no sign, no spaces, no leading junk. */
static int parse_port(const char *s, __u16 *port)
{
	unsigned long v;
	char *end;

	if (!*s || *s < '0' || *s > '9' || strlen(s) > 5)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > 65535)
		return -EINVAL;
	*port = (__u16)v;
	return 0;
}

int nt_endpoint_parse(const char *s, struct nt_endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon;
	size_t hlen;
	__u8 a6[16];

	memset(ep, 0, sizeof(*ep));
	if (!s)
		return -EINVAL;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, a6) != 1)
			return -EINVAL;
		/* One canonical form: an IPv4-mapped IPv6 address is IPv4. */
		if (!memcmp(a6, v4mapped_prefix, sizeof(v4mapped_prefix)))
			set_v4(ep, a6 + 12);
		else {
			memcpy(ep->addr, a6, 16);
			ep->family = NT_FAMILY_V6;
		}
		return parse_port(close + 2, &ep->port);
	}
	colon = strchr(s, ':');
	if (!colon || strchr(colon + 1, ':'))
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, a6) != 1)
		return -EINVAL;
	set_v4(ep, a6);
	return parse_port(colon + 1, &ep->port);
}

char *nt_endpoint_format(const struct nt_endpoint *ep, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ep->family == NT_FAMILY_V4) {
		inet_ntop(AF_INET, ep->addr + 12, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ep->port);
	} else if (ep->family == NT_FAMILY_V6) {
		inet_ntop(AF_INET6, ep->addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ep->port);
	} else {
		snprintf(buf, len, "?family%u", ep->family);
	}
	return buf;
}

int nt_endpoint_from_sockaddr(const struct sockaddr *sa, struct nt_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		set_v4(ep, &in->sin_addr);
		ep->port = ntohs(in->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (!memcmp(&in6->sin6_addr, v4mapped_prefix, sizeof(v4mapped_prefix)))
			set_v4(ep, (const __u8 *)&in6->sin6_addr + 12);
		else {
			memcpy(ep->addr, &in6->sin6_addr, 16);
			ep->family = NT_FAMILY_V6;
		}
		ep->port = ntohs(in6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

int nt_endpoint_to_sockaddr(const struct nt_endpoint *ep, void *ss, size_t *len)
{
	if (ep->family == NT_FAMILY_V4) {
		struct sockaddr_in *in = ss;

		memset(in, 0, sizeof(*in));
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, ep->addr + 12, 4);
		in->sin_port = htons(ep->port);
		*len = sizeof(*in);
		return 0;
	}
	if (ep->family == NT_FAMILY_V6) {
		struct sockaddr_in6 *in6 = ss;

		memset(in6, 0, sizeof(*in6));
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, ep->addr, 16);
		in6->sin6_port = htons(ep->port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EAFNOSUPPORT;
}
