#!/usr/bin/env bash
# Post-mortem evidence is often read-only: verify, list, show, timeline,
# export, report and stats read a read-only copy of the data directory
# (a read-only bind mount in a private mount namespace: the tests run as
# root, whom file modes do not stop) and change nothing in it, with its
# lock.mdb or without.
. "$(dirname "$0")/lib.sh"

make_three_tags
start_node
expect_exit 0 incident rollback --yes
expect_exit 0 incident note 1 "kept for the post-mortem"

sums() {
	(cd "$1" && find . -printf '%p %y %m %s\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

cp -a "$T/data" "$T/ro"
cp -a "$T/data" "$T/ro-nolock"
rm "$T/ro-nolock/log/lock.mdb"
sums "$T/ro" >"$T/ro.before"
sums "$T/ro-nolock" >"$T/ro-nolock.before"

cat >"$T/readers.sh" <<SH
set -u
for d in "$T/ro" "$T/ro-nolock"; do
	mount --bind "\$d" "\$d" && mount -o remount,bind,ro "\$d" "\$d" || exit 77
done
touch "$T/ro/probe" 2>/dev/null && exit 78
n=0
for d in "$T/ro" "$T/ro-nolock"; do
	name=\$(basename "\$d")
	B="$INCIDENT_BIN -c $T/incident.conf -d \$d"
	for cmd in "verify" "verify 1" "list" "--json list" "show 1" \
		"timeline 1" "export 1 --format jsonl" "report 1" \
		"report 1 --format html" "report 1 --format json" \
		"report 1 -o $T/report-\$name.md" "stats"; do
		n=\$((n + 1))
		rc=0
		\$B \$cmd >"$T/out.\$name.\$n" 2>"$T/err.\$name.\$n" || rc=\$?
		echo "\$rc \$name \$cmd" >>"$T/results"
	done
done
SH
rc=0
unshare -m --propagation private bash "$T/readers.sh" || rc=$?
if [ "$rc" = 77 ]; then
	echo "SKIP: cannot make a read-only bind mount here"
	finish
	exit 0
fi
check "the copy is read-only in the namespace (exit $rc)" test "$rc" -eq 0
while read -r got name cmd; do
	if [ "$got" -eq 0 ]; then ok; else
		n=$(grep -n " $name $cmd\$" "$T/results" | head -1 | cut -d: -f1)
		fail "read-only $name: $cmd exited $got: $(cat "$T/err.$name.$n" 2>/dev/null)"
	fi
done <"$T/results"
check "every reader ran" test "$(wc -l <"$T/results")" -eq 24
check "verify said so" grep -q "1 incident verified" "$T"/out.ro.1
check "list names INC-1" grep -q "INC-1" "$T"/out.ro.3
check "export has the note" grep -q "kept for the post-mortem" "$T"/out.ro.7
check "report written outside" grep -q "INC-1" "$T/report-ro.md"
check "report written outside (no lock)" grep -q "INC-1" "$T/report-ro-nolock.md"
sums "$T/ro" >"$T/ro.after"
sums "$T/ro-nolock" >"$T/ro-nolock.after"
check "nothing in the copy changed" cmp -s "$T/ro.before" "$T/ro.after"
check "nothing in the copy without lock.mdb changed" cmp -s "$T/ro-nolock.before" "$T/ro-nolock.after"
check "no lock.mdb made" test ! -e "$T/ro-nolock/log/lock.mdb"

echo "# a writable copy read by the same commands: data.mdb unchanged"
cp -a "$T/data" "$T/rw"
before=$(sha256sum <"$T/rw/log/data.mdb")
for cmd in "verify" "list" "show 1" "timeline 1" "report 1" "stats"; do
	# shellcheck disable=SC2086
	expect_exit 0 incident -d "$T/rw" $cmd
done
check "data.mdb unchanged" test "$(sha256sum <"$T/rw/log/data.mdb")" = "$before"

finish
