#!/usr/bin/env bash
# kill -9 while the checkout writes files: libgit2 writes the work tree
# before the index, so the retry finds files that already hold the
# target's content.  The resume must tell those from a third party's
# change and finish the rollback, every time, wherever the kill lands.
. "$(dirname "$0")/lib.sh"

make_deployment
TAG1=deploy-20260101-100000
TAG2=deploy-20260102-100000
NFILES=400
mkdir -p "$D/app/lib"
for i in $(seq 1 $NFILES); do echo "v1 $i" >"$D/app/lib/f$i"; done
git -C "$D" -c user.name=t -c user.email=t@t add -A
git -C "$D" -c user.name=t -c user.email=t@t commit -qm "v1 lib"
git -C "$D" tag -f "$TAG1" >/dev/null
for i in $(seq 1 $NFILES); do echo "v2 $i" >"$D/app/lib/f$i"; done
commit_version v2 broken "$TAG2"

# watch_and_kill PID FILE CONTENT: kill -9 PID the moment FILE holds
# CONTENT (a builtin read, no fork, so the checkout is caught midway).
watch_and_kill() {
	local pid=$1 f=$2 want=$3 line i
	for ((i = 0; i < 1000000; i++)); do
		if read -r line 2>/dev/null <"$f" && [ "$line" = "$want" ]; then
			kill -KILL "$pid"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
	done
	return 1
}

rounds=${CRASH_ROUNDS:-8}
n=0
for r in $(seq 1 "$rounds"); do
	git -C "$D" checkout -q -f "$TAG2"
	git -C "$D" clean -q -fd config app
	pkill -KILL -f -- "$NODE_MATCH" 2>/dev/null || true
	sleep 0.1
	start_node
	# Libgit2 writes in path order: a random file is a random point.
	k=$((RANDOM % NFILES + 1))
	echo "# round $r: kill when app/lib/f$k holds the target's content"
	"$INCIDENT_BIN" -c "$T/incident.conf" rollback --yes "$TAG1" \
		>"$T/killed.out" 2>&1 &
	bg=$!
	n=$((n + 1))
	if ! watch_and_kill "$bg" "$D/app/lib/f$k" "v1 $k"; then
		fail "round $r: never saw f$k change"
		tail -n 5 "$T/killed.out" >&2
	fi
	wait "$bg" 2>/dev/null || true
	check "round $r: left open" test "$(incident list --json | jq -r '.[0].status')" = open
	check "round $r: killed inside the checkout" test "$(event_types "$n" | tail -n 1)" != "step.completed checkout"
	expect_exit 0 incident rollback --yes
	ev=$(events "$n")
	check "round $r: succeeded" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = succeeded
	check "round $r: HEAD at target" test "$(head_commit)" = "$(tag_commit "$TAG1")"
	check "round $r: work tree clean" test -z "$(git -C "$D" status --porcelain --untracked-files=no -- app)"
	check "round $r: one trading node" test "$(node_count)" -eq 1
done

echo "# a third party's change in the middle of it is still refused"
git -C "$D" checkout -q -f "$TAG2"
git -C "$D" clean -q -fd config app
pkill -KILL -f -- "$NODE_MATCH" 2>/dev/null || true
sleep 0.1
start_node
"$INCIDENT_BIN" -c "$T/incident.conf" rollback --yes "$TAG1" \
	>"$T/killed.out" 2>&1 &
bg=$!
n=$((n + 1))
watch_and_kill "$bg" "$D/app/lib/f200" "v1 200" || fail "never saw f200 change"
wait "$bg" 2>/dev/null || true
echo "someone's hotfix" >"$D/app/lib/f399"
expect_exit 1 incident rollback --yes
contains "$ERR" "app/lib/f399" "stderr"
check "the hotfix is kept" grep -q "someone's hotfix" "$D/app/lib/f399"

finish
