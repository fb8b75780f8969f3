/*
 * gitops against real repositories in a private temporary directory, made
 * both with the git command line and with our own ir_git_init/commit/tag,
 * and checked against what `git` itself says about them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitops.h"
#include "ir_limits.h"

extern char **environ;

static char tmp_root[PATH_MAX];
static unsigned repo_counter;

/* ---- helpers ---------------------------------------------------------- */

/* Run `git -C dir args...` (NULL-terminated); stdout into out (cap bytes,
 * NUL-ended, may be NULL).  Returns the exit status, -1 if it did not run
 * or exit. */
static int
git_run(char *out, size_t cap, const char *dir, ...)
{
	posix_spawn_file_actions_t fa;
	const char *argv[32];
	char scratch[256];
	size_t argc = 0, len = 0;
	int fds[2], status;
	va_list ap;
	pid_t pid;
	ssize_t n;

	argv[argc++] = "git";
	argv[argc++] = "-C";
	argv[argc++] = dir;
	va_start(ap, dir);
	for (;;) {
		const char *a = va_arg(ap, const char *);

		assert_true(argc < 31);
		argv[argc++] = a;
		if (!a)
			break;
	}
	va_end(ap);
	if (!out) {
		out = scratch;
		cap = sizeof(scratch);
	}
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	if (posix_spawnp(&pid, "git", &fa, NULL, (char *const *)argv,
			 environ)) {
		posix_spawn_file_actions_destroy(&fa);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	for (;;) {
		char sink[512];

		if (len + 1 < cap)
			n = read(fds[0], out + len, cap - 1 - len);
		else
			n = read(fds[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + 1 < cap)
			len += (size_t)n;
	}
	out[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define GIT_OK(out, cap, dir, ...)                                            \
	assert_int_equal(git_run(out, cap, dir, __VA_ARGS__, NULL), 0)

/* Drop one trailing newline. */
static char *
chomp(char *s)
{
	size_t n = strlen(s);

	if (n && s[n - 1] == '\n')
		s[n - 1] = '\0';
	return s;
}

static void
path_join(char *out, const char *dir, const char *rel)
{
	assert_true((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, rel) <
		    PATH_MAX);
}

static void
write_file(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX], *slash;
	FILE *f;

	path_join(path, dir, rel);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*slash = '/';
	}
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *
slurp(const char *dir, const char *rel, char *buf, size_t cap)
{
	char path[PATH_MAX];
	size_t n;
	FILE *f;

	path_join(path, dir, rel);
	f = fopen(path, "re");
	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool
exists(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	path_join(path, dir, rel);
	return lstat(path, &st) == 0;
}

static void
remove_file(const char *dir, const char *rel)
{
	char path[PATH_MAX];

	path_join(path, dir, rel);
	assert_int_equal(unlink(path), 0);
}

/* A fresh, empty directory for one test. */
static void
new_dir(char *out)
{
	assert_true((size_t)snprintf(out, PATH_MAX, "%s/r%u", tmp_root,
				     ++repo_counter) < PATH_MAX);
	assert_int_equal(mkdir(out, 0700), 0);
}

struct deploy_repo {
	char dir[PATH_MAX];
	char c1[IR_GIT_OID_HEX], c2[IR_GIT_OID_HEX], c3[IR_GIT_OID_HEX];
};

#define T1 "deploy-20240101-000000"
#define T2 "deploy-20240102-000000"
#define T3 "deploy-20240103-000000"

/* Three deploys made with the git command line:
 *   T1 (lightweight): app.txt v1, config/app.conf threads=1, old.txt
 *   T2 (annotated):   app.txt v2, config/app.conf threads=2, no old.txt
 *   T3 (lightweight): app.txt v3
 * config/static.conf is the same in all three; *.log is ignored.  Some
 * tags are packed, some loose.  HEAD is on branch main at T3. */
static void
make_deploy_repo(struct deploy_repo *r)
{
	char out[256];

	new_dir(r->dir);
	GIT_OK(NULL, 0, r->dir, "init", "-q", "-b", "main");
	write_file(r->dir, ".gitignore", "*.log\n");
	write_file(r->dir, "app.txt", "v1\n");
	write_file(r->dir, "old.txt", "old\n");
	write_file(r->dir, "config/app.conf", "threads=1\n");
	write_file(r->dir, "config/static.conf", "static\n");
	GIT_OK(NULL, 0, r->dir, "add", "-A");
	GIT_OK(NULL, 0, r->dir, "commit", "-q", "-m", "first deploy");
	write_file(r->dir, "app.txt", "v2\n");
	write_file(r->dir, "config/app.conf", "threads=2\n");
	remove_file(r->dir, "old.txt");
	GIT_OK(NULL, 0, r->dir, "add", "-A");
	GIT_OK(NULL, 0, r->dir, "commit", "-q", "-m", "second deploy");
	write_file(r->dir, "app.txt", "v3\n");
	GIT_OK(NULL, 0, r->dir, "commit", "-q", "-a", "-m",
	       "third deploy\n\nwith a body");
	/* Out of name order, and partly packed. */
	GIT_OK(NULL, 0, r->dir, "tag", "-a", "-m", "annotated", T2, "HEAD~1");
	GIT_OK(NULL, 0, r->dir, "tag", "v1.0", "HEAD~1");
	GIT_OK(NULL, 0, r->dir, "pack-refs", "--all");
	GIT_OK(NULL, 0, r->dir, "tag", T3, "HEAD");
	GIT_OK(NULL, 0, r->dir, "tag", T1, "HEAD~2");
	GIT_OK(out, sizeof(out), r->dir, "rev-parse", "HEAD~2");
	snprintf(r->c1, sizeof(r->c1), "%s", chomp(out));
	GIT_OK(out, sizeof(out), r->dir, "rev-parse", "HEAD~1");
	snprintf(r->c2, sizeof(r->c2), "%s", chomp(out));
	GIT_OK(out, sizeof(out), r->dir, "rev-parse", "HEAD");
	snprintf(r->c3, sizeof(r->c3), "%s", chomp(out));
	assert_int_equal(strlen(r->c1), IR_GIT_OID_HEX - 1);
}

static struct ir_git *
open_repo(const char *dir)
{
	struct ir_ctx ctx = { 0 };
	struct ir_git *git = NULL;

	assert_int_equal(ir_git_open(&git, dir, &ctx), 0);
	assert_non_null(git);
	return git;
}

static void
rev_parse(const char *dir, const char *rev, char *out, size_t cap)
{
	GIT_OK(out, cap, dir, "rev-parse", rev);
	chomp(out);
}

static void
porcelain(const char *dir, char *out, size_t cap)
{
	GIT_OK(out, cap, dir, "status", "--porcelain", "-uall");
}

/* One "XY path" line per status entry, into a 4096-byte text. */
static int
collect_status(void *payload, const char *code, const char *path)
{
	char *text = payload;
	size_t used = strlen(text);

	assert_int_equal(strlen(code), 2);
	snprintf(text + used, 4096 - used, "%s %s\n", code, path);
	return 0;
}

/* ---- config ----------------------------------------------------------- */

struct entries {
	struct {
		char name[128];
		char value[128];
		bool null_value;
	} e[32];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int
collect_entry(void *payload, const char *name, const char *value)
{
	struct entries *es = payload;

	if (es->stop_after && es->n == es->stop_after)
		return -ECANCELED;
	assert_true(es->n < 32);
	snprintf(es->e[es->n].name, sizeof(es->e[es->n].name), "%s", name);
	snprintf(es->e[es->n].value, sizeof(es->e[es->n].value), "%s",
		 value ? value : "");
	es->e[es->n].null_value = value == NULL;
	es->n++;
	return 0;
}

static const char config_text[] =
	"# incident configuration\n"
	"[core]\n"
	"\tdata-dir = /var/lib/incident\n"
	"[backup]\n"
	"\tpath = config\n"
	"\tpath = logs\n"
	"[notify \"ops\"]\n"
	"\turl = https://hooks.example.invalid/T0/secret\n"
	"[Backup]\n"
	"\tpath = \"third path\"   ; comment\n"
	"\tKeep = 20\n"
	"[database]\n"
	"\ton-rollback\n";

static void
test_config_order(void **state)
{
	static const char *const want[][2] = {
		{ "core.data-dir", "/var/lib/incident" },
		{ "backup.path", "config" },
		{ "backup.path", "logs" },
		{ "notify.ops.url", "https://hooks.example.invalid/T0/secret" },
		{ "backup.path", "third path" },
		{ "backup.keep", "20" },
		{ "database.on-rollback", "" },
	};
	struct entries es = { 0 };
	struct ir_ctx ctx = { 0 };
	char dir[PATH_MAX], path[PATH_MAX], list[2048], ours[2048] = "";
	size_t i;

	(void)state;
	new_dir(dir);
	write_file(dir, "incident.conf", config_text);
	path_join(path, dir, "incident.conf");
	assert_int_equal(ir_gitcfg_read(path, collect_entry, &es, &ctx), 0);
	assert_int_equal(es.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < es.n; i++) {
		assert_string_equal(es.e[i].name, want[i][0]);
		assert_string_equal(es.e[i].value, want[i][1]);
	}
	/* A bare key has no value at all (git's boolean true). */
	assert_true(es.e[6].null_value);
	assert_false(es.e[5].null_value);

	/* Same entries, same order, as git itself reads the file. */
	GIT_OK(list, sizeof(list), dir, "config", "-f", path, "--list");
	for (i = 0; i < es.n; i++) {
		size_t used = strlen(ours);

		snprintf(ours + used, sizeof(ours) - used, "%s%s%s\n",
			 es.e[i].name, es.e[i].null_value ? "" : "=",
			 es.e[i].value);
	}
	assert_string_equal(ours, list);
}

static void
test_config_callback_stops(void **state)
{
	struct entries es = { .stop_after = 2 };
	struct ir_ctx ctx = { 0 };
	char dir[PATH_MAX], path[PATH_MAX];

	(void)state;
	new_dir(dir);
	write_file(dir, "incident.conf", config_text);
	path_join(path, dir, "incident.conf");
	assert_int_equal(ir_gitcfg_read(path, collect_entry, &es, &ctx),
			 -ECANCELED);
	assert_int_equal(es.n, 2);
}

static void
test_config_malformed(void **state)
{
	struct entries es = { 0 };
	struct ir_ctx ctx = { 0 };
	char dir[PATH_MAX], path[PATH_MAX];

	(void)state;
	new_dir(dir);
	write_file(dir, "bad.conf",
		   "[core]\n"
		   "\tdata-dir = /x\n"
		   "[deploy\n"
		   "\tdir = /srv\n");
	path_join(path, dir, "bad.conf");
	assert_int_equal(ir_gitcfg_read(path, collect_entry, &es, &ctx),
			 -EINVAL);
	assert_int_equal(ctx.err.code, -EINVAL);
	assert_int_equal(ctx.err.origin, IR_ORIGIN_GIT);
	/* libgit2's own message: the file and the line. */
	assert_non_null(strstr(ctx.err.msg, "bad.conf:3"));
	assert_int_equal(es.n, 0);
}

static void
test_config_missing(void **state)
{
	struct entries es = { 0 };
	struct ir_ctx ctx = { 0 };
	char dir[PATH_MAX], path[PATH_MAX];

	(void)state;
	new_dir(dir);
	path_join(path, dir, "nowhere.conf");
	assert_int_equal(ir_gitcfg_read(path, collect_entry, &es, &ctx),
			 -ENOENT);
	assert_non_null(strstr(ctx.err.msg, "nowhere.conf"));
}

static void
test_config_too_big(void **state)
{
	struct entries es = { 0 };
	struct ir_ctx ctx = { 0 };
	char dir[PATH_MAX], path[PATH_MAX];
	char *text;

	(void)state;
	new_dir(dir);
	text = malloc(IR_LIMIT_CONFIG_BYTES + 2);
	assert_non_null(text);
	memset(text, '#', IR_LIMIT_CONFIG_BYTES);
	text[IR_LIMIT_CONFIG_BYTES] = '\n';
	text[IR_LIMIT_CONFIG_BYTES + 1] = '\0';
	write_file(dir, "big.conf", text);
	free(text);
	path_join(path, dir, "big.conf");
	assert_int_equal(ir_gitcfg_read(path, collect_entry, &es, &ctx),
			 -EINVAL);
	assert_non_null(strstr(ctx.err.msg, "big.conf"));
	assert_int_equal(es.n, 0);
}

/* ---- open, tags, HEAD ------------------------------------------------- */

static void
test_open_needs_work_tree(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git = NULL;
	char dir[PATH_MAX], sub[PATH_MAX];

	(void)state;
	new_dir(dir);
	assert_int_equal(ir_git_open(&git, dir, &ctx), -ENOENT);
	assert_null(git);
	assert_non_null(strstr(ctx.err.msg, dir));

	/* No discovery upwards from a folder inside a work tree. */
	make_deploy_repo(&r);
	path_join(sub, r.dir, "config");
	ir_error_clear(&ctx);
	assert_int_equal(ir_git_open(&git, sub, &ctx), -ENOENT);
	assert_null(git);
	ir_git_close(NULL);
}

static void
test_tags_match_git(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git_tag *tags = NULL;
	struct ir_git *git;
	char list[1024], ours[1024] = "", out[128];
	size_t n = 0, i;

	(void)state;
	make_deploy_repo(&r);
	git = open_repo(r.dir);
	assert_int_equal(ir_git_tags(git, "deploy-*", &tags, &n, &ctx), 0);
	assert_int_equal(n, 3);
	assert_string_equal(tags[0].name, T1);
	assert_string_equal(tags[1].name, T2);
	assert_string_equal(tags[2].name, T3);
	/* The annotated tag is peeled to its commit. */
	assert_string_equal(tags[0].commit, r.c1);
	assert_string_equal(tags[1].commit, r.c2);
	assert_string_equal(tags[2].commit, r.c3);

	GIT_OK(list, sizeof(list), r.dir, "tag", "-l", "deploy-*");
	for (i = 0; i < n; i++) {
		size_t used = strlen(ours);
		char rev[300];

		snprintf(ours + used, sizeof(ours) - used, "%s\n",
			 tags[i].name);
		snprintf(rev, sizeof(rev), "%s^{commit}", tags[i].name);
		rev_parse(r.dir, rev, out, sizeof(out));
		assert_string_equal(tags[i].commit, out);
		GIT_OK(out, sizeof(out), r.dir, "log", "-1", "--format=%ct",
		       tags[i].name);
		assert_int_equal(tags[i].time, strtoll(out, NULL, 10));
		assert_true(tags[i].time > 0);
	}
	assert_string_equal(ours, list);
	free(tags);

	tags = NULL;
	assert_int_equal(ir_git_tags(git, "v*", &tags, &n, &ctx), 0);
	assert_int_equal(n, 1);
	assert_string_equal(tags[0].name, "v1.0");
	assert_string_equal(tags[0].commit, r.c2);
	free(tags);

	tags = NULL;
	n = 99;
	assert_int_equal(ir_git_tags(git, "nothing-*", &tags, &n, &ctx), 0);
	assert_int_equal(n, 0);
	free(tags);
	ir_git_close(git);
}

static void
test_tags_skip_non_commit(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git_tag *tags = NULL;
	struct ir_git *git;
	size_t n = 0;

	(void)state;
	make_deploy_repo(&r);
	/* A tag of a blob is no deploy. */
	GIT_OK(NULL, 0, r.dir, "tag", "deploy-blob", "HEAD:app.txt");
	git = open_repo(r.dir);
	assert_int_equal(ir_git_tags(git, "deploy-*", &tags, &n, &ctx), 0);
	assert_int_equal(n, 3);
	assert_string_equal(tags[2].name, T3);
	free(tags);
	ir_git_close(git);
}

static void
test_head(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char commit[IR_GIT_OID_HEX], subject[128], out[128];
	bool detached = true;

	(void)state;
	make_deploy_repo(&r);
	git = open_repo(r.dir);
	assert_int_equal(ir_git_head(git, commit, subject, sizeof(subject),
				     &detached, &ctx),
			 0);
	assert_string_equal(commit, r.c3);
	assert_string_equal(subject, "third deploy");
	assert_false(detached);
	GIT_OK(out, sizeof(out), r.dir, "log", "-1", "--format=%s");
	assert_string_equal(subject, chomp(out));

	/* Cut to the caller's buffer. */
	assert_int_equal(ir_git_head(git, commit, subject, 6, NULL, &ctx), 0);
	assert_string_equal(subject, "third");
	ir_git_close(git);

	GIT_OK(NULL, 0, r.dir, "checkout", "-q", "--detach", T1);
	git = open_repo(r.dir);
	assert_int_equal(ir_git_head(git, commit, subject, sizeof(subject),
				     &detached, &ctx),
			 0);
	assert_true(detached);
	assert_string_equal(commit, r.c1);
	assert_string_equal(subject, "first deploy");
	ir_git_close(git);
}

static void
test_head_subject_cut_utf8(void **state)
{
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char dir[PATH_MAX], commit[IR_GIT_OID_HEX], subject[3];

	(void)state;
	new_dir(dir);
	GIT_OK(NULL, 0, dir, "init", "-q", "-b", "main");
	write_file(dir, "a", "a\n");
	GIT_OK(NULL, 0, dir, "add", "-A");
	GIT_OK(NULL, 0, dir, "commit", "-q", "-m", "h\xc3\xa9llo");
	git = open_repo(dir);
	/* "h" and half of "é" would fit: the half is dropped. */
	assert_int_equal(ir_git_head(git, commit, subject, sizeof(subject),
				     NULL, &ctx),
			 0);
	assert_string_equal(subject, "h");
	ir_git_close(git);
}

static void
test_head_unborn(void **state)
{
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	struct ir_buf buf = IR_BUF_INIT(0);
	char dir[PATH_MAX], commit[IR_GIT_OID_HEX] = "unchanged";
	char text[4096] = "";
	bool detached = true;

	(void)state;
	new_dir(dir);
	GIT_OK(NULL, 0, dir, "init", "-q", "-b", "main");
	git = open_repo(dir);
	assert_int_equal(ir_git_head(git, commit, NULL, 0, &detached, &ctx),
			 -ENOENT);
	assert_string_equal(commit, "unchanged");
	assert_true(detached);
	assert_int_equal(ctx.err.code, -ENOENT);
	ir_git_close(git);

	/* Status and diff still work before the first commit. */
	write_file(dir, "first.txt", "hello\n");
	GIT_OK(NULL, 0, dir, "add", "first.txt");
	write_file(dir, "other.txt", "x\n");
	git = open_repo(dir);
	assert_int_equal(ir_git_status(git, collect_status, text, &ctx), 0);
	assert_string_equal(text, "A  first.txt\n?? other.txt\n");
	assert_int_equal(ir_git_diff(git, &buf, &ctx), 0);
	assert_non_null(strstr((char *)buf.data, "+hello\n"));
	assert_null(strstr((char *)buf.data, "other.txt"));
	ir_buf_clear(&buf);
	ir_git_close(git);
}

static void
test_tag_commit(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char commit[IR_GIT_OID_HEX];

	(void)state;
	make_deploy_repo(&r);
	git = open_repo(r.dir);
	assert_int_equal(ir_git_tag_commit(git, T2, commit, &ctx), 0);
	assert_string_equal(commit, r.c2);
	assert_int_equal(ir_git_tag_commit(git, T1, commit, &ctx), 0);
	assert_string_equal(commit, r.c1);
	assert_int_equal(ir_git_tag_commit(git, "deploy-nope", commit, &ctx),
			 -ENOENT);
	assert_non_null(strstr(ctx.err.msg, "deploy-nope"));
	/* A branch is not a tag. */
	ir_error_clear(&ctx);
	assert_int_equal(ir_git_tag_commit(git, "main", commit, &ctx),
			 -ENOENT);
	ir_git_close(git);
}

/* ---- status and diff -------------------------------------------------- */

static void
test_status_matches_git(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char ours[4096] = "", theirs[4096];

	(void)state;
	make_deploy_repo(&r);
	write_file(r.dir, "app.txt", "local edit\n");          /* " M" */
	write_file(r.dir, "config/app.conf", "threads=9\n");  /* "M " */
	GIT_OK(NULL, 0, r.dir, "add", "config/app.conf");
	write_file(r.dir, "new.txt", "new\n");                 /* "A " */
	GIT_OK(NULL, 0, r.dir, "add", "new.txt");
	write_file(r.dir, ".gitignore", "*.log\n# more\n");   /* "MM" */
	GIT_OK(NULL, 0, r.dir, "add", ".gitignore");
	write_file(r.dir, ".gitignore", "*.log\n# more\n# again\n");
	remove_file(r.dir, "config/static.conf");              /* " D" */
	write_file(r.dir, "scratch/a.txt", "a\n");             /* "??" */
	write_file(r.dir, "scratch/b.txt", "b\n");             /* "??" */
	write_file(r.dir, "trading.log", "ignored\n");         /* nothing */

	git = open_repo(r.dir);
	assert_int_equal(ir_git_status(git, collect_status, ours, &ctx), 0);
	ir_git_close(git);
	assert_non_null(strstr(ours, " M app.txt\n"));
	assert_non_null(strstr(ours, "M  config/app.conf\n"));
	assert_non_null(strstr(ours, "A  new.txt\n"));
	assert_non_null(strstr(ours, "MM .gitignore\n"));
	assert_non_null(strstr(ours, " D config/static.conf\n"));
	assert_non_null(strstr(ours, "?? scratch/a.txt\n"));
	assert_null(strstr(ours, "trading.log"));
	porcelain(r.dir, theirs, sizeof(theirs));
	assert_string_equal(ours, theirs);
}

static void
test_status_clean(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char ours[4096] = "";

	(void)state;
	make_deploy_repo(&r);
	git = open_repo(r.dir);
	assert_int_equal(ir_git_status(git, collect_status, ours, &ctx), 0);
	assert_string_equal(ours, "");
	ir_git_close(git);
}

/* The lines of a patch that carry content, headers "index ..." dropped
 * (abbreviation lengths differ between git and libgit2). */
static void
patch_body(const char *in, char *out, size_t cap)
{
	size_t used = 0;

	while (*in) {
		const char *nl = strchr(in, '\n');
		size_t len = nl ? (size_t)(nl - in) + 1 : strlen(in);

		if (strncmp(in, "index ", 6)) {
			assert_true(used + len < cap);
			memcpy(out + used, in, len);
			used += len;
		}
		in += len;
	}
	out[used] = '\0';
}

static void
test_diff(void **state)
{
	struct ir_buf buf = IR_BUF_INIT(0);
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char theirs[4096], a[4096], b[4096];

	(void)state;
	make_deploy_repo(&r);
	write_file(r.dir, "app.txt", "changed\n");
	write_file(r.dir, "config/app.conf", "threads=5\n");
	GIT_OK(NULL, 0, r.dir, "add", "config/app.conf");
	write_file(r.dir, "untracked.txt", "not in the diff\n");
	git = open_repo(r.dir);
	assert_int_equal(ir_buf_add(&buf, "before\n", 7), 0);
	assert_int_equal(ir_git_diff(git, &buf, &ctx), 0);
	ir_git_close(git);
	assert_memory_equal(buf.data, "before\n", 7);
	assert_non_null(strstr((char *)buf.data,
			       "diff --git a/app.txt b/app.txt\n"));
	assert_non_null(strstr((char *)buf.data, "\n-v3\n+changed\n"));
	assert_non_null(strstr((char *)buf.data, "\n+threads=5\n"));
	assert_null(strstr((char *)buf.data, "untracked"));

	GIT_OK(theirs, sizeof(theirs), r.dir, "-c", "diff.noprefix=false",
	       "diff", "--no-color", "HEAD");
	patch_body((char *)buf.data + 7, a, sizeof(a));
	patch_body(theirs, b, sizeof(b));
	assert_string_equal(a, b);
	ir_buf_clear(&buf);
}

static void
test_diff_cut(void **state)
{
	struct ir_buf buf = IR_BUF_INIT(400);
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char text[8192];
	size_t i;

	(void)state;
	make_deploy_repo(&r);
	text[0] = '\0';
	for (i = 0; i < 500; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "%zu\n", i);
	write_file(r.dir, "app.txt", text);
	git = open_repo(r.dir);
	assert_int_equal(ir_git_diff(git, &buf, &ctx), 0);
	ir_git_close(git);
	assert_true(buf.len <= 400);
	assert_non_null(strstr((char *)buf.data, "+1\n"));
	assert_non_null(strstr((char *)buf.data, "[diff cut after "));
	assert_null(strstr((char *)buf.data, "+499\n"));
	ir_buf_clear(&buf);
}

/* ---- checkout --------------------------------------------------------- */

static void
assert_at_tag(const char *dir, const char *commit)
{
	char out[4096];

	rev_parse(dir, "HEAD", out, sizeof(out));
	assert_string_equal(out, commit);
	/* Detached: HEAD is no symbolic ref. */
	assert_int_not_equal(git_run(NULL, 0, dir, "symbolic-ref", "-q",
				     "HEAD", NULL),
			     0);
	porcelain(dir, out, sizeof(out));
	assert_string_equal(out, "");
}

static void
test_checkout_older_tag(void **state)
{
	struct ir_buf conflicts = IR_BUF_INIT(4096);
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char buf[256], commit[IR_GIT_OID_HEX];
	bool detached = false;

	(void)state;
	make_deploy_repo(&r);
	git = open_repo(r.dir);
	assert_int_equal(ir_git_checkout(git, T1, false, "config", &conflicts,
					 &ctx),
			 0);
	assert_int_equal(conflicts.len, 0);
	assert_at_tag(r.dir, r.c1);
	assert_string_equal(slurp(r.dir, "app.txt", buf, sizeof(buf)), "v1\n");
	assert_string_equal(slurp(r.dir, "old.txt", buf, sizeof(buf)),
			    "old\n");
	assert_string_equal(slurp(r.dir, "config/app.conf", buf, sizeof(buf)),
			    "threads=1\n");
	assert_int_equal(ir_git_head(git, commit, NULL, 0, &detached, &ctx),
			 0);
	assert_true(detached);
	assert_string_equal(commit, r.c1);

	/* And forward again through the annotated tag: old.txt goes. */
	assert_int_equal(ir_git_checkout(git, T2, false, NULL, NULL, &ctx),
			 0);
	assert_at_tag(r.dir, r.c2);
	assert_false(exists(r.dir, "old.txt"));
	assert_string_equal(slurp(r.dir, "app.txt", buf, sizeof(buf)), "v2\n");
	ir_git_close(git);
	ir_buf_clear(&conflicts);
}

static void
test_checkout_conflict_blocks(void **state)
{
	struct ir_buf conflicts = IR_BUF_INIT(4096);
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char buf[4096], before[4096], head[128];

	(void)state;
	make_deploy_repo(&r);
	write_file(r.dir, "app.txt", "hotfix on the box\n");
	write_file(r.dir, "config/app.conf", "threads=64\n");
	porcelain(r.dir, before, sizeof(before));
	git = open_repo(r.dir);
	assert_int_equal(ir_git_checkout(git, T1, false, "config", &conflicts,
					 &ctx),
			 -EEXIST);
	ir_git_close(git);
	/* Only the change outside the owned folder is named. */
	assert_string_equal((char *)conflicts.data, "app.txt\n");
	assert_int_equal(ctx.err.code, -EEXIST);
	assert_non_null(strstr(ctx.err.msg, "app.txt"));
	assert_non_null(strstr(ctx.err.msg, T1));
	assert_null(strstr(ctx.err.msg, "app.conf"));
	/* Nothing changed: not the owned folder either. */
	assert_string_equal(slurp(r.dir, "app.txt", buf, sizeof(buf)),
			    "hotfix on the box\n");
	assert_string_equal(slurp(r.dir, "config/app.conf", buf, sizeof(buf)),
			    "threads=64\n");
	assert_false(exists(r.dir, "old.txt"));
	rev_parse(r.dir, "HEAD", head, sizeof(head));
	assert_string_equal(head, r.c3);
	GIT_OK(head, sizeof(head), r.dir, "symbolic-ref", "HEAD");
	assert_string_equal(head, "refs/heads/main\n");
	porcelain(r.dir, buf, sizeof(buf));
	assert_string_equal(buf, before);
	ir_buf_clear(&conflicts);
}

/* The dry run names what the checkout would stop on, by the same rule,
 * and touches nothing: not the work tree, not the index, not HEAD. */
static void
test_checkout_conflicts_dry_run(void **state)
{
	struct ir_buf conflicts = IR_BUF_INIT(4096);
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char buf[4096], before[4096], head[128];
	size_t n = 99;

	(void)state;
	make_deploy_repo(&r);
	git = open_repo(r.dir);
	assert_int_equal(ir_git_checkout_conflicts(git, T1, "config",
						   &conflicts, &n, &ctx),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(conflicts.len, 0);

	write_file(r.dir, "app.txt", "hotfix on the box\n");
	write_file(r.dir, "config/app.conf", "threads=64\n");
	porcelain(r.dir, before, sizeof(before));
	assert_int_equal(ir_git_checkout_conflicts(git, T1, "config",
						   &conflicts, &n, &ctx),
			 0);
	assert_int_equal(n, 1);
	assert_string_equal((char *)conflicts.data, "app.txt\n");
	/* Without the owned folder its change is in the way too. */
	ir_buf_reset(&conflicts);
	assert_int_equal(ir_git_checkout_conflicts(git, T1, NULL, &conflicts,
						   &n, &ctx),
			 0);
	assert_int_equal(n, 2);
	assert_non_null(strstr((char *)conflicts.data, "config/app.conf\n"));
	assert_string_equal(slurp(r.dir, "app.txt", buf, sizeof(buf)),
			    "hotfix on the box\n");
	assert_false(exists(r.dir, "old.txt"));
	rev_parse(r.dir, "HEAD", head, sizeof(head));
	assert_string_equal(head, r.c3);
	porcelain(r.dir, buf, sizeof(buf));
	assert_string_equal(buf, before);
	/* And the real checkout agrees. */
	ir_buf_reset(&conflicts);
	assert_int_equal(ir_git_checkout(git, T1, false, "config", &conflicts,
					 &ctx),
			 -EEXIST);
	assert_string_equal((char *)conflicts.data, "app.txt\n");
	ir_error_clear(&ctx);
	assert_int_equal(ir_git_checkout_conflicts(git, "no-such-tag",
						   "config", NULL, &n, &ctx),
			 -ENOENT);
	ir_git_close(git);
	ir_buf_clear(&conflicts);
}

static void
test_checkout_owned_dir_overwritten(void **state)
{
	struct ir_buf conflicts = IR_BUF_INIT(4096);
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char buf[256];

	(void)state;
	make_deploy_repo(&r);
	/* One file the checkout changes, one it does not. */
	write_file(r.dir, "config/app.conf", "threads=64\n");
	write_file(r.dir, "config/static.conf", "edited\n");
	git = open_repo(r.dir);

	/* Without an owned folder the same change blocks. */
	assert_int_equal(ir_git_checkout(git, T1, false, NULL, &conflicts,
					 &ctx),
			 -EEXIST);
	assert_string_equal((char *)conflicts.data, "config/app.conf\n");
	assert_string_equal(slurp(r.dir, "config/app.conf", buf, sizeof(buf)),
			    "threads=64\n");

	ir_buf_reset(&conflicts);
	ir_error_clear(&ctx);
	assert_int_equal(ir_git_checkout(git, T1, false, "./config/",
					 &conflicts, &ctx),
			 0);
	ir_git_close(git);
	assert_int_equal(conflicts.len, 0);
	assert_string_equal(slurp(r.dir, "config/app.conf", buf, sizeof(buf)),
			    "threads=1\n");
	assert_string_equal(slurp(r.dir, "config/static.conf", buf,
				  sizeof(buf)),
			    "static\n");
	assert_string_equal(slurp(r.dir, "app.txt", buf, sizeof(buf)), "v1\n");
	assert_at_tag(r.dir, r.c1);
	ir_buf_clear(&conflicts);
}

static void
test_checkout_owned_dir_absolute(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char owned[PATH_MAX], buf[256];

	(void)state;
	make_deploy_repo(&r);
	write_file(r.dir, "config/app.conf", "threads=64\n");
	path_join(owned, r.dir, "config");
	git = open_repo(r.dir);
	assert_int_equal(ir_git_checkout(git, T1, false, owned, NULL, &ctx),
			 0);
	assert_string_equal(slurp(r.dir, "config/app.conf", buf, sizeof(buf)),
			    "threads=1\n");
	assert_at_tag(r.dir, r.c1);

	/* Not inside the work tree, or the whole tree: refused. */
	assert_int_equal(ir_git_checkout(git, T2, false, "../elsewhere", NULL,
					 &ctx),
			 -EINVAL);
	ir_error_clear(&ctx);
	assert_int_equal(ir_git_checkout(git, T2, false, "/etc", NULL, &ctx),
			 -EINVAL);
	ir_error_clear(&ctx);
	assert_int_equal(ir_git_checkout(git, T2, false, ".", NULL, &ctx),
			 -EINVAL);
	assert_at_tag(r.dir, r.c1);
	ir_git_close(git);
}

static void
test_checkout_force(void **state)
{
	struct ir_buf conflicts = IR_BUF_INIT(4096);
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char buf[256];

	(void)state;
	make_deploy_repo(&r);
	write_file(r.dir, "app.txt", "hotfix on the box\n");
	write_file(r.dir, "old.txt", "untracked in the way\n");
	git = open_repo(r.dir);
	assert_int_equal(ir_git_checkout(git, T1, true, "config", &conflicts,
					 &ctx),
			 0);
	ir_git_close(git);
	assert_int_equal(conflicts.len, 0);
	assert_string_equal(slurp(r.dir, "app.txt", buf, sizeof(buf)), "v1\n");
	assert_string_equal(slurp(r.dir, "old.txt", buf, sizeof(buf)),
			    "old\n");
	assert_at_tag(r.dir, r.c1);
	ir_buf_clear(&conflicts);
}

static void
test_checkout_untracked_in_the_way(void **state)
{
	struct ir_buf conflicts = IR_BUF_INIT(4096);
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char buf[256];

	(void)state;
	make_deploy_repo(&r);
	/* T1 has old.txt; HEAD (T3) does not. */
	write_file(r.dir, "old.txt", "mine\n");
	git = open_repo(r.dir);
	assert_int_equal(ir_git_checkout(git, T1, false, "config", &conflicts,
					 &ctx),
			 -EEXIST);
	ir_git_close(git);
	assert_string_equal((char *)conflicts.data, "old.txt\n");
	assert_string_equal(slurp(r.dir, "old.txt", buf, sizeof(buf)),
			    "mine\n");
	assert_string_equal(slurp(r.dir, "app.txt", buf, sizeof(buf)), "v3\n");
	rev_parse(r.dir, "HEAD", buf, sizeof(buf));
	assert_string_equal(buf, r.c3);
	ir_buf_clear(&conflicts);
}

static void
test_checkout_restores_deleted_files(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char buf[256];

	(void)state;
	make_deploy_repo(&r);
	/* One the checkout changes, one it does not. */
	remove_file(r.dir, "app.txt");
	remove_file(r.dir, ".gitignore");
	git = open_repo(r.dir);
	assert_int_equal(ir_git_checkout(git, T1, false, NULL, NULL, &ctx),
			 0);
	ir_git_close(git);
	assert_string_equal(slurp(r.dir, "app.txt", buf, sizeof(buf)), "v1\n");
	assert_string_equal(slurp(r.dir, ".gitignore", buf, sizeof(buf)),
			    "*.log\n");
	assert_at_tag(r.dir, r.c1);
}

static void
test_checkout_missing_tag(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char buf[128];

	(void)state;
	make_deploy_repo(&r);
	git = open_repo(r.dir);
	assert_int_equal(ir_git_checkout(git, "deploy-19990101", false, NULL,
					 NULL, &ctx),
			 -ENOENT);
	ir_git_close(git);
	rev_parse(r.dir, "HEAD", buf, sizeof(buf));
	assert_string_equal(buf, r.c3);
}

/* ---- index.lock ------------------------------------------------------- */

static void
test_index_lock(void **state)
{
	struct deploy_repo r;
	struct ir_ctx ctx = { 0 };
	struct ir_git *git;
	char path[PATH_MAX], buf[128];
	bool present = true;
	int64_t mtime = -1;
	struct stat st;

	(void)state;
	make_deploy_repo(&r);
	git = open_repo(r.dir);
	assert_int_equal(ir_git_lock_file(git, "index.lock", &present, &mtime, &ctx), 0);
	assert_false(present);
	assert_int_equal(mtime, 0);

	/* A crashed git left its lock behind. */
	write_file(r.dir, ".git/index.lock", "");
	path_join(path, r.dir, ".git/index.lock");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(ir_git_lock_file(git, "index.lock", &present, &mtime, &ctx), 0);
	assert_true(present);
	assert_int_equal(mtime, (int64_t)st.st_mtim.tv_sec * 1000000000 +
					st.st_mtim.tv_nsec);

	/* It blocks a checkout, which then changes nothing, not even in
	 * the owned folder. */
	write_file(r.dir, "config/app.conf", "threads=64\n");
	assert_int_equal(ir_git_checkout(git, T1, false, "config", NULL, &ctx),
			 -EBUSY);
	assert_int_equal(ctx.err.code, -EBUSY);
	assert_non_null(strstr(ctx.err.msg, "index.lock"));
	assert_string_equal(slurp(r.dir, "app.txt", buf, sizeof(buf)), "v3\n");
	assert_string_equal(slurp(r.dir, "config/app.conf", buf, sizeof(buf)),
			    "threads=64\n");
	ir_error_clear(&ctx);
	assert_int_equal(ir_git_checkout(git, T1, true, NULL, NULL, &ctx),
			 -EBUSY);
	assert_string_equal(slurp(r.dir, "app.txt", buf, sizeof(buf)), "v3\n");
	rev_parse(r.dir, "HEAD", buf, sizeof(buf));
	assert_string_equal(buf, r.c3);

	assert_int_equal(ir_git_lock_file_remove(git, "index.lock", &ctx), 0);
	assert_false(exists(r.dir, ".git/index.lock"));
	assert_int_equal(ir_git_lock_file(git, "index.lock", &present, &mtime, &ctx), 0);
	assert_false(present);
	assert_int_equal(ir_git_lock_file_remove(git, "index.lock", &ctx), 0);

	ir_error_clear(&ctx);
	assert_int_equal(ir_git_checkout(git, T1, false, "config", NULL, &ctx),
			 0);
	assert_at_tag(r.dir, r.c1);
	ir_git_close(git);
}

/* ---- our own init, commit, tag ---------------------------------------- */

static void
test_init_commit_tag(void **state)
{
	struct ir_ctx ctx = { 0 };
	struct ir_git *git = NULL, *again = NULL;
	struct ir_git_tag *tags = NULL;
	char dir[PATH_MAX], c1[IR_GIT_OID_HEX], c2[IR_GIT_OID_HEX];
	char out[1024];
	size_t n = 0;

	(void)state;
	assert_true((size_t)snprintf(dir, sizeof(dir), "%s/demo/deploy",
				     tmp_root) < sizeof(dir));
	assert_int_equal(ir_git_init(&git, dir, &ctx), 0);
	write_file(dir, ".gitignore", "*.log\n");
	write_file(dir, "a.txt", "a\n");
	write_file(dir, "sub/b.txt", "b\n");
	write_file(dir, "noise.log", "ignored\n");
	assert_int_equal(ir_git_commit_all(git, "first", 1700000000, c1, &ctx),
			 0);
	rev_parse(dir, "HEAD", out, sizeof(out));
	assert_string_equal(out, c1);
	GIT_OK(out, sizeof(out), dir, "log", "-1",
	       "--format=%an <%ae> %at|%cn <%ce> %ct|%s|%B");
	assert_string_equal(out, "incident demo <demo@incident.invalid> "
				 "1700000000|incident demo "
				 "<demo@incident.invalid> 1700000000|first|"
				 "first\n\n");
	GIT_OK(out, sizeof(out), dir, "ls-files");
	assert_string_equal(out, ".gitignore\na.txt\nsub/b.txt\n");
	assert_int_equal(ir_git_tag_head(git, "deploy-a", &ctx), 0);
	GIT_OK(out, sizeof(out), dir, "cat-file", "-t", "deploy-a");
	assert_string_equal(out, "commit\n"); /* lightweight */
	rev_parse(dir, "deploy-a", out, sizeof(out));
	assert_string_equal(out, c1);

	assert_int_equal(ir_git_tag_head(git, "deploy-a", &ctx), -EEXIST);
	ir_error_clear(&ctx);
	assert_int_equal(ir_git_tag_head(git, "bad..name", &ctx), -EINVAL);
	ir_error_clear(&ctx);

	/* Second commit: a deletion and an addition, parent is the first;
	 * when 0 is now. */
	remove_file(dir, "a.txt");
	write_file(dir, "c.txt", "c\n");
	assert_int_equal(ir_git_commit_all(git, "second", 0, c2, &ctx), 0);
	assert_string_not_equal(c1, c2);
	GIT_OK(out, sizeof(out), dir, "ls-files");
	assert_string_equal(out, ".gitignore\nc.txt\nsub/b.txt\n");
	rev_parse(dir, "HEAD~1", out, sizeof(out));
	assert_string_equal(out, c1);
	GIT_OK(out, sizeof(out), dir, "log", "-1", "--format=%ct");
	assert_true(strtoll(out, NULL, 10) > 1700000000);
	assert_int_equal(ir_git_tag_head(git, "deploy-b", &ctx), 0);
	porcelain(dir, out, sizeof(out));
	assert_string_equal(out, "");
	GIT_OK(NULL, 0, dir, "fsck", "--strict", "--no-progress");

	assert_int_equal(ir_git_tags(git, "deploy-*", &tags, &n, &ctx), 0);
	assert_int_equal(n, 2);
	assert_string_equal(tags[0].commit, c1);
	assert_string_equal(tags[1].commit, c2);
	assert_int_equal(tags[0].time, 1700000000);
	free(tags);

	/* Roll back with our own checkout: a.txt returns, c.txt goes. */
	assert_int_equal(ir_git_checkout(git, "deploy-a", false, NULL, NULL,
					 &ctx),
			 0);
	assert_at_tag(dir, c1);
	assert_true(exists(dir, "a.txt"));
	assert_false(exists(dir, "c.txt"));
	assert_true(exists(dir, "noise.log"));

	/* Not over an existing repository. */
	assert_int_equal(ir_git_init(&again, dir, &ctx), -EEXIST);
	assert_null(again);
	ir_git_close(git);
}

/* ---- fixture ---------------------------------------------------------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	if (!base || !*base)
		base = "/tmp";
	if ((size_t)snprintf(tmp_root, sizeof(tmp_root),
			     "%s/test_gitops.XXXXXX", base) >= sizeof(tmp_root))
		return -1;
	if (!mkdtemp(tmp_root))
		return -1;
	/* The git command line and libgit2 see no user or system config. */
	if (setenv("HOME", tmp_root, 1) ||
	    setenv("XDG_CONFIG_HOME", tmp_root, 1) ||
	    setenv("GIT_CONFIG_NOSYSTEM", "1", 1) ||
	    setenv("GIT_AUTHOR_NAME", "Test Author", 1) ||
	    setenv("GIT_AUTHOR_EMAIL", "author@test.invalid", 1) ||
	    setenv("GIT_COMMITTER_NAME", "Test Committer", 1) ||
	    setenv("GIT_COMMITTER_EMAIL", "committer@test.invalid", 1) ||
	    setenv("LC_ALL", "C", 1))
		return -1;
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	unsetenv("GIT_INDEX_FILE");
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (tmp_root[0])
		nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_order),
		cmocka_unit_test(test_config_callback_stops),
		cmocka_unit_test(test_config_malformed),
		cmocka_unit_test(test_config_missing),
		cmocka_unit_test(test_config_too_big),
		cmocka_unit_test(test_open_needs_work_tree),
		cmocka_unit_test(test_tags_match_git),
		cmocka_unit_test(test_tags_skip_non_commit),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_head_subject_cut_utf8),
		cmocka_unit_test(test_head_unborn),
		cmocka_unit_test(test_tag_commit),
		cmocka_unit_test(test_status_matches_git),
		cmocka_unit_test(test_status_clean),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_cut),
		cmocka_unit_test(test_checkout_older_tag),
		cmocka_unit_test(test_checkout_conflict_blocks),
		cmocka_unit_test(test_checkout_conflicts_dry_run),
		cmocka_unit_test(test_checkout_owned_dir_overwritten),
		cmocka_unit_test(test_checkout_owned_dir_absolute),
		cmocka_unit_test(test_checkout_force),
		cmocka_unit_test(test_checkout_untracked_in_the_way),
		cmocka_unit_test(test_checkout_restores_deleted_files),
		cmocka_unit_test(test_checkout_missing_tag),
		cmocka_unit_test(test_index_lock),
		cmocka_unit_test(test_init_commit_tag),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
