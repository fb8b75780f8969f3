/*
 * The session a command runs in: the world it acts on (the real one, with
 * this data directory's report writer, tag verdicts and checkpoint
 * signer), appending one event through it, and the teardown.  Above
 * common.c, verdict.c and checkpoint.c, which it wires together.
 */
#include <stdlib.h>

#include "cli.h"
#include "hash.h"
#include "health.h"
#include "ir_archive.h"
#include "rec.h"
#include "sign.h"

void
cli_preload(unsigned what)
{
	/* OpenSSL's warm-up thread first: a thread created while the
	 * loader's dlopen() runs waits for it. */
	if (what & CLI_LOAD_ALL)
		ir_sha256_preload();
	if (what & CLI_LOAD_HTTP)
		ir_http_preload();
	if (what & CLI_LOAD_ARCHIVE)
		ir_archive_preload();
}

void
cli_close(struct cli *cli)
{
	ir_http_release();
	ir_archive_release();
	ir_sha256_release();
	ir_evlog_close(cli->log);
	cli->log = NULL;
	ir_config_free(cli->cfg);
	cli->cfg = NULL;
	free(cli->data_dir);
	cli->data_dir = NULL;
	free(cli->told);
	cli->told = NULL;
	cli_verdicts_free(cli);
	ir_key_free(cli->ckey);
	cli->ckey = NULL;
	ir_buf_clear(&cli->cp_note);
	cli->n_told = cli->cap_told = 0;
}

const struct ir_effects *
cli_world(struct cli *cli)
{
	if (!cli->world.wall) {
		cli->world = ir_effects_real;
		cli->world.self = cli;
		cli->world.report_write = cli_write_report;
		cli->world.verdict = cli_world_verdict;
		if (cli->cfg && cli->cfg->checkpoint_sign)
			cli->world.checkpoint = cli_world_checkpoint;
	}
	return &cli->world;
}

int
cli_append(struct cli *cli, uint64_t id, const char *type, struct ir_val *d,
	   uint64_t *seq)
{
	struct ir_rec *rec = NULL;
	int rc = ir_rec_new(&rec, cli->log, cli_world(cli));

	if (!rc)
		rc = ir_rec_attach(rec, id, &cli->ctx);
	if (!rc) {
		rc = ir_rec_emit(rec, type, NULL, d, &cli->ctx);
		d = NULL;
	}
	if (!rc && seq)
		*seq = ir_rec_state(rec)->last_seq;
	ir_val_free(d);
	ir_rec_free(rec);
	return rc;
}
