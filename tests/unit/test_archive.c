/*
 * recorder/archive.c: archives of real trees checked with the real tar(1),
 * diff(1) and sha256sum(1); and safe extraction against a corpus of
 * hostile archives this test writes itself with libarchive.
 */
#include "testutil.h"

#include <archive_entry.h>
#include <archive.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ir_archive.h"
#include "ir_limits.h"

extern char **environ;

/* -- helpers ------------------------------------------------------------ */

static char *
join(const char *a, const char *b)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

static void
put(const char *root, const char *rel, const void *data, size_t len,
    mode_t mode)
{
	char *p = join(root, rel);
	int fd;

	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	free(p);
}

static void
put_str(const char *root, const char *rel, const char *s)
{
	put(root, rel, s, strlen(s), 0644);
}

static void
mkdir_in(const char *root, const char *rel)
{
	char *p = join(root, rel);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	if (len)
		*len = (size_t)st.st_size;
	return buf;
}

/* Run argv with stdout and stderr into out (or /dev/null); exit status. */
static int
run(const char *out, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int status;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null",
	                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ),
	                 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Sorted names in dir, one per line ("" for a missing dir). */
static char *
listing(const char *dir)
{
	struct dirent **list;
	char *out = calloc(1, 1);
	size_t len = 0;
	int n, i;

	n = scandir(dir, &list, NULL, alphasort);
	for (i = 0; i < n; i++) {
		size_t k = strlen(list[i]->d_name);

		out = realloc(out, len + k + 2);
		memcpy(out + len, list[i]->d_name, k);
		len += k;
		out[len++] = '\n';
		out[len] = '\0';
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	return out;
}

/* -- writing ------------------------------------------------------------ */

/* A tree with everything a deployment's state may hold. */
static void
make_tree(const char *tree)
{
	unsigned char bin[1024];
	unsigned char *five;
	size_t i;

	assert_int_equal(mkdir(tree, 0755), 0);
	mkdir_in(tree, "a");
	mkdir_in(tree, "a/b");
	mkdir_in(tree, "a/b/c");
	put_str(tree, "a/b/c/deep.txt", "deep\n");
	mkdir_in(tree, "empty-dir");
	put(tree, "empty-file", "", 0, 0644);
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7);
	put(tree, "binary.bin", bin, sizeof(bin), 0600);
	put_str(tree, "run.sh", "#!/bin/sh\necho hi\n");
	{
		char *p = join(tree, "run.sh");

		assert_int_equal(chmod(p, 0755), 0);
		free(p);
	}
	put_str(tree, "with space \xc3\xbc\xc3\xb1\xc3\xaf.txt", "unicode\n");
	{
		char *p = join(tree, "link-to-file");

		assert_int_equal(symlink("a/b/c/deep.txt", p), 0);
		free(p);
		p = join(tree, "a/link-up");
		assert_int_equal(symlink("../empty-dir", p), 0);
		free(p);
	}
	five = malloc(5 * 1024 * 1024);
	assert_non_null(five);
	/* Not compressible: a 5 MB file really is 5 MB to stream. */
	for (i = 0; i < 5 * 1024 * 1024; i++)
		five[i] = (unsigned char)((i * 2654435761u) >> 13);
	put(tree, "five-mb.dat", five, 5 * 1024 * 1024, 0644);
	free(five);
}

struct fixture {
	char *tmp;
	char *tree;
	char *data;    /* the data folder, inside the tree, excluded */
	char *archive; /* inside the data folder */
	char *out;
};

static void
fixture_init(struct fixture *f)
{
	f->tmp = tu_tempdir();
	f->tree = join(f->tmp, "tree");
	make_tree(f->tree);
	f->data = join(f->tree, "state");
	assert_int_equal(mkdir(f->data, 0700), 0);
	put_str(f->data, "log.mdb", "never archived\n");
	f->archive = join(f->data, "INC-1-backup.tar.zst");
	f->out = join(f->tmp, "out");
}

static void
fixture_clear(struct fixture *f)
{
	free(f->tree);
	free(f->data);
	free(f->archive);
	free(f->out);
	tu_rmtree(f->tmp);
}

static void
make_archive(struct fixture *f, struct ir_archive_info *info)
{
	struct ir_archive_writer *w = NULL;
	struct ir_ctx ctx = {0};

	assert_int_equal(ir_archive_create(&w, f->archive, f->data, &ctx), 0);
	assert_int_equal(ir_archive_add_path(w, f->tree, ".", &ctx), 0);
	assert_int_equal(ir_archive_finish(w, info, &ctx), 0);
}

static void
test_round_trip(void **state)
{
	struct ir_extract_info xinfo = {0};
	struct ir_archive_info info = {0};
	struct ir_ctx ctx = {0};
	struct fixture f;
	char *partial, *list, *text, *p;
	struct stat st;

	(void)state;
	fixture_init(&f);
	make_archive(&f, &info);
	/* Whole, under its final name only. */
	assert_true(asprintf(&partial, "%s.partial", f.archive) > 0);
	assert_false(exists(partial));
	assert_int_equal(stat(f.archive, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(info.bytes, (uint64_t)st.st_size);
	assert_int_equal(info.files, 6);
	/* zstd frame magic: 28 b5 2f fd. */
	text = slurp(f.archive, NULL);
	assert_memory_equal(text, "\x28\xb5\x2f\xfd", 4);
	free(text);

	/* GNU tar reads it, without a warning, and the data folder is not
	 * in it. */
	list = join(f.tmp, "list.txt");
	{
		char *argv[] = {"/usr/bin/tar", "--zstd", "-tf", f.archive,
		                NULL};

		assert_int_equal(run(list, argv), 0);
	}
	text = slurp(list, NULL);
	assert_non_null(strstr(text, "a/b/c/deep.txt\n"));
	assert_non_null(strstr(text, "five-mb.dat\n"));
	assert_non_null(
	    strstr(text, "with space \xc3\xbc\xc3\xb1\xc3\xaf.txt\n"));
	assert_non_null(strstr(text, "empty-dir/\n"));
	assert_null(strstr(text, "state"));
	assert_null(strstr(text, "log.mdb"));
	assert_null(strstr(text, "tar:")); /* no warning */
	assert_int_not_equal(text[0], '/');
	assert_null(strstr(text, "\n/"));
	assert_null(strstr(text, "./"));
	free(text);

	/* The recorded hash is the file's, as sha256sum(1) sees it. */
	{
		char *argv[] = {"/usr/bin/sha256sum", f.archive, NULL};
		uint8_t sum[IR_SHA256_LEN];
		char hex[IR_SHA256_HEX];
		uint64_t bytes = 0;

		assert_int_equal(run(list, argv), 0);
		text = slurp(list, NULL);
		ir_hex(hex, info.sha256, sizeof(info.sha256));
		assert_memory_equal(text, hex, 64);
		free(text);
		assert_int_equal(ir_file_sha256(f.archive, sum, &bytes, &ctx),
		                 0);
		assert_memory_equal(sum, info.sha256, IR_SHA256_LEN);
		assert_int_equal(bytes, info.bytes);
	}

	/* Extracted, the tree is what it was (bar the data folder). */
	assert_int_equal(
	    ir_archive_extract(f.archive, f.out, NULL, &xinfo, &ctx), 0);
	{
		char *argv[] = {"/usr/bin/diff",
		                "-r",
		                "--no-dereference",
		                "-x",
		                "state",
		                f.tree,
		                f.out,
		                NULL};

		assert_int_equal(run(list, argv), 0);
	}
	p = join(f.out, "state");
	assert_false(exists(p));
	free(p);
	p = join(f.out, "run.sh");
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	free(p);
	p = join(f.out, "link-to-file");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	free(p);
	assert_int_equal(xinfo.files, 6);
	assert_int_equal(xinfo.symlinks, 2);
	assert_int_equal(xinfo.dirs, 4);
	assert_int_equal(xinfo.bytes, 5 * 1024 * 1024 + 1024 + 5 + 18 + 8);
	/* Nothing but the target appeared beside it. */
	text = listing(f.tmp);
	assert_string_equal(text, ".\n..\nlist.txt\nout\ntree\n");
	free(text);
	free(list);
	free(partial);
	fixture_clear(&f);
}

static void
test_paths_bytes_and_files(void **state)
{
	struct ir_archive_writer *w = NULL;
	struct ir_archive_info info = {0};
	struct ir_ctx ctx = {0};
	struct fixture f;
	char *p, *text, *outside;

	(void)state;
	fixture_init(&f);
	/* A symlink to a folder outside is stored as a link, not followed. */
	outside = join(f.tmp, "outside");
	assert_int_equal(mkdir(outside, 0755), 0);
	put_str(outside, "secret", "not to be archived\n");
	p = join(f.tree, "a/to-outside");
	assert_int_equal(symlink(outside, p), 0);
	free(p);

	assert_int_equal(ir_archive_create(&w, f.archive, f.data, &ctx), 0);
	assert_int_equal(ir_archive_add_path(w, f.tree, "a", &ctx), 0);
	assert_int_equal(ir_archive_add_path(w, f.tree, "./run.sh", &ctx), 0);
	/* A missing path: -ENOENT, and the writer goes on. */
	assert_int_equal(ir_archive_add_path(w, f.tree, "missing", &ctx),
	                 -ENOENT);
	assert_non_null(strstr(ctx.err.msg, "missing"));
	ir_error_clear(&ctx);
	/* The data folder, even named directly, is never stored. */
	assert_int_equal(ir_archive_add_path(w, f.tree, "state", &ctx), 0);
	/* Names that would leave the archive's root are refused. */
	assert_int_equal(ir_archive_add_path(w, f.tree, "../tree", &ctx),
	                 -EINVAL);
	ir_error_clear(&ctx);
	assert_int_equal(ir_archive_add_bytes(w, "git/HEAD", "abc\n", 4, &ctx),
	                 0);
	assert_int_equal(ir_archive_add_bytes(w, "/etc/x", "abc\n", 4, &ctx),
	                 -EINVAL);
	ir_error_clear(&ctx);
	p = join(f.tree, "binary.bin");
	assert_int_equal(ir_archive_add_file_as(w, "database/dump", p, &ctx),
	                 0);
	free(p);
	assert_int_equal(ir_archive_finish(w, &info, &ctx), 0);
	/* a/b/c/deep.txt, run.sh, git/HEAD, database/dump */
	assert_int_equal(info.files, 4);

	/* The link is stored as a link (tar shows "->"), its target's
	 * content is not in the archive. */
	p = join(f.tmp, "list.txt");
	{
		char *argv[] = {"/usr/bin/tar", "--zstd", "-tvf", f.archive,
		                NULL};

		assert_int_equal(run(p, argv), 0);
	}
	text = slurp(p, NULL);
	free(p);
	assert_non_null(strstr(text, "a/to-outside -> "));
	assert_non_null(strstr(text, outside));
	assert_null(strstr(text, "secret"));
	assert_non_null(strstr(text, "git/HEAD"));
	assert_non_null(strstr(text, "database/dump"));
	assert_null(strstr(text, "state"));
	free(text);
	/* Extraction, though, refuses a link that leaves the target. */
	assert_int_equal(ir_archive_extract(f.archive, f.out, NULL, NULL, &ctx),
	                 -EPERM);
	assert_string_equal(ctx.err.msg, "unsafe entry \"a/to-outside\": "
	                                 "symlink target is absolute");
	assert_false(exists(f.out));
	ir_error_clear(&ctx);
	p = join(f.tree, "a/to-outside");
	assert_int_equal(unlink(p), 0);
	free(p);
	free(f.archive);
	f.archive = join(f.tmp, "second.tar.zst");
	assert_int_equal(ir_archive_create(&w, f.archive, f.data, &ctx), 0);
	assert_int_equal(ir_archive_add_path(w, f.tree, "a", &ctx), 0);
	assert_int_equal(ir_archive_add_path(w, f.tree, "run.sh", &ctx), 0);
	assert_int_equal(ir_archive_add_bytes(w, "git/HEAD", "abc\n", 4, &ctx),
	                 0);
	assert_int_equal(ir_archive_add_bytes(w, "git/empty", "", 0, &ctx), 0);
	assert_int_equal(ir_archive_finish(w, &info, &ctx), 0);
	assert_int_equal(ir_archive_extract(f.archive, f.out, NULL, NULL, &ctx),
	                 0);
	text = listing(f.out);
	assert_string_equal(text, ".\n..\na\ngit\nrun.sh\n");
	free(text);
	p = join(f.out, "git/HEAD");
	text = slurp(p, NULL);
	assert_string_equal(text, "abc\n");
	free(text);
	free(p);
	free(outside);
	fixture_clear(&f);
}

static void
test_abort_and_failed_create_leave_nothing(void **state)
{
	struct ir_archive_writer *w = NULL;
	struct ir_ctx ctx = {0};
	struct fixture f;
	char *partial, *text, *bad;

	(void)state;
	fixture_init(&f);
	assert_true(asprintf(&partial, "%s.partial", f.archive) > 0);
	assert_int_equal(ir_archive_create(&w, f.archive, NULL, &ctx), 0);
	assert_true(exists(partial));
	assert_int_equal(ir_archive_add_path(w, f.tree, "a", &ctx), 0);
	ir_archive_abort(w);
	assert_false(exists(partial));
	assert_false(exists(f.archive));
	ir_archive_abort(NULL);

	bad = join(f.tmp, "no-such-folder/x.tar.zst");
	w = NULL;
	assert_int_equal(ir_archive_create(&w, bad, NULL, &ctx), -ENOENT);
	assert_null(w);
	assert_true(ctx.err.msg[0] != '\0');
	text = listing(f.data);
	assert_string_equal(text, ".\n..\nlog.mdb\n");
	free(text);
	free(bad);
	free(partial);
	fixture_clear(&f);
}

static void
test_file_sha256(void **state)
{
	static const uint8_t abc[IR_SHA256_LEN] = {
	    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
	    0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
	    0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	uint8_t sum[IR_SHA256_LEN];
	struct ir_ctx ctx = {0};
	uint64_t bytes = 0;
	char *tmp = tu_tempdir();
	char *p = join(tmp, "abc");

	(void)state;
	put_str(tmp, "abc", "abc");
	assert_int_equal(ir_file_sha256(p, sum, &bytes, &ctx), 0);
	assert_memory_equal(sum, abc, sizeof(abc));
	assert_int_equal(bytes, 3);
	free(p);
	p = join(tmp, "missing");
	assert_int_equal(ir_file_sha256(p, sum, &bytes, &ctx), -ENOENT);
	free(p);
	tu_rmtree(tmp);
}

/* Peak memory does not grow with what is archived: a 512 MiB (sparse)
 * file goes through a fixed buffer.  Runs first, while the process's own
 * peak is still small. */
static void
test_streams_in_small_memory(void **state)
{
	struct ir_archive_writer *w = NULL;
	struct ir_archive_info info = {0};
	struct ir_ctx ctx = {0};
	struct rusage before, after;
	char *tmp = tu_tempdir();
	char *tree = join(tmp, "tree");
	char *big = join(tree, "big.sparse");
	char *archive = join(tmp, "big.tar.zst");
	int fd;

	(void)state;
	assert_int_equal(mkdir(tree, 0755), 0);
	fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 512LL * 1024 * 1024), 0);
	close(fd);
	assert_int_equal(getrusage(RUSAGE_SELF, &before), 0);
	assert_int_equal(ir_archive_create(&w, archive, NULL, &ctx), 0);
	assert_int_equal(ir_archive_add_path(w, tmp, "tree", &ctx), 0);
	assert_int_equal(ir_archive_finish(w, &info, &ctx), 0);
	assert_int_equal(getrusage(RUSAGE_SELF, &after), 0);
	assert_int_equal(info.files, 1);
	assert_true(info.bytes < 4 * 1024 * 1024);
	/* ru_maxrss is in KiB. */
	assert_true(after.ru_maxrss - before.ru_maxrss < 128 * 1024);
	free(tree);
	free(big);
	free(archive);
	tu_rmtree(tmp);
}

/* -- extraction into an existing target --------------------------------- */

static void
test_existing_dest(void **state)
{
	struct ir_extract_opts opts = IR_EXTRACT_OPTS_INIT;
	struct ir_archive_info info;
	struct ir_ctx ctx = {0};
	struct fixture f;
	char *text, *p;
	struct stat st;

	(void)state;
	fixture_init(&f);
	make_archive(&f, &info);
	assert_int_equal(mkdir(f.out, 0750), 0);
	put_str(f.out, "mine", "keep me\n");
	/* Non-empty, no force: -EEXIST and nothing touched. */
	assert_int_equal(
	    ir_archive_extract(f.archive, f.out, &opts, NULL, &ctx), -EEXIST);
	assert_true(ctx.err.msg[0] != '\0');
	text = listing(f.out);
	assert_string_equal(text, ".\n..\nmine\n");
	free(text);
	text = listing(f.tmp);
	assert_string_equal(text, ".\n..\nout\ntree\n");
	free(text);
	/* With force: replaced whole, the old content gone. */
	ir_error_clear(&ctx);
	opts.force = true;
	assert_int_equal(
	    ir_archive_extract(f.archive, f.out, &opts, NULL, &ctx), 0);
	{
		char *argv[] = {"/usr/bin/diff",
		                "-r",
		                "--no-dereference",
		                "-x",
		                "state",
		                f.tree,
		                f.out,
		                NULL};

		assert_int_equal(run(NULL, argv), 0);
	}
	assert_int_equal(stat(f.out, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);
	text = listing(f.tmp);
	assert_string_equal(text, ".\n..\nout\ntree\n");
	free(text);
	/* An empty target needs no force. */
	p = join(f.tmp, "empty");
	assert_int_equal(mkdir(p, 0755), 0);
	opts.force = false;
	assert_int_equal(ir_archive_extract(f.archive, p, &opts, NULL, &ctx),
	                 0);
	free(p);
	p = join(f.tmp, "empty/a/b/c/deep.txt");
	assert_true(exists(p));
	free(p);
	fixture_clear(&f);
}

/* A staging folder left by a crash mid-extraction is cleared by the next
 * extraction into the same place, which then succeeds. */
static void
test_stale_staging_cleared(void **state)
{
	struct ir_archive_info info;
	struct ir_ctx ctx = {0};
	struct fixture f;
	char *stale, *text;

	(void)state;
	fixture_init(&f);
	make_archive(&f, &info);
	stale = join(f.tmp, ".out.incident-extract");
	assert_int_equal(mkdir(stale, 0700), 0);
	put_str(stale, "half", "a half extraction\n");
	assert_int_equal(ir_archive_extract(f.archive, f.out, NULL, NULL, &ctx),
	                 0);
	assert_false(exists(stale));
	text = listing(f.tmp);
	assert_string_equal(text, ".\n..\nout\ntree\n");
	free(text);
	free(stale);
	fixture_clear(&f);
}

/* -- hostile archives --------------------------------------------------- */

struct hentry {
	char type; /* f file, d dir, l symlink, h hard link, c b p: devices */
	const char *name;
	const char *target;
	int mode; /* 0: 0644 for files, 0755 for folders */
	const char *data;
};

struct hcase {
	const char *label;
	int expect;
	const char *filter; /* NULL: plain tar */
	const char *msg;    /* expected message, or NULL */
	struct hentry e[5];
};

/* Paths are relative to a target DIR/parent/dest; "@" is replaced with
 * the absolute test folder, so an absolute name that got through would
 * land where the test looks. */
/* clang-format off */
static const struct hcase hostile[] = {
	{ "dotdot", -EPERM, NULL,
	  "unsafe entry \"../x\": path escapes the target",
	  { { 'f', "../x", NULL, 0, "x" } } },
	{ "inner dotdot", -EPERM, NULL, NULL,
	  { { 'f', "a/../../x", NULL, 0, "x" } } },
	{ "dot dotdot", -EPERM, NULL, NULL,
	  { { 'f', "./../x", NULL, 0, "x" } } },
	{ "deep dotdot", -EPERM, NULL, NULL,
	  { { 'f', "../../../../../../../../x", NULL, 0, "x" } } },
	{ "trailing dotdot file", -EPERM, NULL, NULL,
	  { { 'f', "a/..", NULL, 0, "x" } } },
	{ "trailing dotdot dir", -EPERM, NULL, NULL,
	  { { 'd', "a/b/../..", NULL, 0, NULL } } },
	{ "bare dotdot dir", -EPERM, NULL, NULL,
	  { { 'd', "..", NULL, 0, NULL } } },
	{ "dotdot inside stays inside", -EPERM, NULL, NULL,
	  { { 'd', "a", NULL, 0, NULL }, { 'f', "a/../b", NULL, 0, "x" } } },
	{ "absolute", -EPERM, NULL, NULL,
	  { { 'f', "@/abs-escape", NULL, 0, "x" } } },
	{ "double slash absolute", -EPERM, NULL, NULL,
	  { { 'f', "/@/abs-escape2", NULL, 0, "x" } } },
	{ "absolute dir", -EPERM, NULL, NULL,
	  { { 'd', "@/abs-dir", NULL, 0, NULL } } },
	{ "symlink out", -EPERM, NULL, NULL,
	  { { 'l', "l", "../outside", 0, NULL } } },
	{ "symlink out then through", -EPERM, NULL, NULL,
	  { { 'l', "l", "..", 0, NULL }, { 'f', "l/x", NULL, 0, "x" } } },
	{ "symlink absolute", -EPERM, NULL, NULL,
	  { { 'l', "l", "@", 0, NULL }, { 'f', "l/y", NULL, 0, "x" } } },
	{ "symlink root", -EPERM, NULL, NULL,
	  { { 'l', "l", "/", 0, NULL } } },
	{ "symlink deep out", -EPERM, NULL, NULL,
	  { { 'd', "d", NULL, 0, NULL },
	    { 'l', "d/l", "../../outside", 0, NULL } } },
	{ "symlink lexical out", -EPERM, NULL, NULL,
	  { { 'l', "l", "sub/../../x", 0, NULL } } },
	{ "symlink chain", -EPERM, NULL, NULL,
	  { { 'd', "a", NULL, 0, NULL },
	    { 'l', "a/up", "..", 0, NULL },
	    { 'l', "b", "a/up/..", 0, NULL } } },
	{ "symlink chain made later", -EPERM, NULL, NULL,
	  { { 'l', "x", "up/..", 0, NULL },
	    { 'l', "up", ".", 0, NULL } } },
	{ "write through inner symlink", -EPERM, NULL, NULL,
	  { { 'd', "sub", NULL, 0, NULL },
	    { 'l', "l", "sub", 0, NULL },
	    { 'f', "l/x", NULL, 0, "x" } } },
	{ "hard link to passwd", -EPERM, NULL, NULL,
	  { { 'h', "h", "/etc/passwd", 0, NULL } } },
	{ "hard link out", -EPERM, NULL, NULL,
	  { { 'h', "h", "../outside/keep", 0, NULL } } },
	{ "hard link not yet extracted", -EPERM, NULL, NULL,
	  { { 'h', "h", "later", 0, NULL }, { 'f', "later", NULL, 0, "x" } } },
	{ "hard link to folder", -EPERM, NULL, NULL,
	  { { 'd', "d", NULL, 0, NULL }, { 'h', "h", "d", 0, NULL } } },
	{ "hard link through symlink", -EPERM, NULL, NULL,
	  { { 'd', "sub", NULL, 0, NULL },
	    { 'f', "sub/f", NULL, 0, "x" },
	    { 'l', "l", "sub", 0, NULL },
	    { 'h', "h", "l/f", 0, NULL } } },
	{ "char device", -EPERM, NULL, NULL,
	  { { 'c', "null", NULL, 0666, NULL } } },
	{ "block device", -EPERM, NULL, NULL,
	  { { 'b', "disk", NULL, 0600, NULL } } },
	{ "fifo", -EPERM, NULL, NULL,
	  { { 'p', "fifo", NULL, 0600, NULL } } },
	{ "setuid file", -EPERM, NULL, NULL,
	  { { 'f', "su", NULL, 04755, "x" } } },
	{ "setgid file", -EPERM, NULL, NULL,
	  { { 'f', "sg", NULL, 02755, "x" } } },
	{ "sticky dir", -EPERM, NULL, NULL,
	  { { 'd', "tmp", NULL, 01755, NULL } } },
	{ "setgid dir", -EPERM, NULL, NULL,
	  { { 'd', "sgd", NULL, 02755, NULL } } },
	{ "world-writable file", -EPERM, NULL, NULL,
	  { { 'f', "ww", NULL, 0666, "x" } } },
	{ "world-writable dir", -EPERM, NULL, NULL,
	  { { 'd', "wwd", NULL, 0777, NULL } } },
	{ "file replaced by symlink", -EPERM, NULL, NULL,
	  { { 'f', "f", NULL, 0, "x" }, { 'l', "f", "g", 0, NULL } } },
	{ "dir replaced by symlink then written", -EPERM, NULL, NULL,
	  { { 'd', "d", NULL, 0, NULL },
	    { 'l', "d", "..", 0, NULL },
	    { 'f', "d/x", NULL, 0, "x" } } },
	{ "dir replaced by inner symlink", -EPERM, NULL, NULL,
	  { { 'd', "d", NULL, 0, NULL },
	    { 'd', "e", NULL, 0, NULL },
	    { 'l', "d", "e", 0, NULL } } },
	{ "file twice", -EPERM, NULL, NULL,
	  { { 'f', "f", NULL, 0, "x" }, { 'f', "f", NULL, 0, "y" } } },
	{ "file then dir", -EPERM, NULL, NULL,
	  { { 'f', "f", NULL, 0, "x" }, { 'd', "f", NULL, 0, NULL } } },
	{ "newline in name", -EPERM, NULL, NULL,
	  { { 'f', "a\nb", NULL, 0, "x" } } },
	{ "escape in name", -EPERM, NULL, NULL,
	  { { 'f', "a\x1b[31mred", NULL, 0, "x" } } },
	{ "delete in name", -EPERM, NULL, NULL,
	  { { 'f', "a\x7f", NULL, 0, "x" } } },
	{ "control in symlink target", -EPERM, NULL, NULL,
	  { { 'l', "l", "a\nb", 0, NULL } } },
	{ "file names the target", -EPERM, NULL, NULL,
	  { { 'f', ".", NULL, 0, "x" } } },
	{ "good entries then hostile", -EPERM, NULL, NULL,
	  { { 'd', "ok", NULL, 0, NULL },
	    { 'f', "ok/one", NULL, 0, "1" },
	    { 'f', "ok/two", NULL, 0, "2" },
	    { 'f', "../late", NULL, 0, "x" } } },
	{ "gzip dotdot", -EPERM, "gzip", NULL,
	  { { 'f', "../x", NULL, 0, "x" } } },
	{ "zstd symlink out", -EPERM, "zstd", NULL,
	  { { 'l', "l", "../../..", 0, NULL } } },
};
/* clang-format on */

struct target {
	char *tmp;
	char *parent; /* holds dest and a sentinel */
	char *dest;
	char *outside;
	char *archive;
	char *before_tmp;
	char *before_parent;
	char *before_outside;
};

static void
target_init(struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->tmp = tu_tempdir();
	t->parent = join(t->tmp, "parent");
	t->dest = join(t->parent, "dest");
	t->outside = join(t->tmp, "outside");
	t->archive = join(t->tmp, "hostile.tar");
	assert_int_equal(mkdir(t->parent, 0755), 0);
	mkdir_in(t->parent, "sentinel");
	put_str(t->parent, "sentinel/keep", "sentinel\n");
	assert_int_equal(mkdir(t->outside, 0755), 0);
	put_str(t->outside, "keep", "outside\n");
}

/* Snapshot after the archive is written, before extraction. */
static void
target_snapshot(struct target *t)
{
	free(t->before_tmp);
	free(t->before_parent);
	free(t->before_outside);
	t->before_tmp = listing(t->tmp);
	t->before_parent = listing(t->parent);
	t->before_outside = listing(t->outside);
}

/* Nothing appeared anywhere, dest included; no staging folder left. */
static void
target_check_untouched(struct target *t, const char *label)
{
	char *now_tmp = listing(t->tmp);
	char *now_parent = listing(t->parent);
	char *now_outside = listing(t->outside);
	char *s = join(t->parent, "sentinel");
	char *ls = listing(s);
	char *keep = join(t->outside, "keep");
	char *text = slurp(keep, NULL);

	if (strcmp(now_tmp, t->before_tmp) ||
	    strcmp(now_parent, t->before_parent) ||
	    strcmp(now_outside, t->before_outside))
		fail_msg("%s: files appeared:\n%s--\n%s--\n%s", label, now_tmp,
		         now_parent, now_outside);
	assert_string_equal(ls, ".\n..\nkeep\n");
	assert_string_equal(text, "outside\n");
	free(text);
	free(keep);
	free(ls);
	free(s);
	free(now_tmp);
	free(now_parent);
	free(now_outside);
}

static void
target_clear(struct target *t)
{
	free(t->parent);
	free(t->dest);
	free(t->outside);
	free(t->archive);
	free(t->before_tmp);
	free(t->before_parent);
	free(t->before_outside);
	tu_rmtree(t->tmp);
	memset(t, 0, sizeof(*t));
}

static struct archive *
writer_to(const char *path, const char *filter)
{
	struct archive *a = archive_write_new();

	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a),
	                 ARCHIVE_OK);
	if (filter && !strcmp(filter, "gzip"))
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	if (filter && !strcmp(filter, "zstd")) {
		assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
		assert_int_equal(archive_write_set_filter_option(
		                     a, "zstd", "compression-level", "1"),
		                 ARCHIVE_OK);
	}
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1),
	                 ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	return a;
}

static void
write_hostile(const struct hcase *c, const char *path, const char *tmp)
{
	struct archive *a = writer_to(path, c->filter);
	struct archive_entry *e = archive_entry_new();
	size_t i;

	for (i = 0; i < 5 && c->e[i].type; i++) {
		const struct hentry *h = &c->e[i];
		char name[512], target[512];
		const char *at;

		/* "@" stands for the test's own folder. */
		at = strchr(h->name, '@');
		if (at)
			snprintf(name, sizeof(name), "%.*s%s%s",
			         (int)(at - h->name), h->name, tmp, at + 1);
		else
			snprintf(name, sizeof(name), "%s", h->name);
		snprintf(target, sizeof(target), "%s",
		         h->target ? h->target : "");
		if (h->target && !strcmp(h->target, "@"))
			snprintf(target, sizeof(target), "%s", tmp);
		archive_entry_clear(e);
		archive_entry_set_pathname(e, name);
		archive_entry_set_mtime(e, 1700000000, 0);
		switch (h->type) {
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, h->mode ? h->mode : 0644);
			archive_entry_set_size(e, (la_int64_t)strlen(h->data));
			break;
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, h->mode ? h->mode : 0755);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, target);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, target);
			break;
		case 'c':
		case 'b':
		case 'p':
			archive_entry_set_filetype(e, h->type == 'c' ? AE_IFCHR
			                              : h->type == 'b'
			                                  ? AE_IFBLK
			                                  : AE_IFIFO);
			archive_entry_set_perm(e, h->mode);
			archive_entry_set_rdev(e, h->type == 'p' ? 0 : 0x0103);
			break;
		default:
			fail();
		}
		assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
		if (h->type == 'f')
			assert_int_equal(
			    archive_write_data(a, h->data, strlen(h->data)),
			    (la_ssize_t)strlen(h->data));
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
}

/* Extract a hostile archive at t->archive: refused with expect, a
 * message, nothing written anywhere. */
static void
expect_refused(struct target *t, const struct ir_extract_opts *opts, int expect,
               const char *msg, const char *label)
{
	struct ir_extract_info info = {0};
	struct ir_ctx ctx = {0};
	int rc;

	target_snapshot(t);
	rc = ir_archive_extract(t->archive, t->dest, opts, &info, &ctx);
	if (rc != expect)
		fail_msg("%s: got %d (%s), want %d", label, rc,
		         ir_error_msg(&ctx, rc), expect);
	if (!ctx.err.msg[0])
		fail_msg("%s: no message", label);
	if (expect == -EPERM && !strstr(ctx.err.msg, "unsafe entry \""))
		fail_msg("%s: message does not name the entry: %s", label,
		         ctx.err.msg);
	if (msg && strcmp(ctx.err.msg, msg))
		fail_msg("%s: message \"%s\", want \"%s\"", label, ctx.err.msg,
		         msg);
	assert_false(exists(t->dest));
	target_check_untouched(t, label);
}

static void
test_hostile_corpus(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct target t = {0};

		target_init(&t);
		write_hostile(&hostile[i], t.archive, t.tmp);
		expect_refused(&t, NULL, hostile[i].expect, hostile[i].msg,
		               hostile[i].label);
		target_clear(&t);
	}
	print_message("%zu hostile archives refused\n", i);
}

/* Archives that look odd but are safe extract whole: the checks refuse
 * what escapes, not what is merely unusual.  `find -printf` shows what
 * landed: path, type, link target. */
/* clang-format off */
static const struct hcase legit[] = {
	{ "f f\n"
	  "h f\n", 0, NULL, "hard link",
	  { { 'f', "f", NULL, 0, "hello" }, { 'h', "h", "f", 0, NULL } } },
	{ "a d\n"
	  "a/b.txt f\n", 0, NULL, "./ names",
	  { { 'd', "./", NULL, 0, NULL }, { 'd', "./a", NULL, 0, NULL },
	    { 'f', "./a/b.txt", NULL, 0, "b" } } },
	{ "l2 l sub/up/sub/x\n"
	  "sub d\n"
	  "sub/up l ..\n"
	  "sub/x f\n", 0, NULL, "symlink through an inner link",
	  { { 'd', "sub", NULL, 0, NULL }, { 'f', "sub/x", NULL, 0, "x" },
	    { 'l', "sub/up", "..", 0, NULL },
	    { 'l', "l2", "sub/up/sub/x", 0, NULL } } },
	{ "a d\n"
	  "a/b d\n"
	  "a/b/l l ../../c\n"
	  "x l a/b/../..\n", 0, NULL, "dotdot out of real folders",
	  { { 'd', "a", NULL, 0, NULL }, { 'd', "a/b", NULL, 0, NULL },
	    { 'l', "a/b/l", "../../c", 0, NULL },
	    { 'l', "x", "a/b/../..", 0, NULL } } },
	{ "d d\n"
	  "d/f f\n", 0, "zstd", "folder entry after its file",
	  { { 'f', "d/f", NULL, 0, "f" }, { 'd', "d", NULL, 0700, NULL } } },
	{ "C: d\n"
	  "C:/x f\n"
	  "back\\slash f\n"
	  "dangling l nowhere\n", 0, "gzip", "odd but inside",
	  { { 'f', "back\\slash", NULL, 0, "x" },
	    { 'f', "C:/x", NULL, 0, "x" },
	    { 'l', "dangling", "nowhere", 0, NULL } } },
	{ "", 0, NULL, "no entries", { { 0, NULL, NULL, 0, NULL } } },
};
/* clang-format on */

static void
test_legit_archives(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(legit) / sizeof(legit[0]); i++) {
		struct ir_extract_info info = {0};
		struct ir_ctx ctx = {0};
		struct target t;
		char *out, *text;
		int rc;

		target_init(&t);
		write_hostile(&legit[i], t.archive, t.tmp);
		rc = ir_archive_extract(t.archive, t.dest, NULL, &info, &ctx);
		if (rc != 0)
			fail_msg("%s: got %d (%s)", legit[i].msg, rc,
			         ir_error_msg(&ctx, rc));
		out = join(t.tmp, "find.txt");
		{
			char *argv[] = {
			    "/usr/bin/find", t.dest,       "-mindepth", "1",
			    "-printf",       "%P %y %l\n", NULL};

			assert_int_equal(run(out, argv), 0);
		}
		text = slurp(out, NULL);
		{
			/* find's order is the folder's; sort the lines. */
			char *argv[] = {"/usr/bin/sort", "-o", out, out, NULL};

			free(text);
			assert_int_equal(run(NULL, argv), 0);
			text = slurp(out, NULL);
		}
		for (char *c = text; *c; c++)
			if (c[0] == ' ' && c[1] == '\n')
				memmove(c, c + 1, strlen(c));
		if (strcmp(text, legit[i].label))
			fail_msg("%s: extracted\n%s\nwant\n%s", legit[i].msg,
			         text, legit[i].label);
		free(text);
		free(out);
		target_clear(&t);
	}
}

/* The same refusal leaves a non-empty dest exactly as it was, even with
 * force. */
static void
test_hostile_with_force_keeps_dest(void **state)
{
	struct ir_extract_opts opts = IR_EXTRACT_OPTS_INIT;
	struct ir_ctx ctx = {0};
	struct target t = {0};
	char *text, *p;

	(void)state;
	target_init(&t);
	write_hostile(&hostile[sizeof(hostile) / sizeof(hostile[0]) - 3],
	              t.archive, t.tmp);
	assert_int_equal(mkdir(t.dest, 0755), 0);
	put_str(t.dest, "old", "old content\n");
	opts.force = true;
	target_snapshot(&t);
	assert_int_equal(
	    ir_archive_extract(t.archive, t.dest, &opts, NULL, &ctx), -EPERM);
	target_check_untouched(&t, "force");
	text = listing(t.dest);
	assert_string_equal(text, ".\n..\nold\n");
	free(text);
	p = join(t.dest, "old");
	text = slurp(p, NULL);
	assert_string_equal(text, "old content\n");
	free(text);
	free(p);
	target_clear(&t);
}

static void
test_caps(void **state)
{
	struct ir_extract_opts opts = IR_EXTRACT_OPTS_INIT;
	struct target t = {0};
	struct archive *a;
	struct archive_entry *e;
	char name[8192];
	size_t i;

	(void)state;
	/* Too many entries. */
	target_init(&t);
	a = writer_to(t.archive, NULL);
	e = archive_entry_new();
	for (i = 0; i < 20; i++) {
		archive_entry_clear(e);
		snprintf(name, sizeof(name), "f%zu", i);
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, 0);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	opts.max_entries = 10;
	expect_refused(&t, &opts, -EFBIG, NULL, "too many entries");
	target_clear(&t);

	/* A path past IR_LIMIT_ARCHIVE_PATH, and one too deep. */
	for (int k = 0; k < 2; k++) {
		size_t n = 0;

		target_init(&t);
		while (n < (k ? 600u : IR_LIMIT_ARCHIVE_PATH + 100u)) {
			const char *part = k ? "a/" : "abcdefghij/";

			memcpy(name + n, part, strlen(part));
			n += strlen(part);
		}
		memcpy(name + n, "f", 2);
		a = writer_to(t.archive, NULL);
		archive_entry_clear(e);
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, 0);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_close(a), ARCHIVE_OK);
		archive_write_free(a);
		expect_refused(&t, NULL, -EFBIG, NULL,
		               k ? "too deep" : "overlong path");
		target_clear(&t);
	}

	/* Many small files past a low max_bytes. */
	target_init(&t);
	a = writer_to(t.archive, "zstd");
	{
		static char mib[1024 * 1024];

		for (i = 0; i < 20; i++) {
			archive_entry_clear(e);
			snprintf(name, sizeof(name), "part%zu", i);
			archive_entry_set_pathname(e, name);
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, sizeof(mib));
			assert_int_equal(archive_write_header(a, e),
			                 ARCHIVE_OK);
			assert_int_equal(
			    archive_write_data(a, mib, sizeof(mib)),
			    (la_ssize_t)sizeof(mib));
		}
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	opts = (struct ir_extract_opts)IR_EXTRACT_OPTS_INIT;
	opts.max_bytes = 10 * 1024 * 1024;
	expect_refused(&t, &opts, -EFBIG, NULL, "max_bytes");
	target_clear(&t);

	/* Below IR_LIMIT_ARCHIVE_RATIO_FLOOR the ratio is not held against
	 * an archive: 8 MiB of zeros (a few hundred bytes of zstd) is fine. */
	target_init(&t);
	a = writer_to(t.archive, "zstd");
	{
		static char mib[1024 * 1024];

		archive_entry_clear(e);
		archive_entry_set_pathname(e, "zeros");
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, 8 * sizeof(mib));
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		for (i = 0; i < 8; i++)
			assert_int_equal(
			    archive_write_data(a, mib, sizeof(mib)),
			    (la_ssize_t)sizeof(mib));
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	{
		struct ir_extract_info info = {0};
		struct ir_ctx ctx = {0};
		struct stat st;

		assert_int_equal(stat(t.archive, &st), 0);
		assert_true((uint64_t)st.st_size * IR_LIMIT_ARCHIVE_RATIO <
		            8 * 1024 * 1024);
		assert_int_equal(
		    ir_archive_extract(t.archive, t.dest, NULL, &info, &ctx),
		    0);
		assert_int_equal(info.bytes, 8 * 1024 * 1024);
	}
	target_clear(&t);
	archive_entry_free(e);
}

/* 2 GiB of zeros that zstd turns into kilobytes. */
static void
test_expansion_bomb(void **state)
{
	struct ir_extract_opts opts = IR_EXTRACT_OPTS_INIT;
	static char mib[1024 * 1024];
	struct target t = {0};
	struct archive_entry *e;
	struct archive *a;
	struct stat st;
	size_t i;

	(void)state;
	target_init(&t);
	a = writer_to(t.archive, "zstd");
	e = archive_entry_new();
	archive_entry_set_pathname(e, "zeros");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 2048LL * 1024 * 1024);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	for (i = 0; i < 2048; i++)
		assert_int_equal(archive_write_data(a, mib, sizeof(mib)),
		                 (la_ssize_t)sizeof(mib));
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	assert_int_equal(stat(t.archive, &st), 0);
	assert_true(st.st_size < 1024 * 1024);

	/* The ratio cap (default options). */
	expect_refused(&t, NULL, -EFBIG, NULL, "bomb, ratio");
	/* A low max_bytes with a ratio that would allow it. */
	opts.max_bytes = 4 * 1024 * 1024;
	opts.max_ratio = 1000000000;
	expect_refused(&t, &opts, -EFBIG, NULL, "bomb, max_bytes");
	target_clear(&t);
}

static void
write_file(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

/* bytes[0..len) with one bit flipped (or cut to len) as t's archive, then
 * refused as corrupt. */
static void
expect_corrupt(unsigned char *bytes, size_t len, size_t off, int bit,
               const uint8_t *sha256, const char *what)
{
	struct ir_extract_opts opts = IR_EXTRACT_OPTS_INIT;
	struct target t = {0};
	char label[96];

	opts.sha256 = sha256;
	target_init(&t);
	if (bit >= 0)
		bytes[off] ^= (unsigned char)(1u << bit);
	write_file(t.archive, bytes, len);
	if (bit >= 0)
		bytes[off] ^= (unsigned char)(1u << bit);
	snprintf(label, sizeof(label), "%s: offset %zu bit %d length %zu", what,
	         off, bit, len);
	expect_refused(&t, &opts, -EBADMSG, NULL, label);
	target_clear(&t);
}

/* A real archive of ours, then damaged. */
static void
test_corrupt_archives(void **state)
{
	struct ir_extract_opts opts = IR_EXTRACT_OPTS_INIT;
	struct ir_archive_writer *w = NULL;
	struct ir_archive_info info;
	struct ir_ctx ctx = {0};
	struct target t = {0};
	struct fixture f;
	unsigned char *bytes;
	char *good, *plain;
	size_t len, plen, i;
	uint8_t wrong[IR_SHA256_LEN];

	(void)state;
	fixture_init(&f);
	good = join(f.tmp, "good.tar.zst");
	assert_int_equal(ir_archive_create(&w, good, f.data, &ctx), 0);
	assert_int_equal(ir_archive_add_path(w, f.tree, "a", &ctx), 0);
	assert_int_equal(ir_archive_add_path(w, f.tree, "binary.bin", &ctx), 0);
	assert_int_equal(ir_archive_add_path(w, f.tree, "run.sh", &ctx), 0);
	assert_int_equal(ir_archive_finish(w, &info, &ctx), 0);
	bytes = (unsigned char *)slurp(good, &len);

	/* Without a recorded hash: cut short, or a broken frame magic. */
	expect_corrupt(bytes, len / 2, 0, -1, NULL, "zstd cut in half");
	expect_corrupt(bytes, len - 1, 0, -1, NULL, "zstd last byte cut");
	expect_corrupt(bytes, 3, 0, -1, NULL, "zstd cut to 3 bytes");
	for (i = 0; i < 4; i++)
		expect_corrupt(bytes, len, i, 3, NULL, "zstd magic");

	/* zstd here has no content checksum: a bit flipped inside
	 * compressed data can decode to other bytes without an error.  The
	 * recorded SHA-256 catches every one: flips spread over the whole
	 * file, every bit position. */
	for (i = 0; i < 48; i++)
		expect_corrupt(bytes, len, i * (len - 1) / 47, (int)(i % 8),
		               info.sha256, "zstd flip, hash given");
	/* The positive control: the same archive, whole, passes. */
	target_init(&t);
	write_file(t.archive, bytes, len);
	opts.sha256 = info.sha256;
	assert_int_equal(
	    ir_archive_extract(t.archive, t.dest, &opts, NULL, &ctx), 0);
	target_clear(&t);
	memcpy(wrong, info.sha256, sizeof(wrong));
	wrong[31] ^= 1;
	expect_corrupt(bytes, len, 0, -1, wrong, "whole, wrong hash");
	free(bytes);

	/* A plain tar as tar(1) writes it: a flipped bit in a header fails
	 * its checksum; a cut inside data or between two entries (where
	 * libarchive alone would see a shorter, whole archive) is caught. */
	plain = join(f.tmp, "plain.tar");
	{
		char *argv[] = {"/usr/bin/tar", "-cf",    plain,         "-C",
		                f.tree,         "run.sh", "five-mb.dat", NULL};

		assert_int_equal(run(NULL, argv), 0);
	}
	bytes = (unsigned char *)slurp(plain, &plen);
	{
		/* name, mode, size, checksum, magic of the first header;
		 * name and size of the second (after 512 + 512 of run.sh). */
		static const size_t toff[] = {0,   100,  124,       148,
		                              257, 1024, 1024 + 124};

		for (i = 0; i < sizeof(toff) / sizeof(toff[0]); i++)
			expect_corrupt(bytes, plen, toff[i], 2, NULL,
			               "tar header flip");
	}
	expect_corrupt(bytes, plen / 3, 0, -1, NULL, "tar cut in data");
	expect_corrupt(bytes, 1024, 0, -1, NULL, "tar cut between entries");
	expect_corrupt(bytes, 1024 + 512 + 5 * 1024 * 1024, 0, -1, NULL,
	               "tar cut before its end blocks");
	free(bytes);

	/* Not an archive at all. */
	bytes = (unsigned char *)strdup("this is not an archive, just text\n");
	expect_corrupt(bytes, strlen((char *)bytes), 0, -1, NULL, "text");
	expect_corrupt(bytes, 0, 0, -1, NULL, "empty file");
	free(bytes);

	free(plain);
	free(good);
	fixture_clear(&f);
}

int
main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_streams_in_small_memory),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_paths_bytes_and_files),
		cmocka_unit_test(test_abort_and_failed_create_leave_nothing),
		cmocka_unit_test(test_file_sha256),
		cmocka_unit_test(test_existing_dest),
		cmocka_unit_test(test_stale_staging_cleared),
		cmocka_unit_test(test_hostile_corpus),
		cmocka_unit_test(test_legit_archives),
		cmocka_unit_test(test_hostile_with_force_keeps_dest),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_expansion_bomb),
		cmocka_unit_test(test_corrupt_archives),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
