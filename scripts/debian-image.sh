#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# debian-image.sh - the real Debian 12 guest of the --reset-identity and
# guest agent tests (tests/live/reset): a root file system made by
# mmdebstrap from Debian's packages, in a raw disk image (ext4 on the whole
# disk), with the identity a booted guest has: a machine-id, SSH host keys,
# a DHCP lease, a persistent net rule, a hardware address in
# /etc/network/interfaces, a host name, a random seed and a log
# (/var/log/syslog).
#
# Usage:
#   scripts/debian-image.sh build [--force]   make the image if it is not there
#   scripts/debian-image.sh path              print the image directory
#
# The directory ($DOMCLONE_DEBIAN_IMAGE, by default /var/cache/domclone/
# debian-image-R for root and ~/.cache/domclone/debian-image-R for anyone
# else, R the recipe's number) then holds:
#   disk.raw     the image (sparse, 1 GiB, about 300 MiB of data)
#   vmlinuz      the image's own kernel and initramfs, for a direct kernel
#   initrd.img   boot: root=/dev/vda (the disk on virtio)
#   identity     what the image's identity is (machine-id=..., host=...)
#   stamp        the recipe it was made from: a changed recipe makes it anew
# "build" is idempotent: with an image of this recipe it does nothing and
# needs no network. It takes about 4 minutes (mmdebstrap) and needs root
# (mmdebstrap's root mode, mkfs.ext4 -d keeping owners). Exit status: 0
# done, 1 failure, 2 usage.
#
# The image also carries a test probe (domclone-test-probe.service): once
# the system is up it prints "DOMCLONE-FACT key=value" lines on the serial
# console (machine-id, host name, the SSH host keys' fingerprints, whether
# domclone's first-boot unit ran, whether the guest agent runs), then
# DOMCLONE-DONE, and powers off, unless the kernel command line says
# domclone.stay. It is the tests' own; a clone keeps it like any other file.
#
# qemu-guest-agent is in it (udev starts it when the domain has a virtio
# channel org.qemu.guest_agent.0), for the --live tests that freeze the
# guest's file systems through it.
set -euo pipefail

readonly RECIPE=6
readonly SUITE=bookworm
readonly PACKAGES=systemd,systemd-sysv,openssh-server,ifupdown,isc-dhcp-client,udev,linux-image-amd64,initramfs-tools,qemu-guest-agent
readonly SIZE=1G
# A fixed file system UUID: the image's fstab names it.
readonly FS_UUID=6a1c2f0e-5d4b-4c3a-9e8f-0d1c2b3a4f5e
readonly HOST=debsrc
readonly MAC=52:54:00:d0:c1:0e

msg() { printf 'debian-image: %s\n' "$*" >&2; }
die() {
    msg "$*"
    exit 1
}

# The recipe's number is in the default directory's name: an image of
# another recipe (another package list) lives beside it, and a tree of
# either recipe finds its own without building over the other's.
if [[ -n ${DOMCLONE_DEBIAN_IMAGE:-} ]]; then
    DIR=$DOMCLONE_DEBIAN_IMAGE
elif ((EUID == 0)); then
    DIR=/var/cache/domclone/debian-image-$RECIPE
else
    DIR=${HOME:?}/.cache/domclone/debian-image-$RECIPE
fi
readonly DIR

stamp_text() { printf 'recipe %s %s %s\n' "$RECIPE" "$SUITE" "$PACKAGES"; }

image_complete() {
    [[ -f $DIR/stamp && $(cat "$DIR/stamp") == "$(stamp_text)" && -f $DIR/disk.raw && -f $DIR/vmlinuz &&
        -f $DIR/initrd.img ]]
}

# identity ROOT: what a booted guest has, written into ROOT
identity() {
    local root=$1 mid
    mid=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$mid" >"$root/etc/machine-id"
    printf '%s\n' "$HOST" >"$root/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$HOST" >"$root/etc/hosts"
    printf '%s / ext4 defaults 0 1\n' "UUID=$FS_UUID" >"$root/etc/fstab"
    # allow-hotplug: a guest without that NIC does not wait for DHCP
    cat >"$root/etc/network/interfaces" <<EOF
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

allow-hotplug enp1s0
iface enp1s0 inet dhcp
    hwaddress ether $MAC
EOF
    mkdir -p "$root/var/lib/dhcp" "$root/etc/udev/rules.d" "$root/var/lib/systemd"
    cat >"$root/var/lib/dhcp/dhclient.enp1s0.leases" <<EOF
lease {
  interface "enp1s0";
  fixed-address 192.168.122.57;
  option subnet-mask 255.255.255.0;
  option dhcp-lease-time 3600;
  option dhcp-client-identifier 1:$MAC;
  renew 0 2026/01/04 10:00:00;
  expire 0 2026/01/04 11:00:00;
}
EOF
    printf 'SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="%s", NAME="enp1s0"\n' "$MAC" \
        >"$root/etc/udev/rules.d/70-persistent-net.rules"
    head -c 512 /dev/urandom >"$root/var/lib/systemd/random-seed"
    # a log of earlier boots, which a clone keeps
    printf '%s debsrc systemd[1]: Reached target multi-user.target - Multi-User System.\n' \
        "Jan  4 10:00:00" >"$root/var/log/syslog"
    chmod 0600 "$root/var/lib/systemd/random-seed"
    ls "$root"/etc/ssh/ssh_host_*_key >/dev/null 2>&1 || die "openssh-server made no host keys"
    printf 'machine-id=%s\nhost=%s\nmac=%s\n' "$mid" "$HOST" "$MAC" >"$DIR/identity.new"
}

# probe ROOT: the test probe (see above), enabled
probe() {
    local root=$1
    cat >"$root/usr/local/sbin/domclone-test-probe" <<'EOF'
#!/bin/sh
# What the tests read from the console of a booted copy of this image, in
# the lines tests/lib/live-guest.c reads: DOMCLONE-FACT key=value, then
# DOMCLONE-DONE.
{
    echo "DOMCLONE-FACT machine-id=$(cat /etc/machine-id)"
    echo "DOMCLONE-FACT hostname=$(cat /etc/hostname)"
    for k in /etc/ssh/ssh_host_*_key.pub; do
        [ -f "$k" ] || continue
        t=${k#/etc/ssh/ssh_host_}
        echo "DOMCLONE-FACT key-${t%_key.pub}=$(ssh-keygen -lf "$k" | cut -d' ' -f2)"
    done
    echo "DOMCLONE-FACT keys-unit=$(systemctl show -p ActiveState --value domclone-ssh-host-keys.service)"
    echo "DOMCLONE-FACT keys-unit-result=$(systemctl show -p Result --value domclone-ssh-host-keys.service)"
    echo "DOMCLONE-FACT sshd=$(systemctl is-active ssh.service)"
    echo "DOMCLONE-FACT agent=$(systemctl is-active qemu-guest-agent.service)"
    echo "DOMCLONE-DONE"
} >/dev/ttyS0 2>&1
# domclone.stay on the kernel command line: a guest the test talks to
# through its agent, which keeps running
grep -qw domclone.stay /proc/cmdline || systemctl --no-block poweroff
EOF
    chmod 0755 "$root/usr/local/sbin/domclone-test-probe"
    cat >"$root/etc/systemd/system/domclone-test-probe.service" <<'EOF'
[Unit]
Description=domclone test probe: report identity on the console, power off
After=multi-user.target ssh.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/domclone-test-probe
[Install]
WantedBy=default.target
EOF
    mkdir -p "$root/etc/systemd/system/default.target.wants"
    ln -sf /etc/systemd/system/domclone-test-probe.service \
        "$root/etc/systemd/system/default.target.wants/domclone-test-probe.service"
    # nothing that waits for a network or a timer under TCG, and no getty:
    # a getty on ttyS0 hangs up the console under the probe
    for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
        dpkg-db-backup.timer systemd-tmpfiles-clean.timer systemd-networkd-wait-online.service \
        getty@.service serial-getty@.service getty.target; do
        ln -sf /dev/null "$root/etc/systemd/system/$u"
    done
}

# the build's scratch directory, removed on exit
TMP=
cleanup() { [[ -z $TMP ]] || rm -rf -- "$TMP"; }
trap cleanup EXIT

build() {
    local force=$1 tmp root
    if ((!force)) && image_complete; then
        return 0
    fi
    ((EUID == 0)) || die "building the image needs root (mmdebstrap, mkfs.ext4 -d); or set DOMCLONE_DEBIAN_IMAGE to a built one"
    command -v mmdebstrap >/dev/null || die "mmdebstrap not found (scripts/install-deps.sh installs it)"
    command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not found (e2fsprogs)"
    mkdir -p -- "$DIR"
    tmp=$(mktemp -d "$DIR/build.XXXXXX")
    TMP=$tmp
    root=$tmp/root
    msg "building a Debian $SUITE root file system with mmdebstrap (a few minutes)"
    # no documentation, manuals or translations: a smaller image copies
    # faster; the hooks' $1 (the root) is mmdebstrap's to expand
    # shellcheck disable=SC2016
    mmdebstrap --quiet --variant=minbase --include="$PACKAGES" \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --customize-hook='echo virtio_console >>"$1/etc/initramfs-tools/modules"' \
        --customize-hook='chroot "$1" update-initramfs -u -k all' \
        "$SUITE" "$root" >&2
    cp -L -- "$root/vmlinuz" "$tmp/vmlinuz"
    cp -L -- "$root/initrd.img" "$tmp/initrd.img"
    # the modules stay in the initramfs (virtio, ext4, and virtio_console
    # for the guest agent's virtio-serial port, added above): the disk
    # needs none
    rm -rf -- "$root"/lib/modules/* "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
    identity "$root"
    probe "$root"
    truncate -s "$SIZE" "$tmp/disk.raw"
    mkfs.ext4 -q -F -L root -U "$FS_UUID" -d "$root" "$tmp/disk.raw"
    mv -- "$tmp/disk.raw" "$tmp/vmlinuz" "$tmp/initrd.img" "$DIR/"
    mv -- "$DIR/identity.new" "$DIR/identity"
    stamp_text >"$DIR/stamp"
    msg "image ready in $DIR ($(du -h --apparent-size "$DIR/disk.raw" | cut -f1), $(du -h "$DIR/disk.raw" | cut -f1) used)"
}

case ${1:-} in
    build)
        case ${2:-} in
            "") build 0 ;;
            --force) build 1 ;;
            *) { msg "usage: debian-image.sh build [--force]"; exit 2; } ;;
        esac
        ;;
    path) printf '%s\n' "$DIR" ;;
    -h | --help) sed -n '/^# debian-image.sh - /,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" ;;
    *)
        msg "usage: debian-image.sh build [--force] | path (see --help)"
        exit 2
        ;;
esac
