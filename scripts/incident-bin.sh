# Sourced by the runbook's wrappers (rollback.sh, emergency_stop.sh,
# deploy.sh): sets $bin to the checkout's own build, else $INCIDENT, else
# an installed incident.
here=$(cd "$(dirname "$0")" && pwd)
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
