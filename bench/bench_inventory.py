# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""`ansible-inventory --list` with lxdops.server.lxd and with community.general.lxd, on the same instances.

N busybox instances (every fifth running) are created on the lab's primary daemon of each daemon kind (--daemon:
lxd, incus or both, the default; LXD's "primary", Incus's "incus") for each N in --sizes (default 200,1000); each
plugin is run several times (median wall time, peak RSS of the ansible-inventory process, API requests).
Results: bench/results/inventory.json and one table with a column per daemon. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import benchlib  # first: it puts the built collection and tests/lab on sys.path
from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.daemon import KIND_FACTS
import lab as lab_control
from peers import community_general

LAB = benchlib.LAB
REPEAT = int(os.environ.get("LXDOPS_BENCH_REPEAT", "3"))
PREFIX = LAB["prefix"] + os.environ.get("LXDOPS_TEST_SESSION", "") + "binv-"
OURS = "lxdops.server.lxd"
STATELESS = "lxdops.server.lxd fetch_state=false"
PEER = "community.general.lxd"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    benchlib.add_daemon_argument(parser, "daemon(s)")
    parser.add_argument("--sizes", default=os.environ.get("LXDOPS_BENCH_SIZES", "200,1000"),
                        help="instance counts, comma separated (default 200,1000)")
    args = parser.parse_args()
    args.kinds = benchlib.daemon_kinds(args.daemon)
    args.sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    if not args.sizes or min(args.sizes) < 1:
        parser.error("--sizes: every count must be 1 or more")
    return args


def instance_name(index):
    return "%s%04d" % (PREFIX, index)


def ensure_instances(socket, count):
    """Create instances 0..count-1 that do not exist yet; start every fifth."""
    def create(index):
        client = LXDClient(url=socket)
        name = instance_name(index)
        try:
            client.get(api_path("instances", name))
            return
        except LXDNotFound:
            pass
        client.post("/1.0/instances", {"name": name, "source": {"type": "image",
                                                                "alias": LAB["images"]["busybox"]["alias"]}})
        if index % 5 == 0:
            client.put(api_path("instances", name, "state"), {"action": "start", "timeout": 60})
        client.close()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(create, range(count)))


def delete_instances(socket, count):
    def delete(index):
        client = LXDClient(url=socket)
        name = instance_name(index)
        try:
            client.put(api_path("instances", name, "state"), {"action": "stop", "force": True, "timeout": 30})
        except Exception:  # pylint: disable=broad-except
            pass
        try:
            client.delete(api_path("instances", name))
        except Exception:  # pylint: disable=broad-except
            pass
        client.close()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(delete, range(count)))


def run_inventory(config_path, collections, trace=None):
    """Wall time, peak RSS (KiB) and host count of one ansible-inventory --list.

    Called in a wrapper process of its own, so RUSAGE_CHILDREN is this run's ansible-inventory alone.
    """
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1",
               ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
    env.pop("LXDOPS_BENCH_CHILD", None)
    if trace:
        env["LXDOPS_TRACE_FILE"] = trace
    started = time.monotonic()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", config_path, "--list"],
                          env=env, capture_output=True, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit("ansible-inventory failed:\n" + proc.stderr.decode()[-3000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak, len(json.loads(proc.stdout)["_meta"]["hostvars"])


def measure(config_path, collections, trace=None):
    runs = []
    for _run in range(REPEAT):
        # A fresh Python for every run; peak RSS read from the child's own rusage.
        try:
            runs.append(run_inventory_isolated(config_path, collections, trace))
        except subprocess.CalledProcessError as exc:
            return {"failed": (exc.stdout + exc.stderr).strip().splitlines()[-1][-300:]}
    return {"median_s": round(statistics.median(r[0] for r in runs), 3),
            "runs_s": [round(r[0], 3) for r in runs],
            "peak_rss_mib": round(max(r[1] for r in runs) / 1024, 1),
            "hosts": runs[0][2]}


def run_inventory_isolated(config_path, collections, trace):
    """Run in a wrapper process so RUSAGE_CHILDREN is this run's alone."""
    code = ("import json, sys; sys.path.insert(0, %r); import bench_inventory as b; "
            "print(json.dumps(b.run_inventory(%r, %r, %r)))" % (str(benchlib.HERE), config_path, collections, trace))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, LXDOPS_BENCH_CHILD="1")).stdout
    return json.loads(out.strip().splitlines()[-1])


def speedup(peer, ours):
    if "median_s" not in peer or "median_s" not in ours:
        return None
    return round(peer["median_s"] / ours["median_s"], 1)


def bench_daemon(workdir, name, args):
    """Every size on one lab daemon; its instances are deleted at the end."""
    daemon = LAB["daemons"][name]
    socket = daemon["url"]
    ours_path = str(benchlib.COLLECTIONS)
    peer_path = community_general()
    client = LXDClient(url=socket)
    results = {"daemon": name, "version": client.server_info().get("environment", {}).get("server_version"),
               "sizes": {}}
    client.close()
    ours = Path(workdir) / ("%s-ours.lxd.yml" % name)
    ours.write_text("plugin: lxdops.server.lxd\nurl: %s\nname_regex: %s\n" % (socket, PREFIX))
    stateless = Path(workdir) / ("%s-stateless.lxd.yml" % name)
    stateless.write_text("plugin: lxdops.server.lxd\nurl: %s\nname_regex: %s\nfetch_state: false\n"
                         % (socket, PREFIX))
    # The peer has no name filter: it lists every instance of the daemon (its host count says how many).
    peer = Path(workdir) / ("%s-peer.lxd.yml" % name)
    peer.write_text("plugin: community.general.lxd\nurl: %s\ntype_filter: both\n" % socket)
    created = 0
    try:
        for size in args.sizes:
            started = time.monotonic()
            ensure_instances(socket, size)
            created = max(created, size)
            setup = time.monotonic() - started
            trace = str(Path(workdir) / ("%s-trace-%d" % (name, size)))
            ours_result = measure(str(ours), ours_path, trace)
            if "failed" not in ours_result:
                with open(trace) as handle:
                    ours_result["requests_per_run"] = len(handle.read().splitlines()) // REPEAT
            stateless_result = measure(str(stateless), ours_path)
            peer_result = measure(str(peer), peer_path)
            results["sizes"][str(size)] = {
                "setup_s": round(setup, 1),
                OURS: ours_result,
                STATELESS: stateless_result,
                PEER: peer_result,
                "speedup": speedup(peer_result, ours_result),
                "speedup fetch_state=false": speedup(peer_result, stateless_result),
            }
            print(json.dumps({name: {size: results["sizes"][str(size)]}}), flush=True)
    finally:
        delete_instances(socket, created)
    if len(args.sizes) > 1:
        first, last = results["sizes"][str(args.sizes[0])], results["sizes"][str(args.sizes[-1])]
        for label in (OURS, STATELESS):
            if "median_s" in first[label] and "median_s" in last[label]:
                results["growth %s/%s %s" % (args.sizes[-1], args.sizes[0], label)] = round(
                    last[label]["median_s"] / first[label]["median_s"], 2)
    return results


def cell(result):
    if "median_s" not in result:
        return "failed"
    return "%.2f s %4.0f MiB" % (result["median_s"], result["peak_rss_mib"])


def report(results, sizes):
    kinds = [k for k in ("lxd", "incus") if k in results["kinds"]]
    heads = ["%s %s" % (KIND_FACTS[k]["name"], results["kinds"][k]["version"]) for k in kinds]
    print("\nansible-inventory --list, median of %d runs (wall time, peak RSS); busybox instances, every fifth "
          "running" % results["repeat"])
    print("%-52s" % "" + "".join("%22s" % h for h in heads))
    for size in sizes:
        for label in (OURS, STATELESS, PEER):
            print("%-52s" % ("%d instances, %s" % (size, label))
                  + "".join("%22s" % cell(results["kinds"][k]["sizes"][str(size)][label]) for k in kinds))
        print("%-52s" % ("%d instances, requests per run (ours)" % size)
              + "".join("%22s" % results["kinds"][k]["sizes"][str(size)][OURS].get("requests_per_run", "-")
                        for k in kinds))
        print("%-52s" % ("%d instances, speedup peer / ours" % size)
              + "".join("%22s" % results["kinds"][k]["sizes"][str(size)]["speedup"] for k in kinds))
    for k in kinds:
        for label in (OURS, PEER):
            failed = [size for size in sizes if "failed" in results["kinds"][k]["sizes"][str(size)][label]]
            for size in failed:
                why = results["kinds"][k]["sizes"][str(size)][label]["failed"]
                print("%s, %d instances, %s failed: %s" % (KIND_FACTS[k]["name"], size, label, why))


def main():
    args = parse_args()
    # A run on the lab like a test session: while it lasts, another run's lab-up cleans only its own names.
    lab_control.register_session(os.getpid())
    results = {"repeat": REPEAT, "kinds": {}}
    with tempfile.TemporaryDirectory() as workdir:
        for kind in args.kinds:
            results["kinds"][kind] = bench_daemon(workdir, LAB["pairs"][kind]["primary"], args)
    benchlib.write_results("inventory", results)
    print(json.dumps(results, indent=2))
    report(results, args.sizes)


if __name__ == "__main__" and not os.environ.get("LXDOPS_BENCH_CHILD"):
    main()
