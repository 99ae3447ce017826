// SPDX-License-Identifier: GPL-2.0
/* The epoll loop: one thread, every fd non-blocking, a 500 ms tick, signals via signalfd. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include "fleet.h"
#include "nattravd.h"
#include "nt_log.h"

uint64_t nd_now_ns(void)
{
	struct timespec ts;

	/* the maps' clock (nt_boottime_ns), which the programs read too */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

int nd_loop_add(struct nd *d, struct nd_handle *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0 ? -errno : 0;
}

int nd_loop_mod(struct nd *d, struct nd_handle *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(d->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0 ? -errno : 0;
}

int nd_loop_init(struct nd *d)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = ND_TICK_MS * 1000000L },
		.it_value = { .tv_nsec = ND_TICK_MS * 1000000L },
	};
	sigset_t set;
	int err;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* blocked, so they only arrive through the signalfd, between events */
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig.kind = ND_SIGNAL;
	d->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig.fd < 0)
		return -errno;
	d->timer.kind = ND_TIMER;
	d->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->timer.fd < 0)
		return -errno;
	if (timerfd_settime(d->timer.fd, 0, &its, NULL) < 0)
		return -errno;
	err = nd_loop_add(d, &d->sig, EPOLLIN);
	if (!err)
		err = nd_loop_add(d, &d->timer, EPOLLIN);
	return err;
}

/*
 * systemd is told the reload's start (Type=notify-reload, systemd >= 253,
 * waits for the READY=1 that follows). Without NOTIFY_SOCKET these are no-ops.
 */
static void reload(struct nd *d)
{
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)monotonic_us());
	nd_reload(d);
	sd_notify(0, "READY=1");
}

static void on_signal(struct nd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(d);
			continue;
		}
		nt_info("%s received, shutting down", strsignal((int)si.ssi_signo));
		d->stop = true;
	}
}

static void on_tick(struct nd *d)
{
	uint64_t exp, now = nd_now_ns();

	while (read(d->timer.fd, &exp, sizeof(exp)) == sizeof(exp))
		;
	nd_conns_tick(d, now);
	nd_sessions_tick(d, now);
	/* kept 10 s past their lifetime so a late answer is logged as late */
	if (now > 10000000000ull)
		nt_verify_expire(&d->ver, now - 10000000000ull);
	nd_mappings_tick(d, now);
	nd_nh_tick(d, now);
	nd_ctl_tick(d, now);
	nd_metrics_tick(d, now);
	nd_fleet_tick(d, now);
	nd_wire_tick(d, now);
	nd_turn_tick(d, now);
	if (now - d->last_stats_ns >= 10000000000ull) {
		d->last_stats_ns = now;
		nt_dbg("stats: sessions=%zu groups=%zu mappings=%zu forwarded=%llu drop_unverified=%llu drop_no_peer=%llu control=%llu control_bad=%llu",
		       nt_sessions_count(&d->st), nt_groups_count(&d->st), d->nmappings,
		       (unsigned long long)d->cnt.forwarded,
		       (unsigned long long)d->cnt.drop_unverified,
		       (unsigned long long)d->cnt.drop_no_peer,
		       (unsigned long long)d->cnt.control,
		       (unsigned long long)d->cnt.control_bad);
	}
}

int nd_loop_run(struct nd *d)
{
	struct epoll_event ev[64];

	while (!d->stop) {
		int n = epoll_wait(d->epfd, ev, 64, 1000);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			nt_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		uint64_t t0 = nd_now_ns(), dt;

		for (int i = 0; i < n; i++) {
			struct nd_handle *h = ev[i].data.ptr;

			switch (h->kind) {
			case ND_LISTEN:
				nd_conn_accept(d, h);
				break;
			case ND_MEDIA:
				nd_media_event(d, h);
				break;
			case ND_CONN:
				nd_conn_event(d, (struct nd_conn *)h, ev[i].events);
				break;
			case ND_TIMER:
				on_tick(d);
				break;
			case ND_SIGNAL:
				on_signal(d);
				break;
			case ND_CTL:
				nd_ctl_event(d, h, ev[i].events);
				break;
			case ND_METRICS:
				nd_metrics_event(d, h, ev[i].events);
				break;
			case ND_NETLINK:
				nd_nh_event(d);
				break;
			case ND_TURN_RELAY:
				nd_turn_relay_event(d, h);
				break;
			case ND_TURN_TCP_LISTEN:
				nd_turn_tcp_accept(d, h);
				break;
			case ND_TURN_TCP:
				nd_turn_tcp_event(d, h, ev[i].events);
				break;
			case ND_REDIS:
				nd_fleet_event(d, ev[i].events);
				break;
			}
		}
		/* events told this round, one write per connection */
		nd_conns_flush(d);
		/* freed only now: a later event of this round may name them */
		nd_conns_reap(d);
		/* how long everyone else waited on this round (TLS handshakes, bursts) */
		dt = nd_now_ns() - t0;
		if (dt > d->loop_stall_max_ns)
			d->loop_stall_max_ns = dt;
	}
	return 0;
}
