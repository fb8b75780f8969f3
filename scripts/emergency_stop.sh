#!/usr/bin/env bash
# The runbook's ./scripts/emergency_stop.sh, carried out and recorded by
# incident: stop trading now, escalate if the process survives.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${INCIDENT:-$(command -v incident || echo "$here/../build/incident")}
exec "$bin" stop --yes --reason "${INCIDENT_REASON:-scripts/emergency_stop.sh}"
