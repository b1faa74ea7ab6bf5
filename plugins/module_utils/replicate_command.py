# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops-replicate: the scheduled replication, run by a systemd timer or cron on the primary.

The snapshot_server role installs this module, and the module_utils it imports, on the primary, with a small shell
script that runs main(); the replication itself is replica.Replicator, the code lxdops.server.lxd_replica runs,
and it takes the same host-wide lock (config lock_path, lock_wait), so only one replication runs at a time.

Exit status of a run:
  0  every instance was copied or refreshed;
  1  any instance failed or was left alone (its replica runs, or was failed over), or the metrics file could not
     be written;
  2  the run did not start (bad config, a server not answering, not trusted, the lock file cannot be opened);
  3  another replication held the lock for lock_wait seconds: this run did nothing ("already running").
With metrics_dir set, every run (but --check) writes Prometheus textfile metrics there (replica_metrics.py).

lxdops-replicate --status prints each replica's age: the time since the start of the last run that copied or
refreshed it, as recorded in the metrics file (only a run that finished the copy records it), for the instances
the source has now and with the replica's state read from the snapshot server. Exit status:
  0  every replica is at most --max-age seconds old (default: config max_age, else 90000);
  1  any is older, was never replicated, or has no replica on the snapshot server;
  2  what it needs cannot be read (config, metrics file, either server): never "all fine" on a failed read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from ansible_collections.lxdops.server.plugins.module_utils import replica_metrics
from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, client_from_options
from ansible_collections.lxdops.server.plugins.module_utils.replica import (
    DEFAULT_LOCK_PATH,
    DEFAULT_LOCK_WAIT,
    ReplicationBusy,
    Replicator,
    check_names,
    check_projects,
    failures,
    result_key,
    summarize,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_STARTED = 2
EXIT_BUSY = 3
DEFAULT_MAX_AGE = 90000
DEFAULT_CONFIG = "/etc/lxdops/replicate.json"
CONNECTION_KEYS = ("url", "client_cert", "client_key", "server_cert", "verify", "project", "timeout")


def read_json_object(path):
    """A settings file the role writes: a JSON object; raises ValueError naming the file and what is wrong."""
    try:
        with open(path) as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ValueError("cannot read %s: %s" % (path, exc))
    if not isinstance(config, dict):
        raise ValueError("%s: expected a JSON object" % path)
    return config


def load_config(path):
    """The JSON the role writes; raises ValueError naming the file and what is wrong."""
    config = read_json_object(path)
    remote = config.get("remote")
    if not isinstance(remote, dict) or not str(remote.get("url", "")).startswith("https://"):
        raise ValueError("%s: remote.url must be https://host:port (got %r)" % (path, (remote or {}).get("url")))
    for key in ("source", "remote"):
        unknown = sorted(set(config.get(key) or {}) - set(CONNECTION_KEYS))
        if unknown:
            raise ValueError("%s: unknown %s keys %s (accepted: %s)" % (path, key, ", ".join(unknown),
                                                                        ", ".join(CONNECTION_KEYS)))
    config["instances"] = check_names(config.get("instances", ["all"]))
    try:
        config["projects"] = check_projects(config.get("projects"))
    except ValueError as exc:
        raise ValueError("%s: %s" % (path, exc))
    config["lock_path"] = config.get("lock_path") or DEFAULT_LOCK_PATH
    config["metrics_dir"] = config.get("metrics_dir") or ""
    for key, default, minimum in (("lock_wait", DEFAULT_LOCK_WAIT, 0), ("max_age", DEFAULT_MAX_AGE, 1)):
        value = config.get(key)
        value = default if value in (None, "") else value
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError("%s: %s must be a whole number of seconds, %d or more (got %r)"
                             % (path, key, minimum, value))
        config[key] = value
    for key in ("lock_path", "metrics_dir"):
        if config[key] and not os.path.isabs(str(config[key])):
            raise ValueError("%s: %s must be an absolute path (got %r)" % (path, key, config[key]))
    return config


def client_factory(options):
    # An unattended command never tries to become trusted: the pair is trusted when the role installs it.
    options = dict(options or {}, trust_token=None, trust_password=None)
    return lambda: client_from_options(options)


class Log:
    """Lines with a timestamp to stdout (the journal, or cron's mail) and to an optional file."""

    def __init__(self, path=None, stream=None):
        self.path = path
        self.stream = stream or sys.stdout

    def __call__(self, message):
        line = "%s %s" % (time.strftime("%Y-%m-%dT%H:%M:%S"), message)
        self.stream.write(line + "\n")
        self.stream.flush()
        if self.path:
            with open(self.path, "a") as handle:
                handle.write(line + "\n")


def replicator_for(config, log):
    """Raises ValueError (a bad target_config) before any request."""
    return Replicator(client_factory(config.get("source")), client_factory(config["remote"]),
                      refresh=config.get("refresh", True), instance_only=config.get("instance_only", False),
                      target_config=config.get("target_config", {"boot.autostart": False}),
                      parallel=int(config.get("parallel", 2)), retries=int(config.get("retries", 1)),
                      source_address=config.get("source_address"), log=log, projects=config.get("projects"),
                      lock_path=config["lock_path"], lock_wait=config["lock_wait"])


def write_metrics(config, log, change):
    """Apply change to the metrics file when metrics_dir is set; False (logged) when it could not be written."""
    if not config["metrics_dir"]:
        return True
    try:
        path = replica_metrics.update(config["metrics_dir"], change)
    except (OSError, ValueError) as exc:
        log("metrics NOT written in %s: %s" % (config["metrics_dir"], exc))
        return False
    log("metrics written to %s" % path)
    return True


def replicate(config, args, log):
    target = config["remote"]["url"]
    complete = config["instances"] == ["all"]
    started = time.time()

    def not_started(state):
        return replica_metrics.merge_run(state, target, None, started, time.time(), EXIT_NOT_STARTED, complete)

    log("replicating %s to %s%s" % (", ".join(config["instances"]), target, " (check)" if args.check else ""))
    try:
        replicator = replicator_for(config, log)
        results = replicator.run(config["instances"], check_mode=args.check)
    except ReplicationBusy as exc:
        log("already running, exit %d: %s" % (EXIT_BUSY, exc.message))
        if not args.check:
            write_metrics(config, log, lambda state: replica_metrics.merge_lock_busy(state, target))
        return EXIT_BUSY
    except (LXDError, ValueError) as exc:
        log("replication to %s did not start: %s" % (target, getattr(exc, "message", None) or exc))
        if not args.check:
            write_metrics(config, log, not_started)
        return EXIT_NOT_STARTED
    summary = summarize(results)
    failed = failures(results)
    for result in failed:
        log("FAILED %s: %s" % (result_key(result.get("project"), result["name"]), result["error"]))
    log("done: %s" % ", ".join("%d %s" % (count, action) for action, count in sorted(summary.items())))
    code = EXIT_FAILED if failed else EXIT_OK
    if not args.check:
        ended = time.time()
        if not write_metrics(config, log, lambda state: replica_metrics.merge_run(
                state, target, results, started, ended, code, complete)):
            code = EXIT_FAILED
    return code


def status(config, max_age, stream, now=None):
    """Prints each replica's age; the exit status (0 fresh, 1 any too old or missing, 2 cannot tell)."""
    def say(message):
        stream.write(message + "\n")
        stream.flush()

    folder = config["metrics_dir"]
    if not folder:
        say("lxdops-replicate --status: cannot tell: metrics_dir is not set, and the last success times are kept "
            "in its metrics file (snapshot_server_metrics_dir)")
        return EXIT_NOT_STARTED
    path = os.path.join(folder, replica_metrics.FILE_NAME)
    try:
        if not os.path.exists(path):
            raise ValueError("%s does not exist: no run has written metrics yet" % path)
        state = replica_metrics.read(folder)
        projects, missing = replicator_for(config, lambda message: None).survey(config["instances"])
    except (OSError, ValueError, LXDError) as exc:
        say("lxdops-replicate --status: cannot tell: %s" % (getattr(exc, "message", None) or exc))
        return EXIT_NOT_STARTED
    target = config["remote"]["url"]
    now = time.time() if now is None else now
    ages = replica_metrics.ages(state, target, now)
    stale = []
    for name in missing:
        say("%s: STALE: no such instance on the source server" % name)
        stale.append(name)
    for source_project, _target_project, names, _instances, replicas, actions in projects:
        for name in names:
            key = result_key(source_project, name)
            age = ages.get((source_project, name))
            replica = replicas.get(name)
            where = "replica %s" % replica.get("status", "?") if replica else "no replica on the snapshot server"
            action, reason = actions[name]
            note = "; %s" % reason if action in ("fail", "block", "skip") and reason else ""
            if age is None:
                say("%s: STALE: never replicated (%s%s)" % (key, where, note))
            else:
                success = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - age))
                verdict = "ok" if age <= max_age and replica else "STALE"
                say("%s: %s: age %d s, data of %s (%s%s)" % (key, verdict, age, success, where, note))
                if verdict == "ok":
                    continue
            stale.append(key)
    count = len(missing) + sum(len(p[2]) for p in projects)
    if stale:
        say("%d of %d replicas older than %d s or missing: %s" % (len(stale), count, max_age, ", ".join(stale)))
        return EXIT_FAILED
    say("%d replicas, none older than %d s" % (count, max_age))
    return EXIT_OK


def main(argv=None, stream=None):
    parser = argparse.ArgumentParser(
        prog="lxdops-replicate", description="Copy or refresh this server's instances on the snapshot server (see "
        "/etc/lxdops/replicate.json). Exit status: 0 all replicated, 1 some failed or were left alone, 2 the run "
        "did not start, 3 another replication is already running.")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the JSON written by the snapshot_server role")
    parser.add_argument("--check", action="store_true", help="say what would be done, change nothing")
    parser.add_argument("--status", action="store_true",
                        help="print each replica's age and exit 1 when one is older than --max-age (2: cannot tell)")
    parser.add_argument("--max-age", type=int, metavar="SECONDS",
                        help="with --status: the oldest replica that is fine (default: max_age of the config)")
    parser.add_argument("instances", nargs="*", help="instance names (default: those of the config)")
    args = parser.parse_args(argv)
    stream = stream or sys.stdout
    try:
        config = load_config(args.config)
        if args.instances:
            config["instances"] = check_names(args.instances)
        if args.max_age is not None and args.max_age < 1:
            raise ValueError("--max-age must be 1 or more seconds (got %d)" % args.max_age)
    except ValueError as exc:
        stream.write("lxdops-replicate: %s\n" % exc)
        return EXIT_NOT_STARTED
    if args.status:
        return status(config, args.max_age or config["max_age"], stream)
    return replicate(config, args, Log(config.get("log_file"), stream))
