#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# guest-kit.sh - the tiny guest of the live tests that boot (tests/live/guest/test-live-guest):
# a Debian kernel and a busybox initramfs, for direct kernel boot under TCG.
#
# Usage:
#   scripts/guest-kit.sh fetch [--update]
#                                       download Debian's kernel package
#                                       (linux-image-amd64's current one) with
#                                       "apt-get download" and keep its kernel
#                                       and the few modules the guest needs;
#                                       --update: even if a kit is there, when
#                                       apt has a newer kernel
#   scripts/guest-kit.sh build OUTDIR   write OUTDIR/kernel (a link into the
#                                       kit) and OUTDIR/initrd.gz: busybox
#                                       (busybox-static), the modules and
#                                       tests/guest-init.sh as /init
#   scripts/guest-kit.sh path           print the kit directory
#
# The kit lives in $DOMCLONE_GUEST_KIT, by default /var/cache/domclone/guest-kit
# for root and ~/.cache/domclone/guest-kit for anyone else. "fetch" is
# idempotent: with a complete kit (for the module list below) it does
# nothing and needs no network.
# Nothing is installed into the host's /boot or /lib/modules: the package is
# unpacked with dpkg-deb into a temporary directory, and only the kernel
# (uncompressed, see unpack_kernel) and the modules below (and what they depend on, read from each module's own
# "depends=" field) are kept, with the order to load them in.
#
# "build" takes well under a second; the test calls it, so a change to
# tests/guest-init.sh needs no new fetch. Exit status: 0 done, 1 failure,
# 2 usage, 77 (build) no kit yet: run "fetch" first.
set -euo pipefail

# What the guest loads: virtio over PCI, its disk and NIC, a SCSI CD-ROM on
# virtio-scsi, and ISO 9660 for the cloud-init seed. Everything else it
# needs (serial console, DMI, devtmpfs, initramfs) is built into Debian's
# kernel. Change this list and "fetch" unpacks the kept package again.
readonly MODULES=(virtio_pci virtio_blk virtio_net virtio_scsi sr_mod isofs)

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
readonly INIT=$SELF_DIR/../tests/guest-init.sh

msg() { printf 'guest-kit: %s\n' "$*" >&2; }
die() {
    msg "$*"
    exit 1
}

if [[ -n ${DOMCLONE_GUEST_KIT:-} ]]; then
    KIT=$DOMCLONE_GUEST_KIT
elif ((EUID == 0)); then
    KIT=/var/cache/domclone/guest-kit
else
    KIT=${HOME:?}/.cache/domclone/guest-kit
fi
readonly KIT

# The stamp names the package and the module list the kit was made from.
stamp_text() { printf '%s\n' "$1" "${MODULES[*]}"; }

kit_complete() {
    [[ -f $KIT/stamp && -f $KIT/kernel && -f $KIT/modules/load-order ]]
}

# unpack_kernel BZIMAGE OUT: the kernel proper (an ELF file) out of Debian's
# bzImage, whose payload is xz-compressed: QEMU boots it straight through
# its PVH entry point, with no firmware decompressing 60 MiB under TCG
# first (a third of the guest's boot time). Falls back to the bzImage.
unpack_kernel() {
    local bz=$1 out=$2 off
    # xz's magic (its NUL left out: bash strings end there)
    while read -r off; do
        tail -c +$((off + 1)) "$bz" | xz -dcq >"$out.new" 2>/dev/null || true
        if [[ $(head -c 4 "$out.new" | od -An -tx1 | tr -d ' ') == 7f454c46 ]]; then
            mv -- "$out.new" "$out"
            return 0
        fi
    done < <(LC_ALL=C grep -abo $'\xfd7zXZ' "$bz" | cut -d: -f1)
    rm -f -- "$out.new"
    msg "no xz-compressed ELF kernel in $bz: the guest boots the bzImage"
    mv -- "$bz" "$out"
}

# resolve NAME: appends NAME's dependencies, then NAME, to ORDER (once
# each). MODDIR holds the unpacked package's modules.
UNPACK=
declare -A SEEN=()
ORDER=()
resolve() {
    local name=$1 file deps dep
    [[ -z ${SEEN[$name]:-} ]] || return 0
    SEEN[$name]=1
    file=$(find "$MODDIR" -name "$name.ko" -print -quit)
    [[ -n $file ]] || die "module $name is not in the kernel package"
    # .modinfo holds NUL-separated key=value strings.
    deps=$(tr '\0' '\n' <"$file" | sed -n 's/^depends=//p' | head -n 1)
    for dep in ${deps//,/ }; do
        resolve "$dep"
    done
    ORDER+=("$name")
    cp -- "$file" "$KIT/modules.new/$name.ko"
}

fetch() {
    local update=$1 meta=linux-image-amd64 pkg deb
    # A complete kit for these modules is kept, whatever kernel apt has
    # now: no network needed.
    if ((!update)) && kit_complete && [[ $(sed -n 2p "$KIT/stamp") == "${MODULES[*]}" ]]; then
        return 0
    fi
    command -v apt-get >/dev/null || die "apt-get not found: the kit is made from Debian's packages"
    command -v xz >/dev/null || die "xz not found (xz-utils)"
    if ! pkg=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1) ||
        [[ -z $pkg ]]; then
        if ((EUID == 0)); then
            apt-get update >&2
            pkg=$(apt-cache depends "$meta" | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
        fi
        [[ -n $pkg ]] || die "apt knows no $meta (run apt-get update as root)"
    fi
    if kit_complete && [[ $(cat "$KIT/stamp") == "$(stamp_text "$pkg")" ]]; then
        return 0
    fi
    mkdir -p -- "$KIT"
    deb=$(find "$KIT" -maxdepth 1 -name "${pkg}_*.deb" -print -quit)
    if [[ -z $deb ]]; then
        msg "downloading $pkg"
        rm -f -- "$KIT"/*.deb
        # apt's _apt user may not write here: that is only a warning.
        (cd "$KIT" && apt-get download "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
        deb=$(find "$KIT" -maxdepth 1 -name "${pkg}_*.deb" -print -quit)
        [[ -n $deb ]] || die "apt-get download $pkg failed"
    fi
    UNPACK=$(mktemp -d "$KIT/unpack.XXXXXX")
    trap 'rm -rf -- "$UNPACK"' EXIT
    msg "unpacking $(basename "$deb")"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$UNPACK" --wildcards './boot/vmlinuz-*' './lib/modules/*'
    MODDIR=$UNPACK/lib/modules
    rm -rf -- "$KIT/modules.new"
    mkdir -p -- "$KIT/modules.new"
    for m in "${MODULES[@]}"; do
        resolve "$m"
    done
    printf '%s\n' "${ORDER[@]}" >"$KIT/modules.new/load-order"
    unpack_kernel "$(find "$UNPACK/boot" -name 'vmlinuz-*' -print -quit)" "$KIT/kernel.new"
    rm -rf -- "$KIT/modules" "$KIT/vmlinuz"
    mv -- "$KIT/modules.new" "$KIT/modules"
    mv -- "$KIT/kernel.new" "$KIT/kernel"
    stamp_text "$pkg" >"$KIT/stamp"
    msg "kit ready in $KIT: ${ORDER[*]}"
}

build() {
    local out=$1 root busybox=/bin/busybox
    if ! kit_complete; then
        msg "no guest kit in $KIT: run scripts/guest-kit.sh fetch (or scripts/install-deps.sh)"
        exit 77
    fi
    [[ -x $busybox ]] || die "$busybox not found (busybox-static)"
    # Debian's "busybox" package is linked dynamically: no use in an initramfs.
    if LC_ALL=C grep -q '/lib64/ld-linux-x86-64.so' "$busybox"; then
        die "$busybox is not statically linked: install busybox-static"
    fi
    [[ -f $INIT ]] || die "$INIT not found"
    command -v cpio >/dev/null || die "cpio not found"
    mkdir -p -- "$out"
    root=$(mktemp -d "$out/initrd.XXXXXX")
    mkdir -p -- "$root/bin" "$root/lib/modules" "$root/dev" "$root/proc" "$root/sys" "$root/mnt"
    cp -- "$busybox" "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    cp -- "$INIT" "$root/init"
    chmod 0755 "$root/init"
    cp -- "$KIT"/modules/* "$root/lib/modules/"
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out/initrd.gz.new"
    mv -- "$out/initrd.gz.new" "$out/initrd.gz"
    rm -rf -- "$root"
    ln -sfn -- "$KIT/kernel" "$out/kernel"
}

case ${1:-} in
    fetch)
        case ${2:-} in
            "") fetch 0 ;;
            --update) fetch 1 ;;
            *) { msg "usage: guest-kit.sh fetch [--update]"; exit 2; } ;;
        esac
        ;;
    build)
        (($# == 2)) || { msg "usage: guest-kit.sh build OUTDIR"; exit 2; }
        build "$2"
        ;;
    path) printf '%s\n' "$KIT" ;;
    -h | --help) sed -n '/^# guest-kit.sh - /,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" ;;
    *)
        msg "usage: guest-kit.sh fetch | build OUTDIR | path (see --help)"
        exit 2
        ;;
esac
