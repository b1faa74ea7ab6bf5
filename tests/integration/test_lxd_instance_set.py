# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_instance_set against the lab's real daemon."""

from __future__ import annotations

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, api_path


def get(client, name):
    return client.get(api_path("instances", name)).metadata


def entries(names, **options):
    return [dict(name=n, **options) for n in names]


def test_five_in_one_call_check_mode_first_then_nothing_to_do(run_module, primary, busybox, unique):
    names = [unique("set%d" % i) for i in range(5)]
    params = dict(defaults={"source": busybox, "config": {"limits.cpu": 1}}, instances=entries(names))

    check = run_module("lxd_instance_set", params, check=True)
    assert check["changed"] and not check.get("failed"), check.get("msg")
    assert [r["actions"] for r in check["results"]] == [["create", "start"]] * 5
    assert all(primary.exists(api_path("instances", n)) is None for n in names)
    # Check mode reads the list once and writes nothing.
    assert check["_requests"] == 1

    first = run_module("lxd_instance_set", params)
    assert first["changed"] and not first.get("failed"), first.get("msg")
    assert first["summary"] == {"total": 5, "changed": 5, "unchanged": 0, "failed": 0,
                                "actions": {"create": 5, "start": 5}}
    assert [r["name"] for r in first["results"]] == names
    for name in names:
        instance = get(primary, name)
        assert instance["status"] == "Running" and instance["config"]["limits.cpu"] == "1"

    second = run_module("lxd_instance_set", params)
    assert not second["changed"] and not second.get("failed")
    assert second["_requests"] == 1
    assert second["diff"] == {"before": {}, "after": {}}
    assert second["summary"]["unchanged"] == 5
    assert all(r["status"] == "Running" for r in second["results"])


def test_failover_case_config_and_state_of_several_in_one_call(run_module, primary, busybox, unique):
    names = [unique("fo%d" % i) for i in range(4)]
    created = run_module("lxd_instance_set", dict(defaults={"source": busybox, "state": "stopped",
                                                            "config": {"boot.autostart": False}},
                                                  instances=entries(names)))
    assert not created.get("failed"), created.get("msg")
    assert all(get(primary, n)["status"] == "Stopped" for n in names)

    start = dict(defaults={"state": "started", "config": {"boot.autostart": True, "user.x": "y"}},
                 instances=entries(names[:3]) + [{"name": names[3], "config": {"user.x": "z"}}])
    result = run_module("lxd_instance_set", start)
    assert result["changed"] and not result.get("failed"), result.get("msg")
    assert [r["actions"] for r in result["results"]] == [["update", "start"]] * 4
    for name in names:
        instance = get(primary, name)
        assert instance["status"] == "Running"
        assert instance["config"]["boot.autostart"] == "true"
    assert get(primary, names[3])["config"]["user.x"] == "z"
    assert get(primary, names[0])["config"]["user.x"] == "y"
    # The diff shows per instance exactly what changed.
    diff = result["diff"]
    assert diff["before"][names[0]] == {"config": {"boot.autostart": "false"}, "status": "Stopped"}
    assert diff["after"][names[0]] == {"config": {"boot.autostart": "true", "user.x": "y"}, "status": "Running"}
    # The list, then per instance the update and the start, each a request and the wait for its operation.
    assert result["_requests"] == 1 + 4 * 2 * 2

    again = run_module("lxd_instance_set", start)
    assert not again["changed"] and again["_requests"] == 1

    stop = run_module("lxd_instance_set", dict(defaults={"state": "stopped", "force_stop": True},
                                               instances=entries(names)))
    assert stop["changed"] and [r["actions"] for r in stop["results"]] == [["stop"]] * 4
    assert all(get(primary, n)["status"] == "Stopped" for n in names)
    # Config given before stays as it was.
    assert get(primary, names[1])["config"]["boot.autostart"] == "true"


def test_bad_entry_among_good_ones_is_refused_before_any_request(run_module, primary, busybox, unique):
    names = [unique("bad%d" % i) for i in range(3)]
    instances = entries(names, source=busybox)
    instances[1]["state"] = "runing"
    result = run_module("lxd_instance_set", dict(instances=instances))
    assert result["failed"] and result["_requests"] == 0
    msg = result["msg"]
    assert msg.startswith("instances[1] (%s): " % names[1])
    assert "state" in msg and "runing" in msg and "started" in msg
    assert all(primary.exists(api_path("instances", n)) is None for n in names)

    instances[1] = dict(name=names[1], config={"limits.memory": "lots"})
    result = run_module("lxd_instance_set", dict(instances=instances))
    assert result["failed"] and result["_requests"] == 0
    assert result["msg"].startswith("instances[1] (%s): config" % names[1]) and "lots" in result["msg"]

    result = run_module("lxd_instance_set", dict(instances=entries(names), parallel=0))
    assert result["failed"] and result["_requests"] == 0 and "parallel" in result["msg"]


def test_failure_at_lxd_leaves_the_others_converged_and_fails_naming_it(run_module, primary, busybox, unique):
    names = [unique("lxdfail%d" % i) for i in range(4)]
    instances = entries(names, source=busybox)
    instances[2]["source"] = {"alias": "lxdops-test-no-such-image"}
    result = run_module("lxd_instance_set", dict(instances=instances))
    assert result["failed"]
    assert result["msg"].startswith("1 of 4 instances failed: %s: " % names[2])
    failed = result["results"][2]
    assert "source.alias 'lxdops-test-no-such-image'" in failed["error"] and "not found" in failed["error"]
    assert failed["status"] is None
    assert result["summary"]["failed"] == 1 and result["summary"]["changed"] == 3
    assert result["changed"]
    for i in (0, 1, 3):
        assert result["results"][i]["error"] is None
        assert get(primary, names[i])["status"] == "Running"
    assert primary.exists(api_path("instances", names[2])) is None

    # A missing instance without a source fails alone too, with lxd_instance's message.
    result = run_module("lxd_instance_set", dict(instances=entries(names[:2]) + [{"name": unique("nosrc")}]))
    assert result["failed"] and "does not exist: give source" in result["msg"]
    assert result["results"][0]["error"] is None and not result["results"][0]["changed"]


def test_entries_in_another_project(run_module, primary, busybox, unique, lab):
    project = unique("proj")
    primary.post("/1.0/projects", {"name": project, "config": {"features.images": "false",
                                                               "features.profiles": "false"}}, project=False)
    here, there = unique("inp"), unique("inp")
    params = dict(defaults={"source": busybox, "state": "stopped"},
                  instances=[{"name": here}, {"name": there, "project": project}])
    first = run_module("lxd_instance_set", params)
    assert not first.get("failed"), first.get("msg")
    assert [(r["name"], r["project"]) for r in first["results"]] == [(here, "default"), (there, project)]
    in_project = LXDClient(url=lab["daemons"]["primary"]["url"], project=project)
    assert in_project.exists(api_path("instances", there)) is not None
    assert primary.exists(api_path("instances", there)) is None
    assert "%s/%s" % (project, there) in first["diff"]["after"]

    second = run_module("lxd_instance_set", params)
    assert not second["changed"]
    # One list request per project used.
    assert second["_requests"] == 2

    # A project that does not exist is never taken for an empty one: its entries fail, the others do not.
    missing = unique("noproj")
    result = run_module("lxd_instance_set", dict(defaults={"source": busybox, "state": "stopped"},
                                                 instances=[{"name": here}, {"name": there, "project": missing}]))
    assert result["failed"] and "project %r does not exist" % missing in result["msg"]
    assert result["results"][0]["error"] is None
    in_project.delete(api_path("instances", there))
