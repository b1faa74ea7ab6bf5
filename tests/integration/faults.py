# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A unix-socket proxy in front of a real lab daemon that refuses the requests a test names, so a module's
failure half-way (after it has changed something) can be provoked on demand. Every other request goes to the
daemon unchanged: the daemon, not the proxy, answers it."""

from __future__ import annotations

import http.server
import json
import os
import socketserver
import threading

from ansible_collections.lxdops.server.plugins.module_utils.client import _UnixConnection


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class RefusingProxy:
    """refuse(method, path_prefix, body_test=None): from then on, matching requests get a 500 with an LXD error
    body; `refused` lists them. `url` is what a module's `url` option takes."""

    def __init__(self, upstream_socket, folder):
        self.upstream = upstream_socket
        self.path = os.path.join(str(folder), "refusing.socket")
        self.rules = []
        self.refused = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.matches(self.command, self.path, body):
                    proxy.refused.append((self.command, self.path))
                    self.answer(500, {}, json.dumps({"type": "error", "error": "refused by the test's proxy",
                                                     "error_code": 500}).encode())
                    return
                upstream = _UnixConnection(proxy.upstream, 600)
                headers = dict((k, v) for k, v in self.headers.items() if k.lower() != "connection")
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                self.answer(response.status, response.getheaders(), data)

            def answer(self, status, headers, data):
                self.send_response(status)
                for key, value in dict(headers).items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

        self.server = _Server(self.path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "unix:" + self.path

    def refuse(self, method, path_prefix, body_test=None):
        self.rules.append((method, path_prefix, body_test))

    def matches(self, method, path, body):
        for rule_method, prefix, body_test in self.rules:
            if method == rule_method and path.startswith(prefix):
                if body_test is None or body_test(json.loads(body or b"null")):
                    return True
        return False

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        os.unlink(self.path)
