#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what domclone needs to build and test, on Debian 12 (or a
# close relative), if anything is missing. Idempotent: with everything
# installed it does nothing and needs no network.
set -euo pipefail

# build, libvirt daemon + QEMU for the live tests, firmware for UEFI
# guests, and the tools of the sanitizer, fuzzing and leak checks
packages=(
    autoconf automake libtool pkg-config make gcc
    libglib2.0-dev libglib2.0-dev-bin libxml2-dev libxml2-utils libjson-glib-dev
    libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
    qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools util-linux
    clang libclang-rt-14-dev valgrind man-db
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
        missing+=("$p")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
