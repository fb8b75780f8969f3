/*
 * The steps that look rather than act: health (probing until healthy),
 * verify (HEAD, the log tail, one more probe) and report (the report file,
 * derived from the log).
 */
#include "steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir_limits.h"

/* ---- health and verify ------------------------------------------------- */

/* The least time a probe after the first is given. */
#define HEALTH_LAST_PROBE_MS 100

/* One probe, recorded with the health rule's verdict and its reason. */
static int
probe(struct ir_attempt *a, uint64_t remaining_ms, bool *ok, char *why,
      size_t cap)
{
	const struct ir_config *cfg = a->run->cfg;
	struct ir_http_result r;
	struct ir_health_expect want;
	struct ir_ctx local = { 0 };
	struct ir_val *d;
	uint64_t total = remaining_ms < 2000 ? remaining_ms : 2000;
	uint64_t conn = total < 1000 ? total : 1000;
	int rc;

	if (!total)
		total = conn = 1;
	memset(&r, 0, sizeof(r));
	rc = a->run->fx->http_get(a->run->fx->self, cfg->health_url, conn,
				  total, &r, &local);
	want.status = cfg->health_expect_status;
	want.body = cfg->health_expect_body;
	want.timeout_ms = total;
	*ok = ir_health_judge(&want, rc, &r, why, cap);
	d = ir_val_map_new();
	ir_val_set_str(d, "url", cfg->health_url);
	ir_val_set_int(d, "status", rc ? 0 : r.status);
	ir_val_set_uint(d, "latency_us", r.latency_us);
	if (!rc)
		ir_val_set_strn(d, "body", r.body, r.body_len);
	else
		ir_val_set_str(d, "error",
			       r.error[0] ? r.error : ir_error_msg(&local, rc));
	ir_val_set_bool(d, "healthy", *ok);
	ir_val_set_str(d, "why", why);
	return ir_attempt_observe(a, "http", d);
}

int
ir_step_health(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_config *cfg = run->cfg;
	struct ir_attempt a;
	/* A probe of a port nobody listens on yet costs a few microseconds:
	 * retry at once and often (1, 2, 4 ms ...: a node just started
	 * listens within a few), then back off to 1 s. */
	uint64_t delay = 1;
	unsigned probes = 0;
	char why[IR_HEALTH_WHY] = "";
	char budget[32];
	bool ok = false;
	int rc;

	ir_attempt_init(&a, run, IR_STEP_HEALTH, cfg->health_budget_ms, ctx);
	rc = ir_attempt_start(&a, NULL, 0);
	while (!rc) {
		uint64_t spent = ir_attempt_elapsed_ms(&a);

		rc = probe(&a, spent < a.budget_ms ? a.budget_ms - spent : 0,
			   &ok, why, sizeof(why));
		probes++;
		if (rc || ok)
			break;
		/* Another probe only with time left to answer it: one cut
		 * short by the end of the budget would say "timed out" and
		 * hide what the node last answered. */
		spent = ir_attempt_elapsed_ms(&a);
		if (spent + HEALTH_LAST_PROBE_MS >= a.budget_ms)
			break;
		/* Interrupted: no more probes; the resume probes anew. */
		if (ir_step_interrupted(run, NULL))
			return ir_attempt_interrupt(&a, -2, false,
						    "interrupted after %u "
						    "probe%s (last: %s)",
						    probes,
						    probes == 1 ? "" : "s",
						    why);
		if (delay > a.budget_ms - spent - HEALTH_LAST_PROBE_MS)
			delay = a.budget_ms - spent - HEALTH_LAST_PROBE_MS;
		run->fx->sleep_ms(run->fx->self, delay);
		delay = delay * 2 > 1000 ? 1000 : delay * 2;
		rc = ir_rec_tick(run->rec, ctx);
	}
	if (rc)
		return rc;
	if (!ok) {
		ir_duration_format(budget, sizeof(budget), a.budget_ms);
		return ir_attempt_fail(&a, -2,
				       "not healthy within %s after %u "
				       "probe%s: %s",
				       budget, probes, probes == 1 ? "" : "s",
				       why);
	}
	return ir_attempt_complete(&a);
}

int
ir_step_verify(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_effects *fx = run->fx;
	const struct ir_config *cfg = run->cfg;
	struct ir_attempt a;
	char path[4096];
	char why[IR_HEALTH_WHY] = "";
	struct ir_val *d;
	unsigned mode;
	bool ok = false;
	int rc;

	ir_attempt_init(&a, run, IR_STEP_VERIFY, cfg->verify_budget_ms, ctx);
	rc = ir_attempt_start(&a, NULL, 0);
	if (!rc)
		rc = ir_step_verify_git(&a);
	if (rc)
		return rc;
	if (cfg->verify_log[0] == '/')
		snprintf(path, sizeof(path), "%s", cfg->verify_log);
	else
		snprintf(path, sizeof(path), "%s/%s", cfg->deploy_dir,
			 cfg->verify_log);
	d = ir_val_map_new();
	ir_val_set_str(d, "path", cfg->verify_log);
	ir_val_set_bool(d, "exists", !fx->file_mode(fx->self, path, &mode));
	ir_val_set_take(d, "lines",
			fx->log_tail(fx->self, path, cfg->verify_lines));
	rc = ir_attempt_observe(&a, "log", d);
	if (!rc)
		rc = probe(&a, cfg->verify_budget_ms, &ok, why, sizeof(why));
	if (rc)
		return rc;
	if (!ok)
		return ir_attempt_fail(&a, -2,
				       "not healthy during verification: %s",
				       why);
	return ir_attempt_complete(&a);
}

/* ---- soak (deploy) ------------------------------------------------------ */

/*
 * After a deploy's health passed, the probe keeps polling every
 * deploy.soak-interval for deploy.soak; every probe is recorded, and one
 * that fails the health rule fails the soak (and so the deploy).  Its
 * budget is the soak plus one interval.
 */
int
ir_step_soak(struct ir_run *run, struct ir_ctx *ctx)
{
	const struct ir_config *cfg = run->cfg;
	uint64_t interval = cfg->deploy_soak_interval_ms;
	struct ir_attempt a;
	char why[IR_HEALTH_WHY] = "", soak[32];
	unsigned probes = 0;
	bool ok = true;
	int rc;

	if (!cfg->deploy_soak_ms) {
		struct ir_val *d = ir_val_map_new();

		ir_val_set_str(d, "why", "deploy.soak is not set");
		return ir_rec_emit(run->rec, "step.skipped", "soak", d, ctx);
	}
	ir_attempt_init(&a, run, IR_STEP_SOAK, cfg->deploy_soak_ms + interval,
			ctx);
	rc = ir_attempt_start(&a, NULL, 0);
	while (!rc && ok) {
		uint64_t spent = ir_attempt_elapsed_ms(&a), next;

		if (spent >= cfg->deploy_soak_ms)
			break;
		if (ir_step_interrupted(run, NULL))
			return ir_attempt_interrupt(&a, -2, false,
						    "interrupted after %u "
						    "probe%s of the soak",
						    probes,
						    probes == 1 ? "" : "s");
		next = cfg->deploy_soak_ms - spent;
		run->fx->sleep_ms(run->fx->self,
				  interval < next ? interval : next);
		rc = ir_rec_tick(run->rec, ctx);
		if (!rc)
			rc = probe(&a, interval, &ok, why, sizeof(why));
		probes++;
	}
	if (rc)
		return rc;
	ir_duration_format(soak, sizeof(soak), cfg->deploy_soak_ms);
	if (!ok)
		return ir_attempt_fail(&a, -2,
				       "unhealthy during the soak (probe %u of "
				       "%s): %s",
				       probes, soak, why);
	return ir_attempt_complete(&a);
}

/* ---- report ------------------------------------------------------------ */

int
ir_step_report(struct ir_run *run, struct ir_ctx *ctx)
{
	struct ir_attempt a;
	struct ir_ctx local = { 0 };
	struct ir_val *d;
	char path[4096];
	int rc;

	ir_attempt_init(&a, run, IR_STEP_REPORT, run->cfg->report_budget_ms,
			ctx);
	rc = ir_attempt_start(&a, NULL, 0);
	if (rc)
		return rc;
	if (!run->fx->report_write)
		return ir_attempt_fail(&a, -2, "no report writer");
	rc = run->fx->report_write(run->fx->self, ir_rec_id(run->rec),
				   &local);
	if (rc)
		return ir_attempt_fail(&a, -2, "cannot write the report: %s",
				       ir_error_msg(&local, rc));
	snprintf(path, sizeof(path), "%s/reports/INC-%llu.md", run->data_dir,
		 (unsigned long long)ir_rec_id(run->rec));
	d = ir_val_map_new();
	ir_val_set_str(d, "path", path);
	ir_val_set_bool(d, "exists", true);
	rc = ir_attempt_observe(&a, "file", d);
	return rc ? rc : ir_attempt_complete(&a);
}
