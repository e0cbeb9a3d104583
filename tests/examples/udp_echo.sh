#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/examples/udp_echo.sh UDP_ECHO - the UDP echo example end to end:
# its own client (no -s), then as a server (-s) on a free loopback port:
# datagrams from python3 come back byte-exact (an empty one, a short one,
# the largest IPv4 one, and several in a row to one socket), each to its
# own sender, and SIGTERM makes it exit 0. Exit 77 (skip) where io_uring
# is refused.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

prog=$1
out=$(mktemp)
pid=
trap '[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -f "$out"' EXIT

rc=0
timeout 10 "$prog" -n 3 >"$out" 2>&1 || rc=$?
((rc == 77)) && skip_refused
if ((rc != 0)) || [[ $(grep -c 'got "datagram' "$out") -ne 3 ]]; then
	echo "client mode failed ($rc):" >&2
	cat "$out" >&2
	exit 1
fi

start_server "$out" "$prog" -p 0 -s

python3 - "$port" <<'PY'
import os, socket, sys
port = int(sys.argv[1])
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for s in (a, b):
    s.settimeout(5)
    s.bind(("127.0.0.1", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
# The largest datagram IPv4 carries: 65535 - 20 (IP) - 8 (UDP) bytes.
msgs = [b"", b"hello", os.urandom(65507), b"\0\r\n\xff", b"x" * 1400]
for m in msgs:
    a.sendto(m, ("127.0.0.1", port))
    got, frm = a.recvfrom(70000)
    assert got == m, ("echo", len(got), len(m))
    assert frm == ("127.0.0.1", port), frm
# Each answer goes to its own sender.
a.sendto(b"to a", ("127.0.0.1", port))
b.sendto(b"to b", ("127.0.0.1", port))
assert b.recvfrom(100)[0] == b"to b"
assert a.recvfrom(100)[0] == b"to a"
# A burst, in order (loopback does not reorder or drop at this size).
for i in range(20):
    a.sendto(b"burst %d" % i, ("127.0.0.1", port))
for i in range(20):
    assert a.recvfrom(100)[0] == b"burst %d" % i, i
print("udp_echo: empty, short, 65507-byte and burst datagrams came back")
PY

stop_server "$out"
pid=
echo "udp_echo: SIGTERM: exit 0"
