/*
 * The rollback's pre-flight: what `rollback` (and its dry run, plan.c)
 * checks before it changes anything.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "decide.h"
#include "files.h"
#include "ir_limits.h"
#include "proc.h"
#include "runbook.h"

/* The target the rollback would take now (see ir_runbook_target). */
static int
preview_target(struct cli *cli, const char *tag, struct ir_target *t)
{
	struct ir_run run = { 0 };

	run.cfg = cli->cfg;
	run.fx = cli_world(cli);
	return ir_runbook_target(&run, tag, t, &cli->ctx);
}

void
cli_preflight_clear(struct cli_preflight *p)
{
	ir_val_free(p->t.skipped);
	p->t.skipped = NULL;
	ir_buf_clear(&p->conflicts);
}

/* The conflicts as "a, b, c" (the first few). */
void
cli_conflict_list(const struct cli_preflight *p, char *out, size_t cap)
{
	const char *s = p->conflicts.len ? (const char *)p->conflicts.data
					 : "";
	size_t used = 0;

	out[0] = '\0';
	while (*s && used + 1 < cap) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		if (used + len + 8 >= cap) {
			snprintf(out + used, cap - used, "%s...",
				 used ? ", " : "");
			return;
		}
		used += (size_t)snprintf(out + used, cap - used, "%s%.*s",
					 used ? ", " : "", (int)len, s);
		s += len + (nl ? 1 : 0);
	}
}

/* Everything the rollback checks before it changes anything.  0 with
 * p->blocked set when the run would refuse; a negative errno when the
 * target cannot be chosen at all. */
int
cli_preflight(struct cli *cli, const struct run_opts *o,
	      struct cli_preflight *p)
{
	char paths[600];
	int rc;

	memset(p, 0, sizeof(*p));
	p->conflicts = (struct ir_buf)IR_BUF_INIT(64 * 1024);
	rc = preview_target(cli, o->tag, &p->t);
	if (rc)
		return rc;
	{
		struct ir_run run = { .cfg = cli->cfg, .fx = cli_world(cli) };

		rc = ir_runbook_conflicts(&run, p->t.to, &p->conflicts,
					  &p->n_conflicts, &cli->ctx);
	}
	if (rc)
		return rc;
	cli_conflict_list(p, paths, sizeof(paths));
	if (p->t.known_bad && !o->force)
		ir_str_addf(p->blocked, sizeof(p->blocked),
			    "%s; give --force to %s it anyway", p->t.note,
			    strcmp(o->kind, "deploy") ? "roll back to"
						       : "deploy");
	if (p->n_conflicts && !o->force)
		ir_str_addf(p->blocked, sizeof(p->blocked),
			    "local change%s in %s would be overwritten by "
			    "the checkout of %s: %s (commit or stash %s, or "
			    "give --force: the backup archives %s first)",
			    p->n_conflicts == 1 ? "" : "s",
			    cli->cfg->deploy_dir, p->t.to, paths,
			    p->n_conflicts == 1 ? "it" : "them",
			    p->n_conflicts == 1 ? "it" : "them");
	else if (p->n_conflicts && o->no_backup)
		ir_str_addf(p->blocked, sizeof(p->blocked),
			    "--force would overwrite local changes (%s) that "
			    "--no-backup would not archive first; drop "
			    "--no-backup",
			    paths);
	return 0;
}

/* The pre-flight's refusal, which may be longer than an error message
 * holds: exit 2, nothing changed. */
void
cli_refuse(struct cli *cli, const char *why)
{
	fprintf(stderr, "incident %s: %s; nothing changed\n", cli->argv[0],
		why);
}

int
cli_preflight_or_refuse(struct cli *cli, const struct run_opts *o,
			struct cli_preflight *p)
{
	int rc = cli_preflight(cli, o, p);

	if (!rc && p->blocked[0]) {
		cli_refuse(cli, p->blocked);
		cli_preflight_clear(p);
		return IR_EXIT_USAGE;
	}
	if (rc) {
		cli_preflight_clear(p);
		cli->ctx.err.origin = IR_ORIGIN_USAGE;
		return cli_fail(cli, rc);
	}
	return 0;
}
