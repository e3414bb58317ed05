#!/usr/bin/env bash
# Installs what building, running and testing mailwarden needs on Debian 12 (as root):
# the core's packages below plus every packages.txt of a module (modules/*/packages.txt)
# or a test suite (tests/*/packages.txt), one package per line, # comments allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(
	build-essential cmake pkg-config
	libglib2.0-dev libgmime-3.0-dev libsystemd-dev python3
	check valgrind clang-format clang-tidy cppcheck
	systemd man-db curl
)
for f in modules/*/packages.txt tests/*/packages.txt; do
	[ -f "$f" ] || continue
	while read -r p; do
		p=${p%%#*}
		p=${p//[[:space:]]/}
		[ -n "$p" ] && packages+=("$p")
	done <"$f"
done
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	# packages such as postfix or clamav-daemon must not start services here
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
	rm -f /usr/sbin/policy-rc.d
fi
