# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.lxdops.server.plugins.module_utils.replica import (
    REPLICA_KEY,
    SAVED_SCHEDULE_KEY,
    volume_config,
    volumes_note,
)
from ansible_collections.lxdops.server.plugins.module_utils.volume_replica import (
    for_driver,
    instance_volumes,
    transport,
    volume_body,
)


def test_instance_volumes_from_expanded_devices_only_custom_volumes():
    instance = {"devices": {"own": {"type": "disk", "pool": "p", "source": "ignored", "path": "/x"}},
                "expanded_devices": {
                    "root": {"type": "disk", "pool": "default", "path": "/"},
                    "data": {"type": "disk", "pool": "fast", "source": "db", "path": "/var/lib/db"},
                    "fromprofile": {"type": "disk", "pool": "default", "source": "uploads", "path": "/srv"},
                    "hostdir": {"type": "disk", "source": "/srv/host", "path": "/host"},
                    "cloud": {"type": "disk", "source": "cloud-init:config"},
                    "again": {"type": "disk", "pool": "fast", "source": "db", "path": "/again"},
                    "eth0": {"type": "nic", "network": "br0"}}}
    assert instance_volumes(instance) == [("default", "uploads"), ("fast", "db")]
    # Without expanded devices (a record read without them): its own devices.
    assert instance_volumes({"devices": instance["devices"]}) == [("p", "ignored")]
    assert instance_volumes({}) == []


def test_volume_config_of_a_replica_and_of_a_copy_back():
    source = {"size": "1GiB", "snapshots.schedule": "@daily", "volatile.idmap.last": "[]", "user.a": "b"}
    replica = volume_config(source, True)
    assert replica == {"size": "1GiB", "user.a": "b", REPLICA_KEY: "true", SAVED_SCHEDULE_KEY: "@daily"}
    # Replicated again (failback's source is a replica): the kept schedule stays kept.
    assert volume_config(replica, True) == replica
    # Not a replica (failback's target): the marks go, the schedule is back.
    assert volume_config(replica, False) == {"size": "1GiB", "user.a": "b", "snapshots.schedule": "@daily"}
    assert volume_config({}, False) == {}


def test_for_driver_keeps_the_target_drivers_keys_and_the_common_ones():
    config = {"size": "1GiB", "zfs.blocksize": "16KiB", "btrfs.mount_options": "compress", "user.x": "y"}
    assert for_driver(config, "btrfs") == {"size": "1GiB", "btrfs.mount_options": "compress", "user.x": "y"}
    assert for_driver(config, "dir") == {"size": "1GiB", "user.x": "y"}


def test_volume_body_pulls_with_the_source_operation():
    body = volume_body({"name": "db", "content_type": "block", "description": "d"}, {"size": "1GiB"},
                       "https://h:8443/1.0/operations/1", "PEM", {"rsync": "s"}, False, True)
    assert body["name"] == "db" and body["type"] == "custom" and body["content_type"] == "block"
    assert body["source"] == {"type": "migration", "mode": "pull", "operation": "https://h:8443/1.0/operations/1",
                              "certificate": "PEM", "secrets": {"rsync": "s"}, "volume_only": False,
                              "refresh": True}


def test_volumes_note():
    assert volumes_note([]) == ""
    assert volumes_note([{"pool": "p", "name": "v", "action": "created"}]) == " (volumes: p/v created)"


def test_an_incus_that_would_crash_receives_volumes_from_lxd_as_backups():
    assert transport("lxd", "incus", ["custom_volume_refresh"]) == "backup"
    assert transport("lxd", "incus", ["custom_volume_sftp"]) == "migration"
    assert transport("incus", "incus", []) == "migration"
    assert transport("lxd", "lxd", []) == "migration"
    assert transport("incus", "lxd", []) == "migration"
