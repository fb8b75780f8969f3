#!/usr/bin/env bash
# What the user reads: failures said in full (piped output never cut, the
# health rule's reason, the summary line), status and the health step
# agreeing, TERM=dumb, a reader that leaves early, the actor behind sudo.
. "$(dirname "$0")/lib.sh"

make_three_tags
start_node
expect_exit 0 incident rollback "$TAG2" --yes

echo "# status: healthy, and which config file it read"
expect_exit 0 incident status
contains "$OUT" "config:         $T/incident.conf" "status"
contains "$OUT" "healthy (status 200)" "status"
expect_exit 0 incident --json status
check "json: config" test "$(jq -r .config <<<"$OUT")" = "$T/incident.conf"
check "json: healthy" test "$(jq -r .healthy <<<"$OUT")" = true

echo "# a body the node never sends: status and the health step agree"
# The budget leaves the restarted node time to listen even on a loaded
# machine, so that the last probe sees its body.
BODY="READY-FOR-ORDERS-ON-EVERY-VENUE-WITH-FRESH-MARKET-DATA-AND-RISK-LIMITS-LOADED"
EXTRA_CONFIG="[health]
	expect-body = $BODY" HEALTH_BUDGET=5s write_config
WHY="body lacks \"$BODY\""
expect_exit 0 incident status
contains "$OUT" "unhealthy ($WHY)" "status"
not_contains "$OUT" "(healthy" "status"
expect_exit 0 incident --json status
check "json: unhealthy" test "$(jq -r .healthy <<<"$OUT")" = false
check "json: the reason" test "$(jq -r .health <<<"$OUT")" = "$WHY"

echo "# the rollback fails on the body; piped stderr keeps every word"
expect_exit 1 env SUDO_USER=alice "$INCIDENT_BIN" -c "$T/incident.conf" \
	rollback "$TAG1" --yes
ev=$(events 2)
err=$(jq -r 'select(.type=="step.failed" and .step=="health") | .data.error' <<<"$ev")
contains "$err" "not healthy within 5s after" "step.failed error"
contains "$err" ": $WHY" "step.failed error"
check "probes judged unhealthy" test "$(jq -r 'select(.type=="observation" and .data.what=="http") | .data.healthy' <<<"$ev" | sort -u)" = false
check "the last probe says why" test "$(jq -r 'select(.type=="observation" and .data.what=="http" and .step=="health") | .data.why' <<<"$ev" | tail -n 1)" = "$WHY"
contains "$ERR" "health     failed after" "live display"
contains "$ERR" "$err" "live display"
last=$(tail -n 1 <<<"$ERR")
contains "$last" "INC-2: rollback failed in" "summary line"
contains "$last" ": health failed: $err" "summary line"
not_contains "$ERR" $'\xe2\x80\xa6' "piped stderr (a cut mark)"
expect_exit 0 incident timeline 2
contains "$OUT" "failed after" "timeline"
contains "$OUT" "$err" "timeline"
contains "$OUT" "$WHY" "timeline probe"
expect_exit 0 incident report 2 --format json
check "report: the probes failed" test "$(jq -r '.health.failures' <<<"$OUT")" -gt 0
check "report: the last failure's reason" test "$(jq -r '.health.last_error' <<<"$OUT")" = "$WHY"

echo "# the actor behind sudo is the person"
if [ "$(id -u)" = 0 ]; then
	actor=$(jq -r 'select(.type=="incident.opened") | .data.actor' <<<"$ev")
	check "actor via sudo" test "$actor" = "alice via sudo@$(hostname)"
	expect_exit 0 env SUDO_USER=root "$INCIDENT_BIN" -c "$T/incident.conf" \
		note 2 "as root"
	check "SUDO_USER=root is root" test "$(events 2 | jq -r 'select(.type=="note") | .data.author')" = "root@$(hostname)"
	expect_exit 0 env SUDO_USER='x y$(id)' "$INCIDENT_BIN" -c "$T/incident.conf" \
		note 2 "odd name"
	check "an odd SUDO_USER is not taken" test "$(events 2 | jq -r 'select(.type=="note") | .data.author' | tail -n 1)" = "root@$(hostname)"
else
	echo "(not root: the sudo case is not tested)"
fi
write_config

echo "# a reader that leaves early: read commands end quietly, exit 0"
for c in "report 2" "report 2 --format html" "timeline 2" "export 2 --format jsonl" "show 2"; do
	# shellcheck disable=SC2086
	{
		sleep 0.3
		rc=0
		incident $c 2>"$T/pipe-err" || rc=$?
		echo "$rc" >"$T/pipe-rc"
	} | true
	check "$c | (gone): exit 0" test "$(cat "$T/pipe-rc")" = 0
	check "$c | (gone): nothing on stderr" test ! -s "$T/pipe-err"
done
set +e
incident report 2 2>"$T/head-err" | head -n 1 >/dev/null
rc=${PIPESTATUS[0]}
set -e
check "report | head: exit 0" test "$rc" = 0
check "report | head: quiet" test ! -s "$T/head-err"

echo "# TERM=dumb: no colour and no cursor codes, even on a terminal"
if command -v script >/dev/null; then
	run_pty() { # run_pty TERM FILE ARGS...: the command on a pty
		local term=$1 file=$2
		shift 2
		env -u NO_COLOR TERM="$term" script -q -e -c \
			"$INCIDENT_BIN -c $T/incident.conf $*" "$file" \
			>/dev/null </dev/null 2>&1 || true
	}
	run_pty xterm "$T/ts-xterm" timeline 2
	check "xterm: colour (the check can see it)" grep -q $'\x1b\\[' "$T/ts-xterm"
	run_pty dumb "$T/ts-dumb" timeline 2
	check "dumb: timeline written" grep -q "INC-2" "$T/ts-dumb"
	check "dumb: no escape in timeline" test -z "$(tr -dc '\033' <"$T/ts-dumb")"
	run_pty dumb "$T/ts-replay" replay 2 --speed 1000 --max-idle 0
	check "dumb: replay written" grep -q "health" "$T/ts-replay"
	check "dumb: no escape in replay" test -z "$(tr -dc '\033' <"$T/ts-replay")"
	run_pty dumb "$T/ts-stop" stop --yes --reason dumb-terminal
	check "dumb: live display written" grep -q "stop" "$T/ts-stop"
	check "dumb: no escape in the live display" test -z "$(tr -dc '\033' <"$T/ts-stop")"
	run_pty xterm "$T/ts-stop2" stop --yes --reason xterm
	check "xterm: live redraw (the check can see it)" grep -q $'\x1b\\[2K' "$T/ts-stop2"
else
	fail "script(1) is not installed"
fi

finish
