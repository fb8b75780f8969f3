#!/usr/bin/env bash
# Reports, views and replay of real recorded rollbacks: one that
# succeeded, one that failed at health, one resumed after a crash.
. "$(dirname "$0")/lib.sh"

make_three_tags
start_node
HOSTILE=$'<script>alert(1)</script> & "quotes" \x1b[31mred\x1b[0m | pipe'

echo "# three real incidents"
expect_exit 0 incident rollback --yes --reason "$HOSTILE"
expect_exit 0 incident note 1 "$HOSTILE note"
expect_exit 0 incident note 1 "the risk limit was 5000, not 500" --corrects 3
git -C "$D" checkout -q -f "$TAG3"; git -C "$D" clean -q -fd config
kill "$(cat "$D/run/node.pid")"; sleep 0.2; start_node
HEALTH_BUDGET=1s write_config
sed -i 's|^\turl = .*|\turl = http://127.0.0.1:1/status|' "$T/incident.conf"
expect_exit 1 incident rollback "$TAG2" --yes --reason "health will fail"
write_config
git -C "$D" checkout -q -f "$TAG3"; git -C "$D" clean -q -fd config
pkill -f "trading_node --port $PORT"; sleep 0.2; start_node
INCIDENT_TEST_CRASH_AT=checkout expect_exit 137 incident rollback --yes --reason "crash test"
expect_exit 0 incident rollback --yes

echo "# markdown"
expect_exit 0 incident report 1 --format md
md=$OUT
contains "$md" "INC-1" "md"
contains "$md" "succeeded" "md"
contains "$md" "$TAG3" "md"
contains "$md" "$TAG2" "md"
contains "$md" "Trading stopped" "md"
contains "$md" "seq " "md"
contains "$md" "trading active?" "md"
contains "$md" "Post-mortem" "md"
contains "$md" "Redeploy" "md"
contains "$md" "the risk limit was 5000" "md"
not_contains "$md" "<script>" "md"
not_contains "$md" $'\x1b' "md"
check "report file from the report step" test -s "$T/data/reports/INC-1.md"

echo "# html"
expect_exit 0 incident report 1 --format html -o "$T/inc1.html"
html=$(cat "$T/inc1.html")
contains "$html" "<svg" "html"
contains "$html" "&lt;script&gt;" "html"
not_contains "$html" "<script>alert" "html"
not_contains "$html" "http://" "html"
not_contains "$html" "https://" "html"
not_contains "$html" $'\x1b' "html"
check "no src= fetches" test -z "$(grep -o 'src=' "$T/inc1.html" || true)"

echo "# json"
expect_exit 0 incident report 1 --format json
json=$OUT
for k in id kind status from to opened closed duration_ms budget_ms steps decisions metrics backups notes integrity; do
	check "json has $k" jq -e "has(\"$k\")" <<<"$json" >/dev/null
done
check "json steps" test "$(jq '.steps | length' <<<"$json")" -eq 9
check "json step fields" jq -e '.steps[0] | has("step") and has("status") and has("start_ms") and has("duration_ms") and has("budget_ms") and has("over_budget")' <<<"$json" >/dev/null
check "json metrics" jq -e '.metrics | has("time_to_stopped_ms") and has("time_to_rolled_back_ms") and has("time_to_healthy_ms")' <<<"$json" >/dev/null
check "json integrity verified" test "$(jq -r '.integrity.verified' <<<"$json")" = true
check "json head is the header's" test "$(jq -r '.integrity.head' <<<"$json")" = "$(incident list --json | jq -r '.[] | select(.id==1) | .head')"
check "json notes" test "$(jq '.notes | length' <<<"$json")" -eq 2

echo "# the failed and the resumed incidents"
expect_exit 0 incident report 2 --format json
check "failed status" test "$(jq -r '.status' <<<"$OUT")" = failed
check "health failed" test "$(jq -r '.steps[] | select(.step=="health") | .status' <<<"$OUT")" = failed
expect_exit 0 incident report 3 --format md
contains "$OUT" "resumed" "md of resumed"
contains "$OUT" "interrupted" "md of resumed"

echo "# byte-identical in any time zone and locale"
for f in md html json; do
	TZ=UTC LC_ALL=C "$INCIDENT_BIN" -c "$T/incident.conf" report 1 --format $f >"$T/a.$f"
	TZ=Asia/Kolkata LC_ALL=C.UTF-8 "$INCIDENT_BIN" -c "$T/incident.conf" report 1 --format $f >"$T/b.$f"
	TZ=America/New_York LANG=de_DE.UTF-8 "$INCIDENT_BIN" -c "$T/incident.conf" report 1 --format $f >"$T/c.$f"
	check "$f identical across TZ/locale" cmp -s "$T/a.$f" "$T/b.$f"
	check "$f identical across TZ/locale (2)" cmp -s "$T/a.$f" "$T/c.$f"
done

echo "# views"
expect_exit 0 incident timeline 1
contains "$OUT" "target $TAG3" "timeline"
not_contains "$OUT" $'\x1b' "timeline"
expect_exit 0 incident show 1 --at +0s
contains "$OUT" "stop" "show --at"
expect_exit 0 incident --json show 1 --at +1h
check "show json" jq -e . <<<"$OUT" >/dev/null
expect_exit 2 incident show 1 --at soon
expect_exit 0 incident stats
contains "$OUT" "rollback" "stats"
expect_exit 0 incident --json stats
check "stats json" jq -e . <<<"$OUT" >/dev/null

echo "# replay at a large speed: fast, everything shown"
t0=$(date +%s%N)
expect_exit 0 incident replay 1 --speed 1000 --max-idle 0.01
elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
check "replay finished in under 20 s ($elapsed ms)" test "$elapsed" -lt 20000
contains "$OUT" "succeeded" "replay"
contains "$OUT" "note" "replay"
not_contains "$OUT" $'\x1b[31m' "replay"
expect_exit 2 incident replay 1 --speed 0
expect_exit 2 incident replay 1 --speed fast

echo "# long series fold: count, first and last ten, the command for all"
# mkincident writes the events straight into the log (incident.opened,
# step.started, then the shape from seq 3); a few hundred is plenty for a
# threshold of 20.
NOTES=$("$MKINCIDENT" "$T/data" notes 300)
# The first and last ten of the 300 notes (order=2 .. order=301), none
# between them.
ten_and_ten() {
	local out=$1 what=$2 i
	for i in 2 11 292 301; do contains "$out" "order=$i ok" "$what"; done
	for i in 12 150 291; do not_contains "$out" "order=$i ok" "$what"; done
}
expect_exit 0 incident report "$NOTES" --format md
md=$OUT
contains "$md" "… 280 more notes folded (seq 13-292): <code>incident timeline INC-$NOTES</code> shows them all" "folded md notes"
contains "$md" "| … | - | - | note | - | … 280 more note events folded (seq 13-292): <code>incident timeline INC-$NOTES</code> shows them all |" "folded md timeline"
ten_and_ten "$md" "folded md"
contains "$md" "incident report INC-$NOTES --full" "folded md says how to keep all"
expect_exit 0 incident report "$NOTES" --format html
html=$OUT
contains "$html" "… 280 more notes folded (seq 13-292): <code>incident timeline INC-$NOTES</code> shows them all" "folded html notes"
contains "$html" "<td>note</td><td>-</td><td>… 280 more note events folded (seq 13-292)" "folded html timeline"
ten_and_ten "$html" "folded html"
expect_exit 0 incident report "$NOTES" --format json
json=$OUT
check "folded json notes" test "$(jq -c '.folded.notes' <<<"$json")" = "{\"count\":280,\"first_seq\":13,\"last_seq\":292,\"shown_by\":\"incident timeline INC-$NOTES\"}"
check "folded json keeps the same notes" test "$(jq -c '[.notes[].seq] | [length, .[0], .[9], .[10], .[19]]' <<<"$json")" = "[20,3,12,293,302]"
check "folded json timeline" test "$(jq -c '.folded.timeline[] | [.type, .count, .first_seq, .last_seq, .shown_by]' <<<"$json")" = "[\"note\",280,13,292,\"incident timeline INC-$NOTES\"]"
check "folded json: not full" test "$(jq '.folded.full' <<<"$json")" = false
expect_exit 0 incident timeline "$NOTES"
contains "$OUT" "order=150 ok" "the timeline shows every note"

echo "# --full keeps everything"
expect_exit 0 incident report "$NOTES" --format md --full
contains "$OUT" "order=150 ok" "full md"
not_contains "$OUT" "folded (seq" "full md"
check "full md lists every note twice (notes, timeline)" test "$(grep -c 'INFO tick' <<<"$OUT")" -eq 600
expect_exit 0 incident report "$NOTES" --format html --full
contains "$OUT" "order=150 ok" "full html"
not_contains "$OUT" "folded (seq" "full html"
expect_exit 0 incident report "$NOTES" --format json --full
check "full json notes" test "$(jq '.notes | length' <<<"$OUT")" -eq 300
check "full json folds nothing" test "$(jq -c '[.folded.full, .folded.notes, (.folded.timeline | length)]' <<<"$OUT")" = "[true,null,0]"

echo "# the lines of one long run of output fold too"
LINES=$("$MKINCIDENT" "$T/data" output 300)
expect_exit 0 incident report "$LINES" --format md
contains "$OUT" "300 lines (6 on stderr): <code>2026-11-25T15:00:02 INFO tick pnl=+14 order=2 ok</code><br>" "folded md run"
contains "$OUT" "<br>… 280 more lines folded (seq 13-292): <code>incident export INC-$LINES</code> shows them all<br><code>2026-11-25T15:00:52 INFO tick pnl=+2044 order=292 ok</code>" "folded md run"
not_contains "$OUT" "order=150 ok" "folded md run"
expect_exit 0 incident report "$LINES" --format html
contains "$OUT" "<span class=\"fold\">… 280 more lines folded (seq 13-292): <code>incident export INC-$LINES</code> shows them all</span>" "folded html run"
not_contains "$OUT" "order=150 ok" "folded html run"
expect_exit 0 incident report "$LINES" --format json
check "folded json output" test "$(jq -c '.folded.output[] | [.step, .run_first_seq, .run_last_seq, .lines, .count, .first_seq, .last_seq, .shown_by]' <<<"$OUT")" = "[\"stop\",3,302,300,280,13,292,\"incident export INC-$LINES\"]"
expect_exit 0 incident report "$LINES" --format html --full
contains "$OUT" "order=150 ok" "full html run"
expect_exit 0 incident export "$LINES" --format jsonl
contains "$OUT" "order=150 ok" "export shows every line"

echo "# a folded report of 100,000 notes stays small"
BIG=$("$MKINCIDENT" "$T/data" notes 100000)
expect_exit 0 incident report "$BIG" --format html -o "$T/big.html"
check "big html under 200 KB ($(stat -c %s "$T/big.html") bytes)" test "$(stat -c %s "$T/big.html")" -lt 200000
contains "$(cat "$T/big.html")" "… 99980 more notes folded" "big html"
expect_exit 0 incident report "$BIG" --format md
check "big md under 100 KB" test "${#OUT}" -lt 100000

echo "# the HTML renders in headless Chromium, not blank"
if command -v chromium >/dev/null; then
	shot() {
		timeout 60 chromium --headless --no-sandbox --disable-gpu \
			--disable-quic --no-first-run \
			--disable-background-networking --disable-component-update \
			--disable-sync --user-data-dir="$T/chrome-$2" \
			--window-size=1200,1600 --screenshot="$T/$2.png" "file://$1" \
			>/dev/null 2>&1
	}
	printf '<!doctype html><html><body></body></html>' >"$T/blank.html"
	shot "$T/blank.html" blank
	shot "$T/inc1.html" report
	check "screenshot made" test -s "$T/report.png"
	check "screenshot is a PNG" test "$(head -c 8 "$T/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
	# A blank page compresses to almost nothing; a rendered report does not.
	check "screenshot not blank" test "$(stat -c %s "$T/report.png")" -gt "$(( $(stat -c %s "$T/blank.png") * 5 ))"
	# and so does the folded report of 100,000 notes
	shot "$T/big.html" big
	check "big screenshot is a PNG" test "$(head -c 8 "$T/big.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
	check "big screenshot not blank" test "$(stat -c %s "$T/big.png")" -gt "$(( $(stat -c %s "$T/blank.png") * 5 ))"
else
	fail "chromium is not installed (scripts/deps.sh test installs it)"
fi

finish
