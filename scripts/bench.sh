#!/usr/bin/env bash
# Benchmarks: figures and ratios against baselines measured in the same
# run (raw fdatasync, a bare LMDB scan, the runbook's own bash commands,
# tar | zstd).  Not pass/fail.  Builds an optimised tree in build-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
if [ ! -d build-bench ]; then
	meson setup build-bench -Dbuildtype=release >/dev/null
fi
meson compile -C build-bench >/dev/null
meson test -C build-bench --benchmark --verbose "$@"
