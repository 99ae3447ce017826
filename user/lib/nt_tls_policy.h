/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one TLS policy of the control channel, for the daemon and the client
 * alike: TLS 1.2 and 1.3 only; on 1.2 only ECDHE key exchange with AEAD
 * ciphers (forward secrecy, no CBC padding oracles, no RSA key transport);
 * on 1.3 the AEAD suites OpenSSL enables by default, named explicitly.
 */
#ifndef NT_TLS_POLICY_H
#define NT_TLS_POLICY_H

#include <openssl/ssl.h>

/* TLS 1.2: ECDSA before RSA, AES-GCM and ChaCha20-Poly1305 only. */
#define NT_TLS12_CIPHERS                                                  \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"    \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"      \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"
#define NT_TLS13_SUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/*
 * Versions, ciphers, no compression, no renegotiation on ctx.
 * 0, or -EINVAL when OpenSSL refuses any of it (the caller reports it).
 */
int nt_tls_policy(SSL_CTX *ctx);

#endif /* NT_TLS_POLICY_H */
