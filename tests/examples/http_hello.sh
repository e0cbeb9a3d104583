#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/examples/http_hello.sh HTTP_HELLO - the benchmark's hello-world
# server end to end over loopback, in its default and nginx-like (-n)
# modes: GET (body and Content-Length), HEAD (no body), three requests on
# one keep-alive connection, HTTP/1.0 closing, -n naming keep-alive once,
# and exit 0 on SIGTERM. Exit 77 (skip) where io_uring is refused.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

server=$1
out=$(mktemp)
trap 'kill -9 "$pid" 2>/dev/null || true; rm -f "$out"' EXIT

for mode in plain nginx; do
	args=(-p 0 -H 127.0.0.1)
	[[ $mode == nginx ]] && args+=(-n)
	start_server "$out" "$server" "${args[@]}"
	python3 - "$port" "$mode" <<'PY'
import http.client, socket, sys
port, mode = int(sys.argv[1]), sys.argv[2]

c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
for _ in range(3):                      # one connection, kept alive
    c.request("GET", "/")
    r = c.getresponse()
    b = r.read()
    assert r.status == 200 and b == b"Hello, world!\n", (r.status, b)
    assert r.getheader("Content-Length") == "14"
    conn = r.getheader("Connection")
    if mode == "nginx":
        assert conn == "keep-alive", conn
    else:
        assert conn is None, conn
c.request("HEAD", "/")
r = c.getresponse()
assert r.status == 200 and r.read() == b"" and \
    r.getheader("Content-Length") == "14", ("HEAD", r.status)
c.close()

# HTTP/1.0 without keep-alive: one response, then the server closes.
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
head, _, body = data.partition(b"\r\n\r\n")
assert body == b"Hello, world!\n", data
assert head.count(b"Connection:") <= 1, head
print("http_hello (%s): GET x3 kept alive, HEAD, HTTP/1.0 close: ok" % mode)
PY
	stop_server "$out"
done
