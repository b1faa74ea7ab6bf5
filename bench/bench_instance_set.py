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
import subprocess
import tempfile
import time
from pathlib import Path

import benchlib

COUNT = int(os.environ.get("LXDOPS_BENCH_SET_COUNT", "20"))
ROUNDS = int(os.environ.get("LXDOPS_BENCH_SET_ROUNDS", "3"))
PARALLEL = int(os.environ.get("LXDOPS_BENCH_SET_PARALLEL", "4"))
PREFIX = benchlib.run_prefix("bset")
NAMES = ["%s%d" % (PREFIX, i) for i in range(COUNT)]

SET = benchlib.local_play("lxdops.server.lxd_instance_set", {
    "defaults": "{{ set_defaults }}", "instances": "{{ entries }}", "parallel": "{{ parallel }}"},
    "Start the replicas with autostart")

LOOP = benchlib.local_play("lxdops.server.lxd_instance", {
    "name": "{{ item }}", "state": "{{ set_defaults.state }}", "config": "{{ set_defaults.config }}",
    "force_stop": "{{ set_defaults.force_stop | default(false) }}"},
    "Start the replicas with autostart", loop="{{ names }}")

START = {"state": "started", "config": {"boot.autostart": True, "user.x": "y"}}
RESET = {"state": "stopped", "force_stop": True, "config": {"boot.autostart": False, "user.x": None}}
CREATE = {"state": "stopped", "source": {"alias": benchlib.IMAGE}, "config": {"boot.autostart": False}}
DELETE = {"state": "absent", "force_stop": True}


def lxd_env():
    return dict(os.environ, LXD_DIR=benchlib.LAB["daemons"]["primary"]["dir"])


def run_playbook(workdir, play, defaults, extra_env=None):
    return benchlib.run_playbook(workdir, play, {"names": NAMES, "entries": [{"name": n} for n in NAMES],
                                                 "set_defaults": defaults, "parallel": PARALLEL},
                                 env=extra_env)[0]


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
        results[name] = {"median_s": benchlib.median(values), "runs_s": [round(v, 2) for v in values]}
    results["loop_over_set"] = round(results["loop"]["median_s"] / results["set"]["median_s"], 2)
    results["lxc_over_set"] = round(results["lxc"]["median_s"] / results["set"]["median_s"], 2)
    results["set_noop_requests"] = noop_requests
    benchlib.write_results("instance_set", results)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
