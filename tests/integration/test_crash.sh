#!/usr/bin/env bash
# kill -9 at every step in turn, then `incident rollback` again: the open
# incident resumes, nothing is repeated blindly, and it ends with exactly
# one healthy trading process at the target.
. "$(dirname "$0")/lib.sh"

make_three_tags

# Each round starts from the broken deploy, running, and nothing else.
fresh_round() {
	git -C "$D" checkout -q -f "$TAG3"
	git -C "$D" clean -q -fd config
	pkill -KILL -f -- "$NODE_MATCH" 2>/dev/null || true
	sleep 0.2
	start_node
}

n=0
for step in stop backup checkout config start health verify report; do
	echo "# crash during $step"
	fresh_round
	n=$((n + 1))
	INCIDENT_TEST_CRASH_AT=$step expect_exit 137 incident rollback --yes
	check "left open" test "$(incident list --json | jq -r '.[0].status')" = open
	# Resume, with or without the same arguments; the crash hook is
	# still set but acts on a first attempt only.
	INCIDENT_TEST_CRASH_AT=$step expect_exit 0 incident rollback --yes
	contains "$ERR" "resuming interrupted INC-$n" "stderr"
	ev=$(events "$n")
	check "resumed event" test "$(jq -r 'select(.type=="incident.resumed") | .data.interrupted_step' <<<"$ev")" = "$step"
	check "the lock and its earlier owner recorded" test "$(jq -r 'select(.type=="observation" and .data.what=="lock") | .data.previous_pid // empty' <<<"$ev")" = "$(jq -r 'select(.type=="incident.opened") | .data.pid' <<<"$ev")"
	check "interrupted attempt closed" test "$(jq -r "select(.type==\"step.failed\" and .step==\"$step\") | .data.interrupted" <<<"$ev")" = true
	check "succeeded" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = succeeded
	check "one trading node" test "$(node_count)" -eq 1
	check "healthy" test "$(http_status)" = 200
	check "HEAD at target" test "$(head_commit)" = "$(tag_commit "$TAG2")"
	check "config restored" grep -q "risk_limit = 120" "$D/config/risk.conf"
	check "one stop command at most" test "$(jq -r 'select(.type=="step.output" and .step=="stop") | .data.line' <<<"$ev" | grep -c "stopping trading node")" -le 1
	check "one start" test "$(jq -r 'select(.type=="step.output" and .step=="start") | .data.line' <<<"$ev" | grep -c "started trading node")" -eq 1
	check "no partial archive" test -z "$(find "$T/data/archives" -name '*.partial')"
	check "chain holds" incident verify "$n" >/dev/null
done

for lockfile in index.lock HEAD.lock; do
echo "# a stale $lockfile left by our interrupted checkout is removed"
fresh_round
n=$((n + 1))
INCIDENT_TEST_CRASH_AT=checkout expect_exit 137 incident rollback --yes
touch "$D/.git/$lockfile"   # as libgit2 leaves it when killed mid-checkout
expect_exit 0 incident rollback --yes
check "$lockfile removed" test ! -e "$D/.git/$lockfile"
check "removal recorded" grep -q "removed" <<<"$(events "$n" | jq -r "select(.type==\"observation\" and .data.path==\".git/$lockfile\") | .data.action")"
check "HEAD at target" test "$(head_commit)" = "$(tag_commit "$TAG2")"
done

echo "# kill -9 from outside while the stop command runs"
fresh_round
# The stop's sleep runs by a name under $T: pgrep finds this test's, and
# not any other sleep on the machine.
ln -sf "$(command -v sleep)" "$T/sleep"
cat >"$D/scripts/emergency_stop.sh" <<SH
#!/bin/sh
echo "slow stop"
"$T/sleep" 2
kill "\$(cat run/node.pid)"
SH
incident rollback --yes >"$T/bg.out" 2>&1 &
bg=$!
n=$((n + 1))
for _ in $(seq 1 200); do
	if incident export "$n" --format jsonl 2>/dev/null | grep -q '"step.started"'; then
		break
	fi
	sleep 0.02
done
pkill -KILL -f "$T/incident.conf rollback --yes"
wait "$bg" 2>/dev/null || true
check "stop command still running" pgrep -f -- "^$T/sleep 2\$" >/dev/null
expect_exit 0 incident rollback --yes
ev=$(events "$n")
check "resumed" test "$(jq -r 'select(.type=="incident.resumed") | .data.interrupted_step' <<<"$ev")" = stop
check "succeeded" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = succeeded
check "one trading node" test "$(node_count)" -eq 1
check "healthy" test "$(http_status)" = 200
git -C "$D" checkout -q "$TAG2" -- scripts/emergency_stop.sh 2>/dev/null || true

# kill -9 from outside in the middle of a health probe (the 1st request to
# the new node) and of verify's (the 2nd): the step.started of that step
# was on disk before the request left.
for k in "health 1" "verify 2"; do
	step=${k% *}
	echo "# kill -9 during $step's request"
	fresh_round
	sed -i "s|^\turl = .*|\turl = http://127.0.0.1:$PORT/status?kill=${k#* }|" "$T/incident.conf"
	n=$((n + 1))
	expect_exit 137 bash -c 'echo $$ >"$1/run/kill.pid"; exec "$2" -c "$3" rollback --yes' \
		- "$D" "$INCIDENT_BIN" "$T/incident.conf"
	rm -f "$D/run/kill.pid"
	check "$step started on disk" test "$(event_types "$n" | grep '^step.started' | tail -n 1)" = "step.started $step"
	check "left open" test "$(incident list --json | jq -r '.[0].status')" = open
	expect_exit 0 incident rollback --yes
	ev=$(events "$n")
	check "resumed at $step" test "$(jq -r 'select(.type=="incident.resumed") | .data.interrupted_step' <<<"$ev")" = "$step"
	check "succeeded" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = succeeded
	check "healthy" test "$(http_status)" = 200
done
write_config

finish
