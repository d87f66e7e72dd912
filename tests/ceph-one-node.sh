#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ceph-one-node.sh - a throw-away one-node Ceph cluster for the RBD tests.
#
# Usage:
#   tests/ceph-one-node.sh up DIR     start it under DIR (made, must be empty)
#   tests/ceph-one-node.sh down DIR   stop its daemons by pid, remove DIR
#   tests/ceph-one-node.sh check      exit 0 when the Ceph packages are there
#
# One mon and one mgr on 127.0.0.1, one bluestore OSD on a sparse file
# (CEPH_OSD_BYTES, default 8 GiB, only what is written takes space), pool
# size 1, cephx on. A pool "rbd" is made and initialised for RBD, and a
# key "client.libvirt" with the usual RBD profile, kept in
# DIR/ceph.client.libvirt.keyring. Everything the daemons write (data,
# logs, pid files, admin sockets) is under DIR; nothing is read from or
# written to /etc/ceph or /var/lib/ceph. Clients use CEPH_CONF=DIR/ceph.conf.
# About 20 s to HEALTH_OK on 2 cores, about 0.5 GiB of memory.
#
# Run it where 127.0.0.1:3300 and :6789 are free: the live tests run it
# inside tests/with-libvirtd.sh's private network namespace (root), where
# libvirtd and QEMU reach it and no one else does. Needs ceph-mon,
# ceph-mgr, ceph-osd and ceph-common (scripts/install-deps.sh). Prints
# nothing on success; on failure the end of the daemons' logs.
set -euo pipefail

readonly DAEMONS=(osd.0 mgr.x mon.a)

die() {
    printf 'ceph-one-node: %s\n' "$*" >&2
    exit 1
}

have_ceph() {
    local p
    for p in ceph-mon ceph-mgr ceph-osd ceph ceph-authtool monmaptool rbd; do
        command -v "$p" >/dev/null || return 1
    done
}

# Stops the daemons whose pid files are under $1, by pid, and waits for them.
down() {
    local dir=$1 n pid
    for n in "${DAEMONS[@]}"; do
        pid=$(cat "$dir/run/ceph-$n.pid" 2>/dev/null) || continue
        kill "$pid" 2>/dev/null || true
    done
    for n in "${DAEMONS[@]}"; do
        pid=$(cat "$dir/run/ceph-$n.pid" 2>/dev/null) || continue
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf -- "$dir"
}

write_conf() {
    local dir=$1 fsid=$2
    cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:3300,v1:127.0.0.1:6789
mon_initial_members = a
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
keyring = $dir/\$cluster.\$name.keyring
run_dir = $dir/run
admin_socket = $dir/run/\$cluster-\$name.asok
pid_file = $dir/run/\$cluster-\$name.pid
log_file = $dir/log/\$cluster-\$name.log
mon_data = $dir/mon/\$cluster-\$id
mgr_data = $dir/mgr/\$cluster-\$id
osd_data = $dir/osd/\$cluster-\$id
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_allow_pool_delete = true
mon_data_avail_warn = 5
mon_data_avail_crit = 1
[mon]
keyring = \$mon_data/keyring
[mgr]
keyring = \$mgr_data/keyring
[osd]
keyring = \$osd_data/keyring
osd_objectstore = bluestore
bluestore_block_path = $dir/osd/\$cluster-\$id.block
bluestore_block_create = true
bluestore_block_size = ${CEPH_OSD_BYTES:-8589934592}
osd_memory_target = 939524096
# a client killed with an image open loses its watch after 5 s, not 30:
# the wait of test-live-rbd's /live/rbd/cleanup-watched
osd_client_watch_timeout = 5
EOF
}

healthy() {
    ceph health 2>/dev/null | grep -q HEALTH_OK \
        && ceph pg stat 2>/dev/null | grep -qE '^[0-9]+ pgs: [0-9]+ active\+clean; '
}

up() {
    local dir=$1 fsid osd_uuid id
    mkdir -p -- "$dir"
    dir=$(cd -- "$dir" && pwd)
    [[ -z $(ls -A -- "$dir") ]] || die "'$dir' is not empty"
    mkdir -p "$dir"/{run,log,mon/ceph-a,mgr/ceph-x,osd/ceph-0}
    export CEPH_CONF=$dir/ceph.conf
    fsid=$(cat /proc/sys/kernel/random/uuid)
    write_conf "$dir" "$fsid"
    cd -- "$dir"
    ceph-authtool --create-keyring mon.keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool --create-keyring ceph.client.admin.keyring --gen-key -n client.admin \
        --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
    ceph-authtool mon.keyring --import-keyring ceph.client.admin.keyring >/dev/null
    monmaptool --create --fsid "$fsid" --addv a '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' monmap >/dev/null
    ceph-mon --mkfs -i a --monmap monmap --keyring mon.keyring 2>/dev/null
    ceph-mon -i a
    ceph auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' >mgr/ceph-x/keyring
    ceph-mgr -i x
    osd_uuid=$(cat /proc/sys/kernel/random/uuid)
    id=$(ceph osd new "$osd_uuid")
    ceph auth get-or-create "osd.$id" mon 'allow profile osd' mgr 'allow profile osd' osd 'allow *' \
        >"osd/ceph-$id/keyring"
    ceph-osd -i "$id" --mkfs --osd-uuid "$osd_uuid" 2>/dev/null
    ceph-osd -i "$id" 2>/dev/null
    ceph osd pool create rbd 8 8 >/dev/null 2>&1
    rbd pool init rbd
    ceph auth get-or-create client.libvirt mon 'profile rbd' osd 'profile rbd pool=rbd' \
        mgr 'profile rbd pool=rbd' >ceph.client.libvirt.keyring
    for _ in $(seq 1 240); do
        healthy && return 0
        sleep 0.5
    done
    tail -n 20 log/*.log >&2 || true
    die "the cluster under '$dir' did not become healthy"
}

case ${1:-} in
    up)
        [[ $# == 2 ]] || die "usage: $0 up DIR"
        have_ceph || die "the Ceph packages are missing (ceph-mon ceph-mgr ceph-osd ceph-common)"
        if ! (up "$2"); then
            down "$2"
            exit 1
        fi
        ;;
    down)
        [[ $# == 2 ]] || die "usage: $0 down DIR"
        down "$2"
        ;;
    check) have_ceph ;;
    *) die "usage: $0 up|down DIR, or $0 check" ;;
esac
