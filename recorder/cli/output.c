/*
 * `-o FILE`: where a command's output goes.  A regular file (or a name
 * that does not exist yet) is replaced atomically: the output is written
 * to a temporary file in the same folder and renamed over it when whole.
 * Anything else (a device, a FIFO, a symbolic link) is written through:
 * renaming over /dev/null or /dev/stdout would replace the node itself.
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int
cannot(struct cli *cli, const char *path, int err)
{
	return ir_error_set(&cli->ctx, -err, IR_ORIGIN_USAGE, 0,
			    "cannot write \"%s\": %s", path, strerror(err));
}

/* Open a node that is not a regular file (or a link) for writing, as the
 * shell's `>` would: following links, never renaming anything. */
static int
open_through(struct cli *cli, const char *path, const struct stat *st,
	     int *out)
{
	int fd, flags = O_WRONLY | O_CLOEXEC | O_NOCTTY;

	if (S_ISDIR(st->st_mode))
		return cannot(cli, path, EISDIR);
	if (S_ISSOCK(st->st_mode))
		return ir_error_set(&cli->ctx, -ENXIO, IR_ORIGIN_USAGE, 0,
				    "cannot write \"%s\": it is a socket",
				    path);
	if (S_ISFIFO(st->st_mode)) {
		/* Say so when nobody reads yet, then wait like `>` does. */
		fd = open(path, flags | O_NONBLOCK);
		if (fd < 0 && errno == ENXIO) {
			cli_say(cli, "waiting for a reader of \"%s\"", path);
			fd = open(path, flags);
		} else if (fd >= 0) {
			int fl = fcntl(fd, F_GETFL);

			if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
				close(fd);
				return cannot(cli, path, errno);
			}
		}
	} else if (S_ISREG(st->st_mode)) {
		/* A link to a regular file: the link stays, the file it
		 * names gets the content. */
		fd = open(path, flags | O_TRUNC);
	} else {
		fd = open(path, flags);
	}
	if (fd < 0)
		return cannot(cli, path, errno);
	*out = fd;
	return 0;
}

/* Whether path (what it names, through links) lies in the data
 * directory's log or archives: those are never an output. */
static bool
inside_store(const struct cli *cli, const char *path)
{
	static const char *const stores[] = { "log", "archives" };
	char real[PATH_MAX], store[PATH_MAX], top[PATH_MAX + 16];
	char *copy, *dir;
	size_t i, n;

	if (!cli->data_dir || !realpath(cli->data_dir, store))
		return false;
	if (!realpath(path, real)) {
		copy = strdup(path);
		if (!copy)
			return false;
		dir = dirname(copy);
		if (!realpath(dir, real)) {
			free(copy);
			return false;
		}
		free(copy);
	}
	for (i = 0; i < sizeof(stores) / sizeof(*stores); i++) {
		snprintf(top, sizeof(top), "%s/%s", store, stores[i]);
		n = strlen(top);
		if (!strncmp(real, top, n) &&
		    (real[n] == '\0' || real[n] == '/'))
			return true;
	}
	return false;
}

int
cli_output_open(struct cli *cli, struct cli_output *o, const char *path)
{
	struct stat lst, st;
	mode_t mode = 0644;
	char *copy = NULL, *tmp = NULL;
	int fd = -1, rc = 0, have;

	memset(o, 0, sizeof(*o));
	o->path = path;
	if (!strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	if (inside_store(cli, path))
		return ir_error_set(&cli->ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "\"%s\" is inside the data directory's "
				    "log or archives: choose another -o",
				    path);
	have = !lstat(path, &lst);
	if (!have && errno != ENOENT)
		return cannot(cli, path, errno);
	if (have && !S_ISREG(lst.st_mode)) {
		if (S_ISLNK(lst.st_mode) && stat(path, &st)) {
			if (errno != ENOENT)
				return cannot(cli, path, errno);
			/* A dangling link: create what it names. */
			fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
						O_NOCTTY, 0644);
			if (fd < 0)
				return cannot(cli, path, errno);
		} else {
			if (!S_ISLNK(lst.st_mode))
				st = lst;
			rc = open_through(cli, path, &st, &fd);
			if (rc)
				return rc;
		}
	} else {
		if (have)
			mode = lst.st_mode & 07777;
		copy = strdup(path);
		if (!copy || asprintf(&tmp, "%s/.%s.XXXXXX", dirname(copy),
				      strrchr(path, '/') ?
					      strrchr(path, '/') + 1 : path) < 0) {
			free(copy);
			return -ENOMEM;
		}
		free(copy);
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			rc = cannot(cli, path, errno);
			free(tmp);
			return rc;
		}
		if (fchmod(fd, mode)) {
			rc = cannot(cli, tmp, errno);
			close(fd);
			unlink(tmp);
			free(tmp);
			return rc;
		}
		o->tmp = tmp;
	}
	o->f = fdopen(fd, "w");
	if (!o->f) {
		close(fd);
		if (o->tmp)
			unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		return -ENOMEM;
	}
	return 0;
}

int
cli_output_close(struct cli *cli, struct cli_output *o, int rc)
{
	int err = 0;

	if (!o->f)
		return rc;
	if (o->f == stdout) {
		if (fflush(stdout) && !rc)
			rc = ir_error_set(&cli->ctx, -EIO, IR_ORIGIN_OS, errno,
					  "cannot write the output: %s",
					  strerror(errno));
		o->f = NULL;
		return rc;
	}
	if (fflush(o->f) || (o->tmp && fsync(fileno(o->f))))
		err = errno;
	if (fclose(o->f) && !err)
		err = errno;
	o->f = NULL;
	if (err && !rc)
		rc = ir_error_set(&cli->ctx, -err, IR_ORIGIN_OS, err,
				  "cannot write \"%s\": %s", o->path,
				  strerror(err));
	if (o->tmp) {
		if (!rc && rename(o->tmp, o->path))
			rc = ir_error_set(&cli->ctx, -errno, IR_ORIGIN_OS,
					  errno, "cannot replace \"%s\": %s",
					  o->path, strerror(errno));
		if (rc)
			unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
	return rc;
}
