#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/fuzz/run.sh [SECONDS] - build the libFuzzer target for the HTTP/1.1
# parser (fuzz_http_parser.c + net/http/parser.c) with clang and
# -fsanitize=fuzzer,address,undefined, then fuzz it for SECONDS (default 30)
# starting from the seeds in tests/fuzz/corpus/.
#
# Exit status: 0 no crash; 1 a crash, leak, timeout or broken invariant (the
# reproducer is saved as $COIL_FUZZ_DIR/crash-*; rerun it with
# `$COIL_FUZZ_DIR/fuzz_http_parser FILE`); 77 clang or libFuzzer is not
# available (the reason is printed).
#
# Environment: CLANG (default clang), COIL_FUZZ_DIR (default build-fuzz/ at
# the top of the tree: the binary, the growing corpus, the artifacts). New
# inputs go there, never into the committed seeds.
set -euo pipefail

prog=fuzz/run.sh
secs=${1:-30}
[[ $secs =~ ^[0-9]+$ ]] || {
	echo "usage: tests/fuzz/run.sh [SECONDS]" >&2
	exit 2
}

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$here/../.." && pwd)
out=${COIL_FUZZ_DIR:-$root/build-fuzz}
cc=${CLANG:-clang}
flags=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-g -O1 -std=gnu11 -Wall -Wextra)

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "$prog: SKIP: $cc not found (apt-get install clang)" >&2
	exit 77
fi
mkdir -p "$out/corpus"

# libFuzzer and the sanitizer runtimes ship apart from clang on Debian.
probe=$out/probe.c
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)
{ (void)d; (void)n; return 0; }' >"$probe"
if ! "$cc" "${flags[@]}" "$probe" -o "$out/probe" 2>"$out/probe.log"; then
	echo "$prog: SKIP: $cc cannot link -fsanitize=fuzzer" \
		"(apt-get install libclang-rt-dev):" >&2
	head -3 "$out/probe.log" >&2
	exit 77
fi

"$cc" "${flags[@]}" -I "$root/net/http" -I "$here" \
	"$here/fuzz_http_parser.c" "$root/net/http/parser.c" \
	-o "$out/fuzz_http_parser"

# -error_exitcode: libFuzzer's default, 77, would read as "skipped".
rc=0
"$out/fuzz_http_parser" -max_total_time="$secs" -max_len=4096 -timeout=10 \
	-rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 \
	-dict="$here/http.dict" -artifact_prefix="$out/" -print_final_stats=1 \
	"$out/corpus" "$here/corpus" || rc=$?
if ((rc)); then
	echo "$prog: FAILED (status $rc); reproducer in $out/" >&2
	exit 1
fi
echo "$prog: no crash in ${secs}s"
