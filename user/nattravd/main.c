// SPDX-License-Identifier: GPL-2.0
/*
 * nattravd: startup and shutdown. Everything that can be wrong with the
 * settings is found before anything is attached: bad flags, unreadable
 * files and a missing interface exit with 2 and touch nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <openssl/crypto.h>
#include <systemd/sd-daemon.h>
#include "fleet.h"
#include "nattravd.h"
#include "nt_iface.h"
#include "nt_log.h"
#include "nt_wire.h"

const char *nd_mode_name(enum nt_xdp_mode m)
{
	return m == NT_XDP_NATIVE ? "native" : m == NT_XDP_SKB ? "skb" : "off";
}

static int setup_addrs(struct nd *d)
{
	uint8_t v4[4] = { 0 }, v6[16] = { 0 }, zero[16] = { 0 };
	int err;

	if (d->conf.have_v4 || d->conf.have_v6)
		return 0;
	err = nt_iface_addrs(d->conf.iface, v4, v6);
	if (err) {
		fprintf(stderr, "nattravd: %s has no address to relay on; give --addr\n",
			d->conf.iface);
		return err;
	}
	if (memcmp(v4, zero, 4)) {
		memcpy(d->conf.addr_v4, v4, 4);
		d->conf.have_v4 = true;
	}
	if (memcmp(v6, zero, 16)) {
		memcpy(d->conf.addr_v6, v6, 16);
		d->conf.have_v6 = true;
	}
	return 0;
}

/* Load (or reuse) the program and maps, tell it where we relay, attach. */
static int setup_bpf(struct nd *d)
{
	struct nt_prog_desc f;
	struct nt_config cfg;
	enum nt_xdp_mode used;
	int err;

	/* before load: a refusal must not carry pinned maps over to a new layout */
	if (d->conf.xdp_mode != NT_XDP_OFF && !d->conf.force &&
	    nt_xdp_find_foreign(d->ifindex, &f) == -EBUSY) {
		nt_err("%s runs %s program %u (%s), not nattrav's: not replacing it (--force "
		       "replaces it; --xdp-mode off relays beside it in userspace)",
		       d->conf.iface, f.hook, f.id, f.name);
		return -EBUSY;
	}
	err = nt_xdp_load(&d->xdp, d->conf.pin_dir);
	if (err)
		return err;
	nt_xdp_maps(d->xdp, &d->maps);
	nd_turn_forget_xdp(d);
	/* flags an operator set with nattravctl stay; the rate limit is ours (--max-pps) */
	if (nt_maps_get_config(&d->maps, &cfg))
		memset(&cfg, 0, sizeof(cfg));
	memset(cfg.relay_v4, 0, sizeof(cfg.relay_v4));
	memset(cfg.relay_v6, 0, sizeof(cfg.relay_v6));
	cfg.media_port = d->conf.media_port;
	cfg.flags &= (__u16)~NT_CONFIG_F_TURN;
	if (d->turn)
		cfg.flags |= NT_CONFIG_F_TURN;
	if (d->conf.have_v4)
		memcpy(cfg.relay_v4, d->conf.addr_v4, 4);
	if (d->conf.have_v6)
		memcpy(cfg.relay_v6, d->conf.addr_v6, 16);
	nt_fwd_rate_config(d->conf.max_pps, d->conf.burst, &d->pkt_cost_ns, &d->burst_ns);
	cfg.pkt_cost_ns = d->pkt_cost_ns;
	cfg.burst_ns = d->burst_ns;
	err = nt_maps_set_config(&d->maps, &cfg);
	if (err) {
		nt_err("cannot write the relay config map: %s", strerror(-err));
		return err;
	}
	err = nd_orphans_adopt(d);
	if (err)
		nt_warn("adopting the mappings already pinned failed: %s", strerror(-err));
	d->mode = d->conf.xdp_mode;
	if (d->mode == NT_XDP_OFF) {
		__u32 id = 0;

		/* a program a previous run left (--keep-on-exit) would still forward */
		if (!bpf_xdp_query_id(d->ifindex, 0, &id) && id) {
			nt_xdp_detach_ifindex(d->ifindex, &f);
			if (f.id)
				nt_info("%s runs %s program %u (%s), not nattrav's: left in place",
					d->conf.iface, f.hook, f.id, f.name);
			else
				nt_info("removed the XDP program left on %s: forwarding in userspace",
					d->conf.iface);
		}
		return 0;
	}
	err = nt_xdp_attach(d->xdp, d->ifindex, d->mode, d->conf.force, &used);
	if (err == -EBUSY)
		return err; /* another's program, attached since the check above */
	if (err) {
		nt_warn("XDP cannot be attached to %s (%s): forwarding media in userspace",
			d->conf.iface, strerror(-err));
		d->mode = NT_XDP_OFF;
		return 0;
	}
	d->mode = used;
	return 0;
}

static void log_up(struct nd *d)
{
	char a4[INET_ADDRSTRLEN] = "-", a6[INET6_ADDRSTRLEN] = "-";

	if (d->conf.have_v4)
		inet_ntop(AF_INET, d->conf.addr_v4, a4, sizeof(a4));
	if (d->conf.have_v6)
		inet_ntop(AF_INET6, d->conf.addr_v6, a6, sizeof(a6));
	nt_info("nattravd up on %s: relay %s %s, control port %u (TLS), media port %u, xdp %s, next hop %s, maps under %s, consent %u s",
		d->conf.iface, a4, a6, d->conf.control_port, d->conf.media_port,
		nd_mode_name(d->mode), d->mode == NT_XDP_OFF ? "kernel stack" : nd_nh_mode_name(d->conf.next_hop),
		d->conf.pin_dir, d->conf.consent_s);
}

const char *nd_secrets_errstr(int err)
{
	static char b[96];

	if (err == -ENODATA)
		return "empty";
	if (err == -EFBIG)
		return "a line longer than 4096 bytes";
	if (err == -E2BIG)
		snprintf(b, sizeof(b), "more than %d secrets", NT_TOKEN_SECRETS_MAX);
	else
		snprintf(b, sizeof(b), "%s", strerror(-err));
	return b;
}

int main(int argc, char **argv)
{
	static struct nd d;
	uint8_t rl_key[16];
	bool help;
	int rc, err;

	d.epfd = d.sig.fd = d.timer.fd = d.ctl.fd = d.metrics.fd = -1;
	d.start_ns = nd_now_ns();
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		d.start_unix_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
	d.argc = argc;
	d.argv = argv;
	rc = nd_conf_parse(&d.conf, argc, argv, &help);
	if (rc || help) {
		nd_conf_free(&d.conf);
		nd_conf_strings_free();
		return rc;
	}
	nt_log_set_level(d.conf.log_level);
	nt_log_hook_libbpf();
	rc = ND_EXIT_USAGE;
	err = nt_token_read_secrets(d.conf.secret_file, &d.secrets);
	if (err) {
		fprintf(stderr, "nattravd: --auth-secret-file %s: %s\n", d.conf.secret_file,
			nd_secrets_errstr(err));
		goto out;
	}
	memcpy(d.secret, d.secrets.key[0], d.secrets.len[0]);
	d.secret_len = d.secrets.len[0];
	if (nt_ticket_key(d.secret, d.secret_len, d.ticket_key))
		goto out;
	if (nd_tls_ctx(d.conf.cert, d.conf.key, d.conf.client_ca, &d.ssl_ctx))
		goto out;
	d.ifindex = nt_iface_index(d.conf.iface);
	if (d.ifindex < 0) {
		fprintf(stderr, "nattravd: no interface named '%s'\n", d.conf.iface);
		goto out;
	}
	if (setup_addrs(&d))
		goto out;
	if (nd_fleet_open(&d))
		goto out;

	rc = ND_EXIT_FAIL;
	d.replies = calloc(1, sizeof(*d.replies));
	if (!d.replies || nt_wire_random(rl_key, sizeof(rl_key)) ||
	    nd_sessions_init(&d) ||
	    nt_verify_init(&d.ver, 4096) ||
	    nt_fwd_init(&d.fwd, d.conf.max_mappings < (1u << 20) ? d.conf.max_mappings : (1u << 20))) {
		nt_err("out of memory");
		goto out;
	}
	nt_ratelimit_init(d.replies, ND_ANSWERS_PER_ADDR_SEC, rl_key);
	nt_sessions_set_max_members(&d.st, d.conf.max_members);
	err = nd_loop_init(&d);
	if (err) {
		nt_err("cannot set up the event loop: %s", strerror(-err));
		goto out;
	}
	/* sockets before XDP: a port in use must not leave a program attached */
	if (nd_listen_open(&d) || nd_media_open(&d))
		goto out;
	if (nd_metrics_open(&d))
		goto out;
	err = nd_turn_open(&d);
	if (err) {
		if (err != -EINVAL && err != -ENOENT)
			nt_err("TURN: %s", strerror(-err));
		goto out;
	}
	err = setup_bpf(&d);
	if (err) {
		/* missing capabilities: a restart cannot help (RestartPreventExitStatus=2) */
		if (err == -EPERM)
			rc = ND_EXIT_USAGE;
		goto out;
	}
	if (nd_nh_open(&d) || nd_ctl_open(&d) || nd_listen_start(&d))
		goto out;
	log_up(&d);
	/* Type=notify: the control port accepts from now on */
	sd_notifyf(0, "READY=1\nSTATUS=relaying on %s, xdp %s", d.conf.iface,
		   nd_mode_name(d.mode));
	d.last_stats_ns = nd_now_ns();
	rc = nd_loop_run(&d) ? ND_EXIT_FAIL : 0;
	sd_notify(0, "STOPPING=1");

	/* clean shutdown: clients told, sessions' mappings removed, XDP off */
	d.stop = true;
	nd_conns_shutdown(&d);
	if (!d.conf.keep_on_exit) {
		nd_mappings_clear(&d);
		if (d.xdp && d.mode != NT_XDP_OFF)
			nt_xdp_detach(d.xdp);
		nt_info("shutdown complete: mappings removed%s",
			d.mode != NT_XDP_OFF ? ", XDP detached" : "");
	} else {
		nt_info("shutdown complete: --keep-on-exit, XDP (%s) and %zu mappings left in place",
			nd_mode_name(d.mode), d.nmappings);
	}
out:
	nd_conns_shutdown(&d);
	nd_fleet_close(&d);
	nd_ctl_close(&d);
	nd_metrics_close(&d);
	nd_turn_close(&d);
	nd_nh_close(&d);
	for (int i = 0; i < d.nlisten; i++)
		close(d.listen[i].fd);
	for (int i = 0; i < d.nmedia; i++)
		close(d.media[i].fd);
	if (d.sig.fd >= 0)
		close(d.sig.fd);
	if (d.timer.fd >= 0)
		close(d.timer.fd);
	if (d.epfd >= 0)
		close(d.epfd);
	nt_xdp_close(d.xdp);
	nt_sessions_free(&d.st);
	nt_verify_free(&d.ver);
	free(d.replies);
	if (d.fwd.b)
		nt_fwd_free(&d.fwd);
	free(d.orphans);
	SSL_CTX_free(d.ssl_ctx);
	OPENSSL_cleanse(d.secret, sizeof(d.secret));
	OPENSSL_cleanse(&d.secrets, sizeof(d.secrets));
	nd_conf_free(&d.conf);
	nd_conf_strings_free();
	return rc;
}
