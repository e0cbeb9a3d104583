#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A small HTTP/1.1 server for tests/test_http_client.c, on Python's
http.server (stdlib only). Listens on 127.0.0.1, a free port, prints the
port on stdout and serves until killed, or until the test that started it
is gone (a failed assert skips the test's teardown: the server must not
outlive it, holding the test's output open).

Usage: http_test_server.py [--tls CERT KEY]

Routes: /hello (Content-Length "hello"), /chunked ("hello world" in
three chunks), /redirect (302 to /hello), /stall (5 of 10 body bytes, then
nothing for a minute), anything else 404.
"""
import http.server
import os
import ssl
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def send_body(self, status, body, extra=()):
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def do_GET(self):
        if self.path == '/hello':
            self.send_body(200, b'hello')
        elif self.path == '/chunked':
            self.send_response(200)
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            for part in (b'hello', b' ', b'world'):
                self.wfile.write(b'%x\r\n%s\r\n' % (len(part), part))
            self.wfile.write(b'0\r\n\r\n')
        elif self.path == '/stall':
            self.send_response(200)
            self.send_header('Content-Length', '10')
            self.end_headers()
            self.wfile.write(b'hello')
            self.wfile.flush()
            time.sleep(60)
        elif self.path == '/redirect':
            self.send_body(302, b'', [('Location', '/hello')])
        else:
            self.send_body(404, b'not found')

    do_HEAD = do_GET


def exit_with_parent():
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    if len(sys.argv) == 4 and sys.argv[1] == '--tls':
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
