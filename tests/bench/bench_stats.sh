#!/usr/bin/env bash
# Stats benchmark: `incident stats` over 1,000 recorded incidents against
# one scan of every incident's events with their chains (`incident
# verify`, the baseline: the headers and every event read once), and
# `show --at` of one of them.  Prints the medians and the ratio (target:
# stats within 2x of the scan).
#
# Then the verdicts: with 200 deploy tags, none known-good, a rollback's
# start (`rollback --dry-run`: pre-flight and the target choice, which
# reads every older tag's verdict) and `incident tags` against a bare
# scan of the headers (`incident list`).  One walk of the incidents gives
# every verdict; one walk per tag was tags x incidents.
#
# Environment: INCIDENT_BIN; INCIDENTS (default 1000), TAGS (default
# 200), ROUNDS (default 5).
set -uo pipefail
: "${INCIDENT_BIN:?}"
N=${INCIDENTS:-1000}
TAGS=${TAGS:-200}
ROUNDS=${ROUNDS:-5}
T=$(mktemp -d "${TMPDIR:-/tmp}/ir-bench-stats-XXXXXX")
trap 'rm -rf "$T"' EXIT
cat >"$T/incident.conf" <<CONF
[core]
	data-dir = $T/data
[deploy]
	dir = $T/deploy
[stop]
	process = no-such-process-$$-bench
	command = true
[start]
	command = true
[health]
	url = http://127.0.0.1:9/status
CONF
git init -q "$T/deploy"
g() { git -C "$T/deploy" -c user.name=b -c user.email=b@b "$@"; }
for i in $(seq 1 "$TAGS"); do
	echo "$i" >"$T/deploy/VERSION"
	g add VERSION && g commit -qm "v$i" && g tag "$(printf 'deploy-20260101-%05d' "$i")"
done
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
start=() tags=() list=()
for r in $(seq 1 "$ROUNDS"); do
	start+=("$(ms incident rollback --dry-run)")
	tags+=("$(ms incident tags)")
	list+=("$(ms incident list)")
done
a=$(median "${start[@]}") b=$(median "${tags[@]}") l=$(median "${list[@]}")
echo "verdicts, $TAGS tags (none known-good) over $N incidents: rollback start (--dry-run) ${a} ms, tags ${b} ms; the headers' scan (list): ${l} ms; ratios $(awk -v a="$a" -v b="$b" -v l="$l" 'BEGIN {printf "%.2fx, %.2fx", l ? a / l : 0, l ? b / l : 0}')"
