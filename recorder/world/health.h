/*
 * HTTP (libcurl): the health probe and webhook notifications.  The only
 * module that includes <curl/curl.h>.  libcurl is loaded (dlopen) when
 * first needed, or ahead of time by ir_http_preload().
 */
#ifndef IR_HEALTH_H
#define IR_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ir_limits.h"

struct ir_http_result {
	long status;         /* HTTP status; 0 when no response */
	uint64_t latency_us; /* request start to response end */
	char body[IR_LIMIT_HTTP_BODY_KEPT + 1]; /* first bytes, NUL-ended */
	size_t body_len;     /* bytes kept in body */
	bool body_truncated;
	char error[256];     /* why there was no response */
};

/* GET url (http or https only, no redirects, no proxy from the
 * environment) with connect and total timeouts.  0 when a response came
 * back, whatever its status; -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH,
 * -EPROTO otherwise, with out->error set.  -EINVAL for another scheme. */
int ir_http_get(const char *url, uint64_t connect_timeout_ms,
		uint64_t timeout_ms, struct ir_http_result *out,
		struct ir_ctx *ctx) IR_WUR;

/* POST a JSON body to url (a webhook), same rules.  0 on a 2xx answer. */
int ir_http_post_json(const char *url, const char *json, uint64_t timeout_ms,
		      struct ir_ctx *ctx) IR_WUR;

struct ir_buf;

/* An exchange with a JSON service (etcd's gateway): POST json to url with
 * connect and total timeouts; the answer's body goes into out (reset
 * first; -ENOSPC past its cap).  enough (may be NULL) is asked after each
 * piece of the body: true ends the transfer there, as a success (a watch's
 * stream).  *status gets the HTTP status (0 without an answer).  Errors as
 * ir_http_get's, the message starting with what. */
int ir_http_exchange(const char *url, const char *json, uint64_t connect_ms,
		     uint64_t timeout_ms, const char *what, struct ir_buf *out,
		     bool (*enough)(void *payload, const struct ir_buf *body),
		     void *payload, long *status, struct ir_ctx *ctx) IR_WUR;

/* Room for ir_health_judge()'s reason. */
#define IR_HEALTH_WHY 320

/* What a healthy answer looks like (from [health]). */
struct ir_health_expect {
	long status;          /* expect-status */
	const char *body;     /* expect-body substring; NULL or "" for none */
	uint64_t timeout_ms;  /* the probe's total timeout, for the reason */
};

/* The one health rule, for the health step, the verify step's probe and
 * `incident status`: judge a probe (get_rc is what ir_http_get returned,
 * r what it filled in).  True when healthy.  why (cap bytes, may be NULL)
 * gets the reason in words either way: "status 200", "status 503,
 * expected 200", "body lacks \"ok\"", "timed out after 1000 ms",
 * "connection refused", "no answer: ...". */
bool ir_health_judge(const struct ir_health_expect *want, int get_rc,
		     const struct ir_http_result *r, char *why, size_t cap);

/* Start loading libcurl on a thread now, so that the first request does
 * not wait for it.  Idempotent; a load that fails is reported by the
 * first request (-ENOSYS). */
void ir_http_preload(void);

/* Wait for a preload still running (before the process exits). */
void ir_http_release(void);

#endif
