#!/usr/bin/env bash
# The data directory under stress: its mode, a FIFO where an archive
# should be, and a full disk.  Each is said plainly, exit 2 (or 1 for a
# run that cannot be recorded), and nothing recorded is lost.
. "$(dirname "$0")/lib.sh"

make_deployment

echo "# a data directory open to others is a warning; an open log refused"
mkdir -p "$T/data"
chmod 755 "$T/data"
expect_exit 0 incident list
contains "$ERR" "warning: the data directory \"$T/data\" is open to others (mode 0755)" "stderr"
chmod 700 "$T/data"
expect_exit 0 incident list
not_contains "$ERR" "warning" "stderr"
chmod 755 "$T/data/log"
expect_exit 2 incident list
contains "$ERR" "the event log \"$T/data/log\" is open to others (mode 0755): refusing" "stderr"
expect_exit 2 incident stop --yes
chmod 700 "$T/data/log"
chmod 644 "$T/data/log/data.mdb"
expect_exit 2 incident list
contains "$ERR" "data.mdb\" is open to others (mode 0644)" "stderr"
chmod 600 "$T/data/log/data.mdb"
check "nothing recorded meanwhile" test "$(incident list --json | jq length)" -eq 0

echo "# restore of a FIFO is refused at once, never hangs"
mkfifo "$T/fifo.tar.zst"
expect_exit 2 timeout 20 "$INCIDENT_BIN" -c "$T/incident.conf" restore "$T/fifo.tar.zst" --to "$T/restored"
contains "$ERR" "is not a regular file" "stderr"
check "no restore incident" test "$(incident list --json | jq length)" -eq 0
check "nothing restored" test ! -e "$T/restored"

echo "# a full disk: said as such, with the path; the log stays whole"
# A private mount namespace, so the small file system is ours alone and
# goes away with the test.
cat >"$T/full.sh" <<SH
set -u
mount -t tmpfs -o size=2m tmpfs "$T/small" || exit 77
mkdir -m 700 "$T/small/data"
B="$INCIDENT_BIN -c $T/incident.conf -d $T/small/data"
\$B stop --yes >/dev/null 2>&1 || exit 10
# Leave a few KiB: the next commit is cut short (LMDB says EIO), then
# none fits at all (ENOSPC).
avail=\$(df --output=avail -k "$T/small" | tail -1)
dd if=/dev/zero of="$T/small/fill" bs=1k count=\$((avail - 12)) 2>/dev/null
for i in 1 2 3 4; do
	\$B stop --yes >"$T/full.out\$i" 2>&1
	echo \$? >"$T/full.rc\$i"
done
rm -f "$T/small/fill"
\$B stop --yes >"$T/after.out" 2>&1 || exit 11
\$B verify >"$T/verify.out" 2>&1 || exit 12
\$B list --json >"$T/list.json" || exit 13
SH
# A stop command chatty enough to need several commits.
cat >"$T/chatty.sh" <<'SH'
#!/bin/sh
i=0
while [ $i -lt 400 ]; do
	echo "stopping: line $i of a long emergency stop log, padded to be long enough to fill pages"
	i=$((i + 1))
done
SH
chmod +x "$T/chatty.sh"
# Unsigned: a checkpoint's event makes the first stop leave free pages
# in data.mdb that the next commits reuse without growing the file, and
# its file write fails on its own (recorded in the event, the run goes
# on); the full disk is for the log's commits.
EXTRA_CONFIG="[stop]
	command = $T/chatty.sh
[checkpoint]
	sign = false" write_config
mkdir -p "$T/small"
rc=0
unshare -m --propagation private bash "$T/full.sh" || rc=$?
if [ "$rc" = 77 ]; then
	echo "SKIP: cannot mount a small tmpfs here"
else
	check "full-disk script ran (exit $rc)" test "$rc" -eq 0
	all=$(cat "$T"/full.out*)
	contains "$all" "no space left on device" "stderr on a full disk"
	contains "$all" "$T/small/data/log/data.mdb" "stderr on a full disk"
	not_contains "$all" "Input/output error" "stderr on a full disk"
	for i in 1 2 3 4; do
		check "full: run $i failed" test "$(cat "$T/full.rc$i")" -ne 0
	done
	check "after freeing space a stop works" grep -q "stop succeeded" "$T/after.out"
	check "every chain holds" grep -q "ok" "$T/verify.out"
fi

finish
