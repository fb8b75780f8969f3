/*
 * health against a real HTTP server on 127.0.0.1 (an ephemeral port),
 * run in a thread of the test with plain sockets and canned answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "health.h"
#include "ir_limits.h"

#define BIG_BODY (4 * IR_LIMIT_HTTP_BODY_READ)
#define MEDIUM_BODY (IR_LIMIT_HTTP_BODY_KEPT * 3)

struct server {
	int listen_fd;
	int stop_pipe[2];
	unsigned short port;
	pthread_t thread;
	pthread_mutex_t lock;
	/* The last POST, as the server received it. */
	char post_path[256];
	char post_type[256];
	char post_body[4096];
	unsigned requests;
};

static struct server srv;

/* ---- the server ------------------------------------------------------- */

static void
send_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = send(fd, c, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the client went away: fine */
		c += n;
		len -= (size_t)n;
	}
}

static void
respond(int fd, const char *status, const char *extra, const char *body,
	size_t len)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %s\r\n"
		     "Content-Length: %zu\r\n"
		     "Content-Type: text/plain\r\n"
		     "Connection: close\r\n"
		     "%s"
		     "\r\n",
		     status, len, extra ? extra : "");
	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

/* A header's value from the request head, or "". */
static void
header_value(const char *head, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	const char *p = head;

	out[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nlen) && p[nlen] == ':') {
			const char *v = p + nlen + 1, *end;

			while (*v == ' ')
				v++;
			end = strstr(v, "\r\n");
			if (!end)
				end = v + strlen(v);
			snprintf(out, cap, "%.*s", (int)(end - v), v);
			return;
		}
	}
}

/* Wait until the client closes: the slow endpoint never answers. */
static void
wait_for_close(int fd)
{
	struct pollfd p[2] = { { fd, POLLIN, 0 },
			       { srv.stop_pipe[0], POLLIN, 0 } };
	char buf[256];

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[1].revents)
			return;
		if (recv(fd, buf, sizeof(buf), 0) <= 0)
			return;
	}
}

static void
serve(int fd)
{
	char req[8192], method[16], path[256], len_text[32];
	size_t used = 0, want;
	char *end = NULL;
	ssize_t n;

	while (!end && used + 1 < sizeof(req)) {
		n = recv(fd, req + used, sizeof(req) - 1 - used, 0);
		if (n <= 0)
			return;
		used += (size_t)n;
		req[used] = '\0';
		end = strstr(req, "\r\n\r\n");
	}
	if (!end || sscanf(req, "%15s %255s", method, path) != 2)
		return;
	header_value(req, "Content-Length", len_text, sizeof(len_text));
	want = (size_t)(end + 4 - req) + strtoul(len_text, NULL, 10);
	while (used < want && used + 1 < sizeof(req)) {
		n = recv(fd, req + used, sizeof(req) - 1 - used, 0);
		if (n <= 0)
			return;
		used += (size_t)n;
		req[used] = '\0';
	}
	pthread_mutex_lock(&srv.lock);
	srv.requests++;
	if (!strcmp(method, "POST")) {
		snprintf(srv.post_path, sizeof(srv.post_path), "%s", path);
		header_value(req, "Content-Type", srv.post_type,
			     sizeof(srv.post_type));
		snprintf(srv.post_body, sizeof(srv.post_body), "%s", end + 4);
	}
	pthread_mutex_unlock(&srv.lock);

	if (!strcmp(path, "/ok") || !strncmp(path, "/hook/ok", 8)) {
		respond(fd, "200 OK", NULL, "ok", 2);
	} else if (!strcmp(path, "/error") || !strncmp(path, "/hook/err", 9)) {
		respond(fd, "500 Internal Server Error", NULL, "ERROR", 5);
	} else if (!strcmp(path, "/redirect")) {
		respond(fd, "302 Found", "Location: /ok\r\n", "moved", 5);
	} else if (!strcmp(path, "/medium") || !strcmp(path, "/big")) {
		size_t len = path[1] == 'm' ? MEDIUM_BODY : BIG_BODY;
		char *body = malloc(len);
		size_t i;

		if (!body)
			return;
		for (i = 0; i < len; i++)
			body[i] = (char)('a' + i % 26);
		respond(fd, "200 OK", NULL, body, len);
		free(body);
	} else if (!strncmp(path, "/slow", 5)) {
		wait_for_close(fd);
	} else {
		respond(fd, "404 Not Found", NULL, "no", 2);
	}
}

static void *
server_main(void *arg)
{
	struct pollfd p[2] = { { srv.listen_fd, POLLIN, 0 },
			       { srv.stop_pipe[0], POLLIN, 0 } };

	(void)arg;
	for (;;) {
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		fd = accept4(srv.listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
	return NULL;
}

/* A loopback port nobody listens on. */
static unsigned short
closed_port(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void
url(char *out, size_t cap, const char *path)
{
	snprintf(out, cap, "http://127.0.0.1:%u%s", srv.port, path);
}

static unsigned
requests_seen(void)
{
	unsigned n;

	pthread_mutex_lock(&srv.lock);
	n = srv.requests;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

/* ---- GET -------------------------------------------------------------- */

static void
test_get_ok(void **state)
{
	struct ir_http_result res;
	struct ir_ctx ctx = { 0 };
	char u[128];

	(void)state;
	url(u, sizeof(u), "/ok");
	assert_int_equal(ir_http_get(u, 2000, 5000, &res, &ctx), 0);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "ok");
	assert_int_equal(res.body_len, 2);
	assert_false(res.body_truncated);
	assert_true(res.latency_us > 0);
	assert_string_equal(res.error, "");
	assert_int_equal(ctx.err.code, 0);
}

static void
test_get_server_error_is_a_response(void **state)
{
	struct ir_http_result res;
	struct ir_ctx ctx = { 0 };
	char u[128];

	(void)state;
	url(u, sizeof(u), "/error");
	assert_int_equal(ir_http_get(u, 2000, 5000, &res, &ctx), 0);
	assert_int_equal(res.status, 500);
	assert_string_equal(res.body, "ERROR");
	assert_int_equal(res.body_len, 5);
}

static void
test_get_redirect_not_followed(void **state)
{
	struct ir_http_result res;
	struct ir_ctx ctx = { 0 };
	unsigned before = requests_seen();
	char u[128];

	(void)state;
	url(u, sizeof(u), "/redirect");
	assert_int_equal(ir_http_get(u, 2000, 5000, &res, &ctx), 0);
	assert_int_equal(res.status, 302);
	assert_string_equal(res.body, "moved");
	assert_int_equal(requests_seen(), before + 1);
}

static void
test_get_body_kept_and_truncated(void **state)
{
	struct ir_http_result res;
	struct ir_ctx ctx = { 0 };
	char u[128];
	size_t i;

	(void)state;
	/* Past what is kept, within what is read. */
	url(u, sizeof(u), "/medium");
	assert_int_equal(ir_http_get(u, 2000, 5000, &res, &ctx), 0);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.body_len, IR_LIMIT_HTTP_BODY_KEPT);
	assert_true(res.body_truncated);
	assert_int_equal(strlen(res.body), IR_LIMIT_HTTP_BODY_KEPT);
	for (i = 0; i < res.body_len; i++)
		assert_int_equal(res.body[i], 'a' + i % 26);

	/* Past what is read at all: stopped, still a response. */
	url(u, sizeof(u), "/big");
	assert_int_equal(ir_http_get(u, 2000, 5000, &res, &ctx), 0);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.body_len, IR_LIMIT_HTTP_BODY_KEPT);
	assert_true(res.body_truncated);
	assert_int_equal(res.body[0], 'a');
	assert_int_equal(ctx.err.code, 0);
}

static void
test_get_timeout(void **state)
{
	struct ir_http_result res;
	struct ir_ctx ctx = { 0 };
	char u[128];

	(void)state;
	url(u, sizeof(u), "/slow");
	assert_int_equal(ir_http_get(u, 2000, 300, &res, &ctx), -ETIMEDOUT);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.body_len, 0);
	assert_true(res.error[0] != '\0');
	assert_int_equal(ctx.err.code, -ETIMEDOUT);
	assert_int_equal(ctx.err.origin, IR_ORIGIN_CURL);
}

static void
test_get_refused(void **state)
{
	struct ir_http_result res;
	struct ir_ctx ctx = { 0 };
	char u[128];

	(void)state;
	snprintf(u, sizeof(u), "http://127.0.0.1:%u/ok", closed_port());
	assert_int_equal(ir_http_get(u, 2000, 5000, &res, &ctx),
			 -ECONNREFUSED);
	assert_int_equal(res.status, 0);
	assert_true(res.error[0] != '\0');
	assert_int_equal(ctx.err.code, -ECONNREFUSED);
}

/* ---- the health rule -------------------------------------------------- */

/* Probe path on the test server (or a closed port) and judge it. */
static bool
judge(const char *path, long status, const char *body, uint64_t timeout_ms,
      bool closed, char *why, size_t cap)
{
	struct ir_health_expect want = { status, body, timeout_ms };
	struct ir_http_result res;
	struct ir_ctx ctx = { 0 };
	char u[128];
	int rc;

	if (closed)
		snprintf(u, sizeof(u), "http://127.0.0.1:%u%s", closed_port(),
			 path);
	else
		url(u, sizeof(u), path);
	rc = ir_http_get(u, 2000, timeout_ms, &res, &ctx);
	return ir_health_judge(&want, rc, &res, why, cap);
}

static void
test_judge_says_what_failed(void **state)
{
	char why[IR_HEALTH_WHY];

	(void)state;
	assert_true(judge("/ok", 200, NULL, 5000, false, why, sizeof(why)));
	assert_string_equal(why, "status 200");
	assert_true(judge("/ok", 200, "ok", 5000, false, why, sizeof(why)));
	assert_true(judge("/ok", 200, "", 5000, false, why, sizeof(why)));

	assert_false(judge("/error", 200, NULL, 5000, false, why,
			   sizeof(why)));
	assert_string_equal(why, "status 500, expected 200");
	/* The status is right, the body is not. */
	assert_false(judge("/ok", 200, "READY", 5000, false, why,
			   sizeof(why)));
	assert_string_equal(why, "body lacks \"READY\"");
	assert_false(judge("/slow", 200, NULL, 300, false, why, sizeof(why)));
	assert_string_equal(why, "timed out after 300 ms");
	assert_false(judge("/ok", 200, NULL, 5000, true, why, sizeof(why)));
	assert_string_equal(why, "connection refused");
	/* No room for the reason: the verdict still stands. */
	assert_false(judge("/error", 200, NULL, 5000, false, NULL, 0));
}

static void
test_get_other_schemes_refused(void **state)
{
	static const char *const bad[] = {
		"file:///etc/passwd",
		"ftp://127.0.0.1/x",
		"gopher://127.0.0.1/",
		"127.0.0.1:9000/status",
		"",
	};
	struct ir_http_result res;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ir_ctx ctx = { 0 };

		assert_int_equal(ir_http_get(bad[i], 2000, 5000, &res, &ctx),
				 -EINVAL);
		assert_int_equal(res.status, 0);
		assert_int_equal(ctx.err.code, -EINVAL);
	}
}

static void
test_get_no_proxy_from_environment(void **state)
{
	struct ir_http_result res;
	struct ir_ctx ctx = { 0 };
	char u[128], proxy[128];

	(void)state;
	/* A proxy that would refuse: the probe must go direct. */
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", closed_port());
	assert_int_equal(setenv("http_proxy", proxy, 1), 0);
	assert_int_equal(setenv("HTTP_PROXY", proxy, 1), 0);
	assert_int_equal(setenv("ALL_PROXY", proxy, 1), 0);
	url(u, sizeof(u), "/ok");
	assert_int_equal(ir_http_get(u, 2000, 5000, &res, &ctx), 0);
	assert_int_equal(res.status, 200);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("ALL_PROXY");
}

/* ---- POST (webhooks) -------------------------------------------------- */

static void
test_post_json(void **state)
{
	static const char json[] = "{\"incident\":\"INC-7\",\"status\":"
				   "\"succeeded\"}";
	struct ir_ctx ctx = { 0 };
	char u[128];

	(void)state;
	url(u, sizeof(u), "/hook/ok/T0123/SECRET");
	assert_int_equal(ir_http_post_json(u, json, 5000, &ctx), 0);
	pthread_mutex_lock(&srv.lock);
	assert_string_equal(srv.post_path, "/hook/ok/T0123/SECRET");
	assert_string_equal(srv.post_type, "application/json");
	assert_string_equal(srv.post_body, json);
	pthread_mutex_unlock(&srv.lock);
}

static void
assert_no_secret(const struct ir_ctx *ctx, const char *u)
{
	assert_non_null(strstr(ctx->err.msg, "webhook"));
	assert_null(strstr(ctx->err.msg, u));
	assert_null(strstr(ctx->err.msg, "SECRET"));
	assert_null(strstr(ctx->err.msg, "/hook"));
}

static void
test_post_errors_never_name_the_url(void **state)
{
	struct ir_ctx ctx = { 0 };
	char u[128];

	(void)state;
	url(u, sizeof(u), "/hook/err/SECRET");
	assert_int_equal(ir_http_post_json(u, "{}", 5000, &ctx), -EPROTO);
	assert_non_null(strstr(ctx.err.msg, "500"));
	assert_no_secret(&ctx, u);

	ir_error_clear(&ctx);
	snprintf(u, sizeof(u), "http://127.0.0.1:%u/hook/SECRET",
		 closed_port());
	assert_int_equal(ir_http_post_json(u, "{}", 5000, &ctx),
			 -ECONNREFUSED);
	assert_no_secret(&ctx, u);

	ir_error_clear(&ctx);
	url(u, sizeof(u), "/slow/hook/SECRET");
	assert_int_equal(ir_http_post_json(u, "{}", 300, &ctx), -ETIMEDOUT);
	assert_no_secret(&ctx, u);

	ir_error_clear(&ctx);
	assert_int_equal(ir_http_post_json("ftp://127.0.0.1/hook/SECRET", "{}",
					   5000, &ctx),
			 -EINVAL);
	assert_no_secret(&ctx, "ftp://127.0.0.1/hook/SECRET");

	ir_error_clear(&ctx);
	assert_int_equal(ir_http_post_json("http://[::1/hook/SECRET", "{}",
					   5000, &ctx),
			 -EINVAL);
	assert_no_secret(&ctx, "http://[::1/hook/SECRET");
}

/* ---- fixture ---------------------------------------------------------- */

static int
group_setup(void **state)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);

	(void)state;
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	pthread_mutex_init(&srv.lock, NULL);
	srv.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv.listen_fd < 0)
		return -1;
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv.listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(srv.listen_fd, 16) ||
	    getsockname(srv.listen_fd, (struct sockaddr *)&a, &len))
		return -1;
	srv.port = ntohs(a.sin_port);
	if (pipe2(srv.stop_pipe, O_CLOEXEC))
		return -1;
	if (pthread_create(&srv.thread, NULL, server_main, NULL))
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (write(srv.stop_pipe[1], "x", 1) == 1)
		pthread_join(srv.thread, NULL);
	close(srv.stop_pipe[0]);
	close(srv.stop_pipe[1]);
	close(srv.listen_fd);
	pthread_mutex_destroy(&srv.lock);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_ok),
		cmocka_unit_test(test_get_server_error_is_a_response),
		cmocka_unit_test(test_get_redirect_not_followed),
		cmocka_unit_test(test_get_body_kept_and_truncated),
		cmocka_unit_test(test_get_timeout),
		cmocka_unit_test(test_get_refused),
		cmocka_unit_test(test_judge_says_what_failed),
		cmocka_unit_test(test_get_other_schemes_refused),
		cmocka_unit_test(test_get_no_proxy_from_environment),
		cmocka_unit_test(test_post_json),
		cmocka_unit_test(test_post_errors_never_name_the_url),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
