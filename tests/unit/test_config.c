#include "testutil.h"

#include "config.h"

static char *
write_file(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
durations(void **state)
{
	uint64_t ms;
	char buf[32];

	assert_int_equal(ir_duration_parse("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(ir_duration_parse("30s", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(ir_duration_parse("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(ir_duration_parse("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(ir_duration_parse("1m30s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(ir_duration_parse("30", &ms), -EINVAL);
	assert_int_equal(ir_duration_parse("", &ms), -EINVAL);
	assert_int_equal(ir_duration_parse("5x", &ms), -EINVAL);
	assert_int_equal(ir_duration_parse("-5s", &ms), -EINVAL);
	assert_int_equal(ir_duration_parse("99999999999999999999h", &ms),
			 -ERANGE);
	/* Fractions, and overflow of the sum or the product. */
	assert_int_equal(ir_duration_parse("0.2s", &ms), 0);
	assert_int_equal(ms, 200);
	assert_int_equal(ir_duration_parse("1.5m", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(ir_duration_parse("1m0.25s", &ms), 0);
	assert_int_equal(ms, 60250);
	assert_int_equal(ir_duration_parse("0.0004s", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(ir_duration_parse("2.5h", &ms), 0);
	assert_int_equal(ms, 9000000);
	assert_int_equal(ir_duration_parse("1.s", &ms), -EINVAL);
	assert_int_equal(ir_duration_parse(".5s", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(ir_duration_parse("1.2.3s", &ms), -EINVAL);
	assert_int_equal(ir_duration_parse("2562047h", &ms), 0);
	assert_int_equal(ir_duration_parse("2562048h", &ms), -ERANGE);
	assert_int_equal(ir_duration_parse("2562047h2562047h", &ms),
			 -ERANGE);
	assert_int_equal(ir_duration_parse("9223372036854ms", &ms), 0);
	assert_int_equal(ms, IR_DURATION_MAX_MS);
	assert_int_equal(ir_duration_parse("9223372036855ms", &ms), -ERANGE);
	ir_duration_format(buf, sizeof(buf), 90000);
	assert_string_equal(buf, "1m30s");
	ir_duration_format(buf, sizeof(buf), 30000);
	assert_string_equal(buf, "30s");
	ir_duration_format(buf, sizeof(buf), 250);
	assert_string_equal(buf, "250ms");
	ir_duration_format(buf, sizeof(buf), 300000);
	assert_string_equal(buf, "5m");
}

static void
defaults_without_file(void **state)
{
	struct ir_config *cfg = NULL;
	struct ir_ctx ctx = { 0 };

	assert_int_equal(ir_config_load(&cfg, NULL, &ctx), 0);
	assert_string_equal(cfg->tag_pattern, "deploy-*");
	assert_int_equal(cfg->rollback_budget_ms, 300000);
	assert_int_equal(cfg->stop_budget_ms, 30000);
	assert_int_equal(cfg->checkout_budget_ms, 60000);
	assert_int_equal(cfg->start_budget_ms, 120000);
	assert_int_equal(cfg->health_budget_ms, 60000);
	assert_int_equal(cfg->verify_budget_ms, 60000);
	assert_string_equal(cfg->stop_process, "trading_node");
	assert_int_equal(cfg->n_backup_paths, 2);
	assert_int_equal(cfg->backup_keep, 20);
	assert_int_equal(cfg->health_expect_status, 200);
	assert_int_equal(cfg->verify_lines, 20);
	assert_false(cfg->database_on_rollback);
	assert_null(cfg->database_restore);
	ir_config_free(cfg);
}

static void
full_file(void **state)
{
	char *dir = tu_tempdir(), *path;
	struct ir_config *cfg = NULL;
	struct ir_ctx ctx = { 0 };

	path = write_file(dir, "incident.conf",
			  "[core]\n\tdata-dir = state\n"
			  "[deploy]\n\tdir = /srv/trading\n"
			  "\ttag-pattern = release-*\n"
			  "[rollback]\n\tbudget = 4m\n"
			  "[stop]\n\tcommand = ./stop.sh\n"
			  "\tprocess = node --live\n\tbudget = 10s\n"
			  "[backup]\n\tpath = config\n\tpath = logs\n"
			  "\tpath = data/positions\n\tkeep = 3\n"
			  "[config]\n\tbackup = backups/config-{tag}\n"
			  "[database]\n\trestore = psql -f dump.sql\n"
			  "\ton-rollback = true\n"
			  "[health]\n\turl = http://127.0.0.1:9/status\n"
			  "\texpect-status = 204\n\texpect-body = ok\n"
			  "[verify]\n\tlines = 5\n"
			  "[notify \"ops\"]\n\turl = https://hooks.example/x\n");
	assert_int_equal(ir_config_load(&cfg, path, &ctx), 0);
	assert_string_equal(cfg->deploy_dir, "/srv/trading");
	assert_string_equal(cfg->tag_pattern, "release-*");
	assert_int_equal(cfg->rollback_budget_ms, 240000);
	assert_string_equal(cfg->stop_process, "node --live");
	assert_int_equal(cfg->stop_budget_ms, 10000);
	assert_int_equal(cfg->n_backup_paths, 3);
	assert_string_equal(cfg->backup_paths[0], "config");
	assert_string_equal(cfg->backup_paths[2], "data/positions");
	assert_int_equal(cfg->backup_keep, 3);
	assert_true(cfg->database_on_rollback);
	assert_int_equal(cfg->health_expect_status, 204);
	assert_string_equal(cfg->health_expect_body, "ok");
	assert_int_equal(cfg->verify_lines, 5);
	assert_int_equal(cfg->n_notify, 1);
	assert_string_equal(cfg->notify[0].name, "ops");
	/* A relative data dir is relative to the file's folder. */
	assert_non_null(strstr(cfg->data_dir, "/state"));
	assert_true(cfg->data_dir[0] == '/');
	ir_config_free(cfg);
	free(path);
	tu_rmtree(dir);
}

static void
unknown_key_suggests(void **state)
{
	char *dir = tu_tempdir(), *path;
	struct ir_config *cfg = NULL;
	struct ir_ctx ctx = { 0 };

	path = write_file(dir, "c.conf", "[stop]\n\tbudgett = 30s\n");
	assert_int_equal(ir_config_load(&cfg, path, &ctx), -EINVAL);
	assert_null(cfg);
	assert_non_null(strstr(ctx.err.msg, "stop.budgett"));
	assert_non_null(strstr(ctx.err.msg, "stop.budget\""));
	assert_non_null(strstr(ctx.err.msg, "c.conf"));
	assert_int_equal(ctx.err.origin, IR_ORIGIN_CONFIG);
	free(path);
	ir_error_clear(&ctx);
	path = write_file(dir, "d.conf", "[bogus]\n\tthing = 1\n");
	assert_int_equal(ir_config_load(&cfg, path, &ctx), -EINVAL);
	assert_non_null(strstr(ctx.err.msg, "bogus.thing"));
	free(path);
	tu_rmtree(dir);
}

static void
malformed_names_line(void **state)
{
	char *dir = tu_tempdir(), *path;
	struct ir_config *cfg = NULL;
	struct ir_ctx ctx = { 0 };

	path = write_file(dir, "bad.conf", "[stop]\n\tbudget = 30s\n[oops\n");
	assert_int_equal(ir_config_load(&cfg, path, &ctx), -EINVAL);
	assert_non_null(strstr(ctx.err.msg, "3"));
	free(path);
	tu_rmtree(dir);
}

static void
bad_values(void **state)
{
	static const char *const texts[] = {
		"[stop]\n\tbudget = soon\n",
		"[backup]\n\tkeep = -1\n",
		"[database]\n\ton-rollback = maybe\n",
		"[backup]\n\tpath = ../outside\n",
		"[backup]\n\tpath = /etc\n",
		"[notify \"ops\"]\n\turl = ftp://x\n",
		"[notify \"ops\"]\n\tsecret = x\n",
	};
	char *dir = tu_tempdir();
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		struct ir_config *cfg = NULL;
		struct ir_ctx ctx = { 0 };
		char *path = write_file(dir, "v.conf", texts[i]);

		assert_int_equal(ir_config_load(&cfg, path, &ctx), -EINVAL);
		assert_true(ctx.err.msg[0]);
		free(path);
	}
	tu_rmtree(dir);
}

static void
missing_file(void **state)
{
	struct ir_config *cfg = NULL;
	struct ir_ctx ctx = { 0 };

	assert_int_equal(ir_config_load(&cfg, "/nonexistent/incident.conf",
					&ctx),
			 -ENOENT);
	assert_non_null(strstr(ctx.err.msg, "/nonexistent/incident.conf"));
}

/* The recorded hash identifies the configuration but not its secrets. */
static void
hash_blanks_secrets(void **state)
{
	char *dir = tu_tempdir(), *a, *b, *c;
	struct ir_config *ca = NULL, *cb = NULL, *cc = NULL;
	struct ir_ctx ctx = { 0 };

	a = write_file(dir, "a.conf",
		       "[stop]\n\tbudget = 30s\n[notify \"ops\"]\n"
		       "\turl = https://hooks.example/SECRET-1\n");
	b = write_file(dir, "b.conf",
		       "[stop]\n\tbudget = 30s\n[notify \"ops\"]\n"
		       "\turl = https://hooks.example/SECRET-2\n");
	c = write_file(dir, "c.conf",
		       "[stop]\n\tbudget = 31s\n[notify \"ops\"]\n"
		       "\turl = https://hooks.example/SECRET-1\n");
	assert_int_equal(ir_config_load(&ca, a, &ctx), 0);
	assert_int_equal(ir_config_load(&cb, b, &ctx), 0);
	assert_int_equal(ir_config_load(&cc, c, &ctx), 0);
	assert_memory_equal(ca->sha256, cb->sha256, 32);
	assert_memory_not_equal(ca->sha256, cc->sha256, 32);
	ir_config_free(ca);
	ir_config_free(cb);
	ir_config_free(cc);
	free(a);
	free(b);
	free(c);
	tu_rmtree(dir);
}

static void
locate_order(void **state)
{
	char *path = NULL;
	struct ir_ctx ctx = { 0 };

	setenv("INCIDENT_CONFIG", "/from/env.conf", 1);
	assert_int_equal(ir_config_locate(&path, "/explicit.conf", &ctx), 0);
	assert_string_equal(path, "/explicit.conf");
	free(path);
	assert_int_equal(ir_config_locate(&path, NULL, &ctx), 0);
	assert_string_equal(path, "/from/env.conf");
	free(path);
	unsetenv("INCIDENT_CONFIG");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(defaults_without_file),
		cmocka_unit_test(full_file),
		cmocka_unit_test(unknown_key_suggests),
		cmocka_unit_test(malformed_names_line),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(hash_blanks_secrets),
		cmocka_unit_test(locate_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
