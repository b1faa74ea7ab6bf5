# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Start N stopped instances with config {boot.autostart: true, user.x: y}: one call against a loop, same run.

The failover case ("start these replicas with this config"). N busybox instances on the lab's primary are
created stopped once. Per round, each contender starts from the same state (all stopped, autostart false,
user.x unset, reset untimed) and is timed until it returns:
- set: one task of lxdops.server.lxd_instance_set, run by ansible-playbook;
- loop: a loop of lxdops.server.lxd_instance over the same N, run by ansible-playbook;
- lxc: the manual's shell loop (`lxc config set` twice and `lxc start` per instance).
The contenders' order changes per round. Results: bench/results/instance_set.json and stdout (medians). Not a
test: nothing is asserted beyond every instance running with the config at the end of each timed step.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LAB = json.loads((ROOT / ".build" / "lab" / "lab.json").read_text())
COUNT = int(os.environ.get("LXDOPS_BENCH_SET_COUNT", "20"))
ROUNDS = int(os.environ.get("LXDOPS_BENCH_SET_ROUNDS", "3"))
PARALLEL = int(os.environ.get("LXDOPS_BENCH_SET_PARALLEL", "4"))
IMAGE = LAB["images"]["busybox"]["alias"]
PREFIX = "%s%sbset-%s-" % (LAB["prefix"], os.environ.get("LXDOPS_TEST_SESSION", ""), uuid.uuid4().hex[:4])
NAMES = ["%s%d" % (PREFIX, i) for i in range(COUNT)]

SET = """
- name: lxdops.server.lxd_instance_set
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start the replicas with autostart
      lxdops.server.lxd_instance_set:
        defaults: "{{ set_defaults }}"
        instances: "{{ entries }}"
        parallel: "{{ parallel }}"
"""

LOOP = """
- name: lxdops.server.lxd_instance loop
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start the replicas with autostart
      lxdops.server.lxd_instance:
        name: "{{ item }}"
        state: "{{ set_defaults.state }}"
        config: "{{ set_defaults.config }}"
        force_stop: "{{ set_defaults.force_stop | default(false) }}"
      loop: "{{ names }}"
"""

START = {"state": "started", "config": {"boot.autostart": True, "user.x": "y"}}
RESET = {"state": "stopped", "force_stop": True, "config": {"boot.autostart": False, "user.x": None}}
CREATE = {"state": "stopped", "source": {"alias": IMAGE}, "config": {"boot.autostart": False}}
DELETE = {"state": "absent", "force_stop": True}


def lxd_env():
    return dict(os.environ, LXD_DIR=LAB["daemons"]["primary"]["dir"])


def run_playbook(workdir, text, defaults, extra_env=None):
    play = Path(workdir) / "play.yml"
    play.write_text(text)
    inventory = Path(workdir) / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    extra = Path(workdir) / "vars.yml"
    extra.write_text(yaml.safe_dump({"names": NAMES, "entries": [{"name": n} for n in NAMES],
                                     "set_defaults": defaults, "parallel": PARALLEL}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(Path(workdir) / "tmp"))
    env.update(extra_env or {})
    started = time.monotonic()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                           "-e", "@%s" % extra, str(play)], env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit("playbook failed:\n" + proc.stdout[-3000:] + proc.stderr[-2000:])
    return elapsed


def run_lxc():
    script = ('for c in %s; do lxc config set "$c" boot.autostart true && lxc config set "$c" user.x y '
              '&& lxc start "$c" || exit 1; done' % " ".join(NAMES))
    started = time.monotonic()
    subprocess.run(["sh", "-c", script], env=lxd_env(), check=True, capture_output=True)
    return time.monotonic() - started


def check_started():
    proc = subprocess.run(["lxc", "query", "/1.0/instances?recursion=1"], env=lxd_env(), check=True,
                          capture_output=True, text=True)
    listed = dict((i["name"], i) for i in json.loads(proc.stdout))
    for name in NAMES:
        status, config = listed[name]["status"], listed[name]["config"]
        if status != "Running" or config.get("user.x") != "y" or config.get("boot.autostart") != "true":
            raise SystemExit("%s is not running with the config: %s %s" % (name, status, config))


def main():
    contenders = {"set": lambda w: run_playbook(w, SET, START), "loop": lambda w: run_playbook(w, LOOP, START),
                  "lxc": lambda w: run_lxc()}
    times = dict((name, []) for name in contenders)
    with tempfile.TemporaryDirectory() as workdir:
        run_playbook(workdir, SET, CREATE)
        try:
            order = list(contenders)
            for round_no in range(ROUNDS):
                for name in order[round_no % len(order):] + order[:round_no % len(order)]:
                    run_playbook(workdir, SET, RESET)
                    times[name].append(contenders[name](workdir))
                    check_started()
            trace = Path(workdir) / "trace"
            run_playbook(workdir, SET, START, {"LXDOPS_TRACE_FILE": str(trace)})
            noop_requests = len(trace.read_text().splitlines())
        finally:
            run_playbook(workdir, SET, DELETE)
    results = {"instances": COUNT, "rounds": ROUNDS, "parallel": PARALLEL, "run_by": "ansible-playbook (set, loop)"}
    for name, values in times.items():
        results[name] = {"median_s": round(statistics.median(values), 2), "runs_s": [round(v, 2) for v in values]}
    results["loop_over_set"] = round(results["loop"]["median_s"] / results["set"]["median_s"], 2)
    results["lxc_over_set"] = round(results["lxc"]["median_s"] / results["set"]["median_s"], 2)
    results["set_noop_requests"] = noop_requests
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "instance_set.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
