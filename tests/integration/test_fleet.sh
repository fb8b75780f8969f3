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
contains "$(cat "$T/$lost.err")" "refused: plan $(jq .plan "$T/$won.out")"
contains "$(cat "$T/$lost.err")" "roll back to $tag"
wait_for "the fleet done" fleet_is prod '.done == "succeeded"'
fstatus prod >"$T/status.json"
check "every node succeeded" test "$(jq '[.nodes[] | select(.state == "succeeded")] | length' "$T/status.json")" = 5
for n in a b c d e; do
	check "$n is at $tag" test "$(git -C "${NODE_DIR[$n]}" rev-parse HEAD)" = "$(git -C "$T0/origin" rev-parse "$tag^{commit}")"
	check "$n's mirrored head is its log's" mirrored_matches prod "$n"
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

for n in a b c d e; do
	node_incident "$n" simulate --all --keep-going >"$T/sim.out" 2>&1 || fail "simulate on $n: $(cat "$T/sim.out")"
done
echo "# $CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]
