# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_volume (and lxd_snapshot on volumes) against the lab's real daemons, LXD and Incus."""

from __future__ import annotations

import os
import subprocess

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import api_path
from ansible_collections.lxdops.server.plugins.module_utils.volume import (
    get_volume,
    list_volume_snapshots,
    list_volumes,
)


def root_pool(client):
    """The pool of the daemon's default profile root disk (dir on both lab daemons): asked, not assumed."""
    return client.get(api_path("profiles", "default")).metadata["devices"]["root"]["pool"]


@pytest.fixture(params=["root", "btrfs"])
def pool(request, primary, lab):
    """Each volume test on the root pool (dir) and on the loop-backed btrfs pool."""
    if request.param == "btrfs":
        return lab["daemons"]["primary"]["btrfs_pool"]
    return root_pool(primary)


def names(client, pool_name):
    return [v["name"] for v in list_volumes(client, pool_name)]


def snapshot_names(client, pool_name, volume):
    return sorted(s["name"] for s in list_volume_snapshots(client, pool_name, volume))


def test_create_is_idempotent_then_update_and_delete(run_module, primary, unique, pool):
    name = unique("vol")
    params = dict(name=name, pool=pool, size="64MiB", description="data",
                  config={"snapshots.expiry": "2w", "user.role": "db"})
    first = run_module("lxd_volume", params)
    assert first["changed"] and first["actions"] == ["create"], first.get("msg")
    assert first["volume"]["pool"] == pool and first["volume"]["content_type"] == "filesystem"
    current = get_volume(primary, pool, name)
    assert current["config"]["size"] == "64MiB" and current["config"]["snapshots.expiry"] == "2w"
    assert current["config"]["user.role"] == "db" and current["description"] == "data"
    second = run_module("lxd_volume", params)
    assert not second["changed"] and second["_requests"] == 1
    # The same size spelled otherwise, and keys left out, are no change.
    assert not run_module("lxd_volume", dict(name=name, pool=pool, size="65536KiB"))["changed"]
    result = run_module("lxd_volume", dict(name=name, pool=pool, size="96MiB", config={"user.role": None}))
    assert result["changed"] and result["actions"] == ["update"]
    current = get_volume(primary, pool, name)
    assert current["config"]["size"] == "96MiB" and "user.role" not in current["config"]
    assert current["config"]["snapshots.expiry"] == "2w" and current["description"] == "data"
    assert run_module("lxd_volume", dict(name=name, pool=pool, state="absent"))["changed"]
    assert get_volume(primary, pool, name) is None
    again = run_module("lxd_volume", dict(name=name, pool=pool, state="absent"))
    assert not again["changed"] and again["_requests"] == 1


def test_check_mode_and_diff(run_module, primary, unique, pool):
    name = unique("vol")
    params = dict(name=name, pool=pool, size="32MiB")
    result = run_module("lxd_volume", params, check=True)
    assert result["changed"] and result["volume"] == {} and get_volume(primary, pool, name) is None
    assert result["diff"]["after"]["volume"]["config"] == {"size": "32MiB"}
    run_module("lxd_volume", params)
    change = dict(params, description="new", config={"snapshots.schedule": "@daily"})
    result = run_module("lxd_volume", change, check=True)
    assert result["changed"]
    assert result["diff"] == {"before": {"description": ""},
                              "after": {"description": "new", "config": {"snapshots.schedule": "@daily"}}}
    current = get_volume(primary, pool, name)
    assert current["description"] == "" and "snapshots.schedule" not in current["config"]
    result = run_module("lxd_volume", dict(name=name, pool=pool, state="absent"), check=True)
    assert result["changed"] and result["diff"]["before"]["volume"]["name"] == name
    assert get_volume(primary, pool, name) is not None
    run_module("lxd_volume", dict(name=name, pool=pool, state="absent"))


def test_block_volume_and_its_content_type_never_changes(run_module, primary, unique, pool):
    # On the dir pool a block volume is a loop file; on btrfs, one too (both daemons accept both).
    name = unique("blk")
    result = run_module("lxd_volume", dict(name=name, pool=pool, content_type="block", size="32MiB"))
    assert result["changed"] and result["volume"]["content_type"] == "block", result.get("msg")
    assert not run_module("lxd_volume", dict(name=name, pool=pool, content_type="block", size="32MiB"))["changed"]
    before = get_volume(primary, pool, name)
    result = run_module("lxd_volume", dict(name=name, pool=pool, content_type="filesystem", size="64MiB"))
    assert result["failed"] and not result["changed"]
    assert "content_type" in result["msg"] and "block" in result["msg"] and "filesystem" in result["msg"]
    # A shrink LXD refuses leaves the volume as it was.
    result = run_module("lxd_volume", dict(name=name, pool=pool, size="16MiB"))
    assert result["failed"] and "shrunk" in result["msg"]
    assert get_volume(primary, pool, name) == before
    run_module("lxd_volume", dict(name=name, pool=pool, state="absent"))


def test_rename(run_module, primary, unique, pool):
    old, new, other = unique("old"), unique("new"), unique("other")
    run_module("lxd_volume", dict(name=old, pool=pool))
    result = run_module("lxd_volume", dict(name=old, new_name=new, pool=pool), check=True)
    assert result["changed"] and result["diff"] == {"before": {"name": old}, "after": {"name": new}}
    assert get_volume(primary, pool, old) is not None
    result = run_module("lxd_volume", dict(name=old, new_name=new, pool=pool))
    assert result["changed"] and result["actions"] == ["rename"] and result["volume"]["name"] == new
    assert get_volume(primary, pool, old) is None and get_volume(primary, pool, new) is not None
    assert not run_module("lxd_volume", dict(name=old, new_name=new, pool=pool))["changed"]
    run_module("lxd_volume", dict(name=other, pool=pool))
    result = run_module("lxd_volume", dict(name=other, new_name=new, pool=pool))
    assert result["failed"] and "has a volume" in result["msg"]
    assert get_volume(primary, pool, other) is not None
    for name in (new, other):
        run_module("lxd_volume", dict(name=name, pool=pool, state="absent"))


def test_missing_pool_and_another_drivers_key(run_module, primary, unique, pool):
    result = run_module("lxd_volume", dict(name=unique("vol"), pool=unique("nopool")))
    assert result["failed"] and "does not exist" in result["msg"] and not result["changed"]
    # --check on a server being set up (its pool made by an earlier task): shown as created, with a warning.
    checked = run_module("lxd_volume", dict(name=unique("vol"), pool=unique("nopool"), config={"snapshots.expiry": "2w"}),
                         check=True)
    assert not checked.get("failed") and checked["changed"] and checked["actions"] == ["create"], checked
    assert "does not exist" in str(checked.get("warnings")), checked
    name = unique("vol")
    result = run_module("lxd_volume", dict(name=name, pool=pool, config={"zfs.blocksize": "128KiB"}))
    assert result["failed"] and "'zfs.blocksize'" in result["msg"] and "zfs pool" in result["msg"]
    assert get_volume(primary, pool, name) is None


@pytest.mark.parametrize("params, words", [
    (dict(size="2 GB"), ["size", "'2 GB'", "10GiB"]),
    (dict(size="-1"), ["size", "'-1'"]),
    (dict(content_type="iso"), ["content_type", "iso", "filesystem, block"]),
    (dict(config={"snapshots.frequency": "daily"}), ["'snapshots.frequency'", "snapshots.schedule", "user.*"]),
    (dict(config={"snapshots.schedule": "daily"}), ["'snapshots.schedule'", "'daily'", "@daily"]),
    (dict(config={"snapshots.expiry": "2 weeks"}), ["'snapshots.expiry'", "'2 weeks'", "w (weeks)"]),
    (dict(config={"block.filesystem": "ntfs"}), ["'block.filesystem'", "'ntfs'", "ext4, xfs or btrfs"]),
    (dict(config={"security.shifted": "maybe"}), ["'security.shifted'", "true or false"]),
    (dict(config={"volatile.idmap.last": "[]"}), ["'volatile.idmap.last'", "belong to LXD"]),
    (dict(size="1GiB", config={"size": "2GiB"}), ["size", "once"]),
    (dict(name="bad/name"), ["name", "'bad/name'", "letters, digits"]),
    (dict(name="-lead"), ["name", "'-lead'"]),
    (dict(pool="a b"), ["pool", "'a b'"]),
    (dict(new_name="x y"), ["new_name", "'x y'"]),
    (dict(new_name="ok", state="absent"), ["new_name", "state=present"]),
])
def test_bad_input_fails_before_any_request(run_module, primary, unique, params, words):
    pool_name = root_pool(primary)
    name = unique("bad")
    result = run_module("lxd_volume", dict(dict(name=name, pool=pool_name), **params))
    assert result["failed"] and result["_requests"] == 0, result
    for word in words:
        assert word in result["msg"], result["msg"]
    assert name not in names(primary, pool_name)


def test_attach_write_and_delete_refused_while_used(run_module, primary, unique, busybox, lxc_exec):
    """Attached as an instance's disk device, written from inside; delete refused, then forced once stopped."""
    pool_name = root_pool(primary)
    name = unique("data")
    run_module("lxd_volume", dict(name=name, pool=pool_name))
    disk = {"type": "disk", "pool": pool_name, "source": name, "path": "/mnt/data"}
    writer = unique("writer")
    result = run_module("lxd_instance", dict(name=writer, source=busybox, devices={"data": disk}))
    assert not result.get("failed"), result.get("msg")
    rc, out = lxc_exec(writer, "echo kept-in-the-volume > /mnt/data/marker && sync")
    assert rc == 0, out
    # A second instance, given the volume by a profile, reads what the first wrote: it is in the volume.
    profile, reader = unique("withdata"), unique("reader")
    run_module("lxd_profile", dict(name=profile, devices={"data": disk}))
    result = run_module("lxd_instance", dict(name=reader, source=busybox, profiles=["default", profile]))
    assert not result.get("failed"), result.get("msg")
    rc, out = lxc_exec(reader, "cat /mnt/data/marker")
    assert rc == 0 and out.strip() == "kept-in-the-volume", out
    users = get_volume(primary, pool_name, name)["used_by"]
    assert any(writer in u for u in users) and any(profile in u for u in users)

    result = run_module("lxd_volume", dict(name=name, pool=pool_name, state="absent"))
    assert result["failed"] and not result["changed"] and writer in result["msg"] and profile in result["msg"]
    result = run_module("lxd_volume", dict(name=name, pool=pool_name, state="absent", force=True))
    assert result["failed"] and not result["changed"] and "running" in result["msg"] and writer in result["msg"]
    assert get_volume(primary, pool_name, name) is not None
    assert "data" in primary.get(api_path("instances", writer)).metadata["devices"]

    for inst in (writer, reader):
        run_module("lxd_instance", dict(name=inst, state="stopped", force_stop=True))
    result = run_module("lxd_volume", dict(name=name, pool=pool_name, state="absent", force=True), check=True)
    assert result["changed"] and get_volume(primary, pool_name, name) is not None
    assert result["actions"] == ["detach from instance %s" % writer, "detach from profile %s" % profile, "delete"]
    result = run_module("lxd_volume", dict(name=name, pool=pool_name, state="absent", force=True))
    assert result["changed"], result.get("msg")
    assert get_volume(primary, pool_name, name) is None
    assert "data" not in primary.get(api_path("instances", writer)).metadata["devices"]
    assert "data" not in primary.get(api_path("profiles", profile)).metadata["devices"]
    for inst in (writer, reader):
        run_module("lxd_instance", dict(name=inst, state="absent", force_stop=True))
    run_module("lxd_profile", dict(name=profile, state="absent"))


def test_failed_forced_delete_gives_the_devices_back(run_module, primary, unique, busybox):
    """The daemon's delete fails after the detach (a mount inside the volume it cannot remove): the instance and the
    profile get their devices back and the volume stays, as before the run."""
    pool_name = root_pool(primary)
    source = primary.get(api_path("storage-pools", pool_name), project=False).metadata["config"]["source"]
    name = unique("stuck")
    run_module("lxd_volume", dict(name=name, pool=pool_name))
    disk = {"type": "disk", "pool": pool_name, "source": name, "path": "/mnt/data"}
    holder, profile = unique("holder"), unique("stuckprof")
    result = run_module("lxd_instance", dict(name=holder, source=busybox, state="stopped", devices={"data": disk}))
    assert not result.get("failed"), result.get("msg")
    run_module("lxd_profile", dict(name=profile, devices={"data": disk}))
    # A mount inside the volume: the daemon's delete fails on it (EBUSY) after the module has detached the volume.
    busy = os.path.join(source, "custom", "default_" + name, "busy")
    os.mkdir(busy)
    subprocess.run(["mount", "-t", "tmpfs", "lxdops-test-busy", busy], check=True)
    try:
        result = run_module("lxd_volume", dict(name=name, pool=pool_name, state="absent", force=True))
    finally:
        subprocess.run(["umount", busy], check=True)
    assert result["failed"] and "busy" in result["msg"], result
    assert result["actions"][:2] == ["detach from instance %s" % holder, "detach from profile %s" % profile], result
    assert get_volume(primary, pool_name, name) is not None
    assert primary.get(api_path("instances", holder)).metadata["devices"]["data"] == disk
    assert primary.get(api_path("profiles", profile)).metadata["devices"]["data"] == disk
    # With the file removable again, the same task goes through.
    result = run_module("lxd_volume", dict(name=name, pool=pool_name, state="absent", force=True))
    assert result["changed"] and get_volume(primary, pool_name, name) is None, result.get("msg")
    run_module("lxd_instance", dict(name=holder, state="absent"))
    run_module("lxd_profile", dict(name=profile, state="absent"))


def test_volume_snapshots_take_restore_delete(run_module, primary, unique, busybox, lxc_exec, pool, lab):
    name = unique("snapvol")
    run_module("lxd_volume", dict(name=name, pool=pool, config={"snapshots.expiry": "1d",
                                                                "snapshots.pattern": "auto%d"}))
    inst = unique("user")
    disk = {"type": "disk", "pool": pool, "source": name, "path": "/mnt/data"}
    run_module("lxd_instance", dict(name=inst, source=busybox, devices={"data": disk}))
    assert lxc_exec(inst, "echo before > /mnt/data/state && sync")[0] == 0
    snap = dict(pool=pool, volume=name, name="clean")
    result = run_module("lxd_snapshot", snap, check=True)
    assert result["changed"] and "clean" in result["diff"]["after"]["snapshots"]
    assert snapshot_names(primary, pool, name) == []
    result = run_module("lxd_snapshot", snap)
    assert result["changed"] and result["actions"] == ["create"], result.get("msg")
    # The volume's snapshots.expiry applies to a snapshot taken without expiry.
    assert result["snapshots"][0]["expires_at"] is not None
    again = run_module("lxd_snapshot", snap)
    assert not again["changed"] and again["_requests"] == 1
    # Without a name, the daemon names it, on every run: Incus 6.0 by the volume's snapshots.pattern, LXD 5.0 as
    # snap0, snap1 ... whatever the pattern (it reads the pattern for instance snapshots only).
    assert run_module("lxd_snapshot", dict(pool=pool, volume=name))["changed"]
    auto = "auto0" if lab["kind"] == "incus" else "snap0"
    assert snapshot_names(primary, pool, name) == sorted([auto, "clean"])
    never = run_module("lxd_snapshot", dict(pool=pool, volume=name, name="keep", expiry=""))
    assert [s["expires_at"] for s in never["snapshots"] if s["name"] == "keep"] == [None]

    assert lxc_exec(inst, "echo after > /mnt/data/state && sync")[0] == 0
    restore = dict(snap, state="restored")
    refused = run_module("lxd_snapshot", restore)
    assert refused["failed"] and not refused["changed"] and "running" in refused["msg"]
    assert lxc_exec(inst, "cat /mnt/data/state")[1].strip() == "after"
    run_module("lxd_instance", dict(name=inst, state="stopped", force_stop=True))
    result = run_module("lxd_snapshot", restore, check=True)
    assert result["changed"] and result["actions"] == ["restore"]
    result = run_module("lxd_snapshot", restore)
    assert result["changed"] and result["actions"] == ["restore"], result.get("msg")
    run_module("lxd_instance", dict(name=inst, state="started"))
    assert lxc_exec(inst, "cat /mnt/data/state")[1].strip() == "before"

    result = run_module("lxd_snapshot", dict(snap, new_name="renamed"))
    assert result["changed"] and "renamed" in snapshot_names(primary, pool, name)
    assert not run_module("lxd_snapshot", dict(snap, new_name="renamed"))["changed"]
    gone = dict(pool=pool, volume=name, name="renamed", state="absent")
    result = run_module("lxd_snapshot", gone, check=True)
    assert result["changed"] and result["diff"]["before"]["snapshots"]["renamed"]["name"] == "renamed"
    assert "renamed" in snapshot_names(primary, pool, name)
    result = run_module("lxd_snapshot", gone)
    assert result["changed"] and snapshot_names(primary, pool, name) == sorted([auto, "keep"])
    assert not run_module("lxd_snapshot", dict(pool=pool, volume=name, name="renamed", state="absent"))["changed"]
    assert get_volume(primary, pool, name) is not None
    run_module("lxd_instance", dict(name=inst, state="absent", force_stop=True))
    run_module("lxd_volume", dict(name=name, pool=pool, state="absent"))


@pytest.mark.parametrize("params, words", [
    (dict(volume="v", name="s", stateful=True), ["stateful", "instance snapshots only"]),
    (dict(volume="v", name="s", state="restored", restart=False), ["restart", "instance snapshots only"]),
    (dict(volume="v/s", name="s"), ["volume", "'v/s'"]),
    (dict(volume="v", name="a/b", state="absent"), ["'a/b'"]),
    (dict(volume="v", name="s", instance="i"), ["mutually exclusive"]),
    (dict(name="s", pool=None), ["one of the following is required: instance, volume"]),
])
def test_volume_snapshot_bad_input(run_module, primary, params, words):
    params = dict(dict(pool=root_pool(primary)), **params)
    params = dict((k, v) for k, v in params.items() if v is not None)
    result = run_module("lxd_snapshot", params)
    assert result["failed"] and result["_requests"] == 0, result
    for word in words:
        assert word in result["msg"], result["msg"]


def test_missing_volume_snapshot_fails_clearly(run_module, primary, unique):
    result = run_module("lxd_snapshot", dict(pool=root_pool(primary), volume=unique("none"), name="s"))
    assert result["failed"] and "does not exist" in result["msg"] and not result["changed"]


def test_volume_in_a_project(run_module, primary, unique):
    """The project connection option: a volume of a project is not the default project's."""
    project = unique("proj")
    result = run_module("lxd_project", dict(name=project))
    assert not result.get("failed"), result.get("msg")
    pool_name = root_pool(primary)
    name = unique("pvol")
    result = run_module("lxd_volume", dict(name=name, pool=pool_name, project=project))
    assert result["changed"] and result["volume"]["project"] == project, result.get("msg")
    assert not run_module("lxd_volume", dict(name=name, pool=pool_name, project=project))["changed"]
    assert name not in names(primary, pool_name)
    # lxd_info lists custom volumes by project: one request for the pools, one per pool.
    pools = primary.get("/1.0/storage-pools", project=False).metadata
    info = run_module("lxd_info", dict(gather=["storage_volumes"], project=project))
    assert [(v["pool"], v["project"]) for v in info["storage_volumes"] if v["name"] == name] == [(pool_name, project)]
    assert info["_requests"] == 2 + len(pools)  # the project looked up once
    info = run_module("lxd_info", dict(gather=["storage_volumes"]))
    assert name not in [v["name"] for v in info["storage_volumes"]]
    info = run_module("lxd_info", dict(gather=["storage_pools", "storage_volumes"], all_projects=True))
    assert [v["project"] for v in info["storage_volumes"] if v["name"] == name] == [project]
    assert info["_requests"] == 1 + len(pools)
    assert "storage_volumes" not in run_module("lxd_info", dict(gather=["storage_pools"]))
    assert run_module("lxd_volume", dict(name=name, pool=pool_name, project=project, state="absent"))["changed"]
    run_module("lxd_project", dict(name=project, state="absent"))
