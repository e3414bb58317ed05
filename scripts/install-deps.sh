#!/usr/bin/env bash
# Installs what building, running and testing mailwarden needs on Debian 12 (as root).
set -euo pipefail
packages=(
	build-essential cmake pkg-config
	libglib2.0-dev libgmime-3.0-dev
	check valgrind clang-format
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}"
fi
