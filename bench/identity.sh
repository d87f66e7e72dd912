#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/identity.sh - what --reset-identity adds to a clone's time: the Debian
# 12 guest of the tests (scripts/debian-image.sh) cloned with and without it,
# full and linked, N rounds, medians side by side. See bench/README.md.
#
# Usage: bench/identity.sh [--runs N] [--domclone PATH]   (N=3, build/domclone)
set -euo pipefail

PROG=identity.sh
SELF=$(readlink -f -- "$0")
REPO=$(dirname -- "$(dirname -- "$SELF")")
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

RUNS=3
DOMCLONE=$REPO/build/domclone
while (($#)); do
    case $1 in
        --runs)
            RUNS=${2:?--runs needs a number}
            shift 2
            ;;
        --domclone)
            DOMCLONE=$(readlink -f -- "${2:?--domclone needs a path}")
            shift 2
            ;;
        -h | --help)
            sed -n '/^# bench\/identity.sh - /,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
            exit 0
            ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs takes a positive number"
[[ -x $DOMCLONE ]] || die "$DOMCLONE not found: build first (scripts/build.sh \"\$PWD/build\")"
require_tools "virsh:libvirt-clients" "debugfs:e2fsprogs"
IMAGE=$("$REPO/scripts/debian-image.sh" path)
[[ -f $IMAGE/stamp ]] || die "no Debian image in $IMAGE: run scripts/debian-image.sh build (as root)"

reexec_under_private_daemon "$SELF" --runs "$RUNS" --domclone "$DOMCLONE"

# The appliance as the tests run it (this machine's /dev/kvm may not run
# guests); an environment that says otherwise wins.
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}

DIR=$DOMCLONE_TEST_STATE/bench-identity
mkdir -p "$DIR"
cp --sparse=always -- "$IMAGE/disk.raw" "$DIR/deb.raw"
virsh -q pool-create-as benchid dir --target "$DIR" >/dev/null
cat >"$DIR/deb.xml" <<EOF
<domain type='qemu'>
  <name>deb</name>
  <memory unit='MiB'>512</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$DIR/deb.raw'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
EOF
virsh -q define "$DIR/deb.xml" >/dev/null
cp --sparse=always -- "$IMAGE/disk.raw" "$DIR/gold.raw"
sed -e 's/<name>deb</<name>gold</' -e "s|$DIR/deb.raw|$DIR/gold.raw|" "$DIR/deb.xml" >"$DIR/gold.xml"
virsh -q define "$DIR/gold.xml" >/dev/null
virsh -q pool-refresh benchid >/dev/null
"$DOMCLONE" --make-template gold >/dev/null

# one_run SOURCE ARGS...: seconds of one clone (cold cache), then removes it
one_run() {
    local src=$1 out t0 t1 name
    shift
    drop_caches
    t0=$EPOCHREALTIME
    out=$("$DOMCLONE" -q "$@" "$src")
    t1=$EPOCHREALTIME
    name=${out##* to }
    name=${name%.}
    virsh -q undefine "$name" >/dev/null
    rm -f -- "$DIR/$name.raw" "$DIR/$name.qcow2"
    virsh -q pool-refresh benchid >/dev/null
    elapsed "$t0" "$t1"
}

declare -a full plain_full linked plain_linked
# one launch first, so the appliance is built before timing (supermin)
msg "building the libguestfs appliance once (not timed)"
one_run deb --reset-identity >/dev/null
for ((r = 1; r <= RUNS; r++)); do
    msg "round $r of $RUNS"
    plain_full+=("$(one_run deb)")
    full+=("$(one_run deb --reset-identity)")
    plain_linked+=("$(one_run gold --linked)")
    linked+=("$(one_run gold --linked --reset-identity)")
done

pf=$(median "${plain_full[@]}")
f=$(median "${full[@]}")
pl=$(median "${plain_linked[@]}")
l=$(median "${linked[@]}")
printf '\n--reset-identity on a Debian 12 guest (1 GiB raw, %s used), %d runs, medians in s\n' \
    "$(du -h "$DIR/deb.raw" | cut -f1)" "$RUNS"
printf 'libguestfs backend: %s %s\n\n' "$LIBGUESTFS_BACKEND" "$LIBGUESTFS_BACKEND_SETTINGS"
printf '| clone | plain | --reset-identity | added |\n| --- | --- | --- | --- |\n'
printf '| full copy | %s | %s | %s |\n' "$pf" "$f" "$(awk -v a="$pf" -v b="$f" 'BEGIN { printf "%.2f", b - a }')"
printf '| linked | %s | %s | %s |\n' "$pl" "$l" "$(awk -v a="$pl" -v b="$l" 'BEGIN { printf "%.2f", b - a }')"
printf '\nruns: full %s | full+reset %s | linked %s | linked+reset %s\n' "$(runs_list "${plain_full[@]}")" \
    "$(runs_list "${full[@]}")" "$(runs_list "${plain_linked[@]}")" "$(runs_list "${linked[@]}")"
