# A real 3-member etcd cluster on loopback for the fleet tests (source
# after lib.sh).  etcd_start makes it in $T/etcd with free ports; the
# members are stopped on exit with the rest of the test's processes (lib.sh
# cleanup matches $T on their command lines).
#
#   etcd_start           start members 1..3, wait for a leader
#   etcd_kill N          SIGKILL member N (1..3)
#   etcd_revive N        start member N again on its data and ports
#   ETCD_ENDPOINTS       the members' client URLs, comma-separated
#   etcdctl_ ARGS...     etcdctl against the cluster

ETCD_BIN=${ETCD_BIN:-etcd}

# A free port below the kernel's ephemeral range: with a cluster's
# connections open, a port above it may be taken by one of them (bind
# fails though nothing listens there).
low_port() {
	local port lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	for _ in $(seq 1 50); do
		port=$((10000 + RANDOM % (lo - 10000)))
		if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
			! grep -q ":$(printf '%04X' "$port") " /proc/net/tcp; then
			echo "$port"
			return
		fi
	done
	echo 0
}

etcd_port_pair() {
	local a b
	a=$(low_port)
	b=$(low_port)
	while [ "$b" = "$a" ]; do b=$(low_port); done
	echo "$a $b"
}

etcd_member() {
	local n=$1
	nohup "$ETCD_BIN" --name "m$n" --data-dir "$T/etcd/m$n" \
		--listen-client-urls "http://127.0.0.1:${ETCD_CLIENT[$n]}" \
		--advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT[$n]}" \
		--listen-peer-urls "http://127.0.0.1:${ETCD_PEER[$n]}" \
		--initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER[$n]}" \
		--initial-cluster "$ETCD_CLUSTER" \
		--initial-cluster-state "${ETCD_STATE:-new}" \
		--initial-cluster-token "ir-$$" \
		--heartbeat-interval 50 --election-timeout 500 \
		--enable-v2=false --log-level error \
		>>"$T/etcd/m$n.log" 2>&1 &
	ETCD_PID[$n]=$!
}

etcd_start() {
	local n p
	mkdir -p "$T/etcd"
	ETCD_CLIENT=() ETCD_PEER=() ETCD_PID=()
	ETCD_CLUSTER=
	for n in 1 2 3; do
		read -r ETCD_CLIENT[$n] ETCD_PEER[$n] < <(etcd_port_pair)
		ETCD_CLUSTER+="${ETCD_CLUSTER:+,}m$n=http://127.0.0.1:${ETCD_PEER[$n]}"
	done
	ETCD_ENDPOINTS=
	for n in 1 2 3; do
		ETCD_ENDPOINTS+="${ETCD_ENDPOINTS:+,}http://127.0.0.1:${ETCD_CLIENT[$n]}"
	done
	export ETCD_ENDPOINTS
	for n in 1 2 3; do etcd_member "$n"; done
	etcd_wait_quorum || fail "etcd did not form a cluster: $(tail -n 5 "$T"/etcd/m*.log)"
}

# Wait (up to 20 s) until a write goes through.
etcd_wait_quorum() {
	for _ in $(seq 1 200); do
		if etcdctl_ put /incident/test/ping x >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

etcd_kill() {
	kill -KILL "${ETCD_PID[$1]}" 2>/dev/null || true
	wait "${ETCD_PID[$1]}" 2>/dev/null || true
}

etcd_revive() {
	ETCD_STATE=existing etcd_member "$1"
}

etcdctl_() {
	ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" \
		--dial-timeout 1s --command-timeout 2s "$@"
}
