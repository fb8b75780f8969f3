#include "plan.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define PLAN(self) ((struct ir_world_plan *)(self))
#define REAL(self) (PLAN(self)->wrap.inner)

/* The writer a planned archive hands out: nothing behind it. */
static char planned_writer;

static void
plan_sleep(void *self, uint64_t ms)
{
	(void)self;
	(void)ms;
}

/* Whether the command is the stop step's (its INCIDENT_STEP). */
static bool
is_stop(const struct ir_proc_opts *opts)
{
	const char *const *e;

	for (e = opts->env; e && *e; e++)
		if (!strcmp(*e, "INCIDENT_STEP=stop"))
			return true;
	return false;
}

/* The gate opens (so step.started is recorded as it would be) and the
 * command is taken as done: exit 0, no output, no process group.  The
 * stop's command is taken as having stopped trading. */
static int
plan_proc_run(void *self, const struct ir_proc_opts *opts,
	      struct ir_proc_result *out, struct ir_ctx *ctx)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (opts->on_spawn) {
		rc = opts->on_spawn(opts->payload, 0);
		if (rc)
			return rc;
	}
	if (is_stop(opts))
		PLAN(self)->commanded = true;
	return 0;
}

/* Before the stop's command, the processes that run now; after it, none:
 * the plan takes it as doing its work. */
static int
plan_proc_find(void *self, const char *pattern, pid_t *pids, size_t max,
	       size_t *n, struct ir_ctx *ctx)
{
	if (PLAN(self)->commanded) {
		*n = 0;
		return 0;
	}
	return REAL(self)->proc_find(REAL(self)->self, pattern, pids, max, n,
				     ctx);
}

static bool
plan_group_alive(void *self, pid_t pgid)
{
	return false;
}

static int
plan_group_reap(void *self, pid_t pgid, uint64_t wait_ms, uint64_t grace_ms)
{
	return 0;
}

static int
plan_http_get(void *self, const char *url, uint64_t connect_ms,
	      uint64_t total_ms, struct ir_http_result *out,
	      struct ir_ctx *ctx)
{
	memset(out, 0, sizeof(*out));
	out->status = PLAN(self)->health_status;
	if (PLAN(self)->health_body)
		out->body_len = (size_t)snprintf(out->body, sizeof(out->body),
						 "%s", PLAN(self)->health_body);
	return 0;
}

static int
plan_http_post_json(void *self, const char *url, const char *json,
		    uint64_t timeout_ms, struct ir_ctx *ctx)
{
	return 0;
}

static int
plan_git_head(void *self, struct ir_git *git, char commit[IR_GIT_OID_HEX],
	      char *subject, size_t cap, bool *detached, struct ir_ctx *ctx)
{
	struct ir_world_plan *p = PLAN(self);

	if (!p->head[0])
		return REAL(self)->git_head(REAL(self)->self, git, commit,
					    subject, cap, detached, ctx);
	snprintf(commit, IR_GIT_OID_HEX, "%s", p->head);
	snprintf(subject, cap, "%s", p->head_subject);
	*detached = true;
	return 0;
}

/* HEAD moves in the plan only: to the tag's commit, read from the
 * repository. */
static int
plan_git_checkout(void *self, struct ir_git *git, const char *tag,
		  bool force, const char *owned_dir, struct ir_buf *conflicts,
		  struct ir_ctx *ctx)
{
	struct ir_world_plan *p = PLAN(self);
	int rc = REAL(self)->git_tag_commit(REAL(self)->self, git, tag, p->head,
					    ctx);

	if (rc)
		p->head[0] = '\0';
	else
		snprintf(p->head_subject, sizeof(p->head_subject),
			 "(planned checkout of %s)", tag);
	return rc;
}

static int
plan_git_lock_remove(void *self, struct ir_git *git, const char *name,
		     struct ir_ctx *ctx)
{
	return 0;
}

static int
plan_archive_create(void *self, struct ir_archive_writer **out,
		    const char *final_path, const char *exclude,
		    struct ir_ctx *ctx)
{
	*out = (struct ir_archive_writer *)&planned_writer;
	return 0;
}

/* A path the archive would miss is missing in the plan too. */
static int
plan_archive_add_path(void *self, struct ir_archive_writer *w,
		      const char *root, const char *rel, struct ir_ctx *ctx)
{
	char path[4200];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (lstat(path, &sb))
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "\"%s\": %s", path, strerror(errno));
	return 0;
}

static int
plan_archive_add_bytes(void *self, struct ir_archive_writer *w,
		       const char *name, const void *p, size_t len,
		       struct ir_ctx *ctx)
{
	return 0;
}

static int
plan_archive_add_file_as(void *self, struct ir_archive_writer *w,
			 const char *name, const char *path,
			 struct ir_ctx *ctx)
{
	return 0;
}

static int
plan_archive_finish(void *self, struct ir_archive_writer *w,
		    struct ir_archive_info *out, struct ir_ctx *ctx)
{
	memset(out, 0, sizeof(*out));
	return 0;
}

static void
plan_archive_abort(void *self, struct ir_archive_writer *w)
{
}

static int
plan_archive_extract(void *self, const char *path, const char *dest,
		     const struct ir_extract_opts *opts,
		     struct ir_extract_info *out, struct ir_ctx *ctx)
{
	memset(out, 0, sizeof(*out));
	return 0;
}

static int
plan_dir_make(void *self, const char *path, struct ir_ctx *ctx)
{
	return 0;
}

static int
plan_file_remove(void *self, const char *path, struct ir_ctx *ctx)
{
	return 0;
}

static int
plan_files_replace_dir(void *self, const char *src, const char *dst,
		       struct ir_ctx *ctx)
{
	return 0;
}

/* The log after the restart is not there yet. */
static struct ir_val *
plan_log_tail(void *self, const char *path, unsigned lines)
{
	return ir_val_array_new();
}

static int
plan_report_write(void *self, uint64_t id, struct ir_ctx *ctx)
{
	return 0;
}

/* A planned incident never reaches the ledger: nothing to sign. */
static int
plan_checkpoint(void *self, const struct ir_ledger_head *head,
		const char *what, unsigned how, struct ir_ctx *ctx)
{
	return 0;
}

void
ir_world_plan_init(struct ir_world_plan *p, const struct ir_effects *real,
		   long health_status, const char *health_body)
{
	struct ir_effects *t = &p->wrap.table;

	memset(p, 0, sizeof(*p));
	ir_effects_wrap_init(&p->wrap, real);
	p->health_status = health_status;
	p->health_body = health_body;
	/* Reads go to the real world (wrap.c); every act is planned. */
	t->sleep_ms = plan_sleep;
	t->proc_run = plan_proc_run;
	t->proc_find = plan_proc_find;
	t->proc_wait_gone = NULL; /* the plan's sleep */
	t->group_alive = plan_group_alive;
	t->group_reap = plan_group_reap;
	t->http_get = plan_http_get;
	t->http_post_json = plan_http_post_json;
	t->git_head = plan_git_head;
	t->git_checkout = plan_git_checkout;
	t->git_lock_remove = plan_git_lock_remove;
	t->archive_create = plan_archive_create;
	t->archive_add_path = plan_archive_add_path;
	t->archive_add_bytes = plan_archive_add_bytes;
	t->archive_add_file_as = plan_archive_add_file_as;
	t->archive_finish = plan_archive_finish;
	t->archive_abort = plan_archive_abort;
	t->archive_extract = plan_archive_extract;
	t->dir_make = plan_dir_make;
	t->file_remove = plan_file_remove;
	t->files_replace_dir = plan_files_replace_dir;
	t->log_tail = plan_log_tail;
	t->report_write = plan_report_write;
	t->checkpoint = plan_checkpoint;
	t->crash_point = NULL;
}
