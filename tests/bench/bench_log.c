/*
 * Event-log benchmarks (figures and ratios, never pass/fail):
 *   1. durable single-event appends/s against a raw write+fdatasync loop in
 *      the same directory;
 *   2. group-committed step.output appends/s;
 *   3. for each of three shapes of a 1,000,000-event incident (the
 *      output lines of one step, written by 2.; notes; a chatty mix of
 *      observations, output and notes, both written by mkincident):
 *      verify, export --format jsonl, timeline and report in each format
 *      against a bare LMDB scan + msgpack decode (+ SHA-256) of the same
 *      events.  Each command and each baseline runs as its own process,
 *      three times with its output to /dev/null: the best wall time,
 *      and its peak resident set above the bare scan's (both map the
 *      same log).
 *
 * usage: bench_log INCIDENT_BIN MKINCIDENT [EVENTS [KEEP_DIR]]
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
#include <sys/stat.h>
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

struct run {
	double wall;  /* s */
	long rss_kb;  /* peak resident set */
	long anon_kb; /* peak anonymous memory (heap and stacks) */
	long long out_bytes;
};

/* Run argv as a child, its stdout into out_path: wall time, peak resident
 * set (the mapped event log counts there) and peak anonymous memory
 * (sampled every 2 ms). */
static struct run
run_once(char *const argv[], const char *out_path)
{
	struct timespec nap = { 0, 2000000 };
	struct run r = { 0 };
	struct rusage ru;
	struct stat st;
	double t0 = now();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);

		dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		long kb;

		if (wait4(pid, &status, WNOHANG, &ru) == pid)
			break;
		kb = procstat_anon_kb(pid);
		if (kb > r.anon_kb)
			r.anon_kb = kb;
		nanosleep(&nap, NULL);
	}
	r.wall = now() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench: %s %s failed\n", argv[0], argv[3]);
		exit(1);
	}
	r.rss_kb = ru.ru_maxrss;
	if (!stat(out_path, &st))
		r.out_bytes = (long long)st.st_size;
	return r;
}

static int
cmp_run(const void *a, const void *b)
{
	double x = ((const struct run *)a)->wall;
	double y = ((const struct run *)b)->wall;

	return (x > y) - (x < y);
}

/* The best of three runs with stdout to /dev/null (by wall time: other
 * work on the machine only ever adds to it; the peaks are the highest),
 * and the size of the output from one more run into out_path. */
static struct run
run_cmd(char *const argv[], const char *out_path)
{
	struct run r[3];
	int i;

	for (i = 0; i < 3; i++)
		r[i] = run_once(argv, "/dev/null");
	qsort(r, 3, sizeof(r[0]), cmp_run);
	r[0].out_bytes = run_once(argv, out_path).out_bytes;
	for (i = 1; i < 3; i++) {
		if (r[i].rss_kb > r[0].rss_kb)
			r[0].rss_kb = r[i].rss_kb;
		if (r[i].anon_kb > r[0].anon_kb)
			r[0].anon_kb = r[i].anon_kb;
	}
	return r[0];
}

static const char *
verdict(double ratio, double target)
{
	return ratio <= target ? "met" : "NOT MET";
}

static void
size_str(char *out, size_t cap, long long bytes)
{
	if (bytes >= 10 * 1024 * 1024)
		snprintf(out, cap, "%lld MB", bytes / (1024 * 1024));
	else if (bytes >= 10 * 1024)
		snprintf(out, cap, "%lld KB", bytes / 1024);
	else
		snprintf(out, cap, "%lld B", bytes);
}

/* A command's figures against its baseline (named by basis). */
static void
line(const char *what, struct run r, double base, const char *basis,
     double target)
{
	char sz[32];
	double ratio = r.wall / base;

	size_str(sz, sizeof(sz), r.out_bytes);
	printf("  %-21s %.3fs  %5.2fx %-9s (target <= %.1fx: %s)  RSS %ld MB"
	       "  %s\n",
	       what, r.wall, ratio, basis, target,
	       verdict(ratio, target), r.rss_kb / 1024, sz);
}

/* One shape: the baselines (this program again, as a child), then each
 * command against them. */
static void
bench_shape(const char *self, const char *bin, const char *dir, uint64_t id,
	    const char *shape, uint64_t n)
{
	static const char *const formats[] = { "md", "html", "json" };
	char idbuf[32], out[PATH_MAX], sz[32];
	struct run base, sha, r;
	double ratio;
	long above;
	size_t i;

	snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)id);
	snprintf(out, sizeof(out), "%s/out", dir);
	{
		char *v[] = { (char *)self, "--scan", (char *)dir, idbuf, "0",
			      NULL };
		char *w[] = { (char *)self, "--scan", (char *)dir, idbuf, "1",
			      NULL };

		run_once(w, out); /* warm the page cache */
		base = run_cmd(v, out);
		sha = run_cmd(w, out);
	}
	printf("\n%s (%llu events, INC-%llu)\n", shape, (unsigned long long)n,
	       (unsigned long long)id);
	printf("  baseline scan+decode  %.3fs   with SHA-256 %.3fs   peak "
	       "RSS %ld MB\n",
	       base.wall, sha.wall, sha.rss_kb / 1024);
	{
		char *v[] = { (char *)bin, "-d", (char *)dir, "verify", idbuf,
			      NULL };

		line("verify", run_cmd(v, out), sha.wall, "scan+SHA", 1.3);
	}
	{
		char *v[] = { (char *)bin, "-d", (char *)dir, "export", idbuf,
			      "--format", "jsonl", NULL };

		line("export --format jsonl", run_cmd(v, out), base.wall,
		     "scan", 2);
	}
	{
		char *v[] = { (char *)bin, "-d", (char *)dir, "timeline",
			      idbuf, NULL };

		line("timeline", run_cmd(v, out), base.wall, "scan", 2);
	}
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		char *v[] = { (char *)bin, "-d", (char *)dir, "report", idbuf,
			      "--format", (char *)formats[i], NULL };

		r = run_cmd(v, out);
		ratio = r.wall / sha.wall;
		above = (r.rss_kb - sha.rss_kb) / 1024;
		size_str(sz, sizeof(sz), r.out_bytes);
		printf("  report --format %-5s %.3fs  %5.2fx scan+SHA  (target "
		       "<= 1.5x: %s)  RSS %ld MB, %+ld vs the scan's (target "
		       "<= +64 MB: %s)  %s\n",
		       formats[i], r.wall, ratio, verdict(ratio, 1.5),
		       r.rss_kb / 1024, above, above <= 64 ? "met" : "NOT MET",
		       sz);
	}
}

static uint64_t
make_shape(const char *mk, const char *dir, const char *shape, uint64_t n)
{
	char cmd[3 * PATH_MAX];
	unsigned long long id = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' '%s' %s %llu", mk, dir, shape,
		 (unsigned long long)n);
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%llu", &id) != 1 || pclose(p)) {
		fprintf(stderr, "bench: %s failed\n", cmd);
		exit(1);
	}
	return id;
}

int
main(int argc, char **argv)
{
	char dir[PATH_MAX] = "/tmp/ir-bench-XXXXXX", self[PATH_MAX],
	     cmd[PATH_MAX + 64];
	struct ir_evlog *log = NULL;
	struct ir_ctx ctx = { 0 };
	uint64_t n, id;
	ssize_t len;
	int rc;

	/* The baseline as its own process: bench_log --scan DIR ID SHA */
	if (argc == 5 && !strcmp(argv[1], "--scan")) {
		bare_scan(argv[2], strtoull(argv[3], NULL, 10),
			  atoi(argv[4]));
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: bench_log INCIDENT_BIN MKINCIDENT "
				"[EVENTS [KEEP_DIR]]\n");
		return 2;
	}
	n = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000;
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return 1;
	self[len] = '\0';
	if (argc > 4)
		snprintf(dir, sizeof(dir), "%s", argv[4]);
	else if (!mkdtemp(dir))
		return 1;
	rc = ir_evlog_open(&log, dir, &ctx);
	if (rc)
		die("open", &ctx, rc);
	bench_durable(log, dir, 300);
	id = bench_group(log, n);
	ir_evlog_close(log);

	printf("\nreading a %llu-event incident, three shapes; each figure "
	       "the best of three runs\n",
	       (unsigned long long)n);
	bench_shape(self, argv[1], dir, id, "output lines of one step", n);
	id = make_shape(argv[2], dir, "notes", n);
	bench_shape(self, argv[1], dir, id, "notes", n);
	id = make_shape(argv[2], dir, "mix", n);
	bench_shape(self, argv[1], dir, id,
		    "mix: 6 output lines, 3 observations, 1 note in 10", n);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (argc <= 4 && system(cmd))
		return 1;
	return 0;
}
