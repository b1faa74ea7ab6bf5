# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A list of instances converged in one run (lxd_instance_set), with lxd_instance's own manager.

- every entry is validated (the same checks as lxd_instance, per entry) before the first request;
- one list request per project says what exists (LXD lists nothing for a project that does not exist, so an
  empty list is checked against the project once);
- each InstanceManager is given its instance from that list and makes one request per change; workers run in
  parallel (bounded), each with its own client;
- one instance failing never stops nor undoes the others: every result is returned, the caller fails at the end;
- an entry's limits (named as lxd_limits names them) join its update: config limits are config keys, disk and
  network limits override the root disk or nic device (a profile's device is copied into the instance), so an
  instance costs one PUT whatever changes, and nothing when nothing does.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.limits import (
    LIMIT_OPTIONS,
    limit_options,
    normalize_limits,
    plan_device,
)
from ansible_collections.lxdops.server.plugins.module_utils.instance import (
    EntryContext,
    InstanceManager,
    instance_options,
    option_defaults,
    result_key,
)

# Merged key by key (the defaults' keys, then the entry's); every other option of an entry replaces the default.
MERGED_OPTIONS = ("config", "devices", "limits")


def entry_options():
    """The options of one entry: lxd_instance's (without defaults) plus its project and limits.

    limits is checked by plan_entries against limit_options(): a limit given as null (remove it) must stay
    apart from one not given.
    """
    spec = instance_options(defaults=False)
    spec["project"] = dict(type="str")
    spec["limits"] = dict(type="dict")
    return spec


def defaults_options():
    """What `defaults` may hold: every entry option but the name and project (the project is the top-level one)."""
    spec = entry_options()
    del spec["name"], spec["project"]
    return spec


def plan_limits(limits, where):
    """An entry's limits as ({config key: value or None}, {device name: (type, {key: value or None})}). No I/O."""
    if not limits:
        return {}, {}
    typed = validate_options(limit_options(), limits, where + ": limits")
    try:
        wanted = normalize_limits(typed, set(limits))
    except ConfigError as exc:
        raise ConfigError("%s: limits: %s" % (where, exc))
    config, devices = {}, {}
    for option, value in wanted.items():
        place, key, _kind = LIMIT_OPTIONS[option]
        if place == "config":
            config[key] = value
        else:
            name = typed["disk_device"] if place == "disk" else typed["nic"]
            devices.setdefault(name, (place, {}))[1][key] = value
    return config, devices


def entry_label(index, entry):
    name = entry.get("name") if isinstance(entry, dict) else None
    return "instances[%d]%s" % (index, " (%s)" % name if isinstance(name, str) and name else "")


def validate_options(spec, value, where):
    """Type, choices and unknown options checked as Ansible checks a module's options; raise ConfigError."""
    if not isinstance(value, dict):
        raise ConfigError("%s: %r is not accepted: give a dict of lxd_instance's options" % (where, value))
    result = ArgumentSpecValidator(spec).validate(value)
    if result.error_messages:
        raise ConfigError("%s: %s" % (where, "; ".join(result.error_messages)))
    return result.validated_parameters


def entry_params(defaults, entry):
    """An entry's parameters: its own values, else the defaults', else lxd_instance's. Pure."""
    params = dict((key, None) for key in entry_options())
    params.update(option_defaults())
    for key, value in defaults.items():
        if value is not None:
            params[key] = value
    for key, value in entry.items():
        if value is None:
            continue
        if key in MERGED_OPTIONS and defaults.get(key):
            merged = dict(defaults[key])
            merged.update(value)
            value = merged
        params[key] = value
    return params


def plan_entries(instances, defaults, project, timeout, check_mode, diff=True):
    """One validated InstanceManager per entry, in order; raise ConfigError naming the entry. No I/O."""
    if not isinstance(instances, list):
        raise ConfigError("instances: give a list of entries (dicts with lxd_instance's options)")
    defaults = validate_options(defaults_options(), defaults or {}, "defaults")
    managers, seen = [], {}
    for index, raw in enumerate(instances):
        where = entry_label(index, raw)
        entry = validate_options(entry_options(), raw, where)
        params = entry_params(defaults, entry)
        params["project"] = entry["project"] or project or "default"
        params["timeout"] = timeout
        limit_config, device_limits = plan_limits(params.pop("limits"), where)
        if limit_config:
            # The limits win over the same keys given in config.
            params["config"] = dict(params["config"] or {}, **limit_config)
        try:
            manager = SetMember(EntryContext(params, check_mode, diff))
        except ConfigError as exc:
            raise ConfigError("%s: %s" % (where, exc))
        manager.device_limits = device_limits
        key = (params["project"], params["name"])
        if key in seen:
            raise ConfigError("%s: instance %s is also given by %s; give each instance once"
                              % (where, result_key(*key), seen[key]))
        seen[key] = where
        manager.scope = params["project"]
        manager.refetch = False
        managers.append(manager)
    return managers


def summarize(results):
    """Counts: total, changed, unchanged, failed, and how many times each action was taken."""
    actions = {}
    for result in results:
        for action in result["actions"]:
            actions[action] = actions.get(action, 0) + 1
    failed = sum(1 for r in results if r["error"])
    changed = sum(1 for r in results if r["changed"])
    return {"total": len(results), "changed": changed, "failed": failed,
            "unchanged": sum(1 for r in results if not r["changed"] and not r["error"]), "actions": actions}


def set_diff(managers):
    """Ansible's before/after for the whole set: per instance, exactly what changes."""
    before, after = {}, {}
    for manager in managers:
        if manager.tracker.has_changes:
            diff = manager.tracker.diff()
            key = result_key(manager.scope, manager.name)
            before[key] = diff["before"]
            after[key] = diff["after"]
    return {"before": before, "after": after}


class SetMember(InstanceManager):
    """lxd_instance's manager with the entry's disk and network limits folded into its devices."""

    device_limits = {}

    def update(self, current):
        if self.device_limits:
            own = self.devices
            self.devices = self.limited_devices(current, own)
            try:
                super().update(current)
            finally:
                self.devices = own
        else:
            super().update(current)

    def create(self):
        super().create()
        # A new instance's root disk and nic come from its profiles: the limits are set on them once it exists
        # (before it is started). In check mode nothing exists to plan them on.
        if self.device_limits and not self.check_mode:
            self.update(self.fetch())

    def limited_devices(self, current, given):
        """The devices to manage: those the entry gives, plus each limited device with its limits applied."""
        devices = dict(given or {})
        inherited = current.get("expanded_devices") or {}
        for name, (kind, wanted) in self.device_limits.items():
            own = devices[name] if name in devices else (current.get("devices") or {}).get(name)
            base = own or inherited.get(name)
            if base is None:
                if all(v is None for v in wanted.values()):
                    continue
                raise LXDError("instance %r has no %s device named %r (set limits.%s to the device that holds "
                               "these limits)" % (self.name, kind, name, "disk_device" if kind == "disk" else "nic"))
            expected = "disk" if kind == "disk" else "nic"
            if base.get("type") != expected:
                raise LXDError("instance %r: device %r is a %s device, not a %s device"
                               % (self.name, name, base.get("type"), expected))
            new, _diffs = plan_device(own, inherited.get(name), name, wanted)
            if new is not None:
                devices[name] = new
        return devices


class InstanceSet:
    """Converges the planned managers: one list request per project, then the changes in parallel workers.

    list_client reads in the calling thread; make_client builds one client per worker thread.
    """

    def __init__(self, managers, list_client, make_client, parallel=4):
        self.managers = managers
        self.list_client = list_client
        self.make_client = make_client
        self.parallel = max(1, parallel)
        self._local = threading.local()
        self._clients = []
        self._lock = threading.Lock()

    def survey(self):
        """{project: {name: instance}}, or {project: LXDError} for a project that does not exist."""
        listed = {}
        for project in dict.fromkeys(m.scope for m in self.managers):
            instances = self.list_client.get("/1.0/instances", params={"recursion": 1}, project=project).metadata
            if not instances and project != "default" and not self.project_exists(project):
                listed[project] = LXDError("project %r does not exist on %s (create it first, e.g. with "
                                           "lxdops.server.lxd_project)" % (project, self.list_client.url))
                continue
            listed[project] = dict((i["name"], i) for i in instances or [])
        return listed

    def project_exists(self, project):
        try:
            self.list_client.get(api_path("projects", project), project=False)
        except LXDNotFound:
            return False
        return True

    def worker_client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.make_client()
            with self._lock:
                self._clients.append(client)
        return client

    def converge(self, manager, listed):
        """Converge one instance; its result, with the error instead of an exception."""
        start = time.monotonic()
        error = None
        current = None
        if isinstance(listed, LXDError):
            error = listed.message
        else:
            current = listed.get(manager.name)
            try:
                manager.module.client = self.worker_client()
                manager.converge(current)
            except LXDError as exc:
                error = exc.message
            except ConfigError as exc:
                error = str(exc)
        return {
            "name": manager.name,
            "project": manager.scope,
            "actions": list(manager.actions),
            "changed": manager.changed,
            "status": None if error else manager.final_status(current),
            "error": error,
            "seconds": round(time.monotonic() - start, 3),
        }

    def run(self):
        """One result per manager, in order. Raises LXDError only when a list request fails (nothing written)."""
        listed = self.survey()
        if not self.managers:
            return []
        workers = min(self.parallel, len(self.managers))
        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(self.converge, m, listed[m.scope]) for m in self.managers]
                return [f.result() for f in futures]
        finally:
            for client in self._clients:
                client.close()
