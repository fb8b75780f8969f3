#!/usr/bin/env bash
# incident deploy: the same executor with the deploy's steps; a deploy
# that passed makes its tag known-good, one whose health fails rolls back
# on its own (linked both ways), a kill -9 in any step resumes.
. "$(dirname "$0")/lib.sh"

make_three_tags
cat >"$T/migrate.sh" <<'SH'
#!/bin/sh
echo "migrating for $INCIDENT_TARGET"
SH
chmod +x "$T/migrate.sh"
EXTRA_CONFIG="[deploy]
	soak = 400ms
	soak-interval = 100ms
	migrate = $T/migrate.sh"
write_config
start_node
git -C "$D" checkout -q -f "$TAG1"
kill_node
start_node

echo "# dry run: the deploy's plan, nothing changed"
before=$(head_commit)
expect_exit 0 incident deploy "$TAG2" --dry-run
contains "$OUT" "2. stop" "the stop comes after the backup"
contains "$OUT" "./scripts/shutdown.sh" "the graceful stop"
contains "$OUT" "5. migrate" "migrate"
contains "$OUT" "8. soak" "soak"
check "HEAD unchanged" test "$(head_commit)" = "$before"
check "nothing recorded" test "$(incident list --json | jq length)" -eq 0
# The backup's database dump runs before the stop in a deploy: the plan
# still sees trading running until the stop's own command.
EXTRA_CONFIG="$EXTRA_CONFIG
[database]
	dump = echo dump" write_config
expect_exit 0 incident --json deploy "$TAG2" --dry-run
check "the dump does not stop trading in the plan" test "$(jq -r '.steps[] | select(.step=="stop") | .run' <<<"$OUT")" = true
check "the node is seen" test "$(jq -r '.steps[] | select(.step=="stop") | .processes' <<<"$OUT")" -eq 1
write_config

echo "# a deploy of a good tag: soaked, known-good"
expect_exit 0 incident deploy "$TAG2" --yes --reason "release v2"
contains "$ERR" "deploy succeeded" "stderr"
check "HEAD at the tag" test "$(head_commit)" = "$(tag_commit "$TAG2")"
check "one node" test "$(node_count)" -eq 1
ev=$(events 1)
check "kind deploy" test "$(jq -r 'select(.type=="incident.opened") | .data.kind' <<<"$ev")" = deploy
check "steps in order" test "$(jq -r 'select(.type=="step.started") | .step' <<<"$ev" | tr '\n' ' ')" = "backup stop checkout migrate start health soak verify report "
check "graceful stop" test "$(jq -r 'select(.type=="step.started" and .step=="stop") | .data.command' <<<"$ev")" = ./scripts/shutdown.sh
check "the tag's own config" test "$(jq -r 'select(.type=="step.skipped" and .step=="config") | .data.why' <<<"$ev" | grep -c "own tracked config")" -eq 1
check "migrate ran with the target" test "$(jq -r 'select(.type=="step.output" and .step=="migrate") | .data.line' <<<"$ev")" = "migrating for $TAG2"
check "soak probes recorded" test "$(jq -r 'select(.type=="observation" and .step=="soak" and .data.what=="http")' <<<"$ev" | jq -s length)" -ge 3
expect_exit 0 incident tags
contains "$OUT" "passed health and soak in deploy INC-1" "known-good by the deploy"
expect_exit 0 incident timeline 1
contains "$OUT" "soak" "the soak's probes are in the timeline"
expect_exit 0 incident report 1
contains "$OUT" "| Healthy |" "key times"

echo "# a deploy whose health fails rolls back on its own"
HEALTH_BUDGET=1s EXTRA_CONFIG="$EXTRA_CONFIG" write_config
expect_exit 1 incident deploy "$TAG3" --yes --reason "release v3"
contains "$ERR" "rolling back to $TAG2" "stderr"
check "back at the tag before" test "$(head_commit)" = "$(tag_commit "$TAG2")"
check "healthy again" test "$(http_status)" = 200
d=$(incident list --json | jq -r '.[] | select(.kind=="deploy") | .id' | head -1)
r=$(incident list --json | jq -r '.[0].id')
check "a rollback after the deploy" test "$(incident list --json | jq -r '.[0].kind')" = rollback
check "caused_by" test "$(events "$r" | jq -r 'select(.type=="incident.opened") | .data.caused_by')" = "$d"
check "rolled_back_by" test "$(events "$d" | jq -r 'select(.type=="observation" and .data.what=="rolled_back_by") | .data.incident')" = "$r"
expect_exit 0 incident tags
contains "$OUT" "$TAG3" "tags"
check "the new tag is known-bad" grep -q "known-bad (INC-$r rolled back from it)" <<<"$OUT"
expect_exit 0 incident report "$d"
contains "$OUT" "| Rolled back by | INC-$r |" "the deploy's report links the rollback"
expect_exit 0 incident report "$r"
contains "$OUT" "| Caused by | INC-$d" "the rollback's report links the deploy"
check "a later automatic rollback does not take the bad tag" test "$(incident --json rollback --dry-run | jq -r .to)" = "$TAG1"

echo "# a failed soak is a key time"
cat >"$D/scripts/flaky_start.sh" <<SH
#!/bin/sh
./scripts/start.sh "\$@"
( sleep 0.15; pkill -f -- "$NODE_MATCH" ) >/dev/null 2>&1 &
SH
chmod +x "$D/scripts/flaky_start.sh"
FLAKY="$EXTRA_CONFIG
	on-failure = hold
[start]
	command = ./scripts/flaky_start.sh"
EXTRA_CONFIG="$FLAKY" write_config
n=$(incident list --json | jq length)
expect_exit 1 incident deploy "$TAG2" --yes --force --reason "flaky"
contains "$ERR" "on-failure = hold" "hold says so"
check "hold: no rollback" test "$(incident list --json | jq length)" -eq $((n + 1))
d=$(incident list --json | jq -r '.[0].id')
check "the soak failed" test "$(events "$d" | jq -r 'select(.type=="step.failed") | .step')" = soak
expect_exit 0 incident report "$d"
contains "$OUT" "| Soak failed |" "key time"
EXTRA_CONFIG="$FLAKY" write_config
sed -i 's/on-failure = hold/on-failure = stop/' "$T/incident.conf"
git -C "$D" checkout -q -f "$TAG2"; kill_node; start_node
expect_exit 1 incident deploy "$TAG2" --yes --force --reason "flaky again"
check "stop: a stop incident" test "$(incident list --json | jq -r '.[0].kind')" = stop
check "stop: caused_by" test "$(events "$(incident list --json | jq -r '.[0].id')" | jq -r 'select(.type=="incident.opened") | .data.caused_by')" = "$(incident list --json | jq -r '.[1].id')"

echo "# kill -9 in each step: the deploy resumes and finishes"
EXTRA_CONFIG="[deploy]
	soak = 300ms
	soak-interval = 100ms
	migrate = $T/migrate.sh
	config = $T/backup/config-{ts}" write_config
for step in backup stop checkout config migrate start health soak verify report; do
	kill_node
	git -C "$D" checkout -q -f "$TAG1"
	git -C "$D" clean -q -fd config
	start_node
	INCIDENT_TEST_CRASH_AT=$step expect_exit 137 incident deploy "$TAG2" --yes --force --reason "crash at $step"
	id=$(incident list --json | jq -r '.[0].id')
	check "$step: left open" test "$(incident list --json | jq -r '.[0].status')" = open
	if [ "$step" = migrate ]; then
		# A migration cut off is not repeated blindly: the resume
		# says so and the deploy fails (no automatic rollback: the
		# health never ran).
		expect_exit 1 incident deploy "$TAG2" --yes
		contains "$ERR" "not repeated blindly" "migrate: resume refuses to guess"
		check "migrate: resumed, not a new one" test "$(incident list --json | jq -r '.[0].id')" = "$id"
		continue
	fi
	expect_exit 0 incident deploy "$TAG2" --yes
	check "$step: resumed, not a new one" test "$(incident list --json | jq -r '.[0].id')" = "$id"
	check "$step: succeeded" test "$(incident list --json | jq -r '.[0].status')" = succeeded
	check "$step: at the tag" test "$(head_commit)" = "$(tag_commit "$TAG2")"
	check "$step: one node" test "$(node_count)" -eq 1
done

echo "# the rollback's own target prefers a known-good tag to an untried one"
git -C "$D" checkout -q -f "$TAG2"
commit_version v4 good deploy-20260104-100000
commit_version v5 broken deploy-20260105-100000
git -C "$D" checkout -q -f "$TAG2"
kill_node
start_node
HEALTH_BUDGET=1s EXTRA_CONFIG="[deploy]
	on-failure = hold" write_config
expect_exit 1 incident deploy deploy-20260105-100000 --yes --reason "v5"
expect_exit 0 incident --json rollback --dry-run
check "known-good $TAG2 over the untried v4" test "$(jq -r .to <<<"$OUT")" = "$TAG2"
contains "$(jq -r .why <<<"$OUT")" "the newest known-good deploy tag" "why"
expect_exit 0 incident rollback --yes --reason "back to known-good"
r=$(incident list --json | jq -r '.[0].id')
check "target.chosen says which rule" test "$(events "$r" | jq -r 'select(.type=="target.chosen") | .data.rule')" = known-good
check "at the known-good tag" test "$(head_commit)" = "$(tag_commit "$TAG2")"
write_config

echo "# Ctrl-C during the soak: recorded, left open, resumed"
EXTRA_CONFIG="[deploy]
	soak = 20s
	soak-interval = 100ms" write_config
git -C "$D" checkout -q -f "$TAG1"
kill_node
start_node
set -m
"$INCIDENT_BIN" -c "$T/incident.conf" deploy "$TAG2" --yes --reason "ctrl-c" >"$T/out" 2>"$T/err" </dev/null &
pid=$!
set +m
for _ in $(seq 1 200); do grep -q "soak       started" "$T/err" && break; sleep 0.05; done
kill -INT "$pid"
got=0
wait "$pid" || got=$?
check "exit 130" test "$got" -eq 130
contains "$(cat "$T/err")" "resume with 'incident deploy $TAG2'" "how to resume"
check "left open" test "$(incident list --json | jq -r '.[0].status')" = open
EXTRA_CONFIG="[deploy]
	soak = 200ms
	soak-interval = 100ms" write_config
expect_exit 0 incident deploy "$TAG2" --yes
contains "$ERR" "resuming interrupted INC-" "resumed"
check "succeeded" test "$(incident list --json | jq -r '.[0].status')" = succeeded
write_config

echo "# wrong input"
expect_exit 2 incident deploy
expect_exit 2 incident deploy deploy-19990101-000000 --yes
expect_exit 2 incident deploy "$TAG2" --with-db --yes
EXTRA_CONFIG="[deploy]
	on-failure = sometimes" write_config
expect_exit 2 incident deploy "$TAG2" --yes
contains "$ERR" "deploy.on-failure" "names the key"
write_config
kill_node

finish
