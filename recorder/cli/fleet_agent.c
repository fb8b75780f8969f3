/*
 * `incident fleet agent`: the foreground process on each node (an init
 * system supervises it).  It keeps the node's lease and heartbeat,
 * campaigns for leadership and, leading, carries out ir_fleet_next(); as
 * a node it answers phase 0 with `incident stop` and its wave with
 * `incident rollback TAG --fleet F`, each a child process recorded in
 * this node's own log as any other, then mirrors their digests and
 * writes its fenced status.  What etcd cannot take now (no quorum) is
 * kept and written when it can: the local log is the buffer.
 *
 * An abort reaches a rollback in flight as SIGINT: the executor lets the
 * running step finish, records the interruption and holds there (exit
 * 130, the incident open for resume), trading stopped since phase 0.
 */
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "etcd.h"
#include "fleet.h"
#include "gitops.h"
#include "proc.h"

#define AGENT_MIRRORS 8

static volatile sig_atomic_t agent_signal;

static void
on_signal(int sig)
{
	agent_signal = sig;
}

/* An incident of this node still to be mirrored (all of it, or what
 * etcd could not take yet). */
struct mirror {
	uint64_t inc;
	uint64_t mirrored;
};

struct agent {
	struct cli *cli;
	struct ir_fleet *f;
	const char *fleet;
	const char *node;
	char self[PATH_MAX];
	int64_t ttl_s;
	int64_t last_beat;
	bool leader;
	bool down; /* etcd could not be reached: said once */

	/* The plan this agent works for, and what it did for it. */
	int64_t plan_rev;
	bool ran_stop, ran_rollback;
	struct mirror mirrors[AGENT_MIRRORS];
	size_t n_mirrors;
	bool stop_pending;
	char stop_status[16];
	uint64_t stop_inc;
	bool status_pending;
	struct ir_fleet_view at_slot; /* the view the slot was taken in */
	struct ir_fleet_slot slot;
	char status[16];
	char commit[48];
	char head[IR_SHA256_HEX];
	uint64_t inc, events;

	/* The child running now. */
	pid_t pgid;
	bool interrupted;
	int64_t last_abort_look;
	struct ir_buf out;
};

static void
say_etcd(struct agent *a, const char *what, int rc, const struct ir_ctx *ctx)
{
	if (rc == -ETIMEDOUT || rc == -ECONNREFUSED || rc == -EIO) {
		if (!a->down)
			cli_say(a->cli, "fleet %s: node %s: %s: %s (nothing new "
					"starts; retrying)",
				a->fleet, a->node, what, ir_error_msg(ctx, rc));
		a->down = true;
		return;
	}
	cli_say(a->cli, "fleet %s: node %s: %s: %s", a->fleet, a->node, what,
		ir_error_msg(ctx, rc));
}

static int
beat(struct agent *a, bool force)
{
	struct ir_ctx ctx = { 0 };
	int64_t now = ir_clock_wall();
	bool renewed = false;
	int rc;

	if (!force && now - a->last_beat < a->ttl_s * 1000000000LL / 3)
		return 0;
	rc = ir_fleet_heartbeat(a->f, a->ttl_s, &renewed, &ctx);
	if (rc) {
		say_etcd(a, "heartbeat", rc, &ctx);
		return rc;
	}
	if (a->down)
		cli_say(a->cli, "fleet %s: node %s: etcd answers again (%s)",
			a->fleet, a->node,
			ir_etcd_endpoint(ir_fleet_etcd(a->f)));
	a->down = false;
	a->last_beat = now;
	if (renewed) {
		cli_say(a->cli, "fleet %s: node %s: the lease had expired; a "
				"new one is taken (the slot and leadership it "
				"held are gone)",
			a->fleet, a->node);
		a->leader = false;
	}
	return 0;
}

/* ---- the child --------------------------------------------------------- */

static int
child_spawned(void *payload, pid_t pgid)
{
	struct agent *a = payload;

	a->pgid = pgid;
	return 0;
}

static void
child_line(void *payload, enum ir_proc_stream stream, const char *line,
	   size_t len, bool truncated)
{
	struct agent *a = payload;

	(void)truncated;
	if (stream == IR_PROC_STDOUT) {
		if (ir_buf_add(&a->out, line, len) ||
		    ir_buf_add(&a->out, "\n", 1))
			return; /* the id is near the top; the rest can go */
		return;
	}
	fprintf(stderr, "[%s] %.*s\n", a->node, (int)len, line);
}

/* While the child runs: the heartbeat, and a look for an abort. */
static void
child_tick(void *payload)
{
	struct agent *a = payload;
	int64_t now = ir_clock_wall();
	struct ir_etcd_kvs kvs = { 0 };
	struct ir_ctx ctx = { 0 };
	char key[300];
	int rc;

	rc = beat(a, false);
	(void)rc;
	if (a->interrupted || !a->pgid || now - a->last_abort_look < 200000000)
		return;
	a->last_abort_look = now;
	ir_fleet_key(a->f, key, sizeof(key), "abort");
	rc = ir_etcd_range(ir_fleet_etcd(a->f), key, NULL, &kvs, &ctx);
	if (!rc && kvs.n) {
		cli_say(a->cli, "fleet %s: node %s: aborted: the rollback "
				"finishes its step and holds",
			a->fleet, a->node);
		kill(-a->pgid, SIGINT);
		a->interrupted = true;
	}
	ir_etcd_kvs_clear(&kvs);
}

/* Run `incident ARGS` as a child in this node's data directory: its exit
 * code, and the incident it ran in *inc (0 when none). */
static int
run_child(struct agent *a, const char *args, const char *tag, uint64_t *inc)
{
	struct cli *cli = a->cli;
	struct ir_proc_opts o = IR_PROC_OPTS_INIT;
	struct ir_proc_result r;
	char command[512], e_self[PATH_MAX + 32], e_cfg[PATH_MAX + 32];
	char e_data[PATH_MAX + 32], e_tag[300], e_fleet[128];
	const char *env[] = { e_self, e_cfg, e_data, e_tag, e_fleet, NULL };
	json_t *j;
	int rc;

	snprintf(e_self, sizeof(e_self), "INCIDENT_FLEET_SELF=%s", a->self);
	snprintf(e_cfg, sizeof(e_cfg), "INCIDENT_FLEET_CONFIG=%s",
		 cli->cfg->path);
	snprintf(e_data, sizeof(e_data), "INCIDENT_FLEET_DATA=%s",
		 cli->data_dir);
	snprintf(e_tag, sizeof(e_tag), "INCIDENT_FLEET_TAG=%s", tag);
	snprintf(e_fleet, sizeof(e_fleet), "INCIDENT_FLEET=%s", a->fleet);
	snprintf(command, sizeof(command),
		 "exec \"$INCIDENT_FLEET_SELF\" -c \"$INCIDENT_FLEET_CONFIG\" "
		 "-d \"$INCIDENT_FLEET_DATA\" --json %s",
		 args);
	o.command = command;
	o.env = env;
	o.on_spawn = child_spawned;
	o.on_line = child_line;
	o.on_tick = child_tick;
	o.payload = a;
	a->pgid = 0;
	a->interrupted = false;
	ir_buf_reset(&a->out);
	*inc = 0;
	rc = ir_proc_run(&o, &r, &cli->ctx);
	a->pgid = 0;
	if (rc)
		return rc;
	j = json_loadb((const char *)a->out.data, a->out.len, 0, NULL);
	*inc = (uint64_t)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return r.exit_code;
}

/* ---- the mirror -------------------------------------------------------- */

static void
mirror_add(struct agent *a, uint64_t inc)
{
	if (!inc || a->n_mirrors == AGENT_MIRRORS)
		return;
	a->mirrors[a->n_mirrors].inc = inc;
	a->mirrors[a->n_mirrors].mirrored = 0;
	a->n_mirrors++;
}

/* Mirror what is pending, oldest first; 0 when nothing is left. */
static int
mirror_flush(struct agent *a)
{
	struct ir_evlog *log = NULL;
	struct ir_ctx ctx = { 0 };
	int rc = 0;

	if (!a->n_mirrors)
		return 0;
	rc = ir_evlog_open_readonly(&log, a->cli->data_dir, &ctx);
	while (!rc && a->n_mirrors) {
		rc = ir_fleet_mirror(a->f, log, a->mirrors[0].inc,
				     &a->mirrors[0].mirrored, ir_clock_wall(),
				     &ctx);
		if (rc)
			break;
		memmove(a->mirrors, a->mirrors + 1,
			--a->n_mirrors * sizeof(*a->mirrors));
	}
	ir_evlog_close(log);
	if (rc)
		say_etcd(a, "mirror", rc, &ctx);
	return rc;
}

/* The header of incident inc in this node's log: head and events. */
static void
incident_head(struct agent *a, uint64_t inc)
{
	struct ir_evlog *log = NULL;
	struct ir_incident h;
	struct ir_ctx ctx = { 0 };

	a->head[0] = '\0';
	a->events = 0;
	if (!inc || ir_evlog_open_readonly(&log, a->cli->data_dir, &ctx))
		return;
	if (!ir_evlog_incident(log, inc, &h, &ctx)) {
		ir_hex(a->head, h.head, sizeof(h.head));
		a->events = h.events;
	}
	ir_evlog_close(log);
}

/* The commit deploy.dir is at now (the rollback's target once it
 * succeeded). */
static void
deployed_commit(struct agent *a)
{
	struct ir_git *git = NULL;
	struct ir_ctx ctx = { 0 };
	char commit[IR_GIT_OID_HEX] = "", subject[8];
	bool detached;

	if (!ir_git_open(&git, a->cli->cfg->deploy_dir, &ctx) &&
	    ir_git_head(git, commit, subject, sizeof(subject), &detached,
			&ctx))
		commit[0] = '\0';
	ir_git_close(git);
	snprintf(a->commit, sizeof(a->commit), "%s", commit);
}

/* ---- what is still to be written --------------------------------------- */

static int
flush_pending(struct agent *a, const struct ir_fleet_view *v)
{
	struct ir_ctx ctx = { 0 };
	int rc = mirror_flush(a);

	if (rc)
		return rc;
	if (a->stop_pending) {
		rc = ir_fleet_stopped(a->f, v, a->stop_status, a->stop_inc,
				      ir_clock_wall(), &ctx);
		if (rc == -ECANCELED)
			rc = 0;
		if (rc)
			say_etcd(a, "the stop's answer", rc, &ctx);
		else
			a->stop_pending = false;
	}
	if (!rc && a->status_pending) {
		struct ir_fleet_outcome o = { a->status, a->commit, a->inc,
					      a->head, a->events };

		rc = ir_fleet_status_put(a->f, &a->at_slot, &a->slot, &o,
					 ir_clock_wall(), &ctx);
		if (rc == -ESTALE || rc == -ECANCELED) {
			cli_say(a->cli, "fleet %s: node %s: %s", a->fleet,
				a->node, ir_error_msg(&ctx, rc));
			rc = 0;
		} else if (rc) {
			say_etcd(a, "the status", rc, &ctx);
		} else {
			cli_say(a->cli, "fleet %s: node %s: %s (INC-%llu)",
				a->fleet, a->node, a->status,
				(unsigned long long)a->inc);
		}
		if (!rc)
			a->status_pending = false;
	}
	return rc;
}

/* ---- the node's part --------------------------------------------------- */

static void
do_stop(struct agent *a, const struct ir_fleet_view *v)
{
	uint64_t inc = 0;
	int code;

	cli_say(a->cli, "fleet %s: node %s: phase 0: stopping trading",
		a->fleet, a->node);
	code = run_child(a, "stop --yes --reason \"fleet $INCIDENT_FLEET: "
			    "phase 0\"",
			 v->plan.tag, &inc);
	a->ran_stop = true;
	a->stop_pending = true;
	a->stop_inc = inc;
	snprintf(a->stop_status, sizeof(a->stop_status), "%s",
		 code == 0 ? "succeeded" : "failed");
	mirror_add(a, inc);
}

static void
do_rollback(struct agent *a, const struct ir_fleet_view *v)
{
	struct ir_ctx ctx = { 0 };
	uint64_t inc = 0;
	int rc, code;

	rc = ir_fleet_slot_take(a->f, v, &a->slot, &ctx);
	if (rc == -EAGAIN || rc == -ECANCELED)
		return;
	if (rc) {
		say_etcd(a, "a slot", rc, &ctx);
		return;
	}
	a->at_slot = *v;
	cli_say(a->cli, "fleet %s: node %s: wave %u: slot %u: rolling back "
			"to %s",
		a->fleet, a->node, v->wave, a->slot.index, v->plan.tag);
	code = run_child(a, "rollback \"$INCIDENT_FLEET_TAG\" --fleet "
			    "\"$INCIDENT_FLEET\" --yes",
			 v->plan.tag, &inc);
	a->ran_rollback = true;
	snprintf(a->status, sizeof(a->status), "%s",
		 code == 0 ? "succeeded" : code == 130 ? "held" : "failed");
	a->inc = inc;
	incident_head(a, inc);
	deployed_commit(a);
	mirror_add(a, inc);
	a->status_pending = true;
}

/* A new plan: what this node did for it is read back from etcd (an agent
 * restarted by its supervisor does not run anything twice). */
static void
adopt_plan(struct agent *a, const struct ir_fleet_view *v, int me)
{
	a->plan_rev = v->plan.rev;
	a->ran_stop = me >= 0 && v->node[me].stopped;
	a->ran_rollback = me >= 0 && (v->node[me].reported ||
				      v->node[me].unknown);
	a->stop_pending = false;
	a->status_pending = false;
}

static void
lead(struct agent *a, const struct ir_fleet_view *v, bool *acted)
{
	struct ir_fleet_next n;
	struct ir_ctx ctx = { 0 };
	int64_t now = ir_clock_wall();
	int rc;

	ir_fleet_next(v, now, &n);
	if (n.act == IR_FLEET_WAIT)
		return;
	rc = ir_fleet_lead(a->f, v, &n, now, &ctx);
	if (rc == -ESTALE) {
		a->leader = false;
		return;
	}
	if (rc) {
		say_etcd(a, "leading", rc, &ctx);
		return;
	}
	*acted = true;
	if (n.act == IR_FLEET_MARK_UNKNOWN)
		cli_say(a->cli, "fleet %s: leader %s: node %s is unknown: %s",
			a->fleet, a->node, v->plan.node[n.node], n.why);
	else if (n.act == IR_FLEET_START_WAVE)
		cli_say(a->cli, "fleet %s: leader %s: wave %u starts (%s)",
			a->fleet, a->node, n.wave, n.why);
	else if (n.act == IR_FLEET_ABORT)
		cli_say(a->cli, "fleet %s: leader %s: abort: %s", a->fleet,
			a->node, n.why);
	else if (n.act == IR_FLEET_FINISH)
		cli_say(a->cli, "fleet %s: leader %s: the run is over: %s (%s)",
			a->fleet, a->node, n.status, n.why);
}

/* One round: heartbeat, election, the snapshot, what to do. */
static void
round_once(struct agent *a, int64_t *rev, bool *acted)
{
	struct ir_fleet_view v;
	struct ir_ctx ctx = { 0 };
	bool was = a->leader;
	int me, rc;

	if (beat(a, false))
		return;
	rc = ir_fleet_campaign(a->f, &a->leader, &ctx);
	if (rc) {
		say_etcd(a, "the election", rc, &ctx);
		return;
	}
	if (a->leader && !was)
		cli_say(a->cli, "fleet %s: node %s leads", a->fleet, a->node);
	rc = ir_fleet_read(a->f, &v, rev, &ctx);
	if (rc) {
		say_etcd(a, "reading the fleet", rc, &ctx);
		return;
	}
	if (!v.have_plan)
		return;
	me = a->node ? ir_fleet_plan_node(&v.plan, a->node) : -1;
	if (v.plan.rev != a->plan_rev)
		adopt_plan(a, &v, me);
	if (flush_pending(a, &v))
		return;
	if (a->leader)
		lead(a, &v, acted);
	if (*acted || me < 0)
		return;
	switch (ir_fleet_node_next(&v, (size_t)me, a->ran_stop,
				   a->ran_rollback)) {
	case IR_FLEET_NODE_STOP:
		do_stop(a, &v);
		*acted = true;
		break;
	case IR_FLEET_NODE_ROLLBACK:
		do_rollback(a, &v);
		*acted = a->ran_rollback;
		break;
	case IR_FLEET_NODE_IDLE:
		break;
	}
}

static void
arm(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int
cli_fleet_agent(struct cli *cli)
{
	struct agent a = { .cli = cli, .fleet = "default" };
	ssize_t n;
	int i, rc;

	for (i = 2; i < cli->argc; i++) {
		int r = cli_value(cli, &i, "--fleet", &a.fleet);

		if (r < 0)
			return IR_EXIT_USAGE;
		if (!r)
			return cli_unexpected(cli, i);
	}
	rc = cli_fleet_open(cli, a.fleet, true, &a.f);
	if (rc)
		return cli_fail(cli, rc);
	if (!cli->cfg->path) {
		ir_fleet_close(a.f);
		return cli_usage(cli, "fleet agent needs a configuration file");
	}
	n = readlink("/proc/self/exe", a.self, sizeof(a.self) - 1);
	if (n <= 0) {
		ir_fleet_close(a.f);
		return cli_fail(cli, ir_error_set(&cli->ctx, -errno,
						  IR_ORIGIN_OS, errno,
						  "/proc/self/exe: %s",
						  strerror(errno)));
	}
	a.self[n] = '\0';
	a.node = cli->cfg->fleet_node;
	a.ttl_s = (int64_t)(cli->cfg->fleet_lease_ms + 999) / 1000;
	a.out = (struct ir_buf)IR_BUF_INIT(IR_LIMIT_HTTP_BODY_READ);
	arm();
	cli_say(cli, "fleet %s: agent for node %s (pid %ld, lease %llds)",
		a.fleet, a.node, (long)getpid(), (long long)a.ttl_s);
	while (!agent_signal) {
		struct ir_ctx ctx = { 0 };
		int64_t rev = 0;
		bool acted = false;

		round_once(&a, &rev, &acted);
		if (acted || agent_signal)
			continue;
		if (a.down || !rev) {
			usleep(200000);
			continue;
		}
		/* Until a key changes, or a beat is due. */
		rc = ir_fleet_wait(a.f, rev, 1000, &ctx);
		if (rc < 0)
			usleep(200000);
	}
	cli_say(cli, "fleet %s: node %s: agent ends (signal %d)", a.fleet,
		a.node, (int)agent_signal);
	ir_buf_clear(&a.out);
	ir_fleet_close(a.f);
	return IR_EXIT_OK;
}
