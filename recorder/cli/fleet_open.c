/* What the fleet commands share: the fleet opened over [fleet], and a
 * node's mirrored head as JSON fields. */
#include <jansson.h>

#include "cli.h"
#include "fleet.h"

int
cli_fleet_open(struct cli *cli, const char *fleet, bool as_node,
	       struct ir_fleet **out)
{
	int rc = cli_load_config(cli, true);

	if (!rc && !cli->cfg->fleet_endpoints)
		rc = ir_error_set(&cli->ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				  "fleet.endpoints is not set in %s (etcd's "
				  "gateway, e.g. http://127.0.0.1:2379)",
				  cli->cfg->path ? cli->cfg->path
						 : "the configuration");
	if (!rc && as_node && !cli->cfg->fleet_node)
		rc = ir_error_set(&cli->ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				  "fleet.node is not set in %s (this node's "
				  "name in the fleet)",
				  cli->cfg->path ? cli->cfg->path
						 : "the configuration");
	if (!rc)
		rc = ir_fleet_open(out, cli->cfg->fleet_endpoints,
				   cli->cfg->fleet_timeout_ms, fleet,
				   as_node ? cli->cfg->fleet_node : NULL,
				   &cli->ctx);
	return rc;
}

void *
cli_fleet_decision_json(const struct ir_fleet_view *v, size_t i)
{
	const struct ir_fleet_node_view *x = &v->node[i];
	json_t *j;
	char rule[32];

	if (!x->decided)
		return NULL;
	snprintf(rule, sizeof(rule), "--unanswered %s",
		 ir_fleet_unanswered(&v->plan));
	j = json_object();
	json_object_set_new(j, "question", json_string(x->decision_question));
	json_object_set_new(j, "answer", json_string(x->decision_answer));
	json_object_set_new(j, "rule", json_string(rule));
	json_object_set_new(j, "by", json_string(v->plan.by));
	return j;
}

void
cli_fleet_head_json(struct ir_fleet *f, const char *node, void *obj)
{
	struct ir_fleet_head h;
	struct ir_ctx ctx = { 0 };
	json_t *n = obj;

	if (ir_fleet_head_read(f, node, &h, &ctx))
		return;
	json_object_set_new(n, "head", json_string(h.sha256));
	json_object_set_new(n, "head_inc", json_integer((json_int_t)h.inc));
	json_object_set_new(n, "head_seq", json_integer((json_int_t)h.seq));
	json_object_set_new(n, "mirror_lag_ms",
			    json_integer((h.mirrored_ts - h.ts) / 1000000));
	if (h.checkpoint_size) {
		json_object_set_new(n, "checkpoint_size",
				    json_integer((json_int_t)h.checkpoint_size));
		json_object_set_new(n, "checkpoint_root",
				    json_string(h.checkpoint_root));
	}
}
