#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# soak.sh - random clone cycles, some killed, some under a daemon restart;
# in the end nothing may be left that a finished clone does not own.
#
# Usage:
#   bench/soak.sh [--seed N] [--domclone PATH] [--time-limit S] CYCLES
#
#   CYCLES           how many cycles to run
#   --time-limit S   start no cycle after S seconds (then the final
#                    checks run; the summary says how many cycles ran)
#   --seed N         seed of the random choices (default: from the clock);
#                    printed first, so a failing run can be replayed
#   --domclone PATH  the binary (default: build/domclone of this tree)
#
# Run as root. It re-executes itself under tests/with-libvirtd.sh (a private
# libvirtd, never the host's), then defines five shut-off sources in a dir
# pool: soak-raw (a raw disk), soak-qcow2 (a qcow2 disk), soak-efi (a qcow2
# disk, UEFI NVRAM outside any pool, an emulated TPM with state), soak-seed
# (a qcow2 disk and a cloud-init NoCloud seed) and soak-tpl (two qcow2
# disks, made a template). Each cycle picks a source and one of: a full
# clone, a --linked clone (of the template), --count 3, or an --exist-ok
# rerun of one of a few fixed names. In about a third of the cycles the run
# is sent SIGKILL or SIGTERM at a random moment; in about one in twelve the
# daemon is killed and restarted at a random moment (SIGTERM or SIGKILL,
# then libvirtd as tests/with-libvirtd.sh started it). After a kill, a
# restart or a failure, "domclone --cleanup SOURCE" runs. After each cycle
# the sources' clone counters are read: they must never go back. Every so
# often (and at the end) every source is cleaned up and checked:
#   - every domain but the sources is a finished clone (no <building>
#     marker), whose disks read the same as its source's (qemu-img
#     compare), whose NVRAM and TPM state are copies of the source's;
#   - no pool but the soak's, no volume, file in the pool or NVRAM
#     directory, NVRAM file in libvirt's directory, TPM state directory or
#     file of domclone's that no domain owns;
# then, except at the end, the clones are deleted.
#
# Prints the seed, then one line per check, then: cycles, kills, restarts,
# clones made, leftovers (must be 0), seconds. Exit status 0 when no
# leftover, no mismatch and no unexpected failure was seen; 1 otherwise;
# 99 when the private daemon did not start.
set -euo pipefail

PROG="soak"
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
BENCH_DIR=$(dirname -- "$SELF")
REPO=$(dirname -- "$BENCH_DIR")
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

usage() { sed -n '/^# soak.sh - /,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; }

SEED=
DOMCLONE=$REPO/build/domclone
CYCLES=
LIMIT=0
while (($#)); do
    case $1 in
        --seed) SEED=${2:?--seed needs a number}; shift 2 ;;
        --seed=*) SEED=${1#--seed=}; shift ;;
        --domclone) DOMCLONE=${2:?--domclone needs a path}; shift 2 ;;
        --domclone=*) DOMCLONE=${1#--domclone=}; shift ;;
        --time-limit) LIMIT=${2:?--time-limit needs seconds}; shift 2 ;;
        --time-limit=*) LIMIT=${1#--time-limit=}; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) die "unknown option: $1 (see --help)" ;;
        *) [[ -z $CYCLES ]] || die "one CYCLES only (see --help)"; CYCLES=$1; shift ;;
    esac
done
[[ $CYCLES =~ ^[1-9][0-9]*$ ]] || die "CYCLES must be a positive number (see --help)"
[[ -z $SEED ]] && SEED=$((${EPOCHREALTIME/[.,]/} % 2147483647))
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed must be a number"
[[ $LIMIT =~ ^[0-9]+$ ]] || die "--time-limit must be a number of seconds"
[[ -x $DOMCLONE ]] || die "$DOMCLONE is not an executable (build it: scripts/build.sh $REPO/build)"
DOMCLONE=$(readlink -f -- "$DOMCLONE")

require_tools virsh:libvirt-clients libvirtd:libvirt-daemon qemu-img:qemu-utils \
    xorriso:xorriso swtpm:swtpm
[[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ]] || die "/usr/share/OVMF/OVMF_CODE_4M.fd not found (Debian package ovmf)"

reexec_under_private_daemon "$SELF" --seed "$SEED" --domclone "$DOMCLONE" --time-limit "$LIMIT" "$CYCLES"

# ---------------------------------------------------------------------------
# Inside the private daemon's namespace from here on.

STATE=$DOMCLONE_TEST_STATE
POOL_DIR=$STATE/pool
NVRAM_DIR=$STATE/nvram
TMP=$STATE/soak-tmp
LIBVIRT_NVRAM=/var/lib/libvirt/qemu/nvram
SWTPM_DIR=/var/lib/libvirt/swtpm
NS=http://domclone.org/xmlns/domclone/1.0
SOURCES=(soak-raw soak-qcow2 soak-efi soak-seed soak-tpl)
mkdir -p -- "$POOL_DIR" "$NVRAM_DIR" "$TMP"

RANDOM=$SEED
printf 'seed %s (replay: bench/soak.sh --seed %s %s)\n' "$SEED" "$SEED" "$CYCLES"

KILLS=0 KILLS_KILL=0 KILLS_TERM=0 RESTARTS=0 CLONES=0 LEFTOVERS=0 PROBLEMS=0
declare -A COUNTER # source -> last counter seen

problem() {
    PROBLEMS=$((PROBLEMS + 1))
    msg "PROBLEM: $*"
}
leftover() {
    LEFTOVERS=$((LEFTOVERS + 1))
    msg "LEFTOVER: $*"
}

# rand N: sets R to a number in 0..N-1, from the seeded generator (never
# in a command substitution: a subshell's RANDOM is not ours).
R=0
rand() { R=$((RANDOM % $1)); }

# --- sources ---------------------------------------------------------------

# data_disk FILE FORMAT MIB: a disk of MIB MiB holding 2 MiB of random data
# at a random offset.
data_disk() {
    local file=$1 fmt=$2 mib=$3 raw=$TMP/data.raw
    truncate -s "${mib}M" -- "$raw"
    rand $((mib - 2))
    head -c 2M /dev/urandom | dd of="$raw" bs=1M seek="$R" conv=notrunc status=none
    qemu-img convert -q -f raw -O "$fmt" -- "$raw" "$file"
    rm -f -- "$raw"
}

# domain_xml NAME DEVICES_XML [OS_EXTRA]: a small type='qemu' domain.
domain_xml() {
    printf '%s\n' "<domain type='qemu'>" "  <name>$1</name>" "  <memory unit='MiB'>128</memory>" \
        "  <vcpu>1</vcpu>" "  <os><type arch='x86_64' machine='q35'>hvm</type>${3:-}</os>" "  <features><acpi/></features>" \
        "  <devices>$2" "    <interface type='user'><model type='virtio'/></interface>" \
        "  </devices>" "</domain>" >"$TMP/$1.xml"
    virsh -q define "$TMP/$1.xml" >/dev/null
}

disk_xml() { # FILE FORMAT TARGET
    printf "<disk type='file' device='disk'><driver name='qemu' type='%s'/><source file='%s'/><target dev='%s' bus='virtio'/></disk>" "$2" "$1" "$3"
}

setup() {
    local seeddir=$TMP/seed
    virsh -q pool-define-as soak dir --target "$POOL_DIR" >/dev/null
    virsh -q pool-start soak >/dev/null
    virsh -q pool-autostart soak >/dev/null

    data_disk "$POOL_DIR/soak-raw.raw" raw 24
    data_disk "$POOL_DIR/soak-qcow2.qcow2" qcow2 48
    data_disk "$POOL_DIR/soak-efi.qcow2" qcow2 32
    data_disk "$POOL_DIR/soak-seed.qcow2" qcow2 32
    data_disk "$POOL_DIR/soak-tpl-a.qcow2" qcow2 32
    data_disk "$POOL_DIR/soak-tpl-b.qcow2" qcow2 16
    mkdir -p -- "$seeddir"
    printf 'instance-id: soak-seed\nlocal-hostname: soak-seed\n' >"$seeddir/meta-data"
    printf '#cloud-config\n{}\n' >"$seeddir/user-data"
    xorriso -as mkisofs -quiet -V cidata -J -r -o "$POOL_DIR/soak-seed-seed.iso" "$seeddir" 2>/dev/null
    cp -- /usr/share/OVMF/OVMF_VARS_4M.fd "$NVRAM_DIR/soak-efi_VARS.fd"
    virsh -q pool-refresh soak >/dev/null

    domain_xml soak-raw "$(disk_xml "$POOL_DIR/soak-raw.raw" raw vda)"
    domain_xml soak-qcow2 "$(disk_xml "$POOL_DIR/soak-qcow2.qcow2" qcow2 vda)"
    domain_xml soak-efi "$(disk_xml "$POOL_DIR/soak-efi.qcow2" qcow2 vda)
    <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>" \
        "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram>$NVRAM_DIR/soak-efi_VARS.fd</nvram>"
    domain_xml soak-seed "$(disk_xml "$POOL_DIR/soak-seed.qcow2" qcow2 vda)
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='$POOL_DIR/soak-seed-seed.iso'/><target dev='sda' bus='sata'/><readonly/></disk>"
    domain_xml soak-tpl "$(disk_xml "$POOL_DIR/soak-tpl-a.qcow2" qcow2 vda)$(disk_xml "$POOL_DIR/soak-tpl-b.qcow2" qcow2 vdb)"
    "$DOMCLONE" --make-template soak-tpl >/dev/null

    # swtpm makes the TPM's state when the domain first starts
    virsh -q start soak-efi >/dev/null
    sleep 1
    virsh -q destroy soak-efi >/dev/null
    [[ -d $SWTPM_DIR/$(virsh -q domuuid soak-efi) ]] || die "swtpm made no state for soak-efi"
    for s in "${SOURCES[@]}"; do COUNTER[$s]=0; done
}

# --- the daemon --------------------------------------------------------------

daemon_up() {
    local i
    for i in {1..300}; do
        virsh -q uri >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    die "the restarted libvirtd does not answer"
}

# restart_daemon SIGNAL: stop libvirtd with SIGNAL, start it as the harness did.
restart_daemon() {
    local pid
    pid=$(<"$DOMCLONE_TEST_LIBVIRTD_PIDFILE")
    kill -"$1" "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
    rm -f -- "$DOMCLONE_TEST_LIBVIRTD_PIDFILE"
    "$DOMCLONE_TEST_LIBVIRTD" -d -f "$DOMCLONE_TEST_LIBVIRTD_CONF" \
        -p "$DOMCLONE_TEST_LIBVIRTD_PIDFILE" </dev/null >>"$TMP/libvirtd.stderr" 2>&1 ||
        die "libvirtd did not start again: $(last_lines "$TMP/libvirtd.stderr")"
    daemon_up
    RESTARTS=$((RESTARTS + 1))
}

# --- what exists ------------------------------------------------------------

# check_counters CYCLE: one virsh reads every source's counter; none may
# be lower than the last one seen.
check_counters() {
    local s n i=0 line cur= cmds=
    declare -A now=()
    for s in "${SOURCES[@]}"; do
        cmds+="echo @@$s; dumpxml --inactive $s; "
    done
    virsh -q "$cmds" >"$TMP/meta" 2>/dev/null || true
    while IFS= read -r line; do
        # (virsh -q's echo ends no line: the XML's first line follows)
        if [[ $line =~ ^@@([^<]*) ]]; then
            cur=${BASH_REMATCH[1]}
            now[$cur]=0
        fi
        if [[ -n $cur && $line =~ counter\>([0-9]+)\< ]]; then
            now[$cur]=${BASH_REMATCH[1]}
        fi
    done <"$TMP/meta"
    for s in "${SOURCES[@]}"; do
        n=${now[$s]:-}
        if [[ -z $n ]]; then
            problem "cannot read the counter of $s (cycle $1)"
            continue
        fi
        if ((n < COUNTER[$s])); then
            problem "the counter of $s went back from ${COUNTER[$s]} to $n (cycle $1)"
        fi
        COUNTER[$s]=$n
        i=$((i + 1))
    done
}

clones() { # every domain that is not a source, one a line
    local d s
    while IFS= read -r d; do
        [[ -n $d ]] || continue
        for s in "${SOURCES[@]}"; do [[ $d == "$s" ]] && continue 2; done
        printf '%s\n' "$d"
    done < <(virsh -q list --all --name | awk 'NF { print $1 }')
}

# dom_facts DOMAIN: one dumpxml, read into F_UUID, F_NVRAM, F_META (the
# domclone metadata lines) and F_DISKS ("target path" per disk, cdrom or
# floppy with a file source, one a line).
F_UUID= F_NVRAM= F_META= F_DISKS=
dom_facts() {
    local xml
    xml=$(virsh -q dumpxml --inactive "$1")
    F_UUID=$(sed -n 's/^ *<uuid>\(.*\)<\/uuid>/\1/p' <<<"$xml")
    F_NVRAM=$(sed -n 's/.*<nvram[^>]*>\(.*\)<\/nvram>.*/\1/p' <<<"$xml")
    F_META=$(sed -n '/<domclone[ >]/,/<\/domclone>/p' <<<"$xml")
    F_DISKS=$(awk '/<disk /{ d = 1; src = ""; tgt = "" }
        d && /<source /{ if (match($0, /file=.[^'"'"'"]*/)) src = substr($0, RSTART + 6, RLENGTH - 6) }
        d && /<target /{ if (match($0, /dev=.[^'"'"'"]*/)) tgt = substr($0, RSTART + 5, RLENGTH - 5) }
        /<\/disk>/{ if (src != "") print tgt, src; d = 0 }' <<<"$xml")
}

# disk_map DOMAIN: "target path" per disk with a file source.
disk_map() {
    dom_facts "$1"
    printf '%s\n' "$F_DISKS"
}

# check_clone CLONE: finished, and its disks, NVRAM and TPM state are its
# source's (S_* below). Adds what it owns to OWNED.
declare -A OWNED S_DISKS S_NVRAM S_UUID
check_clone() {
    local c=$1 src t p sp linked=0 cn sn
    dom_facts "$c"
    src=$(sed -n "s/.*<origin[^>]* name=['\"]\([^'\"]*\)['\"].*/\1/p" <<<"$F_META" | head -n 1)
    if [[ -z $src || -z ${S_UUID[$src]:-} ]]; then
        leftover "domain $c is no clone of a source (<origin> in its metadata: '$src')"
        return
    fi
    [[ $F_META == *"linked="* ]] && linked=1
    if [[ $F_META =~ \<building[[:space:]/\>] ]]; then
        leftover "domain $c is an unfinished clone of $src (its <building> marker survived --cleanup)"
        return
    fi
    declare -A sdisk=()
    while read -r t p; do [[ -z $t ]] || sdisk[$t]=$p; done <<<"${S_DISKS[$src]}"
    while read -r t p; do
        [[ -n $t ]] || continue
        OWNED[$p]=1
        sp=${sdisk[$t]:-}
        if [[ -z $sp ]]; then
            problem "clone $c has disk $t that its source $src has not"
        elif [[ $sp == *-seed.iso ]]; then
            # the seed: a copy of its own, rewritten (new instance-id)
            [[ $p != "$sp" ]] || problem "clone $c shares its seed $p with $src"
        elif [[ $p == "$sp" ]]; then
            problem "clone $c shares the writable disk $p with its source"
        elif ! qemu-img compare -q -- "$sp" "$p" 2>"$TMP/cmp.err"; then
            problem "disk $t of clone $c ($p) differs from its source's $sp$( ((linked)) && echo ' (linked)'): $(last_lines "$TMP/cmp.err")"
        fi
    done <<<"$F_DISKS"
    cn=$F_NVRAM
    sn=${S_NVRAM[$src]}
    if [[ -n $sn ]]; then
        OWNED[$cn]=1
        if [[ -z $cn || $cn == "$sn" ]] || ! cmp -s -- "$sn" "$cn"; then
            problem "clone $c's NVRAM '$cn' is not a copy of $src's $sn"
        fi
    fi
    OWNED[$SWTPM_DIR/$F_UUID]=1
    if [[ -d $SWTPM_DIR/${S_UUID[$src]} ]] && ! cmp -s -- "$SWTPM_DIR/${S_UUID[$src]}/tpm2/tpm2-00.permall" \
        "$SWTPM_DIR/$F_UUID/tpm2/tpm2-00.permall"; then
        problem "clone $c's TPM state is not a copy of $src's"
    fi
}

# check_all WHEN: --cleanup every source, then the checks above and the
# leftover hunt. Sets NCLONES.
NCLONES=0
check_all() {
    local s c f p pool
    OWNED=()
    for s in "${SOURCES[@]}"; do
        if ! "$DOMCLONE" --cleanup "$s" >"$TMP/out" 2>"$TMP/err"; then
            problem "domclone --cleanup $s failed ($1): $(last_lines "$TMP/err")"
        fi
        dom_facts "$s"
        S_DISKS[$s]=$F_DISKS
        S_NVRAM[$s]=$F_NVRAM
        S_UUID[$s]=$F_UUID
        while read -r _ p; do [[ -z $p ]] || OWNED[$p]=1; done <<<"$F_DISKS"
        [[ -z $F_NVRAM ]] || OWNED[$F_NVRAM]=1
        OWNED[$SWTPM_DIR/$F_UUID]=1
    done
    NCLONES=0
    while IFS= read -r c; do
        check_clone "$c"
        NCLONES=$((NCLONES + 1))
    done < <(clones)
    # transient domains are no one's
    while IFS= read -r c; do
        [[ -z $c ]] || leftover "transient domain $c"
    done < <(virsh -q list --transient --name | awk 'NF { print $1 }')
    while IFS= read -r pool; do
        [[ -z $pool || $pool == soak ]] || leftover "pool $pool"
    done < <(virsh -q pool-list --all --name | awk 'NF { print $1 }')
    virsh -q pool-refresh soak >/dev/null 2>&1 || problem "pool soak cannot be refreshed ($1)"
    while read -r _ p; do
        [[ -z $p || -n ${OWNED[$p]:-} ]] || leftover "volume $p of pool soak"
    done < <(virsh -q vol-list soak)
    for f in "$POOL_DIR"/* "$POOL_DIR"/.[!.]* "$NVRAM_DIR"/* "$NVRAM_DIR"/.[!.]* \
        "$LIBVIRT_NVRAM"/* "$SWTPM_DIR"/*; do
        [[ -e $f || -L $f ]] || continue
        [[ -n ${OWNED[$f]:-} ]] || leftover "file $f ($1)"
    done
    # domclone's own temporary files, wherever they were made
    while IFS= read -r f; do
        leftover "temporary file $f ($1)"
    done < <(find "$STATE" /var/lib/libvirt /run/libvirt -xdev -iname '*domclone*' 2>/dev/null | grep -v -- "$TMP")
}

delete_clones() {
    local c t p
    while IFS= read -r c; do
        [[ -n $c ]] || continue
        dom_facts "$c"
        mapfile -t paths < <(awk 'NF { print $2 }' <<<"$F_DISKS")
        virsh -q undefine --nvram --tpm "$c" >/dev/null || problem "cannot undefine $c"
        for p in "${paths[@]}"; do
            virsh -q vol-delete "$p" >/dev/null 2>&1 || problem "cannot delete the volume $p of $c"
        done
    done < <(clones)
}

# --- one cycle ---------------------------------------------------------------

# run_cycle N
run_cycle() {
    local n=$1 src mode args=() kill_at=-1 sig restart_at=-1 rsig pid rc=0 t=0 killed=0 restarted=0
    local t0=$EPOCHREALTIME t1
    rand ${#SOURCES[@]}
    src=${SOURCES[R]}
    rand 4
    case $R in
        0) mode=full ;;
        1) mode=linked ;;
        2) mode=count ;;
        3) mode=exist-ok ;;
    esac
    [[ $mode == linked ]] && src=soak-tpl
    case $mode in
        full) args=("$src") ;;
        linked)
            args=(--linked "$src")
            rand 2
            ((R)) && args=(--linked --count 3 "$src")
            ;;
        count) args=(--count 3 "$src") ;;
        exist-ok)
            rand 3
            args=(--exist-ok --name "$src-n$R" "$src")
            ;;
    esac
    # moments in 10 ms steps: a kill within 0.3 s (most runs take
    # 0.1 to 0.4 s), a restart within 0.15 s
    rand 3
    if ((R == 0)); then rand 30; kill_at=$R; fi
    rand 2
    if ((R)); then sig=KILL; else sig=TERM; fi
    rand 12
    if ((R == 0)); then rand 15; restart_at=$R; fi
    rand 2
    if ((R)); then rsig=KILL; else rsig=TERM; fi

    "$DOMCLONE" -q "${args[@]}" </dev/null >"$TMP/out" 2>"$TMP/err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if ((t == kill_at)); then
            kill -"$sig" "$pid" 2>/dev/null && killed=1
        fi
        if ((t == restart_at)); then
            restart_daemon "$rsig"
            restarted=1
        fi
        sleep 0.01
        t=$((t + 1))
    done
    { wait "$pid"; } 2>/dev/null || rc=$?
    if ((killed)); then
        KILLS=$((KILLS + 1))
        if [[ $sig == KILL ]]; then KILLS_KILL=$((KILLS_KILL + 1)); else KILLS_TERM=$((KILLS_TERM + 1)); fi
    fi
    if ((!killed && !restarted && rc != 0)); then
        problem "cycle $n: domclone ${args[*]} failed (exit $rc) with nothing in its way: $(last_lines "$TMP/err")"
    elif ((!killed && rc != 0 && rc != 1)); then
        problem "cycle $n: domclone ${args[*]} exited $rc under a daemon restart: $(last_lines "$TMP/err")"
    fi
    if ((killed || restarted || rc != 0)); then
        if ! "$DOMCLONE" --cleanup "$src" >"$TMP/out" 2>"$TMP/err"; then
            problem "cycle $n: domclone --cleanup $src failed: $(last_lines "$TMP/err")"
        fi
    fi
    t1=$EPOCHREALTIME
    check_counters "$n"
    printf 'cycle %d: %s (%s s, checks %s s), exit %s%s%s\n' "$n" "${args[*]}" "$(elapsed "$t0" "$t1")" \
        "$(elapsed "$t1" "$EPOCHREALTIME")" "$rc" \
        "$( ((killed)) && echo ", SIG$sig at ${kill_at}0 ms")" \
        "$( ((restarted)) && echo ", daemon SIG$rsig restart at ${restart_at}0 ms")"
}

# ---------------------------------------------------------------------------

T0=$EPOCHREALTIME
START=$SECONDS
setup
printf 'sources: %s\n' "${SOURCES[*]}"
DONE=0
for ((i = 1; i <= CYCLES; i++)); do
    if ((LIMIT && SECONDS - START >= LIMIT)); then
        printf 'time limit of %s s reached after %d cycles\n' "$LIMIT" "$DONE"
        break
    fi
    DONE=$i
    # (bash reports a killed job on stderr: not a finding)
    run_cycle "$i" 2> >(grep -v '^[^ ]*: line [0-9]*: *[0-9]* \(Killed\|Terminated\) ' >&2)
    rand 25
    if ((R == 0 && i < CYCLES)); then
        check_all "after cycle $i"
        CLONES=$((CLONES + NCLONES))
        delete_clones
        printf 'after cycle %d: %d clones checked and deleted, leftovers so far %d\n' "$i" "$NCLONES" "$LEFTOVERS"
    fi
    if ((i % 100 == 0)); then
        printf '%d cycles, %s s\n' "$i" "$(elapsed "$T0" "$EPOCHREALTIME")" >&2
    fi
done
check_all "at the end"
CLONES=$((CLONES + NCLONES))
printf 'cycles %d, kills %d (SIGKILL %d, SIGTERM %d), restarts %d, clones made %d, leftovers %d, problems %d, %s s, seed %s\n' \
    "$DONE" "$KILLS" "$KILLS_KILL" "$KILLS_TERM" "$RESTARTS" "$CLONES" "$LEFTOVERS" "$PROBLEMS" \
    "$(elapsed "$T0" "$EPOCHREALTIME")" "$SEED"
if ((LEFTOVERS || PROBLEMS)); then
    exit 1
fi
exit 0
