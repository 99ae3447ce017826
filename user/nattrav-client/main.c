// SPDX-License-Identifier: GPL-2.0
/* nattrav-client: join a group through a nattrav relay, send test media, count what comes back. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "nt_num.h"
#include "nt_version.h"

static const char usage[] =
	"usage: nattrav-client --server HOST[:PORT] --ca FILE\n"
	"                      [--token TOKEN | --token-file FILE] --group NAME\n"
	"                      [--bind IP:PORT] [--send N] [--rate PPS] [--size BYTES]\n"
	"                      [--duration SECONDS] [--wait SECONDS] [--wait-peer SECONDS]\n"
	"                      [--leave-after SECONDS]\n"
	"                      [--timeout SECONDS] [--cert FILE --key FILE] [--no-reconnect]\n"
	"                      [--json]\n"
	"\n"
	"Connects to the relay over TLS (certificate checked against --ca and HOST),\n"
	"authenticates, joins the group, proves its UDP mapping, then sends N test\n"
	"packets at --rate and counts what the relay forwards from the other members.\n"
	"\n"
	"Options:\n"
	"  --server HOST[:PORT]  relay control address (port 4433 by default; [v6]:port)\n"
	"  --ca FILE             PEM CA certificate the server's must chain to\n"
	"  --token TOKEN         auth token (nattravctl token); visible to every local\n"
	"                        user in ps: prefer --token-file or NATTRAV_TOKEN\n"
	"  --token-file FILE     read the token from FILE (one line, newline stripped)\n"
	"  --group NAME          group to join\n"
	"  --bind IP:PORT        local UDP address for probes, keepalives and media\n"
	"  --send N              test packets to send (default 0: receive only)\n"
	"  --rate PPS            packets per second (default 50)\n"
	"  --size BYTES          packet size, 28..1400 (default 200)\n"
	"  --duration SECONDS    run this long; without it: until N are sent and\n"
	"                        --wait seconds passed with nothing received\n"
	"                        (receive only: until SIGINT/SIGTERM)\n"
	"  --wait SECONDS        drain time after the last packet (default 2)\n"
	"  --wait-peer SECONDS   send only once another member is verified too (EVT\n"
	"                        GROUP members >= 2), so none of the N is sent before\n"
	"                        anyone can receive it; fail if none is within SECONDS\n"
	"  --leave-after SECONDS LEAVE the group this long after verification; the UDP\n"
	"                        socket stays open and counts what still arrives\n"
	"  --timeout SECONDS     connect and verification timeout (default 10)\n"
	"  --cert FILE --key FILE  client certificate for mutual TLS\n"
	"  --no-reconnect        end when the TLS connection drops; by default the client\n"
	"                        reconnects with backoff and resumes its session (same\n"
	"                        session and mapping when the relay kept them), media\n"
	"                        going on meanwhile, and reports {\"event\":\"reconnected\"}\n"
	"  --json                one JSON object per line on stdout\n"
	"  -h, --help            this text\n"
	"  -V, --version         the version\n"
	"\n"
	"A relay of a fleet may answer that the group lives on another relay (ERR 300):\n"
	"the client follows that one redirect with the same token and reports\n"
	"{\"event\":\"redirected\",\"from\":...,\"to\":...}; a second one is an error.\n"
	"\n"
	"Environment:\n"
	"  NATTRAV_TOKEN         the token, when neither --token nor --token-file is given\n"
	"\n"
	"Exit status: 0 ok, 1 failure (TLS, refused, not verified), 2 bad usage.\n"
	"\n"
	"Examples:\n"
	"  nattrav-client --server 203.0.113.1 --ca ca.pem --token \"$TOK\" --group g1 \\\n"
	"      --send 500 --rate 100 --json\n"
	"  nattrav-client --server relay.example.org:4433 --ca ca.pem --token-file tok \\\n"
	"      --group g1 --send 0 --duration 60\n";

static int seconds(const char *flag, const char *arg, uint64_t min, uint64_t *ms)
{
	uint64_t s;

	if (nt_parse_u64(arg, min, 86400 * 365, &s))
		return cli_error(CLI_EXIT_USAGE, "%s: '%s' is not a number of seconds (%llu or more)",
				 flag, arg, (unsigned long long)min);
	*ms = s * 1000;
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_SERVER = 256, O_CA, O_TOKEN, O_TOKEN_FILE, O_GROUP, O_BIND, O_SEND, O_RATE, O_SIZE,
	       O_DURATION, O_WAIT, O_WAIT_PEER, O_LEAVE, O_TIMEOUT, O_CERT, O_KEY, O_JSON, O_HELP,
	       O_NO_RECONNECT, O_VERSION };
	static const struct option opts[] = {
		{ "server", required_argument, NULL, O_SERVER },
		{ "ca", required_argument, NULL, O_CA },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "token-file", required_argument, NULL, O_TOKEN_FILE },
		{ "group", required_argument, NULL, O_GROUP },
		{ "bind", required_argument, NULL, O_BIND },
		{ "send", required_argument, NULL, O_SEND },
		{ "rate", required_argument, NULL, O_RATE },
		{ "size", required_argument, NULL, O_SIZE },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "wait", required_argument, NULL, O_WAIT },
		{ "wait-peer", required_argument, NULL, O_WAIT_PEER },
		{ "leave-after", required_argument, NULL, O_LEAVE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "json", no_argument, NULL, O_JSON },
		{ "no-reconnect", no_argument, NULL, O_NO_RECONNECT },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .opts.sz = sizeof(struct nt_client_opts), .rate = 50, .size = 200,
			   .wait_ms = 2000, .verify_ms = 10000 };
	const char *token = NULL, *token_file = NULL;
	int c, err = 0;

	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case O_SERVER:
			cli.opts.server = optarg;
			break;
		case O_CA:
			cli.opts.ca_file = optarg;
			break;
		case O_TOKEN:
			token = optarg;
			break;
		case O_TOKEN_FILE:
			token_file = optarg;
			break;
		case O_GROUP:
			cli.opts.group = optarg;
			break;
		case O_BIND:
			cli.opts.bind = optarg;
			break;
		case O_CERT:
			cli.opts.cert_file = optarg;
			break;
		case O_KEY:
			cli.opts.key_file = optarg;
			break;
		case O_SEND:
			if (nt_parse_u64(optarg, 0, 1ull << 40, &cli.send))
				err = cli_error(CLI_EXIT_USAGE, "--send: '%s' is not a packet count", optarg);
			break;
		case O_RATE:
			if (nt_parse_u32(optarg, 1, 1000000, &cli.rate))
				err = cli_error(CLI_EXIT_USAGE, "--rate: '%s' is not 1..1000000 packets per second", optarg);
			break;
		case O_SIZE:
			if (nt_parse_u32(optarg, NT_CLIENT_MEDIA_HDR_LEN, 1400, &cli.size))
				err = cli_error(CLI_EXIT_USAGE, "--size: '%s' is not %d..1400 bytes", optarg,
						NT_CLIENT_MEDIA_HDR_LEN);
			break;
		case O_DURATION:
			err = seconds("--duration", optarg, 1, &cli.duration_ms);
			break;
		case O_WAIT:
			err = seconds("--wait", optarg, 0, &cli.wait_ms);
			break;
		case O_WAIT_PEER:
			err = seconds("--wait-peer", optarg, 1, &cli.wait_peer_ms);
			break;
		case O_LEAVE:
			err = seconds("--leave-after", optarg, 0, &cli.leave_ms);
			if (!err && !cli.leave_ms)
				cli.leave_ms = 1; /* 0 means "at once" */
			break;
		case O_TIMEOUT:
			err = seconds("--timeout", optarg, 1, &cli.verify_ms);
			break;
		case O_JSON:
			cli.json = true;
			break;
		case O_NO_RECONNECT:
			cli.opts.no_reconnect = true;
			break;
		case 'h':
		case O_HELP:
			fputs(usage, stdout);
			return 0;
		case 'V':
		case O_VERSION:
			printf("nattrav-client %s\n", NT_VERSION);
			return 0;
		default:
			if (optopt >= O_SERVER)
				err = cli_error(CLI_EXIT_USAGE, "%s needs a value (see --help)", argv[optind - 1]);
			else
				err = cli_error(CLI_EXIT_USAGE, "unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (err)
		return err;
	if (optind != argc)
		return cli_error(CLI_EXIT_USAGE, "unexpected argument '%s' (see --help)", argv[optind]);
	err = cli_token(&cli, token, token_file);
	if (err)
		return err;
	if (!cli.opts.server || !cli.opts.ca_file || !cli.opts.token || !cli.opts.group)
		return cli_error(CLI_EXIT_USAGE,
				 "--server, --ca, a token (--token, --token-file or NATTRAV_TOKEN) and --group are required (see --help)");
	if (!cli.opts.cert_file != !cli.opts.key_file)
		return cli_error(CLI_EXIT_USAGE, "--cert and --key go together");
	cli.opts.timeout_ms = cli.verify_ms > 30000 ? 30000 : (int)cli.verify_ms;
	return cli_run(&cli);
}
