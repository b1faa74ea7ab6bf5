# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_storage against the lab's real daemon: dir and loop-backed btrfs pools."""

from __future__ import annotations

import shutil

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path


def pool(client, name):
    return client.get(api_path("storage-pools", name), project=False).metadata


@pytest.fixture
def pool_dir(tmp_path):
    folder = tmp_path / "pool"
    folder.mkdir()
    yield str(folder)
    shutil.rmtree(str(folder), ignore_errors=True)


def test_dir_pool(run_module, primary, unique, pool_dir):
    name = unique("dir")
    params = dict(name=name, driver="dir", source=pool_dir, description="on a folder",
                  config={"rsync.compression": False})
    first = run_module("lxd_storage", params)
    assert first["changed"] and first["pool"]["driver"] == "dir"
    current = pool(primary, name)
    assert current["config"]["source"] == pool_dir and current["config"]["rsync.compression"] == "false"
    second = run_module("lxd_storage", params)
    assert not second["changed"] and second["_requests"] == 1
    assert run_module("lxd_storage", dict(name=name, state="absent"))["changed"]
    assert primary.exists(api_path("storage-pools", name), project=False) is None


def test_loop_btrfs_pool_and_size_as_a_size(run_module, primary, unique):
    name = unique("btrfs")
    first = run_module("lxd_storage", dict(name=name, driver="btrfs", size="256MiB"))
    assert first["changed"], first.get("msg")
    current = pool(primary, name)
    assert current["config"]["size"] == "256MiB" and current["config"]["source"].endswith(".img")
    # The same size spelled differently, and the source LXD filled in, are no change.
    again = run_module("lxd_storage", dict(name=name, driver="btrfs", size="268435456B"))
    assert not again["changed"]
    assert not run_module("lxd_storage", dict(name=name))["changed"]
    run_module("lxd_storage", dict(name=name, state="absent"))


def test_check_mode_and_diff(run_module, primary, unique, pool_dir):
    name = unique("dir")
    result = run_module("lxd_storage", dict(name=name, driver="dir", source=pool_dir), check=True)
    assert result["changed"] and primary.exists(api_path("storage-pools", name), project=False) is None
    run_module("lxd_storage", dict(name=name, driver="dir", source=pool_dir))
    result = run_module("lxd_storage", dict(name=name, description="new", config={"rsync.bwlimit": "10MB"}),
                        check=True)
    assert result["changed"]
    assert result["diff"] == {"before": {"description": ""},
                              "after": {"description": "new", "config": {"rsync.bwlimit": "10MB"}}}
    assert pool(primary, name)["description"] == ""
    result = run_module("lxd_storage", dict(name=name, config={"rsync.bwlimit": "10MB"}))
    assert result["changed"] and pool(primary, name)["config"]["rsync.bwlimit"] == "10MB"
    result = run_module("lxd_storage", dict(name=name, config={"rsync.bwlimit": None}))
    assert result["changed"] and "rsync.bwlimit" not in pool(primary, name)["config"]
    run_module("lxd_storage", dict(name=name, state="absent"))


def test_pool_in_use_is_not_deleted(run_module, primary, unique, pool_dir):
    name = unique("used")
    run_module("lxd_storage", dict(name=name, driver="dir", source=pool_dir))
    profile = unique("onpool")
    run_module("lxd_profile", dict(name=profile, devices={"root": {"type": "disk", "path": "/", "pool": name}}))
    result = run_module("lxd_storage", dict(name=name, state="absent"))
    assert result["failed"] and profile in result["msg"] and not result["changed"]
    assert primary.exists(api_path("storage-pools", name), project=False) is not None
    run_module("lxd_profile", dict(name=profile, state="absent"))
    assert run_module("lxd_storage", dict(name=name, state="absent"))["changed"]


def test_driver_and_source_never_change(run_module, unique, pool_dir, tmp_path):
    name = unique("fixed")
    run_module("lxd_storage", dict(name=name, driver="dir", source=pool_dir))
    result = run_module("lxd_storage", dict(name=name, driver="btrfs"))
    assert result["failed"] and "driver cannot change" in result["msg"]
    other = tmp_path / "other"
    other.mkdir()
    result = run_module("lxd_storage", dict(name=name, source=str(other)))
    assert result["failed"] and "cannot change" in result["msg"]
    run_module("lxd_storage", dict(name=name, state="absent"))


def test_failed_create_leaves_nothing(run_module, primary, unique):
    name = unique("broken")
    result = run_module("lxd_storage", dict(name=name, driver="btrfs", source="/nonexistent/lxdops-test"))
    assert result["failed"] and not result["changed"]
    assert primary.exists(api_path("storage-pools", name), project=False) is None


@pytest.mark.parametrize("params, words", [
    (dict(driver="btrfs", config={"zfs.pool_name": "tank"}), ["'zfs.pool_name'", "zfs driver, not btrfs"]),
    (dict(driver="dir", source="relative/path"), ["source", "'relative/path'", "absolute path"]),
    (dict(driver="btrfs", size="2 GB"), ["'size'", "'2 GB'"]),
    (dict(driver="lvm", config={"lvm.use_thinpool": "maybe"}), ["lvm.use_thinpool", "true or false"]),
    (dict(driver="ceph", size="10GiB"), ["size", "ceph"]),
    (dict(driver="zfs", source="tank//x"), ["source", "zpool"]),
    (dict(driver="floppy"), ["driver", "floppy"]),
    (dict(), ["give driver"]),
])
def test_bad_input(run_module, primary, unique, params, words):
    name = unique("bad")
    result = run_module("lxd_storage", dict(name=name, **params))
    assert result["failed"]
    for word in words:
        assert word in result["msg"]
    if params:
        assert result["_requests"] == 0
    assert primary.exists(api_path("storage-pools", name), project=False) is None
