#!/usr/bin/env bash
# Signed checkpoints of the ledger: one after each step's commit and at
# each close, kept in DATA_DIR/checkpoints/latest and, with git-notes, as
# a note on the deployed commit.  `verify --checkpoint` holds the log to
# them: a cut tail, a deleted incident and a consistent rewrite fail; a
# note signed by another key is refused; an auditor's openssl checks the
# signature without our binary.
. "$(dirname "$0")/lib.sh"

: "${EVLOG_EDIT:?}"

EXTRA_CONFIG='[checkpoint]
	git-notes = true'
make_three_tags
start_node

echo "# a rollback signs a checkpoint after each step and at the close"
expect_exit 0 incident rollback --yes
check "the key was made, mode 0600" \
	test "$(stat -c %a "$T/data/keys/checkpoint.key")" = 600
check "its public half is pinned" \
	test "$(ls "$T/data/keys/"ed25519-*.pub | wc -l)" = 1
# A step's end commits with the next step's start (durable before its
# effect); the checkpoint signs that commit on the signer thread while
# the step goes on, and its event rides with the next commit at the
# latest.  With one incident in the log, a checkpoint's size is the seq
# of the last event of the commit it signs.
cps=$(events 1 | jq -s '[.[] | select(.type=="checkpoint")] | length')
check "a checkpoint per commit that ends steps ($cps)" test "$cps" -ge 7
check "each signs a whole commit: its last event is a durable one" \
	test "$(events 1 | jq -s '. as $all | [.[] | select(.type=="checkpoint")
		| .data.size as $n | select(($all[$n - 1].type |
		IN("step.started", "incident.closed")) | not)] | length')" = 0
check "each comes before the commit after the one it signs" \
	test "$(events 1 | jq -s '. as $all | [.[] | select(.type=="checkpoint")
		| . as $c | $all[$c.data.size:$c.seq - 1][] |
		select(.type | IN("step.started", "incident.closed"))] |
		length')" = 0
check "the close's covers every event before it" \
	test "$(events 1 | jq -s '[.[] | select(.type=="checkpoint" and
		(.data.what | endswith("closed")) and
		.data.size != .seq - 1)] | length')" = 0
for s in stop backup checkout health verify; do
	check "a checkpoint after $s" test "$(events 1 | jq -s "[.[] |
		select(.type==\"checkpoint\" and
		.data.what==\"INC-1 after $s\")] | length")" = 1
done
check "every checkpoint event is signed (no error)" \
	test "$(events 1 | jq -s '[.[] | select(.type=="checkpoint" and
		(.data.error != null))] | length')" = 0
last=$(events 1 | jq -c -s 'map(select(.type=="checkpoint")) | last')
contains "$last" "closed" "the last checkpoint is the close's"
check "checkpoints/latest is the close's" \
	grep -q "INC-1 closed" "$T/data/checkpoints/latest"
note=$(git -C "$D" notes --ref incident-checkpoints show HEAD)
contains "$note" "INC-1 closed" "the deployed commit carries the close's note"

echo "# the report carries the close's root"
closeroot=$(jq -r 'select(.type=="checkpoint" and .data.what=="INC-1 closed") | .data.root' <<<"$(events 1)")
expect_exit 0 incident report 1 --format json
check "report json: the close's checkpoint" \
	test "$(jq -r .integrity.checkpoint.root <<<"$OUT")" = "$closeroot"
expect_exit 0 incident report 1 --format md
contains "$OUT" "Signed checkpoint" "report md names the checkpoint"
contains "$OUT" "$closeroot" "report md: the close's root"

echo "# incident checkpoint prints the latest, the same twice"
expect_exit 0 incident checkpoint
first=$OUT
check "the close's own note: its checkpoint event is all that came after" \
	test "$OUT" = "$(cat "$T/data/checkpoints/latest")"
contains "$OUT" "$(hostname)/incident/" "the origin names host and log"
expect_exit 0 incident verify --checkpoint "$T/data/checkpoints/latest"
contains "$OUT" "only the checkpoint event that records it" "after the close's note, only its record"
expect_exit 0 incident checkpoint
check "the same note twice" test "$OUT" = "$first"
expect_exit 0 incident --json checkpoint
check "json: the size of the signed ledger" \
	test "$(jq -r .size <<<"$OUT")" -gt 0
expect_exit 0 incident note 1 "reviewed"
expect_exit 0 incident --json checkpoint
check "a note since: signed anew" test "$(jq -r .signed_now <<<"$OUT")" = true
expect_exit 2 incident checkpoint --bogus

echo "# verify against each anchor: all good"
expect_exit 0 incident verify
contains "$OUT" "checkpoint: none given" "plain verify says the tail is unprotected"
expect_exit 0 incident verify --checkpoint git
contains "$OUT" "consistency proof" "verify git proves consistency"
contains "$OUT" "not protected" "the note since the close is unanchored"
cp "$T/data/checkpoints/latest" "$T/latest.cp"
expect_exit 0 incident verify --checkpoint "$T/latest.cp"
not_contains "$OUT" "not protected" "the latest covers the whole log"
expect_exit 0 incident --json verify --checkpoint git
check "json: checkpoint ok" test "$(jq -r .checkpoint.ok <<<"$OUT")" = true

echo "# a cut tail with its header fixed up and the ledger rebuilt"
copy_data
n=$(events 1 | jq -s length)
check "cut applied" "$EVLOG_EDIT" "$T/edit" --cut 1 $((n - 6))
check "rebuild applied" "$EVLOG_EDIT" "$T/edit" --rebuild-ledger
expect_exit 0 incident -d "$T/edit" verify
expect_exit 1 incident -d "$T/edit" verify --checkpoint git
contains "$ERR" "log truncated: " "verify names the cut"
contains "$ERR" "says " "... and the checkpoint's size"

echo "# an event rewritten and all after it chained anew, ledger rebuilt"
copy_data
seq=$(events 1 | jq -s 'map(select(.type=="step.completed"))[0].seq')
check "rewrite applied" "$EVLOG_EDIT" "$T/edit" --rewrite 1 "$seq" "nothing"
check "rebuild applied" "$EVLOG_EDIT" "$T/edit" --rebuild-ledger
expect_exit 0 incident -d "$T/edit" verify
expect_exit 1 incident -d "$T/edit" verify --checkpoint "$T/latest.cp"
contains "$ERR" "log rewritten before INC-1 seq" "verify names the rewrite"

echo "# a whole incident deleted, ledger rebuilt"
expect_exit 0 incident backup --reason "a second incident"
cp "$T/data/checkpoints/latest" "$T/two.cp"
copy_data
check "delete applied" "$EVLOG_EDIT" "$T/edit" --cut 2 0
check "rebuild applied" "$EVLOG_EDIT" "$T/edit" --rebuild-ledger
rm -f "$T/edit/archives/INC-2"* "$T/edit/reports/INC-2"*
expect_exit 0 incident -d "$T/edit" verify
expect_exit 1 incident -d "$T/edit" verify --checkpoint "$T/two.cp"
contains "$ERR" "log truncated" "the deletion is found"

echo "# a checkpoint signed by another key is refused"
copy_data
mv "$T/edit/keys" "$T/keys.saved"
rm -f "$T/edit/checkpoints/"*
expect_exit 0 incident -d "$T/edit" checkpoint
cp "$T/edit/checkpoints/latest" "$T/other.cp"
rm -rf "$T/edit/keys"
mv "$T/keys.saved" "$T/edit/keys"
expect_exit 1 incident -d "$T/edit" verify --checkpoint "$T/other.cp"
contains "$ERR" "not signed by a pinned key" "another key refused"
echo "# ... and one whose signature was edited"
# One character in the middle of the signature's base64 (the last
# ones may stand only for padding bits) changed to another.
awk 'NR > 1 && $1 == "—" {
	c = substr($3, 40, 1); r = c == "A" ? "B" : "A"
	$3 = substr($3, 1, 39) r substr($3, 41) } { print }' \
	"$T/latest.cp" >"$T/bad.cp"
if cmp -s "$T/bad.cp" "$T/latest.cp"; then
	fail "the signature was not edited"
fi
expect_exit 1 incident verify --checkpoint "$T/bad.cp"
contains "$ERR" "not signed by a pinned key" "an edited signature refused"
sed '2 s/^[0-9]*/1/' "$T/latest.cp" >"$T/size.cp"
expect_exit 1 incident verify --checkpoint "$T/size.cp"
contains "$ERR" "not signed by a pinned key" "an edited size refused"
head -c $((17 << 20)) /dev/zero >"$T/big.cp"
expect_exit 2 incident verify --checkpoint "$T/big.cp"
contains "$ERR" "is larger than 16 MiB" "a file past the limit is said so"
rm -f "$T/big.cp"
printf 'not a note\n' >"$T/junk.cp"
expect_exit 1 incident verify --checkpoint "$T/junk.cp"
contains "$ERR" "not a signed checkpoint" "junk is named"
expect_exit 2 incident verify --checkpoint "$T/nothing-here"
expect_exit 2 incident verify --key "$T/data/keys/x.pub"
expect_exit 2 incident verify --checkpoint "$T/latest.cp" --key "$T/incident.conf"
contains "$ERR" "is no Ed25519 public key" "a --key that is no key"
check "said before any incident is walked" test -z "$OUT"

echo "# a replaced log: its notes in git are another log's"
rm -rf "$T/edit"
grep -v git-notes "$T/incident.conf" >"$T/nogit.conf"
expect_exit 0 "$INCIDENT_BIN" -c "$T/nogit.conf" -d "$T/edit" backup \
	--reason "a new log"
rm -rf "$T/edit/keys"
cp -a "$T/data/keys" "$T/edit/keys"
expect_exit 1 incident -d "$T/edit" verify --checkpoint git
contains "$ERR" "for another log" "the replaced log is named"
contains "$ERR" "the log was replaced" "... as replaced"
cp "$T/latest.cp" "$T/edit/old.cp"
expect_exit 1 incident -d "$T/edit" verify --checkpoint "$T/edit/old.cp"
contains "$ERR" "the log was replaced" "a file of the old log: replaced"

echo "# an auditor checks the signature with openssl alone"
pub=$(ls "$T/data/keys/"ed25519-*.pub)
sed '/^$/,$d' "$T/latest.cp" >"$T/body"
tail -1 "$T/latest.cp" | awk '{print $3}' | base64 -d | tail -c 64 >"$T/sig"
check "openssl pkeyutl verifies the note" \
	openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$T/body" \
	-sigfile "$T/sig"
sed '/^$/,$d' "$T/size.cp" >"$T/body"
if openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$T/body" \
	-sigfile "$T/sig" >/dev/null 2>&1; then
	fail "openssl accepted an edited body"
else
	ok "openssl refuses an edited body"
fi

echo "# key rotation: old checkpoints stay verifiable"
expect_exit 0 incident checkpoint --rotate-key
contains "$OUT" "key rotated" "the rotation is signed with the new key"
check "two keys pinned" \
	test "$(ls "$T/data/keys/"ed25519-*.pub | wc -l)" = 2
expect_exit 0 incident verify --checkpoint "$T/latest.cp"
expect_exit 0 incident verify --checkpoint git
expect_exit 0 incident verify --checkpoint "$T/data/checkpoints/latest" \
	--key "$(ls -t "$T/data/keys/"ed25519-*.pub | head -1)"

echo "# a crash between the commit and the checkpoint: the next run signs"
before=$(jq -r .size <<<"$(incident --json checkpoint)")
INCIDENT_TEST_CRASH_AT=checkpoint expect_exit 137 incident rollback --yes --force
id=$(incident --json list | jq -r '.[0].id')
check "no checkpoint event after the crash" \
	test "$(events "$id" | jq -s '[.[] | select(.type=="checkpoint")] | length')" = 0
expect_exit 0 incident rollback --yes --force
check "the resumed run signs" \
	test "$(events "$id" | jq -s '[.[] | select(.type=="checkpoint")] | length')" -gt 0
expect_exit 0 incident verify --checkpoint git
expect_exit 0 incident verify --checkpoint "$T/latest.cp"
check "the ledger grew past the checkpoint of before ($before)" \
	test "$(jq -r .size <<<"$(incident --json checkpoint)")" -gt "$before"

echo "# the notes cannot be kept: the run goes on, and the log says so"
mv "$T/data/checkpoints" "$T/checkpoints.saved"
echo "not a folder" >"$T/data/checkpoints"
expect_exit 0 incident rollback --yes --force "$TAG2"
id=$(incident --json list | jq -r '.[0].id')
check "a step's checkpoint records why it was not kept" \
	test "$(events "$id" | jq -s '[.[] | select(.type=="checkpoint" and
		.data.error != null and (.data.what | endswith("closed") | not))]
		| length')" -gt 0
check "the close's is signed (inside the close's commit), right after it" \
	test "$(events "$id" | jq -s '(map(select(.type=="incident.closed"))[0]
		.seq) as $c | [.[] | select(.type=="checkpoint" and
		(.data.what | endswith("closed")) and .seq == $c + 1 and
		.data.error == null and .data.size > 0)] | length')" = 1
check "and an observation says it could not be kept" \
	test "$(events "$id" | jq -s '[.[] | select(.type=="observation" and
		.data.what=="checkpoint" and .data.ok==false and
		(.data.error | length) > 0)] | length')" = 1
rm "$T/data/checkpoints"
mv "$T/checkpoints.saved" "$T/data/checkpoints"

echo "# sign = false: no checkpoint events"
EXTRA_CONFIG='[checkpoint]
	sign = false'
write_config
expect_exit 0 incident backup --reason "unsigned"
id=$(incident --json list | jq -r '.[0].id')
check "no checkpoint events when off" \
	test "$(events "$id" | jq -s '[.[] | select(.type=="checkpoint")] | length')" = 0

finish
