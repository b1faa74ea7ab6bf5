# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lxd_instances role through ansible-playbook against the lab's primary daemon (LXD, then Incus)."""

from __future__ import annotations

import datetime
import re

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, api_path
from ansible_collections.lxdops.server.plugins.module_utils.daemon import layout

from test_playbooks import playbook

# LXD's own template: it must reach LXD as written, never rendered by Ansible.
LXD_TEMPLATE = "{{ creation_date|date:'2006-01-02_15-04-05' }}"

PLAY = """
- name: Declared instances on the lab's primary daemon
  hosts: localhost
  gather_facts: false
  vars:
    lxd_instances_url: "{{ lab_url }}"
    lxd_instances_list:
      - name: "{{ web }}"
        source:
          alias: "{{ image }}"
        limits:
          cpu: 1
          memory: "{{ web_memory }}"
          processes: 100
      - name: "{{ db }}"
        source:
          alias: "{{ image }}"
        state: stopped
        snapshots: false
      - name: "{{ app }}"
        source:
          alias: "{{ image }}"
        description: nightly snapshots kept two weeks
        config:
          boot.autostart: false
          user.role: app
        limits:
          disk_read: "{{ app_disk_read }}"
        snapshots:
          schedule: "0 3 * * *"
          pattern: !unsafe "nightly-{{ creation_date|date:'2006-01-02' }}"
          expiry: 2w
      - name: "{{ job }}"
        source:
          alias: "{{ image }}"
        state: present
        snapshots:
          schedule: ""
          expiry: null
  roles:
    - lxdops.server.lxd_instances
"""

# The list comes whole from the extra vars: for input that must be refused.
PLAY_FROM_EXTRA_VARS = """
- name: Instances given on the command line
  hosts: localhost
  gather_facts: false
  roles:
    - lxdops.server.lxd_instances
"""


# No url: the role reaches the host's own daemon, named by lxdops_daemon alone.
PLAY_FROM_DAEMON_SETTING = """
- name: Instances on this host's daemon
  hosts: localhost
  gather_facts: false
  vars:
    lxd_instances_list:
      - name: "{{ name }}"
        source:
          alias: "{{ image }}"
        state: stopped
  roles:
    - lxdops.server.lxd_instances
"""


def get_instance(client, name):
    return client.get(api_path("instances", name)).metadata


def exists(client, name):
    return client.exists(api_path("instances", name)) is not None


def timestamp(text):
    # LXD gives nanoseconds; Python 3.11 reads at most microseconds.
    text = re.sub(r"(\.\d{6})\d*", r"\1", text.replace("Z", "+00:00"))
    return datetime.datetime.fromisoformat(text)


def test_converge_check_idempotent(tmp_path, lab, primary, unique, run_module):
    web, db, app, job = unique("web"), unique("db"), unique("app"), unique("job")
    extra = {"lab_url": lab["daemons"]["primary"]["url"], "image": lab["images"]["busybox"]["alias"],
             "web": web, "db": db, "app": app, "job": job, "web_memory": "64MB", "app_disk_read": "30MB"}

    # Check mode on an empty server: changes reported, nothing created.
    proc, recap = playbook(tmp_path, PLAY, extra, "--check", "--diff")
    assert recap["failed"] == 0 and recap["changed"] == 1, proc.stdout
    assert not any(exists(primary, name) for name in (web, db, app, job))

    # One task for all the instances, limits and snapshot policies included.
    proc, recap = playbook(tmp_path, PLAY, extra)
    assert recap["failed"] == 0 and recap["changed"] == 1, proc.stdout
    # The argument spec, the checks, the facts (skipped here), the volumes (none here) before and after, and the
    # instances: the same for any number of them.
    assert proc.stdout.count("TASK [") == 6, proc.stdout

    current = get_instance(primary, web)
    config = current["config"]
    assert current["status"] == "Running"
    assert (config["limits.cpu"], config["limits.memory"], config["limits.processes"]) == ("1", "64MB", "100")
    assert config["snapshots.schedule"] == "50 20 * * *"
    assert config["snapshots.pattern"] == web + "-" + LXD_TEMPLATE
    assert config["snapshots.expiry"] == "1d"

    current = get_instance(primary, db)
    assert current["status"] == "Stopped"
    for key in ("snapshots.schedule", "snapshots.pattern", "snapshots.expiry"):
        assert key not in current["expanded_config"], key

    current = get_instance(primary, app)
    config = current["config"]
    assert current["status"] == "Running" and current["description"] == "nightly snapshots kept two weeks"
    assert (config["boot.autostart"], config["user.role"]) == ("false", "app")
    assert config["snapshots.schedule"] == "0 3 * * *"
    assert config["snapshots.pattern"] == "nightly-{{ creation_date|date:'2006-01-02' }}"
    assert config["snapshots.expiry"] == "2w"
    # The root disk comes from the default profile: the limit overrode it in the instance.
    assert current["devices"]["root"]["limits.read"] == "30MB"
    assert current["devices"]["root"]["pool"] == current["expanded_devices"]["root"]["pool"]

    # An empty schedule and a null expiry remove just those keys; the default pattern stays.
    current = get_instance(primary, job)
    assert current["status"] == "Stopped"
    assert "snapshots.schedule" not in current["config"] and "snapshots.expiry" not in current["config"]
    assert current["config"]["snapshots.pattern"] == job + "-" + LXD_TEMPLATE

    # LXD renders the pattern itself: a snapshot without a name is <instance>-<date_time>, kept one day.
    result = run_module("lxd_snapshot", dict(url=lab["daemons"]["primary"]["url"], instance=web))
    assert result["changed"], result.get("msg")
    [snapshot] = result["snapshots"]
    assert re.match(r"^%s-\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d$" % re.escape(web), snapshot["name"]), snapshot["name"]
    kept = timestamp(snapshot["expires_at"]) - timestamp(snapshot["created_at"])
    assert abs(kept.total_seconds() - 86400) < 60, kept

    proc, recap = playbook(tmp_path, PLAY, extra)
    assert recap["failed"] == 0 and recap["changed"] == 0, proc.stdout

    # Changed limits in check mode: reported with their diff, not applied.
    changed = dict(extra, web_memory="128MB", app_disk_read="40MB")
    proc, recap = playbook(tmp_path, PLAY, changed, "--check", "--diff")
    assert recap["failed"] == 0 and recap["changed"] == 1, proc.stdout
    assert re.search(r'^\+ +"limits.memory": "128MB"', proc.stdout, re.M) and '"limits.read": "40MB"' in proc.stdout
    assert get_instance(primary, web)["config"]["limits.memory"] == "64MB"
    assert get_instance(primary, app)["devices"]["root"]["limits.read"] == "30MB"

    proc, recap = playbook(tmp_path, PLAY, changed)
    assert recap["failed"] == 0 and recap["changed"] == 1, proc.stdout
    assert get_instance(primary, web)["config"]["limits.memory"] == "128MB"
    assert get_instance(primary, app)["devices"]["root"]["limits.read"] == "40MB"
    assert get_instance(primary, web)["status"] == "Running"


PLAY_WITH_VOLUME = """
- name: A database instance with its data on a custom volume
  hosts: localhost
  gather_facts: false
  vars:
    lxd_instances_url: "{{ lab_url }}"
    lxd_instances_volumes:
      - name: "{{ volume }}"
        pool: default
        config:
          snapshots.expiry: 2w
        description: "{{ volume_description }}"
    lxd_instances_list:
      - name: "{{ db }}"
        source:
          alias: "{{ image }}"
        devices:
          data:
            type: disk
            pool: default
            source: "{{ volume }}"
            path: /srv/data
  roles:
    - lxdops.server.lxd_instances
"""


def test_volumes_come_before_the_instances_that_use_them(tmp_path, lab, primary, unique, lxc_exec):
    db, volume = unique("db"), unique("data")
    extra = {"lab_url": lab["daemons"]["primary"]["url"], "image": lab["images"]["busybox"]["alias"],
             "db": db, "volume": volume, "volume_description": "the database's data"}
    path = api_path("storage-pools", "default", "volumes", "custom", volume)

    proc, recap = playbook(tmp_path, PLAY_WITH_VOLUME, extra, "--check", "--diff")
    assert recap["failed"] == 0 and recap["changed"] == 2, proc.stdout
    assert primary.exists(path) is None and not exists(primary, db)

    proc, recap = playbook(tmp_path, PLAY_WITH_VOLUME, extra)
    assert recap["failed"] == 0 and recap["changed"] == 2, proc.stdout
    assert primary.get(path).metadata["config"]["snapshots.expiry"] == "2w"
    assert get_instance(primary, db)["devices"]["data"]["source"] == volume
    rc, out = lxc_exec(db, "echo kept > /srv/data/file && cat /srv/data/file")
    assert rc == 0 and out.strip() == "kept", out

    proc, recap = playbook(tmp_path, PLAY_WITH_VOLUME, extra)
    assert recap["failed"] == 0 and recap["changed"] == 0, proc.stdout

    proc, recap = playbook(tmp_path, PLAY_WITH_VOLUME, dict(extra, volume_description="changed"))
    assert recap["failed"] == 0 and recap["changed"] == 1, proc.stdout
    assert primary.get(path).metadata["description"] == "changed"


def refused(tmp_path, lab, entries):
    extra = {"lxd_instances_url": lab["daemons"]["primary"]["url"], "lxd_instances_list": entries}
    proc, recap = playbook(tmp_path, PLAY_FROM_EXTRA_VARS, extra)
    assert recap["failed"] == 1 and recap["changed"] == 0, proc.stdout
    return proc.stdout


def test_bad_input_fails_before_anything_is_created(tmp_path, lab, primary, unique):
    image = {"alias": lab["images"]["busybox"]["alias"]}
    good = {"name": unique("good"), "source": image}

    # Refused by the role's argument spec or its own checks: before any task, for the whole list.
    output = refused(tmp_path, lab, [good, {"source": image}])
    assert "missing required arguments: name" in output and "lxd_instances_list" in output
    output = refused(tmp_path, lab, [good, {"name": unique("bad"), "limits": {"processes": "many"}}])
    assert "processes" in output and "many" in output
    output = refused(tmp_path, lab, [good, {"name": unique("bad"), "limits": {"memroy": "1GB"}}])
    assert "memroy" in output
    bad = unique("bad")
    output = refused(tmp_path, lab, [good, {"name": bad, "snapshots": {"schedul": "@daily"}}])
    assert "snapshots must be true, false or a mapping with the keys schedule, pattern and expiry" in output
    assert bad in output
    output = refused(tmp_path, lab, [good, dict(good)])
    assert "given more than once: " + good["name"] in output
    assert not exists(primary, good["name"])

    # Refused by the module's validation of every entry, before any instance is created.
    bad = unique("bad")
    output = refused(tmp_path, lab, [good, {"name": bad, "source": image, "limits": {"memory": "lots"}}])
    assert "limits.memory" in output and "'lots' is not accepted" in output
    bad_schedule = unique("bad")
    output = refused(tmp_path, lab, [{"name": bad_schedule, "source": image, "snapshots": {"schedule": "daily at 8"}}])
    assert "snapshots.schedule" in output and "'daily at 8' is not accepted" in output
    assert not exists(primary, bad) and not exists(primary, bad_schedule) and not exists(primary, good["name"])


def test_url_from_the_daemon_setting(tmp_path, lab, primary, unique):
    # The lab's primary daemons live where the daemon table puts each kind on Debian.
    assert layout(lab["kind"], "Debian")["url"] == lab["daemons"]["primary"]["url"]
    name = unique("own")
    extra = {"lxdops_daemon": lab["kind"], "name": name, "image": lab["images"]["busybox"]["alias"]}

    proc, recap = playbook(tmp_path, PLAY_FROM_DAEMON_SETTING, extra)
    assert recap["failed"] == 0 and recap["changed"] == 1, proc.stdout
    assert get_instance(primary, name)["status"] == "Stopped"
    # Only there: not on the other kind's primary daemon.
    other = [daemon for daemon in lab["all_daemons"].values()
             if daemon["kind"] != lab["kind"] and daemon["url"] == layout(daemon["kind"], "Debian")["url"]]
    assert other and not any(exists(LXDClient(url=daemon["url"]), name) for daemon in other)

    proc, recap = playbook(tmp_path, PLAY_FROM_DAEMON_SETTING, extra)
    assert recap["failed"] == 0 and recap["changed"] == 0, proc.stdout

    # A daemon the collection does not drive is refused before anything is done.
    proc, recap = playbook(tmp_path, PLAY_FROM_DAEMON_SETTING, dict(extra, name=unique("own"), lxdops_daemon="lxc"))
    assert recap["failed"] == 1 and recap["changed"] == 0, proc.stdout
    assert "lxdops_daemon" in proc.stdout and "lxc" in proc.stdout and "incus" in proc.stdout
