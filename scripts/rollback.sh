#!/usr/bin/env bash
# The runbook's ./scripts/rollback.sh [TAG], carried out and recorded by
# incident.  Run it from the deployment's work tree (or set
# INCIDENT_CONFIG).  Without TAG the target is the newest deploy tag older
# than the deployed one that is not known-bad.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${INCIDENT:-$(command -v incident || echo "$here/../build/incident")}
exec "$bin" rollback --yes ${1:+"$1"} --reason "${INCIDENT_REASON:-scripts/rollback.sh}"
