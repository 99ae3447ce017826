// SPDX-License-Identifier: GPL-2.0
/*
 * SIGHUP (systemctl reload): parse the same flags and config file again and
 * apply what can change without a restart: log level, deny ranges, consent
 * window, mapping and member quotas, sender rate, keep-on-exit, auth secret,
 * certificate and key (for new connections). Everything is checked first;
 * a bad setting keeps all the running ones. What needs a restart is named
 * in a warning.
 */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include "nattravd.h"
#include "nt_log.h"

static bool str_changed(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static void warn_fixed(const struct nd_conf *old, const struct nd_conf *nc)
{
	static const char fmt[] = "reload: %s changed; it takes a restart, the running value stays";

	if (str_changed(old->iface, nc->iface))
		nt_warn(fmt, "iface");
	/* no --addr means the interface's addresses, which startup filled in */
	if ((nc->have_v4 || nc->have_v6) &&
	    (nc->have_v4 != old->have_v4 || nc->have_v6 != old->have_v6 ||
	     memcmp(nc->addr_v4, old->addr_v4, 4) || memcmp(nc->addr_v6, old->addr_v6, 16)))
		nt_warn(fmt, "addr");
	if (nc->control_port != old->control_port)
		nt_warn(fmt, "control-port");
	if (nc->media_port != old->media_port)
		nt_warn(fmt, "media-port");
	if (str_changed(old->pin_dir, nc->pin_dir))
		nt_warn(fmt, "pin-dir");
	if (nc->xdp_mode != old->xdp_mode)
		nt_warn(fmt, "xdp-mode");
	if (nc->next_hop != old->next_hop)
		nt_warn(fmt, "next-hop");
	if (nc->max_groups != old->max_groups)
		nt_warn(fmt, "max-groups");
	/* TURN's settings size its tables and sockets at start */
	if (str_changed(old->turn.secret_file, nc->turn.secret_file))
		nt_warn(fmt, "turn-secret-file");
	if (str_changed(old->turn.realm, nc->turn.realm))
		nt_warn(fmt, "turn-realm");
	if (nc->turn.port_min != old->turn.port_min || nc->turn.port_max != old->turn.port_max)
		nt_warn(fmt, "turn-ports");
	if (nc->turn.tcp_port != old->turn.tcp_port || nc->turn.max_tcp != old->turn.max_tcp ||
	    nc->turn.tls_port != old->turn.tls_port)
		nt_warn(fmt, "turn-tcp-port/turn-tls-port/turn-max-tcp");
	if (nc->turn.max_allocations != old->turn.max_allocations ||
	    nc->turn.max_per_user != old->turn.max_per_user ||
	    nc->turn.max_lifetime_s != old->turn.max_lifetime_s)
		nt_warn(fmt, "turn-max-allocations, turn-max-per-user or turn-max-lifetime");
	if (nc->max_connections != old->max_connections)
		nt_warn(fmt, "max-connections");
	if (nc->max_unauth != old->max_unauth)
		nt_warn(fmt, "max-unauth");
	if (str_changed(old->ctl_socket, nc->ctl_socket))
		nt_warn(fmt, "ctl-socket");
	if (memcmp(&nc->metrics, &old->metrics, sizeof(nc->metrics)))
		nt_warn(fmt, "metrics");
	/* the fleet's connection and identity: a relay renamed live would orphan its groups */
	if (str_changed(old->redis, nc->redis))
		nt_warn(fmt, "redis");
	if (str_changed(old->redis_password_file, nc->redis_password_file))
		nt_warn(fmt, "redis-password-file");
	if (str_changed(old->relay_id, nc->relay_id))
		nt_warn(fmt, "relay-id");
	if (str_changed(old->advertise, nc->advertise))
		nt_warn(fmt, "advertise");
}

int nd_reload(struct nd *d)
{
	struct nd_conf nc;
	static struct nt_token_secrets secrets;
	SSL_CTX *ctx = NULL;
	bool help;
	int err;

	nt_info("SIGHUP: reloading settings");
	if (nd_conf_parse(&nc, d->argc, d->argv, &help) || help) {
		nt_err("reload: settings refused (see above), the running ones stay");
		nd_conf_free(&nc);
		return -EINVAL;
	}
	err = nt_token_read_secrets(nc.secret_file, &secrets);
	if (err) {
		nt_err("reload: --auth-secret-file %s: %s; the running settings stay", nc.secret_file,
		       nd_secrets_errstr(err));
		goto fail;
	}
	err = nd_tls_ctx(nc.cert, nc.key, nc.client_ca, &ctx);
	if (err) {
		nt_err("reload: certificate or key refused (see above); the running settings stay");
		goto fail;
	}
	warn_fixed(&d->conf, &nc);

	/* commit: connections already up keep the context they were made with */
	SSL_CTX_free(d->ssl_ctx);
	d->ssl_ctx = ctx;
	d->secrets = secrets;
	memcpy(d->secret, secrets.key[0], secrets.len[0]);
	d->secret_len = secrets.len[0];
	/* a new first secret retires the tickets sealed under the old one */
	nt_ticket_key(d->secret, d->secret_len, d->ticket_key);
	d->conf.cert = nc.cert;
	d->conf.key = nc.key;
	nd_turn_tls_reload(d);
	d->conf.secret_file = nc.secret_file;
	nt_deny_free(&d->conf.deny);
	d->conf.deny = nc.deny;
	memset(&nc.deny, 0, sizeof(nc.deny));
	d->conf.consent_s = nc.consent_s;
	d->conf.max_mappings = nc.max_mappings;
	/* members: for joins from now on; rate: at once, kernel and userspace */
	d->conf.max_members = nc.max_members;
	nt_sessions_set_max_members(&d->st, nc.max_members);
	/* per-user quotas and the pre-auth budget: for what comes next */
	d->conf.max_sessions_per_user = nc.max_sessions_per_user;
	d->conf.max_groups_per_user = nc.max_groups_per_user;
	d->conf.max_token_ttl_s = nc.max_token_ttl_s;
	d->conf.max_unauth_per_source = nc.max_unauth_per_source;
	d->conf.auth_timeout_s = nc.auth_timeout_s;
	d->conf.max_pps = nc.max_pps;
	d->conf.burst = nc.burst;
	nd_rate_apply(d);
	d->conf.keep_on_exit = nc.keep_on_exit;
	d->conf.log_level = nc.log_level;
	nt_log_set_level(nc.log_level);
	/* a range denied from now on loses the mappings it holds */
	for (size_t i = 0; i < d->st.nsess; i++) {
		struct nt_session *s = &d->st.sess[i];

		if (s->used && s->verified && nd_addr_denied(d, &s->mapping, NULL))
			nd_mapping_remove(d, s, "admin", "address denied after reload");
	}
	nd_orphans_recheck(d);
	nt_info("reloaded: consent %u s, %zu deny ranges, max %u mappings, %u members a group, %u pps (burst %u) a sender, keep-on-exit %s",
		d->conf.consent_s, d->conf.deny.n, d->conf.max_mappings, d->conf.max_members,
		d->conf.max_pps, d->conf.burst,
		d->conf.keep_on_exit ? "yes" : "no");
	err = 0;
fail:
	OPENSSL_cleanse(&secrets, sizeof(secrets));
	nd_conf_free(&nc);
	return err;
}
