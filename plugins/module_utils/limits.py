# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Resource limits of an instance or a profile, as typed options, and the usage `lxc info` shows."""

from __future__ import annotations

import copy

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    DEVICE_KEYS,
    INSTANCE_KEYS,
    LIMIT_OPTIONS,
    MEMORY_ENFORCE,
    ConfigError,
    to_lxd_string,
)
from ansible_collections.lxdops.server.plugins.module_utils.diff import plan_config
from ansible_collections.lxdops.server.plugins.module_utils.instance import writable
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager, check_name
from ansible_collections.lxdops.server.plugins.module_utils.profile import check_profile_name


def limit_options():
    """The argument spec of the limit options (lxd_limits' own, and a limits entry of lxd_instance_set).

    Derived from config.LIMIT_OPTIONS, plus the names of the devices that hold the disk and nic limits.
    """
    spec = dict((option, dict(type=kind)) for option, (_where, _key, kind) in LIMIT_OPTIONS.items())
    spec["memory_enforce"]["choices"] = list(MEMORY_ENFORCE)
    spec.update(disk_device=dict(type="str", default="root"), nic=dict(type="str", default="eth0"))
    return spec


def normalize_limits(params, given):
    """{option: lxd string or None (remove)} for the limit options the task gave; raise ConfigError."""
    wanted = {}
    for option, (where, key, _kind) in LIMIT_OPTIONS.items():
        if option not in given and params.get(option) is None:
            continue
        raw = params.get(option)
        try:
            value = to_lxd_string(raw)
        except ConfigError as exc:
            raise ConfigError("%s: value %r is not accepted; give %s" % (option, raw, exc))
        if value:
            check, forms = INSTANCE_KEYS[key] if where == "config" else DEVICE_KEYS[where][key]
            if not check(value):
                raise ConfigError("%s (%s): value %r is not accepted; accepted: %s" % (option, key, raw, forms))
        wanted[option] = value or None
    return wanted


def unknown_config_keys(client, keys):
    """The instance config keys among `keys` that the server does not list as its own.

    Only a server with the metadata_configuration extension lists its keys (Incus 6.0 does; LXD 5.0 does not):
    elsewhere nothing is known to be missing and the server's own answer to the write stays the check.
    """
    if not keys or not client.has_extension("metadata_configuration"):
        return []
    configs = (client.get("/1.0/metadata/configuration", project=False).metadata or {}).get("configs") or {}
    known = set()
    for section in (configs.get("instance") or {}).values():
        for entry in section.get("keys") or []:
            known.update(entry)
    return [key for key in keys if key not in known]


def usage(instance):
    """Current usage, as `lxc info` shows it: memory, swap, CPU seconds, disk, network, processes."""
    state = (instance or {}).get("state") or {}
    memory = state.get("memory") or {}
    network = {}
    for ifname, info in sorted((state.get("network") or {}).items()):
        counters = info.get("counters") or {}
        network[ifname] = dict((k, counters.get(k, 0)) for k in
                               ("bytes_received", "bytes_sent", "packets_received", "packets_sent"))
    return {
        "memory": memory.get("usage", 0),
        "memory_peak": memory.get("usage_peak", 0),
        "swap": memory.get("swap_usage", 0),
        "swap_peak": memory.get("swap_usage_peak", 0),
        "cpu_seconds": round((state.get("cpu") or {}).get("usage", 0) / 1e9, 3),
        "processes": state.get("processes", 0),
        "disk": dict((name, info.get("usage", 0)) for name, info in sorted((state.get("disk") or {}).items())),
        "network": network,
    }


def plan_device(own, inherited, device_name, changes):
    """Apply {key: value or None} to a device; an inherited (profile) device is copied in first.

    Returns (new device or None when nothing changes, DifferenceTracker-like list of (key, before, after)).
    """
    base = copy.deepcopy(own) if own is not None else copy.deepcopy(inherited)
    if base is None:
        return None, []
    new = dict(base)
    diffs = []
    for key, value in changes.items():
        before = new.get(key)
        if value is None:
            if own is not None and key in new:
                del new[key]
                diffs.append((key, before, None))
        elif before != value:
            new[key] = value
            diffs.append((key, before, value))
    if not diffs:
        return None, []
    return new, diffs


class LimitsManager(Manager):
    def validate(self):
        p = self.params
        if p["instance"] is not None:
            check_name("instance", p["instance"])
        if p["profile"] is not None:
            check_profile_name("profile", p["profile"])
        self.wanted = normalize_limits(p, self.module.given)

    def apply(self):
        p = self.params
        if p["instance"]:
            path = api_path("instances", p["instance"])
            try:
                response = self.client.get(path, params={"recursion": 1})
            except LXDNotFound:
                raise LXDError("instance %r does not exist" % p["instance"])
        else:
            path = api_path("profiles", p["profile"])
            try:
                response = self.client.get(path)
            except LXDNotFound:
                raise LXDError("profile %r does not exist" % p["profile"])
        current = response.metadata
        body = self.plan(current)
        if body is not None:
            self.refuse_unknown_keys(body)
            self.write("update", self.client.put, path, body, etag=response.etag)
            if not self.check_mode:
                current = self.client.get(path, params={"recursion": 1} if p["instance"] else None).metadata
        self.result = {"limits": self.effective(current)}
        if p["instance"]:
            self.result["usage"] = usage(current)

    def plan(self, current):
        """The PUT body, or None when every limit is already as wanted."""
        p = self.params
        config_wanted = dict((LIMIT_OPTIONS[o][1], v) for o, v in self.wanted.items() if LIMIT_OPTIONS[o][0] == "config")
        config, config_changes = plan_config(current.get("config"), config_wanted)
        self.tracker.merge(config_changes)
        devices = copy.deepcopy(current.get("devices") or {})
        inherited = current.get("expanded_devices") or {} if p["instance"] else {}
        changed = config_changes.has_changes
        for where, device_name in (("disk", p["disk_device"]), ("nic", p["nic"])):
            wanted = dict((LIMIT_OPTIONS[o][1], v) for o, v in self.wanted.items() if LIMIT_OPTIONS[o][0] == where)
            if not wanted:
                continue
            own, from_profiles = devices.get(device_name), inherited.get(device_name)
            if own is None and from_profiles is None:
                if all(v is None for v in wanted.values()):
                    continue
                raise LXDError("%s %r has no %s device named %r (set %s to the device that holds these limits)"
                               % ("instance" if p["instance"] else "profile", p["instance"] or p["profile"],
                                  where, device_name, "disk_device" if where == "disk" else "nic"))
            expected_type = "disk" if where == "disk" else "nic"
            actual_type = (own or from_profiles).get("type")
            if actual_type != expected_type:
                raise LXDError("device %r is a %s device, not a %s device" % (device_name, actual_type, expected_type))
            new, diffs = plan_device(own, from_profiles, device_name, wanted)
            for key, before, after in diffs:
                self.tracker.add(("devices", device_name, key), before, after)
            if new is not None:
                devices[device_name] = new
                changed = True
        if not changed:
            return None
        if p["instance"]:
            body = writable(current)
        else:
            body = {"description": current.get("description", "")}
        body.update(config=config, devices=devices)
        return body

    def refuse_unknown_keys(self, body):
        """Fail before the write (and in check mode) when a limit to set is a key this daemon does not have."""
        setting = [key for option, (where, key, _kind) in sorted(LIMIT_OPTIONS.items())
                   if where == "config" and self.wanted.get(option) is not None and key in body["config"]]
        unknown = unknown_config_keys(self.client, setting)
        if unknown:
            options = dict((key, option) for option, (where, key, _kind) in LIMIT_OPTIONS.items() if where == "config")
            raise LXDError("%s: %s at %s has no such key (it is not among the instance keys the server lists); "
                           "leave %s out for this server"
                           % (", ".join("%s (%s)" % (options[k], k) for k in unknown), self.client.daemon_name(),
                              self.client.url, " and ".join(options[k] for k in unknown)))

    def effective(self, current):
        """Every limit option with the value in force (after profiles for an instance), None when unset."""
        p = self.params
        config = current.get("expanded_config") if p["instance"] else current.get("config")
        devices = current.get("expanded_devices") if p["instance"] else current.get("devices")
        config, devices = config or {}, devices or {}
        result = {}
        for option, (where, key, _kind) in LIMIT_OPTIONS.items():
            if where == "config":
                result[option] = config.get(key)
            else:
                device = devices.get(p["disk_device"] if where == "disk" else p["nic"]) or {}
                result[option] = device.get(key)
        return result
