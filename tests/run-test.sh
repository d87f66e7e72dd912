#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check runs every test program through this: GTest speaks TAP with
# --tap; each live test program gets a private libvirt daemon of its own
# unless one was given (DOMCLONE_TEST_URI). DOMCLONE_SKIP_LIVE=1 skips the
# live programs (a package build has no daemon to give them).
set -eu
test_program=$1
shift
case "$(basename "$test_program")" in
  test-live-*)
    if [ "${DOMCLONE_SKIP_LIVE:-0}" = 1 ]; then
      echo "1..0 # SKIP needs a libvirt daemon (DOMCLONE_SKIP_LIVE=1)"
      exit 0
    fi
    if [ -z "${DOMCLONE_TEST_URI:-}" ]; then
      exec "$(dirname "$0")/with-libvirtd.sh" "$test_program" --tap "$@"
    fi
    ;;
esac
exec "$test_program" --tap "$@"
