/*
 * HTTP through libcurl: one easy handle per request, http and https only,
 * no redirects, no proxy from the environment, bounded body.  Every
 * CURLcode is translated in fail(), and only there.
 *
 * libcurl is loaded when first needed, not linked: it brings some thirty
 * shared libraries (TLS, LDAP, Kerberos, IDN, ...) whose loading cost a
 * rollback about 6 ms before it could do anything.  ir_http_preload()
 * loads it on a thread while the rollback stops trading; the first request
 * waits for that thread, or loads it itself.
 */
#include "health.h"

#include <curl/curl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "lazylib.h"

#ifndef IR_VERSION
#define IR_VERSION "dev"
#endif

/* The libcurl functions we call, found by name when it is loaded. */
#define CURL_API(X)                                                           \
	X(curl_global_init)                                                   \
	X(curl_easy_init)                                                     \
	X(curl_easy_setopt)                                                   \
	X(curl_easy_perform)                                                  \
	X(curl_easy_getinfo)                                                  \
	X(curl_easy_cleanup)                                                  \
	X(curl_easy_strerror)                                                 \
	X(curl_slist_append)                                                  \
	X(curl_slist_free_all)

static struct {
#define SLOT(f) __typeof__(f) *f;
	CURL_API(SLOT)
#undef SLOT
} api;

static int
bind_curl(void *handle, char *error, size_t cap)
{
	CURLcode cc;

#define FIND(f)                                                               \
	if (!ir_lazylib_find(handle, #f, &api.f, error, cap))                 \
		return -1;
	CURL_API(FIND)
#undef FIND
	cc = api.curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK) {
		snprintf(error, cap, "libcurl did not initialise: %s",
			 api.curl_easy_strerror(cc));
		return -1;
	}
	return 0;
}

/* libcurl's ABI has been .so.4 since 2006. */
static struct ir_lazylib curl_lib = IR_LAZYLIB_INIT("libcurl.so.4",
						    bind_curl);

void
ir_http_preload(void)
{
	ir_lazylib_preload(&curl_lib);
}

void
ir_http_release(void)
{
	ir_lazylib_release(&curl_lib);
}

/* A request as one adapter call sees it. */
struct request {
	const char *url;
	const char *json; /* POST body; NULL for GET */
	long connect_timeout_ms;
	long timeout_ms;
	bool webhook;     /* the URL is a secret: never in a message */
	const char *what; /* names the request in messages; NULL: probe */
};

/* The body as it arrives: the first bytes kept, the rest counted up to
 * the read cap, where the transfer is stopped on purpose. */
struct sink {
	char *body;
	size_t kept;
	size_t keep_max;
	size_t read;
	bool truncated;
	bool capped;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *payload)
{
	struct sink *s = payload;
	size_t n = size * nmemb, keep = s->keep_max - s->kept;

	if (keep > n)
		keep = n;
	if (keep) {
		memcpy(s->body + s->kept, data, keep);
		s->kept += keep;
		s->body[s->kept] = '\0';
	}
	if (keep < n)
		s->truncated = true;
	s->read += n;
	if (s->read >= IR_LIMIT_HTTP_BODY_READ) {
		s->capped = true;
		return 0; /* CURLE_WRITE_ERROR: read no more */
	}
	return n;
}

/* The one place a CURLcode becomes ours. */
static int
fail(struct ir_ctx *ctx, CURLcode cc, const struct request *rq,
     const char *errbuf, char *error, size_t error_cap)
{
	const char *why = errbuf && errbuf[0] ? errbuf : api.curl_easy_strerror(cc);
	int code;

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		code = -ECONNREFUSED;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		code = -ETIMEDOUT;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		code = -EHOSTUNREACH;
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		code = -EINVAL;
		break;
	case CURLE_OUT_OF_MEMORY:
		code = -ENOMEM;
		break;
	default:
		code = -EPROTO;
		break;
	}
	/* curl's own buffer may quote parts of the URL; a webhook gets only
	 * the generic text for the code. */
	if (rq->webhook)
		why = api.curl_easy_strerror(cc);
	if (error && error_cap)
		snprintf(error, error_cap, "%s", why);
	if (rq->webhook)
		return ir_error_set(ctx, code, IR_ORIGIN_CURL, (int)cc,
				    "webhook: %s", why);
	if (rq->what)
		return ir_error_set(ctx, code, IR_ORIGIN_CURL, (int)cc,
				    "%s: %s", rq->what, why);
	return ir_error_set(ctx, code, IR_ORIGIN_CURL, (int)cc,
			    "health probe: %s", why);
}

static bool
scheme_ok(const char *url)
{
	return !strncasecmp(url, "http://", 7) ||
	       !strncasecmp(url, "https://", 8);
}

static long
clamp_ms(uint64_t ms)
{
	return ms > LONG_MAX ? LONG_MAX : (long)ms;
}

/* The options every request shares; rq->json makes it a POST. */
static CURLcode
setup(CURL *h, const struct request *rq, char *errbuf,
      struct curl_slist *headers, curl_write_callback on_data, void *sink)
{
	CURLcode cc = CURLE_OK;

/* In parentheses: curl.h makes curl_easy_setopt and _getinfo macros. */
#define SET(opt, val)                                                         \
	do {                                                                  \
		if (cc == CURLE_OK)                                           \
			cc = (api.curl_easy_setopt)(h, opt, val);             \
	} while (0)
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, rq->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, rq->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, rq->timeout_ms);
	SET(CURLOPT_USERAGENT, "incident/" IR_VERSION);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, sink);
	if (rq->json) {
		SET(CURLOPT_HTTPHEADER, headers);
		SET(CURLOPT_POSTFIELDS, rq->json);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(rq->json));
	}
#undef SET
	return cc;
}

/* The headers of a JSON POST; NULL when out of memory. */
static struct curl_slist *
json_headers(void)
{
	struct curl_slist *h = api.curl_slist_append(NULL,
						"Content-Type: application/json");
	struct curl_slist *more = h ? api.curl_slist_append(h, "Expect:") : NULL;

	if (!more)
		api.curl_slist_free_all(h);
	return more;
}

/* Run rq; 0 when a response came back (whatever its status), with
 * status, latency and body in out. */
static int
perform(const struct request *rq, struct ir_http_result *out,
	struct ir_ctx *ctx)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct sink sink = { out->body, 0, IR_LIMIT_HTTP_BODY_KEPT, 0, false,
			     false };
	struct curl_slist *headers = NULL;
	curl_off_t total_us = 0;
	CURLcode cc = CURLE_OK;
	CURL *h = NULL;
	long status = 0;
	int rc = 0;

	out->body[0] = '\0';
	rc = ir_lazylib_ready(&curl_lib, ctx);
	if (rc) {
		snprintf(out->error, sizeof(out->error), "%s",
			 ir_error_msg(ctx, rc));
		return rc;
	}
	h = api.curl_easy_init();
	if (!h) {
		rc = -ENOMEM;
		goto out;
	}
	if (rq->json) {
		headers = json_headers();
		if (!headers) {
			rc = -ENOMEM;
			goto out;
		}
	}
	cc = setup(h, rq, errbuf, headers, on_body, &sink);
	if (cc != CURLE_OK)
		goto out;
	cc = api.curl_easy_perform(h);
	/* Reaching the read cap is our own stop, not a failed probe. */
	if (cc == CURLE_WRITE_ERROR && sink.capped)
		cc = CURLE_OK;
	if (cc != CURLE_OK)
		goto out;
	(api.curl_easy_getinfo)(h, CURLINFO_RESPONSE_CODE, &status);
	(api.curl_easy_getinfo)(h, CURLINFO_TOTAL_TIME_T, &total_us);
	out->status = status;
	out->latency_us = total_us > 0 ? (uint64_t)total_us : 0;
	out->body_len = sink.kept;
	out->body_truncated = sink.truncated;
	out->error[0] = '\0';
out:
	if (cc != CURLE_OK) {
		out->status = 0;
		out->body[0] = '\0';
		out->body_len = 0;
		out->body_truncated = false;
		rc = fail(ctx, cc, rq, errbuf, out->error, sizeof(out->error));
	}
	api.curl_slist_free_all(headers);
	if (h)
		api.curl_easy_cleanup(h);
	return rc;
}

int
ir_http_get(const char *url, uint64_t connect_timeout_ms, uint64_t timeout_ms,
	    struct ir_http_result *out, struct ir_ctx *ctx)
{
	struct request rq = { url, NULL, clamp_ms(connect_timeout_ms),
			      clamp_ms(timeout_ms), false, NULL };

	if (!url || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!scheme_ok(url)) {
		snprintf(out->error, sizeof(out->error),
			 "not an http or https URL");
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "health probe: \"%s\" is not an http or "
				    "https URL",
				    url);
	}
	return perform(&rq, out, ctx);
}

int
ir_http_post_json(const char *url, const char *json, uint64_t timeout_ms,
		  struct ir_ctx *ctx)
{
	struct request rq = { url, json, clamp_ms(timeout_ms),
			      clamp_ms(timeout_ms), true, NULL };
	struct ir_http_result res;
	int rc;

	if (!url || !json)
		return -EINVAL;
	if (!scheme_ok(url))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "webhook: not an http or https URL");
	memset(&res, 0, sizeof(res));
	rc = perform(&rq, &res, ctx);
	if (rc == 0 && (res.status < 200 || res.status > 299))
		rc = ir_error_set(ctx, -EPROTO, IR_ORIGIN_CURL, 0,
				  "webhook answered HTTP %ld", res.status);
	return rc;
}

/* An exchange's body as it arrives, and whether the caller has read
 * enough of it (a watch ends its stream there). */
struct stream_sink {
	struct ir_buf *body;
	bool (*enough)(void *payload, const struct ir_buf *body);
	void *payload;
	bool over;  /* past the buffer's cap */
	bool ended; /* enough said so */
};

static size_t
on_stream(char *data, size_t size, size_t nmemb, void *payload)
{
	struct stream_sink *s = payload;
	size_t n = size * nmemb;

	if (ir_buf_add(s->body, data, n)) {
		s->over = true;
		return 0;
	}
	if (s->enough && s->enough(s->payload, s->body)) {
		s->ended = true;
		return 0;
	}
	return n;
}

int
ir_http_exchange(const char *url, const char *json, uint64_t connect_ms,
		 uint64_t timeout_ms, const char *what, struct ir_buf *out,
		 bool (*enough)(void *payload, const struct ir_buf *body),
		 void *payload, long *status, struct ir_ctx *ctx)
{
	struct request rq = { url, json, clamp_ms(connect_ms),
			      clamp_ms(timeout_ms), false, what };
	struct stream_sink sink = { out, enough, payload, false, false };
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	CURLcode cc = CURLE_OK;
	CURL *h = NULL;
	int rc;

	*status = 0;
	if (!scheme_ok(url))
		return ir_error_set(ctx, -EINVAL, IR_ORIGIN_USAGE, 0,
				    "%s: \"%s\" is not an http or https URL",
				    what, url);
	rc = ir_lazylib_ready(&curl_lib, ctx);
	if (rc)
		return rc;
	ir_buf_reset(out);
	h = api.curl_easy_init();
	headers = json_headers();
	if (!h || !headers) {
		rc = -ENOMEM;
		goto out;
	}
	cc = setup(h, &rq, errbuf, headers, on_stream, &sink);
	if (cc == CURLE_OK)
		cc = api.curl_easy_perform(h);
	if (cc == CURLE_WRITE_ERROR && sink.ended)
		cc = CURLE_OK;
	if (cc == CURLE_WRITE_ERROR && sink.over) {
		rc = ir_error_set(ctx, -ENOSPC, IR_ORIGIN_CURL, 0,
				  "%s: the answer is larger than %zu bytes",
				  what, out->max);
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = fail(ctx, cc, &rq, errbuf, NULL, 0);
		goto out;
	}
	(api.curl_easy_getinfo)(h, CURLINFO_RESPONSE_CODE, status);
out:
	api.curl_slist_free_all(headers);
	if (h)
		api.curl_easy_cleanup(h);
	return rc;
}

bool
ir_health_judge(const struct ir_health_expect *want, int get_rc,
		const struct ir_http_result *r, char *why, size_t cap)
{
	char spare[8];
	bool healthy = false;

	if (!why || !cap) {
		why = spare;
		cap = sizeof(spare);
	}
	if (get_rc == -ETIMEDOUT)
		snprintf(why, cap, "timed out after %llu ms",
			 (unsigned long long)want->timeout_ms);
	else if (get_rc == -ECONNREFUSED)
		snprintf(why, cap, "connection refused");
	else if (get_rc)
		snprintf(why, cap, "no answer: %s",
			 r->error[0] ? r->error : "the request failed");
	else if (r->status != want->status)
		snprintf(why, cap, "status %ld, expected %ld", r->status,
			 want->status);
	else if (want->body && want->body[0] &&
		 !strstr(r->body, want->body))
		snprintf(why, cap, "body lacks \"%s\"%s", want->body,
			 r->body_truncated ? " (in the first bytes kept)"
					   : "");
	else
		healthy = true;
	if (healthy)
		snprintf(why, cap, "status %ld", r->status);
	return healthy;
}
