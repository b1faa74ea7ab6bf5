# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxd_backup's pure parts: the read-through of a backup file, its index, retention, names."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.backup import (
    BackupFileError,
    InstanceTarget,
    VolumeTarget,
    beyond_newest,
    check_backup_file,
    check_backup_name,
    detect_compression,
    parse_index,
    root_pool,
    summarize,
    walk_tar,
)
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError

INDEX = """name: db1
backend: btrfs
pool: fast
snapshots:
- daily-1
- daily-2
optimized: true
optimized_header: true
type: container
config:
  container:
    name: not-this-one
    snapshots:
    - nested
"""


def backup_tar(long_names=False, fmt=tarfile.PAX_FORMAT):
    """A plain tarball laid out as the daemons write one (index first, then the instance)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as archive:
        def add(name, data=b"", kind=tarfile.REGTYPE):
            info = tarfile.TarInfo(name)
            info.type = kind
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            archive.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        add("backup/index.yaml", INDEX.encode())
        add("backup/container", kind=tarfile.DIRTYPE)
        for number in range(20):
            name = "backup/container/rootfs/file%02d" % number
            if long_names:
                name = "backup/container/rootfs/" + "d" * 120 + "/file%02d" % number
            add(name, os.urandom(700 + number))
        add("backup/container/rootfs/link", kind=tarfile.SYMTYPE)
    return out.getvalue()


def offsets(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return [m.offset for m in archive.getmembers()]


def test_a_whole_tarball_is_read_to_its_end():
    index, names = walk_tar(io.BytesIO(backup_tar()), "f")
    assert parse_index(index)["name"] == "db1" and len(names) == 23 and names[0] == "backup/index.yaml"


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_long_names_in_every_tar_format(fmt):
    index, names = walk_tar(io.BytesIO(backup_tar(long_names=fmt != tarfile.USTAR_FORMAT, fmt=fmt)), "f")
    assert index == INDEX and names[-1] == "backup/container/rootfs/link"
    if fmt != tarfile.USTAR_FORMAT:
        assert names[2].startswith("backup/container/rootfs/ddd") and names[2].endswith("/file00")


def test_cut_at_a_file_boundary_is_refused():
    data = backup_tar()
    for offset in offsets(data)[2:]:
        with pytest.raises(BackupFileError, match="cut short"):
            walk_tar(io.BytesIO(data[:offset]), "f")


def test_cut_inside_a_file_is_refused():
    data = backup_tar()
    with pytest.raises(BackupFileError, match="cut short: it ends inside backup/container/rootfs/file05"):
        walk_tar(io.BytesIO(data[:offsets(data)[7] + 512 + 100]), "f")


def test_a_damaged_header_is_refused():
    data = bytearray(backup_tar())
    data[offsets(bytes(data))[4] + 10] ^= 0xFF
    with pytest.raises(BackupFileError, match="damaged"):
        walk_tar(io.BytesIO(bytes(data)), "f")


@pytest.mark.parametrize("head, name", [
    (b"\x1f\x8b\x08", "gzip"), (b"BZh91AY", "bzip2"), (b"\xfd7zXZ\x00\x00", "xz"), (b"\x28\xb5\x2f\xfd\x00", "zstd"),
    (b"\x04\x22\x4d\x18\x00", "lz4"), (b"\x5d\x00\x00\x80\x00", "lzma"), (b"hello", None),
])
def test_detect_compression(head, name):
    assert detect_compression(head) == name


def test_detect_a_plain_tarball():
    assert detect_compression(backup_tar()[:512]) == "none"


@pytest.mark.parametrize("compress", [lambda d: d, gzip.compress, bz2.compress, lzma.compress,
                                      lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE)])
def test_check_backup_file_whole_and_cut(tmp_path, compress):
    data = compress(backup_tar())
    whole = tmp_path / "whole"
    whole.write_bytes(data)
    info = check_backup_file(str(whole))
    assert info["checked"] and info["name"] == "db1" and info["snapshots"] == ["daily-1", "daily-2"]
    assert info["size"] == len(data) and info["optimized"] is True and info["pool"] == "fast"
    for cut in (len(data) - 4, len(data) // 2):
        if compress(b"x") == b"x" and cut == len(data) - 4:
            cut = offsets(data)[-1]  # a plain tarball: cut where its last file begins
        part = tmp_path / "cut"
        part.write_bytes(data[:cut])
        with pytest.raises(BackupFileError, match="cut short"):
            check_backup_file(str(part))


def test_check_backup_file_refuses_what_is_no_backup(tmp_path):
    other = tmp_path / "other.tar"
    with tarfile.open(str(other), "w") as archive:
        archive.add(__file__, arcname="something.py")
    with pytest.raises(BackupFileError, match="no backup/index.yaml"):
        check_backup_file(str(other))
    text = tmp_path / "text"
    text.write_text("hello\n" * 100)
    with pytest.raises(BackupFileError, match="not an instance backup: neither a tar archive"):
        check_backup_file(str(text))
    with pytest.raises(BackupFileError, match="cannot be read"):
        check_backup_file(str(tmp_path / "missing"))


def test_parse_index_reads_top_level_fields_only():
    fields = parse_index(INDEX)
    assert fields == {"name": "db1", "backend": "btrfs", "pool": "fast", "snapshots": ["daily-1", "daily-2"],
                      "optimized": True, "type": "container"}
    assert parse_index("name: x\nsnapshots: []\noptimized: false\n")["snapshots"] == []


def test_beyond_newest_by_creation_time_then_name():
    backups = [{"name": "b", "created_at": "2026-12-01T00:00:00Z"}, {"name": "a", "created_at": "2026-12-02T00:00:00Z"},
               {"name": "c", "created_at": "2026-11-30T00:00:00Z"}, {"name": "d", "created_at": "2026-12-02T00:00:00Z"}]
    assert [b["name"] for b in beyond_newest(backups, 2)] == ["b", "c"]
    assert beyond_newest(backups, 9) == []


def test_the_backup_just_made_is_the_newest_within_one_second():
    # Incus reports created_at to the second: k2, k3 and the new one can share it.
    same = "2026-12-02T22:06:20Z"
    backups = [{"name": "k2", "created_at": same}, {"name": "k3", "created_at": same},
               {"name": "backup-20261202-220620", "created_at": same}]
    assert [b["name"] for b in beyond_newest(backups, 2)] == ["backup-20261202-220620"]
    assert [b["name"] for b in beyond_newest(backups, 2, newest="backup-20261202-220620")] == ["k2"]


def test_beyond_newest_reads_the_times_not_their_text():
    # LXD trims the nanoseconds' trailing zeros: .1 is older than .12, though its text sorts after it.
    backups = [{"name": "b", "created_at": "2026-12-02T12:00:00.12Z"},
               {"name": "a", "created_at": "2026-12-02T12:00:00.1Z"}, {"name": "c", "created_at": None}]
    assert [b["name"] for b in beyond_newest(backups, 1)] == ["a", "c"]


def test_summarize_reads_both_daemons():
    lxd = {"name": "x", "created_at": "t", "expires_at": "0001-01-01T00:00:00Z", "instance_only": False,
           "container_only": False, "optimized_storage": True}
    incus = {"name": "x", "created_at": "t", "expires_at": "2026-12-09T02:00:00Z", "instance_only": True,
             "optimized_storage": False}
    assert summarize(lxd) == {"name": "x", "created_at": "t", "expires_at": None, "instance_only": False,
                              "optimized_storage": True}
    assert summarize(incus)["expires_at"] == "2026-12-09T02:00:00Z" and summarize(incus)["instance_only"] is True


def test_root_pool():
    instance = {"expanded_devices": {"data": {"type": "disk", "path": "/srv", "pool": "slow", "source": "v"},
                                     "root": {"type": "disk", "path": "/", "pool": "fast"}}}
    assert root_pool(instance) == "fast" and root_pool({}) is None


@pytest.mark.parametrize("name", ["", "a/b", " x", "..", "."])
def test_bad_backup_names(name):
    with pytest.raises(ConfigError, match="not a valid backup name"):
        check_backup_name("name", name)


def volume_tar():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, data in (("backup/index.yaml", b"name: pgdata\npool: default\ntype: custom\nsnapshots:\n- s0\n"),
                           ("backup/volume/PG_VERSION", b"15\n"), ("backup/volume-snapshots/s0/PG_VERSION", b"15\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_check_backup_file_tells_a_volume_backup_from_an_instance_backup(tmp_path):
    volume, instance = tmp_path / "volume.tar", tmp_path / "instance.tar"
    volume.write_bytes(volume_tar())
    instance.write_bytes(backup_tar())
    info = check_backup_file(str(volume), "volume")
    assert info["type"] == "custom" and info["name"] == "pgdata" and info["snapshots"] == ["s0"]
    with pytest.raises(BackupFileError, match="holds no volume"):
        check_backup_file(str(instance), "volume")
    with pytest.raises(BackupFileError, match="holds no instance"):
        check_backup_file(str(volume))


def test_targets_address_their_backups():
    instance, volume = InstanceTarget("db1"), VolumeTarget("default", "pg data")
    assert instance.backup_path("n1") == "/1.0/instances/db1/backups/n1" and instance.only == "instance_only"
    assert volume.backup_path() == "/1.0/storage-pools/default/volumes/custom/pg%20data/backups"
    assert volume.import_path == "/1.0/storage-pools/default/volumes/custom"
    assert volume.import_headers("X-Incus-", "other") == {"X-Incus-name": "pg data"}
    assert instance.import_headers("X-LXD-", "fast") == {"X-LXD-name": "db1", "X-LXD-pool": "fast"}
    assert summarize({"name": "b", "volume_only": True}, "volume_only")["volume_only"] is True
