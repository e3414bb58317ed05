#!/usr/bin/env bash
# systemd-analyze verify on the unit; any warning about the unit fails.
# Exit 77 (skipped) only where systemd-analyze is not installed.
set -euo pipefail
unit=$1
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$unit" 2>&1) || { echo "$out"; exit 1; }
# verify also prints problems of other units it loads; only ours count
if echo "$out" | grep -F "$(basename "$unit")" ; then
	exit 1
fi
echo "systemd-analyze verify: $(basename "$unit") ok"
