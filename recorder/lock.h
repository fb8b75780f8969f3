/*
 * The deployment lock: flock(2) on DATA_DIR/lock, held by the process that
 * changes the deployment.  The file names its holder (pid, incident).
 */
#ifndef IR_LOCK_H
#define IR_LOCK_H

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

#endif
