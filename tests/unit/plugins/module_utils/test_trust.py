# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import ssl
import subprocess

import pytest
import yaml

from ansible_collections.lxdops.server.plugins.module_utils.client import load_pem_certificate
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.trust import (
    client_cert_commands,
    default_config_dir,
    desired_fields,
    dump_lxc_config,
    https_address,
    load_lxc_config,
    matching_certificates,
    merge_remote,
    new_lxc_config,
    normalize_fingerprint,
    pending_tokens,
    plan_certificate,
    public_certificate,
    remote_entry,
    check_remote_name,
    cli_kind,
    token_from_operation,
    token_restriction_matches,
    token_summary,
)

# A token `lxc config trust add --name lxdops-test-trx-manual` printed (LXD 5.0.2); its operation was cancelled.
LXC_TOKEN = (
    "eyJjbGllbnRfbmFtZSI6Imx4ZG9wcy10ZXN0LXRyeC1tYW51YWwiLCJmaW5nZXJwcmludCI6Ijg3NGQzOGZlYzc4MTY1YzgwY2ExZTYyNDcy"
    "MjYwNmM5NmFkYTZjNDJlNmM5YWU1Mzg0ZDA0N2M2ODk5N2RhNmQiLCJhZGRyZXNzZXMiOlsiMTI3LjAuMC4xOjg0NDQiXSwic2VjcmV0Ijoi"
    "ODhhMjNmMjZjOWFkNjJlM2YzOTI2YWVkZjUzNjkwYTc1ZGI2YjE3NzljYzM5NDNlNDJhNzhmOGI0NjU2MDJhMSIsImV4cGlyZXNfYXQiOiIw"
    "MDAxLTAxLTAxVDAwOjAwOjAwWiJ9"
)
# The metadata of the operation behind it, as GET /1.0/operations?recursion=1 showed it.
LXC_TOKEN_OPERATION = {
    "class": "token",
    "id": "3289648d-e92e-4422-9f9f-52a8b5ad9c7a",
    "status": "Running",
    "metadata": {
        "addresses": ["127.0.0.1:8444"],
        "fingerprint": "874d38fec78165c80ca1e624722606c96ada6c42e6c9ae5384d047c68997da6d",
        "request": {"certificate": "", "name": "lxdops-test-trx-manual", "password": "", "projects": [],
                    "restricted": False, "token": True, "type": "client"},
        "secret": "88a23f26c9ad62e3f3926aedf53690a75db6b1779cc3943e42a78f8b465602a1",
    },
}


@pytest.fixture(scope="module")
def pem(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cert")
    crt, key = folder / "c.crt", folder / "c.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=unit", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    return crt.read_text()


# ---------------------------------------------------------------- certificates and fingerprints

def test_fingerprint_is_sha256_of_the_der(pem):
    from ansible_collections.lxdops.server.plugins.module_utils.client import certificate_fingerprint
    der = ssl.PEM_cert_to_DER_cert(pem)
    assert certificate_fingerprint(pem) == hashlib.sha256(der).hexdigest()
    openssl = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=pem, text=True,
                             capture_output=True, check=True).stdout
    assert normalize_fingerprint("fingerprint", openssl.split("=", 1)[1]) == certificate_fingerprint(pem)


def test_certificate_from_text_or_file(pem, tmp_path):
    assert load_pem_certificate(pem, "certificate", error=ConfigError) == pem
    path = tmp_path / "chain.pem"
    path.write_text("subject=CN=unit\n" + pem + pem)
    assert load_pem_certificate(str(path), "certificate", error=ConfigError) == pem
    assert load_pem_certificate(None, "certificate", error=ConfigError) is None


def test_not_a_certificate_names_the_option_and_never_echoes_a_key(tmp_path):
    key_text = ("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRET\n"
                "-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError) as err:
        load_pem_certificate(key_text, "certificate", error=ConfigError)
    assert "certificate" in str(err.value) and "PRIVATE KEY" in str(err.value)
    assert "SECRET" not in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_pem_certificate(str(tmp_path / "missing.crt"), "certificate", error=ConfigError)
    assert "missing.crt" in str(err.value) and "PEM" in str(err.value)
    broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
    with pytest.raises(ConfigError) as err:
        load_pem_certificate(broken, "certificate", error=ConfigError)
    assert "cannot be decoded" in str(err.value)


@pytest.mark.parametrize("value, expected", [
    ("6DAADB0694B2", "6daadb0694b2"),
    ("6d:aa:db:06:94:b2:23", "6daadb0694b223"),
    ("ab" * 32, "ab" * 32),
])
def test_fingerprint_forms(value, expected):
    assert normalize_fingerprint("fingerprint", value) == expected


@pytest.mark.parametrize("value", ["xyz", "6daadb0694b", "ab" * 33, "", "6daadb0694b2 x"])
def test_bad_fingerprint(value):
    with pytest.raises(ConfigError) as err:
        normalize_fingerprint("fingerprint", value)
    assert "fingerprint" in str(err.value) and "hex" in str(err.value)


def test_matching_by_prefix():
    certs = [{"fingerprint": "aaaa" + "0" * 60}, {"fingerprint": "aaab" + "0" * 60}]
    assert len(matching_certificates(certs, "aaa")) == 2
    assert matching_certificates(certs, "aaab") == [certs[1]]
    assert matching_certificates(None, "aaab") == []


# ---------------------------------------------------------------- desired versus current

CURRENT = {"fingerprint": "ab" * 32, "name": "old", "type": "client", "restricted": True,
           "projects": ["b", "a"], "certificate": "PEM"}


def test_nothing_given_is_nothing_to_do():
    assert plan_certificate(CURRENT, desired_fields())[0] == {}


def test_project_order_does_not_matter():
    patch, tracker = plan_certificate(CURRENT, desired_fields(projects=["a", "b"]))
    assert patch == {} and not tracker.has_changes


def test_empty_projects_lift_the_restriction():
    patch, tracker = plan_certificate(CURRENT, desired_fields(projects=[]))
    assert patch == {"restricted": False, "projects": []}
    assert tracker.diff() == {"before": {"certificate": {"restricted": True, "projects": ["b", "a"]}},
                              "after": {"certificate": {"restricted": False, "projects": []}}}


def test_rename_and_restrict():
    unrestricted = dict(CURRENT, restricted=False, projects=[])
    patch, _tracker = plan_certificate(unrestricted, desired_fields(name="new", projects=["web"]))
    assert patch == {"name": "new", "restricted": True, "projects": ["web"]}


def test_type_change_is_planned_so_the_manager_can_refuse_it():
    assert plan_certificate(CURRENT, desired_fields(cert_type="metrics"))[0] == {"type": "metrics"}


def test_public_entry_has_no_pem():
    assert "certificate" not in public_certificate(CURRENT)
    assert public_certificate(None) == {}


# ---------------------------------------------------------------- tokens

def test_token_is_built_exactly_as_lxc_prints_it():
    assert token_from_operation(LXC_TOKEN_OPERATION["metadata"], "ignored") == LXC_TOKEN
    decoded = json.loads(base64.b64decode(LXC_TOKEN))
    assert list(decoded) == ["client_name", "fingerprint", "addresses", "secret", "expires_at"]


def test_token_carries_the_expiry():
    meta = dict(LXC_TOKEN_OPERATION["metadata"], expiresAt="2030-01-02T03:04:05.123456789Z")
    decoded = json.loads(base64.b64decode(token_from_operation(meta, "x")))
    assert decoded["expires_at"] == "2030-01-02T03:04:05.123456789Z"


def test_token_without_secret_is_an_error():
    from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError
    with pytest.raises(LXDError):
        token_from_operation({"fingerprint": "x"}, "n")


def _op(name, restricted=False, projects=(), expires=None, cls="token"):
    meta = {"secret": "s", "fingerprint": "f", "addresses": [],
            "request": {"name": name, "restricted": restricted, "projects": list(projects), "type": "client"}}
    if expires:
        meta["expiresAt"] = expires
    return {"class": cls, "id": name + "-id", "metadata": meta}


def test_pending_tokens_by_name_without_join_tokens_or_expired_ones():
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    join = {"class": "token", "id": "j", "metadata": {"serverName": "c2", "secret": "s", "fingerprint": "f"}}
    running = [_op("a"), _op("b"), join, _op("a", cls="task"),
               _op("a", expires="2029-12-31T23:59:59.5Z"), _op("a", expires="2030-01-01T00:30:00+01:00"),
               _op("a", expires="2030-01-01T00:00:01Z"), _op("a", expires="0001-01-01T00:00:00Z")]
    found = pending_tokens({"running": running, "success": [_op("a")]}, "a", now=now)
    assert [op["metadata"].get("expiresAt") for op in found] == [None, "2030-01-01T00:00:01Z", "0001-01-01T00:00:00Z"]
    assert pending_tokens(None, "a") == [] and pending_tokens({"running": None}, "a") == []


def test_pending_token_restriction():
    assert token_restriction_matches(_op("a", True, ["x"]), None)
    assert token_restriction_matches(_op("a", True, ["y", "x"]), ["x", "y"])
    assert not token_restriction_matches(_op("a", True, ["x"]), [])
    assert token_restriction_matches(_op("a", False, ["x"]), [])
    assert not token_restriction_matches(_op("a"), ["x"])


def test_token_summary_has_no_secret():
    summary = token_summary(LXC_TOKEN_OPERATION)
    assert LXC_TOKEN_OPERATION["metadata"]["secret"] not in json.dumps(summary)
    assert summary["name"] == "lxdops-test-trx-manual"


# ---------------------------------------------------------------- the lxc client's config

def test_remote_names():
    check_remote_name("lxd-snapshot")
    for bad in ("local", "a:b", "a/b", "", " x", None, "ubuntu"):
        with pytest.raises(ConfigError) as err:
            check_remote_name(bad)
        assert "cli_remote.name" in str(err.value)


def test_remote_address_must_be_https():
    assert https_address("cli_remote.url", "https://lxd-snapshot.lan") == "https://lxd-snapshot.lan:8443"
    assert https_address("cli_remote.url", "https://[::1]:8444/") == "https://[::1]:8444"
    for bad in ("unix:/var/lib/lxd/unix.socket", "http://h:8443", "lxd-snapshot"):
        with pytest.raises(ConfigError) as err:
            https_address("cli_remote.url", bad)
        assert "cli_remote.url" in str(err.value) and "https://" in str(err.value)


def test_default_config_dir_prefers_the_snap_when_it_is_there():
    assert default_config_dir("/home/u", isdir=lambda p: False) == "/home/u/.config/lxc"
    assert default_config_dir("/home/u", isdir=lambda p: True) == "/home/u/snap/lxd/common/config"


def test_incus_config_dir_is_its_own():
    assert default_config_dir("/home/u", "incus", isdir=lambda p: True) == "/home/u/.config/incus"


def test_merge_into_a_new_incus_config_is_what_incus_remote_add_writes():
    # As incus 6.0.4 wrote it on the lab machine (HOME in a temporary folder, `incus remote add r <token>`).
    entry, defaults = remote_entry("https://127.0.0.1:8446", "incus")
    config, tracker = merge_remote(None, "r", entry, defaults, "incus")
    assert config == {
        "default-remote": "local",
        "remotes": {
            "images": {"addr": "https://images.linuxcontainers.org", "protocol": "simplestreams", "public": True},
            "local": {"addr": "unix://", "protocol": "incus", "public": False},
            "r": {"addr": "https://127.0.0.1:8446", "project": "default", "protocol": "incus", "public": False},
        },
        "aliases": {},
    }
    assert tracker.paths() == ["cli_remote.remotes.r"]
    # A project chosen later (incus remote switch-project ...) is the user's: kept on the next run.
    config["remotes"]["r"]["project"] = "web"
    again, tracker = merge_remote(config, "r", entry, defaults, "incus")
    assert again["remotes"]["r"]["project"] == "web" and not tracker.has_changes


def test_remote_names_each_cli_keeps_for_itself():
    check_remote_name("ubuntu", "incus")
    for name, kind in (("ubuntu", "lxd"), ("local", "incus"), ("local", None), ("ubuntu", None)):
        with pytest.raises(ConfigError) as err:
            check_remote_name(name, kind)
        assert repr(name) in str(err.value)
    with pytest.raises(ConfigError, match="cli_remote.cli 'lxd' is not accepted: give one of incus, lxc"):
        cli_kind("lxd")
    assert cli_kind("incus") == "incus" and cli_kind("lxc") == "lxd"


def test_merge_into_a_new_config_is_what_lxc_writes_plus_the_remote():
    config, tracker = merge_remote(None, "lxd-snapshot", remote_entry("https://10.0.0.2:8443")[0])
    assert config["default-remote"] == "local" and config["aliases"] == {}
    assert config["remotes"]["local"] == {"addr": "unix://", "public": False}
    assert config["remotes"]["lxd-snapshot"] == {"addr": "https://10.0.0.2:8443", "auth_type": "tls",
                                                 "protocol": "lxd", "public": False}
    assert tracker.paths() == ["cli_remote.remotes.lxd-snapshot"]
    assert new_lxc_config()["remotes"]["images"]["protocol"] == "simplestreams"


def test_merge_keeps_everything_else_and_is_idempotent():
    text = ("default-remote: old\nremotes:\n  old:\n    addr: https://old:8443\n    protocol: lxd\n"
            "  lxd-snapshot:\n    addr: https://moved:8443\n    project: web\n    public: true\naliases:\n  ls: list\n")
    current = load_lxc_config(text, yaml)
    config, tracker = merge_remote(current, "lxd-snapshot", remote_entry("https://10.0.0.2:8443")[0])
    assert config["default-remote"] == "old" and config["aliases"] == {"ls": "list"}
    assert config["remotes"]["old"] == {"addr": "https://old:8443", "protocol": "lxd"}
    assert config["remotes"]["lxd-snapshot"] == {"addr": "https://10.0.0.2:8443", "project": "web", "public": False,
                                                 "auth_type": "tls", "protocol": "lxd"}
    assert tracker.diff()["before"]["cli_remote"]["remotes"]["lxd-snapshot"]["addr"] == "https://moved:8443"
    assert current["remotes"]["lxd-snapshot"]["addr"] == "https://moved:8443"  # the input is not changed
    again, tracker = merge_remote(load_lxc_config(dump_lxc_config(config, yaml), yaml), "lxd-snapshot",
                                  remote_entry("https://10.0.0.2:8443")[0])
    assert again == config and not tracker.has_changes


def test_without_pyyaml_json_is_written_and_read_back():
    config, _tracker = merge_remote(None, "r", remote_entry("https://h:8443")[0])
    text = dump_lxc_config(config, None)
    assert json.loads(text) == config
    assert yaml.safe_load(text) == config  # JSON is YAML: lxc reads it
    assert load_lxc_config(text, None) == config


def test_yaml_file_without_pyyaml_names_the_package():
    with pytest.raises(ConfigError) as err:
        load_lxc_config("default-remote: local\n", None)
    assert "python3-yaml" in str(err.value)


def test_config_that_is_not_a_mapping():
    assert load_lxc_config("", yaml) == {} and load_lxc_config("# only a comment\n", yaml) == {}
    with pytest.raises(ConfigError):
        load_lxc_config("- a\n- b\n", yaml)
    with pytest.raises(ConfigError):
        merge_remote({"remotes": ["x"]}, "r", remote_entry("https://h:8443")[0])


def test_client_pair_commands_make_what_lxc_makes(tmp_path):
    key, crt = str(tmp_path / "client.key"), str(tmp_path / "client.crt")
    for argv in client_cert_commands("openssl", key, crt, "alice@host"):
        subprocess.run(argv, check=True, capture_output=True)
    text = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-text"], check=True, capture_output=True,
                          text=True).stdout
    assert "CN = alice@host" in text and "O = linuxcontainers.org" in text
    assert "TLS Web Client Authentication" in text and "secp384r1" in text.replace("P-384", "secp384r1")
    with open(key, encoding="utf-8") as handle:
        assert handle.readline().startswith("-----BEGIN EC PRIVATE KEY-----")


def test_client_pair_for_incus_has_the_subject_incus_gives_it(tmp_path):
    key, crt = str(tmp_path / "client.key"), str(tmp_path / "client.crt")
    for argv in client_cert_commands("openssl", key, crt, "alice@host", kind="incus"):
        subprocess.run(argv, check=True, capture_output=True)
    subject = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-subject"], check=True, capture_output=True,
                             text=True).stdout
    assert "O = Linux Containers" in subject and "CN = alice@host" in subject
