/*
 * Looking at processes through /proc: the ones whose command line matches
 * a pattern, and whether a process group still has a live member (waiting
 * for it, then ending it).  The spawning half is proc.c.
 */
#include "proc_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "ir_limits.h"

static int
cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* A /proc entry name that is a pid, or 0. */
static pid_t
proc_entry_pid(const char *name)
{
	char *end;
	long v;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	errno = 0;
	v = strtol(name, &end, 10);
	if (errno || *end || v <= 0 || (pid_t)v != v)
		return 0;
	return (pid_t)v;
}

/* The command line of pid, arguments joined by spaces, into buf (which
 * holds IR_LIMIT_CMDLINE + 1 bytes).  0 with *len == 0 for a kernel thread
 * or a zombie; -errno when it is gone or unreadable. */
static int
read_cmdline(pid_t pid, char *buf, size_t *len)
{
	char path[64];
	size_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < IR_LIMIT_CMDLINE) {
		ssize_t r = read(fd, buf + n, IR_LIMIT_CMDLINE - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = -errno;

			close(fd);
			return rc;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n && buf[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
	}
	buf[n] = '\0';
	*len = n;
	return 0;
}

int
ir_proc_find(const char *pattern, pid_t *pids, size_t max, size_t *n,
	     struct ir_ctx *ctx)
{
	regex_t re;
	bool re_ok = false;
	DIR *dir = NULL;
	char *cmd = NULL;
	pid_t *found = NULL, self = getpid();
	size_t nfound = 0, cap = 0;
	struct dirent *de;
	int rc;

	if (!pattern || !n || (max && !pids))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "process search without a pattern");
	rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char msg[128];

		regerror(rc, &re, msg, sizeof(msg));
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_CONFIG, rc,
				    "bad process pattern '%s': %s", pattern,
				    msg);
	}
	re_ok = true;
	cmd = malloc(IR_LIMIT_CMDLINE + 1);
	if (!cmd) {
		rc = ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS, ENOMEM,
				  "out of memory for a command line");
		goto done;
	}
	dir = opendir("/proc");
	if (!dir) {
		rc = -errno;
		ir_error_set(ctx, rc, IR_ORIGIN_OS, errno, "/proc: %s",
			     strerror(errno));
		goto done;
	}
	for (;;) {
		pid_t pid;
		size_t len = 0;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno) {
				rc = -errno;
				ir_error_set(ctx, rc, IR_ORIGIN_OS, errno,
					     "reading /proc: %s",
					     strerror(errno));
				goto done;
			}
			break;
		}
		pid = proc_entry_pid(de->d_name);
		/* Never pid 1 (a match-everything pattern would wait on
		 * init, and hand it to the stop) nor ourselves. */
		if (pid <= 1 || pid == self)
			continue;
		/* Gone meanwhile, or not ours to read: not a match. */
		if (read_cmdline(pid, cmd, &len) < 0 || !len)
			continue;
		if (regexec(&re, cmd, 0, NULL, 0))
			continue;
		if (nfound == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			pid_t *grown = realloc(found, ncap * sizeof(*found));

			if (!grown) {
				rc = ir_error_set(ctx, -ENOMEM, IR_ORIGIN_OS,
						  ENOMEM,
						  "out of memory for pids");
				goto done;
			}
			found = grown;
			cap = ncap;
		}
		found[nfound++] = pid;
	}
	if (nfound)
		qsort(found, nfound, sizeof(*found), cmp_pid);
	for (size_t i = 0; i < nfound && i < max; i++)
		pids[i] = found[i];
	*n = nfound;
	rc = 0;
done:
	if (dir)
		closedir(dir);
	if (re_ok)
		regfree(&re);
	free(found);
	free(cmd);
	return rc;
}

/* Whether a zombie thread-group leader still has live threads. */
static bool
zombie_has_threads(pid_t pid)
{
	char path[64], line[128];
	bool threads = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		int count;

		if (sscanf(line, "Threads: %d", &count) == 1) {
			threads = count > 1;
			break;
		}
	}
	fclose(f);
	return threads;
}

/*
 * kill(-pgid, 0) also succeeds for zombies.  A member that is a zombie
 * waiting for a parent that is not us (an orphaned daemon, reparented to an
 * init that reaps lazily) has already ended: look for a member that has
 * not.  When /proc cannot be read, trust kill().
 */
static bool
group_has_live_member(pid_t pgid)
{
	struct dirent *de;
	bool live = false;
	DIR *dir = opendir("/proc");

	if (!dir)
		return true;
	while (!live) {
		char path[64], buf[512];
		const char *rp;
		char state;
		int ppid, pgrp;
		ssize_t r;
		pid_t pid;
		int fd;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			/* A scan cut short proves nothing: assume alive. */
			live = errno != 0;
			break;
		}
		pid = proc_entry_pid(de->d_name);
		if (!pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		/* "pid (comm) S ppid pgrp ...": comm may hold anything. */
		rp = strrchr(buf, ')');
		if (!rp ||
		    sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
			continue;
		if (pgrp != pgid)
			continue;
		live = (state != 'Z' && state != 'X') ||
		       zombie_has_threads(pid);
	}
	closedir(dir);
	return live;
}

bool
ir_proc_group_alive(pid_t pgid)
{
	/* Never kill(0) or kill(-1): those mean our group and everyone. */
	if (pgid <= 1)
		return false;
	/* Our own zombies in the group: reap them, they are gone. */
	for (;;) {
		pid_t w = waitpid(-pgid, NULL, WNOHANG);

		if (w > 0 || (w < 0 && errno == EINTR))
			continue;
		break;
	}
	if (kill(-pgid, 0) < 0 && errno != EPERM)
		return false;
	return group_has_live_member(pgid);
}

void
ir_proc_wait_gone(const pid_t *pids, size_t n, uint64_t ms)
{
	struct pollfd fds[IR_LIMIT_PIDS];
	uint64_t deadline = ir_clock_mono() + ms * 1000000;
	size_t i, k, left = 0;

	for (i = 0; i < n && i < IR_LIMIT_PIDS; i++) {
		int fd = pidfd_open(pids[i], 0);

		if (fd >= 0) {
			fds[left].fd = fd;
			fds[left].events = POLLIN;
			left++;
		} else if (errno != ESRCH) { /* no pidfds: sleep instead */
			for (k = 0; k < left; k++)
				close(fds[k].fd);
			ir_sleep_ms(ms);
			return;
		}
	}
	/* A pidfd is readable once its process has exited.  A signal ends
	 * the wait early: the caller looks again. */
	while (left) {
		uint64_t now = ir_clock_mono();

		if (now >= deadline ||
		    poll(fds, left, (int)((deadline - now + 999999) / 1000000)) <
			    0)
			break;
		for (i = k = 0; i < left; i++) {
			if (fds[i].revents)
				close(fds[i].fd);
			else
				fds[k++] = fds[i];
		}
		left = k;
	}
	for (i = 0; i < left; i++)
		close(fds[i].fd);
}

int
ir_proc_group_reap(pid_t pgid, uint64_t wait_ms, uint64_t grace_ms)
{
	uint64_t since = ir_clock_mono();
	int phase = 0; /* 0: waiting, 1: SIGTERM sent, 2: SIGKILL sent */

	if (pgid <= 1)
		return -EINVAL;
	while (ir_proc_group_alive(pgid)) {
		uint64_t now = ir_clock_mono();
		uint64_t waited = now > since ? (now - since) / 1000000 : 0;

		if (phase == 0 && waited >= wait_ms) {
			kill(-pgid, SIGTERM);
			phase = 1;
			since = now;
			continue;
		}
		if (phase == 1 && waited >= grace_ms) {
			kill(-pgid, SIGKILL);
			phase = 2;
			since = now;
			continue;
		}
		if (phase == 2 && waited >= IR_PROC_REAP_KILL_WAIT_MS)
			return -ETIMEDOUT;
		ir_sleep_ms(IR_PROC_REAP_POLL_MS);
	}
	return 0;
}
