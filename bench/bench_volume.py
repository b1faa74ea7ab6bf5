# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A custom volume replicated with its instance (lxd_replica's code): the first copy, then refreshes after a change.

On a lab pair (--daemon incus, the default, or lxd, or both), for each pool (a btrfs pool this script makes on both
daemons under one name, and the daemons' dir pool "default"): a running busybox instance with a 1 GiB volume
(random data) at /data is copied once to the pair's second daemon with its volume, then, for --rounds rounds each,
refreshed after 10 MiB were rewritten in place in the volume: once with the change alone, once with a volume
snapshot taken after it (as a snapshots.schedule on the volume makes). The refresh is compared with the first full
copy of the same run. After each mode the replica is started for a moment and the volume's file checked against
the source's.

Replicator is called in this process (as the nightly command does): the figures hold no Ansible start-up cost.
Every object is named with the lab prefix + $LXDOPS_TEST_SESSION + "bvol-" + a tag of this run and deleted at the
end. Results: bench/results/volume.json and stdout. Not a test: nothing is asserted beyond the last change arriving.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import benchlib  # first: it puts the built collection and tests/lab on sys.path
import bench_replica
from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, LXDError, api_path
from ansible_collections.lxdops.server.plugins.module_utils.replica import Replicator
from ansible_collections.lxdops.server.plugins.module_utils.volume import volume_path

LAB = benchlib.LAB
PREFIX = benchlib.run_prefix("bvol")
BTRFS_POOL = PREFIX + "btrfs"
FILE = "/data/blob"


class Pair(bench_replica.Pair):
    """bench_replica's pair, with the second daemon over https as the replication reaches it."""

    def remote_https(self):
        return LXDClient(url=self.target["https_url"], client_cert=LAB["client_cert"], client_key=LAB["client_key"],
                         server_cert=self.target["server_cert"], timeout=600)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    benchlib.add_daemon_argument(parser, "pair(s)", "incus", "LXDOPS_BENCH_VOLUME_DAEMON")
    parser.add_argument("--size-mb", type=int, default=1024, help="data in the volume, MiB (default 1024)")
    parser.add_argument("--change-mb", type=int, default=10, help="MiB rewritten in place before a refresh")
    parser.add_argument("--rounds", type=int, default=2, help="timed refreshes per mode (default 2)")
    parser.add_argument("--pools", default="btrfs,dir", help="which pools, comma separated (default btrfs,dir)")
    args = parser.parse_args()
    args.kinds = benchlib.daemon_kinds(args.daemon)
    args.pools = [p.strip() for p in args.pools.split(",") if p.strip()]
    if not args.pools or set(args.pools) - {"btrfs", "dir"}:
        parser.error("--pools: btrfs, dir or both (got %s)" % ", ".join(args.pools))
    if not 0 < args.change_mb <= args.size_mb or args.rounds < 1:
        parser.error("--change-mb must be between 1 and --size-mb, --rounds 1 or more")
    return args


def run_in(client, name, command):
    code, out, err = client.execute(name, ["sh", "-c", command], timeout=900)
    if code:
        raise RuntimeError("%s: %s failed: %s" % (name, command, (err or out).decode(errors="replace")))
    return out.decode().strip()


def replicate(pair, name, lock):
    source = pair.source["https_url"][len("https://"):]
    replicator = Replicator(pair.primary, pair.remote_https, source_address=source, lock_path=lock, retries=0)
    started = time.monotonic()
    result = replicator.run([name])[0]
    seconds = time.monotonic() - started
    if result["error"]:
        raise RuntimeError("%s: %s" % (name, result["error"]))
    return round(seconds, 2), result


def bench_pool(pair, pool, args, lock):
    client = pair.primary()
    volume, name = PREFIX + "vol-" + pool[-5:], PREFIX + "inst-" + pool[-5:]
    client.post(api_path("storage-pools", pool, "volumes", "custom"), {"name": volume})
    client.post("/1.0/instances", {"name": name, "source": {"type": "image", "alias": benchlib.IMAGE}, "devices": {
        "data": {"type": "disk", "pool": pool, "source": volume, "path": "/data"}}})
    client.put(api_path("instances", name, "state"), {"action": "start", "timeout": 60})
    run_in(client, name, "dd if=/dev/urandom of=%s bs=1M count=%d 2>/dev/null && sync" % (FILE, args.size_mb))
    first, result = replicate(pair, name, lock)
    assert result["volumes"][0]["action"] == "created", result
    part = {"pool": pool, "first_copy_s": first}
    blocks = args.size_mb // args.change_mb
    for mode in ("change", "change+snapshot"):
        times = []
        for index in range(args.rounds):
            offset = ((index * 7 + (3 if mode == "change" else 5)) % blocks) * args.change_mb
            run_in(client, name, "dd if=/dev/urandom of=%s bs=1M count=%d seek=%d conv=notrunc 2>/dev/null && sync"
                   % (FILE, args.change_mb, offset))
            if mode == "change+snapshot":
                client.post(volume_path(pool, volume, "snapshots"), {"name": "bench%d" % index})
            seconds, result = replicate(pair, name, lock)
            assert result["volumes"][0]["action"] == "refreshed", result
            times.append(seconds)
        part[mode] = {"refresh_s": times, "median_s": round(statistics.median(times), 2),
                      "first_copy_over_refresh": round(first / statistics.median(times), 1),
                      "replica_matches": replica_matches(pair, name)}
    return part


def replica_matches(pair, name):
    """The last change arrived: the replica, started for a moment, holds the source's file."""
    digest = run_in(pair.primary(), name, "sha256sum %s" % FILE).split()[0]
    remote = pair.remote()
    remote.put(api_path("instances", name, "state"), {"action": "start", "timeout": 60})
    try:
        return run_in(remote, name, "sha256sum %s" % FILE).split()[0] == digest
    finally:
        remote.put(api_path("instances", name, "state"), {"action": "stop", "force": True, "timeout": 60})


def cleanup(pair, pools):
    problems = []
    for make in (pair.remote, pair.primary):
        client = make()
        for name in [n.rsplit("/", 1)[-1] for n in client.get("/1.0/instances").metadata or []]:
            if not name.startswith(PREFIX):
                continue
            try:
                benchlib.delete_instance(client, name)
            except LXDError as exc:
                problems.append("%s %s: %s" % (client.url, name, exc.message))
        for pool in pools:
            if client.exists(api_path("storage-pools", pool)) is None:
                continue
            for item in client.get(api_path("storage-pools", pool, "volumes"), params={"recursion": 1}).metadata:
                if item["type"] == "custom" and "/" not in item["name"] and item["name"].startswith(PREFIX):
                    try:
                        client.delete(volume_path(pool, item["name"]))
                    except LXDError as exc:
                        problems.append("%s %s: %s" % (client.url, item["name"], exc.message))
        try:
            benchlib.delete_pool(client, BTRFS_POOL)
        except LXDError as exc:
            problems.append("%s %s: %s" % (client.url, BTRFS_POOL, exc.message))
    return problems


def main():
    args = parse_args()
    results = {"size_mb": args.size_mb, "change_mb": args.change_mb, "rounds": args.rounds, "pairs": []}
    lock = os.path.join(tempfile.mkdtemp(prefix="lxdops-bench-volume-"), "replicate.lock")
    # A live run of the lab: another session's clean-up then leaves this run's objects alone.
    bench_replica.lab_control.register_session(os.getpid())
    for kind in args.kinds:
        pair = Pair(kind)
        pools = [BTRFS_POOL if p == "btrfs" else "default" for p in args.pools]
        try:
            size = "%dGiB" % max(3, (args.size_mb * 3) // 1024 + 1)
            for client in (pair.primary(), pair.remote()) if BTRFS_POOL in pools else ():
                client.post("/1.0/storage-pools", {"name": BTRFS_POOL, "driver": "btrfs", "config": {"size": size}})
            entry = {"daemon": kind, "pools": []}
            for pool in pools:
                print("%s: %d MiB volume on %s" % (kind, args.size_mb, "btrfs" if pool == BTRFS_POOL else "dir"),
                      flush=True)
                part = bench_pool(pair, pool, args, lock)
                part["driver"] = "btrfs" if pool == BTRFS_POOL else "dir"
                entry["pools"].append(part)
                print(json.dumps(part), flush=True)
            results["pairs"].append(entry)
        finally:
            problems = cleanup(pair, pools)
            if problems:
                print("cleanup left: %s" % "; ".join(problems), file=sys.stderr)
    out = benchlib.write_results("volume" if len(args.pools) == 2 else "volume-%s" % args.pools[0], results)
    print("\n%-6s %-6s %12s %22s %22s" % ("daemon", "pool", "first copy", "refresh (change)", "refresh (+snapshot)"))
    for entry in results["pairs"]:
        for part in entry["pools"]:
            print("%-6s %-6s %10.2f s %12.2f s (%4.1fx) %12.2f s (%4.1fx)" % (
                entry["daemon"], part["driver"], part["first_copy_s"], part["change"]["median_s"],
                part["change"]["first_copy_over_refresh"], part["change+snapshot"]["median_s"],
                part["change+snapshot"]["first_copy_over_refresh"]))
    print("results in %s" % out)


if __name__ == "__main__":
    main()
