#include "lock.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Two locks, taken in this order.  The data directory itself is flocked:
 * it is what makes the lock exclusive, since an operator who deletes or
 * replaces DATA_DIR/lock to "clear a stale lock" cannot remove it.  The
 * lock file is flocked too, and checked to be the file at its path, for
 * the holder hint it carries and for older binaries that lock only it.
 */
struct ir_lock {
	int dir_fd;
	int fd;
};

static void
write_holder(int fd, uint64_t id)
{
	char line[96];
	int n;

	if (id)
		n = snprintf(line, sizeof(line), "pid %ld incident INC-%llu\n",
			     (long)getpid(), (unsigned long long)id);
	else
		n = snprintf(line, sizeof(line), "pid %ld\n", (long)getpid());
	/* Only a hint for whoever finds the lock taken (the flock is the
	 * lock): not worth a flush on the way to stopping trading. */
	if (ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)n, 0) != n)
		(void)ftruncate(fd, 0);
}

static int
busy(struct ir_ctx *ctx, const char *path)
{
	char holder[96] = "";
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd >= 0) {
		n = pread(fd, holder, sizeof(holder) - 1, 0);
		close(fd);
	}
	if (n > 0) {
		holder[n] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
	}
	return ir_error_set(ctx, -EBUSY, IR_ORIGIN_LOCK, 0,
			    "another incident command holds the lock (%s)",
			    holder[0] ? holder : "holder unknown");
}

static int
os_error(struct ir_ctx *ctx, const char *what, const char *path)
{
	int err = errno;

	return ir_error_set(ctx, -err, IR_ORIGIN_OS, err,
			    "cannot %s \"%s\": %s", what, path,
			    strerror(err));
}

/* Open and flock DATA_DIR/lock, again if it was replaced meanwhile. */
static int
lock_file(const char *path, int *out, struct ir_ctx *ctx)
{
	int tries;

	for (tries = 0; tries < 8; tries++) {
		struct stat held, now;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			      0600);

		if (fd < 0)
			return os_error(ctx, "open", path);
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			int err = errno;

			close(fd);
			if (err == EWOULDBLOCK)
				return busy(ctx, path);
			errno = err;
			return os_error(ctx, "lock", path);
		}
		if (!fstat(fd, &held) && !lstat(path, &now) &&
		    held.st_dev == now.st_dev && held.st_ino == now.st_ino) {
			*out = fd;
			return 0;
		}
		/* Removed or replaced between our open and our flock. */
		close(fd);
	}
	return ir_error_set(ctx, -EAGAIN, IR_ORIGIN_LOCK, 0,
			    "\"%s\" keeps being replaced", path);
}

int
ir_lock_take(struct ir_lock **out, const char *data_dir, struct ir_ctx *ctx)
{
	struct ir_lock *lock = NULL;
	char path[4096];
	int dir_fd, fd = -1, rc;

	snprintf(path, sizeof(path), "%s/lock", data_dir);
	dir_fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return os_error(ctx, "open", data_dir);
	if (flock(dir_fd, LOCK_EX | LOCK_NB)) {
		rc = errno == EWOULDBLOCK ? busy(ctx, path)
					  : os_error(ctx, "lock", data_dir);
		goto out;
	}
	rc = lock_file(path, &fd, ctx);
	if (rc)
		goto out;
	lock = malloc(sizeof(*lock));
	if (!lock) {
		rc = -ENOMEM;
		goto out;
	}
	lock->dir_fd = dir_fd;
	lock->fd = fd;
	write_holder(fd, 0);
	*out = lock;
	return 0;
out:
	if (fd >= 0)
		close(fd);
	close(dir_fd);
	return rc;
}

void
ir_lock_set_incident(struct ir_lock *lock, uint64_t id)
{
	if (lock)
		write_holder(lock->fd, id);
}

void
ir_lock_release(struct ir_lock *lock)
{
	if (!lock)
		return;
	if (ftruncate(lock->fd, 0) != 0) {
		/* The content is advisory: a stale one only misnames a
		 * holder, and the lock itself goes with the fd. */
	}
	close(lock->fd);
	close(lock->dir_fd);
	free(lock);
}

bool
ir_lock_owner_alive(int64_t pid)
{
	char path[64], comm[32] = "";
	ssize_t n;
	int fd;

	if (pid <= 0 || pid == getpid())
		return false;
	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return false;
	/* A pid that was reused by another program is not an owner. */
	snprintf(path, sizeof(path), "/proc/%lld/comm", (long long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return !strcmp(comm, "incident");
}
