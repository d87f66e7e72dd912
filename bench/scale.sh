#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# scale.sh - time one clone with 10 and with 1000 other domains defined on
# the connection (issue 7: at most 1.5x), side by side in one run.
#
# Usage:
#   bench/scale.sh [--runs N] [--domclone PATH] [--baseline PATH]
#
#   --runs N         runs of each tool at each size (default 5); medians
#   --domclone PATH  the binary to time (default: build/domclone of this tree)
#   --baseline PATH  another domclone build, timed in the same rounds
#                    ("domclone-base", with its own ratio)
#
# Run as root. It re-executes itself under tests/with-libvirtd.sh (a private
# libvirtd in a private mount + PID namespace), then defines:
#   scale-src          the source: type='qemu', shut off, one empty 16 MiB
#                      qcow2 in a dir pool, one interface with a MAC
#   scale-other-NNNN   K other shut-off domains, no disk, one interface each
#                      with its own MAC (so domclone has MACs to avoid)
# with K = 10 and K = 1000 (so 11 and 1001 domains in all). The K other
# domains are defined in one batch: one virsh reading "define FILE" lines on
# stdin (about a second for 990, where a virsh per domain takes a minute).
#
# The sizes alternate to share the machine's noise: 10, 1000, 1000, 10, 10,
# 1000, ... (990 domains defined or undefined in one batch between). Each
# run: "sync; echo 3 > /proc/sys/vm/drop_caches", then "domclone scale-src"
# (and "virt-clone --original scale-src --auto-clone" if virt-clone is
# installed) under /usr/bin/time -f %M, timed from process start to exit; the
# clone is then removed (virsh undefine --nvram, virsh vol-delete).
#
# Prints the machine, a table (median and every run at each size, the ratio
# 1000/10, peak memory), then the targets: domclone's 1000-domain median at
# most 1.5x its 10-domain median; its peak memory under 32 MiB.
#
# Exit status: 0 when every run worked (targets not met included), 1 when a
# run or the set-up failed, 99 when the private daemon did not start.
set -euo pipefail

PROG="scale"
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
BENCH_DIR=$(dirname -- "$SELF")
REPO=$(dirname -- "$BENCH_DIR")
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

usage() { sed -n '/^# scale.sh - /,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; }

parse_args "$@" # sets RUNS and DOMCLONE

require_tools virsh:libvirt-clients libvirtd:libvirt-daemon virtlogd:libvirt-daemon \
    qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils unshare:util-linux \
    /usr/bin/time:time

forward_args
reexec_under_private_daemon "$SELF" "${FORWARD[@]}"

# ---------------------------------------------------------------------------
# Inside the private daemon's namespace from here on.

readonly SMALL=10 LARGE=1000
STATE=$DOMCLONE_TEST_STATE
TMP=$STATE/bench-tmp
POOL_DIR=$STATE/pool
XML_DIR=$TMP/xml
SRC=scale-src
SRC_DISK=$POOL_DIR/scale-src.qcow2
FAILED=0
mkdir -p -- "$TMP" "$POOL_DIR" "$XML_DIR"

note() { printf '%s\n' "$*" >&2; }

# other_xml I: the XML of scale-other-I (4 digits), MAC 52:54:00:5d:HH:LL.
other_xml() {
    local i=$1
    printf '%s\n' "<domain type='qemu'>" "  <name>scale-other-$(printf %04d "$i")</name>" \
        "  <memory unit='MiB'>64</memory>" "  <vcpu>1</vcpu>" \
        "  <os><type arch='x86_64' machine='q35'>hvm</type></os>" \
        "  <devices>" "    <interface type='user'>" \
        "      <mac address='52:54:00:5d:$(printf '%02x:%02x' $((i >> 8)) $((i & 255)))'/>" \
        "      <model type='virtio'/>" "    </interface>" "  </devices>" "</domain>"
}

domain_count() { virsh -q list --all --name | grep -c . || true; }

# batch VERB FROM TO: define or undefine scale-other-FROM..TO with one virsh.
batch() {
    local verb=$1 from=$2 to=$3 i want t0
    t0=$EPOCHREALTIME
    for ((i = from; i <= to; i++)); do
        if [[ $verb == define ]]; then
            printf 'define %s\n' "$XML_DIR/$(printf %04d "$i").xml"
        else
            printf 'undefine scale-other-%04d\n' "$i"
        fi
    done | virsh -q >/dev/null 2>"$TMP/batch.err" || true
    if [[ $verb == define ]]; then want=$((1 + to)); else want=$((from)); fi
    if (($(domain_count) != want)); then
        die "virsh batch $verb of scale-other-$from..$to left $(domain_count) domains, not $want: $(last_lines "$TMP/batch.err")"
    fi
    note "  $verb of $((to - from + 1)) domains in one virsh: $(elapsed "$t0" "$EPOCHREALTIME") s"
}

setup() {
    local i
    note "setting up: pool, source, $LARGE other domains' XML"
    virsh -q pool-define-as scale dir --target "$POOL_DIR" >/dev/null
    virsh -q pool-start scale >/dev/null
    qemu-img create -q -f qcow2 -o compat=1.1 -- "$SRC_DISK" 16M
    virsh -q pool-refresh scale >/dev/null
    printf '%s\n' "<domain type='qemu'>" "  <name>$SRC</name>" \
        "  <memory unit='MiB'>128</memory>" "  <vcpu>1</vcpu>" \
        "  <os><type arch='x86_64' machine='q35'>hvm</type></os>" \
        "  <devices>" "    <disk type='file' device='disk'>" \
        "      <driver name='qemu' type='qcow2'/>" \
        "      <source file='$SRC_DISK'/>" \
        "      <target dev='vda' bus='virtio'/>" "    </disk>" \
        "    <interface type='user'>" "      <mac address='52:54:00:5c:00:00'/>" \
        "      <model type='virtio'/>" "    </interface>" "  </devices>" "</domain>" \
        >"$TMP/$SRC.xml"
    virsh -q define "$TMP/$SRC.xml" >/dev/null
    for ((i = 1; i <= LARGE; i++)); do
        other_xml "$i" >"$XML_DIR/$(printf %04d "$i").xml"
    done
    batch define 1 "$SMALL"
}

TOOLS=(domclone)
if [[ -n $BASELINE ]]; then TOOLS+=(domclone-base); fi
if have_virt_clone; then TOOLS+=(virt-clone); fi
declare -A R_TIMES R_MEM R_ERR

# measure K TOOL
measure() {
    local k=$1 tool=$2 key="$1|$2"
    [[ -z ${R_ERR[$key]:-} ]] || return 0
    ((k + 1 == $(domain_count))) || die "expected $((k + 1)) domains, found $(domain_count)"
    if [[ $tool == domclone ]]; then
        timed_clone domclone "$TMP" "$DOMCLONE" "$SRC"
    elif [[ $tool == domclone-base ]]; then
        timed_clone domclone "$TMP" "$BASELINE" "$SRC"
    else
        timed_clone virt-clone "$TMP" virt-clone --original "$SRC" --auto-clone
    fi
    if ((CLONE_RC != 0)) || [[ -z $CLONE_NAME ]]; then
        R_ERR[$key]="$tool failed with $k other domains (exit $CLONE_RC): $(last_lines "$TMP/err")"
        FAILED=1
        msg "${R_ERR[$key]}"
        if [[ -n $CLONE_NAME ]]; then remove_clone "$CLONE_NAME" "$SRC_DISK" || true; fi
        return 0
    fi
    R_TIMES[$key]+="$CLONE_SECONDS "
    R_MEM[$key]+="$CLONE_KIB "
    if ! remove_clone "$CLONE_NAME" "$SRC_DISK"; then
        die "cannot remove the clone $CLONE_NAME"
    fi
    check_leftovers "$tool"
    note "  K=$k: $tool $CLONE_SECONDS s"
}

# check_leftovers TOOL: the pool must hold the source's disk only.
LEFTOVERS=
check_leftovers() {
    local f
    while IFS= read -r f; do
        [[ -n $f && $f != "$SRC_DISK" ]] || continue
        LEFTOVERS+="$1: $f "
        msg "left over after $1, removed: $f"
        rm -f -- "$f"
        virsh -q pool-refresh scale >/dev/null
    done < <(find "$POOL_DIR" -mindepth 1 -maxdepth 1)
}

# measure_all K ROUND: every tool once; with --baseline, every other
# round times the baseline first
measure_all() {
    local t
    local -a order=("${TOOLS[@]}")
    if [[ -n $BASELINE ]] && (($2 % 2 == 0)); then order=(domclone-base domclone "${TOOLS[@]:2}"); fi
    for t in "${order[@]}"; do measure "$1" "$t"; done
}

med() {
    local -a t
    [[ -z ${R_ERR[$1|$2]:-} && -n ${R_TIMES[$1|$2]:-} ]] || return 0
    read -ra t <<<"${R_TIMES[$1|$2]}"
    median "${t[@]}"
}

report() {
    local tool k m10 m1000 t mem ok peak all=()
    printf '\nOne clone of %s with K other domains defined (K + 1 in all), medians of %s runs\n' "$SRC" "$RUNS"
    printf '  %-13s %6s %9s %-36s %9s\n' tool K 'median s' 'runs (s)' 'peak KiB'
    if ! have_virt_clone; then printf '  %-11s not installed\n' virt-clone; fi
    for tool in "${TOOLS[@]}"; do
        for k in "$SMALL" "$LARGE"; do
            if [[ -n ${R_ERR[$k|$tool]:-} ]]; then
                printf '  %-13s %6s FAILED: %s\n' "$tool" "$k" "${R_ERR[$k|$tool]}"
                continue
            fi
            read -ra t <<<"${R_TIMES[$k|$tool]}"
            # shellcheck disable=SC2086
            mem=$(max ${R_MEM[$k|$tool]})
            printf '  %-13s %6s %9.3f %-36s %9s\n' "$tool" "$k" "$(median "${t[@]}")" \
                "$(runs_list "${t[@]}")" "$mem"
        done
        m10=$(med "$SMALL" "$tool")
        m1000=$(med "$LARGE" "$tool")
        printf '  %-13s %6s %9s\n' "$tool" "ratio" "$(ratio "${m1000:-n/a}" "${m10:-n/a}")x"
    done

    if [[ -n $LEFTOVERS ]]; then
        printf '  WARNING: files left behind (removed by the benchmark): %s\n' "$LEFTOVERS"
    fi

    printf '\nTargets (issue 7)\n'
    m10=$(med "$SMALL" domclone)
    m1000=$(med "$LARGE" domclone)
    if [[ -z $m10 || -z $m1000 ]]; then
        printf '  NOT EVAL. %s domains <= 1.5x %s domains: domclone failed\n' "$LARGE" "$SMALL"
    else
        ok=NOT\ MET
        le "$m1000" "$(awk -v v="$m10" 'BEGIN { printf "%.4f", v * 1.5 }')" && ok=MET
        printf '  %-9s with %s other domains: domclone %s s <= 1.5 x %s s (with %s) = %s s (ratio %s)\n' \
            "$ok" "$LARGE" "$m1000" "$m10" "$SMALL" \
            "$(awk -v v="$m10" 'BEGIN { printf "%.4f", v * 1.5 }')" "$(ratio "$m1000" "$m10")"
    fi
    if [[ -n $BASELINE ]]; then
        m10=$(med "$SMALL" domclone-base)
        m1000=$(med "$LARGE" domclone-base)
        printf '            before (--baseline): %s s with %s, %s s with %s (ratio %s)\n' "${m10:-n/a}" "$SMALL" \
            "${m1000:-n/a}" "$LARGE" "$(ratio "${m1000:-n/a}" "${m10:-n/a}")"
    fi
    for k in "$SMALL" "$LARGE"; do
        # shellcheck disable=SC2206
        all+=(${R_MEM[$k|domclone]:-})
    done
    if ((${#all[@]})); then
        peak=$(max "${all[@]}")
        ok=NOT\ MET
        ((peak < 32768)) && ok=MET
        printf '  %-9s peak memory of domclone < 32 MiB: max %s KiB (%s) over %s runs (/usr/bin/time -f %%M)\n' \
            "$ok" "$peak" "$(human $((peak * 1024)))" "${#all[@]}"
    else
        printf '  NOT EVAL. peak memory of domclone < 32 MiB: no domclone run succeeded\n'
    fi
    printf '\n(times from process start to exit, caches dropped before each run; both tools run under /usr/bin/time)\n'
}

# ---------------------------------------------------------------------------

machine_info "$DOMCLONE" "$STATE"
printf '  runs:        %s per tool and size, caches dropped before each (sync; echo 3 > /proc/sys/vm/drop_caches)\n' "$RUNS"

setup
size=$SMALL
for ((r = 1; r <= RUNS; r++)); do
    note "round $r of $RUNS"
    if ((size == SMALL)); then
        measure_all "$SMALL" "$r"
        batch define $((SMALL + 1)) "$LARGE"
        size=$LARGE
        measure_all "$LARGE" "$r"
    else
        measure_all "$LARGE" "$r"
        batch undefine $((SMALL + 1)) "$LARGE"
        size=$SMALL
        measure_all "$SMALL" "$r"
    fi
done

report
if ((FAILED)); then
    msg "some runs failed (see FAILED above)"
    exit 1
fi
exit 0
