# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""`ansible-inventory --list` with lxdops.server.lxd and with community.general.lxd, on the same instances.

N busybox instances (every fifth running) are created on the lab's primary daemon for each N
in LXDOPS_BENCH_SIZES (default 200,1000); each plugin is run several times (median wall time,
peak RSS of the ansible-inventory process, API requests). Results: bench/results/inventory.json.
Not a test: nothing is asserted.
"""

from __future__ import annotations

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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "lab"))
sys.path.insert(0, str(ROOT / ".build" / "collections"))
from peers import community_general  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.lxdops.server.plugins.module_utils.client import (  # noqa: E402  pylint: disable=wrong-import-position
    LXDClient,
    LXDNotFound,
    api_path,
)

LAB = json.loads((ROOT / ".build" / "lab" / "lab.json").read_text())
SIZES = [int(n) for n in os.environ.get("LXDOPS_BENCH_SIZES", "200,1000").split(",")]
REPEAT = int(os.environ.get("LXDOPS_BENCH_REPEAT", "3"))
PREFIX = LAB["prefix"] + "binv-"
SOCKET = LAB["daemons"]["primary"]["url"]


def instance_name(index):
    return "%s%04d" % (PREFIX, index)


def ensure_instances(count):
    """Create instances 0..count-1 that do not exist yet; start every fifth."""
    def create(index):
        client = LXDClient(url=SOCKET)
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


def delete_instances(count):
    def delete(index):
        client = LXDClient(url=SOCKET)
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
        runs.append(run_inventory_isolated(config_path, collections, trace))
    return {"median_s": round(statistics.median(r[0] for r in runs), 3),
            "runs_s": [round(r[0], 3) for r in runs],
            "peak_rss_mib": round(max(r[1] for r in runs) / 1024, 1),
            "hosts": runs[0][2]}


def run_inventory_isolated(config_path, collections, trace):
    """Run in a wrapper process so RUSAGE_CHILDREN is this run's alone."""
    code = ("import json, sys; sys.path.insert(0, %r); import bench_inventory as b; "
            "print(json.dumps(b.run_inventory(%r, %r, %r)))" % (str(HERE), config_path, collections, trace))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, LXDOPS_BENCH_CHILD="1")).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ours_path = str(ROOT / ".build" / "collections")
    peer_path = community_general()
    results = {"repeat": REPEAT, "sizes": {}}
    with tempfile.TemporaryDirectory() as workdir:
        ours = Path(workdir) / "ours.lxd.yml"
        ours.write_text("plugin: lxdops.server.lxd\nurl: %s\nname_regex: %s\n" % (SOCKET, PREFIX))
        stateless = Path(workdir) / "stateless.lxd.yml"
        stateless.write_text("plugin: lxdops.server.lxd\nurl: %s\nname_regex: %s\nfetch_state: false\n"
                             % (SOCKET, PREFIX))
        peer = Path(workdir) / "peer.lxd.yml"
        peer.write_text("plugin: community.general.lxd\nurl: %s\ntype_filter: both\n" % SOCKET)
        created = 0
        try:
            for size in SIZES:
                started = time.monotonic()
                ensure_instances(size)
                created = max(created, size)
                setup = time.monotonic() - started
                trace = str(Path(workdir) / ("trace-%d" % size))
                ours_result = measure(str(ours), ours_path, trace)
                with open(trace) as handle:
                    ours_result["requests_per_run"] = len(handle.read().splitlines()) // REPEAT
                stateless_result = measure(str(stateless), ours_path)
                peer_result = measure(str(peer), peer_path)
                results["sizes"][str(size)] = {
                    "setup_s": round(setup, 1),
                    "lxdops.server.lxd": ours_result,
                    "lxdops.server.lxd fetch_state=false": stateless_result,
                    "community.general.lxd": peer_result,
                    "speedup": round(peer_result["median_s"] / ours_result["median_s"], 1),
                    "speedup fetch_state=false": round(peer_result["median_s"] / stateless_result["median_s"], 1),
                }
                print(json.dumps({size: results["sizes"][str(size)]}), flush=True)
        finally:
            delete_instances(created)
    if len(SIZES) > 1:
        first, last = results["sizes"][str(SIZES[0])], results["sizes"][str(SIZES[-1])]
        for label in ("lxdops.server.lxd", "lxdops.server.lxd fetch_state=false"):
            results["growth %s/%s %s" % (SIZES[-1], SIZES[0], label)] = round(
                last[label]["median_s"] / first[label]["median_s"], 2)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "inventory.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__" and not os.environ.get("LXDOPS_BENCH_CHILD"):
    main()
