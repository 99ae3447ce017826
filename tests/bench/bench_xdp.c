// SPDX-License-Identifier: GPL-2.0
/*
 * Per-packet cost of the XDP fast path against a bare reflector, and the
 * mapping table at scale (issue 8, items 1 and 4). Run by scripts/bench-xdp.sh.
 *
 * Frames are injected with BPF_F_TEST_XDP_LIVE_FRAMES: every repetition
 * starts again from data_in and XDP_TX really transmits, through a veth
 * whose peer drops (and counts) what arrives. Plain `repeat` would run the
 * program again on the frame it already rewrote, which nattrav no longer
 * relays. Everything happens in a network namespace of this process, pinned
 * to one CPU (--cpus N: one injector thread on each of N CPUs, issue 14,
 * item 3); the namespace and its veth go away when the process exits.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nattrav.skel.h"
#include "nt_reflect.skel.h"
#include "nt_drop.skel.h"
#include "nt_bpf.h"
#include "nt_endpoint.h"
#include "pkt.h"
#include "bench/bench_util.h"

#define DEV_IN "ntb0"   /* frames "arrive" here and XDP_TX leaves here */
#define DEV_PEER "ntb1" /* runs nt_drop */
#define RELAY4 "203.0.113.1"
#define RELAY6 "2001:db8::1"
#define MEDIA_PORT 3478
#define SENDER4 "192.0.2.10:40000"
#define SENDER6 "[2001:db8::10]:40000"
#define MAX_CPUS 8 /* --cpus; sender k of the frames: 192.0.2.(10 + k), 2001:db8::(10 + k) */
#define PEER4 "198.51.100.20:50000"
#define PEER6 "[2001:db8:1::20]:50000"
#define MAX_ROUNDS 64
#define MAX_VARIANTS 6
#define NT_DROP_HEAD_LEN 64 /* value size of nt_drop_orig, checked after load */
#define BIG_MAPPINGS NT_MAX_MAPPINGS
/*
 * nattravd's defaults (--max-pps 2000 --burst 200) make a bucket of 1e8 ns.
 * One sender at millions of frames a second would be dropped after 200, so
 * the "defaults" rows charge 1 ns a frame against that bucket: the limiter's
 * code runs on every frame (read, compare, write back) and never refuses.
 */
#define DFLT_PKT_COST_NS 1
#define DFLT_BURST_NS 100000000ull

static const unsigned payloads[] = { 64, 200, 1200 };
static const int families[] = { NT_FAMILY_V4, NT_FAMILY_V6 };
#define N_PAYLOADS (sizeof(payloads) / sizeof(payloads[0]))
#define N_FAMILIES 2

struct opts {
	unsigned rounds;
	unsigned long packets; /* per measurement */
	const char *csv, *md, *obj;
	int cpu;
	bool no_scale; /* 1 mapping only, no 1M figures: quick experiments */
	unsigned payload; /* only this UDP payload size (0: all of payloads[]) */
	unsigned senders; /* --senders: an IPv4 row with this many distinct senders */
	unsigned cpus;  /* --cpus N: the 1-CPU vs N-CPU comparison instead (0: not) */
	unsigned run_ms; /* --cpus: how long each injector runs */
	unsigned batch;  /* --cpus: frames per batch of the live-frame test run */
	unsigned nvar;  /* --variant NAME=FILE: more objects measured side by side */
	char *var_name[MAX_VARIANTS];
	const char *var_obj[MAX_VARIANTS];
	char *var_one[MAX_VARIANTS], *var_senders[MAX_VARIANTS]; /* NAME-1, NAME-senders */
};

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* One loaded copy of nattrav's object, with maps of its own. */
struct nt_inst {
	struct bpf_object *obj;
	struct nt_maps maps;
	int prog_fd;
	unsigned long n_mappings;
};

static int inst_open(struct nt_inst *in, const char *path)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "nattrav");
	struct bpf_program *prog;
	struct bpf_map *map;
	const void *bytes;
	size_t sz;
	int err;

	if (path) {
		in->obj = bpf_object__open_file(path, NULL);
	} else {
		bytes = nattrav_bpf__elf_bytes(&sz);
		in->obj = bpf_object__open_mem(bytes, sz, &oo);
	}
	if (!in->obj)
		return -errno;
	/* never the operator's pins under /sys/fs/bpf/nattrav */
	bpf_object__for_each_map(map, in->obj)
		bpf_map__set_pin_path(map, NULL);
	err = bpf_object__load(in->obj);
	if (err)
		return err;
	prog = bpf_object__find_program_by_name(in->obj, "nt_xdp");
	if (!prog)
		return -ENOENT;
	in->prog_fd = bpf_program__fd(prog);
	in->maps.mappings_fd = bpf_object__find_map_fd_by_name(in->obj, NT_MAP_MAPPINGS);
	/* a --variant built before IPv4 senders had a map of their own: -1, nt_mappings */
	in->maps.mappings4_fd = bpf_object__find_map_fd_by_name(in->obj, NT_MAP_MAPPINGS4);
	if (in->maps.mappings4_fd < 0)
		in->maps.mappings4_fd = -1;
	in->maps.groups_fd = in->maps.egress_fd = -1;
	in->maps.config_fd = bpf_object__find_map_fd_by_name(in->obj, NT_MAP_CONFIG);
	in->maps.stats_fd = bpf_object__find_map_fd_by_name(in->obj, NT_MAP_STATS);
	if (in->maps.mappings_fd < 0 || in->maps.config_fd < 0 || in->maps.stats_fd < 0)
		return -ENOENT;
	return 0;
}

/*
 * dflt: as nattravd runs it by default: FIB mode, next hop written into the
 * mapping by the daemon (put_senders), rate limiter on (DFLT_PKT_COST_NS).
 */
static int inst_config(struct nt_inst *in, bool fib, bool dflt)
{
	struct nt_config cfg = { .media_port = MEDIA_PORT };

	inet_pton(AF_INET, RELAY4, cfg.relay_v4);
	inet_pton(AF_INET6, RELAY6, cfg.relay_v6);
	cfg.flags = fib || dflt ? 0 : NT_CONFIG_F_NO_FIB;
	if (dflt) {
		cfg.pkt_cost_ns = DFLT_PKT_COST_NS;
		cfg.burst_ns = DFLT_BURST_NS;
	}
	return nt_maps_set_config(&in->maps, &cfg);
}

/*
 * Key i of the synthetic population: even i IPv4 10.0.0.0/8, odd i IPv6
 * 2001:db8:ff::/64, none equal to the senders of the measured frames.
 */
static void synth_key(unsigned long i, struct nt_endpoint *k, struct nt_mapping *v)
{
	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	k->port = (uint16_t)(1024 + i % 60000);
	if (i % 2 == 0) {
		k->family = NT_FAMILY_V4;
		k->addr[10] = k->addr[11] = 0xff;
		k->addr[12] = 10;
		k->addr[13] = (uint8_t)(i >> 16);
		k->addr[14] = (uint8_t)(i >> 8);
		k->addr[15] = (uint8_t)i;
		nt_endpoint_parse(PEER4, &v->peer);
	} else {
		k->family = NT_FAMILY_V6;
		memcpy(k->addr, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0xff }, 6);
		k->addr[12] = (uint8_t)(i >> 24);
		k->addr[13] = (uint8_t)(i >> 16);
		k->addr[14] = (uint8_t)(i >> 8);
		k->addr[15] = (uint8_t)i;
		nt_endpoint_parse(PEER6, &v->peer);
	}
}

/*
 * The measured senders' mappings. ifindex > 0: with the next hop nattravd
 * writes in its default mode (NT_ROUTE_DAEMON), back out of ifindex to the
 * sink's MAC.
 */
static void sender_of(int family, unsigned slot, struct nt_endpoint *e)
{
	nt_endpoint_parse(family == NT_FAMILY_V4 ? SENDER4 : SENDER6, e);
	e->addr[15] = (uint8_t)(e->addr[15] + slot);
}

static int put_senders(struct nt_inst *in, int ifindex, unsigned nslots)
{
	struct nt_endpoint k;
	struct nt_mapping v = {};
	int err = 0;

	if (ifindex > 0) {
		memcpy(v.route_dmac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x0a }, 6);
		memcpy(v.route_smac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x01 }, 6);
		v.route_ifindex = (__u32)ifindex;
		v.route_expires_ns = NT_ROUTE_DAEMON;
	}

	for (unsigned i = 0; i < nslots && !err; i++) {
		sender_of(NT_FAMILY_V4, i, &k);
		nt_endpoint_parse(PEER4, &v.peer);
		err = nt_maps_put_mapping(&in->maps, &k, &v);
		sender_of(NT_FAMILY_V6, i, &k);
		nt_endpoint_parse(PEER6, &v.peer);
		err = err ? err : nt_maps_put_mapping(&in->maps, &k, &v);
	}
	return err;
}

/* n synthetic mappings, one bpf_map_update_elem each, as the daemon adds them. */
static int fill_loop(struct nt_inst *in, unsigned long n)
{
	struct nt_endpoint k;
	struct nt_mapping v;
	int err;

	for (unsigned long i = 0; i < n; i++) {
		synth_key(i, &k, &v);
		err = nt_maps_put_mapping(&in->maps, &k, &v);
		if (err)
			return err;
	}
	return 0;
}

#define CHUNK 65536
/* Keys i..i+cnt of the population, the IPv4 ones as nt_key4 when the map is there. */
struct chunk {
	struct nt_endpoint k6[CHUNK];
	struct nt_key4 k4[CHUNK];
	struct nt_mapping v6[CHUNK], v4[CHUNK];
	__u32 n6, n4;
};

static void chunk_fill(const struct nt_inst *in, struct chunk *c, unsigned long i, __u32 cnt)
{
	struct nt_endpoint k;
	struct nt_mapping v;

	c->n6 = c->n4 = 0;
	for (__u32 j = 0; j < cnt; j++) {
		synth_key(i + j, &k, &v);
		if (in->maps.mappings4_fd >= 0 && !nt_key4_from_endpoint(&k, &c->k4[c->n4])) {
			c->v4[c->n4++] = v;
		} else {
			c->k6[c->n6] = k;
			c->v6[c->n6++] = v;
		}
	}
}

static int fill_batch(struct nt_inst *in, unsigned long n)
{
	static struct chunk c;

	for (unsigned long i = 0; i < n; i += CHUNK) {
		chunk_fill(in, &c, i, (__u32)(n - i < CHUNK ? n - i : CHUNK));
		if ((c.n6 && bpf_map_update_batch(in->maps.mappings_fd, c.k6, c.v6, &c.n6, NULL)) ||
		    (c.n4 && bpf_map_update_batch(in->maps.mappings4_fd, c.k4, c.v4, &c.n4, NULL)))
			return -errno;
	}
	return 0;
}

static int delete_batch(struct nt_inst *in, unsigned long n)
{
	static struct chunk c;

	for (unsigned long i = 0; i < n; i += CHUNK) {
		chunk_fill(in, &c, i, (__u32)(n - i < CHUNK ? n - i : CHUNK));
		if ((c.n6 && bpf_map_delete_batch(in->maps.mappings_fd, c.k6, &c.n6, NULL)) ||
		    (c.n4 && bpf_map_delete_batch(in->maps.mappings4_fd, c.k4, &c.n4, NULL)))
			return -errno;
	}
	return 0;
}

/* The daemon's consent sweep: look every mapping up; delete when expire is set. */
static int sweep(struct nt_inst *in, unsigned long n, bool expire)
{
	struct nt_endpoint k;
	struct nt_mapping v, got;
	int err;

	for (unsigned long i = 0; i < n; i++) {
		synth_key(i, &k, &v);
		err = nt_maps_get_mapping(&in->maps, &k, &got);
		if (!err && expire)
			err = nt_maps_del_mapping(&in->maps, &k);
		if (err)
			return err;
	}
	return 0;
}

static long long memlock_of(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Both mapping maps' memory. */
static long long maps_memlock(const struct nt_inst *in)
{
	long long v6 = memlock_of(in->maps.mappings_fd), v4 = 0;

	if (in->maps.mappings4_fd >= 0)
		v4 = memlock_of(in->maps.mappings4_fd);
	return v6 < 0 || v4 < 0 ? -1 : v6 + v4;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc)
		logp("failed (%d): %s", rc, cmd);
	return rc ? -EIO : 0;
}

/*
 * The relay's link: DEV_IN with addresses, forwarding and the peers'
 * neighbour entries (for the FIB variant), DEV_PEER dropping in native mode.
 */
static int make_topology(unsigned queues)
{
	char cmd[1024];

	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	/*
	 * A veth hands an XDP_TX'd frame to the peer's rx queue of the sending
	 * CPU (CPU number modulo the queues), whose NAPI then runs on that CPU:
	 * one queue per injecting CPU, as a NIC's RSS queues, shares nothing.
	 */
	snprintf(cmd, sizeof(cmd),
		 "ip link add " DEV_IN " numtxqueues %u numrxqueues %u address 02:00:00:00:00:01 "
		 "type veth peer name " DEV_PEER " numtxqueues %u numrxqueues %u "
		 "address 02:00:00:00:00:0a", queues, queues, queues, queues);
	if (sh(cmd))
		return -EIO;
	return sh("ip link set lo up && "
		  "ethtool -K " DEV_IN " tx off >/dev/null && ethtool -K " DEV_PEER " tx off >/dev/null && "
		  "ip link set " DEV_IN " up && ip link set " DEV_PEER " up && "
		  "sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1 && "
		  "ip addr add 198.51.100.1/24 dev " DEV_IN " && "
		  "ip addr add 2001:db8:1::1/64 dev " DEV_IN " nodad && "
		  "ip neigh add 198.51.100.20 lladdr 02:00:00:00:00:20 dev " DEV_IN " nud permanent && "
		  "ip neigh add 2001:db8:1::20 lladdr 02:00:00:00:00:20 dev " DEV_IN " nud permanent");
}

static size_t make_frame(int family, unsigned payload, unsigned slot, uint8_t *buf)
{
	static uint8_t data[PKT_MAX];
	struct pkt_spec s = { 0 };

	memcpy(s.src_mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x0a }, 6);
	memcpy(s.dst_mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x01 }, 6);
	sender_of(family, slot, &s.src);
	nt_endpoint_parse(family == NT_FAMILY_V4 ? RELAY4 ":3478" : "[" RELAY6 "]:3478", &s.dst);
	for (unsigned i = 0; i < payload; i++)
		data[i] = (uint8_t)i;
	data[0] = 0x80; /* RTP version 2: media, not a control message */
	s.payload = data;
	s.payload_len = payload;
	return pkt_build(&s, buf, PKT_MAX);
}

/* One measurement: a program, a frame, a config. */
struct meas {
	const char *prog;
	int family;
	unsigned payload;
	unsigned long mappings;
	int prog_fd;
	struct nt_inst *inst; /* NULL for the yardsticks */
	bool fib;
	bool no_restore;          /* the sink drops frames without putting headers back */
	bool dflt;                /* nattravd's defaults: see inst_config */
	unsigned senders;         /* frames from this many senders (IPv4, the sink varies them) */
	double mpps[MAX_ROUNDS];    /* from the kernel's own time of the run */
	double wall_mpps[MAX_ROUNDS]; /* from the wall clock: includes other tasks' time */
	double ratio[MAX_ROUNDS]; /* vs the reflector of the same round */
	double wall_ratio[MAX_ROUNDS]; /* the same from the wall-clock rates */
	double ratio_1[MAX_ROUNDS]; /* vs one (NULL: nattrav with 1 mapping), same round */
	struct meas *one;
	double extra_ns[MAX_ROUNDS]; /* ns per frame above the reflector, same round */
	unsigned bad;             /* rounds where not every frame came out */
};

struct bench {
	struct opts o;
	int ifindex, drop_fd, orig_fd, vary_fd;
	uint8_t frames[N_FAMILIES][N_PAYLOADS][PKT_MAX];
	size_t frame_len[N_FAMILIES][N_PAYLOADS];
	struct meas m[128];
	unsigned nm;
	cpu_set_t allowed; /* the CPUs the process could run on before it pinned itself */
};

/*
 * What the sink puts back into each frame before it drops it: on CPU c,
 * frames[c] (NULL: nothing), or frame on every CPU when frames is NULL.
 */
static int set_restore_cpus(struct bench *b, const uint8_t *frame, const uint8_t *const *frames,
			    int nframes)
{
	int ncpu = libbpf_num_possible_cpus();
	uint8_t (*head)[NT_DROP_HEAD_LEN];
	__u32 zero = 0;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	if (!(head = calloc((size_t)ncpu, sizeof(*head))))
		return -ENOMEM;
	for (int c = 0; c < ncpu; c++) {
		const uint8_t *f = frames ? (c < nframes ? frames[c] : NULL) : frame;

		if (f)
			memcpy(head[c], f, NT_DROP_HEAD_LEN);
	}
	if (bpf_map_update_elem(b->orig_fd, &zero, head, BPF_ANY))
		err = -errno;
	free(head);
	return err;
}

static int set_restore(struct bench *b, const uint8_t *frame)
{
	return set_restore_cpus(b, frame, NULL, 0);
}

/* The sink's sender rotation (nt_drop_vary): n senders, 0 for the one of the frame. */
static int set_senders(struct bench *b, unsigned n)
{
	__u32 zero = 0, v[2] = { n, 0 };

	return bpf_map_update_elem(b->vary_fd, &zero, v, BPF_ANY) ? -errno : 0;
}

static int run_live(struct bench *b, struct meas *m, double *mpps, double *wall_mpps)
{
	int fi = m->family == NT_FAMILY_V4 ? 0 : 1;
	unsigned pi = 0;

	while (payloads[pi] != m->payload)
		pi++;
	struct xdp_md ctx = { .data_end = (__u32)b->frame_len[fi][pi],
			      .ingress_ifindex = (__u32)b->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, to, .data_in = b->frames[fi][pi],
		    .data_size_in = (__u32)b->frame_len[fi][pi], .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = (__u32)b->o.packets,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
	struct nt_counter before[NT_STAT_MAX], after[NT_STAT_MAX];
	__u64 d0, d1;
	double t0, t1;
	int err;

	if (m->inst) {
		if ((err = inst_config(m->inst, m->fib, m->dflt)) ||
		    (err = nt_maps_read_stats(&m->inst->maps, before)))
			return err;
	}
	if ((err = set_restore(b, m->no_restore ? NULL : b->frames[fi][pi])))
		return err;
	if ((err = set_senders(b, m->senders)))
		return err;
	d0 = percpu_sum0(b->drop_fd);
	t0 = now_s();
	err = bpf_prog_test_run_opts(m->prog_fd, &to);
	t1 = now_s();
	if (err)
		return -errno;
	/* the peer's NAPI may still be draining the last batch */
	for (int i = 0; i < 100 && (d1 = percpu_sum0(b->drop_fd)) - d0 < b->o.packets; i++)
		usleep(1000);
	/*
	 * opts.duration: ns per frame, counted only while the test run holds
	 * the CPU (it steps out to reschedule), so other tasks on a shared
	 * machine do not land in it; the sink's softirq, run when the batch
	 * re-enables bottom halves, does.
	 */
	*mpps = to.duration ? 1e3 / to.duration : 0;
	*wall_mpps = (double)b->o.packets / (t1 - t0) / 1e6;
	if (d1 - d0 != b->o.packets)
		return -EPIPE;
	if (m->inst) {
		if ((err = nt_maps_read_stats(&m->inst->maps, after)))
			return err;
		if (after[NT_STAT_FORWARDED].packets - before[NT_STAT_FORWARDED].packets !=
		    b->o.packets)
			return -EPROTO;
	}
	return 0;
}

static struct meas *add(struct bench *b, const char *prog, int fam, unsigned pl,
			unsigned long maps, int fd, struct nt_inst *in, bool fib)
{
	struct meas *m;

	if (b->nm == sizeof(b->m) / sizeof(b->m[0])) {
		logp("too many cells: fewer --variant or one --payload");
		exit(2);
	}
	m = &b->m[b->nm++];
	*m = (struct meas){ .prog = prog, .family = fam, .payload = pl, .mappings = maps,
			    .prog_fd = fd, .inst = in, .fib = fib };
	return m;
}

static struct meas *find(struct bench *b, const char *prog, int fam, unsigned pl,
			 unsigned long maps)
{
	for (unsigned i = 0; i < b->nm; i++)
		if (!strcmp(b->m[i].prog, prog) && b->m[i].family == fam &&
		    b->m[i].payload == pl && b->m[i].mappings == maps)
			return &b->m[i];
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_d);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double vmin(const double *v, unsigned n)
{
	double x = v[0];

	for (unsigned i = 1; i < n; i++)
		x = v[i] < x ? v[i] : x;
	return x;
}

static double vmax(const double *v, unsigned n)
{
	double x = v[0];

	for (unsigned i = 1; i < n; i++)
		x = v[i] > x ? v[i] : x;
	return x;
}

/*
 * Rounds: every (family, payload) group runs all its programs back to back,
 * starting from a different one each round, so that drift of a noisy
 * machine falls on all of them alike; ratios are taken within a round.
 */
static int run_rounds(struct bench *b)
{
	for (unsigned r = 0; r < b->o.rounds; r++) {
		double t0 = now_s();

		for (int f = 0; f < N_FAMILIES; f++) {
			for (unsigned p = 0; p < N_PAYLOADS; p++) {
				struct meas *g[48];
				unsigned ng = 0;

				for (unsigned i = 0; i < b->nm; i++)
					if (b->m[i].family == families[f] &&
					    b->m[i].payload == payloads[p])
						g[ng++] = &b->m[i];
				for (unsigned k = 0; k < ng; k++) {
					struct meas *m = g[(k + r) % ng];
					int err = run_live(b, m, &m->mpps[r], &m->wall_mpps[r]);

					if (err == -EPIPE || err == -EPROTO) {
						m->bad++;
						logp("round %u: %s v%d %u B: %s", r + 1, m->prog,
						     m->family, m->payload,
						     err == -EPIPE ? "frames lost on the veth"
								   : "not every frame forwarded");
					} else if (err) {
						logp("test run of %s failed: %s", m->prog,
						     strerror(-err));
						return err;
					}
				}
			}
		}
		for (unsigned i = 0; i < b->nm; i++) {
			struct meas *m = &b->m[i], *ref, *one;

			ref = find(b, "reflector", m->family, m->payload, 1);
			one = m->one ? m->one : find(b, "nattrav", m->family, m->payload, 1);
			m->ratio[r] = m->mpps[r] / ref->mpps[r];
			m->wall_ratio[r] = m->wall_mpps[r] / ref->wall_mpps[r];
			m->ratio_1[r] = m->mpps[r] / one->mpps[r];
			m->extra_ns[r] = 1e3 / m->mpps[r] - 1e3 / ref->mpps[r];
		}
		unsigned pl = b->o.payload ? b->o.payload : payloads[0];
		struct meas *n4 = find(b, "nattrav-defaults", NT_FAMILY_V4, pl, 1);
		struct meas *n6 = find(b, "nattrav-defaults", NT_FAMILY_V6, pl, 1);
		logp("round %u/%u done in %.1f s (%u B, nattravd defaults: v4 %.2fx / %.2fx wall, "
		     "v6 %.2fx / %.2fx wall of the reflector)",
		     r + 1, b->o.rounds, now_s() - t0, pl, n4->ratio[r], n4->wall_ratio[r],
		     n6->ratio[r], n6->wall_ratio[r]);
		for (unsigned v = 0; v < b->o.nvar; v++) {
			n4 = find(b, b->o.var_name[v], NT_FAMILY_V4, pl, 1);
			n6 = find(b, b->o.var_name[v], NT_FAMILY_V6, pl, 1);
			logp("  %s: v4 %.2fx / %.2fx wall, v6 %.2fx / %.2fx wall", n4->prog,
			     n4->ratio[r], n4->wall_ratio[r], n6->ratio[r], n6->wall_ratio[r]);
		}
		for (unsigned i = 0; i < b->nm; i++)
			if (b->m[i].senders)
				logp("  %s (%u senders): %.2fx of 1 mapping", b->m[i].prog,
				     b->m[i].senders, b->m[i].ratio_1[r]);
	}
	return 0;
}

struct scale {
	double fill_loop_s, fill_batch_s, sweep_s, expire_s, delete_batch_s;
	int delete_batch_err;
	long long memlock_1, memlock_big, memlock_empty;
	double lookup_hot_ns, lookup_rand_ns;
};

/* Userspace lookups of one key again and again vs of random keys of the big map. */
static void lookup_cost(struct nt_inst *in, struct scale *s)
{
	const unsigned long n = 200000;
	struct nt_endpoint k;
	struct nt_mapping v, got;
	double t0;

	nt_endpoint_parse(SENDER4, &k);
	t0 = now_s();
	for (unsigned long i = 0; i < n; i++)
		nt_maps_get_mapping(&in->maps, &k, &got);
	s->lookup_hot_ns = (now_s() - t0) / (double)n * 1e9;
	srandom(8);
	t0 = now_s();
	for (unsigned long i = 0; i < n; i++) {
		synth_key((unsigned long)random() % in->n_mappings, &k, &v);
		nt_maps_get_mapping(&in->maps, &k, &got);
	}
	s->lookup_rand_ns = (now_s() - t0) / (double)n * 1e9;
}

/* After the rates: sweep, expire, refill by batch, delete by batch. */
static int scale_tail(struct nt_inst *big, struct scale *s)
{
	unsigned long n = big->n_mappings;
	double t0;
	int err;

	logp("scale: sweeping %lu mappings (lookup each, as the consent check does)", n);
	lookup_cost(big, s);
	t0 = now_s();
	if ((err = sweep(big, n, false)))
		return err;
	s->sweep_s = now_s() - t0;
	logp("scale: expiring %lu mappings (lookup + delete each)", n);
	t0 = now_s();
	if ((err = sweep(big, n, true)))
		return err;
	s->expire_s = now_s() - t0;
	s->memlock_empty = maps_memlock(big);
	logp("scale: refilling with bpf_map_update_batch, then bpf_map_delete_batch");
	t0 = now_s();
	if ((err = fill_batch(big, n)))
		return err;
	s->fill_batch_s = now_s() - t0;
	t0 = now_s();
	s->delete_batch_err = delete_batch(big, n);
	s->delete_batch_s = now_s() - t0;
	return 0;
}

static const char *fam_name(int f)
{
	return f == NT_FAMILY_V4 ? "IPv4" : "IPv6";
}

static void write_csv(struct bench *b, const struct scale *s, FILE *f)
{
	fprintf(f, "section,program,family,payload,mappings,metric,value\n");
	for (unsigned i = 0; i < b->nm; i++) {
		struct meas *m = &b->m[i];
		unsigned n = b->o.rounds;

		fprintf(f, "rate,%s,%s,%u,%lu,mpps_median,%.4f\n", m->prog, fam_name(m->family),
			m->payload, m->mappings, median(m->mpps, n));
		fprintf(f, "rate,%s,%s,%u,%lu,mpps_min,%.4f\n", m->prog, fam_name(m->family),
			m->payload, m->mappings, vmin(m->mpps, n));
		fprintf(f, "rate,%s,%s,%u,%lu,mpps_max,%.4f\n", m->prog, fam_name(m->family),
			m->payload, m->mappings, vmax(m->mpps, n));
		fprintf(f, "rate,%s,%s,%u,%lu,wall_mpps_median,%.4f\n", m->prog, fam_name(m->family),
			m->payload, m->mappings, median(m->wall_mpps, n));
		fprintf(f, "rate,%s,%s,%u,%lu,ratio_vs_reflector,%.4f\n", m->prog,
			fam_name(m->family), m->payload, m->mappings, median(m->ratio, n));
		fprintf(f, "rate,%s,%s,%u,%lu,wall_ratio_vs_reflector,%.4f\n", m->prog,
			fam_name(m->family), m->payload, m->mappings, median(m->wall_ratio, n));
		fprintf(f, "rate,%s,%s,%u,%lu,extra_ns_vs_reflector,%.1f\n", m->prog,
			fam_name(m->family), m->payload, m->mappings, median(m->extra_ns, n));
		if (!strcmp(m->prog, "nattrav") || m->senders)
			fprintf(f, "rate,%s,%s,%u,%lu,ratio_vs_1_mapping,%.4f\n", m->prog,
				fam_name(m->family), m->payload, m->mappings,
				median(m->ratio_1, n));
		fprintf(f, "rate,%s,%s,%u,%lu,bad_rounds,%u\n", m->prog, fam_name(m->family),
			m->payload, m->mappings, m->bad);
	}
	if (b->o.no_scale)
		return;
	fprintf(f, "scale,nattrav,,,%d,insert_loop_s,%.3f\n", BIG_MAPPINGS, s->fill_loop_s);
	fprintf(f, "scale,nattrav,,,%d,insert_batch_s,%.3f\n", BIG_MAPPINGS, s->fill_batch_s);
	fprintf(f, "scale,nattrav,,,%d,sweep_lookup_s,%.3f\n", BIG_MAPPINGS, s->sweep_s);
	fprintf(f, "scale,nattrav,,,%d,expire_lookup_delete_s,%.3f\n", BIG_MAPPINGS, s->expire_s);
	if (!s->delete_batch_err)
		fprintf(f, "scale,nattrav,,,%d,delete_batch_s,%.3f\n", BIG_MAPPINGS,
			s->delete_batch_s);
	fprintf(f, "scale,nattrav,,,2,memlock_bytes,%lld\n", s->memlock_1);
	fprintf(f, "scale,nattrav,,,%d,memlock_bytes,%lld\n", BIG_MAPPINGS, s->memlock_big);
	fprintf(f, "scale,nattrav,,,0,memlock_bytes,%lld\n", s->memlock_empty);
	fprintf(f, "scale,nattrav,,,%d,user_lookup_hot_ns,%.0f\n", BIG_MAPPINGS, s->lookup_hot_ns);
	fprintf(f, "scale,nattrav,,,%d,user_lookup_random_ns,%.0f\n", BIG_MAPPINGS,
		s->lookup_rand_ns);
}

static void md_rate_row(FILE *f, struct bench *b, struct meas *m)
{
	unsigned n = b->o.rounds;

	fprintf(f, "| %s | %s | %u | %lu | %.2f | %.2f–%.2f | %.2fx | %.2fx | %+.0f |", m->prog,
		fam_name(m->family), m->payload, m->mappings, median(m->mpps, n),
		vmin(m->mpps, n), vmax(m->mpps, n), median(m->ratio, n),
		median(m->wall_ratio, n), median(m->extra_ns, n));
	if (!strcmp(m->prog, "nattrav") || m->senders)
		fprintf(f, " %.2fx |", median(m->ratio_1, n));
	else
		fprintf(f, " |");
	fprintf(f, "%s\n", m->bad ? " (frames lost in some rounds)" : "");
}

static void write_md(struct bench *b, const struct scale *s, FILE *f)
{
	struct utsname u;
	char cpu[128] = "?", line[256], date[32];
	time_t t = time(NULL);
	FILE *ci = fopen("/proc/cpuinfo", "r");
	double worst_ref = 1e9, worst_1m = 1e9, worst_senders = 1e9;

	while (ci && fgets(line, sizeof(line), ci))
		if (sscanf(line, "model name : %127[^\n]", cpu) == 1)
			break;
	if (ci)
		fclose(ci);
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M", localtime(&t));
	fprintf(f, "# XDP fast path: per-packet cost and scale (%s)\n\n", date);
	fprintf(f, "Machine: %s, %ld CPUs online, kernel %s; benchmark pinned to CPU %d.\n",
		cpu, sysconf(_SC_NPROCESSORS_ONLN), u.release, b->o.cpu);
	fprintf(f, "%u rounds of %lu live frames (`BPF_F_TEST_XDP_LIVE_FRAMES`, batch 64) per "
		   "cell, programs alternated within each round; medians over rounds, ratios "
		   "and ns differences taken within a round, then the median. Mpps = 1000 / "
		   "the run's `duration` (ns per frame as the kernel times it: only while the "
		   "run holds the CPU, so other tasks of this shared machine stay out; the "
		   "veth peer's softirq is in). \"wall clock\" is the same ratio from the "
		   "rates by the wall clock around each run (`wall_mpps_median` in the CSV), "
		   "which other tasks' time does land in. XDP_TX leaves through a veth whose peer runs "
		   "bpf/nt_drop.bpf.c in native mode; every frame is checked to have arrived "
		   "there (and, for nattrav, to be counted `forwarded`).\n\n"
		   "The sink puts the frame's first 64 bytes back before it drops it: live-frame "
		   "mode recycles pages with the data the program left in them (it resets the "
		   "xdp_md, not the packet), and nattrav would otherwise see its own rewritten "
		   "frame, addressed to the peer, from the second batch on and pass it. The "
		   "`reflector-norestore` row is the reflector with a sink that only drops: "
		   "the restore's cost, the same for every row.\n\n",
		b->o.rounds, b->o.packets);
	fprintf(f, "## Rate (Mpps, one core)\n\n");
	fprintf(f, "| program | family | UDP payload (B) | mappings | Mpps median | min–max | vs "
		   "reflector | vs reflector, wall clock | ns/frame vs reflector | vs 1 mapping "
		   "|\n|---|---|---|---|---|---|---|---|---|---|\n");
	for (unsigned i = 0; i < b->nm; i++) {
		struct meas *m = &b->m[i];
		double r = median(m->ratio, b->o.rounds), r1 = median(m->ratio_1, b->o.rounds);

		md_rate_row(f, b, m);
		if (!strcmp(m->prog, "nattrav") && m->mappings == 1 && r < worst_ref)
			worst_ref = r;
		if (!strcmp(m->prog, "nattrav") && m->mappings == BIG_MAPPINGS && r1 < worst_1m)
			worst_1m = r1;
		if (!strcmp(m->prog, "nattrav-senders") && r1 < worst_senders)
			worst_senders = r1;
	}
	fprintf(f, "\nPrograms: `tx-only` returns XDP_TX untouched (transmit path alone); "
		   "`reflector` (bpf/nt_reflect.bpf.c) parses, swaps MACs, addresses and ports; "
		   "`nattrav` is bpf/nattrav.bpf.c with `NT_CONFIG_F_NO_FIB` (MAC swap); "
		   "`nattrav+fib` does the `bpf_fib_lookup` (forwarding on, the peer's "
		   "neighbour permanent, so the lookup succeeds and it is XDP_TX). "
		   "`nattrav-defaults` runs as nattravd does by default: the next hop the "
		   "daemon writes into the mapping (`--next-hop daemon`, `NT_ROUTE_DAEMON`) and "
		   "the rate limiter on, with the default bucket (`--burst 200` at `--max-pps "
		   "2000`: 1e8 ns) but a cost of 1 ns a frame, so that its code runs on every "
		   "frame and never drops one (at 2000 pps one sender would be refused after "
		   "200 frames); `--variant` rows run the same way, their `-1` and `-senders` "
		   "rows as `nattrav` and `nattrav-senders`. `nattrav-senders` "
		   "(`--senders N`, IPv4) is `nattrav` at 1M mappings with frames from N "
		   "senders in turn: the sink writes the next sender of the synthetic "
		   "population into each frame it puts back, so the recycled pages bring "
		   "nattrav a different source each time, cache-cold as with real traffic. "
		   "\"1 mapping\" means the v4 and the v6 sender only (2 entries). "
		   "In the other rows all frames come from one sender, so the lookup always "
		   "hits the same, cache-hot entry: live-frame mode replays one `data_in`.\n\n");
	fprintf(f, "Targets: nattrav ≥ 0.80x reflector — worst cell %.2fx (%s)", worst_ref,
		worst_ref >= 0.8 ? "met" : "NOT met");
	if (b->o.no_scale) {
		fprintf(f, ".\n");
		return;
	}
	fprintf(f, "; 1M mappings ≥ 0.85x of 1 — worst cell %.2fx (%s)", worst_1m,
		worst_1m >= 0.85 ? "met" : "NOT met");
	if (worst_senders < 1e9)
		fprintf(f, "; %u senders at 1M mappings ≥ 0.85x of 1 — worst cell %.2fx (%s)",
			b->o.senders, worst_senders, worst_senders >= 0.85 ? "met" : "NOT met");
	fprintf(f, ".\n\n");
	fprintf(f, "## Scale: %d mappings (BPF_F_NO_PREALLOC hash)\n\n", BIG_MAPPINGS);
	fprintf(f, "| measure | value |\n|---|---|\n");
	fprintf(f, "| insert, one `bpf_map_update_elem` each (daemon path) | %.2f s (%.2f µs each) |\n",
		s->fill_loop_s, s->fill_loop_s * 1e6 / BIG_MAPPINGS);
	fprintf(f, "| insert, `bpf_map_update_batch` (64k per call) | %.2f s |\n", s->fill_batch_s);
	fprintf(f, "| consent sweep, one lookup each (no expiry) | %.2f s |\n", s->sweep_s);
	fprintf(f, "| expire all, lookup + `bpf_map_delete_elem` each (daemon path) | %.2f s |\n",
		s->expire_s);
	if (s->delete_batch_err)
		fprintf(f, "| delete all, `bpf_map_delete_batch` | failed: %s |\n",
			strerror(-s->delete_batch_err));
	else
		fprintf(f, "| delete all, `bpf_map_delete_batch` | %.2f s |\n", s->delete_batch_s);
	fprintf(f, "| map memory (fdinfo memlock), 2 entries | %.1f MiB |\n",
		(double)s->memlock_1 / 1048576);
	fprintf(f, "| map memory, %d entries | %.1f MiB (%.0f B per mapping above the empty map) |\n",
		BIG_MAPPINGS, (double)s->memlock_big / 1048576,
		(double)(s->memlock_big - s->memlock_empty) / BIG_MAPPINGS);
	fprintf(f, "| map memory after expiring all | %.1f MiB |\n",
		(double)s->memlock_empty / 1048576);
	fprintf(f, "| userspace lookup, same key again and again | %.0f ns |\n", s->lookup_hot_ns);
	fprintf(f, "| userspace lookup, random key of the 1M | %.0f ns |\n", s->lookup_rand_ns);
	fprintf(f, "\nLookup cost in the fast path: the `nattrav` rows at 1M vs 1 mapping above "
		   "(one hot key); a cache-cold lookup per packet, as with many senders, is the "
		   "`nattrav-senders` row (`--senders N`). The userspace hot vs random "
		   "difference is the same miss seen from a system call.\n");
}

/*
 * Across cores (issue 14, item 3, --cpus N): each cell runs alone on each of
 * N CPUs, then on all N at once, one injector thread pinned to each CPU,
 * every injector calling the live-frame test run in chunks for the same
 * wall-clock time. Each CPU injects frames of its own sender (its own
 * mapping: two flows that RSS put on two queues) except in the "-shared"
 * cell, where every CPU sends as the same sender: the cost of CPUs writing
 * one mapping. The reflector's scaling in the same round is the machine's.
 */
#define CORES_CHUNK 65536 /* frames per test run: ~10 ms, the overshoot past run_ms */

struct core_cell {
	const char *prog;
	int family;
	int prog_fd;
	struct nt_inst *inst; /* NULL for the yardsticks */
	bool dflt, shared;
	/* per round: [0..N-1] alone on cpus[i], [N] all at once (aggregate) */
	double mpps[MAX_CPUS + 1][MAX_ROUNDS], wall_mpps[MAX_CPUS + 1][MAX_ROUNDS];
	double both_cpu[MAX_CPUS][MAX_ROUNDS]; /* each CPU's share of the aggregate, kernel */
	double scale[MAX_ROUNDS], wall_scale[MAX_ROUNDS]; /* aggregate / mean of alone */
	double rel_scale[MAX_ROUNDS];  /* scale / the reflector's scale, same round */
	double vs_ref_alone[MAX_ROUNDS], vs_ref_all[MAX_ROUNDS]; /* rate / reflector's */
	unsigned bad;
};

struct cores {
	struct bench *b;
	unsigned n;
	int cpus[MAX_CPUS];
	unsigned payload;
	uint8_t frames[N_FAMILIES][MAX_CPUS][PKT_MAX];
	size_t frame_len[N_FAMILIES];
	struct core_cell c[16];
	unsigned nc;
};

struct injector {
	pthread_t th;
	pthread_barrier_t *start;
	int cpu, prog_fd, ifindex;
	unsigned batch;
	const uint8_t *frame;
	size_t len;
	double run_s;
	unsigned long frames;
	double ktime_s, wall_s;
	int err;
};

static void *inject(void *arg)
{
	struct injector *in = arg;
	struct xdp_md ctx = { .data_end = (__u32)in->len, .ingress_ifindex = (__u32)in->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, to, .data_in = in->frame, .data_size_in = (__u32)in->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = CORES_CHUNK,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = in->batch);
	cpu_set_t set;
	double t0;

	CPU_ZERO(&set);
	CPU_SET(in->cpu, &set);
	in->err = sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
	pthread_barrier_wait(in->start);
	if (in->err)
		return NULL;
	t0 = now_s();
	do {
		if (bpf_prog_test_run_opts(in->prog_fd, &to)) {
			in->err = -errno;
			return NULL;
		}
		in->frames += CORES_CHUNK;
		/* duration: ns per frame while the run held the CPU (see run_live) */
		in->ktime_s += (double)to.duration * CORES_CHUNK / 1e9;
	} while ((in->wall_s = now_s() - t0) < in->run_s);
	return NULL;
}

static int percpu_read0(int fd, __u64 *v)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, v) ? -errno : 0;
}

/*
 * One run of a cell on the CPUs idx[0..k-1] of cs->cpus at once. Rates:
 * kernel = sum over CPUs of frames / kernel time, wall = sum of frames /
 * wall time; share[i] the kernel rate of the i-th.
 */
static int cores_run(struct cores *cs, struct core_cell *c, const unsigned *idx, unsigned k,
		     double *mpps, double *wall_mpps, double *share)
{
	int fi = c->family == NT_FAMILY_V4 ? 0 : 1, ncpu = libbpf_num_possible_cpus();
	const uint8_t *restore[CPU_SETSIZE] = { 0 };
	struct injector in[MAX_CPUS] = { 0 };
	struct nt_counter before[NT_STAT_MAX], after[NT_STAT_MAX];
	pthread_barrier_t start;
	unsigned long total = 0;
	__u64 d0[ncpu], d1[ncpu], got = 0;
	int err = 0;

	for (unsigned i = 0; i < k; i++) {
		unsigned slot = c->shared ? 0 : idx[i];

		in[i] = (struct injector){ .start = &start, .cpu = cs->cpus[idx[i]],
					   .prog_fd = c->prog_fd, .ifindex = cs->b->ifindex,
					   .frame = cs->frames[fi][slot], .len = cs->frame_len[fi],
					   .run_s = cs->b->o.run_ms / 1e3, .batch = cs->b->o.batch };
		restore[in[i].cpu] = in[i].frame;
	}
	if (c->inst && ((err = inst_config(c->inst, false, c->dflt)) ||
			(err = nt_maps_read_stats(&c->inst->maps, before))))
		return err;
	if ((err = set_restore_cpus(cs->b, NULL, restore, CPU_SETSIZE)) ||
	    (err = set_senders(cs->b, 0)) || (err = percpu_read0(cs->b->drop_fd, d0)))
		return err;
	pthread_barrier_init(&start, NULL, k);
	for (unsigned i = 0; i < k; i++)
		if ((err = -pthread_create(&in[i].th, NULL, inject, &in[i]))) {
			/* the others wait at the barrier forever: nothing to recover */
			logp("cannot start an injector thread: %s", strerror(-err));
			exit(1);
		}
	for (unsigned i = 0; i < k; i++) {
		pthread_join(in[i].th, NULL);
		err = err ? err : in[i].err;
		total += in[i].frames;
	}
	pthread_barrier_destroy(&start);
	if (err)
		return err;
	for (int i = 0; i < 100; i++) {
		if ((err = percpu_read0(cs->b->drop_fd, d1)))
			return err;
		got = 0;
		for (int j = 0; j < ncpu; j++)
			got += d1[j] - d0[j];
		if (got >= total)
			break;
		usleep(1000);
	}
	*mpps = *wall_mpps = 0;
	for (unsigned i = 0; i < k; i++) {
		share[i] = (double)in[i].frames / in[i].ktime_s / 1e6;
		*mpps += share[i];
		*wall_mpps += (double)in[i].frames / in[i].wall_s / 1e6;
	}
	/* more is the stack's own chatter on the veth (IPv6 neighbour discovery) */
	if (got < total)
		return -EPIPE;
	/* each CPU's frames came back to the sink on that CPU: its restore was theirs */
	for (unsigned i = 0; i < k; i++)
		if (d1[in[i].cpu] - d0[in[i].cpu] < in[i].frames)
			return -EXDEV;
	if (c->inst) {
		if ((err = nt_maps_read_stats(&c->inst->maps, after)))
			return err;
		if (after[NT_STAT_FORWARDED].packets - before[NT_STAT_FORWARDED].packets != total)
			return -EPROTO;
	}
	return 0;
}

static struct core_cell *cores_add(struct cores *cs, const char *prog, int fam, int fd,
				   struct nt_inst *inst, bool dflt, bool shared)
{
	struct core_cell *c = &cs->c[cs->nc++];

	*c = (struct core_cell){ .prog = prog, .family = fam, .prog_fd = fd, .inst = inst,
				 .dflt = dflt, .shared = shared };
	return c;
}

static struct core_cell *cores_find(struct cores *cs, const char *prog, int fam)
{
	for (unsigned i = 0; i < cs->nc; i++)
		if (!strcmp(cs->c[i].prog, prog) && cs->c[i].family == fam)
			return &cs->c[i];
	return NULL;
}

static int cores_rounds(struct cores *cs)
{
	unsigned n = cs->n, all[MAX_CPUS];
	double share[MAX_CPUS];

	for (unsigned i = 0; i < n; i++)
		all[i] = i;
	for (unsigned r = 0; r < cs->b->o.rounds; r++) {
		double t0 = now_s();

		for (unsigned k = 0; k < cs->nc; k++) {
			struct core_cell *c = &cs->c[(k + r) % cs->nc];

			/* alone on each CPU and all together, in a rotating order */
			for (unsigned j = 0; j <= n; j++) {
				unsigned w = (j + r) % (n + 1);
				int err = w < n ? cores_run(cs, c, &all[w], 1, &c->mpps[w][r],
							    &c->wall_mpps[w][r], share)
						: cores_run(cs, c, all, n, &c->mpps[n][r],
							    &c->wall_mpps[n][r], share);

				if (w == n && !err)
					for (unsigned i = 0; i < n; i++)
						c->both_cpu[i][r] = share[i];
				if (err == -EPIPE || err == -EPROTO || err == -EXDEV) {
					c->bad++;
					logp("round %u: %s %s on %s: %s", r + 1, c->prog,
					     fam_name(c->family), w < n ? "one CPU" : "all CPUs",
					     err == -EPIPE   ? "frames lost on the veth"
					     : err == -EXDEV ? "frames came back on another CPU"
							     : "not every frame forwarded");
				} else if (err) {
					logp("test run of %s failed: %s", c->prog, strerror(-err));
					return err;
				}
			}
		}
		for (unsigned i = 0; i < cs->nc; i++) {
			struct core_cell *c = &cs->c[i];
			double alone = 0, walone = 0;

			for (unsigned j = 0; j < n; j++) {
				alone += c->mpps[j][r] / n;
				walone += c->wall_mpps[j][r] / n;
			}
			c->scale[r] = c->mpps[n][r] / alone;
			c->wall_scale[r] = c->wall_mpps[n][r] / walone;
		}
		for (unsigned i = 0; i < cs->nc; i++) {
			struct core_cell *c = &cs->c[i], *ref = cores_find(cs, "reflector", c->family);
			double alone = 0, ralone = 0;

			for (unsigned j = 0; j < n; j++) {
				alone += c->mpps[j][r];
				ralone += ref->mpps[j][r];
			}
			c->rel_scale[r] = c->scale[r] / ref->scale[r];
			c->vs_ref_alone[r] = alone / ralone;
			c->vs_ref_all[r] = c->mpps[n][r] / ref->mpps[n][r];
		}
		struct core_cell *ref = cores_find(cs, "reflector", NT_FAMILY_V4),
				 *nd = cores_find(cs, "nattrav-defaults", NT_FAMILY_V4);
		logp("round %u/%u done in %.1f s (IPv4: reflector %.2fx on %u CPUs, "
		     "nattrav-defaults %.2fx)", r + 1, cs->b->o.rounds, now_s() - t0,
		     ref->scale[r], n, nd->scale[r]);
	}
	return 0;
}

static void cores_write_csv(struct cores *cs, FILE *f)
{
	unsigned n = cs->n, R = cs->b->o.rounds;

	fprintf(f, "program,family,payload,cpus,metric,value\n");
	for (unsigned i = 0; i < cs->nc; i++) {
		struct core_cell *c = &cs->c[i];
		const char *fam = fam_name(c->family);

		for (unsigned j = 0; j < n; j++)
			fprintf(f, "%s,%s,%u,%d,mpps_median,%.4f\n", c->prog, fam, cs->payload,
				cs->cpus[j], median(c->mpps[j], R));
		fprintf(f, "%s,%s,%u,all,mpps_median,%.4f\n", c->prog, fam, cs->payload,
			median(c->mpps[n], R));
		fprintf(f, "%s,%s,%u,all,wall_mpps_median,%.4f\n", c->prog, fam, cs->payload,
			median(c->wall_mpps[n], R));
		for (unsigned j = 0; j < n; j++)
			fprintf(f, "%s,%s,%u,%d,mpps_in_all_median,%.4f\n", c->prog, fam,
				cs->payload, cs->cpus[j], median(c->both_cpu[j], R));
		fprintf(f, "%s,%s,%u,all,scaling,%.4f\n", c->prog, fam, cs->payload,
			median(c->scale, R));
		fprintf(f, "%s,%s,%u,all,wall_scaling,%.4f\n", c->prog, fam, cs->payload,
			median(c->wall_scale, R));
		fprintf(f, "%s,%s,%u,all,scaling_vs_reflector,%.4f\n", c->prog, fam, cs->payload,
			median(c->rel_scale, R));
		fprintf(f, "%s,%s,%u,one,ratio_vs_reflector,%.4f\n", c->prog, fam, cs->payload,
			median(c->vs_ref_alone, R));
		fprintf(f, "%s,%s,%u,all,ratio_vs_reflector,%.4f\n", c->prog, fam, cs->payload,
			median(c->vs_ref_all, R));
		fprintf(f, "%s,%s,%u,all,bad_rounds,%u\n", c->prog, fam, cs->payload, c->bad);
	}
}

static void cores_write_md(struct cores *cs, FILE *f)
{
	unsigned n = cs->n, R = cs->b->o.rounds;
	char date[32];
	time_t t = time(NULL);

	strftime(date, sizeof(date), "%Y-%m-%d %H:%M", localtime(&t));
	fprintf(f, "# XDP fast path across %u CPUs (%s)\n\n", n, date);
	fprintf(f, "%u rounds; in each, every cell ran alone on each CPU (", R);
	for (unsigned j = 0; j < n; j++)
		fprintf(f, "%s%d", j ? ", " : "", cs->cpus[j]);
	fprintf(f, ") and on all of them at once, %u ms a run, one injector thread pinned to "
		   "each CPU calling the live-frame test run (batch %u) in chunks of %d frames; "
		   "%u-byte UDP payload; the veth has one rx queue per CPU. Mpps from the "
		   "kernel's `duration` of each run: the time the run holds its CPU, the "
		   "sink's softirq on that CPU included. The wall-clock figures (CSV only) "
		   "also hold each test run's setup and teardown (a page pool per call), "
		   "which on this VM take far longer while the other CPU idles: not a "
		   "measure of the fast path. "
		   "\"scaling\" = aggregate rate on all CPUs / the mean of the rates alone, "
		   "median over rounds of the per-round ratio; \"vs reflector's\" divides it by "
		   "the reflector's scaling of the same round (1.00: nattrav scales as well as "
		   "the machine does).\n\n",
		cs->b->o.run_ms, cs->b->o.batch, CORES_CHUNK, cs->payload);
	fprintf(f, "| program | family | alone, Mpps per CPU |"
		   " all CPUs, Mpps | each in the aggregate | scaling |"
		   " vs reflector's scaling | vs reflector alone / all |\n"
		   "|---|---|---|---|---|---|---|---|\n");
	for (unsigned i = 0; i < cs->nc; i++) {
		struct core_cell *c = &cs->c[i];

		fprintf(f, "| %s | %s | ", c->prog, fam_name(c->family));
		for (unsigned j = 0; j < n; j++)
			fprintf(f, "%s%.2f", j ? " / " : "", median(c->mpps[j], R));
		fprintf(f, " | %.2f | ", median(c->mpps[n], R));
		for (unsigned j = 0; j < n; j++)
			fprintf(f, "%s%.2f", j ? " / " : "", median(c->both_cpu[j], R));
		fprintf(f, " | %.2fx | %.2fx | %.2fx / %.2fx |%s\n", median(c->scale, R),
			median(c->rel_scale, R),
			median(c->vs_ref_alone, R), median(c->vs_ref_all, R),
			c->bad ? " (bad rounds)" : "");
	}
	fprintf(f, "\nCells: `tx-only` and `reflector` are the yardsticks of the single-CPU "
		   "benchmark; `nattrav` runs with `NT_CONFIG_F_NO_FIB`, `nattrav-defaults` as "
		   "nattravd does by default (the daemon's next hop, rate limiter on at 1 ns a "
		   "frame); in both each CPU's frames come from a sender of its own (one "
		   "mapping each). `nattrav-defaults-shared`: every CPU sends as the same sender, "
		   "so all CPUs write the one mapping's counters, timestamp and token bucket.\n");
}

static int cores_main(struct bench *b, struct nt_inst *inst, struct nt_reflect_bpf *refl)
{
	static struct cores cs;
	unsigned k = 0;
	FILE *f;
	int err;

	cs.b = b;
	cs.n = b->o.cpus;
	cs.payload = b->o.payload ? b->o.payload : payloads[0];
	/* the lowest CPUs of those this process was allowed to run on */
	for (int c = 0; c < CPU_SETSIZE && k < cs.n; c++)
		if (CPU_ISSET(c, &b->allowed))
			cs.cpus[k++] = c;
	if (k < cs.n) {
		logp("--cpus %u: only %u CPUs to run on", cs.n, k);
		return -EINVAL;
	}
	for (int fi = 0; fi < N_FAMILIES; fi++)
		for (unsigned s = 0; s < cs.n; s++)
			cs.frame_len[fi] = make_frame(families[fi], cs.payload, s, cs.frames[fi][s]);
	for (int fi = 0; fi < N_FAMILIES; fi++) {
		int fam = families[fi];

		cores_add(&cs, "tx-only", fam, bpf_program__fd(refl->progs.nt_tx_only), NULL,
			  false, false);
		cores_add(&cs, "reflector", fam, bpf_program__fd(refl->progs.nt_reflect), NULL,
			  false, false);
		cores_add(&cs, "nattrav", fam, inst[0].prog_fd, &inst[0], false, false);
		cores_add(&cs, "nattrav-defaults", fam, inst[3].prog_fd, &inst[3], true, false);
		cores_add(&cs, "nattrav-defaults-shared", fam, inst[3].prog_fd, &inst[3], true,
			  true);
	}
	logp("%u rounds x %u cells x %u runs of %u ms on CPUs %d..%d", b->o.rounds, cs.nc,
	     cs.n + 1, b->o.run_ms, cs.cpus[0], cs.cpus[cs.n - 1]);
	if ((err = cores_rounds(&cs)))
		return err;
	if (b->o.csv) {
		if (!(f = fopen(b->o.csv, "w")))
			return -errno;
		cores_write_csv(&cs, f);
		fclose(f);
	} else {
		cores_write_csv(&cs, stdout);
	}
	if (b->o.md) {
		if (!(f = fopen(b->o.md, "w")))
			return -errno;
		cores_write_md(&cs, f);
		fclose(f);
	}
	return 0;
}

static int usage(const char *argv0, int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: %s [--rounds N] [--packets N] [--cpu N] [--csv FILE] [--md FILE]\n"
		"          [--nattrav-obj FILE] [--no-scale] [--payload 64|200|1200]\n"
		"          [--senders N] [--variant NAME=FILE]...\n"
		"          [--cpus N [--run-ms MS] [--batch N]]\n"
		"Rates of nattrav's XDP program against a bare reflector (live frames on a veth\n"
		"in a namespace of its own) and 1M-mapping scale figures. Needs root.\n"
		"  --nattrav-obj  load this object instead of the built-in nattrav (experiments)\n"
		"  --no-scale     1 mapping only: no 10k/1M cells, no scale figures\n"
		"  --payload      only frames of this UDP payload size\n"
		"  --senders N    also an IPv4 row at 1M mappings whose frames come from N\n"
		"                 senders in turn (the sink rewrites each frame's source)\n"
		"  --variant      also measure this build of nattrav as program NAME, in the\n"
		"                 same rounds (up to 6), as nattrav-defaults: 1 mapping, the\n"
		"                 daemon's next hop, rate limiter on (1 ns a frame); with\n"
		"                 --senders also NAME-1 and NAME-senders, as nattrav and\n"
		"                 nattrav-senders (a second instance at 1M mappings)\n"
		"  --cpus N       instead: each program alone on each of N CPUs and on all N\n"
		"                 at once (one pinned injector each, a sender of its own),\n"
		"                 aggregate rate and scaling; --run-ms per run (500),\n"
		"                 --batch frames per test-run batch (64, up to 256)\n"
		"EXAMPLES\n"
		"  %s --rounds 3 --packets 300000 --csv /tmp/x.csv --md /tmp/x.md\n",
		argv0, argv0);
	return rc;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "packets", required_argument, NULL, 'p' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "csv", required_argument, NULL, 'o' },
		{ "md", required_argument, NULL, 'm' },
		{ "nattrav-obj", required_argument, NULL, 'b' },
		{ "no-scale", no_argument, NULL, 's' },
		{ "payload", required_argument, NULL, 'l' },
		{ "senders", required_argument, NULL, 'S' },
		{ "variant", required_argument, NULL, 'v' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "run-ms", required_argument, NULL, 'T' },
		{ "batch", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long v;
	int c;

	*o = (struct opts){ .rounds = 5, .packets = 2000000, .cpu = -1, .run_ms = 500,
			    .batch = 64 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (parse_ulong(optarg, 1, MAX_ROUNDS, &v))
				return usage(argv[0], 2);
			o->rounds = (unsigned)v;
			break;
		case 'p':
			if (parse_ulong(optarg, 1000, UINT_MAX, &v))
				return usage(argv[0], 2);
			o->packets = v;
			break;
		case 'c':
			if (parse_ulong(optarg, 0, CPU_SETSIZE - 1, &v))
				return usage(argv[0], 2);
			o->cpu = (int)v;
			break;
		case 'o': o->csv = optarg; break;
		case 'm': o->md = optarg; break;
		case 'b': o->obj = optarg; break;
		case 's': o->no_scale = true; break;
		case 'S':
			if (parse_ulong(optarg, 1, (BIG_MAPPINGS - 2) / 2, &v))
				return usage(argv[0], 2);
			o->senders = (unsigned)v;
			break;
		case 'C':
			if (parse_ulong(optarg, 2, MAX_CPUS, &v))
				return usage(argv[0], 2);
			o->cpus = (unsigned)v;
			break;
		case 'B':
			/* the kernel's limit, NAPI_POLL_WEIGHT * 4 */
			if (parse_ulong(optarg, 1, 256, &v))
				return usage(argv[0], 2);
			o->batch = (unsigned)v;
			break;
		case 'T':
			if (parse_ulong(optarg, 50, 60000, &v))
				return usage(argv[0], 2);
			o->run_ms = (unsigned)v;
			break;
		case 'l':
			if (parse_ulong(optarg, 1, UINT_MAX, &v))
				return usage(argv[0], 2);
			for (unsigned i = 0; i < N_PAYLOADS; i++)
				if (payloads[i] == v)
					o->payload = (unsigned)v;
			if (!o->payload)
				return usage(argv[0], 2);
			break;
		case 'v': {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || !eq[1] || o->nvar == MAX_VARIANTS)
				return usage(argv[0], 2);
			*eq = '\0';
			o->var_name[o->nvar] = optarg;
			if (asprintf(&o->var_one[o->nvar], "%s-1", optarg) < 0 ||
			    asprintf(&o->var_senders[o->nvar], "%s-senders", optarg) < 0)
				return 1;
			o->var_obj[o->nvar++] = eq + 1;
			break;
		}
		case 'h': exit(usage(argv[0], 0));
		default: return usage(argv[0], 2);
		}
	}
	if (o->cpus && (o->senders || o->nvar)) {
		fprintf(stderr, "%s: --cpus takes neither --senders nor --variant\n", argv[0]);
		return 2;
	}
	return optind < argc ? usage(argv[0], 2) : 0;
}

/* The last CPU we may run on: CPU 0 takes most of the machine's interrupts. */
static int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0) {
		if (sched_getaffinity(0, sizeof(set), &set))
			return -errno;
		for (int i = CPU_SETSIZE - 1; i >= 0; i--)
			if (CPU_ISSET(i, &set)) {
				cpu = i;
				break;
			}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : cpu;
}

static int write_out(struct bench *b, const struct scale *s)
{
	FILE *f;

	if (b->o.csv) {
		if (!(f = fopen(b->o.csv, "w")))
			return -errno;
		write_csv(b, s, f);
		fclose(f);
	} else {
		write_csv(b, s, stdout);
	}
	if (b->o.md) {
		if (!(f = fopen(b->o.md, "w")))
			return -errno;
		write_md(b, s, f);
		fclose(f);
	}
	return 0;
}

static int setup_programs(struct bench *b, struct nt_inst *inst, struct nt_inst *var,
			  struct nt_reflect_bpf *refl)
{
	static const unsigned long sizes[] = { 1, 10000, BIG_MAPPINGS };

	for (int f = 0; f < N_FAMILIES; f++) {
		for (unsigned p = 0; p < N_PAYLOADS; p++) {
			int fam = families[f];
			unsigned pl = payloads[p];

			if (b->o.payload && pl != b->o.payload)
				continue;

			b->frame_len[f][p] = make_frame(fam, pl, 0, b->frames[f][p]);
			add(b, "tx-only", fam, pl, 1, bpf_program__fd(refl->progs.nt_tx_only),
			    NULL, false);
			add(b, "reflector", fam, pl, 1, bpf_program__fd(refl->progs.nt_reflect),
			    NULL, false);
			add(b, "reflector-norestore", fam, pl, 1,
			    bpf_program__fd(refl->progs.nt_reflect), NULL, false)->no_restore = true;
			for (unsigned s = 0; s < (b->o.no_scale ? 1 : 3); s++)
				add(b, "nattrav", fam, pl, sizes[s], inst[s].prog_fd, &inst[s],
				    false);
			if (!b->o.no_scale && b->o.senders && fam == NT_FAMILY_V4) {
				struct meas *m = add(b, "nattrav-senders", fam, pl, BIG_MAPPINGS,
						     inst[2].prog_fd, &inst[2], false);

				m->senders = b->o.senders;
			}
			add(b, "nattrav+fib", fam, pl, 1, inst[0].prog_fd, &inst[0], true);
			add(b, "nattrav-defaults", fam, pl, 1, inst[3].prog_fd, &inst[3],
			    false)->dflt = true;
			for (unsigned v = 0; v < b->o.nvar; v++) {
				struct meas *one, *m;

				add(b, b->o.var_name[v], fam, pl, 1, var[v].prog_fd, &var[v],
				    false)->dflt = true;
				if (!var[MAX_VARIANTS + v].obj || fam != NT_FAMILY_V4)
					continue;
				/* as nattrav and nattrav-senders, for this build */
				one = add(b, b->o.var_one[v], fam, pl, 1, var[v].prog_fd, &var[v],
					  false);
				m = add(b, b->o.var_senders[v], fam, pl, BIG_MAPPINGS,
					var[MAX_VARIANTS + v].prog_fd, &var[MAX_VARIANTS + v], false);
				m->senders = b->o.senders;
				m->one = one;
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b;
	/* 1, 10k, 1M mappings; [3]: 1 mapping with the daemon's next hop */
	/* var[MAX_VARIANTS + v]: variant v at 1M mappings, with --senders */
	struct nt_inst inst[4] = { 0 }, var[2 * MAX_VARIANTS] = { 0 };
	struct nt_reflect_bpf *refl = NULL;
	struct nt_drop_bpf *drop = NULL;
	struct scale s = { 0 };
	int err, peer, cpu;
	double t0;

	bench_name = "bench-xdp";

	if ((err = parse_opts(argc, argv, &b.o)))
		return err;
	libbpf_set_print(libbpf_quiet);
	if (sched_getaffinity(0, sizeof(b.allowed), &b.allowed)) {
		logp("cannot read the CPU affinity: %s", strerror(errno));
		return 1;
	}
	if ((cpu = pin_cpu(b.o.cpu)) < 0) {
		logp("cannot pin to a CPU: %s", strerror(-cpu));
		return 1;
	}
	b.o.cpu = cpu;
	if ((err = make_topology(b.o.cpus > 1 ? b.o.cpus : 1)))
		goto out;
	b.ifindex = (int)if_nametoindex(DEV_IN);
	peer = (int)if_nametoindex(DEV_PEER);
	refl = nt_reflect_bpf__open_and_load();
	drop = nt_drop_bpf__open_and_load();
	if (!refl || !drop) {
		err = -errno;
		logp("cannot load the reflector or the drop program: %s", strerror(-err));
		goto out;
	}
	b.drop_fd = bpf_map__fd(drop->maps.nt_drop_count);
	b.orig_fd = bpf_map__fd(drop->maps.nt_drop_orig);
	b.vary_fd = bpf_map__fd(drop->maps.nt_drop_vary);
	if (bpf_map__value_size(drop->maps.nt_drop_orig) != NT_DROP_HEAD_LEN) {
		err = -EINVAL;
		logp("nt_drop_orig holds %u bytes, the benchmark writes %d",
		     bpf_map__value_size(drop->maps.nt_drop_orig), NT_DROP_HEAD_LEN);
		goto out;
	}
	if ((err = bpf_xdp_attach(peer, bpf_program__fd(drop->progs.nt_drop),
				  XDP_FLAGS_DRV_MODE, NULL))) {
		logp("cannot attach the drop program to %s: %s", DEV_PEER, strerror(-err));
		goto out;
	}
	for (int i = 0; i < 4; i++) {
		if ((err = inst_open(&inst[i], b.o.obj))) {
			logp("cannot load nattrav: %s", strerror(-err));
			goto out;
		}
		if ((err = put_senders(&inst[i], i == 3 ? b.ifindex : 0,
				       b.o.cpus > 1 ? b.o.cpus : 1)))
			goto out;
	}
	s.memlock_1 = maps_memlock(&inst[0]);
	inst[0].n_mappings = 2;
	if (b.o.cpus) {
		err = cores_main(&b, inst, refl);
		goto out;
	}
	if (b.o.no_scale)
		goto rates;
	logp("pinned to CPU %d; filling 10k mappings", cpu);
	if ((err = fill_loop(&inst[1], 10000 - 2)))
		goto out;
	inst[1].n_mappings = 10000;
	logp("filling %d mappings, one update each", BIG_MAPPINGS);
	t0 = now_s();
	if ((err = fill_loop(&inst[2], BIG_MAPPINGS - 2))) {
		logp("fill failed: %s", strerror(-err));
		goto out;
	}
	s.fill_loop_s = now_s() - t0;
	inst[2].n_mappings = BIG_MAPPINGS - 2;
	s.memlock_big = maps_memlock(&inst[2]);
	logp("filled in %.2f s; map memory %.1f MiB", s.fill_loop_s,
	     (double)s.memlock_big / 1048576);
rates:
	for (unsigned v = 0; v < b.o.nvar; v++) {
		if ((err = inst_open(&var[v], b.o.var_obj[v])) || (err = put_senders(&var[v], b.ifindex, 1))) {
			logp("cannot load variant %s: %s", b.o.var_obj[v], strerror(-err));
			goto out;
		}
		if (b.o.no_scale || !b.o.senders)
			continue;
		/* the same many-senders row for this build, at 1M mappings of its own */
		logp("variant %s: filling %d mappings", b.o.var_name[v], BIG_MAPPINGS);
		if ((err = inst_open(&var[MAX_VARIANTS + v], b.o.var_obj[v])) ||
		    (err = put_senders(&var[MAX_VARIANTS + v], 0, 1)) ||
		    (err = fill_loop(&var[MAX_VARIANTS + v], BIG_MAPPINGS - 2))) {
			logp("cannot fill variant %s: %s", b.o.var_obj[v], strerror(-err));
			goto out;
		}
	}
	setup_programs(&b, inst, var, refl);
	logp("%u rounds x %u cells x %lu frames", b.o.rounds, b.nm, b.o.packets);
	if ((err = run_rounds(&b)))
		goto out;
	if (!b.o.no_scale && (err = scale_tail(&inst[2], &s))) {
		logp("scale measurements failed: %s", strerror(-err));
		goto out;
	}
	err = write_out(&b, &s);
out:
	for (int i = 0; i < 4; i++)
		bpf_object__close(inst[i].obj);
	for (int i = 0; i < 2 * MAX_VARIANTS; i++)
		bpf_object__close(var[i].obj);
	nt_reflect_bpf__destroy(refl);
	nt_drop_bpf__destroy(drop);
	if (err)
		logp("failed: %s", strerror(err < 0 ? -err : err));
	return err ? 1 : 0;
}
