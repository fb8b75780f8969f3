#!/usr/bin/env bash
# Planted mutants: each one is a small, deliberate bug (NAME.patch beside
# this script) that some test must catch.  For every mutant: copy the
# checkout's files to a scratch folder, apply the patch there, build, run
# the tests named for it one by one, and report each as "killed" (the test
# failed, as it must) or "SURVIVED" (it passed with the bug in place).
# First the same tests run unmutated ("baseline"): a test that fails
# anyway proves nothing.
#
#   tests/mutants/run.sh [NAME...]     (or: meson test -C build --suite mutants)
#
# Exit 0 when every named test killed its mutant; 1 when one survived, a
# patch no longer applies, a build failed or the baseline is red.  Slow:
# one build per mutant.  MUTANTS_KEEP=1 keeps the scratch folders.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel) || exit 1

# NAME | tests that must each fail with it | what the bug is
MUTANTS=(
	"target-env|rollback script_env|scripts get an empty INCIDENT_TARGET"
	"health-body|degraded output|health ignores health.expect-body"
	"abort-known-bad|abort|an aborted rollback makes its from-tag known-bad"
	"started-not-durable|script_env|step.started is not durable"
	"health-started-not-durable|crash|health's step.started is not durable"
	"crash-point-flushes|crash|the crash hook flushes, hiding deferred step.started"
	"plan-acts|rollback|the dry run's planning world runs the commands"
	"plan-records|rollback archives|the dry run's incident reaches the log"
	"drill-standing|drill|a drill forgets the standing forbidden answers"
	"checkpoint-root-unchecked|checkpoint|verify --checkpoint ignores the signed root"
	"checkpoint-size-unchecked|checkpoint|verify --checkpoint ignores a cut tail"
	"checkpoint-any-key|checkpoint|any key's signature is taken as pinned"
	"checkpoint-not-signed-at-close|checkpoint rollback|the close is not signed"
	"fleet-unanswered-ignored|fleet_rule fleet|--unanswered abort is not carried out"
	"proc-wait-sleeps|proc|the wait for the trading processes to go sleeps it all out"
	"key-oid-unchecked|checkpoint|a PKCS#8 key of another kind is read as Ed25519"
	"close-kept-in-txn|checkpoint|the close's note is kept before its commit is durable"
	"preflight-writes-index|preflight|the pre-flight's dry-run checkout writes git's index"
)

want=("$@")
scratch_root=$(mktemp -d "${TMPDIR:-/tmp}/ir-mutants-XXXXXX")
results=()
status=0

cleanup() {
	if [ -z "${MUTANTS_KEEP:-}" ]; then
		rm -rf "$scratch_root"
	else
		echo "scratch kept in $scratch_root"
	fi
}
trap cleanup EXIT

# copy_tree DIR: the files git knows (tracked, or new and not ignored) as
# they are in the work tree, uncommitted changes included.
copy_tree() {
	local dir=$1
	mkdir -p "$dir"
	(cd "$root" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done | xargs -0 cp --parents -t "$dir")
}

# build DIR LOG: set up and compile in DIR/build.
build() {
	local dir=$1 log=$2
	{ meson setup "$dir/build" "$dir" -Dbuildtype=debugoptimized &&
		meson compile -C "$dir/build"; } >"$log" 2>&1
}

# run_tests NAME DIR TESTS...: one row per test.
run_tests() {
	local name=$1 dir=$2 t rc verdict
	shift 2
	for t in "$@"; do
		rc=0
		meson test -C "$dir/build" --no-rebuild --print-errorlogs \
			"$t" >"$dir/test-$t.log" 2>&1 || rc=$?
		if [ "$name" = baseline ]; then
			if [ $rc -eq 0 ]; then verdict=passed; else
				verdict=FAILED
				status=1
				tail -n 30 "$dir/test-$t.log" >&2
			fi
		elif [ $rc -ne 0 ]; then
			verdict=killed
		else
			verdict=SURVIVED
			status=1
		fi
		results+=("$name|$t|$verdict")
		echo "$name: $t $verdict"
	done
}

selected=()
all_tests=()
for m in "${MUTANTS[@]}"; do
	IFS='|' read -r name tests what <<<"$m"
	if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then
		continue
	fi
	selected+=("$m")
	for t in $tests; do
		[[ " ${all_tests[*]:-} " == *" $t "* ]] || all_tests+=("$t")
	done
done
if [ ${#selected[@]} -eq 0 ]; then
	echo "no such mutant: ${want[*]}" >&2
	exit 2
fi

echo "=== baseline (no mutant): ${all_tests[*]}"
dir=$scratch_root/baseline
if copy_tree "$dir" && build "$dir" "$dir/build.log"; then
	run_tests baseline "$dir" "${all_tests[@]}"
else
	tail -n 30 "$dir/build.log" >&2
	results+=("baseline|(build)|FAILED")
	status=1
fi

for m in "${selected[@]}"; do
	IFS='|' read -r name tests what <<<"$m"
	echo "=== $name: $what"
	dir=$scratch_root/$name
	if ! copy_tree "$dir"; then
		results+=("$name|(copy)|FAILED")
		status=1
		continue
	fi
	if ! patch -d "$dir" -p1 --forward --batch --no-backup-if-mismatch \
		-r - <"$here/$name.patch" >"$dir/patch.log" 2>&1; then
		cat "$dir/patch.log" >&2
		results+=("$name|(patch)|NOT APPLIED")
		status=1
		continue
	fi
	if ! build "$dir" "$dir/build.log"; then
		tail -n 30 "$dir/build.log" >&2
		results+=("$name|(build)|FAILED")
		status=1
		continue
	fi
	# shellcheck disable=SC2086
	run_tests "$name" "$dir" $tests
	# A mutant's build is big; keep the disk small.
	[ -n "${MUTANTS_KEEP:-}" ] || rm -rf "$dir/build"
done

echo
printf '%-28s %-12s %s\n' MUTANT TEST RESULT
for r in "${results[@]}"; do
	IFS='|' read -r name t verdict <<<"$r"
	printf '%-28s %-12s %s\n' "$name" "$t" "$verdict"
done
exit $status
