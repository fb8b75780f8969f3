/* The checkout and config steps: the deployment's git work tree. */
#include "steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir_limits.h"

/* What the target choice reads, gathered from the work tree and the
 * log's history: every matching tag with its verdict, HEAD, and TAG. */
struct target_read {
	struct ir_run *run;
	struct ir_target_input in;
	struct ir_git_tag *tags;
	struct ir_tag_input *view;
	char (*why)[256];
	struct ir_tag_input asked;
	char asked_commit[IR_GIT_OID_HEX], asked_why[256];
	char head[IR_GIT_OID_HEX];
};

static void
consult(void *payload, struct ir_tag_input *tag)
{
	struct target_read *r = payload;
	char *why = tag == &r->asked ? r->asked_why
				     : r->why[tag - r->view];

	why[0] = '\0';
	const struct ir_effects *fx = r->run->fx;

	tag->known_bad = tag->known_good = false;
	if (fx->verdict)
		fx->verdict(fx->self, tag->name, &tag->known_bad,
			    &tag->known_good, why, sizeof(r->asked_why));
	tag->why = why;
}

static void
target_read_clear(struct target_read *r)
{
	free(r->tags);
	free(r->view);
	free(r->why);
}

static int
target_read(struct ir_run *run, struct ir_git *git, const char *tag,
	    struct target_read *r, struct ir_ctx *ctx)
{
	const struct ir_effects *fx = run->fx;
	char subject[256];
	bool detached;
	size_t n = 0, i;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = fx->git_tags(fx->self, git, run->cfg->tag_pattern, &r->tags, &n,
			  ctx);
	if (!rc)
		rc = fx->git_head(fx->self, git, r->head, subject,
				  sizeof(subject), &detached, ctx);
	if (!rc && tag && tag[0])
		rc = fx->git_tag_commit(fx->self, git, tag, r->asked_commit,
					ctx);
	if (rc)
		return rc;
	r->view = calloc(n ? n : 1, sizeof(*r->view));
	r->why = calloc(n ? n : 1, sizeof(*r->why));
	if (!r->view || !r->why)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		r->view[i].name = r->tags[i].name;
		r->view[i].commit = r->tags[i].commit;
	}
	r->in.tags = r->view;
	r->in.n = n;
	r->in.head = r->head;
	r->in.pattern = run->cfg->tag_pattern;
	r->in.consult = consult;
	r->in.payload = r;
	r->run = run;
	if (tag && tag[0]) {
		r->asked.name = tag;
		r->asked.commit = r->asked_commit;
		r->in.asked = &r->asked;
	}
	return 0;
}

int
ir_checkout_target(struct ir_run *run, const char *tag, struct ir_target *t,
		  struct ir_ctx *ctx)
{
	const struct ir_effects *fx = run->fx;
	struct ir_git *git = NULL;
	struct target_read r;
	int rc;

	memset(t, 0, sizeof(*t));
	rc = fx->git_open(fx->self, run->cfg->deploy_dir, &git, ctx);
	if (rc)
		return rc;
	rc = target_read(run, git, tag, &r, ctx);
	if (!rc)
		rc = ir_target_choose(&r.in, t, ctx);
	target_read_clear(&r);
	fx->git_close(fx->self, git);
	return rc;
}

/* The one rule for local changes in the way of a checkout: shared by the
 * pre-flight (ir_checkout_conflicts) and the checkout step. */
static int
find_conflicts(const struct ir_run *run, struct ir_git *git, const char *tag,
	       struct ir_buf *paths, size_t *n, struct ir_ctx *ctx)
{
	return run->fx->git_conflicts(run->fx->self, git, tag,
				      run->cfg->config_dir, paths, n, ctx);
}

int
ir_checkout_conflicts(struct ir_run *run, const char *tag,
		      struct ir_buf *paths, size_t *n, struct ir_ctx *ctx)
{
	const struct ir_effects *fx = run->fx;
	struct ir_git *git = NULL;
	int rc;

	rc = fx->git_open(fx->self, run->cfg->deploy_dir, &git, ctx);
	if (rc)
		return rc;
	rc = find_conflicts(run, git, tag, paths, n, ctx);
	fx->git_close(fx->self, git);
	return rc;
}

/* "a\nb\n" as "a, b". */
static void
list_paths(struct ir_buf *b)
{
	char *p;

	if (!b->len)
		return;
	for (p = (char *)b->data; *p; p++)
		if (*p == '\n' && p[1])
			*p = ',';
	if (b->data[b->len - 1] == '\n')
		b->data[b->len - 1] = '\0';
}

/* The local changes in the way of the checkout, as the rule found them
 * (paths: one per line, NUL-terminated by the buffer). */
static int
observe_conflicts(struct ir_attempt *a, const struct ir_buf *paths, size_t n)
{
	struct ir_val *d = ir_val_map_new(), *arr = ir_val_array_new();
	const char *p = paths->len ? (const char *)paths->data : "";
	size_t kept = 0;

	while (*p && kept < IR_LIMIT_REPORT_ITEMS) {
		size_t len = strcspn(p, "\n");

		if (len) {
			char path[IR_LIMIT_ARCHIVE_PATH + 1];

			snprintf(path, sizeof(path), "%.*s", (int)len, p);
			ir_val_push_str(arr, path);
			kept++;
		}
		p += len + (p[len] == '\n');
	}
	ir_val_set_uint(d, "count", n);
	ir_val_set_take(d, "paths", arr);
	return ir_attempt_observe(a, "conflicts", d);
}

static int
record_target(struct ir_run *run, struct ir_target *t, struct ir_ctx *ctx)
{
	struct ir_val *d = ir_val_map_new();

	ir_val_set_str(d, "from", t->from);
	ir_val_set_str(d, "to", t->to);
	ir_val_set_str(d, "from_commit", t->from_commit);
	ir_val_set_str(d, "to_commit", t->to_commit);
	ir_val_set_take(d, "skipped", t->skipped);
	t->skipped = NULL;
	ir_val_set_str(d, "why", t->why);
	ir_val_set_str(d, "rule", t->rule ? t->rule : "");
	return ir_rec_emit(run->rec, "target.chosen", "checkout", d, ctx);
}

static int
observe_head(struct ir_attempt *a, struct ir_git *git, char *head_out)
{
	const struct ir_effects *fx = a->run->fx;
	char head[IR_GIT_OID_HEX], subject[256], line[300];
	struct ir_ctx local = { 0 };
	struct ir_val *d = ir_val_map_new();
	bool detached = false;
	int rc;

	rc = fx->git_head(fx->self, git, head, subject, sizeof(subject),
			  &detached, &local);
	if (rc) {
		ir_val_set_str(d, "error", ir_error_msg(&local, rc));
		head[0] = '\0';
	} else {
		snprintf(line, sizeof(line), "%.7s %s", head, subject);
		ir_val_set_str(d, "head", line);
		ir_val_set_str(d, "commit", head);
		ir_val_set_str(d, "subject", subject);
		ir_val_set_bool(d, "detached", detached);
	}
	if (head_out)
		snprintf(head_out, IR_GIT_OID_HEX, "%s", head);
	return ir_attempt_observe(a, "git", d);
}

int
ir_step_verify_git(struct ir_attempt *a)
{
	const struct ir_effects *fx = a->run->fx;
	struct ir_git *git = NULL;
	struct ir_ctx local = { 0 };
	int rc = fx->git_open(fx->self, a->run->cfg->deploy_dir, &git, &local);

	if (rc) {
		struct ir_val *d = ir_val_map_new();

		ir_val_set_str(d, "error", ir_error_msg(&local, rc));
		return ir_attempt_observe(a, "git", d);
	}
	rc = observe_head(a, git, NULL);
	fx->git_close(fx->self, git);
	return rc;
}

/* File times come from the kernel's coarse clock, which runs up to one
 * tick (10 ms at HZ=100, the slowest) behind the clock step.started read:
 * a file made just after the attempt began may carry a slightly earlier
 * time. */
#define FS_CLOCK_SLACK_NS (10 * 1000000LL)

/* A stale lock file of a checkout (index.lock, HEAD.lock) is removed only
 * when it is ours: left behind by an interrupted checkout attempt of this
 * incident (its mtime is after that attempt began). */
static int
check_index_lock(struct ir_attempt *a, struct ir_git *git,
		 bool was_interrupted, int64_t started_ts, bool *fail,
		 char *why, size_t cap)
{
	const struct ir_effects *fx = a->run->fx;
	char shown[64];
	size_t i;
	int rc = 0;

	*fail = false;
	for (i = 0; i < IR_GIT_N_LOCK_FILES && !rc && !*fail; i++) {
		const char *name = ir_git_lock_files[i];
		bool exists = false;
		int64_t mtime = 0;

		rc = fx->git_lock_file(fx->self, git, name, &exists, &mtime,
				       a->ctx);
		if (rc || !exists)
			continue;
		snprintf(shown, sizeof(shown), ".git/%s", name);
		if (was_interrupted &&
		    mtime >= started_ts - FS_CLOCK_SLACK_NS) {
			struct ir_val *d = ir_val_map_new();

			rc = fx->git_lock_remove(fx->self, git, name, a->ctx);
			if (rc) {
				ir_val_free(d);
				break;
			}
			ir_val_set_str(d, "path", shown);
			ir_val_set_str(d, "action",
				       "removed: left by our interrupted "
				       "checkout");
			rc = ir_attempt_observe(a, "file", d);
			continue;
		}
		*fail = true;
		snprintf(why, cap,
			 "%s exists: another git process is working in %s "
			 "(not ours; not removed)",
			 shown, a->run->cfg->deploy_dir);
	}
	return rc;
}

int
ir_step_checkout(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_state *st = ir_rec_state(run->rec);
	const struct ir_step_state *s = &st->steps[IR_STEP_CHECKOUT];
	const struct ir_effects *fx = run->fx;
	bool was_interrupted = s->interrupted, lock_fail;
	int64_t started_ts = s->started_ts;
	struct ir_buf conflicts = IR_BUF_INIT(64 * 1024);
	struct ir_git *git = NULL;
	struct ir_ctx local = { 0 };
	struct ir_target t = { 0 };
	struct ir_attempt a;
	char head[IR_GIT_OID_HEX], why[512];
	size_t n = 0;
	bool force;
	int rc;

	ir_attempt_init(&a, run, IR_STEP_CHECKOUT, run->cfg->checkout_budget_ms,
			ctx);
	rc = ir_attempt_start(&a, NULL, 0);
	if (rc)
		return rc;
	rc = fx->git_open(fx->self, run->cfg->deploy_dir, &git, &local);
	if (rc) {
		rc = ir_attempt_fail(&a, -2, "%s", ir_error_msg(&local, rc));
		goto out;
	}
	/* The target is chosen once per incident: after the checkout HEAD is
	 * at it, and choosing again would go one further back. */
	if (!st->target[0]) {
		struct target_read r;
		int chosen;

		rc = target_read(run, git, st->opt_tag, &r, &local);
		if (rc) {
			target_read_clear(&r);
			rc = ir_attempt_fail(&a, -2, "%s",
					     ir_error_msg(&local, rc));
			goto out;
		}
		/* What the choice reads is in the log before the choice. */
		chosen = ir_target_choose(&r.in, &t, &local);
		rc = ir_attempt_observe(&a, "tags",
					ir_target_record(&r.in, &t));
		target_read_clear(&r);
		if (!rc && chosen)
			rc = ir_attempt_fail(&a, -2, "%s",
					     ir_error_msg(&local, chosen));
		if (!rc && !chosen)
			rc = record_target(run, &t, ctx);
		if (rc || chosen)
			goto out;
	}
	/* The target is durable before the work tree changes. */
	rc = ir_rec_flush(run->rec, ctx);
	if (rc)
		goto out;
	rc = observe_head(&a, git, head);
	if (rc)
		goto out;
	if (!strcmp(head, st->target_commit)) {
		rc = ir_attempt_complete(&a);
		goto out;
	}
	rc = check_index_lock(&a, git, was_interrupted, started_ts, &lock_fail,
			      why, sizeof(why));
	if (!rc && lock_fail)
		rc = ir_attempt_fail(&a, -2, "%s", why);
	if (rc || lock_fail)
		goto out;
	/* The pre-flight's rule: only changes in the way need --force, and
	 * --force overwrites them only once the backup has archived them. */
	rc = find_conflicts(run, git, st->target, &conflicts, &n, &local);
	if (rc) {
		rc = ir_attempt_fail(&a, -2, "checkout of %s failed: %s",
				     st->target, ir_error_msg(&local, rc));
		goto out;
	}
	rc = observe_conflicts(&a, &conflicts, n);
	if (rc)
		goto out;
	force = st->opt_force && n;
	if (force && st->steps[IR_STEP_BACKUP].status != IR_STEP_DONE) {
		list_paths(&conflicts);
		rc = ir_attempt_fail(&a, -2,
				     "--force would overwrite local changes "
				     "(%s) that no backup archived (the "
				     "backup step did not run)",
				     (char *)conflicts.data);
		goto out;
	}
	if (n && !force)
		rc = -EEXIST;
	else
		rc = fx->git_checkout(fx->self, git, st->target, force,
				      run->cfg->config_dir, &conflicts, &local);
	if (rc == -EEXIST && conflicts.len) {
		list_paths(&conflicts);
		rc = ir_attempt_fail(&a, -2,
				     "local changes would be overwritten: %s "
				     "(commit or stash them, or use --force "
				     "after a backup)",
				     (char *)conflicts.data);
		goto out;
	}
	if (rc) {
		rc = ir_attempt_fail(&a, -2, "checkout of %s failed: %s",
				     st->target, ir_error_msg(&local, rc));
		goto out;
	}
	rc = observe_head(&a, git, head);
	if (!rc)
		rc = ir_attempt_complete(&a);
out:
	ir_val_free(t.skipped);
	ir_buf_clear(&conflicts);
	if (git)
		fx->git_close(fx->self, git);
	return rc;
}

/* ---- config ------------------------------------------------------------ */

static bool
is_archive(const char *path)
{
	static const char *const ends[] = { ".tar.zst", ".tar.gz", ".tgz",
					    ".tar" };
	size_t n = strlen(path), i;

	for (i = 0; i < sizeof(ends) / sizeof(*ends); i++) {
		size_t e = strlen(ends[i]);

		if (n > e && !strcmp(path + n - e, ends[i]))
			return true;
	}
	return false;
}

static char *
join(const char *base, const char *rel)
{
	char *p;

	if (rel[0] == '/')
		return strdup(rel);
	if (asprintf(&p, "%s/%s", base, rel) < 0)
		return NULL;
	return p;
}

struct counts {
	unsigned added, changed, removed;
	struct ir_val *paths;
};

static int
count_change(void *payload, enum ir_files_change change, const char *path)
{
	struct counts *c = payload;
	char line[4200];

	if (change == IR_FILES_ADDED)
		c->added++;
	else if (change == IR_FILES_CHANGED)
		c->changed++;
	else
		c->removed++;
	if (c->paths && c->paths->as.arr.len < 200) {
		snprintf(line, sizeof(line), "%c %s", (char)change, path);
		ir_val_push_str(c->paths, line);
	}
	return 0;
}

int
ir_step_config(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_state *st = ir_rec_state(run->rec);
	const struct ir_config *cfg = run->cfg;
	const struct ir_effects *fx = run->fx;
	char *tmpl = NULL, *src = NULL, *dst = NULL;
	struct counts c = { 0 };
	struct ir_ctx local = { 0 };
	struct ir_attempt a;
	struct ir_val *d;
	unsigned mode = 0;
	bool same = false;
	int rc = -ENOMEM;

	ir_attempt_init(&a, run, IR_STEP_CONFIG, cfg->config_budget_ms, ctx);
	/* A deploy brings the tag's own tracked config with the checkout,
	 * unless deploy.config names one to restore. */
	if (!strcmp(st->kind, "deploy") && !cfg->deploy_config) {
		d = ir_val_map_new();
		ir_val_set_str(d, "why",
			       "the tag's own tracked config (deploy.config is "
			       "not set)");
		return ir_rec_emit(run->rec, "step.skipped", "config", d, ctx);
	}
	tmpl = ir_runbook_expand(!strcmp(st->kind, "deploy")
					 ? cfg->deploy_config
					 : cfg->config_backup,
				 st->target);
	src = tmpl ? join(cfg->deploy_dir, tmpl) : NULL;
	dst = join(cfg->deploy_dir, cfg->config_dir);
	if (!src || !dst)
		goto out;
	if (fx->file_mode(fx->self, src, &mode)) {
		d = ir_val_map_new();
		ir_val_set_str(d, "why", "no config backup for this target");
		ir_val_set_str(d, "path", src);
		rc = ir_rec_emit(run->rec, "step.skipped", "config", d, ctx);
		goto out;
	}
	rc = ir_attempt_start(&a, NULL, 0);
	if (rc)
		goto out;
	if (S_ISDIR(mode)) {
		c.paths = ir_val_array_new();
		rc = fx->files_diff(fx->self, src, dst, count_change, &c,
				    &local);
		if (!rc)
			same = !c.added && !c.changed && !c.removed;
		if (!rc && !same)
			rc = fx->files_replace_dir(fx->self, src, dst, &local);
	} else if (S_ISREG(mode) && is_archive(src)) {
		struct ir_extract_opts opts = IR_EXTRACT_OPTS_INIT;
		struct ir_extract_info info;

		opts.force = true;
		rc = fx->archive_extract(fx->self, src, dst, &opts, &info,
					 &local);
		c.changed = (unsigned)info.files;
	} else {
		rc = ir_error_set(&local, -EINVAL, IR_ORIGIN_CONFIG, 0,
				  "\"%s\" is neither a folder nor a .tar.zst "
				  "/ .tar.gz archive",
				  src);
	}
	if (rc) {
		rc = ir_attempt_fail(&a, -2, "config restore from \"%s\" "
				     "failed: %s",
				     src, ir_error_msg(&local, rc));
		goto out;
	}
	d = ir_val_map_new();
	ir_val_set_str(d, "path", cfg->config_dir);
	ir_val_set_str(d, "source", src);
	ir_val_set_bool(d, "identical_before", same);
	ir_val_set_uint(d, "added", c.added);
	ir_val_set_uint(d, "changed", c.changed);
	ir_val_set_uint(d, "removed", c.removed);
	if (c.paths) {
		ir_val_set_take(d, "changes", c.paths);
		c.paths = NULL;
	}
	rc = ir_attempt_observe(&a, "file", d);
	if (!rc)
		rc = ir_attempt_complete(&a);
out:
	ir_val_free(c.paths);
	free(tmpl);
	free(src);
	free(dst);
	return rc;
}
