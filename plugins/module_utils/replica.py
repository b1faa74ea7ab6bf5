# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Replicas of instances on another LXD server: first copy, then `copy --refresh`, every run.

Shared by the lxd_replica module and the lxdops-replicate command the snapshot_server role installs, so
both replicate the same way. Rules kept here:
- a running source may be refreshed; a running replica is never overwritten (it is skipped, and reported);
- the replica's own snapshot schedule is switched off (snapshots are the primary's), and the source's value is
  kept in user.lxdops.source.snapshots.schedule for failover;
- target config (boot.autostart false, ...) is applied after every copy, since a refresh brings the source's
  config back;
- every instance is tried (with retries, in parallel workers); a failure never deletes an existing replica.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import to_lxd_string
from ansible_collections.lxdops.server.plugins.module_utils.instance import writable

SCHEDULE_KEY = "snapshots.schedule"
SAVED_SCHEDULE_KEY = "user.lxdops.source.snapshots.schedule"
# Marks replicas, so failover.yml can find "all" of them.
REPLICA_KEY = "user.lxdops.replica"
# Set by failover on the snapshot server's copy it started (RFC 3339 time): that copy holds the newest data until
# failback, so it is never overwritten and the primary must not run the instance.
FAILED_OVER_KEY = "user.lxdops.failed_over"
# Set by the guard on the primary's instance it stopped because the snapshot server took it over; failback clears it.
FENCED_KEY = "user.lxdops.fenced"
# Per-server state: never carried from one server to the other by a copy.
SERVER_LOCAL_KEYS = (FAILED_OVER_KEY, FENCED_KEY)
DEFAULT_TARGET_CONFIG = {SCHEDULE_KEY: ""}


def effective_target_config(target_config):
    """The config applied to every replica: snapshots off unless the caller says otherwise."""
    config = dict(DEFAULT_TARGET_CONFIG)
    config.update(target_config or {})
    return config


def replica_config(current, target_config, source_schedule):
    """The replica's config after a copy: target config applied, the source's schedule kept, the marker set. Pure.

    A refresh brings the source's config back, so this runs after every copy and refresh.
    """
    config = dict(current or {})
    wanted = {REPLICA_KEY: "true"}
    wanted.update(target_config)
    wanted[SAVED_SCHEDULE_KEY] = source_schedule or None
    for key, value in wanted.items():
        value = to_lxd_string(value)
        if value in (None, ""):
            config.pop(key, None)
        else:
            config[key] = value
    return config


def plan(names, source_instances, replicas, refresh):
    """{name: (action, reason)}: create, refresh, skip (nothing to do), block (replica running) or fail. Pure.

    source_instances: {name: instance}; replicas: {name: replica instance or None}.
    """
    result = {}
    for name in names:
        if name not in source_instances:
            result[name] = ("fail", "no instance %r on the source server" % name)
            continue
        replica = replicas.get(name)
        if replica is None:
            result[name] = ("create", None)
        elif not refresh:
            result[name] = ("skip", "the replica exists and refresh is off")
        elif replica.get("status") != "Stopped":
            result[name] = ("block", "the replica is %s on the target server; it is never overwritten while it "
                                     "runs" % replica.get("status"))
        else:
            result[name] = ("refresh", None)
    return result


def replica_body(source_instance, instance_only, refresh, operation_url, certificate, secrets):
    """The POST /1.0/instances body that makes the target pull the instance from the source."""
    config = dict((k, v) for k, v in (source_instance.get("config") or {}).items() if not k.startswith("volatile."))
    schedule = config.get(SCHEDULE_KEY)
    if schedule:
        config[SAVED_SCHEDULE_KEY] = schedule
    return {
        "name": source_instance["name"],
        "type": source_instance.get("type", "container"),
        "architecture": source_instance.get("architecture"),
        "config": config,
        "devices": source_instance.get("devices") or {},
        "profiles": source_instance.get("profiles") or [],
        "ephemeral": False,
        "description": source_instance.get("description", ""),
        "source": {
            "type": "migration",
            "mode": "pull",
            "operation": operation_url,
            "certificate": certificate,
            "secrets": secrets,
            "instance_only": bool(instance_only),
            "refresh": bool(refresh),
            "live": False,
        },
    }


class Replicator:
    """Replicates instances from a source server to a target server.

    make_source and make_target build a new LXDClient each (one per worker: a client is not shared between threads).
    """

    def __init__(self, make_source, make_target, refresh=True, instance_only=False, target_config=None,
                 parallel=1, retries=1, source_address=None, log=None):
        self.make_source = make_source
        self.make_target = make_target
        self.refresh = refresh
        self.instance_only = instance_only
        self.target_config = effective_target_config(target_config)
        self.parallel = max(1, parallel)
        self.retries = max(0, retries)
        self.source_address = source_address
        self.log = log or (lambda message: None)

    def survey(self, names):
        """Instances to replicate, their replicas, and the plan. Two requests per server (lists with state)."""
        source = self.make_source()
        target = self.make_target()
        source_instances = dict((i["name"], i) for i in
                                source.get("/1.0/instances", params={"recursion": 1}).metadata or [])
        replicas = dict((i["name"], i) for i in target.get("/1.0/instances", params={"recursion": 1}).metadata or [])
        if names == ["all"]:
            names = sorted(source_instances)
        self.source_info = source.server_info()
        return names, source_instances, replicas, plan(names, source_instances, replicas, self.refresh)

    def source_url(self):
        if self.source_address:
            address = self.source_address
        else:
            addresses = (self.source_info.get("environment") or {}).get("addresses") or []
            if not addresses:
                raise LXDError("the source server has no network address (core.https_address) for the target to "
                               "pull from; set it, or give source_address")
            address = addresses[0]
        return address if address.startswith("https://") else "https://" + address

    def run(self, names, check_mode=False):
        """One result per instance: name, action, seconds, attempts, error. Never raises for one instance."""
        names, source_instances, _replicas, actions = self.survey(list(names))
        results = []
        work = []
        for name in names:
            action, reason = actions[name]
            if action in ("skip", "block", "fail"):
                # A replica that runs is not an error of the copy, but the run must not look complete.
                results.append({"name": name, "action": "failed" if action == "fail" else "skipped",
                                "error": reason if action != "skip" else None, "reason": reason,
                                "seconds": 0, "attempts": 0})
                self.log("%s: %s (%s)" % (name, results[-1]["action"], reason))
            elif check_mode:
                results.append({"name": name, "action": action + "d" if action == "create" else action + "ed",
                                "error": None, "reason": "check mode", "seconds": 0, "attempts": 0})
            else:
                work.append((name, action))
        if work:
            certificate = self.source_info["environment"]["certificate"]
            url = self.source_url()
            with ThreadPoolExecutor(max_workers=self.parallel) as pool:
                futures = [pool.submit(self._replicate_with_retries, name, action, source_instances[name], url,
                                       certificate) for name, action in work]
                results.extend(f.result() for f in futures)
        order = dict((name, index) for index, name in enumerate(names))
        return sorted(results, key=lambda r: order.get(r["name"], 0))

    def _replicate_with_retries(self, name, action, source_instance, url, certificate):
        started = time.monotonic()
        error = None
        for attempt in range(1, self.retries + 2):
            try:
                self._replicate(name, action, source_instance, url, certificate)
                result = {"name": name, "action": "created" if action == "create" else "refreshed", "error": None,
                          "reason": None, "seconds": round(time.monotonic() - started, 2), "attempts": attempt}
                self.log("%s: %s in %.1fs" % (name, result["action"], result["seconds"]))
                return result
            except LXDError as exc:
                error = exc.message
                self.log("%s: attempt %d failed: %s" % (name, attempt, error))
                # A new copy that failed may leave nothing or a broken replica; a refresh keeps the old one.
                if attempt <= self.retries:
                    time.sleep(min(5, attempt))
                    if action == "create" and self._replica_exists(name):
                        action = "refresh"
        return {"name": name, "action": "failed", "error": error, "reason": None,
                "seconds": round(time.monotonic() - started, 2), "attempts": self.retries + 1}

    def _replica_exists(self, name):
        try:
            return self.make_target().exists(api_path("instances", name)) is not None
        except LXDError:
            return False

    def _replicate(self, name, action, source_instance, url, certificate):
        source = self.make_source()
        target = self.make_target()
        if action == "refresh":
            current = target.get(api_path("instances", name)).metadata
            if current.get("status") != "Stopped":
                raise LXDError("the replica of %s started meanwhile; not overwritten" % name)
        migration = source.request("POST", api_path("instances", name),
                                   body={"migration": True, "instance_only": bool(self.instance_only), "live": False},
                                   wait=False)
        secrets = (migration.metadata or {}).get("metadata") or {}
        operation_url = url + migration.operation
        body = replica_body(source_instance, self.instance_only, action == "refresh", operation_url, certificate,
                            secrets)
        try:
            target.request("POST", "/1.0/instances", body=body,
                           timeout=max(target.timeout, 3600))
        finally:
            try:
                source.wait_operation(migration.operation, what="sending %s" % name, timeout=60)
            except LXDError:
                pass
        self.apply_target_config(target, name, (source_instance.get("config") or {}).get(SCHEDULE_KEY))

    def apply_target_config(self, target, name, source_schedule):
        response = target.get(api_path("instances", name))
        instance = response.metadata
        config = replica_config(instance.get("config"), self.target_config, source_schedule)
        if config != (instance.get("config") or {}):
            body = writable(instance)
            body["config"] = config
            target.put(api_path("instances", name), body, etag=response.etag)


def summarize(results):
    """Count of instances per action, every action present."""
    summary = dict((action, 0) for action in ("created", "refreshed", "skipped", "failed"))
    for result in results:
        summary[result["action"]] = summary.get(result["action"], 0) + 1
    return summary


def failures(results):
    """The results that make a run fail: errors, including a running replica left alone."""
    return [r for r in results if r["error"]]


def check_names(names):
    if isinstance(names, str):
        names = [names]
    names = [str(n) for n in names or []]
    if not names:
        raise ValueError("instances: give instance names, or all")
    if "all" in names and len(names) > 1:
        raise ValueError("instances: all stands alone (got %s)" % ", ".join(names))
    return names
