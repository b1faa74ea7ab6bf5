# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ZFS pools: the pure parts (validation, the zpool create command, parsing what zpool prints)."""

from __future__ import annotations

import re

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError

LAYOUTS = {"single": 1, "mirror": 2, "raidz": 2, "raidz1": 2, "raidz2": 3, "raidz3": 4}
_POOL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")
RESERVED_NAMES = ("mirror", "raidz", "raidz1", "raidz2", "raidz3", "spare", "log", "cache", "draid")


def _value(raw):
    if isinstance(raw, bool):
        return "on" if raw else "off"
    return str(raw)


def validate_pool(name, devices, layout, ashift):
    if not name or not _POOL_NAME.match(name) or name.startswith(RESERVED_NAMES):
        raise ConfigError("name %r is not a valid pool name: it starts with a letter, holds letters, digits, "
                          "_ . : -, and is not a vdev keyword (mirror, raidz, spare, log, cache)" % name)
    if layout not in LAYOUTS:
        raise ConfigError("layout %r is not accepted; accepted: %s" % (layout, ", ".join(sorted(LAYOUTS))))
    if not devices:
        raise ConfigError("devices: give at least one device (a disk such as /dev/sdb, or a file)")
    if len(set(devices)) != len(devices):
        raise ConfigError("devices: %s is listed twice" % next(d for d in devices if devices.count(d) > 1))
    for device in devices:
        if not device.startswith("/"):
            raise ConfigError("devices: %r is not an absolute path (/dev/disk/by-id/... is safest)" % device)
    if len(devices) < LAYOUTS[layout]:
        raise ConfigError("layout %s needs at least %d devices; %d given" % (layout, LAYOUTS[layout], len(devices)))
    if layout == "single" and len(devices) > 1:
        # Several devices without redundancy stripe: data is lost with any one of them. Say so explicitly.
        raise ConfigError("layout single takes one device; %d given (a stripe without redundancy loses everything "
                          "with one disk): choose mirror or raidz" % len(devices))
    if ashift is not None and not 9 <= ashift <= 16:
        raise ConfigError("ashift %r is not accepted; accepted: 9 to 16 (12 for 4K-sector disks)" % ashift)


def create_command(name, devices, layout, ashift=None, properties=None, filesystem_properties=None, force=False):
    """argv of `zpool create`."""
    argv = ["zpool", "create"]
    if force:
        argv.append("-f")
    if ashift is not None:
        argv += ["-o", "ashift=%d" % ashift]
    for key, raw in sorted((properties or {}).items()):
        argv += ["-o", "%s=%s" % (key, _value(raw))]
    for key, raw in sorted((filesystem_properties or {}).items()):
        argv += ["-O", "%s=%s" % (key, _value(raw))]
    argv.append(name)
    if layout != "single":
        argv.append("raidz1" if layout == "raidz" else layout)
    argv += list(devices)
    return argv


def parse_properties(output):
    """`zpool get -H -p -o property,value all NAME` or `zfs get -H -p -o property,value all NAME` -> dict."""
    result = {}
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            result[parts[0]] = parts[1]
    return result


def parse_property_table(output):
    """`zpool get all NAME` as older ZFS prints it (a NAME PROPERTY VALUE SOURCE table) -> dict."""
    result = {}
    lines = output.splitlines()
    for line in lines[1:] if lines and lines[0].split()[:2] == ["NAME", "PROPERTY"] else lines:
        fields = line.split()
        if len(fields) >= 3:
            result[fields[1]] = fields[2]
    return result


def parse_status(output):
    """Health and devices from `zpool status NAME`."""
    health = None
    devices = []
    in_config = False
    for line in output.splitlines():
        stripped = line.strip()
        if stripped.startswith("state:"):
            health = stripped.split(":", 1)[1].strip()
        elif stripped.startswith("NAME") and "STATE" in stripped:
            in_config = True
        elif in_config:
            if not stripped or stripped.startswith("errors:"):
                in_config = False
                continue
            fields = stripped.split()
            if fields and fields[0].startswith("/"):
                devices.append({"path": fields[0], "state": fields[1] if len(fields) > 1 else None})
    return {"health": health, "devices": devices}


def property_changes(current, wanted):
    """{key: (before, after)} for properties that differ; values compared as zfs prints them."""
    changes = {}
    for key, raw in (wanted or {}).items():
        value = _value(raw)
        if current.get(key) != value:
            changes[key] = (current.get(key), value)
    return changes


def device_verdict(blkid_output, lsblk_children):
    """Why a device must not be used without force, or None: a filesystem, a pool label, partitions."""
    fields = dict(line.split("=", 1) for line in blkid_output.splitlines() if "=" in line)
    if fields.get("TYPE") == "zfs_member":
        return "holds the label of a ZFS pool%s" % (" (%s)" % fields["LABEL"] if fields.get("LABEL") else "")
    if fields.get("TYPE"):
        return "holds a %s filesystem" % fields["TYPE"]
    if fields.get("PTTYPE") or lsblk_children:
        return "holds partitions"
    return None
