// SPDX-License-Identifier: GPL-2.0
/*
 * One cell of the end-to-end relay benchmark (issue 8, item 2), run by
 * scripts/bench-relay.sh on a scripts/topo.sh topology.
 *
 * In the sender's namespace, bpf/nt_gen.bpf.c is run with
 * BPF_F_TEST_XDP_LIVE_FRAMES on eth0: every frame is XDP_TX'd out of eth0,
 * crosses the bridge, and reaches whatever relays it (XDP program, daemon,
 * coturn) or, for the baseline, the receiver directly. In the receiver's
 * namespace bpf/nt_count.bpf.c counts and drops the relayed media on eth0.
 * Both programs are attached through BPF links, so they go away with this
 * process however it ends.
 *
 * With --inject (scripts/bench-fanout.sh) the frames are run on the relay's
 * own eth0 instead, through bpf/nt_gen.bpf.c's nt_inject and on into the XDP
 * program attached there, as that interface's receive path; the counter can
 * sit on any device (--recv-dev), and the busy time of --cpu is reported.
 *
 * CPU time is read from /proc/stat (all CPUs) and /proc/PID/stat (the relay
 * processes) around the run, after an idle sample of the same machine that
 * tells how busy the rest of it is (it is shared). Prints one CSV row.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nt_gen.skel.h"
#include "nt_count.skel.h"
#include "nt_reflect.skel.h"
#include "nt_endpoint.h"
#include "pkt.h"
#include "bench/bench_util.h"

#define IFACE "eth0"
#define CHUNK 32768 /* frames per test run; the loop checks the clock between */
#define MAX_PIDS 8

struct opts {
	const char *sender_ns, *recv_ns, *recv_dev, *dst_ns, *reflect_ns, *label;
	struct nt_endpoint src, dst;
	unsigned payload, channel, recv_port, recv_ports, batch;
	double duration, idle, rate;
	int cpu;
	int pids[MAX_PIDS];
	unsigned npids;
	bool header, inject;
};

/*
 * Busy and softirq jiffies of all CPUs (other tenants included); jiffies of
 * the tasks that do this cell's work: the relay's processes, this process
 * (the generator: softirq run when a test run re-enables bottom halves is
 * charged to it) and the ksoftirqd threads (softirq work deferred).
 */
struct cpu_sample {
	unsigned long long busy, softirq, proc, self, ksoftirqd, pinned;
	double t;
};

static int ksoftirqd[64];
static unsigned n_ksoftirqd;

static void find_ksoftirqd(void)
{
	char path[64], comm[32];
	FILE *f;

	for (int pid = 1; pid < 4096 && n_ksoftirqd < 64; pid++) {
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "ksoftirqd/", 10))
			ksoftirqd[n_ksoftirqd++] = pid;
		fclose(f);
	}
}

static int enter_ns(const char *name)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int mac_of(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* a task that is gone counts for nothing */
static unsigned long long proc_jiffies(int pid)
{
	long long v = proc_cpu_jiffies(pid);

	return v < 0 ? 0 : (unsigned long long)v;
}

static void sample(const struct opts *o, struct cpu_sample *s)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	/* user nice system idle iowait irq softirq steal */
	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			 &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		memset(v, 0, sizeof(v));
	s->pinned = 0;
	if (f && o->cpu >= 0) { /* the line "cpuN user nice system idle iowait irq softirq" */
		unsigned long long w[7];
		char line[256], tag[16];

		snprintf(tag, sizeof(tag), "cpu%d ", o->cpu);
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, tag, strlen(tag)) &&
			    sscanf(line + strlen(tag), "%llu %llu %llu %llu %llu %llu %llu", &w[0],
				   &w[1], &w[2], &w[3], &w[4], &w[5], &w[6]) == 7) {
				s->pinned = w[0] + w[1] + w[2] + w[5] + w[6];
				break;
			}
	}
	if (f)
		fclose(f);
	s->busy = v[0] + v[1] + v[2] + v[5] + v[6];
	s->softirq = v[6];
	s->proc = 0;
	for (unsigned i = 0; i < o->npids; i++)
		s->proc += proc_jiffies(o->pids[i]);
	s->self = proc_jiffies(getpid());
	s->ksoftirqd = 0;
	for (unsigned i = 0; i < n_ksoftirqd; i++)
		s->ksoftirqd += proc_jiffies(ksoftirqd[i]);
	s->t = now_s();
}

static size_t make_frame(const struct opts *o, const uint8_t smac[6], const uint8_t dmac[6],
			 uint8_t *buf)
{
	static uint8_t data[PKT_MAX];
	struct pkt_spec s = { 0 };
	unsigned off = o->channel ? 4 : 0;

	memcpy(s.src_mac, smac, 6);
	memcpy(s.dst_mac, dmac, 6);
	s.src = o->src;
	s.dst = o->dst;
	for (unsigned i = 0; i < o->payload; i++)
		data[off + i] = (uint8_t)i;
	data[off] = 0x80; /* RTP version 2: media for nattrav and for the counter */
	if (o->channel) {  /* TURN ChannelData (RFC 8656 section 12.4) */
		data[0] = (uint8_t)(o->channel >> 8);
		data[1] = (uint8_t)o->channel;
		data[2] = (uint8_t)(o->payload >> 8);
		data[3] = (uint8_t)o->payload;
	}
	s.payload = data;
	s.payload_len = off + o->payload;
	return pkt_build(&s, buf, PKT_MAX);
}

static int usage(const char *argv0, int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: %s --sender-ns NS --dst-ns NS --src IP:PORT --dst IP:PORT --recv-ns NS\n"
		"          --recv-port N [--payload B] [--channel N] [--duration S] [--idle S]\n"
		"          [--reflect-ns NS] [--pid PID]... [--cpu N] [--label NAME] [--header]\n"
		"          [--rate PPS] [--recv-ports N] [--recv-dev DEV] [--batch N]\n"
		"          [--inject]\n"
		"Live frames from the sender's eth0 towards --dst (Ethernet address of eth0 in\n"
		"--dst-ns), counted on the receiver's eth0; one CSV row on stdout. Needs root.\n"
		"  --channel N     wrap the payload in TURN ChannelData for channel N\n"
		"  --reflect-ns NS attach the bare reflector (bpf/nt_reflect.bpf.c) to eth0 there\n"
		"  --pid PID       a relay process whose CPU time is reported (up to 8)\n"
		"  --rate PPS      offer frames at this rate (default: as fast as possible)\n"
		"  --recv-ports N  count media to --recv-port and the N - 1 ports after it\n"
		"  --recv-dev DEV  attach the counter to DEV in --recv-ns (default eth0)\n"
		"  --inject        frames enter at --dst-ns's eth0 as if received there and go\n"
		"                  to the XDP program attached to it (the stack when none):\n"
		"                  the generator, on --cpu, is that interface's receive path\n"

		"  --batch N       frames per live-frame batch (default 64); a batch's copies\n"
		"                  must fit the receiver's veth ring (256) before its NAPI runs\n"
		"EXAMPLES\n"
		"  %s --sender-ns nb-c1 --dst-ns nb-relay --src 203.0.113.101:40000 \\\n"
		"     --dst 203.0.113.1:3478 --recv-ns nb-c2 --recv-port 50000 --payload 200\n",
		argv0, argv0);
	return rc;
}

static int parse_num(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "sender-ns", required_argument, NULL, 's' },
		{ "recv-ns", required_argument, NULL, 'r' },
		{ "dst-ns", required_argument, NULL, 'D' },
		{ "reflect-ns", required_argument, NULL, 'R' },
		{ "src", required_argument, NULL, 'a' },
		{ "dst", required_argument, NULL, 'b' },
		{ "payload", required_argument, NULL, 'p' },
		{ "channel", required_argument, NULL, 'C' },
		{ "recv-port", required_argument, NULL, 'P' },
		{ "recv-ports", required_argument, NULL, 'N' },
		{ "recv-dev", required_argument, NULL, 'I' },
		{ "rate", required_argument, NULL, 'T' },
		{ "batch", required_argument, NULL, 'B' },
		{ "duration", required_argument, NULL, 'd' },
		{ "idle", required_argument, NULL, 'i' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "pid", required_argument, NULL, 'x' },
		{ "label", required_argument, NULL, 'l' },
		{ "header", no_argument, NULL, 'H' },
		{ "inject", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	double v;
	int c;

	*o = (struct opts){ .payload = 200, .duration = 3, .idle = 0.5, .cpu = -1,
			    .label = "relay", .recv_dev = IFACE };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->sender_ns = optarg; break;
		case 'r': o->recv_ns = optarg; break;
		case 'I': o->recv_dev = optarg; break;
		case 'D': o->dst_ns = optarg; break;
		case 'R': o->reflect_ns = optarg; break;
		case 'l': o->label = optarg; break;
		case 'H': o->header = true; break;
		case 'j': o->inject = true; break;
		case 'a':
		case 'b':
			if (nt_endpoint_parse(optarg, c == 'a' ? &o->src : &o->dst) ||
			    (c == 'a' ? o->src.family : o->dst.family) != NT_FAMILY_V4) {
				logp("--src/--dst: IPv4 a.b.c.d:port, not '%s'", optarg);
				return usage(argv[0], 2);
			}
			break;
		case 'p':
			if (parse_num(optarg, 18, 1400, &v))
				return usage(argv[0], 2);
			o->payload = (unsigned)v;
			break;
		case 'C':
			if (parse_num(optarg, 0x4000, 0x4fff, &v))
				return usage(argv[0], 2);
			o->channel = (unsigned)v;
			break;
		case 'P':
			if (parse_num(optarg, 1, 65535, &v))
				return usage(argv[0], 2);
			o->recv_port = (unsigned)v;
			break;
		case 'N':
			if (parse_num(optarg, 1, 1024, &v))
				return usage(argv[0], 2);
			o->recv_ports = (unsigned)v;
			break;
		case 'B':
			if (parse_num(optarg, 1, 256, &v))
				return usage(argv[0], 2);
			o->batch = (unsigned)v;
			break;
		case 'T':
			if (parse_num(optarg, 10, 1e8, &o->rate))
				return usage(argv[0], 2);
			break;
		case 'd':
			if (parse_num(optarg, 0.1, 600, &o->duration))
				return usage(argv[0], 2);
			break;
		case 'i':
			if (parse_num(optarg, 0, 60, &o->idle))
				return usage(argv[0], 2);
			break;
		case 'c':
			if (parse_num(optarg, 0, CPU_SETSIZE - 1, &v))
				return usage(argv[0], 2);
			o->cpu = (int)v;
			break;
		case 'x':
			if (o->npids == MAX_PIDS || parse_num(optarg, 1, 1 << 22, &v))
				return usage(argv[0], 2);
			o->pids[o->npids++] = (int)v;
			break;
		case 'h': exit(usage(argv[0], 0));
		default: return usage(argv[0], 2);
		}
	}
	if (o->header)
		return 0;
	if (optind < argc || !o->sender_ns || !o->recv_ns || !o->dst_ns || !o->recv_port ||
	    !o->src.family || !o->dst.family)
		return usage(argv[0], 2);
	return 0;
}

/*
 * A test run in live-frame mode costs up to ~25 ms of waiting on an idle
 * machine (per-call setup and teardown; the waits of concurrent calls do not
 * overlap) but little CPU, so --rate is offered in chunks of 50 ms worth of
 * frames: slot k is due at t0 + k * tick; a thread sleeps until it and runs
 * one chunk (--batch frames a batch, each batch's path run to the end
 * before the next). The rate is exact over the run; within it, a burst
 * every 50 ms.
 */
#define PACE_THREADS 1

struct pacer {
	int prog_fd;
	const struct bpf_test_run_opts *tmpl;
	double t0, t_end, tick;
	_Atomic unsigned long slot;
	_Atomic int err;
	pthread_mutex_t lock;
	__u64 sent;
	double kns;
	unsigned long calls;
};

static void *pace_worker(void *arg)
{
	struct pacer *p = arg;
	struct bpf_test_run_opts to = *p->tmpl;

	for (;;) {
		unsigned long k = atomic_fetch_add(&p->slot, 1);
		double due = p->t0 + (double)k * p->tick, w = due - now_s();

		if (due >= p->t_end || atomic_load(&p->err))
			break;
		if (w > 0) {
			struct timespec ts = { (time_t)w, (long)((w - (double)(time_t)w) * 1e9) };

			nanosleep(&ts, NULL);
		}
		if (bpf_prog_test_run_opts(p->prog_fd, &to)) {
			atomic_store(&p->err, -errno);
			break;
		}
		pthread_mutex_lock(&p->lock);
		p->sent += to.repeat;
		p->kns += (double)to.duration * to.repeat;
		p->calls++;
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

static int paced_run(int prog_fd, const struct bpf_test_run_opts *to, double t0, double t_end,
		     double tick, __u64 *sent, double *kns, unsigned long *calls)
{
	struct pacer p = { .prog_fd = prog_fd, .tmpl = to, .t0 = t0, .t_end = t_end, .tick = tick,
			   .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[PACE_THREADS];
	unsigned n = 0;

	for (; n < PACE_THREADS; n++)
		if (pthread_create(&th[n], NULL, pace_worker, &p))
			break;
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	*sent += p.sent;
	*kns += p.kns;
	*calls += p.calls;
	if (!n)
		return -EAGAIN;
	if (atomic_load(&p.err))
		logp("test run failed: %s", strerror(-atomic_load(&p.err)));
	return atomic_load(&p.err);
}

static const char *csv_header =
	"label,payload,duration_s,sent,received,loss_pct,chain_ns_per_frame,"
	"busy_cpu_s,softirq_cpu_s,relay_proc_cpu_s,gen_cpu_s,ksoftirqd_cpu_s,"
	"background_cpu_s,idle_busy_rate,pinned_cpu_busy_s";

int main(int argc, char **argv)
{
	struct nt_count_bpf *cnt = NULL;
	struct nt_gen_bpf *gen = NULL;
	struct nt_reflect_bpf *refl = NULL;
	struct bpf_link *lcnt = NULL, *lrefl = NULL;
	static uint8_t frame[PKT_MAX];
	uint8_t smac[6], dmac[6];
	struct cpu_sample i0, i1, s0, s1;
	__u64 sent = 0, c0, c1, prev;
	double kns = 0, t_end, t_inj, idle_rate, bg;
	unsigned long calls = 0;
	size_t len;
	int err, ifindex, cfd, prog_fd, own_fd = -1;
	struct opts o;

	bench_name = "bench-relay";

	if ((err = parse_opts(argc, argv, &o)))
		return err;
	if (o.header) {
		puts(csv_header);
		return 0;
	}
	libbpf_set_print(libbpf_quiet);
	find_ksoftirqd();
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			logp("cannot pin to CPU %d: %s", o.cpu, strerror(errno));
	}
	gen = nt_gen_bpf__open_and_load();
	cnt = nt_count_bpf__open_and_load();
	if (!gen || !cnt) {
		err = -errno;
		logp("cannot load nt_gen / nt_count: %s", strerror(-err));
		goto out;
	}
	cnt->bss->nt_count_port = htons((uint16_t)o.recv_port);
	cnt->bss->nt_count_nports = (__u16)(o.recv_ports ? o.recv_ports : 1);
	cfd = bpf_map__fd(cnt->maps.nt_count_pkts);

	if ((err = enter_ns(o.dst_ns)) || (err = mac_of(IFACE, dmac))) {
		logp("no %s in %s: %s", IFACE, o.dst_ns, strerror(-err));
		goto out;
	}
	if (o.reflect_ns) {
		if ((err = enter_ns(o.reflect_ns)))
			goto out;
		refl = nt_reflect_bpf__open_and_load();
		if (!refl || !(lrefl = bpf_program__attach_xdp(refl->progs.nt_reflect,
							       (int)if_nametoindex(IFACE)))) {
			err = -errno;
			logp("cannot attach the reflector in %s: %s", o.reflect_ns, strerror(-err));
			goto out;
		}
	}
	if ((err = enter_ns(o.recv_ns)))
		goto out;
	lcnt = bpf_program__attach_xdp(cnt->progs.nt_count, (int)if_nametoindex(o.recv_dev));
	if (!lcnt) {
		err = -errno;
		logp("cannot attach the counter to %s in %s: %s", o.recv_dev, o.recv_ns,
		     strerror(-err));
		goto out;
	}
	if ((err = enter_ns(o.sender_ns)) || (err = mac_of(IFACE, smac)))
		goto out;
	ifindex = (int)if_nametoindex(IFACE);
	prog_fd = bpf_program__fd(gen->progs.nt_gen);
	if (o.inject) { /* frames arrive at the destination's eth0, then its own XDP program */
		__u32 id = 0, zero = 0;
		int next;

		if ((err = enter_ns(o.dst_ns)))
			goto out;
		ifindex = (int)if_nametoindex(IFACE);
		prog_fd = bpf_program__fd(gen->progs.nt_inject);
		if (bpf_xdp_query_id(ifindex, 0, &id) == 0 && id) {
			own_fd = bpf_prog_get_fd_by_id(id);
			next = bpf_map__fd(gen->maps.nt_inject_next);
			if (own_fd < 0 || bpf_map_update_elem(next, &zero, &own_fd, BPF_ANY)) {
				err = -errno;
				logp("cannot chain to the XDP program on %s in %s: %s", IFACE,
				     o.dst_ns, strerror(-err));
				goto out;
			}
		}
	}
	len = make_frame(&o, smac, dmac, frame);
	memcpy(gen->bss->nt_gen_head, frame, sizeof(gen->bss->nt_gen_head));

	struct xdp_md ctx = { .data_end = (__u32)len, .ingress_ifindex = (__u32)ifindex };
	/* paced: a chunk every 50 ms at --rate, see paced_run() */
	__u32 chunk = o.inject ? CHUNK * 8 : CHUNK;
	double tick = 0;

	if (o.rate > 0) {
		chunk = (__u32)(o.rate / 20 + 0.5);
		if (chunk < 1)
			chunk = 1;
		tick = (double)chunk / o.rate;
	}
	LIBBPF_OPTS(bpf_test_run_opts, to, .data_in = frame, .data_size_in = (__u32)len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = chunk,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = o.batch ? o.batch : 64);

	/* how busy the shared machine is without us */
	sample(&o, &i0);
	usleep((useconds_t)(o.idle * 1e6));
	sample(&o, &i1);
	idle_rate = i1.t > i0.t ? (double)(i1.busy - i0.busy) / 100.0 / (i1.t - i0.t) : 0;

	c0 = percpu_sum0(cfd);
	sample(&o, &s0);
	t_end = s0.t + o.duration;
	if (tick > 0) {
		if ((err = paced_run(prog_fd, &to, s0.t, t_end, tick,
				     &sent, &kns, &calls)))
			goto out;
	}
	while (tick <= 0 && now_s() < t_end) {
		if (bpf_prog_test_run_opts(prog_fd, &to)) {
			err = -errno;
			logp("test run failed: %s", strerror(-err));
			goto out;
		}
		sent += chunk;
		kns += (double)to.duration * chunk;
		calls++;
	}
	t_inj = now_s() - s0.t;
	if (tick > 0 && t_inj < o.duration) /* paced: offered over the whole window */
		t_inj = o.duration;
	/* let queues (socket buffers, the relay's batch) drain: 100 ms without change */
	prev = percpu_sum0(cfd);
	for (int i = 0; i < 40; i++) {
		usleep(100000);
		c1 = percpu_sum0(cfd);
		if (c1 == prev)
			break;
		prev = c1;
	}
	sample(&o, &s1);
	c1 = percpu_sum0(cfd) - c0;
	bg = idle_rate * (s1.t - s0.t);
	printf("%s,%u,%.3f,%llu,%llu,%.3f,%.1f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n", o.label,
	       o.payload,
	       t_inj, (unsigned long long)sent, (unsigned long long)c1,
	       sent ? 100.0 * (double)(sent - (c1 < sent ? c1 : sent)) / (double)sent : 0,
	       sent ? kns / (double)sent : 0, (double)(s1.busy - s0.busy) / 100.0,
	       (double)(s1.softirq - s0.softirq) / 100.0, (double)(s1.proc - s0.proc) / 100.0,
	       (double)(s1.self - s0.self) / 100.0, (double)(s1.ksoftirqd - s0.ksoftirqd) / 100.0,
	       bg, idle_rate, (double)(s1.pinned - s0.pinned) / 100.0);
	logp("%s payload %u: %lu test runs of %u frames, %.2f ms each", o.label, o.payload, calls,
	     (unsigned)to.repeat, calls ? 1e3 * t_inj / (double)calls : 0);
	logp("%s payload %u: %.3f Mpps relayed, %.2f%% lost", o.label, o.payload,
	     (double)c1 / t_inj / 1e6,
	     sent ? 100.0 * (double)(sent - (c1 < sent ? c1 : sent)) / (double)sent : 0);
	err = 0;
out:
	bpf_link__destroy(lcnt);
	bpf_link__destroy(lrefl);
	nt_reflect_bpf__destroy(refl);
	if (own_fd >= 0)
		close(own_fd);
	nt_count_bpf__destroy(cnt);
	nt_gen_bpf__destroy(gen);
	return err ? 1 : 0;
}
