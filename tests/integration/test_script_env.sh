#!/usr/bin/env bash
# What a step's script can rely on: its environment (INCIDENT_ID, _STEP,
# _FROM, _TARGET, over whatever the caller had set), and its own
# step.started already in the log, readable by another process, before
# the script runs.  The stop and start scripts here run `incident export`
# themselves and keep what they saw under $T.
. "$(dirname "$0")/lib.sh"

make_deployment
TAG1=deploy-20260101-100000
TAG2=deploy-20260102-100000
TAG3=deploy-20260103-100000
# The export comes first: nothing else the step does may commit it in
# between.  Each script also notes its environment.
cat >"$D/scripts/emergency_stop.sh" <<SH
#!/bin/sh
"$INCIDENT_BIN" -c "$T/incident.conf" export "\$INCIDENT_ID" --format jsonl >"$T/seen-\$INCIDENT_ID-\$INCIDENT_STEP.jsonl" 2>&1
echo "\$INCIDENT_ID \$INCIDENT_STEP from=\$INCIDENT_FROM target=\$INCIDENT_TARGET" >>"$T/env.log"
pid=\$(cat run/node.pid 2>/dev/null) || exit 0
kill "\$pid" 2>/dev/null || true
SH
cat >"$D/scripts/start.sh" <<SH
#!/bin/sh
"$INCIDENT_BIN" -c "$T/incident.conf" export "\$INCIDENT_ID" --format jsonl >"$T/seen-\$INCIDENT_ID-\$INCIDENT_STEP.jsonl" 2>&1
echo "\$INCIDENT_ID \$INCIDENT_STEP from=\$INCIDENT_FROM target=\$INCIDENT_TARGET" >>"$T/env.log"
nohup "$TRADING_NODE" --port $PORT --dir "$D" --port-file "$D/run/port" >>"$D/run/node.out" 2>&1 &
echo \$! > "$D/run/node.pid"
SH
git -C "$D" -c user.name=t -c user.email=t@t commit -qam "scripts that look"
git -C "$D" tag -f "$TAG1" >/dev/null
commit_version v2 good "$TAG2"
commit_version v3 broken "$TAG3"
(cd "$D" && INCIDENT_ID=by-hand ./scripts/start.sh)
wait_for_port

# started_seen INC STEP: the last step.started the STEP script saw.
started_seen() {
	jq -r 'select(.type=="step.started") | .step' "$T/seen-INC-$1-$2.jsonl" | tail -n 1
}

echo "# a rollback: each script sees its own step.started"
expect_exit 0 env INCIDENT_TARGET=from-the-caller INCIDENT_FROM=from-the-caller \
	INCIDENT_STEP=caller INCIDENT_ID=caller "$INCIDENT_BIN" -c "$T/incident.conf" rollback --yes
check "stop saw its step.started" test "$(started_seen 1 stop)" = stop
check "start saw its step.started" test "$(started_seen 1 start)" = start
check "and the target chosen before it" test "$(jq -r 'select(.type=="target.chosen") | .data.to' "$T/seen-INC-1-start.jsonl")" = "$TAG2"
# (The target is chosen at the checkout, after the stop.)
check "stop's id and step" test "$(grep '^INC-1 stop ' "$T/env.log" | cut -d' ' -f1-2)" = "INC-1 stop"
not_contains "$(cat "$T/env.log")" "caller" "the scripts' environment"
check "start's environment" test "$(grep '^INC-1 start ' "$T/env.log")" = "INC-1 start from=$TAG3 target=$TAG2"
check "healthy at $TAG2" test "$(http_status)" = 200

echo "# incident stop: the same for its script"
expect_exit 0 env INCIDENT_TARGET=from-the-caller INCIDENT_FROM=from-the-caller \
	"$INCIDENT_BIN" -c "$T/incident.conf" stop --yes
check "stop saw its step.started" test "$(started_seen 2 stop)" = stop
check "stop's environment" test "$(grep '^INC-2 ' "$T/env.log")" = "INC-2 stop from= target="
check "stopped" test "$(node_count)" -eq 0

finish
