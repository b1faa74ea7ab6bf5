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
import tempfile
from pathlib import Path

import benchlib  # first: it puts the built collection and tests/lab on sys.path
from peers import community_general

COUNT = int(os.environ.get("LXDOPS_BENCH_INSTANCES", "20"))
REPEAT = int(os.environ.get("LXDOPS_BENCH_REPEAT", "3"))
PREFIX = benchlib.LAB["prefix"] + "bench-"

OURS = benchlib.local_play("lxdops.server.lxd_instance", {
    "name": "{{ prefix }}o{{ item }}", "source": {"alias": "{{ image }}"},
    "config": {"limits.cpu": 1, "boot.autostart": False}},
    "Instances", loop="{{ range(count) | list }}")

PEER = benchlib.local_play("community.general.lxd_container", {
    "name": "{{ prefix }}p{{ item }}", "source": {"type": "image", "alias": "{{ image }}"},
    "config": {"limits.cpu": "1", "boot.autostart": "false"}, "state": "started"},
    "Instances", loop="{{ range(count) | list }}")

CLEAN = benchlib.local_play("lxdops.server.lxd_instance", {
    "name": "{{ prefix }}{{ item[0] }}{{ item[1] }}", "state": "absent", "force_stop": True},
    "Delete", loop="{{ ['o', 'p'] | product(range(count)) | list }}")


def run_playbook(workdir, play, extra_env=None):
    """(seconds, changed count of the recap, output)."""
    elapsed, out = benchlib.run_playbook(workdir, play, {"prefix": PREFIX, "image": benchlib.IMAGE, "count": COUNT},
                                         [community_general()], extra_env)
    return elapsed, int(out.rsplit("changed=", 1)[1].split()[0]), out


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
            results[label] = {"create_s": round(create, 2), "noop_median_s": benchlib.median(noop),
                              "noop_runs_s": [round(x, 2) for x in noop],
                              "noop_items_reported_changed": changed_counts}
        trace = Path(workdir) / "trace"
        run_playbook(workdir, OURS, {"LXDOPS_TRACE_FILE": str(trace)})
        results["lxdops.server.lxd_instance"]["noop_requests_per_call"] = \
            len(trace.read_text().splitlines()) / COUNT
        run_playbook(workdir, CLEAN)
    ours, peer = results["lxdops.server.lxd_instance"], results["community.general.lxd_container"]
    results["noop_ratio_peer_over_ours"] = round(peer["noop_median_s"] / ours["noop_median_s"], 2)
    benchlib.write_results("instances", results)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
