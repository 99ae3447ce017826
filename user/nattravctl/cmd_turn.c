// SPDX-License-Identifier: GPL-2.0
/*
 * nattravctl turn: the TURN allocations nattravd holds, with what each
 * relayed through nattravd and through the XDP program, both ways. Asked
 * over the control socket one allocation per request (TURN FROM slot), so
 * every reply stays one short line however many allocations there are.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "nt_ctlproto.h"
#include "nt_json.h"
#include "nt_num.h"

#define TURN_LIST_MAX 65536	/* more than any --turn-max-allocations */

static const char *const fields[] = {
	"lifetime", "permissions", "channels", "xdp_channels",
	"to_peer_packets", "to_peer_bytes", "to_client_packets", "to_client_bytes",
	"xdp_to_peer_packets", "xdp_to_peer_bytes", "xdp_to_client_packets", "xdp_to_client_bytes",
	"rate_drops",
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct turn_row {
	char relayed[64], client[64], user[64], transport[8];
	uint64_t v[NFIELDS];
};

static int parse_row(const char *reply, struct turn_row *r, uint32_t *slot)
{
	char b[64];

	if (!ctl_reply_get(reply, "slot", b, sizeof(b)) || nt_parse_u32(b, 0, UINT32_MAX - 1, slot) ||
	    !ctl_reply_get(reply, "relayed", r->relayed, sizeof(r->relayed)) ||
	    !ctl_reply_get(reply, "client", r->client, sizeof(r->client)) ||
	    !ctl_reply_get(reply, "user", r->user, sizeof(r->user)))
		return -EPROTO;
	if (!ctl_reply_get(reply, "transport", r->transport, sizeof(r->transport)))
		strcpy(r->transport, "udp");
	for (size_t i = 0; i < NFIELDS; i++)
		if (!ctl_reply_get(reply, fields[i], b, sizeof(b)) ||
		    nt_parse_u64(b, 0, UINT64_MAX, &r->v[i]))
			return -EPROTO;
	return 0;
}

static void print_row(const struct ctl *ctl, const struct turn_row *r)
{
	if (ctl->json) {
		struct nt_json j;

		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		nt_json_kstr(&j, "relayed", r->relayed);
		nt_json_kstr(&j, "client", r->client);
		nt_json_kstr(&j, "user", r->user);
		nt_json_kstr(&j, "transport", r->transport);
		for (size_t i = 0; i < NFIELDS; i++)
			nt_json_ku64(&j, fields[i], r->v[i]);
		nt_json_obj_end(&j);
		nt_json_end(&j);
		return;
	}
	/* packets each way: all (of which by XDP) */
	printf("%-22s %-22s %-16s %6" PRIu64 " s %5" PRIu64 " %4" PRIu64 "/%-4" PRIu64
	       " %10" PRIu64 " (%" PRIu64 ") %10" PRIu64 " (%" PRIu64 ")\n",
	       r->relayed, r->client, r->user, r->v[0], r->v[1], r->v[3], r->v[2],
	       r->v[4] + r->v[8], r->v[8], r->v[6] + r->v[10], r->v[10]);
}

int ctl_turn(struct ctl *ctl, int argc, char **argv)
{
	char line[64], reply[NT_CTL_REPLY_MAX], errb[200], n[24];
	struct turn_row row;
	uint32_t slot = 0;
	unsigned shown = 0;
	int err;

	if (argc != 1)
		return ctl_error(CTL_EXIT_USAGE, "usage: turn [--json]");
	for (;;) {
		snprintf(line, sizeof(line), "TURN FROM %" PRIu32, slot);
		err = ctl_request(ctl, line, reply, sizeof(reply));
		if (err)
			return ctl_error(CTL_EXIT_FAIL, "%s", ctl_sock_errstr(ctl, err, errb, sizeof(errb)));
		if (!strncmp(reply, "OK TURN end", 11))
			break;
		if (strncmp(reply, "OK TURN ", 8))
			return ctl_error(CTL_EXIT_FAIL, "nattravd refused: %s",
					 !strncmp(reply, "ERR ", 4) ? reply + 4 : reply);
		if (parse_row(reply, &row, &slot))
			return ctl_error(CTL_EXIT_FAIL, "nattravd's answer is not understood: %.200s",
					 reply);
		if (!ctl->json && !shown)
			printf("%-22s %-22s %-16s %8s %5s %9s %21s %21s\n", "RELAYED", "CLIENT", "USER",
			       "LIFETIME", "PERMS", "CHAN XDP", "TO PEER (XDP)", "TO CLIENT (XDP)");
		print_row(ctl, &row);
		if (++shown >= TURN_LIST_MAX || slot == UINT32_MAX - 1)
			break;
		slot++;
	}
	if (!ctl->json && !shown)
		printf("(no TURN allocation; %s in all)\n",
		       ctl_reply_get(reply, "allocations", n, sizeof(n)) ? n : "0");
	return 0;
}
