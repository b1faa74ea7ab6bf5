# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lxd_instances role (one lxd_instance_set task) against a loop of community.general.lxd_container, same run.

Declared instances of the busybox lab image on the lab's LXD primary, each with limits (cpu, memory, processes)
and a snapshot policy (schedule, pattern, expiry), all stopped: starting a thousand containers is more than a
2-core machine shared with other test runs should be asked, and a stopped instance is read and compared the same.
Both contenders declare the same config keys; each ansible-playbook run is timed whole (start-up included).

1. Creating run of --create (50) instances: the role against the loop, each from nothing (deletion untimed),
   --repeat rounds (medians), the order alternating.
2. Idempotent run over the same --count (200) instances: the role against the loop, --repeat rounds each; the
   number of changes each reports is kept (it must be 0).
3. The role's idempotent run with --big (1000) declared instances (800 more created, untimed), --repeat rounds,
   and the peak memory (max RSS) of the module process, read through a wrapper interpreter.
Load averages are recorded beside each phase. Every instance is deleted at the end (and at the start, of an
earlier run that was cut short). Results: bench/results/role_instances.json and stdout. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import benchlib  # first: it puts the built collection and tests/lab on sys.path
from peers import community_general

PRIMARY = benchlib.LAB["daemons"]["primary"]
IMAGE = benchlib.IMAGE
PREFIX = benchlib.LAB["prefix"] + os.environ.get("LXDOPS_TEST_SESSION", "") + "brole-"
LIMITS = {"cpu": 1, "memory": "64MB", "processes": 100}
SCHEDULE, EXPIRY = "50 20 * * *", "1d"

ROLE = """
- name: lxdops.server.lxd_instances
  hosts: localhost
  gather_facts: false
  roles:
    - lxdops.server.lxd_instances
"""

PEER = """
- name: community.general.lxd_container
  hosts: localhost
  gather_facts: false
  vars:
    suffix: !unsafe "{{ creation_date|date:'2006-01-02_15-04-05' }}"
  tasks:
    - name: Instances
      community.general.lxd_container:
        name: "{{ prefix }}{{ item }}"
        url: "{{ url }}"
        source:
          type: image
          alias: "{{ image }}"
        state: stopped
        config:
          limits.cpu: "1"
          limits.memory: 64MB
          limits.processes: "100"
          snapshots.schedule: "{{ schedule }}"
          snapshots.pattern: "{{ prefix ~ item ~ '-' ~ suffix }}"
          snapshots.expiry: "{{ expiry }}"
      loop: "{{ range(first, first + count) | list }}"
"""

# The module's interpreter for the role's runs: the module process is its child, whose peak RSS it appends to a file.
WRAPPER = """#!%s
import resource, subprocess, sys
code = subprocess.call([%r] + sys.argv[1:])
with open(%r, "a") as out:
    out.write("%%d\\n" %% resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=int(os.environ.get("LXDOPS_BENCH_ROLE_COUNT", "200")))
    parser.add_argument("--create", type=int, default=int(os.environ.get("LXDOPS_BENCH_ROLE_CREATE", "50")))
    parser.add_argument("--big", type=int, default=int(os.environ.get("LXDOPS_BENCH_ROLE_BIG", "1000")),
                        help="declared instances of the large idempotent run (0: skip it)")
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("LXDOPS_BENCH_REPEAT", "3")))
    return parser.parse_args()


class Runner:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.rss_file = self.workdir / "rss"
        wrapper = self.workdir / "python-rss"
        wrapper.write_text(WRAPPER % (sys.executable, sys.executable, str(self.rss_file)))
        wrapper.chmod(0o755)
        self.wrapper = str(wrapper)

    def playbook(self, text, first, count, entry=None, interpreter=None):
        """Run a play over instances first..first+count-1; (seconds, changed count, max RSS in KiB or None)."""
        self.rss_file.write_text("")
        elapsed, out = benchlib.run_playbook(self.workdir, text, {
            "prefix": PREFIX, "image": IMAGE, "url": PRIMARY["url"], "first": first, "count": count,
            "schedule": SCHEDULE, "expiry": EXPIRY,
            "lxd_instances_list": [dict(entry or {}, name="%s%d" % (PREFIX, i)) for i in range(first, first + count)],
            "lxd_instances_url": PRIMARY["url"], "lxd_instances_default_source": {"alias": IMAGE},
            "lxd_instances_default_state": "stopped", "lxd_instances_snapshot_schedule": SCHEDULE,
            "lxd_instances_snapshot_expiry": EXPIRY}, [community_general()], interpreter=interpreter)
        rss = [int(line) for line in self.rss_file.read_text().split()]
        return elapsed, out.count("changed: [localhost]"), max(rss) if rss else None

    def role(self, first, count, state="stopped", rss=False):
        entry = {"limits": LIMITS} if state != "absent" else {"state": "absent"}
        return self.playbook(ROLE, first, count, entry, self.wrapper if rss else None)

    def peer(self, first, count):
        return self.playbook(PEER, first, count)


def load():
    return [round(x, 2) for x in os.getloadavg()]


def main():
    args = parse_args()
    big = max(args.big, args.count)
    results = {"daemon": "LXD primary (%s)" % PRIMARY["url"], "image": IMAGE, "state": "stopped",
               "limits": LIMITS, "snapshot_policy": {"schedule": SCHEDULE, "expiry": EXPIRY,
                                                     "pattern": "<name>-{{ creation_date|date:... }}"},
               "repeat": args.repeat, "ansible_playbook_runs_timed_whole": True}
    with tempfile.TemporaryDirectory() as workdir:
        run = Runner(workdir)
        run.role(0, big, state="absent")
        try:
            # 1. Creating run: the same names each round, deleted (untimed) between contenders.
            create = {"role": [], "loop": []}
            results["create_load_before"] = load()
            for round_no in range(args.repeat):
                order = ["role", "loop"] if round_no % 2 == 0 else ["loop", "role"]
                for name in order:
                    seconds, _changed, _rss = run.role(0, args.create) if name == "role" else run.peer(0, args.create)
                    create[name].append(round(seconds, 2))
                    run.role(0, args.create, state="absent")
            results["create_load_after"] = load()
            results["create"] = {"instances": args.create, "role_runs_s": create["role"],
                                 "loop_runs_s": create["loop"], "role_median_s": benchlib.median(create["role"]),
                                 "loop_median_s": benchlib.median(create["loop"]),
                                 "loop_over_role": round(benchlib.median(create["loop"]) / benchlib.median(create["role"]), 2)}

            # 2. Idempotent run over the same instances, created once by the role.
            run.role(0, args.count)
            idle = {"role": [], "loop": [], "role_changed": [], "loop_changed": [], "role_rss_kib": []}
            results["idempotent_load_before"] = load()
            for round_no in range(args.repeat):
                order = ["role", "loop"] if round_no % 2 == 0 else ["loop", "role"]
                for name in order:
                    if name == "role":
                        seconds, changed, rss = run.role(0, args.count, rss=True)
                        idle["role_rss_kib"].append(rss)
                    else:
                        seconds, changed, _rss = run.peer(0, args.count)
                    idle[name].append(round(seconds, 2))
                    idle[name + "_changed"].append(changed)
            results["idempotent_load_after"] = load()
            results["idempotent"] = {"instances": args.count, "role_runs_s": idle["role"],
                                     "loop_runs_s": idle["loop"], "role_median_s": benchlib.median(idle["role"]),
                                     "loop_median_s": benchlib.median(idle["loop"]),
                                     "loop_over_role": round(benchlib.median(idle["loop"]) / benchlib.median(idle["role"]), 2),
                                     "changed_reported": {"role": idle["role_changed"], "loop": idle["loop_changed"]},
                                     "module_peak_rss_mib": round(max(idle["role_rss_kib"]) / 1024, 1)}

            # 3. The role alone with many more declared instances.
            if args.big > args.count:
                run.role(args.count, args.big - args.count)
                large, rss_values, changed_values = [], [], []
                results["large_load_before"] = load()
                for _round in range(args.repeat):
                    seconds, changed, rss = run.role(0, args.big, rss=True)
                    large.append(round(seconds, 2))
                    rss_values.append(rss)
                    changed_values.append(changed)
                results["large_load_after"] = load()
                results["large"] = {"instances": args.big, "role_runs_s": large, "role_median_s": benchlib.median(large),
                                    "over_idempotent_at_%d" % args.count: round(
                                        benchlib.median(large) / results["idempotent"]["role_median_s"], 2),
                                    "changed_reported": changed_values,
                                    "module_peak_rss_mib": round(max(rss_values) / 1024, 1)}
        finally:
            run.role(0, big, state="absent")
    benchlib.write_results("role_instances", results)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
