#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# clone-vs-peers.sh - time domclone against virt-clone and cp + sync, side by
# side in one run, on the source domains of issue 7, and check its targets.
#
# Usage:
#   bench/clone-vs-peers.sh [--runs N] [--domclone PATH]
#
#   --runs N         runs of each tool on each case (default 5); the tables
#                    give the median
#   --domclone PATH  the binary to time (default: build/domclone of this tree)
#   --baseline PATH  another domclone build (the one before a change), timed
#                    in the same rounds right after --domclone's runs
#                    ("domclone-base"), with its ratio beside each target
#
# Run as root. It re-executes itself under tests/with-libvirtd.sh (a private
# libvirtd in a private mount + PID namespace), so the host's libvirt is never
# touched, then builds these shut-off type='qemu' domains, their disks in dir
# pools, data written with a fixed pseudo-random pattern (AES-CTR of zeros) in
# 8 MiB extents spread over the disk, the rest holes:
#   a  bench-empty    one empty 2 GiB qcow2                      (ext4 pool)
#   b  bench-raw      one 8 GiB raw holding 512 MiB              (ext4 pool)
#   c  bench-4qcow2   four 1 GiB qcow2, 256 MiB of data each     (ext4 pool)
#   d1 bench-xfs-raw  one 8 GiB raw holding 512 MiB              (XFS pool)
#   d2 bench-xfs-qcow2 one 20 GiB qcow2 holding 1 GiB            (XFS pool)
#   e  bench-template four 20 GiB qcow2, 256 MiB of data each,   (ext4 pool)
#                     made a template (domclone --make-template)
# (the "ext4 pool" is whatever file system holds the state dir; the XFS pool
# is an "mkfs.xfs -m reflink=1" file system on a loop device, so d1 and d2
# are two domains of one disk each). Cases d1 and d2 are skipped, with a
# message, when no loop device can be set up.
#
# For each case, N rounds; in each round every tool runs once, after
# "sync; echo 3 > /proc/sys/vm/drop_caches", timed from process start to exit:
#   domclone SRC                   (under /usr/bin/time -f %M: peak memory)
#   virt-clone --original SRC --auto-clone     (if installed; also under time)
#   virt-clone ... --reflink       (case d1 only: libvirt's reflink is raw-only)
#   cp --sparse=always of the disk files (in parallel), then sync FILE...
#   cp --reflink=always ..., then sync FILE...  (cases d1 and d2)
#   domclone --linked SRC          (case e; virt-clone there runs with
#                                   --force-copy for each disk, which it
#                                   would otherwise share as read-only)
#   domclone --version             (case e: the floor of any domclone run,
#                                   process and client library start)
#
# BENCH_CASES="e" (a space-separated list of case IDs) runs only those
# cases; their sources alone are set up. With --baseline PATH, case e
# also times that build's --linked --count 100 in the same rounds,
# alternating with this one's, and prints the ratio of the two medians.
# Each clone is removed after its run: "virsh undefine --nvram" and
# "virsh vol-delete" of its own volumes (never --remove-all-storage); cp's
# files with rm.
#
# Prints the machine, one table per case (median, every run, ratio to
# cp+sync, the untimed cost of a "sync FILE..." of the clone's files right
# after the tool exited, peak memory, the clone's allocation against the
# source's, and on XFS the file system's used-space growth and the bytes of
# the clone's extents that filefrag -v flags "shared"), then the targets of
# issue 7, each MET, NOT MET or NOT EVAL., with the figures. Progress goes
# to stderr.
#
# Exit status: 0 when every tool ran (targets not met included), 1 when a
# tool failed or the set-up did, 99 when the private daemon did not start.
set -euo pipefail

PROG="clone-vs-peers"
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
BENCH_DIR=$(dirname -- "$SELF")
REPO=$(dirname -- "$BENCH_DIR")
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

usage() { sed -n '/^# clone-vs-peers.sh - /,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; }

parse_args "$@" # sets RUNS and DOMCLONE

require_tools virsh:libvirt-clients libvirtd:libvirt-daemon virtlogd:libvirt-daemon \
    qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils unshare:util-linux \
    /usr/bin/time:time mkfs.xfs:xfsprogs mount:mount findmnt:util-linux \
    filefrag:e2fsprogs openssl:openssl

forward_args
reexec_under_private_daemon "$SELF" "${FORWARD[@]}"

# ---------------------------------------------------------------------------
# Inside the private daemon's namespace from here on.

STATE=$DOMCLONE_TEST_STATE
TMP=$STATE/bench-tmp
EXT_POOL_DIR=$STATE/pool
XFS_IMG=$STATE/xfs.img
XFS_DIR=$STATE/xfs
XFS_MOUNTED=0
FAILED=0

mkdir -p -- "$TMP" "$EXT_POOL_DIR"

# Called from the EXIT trap only:
# shellcheck disable=SC2317
cleanup() {
    local st=$?
    set +e
    if ((XFS_MOUNTED)); then
        virsh -q pool-destroy bench-xfs >/dev/null 2>&1
        umount -- "$XFS_DIR" 2>/dev/null || umount -l -- "$XFS_DIR"
    fi
    exit "$st"
}
trap cleanup EXIT

note() { printf '%s\n' "$*" >&2; }

free_kib=$(df -k --output=avail -- "$STATE" | tail -n 1 | tr -d ' ')
((free_kib > 12 * 1024 * 1024)) ||
    die "the state dir $STATE has $((free_kib / 1024)) MiB free; the benchmark needs about 12 GiB (set TMPDIR)"

# make_raw PATH SIZE_MIB DATA_MIB SEED
make_raw() { fill_extents "$@"; }

# make_qcow2 PATH SIZE_MIB DATA_MIB SEED: through a sparse raw on the state
# dir, converted (qcow2 compat 1.1, as qemu-img makes them).
make_qcow2() {
    local path=$1 size=$2 data=$3 seed=$4 tmp=$TMP/gen.raw
    if ((data == 0)); then
        qemu-img create -q -f qcow2 -o compat=1.1 -- "$path" "${size}M"
        return 0
    fi
    fill_extents "$tmp" "$size" "$data" "$seed"
    qemu-img convert -f raw -O qcow2 -o compat=1.1 -- "$tmp" "$path"
    rm -f -- "$tmp"
}

# define_domain NAME MAC_SUFFIX PATH:FORMAT...
define_domain() {
    local name=$1 mac=$2 spec path fmt i=0 xml=$TMP/$1.xml
    local -a letters=(a b c d e f g h)
    shift 2
    {
        printf '%s\n' "<domain type='qemu'>" "  <name>$name</name>" \
            "  <memory unit='MiB'>128</memory>" "  <vcpu>1</vcpu>" \
            "  <os><type arch='x86_64' machine='q35'>hvm</type></os>" \
            "  <devices>"
        for spec in "$@"; do
            path=${spec%:*}
            fmt=${spec##*:}
            printf '%s\n' "    <disk type='file' device='disk'>" \
                "      <driver name='qemu' type='$fmt'/>" \
                "      <source file='$path'/>" \
                "      <target dev='vd${letters[i]}' bus='virtio'/>" \
                "    </disk>"
            i=$((i + 1))
        done
        printf '%s\n' "    <interface type='user'>" \
            "      <mac address='52:54:00:be:00:$mac'/>" \
            "      <model type='virtio'/>" "    </interface>" \
            "  </devices>" "</domain>"
    } >"$xml"
    virsh -q define "$xml" >/dev/null
}

define_pool() {
    virsh -q pool-define-as "$1" dir --target "$2" >/dev/null
    virsh -q pool-start "$1" >/dev/null
}

# wanted ID: whether case ID is to be run (BENCH_CASES, default all).
wanted() { [[ -z ${BENCH_CASES:-} || " $BENCH_CASES " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------
# Cases: CASES in order; per case its domain, title, pool dir, disk files,
# whether it is on XFS, and its tools.

CASES=()
declare -A C_DOM C_TITLE C_DIR C_FILES C_XFS C_TOOLS C_SKIP

add_case() { # ID DOMAIN DIR XFS TITLE FILE...
    local id=$1
    CASES+=("$id")
    C_DOM[$id]=$2
    C_DIR[$id]=$3
    C_XFS[$id]=$4
    C_TITLE[$id]=$5
    shift 5
    C_FILES[$id]="$*"
}

set_tools() {
    local id=$1 tools="domclone"
    if [[ -n $BASELINE ]]; then tools+=" domclone-base"; fi
    if have_virt_clone; then tools+=" virt-clone"; fi
    if ((C_XFS[$id])) && have_virt_clone && [[ $id == d1 ]]; then
        tools+=" virt-clone-reflink"
    fi
    tools+=" cp+sync"
    if ((C_XFS[$id])); then tools+=" cp-reflink+sync"; fi
    if [[ $id == e ]]; then
        tools="domclone-linked domclone-linked-100 $tools"
        if [[ -n $BASELINE ]]; then tools="domclone-linked-base baseline-linked-100 $tools"; fi
    fi
    C_TOOLS[$id]=$tools
}

setup_sources() {
    local t0 dev err
    t0=$EPOCHREALTIME
    note "setting up the source domains (writes about 3 GiB)..."
    define_pool bench "$EXT_POOL_DIR"

    if wanted a; then
        make_qcow2 "$EXT_POOL_DIR/bench-empty.qcow2" 2048 0 1
        define_domain bench-empty 01 "$EXT_POOL_DIR/bench-empty.qcow2:qcow2"
        add_case a bench-empty "$EXT_POOL_DIR" 0 "one empty 2 GiB qcow2" \
            "$EXT_POOL_DIR/bench-empty.qcow2"
    fi

    if wanted b; then
        make_raw "$EXT_POOL_DIR/bench-raw.img" 8192 512 2
        define_domain bench-raw 02 "$EXT_POOL_DIR/bench-raw.img:raw"
        add_case b bench-raw "$EXT_POOL_DIR" 0 "one 8 GiB raw holding 512 MiB of data" \
            "$EXT_POOL_DIR/bench-raw.img"
    fi

    local i files=() specs=()
    if wanted c; then
        for i in 1 2 3 4; do
            make_qcow2 "$EXT_POOL_DIR/bench-4qcow2-$i.qcow2" 1024 256 $((10 + i))
            files+=("$EXT_POOL_DIR/bench-4qcow2-$i.qcow2")
            specs+=("$EXT_POOL_DIR/bench-4qcow2-$i.qcow2:qcow2")
        done
        define_domain bench-4qcow2 03 "${specs[@]}"
        add_case c bench-4qcow2 "$EXT_POOL_DIR" 0 "four 1 GiB qcow2, 256 MiB of data each" \
            "${files[@]}"
    fi

    # e: a template, for linked clones (issue 9). Its disks become
    # read-only; the full clones copy them all the same (virt-clone with
    # --force-copy).
    if wanted e; then
        files=()
        specs=()
        for i in 1 2 3 4; do
            make_qcow2 "$EXT_POOL_DIR/bench-template-$i.qcow2" 20480 256 $((20 + i))
            files+=("$EXT_POOL_DIR/bench-template-$i.qcow2")
            specs+=("$EXT_POOL_DIR/bench-template-$i.qcow2:qcow2")
        done
        define_domain bench-template 06 "${specs[@]}"
        refresh_pools
        "$DOMCLONE" --make-template bench-template >&2 || die "domclone --make-template bench-template failed"
        add_case e bench-template "$EXT_POOL_DIR" 0 \
            "linked clone of a template with four 20 GiB qcow2 disks, 256 MiB of data each" "${files[@]}"
    fi

    if ! wanted d1 && ! wanted d2; then
        mkdir -p -- "$XFS_DIR" # pool_files looks there
        for i in "${CASES[@]}"; do set_tools "$i"; done
        refresh_pools
        sync
        POOL_FILES=$(pool_files)
        DOMAINS=$(virsh -q list --all --name | sort)
        note "set-up done in $(elapsed "$t0" "$EPOCHREALTIME") s"
        return 0
    fi

    # XFS with reflinks on a loop device ("mount -o loop" sets autoclear:
    # the loop device goes when the mount does, even if we are killed and the
    # namespace's mounts go with it).
    mkdir -p -- "$XFS_DIR"
    truncate -s 64G -- "$XFS_IMG"
    if ! err=$(mkfs.xfs -q -f -m reflink=1 -- "$XFS_IMG" 2>&1); then
        die "mkfs.xfs -m reflink=1 failed: $err"
    fi
    if err=$(mount -o loop -t xfs -- "$XFS_IMG" "$XFS_DIR" 2>&1); then
        XFS_MOUNTED=1
        dev=$(findmnt -n -o SOURCE --target "$XFS_DIR")
        note "XFS (reflink=1) on $dev mounted on $XFS_DIR"
        define_pool bench-xfs "$XFS_DIR"
        if wanted d1; then
            make_raw "$XFS_DIR/bench-xfs-raw.img" 8192 512 3
            define_domain bench-xfs-raw 04 "$XFS_DIR/bench-xfs-raw.img:raw"
        fi
        if wanted d2; then
            make_qcow2 "$XFS_DIR/bench-xfs-qcow2.qcow2" 20480 1024 4
            define_domain bench-xfs-qcow2 05 "$XFS_DIR/bench-xfs-qcow2.qcow2:qcow2"
        fi
    else
        msg "cannot mount an XFS image on a loop device ($err): cases d1 and d2 skipped"
        rm -f -- "$XFS_IMG"
    fi
    if wanted d1; then
        add_case d1 bench-xfs-raw "$XFS_DIR" 1 "XFS reflink pool: one 8 GiB raw holding 512 MiB of data" \
            "$XFS_DIR/bench-xfs-raw.img"
    fi
    if wanted d2; then
        add_case d2 bench-xfs-qcow2 "$XFS_DIR" 1 "XFS reflink pool: one 20 GiB qcow2 holding 1 GiB of data" \
            "$XFS_DIR/bench-xfs-qcow2.qcow2"
    fi
    if ((!XFS_MOUNTED)); then
        C_SKIP[d1]="no loop device / XFS mount: $err"
        C_SKIP[d2]=${C_SKIP[d1]}
    fi
    for i in "${CASES[@]}"; do set_tools "$i"; done
    refresh_pools
    sync
    POOL_FILES=$(pool_files)
    DOMAINS=$(virsh -q list --all --name | sort)
    note "set-up done in $(elapsed "$t0" "$EPOCHREALTIME") s"
}

# pool_files: the files in the pools, sorted.
pool_files() {
    find "$EXT_POOL_DIR" "$XFS_DIR" -mindepth 1 -maxdepth 1 2>/dev/null | sort
}

# check_leftovers ID TOOL: after a run and its clean-up, the pools and the
# domain list must be as set up; report (and remove) what is left.
declare -A R_LEFT
check_leftovers() {
    local key="$1|$2" left f
    left=$(comm -13 <(printf '%s\n' "$POOL_FILES") <(pool_files))
    if [[ -n $left ]]; then
        R_LEFT[$key]+="files: $(tr '\n' ' ' <<<"$left")"
        msg "left over after $2 on case $1, removed: $(tr '\n' ' ' <<<"$left")"
        while IFS= read -r f; do rm -rf -- "$f"; done <<<"$left"
        refresh_pools
    fi
    left=$(comm -13 <(printf '%s\n' "$DOMAINS") <(virsh -q list --all --name | sort))
    if [[ -n $left ]]; then
        R_LEFT[$key]+="domains: $(tr '\n' ' ' <<<"$left")"
        msg "domains left over after $2 on case $1, undefined: $(tr '\n' ' ' <<<"$left")"
        while IFS= read -r f; do virsh -q undefine --nvram "$f" >/dev/null || true; done <<<"$left"
    fi
}

# ---------------------------------------------------------------------------
# One timed run. Results, keyed "CASE|TOOL": R_TIMES (space-separated
# seconds), R_DEBT (seconds of a "sync FILE..." of the clone's files after
# the tool exited, space-separated), R_MEM (KiB, space-separated), R_ALLOC, R_GROWTH, R_SHARED (of the
# last run), R_ERR (why it failed).

declare -A R_TIMES R_MEM R_ALLOC R_GROWTH R_SHARED R_ERR R_DEBT R_DUR

# fail KEY WHAT ERRFILE
fail() {
    local first
    first=$(last_lines "$3")
    R_ERR[$1]="$2: ${first:-no message}"
    FAILED=1
    msg "${R_ERR[$1]}"
}

run_one() { # ID TOOL RUN
    local id=$1 tool=$2 r=$3 key="$1|$2" dom=${C_DOM[$1]} dir=${C_DIR[$1]}
    local -a src dst=() files=() cmd pids=() batch=()
    local err=$TMP/err t0 t1 secs rc=0 name="" f s sh used0 used1 p mode kind
    read -ra src <<<"${C_FILES[$id]}"
    [[ -z ${R_ERR[$key]:-} ]] || return 0
    case $tool in
        domclone | domclone-linked | domclone-base | domclone-linked-base | virt-clone | virt-clone-reflink)
            case $tool in
                domclone) cmd=("$DOMCLONE" "$dom") ;;
                domclone-linked) cmd=("$DOMCLONE" --linked "$dom") ;;
                domclone-base) cmd=("$BASELINE" "$dom") ;;
                domclone-linked-base) cmd=("$BASELINE" --linked "$dom") ;;
                virt-clone) cmd=(virt-clone --original "$dom" --auto-clone) ;;
                virt-clone-reflink) cmd=(virt-clone --original "$dom" --auto-clone --reflink) ;;
            esac
            # a template's disks are read-only: virt-clone would share them
            if [[ $id == e && $tool == virt-clone ]]; then
                cmd+=(--force-copy vda --force-copy vdb --force-copy vdc --force-copy vdd)
            fi
            kind=virt-clone
            [[ $tool == domclone* ]] && kind=domclone
            sync
            used0=$(fs_used_bytes "$dir")
            timed_clone "$kind" "$TMP" "${cmd[@]}"
            secs=$CLONE_SECONDS
            name=$CLONE_NAME
            if ((CLONE_RC != 0)) || [[ -z $name ]]; then
                fail "$key" "$tool failed on $dom (exit $CLONE_RC)" "$err"
                if [[ -n $name ]]; then remove_clone "$name" "${src[@]}" || true; fi
                check_leftovers "$id" "$tool"
                return 0
            fi
            while IFS= read -r f; do
                sh=0
                for s in "${src[@]}"; do [[ $f == "$s" ]] && sh=1; done
                ((sh)) || files+=("$f")
            done < <(domain_disk_paths "$name")
            R_MEM[$key]+="$CLONE_KIB "
            ;;
        domclone-linked-100 | baseline-linked-100)
            # issue 18: a batch of 100 linked clones in one call
            p=$DOMCLONE
            [[ $tool == baseline-* ]] && p=$BASELINE
            sync
            used0=$(fs_used_bytes "$dir")
            timed_clone domclone "$TMP" "$p" --linked --count 100 "$dom"
            secs=$CLONE_SECONDS
            mapfile -t batch < <(comm -13 <(printf '%s\n' "$DOMAINS") <(virsh -q list --all --name | sort) | grep .)
            if ((CLONE_RC != 0 || ${#batch[@]} != 100)); then
                fail "$key" "$tool failed on $dom (exit $CLONE_RC, ${#batch[@]} clones)" "$err"
                check_leftovers "$id" "$tool"
                return 0
            fi
            for name in "${batch[@]}"; do
                while IFS= read -r f; do
                    sh=0
                    for s in "${src[@]}"; do [[ $f == "$s" ]] && sh=1; done
                    ((sh)) || files+=("$f")
                done < <(domain_disk_paths "$name")
            done
            name=
            R_MEM[$key]+="$CLONE_KIB "
            ;;
        cp+sync | cp-reflink+sync)
            mode=--sparse=always
            [[ $tool == cp-reflink+sync ]] && mode=--reflink=always
            for f in "${src[@]}"; do dst+=("$(dirname -- "$f")/bench-cp-$(basename -- "$f")"); done
            : >"$err"
            drop_caches
            used0=$(fs_used_bytes "$dir")
            t0=$EPOCHREALTIME
            for ((p = 0; p < ${#src[@]}; p++)); do
                cp "$mode" -- "${src[p]}" "${dst[p]}" 2>>"$err" &
                pids+=($!)
            done
            for p in "${pids[@]}"; do wait "$p" || rc=$?; done
            ((rc != 0)) || sync -- "${dst[@]}" 2>>"$err" || rc=$?
            t1=$EPOCHREALTIME
            secs=$(elapsed "$t0" "$t1")
            files=("${dst[@]}")
            if ((rc != 0)); then
                fail "$key" "$tool failed on ${C_FILES[$id]} (exit $rc)" "$err"
                rm -f -- "${dst[@]}"
                return 0
            fi
            ;;
    esac
    R_TIMES[$key]+="$secs "
    # Outside the timed part: what flushing the clone's files still costs
    # once the tool has exited (near 0 if it flushed them itself)...
    t0=$EPOCHREALTIME
    sync -- "${files[@]}"
    t1=$(elapsed "$t0" "$EPOCHREALTIME")
    R_DEBT[$key]+="$t1 "
    R_DUR[$key]+="$(awk -v a="$secs" -v b="$t1" 'BEGIN { printf "%.4f", a + b }') "
    # ...and the space (sync first: what reached the disk).
    sync -f -- "$dir"
    used1=$(fs_used_bytes "$dir")
    R_ALLOC[$key]=$(allocated_bytes "${files[@]}")
    R_GROWTH[$key]=$((used1 - used0))
    if ((C_XFS[$id])); then R_SHARED[$key]=$(shared_bytes "${files[@]}"); fi
    if [[ -n $name ]]; then
        remove_clone "$name" "${src[@]}" || fail "$key" "cannot remove clone $name" "$err"
    elif ((${#batch[@]})); then
        # one virsh for the whole batch
        {
            printf 'undefine --nvram %s\n' "${batch[@]}"
            printf 'vol-delete %s\n' "${files[@]}"
        } | virsh -q >/dev/null 2>>"$err" || true
    else
        rm -f -- "${files[@]}"
    fi
    check_leftovers "$id" "$tool"
    note "  $id run $r: $tool $secs s"
}

# round_order R TOOL...: the tools in the order round R runs them: with
# --baseline, every other round runs each baseline tool before its
# counterpart, so neither always runs first after the other tools'
# clean-up (deleting the last round's copies).
round_order() {
    local r=$1 t
    shift
    if [[ -z $BASELINE ]] || ((r % 2)); then
        printf '%s\n' "$@"
        return 0
    fi
    for t in "$@"; do
        case $t in
            domclone) printf '%s\n' domclone-base domclone ;;
            domclone-linked) printf '%s\n' domclone-linked-base domclone-linked ;;
            domclone-base | domclone-linked-base) ;;
            *) printf '%s\n' "$t" ;;
        esac
    done
}

# ---------------------------------------------------------------------------
# Report

declare -A SRC_ALLOC

print_case() {
    local id=$1 tool key m base src_alloc
    local -a t
    printf '\nCase %s: %s (domain %s, pool %s)\n' "$id" "${C_TITLE[$id]}" "${C_DOM[$id]}" "${C_DIR[$id]}"
    if [[ -n ${C_SKIP[$id]:-} ]]; then
        printf '  SKIPPED: %s\n' "${C_SKIP[$id]}"
        return 0
    fi
    src_alloc=${SRC_ALLOC[$id]}
    printf '  source: %s disk(s), allocated %s B (%s)\n' "$(wc -w <<<"${C_FILES[$id]}")" \
        "$src_alloc" "$(human "$src_alloc")"
    read -ra t <<<"${R_TIMES[$id|cp+sync]:-}"
    base=$(median "${t[@]}")
    if ((C_XFS[$id])); then
        printf '  %-26s %9s %-36s %8s %7s %9s %-26s %7s %-24s %s\n' tool 'median s' 'runs (s)' \
            'x cp+sync' 'sync s' 'peak KiB' 'clone allocated' 'x src' 'fs used growth' 'shared extents'
    else
        printf '  %-26s %9s %-36s %8s %7s %9s %-26s %7s\n' tool 'median s' 'runs (s)' \
            'x cp+sync' 'sync s' 'peak KiB' 'clone allocated' 'x src'
    fi
    if ! have_virt_clone; then printf '  %-26s not installed\n' virt-clone; fi
    for tool in ${C_TOOLS[$id]}; do
        key="$id|$tool"
        if [[ -n ${R_ERR[$key]:-} ]]; then
            printf '  %-26s FAILED: %s\n' "$tool" "${R_ERR[$key]}"
            continue
        fi
        read -ra t <<<"${R_TIMES[$key]:-}"
        m=$(median "${t[@]}")
        local mem=- alloc=${R_ALLOC[$key]:-}
        local -a d
        read -ra d <<<"${R_DEBT[$key]:-}"
        local debt
        debt=$(median "${d[@]}")
        if [[ -n ${R_MEM[$key]:-} ]]; then
            # shellcheck disable=SC2086
            mem=$(max ${R_MEM[$key]})
        fi
        local label=$tool
        case $tool in
            virt-clone-reflink) label="virt-clone --reflink" ;;
            cp+sync) label="cp --sparse=always+sync" ;;
            cp-reflink+sync) label="cp --reflink=always+sync" ;;
        esac
        if ((C_XFS[$id])); then
            printf '  %-26s %9.3f %-36s %8s %7s %9s %-26s %7s %-24s %s\n' "$label" "$m" "$(runs_list "${t[@]}")" \
                "$(ratio "$m" "$base")" "$debt" "$mem" "$alloc ($(human "$alloc"))" \
                "$(ratio "$alloc" "$src_alloc")" \
                "${R_GROWTH[$key]} ($(human "${R_GROWTH[$key]}"))" \
                "${R_SHARED[$key]} ($(human "${R_SHARED[$key]}"))"
        else
            printf '  %-26s %9.3f %-36s %8s %7s %9s %-26s %7s\n' "$label" "$m" "$(runs_list "${t[@]}")" \
                "$(ratio "$m" "$base")" "$debt" "$mem" "$alloc ($(human "$alloc"))" \
                "$(ratio "$alloc" "$src_alloc")"
        fi
    done
    for tool in ${C_TOOLS[$id]}; do
        if [[ -n ${R_LEFT[$id|$tool]:-} ]]; then
            printf '  WARNING: %s left behind (removed by the benchmark): %s\n' "$tool" "${R_LEFT[$id|$tool]}"
        fi
    done
    if ((C_XFS[$id])) && ((${R_SHARED[$id|cp+sync]:-0} > 0)); then
        printf '  note: cp --sparse=always reflinked here (coreutils >= 9.0 tries a reflink first), so cp+sync is a reflink on XFS too\n'
    fi
}

# med ID TOOL: the median seconds of TOOL on case ID, or "" if none.
med() {
    local -a t
    [[ -z ${R_ERR[$1|$2]:-} && -n ${R_TIMES[$1|$2]:-} ]] || return 0
    read -ra t <<<"${R_TIMES[$1|$2]}"
    median "${t[@]}"
}

# flush_note ID LIMIT: if domclone left a flush of its files undone on case
# ID worth more than 10% of its time, say what its time would be with it,
# against LIMIT (the target's bound, seconds).
flush_note() {
    local id=$1 lim=$2
    local -a d
    read -ra d <<<"${R_DEBT[$id|domclone]:-}"
    local debt dc dur
    debt=$(median "${d[@]}")
    dc=$(med "$id" domclone)
    [[ $debt != n/a && -n $dc ]] || return 0
    if awk -v d="$debt" -v t="$dc" 'BEGIN { exit !(d > 0.1 * t && d > 0.01) }'; then
        read -ra d <<<"${R_DUR[$id|domclone]}"
        dur=$(median "${d[@]}")
        printf '            but domclone exited with its data not yet on disk: a sync of its files then took %s s (median);\n' "$debt"
        printf '            with that flush it takes %s s, %s the bound %s s\n' "$dur" \
            "$(le "$dur" "$lim" && echo within || echo over)" "$lim"
    fi
}

# base_note ID TOOL LABEL REF: with --baseline, the baseline's median on
# case ID (its TOOL: domclone-base or domclone-linked-base) beside this
# build's (TOOL without -base), and against REF (LABEL names it).
base_note() {
    local id=$1 tool=$2 label=$3 ref=$4 b now
    [[ -n $BASELINE ]] || return 0
    b=$(med "$id" "$tool")
    now=$(med "$id" "${tool%-base}")
    [[ -n $b ]] || {
        printf '            before (--baseline): failed\n'
        return 0
    }
    printf '            before (--baseline): %s s (%s x %s); this build / before = %s\n' "$b" \
        "$(ratio "$b" "$ref")" "$label" "$(ratio "${now:-n/a}" "$b")"
}

verdict() { # COND(0/1) TEXT
    if (($1)); then printf '  MET       %s\n' "$2"; else printf '  NOT MET   %s\n' "$2"; fi
}
not_evaluated() { printf '  NOT EVAL. %s\n' "$1"; }

# Case e, issue 9: a linked clone in under 0.1 s, against the floor of any
# domclone run (domclone --version, cold: process and libvirt client
# library start), the full clones and the bytes it added.
print_linked_target() {
    local dc full vc floor ok alloc growth
    local -a ft
    read -ra ft <<<"${FLOOR_TIMES:-}"
    dc=$(med e domclone-linked)
    full=$(med e domclone)
    vc=$(med e virt-clone)
    floor=$(median "${ft[@]}")
    if [[ -z $dc ]]; then
        not_evaluated "e linked clone of a template: domclone --linked failed"
        return 0
    fi
    alloc=${R_ALLOC[e|domclone-linked]}
    growth=${R_GROWTH[e|domclone-linked]}
    ok=0
    lt "$dc" 0.1 && ok=1
    verdict "$ok" "e linked clone, four 20 GiB qcow2: domclone --linked $dc s < 0.1 s: $( ((ok)) && echo yes || echo no); the clone added $alloc B ($(human "$alloc")) of files, fs used growth $growth B ($(human "$growth"))"
    printf '            full domclone clone %s s (x%s of linked), virt-clone --force-copy %s s (x%s of linked)\n' \
        "${full:-n/a}" "$(ratio "${full:-n/a}" "$dc")" "${vc:-n/a}" "$(ratio "${vc:-n/a}" "$dc")"
    printf '            floor: domclone --version %s s (median, cold cache; runs: %s)\n' "$floor" \
        "$(runs_list "${ft[@]}")"
    base_note e domclone-linked-base "0.1 s" 0.1
    if [[ -n $BASELINE ]]; then
        read -ra ft <<<"${BASE_FLOOR_TIMES:-}"
        printf '            floor before (--baseline --version): %s s\n' "$(median "${ft[@]}")"
    fi
    if ! ((ok)) && lt "$(awk -v a="$dc" -v b="$floor" 'BEGIN { printf "%.4f", a - b }')" 0.1; then
        printf '            above 0.1 s by the start-up floor: the clone itself took %s s more than domclone --version\n' \
            "$(awk -v a="$dc" -v b="$floor" 'BEGIN { printf "%.4f", a - b }')"
    fi
    local b100
    b100=$(med e domclone-linked-100)
    if [[ -z $b100 ]]; then
        not_evaluated "e 100 linked clones (--linked --count 100): domclone failed"
    else
        ok=0
        lt "$b100" 5 && ok=1
        verdict "$ok" "e 100 linked clones, four 20 GiB qcow2 each (--linked --count 100): domclone $b100 s < 5 s: $( ((ok)) && echo yes || echo no) ($(awk -v v="$b100" 'BEGIN { printf "%.4f", v / 100 }') s a clone)"
    fi
    if [[ -n $BASELINE ]]; then
        local base
        base=$(med e baseline-linked-100)
        printf '            before/after, alternating in the same rounds: baseline %s s (%s), this %s s: x%s faster
' \
            "${base:-n/a}" "$BASELINE" "${b100:-n/a}" "$(ratio "${base:-n/a}" "${b100:-n/a}")"
    fi
}

print_targets() {
    local dc vc cp ok alloc src lim id growth shared
    printf '\nTargets (issues 7 and 9), medians of %s runs, caches dropped before each run\n' "$RUNS"

    if wanted a; then
        dc=$(med a domclone)
        vc=$(med a virt-clone)
        if [[ -z $dc ]]; then
            not_evaluated "empty qcow2 <= 0.1x virt-clone: domclone failed"
        elif ! have_virt_clone; then
            not_evaluated "empty qcow2 <= 0.1x virt-clone: virt-clone not installed (domclone $dc s)"
        elif [[ -z $vc ]]; then
            not_evaluated "empty qcow2 <= 0.1x virt-clone: virt-clone failed (domclone $dc s)"
        else
            lim=$(awk -v v="$vc" 'BEGIN { printf "%.4f", v * 0.1 }')
            ok=0
            le "$dc" "$lim" && ok=1
            verdict "$ok" "empty qcow2: domclone $dc s <= 0.1 x virt-clone $vc s = $lim s (ratio $(ratio "$dc" "$vc"))"
            base_note a domclone-base virt-clone "$vc"
        fi
    fi

    if wanted b; then
        dc=$(med b domclone)
        cp=$(med b cp+sync)
        if [[ -z $dc || -z $cp ]]; then
            not_evaluated "8 GiB raw: a tool failed"
        else
            lim=$(awk -v v="$cp" 'BEGIN { printf "%.4f", v * 1.3 }')
            alloc=${R_ALLOC[b|domclone]}
            src=${SRC_ALLOC[b]}
            ok=0
            le "$dc" "$lim" && ((alloc <= src)) && ok=1
            verdict "$ok" "8 GiB raw: domclone $dc s <= 1.3 x cp+sync $cp s = $lim s (ratio $(ratio "$dc" "$cp")): $(le "$dc" "$lim" && echo yes || echo no); clone allocation $alloc B <= source $src B: $( ((alloc <= src)) && echo yes || echo no)"
            flush_note b "$lim"
        fi
    fi

    if wanted c; then
        dc=$(med c domclone)
        cp=$(med c cp+sync)
        if [[ -z $dc || -z $cp ]]; then
            not_evaluated "four qcow2: a tool failed"
        else
            lim=$(awk -v v="$cp" 'BEGIN { printf "%.4f", v * 1.1 }')
            ok=0
            le "$dc" "$lim" && ok=1
            verdict "$ok" "four qcow2: domclone $dc s <= 1.1 x parallel cp+sync $cp s = $lim s (ratio $(ratio "$dc" "$cp"))"
            flush_note c "$lim"
            base_note c domclone-base cp+sync "$cp"
        fi
    fi

    for id in d1 d2; do
        wanted "$id" || continue
        if [[ -n ${C_SKIP[$id]:-} ]]; then
            not_evaluated "$id ${C_TITLE[$id]}: skipped (${C_SKIP[$id]})"
            continue
        fi
        dc=$(med "$id" domclone)
        if [[ -z $dc ]]; then
            not_evaluated "$id ${C_TITLE[$id]}: domclone failed"
            continue
        fi
        src=${SRC_ALLOC[$id]}
        growth=${R_GROWTH[$id|domclone]}
        alloc=${R_ALLOC[$id|domclone]}
        shared=${R_SHARED[$id|domclone]}
        local fast=0 near0=0 sh=0
        lt "$dc" 0.1 && fast=1
        # "near 0": at most 5% of the source's allocation.
        ((growth * 20 <= src)) && near0=1
        # shared: at least 95% of the clone's allocated bytes are in extents
        # filefrag flags "shared".
        ((alloc > 0 && shared * 20 >= alloc * 19)) && sh=1
        ok=$((fast && near0 && sh))
        verdict "$ok" "$id ${C_TITLE[$id]}: domclone $dc s < 0.1 s: $( ((fast)) && echo yes || echo no); fs used growth $growth B ($(human "$growth")) <= 5% of source's $src B: $( ((near0)) && echo yes || echo no); shared extents (filefrag -v) $shared of $alloc B allocated: $( ((sh)) && echo yes || echo no)"
        flush_note "$id" 0.1
        base_note "$id" domclone-base "cp --sparse=always+sync" "$(med "$id" cp+sync)"
    done

    if wanted e; then
        print_linked_target
    fi

    local all=() k
    for k in "${!R_MEM[@]}"; do
        [[ $k == *"|domclone" ]] || continue
        # shellcheck disable=SC2206
        all+=(${R_MEM[$k]})
    done
    if ((${#all[@]} == 0)); then
        not_evaluated "peak memory < 32 MiB: no domclone run succeeded"
    else
        local peak
        peak=$(max "${all[@]}")
        ok=0
        ((peak < 32768)) && ok=1
        verdict "$ok" "peak memory of domclone < 32 MiB: max $peak KiB ($(human $((peak * 1024)))) over ${#all[@]} runs (/usr/bin/time -f %M)"
    fi
}

# ---------------------------------------------------------------------------

machine_info "$DOMCLONE" "$STATE"
printf '  XFS pool:    %s\n' "mkfs.xfs -m reflink=1 on a 64 GiB sparse image on a loop device, under the state dir"
printf '  runs:        %s per tool and case, caches dropped before each (sync; echo 3 > /proc/sys/vm/drop_caches)\n' "$RUNS"

setup_sources
for id in "${CASES[@]}"; do
    if [[ -n ${C_SKIP[$id]:-} ]]; then continue; fi
    # shellcheck disable=SC2086
    SRC_ALLOC[$id]=$(allocated_bytes ${C_FILES[$id]})
done

for id in "${CASES[@]}"; do
    if [[ -n ${C_SKIP[$id]:-} ]]; then continue; fi
    note "case $id: ${C_TITLE[$id]}"
    for ((r = 1; r <= RUNS; r++)); do
        # shellcheck disable=SC2086 # C_TOOLS holds words
        for tool in $(round_order "$r" ${C_TOOLS[$id]}); do
            run_one "$id" "$tool" "$r"
        done
    done
done

# The floor under every domclone run: start, load the libvirt client
# library, exit; cold cache like the clones.
FLOOR_TIMES=""
BASE_FLOOR_TIMES=""
if wanted e; then
    for ((r = 1; r <= RUNS; r++)); do
        drop_caches
        t0=$EPOCHREALTIME
        "$DOMCLONE" --version >/dev/null
        FLOOR_TIMES+="$(elapsed "$t0" "$EPOCHREALTIME") "
        if [[ -n $BASELINE ]]; then
            drop_caches
            t0=$EPOCHREALTIME
            "$BASELINE" --version >/dev/null
            BASE_FLOOR_TIMES+="$(elapsed "$t0" "$EPOCHREALTIME") "
        fi
    done
fi

for id in "${CASES[@]}"; do print_case "$id"; done
print_targets
printf '\n(ratios: tool median / cp --sparse=always+sync median; "sync s": median seconds of a "sync FILE..." of the\n'
printf ' clone'"'"'s files right after the tool exited, not timed (near 0 when the tool flushed them itself);\n'
printf ' "x src": clone allocation / source allocation;\n'
printf ' times from process start to exit; domclone and virt-clone run under /usr/bin/time (about 1 ms more))\n'

if ((FAILED)); then
    msg "some runs failed (see FAILED above)"
    exit 1
fi
exit 0
