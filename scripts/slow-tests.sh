#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# slow-tests.sh - the live tests too slow for make check (GTest's -m slow):
# /reset/boot boots a clone made with --reset-identity, a full Debian 12
# under TCG (scripts/debian-image.sh), and reads from its console the
# machine-id and SSH host keys it made at first boot (3-5 minutes here);
# /reset/live-agent boots that Debian guest with its guest agent, clones it
# with --live --quiesce (its file systems frozen by the agent), checks the
# clone's file system and boots the clone (4-6 minutes).
#
# Usage: scripts/slow-tests.sh [BUILDDIR]   (default ./build, built already)
# As root, it builds the Debian image first if it is not cached. Prints the
# tests' TAP; exit status 0 when they passed or were skipped (no image, no
# daemon: "ok ... # SKIP"), 1 when one failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-$top/build}

if ((EUID == 0)); then
    "$top/scripts/debian-image.sh" build
fi
make -C "$builddir" tests/live/reset/test-live-reset >/dev/null
# make check's environment (Makefile.am, AM_TESTS_ENVIRONMENT), and its
# runner: a private libvirtd for the program
export G_TEST_SRCDIR="$top/tests" G_TEST_BUILDDIR="$builddir/tests" DOMCLONE="$builddir/domclone" LC_ALL=C \
    G_DEBUG=gc-friendly,fatal-warnings
# the runner's exit status does not say how the test went: its TAP does
tap=$("$top/tests/run-test.sh" "$builddir/tests/live/reset/test-live-reset" -m slow -p /reset/boot \
    -p /reset/live-agent 2>&1) || true
printf '%s\n' "$tap"
if grep -q -e '^not ok' -e 'Bail out!' <<<"$tap" || ! grep -q '^ok' <<<"$tap"; then
    echo "slow-tests: FAILED" >&2
    exit 1
fi
echo "slow-tests: passed" >&2
