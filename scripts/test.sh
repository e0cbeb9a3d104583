#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/test.sh - build coil and run its whole test suite: the README's
# test command. Works from any directory and on a bare Debian 12 machine
# (scripts/deps.sh installs what is missing).
#
# Usage: scripts/test.sh [meson test arguments...]
#   e.g. scripts/test.sh --suite task    or    scripts/test.sh test_timer
#
# Environment:
#   COIL_BUILD_DIR   build directory, relative to the repository root unless
#                    absolute (default: build)
#   COIL_MESON_ARGS  extra `meson setup` arguments, split on spaces, e.g.
#                    "-Db_sanitize=address,undefined -Dwerror=true". An
#                    existing build directory is reconfigured with them;
#                    options set earlier and not repeated keep their values
#                    (remove the directory to start over).
#
# Exits with meson test's status: 0 when every test passed or was skipped.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd -- "$root"

bash scripts/deps.sh --required

build=${COIL_BUILD_DIR:-build}
read -r -a setup_args <<<"${COIL_MESON_ARGS:-}"

if [[ -f $build/meson-private/coredata.dat ]]; then
	meson setup --reconfigure "$build" -Dtests=true "${setup_args[@]}"
else
	meson setup "$build" -Dtests=true "${setup_args[@]}"
fi
meson compile -C "$build"

exec meson test -C "$build" --print-errorlogs "$@"
