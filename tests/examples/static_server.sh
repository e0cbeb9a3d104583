#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/examples/static_server.sh STATIC_SERVER - the example file server
# end to end over loopback: a whole file (bytes compared), index.html for
# "/", HEAD, a byte range (206), an unsatisfiable range (416),
# If-Modified-Since (304), If-Range (the range only while it matches), a
# missing file (404), ".." and absolute paths refused (400), a symlink out of the directory refused (403), and exit 0
# on SIGTERM. Exit 77 (skip) where io_uring is refused.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

server=$1
dir=$(mktemp -d)
out=$(mktemp)
trap 'kill -9 "$pid" 2>/dev/null || true; rm -rf "$dir" "$out"' EXIT

head -c 300000 /dev/urandom >"$dir/blob.bin"
echo "<h1>index</h1>" >"$dir/index.html"
mkdir "$dir/sub" "$dir/site" "$dir/outside"
echo secret >"$dir/outside/secret.txt"
echo inside >"$dir/site/in.txt"
mv "$dir/blob.bin" "$dir/index.html" "$dir/sub" "$dir/site/"
ln -s ../outside "$dir/site/out"

start_server "$out" "$server" -p 0 -H 127.0.0.1 "$dir/site"

python3 - "$port" "$dir/site" <<'PY'
import http.client, os, sys, time, email.utils
port, root = int(sys.argv[1]), sys.argv[2]
blob = open(os.path.join(root, "blob.bin"), "rb").read()

def req(method, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body

r, b = req("GET", "/blob.bin")
assert r.status == 200 and b == blob, ("whole file", r.status, len(b))
r, b = req("GET", "/")
assert r.status == 200 and b"<h1>index</h1>" in b, ("index", r.status)
r, b = req("HEAD", "/blob.bin")
assert r.status == 200 and b == b"" and \
    int(r.getheader("Content-Length")) == len(blob), ("HEAD", r.status)
r, b = req("GET", "/blob.bin", {"Range": "bytes=1000-1999"})
assert r.status == 206 and b == blob[1000:2000], ("range", r.status, len(b))
r, b = req("GET", "/blob.bin", {"Range": "bytes=999999-"})
assert r.status == 416, ("416", r.status)
mtime = os.stat(os.path.join(root, "blob.bin")).st_mtime
ims = email.utils.formatdate(mtime + 60, usegmt=True)
r, b = req("GET", "/blob.bin", {"If-Modified-Since": ims})
assert r.status == 304 and b == b"", ("304", r.status)
# The two obsolete HTTP-date forms a recipient must accept (RFC 9110 5.6.7).
later = time.gmtime(mtime + 60)
for old in (time.strftime("%A, %d-%b-%y %H:%M:%S GMT", later),
            time.asctime(later)):
    r, b = req("GET", "/blob.bin", {"If-Modified-Since": old})
    assert r.status == 304 and b == b"", ("304 obsolete date", old, r.status)
r, b = req("GET", "/no-such-file")
assert r.status == 404, ("404", r.status)
r, b = req("GET", "/sub/../../coil-static-outside")
assert r.status == 400, ("dot-dot", r.status)
# An empty first segment made the path absolute: openat ignored the site.
for path in ("//etc/passwd", "/%2fetc/passwd", "/sub//in.txt"):
    r, b = req("GET", path)
    assert r.status == 400 and b"root:" not in b, (path, r.status)
# A symlink in the middle of the path leading out of the site.
r, b = req("GET", "/out/secret.txt")
assert r.status == 403 and b"secret" not in b, ("symlink out", r.status)
r, b = req("GET", "/in.txt")
assert r.status == 200 and b == b"inside\n", ("inside", r.status)
# Not a valid byte-range-spec (RFC 9110 14.1.1: digits only): ignored,
# the whole file, rather than read as a signed or spaced number.
for rg in ("bytes=0--5", "bytes=+0-9", "bytes= 0-9", "bytes=-+5", "bytes=0-+9"):
    r, b = req("GET", "/blob.bin", {"Range": rg})
    assert r.status == 200 and b == blob, ("bad range", rg, r.status)
# If-Range (RFC 9110 13.1.5): the range is served only while the
# validator matches Last-Modified; a stale date or an entity tag (this
# server has none) gets the whole file, never a piece of a newer one.
lm = email.utils.formatdate(mtime, usegmt=True)
r, b = req("GET", "/blob.bin", {"Range": "bytes=0-9", "If-Range": lm})
assert r.status == 206 and b == blob[:10], ("if-range match", r.status)
for ir in (email.utils.formatdate(mtime - 3600, usegmt=True), '"x"'):
    r, b = req("GET", "/blob.bin", {"Range": "bytes=0-9", "If-Range": ir})
    assert r.status == 200 and b == blob, ("if-range stale", ir, r.status)
# Keep-alive: several requests on one connection.
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
for _ in range(3):
    c.request("GET", "/index.html")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"<h1>index</h1>\n"
c.close()
print("static_server: 22 checks passed")
PY

stop_server "$out"
