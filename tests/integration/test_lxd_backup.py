# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_backup and playbooks/backup.yml against the lab's real daemons (LXD and Incus)."""

from __future__ import annotations

import os
import tarfile

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.backup import VolumeTarget, copy_through_file
from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.daemon import KIND_FACTS
from ansible_collections.lxdops.server.plugins.module_utils.volume import get_volume, volume_path

from test_playbooks_pair import run_playbook


def backups(client, name):
    return dict((b["name"], b) for b in client.get(api_path("instances", name, "backups"),
                                                   params={"recursion": 1}).metadata)


def gone(client, name):
    with pytest.raises(LXDNotFound):
        client.get(api_path("instances", name))
    return True


def delete_instance(client, name):
    if client.get(api_path("instances", name, "state")).metadata["status"] != "Stopped":
        client.put(api_path("instances", name, "state"), {"action": "stop", "force": True, "timeout": 30})
    client.delete(api_path("instances", name))


def restore_stopped(client, name, path, snapshot):
    """Restore path (the instance, or a volume it uses) to snapshot with the instance stopped, then start it."""
    client.put(api_path("instances", name, "state"), {"action": "stop", "force": True, "timeout": 30})
    client.put(path, {"restore": snapshot})
    client.put(api_path("instances", name, "state"), {"action": "start", "timeout": 60})


def read(client, name, path):
    code, out, _err = client.execute(name, ["cat", path])
    return out.decode().strip() if code == 0 else None


def test_back_up_delete_import_data_and_snapshots_back(run_module, primary, instance, tmp_path):
    name = instance("bk")
    primary.execute(name, ["sh", "-c", "echo before-snapshot > /root/old"])
    primary.post(api_path("instances", name, "snapshots"), {"name": "s0"})
    primary.execute(name, ["sh", "-c", "echo precious > /root/data"])
    dest = str(tmp_path / "b.tar.gz")
    first = run_module("lxd_backup", dict(instance=name, name="b1", dest=dest, expiry="1d"))
    assert first["changed"] and first["actions"] == ["create", "export"], first
    assert first["dest"] == {"path": dest, "size": os.path.getsize(dest)}
    assert os.stat(dest).st_mode & 0o777 == 0o600
    assert [b["name"] for b in first["backups"]] == ["b1"] and first["backups"][0]["expires_at"].startswith("20")
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".part")]
    # A second run: the backup exists, the file there has its export's size.
    second = run_module("lxd_backup", dict(instance=name, name="b1", dest=dest, expiry="1d"))
    assert not second["changed"] and second["actions"] == []
    # A file that differs (cut) is written again.
    with open(dest, "r+b") as handle:
        handle.truncate(1000)
    third = run_module("lxd_backup", dict(instance=name, name="b1", dest=dest))
    assert third["changed"] and third["actions"] == ["export"] and os.path.getsize(dest) == first["dest"]["size"]

    delete_instance(primary, name)
    imported = run_module("lxd_backup", dict(instance=name, state="imported", source=dest))
    assert imported["changed"] and imported["actions"] == ["import"], imported
    assert imported["file"]["checked"] and imported["file"]["snapshots"] == ["s0"]
    assert imported["instance"]["snapshots"] == ["s0"] and imported["instance"]["status"] == "Stopped"
    primary.put(api_path("instances", name, "state"), {"action": "start", "timeout": 60})
    assert read(primary, name, "/root/data") == "precious"
    # The snapshot came back with its own content: restored, the file written after it is gone.
    restore_stopped(primary, name, api_path("instances", name), "s0")
    assert read(primary, name, "/root/old") == "before-snapshot" and read(primary, name, "/root/data") is None
    # The instance exists: a second import does nothing.
    again = run_module("lxd_backup", dict(instance=name, state="imported", source=dest))
    assert not again["changed"] and again["instance"]["name"] == name


def test_instance_only_import_under_another_name(run_module, primary, instance, unique, tmp_path):
    name = instance("bkio")
    primary.post(api_path("instances", name, "snapshots"), {"name": "s0"})
    primary.execute(name, ["sh", "-c", "echo copy > /root/data"])
    dest = str(tmp_path / "io.tar.xz")
    result = run_module("lxd_backup", dict(instance=name, name="io", instance_only=True, compression_algorithm="xz",
                                           dest=dest))
    assert result["changed"] and result["backups"][0]["instance_only"] is True
    other = unique("bkio2")
    imported = run_module("lxd_backup", dict(instance=other, state="imported", source=dest))
    assert imported["changed"] and imported["file"]["compression"] == "xz"
    assert imported["actions"] == ["import", "new hardware addresses"]
    assert imported["instance"]["snapshots"] == [] and imported["file"]["name"] == name
    primary.put(api_path("instances", other, "state"), {"action": "start", "timeout": 60})
    assert read(primary, other, "/root/data") == "copy"


def test_check_mode_and_diff(run_module, primary, instance, tmp_path):
    name = instance("bkcm", state="stopped")
    dest = str(tmp_path / "c.tar.gz")
    result = run_module("lxd_backup", dict(instance=name, name="c1", dest=dest, keep=1), check=True)
    assert result["changed"] and result["actions"] == ["create", "export"]
    assert "c1" in result["diff"]["after"]["backups"] and result["diff"]["after"]["dest"]["path"] == dest
    assert backups(primary, name) == {} and not os.listdir(tmp_path)
    run_module("lxd_backup", dict(instance=name, name="c1"))
    result = run_module("lxd_backup", dict(instance=name, name="c1", dest=dest), check=True)
    assert result["changed"] and result["actions"] == ["export"] and not os.listdir(tmp_path)
    assert result["diff"]["after"]["dest"]["size"] > 0
    result = run_module("lxd_backup", dict(instance=name, name="c1", state="absent"), check=True)
    assert result["changed"] and "c1" in result["diff"]["before"]["backups"] and "c1" in backups(primary, name)
    source = str(tmp_path / "s.tar.gz")
    run_module("lxd_backup", dict(instance=name, name="c1", dest=source))
    imported = run_module("lxd_backup", dict(instance=name + "-x", state="imported", source=source), check=True)
    assert imported["changed"] and imported["actions"] == ["import"] and gone(primary, name + "-x")


def test_keep_newest_and_absent(run_module, primary, instance):
    name = instance("bkkeep", state="stopped")
    for backup in ("k1", "k2", "k3"):
        run_module("lxd_backup", dict(instance=name, name=backup, compression_algorithm="none"))
    result = run_module("lxd_backup", dict(instance=name, state="absent", keep=2))
    assert result["changed"] and sorted(backups(primary, name)) == ["k2", "k3"]
    assert not run_module("lxd_backup", dict(instance=name, state="absent", keep=2))["changed"]
    # A new one with keep=2: the oldest goes.
    result = run_module("lxd_backup", dict(instance=name, keep=2))
    created = result["backup"]
    assert result["changed"] and result["actions"] == ["create", "delete k2"], result
    assert sorted(backups(primary, name)) == sorted([created, "k3"])
    result = run_module("lxd_backup", dict(instance=name, name="k3", state="absent"))
    assert result["changed"] and "k3" not in backups(primary, name)
    assert not run_module("lxd_backup", dict(instance=name, name="k3", state="absent"))["changed"]
    listed = run_module("lxd_backup", dict(instance=name, state="listed"))
    assert not listed["changed"] and [b["name"] for b in listed["backups"]] == [created]


def cut_at_a_file_boundary(path, out):
    """A plain tarball cut where a file of the instance's rootfs begins (a copy interrupted there)."""
    with tarfile.open(path) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith("backup/container/rootfs/")]
    offset = members[len(members) // 2].offset
    with open(path, "rb") as source, open(out, "wb") as sink:
        sink.write(source.read(offset))


def test_the_daemon_imports_a_plain_tarball_cut_at_a_file_boundary(primary, lab, instance, unique, tmp_path):
    """Why the module reads a file through first: the daemon itself makes a broken instance without an error."""
    name = instance("bkraw", state="stopped")
    primary.post(api_path("instances", name, "backups"), {"name": "plain", "compression_algorithm": "none"})
    full, cut = str(tmp_path / "full.tar"), str(tmp_path / "cut.tar")
    with open(full, "wb") as sink:
        primary.download(api_path("instances", name, "backups", "plain", "export"), sink)
    cut_at_a_file_boundary(full, cut)
    broken = unique("bkraw2")
    prefix = KIND_FACTS[lab["kind"]]["header_prefix"]
    with open(cut, "rb") as source:
        operation = primary.upload("/1.0/instances", source, os.path.getsize(cut), headers={prefix + "name": broken})
    assert operation["status"] == "Success"
    assert primary.get(api_path("instances", broken)).metadata["name"] == broken


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_a_file_cut_short_is_refused_and_nothing_is_made(run_module, primary, instance, unique, tmp_path,
                                                         compression):
    name = instance("bkcut", state="stopped")
    full = str(tmp_path / "full")
    run_module("lxd_backup", dict(instance=name, name="b", compression_algorithm=compression, dest=full))
    cut = str(tmp_path / "cut")
    if compression == "none":
        cut_at_a_file_boundary(full, cut)
    else:
        with open(full, "rb") as source, open(cut, "wb") as sink:
            sink.write(source.read(os.path.getsize(full) - 100))
    target = unique("bkcut2")
    result = run_module("lxd_backup", dict(instance=target, state="imported", source=cut))
    assert result["failed"] and not result["changed"], result
    assert "cut short" in result["msg"] and cut in result["msg"] and "not imported" in result["msg"]
    # One request (does the instance exist?); nothing was uploaded.
    assert result["_requests"] == 1
    assert gone(primary, target)


def test_a_failed_import_leaves_nothing(run_module, primary, instance, unique, tmp_path):
    name = instance("bkfail", state="stopped")
    dest = str(tmp_path / "f.tar.gz")
    run_module("lxd_backup", dict(instance=name, name="b", dest=dest))
    target = unique("bkfail2")
    result = run_module("lxd_backup", dict(instance=target, state="imported", source=dest,
                                           pool="lxdops-test-no-such-pool"))
    assert result["failed"] and "'lxdops-test-no-such-pool' does not exist" in result["msg"], result
    # Asked: the instance, the pool; nothing was sent.
    assert result["_requests"] == 2 and gone(primary, target)


def test_optimized_where_the_pool_allows_it(run_module, primary, lab, instance, unique, tmp_path):
    plain = instance("bkopt", state="stopped")
    result = run_module("lxd_backup", dict(instance=plain, name="o", optimized_storage=True))
    assert result["changed"] and result["backups"][0]["optimized_storage"] is False
    assert "makes no optimized backups" in str(result.get("warnings"))
    pool = lab["daemons"]["primary"]["btrfs_pool"]
    fast = instance("bkbtrfs", state="stopped", devices={"root": {"type": "disk", "path": "/", "pool": pool}})
    dest = str(tmp_path / "o.bin")
    result = run_module("lxd_backup", dict(instance=fast, name="o", optimized_storage=True, dest=dest))
    assert result["changed"] and result["backups"][0]["optimized_storage"] is True and not result.get("warnings")
    target = unique("bkbtrfs2")
    # An optimized backup holds btrfs's own stream: a dir pool cannot take it, and nothing is left behind.
    refused = run_module("lxd_backup", dict(instance=target, state="imported", source=dest, pool="default"))
    assert refused["failed"] and "nothing was made" in refused["msg"] and gone(primary, target), refused
    imported = run_module("lxd_backup", dict(instance=target, state="imported", source=dest, pool=pool))
    assert imported["changed"] and imported["file"]["optimized"] is True, imported
    assert imported["instance"]["pool"] == pool


def test_import_into_a_project(run_module, primary, instance, unique, tmp_path, lab):
    name = instance("bkprj", state="stopped")
    dest = str(tmp_path / "p.tar.gz")
    run_module("lxd_backup", dict(instance=name, name="b", dest=dest))
    project = unique("bkp")
    primary.post("/1.0/projects", {"name": project, "config": {"features.images": "false",
                                                               "features.profiles": "false"}})
    result = run_module("lxd_backup", dict(instance=name, state="imported", source=dest, project=project))
    assert result["changed"], result
    primary.project = project
    assert primary.get(api_path("instances", name)).metadata["project"] == project


@pytest.mark.parametrize("params, words", [
    (dict(instance="web1", compression_algorithm="gz"), ["compression_algorithm", "gz", "zstd"]),
    (dict(instance="web1", expiry="1x"), ["expiry", "'1x'"]),
    (dict(instance="web1", expires_at="tomorrow"), ["expires_at", "'tomorrow'", "RFC 3339"]),
    (dict(instance="web1", state="absent", keep=0), ["keep", "1 or more"]),
    (dict(instance="web1", state="absent"), ["needs name", "keep"]),
    (dict(instance="web1", name="a/b"), ["'a/b'", "not a valid backup name"]),
    (dict(instance="web1", state="imported"), ["needs source"]),
    (dict(instance="web1", state="imported", source="/nonexistent/b.tar.gz"), ["source", "no such file"]),
    (dict(instance="web1", source="/etc/hostname"), ["source does not apply to state=present", "imported"]),
    (dict(instance="web1", dest="/nonexistent/x.tar.gz"), ["dest", "/nonexistent", "does not exist"]),
    (dict(instance="web1", dest="/tmp"), ["dest", "is a folder"]),
    (dict(instance="web1/s", state="listed"), ["instance", "not a valid instance name"]),
])
def test_bad_input_fails_before_any_request(run_module, params, words):
    result = run_module("lxd_backup", params)
    assert result["failed"] and result["_requests"] == 0, result
    for word in words:
        assert word in result["msg"]


def test_an_export_that_cannot_be_written_leaves_no_backup(run_module, primary, instance):
    name = instance("bkro", state="stopped")
    # /proc takes no new file, even from root: the backup made for the export is deleted again.
    result = run_module("lxd_backup", dict(instance=name, name="b", dest="/proc/lxdops-backup.tar.gz"))
    assert result["failed"] and "cannot write the backup there" in result["msg"], result
    assert not result["changed"] and backups(primary, name) == {}


def test_a_missing_instance_is_named(run_module, unique):
    result = run_module("lxd_backup", dict(instance=unique("nope"), state="listed"))
    assert result["failed"] and "does not exist" in result["msg"]


# ---------------------------------------------------------------- playbooks/backup.yml

def test_backup_playbook_retention_and_the_files_import(tmp_path, lab, primary, instance, unique, run_module):
    names = [instance("bkpb"), instance("bkpb")]
    primary.execute(names[0], ["sh", "-c", "echo nightly > /root/data"])
    folder = tmp_path / "store"
    extra = {"backup_instances": names, "backup_dir": str(folder), "backup_keep_files": 2, "backup_keep_server": 1}
    for _run in range(3):
        proc, recap = run_playbook(tmp_path, lab, "backup", extra)
        assert recap["failed"] == 0, proc.stdout + proc.stderr
    for name in names:
        files = sorted(os.listdir(folder / name))
        assert len(files) == 2 and all(f.endswith(".tar.gz") for f in files), files
        assert len(backups(primary, name)) == 1
    newest = str(folder / names[0] / sorted(os.listdir(folder / names[0]))[-1])
    target = unique("bkpb3")
    imported = run_module("lxd_backup", dict(instance=target, state="imported", source=newest))
    assert imported["changed"], imported
    primary.put(api_path("instances", target, "state"), {"action": "start", "timeout": 60})
    assert read(primary, target, "/root/data") == "nightly"


def test_backup_playbook_default_is_every_instance_of_the_project(tmp_path, lab, primary, busybox, unique):
    project = unique("bkpbp")
    primary.post("/1.0/projects", {"name": project, "config": {"features.images": "false",
                                                               "features.profiles": "false"}})
    primary.project = project
    names = [unique("bkall"), unique("bkall")]
    for name in names:
        primary.post("/1.0/instances", {"name": name, "source": {"type": "image", "alias": busybox["alias"]}})
    folder = tmp_path / "store"
    proc, recap = run_playbook(tmp_path, lab, "backup", {"backup_dir": str(folder), "backup_project": project})
    assert recap["failed"] == 0, proc.stdout + proc.stderr
    assert sorted(os.listdir(folder)) == sorted(names)


def test_backup_playbook_needs_a_folder(tmp_path, lab):
    proc, recap = run_playbook(tmp_path, lab, "backup", {})
    assert recap["failed"] == 1 and "backup_dir" in proc.stdout


# ---------------------------------------------------------------- custom volumes

def make_volume(client, unique, part, pool="default"):
    name = unique(part)
    client.post(volume_path(pool), {"name": name, "type": "custom", "content_type": "filesystem", "config": {}})
    return name


def data_disk(volume, pool="default"):
    return {"data": {"type": "disk", "pool": pool, "source": volume, "path": "/data"}}


def test_volume_back_up_delete_import_the_data_is_back(run_module, primary, instance, unique, tmp_path):
    volume = make_volume(primary, unique, "bkvol")
    name = instance("bkvi", devices=data_disk(volume))
    primary.execute(name, ["sh", "-c", "echo before-snapshot > /data/old"])
    primary.post(volume_path("default", volume, "snapshots"), {"name": "s0"})
    primary.execute(name, ["sh", "-c", "echo precious > /data/db"])
    dest = str(tmp_path / "v.tar.gz")
    params = dict(pool="default", volume=volume, name="v1", dest=dest, expiry="1d")
    first = run_module("lxd_backup", params)
    assert first["changed"] and first["actions"] == ["create", "export"], first
    assert first["backups"][0]["name"] == "v1" and first["backups"][0]["volume_only"] is False
    assert os.stat(dest).st_mode & 0o777 == 0o600
    second = run_module("lxd_backup", params)
    assert not second["changed"] and second["actions"] == [], second
    listed = run_module("lxd_backup", dict(pool="default", volume=volume, state="listed"))
    assert [b["name"] for b in listed["backups"]] == ["v1"]
    instance_file = str(tmp_path / "i.tar.gz")
    assert run_module("lxd_backup", dict(instance=name, name="i1", dest=instance_file))["changed"]

    delete_instance(primary, name)
    primary.delete(volume_path("default", volume))
    # The instance's file alone does not bring the volume back: the volume first, then the instance.
    imported = run_module("lxd_backup", dict(pool="default", volume=volume, state="imported", source=dest))
    assert imported["changed"] and imported["actions"] == ["import"], imported
    assert imported["file"]["checked"] and imported["file"]["type"] == "custom"
    assert imported["volume"] == {"name": volume, "pool": "default", "content_type": "filesystem",
                                  "snapshots": ["s0"]}, imported
    again = run_module("lxd_backup", dict(pool="default", volume=volume, state="imported", source=dest))
    assert not again["changed"] and again["volume"]["name"] == volume
    assert run_module("lxd_backup", dict(instance=name, state="imported", source=instance_file))["changed"]
    primary.put(api_path("instances", name, "state"), {"action": "start", "timeout": 60})
    assert read(primary, name, "/data/db") == "precious"
    # The volume's snapshot came back with its own content.
    restore_stopped(primary, name, volume_path("default", volume), "s0")
    assert read(primary, name, "/data/old") == "before-snapshot" and read(primary, name, "/data/db") is None


def test_volume_check_mode_keep_and_absent(run_module, primary, unique, tmp_path):
    volume = make_volume(primary, unique, "bkvk")
    dest = str(tmp_path / "c.tar")
    base = dict(pool="default", volume=volume)
    result = run_module("lxd_backup", dict(base, name="c1", dest=dest, compression_algorithm="none"), check=True)
    assert result["changed"] and result["actions"] == ["create", "export"]
    assert "c1" in result["diff"]["after"]["backups"] and not os.listdir(tmp_path)
    assert primary.get(volume_path("default", volume, "backups")).metadata == []
    for backup in ("k1", "k2", "k3"):
        run_module("lxd_backup", dict(base, name=backup, volume_only=True, compression_algorithm="none"))
    result = run_module("lxd_backup", dict(base, state="absent", keep=2))
    assert result["changed"] and [b["name"] for b in result["backups"]] == ["k2", "k3"], result
    assert result["backups"][0]["volume_only"] is True
    assert not run_module("lxd_backup", dict(base, state="absent", keep=2))["changed"]
    result = run_module("lxd_backup", dict(base, name="k3", state="absent"), check=True)
    assert result["changed"] and "k3" in result["diff"]["before"]["backups"]
    assert len(primary.get(volume_path("default", volume, "backups")).metadata) == 2
    target = unique("bkvk2")
    run_module("lxd_backup", dict(base, name="k3", dest=dest))
    imported = run_module("lxd_backup", dict(pool="default", volume=target, state="imported", source=dest),
                          check=True)
    assert imported["changed"] and imported["actions"] == ["import"]
    assert get_volume(primary, "default", target) is None


def test_a_cut_volume_file_is_refused_and_nothing_is_made(run_module, primary, instance, unique, tmp_path):
    volume = make_volume(primary, unique, "bkvc")
    name = instance("bkvci", devices=data_disk(volume))
    primary.execute(name, ["sh", "-c", "for i in 1 2 3 4 5 6; do echo $i > /data/f$i; done"])
    full, cut = str(tmp_path / "full.tar"), str(tmp_path / "cut.tar")
    run_module("lxd_backup", dict(pool="default", volume=volume, name="b", compression_algorithm="none", dest=full))
    with tarfile.open(full) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith("backup/volume/")]
    with open(full, "rb") as source, open(cut, "wb") as sink:
        sink.write(source.read(members[len(members) // 2].offset))
    target = unique("bkvc2")
    result = run_module("lxd_backup", dict(pool="default", volume=target, state="imported", source=cut))
    assert result["failed"] and not result["changed"], result
    assert "cut short" in result["msg"] and cut in result["msg"] and "not imported" in result["msg"]
    assert result["_requests"] == 1 and get_volume(primary, "default", target) is None
    # An instance's backup is no volume's.
    other = str(tmp_path / "instance.tar.gz")
    run_module("lxd_backup", dict(instance=name, name="i", dest=other))
    result = run_module("lxd_backup", dict(pool="default", volume=target, state="imported", source=other))
    assert result["failed"] and "holds no volume" in result["msg"] and get_volume(primary, "default", target) is None


@pytest.mark.parametrize("params, words", [
    (dict(volume="data"), ["pool"]),
    (dict(instance="web1", volume="data", pool="default"), ["mutually exclusive", "instance", "volume"]),
    (dict(pool="default", volume="data", instance_only=True), ["instance_only", "volume_only"]),
    (dict(instance="web1", volume_only=True), ["volume_only", "instance_only"]),
    (dict(pool="default", volume="a/b", state="listed"), ["volume", "'a/b'", "not a valid volume name"]),
    (dict(pool="default", volume="data", state="imported"), ["needs source"]),
])
def test_volume_bad_input_fails_before_any_request(run_module, params, words):
    result = run_module("lxd_backup", params)
    assert result["failed"] and result["_requests"] == 0, result
    for word in words:
        assert word in result["msg"]


def test_a_missing_volume_is_named(run_module, unique):
    result = run_module("lxd_backup", dict(pool="default", volume=unique("nope"), state="listed"))
    assert result["failed"] and "does not exist" in result["msg"], result


def test_transport_functions_copy_a_volume_between_the_kinds(lab, primary, instance, unique, tmp_path):
    """The primitives another feature calls: a volume from this kind's primary into the other kind's."""
    volume = make_volume(primary, unique, "bkvt")
    name = instance("bkvti", devices=data_disk(volume))
    primary.execute(name, ["sh", "-c", "echo moved > /data/f"])
    other_kind = "incus" if lab["kind"] == "lxd" else "lxd"
    target = LXDClient(url=lab["all_daemons"][lab["pairs"][other_kind]["primary"]]["url"])
    info = copy_through_file(primary, target, VolumeTarget("default", volume), VolumeTarget("default", volume),
                             folder=str(tmp_path))
    try:
        assert info["type"] == "custom" and not os.listdir(tmp_path)
        assert primary.get(volume_path("default", volume, "backups")).metadata == []
        assert get_volume(target, "default", volume)["name"] == volume
    finally:
        target.delete(volume_path("default", volume))


def test_backup_playbook_backs_up_the_instances_volumes(tmp_path, lab, primary, instance, unique, run_module):
    volume = make_volume(primary, unique, "bkpv")
    name = instance("bkpvi", devices=data_disk(volume))
    primary.execute(name, ["sh", "-c", "echo nightly-volume > /data/db"])
    folder = tmp_path / "store"
    extra = {"backup_instances": [name], "backup_dir": str(folder), "backup_keep_files": 1, "backup_keep_server": 1}
    for _run in range(2):
        proc, recap = run_playbook(tmp_path, lab, "backup", extra)
        assert recap["failed"] == 0, proc.stdout + proc.stderr
    files = os.listdir(folder / "volumes" / "default" / volume)
    assert len(files) == 1 and files[0].endswith(".tar.gz"), files
    assert len(os.listdir(folder / name)) == 1
    assert len(primary.get(volume_path("default", volume, "backups")).metadata) == 1
    copy = unique("bkpv2")
    imported = run_module("lxd_backup", dict(pool="default", volume=copy, state="imported",
                                             source=str(folder / "volumes" / "default" / volume / files[0])))
    assert imported["changed"], imported
    reader = instance("bkpv3", devices=data_disk(copy))
    assert read(primary, reader, "/data/db") == "nightly-volume"
