#!/usr/bin/env bash
# A damaged data.mdb: cut short (to 0 bytes, to half, to a page boundary,
# inside a meta page) or with a page overwritten.  Every reader says so in
# one line and exits 1, never dies of a signal (SIGBUS, SIGSEGV, an LMDB
# assertion); an empty data.mdb where incidents were recorded is reported,
# never silently replaced by a fresh log.
. "$(dirname "$0")/lib.sh"

make_three_tags
start_node
expect_exit 0 incident rollback --yes
# Enough events for a few dozen pages.
for i in $(seq 1 120); do
	incident note 1 "note $i, long enough to fill the pages of the log quickly" 2>/dev/null
done
cp -a "$T/data" "$T/pristine"
F="$T/dmg/log/data.mdb"
size=$(stat -c %s "$T/pristine/log/data.mdb")
pages=$((size / 4096))
echo "# the log: $size bytes, $pages pages"

fresh() {
	rm -rf "$T/dmg"
	cp -a "$T/pristine" "$T/dmg"
}

READERS=("verify" "list" "report 1" "show 1" "timeline 1" "export 1 --format jsonl" "stats")

# readers_fail WHAT NEEDLE: each reader exits 1 naming the damage.
readers_fail() {
	local cmd
	for cmd in "${READERS[@]}"; do
		# shellcheck disable=SC2086
		expect_exit 1 incident -d "$T/dmg" $cmd
		contains "$ERR" "the event log $F is damaged: $2" "$1: $cmd"
		check "$1: $cmd: one line" test "$(wc -l <<<"$ERR")" -eq 1
	done
}

# readers_no_signal WHAT: no reader dies of a signal.
readers_no_signal() {
	local cmd got
	for cmd in "${READERS[@]}"; do
		got=0
		# shellcheck disable=SC2086
		incident -d "$T/dmg" $cmd >/dev/null 2>"$T/err" </dev/null || got=$?
		if [ "$got" -ge 128 ]; then
			fail "$1: $cmd died of signal $((got - 128)): $(head -c 300 "$T/err")"
		elif [ "$got" -ne 0 ] && [ "$(wc -l <"$T/err")" -gt 1 ]; then
			fail "$1: $cmd: more than one line: $(head -c 300 "$T/err")"
		else
			ok
		fi
	done
}

echo "# cut to 0 bytes, with archives and reports: reported, not replaced"
fresh
: >"$F"
readers_fail "0 bytes" "it is empty (0 bytes), yet"
expect_exit 1 incident -d "$T/dmg" stop --yes
contains "$ERR" "refusing to start a new log over it" "stop"
check "0 bytes: still empty" test "$(stat -c %s "$F")" -eq 0
check "0 bytes: nothing stopped" test "$(node_count)" -eq 1

echo "# data.mdb gone, with archives and reports: reported, not replaced"
fresh
rm "$F" "$T/dmg/log/lock.mdb"
expect_exit 1 incident -d "$T/dmg" list
contains "$ERR" "the event log $F is missing, yet" "list"
expect_exit 1 incident -d "$T/dmg" stop --yes
check "missing: not made anew" test ! -e "$F"

echo "# a log younger than its archives and reports: verify says so"
fresh
expect_exit 0 incident -d "$T/young" list
cp "$T/young/log/data.mdb" "$F"
expect_exit 1 incident -d "$T/dmg" verify
contains "$ERR" "INC-1 is not in the log, yet \"$T/dmg/archives/INC-1-" "verify"
contains "$OUT" "INC-1  BAD" "verify"
expect_exit 1 incident -d "$T/dmg" --json verify
check "json: not ok" test "$(jq -r .ok <<<"$OUT")" = false
contains "$(jq -r .error <<<"$OUT")" "the log was cut short, replaced" "json"

echo "# 0 bytes where nothing was ever recorded: a new log"
mkdir -p -m 700 "$T/new/log"
: >"$T/new/log/data.mdb"
chmod 600 "$T/new/log/data.mdb"
expect_exit 0 incident -d "$T/new" list
contains "$OUT" "no incidents recorded" "list"

echo "# cut short: to half, to the last page boundary, to its meta pages"
for cut in $((size / 2)) $(((pages - 1) * 4096)) 8192 5000 4200; do
	fresh
	truncate -s "$cut" "$F"
	if [ "$cut" -lt 4248 ]; then
		readers_fail "cut to $cut" "it ends inside meta page 1"
	else
		readers_fail "cut to $cut" "it is $cut bytes long, its meta page says at least $size (it was cut short)"
	fi
done

echo "# a meta page overwritten"
for p in 0 1; do
	fresh
	head -c 4096 /dev/zero | tr '\0' '\377' |
		dd of="$F" bs=4096 seek="$p" conv=notrunc 2>/dev/null
	readers_fail "meta page $p" "meta page $p (offset $((p * 4096))) has no LMDB magic"
done

echo "# each other page overwritten (all ones, then bytes of no pattern)"
for p in $(seq 2 $((pages - 1))); do
	fresh
	head -c 4096 /dev/zero | tr '\0' '\377' |
		dd of="$F" bs=4096 seek="$p" conv=notrunc 2>/dev/null
	readers_no_signal "page $p of ones"
	fresh
	# A fixed pseudo-random page per page number: the run repeats.
	LC_ALL=C awk -v seed="$p" 'BEGIN { srand(seed); for (i = 0; i < 4096; i++) printf "%c", int(rand() * 256) }' |
		dd of="$F" bs=4096 seek="$p" conv=notrunc 2>/dev/null
	readers_no_signal "page $p of noise"
done

echo "# the pristine copy still reads whole"
rm -rf "$T/dmg"
cp -a "$T/pristine" "$T/dmg"
expect_exit 0 incident -d "$T/dmg" verify
contains "$OUT" "1 incident verified" "verify"

finish
