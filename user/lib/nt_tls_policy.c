// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The control channel's TLS versions and ciphers (nt_tls_policy.h). */
#include <errno.h>
#include "nt_tls_policy.h"

int nt_tls_policy(SSL_CTX *ctx)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		return -EINVAL;
	/* set_cipher_list only governs TLS <= 1.2; 1.3 has its own list */
	if (SSL_CTX_set_cipher_list(ctx, NT_TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, NT_TLS13_SUITES) != 1)
		return -EINVAL;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	return 0;
}
