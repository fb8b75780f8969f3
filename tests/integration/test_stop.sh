#!/usr/bin/env bash
# incident stop: the runbook's Step 1 against a real trading process.
. "$(dirname "$0")/lib.sh"

make_deployment

echo "# a stop that works"
start_node
check "node runs" test "$(node_count)" -eq 1
expect_exit 0 incident stop --yes --reason "P&L anomaly"
check "node stopped" test "$(node_count)" -eq 0
types=$(event_types 1)
contains "$types" "incident.opened" "events"
contains "$types" "observation stop" "events"
contains "$types" "decision stop" "events"
contains "$types" "step.started stop" "events"
contains "$types" "step.output stop" "events"
contains "$types" "step.completed stop" "events"
# The close's own checkpoint may follow it (signed after it committed).
check "closed last" test "$(event_types 1 | grep -v '^checkpoint' | tail -n1)" = "incident.closed"
check "the close is signed" test "$(event_types 1 | tail -n1)" = "checkpoint"
ev=$(events 1)
check "decision yes" test "$(jq -r 'select(.type=="decision") | .data.answer' <<<"$ev")" = yes
check "reason kept" test "$(jq -r 'select(.type=="incident.opened") | .data.reason' <<<"$ev")" = "P&L anomaly"
check "pgid recorded" test "$(jq -r 'select(.type=="step.started") | .data.pgid' <<<"$ev")" -gt 1
check "env reaches script" grep -q "stopping trading node" <<<"$(jq -r 'select(.type=="step.output") | .data.line' <<<"$ev")"
check "succeeded" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = succeeded
check "prev of seq 1 is zero" test "$(jq -r 'select(.seq==1) | .prev' <<<"$ev")" = "$(printf '0%.0s' $(seq 64))"

echo "# nothing running: skipped"
expect_exit 0 incident stop --yes
types=$(event_types 2)
contains "$types" "step.skipped stop" "events"
not_contains "$types" "step.started" "events"

echo "# a stop command that hangs past its budget: cut off, escalated"
STOP_BUDGET=1s write_config
# Its sleep runs by a name under $T, so pgrep finds this test's only.
ln -sf "$(command -v sleep)" "$T/sleep"
cat >"$D/scripts/emergency_stop.sh" <<SH
#!/bin/sh
echo "hanging"
"$T/sleep" 30
SH
start_node
expect_exit 0 incident stop --yes
check "node stopped by escalation" test "$(node_count)" -eq 0
ev=$(events 3)
check "escalation decided" test "$(jq -r 'select(.type=="decision" and .data.question=="escalate?") | .data.answer' <<<"$ev")" = yes
check "escalate ran" grep -q "force-killing" <<<"$(jq -r 'select(.type=="step.output") | .data.line' <<<"$ev")"
check "over budget" test "$(jq -r 'select(.type=="step.completed") | .data.over_budget' <<<"$ev")" = true
esc=$(jq -c 'select(.type=="step.escalated")' <<<"$ev")
check "escalation is its own event" test "$(jq -r .step <<<"$esc")" = stop
check "escalation names its command" test "$(jq -r .data.command <<<"$esc")" = "./scripts/shutdown.sh force"
check "escalation after the budget" test "$(jq -r .data.after_ms <<<"$esc")" -ge 1000
check "escalation names its group" test "$(jq -r .data.pgid <<<"$esc")" -gt 1
check "outcome says escalated" test "$(jq -r 'select(.type=="step.completed") | .data.escalated' <<<"$ev")" = true
expect_exit 0 incident timeline 3
contains "$OUT" "escalated: ./scripts/shutdown.sh force after 1." "timeline"
contains "$OUT" ", escalated" "timeline"
expect_exit 0 incident report 3 --format md -o "$T/inc3.md"
contains "$(cat "$T/inc3.md")" "escalated: ./scripts/shutdown.sh force after 1." "report"
expect_exit 0 incident report 3 --format html -o "$T/inc3.html"
contains "$(cat "$T/inc3.html")" "escalated: ./scripts/shutdown.sh force after 1." "html report"
check "no hanging sleep left" test "$(pgrep -f -- "^$T/sleep 30\$" | wc -l)" -eq 0

echo "# a process that ignores SIGTERM: escalation kills it"
git -C "$D" checkout -q scripts/emergency_stop.sh
start_node --ignore-term
expect_exit 0 incident stop --yes
check "stubborn node gone" test "$(node_count)" -eq 0
ev=$(events 4)
check "escalated" test "$(jq -r 'select(.type=="decision" and .data.question=="escalate?") | .data.answer' <<<"$ev")" = yes

echo "# escalation that does not help: failed, exit 1"
cat >"$D/scripts/shutdown.sh" <<'SH'
#!/bin/sh
echo "polite again"
kill "$(cat run/node.pid)"
SH
start_node --ignore-term
expect_exit 1 incident stop --yes
check "node still there" test "$(node_count)" -eq 1
ev=$(events 5)
check "failed" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = failed
check "step failed names survivors" grep -q "still running" <<<"$(jq -r 'select(.type=="step.failed") | .data.error' <<<"$ev")"
kill -9 "$(cat "$D/run/node.pid")"
git -C "$D" checkout -q scripts/shutdown.sh

echo "# no TTY and no --yes: exit 2, nothing done"
start_node
expect_exit 2 incident stop
contains "$ERR" "--yes" "stderr"
check "node untouched" test "$(node_count)" -eq 1
expect_exit 0 incident list --json
check "no incident recorded" test "$(jq length <<<"$OUT")" -eq 5

echo "# two stops at once: the second exits 3 naming the holder"
cat >"$D/scripts/emergency_stop.sh" <<'SH'
#!/bin/sh
sleep 2
kill "$(cat run/node.pid)"
SH
incident stop --yes >"$T/first.out" 2>&1 &
first=$!
for _ in $(seq 1 100); do
	[ -s "$T/data/lock" ] && grep -q incident "$T/data/lock" && break
	sleep 0.05
done
expect_exit 3 incident stop --yes
holder=$(pgrep -f "$T/incident.conf stop --yes" | head -n1)
contains "$ERR" "pid $holder" "stderr"
contains "$ERR" "INC-6" "stderr"
wait "$first" || fail "first stop failed"
check "node stopped by the first" test "$(node_count)" -eq 0
git -C "$D" checkout -q scripts/emergency_stop.sh

echo "# notes, list, show, verify"
expect_exit 0 incident note 1 "operator: stop looked clean"
expect_exit 0 incident note last "a second note"
check "note recorded" test "$(events 1 | jq -r 'select(.type=="note") | .data.text' | head -n1)" = "operator: stop looked clean"
expect_exit 0 incident list
contains "$OUT" "INC-1" "list"
contains "$OUT" "succeeded" "list"
expect_exit 0 incident show 1
contains "$OUT" "stop" "show"
expect_exit 0 incident verify
contains "$OUT" "verified" "verify"
expect_exit 2 incident show INC-99
expect_exit 2 incident show banana
expect_exit 2 incident export 1 --format xml

echo "# a flipped byte in the log: verify fails naming incident and seq"
expect_exit 0 incident note 2 "TAMPER-ME-PLEASE"
perl -0777 -pi -e 's/TAMPER-ME-PLEASE/TAMPER-ME-PLEASF/' "$T/data/log/data.mdb"
expect_exit 1 incident verify
contains "$ERR" "INC-2" "verify stderr"
contains "$ERR" "seq" "verify stderr"
expect_exit 1 incident verify 2
expect_exit 0 incident verify 1
# The readers that check the chain on their second thread say so too (the
# note is the last event: the header's head gives it away).
expect_exit 1 incident export 2 --format jsonl
contains "$ERR" "INC-2 seq" "export stderr"
contains "$ERR" "head hash" "export stderr"
expect_exit 1 incident report 2 --format md
contains "$ERR" "INC-2 seq" "report stderr"
expect_exit 1 incident timeline 2
contains "$ERR" "INC-2 seq" "timeline stderr"
expect_exit 1 incident replay 2 --speed 1000
contains "$ERR" "INC-2 seq" "replay stderr"
not_contains "$OUT" "TAMPER-ME" "replay of a tampered incident"
expect_exit 2 incident simulate 2
contains "$OUT" "INC-2 stop: unreplayable at seq" "simulate of a tampered incident"
contains "$OUT" "head hash" "simulate says why"
SIMULATE_EXPECT=2 # the golden corpus check at the end meets INC-2 too
expect_exit 0 incident timeline 1

echo "# help and version"
expect_exit 0 "$INCIDENT_BIN" --version
contains "$OUT" "incident " "version"
for c in rollback stop status tags list show timeline report stats replay note abort verify export backup archives restore demo; do
	expect_exit 0 "$INCIDENT_BIN" "$c" --help
	contains "$OUT" "usage: incident" "$c --help"
done
expect_exit 2 "$INCIDENT_BIN" frobnicate

finish
