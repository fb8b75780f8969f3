#!/usr/bin/env bash
# health.expect-body: a node that answers 200 with a body lacking the
# expected text is not healthy.  The fixture's app/MODE "degraded" answers
# 200 "degraded version=V"; "good" answers 200 "ok version=V".
. "$(dirname "$0")/lib.sh"

make_deployment
TAG1=deploy-20260101-100000
TAG2=deploy-20260102-100000
TAG3=deploy-20260103-100000
commit_version v2 degraded "$TAG2"
commit_version v3 broken "$TAG3"
# The budget leaves the restarted node time to listen on a loaded machine,
# so that the last probe sees its body.
EXTRA_CONFIG="[health]
	expect-body = ok version=" HEALTH_BUDGET=4s write_config
start_node
WHY='body lacks "ok version="'

echo "# a rollback to the degraded $TAG2: 200, but health fails on the body"
expect_exit 1 incident rollback "$TAG2" --yes
check "it answers 200" test "$(http_status)" = 200
check "with a degraded body" grep -q "^degraded version=v2" <(curl -s "http://127.0.0.1:$PORT/status")
ev=$(events 1)
check "health failed" test "$(jq -r 'select(.type=="step.failed") | .step' <<<"$ev")" = health
# (The last probe may be cut short by the end of the budget: judge the
# ones that got their answer.)
ok200='select(.type=="observation" and .data.what=="http" and .data.status==200)'
check "probes got 200" test "$(jq -r "$ok200 | .seq" <<<"$ev" | wc -l)" -ge 1
check "each judged unhealthy" test "$(jq -r "$ok200 | .data.healthy" <<<"$ev" | sort -u)" = false
check "for its body" test "$(jq -r "$ok200 | .data.why" <<<"$ev" | sort -u)" = "$WHY"
check "failed" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = failed
expect_exit 0 incident --json tags
check "$TAG2 not known-good" test "$(jq -r ".[] | select(.tag==\"$TAG2\") | .known_good" <<<"$OUT")" = false
expect_exit 0 incident status
contains "$OUT" "unhealthy ($WHY)" "status"

echo "# the same rule passes the good $TAG1"
expect_exit 0 incident rollback "$TAG1" --yes --force
ev=$(events 2)
check "health completed" test "$(jq -r 'select(.type=="step.completed" and .step=="health") | .step' <<<"$ev")" = health
check "succeeded" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = succeeded
check "ok body" grep -q "^ok version=v1" <(curl -s "http://127.0.0.1:$PORT/status")

finish
