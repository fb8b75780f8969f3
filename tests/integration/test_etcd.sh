#!/bin/bash
# The etcd adapter (recorder/world/etcd.c) against a real 3-member
# cluster: reads, writes, transactions on value / revision / absence,
# leases and a watch; one member killed changes nothing, two killed make
# every call time out cleanly, and quorum back makes them work again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd.sh"
: "${ETCD_TRY:?}"

try() { "$ETCD_TRY" "$ETCD_ENDPOINTS" "$@"; }

etcd_start

expect_exit 0 try put /t/a one
expect_exit 0 try get /t/a
check "get reads the put" [ "$OUT" = one ]
expect_exit 0 try get /t/none
check "an absent key" [ "$OUT" = "(none)" ]
expect_exit 0 try put /t/b "two words"
expect_exit 0 try prefix /t/
check "prefix lists both" [ "$OUT" = $'/t/a=one\n/t/b=two words' ]
check "etcdctl sees the adapter's value" [ "$(etcdctl_ get --print-value-only /t/b)" = "two words" ]

# Created once: the second create is refused and told what is there.
expect_exit 0 try create /t/plan first
expect_exit 4 try create /t/plan second
contains "$OUT" "refused: first"
# A swap on the value.
expect_exit 4 try swap /t/plan nope x
expect_exit 0 try swap /t/plan first third
# A fence on mod_revision: the revision of the write holds, an older one
# does not.
expect_exit 0 try create /t/slot mine
rev=${OUT#ok }
expect_exit 0 try fence /t/slot "$rev" status
expect_exit 4 try fence /t/slot "$rev" stale
expect_exit 0 try get /t/slot
check "the fenced write stands" [ "$OUT" = status ]

# A lease: granted, its key put, renewed, revoked; the key goes with it.
expect_exit 0 try lease 5 /t/leased here
contains "$OUT" "ttl 5"
contains "$OUT" "revoked"
expect_exit 0 try get /t/leased
check "a revoked lease's key is gone" [ "$OUT" = "(none)" ]

# The watch: quiet when nothing changes; a put ends it.
expect_exit 0 try watch /t/w 300
check "a quiet watch" [ "$OUT" = quiet ]
try watch /t/w 5000 >"$T/watch.out" 2>&1 &
wpid=$!
sleep 0.5
etcdctl_ put /t/w x >/dev/null
wait "$wpid" || fail "the watch failed: $(cat "$T/watch.out")"
contains "$(cat "$T/watch.out")" "changed "

expect_exit 0 try del /t/a
contains "$OUT" "deleted 1"

# One member killed: every call still works (the endpoints in turn).
etcd_kill 1
expect_exit 0 try put /t/one-down yes
expect_exit 0 try get /t/one-down
check "one member down: read" [ "$OUT" = yes ]
expect_exit 0 try create /t/one-down-txn x

# Two killed: no quorum.  Calls end with a timeout (exit 3) and say so,
# naming the members; none hangs.
etcd_kill 2
expect_exit 3 try put /t/no-quorum x
contains "$ERR" "etcd: no member answered a put"
contains "$ERR" "${ETCD_CLIENT[3]}"
expect_exit 3 try get /t/one-down
contains "$ERR" "timed out"
expect_exit 3 try create /t/no-quorum-txn x

# Quorum back: the same calls go through.
etcd_revive 2
etcd_wait_quorum || fail "quorum did not come back"
expect_exit 0 try put /t/no-quorum back
expect_exit 0 try get /t/no-quorum
check "after quorum returns" [ "$OUT" = back ]
etcd_revive 1

echo "# $CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]
