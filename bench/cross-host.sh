#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cross-host.sh - time a clone onto another host (domclone --to) against
# cp --sparse=always + sync of the same file, side by side in one run.
#
# Usage:
#   bench/cross-host.sh [--runs N] [--domclone PATH]
#
#   --runs N         rounds (default 5); the table gives the medians
#   --domclone PATH  the binary to time (default: build/domclone of this tree)
#
# Run as root. It re-executes itself under tests/with-libvirtd.sh (the
# source's private libvirtd), then starts a second, independent one the
# same way from inside (its own mount, PID and network namespaces, its own
# /var/lib/libvirt), reached through its socket:
#   qemu+unix:///system?socket=/proc/PID/root/run/libvirt/libvirt-sock
# The source, bench-raw, is one 8 GiB raw disk holding 512 MiB of data
# (8 MiB extents of AES-CTR of zeros, the rest holes) in pool "bench" of
# the first daemon; the second has a pool "bench" of its own (in its
# private /var/lib/libvirt/images/bench, on the same file system here).
#
# Each round, after "sync; echo 3 > /proc/sys/vm/drop_caches", timed from
# process start to exit:
#   domclone -c SRC --to DST bench-raw   (then, untimed, a sync of the
#                                         clone's file: what it left unflushed)
#   cp --sparse=always SOURCE_FILE DST_POOL_DIR/cp.raw, then sync that file
#   domclone -c SRC --to DST --live bench-raw, bench-raw running (a TCG
#                                         guest with no system: its
#                                         firmware finds nothing to boot)
#                                         (then, untimed, a sync likewise)
# and the clones and the copy are removed again.
#
# Prints the machine, the median and every run of both, the clone's
# allocation against the source's, and the ratio domclone ÷ (cp + sync)
# against the target of issue 16 (at most 2), also with the untimed sync
# added. Exit status: 0 when every run worked (target met or not), 1 when
# a tool or the set-up failed, 99 when the private daemon did not start.
set -euo pipefail

PROG=cross-host.sh
SELF=$(readlink -f -- "$0")
REPO=$(dirname -- "$(dirname -- "$SELF")")
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

usage() { sed -n '4,12p' -- "$SELF" | sed 's/^# \{0,1\}//'; }

parse_args "$@"
require_tools "virsh:libvirt-clients" "openssl:openssl" "/usr/bin/time:time" "truncate:coreutils"
reexec_under_private_daemon "$SELF" "$@"

STATE=$DOMCLONE_TEST_STATE
TMP=$STATE/bench-to
SRC_DIR=$STATE/bench-src
mkdir -p -- "$TMP" "$SRC_DIR"
OTHER=
OTHER_PID=

cleanup() {
    local st=$?
    if [[ -n $OTHER ]]; then
        kill -TERM "$OTHER" 2>/dev/null || true
        wait "$OTHER" 2>/dev/null || true
    fi
    exit "$st"
}
trap cleanup EXIT

# The second daemon: the harness again, which prints its mount namespace
# once its daemon answers and runs until its stdin closes or it is
# terminated (its trap then stops its daemon).
start_other() {
    local ns name
    coproc OTHER_HARNESS { "$REPO/tests/with-libvirtd.sh" -- sh -c 'readlink /proc/self/ns/mnt && exec cat'; }
    OTHER=$OTHER_HARNESS_PID
    read -r ns <&"${OTHER_HARNESS[0]}" || die "the second daemon did not start"
    for name in /proc/[0-9]*; do
        if [[ $(readlink "$name/ns/mnt" 2>/dev/null) == "$ns" ]]; then
            OTHER_PID=${name#/proc/}
            break
        fi
    done
    [[ -n $OTHER_PID ]] || die "cannot find a process of the second daemon's namespace"
    DST_URI="qemu+unix:///system?socket=/proc/$OTHER_PID/root/run/libvirt/libvirt-sock"
}

start_other
SRC_URI=$LIBVIRT_DEFAULT_URI
DST_DIR=/var/lib/libvirt/images/bench
THERE=/proc/$OTHER_PID/root$DST_DIR

msg "setting up: an 8 GiB raw holding 512 MiB, pool 'bench' on both daemons"
fill_extents "$SRC_DIR/bench-raw.raw" 8192 512 16
virsh -q -c "$SRC_URI" pool-define-as bench dir --target "$SRC_DIR" >/dev/null
virsh -q -c "$SRC_URI" pool-start bench >/dev/null
virsh -q -c "$DST_URI" pool-define-as bench dir --target "$DST_DIR" >/dev/null
virsh -q -c "$DST_URI" pool-build bench >/dev/null
virsh -q -c "$DST_URI" pool-start bench >/dev/null
cat >"$TMP/bench-raw.xml" <<EOF
<domain type='qemu'>
  <name>bench-raw</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$SRC_DIR/bench-raw.raw'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
EOF
virsh -q -c "$SRC_URI" define "$TMP/bench-raw.xml" >/dev/null
SRC_ALLOC=$(allocated_bytes "$SRC_DIR/bench-raw.raw")

dc_runs=()
dc_sync_runs=()
dc_total_runs=()
cp_runs=()
live_runs=()
live_sync_runs=()
clone_alloc=
live_alloc=
failed=0
for ((round = 1; round <= RUNS; round++)); do
    msg "round $round of $RUNS"
    timed_clone domclone "$TMP" "$DOMCLONE" -c "$SRC_URI" --to "$DST_URI" bench-raw
    if ((CLONE_RC != 0)) || [[ -z $CLONE_NAME ]]; then
        msg "domclone failed: $(last_lines "$TMP/err")"
        failed=1
        break
    fi
    dc_runs+=("$CLONE_SECONDS")
    t0=$EPOCHREALTIME
    sync -- "$THERE/$CLONE_NAME.raw"
    t1=$EPOCHREALTIME
    dc_sync_runs+=("$(elapsed "$t0" "$t1")")
    dc_total_runs+=("$(awk -v a="$CLONE_SECONDS" -v b="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.4f", a + b }')")
    clone_alloc=$(allocated_bytes "$THERE/$CLONE_NAME.raw")
    virsh -q -c "$DST_URI" undefine "$CLONE_NAME" >/dev/null
    virsh -q -c "$DST_URI" vol-delete --pool bench "$CLONE_NAME.raw" >/dev/null

    drop_caches
    t0=$EPOCHREALTIME
    cp --sparse=always -- "$SRC_DIR/bench-raw.raw" "$THERE/cp.raw"
    sync -- "$THERE/cp.raw"
    t1=$EPOCHREALTIME
    cp_runs+=("$(elapsed "$t0" "$t1")")
    rm -f -- "$THERE/cp.raw"

    virsh -q -c "$SRC_URI" start bench-raw >/dev/null
    timed_clone domclone "$TMP" "$DOMCLONE" -c "$SRC_URI" --to "$DST_URI" --live bench-raw
    virsh -q -c "$SRC_URI" destroy bench-raw >/dev/null
    if ((CLONE_RC != 0)) || [[ -z $CLONE_NAME ]]; then
        msg "domclone --live failed: $(last_lines "$TMP/err")"
        failed=1
        break
    fi
    live_runs+=("$CLONE_SECONDS")
    t0=$EPOCHREALTIME
    sync -- "$THERE/$CLONE_NAME.raw"
    t1=$EPOCHREALTIME
    live_sync_runs+=("$(elapsed "$t0" "$t1")")
    live_alloc=$(allocated_bytes "$THERE/$CLONE_NAME.raw")
    virsh -q -c "$DST_URI" undefine "$CLONE_NAME" >/dev/null
    virsh -q -c "$DST_URI" vol-delete --pool bench "$CLONE_NAME.raw" >/dev/null
done
((failed == 0)) || exit 1

dc_med=$(median "${dc_runs[@]}")
dc_sync_med=$(median "${dc_sync_runs[@]}")
dc_total_med=$(median "${dc_total_runs[@]}")
cp_med=$(median "${cp_runs[@]}")
live_med=$(median "${live_runs[@]}")
live_sync_med=$(median "${live_sync_runs[@]}")
r=$(ratio "$dc_med" "$cp_med")
r_total=$(ratio "$dc_total_med" "$cp_med")

machine_info "$DOMCLONE" "$STATE"
printf '\nClone onto another host: bench-raw, one 8 GiB raw holding 512 MiB (%s allocated)\n' "$(human "$SRC_ALLOC")"
printf '  from %s\n  to   %s\n\n' "$SRC_URI" "$DST_URI"
printf '%-34s %10s  %s\n' "tool" "median s" "runs"
printf '%-34s %10s  %s\n' "domclone --to" "$dc_med" "$(runs_list "${dc_runs[@]}")"
printf '%-34s %10s  %s\n' "  then sync of its file (untimed)" "$dc_sync_med" "$(runs_list "${dc_sync_runs[@]}")"
printf '%-34s %10s  %s\n' "cp --sparse=always + sync" "$cp_med" "$(runs_list "${cp_runs[@]}")"
printf '%-34s %10s  %s\n' "domclone --to --live (running)" "$live_med" "$(runs_list "${live_runs[@]}")"
printf '%-34s %10s  %s\n' "  then sync of its file (untimed)" "$live_sync_med" "$(runs_list "${live_sync_runs[@]}")"
printf '\nclone allocated: %s, --live: %s (source: %s)\n' "$(human "$clone_alloc")" "$(human "$live_alloc")" "$(human "$SRC_ALLOC")"
printf 'ratio domclone --to --live / domclone --to: %s\n' "$(ratio "$live_med" "$dc_med")"
printf 'ratio domclone / (cp + sync): %s; with its untimed sync added: %s\n' "$r" "$r_total"
if [[ $r_total != n/a ]] && le "$r_total" 2; then
    printf 'target (issue 16, at most 2x, flushed): MET (%s)\n' "$r_total"
else
    printf 'target (issue 16, at most 2x, flushed): NOT MET (%s)\n' "$r_total"
fi
