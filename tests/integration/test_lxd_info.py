# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_info against the lab's daemons: what it reads, and that every failed read fails."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, api_path

# A server key of this test's own (other tests change the shared daemons' config meanwhile).
PLAIN_KEY = "user.lxdops-test-h2b-info"
ALL = ["server", "instances", "profiles", "networks", "storage_pools", "projects"]


@pytest.fixture
def unix(lab):
    return dict(url=lab["daemons"]["primary"]["url"])


@pytest.fixture
def project(primary, unique):
    """A project of the primary that uses the default project's profiles and images (so an instance starts)."""
    name = unique("proj")
    primary.post("/1.0/projects", {"name": name, "config": {"features.profiles": "false", "features.images": "false",
                                                            "features.storage.volumes": "false"}})
    yield name


def names(items):
    return [item["name"] for item in items]


def test_everything_over_unix(run_module, unix, instance, primary, lab):
    name = instance("info")
    result = run_module("lxd_info", dict(unix))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert set(ALL) <= set(result) and "missing" not in result
    # One request per section.
    assert result["_requests"] == 6
    server = result["server"]
    # The daemon says which it is: lxd or incus.
    assert server["server"] == lab["kind"] and server["server_version"] and server["auth"] == "trusted"
    assert "instance_all_projects" in server["api_extensions"]
    assert server["config"]["core.https_address"] == primary.get("/1.0", project=False).metadata["config"][
        "core.https_address"]
    assert server["certificate_fingerprint"] and "BEGIN CERTIFICATE" in server["certificate"]
    found = [inst for inst in result["instances"] if inst["name"] == name]
    assert len(found) == 1
    inst = found[0]
    assert inst["status"] == "Running" and inst["project"] == "default" and inst["type"] == "container"
    for key in ("config", "devices", "profiles", "location", "description"):
        assert key in inst
    default = [prof for prof in result["profiles"] if prof["name"] == "default"][0]
    assert default["project"] == "default" and api_path("instances", name) in default["used_by"]
    assert lab["daemons"]["primary"]["bridge"] in names(result["networks"])
    assert "default" in names(result["storage_pools"])
    assert [proj for proj in result["projects"] if proj["name"] == "default"][0]["config"]["features.profiles"] == "true"


def secret_key_of(client):
    """A secret server key this daemon takes and shows in clear (LXD 5.0: maas.api.key; Incus 6.0 has no MAAS keys,
    but shows loki.auth.password), set beside a plain key. Found by what the server accepts; core.trust_password
    (only shown as true) is left alone, other tests use it."""
    # Incus 6.0.4 drops core.https_address when it refuses an update: put it back, later tests reach it over https.
    https_address = client.get("/1.0", project=False).metadata["config"].get("core.https_address")
    for key in ("maas.api.key", "loki.auth.password"):
        try:
            client.patch("/1.0", {"config": {key: "lxdops-test-h2b-secret", PLAIN_KEY: "shown"}}, project=False)
        except LXDError as exc:
            if "unknown key" in exc.message:
                if https_address and client.get("/1.0", project=False).metadata["config"].get(
                        "core.https_address") != https_address:
                    client.patch("/1.0", {"config": {"core.https_address": https_address}}, project=False)
                continue
            raise
        return key
    raise AssertionError("the daemon at %s takes none of the secret keys tried" % client.url)


def test_secret_server_keys_left_out(run_module, lab, remote_unix):
    key = secret_key_of(remote_unix)
    try:
        assert remote_unix.get("/1.0", project=False).metadata["config"][key] == "lxdops-test-h2b-secret"
        result = run_module("lxd_info", dict(url=lab["daemons"]["remote"]["url"], gather=["server"]))
    finally:
        remote_unix.patch("/1.0", {"config": {key: "", PLAIN_KEY: ""}}, project=False)
    assert not result.get("failed"), result.get("msg")
    assert key not in result["server"]["config"]
    assert result["server"]["config"][PLAIN_KEY] == "shown"
    assert "lxdops-test-h2b-secret" not in result["_stdout"]


def test_over_https(run_module, remote_https, remote_unix, unique, busybox):
    name = unique("info")
    created = run_module("lxd_instance", dict(remote_https, name=name, source=busybox, state="stopped"))
    assert not created.get("failed"), created.get("msg")
    result = run_module("lxd_info", dict(remote_https, gather=["server", "instances"]))
    assert not result.get("failed"), result.get("msg")
    assert result["_requests"] == 2
    assert result["server"]["auth"] == "trusted"
    assert result["server"]["server_name"] == remote_unix.get("/1.0", project=False).metadata["environment"][
        "server_name"]
    assert [inst["status"] for inst in result["instances"] if inst["name"] == name] == ["Stopped"]
    assert set(result) & set(ALL) == {"server", "instances"}


def test_gather_subsets_and_check_mode(run_module, unix):
    for gather in (["instances"], ["projects"], ["networks", "storage_pools"], ["profiles", "server"]):
        result = run_module("lxd_info", dict(unix, gather=gather), check=True)
        assert not result.get("failed"), result.get("msg")
        assert set(result) & set(ALL) == set(gather)
        assert result["changed"] is False
        assert result["_requests"] == len(gather)


def test_project_and_all_projects(run_module, unix, instance, project, primary, unique, lab):
    in_project = instance("pinst", project=project)
    in_default = instance("dinst")
    # The project's own view: only its instance; profiles are the default project's (features.profiles off).
    own = run_module("lxd_info", dict(unix, project=project, gather=["instances", "profiles", "networks"]))
    assert not own.get("failed"), own.get("msg")
    assert names(own["instances"]) == [in_project] and own["instances"][0]["project"] == project
    assert all(prof["project"] == "default" for prof in own["profiles"])
    assert lab["daemons"]["primary"]["bridge"] in names(own["networks"])
    assert own["_requests"] == 4  # the project looked up once, then one request per section
    default_only = run_module("lxd_info", dict(unix, gather=["instances"]))
    assert in_default in names(default_only["instances"]) and in_project not in names(default_only["instances"])
    everything = run_module("lxd_info", dict(unix, gather=["instances"], all_projects=True))
    by_name = dict((inst["name"], inst["project"]) for inst in everything["instances"])
    assert by_name[in_project] == project and by_name[in_default] == "default"
    assert everything["_requests"] == 1


def test_all_projects_profiles(run_module, unix, primary, unique, lab):
    """A project with profiles of its own: they come with it, whether or not the daemon has profiles_all_projects."""
    one_request = primary.has_extension("profiles_all_projects")
    if lab["kind"] == "incus":
        # Incus 6.0 has the extension (LXD 5.0.2 has not): its one-request path runs against the lab's Incus.
        assert one_request
    name = unique("pprof")
    primary.post("/1.0/projects", {"name": name, "config": {"features.profiles": "true"}})
    profile = unique("prof")
    primary.post("/1.0/profiles", {"name": profile, "config": {"limits.cpu": "1"}}, project=name)
    result = run_module("lxd_info", dict(unix, gather=["profiles"], all_projects=True))
    assert not result.get("failed"), result.get("msg")
    # GET /1.0 (its extensions), then all profiles at once, or the projects and then each with profiles of its own.
    if one_request:
        assert result["_requests"] == 2
    else:
        assert result["_requests"] >= 4
    pairs = set((prof["project"], prof["name"]) for prof in result["profiles"])
    assert (name, profile) in pairs and (name, "default") in pairs and ("default", "default") in pairs
    assert ("default", profile) not in pairs
    own = run_module("lxd_info", dict(unix, project=name, gather=["profiles"]))
    assert set((prof["project"], prof["name"]) for prof in own["profiles"]) == {(name, "default"), (name, profile)}


def test_instances_filter(run_module, unix, instance, project):
    first = instance("fa")
    second = instance("fb", project=project)
    ghost = "lxdops-test-h1a-no-such-instance"
    result = run_module("lxd_info", dict(unix, gather=["instances"], instances=[first, ghost, second]))
    assert not result.get("failed"), result.get("msg")
    assert names(result["instances"]) == [first] and result["missing"] == [ghost, second]
    result = run_module("lxd_info", dict(unix, gather=["instances"], all_projects=True,
                                         instances=[first, ghost, second]))
    assert sorted(names(result["instances"])) == sorted([first, second]) and result["missing"] == [ghost]
    assert result["_requests"] == 1


@pytest.mark.parametrize("params, words", [
    (dict(gather=[]), ["gather", "server, instances"]),
    (dict(gather=["server"], instances=["a"]), ["instances", "gather"]),
    (dict(gather=["instances"], instances=[]), ["instances is an empty list", "leave it out"]),
    (dict(gather=["instances"], instances=["bad/name"]), ["instances", "'bad/name'", "letters, digits"]),
    (dict(gather=["everything"]), ["gather", "everything", "storage_pools"]),
])
def test_bad_input_fails_before_any_request(run_module, unix, params, words):
    result = run_module("lxd_info", dict(unix, **params))
    assert result.get("failed")
    for word in words:
        assert word in result["msg"]
    assert result["_requests"] == 0


def test_missing_socket(run_module, tmp_path):
    result = run_module("lxd_info", dict(url="unix:" + str(tmp_path / "unix.socket")))
    assert result.get("failed") and "instances" not in result
    assert "cannot read server" in result["msg"] and "does not exist" in result["msg"]
    assert str(tmp_path / "unix.socket") in result["msg"]


def test_daemon_down(run_module, tmp_path):
    """A socket file nobody listens on: what a stopped daemon leaves behind."""
    path = str(tmp_path / "unix.socket")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.close()
    result = run_module("lxd_info", dict(url="unix:" + path, gather=["instances"]))
    assert result.get("failed") and "instances" not in result
    assert "cannot read instances" in result["msg"] and "nothing answers" in result["msg"] and path in result["msg"]


def test_permission_denied(lab):
    """The module run as a user outside the socket's group (nobody) against the primary's root-only socket."""
    python = "/usr/bin/python%d.%d" % sys.version_info[:2]
    site = [path for path in sys.path if path.endswith("site-packages") and os.path.isdir(path)]
    if not shutil.which("setpriv") or not os.path.exists(python) or not site:
        pytest.skip("needs setpriv and %s" % python)
    args = {"ANSIBLE_MODULE_ARGS": {"url": lab["daemons"]["primary"]["url"], "gather": ["instances"]}}
    # The interpreter of the test run may sit under /root, out of nobody's reach: the system one with its path.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {"PYTHONPATH": ":".join([os.path.join(root, ".build", "collections")] + site), "HOME": "/tmp"}
    proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-m",
                           "ansible_collections.lxdops.server.plugins.modules.lxd_info"],
                          input=json.dumps(args), env=env, cwd="/", capture_output=True, text=True, timeout=60,
                          check=False)
    result = json.loads(proc.stdout)
    assert result.get("failed") and "instances" not in result
    assert "cannot read instances: permission denied on the socket %s" % lab["daemons"]["primary"]["socket"] \
        in result["msg"]


def test_missing_project(run_module, unix):
    result = run_module("lxd_info", dict(unix, project="lxdops-test-h1a-no-such-project", gather=["instances"]))
    assert result.get("failed") and "instances" not in result
    assert "project 'lxdops-test-h1a-no-such-project' does not exist" in result["msg"]


def test_closed_https_port(run_module, remote_https):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    result = run_module("lxd_info", dict(remote_https, url="https://127.0.0.1:%d" % port, gather=["instances"]))
    assert result.get("failed") and "instances" not in result
    assert "cannot read instances" in result["msg"] and "connection refused" in result["msg"]
    assert "127.0.0.1:%d" % port in result["msg"]


def test_wrong_pinned_certificate(run_module, remote_https, lab):
    options = dict(remote_https, server_cert=lab["daemons"]["primary"]["server_cert"])
    result = run_module("lxd_info", dict(options, gather=["instances"]))
    assert result.get("failed") and "instances" not in result
    assert "does not match the pinned server_cert" in result["msg"]


@pytest.mark.parametrize("gather", [["server"], ["instances"], ["projects", "instances"]])
def test_untrusted_client(run_module, remote_https, new_cert, gather):
    crt, key = new_cert
    result = run_module("lxd_info", dict(remote_https, client_cert=crt, client_key=key, gather=gather))
    assert result.get("failed") and not set(result) & set(ALL)
    assert "is not trusted by" in result["msg"] and crt in result["msg"]
