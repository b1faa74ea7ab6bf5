# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Refresh replicas with lxdops.server.lxd_replica and with the manual's serial `copy --refresh` loop, same run.

Each daemon kind (--daemon: lxd, incus or both, the default) runs on its lab pair: LXD primary -> remote, Incus
incus -> incus-remote; one table gives both.

Part 1: N running busybox instances on the pair's primary, copied once to its second daemon ("remote") by each
contender; then, for several rounds, a small new file in every source before each timed refresh of all N:
lxd_replica (run by ansible-playbook, so Ansible's own cost is in the figure, as users see it) with each
`parallel` value, against `for c in ...; do lxc copy --refresh c remote:c-lxc; done` (`incus copy` on Incus).
Medians, ratio peer/ours.

Part 2: one larger running instance (random data) on a btrfs pool and one on the dir pool, refreshed by
lxd_replica after a 1 MB change in place; once with the change alone and once with a snapshot taken after it
(snapshots travel with a refresh, as with a snapshots.schedule on the primary). The btrfs pool is made by this
script on both daemons under one name, since a replica keeps its source's root disk pool.

Every object is named with the lab prefix + $LXDOPS_TEST_SESSION + "brep-" + a tag of this run and deleted at the
end, on both daemons of each pair. Results: bench/results/replica.json and stdout. Not a test: nothing is asserted beyond the replicas
holding the last change.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

import benchlib  # first: it puts the built collection and tests/lab on sys.path
from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDClient,
    LXDError,
    LXDNotFound,
    api_path,
)
from ansible_collections.lxdops.server.plugins.module_utils.daemon import KIND_FACTS
import lab as lab_control

LAB = benchlib.LAB
IMAGE = benchlib.IMAGE
PREFIX = benchlib.run_prefix("brep")
POOL = PREFIX + "btrfs"
PEER_SUFFIX = "-lxc"
LXC_REMOTE = "snapshot"
DATA = "/root/data"

OURS = benchlib.local_play("lxdops.server.lxd_replica", {
    "url": "{{ source_url }}", "instances": "{{ names }}", "parallel": "{{ parallel }}", "remote": "{{ remote }}"},
    "Replicate")

# The manual's loop, word for word but for the names (and the CLI: lxc or incus).
PEER = 'for c in %s; do %s copy --refresh "$c" %s:"$c"%s || exit 1; done'


class Pair:
    """One daemon kind's two lab daemons: the source ("primary") and the snapshot server ("remote")."""

    def __init__(self, kind):
        names = LAB["pairs"][kind]
        self.kind = kind
        self.source = LAB["daemons"][names["primary"]]
        self.target = LAB["daemons"][names["remote"]]
        self.label = "%s -> %s" % (names["primary"], names["remote"])
        self.cli = self.source["cli"]

    def primary(self):
        return LXDClient(url=self.source["url"], timeout=300)

    def remote(self):
        return LXDClient(url=self.target["url"], timeout=300)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    benchlib.add_daemon_argument(parser, "pair(s)")
    parser.add_argument("--count", type=int, default=int(os.environ.get("LXDOPS_BENCH_REPLICAS", "20")),
                        help="running busybox instances to replicate (default 20)")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("LXDOPS_BENCH_REPEAT", "3")),
                        help="timed refreshes per contender (default 3)")
    parser.add_argument("--parallel", default=os.environ.get("LXDOPS_BENCH_PARALLEL", "2,4"),
                        help="lxd_replica parallel values, comma separated (default 2,4)")
    parser.add_argument("--change-kb", type=int, default=4, help="size of the new file per source and round")
    parser.add_argument("--large-mb", type=int, default=int(os.environ.get("LXDOPS_BENCH_LARGE_MB", "200")),
                        help="data in the larger instance, MB (default 200; 0 skips part 2)")
    parser.add_argument("--large-change-mb", type=int, default=1, help="MB rewritten in place before a refresh")
    args = parser.parse_args()
    args.kinds = benchlib.daemon_kinds(args.daemon)
    args.parallel = [int(p) for p in args.parallel.split(",") if p.strip()]
    if args.count < 1 or args.rounds < 1 or not args.parallel or min(args.parallel) < 1:
        parser.error("--count, --rounds and every --parallel value must be 1 or more")
    if args.large_mb and not 0 < args.large_change_mb <= args.large_mb:
        parser.error("--large-change-mb must be between 1 and --large-mb")
    return args


def ratio(numerator, denominator):
    return round(numerator / denominator, 2) if denominator and numerator else None


# ------------------------------------------------------------------ setup and cleanup

def create_running(pair, names, devices=None):
    def create(name):
        client = pair.primary()
        body = {"name": name, "source": {"type": "image", "alias": IMAGE}}
        if devices:
            body["devices"] = devices
        client.post("/1.0/instances", body)
        client.put(api_path("instances", name, "state"), {"action": "start", "timeout": 60})
        client.close()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(create, names))


def create_pool(client, data_mb):
    # Room for the data twice (a refresh receives the volume beside the old one), the changes, btrfs's metadata.
    # The loop file is sparse.
    size = max(2, int(math.ceil(data_mb * 4 / 1024.0)))
    client.post("/1.0/storage-pools", {"name": POOL, "driver": "btrfs", "config": {"size": "%dGiB" % size}})


def delete_ours(client):
    """Delete this run's instances (their snapshots go with them), then its pool. Never raises."""
    problems = []
    try:
        names = [n.rsplit("/", 1)[-1] for n in client.get("/1.0/instances").metadata or []]
    except LXDError as exc:
        return ["%s: %s" % (client.url, exc.message)]

    def delete(name):
        worker = LXDClient(url=client.url)
        try:
            benchlib.delete_instance(worker, name)
        except LXDError as exc:
            problems.append("%s %s: %s" % (client.url, name, exc.message))
        finally:
            worker.close()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(delete, [n for n in names if n.startswith(PREFIX)]))
    try:
        benchlib.delete_pool(client, POOL)
    except LXDError as exc:
        problems.append("%s pool %s: %s" % (client.url, POOL, exc.message))
    return problems


def cleanup(pair):
    problems = []
    for make in (pair.remote, pair.primary):
        client = make()
        problems.extend(delete_ours(client))
        client.close()
    for problem in problems:
        print("cleanup: " + problem, file=sys.stderr)


def cli_conf(workdir, pair):
    """A configuration folder for the pair's CLI: the lab's client certificate, the remote daemon pinned."""
    conf = Path(workdir) / pair.kind
    (conf / "servercerts").mkdir(parents=True)
    shutil.copy(LAB["client_cert"], conf / "client.crt")
    shutil.copy(LAB["client_key"], conf / "client.key")
    os.chmod(conf / "client.key", 0o600)
    shutil.copy(pair.target["server_cert"], conf / "servercerts" / (LXC_REMOTE + ".crt"))
    (conf / "config.yml").write_text(yaml.safe_dump({
        "default-remote": "local",
        "remotes": {"local": {"addr": "unix://", "public": False},
                    # Each CLI names the protocol of its own private servers after the daemon.
                    LXC_REMOTE: {"addr": pair.target["https_url"], "auth_type": "tls", "protocol": pair.kind,
                                 "public": False}},
        "aliases": {}}))
    return conf


# ------------------------------------------------------------------ changes

def change_small(pair, names, size, seq):
    """A new file of `size` random bytes in every source; returns (path, {name: content})."""
    path = "/root/brep-change-%d.bin" % seq
    contents = dict((name, os.urandom(size)) for name in names)

    def push(name):
        client = pair.primary()
        client.push_file(name, path, io.BytesIO(contents[name]), size)
        client.close()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(push, names))
    return path, contents


def run_in(client, name, command):
    code, out, err = client.execute(name, ["sh", "-c", command])
    if code != 0:
        raise SystemExit("%s in %s failed (%s): %s" % (command, name, code, (out + err).decode()[-500:]))
    return out.decode()


def change_large(client, name, data_mb, megabytes, seq, snapshot):
    """Rewrite `megabytes` of the data file in place (a different place each time); snapshot after, if asked."""
    run_in(client, name, "dd if=/dev/urandom of=%s bs=1M count=%d seek=%d conv=notrunc 2>/dev/null && sync"
           % (DATA, megabytes, (seq * megabytes) % max(1, data_mb - megabytes)))
    if snapshot:
        client.post(api_path("instances", name, "snapshots"), {"name": "brep%d" % seq})


# ------------------------------------------------------------------ the contenders

def run_ours(workdir, pair, names, parallel):
    """One ansible-playbook run of lxd_replica; (wall seconds, module result)."""
    # The minimal callback prints the module's result as JSON: per-instance seconds, and proof all were done.
    elapsed, out = benchlib.run_playbook(workdir, OURS, {
        "source_url": pair.source["url"], "names": names, "parallel": parallel,
        "remote": {"url": pair.target["https_url"], "client_cert": LAB["client_cert"],
                   "client_key": LAB["client_key"], "server_cert": pair.target["server_cert"]}},
        env={"ANSIBLE_STDOUT_CALLBACK": "minimal"})
    result = json.loads(out.split(" => ", 1)[1])
    done = [r["name"] for r in result["results"] if r["action"] in ("created", "refreshed")]
    if done != names:
        raise SystemExit("lxd_replica did not copy every instance: %s" % result["summary"])
    return elapsed, result


def run_peer(pair, conf, names, errors=None):
    """The serial CLI loop; wall seconds, or None when it failed and `errors` collects why."""
    env = dict(os.environ)
    env[pair.source["dir_env"]] = pair.source["dir"]
    env[KIND_FACTS[pair.kind]["cli_conf_env"]] = str(conf)
    started = time.monotonic()
    proc = subprocess.run(["bash", "-c", PEER % (" ".join(names), pair.cli, LXC_REMOTE, PEER_SUFFIX)],
                          env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0 and errors is not None:
        errors.append(proc.stderr.strip()[-300:])
        return None
    if proc.returncode != 0:
        raise SystemExit("%s copy --refresh failed:\n" % pair.cli + proc.stdout[-2000:] + proc.stderr[-2000:])
    return elapsed


# ------------------------------------------------------------------ checks

class _Digest:
    def __init__(self):
        self.hash = hashlib.md5()

    def write(self, data):
        self.hash.update(data)
        return len(data)


def remote_file(pair, name, path, digest=False):
    client = pair.remote()
    sink = _Digest() if digest else io.BytesIO()
    client.pull_file(name, path, sink)
    client.close()
    return sink.hash.hexdigest() if digest else sink.getvalue()


def check_small(pair, names, last_change):
    """Every replica holds the change its contender's last refresh was timed with."""
    for label, (path, contents) in last_change.items():
        suffix = PEER_SUFFIX if label == "peer" else ""
        for name in names:
            if remote_file(pair, name + suffix, path) != contents[name]:
                raise SystemExit("the replica %s%s lacks the last change (%s)" % (name, suffix, path))


# ------------------------------------------------------------------ the two parts

def bench_many(workdir, pair, conf, args):
    names = ["%s%02d" % (PREFIX, index) for index in range(args.count)]
    started = time.monotonic()
    create_running(pair, names)
    setup = time.monotonic() - started
    labels = ["parallel=%d" % p for p in args.parallel]
    contenders = list(zip(labels, args.parallel)) + [("peer", None)]
    first_ours, _result = run_ours(workdir, pair, names, args.parallel[0])
    peer_errors = []
    first_peer = run_peer(pair, conf, names, peer_errors)
    runs = dict((label, []) for label, _p in contenders)
    last_change = {}
    seq = 0
    for round_index in range(args.rounds):
        # Each round starts with another contender, so none always runs on warm caches.
        shift = round_index % len(contenders)
        for label, parallel in contenders[shift:] + contenders[:shift]:
            seq += 1
            change = change_small(pair, names, args.change_kb * 1024, seq)
            if parallel is None:
                # A failed loop is counted and the rounds go on: the CLI's own failures are part of the result.
                runs[label].append(run_peer(pair, conf, names, peer_errors))
                if runs[label][-1] is not None:
                    last_change["peer"] = change
            else:
                runs[label].append(run_ours(workdir, pair, names, parallel)[0])
                last_change["ours"] = change
            print("  %s round %d %-11s %s" % (pair.kind, round_index + 1, label,
                                              "failed" if runs[label][-1] is None else "%6.2f s" % runs[label][-1]),
                  flush=True)
    check_small(pair, names, last_change)
    peer_ok = [x for x in runs["peer"] if x is not None]
    peer_median = benchlib.median(peer_ok) if peer_ok else None
    result = {"instances": args.count, "rounds": args.rounds, "change_kb": args.change_kb, "setup_s": round(setup, 1),
              "first_copy_s": {"ours parallel=%d" % args.parallel[0]: round(first_ours, 2),
                               "peer": first_peer if first_peer is None else round(first_peer, 2)},
              "peer": {"median_s": peer_median, "runs_s": [x if x is None else round(x, 2) for x in runs["peer"]],
                       "failed_runs": len(peer_errors), "errors": peer_errors}}
    for label in labels:
        ours = benchlib.median(runs[label])
        result["ours " + label] = {"median_s": ours, "runs_s": [round(x, 2) for x in runs[label]],
                                   "ratio_peer_over_ours": ratio(peer_median, ours)}
    return result


def bench_large(workdir, pair, args):
    client = pair.primary()
    sources = {"btrfs": PREFIX + "big-btrfs", "dir": PREFIX + "big-dir"}
    started = time.monotonic()
    for make in (pair.primary, pair.remote):
        pool_client = make()
        create_pool(pool_client, args.large_mb)
        pool_client.close()
    create_running(pair, [sources["btrfs"]], devices={"root": {"type": "disk", "path": "/", "pool": POOL}})
    create_running(pair, [sources["dir"]])
    for name in sources.values():
        run_in(client, name, "dd if=/dev/urandom of=%s bs=1M count=%d 2>/dev/null && sync" % (DATA, args.large_mb))
        # A first snapshot, copied with the first copy: the base a later snapshot can be sent against.
        client.post(api_path("instances", name, "snapshots"), {"name": "brep0"})
    first = {}
    for pool, name in sources.items():
        first[pool] = round(run_ours(workdir, pair, [name], 1)[0], 2)
    setup = time.monotonic() - started
    modes = {"change": False, "change+snapshot": True}
    runs = dict((pool, dict((mode, {"wall": [], "module": []}) for mode in modes)) for pool in sources)
    seq = 0
    for round_index in range(args.rounds):
        pools = list(sources) if round_index % 2 == 0 else list(reversed(list(sources)))
        for pool in pools:
            for mode, snapshot in modes.items():
                seq += 1
                change_large(client, sources[pool], args.large_mb, args.large_change_mb, seq, snapshot)
                wall, result = run_ours(workdir, pair, [sources[pool]], 1)
                runs[pool][mode]["wall"].append(wall)
                runs[pool][mode]["module"].append(result["results"][0]["seconds"])
                print("  %s round %d %-5s %-15s %6.2f s (the module's own time for it %.2f s)"
                      % (pair.kind, round_index + 1, pool, mode, wall, result["results"][0]["seconds"]), flush=True)
    for pool, name in sources.items():
        source_sum = run_in(client, name, "md5sum %s" % DATA).split()[0]
        if remote_file(pair, name, DATA, digest=True) != source_sum:
            raise SystemExit("the replica %s does not hold the source's data" % name)
    client.close()
    result = {"data_mb": args.large_mb, "change_mb": args.large_change_mb, "rounds": args.rounds,
              "setup_s": round(setup, 1), "first_copy_s": first}
    for pool in sources:
        result[pool] = {}
        for mode in modes:
            wall, module = runs[pool][mode]["wall"], runs[pool][mode]["module"]
            result[pool][mode] = {"median_s": benchlib.median(wall), "runs_s": [round(x, 2) for x in wall],
                                  "refresh_median_s": benchlib.median(module), "refresh_runs_s": module}
    result["ratio_dir_over_btrfs"] = dict(
        (mode, {"playbook": ratio(result["dir"][mode]["median_s"], result["btrfs"][mode]["median_s"]),
                "refresh": ratio(result["dir"][mode]["refresh_median_s"], result["btrfs"][mode]["refresh_median_s"])})
        for mode in modes)
    return result


def report(results):
    """One table per part, a column per daemon kind."""
    kinds = [k for k in ("lxd", "incus") if k in results["kinds"]]
    heads = ["%s %s (%s)" % (KIND_FACTS[k]["name"], results["kinds"][k]["version"], results["kinds"][k]["pair"])
             for k in kinds]
    width = max(28, max(len(h) for h in heads) + 2)

    def row(label, cells):
        print("%-34s" % label + "".join(("%" + str(width) + "s") % c for c in cells))

    many = [results["kinds"][k]["many"] for k in kinds]
    print("\nReplicas of %d running busybox instances, %d KB new in each source before every refresh; "
          "medians of %d rounds" % (many[0]["instances"], many[0]["change_kb"], many[0]["rounds"]))
    print("ours = lxdops.server.lxd_replica run by ansible-playbook (Ansible's start-up included); "
          "peer = the CLI's serial `copy --refresh` loop (lxc, incus); (peer / ours)")
    row("", heads)
    for key in [k for k in many[0] if k.startswith("ours ")]:
        row("lxd_replica " + key[5:], ["%.2f s (%s)" % (m[key]["median_s"], m[key]["ratio_peer_over_ours"])
                                       for m in many])
    row("CLI copy --refresh loop", [("%.2f s" % m["peer"]["median_s"] if m["peer"]["median_s"] else "-")
                                    + (" (%d failed)" % m["peer"]["failed_runs"] if m["peer"]["failed_runs"] else "")
                                    for m in many])
    first_key = [k for k in many[0]["first_copy_s"] if k != "peer"][0]

    def first(copies):
        peer = "failed" if copies["peer"] is None else "%.2f s" % copies["peer"]
        return "%.2f s / %s" % (copies[first_key], peer)
    row("first copy: %s / loop" % first_key[5:], [first(m["first_copy_s"]) for m in many])
    large = [results["kinds"][k].get("large") for k in kinds]
    if not all(large):
        return
    print("\nOne running instance with %d MB of data, %d MB rewritten in place before every refresh; medians of %d "
          "rounds" % (large[0]["data_mb"], large[0]["change_mb"], large[0]["rounds"]))
    print("ansible-playbook wall time of lxd_replica (refresh = the module's own time for the instance)")
    row("", heads)
    for pool in ("btrfs", "dir"):
        for mode in ("change", "change+snapshot"):
            cells = [(part[pool][mode]["median_s"], part[pool][mode]["refresh_median_s"]) for part in large]
            row("%s, %s" % (pool, mode), ["%.2f s (refresh %.2f s)" % cell for cell in cells])
    for mode in ("change", "change+snapshot"):
        row("dir / btrfs refresh, %s" % mode, [str(part["ratio_dir_over_btrfs"][mode]["refresh"]) for part in large])
    row("first copy (one snapshot) btrfs/dir", ["%.2f s / %.2f s" % (part["first_copy_s"]["btrfs"],
                                                                     part["first_copy_s"]["dir"]) for part in large])


def bench_pair(workdir, pair, args):
    client = pair.primary()
    result = {"pair": pair.label, "version": client.server_info().get("environment", {}).get("server_version")}
    client.close()
    try:
        conf = cli_conf(workdir, pair)
        print("%s part 1: %d instances, %d rounds" % (pair.kind, args.count, args.rounds), flush=True)
        result["many"] = bench_many(workdir, pair, conf, args)
        if args.large_mb:
            print("%s part 2: %d MB instance on btrfs and on dir, %d rounds" % (pair.kind, args.large_mb, args.rounds),
                  flush=True)
            result["large"] = bench_large(workdir, pair, args)
    except LXDNotFound as exc:
        # lab-clean, and lab up or the end of a test session without LXDOPS_TEST_SESSION, delete every object
        # named with the lab prefix, this run's too.
        raise SystemExit("%s\nan object of this run vanished: was the lab cleaned meanwhile (lab-clean, lab-up, "
                         "./dev integration)? Run the benchmark alone on the lab." % exc.message)
    finally:
        cleanup(pair)
    return result


def main():
    args = parse_args()
    # A run on the lab like a test session: while it lasts, another run's lab-up cleans only its own names.
    lab_control.register_session(os.getpid())
    results = {"prefix": PREFIX, "ours_run_by": "ansible-playbook", "kinds": {}}
    with tempfile.TemporaryDirectory() as workdir:
        for kind in args.kinds:
            results["kinds"][kind] = bench_pair(workdir, Pair(kind), args)
    benchlib.write_results("replica", results)
    report(results)
    print("\n" + json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
