/*
 * The event log's file as it lies on disk, checked before LMDB maps it
 * (evlog_file.c).  Private to the event log.
 */
#ifndef IR_EVLOG_FILE_H
#define IR_EVLOG_FILE_H

#include <stdbool.h>

#include "error.h"

/* evlog_file.c: hold DATA_DIR/log/data.mdb to its two meta pages before
 * LMDB maps it (a file cut short would fault).  *empty when there is no
 * file yet or it has 0 bytes, and nothing in data_dir says incidents were
 * recorded (LMDB may make it anew).  -EBADMSG with "the event log FILE is
 * damaged: ..." (or "is missing, yet ...") otherwise. */
int ir_evlog_check_file(const char *data_dir, const char *log_dir,
			bool *empty, struct ir_ctx *ctx) IR_WUR;

#endif
