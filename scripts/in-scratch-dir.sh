#!/usr/bin/env bash
# Runs COMMAND with TMPDIR set to a fresh scratch directory, removed afterwards.
#
# The test suites create and delete tens of thousands of small files (git repositories,
# atomic replaces, locks) in TMPDIR. On ext4 without a journal every new file scans the
# inodes deleted in the last seconds (the kernel's recently_deleted check), which made
# half of a test run's CPU system time. A
# tmpfs has no such cost, so /dev/shm is used when it is a writable tmpfs with at least
# 2 GiB free; otherwise the directory is made under the usual TMPDIR.
#
# Usage: scripts/in-scratch-dir.sh COMMAND [ARG...]
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }

base="${TMPDIR:-/tmp}"
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ] &&
    [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -ge $((2 * 1024 * 1024)) ]; then
    base=/dev/shm
fi
scratch="$(mktemp -d "$base/kitty-scratch.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
TMPDIR="$scratch" "$@"
