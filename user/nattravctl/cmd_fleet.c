// SPDX-License-Identifier: GPL-2.0
/*
 * nattravctl fleet: the relays of a fleet as Redis has them (one call of
 * the view script relays use too, synchronous, 2 s at most); and drain,
 * through the daemon's control socket.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include "ctl.h"
#include "nt_conf.h"
#include "nt_ctlproto.h"
#include "nt_fleet.h"
#include "nt_fleet_view.h"

#define FLEET_CONFIG_DEFAULT "/etc/nattrav/nattravd.conf"
#define FLEET_TIMEOUT_MS 2000
#define FLEET_LIST_MAX 1024

struct fleet_conf {
	char redis[NT_FLEET_ADDR_MAX + 1];
	char password_file[4096];
};

/* The daemon's config file: only the keys that say where Redis is. */
static int conf_key(const char *key, const char *val, void *arg)
{
	struct fleet_conf *fc = arg;

	if (!strcmp(key, "redis"))
		snprintf(fc->redis, sizeof(fc->redis), "%s", val);
	else if (!strcmp(key, "redis-password-file"))
		snprintf(fc->password_file, sizeof(fc->password_file), "%s", val);
	return 0;
}

static int redis_connect(const char *where, const char *pwfile, redisContext **out)
{
	char hp[NT_FLEET_ADDR_MAX + 1], pw[513];
	struct timeval tv = { .tv_sec = FLEET_TIMEOUT_MS / 1000 };
	redisContext *rc;
	redisReply *r;
	char *colon;
	char *ip;
	FILE *fp;

	if (nt_fleet_hostport(where, NT_FLEET_REDIS_PORT, hp, sizeof(hp)))
		return ctl_error(CTL_EXIT_USAGE, "--redis %s is not IP[:PORT] or [IPV6][:PORT]", where);
	colon = strrchr(hp, ':');
	*colon = '\0';
	ip = hp;
	if (*ip == '[') {
		ip++;
		ip[strlen(ip) - 1] = '\0';
	}
	rc = redisConnectWithTimeout(ip, atoi(colon + 1), tv);
	if (!rc || rc->err) {
		ctl_error(CTL_EXIT_FAIL, "cannot reach Redis %s: %s", where,
			  rc ? rc->errstr : "out of memory");
		redisFree(rc);
		return CTL_EXIT_FAIL;
	}
	redisSetTimeout(rc, tv);
	if (pwfile && *pwfile) {
		fp = fopen(pwfile, "re");
		if (!fp || !fgets(pw, sizeof(pw), fp)) {
			if (fp)
				fclose(fp);
			redisFree(rc);
			return ctl_error(CTL_EXIT_FAIL, "cannot read the Redis password from %s",
					 pwfile);
		}
		fclose(fp);
		pw[strcspn(pw, "\r\n")] = '\0';
		r = redisCommand(rc, "AUTH %s", pw);
		OPENSSL_cleanse(pw, sizeof(pw));
		if (!r || r->type == REDIS_REPLY_ERROR) {
			ctl_error(CTL_EXIT_FAIL, "Redis %s refused the password: %s", where,
				  r ? r->str : rc->errstr);
			freeReplyObject(r);
			redisFree(rc);
			return CTL_EXIT_FAIL;
		}
		freeReplyObject(r);
	}
	*out = rc;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(((const struct nt_fleet_relay *)a)->id, ((const struct nt_fleet_relay *)b)->id);
}

int ctl_fleet(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "redis", required_argument, NULL, 'r' },
		{ "redis-password-file", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "place-script", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	static struct nt_fleet_relay relays[FLEET_LIST_MAX];
	struct fleet_conf fc = { 0 };
	const char *redis = NULL, *pwfile = NULL, *config = NULL;
	const char *argv_view[] = { "EVAL", nt_fleet_view_lua, "0" };
	redisContext *rc = NULL;
	redisReply *r;
	size_t n;
	bool place_script = false;
	int ch, err;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'r')
			redis = optarg;
		else if (ch == 'p')
			pwfile = optarg;
		else if (ch == 'c')
			config = optarg;
		else if (ch == 's')
			place_script = true;
		else
			return ctl_error(CTL_EXIT_USAGE,
					 "usage: fleet [--redis IP:PORT] [--redis-password-file F] [--config FILE] [--json] | fleet --place-script");
	}
	if (optind != argc)
		return ctl_error(CTL_EXIT_USAGE, "fleet: unexpected argument '%s'", argv[optind]);
	/* for an application server pre-placing groups exactly as relays place them */
	if (place_script) {
		fputs(nt_fleet_place_lua, stdout);
		return 0;
	}
	if (!config || strcmp(config, "none")) {
		unsigned int line = 0;

		err = nt_conf_load(config ? config : FLEET_CONFIG_DEFAULT, conf_key, &fc, &line);
		if (err && (config || err != -ENOENT))
			return ctl_error(CTL_EXIT_FAIL, "cannot read %s%s%u: %s",
					 config ? config : FLEET_CONFIG_DEFAULT, line ? " line " : "",
					 line, strerror(-err));
	}
	if (!redis)
		redis = fc.redis[0] ? fc.redis : NULL;
	if (!pwfile)
		pwfile = fc.password_file[0] ? fc.password_file : NULL;
	if (!redis)
		return ctl_error(CTL_EXIT_USAGE,
				 "no Redis: give --redis IP:PORT or set redis in nattravd's config");
	err = redis_connect(redis, pwfile, &rc);
	if (err)
		return err;
	r = redisCommandArgv(rc, 3, argv_view, NULL);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		ctl_error(CTL_EXIT_FAIL, "Redis %s: %s", redis,
			  !r ? rc->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		redisFree(rc);
		return CTL_EXIT_FAIL;
	}
	n = nt_fleet_view_parse(r, relays, FLEET_LIST_MAX);
	freeReplyObject(r);
	redisFree(rc);
	qsort(relays, n, sizeof(relays[0]), cmp_id);
	/* ids and addresses passed nt_fleet_view_parse's checks: nothing to escape */
	if (!ctl->json)
		printf("%-20s %-28s %8s %7s %7s %6s %s\n", "RELAY", "ADDRESS", "HB_AGE", "GROUPS",
		       "MAX", "LOAD", "DRAINING");
	for (size_t i = 0; i < n; i++) {
		const struct nt_fleet_relay *x = &relays[i];

		if (ctl->json)
			printf("{\"relay\":\"%s\",\"addr\":\"%s\",\"heartbeat_age_ms\":%llu,"
			       "\"groups\":%u,\"max_groups\":%u,\"load\":%u,\"draining\":%s}\n",
			       x->id, x->addr, (unsigned long long)x->age_ms, x->groups,
			       x->max_groups, x->load, x->draining ? "true" : "false");
		else
			printf("%-20s %-28s %6.1f s %7u %7u %6u %s\n", x->id, x->addr,
			       (double)x->age_ms / 1000.0, x->groups, x->max_groups, x->load,
			       x->draining ? "yes" : "no");
	}
	if (!ctl->json && !n)
		printf("(no live relay registered in Redis %s)\n", redis);
	return 0;
}

int ctl_drain(struct ctl *ctl, int argc, char **argv)
{
	char reply[NT_CTL_REPLY_MAX], errb[200], dr[8], g[24], s[24];
	const char *line;
	int err;

	if (argc == 1)
		line = "DRAIN";
	else if (argc == 2 && !strcasecmp(argv[1], "on"))
		line = "DRAIN ON";
	else if (argc == 2 && !strcasecmp(argv[1], "off"))
		line = "DRAIN OFF";
	else
		return ctl_error(CTL_EXIT_USAGE, "usage: drain [on|off]");
	err = ctl_request(ctl, line, reply, sizeof(reply));
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "%s", ctl_sock_errstr(ctl, err, errb, sizeof(errb)));
	if (strncmp(reply, "OK DRAIN", 8) || !ctl_reply_get(reply, "draining", dr, sizeof(dr)) ||
	    !ctl_reply_get(reply, "groups", g, sizeof(g)) ||
	    !ctl_reply_get(reply, "sessions", s, sizeof(s)))
		return ctl_error(CTL_EXIT_FAIL, "nattravd refused: %s",
				 !strncmp(reply, "ERR ", 4) ? reply + 4 : reply);
	if (ctl->json)
		printf("{\"draining\":%s,\"groups\":%llu,\"sessions\":%llu}\n",
		       strcmp(dr, "1") ? "false" : "true", strtoull(g, NULL, 10),
		       strtoull(s, NULL, 10));
	else
		printf("draining: %s (%s groups and %s sessions here; %s)\n",
		       strcmp(dr, "1") ? "off" : "on", g, s,
		       strcmp(dr, "1") ? "new groups accepted" :
					 "no new groups, new members of these still accepted");
	return 0;
}
