/*
 * runstat CMD ARGS...: run a command, then print "WALL_MS MAXRSS_KB
 * PEAK_ANON_KB" on stderr: its wall time, its peak resident set (as the
 * kernel counts it, file-backed mapped pages included) and its peak
 * anonymous memory (heap and stacks, sampled every 2 ms from
 * /proc/PID/status).  Its exit status is passed on.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"

int
main(int argc, char **argv)
{
	struct timespec t0, t1, nap = { 0, 2000000 };
	struct rusage ru;
	long peak = 0, kb;
	int status = 0;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: runstat CMD ARGS...\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	for (;;) {
		pid_t r = wait4(pid, &status, WNOHANG, &ru);

		if (r == pid)
			break;
		kb = procstat_anon_kb(pid);
		if (kb > peak)
			peak = kb;
		nanosleep(&nap, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%ld %ld %ld\n",
		(long)((t1.tv_sec - t0.tv_sec) * 1000 +
		       (t1.tv_nsec - t0.tv_nsec) / 1000000),
		ru.ru_maxrss, peak);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
