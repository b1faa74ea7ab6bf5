# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_replica from the lab's primary to its second daemon (the snapshot server), for real."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from instance_data import instance_of, read_file

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, LXDError, api_path
from ansible_collections.lxdops.server.plugins.module_utils.replica import (
    FAILED_OVER_KEY,
    FENCED_KEY,
    INCOMPLETE_KEY,
    RunLock,
)


@pytest.fixture(scope="session")
def run_module(run_module, tmp_path_factory):
    """The lab's run_module with a replication lock of this test session's own.

    The host-wide default lock is shared with every other session on the lab (the other daemon kind's half of
    the suite among them): waiting for their copies would make timings and lock tests depend on them.
    """
    lock_path = str(tmp_path_factory.mktemp("replicate-lock") / "replicate.lock")

    def run(module, params, **kwargs):
        if module == "lxd_replica":
            params = dict(params)
            params.setdefault("lock_path", lock_path)
        return run_module(module, params, **kwargs)
    return run


@pytest.fixture
def remote_params(remote_https):
    return dict(remote_https)


@pytest.fixture
def remote_daemon(lab):
    """The lab's name of this kind's second daemon (for stopping and starting it)."""
    return lab["pairs"][lab["kind"]]["remote"]


@pytest.fixture
def sources(instance, primary):
    """Two running busybox instances on the primary, with a snapshot schedule."""
    def make(count=2):
        return [instance("src", config={"snapshots.schedule": "50 20 * * *"}) for _index in range(count)]
    return make


def test_copy_then_refresh_with_target_config(run_module, primary, remote_unix, remote_params, sources):
    names = sources()
    first = run_module("lxd_replica", dict(instances=names, remote=remote_params))
    assert not first.get("failed"), first.get("msg")
    assert [r["action"] for r in first["results"]] == ["created", "created"] and first["changed"]
    for name in names:
        copy = instance_of(remote_unix, name)
        assert copy["status"] == "Stopped"
        assert copy["config"]["boot.autostart"] == "false"
        assert "snapshots.schedule" not in copy["config"]
        assert copy["config"]["user.lxdops.source.snapshots.schedule"] == "50 20 * * *"
    primary.execute(names[0], ["sh", "-c", "echo marker-after-first-copy > /root/marker"])
    second = run_module("lxd_replica", dict(instances=names, remote=remote_params))
    assert [r["action"] for r in second["results"]] == ["refreshed", "refreshed"]
    assert read_file(remote_unix, names[0], "/root/marker").strip() == "marker-after-first-copy"
    # The refresh brought the source's config back; the target config was applied again.
    refreshed = instance_of(remote_unix, names[0])["config"]
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
    assert instance_of(remote_unix, names[1])["status"] == "Running"
    assert read_file(remote_unix, names[1], "/root/local").strip() == "written-on-the-replica"


def test_target_daemon_down_then_back(run_module, remote_unix, remote_params, sources, lab_control_module,
                                      remote_daemon):
    names = sources(1)
    assert not run_module("lxd_replica", dict(instances=names, remote=remote_params)).get("failed")
    lab_control_module.stop_daemon(remote_daemon)
    try:
        result = run_module("lxd_replica", dict(instances=names, remote=remote_params, retries=0))
        assert result["failed"] and "connection refused" in result["msg"]
        assert remote_params["url"] in result["msg"]
    finally:
        lab_control_module.start_daemon(remote_daemon)
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
    (dict(instances=["a"], remote={"url": "https://127.0.0.1:8444"}, target_config={"boot.autostart": "maybe"}),
     ["target_config", "boot.autostart", "'maybe'", "true or false"]),
    (dict(instances=["a"], remote={"url": "https://127.0.0.1:8444"}, target_config={"snapshots.schedule": "daily"}),
     ["target_config", "snapshots.schedule", "'daily'", "cron"]),
    (dict(instances=["a"], remote={"url": "https://127.0.0.1:8444"}, target_config={FENCED_KEY: "x"}),
     [FENCED_KEY, "per-server"]),
    (dict(instances=["a"], remote={"url": "https://127.0.0.1:8444"}, projects=["all", "p"]),
     ["projects", "all stands alone"]),
    (dict(instances=["a"], remote={"url": "https://127.0.0.1:8444"}, lock_wait=-1), ["lock_wait"]),
])
def test_bad_input_fails_before_any_request(run_module, params, words):
    result = run_module("lxd_replica", params)
    assert result["failed"] and result["_requests"] == 0
    for word in words:
        assert word in result["msg"]


def test_target_daemon_stopped_mid_run(run_module, remote_unix, remote_params, sources, lab_control_module,
                                       remote_daemon):
    """The snapshot server goes away after the first replica is done: that replica stays, the next run completes."""
    names = sources(3)

    def first_done():
        done = remote_unix.exists(api_path("instances", names[0]))
        return (done is not None and done["config"].get("user.lxdops.replica") == "true"
                and INCOMPLETE_KEY not in done["config"])

    worker, outcome = replicate_in_background(
        run_module, dict(instances=names, remote=remote_params, parallel=1, retries=0), first_done,
        "the first replica")
    try:
        lab_control_module.stop_daemon(remote_daemon)
        worker.join(300)
    finally:
        lab_control_module.start_daemon(remote_daemon)
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


def kill_daemon(lab_control_module, client):
    """SIGKILL a daemon (no shutdown of its own), as a power cut or an OOM kill would."""
    pid = client.server_info(refresh=True)["environment"]["server_pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def begun(client, name):
    try:
        return client.exists(api_path("instances", name)) is not None
    except LXDError:  # the lab daemon restarting for another test session
        return False


def replicate_in_background(run_module, params, until, what):
    """lxd_replica in a thread, returned once until() holds; outcome["result"] is the module's result once the thread
    has ended. Gives up (the thread joined) after 120 s with "<what> never happened"."""
    outcome = {}

    def replicate():
        outcome["result"] = run_module("lxd_replica", params)

    worker = threading.Thread(target=replicate)
    worker.start()
    deadline = time.monotonic() + 120
    while not until():
        if time.monotonic() > deadline:
            worker.join(300)
            raise AssertionError("%s never happened" % what)
        time.sleep(0.02)
    return worker, outcome


def sha256_of(client, name, path):
    sink = io.BytesIO()
    client.pull_file(name, path, sink)
    return hashlib.sha256(sink.getvalue()).hexdigest()


# Killed at once (LXD 5.0.2 leaves the instance without its storage volume) or a second in (part of the data).
@pytest.mark.parametrize("delay", [0, 1.0])
def test_target_killed_during_a_first_copy(run_module, primary, remote_unix, remote_params, instance,
                                           lab_control_module, remote_daemon, delay):
    """No unsafe window: whatever a broken first copy leaves never autostarts nor snapshots; the next run completes."""
    name = instance("big", config={"snapshots.schedule": "50 20 * * *", "boot.autostart": True})
    # Enough data that the kill lands during the transfer.
    primary.execute(name, ["sh", "-c", "dd if=/dev/urandom of=/root/big bs=1M count=150 2>/dev/null && sync"])
    digest = sha256_of(primary, name, "/root/big")
    worker, outcome = replicate_in_background(run_module, dict(instances=[name], remote=remote_params, retries=0),
                                              lambda: begun(remote_unix, name), "the copy's start")
    try:
        time.sleep(delay)
        kill_daemon(lab_control_module, remote_unix)
        worker.join(300)
    finally:
        lab_control_module.stop_daemon(remote_daemon)  # its dnsmasq, left by the kill
        lab_control_module.start_daemon(remote_daemon)
    result = outcome["result"]
    assert result["failed"] and result["results"][0]["action"] == "failed", result
    again = LXDClient(url=remote_unix.url)
    left = again.exists(api_path("instances", name))
    print("left behind by the broken copy: %s" % (left and {"status": left["status"], "config": dict(
        (k, v) for k, v in left["config"].items() if not k.startswith(("volatile.", "image.")))}))
    if left is not None:
        assert left["config"].get("boot.autostart") == "false"
        assert "snapshots.schedule" not in left["config"]
        assert left["config"].get("user.lxdops.replica") == "true"
        assert left["status"] == "Stopped" and left["config"].get(INCOMPLETE_KEY)
    result = run_module("lxd_replica", dict(instances=[name], remote=remote_params))
    assert not result.get("failed"), result.get("msg")
    assert result["results"][0]["action"] == "created"
    assert left is None or "incomplete" in result["results"][0]["reason"]
    copy = again.get(api_path("instances", name)).metadata
    assert copy["config"]["boot.autostart"] == "false" and "snapshots.schedule" not in copy["config"]
    assert INCOMPLETE_KEY not in copy["config"]
    assert sha256_of(again, name, "/root/big") == digest


def test_failed_over_replica_is_never_overwritten(run_module, primary, remote_unix, remote_params, sources):
    names = sources(2)
    assert not run_module("lxd_replica", dict(instances=names, remote=remote_params)).get("failed")
    # As failover leaves it, then stopped again by hand: still the newest data.
    remote_unix.patch(api_path("instances", names[0]), {"config": {FAILED_OVER_KEY: "2026-12-02T09:00:00Z"}})
    primary.execute(names[0], ["sh", "-c", "echo from-the-old-primary > /root/marker"])
    result = run_module("lxd_replica", dict(instances=names, remote=remote_params))
    assert result["failed"] and "failed over on 2026-12-02T09:00:00Z" in result["msg"]
    assert "run failback first" in result["msg"]
    actions = dict((r["name"], r["action"]) for r in result["results"])
    assert actions == {names[0]: "skipped", names[1]: "refreshed"}
    copy = instance_of(remote_unix, names[0])
    assert copy["status"] == "Stopped" and copy["config"][FAILED_OVER_KEY] == "2026-12-02T09:00:00Z"
    with pytest.raises(Exception):
        read_file(remote_unix, names[0], "/root/marker")


def test_fenced_source_is_skipped_and_per_server_keys_never_travel(run_module, remote_unix, remote_params,
                                                                   instance):
    fenced = instance("fenced", config={FENCED_KEY: "2026-12-02T09:01:00Z"})
    # A source that carries the failed-over key: the snapshot server's copy, replicated back by failback.
    other = instance("back", config={FAILED_OVER_KEY: "2026-12-02T09:00:00Z"})
    result = run_module("lxd_replica", dict(instances=[fenced, other], remote=remote_params))
    assert not result.get("failed"), result.get("msg")
    first, second = result["results"]
    assert first["action"] == "skipped" and "snapshot server took it over" in first["reason"] and not first["error"]
    assert remote_unix.exists(api_path("instances", fenced)) is None
    assert second["action"] == "created" and FAILED_OVER_KEY not in instance_of(remote_unix, other)["config"]
    # The target's own state (the primary's fence, in failback) stays through a refresh; the source's never comes.
    remote_unix.patch(api_path("instances", other), {"config": {FENCED_KEY: "target-side"}})
    result = run_module("lxd_replica", dict(instances=[other], remote=remote_params))
    assert result["results"][0]["action"] == "refreshed"
    config = instance_of(remote_unix, other)["config"]
    assert config[FENCED_KEY] == "target-side" and FAILED_OVER_KEY not in config


def test_source_config_changes_reach_the_replica_on_refresh(run_module, primary, remote_unix, remote_params,
                                                            sources):
    """LXD 5.0.2 keeps a replica's config through an API refresh; the module brings the source's over."""
    name = sources(1)[0]
    assert not run_module("lxd_replica", dict(instances=[name], remote=remote_params)).get("failed")
    primary.patch(api_path("instances", name), {"config": {"limits.processes": "321", "user.changed": "yes"}})
    remote_unix.patch(api_path("instances", name), {"config": {"user.only-on-replica": "x"}})
    result = run_module("lxd_replica", dict(instances=[name], remote=remote_params))
    assert result["results"][0]["action"] == "refreshed"
    config = instance_of(remote_unix, name)["config"]
    assert config["limits.processes"] == "321" and config["user.changed"] == "yes"
    assert "user.only-on-replica" not in config and config["boot.autostart"] == "false"
    assert "snapshots.schedule" not in config
    # Nothing changed since: nothing to write but the refresh itself.
    second = run_module("lxd_replica", dict(instances=[name], remote=remote_params, refresh=False))
    assert not second["changed"]


def test_second_run_while_one_holds_the_lock(run_module, remote_unix, remote_params, sources, tmp_path):
    names = sources(1)
    lock_path = str(tmp_path / "replicate.lock")
    params = dict(instances=names, remote=remote_params, lock_path=lock_path, lock_wait=1)
    with RunLock(lock_path, 0):
        started = time.monotonic()
        result = run_module("lxd_replica", params)
        assert time.monotonic() - started >= 1
    assert result["failed"] and "already running" in result["msg"] and "pid %d" % os.getpid() in result["msg"]
    assert result["_requests"] == 0 and not result["changed"] and result["results"] == []
    assert remote_unix.exists(api_path("instances", names[0])) is None
    # A run that waits long enough goes on when the other ends.
    lock = RunLock(lock_path, 0)
    lock.acquire()
    threading.Timer(2, lock.release).start()
    result = run_module("lxd_replica", dict(params, lock_wait=60))
    assert not result.get("failed"), result.get("msg")
    assert result["results"][0]["action"] == "created"


def test_a_killed_replication_leaves_no_stale_lock(run_module, remote_params, sources, tmp_path):
    names = sources(1)
    lock_path = str(tmp_path / "replicate.lock")
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                               "from ansible_collections.lxdops.server.plugins.module_utils.replica import RunLock\n"
                               "RunLock(sys.argv[1], 0).acquire(); print('held', flush=True); time.sleep(120)",
                               lock_path], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert holder.stdout.readline().strip() == "held"
        busy = run_module("lxd_replica", dict(instances=names, remote=remote_params, lock_path=lock_path,
                                              lock_wait=0))
        assert busy["failed"] and "pid %d" % holder.pid in busy["msg"]
    finally:
        holder.kill()
        holder.wait(10)
    result = run_module("lxd_replica", dict(instances=names, remote=remote_params, lock_path=lock_path, lock_wait=0))
    assert not result.get("failed"), result.get("msg")


@pytest.fixture
def project_on(lab, unique):
    """A project (sharing the default project's images and profiles) on the named lab daemons."""
    def make(*daemons):
        name = unique("proj")
        for daemon in daemons:
            client = LXDClient(url=lab["daemons"][daemon]["url"])
            client.post("/1.0/projects", {"name": name, "config": {"features.images": "false",
                                                                   "features.profiles": "false"}})
        return name
    return make


def test_every_listed_project_into_the_same_project(run_module, remote_unix, remote_params, instance, project_on):
    project = project_on("primary", "remote")
    in_default = instance("pdef")
    in_project = instance("pown", project=project)
    names = [in_default, in_project]
    result = run_module("lxd_replica", dict(instances=names, projects=["default", project], remote=remote_params))
    assert not result.get("failed"), result.get("msg")
    assert [(r["project"], r["name"], r["action"]) for r in result["results"]] == [
        ("default", in_default, "created"), (project, in_project, "created")]
    assert remote_unix.exists(api_path("instances", in_project), project=project)["config"]["boot.autostart"] == \
        "false"
    assert remote_unix.exists(api_path("instances", in_project)) is None
    assert set(result["diff"]["after"]) == {in_default, "%s/%s" % (project, in_project)}
    # The connection's project alone, as without the option: the default project's instance is not found there.
    result = run_module("lxd_replica", dict(instances=[in_project], project=project,
                                            remote=dict(remote_params, project=project)))
    assert not result.get("failed") and result["results"][0] == dict(result["results"][0], project=project,
                                                                     action="refreshed")
    # A name in none of the projects fails, naming them.
    result = run_module("lxd_replica", dict(instances=["lxdops-test-nowhere"], projects=["default", project],
                                            remote=remote_params))
    assert result["failed"] and "lxdops-test-nowhere" in result["msg"] and project in result["msg"]


def test_project_missing_on_the_target_fails_its_instances(run_module, remote_unix, remote_params, instance,
                                                           project_on):
    project = project_on("primary")
    in_default = instance("pdef")
    in_project = instance("pmiss", project=project)
    result = run_module("lxd_replica", dict(instances=[in_default, in_project], projects=["default", project],
                                            remote=remote_params))
    assert result["failed"]
    assert "project %r does not exist on the target server" % project in result["msg"]
    assert "profile sync creates it" in result["msg"]
    actions = dict(((r["project"], r["name"]), r["action"]) for r in result["results"])
    assert actions == {("default", in_default): "created", (project, in_project): "failed"}
    # Never created here.
    assert remote_unix.exists(api_path("projects", project), project=False) is None


def test_two_replications_at_once(run_module, primary, remote_unix, remote_params, instance, tmp_path):
    """A second lxd_replica while the first copies: it does nothing and says so; the first completes."""
    name = instance("busy")
    primary.execute(name, ["sh", "-c", "dd if=/dev/urandom of=/root/big bs=1M count=100 2>/dev/null && sync"])
    lock_path = str(tmp_path / "replicate.lock")
    worker, outcome = replicate_in_background(run_module, dict(instances=[name], remote=remote_params,
                                                               lock_path=lock_path),
                                              lambda: begun(remote_unix, name), "the copy's start")
    try:
        second = run_module("lxd_replica", dict(instances=[name], remote=remote_params, lock_path=lock_path,
                                                lock_wait=0))
    finally:
        worker.join(300)
    assert second["failed"] and "already running" in second["msg"] and second["_requests"] == 0
    assert not outcome["result"].get("failed"), outcome["result"].get("msg")
    assert outcome["result"]["results"][0]["action"] == "created"
    assert INCOMPLETE_KEY not in instance_of(remote_unix, name)["config"]


def test_lxd_keeps_the_replica_config_through_an_api_refresh(lab, primary, remote_unix, remote_params, sources,
                                                             tmp_path):
    """What LXD itself does (5.0.2): a refresh request's config is ignored, and so are the source's changes.

    This is why the replica gets the source's config again after every refresh (test above).
    """
    from ansible_collections.lxdops.server.plugins.module_utils.replica import Replicator

    class RefreshOnly(Replicator):
        def apply_target_config(self, *args, **kwargs):
            pass

    name = sources(1)[0]
    replicator = RefreshOnly(lambda: LXDClient(url=lab["daemons"]["primary"]["url"]),
                             lambda: LXDClient(**remote_params), target_config={"user.in-body": "first"},
                             lock_path=str(tmp_path / "lock"))
    assert replicator.run([name])[0]["action"] == "created"
    assert instance_of(remote_unix, name)["config"]["user.in-body"] == "first"
    remote_unix.patch(api_path("instances", name), {"config": {INCOMPLETE_KEY: ""}})  # as the module's update does
    primary.patch(api_path("instances", name), {"config": {"user.on-source": "changed"}})
    replicator.target_config["user.in-body"] = "second"
    assert replicator.run([name])[0]["action"] == "refreshed"
    config = instance_of(remote_unix, name)["config"]
    assert config["user.in-body"] == "first" and "user.on-source" not in config


# ---------------------------------------------------------------- custom volumes travel with their instance

def volume_url(pool, name, *rest):
    return api_path("storage-pools", pool, "volumes", "custom", name, *rest)


@pytest.fixture
def with_volume(lab, primary, remote_unix, instance, unique):
    """make(): a running instance with a custom volume of its own mounted at /data (a file in it); (name, volume).

    via_profile: the volume is attached through a profile (made on both servers, as the profile sync does).
    """
    made = []

    def make(via_profile=False, text="on-the-primary"):
        volume = unique("vol")
        primary.post(api_path("storage-pools", "default", "volumes", "custom"),
                     {"name": volume, "description": "data of a test", "config": {"user.purpose": "test"}})
        made.append(volume)
        disk = {"type": "disk", "pool": "default", "source": volume, "path": "/data"}
        if via_profile:
            profile = unique("vprof")
            for client in (primary, remote_unix):
                client.post("/1.0/profiles", {"name": profile, "devices": {"data": disk}})
            name = instance("vol", profiles=["default", profile])
        else:
            name = instance("vol", devices={"data": disk})
        primary.execute(name, ["sh", "-c", "echo %s > /data/file && sync" % text])
        return name, volume

    yield make
    # Best effort (the lab's clean-up by prefix follows): what uses the volumes, then the volumes.
    for client in (primary, remote_unix):
        for volume in made:
            found = client.exists(volume_url("default", volume))
            for url in (found or {}).get("used_by") or []:
                path = url.split("?")[0]
                try:
                    if "/instances/" in path and client.get(path).metadata["status"] != "Stopped":
                        client.put(path + "/state", {"action": "stop", "force": True})
                    client.delete(path)
                except LXDError:
                    pass
            if found is not None:
                try:
                    client.delete(volume_url("default", volume))
                except LXDError:
                    pass


def start_replica(remote_unix, name):
    remote_unix.put(api_path("instances", name, "state"), {"action": "start", "timeout": 30})


@pytest.mark.parametrize("via_profile", [False, True], ids=["own-device", "profile-device"])
def test_volume_copied_before_the_instance_then_refreshed(run_module, primary, remote_unix, remote_params,
                                                          with_volume, via_profile):
    name, volume = with_volume(via_profile)
    primary.post(volume_url("default", volume, "snapshots"), {"name": "before-the-copy"})
    first = run_module("lxd_replica", dict(instances=[name], remote=remote_params))
    assert not first.get("failed"), first.get("msg")
    assert first["results"][0]["volumes"] == [{"pool": "default", "name": volume, "action": "created",
                                               "reason": None}]
    copy = remote_unix.get(volume_url("default", volume)).metadata
    assert copy["description"] == "data of a test" and copy["config"]["user.purpose"] == "test"
    assert copy["config"]["user.lxdops.replica"] == "true"
    snapshots = remote_unix.get(volume_url("default", volume, "snapshots")).metadata
    assert [s.rsplit("/", 1)[-1] for s in snapshots] == ["before-the-copy"]

    # A change, a new snapshot and a new description reach the replica on refresh.
    primary.execute(name, ["sh", "-c", "echo changed-on-the-primary > /data/file && sync"])
    primary.post(volume_url("default", volume, "snapshots"), {"name": "after-the-copy"})
    primary.patch(volume_url("default", volume), {"description": "changed", "config": {"user.purpose": "other"}})
    second = run_module("lxd_replica", dict(instances=[name], remote=remote_params))
    assert not second.get("failed"), second.get("msg")
    assert second["results"][0]["volumes"][0]["action"] == "refreshed"
    copy = remote_unix.get(volume_url("default", volume)).metadata
    assert copy["description"] == "changed" and copy["config"]["user.purpose"] == "other"
    snapshots = remote_unix.get(volume_url("default", volume, "snapshots")).metadata
    assert sorted(s.rsplit("/", 1)[-1] for s in snapshots) == ["after-the-copy", "before-the-copy"]

    # As after a failover: the replica starts with its volume and the newest data in it.
    primary.put(api_path("instances", name, "state"), {"action": "stop", "timeout": 30, "force": True})
    start_replica(remote_unix, name)
    assert read_file(remote_unix, name, "/data/file").strip() == "changed-on-the-primary"


def test_volume_of_a_running_replica_is_never_overwritten(run_module, primary, remote_unix, remote_params,
                                                          with_volume, instance):
    name, volume = with_volume()
    assert not run_module("lxd_replica", dict(instances=[name], remote=remote_params)).get("failed")
    start_replica(remote_unix, name)
    remote_unix.execute(name, ["sh", "-c", "echo written-on-the-replica > /data/file && sync"])
    primary.execute(name, ["sh", "-c", "echo newer-on-the-primary > /data/file && sync"])
    result = run_module("lxd_replica", dict(instances=[name], remote=remote_params))
    assert result["failed"] and "never overwritten" in result["msg"]
    assert result["results"][0]["action"] == "skipped"
    assert result["results"][0]["volumes"] == [{"pool": "default", "name": volume, "action": "skipped",
                                                "reason": "the instance is left alone"}]
    assert read_file(remote_unix, name, "/data/file").strip() == "written-on-the-replica"

    # Another instance shares the volume; its replica is stopped, but the running one uses the volume.
    other = instance("vshare", devices={"data": {"type": "disk", "pool": "default", "source": volume,
                                                 "path": "/data"}})
    result = run_module("lxd_replica", dict(instances=[other], remote=remote_params))
    assert result["failed"] and result["results"][0]["action"] == "skipped"
    assert "volume default/%s is used by %s, which is Running" % (volume, name) in result["msg"]
    assert result["results"][0]["volumes"][0]["action"] == "skipped"
    assert remote_unix.exists(api_path("instances", other)) is None
    assert read_file(remote_unix, name, "/data/file").strip() == "written-on-the-replica"


def test_a_volume_that_fails_leaves_the_instance_uncopied(run_module, primary, remote_unix, remote_params,
                                                          with_volume, unique):
    """The target has a volume of that name that is not a replica; then the target lacks the volume's pool."""
    name, volume = with_volume()
    remote_unix.post(api_path("storage-pools", "default", "volumes", "custom"), {"name": volume})
    result = run_module("lxd_replica", dict(instances=[name], remote=remote_params))
    assert result["failed"] and "volume default/%s exists on the target server" % volume in result["msg"]
    assert remote_unix.exists(api_path("instances", name)) is None
    remote_unix.delete(volume_url("default", volume))

    # A copy that breaks: the volume's pool is missing on the target. Nothing of the instance is there after it.
    pool = unique("vpool")
    primary.post("/1.0/storage-pools", {"name": pool, "driver": "dir"})
    try:
        primary.post(api_path("storage-pools", pool, "volumes", "custom"), {"name": volume})
        more = {"type": "disk", "pool": pool, "source": volume, "path": "/more"}
        primary.patch(api_path("instances", name), {"devices": {"more": more}})
        result = run_module("lxd_replica", dict(instances=[name], remote=remote_params, retries=0))
        assert result["failed"] and result["results"][0]["action"] == "failed"
        assert "volume %s/%s" % (pool, volume) in result["msg"] and "no storage pool" in result["msg"]
        # Nothing was transferred: the pools are checked before the first volume.
        assert remote_unix.exists(api_path("instances", name)) is None
        assert remote_unix.exists(volume_url("default", volume)) is None
    finally:
        # Fixed (the device goes): the next run completes, and the one after refreshes.
        current = instance_of(primary, name)
        devices = dict((k, v) for k, v in current["devices"].items() if k != "more")
        body = dict((k, current[k]) for k in ("config", "profiles", "description", "ephemeral"))
        primary.put(api_path("instances", name), dict(body, devices=devices))
        primary.delete(volume_url(pool, volume))
        primary.delete(api_path("storage-pools", pool))
    result = run_module("lxd_replica", dict(instances=[name], remote=remote_params))
    assert not result.get("failed"), result.get("msg")
    assert result["results"][0]["volumes"][0]["action"] == "created"
    result = run_module("lxd_replica", dict(instances=[name], remote=remote_params))
    assert not result.get("failed") and result["results"][0]["volumes"][0]["action"] == "refreshed"
    start_replica(remote_unix, name)
    assert read_file(remote_unix, name, "/data/file").strip() == "on-the-primary"


def test_volume_check_mode_copies_nothing(run_module, remote_unix, remote_params, with_volume):
    name, volume = with_volume()
    result = run_module("lxd_replica", dict(instances=[name], remote=remote_params), check=True)
    assert result["results"][0]["volumes"] == [{"pool": "default", "name": volume, "action": "created",
                                                "reason": "check mode"}]
    assert remote_unix.exists(volume_url("default", volume)) is None
