#!/usr/bin/env bash
# Set up and run every test: install what is missing, build twice (plain,
# and with AddressSanitizer + UBSan), run all suites in both, print the
# meson summaries and a final "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test || exit 1

passed=0
failed=0
status=0

run_build() {
	local dir=$1
	shift
	if [ ! -d "$dir" ]; then
		meson setup "$dir" "$@" >/dev/null || return 1
	else
		meson setup --reconfigure "$dir" "$@" >/dev/null || return 1
	fi
	meson compile -C "$dir" || return 1
	echo "=== meson test ($dir)"
	meson test -C "$dir" --print-errorlogs --num-processes 2 \
		--no-suite fuzz-long
	local rc=$?
	local log="$dir/meson-logs/testlog.json"
	if [ -f "$log" ]; then
		local p f
		p=$(grep -c '"result": "OK"' "$log" || true)
		f=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\)"' "$log" || true)
		passed=$((passed + p))
		failed=$((failed + f))
	fi
	return $rc
}

run_build build-test -Dwerror=true -Dbuildtype=debugoptimized || status=1
# Sanitizers: every suite again; leaks are reported by LeakSanitizer.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_build build-asan -Db_sanitize=address,undefined \
	-Db_lundef=false -Dwerror=true -Dbuildtype=debug || status=1

echo
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
	status=1
fi
exit $status
