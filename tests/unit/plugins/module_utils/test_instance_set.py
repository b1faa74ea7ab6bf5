# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxd_instance_set's pure parts: entry validation and defaults, the plan, the summary and diff, the docs."""

from __future__ import annotations

import threading

import pytest
import yaml

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.instance import instance_options
from ansible_collections.lxdops.server.plugins.module_utils.instance_set import (
    InstanceSet,
    entry_options,
    entry_params,
    plan_entries,
    result_key,
    set_diff,
    summarize,
)
from ansible_collections.lxdops.server.plugins.module_utils.limits import limit_options
from ansible_collections.lxdops.server.plugins.modules import lxd_instance, lxd_instance_set

IMAGE = {"alias": "busybox"}


def plan(instances, defaults=None, project="default", check_mode=False):
    return plan_entries(instances, defaults or {}, project, 60, check_mode)


def refused(instances, defaults=None):
    with pytest.raises(ConfigError) as info:
        plan(instances, defaults)
    return str(info.value)


def test_entry_takes_its_own_value_then_the_defaults_then_lxd_instance_defaults():
    params = entry_params({"state": "stopped", "config": {"a": "1", "b": "2"}, "profiles": ["default"]},
                          {"name": "c1", "config": {"b": "3", "c": None}, "profiles": ["x"]})
    assert params["state"] == "stopped"
    # config and devices merge key by key; a null key of the entry stays (it removes the key).
    assert params["config"] == {"a": "1", "b": "3", "c": None}
    assert params["profiles"] == ["x"]
    assert params["config_mode"] == "merge" and params["wait_for_ipv4"] == 0 and params["force_stop"] is False
    assert params["description"] is None
    assert entry_params({}, {"name": "c1"})["state"] == "started"


def test_plan_validates_each_entry_like_lxd_instance():
    managers = plan([{"name": "c1", "source": IMAGE}, {"name": "c2", "project": "p1", "state": "absent"}],
                    defaults={"config": {"boot.autostart": True}})
    assert [(m.name, m.scope) for m in managers] == [("c1", "default"), ("c2", "p1")]
    # Values normalised by the same validation as lxd_instance's.
    assert managers[0].config == {"boot.autostart": "true"}
    assert managers[0].params["source"]["protocol"] == "lxd"
    assert not managers[0].refetch


def test_bad_entry_names_index_name_option_value_and_choices():
    msg = refused([{"name": "ok1"}, {"name": "c2", "state": "runing"}])
    assert msg.startswith("instances[1] (c2): ")
    assert "state" in msg and "runing" in msg and "started" in msg and "frozen" in msg


def test_bad_config_key_and_name_are_refused_with_the_entry():
    msg = refused([{"name": "c1", "config": {"volatile.eth0.hwaddr": "x"}}])
    assert msg.startswith("instances[0] (c1): config") and "volatile" in msg
    msg = refused([{"name": "c1"}, {"name": "bad_name"}])
    assert msg.startswith("instances[1] (bad_name): ") and "letters, digits and hyphens" in msg
    msg = refused([{"name": "c1", "config": {"limits.cpu": "many"}}])
    assert "instances[0] (c1)" in msg and "limits.cpu" in msg and "many" in msg


def test_unknown_option_and_wrong_types_are_refused():
    msg = refused([{"name": "c1", "stat": "started"}])
    assert "instances[0] (c1)" in msg and "stat" in msg and "Supported parameters include" in msg
    msg = refused([{"name": "c1", "wait_for_ipv4": "soon"}])
    assert "wait_for_ipv4" in msg and "soon" in msg
    assert refused(["c1"]).startswith("instances[0]: 'c1' is not accepted")
    assert "name" in refused([{"state": "started"}])
    msg = refused([{"name": "c1", "wait_for_ipv4": -1}])
    assert "instances[0] (c1): wait_for_ipv4: -1" in msg


def test_source_needs_exactly_one_origin():
    msg = refused([{"name": "c1", "source": {"alias": "a", "fingerprint": "f"}}])
    assert msg.startswith("instances[0] (c1): source: give exactly one")


def test_defaults_are_validated_and_may_not_name_an_instance():
    msg = refused([{"name": "c1"}], defaults={"state": "on"})
    assert msg.startswith("defaults: ") and "on" in msg
    assert "name" in refused([{"name": "c1"}], defaults={"name": "x"})
    assert "project" in refused([{"name": "c1"}], defaults={"project": "x"})


def test_an_instance_is_given_once_per_project():
    msg = refused([{"name": "c1"}, {"name": "c2"}, {"name": "c1"}])
    assert msg == "instances[2] (c1): instance c1 is also given by instances[0] (c1); give each instance once"
    assert len(plan([{"name": "c1"}, {"name": "c1", "project": "p1"}])) == 2
    assert refused([{"name": "c1", "project": "p1"}, {"name": "c1", "project": "p1"}]).startswith("instances[1]")


def test_the_task_project_is_the_default_project():
    managers = plan([{"name": "c1"}, {"name": "c2", "project": "default"}], project="p2")
    assert [m.scope for m in managers] == ["p2", "default"]


def test_summary_and_diff():
    results = [
        {"name": "a", "actions": ["create", "start"], "changed": True, "error": None},
        {"name": "b", "actions": [], "changed": False, "error": None},
        {"name": "c", "actions": ["update"], "changed": True, "error": "boom"},
    ]
    assert summarize(results) == {"total": 3, "changed": 2, "unchanged": 1, "failed": 1,
                                  "actions": {"create": 1, "start": 1, "update": 1}}
    managers = plan([{"name": "a"}, {"name": "b", "project": "p"}, {"name": "c"}])
    managers[0].tracker.add(("config", "user.x"), None, "y")
    managers[1].tracker.add(("status",), "Stopped", "Running")
    assert set_diff(managers) == {"before": {"a": {}, "p/b": {"status": "Stopped"}},
                                  "after": {"a": {"config": {"user.x": "y"}}, "p/b": {"status": "Running"}}}
    assert result_key("default", "a") == "a" and result_key("p", "a") == "p/a"


def _doc_options(module):
    return yaml.safe_load(module.DOCUMENTATION)["options"]


def _same(doc, spec, where):
    assert set(doc) == set(spec), where
    for name, option in spec.items():
        assert doc[name]["type"] == option["type"], (where, name)
        assert doc[name].get("choices") == option.get("choices"), (where, name)
        assert doc[name].get("elements") == option.get("elements"), (where, name)
        assert bool(doc[name].get("required")) == bool(option.get("required")), (where, name)
        assert doc[name].get("default") == option.get("default"), (where, name)
        if "options" in option:
            _same(doc[name]["suboptions"], option["options"], where + "." + name)


def test_documented_entry_options_are_the_validated_ones():
    # ansible-test checks a module's documented suboptions only against an argument spec that has them; the
    # entries are validated by instance_set itself, so this test keeps the docs and that spec in step.
    _same(_doc_options(lxd_instance_set)["instances"]["suboptions"], entry_options(), "instances")
    _same(_doc_options(lxd_instance_set)["instances"]["suboptions"]["limits"]["suboptions"], limit_options(),
          "instances.limits")


def test_lxd_instance_options_are_the_shared_ones():
    doc = _doc_options(lxd_instance)
    own = dict((k, v) for k, v in doc.items())
    spec = instance_options()
    for name in spec:
        assert name in own, name
        assert own[name].get("default") == spec[name].get("default"), name


class FakeClient:
    """Answers a list request from `instances`; writes fail for the names in `failing`. Records every request."""

    url = "unix:/fake"

    def __init__(self, instances=None, failing=(), projects=("default",), log=None):
        self.instances = instances or {}
        self.failing = failing
        self.projects = projects
        self.log = [] if log is None else log
        self.thread = None

    def _record(self, method, path, project):
        if self.thread is None:
            self.thread = threading.get_ident()
        assert self.thread == threading.get_ident(), "a client used by two threads"
        self.log.append((method, path, project))

    def get(self, path, project=True, **_kwargs):
        self._record("GET", path, project)
        if path == "/1.0/instances":
            return type("R", (), {"metadata": list(self.instances.get(project, []))})()
        if path.startswith("/1.0/projects/"):
            if path.rsplit("/", 1)[1] in self.projects:
                return type("R", (), {"metadata": {}})()
            raise LXDNotFound("no project")
        if path.startswith("/1.0/images/"):
            # Asked after a failed create: the image is there, so the failure is reported as it came.
            return type("R", (), {"metadata": {}})()
        raise AssertionError(path)

    def _write(self, method, path, body=None, project=True, **_kwargs):
        self._record(method, path, project)
        name = (body or {}).get("name") if path == "/1.0/instances" else path.split("/")[3]
        if name in self.failing:
            raise LXDError("%s %s failed: Image not found" % (method, path))

    def post(self, path, body=None, **kwargs):
        self._write("POST", path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        self._write("PUT", path, body, **kwargs)

    def delete(self, path, **kwargs):
        self._write("DELETE", path, **kwargs)

    def close(self):
        pass


def run_set(managers, listed, failing=(), projects=("default",), parallel=3):
    log = []
    workers = []

    def make():
        client = FakeClient(failing=failing, log=log)
        workers.append(client)
        return client

    results = InstanceSet(managers, FakeClient(listed, projects=projects, log=log), make, parallel).run()
    return results, log, workers


def test_one_list_request_per_project_and_nothing_else_when_converged():
    listed = {"default": [{"name": "a", "status": "Running", "config": {}, "devices": {}, "profiles": ["default"]}],
              "p1": [{"name": "b", "status": "Stopped", "config": {}, "devices": {}, "profiles": ["default"]}]}
    managers = plan([{"name": "a"}, {"name": "b", "project": "p1", "state": "stopped"}])
    results, log, _workers = run_set(managers, listed)
    assert log == [("GET", "/1.0/instances", "default"), ("GET", "/1.0/instances", "p1")]
    assert [(r["name"], r["changed"], r["status"], r["error"]) for r in results] == [
        ("a", False, "Running", None), ("b", False, "Stopped", None)]


def test_one_failure_leaves_the_others_converged_and_each_worker_has_its_own_client():
    names = ["c%d" % i for i in range(8)]
    managers = plan([{"name": n, "source": IMAGE} for n in names])
    results, log, workers = run_set(managers, {}, failing=("c3",))
    assert [r["name"] for r in results] == names
    failed = [r for r in results if r["error"]]
    assert [r["name"] for r in failed] == ["c3"] and "Image not found" in failed[0]["error"]
    assert failed[0]["status"] is None
    assert all(r["actions"] == ["create", "start"] for r in results if r["name"] != "c3")
    assert 1 <= len(workers) <= 3
    # 1 list request, then create + start for 7, create for the failing one and a look at its image.
    assert len(log) == 1 + 7 * 2 + 2


def test_a_project_that_does_not_exist_fails_its_entries_only():
    managers = plan([{"name": "a", "source": IMAGE}, {"name": "b", "project": "nope", "source": IMAGE}])
    results, log, _workers = run_set(managers, {})
    assert results[0]["error"] is None and results[0]["actions"] == ["create", "start"]
    assert "project 'nope' does not exist" in results[1]["error"] and results[1]["actions"] == []
    assert ("GET", "/1.0/projects/nope", False) in log


def test_check_mode_sends_nothing_but_the_list():
    managers = plan([{"name": "a", "source": IMAGE}, {"name": "b", "state": "absent"}], check_mode=True)
    listed = {"default": [{"name": "b", "status": "Running", "config": {}, "devices": {}, "profiles": []}]}
    results, log, _workers = run_set(managers, listed)
    assert log == [("GET", "/1.0/instances", "default")]
    assert [r["actions"] for r in results] == [["create", "start"], ["stop", "delete"]]


def test_a_missing_instance_without_source_fails_alone():
    managers = plan([{"name": "a"}, {"name": "b", "source": IMAGE}])
    results, _log, _workers = run_set(managers, {})
    assert "does not exist: give source" in results[0]["error"]
    assert results[1]["error"] is None


def test_limits_are_config_keys_and_device_keys_merged_over_the_defaults():
    [manager] = plan([{"name": "a", "config": {"limits.memory": "1GB", "user.x": 1},
                       "limits": {"memory": "64MB", "cpu": None, "disk_read": "30MB", "network_egress": "10Mbit",
                                  "nic": "eth1"}}], defaults={"limits": {"processes": 100, "memory": "2GB"}})
    # The entry's limits win over the defaults' and over the same keys in config; null removes.
    assert manager.config == {"limits.memory": "64MB", "limits.cpu": None, "limits.processes": "100", "user.x": "1"}
    assert manager.device_limits == {"root": ("disk", {"limits.read": "30MB"}),
                                     "eth1": ("nic", {"limits.egress": "10Mbit"})}


def test_bad_limits_are_refused_with_the_entry():
    message = refused([{"name": "a"}, {"name": "b", "limits": {"memory": "lots"}}])
    assert message.startswith("instances[1] (b): limits: memory (limits.memory): value 'lots' is not accepted")
    assert "memroy" in refused([{"name": "a", "limits": {"memroy": "1GB"}}])
    assert "processes" in refused([{"name": "a", "limits": {"processes": "many"}}])


ROOT_FROM_PROFILE = {"name": "a", "status": "Running", "config": {}, "devices": {}, "profiles": ["default"],
                     "expanded_devices": {"root": {"type": "disk", "path": "/", "pool": "p"},
                                          "eth0": {"type": "nic", "network": "br0"}}}


def test_a_device_limit_copies_the_profile_device_once_then_changes_nothing():
    [manager] = plan([{"name": "a", "limits": {"disk_read": "30MB"}}])
    results, log, _workers = run_set([manager], {"default": [ROOT_FROM_PROFILE]})
    assert results[0]["actions"] == ["update"] and log[-1][0] == "PUT"
    assert manager.tracker.diff()["after"] == {
        "devices": {"root": {"type": "disk", "path": "/", "pool": "p", "limits.read": "30MB"}}}
    root = {"type": "disk", "path": "/", "pool": "p", "limits.read": "30MB"}
    limited = dict(ROOT_FROM_PROFILE, devices={"root": root})
    [manager] = plan([{"name": "a", "limits": {"disk_read": "30MB", "network_ingress": None}}])
    results, log, _workers = run_set([manager], {"default": [limited]})
    assert results[0]["actions"] == [] and len(log) == 1


def test_a_device_limit_on_a_missing_or_wrong_device_fails_that_instance():
    [manager] = plan([{"name": "a", "limits": {"network_egress": "1Mbit", "nic": "eth9"}}])
    results, _log, _workers = run_set([manager], {"default": [ROOT_FROM_PROFILE]})
    assert "no nic device named 'eth9'" in results[0]["error"]
    [manager] = plan([{"name": "a", "limits": {"network_egress": "1Mbit", "nic": "root"}}])
    results, _log, _workers = run_set([manager], {"default": [ROOT_FROM_PROFILE]})
    assert "is a disk device, not a nic device" in results[0]["error"]
