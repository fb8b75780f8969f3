#!/usr/bin/env bash
# The runbook's ./scripts/emergency_stop.sh, carried out and recorded by
# incident: stop trading now, escalate if the process survives.
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
exec "$bin" stop --yes --reason "${INCIDENT_REASON:-scripts/emergency_stop.sh}"
