#!/usr/bin/env bash
# SIGINT, SIGTERM and SIGHUP during `incident rollback`: the running step's
# command finishes, the interruption is recorded, no further step begins,
# the incident stays open (exit 130), nothing is left running, and
# `incident rollback` resumes and finishes.  A second SIGINT kills the
# step's process group.
. "$(dirname "$0")/lib.sh"

# Job control: background jobs get their own process group and keep
# SIGINT (a script's background jobs otherwise start with it ignored, and
# incident leaves an ignored signal ignored).
set -m

make_three_tags
# Slow scripts, named by absolute path (which holds $T) so that pgrep
# finds only this test's.  Each echoes after its work: a pipe nobody
# reads would kill it there with SIGPIPE.
cat >"$D/scripts/slow_stop.sh" <<'SH'
#!/bin/sh
echo "stop: begin"
sleep "${STOP_SLEEP:-1}"
pid=$(cat run/node.pid 2>/dev/null) || exit 0
kill "$pid" 2>/dev/null
echo "stop: sent SIGTERM to $pid"
sleep 0.3
echo "stop: done"
SH
sed -e 's/^echo "started trading node pid \$!"$/sleep 0.3; echo "start: done"/' \
	-e 's/^cd /echo "start: begin"; sleep 1; cd /' \
	"$D/scripts/start.sh" >"$D/scripts/slow_start.sh"
chmod +x "$D/scripts/slow_stop.sh" "$D/scripts/slow_start.sh"
EXTRA_CONFIG="[stop]
	command = $D/scripts/slow_stop.sh
[start]
	command = $D/scripts/slow_start.sh"
write_config

n=0

# fresh_round: the broken deploy, running, as each round starts.
fresh_round() {
	git -C "$D" checkout -q -f "$TAG3"
	git -C "$D" clean -q -fd config
	pkill -KILL -f "trading_node --port $PORT" 2>/dev/null || true
	sleep 0.2
	start_node
	n=$((n + 1))
}

# wait_line INC TEXT: until a step.output line holding TEXT is recorded.
wait_line() {
	for _ in $(seq 1 300); do
		if events "$1" 2>/dev/null |
			jq -r 'select(.type=="step.output") | .data.line' |
			grep -qF "$2"; then
			return 0
		fi
		sleep 0.02
	done
	fail "no output line \"$2\" in INC-$1"
	cat "$T/bg.err" >&2
}

# scripts_left: processes of this test's slow scripts still running.
scripts_left() {
	pgrep -f "$D/scripts/slow_" | wc -l
}

# group_left INC STEP: processes left in the step's recorded group.
group_left() {
	local pgid
	pgid=$(events "$1" | jq -r "select(.type==\"step.started\" and .step==\"$2\") | .data.pgid" | head -n1)
	if [ -z "$pgid" ] || [ "$pgid" = null ]; then
		echo 1
		return
	fi
	# Zombies do not count: an orphan's new parent reaps it in its time.
	ps -e -o pgid=,stat= | awk -v g="$pgid" '$1 == g && $2 !~ /^Z/' | wc -l
}

# start_bg: incident rollback in the background; $BG its pid.
start_bg() {
	# -c after the command: other tests' pkill -f "incident.conf
	# rollback" must not hit this one.
	"$INCIDENT_BIN" rollback --yes -c "$T/incident.conf" \
		>"$T/bg.out" 2>"$T/bg.err" </dev/null &
	BG=$!
}

# wait_bg: wait for it; $RC its exit code, $ERR its stderr.
wait_bg() {
	RC=0
	wait "$BG" || RC=$?
	ERR=$(cat "$T/bg.err")
	if [ "$RC" != 130 ]; then
		echo "--- stderr of INC-$n (exit $RC)" >&2
		tail -n 20 "$T/bg.err" >&2
	fi
}

for sig in INT TERM HUP; do
	echo "# SIG$sig during stop"
	fresh_round
	start_bg
	wait_line "$n" "stop: begin"
	kill -"$sig" "$BG"
	wait_bg
	check "exit 130 (got $RC)" test "$RC" -eq 130
	contains "$ERR" "interrupted during step \"stop\" (SIG$sig; completed)" "stderr"
	contains "$ERR" "trading is not running (0 processes match" "stderr"
	contains "$ERR" "resume with 'incident rollback', or close with 'incident abort INC-$n'" "stderr"
	ev=$(events "$n")
	intr=$(jq -c 'select(.type=="incident.interrupted") | .data' <<<"$ev")
	check "interruption recorded" test "$(jq -r .signal <<<"$intr")" = "SIG$sig"
	check "names the step" test "$(jq -r .step <<<"$intr")" = stop
	check "the step completed" test "$(jq -r .outcome <<<"$intr")" = completed
	check "fresh look: not trading" test "$(jq -r .trading <<<"$intr")" = 0
	check "not killed" test "$(jq -r .killed <<<"$intr")" = false
	check "the command ran to its end" grep -qx "stop: done" <<<"$(jq -r 'select(.type=="step.output") | .data.line' <<<"$ev")"
	check "stop completed" test "$(jq -r 'select(.type=="step.completed") | .step' <<<"$ev")" = stop
	not_contains "$(event_types "$n")" "backup" "events"
	check "trading node stopped" test "$(node_count)" -eq 0
	check "no script left" test "$(scripts_left)" -eq 0
	check "nothing left in its group" test "$(group_left "$n" stop)" -eq 0
	check "still open" test "$(incident list --json | jq -r '.[0].status')" = open
	check "chain holds" incident verify "$n" >/dev/null
	expect_exit 0 incident rollback --yes
	contains "$ERR" "resuming interrupted INC-$n" "stderr"
	ev=$(events "$n")
	check "resume names the step" test "$(jq -r 'select(.type=="incident.resumed") | .data.interrupted_step' <<<"$ev")" = stop
	check "succeeded" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = succeeded
	check "stop ran once" test "$(jq -r 'select(.type=="step.output") | .data.line' <<<"$ev" | grep -c "stop: begin")" -eq 1
	check "one trading node" test "$(node_count)" -eq 1
	check "healthy" test "$(http_status)" = 200
	check "HEAD at target" test "$(head_commit)" = "$(tag_commit "$TAG2")"
done

for sig in INT TERM HUP; do
	echo "# SIG$sig during start"
	fresh_round
	start_bg
	wait_line "$n" "start: begin"
	kill -"$sig" "$BG"
	wait_bg
	check "exit 130 (got $RC)" test "$RC" -eq 130
	contains "$ERR" "interrupted during step \"start\" (SIG$sig; completed)" "stderr"
	contains "$ERR" "trading is RUNNING (1 process matches" "stderr"
	ev=$(events "$n")
	intr=$(jq -c 'select(.type=="incident.interrupted") | .data' <<<"$ev")
	check "names the step" test "$(jq -r .step <<<"$intr")" = start
	check "fresh look: trading" test "$(jq -r .trading <<<"$intr")" = 1
	check "next step named" test "$(jq -r .next_step <<<"$intr")" = health
	check "the command ran to its end" grep -qx "start: done" <<<"$(jq -r 'select(.type=="step.output") | .data.line' <<<"$ev")"
	not_contains "$(event_types "$n")" "step.started health" "events"
	check "no script left" test "$(scripts_left)" -eq 0
	check "still open" test "$(incident list --json | jq -r '.[0].status')" = open
	expect_exit 0 incident rollback --yes
	ev=$(events "$n")
	check "resume names the step" test "$(jq -r 'select(.type=="incident.resumed") | .data.interrupted_step' <<<"$ev")" = start
	check "succeeded" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = succeeded
	check "started once" test "$(jq -r 'select(.type=="step.output") | .data.line' <<<"$ev" | grep -c "start: begin")" -eq 1
	check "one trading node" test "$(node_count)" -eq 1
	check "healthy" test "$(http_status)" = 200
done

echo "# Ctrl-C at a terminal: SIGINT to incident's process group"
# The commands run in groups of their own: the terminal's SIGINT reaches
# incident only, and the stop runs to its end.
fresh_round
start_bg
wait_line "$n" "stop: begin"
kill -INT -- -"$BG"
wait_bg
check "exit 130 (got $RC)" test "$RC" -eq 130
ev=$(events "$n")
check "the command ran to its end" grep -qx "stop: done" <<<"$(jq -r 'select(.type=="step.output") | .data.line' <<<"$ev")"
check "trading node stopped" test "$(node_count)" -eq 0
expect_exit 0 incident rollback --yes
check "succeeded" test "$(events "$n" | jq -r 'select(.type=="incident.closed") | .data.status')" = succeeded

echo "# a second SIGINT kills the step's process group"
fresh_round
STOP_SLEEP=20 start_bg
wait_line "$n" "stop: begin"
t0=$(date +%s)
kill -INT "$BG"
sleep 0.3
kill -INT "$BG"
wait_bg
t1=$(date +%s)
check "exit 130 (got $RC)" test "$RC" -eq 130
check "did not wait for the command" test $((t1 - t0)) -lt 10
contains "$ERR" "interrupted during step \"stop\" (SIGINT twice: its command was killed)" "stderr"
contains "$ERR" "trading is RUNNING" "stderr"
ev=$(events "$n")
failed=$(jq -c 'select(.type=="step.failed" and .step=="stop") | .data' <<<"$ev")
check "kill recorded" test "$(jq -r .killed <<<"$failed")" = true
check "attempt interrupted" test "$(jq -r .interrupted <<<"$failed")" = true
check "interruption says killed" test "$(jq -r 'select(.type=="incident.interrupted") | .data.killed' <<<"$ev")" = true
not_contains "$(jq -r 'select(.type=="step.output") | .data.line' <<<"$ev")" "stop: done" "output"
check "no script left" test "$(scripts_left)" -eq 0
check "nothing left in its group" test "$(group_left "$n" stop)" -eq 0
check "trading node untouched" test "$(node_count)" -eq 1
check "still open" test "$(incident list --json | jq -r '.[0].status')" = open
expect_exit 0 incident rollback --yes
ev=$(events "$n")
check "succeeded" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = succeeded
check "stop ran again" test "$(jq -r 'select(.type=="step.started" and .step=="stop") | .data.attempt' <<<"$ev" | tail -n1)" = 2
check "one trading node" test "$(node_count)" -eq 1

echo "# interrupted with --json: the outcome on stdout"
fresh_round
"$INCIDENT_BIN" rollback --yes --json -c "$T/incident.conf" \
	>"$T/bg.out" 2>"$T/bg.err" </dev/null &
BG=$!
wait_line "$n" "stop: begin"
kill -TERM "$BG"
wait_bg
check "exit 130 (got $RC)" test "$RC" -eq 130
check "json says interrupted" test "$(jq -r .interrupted "$T/bg.out")" = true
check "json names the step" test "$(jq -r .step "$T/bg.out")" = stop
check "json: status open" test "$(jq -r .status "$T/bg.out")" = open
expect_exit 0 incident abort "$n"
check "aborted" test "$(incident list --json | jq -r '.[0].status')" = aborted

finish
