#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the libFuzzer target (clang, ASan, UBSan) and runs it for a
# bounded time on the seed corpus: the domain XMLs under tests/data.
#   scripts/fuzz.sh [SECONDS]      (default 60)
# New inputs it finds go to $BUILDDIR/fuzz-corpus (not the source tree);
# a crash leaves crash-* there and makes the script fail.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
builddir=${BUILDDIR:-$top/build-fuzz}

"$top/scripts/install-deps.sh"
CC=clang "$top/scripts/build.sh" "$builddir" --enable-fuzzing CC=clang >/dev/null
make -C "$builddir" fuzz/fuzz-plan >/dev/null

mkdir -p "$builddir/fuzz-corpus"
cd "$builddir/fuzz-corpus"
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp
"$builddir/fuzz/fuzz-plan" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$builddir/fuzz-corpus" "$top/tests/data/clone" 2>&1 | tail -n 25
