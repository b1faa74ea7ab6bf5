# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Custom storage volumes: where they live in the API, how they are read, and which an instance uses.

The readers are shared by every module that touches custom volumes (lxd_volume, lxd_snapshot, lxd_replica,
lxd_info). A failed read raises; only a 404 means "no such volume".
"""

from __future__ import annotations

import re

from urllib.parse import parse_qs, unquote, urlparse

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    VOLUME_DRIVER_KEYS,
    VOLUME_KEYS,
    ConfigError,
    normalize_volume_config,
    parse_bytes,
    to_lxd_string,
)
from ansible_collections.lxdops.server.plugins.module_utils.diff import plan_config, plan_value
from ansible_collections.lxdops.server.plugins.module_utils.instance import writable
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager

CONTENT_TYPES = ("filesystem", "block")


def volume_path(pool, name=None, *rest):
    """/1.0/storage-pools/<pool>/volumes/custom[/<name>[/<rest>...]] (each segment quoted)."""
    segments = ["storage-pools", pool, "volumes", "custom"]
    if name is not None:
        segments.append(name)
    segments.extend(rest)
    return api_path(*segments)


def volume_snapshot_path(pool, name, snapshot=None):
    """A volume's snapshots collection, or one snapshot of it."""
    if snapshot is None:
        return volume_path(pool, name, "snapshots")
    return volume_path(pool, name, "snapshots", snapshot)


def get_volume(client, pool, name, with_etag=False):
    """A custom volume as LXD shows it, or None when LXD answers 404 (pool or volume missing).

    Any other failure raises: a failed read is never "nothing there". With with_etag, returns (volume, etag).
    """
    try:
        response = client.get(volume_path(pool, name))
    except LXDNotFound:
        return (None, None) if with_etag else None
    return (response.metadata, response.etag) if with_etag else response.metadata


def list_volumes(client, pool, all_projects=False):
    """The custom volumes of one pool (in the client's project, or of every project), as LXD shows them.

    LXD 5.0 and Incus 6.0 list every volume type and the snapshots too ("<volume>/<snapshot>"): both are
    left out here.
    """
    params = {"recursion": 1}
    if all_projects:
        params["all-projects"] = "true"
    volumes = client.get(api_path("storage-pools", pool, "volumes"), params=params,
                         project=not all_projects).metadata or []
    return [v for v in volumes if v.get("type") == "custom" and "/" not in v.get("name", "")]


def list_volume_snapshots(client, pool, name):
    """The snapshots of a custom volume (recursion=1); names are bare (without '<volume>/').

    Raises LXDNotFound when the volume does not exist (LXD 5.0 lists no snapshots for it instead of a 404).
    """
    snapshots = client.get(volume_snapshot_path(pool, name), params={"recursion": 1}).metadata or []
    if not snapshots and get_volume(client, pool, name) is None:
        raise LXDNotFound("volume %r does not exist on pool %r" % (name, pool), status_code=404)
    result = []
    for snap in snapshots:
        snap = dict(snap)
        snap["name"] = snap.get("name", "").rpartition("/")[2]
        result.append(snap)
    return result


def attached_volumes(devices):
    """The custom volumes an instance's or profile's disk devices attach: [(device name, pool, volume)].

    Pass an instance's expanded_devices to include what its profiles attach. The root disk (no source)
    and host paths (no pool) are not volumes.
    """
    found = []
    for device_name, device in sorted((devices or {}).items()):
        if device.get("type") == "disk" and device.get("pool") and device.get("source"):
            found.append((device_name, device["pool"], device["source"]))
    return found


# ------------------------------------------------------------------ lxd_volume

# A conservative reading of what LXD and Incus accept as a volume (and pool) name.
_VOLUME_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def check_volume_name(option, value, what="volume"):
    if not isinstance(value, str) or not _VOLUME_NAME_RE.match(value) or len(value) > 63:
        raise ConfigError("%s %r is not a valid %s name: 1-63 letters, digits, '-', '_', '.' or '+', starting "
                          "with a letter or digit" % (option, value, what))


def volume_config(config, size):
    """The config option with the size option folded in, validated; {key: lxd string or None}."""
    config = dict(config or {})
    if size is not None:
        if not VOLUME_KEYS["size"][0](size):
            raise ConfigError("size %r is not accepted; accepted: %s" % (size, VOLUME_KEYS["size"][1]))
        if config.get("size") is not None and to_lxd_string(config["size"]) != size:
            raise ConfigError("size is given both as an option (%r) and in config (%r); give it once"
                              % (size, config["size"]))
        config["size"] = size
    return normalize_volume_config(config)


def driver_keys(config):
    """The keys of config that only some pool drivers have (zfs.*, lvm.*)."""
    return sorted(k for k in config if k.split(".", 1)[0] in VOLUME_DRIVER_KEYS)


def same_size(current, wanted):
    """LXD compares sizes as sizes: '1GiB' and '1024MiB' are one size."""
    if current == wanted:
        return True
    try:
        return bool(current and wanted) and parse_bytes(current) == parse_bytes(wanted)
    except ValueError:
        return False


def plan_volume_update(current, config, description=None):
    """Plan a PUT of an existing volume: (body or None, DifferenceTracker). Only the keys given are compared."""
    wanted = dict(config)
    own = current.get("config") or {}
    if wanted.get("size") and own.get("size") and same_size(own["size"], wanted["size"]):
        # The same size spelled differently is no change.
        wanted["size"] = own["size"]
    new_config, tracker = plan_config(own, wanted)
    new_description = plan_value(tracker, ("description",), current.get("description", ""), description)
    if not tracker.has_changes:
        return None, tracker
    return {"config": new_config, "description": new_description}, tracker


def split_users(used_by):
    """A volume's used_by urls -> (instances [(project, name)], profiles [(project, name)], others [url])."""
    instances, profiles, others = [], [], []
    for url in used_by or []:
        parsed = urlparse(url)
        parts = parsed.path.split("/")
        project = parse_qs(parsed.query).get("project", ["default"])[0]
        if len(parts) == 4 and parts[2] == "instances":
            instances.append((project, unquote(parts[3])))
        elif len(parts) == 4 and parts[2] == "profiles":
            profiles.append((project, unquote(parts[3])))
        else:
            others.append(url)
    return instances, profiles, others


def without_volume(devices, pool, name):
    """(devices without the disks that attach pool/name, names of the devices taken out)."""
    kept, removed = {}, []
    for device_name, device in (devices or {}).items():
        if device.get("type") == "disk" and device.get("pool") == pool and device.get("source") == name:
            removed.append(device_name)
        else:
            kept[device_name] = device
    return kept, sorted(removed)


def summarize(volume, pool):
    """The volume as the module returns it (LXD's fields plus its pool); {} for none."""
    if not volume:
        return {}
    summary = dict((k, volume[k]) for k in ("name", "content_type", "config", "description", "used_by", "project",
                                            "location", "created_at") if k in volume)
    summary["pool"] = pool
    return summary


def _label(kind, project, name):
    return "%s %s" % (kind, name if project == "default" else "%s (project %s)" % (name, project))


class VolumeManager(Manager):
    def validate(self):
        p = self.params
        check_volume_name("pool", p["pool"], "pool")
        check_volume_name("name", p["name"])
        if p["new_name"] is not None:
            check_volume_name("new_name", p["new_name"])
            if p["state"] != "present":
                raise ConfigError("new_name applies to state=present only")
        self.config = volume_config(p["config"], p["size"])

    def path(self, name=None):
        return volume_path(self.params["pool"], name)

    def apply(self):
        p = self.params
        name = p["name"]
        current, etag = get_volume(self.client, p["pool"], name, with_etag=True)
        if p["state"] == "absent":
            if current is not None:
                self.delete(name, current)
            self.result = {"volume": {}}
            return
        if p["new_name"] and p["new_name"] != name:
            target, target_etag = get_volume(self.client, p["pool"], p["new_name"], with_etag=True)
            if current is not None:
                if target is not None:
                    raise LXDError("cannot rename volume %r to %r: pool %r has a volume %r already"
                                   % (name, p["new_name"], p["pool"], p["new_name"]))
                self.tracker.add(("name",), name, p["new_name"])
                self.write("rename", self.client.post, self.path(name), {"name": p["new_name"]})
                if not self.check_mode:
                    current, etag = get_volume(self.client, p["pool"], p["new_name"], with_etag=True)
            else:
                # Renamed by an earlier run (or to be created under the new name).
                current, etag = target, target_etag
            name = p["new_name"]
        if current is None:
            self.create(name)
        else:
            self.update(name, current, etag)
        if self.actions and not self.check_mode:
            current = get_volume(self.client, p["pool"], name)
        self.result = {"volume": summarize(current, p["pool"])}

    def pool_driver(self):
        try:
            return self.client.get(api_path("storage-pools", self.params["pool"]), project=False).metadata["driver"]
        except LXDNotFound:
            if not self.check_mode:
                raise LXDError("storage pool %r does not exist on %s" % (self.params["pool"], self.client.url))
            # A server being set up: an earlier task of the same play (lxd_init) makes the pool, so --check on a
            # fresh server shows the volume it would create instead of failing the run.
            self.module.warn("storage pool %r does not exist on %s (yet): check mode shows the volume as created, "
                             "a real run needs the pool first" % (self.params["pool"], self.client.url))
            return None

    def create(self, name):
        p = self.params
        normalize_volume_config(self.config, driver=self.pool_driver())
        body = {"name": name, "type": "custom", "content_type": p["content_type"] or "filesystem",
                "config": dict((k, v) for k, v in self.config.items() if v is not None)}
        if p["description"] is not None:
            body["description"] = p["description"]
        self.tracker.add(("volume",), None, body)
        self.write("create", self.client.post, self.path(), body)

    def update(self, name, current, etag):
        p = self.params
        if p["content_type"] and current.get("content_type") != p["content_type"]:
            raise ConfigError("content_type of volume %r is %s and cannot change to %s (a volume keeps its content "
                              "type; create another volume and copy the data)"
                              % (name, current.get("content_type"), p["content_type"]))
        if driver_keys(self.config):
            normalize_volume_config(self.config, driver=self.pool_driver())
        body, tracker = plan_volume_update(current, self.config, p["description"])
        self.tracker.merge(tracker)
        if body is not None:
            self.write("update", self.client.put, self.path(name), body, etag=etag)

    def delete(self, name, current):
        p = self.params
        users = current.get("used_by") or []
        self.tracker.add(("volume",), {"name": name, "content_type": current.get("content_type")}, None)
        if users and not p["force"]:
            raise LXDError("volume %r on pool %r is used by %s; it is not deleted (force: true detaches it from "
                           "stopped instances and from profiles first)" % (name, p["pool"], ", ".join(users)))
        detached = []
        try:
            if users:
                self.detach_all(name, users, detached)
            self.write("delete", self.client.delete, self.path(name))
        except LXDError:
            # Put back what was detached: a failed run leaves the server as it was.
            for path, project, body in reversed(detached):
                try:
                    self.client.put(path, body, project=project)
                except LXDError:
                    pass
            raise

    def detach_all(self, name, users, detached):
        """Take the volume's disk devices out of its users; refused (before any change) while one runs."""
        p = self.params
        instances, profiles, others = split_users(users)
        if others:
            raise LXDError("volume %r is used by %s, which this module does not detach; it is not deleted"
                           % (name, ", ".join(others)))
        plans = []
        running = []
        for project, instance in instances:
            path = api_path("instances", instance)
            response = self.client.get(path, project=project)
            if response.metadata.get("status") in ("Running", "Frozen"):
                running.append(_label("instance", project, instance))
            plans.append(("instance", project, instance, path, response, writable(response.metadata)))
        if running:
            raise LXDError("volume %r is attached to running %s; stop it first (force detaches it from stopped "
                           "instances only); nothing was changed" % (name, ", ".join(running)))
        for project, profile in profiles:
            path = api_path("profiles", profile)
            response = self.client.get(path, project=project)
            body = dict((k, response.metadata.get(k)) for k in ("config", "description", "devices"))
            plans.append(("profile", project, profile, path, response, body))
        for kind, project, obj_name, path, response, body in plans:
            devices, removed = without_volume(body.get("devices"), p["pool"], name)
            if not removed:
                # Attached through a profile: the profile's own detach covers it.
                continue
            for device in removed:
                self.tracker.add((kind + "s", obj_name, "devices", device), body["devices"][device], None)
            self.write("detach from " + _label(kind, project, obj_name), self.client.put, path,
                       dict(body, devices=devices), etag=response.etag, project=project)
            detached.append((path, project, body))
