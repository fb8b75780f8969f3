#!/usr/bin/env bash
# The database step against a real PostgreSQL server started here: a
# pre-deploy dump, a bad migration, `rollback --with-db` brings the rows
# back; a failing restore fails the incident before start.
. "$(dirname "$0")/lib.sh"

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
if [ -z "$PGBIN" ]; then
	echo "PostgreSQL is not installed (scripts/deps.sh test installs it)"
	exit 1
fi
PGPORT=$(free_port)
PGDATA="$T/pg"
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
mkdir -p "$PGDATA"
chmod 755 "$T"
[ "$(id -u)" -eq 0 ] && chown postgres "$PGDATA"
as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
# A port found free can be taken before the server binds it (other
# suites start servers on random ports too): try another, a few times.
for _ in 1 2 3; do
	as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/log" -w \
		-o "-p $PGPORT -k $PGDATA -c listen_addresses=127.0.0.1" \
		start >/dev/null && break
	PGPORT=$(free_port)
done
stop_pg() {
	as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
	cleanup
}
trap stop_pg EXIT
PSQL="psql -h 127.0.0.1 -p $PGPORT -U postgres -v ON_ERROR_STOP=1 -q"
$PSQL -c "create database trading"
$PSQL -d trading -c "create table positions (sym text primary key, qty int)"
$PSQL -d trading -c "insert into positions values ('ESZ6', 10), ('NQZ6', -4), ('CLF7', 7)"

make_three_tags
mkdir -p "$D/db"
pg_dump -h 127.0.0.1 -p "$PGPORT" -U postgres --clean --if-exists trading >"$T/pre-deploy.sql"
# The broken deploy's bad migration.
$PSQL -d trading -c "delete from positions where qty < 0; update positions set qty = 0"
check "migration broke the rows" test "$($PSQL -d trading -tAc 'select sum(qty) from positions')" = 0

EXTRA_CONFIG="[database]
	dump = pg_dump -h 127.0.0.1 -p $PGPORT -U postgres trading
	restore = $PSQL -d trading -f $T/pre-deploy.sql" write_config
start_node

echo "# rollback without --with-db: the database is not touched"
expect_exit 0 incident rollback "$TAG2" --yes
check "still broken" test "$($PSQL -d trading -tAc 'select sum(qty) from positions')" = 0
ev=$(events 1)
check "database skipped" test "$(jq -r 'select(.type=="step.skipped") | .step' <<<"$ev")" = database
arch=$(jq -r 'select(.type=="backup.created") | .data.path' <<<"$ev")
check "dump in the archive" grep -q "CREATE TABLE public.positions" <(tar --zstd -xOf "$arch" database/dump)

echo "# rollback --with-db restores the rows, after stop and backup, before start"
git -C "$D" checkout -q -f "$TAG3"
expect_exit 0 incident rollback "$TAG2" --yes --with-db
check "rows back" test "$($PSQL -d trading -tAc 'select sum(qty) from positions')" = 13
check "row count" test "$($PSQL -d trading -tAc 'select count(*) from positions')" = 3
ev=$(events 2)
order=$(jq -r 'select(.type=="step.started") | .step' <<<"$ev" | tr '\n' ' ')
check "database after backup, before start" test "$order" = "stop backup checkout config database start health verify report "
check "decision with-db" grep -q -- "--with-db" <<<"$(jq -r 'select(.type=="decision" and .step=="database") | .data.because' <<<"$ev")"

echo "# a failing restore fails the incident; services are not started"
$PSQL -d trading -c "update positions set qty = 0"
git -C "$D" checkout -q -f "$TAG3"
EXTRA_CONFIG="[database]
	restore = $PSQL -d trading -f $T/missing.sql
	on-rollback = true" write_config
expect_exit 1 incident rollback "$TAG2" --yes
ev=$(events 3)
check "failed at database" test "$(jq -r 'select(.type=="step.failed") | .step' <<<"$ev")" = database
check "exit code recorded" test "$(jq -r 'select(.type=="step.failed") | .data.exit_code' <<<"$ev")" != 0
check "start never ran" test -z "$(jq -r 'select(.type=="step.started" and .step=="start") | .step' <<<"$ev")"
check "no trading node" test "$(node_count)" -eq 0
check "closed failed" test "$(jq -r 'select(.type=="incident.closed") | .data.status' <<<"$ev")" = failed

finish
