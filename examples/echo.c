// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The smallest nattrav application: join a group through a relay, prove the
 * UDP mapping, then send every datagram the relay brings straight back, so
 * whoever else is in the group gets it echoed. Build it against the
 * installed library:
 *
 *	cc -o echo echo.c $(pkg-config --cflags --libs nattrav-client)
 *	./echo relay.example.org ca.pem "$TOKEN" room1 60
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <nattrav_client.h>

static volatile sig_atomic_t stop;

struct echo {
	struct nt_client *c;
	unsigned long echoed, failed;
};

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_media(void *arg, const void *buf, size_t len)
{
	struct echo *e = arg;

	if (nt_client_send_media(e->c, buf, len))
		e->failed++;
	else
		e->echoed++;
}

static void on_event(void *arg, const struct nt_client_event *ev)
{
	(void)arg;
	printf("event %s%s%s\n", ev->name[0] ? ev->name : "-", ev->reason[0] ? " " : "",
	       ev->reason);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const struct nt_client_callbacks cb = { .media = on_media, .event = on_event };
	struct echo e = { 0 };
	time_t end;
	int err;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: %s SERVER CA_FILE TOKEN GROUP [SECONDS]\n", argv[0]);
		return 2;
	}
	NT_CLIENT_OPTS(o, .server = argv[1], .ca_file = argv[2], .token = argv[3],
		       .group = argv[4]);
	end = argc == 6 ? time(NULL) + atoi(argv[5]) : 0;
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);

	err = nt_client_open(&o, &e.c);
	if (!err)
		err = nt_client_verify(e.c, 10000);
	if (err) {
		fprintf(stderr, "echo: %s\n", e.c ? nt_client_error(e.c) : strerror(-err));
		nt_client_close(e.c);
		return 1;
	}
	printf("verified %s\n", nt_client_mapping(e.c));
	fflush(stdout);
	while (!stop && (!end || time(NULL) < end)) {
		err = nt_client_poll(e.c, 100, &cb, &e);
		if (err) {
			fprintf(stderr, "echo: %s\n", nt_client_error(e.c));
			break;
		}
	}
	printf("echoed %lu failed %lu\n", e.echoed, e.failed);
	nt_client_close(e.c);
	return err ? 1 : 0;
}
