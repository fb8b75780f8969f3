#!/usr/bin/env bash
# Rollback benchmark: `incident rollback` of a demo-like deployment against
# a bash script running the runbook's own commands (pgrep, git tag | sort
# -r | sed -n 2p, git checkout, cp -r, curl polled every 50 ms) on the same
# deployment, alternated in one run.  Prints the median ratio and the
# tool's own overhead (its wall time minus the time it spent waiting on
# child processes, sleeps and health polls, as recorded in incident.closed).
#
# Environment: INCIDENT_BIN, TRADING_NODE; ROUNDS (default 15: single
# runs vary by tens of percent on a shared machine).
. "$(dirname "$0")/../integration/lib.sh"
set +e

ROUNDS=${ROUNDS:-15}
make_three_tags
# The runbook's script needs the config backups where it can cp them.
cat >"$T/runbook.sh" <<SH
#!/usr/bin/env bash
# The runbook's Quick Rollback, by hand.
set -e
cd "$D"
if pgrep -f "trading_node --port $PORT" >/dev/null; then
	./scripts/emergency_stop.sh >/dev/null
	while pgrep -f "trading_node --port $PORT" >/dev/null; do sleep 0.05; done
fi
TAG=\$(git tag -l "deploy-*" | sort -r | sed -n '2p')
git checkout -q "\$TAG"
if [ -d "$T/backup/config-\${TAG#deploy-}" ]; then
	cp -r "$T/backup/config-\${TAG#deploy-}/." config/
fi
./scripts/start.sh >/dev/null
until [ "\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/status)" = 200 ]; do
	sleep 0.05
done
git log -1 --oneline >/dev/null
tail -20 logs/trading.log >/dev/null
SH
chmod +x "$T/runbook.sh"

reset_deploy() {
	pkill -KILL -f "trading_node --port $PORT" 2>/dev/null
	while pgrep -f "trading_node --port $PORT" >/dev/null; do sleep 0.01; done
	git -C "$D" checkout -q -f "$TAG3"
	git -C "$D" clean -q -fd config
	start_node
}

ms_since() {
	echo $(( ($(date +%s%N) - $1) / 1000000 ))
}

# The same rollback with signed checkpoints off: what they cost.
sed '/^\[checkpoint\]/,$d' "$T/incident.conf" >"$T/unsigned.conf"
printf '[checkpoint]\n\tsign = false\n' >>"$T/unsigned.conf"

tool=() script=() over=() unsigned=() over_unsigned=() opened=() stopped=()
for r in $(seq 1 "$ROUNDS"); do
	# Signed and unsigned, in turn first: neither always follows the
	# other's warm cache.
	for conf in $([ $((r % 2)) = 1 ] && echo "signed unsigned" || echo "unsigned signed"); do
		reset_deploy
		c=$T/incident.conf
		[ "$conf" = unsigned ] && c=$T/unsigned.conf
		t0=$(date +%s%N)
		"$INCIDENT_BIN" -c "$c" rollback --yes --no-color >/dev/null 2>&1 ||
			{ echo "$conf rollback failed"; exit 1; }
		ms=$(ms_since "$t0")
		last=$(incident list --json | jq -r '.[0].id')
		o=$(events "$last" | jq -r 'select(.type=="incident.closed") | .data.duration_ms - .data.wait_ms')
		if [ "$conf" = signed ]; then
			tool+=("$ms")
			over+=("$o")
			# From exec to the incident opened, and to trading
			# stopped (the stop step's end).
			opened+=("$(events "$last" | jq -r --argjson t0 "$t0" 'select(.type=="incident.opened") | (.ts - $t0) / 1000000 | floor')")
			stopped+=("$(events "$last" | jq -r --argjson t0 "$t0" 'select(.type=="step.completed" and .step=="stop") | (.ts - $t0) / 1000000 | floor')")
		else
			unsigned+=("$ms")
			over_unsigned+=("$o")
		fi
	done
	reset_deploy
	t0=$(date +%s%N)
	"$T/runbook.sh" || { echo "runbook script failed"; exit 1; }
	script+=("$(ms_since "$t0")")
done

median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
mt=$(median "${tool[@]}")
ms=$(median "${script[@]}")
mo=$(median "${over[@]}")
# Each round's two runs are back to back, under the same load: the median
# of their ratios is the steadier figure on a shared machine.
ratios=()
for i in "${!tool[@]}"; do
	ratios+=("$(awk -v t="${tool[$i]}" -v s="${script[$i]}" 'BEGIN { printf "%.3f", t / s }')")
done
mr=$(median "${ratios[@]}")
mu=$(median "${unsigned[@]}")
mou=$(median "${over_unsigned[@]}")
signed_ratios=()
for i in "${!tool[@]}"; do
	signed_ratios+=("$(awk -v t="${tool[$i]}" -v s="${unsigned[$i]}" 'BEGIN { printf "%.3f", t / s }')")
done
msr=$(median "${signed_ratios[@]}")
echo "rollback: incident ${tool[*]} ms; runbook script ${script[*]} ms"
awk -v t="$mt" -v s="$ms" -v o="$mo" -v r="$mr" -v n="$ROUNDS" 'BEGIN {
	printf "rollback median: incident %d ms, runbook script %d ms, ratio %.2fx (target <= 1.0)\n", t, s, t / s
	printf "median of the %d per-round ratios (the pair run back to back): %.2fx\n", n, r
	printf "incident own overhead (wall - waiting on children and polls): median %d ms (target < 50 ms)\n", o
}'
echo "from exec: incident opened at $(median "${opened[@]}") ms, trading stopped at $(median "${stopped[@]}") ms (medians)"
echo "rollback without checkpoints: ${unsigned[*]} ms"
awk -v t="$mt" -v u="$mu" -v o="$mo" -v ou="$mou" -v r="$msr" 'BEGIN {
	printf "checkpoints: rollback median %d ms signed, %d ms unsigned; median per-round ratio %.3fx\n", t, u, r
	printf "checkpoints: own overhead median %d ms signed, %d ms unsigned: %+d ms (target <= 2 ms)\n", o, ou, o - ou
}'

# Start-up: `incident status` (config, log, git, /proc, one probe of the
# healthy node) against `incident --version` (loading the binary and its
# libraries) and /bin/true (a process), 20 runs each.
us_of() {
	local t0 i
	t0=$(date +%s%N)
	for i in $(seq 1 20); do "$@" >/dev/null 2>&1; done
	echo $(( ($(date +%s%N) - t0) / 20000 ))
}
reset_deploy
st=$(us_of incident status) ver=$(us_of "$INCIDENT_BIN" --version) tr=$(us_of /bin/true)
awk -v s="$st" -v v="$ver" -v t="$tr" 'BEGIN {
	printf "start-up: status %.1f ms (target <= 15 ms), --version %.1f ms, /bin/true %.1f ms\n", s / 1000, v / 1000, t / 1000
}'
