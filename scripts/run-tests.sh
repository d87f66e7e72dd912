#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The test command: install what is missing, build, run make -j check (unit
# tests, golden files, and live tests against a private libvirtd that
# tests/with-libvirtd.sh starts and stops).
#   scripts/run-tests.sh [configure options...]
# BUILDDIR (default ./build) selects the build tree, so a sanitizer build
# can sit beside the normal one:
#   BUILDDIR=build-asan scripts/run-tests.sh --enable-sanitizers
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-$top/build}

"$top/scripts/install-deps.sh"
"$top/scripts/build.sh" "$builddir" "$@"

cd "$builddir"
status=0
make -j"$(nproc)" check VERBOSE=1 2>&1 | tee check.out || status=$?
# One closing line any CI can read, from automake's summary.
pass=$(sed -n 's/^# PASS: *//p' check.out | tail -n 1)
fail=$(sed -n 's/^# FAIL: *//p' check.out | tail -n 1)
errors=$(sed -n 's/^# ERROR: *//p' check.out | tail -n 1)
skip=$(sed -n 's/^# SKIP: *//p' check.out | tail -n 1)
echo "${pass:-0} passed, $(( ${fail:-0} + ${errors:-0} )) failed, ${skip:-0} skipped"
if [[ $status -ne 0 && -z "$pass" ]]; then
    echo "run-tests: make check did not run (status $status)" >&2
fi
exit "$status"
