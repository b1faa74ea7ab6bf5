# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.replica import (
    FAILED_OVER_KEY,
    FENCED_KEY,
    INCOMPLETE_KEY,
    REPLICA_KEY,
    SAVED_SCHEDULE_KEY,
    Replicator,
    ReplicationBusy,
    RunLock,
    check_names,
    check_projects,
    check_target_config,
    effective_target_config,
    plan,
    replica_body,
    replica_config,
    replica_devices,
)


def test_plan_covers_every_case():
    sources = {"new": {}, "old": {}, "busy": {}}
    replicas = {"old": {"status": "Stopped"}, "busy": {"status": "Running"}}
    actions = plan(["new", "old", "busy", "gone"], sources, replicas, refresh=True)
    assert actions["new"] == ("create", None)
    assert actions["old"] == ("refresh", None)
    assert actions["busy"][0] == "block" and "Running" in actions["busy"][1]
    assert actions["gone"][0] == "fail" and "gone" in actions["gone"][1]
    assert plan(["old"], sources, replicas, refresh=False)["old"][0] == "skip"
    # Without refresh nothing is overwritten, so a running replica is no failure.
    assert plan(["busy"], sources, replicas, refresh=False)["busy"][0] == "skip"


def test_frozen_replica_is_not_overwritten_either():
    assert plan(["a"], {"a": {}}, {"a": {"status": "Frozen"}}, True)["a"][0] == "block"


def test_snapshots_are_off_on_replicas_unless_asked():
    assert effective_target_config(None) == {"snapshots.schedule": ""}
    assert effective_target_config({"boot.autostart": False}) == {"snapshots.schedule": "", "boot.autostart": False}
    assert effective_target_config({"snapshots.schedule": "@daily"})["snapshots.schedule"] == "@daily"


def test_body_is_already_the_replica_config():
    source = {"name": "c1", "type": "container", "architecture": "x86_64", "profiles": ["default"],
              "config": {"snapshots.schedule": "50 20 * * *", "volatile.uuid": "x", "limits.cpu": "1",
                         "boot.autostart": "true", FAILED_OVER_KEY: "2026-01-01T00:00:00Z", FENCED_KEY: "x"},
              "devices": {}}
    target_config = effective_target_config(check_target_config({"boot.autostart": False}))
    body = replica_body(source, False, False, "https://h:8443/1.0/operations/o", "PEM", {"fs": "s"}, target_config)
    # No schedule, autostart off, the marker, the saved schedule; no volatile nor per-server keys.
    assert body["config"] == {SAVED_SCHEDULE_KEY: "50 20 * * *", "limits.cpu": "1", "boot.autostart": "false",
                              REPLICA_KEY: "true"}
    assert body["source"]["refresh"] is False and body["source"]["mode"] == "pull"
    assert body["source"]["operation"].endswith("/1.0/operations/o")
    # Without a target config, snapshots are still off.
    assert "snapshots.schedule" not in replica_body(source, False, True, "u", "PEM", {})["config"]


@pytest.mark.parametrize("config, words", [
    ({"boot.autostart": "maybe"}, ["boot.autostart", "'maybe'", "true or false"]),
    ({"snapshots.schedule": "every day"}, ["snapshots.schedule", "'every day'", "cron"]),
    ({"volatile.uuid": "x"}, ["volatile.uuid", "belong to LXD"]),
    ({"limits.cpu": {"a": 1}}, ["limits.cpu", "scalar"]),
    ({FAILED_OVER_KEY: "now"}, [FAILED_OVER_KEY, "per-server"]),
    ({FENCED_KEY: "x"}, [FENCED_KEY, "per-server"]),
])
def test_bad_target_config(config, words):
    with pytest.raises(ConfigError) as info:
        check_target_config(config)
    for word in words:
        assert word in str(info.value)
    # The Replicator refuses it before it makes any client.
    with pytest.raises(ValueError):
        Replicator(None, None, target_config=config)


def test_target_config_as_lxd_strings():
    assert check_target_config({"boot.autostart": False, "user.x": None, "limits.cpu": 2}) == {
        "boot.autostart": "false", "user.x": None, "limits.cpu": "2"}


def test_failed_over_replica_is_never_overwritten_even_stopped():
    replicas = {"a": {"status": "Stopped", "config": {FAILED_OVER_KEY: "2026-12-01T10:00:00Z"}}}
    action, reason = plan(["a"], {"a": {}}, replicas, True)["a"]
    assert action == "block" and "failed over on 2026-12-01T10:00:00Z" in reason and "run failback first" in reason
    assert plan(["a"], {"a": {}}, replicas, False)["a"][0] == "block"


def test_replica_left_by_a_broken_first_copy_is_copied_again_unless_it_runs():
    replicas = {"a": {"status": "Stopped", "config": {INCOMPLETE_KEY: "2026-12-02T09:00:00Z", REPLICA_KEY: "true"}}}
    for refresh in (True, False):
        action, reason = plan(["a"], {"a": {}}, replicas, refresh)["a"]
        assert action == "recreate" and "2026-12-02T09:00:00Z" in reason and "incomplete" in reason
    replicas["a"]["status"] = "Running"
    assert plan(["a"], {"a": {}}, replicas, True)["a"][0] == "block"


def test_incomplete_mark_is_in_a_new_copy_only_and_gone_once_complete():
    source = {"name": "c1", "config": {"limits.cpu": "1"}}
    body = replica_body(source, False, False, "u", "PEM", {}, incomplete="2026-12-02T09:00:00Z")
    assert body["config"][INCOMPLETE_KEY] == "2026-12-02T09:00:00Z"
    assert INCOMPLETE_KEY not in replica_body(source, False, True, "u", "PEM", {}, incomplete="x")["config"]
    assert INCOMPLETE_KEY not in replica_config(body["config"], effective_target_config(None), None)


def test_fenced_source_is_skipped_with_its_reason():
    sources = {"a": {"config": {FENCED_KEY: "2026-12-01T10:05:00Z"}}}
    for replicas in ({}, {"a": {"status": "Stopped", "config": {}}}):
        action, reason = plan(["a"], sources, replicas, True)["a"]
        assert action == "skip" and "snapshot server took it over" in reason


def test_per_server_keys_stay_with_their_server_across_a_refresh():
    # After a refresh the replica holds the source's config, with the source's own per-server keys.
    after_refresh = {"boot.autostart": "true", FAILED_OVER_KEY: "source-side", "limits.cpu": "1"}
    config = replica_config(after_refresh, effective_target_config({"boot.autostart": False}), None,
                            local={FENCED_KEY: "target-side"})
    assert config == {"boot.autostart": "false", "limits.cpu": "1", REPLICA_KEY: "true", FENCED_KEY: "target-side"}


@pytest.mark.parametrize("projects, expected", [(None, None), ("p", ["p"]), (["all"], ["all"]),
                                                (["a", "b"], ["a", "b"])])
def test_projects(projects, expected):
    assert check_projects(projects) == expected


@pytest.mark.parametrize("projects", [[], ["all", "a"], [""]])
def test_bad_projects(projects):
    with pytest.raises(ValueError, match="projects"):
        check_projects(projects)


def test_lock_is_exclusive_names_the_holder_and_waits_a_bounded_time(tmp_path):
    path = str(tmp_path / "replicate.lock")
    with RunLock(path, 0):
        started = time.monotonic()
        with pytest.raises(ReplicationBusy) as info:
            RunLock(path, 0.5).acquire()
        assert 0.4 <= time.monotonic() - started < 3
        assert "already running" in info.value.message and "pid %d" % os.getpid() in info.value.message
    # Released: the next run gets it at once.
    with RunLock(path, 0):
        pass


def test_lock_of_a_killed_process_is_not_stale(tmp_path):
    path = str(tmp_path / "replicate.lock")
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time\n"
                               "f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); f.write('x'); f.flush()\n"
                               "print('held', flush=True); time.sleep(60)", path], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ReplicationBusy):
            RunLock(path, 0).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    lock = RunLock(path, 2)
    lock.acquire()
    try:
        with open(path) as handle:
            assert handle.read().strip() == str(os.getpid())
    finally:
        lock.release()


def test_lock_file_that_cannot_be_opened_is_named(tmp_path):
    with pytest.raises(Exception) as info:
        RunLock(str(tmp_path / "no" / "such" / "dir.lock"), 0).acquire()
    assert "lock_path" in str(info.value) and "no/such" in str(info.value)


@pytest.mark.parametrize("names, expected", [("c1", ["c1"]), (["a", "b"], ["a", "b"]), (["all"], ["all"])])
def test_names(names, expected):
    assert check_names(names) == expected


@pytest.mark.parametrize("names, words", [([], "give instance names"), (["all", "x"], "all stands alone")])
def test_bad_names(names, words):
    with pytest.raises(ValueError, match=words):
        check_names(names)


def test_replica_config_after_a_refresh_brought_the_source_config_back():
    source_like = {"snapshots.schedule": "50 20 * * *", "boot.autostart": "true", "limits.cpu": "1"}
    config = replica_config(source_like, effective_target_config({"boot.autostart": False}), "50 20 * * *")
    assert config == {"boot.autostart": "false", "limits.cpu": "1", SAVED_SCHEDULE_KEY: "50 20 * * *",
                      REPLICA_KEY: "true"}
    # A source without a schedule leaves no stale saved value.
    assert SAVED_SCHEDULE_KEY not in replica_config(config, effective_target_config(None), None)


def test_replica_disks_stay_on_the_pool_the_target_chose():
    source = {"root": {"type": "disk", "path": "/", "pool": "fast"},
              "data": {"type": "disk", "path": "/srv", "source": "/srv"},
              "eth0": {"type": "nic", "network": "br0"}}
    current = {"root": {"type": "disk", "path": "/", "pool": "default"}}
    devices = replica_devices(source, current)
    assert devices["root"] == {"type": "disk", "path": "/", "pool": "default"}
    assert devices["data"] == source["data"] and devices["eth0"] == source["eth0"]
    # A new disk, or one on the same pool, is the source's.
    assert replica_devices(source, {}) == source
    assert replica_devices(source, {"root": dict(source["root"])}) == source


class _Target:
    def __init__(self, replica):
        self.replica = replica

    def exists(self, path, project=True):
        return self.replica


@pytest.mark.parametrize("replica, last, expected", [
    (None, "create", "create"),
    ({"config": {INCOMPLETE_KEY: "t"}}, "create", "refresh"),
    ({"config": {INCOMPLETE_KEY: "t"}}, "refresh", "recreate"),
    ({"config": {INCOMPLETE_KEY: "t"}}, "recreate", "refresh"),
    ({"config": {}}, "refresh", "refresh"),
])
def test_retry_of_a_first_copy_never_repeats_it_blindly(replica, last, expected):
    replicator = Replicator(None, lambda: _Target(replica))
    assert replicator._next_first_copy_action("a", "default", last) == expected


class _Server:
    def __init__(self, project="default", projects=()):
        self.project = project
        self.projects = projects

    def get(self, path, project=True, **kwargs):
        assert path == "/1.0/projects" and project is False

        class Answer:
            metadata = ["/1.0/projects/%s" % p for p in self.projects]
        return Answer()


def test_project_pairs():
    source, target = _Server("web", ("default", "web", "a%20b")), _Server("web-copies")
    # Without the option: the connection's project into the remote's, as before.
    assert Replicator(None, None).project_pairs(source, target) == [("web", "web-copies")]
    assert Replicator(None, None, projects=["x", "y"]).project_pairs(source, target) == [("x", "x"), ("y", "y")]
    assert Replicator(None, None, projects=["all"]).project_pairs(source, target) == [
        ("a b", "a b"), ("default", "default"), ("web", "web")]
