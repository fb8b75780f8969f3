#!/usr/bin/env bash
# The runbook's "Redeploy: follow normal deploy process", carried out and
# recorded by incident: ./scripts/deploy.sh TAG.  A failed health or soak
# rolls back on its own (deploy.on-failure).  Run it from the deployment's
# work tree (or set INCIDENT_CONFIG).
set -euo pipefail
if [ $# -ne 1 ]; then
	echo "usage: $0 TAG" >&2
	exit 2
fi
# The checkout's own build first, then an installed incident.
. "$(dirname "$0")/incident-bin.sh"
exec "$bin" deploy --yes "$1" --reason "${INCIDENT_REASON:-scripts/deploy.sh}"
