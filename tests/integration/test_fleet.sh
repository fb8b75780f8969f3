#!/bin/bash
# incident fleet: five node sandboxes (each its own deployment, data
# directory, trading node and agent) and a real 3-member etcd cluster.
# A good run in waves, two operators planning at once, an abort
# mid-wave, a stale status from an old plan, an agent stopped past its
# lease, the leader killed, and two etcd members killed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd.sh"
. "$(dirname "$0")/fleet.sh"

etcd_start
fleet_origin
for n in a b c d e; do fleet_node "$n"; done
for n in a b c d e; do fleet_agent "$n"; done
wait_for "a leader" sh -c "ETCDCTL_API=3 etcdctl --endpoints '$ETCD_ENDPOINTS' get --print-value-only /incident/v1/fleet/prod/leader | grep -q ."

op() { "$INCIDENT_BIN" -c "$T0/n/a/incident.conf" "$@"; }

# rollbacks N: how many rollback incidents node N's log holds.
rollbacks() {
	node_incident "$1" --json list | jq '[.[] | select(.kind == "rollback")] | length'
}

# last_rollback N: node N's newest rollback incident (id, status, head).
last_rollback() {
	node_incident "$1" --json list | jq -c '[.[] | select(.kind == "rollback")][0]'
}

# mirrored_matches F N: node N's mirrored head in etcd is the head of
# its newest rollback in its own log, and that log verifies.
mirrored_matches() {
	local inc head vhead
	inc=$(last_rollback "$2" | jq -r .id)
	head=$(fstatus "$1" | jq -r --arg n "$2" '.nodes[] | select(.node == $n) | .head')
	vhead=$(node_incident "$2" --json verify "$inc" | jq -r '.incidents[0].head')
	[ -n "$head" ] && [ "$head" = "$vhead" ] &&
		[ "$(fstatus "$1" | jq -r --arg n "$2" '.nodes[] | select(.node == $n) | .head_inc')" = "$inc" ]
}

# mirrored_checkpoint F N: the head in etcd carries the root of the last
# signed checkpoint in node N's newest rollback, as its log has it.
mirrored_checkpoint() {
	local inc want got
	inc=$(last_rollback "$2" | jq -r .id)
	want=$(node_incident "$2" export "$inc" --format jsonl |
		jq -r -s 'map(select(.type == "checkpoint" and .data.root)) | last | .data.root')
	got=$(fstatus "$1" | jq -r --arg n "$2" '.nodes[] | select(.node == $n) | .checkpoint_root')
	[ -n "$want" ] && [ "$want" != null ] && [ "$got" = "$want" ]
}

echo "# two operators plan at once: one plan"
op --json fleet rollback "$TAG2" --fleet prod --nodes a,b,c,d,e --waves 1,2,rest \
	--max-unavailable 2 --no-wait >"$T/op1.out" 2>"$T/op1.err" &
p1=$!
op --json fleet rollback "$TAG1" --fleet prod --nodes e,d,c,b,a --waves rest \
	--max-unavailable 5 --no-wait >"$T/op2.out" 2>"$T/op2.err" &
p2=$!
rc1=0 rc2=0
wait $p1 || rc1=$?
wait $p2 || rc2=$?
check "exactly one plan written ($rc1, $rc2)" test "$((rc1 + rc2))" = 3
if [ "$rc1" = 0 ]; then
	won=op1 lost=op2 tag=$TAG2 cap=2
else
	won=op2 lost=op1 tag=$TAG1 cap=5
fi
# Watched while it runs: one JSON line per change, until done.
op --json fleet status prod --watch >"$T/watch.out" 2>"$T/watch.err" &
watcher=$!
contains "$(cat "$T/$lost.err")" "refused: plan $(jq .plan "$T/$won.out")"
contains "$(cat "$T/$lost.err")" "roll back to $tag"
wait_for "the fleet done" fleet_is prod '.done == "succeeded"'
# gone PID: the process has exited (a zombie not yet waited for counts).
gone() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -z "$st" ] || [ "${st#Z}" != "$st" ]
}
wait_for "the watch ended with the run" gone "$watcher"
check "the watch exited 0" wait "$watcher"
# Every wave of the plan that won (phase 0 may be over before it looks).
check "the watch saw the waves go by" test "$(jq -s '[.[].wave | select(. > 0)] | unique | length' "$T/watch.out")" = \
	"$(jq -s '.[-1].waves' "$T/watch.out")"
check "each change once, in revision order" \
	test "$(jq -s '[.[].revision] | . == (sort | unique)' "$T/watch.out")" = true
check "its last line is the end" test "$(tail -1 "$T/watch.out" | jq -r .done)" = succeeded
expect_exit 0 op fleet status prod --watch
contains "$OUT" "done: succeeded" "a watch of a finished run shows it and ends"
expect_exit 2 op fleet status prod --bogus
fstatus prod >"$T/status.json"
check "every node succeeded" test "$(jq '[.nodes[] | select(.state == "succeeded")] | length' "$T/status.json")" = 5
for n in a b c d e; do
	check "$n is at $tag" test "$(git -C "${NODE_DIR[$n]}" rev-parse HEAD)" = "$(git -C "$T0/origin" rev-parse "$tag^{commit}")"
	check "$n's mirrored head is its log's" mirrored_matches prod "$n"
	check "$n's mirrored head carries its last checkpoint" mirrored_checkpoint prod "$n"
	check "$n: incident.opened names the fleet" test "$(node_incident "$n" export "$(last_rollback "$n" | jq .id)" --format jsonl | jq -r 'select(.type == "incident.opened") | .data.fleet')" = prod
done

echo "# the report: one timeline, by time then host"
expect_exit 0 op fleet report prod --format json
check "timeline sorted by time" test "$(jq '[.timeline[].ts] | . == sort' <<<"$OUT")" = true
check "every node in the timeline" test "$(jq '[.timeline[].node] | unique | length' <<<"$OUT")" = 5
check "no output lines mirrored" test "$(jq '[.timeline[] | select(.type == "step.output")] | length' <<<"$OUT")" -gt 0
check "digests carry no data" test "$(jq '[.timeline[] | keys[]] | unique | join(",")' -r <<<"$OUT")" = "inc,node,seq,sha256,step,ts,type"
# The most nodes in flight at once, from the mirrored rollbacks.
inflight=$(jq '[.nodes[] | .node + ":" + (.inc|tostring)] as $rb | [.timeline[] | select(.type == "incident.opened" or .type == "incident.closed") | select((.node + ":" + (.inc|tostring)) as $k | $rb | index($k)) | {ts, d: (if .type == "incident.opened" then 1 else -1 end), node, inc}]
	| group_by(.node + ":" + (.inc|tostring)) | map(select(length == 2)) | flatten | sort_by(.ts)
	| reduce .[] as $e ({n: 0, max: 0}; .n += $e.d | .max = ([.max, .n] | max)) | .max' <<<"$OUT")
echo "# most rollbacks in flight at once: $inflight (max-unavailable $cap)"
check "never more in flight than --max-unavailable" test "$inflight" -le "$cap" -a "$inflight" -ge 1
expect_exit 0 op fleet report prod
contains "$OUT" "# Fleet prod"
contains "$OUT" "No clock skew"
expect_exit 0 op fleet report prod --format html -o "$T/fleet.html"
html=$(cat "$T/fleet.html")
contains "$html" "<!DOCTYPE html>" "html report"
contains "$html" "<h2>Timeline</h2>" "html report: the timeline"
check "html: a row per mirrored event" test "$(grep -c '^<tr><td>' "$T/fleet.html")" = \
	"$(( $(jq '.nodes | length' <<<"$(op fleet report prod --format json)") + $(jq '.timeline | length' <<<"$(op fleet report prod --format json)") ))"
check "html: well-formed" python3 -c "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])" "$T/fleet.html"
expect_exit 2 op fleet report prod --format pdf

declare -A RB
count_rollbacks() {
	local n
	for n in a b c d e; do RB[$n]=$(rollbacks "$n"); done
}
state_is() { fleet_is prod ".nodes[] | select(.node == \"$1\") | .state == \"$2\""; }

echo "# abort mid-wave: no node starts after it; the one in flight holds"
fleet_reset
count_rollbacks
rm -f "$T0/gate-a"
expect_exit 0 op fleet rollback "$TAG1" --fleet prod --nodes a,b,c,d,e --waves 1,2,rest --no-wait
wait_for "a in flight" state_is a "rolling back"
expect_exit 0 op fleet abort prod --reason "P&L still wrong"
contains "$ERR" "fleet prod: aborted"
wait_for "a's agent told its rollback" grep -q "finishes its step and holds" "$T0/n/a/agent.log"
touch "$T0/gate-a"
wait_for "the fleet done" fleet_is prod '.done == "aborted"'
st=$(last_rollback a)
check "a holds: its rollback is open" test "$(jq -r .status <<<"$st")" = open
check "a held before start" test "$(node_incident a export "$(jq .id <<<"$st")" --format jsonl | jq -s '[.[] | select(.type == "step.started" and .step == "start")] | length')" = 0
check "a interrupted" test "$(node_incident a export "$(jq .id <<<"$st")" --format jsonl | jq -s '[.[] | select(.type == "incident.interrupted")] | length')" = 1
# Its agent reports it once its rollback has exited: maybe after the
# leader has marked the fleet done.
wait_for "a reports held" state_is a held
for n in b c d e; do
	check "$n never started" test "$(rollbacks "$n")" = "${RB[$n]}"
done
check "a's mirrored head is its log's" mirrored_matches prod a
# a is held, stopped; its operator closes the rollback (or resumes it).
expect_exit 0 node_incident a abort "$(jq .id <<<"$st")"

echo "# a stale status from an old plan does not advance the wave"
fleet_reset
count_rollbacks
rm -f "$T0/gate-a"
expect_exit 0 op --json fleet rollback "$TAG2" --fleet prod --nodes a,b,c,d,e --waves 1,2,rest --no-wait
plan=$(jq .plan <<<"$OUT")
wait_for "a in flight" state_is a "rolling back"
commit=$(git -C "$T0/origin" rev-parse "$TAG2^{commit}")
etcdctl_ put /incident/v1/fleet/prod/status/a \
	"{\"plan\":$((plan - 1)),\"commit\":\"$commit\",\"status\":\"succeeded\",\"inc\":1,\"ts\":0}" >/dev/null
# Several of the leader's rounds (each at most a second apart).
sleep 2
check "the wave stays at 1" fleet_is prod '.wave == 1'
check "a's status is seen as stale" fleet_is prod '.nodes[] | select(.node == "a") | .stale_status'
check "wave 2 did not start" test "$(rollbacks b)" = "${RB[b]}"
touch "$T0/gate-a"
wait_for "the fleet done" fleet_is prod '.done == "succeeded"'

echo "# an agent stopped past its lease: counted unknown, its slot freed"
fleet_reset
count_rollbacks
rm -f "$T0/gate-a"
expect_exit 0 op fleet rollback "$TAG1" --fleet prod --nodes a,b,c,d,e --waves 1,2,rest --max-failures 1 --no-wait
wait_for "a in flight" state_is a "rolling back"
kill -STOP "${AGENT_PID[a]}"
wait_for "a counted unknown" state_is a unknown
check "a's slot is freed" test -z "$(etcdctl_ get --prefix --print-value-only /incident/v1/fleet/prod/slot/ | grep -x a)"
touch "$T0/gate-a"
kill -CONT "${AGENT_PID[a]}"
wait_for "the fleet done" fleet_is prod '.done != null'
check "the run failed (one node unknown)" fleet_is prod '.done == "failed"'
check "a stays unknown" state_is a unknown
wait_for "a's agent did not write over the fence" grep -q "is no longer this node's" "$T0/n/a/agent.log"
for n in b c d e; do check "$n succeeded" state_is "$n" succeeded; done

echo "# the leader killed: another is elected, the run goes on"
fleet_reset
count_rollbacks
L=$(etcdctl_ get --print-value-only /incident/v1/fleet/prod/leader)
G=a
[ "$L" = a ] && G=b
order=$G
for n in a b c d e; do [ "$n" = "$G" ] || order+=",$n"; done
rm -f "$T0/gate-$G"
expect_exit 0 op fleet rollback "$TAG2" --fleet prod --nodes "$order" --waves 1,2,rest --no-wait
wait_for "$G in flight" state_is "$G" "rolling back"
kill -KILL "${AGENT_PID[$L]}"
wait "${AGENT_PID[$L]}" 2>/dev/null || true
wait_for "a new leader" fleet_is prod ".leader != \"$L\" and .leader != \"\""
echo "# leader $L killed; $(fstatus prod | jq -r .leader) leads"
fleet_agent "$L" # its supervisor starts it again
touch "$T0/gate-$G"
wait_for "the fleet done" fleet_is prod '.done == "succeeded"'
check "every node succeeded" test "$(fstatus prod | jq '[.nodes[] | select(.state == "succeeded")] | length')" = 5
check "$L rolled back once" test "$(rollbacks "$L")" = "$((RB[$L] + 1))"

echo "# two etcd members killed: nothing new starts, clean timeouts, then on"
fleet_reset
count_rollbacks
rm -f "$T0/gate-a"
expect_exit 0 op fleet rollback "$TAG1" --fleet prod --nodes a,b,c,d,e --waves 1,2,rest --max-unavailable 2 --no-wait
wait_for "a in flight" state_is a "rolling back"
etcd_kill 1
etcd_kill 2
touch "$T0/gate-a"
wait_for "a finished its rollback locally" sh -c "test \"\$(INCIDENT_DATA='$T0/n/a/data' '$INCIDENT_BIN' -c '$T0/n/a/incident.conf' --json list | jq -r '[.[] | select(.kind == \"rollback\")][0].status')\" = succeeded"
expect_exit 1 op fleet status prod
contains "$ERR" "timed out"
wait_for "a's agent says etcd is out of reach" grep -q "nothing new starts" "$T0/n/a/agent.log"
check "wave 2 did not start" test "$(rollbacks b)" = "${RB[b]}"
for n in a b c d e; do check "agent $n still runs" kill -0 "${AGENT_PID[$n]}"; done
etcd_revive 1
etcd_revive 2
etcd_wait_quorum || fail "quorum did not come back"
wait_for "the fleet done" fleet_is prod '.done == "succeeded"'
check "a's buffered status and digests reached etcd" mirrored_matches prod a
check "every node succeeded" test "$(fstatus prod | jq '[.nodes[] | select(.state == "succeeded")] | length')" = 5

# silent_node: a node that is not the leader (its agent is stopped below).
silent_node() {
	local l n
	l=$(etcdctl_ get --print-value-only /incident/v1/fleet/prod/leader)
	for n in e d; do [ "$n" != "$l" ] && { echo "$n"; return; }; done
}

# silence: every node reset, then S (not the leader) stopped: its agent
# will not answer the stop.
silence() {
	fleet_reset
	count_rollbacks
	S=$(silent_node)
	kill -STOP "${AGENT_PID[$S]}"
}

echo "# phase 0: a node that never answers the stop; the operator's decision"
silence
expect_exit 0 op fleet rollback "$TAG2" --fleet prod --nodes a,b,c,d,e \
	--waves 1,2,rest --max-failures 1 --stop-budget 2s --no-wait
wait_for "$S counted unknown" state_is "$S" unknown
check "the decision is recorded: go on without it" \
	fleet_is prod ".nodes[] | select(.node == \"$S\") | .decision.answer == \"yes\""
wait_for "the fleet done" fleet_is prod '.done != null'
check "the run failed (one node unknown)" fleet_is prod '.done == "failed"'
check "$S never rolled back" test "$(rollbacks "$S")" = "${RB[$S]}"
kill -CONT "${AGENT_PID[$S]}"
expect_exit 0 op fleet report prod
contains "$OUT" "## Decisions" "the report lists the decision"
contains "$OUT" "$S did not answer the stop within 2000 ms: go on without it?" "... its question"
contains "$OUT" "--unanswered proceed" "... and the rule that answered it"

echo "# ... and with --unanswered abort: nobody rolls back"
silence
expect_exit 0 op fleet rollback "$TAG1" --fleet prod --nodes a,b,c,d,e \
	--waves 1,2,rest --stop-budget 2s --unanswered abort --no-wait
wait_for "the fleet done" fleet_is prod '.done != null'
check "aborted" fleet_is prod '.done == "aborted"'
check "the decision: no" \
	fleet_is prod ".nodes[] | select(.node == \"$S\") | .decision.answer == \"no\""
for n in a b c d e; do
	check "$n never started" test "$(rollbacks "$n")" = "${RB[$n]}"
done
kill -CONT "${AGENT_PID[$S]}"
expect_exit 2 op fleet rollback "$TAG1" --fleet prod --nodes a --unanswered maybe


for n in a b c d e; do
	node_incident "$n" simulate --all --keep-going >"$T/sim.out" 2>&1 || fail "simulate on $n: $(cat "$T/sim.out")"
done
echo "# $CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]
