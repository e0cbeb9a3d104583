#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/examples/unix_echo.sh UNIX_ECHO - the Unix-socket echo example end
# to end: its own clients (no -s), then as a server (-s) on a filesystem
# path: a line longer than its 1024-byte buffer comes back whole, and
# SIGTERM makes it exit 0 and remove the socket file. Exit 77 (skip) where
# io_uring is refused.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

prog=$1
dir=$(mktemp -d)
sock=$dir/echo.sock
out=$dir/out
pid=
trap '[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

rc=0
"$prog" -c 4 >"$out" 2>&1 || rc=$?
((rc == 77)) && skip_refused
if ((rc != 0)) || [[ $(grep -c 'got back' "$out") -lt 4 ]]; then
	echo "clients mode failed ($rc):" >&2
	cat "$out" >&2
	exit 1
fi

"$prog" -P "$sock" -s >"$out" 2>&1 &
pid=$!
for _ in $(seq 100); do
	[[ -S $sock ]] && break
	sleep 0.05
done
[[ -S $sock ]] || { echo "no socket at $sock" >&2; cat "$out" >&2; exit 1; }

python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
msg = b"A" * 3000 + b"\nshort\n"
s.sendall(msg)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
assert got == msg, ("echo", len(got), len(msg))
print("unix_echo: a 3000-byte line and a short one came back whole")
PY

kill -TERM "$pid"
rc=0
timeout 10 tail --pid="$pid" -f /dev/null || { echo "did not exit" >&2; exit 1; }
wait "$pid" || rc=$?
pid=
if ((rc != 0)); then
	echo "exit status $rc after SIGTERM:" >&2
	cat "$out" >&2
	exit 1
fi
if [[ -e $sock ]]; then
	echo "the socket file was left behind" >&2
	exit 1
fi
echo "unix_echo: SIGTERM: exit 0, socket file removed"
