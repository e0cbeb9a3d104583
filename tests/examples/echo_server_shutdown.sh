#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/examples/echo_server_shutdown.sh ECHO_SERVER - the example's
# graceful shutdown: with a connection open, SIGTERM stops accepting (a new
# connect is refused) while the open connection keeps being served; when
# it closes the server exits 0. Exit 77 (skip) where io_uring is refused.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

server=$1
out=$(mktemp)
trap 'kill -9 "$pid" 2>/dev/null || true; rm -f "$out"' EXIT

start_server "$out" "$server" -p 0 -g 10000

python3 - "$port" "$pid" <<'PY'
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
c = socket.create_connection(("127.0.0.1", port), timeout=5)
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
