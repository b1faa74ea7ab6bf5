# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Replicas of instances on another LXD server: first copy, then `copy --refresh`, every run.

Shared by the lxd_replica module and the lxdops-replicate command the snapshot_server role installs, so
both replicate the same way. Rules kept here:
- one replication at a time on a host: a lock file (flock) is held from the survey to the end;
- a running source may be refreshed; a running replica is never overwritten (it is skipped, and reported), nor
  one that was failed over (it holds the newest data), nor is a fenced source copied;
- a new replica is created with its target config already in the copy request (no window in which a broken
  copy leaves a replica that autostarts or snapshots); after every refresh the replica is given the source's
  config again with the target config on top (LXD 5.0.2's refresh leaves the replica's config as it was);
- the replica's own snapshot schedule is switched off (snapshots are the primary's), and the source's value is
  kept in user.lxdops.source.snapshots.schedule for failover;
- per-server state (failed over, fenced) never travels with a copy: the target keeps its own;
- every instance is tried (with retries, in parallel workers); a failure never deletes an existing replica;
- the custom volumes an instance uses are copied or refreshed before it (volume_replica.py); a volume that fails
  or must not be overwritten leaves the instance uncopied.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDConflict,
    LXDError,
    LXDNotFound,
    api_path,
)
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    ConfigError,
    is_volatile,
    normalize_config,
    to_lxd_string,
    without_volatile,
)
from ansible_collections.lxdops.server.plugins.module_utils.instance import result_key, writable
from ansible_collections.lxdops.server.plugins.module_utils.volume_replica import (
    VolumeBlocked,
    VolumeReplicator,
    instance_volumes,
    pull_source,
    volume_result,
)

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
# What the guard fenced an instance from (JSON: running, autostart), to release it as it was.
FENCED_BEFORE_KEY = "user.lxdops.fenced.before"
SERVER_LOCAL_KEYS = (FAILED_OVER_KEY, FENCED_KEY, FENCED_BEFORE_KEY)
# On a new replica from the copy request until the first copy completed (the time it began): a replica that
# still has it was left by a copy that broke; it may hold part of the data, or none, so it is copied again
# (and failover must not start it).
INCOMPLETE_KEY = "user.lxdops.incomplete"
DEFAULT_TARGET_CONFIG = {SCHEDULE_KEY: ""}
# One replication at a time on a host (the nightly command and lxd_replica); flock is released when the process
# ends, so a run that dies leaves no stale lock.
DEFAULT_LOCK_PATH = "/run/lock/lxdops-replicate.lock"
DEFAULT_LOCK_WAIT = 60
MISSING_TARGET_PROJECT = ("project %r does not exist on the target server; the snapshot_server role's profile sync "
                          "creates it")


class ReplicationBusy(LXDError):
    """Another replication holds the lock: nothing was done."""


def check_target_config(target_config):
    """The target config validated and as LXD strings ({key: str or None}); raises ConfigError. Pure."""
    config = normalize_config(target_config or {}, where="target_config")
    for key in SERVER_LOCAL_KEYS:
        if key in config:
            raise ConfigError("target_config key %r is not accepted: it is per-server state (set by failover and "
                              "the fencing guard), never written by a replication" % key)
    return config


def effective_target_config(target_config):
    """The config applied to every replica: snapshots off unless the caller says otherwise."""
    config = dict(DEFAULT_TARGET_CONFIG)
    config.update(target_config or {})
    return config


def replica_config(current, target_config, source_schedule, local=None, incomplete=None):
    """The replica's config: target config applied, the source's schedule kept, the marker set. Pure.

    Used for the body of a new copy (with `incomplete`, the time it begins) and after every copy and refresh.
    Per-server keys come from `local` (what the target had before), never from `current`'s source values.
    """
    config = dict(current or {})
    config.pop(INCOMPLETE_KEY, None)
    if incomplete:
        config[INCOMPLETE_KEY] = incomplete
    for key in SERVER_LOCAL_KEYS:
        config.pop(key, None)
        if (local or {}).get(key):
            config[key] = local[key]
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


def replica_devices(source_devices, current_devices):
    """The source's devices for the replica, each disk on the pool the target put it on. Pure.

    A target that lacks a source disk's pool puts the copy on a pool of its own (its default profile's), and a
    disk's pool cannot change on an existing instance: giving the source's pool back would fail every refresh.
    """
    devices = dict(source_devices or {})
    for name, device in devices.items():
        current = (current_devices or {}).get(name) or {}
        if device.get("type") == "disk" and current.get("type") == "disk" and current.get("pool") and \
                device.get("pool") != current.get("pool"):
            devices[name] = dict(device, pool=current["pool"])
    return devices


def volume_config(source_config, replica):
    """The config of a volume's copy (volume_replica.py) from its source's config. Pure.

    replica: the copy is a replica (schedule off, the source's kept, marked); otherwise (failback) the replica
    marks go and a schedule kept by the source comes back.
    """
    config = without_volatile(source_config)
    schedule = config.pop(SCHEDULE_KEY, None) or None
    saved = config.pop(SAVED_SCHEDULE_KEY, None) or None
    config.pop(REPLICA_KEY, None)
    if replica:
        config[REPLICA_KEY] = "true"
        if schedule or saved:
            config[SAVED_SCHEDULE_KEY] = schedule or saved
    elif schedule or saved:
        config[SCHEDULE_KEY] = schedule or saved
    return config


def local_state(config):
    """The per-server keys an instance carries ({key: value})."""
    return dict((k, v) for k, v in (config or {}).items() if k in SERVER_LOCAL_KEYS and v)


def plan(names, source_instances, replicas, refresh):
    """{name: (action, reason)}: create, refresh, skip (nothing to do), block (never overwritten) or fail. Pure.

    source_instances: {name: instance}; replicas: {name: replica instance or None}.
    """
    result = {}
    for name in names:
        if name not in source_instances:
            result[name] = ("fail", "no instance %r on the source server" % name)
            continue
        fenced = ((source_instances[name] or {}).get("config") or {}).get(FENCED_KEY)
        replica = replicas.get(name)
        failed_over = ((replica or {}).get("config") or {}).get(FAILED_OVER_KEY)
        incomplete = ((replica or {}).get("config") or {}).get(INCOMPLETE_KEY)
        if fenced:
            result[name] = ("skip", "it was stopped on the source because the snapshot server took it over "
                                    "(%s %s); run failback first" % (FENCED_KEY, fenced))
        elif failed_over:
            result[name] = ("block", "the replica was failed over on %s and holds the newest data; it is never "
                                     "overwritten: run failback first" % failed_over)
        elif replica is None:
            result[name] = ("create", None)
        elif incomplete and replica.get("status") == "Stopped":
            result[name] = ("recreate", "a first copy begun on %s broke and left the replica incomplete; it is "
                                        "copied again" % incomplete)
        elif not refresh:
            result[name] = ("skip", "the replica exists and refresh is off")
        elif replica.get("status") != "Stopped":
            result[name] = ("block", "the replica is %s on the target server; it is never overwritten while it "
                                     "runs" % replica.get("status"))
        else:
            result[name] = ("refresh", None)
    return result


def replica_body(source_instance, instance_only, refresh, operation_url, certificate, secrets, target_config=None,
                 incomplete=None):
    """The POST /1.0/instances body that makes the target pull the instance from the source.

    Its config is already the replica's (target config, marker, saved schedule, no per-server keys, and for a new
    copy `incomplete`: the time it begins), so a new replica is never, even for a moment, an instance that
    autostarts or snapshots, and one left by a copy that broke says so.
    """
    source_config = source_instance.get("config") or {}
    config = without_volatile(source_config)
    config = replica_config(config, effective_target_config(target_config), source_config.get(SCHEDULE_KEY),
                            incomplete=None if refresh else incomplete)
    return {
        "name": source_instance["name"],
        "type": source_instance.get("type", "container"),
        "architecture": source_instance.get("architecture"),
        "config": config,
        "devices": source_instance.get("devices") or {},
        "profiles": source_instance.get("profiles") or [],
        "ephemeral": False,
        "description": source_instance.get("description", ""),
        "source": pull_source(operation_url, certificate, secrets, instance_only=bool(instance_only),
                              refresh=bool(refresh), live=False),
    }


class RunLock:
    """An exclusive flock on a file, waited for a bounded time; the holder's pid is written into the file."""

    def __init__(self, path, wait):
        self.path = path
        self.wait = max(0, wait)
        self.fd = None

    def acquire(self):
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LXDError("cannot open the lock file %s (lock_path): %s" % (self.path, exc.strerror))
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise LXDError("cannot lock %s (lock_path): %s" % (self.path, exc.strerror))
                if time.monotonic() >= deadline:
                    holder = self._holder(fd)
                    os.close(fd)
                    raise ReplicationBusy(
                        "another replication is already running on this host (%s holds %s); waited %d s, "
                        "nothing was done" % ("pid " + holder if holder else "a process", self.path, self.wait))
                time.sleep(min(0.2, max(0.01, deadline - time.monotonic())))
        os.ftruncate(fd, 0)
        os.write(fd, ("%d\n" % os.getpid()).encode())
        self.fd = fd

    @staticmethod
    def _holder(fd):
        try:
            return os.pread(fd, 32, 0).decode().strip()
        except (OSError, UnicodeDecodeError):
            return ""

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()


def check_projects(projects):
    """None (the connection's project), or a list of project names, or ['all']; raises ValueError. Pure."""
    if projects is None:
        return None
    if isinstance(projects, str):
        projects = [projects]
    projects = [str(p) for p in projects]
    if not projects or not all(projects):
        raise ValueError("projects: give project names, or all (got %r)" % (projects,))
    if "all" in projects and len(projects) > 1:
        raise ValueError("projects: all stands alone (got %s)" % ", ".join(projects))
    return projects


class Replicator:
    """Replicates instances from a source server to a target server.

    make_source and make_target build a new LXDClient each (one per worker: a client is not shared between threads).
    projects: None replicates the source client's project into the target client's project; a list (or ['all'])
    replicates each project into the project of the same name on the target.
    lock_path and lock_wait: the host-wide lock taken for the whole run (see RunLock).
    """

    def __init__(self, make_source, make_target, refresh=True, instance_only=False, target_config=None,
                 parallel=1, retries=1, source_address=None, log=None, projects=None,
                 lock_path=DEFAULT_LOCK_PATH, lock_wait=DEFAULT_LOCK_WAIT):
        self.make_source = make_source
        self.make_target = make_target
        self.refresh = refresh
        self.instance_only = instance_only
        # Raises ConfigError (a ValueError) before any request.
        self.target_config = effective_target_config(check_target_config(target_config))
        self.parallel = max(1, parallel)
        self.retries = max(0, retries)
        self.source_address = source_address
        self.log = log or (lambda message: None)
        self.projects = check_projects(projects)
        self.lock_path = lock_path
        self.lock_wait = lock_wait
        self.source_info = None
        self.volumes = self.volume_replicator()

    def volume_replicator(self):
        """One per run: it replicates a volume several instances use once."""
        return VolumeReplicator(lambda config: volume_config(config, self.replica), REPLICA_KEY,
                                volume_only=self.instance_only)

    @property
    def replica(self):
        """Whether the copies are replicas (failback's target config says they are not)."""
        return to_lxd_string(self.target_config.get(REPLICA_KEY, "true")) not in (None, "")

    def project_pairs(self, source, target):
        """[(source project, target project)] of this run."""
        if self.projects is None:
            return [(source.project, target.project)]
        if self.projects == ["all"]:
            names = [unquote(url.rstrip("/").rsplit("/", 1)[-1]) for url in
                     source.get("/1.0/projects", project=False).metadata or []]
            return [(name, name) for name in sorted(names)]
        return [(name, name) for name in self.projects]

    def survey(self, names):
        """([(source project, target project, names, source instances, replicas, plan)], names found nowhere).

        Two requests per server and project (lists with state), plus a project check where not default.
        """
        source = self.make_source()
        target = self.make_target()
        self.source_info = source.server_info()
        surveyed = []
        for source_project, target_project in self.project_pairs(source, target):
            project_path = api_path("projects", source_project)
            if source_project != "default" and source.exists(project_path, project=False) is None:
                raise LXDNotFound("project %r does not exist on the source server" % source_project)
            source_instances = dict((i["name"], i) for i in source.get(
                "/1.0/instances", params={"recursion": 1}, project=source_project).metadata or [])
            target_ok = target_project == "default" or target.exists(api_path("projects", target_project),
                                                                     project=False) is not None
            replicas = {}
            if target_ok:
                replicas = dict((i["name"], i) for i in target.get(
                    "/1.0/instances", params={"recursion": 1}, project=target_project).metadata or [])
            surveyed.append((source_project, target_project, source_instances, replicas, target_ok))
        missing = []
        if names == ["all"]:
            wanted = dict((s[0], sorted(s[2])) for s in surveyed)
        elif len(surveyed) == 1:
            wanted = {surveyed[0][0]: list(names)}
        else:
            # Several projects: a name is replicated from every project that has it, and fails only when none has.
            wanted = dict((s[0], [n for n in names if n in s[2]]) for s in surveyed)
            found = set(n for project_names in wanted.values() for n in project_names)
            missing = [n for n in names if n not in found]
        projects = []
        for source_project, target_project, source_instances, replicas, target_ok in surveyed:
            project_names = wanted[source_project]
            actions = plan(project_names, source_instances, replicas, self.refresh)
            if not target_ok:
                reason = MISSING_TARGET_PROJECT % target_project
                actions = dict((n, a if a[0] in ("fail", "skip") else ("fail", reason)) for n, a in actions.items())
            projects.append((source_project, target_project, project_names, source_instances, replicas, actions))
        return projects, missing

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
        """One result per instance: name, project, action, seconds, attempts, error. Never raises for one instance.

        Raises ReplicationBusy when another replication holds the lock, LXDError when the run cannot start.
        """
        with RunLock(self.lock_path, self.lock_wait):
            return self._run(list(names), check_mode)

    def _run(self, names, check_mode):
        self.volumes = self.volume_replicator()
        projects, missing = self.survey(names)
        results = []
        work = []
        for name in missing:
            reason = "no instance %r in projects %s on the source server" % (name, ", ".join(p[0] for p in projects))
            results.append({"name": name, "project": None, "action": "failed", "error": reason, "reason": reason,
                            "seconds": 0, "attempts": 0})
            self.log("%s: failed (%s)" % (name, reason))
        for source_project, target_project, project_names, source_instances, _replicas, actions in projects:
            for name in project_names:
                action, reason = actions[name]
                key = result_key(source_project, name)
                if action in ("skip", "block", "fail"):
                    # A replica that runs is not an error of the copy, but the run must not look complete.
                    results.append({"name": name, "project": source_project,
                                    "action": "failed" if action == "fail" else "skipped",
                                    "error": reason if action != "skip" else None, "reason": reason,
                                    "seconds": 0, "attempts": 0,
                                    "volumes": [volume_result(pool, volume, "skipped", "the instance is left alone")
                                                for pool, volume in instance_volumes(source_instances.get(name)
                                                                                     or {})]})
                    self.log("%s: %s (%s)" % (key, results[-1]["action"], reason))
                elif check_mode:
                    results.append({"name": name, "project": source_project,
                                    "action": "refreshed" if action == "refresh" else "created",
                                    "error": None, "reason": "check mode" + (": " + reason if reason else ""),
                                    "seconds": 0, "attempts": 0,
                                    "volumes": self.volumes.plan(self.make_target(), source_instances[name],
                                                                 target_project)})
                else:
                    work.append((source_project, target_project, name, action, source_instances[name], reason))
        if work:
            certificate = self.source_info["environment"]["certificate"]
            url = self.source_url()
            with ThreadPoolExecutor(max_workers=self.parallel) as pool:
                futures = [pool.submit(self._replicate_with_retries, item, url, certificate) for item in work]
                results.extend(f.result() for f in futures)
        order = {}
        for source_project, _target, project_names, _s, _r, _a in projects:
            for name in project_names:
                order[(source_project, name)] = len(order)
        return sorted(results, key=lambda r: order.get((r["project"], r["name"]), -1))

    def _replicate_with_retries(self, item, url, certificate):
        source_project, target_project, name, action, source_instance, reason = item
        key = result_key(source_project, name)
        started = time.monotonic()
        error = None
        attempt = 0
        first_copy = action in ("create", "recreate")
        volumes = []
        while attempt <= self.retries:
            attempt += 1
            volumes = []
            try:
                if attempt > 1 and first_copy:
                    action = self._next_first_copy_action(name, target_project, action)
                self._replicate(source_project, target_project, name, action, source_instance, url, certificate,
                                volumes)
                result = {"name": name, "project": source_project,
                          "action": "refreshed" if action == "refresh" and not first_copy else "created",
                          "error": None, "reason": reason, "seconds": round(time.monotonic() - started, 2),
                          "attempts": attempt, "volumes": volumes}
                self.log("%s: %s in %.1fs%s" % (key, result["action"], result["seconds"], volumes_note(volumes)))
                return result
            except VolumeBlocked as exc:
                # As a running replica: left alone, reported, never retried.
                self.log("%s: skipped (%s)" % (key, exc.message))
                return {"name": name, "project": source_project, "action": "skipped", "error": exc.message,
                        "reason": exc.message, "seconds": round(time.monotonic() - started, 2),
                        "attempts": attempt, "volumes": volumes}
            except LXDConflict as exc:
                # The name was taken on the target by something else than this run: not ours to refresh.
                error = exc.message
                self.log("%s: attempt %d failed: %s" % (key, attempt, error))
                break
            except LXDError as exc:
                error = exc.message
                self.log("%s: attempt %d failed: %s" % (key, attempt, error))
                if attempt <= self.retries:
                    time.sleep(min(5, attempt))
        return {"name": name, "project": source_project, "action": "failed", "error": error, "reason": reason,
                "seconds": round(time.monotonic() - started, 2), "attempts": attempt, "volumes": volumes}

    def _next_first_copy_action(self, name, project, last):
        """What a retry of a first copy does: never the same copy request blindly.

        Nothing on the target: copy. A replica left (created with the target config, so safe): refresh it, which
        keeps what was transferred; if that failed too (LXD 5.0.2 may leave an instance without its storage
        volume), delete that incomplete replica and copy again. A failed look is a failed try.
        """
        replica = self.make_target().exists(api_path("instances", name), project=project)
        if replica is None:
            return "create"
        if last == "refresh" and (replica.get("config") or {}).get(INCOMPLETE_KEY):
            return "recreate"
        return "refresh"

    def _replicate(self, source_project, target_project, name, action, source_instance, url, certificate,
                   volumes=None):
        """One copy or refresh of an instance, its volumes first (their results appended to `volumes`)."""
        source = self.make_source()
        target = self.make_target()
        local = {}
        if action in ("refresh", "recreate"):
            current = target.get(api_path("instances", name), project=target_project).metadata
            config = current.get("config") or {}
            if current.get("status") != "Stopped":
                raise LXDError("the replica of %s started meanwhile; not overwritten" % name)
            if config.get(FAILED_OVER_KEY):
                raise LXDError("the replica of %s was failed over meanwhile; not overwritten" % name)
            local = local_state(config)
            if action == "recreate":
                if not config.get(INCOMPLETE_KEY):
                    raise LXDError("the replica of %s is no longer marked incomplete; not deleted" % name)
                # It never held a complete copy: nothing is lost.
                target.delete(api_path("instances", name), project=target_project)
                action = "create"
        # The volumes before the instance: a replica never exists without them.
        self.volumes.replicate(source, target, source_instance, source_project, target_project, url, certificate,
                               volumes if volumes is not None else [])
        migration = source.request("POST", api_path("instances", name), project=source_project,
                                   body={"migration": True, "instance_only": bool(self.instance_only), "live": False},
                                   wait=False)
        secrets = (migration.metadata or {}).get("metadata") or {}
        operation_url = url + migration.operation
        body = replica_body(source_instance, self.instance_only, action == "refresh", operation_url, certificate,
                            secrets, self.target_config,
                            incomplete=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        try:
            target.request("POST", "/1.0/instances", body=body, project=target_project,
                           timeout=max(target.timeout, 3600))
        finally:
            try:
                source.wait_operation(migration.operation, what="sending %s" % name, timeout=60)
            except LXDError:
                pass
        self.apply_target_config(target, name, (source_instance.get("config") or {}).get(SCHEDULE_KEY),
                                 project=target_project, local=local,
                                 source_instance=source_instance if action == "refresh" else None)

    def apply_target_config(self, target, name, source_schedule, project=True, local=None, source_instance=None):
        """Make the replica's config what it must be; with source_instance, follow the source's config too.

        Seen with LXD 5.0.2: a refresh through the API keeps the replica's config as it was (the body's config is
        ignored, and so are the source's changes; `lxc copy --refresh` brings them with an update of its own). So
        after a refresh the replica gets the source's config, devices and profiles, with the target config on top
        and its own volatile and per-server keys.
        """
        response = target.get(api_path("instances", name), project=project)
        instance = response.metadata
        current = instance.get("config") or {}
        body = writable(instance)
        if source_instance is not None:
            base = dict((k, v) for k, v in current.items() if is_volatile(k))
            base.update(without_volatile(source_instance.get("config")))
            for field in ("profiles", "description"):
                if field in source_instance:
                    body[field] = source_instance[field]
            if "devices" in source_instance:
                body["devices"] = replica_devices(source_instance["devices"], instance.get("devices"))
        else:
            base = current
        body["config"] = replica_config(base, self.target_config, source_schedule, local)
        if body != writable(instance):
            target.put(api_path("instances", name), body, etag=response.etag, project=project)


def volumes_note(volumes):
    """' (volumes: default/data refreshed, ...)' for a log line, or nothing. Pure."""
    if not volumes:
        return ""
    return " (volumes: %s)" % ", ".join("%s/%s %s" % (v["pool"], v["name"], v["action"]) for v in volumes)


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
