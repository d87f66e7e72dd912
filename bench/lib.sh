# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/lib.sh - helpers shared by bench/clone-vs-peers.sh and bench/scale.sh.
# Sourced, not run. Expects PROG (the script's name) to be set.

export LC_ALL=C

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    msg "$*"
    exit 1
}

# require_tools "tool:package" ...: fail with one message naming every
# missing package. A tool is a command name or an absolute path.
require_tools() {
    local spec tool pkg missing=() p
    for spec in "$@"; do
        tool=${spec%%:*}
        pkg=${spec#*:}
        if [[ $tool == /* ]]; then
            [[ -x $tool ]] && continue
        elif command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] || [[ -x /sbin/$tool ]]; then
            continue
        fi
        missing+=("$tool (Debian package $pkg)")
    done
    if ((${#missing[@]})); then
        msg "missing tools needed by this benchmark:"
        for p in "${missing[@]}"; do msg "  $p"; done
        msg "install them with: apt-get install --no-install-recommends <packages> (see bench/README.md)"
        exit 1
    fi
}

# have_virt_clone: is virt-clone (package virtinst) installed?
have_virt_clone() { command -v virt-clone >/dev/null 2>&1; }

# Re-execute the calling script ($1, then its arguments) under
# tests/with-libvirtd.sh, unless already inside it.
reexec_under_private_daemon() {
    local self=$1 repo
    shift
    if [[ ${DOMCLONE_BENCH_INSIDE:-} == 1 ]]; then
        [[ -n ${DOMCLONE_TEST_STATE:-} && -n ${LIBVIRT_DEFAULT_URI:-} ]] ||
            die "DOMCLONE_BENCH_INSIDE=1 but not under tests/with-libvirtd.sh"
        return 0
    fi
    ((EUID == 0)) || die "run as root: the benchmark drops the page cache and uses a root libvirtd in a private namespace"
    repo=$(dirname -- "$(dirname -- "$self")")
    [[ -x $repo/tests/with-libvirtd.sh ]] || die "$repo/tests/with-libvirtd.sh not found"
    export DOMCLONE_BENCH_INSIDE=1
    exec "$repo/tests/with-libvirtd.sh" -- "$self" "$@"
}

# fill_extents FILE SIZE_MIB DATA_MIB SEED: a sparse file of SIZE_MIB holding
# DATA_MIB of pseudo-random data in 8 MiB extents, one in each of
# DATA_MIB/8 equal slices, at a varying place inside its slice.
fill_extents() {
    local file=$1 size=$2 data=$3 seed=$4 ext=8 n stride i off
    n=$((data / ext))
    stride=$((size / n))
    rm -f -- "$file"
    truncate -s "${size}M" -- "$file"
    {
        for ((i = 0; i < n; i++)); do
            off=$((i * stride + (i * 37 % (stride - ext + 1))))
            dd of="$file" bs=1M seek="$off" count="$ext" iflag=fullblock \
                conv=notrunc status=none
        done
    } < <(openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$seed")" \
        -iv 0 -in /dev/zero 2>/dev/null)
}

drop_caches() {
    sync
    echo 3 >/proc/sys/vm/drop_caches
}

# Seconds between two $EPOCHREALTIME values.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }

# median NUMBER...: the median (mean of the two middle values for an even
# count); "n/a" for none.
median() {
    (($#)) || {
        printf 'n/a'
        return 0
    }
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) printf "%.4f", v[(NR + 1) / 2];
              else printf "%.4f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# runs_list SECONDS...: "0.123 0.456 ..."
runs_list() { printf '%s\n' "$@" | awk '{ printf "%s%.3f", (NR > 1 ? " " : ""), $1 }'; }

# max NUMBER...
max() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# ratio A B: A/B with two decimals, "n/a" if either is missing or B is 0.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "n/a" || b == "n/a" || a == "" || b == "" || b + 0 == 0) printf "n/a";
        else printf "%.2f", a / b }'
}

# le A B: is A <= B (numbers)?
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

# human BYTES: "536870912 (512.0 MiB)"
human() {
    awk -v b="$1" 'BEGIN {
        if (b == "" || b == "n/a") { printf "n/a"; exit }
        split("B KiB MiB GiB TiB", u, " "); v = b; i = 1
        while ((v >= 1024 || v <= -1024) && i < 5) { v /= 1024; i++ }
        printf "%.1f %s", v, u[i] }'
}

# clone_name_from OUTPUT_FILE: the B of domclone's "Cloned from A to B." line
# (or "... to B while it ran (...)." for --live).
clone_name_from() {
    sed -n 's/^Cloned from .* to \([^ ]*\)\( while it ran (.*)\)\{0,1\}\.$/\1/p' -- "$1" | tail -n 1
}

# virt_clone_name_from OUTPUT_FILE: the X of "Clone 'X' created successfully."
virt_clone_name_from() {
    sed -n "s/^Clone '\\(.*\\)' created successfully\\.\$/\\1/p" -- "$1" | tail -n 1
}

# domain_disk_paths DOMAIN: source paths of the domain's disks and floppies
# (not cdroms), one a line.
domain_disk_paths() {
    virsh -q domblklist --details "$1" |
        awk '($2 == "disk" || $2 == "floppy") && $4 != "-" && $4 != "" { print $4 }'
}

# remove_clone CLONE SOURCE_PATH...: undefine CLONE (with its NVRAM) and
# delete the volumes of its disks, except those that are one of the source's
# paths (shared disks). Never --remove-all-storage: it would delete shared
# media. Returns non-zero if something could not be removed.
remove_clone() {
    local clone=$1 p s shared rc=0 paths=()
    shift
    virsh -q dominfo "$clone" >/dev/null 2>&1 || return 0
    while IFS= read -r p; do
        shared=0
        for s in "$@"; do [[ $p == "$s" ]] && shared=1; done
        ((shared)) || paths+=("$p")
    done < <(domain_disk_paths "$clone")
    if ! virsh -q undefine --nvram "$clone" >/dev/null; then
        msg "could not undefine $clone"
        rc=1
    fi
    for p in "${paths[@]}"; do
        if ! virsh -q vol-delete "$p" >/dev/null 2>&1; then
            # The pool may not know it yet (a file made behind its back).
            refresh_pools
            if ! virsh -q vol-delete "$p" >/dev/null; then
                msg "could not delete volume $p; removing the file"
                rm -f -- "$p" || rc=1
            fi
        fi
    done
    return "$rc"
}

refresh_pools() {
    local pool
    while IFS= read -r pool; do
        if [[ -n $pool ]]; then virsh -q pool-refresh "$pool" >/dev/null 2>&1 || true; fi
    done < <(virsh -q pool-list --name)
}

# allocated_bytes FILE...: sum of the files' allocated bytes.
allocated_bytes() {
    (($#)) || {
        printf 0
        return 0
    }
    du --block-size=1 -c -- "$@" | tail -n 1 | cut -f1
}

# fs_used_bytes DIR: used bytes of DIR's file system.
fs_used_bytes() { df -B1 --output=used -- "$1" | tail -n 1 | tr -d ' '; }

# shared_bytes FILE...: bytes of the files' extents that filefrag flags
# "shared" (reflinked: they share blocks with another file).
shared_bytes() {
    local f total=0 n
    for f in "$@"; do
        n=$(filefrag -v -- "$f" | awk -F: '
            /blocks of [0-9]+ bytes/ { bs = $0; sub(/.*blocks of /, "", bs); sub(/ bytes.*/, "", bs) }
            /^ *[0-9]+:/ && /shared/ { len += $4 + 0 }
            END { printf "%d", len * bs }')
        total=$((total + n))
    done
    printf '%s' "$total"
}

# machine_info DOMCLONE STATE_DIR: what this ran on.
machine_info() {
    local dc=$1 state=$2 commit srcdir
    printf 'Machine\n'
    printf '  date:        %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    printf '  nproc:       %s\n' "$(nproc)"
    printf '  memory:      %s\n' "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    printf '  load:        %s (1, 5, 15 min averages, when the tables were printed)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '  kernel:      %s\n' "$(uname -sr)"
    printf '  os:          %s\n' "$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release 2>/dev/null)"
    printf '  state dir:   %s (%s)\n' "$state" "$(df --output=fstype -- "$state" | tail -n 1)"
    printf '  libvirt:     %s\n' "$(virsh -q version --daemon 2>/dev/null | awk -F': *' '/running hypervisor|daemon/ { printf "%s%s", sep, $0; sep = "; " }')"
    printf '  QEMU:        %s\n' "$(qemu-system-x86_64 --version 2>/dev/null | head -n 1)"
    printf '  qemu-img:    %s\n' "$(qemu-img --version 2>/dev/null | head -n 1)"
    printf '  cp:          %s\n' "$(cp --version | head -n 1)"
    if have_virt_clone; then
        printf '  virt-clone:  %s\n' "$(virt-clone --version 2>&1 | head -n 1)"
    else
        printf '  virt-clone:  not installed\n'
    fi
    srcdir=$(dirname -- "$dc")
    if commit=$(git -C "$srcdir" describe --always --dirty --abbrev=12 2>/dev/null); then
        commit="$commit ($(git -C "$srcdir" log -1 --format='%s' 2>/dev/null))"
    else
        commit="unknown (not in a git tree)"
    fi
    printf '  domclone:    %s, built %s\n' "$dc" "$(date -u -r "$dc" '+%Y-%m-%d %H:%M:%S UTC')"
    printf '  source tree: git %s (the tree the binary sits in)\n' "$commit"
}

# timed_clone KIND DIR CMD...: drop the caches, then run CMD (a domclone or a
# virt-clone command line, KIND "domclone" or "virt-clone") under
# /usr/bin/time -f %M, its stdout/stderr in DIR/out and DIR/err. Sets
# CLONE_SECONDS (process start to exit), CLONE_KIB (peak RSS), CLONE_RC and
# CLONE_NAME (parsed from the tool's success line; empty if none).
# (Those globals are for the caller:)
# shellcheck disable=SC2034
timed_clone() {
    local kind=$1 dir=$2 t0 t1
    shift 2
    CLONE_RC=0
    CLONE_NAME=
    CLONE_KIB=
    drop_caches
    t0=$EPOCHREALTIME
    /usr/bin/time -f %M -o "$dir/mem" "$@" </dev/null >"$dir/out" 2>"$dir/err" || CLONE_RC=$?
    t1=$EPOCHREALTIME
    CLONE_SECONDS=$(elapsed "$t0" "$t1")
    CLONE_KIB=$(tail -n 1 -- "$dir/mem")
    [[ $CLONE_KIB =~ ^[0-9]+$ ]] || CLONE_KIB=
    if [[ $kind == domclone ]]; then
        CLONE_NAME=$(clone_name_from "$dir/out")
    else
        CLONE_NAME=$(virt_clone_name_from "$dir/out")
    fi
}

# last_lines FILE: the last 3 non-empty lines of FILE on one line.
last_lines() { grep -v '^[[:space:]]*$' -- "$1" 2>/dev/null | tail -n 3 | tr '\n' ' '; }

# The options both scripts take: --runs N, --domclone PATH, --baseline
# PATH (another domclone build, timed in the same rounds: before and after
# side by side), --help (the caller's usage). Sets RUNS, DOMCLONE (an
# absolute path) and BASELINE (empty without one); needs REPO.
# shellcheck disable=SC2153 # REPO is set by the sourcing script
parse_args() {
    RUNS=5
    DOMCLONE=$REPO/build/domclone
    BASELINE=
    while (($#)); do
        case $1 in
            --baseline)
                (($# >= 2)) || die "--baseline needs a path"
                BASELINE=$2
                shift 2
                ;;
            --baseline=*)
                BASELINE=${1#--baseline=}
                shift
                ;;
            --runs)
                (($# >= 2)) || die "--runs needs a number"
                RUNS=$2
                shift 2
                ;;
            --runs=*)
                RUNS=${1#--runs=}
                shift
                ;;
            --domclone)
                (($# >= 2)) || die "--domclone needs a path"
                DOMCLONE=$2
                shift 2
                ;;
            --domclone=*)
                DOMCLONE=${1#--domclone=}
                shift
                ;;
            -h | --help)
                usage
                exit 0
                ;;
            *) die "unknown argument: $1 (see --help)" ;;
        esac
    done
    [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive number"
    [[ -x $DOMCLONE ]] || die "$DOMCLONE is not an executable (build it: scripts/build.sh $REPO/build)"
    DOMCLONE=$(readlink -f -- "$DOMCLONE")
    if [[ -n $BASELINE ]]; then
        [[ -x $BASELINE ]] || die "$BASELINE (--baseline) is not an executable"
        BASELINE=$(readlink -f -- "$BASELINE")
    fi
}

# forward_args: the options to hand to the re-executed script (RUNS,
# DOMCLONE and BASELINE as parsed).
forward_args() {
    FORWARD=(--runs "$RUNS" --domclone "$DOMCLONE")
    if [[ -n $BASELINE ]]; then FORWARD+=(--baseline "$BASELINE"); fi
}
