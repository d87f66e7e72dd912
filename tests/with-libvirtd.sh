#!/usr/bin/env bash
# Functions called from traps only look unreachable to shellcheck:
# shellcheck disable=SC2317
#
# with-libvirtd.sh - run a command against a private, throw-away libvirt daemon.
#
# Usage:
#   tests/with-libvirtd.sh [--state-dir DIR] [--sock-group GROUP] [--] CMD [ARGS...]
#
# Starts a private virtlogd + libvirtd (QEMU and storage drivers), runs CMD
# with these variables exported, then kills the daemons and every QEMU they
# started, whatever way CMD ends (success, failure, SIGINT, SIGTERM, SIGHUP):
#
#   LIBVIRT_DEFAULT_URI   URI of the private daemon (qemu:///system as root,
#                         qemu:///session otherwise)
#   DOMCLONE_TEST_URI     same value
#   DOMCLONE_TEST_STATE   empty scratch directory for pools, images, nvram...,
#                         readable and writable by the daemon and by CMD
#   DOMCLONE_TEST_LIBVIRTD, DOMCLONE_TEST_LIBVIRTD_CONF,
#   DOMCLONE_TEST_LIBVIRTD_PIDFILE
#                         how the daemon was started, so a test can restart it
#                         (add --listen to keep the TCP listener below)
#   DOMCLONE_TEST_TCP_URI qemu+tcp://127.0.0.1:16509/system: the same daemon
#                         over TCP, without authentication, so that clients
#                         take their remote code paths (root only, and only
#                         when the listener answers; unset otherwise)
#   DOMCLONE_TEST_GROUP, DOMCLONE_TEST_GROUP_USER
#                         as root: the group that owns the daemon's read-write
#                         socket, and an unprivileged user in that group (see
#                         --sock-group); unset otherwise
#
# The exit status is CMD's. If the harness itself fails (bad usage, daemon
# does not come up, missing tools) it exits 99 (automake's "hard error").
#
# As root the harness re-executes itself inside a private mount namespace,
# PID namespace and network namespace (unshare --mount --propagation private
# --pid --net --fork):
# a tmpfs is mounted over /run and empty directories of the state dir are
# bind-mounted over /etc/libvirt, /var/lib/libvirt, /var/cache/libvirt and
# /var/log/libvirt, so the machine's own libvirt state is never seen nor
# touched. When the namespace's first process exits, the kernel kills every
# process left in it, so no daemon or QEMU outlives the harness, even if its
# own clean-up was cut short. The four mount points are created on the host
# if they do not exist (empty directories, harmless). The network namespace
# has nothing but its own loopback (brought up with iproute2's "ip"), on
# which libvirtd also listens for TCP (127.0.0.1, libvirt's usual port
# 16509, no authentication): only the processes of this harness can reach
# it, so it cannot collide with the host's libvirtd or with another
# harness, and it gives no one else a way in. Test guests get user-mode
# networking at most, which needs no host network. Where no network
# namespace can be made (or "ip" is missing), the harness runs without one,
# and without the TCP listener: unauthenticated TCP on the host's loopback
# would hand root's daemon to every local user.
#
# As any other user it uses qemu:///session with XDG_RUNTIME_DIR,
# XDG_CONFIG_HOME, XDG_CACHE_HOME and XDG_DATA_HOME inside the state dir, so
# the session daemon is private too; it is killed at the end, together with
# any process still carrying the state dir in its environment or command line.
#
# The libvirt group (root only). A desktop user in the "libvirt" group
# reaches qemu:///system without being root, and cannot open the images
# (root's, 0600, in a 0711 directory). Without a system bus (polkit), the
# same access is libvirtd.conf's unix_sock_group = "GROUP",
# unix_sock_rw_perms = "0770", auth_unix_rw = "none", which the private
# daemon is given. GROUP (default "libvirt") and an unprivileged user in
# it, "domclone-test" (in a group of its own name), are added where
# missing to private copies of /etc/passwd and /etc/group, bind-mounted
# over the real ones inside the namespace only, as libvirt's own
# "libvirt-qemu" account is (see add_private_accounts): the host's account
# files are never changed, so this is idempotent. A group or user of those
# names that exists is used as it is (the user is made a member of the
# group in the private copy if need be). The user's home is
# /run/domclone-test, in the namespace's own /run.
#
# Options:
#   --state-dir DIR   use DIR (created if missing, never removed) instead of a
#                     fresh "mktemp -d" under $TMPDIR or /var/tmp (which is
#                     removed at the end). Reusing a DIR keeps the daemon's
#                     persistent state (defined domains, pools) across runs.
#   --sock-group GROUP
#                     as root, give the read-write socket to GROUP (see
#                     above); an empty GROUP keeps it root's alone (0700,
#                     no group user). Default: $DOMCLONE_TEST_SOCK_GROUP if
#                     set, else "libvirt". The session daemon ignores it.
#   -h, --help        show this help
#
# Environment:
#   DOMCLONE_KEEP_STATE=1        keep the state dir (logs are under it:
#                                root/log/ as root, xdg/cache/libvirt/ otherwise)
#   DOMCLONE_LIBVIRTD_TIMEOUT=N  seconds to wait for libvirtd (default 30)
#   DOMCLONE_LIBVIRTD_DEBUG=1    debug-level libvirtd/virtlogd logs
#   DOMCLONE_HARNESS_VERBOSE=1   report progress and timings on stderr
#   DOMCLONE_TEST_SOCK_GROUP=G   as --sock-group G

set -euo pipefail

readonly PROG=with-libvirtd
readonly EXIT_HARNESS=99

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
verbose() { if [[ ${DOMCLONE_HARNESS_VERBOSE:-0} == 1 ]]; then msg "$@"; fi; }
die() { msg "$*"; exit "$EXIT_HARNESS"; }

usage() {
    sed -n '/^# with-libvirtd.sh - /,/^$/{s/^# \{0,1\}//;p}' "$SELF"
}

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
readonly SELF

# Seconds since the epoch with microseconds, and a difference of two of them.
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# Find a daemon binary; /usr/sbin is not in a normal user's PATH on Debian.
find_prog() {
    local p
    if p=$(command -v "$1"); then
        printf '%s' "$p"
    elif [[ -x /usr/sbin/$1 ]]; then
        printf '%s' "/usr/sbin/$1"
    else
        die "$1 not found (run scripts/install-deps.sh)"
    fi
}

# ---------------------------------------------------------------------------
# Process helpers

# Print the PID stored in pid file $1 if that process is alive and its
# command name starts with $2; fail otherwise.
pidfile_pid() {
    local file=$1 name=$2 pid="" comm
    [[ -r $file ]] || return 1
    # libvirt writes its pid files without a trailing newline.
    read -r pid 2>/dev/null <"$file" || [[ -n $pid ]] || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    read -r comm 2>/dev/null <"/proc/$pid/comm" || return 1
    [[ $comm == "$name"* ]] || return 1
    printf '%s' "$pid"
}

# Send SIGTERM to the given PIDs, wait up to $1 seconds, then SIGKILL.
terminate() {
    local grace=$1 pid left deadline
    shift
    (($#)) || return 0
    kill -TERM "$@" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while :; do
        left=()
        for pid in "$@"; do
            if kill -0 "$pid" 2>/dev/null && ! is_zombie "$pid"; then
                left+=("$pid")
            fi
        done
        ((${#left[@]})) || return 0
        ((SECONDS < deadline)) || break
        sleep 0.1 || true
    done
    msg "killing unresponsive process(es) ${left[*]}"
    kill -KILL "${left[@]}" 2>/dev/null || true
}

# Trap handlers and the loops they interrupt avoid command substitutions: bash
# 5.2 may fail to parse a trap action that runs during one, losing the signal.

# read_children PID: sets CHILDREN to the PIDs of the children of PID.
read_children() {
    CHILDREN=
    read -r CHILDREN 2>/dev/null <"/proc/$1/task/$1/children" || true
}
CHILDREN=

is_zombie() {
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} == Z ]]
}

# Stop the daemons and the QEMU processes of the private instance.
# $1: directory holding libvirtd.pid and virtlogd.pid; $2: QEMU pid file dir.
stop_daemons() {
    local piddir=$1 qemudir=$2 pid f pids=() t0
    t0=$(now)
    if pid=$(pidfile_pid "$piddir/libvirtd.pid" libvirtd); then
        terminate 10 "$pid"
    fi
    for f in "$qemudir"/*.pid; do
        [[ -e $f ]] || continue
        if pid=$(pidfile_pid "$f" qemu); then pids+=("$pid"); fi
    done
    terminate 5 "${pids[@]}"
    if pid=$(pidfile_pid "$piddir/virtlogd.pid" virtlogd); then
        terminate 5 "$pid"
    fi
    verbose "daemons stopped in $(elapsed "$t0" "$(now)")s"
}

# ---------------------------------------------------------------------------
# Daemon configuration and start-up

log_filters() {
    if [[ ${DOMCLONE_LIBVIRTD_DEBUG:-0} == 1 ]]; then
        printf '%s' '1:qemu 1:libvirt 1:storage 1:conf 1:security 4:object 4:json 4:event 1:util'
    fi
}

log_level() {
    if [[ ${DOMCLONE_LIBVIRTD_DEBUG:-0} == 1 ]]; then printf 1; else printf 3; fi
}

# write_configs CONFDIR LOGDIR PRIVILEGED(0|1) [TCP_PORT [SOCK_GROUP]]
# With TCP_PORT, libvirtd (started with --listen) also listens on
# 127.0.0.1:TCP_PORT without authentication: only ever inside the private
# network namespace. With SOCK_GROUP, the read-write socket belongs to
# that group, whose members use it without authentication (the libvirt
# group of a desktop).
write_configs() {
    local confdir=$1 logdir=$2 privileged=$3 tcp_port=${4:-} sock_group=${5:-}
    local listen_tcp=0 rw_perms=0700
    [[ -z $tcp_port ]] || listen_tcp=1
    [[ -z $sock_group ]] || rw_perms=0770
    mkdir -p -- "$confdir" "$logdir"
    cat >"$confdir/libvirtd.conf" <<EOF
# Written by tests/with-libvirtd.sh for a private test daemon.
listen_tls = 0
listen_tcp = $listen_tcp
listen_addr = "127.0.0.1"
tcp_port = "${tcp_port:-16509}"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "$rw_perms"
log_filters = "$(log_filters)"
log_outputs = "$(log_level):file:$logdir/libvirtd.log"
EOF
    if [[ -n $sock_group ]]; then
        printf 'unix_sock_group = "%s"\n' "$sock_group" >>"$confdir/libvirtd.conf"
    fi
    cat >"$confdir/virtlogd.conf" <<EOF
# Written by tests/with-libvirtd.sh for a private test daemon.
log_filters = "$(log_filters)"
log_outputs = "$(log_level):file:$logdir/virtlogd.log"
EOF
    {
        printf '%s\n' '# Written by tests/with-libvirtd.sh for a private test daemon.'
        if ((privileged)); then
            # QEMU runs as root, no labelling and no ownership bookkeeping:
            # images are plain root-owned files in the scratch dir.
            printf '%s\n' 'user = "root"' 'group = "root"' \
                'security_driver = "none"' 'remember_owner = 0' \
                '# No cgroups: keeps the host cgroup tree untouched and lets' \
                '# several private daemons run domains of the same name.' \
                'cgroup_controllers = [ ]'
        fi
        # VNC/SPICE on UNIX sockets in the private state, not on TCP ports
        # shared with the host and with concurrent harnesses.
        printf '%s\n' 'vnc_auto_unix_socket = 1' 'spice_auto_unix_socket = 1'
    } >"$confdir/qemu.conf"
}

# start_daemons CONFDIR LOGDIR PIDDIR URI [LIBVIRTD_OPTION...]
start_daemons() {
    local confdir=$1 logdir=$2 piddir=$3 uri=$4
    local virtlogd libvirtd virsh t0 t1 timeout deadline out
    shift 4
    virtlogd=$(find_prog virtlogd)
    libvirtd=$(find_prog libvirtd)
    virsh=$(find_prog virsh)
    timeout=${DOMCLONE_LIBVIRTD_TIMEOUT:-30}
    [[ $timeout =~ ^[0-9]+$ ]] || die "DOMCLONE_LIBVIRTD_TIMEOUT must be a number of seconds"
    mkdir -p -- "$piddir"
    t0=$(now)

    if ! "$virtlogd" -d -f "$confdir/virtlogd.conf" -p "$piddir/virtlogd.pid" \
        </dev/null >>"$logdir/virtlogd.stderr" 2>&1; then
        msg "virtlogd failed to start:"
        tail -n 20 -- "$logdir/virtlogd.stderr" "$logdir/virtlogd.log" >&2 2>/dev/null || true
        exit "$EXIT_HARNESS"
    fi
    # for tests that restart the daemon under a running client
    export DOMCLONE_TEST_LIBVIRTD="$libvirtd"
    export DOMCLONE_TEST_LIBVIRTD_CONF="$confdir/libvirtd.conf"
    export DOMCLONE_TEST_LIBVIRTD_PIDFILE="$piddir/libvirtd.pid"
    if ! "$libvirtd" -d "$@" -f "$confdir/libvirtd.conf" -p "$piddir/libvirtd.pid" \
        </dev/null >>"$logdir/libvirtd.stderr" 2>&1; then
        msg "libvirtd failed to start:"
        tail -n 30 -- "$logdir/libvirtd.stderr" "$logdir/libvirtd.log" >&2 2>/dev/null || true
        exit "$EXIT_HARNESS"
    fi

    deadline=$((SECONDS + timeout))
    while :; do
        if out=$(timeout 10 "$virsh" -q -c "$uri" uri 2>&1) && [[ $out == "$uri" ]]; then
            break
        fi
        if ! pidfile_pid "$piddir/libvirtd.pid" libvirtd >/dev/null; then
            msg "libvirtd died during start-up; last virsh error: $out"
            tail -n 30 -- "$logdir/libvirtd.stderr" "$logdir/libvirtd.log" >&2 2>/dev/null || true
            exit "$EXIT_HARNESS"
        fi
        if ((SECONDS >= deadline)); then
            msg "libvirtd did not answer on $uri within ${timeout}s; last virsh error: $out"
            tail -n 30 -- "$logdir/libvirtd.stderr" "$logdir/libvirtd.log" >&2 2>/dev/null || true
            exit "$EXIT_HARNESS"
        fi
        sleep 0.1 || true
    done
    t1=$(now)
    verbose "libvirtd answers on $uri after $(elapsed "$t0" "$t1")s"
}

# ---------------------------------------------------------------------------
# Running the command

# Waiting for a child while signals are trapped. A trap makes "wait" return
# early; bash 5.2 may then lose the child's status, and a second "wait" may
# block for ever in wait4(-1) when we have other children (as PID 1 of the
# namespace we inherit the daemons). So after an interruption we poll until
# the child is gone, calling a hook that re-sends the signal (the receiver may
# not have installed its traps yet: PID 1 of a namespace silently drops the
# signals it has no handler for), and take the status from a file the child
# wrote. ("sleep ... || true" everywhere: a signal to our process group may
# kill the sleep, and errexit must not end the harness then.)
INTERRUPTED=0
HARNESS_STATE=

# wait_for_child PID STATUS_FILE HOOK: sets CHILD_STATUS.
wait_for_child() {
    local pid=$1 file=$2 hook=$3 st=0
    if ((!INTERRUPTED)); then
        if wait "$pid"; then st=0; else st=$?; fi
    fi
    if ((INTERRUPTED)); then
        while kill -0 "$pid" 2>/dev/null && ! is_zombie "$pid"; do
            "$hook"
            sleep 0.1 || true
        done
        if ! { [[ -s $file ]] && read -r st <"$file" && [[ $st =~ ^[0-9]+$ ]]; }; then
            st=$((128 + 15))
        fi
    fi
    CHILD_STATUS=$st
}

# The command runs in a background subshell (keeping our stdin), so that a
# signal to the harness is acted upon at once: CMD gets SIGTERM, then the
# clean-up runs. The subshell outlives CMD to record CMD's exit status.
WRAPPER_PID=

term_cmd() {
    local c=
    [[ -n $WRAPPER_PID ]] || return 0
    read_children "$WRAPPER_PID"
    for c in $CHILDREN; do kill -TERM "$c" 2>/dev/null || true; done
}

on_signal() {
    INTERRUPTED=1
    if [[ -n $WRAPPER_PID ]]; then
        term_cmd
    else
        # Still starting up: leave now, the EXIT trap cleans up.
        case $1 in
            INT) exit 130 ;;
            HUP) exit 129 ;;
            *) exit 143 ;;
        esac
    fi
}

install_signal_traps() {
    trap 'on_signal INT' INT
    trap 'on_signal TERM' TERM
    trap 'on_signal HUP' HUP
}

# run_cmd STATUS_FILE CMD ARGS...: sets CMD_STATUS.
CMD_STATUS=0
run_cmd() {
    local file=$1
    shift
    rm -f -- "$file"
    (
        # Caught (not ignored) so that CMD gets the default dispositions, and
        # this subshell stays until CMD has ended.
        trap ':' TERM HUP
        if "$@" <&0; then st=0; else st=$?; fi
        printf '%s\n' "$st" >"$file"
        exit "$st"
    ) <&0 &
    WRAPPER_PID=$!
    wait_for_child "$WRAPPER_PID" "$file" term_cmd
    WRAPPER_PID=
    CMD_STATUS=$CHILD_STATUS
}

# export_test_env URI TESTDIR [TCP_URI]
export_test_env() {
    local uri=$1 testdir=$2 tcp_uri=${3:-}
    export LIBVIRT_DEFAULT_URI="$uri"
    export DOMCLONE_TEST_URI="$uri"
    export DOMCLONE_TEST_STATE="$testdir"
    if [[ -n $tcp_uri ]]; then
        export DOMCLONE_TEST_TCP_URI="$tcp_uri"
    else
        unset DOMCLONE_TEST_TCP_URI
    fi
    # virsh prefers this one over LIBVIRT_DEFAULT_URI.
    unset VIRSH_DEFAULT_CONNECT_URI
}

# tcp_answers URI: whether the daemon answers on its TCP URI (started
# together with the UNIX socket, which already answered).
tcp_answers() {
    local uri=$1 virsh out
    virsh=$(find_prog virsh)
    if out=$(timeout 10 "$virsh" -q -c "$uri" uri 2>&1) && [[ $out == "$uri" ]]; then
        return 0
    fi
    msg "no TCP listener on $uri (tests that need it skip): $out"
    return 1
}

# ---------------------------------------------------------------------------
# Root: inside the private mount, PID and network namespaces

inner_root() {
    local state=$1 net=$2 sock_group=$3
    shift 3
    local tcp_port='' tcp_uri='' listen=()
    HARNESS_STATE=$state
    local etc=$state/root/etc lib=$state/root/lib cache=$state/root/cache log=$state/root/log

    # We are PID 1 of the namespace: when we exit, everything left is killed.
    trap 'inner_root_cleanup' EXIT
    install_signal_traps

    mkdir -p -- "$etc" "$lib" "$cache" "$log" "$state/test"
    # -n: libmount would otherwise create /run/mount/ (utab) on the host's
    # /run before the tmpfs covers it.
    mount -n -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run ||
        die "cannot mount a tmpfs on /run"
    mkdir -p /run/lock /run/libvirt
    mount -n --bind -- "$etc" /etc/libvirt || die "cannot bind-mount over /etc/libvirt"
    mount -n --bind -- "$lib" /var/lib/libvirt || die "cannot bind-mount over /var/lib/libvirt"
    mount -n --bind -- "$cache" /var/cache/libvirt || die "cannot bind-mount over /var/cache/libvirt"
    mount -n --bind -- "$log" /var/log/libvirt || die "cannot bind-mount over /var/log/libvirt"

    add_private_accounts "$state/root" "$sock_group"
    if ((net)); then
        # Our own network namespace: its loopback is down at first, and
        # the port is ours alone.
        "$(find_prog ip)" link set lo up || die "cannot bring up the loopback interface of the private network namespace"
        tcp_port=16509
        listen=(--listen)
    fi
    write_configs /etc/libvirt /var/log/libvirt 1 "$tcp_port" "$sock_group"
    start_daemons /etc/libvirt /var/log/libvirt /run qemu:///system "${listen[@]}"
    if [[ -n $tcp_port ]] && tcp_answers "qemu+tcp://127.0.0.1:$tcp_port/system"; then
        tcp_uri=qemu+tcp://127.0.0.1:$tcp_port/system
    fi
    export_test_env qemu:///system "$state/test" "$tcp_uri"
    if [[ -n $sock_group ]]; then
        export DOMCLONE_TEST_GROUP="$sock_group" DOMCLONE_TEST_GROUP_USER="$GROUP_USER"
    else
        unset DOMCLONE_TEST_GROUP DOMCLONE_TEST_GROUP_USER
    fi
    run_cmd "$state/.cmd-status" "$@"
    exit "$CMD_STATUS"
}

# The unprivileged member of the socket's group (see "The libvirt group").
readonly GROUP_USER=domclone-test

# add_private_accounts DIR SOCK_GROUP
# libvirtd 9.0 looks up its built-in QEMU account (libvirt-qemu on Debian)
# before it reads qemu.conf, and fails if it does not exist. The account is
# created by libvirt-daemon-system, which we do not need. With SOCK_GROUP,
# that group and GROUP_USER, a member of it, are wanted too. Whatever is
# missing is added to private copies of /etc/passwd and /etc/group in DIR,
# bind-mounted over the real ones inside the namespace only; when nothing
# is missing, nothing is mounted.
ACCOUNTS_DIR=
ACCOUNTS_CHANGED=0

# account_gid NAME: prints the gid of group NAME (private copy included).
account_gid() {
    local line
    line=$(grep -m1 "^$1:" "$ACCOUNTS_DIR/group") || return 1
    line=${line#*:*:}
    printf '%s' "${line%%:*}"
}

# account_free_id: prints the first id from 64055 on that no user or
# group of the private copies has.
account_free_id() {
    local id=64055
    while cut -d: -f3 -- "$ACCOUNTS_DIR/passwd" "$ACCOUNTS_DIR/group" | grep -qx -- "$id"; do
        id=$((id + 1))
    done
    printf '%s' "$id"
}

account_add_group() {
    grep -q "^$1:" "$ACCOUNTS_DIR/group" && return 0
    printf '%s:x:%s:\n' "$1" "$(account_free_id)" >>"$ACCOUNTS_DIR/group"
    ACCOUNTS_CHANGED=1
}

# account_add_user NAME GROUP HOME SHELL COMMENT
account_add_user() {
    local gid uid
    grep -q "^$1:" "$ACCOUNTS_DIR/passwd" && return 0
    gid=$(account_gid "$2")
    # the group's gid as uid, unless a user has it already
    if cut -d: -f3 -- "$ACCOUNTS_DIR/passwd" | grep -qx -- "$gid"; then
        uid=$(account_free_id)
    else
        uid=$gid
    fi
    printf '%s:x:%s:%s:%s:%s:%s\n' "$1" "$uid" "$gid" "$5" "$3" "$4" >>"$ACCOUNTS_DIR/passwd"
    ACCOUNTS_CHANGED=1
}

# account_add_member GROUP USER
account_add_member() {
    local line members
    line=$(grep -m1 "^$1:" "$ACCOUNTS_DIR/group")
    members=${line##*:}
    [[ ,$members, == *",$2,"* ]] && return 0
    members=${members:+$members,}$2
    awk -F: -v OFS=: -v g="$1" -v m="$members" '$1 == g { $4 = m } { print }' \
        "$ACCOUNTS_DIR/group" >"$ACCOUNTS_DIR/group.new"
    mv -- "$ACCOUNTS_DIR/group.new" "$ACCOUNTS_DIR/group"
    ACCOUNTS_CHANGED=1
}

add_private_accounts() {
    local sock_group=$2
    ACCOUNTS_DIR=$1
    cp -- /etc/passwd "$ACCOUNTS_DIR/passwd"
    cp -- /etc/group "$ACCOUNTS_DIR/group"
    account_add_group libvirt-qemu
    account_add_group kvm
    account_add_user libvirt-qemu libvirt-qemu /var/lib/libvirt /usr/sbin/nologin 'Libvirt Qemu (private)'
    if [[ -n $sock_group ]]; then
        account_add_group "$sock_group"
        account_add_group "$GROUP_USER"
        account_add_user "$GROUP_USER" "$GROUP_USER" "/run/$GROUP_USER" /bin/sh 'domclone test user (private)'
        account_add_member "$sock_group" "$GROUP_USER"
    fi
    if ((ACCOUNTS_CHANGED)); then
        mount -n --bind -- "$ACCOUNTS_DIR/passwd" /etc/passwd || die "cannot bind-mount over /etc/passwd"
        mount -n --bind -- "$ACCOUNTS_DIR/group" /etc/group || die "cannot bind-mount over /etc/group"
    fi
    if [[ -n $sock_group ]]; then
        # its home, in the namespace's own /run
        mkdir -p -- "/run/$GROUP_USER"
        chown -- "$GROUP_USER:$GROUP_USER" "/run/$GROUP_USER" ||
            die "cannot give /run/$GROUP_USER to $GROUP_USER"
        chmod 0700 -- "/run/$GROUP_USER"
    fi
}

inner_root_cleanup() {
    local status=$?
    trap '' INT TERM HUP
    set +e
    stop_daemons /run /run/libvirt/qemu
    # For the outer harness, in case a signal made it lose our exit status.
    printf '%s\n' "$status" >"$HARNESS_STATE/.exit-status"
    exit "$status"
}

# ---------------------------------------------------------------------------
# Non-root: private qemu:///session

session_main() {
    local state=$1
    shift
    local xdg=$state/xdg
    SESSION_XDG=$xdg

    trap 'session_cleanup' EXIT
    install_signal_traps
    if ((INTERRUPTED)); then exit 143; fi

    export XDG_RUNTIME_DIR="$xdg/run"
    export XDG_CONFIG_HOME="$xdg/config"
    export XDG_CACHE_HOME="$xdg/cache"
    export XDG_DATA_HOME="$xdg/data"
    # A reused state dir may hold stale sockets and pid files.
    rm -rf -- "$XDG_RUNTIME_DIR"
    mkdir -p -- "$xdg" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME" \
        "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
    chmod 0700 -- "$xdg" "$XDG_RUNTIME_DIR"
    mkdir -p -- "$state/test"

    write_configs "$XDG_CONFIG_HOME/libvirt" "$XDG_CACHE_HOME/libvirt" 0
    start_daemons "$XDG_CONFIG_HOME/libvirt" "$XDG_CACHE_HOME/libvirt" \
        "$XDG_RUNTIME_DIR/libvirt" qemu:///session
    export_test_env qemu:///session "$state/test"
    run_cmd "$state/.cmd-status" "$@"
    exit "$CMD_STATUS"
}

SESSION_XDG=

# Kill our processes that carry the private XDG dirs in their environment or
# command line (daemons auto-spawned by CMD's clients, leftovers of CMD, and
# QEMU, whose environment and command line point there), except this script
# and its ancestors.
session_sweep() {
    local p pid ppid stat me=$$ pids=() ancestors=" "
    pid=$me
    while [[ $pid =~ ^[0-9]+$ ]] && ((pid > 1)); do
        ancestors+="$pid "
        read -r stat 2>/dev/null <"/proc/$pid/stat" || break
        stat=${stat##*) }
        read -r _ ppid _ <<<"$stat"
        pid=$ppid
    done
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ $ancestors == *" $pid "* ]] && continue
        [[ -O $p ]] || continue
        # (No pipe: with pipefail, grep -q ending early would fail it.)
        if grep -qasF -- "$SESSION_XDG/" "$p/environ" "$p/cmdline"; then
            pids+=("$pid")
        fi
    done
    if ((${#pids[@]})); then
        msg "killing leftover process(es) ${pids[*]}"
        terminate 5 "${pids[@]}"
    fi
}

session_cleanup() {
    local status=$?
    trap '' INT TERM HUP
    set +e
    stop_daemons "$XDG_RUNTIME_DIR/libvirt" "$XDG_RUNTIME_DIR/libvirt/qemu/run"
    session_sweep
    remove_state
    exit "$status"
}

# ---------------------------------------------------------------------------
# Outer level: options, state dir, namespace

if [[ ${_WITH_LIBVIRTD_INNER:-} == 1 ]] && ((EUID == 0)); then
    unset _WITH_LIBVIRTD_INNER
    state=${_WITH_LIBVIRTD_STATE:?}
    net=${_WITH_LIBVIRTD_NET:-0}
    sock_group=${_WITH_LIBVIRTD_SOCK_GROUP:-}
    unset _WITH_LIBVIRTD_STATE _WITH_LIBVIRTD_NET _WITH_LIBVIRTD_SOCK_GROUP
    inner_root "$state" "$net" "$sock_group" "$@"
fi

# Until a clean-up is in place, a signal just marks that we must stop.
trap 'INTERRUPTED=1' INT TERM HUP

state_dir=
sock_group=${DOMCLONE_TEST_SOCK_GROUP-libvirt}
while (($#)); do
    case $1 in
        --sock-group)
            (($# >= 2)) || { msg "--sock-group needs an argument"; exit "$EXIT_HARNESS"; }
            sock_group=$2
            shift 2
            ;;
        --sock-group=*)
            sock_group=${1#--sock-group=}
            shift
            ;;
        --state-dir)
            (($# >= 2)) || { msg "--state-dir needs an argument"; exit "$EXIT_HARNESS"; }
            state_dir=$2
            shift 2
            ;;
        --state-dir=*)
            state_dir=${1#--state-dir=}
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        --)
            shift
            break
            ;;
        -*)
            msg "unknown option: $1 (put the command after --)"
            exit "$EXIT_HARNESS"
            ;;
        *) break ;;
    esac
done
(($#)) || { msg "no command given; usage: $PROG [--state-dir DIR] [--sock-group GROUP] [--] CMD [ARGS...]"; exit "$EXIT_HARNESS"; }
if [[ -n $sock_group && ! $sock_group =~ ^[a-z_][a-z0-9_-]*$ ]]; then
    msg "--sock-group: '$sock_group' is not a usable group name"
    exit "$EXIT_HARNESS"
fi

own_state=0
if [[ -n $state_dir ]]; then
    mkdir -p -- "$state_dir" || die "cannot create state dir $state_dir"
    state_dir=$(cd -- "$state_dir" && pwd -P) || die "cannot use state dir"
else
    base=${TMPDIR:-/var/tmp}
    [[ $base == /* ]] || base=$PWD/$base
    base=${base%/}
    # Like "mktemp -d", without a command substitution (see above): the
    # directory is ours as soon as it exists, so a signal cannot leak it.
    for _ in {1..100}; do
        printf -v state_dir '%s/with-libvirtd.%06d' "$base" $((RANDOM * 32768 + RANDOM))
        if mkdir -m 0700 -- "$state_dir" 2>/dev/null ||
            { ((INTERRUPTED)) && [[ -d $state_dir ]]; }; then
            own_state=1
            break
        fi
        [[ -d $base && -w $base ]] || break
    done
    ((own_state)) || die "cannot create a state dir under $base"
fi

remove_state() {
    if ((own_state)) && [[ ${DOMCLONE_KEEP_STATE:-0} != 1 ]]; then
        rm -rf -- "$state_dir"
    else
        msg "state kept in $state_dir"
    fi
}

if ((INTERRUPTED)); then
    remove_state
    exit $((128 + 15))
fi

if ((EUID != 0)); then
    # session_main's EXIT trap stops the daemons, then removes the state.
    session_main "$state_dir" "$@"
fi

# Root from here on.
case $state_dir/ in
    /run/* | /var/run/* | /etc/libvirt/* | /var/lib/libvirt/* | /var/cache/libvirt/* | /var/log/libvirt/*)
        rm_dir=$state_dir
        ((own_state)) && rmdir -- "$rm_dir" 2>/dev/null
        die "state dir $rm_dir would be hidden by the private mounts; use another TMPDIR or --state-dir"
        ;;
esac
command -v unshare >/dev/null || die "unshare not found (util-linux)"
for d in /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
    if [[ ! -d $d ]]; then
        mkdir -p -- "$d" || die "cannot create mount point $d"
    fi
done

# A private network namespace, for the TCP listener, if one can be made
# (some containers forbid it) and its loopback brought up.
net=0
net_opt=()
if ! command -v ip >/dev/null && [[ ! -x /usr/sbin/ip ]]; then
    msg "ip not found (iproute2; run scripts/install-deps.sh): no private network, no TCP listener"
elif ! unshare --net -- true 2>/dev/null; then
    msg "cannot make a network namespace here: no TCP listener"
else
    net=1
    net_opt=(--net)
fi

# The inner harness is PID 1 of the new PID namespace, a child of unshare.
UNSHARE_PID=
NS_INIT_PID=
NS_INIT_START=

# proc_start PID: sets START to the start time of process PID (to recognise
# it even if its PID were reused).
START=
proc_start() {
    local stat f
    START=
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    read -ra f <<<"${stat##*) }"
    START=${f[19]}
}

find_ns_init() {
    local c
    [[ -z $NS_INIT_PID ]] || return 0
    [[ -n $UNSHARE_PID ]] || return 1
    read_children "$UNSHARE_PID"
    c=${CHILDREN%% *}
    [[ -n $c ]] || return 1
    proc_start "$c" || return 1
    NS_INIT_START=$START
    NS_INIT_PID=$c
}

ns_init_alive() {
    [[ -n $NS_INIT_PID ]] && proc_start "$NS_INIT_PID" &&
        [[ $START == "$NS_INIT_START" ]] && ! is_zombie "$NS_INIT_PID"
}

# unshare blocks SIGINT/SIGTERM while it waits (and dies of SIGHUP): signal
# the inner harness directly; it kills CMD and cleans up.
forward_term() {
    find_ns_init || return 0
    if ns_init_alive; then kill -TERM "$NS_INIT_PID" 2>/dev/null || true; fi
}

forward_signal() {
    INTERRUPTED=1
    forward_term
}
trap 'forward_signal' INT TERM HUP

if ((!own_state)); then rm -f -- "$state_dir/.exit-status"; fi
# --kill-child: should unshare itself be killed, the inner harness gets
# SIGTERM and cleans up.
_WITH_LIBVIRTD_INNER=1 _WITH_LIBVIRTD_STATE="$state_dir" _WITH_LIBVIRTD_NET=$net \
    _WITH_LIBVIRTD_SOCK_GROUP="$sock_group" \
    unshare --mount --propagation private --pid "${net_opt[@]}" --fork --kill-child=SIGTERM \
    --mount-proc -- "$BASH" "$SELF" "$@" <&0 &
UNSHARE_PID=$!
for _ in {1..100}; do
    find_ns_init && break
    kill -0 "$UNSHARE_PID" 2>/dev/null || break
    sleep 0.02 || true
done
wait_for_child "$UNSHARE_PID" "$state_dir/.exit-status" forward_term
status=$CHILD_STATUS
UNSHARE_PID=
if [[ -z $NS_INIT_PID && ! -e $state_dir/.exit-status ]] && ((status != 0)); then
    msg "unshare failed (exit status $status): no private namespace, no daemon"
    status=$EXIT_HARNESS
fi
if ns_init_alive; then
    # unshare died before the inner harness: wait until that has cleaned up.
    while ns_init_alive; do
        ((!INTERRUPTED)) || forward_term
        sleep 0.1 || true
    done
    if ! { [[ -s $state_dir/.exit-status ]] && read -r status <"$state_dir/.exit-status"; }; then
        status=$((128 + 15))
    fi
fi
if ((status != 0)) && [[ ${DOMCLONE_KEEP_STATE:-0} != 1 ]] && ((own_state)); then
    verbose "exit status $status; DOMCLONE_KEEP_STATE=1 keeps the daemon logs"
fi
remove_state
exit "$status"
