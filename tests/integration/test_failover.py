# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The failover and failback playbooks between the lab's two daemons, for real.

The kind's remote daemon plays the snapshot server (inventory host lab-snapshot), reached through its lxdops_url
(its folder is not the daemon's own); the kind's primary the primary (lab-primary), found from its lxdops_daemon
alone. Every run names its instances: the default, all, would take the other sessions' replicas on the shared lab
too.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, LXDError, api_path
from ansible_collections.lxdops.server.plugins.module_utils.guard import FENCED_BEFORE_KEY, REASON_FAILED_OVER
from ansible_collections.lxdops.server.plugins.module_utils.replica import FAILED_OVER_KEY, FENCED_KEY

from conftest import ROOT

SCHEDULE = "50 20 * * *"
DECLARED = "failover_primary_down=true was given: the operator declared the primary down"


def closed_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def run_playbook(tmp_path, lab, name, extra_vars, primary=None, *options, host="lab-snapshot"):
    """ansible-playbook lxdops.server.<name> (or a playbook file) on the lab pair; returns (output, recap of host)."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
             "lxdops_daemon": lab["kind"]}
    primary_vars = dict(local)
    primary_vars.update(primary or {})
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "lxd_snapshot": {"hosts": {"lab-snapshot": dict(local, lxdops_url=lab["daemons"]["remote"]["url"])}},
        "lxd_primary": {"hosts": {"lab-primary": primary_vars}}}}}))
    extra_file = tmp_path / "extra-vars.yml"
    extra_file.write_text(yaml.safe_dump(extra_vars))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOST_KEY_CHECKING="0",
               ANSIBLE_RETRY_FILES_ENABLED="0")
    for key in ("LXD_DIR", "LXD_URL", "INCUS_DIR", "INCUS_SOCKET"):
        env.pop(key, None)
    playbook = name if name.startswith("/") else "lxdops.server." + name
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
                           playbook, "-e", "@%s" % extra_file] + list(options),
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    recap = re.search(host + r"\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert recap, output
    return output, dict(zip(("ok", "changed", "unreachable", "failed"), map(int, recap.groups())))


def client(lab, daemon, project="default"):
    return LXDClient(url=lab["daemons"][daemon]["url"], project=project)


def state(lab, daemon, name, project="default"):
    return client(lab, daemon, project).get(api_path("instances", name)).metadata


def is_rfc3339_now(value):
    stamp = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return abs((datetime.datetime.now(datetime.timezone.utc) - stamp).total_seconds()) < 600


@pytest.fixture(autouse=True)
def both_daemons(pair_answering):
    """Every test here waits until the kind's two daemons answer (see conftest)."""


@pytest.fixture
def pair(lab, run_module, busybox, unique, remote_https):
    """make(project=..., running=...): an instance on the primary with a stopped replica on the remote daemon."""
    def make(project="default", running=True):
        name = unique("fo")
        result = run_module("lxd_instance", dict(url=lab["daemons"]["primary"]["url"], project=project, name=name,
                                                 source=busybox, config={"snapshots.schedule": SCHEDULE}))
        assert not result.get("failed"), result.get("msg")
        remote = dict(remote_https, project=project)
        result = run_module("lxd_replica", dict(url=lab["daemons"]["primary"]["url"], project=project,
                                                instances=[name], remote=remote))
        assert not result.get("failed"), result.get("msg")
        if not running:
            result = run_module("lxd_instance", dict(url=lab["daemons"]["primary"]["url"], project=project,
                                                     name=name, state="stopped"))
            assert not result.get("failed"), result.get("msg")
        copy = state(lab, "remote", name, project)
        assert copy["status"] == "Stopped" and copy["config"]["boot.autostart"] == "false"
        return name
    return make


@pytest.fixture
def project(lab, unique):
    """A project of the same name on both daemons (images and profiles of the default project)."""
    name = unique("fop")
    for daemon in ("primary", "remote"):
        client(lab, daemon).post("/1.0/projects", {"name": name, "description": "failover test",
                                                   "config": {"features.images": "false",
                                                              "features.profiles": "false"}})
    return name


def assert_taken_over(lab, name, project="default"):
    copy = state(lab, "remote", name, project)
    assert copy["status"] == "Running"
    assert copy["config"]["boot.autostart"] == "true"
    assert copy["config"]["snapshots.schedule"] == SCHEDULE
    assert is_rfc3339_now(copy["config"][FAILED_OVER_KEY])
    return copy


def assert_not_started(lab, name, project="default"):
    copy = state(lab, "remote", name, project)
    assert copy["status"] == "Stopped" and copy["config"]["boot.autostart"] == "false"
    assert FAILED_OVER_KEY not in copy["config"]


def test_refused_while_the_primary_runs_it_then_stopped_there_on_request(tmp_path, lab, pair):
    name = pair()
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": [name]})
    assert recap["failed"] == 1, output
    assert "the primary still runs %s" % name in output and "failover_stop_primary=true" in output
    assert_not_started(lab, name)
    assert state(lab, "primary", name)["status"] == "Running"

    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": [name],
                                                             "failover_stop_primary": True})
    assert recap["failed"] == 0, output
    there = state(lab, "primary", name)
    assert there["status"] == "Stopped" and there["config"]["boot.autostart"] == "false"
    stamp, reason = there["config"][FENCED_KEY].split(" ", 1)
    assert is_rfc3339_now(stamp) and reason == REASON_FAILED_OVER
    assert_taken_over(lab, name)


def test_check_mode_changes_nothing(tmp_path, lab, pair):
    name = pair()
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": [name],
                                                             "failover_stop_primary": True}, None, "--check")
    assert recap["failed"] == 0 and recap["changed"] >= 1, output
    there = state(lab, "primary", name)
    assert there["status"] == "Running" and FENCED_KEY not in there["config"]
    assert_not_started(lab, name)


def test_goes_when_the_primary_runs_none_in_every_project(tmp_path, lab, pair, project):
    names = [pair(running=False), pair(project=project, running=False)]
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": names})
    assert recap["failed"] == 0, output
    first = assert_taken_over(lab, names[0])
    assert_taken_over(lab, names[1], project)
    assert DECLARED not in output
    # A second run changes nothing, and keeps the time of the first.
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": names})
    assert recap["failed"] == 0 and recap["changed"] == 0, output
    assert state(lab, "remote", names[0])["config"][FAILED_OVER_KEY] == first["config"][FAILED_OVER_KEY]


def test_listed_projects_only(tmp_path, lab, pair, project):
    names = [pair(running=False), pair(project=project, running=False)]
    # Not in the listed project: refused, naming it.
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": names,
                                                             "failover_projects": [project]})
    assert recap["failed"] == 1 and "no replica here for %s" % names[0] in output, output
    # Every replica of that project (this test's project holds only this test's replica).
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_projects": [project]})
    assert recap["failed"] == 0, output
    assert_taken_over(lab, names[1], project)
    assert_not_started(lab, names[0])
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": names,
                                                             "failover_projects": [project + "-none"]})
    assert recap["failed"] == 1 and "no project %s-none here" % project in output, output


def unreachable_primary(lab, folder):
    """An SSH host on 127.0.0.1 where nothing listens."""
    return {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": closed_port(),
            "ansible_user": "nobody", "ansible_ssh_common_args": "-o ConnectTimeout=5 -o BatchMode=yes"}


def unprivileged_primary(lab, folder):
    """The primary's socket asked as a user outside LXD's group (root's su to nobody)."""
    folder.chmod(0o755)
    return {"lxdops_url": lab["daemons"]["primary"]["url"], "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_become": True, "ansible_become_method": "su", "ansible_become_user": "nobody",
            "ansible_become_flags": "-s /bin/sh", "ansible_remote_tmp": str(folder / "remote-tmp")}


def socketless_primary(lab, folder):
    return {"lxdops_url": "unix:/run/lxdops-test-none/unix.socket"}


def closed_https_primary(lab, folder):
    return {"lxdops_url": "https://127.0.0.1:%d" % closed_port(), "lxdops_client_cert": lab["client_cert"],
            "lxdops_client_key": lab["client_key"]}


def stranger_primary(lab, folder):
    """The primary's https with the other daemon's certificate pinned: a TLS failure, as a stranger's would be."""
    return {"lxdops_url": lab["daemons"]["primary"]["https_url"], "lxdops_client_cert": lab["client_cert"],
            "lxdops_client_key": lab["client_key"], "lxdops_server_cert": lab["daemons"]["remote"]["server_cert"]}


# How the primary cannot be asked, and what the refusal must say ({socket} and {https}: the kind's primary's).
CANNOT_ASK = {
    "permission-denied": (unprivileged_primary, r"permission denied on the (LXD |Incus )?socket {socket}"),
    "socket-missing": (socketless_primary, r"/run/lxdops-test-none/unix\.socket.*(No such file|not exist)"),
    "port-closed": (closed_https_primary, r"[Cc]onnection refused by https://127\.0\.0\.1:\d+"),
    "wrong-certificate": (stranger_primary, r"{https} presented a certificate .* does not match the "
                                            r"pinned server_cert"),
    "host-unreachable": (unreachable_primary, r"(UNREACHABLE|[Ff]ailed to connect)"),
}


@pytest.mark.parametrize("how", sorted(CANNOT_ASK))
def test_refused_when_the_primary_cannot_be_asked_unless_declared_down(tmp_path, lab, pair, how, request):
    name = pair()
    primary_vars, reason = CANNOT_ASK[how]
    daemon = lab["daemons"]["primary"]
    reason = reason.replace("{socket}", re.escape(daemon["socket"])).replace("{https}", re.escape(daemon["https_url"]))
    folder = Path(tempfile.mkdtemp(prefix="lxdops-test-"))
    request.addfinalizer(lambda: shutil.rmtree(str(folder), ignore_errors=True))
    primary_vars = primary_vars(lab, folder)
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": [name]}, primary_vars)
    assert recap["failed"] == 1, output
    refusal = re.search(r"failover: refused, the primary cannot be asked.*", output)
    assert refusal and re.search(reason, refusal.group(0)), output
    assert "failover_primary_down=true" in refusal.group(0)
    assert_not_started(lab, name)

    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": [name],
                                                             "failover_primary_down": True}, primary_vars)
    assert recap["failed"] == 0, output
    assert DECLARED in output and "the guard on the primary stops and fences" in output
    assert_taken_over(lab, name)


def test_failover_force_never_covers_a_primary_that_cannot_be_asked(tmp_path, lab, pair):
    name = pair()
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": [name], "failover_force": True},
                                 socketless_primary(lab, tmp_path))
    assert recap["failed"] == 1 and "the primary cannot be asked" in output, output
    assert_not_started(lab, name)


@pytest.fixture
def remote_trusted_by_primary(lab):
    """Failback makes the primary trust the remote daemon's certificate; taken away again if it was not there."""
    primary = client(lab, "primary")
    remote_fingerprint = client(lab, "remote").server_info()["environment"]["certificate_fingerprint"]
    before = [c["fingerprint"] for c in primary.get("/1.0/certificates", params={"recursion": 1}).metadata]
    yield
    if remote_fingerprint not in before and primary.exists(api_path("certificates", remote_fingerprint)):
        primary.delete(api_path("certificates", remote_fingerprint))


def test_failback_with_switch_brings_the_data_back(tmp_path, lab, pair, project, remote_trusted_by_primary):
    names = [pair(), pair(project=project)]
    projects = ["default", project]
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": names,
                                                             "failover_stop_primary": True})
    assert recap["failed"] == 0, output
    for name, proj in zip(names, projects):
        assert_taken_over(lab, name, proj)
        code, _out, err = client(lab, "remote", proj).execute(
            name, ["sh", "-c", "echo written-during-failover > /root/failover-marker"])
        assert code == 0, err

    failback = {"failback_instances": names, "failback_switch": True,
                "failback_primary_url": lab["daemons"]["primary"]["https_url"],
                "failback_source_address": lab["daemons"]["remote"]["https_url"][len("https://"):]}
    output, recap = run_playbook(tmp_path, lab, "failback", failback, None, "--check")
    assert recap["failed"] == 0 and recap["changed"] >= 1, output
    for name, proj in zip(names, projects):
        assert state(lab, "remote", name, proj)["status"] == "Running"
        there = state(lab, "primary", name, proj)
        assert there["status"] == "Stopped" and FENCED_KEY in there["config"]

    output, recap = run_playbook(tmp_path, lab, "failback", failback)
    assert recap["failed"] == 0, output
    for name, proj in zip(names, projects):
        there = state(lab, "primary", name, proj)
        assert there["status"] == "Running"
        assert there["config"]["boot.autostart"] == "true"
        assert there["config"]["snapshots.schedule"] == SCHEDULE
        for key in (FENCED_KEY, FENCED_BEFORE_KEY, FAILED_OVER_KEY, "user.lxdops.replica", "user.lxdops.source.snapshots.schedule"):
            assert key not in there["config"], key
        code, out, _err = client(lab, "primary", proj).execute(name, ["cat", "/root/failover-marker"])
        assert code == 0 and out.decode().strip() == "written-during-failover"
        copy = state(lab, "remote", name, proj)
        assert copy["status"] == "Stopped" and copy["config"]["boot.autostart"] == "false"
        assert "snapshots.schedule" not in copy["config"] and FAILED_OVER_KEY not in copy["config"]
        assert copy["config"]["user.lxdops.replica"] == "true"


SYNC_PLAY = """
- name: The snapshot_server role's profile sync
  hosts: lxd_primary
  gather_facts: true
  gather_subset: [min]
  tasks:
    - name: Profiles of the listed projects
      ansible.builtin.include_role:
        name: lxdops.server.snapshot_server
        tasks_from: profiles
"""


def test_profile_sync_creates_the_project_then_its_profiles(tmp_path, lab, unique):
    name = unique("fosync")
    primary = client(lab, "primary")
    primary.post("/1.0/projects", {"name": name, "description": "synced project",
                                   "config": {"features.images": "false", "features.profiles": "true",
                                              "limits.instances": "7"}})
    client(lab, "primary", name).post("/1.0/profiles", {"name": name + "-p", "description": "in the project",
                                                        "config": {"limits.cpu": "1"}, "devices": {}})
    play = tmp_path / "sync.yml"
    play.write_text(SYNC_PLAY)
    # The primary's daemon from its lxdops_daemon and facts, the snapshot server's from its lxdops_url.
    extra = {"snapshot_server_host": "lab-snapshot", "snapshot_server_projects": [name]}
    remote = client(lab, "remote")

    output, recap = run_playbook(tmp_path, lab, str(play), extra, None, "--check", host="lab-primary")
    assert recap["failed"] == 0 and recap["changed"] == 1, output
    assert remote.exists(api_path("projects", name)) is None

    output, recap = run_playbook(tmp_path, lab, str(play), extra, host="lab-primary")
    assert recap["failed"] == 0 and recap["changed"] == 2, output
    made = remote.get(api_path("projects", name)).metadata
    assert made["description"] == "synced project"
    assert made["config"]["limits.instances"] == "7" and made["config"]["features.profiles"] == "true"
    profile = client(lab, "remote", name).get(api_path("profiles", name + "-p")).metadata
    assert profile["config"] == {"limits.cpu": "1"} and profile["description"] == "in the project"

    output, recap = run_playbook(tmp_path, lab, str(play), extra, host="lab-primary")
    assert recap["failed"] == 0 and recap["changed"] == 0, output

    extra["snapshot_server_projects"] = [name + "-none"]
    output, recap = run_playbook(tmp_path, lab, str(play), extra, host="lab-primary")
    assert recap["failed"] == 1 and "no project %s-none on the primary" % name in output, output


VOLUME_SCHEDULE = "30 2 * * *"


@pytest.fixture
def volume_pair(lab, run_module, busybox, unique, remote_https):
    """An instance on the primary with a custom volume at /data (a file in it), replicated with its volume."""
    primary = client(lab, "primary")
    volume = unique("fovol")
    primary.post(api_path("storage-pools", "default", "volumes", "custom"),
                 {"name": volume, "config": {"snapshots.schedule": VOLUME_SCHEDULE}})
    name = unique("fov")
    result = run_module("lxd_instance", dict(
        url=lab["daemons"]["primary"]["url"], name=name, source=busybox, config={"snapshots.schedule": SCHEDULE},
        devices={"data": {"type": "disk", "pool": "default", "source": volume, "path": "/data"}}))
    assert not result.get("failed"), result.get("msg")
    code, _out, err = primary.execute(name, ["sh", "-c", "echo on-the-primary > /data/file && sync"])
    assert code == 0, err
    result = run_module("lxd_replica", dict(url=lab["daemons"]["primary"]["url"], instances=[name],
                                            remote=remote_https))
    assert not result.get("failed"), result.get("msg")
    assert result["results"][0]["volumes"][0]["action"] == "created"
    return name, volume


def test_failover_starts_the_replica_with_its_volume_and_failback_brings_it_back(tmp_path, lab, volume_pair,
                                                                                 remote_trusted_by_primary):
    name, volume = volume_pair
    remote = client(lab, "remote")
    volume_path = api_path("storage-pools", "default", "volumes", "custom", volume)
    # A replica volume takes no snapshots of its own; the primary's schedule is kept aside.
    replica = remote.get(volume_path).metadata["config"]
    assert "snapshots.schedule" not in replica and replica["user.lxdops.source.snapshots.schedule"] == VOLUME_SCHEDULE
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": [name],
                                                             "failover_stop_primary": True})
    assert recap["failed"] == 0, output
    assert_taken_over(lab, name)
    assert remote.get(volume_path).metadata["config"]["snapshots.schedule"] == VOLUME_SCHEDULE
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": [name]})
    assert recap["failed"] == 0 and recap["changed"] == 0, output
    code, out, _err = remote.execute(name, ["cat", "/data/file"])
    assert code == 0 and out.decode().strip() == "on-the-primary"
    code, _out, err = remote.execute(name, ["sh", "-c", "echo written-during-failover > /data/file && sync"])
    assert code == 0, err

    failback = {"failback_instances": [name], "failback_switch": True,
                "failback_primary_url": lab["daemons"]["primary"]["https_url"],
                "failback_source_address": lab["daemons"]["remote"]["https_url"][len("https://"):]}
    output, recap = run_playbook(tmp_path, lab, "failback", failback)
    assert recap["failed"] == 0, output
    primary = client(lab, "primary")
    assert state(lab, "primary", name)["status"] == "Running"
    code, out, _err = primary.execute(name, ["cat", "/data/file"])
    assert code == 0 and out.decode().strip() == "written-during-failover"
    # The primary's volume is not a replica; the snapshot server's is one again.
    here = primary.get(volume_path).metadata["config"]
    assert "user.lxdops.replica" not in here and "user.lxdops.source.snapshots.schedule" not in here
    assert here["snapshots.schedule"] == VOLUME_SCHEDULE
    there = remote.get(volume_path).metadata["config"]
    assert there["user.lxdops.replica"] == "true"


def test_failover_refuses_a_replica_without_its_volume(tmp_path, lab, pair, unique):
    """The profile sync gave a replica's profile a volume not replicated yet: it is not started."""
    name = pair(running=False)
    remote = client(lab, "remote")
    profile = unique("fovp")
    missing = unique("fonovol")
    remote.post("/1.0/profiles", {"name": profile})
    remote.patch(api_path("instances", name), {"profiles": ["default", profile]})
    try:
        # LXD and Incus keep the profile change, and say that the instance cannot use it.
        remote.put(api_path("profiles", profile), {"config": {}, "description": "", "devices": {
            "data": {"type": "disk", "pool": "default", "source": missing, "path": "/data"}}})
    except LXDError:
        pass
    output, recap = run_playbook(tmp_path, lab, "failover", {"failover_instances": [name]})
    assert recap["failed"] == 1, output
    assert "a volume is missing here for %s: default/%s" % (name, missing) in output, output
    assert "Nothing was started" in output
    assert_not_started(lab, name)
