# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pure logic of the client layer: url resolution, certificates, tokens, paths. No LXD, no network."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDClient,
    LXDError,
    api_path,
    certificate_body,
    certificate_fingerprint,
    encode_trust_token,
    is_trust_token,
    load_pem_certificate,
    resolve_url,
)


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
        assert resolve_url(None, env, only("/var/snap/lxd/common/lxd/unix.socket", "/var/lib/lxd/unix.socket")) == \
            ("unix", "/var/snap/lxd/common/lxd/unix.socket")
        assert resolve_url(None, {}, only("/var/lib/lxd/unix.socket")) == ("unix", "/var/lib/lxd/unix.socket")

    def test_no_socket_names_every_place_looked(self):
        with pytest.raises(LXDError) as err:
            resolve_url(None, {"LXD_DIR": "/srv/lxd"}, only())
        assert "/srv/lxd/unix.socket" in err.value.message
        assert "/var/lib/lxd/unix.socket" in err.value.message
        assert "is LXD installed and running" in err.value.message

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
        assert "does not hold a PEM certificate" in err.value.message

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
