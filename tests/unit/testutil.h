/* Shared helpers for the unit tests: temporary folders, event building. */
#ifndef IR_TESTUTIL_H
#define IR_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* mkdtemp under $TMPDIR (or /tmp); aborts the test on failure. */
static inline char *
tu_tempdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (!base || !*base)
		base = "/tmp";
	assert_true(asprintf(&path, "%s/ir-test-XXXXXX", base) > 0);
	assert_non_null(mkdtemp(path));
	return path;
}

/* path := text (a file of the test's own). */
static inline void
tu_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* rm -rf path (a test's own temp folder). */
static inline void
tu_rmtree(char *path)
{
	char *cmd;

	if (!path)
		return;
	assert_true(asprintf(&cmd, "rm -rf '%s'", path) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

#endif
