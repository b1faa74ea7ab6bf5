# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Custom storage volumes: where they live in the API, how they are read, and which an instance uses.

The readers are shared by every module that touches custom volumes (lxd_volume, lxd_snapshot, lxd_replica,
lxd_info). A failed read raises; only a 404 means "no such volume".
"""

from __future__ import annotations

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDNotFound, api_path

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


def list_volumes(client, pool):
    """The custom volumes of one pool (in the client's project), each as LXD shows it (recursion=1).

    LXD 5.0 and Incus 6.0 list every volume type and the snapshots too ("<volume>/<snapshot>"): both are
    left out here.
    """
    volumes = client.get(api_path("storage-pools", pool, "volumes"), params={"recursion": 1}).metadata or []
    return [v for v in volumes if v.get("type") == "custom" and "/" not in v.get("name", "")]


def list_volume_snapshots(client, pool, name):
    """The snapshots of a custom volume (recursion=1); names are bare (without '<volume>/')."""
    snapshots = client.get(volume_snapshot_path(pool, name), params={"recursion": 1}).metadata or []
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
