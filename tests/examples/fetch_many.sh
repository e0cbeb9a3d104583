#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/examples/fetch_many.sh FETCH_MANY - the concurrent fetcher against
# local servers: Python's http.server over http:// (native client) and the
# same over https:// with a self-signed certificate made by openssl
# (libcurl). Checks the status and byte count of each URL, in the order
# given, for a mix of good, missing (404), unreachable and malformed URLs;
# the exit status (1 when any URL failed, 0 when all were fetched); and
# that https:// works with -C CAFILE or -k and fails without. Exit 77
# (skip) without openssl or where io_uring is refused.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

prog=$1
command -v openssl >/dev/null || { echo "no openssl: skipped"; exit 77; }
dir=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

mkdir "$dir/www"
head -c 100000 /dev/urandom >"$dir/www/big.bin"
printf 'hi\n' >"$dir/www/small.txt"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$dir/key.pem" \
	-out "$dir/cert.pem" 2>/dev/null

python3 - "$dir" >"$dir/ports" 2>"$dir/server.log" <<'PY' &
import functools, http.server, ssl, sys, threading
d = sys.argv[1]
h = functools.partial(http.server.SimpleHTTPRequestHandler,
                      directory=d + "/www")
plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/cert.pem", d + "/key.pem")
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
threading.Thread(target=tls.serve_forever, daemon=True).start()
print(plain.server_address[1], tls.server_address[1], flush=True)
plain.serve_forever()
PY
pid=$!
for _ in $(seq 100); do
	[[ -s $dir/ports ]] && break
	sleep 0.05
done
read -r hport sport <"$dir/ports"
h=http://127.0.0.1:$hport
s=https://localhost:$sport

# fetch WANT_RC ARGS... - run fetch_many; its output is in $dir/out.
fetch() {
	local want=$1 rc=0
	shift
	timeout 30 "$prog" "$@" >"$dir/out" 2>&1 || rc=$?
	((rc == 77)) && skip_refused
	if ((rc != want)); then
		echo "fetch_many $* exited $rc, not $want:" >&2
		cat "$dir/out" >&2
		exit 1
	fi
}

# expect N PATTERN - line N of the output matches PATTERN.
expect() {
	local line
	line=$(sed -n "$1p" "$dir/out")
	if [[ ! $line =~ $2 ]]; then
		echo "line $1: '$line' does not match '$2'; output:" >&2
		cat "$dir/out" >&2
		exit 1
	fi
}

fetch 1 "$h/big.bin" "$h/nope" http://127.0.0.1:1/ "$h/small.txt" \
	'http://bad host/' "$h/big.bin"
expect 1 "big.bin +200, 100000 bytes"
expect 2 "nope +404, "
expect 3 "127.0.0.1:1/ +error: Connection refused"
expect 4 "small.txt +200, 3 bytes"
expect 5 "error: "
expect 6 "big.bin +200, 100000 bytes"
expect 7 "^6 URLs in "

fetch 0 "$h/small.txt" "$h/nope"
fetch 0 -C "$dir/cert.pem" "$s/big.bin" "$h/big.bin" "$s/small.txt"
expect 1 "https://localhost:$sport/big.bin +200, 100000 bytes"
expect 3 "small.txt +200, 3 bytes"
fetch 0 -k "$s/big.bin"
expect 1 "200, 100000 bytes"
fetch 1 "$s/big.bin"
expect 1 "error: "
fetch 2
fetch 2 -C
echo "fetch_many: http and https mixes, errors and exit statuses as expected"
