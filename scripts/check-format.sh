#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fails when a C file is not formatted as .clang-format says, and shows
# the difference. CI runs it; "scripts/check-format.sh --fix" formats the
# tree in place.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if ! command -v clang-format >/dev/null; then
    echo "check-format: clang-format is missing (Debian: apt-get install clang-format)" >&2
    exit 1
fi
mapfile -t files < <(git ls-files -- 'src/*.[ch]' 'tests/*.[ch]' 'fuzz/*.[ch]' 2>/dev/null ||
    find src tests fuzz -name '*.[ch]' | sort)

if [[ ${1:-} == --fix ]]; then
    clang-format -i "${files[@]}"
    exit 0
fi

status=0
for f in "${files[@]}"; do
    if ! clang-format "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" - >&2; then
        status=1
    fi
done
if ((status)); then
    echo "check-format: the files above are not formatted; run scripts/check-format.sh --fix" >&2
else
    echo "check-format: ${#files[@]} files formatted"
fi
exit "$status"
