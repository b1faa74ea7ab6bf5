# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_replica from the lab's primary to its second daemon (the snapshot server), for real."""

from __future__ import annotations

import io
import threading
import time

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, api_path


@pytest.fixture
def remote_params(remote_https):
    return dict(remote_https)


@pytest.fixture
def sources(instance, primary):
    """Two running busybox instances on the primary, with a snapshot schedule."""
    def make(count=2):
        return [instance("src", config={"snapshots.schedule": "50 20 * * *"}) for _index in range(count)]
    return make


def replica(client, name):
    return client.get(api_path("instances", name)).metadata


def read_file(client, name, path):
    sink = io.BytesIO()
    client.pull_file(name, path, sink)
    return sink.getvalue().decode()


def test_copy_then_refresh_with_target_config(run_module, primary, remote_unix, remote_params, sources):
    names = sources()
    first = run_module("lxd_replica", dict(instances=names, remote=remote_params))
    assert not first.get("failed"), first.get("msg")
    assert [r["action"] for r in first["results"]] == ["created", "created"] and first["changed"]
    for name in names:
        copy = replica(remote_unix, name)
        assert copy["status"] == "Stopped"
        assert copy["config"]["boot.autostart"] == "false"
        assert "snapshots.schedule" not in copy["config"]
        assert copy["config"]["user.lxdops.source.snapshots.schedule"] == "50 20 * * *"
    primary.execute(names[0], ["sh", "-c", "echo marker-after-first-copy > /root/marker"])
    second = run_module("lxd_replica", dict(instances=names, remote=remote_params))
    assert [r["action"] for r in second["results"]] == ["refreshed", "refreshed"]
    assert read_file(remote_unix, names[0], "/root/marker").strip() == "marker-after-first-copy"
    # The refresh brought the source's config back; the target config was applied again.
    refreshed = replica(remote_unix, names[0])["config"]
    assert refreshed["boot.autostart"] == "false" and "snapshots.schedule" not in refreshed
    assert refreshed["user.lxdops.source.snapshots.schedule"] == "50 20 * * *"
    assert refreshed["user.lxdops.replica"] == "true"
    assert primary.get(api_path("instances", names[0])).metadata["status"] == "Running"


def test_check_mode_copies_nothing(run_module, remote_unix, remote_params, sources):
    names = sources(1)
    result = run_module("lxd_replica", dict(instances=names, remote=remote_params), check=True)
    assert result["results"][0]["action"] == "created" and result["results"][0]["reason"] == "check mode"
    assert remote_unix.exists(api_path("instances", names[0])) is None


def test_a_running_replica_is_never_overwritten(run_module, primary, remote_unix, remote_params, sources):
    names = sources(3)
    run_module("lxd_replica", dict(instances=names, remote=remote_params))
    remote_unix.put(api_path("instances", names[1], "state"), {"action": "start", "timeout": 30})
    remote_unix.execute(names[1], ["sh", "-c", "echo written-on-the-replica > /root/local"])
    primary.execute(names[0], ["sh", "-c", "echo new > /root/marker"])
    result = run_module("lxd_replica", dict(instances=names, remote=remote_params))
    assert result["failed"] and names[1] in result["msg"] and "never overwritten" in result["msg"]
    actions = dict((r["name"], r["action"]) for r in result["results"])
    assert actions == {names[0]: "refreshed", names[1]: "skipped", names[2]: "refreshed"}
    assert read_file(remote_unix, names[0], "/root/marker").strip() == "new"
    assert replica(remote_unix, names[1])["status"] == "Running"
    assert read_file(remote_unix, names[1], "/root/local").strip() == "written-on-the-replica"


def test_target_daemon_down_then_back(run_module, remote_unix, remote_params, sources, lab_control_module):
    names = sources(1)
    assert not run_module("lxd_replica", dict(instances=names, remote=remote_params)).get("failed")
    lab_control_module.stop_daemon("remote")
    try:
        result = run_module("lxd_replica", dict(instances=names, remote=remote_params, retries=0))
        assert result["failed"] and "connection refused" in result["msg"]
        assert remote_params["url"] in result["msg"]
    finally:
        lab_control_module.start_daemon("remote")
    # The replica of the first run is intact, and the next run completes.
    again = LXDClient(url=remote_unix.url)
    assert again.get(api_path("instances", names[0])).metadata["status"] == "Stopped"
    result = run_module("lxd_replica", dict(instances=names, remote=remote_params))
    assert not result.get("failed") and result["results"][0]["action"] == "refreshed"


def test_untrusted_target_is_named(run_module, remote_params, sources, new_cert):
    names = sources(1)
    params = dict(remote_params, client_cert=new_cert[0], client_key=new_cert[1])
    result = run_module("lxd_replica", dict(instances=names, remote=params))
    assert result["failed"] and "not trusted" in result["msg"] and remote_params["url"] in result["msg"]


def test_missing_source_instance_fails_that_one_only(run_module, remote_unix, remote_params, sources):
    names = sources(1)
    result = run_module("lxd_replica", dict(instances=names + ["lxdops-test-no-such"], remote=remote_params))
    assert result["failed"] and "lxdops-test-no-such" in result["msg"]
    assert result["results"][0]["action"] == "created"
    assert remote_unix.exists(api_path("instances", names[0])) is not None


@pytest.mark.parametrize("params, words", [
    (dict(instances=["a"], remote={"url": "http://127.0.0.1:8444"}), ["remote.url", "https://"]),
    (dict(instances=["all", "a"], remote={"url": "https://127.0.0.1:8444"}), ["all stands alone"]),
    (dict(instances=["a"], remote={"url": "https://127.0.0.1:8444"}, parallel=0), ["parallel"]),
])
def test_bad_input_fails_before_any_request(run_module, params, words):
    result = run_module("lxd_replica", params)
    assert result["failed"] and result["_requests"] == 0
    for word in words:
        assert word in result["msg"]


def test_target_daemon_stopped_mid_run(run_module, remote_unix, remote_params, sources, lab_control_module):
    """The snapshot server goes away after the first replica is done: that replica stays, the next run completes."""
    names = sources(3)
    outcome = {}

    def replicate():
        outcome["result"] = run_module("lxd_replica", dict(instances=names, remote=remote_params, parallel=1,
                                                           retries=0))

    worker = threading.Thread(target=replicate)
    worker.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = remote_unix.exists(api_path("instances", names[0]))
            if done is not None and done["config"].get("user.lxdops.replica") == "true":
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the first replica never appeared")
        lab_control_module.stop_daemon("remote")
        worker.join(300)
    finally:
        lab_control_module.start_daemon("remote")
    result = outcome["result"]
    assert result["failed"] and remote_params["url"] in result["msg"]
    actions = dict((r["name"], r["action"]) for r in result["results"])
    assert actions[names[0]] == "created" and actions[names[2]] == "failed"
    again = LXDClient(url=remote_unix.url)
    assert again.get(api_path("instances", names[0])).metadata["status"] == "Stopped"
    result = run_module("lxd_replica", dict(instances=names, remote=remote_params))
    assert not result.get("failed"), result.get("msg")
    assert set(r["action"] for r in result["results"]) <= {"created", "refreshed"}
    for name in names:
        assert again.get(api_path("instances", name)).metadata["config"]["boot.autostart"] == "false"
