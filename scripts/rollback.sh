#!/usr/bin/env bash
# The runbook's ./scripts/rollback.sh [TAG], carried out and recorded by
# incident.  Run it from the deployment's work tree (or set
# INCIDENT_CONFIG).  Without TAG the target is the newest deploy tag older
# than the deployed one that is not known-bad.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The checkout's own build first, then an installed incident.
bin=${INCIDENT:-}
if [ -z "$bin" ]; then
	if [ -x "$here/../build/incident" ]; then
		bin=$here/../build/incident
	else
		bin=$(command -v incident) || {
			echo "$0: no incident binary: build it (meson setup build && meson compile -C build) or set INCIDENT" >&2
			exit 2
		}
	fi
fi
exec "$bin" rollback --yes ${1:+"$1"} --reason "${INCIDENT_REASON:-scripts/rollback.sh}"
