# Shared helpers for the integration tests: each test drives the built
# `incident` binary against real processes, a real git repository made
# here, a real HTTP server on 127.0.0.1 and a private data directory.
#
# Environment (set by meson): INCIDENT_BIN, TRADING_NODE.
set -euo pipefail

: "${INCIDENT_BIN:?}" "${TRADING_NODE:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/ir-it-XXXXXX")
export INCIDENT_DATA="$T/data"
export NO_COLOR=1
unset INCIDENT_CONFIG
FAILS=0
CHECKS=0

cleanup() {
	# End every process this test started (matched by its private
	# folder on their command line), then remove the folder.  Its
	# background jobs are disowned first: their end is no news.
	disown -a 2>/dev/null || true
	pkill -KILL -f "$T" 2>/dev/null || true
	sleep 0.1
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

ok() {
	CHECKS=$((CHECKS + 1))
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
	local what=$1
	shift
	if "$@"; then ok; else fail "$what"; fi
}

# expect_exit CODE COMMAND...: run the command, keep stdout in $OUT and
# stderr in $ERR, and check its exit code.
expect_exit() {
	local want=$1 got=0
	shift
	"$@" >"$T/out" 2>"$T/err" </dev/null || got=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	if [ "$got" != "$want" ]; then
		fail "expected exit $want, got $got: $*"
		echo "--- stdout" >&2
		tail -n 20 "$T/out" >&2
		echo "--- stderr" >&2
		tail -n 30 "$T/err" >&2
	else
		ok
	fi
}

contains() {
	local haystack=$1 needle=$2 what=${3:-output}
	if [[ "$haystack" == *"$needle"* ]]; then ok; else
		fail "$what does not contain \"$needle\""
		printf '%s\n' "$haystack" | tail -n 20 >&2
	fi
}

not_contains() {
	local haystack=$1 needle=$2 what=${3:-output}
	if [[ "$haystack" != *"$needle"* ]]; then ok; else
		fail "$what contains \"$needle\""
	fi
}

incident() {
	"$INCIDENT_BIN" -c "$T/incident.conf" "$@"
}

# events INC: the incident's events as JSON lines.
events() {
	incident export "$1" --format jsonl
}

# drill_answers INC: the answers the incident recorded, one per line, in
# the order a drill asks them (each question once, the first time).
drill_answers() {
	events "$1" | jq -r 'select((.type == "decision" and (.data.question |
		IN("trading active?", "escalate?", "data at risk?",
		   "restore database?"))) or .type == "target.chosen")
		| if .type == "target.chosen" then "target " + .data.to
		  else .data.question + " " + .data.answer end' |
		awk '!seen[$0 ~ /^target / ? "target" : substr($0, 1, index($0, "?"))]++ { sub(/^target /, ""); sub(/^.*\? /, ""); print }'
}

# event_types INC: "type step" per line.
event_types() {
	events "$1" | jq -r '.type + (if .step then " " + .step else "" end)'
}

# A free TCP port on 127.0.0.1, below the ephemeral range: a port the
# kernel may hand to an outgoing connection (curl, etcd's peers in a test
# beside this one) cannot be bound while that connection lasts.
free_port() {
	local port lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	[ "$lo" -gt 21000 ] || lo=32768
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % (lo - 20000)))
		if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	echo 0
}

# A deployment: a git work tree with scripts that start and stop the
# stand-in trading node, and deploy tags.  $D is the work tree, $PORT the
# node's port.
make_deployment() {
	D="$T/deploy"
	PORT=$(free_port)
	# This test's trading nodes, and no other test's (pgrep -f).
	NODE_MATCH="trading_node --port $PORT --dir $D --port-file"
	mkdir -p "$D/scripts" "$D/config" "$D/app" "$D/logs" "$D/run"
	# Both scripts note what incident told them in run/env.log.
	cat >"$D/scripts/start.sh" <<SH
#!/bin/sh
# Start the trading node in the background and return.
cd "\$(dirname "\$0")/.."
echo "\${INCIDENT_ID:-} \${INCIDENT_STEP:-} from=\${INCIDENT_FROM:-} target=\${INCIDENT_TARGET:-}" >>run/env.log
nohup "$TRADING_NODE" --port $PORT --dir "$D" --port-file "$D/run/port" \${NODE_ARGS:-} >>"$D/run/node.out" 2>&1 &
echo \$! > "$D/run/node.pid"
echo "started trading node pid \$!"
SH
	cat >"$D/scripts/emergency_stop.sh" <<'SH'
#!/bin/sh
# Stop the trading node: SIGTERM, as the runbook's emergency stop does.
echo "${INCIDENT_ID:-} ${INCIDENT_STEP:-} from=${INCIDENT_FROM:-} target=${INCIDENT_TARGET:-}" >>run/env.log
pid=$(cat run/node.pid 2>/dev/null) || exit 0
echo "stopping trading node pid $pid"
kill "$pid" 2>/dev/null || true
SH
	cat >"$D/scripts/shutdown.sh" <<'SH'
#!/bin/sh
# shutdown.sh force: SIGKILL.
pid=$(cat run/node.pid 2>/dev/null) || exit 0
echo "force-killing trading node pid $pid"
kill -9 "$pid" 2>/dev/null || true
SH
	chmod +x "$D"/scripts/*.sh
	printf 'logs/\nrun/\n' >"$D/.gitignore"
	echo "risk_limit = 100" >"$D/config/risk.conf"
	echo "v1" >"$D/app/VERSION"
	echo "good" >"$D/app/MODE"
	git -C "$D" init -q -b main
	git -C "$D" -c user.name=t -c user.email=t@t add -A
	git -C "$D" -c user.name=t -c user.email=t@t commit -qm "v1"
	git -C "$D" tag deploy-20260101-100000
	write_config
}

# Commit a new version and tag it.  commit_version VERSION MODE TAG
commit_version() {
	echo "$1" >"$D/app/VERSION"
	echo "$2" >"$D/app/MODE"
	echo "risk_limit = ${4:-100}" >"$D/config/risk.conf"
	git -C "$D" -c user.name=t -c user.email=t@t add -A
	git -C "$D" -c user.name=t -c user.email=t@t commit -qm "$1"
	git -C "$D" tag "$3"
}

write_config() {
	cat >"$T/incident.conf" <<CONF
[core]
	data-dir = $T/data
[deploy]
	dir = $D
[stop]
	process = trading_node --port $PORT
	budget = ${STOP_BUDGET:-5s}
[start]
	budget = 20s
[health]
	url = http://127.0.0.1:$PORT/status
	budget = ${HEALTH_BUDGET:-10s}
[config]
	backup = $T/backup/config-{ts}
CONF
	if [ -n "${EXTRA_CONFIG:-}" ]; then
		printf '%s\n' "$EXTRA_CONFIG" >>"$T/incident.conf"
	fi
}

start_node() {
	(cd "$D" && NODE_ARGS="${1:-}" ./scripts/start.sh >/dev/null)
	wait_for_port
}

wait_for_port() {
	# Up to 10 s: under the sanitizers on a busy 2-core machine the node
	# can take seconds to start.
	for _ in $(seq 1 200); do
		if curl -s -o /dev/null "http://127.0.0.1:$PORT/status"; then
			return 0
		fi
		sleep 0.05
	done
	fail "trading node did not come up on port $PORT"
	if [ -n "${D:-}" ] && [ -f "$D/run/node.out" ]; then
		echo "--- $D/run/node.out" >&2
		tail -n 5 "$D/run/node.out" >&2
	fi
}

# kill_node: end this test's trading node and wait until it is gone (a
# new one started at once would find the port still taken).
kill_node() {
	pkill -KILL -f -- "$NODE_MATCH" 2>/dev/null || true
	for _ in $(seq 1 200); do
		pgrep -f -- "$NODE_MATCH" >/dev/null || return 0
		sleep 0.05
	done
	fail "trading node did not go away"
}

node_count() {
	pgrep -f -- "$NODE_MATCH" | wc -l
}

finish() {
	# The golden corpus: whatever this test recorded, today's runbook
	# replays without a divergence (a test that tampers with its log on
	# purpose says so with SIMULATE_EXPECT=2).
	if [ -e "$T/data/log/data.mdb" ]; then
		local rc=0
		"$INCIDENT_BIN" -c "$T/incident.conf" simulate --all --keep-going \
			>"$T/simulate.out" 2>&1 || rc=$?
		if [ "$rc" -ne "${SIMULATE_EXPECT:-0}" ]; then
			fail "simulate --all exited $rc: $(cat "$T/simulate.out")"
		else
			ok
			echo "# simulate --all: $(tail -n 1 "$T/simulate.out")"
		fi
	fi
	# Every closed runbook incident is also a drill: answered as it was
	# recorded, it runs end to end; from a succeeded one it scores 100.
	if [ -e "$T/data/log/data.mdb" ]; then
		local id kind status got score
		while read -r id kind status; do
			case "$kind" in rollback | stop | backup | deploy) ;; *) continue ;; esac
			[ "$status" != open ] || continue
			[ "$(events "$id" | jq -s '[.[] | select(.type == "decision" or .type == "target.chosen")] | length')" -gt 0 ] || continue
			got=0
			drill_answers "$id" | "$INCIDENT_BIN" -c "$T/incident.conf" \
				--json drill "$id" --speed 1000000 --max-idle 0 \
				>"$T/drill.out" 2>"$T/drill.err" || got=$?
			score=$(jq -r .score "$T/drill.out" 2>/dev/null || echo none)
			if [ "$got" -gt 1 ] || [ "$score" = none ]; then
				fail "drill of INC-$id exited $got: $(tail -n 3 "$T/drill.err")"
			elif [ "$status" = succeeded ] && [ "$score" != 100 ]; then
				fail "drill of succeeded INC-$id scored $score: answers $(drill_answers "$id" | tr '\n' ' '); $(grep -E 'off-script|: (wrong|forbidden|partial)' "$T/drill.err" | tr '\n' ' ')"
			else
				ok
			fi
		done < <("$INCIDENT_BIN" -c "$T/incident.conf" list --json |
			jq -r '.[] | "\(.id) \(.kind) \(.status)"')
	fi
	# And every incident is a cast: two exports are the same bytes, and
	# asciinema plays it (under script(1): it opens /dev/tty).
	if [ -e "$T/data/log/data.mdb" ] && command -v asciinema >/dev/null; then
		local cid cbad=""
		for cid in $("$INCIDENT_BIN" -c "$T/incident.conf" list --json | jq -r '.[].id'); do
			# A test that tampers with an incident on purpose has it
			# refused, as every reader does.
			"$INCIDENT_BIN" -c "$T/incident.conf" verify "$cid" >/dev/null 2>&1 || continue
			"$INCIDENT_BIN" -c "$T/incident.conf" export "$cid" --format asciicast >"$T/c1.cast" 2>/dev/null &&
				"$INCIDENT_BIN" -c "$T/incident.conf" export "$cid" --format asciicast >"$T/c2.cast" 2>/dev/null &&
				cmp -s "$T/c1.cast" "$T/c2.cast" &&
				script -q -e -c "asciinema cat $T/c1.cast" "$T/c.played" </dev/null >/dev/null 2>&1 ||
				cbad="$cbad INC-$cid"
		done
		if [ -n "$cbad" ]; then fail "casts that do not export the same twice or play:$cbad"; else ok; fi
	fi
	echo "$CHECKS checks, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}

# Three deploy tags: v1 good, v2 good, v3 broken (deployed), with config
# backups for v1 and v2.  Sets TAG1 TAG2 TAG3.
make_three_tags() {
	make_deployment
	TAG1=deploy-20260101-100000
	TAG2=deploy-20260102-100000
	TAG3=deploy-20260103-100000
	commit_version v2 good "$TAG2" 120
	commit_version v3 broken "$TAG3" 5000
	mkdir -p "$T/backup/config-20260101-100000" \
		"$T/backup/config-20260102-100000"
	echo "risk_limit = 100" >"$T/backup/config-20260101-100000/risk.conf"
	echo "risk_limit = 120" >"$T/backup/config-20260102-100000/risk.conf"
	echo "from the backup" >"$T/backup/config-20260102-100000/extra.conf"
}

# http_status: the node's /status code (000 when nothing answers).
http_status() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://127.0.0.1:$PORT/status" || true
}

# copy_data: a fresh copy of the data directory in $T/edit, to tamper
# with.
copy_data() {
	rm -rf "$T/edit"
	cp -a "$T/data" "$T/edit"
}

head_commit() {
	git -C "$D" rev-parse HEAD
}

tag_commit() {
	git -C "$D" rev-parse "$1^{commit}"
}
