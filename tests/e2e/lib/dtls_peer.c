// SPDX-License-Identifier: GPL-2.0
/*
 * A DTLS handshake between two nattrav clients through the relay
 * (tests/e2e/dtls.sh):
 *
 *   dtls_peer server|client SERVER CA_FILE TOKEN GROUP [CERT KEY]
 *
 * Each side joins GROUP with the client library (the shared library, as an
 * application links it) and proves its mapping; then OpenSSL's DTLS runs on
 * one end of a pair of connected UDP sockets on loopback whose other end this
 * program carries to and from nt_client media, so every DTLS record crosses the
 * relay as a media datagram, unchanged. The server side presents CERT/KEY,
 * the client side checks it against CA_FILE. After the handshake each side
 * sends one message and reads the other's, then prints
 * "dtls ok VERSION CIPHER got=MESSAGE" and exits 0 (1 on failure or after
 * 30 s).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "nattrav_client.h"

struct peer {
	struct nt_client *c;
	int app;	/* our end of the loopback pair; DTLS has the other */
};

/* a datagram from the other client through the relay: into DTLS */
static void on_media(void *arg, const void *buf, size_t len)
{
	struct peer *p = arg;

	(void)send(p->app, buf, len, MSG_DONTWAIT);
}

/* what DTLS wrote: out to the other client through the relay */
static void pump_out(struct peer *p)
{
	unsigned char b[4096];
	ssize_t n;

	while ((n = recv(p->app, b, sizeof(b), MSG_DONTWAIT)) > 0)
		(void)nt_client_send_media(p->c, b, (size_t)n);
}

/* Two UDP sockets on 127.0.0.1 connected to each other, as BIO_s_datagram wants them. */
static int udp_pair(int sv[2], struct sockaddr_in *app_addr)
{
	struct sockaddr_in a[2];
	socklen_t l = sizeof(a[0]);

	for (int i = 0; i < 2; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].sin_family = AF_INET;
		a[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sv[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (sv[i] < 0 || bind(sv[i], (struct sockaddr *)&a[i], sizeof(a[i])) < 0 ||
		    getsockname(sv[i], (struct sockaddr *)&a[i], &l) < 0)
			return -1;
	}
	if (connect(sv[0], (struct sockaddr *)&a[1], sizeof(a[1])) < 0 ||
	    connect(sv[1], (struct sockaddr *)&a[0], sizeof(a[0])) < 0)
		return -1;
	*app_addr = a[0];
	return 0;
}

static SSL *dtls_new(bool server, const char *ca, const char *cert, const char *key, int fd,
		     struct sockaddr_in *peer)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
	BIO *bio;
	SSL *ssl;

	if (!ctx)
		return NULL;
	if (server ? SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
			     SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 :
		     SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (!server)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* no MTU discovery on loopback: records sized for a relayed path */
	SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU);
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL keeps its reference */
	bio = ssl ? BIO_new_dgram(fd, BIO_NOCLOSE) : NULL;
	if (!bio) {
		SSL_free(ssl);
		return NULL;
	}
	BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer);
	SSL_set_bio(ssl, bio, bio);
	DTLS_set_link_mtu(ssl, 1200);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	return ssl;
}

int main(int argc, char **argv)
{
	const struct nt_client_callbacks cb = { .media = on_media };
	char got[128] = "", msg[64];
	struct peer p = { 0 };
	bool server, sent = false;
	time_t end = time(NULL) + 30, linger = 0;
	int sv[2], err, rc = 1;
	struct sockaddr_in app_addr;
	SSL *ssl;

	if ((argc != 6 && argc != 8) || (strcmp(argv[1], "server") && strcmp(argv[1], "client")) ||
	    (!strcmp(argv[1], "server") && argc != 8)) {
		fprintf(stderr, "usage: %s server|client SERVER CA_FILE TOKEN GROUP [CERT KEY]\n",
			argv[0]);
		return 2;
	}
	server = !strcmp(argv[1], "server");
	NT_CLIENT_OPTS(o, .server = argv[2], .ca_file = argv[3], .token = argv[4],
		       .group = argv[5]);
	err = nt_client_open(&o, &p.c);
	if (!err)
		err = nt_client_verify(p.c, 10000);
	if (err) {
		fprintf(stderr, "dtls_peer: %s\n", nt_client_error(p.c));
		nt_client_close(p.c);
		return 1;
	}
	if (udp_pair(sv, &app_addr) < 0) {
		perror("dtls_peer: loopback sockets");
		return 1;
	}
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	p.app = sv[0];
	ssl = dtls_new(server, argv[3], argc == 8 ? argv[6] : NULL, argc == 8 ? argv[7] : NULL,
		       sv[1], &app_addr);
	if (!ssl) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	snprintf(msg, sizeof(msg), "hello from the %s", argv[1]);
	while (time(NULL) < end) {
		if (!SSL_is_init_finished(ssl)) {
			SSL_do_handshake(ssl);
		} else {
			int n;

			if (!sent && SSL_write(ssl, msg, (int)strlen(msg)) > 0)
				sent = true;
			n = SSL_read(ssl, got, sizeof(got) - 1);
			if (n > 0) {
				got[n] = '\0';
				linger = time(NULL) + 1;
			}
		}
		pump_out(&p);
		/* after both messages: a moment for the other side's last flight */
		if (sent && got[0] && time(NULL) >= linger) {
			printf("dtls ok %s %s got=%s\n", SSL_get_version(ssl),
			       SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)), got);
			rc = 0;
			break;
		}
		if (nt_client_poll(p.c, 20, &cb, &p) < 0)
			break;
		DTLSv1_handle_timeout(ssl);
	}
	if (rc) {
		fprintf(stderr, "dtls_peer: no handshake and exchange within 30 s\n");
		ERR_print_errors_fp(stderr);
	}
	fflush(stdout);
	SSL_free(ssl);
	nt_client_close(p.c);
	return rc;
}
