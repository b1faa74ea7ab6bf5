# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops-replicate: the nightly replication, run by a systemd timer or cron on the primary.

The snapshot_server role installs this package's module_utils on the primary and a small shell script that runs
main(); the replication itself is replica.Replicator, the code lxdops.server.lxd_replica runs.
Exit status: 0 when every instance was replicated, 1 when any failed or was left alone (its replica runs),
2 when the run could not start (bad config, a server not answering, not trusted).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, LXDError
from ansible_collections.lxdops.server.plugins.module_utils.replica import (
    Replicator,
    check_names,
    failures,
    summarize,
)

DEFAULT_CONFIG = "/etc/lxdops/replicate.json"
CONNECTION_KEYS = ("url", "client_cert", "client_key", "server_cert", "verify", "project", "timeout")


def load_config(path):
    """The JSON the role writes; raises ValueError naming the file and what is wrong."""
    try:
        with open(path) as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ValueError("cannot read %s: %s" % (path, exc))
    if not isinstance(config, dict):
        raise ValueError("%s: expected a JSON object" % path)
    remote = config.get("remote")
    if not isinstance(remote, dict) or not str(remote.get("url", "")).startswith("https://"):
        raise ValueError("%s: remote.url must be https://host:port (got %r)" % (path, (remote or {}).get("url")))
    for key in ("source", "remote"):
        unknown = sorted(set(config.get(key) or {}) - set(CONNECTION_KEYS))
        if unknown:
            raise ValueError("%s: unknown %s keys %s (accepted: %s)" % (path, key, ", ".join(unknown),
                                                                        ", ".join(CONNECTION_KEYS)))
    config["instances"] = check_names(config.get("instances", ["all"]))
    return config


def client_factory(options):
    options = dict(options or {})
    return lambda: LXDClient(
        url=options.get("url"),
        client_cert=options.get("client_cert"),
        client_key=options.get("client_key"),
        server_cert=options.get("server_cert"),
        verify=options.get("verify", True),
        project=options.get("project") or "default",
        timeout=options.get("timeout") or 60,
    )


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


def main(argv=None, stream=None):
    parser = argparse.ArgumentParser(prog="lxdops-replicate", description="Copy or refresh this server's "
                                     "instances on the snapshot server (see /etc/lxdops/replicate.json).")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the JSON written by the snapshot_server role")
    parser.add_argument("--check", action="store_true", help="say what would be done, change nothing")
    parser.add_argument("instances", nargs="*", help="instance names (default: those of the config)")
    args = parser.parse_args(argv)
    stream = stream or sys.stdout
    try:
        config = load_config(args.config)
        if args.instances:
            config["instances"] = check_names(args.instances)
    except ValueError as exc:
        stream.write("lxdops-replicate: %s\n" % exc)
        return 2
    log = Log(config.get("log_file"), stream)
    replicator = Replicator(client_factory(config.get("source")), client_factory(config["remote"]),
                            refresh=config.get("refresh", True), instance_only=config.get("instance_only", False),
                            target_config=config.get("target_config", {"boot.autostart": False}),
                            parallel=int(config.get("parallel", 2)), retries=int(config.get("retries", 1)),
                            source_address=config.get("source_address"), log=log)
    target = config["remote"]["url"]
    log("replicating %s to %s%s" % (", ".join(config["instances"]), target, " (check)" if args.check else ""))
    try:
        results = replicator.run(config["instances"], check_mode=args.check)
    except LXDError as exc:
        log("replication to %s did not start: %s" % (target, exc.message))
        return 2
    summary = summarize(results)
    failed = failures(results)
    for result in failed:
        log("FAILED %s: %s" % (result["name"], result["error"]))
    log("done: %s" % ", ".join("%d %s" % (count, action) for action, count in sorted(summary.items())))
    return 1 if failed else 0
