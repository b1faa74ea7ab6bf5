# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one place in this collection that talks to LXD.

Everything else (modules, inventory, connection plugin, roles' helpers) gets an
LXDClient from here. It speaks LXD's REST API with Python's own http.client over
the unix socket or https, on one kept-alive connection per client, so modules need
no third-party library where they run and start fast. Operations are awaited here
and their final status checked here; every failure becomes one LXDError with a
message a sysadmin can act on.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import select
import socket
import ssl
import struct
import threading
import time
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlparse

# parse_lxd_time is imported from here by the other module_utils: the one parser lives in lxdtime.
from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import ZERO_TIME, parse_lxd_time  # noqa: F401
from ansible_collections.lxdops.server.plugins.module_utils.daemon import (
    DEFAULT_SOCKETS,
    KIND_FACTS,
    LAYOUTS,
    kind_from_server,
    name_of,
)

DEFAULT_HTTPS_PORT = 8443
DEFAULT_TIMEOUT = 60
TRACE_ENV = "LXDOPS_TRACE_FILE"
EXEC_FAILURE_CODES = {"Command not found": 127, "Command not executable": 126}


# LXD's error when the command could not be attached to the instance (it did not start).
EXEC_NOT_STARTED = "Failed to retrieve PID of executing child process"
EXEC_START_ATTEMPTS = 4
# The most a command may run when the caller sets no limit (and the client's timeout is shorter).
EXEC_DEFAULT_TIMEOUT = 3600
# Sent once more when the connection drops before any answer: only what cannot change anything on the server.
# PUT is not among them: LXD takes actions by PUT (instance state, snapshot restore), and a PUT with an ETag that
# did take effect would fail its second time as a mismatch.
RETRY_METHODS = frozenset(("GET", "HEAD"))


class LXDError(Exception):
    """A failure talking to LXD, with a message meant for the user."""

    def __init__(self, message, status_code=None, error=None):
        super(LXDError, self).__init__(message)
        self.message = message
        self.status_code = status_code
        self.error = error


class LXDNotFound(LXDError):
    pass


class LXDConflict(LXDError):
    pass


class LXDUntrusted(LXDError):
    pass


class LXDPreconditionFailed(LXDError):
    pass


class LXDTimeout(LXDError):
    """A command ran past its time limit (the server answered; the command was too slow)."""


# The CLIs' config folders under a home, where each keeps the client pair it makes on first use: lxc's (package,
# snap), then incus's. The first holding a client.crt gives the default pair for https.
CLI_CONFIG_DIRS = tuple(LAYOUTS[key]["cli_config_dir"]
                        for key in (("lxd", "apt"), ("lxd", "snap"), ("incus", "package")))


def default_client_pair(home, isfile=os.path.isfile):
    """(client.crt, client.key) of the first CLI config folder under home that has a client.crt (else lxc's)."""
    folders = [os.path.join(home, folder) for folder in CLI_CONFIG_DIRS]
    folder = next((f for f in folders if isfile(os.path.join(f, "client.crt"))), folders[0])
    return os.path.join(folder, "client.crt"), os.path.join(folder, "client.key")


def is_container_path(path):
    """Whether a path is under /1.0/containers, the API LXD had before instances (Incus has only instances)."""
    return path.partition("?")[0].rstrip("/").split("/")[:3] == ["", "1.0", "containers"]


# How long a request refused because the instance is busy with another operation is sent again.
BUSY_WAIT = 30
BUSY_MESSAGE = re.compile(r"Instance is busy running an? \S+ operation")


def is_busy_refusal(status_code, envelope):
    """The daemon's refusal of a request on an instance that another operation holds (nothing was done)."""
    if status_code < 400 and envelope.get("type") != "error":
        return False
    return bool(BUSY_MESSAGE.search(str(envelope.get("error") or "")))


def api_path(*segments):
    """Build '/1.0/a/b' from segments, quoting each (names may hold spaces or '/')."""
    return "/1.0/" + "/".join(quote(str(s), safe="") for s in segments)


def resolve_url(url=None, environ=None, exists=os.path.exists):
    """Return ('unix', socket_path) or ('https', 'https://host:port') for the given options.

    Order: explicit url, $LXD_URL, $LXD_DIR's socket, $INCUS_SOCKET, $INCUS_DIR's socket, then the default
    sockets (LXD's snap and package, then Incus's). A variable that is set names the daemon: its socket is used
    even when it is missing, so the error names it rather than silently reaching another daemon.
    """
    environ = os.environ if environ is None else environ
    if not url:
        url = environ.get("LXD_URL")
    if url:
        return _parse_url(url)
    named = [("LXD_DIR", os.path.join(environ["LXD_DIR"], "unix.socket") if environ.get("LXD_DIR") else None),
             ("INCUS_SOCKET", environ.get("INCUS_SOCKET")),
             ("INCUS_DIR", os.path.join(environ["INCUS_DIR"], "unix.socket") if environ.get("INCUS_DIR") else None)]
    for variable, path in named:
        if path:
            if not exists(path):
                raise LXDError("no daemon socket at %s (from $%s): is the daemon running?" % (path, variable))
            return "unix", path
    for path in DEFAULT_SOCKETS:
        if exists(path):
            return "unix", path
    raise LXDError(
        "no LXD or Incus socket found (looked for %s): is LXD or Incus installed and running? "
        "Give url to reach another server." % ", ".join(DEFAULT_SOCKETS)
    )


def _parse_url(url):
    url = url.strip()
    if url.startswith("/"):
        return "unix", url
    if url.startswith("unix:"):
        rest = url[len("unix:"):]
        # unix:/path, unix:///path and unix://%2Fpath all name a socket path.
        if rest.startswith("//"):
            rest = rest[2:]
        path = unquote(rest)
        if not path.startswith("/"):
            raise LXDError("url %r: a unix socket url needs an absolute path, e.g. unix:/var/lib/lxd/unix.socket" % url)
        return "unix", path
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        host = parsed.hostname
        if ":" in host:
            host = "[%s]" % host
        port = parsed.port or DEFAULT_HTTPS_PORT
        return "https", "https://%s:%d" % (host, port)
    raise LXDError(
        "url %r is not accepted: use unix:/path/to/unix.socket or https://host[:port]" % url
    )


PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
PEM_END = "-----END CERTIFICATE-----"


def load_pem_certificate(value, option="server_cert", error=LXDError):
    """PEM text, or the path of a PEM file -> the first certificate's PEM; None stays None.

    The collection's one certificate reader. Fails with `error` (LXDError for connection options, ConfigError for a
    module's own) naming the option; never echoes PEM text, as a private key pasted by mistake must not be logged.
    """
    if value is None:
        return None
    text = value
    looks_like_pem = "-----BEGIN" in value
    if not looks_like_pem:
        try:
            with open(os.path.expanduser(value), "r", encoding="utf-8") as handle:
                text = handle.read()
        except (IOError, OSError, UnicodeDecodeError) as exc:
            raise error("%s: %r is neither PEM text (starting with %s) nor a readable file holding a certificate "
                        "(%s)" % (option, _short(value), PEM_BEGIN, exc)) from None
    try:
        pem = _first_pem_block(text)
    except ValueError:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        where = "the text given" if looks_like_pem else "the file %r" % value
        seen = (" (it starts with %r)" % first) if first.startswith("-----BEGIN") else ""
        raise error("%s: %s holds no PEM certificate%s; give a certificate (%s ...) or a path to one"
                    % (option, where, seen, PEM_BEGIN)) from None
    try:
        der = ssl.PEM_cert_to_DER_cert(pem)
    except (ValueError, ssl.SSLError) as exc:
        der, problem = b"", str(exc)
    else:
        problem = "not an X.509 structure"
    if not _is_der_sequence(der):
        raise error("%s: the PEM certificate %s cannot be decoded (%s)"
                    % (option, "given" if looks_like_pem else "in %r" % value, problem))
    return pem


def _short(value):
    return value if len(value) < 80 else value[:77] + "..."


def _is_der_sequence(der):
    """Whether bytes are one whole DER SEQUENCE (what every X.509 certificate is): catches pasted garbage."""
    if len(der) < 2 or der[0] != 0x30:
        return False
    length, offset = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or len(der) < 2 + count:
            return False
        length, offset = int.from_bytes(der[2:2 + count], "big"), 2 + count
    return offset + length == len(der)


def _first_pem_block(text):
    start = text.find(PEM_BEGIN)
    end = text.find(PEM_END, start)
    if start < 0 or end < 0:
        raise ValueError("no certificate")
    return text[start:end + len(PEM_END)] + "\n"


def certificate_fingerprint(pem_text):
    """SHA-256 fingerprint of a PEM certificate, as LXD prints it (lowercase hex)."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(_first_pem_block(pem_text))).hexdigest()


def certificate_body(pem_text):
    """The base64 body LXD's certificate API takes (PEM without armour)."""
    return "".join(line.strip() for line in _first_pem_block(pem_text).splitlines() if "-----" not in line)


def decode_token(text):
    """The JSON object inside an LXD token (trust or cluster join: base64 of JSON), or None."""
    try:
        decoded = json.loads(base64.b64decode((text or "").strip(), validate=True).decode("utf-8"))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return decoded if isinstance(decoded, dict) else None


def encode_token(fields):
    """The token text LXD's client prints for these fields."""
    return base64.b64encode(json.dumps(fields, separators=(",", ":")).encode("utf-8")).decode("ascii")


def is_trust_token(secret):
    """True when the secret looks like an LXD trust token (base64 JSON holding a secret)."""
    decoded = decode_token(secret)
    return decoded is not None and "secret" in decoded


def pending_token_operations(operations, matches, now=None):
    """Running, unexpired token operations (GET /1.0/operations?recursion=1) whose metadata `matches` accepts."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    found = []
    for op in (operations or {}).get("running") or []:
        meta = op.get("metadata") or {}
        if op.get("class") != "token" or not meta.get("secret") or not matches(meta):
            continue
        expires = parse_lxd_time(meta.get("expiresAt"))
        if expires is not None and expires <= now:
            continue
        found.append(op)
    return found


def split_address(address, default_port=DEFAULT_HTTPS_PORT):
    """(host, port) from 'host', 'host:port', '[v6]:port' or a bare IPv6 address; raises ValueError."""
    address = (address or "").strip()
    if address.startswith("https://"):
        address = address[len("https://"):].rstrip("/")
    if address.startswith("["):
        host, sep, rest = address[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(address)
        port = rest[1:] if rest else str(default_port)
    elif address.count(":") > 1:
        host, port = address, str(default_port)
    else:
        host, _sep, port = address.partition(":")
        port = port or str(default_port)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(address)
    return host, int(port)


def fetch_certificate(address, timeout=10):
    """The PEM certificate the TLS server at host:port presents, unverified: the caller checks its fingerprint."""
    try:
        host, port = split_address(address)
    except ValueError:
        raise LXDError("%r is not an address of the form host:port" % address)
    try:
        return ssl.get_server_certificate((host, port), timeout=timeout)
    except socket.timeout:
        raise LXDError("no TLS answer from %s within %s seconds" % (address, timeout))
    except (OSError, ssl.SSLError) as exc:
        raise LXDError("cannot fetch the certificate of %s: %s" % (address, exc))


def encode_trust_token(client_name, server_fingerprint, addresses, secret, expires_at=None):
    """Build the token string `lxc config trust add` prints, from a token operation's metadata."""
    token = {
        "client_name": client_name,
        "fingerprint": server_fingerprint,
        "addresses": list(addresses),
        "secret": secret,
        "expires_at": expires_at or ZERO_TIME,
    }
    return encode_token(token)


# A connection that ended under a request (closed by the server, reset, broken pipe), not a timeout or a refusal.
_DROPPED = (http.client.RemoteDisconnected, http.client.BadStatusLine, BrokenPipeError, ConnectionResetError,
            ConnectionAbortedError)


def _dropped(conn):
    """Whether an idle kept-alive connection can no longer be used: the server closed it (or sent something
    unasked, which is as bad). A false alarm only costs a new connection."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        poller = select.poll()  # not select(): it fails on descriptors above 1023
        poller.register(sock, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


class _PinMismatch(ssl.SSLError):
    def __init__(self, presented):
        super(_PinMismatch, self).__init__("server certificate does not match the pinned one")
        self.presented = presented


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self._socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Accept exactly one server certificate, by SHA-256 fingerprint, whatever its issuer or names.

    This is how LXD's own client trusts a server: its certificate is usually self-signed and its
    names rarely match the address used. The check runs before any request is sent.
    """

    def __init__(self, host, port, context, timeout, fingerprint):
        http.client.HTTPSConnection.__init__(self, host, port, context=context, timeout=timeout)
        self._fingerprint = fingerprint

    def connect(self):
        http.client.HTTPSConnection.connect(self)
        if self._fingerprint:
            presented = hashlib.sha256(self.sock.getpeercert(binary_form=True)).hexdigest()
            if presented != self._fingerprint:
                self.close()
                raise _PinMismatch(presented)


class WebSocket:
    """The client side of one RFC 6455 websocket, enough for LXD's exec streams."""

    def __init__(self, sock, buffered=b""):
        self._sock = sock
        self._buffer = buffered
        self._closed = False
        sock.settimeout(None)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            # A server that vanishes without closing (host down, network cut) is noticed in about a minute
            # instead of never: a reader waits for output as long as the command runs.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for option, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
                if hasattr(socket, option):
                    sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)

    def settimeout(self, seconds):
        """Seconds a send or receive may block (None: no limit)."""
        self._sock.settimeout(seconds)

    def _read(self, count):
        while len(self._buffer) < count:
            chunk = self._sock.recv(max(65536, count - len(self._buffer)))
            if not chunk:
                raise EOFError()
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _frame(self, opcode, payload):
        header = bytearray([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header.append(0x80 | length)
        elif length < 1 << 16:
            header.append(0x80 | 126)
            header += struct.pack("!H", length)
        else:
            header.append(0x80 | 127)
            header += struct.pack("!Q", length)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if length < 4096 else _mask(payload, mask)
        return bytes(header) + mask + masked

    def send(self, data, opcode=0x2):
        self._sock.sendall(self._frame(opcode, data))

    def recv(self):
        """The next message's bytes, or None once the peer ends the stream (close frame or empty text)."""
        message = b""
        while True:
            try:
                first, second = self._read(2)
                opcode, length = first & 0x0F, second & 0x7F
                if length == 126:
                    length = struct.unpack("!H", self._read(2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", self._read(8))[0]
                mask = self._read(4) if second & 0x80 else None
                payload = self._read(length)
            except (EOFError, OSError, ValueError):
                # The stream ended, or was aborted from another thread (see abort).
                return None
            if mask:
                payload = _mask(payload, mask)
            if opcode == 0x8:
                return None
            if opcode == 0x9:
                # LXD may already have closed its side; what it sent before is still to be read.
                try:
                    self.send(payload, opcode=0xA)
                except OSError:
                    pass
                continue
            if opcode == 0xA:
                continue
            message += payload
            if first & 0x80:
                if opcode == 0x1 and not message:
                    return None  # LXD marks the end of a stream with an empty text message
                return message

    def drain_into(self, chunks):
        while True:
            data = self.recv()
            if data is None:
                return
            chunks.append(data)

    def close(self):
        if self._closed:
            return
        self._closed = True
        try:
            self._sock.sendall(self._frame(0x8, struct.pack("!H", 1000)))
        except OSError:
            pass
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def abort(self):
        """End the connection at once, both ways: a thread blocked in recv() returns None."""
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()


def _mask(payload, mask):
    """XOR payload with the 4-byte mask, fast for large payloads."""
    repeated = (mask * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


class _Raw:
    """What _send returns: status, reason, headers and body of one HTTP answer."""

    def __init__(self, status, reason, headers, body):
        self.status_code = status
        self.reason = reason
        self.headers = headers
        self.body = body


class Response:
    """An LXD answer: the decoded metadata plus what callers need from the envelope."""

    def __init__(self, status_code, metadata, etag=None, operation=None):
        self.status_code = status_code
        self.metadata = metadata
        self.etag = etag
        self.operation = operation


class LXDClient:
    """A connection to one LXD server (and one project on it)."""

    def __init__(self, url=None, client_cert=None, client_key=None, server_cert=None, verify=True,
                 trust_token=None, trust_password=None, project="default", timeout=DEFAULT_TIMEOUT,
                 environ=None):
        environ = os.environ if environ is None else environ
        self.scheme, self.endpoint = resolve_url(url, environ)
        self.url = ("unix:" + self.endpoint) if self.scheme == "unix" else self.endpoint
        self.project = project or "default"
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.verify = verify
        self._trust_token = trust_token
        self._trust_password = trust_password
        self.request_count = 0
        self._trace_path = environ.get(TRACE_ENV)
        self._conn = None
        self._server_info = None
        self._project_checked = self.project == "default"
        self._trust_attempted = False
        self.server_cert_pem = None
        self.server_fingerprint = None
        self._pin_source = "server_cert"
        self.client_cert = self.client_key = None
        if self.scheme == "https":
            default_cert, default_key = default_client_pair(os.path.expanduser("~"))
            self.client_cert = os.path.expanduser(client_cert or default_cert)
            self.client_key = os.path.expanduser(client_key or default_key)
            for option, path in (("client_cert", self.client_cert), ("client_key", self.client_key)):
                if not os.path.isfile(path):
                    raise LXDError(
                        "%s: %s does not exist; an https connection needs a client certificate and key "
                        "(the lxc and incus commands create client.crt and client.key in ~/.config/lxc or "
                        "~/.config/incus on first use)" % (option, path)
                    )
            if server_cert:
                self.server_cert_pem = load_pem_certificate(server_cert)
                self.server_fingerprint = certificate_fingerprint(self.server_cert_pem)

    # ------------------------------------------------------------ connection

    def _connect(self, timeout):
        if self.scheme == "unix":
            return _UnixConnection(self.endpoint, timeout)
        parsed = urlparse(self.endpoint)
        if self.server_fingerprint or not self.verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context()
        context.load_cert_chain(self.client_cert, self.client_key)
        return _PinnedHTTPSConnection(parsed.hostname, parsed.port or DEFAULT_HTTPS_PORT, context, timeout,
                                      self.server_fingerprint)

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------ requests

    def request(self, method, path, params=None, body=None, etag=None, project=True, wait=True,
                timeout=None, allow_trust=True, busy_until=None):
        """Send one request; wait for its operation when it is asynchronous and `wait` is set.

        `project`: True adds this client's project, False sends none, a string sends that one.
        Returns a Response; raises LXDError (or a subclass) on any failure.
        """
        self._refuse_container_paths(method, path)
        params = dict(params or {})
        project_name = self.project if project is True else (project or None)
        if project_name == "default":
            project_name = None
        if project_name:
            params["project"] = project_name
            if project is True and not self._project_checked:
                self._check_project()
        headers = {}
        if etag:
            headers["If-Match"] = etag
        data = json.dumps(body) if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        raw = self._send(method, path, params, data, headers, timeout)
        envelope = self._decode(raw, method, path)
        busy_until = busy_until or time.monotonic() + BUSY_WAIT
        while is_busy_refusal(raw.status_code, envelope) and time.monotonic() < busy_until:
            # The daemon refused it at once because another operation holds the instance (a stop that follows a
            # failed start, say): nothing was done, so sending it again once that ends is safe.
            time.sleep(0.5)
            raw = self._send(method, path, params, data, headers, timeout)
            envelope = self._decode(raw, method, path)
        if raw.status_code >= 400 or envelope.get("type") == "error":
            status = envelope.get("error_code") or raw.status_code
            if status == 403 and self.scheme == "https" and allow_trust and self._may_trust():
                # Refused as untrusted, so nothing was done: sending it again once trusted is safe.
                self.authenticate()
                return self.request(method, path, params=params, body=body, etag=etag, project=project,
                                    wait=wait, timeout=timeout, allow_trust=False)
            raise self._error(status, envelope.get("error") or raw.reason, method, path, project_name)
        response = Response(raw.status_code, envelope.get("metadata"), raw.headers.get("ETag"),
                            envelope.get("operation") or None)
        if envelope.get("type") == "async" and wait:
            try:
                response.metadata = self.wait_operation(response.operation, what="%s %s" % (method, path),
                                                        timeout=timeout)
            except LXDError as exc:
                # An operation that could not even begin because another holds the instance changed nothing.
                if not BUSY_MESSAGE.search(exc.message) or time.monotonic() >= busy_until:
                    raise
                time.sleep(0.5)
                return self.request(method, path, params=params, body=body, etag=etag, project=project, wait=wait,
                                    timeout=timeout, allow_trust=allow_trust, busy_until=busy_until)
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body=body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request("PUT", path, body=body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.request("PATCH", path, body=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def exists(self, path, **kwargs):
        """GET path; return its metadata, or None when LXD answers 404."""
        try:
            return self.get(path, **kwargs).metadata
        except LXDNotFound:
            return None

    def wait_operation(self, operation, what="operation", timeout=None):
        """Wait for an operation to end; return its metadata; raise with LXD's error when it failed."""
        timeout = timeout or self.timeout
        # On a cluster, LXD may name an operation with its project: /1.0/operations/<id>?project=p.
        operation, _sep, query = operation.partition("?")
        op_path = operation if operation.startswith("/1.0/") else api_path("operations", operation)
        params = dict(parse_qsl(query))
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(1, int(deadline - time.monotonic()))
            params["timeout"] = remaining
            raw = self._send("GET", op_path + "/wait", params, None, {}, remaining + 10)
            envelope = self._decode(raw, "GET", op_path)
            if raw.status_code >= 400 or envelope.get("type") == "error":
                # Incus answers the wait of a failed operation with the operation's error (in an HTTP 200 answer);
                # the same answer means the operation could not be read. The operation itself tells which.
                meta = self._read_operation(op_path, params, what, envelope.get("error") or raw.reason)
            else:
                meta = envelope.get("metadata") or {}
            status = meta.get("status")
            if status == "Success":
                return meta
            if status in ("Failure", "Cancelled"):
                err = meta.get("err") or status
                kind = LXDConflict if "already exists" in err else LXDError
                raise kind("%s failed: %s" % (what, err), status_code=meta.get("status_code"), error=err)
            if time.monotonic() >= deadline:
                raise LXDError("%s did not finish within %d seconds (LXD operation %s is %s)"
                               % (what, timeout, op_path, status))

    def _read_operation(self, op_path, params, what, wait_error):
        """An operation's metadata after its wait answered an error; never taken as success when unreadable."""
        params = dict((k, v) for k, v in params.items() if k != "timeout")
        raw = self._send("GET", op_path, params, None, {}, None)
        envelope = self._decode(raw, "GET", op_path)
        meta = envelope.get("metadata") if raw.status_code < 400 and envelope.get("type") != "error" else None
        if isinstance(meta, dict) and meta.get("status"):
            return meta
        raise LXDError("%s: its operation %s could not be read, so whether it took effect is unknown (%s; then: %s); "
                       "check the server's state before running again"
                       % (what, op_path, (wait_error or "no answer").strip(),
                          (envelope.get("error") or raw.reason or "").strip()), error=wait_error)

    def _send(self, method, path, params, data, headers, timeout, sink=None):
        """One HTTP exchange on the kept-alive connection.

        data: a JSON string, bytes, or a file object (streamed; its Content-Length must be in headers).
        sink: a writable file object that receives a 200 answer's body in chunks instead of memory.
        """
        timeout = timeout or self.timeout
        target = quote(path, safe="/%:@") + ("?" + urlencode(params) if params else "")
        payload = data.encode("utf-8") if isinstance(data, str) else data
        start = payload.tell() if hasattr(payload, "read") else None
        self.request_count += 1
        for attempt in (1, 2):
            if self._conn is not None and _dropped(self._conn):
                # The server closed the kept-alive connection while it was idle: never send on it.
                self.close()
            if self._conn is None:
                self._conn = self._connect(timeout)
            self._conn.timeout = timeout
            if self._conn.sock is not None:
                self._conn.sock.settimeout(timeout)
            try:
                self._conn.request(method, target, body=payload, headers=headers)
                answer = self._conn.getresponse()
            except _DROPPED:
                self.close()
                # No answer came: the request may or may not have reached LXD. Only a request that changes
                # nothing is sent again; a POST, PUT, PATCH or DELETE could take effect twice.
                if attempt == 2 or method not in RETRY_METHODS:
                    raise LXDError("LXD at %s closed the connection before answering %s %s%s"
                                   % (self.url, method, path, "" if method in RETRY_METHODS else
                                      "; it was not sent again, as it may have taken effect: check the server's "
                                      "state before running again"))
                if start is not None:
                    payload.seek(start)
                continue
            except Exception as exc:  # pylint: disable=broad-except
                self.close()
                raise self._transport_error(exc, timeout, "%s %s" % (method, path))
            try:
                if sink is not None and answer.status == 200:
                    for chunk in iter(lambda: answer.read(1 << 20), b""):
                        sink.write(chunk)
                    raw = _Raw(answer.status, answer.reason, answer.headers, b"")
                else:
                    raw = _Raw(answer.status, answer.reason, answer.headers, answer.read())
            except Exception as exc:  # pylint: disable=broad-except
                # The answer had begun: never sent again (a sink may already hold part of it).
                self.close()
                if isinstance(exc, _DROPPED + (http.client.IncompleteRead,)):
                    raise LXDError("LXD at %s closed the connection in the middle of its answer to %s %s"
                                   % (self.url, method, path))
                raise self._transport_error(exc, timeout, "%s %s" % (method, path))
            break
        if self._trace_path:
            with open(self._trace_path, "a") as trace:
                trace.write("%s %s %s\n" % (method, path, raw.status_code))
        return raw

    def _transport_error(self, exc, timeout, what):
        """The LXDError for a failure below HTTP (socket, TLS, pinning); other exceptions pass unchanged."""
        if isinstance(exc, LXDError):
            return exc
        if isinstance(exc, _PinMismatch):
            return LXDError(
                "the server at %s presented a certificate (sha256 %s) that does not match the pinned "
                "%s (sha256 %s): refusing to talk to it" % (self.url, exc.presented, self._pin_source,
                                                            self.server_fingerprint))
        if isinstance(exc, ssl.SSLCertVerificationError):
            return LXDError(
                "cannot verify the TLS certificate of %s (sha256 %s): %s. LXD servers usually have a "
                "self-signed certificate: pin it with server_cert (a path or PEM: the server's server.crt, "
                "or lxc's servercerts/<remote>.crt); verify=false turns verification off"
                % (self.url, self._presented_fingerprint() or "unknown", exc.verify_message or exc))
        if isinstance(exc, socket.timeout):
            return LXDError("no answer from LXD at %s within %s seconds (%s)" % (self.url, timeout, what))
        if isinstance(exc, (OSError, http.client.HTTPException)):
            return self._connection_error(exc)
        return exc

    def request_raw(self, method, path, params=None, data=None, headers=None, sink=None, project=True, timeout=None):
        """A request whose body or answer is not JSON (the files API); raises LXDError on an error answer."""
        self._refuse_container_paths(method, path)
        params = dict(params or {})
        if project is True and self.project != "default":
            params["project"] = self.project
            if not self._project_checked:
                self._check_project()
        raw = self._send(method, path, params, data, dict(headers or {}), timeout, sink=sink)
        if raw.status_code >= 400:
            envelope = self._decode(raw, method, path)
            raise self._error(envelope.get("error_code") or raw.status_code, envelope.get("error") or raw.reason,
                              method, path, params.get("project"))
        return raw

    # ------------------------------------------------------------ exec and files

    def websocket(self, operation, secret, timeout=None):
        """Open the websocket of an operation (exec's stdin, stdout, stderr or control)."""
        conn = self._connect(timeout or self.timeout)
        operation, _sep, query = operation.partition("?")
        params = dict(parse_qsl(query), secret=secret)
        target = operation + "/websocket?" + urlencode(params)
        try:
            conn.connect()
            sock = conn.sock
            conn.sock = None  # the websocket owns the socket from here on
            key = base64.b64encode(os.urandom(16)).decode("ascii")
            sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (target, key)).encode("ascii"))
            buffered = b""
            while b"\r\n\r\n" not in buffered:
                chunk = sock.recv(4096)
                if not chunk:
                    raise LXDError("LXD closed the websocket of %s before answering" % operation)
                buffered += chunk
        except Exception as exc:  # pylint: disable=broad-except
            conn.close()
            raise self._transport_error(exc, timeout or self.timeout, "websocket of %s" % operation)
        head, _sep, rest = buffered.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        if " 101 " not in status_line + " ":
            sock.close()
            raise LXDError("LXD refused the websocket of %s: %s" % (operation, status_line))
        return WebSocket(sock, rest)

    def execute(self, instance, command, stdin=b"", environment=None, cwd=None, user=None, group=None,
                timeout=None):
        """Run a command in an instance; return (exit code, stdout bytes, stderr bytes).

        timeout: the most seconds the command may run (default: the client's timeout, and at least an hour).
        A command still running then is sent SIGKILL and LXDError is raised; no thread is left waiting.
        """
        limit = timeout or max(self.timeout, EXEC_DEFAULT_TIMEOUT)
        deadline = time.monotonic() + limit
        for attempt in range(1, EXEC_START_ATTEMPTS + 1):
            try:
                return self._execute_once(instance, command, stdin, environment, cwd, user, group, deadline, limit)
            except LXDError as exc:
                # LXD could not attach the command to the instance (seen while other instances start or stop):
                # it never ran, so running it again is safe. No other failure starts a command again.
                if EXEC_NOT_STARTED not in exc.message or attempt == EXEC_START_ATTEMPTS:
                    raise
                time.sleep(0.5 * attempt)
        raise LXDError("unreachable")  # pragma: no cover

    def _execute_once(self, instance, command, stdin, environment, cwd, user, group, deadline=None, limit=None):
        if deadline is None:
            limit = max(self.timeout, EXEC_DEFAULT_TIMEOUT)
            deadline = time.monotonic() + limit
        body = {"command": list(command), "wait-for-websocket": True, "interactive": False,
                "environment": dict(environment or {})}
        if cwd:
            body["cwd"] = cwd
        if user is not None:
            body["user"] = user
        if group is not None:
            body["group"] = group
        what = "exec of %r in %s" % (command[0], instance)
        response = self.request("POST", api_path("instances", instance, "exec"), body=body, wait=False)
        fds = ((response.metadata or {}).get("metadata") or {}).get("fds") or {}
        if not response.operation or not fds:
            raise LXDError("LXD did not start %r in %s with websockets" % (command[0], instance))
        sockets = {}
        readers = []
        outputs = {"1": [], "2": []}
        timed_out = False
        try:
            for fd in ("control", "0", "1", "2"):
                sockets[fd] = self.websocket(response.operation, fds[fd],
                                             timeout=max(1, min(self.timeout, deadline - time.monotonic())))
            readers = [threading.Thread(target=sockets[fd].drain_into, args=(outputs[fd],),
                                        name="lxdops-exec-%s" % name) for fd, name in (("1", "stdout"), ("2", "stderr"))]
            for reader in readers:
                reader.daemon = True
                reader.start()
            stdin_ws = sockets["0"]
            try:
                for offset in range(0, len(stdin or b""), 1 << 16):
                    # A command that does not read its input must not hold us past the deadline.
                    stdin_ws.settimeout(max(0.1, deadline - time.monotonic()))
                    stdin_ws.send(stdin[offset:offset + (1 << 16)])
            except socket.timeout:
                timed_out = True
            except OSError:
                pass  # the command ended, or closed its input, before reading all of it: its output still counts
            if not timed_out:
                stdin_ws.close()
                for reader in readers:
                    reader.join(max(0, deadline - time.monotonic()))
                    timed_out = timed_out or reader.is_alive()
            if not timed_out:
                try:
                    result = self.wait_operation(response.operation, what=what,
                                                 timeout=max(1, int(deadline - time.monotonic()) + 1))
                    code = (result.get("metadata") or {}).get("return")
                except LXDError as exc:
                    if "did not finish within" in exc.message:
                        timed_out = True
                    else:
                        # LXD fails the operation for exit codes 126 and 127; to the caller they are exit codes.
                        code = EXEC_FAILURE_CODES.get(exc.error)
                        if code is None:
                            raise
            if timed_out:
                raise self._exec_timeout(sockets, readers, command, instance, limit)
        finally:
            for ws in sockets.values():
                ws.close()
            if any(reader.is_alive() for reader in readers):
                # Left by an error: no reader may stay behind, waiting on a stream nobody reads.
                for ws in sockets.values():
                    ws.abort()
        return (code if code is not None else -1), b"".join(outputs["1"]), b"".join(outputs["2"])

    @staticmethod
    def _exec_timeout(sockets, readers, command, instance, limit):
        """Stop a command that ran past its limit (SIGKILL through the control stream) and end our side."""
        killed = False
        if "control" in sockets:
            try:
                sockets["control"].settimeout(5)
                sockets["control"].send(json.dumps({"command": "signal", "signal": 9}).encode("utf-8"), opcode=0x1)
                killed = True
            except OSError:
                pass
        for ws in sockets.values():
            ws.abort()
        for reader in readers:
            reader.join(5)
        return LXDTimeout("%r in %s did not end within %s seconds (the exec timeout)%s"
                          % (" ".join(command)[:200], instance, limit,
                             "; it was sent SIGKILL" if killed else "; it could not be sent SIGKILL and may still run"))

    def push_file(self, instance, path, source, size, mode=None, uid=None, gid=None):
        """Write a file in an instance from a readable binary file object of `size` bytes."""
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size),
                   "X-LXD-type": "file", "X-LXD-write": "overwrite"}
        if mode is not None:
            headers["X-LXD-mode"] = "%04o" % mode
        if uid is not None:
            headers["X-LXD-uid"] = str(uid)
        if gid is not None:
            headers["X-LXD-gid"] = str(gid)
        self.request_raw("POST", api_path("instances", instance, "files"), params={"path": path}, data=source,
                         headers=headers, timeout=max(self.timeout, 600))

    def pull_file(self, instance, path, sink):
        """Copy a file out of an instance into a writable binary file object."""
        raw = self.request_raw("GET", api_path("instances", instance, "files"), params={"path": path}, sink=sink,
                               timeout=max(self.timeout, 600))
        if raw.headers.get("X-LXD-type", "file") != "file":
            raise LXDError("%s in %s is a %s, not a file" % (path, instance, raw.headers.get("X-LXD-type")))

    def upload(self, path, source, size, headers=None, params=None, what=None):
        """POST a large body (a backup to import) streamed from a readable binary file object of `size` bytes, in
        1 MiB pieces (never whole in memory); wait for the operation it starts and return its metadata."""
        headers = dict(headers or {}, **{"Content-Type": "application/octet-stream", "Content-Length": str(size)})
        pieces = iter(lambda: source.read(1 << 20), b"")
        raw = self.request_raw("POST", path, params=params, data=pieces, headers=headers)
        envelope = self._decode(raw, "POST", path)
        if envelope.get("type") == "async" and envelope.get("operation"):
            return self.wait_operation(envelope["operation"], what=what or "POST %s" % path,
                                       timeout=max(self.timeout, 600))
        return envelope.get("metadata")

    def download(self, path, sink, params=None, accept=None):
        """Stream a GET answer's body (a backup export) into sink, a writable binary file object, on a connection
        of its own. accept(headers), when given, is asked before the body is read: False leaves it unread.
        Returns (headers, whether the body was written); an answer cut short raises LXDError."""
        self._refuse_container_paths("GET", path)
        params = dict(params or {})
        if self.project != "default":
            params["project"] = self.project
            if not self._project_checked:
                self._check_project()
        timeout = max(self.timeout, 600)
        target = quote(path, safe="/%:@") + ("?" + urlencode(params) if params else "")
        self.request_count += 1
        conn = self._connect(timeout)
        status = None
        try:
            conn.request("GET", target)
            answer = conn.getresponse()
            status = answer.status
            if status >= 400:
                envelope = self._decode(_Raw(status, answer.reason, answer.headers, answer.read()), "GET", path)
                raise self._error(envelope.get("error_code") or status, envelope.get("error") or answer.reason,
                                  "GET", path, params.get("project"))
            if accept is not None and not accept(answer.headers):
                return answer.headers, False
            for chunk in iter(lambda: answer.read(1 << 20), b""):
                try:
                    sink.write(chunk)
                except OSError as exc:
                    raise LXDError("GET %s: cannot write what it answers: %s" % (path, exc))
            if answer.length:
                raise LXDError("%s closed the connection in the middle of GET %s (%d bytes missing)"
                               % (self.url, path, answer.length))
            return answer.headers, True
        except Exception as exc:  # pylint: disable=broad-except
            raise self._transport_error(exc, timeout, "GET %s" % path)
        finally:
            conn.close()
            if self._trace_path:
                with open(self._trace_path, "a") as trace:
                    trace.write("GET %s %s\n" % (path, status))

    @staticmethod
    def _decode(raw, method, path):
        try:
            envelope = json.loads(raw.body.decode("utf-8"))
        except ValueError:
            envelope = {"type": "error", "error": (raw.body.decode("utf-8", "replace") or raw.reason or "").strip()[:300]}
        if not isinstance(envelope, dict):
            envelope = {"type": "error", "error": "unexpected answer to %s %s" % (method, path)}
        return envelope

    # ------------------------------------------------------------ trust

    def _refuse_container_paths(self, method, path):
        """Incus serves instances at /1.0/instances only: say so before anything is sent there."""
        if is_container_path(path) and self.daemon_kind() == "incus":
            raise LXDError("%s %s: Incus (%s) has no /1.0/containers API; use /1.0/instances (the same requests, "
                           "under instances)" % (method, path, self.url))

    def _may_trust(self):
        return bool(self._trust_token or self._trust_password) and not self._trust_attempted

    def server_info(self, refresh=False):
        """GET /1.0 (cached): the server's config, environment, extensions and our auth status."""
        if self._server_info is None or refresh:
            self._server_info = self.request("GET", "/1.0", project=False, allow_trust=False).metadata
            # GET /1.0 answers untrusted clients too: trust now if the caller gave a secret.
            if self._server_info.get("auth") != "trusted" and self.scheme == "https" and self._may_trust():
                self.authenticate()
        return self._server_info

    def has_extension(self, name):
        return name in (self.server_info().get("api_extensions") or [])

    def daemon_kind(self):
        """'lxd' or 'incus': which daemon of the family answers (environment.server of GET /1.0)."""
        return kind_from_server(self.server_info())

    def daemon_name(self):
        return name_of(self.daemon_kind())

    def is_trusted(self):
        self._server_info = self.request("GET", "/1.0", project=False, allow_trust=False).metadata
        return self._server_info.get("auth") == "trusted"

    def authenticate(self):
        """Become trusted with trust_token or trust_password, unless already trusted."""
        self._trust_attempted = True
        if self.scheme == "unix" or self.is_trusted():
            return False
        secret = self._trust_token or self._trust_password
        if not secret:
            raise self._untrusted_error()
        which = "trust_token" if self._trust_token else "trust_password"
        incus = self.daemon_kind() == "incus"
        if incus and not self._trust_token:
            raise LXDUntrusted("trust_password was not sent to %s: Incus has no trust password (no "
                               "core.trust_password); give trust_token instead, a token issued on the server by "
                               "`incus config trust add <name>` or lxdops.server.lxd_trust with state=token"
                               % self.url, status_code=403)
        self._pin_for_secret(which)
        body = {"type": "client"}
        # Incus takes a token only in its own field, and has no extension that says so.
        if self._trust_token and (incus or self.has_extension("explicit_trust_token")):
            body["trust_token"] = self._trust_token
        else:
            # Older servers take a token, like a password, in the password field.
            body["password"] = secret
        try:
            self.request("POST", "/1.0/certificates", body=body, project=False, allow_trust=False)
        except LXDError as exc:
            raise LXDUntrusted("%s was refused by %s: %s" % (which, self.url, exc.error or exc.message),
                               status_code=exc.status_code, error=exc.error)
        if not self.is_trusted():
            raise LXDUntrusted("%s was accepted by %s, but the client is still not trusted" % (which, self.url))
        return True

    def _pin_for_secret(self, which):
        """A trust secret goes only to a server whose certificate was checked (pinned, or verified by a CA).

        With verify=false and no server_cert, a trust token still can: it names the certificate of the server
        that issued it, and the connection that carries it is pinned to that (as `lxc remote add` does). A
        password names nothing, so it is not sent.
        """
        if self.scheme != "https" or self.verify or self.server_fingerprint:
            return
        fingerprint = str((decode_token(self._trust_token) or {}).get("fingerprint") or "").lower()
        if self._trust_token and re.match(r"^[0-9a-f]{64}$", fingerprint):
            self.server_fingerprint = fingerprint
            self._pin_source = "fingerprint in the trust token"
            self.close()  # the request that carries the token goes on a new, pinned connection
            return
        raise LXDUntrusted(
            "%s was not sent to %s: with verify=false and no server_cert nothing shows that the server answering "
            "there is the one the secret is meant for, and whoever answers would get it. Pin the server's "
            "certificate with server_cert (its server.crt)%s" % (
                which, self.url, ", or use a trust token from the server: it names the server's certificate"
                if which == "trust_password" else " (this token names no server certificate)"))

    def issue_trust_token(self, client_name, projects=None):
        """Ask the server for a one-time trust token for a new client; return the token string."""
        body = {"type": "client", "name": client_name, "token": True}
        if projects:
            body.update(restricted=True, projects=list(projects))
        response = self.request("POST", "/1.0/certificates", body=body, project=False, wait=False)
        meta = (self.get(response.operation, project=False).metadata or {}).get("metadata") or {}
        if not meta.get("secret"):
            raise LXDError("%s did not return a trust token (is this LXD older than the certificate_token API?)" % self.url)
        return encode_trust_token(meta.get("request", {}).get("name", client_name), meta.get("fingerprint"),
                                  meta.get("addresses") or [], meta["secret"], meta.get("expiresAt"))

    def client_fingerprint(self):
        if not self.client_cert:
            return None
        with open(self.client_cert) as handle:
            return certificate_fingerprint(handle.read())

    # ------------------------------------------------------------ errors

    def check_project(self):
        """Fail with a clear message when this client's project does not exist (LXD lists nothing for it)."""
        self._check_project()

    def _check_project(self):
        self._project_checked = True
        try:
            self.request("GET", api_path("projects", self.project), project=False)
        except LXDNotFound:
            raise LXDNotFound("project %r does not exist on %s (create it first, or use another project)"
                              % (self.project, self.url), status_code=404)

    def _untrusted_error(self):
        return LXDUntrusted(
            "the client certificate %s (sha256 %s) is not trusted by %s: give trust_token (or trust_password "
            "on servers that still accept one), or add the certificate to the server's trust store"
            % (self.client_cert, self.client_fingerprint(), self.url), status_code=403)

    def _error(self, status, error, method, path, project):
        error = (error or "").strip()
        where = "%s %s" % (method, path) + (" (project %s)" % project if project else "")
        if status == 403 and self.scheme == "https":
            if self._trust_attempted:
                return LXDUntrusted("%s was refused by %s: %s" % (where, self.url, error), status_code=403, error=error)
            return self._untrusted_error()
        if status == 404:
            if "project" in error.lower() and project:
                return LXDNotFound("project %r does not exist on %s" % (project, self.url), status_code=404, error=error)
            return LXDNotFound("%s: not found (%s)" % (where, error or "404"), status_code=404, error=error)
        if status == 409 or "already exists" in error:
            return LXDConflict("%s: already exists or conflicts (%s)" % (where, error), status_code=409, error=error)
        if status == 412:
            return LXDPreconditionFailed(
                "%s: the object was changed by someone else since it was read (ETag mismatch); run again" % where,
                status_code=412, error=error)
        return LXDError("%s failed on %s (%s): %s" % (where, self.url, status, error), status_code=status, error=error)

    def _connection_error(self, exc):
        if self.scheme == "unix":
            if isinstance(exc, PermissionError):
                return LXDError("permission denied on the socket %s: run as root or as a member of the daemon's "
                                "admin group (%s)" % (self.endpoint, ", ".join(
                                    "'%s' for %s" % (f["admin_group"], f["name"]) for f in KIND_FACTS.values())))
            if isinstance(exc, FileNotFoundError) or not os.path.exists(self.endpoint):
                return LXDError("the socket %s does not exist: is LXD or Incus installed and running?" % self.endpoint)
            if isinstance(exc, ConnectionRefusedError):
                return LXDError("nothing answers on the socket %s: is LXD or Incus running?" % self.endpoint)
            return LXDError("cannot talk to the daemon on %s: %s" % (self.endpoint, exc))
        if isinstance(exc, ConnectionRefusedError):
            return LXDError("connection refused by %s: is LXD or Incus listening there (core.https_address)?"
                            % self.url)
        if isinstance(exc, socket.gaierror):
            return LXDError("cannot resolve the host of %s: %s" % (self.url, exc))
        if isinstance(exc, ssl.SSLError):
            return LXDError("TLS failure talking to %s: %s" % (self.url, exc))
        if isinstance(exc, OSError) and exc.errno is None and not str(exc):
            return LXDError("cannot connect to %s" % self.url)
        return LXDError("cannot connect to %s: %s" % (self.url, exc))

    def _presented_fingerprint(self):
        parsed = urlparse(self.endpoint)
        try:
            pem = ssl.get_server_certificate((parsed.hostname, parsed.port or DEFAULT_HTTPS_PORT), timeout=5)
        except (OSError, ValueError, TypeError):
            return None
        return certificate_fingerprint(pem)


# The connection options a client is built from (documented in doc_fragments/connection.py).
CLIENT_OPTIONS = ("url", "client_cert", "client_key", "server_cert", "verify", "trust_token", "trust_password",
                  "project", "timeout")


def client_from_options(options):
    """A client from connection options, as modules, lxdops-replicate, the inventory and the connection plugin
    hold them (a mapping; an option missing or null takes its default; other entries are ignored)."""
    options = options or {}
    verify = options.get("verify")
    return LXDClient(
        url=options.get("url"),
        client_cert=options.get("client_cert"),
        client_key=options.get("client_key"),
        server_cert=options.get("server_cert"),
        verify=True if verify is None else verify,
        trust_token=options.get("trust_token"),
        trust_password=options.get("trust_password"),
        project=options.get("project") or "default",
        timeout=options.get("timeout") or DEFAULT_TIMEOUT,
    )
