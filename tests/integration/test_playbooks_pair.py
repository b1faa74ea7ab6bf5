# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The snapshot and restore playbooks (lxdops.server.snapshot, lxdops.server.restore) on the lab's primary.

The other pair playbooks (site, replicate, failover, failback) run in the snapshot_server molecule scenario.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import yaml

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path

from conftest import ROOT


def run_playbook(tmp_path, lab, name, extra_vars):
    # The daemon from the host's lxdops_daemon alone: nothing in the environment points at it.
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"lxd_primary": {"hosts": {"lab-primary": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable, "lxdops_daemon": lab["kind"]}}}}))
    extra_file = tmp_path / ("extra-%s.yml" % name)
    extra_file.write_text(yaml.safe_dump(extra_vars))
    env = dict(((k, v) for k, v in os.environ.items() if k not in ("LXD_DIR", "LXD_URL", "INCUS_DIR", "INCUS_SOCKET")),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
                           "lxdops.server." + name, "-e", "@%s" % extra_file],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    recap = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert recap, proc.stdout + proc.stderr
    return proc, dict(zip(("ok", "changed", "unreachable", "failed"), map(int, recap.groups())))


def test_snapshot_before_an_upgrade_then_restore(tmp_path, lab, primary, instance):
    names = [instance("snappb"), instance("snappb")]
    extra = {"snapshot_instances": names, "snapshot_name": "pre-upgrade"}
    proc, recap = run_playbook(tmp_path, lab, "snapshot", extra)
    assert recap["failed"] == 0 and recap["changed"] == 1, proc.stdout
    for name in names:
        snapshot = primary.get(api_path("instances", name, "snapshots", "pre-upgrade")).metadata
        assert snapshot["expires_at"].startswith("20")
    # The upgrade goes wrong: a file appears that the restore must take away.
    primary.execute(names[0], ["sh", "-c", "echo broken > /root/upgrade"])
    restore = {"restore_instances": [names[0]], "restore_snapshot": "pre-upgrade"}
    proc, recap = run_playbook(tmp_path, lab, "restore", restore)
    assert recap["failed"] == 0 and recap["changed"] == 1, proc.stdout
    assert primary.get(api_path("instances", names[0])).metadata["status"] == "Running"
    code, _out, _err = primary.execute(names[0], ["test", "-e", "/root/upgrade"])
    assert code == 1
    # Taking the same snapshot again changes nothing.
    _proc, recap = run_playbook(tmp_path, lab, "snapshot", extra)
    assert recap["changed"] == 0


def test_default_name_is_one_for_all_instances(tmp_path, lab, primary, instance):
    names = [instance("snapdef"), instance("snapdef")]
    proc, recap = run_playbook(tmp_path, lab, "snapshot", {"snapshot_instances": names})
    assert recap["failed"] == 0, proc.stdout
    taken = []
    for name in names:
        snapshots = primary.get(api_path("instances", name, "snapshots"), params={"recursion": 1}).metadata
        taken.append([s["name"] for s in snapshots])
    assert taken[0] == taken[1] and taken[0][0].startswith("manual-")


def test_missing_names_are_refused(tmp_path, lab):
    proc, recap = run_playbook(tmp_path, lab, "restore", {"restore_instances": ["x"]})
    assert recap["failed"] == 1 and "restore_snapshot" in proc.stdout
    proc, recap = run_playbook(tmp_path, lab, "snapshot", {})
    assert recap["failed"] == 1 and "snapshot_instances" in proc.stdout
