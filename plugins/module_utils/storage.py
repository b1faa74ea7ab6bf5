# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Storage pools: per-driver validation and request building (pure), and the manager that applies them."""

from __future__ import annotations

import re

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.cluster import (
    create_on_cluster,
    is_clustered,
    normalize_member_overrides,
)
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    LXD_FALSE,
    LXD_TRUE,
    MEMBER_POOL_KEYS,
    ConfigError,
    parse_bytes,
    to_lxd_string,
)
from ansible_collections.lxdops.server.plugins.module_utils.diff import DifferenceTracker
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager

DRIVERS = ("dir", "btrfs", "zfs", "lvm", "ceph")
BOOL_FORM = "true or false"


def _bool(value):
    return value.lower() in LXD_TRUE + LXD_FALSE


def _size(value):
    try:
        return parse_bytes(value) > 0
    except ValueError:
        return False


def _int(value):
    return value.isdigit() and int(value) > 0


def _name(value):
    return bool(re.match(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$", value))


def _zfs_dataset(value):
    return all(_name(part) for part in value.split("/"))


SIZE_FORM = "a size with LXD's suffixes (30GiB, 500MB)"

# key -> (check, accepted forms); keys under a driver's prefix belong to that driver only.
DRIVER_KEYS = {
    "dir": {},
    "btrfs": {
        "btrfs.mount_options": (lambda v: bool(v.strip()), "mount options, comma separated (user_subvol_rm_allowed)"),
    },
    "zfs": {
        "zfs.pool_name": (_zfs_dataset, "a zpool or dataset name (tank or tank/lxd)"),
        "zfs.clone_copy": (lambda v: _bool(v) or v == "rebase", "true, false or rebase"),
        "zfs.export": (_bool, BOOL_FORM),
    },
    "lvm": {
        "lvm.vg_name": (_name, "a volume group name"),
        "lvm.thinpool_name": (_name, "a thin pool name"),
        "lvm.use_thinpool": (_bool, BOOL_FORM),
        "lvm.vg.force_reuse": (_bool, BOOL_FORM),
        "lvm.thinpool_metadata_size": (_size, SIZE_FORM),
        "lvm.metadata_size": (_size, SIZE_FORM),
    },
    "ceph": {
        "ceph.cluster_name": (_name, "a Ceph cluster name (ceph)"),
        "ceph.osd.pool_name": (_name, "an OSD pool name"),
        "ceph.osd.data_pool_name": (_name, "an OSD pool name"),
        "ceph.osd.pg_num": (_int, "a positive number of placement groups"),
        "ceph.osd.force_reuse": (_bool, BOOL_FORM),
        "ceph.rbd.clone_copy": (_bool, BOOL_FORM),
        "ceph.rbd.du": (_bool, BOOL_FORM),
        "ceph.rbd.features": (lambda v: bool(v.strip()), "RBD features, comma separated (layering)"),
        "ceph.user.name": (_name, "a Ceph user name (admin)"),
    },
}

COMMON_KEYS = {
    "size": (_size, SIZE_FORM),
    "rsync.bwlimit": (lambda v: v == "0" or _size(v), "a bandwidth in bytes per second (10MB), 0 for none"),
    "rsync.compression": (_bool, BOOL_FORM),
    "volume.size": (_size, SIZE_FORM),
}

SOURCE_FORMS = {
    "dir": "an absolute path to a directory",
    "btrfs": "an absolute path (an existing btrfs directory or a block device), or nothing for a loop file",
    "zfs": "a zpool or dataset name (tank, tank/lxd), a block device (/dev/sdb), or nothing for a loop file",
    "lvm": "a volume group name or a block device (/dev/sdb), or nothing for a loop file",
    "ceph": "an OSD pool name",
}

# Keys whose values LXD compares as sizes: '2048MiB' and '2GiB' are the same.
SIZE_KEYS = ("size", "volume.size", "lvm.thinpool_metadata_size", "lvm.metadata_size")


def _check_source(driver, source):
    if driver in ("dir", "btrfs"):
        ok = source.startswith("/")
    elif driver == "zfs":
        ok = source.startswith("/dev/") or _zfs_dataset(source)
    elif driver == "lvm":
        ok = source.startswith("/dev/") or _name(source)
    else:
        ok = _name(source)
    if not ok:
        raise ConfigError("source %r is not accepted for the %s driver; accepted: %s"
                          % (source, driver, SOURCE_FORMS[driver]))


def normalize_pool_config(driver, config, source=None, size=None):
    """Validate driver config (with source and size folded in); return {key: str or None}."""
    normalized = {}
    for key, raw in (config or {}).items():
        key = str(key)
        try:
            normalized[key] = to_lxd_string(raw)
        except ConfigError as exc:
            raise ConfigError("config key %r: value %r is not accepted; give %s" % (key, raw, exc))
    for option, value in (("source", source), ("size", size)):
        if value is not None:
            if option in normalized and normalized[option] != value:
                raise ConfigError("%s is given both as an option and in config, with different values" % option)
            normalized[option] = value
    for key, value in normalized.items():
        if value is None or value == "":
            continue
        if key == "source":
            if driver:
                _check_source(driver, value)
            continue
        prefix = key.split(".", 1)[0]
        if prefix in DRIVERS and prefix != driver and driver:
            raise ConfigError("config key %r is for the %s driver, not %s" % (key, prefix, driver))
        known = DRIVER_KEYS.get(driver or prefix, {}).get(key) or COMMON_KEYS.get(key)
        if known and not known[0](value):
            raise ConfigError("config key %r: value %r is not accepted; accepted: %s" % (key, value, known[1]))
    if driver == "ceph" and size is not None:
        raise ConfigError("size is not accepted for the ceph driver (the OSD pool sets capacity)")
    return normalized


def build_pool_request(name, driver, config, description=None):
    """The POST /1.0/storage-pools body for a new pool."""
    body = {"name": name, "driver": driver,
            "config": dict((k, v) for k, v in (config or {}).items() if v is not None)}
    if description is not None:
        body["description"] = description
    return body


def _same(key, current, wanted):
    if current == wanted:
        return True
    if key in SIZE_KEYS and current and wanted:
        try:
            return parse_bytes(current) == parse_bytes(wanted)
        except ValueError:
            return False
    return False


def plan_pool_update(current, wanted_config, description=None):
    """Plan a PUT of an existing pool: returns (body or None, DifferenceTracker). Raises on immutable changes."""
    tracker = DifferenceTracker()
    config = dict(current.get("config") or {})
    for key, value in wanted_config.items():
        old = config.get(key)
        if key == "source":
            if value and old and value != old:
                raise LXDError("source of pool %r is %r and cannot change to %r" % (current["name"], old, value))
            continue
        if value is None:
            if key in config:
                del config[key]
                tracker.add(("config", key), old, None)
        elif not _same(key, old, value):
            config[key] = value
            tracker.add(("config", key), old, value)
    new_description = current.get("description", "")
    if description is not None and description != new_description:
        tracker.add(("description",), new_description, description)
        new_description = description
    if not tracker.has_changes:
        return None, tracker
    return {"config": config, "description": new_description}, tracker


class StorageManager(Manager):
    def validate(self):
        p = self.params
        if not p["name"] or "/" in p["name"] or p["name"] in (".", ".."):
            raise ConfigError("name %r is not a valid pool name" % p["name"])
        size = to_lxd_string(p["size"]) if p["size"] is not None else None
        self.config = normalize_pool_config(p["driver"], p["config"], p["source"], size)
        self.overrides = normalize_member_overrides(p.get("member_config"), MEMBER_POOL_KEYS[:-1], "storage pool")
        for member, keys in self.overrides.items():
            try:
                normalize_pool_config(p["driver"], keys)
            except ConfigError as exc:
                raise ConfigError("member_config.%s: %s" % (member, exc))

    def apply(self):
        p = self.params
        path = api_path("storage-pools", p["name"])
        try:
            response = self.client.get(path, project=False)
            current = response.metadata
        except LXDNotFound:
            response, current = None, None
        if p["state"] == "absent":
            if current is not None:
                users = current.get("used_by") or []
                if users:
                    raise LXDError("storage pool %r is in use by %s; it is not deleted"
                                   % (p["name"], ", ".join(users)))
                self.tracker.add(("pool",), {"name": p["name"], "driver": current.get("driver")}, None)
                self.write("delete", self.client.delete, path, project=False)
            self.result = {"pool": {}}
            return
        clustered = is_clustered(self.client, current)
        if self.overrides and not clustered:
            raise ConfigError("member_config: the server at %s is not part of a cluster; give source, size and "
                              "config only" % self.client.url)
        if current is None:
            if not p["driver"]:
                raise ConfigError("storage pool %r does not exist: give driver (%s) to create it"
                                  % (p["name"], ", ".join(DRIVERS)))
            if clustered:
                self.create_on_cluster(p["driver"])
            else:
                body = build_pool_request(p["name"], p["driver"], self.config, p["description"])
                self.tracker.add(("pool",), None, body)
                self.write("create", self.client.post, "/1.0/storage-pools", body, project=False)
        elif clustered and current.get("status") in ("Pending", "Errored"):
            # A creation an earlier run left half done: define it where it is missing, then create it.
            self.create_on_cluster(current.get("driver"))
        else:
            if p["driver"] and current.get("driver") != p["driver"]:
                raise LXDError("storage pool %r uses the %s driver; the driver cannot change to %s"
                               % (p["name"], current.get("driver"), p["driver"]))
            if not p["driver"]:
                # Validate driver keys now that the driver is known.
                normalize_pool_config(current.get("driver"), self.config)
            wanted = self.config
            if clustered:
                # Member-specific keys are set per member when the pool is created; LXD shows and changes only
                # the cluster-wide ones here.
                wanted = dict((k, v) for k, v in self.config.items() if k not in MEMBER_POOL_KEYS)
            body, tracker = plan_pool_update(current, wanted, p["description"])
            self.tracker.merge(tracker)
            if body is not None:
                self.write("update", self.client.put, path, body, etag=response.etag, project=False)
        if self.actions and not self.check_mode:
            current = self.client.get(path, project=False).metadata
        self.result = {"pool": current or {}}

    def create_on_cluster(self, driver):
        p = self.params
        body = build_pool_request(p["name"], driver, self.config, p["description"])
        create_on_cluster(self, "/1.0/storage-pools", body, MEMBER_POOL_KEYS, self.overrides, "pool",
                          "storage pool %r" % p["name"])
