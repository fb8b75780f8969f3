#!/usr/bin/env bash
# The command line itself: -o targets, show --at, --json for every
# command, help for every command, and `incident config`.
. "$(dirname "$0")/lib.sh"

make_three_tags
start_node
expect_exit 0 incident rollback --yes --reason "cli test"
expect_exit 0 incident note 1 "a note"

echo "# -o: a new name and a regular file are replaced atomically"
expect_exit 0 incident report 1 -o "$T/r.md"
contains "$(cat "$T/r.md")" "INC-1" "new report file"
ino1=$(stat -c %i "$T/r.md")
chmod 0640 "$T/r.md"
expect_exit 0 incident report 1 --format json -o "$T/r.md"
check "replaced by rename (new inode)" test "$(stat -c %i "$T/r.md")" != "$ino1"
check "mode kept" test "$(stat -c %a "$T/r.md")" = 640
check "json in the file" jq -e .id "$T/r.md" >/dev/null
check "no temporary left" test -z "$(find "$T" -maxdepth 1 -name '.r.md.*')"

echo "# -o: a symbolic link stays a link, its target gets the content"
echo OLD-CONTENT-7 >"$T/target.md"
ln -s "$T/target.md" "$T/link.md"
expect_exit 0 incident report 1 -o "$T/link.md"
check "still a link" test -L "$T/link.md"
contains "$(cat "$T/target.md")" "INC-1" "link target"
not_contains "$(cat "$T/target.md")" "OLD-CONTENT-7" "link target"

echo "# -o: a FIFO is written through to its reader"
mkfifo "$T/fifo"
timeout 20 cat "$T/fifo" >"$T/fifo.out" &
reader=$!
expect_exit 0 timeout 20 "$INCIDENT_BIN" -c "$T/incident.conf" export 1 --format jsonl -o "$T/fifo"
wait "$reader" || fail "the FIFO reader did not finish"
check "still a FIFO" test -p "$T/fifo"
check "reader got the events" test "$(jq -s length "$T/fifo.out")" -ge 10

echo "# -o: a character device (made in the scratch folder) stays one"
if mknod "$T/null" c 1 3 2>/dev/null; then
	expect_exit 0 incident report 1 -o "$T/null"
	check "still a char device" test -c "$T/null"
	expect_exit 0 incident export 1 --format jsonl -o "$T/null"
	check "still a char device" test -c "$T/null"
else
	echo "(mknod not permitted: skipped)"
fi

echo "# -o: a folder or a missing folder is an input error"
expect_exit 2 incident report 1 -o "$T"
expect_exit 2 incident report 1 -o "$T/nope/r.md"
contains "$ERR" "nope/r.md" "stderr"

echo "# show --at takes fractions, ms, minutes and bare seconds"
for at in +0.002s +2ms 0.002 +.002s; do
	expect_exit 0 incident show 1 --at "$at" --json
	check "--at $at is 2 ms" test "$(jq .state.at_ms <<<"$OUT")" -eq 2
done
expect_exit 0 incident show 1 --at +1.5m --json
check "--at +1.5m" test "$(jq .state.at_ms <<<"$OUT")" -eq 90000
expect_exit 2 incident show 1 --at +1e3s
contains "$ERR" "+0.2s" "stderr"
expect_exit 2 incident show 1 --at +99999999999h
contains "$ERR" "too far" "stderr"

echo "# show --at past the end: the incident had closed, not OVER"
expect_exit 0 incident show 1 --at +10m
contains "$OUT" "had closed (succeeded) at" "show past the end"
contains "$OUT" "showing it as closed" "show past the end"
not_contains "$OUT" "OVER" "show past the end"
not_contains "$OUT" "10m of the" "show past the end"
expect_exit 0 incident show 1 --at +10m --json
check "past_end" jq -e '.state.past_end == true' <<<"$OUT" >/dev/null
check "elapsed is the incident's" test "$(jq .state.elapsed_ms <<<"$OUT")" -eq "$(jq .state.closed_ms <<<"$OUT")"
expect_exit 0 incident show 1 --at +0ms
check "at +0ms it is open" jq -e '.state.past_end == false' <<<"$(incident show 1 --at +0ms --json)" >/dev/null
contains "$OUT" "as known at" "show --at +0ms"

finish
