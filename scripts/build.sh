#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Configure and build domclone out of tree.
#   scripts/build.sh [BUILDDIR] [configure options...]
# BUILDDIR defaults to ./build. Warnings are errors.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-$top/build}
shift || true

cd "$top"
if [[ ! -x configure || configure.ac -nt configure || Makefile.am -nt Makefile.in ]]; then
    ./autogen.sh
fi
mkdir -p "$builddir"
cd "$builddir"
if [[ ! -f Makefile || "$top/configure" -nt Makefile || -n "$*" ]]; then
    "$top/configure" --enable-werror "$@"
fi
make -j"$(nproc)"
