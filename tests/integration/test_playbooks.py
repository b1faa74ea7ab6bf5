# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The modules through ansible-playbook: check mode, diff, idempotence, module_defaults, no_log."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path

from conftest import ROOT

PLAY = """
- name: Converge on the lab
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/lxdops.server.lxd:
      url: "{{ lab_url }}"
  tasks:
    - name: Server key
      lxdops.server.lxd_server:
        config:
          user.lxdops-test-pb: "{{ tag }}"
    - name: Profile
      lxdops.server.lxd_profile:
        name: "{{ prefix }}pb-{{ tag }}"
        config:
          limits.cpu: 1
          snapshots.schedule: "50 20 * * *"
          snapshots.pattern: !unsafe "{{ creation_date|date:'2006-01-02_15-04-05' }}"
          snapshots.expiry: 1d
    - name: Instance
      lxdops.server.lxd_instance:
        name: "{{ prefix }}pb-{{ tag }}"
        source:
          alias: "{{ image }}"
        profiles: [default, "{{ prefix }}pb-{{ tag }}"]
        config:
          boot.autostart: false
          limits.memory: 128MB
"""


@pytest.fixture(autouse=True)
def both_daemons(pair_answering):
    """Every test here waits until the kind's two daemons answer (see conftest)."""


def playbook(tmp_path, text, extra_vars, *options):
    path = tmp_path / "play.yml"
    path.write_text(text)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory), str(path)]
    # From a file: values on the command line would be echoed at -vvvv.
    extra_file = tmp_path / "extra-vars.yml"
    extra_file.write_text(yaml.safe_dump(extra_vars))
    cmd += ["-e", "@%s" % extra_file]
    proc = subprocess.run(cmd + list(options), env=env, capture_output=True, text=True, timeout=600, check=False)
    recap = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert recap, proc.stdout + proc.stderr
    return proc, dict(zip(("ok", "changed", "unreachable", "failed"), map(int, recap.groups())))


def test_check_converge_idempotent_diff(tmp_path, lab, primary, unique):
    tag = unique("x")[len(lab["prefix"]):]
    extra = {"lab_url": lab["daemons"]["primary"]["url"], "prefix": lab["prefix"], "tag": tag,
             "image": lab["images"]["busybox"]["alias"]}
    name = lab["prefix"] + "pb-" + tag

    proc, recap = playbook(tmp_path, PLAY, extra, "--check", "--diff")
    assert recap["failed"] == 0 and recap["changed"] == 3, proc.stdout
    assert primary.exists(api_path("profiles", name)) is None
    assert primary.exists(api_path("instances", name)) is None

    proc, recap = playbook(tmp_path, PLAY, extra)
    assert recap["failed"] == 0 and recap["changed"] == 3, proc.stdout
    # The snapshot pattern reaches LXD as written: Jinja2 did not render it.
    pattern = primary.get(api_path("profiles", name)).metadata["config"]["snapshots.pattern"]
    assert pattern == "{{ creation_date|date:'2006-01-02_15-04-05' }}"
    assert primary.get(api_path("instances", name)).metadata["status"] == "Running"

    proc, recap = playbook(tmp_path, PLAY, extra)
    assert recap["failed"] == 0 and recap["changed"] == 0, proc.stdout

    proc, recap = playbook(tmp_path, PLAY, extra, "--check", "--diff")
    assert recap["failed"] == 0 and recap["changed"] == 0, proc.stdout


TRUST_PLAY = """
- name: Become trusted by token
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Profile on the remote server
      lxdops.server.lxd_profile:
        url: "{{ remote_url }}"
        client_cert: "{{ cert }}"
        client_key: "{{ key }}"
        server_cert: "{{ server_cert }}"
        trust_token: "{{ token }}"
        name: "{{ prefix }}trusted"
"""


def test_trust_token_never_appears_in_output(tmp_path, lab, remote_unix, new_cert, unique):
    token = remote_unix.issue_trust_token(unique("pbtoken"))
    extra = {"remote_url": lab["daemons"]["remote"]["https_url"], "cert": new_cert[0], "key": new_cert[1],
             "server_cert": lab["daemons"]["remote"]["server_cert"], "token": token, "prefix": lab["prefix"]}
    proc, recap = playbook(tmp_path, TRUST_PLAY, extra, "-vvvv", "--diff")
    assert recap["failed"] == 0 and recap["changed"] == 1, proc.stdout
    assert token not in proc.stdout and token not in proc.stderr
    proc, recap = playbook(tmp_path, TRUST_PLAY, extra)
    assert recap["changed"] == 0
