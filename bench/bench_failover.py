# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""RTO: fail over N instances with the primary down, then fail back with switch; ours against the manual's loops.

The lab's primary daemon plays the primary and its second daemon ("remote") the snapshot server. N running
busybox instances on the primary are replicated once (lxd_replica). Then, per round:
- ours, failover: the primary's instances are stopped (the host died) and its inventory host is unreachable (ssh to
  a closed port on 127.0.0.1); `ansible-playbook lxdops.server.failover -e failover_primary_down=true`; measured from
  the playbook's start to all N running on the snapshot server (polled), and the playbook's whole run;
- ours, failback with switch: the primary reachable again, its copies stopped (as the guard leaves them);
  `lxdops.server.failback -e failback_switch=true`; measured to all N running on the primary;
- peer: the same two steps as the manual does them by hand, serial `lxc` loops (config set autostart, start; stop,
  `copy --refresh` back, start, autostart off).
Every object is named with the lab prefix + $LXDOPS_TEST_SESSION + "brto-" + a tag of this run and deleted at the
end. Results: bench/results/failover.json and stdout. Not a test: nothing is asserted beyond every instance running
where it should at the end of each step.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

import benchlib  # first: it puts the built collection and tests/lab on sys.path
import bench_replica  # the LXD pair, running instances, the CLI's configuration
from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, LXDError, api_path

PREFIX = benchlib.run_prefix("brto")
PAIR = bench_replica.Pair("lxd")
PRIMARY, REMOTE = PAIR.source, PAIR.target

PEER_FAILOVER = 'for c in %s; do lxc config set "$c" boot.autostart true && lxc start "$c" || exit 1; done'
PEER_FAILBACK = ('for c in %s; do LXD_DIR=%s lxc stop "$c" && lxc copy --refresh %s:"$c" "$c" && lxc start "$c" '
                 '&& LXD_DIR=%s lxc config set "$c" boot.autostart false || exit 1; done')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=int(os.environ.get("LXDOPS_BENCH_FAILOVER", "20")),
                        help="running busybox instances (default 20)")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("LXDOPS_BENCH_FAILOVER_ROUNDS", "1")),
                        help="failover + failback rounds per contender (default 1)")
    args = parser.parse_args()
    if args.count < 1 or args.rounds < 1:
        parser.error("--count and --rounds must be 1 or more")
    return args


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def inventory(workdir, primary_down):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    primary = dict(local, lxdops_url=PRIMARY["url"])
    if primary_down:
        primary = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": closed_port(),
                   "ansible_ssh_common_args": "-o ConnectTimeout=2"}
    path = Path(workdir) / ("inventory-%s.yml" % ("down" if primary_down else "up"))
    path.write_text(yaml.safe_dump({"all": {"children": {
        "lxd_primary": {"hosts": {"bench-primary": primary}},
        "lxd_snapshot": {"hosts": {"bench-snapshot": dict(local, lxdops_url=REMOTE["url"])}}}}}))
    return path


def all_running(make_client, names):
    client = make_client()
    try:
        instances = client.get("/1.0/instances", params={"recursion": 1}).metadata or []
    finally:
        client.close()
    running = set(i["name"] for i in instances if i["status"] == "Running")
    return running.issuperset(names)


def timed(action, make_client, names):
    """Run action(); (seconds until every name runs on that server, seconds of the whole action)."""
    started = time.monotonic()
    reached = []
    done = threading.Event()

    def poll():
        while not done.is_set():
            if all_running(make_client, names):
                reached.append(time.monotonic() - started)
                return
            time.sleep(0.2)
    watcher = threading.Thread(target=poll)
    watcher.start()
    try:
        action()
    finally:
        whole = time.monotonic() - started
        if not reached and all_running(make_client, names):
            reached.append(whole)
        done.set()
        watcher.join()
    if not reached:
        raise SystemExit("not every instance runs at the end of the step")
    return round(reached[0], 2), round(whole, 2)


def stop_all(make_client, names):
    def stop(name):
        client = make_client()
        try:
            client.put(api_path("instances", name, "state"), {"action": "stop", "force": True, "timeout": 30})
        except LXDError as exc:
            if "already stopped" not in exc.message:
                raise
        finally:
            client.close()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(stop, names))


def playbook(workdir, inventory_path, name, extra):
    extra_file = Path(workdir) / ("extra-%s.json" % name)
    extra_file.write_text(json.dumps(extra))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(benchlib.COLLECTIONS), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(Path(workdir) / "tmp"), ANSIBLE_HOST_KEY_CHECKING="False")

    def run():
        proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory_path),
                               "lxdops.server." + name, "-e", "@%s" % extra_file],
                              env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit("%s failed:\n%s%s" % (name, proc.stdout[-4000:], proc.stderr[-2000:]))
    return run


def shell(script, env):
    def run():
        proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit("the manual loop failed:\n" + proc.stdout[-2000:] + proc.stderr[-2000:])
    return run


def remote():
    return LXDClient(url=REMOTE["url"], timeout=300)


def primary():
    return LXDClient(url=PRIMARY["url"], timeout=300)


def round_ours(workdir, names):
    stop_all(primary, names)
    failover = timed(playbook(workdir, inventory(workdir, True), "failover",
                              {"failover_primary_down": True, "failover_instances": names}), remote, names)
    failback = timed(playbook(workdir, inventory(workdir, False), "failback",
                              {"failback_switch": True, "failback_instances": names,
                               "failback_primary_url": PRIMARY["https_url"],
                               "failback_source_address": REMOTE["https_url"][len("https://"):]}), primary, names)
    return failover, failback


def round_peer(conf, names):
    stop_all(primary, names)
    listed = " ".join(names)
    env = dict(os.environ, LXD_DIR=REMOTE["dir"], LXD_CONF=str(conf))
    failover = timed(shell(PEER_FAILOVER % listed, env), remote, names)
    env = dict(os.environ, LXD_DIR=PRIMARY["dir"], LXD_CONF=str(conf))
    failback = timed(shell(PEER_FAILBACK % (listed, REMOTE["dir"], bench_replica.LXC_REMOTE, REMOTE["dir"]), env),
                     primary, names)
    return failover, failback


def cleanup():
    for make in (remote, primary):
        client = make()
        try:
            names = [n.rsplit("/", 1)[-1] for n in client.get("/1.0/instances").metadata or []]
            ours = [n for n in names if n.startswith(PREFIX)]
            stop_all(make, ours)
            for name in ours:
                client.delete(api_path("instances", name))
        except LXDError as exc:
            print("cleanup %s: %s" % (client.url, exc.message), file=sys.stderr)
        finally:
            client.close()


def summary(runs):
    return {"to_all_running_median_s": round(statistics.median(r[0] for r in runs), 2),
            "playbook_or_loop_median_s": round(statistics.median(r[1] for r in runs), 2),
            "runs": [{"to_all_running_s": r[0], "whole_s": r[1]} for r in runs]}


def main():
    args = parse_args()
    names = ["%s%02d" % (PREFIX, index) for index in range(args.count)]
    results = {"prefix": PREFIX, "instances": args.count, "rounds": args.rounds}
    # A run on the lab like a test session: while it lasts, another run's lab-up cleans only its own names.
    bench_replica.lab_control.register_session(os.getpid())
    try:
        with tempfile.TemporaryDirectory() as workdir:
            conf = bench_replica.cli_conf(workdir, PAIR)
            started = time.monotonic()
            bench_replica.create_running(PAIR, names)
            bench_replica.run_ours(workdir, PAIR, names, 4)
            results["setup_s"] = round(time.monotonic() - started, 1)
            runs = {"ours": ([], []), "peer": ([], [])}
            for index in range(args.rounds):
                for label in (("ours", "peer") if index % 2 == 0 else ("peer", "ours")):
                    failover, failback = round_ours(workdir, names) if label == "ours" else round_peer(conf, names)
                    runs[label][0].append(failover)
                    runs[label][1].append(failback)
                    print("  round %d %-4s failover %6.2f s to all running (%6.2f s whole), failback %6.2f s "
                          "(%6.2f s whole)" % ((index + 1, label) + failover + failback), flush=True)
            for label, (failovers, failbacks) in runs.items():
                results[label] = {"failover": summary(failovers), "failback_switch": summary(failbacks)}
    finally:
        cleanup()
    benchlib.write_results("failover", results)
    print("\nRTO with %d running busybox instances, medians of %d round(s); ours = the collection's playbooks run by "
          "ansible-playbook (start-up included), peer = the manual's serial lxc loops" % (args.count, args.rounds))
    for step in ("failover", "failback_switch"):
        for label in ("ours", "peer"):
            cell = results[label][step]
            print("  %-16s %-4s %7.2f s to all running  (%7.2f s whole)" % (
                step, label, cell["to_all_running_median_s"], cell["playbook_or_loop_median_s"]))
    print("\n" + json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
