#!/usr/bin/env bash
# Installs the Debian packages kitty builds with, if any are missing; with --test also what
# only the tests use (Chromium, for the dashboard's browser tests; strace, which sees
# which system calls a command makes while it holds a lock).
# As root it runs apt-get; otherwise it prints the one command to run and fails.
set -euo pipefail

packages=(meson ninja-build pkgconf g++ python3 nlohmann-json3-dev libyaml-cpp-dev
    libtomlplusplus-dev libcurl4-openssl-dev libgit2-dev libcli11-dev libre2-dev
    libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev libssl-dev openssl
    git)
if [ "${1:-}" = --test ]; then
    packages+=(chromium strace)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "kitty: missing Debian packages: ${missing[*]}" >&2
    echo "kitty: run as root:  apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "kitty: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
