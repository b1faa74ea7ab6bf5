# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ZFS pool creation: validation, the command, and reading zpool's output."""

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils import zpool

DISKS = ["/dev/disk/by-id/a", "/dev/disk/by-id/b", "/dev/disk/by-id/c", "/dev/disk/by-id/d"]


@pytest.mark.parametrize("layout, devices, argv_tail", [
    ("single", DISKS[:1], ["tank", DISKS[0]]),
    ("mirror", DISKS[:2], ["tank", "mirror"] + DISKS[:2]),
    ("raidz", DISKS[:3], ["tank", "raidz1"] + DISKS[:3]),
    ("raidz2", DISKS[:3], ["tank", "raidz2"] + DISKS[:3]),
    ("raidz3", DISKS, ["tank", "raidz3"] + DISKS),
])
def test_layouts(layout, devices, argv_tail):
    zpool.validate_pool("tank", devices, layout, 12)
    argv = zpool.create_command("tank", devices, layout, 12, {"autotrim": True}, {"compression": "lz4", "atime": False})
    assert argv == ["zpool", "create", "-o", "ashift=12", "-o", "autotrim=on", "-O", "atime=off",
                    "-O", "compression=lz4"] + argv_tail


@pytest.mark.parametrize("name, devices, layout, ashift, words", [
    ("tank", DISKS[:1], "mirror", None, ["mirror needs at least 2"]),
    ("tank", DISKS[:2], "raidz3", None, ["raidz3 needs at least 4"]),
    ("tank", DISKS[:2], "single", None, ["single takes one device", "mirror"]),
    ("tank", [], "single", None, ["at least one device"]),
    ("tank", ["sdb"], "single", None, ["'sdb'", "absolute"]),
    ("tank", [DISKS[0], DISKS[0]], "mirror", None, ["listed twice"]),
    ("tank", DISKS[:1], "single", 20, ["ashift", "9 to 16"]),
    ("mirror1", DISKS[:1], "single", None, ["not a valid pool name"]),
    ("1tank", DISKS[:1], "single", None, ["not a valid pool name"]),
    ("tank", DISKS[:1], "stripe", None, ["layout 'stripe'"]),
])
def test_refused(name, devices, layout, ashift, words):
    with pytest.raises(ConfigError) as err:
        zpool.validate_pool(name, devices, layout, ashift)
    for word in words:
        assert word in str(err.value)


def test_force_flag():
    assert zpool.create_command("tank", DISKS[:1], "single", force=True)[:3] == ["zpool", "create", "-f"]


@pytest.mark.parametrize("blkid, children, verdict", [
    ("", [], None),
    ("DEVNAME=/dev/sdb\nTYPE=ext4\nUUID=x", [], "holds a ext4 filesystem"),
    ("TYPE=zfs_member\nLABEL=oldpool", [], "holds the label of a ZFS pool (oldpool)"),
    ("PTTYPE=gpt", [], "holds partitions"),
    ("", ["sdb1"], "holds partitions"),
])
def test_device_verdict(blkid, children, verdict):
    assert zpool.device_verdict(blkid, children) == verdict


STATUS = """  pool: tank
 state: ONLINE
  scan: none requested
config:

\tNAME                  STATE     READ WRITE CKSUM
\ttank                  ONLINE       0     0     0
\t  mirror-0            ONLINE       0     0     0
\t    /var/tmp/zdisk1   ONLINE       0     0     0
\t    /var/tmp/zdisk2   ONLINE       0     0     0

errors: No known data errors
"""


def test_parse_status():
    assert zpool.parse_status(STATUS) == {"health": "ONLINE", "devices": [
        {"path": "/var/tmp/zdisk1", "state": "ONLINE"}, {"path": "/var/tmp/zdisk2", "state": "ONLINE"}]}


def test_property_table_of_older_zfs():
    table = "NAME  PROPERTY    VALUE   SOURCE\ntank  size        246M    -\ntank  autoexpand  off     default\n"
    assert zpool.parse_property_table(table) == {"size": "246M", "autoexpand": "off"}


def test_properties():
    current = zpool.parse_properties("size\t1000\ncompression\toff\natime\ton\n")
    assert current == {"size": "1000", "compression": "off", "atime": "on"}
    assert zpool.property_changes(current, {"compression": "lz4", "atime": True}) == {"compression": ("off", "lz4")}
