#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/cross-test.sh - build coil for aarch64 (-Werror) and run its test
# programs under qemu-user: the aarch64 context switch
# (runtime/arch/aarch64/ctx.S) is proven by tests/test_ctx.c on an x86-64
# machine, and the whole tree is compiled for the second CPU coil supports.
#
# qemu-user has no io_uring (io_uring_setup is ENOSYS under it), so every
# program that needs a ring skips itself (exit 77, see
# test_require_io_uring() in tests/helpers.c): what runs for real is the
# context switch and the HTTP parser. This script fails unless those two
# passed: a skip there would prove nothing. The example scripts are left
# out (they start the examples directly, without the emulator).
#
# Usage: scripts/cross-test.sh
#   Installs what it needs (scripts/deps.sh --cross-aarch64: meson and the
#   other build tools, the cross compiler, qemu-user, arm64 cmocka and
#   liburing; as root). Builds in
#   $COIL_CROSS_BUILD_DIR (default build-aarch64).
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd -- "$root"

bash scripts/deps.sh --cross-aarch64

build=${COIL_CROSS_BUILD_DIR:-build-aarch64}
if [[ ! -f $build/meson-private/coredata.dat ]]; then
	meson setup "$build" --cross-file scripts/cross/aarch64-linux-gnu.ini \
		-Dwerror=true -Dtests=true -Dbench=false
fi
meson compile -C "$build"

# Unset here whatever the caller set: under qemu the refusal is expected.
COIL_TEST_REQUIRE_URING= meson test -C "$build" --print-errorlogs \
	--no-suite examples --timeout-multiplier 3

# Those that must have run, not skipped.
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
want = {"test_ctx", "test_http_parser"}
results = {}
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        results[t["name"].split(" / ")[-1]] = t["result"]
bad = {n: results.get(n, "not run") for n in want if results.get(n) != "OK"}
if bad:
    sys.exit("cross-test: these must pass on aarch64: %s" % bad)
print("cross-test: aarch64 ok: %s passed under qemu-user; %d skipped "
      "(no io_uring under qemu-user)" %
      (", ".join(sorted(want)),
       sum(1 for r in results.values() if r == "SKIP")))
PY
