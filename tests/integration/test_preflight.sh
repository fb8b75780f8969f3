#!/usr/bin/env bash
# The rollback's pre-flight: what the operator confirms is what will
# happen.  Local changes in the way of the checkout, an explicit TAG that
# is known-bad, deployed or newer, an open incident for another target,
# corrections of known-bad / known-good, and the plan as JSON.
. "$(dirname "$0")/lib.sh"

make_three_tags
start_node

echo "# the pre-flight writes nothing, not even git's index"
# git writes the index in the same clock tick as the files: their
# entries are racy, which libgit2's checkout looks at again and writes
# back unless told not to.
git -C "$D" checkout -q -f "$TAG3"
index=$(stat -c '%i %s %y %z' "$D/.git/index")
expect_exit 0 incident rollback --dry-run
check "git's index as it was (inode, size, times)" \
	test "$(stat -c '%i %s %y %z' "$D/.git/index")" = "$index"

echo "# a local change in a tracked file: refused before trading stops"
before=$(head_commit)
echo x >>"$D/app/VERSION"
expect_exit 2 incident rollback --dry-run
contains "$OUT" "app/VERSION" "dry run"
contains "$OUT" "would refuse" "dry run"
contains "$ERR" "app/VERSION" "dry run stderr"
expect_exit 2 incident rollback --yes
contains "$ERR" "app/VERSION" "stderr"
contains "$ERR" "--force" "stderr"
check "trading node still running" test "$(node_count)" -eq 1
check "healthy as before" test "$(http_status)" = 500
check "no incident recorded" test "$(incident list --json | jq length)" -eq 0
check "HEAD unchanged" test "$(head_commit)" = "$before"
check "local change kept" grep -q x "$D/app/VERSION"
expect_exit 2 incident --json rollback --dry-run
check "json plan names the conflict" test "$(jq -r '.conflicts[0]' <<<"$OUT")" = app/VERSION
check "json plan blocked" test "$(jq -r '.blocked | type' <<<"$OUT")" = string
expect_exit 2 incident rollback --force --no-backup --yes
contains "$ERR" "--no-backup" "stderr"
check "no incident recorded" test "$(incident list --json | jq length)" -eq 0

echo "# a change under config.dir does not block"
git -C "$D" checkout -q -- app/VERSION
echo "risk_limit = 1" >"$D/config/risk.conf"
expect_exit 0 incident rollback --dry-run
not_contains "$OUT" "would refuse" "dry run"
expect_exit 0 incident --json rollback --dry-run
check "json: no conflicts" test "$(jq '.conflicts | length' <<<"$OUT")" -eq 0
check "json: blocked null" test "$(jq -r '.blocked' <<<"$OUT")" = null
check "json: target" test "$(jq -r '.to' <<<"$OUT")" = "$TAG2"
check "json: from" test "$(jq -r '.from' <<<"$OUT")" = "$TAG3"
check "json: nine steps" test "$(jq '.steps | length' <<<"$OUT")" -eq 9
check "json: stop runs" test "$(jq -r '.steps[0].step + " " + (.steps[0].run|tostring)' <<<"$OUT")" = "stop true"
check "json: config changes" grep -q "M risk.conf" <<<"$(jq -r '.steps[3].changes[]' <<<"$OUT")"

echo "# with --force the local change does not stop it"
echo x >>"$D/app/VERSION"
expect_exit 0 incident rollback --force --yes --reason "preflight test"
check "HEAD at target" test "$(head_commit)" = "$(tag_commit "$TAG2")"
check "healthy" test "$(http_status)" = 200
arch=$(events 1 | jq -r 'select(.type=="backup.created") | .data.path')
check "the local change is in the backup" grep -q "app/VERSION" <(tar --zstd -xOf "$arch" git/status)

echo "# explicit TAG: known-bad needs --force; deployed and newer are named"
expect_exit 2 incident rollback "$TAG3" --dry-run
contains "$OUT" "$TAG3 is known-bad (INC-1 rolled back from it)" "dry run"
contains "$OUT" "newer than the deployed $TAG2" "dry run"
expect_exit 2 incident rollback "$TAG3" --yes
contains "$ERR" "known-bad" "stderr"
contains "$ERR" "--force" "stderr"
check "still one incident" test "$(incident list --json | jq length)" -eq 1
check "HEAD unchanged" test "$(head_commit)" = "$(tag_commit "$TAG2")"
expect_exit 0 incident rollback "$TAG2" --dry-run
contains "$OUT" "$TAG2 is the deployed tag: the rollback would only restart it" "dry run"
# The confirmation question names it too (asked on a terminal, answered no).
printf 'n\n' | script -qec "$INCIDENT_BIN -c $T/incident.conf rollback $TAG2" "$T/typescript" >"$T/tty.out" 2>&1 || true
contains "$(cat "$T/tty.out")" "$TAG2 is the deployed tag: the rollback would only restart it" "question"
contains "$(cat "$T/tty.out")" "not confirmed" "question"
printf 'n\n' | script -qec "$INCIDENT_BIN -c $T/incident.conf rollback $TAG3 --force" "$T/typescript" >"$T/tty.out" 2>&1 || true
contains "$(cat "$T/tty.out")" "$TAG3 is known-bad (INC-1 rolled back from it)" "question"
contains "$(cat "$T/tty.out")" "newer than the deployed $TAG2" "question"
check "still one incident" test "$(incident list --json | jq length)" -eq 1
expect_exit 0 incident --json rollback "$TAG3" --dry-run --force
check "json: known_bad" test "$(jq -r '.known_bad' <<<"$OUT")" = true
contains "$(jq -r '.note' <<<"$OUT")" "roll-forward" "json note"

echo "# an open incident for another target: refused, naming it"
git -C "$D" checkout -q -f "$TAG3"
git -C "$D" clean -q -fd config
INCIDENT_TEST_CRASH_AT=config expect_exit 137 incident rollback "$TAG1" --yes --force
check "left open" test "$(incident list --json | jq -r '.[0].status')" = open
expect_exit 2 incident rollback "$TAG2" --yes --reason "another"
contains "$ERR" "INC-2 is open, rolling back to $TAG1" "stderr"
contains "$ERR" "incident abort INC-2" "stderr"
expect_exit 2 incident rollback "$TAG2" --dry-run
contains "$ERR" "INC-2 is open" "stderr"
check "nothing resumed" test "$(events 2 | jq -r 'select(.type=="incident.resumed") | .type' | wc -l)" -eq 0
echo "# the dry run of a resume plans what the resume would still do"
nev=$(events 2 | wc -l)
expect_exit 0 incident rollback --dry-run
contains "$OUT" "would resume interrupted INC-2" "dry run"
not_contains "$OUT" "1. stop" "steps done before the crash are not planned again"
contains "$OUT" "4. config" "the interrupted step is"
expect_exit 0 incident --json rollback --dry-run
check "json: resume" test "$(jq -r .resume <<<"$OUT")" = 2
check "json: the incident's own target" test "$(jq -r .to <<<"$OUT")" = "$TAG1"
check "dry run of a resume records nothing" test "$(events 2 | wc -l)" -eq "$nev"
check "still open" test "$(incident list --json | jq -r '.[0].status')" = open
expect_exit 0 incident rollback "$TAG1" --yes --reason "resume it"
contains "$ERR" "resuming interrupted INC-2" "stderr"
check "HEAD at TAG1" test "$(head_commit)" = "$(tag_commit "$TAG1")"
check "resume reason kept as a note" test "$(events 2 | jq -r 'select(.type=="note") | .data.text')" = "resumed with --reason: resume it"
check "the reason it was opened with stands" test "$(events 2 | jq -r 'select(.type=="incident.opened") | .data.reason')" = ""

echo "# a tag wrongly made known-bad is corrected by a recorded mark"
git -C "$D" checkout -q -f "$TAG2"
git -C "$D" clean -q -fd config
expect_exit 0 incident rollback --yes --reason "made TAG2 known-bad"
check "rolled back from TAG2 to TAG1" test "$(head_commit)" = "$(tag_commit "$TAG1")"
expect_exit 0 incident tags
contains "$(grep "$TAG2" <<<"$OUT")" "known-bad (INC-3 rolled back from it)" "tags"
git -C "$D" checkout -q -f "$TAG3"
git -C "$D" clean -q -fd config
expect_exit 0 incident rollback --dry-run
contains "$OUT" "$TAG3 -> $TAG1" "dry run"
contains "$OUT" "skipped $TAG2" "dry run"
expect_exit 2 incident mark "$TAG2" good --reason "the feed was at fault"
contains "$ERR" "--yes" "mark without a terminal"
expect_exit 2 incident mark "$TAG2" good --yes
contains "$ERR" "--reason" "mark without a reason"
expect_exit 2 incident mark "$TAG2" fine --reason x --yes
expect_exit 2 incident mark deploy-19990101-000000 good --reason x --yes
check "no mark recorded" test "$(incident list --json | jq length)" -eq 3
expect_exit 0 incident mark "$TAG2" good --reason "the feed was at fault" --yes
contains "$ERR" "INC-4: $TAG2 marked good" "mark"
ev=$(events 4)
check "mark incident" test "$(jq -r 'select(.type=="incident.opened") | .data.kind' <<<"$ev")" = mark
check "tag.marked tag" test "$(jq -r 'select(.type=="tag.marked") | .data.tag' <<<"$ev")" = "$TAG2"
check "tag.marked as" test "$(jq -r 'select(.type=="tag.marked") | .data.as' <<<"$ev")" = good
check "tag.marked was" test "$(jq -r 'select(.type=="tag.marked") | .data.was' <<<"$ev")" = "known-bad (INC-3 rolled back from it)"
check "closed succeeded" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = succeeded
actor=$(jq -r 'select(.type=="tag.marked") | .data.actor' <<<"$ev")
expect_exit 0 incident tags
line=$(grep "$TAG2" <<<"$OUT")
contains "$line" "known-good (marked by $actor 20" "tags"
contains "$line" ": the feed was at fault)" "tags"
not_contains "$line" "known-bad" "tags"
expect_exit 0 incident --json tags
check "json mark actor" test "$(jq -r ".[] | select(.tag==\"$TAG2\") | .mark.actor" <<<"$OUT")" = "$actor"
check "json known_bad false" test "$(jq -r ".[] | select(.tag==\"$TAG2\") | .known_bad" <<<"$OUT")" = false
expect_exit 0 incident list
contains "$(grep INC-4 <<<"$OUT")" "$TAG2 marked good" "list"
expect_exit 0 incident rollback --dry-run
contains "$OUT" "$TAG3 -> $TAG2" "auto target after the mark"
expect_exit 0 incident mark "$TAG2" clear --reason "let the log decide" --yes
expect_exit 0 incident tags
contains "$(grep "$TAG2" <<<"$OUT")" "neither (cleared by $actor" "tags"
expect_exit 0 incident mark "$TAG1" bad --reason "risk limits wrong" --yes
expect_exit 0 incident rollback "$TAG1" --dry-run --force
contains "$OUT" "$TAG1 is known-bad (marked by $actor" "dry run"
echo "# a rollback re-run right after one that succeeded: named, asked, --force"
expect_exit 0 incident mark "$TAG1" clear --reason "back in the pool" --yes
git -C "$D" checkout -q -f "$TAG3"
git -C "$D" clean -q -fd config
expect_exit 0 incident rollback --yes
good=$(incident list --json | jq -r '.[0].id')
check "at TAG2" test "$(head_commit)" = "$(tag_commit "$TAG2")"
n_before=$(incident list --json | jq length)
expect_exit 2 incident rollback --yes
contains "$ERR" "INC-$good rolled back to $TAG2" "names it"
contains "$ERR" "from $TAG2 to $TAG1" "says what it would do"
contains "$ERR" "without --force" "the way on"
printf 'n\n' | script -qec "$INCIDENT_BIN -c $T/incident.conf rollback --yes" "$T/typescript" >"$T/tty.out" 2>&1 || true
contains "$(cat "$T/tty.out")" "INC-$good rolled back to $TAG2" "asked on a terminal, even with --yes"
contains "$(cat "$T/tty.out")" "not confirmed" "answered no"
check "HEAD kept at TAG2" test "$(head_commit)" = "$(tag_commit "$TAG2")"
check "no incident opened" test "$(incident list --json | jq length)" -eq "$n_before"
expect_exit 0 incident rollback --yes --force
check "--force rolls back again" test "$(head_commit)" = "$(tag_commit "$TAG1")"
pkill -f "trading_node --port $PORT" || true
expect_exit 0 incident verify

finish
