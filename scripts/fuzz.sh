#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the libFuzzer targets (clang, ASan, UBSan) and runs each on its
# seed corpus, the given time split between them:
#   fuzz-plan  the clone planner; seeds: the domain XMLs under tests/data
#   fuzz-seed  the cloud-init seed reader; seeds: images and meta-data
#              written by fuzz-seed-corpus (the tests' image builder),
#              and fuzz/found-seed: inputs that once broke it, kept so
#              that every run tries them again
#   scripts/fuzz.sh [SECONDS [TARGET...]]    (default 60, both targets)
# New inputs go to $BUILDDIR/fuzz-corpus-TARGET (not the source tree); a
# crash leaves crash-* there and makes the script fail.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(plan seed)
builddir=${BUILDDIR:-$top/build-fuzz}
each=$(( seconds / ${#targets[@]} ))
[ "$each" -gt 0 ] || each=1

"$top/scripts/install-deps.sh"
CC=clang "$top/scripts/build.sh" "$builddir" --enable-fuzzing CC=clang >/dev/null

export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp
for target in "${targets[@]}"; do
    make -C "$builddir" "fuzz/fuzz-$target" >/dev/null
    corpus=$builddir/fuzz-corpus-$target
    mkdir -p "$corpus"
    case $target in
    plan) seeds=("$top/tests/data/clone") ;;
    seed)
        make -C "$builddir" fuzz/fuzz-seed-corpus >/dev/null
        "$builddir/fuzz/fuzz-seed-corpus" "$builddir/fuzz-seeds-seed"
        seeds=("$builddir/fuzz-seeds-seed" "$top/fuzz/found-seed") ;;
    *) echo "fuzz.sh: no target '$target' (plan, seed)" >&2; exit 2 ;;
    esac
    echo "== fuzz-$target: $each s"
    (cd "$corpus" && "$builddir/fuzz/fuzz-$target" -max_total_time="$each" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "$corpus" "${seeds[@]}" 2>&1 | tail -n 25)
    # a crash fails the pipeline's first command; pipefail makes it ours
done
