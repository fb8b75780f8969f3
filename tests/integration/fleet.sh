# Fleet sandboxes for the fleet tests and benchmark (source after lib.sh
# and etcd.sh): one origin deployment with three tags, and N nodes, each
# its own clone, data directory, trading node and configuration with
# [fleet] node = NAME, each with an agent.
#
#   fleet_origin              $T/origin: TAG1 (v1), TAG2 (v2), TAG3 (broken, main)
#   fleet_node NAME           a node sandbox in $T/n/NAME, trading node up
#   fleet_agent NAME [FLEET]  start NAME's agent (log: $T/n/NAME/agent.log)
#   node_incident NAME ARGS   incident with NAME's configuration
#   fleet_reset               every node back at main, trading node running
#   node_reset NAME           the same for one node
#   wait_for DESC CMD...      poll CMD (30 s at most) until it succeeds
#   fstatus F                 fleet status --json (from node a's config)

T0=$T
FLEET_NODES=()
declare -A NODE_PORT NODE_DIR AGENT_PID

fleet_origin() {
	local o="$T0/origin"
	# A node's database step waits for its gate file: the tests hold a
	# rollback in flight with it.
	printf '#!/bin/sh\nwhile [ ! -e "$1" ]; do sleep 0.05; done\n' >"$T0/gate.sh"
	chmod +x "$T0/gate.sh"
	mkdir -p "$o/scripts" "$o/config" "$o/app"
	cat >"$o/scripts/start.sh" <<'SH'
#!/bin/sh
# Start the trading node in the background (run/node.env: this node's port).
cd "$(dirname "$0")/.."
. ./run/node.env
nohup "$TRADING_NODE" --port "$PORT" --dir "$DIR" --port-file "$DIR/run/port" >>run/node.out 2>&1 &
echo $! > run/node.pid
echo "started trading node pid $!"
SH
	cat >"$o/scripts/emergency_stop.sh" <<'SH'
#!/bin/sh
pid=$(cat run/node.pid 2>/dev/null) || exit 0
echo "stopping trading node pid $pid"
kill "$pid" 2>/dev/null || true
SH
	cat >"$o/scripts/shutdown.sh" <<'SH'
#!/bin/sh
pid=$(cat run/node.pid 2>/dev/null) || exit 0
kill -9 "$pid" 2>/dev/null || true
SH
	chmod +x "$o"/scripts/*.sh
	printf 'logs/\nrun/\n' >"$o/.gitignore"
	echo "risk_limit = 100" >"$o/config/risk.conf"
	TAG1=deploy-20260101-100000
	TAG2=deploy-20260102-100000
	TAG3=deploy-20260103-100000
	local v mode tag
	for v in 1 2 3; do
		mode=good
		[ "$v" = 3 ] && mode=broken
		tag=deploy-2026010$v-100000
		echo "v$v" >"$o/app/VERSION"
		echo "$mode" >"$o/app/MODE"
		[ "$v" = 1 ] && git -C "$o" init -q -b main
		git -C "$o" -c user.name=t -c user.email=t@t add -A
		git -C "$o" -c user.name=t -c user.email=t@t commit -qm "v$v"
		git -C "$o" tag "$tag"
	done
}

fleet_node() {
	local name=$1
	T="$T0/n/$name"
	mkdir -p "$T"
	D="$T/deploy"
	git clone -q "$T0/origin" "$D"
	mkdir -p "$D/run" "$D/logs" "$T/backup/config-20260101-100000" \
		"$T/backup/config-20260102-100000"
	echo "risk_limit = 100" >"$T/backup/config-20260101-100000/risk.conf"
	echo "risk_limit = 100" >"$T/backup/config-20260102-100000/risk.conf"
	PORT=$(low_port)
	NODE_MATCH="trading_node --port $PORT --dir $D --port-file"
	printf 'PORT=%s\nDIR=%s\nTRADING_NODE=%s\n' "$PORT" "$D" "$TRADING_NODE" >"$D/run/node.env"
	EXTRA_CONFIG="[fleet]
	endpoints = $ETCD_ENDPOINTS
	node = $name
	lease = ${FLEET_LEASE:-2s}
	timeout = ${FLEET_TIMEOUT:-700ms}
[database]
	restore = $T0/gate.sh $T0/gate-$name
	on-rollback = true" write_config
	(cd "$D" && ./scripts/start.sh >/dev/null)
	wait_for_port
	NODE_PORT[$name]=$PORT
	NODE_DIR[$name]=$D
	FLEET_NODES+=("$name")
	touch "$T0/gate-$name"
	T=$T0
}

fleet_agent() {
	local name=$1 fleet=${2:-prod}
	INCIDENT_DATA="$T0/n/$name/data" \
		"$INCIDENT_BIN" -c "$T0/n/$name/incident.conf" fleet agent --fleet "$fleet" \
		>>"$T0/n/$name/agent.log" 2>&1 &
	AGENT_PID[$name]=$!
}

node_incident() {
	local name=$1
	shift
	INCIDENT_DATA="$T0/n/$name/data" "$INCIDENT_BIN" -c "$T0/n/$name/incident.conf" "$@"
}

# Every node back on main (the broken deploy) with its trading node up.
fleet_reset() {
	local name
	for name in "${FLEET_NODES[@]}"; do node_reset "$name"; done
	T=$T0
}

# node_reset NAME: NAME back on main with its trading node up, its gate
# open.
node_reset() {
	local name=$1
	D=${NODE_DIR[$name]}
	PORT=${NODE_PORT[$name]}
	NODE_MATCH="trading_node --port $PORT --dir $D --port-file"
	kill_node
	git -C "$D" checkout -qf main
	git -C "$D" clean -qfd config
	(cd "$D" && ./scripts/start.sh >/dev/null)
	wait_for_port
	touch "$T0/gate-$name"
}

wait_for() {
	local what=$1
	shift
	for _ in $(seq 1 300); do
		if "$@" >/dev/null 2>&1; then
			ok
			return 0
		fi
		sleep 0.1
	done
	fail "timed out waiting: $what"
	dump_agents
	return 1
}

fstatus() {
	"$INCIDENT_BIN" -c "$T0/n/a/incident.conf" --json fleet status "$1"
}

# fleet_is F JQ: the fleet's status answers JQ with true.
fleet_is() {
	fstatus "$1" | jq -e "$2" >/dev/null
}

# What each agent said (on a failure).
dump_agents() {
	local name
	fstatus prod >&2 || true
	for name in "${FLEET_NODES[@]}"; do
		echo "--- agent $name" >&2
		tail -n 25 "$T0/n/$name/agent.log" >&2
	done
}
