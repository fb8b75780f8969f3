#include "lock.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct ir_lock {
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

int
ir_lock_take(struct ir_lock **out, const char *data_dir, struct ir_ctx *ctx)
{
	struct ir_lock *lock;
	char path[4096], holder[96] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/lock", data_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ir_error_set(ctx, -errno, IR_ORIGIN_OS, errno,
				    "cannot open \"%s\": %s", path,
				    strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno;
		ssize_t n;

		if (err != EWOULDBLOCK) {
			close(fd);
			return ir_error_set(ctx, -err, IR_ORIGIN_OS, err,
					    "cannot lock \"%s\": %s", path,
					    strerror(err));
		}
		n = pread(fd, holder, sizeof(holder) - 1, 0);
		close(fd);
		if (n > 0) {
			holder[n] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
		}
		return ir_error_set(ctx, -EBUSY, IR_ORIGIN_LOCK, 0,
				    "another incident command holds the lock "
				    "(%s)",
				    holder[0] ? holder : "holder unknown");
	}
	lock = malloc(sizeof(*lock));
	if (!lock) {
		close(fd);
		return -ENOMEM;
	}
	lock->fd = fd;
	write_holder(fd, 0);
	*out = lock;
	return 0;
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
	free(lock);
}
