#!/usr/bin/env bash
# The incident header repeats what the events say (kind, status, from,
# target, opened, closed, events); anyone who can write the data directory
# can edit it without touching the hash chain.  `incident verify` holds
# every header to its events, and the rules that read history (known-bad,
# known-good, stats) read the events: an edited `from` neither passes
# verify nor moves the next rollback's target.
. "$(dirname "$0")/lib.sh"

: "${EVLOG_EDIT:?}"

make_three_tags
start_node

echo "# a rollback from $TAG3 to $TAG2"
expect_exit 0 incident rollback --yes
check "rolled back to $TAG2" test "$(head_commit)" = "$(tag_commit "$TAG2")"
expect_exit 0 incident verify
contains "$OUT" "1 incident verified" "verify"

# A copy of the data directory with one header field rewritten.
edited() {
	rm -rf "$T/edit"
	cp -a "$T/data" "$T/edit"
	"$EVLOG_EDIT" "$T/edit" 1 "$1" "$2"
}

echo "# each header field, edited alone, fails verify naming it"
# The times are moved by a whole second: jq reads .ts as a double, off by
# up to a few hundred ns, and an edit of 1 ns could land on the truth.
opened=$(events 1 | jq -r 'select(.type=="incident.opened") | .ts')
closed=$(events 1 | jq -r 'select(.type=="incident.closed") | .ts')
last=$(events 1 | jq -s 'length')
for edit in "kind stop" "status failed" "status open" "from $TAG2" \
	"target $TAG1" "opened $((opened + 1000000000))" "closed 0" \
	"closed $((closed + 1000000000))" "events $((last + 1))"; do
	set -- $edit
	check "edit $edit applied" edited "$1" "$2"
	expect_exit 1 incident -d "$T/edit" verify
	contains "$ERR" "INC-1" "verify after editing $1"
	if [ "$1" != events ]; then
		contains "$ERR" "the header's $1 is" "verify after editing $1"
		contains "$OUT" "INC-1  BAD" "verify after editing $1"
	fi
	expect_exit 1 incident -d "$T/edit" verify 1
done
edited from "$TAG2" >/dev/null
expect_exit 1 incident -d "$T/edit" verify
contains "$ERR" "INC-1: the header's from is \"$TAG2\", its events say \"$TAG3\"" "verify"
expect_exit 1 incident -d "$T/edit" --json verify
check "json: not ok" test "$(jq -r .ok <<<"$OUT")" = false
contains "$(jq -r '.incidents[0].error' <<<"$OUT")" "header's from" "json error"

echo "# stats count what the events say, not an edited kind"
edited kind drill >/dev/null
expect_exit 0 incident -d "$T/edit" --json stats
check "stats: one rollback" test "$(jq -r '.by_kind.rollback' <<<"$OUT")" = 1
check "stats: no drill" test "$(jq -r '.drills' <<<"$OUT")" = 0

echo "# an archive is its incident's, whatever the header says its kind is"
check "kind edited" "$EVLOG_EDIT" "$T/data" 1 kind stop
expect_exit 0 incident --json archives
check "archive of INC-1" test "$(jq -r '.[0].incident' <<<"$OUT")" = 1
check "checked against its recorded sha256" test "$(jq -r '.[0].check' <<<"$OUT")" = ok
check "kind put back" "$EVLOG_EDIT" "$T/data" 1 kind rollback

echo "# a closed incident is not open because its header says so"
check "status edited" "$EVLOG_EDIT" "$T/data" 1 status open
expect_exit 0 incident status
contains "$OUT" "open incident:  none" "status"
check "status put back" "$EVLOG_EDIT" "$T/data" 1 status succeeded

echo "# $TAG3 deployed again by hand; the next rollback's target is $TAG2"
git -C "$D" checkout -q -f "$TAG3"
kill "$(cat "$D/run/node.pid")"
for _ in $(seq 1 100); do [ "$(node_count)" -eq 0 ] && break; sleep 0.05; done
start_node
expect_exit 0 incident rollback --dry-run --force
contains "$OUT" "$TAG3 -> $TAG2" "dry run before the edit"

echo "# INC-1's header edited to say it rolled back from $TAG2"
check "edit applied" "$EVLOG_EDIT" "$T/data" 1 from "$TAG2"
expect_exit 1 incident verify
contains "$ERR" "the header's from is \"$TAG2\", its events say \"$TAG3\"" "verify"
expect_exit 0 incident --json tags
check "tags: $TAG2 not known-bad" test "$(jq -r ".[] | select(.tag==\"$TAG2\") | .known_bad" <<<"$OUT")" = false
check "tags: $TAG2 known-good" test "$(jq -r ".[] | select(.tag==\"$TAG2\") | .known_good" <<<"$OUT")" = true
check "tags: $TAG3 known-bad" test "$(jq -r ".[] | select(.tag==\"$TAG3\") | .known_bad" <<<"$OUT")" = true
expect_exit 0 incident rollback --dry-run --force
contains "$OUT" "$TAG3 -> $TAG2" "dry run after the edit"
expect_exit 0 incident rollback --yes --force
ev=$(events 2)
check "target still $TAG2" test "$(jq -r 'select(.type=="target.chosen") | .data.to' <<<"$ev")" = "$TAG2"
check "nothing skipped" test "$(jq -c 'select(.type=="target.chosen") | .data.skipped // []' <<<"$ev")" = "[]"
check "at $TAG2" test "$(head_commit)" = "$(tag_commit "$TAG2")"

# Put the header back, so the golden corpus replays.
check "header restored" "$EVLOG_EDIT" "$T/data" 1 from "$TAG3"
expect_exit 0 incident verify
contains "$OUT" "2 incidents verified" "verify"

finish
