#!/usr/bin/env bash
# Set up and run the main job: install what is missing, build, and run
# `incident demo`: a sandbox deployment with a broken deploy, rolled back
# live.  Extra arguments go to `incident demo` (e.g. a folder to keep).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh build
if [ ! -d build ]; then
	meson setup build >/dev/null
fi
meson compile -C build >/dev/null
exec build/incident demo "$@"
