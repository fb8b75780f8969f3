#!/usr/bin/env bash
# Install the Debian packages incident needs, if any is missing.
#   scripts/deps.sh build   what building and running needs
#   scripts/deps.sh test    that plus what the test suite runs against
set -euo pipefail

build_pkgs=(gcc meson ninja-build pkg-config liblmdb-dev libgit2-dev
	libcurl4-openssl-dev libmsgpack-dev libarchive-dev libssl-dev
	libjansson-dev libcmocka-dev git zstd ca-certificates)
test_pkgs=(jq curl tar diffutils procps postgresql chromium asciinema etcd-server etcd-client)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
	want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -gt 0 ]; then
	echo "installing: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "scripts/deps.sh: run as root to install packages" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
