#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# live.sh - time domclone --live on a running domain next to a stopped clone
# of the same domain, side by side in one run.
#
# Usage:
#   bench/live.sh [--runs N] [--domclone PATH]
#
#   --runs N         rounds (default 5); the table gives the medians
#   --domclone PATH  the binary to time (default: build/domclone of this tree)
#
# Run as root. It re-executes itself under tests/with-libvirtd.sh (a private
# libvirtd in a private mount + PID namespace), then defines bench-live: a
# type='qemu' domain with one 8 GiB raw disk holding 512 MiB of data (the
# disk of clone-vs-peers.sh's case b: AES-CTR of zeros in 8 MiB extents, the
# rest holes) in a dir pool, and no operating system (the guest sits in its
# firmware, which finds nothing to boot: the disk is only read by the copy).
# In each round, after "sync; echo 3 > /proc/sys/vm/drop_caches", timed from
# process start to exit, under /usr/bin/time -f %M:
#   domclone bench-live            with the domain shut off
#   domclone --live bench-live     with the domain running (started before,
#                                  untimed, and destroyed after)
# Each clone is removed after its run.
#
# Prints the machine, then per way: the median seconds, every run, the ratio
# to the stopped clone, the peak RSS and the clone's allocated bytes against
# the source's. Progress goes to stderr.
#
# Exit status: 0 when every run worked, 1 when one failed or the set-up did,
# 99 when the private daemon did not start.
set -euo pipefail

PROG="live"
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
BENCH_DIR=$(dirname -- "$SELF")
REPO=$(dirname -- "$BENCH_DIR")
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

usage() { sed -n '/^# live.sh - /,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; }

parse_args "$@" # sets RUNS and DOMCLONE

require_tools virsh:libvirt-clients libvirtd:libvirt-daemon virtlogd:libvirt-daemon \
    qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils unshare:util-linux \
    /usr/bin/time:time openssl:openssl

reexec_under_private_daemon "$SELF" --runs "$RUNS" --domclone "$DOMCLONE"

# ---------------------------------------------------------------------------
# Inside the private daemon's namespace from here on.

STATE=$DOMCLONE_TEST_STATE
TMP=$STATE/bench-tmp
POOL_DIR=$STATE/pool
SRC=bench-live
DISK=$POOL_DIR/$SRC.raw
FAILED=0

mkdir -p -- "$TMP" "$POOL_DIR"

free_kib=$(df -k --output=avail -- "$STATE" | tail -n 1 | tr -d ' ')
# the source's 512 MiB, and a live clone's 8 GiB while its job runs
((free_kib > 10 * 1024 * 1024)) ||
    die "the state dir $STATE has $((free_kib / 1024)) MiB free; the benchmark needs about 10 GiB (set TMPDIR)"

msg "setting up $SRC (8 GiB raw, 512 MiB of data)"
fill_extents "$DISK" 8192 512 2
virsh -q pool-define-as bench dir --target "$POOL_DIR" >/dev/null
virsh -q pool-start bench >/dev/null
cat >"$TMP/$SRC.xml" <<EOF
<domain type='qemu'>
  <name>$SRC</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$DISK'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
virsh -q define "$TMP/$SRC.xml" >/dev/null
SRC_ALLOC=$(allocated_bytes "$DISK")

declare -A SECONDS_OF KIB_OF ALLOC_OF

# run_one WAY RUN: one timed clone, WAY "stopped" or "live"
run_one() {
    local way=$1 run=$2 dir=$TMP/$1-$2 args=() paths
    mkdir -p -- "$dir"
    if [[ $way == live ]]; then
        virsh -q start "$SRC" >/dev/null
        args=(--live)
    fi
    timed_clone domclone "$dir" "$DOMCLONE" -q "${args[@]}" "$SRC"
    if ((CLONE_RC != 0)) || [[ -z $CLONE_NAME ]]; then
        msg "$way run $run failed ($CLONE_RC): $(last_lines "$dir/err")"
        FAILED=1
    else
        if [[ $way == live ]] && ! grep -q ' while it ran (' -- "$dir/out"; then
            msg "$way run $run: the success line does not say the source ran: $(last_lines "$dir/out")"
            FAILED=1
        fi
        mapfile -t paths < <(domain_disk_paths "$CLONE_NAME")
        SECONDS_OF[$way]+="$CLONE_SECONDS "
        KIB_OF[$way]+="$CLONE_KIB "
        ALLOC_OF[$way]+="$(allocated_bytes "${paths[@]}") "
        remove_clone "$CLONE_NAME" "$DISK" || FAILED=1
    fi
    if [[ $way == live ]]; then
        virsh -q destroy "$SRC" >/dev/null
    fi
    msg "round $run, $way: ${CLONE_SECONDS}s"
}

for ((r = 1; r <= RUNS; r++)); do
    run_one stopped "$r"
    run_one live "$r"
done

machine_info "$DOMCLONE" "$STATE"
printf '\nSource: %s, one 8 GiB raw disk, %s allocated; %s rounds, cold cache\n\n' \
    "$SRC" "$(human "$SRC_ALLOC")" "$RUNS"
printf '| way | median | runs | × stopped | peak RSS | clone allocated |\n'
printf '| --- | --- | --- | --- | --- | --- |\n'
# (word splitting of the lists of numbers is wanted)
# shellcheck disable=SC2086
stopped_median=$(median ${SECONDS_OF[stopped]:-})
for way in stopped live; do
    # shellcheck disable=SC2086
    {
        m=$(median ${SECONDS_OF[$way]:-})
        printf '| %s | %s s | %s | %s | %s KiB | %s |\n' \
            "$([[ $way == live ]] && echo 'domclone --live (running)' || echo 'domclone (shut off)')" \
            "$m" "$(runs_list ${SECONDS_OF[$way]:-})" "$(ratio "$m" "$stopped_median")" \
            "$(max ${KIB_OF[$way]:-0})" "$(human "$(max ${ALLOC_OF[$way]:-0})")"
    }
done
exit "$FAILED"
