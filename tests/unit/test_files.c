/* recorder/files.c against real trees in a private temporary folder. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files.h"

extern char **environ;

static void
put(const char *root, const char *rel, const char *data, mode_t mode)
{
	char *p;
	int fd;

	assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	free(p);
}

static void
put_big(const char *root, const char *rel, size_t size, unsigned char last)
{
	unsigned char *buf = malloc(size);
	char *p;
	size_t i;
	int fd;

	assert_non_null(buf);
	for (i = 0; i < size; i++)
		buf[i] = (unsigned char)(i * 31 + 7);
	buf[size - 1] = last;
	assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(p);
	free(buf);
}

static void
dir(const char *root, const char *rel)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static void
link_(const char *root, const char *rel, const char *target)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static char *
join(const char *a, const char *b)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The real diff(1), symlinks compared as links: exit status 0 = same. */
static int
diff_r(const char *a, const char *b)
{
	char *argv[] = {"/usr/bin/diff", "-r",      "--no-dereference",
	                (char *)a,       (char *)b, NULL};
	posix_spawn_file_actions_t fa;
	int status;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ),
	                 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

struct changes {
	char text[4096];
	int stop_after; /* 0: never */
	int seen;
};

static int
collect(void *payload, enum ir_files_change change, const char *path)
{
	struct changes *c = payload;
	size_t n = strlen(c->text);

	snprintf(c->text + n, sizeof(c->text) - n, "%c %s\n", (char)change,
	         path);
	c->seen++;
	if (c->stop_after && c->seen >= c->stop_after)
		return 7;
	return 0;
}

/* src and dst differ in every way the header names. */
static void
make_pair(const char *src, const char *dst)
{
	dir(src, "");
	dir(dst, "");
	put(src, "a.txt", "one", 0644);
	put(dst, "a.txt", "two", 0644); /* same size, other bytes */
	put(src, "b.txt", "same", 0644);
	put(dst, "b.txt", "same", 0644);
	put_big(src, "big.bin", 300 * 1024 + 5, 1);
	put_big(dst, "big.bin", 300 * 1024 + 5, 2); /* last byte only */
	put(src, "mode.txt", "x", 0755);
	put(dst, "mode.txt", "x", 0644);
	link_(src, "link", "t1");
	link_(dst, "link", "t2");
	link_(src, "samelink", "t");
	link_(dst, "samelink", "t");
	dir(src, "dir2");
	put(src, "dir2/f", "f", 0644);
	put(dst, "gone.txt", "bye", 0644);
	dir(src, "sub");
	dir(dst, "sub");
	put(src, "sub/new.txt", "n", 0644);
	put(src, "typechg", "now a file", 0644);
	dir(dst, "typechg");
	put(dst, "typechg/c", "c", 0644);
	dir(src, "empty");
	dir(dst, "empty");
}

static void
test_diff_reports_each_change(void **state)
{
	char *tmp = tu_tempdir();
	char *src = join(tmp, "src"), *dst = join(tmp, "dst");
	struct changes c = {"", 0, 0};
	struct ir_ctx ctx = {0};

	(void)state;
	make_pair(src, dst);
	assert_int_equal(ir_files_diff(src, dst, collect, &c, &ctx), 0);
	assert_string_equal(c.text, "M a.txt\n"
	                            "M big.bin\n"
	                            "A dir2\n"
	                            "A dir2/f\n"
	                            "D gone.txt\n"
	                            "M link\n"
	                            "M mode.txt\n"
	                            "A sub/new.txt\n"
	                            "M typechg\n"
	                            "D typechg/c\n");
	free(src);
	free(dst);
	tu_rmtree(tmp);
}

static void
test_diff_missing_dst_and_stop(void **state)
{
	char *tmp = tu_tempdir();
	char *src = join(tmp, "src"), *dst = join(tmp, "dst");
	char *none = join(tmp, "none");
	struct changes c = {"", 0, 0};
	struct ir_ctx ctx = {0};

	(void)state;
	make_pair(src, dst);
	assert_int_equal(ir_files_diff(dst, none, collect, &c, &ctx), 0);
	assert_string_equal(c.text, "A a.txt\n"
	                            "A b.txt\n"
	                            "A big.bin\n"
	                            "A empty\n"
	                            "A gone.txt\n"
	                            "A link\n"
	                            "A mode.txt\n"
	                            "A samelink\n"
	                            "A sub\n"
	                            "A typechg\n"
	                            "A typechg/c\n");
	/* A non-zero return from the callback stops the walk and is
	 * returned as it is. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(ir_files_diff(src, dst, collect, &c, &ctx), 7);
	assert_int_equal(c.seen, 2);
	/* A missing src is an error with a message. */
	assert_int_equal(ir_files_diff(none, dst, collect, &c, &ctx), -ENOENT);
	assert_non_null(strstr(ctx.err.msg, "none"));
	free(src);
	free(dst);
	free(none);
	tu_rmtree(tmp);
}

static void
test_equal(void **state)
{
	char *tmp = tu_tempdir();
	char *src = join(tmp, "src"), *dst = join(tmp, "dst");
	struct ir_ctx ctx = {0};
	bool same = false;

	(void)state;
	make_pair(src, dst);
	assert_int_equal(ir_files_equal(src, src, &same, &ctx), 0);
	assert_true(same);
	assert_int_equal(ir_files_equal(src, dst, &same, &ctx), 0);
	assert_false(same);
	assert_int_equal(ir_files_replace_dir(src, dst, &ctx), 0);
	assert_int_equal(ir_files_equal(src, dst, &same, &ctx), 0);
	assert_true(same);
	/* One mode bit is a difference. */
	free(dst);
	dst = join(tmp, "dst/b.txt");
	assert_int_equal(chmod(dst, 0600), 0);
	free(dst);
	dst = join(tmp, "dst");
	assert_int_equal(ir_files_equal(src, dst, &same, &ctx), 0);
	assert_false(same);
	free(src);
	free(dst);
	tu_rmtree(tmp);
}

static void
test_replace_dir(void **state)
{
	char *tmp = tu_tempdir();
	char *src = join(tmp, "src"), *dst = join(tmp, "dst");
	char *fresh = join(tmp, "fresh");
	char *staging = join(tmp, ".dst.incident-staging");
	struct changes c = {"", 0, 0};
	struct ir_ctx ctx = {0};
	struct stat st;

	(void)state;
	make_pair(src, dst);
	dir(src, "sub/deeper");
	dir(src, "sub/deeper/deepest");
	put(src, "sub/deeper/deepest/x y ü.txt", "unicode", 0600);
	link_(src, "sub/up", "../a.txt");
	assert_int_not_equal(diff_r(src, dst), 0);
	assert_int_equal(ir_files_replace_dir(src, dst, &ctx), 0);
	assert_int_equal(diff_r(src, dst), 0);
	assert_int_equal(ir_files_diff(src, dst, collect, &c, &ctx), 0);
	assert_string_equal(c.text, "");
	assert_int_equal(lstat(dst, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(stat(fresh, &st), -1);
	assert_false(exists(staging));
	/* A dst that does not exist yet is created. */
	assert_int_equal(ir_files_replace_dir(src, fresh, &ctx), 0);
	assert_int_equal(diff_r(src, fresh), 0);
	free(src);
	free(dst);
	free(fresh);
	free(staging);
	tu_rmtree(tmp);
}

static void
test_stale_staging_is_removed(void **state)
{
	char *tmp = tu_tempdir();
	char *src = join(tmp, "src"), *dst = join(tmp, "dst");
	char *staging = join(tmp, ".dst.incident-staging");
	char *locked = join(staging, "locked");
	struct ir_ctx ctx = {0};
	DIR *d;
	struct dirent *de;
	int n = 0;

	(void)state;
	make_pair(src, dst);
	/* What a crash mid-copy leaves: a half copy, with a folder we may
	 * not write to. */
	dir(tmp, ".dst.incident-staging");
	put(staging, "half-copied", "junk", 0644);
	dir(staging, "locked");
	put(locked, "inner", "junk", 0644);
	assert_int_equal(chmod(locked, 0500), 0);
	assert_int_equal(ir_files_replace_dir(src, dst, &ctx), 0);
	assert_false(exists(staging));
	assert_int_equal(diff_r(src, dst), 0);
	d = opendir(tmp);
	assert_non_null(d);
	for (de = readdir(d); de; de = readdir(d))
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 2); /* src and dst, nothing else */
	free(src);
	free(dst);
	free(staging);
	free(locked);
	tu_rmtree(tmp);
}

static void
test_swap_in(void **state)
{
	char *tmp = tu_tempdir();
	char *staged = join(tmp, "staged"), *dst = join(tmp, "dst");
	char *f = join(tmp, "dst/new");
	char *old = join(tmp, "dst/old");
	struct ir_ctx ctx = {0};

	(void)state;
	dir(tmp, "staged");
	put(staged, "new", "new", 0644);
	dir(tmp, "dst");
	put(dst, "old", "old", 0644);
	assert_int_equal(ir_files_swap_in(staged, dst, &ctx), 0);
	assert_true(exists(f));
	assert_false(exists(old));
	assert_false(exists(staged));
	free(staged);
	free(dst);
	free(f);
	free(old);
	tu_rmtree(tmp);
}

static void
test_remove_tree_does_not_follow_links(void **state)
{
	char *tmp = tu_tempdir();
	char *tree = join(tmp, "tree"), *outside = join(tmp, "outside");
	char *keep = join(tmp, "outside/keep");
	char *deep = join(tmp, "outside/deep/file");
	char *locked = join(tmp, "tree/locked");
	struct ir_ctx ctx = {0};
	char *p;

	(void)state;
	dir(tmp, "outside");
	put(outside, "keep", "precious", 0644);
	dir(outside, "deep");
	put(outside, "deep/file", "precious", 0644);
	dir(tmp, "tree");
	dir(tree, "sub");
	put(tree, "sub/f", "f", 0644);
	p = join(outside, "");
	link_(tree, "to-outside", p);
	free(p);
	link_(tree, "sub/to-keep", "../../outside/keep");
	link_(tree, "sub/to-deep", "../../outside/deep");
	dir(tree, "locked");
	put(locked, "f", "f", 0644);
	assert_int_equal(chmod(locked, 0500), 0);
	assert_int_equal(ir_files_remove_tree(tree, &ctx), 0);
	assert_false(exists(tree));
	assert_true(exists(keep));
	assert_true(exists(deep));
	/* A missing path is fine. */
	assert_int_equal(ir_files_remove_tree(tree, &ctx), 0);
	/* A symlink given as the path is removed, its target is not. */
	p = join(tmp, "link");
	assert_int_equal(symlink(outside, p), 0);
	assert_int_equal(ir_files_remove_tree(p, &ctx), 0);
	assert_false(exists(p));
	assert_true(exists(keep));
	free(p);
	free(tree);
	free(outside);
	free(keep);
	free(deep);
	free(locked);
	tu_rmtree(tmp);
}

int
main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_reports_each_change),
		cmocka_unit_test(test_diff_missing_dst_and_stop),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_replace_dir),
		cmocka_unit_test(test_stale_staging_is_removed),
		cmocka_unit_test(test_swap_in),
		cmocka_unit_test(test_remove_tree_does_not_follow_links),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
