/* The backup step: archive the state before anything changes it. */
#include "steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "buf.h"
#include "gitops.h"

struct status_text {
	struct ir_buf *buf;
	int rc;
};

static int
status_line(void *payload, const char *code, const char *path)
{
	struct status_text *s = payload;

	if (!s->rc)
		s->rc = ir_buf_printf(s->buf, "%s %s\n", code, path);
	return s->rc;
}

/* git/HEAD, git/status and git/diff: what the work tree was. */
static int
add_git_state(struct ir_archive_writer *w, const char *deploy_dir,
	      struct ir_ctx *ctx)
{
	struct ir_buf b = IR_BUF_INIT(0);
	struct status_text s = { &b, 0 };
	struct ir_git *git = NULL;
	char head[IR_GIT_OID_HEX], subject[256];
	bool detached;
	int rc;

	rc = ir_git_open(&git, deploy_dir, ctx);
	if (rc)
		return rc;
	rc = ir_git_head(git, head, subject, sizeof(subject), &detached, ctx);
	if (!rc)
		rc = ir_buf_printf(&b, "%s %s\n", head, subject);
	if (!rc)
		rc = ir_archive_add_bytes(w, "git/HEAD", b.data, b.len, ctx);
	ir_buf_reset(&b);
	if (!rc)
		rc = ir_git_status(git, status_line, &s, ctx);
	if (!rc)
		rc = s.rc;
	if (!rc)
		rc = ir_archive_add_bytes(w, "git/status", b.data, b.len, ctx);
	ir_buf_reset(&b);
	if (!rc)
		rc = ir_git_diff(git, &b, ctx);
	if (!rc)
		rc = ir_archive_add_bytes(w, "git/diff", b.data, b.len, ctx);
	ir_buf_clear(&b);
	ir_git_close(git);
	return rc;
}

static int
add_database_dump(struct ir_attempt *a, struct ir_archive_writer *w,
		  const char *spool, bool *failed)
{
	const struct ir_config *cfg = a->run->cfg;
	struct ir_proc_result res;
	struct ir_ctx local = { 0 };
	int rc;

	*failed = false;
	rc = ir_attempt_command(a, cfg->database_dump, a->budget_ms, spool,
				&res);
	if (rc == -ENOENT || rc == -EACCES) {
		*failed = true;
		return ir_attempt_fail(a, -2, "cannot run \"%s\": %s",
				       cfg->database_dump,
				       ir_error_msg(a->ctx, rc));
	}
	if (rc)
		return rc;
	if (res.timed_out || res.exit_code) {
		*failed = true;
		unlink(spool);
		return ir_attempt_fail(a, res.exit_code,
				       "database dump failed (exit %d%s)",
				       res.exit_code,
				       res.timed_out ? ", cut off at budget"
						     : "");
	}
	rc = ir_archive_add_file_as(w, "database/dump", spool, &local);
	unlink(spool);
	if (rc) {
		*failed = true;
		return ir_attempt_fail(a, -2, "cannot archive the dump: %s",
				       ir_error_msg(&local, rc));
	}
	return 0;
}

int
ir_step_backup(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_config *cfg = run->cfg;
	struct ir_archive_writer *w = NULL;
	struct ir_archive_info info;
	struct ir_ctx local = { 0 };
	struct ir_attempt a;
	struct ir_val *d, *missing;
	char dir[4096], path[4200], spool[4200], hex[IR_SHA256_HEX];
	unsigned long long id = (unsigned long long)ir_rec_id(run->rec);
	bool failed = false;
	size_t i;
	int rc;

	ir_attempt_init(&a, run, IR_STEP_BACKUP, cfg->backup_budget_ms, ctx);
	rc = ir_attempt_start(&a, NULL, 0);
	if (rc)
		return rc;
	snprintf(dir, sizeof(dir), "%s/archives", run->data_dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return ir_attempt_fail(&a, -2, "cannot create \"%s\": %s", dir,
				       strerror(errno));
	snprintf(path, sizeof(path), "%s/INC-%llu-backup.tar.zst", dir, id);
	snprintf(spool, sizeof(spool), "%s/.INC-%llu-dump.partial", dir, id);
	/* A .partial from an interrupted attempt is simply rewritten. */
	rc = ir_archive_create(&w, path, run->data_dir, &local);
	if (rc)
		return ir_attempt_fail(&a, -2, "cannot create the archive: %s",
				       ir_error_msg(&local, rc));
	missing = ir_val_array_new();
	for (i = 0; i < cfg->n_backup_paths; i++) {
		rc = ir_archive_add_path(w, cfg->deploy_dir,
					 cfg->backup_paths[i], &local);
		if (rc == -ENOENT) {
			ir_val_push_str(missing, cfg->backup_paths[i]);
			ir_error_clear(&local);
			rc = 0;
		}
		if (rc)
			break;
	}
	if (!rc)
		rc = add_git_state(w, cfg->deploy_dir, &local);
	if (rc) {
		ir_val_free(missing);
		ir_archive_abort(w);
		return ir_attempt_fail(&a, -2, "backup failed: %s",
				       ir_error_msg(&local, rc));
	}
	if (missing->as.arr.len) {
		d = ir_val_map_new();
		ir_val_set_take(d, "missing", missing);
		ir_val_set_bool(d, "exists", false);
		rc = ir_attempt_observe(&a, "file", d);
	} else {
		ir_val_free(missing);
	}
	if (!rc && cfg->database_dump)
		rc = add_database_dump(&a, w, spool, &failed);
	if (rc || failed) {
		ir_archive_abort(w);
		return rc;
	}
	rc = ir_archive_finish(w, &info, &local);
	if (rc)
		return ir_attempt_fail(&a, -2, "cannot finish the archive: %s",
				       ir_error_msg(&local, rc));
	ir_hex(hex, info.sha256, sizeof(info.sha256));
	d = ir_val_map_new();
	ir_val_set_str(d, "path", path);
	ir_val_set_uint(d, "bytes", info.bytes);
	ir_val_set_uint(d, "files", info.files);
	ir_val_set_str(d, "sha256", hex);
	rc = ir_rec_emit(run->rec, "backup.created", "backup", d, ctx);
	if (!rc && run->after_backup)
		rc = run->after_backup(run->after_backup_payload, run, ctx);
	return rc ? rc : ir_attempt_complete(&a);
}

int
ir_step_restore(struct ir_run *run, struct ir_ctx *ctx)
{
	struct ir_attempt a;

	ir_attempt_init(&a, run, IR_STEP_RESTORE, 0, ctx);
	return ir_attempt_fail(&a, -2, "restore is not implemented yet");
}
