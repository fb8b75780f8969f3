#!/usr/bin/env bash
# Fleet benchmark: five node sandboxes and a 3-member etcd cluster on
# loopback ports, rolled back in waves 1,2,rest with --max-unavailable 2,
# ROUNDS times.  Baselines in the same run: one node's own `incident stop`
# and `incident rollback` (no fleet, no etcd) on a sixth sandbox.
# Prints: plan to every node stopped (against the single stop), each
# wave's latency (its first rollback opened to its last closed, against
# the single rollback), the whole run, the most rollbacks ever in flight
# against --max-unavailable, and the mirror's lag (a node's last event to
# its digest in etcd).
#
# Environment: INCIDENT_BIN, TRADING_NODE; ROUNDS (default 3).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/etcd.sh"
. "$(dirname "$0")/../integration/fleet.sh"
set +e

ROUNDS=${ROUNDS:-3}
CAP=2
etcd_start
fleet_origin
for n in a b c d e z; do fleet_node "$n"; done
for n in a b c d e; do fleet_agent "$n"; done
wait_for "a leader" sh -c "ETCDCTL_API=3 etcdctl --endpoints '$ETCD_ENDPOINTS' get --print-value-only /incident/v1/fleet/prod/leader | grep -q ."

op() { "$INCIDENT_BIN" -c "$T0/n/a/incident.conf" "$@"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

# The baseline: node z alone, its own stop and rollback, as the runbook.
reset_z() {
	node_reset z
	T=$T0
}
single_stop=() single_rb=()
for r in $(seq 1 "$ROUNDS"); do
	reset_z
	t0=$(date +%s%N)
	node_incident z stop --yes >/dev/null 2>&1 || echo "z: stop failed"
	single_stop+=("$(ms_since "$t0")")
	reset_z
	t0=$(date +%s%N)
	node_incident z rollback "$TAG2" --yes --force >/dev/null 2>&1 || echo "z: rollback failed"
	single_rb+=("$(ms_since "$t0")")
done

total=() stopped=() inflight=() lag=() waves=()
declare -A wave_ms
for r in $(seq 1 "$ROUNDS"); do
	fleet_reset
	tag=$TAG2
	[ $((r % 2)) = 0 ] && tag=$TAG1
	t0=$(date +%s%N)
	op --json fleet rollback "$tag" --fleet prod --nodes a,b,c,d,e \
		--waves 1,2,rest --max-unavailable "$CAP" >"$T/plan.json" 2>"$T/follow.err" ||
		{ echo "fleet rollback failed: $(tail -3 "$T/follow.err")"; dump_agents; exit 1; }
	total+=("$(ms_since "$t0")")
	planned=$(op fleet report prod --format json | jq .planned)
	# Phase 0: the latest stopped/<node> answer after the plan.
	last_stop=$(etcdctl_ get --prefix --print-value-only /incident/v1/fleet/prod/stopped/ |
		jq -s 'map(.ts) | max')
	stopped+=("$(( (last_stop - planned) / 1000000 ))")
	op fleet report prod --format json >"$T/report.json"
	# Each rollback's span, from its mirrored digests.
	jq '[.nodes[] | {node, inc, wave}] as $rb
		| [.timeline[] | select(.type == "incident.opened" or .type == "incident.closed")
		   | . as $e | ($rb[] | select(.node == $e.node and .inc == $e.inc)) as $n
		   | {node, wave: $n.wave, type, ts}]' "$T/report.json" >"$T/spans.json"
	for w in 1 2 3; do
		ms=$(jq --argjson w "$w" '[.[] | select(.wave == $w)]
			| ((map(select(.type == "incident.closed").ts) | max)
			   - (map(select(.type == "incident.opened").ts) | min)) / 1000000 | floor' "$T/spans.json")
		wave_ms[$w]+="$ms "
	done
	inflight+=("$(jq '[.[] | {ts, d: (if .type == "incident.opened" then 1 else -1 end)}]
		| sort_by(.ts) | reduce .[] as $e ({n: 0, max: 0}; .n += $e.d
		| .max = ([.max, .n] | max)) | .max' "$T/spans.json")")
	lag+=($(fstatus prod | jq '.nodes[].mirror_lag_ms'))
done

ms=$(median "${single_stop[@]}")
mr=$(median "${single_rb[@]}")
mt=$(median "${total[@]}")
mst=$(median "${stopped[@]}")
echo "fleet: 5 nodes, waves 1,2,rest, max-unavailable $CAP, 3 etcd members, $ROUNDS rounds"
echo "single node (baseline): stop ${single_stop[*]} ms, rollback ${single_rb[*]} ms"
echo "fleet rollback, plan to done: ${total[*]} ms"
awk -v s="$mst" -v b="$ms" 'BEGIN {
	printf "plan to every node stopped: median %d ms; one node'"'"'s own stop %d ms (%.1fx)\n", s, b, s / b }'
for w in 1 2 3; do
	# shellcheck disable=SC2086
	m=$(median ${wave_ms[$w]})
	awk -v w="$w" -v m="$m" -v b="$mr" -v all="${wave_ms[$w]}" 'BEGIN {
		printf "wave %d: %sms; median %d ms, one rollback alone %d ms (%.2fx)\n", w, all, m, b, m / b }'
done
echo "most rollbacks in flight at once: ${inflight[*]} (max-unavailable $CAP)"
maxlag=$(printf '%s\n' "${lag[@]}" | sort -n | tail -1)
awk -v m="$(median "${lag[@]}")" -v x="$maxlag" -v t="$mt" 'BEGIN {
	printf "mirror lag (last event to its digest in etcd): median %d ms, max %d ms; whole run median %d ms\n", m, x, t }'
