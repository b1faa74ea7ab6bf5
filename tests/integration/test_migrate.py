# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LXD to Incus: lxd_replica from the lab's LXD primary to its Incus server, and playbooks/migrate.yml, for real.

LXD to Incus by nature, so these tests run once, in the LXD half of the suite (lab["all_daemons"] holds both).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import pytest
from instance_data import instance_of, read_file
import yaml

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, api_path
from ansible_collections.lxdops.server.plugins.module_utils.replica import INCOMPLETE_KEY, REPLICA_KEY

from conftest import ROOT

# The migration is from LXD to Incus: the Incus kind has no LXD server to migrate from.
pytestmark = pytest.mark.daemons("lxd")

MIGRATED_KEY = "user.lxdops.migrated"


@pytest.fixture
def lxd(lab):
    return lab["all_daemons"]["primary"]


@pytest.fixture
def incus(lab):
    return lab["all_daemons"]["incus"]


@pytest.fixture
def lxd_client(lxd):
    return LXDClient(url=lxd["url"])


@pytest.fixture
def incus_client(incus):
    return LXDClient(url=incus["url"])


@pytest.fixture(autouse=True)
def both_answer(lab, lab_control_module):
    """Another session's test may be restarting a lab daemon: wait until both of this test's answer."""
    deadline = time.monotonic() + 180
    while not all(lab_control_module.answering(name) for name in ("primary", "incus")):
        assert time.monotonic() < deadline, "a lab daemon does not answer"
        time.sleep(2)


@pytest.fixture
def incus_remote(lab, incus):
    """lxd_replica's remote options for the Incus server: the lab's client certificate, Incus's pinned."""
    return dict(url=incus["https_url"], client_cert=lab["client_cert"], client_key=lab["client_key"],
                server_cert=incus["server_cert"])


@pytest.fixture
def lock(tmp_path):
    # The replication lock of this test's own: other sessions replicate on this host at the same time.
    return str(tmp_path / "replicate.lock")


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write(client, name, text):
    client.execute(name, ["sh", "-c", "echo %s > /root/marker && sync" % text])


def fingerprint(pem_path):
    out = subprocess.run(["openssl", "x509", "-in", pem_path, "-noout", "-fingerprint", "-sha256"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("=", 1)[1].strip().replace(":", "").lower()


def start(client, name):
    client.put(api_path("instances", name, "state"), {"action": "start", "timeout": 30})


def stop(client, name):
    client.put(api_path("instances", name, "state"), {"action": "stop", "timeout": 30, "force": True})


@pytest.fixture
def source(run_module, busybox, unique, lxd_client):
    """A running busybox instance on the LXD primary with a snapshot and a marker file."""
    def make(part="mig", **params):
        name = unique(part)
        params.setdefault("source", busybox)
        result = run_module("lxd_instance", dict(name=name, url=lxd_client.url, **params))
        assert not result.get("failed"), result.get("msg")
        write(lxd_client, name, "before-the-copy")
        lxd_client.post(api_path("instances", name, "snapshots"), {"name": "before-migration"})
        return name
    return make


# ---------------------------------------------------------------- module level: lxd_replica LXD -> Incus

def test_running_instance_with_snapshots_copied_refreshed_and_started_on_incus(run_module, lxd, incus, lxd_client,
                                                                               incus_client, incus_remote, source,
                                                                               lock):
    name = source(config={"snapshots.schedule": "10 3 * * *"})
    params = dict(url=lxd["url"], instances=[name], remote=incus_remote, lock_path=lock)
    started = time.monotonic()
    first = run_module("lxd_replica", params)
    copy_seconds = time.monotonic() - started
    assert not first.get("failed"), first.get("msg")
    assert first["results"][0]["action"] == "created"
    copy = instance_of(incus_client, name)
    assert copy["status"] == "Stopped" and copy["config"]["boot.autostart"] == "false"
    assert copy["config"][REPLICA_KEY] == "true" and "snapshots.schedule" not in copy["config"]
    snapshots = incus_client.get(api_path("instances", name, "snapshots")).metadata
    assert [s.rsplit("/", 1)[-1] for s in snapshots] == ["before-migration"]
    assert instance_of(lxd_client, name)["status"] == "Running"
    # The copy's nic is on Incus's own bridge: the default profile there is Incus's.
    assert copy["expanded_devices"]["eth0"]["network"] == incus["bridge"]

    write(lxd_client, name, "after-the-copy")
    started = time.monotonic()
    second = run_module("lxd_replica", params)
    refresh_seconds = time.monotonic() - started
    assert not second.get("failed") and second["results"][0]["action"] == "refreshed", second.get("msg")
    print("LXD -> Incus: first copy %.1f s, refresh of a running instance %.1f s" % (copy_seconds, refresh_seconds))

    # The switch by hand: stopped on LXD, a last refresh, started on Incus with the data.
    stop(lxd_client, name)
    write_after_stop = run_module("lxd_replica", params)
    assert write_after_stop["results"][0]["action"] == "refreshed"
    start(incus_client, name)
    assert instance_of(incus_client, name)["status"] == "Running"
    assert read_file(incus_client, name, "/root/marker").strip() == "after-the-copy"
    # No trust between the two daemons was needed: Incus pulled with the source operation's secrets.
    trusted = [c["fingerprint"] for c in incus_client.get("/1.0/certificates", params={"recursion": 1},
                                                          project=False).metadata
               if not c["name"].startswith("lxdops-test-")]
    assert fingerprint(lxd["server_cert"]) not in trusted
    # Incus runs it now: a refresh never overwrites it.
    again = run_module("lxd_replica", params)
    assert again["failed"] and "never overwritten" in again["msg"]


def test_profile_missing_on_incus_fails_and_leaves_lxd_as_it_was(run_module, lxd, lxd_client, incus_client,
                                                                 incus_remote, source, unique, lock):
    profile = unique("mprof")
    lxd_client.post("/1.0/profiles", {"name": profile, "config": {"user.role": "web"}})
    name = source(profiles=["default", profile])
    result = run_module("lxd_replica", dict(url=lxd["url"], instances=[name], remote=incus_remote, lock_path=lock,
                                            retries=0))
    assert result["failed"] and name in result["msg"] and profile in result["msg"], result["msg"]
    left = incus_client.exists(api_path("instances", name))
    assert left is None or (left["status"] == "Stopped" and left["config"].get(INCOMPLETE_KEY))
    assert instance_of(lxd_client, name)["status"] == "Running"


def test_incus_unreachable_is_named(run_module, lxd, lxd_client, incus_remote, source, lock):
    name = source()
    url = "https://127.0.0.1:%d" % closed_port()
    result = run_module("lxd_replica", dict(url=lxd["url"], instances=[name], remote=dict(incus_remote, url=url),
                                            lock_path=lock))
    assert result["failed"] and url in result["msg"] and "connection refused" in result["msg"]
    assert instance_of(lxd_client, name)["status"] == "Running"


# ---------------------------------------------------------------- playbook level: playbooks/migrate.yml

def run_migrate(tmp_path, lab, extra_vars, target=None, check=False):
    """ansible-playbook lxdops.server.migrate: the LXD primary as lxd_primary, the Incus server as incus_target."""
    lxd, incus = lab["all_daemons"]["primary"], lab["all_daemons"]["incus"]
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    target_vars = dict(local, lxdops_daemon="incus", lxdops_url=incus["url"])
    target_vars.update(target or {})
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "lxd_primary": {"hosts": {"lab-lxd": dict(local, lxdops_daemon="lxd", lxdops_url=lxd["url"])}},
        "incus_target": {"hosts": {"lab-incus": target_vars}}}}}))
    settings = {"migrate_target_url": incus["https_url"],
                "migrate_source_address": lxd["https_url"][len("https://"):],
                "migrate_cert_name": lab["prefix"] + "migrate"}
    settings.update(extra_vars)
    extra = tmp_path / "extra-vars.yml"
    extra.write_text(yaml.safe_dump(settings))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_RETRY_FILES_ENABLED="0")
    for key in ("LXD_DIR", "LXD_URL", "INCUS_DIR", "INCUS_SOCKET"):
        env.pop(key, None)
    started = time.monotonic()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
                           "lxdops.server.migrate", "-e", "@%s" % extra] + (["--check"] if check else []),
                          env=env, capture_output=True, text=True, timeout=900, check=False)
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    recap = re.search(r"lab-lxd\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert recap, output
    return output, dict(zip(("ok", "changed", "unreachable", "failed"), map(int, recap.groups()))), seconds


def test_playbook_copies_refreshes_then_switches_once(tmp_path, lab, lxd_client, incus_client, source, unique):
    profile = unique("mweb")
    lxd_client.post("/1.0/profiles", {"name": profile, "description": "web", "config": {"limits.processes": "500"}})
    name = source(profiles=["default", profile], config={"snapshots.schedule": "10 3 * * *", "boot.autostart": True})
    stopped = source("mstop")
    stop(lxd_client, stopped)
    names = [name, stopped]

    output, recap, copy_seconds = run_migrate(tmp_path, lab, {"migrate_instances": names})
    assert recap["failed"] == 0, output
    assert "Not switched" in output
    created = instance_of(LXDClient(url=lab["all_daemons"]["incus"]["url"]), name)
    assert created["status"] == "Stopped" and created["config"]["boot.autostart"] == "false"
    assert incus_client.get(api_path("profiles", profile)).metadata["config"] == {"limits.processes": "500"}
    assert instance_of(lxd_client, name)["status"] == "Running"

    # Check mode of the switch changes nothing.
    output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": names, "migrate_switch": True},
                                          check=True)
    assert recap["failed"] == 0, output
    assert instance_of(lxd_client, name)["status"] == "Running"
    assert instance_of(incus_client, name)["status"] == "Stopped"

    write(lxd_client, name, "just-before-the-switch")
    output, recap, switch_seconds = run_migrate(tmp_path, lab, {"migrate_instances": names, "migrate_switch": True})
    assert recap["failed"] == 0, output
    print("migrate.yml: copy run %.1f s, switch run %.1f s (two instances)" % (copy_seconds, switch_seconds))
    here, there = instance_of(lxd_client, name), instance_of(incus_client, name)
    assert here["status"] == "Stopped" and here["config"]["boot.autostart"] == "false"
    assert here["config"][MIGRATED_KEY].endswith(" to " + lab["all_daemons"]["incus"]["https_url"])
    assert there["status"] == "Running"
    assert there["config"]["boot.autostart"] == "true" and there["config"]["snapshots.schedule"] == "10 3 * * *"
    assert REPLICA_KEY not in there["config"] and "user.lxdops.source.snapshots.schedule" not in there["config"]
    assert read_file(incus_client, name, "/root/marker").strip() == "just-before-the-switch"
    # It was stopped on LXD: stopped on Incus too.
    assert instance_of(incus_client, stopped)["status"] == "Stopped"
    assert REPLICA_KEY not in instance_of(incus_client, stopped)["config"]

    # The switch run twice: refused, nothing changed on either side.
    output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": names, "migrate_switch": True})
    assert recap["failed"] == 1 and "Incus already runs %s" % name in output and "nothing was changed" in output
    assert instance_of(incus_client, name)["status"] == "Running"
    assert read_file(incus_client, name, "/root/marker").strip() == "just-before-the-switch"
    assert instance_of(lxd_client, name)["status"] == "Stopped"


def data_volume(lxd_client, unique, config=None):
    """A custom volume on the LXD primary's default pool, and the disk device that mounts it at /data."""
    volume = unique("mvol")
    lxd_client.post(api_path("storage-pools", "default", "volumes", "custom"),
                    {"name": volume, "description": "the data", "config": config or {}})
    return volume, {"type": "disk", "pool": "default", "source": volume, "path": "/data"}


def volume_of(client, volume):
    return client.get(api_path("storage-pools", "default", "volumes", "custom", volume)).metadata


def test_playbook_carries_a_volume_and_its_data(tmp_path, lab, lxd_client, incus_client, source, unique):
    # The lab's Incus 6.0.4 lacks custom_volume_sftp: it crashes receiving a migrated volume from LXD 5.0.2, so it
    # gets volume backups (volume_replica.transport); an Incus with it gets migrations. Both end here.
    volume, disk = data_volume(lxd_client, unique, {"snapshots.schedule": "20 4 * * *"})
    name = source(devices={"data": disk}, config={"boot.autostart": True})
    lxd_client.execute(name, ["sh", "-c", "echo in-the-volume > /data/file && sync"])
    lxd_client.post(api_path("storage-pools", "default", "volumes", "custom", volume, "snapshots"),
                    {"name": "before-migration"})
    output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": [name]})
    assert recap["failed"] == 0, output
    copy = volume_of(incus_client, volume)
    assert copy["description"] == "the data" and copy["config"][REPLICA_KEY] == "true"
    assert "snapshots.schedule" not in copy["config"]
    snapshots = incus_client.get(api_path("storage-pools", "default", "volumes", "custom", volume,
                                          "snapshots")).metadata
    assert [s.rsplit("/", 1)[-1] for s in snapshots] == ["before-migration"]

    # A second copy run refreshes the replica volume (its stopped copy on Incus uses it) with a new snapshot.
    lxd_client.execute(name, ["sh", "-c", "echo changed > /data/file && sync"])
    lxd_client.post(api_path("storage-pools", "default", "volumes", "custom", volume, "snapshots"),
                    {"name": "second"})
    output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": [name]})
    assert recap["failed"] == 0, output
    snapshots = incus_client.get(api_path("storage-pools", "default", "volumes", "custom", volume,
                                          "snapshots")).metadata
    assert [s.rsplit("/", 1)[-1] for s in snapshots] == ["before-migration", "second"]
    assert volume_of(incus_client, volume)["config"][REPLICA_KEY] == "true"
    assert incus_client.exists(api_path("storage-pools", "default", "volumes", "custom",
                                        volume + "-lxdops-incoming")) is None

    lxd_client.execute(name, ["sh", "-c", "echo just-before-the-switch > /data/file && sync"])
    output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": [name], "migrate_switch": True})
    assert recap["failed"] == 0, output
    assert instance_of(incus_client, name)["status"] == "Running"
    assert read_file(incus_client, name, "/data/file").strip() == "just-before-the-switch"
    copy = volume_of(incus_client, volume)
    assert copy["config"]["snapshots.schedule"] == "20 4 * * *"
    assert REPLICA_KEY not in copy["config"] and "user.lxdops.source.snapshots.schedule" not in copy["config"]
    assert instance_of(lxd_client, name)["status"] == "Stopped"


def test_playbook_volume_pool_missing_on_incus_changes_nothing(tmp_path, lab, lxd_client, incus_client, source,
                                                               unique):
    pool = unique("mvpool")
    lxd_client.post("/1.0/storage-pools", {"name": pool, "driver": "dir"})
    volume = unique("mvol")
    name = None
    try:
        lxd_client.post(api_path("storage-pools", pool, "volumes", "custom"), {"name": volume})
        name = source(devices={"data": {"type": "disk", "pool": pool, "source": volume, "path": "/data"}})
        output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": [name], "migrate_switch": True})
        assert recap["failed"] == 1, output
        assert "Incus has no storage pool %s for the custom volumes %s/%s" % (pool, pool, volume) in output, output
        assert "nothing was changed" in output
        assert incus_client.exists(api_path("instances", name)) is None
        assert instance_of(lxd_client, name)["status"] == "Running"
    finally:
        if name and lxd_client.exists(api_path("instances", name)) is not None:
            lxd_client.put(api_path("instances", name, "state"), {"action": "stop", "force": True})
            lxd_client.delete(api_path("instances", name))
        lxd_client.delete(api_path("storage-pools", pool, "volumes", "custom", volume))
        lxd_client.delete(api_path("storage-pools", pool))


def test_playbook_a_switch_that_fails_rolls_back(tmp_path, lab, lxd_client, incus_client, source, unique):
    """The copy cannot start on Incus (its own profile mounts what is not there): LXD runs it again."""
    profile = unique("mbad")
    lxd_client.post("/1.0/profiles", {"name": profile, "config": {"user.role": "db"}})
    # Incus has its own profile of that name (left as it is) whose mount source is missing: the copy works, the
    # start fails (Incus checks a disk device's source already when it creates the instance; raw.lxc only at start).
    incus_client.post("/1.0/profiles", {"name": profile, "config": {
        "raw.lxc": "lxc.mount.entry = /nonexistent/lxdops-migrate-test srv none bind 0 0"}})
    name = source(profiles=["default", profile], config={"boot.autostart": True})
    output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": [name], "migrate_switch": True})
    assert recap["failed"] == 1, output
    assert "the switch failed at" in output and "Rolled back" in output and "HALF-SWITCHED" not in output
    here, there = instance_of(lxd_client, name), instance_of(incus_client, name)
    assert here["status"] == "Running" and here["config"]["boot.autostart"] == "true"
    assert MIGRATED_KEY not in here["config"]
    assert there["status"] == "Stopped" and there["config"]["boot.autostart"] == "false"
    assert there["config"][REPLICA_KEY] == "true"
    # Fixed on Incus: the next run switches.
    incus_client.put(api_path("profiles", profile), {"config": {}, "devices": {}, "description": ""})
    write(lxd_client, name, "after-the-rollback")

    output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": [name], "migrate_switch": True})
    assert recap["failed"] == 0, output
    assert instance_of(incus_client, name)["status"] == "Running"
    assert read_file(incus_client, name, "/root/marker").strip() == "after-the-rollback"


def test_playbook_copy_that_fails_switches_nothing(tmp_path, lab, lxd, lxd_client, incus_client, source):
    """The instance's own nic is on a network Incus lacks (LXD's bridge): the copy fails, no switch is begun."""
    name = source(devices={"eth0": {"type": "nic", "name": "eth0", "network": lxd["bridge"]}})
    output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": [name], "migrate_switch": True})
    assert recap["failed"] == 1, output
    assert "the copy to Incus failed" in output and "Nothing was switched" in output, output
    assert "Stopped here" not in output
    assert instance_of(lxd_client, name)["status"] == "Running"
    left = incus_client.exists(api_path("instances", name))
    assert left is None or (left["status"] == "Stopped" and left["config"].get(INCOMPLETE_KEY)), left


def test_playbook_root_pool_missing_on_incus(tmp_path, lab, run_module, busybox, lxd_client, incus_client, unique):
    """Incus lacks the pool of the instance's root disk: the copy goes to Incus's default pool, and stays there."""
    pool = unique("mpool")
    lxd_client.post("/1.0/storage-pools", {"name": pool, "driver": "dir"})
    name = unique("mnopool")
    try:
        result = run_module("lxd_instance", dict(name=name, url=lxd_client.url, source=busybox,
                                                 devices={"root": {"type": "disk", "path": "/", "pool": pool}}))
        assert not result.get("failed"), result.get("msg")
        write(lxd_client, name, "on-a-pool-incus-lacks")
        output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": [name], "migrate_switch": True})
        assert recap["failed"] == 0, output
        there = instance_of(incus_client, name)
        assert there["status"] == "Running" and there["devices"]["root"]["pool"] == "default"
        assert read_file(incus_client, name, "/root/marker").strip() == "on-a-pool-incus-lacks"
    finally:
        if lxd_client.exists(api_path("instances", name)) is not None:
            lxd_client.delete(api_path("instances", name))
        lxd_client.delete(api_path("storage-pools", pool))


@pytest.mark.parametrize("how", ["socket", "https"])
def test_playbook_incus_unreachable_changes_nothing(tmp_path, lab, lxd_client, incus_client, source, how):
    name = source()
    url = "https://127.0.0.1:%d" % closed_port()
    if how == "socket":
        # The Incus server itself cannot be asked: refused before anything changes.
        output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": [name], "migrate_switch": True},
                                              target={"lxdops_url": "unix:" + str(tmp_path / "no.socket")})
        assert recap["failed"] == 1 and "no.socket" in output, output
    else:
        # Incus answers on its host, but not where this server would replicate to.
        output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_instances": [name], "migrate_switch": True,
                                                              "migrate_target_url": url})
        assert recap["failed"] == 1 and url in output and "Nothing was switched" in output, output
    assert instance_of(lxd_client, name)["status"] == "Running"
    assert incus_client.exists(api_path("instances", name)) is None


def test_playbook_refuses_without_names(tmp_path, lab):
    output, recap, _seconds = run_migrate(tmp_path, lab, {"migrate_switch": True})
    assert recap["failed"] == 1 and "give the instances to migrate by name" in output
