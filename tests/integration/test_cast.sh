#!/usr/bin/env bash
# export --format asciicast of a real recorded rollback: the header, the
# times, the markers, the same bytes twice, and asciinema plays it; replay
# shows the same markers and --pause-at-markers never waits without a
# terminal.
. "$(dirname "$0")/lib.sh"

if ! command -v asciinema >/dev/null; then
	echo "asciinema is not installed (scripts/deps.sh test installs it)"
	exit 1
fi
if ! command -v script >/dev/null; then
	echo "script(1) is not installed (util-linux)"
	exit 1
fi

make_three_tags
start_node

echo "# a real rollback, and a note a while after it closed"
expect_exit 0 incident rollback --yes --reason $'red \x1b[31malert\x1b[0m'
sleep 1.2
expect_exit 0 incident note 1 $'looked at it \x1b]0;owned\x07 later'
expect_exit 0 incident --json verify 1
head=$(jq -r '.incidents[0].head' <<<"$OUT")
nev=$(jq -r '.incidents[0].events' <<<"$OUT")
opened=$(events 1 | head -n 1 | jq '.ts / 1e9 | floor')

echo "# the header"
expect_exit 0 incident export 1 --format asciicast -o "$T/a.cast"
check "header is one JSON object" jq -e 'type == "object"' <<<"$(head -n 1 "$T/a.cast")" >/dev/null
hdr=$(head -n 1 "$T/a.cast")
check "version 2" test "$(jq '.version' <<<"$hdr")" = 2
check "width 100" test "$(jq '.width' <<<"$hdr")" = 100
check "height 30" test "$(jq '.height' <<<"$hdr")" = 30
check "timestamp: the opening" test "$(jq '.timestamp' <<<"$hdr")" = "$opened"
check "idle_time_limit 2" jq -e '.idle_time_limit == 2' <<<"$hdr" >/dev/null
check "title" test "$(jq -r '.title' <<<"$hdr")" = "INC-1 rollback $TAG3 -> $TAG2"
check "env: TERM only" test "$(jq -c '.env' <<<"$hdr")" = '{"TERM":"xterm-256color"}'

echo "# the events"
tail -n +2 "$T/a.cast" >"$T/events"
check "every event is [time, o|m, text]" jq -s -e 'all(type == "array" and length == 3 and (.[0] | type) == "number" and (.[1] == "o" or .[1] == "m") and (.[2] | type) == "string")' "$T/events" >/dev/null
check "times start at 0" jq -s -e '.[0][0] == 0' "$T/events" >/dev/null
check "times never go back" jq -s -e 'map(.[0]) as $t | all(range(1; $t | length); $t[.] >= $t[. - 1])' "$T/events" >/dev/null
check "output events" test "$(jq -r 'select(.[1] == "o") | 1' "$T/events" | wc -l)" -gt 10
jq -r 'select(.[1] == "m") | .[2]' "$T/events" >"$T/markers"
markers=$(cat "$T/markers")
contains "$markers" "trading active? = yes" "markers"
contains "$markers" "data at risk? = yes" "markers"
contains "$markers" "1/9 stop" "markers"
contains "$markers" "3/9 checkout" "markers"
contains "$markers" "target: $TAG3 -> $TAG2" "markers"
contains "$markers" "9/9 report" "markers"
contains "$markers" "closed: succeeded" "markers"
check "decision before its step" test "$(grep -n -e '^trading active?' -e '^1/9 stop' "$T/markers" | cut -d: -f2 | tr '\n' '|')" = "trading active? = yes|1/9 stop|"
check "the chain head is the last marker" test "$(tail -n 1 "$T/markers")" = "chain head ${head:0:16}… at seq $nev"
check "the last event is that marker" test "$(tail -n 1 "$T/events" | jq -r '.[1]')" = m
jq -r 'select(.[1] == "o") | .[2]' "$T/events" >"$T/frames"
check "frames show the target" grep -q "$TAG2" "$T/frames"
check "frames show the note" grep -q "looked at it" "$T/frames"
check "log text is sanitized: no escape from the reason" test -z "$(grep -F $'\x1b[31malert' "$T/frames" || true)"
check "log text is sanitized: no title sequence from the note" test -z "$(grep -F $'\x1b]0;' "$T/frames" || true)"
check "frames end lines with CR LF" test -z "$(jq -r 'select(.[1] == "o") | .[2] | select(test("[^\r]\n"))' "$T/events")"

echo "# the same log and size: the same bytes, whatever the environment"
expect_exit 0 incident export 1 --format asciicast -o "$T/b.cast"
check "two exports byte-identical" cmp -s "$T/a.cast" "$T/b.cast"
env -u NO_COLOR COLUMNS=40 LINES=10 TERM=dumb "$INCIDENT_BIN" -c "$T/incident.conf" \
	export 1 --format asciicast >"$T/c.cast"
check "the terminal's size, TERM and NO_COLOR change nothing" cmp -s "$T/a.cast" "$T/c.cast"

echo "# another size, another idle cap"
expect_exit 0 incident export 1 --format asciicast --cols 80 --rows 12 --max-idle 0.25 -o "$T/d.cast"
check "width 80" test "$(head -n 1 "$T/d.cast" | jq '.width')" = 80
check "height 12" test "$(head -n 1 "$T/d.cast" | jq '.height')" = 12
check "idle_time_limit 0.25" jq -e '.idle_time_limit == 0.25' <<<"$(head -n 1 "$T/d.cast")" >/dev/null
check "another width, other bytes" test "$(cmp -s "$T/a.cast" "$T/d.cast" && echo same)" != same
# The note came over a second after the close: its gap is cut to 0.25 s.
check "no gap over the idle cap" jq -s -e 'map(.[0]) as $t | all(range(1; $t | length); $t[.] - $t[. - 1] <= 0.250001)' <(tail -n +2 "$T/d.cast") >/dev/null
check "the same markers at any size" test "$(tail -n +2 "$T/d.cast" | jq -r 'select(.[1] == "m") | .[2]')" = "$markers"

echo "# asciinema plays it"
rc=0
script -q -e -c "asciinema cat $T/a.cast" "$T/played" </dev/null >/dev/null 2>&1 || rc=$?
check "asciinema cat succeeds" test "$rc" = 0
check "asciinema shows the target" grep -q "$TAG2" "$T/played"
check "asciinema shows the outcome" grep -q "succeeded" "$T/played"

echo "# bad options: exit 2, nothing written"
expect_exit 2 incident export 1 --format asciicast --cols 19
contains "$ERR" "--cols takes 20 to 500" "stderr"
expect_exit 2 incident export 1 --format asciicast --cols 501
expect_exit 2 incident export 1 --format asciicast --cols 1e2
expect_exit 2 incident export 1 --format asciicast --rows 4
contains "$ERR" "--rows takes 5 to 200" "stderr"
expect_exit 2 incident export 1 --format asciicast --rows 201
expect_exit 2 incident export 1 --format asciicast --max-idle 0
contains "$ERR" "--max-idle takes seconds above 0" "stderr"
expect_exit 2 incident export 1 --format asciicast --max-idle -1
expect_exit 2 incident export 1 --format asciicast --max-idle soon
expect_exit 2 incident export 1 --format asciicast --max-idle nan
expect_exit 2 incident export 1 --format asciicast --cols
expect_exit 2 incident export 1 --format asciicast --speed 2
contains "$ERR" "--speed" "stderr"
expect_exit 2 incident export 1 --format jsonl --cols 80
contains "$ERR" "--cols is an option of --format asciicast" "stderr"
expect_exit 2 incident export 1 --format gif -o "$T/e.cast"
contains "$ERR" "asciicast" "stderr"
check "nothing written" test ! -e "$T/e.cast"

echo "# replay shows the same markers, and does not pause without a terminal"
expect_exit 0 timeout 120 "$INCIDENT_BIN" -c "$T/incident.conf" replay 1 --speed 100 --pause-at-markers
contains "$OUT" "▸ 1/9 stop" "replay"
contains "$OUT" "▸ trading active? = yes" "replay"
contains "$OUT" "▸ closed: succeeded" "replay"
contains "$OUT" "▸ chain head ${head:0:16}… at seq $nev" "replay"
not_contains "$OUT" "paused" "replay"
check "replay markers as in the cast" test "$(sed -n 's/^\[[^]]*\] ▸ //p' <<<"$OUT")" = "$markers"
expect_exit 0 incident replay 1 --speed 100
contains "$OUT" "▸ 3/9 checkout" "replay"
rc=0
env -u NO_COLOR TERM=xterm script -q -e -c \
	"$INCIDENT_BIN -c $T/incident.conf replay 1 --speed 100" "$T/replay-pty" \
	</dev/null >/dev/null 2>&1 || rc=$?
check "replay on a terminal" test "$rc" = 0
check "the live display shows the last marker" grep -q "chain head ${head:0:16}" "$T/replay-pty"

finish
