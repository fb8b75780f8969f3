/*
 * Event-log benchmarks (figures and ratios, never pass/fail):
 *   1. durable single-event appends/s against a raw write+fdatasync loop in
 *      the same directory;
 *   2. group-committed step.output appends/s;
 *   3. verify / report / export of a 1,000,000-event incident against a
 *      bare LMDB scan + msgpack decode (+ SHA-256 for verify) of the same
 *      events, each command run as its own process for its peak memory.
 *
 * usage: bench_log INCIDENT_BIN [EVENTS [KEEP_DIR]]
 * With KEEP_DIR the data directory is made there and kept (for profiling).
 */
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"

#include "evlog.h"
#include "hash.h"
#include "ir_limits.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct ir_event *
make(const char *type, const char *step, uint64_t i)
{
	static struct ir_event ev;
	char line[128];

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.type, sizeof(ev.type), "%s", type);
	snprintf(ev.step, sizeof(ev.step), "%s", step);
	ev.ts = 1764108000000000000LL + (int64_t)i * 1000;
	ev.mono = i * 1000;
	ev.data = ir_val_map_new();
	snprintf(line, sizeof(line),
		 "2026-11-25T15:00:%02llu INFO tick pnl=+%llu order=%llu ok",
		 (unsigned long long)(i % 60), (unsigned long long)i * 7,
		 (unsigned long long)i);
	ir_val_set_str(ev.data, "stream", "out");
	ir_val_set_str(ev.data, "line", line);
	return &ev;
}

static void
die(const char *what, struct ir_ctx *ctx, int rc)
{
	fprintf(stderr, "bench: %s: %s\n", what, ir_error_msg(ctx, rc));
	exit(1);
}

static uint64_t
open_incident(struct ir_evlog *log, struct ir_ctx *ctx)
{
	struct ir_event *ev = make("incident.opened", "", 0);
	uint64_t id;
	int rc;

	ir_val_set_str(ev->data, "kind", "rollback");
	rc = ir_evlog_create(log, &id, ev, ctx);
	ir_event_clear(ev);
	if (rc)
		die("create", ctx, rc);
	return id;
}

static void
bench_durable(struct ir_evlog *log, const char *dir, int n)
{
	struct ir_ctx ctx = { 0 };
	uint64_t id = open_incident(log, &ctx);
	char path[PATH_MAX], buf[200];
	double t0, t_log, t_raw;
	int i, fd, rc;

	t0 = now();
	for (i = 0; i < n; i++) {
		struct ir_event *ev = make("decision", "stop", (uint64_t)i);

		rc = ir_evlog_append(log, id, &ev, 1, &ctx);
		ir_event_clear(ev);
		if (rc)
			die("append", &ctx, rc);
	}
	t_log = now() - t0;
	snprintf(path, sizeof(path), "%s/raw.bin", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	memset(buf, 'x', sizeof(buf));
	t0 = now();
	for (i = 0; i < n; i++) {
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
		    fdatasync(fd)) {
			perror("raw");
			exit(1);
		}
	}
	t_raw = now() - t0;
	close(fd);
	unlink(path);
	printf("durable appends:      %8.0f events/s   raw write+fdatasync: "
	       "%8.0f/s   ratio %.2fx (target >= 0.5x)\n",
	       n / t_log, n / t_raw, (n / t_log) / (n / t_raw));
}

static uint64_t
bench_group(struct ir_evlog *log, uint64_t n)
{
	struct ir_ctx ctx = { 0 };
	uint64_t id = open_incident(log, &ctx), i;
	static struct ir_event evs[IR_LIMIT_OUTPUT_BATCH],
		*ptrs[IR_LIMIT_OUTPUT_BATCH];
	double t_append = 0, t_build = 0, t;
	size_t k;
	int rc;

	/* Batches as the recorder makes them in a burst of output.  The
	 * events of a batch are built first (the producer's part, timed on
	 * its own), then appended: encode, chain, one durable commit. */
	for (i = 0; i < n; i += IR_LIMIT_OUTPUT_BATCH) {
		size_t m = n - i < IR_LIMIT_OUTPUT_BATCH
				   ? (size_t)(n - i)
				   : IR_LIMIT_OUTPUT_BATCH;

		t = now();
		for (k = 0; k < m; k++) {
			evs[k] = *make("step.output", "start", i + k);
			ptrs[k] = &evs[k];
		}
		t_build += now() - t;
		t = now();
		rc = ir_evlog_append(log, id, ptrs, m, &ctx);
		t_append += now() - t;
		for (k = 0; k < m; k++)
			ir_event_clear(&evs[k]);
		if (rc)
			die("append batch", &ctx, rc);
	}
	printf("group-committed output: %8.0f events/s appended (%llu events, "
	       "batches of %d; target >= 500000/s); with building the "
	       "events: %.0f/s\n",
	       n / t_append, (unsigned long long)n, IR_LIMIT_OUTPUT_BATCH,
	       n / (t_append + t_build));
	return id;
}

/* The baseline: a bare cursor scan of the incident's keys, msgpack
 * decode of each value, optionally SHA-256 of the bytes. */
static double
bare_scan(const char *dir, uint64_t id, int with_sha)
{
	char path[PATH_MAX];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t key[16] = { 0 }, hash[32];
	double t0;
	uint64_t count = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/log", dir);
	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 4);
	if (mdb_env_open(env, path, MDB_RDONLY, 0600))
		exit(1);
	t0 = now();
	mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	mdb_dbi_open(txn, "events", 0, &dbi);
	mdb_cursor_open(txn, dbi, &cur);
	for (int i = 0; i < 8; i++)
		key[7 - i] = (uint8_t)(id >> (8 * i));
	k.mv_size = 16;
	k.mv_data = key;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (!rc && !memcmp(k.mv_data, key, 8)) {
		msgpack_unpacked u;
		size_t off = 0;

		msgpack_unpacked_init(&u);
		if (msgpack_unpack_next(&u, v.mv_data, v.mv_size, &off) !=
		    MSGPACK_UNPACK_SUCCESS)
			exit(1);
		msgpack_unpacked_destroy(&u);
		if (with_sha)
			ir_sha256(hash, v.mv_data, v.mv_size);
		count++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return now() - t0;
}

/* Run the incident binary as a child: wall time, peak resident set (KiB;
 * the mapped event log counts there) and peak anonymous memory (KiB;
 * heap and stacks, sampled every 2 ms). */
static double
run_cmd(char *const argv[], long *maxrss_kb, long *anon_peak_kb)
{
	struct timespec nap = { 0, 2000000 };
	struct rusage ru;
	double t0 = now();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	*anon_peak_kb = 0;
	for (;;) {
		long kb;

		if (wait4(pid, &status, WNOHANG, &ru) == pid)
			break;
		kb = procstat_anon_kb(pid);
		if (kb > *anon_peak_kb)
			*anon_peak_kb = kb;
		nanosleep(&nap, NULL);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench: %s %s failed\n", argv[0], argv[3]);
		exit(1);
	}
	*maxrss_kb = ru.ru_maxrss;
	return now() - t0;
}

int
main(int argc, char **argv)
{
	char dir[PATH_MAX] = "/tmp/ir-bench-XXXXXX", idbuf[32],
	     cmd[PATH_MAX + 64];
	struct ir_evlog *log = NULL;
	struct ir_ctx ctx = { 0 };
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000, id;
	double base, base_sha, t;
	long rss, anon;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_log INCIDENT_BIN [EVENTS]\n");
		return 2;
	}
	if (argc > 3)
		snprintf(dir, sizeof(dir), "%s", argv[3]);
	else if (!mkdtemp(dir))
		return 1;
	rc = ir_evlog_open(&log, dir, &ctx);
	if (rc)
		die("open", &ctx, rc);
	bench_durable(log, dir, 300);
	id = bench_group(log, n);
	ir_evlog_close(log);
	snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)id);

	/* Warm the page cache once, then measure. */
	bare_scan(dir, id, 1);
	base = bare_scan(dir, id, 0);
	base_sha = bare_scan(dir, id, 1);
	printf("baseline scan+decode: %.3fs   with SHA-256: %.3fs\n", base,
	       base_sha);
	{
		char *v[] = { argv[1], "-d", dir, "verify", idbuf, NULL };

		t = run_cmd(v, &rss, &anon);
		printf("verify:  %.3fs  ratio %.2fx vs scan+decode+SHA (target "
		       "<= 1.3x)  memory %.1f MB (+ %ld MB of mapped log)\n",
		       t, t / base_sha, anon / 1024.0, rss / 1024);
	}
	{
		char *v[] = { argv[1], "-d", dir, "export", idbuf, "--format",
			      "jsonl", NULL };

		t = run_cmd(v, &rss, &anon);
		printf("export:  %.3fs  ratio %.2fx vs scan+decode (target <= "
		       "2x; %.2fx vs scan+decode+SHA: export checks the chain)"
		       "  memory %.1f MB\n",
		       t, t / base, t / base_sha, anon / 1024.0);
	}
	{
		char *v[] = { argv[1], "-d", dir, "report", idbuf, "--format",
			      "md", NULL };

		t = run_cmd(v, &rss, &anon);
		printf("report:  %.3fs  ratio %.2fx vs scan+decode (target <= "
		       "1.5x; %.2fx vs scan+decode+SHA: the report verifies "
		       "the chain)  memory %.1f MB (target < 64 MB)\n",
		       t, t / base, t / base_sha, anon / 1024.0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (argc <= 3 && system(cmd))
		return 1;
	return 0;
}
