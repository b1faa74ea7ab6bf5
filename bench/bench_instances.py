# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Converge N instances with lxdops.server.lxd_instance and with community.general.lxd_container, same run.

For each: the creating run, then the idempotent run (repeated, median), timed around
ansible-playbook; plus the API requests one no-op lxd_instance call makes (client trace).
Results go to bench/results/instances.json and stdout. Not a test: nothing is asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "lab"))
from peers import community_general  # noqa: E402  pylint: disable=wrong-import-position
LAB = json.loads((ROOT / ".build" / "lab" / "lab.json").read_text())
COUNT = int(os.environ.get("LXDOPS_BENCH_INSTANCES", "20"))
REPEAT = int(os.environ.get("LXDOPS_BENCH_REPEAT", "3"))
IMAGE = LAB["images"]["busybox"]["alias"]
PREFIX = LAB["prefix"] + "bench-"

OURS = """
- name: lxdops.server.lxd_instance
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Instances
      lxdops.server.lxd_instance:
        name: "{{ prefix }}o{{ item }}"
        source:
          alias: "{{ image }}"
        config:
          limits.cpu: 1
          boot.autostart: false
      loop: "{{ range(count) | list }}"
"""

PEER = """
- name: community.general.lxd_container
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Instances
      community.general.lxd_container:
        name: "{{ prefix }}p{{ item }}"
        source:
          type: image
          alias: "{{ image }}"
        config:
          limits.cpu: "1"
          boot.autostart: "false"
        state: started
      loop: "{{ range(count) | list }}"
"""

CLEAN = """
- name: Clean up
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Delete
      lxdops.server.lxd_instance:
        name: "{{ prefix }}{{ item[0] }}{{ item[1] }}"
        state: absent
        force_stop: true
      loop: "{{ ['o', 'p'] | product(range(count)) | list }}"
"""


def run_playbook(workdir, text, extra_env=None):
    play = Path(workdir) / "play.yml"
    play.write_text(text)
    inventory = Path(workdir) / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    extra = Path(workdir) / "vars.yml"
    extra.write_text(yaml.safe_dump({"prefix": PREFIX, "image": IMAGE, "count": COUNT}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=":".join([str(ROOT / ".build" / "collections"),
                                                             community_general()]),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(Path(workdir) / "tmp"))
    env.update(extra_env or {})
    started = time.monotonic()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                           "-e", "@%s" % extra, str(play)], env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit("playbook failed:\n" + proc.stdout[-3000:] + proc.stderr[-2000:])
    changed = int(proc.stdout.rsplit("changed=", 1)[1].split()[0])
    return elapsed, changed, proc.stdout


def main():
    results = {"instances": COUNT, "repeat": REPEAT}
    with tempfile.TemporaryDirectory() as workdir:
        run_playbook(workdir, CLEAN)
        for label, play in (("lxdops.server.lxd_instance", OURS), ("community.general.lxd_container", PEER)):
            create, _changed, _out = run_playbook(workdir, play)
            noop = []
            changed_counts = []
            for _run in range(REPEAT):
                elapsed, changed, out = run_playbook(workdir, play)
                noop.append(elapsed)
                changed_counts.append(out.count("changed: [localhost]"))
            results[label] = {"create_s": round(create, 2), "noop_median_s": round(statistics.median(noop), 2),
                              "noop_runs_s": [round(x, 2) for x in noop],
                              "noop_items_reported_changed": changed_counts}
        trace = Path(workdir) / "trace"
        run_playbook(workdir, OURS, {"LXDOPS_TRACE_FILE": str(trace)})
        results["lxdops.server.lxd_instance"]["noop_requests_per_call"] = \
            len(trace.read_text().splitlines()) / COUNT
        run_playbook(workdir, CLEAN)
    ours, peer = results["lxdops.server.lxd_instance"], results["community.general.lxd_container"]
    results["noop_ratio_peer_over_ours"] = round(peer["noop_median_s"] / ours["noop_median_s"], 2)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "instances.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
