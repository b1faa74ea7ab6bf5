# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the benchmarks share: the lab, their objects' names, the --daemon option, timed ansible-playbook runs on
localhost, clean-up and the results file.

Imported first by every bench_*.py: it puts the built collection and the lab's helpers on sys.path.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COLLECTIONS = ROOT / ".build" / "collections"
sys.path[:0] = [str(COLLECTIONS), str(ROOT / "tests" / "lab")]

# pylint: disable=wrong-import-position
from ansible_collections.lxdops.server.plugins.module_utils.client import api_path  # noqa: E402
# pylint: enable=wrong-import-position

LAB = json.loads((ROOT / ".build" / "lab" / "lab.json").read_text())
IMAGE = LAB["images"]["busybox"]["alias"]


def run_prefix(tag):
    """The names of this run's objects: the lab prefix, $LXDOPS_TEST_SESSION, the benchmark's tag and a tag of this
    run, so a second run (or a crashed one's leftovers) never collides with this one."""
    return "%s%s%s-%s-" % (LAB["prefix"], os.environ.get("LXDOPS_TEST_SESSION", ""), tag, uuid.uuid4().hex[:4])


def add_daemon_argument(parser, what, default="both", env="LXDOPS_BENCH_DAEMON"):
    """--daemon lxd, incus or both; daemon_kinds(args.daemon) lists the kinds to run."""
    default = os.environ.get(env, default)
    parser.add_argument("--daemon", choices=["lxd", "incus", "both"], default=default,
                        help="the lab %s to measure (default %s; both: LXD, then Incus)" % (what, default))


def daemon_kinds(daemon):
    return ["lxd", "incus"] if daemon == "both" else [daemon]


def median(values):
    return round(statistics.median(values), 2)


def local_play(module, args, task, loop=None):
    """A playbook of one play on localhost (no facts) of one task: the module with args, over loop if given."""
    step = {"name": task, module: args}
    if loop is not None:
        step["loop"] = loop
    return yaml.safe_dump([{"name": module, "hosts": "localhost", "gather_facts": False, "tasks": [step]}],
                          sort_keys=False)


def run_playbook(workdir, play, extra_vars, collections=(), env=None, interpreter=None):
    """One ansible-playbook run of the play (text) on localhost, timed whole; (seconds, stdout).

    The collection as built comes first on the collections path, then the given ones; env is added to the
    environment; interpreter is the Python the modules run with (this one by default). A failed run ends the
    benchmark with its output.
    """
    workdir = Path(workdir)
    play_path, inventory, extra = workdir / "play.yml", workdir / "inventory.yml", workdir / "vars.yml"
    play_path.write_text(play)
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": interpreter or sys.executable}}}}))
    extra.write_text(yaml.safe_dump(extra_vars))
    run_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=":".join([str(COLLECTIONS)] + list(collections)),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"))
    run_env.update(env or {})
    started = time.monotonic()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                           "-e", "@%s" % extra, str(play_path)], env=run_env, capture_output=True, text=True,
                          check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit("ansible-playbook failed:\n" + proc.stdout[-4000:] + proc.stderr[-2000:])
    return elapsed, proc.stdout


def delete_instance(client, name):
    """Stop (forced) unless stopped, then delete; raises LXDError."""
    if client.get(api_path("instances", name, "state")).metadata.get("status") != "Stopped":
        client.put(api_path("instances", name, "state"), {"action": "stop", "force": True, "timeout": 30})
    client.delete(api_path("instances", name))


def delete_pool(client, pool):
    """Delete a pool this run made, with the image volumes its instances were created from (the last volumes left
    in it); nothing when it is not there. Raises LXDError."""
    if client.exists(api_path("storage-pools", pool)) is None:
        return
    for volume in client.get(api_path("storage-pools", pool, "volumes"), params={"recursion": 1}).metadata:
        if volume["type"] == "image":
            client.delete(api_path("storage-pools", pool, "volumes", "image", volume["name"]))
    client.delete(api_path("storage-pools", pool))


def write_results(name, results):
    """<name>.json in bench/results, or in $LXDOPS_BENCH_RESULTS (a trial run that keeps the recorded figures);
    returns its path."""
    path = Path(os.environ.get("LXDOPS_BENCH_RESULTS") or HERE / "results") / ("%s.json" % name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
