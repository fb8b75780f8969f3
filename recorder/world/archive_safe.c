#include "archive_safe.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


void
ir_safe_quote(char *out, size_t size, const char *s)
{
	size_t o = 0;

	for (; *s && o + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (*s)
		o += (size_t)snprintf(out + o, size - o, "...");
	out[o] = '\0';
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Drop the last component of path[0..*len). */
static void
pop_component(char *path, size_t *len)
{
	size_t n = *len;

	while (n && path[n - 1] != '/')
		n--;
	n -= n ? 1 : 0;
	path[n] = '\0';
	*len = n;
}

const char *
ir_safe_normalize(char *out, const char *name, int *code)
{
	const char *p = name;
	bool dotdot = false;
	size_t len = 0;
	int depth = 0;

	*code = -EPERM;
	if (strlen(name) > IR_LIMIT_ARCHIVE_PATH) {
		*code = -EFBIG;
		return "path too long";
	}
	if (has_control(name))
		return "control character in name";
	if (name[0] == '/')
		return "absolute path";
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (depth == 0)
				return "path escapes the target";
			dotdot = true;
			pop_component(out, &len);
			depth--;
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
			depth++;
		}
		p = *e ? e + 1 : e;
	}
	out[len] = '\0';
	/* Even a ".." that stays inside: libarchive refuses it too. */
	if (dotdot)
		return "path contains \"..\"";
	if (depth > IR_LIMIT_TREE_DEPTH) {
		*code = -EFBIG;
		return "too many levels of folders";
	}
	return NULL;
}

/* Whether each prefix of path, from component from+1 on, is a folder and
 * not a symlink in the staging tree; earlier components are known to be. */
static bool
real_dirs(int stagefd, char *path, int from)
{
	struct stat st;
	char *p = path;
	int i = 0;

	for (;;) {
		char *e = strchrnul(p, '/');
		char save = *e;
		bool ok = true;

		if (++i > from) {
			*e = '\0';
			ok = fstatat(stagefd, path, &st, AT_SYMLINK_NOFOLLOW) ==
			         0 &&
			     S_ISDIR(st.st_mode);
			*e = save;
		}
		if (!ok)
			return false;
		if (!save)
			return true;
		p = e + 1;
	}
}

/* Only a folder may meet an existing folder: nothing is ever replaced, so
 * nothing is written through a symlink an earlier entry made, and a
 * folder, once made, stays a folder. */
const char *
ir_safe_place(struct ir_unpack *u, bool is_dir)
{
	char *path = u->name;
	struct stat st;
	char *e = path;

	for (;;) {
		int r;

		e = strchr(e, '/');
		if (!e)
			break;
		*e = '\0';
		r = fstatat(u->stagefd, path, &st, AT_SYMLINK_NOFOLLOW);
		*e = '/';
		if (r < 0)
			return NULL; /* made as folders when written */
		if (S_ISLNK(st.st_mode))
			return "path goes through a symlink";
		if (!S_ISDIR(st.st_mode))
			return "path goes through a file";
		e++;
	}
	if (fstatat(u->stagefd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return NULL;
	if (is_dir && S_ISDIR(st.st_mode))
		return NULL;
	if (S_ISLNK(st.st_mode))
		return "duplicate entry would replace a symlink";
	if (S_ISDIR(st.st_mode))
		return "duplicate entry would replace a folder";
	return "duplicate entry would replace a file";
}

/* Resolve target lexically from the entry's folder.  A ".." may only climb
 * out of a real folder, which no later entry can replace: so the kernel
 * resolves the link (and any chain through it) the way it is checked
 * here, whatever the archive adds afterwards. */
const char *
ir_safe_symlink(struct ir_unpack *u, const char *target)
{
	char *res = u->walk;
	const char *p = target;
	size_t len;
	size_t i;
	int depth = 0;
	int verified;

	if (!*target)
		return "empty symlink target";
	if (strlen(target) > IR_LIMIT_ARCHIVE_PATH)
		return "symlink target too long";
	if (has_control(target))
		return "control character in symlink target";
	if (target[0] == '/')
		return "symlink target is absolute";
	strcpy(res, u->name);
	len = strlen(res);
	pop_component(res, &len);
	for (i = 0; i < len; i++)
		depth += res[i] == '/';
	depth += len ? 1 : 0;
	/* The entry's own folders are made as real folders for it. */
	verified = depth;
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (depth == 0)
				return "symlink points outside the target";
			if (depth > verified &&
			    !real_dirs(u->stagefd, res, verified))
				return "symlink climbs out of something not "
				       "a folder";
			pop_component(res, &len);
			depth--;
			if (verified > depth)
				verified = depth;
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (len + n + 2 > sizeof(u->walk))
				return "symlink target too long";
			if (len)
				res[len++] = '/';
			memcpy(res + len, p, n);
			len += n;
			res[len] = '\0';
			depth++;
		}
		p = *e ? e + 1 : e;
	}
	return NULL;
}

const char *
ir_safe_hardlink(struct ir_unpack *u, const char *target)
{
	struct stat st;
	char *slash;
	bool dirs;
	int code;

	if (target[0] == '/')
		return "hard link target is absolute";
	if (ir_safe_normalize(u->link, target, &code))
		return "hard link target is outside the target or unsafe";
	if (!u->link[0])
		return "hard link to the target folder itself";
	slash = strrchr(u->link, '/');
	if (slash) {
		*slash = '\0';
		dirs = real_dirs(u->stagefd, u->link, 0);
		*slash = '/';
		if (!dirs)
			return "hard link through a symlink or to a path "
			       "not extracted yet";
	}
	if (fstatat(u->stagefd, u->link, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return "hard link to a path not extracted yet";
	if (!S_ISREG(st.st_mode))
		return "hard link to something not a regular file";
	return NULL;
}

const char *
ir_safe_type_mode(unsigned type, unsigned mode, bool hard)
{
	if (!hard) {
		switch (type) {
		case S_IFREG:
		case S_IFDIR:
		case S_IFLNK:
			break;
		case S_IFCHR:
			return "character device";
		case S_IFBLK:
			return "block device";
		case S_IFIFO:
			return "FIFO";
		case S_IFSOCK:
			return "socket";
		default:
			return "unknown entry type";
		}
	}
	/* A symlink's own mode means nothing (and is 0777 by custom).
	 * Modes are refused, not quietly fixed. */
	if (!hard && type == S_IFLNK)
		return NULL;
	if (mode & S_ISUID)
		return "setuid mode";
	if (mode & S_ISGID)
		return "setgid mode";
	if (mode & S_ISVTX)
		return "sticky mode";
	if (mode & S_IWOTH)
		return "world-writable mode";
	return NULL;
}

int
ir_safe_caps(const struct ir_unpack *u, struct ir_ctx *ctx, uint64_t total)
{
	uint64_t size = u->archive_size ? u->archive_size : 1;

	if (total > u->max_bytes)
		return ir_error_set(ctx, -EFBIG, IR_ORIGIN_ARCHIVE, 0,
		                    "archive \"%s\" expands past %llu bytes",
		                    u->archive_path,
		                    (unsigned long long)u->max_bytes);
	if (total > IR_LIMIT_ARCHIVE_RATIO_FLOOR && total / u->max_ratio > size)
		return ir_error_set(ctx, -EFBIG, IR_ORIGIN_ARCHIVE, 0,
		                    "archive \"%s\" expands more than %llu "
		                    "times its size",
		                    u->archive_path,
		                    (unsigned long long)u->max_ratio);
	return 0;
}
