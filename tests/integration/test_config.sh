#!/usr/bin/env bash
# Bad configurations exit 2 with a clear message and change nothing.
. "$(dirname "$0")/lib.sh"

make_deployment

echo "# unknown key: names the file and the key, suggests the nearest"
printf '[stop]\n\tbudgett = 30s\n' >"$T/bad1.conf"
expect_exit 2 "$INCIDENT_BIN" -c "$T/bad1.conf" stop --yes
contains "$ERR" "bad1.conf" "stderr"
contains "$ERR" "stop.budgett" "stderr"
contains "$ERR" "stop.budget\"" "stderr"

echo "# unknown section"
printf '[stopp]\n\tbudget = 30s\n' >"$T/bad2.conf"
expect_exit 2 "$INCIDENT_BIN" -c "$T/bad2.conf" status
contains "$ERR" "stopp.budget" "stderr"

echo "# malformed: the line libgit2 reports"
printf '[stop]\n\tbudget = 30s\n[health\n' >"$T/bad3.conf"
expect_exit 2 "$INCIDENT_BIN" -c "$T/bad3.conf" stop --yes
contains "$ERR" "bad3.conf:3" "stderr"

echo "# bad value"
printf '[stop]\n\tbudget = soon\n' >"$T/bad4.conf"
expect_exit 2 "$INCIDENT_BIN" -c "$T/bad4.conf" stop --yes
contains "$ERR" "duration" "stderr"

echo "# a duration that overflows is refused, not wrapped"
printf '[stop]\n\tbudget = 18446744073709551s\n' >"$T/bad5.conf"
expect_exit 2 "$INCIDENT_BIN" -c "$T/bad5.conf" stop --yes
contains "$ERR" "at most" "stderr"
expect_exit 2 "$INCIDENT_BIN" -c "$T/bad5.conf" config
contains "$ERR" "stop.budget" "config names the key"

echo "# a NUL inside a value, an unterminated quote: file and line"
printf '[stop]\n\tprocess = trading\0node\n' >"$T/bad6.conf"
expect_exit 2 "$INCIDENT_BIN" -c "$T/bad6.conf" stop --yes
contains "$ERR" "bad6.conf:2: a NUL byte" "stderr"
printf '[stop]\n\tbudget = 30s\n\tprocess = "trading_node\n' >"$T/bad7.conf"
expect_exit 2 "$INCIDENT_BIN" -c "$T/bad7.conf" stop --yes
contains "$ERR" "bad7.conf:3: a quote is opened" "stderr"
expect_exit 2 "$INCIDENT_BIN" -c "$T/bad7.conf" config
contains "$ERR" "bad7.conf:3" "config shows it"
printf '[stop]\n\tprocess = "trading \\\n_node" # "x\n' >"$T/good7.conf"
expect_exit 0 "$INCIDENT_BIN" -c "$T/good7.conf" config
contains "$OUT" "stop.process           = trading _node" "a closed quote across lines"

echo "# missing file (from -c and from INCIDENT_CONFIG)"
expect_exit 2 "$INCIDENT_BIN" -c "$T/nope.conf" stop --yes
contains "$ERR" "nope.conf" "stderr"
INCIDENT_CONFIG="$T/nope2.conf" expect_exit 2 "$INCIDENT_BIN" stop --yes
contains "$ERR" "nope2.conf" "stderr"

echo "# nothing was recorded by any of them"
check "no data dir written" test ! -e "$T/data/log/data.mdb"

echo "# found at open: bad url, match-everything or invalid regex"
start_node
n=0
for bad in 'url = ftp://x/' 'url = http://' ; do
	n=$((n + 1))
	EXTRA_CONFIG="[health]
	$bad" write_config
	expect_exit 2 incident stop --yes
	contains "$ERR" "health.url" "stderr"
	expect_exit 2 incident rollback --yes
done
write_config
for bad in '""' '.*' 'a*' '^' '"(a"'; do
	sed -i "s|^\tprocess = .*|\tprocess = $bad|" "$T/incident.conf"
	expect_exit 2 incident stop --yes
	contains "$ERR" "stop.process" "stderr"
	expect_exit 2 incident rollback --yes
done
check "node still runs" test "$(node_count)" -eq 1
check "nothing recorded" test ! -e "$T/data/log/data.mdb"
write_config

echo "# the config hash is recorded, secrets are not"
EXTRA_CONFIG='[notify "ops"]
	url = https://hooks.invalid/SECRET-TOKEN' write_config
expect_exit 0 incident stop --yes
ev=$(events 1)
not_contains "$ev" "SECRET-TOKEN" "events"
check "config hash" test "$(jq -r 'select(.type=="incident.opened") | .data.config | length' <<<"$ev")" -eq 64

echo "# no older deploy tag to roll back to: exit 2, trading untouched"
start_node
expect_exit 2 incident rollback --yes
contains "$ERR" "no rollback target" "stderr"
check "node still runs" test "$(node_count)" -eq 1
check "no rollback recorded" test "$(incident list --json | jq '[.[] | select(.kind=="rollback")] | length')" -eq 0
echo "# not a git work tree: exit 2"
sed -i "s|^\tdir = .*|\tdir = $T|" "$T/incident.conf"
expect_exit 2 incident rollback --yes
check "node still runs" test "$(node_count)" -eq 1
write_config

echo "# global options after the command, and INCIDENT_CONFIG"
INCIDENT_CONFIG="$T/incident.conf" expect_exit 0 "$INCIDENT_BIN" list --json
check "json list" test "$(jq length <<<"$OUT")" -eq 1

finish
