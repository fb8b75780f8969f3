#!/usr/bin/env bash
# State-archive benchmark: `incident backup` of a ~300 MB state tree
# (hundreds of config files, large logs of realistic repeated lines, a
# 100 MB less compressible binary) against `tar -cf - | zstd -1 -T0` of the
# same tree, alternated in one run; `incident restore` against
# `tar --zstd -xf`.  Prints median times, ratios and peak memory.
#
# Environment: INCIDENT_BIN, TRADING_NODE, RUNSTAT; ROUNDS (default 4).
. "$(dirname "$0")/../integration/lib.sh"
set +e
ROUNDS=${ROUNDS:-4}
: "${RUNSTAT:?}"

make_deployment
echo "building the state tree..."
mkdir -p "$D/config/services" "$D/logs" "$D/data"
for i in $(seq 1 400); do
	printf 'service = svc%d\nrisk_limit = %d\nendpoint = tcp://10.0.%d.%d:9000\n' \
		"$i" "$((i * 7))" "$((i % 250))" "$((i % 200))" >"$D/config/services/svc$i.conf"
done
awk 'BEGIN { for (i = 0; i < 1600000; i++)
	printf "2026-11-25T%02d:%02d:%02d.%03d INFO order %d filled qty=%d px=%d.%02d pnl=%+d\n",
		i / 3600000 % 24, i / 60000 % 60, i / 1000 % 60, i % 1000, i, i % 97, 4500 + i % 300, i % 100, (i * 37) % 1000 - 500 }' \
	>"$D/logs/trading.log"
cp "$D/logs/trading.log" "$D/logs/trading.log.1"
# Less compressible: random blocks with some repetition.
head -c 100M /dev/urandom >"$D/data/book.bin"
EXTRA_CONFIG='[backup]
	path = config
	path = logs
	path = data
	keep = 100' write_config
du -sh "$D/config" "$D/logs" "$D/data" | tr '\n' ' '; echo

stat_run() { # stat_run OUTVAR CMD...: wall ms, maxrss kb, anon kb
	local out
	out=$("$RUNSTAT" "$@" 2>&1 >/dev/null | tail -n1)
	echo "$out"
}

tool_backup() {
	read -r ms rss anon < <(stat_run "$INCIDENT_BIN" -c "$T/incident.conf" backup)
	b_tool+=("$ms"); rss_b+=("$anon")
	arch=$(ls -t "$T/data/archives/"*.tar.zst | head -n1)
}
tar_backup() {
	read -r ms rss anon < <(stat_run bash -c "tar -C '$D' -cf - config logs data | zstd -1 -T0 -q -o '$T/tar.tar.zst' -f")
	b_tar+=("$ms")
}
tool_restore() {
	read -r ms rss anon < <(stat_run "$INCIDENT_BIN" -c "$T/incident.conf" restore "$arch" --to "$T/r1")
	r_tool+=("$ms"); rss_r+=("$anon")
}
tar_restore() {
	read -r ms rss anon < <(stat_run tar -C "$T/r2" --zstd -xf "$arch")
	r_tar+=("$ms")
}

# Which goes first alternates by round: the second of a pair runs on a
# disk still settling from the first (and from the previous round's
# restores), and neither side should always get that.
b_tool=() b_tar=() r_tool=() r_tar=() rss_b=() rss_r=()
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		sync; tool_backup; sync; tar_backup
	else
		sync; tar_backup; sync; tool_backup
	fi
	rm -rf "$T/r1" "$T/r2"; mkdir -p "$T/r2"
	if [ $((r % 2)) = 1 ]; then
		sync; tool_restore; sync; tar_restore
	else
		sync; tar_restore; sync; tool_restore
	fi
done
check "restored tree identical" diff -rq "$D/config" "$T/r1/config"
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
size=$(stat -c %s "$arch")
tsize=$(stat -c %s "$T/tar.tar.zst")
echo "backup:  incident ${b_tool[*]} ms; tar|zstd -1 -T0 ${b_tar[*]} ms"
echo "restore: incident ${r_tool[*]} ms; tar --zstd -xf ${r_tar[*]} ms"
awk -v bt="$(median "${b_tool[@]}")" -v bz="$(median "${b_tar[@]}")" \
    -v rt="$(median "${r_tool[@]}")" -v rz="$(median "${r_tar[@]}")" \
    -v mb="$(printf '%s\n' "${rss_b[@]}" | sort -n | tail -n1)" \
    -v mr="$(printf '%s\n' "${rss_r[@]}" | sort -n | tail -n1)" \
    -v s="$size" -v ts="$tsize" 'BEGIN {
	printf "backup median:  %d ms vs %d ms, ratio %.2fx (target <= 1.0); archive %.1f MB vs %.1f MB\n", bt, bz, bt / bz, s / 1e6, ts / 1e6
	printf "restore median: %d ms vs %d ms, ratio %.2fx (target <= 1.0)\n", rt, rz, rt / rz
	printf "peak memory (anonymous): backup %.1f MB, restore %.1f MB (target < 64 MB)\n", mb / 1024, mr / 1024
}'
