/*
 * The deployment lock, held by the process that changes the deployment:
 * flock(2) on the data directory itself (so deleting or replacing the lock
 * file frees nothing) and on DATA_DIR/lock, which names its holder (pid,
 * incident).
 */
#ifndef IR_LOCK_H
#define IR_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct ir_lock;

/* Take the lock without waiting.  -EBUSY when another process holds it;
 * ctx then names the holder's pid and incident. */
int ir_lock_take(struct ir_lock **out, const char *data_dir,
		 struct ir_ctx *ctx) IR_WUR;
/* Record the incident the holder works on (shown to the next comer). */
void ir_lock_set_incident(struct ir_lock *lock, uint64_t id);
/* Release and free; NULL-safe. */
void ir_lock_release(struct ir_lock *lock);

/* Whether pid (an incident's recorded owner) is a live incident process
 * other than us: then its incident must not be resumed, lock or not. */
bool ir_lock_owner_alive(int64_t pid);

#endif
