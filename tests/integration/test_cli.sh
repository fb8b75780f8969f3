#!/usr/bin/env bash
# The command line itself: -o targets, show --at, --json for every
# command, help for every command, and `incident config`.
. "$(dirname "$0")/lib.sh"

make_three_tags
start_node
expect_exit 0 incident rollback --yes --reason "cli test" --json
check "rollback --json" jq -e '.id == 1 and .status == "succeeded"' <<<"$OUT" >/dev/null
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

echo "# --json: every command that prints a result prints JSON on stdout"
json_ok() {
	local what=$1
	shift
	expect_exit 0 "$@"
	if [ -n "$OUT" ] && jq -s -e 'length > 0' <<<"$OUT" >/dev/null 2>&1; then
		ok
	else
		fail "$what: stdout is not JSON"
		printf '%s\n' "$OUT" | head -n 5 >&2
	fi
}
json_ok status incident --json status
json_ok tags incident --json tags
json_ok list incident --json list
json_ok show incident --json show 1
json_ok show-at incident --json show 1 --at +1s
json_ok timeline incident --json timeline 1
check "timeline --json lines" jq -e 'type == "array" and length > 5 and (.[0] | has("seq") and has("offset_ms") and has("type") and has("text"))' <<<"$OUT" >/dev/null
json_ok report incident --json report 1
json_ok stats incident --json stats
json_ok replay incident --json replay 1 --speed 1000 --max-idle 0.01
check "replay --json: one event per line" test "$(wc -l <<<"$OUT")" -eq "$(incident --json show 1 | jq .state.events)"
check "replay --json lines" jq -e 'has("seq") and has("type") and has("mono")' <<<"$(head -n 1 <<<"$OUT")" >/dev/null
json_ok note incident --json note 1 "json note"
json_ok verify incident --json verify
json_ok verify-one incident --json verify 1
json_ok export incident --json export 1 --format jsonl
json_ok backup incident --json backup --reason "cli test"
json_ok archives incident --json archives
json_ok restore incident --json restore 1 --to "$T/restored"
json_ok config incident --json config
json_ok help incident --json help
json_ok help-one incident --json help show
json_ok version "$INCIDENT_BIN" --version --json
check "version" jq -e '.version | length > 0' <<<"$OUT" >/dev/null
json_ok stop incident --json stop --yes
start_node
INCIDENT_TEST_CRASH_AT=checkout expect_exit 137 incident rollback --yes --force
last=$(incident list --json | jq '.[0].id')
json_ok abort incident --json abort "$last"
check "abort --json" jq -e '.status == "aborted"' <<<"$OUT" >/dev/null

echo "# help: the usage, and for every command each of its options"
expect_exit 0 incident help
contains "$OUT" "commands:" "help"
cmds=$(incident --json help | jq -r '.[].name' || true)
check "help lists commands" test "$(wc -l <<<"$cmds")" -ge 18
for c in $cmds; do
	expect_exit 0 incident help "$c"
	text=$OUT
	usage=$(incident --json help | jq -r --arg c "$c" '.[] | select(.name == $c) | .usage')
	contains "$text" "usage: incident [GLOBAL OPTIONS] $usage" "help $c"
	for opt in $(grep -oE -- '(^|[ [|])-{1,2}[a-z][a-z-]*' <<<"$usage" | tr -d ' [|'); do
		opts=$(incident --json help "$c" | jq -r .options)
		contains "$opts" "$opt" "the options of help $c"
	done
	expect_exit 0 incident "$c" --help
	contains "$OUT" "$usage" "$c --help"
done
expect_exit 2 incident help no-such-command
contains "$ERR" "no-such-command" "stderr"

echo "# config: the file, every value, and a ';' that cuts a command short"
cp "$T/incident.conf" "$T/cut.conf"
cat >>"$T/cut.conf" <<'CONF'
[stop]
	command = ./scripts/emergency_stop.sh; echo harmless
	escalate = "./scripts/shutdown.sh force; echo quoted" # a comment
[deploy]
	tag-pattern = deploy-* # a comment after a space is fine
[verify]
	log = logs/trading.log#glued
[notify "ops"]
	url = https://hooks.invalid/SECRET-TOKEN
CONF
cut_line=$(grep -n 'echo harmless' "$T/cut.conf" | cut -d: -f1)
glued_line=$(grep -n '#glued' "$T/cut.conf" | cut -d: -f1)
expect_exit 0 "$INCIDENT_BIN" -c "$T/cut.conf" config
contains "$OUT" "$T/cut.conf" "config"
contains "$OUT" "stop.command" "config"
contains "$OUT" "= ./scripts/emergency_stop.sh" "config"
contains "$OUT" "rollback.budget" "config"
contains "$OUT" "(default)" "config"
contains "$OUT" "\$INCIDENT_CONFIG" "config search order"
contains "$OUT" "/etc/incident/incident.conf" "config search order"
not_contains "$OUT" "SECRET-TOKEN" "config"
contains "$OUT" "https://hooks.invalid/***" "config"
contains "$ERR" "stop.command: the value ends at ';' on line $cut_line of $T/cut.conf; quote it" "stderr"
contains "$ERR" "\"echo harmless\" is read as a comment" "stderr"
contains "$ERR" "verify.log: the value ends at '#' on line $glued_line" "stderr"
not_contains "$ERR" "stop.escalate" "stderr (quoted)"
not_contains "$ERR" "deploy.tag-pattern" "stderr (a comment after a space)"
expect_exit 0 "$INCIDENT_BIN" -c "$T/cut.conf" --json config
check "config --json warnings" test "$(jq '.warnings | length' <<<"$OUT")" -eq 2
check "config --json value" jq -e '.values[] | select(.key == "stop.command") | .value == "./scripts/emergency_stop.sh" and .from_file' <<<"$OUT" >/dev/null
check "config --json file" jq -e --arg f "$T/cut.conf" '.file == $f and .search[0].chosen' <<<"$OUT" >/dev/null
not_contains "$OUT" "SECRET-TOKEN" "config --json"

echo "# config: ./incident.conf, and none at all"
mkdir -p "$T/wd" "$T/empty"
cp "$T/incident.conf" "$T/wd/incident.conf"
(cd "$T/wd" && "$INCIDENT_BIN" config) >"$T/out" 2>&1 || fail "config in wd"
contains "$(cat "$T/out")" "file:      $T/wd/incident.conf" "config in wd"
if [ ! -e /etc/incident/incident.conf ]; then
	(cd "$T/empty" && "$INCIDENT_BIN" config) >"$T/out" 2>&1 || fail "config without a file"
	contains "$(cat "$T/out")" "none: built-in defaults" "config without a file"
fi
expect_exit 2 "$INCIDENT_BIN" -c "$T/missing.conf" config
contains "$ERR" "missing.conf" "stderr"

finish
