# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lxdops.server.lxd connection plugin on the lab's Debian system container, on each kind's daemons (LXD and
Incus, over the socket and https), beside community.general's own connection for the daemon (lxd, incus)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time

import pytest
import yaml

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, api_path

from conftest import ROOT, TESTS

sys.path.insert(0, os.path.join(TESTS, "lab"))
from peers import community_general  # noqa: E402  pylint: disable=wrong-import-position

PLAY = """
- name: Exercise the connection
  hosts: "{{ target }}"
  gather_facts: true
  tasks:
    - name: Facts came through
      ansible.builtin.assert:
        that:
          - ansible_distribution == 'Debian'
          - ansible_distribution_release == 'bookworm'
    - name: Small file
      ansible.builtin.copy:
        content: "hello from {{ label }}\\n"
        dest: /root/hello-{{ label }}.txt
        mode: "0640"
    - name: Large file
      ansible.builtin.copy:
        src: "{{ big_file }}"
        dest: /root/big-{{ label }}.bin
        mode: "0600"
    - name: Checksum in the instance
      ansible.builtin.stat:
        path: /root/big-{{ label }}.bin
        checksum_algorithm: sha256
      register: big
    - name: Same bytes
      ansible.builtin.assert:
        that: big.stat.checksum == big_sha256
    - name: Fetch it back
      ansible.builtin.fetch:
        src: /root/big-{{ label }}.bin
        dest: "{{ fetch_dir }}/big-{{ label }}.bin"
        flat: true
    - name: A failing command
      ansible.builtin.command: sh -c "echo out; echo to-stderr >&2; exit 3"
      register: failing
      failed_when: false
      changed_when: false
    - name: Exit code and stderr pass through
      ansible.builtin.assert:
        that:
          - failing.rc == 3
          - failing.stdout == 'out'
          - failing.stderr == 'to-stderr'
    - name: An unprivileged user
      ansible.builtin.user:
        name: lxdopsuser
    - name: Run as that user
      ansible.builtin.command: id -un
      become: true
      become_user: lxdopsuser
      register: who
      changed_when: false
    - name: Become worked
      ansible.builtin.assert:
        that: who.stdout == 'lxdopsuser'
"""


def run_play(tmp_path, inventory_config, extra, env=None, collections=None, base_env=None):
    folder = tmp_path / ("run-%d" % len(list(tmp_path.glob("run-*"))))
    folder.mkdir()
    (folder / "test.lxd.yml").write_text(yaml.safe_dump(dict({"plugin": "lxdops.server.lxd"}, **inventory_config)))
    (folder / "play.yml").write_text(PLAY)
    (folder / "vars.yml").write_text(yaml.safe_dump(extra))
    paths = ":".join([os.path.join(ROOT, ".build", "collections")] + (collections or []))
    environ = dict(base_env or os.environ, ANSIBLE_COLLECTIONS_PATH=paths,
                   ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3",
                   ANSIBLE_LOCAL_TEMP=str(folder / "tmp"), ANSIBLE_HOST_KEY_CHECKING="0")
    environ.update(env or {})
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                           "-i", str(folder / "test.lxd.yml"), "-e", "@%s" % (folder / "vars.yml"),
                           str(folder / "play.yml")], env=environ, capture_output=True, text=True, timeout=900,
                          check=False)
    recap = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    return proc, recap


@pytest.fixture(scope="module")
def system_container(lab, lab_control_module):
    """A running Debian bookworm system container (python3, sudo) on the primary daemon."""
    client = LXDClient(url=lab["daemons"]["primary"]["url"])
    alias = lab["images"]["bookworm"]["alias"]
    if client.exists(api_path("images", "aliases", alias)) is None:
        # The lab imports the system-container image into LXD's primary only; its cached tarball serves Incus too.
        lab_control_module.import_image(lab["pairs"][lab["kind"]]["primary"], lab_control_module.build_bookworm(),
                                        alias)
    name = lab["prefix"] + "conn"
    client.post("/1.0/instances", {"name": name, "source": {"type": "image",
                                                            "alias": lab["images"]["bookworm"]["alias"]}})
    client.put(api_path("instances", name, "state"), {"action": "start", "timeout": 60})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        code, out, _err = client.execute(name, ["systemctl", "is-system-running"])
        if out.strip() in (b"running", b"degraded"):
            break
        time.sleep(1)
    return name


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("payload") / "big.bin"
    with open(path, "wb") as handle:
        for _block in range(50):
            handle.write(os.urandom(1 << 20))
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    return str(path), digest


def extra_vars(target, label, big_file, fetch_dir):
    return {"target": target, "label": label, "big_file": big_file[0], "big_sha256": big_file[1],
            "fetch_dir": str(fetch_dir)}


@pytest.mark.parametrize("pipelining", ["1", "0"])
def test_play_over_the_api(tmp_path, lab, system_container, big_file, pipelining, daemon_env):
    config = {"name_regex": "^%s$" % system_container}
    proc, recap = run_play(tmp_path, config, extra_vars(system_container, "api" + pipelining, big_file, tmp_path),
                           env={"ANSIBLE_PIPELINING": pipelining}, base_env=daemon_env)
    assert recap and recap.group(3) == "0" and recap.group(4) == "0", proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(tmp_path / ("big-api%s.bin" % pipelining), "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == big_file[1]


def test_same_play_over_community_general(tmp_path, lab, system_container, big_file, daemon_env):
    """The peer connection for the daemon (lxc or incus exec / file) runs the same play, for comparison."""
    peer = {"lxd": "community.general.lxd", "incus": "community.general.incus"}[lab["kind"]]
    config = {"name_regex": "^%s$" % system_container, "connection": peer,
              "compose": {"ansible_%s_host" % lab["kind"]: "lxd_name"}}
    proc, recap = run_play(tmp_path, config, extra_vars(system_container, "peer", big_file, tmp_path),
                           collections=[community_general()], base_env=daemon_env)
    assert recap and recap.group(3) == "0" and recap.group(4) == "0", proc.stdout[-4000:] + proc.stderr[-2000:]


def test_stopped_instance_is_reported(tmp_path, lab, busybox, run_module, unique, big_file, daemon_env):
    name = unique("stopped")
    run_module("lxd_instance", dict(name=name, source=busybox, state="stopped"))
    proc, recap = run_play(tmp_path, {"name_regex": "^%s$" % name}, extra_vars(name, "x", big_file, tmp_path),
                           base_env=daemon_env)
    assert recap and recap.group(3) == "1", proc.stdout
    assert "is Stopped" in proc.stdout and "start it" in proc.stdout


def test_raw_over_https(tmp_path, lab, remote_https, run_module, busybox, unique):
    """The second daemon over https: the connection needs only the inventory's variables (no CLI remote)."""
    name = unique("https")
    run_module("lxd_instance", dict(remote_https, name=name, source=busybox))
    remote = lab["daemons"]["remote"]
    folder = tmp_path / "https"
    folder.mkdir()
    (folder / "test.lxd.yml").write_text(yaml.safe_dump({
        "plugin": "lxdops.server.lxd", "name_regex": "^%s$" % name,
        "servers": [{"name": "remote", "url": remote["https_url"], "server_cert": remote["server_cert"],
                     "client_cert": lab["client_cert"], "client_key": lab["client_key"]}]}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(folder / "tmp"))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "-i", str(folder / "test.lxd.yml"),
                           name, "-m", "ansible.builtin.raw", "-a", "echo over-https; uname -s; exit 0"],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0 and "over-https" in proc.stdout and "Linux" in proc.stdout, proc.stdout + proc.stderr


DELEGATION_PLAY = """
- name: Delegation reaches the delegated instance
  hosts: "{{ first }}"
  gather_facts: false
  tasks:
    - name: Here
      ansible.builtin.raw: hostname
      register: here
      changed_when: false
    - name: There
      ansible.builtin.raw: hostname
      delegate_to: "{{ second }}"
      register: there
      changed_when: false
    - name: Each ran where it was sent
      ansible.builtin.assert:
        that:
          - here.stdout | trim == first
          - there.stdout | trim == second
"""


@pytest.mark.parametrize("inventory", ["plugin", "static"])
def test_delegate_to_another_instance(tmp_path, lab, run_module, busybox, unique, inventory, daemon_env):
    """delegate_to runs in the delegated instance, with hosts from the inventory plugin or written by hand."""
    names = [unique("dela"), unique("delb")]
    for name in names:
        run_module("lxd_instance", dict(name=name, source=busybox))
    if inventory == "plugin":
        (tmp_path / "hosts.lxd.yml").write_text(yaml.safe_dump({
            "plugin": "lxdops.server.lxd", "name_regex": "^(%s)$" % "|".join(names)}))
        source = tmp_path / "hosts.lxd.yml"
    else:
        (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": dict(
            (name, {"ansible_connection": "lxdops.server.lxd"}) for name in names)}}))
        source = tmp_path / "hosts.yml"
    (tmp_path / "play.yml").write_text(DELEGATION_PLAY)
    # No url anywhere: the plugins find the kind's daemon as the modules do (here through LXD_DIR or INCUS_DIR).
    env = dict(daemon_env, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(source),
                           "-e", "first=%s second=%s" % tuple(names), str(tmp_path / "play.yml")],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_command_past_the_exec_timeout_fails(tmp_path, lab, run_module, busybox, unique, daemon_env):
    """ansible_lxd_exec_timeout bounds a command: one that runs longer fails its task with a clear message, in time.

    Without it a command may run longer than Ansible's connection timeout (10 s, given to the plugin's timeout).
    """
    name = unique("ctimeout")
    run_module("lxd_instance", dict(name=name, source=busybox))
    hostvars = {"ansible_connection": "lxdops.server.lxd"}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {name: hostvars}}}))
    (tmp_path / "limited.yml").write_text(yaml.safe_dump({"all": {"hosts": {name: dict(
        hostvars, ansible_lxd_exec_timeout=3)}}}))
    env = dict(daemon_env, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))

    def raw(inventory, command):
        started = time.monotonic()
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "-i",
                               str(tmp_path / inventory), name, "-m", "ansible.builtin.raw", "-a", command],
                              env=env, capture_output=True, text=True, timeout=120, check=False)
        return proc, time.monotonic() - started

    proc, elapsed = raw("limited.yml", "sleep 30")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "did not end within 3 seconds" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    # A slow command fails its task; the host is not marked unreachable.
    assert "FAILED" in proc.stdout and "UNREACHABLE" not in proc.stdout, proc.stdout
    assert elapsed < 20, elapsed
    proc, _elapsed = raw("limited.yml", "sleep 1; echo in-time")
    assert proc.returncode == 0 and "in-time" in proc.stdout, proc.stdout + proc.stderr
    proc, elapsed = raw("hosts.yml", "sleep 12; echo past-the-connection-timeout")
    assert proc.returncode == 0 and "past-the-connection-timeout" in proc.stdout, proc.stdout + proc.stderr
    assert elapsed >= 12
