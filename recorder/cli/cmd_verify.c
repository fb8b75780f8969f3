/*
 * `incident verify`: each incident's hash chain, and its header against
 * what its own events say (history.c): an edited status, kind, from,
 * target, opened or closed is a fault like an edited event.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hash.h"

struct verify_walk {
	struct cli *cli;
	json_t *arr;
	unsigned ok, bad;
	uint64_t first_bad;
	char first_msg[1024];
};

/* One incident: the chain (in the scan) and the header against the
 * events.  rc and the message in ctx. */
static int
verify_incident(struct cli *cli, uint64_t id, struct ir_incident *inc,
		struct cli_history *h, struct ir_ctx *ctx)
{
	struct cli_header_fault f;
	int rc;

	rc = ir_evlog_incident(cli->log, id, inc, ctx);
	if (!rc)
		rc = cli_history_of(cli, id, h, ctx);
	if (rc || !cli_header_differs(inc, h, &f))
		return rc;
	return ir_error_set(ctx, -EBADMSG, IR_ORIGIN_LMDB, 0,
			    "INC-%llu: the header's %s is %s, its events say "
			    "%s (the header was edited)",
			    (unsigned long long)id, f.field, f.header,
			    f.events);
}

static int
verify_one(struct verify_walk *w, uint64_t id)
{
	struct ir_ctx ctx = { 0 };
	struct ir_incident inc = { 0 };
	struct cli_history h = { .events = 0 };
	char head[IR_SHA256_HEX];
	int rc;

	rc = verify_incident(w->cli, id, &inc, &h, &ctx);
	ir_hex(head, inc.head, sizeof(inc.head));
	if (rc) {
		w->bad++;
		if (!w->first_bad) {
			w->first_bad = id;
			snprintf(w->first_msg, sizeof(w->first_msg), "%s",
				 ir_error_msg(&ctx, rc));
		}
	} else {
		w->ok++;
	}
	if (w->arr) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer((json_int_t)id));
		json_object_set_new(j, "ok", json_boolean(!rc));
		json_object_set_new(j, "events",
				    json_integer((json_int_t)h.events));
		json_object_set_new(j, "head", json_string(head));
		if (rc)
			json_object_set_new(
				j, "error", json_string(ir_error_msg(&ctx, rc)));
		json_array_append_new(w->arr, j);
	} else if (rc) {
		printf("INC-%llu  BAD  %s\n", (unsigned long long)id,
		       ir_error_msg(&ctx, rc));
	} else {
		printf("INC-%llu  ok   %llu events, head %.16s\n",
		       (unsigned long long)id, (unsigned long long)h.events,
		       head);
	}
	return 0;
}

static int
verify_walk_one(void *payload, const struct ir_incident *inc)
{
	return verify_one(payload, inc->id);
}

int
cmd_verify(struct cli *cli)
{
	struct verify_walk w = { cli, NULL, 0, 0, 0, "" };
	uint64_t id = 0;
	int i = 1, rc;

	if (cli->argc > 2)
		return cli_unexpected(cli, 2);
	if (cli->argc == 2) {
		int code = cli_one_incident(cli, &i, &id, "verify", true);

		if (code)
			return code;
	} else {
		rc = cli_open_log_readonly(cli);
		if (rc)
			return cli_fail(cli, rc);
	}
	if (cli->json)
		w.arr = json_array();
	if (id)
		rc = verify_one(&w, id);
	else
		rc = ir_evlog_incidents(cli->log, verify_walk_one, &w,
					&cli->ctx);
	if (w.arr) {
		json_t *j = json_object();

		json_object_set_new(j, "ok", json_boolean(!w.bad && !rc));
		json_object_set_new(j, "incidents", w.arr);
		cli_print_json(j);
	}
	if (rc)
		return cli_fail(cli, rc);
	if (w.bad) {
		fprintf(stderr, "incident verify: %s\n", w.first_msg);
		return IR_EXIT_FAILED;
	}
	if (!cli->json)
		printf("%u incident%s verified\n", w.ok, w.ok == 1 ? "" : "s");
	return IR_EXIT_OK;
}
