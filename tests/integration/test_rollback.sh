#!/usr/bin/env bash
# incident rollback: the whole runbook against a real git deployment, a
# real trading node with its own /status, and the log it leaves.
. "$(dirname "$0")/lib.sh"

make_three_tags
start_node
check "broken deploy answers 500" test "$(http_status)" = 500

echo "# dry run: the plan, and nothing changed"
before=$(head_commit)
expect_exit 0 incident rollback --dry-run
contains "$OUT" "$TAG3 -> $TAG2" "dry run"
contains "$OUT" "trading active? yes" "dry run"
contains "$OUT" "M risk.conf" "dry run"
contains "$OUT" "A extra.conf" "dry run"
contains "$OUT" "scripts/start.sh" "dry run"
check "HEAD unchanged" test "$(head_commit)" = "$before"
check "node untouched" test "$(node_count)" -eq 1
check "no incident" test "$(incident list --json | jq length)" -eq 0
check "no archive" test ! -e "$T/data/archives"
check "no report" test ! -e "$T/data/reports"
contains "$OUT" "reports/INC-1.md" "dry run names the incident it would be"
contains "$OUT" "the planned run would end: succeeded" "dry run"

echo "# dry run: a git lock that is not ours refuses, as the rollback would"
touch "$D/.git/index.lock"
expect_exit 1 incident rollback --dry-run
contains "$OUT" ".git/index.lock exists: another git process" "dry run"
contains "$OUT" "not ours; not removed" "dry run"
contains "$OUT" "4. config    not reached" "dry run"
contains "$OUT" "7. health    GET http://127.0.0.1:$PORT/status until 200; not reached" "dry run"
rm "$D/.git/index.lock"
check "node untouched" test "$(node_count)" -eq 1

echo "# a wrong TAG: exit 2 listing recent tags, nothing changed"
expect_exit 2 incident rollback deploy-19990101-000000 --yes
contains "$ERR" "$TAG2" "stderr"
expect_exit 2 incident rollback v1 --yes
check "still nothing recorded" test "$(incident list --json | jq length)" -eq 0
check "HEAD unchanged" test "$(head_commit)" = "$before"

echo "# the rollback"
echo "local log line" >>"$D/logs/trading.log"
expect_exit 0 incident rollback --yes --reason "ERROR lines, P&L anomaly"
contains "$ERR" "rolled back from $TAG3 to $TAG2" "stderr"
check "HEAD at target" test "$(head_commit)" = "$(tag_commit "$TAG2")"
check "detached" test "$(git -C "$D" symbolic-ref -q HEAD || echo detached)" = detached
check "config restored" grep -q "risk_limit = 120" "$D/config/risk.conf"
check "config from backup" test -f "$D/config/extra.conf"
check "one trading node" test "$(node_count)" -eq 1
check "healthy" test "$(http_status)" = 200
check "new version runs" grep -q "version=v2" <(curl -s "http://127.0.0.1:$PORT/status")
ev=$(events 1)
steps=$(jq -r 'select(.type=="step.completed" or .type=="step.skipped" or .type=="step.failed") | .step + " " + .type' <<<"$ev")
expected="stop step.completed
backup step.completed
checkout step.completed
config step.completed
database step.skipped
start step.completed
health step.completed
verify step.completed
report step.completed"
check "steps in runbook order" test "$steps" = "$expected"
check "target from" test "$(jq -r 'select(.type=="target.chosen") | .data.from' <<<"$ev")" = "$TAG3"
check "target to" test "$(jq -r 'select(.type=="target.chosen") | .data.to' <<<"$ev")" = "$TAG2"
check "the start command's result" test "$(jq -r 'select(.type=="observation" and .data.what=="result" and .step=="start") | "\(.data.exit_code) \(.data.signal) \(.data.timed_out)"' <<<"$ev")" = "0 0 false"
check "to_commit" test "$(jq -r 'select(.type=="target.chosen") | .data.to_commit' <<<"$ev")" = "$(tag_commit "$TAG2")"
check "data at risk decided" test "$(jq -r 'select(.type=="decision" and .step=="backup") | .data.answer' <<<"$ev")" = yes
check "health probes observed" test "$(jq -r 'select(.type=="observation" and .data.what=="http") | .data.status' <<<"$ev" | tail -n1)" = 200
check "verify saw HEAD" grep -q "v2" <<<"$(jq -r 'select(.type=="observation" and .step=="verify" and .data.what=="git") | .data.head' <<<"$ev")"
check "verify saw log tail" grep -q "INFO" <<<"$(jq -r 'select(.type=="observation" and .data.what=="log") | .data.lines[]' <<<"$ev")"
# The stop and start scripts each wrote what incident passed them (the
# target is chosen at the checkout, after the stop).
env_log=$(grep '^INC-1 ' "$D/run/env.log")
check "stop script got INCIDENT_ID and _STEP" test "$(head -n 1 <<<"$env_log" | cut -d' ' -f1-2)" = "INC-1 stop"
check "start script got INCIDENT_FROM and _TARGET" test "$(tail -n +2 <<<"$env_log")" = "INC-1 start from=$TAG3 target=$TAG2"
arch=$(jq -r 'select(.type=="backup.created") | .data.path' <<<"$ev")
check "archive exists" test -f "$arch"
check "archive sha" test "$(sha256sum "$arch" | cut -d' ' -f1)" = "$(jq -r 'select(.type=="backup.created") | .data.sha256' <<<"$ev")"
listing=$(tar --zstd -tf "$arch")
contains "$listing" "config/risk.conf" "archive"
contains "$listing" "logs/trading.log" "archive"
contains "$listing" "git/HEAD" "archive"
contains "$listing" "git/status" "archive"
not_contains "$listing" "data/log" "archive"
check "archive keeps the broken config" grep -q 5000 <(tar --zstd -xOf "$arch" config/risk.conf)
check "report written" test -s "$T/data/reports/INC-1.md"
check "budget recorded" test "$(jq -r 'select(.type=="incident.opened") | .data.budget_ms' <<<"$ev")" = 300000
expect_exit 0 incident verify

echo "# tags: known-bad and known-good from the log"
expect_exit 0 incident tags
contains "$OUT" "$TAG3" "tags"
contains "$(grep "$TAG3" <<<"$OUT")" "known-bad (INC-1" "tags"
contains "$(grep "$TAG2" <<<"$OUT")" "deployed" "tags"
contains "$(grep "$TAG2" <<<"$OUT")" "known-good" "tags"
expect_exit 0 incident --json tags
check "json tags" test "$(jq -r ".[] | select(.tag==\"$TAG3\") | .known_bad" <<<"$OUT")" = true

echo "# status"
expect_exit 0 incident status
contains "$OUT" "$TAG2" "status"
contains "$OUT" "running" "status"
contains "$OUT" "200" "status"

echo "# a known-bad tag is skipped: deploy v4 broken on top, roll back"
git -C "$D" checkout -q main 2>/dev/null || git -C "$D" checkout -q -f main
git -C "$D" checkout -q -- config
commit_version v4 broken deploy-20260104-100000 7000
kill "$(cat "$D/run/node.pid")"; sleep 0.3
start_node
expect_exit 0 incident rollback --yes
ev=$(events 2)
check "skipped v3" test "$(jq -r 'select(.type=="target.chosen") | .data.skipped[0].tag' <<<"$ev")" = "$TAG3"
check "why" grep -q "INC-1" <<<"$(jq -r 'select(.type=="target.chosen") | .data.skipped[0].why' <<<"$ev")"
tags_obs=$(jq -c 'select(.type=="observation" and .data.what=="tags") | .data' <<<"$ev")
check "what the choice read, recorded" test "$(jq -r '[.tags[].tag] | join(" ")' <<<"$tags_obs")" = "$TAG2 $TAG3 deploy-20260104-100000"
check "with each verdict it read" test "$(jq -r '[.tags[] | if has("known_bad") then .known_bad else "unread" end] | join(" ")' <<<"$tags_obs")" = "false true unread"
check "and HEAD" test "$(jq -r '.head' <<<"$tags_obs")" = "$(tag_commit deploy-20260104-100000)"
check "recorded before the choice" test "$(jq -r 'select(.type=="target.chosen" or (.type=="observation" and .data.what=="tags")) | .type' <<<"$ev" | head -n 1)" = observation
check "landed on v2" test "$(head_commit)" = "$(tag_commit "$TAG2")"
check "healthy again" test "$(http_status)" = 200

echo "# an explicit TAG"
expect_exit 0 incident rollback "$TAG1" --yes
check "at v1" test "$(head_commit)" = "$(tag_commit "$TAG1")"
check "v1 config" grep -q "risk_limit = 100" "$D/config/risk.conf"
check "one node" test "$(node_count)" -eq 1

echo "# a dirty work tree: refused before anything changes, naming the path"
echo "hotfix" >>"$D/app/VERSION"
echo "edited" >>"$D/config/risk.conf"
expect_exit 2 incident rollback "$TAG2" --yes
contains "$ERR" "app/VERSION" "pre-flight"
not_contains "$ERR" "risk.conf" "pre-flight"
contains "$ERR" "$TAG2 is known-bad (INC-3 rolled back from it)" "pre-flight"
check "HEAD not moved" test "$(head_commit)" = "$(tag_commit "$TAG1")"
check "local change kept" grep -q hotfix "$D/app/VERSION"
check "no incident opened" test "$(incident list --json | jq length)" -eq 3
check "trading untouched" test "$(node_count)" -eq 1
expect_exit 0 incident rollback "$TAG2" --yes --force
check "at v2 after force" test "$(head_commit)" = "$(tag_commit "$TAG2")"
ev=$(events 4)
arch=$(jq -r 'select(.type=="backup.created") | .data.path' <<<"$ev")
check "the hotfix is in the backup" grep -q hotfix <(tar --zstd -xOf "$arch" git/diff)
check "the conflict recorded before the checkout" test "$(jq -r 'select(.type=="observation" and .data.what=="conflicts") | "\(.data.count) \(.data.paths | join(","))"' <<<"$ev")" = "1 app/VERSION"

echo "# a missing config backup: the config step is skipped"
mv "$T/backup/config-20260101-100000" "$T/backup/hidden"
expect_exit 0 incident rollback "$TAG1" --yes --force
ev=$(events 5)
check "config skipped" test "$(jq -r 'select(.type=="step.skipped" and .step=="config") | .data.why' <<<"$ev")" != ""
check "tracked config of the tag" grep -q "risk_limit = 100" "$D/config/risk.conf"
mv "$T/backup/hidden" "$T/backup/config-20260101-100000"

echo "# --no-backup: the backup step is skipped"
expect_exit 0 incident rollback "$TAG2" --yes --force --no-backup
ev=$(events 6)
check "backup skipped" test "$(jq -r 'select(.type=="step.skipped" and .step=="backup") | .step' <<<"$ev")" = backup

echo "# a health URL that never answers: health fails, exit 1"
HEALTH_BUDGET=2s write_config
sed -i 's/^\turl = .*/\turl = http:\/\/127.0.0.1:1\/status/' "$T/incident.conf"
expect_exit 1 incident rollback "$TAG1" --yes --force
ev=$(events 7)
check "health failed" test "$(jq -r 'select(.type=="step.failed") | .step' <<<"$ev")" = health
check "probes recorded" test "$(jq -r 'select(.type=="observation" and .data.what=="http") | .data.status' <<<"$ev" | sort -u)" = 0
check "probes backed off" test "$(jq -r 'select(.type=="observation" and .data.what=="http")' <<<"$ev" | jq -s length)" -lt 40
check "no verify after failed health" test -z "$(jq -r 'select(.step=="verify")' <<<"$ev")"
write_config

echo "# a config backup that is an archive (.tar.gz) is extracted safely"
mkdir -p "$T/arch-src" && echo "risk_limit = 111" >"$T/arch-src/risk.conf"
tar -C "$T/arch-src" -czf "$T/backup/config-20260101-100000.tar.gz" risk.conf
EXTRA_CONFIG="[config]
	backup = $T/backup/config-{ts}.tar.gz" write_config
expect_exit 0 incident rollback "$TAG1" --yes --force
check "config from the archive" grep -q "risk_limit = 111" "$D/config/risk.conf"
write_config

echo "# someone else's index.lock fails the checkout, naming it"
touch "$D/.git/index.lock"
expect_exit 1 incident rollback "$TAG2" --yes --force
check "index.lock named" grep -q "index.lock" <<<"$(events last | jq -r 'select(.type=="step.failed") | .data.error')"
check "not removed" test -e "$D/.git/index.lock"
rm -f "$D/.git/index.lock"
start_node

echo "# two rollbacks at once: the second exits 3"
cat >"$D/scripts/emergency_stop.sh" <<'SH'
#!/bin/sh
sleep 2
kill "$(cat run/node.pid)"
SH
incident rollback "$TAG2" --yes --force >/dev/null 2>&1 &
for _ in $(seq 1 100); do grep -q incident "$T/data/lock" 2>/dev/null && break; sleep 0.05; done
expect_exit 3 incident rollback "$TAG2" --yes --force
contains "$ERR" "holds the lock" "stderr"
wait
git -C "$D" checkout -q -- scripts/emergency_stop.sh 2>/dev/null || true

echo "# webhooks are told how it ended; their URLs stay secret"
EXTRA_CONFIG="[notify \"ops\"]
	url = http://127.0.0.1:$PORT/hook?token=SECRET-TOKEN
[notify \"dead\"]
	url = http://127.0.0.1:1/hook?token=OTHER-SECRET" write_config
rm -f "$D/run/hooks.log"
expect_exit 0 incident rollback "$TAG1" --yes --force
ev=$(events last)
id=$(jq -r 'select(.type=="incident.opened") | .seq' <<<"$ev" >/dev/null; incident list --json | jq -r '.[0].id')
check "hook received" grep -q "\"incident\":\"INC-$id\"" "$D/run/hooks.log"
check "hook status" grep -q '"status":"succeeded"' "$D/run/hooks.log"
# The close's signed checkpoint: a copy of the root off the machine.
cproot=$(jq -r 'select(.type=="checkpoint" and .data.what=="INC-'"$id"' closed") | .data.root' <<<"$ev")
check "the close was signed" test -n "$cproot"
check "hook carries the close's checkpoint root" \
	grep -q "\"checkpoint\":{\"size\":[0-9]*,\"root\":\"$cproot\"}" "$D/run/hooks.log"
check "ops ok" test "$(jq -r 'select(.type=="observation" and .data.name=="ops") | .data.ok' <<<"$ev")" = true
check "dead not ok" test "$(jq -r 'select(.type=="observation" and .data.name=="dead") | .data.ok' <<<"$ev")" = false
not_contains "$ev" "SECRET" "events"
expect_exit 0 incident report last --format md
not_contains "$OUT" "SECRET" "report"
write_config

echo "# abort an interrupted incident"
INCIDENT_TEST_CRASH_AT=checkout expect_exit 137 incident rollback "$TAG2" --yes --force
expect_exit 0 incident abort last
check "aborted" test "$(incident list --json | jq -r '.[0].status')" = aborted
expect_exit 2 incident abort last

expect_exit 0 incident verify
echo "# simulate: today's runbook against the recording"
expect_exit 0 incident simulate 1
contains "$OUT" "INC-1 rollback: the same as today's runbook" "simulate"
expect_exit 0 incident --json simulate 1
check "json result" test "$(jq -r .result <<<"$OUT")" = same
check "json compared" test "$(jq -r .compared <<<"$OUT")" -ge 10
expect_exit 0 incident --json simulate --all
check "json --all is an array" test "$(jq -r 'type' <<<"$OUT")" = array
expect_exit 2 incident simulate
contains "$ERR" "simulate needs one incident" "no incident"
expect_exit 2 incident simulate 1 --all
expect_exit 2 incident simulate 1 --until soon
contains "$ERR" "--until takes a seq" "bad --until"
expect_exit 2 incident simulate INC-99

finish
