/* Archives: list them with their checksums, and restore one safely. */
#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir_archive.h"
#include "cli.h"
#include "hash.h"

/* What the log says about archives: every backup.created. */
struct known {
	uint64_t id;
	char path[PATH_MAX];
	char sha256[IR_SHA256_HEX];
	uint64_t bytes, files;
};

struct known_list {
	struct cli *cli;
	struct known *items;
	size_t n, cap;
	uint64_t current;
	int rc;
};

static int
known_created(struct known_list *l, const struct ir_event *ev)
{
	struct known *k;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct known *items = realloc(l->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		l->items = items;
		l->cap = cap;
	}
	k = &l->items[l->n++];
	memset(k, 0, sizeof(*k));
	k->id = l->current;
	if (ir_val_get_str(ev->data, "path"))
		snprintf(k->path, sizeof(k->path), "%s",
			 ir_val_get_str(ev->data, "path"));
	if (ir_val_get_str(ev->data, "sha256"))
		snprintf(k->sha256, sizeof(k->sha256), "%s",
			 ir_val_get_str(ev->data, "sha256"));
	k->bytes = (uint64_t)ir_val_get_int(ev->data, "bytes", 0);
	k->files = (uint64_t)ir_val_get_int(ev->data, "files", 0);
	return 0;
}

static bool
is_backup_created(const char *type)
{
	return !strcmp(type, "backup.created");
}

/* Every incident's backup.created, whatever its header says its kind is
 * (the header is a copy anyone could edit); only those are decoded. */
static int
known_event(void *payload, const struct ir_event *key, const void *raw,
	    size_t len)
{
	struct known_list *l = payload;
	struct ir_event ev;
	int rc = cli_event_read(l->current, key, raw, len, is_backup_created,
				&ev, &l->cli->ctx);

	if (!rc && is_backup_created(ev.type))
		rc = known_created(l, &ev);
	ir_event_clear(&ev);
	return rc;
}

static int
known_incident(void *payload, const struct ir_incident *inc)
{
	struct known_list *l = payload;

	l->current = inc->id;
	return ir_evlog_scan(l->cli->log, inc->id, 1, IR_EVLOG_RAW,
			     known_event, l, &l->cli->ctx);
}

static int
load_known(struct cli *cli, struct known_list *l)
{
	memset(l, 0, sizeof(*l));
	l->cli = cli;
	return ir_evlog_incidents(cli->log, known_incident, l, &cli->ctx);
}

static const char *
check_file(const struct known *k, char *actual, size_t cap, uint64_t *bytes)
{
	uint8_t sha[IR_SHA256_LEN];
	struct ir_ctx ignored = { 0 };

	*bytes = 0;
	actual[0] = '\0';
	if (access(k->path, F_OK))
		return "missing";
	if (ir_file_sha256(k->path, sha, bytes, &ignored))
		return "unreadable";
	if (cap >= IR_SHA256_HEX)
		ir_hex(actual, sha, sizeof(sha));
	return strcmp(actual, k->sha256) ? "mismatch" : "ok";
}

static bool
is_known(const struct known_list *l, const char *path)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].path, path))
			return true;
	return false;
}

int
cmd_archives(struct cli *cli)
{
	struct known_list l;
	json_t *arr = NULL;
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	size_t i;
	int rc;

	if (cli->argc > 1)
		return cli_unexpected(cli, 1);
	rc = cli_open_log(cli);
	if (!rc)
		rc = load_known(cli, &l);
	if (rc)
		return cli_fail(cli, rc);
	if (cli->json)
		arr = json_array();
	else
		printf("%-8s %-7s %10s %6s  %-10s %s\n", "INCIDENT", "CHECK",
		       "BYTES", "FILES", "SHA-256", "PATH");
	for (i = 0; i < l.n; i++) {
		const struct known *k = &l.items[i];
		char actual[IR_SHA256_HEX];
		uint64_t bytes;
		const char *state = check_file(k, actual, sizeof(actual), &bytes);

		if (arr) {
			json_t *j = json_object();

			json_object_set_new(j, "incident",
					    json_integer((json_int_t)k->id));
			json_object_set_new(j, "path", json_string(k->path));
			json_object_set_new(j, "bytes",
					    json_integer((json_int_t)k->bytes));
			json_object_set_new(j, "files",
					    json_integer((json_int_t)k->files));
			json_object_set_new(j, "sha256", json_string(k->sha256));
			json_object_set_new(j, "check", json_string(state));
			json_array_append_new(arr, j);
		} else {
			printf("INC-%-4llu %-7s %10llu %6llu  %.10s %s\n",
			       (unsigned long long)k->id, state,
			       (unsigned long long)k->bytes,
			       (unsigned long long)k->files, k->sha256,
			       k->path);
		}
	}
	/* Archives in the folder that no event names (brought in by hand). */
	snprintf(dir, sizeof(dir), "%s/archives", cli->data_dir);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char path[PATH_MAX + 256];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (is_known(&l, path) || stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		if (arr) {
			json_t *j = json_object();

			json_object_set_new(j, "incident", json_null());
			json_object_set_new(j, "path", json_string(path));
			json_object_set_new(j, "bytes",
					    json_integer((json_int_t)st.st_size));
			json_object_set_new(j, "check", json_string("unknown"));
			json_array_append_new(arr, j);
		} else {
			printf("%-8s %-7s %10lld %6s  %-10s %s\n", "-",
			       "unknown", (long long)st.st_size, "-", "-",
			       path);
		}
	}
	if (d)
		closedir(d);
	free(l.items);
	if (arr)
		cli_print_json(arr);
	return IR_EXIT_OK;
}

static bool
dir_nonempty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	bool found = false;

	if (!d)
		return errno != ENOENT; /* a file, or unreadable: refuse */
	while (!found && (de = readdir(d)))
		found = strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return found;
}

/* The same file or folder: the same name, or the same inode. */
static bool
same_path(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return true;
	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static unsigned long long tree_files;

static int
count_file(const char *path, const struct stat *sb, int type,
	   struct FTW *ftw)
{
	(void)path;
	(void)sb;
	(void)ftw;
	if (type == FTW_F || type == FTW_SL)
		tree_files++;
	return 0;
}

/* Regular files and symlinks under dir (not following links). */
static unsigned long long
count_tree(const char *dir)
{
	tree_files = 0;
	/* A walk cut short still counts what it saw. */
	(void)nftw(dir, count_file, 16, FTW_PHYS);
	return tree_files;
}

int
cmd_restore(struct cli *cli)
{
	struct run_opts o = { .kind = "restore" };
	struct known_list l = { 0 };
	struct cli_open open;
	const char *what = NULL, *to = NULL;
	char archive[PATH_MAX], dest[PATH_MAX], sha[IR_SHA256_HEX] = "";
	struct stat ast;
	uint64_t id = 0;
	size_t i;
	int argi, rc, code;

	for (argi = 1; argi < cli->argc; argi++) {
		const char *v;
		int r = cli_value(cli, &argi, "--to", &v);

		if (r < 0)
			return IR_EXIT_USAGE;
		if (r)
			to = v;
		else if (cli_flag(cli, &argi, "--force"))
			o.force = true;
		else if (cli_flag(cli, &argi, "--yes") ||
			 cli_flag(cli, &argi, "-y"))
			o.yes = true;
		else if (!what && cli->argv[argi][0] != '-')
			what = cli->argv[argi];
		else
			return cli_unexpected(cli, argi);
	}
	if (!what || !to)
		return cli_usage(cli, "restore needs ARCHIVE or INC and "
				      "--to DIR");
	rc = cli_load_config(cli, false);
	if (!rc)
		rc = cli_open_log(cli);
	if (!rc)
		rc = load_known(cli, &l);
	if (rc)
		return cli_fail(cli, rc);
	archive[0] = '\0';
	if (access(what, F_OK)) {
		/* Not a file: an incident whose backup to restore. */
		rc = cli_incident_arg(cli, what, &id);
		if (rc) {
			free(l.items);
			return cli_fail(cli, rc);
		}
		for (i = 0; i < l.n; i++)
			if (l.items[i].id == id) {
				snprintf(archive, sizeof(archive), "%s",
					 l.items[i].path);
				snprintf(sha, sizeof(sha), "%s",
					 l.items[i].sha256);
			}
		if (!archive[0]) {
			free(l.items);
			return cli_usage(cli, "INC-%llu made no archive",
					 (unsigned long long)id);
		}
	} else {
		if (!realpath(what, archive)) {
			free(l.items);
			return cli_usage(cli, "cannot read \"%s\": %s", what,
					 strerror(errno));
		}
		for (i = 0; i < l.n; i++)
			if (!strcmp(l.items[i].path, archive))
				snprintf(sha, sizeof(sha), "%s",
					 l.items[i].sha256);
	}
	free(l.items);
	/* A FIFO or a device would block the first read for ever. */
	if (stat(archive, &ast) || !S_ISREG(ast.st_mode))
		return cli_usage(cli, "\"%s\" is not a regular file", archive);
	/* DIR: absolute, its parent must exist, and it must be empty or
	 * absent unless --force.  Nothing is touched before this holds. */
	if (to[0] == '/') {
		snprintf(dest, sizeof(dest), "%s", to);
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return cli_fail(cli, -errno);
		snprintf(dest, sizeof(dest), "%s/%s", cwd, to);
	}
	/* An open restore is resumed only by the same ARCHIVE and DIR: its
	 * own earlier attempt may have put DIR in place already. */
	rc = cli_find_open(cli, "restore", &open);
	if (rc)
		return cli_fail(cli, rc);
	if (open.id && (!same_path(open.st.opt_archive, archive) ||
			!same_path(open.st.opt_to, dest)))
		return cli_usage(cli, "INC-%llu is open, restoring %s into %s; "
				      "resume it with 'incident restore %s "
				      "--to %s', or close it with 'incident "
				      "abort INC-%llu'",
				 (unsigned long long)open.id,
				 open.st.opt_archive, open.st.opt_to,
				 open.st.opt_archive, open.st.opt_to,
				 (unsigned long long)open.id);
	o.open_checked = true;
	o.open_id = open.id;
	if (open.id) {
		char question[2 * PATH_MAX + 100];

		snprintf(question, sizeof(question),
			 "Resume interrupted restore INC-%llu of %s into %s?",
			 (unsigned long long)open.id, archive, dest);
		rc = cli_confirm(cli, o.yes, question);
		if (rc)
			return cli_fail(cli, rc);
	} else if (!o.force && dir_nonempty(dest)) {
		return cli_usage(cli, "\"%s\" exists and is not empty; give "
				      "an empty folder or --force",
				 dest);
	}
	/* Into an empty or new folder nothing is replaced; --force over a
	 * non-empty one changes things: confirmed, and archived first (by
	 * the restore step). */
	if (!open.id && o.force && dir_nonempty(dest)) {
		char question[2 * PATH_MAX + 100];

		snprintf(question, sizeof(question),
			 "Replace %s (%llu files) with %s? Its current "
			 "content is archived first.",
			 dest, count_tree(dest), archive);
		rc = cli_confirm(cli, o.yes, question);
		if (rc)
			return cli_fail(cli, rc);
	}
	o.archive = archive;
	o.to = dest;
	o.sha256 = sha[0] ? sha : NULL;
	if (!sha[0])
		cli_say(cli, "\"%s\" is not known to the log: restoring it "
			     "unverified",
			archive);
	code = cli_run_incident(cli, &o);
	return code;
}
