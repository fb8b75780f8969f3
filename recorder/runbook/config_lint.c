/*
 * Values a comment character cut short.  git-config (and so libgit2) ends
 * a value at an unquoted ';' or '#': "command = ./stop.sh; ./notify.sh"
 * runs ./stop.sh alone.  The parser keeps no trace of that, so this reads
 * the raw text again, tracking sections, quotes and escapes as git does.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir_limits.h"

int
ir_config_fopen(const char *path, FILE **out, struct ir_ctx *ctx)
{
	*out = fopen(path, "re");
	if (!*out)
		return ir_error_set(ctx, -errno, IR_ORIGIN_CONFIG, errno,
				    "cannot read \"%s\": %s", path,
				    strerror(errno));
	return 0;
}

/* Keys whose value is a shell command, where ';' and '#' mean something. */
static const char *const command_keys[] = {
	"stop.command",     "stop.escalate",    "start.command",
	"database.dump",    "database.restore", "deploy.stop",
	"deploy.migrate",
};

static bool
is_command_key(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(command_keys) / sizeof(*command_keys); i++)
		if (!strcmp(command_keys[i], key))
			return true;
	return false;
}

/* "[stop]", "[notify \"ops\"]", "[notify.ops]" into "stop", "notify.ops". */
static void
section_name(char *sect, size_t cap, const char *p)
{
	size_t n = 0;

	p++; /* '[' */
	while (*p && *p != ']' && *p != '"' && !isspace((unsigned char)*p) &&
	       n + 1 < cap)
		sect[n++] = (char)tolower((unsigned char)*p++);
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"' && n + 1 < cap) {
		sect[n++] = '.';
		for (p++; *p && *p != '"' && n + 1 < cap; p++) {
			if (*p == '\\' && p[1])
				p++;
			sect[n++] = *p;
		}
	}
	sect[n] = '\0';
}

/* The comment character that ends the value at v, or NULL. */
static const char *
comment_start(const char *v)
{
	bool quoted = false;

	for (; *v && *v != '\n'; v++) {
		if (*v == '\\' && v[1]) {
			v++;
		} else if (*v == '"') {
			quoted = !quoted;
		} else if (!quoted && (*v == ';' || *v == '#')) {
			return v;
		}
	}
	return NULL;
}

static void
lint_line(const char *line, unsigned lineno, const char *sect,
	  ir_config_warn_fn fn, void *payload)
{
	char name[128], key[IR_LIMIT_STRING + 160], rest[128];
	const char *p = line + strspn(line, " \t"), *v, *c, *r;
	size_t n = 0, len;
	bool glued, kept;

	while ((isalnum((unsigned char)*p) || *p == '-') &&
	       n + 1 < sizeof(name))
		name[n++] = (char)tolower((unsigned char)*p++);
	name[n] = '\0';
	if (!n)
		return;
	p += strspn(p, " \t");
	if (*p != '=')
		return;
	v = p + 1 + strspn(p + 1, " \t");
	c = comment_start(v);
	if (!c)
		return;
	r = c + 1 + strspn(c + 1, " \t");
	len = strcspn(r, "\r\n");
	while (len && isspace((unsigned char)r[len - 1]))
		len--;
	if (!len)
		return;
	snprintf(key, sizeof(key), "%s.%s", sect, name);
	glued = c > v && !isspace((unsigned char)c[-1]);
	kept = c > v;
	/* " # note" after a value is a comment to git and to the shell
	 * alike.  A comment character glued to the text ("a#b") or taking
	 * the whole value, or a ';' in a command (the shell would run what
	 * follows), is a value cut short. */
	if (kept && !glued && !(*c == ';' && is_command_key(key)))
		return;
	if (len >= sizeof(rest))
		len = sizeof(rest) - 1;
	memcpy(rest, r, len);
	rest[len] = '\0';
	fn(payload, key, lineno, *c, strncmp(key, "notify.", 7) ? rest : NULL);
}

int
ir_config_lint(const char *path, ir_config_warn_fn fn, void *payload,
	       struct ir_ctx *ctx)
{
	char line[IR_LIMIT_STRING + 64], sect[IR_LIMIT_STRING] = "";
	unsigned lineno = 0;
	bool cont = false;
	FILE *f;
	int rc = 0;

	rc = ir_config_fopen(path, &f, ctx);
	if (rc)
		return rc;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " \t");
		size_t len = strlen(line);
		bool was_cont = cont;

		lineno++;
		/* A value continued with a trailing backslash: its next
		 * line is not a key line. */
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		cont = len && line[len - 1] == '\\';
		if (was_cont)
			continue;
		if (*p == '[')
			section_name(sect, sizeof(sect), p);
		else if (*p && *p != '#' && *p != ';' && sect[0])
			lint_line(line, lineno, sect, fn, payload);
	}
	if (ferror(f))
		rc = ir_error_set(ctx, -EIO, IR_ORIGIN_CONFIG, 0,
				  "cannot read \"%s\"", path);
	fclose(f);
	return rc;
}

/* The quote state at the end of one physical line of a value, starting
 * from open; *cont is set when a trailing backslash continues it. */
static bool
quote_after(const char *v, size_t len, bool open, bool *cont)
{
	size_t i;

	*cont = false;
	for (i = 0; i < len; i++) {
		if (v[i] == '\\') {
			if (i + 1 == len) {
				*cont = true;
				break;
			}
			i++;
		} else if (v[i] == '"') {
			open = !open;
		} else if (!open && (v[i] == ';' || v[i] == '#')) {
			break;
		}
	}
	return open;
}

int
ir_config_check_text(const char *path, struct ir_ctx *ctx)
{
	unsigned lineno = 0, start = 0;
	bool open = false, cont = false;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	rc = ir_config_fopen(path, &f, ctx);
	if (rc)
		return rc;
	while (!rc && (n = getline(&line, &cap, f)) >= 0) {
		size_t len = (size_t)n;
		const char *p = line, *eq;

		lineno++;
		if (memchr(line, '\0', len)) {
			rc = ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
					  "%s:%u: a NUL byte: a value would "
					  "end there",
					  path, lineno);
			break;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (!cont) {
			p += strspn(p, " \t");
			eq = *p == '[' || *p == '#' || *p == ';' ?
				     NULL :
				     memchr(p, '=', len - (size_t)(p - line));
			if (!eq)
				continue;
			p = eq + 1;
			start = lineno;
			open = false;
		}
		open = quote_after(p, len - (size_t)(p - line), open, &cont);
		if (!cont && open)
			rc = ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
					  "%s:%u: a quote is opened and "
					  "never closed",
					  path, start);
	}
	if (!rc && cont && open)
		rc = ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, 0,
				  "%s:%u: a quote is opened and never closed",
				  path, start);
	if (!rc && ferror(f))
		rc = ir_error_set(ctx, -EIO, IR_ORIGIN_CONFIG, 0,
				  "cannot read \"%s\"", path);
	free(line);
	fclose(f);
	return rc;
}
