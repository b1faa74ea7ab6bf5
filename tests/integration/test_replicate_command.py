# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops-replicate (the snapshot_server role's nightly command) between the lab's two daemons, for real.

Runs once per daemon kind: LXD to LXD, Incus to Incus (the `lab` fixture's pair).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from ansible_collections.lxdops.server.plugins.module_utils import replica_metrics
from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, api_path

from conftest import ROOT

# What the role's wrapper script runs.
ENTRY = ("import sys\nfrom ansible_collections.lxdops.server.plugins.module_utils.replicate_command import main\n"
         "sys.exit(main(sys.argv[1:]))\n")


def command_line(tmp_path, settings, *args):
    config = tmp_path / "replicate.json"
    config.write_text(json.dumps(settings))
    return [sys.executable, "-c", ENTRY, "--config", str(config)] + list(args)


def command_env():
    return dict(os.environ, PYTHONPATH=os.path.join(ROOT, ".build", "collections"))


def run_command(tmp_path, settings, *args):
    return subprocess.run(command_line(tmp_path, settings, *args), env=command_env(), capture_output=True,
                          text=True, timeout=600, check=False)


def settings_for(lab, remote_https, names, log_file):
    # A lock of the test's own: other test sessions on the lab replicate at the same time.
    return {"source": {"url": lab["daemons"]["primary"]["url"]}, "remote": remote_https, "instances": names,
            "target_config": {"boot.autostart": False}, "parallel": 2, "retries": 0, "log_file": str(log_file),
            "lock_path": str(log_file.parent / "replicate.lock"), "lock_wait": 0}


def metrics(folder):
    return replica_metrics.read(str(folder))


def test_logs_each_instance_and_exits_by_outcome(tmp_path, lab, remote_https, remote_unix, instance):
    names = [instance("cmd"), instance("cmd")]
    log_file = tmp_path / "replicate.log"
    settings = settings_for(lab, remote_https, names, log_file)
    first = run_command(tmp_path, settings)
    assert first.returncode == 0, first.stdout + first.stderr
    for name in names:
        assert "%s: created" % name in first.stdout
        assert remote_unix.get(api_path("instances", name)).metadata["config"]["boot.autostart"] == "false"
    assert "done: 2 created" in log_file.read_text()
    # A running replica is left alone, and the run says so with its exit status.
    remote_unix.put(api_path("instances", names[1], "state"), {"action": "start", "timeout": 30})
    second = run_command(tmp_path, settings)
    assert second.returncode == 1
    assert "%s: refreshed" % names[0] in second.stdout
    assert "FAILED %s" % names[1] in second.stdout and "never overwritten" in second.stdout
    assert remote_unix.get(api_path("instances", names[1])).metadata["status"] == "Running"


def test_check_changes_nothing(tmp_path, lab, remote_https, remote_unix, instance):
    name = instance("cmdchk")
    result = run_command(tmp_path, settings_for(lab, remote_https, [name], tmp_path / "log"), "--check")
    assert result.returncode == 0 and "(check)" in result.stdout
    assert remote_unix.exists(api_path("instances", name)) is None


def test_bad_settings_exit_2(tmp_path, lab, remote_https):
    settings = settings_for(lab, dict(remote_https, url="http://127.0.0.1:8444"), ["x"], tmp_path / "log")
    result = run_command(tmp_path, settings)
    assert result.returncode == 2 and "remote.url must be https" in result.stdout


def test_target_down_exits_2_naming_it(tmp_path, lab, remote_https, instance):
    name = instance("cmddown")
    settings = settings_for(lab, dict(remote_https, url="https://127.0.0.1:9"), [name], tmp_path / "log")
    result = run_command(tmp_path, settings)
    assert result.returncode == 2 and "https://127.0.0.1:9" in result.stdout


def test_lock_held_exits_3_and_does_nothing(tmp_path, lab, remote_https, remote_unix, instance):
    name = instance("cmdlock")
    settings = dict(settings_for(lab, remote_https, [name], tmp_path / "log"), lock_wait=1,
                    metrics_dir=str(tmp_path))
    with open(settings["lock_path"], "w") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        started = time.monotonic()
        result = run_command(tmp_path, settings)
        waited = time.monotonic() - started
    assert result.returncode == 3, result.stdout + result.stderr
    assert "already running" in result.stdout and "exit 3" in result.stdout
    assert waited >= 1
    assert remote_unix.exists(api_path("instances", name)) is None
    run = metrics(tmp_path)["runs"][remote_https["url"]]
    assert run["run_lock_busy"] == 1 and run["lock_busy_total"] == 1
    assert metrics(tmp_path)["instances"] == {}


def test_two_runs_at_once_one_exits_3(tmp_path, lab, remote_https, remote_unix, instance):
    names = [instance("cmdtwo"), instance("cmdtwo"), instance("cmdtwo")]
    settings = dict(settings_for(lab, remote_https, names, tmp_path / "log"), metrics_dir=str(tmp_path))
    line = command_line(tmp_path, settings)
    runs = [subprocess.Popen(line, env=command_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _run in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 3], outputs
    busy = outputs[[run.returncode for run in runs].index(3)]
    assert "already running" in busy and "created" not in busy
    # The run that had the lock did all of it; the metrics hold its results and the other's attempt.
    for name in names:
        replica = remote_unix.get(api_path("instances", name)).metadata
        assert replica["config"]["boot.autostart"] == "false" and replica["status"] == "Stopped"
    state = metrics(tmp_path)
    assert all(state["instances"][("default", n, remote_https["url"])]["last_result"] == 0 for n in names)
    assert state["runs"][remote_https["url"]]["lock_busy_total"] == 1


def test_metrics_after_each_run_and_status(tmp_path, lab, remote_https, remote_unix, instance):
    names = [instance("cmdmet"), instance("cmdmet")]
    target = remote_https["url"]
    settings = dict(settings_for(lab, remote_https, names, tmp_path / "log"), metrics_dir=str(tmp_path),
                    max_age=3600)
    # Before any run: nothing to tell from, which is not "all fine".
    assert run_command(tmp_path, settings, "--status").returncode == 2
    assert run_command(tmp_path, dict(settings, metrics_dir=""), "--status").returncode == 2
    started = time.time()
    first = run_command(tmp_path, settings)
    assert first.returncode == 0, first.stdout + first.stderr
    text = (tmp_path / replica_metrics.FILE_NAME).read_text()
    assert 'lxdops_replica_last_result{instance="%s",project="default",target="%s"} 0' % (names[0], target) in text
    assert 'lxdops_replica_run_failed_instances{target="%s"} 0' % target in text
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    success = metrics(tmp_path)["instances"][("default", names[0], target)]["last_success_timestamp_seconds"]
    assert started - 1 <= success <= time.time()

    fresh = run_command(tmp_path, settings, "--status")
    assert fresh.returncode == 0, fresh.stdout
    assert "%s: ok: age" % names[0] in fresh.stdout and "replica Stopped" in fresh.stdout
    time.sleep(2.2)
    old = run_command(tmp_path, settings, "--status", "--max-age", "1")
    assert old.returncode == 1, old.stdout
    assert "%s: STALE: age" % names[1] in old.stdout and "older than 1 s" in old.stdout

    # A run that cannot copy one (its replica runs) and another it cannot find: success times are kept.
    remote_unix.put(api_path("instances", names[1], "state"), {"action": "start", "timeout": 30})
    missing = lab["prefix"] + "cmdmet-none"
    second = run_command(tmp_path, dict(settings, instances=names + [missing]))
    assert second.returncode == 1
    state = metrics(tmp_path)
    assert state["instances"][("default", names[1], target)] == {
        "last_success_timestamp_seconds": success, "last_duration_seconds": 0, "last_result": 2}
    assert state["instances"][("default", missing, target)]["last_result"] == 1
    assert state["instances"][("default", missing, target)]["last_success_timestamp_seconds"] == 0
    assert state["instances"][("default", names[0], target)]["last_success_timestamp_seconds"] > success
    run = state["runs"][target]
    assert run["run_failed_instances"] == 1 and run["run_skipped_instances"] == 1 and run["run_exit_code"] == 1

    # A run that cannot reach the snapshot server (nothing listens there): every instance the file knows for that
    # target counts as failed, and no success time is lost. The file first gets entries for that target.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        down = "https://127.0.0.1:%d" % closed.getsockname()[1]
        before = metrics(tmp_path)
        replica_metrics.write(str(tmp_path), {"runs": {}, "instances": dict(
            ((project, name, down), series) for (project, name, _target), series in before["instances"].items())})
        unreachable = dict(settings, remote=dict(remote_https, url=down, timeout=5))
        third = run_command(tmp_path, unreachable)
        status = run_command(tmp_path, unreachable, "--status")
    assert third.returncode == 2 and "did not start" in third.stdout
    after = metrics(tmp_path)["instances"][("default", names[0], down)]
    assert after["last_result"] == 1
    assert after["last_success_timestamp_seconds"] == \
        before["instances"][("default", names[0], target)]["last_success_timestamp_seconds"]
    assert status.returncode == 2 and "cannot tell" in status.stdout


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def node_exporter():
    """Debian's prometheus-node-exporter, installed when missing (apt), started by the test on a local port."""
    binary = shutil.which("prometheus-node-exporter")
    if binary is None:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "prometheus-node-exporter"],
                       env=env, check=True, capture_output=True)
        binary = shutil.which("prometheus-node-exporter")
    started = []

    def start(folder):
        port = free_port()
        process = subprocess.Popen([binary, "--collector.disable-defaults", "--collector.textfile",
                                    "--collector.textfile.directory=%s" % folder,
                                    "--web.listen-address=127.0.0.1:%d" % port],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(process)
        url = "http://127.0.0.1:%d/metrics" % port
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    return response.read().decode()
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("node_exporter did not answer on %s: %s" % (url, process.stderr.read()))
                time.sleep(0.2)
    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_node_exporter_serves_the_series(tmp_path, lab, remote_https, instance, node_exporter):
    name = instance("cmdprom")
    folder = tmp_path / "textfile"
    folder.mkdir()
    result = run_command(tmp_path, dict(settings_for(lab, remote_https, [name], tmp_path / "log"),
                                        metrics_dir=str(folder)))
    assert result.returncode == 0, result.stdout + result.stderr
    scraped = node_exporter(str(folder))
    labels = 'instance="%s",project="default",target="%s"' % (name, remote_https["url"])
    for series in ("last_success_timestamp_seconds", "last_duration_seconds"):
        assert "lxdops_replica_%s{%s}" % (series, labels) in scraped
    assert "lxdops_replica_last_result{%s} 0" % labels in scraped
    for series in ("run_failed_instances", "run_skipped_instances", "run_end_timestamp_seconds", "run_lock_busy"):
        assert 'lxdops_replica_%s{target="%s"} ' % (series, remote_https["url"]) in scraped
    # node_exporter read the file without complaint.
    assert 'node_textfile_scrape_error 0' in scraped


ROLE_PLAY = """
- name: The snapshot_server role's checks and command, installed into a temporary folder
  hosts: localhost
  gather_facts: true
  gather_subset: [min]
  tasks:
    - name: Checks and command
      ansible.builtin.include_role:
        name: lxdops.server.snapshot_server
        tasks_from: "{{ test_tasks }}"
      loop: [schedule_checks.yml, command.yml]
      loop_control:
        loop_var: test_tasks
    - name: The timer as it would be written
      ansible.builtin.template:
        src: "{{ collection_root }}/roles/snapshot_server/templates/lxdops-replicate.timer.j2"
        dest: "{{ folder }}/lxdops-replicate.timer"
        mode: "0644"
      vars:
        snapshot_server__daemon: "{{ lxdops_daemon | lxdops.server.daemon_layout(ansible_facts) }}"
"""


def role_playbook(tmp_path, extra_vars, *options):
    path = tmp_path / "play.yml"
    path.write_text(ROLE_PLAY)
    extra = tmp_path / "extra-vars.json"
    extra.write_text(json.dumps(extra_vars))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable, "-e", "@%s" % extra,
                           str(path)] + list(options), env=env, capture_output=True, text=True, timeout=600,
                          check=False)


def test_role_installs_a_command_that_runs(tmp_path, lab, remote_https, remote_unix, instance):
    name = instance("cmdrole")
    with open(remote_https["server_cert"]) as handle:
        peer_cert = handle.read()
    extra = {
        "folder": str(tmp_path), "collection_root": ROOT,
        "snapshot_server_lib_dir": str(tmp_path / "lib"), "snapshot_server_config_dir": str(tmp_path / "etc"),
        "snapshot_server_command": str(tmp_path / "lxdops-replicate"),
        "snapshot_server_log_file": str(tmp_path / "replicate.log"), "snapshot_server_schedule": "none",
        "snapshot_server_host": "snapshot", "snapshot_server_url": remote_https["url"],
        "lxdops_daemon": lab["kind"], "lxdops_url": lab["daemons"]["primary"]["url"],
        "snapshot_server_source_address": lab["daemons"]["primary"]["https_url"][len("https://"):],
        "snapshot_server_instances": [name],
        "snapshot_server__peer_cert": peer_cert,
        "snapshot_server__remote": {"url": remote_https["url"], "client_cert": remote_https["client_cert"],
                                    "client_key": remote_https["client_key"]},
        "snapshot_server_lock_path": str(tmp_path / "replicate.lock"), "snapshot_server_lock_wait": 5,
        "snapshot_server_metrics_dir": str(tmp_path / "metrics"), "snapshot_server_max_age": 600,
        "snapshot_server_replicate_on_calendar": "*:0/15",
        # Other test sessions create and delete projects on the lab meanwhile.
        "snapshot_server_projects": ["default"],
    }
    # Bad schedules fail before anything is written, naming the variable and the value.
    bad = role_playbook(tmp_path, dict(extra, snapshot_server_replicate_on_calendar="every quarter",
                                       snapshot_server_schedule="systemd"))
    assert bad.returncode != 0 and "snapshot_server_replicate_on_calendar" in bad.stdout
    assert '"every quarter" is not a calendar expression' in bad.stdout
    bad = role_playbook(tmp_path, dict(extra, snapshot_server_replicate_cron="*/15 * * *"))
    assert bad.returncode != 0 and 'snapshot_server_replicate_cron five cron fields' in bad.stdout
    assert not (tmp_path / "lib").exists()

    first = role_playbook(tmp_path, extra)
    assert first.returncode == 0, first.stdout + first.stderr
    again = role_playbook(tmp_path, extra)
    assert again.returncode == 0 and re.search(r"changed=0\s", again.stdout), again.stdout
    timer = (tmp_path / "lxdops-replicate.timer").read_text()
    assert "OnCalendar=*:0/15\n" in timer and ("%s instances" % ("Incus" if lab["kind"] == "incus" else "LXD")) in timer
    settings = json.loads((tmp_path / "etc" / "replicate.json").read_text())
    assert settings["lock_wait"] == 5 and settings["max_age"] == 600
    assert settings["metrics_dir"] == str(tmp_path / "metrics") and settings["projects"] == ["default"]

    # The installed files alone run it: nothing is missing from the derived list.
    env = dict((k, v) for k, v in os.environ.items() if k != "PYTHONPATH")
    command = [str(tmp_path / "lxdops-replicate"), "--config", str(tmp_path / "etc" / "replicate.json")]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "%s: created" % name in run.stdout
    assert remote_unix.get(api_path("instances", name)).metadata["config"]["boot.autostart"] == "false"
    status = subprocess.run(command + ["--status"], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert status.returncode == 0 and "%s: ok: age" % name in status.stdout, status.stdout


def test_projects_in_the_log_metrics_and_status(tmp_path, lab, remote_https, remote_unix, instance, unique):
    project = unique("cprj")
    for daemon in ("primary", "remote"):
        LXDClient(url=lab["daemons"][daemon]["url"]).post("/1.0/projects", {
            "name": project, "config": {"features.images": "false", "features.profiles": "false"}})
    name = instance("cmdprj", project=project)
    settings = dict(settings_for(lab, remote_https, ["all"], tmp_path / "log"), projects=[project],
                    metrics_dir=str(tmp_path), max_age=600)
    result = run_command(tmp_path, settings)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "%s/%s: created" % (project, name) in result.stdout
    assert remote_unix.exists(api_path("instances", name), project=project)["config"]["boot.autostart"] == "false"
    state = metrics(tmp_path)
    assert list(state["instances"]) == [(project, name, remote_https["url"])]
    status = run_command(tmp_path, settings, "--status")
    assert status.returncode == 0 and "%s/%s: ok: age" % (project, name) in status.stdout, status.stdout
    # The replica gone from the snapshot server: not fine, whatever the metrics say.
    remote_unix.delete(api_path("instances", name), project=project)
    status = run_command(tmp_path, settings, "--status")
    assert status.returncode == 1 and "%s/%s: STALE" % (project, name) in status.stdout
    assert "no replica on the snapshot server" in status.stdout
