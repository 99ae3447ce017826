/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Text and socket-address forms of struct nt_endpoint. Return 0 or -errno. */
#ifndef NT_ENDPOINT_H
#define NT_ENDPOINT_H

#include <stddef.h>
#include "nattrav_abi.h"

struct sockaddr;

/* "203.0.113.7:4000" or "[2001:db8::1]:4000" -> endpoint. -EINVAL on bad input. */
int nt_endpoint_parse(const char *s, struct nt_endpoint *ep);
/* Inverse of nt_endpoint_parse; buf of at least NT_ENDPOINT_STRLEN. */
#define NT_ENDPOINT_STRLEN 56
char *nt_endpoint_format(const struct nt_endpoint *ep, char *buf, size_t len);
/* From / to socket addresses (AF_INET, AF_INET6; v4-mapped v6 becomes v4). */
int nt_endpoint_from_sockaddr(const struct sockaddr *sa, struct nt_endpoint *ep);
int nt_endpoint_to_sockaddr(const struct nt_endpoint *ep, void *ss, size_t *len);


#endif /* NT_ENDPOINT_H */
