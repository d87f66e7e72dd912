#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# issue18.sh - every speed row of issue 18 (section 3) in one run: the
# cases of clone-vs-peers.sh that the rows name (a, c, d2, e) and
# scale.sh, each side by side with virt-clone and cp + sync, medians,
# then the rows' verdicts together.
#
# Usage:
#   bench/issue18.sh [--runs N] [--domclone PATH] [--baseline PATH]
#
#   --runs N         rounds of every tool (default 3); medians
#   --domclone PATH  the binary to time (default: build/domclone)
#   --baseline PATH  another domclone build (the one before a change),
#                    timed in the same rounds, beside each row
#
# Run as root; each script re-executes itself under tests/with-libvirtd.sh
# (a private libvirtd; the host's libvirt is never touched). Both
# scripts' full tables go to stdout, then "Issue 18, section 3": their
# target lines. About 6 minutes with 3 rounds on a quiet 2-core machine
# (about 12 GiB free under $TMPDIR, default /var/tmp).
#
# Exit status: the first non-zero status of the two scripts, else 0.
set -euo pipefail

PROG="issue18"
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
BENCH_DIR=$(dirname -- "$SELF")
REPO=$(dirname -- "$BENCH_DIR")
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

usage() { sed -n '/^# issue18.sh - /,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; }

RUNS_GIVEN=0
for a in "$@"; do [[ $a == --runs* ]] && RUNS_GIVEN=1; done
parse_args "$@"
((RUNS_GIVEN)) || RUNS=3
forward_args

OUT=$(mktemp -d "${TMPDIR:-/var/tmp}/issue18.XXXXXX")
trap 'rm -rf -- "$OUT"' EXIT
rc=0
t0=$EPOCHREALTIME
BENCH_CASES="a c d2 e" "$BENCH_DIR/clone-vs-peers.sh" "${FORWARD[@]}" | tee "$OUT/peers" || rc=$?
printf '\n'
"$BENCH_DIR/scale.sh" "${FORWARD[@]}" | tee "$OUT/scale" || { st=$?; ((rc)) || rc=$st; }

# The target lines and the indented lines that follow each.
targets() {
    awk '/^Targets/ { on = 1; next } on && /^\(/ { on = 0 } on && NF' "$1"
}
printf '\nIssue 18, section 3: every row, medians of %s rounds (load average at the end: %s; %s s in all)\n' \
    "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(elapsed "$t0" "$EPOCHREALTIME")"
targets "$OUT/peers"
targets "$OUT/scale"
exit "$rc"
