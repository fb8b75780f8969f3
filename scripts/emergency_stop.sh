#!/usr/bin/env bash
# The runbook's ./scripts/emergency_stop.sh, carried out and recorded by
# incident: stop trading now, escalate if the process survives.
set -euo pipefail
# The checkout's own build first, then an installed incident.
. "$(dirname "$0")/incident-bin.sh"
exec "$bin" stop --yes --reason "${INCIDENT_REASON:-scripts/emergency_stop.sh}"
