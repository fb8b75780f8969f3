#!/usr/bin/env bash
# The lock stays exclusive when an operator deletes or replaces
# DATA_DIR/lock while a rollback runs, and one incident never gets two
# writers: the second rollback exits 3, the first finishes, and nothing
# but notes and observations follows incident.closed.
. "$(dirname "$0")/lib.sh"

make_three_tags
start_node
# A stop that takes a while (outside the work tree, which the rounds
# check out afresh), so the rollback is running when we strike.
cat >"$T/slow_stop.sh" <<'SH'
#!/bin/sh
echo "slow stop"
sleep 3
kill "$(cat run/node.pid)"
SH
chmod +x "$T/slow_stop.sh"
EXTRA_CONFIG="[stop]
	command = $T/slow_stop.sh"
write_config

wait_started() {
	for _ in $(seq 1 250); do
		if incident export "$1" --format jsonl 2>/dev/null |
			grep -q '"step.started"'; then
			return 0
		fi
		sleep 0.02
	done
	fail "INC-$1 did not start"
}

after_close() {
	# A closed incident takes notes, observations and its close's
	# checkpoint: no step, no second close.
	events "$1" | jq -r 'select(.type!="note" and .type!="observation" and .type!="checkpoint") | .type' |
		sed -n '/^incident.closed$/,$p' | tail -n +2
}

for how in delete replace; do
	echo "# $how DATA_DIR/lock while a rollback runs"
	git -C "$D" checkout -q -f "$TAG3"
	git -C "$D" clean -q -fd config
	if [ "$(node_count)" -eq 0 ]; then start_node; fi
	n=$(( $(incident list --json | jq length) + 1 ))
	incident rollback --yes "$TAG2" >"$T/first.out" 2>&1 &
	first=$!
	wait_started "$n"
	case $how in
	delete) rm -f "$T/data/lock" ;;
	replace) echo "pid 1" >"$T/lock.new" && mv "$T/lock.new" "$T/data/lock" ;;
	esac
	expect_exit 3 incident rollback --yes "$TAG2"
	contains "$ERR" "holds the lock" "stderr"
	wait "$first" || fail "first rollback failed: $(tail -3 "$T/first.out")"
	check "one incident" test "$(incident list --json | jq length)" -eq "$n"
	check "$how: first succeeded" test "$(incident list --json | jq -r '.[0].status')" = succeeded
	check "$how: nothing after close" test -z "$(after_close "$n")"
	check "$how: one stop ran" test "$(events "$n" | jq -r 'select(.type=="step.output") | .data.line' | grep -c 'slow stop')" -eq 1
	check "$how: chain holds" incident verify "$n" >/dev/null
done

echo "# a resume refuses while the incident's recorded owner still runs"
# Past any lock: a second data directory whose log is the same LMDB (a
# link) has a lock of its own, so only the owner check stands between a
# second executor and the running incident.
git -C "$D" checkout -q -f "$TAG3"
git -C "$D" clean -q -fd config
if [ "$(node_count)" -eq 0 ]; then start_node; fi
mkdir -p "$T/data2"
chmod 700 "$T/data2"
ln -s "$T/data/log" "$T/data2/log"
n=$(( $(incident list --json | jq length) + 1 ))
incident rollback --yes "$TAG2" >"$T/first.out" 2>&1 &
first=$!
wait_started "$n"
expect_exit 3 "$INCIDENT_BIN" -c "$T/incident.conf" -d "$T/data2" rollback --yes
contains "$ERR" "INC-$n is still being run by incident pid $(pgrep -f "$T/incident.conf rollback --yes $TAG2")" "stderr"
not_contains "$ERR" "resuming" "stderr"
expect_exit 3 "$INCIDENT_BIN" -c "$T/incident.conf" -d "$T/data2" abort "$n"
contains "$ERR" "is still being run" "stderr"
wait "$first" || fail "first rollback failed: $(tail -3 "$T/first.out")"
check "owner: first succeeded" test "$(incident list --json | jq -r '.[0].status')" = succeeded
check "owner: no second session" test -z "$(events "$n" | jq -r 'select(.type=="incident.resumed")')"
check "owner: nothing after close" test -z "$(after_close "$n")"

finish
