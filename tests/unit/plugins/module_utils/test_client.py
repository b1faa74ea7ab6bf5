# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pure logic of the client layer: url resolution, certificates, tokens, paths. No LXD, no network."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import threading
import time

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDClient,
    LXDError,
    LXDTimeout,
    Response,
    WebSocket,
    _mask,
    api_path,
    certificate_body,
    default_client_pair,
    is_container_path,
    certificate_fingerprint,
    encode_trust_token,
    is_trust_token,
    load_pem_certificate,
    resolve_url,
)
from ansible_collections.lxdops.server.plugins.module_utils.daemon import kind_from_server


def only(*present):
    return lambda path: path in present


class TestResolveUrl:
    def test_explicit_unix_forms(self):
        for url in ("unix:/var/lib/lxd/unix.socket", "unix:///var/lib/lxd/unix.socket",
                    "unix://%2Fvar%2Flib%2Flxd%2Funix.socket", "/var/lib/lxd/unix.socket"):
            assert resolve_url(url, environ={}) == ("unix", "/var/lib/lxd/unix.socket")

    def test_https_gets_default_port(self):
        assert resolve_url("https://lxd1.example.net", environ={}) == ("https", "https://lxd1.example.net:8443")
        assert resolve_url("https://10.0.0.2:9443/", environ={}) == ("https", "https://10.0.0.2:9443")
        assert resolve_url("https://[fd00::2]", environ={}) == ("https", "https://[fd00::2]:8443")

    def test_explicit_beats_environment(self):
        env = {"LXD_URL": "https://other:8443"}
        assert resolve_url("unix:/run/x.socket", environ=env) == ("unix", "/run/x.socket")
        assert resolve_url(None, environ=env) == ("https", "https://other:8443")

    def test_lxd_dir_then_snap_then_package(self):
        env = {"LXD_DIR": "/srv/lxd"}
        assert resolve_url(None, env, only("/srv/lxd/unix.socket", "/var/lib/lxd/unix.socket")) == \
            ("unix", "/srv/lxd/unix.socket")
        assert resolve_url(None, {}, only("/var/snap/lxd/common/lxd/unix.socket", "/var/lib/lxd/unix.socket")) == \
            ("unix", "/var/snap/lxd/common/lxd/unix.socket")
        assert resolve_url(None, {}, only("/var/lib/lxd/unix.socket")) == ("unix", "/var/lib/lxd/unix.socket")

    def test_incus_variables_after_lxd_ones(self):
        everything = only("/srv/lxd/unix.socket", "/run/my-incus.socket", "/srv/incus/unix.socket",
                          "/var/lib/lxd/unix.socket", "/var/lib/incus/unix.socket")
        env = {"LXD_DIR": "/srv/lxd", "INCUS_SOCKET": "/run/my-incus.socket", "INCUS_DIR": "/srv/incus"}
        assert resolve_url(None, env, everything) == ("unix", "/srv/lxd/unix.socket")
        del env["LXD_DIR"]
        assert resolve_url(None, env, everything) == ("unix", "/run/my-incus.socket")
        del env["INCUS_SOCKET"]
        assert resolve_url(None, env, everything) == ("unix", "/srv/incus/unix.socket")
        assert resolve_url(None, {}, everything) == ("unix", "/var/lib/lxd/unix.socket")

    def test_incus_default_sockets_after_lxd_ones(self):
        assert resolve_url(None, {}, only("/var/lib/incus/unix.socket")) == ("unix", "/var/lib/incus/unix.socket")
        assert resolve_url(None, {}, only("/run/incus/unix.socket")) == ("unix", "/run/incus/unix.socket")

    @pytest.mark.parametrize("variable,value,path", [("LXD_DIR", "/srv/lxd", "/srv/lxd/unix.socket"),
                                                     ("INCUS_SOCKET", "/run/x.socket", "/run/x.socket"),
                                                     ("INCUS_DIR", "/srv/incus", "/srv/incus/unix.socket")])
    def test_a_named_daemon_is_never_swapped_for_another(self, variable, value, path):
        # The variable says which daemon is meant: its missing socket is an error, not a reason to reach another.
        with pytest.raises(LXDError) as err:
            resolve_url(None, {variable: value}, only("/var/lib/lxd/unix.socket"))
        assert path in err.value.message and "$" + variable in err.value.message

    def test_no_socket_names_every_place_looked(self):
        with pytest.raises(LXDError) as err:
            resolve_url(None, {}, only())
        for path in ("/var/lib/lxd/unix.socket", "/var/snap/lxd/common/lxd/unix.socket", "/var/lib/incus/unix.socket",
                     "/run/incus/unix.socket"):
            assert path in err.value.message
        assert "is LXD or Incus installed and running" in err.value.message

    @pytest.mark.parametrize("bad", ["http://host:8443", "ftp://x", "unix:relative/path", "lxd1:8443", "https://"])
    def test_bad_urls_are_named(self, bad):
        with pytest.raises(LXDError) as err:
            resolve_url(bad, environ={})
        assert repr(bad) in err.value.message


@pytest.fixture(scope="module")
def cert_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("certs")
    crt, key = folder / "c.crt", folder / "c.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=unit", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    return crt, key


class TestCertificates:
    def test_pem_text_and_path_give_the_same_certificate(self, cert_pair):
        crt = cert_pair[0]
        pem = crt.read_text()
        assert load_pem_certificate(pem) == load_pem_certificate(str(crt))

    def test_fingerprint_matches_openssl(self, cert_pair):
        crt = cert_pair[0]
        out = subprocess.run(["openssl", "x509", "-in", str(crt), "-noout", "-fingerprint", "-sha256"],
                             check=True, capture_output=True, text=True).stdout
        expected = out.split("=", 1)[1].strip().replace(":", "").lower()
        assert certificate_fingerprint(crt.read_text()) == expected

    def test_body_is_base64_der(self, cert_pair):
        crt = cert_pair[0]
        body = certificate_body(crt.read_text())
        assert "-----" not in body and "\n" not in body
        base64.b64decode(body, validate=True)

    def test_missing_file_is_named(self, tmp_path):
        with pytest.raises(LXDError) as err:
            load_pem_certificate(str(tmp_path / "nope.crt"))
        assert "server_cert" in err.value.message and "nope.crt" in err.value.message

    def test_garbage_is_refused(self, tmp_path):
        junk = tmp_path / "junk.crt"
        junk.write_text("not a certificate")
        with pytest.raises(LXDError) as err:
            load_pem_certificate(str(junk))
        assert "holds no PEM certificate" in err.value.message

    def test_https_needs_client_certificate_files(self, tmp_path):
        with pytest.raises(LXDError) as err:
            LXDClient(url="https://127.0.0.1:1", client_cert=str(tmp_path / "c.crt"),
                      client_key=str(tmp_path / "c.key"), environ={})
        assert "client_cert" in err.value.message and "does not exist" in err.value.message

    def test_client_reads_no_files_for_unix(self):
        client = LXDClient(url="unix:/nonexistent/unix.socket", environ={})
        assert client.url == "unix:/nonexistent/unix.socket"
        assert client.request_count == 0


class TestTokens:
    def test_round_trip(self):
        token = encode_trust_token("ci", "ab" * 32, ["10.0.0.2:8443"], "s3cret")
        assert is_trust_token(token)
        decoded = json.loads(base64.b64decode(token))
        assert decoded["secret"] == "s3cret" and decoded["addresses"] == ["10.0.0.2:8443"]

    @pytest.mark.parametrize("value", ["password", "", "  ", base64.b64encode(b"[1,2]").decode(),
                                       base64.b64encode(b'{"no": "secret"}').decode()])
    def test_passwords_are_not_tokens(self, value):
        assert not is_trust_token(value)

    def test_token_with_whitespace(self):
        token = encode_trust_token("ci", "ab", [], "s")
        assert is_trust_token("\n %s \n" % token)


def test_api_path_quotes_each_segment():
    assert api_path("instances", "web1") == "/1.0/instances/web1"
    assert api_path("instances", "c1", "snapshots", "snap 1") == "/1.0/instances/c1/snapshots/snap%201"
    assert api_path("images", "aliases", "lxdops-lab/busybox") == "/1.0/images/aliases/lxdops-lab%2Fbusybox"


class _FlakyExec(LXDClient):
    """execute() over a stand-in for one attempt: fails to start `failures` times, then runs."""

    def __init__(self, failures, message="exec of 'sh' in c1 failed: Failed to retrieve PID of executing child "
                                         "process"):
        self.failures = failures
        self.message = message
        self.attempts = 0
        self.timeout = 60

    def _execute_once(self, *args):
        self.attempts += 1
        if self.attempts <= self.failures:
            raise LXDError(self.message)
        return 0, b"ran", b""


def test_exec_that_did_not_start_is_tried_again(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    client = _FlakyExec(2)
    assert client.execute("c1", ["sh"]) == (0, b"ran", b"")
    assert client.attempts == 3


def test_exec_gives_up_and_other_errors_are_not_retried(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    with pytest.raises(LXDError, match="PID"):
        _FlakyExec(10).execute("c1", ["sh"])
    other = _FlakyExec(1, message="Instance is not running")
    with pytest.raises(LXDError, match="not running"):
        other.execute("c1", ["sh"])
    assert other.attempts == 1


# ---------------------------------------------------------------- exec timeout

class _SilentExec(LXDClient):
    """execute() against streams that never end: what a command that runs too long looks like from here."""

    def __init__(self):
        self.timeout = 60
        self.peers = {}
        self.closed_by_peer = False

    def request(self, method, path, **kwargs):
        return Response(202, {"metadata": {"fds": {"control": "c", "0": "0", "1": "1", "2": "2"}}},
                        operation="/1.0/operations/x")

    def websocket(self, operation, secret, timeout=None):
        ours, theirs = socket.socketpair()
        self.peers[secret] = theirs
        return WebSocket(ours)

    def wait_operation(self, operation, what="operation", timeout=None):  # pragma: no cover - never reached
        raise AssertionError("the streams never ended")


def _exec_threads():
    return [thread for thread in threading.enumerate() if thread.name.startswith("lxdops-exec-")]


def test_exec_past_its_timeout_fails_kills_and_ends_its_readers():
    client = _SilentExec()
    started = time.monotonic()
    with pytest.raises(LXDError) as err:
        client.execute("c1", ["sleep", "30"], timeout=1)
    elapsed = time.monotonic() - started
    assert 1 <= elapsed < 3
    assert isinstance(err.value, LXDTimeout)
    assert "'sleep 30' in c1 did not end within 1 seconds" in err.value.message
    assert "SIGKILL" in err.value.message
    assert _exec_threads() == []
    # The control stream got the signal as LXD reads it.
    control = client.peers["c"]
    control.settimeout(2)
    frame = control.recv(4096)
    assert frame[0] == 0x81
    length = frame[1] & 0x7F
    assert json.loads(_mask(frame[6:6 + length], frame[2:6])) == {"command": "signal", "signal": 9}


def test_exec_stdin_that_is_never_read_does_not_hold_past_the_timeout():
    client = _SilentExec()
    started = time.monotonic()
    with pytest.raises(LXDError, match="did not end within 1 seconds"):
        client.execute("c1", ["cat"], stdin=b"x" * (16 << 20), timeout=1)
    assert time.monotonic() - started < 3
    assert _exec_threads() == []


def test_exec_default_limit_is_the_client_timeout_and_at_least_an_hour(monkeypatch):
    seen = {}

    class Recorder(LXDClient):
        def __init__(self, timeout):
            self.timeout = timeout

        def _execute_once(self, *args):
            seen["limit"] = args[-1]
            return 0, b"", b""

    Recorder(60).execute("c1", ["true"])
    assert seen["limit"] == 3600
    Recorder(7200).execute("c1", ["true"])
    assert seen["limit"] == 7200
    Recorder(60).execute("c1", ["true"], timeout=5)
    assert seen["limit"] == 5


# ---------------------------------------------------------------- dropped connections: what is sent again

class _Listener:
    """A tiny HTTP/1.1 server on a unix socket or on 127.0.0.1 with TLS, that plays one script per connection.

    Each connection's script is a list of what to do with its requests, in order: "answer" (and keep the
    connection), "drop" (read the request, close without answering), "answer-close" (answer, then close while
    idle), "cut" (headers and part of the body, then close). Connections beyond the scripts answer everything.
    """

    def __init__(self, scripts, tls=None, folder=None):
        self.scripts = list(scripts)
        self.requests = []  # (connection number, method, path)
        self.connections = 0
        if tls:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(("127.0.0.1", 0))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.context = context
            self.url = "https://127.0.0.1:%d" % self.sock.getsockname()[1]
        else:
            path = str(folder / "lxd.socket")
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(path)
            self.context = None
            self.url = "unix:" + path
        self.sock.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            number = self.connections
            script = self.scripts[number - 1] if number <= len(self.scripts) else None
            threading.Thread(target=self._handle, args=(conn, number, script), daemon=True).start()

    def _handle(self, conn, number, script):
        try:
            if self.context:
                conn = self.context.wrap_socket(conn, server_side=True)
            stream = conn.makefile("rb")
            step = 0
            while True:
                line = stream.readline()
                if not line:
                    return
                method, path = line.decode("latin-1").split(" ")[:2]
                length = 0
                for header in iter(stream.readline, b"\r\n"):
                    name, _sep, value = header.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                stream.read(length)
                self.requests.append((number, method, path))
                action = script[step] if script and step < len(script) else "answer"
                step += 1
                if action == "drop":
                    return
                body = json.dumps({"type": "sync", "status": "Success", "status_code": 200,
                                   "metadata": {"seen": len(self.requests)}}).encode()
                if action == "cut":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                                 % (len(body) + 100) + body)
                    return
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                             % len(body) + body)
                if action == "answer-close":
                    return
        except (OSError, ValueError):
            return
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def close(self):
        self.sock.close()

    def methods(self):
        return [method for _number, method, _path in self.requests]


@pytest.fixture(params=["unix", "https"])
def listen(request, tmp_path, cert_pair):
    """Start a _Listener with the given scripts and return (listener, client)."""
    started = []

    def start(*scripts):
        tls = (str(cert_pair[0]), str(cert_pair[1])) if request.param == "https" else None
        listener = _Listener(scripts, tls=tls, folder=tmp_path)
        started.append(listener)
        options = {}
        if tls:
            options = dict(client_cert=tls[0], client_key=tls[1], server_cert=tls[0])
        return listener, LXDClient(url=listener.url, timeout=5, environ={}, **options)

    yield start
    for listener in started:
        listener.close()


def test_get_is_sent_again_once_when_the_connection_drops_before_an_answer(listen):
    listener, client = listen(["drop"])
    assert client.get("/1.0").metadata == {"seen": 2}
    assert listener.requests == [(1, "GET", "/1.0"), (2, "GET", "/1.0")]


def test_get_dropped_twice_fails_clearly(listen):
    listener, client = listen(["drop"], ["drop"])
    with pytest.raises(LXDError) as err:
        client.get("/1.0/instances")
    assert "closed the connection before answering GET /1.0/instances" in err.value.message
    assert listener.methods() == ["GET", "GET"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_change_is_never_sent_twice(listen, method):
    listener, client = listen(["drop"])
    with pytest.raises(LXDError) as err:
        client.request(method, "/1.0/instances/c1", body={"name": "c1"} if method != "DELETE" else None)
    assert "closed the connection before answering %s /1.0/instances/c1" % method in err.value.message
    assert "not sent again" in err.value.message and "check the server's state" in err.value.message
    time.sleep(0.2)
    assert listener.methods() == [method] and listener.connections == 1


def test_an_idle_connection_the_server_closed_is_not_used_for_a_post(listen):
    # The server closes the kept-alive connection after its first answer: the POST goes on a new one, once.
    listener, client = listen(["answer-close"])
    client.get("/1.0")
    time.sleep(0.2)
    assert client.post("/1.0/profiles", {"name": "p"}).metadata == {"seen": 2}
    assert listener.requests == [(1, "GET", "/1.0"), (2, "POST", "/1.0/profiles")]


def test_a_kept_alive_connection_is_reused(listen):
    listener, client = listen()
    for _attempt in range(3):
        client.get("/1.0")
    assert listener.connections == 1 and listener.methods() == ["GET"] * 3


def test_an_answer_cut_short_is_not_asked_again(listen):
    listener, client = listen(["cut"])
    with pytest.raises(LXDError) as err:
        client.get("/1.0")
    assert "in the middle of its answer to GET /1.0" in err.value.message
    assert listener.methods() == ["GET"]


def test_pushed_file_is_not_sent_twice(listen, tmp_path):
    listener, client = listen(["drop"])
    source = tmp_path / "payload"
    source.write_bytes(b"x" * 1000)
    with open(source, "rb") as handle, pytest.raises(LXDError, match="not sent again"):
        client.push_file("c1", "/root/f", handle, 1000)
    assert listener.methods() == ["POST"]


# ---------------------------------------------------------------- trust secrets and verify=false

def _https(cert_pair, **options):
    return LXDClient(url="https://127.0.0.1:1", client_cert=str(cert_pair[0]), client_key=str(cert_pair[1]),
                     environ={}, **options)


def test_password_is_not_sent_without_a_checked_certificate(cert_pair):
    with pytest.raises(LXDError) as err:
        _https(cert_pair, verify=False, trust_password="s3cret-pw")._pin_for_secret("trust_password")
    assert "trust_password was not sent to https://127.0.0.1:1" in err.value.message
    assert "server_cert" in err.value.message and "s3cret-pw" not in err.value.message


def test_token_pins_the_certificate_it_names(cert_pair):
    token = encode_trust_token("ci", "AB" * 32, ["127.0.0.1:1"], "s3cret")
    client = _https(cert_pair, verify=False, trust_token=token)
    client._pin_for_secret("trust_token")
    assert client.server_fingerprint == "ab" * 32


def test_token_naming_no_certificate_is_not_sent(cert_pair):
    token = encode_trust_token("ci", None, [], "s3cret")
    with pytest.raises(LXDError, match="trust_token was not sent.*names no server certificate"):
        _https(cert_pair, verify=False, trust_token=token)._pin_for_secret("trust_token")


@pytest.mark.parametrize("options", [{"verify": True}, {"verify": False, "server_cert": "pinned"}])
def test_checked_servers_get_the_secret(cert_pair, options):
    if "server_cert" in options:
        options = dict(options, server_cert=str(cert_pair[0]))
    client = _https(cert_pair, trust_password="pw", **options)
    pinned = client.server_fingerprint
    client._pin_for_secret("trust_password")
    assert client.server_fingerprint == pinned


# ---------------------------------------------------------------- which daemon, and what Incus lacks

def test_kind_from_the_environment_or_from_incus_own_extensions():
    assert kind_from_server({"environment": {"server": "incus"}}) == "incus"
    assert kind_from_server({"environment": {"server": "lxd"}, "api_extensions": ["restrict_devlxd"]}) == "lxd"
    # An untrusted client sees no environment: Incus's renamed extensions still tell it apart.
    assert kind_from_server({"auth": "untrusted", "api_extensions": ["etag", "restrict_dev_incus"]}) == "incus"
    assert kind_from_server({"auth": "untrusted", "api_extensions": ["etag", "restrict_devlxd"]}) == "lxd"
    assert kind_from_server({}) == "lxd" and kind_from_server(None) == "lxd"


@pytest.mark.parametrize("path, old", [("/1.0/containers", True), ("/1.0/containers/c1/state", True),
                                       ("/1.0/containers?recursion=1", True), ("/1.0/containers/", True),
                                       ("/1.0/instances/containers", False), ("/1.0/instances", False),
                                       ("/1.0/containersx", False), ("/1.0", False)])
def test_container_paths(path, old):
    assert is_container_path(path) is old


def _only(path):
    return lambda candidate: candidate == path


def test_default_client_pair_is_the_first_cli_folder_holding_one():
    home = "/home/u"
    assert default_client_pair(home, isfile=_only(None)) == ("/home/u/.config/lxc/client.crt",
                                                             "/home/u/.config/lxc/client.key")
    assert default_client_pair(home, isfile=_only("/home/u/.config/incus/client.crt")) == (
        "/home/u/.config/incus/client.crt", "/home/u/.config/incus/client.key")
    assert default_client_pair(home, isfile=lambda p: p.endswith("client.crt"))[0] == "/home/u/.config/lxc/client.crt"
    snap = "/home/u/snap/lxd/common/config/client.crt"
    assert default_client_pair(home, isfile=_only(snap))[0] == snap


class _Answering(LXDClient):
    """A client whose server answers GET /1.0 with `info` and refuses everything else (nothing may be sent)."""

    def __init__(self, info, **options):
        super(_Answering, self).__init__(**options)
        self._info = info
        self.sent = []

    def request(self, method, path, **kwargs):  # pylint: disable=arguments-differ
        if (method, path) == ("GET", "/1.0"):
            return Response(200, dict(self._info))
        self.sent.append((method, path, kwargs.get("body")))
        raise AssertionError("sent %s %s" % (method, path))


INCUS_UNTRUSTED = {"auth": "untrusted", "api_extensions": ["restrict_dev_incus"]}


def test_trust_password_is_refused_for_incus_before_it_is_sent(cert_pair):
    client = _Answering(INCUS_UNTRUSTED, url="https://127.0.0.1:1", client_cert=str(cert_pair[0]),
                        client_key=str(cert_pair[1]), server_cert=str(cert_pair[0]), trust_password="s3cret-pw",
                        environ={})
    with pytest.raises(LXDError) as err:
        client.authenticate()
    assert "Incus has no trust password" in err.value.message and "trust_token" in err.value.message
    assert "s3cret-pw" not in err.value.message and client.sent == []


def test_incus_gets_the_token_in_its_own_field(cert_pair):
    token = encode_trust_token("ci", "ab" * 32, ["127.0.0.1:1"], "s3cret")
    client = _Answering(INCUS_UNTRUSTED, url="https://127.0.0.1:1", client_cert=str(cert_pair[0]),
                        client_key=str(cert_pair[1]), server_cert=str(cert_pair[0]), trust_token=token, environ={})
    with pytest.raises(AssertionError):
        client.authenticate()
    assert client.sent == [("POST", "/1.0/certificates", {"type": "client", "trust_token": token})]


def test_container_paths_are_refused_on_incus_only(cert_pair):
    incus = _Answering({"auth": "trusted", "environment": {"server": "incus"}}, url="unix:/nonexistent", environ={})
    with pytest.raises(LXDError) as err:
        incus._refuse_container_paths("GET", "/1.0/containers/c1")
    assert "Incus" in err.value.message and "/1.0/instances" in err.value.message
    lxd = _Answering({"auth": "trusted", "environment": {"server": "lxd"}}, url="unix:/nonexistent", environ={})
    lxd._refuse_container_paths("GET", "/1.0/containers/c1")
    incus._refuse_container_paths("GET", "/1.0/instances/c1")


def test_busy_instance_refusals_are_told_apart():
    from ansible_collections.lxdops.server.plugins.module_utils.client import is_busy_refusal
    busy = {"type": "error", "error": 'Failed to create instance update operation: Instance is busy running a "stop" operation'}
    assert is_busy_refusal(400, busy)
    assert not is_busy_refusal(400, {"type": "error", "error": "Instance not found"})
    assert not is_busy_refusal(200, {"type": "sync", "metadata": {}})
