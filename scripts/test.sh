#!/usr/bin/env bash
# Set up and run every test: install what is missing, build twice (plain,
# and with AddressSanitizer + UBSan), run all suites in both, then the
# README's first command (scripts/demo.sh) in a scratch copy of the
# checkout; print the meson summaries and a final "N passed, N failed"
# line.
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
	# The planted mutants (tests/mutants/run.sh) build the tree once
	# per mutant: run on their own, never here.
	meson test -C "$dir" --print-errorlogs --num-processes 2 \
		--no-suite fuzz-long --no-suite mutants
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

# The README's other command, verbatim, in a scratch copy of the checkout
# (the files git knows, so a missing path shows), with a sandbox of its own.
demo_readme() {
	local scratch rc=0
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/ir-demo-XXXXXX")
	if git rev-parse --git-dir >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard |
			xargs -0 cp --parents -t "$scratch" 2>/dev/null || rc=1
	else
		tar --exclude='./build*' -cf - . | tar -xf - -C "$scratch" || rc=1
	fi
	echo "=== scripts/demo.sh (scratch copy)"
	if [ $rc -eq 0 ]; then
		(cd "$scratch" && scripts/demo.sh "$scratch/sandbox" </dev/null) \
			>"$scratch.log" 2>&1 || rc=$?
	fi
	# The runbook's wrappers find build/incident beside them: roll the
	# sandbox back once more, to the oldest tag (named: without it the
	# rollback right after the demo's would ask first), deploy that tag
	# again, then stop the node it started.
	if [ $rc -eq 0 ]; then
		(cd "$scratch" &&
			export INCIDENT_CONFIG=$scratch/sandbox/incident.conf &&
			scripts/rollback.sh deploy-20261124-090000 &&
			scripts/deploy.sh deploy-20261124-090000 &&
			build/incident tags | grep -q "passed health and soak in deploy" &&
			scripts/emergency_stop.sh &&
			build/incident list | grep -q "stop  *succeeded") \
			</dev/null >>"$scratch.log" 2>&1 || rc=$?
	fi
	tail -n 4 "$scratch.log"
	# The sandbox is private: its data directory draws no warning.
	if [ $rc -eq 0 ] && grep -q "rolled back from" "$scratch.log" &&
		! grep -q "open to others" "$scratch.log"; then
		echo "demo: OK"
		passed=$((passed + 1))
	else
		echo "demo: FAIL (exit $rc)"
		cat "$scratch.log"
		failed=$((failed + 1))
	fi
	rm -rf "$scratch" "$scratch.log"
}
demo_readme

echo
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
	status=1
fi
exit $status
