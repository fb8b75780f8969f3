#include "effects.h"
#include "wrap.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t
real_wall(void *self)
{
	return ir_clock_wall();
}

static uint64_t
real_mono(void *self)
{
	return ir_clock_mono();
}

static void
real_sleep(void *self, uint64_t ms)
{
	ir_sleep_ms(ms);
}

static int
real_proc_run(void *self, const struct ir_proc_opts *opts,
	      struct ir_proc_result *out, struct ir_ctx *ctx)
{
	return ir_proc_run(opts, out, ctx);
}

static void
real_proc_wait_gone(void *self, const pid_t *pids, size_t n, uint64_t ms)
{
	(void)self;
	ir_proc_wait_gone(pids, n, ms);
}

static int
real_proc_find(void *self, const char *pattern, pid_t *pids, size_t max,
	       size_t *n, struct ir_ctx *ctx)
{
	return ir_proc_find(pattern, pids, max, n, ctx);
}

static bool
real_group_alive(void *self, pid_t pgid)
{
	return ir_proc_group_alive(pgid);
}

static int
real_group_reap(void *self, pid_t pgid, uint64_t wait_ms, uint64_t grace_ms)
{
	return ir_proc_group_reap(pgid, wait_ms, grace_ms);
}

static int
real_http_get(void *self, const char *url, uint64_t connect_ms,
	      uint64_t total_ms, struct ir_http_result *out,
	      struct ir_ctx *ctx)
{
	return ir_http_get(url, connect_ms, total_ms, out, ctx);
}

static int
real_http_post_json(void *self, const char *url, const char *json,
		    uint64_t timeout_ms, struct ir_ctx *ctx)
{
	return ir_http_post_json(url, json, timeout_ms, ctx);
}

static pid_t
real_pid(void *self)
{
	(void)self;
	return getpid();
}

/*
 * Crash tests: INCIDENT_TEST_CRASH_AT=STEP makes the process kill itself
 * with SIGKILL right after that step's step.started is durable, the
 * worst instant for a resume.  It acts only on a step's first attempt, so
 * a resumed run goes through even with the variable still set.
 */
static void
real_crash_point(void *self, const char *step, unsigned attempt)
{
	const char *at = getenv("INCIDENT_TEST_CRASH_AT");

	(void)self;
	if (!at || attempt != 1 || strcmp(at, step))
		return;
	kill(getpid(), SIGKILL);
}


/* ---- git, archives, files: the adapters as they are ---------------------- */

static int
real_git_open(void *self, const char *workdir, struct ir_git **out,
	      struct ir_ctx *ctx)
{
	return ir_git_open(out, workdir, ctx);
}

static void
real_git_close(void *self, struct ir_git *git)
{
	ir_git_close(git);
}

static int
real_git_tags(void *self, struct ir_git *git, const char *pattern,
	      struct ir_git_tag **out, size_t *n, struct ir_ctx *ctx)
{
	return ir_git_tags(git, pattern, out, n, ctx);
}

static int
real_git_head(void *self, struct ir_git *git, char commit[IR_GIT_OID_HEX],
	      char *subject, size_t cap, bool *detached, struct ir_ctx *ctx)
{
	return ir_git_head(git, commit, subject, cap, detached, ctx);
}

static int
real_git_tag_commit(void *self, struct ir_git *git, const char *tag,
		    char commit[IR_GIT_OID_HEX], struct ir_ctx *ctx)
{
	return ir_git_tag_commit(git, tag, commit, ctx);
}

static int
real_git_status(void *self, struct ir_git *git, ir_git_status_fn fn,
		void *payload, struct ir_ctx *ctx)
{
	return ir_git_status(git, fn, payload, ctx);
}

static int
real_git_diff(void *self, struct ir_git *git, struct ir_buf *out,
	      struct ir_ctx *ctx)
{
	return ir_git_diff(git, out, ctx);
}

static int
real_git_conflicts(void *self, struct ir_git *git, const char *tag,
		   const char *owned_dir, struct ir_buf *paths, size_t *n,
		   struct ir_ctx *ctx)
{
	return ir_git_checkout_conflicts(git, tag, owned_dir, paths, n, ctx);
}

static int
real_git_checkout(void *self, struct ir_git *git, const char *tag,
		  bool force, const char *owned_dir, struct ir_buf *conflicts,
		  struct ir_ctx *ctx)
{
	return ir_git_checkout(git, tag, force, owned_dir, conflicts, ctx);
}

static int
real_git_lock_file(void *self, struct ir_git *git, const char *name,
		   bool *exists, int64_t *mtime_ns, struct ir_ctx *ctx)
{
	return ir_git_lock_file(git, name, exists, mtime_ns, ctx);
}

static int
real_git_lock_remove(void *self, struct ir_git *git, const char *name,
		     struct ir_ctx *ctx)
{
	return ir_git_lock_file_remove(git, name, ctx);
}

static int
real_archive_create(void *self, struct ir_archive_writer **out,
		    const char *final_path, const char *exclude,
		    struct ir_ctx *ctx)
{
	return ir_archive_create(out, final_path, exclude, ctx);
}

static int
real_archive_add_path(void *self, struct ir_archive_writer *w,
		      const char *root, const char *rel, struct ir_ctx *ctx)
{
	return ir_archive_add_path(w, root, rel, ctx);
}

static int
real_archive_add_bytes(void *self, struct ir_archive_writer *w,
		       const char *name, const void *p, size_t len,
		       struct ir_ctx *ctx)
{
	return ir_archive_add_bytes(w, name, p, len, ctx);
}

static int
real_archive_add_file_as(void *self, struct ir_archive_writer *w,
			 const char *name, const char *path,
			 struct ir_ctx *ctx)
{
	return ir_archive_add_file_as(w, name, path, ctx);
}

static int
real_archive_finish(void *self, struct ir_archive_writer *w,
		    struct ir_archive_info *out, struct ir_ctx *ctx)
{
	return ir_archive_finish(w, out, ctx);
}

static void
real_archive_abort(void *self, struct ir_archive_writer *w)
{
	ir_archive_abort(w);
}

static int
real_archive_extract(void *self, const char *path, const char *dest,
		     const struct ir_extract_opts *opts,
		     struct ir_extract_info *out, struct ir_ctx *ctx)
{
	return ir_archive_extract(path, dest, opts, out, ctx);
}

static int
real_file_mode(void *self, const char *path, unsigned *mode)
{
	struct stat sb;

	if (stat(path, &sb))
		return -errno;
	*mode = sb.st_mode;
	return 0;
}

static int
real_dir_make(void *self, const char *path, struct ir_ctx *ctx)
{
	return ir_files_mkdir(path, ctx);
}

static int
real_dir_list(void *self, const char *dir, ir_files_list_fn fn,
	      void *payload, struct ir_ctx *ctx)
{
	return ir_files_list(dir, fn, payload, ctx);
}

static int
real_file_remove(void *self, const char *path, struct ir_ctx *ctx)
{
	return ir_files_unlink(path, ctx);
}

static int
real_files_diff(void *self, const char *src, const char *dst,
		ir_files_diff_fn fn, void *payload, struct ir_ctx *ctx)
{
	return ir_files_diff(src, dst, fn, payload, ctx);
}

static int
real_files_replace_dir(void *self, const char *src, const char *dst,
		       struct ir_ctx *ctx)
{
	return ir_files_replace_dir(src, dst, ctx);
}

static struct ir_val *
real_log_tail(void *self, const char *path, unsigned lines)
{
	return ir_files_tail(path, lines);
}

const struct ir_effects ir_effects_real = {
	.self = NULL,
	.wall = real_wall,
	.mono = real_mono,
	.sleep_ms = real_sleep,
	.proc_run = real_proc_run,
	.proc_find = real_proc_find,
	.proc_wait_gone = real_proc_wait_gone,
	.group_alive = real_group_alive,
	.group_reap = real_group_reap,
	.http_get = real_http_get,
	.http_post_json = real_http_post_json,
	.git_open = real_git_open,
	.git_close = real_git_close,
	.git_tags = real_git_tags,
	.git_head = real_git_head,
	.git_tag_commit = real_git_tag_commit,
	.git_status = real_git_status,
	.git_diff = real_git_diff,
	.git_conflicts = real_git_conflicts,
	.git_checkout = real_git_checkout,
	.git_lock_file = real_git_lock_file,
	.git_lock_remove = real_git_lock_remove,
	.archive_create = real_archive_create,
	.archive_add_path = real_archive_add_path,
	.archive_add_bytes = real_archive_add_bytes,
	.archive_add_file_as = real_archive_add_file_as,
	.archive_finish = real_archive_finish,
	.archive_abort = real_archive_abort,
	.archive_extract = real_archive_extract,
	.file_mode = real_file_mode,
	.dir_make = real_dir_make,
	.dir_list = real_dir_list,
	.file_remove = real_file_remove,
	.files_diff = real_files_diff,
	.files_replace_dir = real_files_replace_dir,
	.log_tail = real_log_tail,
	.report_write = NULL,
	.verdict = NULL,
	.pid = real_pid,
	.crash_point = real_crash_point,
};

/* ---- the waiting timer -------------------------------------------------- */

#define TIMER(self) ((struct ir_effects_timer *)(self))
#define INNER(self) (TIMER(self)->wrap.inner)

/* Time one waiting call: t0 before, the rest after. */
#define TIMED(self, call)                                                    \
	do {                                                                  \
		uint64_t t0_ = INNER(self)->mono(INNER(self)->self);         \
		call;                                                         \
		TIMER(self)->wait_ns +=                                       \
			INNER(self)->mono(INNER(self)->self) - t0_;           \
	} while (0)

static void
timed_sleep(void *self, uint64_t ms)
{
	TIMED(self, INNER(self)->sleep_ms(INNER(self)->self, ms));
}

static void
timed_proc_wait_gone(void *self, const pid_t *pids, size_t n, uint64_t ms)
{
	TIMED(self, INNER(self)->proc_wait_gone(INNER(self)->self, pids, n,
						ms));
}

static int
timed_proc_run(void *self, const struct ir_proc_opts *opts,
	       struct ir_proc_result *out, struct ir_ctx *ctx)
{
	int rc;

	TIMED(self, rc = INNER(self)->proc_run(INNER(self)->self, opts, out,
					       ctx));
	return rc;
}

static int
timed_group_reap(void *self, pid_t pgid, uint64_t wait_ms, uint64_t grace_ms)
{
	int rc;

	TIMED(self, rc = INNER(self)->group_reap(INNER(self)->self, pgid,
						 wait_ms, grace_ms));
	return rc;
}

static int
timed_http_get(void *self, const char *url, uint64_t connect_ms,
	       uint64_t total_ms, struct ir_http_result *out,
	       struct ir_ctx *ctx)
{
	int rc;

	TIMED(self, rc = INNER(self)->http_get(INNER(self)->self, url,
					       connect_ms, total_ms, out, ctx));
	return rc;
}

static int
timed_http_post_json(void *self, const char *url, const char *json,
		     uint64_t timeout_ms, struct ir_ctx *ctx)
{
	int rc;

	TIMED(self, rc = INNER(self)->http_post_json(INNER(self)->self, url,
						     json, timeout_ms, ctx));
	return rc;
}

void
ir_effects_timer_init(struct ir_effects_timer *t,
		      const struct ir_effects *inner)
{
	ir_effects_wrap_init(&t->wrap, inner);
	t->wait_ns = 0;
	t->wrap.table.sleep_ms = timed_sleep;
	t->wrap.table.proc_run = timed_proc_run;
	if (inner->proc_wait_gone)
		t->wrap.table.proc_wait_gone = timed_proc_wait_gone;
	t->wrap.table.group_reap = timed_group_reap;
	t->wrap.table.http_get = timed_http_get;
	if (inner->http_post_json)
		t->wrap.table.http_post_json = timed_http_post_json;
}
