# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_project against the lab's daemons."""

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path

SHARED = {"features.profiles": False, "features.images": False, "features.storage.volumes": False}


@pytest.fixture
def unix(lab):
    return dict(url=lab["daemons"]["primary"]["url"])


def get_project(client, name):
    return client.exists(api_path("projects", name), project=False)


def test_create_check_mode_idempotent(run_module, unix, primary, unique):
    name = unique("proj")
    params = dict(unix, name=name, description="web servers",
                  config=dict(SHARED, **{"limits.instances": 5, "limits.memory": "2GiB"}))
    checked = run_module("lxd_project", params, check=True)
    assert checked["changed"] and checked["actions"] == ["create"] and checked["project"] == {}
    assert checked["diff"]["before"] == {}
    assert checked["diff"]["after"]["project"]["config"]["limits.instances"] == "5"
    assert get_project(primary, name) is None
    created = run_module("lxd_project", params)
    assert created["changed"] and created["actions"] == ["create"], created.get("msg")
    current = get_project(primary, name)
    assert current["description"] == "web servers"
    assert current["config"]["features.profiles"] == "false" and current["config"]["limits.instances"] == "5"
    assert created["project"]["config"] == current["config"]
    again = run_module("lxd_project", params)
    assert not again["changed"] and again["actions"] == [] and again["_requests"] == 1
    assert again["diff"] == {"before": {}, "after": {}}


def test_merge_null_removes_and_description(run_module, unix, primary, unique):
    name = unique("proj")
    run_module("lxd_project", dict(unix, name=name, config=dict(SHARED, **{"limits.instances": 5, "limits.cpu": 4})))
    params = dict(unix, name=name, description="changed", config={"limits.instances": None, "limits.processes": 500})
    checked = run_module("lxd_project", params, check=True)
    assert checked["changed"] and checked["actions"] == ["update"]
    assert checked["diff"] == {"before": {"config": {"limits.instances": "5"}, "description": ""},
                               "after": {"config": {"limits.processes": "500"}, "description": "changed"}}
    assert get_project(primary, name)["config"]["limits.instances"] == "5"
    updated = run_module("lxd_project", params)
    assert updated["changed"]
    config = get_project(primary, name)["config"]
    assert "limits.instances" not in config and config["limits.processes"] == "500"
    # Keys not given stay, LXD's feature defaults included.
    assert config["limits.cpu"] == "4" and config["features.profiles"] == "false"
    assert get_project(primary, name)["description"] == "changed"
    assert not run_module("lxd_project", params)["changed"]
    # Without description, the description stays.
    assert not run_module("lxd_project", dict(unix, name=name, config={"limits.cpu": 4}))["changed"]
    assert get_project(primary, name)["description"] == "changed"


def test_delete_empty_check_mode_then_gone(run_module, unix, primary, unique):
    name = unique("proj")
    # features.profiles on: the project's own default profile is in used_by and does not block deletion.
    run_module("lxd_project", dict(unix, name=name, config={"features.profiles": True}))
    assert get_project(primary, name)["used_by"]
    checked = run_module("lxd_project", dict(unix, name=name, state="absent"), check=True)
    assert checked["changed"] and checked["diff"]["after"] == {}
    assert checked["diff"]["before"]["project"]["name"] == name
    assert get_project(primary, name) is not None
    deleted = run_module("lxd_project", dict(unix, name=name, state="absent"))
    assert deleted["changed"] and deleted["actions"] == ["delete"]
    assert get_project(primary, name) is None
    again = run_module("lxd_project", dict(unix, name=name, state="absent"))
    assert not again["changed"] and again["_requests"] == 1


def test_refuses_to_delete_in_use(run_module, unix, primary, unique, instance):
    name = unique("proj")
    run_module("lxd_project", dict(unix, name=name, config=SHARED))
    inst = instance("pinst", project=name, state="stopped")
    result = run_module("lxd_project", dict(unix, name=name, state="absent"))
    assert result.get("failed") and not result["changed"]
    assert "in use" in result["msg"] and inst in result["msg"] and name in result["msg"]
    assert get_project(primary, name) is not None
    checked = run_module("lxd_project", dict(unix, name=name, state="absent"), check=True)
    assert checked.get("failed") and "in use" in checked["msg"]


def test_refuses_to_delete_with_own_profile(run_module, unix, primary, unique):
    name = unique("proj")
    run_module("lxd_project", dict(unix, name=name, config={"features.profiles": True}))
    profile = unique("prof")
    primary.post("/1.0/profiles", {"name": profile}, project=name)
    result = run_module("lxd_project", dict(unix, name=name, state="absent"))
    assert result.get("failed") and "/1.0/profiles/%s?project=%s" % (profile, name) in result["msg"]
    assert get_project(primary, name) is not None


def test_features_of_a_project_in_use(run_module, unix, unique, instance):
    """LXD refuses to change features of a non-empty project; its reason reaches the user."""
    name = unique("proj")
    run_module("lxd_project", dict(unix, name=name, config=SHARED))
    instance("pinst", project=name, state="stopped")
    result = run_module("lxd_project", dict(unix, name=name, config={"features.profiles": True}))
    assert result.get("failed") and "features" in result["msg"].lower() and name in result["msg"]


def test_keys_that_need_an_extension(run_module, unix, primary, unique):
    """Set where the daemon has their extensions (Incus 6.0), refused before any write where not (LXD 5.0.2)."""
    name = unique("proj")
    run_module("lxd_project", dict(unix, name=name, config=SHARED))
    before = get_project(primary, name)
    params = dict(unix, name=name, config={"limits.disk.pool.default": "1GiB", "features.storage.buckets": True})
    result = run_module("lxd_project", params)
    extensions = ("projects_limits_disk_pool", "storage_buckets")
    if all(primary.has_extension(ext) for ext in extensions):
        assert result["changed"] and result["actions"] == ["update"], result.get("msg")
        config = get_project(primary, name)["config"]
        assert config["limits.disk.pool.default"] == "1GiB" and config["features.storage.buckets"] == "true"
        assert not run_module("lxd_project", params)["changed"]
        assert run_module("lxd_project", dict(unix, name=name, config={"limits.disk.pool.default": None}))["changed"]
        assert "limits.disk.pool.default" not in get_project(primary, name)["config"]
    else:
        assert result.get("failed") and not result["changed"] and result["_requests"] == 2
        for ext in extensions:
            assert (ext in result["msg"]) != primary.has_extension(ext)
        assert get_project(primary, name) == before


def test_over_https(run_module, remote_https, remote_unix, unique):
    name = unique("proj")
    created = run_module("lxd_project", dict(remote_https, name=name, config={"limits.containers": 3}))
    assert created["changed"], created.get("msg")
    assert get_project(remote_unix, name)["config"]["limits.containers"] == "3"
    assert run_module("lxd_project", dict(remote_https, name=name, state="absent"))["changed"]
    assert get_project(remote_unix, name) is None


@pytest.mark.parametrize("params, words", [
    (dict(name="web/1"), ["name", "'web/1'", "without '/'"]),
    (dict(name="a_b"), ["name", "'a_b'", "'_'"]),
    (dict(name="default", state="absent"), ["default project cannot be deleted"]),
    (dict(config={"features.profiles": "maybe"}), ["features.profiles", "'maybe'", "true or false"]),
    (dict(config={"features.images": "yes"}), ["features.images", "'yes'", "true or false"]),
    (dict(config={"limits.instances": "many"}), ["limits.instances", "'many'", "whole number"]),
    (dict(config={"limits.memory": "10%"}), ["limits.memory", "'10%'", "size"]),
    (dict(config={"restricted.devices.disk": "open"}), ["restricted.devices.disk", "'open'", "block or allow or managed"]),
    (dict(config={"limits.cpu": [1, 2]}), ["limits.cpu", "[1, 2]", "scalar"]),
    (dict(config={"limits.disk.pool.default": "10%"}), ["limits.disk.pool.default", "'10%'", "size"]),
])
def test_bad_input_fails_before_any_request(run_module, unix, unique, params, words):
    params = dict(unix, **params)
    params.setdefault("name", unique("proj"))
    result = run_module("lxd_project", params)
    assert result.get("failed")
    for word in words:
        assert word in result["msg"]
    assert result["_requests"] == 0
