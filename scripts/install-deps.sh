#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# install-deps.sh - install what domclone needs to build and test, on Debian
# 12 or Ubuntu (or a close relative), if anything is missing.
#
# Usage:
#   scripts/install-deps.sh          install the missing packages (as root)
#   scripts/install-deps.sh --list   print the package list and exit
#
# Idempotent: with everything installed it does nothing, needs no network and
# exits 0. As root, when a package is missing, it runs "apt-get update" and
# then installs the missing packages with
# "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends".
# As any other user it prints the apt-get command to run and exits 1.
# Then, as root, it fetches the kernel of the live tests' guest if it is not
# there yet ("scripts/guest-kit.sh fetch": Debian's kernel package, unpacked
# into a cache directory, nothing installed), and builds the Debian guest of
# the --reset-identity tests once ("scripts/debian-image.sh build", about 4
# minutes, cached in /var/cache/domclone/debian-image-R, R its recipe).
set -euo pipefail

# The one list of packages: build, libvirt daemon + QEMU for the live tests,
# firmware for UEFI guests, swtpm for guests with a TPM, unshare (util-linux)
# and ip (iproute2) for the private test daemon and its network namespace,
# the tools of the sanitizer, fuzzing, leak and format checks, XFS
# (reflinks) for the copy tests, bash-completion (its pkg-config file says
# where make install puts the completion) and ansible-core (the playbook
# test in contrib/ansible); libarchive reads and writes cloud-init seeds,
# and xorriso builds seeds the way users do, for the seed tests;
# busybox-static, cpio and xz-utils for the booted guest of the live tests
# (its kernel: scripts/guest-kit.sh); librbd-dev to clone Ceph RBD images,
# and a one-node Ceph cluster (ceph-mon, ceph-mgr, ceph-osd, ceph-common),
# QEMU's rbd driver (qemu-block-extra) and libvirt's rbd pools for the RBD
# tests (tests/ceph-one-node.sh); dpkg-dev, debhelper and lintian build and
# check the Debian package (scripts/build-deb.sh); libguestfs for --reset-identity, with a kernel
# of the host's for its appliance (linux-image-amd64) and mmdebstrap for
# the Debian guest of its tests (scripts/debian-image.sh); libnbd-dev reads
# a running source's disks over NBD for --live --to; socat relays a
# second test daemon's socket to the libvirt group's member
# (tests/live/group).
readonly PACKAGES=(
    autoconf automake libtool pkg-config make gcc
    libglib2.0-dev libglib2.0-dev-bin libxml2-dev libxml2-utils libjson-glib-dev libarchive-dev
    libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
    qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools util-linux iproute2
    clang libclang-rt-14-dev clang-format valgrind man-db xfsprogs xorriso
    bash-completion ansible-core python3 bindfs
    busybox-static cpio xz-utils
    librbd-dev ceph-mon ceph-mgr ceph-osd ceph-common qemu-block-extra libvirt-daemon-driver-storage-rbd
    dpkg-dev debhelper lintian
    libguestfs-dev linux-image-amd64 mmdebstrap socat
    libnbd-dev
)

msg() { printf 'install-deps: %s\n' "$*" >&2; }

case ${1:-} in
    "") ;;
    --list)
        printf '%s\n' "${PACKAGES[@]}"
        exit 0
        ;;
    -h | --help)
        sed -n '/^# install-deps.sh - /,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
        exit 0
        ;;
    *)
        msg "unknown argument: $1 (see --help)"
        exit 2
        ;;
esac

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    msg "not a Debian or Ubuntu system (no dpkg-query/apt-get); install the equivalents of:"
    msg "  ${PACKAGES[*]}"
    exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
    # One line per installed architecture.
    # shellcheck disable=SC2016
    status=$(dpkg-query -W -f '${db:Status-Status}\n' "$p" 2>/dev/null) || status=
    if [[ $'\n'$status$'\n' != *$'\n'installed$'\n'* ]]; then
        missing+=("$p")
    fi
done
# The guest of tests/live/guest/test-live-guest: Debian's kernel, fetched once.
guest_kit() {
    if ((EUID == 0)); then
        "$(dirname "$0")/guest-kit.sh" fetch
        # the Debian guest of the --reset-identity tests, built once (minutes)
        "$(dirname "$0")/debian-image.sh" build
    fi
}

if ((${#missing[@]} == 0)); then
    guest_kit
    exit 0
fi

if ((EUID != 0)); then
    msg "missing packages: ${missing[*]}"
    msg "run as root:"
    printf '  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends %s\n' \
        "${missing[*]}" >&2
    exit 1
fi

msg "installing ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
guest_kit
