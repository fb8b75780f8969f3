/*
 * A table over another table: every operation forwards to the inner one
 * until the wrapper replaces it.  The waiting timer (effects.c) and the
 * planning world (plan.c) are such wrappers.
 */
#include "wrap.h"

#define INNER(self) (((struct ir_effects_wrap *)(self))->inner)

/* One forwarder: the inner operation with the inner self. */
#define FWD(ret, name, params, ...)                                            \
	static ret fwd_##name params                                           \
	{                                                                      \
		return INNER(self)->name(INNER(self)->self, __VA_ARGS__);      \
	}
#define FWD_VOID(name, params, ...)                                            \
	static void fwd_##name params                                          \
	{                                                                      \
		INNER(self)->name(INNER(self)->self, __VA_ARGS__);             \
	}

static int64_t
fwd_wall(void *self)
{
	return INNER(self)->wall(INNER(self)->self);
}

static uint64_t
fwd_mono(void *self)
{
	return INNER(self)->mono(INNER(self)->self);
}

FWD_VOID(sleep_ms, (void *self, uint64_t ms), ms)
FWD(int, proc_run,
    (void *self, const struct ir_proc_opts *opts, struct ir_proc_result *out,
     struct ir_ctx *ctx),
    opts, out, ctx)
FWD(int, proc_find,
    (void *self, const char *pattern, pid_t *pids, size_t max, size_t *n,
     struct ir_ctx *ctx),
    pattern, pids, max, n, ctx)
FWD_VOID(proc_wait_gone,
	 (void *self, const pid_t *pids, size_t n, uint64_t ms), pids, n, ms)
FWD(bool, group_alive, (void *self, pid_t pgid), pgid)
FWD(int, group_reap,
    (void *self, pid_t pgid, uint64_t wait_ms, uint64_t grace_ms), pgid,
    wait_ms, grace_ms)
FWD(int, http_get,
    (void *self, const char *url, uint64_t connect_ms, uint64_t total_ms,
     struct ir_http_result *out, struct ir_ctx *ctx),
    url, connect_ms, total_ms, out, ctx)
FWD(int, http_post_json,
    (void *self, const char *url, const char *json, uint64_t timeout_ms,
     struct ir_ctx *ctx),
    url, json, timeout_ms, ctx)
FWD(int, git_open,
    (void *self, const char *workdir, struct ir_git **out, struct ir_ctx *ctx),
    workdir, out, ctx)
FWD_VOID(git_close, (void *self, struct ir_git *git), git)
FWD(int, git_tags,
    (void *self, struct ir_git *git, const char *pattern,
     struct ir_git_tag **out, size_t *n, struct ir_ctx *ctx),
    git, pattern, out, n, ctx)
FWD(int, git_head,
    (void *self, struct ir_git *git, char commit[IR_GIT_OID_HEX], char *subject,
     size_t cap, bool *detached, struct ir_ctx *ctx),
    git, commit, subject, cap, detached, ctx)
FWD(int, git_tag_commit,
    (void *self, struct ir_git *git, const char *tag,
     char commit[IR_GIT_OID_HEX], struct ir_ctx *ctx),
    git, tag, commit, ctx)
FWD(int, git_status,
    (void *self, struct ir_git *git, ir_git_status_fn fn, void *payload,
     struct ir_ctx *ctx),
    git, fn, payload, ctx)
FWD(int, git_diff,
    (void *self, struct ir_git *git, struct ir_buf *out, struct ir_ctx *ctx),
    git, out, ctx)
FWD(int, git_conflicts,
    (void *self, struct ir_git *git, const char *tag, const char *owned_dir,
     struct ir_buf *paths, size_t *n, struct ir_ctx *ctx),
    git, tag, owned_dir, paths, n, ctx)
FWD(int, git_checkout,
    (void *self, struct ir_git *git, const char *tag, bool force,
     const char *owned_dir, struct ir_buf *conflicts, struct ir_ctx *ctx),
    git, tag, force, owned_dir, conflicts, ctx)
FWD(int, git_lock_file,
    (void *self, struct ir_git *git, const char *name, bool *exists,
     int64_t *mtime_ns, struct ir_ctx *ctx),
    git, name, exists, mtime_ns, ctx)
FWD(int, git_lock_remove,
    (void *self, struct ir_git *git, const char *name, struct ir_ctx *ctx), git,
    name, ctx)
FWD(int, archive_create,
    (void *self, struct ir_archive_writer **out, const char *final_path,
     const char *exclude, struct ir_ctx *ctx),
    out, final_path, exclude, ctx)
FWD(int, archive_add_path,
    (void *self, struct ir_archive_writer *w, const char *root, const char *rel,
     struct ir_ctx *ctx),
    w, root, rel, ctx)
FWD(int, archive_add_bytes,
    (void *self, struct ir_archive_writer *w, const char *name, const void *p,
     size_t len, struct ir_ctx *ctx),
    w, name, p, len, ctx)
FWD(int, archive_add_file_as,
    (void *self, struct ir_archive_writer *w, const char *name,
     const char *path, struct ir_ctx *ctx),
    w, name, path, ctx)
FWD(int, archive_finish,
    (void *self, struct ir_archive_writer *w, struct ir_archive_info *out,
     struct ir_ctx *ctx),
    w, out, ctx)
FWD_VOID(archive_abort, (void *self, struct ir_archive_writer *w), w)
FWD(int, archive_extract,
    (void *self, const char *path, const char *dest,
     const struct ir_extract_opts *opts, struct ir_extract_info *out,
     struct ir_ctx *ctx),
    path, dest, opts, out, ctx)
FWD(int, file_mode, (void *self, const char *path, unsigned *mode), path, mode)
FWD(int, dir_make, (void *self, const char *path, struct ir_ctx *ctx), path,
    ctx)
FWD(int, dir_list,
    (void *self, const char *dir, ir_files_list_fn fn, void *payload,
     struct ir_ctx *ctx),
    dir, fn, payload, ctx)
FWD(int, file_remove, (void *self, const char *path, struct ir_ctx *ctx), path,
    ctx)
FWD(int, files_diff,
    (void *self, const char *src, const char *dst, ir_files_diff_fn fn,
     void *payload, struct ir_ctx *ctx),
    src, dst, fn, payload, ctx)
FWD(int, files_replace_dir,
    (void *self, const char *src, const char *dst, struct ir_ctx *ctx), src,
    dst, ctx)
FWD(struct ir_val *, log_tail, (void *self, const char *path, unsigned lines),
    path, lines)
FWD(int, report_write, (void *self, uint64_t id, struct ir_ctx *ctx), id, ctx)
FWD_VOID(verdict,
	 (void *self, const char *tag, bool *bad, bool *good, char *why,
	  size_t cap),
	 tag, bad, good, why, cap)
FWD(int, checkpoint,
    (void *self, const struct ir_ledger_head *head, const char *what,
     unsigned how, struct ir_ctx *ctx),
    head, what, how, ctx)
static pid_t
fwd_pid(void *self)
{
	return INNER(self)->pid(INNER(self)->self);
}

FWD_VOID(crash_point, (void *self, const char *step, unsigned attempt), step,
         attempt)

void
ir_effects_wrap_init(struct ir_effects_wrap *w, const struct ir_effects *inner)
{
	struct ir_effects *t = &w->table;

	w->inner = inner;
	t->self = w;
	/* An operation the inner table lacks stays absent. */
#define SET(name) t->name = inner->name ? fwd_##name : NULL
	SET(wall);
	SET(mono);
	SET(sleep_ms);
	SET(proc_run);
	SET(proc_find);
	SET(proc_wait_gone);
	SET(group_alive);
	SET(group_reap);
	SET(http_get);
	SET(http_post_json);
	SET(git_open);
	SET(git_close);
	SET(git_tags);
	SET(git_head);
	SET(git_tag_commit);
	SET(git_status);
	SET(git_diff);
	SET(git_conflicts);
	SET(git_checkout);
	SET(git_lock_file);
	SET(git_lock_remove);
	SET(archive_create);
	SET(archive_add_path);
	SET(archive_add_bytes);
	SET(archive_add_file_as);
	SET(archive_finish);
	SET(archive_abort);
	SET(archive_extract);
	SET(file_mode);
	SET(dir_make);
	SET(dir_list);
	SET(file_remove);
	SET(files_diff);
	SET(files_replace_dir);
	SET(log_tail);
	SET(report_write);
	SET(verdict);
	SET(checkpoint);
	SET(pid);
	SET(crash_point);
#undef SET
}
