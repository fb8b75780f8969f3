#!/usr/bin/env bash
# incident backup / archives / restore against real files and GNU tar.
. "$(dirname "$0")/lib.sh"

make_deployment
mkdir -p "$D/config/nested/deeper" "$D/logs"
for i in $(seq 1 30); do echo "key$i = $i" >"$D/config/nested/file$i.conf"; done
head -c 300000 /dev/urandom >"$D/config/nested/deeper/blob.bin"
: >"$D/config/empty.conf"
mkdir -p "$D/config/emptydir"
ln -s file1.conf "$D/config/nested/link.conf"
for i in $(seq 1 2000); do echo "2026-11-25T10:00:00 INFO tick $i"; done >"$D/logs/trading.log"

echo "# backup on demand"
expect_exit 0 incident backup --reason "before maintenance"
ev=$(events 1)
check "kind backup" test "$(jq -r 'select(.type=="incident.opened") | .data.kind' <<<"$ev")" = backup
arch=$(jq -r 'select(.type=="backup.created") | .data.path' <<<"$ev")
check "archive exists" test -f "$arch"
check "no partial left" test -z "$(ls "$T/data/archives" | grep partial || true)"
check "GNU tar reads it" tar --zstd -tf "$arch" >/dev/null
check "files counted" test "$(jq -r 'select(.type=="backup.created") | .data.files' <<<"$ev")" -ge 33
check "sha matches" test "$(sha256sum "$arch" | cut -d' ' -f1)" = "$(jq -r 'select(.type=="backup.created") | .data.sha256' <<<"$ev")"
check "mode 0600" test "$(stat -c %a "$arch")" = 600

echo "# archives: listed and checked"
expect_exit 0 incident archives
contains "$OUT" "INC-1" "archives"
contains "$OUT" " ok " "archives"
expect_exit 0 incident --json archives
check "json check ok" test "$(jq -r '.[0].check' <<<"$OUT")" = ok

echo "# restore by incident: identical tree"
expect_exit 0 incident restore 1 --to "$T/restored"
check "config identical" diff -r "$D/config" "$T/restored/config"
check "logs identical" diff -r "$D/logs" "$T/restored/logs"
check "symlink kept" test "$(readlink "$T/restored/config/nested/link.conf")" = file1.conf
check "git state stored" test -s "$T/restored/git/HEAD"
ev=$(events 2)
check "restore kind" test "$(jq -r 'select(.type=="incident.opened") | .data.kind' <<<"$ev")" = restore
check "verified" test "$(jq -r 'select(.type=="restore.completed") | .data.verified' <<<"$ev")" = true
check "no staging left" test -z "$(ls -A "$T" | grep -i stag || true)"

echo "# a non-empty target without --force: exit 2, untouched"
echo "keep me" >"$T/restored/keep.txt"
expect_exit 2 incident restore 1 --to "$T/restored"
check "untouched" test -f "$T/restored/keep.txt"
n_before=$(incident list --json | jq length)
cp -a "$T/restored" "$T/before"
echo "# --force without a terminal needs --yes: exit 2, untouched"
expect_exit 2 incident restore 1 --to "$T/restored" --force
contains "$ERR" "--yes" "stderr"
check "untouched" diff -r "$T/before" "$T/restored"
check "no incident" test "$(incident list --json | jq length)" -eq "$n_before"
echo "# --force --yes: what it replaces is archived first"
expect_exit 0 incident restore 1 --to "$T/restored" --force --yes
check "replaced" test ! -e "$T/restored/keep.txt"
check "content after force" diff -r "$D/config" "$T/restored/config"
ev=$(events last)
saved=$(jq -r 'select(.type=="backup.created") | .data.path' <<<"$ev")
check "replaced content archived" test -f "$saved"
check "archive of the restore incident" grep -q "INC-$((n_before + 1))-restore.tar.zst" <<<"$saved"
check "archived before the restore" test "$(jq -r 'select(.type=="backup.created" or .type=="restore.completed") | .type' <<<"$ev" | head -n1)" = backup.created
check "archive sha" test "$(sha256sum "$saved" | cut -d' ' -f1)" = "$(jq -r 'select(.type=="backup.created") | .data.sha256' <<<"$ev")"
mkdir "$T/saved-x"
tar --zstd -C "$T/saved-x" -xf "$saved"
check "nothing lost: the archive holds what was replaced" diff -r "$T/before" "$T/saved-x"
expect_exit 0 incident restore "$((n_before + 1))" --to "$T/back"
check "restore INC gives it back" diff -r "$T/before" "$T/back"
echo "# --force over a git work tree keeps its .git in the archive"
mkdir "$T/wt" && echo a >"$T/wt/f" && git -C "$T/wt" init -q && git -C "$T/wt" add f && git -C "$T/wt" -c user.name=t -c user.email=t@t commit -qm f
expect_exit 0 incident restore 1 --to "$T/wt" --force --yes
check "wt replaced" test ! -e "$T/wt/f"
saved=$(events last | jq -r 'select(.type=="backup.created") | .data.path')
check ".git archived" grep -q "^.git/HEAD$" <(tar --zstd -tf "$saved")
check "file archived" grep -q "^f$" <(tar --zstd -tf "$saved")

echo "# restore by path of an archive the log knows"
expect_exit 0 incident restore "$arch" --to "$T/bypath"
check "by path" diff -r "$D/config" "$T/bypath/config"

echo "# an archive from another host: restored, marked unverified"
(cd "$D" && tar --zstd -cf "$T/foreign.tar.zst" config)
expect_exit 0 incident restore "$T/foreign.tar.zst" --to "$T/foreign"
contains "$ERR" "unverified" "stderr"
check "foreign restored" diff -r "$D/config" "$T/foreign/config"
check "unverified recorded" test "$(events last | jq -r 'select(.type=="restore.completed") | .data.verified')" = false

echo "# a tampered archive: mismatch, refused, nothing extracted"
cp "$arch" "$T/saved.tar.zst"
printf 'X' | dd of="$arch" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_exit 0 incident archives
contains "$OUT" "mismatch" "archives"
expect_exit 1 incident restore 1 --to "$T/tampered"
check "nothing extracted" test ! -e "$T/tampered"
check "failure says why" grep -q "does not match" <<<"$(events last | jq -r 'select(.type=="step.failed") | .data.error')"
cp "$T/saved.tar.zst" "$arch"

echo "# a hostile archive: clear error naming the entry, nothing outside"
mkdir -p "$T/evil/src" && echo pwned >"$T/evil/src/f"
tar -C "$T/evil/src" -cf "$T/evil.tar" --transform 's,^,../,' f
expect_exit 1 incident restore "$T/evil.tar" --to "$T/evil/out"
check "no file outside" test ! -e "$T/evil/f"
check "target not created" test ! -e "$T/evil/out"
check "error names the entry" grep -q '\.\./f' <<<"$(events last | jq -r 'select(.type=="step.failed") | .data.error')"

echo "# an interrupted restore: resumed by the same arguments only"
INCIDENT_TEST_CRASH_AT=restore expect_exit 137 incident restore 1 --to "$T/resumed"
rs=$(incident list --json | jq -r '.[0].id')
check "left open" test "$(incident list --json | jq -r '.[0].status')" = open
# As the killed attempt leaves it when the kill comes after the swap:
# the whole tree in place, restore.completed not yet written.
mkdir -p "$T/resumed" && tar --zstd -C "$T/resumed" -xf "$arch"
expect_exit 2 incident restore 1 --to "$T/other"
contains "$ERR" "INC-$rs is open, restoring $arch into $T/resumed" "another DIR"
contains "$ERR" "incident abort INC-$rs" "the way out"
check "other DIR not made" test ! -e "$T/other"
expect_exit 2 incident restore "$T/evil.tar" --to "$T/resumed"
contains "$ERR" "INC-$rs is open" "another ARCHIVE"
expect_exit 2 incident restore 1 --to "$T/resumed"
contains "$ERR" "Resume interrupted restore INC-$rs" "asks first"
cd "$T"
expect_exit 0 incident restore 1 --to resumed --yes
cd - >/dev/null
contains "$ERR" "resuming interrupted INC-$rs" "resumed"
check "one incident, not two" test "$(incident list --json | jq -r '.[0].id')" = "$rs"
check "closed succeeded" test "$(events "$rs" | jq -r 'select(.type=="incident.closed") | .data.status')" = succeeded
check "tree restored" diff -r "$D/config" "$T/resumed/config"
check "nothing archived over it" test ! -e "$T/data/archives/INC-$rs-restore.tar.zst"
expect_exit 0 incident restore 1 --to "$T/other"
check "a new one after it" test "$(incident list --json | jq -r '.[0].id')" = "$((rs + 1))"

echo "# retention: backup.keep = 2"
EXTRA_CONFIG='[backup]
	keep = 2' write_config
for i in 1 2 3; do expect_exit 0 incident backup; done
count=$(ls "$T/data/archives" | grep -c 'tar.zst$')
check "two archives kept" test "$count" -eq 2
check "deletions are events" test "$(for i in $(incident list --json | jq -r '.[].id'); do events "$i"; done | jq -r 'select(.type=="archive.deleted") | .data.path' | wc -l)" -ge 1
expect_exit 0 incident archives
contains "$OUT" "missing" "archives after retention"

echo "# retention never deletes the last successful rollback's archive"
commit_version v2 good deploy-20260102-100000
write_config
expect_exit 0 incident rollback deploy-20260101-100000 --yes
rb=$(incident list --json | jq -r '.[0].id')
rb_arch="$T/data/archives/INC-$rb-backup.tar.zst"
check "rollback archived" test -f "$rb_arch"
EXTRA_CONFIG='[backup]
	keep = 1' write_config
echo "# the dry run is the executor: it plans the retention too"
ls "$T/data/archives" >"$T/archives.before"
expect_exit 0 incident rollback deploy-20260102-100000 --force --dry-run
contains "$OUT" "would delete (retention): $T/data/archives/INC-" "dry run"
not_contains "$OUT" "would delete (retention): $rb_arch" "dry run keeps the rollback's"
check "json: deletions planned" test "$(incident --json rollback deploy-20260102-100000 --force --dry-run | jq '.deleted | length')" -ge 1
check "nothing deleted" diff "$T/archives.before" <(ls "$T/data/archives")
check "nothing recorded" test "$(incident list --json | jq -r '.[0].id')" = "$rb"
for i in 1 2; do expect_exit 0 incident backup; done
check "rollback archive kept" test -f "$rb_arch"
check "only it and the newest remain" test "$(ls "$T/data/archives" | grep -c 'tar.zst$')" -eq 2
pkill -f "trading_node --port $PORT" || true

expect_exit 0 incident verify
finish
