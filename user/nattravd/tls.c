// SPDX-License-Identifier: GPL-2.0
/*
 * The control channel's TLS context: the versions and ciphers of
 * nt_tls_policy.h (1.0/1.1 and SSLv3, CBC and RSA key transport refused at
 * the handshake), no compression, no renegotiation (TLS 1.2 client-
 * initiated renegotiation is refused with a no_renegotiation alert; 1.3 has
 * none), no session tickets; optionally client certificates (--client-ca).
 */
#include <errno.h>
#include <stdio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "nattravd.h"
#include "nt_tls_policy.h"

static const char *ssl_err(void)
{
	static char buf[256];
	unsigned long e = ERR_peek_last_error();

	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return e ? buf : "unknown error";
}

int nd_tls_ctx(const char *cert, const char *key, const char *client_ca, SSL_CTX **out)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		fprintf(stderr, "nattravd: cannot create a TLS context: %s\n", ssl_err());
		return -ENOMEM;
	}
	if (nt_tls_policy(ctx)) {
		fprintf(stderr, "nattravd: this OpenSSL refuses the TLS policy: %s\n", ssl_err());
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	/*
	 * Non-blocking writes may resume with a moved buffer and finish
	 * partially. An idle session gives its record buffers back (about
	 * 34 KB each): most of 100k sessions are idle.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		fprintf(stderr, "nattravd: --cert %s: cannot load the certificate: %s\n",
			cert, ssl_err());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "nattravd: --key %s: cannot load the private key: %s\n",
			key, ssl_err());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		fprintf(stderr, "nattravd: --key %s does not match --cert %s\n", key,
			cert);
		goto fail;
	}
	if (client_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);

		if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1 || !names) {
			fprintf(stderr, "nattravd: --client-ca %s: cannot load the CA certificates: %s\n",
				client_ca, ssl_err());
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			goto fail;
		}
		/* the handshake fails without a certificate that chains to client_ca */
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		SSL_CTX_set_verify_depth(ctx, 4);
	}
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -EINVAL;
}
