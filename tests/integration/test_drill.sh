#!/usr/bin/env bash
# incident drill: a recorded rollback replayed as a scored training drill,
# answered on stdin; the deployment is never touched.
. "$(dirname "$0")/lib.sh"

make_three_tags
start_node
expect_exit 0 incident rollback --yes --reason "the source"
src=1

# snapshot: what a drill must not change.
snapshot() {
	{
		git -C "$D" rev-parse HEAD
		git -C "$D" status --porcelain
		(cd "$D" && find . \( -path ./.git -o -path ./logs \) -prune -o -type f -print0 | sort -z | xargs -0 sha256sum)
		pgrep -f -- "$NODE_MATCH" | sort
		ls -l "$T/data/archives" "$T/data/reports"
	} 2>&1
}
before=$(snapshot)
answers=$(drill_answers $src)
check "four answers recorded" test "$(wc -l <<<"$answers")" -eq 4

echo "# answered as recorded: 100, passed"
drill() {
	local input=$1
	shift
	printf '%s\n' "$input" >"$T/answers"
	local got=0
	"$INCIDENT_BIN" -c "$T/incident.conf" drill "$@" <"$T/answers" >"$T/out" 2>"$T/err" || got=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	RC=$got
}
drill "$answers" $src --speed 1000 --max-idle 0
check "exit 0" test "$RC" -eq 0
contains "$OUT" "100/100, passed" "score"
d=$(incident list --json | jq -r '.[0].id')
check "a drill incident" test "$(incident list --json | jq -r '.[0].kind')" = drill
check "it names its source" test "$(incident list --json | jq -r '.[0].drill_of')" = $src
check "source head recorded" test "$(events "$d" | jq -r 'select(.type=="incident.opened") | .data.source_head')" = "$(incident list --json | jq -r ".[] | select(.id==$src) | .head")"
check "asked four times" test "$(events "$d" | jq -r 'select(.type=="drill.asked")' | jq -s length)" -eq 4
check "answered four times" test "$(events "$d" | jq -r 'select(.type=="drill.answered") | .data.verdict' | sort -u)" = correct
check "scored" test "$(events "$d" | jq -r 'select(.type=="drill.scored") | .data.score')" = 100
check "ratings all P" test "$(events "$d" | jq -r 'select(.type=="drill.scored") | .data.ratings | [.[]] | unique | join("")')" = P
check "key: the recording" test "$(events "$d" | jq -r 'select(.type=="drill.answered") | .data.key' | sort -u)" = "recorded answer"
contains "$ERR" "? trading active?" "the question is asked"
contains "$ERR" "seen: 1 process(es) match" "what the operator saw"
contains "$ERR" "incident   succeeded in" "the source replays on the display"
check "nothing touched" test "$(snapshot)" = "$before"
expect_exit 0 incident list
contains "$OUT" "drill of INC-$src" "list marks drills"
expect_exit 0 incident --json stats
check "stats leave drills out" test "$(jq -r .incidents <<<"$OUT")" -eq 1
check "stats count them apart" test "$(jq -r .drills <<<"$OUT")" -eq 1
expect_exit 0 incident report "$d"
contains "$OUT" "drill of INC-$src" "report"
contains "$OUT" "100/100, passed" "report score"
contains "$OUT" "| stop | trading active? | yes | yes | correct | P |" "report answers"
expect_exit 0 incident report "$d" --format json
check "json report score" test "$(jq -r .score <<<"$OUT")" = 100
check "json report answers" test "$(jq -r '.answers | length' <<<"$OUT")" -eq 4
expect_exit 0 incident report "$d" --format html
contains "$OUT" "<td>trading active?</td>" "html report"

echo "# off-script and forbidden: no stop while trading, the broken tag"
drill "$(printf 'no\nyes\n%s\nno' "$TAG3")" $src --speed 1000 --max-idle 0
check "exit 1: not passed" test "$RC" -eq 1
contains "$OUT" "not passed (a forbidden answer)" "score"
contains "$ERR" "off-script: the original chose yes" "off-script"
contains "$ERR" "off-script: the original chose $TAG2" "off-script target"
d=$(incident list --json | jq -r '.[0].id')
check "stop forbidden" test "$(events "$d" | jq -r 'select(.type=="drill.answered" and .data.decision=="stop") | .data.verdict')" = forbidden
check "target forbidden" test "$(events "$d" | jq -r 'select(.type=="drill.answered" and .data.decision=="target") | .data.verdict')" = forbidden
check "stop rated U" test "$(events "$d" | jq -r 'select(.type=="drill.scored") | .data.ratings.stop')" = U
expect_exit 0 incident report "$d"
contains "$OUT" "What to study" "report"
contains "$OUT" "stop.process" "what to study names the rule"

echo "# a target by its number; an answer that is none is asked again"
drill "$(printf 'maybe\nyes\nyes\n2\nno')" $src --speed 1000 --max-idle 0
check "exit 0" test "$RC" -eq 0
contains "$ERR" "answer yes or no" "re-asked"

echo "# hints cost 3; blind: nothing shown until look"
drill "$(printf 'hint\nyes\nyes\n2\nno')" $src --speed 1000 --max-idle 0
contains "$OUT" "97/100" "a hint costs 3"
drill "$(printf 'look\nyes\nyes\nlook\n2\nno')" $src --blind --speed 1000 --max-idle 0
check "exit 0" test "$RC" -eq 0
d=$(incident list --json | jq -r '.[0].id')
check "two looks" test "$(events "$d" | jq -r 'select(.type=="drill.looked")' | jq -s length)" -eq 2
check "blind recorded" test "$(events "$d" | jq -r 'select(.type=="incident.opened") | .data.blind')" = true
# Blind: the backup question (not looked at) shows no "seen:" line.
check "blind hides what was seen" test "$(grep -c 'seen:' "$T/err")" -eq 2

echo "# the end of input ends the drill, scored as far as it got"
drill "yes" $src --speed 1000 --max-idle 0
check "exit 1" test "$RC" -eq 1
contains "$ERR" "ended early" "said"
d=$(incident list --json | jq -r '.[0].id')
check "scored as far as it got" test "$(events "$d" | jq -r 'select(.type=="drill.scored") | .data.interrupted')" = true
check "closed" test "$(incident list --json | jq -r '.[0].status')" = failed

echo "# Ctrl-C ends the drill, recorded and scored"
mkfifo "$T/fifo"
# Job control: the background drill keeps SIGINT (a script's background
# jobs otherwise start with it ignored).
set -m
"$INCIDENT_BIN" -c "$T/incident.conf" drill $src --speed 1000 --max-idle 0 <"$T/fifo" >"$T/out" 2>"$T/err" &
pid=$!
set +m
exec 3>"$T/fifo"
# A drill that ignored the signal must not hang the suite.
(sleep 30; kill -KILL "$pid") >/dev/null 2>&1 &
watchdog=$!
for _ in $(seq 1 100); do grep -q "trading active?" "$T/err" 2>/dev/null && break; sleep 0.05; done
kill -INT "$pid"
got=0
wait "$pid" || got=$?
kill "$watchdog" 2>/dev/null || true
pkill -P "$watchdog" sleep 2>/dev/null || true
exec 3>&-
check "exit 130" test "$got" -eq 130
d=$(incident list --json | jq -r '.[0].id')
check "scored when interrupted" test "$(events "$d" | jq -r 'select(.type=="drill.scored") | .data.interrupted')" = true
check "closed after Ctrl-C" test "$(incident list --json | jq -r '.[0].status')" != open

echo "# a failed incident: the key is today's rule, or a key file"
HEALTH_BUDGET=1s write_config
sed -i 's/^\turl = .*/\turl = http:\/\/127.0.0.1:1\/status/' "$T/incident.conf"
expect_exit 1 incident rollback "$TAG1" --yes --force
failed=$(incident list --json | jq -r '.[0].id')
write_config
drill "$(drill_answers "$failed")" "$failed" --speed 1000 --max-idle 0
d=$(incident list --json | jq -r '.[0].id')
check "key: today's rule" test "$(events "$d" | jq -r 'select(.type=="drill.answered") | .data.key' | sort -u)" = "today's rule"
cat >"$T/key.conf" <<KEY
[stop]
	accept = yes
[target]
	accept = $TAG1
[database]
	accept = no
	partial = yes
KEY
drill "$(printf 'yes\nyes\n%s\nyes' "$TAG1")" "$failed" --key "$T/key.conf" --speed 1000 --max-idle 0
d=$(incident list --json | jq -r '.[0].id')
check "key file used" test "$(events "$d" | jq -r 'select(.type=="drill.answered" and .data.decision=="target") | .data.key')" = "key file"
check "a section the file lacks: today's rule" test "$(events "$d" | jq -r 'select(.type=="drill.answered" and .data.decision=="backup") | .data.key')" = "today's rule"
check "partial answer" test "$(events "$d" | jq -r 'select(.type=="drill.answered" and .data.decision=="database") | .data.verdict')" = partial
check "partial rated S" test "$(events "$d" | jq -r 'select(.type=="drill.scored") | .data.ratings.database')" = S
check "the deployed tag is forbidden whatever the key" test "$(drill "$(printf 'yes\nyes\n%s\nno' "$TAG2")" "$failed" --key "$T/key.conf" --speed 1000 --max-idle 0; events "$(incident list --json | jq -r '.[0].id')" | jq -r 'select(.type=="drill.answered" and .data.decision=="target") | .data.verdict')" = forbidden
echo "[target]
	forbid = $TAG1" >"$T/key2.conf"
drill "$(printf 'yes\nyes\n%s\nno' "$TAG1")" "$failed" --key "$T/key2.conf" --speed 1000 --max-idle 0
check "the key's forbidden answer fails the drill" test "$RC" -eq 1
contains "$OUT" "a forbidden answer" "score"

echo "# wrong input: clear errors, exit 2, nothing recorded"
n=$(incident list --json | jq length)
expect_exit 2 incident drill
expect_exit 2 incident drill 999
expect_exit 2 incident drill $src --speed 0
expect_exit 2 incident drill $src --colour
expect_exit 2 incident drill "$d"
contains "$ERR" "is itself a drill" "drill of a drill"
echo "[nonsense]
	x = 1" >"$T/bad.conf"
expect_exit 2 incident drill $src --key "$T/bad.conf"
contains "$ERR" "bad.conf" "names the key file"
expect_exit 2 incident drill $src --key "$T/missing.conf"
check "nothing recorded" test "$(incident list --json | jq length)" -eq "$n"

finish
