// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The options struct carries its size (sz) so it can grow: an application
 * built against an older header passes a shorter struct, one built against a
 * newer header a longer one. The library reads what both know and refuses a
 * setting it would otherwise silently ignore.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "nt_client_priv.h"

/* The first release's struct ends with no_reconnect: no caller passes less. */
#define OPTS_SZ_MIN (offsetof(struct nt_client_opts, no_reconnect) + sizeof(bool))

int ntc_opts_copy(struct nt_client *c, const struct nt_client_opts *in,
		  struct nt_client_opts *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t sz;

	memset(out, 0, sizeof(*out));
	if (!in)
		return ntc_fail(c, -EINVAL, "no options");
	sz = in->sz;
	if (sz < OPTS_SZ_MIN)
		return ntc_fail(c, -EINVAL,
				"options size %zu unknown (declare them with NT_CLIENT_OPTS)", sz);
	/* a newer caller's fields this library does not know must be unset */
	for (size_t i = sizeof(*out); i < sz; i++)
		if (p[i])
			return ntc_fail(c, -EINVAL,
					"options set beyond what this library knows (%zu of %zu bytes): a newer libnattrav-client is needed",
					i, sz);
	memcpy(out, in, sz < sizeof(*out) ? sz : sizeof(*out));
	out->sz = sizeof(*out);
	return 0;
}
