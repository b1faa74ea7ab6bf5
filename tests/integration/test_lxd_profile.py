# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_profile against the lab's real daemons."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest
from bad_config_values import BAD

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, api_path
from ansible_collections.lxdops.server.plugins.module_utils.daemon import LAYOUTS


def profile(client, name):
    return client.get(api_path("profiles", name)).metadata


def instance_log_dir(lab, name):
    """The folder the daemon made for an instance's logs: under its state folder when started with LXD_DIR or
    INCUS_DIR (as in the lab), else its package's log folder."""
    primary = lab["daemons"]["primary"]
    candidates = [os.path.join(primary["dir"], "logs")]
    candidates += [facts["log_dir"] for (kind, _method), facts in LAYOUTS.items() if kind == lab["kind"]]
    found = [os.path.join(folder, name) for folder in candidates if os.path.isdir(os.path.join(folder, name))]
    assert found, "no log folder of %s in %s" % (name, ", ".join(candidates))
    return found[0]


@pytest.fixture
def nic(lab):
    """A nic on the bridge of this kind's primary daemon."""
    return {"type": "nic", "network": lab["daemons"]["primary"]["bridge"], "name": "eth1"}


@pytest.fixture
def veth(lab):
    """A veth pair on the host (this kernel has no dummy links): the parent for macvlan nics."""
    tail = uuid.uuid4().hex[:5]
    host, peer = lab["link_prefix"] + "a" + tail, lab["link_prefix"] + "b" + tail
    subprocess.run(["ip", "link", "add", host, "type", "veth", "peer", "name", peer], check=True)
    subprocess.run(["ip", "link", "set", host, "up"], check=True)
    subprocess.run(["ip", "link", "set", peer, "up"], check=True)
    yield host
    subprocess.run(["ip", "link", "delete", host], check=False)


def test_create_then_nothing_to_do(run_module, primary, unique, nic):
    name = unique("p")
    params = dict(name=name, description="web tier", config={"limits.cpu": 2, "boot.autostart": True},
                  devices={"eth1": nic})
    first = run_module("lxd_profile", params)
    assert first["changed"] and first["actions"] == ["create"]
    created = profile(primary, name)
    assert created["config"] == {"limits.cpu": "2", "boot.autostart": "true"}
    assert created["devices"] == {"eth1": nic}
    second = run_module("lxd_profile", params)
    assert not second["changed"] and second["_requests"] == 1
    assert second["profile"]["used_by"] == []


def test_check_mode_and_diff(run_module, primary, unique):
    name = unique("p")
    result = run_module("lxd_profile", dict(name=name, config={"user.a": 1}), check=True)
    assert result["changed"] and primary.exists(api_path("profiles", name)) is None
    run_module("lxd_profile", dict(name=name, config={"user.a": 1}))
    result = run_module("lxd_profile", dict(name=name, config={"user.a": 2, "user.b": "x"}), check=True)
    assert result["changed"]
    assert result["diff"] == {"before": {"config": {"user.a": "1"}},
                              "after": {"config": {"user.a": "2", "user.b": "x"}}}
    assert profile(primary, name)["config"] == {"user.a": "1"}


def test_merge_never_removes_what_is_not_named(run_module, primary, unique, nic):
    name = unique("p")
    run_module("lxd_profile", dict(name=name, config={"user.a": "1", "user.b": "2"}, devices={"eth1": nic}))
    result = run_module("lxd_profile", dict(name=name, config={"user.c": "3"}))
    assert result["changed"]
    current = profile(primary, name)
    assert current["config"] == {"user.a": "1", "user.b": "2", "user.c": "3"}
    assert current["devices"] == {"eth1": nic}
    run_module("lxd_profile", dict(name=name, config={"user.a": None}, devices={"eth1": None}))
    current = profile(primary, name)
    assert current["config"] == {"user.b": "2", "user.c": "3"} and current["devices"] == {}


def test_replace_only_touches_sections_given(run_module, primary, unique, nic):
    name = unique("p")
    run_module("lxd_profile", dict(name=name, config={"user.a": "1", "user.b": "2"}, devices={"eth1": nic}))
    result = run_module("lxd_profile", dict(name=name, mode="replace", config={"user.z": "9"}))
    assert result["changed"]
    current = profile(primary, name)
    assert current["config"] == {"user.z": "9"}
    assert current["devices"] == {"eth1": nic}, "devices were not given, so they stay"
    assert not run_module("lxd_profile", dict(name=name, mode="replace", config={"user.z": "9"}))["changed"]


def test_rename(run_module, primary, unique):
    old, new = unique("old"), unique("new")
    run_module("lxd_profile", dict(name=old, config={"user.a": "1"}))
    result = run_module("lxd_profile", dict(name=old, new_name=new))
    assert result["changed"] and result["actions"] == ["rename"] and result["profile"]["name"] == new
    assert primary.exists(api_path("profiles", old)) is None
    assert profile(primary, new)["config"] == {"user.a": "1"}
    assert not run_module("lxd_profile", dict(name=old, new_name=new))["changed"]


def test_rename_onto_an_existing_profile_is_refused(run_module, unique):
    one, two = unique("one"), unique("two")
    run_module("lxd_profile", dict(name=one))
    run_module("lxd_profile", dict(name=two))
    result = run_module("lxd_profile", dict(name=one, new_name=two))
    assert result["failed"] and "exists already" in result["msg"]


def test_delete_in_use_is_refused_then_forced(run_module, primary, busybox, unique):
    name = unique("used")
    run_module("lxd_profile", dict(name=name, config={"user.from": "profile"}))
    users = [unique("user"), unique("user")]
    for inst in users:
        run_module("lxd_instance", dict(name=inst, source=busybox, profiles=["default", name], state="stopped"))
    refused = run_module("lxd_profile", dict(name=name, state="absent"))
    assert refused["failed"]
    for inst in users:
        assert inst in refused["msg"]
    assert primary.exists(api_path("profiles", name)) is not None

    check = run_module("lxd_profile", dict(name=name, state="absent", force=True), check=True)
    assert check["changed"] and primary.exists(api_path("profiles", name)) is not None
    assert primary.get(api_path("instances", users[0])).metadata["profiles"] == ["default", name]

    forced = run_module("lxd_profile", dict(name=name, state="absent", force=True))
    assert forced["changed"] and forced["actions"][-1] == "delete"
    assert primary.exists(api_path("profiles", name)) is None
    for inst in users:
        assert primary.get(api_path("instances", inst)).metadata["profiles"] == ["default"]
    assert not run_module("lxd_profile", dict(name=name, state="absent"))["changed"]


def test_failed_forced_delete_gives_the_profiles_back(run_module, primary, busybox, unique, lab):
    """The second instance cannot be updated (LXD reports it in Error); the first gets its profile back."""
    name = unique("rollback")
    run_module("lxd_profile", dict(name=name, config={"user.from": "profile"}))
    first, second = unique("keep"), unique("broken")
    run_module("lxd_instance", dict(name=first, source=busybox, profiles=["default", name], state="stopped"))
    run_module("lxd_instance", dict(name=second, source=busybox, profiles=["default", name], state="stopped"))
    logs = instance_log_dir(lab, second)
    shutil.rmtree(logs, ignore_errors=True)
    with open(logs, "w"):
        pass
    try:
        result = run_module("lxd_profile", dict(name=name, state="absent", force=True))
        assert result["failed"] and second in result["msg"]
        assert primary.exists(api_path("profiles", name)) is not None
        assert primary.get(api_path("instances", first)).metadata["profiles"] == ["default", name]
    finally:
        os.remove(logs)
    assert primary.get(api_path("instances", second)).metadata["profiles"] == ["default", name]


def test_default_profile_is_never_deleted(run_module, primary):
    result = run_module("lxd_profile", dict(name="default", state="absent", force=True))
    assert result["failed"] and result["_requests"] == 0 and "default profile" in result["msg"]


def test_macvlan_profile_end_to_end(run_module, primary, busybox, unique, veth):
    """The manual's macvlan profile, its parent a veth end, assigned with default to a running container."""
    name = unique("macvlan")
    result = run_module("lxd_profile", dict(name=name, devices={
        "eth1": {"type": "nic", "nictype": "macvlan", "parent": veth, "name": "eth1"}}))
    assert result["changed"]
    inst = unique("lan")
    started = run_module("lxd_instance", dict(name=inst, source=busybox, profiles=["default", name]))
    assert not started.get("failed"), started.get("msg")
    assert started["instance"]["status"] == "Running"
    assert started["instance"]["expanded_devices"]["eth1"]["nictype"] == "macvlan"
    network = primary.get(api_path("instances", inst, "state")).metadata["network"]
    assert "eth1" in network


@pytest.mark.parametrize("params, words", [
    (dict(config={"limits.cpu": "0-"}), ["limits.cpu", "'0-'"]),
    (dict(config={"snapshots.schedule": "61 * * * *"}), ["snapshots.schedule", "'61 * * * *'"]),
    (dict(devices={"eth0": {"type": "nic", "limits.ingress": "100MB"}}), ["limits.ingress", "'100MB'", "Mbit"]),
    (dict(devices={"x": {"type": "floppy"}}), ["floppy", "accepted"]),
])
def test_bad_input_fails_before_any_request(run_module, primary, unique, params, words):
    name = unique("bad")
    result = run_module("lxd_profile", dict(name=name, **params))
    assert result["failed"] and result["_requests"] == 0
    for word in words:
        assert word in result["msg"]
    assert primary.exists(api_path("profiles", name)) is None


def test_bad_name(run_module):
    result = run_module("lxd_profile", dict(name="a/b"))
    assert result["failed"] and result["_requests"] == 0 and "'a/b'" in result["msg"]


def test_project_with_own_profiles(run_module, primary, unique, lab):
    project = unique("proj")
    primary.post("/1.0/projects", {"name": project, "config": {"features.profiles": "true"}}, project=False)
    name = unique("p")
    assert run_module("lxd_profile", dict(name=name, project=project, config={"user.a": "1"}))["changed"]
    in_project = LXDClient(url=lab["daemons"]["primary"]["url"], project=project)
    assert in_project.exists(api_path("profiles", name)) is not None
    assert primary.exists(api_path("profiles", name)) is None


def test_over_https(run_module, remote_https, remote_unix, unique):
    name = unique("p")
    params = dict(remote_https, name=name, config={"user.a": "1"})
    assert run_module("lxd_profile", params)["changed"]
    assert not run_module("lxd_profile", params)["changed"]
    assert remote_unix.exists(api_path("profiles", name)) is not None


@pytest.mark.parametrize("key, value, form", BAD)
def test_every_bad_value_fails_before_any_request(run_module, primary, unique, key, value, form):
    """The whole table of bad values, through the module: no request, nothing created, the message says why."""
    name = unique("badvalue")
    result = run_module("lxd_profile", dict(name=name, config={key: value}))
    assert result["failed"] and result["_requests"] == 0
    assert key in result["msg"] and form in result["msg"]
    assert primary.exists(api_path("profiles", name)) is None
