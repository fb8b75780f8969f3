#!/usr/bin/env bash
# Stats benchmark: `incident stats` over 1,000 recorded incidents against
# one scan of every incident's events with their chains (`incident
# verify`, the baseline: the headers and every event read once), and
# `show --at` of one of them.  Prints the medians and the ratio (target:
# stats within 2x of the scan).
#
# Environment: INCIDENT_BIN; INCIDENTS (default 1000), ROUNDS (default 5).
set -uo pipefail
: "${INCIDENT_BIN:?}"
N=${INCIDENTS:-1000}
ROUNDS=${ROUNDS:-5}
T=$(mktemp -d "${TMPDIR:-/tmp}/ir-bench-stats-XXXXXX")
trap 'rm -rf "$T"' EXIT
cat >"$T/incident.conf" <<CONF
[core]
	data-dir = $T/data
[deploy]
	dir = $T
[stop]
	process = no-such-process-$$-bench
	command = true
CONF
incident() { "$INCIDENT_BIN" -c "$T/incident.conf" "$@"; }
echo "recording $N stop incidents..."
for i in $(seq 1 "$N"); do
	incident stop --yes --reason "bench $i" >/dev/null 2>&1 || { echo "stop failed"; exit 1; }
done
ms() { local s=$(date +%s%N); "$@" >/dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
stats=() scan=() show=()
for r in $(seq 1 "$ROUNDS"); do
	stats+=("$(ms incident stats)")
	scan+=("$(ms incident verify)")
	show+=("$(ms incident show 500 --at +0.001)")
done
s=$(median "${stats[@]}") v=$(median "${scan[@]}") w=$(median "${show[@]}")
echo "stats over $N incidents: ${s} ms; one scan (verify): ${v} ms; ratio $(awk -v a="$s" -v b="$v" 'BEGIN {printf "%.2f", b ? a / b : 0}')x (target <= 2x)"
echo "show --at of one incident: ${w} ms"
