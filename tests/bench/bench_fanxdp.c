// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP fan-out probe (bpf/nt_fanxdp.bpf.c) for scripts/bench-fanout.sh
 * --paths xdp-probe: attaches it to IFACE with N members DST:PORT..PORT+N-1
 * behind the MAC given, all through IFACE, and keeps it there until
 * SIGTERM. Prints "ready" once attached. A measurement aid, not a relay:
 * no daemon, no mappings, IPv4 only.
 *
 *   bench_fanxdp IFACE N RELAY_IP MEDIA_PORT DST_IP FIRST_PORT DST_MAC
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nt_fanxdp.skel.h"
#include "bench/bench_util.h"

/* as in bpf/nt_fanxdp.bpf.c */
struct nfx_member {
	__be32 daddr;
	__be16 dport;
	__u8 dmac[6];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int num(const char *s, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || *end || end == s || *out < lo || *out > hi ? -EINVAL : 0;
}

int main(int argc, char **argv)
{
	struct nt_fanxdp_bpf *s;
	struct nfx_member m = {};
	struct bpf_link *l;
	long n, port, first;
	unsigned mac[6];
	int ifindex;

	bench_name = "bench_fanxdp";
	if (argc != 8) {
		fprintf(stderr, "usage: bench_fanxdp IFACE N RELAY_IP MEDIA_PORT DST_IP FIRST_PORT "
				"DST_MAC\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex || num(argv[2], 1, 64, &n) || num(argv[4], 1, 65535, &port) ||
	    num(argv[6], 1, 65535 - 63, &first) || inet_pton(AF_INET, argv[5], &m.daddr) != 1 ||
	    sscanf(argv[7], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
		   &mac[5]) != 6) {
		logp("bad arguments (see the comment at the top of tests/bench/bench_fanxdp.c)");
		return 2;
	}
	libbpf_set_print(libbpf_quiet);
	s = nt_fanxdp_bpf__open();
	if (!s)
		return 1;
	s->bss->nfx_n = (__u32)n;
	s->bss->nfx_port = htons((__u16)port);
	if (inet_pton(AF_INET, argv[3], &s->bss->nfx_relay) != 1 || nt_fanxdp_bpf__load(s)) {
		logp("cannot load the probe");
		return 1;
	}
	for (int k = 0; k < 6; k++)
		m.dmac[k] = (__u8)mac[k];
	for (__u32 i = 0; i < (__u32)n; i++) {
		struct bpf_devmap_val v = { .ifindex = (__u32)ifindex,
					    .bpf_prog.fd = bpf_program__fd(s->progs.nfx_out) };

		m.dport = htons((__u16)(first + i));
		if (bpf_map_update_elem(bpf_map__fd(s->maps.nfx_members), &i, &m, 0) ||
		    bpf_map_update_elem(bpf_map__fd(s->maps.nfx_fan), &i, &v, 0)) {
			logp("member %u: %s", i, strerror(errno));
			return 1;
		}
	}
	l = bpf_program__attach_xdp(s->progs.nfx_in, ifindex);
	if (!l) {
		logp("cannot attach to %s: %s", argv[1], strerror(errno));
		return 1;
	}
	sigset_t mask, old;

	/* blocked until sigsuspend: a signal between the check and the wait is not lost */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
	logp("copies not made (FIFO entries skipped): %llu", (unsigned long long)s->bss->nfx_desync);
	bpf_link__destroy(l);
	nt_fanxdp_bpf__destroy(s);
	return 0;
}
