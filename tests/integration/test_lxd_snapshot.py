# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_snapshot against the lab's real daemon."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path


def snapshots(client, name):
    return dict((s["name"], s) for s in client.get(api_path("instances", name, "snapshots"),
                                                   params={"recursion": 1}).metadata)


def test_take_then_nothing_to_do(run_module, primary, instance):
    name = instance()
    first = run_module("lxd_snapshot", dict(instance=name, name="snap0"))
    assert first["changed"] and first["actions"] == ["create"]
    assert [s["name"] for s in first["snapshots"]] == ["snap0"]
    assert first["snapshots"][0]["expires_at"] is None and first["snapshots"][0]["stateful"] is False
    second = run_module("lxd_snapshot", dict(instance=name, name="snap0"))
    assert not second["changed"] and second["_requests"] == 1
    assert list(snapshots(primary, name)) == ["snap0"]


def test_check_mode_and_diff(run_module, primary, instance):
    name = instance(state="stopped")
    result = run_module("lxd_snapshot", dict(instance=name, name="snap0", expiry="1d"), check=True)
    assert result["changed"] and snapshots(primary, name) == {}
    assert "snap0" in result["diff"]["after"]["snapshots"]
    run_module("lxd_snapshot", dict(instance=name, name="snap0"))
    result = run_module("lxd_snapshot", dict(instance=name, name="snap0", state="absent"), check=True)
    assert result["changed"] and "snap0" in snapshots(primary, name)


def test_expiry_and_expires_at(run_module, primary, instance):
    name = instance(state="stopped")
    before = datetime.datetime.now(datetime.timezone.utc)
    run_module("lxd_snapshot", dict(instance=name, name="daily", expiry="1d 6H"))
    expires = snapshots(primary, name)["daily"]["expires_at"]
    moment = datetime.datetime.fromisoformat(expires.replace("Z", "+00:00")[:26] + "+00:00"
                                             if "." in expires else expires.replace("Z", "+00:00"))
    assert abs((moment - before).total_seconds() - 30 * 3600) < 120
    # expiry is relative to creation: a second run does not move it.
    assert not run_module("lxd_snapshot", dict(instance=name, name="daily", expiry="1d 6H"))["changed"]
    when = "2031-01-02T03:04:05Z"
    result = run_module("lxd_snapshot", dict(instance=name, name="daily", expires_at=when))
    assert result["changed"] and result["actions"] == ["expire"]
    assert snapshots(primary, name)["daily"]["expires_at"].startswith("2031-01-02T03:04:05")
    assert not run_module("lxd_snapshot", dict(instance=name, name="daily", expires_at=when))["changed"]


def test_named_by_the_instance_pattern(run_module, primary, instance):
    name = instance(state="stopped", config={"snapshots.pattern": "auto%d"})
    first = run_module("lxd_snapshot", dict(instance=name))
    second = run_module("lxd_snapshot", dict(instance=name))
    assert first["changed"] and second["changed"]
    assert sorted(snapshots(primary, name)) == ["auto0", "auto1"]


def test_rename_and_delete(run_module, primary, instance):
    name = instance(state="stopped")
    run_module("lxd_snapshot", dict(instance=name, name="old"))
    result = run_module("lxd_snapshot", dict(instance=name, name="old", new_name="new"))
    assert result["changed"] and list(snapshots(primary, name)) == ["new"]
    assert not run_module("lxd_snapshot", dict(instance=name, name="old", new_name="new"))["changed"]
    result = run_module("lxd_snapshot", dict(instance=name, name="new", state="absent"))
    assert result["changed"] and snapshots(primary, name) == {}
    assert not run_module("lxd_snapshot", dict(instance=name, name="new", state="absent"))["changed"]
    assert primary.exists(api_path("instances", name)) is not None


def test_restore_walkthrough(run_module, primary, instance, lxc_exec):
    """The manual's walkthrough: snapshot, write a file, restore, the file is gone, the instance runs again."""
    name = instance()
    run_module("lxd_snapshot", dict(instance=name, name="clean"))
    assert lxc_exec(name, "echo written-after > /root/after.txt")[0] == 0
    assert lxc_exec(name, "cat /root/after.txt")[1].strip() == "written-after"
    result = run_module("lxd_snapshot", dict(instance=name, name="clean", state="restored"))
    assert result["changed"] and result["actions"] == ["stop", "restore", "start"]
    assert primary.get(api_path("instances", name)).metadata["status"] == "Running"
    rc, _out = lxc_exec(name, "test -e /root/after.txt")
    assert rc != 0, "the file written after the snapshot is still there"


def test_live_restore(run_module, primary, instance, lxc_exec):
    name = instance()
    run_module("lxd_snapshot", dict(instance=name, name="clean"))
    lxc_exec(name, "echo x > /root/after.txt")
    result = run_module("lxd_snapshot", dict(instance=name, name="clean", state="restored", restart=False))
    assert result["changed"] and result["actions"] == ["restore"]
    assert primary.get(api_path("instances", name)).metadata["status"] == "Running"
    assert lxc_exec(name, "test -e /root/after.txt")[0] != 0


def test_restore_of_a_missing_snapshot_changes_nothing(run_module, primary, instance):
    name = instance()
    result = run_module("lxd_snapshot", dict(instance=name, name="nope", state="restored"))
    assert result["failed"] and "no snapshot 'nope'" in result["msg"] and not result["changed"]
    assert primary.get(api_path("instances", name)).metadata["status"] == "Running"


def test_stateful_where_the_server_cannot(run_module, primary, instance):
    name = instance()
    result = run_module("lxd_snapshot", dict(instance=name, name="live", stateful=True))
    assert result["failed"] and "stateful snapshot" in result["msg"] and "CRIU" in result["msg"]
    assert snapshots(primary, name) == {}


@pytest.mark.parametrize("params, words", [
    (dict(instance="web1/snap0", name="x", state="absent"), ["names a snapshot", "instance: web1", "name: snap0"]),
    (dict(instance="web1", state="absent"), ["name is required"]),
    (dict(instance="web1", name="", state="absent"), ["not a valid snapshot name"]),
    (dict(instance="web1", name="a/b", state="absent"), ["'a/b'"]),
    (dict(instance="web1", name="s", expiry="1x"), ["expiry", "'1x'", "M (minutes)"]),
    (dict(instance="web1", name="s", expires_at="tomorrow"), ["expires_at", "'tomorrow'", "RFC 3339"]),
    (dict(instance="web1", name="s", expiry="1d", expires_at="2030-01-01T00:00:00Z"), ["mutually exclusive"]),
])
def test_bad_input_fails_before_any_request(run_module, params, words):
    result = run_module("lxd_snapshot", params)
    assert result["failed"] and result["_requests"] == 0
    for word in words:
        assert word in result["msg"]


def test_no_input_deletes_the_instance(run_module, primary, instance):
    """Whatever the name, absent addresses a snapshot path: the instance survives."""
    name = instance(state="stopped")
    for bad in (name, ".", "..", "%2F"):
        run_module("lxd_snapshot", dict(instance=name, name=bad, state="absent"))
    assert primary.exists(api_path("instances", name)) is not None
