#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# rbd.sh - time clones of a Ceph RBD disk (issue 19) against `rbd cp`.
#
# Usage:
#   bench/rbd.sh [--runs N] [--domclone PATH]
#
#   --runs N         runs of each tool (default 5); medians
#   --domclone PATH  the binary to time (default: build/domclone of this tree)
#
# Run as root. It re-executes itself under tests/with-libvirtd.sh (a private
# libvirtd in a private mount, PID and network namespace), starts a one-node
# Ceph cluster there (tests/ceph-one-node.sh: one mon, one mgr, one
# bluestore OSD on a sparse file in the state dir), and defines:
#   bench-rbd   type='qemu', shut off, one network disk on RBD image
#               rbd/bench-src: 4 GiB, 512 MiB of data (64 extents of 8 MiB
#               of random bytes spread over it, the rest never written),
#               reached with a libvirt secret holding client.libvirt's key
# Rounds, the tools alternating in each:
#   domclone bench-rbd           a full clone: librbd deep copy on the
#                                Ceph side (no parent, no snapshot)
#   rbd cp rbd/bench-src ...     the rbd tool's copy of the same image:
#                                the yardstick
# then `domclone --make-template bench-rbd` and rounds of
#   domclone --linked bench-rbd  a copy-on-write child of the template's
#                                protected snapshot
#   domclone --version           the floor of any domclone run
# Each clone (domain and image) is removed after its run. Before every run:
# "sync; echo 3 > /proc/sys/vm/drop_caches". Timed from process start to exit.
#
# Prints the machine, then per tool the median seconds, every run and the
# ratio to `rbd cp`. Exit status: 0 when every run worked, 1 when a run or
# the set-up failed, 99 when the private daemon did not start.
set -euo pipefail

PROG="rbd"
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
BENCH_DIR=$(dirname -- "$SELF")
REPO=$(dirname -- "$BENCH_DIR")
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

usage() { sed -n '/^# rbd.sh - /,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; }

parse_args "$@" # sets RUNS and DOMCLONE

require_tools virsh:libvirt-clients libvirtd:libvirt-daemon qemu-system-x86_64:qemu-system-x86 \
    unshare:util-linux ceph-mon:ceph-mon ceph-mgr:ceph-mgr ceph-osd:ceph-osd rbd:ceph-common \
    ceph:ceph-common

reexec_under_private_daemon "$SELF" --runs "$RUNS" --domclone "$DOMCLONE"

# ---------------------------------------------------------------------------
# Inside the private daemon's namespace from here on.

readonly SECRET=3c5e0d44-8b1a-4c7e-9d2f-6a7b8c9d0e1f
STATE=$DOMCLONE_TEST_STATE
CEPH=$STATE/ceph
export CEPH_CONF=$CEPH/ceph.conf

cleanup() { "$REPO/tests/ceph-one-node.sh" down "$CEPH" || true; }
trap cleanup EXIT

msg "starting a one-node Ceph cluster under $CEPH"
CEPH_OSD_BYTES=$((16 * 1024 * 1024 * 1024)) "$REPO/tests/ceph-one-node.sh" up "$CEPH" || die "the cluster did not start"

cat >"$STATE/secret.xml" <<EOF
<secret ephemeral='no' private='no'><uuid>$SECRET</uuid><usage type='ceph'><name>client.libvirt</name></usage></secret>
EOF
virsh -q secret-define "$STATE/secret.xml" >/dev/null
# the key as ceph prints it, base64, which is what --file reads
ceph auth get-key client.libvirt >"$STATE/key"
virsh -q secret-set-value "$SECRET" --file "$STATE/key" >/dev/null || die "cannot set the secret's value"
rm -f "$STATE/key"

msg "writing 512 MiB of data into a 4 GiB image"
truncate -s 4G "$STATE/src.raw"
for i in $(seq 0 63); do
    dd if=/dev/urandom of="$STATE/src.raw" bs=8M count=1 seek=$((i * 8)) conv=notrunc status=none
done
rbd import --no-progress "$STATE/src.raw" rbd/bench-src
rm -f "$STATE/src.raw"

cat >"$STATE/bench-rbd.xml" <<EOF
<domain type='qemu'><name>bench-rbd</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
<disk type='network' device='disk'><driver name='qemu' type='raw'/>
<auth username='libvirt'><secret type='ceph' uuid='$SECRET'/></auth>
<source protocol='rbd' name='rbd/bench-src'><host name='127.0.0.1' port='6789'/></source>
<target dev='vda' bus='virtio'/></disk></devices></domain>
EOF
virsh -q define "$STATE/bench-rbd.xml" >/dev/null

# time_run VAR CMD...: runs CMD cold, appends its seconds to array VAR,
# its stdout to $STATE/out
time_run() {
    local -n into=$1
    local t0 t1
    shift
    drop_caches
    t0=$EPOCHREALTIME
    "$@" >"$STATE/out" || die "failed: $*"
    t1=$EPOCHREALTIME
    into+=("$(elapsed "${t0/,/.}" "${t1/,/.}")")
}

# remove_rbd_clone: the clone domclone just made, and its image
remove_rbd_clone() {
    local clone
    clone=$(clone_name_from "$STATE/out")
    virsh -q undefine "$clone" >/dev/null
    rbd rm --no-progress "rbd/$clone-vda"
}

# domclone must reach the cluster the way a domain does, through the
# secret, not through this host's ceph.conf (CEPH_CONF is set here)
"$DOMCLONE" -vv --print-xml bench-rbd 2>"$STATE/how" >/dev/null || die "domclone --print-xml failed"
grep -q "with libvirt's secret" "$STATE/how" || die "domclone did not reach the cluster with libvirt's secret: $(cat "$STATE/how")"

full=() cp=() linked=() floor=()
for r in $(seq 1 "$RUNS"); do
    msg "round $r of $RUNS: full clone and rbd cp"
    time_run full "$DOMCLONE" bench-rbd
    remove_rbd_clone
    time_run cp rbd cp --no-progress rbd/bench-src rbd/bench-cp
    rbd rm --no-progress rbd/bench-cp
done
"$DOMCLONE" --make-template bench-rbd >/dev/null
for r in $(seq 1 "$RUNS"); do
    msg "round $r of $RUNS: linked clone"
    time_run linked "$DOMCLONE" --linked bench-rbd
    remove_rbd_clone
    time_run floor "$DOMCLONE" --version
done

machine_info "$DOMCLONE" "$STATE"
printf '  ceph:        %s\n\n' "$(ceph --version | head -n 1)"
m_cp=$(median "${cp[@]}")
printf 'RBD image: 4 GiB, 512 MiB of data, one OSD (bluestore on a sparse file); medians of %s, cold cache\n\n' "$RUNS"
printf '| %-34s | %-9s | %-9s | %s\n' "tool" "median s" "÷ rbd cp" "runs"
for row in "domclone (full: librbd deep copy):full" "rbd cp (the yardstick):cp" \
    "domclone --linked (rbd clone):linked" "domclone --version (the floor):floor"; do
    label=${row%:*}
    declare -n runs=${row##*:}
    m=$(median "${runs[@]}")
    printf '| %-34s | %-9s | %-9s | %s\n' "$label" "$m" "$(ratio "$m" "$m_cp")" "$(runs_list "${runs[@]}")"
    unset -n runs
done
