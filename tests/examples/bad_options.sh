#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/examples/bad_options.sh BUILD_EXAMPLES_DIR - every example that takes
# numbers in its options refuses a malformed or out-of-range one with exit
# status 2 and a line on stderr, before it listens or connects anywhere:
# "-p 70000" once wrapped to port 4464, "-p x" read as port 0, "-n 3x" as 3.
# Also: threads_vs_coroutines exits 1 when a variant could not run all N.
set -euo pipefail

bin=$1
fails=0

# refuse ARGS... - the example must exit 2 within 5 s, saying something.
refuse() {
	local rc=0 err
	err=$(timeout 5 "$bin/$1" "${@:2}" 2>&1 >/dev/null </dev/null) || rc=$?
	if ((rc != 2)) || [[ -z $err ]]; then
		echo "FAIL: $* exited $rc (want 2 and a message): $err" >&2
		fails=$((fails + 1))
	fi
}

for p in 70000 -1 x 80x ''; do
	refuse echo_client -p "$p" -c 1 -n 1
	refuse echo_server -H 127.0.0.1 -p "$p"
	refuse http_hello -H 127.0.0.1 -p "$p"
	refuse static_server -H 127.0.0.1 -p "$p" .
	refuse udp_echo -p "$p" -n 1
done
refuse echo_client -c 2x -n 1
refuse echo_client -n 1e3
refuse echo_client -n 99999999999999999999
refuse echo_client -s 128k
refuse echo_client -p 7000 stray-operand
refuse echo_server -H 127.0.0.1 -g 5s
refuse echo_server -H 127.0.0.1 -m epoll
refuse echo_server -H 127.0.0.1 stray-operand
refuse http_hello -H 127.0.0.1 stray-operand
refuse udp_echo -n x
refuse unix_echo -c 3x
refuse threads_vs_coroutines 100 1e4
refuse threads_vs_coroutines abc
refuse threads_vs_coroutines 0

# A variant that could not start every job is a failure, not a row to
# compare: with 1 GB of address space only about a hundred 8 MiB thread
# stacks fit, and the program printed a ratio and exited 0. (Not under
# AddressSanitizer, which cannot start in 1 GB of address space.)
if [[ $(ldd "$bin/threads_vs_coroutines" 2>/dev/null) == *libasan* ]]; then
	echo "bad_options: address-space check skipped (ASan build)"
else
	rc=0
	out=$( (ulimit -v 1000000 &&
		timeout 20 "$bin/threads_vs_coroutines" 1000) 2>&1) || rc=$?
	if ((rc != 1)) || [[ $out != *stopped:* ||
		$out == *threads/coil:* ]]; then
		echo "FAIL: threads_vs_coroutines with threads refused" \
			"exited $rc:" >&2
		echo "$out" >&2
		fails=$((fails + 1))
	fi
fi
((fails == 0)) || exit 1
echo "bad_options: every malformed option refused with status 2"
