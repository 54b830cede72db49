#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A TLS server on 127.0.0.1 that answers every request with a 307
redirect to LOCATION + the request's path, after writing the request's
method and path as one line to LOG: test scaffolding ("a relay that
redirects elsewhere", tests/client and tests/applet), not product code.

usage: redirect_server.py CERT KEY LOCATION LOG
Prints "port N" once it listens; runs until killed.
"""
import http.server
import ssl
import sys

cert, key, location, log = sys.argv[1:5]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        with open(log, "a", encoding="utf-8") as f:
            f.write("%s %s\n" % (self.command, self.path))
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.send_response(307)
        self.send_header("Location", location + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = answer

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("port %d" % srv.server_address[1], flush=True)
srv.serve_forever()
