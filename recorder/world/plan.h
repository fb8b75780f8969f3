/*
 * The planning world: a wrapper over the real world (wrap.h) that reads
 * what is there (tags, HEAD, the processes, local changes, the config
 * backup, the archives folder) and plans every act instead of doing it.
 * The executor run over it is the dry run: each command is planned as
 * started and exited 0, the trading processes are gone once the stop
 * step's command has been, a checkout moves HEAD only in the plan, archives and files are
 * left as they are, and a health probe answers as the health rule
 * expects.  Nothing is written, spawned or sent.
 */
#ifndef IR_PLAN_H
#define IR_PLAN_H

#include "wrap.h"

struct ir_world_plan {
	struct ir_effects_wrap wrap; /* use wrap.table */
	/* What a planned probe answers: the healthy status and body. */
	long health_status;
	const char *health_body;
	/* Set once the stop step's command has been planned. */
	bool commanded;
	/* HEAD after a planned checkout ("" before one). */
	char head[IR_GIT_OID_HEX];
	char head_subject[256];
};

void ir_world_plan_init(struct ir_world_plan *p, const struct ir_effects *real,
			long health_status, const char *health_body);

#endif
