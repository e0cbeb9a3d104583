#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/examples/echo_server_shutdown.sh ECHO_SERVER [SERVER ARGS...] - the
# example echoes byte-exact (1 MiB of random bytes, read back while it is
# still being sent, so the echo crosses many receives and partial sends),
# and shuts down gracefully: with a connection open, SIGTERM stops
# accepting (a new connect is refused) while the open connection keeps
# being served; when it closes the server exits 0. Run once per receive
# mode (-m multishot, -m recv). Exit 77 (skip) where io_uring is refused.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

server=$1
shift
out=$(mktemp)
trap 'kill -9 "$pid" 2>/dev/null || true; rm -f "$out"' EXIT

start_server "$out" "$server" -p 0 -g 10000 "$@"

python3 - "$port" "$pid" <<'PY'
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
c = socket.create_connection(("127.0.0.1", port), timeout=5)
# Bulk: send from a thread while reading here, or both sides' buffers fill.
import threading
blob = os.urandom(1 << 20)
t = threading.Thread(target=c.sendall, args=(blob,))
t.start()
got = bytearray()
while len(got) < len(blob):
    chunk = c.recv(1 << 16)
    assert chunk, "connection closed after %d echoed bytes" % len(got)
    got += chunk
t.join()
assert bytes(got) == blob, "echo differs from what was sent"
c.sendall(b"before\n")
assert c.recv(64) == b"before\n"
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
# Not accepting any more ...
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    sys.exit("a new connection was accepted after SIGTERM")
except OSError:
    pass
# ... but the open connection is still served.
c.sendall(b"after\n")
assert c.recv(64) == b"after\n", "open connection not served after SIGTERM"
c.close()
PY

wait_server "$out"
cat "$out"
grep -q "1 connection(s) served" "$out"
