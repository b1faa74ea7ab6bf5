# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops-replicate (the snapshot_server role's nightly command) between the lab's two daemons, for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path

from conftest import ROOT

# What the role's wrapper script runs.
ENTRY = ("import sys\nfrom ansible_collections.lxdops.server.plugins.module_utils.replicate_command import main\n"
         "sys.exit(main(sys.argv[1:]))\n")


def run_command(tmp_path, settings, *args):
    config = tmp_path / "replicate.json"
    config.write_text(json.dumps(settings))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, ".build", "collections"))
    return subprocess.run([sys.executable, "-c", ENTRY, "--config", str(config)] + list(args), env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def settings_for(lab, remote_https, names, log_file):
    return {"source": {"url": lab["daemons"]["primary"]["url"]}, "remote": remote_https, "instances": names,
            "target_config": {"boot.autostart": False}, "parallel": 2, "retries": 0, "log_file": str(log_file)}


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
