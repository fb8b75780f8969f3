#!/usr/bin/env bash
# An aborted rollback says nothing about its tags: `incident abort` of a
# rollback left open by a crash must not make the tag it rolled back from
# known-bad, in `incident tags` or in the next rollback's choice.
. "$(dirname "$0")/lib.sh"

make_deployment
TAG2=deploy-20260102-100000
TAG3=deploy-20260103-100000
commit_version v2 good "$TAG2" 120
start_node

# Killed at the start step: after the checkout has chosen the target.
echo "# a rollback from $TAG2, killed at the start step, then aborted"
INCIDENT_TEST_CRASH_AT=start expect_exit 137 incident rollback --yes
ev=$(events 1)
check "it was rolling back from $TAG2" test "$(jq -r 'select(.type=="target.chosen") | .data.from' <<<"$ev")" = "$TAG2"
check "left open" test "$(incident list --json | jq -r '.[0].status')" = open
expect_exit 0 incident abort last
check "aborted" test "$(incident list --json | jq -r '.[0].status')" = aborted
# Back on $TAG2 by hand, as the operator who aborted it would be.
git -C "$D" checkout -q -f main
kill "$(cat "$D/run/node.pid")" 2>/dev/null || true
for _ in $(seq 1 100); do [ "$(node_count)" -eq 0 ] && break; sleep 0.05; done
start_node
check "at $TAG2 again" test "$(head_commit)" = "$(tag_commit "$TAG2")"

echo "# tags: $TAG2 is not known-bad"
expect_exit 0 incident tags
line=$(grep "$TAG2" <<<"$OUT")
contains "$line" "deployed" "tags"
not_contains "$line" "known-bad" "tags"
expect_exit 0 incident --json tags
check "json: not known_bad" test "$(jq -r ".[] | select(.tag==\"$TAG2\") | .known_bad" <<<"$OUT")" = false

echo "# a broken $TAG3 on top: the automatic target is $TAG2, not skipped"
commit_version v3 broken "$TAG3" 5000
kill "$(cat "$D/run/node.pid")"
for _ in $(seq 1 100); do [ "$(node_count)" -eq 0 ] && break; sleep 0.05; done
start_node
expect_exit 0 incident rollback --dry-run
contains "$OUT" "$TAG3 -> $TAG2" "dry run"
expect_exit 0 incident rollback --yes
ev=$(events 2)
check "target $TAG2" test "$(jq -r 'select(.type=="target.chosen") | .data.to' <<<"$ev")" = "$TAG2"
check "nothing skipped" test "$(jq -c 'select(.type=="target.chosen") | .data.skipped // []' <<<"$ev")" = "[]"
check "at $TAG2" test "$(head_commit)" = "$(tag_commit "$TAG2")"
check "healthy" test "$(http_status)" = 200

finish
