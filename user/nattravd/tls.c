// SPDX-License-Identifier: GPL-2.0
/*
 * The control channel's TLS context: the versions and ciphers of
 * nt_tls_policy.h (1.0/1.1 and SSLv3, CBC and RSA key transport refused at
 * the handshake), no compression, no renegotiation (TLS 1.2 client-
 * initiated renegotiation is refused with a no_renegotiation alert; 1.3 has
 * none), optionally client certificates (--client-ca).
 *
 * Resumption: a reconnecting client skips the certificate and signature
 * with a TLS 1.3 ticket (PSK with a fresh ECDHE, so resumed sessions keep
 * forward secrecy). Tickets are stateless, sealed with keys drawn at random
 * once per process (kept across SIGHUP, gone with a restart, which costs
 * one full handshake per client): the daemon keeps no session cache, so a
 * session costs no memory for it. TLS 1.2 gets no ticket: its resumption
 * reuses the master secret without ECDHE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include "nattravd.h"
#include "nt_tls_policy.h"

/* How long a ticket lets a client resume (a client that was away longer handshakes in full). */
#define ND_TLS_TICKET_LIFETIME_S 3600

static struct {
	bool ready;
	unsigned char name[16], aes[32], hmac[32];
} tk;

/* Seal (enc) or open a ticket: AES-256-CBC and HMAC-SHA256 under this process's keys. */
static int ticket_key_cb(SSL *s, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
			 EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
			   OSSL_PARAM_construct_end() };

	if (enc) {
		if (SSL_version(s) < TLS1_3_VERSION)
			return 0; /* no ticket (see the top) */
		memcpy(name, tk.name, sizeof(tk.name));
		if (RAND_bytes(iv, 16) != 1 ||
		    EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, tk.aes, iv) != 1 ||
		    EVP_MAC_init(hctx, tk.hmac, sizeof(tk.hmac), p) != 1)
			return -1;
		return 1;
	}
	/* another process's ticket, or none of ours: a full handshake */
	if (memcmp(name, tk.name, sizeof(tk.name)))
		return 0;
	if (EVP_MAC_init(hctx, tk.hmac, sizeof(tk.hmac), p) != 1 ||
	    EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, tk.aes, iv) != 1)
		return -1;
	return 1;
}

/* Stateless TLS 1.3 tickets, no session cache. */
static int tickets_setup(SSL_CTX *ctx)
{
	if (!tk.ready) {
		if (RAND_bytes(tk.name, sizeof(tk.name)) != 1 || RAND_bytes(tk.aes, sizeof(tk.aes)) != 1 ||
		    RAND_bytes(tk.hmac, sizeof(tk.hmac)) != 1)
			return -EIO;
		tk.ready = true;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* without it a resumption fails under --client-ca (the session's certificate is checked) */
	if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"nattravd", 8) != 1 ||
	    SSL_CTX_set_num_tickets(ctx, 1) != 1 ||
	    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb) != 1)
		return -EINVAL;
	SSL_CTX_set_timeout(ctx, ND_TLS_TICKET_LIFETIME_S);
	return 0;
}

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
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (tickets_setup(ctx)) {
		fprintf(stderr, "nattravd: cannot set up TLS session tickets: %s\n", ssl_err());
		goto fail;
	}
	/*
	 * Non-blocking writes may resume with a moved buffer and finish
	 * partially. An idle session gives its record buffers back (about
	 * 34 KB each): most of 100k sessions are idle. The chain sent is the
	 * one --cert holds: without NO_AUTO_CHAIN a leaf-only file has OpenSSL
	 * build a chain from the trust store on every handshake (none to find:
	 * the store holds only --client-ca, never the server's issuers).
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			      SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
	/*
	 * Whatever the socket holds in one read(), not a record header and
	 * then its body: a client's second flight (ChangeCipherSpec, Finished
	 * and the pipelined HELLO/AUTH/JOIN) is one syscall instead of six.
	 * What is read beyond a line the backlog leaves unread stays inside
	 * OpenSSL: conn_drive wakes itself for it (EPOLLOUT), as for decrypted
	 * lines.
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
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
