#!/usr/bin/env bash
# The ledger: one Merkle tree over every event of every incident, in
# commit order.  The per-incident chains cannot show a cut tail with its
# header fixed up, a consistent rewrite, or a deleted incident;
# `incident verify` checks the ledger against the events and finds each.
# An attacker who also rebuilds the ledger passes a plain verify, but the
# root changes: that is what a signed checkpoint kept elsewhere is for.
. "$(dirname "$0")/lib.sh"

: "${EVLOG_EDIT:?}"

make_three_tags
start_node

echo "# a rollback, a backup, a note on the first"
expect_exit 0 incident rollback --yes
expect_exit 0 incident backup --reason "a second incident"
expect_exit 0 incident note 1 "looked at by the auditor"
expect_exit 0 incident verify
contains "$OUT" "2 incidents verified" "verify"
contains "$OUT" "ledger: " "verify names the ledger"
expect_exit 0 incident --json verify
total=$(( $(events 1 | jq -s length) + $(events 2 | jq -s length) ))
check "the ledger holds every event ($total)" \
	test "$(jq -r .ledger.size <<<"$OUT")" = "$total"
root=$(jq -r .ledger.root <<<"$OUT")

echo "# a cut tail, its header fixed up: the chain and header pass"
copy_data
last=$(events 1 | jq -s length)
check "cut applied" "$EVLOG_EDIT" "$T/edit" --cut 1 $((last - 3))
expect_exit 1 incident -d "$T/edit" verify
contains "$ERR" "not in the log" "verify names the missing events"
echo "# ... and the ledger rebuilt over it: verify passes, the root moves"
check "rebuild applied" "$EVLOG_EDIT" "$T/edit" --rebuild-ledger
expect_exit 0 incident -d "$T/edit" --json verify
check "the rebuilt root differs" test "$(jq -r .ledger.root <<<"$OUT")" != "$root"

echo "# a note rewritten and everything after it chained anew"
copy_data
seq=$(events 1 | jq -s 'map(select(.type=="note"))[0].seq')
check "rewrite applied" "$EVLOG_EDIT" "$T/edit" --rewrite 1 "$seq" "nothing here"
expect_exit 1 incident -d "$T/edit" verify
contains "$ERR" "rewritten" "verify names the rewrite"

echo "# a whole incident deleted"
copy_data
check "delete applied" "$EVLOG_EDIT" "$T/edit" --cut 2 0
expect_exit 1 incident -d "$T/edit" verify
contains "$ERR" "INC-2" "verify names the deleted incident"

echo "# a read-only copy still verifies its ledger"
copy_data
chmod -R a-w "$T/edit"
expect_exit 0 incident -d "$T/edit" --json verify
check "same root read-only" test "$(jq -r .ledger.root <<<"$OUT")" = "$root"
chmod -R u+w "$T/edit"

finish
