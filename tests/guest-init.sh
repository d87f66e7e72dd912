#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the tiny guest of tests/live/guest/test-live-guest (scripts/guest-kit.sh puts
# it into the initramfs, beside a static busybox and a few modules).
#
# It reports what the guest sees as lines on the serial console,
#   DOMCLONE-FACT key=value
# then DOMCLONE-DONE, and powers off. Facts:
#   uuid, serial       SMBIOS system UUID and serial number
#   mac                the MAC address of the (first) network interface
#   data               the text line at 1 MiB of the data disk (vda)
#   marker-before      the text line at 2 MiB of the data disk at boot
#   marker-written     what this boot wrote there: DOMCLONE-MARK <boot id>,
#                      or "error" (a read-only disk)
#   seed-instance-id, seed-local-hostname, seed-mac
#                      from a cloud-init NoCloud seed (ISO 9660 with
#                      meta-data), if one is attached
#   writer             "started" (writer mode, below)
# Writer mode (tests/live/live): when the line at 3 MiB of the data disk is
# "DOMCLONE-WRITER on", the guest reports its facts, then, instead of
# powering off, writes numbered records "DOMCLONE-REC N" (N = 1, 2, ...)
# one 512-byte sector each, into 2048 slots from 4 MiB on (record N in
# slot (N - 1) mod 2048), in order and forever: each write is flushed
# (fsync) before the next one starts.
# Nothing here may stop it from reaching DOMCLONE-DONE: no "set -e".

/bin/busybox mkdir -p /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r m; do
    insmod "/lib/modules/$m.ko" || echo "guest-init: cannot load $m"
done </lib/modules/load-order

fact() { echo "DOMCLONE-FACT $1=$2"; }

# The first line of the 512-byte sector $2 of device $1, printable
# characters only (an unwritten sector reads as nothing).
read_line() {
    dd if="$1" bs=512 skip="$2" count=1 2>/dev/null | head -n 1 | tr -d '\000\r'
}

first_nic() {
    for n in /sys/class/net/*; do
        [ "${n##*/}" = lo ] || { echo "$n"; return; }
    done
}

# Devices appear as their drivers probe: wait up to 5 s for the disk and
# the NIC (a domain without one just waits).
i=0
while [ $i -lt 50 ] && { [ ! -b /dev/vda ] || [ -z "$(first_nic)" ]; }; do
    sleep 0.1
    i=$((i + 1))
done

fact uuid "$(cat /sys/class/dmi/id/product_uuid 2>/dev/null)"
fact serial "$(cat /sys/class/dmi/id/product_serial 2>/dev/null)"
nic=$(first_nic)
fact mac "$(cat "$nic/address" 2>/dev/null)"

if [ -b /dev/vda ]; then
    fact data "$(read_line /dev/vda 2048)"
    fact marker-before "$(read_line /dev/vda 4096)"
    mark="DOMCLONE-MARK $(cat /proc/sys/kernel/random/boot_id)"
    if echo "$mark" | dd of=/dev/vda bs=512 seek=4096 count=1 conv=notrunc,sync,fsync 2>/dev/null; then
        fact marker-written "$mark"
    else
        fact marker-written error
    fi
fi

for d in /dev/sr* /dev/vd[b-z]; do
    [ -b "$d" ] || continue
    mount -t iso9660 -o ro "$d" /mnt 2>/dev/null || continue
    if [ -f /mnt/meta-data ]; then
        fact seed-instance-id "$(sed -n 's/^instance-id: *//p' /mnt/meta-data | tr -d "\"'")"
        fact seed-local-hostname "$(sed -n 's/^local-hostname: *//p' /mnt/meta-data | tr -d "\"'")"
        if [ -f /mnt/network-config ]; then
            fact seed-mac "$(grep -o -i -E '([0-9a-f]{2}:){5}[0-9a-f]{2}' /mnt/network-config | head -n 1)"
        fi
    fi
    umount /mnt
done

# Writer mode: see the header.
if [ -b /dev/vda ] && [ "$(read_line /dev/vda 6144)" = "DOMCLONE-WRITER on" ]; then
    fact writer started
    n=1
    while :; do
        echo "DOMCLONE-REC $n" |
            dd of=/dev/vda bs=512 seek=$(((n - 1) % 2048 + 8192)) count=1 conv=notrunc,sync,fsync 2>/dev/null
        n=$((n + 1))
    done
fi

sync
echo DOMCLONE-DONE
poweroff -f
