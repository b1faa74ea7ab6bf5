# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Storage pools: every driver's options validated and its request built, without a daemon."""

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.storage import (
    build_pool_request,
    normalize_pool_config,
    plan_pool_update,
)


@pytest.mark.parametrize("driver, source, size, config, expected", [
    ("zfs", "tank/lxd", None, {"zfs.clone_copy": "rebase"},
     {"source": "tank/lxd", "zfs.clone_copy": "rebase"}),
    ("zfs", None, "30GiB", {"zfs.pool_name": "lxdpool"}, {"size": "30GiB", "zfs.pool_name": "lxdpool"}),
    ("zfs", "/dev/sdb", None, {"zfs.export": False}, {"source": "/dev/sdb", "zfs.export": "false"}),
    ("lvm", "vg0", None, {"lvm.thinpool_name": "LXDThinPool", "lvm.use_thinpool": True},
     {"source": "vg0", "lvm.thinpool_name": "LXDThinPool", "lvm.use_thinpool": "true"}),
    ("lvm", "/dev/sdc", None, {"lvm.vg_name": "lxd", "lvm.thinpool_metadata_size": "1GiB"},
     {"source": "/dev/sdc", "lvm.vg_name": "lxd", "lvm.thinpool_metadata_size": "1GiB"}),
    ("ceph", "lxd-pool", None, {"ceph.cluster_name": "ceph", "ceph.osd.pg_num": 32, "ceph.user.name": "admin",
                                "ceph.rbd.features": "layering"},
     {"source": "lxd-pool", "ceph.cluster_name": "ceph", "ceph.osd.pg_num": "32", "ceph.user.name": "admin",
      "ceph.rbd.features": "layering"}),
    ("btrfs", None, "2GiB", {"btrfs.mount_options": "compress=zstd"},
     {"size": "2GiB", "btrfs.mount_options": "compress=zstd"}),
    ("dir", "/srv/lxd", None, {"rsync.bwlimit": "10MB", "volume.size": "10GiB"},
     {"source": "/srv/lxd", "rsync.bwlimit": "10MB", "volume.size": "10GiB"}),
])
def test_requests_per_driver(driver, source, size, config, expected):
    normalized = normalize_pool_config(driver, config, source, size)
    body = build_pool_request("pool1", driver, normalized, "desc")
    assert body == {"name": "pool1", "driver": driver, "config": expected, "description": "desc"}


@pytest.mark.parametrize("driver, source, size, config, words", [
    ("zfs", None, None, {"lvm.vg_name": "x"}, ["'lvm.vg_name'", "lvm driver, not zfs"]),
    ("zfs", None, None, {"zfs.clone_copy": "sometimes"}, ["zfs.clone_copy", "rebase"]),
    ("zfs", "tank//lxd", None, {}, ["source", "zpool"]),
    ("lvm", "vg 0", None, {}, ["source", "volume group"]),
    ("lvm", None, None, {"lvm.thinpool_metadata_size": "big"}, ["lvm.thinpool_metadata_size", "size"]),
    ("ceph", None, None, {"ceph.osd.pg_num": "0"}, ["ceph.osd.pg_num", "placement groups"]),
    ("ceph", None, "10GiB", {}, ["size", "ceph"]),
    ("ceph", "/dev/rbd0", None, {}, ["source", "OSD pool"]),
    ("btrfs", "relative", None, {}, ["source", "absolute path"]),
    ("dir", None, "ten", {}, ["'size'", "'ten'"]),
    ("dir", None, None, {"source": "/a"}, []),
])
def test_refusals(driver, source, size, config, words):
    if not words:
        normalize_pool_config(driver, config, source, size)
        return
    with pytest.raises(ConfigError) as err:
        normalize_pool_config(driver, config, source, size)
    for word in words:
        assert word in str(err.value)


def test_source_given_twice_differently():
    with pytest.raises(ConfigError):
        normalize_pool_config("dir", {"source": "/a"}, "/b")


CURRENT = {"name": "p", "driver": "btrfs", "description": "",
           "config": {"size": "2GiB", "source": "/var/lib/lxd/disks/p.img", "volatile.initial_source": ""}}


def test_update_ignores_what_lxd_filled_in():
    body, tracker = plan_pool_update(CURRENT, {"size": "2048MiB"})
    assert body is None and not tracker.has_changes


def test_update_changes_and_removals():
    body, tracker = plan_pool_update(CURRENT, {"size": "3GiB", "btrfs.mount_options": "compress=zstd",
                                               "volatile.initial_source": None}, description="fast")
    assert body["config"]["size"] == "3GiB" and body["config"]["btrfs.mount_options"] == "compress=zstd"
    assert "volatile.initial_source" not in body["config"]
    assert body["config"]["source"] == "/var/lib/lxd/disks/p.img"
    assert body["description"] == "fast"
    assert sorted(tracker.paths()) == ["config.btrfs.mount_options", "config.size",
                                       "config.volatile.initial_source", "description"]


def test_source_is_immutable():
    with pytest.raises(LXDError) as err:
        plan_pool_update(CURRENT, {"source": "/dev/sdb"})
    assert "cannot change" in err.value.message
