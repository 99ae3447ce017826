// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test media for nattrav-client: RTP-like packets (version bits 10, so the
 * relay never takes them for a control message) carrying a 64-bit sequence
 * and the send time, and the receive statistics kept from them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "nt_be.h"
#include "nattrav_client.h"

/* Sequences above this are counted but not checked for duplicates. */
#define STATS_SEQ_TRACKED (1ull << 24)

uint64_t nt_client_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int nt_client_media_encode(void *buf, size_t cap, size_t size, const struct nt_client_media *m)
{
	uint8_t *p = buf;

	if (size < NT_CLIENT_MEDIA_HDR_LEN || m->pt > 127)
		return -EINVAL;
	if (size > cap || size > INT32_MAX)
		return -ENOSPC;
	memset(p, 0, size);
	p[0] = 0x80;
	p[1] = m->pt;
	nt_put16(p + 2, (uint16_t)m->seq);
	/* 90 kHz media clock, as video RTP; only for tools that look */
	nt_put32(p + 4, (uint32_t)(m->send_ns / 1000000000ull * 90000 +
				m->send_ns % 1000000000ull / 11111));
	nt_put32(p + 8, m->ssrc);
	nt_put64(p + 12, m->send_ns);
	nt_put64(p + 20, m->seq);
	return (int)size;
}

int nt_client_media_decode(const void *buf, size_t len, struct nt_client_media *m)
{
	const uint8_t *p = buf;

	/* version 2, no padding, no extension, no CSRC: what encode writes */
	if (len < NT_CLIENT_MEDIA_HDR_LEN || p[0] != 0x80)
		return -EINVAL;
	m->pt = p[1] & 0x7f;
	m->ssrc = nt_get32(p + 8);
	m->send_ns = nt_get64(p + 12);
	m->seq = nt_get64(p + 20);
	/* the RTP sequence must agree with the full one */
	if ((uint16_t)m->seq != (uint16_t)(p[2] << 8 | p[3]))
		return -EINVAL;
	return 0;
}

struct sender {
	uint32_t ssrc;
	uint64_t lo, hi;	/* lowest and highest sequence seen */
	uint64_t unique;
	uint8_t *seen;		/* bitmap by sequence, up to STATS_SEQ_TRACKED */
	size_t seen_bytes;
};

struct nt_client_stats {
	struct sender *snd;
	size_t nsnd, capsnd;
	uint64_t received, out_of_order, duplicates;
	uint64_t *lat;
	size_t nlat, caplat;
};

struct nt_client_stats *nt_client_stats_new(void)
{
	return calloc(1, sizeof(struct nt_client_stats));
}

void nt_client_stats_free(struct nt_client_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nsnd; i++)
		free(s->snd[i].seen);
	free(s->snd);
	free(s->lat);
	free(s);
}

static struct sender *find_sender(struct nt_client_stats *s, uint32_t ssrc)
{
	for (size_t i = 0; i < s->nsnd; i++)
		if (s->snd[i].ssrc == ssrc)
			return &s->snd[i];
	if (s->nsnd == s->capsnd) {
		size_t cap = s->capsnd ? s->capsnd * 2 : 4;
		struct sender *n = realloc(s->snd, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->snd = n;
		s->capsnd = cap;
	}
	s->snd[s->nsnd] = (struct sender){ .ssrc = ssrc };
	return &s->snd[s->nsnd++];
}

/* 1: seq was seen already; 0: first time (now marked); -ENOMEM. */
static int mark_seen(struct sender *d, uint64_t seq)
{
	size_t byte = (size_t)(seq / 8);

	if (seq >= STATS_SEQ_TRACKED)
		return 0;
	if (byte >= d->seen_bytes) {
		size_t n = d->seen_bytes ? d->seen_bytes : 1024;
		uint8_t *b;

		while (n <= byte)
			n *= 2;
		b = realloc(d->seen, n);
		if (!b)
			return -ENOMEM;
		memset(b + d->seen_bytes, 0, n - d->seen_bytes);
		d->seen = b;
		d->seen_bytes = n;
	}
	if (d->seen[byte] & (1u << (seq % 8)))
		return 1;
	d->seen[byte] |= (uint8_t)(1u << (seq % 8));
	return 0;
}

int nt_client_stats_add(struct nt_client_stats *s, uint32_t ssrc, uint64_t seq,
			int64_t latency_us)
{
	struct sender *d = find_sender(s, ssrc);
	int dup;

	if (!d)
		return -ENOMEM;
	dup = mark_seen(d, seq);
	if (dup < 0)
		return dup;
	s->received++;
	if (dup) {
		s->duplicates++;
		return 0;
	}
	if (!d->unique) {
		d->lo = d->hi = seq;
	} else if (seq < d->hi) {
		s->out_of_order++;
		if (seq < d->lo)
			d->lo = seq;
	} else {
		d->hi = seq;
	}
	d->unique++;
	if (latency_us >= 0) {
		if (s->nlat == s->caplat) {
			size_t cap = s->caplat ? s->caplat * 2 : 1024;
			uint64_t *n = realloc(s->lat, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			s->lat = n;
			s->caplat = cap;
		}
		s->lat[s->nlat++] = (uint64_t)latency_us;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t nt_client_percentile(uint64_t *v, size_t n, double pct)
{
	double rank;
	size_t i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	/* nearest rank: the smallest value with at least pct% at or below it */
	rank = pct / 100.0 * (double)n;
	i = (size_t)rank;
	if ((double)i < rank)
		i++;
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

void nt_client_stats_summary(struct nt_client_stats *s, struct nt_client_stats_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->received = s->received;
	out->out_of_order = s->out_of_order;
	out->duplicates = s->duplicates;
	out->senders = s->nsnd;
	for (size_t i = 0; i < s->nsnd; i++) {
		const struct sender *d = &s->snd[i];
		uint64_t span = d->hi - d->lo + 1;

		if (d->unique && span > d->unique)
			out->lost += span - d->unique;
	}
	out->lat_samples = s->nlat;
	if (s->nlat) {
		out->lat_p50_us = nt_client_percentile(s->lat, s->nlat, 50);
		out->lat_p90_us = nt_client_percentile(s->lat, s->nlat, 90);
		out->lat_p99_us = nt_client_percentile(s->lat, s->nlat, 99);
		out->lat_max_us = s->lat[s->nlat - 1];
	}
}
