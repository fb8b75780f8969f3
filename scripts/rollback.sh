#!/usr/bin/env bash
# The runbook's ./scripts/rollback.sh [TAG], carried out and recorded by
# incident.  Run it from the deployment's work tree (or set
# INCIDENT_CONFIG).  Without TAG the target is the newest known-good deploy
# tag older than the deployed one, else the newest one not known-bad.
set -euo pipefail
# The checkout's own build first, then an installed incident.
. "$(dirname "$0")/incident-bin.sh"
exec "$bin" rollback --yes ${1:+"$1"} --reason "${INCIDENT_REASON:-scripts/rollback.sh}"
