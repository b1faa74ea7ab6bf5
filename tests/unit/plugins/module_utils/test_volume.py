# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Custom volumes: names, config keys, update plans and users, without a daemon."""

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError, normalize_volume_config
from ansible_collections.lxdops.server.plugins.module_utils.volume import (
    attached_volumes,
    check_volume_name,
    plan_volume_update,
    same_size,
    split_users,
    summarize,
    volume_config,
    volume_path,
    volume_snapshot_path,
    without_volume,
)


def test_paths_quote_each_segment():
    assert volume_path("default") == "/1.0/storage-pools/default/volumes/custom"
    assert volume_path("default", "pg data") == "/1.0/storage-pools/default/volumes/custom/pg%20data"
    assert volume_snapshot_path("p", "v") == "/1.0/storage-pools/p/volumes/custom/v/snapshots"
    assert volume_snapshot_path("p", "v", "a/b") == "/1.0/storage-pools/p/volumes/custom/v/snapshots/a%2Fb"


@pytest.mark.parametrize("name", ["pgdata", "a", "data-1", "web_uploads", "v1.2", "9lives", "x" * 63])
def test_good_names(name):
    check_volume_name("name", name)


@pytest.mark.parametrize("name", ["", "a/b", "-x", ".", "..", "a b", "x" * 64, None, 3, "é"])
def test_bad_names_name_option_value_and_rule(name):
    with pytest.raises(ConfigError) as err:
        check_volume_name("name", name)
    assert str(err.value).startswith("name %r is not a valid volume name" % (name,))
    assert "letters, digits" in str(err.value)


def test_config_values_become_lxd_strings_and_size_folds_in():
    config = volume_config({"security.shifted": True, "user.owner": 42, "snapshots.schedule": "@daily",
                            "snapshots.expiry": "2w", "snapshots.pattern": "snap-%d"}, "10GiB")
    assert config == {"security.shifted": "true", "user.owner": "42", "snapshots.schedule": "@daily",
                      "snapshots.expiry": "2w", "snapshots.pattern": "snap-%d", "size": "10GiB"}
    assert volume_config({"size": "1GiB"}, "1GiB") == {"size": "1GiB"}
    assert volume_config({"snapshots.schedule": None}, None) == {"snapshots.schedule": None}
    assert volume_config(None, None) == {}


@pytest.mark.parametrize("config, size, words", [
    ({}, "2 GB", ["size '2 GB' is not accepted", "10GiB"]),
    ({}, "0", ["size '0'"]),
    ({}, "1gib", ["size '1gib'"]),
    ({"size": "2GiB"}, "1GiB", ["size is given both", "'1GiB'", "'2GiB'"]),
    ({"size": "lots"}, None, ["'size'", "'lots'"]),
    ({"quota": "1GiB"}, None, ["'quota'", "not a custom volume key", "snapshots.schedule", "user.*"]),
    ({"snapshots.schedule": "nightly"}, None, ["'snapshots.schedule'", "'nightly'", "cron"]),
    ({"snapshots.expiry": "1d1d"}, None, ["'snapshots.expiry'", "'1d1d'"]),
    ({"snapshots.pattern": "a/%d"}, None, ["'snapshots.pattern'", "without '/'"]),
    ({"block.filesystem": "ntfs"}, None, ["'block.filesystem'", "ext4, xfs or btrfs"]),
    ({"security.unmapped": "perhaps"}, None, ["'security.unmapped'", "true or false"]),
    ({"initial.mode": "rwx"}, None, ["'initial.mode'", "octal"]),
    ({"zfs.blocksize": "100KiB"}, None, ["'zfs.blocksize'", "power of two"]),
    ({"lvm.stripes": "0"}, None, ["'lvm.stripes'", "positive"]),
    ({"volatile.idmap.next": "[]"}, None, ["'volatile.idmap.next'", "belong to LXD"]),
    ({"user.x": ["a"]}, None, ["'user.x'", "scalar"]),
])
def test_bad_config_names_key_value_and_what_is_accepted(config, size, words):
    with pytest.raises(ConfigError) as err:
        volume_config(config, size)
    for word in words:
        assert word in str(err.value)


def test_driver_keys_only_on_their_driver():
    assert normalize_volume_config({"zfs.blocksize": "128KiB"}, driver="zfs") == {"zfs.blocksize": "128KiB"}
    assert normalize_volume_config({"lvm.stripes": 2}, driver="lvm") == {"lvm.stripes": "2"}
    with pytest.raises(ConfigError) as err:
        normalize_volume_config({"zfs.blocksize": "128KiB"}, driver="dir")
    assert "'zfs.blocksize'" in str(err.value) and "zfs pool" in str(err.value) and "dir" in str(err.value)
    # Common keys are every driver's.
    assert normalize_volume_config({"size": "1GiB"}, driver="btrfs") == {"size": "1GiB"}


def test_an_empty_value_unsets_without_validation():
    assert volume_config({"snapshots.schedule": ""}, None) == {"snapshots.schedule": ""}


@pytest.mark.parametrize("current, wanted, same", [
    ("1GiB", "1024MiB", True),
    ("1GiB", "1073741824", True),
    ("1GB", "1GiB", False),
    ("10GiB", "10GiB", True),
    (None, "1GiB", False),
    ("odd", "1GiB", False),
])
def test_same_size(current, wanted, same):
    assert same_size(current, wanted) is same


def test_plan_update_only_the_keys_given():
    current = {"name": "v", "description": "", "config": {"size": "1GiB", "snapshots.expiry": "2w",
                                                          "volatile.idmap.last": "[]", "user.a": "1"}}
    body, tracker = plan_volume_update(current, {"size": "1024MiB", "user.a": "1"})
    assert body is None and not tracker.has_changes
    body, tracker = plan_volume_update(current, {"size": "2GiB", "user.a": None}, description="data")
    assert body == {"config": {"size": "2GiB", "snapshots.expiry": "2w", "volatile.idmap.last": "[]"},
                    "description": "data"}
    assert tracker.diff() == {"before": {"config": {"size": "1GiB", "user.a": "1"}, "description": ""},
                              "after": {"config": {"size": "2GiB"}, "description": "data"}}
    # A key that is not there and is to be removed is no change.
    assert plan_volume_update(current, {"user.b": None})[0] is None


def test_split_users_by_kind_and_project():
    instances, profiles, others = split_users([
        "/1.0/instances/db1", "/1.0/instances/db%202?project=web", "/1.0/profiles/data",
        "/1.0/profiles/data?project=web", "/1.0/instances/db1/snapshots/s0"])
    assert instances == [("default", "db1"), ("web", "db 2")]
    assert profiles == [("default", "data"), ("web", "data")]
    assert others == ["/1.0/instances/db1/snapshots/s0"]


def test_without_volume_takes_out_only_its_disks():
    devices = {
        "root": {"type": "disk", "path": "/", "pool": "default"},
        "data": {"type": "disk", "pool": "default", "source": "pgdata", "path": "/var/lib/postgresql"},
        "other": {"type": "disk", "pool": "fast", "source": "pgdata", "path": "/srv"},
        "eth0": {"type": "nic", "network": "lxdbr0", "name": "eth0"},
    }
    kept, removed = without_volume(devices, "default", "pgdata")
    assert removed == ["data"] and sorted(kept) == ["eth0", "other", "root"]
    assert without_volume(None, "default", "pgdata") == ({}, [])


def test_attached_volumes_are_disks_with_pool_and_source():
    devices = {
        "root": {"type": "disk", "path": "/", "pool": "default"},
        "uploads": {"type": "disk", "pool": "fast", "source": "uploads", "path": "/srv/uploads"},
        "host": {"type": "disk", "source": "/srv/host", "path": "/mnt/host"},
        "data": {"type": "disk", "pool": "default", "source": "pgdata", "path": "/var/lib/postgresql"},
        "eth0": {"type": "nic", "network": "lxdbr0"},
    }
    assert attached_volumes(devices) == [("data", "default", "pgdata"), ("uploads", "fast", "uploads")]
    assert attached_volumes(None) == []


def test_summarize_adds_the_pool():
    volume = {"name": "v", "type": "custom", "content_type": "block", "config": {"size": "1GiB"}, "used_by": [],
              "description": "", "project": "default", "location": "none"}
    assert summarize(volume, "default") == {"name": "v", "content_type": "block", "config": {"size": "1GiB"},
                                            "used_by": [], "description": "", "project": "default",
                                            "location": "none", "pool": "default"}
    assert summarize(None, "default") == {}
