#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/bench.sh - build coil for speed and run the benchmark suite: the
# README's benchmark command. Works from any directory and on a bare
# Debian 12 machine (scripts/deps.sh installs what is missing, perf, strace
# and gnuplot included when the system has them). The quick suite takes
# about two minutes; it ends with the summary table and the paths of the
# JSON file and the chart (bench/README.md explains them).
#
# Usage: scripts/bench.sh [--quick | --full] [bench/run arguments...]
#   Arguments go to bench/run as they are; it runs --quick by default.
#
# Environment:
#   COIL_BENCH_BUILD_DIR  build directory (default: build-bench)
#   COIL_MESON_ARGS       extra `meson setup` arguments, split on spaces;
#                         the test suite is left out unless they say
#                         -Dtests=...
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd -- "$root"

bash scripts/deps.sh --all

build=${COIL_BENCH_BUILD_DIR:-build-bench}
read -r -a setup_args <<<"${COIL_MESON_ARGS:-}"
# The benchmarks need neither the tests nor cmocka: a shorter build.
[[ " ${COIL_MESON_ARGS:-} " == *" -Dtests="* ]] || setup_args+=(-Dtests=false)

if [[ -f $build/meson-private/coredata.dat ]]; then
	meson setup --reconfigure "$build" --buildtype=release "${setup_args[@]}"
else
	meson setup "$build" --buildtype=release "${setup_args[@]}"
fi
meson compile -C "$build"

[[ $build == /* ]] || build=$root/$build
exec "$root/bench/run" --build "$build" "$@"
