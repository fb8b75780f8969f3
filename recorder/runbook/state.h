/*
 * The state of an incident is a fold of its events: nothing the executor
 * decides comes from anywhere else.  ir_state_apply() is the whole fold.
 */
#ifndef IR_STATE_H
#define IR_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"

enum ir_step {
	IR_STEP_STOP,
	IR_STEP_BACKUP,
	IR_STEP_CHECKOUT,
	IR_STEP_CONFIG,
	IR_STEP_DATABASE,
	IR_STEP_START,
	IR_STEP_HEALTH,
	IR_STEP_VERIFY,
	IR_STEP_REPORT,
	IR_STEP_RESTORE,
	IR_STEP_MIGRATE, /* deploy: deploy.migrate */
	IR_STEP_SOAK,    /* deploy: health kept polling for deploy.soak */
	IR_STEP__COUNT,
	IR_STEP_NONE = -1,
};

enum ir_step_status {
	IR_STEP_PENDING,
	IR_STEP_RUNNING,
	IR_STEP_DONE,
	IR_STEP_FAILED,
	IR_STEP_SKIPPED,
};

enum ir_answer {
	IR_ANSWER_NONE,
	IR_ANSWER_YES,
	IR_ANSWER_NO,
};

struct ir_step_state {
	enum ir_step_status status;
	unsigned attempts;       /* step.started count */
	unsigned session;        /* session of the last step.started */
	bool interrupted;        /* the last attempt was cut off by a crash */
	int64_t pgid;            /* of the last attempt's latest command,
				  * 0 when none */
	bool escalated;          /* the last attempt escalated (stop) */
	uint64_t budget_ms;
	uint64_t started_mono;   /* ns */
	int64_t started_ts;      /* ns since the epoch */
	uint64_t started_seq;
	enum ir_answer decision; /* the answer gating this step */
	unsigned decision_session;
	char error[512];         /* step.failed's error, whole */
};

struct ir_state {
	bool opened;
	bool closed;
	char kind[16];
	char status[16];       /* open, succeeded, failed, aborted */
	unsigned session;      /* 1, +1 per incident.resumed */
	uint64_t last_seq;
	int64_t opened_ts;
	uint64_t last_mono;
	int64_t last_ts;
	uint64_t budget_ms;    /* the whole incident's budget */
	int64_t owner_pid;     /* of the process that opened or last
				* resumed it */

	/* What the command was asked (incident.opened data.options). */
	char opt_tag[256];
	bool opt_force;
	bool opt_with_db;
	bool opt_no_backup;
	char opt_archive[1024];
	char opt_to[1024];
	char opt_sha256[65];   /* restore: the archive's recorded SHA-256 */

	char from[256];
	char target[256];
	char from_commit[41];
	char target_commit[41];
	char backup_path[1024]; /* archive of this incident, if any */

	/* incident.interrupted in this session: nothing more is done until
	 * incident.resumed clears it.  The step it names stays for the
	 * resume to record. */
	bool interrupted;
	char interrupted_step[16];

	long last_http_status;
	/* The last checkpoint event that names a signed one. */
	uint64_t checkpoint_size;
	uint8_t checkpoint_root[32];
	bool checkpointed;
	struct ir_step_state steps[IR_STEP__COUNT];
};

/* The step's name as in the log ("stop", ...); NULL for a bad value. */
const char *ir_step_name(enum ir_step step);
/* The step for a name; IR_STEP_NONE when unknown. */
enum ir_step ir_step_from_name(const char *name);

/* An empty state (no events). */
void ir_state_init(struct ir_state *st);

/* Fold one event into the state.  Unknown types are ignored, so that logs
 * written by newer versions still fold. */
void ir_state_apply(struct ir_state *st, const struct ir_event *ev);

#endif
