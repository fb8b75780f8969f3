/* Peak-memory sampling shared by the benchmarks. */
#ifndef IR_BENCH_PROCSTAT_H
#define IR_BENCH_PROCSTAT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* RssAnon of a running process in KiB (heap and stacks, not mapped
 * files), 0 when it cannot be read. */
static inline long
procstat_anon_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "RssAnon:", 8))
			kb = strtol(line + 8, NULL, 10);
	fclose(f);
	return kb;
}

#endif
