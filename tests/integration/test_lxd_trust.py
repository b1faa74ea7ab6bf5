# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_trust against the lab's second daemon (LXD and Incus): trust store, tokens, and a CLI remote that
works with the daemon's own CLI (lxc, incus)."""

from __future__ import annotations

import base64
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile

import pytest
import yaml

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDClient,
    api_path,
    certificate_fingerprint,
)
from ansible_collections.lxdops.server.plugins.module_utils.daemon import KIND_FACTS


COLLECTIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".build",
                           "collections")


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def fingerprint_of(path):
    return certificate_fingerprint(read(path))


def entry(client, fingerprint):
    return client.exists(api_path("certificates", fingerprint), project=False)


def token_ops(client, prefix):
    running = (client.get("/1.0/operations", params={"recursion": 1}, project=False).metadata or {}).get("running")
    return [op for op in running or [] if op.get("class") == "token"
            and ((op.get("metadata") or {}).get("request") or {}).get("name", "").startswith(prefix)]


@pytest.fixture
def remote(lab):
    return dict(url=lab["daemons"]["remote"]["url"])


@pytest.fixture(autouse=True)
def no_tokens_left(remote_unix, lab):
    """Pending tokens are credentials and the lab's cleanup does not know them: revoke this session's."""
    yield
    for op in token_ops(remote_unix, lab["prefix"]):
        remote_unix.delete(api_path("operations", op["id"]), project=False)


@pytest.fixture
def project(remote_unix, unique):
    """A project on the remote daemon (the lab removes projects by prefix)."""
    def make():
        name = unique("proj")
        remote_unix.post("/1.0/projects", {"name": name, "config": {"features.images": "false",
                                                                    "features.profiles": "false"}}, project=False)
        return name
    return make


def make_cert(folder, cn="lxdops-trust"):
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    crt, key = os.path.join(folder, "client.crt"), os.path.join(folder, "client.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=%s" % cn, "-keyout", key, "-out", crt], check=True, capture_output=True)
    return crt, key


# ---------------------------------------------------------------- certificates

def test_add_in_check_mode_then_add_then_nothing_to_do(run_module, remote, remote_unix, new_cert, unique):
    crt = new_cert[0]
    fingerprint, name = fingerprint_of(crt), unique("cert")
    check = run_module("lxd_trust", dict(remote, certificate=crt, name=name), check=True)
    assert check["changed"] and check["actions"] == ["add"]
    assert check["diff"]["after"]["certificate"]["fingerprint"] == fingerprint
    assert check["certificate"]["name"] == name
    assert entry(remote_unix, fingerprint) is None

    first = run_module("lxd_trust", dict(remote, certificate=crt, name=name))
    assert first["changed"] and first["actions"] == ["add"]
    trusted = entry(remote_unix, fingerprint)
    assert trusted["name"] == name and trusted["type"] == "client" and trusted["restricted"] is False
    assert first["certificate"] == dict((k, v) for k, v in trusted.items() if k != "certificate")

    # PEM text instead of the file: the same certificate, nothing to do, one request.
    second = run_module("lxd_trust", dict(remote, certificate=read(crt), name=name))
    assert not second["changed"] and second["actions"] == [] and second["_requests"] == 1
    assert second["diff"] == {"before": {}, "after": {}}


def test_without_name_lxd_names_it_and_a_later_run_keeps_the_name(run_module, remote, remote_unix, tmp_path, unique):
    # LXD names a certificate added without a name after its common name: make that the session prefix.
    crt, _key = make_cert(tmp_path / "c", cn=unique("cn"))
    first = run_module("lxd_trust", dict(remote, certificate=crt))
    assert first["changed"]
    name = entry(remote_unix, fingerprint_of(crt))["name"]
    assert first["certificate"]["name"] == name
    assert not run_module("lxd_trust", dict(remote, certificate=crt))["changed"]


def test_rename_and_converge_projects(run_module, remote, remote_unix, new_cert, unique, project):
    crt = new_cert[0]
    fingerprint, name = fingerprint_of(crt), unique("cert")
    web, db = project(), project()
    added = run_module("lxd_trust", dict(remote, certificate=crt, name=name, projects=[web]))
    assert added["changed"]
    assert entry(remote_unix, fingerprint)["restricted"] is True
    assert entry(remote_unix, fingerprint)["projects"] == [web]
    assert not run_module("lxd_trust", dict(remote, certificate=crt, projects=[web]))["changed"]

    # By fingerprint alone (no PEM): rename and widen the restriction; the order of projects does not matter.
    params = dict(remote, fingerprint=fingerprint[:16], name=name + "-x", projects=[db, web])
    check = run_module("lxd_trust", params, check=True)
    assert check["changed"] and check["actions"] == ["update"]
    assert check["diff"]["after"] == {"certificate": {"name": name + "-x", "projects": [db, web]}}
    assert entry(remote_unix, fingerprint)["name"] == name
    changed = run_module("lxd_trust", params)
    assert changed["changed"] and sorted(changed["certificate"]["projects"]) == sorted([web, db])
    assert entry(remote_unix, fingerprint)["name"] == name + "-x"
    assert not run_module("lxd_trust", dict(params, projects=[web, db]))["changed"]

    # An empty list lifts the restriction; leaving projects out keeps whatever is there.
    lifted = run_module("lxd_trust", dict(remote, fingerprint=fingerprint, projects=[]))
    assert lifted["changed"] and lifted["certificate"]["restricted"] is False
    assert entry(remote_unix, fingerprint)["restricted"] is False
    assert not run_module("lxd_trust", dict(remote, fingerprint=fingerprint, projects=[]))["changed"]
    assert not run_module("lxd_trust", dict(remote, certificate=crt))["changed"]


def test_unknown_project_fails_and_changes_nothing(run_module, remote, remote_unix, new_cert, unique, project):
    crt = new_cert[0]
    missing = unique("noproj")
    result = run_module("lxd_trust", dict(remote, certificate=crt, name=unique("cert"), projects=[project(), missing]))
    assert result["failed"] and missing in result["msg"] and "projects" in result["msg"]
    assert entry(remote_unix, fingerprint_of(crt)) is None


def test_metrics_certificate_and_type_is_never_changed(run_module, remote, remote_unix, new_cert, unique):
    crt = new_cert[0]
    name = unique("metrics")
    assert run_module("lxd_trust", dict(remote, certificate=crt, name=name, type="metrics"))["changed"]
    assert entry(remote_unix, fingerprint_of(crt))["type"] == "metrics"
    assert not run_module("lxd_trust", dict(remote, certificate=crt, type="metrics"))["changed"]
    refused = run_module("lxd_trust", dict(remote, certificate=crt, type="client", name=name + "-x"))
    assert refused["failed"] and "cannot change" in refused["msg"] and "state=absent" in refused["msg"]
    unchanged = entry(remote_unix, fingerprint_of(crt))
    assert unchanged["type"] == "metrics" and unchanged["name"] == name


def test_fingerprint_alone_cannot_add(run_module, remote, new_cert):
    result = run_module("lxd_trust", dict(remote, fingerprint=fingerprint_of(new_cert[0])))
    assert result["failed"] and "give certificate" in result["msg"]


def test_remove_by_pem_and_by_fingerprint(run_module, remote, remote_unix, tmp_path, unique, lab):
    first, _key = make_cert(tmp_path / "a")
    second, _key = make_cert(tmp_path / "b")
    for crt in (first, second):
        assert run_module("lxd_trust", dict(remote, certificate=crt, name=unique("rm")))["changed"]

    check = run_module("lxd_trust", dict(remote, certificate=read(first), state="absent"), check=True)
    assert check["changed"] and check["removed"] == [fingerprint_of(first)]
    assert entry(remote_unix, fingerprint_of(first)) is not None
    removed = run_module("lxd_trust", dict(remote, certificate=first, state="absent"))
    assert removed["changed"] and removed["actions"] == ["delete %s" % fingerprint_of(first)[:12]]
    assert removed["diff"]["before"]["certificates"][fingerprint_of(first)]["name"].startswith(lab["prefix"])
    assert entry(remote_unix, fingerprint_of(first)) is None
    assert not run_module("lxd_trust", dict(remote, certificate=first, state="absent"))["changed"]

    # A fingerprint prefix in upper case with colons, as openssl prints it.
    short = ":".join(fingerprint_of(second)[i:i + 2] for i in range(0, 16, 2)).upper()
    by_fingerprint = run_module("lxd_trust", dict(remote, fingerprint=short, state="absent"))
    assert by_fingerprint["changed"] and by_fingerprint["removed"] == [fingerprint_of(second)]
    assert entry(remote_unix, fingerprint_of(second)) is None
    again = run_module("lxd_trust", dict(remote, fingerprint=fingerprint_of(second), state="absent"))
    assert not again["changed"] and again["removed"] == []


def test_remove_by_name_removes_its_certificates_and_tokens(run_module, remote, remote_unix, tmp_path, unique):
    name = unique("byname")
    first, _key = make_cert(tmp_path / "a")
    second, _key = make_cert(tmp_path / "b")
    for crt in (first, second):
        run_module("lxd_trust", dict(remote, certificate=crt, name=name))
    issued = run_module("lxd_trust", dict(remote, name=name, state="token", force=True))
    assert issued["changed"] and issued["token"]
    result = run_module("lxd_trust", dict(remote, name=name, state="absent"))
    assert result["changed"] and sorted(result["removed"]) == sorted([fingerprint_of(first), fingerprint_of(second)])
    assert any(action.startswith("revoke token") for action in result["actions"])
    assert entry(remote_unix, fingerprint_of(first)) is None and entry(remote_unix, fingerprint_of(second)) is None
    assert token_ops(remote_unix, name) == []
    assert not run_module("lxd_trust", dict(remote, name=name, state="absent"))["changed"]


def test_never_removes_its_own_certificate_by_name(run_module, remote, remote_unix, lab, new_cert, unique):
    crt, key = new_cert
    name = unique("self")
    run_module("lxd_trust", dict(remote, certificate=crt, name=name))
    over_https = dict(url=lab["daemons"]["remote"]["https_url"], server_cert=lab["daemons"]["remote"]["server_cert"],
                      client_cert=crt, client_key=key)
    result = run_module("lxd_trust", dict(over_https, name=name, state="absent"))
    assert result["failed"] and "connects with" in result["msg"]
    assert entry(remote_unix, fingerprint_of(crt)) is not None


# ---------------------------------------------------------------- tokens

def decode(token):
    return json.loads(base64.b64decode(token))


def test_token_makes_a_client_trusted(run_module, remote, remote_unix, lab, new_cert, unique):
    name = unique("tok")
    check = run_module("lxd_trust", dict(remote, name=name, state="token"), check=True)
    assert check["changed"] and check["token"] is None and token_ops(remote_unix, name) == []

    issued = run_module("lxd_trust", dict(remote, name=name, state="token"))
    assert issued["changed"] and issued["actions"] == ["issue token"]
    token = issued["token"]
    data = decode(token)
    assert data["client_name"] == name and data["addresses"] == [lab["daemons"]["remote"]["https_url"][8:]]
    assert data["fingerprint"] == fingerprint_of(lab["daemons"]["remote"]["server_cert"])
    # Only `token` holds the secret: not the diff, not the actions, not anything else.
    assert issued["_stdout"].count(token) == 1 and data["secret"] not in issued["_stdout"]

    crt, key = new_cert
    client = LXDClient(url=lab["daemons"]["remote"]["https_url"], client_cert=crt, client_key=key,
                       server_cert=lab["daemons"]["remote"]["server_cert"], trust_token=token)
    assert client.server_info()["auth"] == "trusted"
    assert entry(remote_unix, fingerprint_of(crt))["name"] == name
    assert token_ops(remote_unix, name) == []

    # The client is trusted now: no new token (an unused one would be a standing credential) unless forced.
    again = run_module("lxd_trust", dict(remote, name=name, state="token"))
    assert not again["changed"] and again["token"] is None
    assert again["certificate"]["fingerprint"] == fingerprint_of(crt)
    forced = run_module("lxd_trust", dict(remote, name=name, state="token", force=True))
    assert forced["changed"] and forced["token"] and forced["token"] != token
    assert len(token_ops(remote_unix, name)) == 1


def test_the_module_itself_becomes_trusted_with_a_token_it_never_shows(run_module, remote, lab, new_cert, unique):
    token = run_module("lxd_trust", dict(remote, name=unique("tok"), state="token"))["token"]
    crt, key = new_cert
    over_https = dict(url=lab["daemons"]["remote"]["https_url"], server_cert=lab["daemons"]["remote"]["server_cert"],
                      client_cert=crt, client_key=key, trust_token=token)
    result = run_module("lxd_trust", dict(over_https, fingerprint=fingerprint_of(crt)))
    assert not result.get("failed"), result.get("msg")
    assert not result["changed"] and token not in result["_stdout"]


def test_pending_token_is_returned_again(run_module, remote, remote_unix, unique, project):
    name = unique("tok")
    first = run_module("lxd_trust", dict(remote, name=name, state="token"))
    second = run_module("lxd_trust", dict(remote, name=name, state="token"))
    assert first["changed"] and not second["changed"]
    assert second["token"] == first["token"] and second["actions"] == []
    assert run_module("lxd_trust", dict(remote, name=name, state="token"), check=True)["token"] == first["token"]
    assert len(token_ops(remote_unix, name)) == 1

    # Asking for a restricted token supersedes the unrestricted one: it is revoked, a new one issued.
    web = project()
    restricted = run_module("lxd_trust", dict(remote, name=name, state="token", projects=[web]))
    assert restricted["changed"] and restricted["token"] != first["token"]
    assert restricted["actions"][0].startswith("revoke token") and restricted["actions"][-1] == "issue token"
    ops = token_ops(remote_unix, name)
    assert len(ops) == 1 and ops[0]["metadata"]["request"]["projects"] == [web]
    assert ops[0]["metadata"]["request"]["restricted"] is True
    # Leaving projects out accepts the pending token whatever its restriction.
    assert not run_module("lxd_trust", dict(remote, name=name, state="token"))["changed"]


# ---------------------------------------------------------------- CLI remote for a user

@pytest.fixture
def cli(lab):
    """Run the kind's own CLI (lxc or incus) with a given config folder, as a given user."""
    facts = KIND_FACTS[lab["kind"]]

    def run(config_dir, *args, user=None):
        conf = "%s=%s" % (facts["cli_conf_env"], config_dir)
        command = [facts["cli"]] + list(args)
        if user:
            command = ["runuser", "-u", user, "--", "env", conf, "HOME=/tmp"] + command
        env = dict(os.environ, **{facts["cli_conf_env"]: config_dir})
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
        return proc.returncode, proc.stdout + proc.stderr
    return run


def expected_remote(kind, addr):
    """The config.yml entry each CLI's `remote add` writes (incus 6.0.4 and lxc 5.0.2, seen on the lab machine)."""
    if kind == "incus":
        return {"addr": addr, "project": "default", "protocol": "incus", "public": False}
    return {"addr": addr, "auth_type": "tls", "protocol": "lxd", "public": False}


@pytest.fixture
def public_dir():
    """A folder another user can reach (pytest's tmp_path is root's only)."""
    folder = tempfile.mkdtemp(prefix="lxdops-trust-")
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_cli_remote_for_a_user_then_the_cli_works(run_module, remote_https, remote_unix, lab, unique, public_dir,
                                                  cli):
    user = "nobody"
    account = pwd.getpwnam(user)
    config_dir = os.path.join(public_dir, "home", "cli")
    cert_name, remote_name = unique("cli"), "lxd-snapshot"
    params = dict(remote_https, name=cert_name, cli_remote=dict(name=remote_name, user=user, config_dir=config_dir))
    before = len(remote_unix.get("/1.0/certificates", project=False).metadata)

    check = run_module("lxd_trust", params, check=True)
    assert not check.get("failed"), check.get("msg")
    assert check["changed"] and "generate client certificate" in check["actions"] and "add" in check["actions"]
    assert check["cli_remote"]["fingerprint"] is None
    assert not os.path.exists(os.path.join(public_dir, "home"))
    assert len(remote_unix.get("/1.0/certificates", project=False).metadata) == before

    first = run_module("lxd_trust", params)
    assert not first.get("failed"), first.get("msg")
    assert first["changed"]
    crt, key = os.path.join(config_dir, "client.crt"), os.path.join(config_dir, "client.key")
    server_cert = os.path.join(config_dir, "servercerts", remote_name + ".crt")
    config_file = os.path.join(config_dir, "config.yml")
    for path in (os.path.join(public_dir, "home"), config_dir, crt, key, server_cert, config_file):
        assert os.stat(path).st_uid == account.pw_uid, path
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert fingerprint_of(server_cert) == fingerprint_of(lab["daemons"]["remote"]["server_cert"])
    assert first["cli_remote"]["fingerprint"] == fingerprint_of(crt)
    trusted = entry(remote_unix, fingerprint_of(crt))
    assert trusted["name"] == cert_name and first["certificate"]["fingerprint"] == fingerprint_of(crt)
    config = yaml.safe_load(read(config_file))
    assert config["remotes"][remote_name] == expected_remote(lab["kind"], lab["daemons"]["remote"]["https_url"])
    assert config["remotes"]["local"]["addr"] == "unix://"
    assert first["cli_remote"]["cli"] == KIND_FACTS[lab["kind"]]["cli"]

    # The user's own CLI, with nothing else: the remote is listed and answers.
    code, out = cli(config_dir, "remote", "list", user=user)
    assert code == 0 and remote_name in out and lab["daemons"]["remote"]["https_url"] in out, out
    code, out = cli(config_dir, "list", remote_name + ":", "--format", "csv", user=user)
    assert code == 0, out
    code, out = cli(config_dir, "query", remote_name + ":/1.0", user=user)
    assert code == 0 and json.loads(out)["auth"] == "trusted", out

    second = run_module("lxd_trust", params)
    assert not second["changed"] and second["actions"] == [], second["actions"]
    assert run_module("lxd_trust", params, check=True)["changed"] is False


def test_cli_remote_keeps_the_rest_of_config_yml(run_module, remote, lab, unique, tmp_path, cli):
    config_dir = str(tmp_path / "cli")
    os.makedirs(config_dir)
    with open(os.path.join(config_dir, "config.yml"), "w", encoding="utf-8") as handle:
        handle.write("default-remote: local\nremotes:\n  local:\n    addr: unix://\n    public: false\n"
                     "  lxd-snapshot:\n    addr: https://old.example:8443\n    protocol: lxd\n    public: false\n"
                     "aliases:\n  ll: list --format csv\n")
    https_url = lab["daemons"]["remote"]["https_url"]
    # Over the local unix socket: the remote's https address must be given.
    cli_remote = dict(name="lxd-snapshot", config_dir=config_dir, url=https_url)
    params = dict(remote, name=unique("cli"), cli_remote=cli_remote)
    result = run_module("lxd_trust", params)
    assert not result.get("failed"), result.get("msg")
    assert result["diff"]["before"]["cli_remote"]["remotes"]["lxd-snapshot"]["addr"] == "https://old.example:8443"
    assert result["diff"]["after"]["cli_remote"]["remotes"]["lxd-snapshot"]["addr"] == https_url
    config = yaml.safe_load(read(os.path.join(config_dir, "config.yml")))
    assert config["aliases"] == {"ll": "list --format csv"}
    assert config["remotes"]["lxd-snapshot"]["addr"] == https_url
    code, out = cli(config_dir, "ll", "lxd-snapshot:")
    assert code == 0, out
    assert not run_module("lxd_trust", params)["changed"]

    # A second remote name for the same server: the user's certificate is trusted already.
    other = run_module("lxd_trust", dict(params, cli_remote=dict(params["cli_remote"], name="snap2")))
    assert other["changed"] and "add" not in other["actions"] and "update" not in other["actions"]
    code, out = cli(config_dir, "list", "snap2:")
    assert code == 0, out


def test_cli_remote_for_the_cli_named(run_module, remote, lab, unique, tmp_path):
    """cli says which CLI gets the remote, whatever the server's daemon: its entry, its new config.yml."""
    https_url = lab["daemons"]["remote"]["https_url"]
    for name, kind in (("lxc", "lxd"), ("incus", "incus")):
        config_dir = str(tmp_path / name)
        params = dict(remote, name=unique("cli"), cli_remote=dict(name="r", cli=name, config_dir=config_dir,
                                                                  url=https_url))
        result = run_module("lxd_trust", params)
        assert not result.get("failed"), result.get("msg")
        assert result["cli_remote"]["cli"] == name
        config = yaml.safe_load(read(os.path.join(config_dir, "config.yml")))
        assert config["remotes"]["r"] == expected_remote(kind, https_url)
        assert config["remotes"]["local"].get("protocol") == ("incus" if kind == "incus" else None)
        subject = subprocess.run(["openssl", "x509", "-in", os.path.join(config_dir, "client.crt"), "-noout",
                                  "-subject"], capture_output=True, text=True, check=True).stdout
        assert ("Linux Containers" if kind == "incus" else "linuxcontainers.org") in subject
        assert not run_module("lxd_trust", params)["changed"]


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("params, words", [
    (dict(certificate="/nonexistent/client.crt"), ["certificate", "/nonexistent/client.crt", "PEM"]),
    (dict(certificate="-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n"),
     ["certificate", "PRIVATE KEY", "no PEM certificate"]),
    (dict(fingerprint="not-hex"), ["fingerprint", "not-hex", "hex"]),
    (dict(fingerprint="abc", state="absent"), ["fingerprint", "'abc'", "12"]),
    (dict(state="token"), ["state=token", "name"]),
    (dict(state="token", name="x", type="metrics"), ["type", "metrics", "client"]),
    (dict(state="token", name="x", fingerprint="ab" * 32), ["fingerprint", "state=token"]),
    (dict(), ["state=present", "certificate", "fingerprint", "cli_remote"]),
    (dict(state="absent"), ["state=absent", "certificate", "fingerprint", "name"]),
    (dict(fingerprint="ab" * 32, projects=["ok", "a/b"]), ["projects", "a/b"]),
    (dict(cli_remote=dict(name="r", url="http://127.0.0.1:8444")), ["cli_remote.url", "http://127.0.0.1:8444",
                                                                    "https://"]),
    (dict(cli_remote=dict(name="r")), ["cli_remote.url", "unix socket", "https://"]),
    (dict(cli_remote=dict(name="local", url="https://127.0.0.1:8444")), ["cli_remote.name", "local"]),
    (dict(cli_remote=dict(name="r", url="https://127.0.0.1:8444", user="lxdops-no-such-user")),
     ["cli_remote.user", "lxdops-no-such-user"]),
    (dict(cli_remote=dict(name="r", url="https://127.0.0.1:8444"), type="metrics"), ["type", "cli_remote"]),
    (dict(cli_remote=dict(name="r", url="https://127.0.0.1:8444", cli="lxd")), ["cli", "lxd", "lxc, incus"]),
    (dict(cli_remote=dict(name="r", url="https://127.0.0.1:8444"), state="absent", name="x"), ["cli_remote",
                                                                                               "state=present"]),
])
def test_bad_input_fails_before_any_request(run_module, remote, params, words):
    result = run_module("lxd_trust", dict(remote, **params))
    assert result["failed"] and result["_requests"] == 0, result
    for word in words:
        assert word in result["msg"], (word, result["msg"])


def test_fingerprint_that_is_not_the_certificates(run_module, remote, new_cert):
    result = run_module("lxd_trust", dict(remote, certificate=new_cert[0], fingerprint="ab" * 32))
    assert result["failed"] and result["_requests"] == 0 and "does not match" in result["msg"]


def test_yaml_config_without_pyyaml_fails_naming_the_package(run_module, remote, tmp_path, lab):
    config_dir = tmp_path / "lxc"
    config_dir.mkdir()
    (config_dir / "config.yml").write_text("default-remote: local\n")
    blocker = tmp_path / "noyaml"
    blocker.mkdir()
    # A `yaml` that cannot be imported, first on the module's path.
    (blocker / "yaml.py").write_text("raise ImportError('hidden for the test')\n")
    env = {"PYTHONPATH": "%s:%s" % (blocker, COLLECTIONS)}
    # With cli named, the files are read before any request; without, after one read of the server (its kind).
    cli_name = KIND_FACTS[lab["kind"]]["cli"]
    params = dict(remote, cli_remote=dict(name="r", url="https://127.0.0.1:8444", config_dir=str(config_dir),
                                          cli=cli_name))
    result = run_module("lxd_trust", params, env=env)
    assert result["failed"] and result["_requests"] == 0 and "python3-yaml" in result["msg"], result
    params["cli_remote"].pop("cli")
    result = run_module("lxd_trust", params, env=env)
    assert result["failed"] and result["_requests"] == 1 and "python3-yaml" in result["msg"], result

    # A config.yml this module wrote without PyYAML is JSON, which it reads back without PyYAML.
    json_dir = tmp_path / "lxc-json"
    json_dir.mkdir()
    (json_dir / "config.yml").write_text(json.dumps({"default-remote": "local", "remotes": {}, "aliases": {}}))
    params = dict(remote, cli_remote=dict(name="r", url="https://127.0.0.1:8444", config_dir=str(json_dir)))
    result = run_module("lxd_trust", params, env=env, check=True)
    assert not result.get("failed"), result.get("msg")
    assert result["diff"]["after"]["cli_remote"]["remotes"]["r"]["addr"] == "https://127.0.0.1:8444"
