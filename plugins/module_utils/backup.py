# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Backups of an instance or of a custom volume: create, export to a file, list, delete, keep the newest N,
import a file as an instance or volume. What differs between the two is a target (InstanceTarget, VolumeTarget).

export_to_file() and import_file() are the transport other features call (a volume from LXD into Incus:
copy_through_file()).

A backup file is read through to its end before it is uploaded: both daemons import an uncompressed tarball cut
at a file boundary as a broken instance without a word, so the module refuses such a file itself.
"""

from __future__ import annotations

import bz2
import datetime
import gzip
import lzma
import os
import shutil
import subprocess
import tempfile
import zlib

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError, is_volatile
from ansible_collections.lxdops.server.plugins.module_utils.daemon import KIND_FACTS
from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import format_rfc3339, is_zero_time, parse_lxd_time
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager, check_name, check_path_name
from ansible_collections.lxdops.server.plugins.module_utils.snapshot import expiry_to_timestamp, parse_expires_at
from ansible_collections.lxdops.server.plugins.module_utils.volume import check_volume_name, volume_path

# What the daemons compress a backup with (the command must exist on the server); none: a plain tarball.
COMPRESSIONS = ("gzip", "bzip2", "xz", "lzma", "lz4", "zstd", "none")
# Storage drivers whose optimized backups hold the driver's own stream; on others the daemon quietly makes a plain one.
OPTIMIZED_DRIVERS = ("btrfs", "zfs")
NAME_FORMAT = "backup-%Y%m%d-%H%M%S"
# Options each state reads (the connection options, instance or volume and pool, state apply everywhere).
STATE_OPTIONS = {
    "present": ("name", "instance_only", "volume_only", "optimized_storage", "compression_algorithm", "expires_at",
                "expiry", "dest", "keep"),
    "absent": ("name", "keep"),
    "listed": (),
    "imported": ("source", "pool"),
}
MODULE_OPTIONS = ("name", "instance_only", "volume_only", "optimized_storage", "compression_algorithm", "expires_at",
                  "expiry", "dest", "keep", "source", "pool")

BLOCK = 512
# File signatures of the compressions, the longest first (lzma's "alone" header has no real magic).
SIGNATURES = (
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\x5d\x00\x00", "lzma"),
    (b"\x1f\x8b", "gzip"),
)
STDLIB_OPENERS = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open, "lzma": lzma.open}
# Types whose size field does not count data blocks (links, devices, folders, fifos).
NO_DATA_TYPES = b"123456"


# What a backup file of each kind holds beside backup/index.yaml (a custom volume: backup/volume, or volume.bin
# when optimized).
MEMBERS = {"instance": ("backup/container", "backup/virtual-machine"), "volume": ("backup/volume",)}
ARTICLES = {"instance": "an instance", "volume": "a custom volume"}


class BackupFileError(ConfigError):
    """A backup file that cannot be imported as it is (cut short, damaged, not a backup)."""


# ---------------------------------------------------------------- the file check (no API)

def detect_compression(head):
    """The compression of a file from its first bytes: one of COMPRESSIONS, or None when unknown."""
    for magic, name in SIGNATURES:
        if head.startswith(magic):
            return name
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "none"
    return None


def _octal_size(field):
    """A tar header's size field: octal text, or GNU's base-256 for large files."""
    if field[:1] and field[0] & 0x80:
        value = int.from_bytes(field[1:], "big")
        return value
    text = field.replace(b"\x00", b" ").strip()
    return int(text, 8) if text else 0


def _checksum_ok(header):
    stored = header[148:156].replace(b"\x00", b" ").strip()
    try:
        wanted = int(stored, 8)
    except ValueError:
        return False
    blanked = header[:148] + b" " * 8 + header[156:]
    return wanted in (sum(blanked), sum(b - 256 if b > 127 else b for b in blanked))


def _read_exact(stream, count):
    data = b""
    while len(data) < count:
        piece = stream.read(count - len(data))
        if not piece:
            break
        data += piece
    return data


def _skip(stream, count):
    while count > 0:
        piece = stream.read(min(count, 1 << 20))
        if not piece:
            return False
        count -= len(piece)
    return True


def walk_tar(stream, label):
    """Read a tar stream through to its end marker; return (index.yaml text or None, member names seen).

    Raises BackupFileError when it ends early (a file cut short) or is not a tar archive.
    """
    index = None
    names = []
    long_name = None
    while True:
        header = _read_exact(stream, BLOCK)
        if len(header) < BLOCK:
            raise BackupFileError("%s is cut short: it ends after %d files, before the archive's end marker (an "
                                  "interrupted copy or download?); it was not imported" % (label, len(names)))
        if header == b"\x00" * BLOCK:
            return index, names
        if not _checksum_ok(header):
            raise BackupFileError("%s is damaged: a tar header after %d files does not add up (not a backup made "
                                  "by LXD or Incus, or corrupted)" % (label, len(names)))
        size = _octal_size(header[124:136])
        kind = header[156:157]
        # POSIX ustar keeps a path prefix at 345 (GNU's "ustar " headers keep times there).
        prefix = header[345:500].split(b"\x00", 1)[0] if header[257:263] == b"ustar\x00" else b""
        name = long_name or (prefix + b"/" if prefix else b"") + header[:100].split(b"\x00", 1)[0]
        long_name = None
        data_size = 0 if kind and kind in NO_DATA_TYPES else size
        padded = (data_size + BLOCK - 1) // BLOCK * BLOCK
        if kind in (b"x", b"L") and data_size <= 1 << 20:
            data = _read_exact(stream, padded)
            if len(data) < padded:
                raise BackupFileError("%s is cut short inside a tar header; it was not imported" % label)
            long_name = _pax_path(data[:data_size]) if kind == b"x" else data[:data_size].split(b"\x00", 1)[0]
            continue
        decoded = name.decode("utf-8", "replace")
        names.append(decoded)
        if decoded == "backup/index.yaml" and data_size <= 1 << 20:
            data = _read_exact(stream, padded)
            if len(data) < padded:
                raise BackupFileError("%s is cut short inside backup/index.yaml; it was not imported" % label)
            index = data[:data_size].decode("utf-8", "replace")
        elif not _skip(stream, padded):
            raise BackupFileError("%s is cut short: it ends inside %s (file %d of the archive); it was not imported"
                                  % (label, decoded, len(names)))


def _pax_path(data):
    """The path record of a pax extended header, or None."""
    for record in data.split(b"\n"):
        _length, _sep, rest = record.partition(b" ")
        key, sep, value = rest.partition(b"=")
        if sep and key == b"path":
            return value
    return None


def parse_index(text):
    """The top-level fields of a backup's index.yaml that matter here (name, pool, backend, type, optimized,
    snapshots), read without a YAML library: the daemons write them as plain `key: value` and `- item` lines."""
    fields = {"snapshots": []}
    in_snapshots = False
    for line in (text or "").splitlines():
        if not line or line[0] == " ":
            continue
        if line.startswith("- "):
            if in_snapshots:
                fields["snapshots"].append(line[2:].strip().strip("'\""))
            continue
        key, _sep, value = line.partition(":")
        in_snapshots = key == "snapshots"
        if key in ("name", "pool", "backend", "type", "optimized") and value.strip():
            fields[key] = value.strip().strip("'\"")
    fields["optimized"] = fields.get("optimized") == "true"
    return fields


def _decompressor(path, compression):
    """A readable stream of the tar inside the file, and what ends it (a process to check), or (None, None)."""
    if compression == "none":
        return open(path, "rb"), None
    if compression in STDLIB_OPENERS:
        return STDLIB_OPENERS[compression](path, "rb"), None
    tool = shutil.which(compression)
    if not tool:
        return None, None
    # pylint: disable-next=consider-using-with
    process = subprocess.Popen([tool, "-dcq", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return process.stdout, process


def check_backup_file(path, kind="instance"):
    """Read a backup file through (decompressing it) to its end; return what it holds (kind: instance or volume).

    {'compression', 'checked' (False when no decompressor for it is installed here), 'name', 'pool', 'backend',
    'type', 'optimized', 'snapshots', 'size'}. Raises BackupFileError for a file the daemon must not get.
    """
    label = "backup file %s" % path
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(BLOCK)
    except OSError as exc:
        raise BackupFileError("%s cannot be read: %s" % (label, exc.strerror or exc))
    compression = detect_compression(head)
    if compression is None:
        raise BackupFileError("%s is not %s backup: neither a tar archive nor one compressed with %s"
                              % (label, ARTICLES[kind], ", ".join(c for c in COMPRESSIONS if c != "none")))
    stream, process = _decompressor(path, compression)
    if stream is None:
        return {"compression": compression, "checked": False, "size": size, "snapshots": []}
    try:
        try:
            index, names = walk_tar(stream, label)
            # The rest (padding, the compression's trailer and checksum) is read too: a cut trailer fails here.
            while stream.read(1 << 20):
                pass
        except (EOFError, OSError, lzma.LZMAError, zlib.error) as exc:
            raise BackupFileError("%s is cut short or damaged (%s compressed stream: %s); it was not imported"
                                  % (label, compression, exc))
    finally:
        stream.close()
        if process is not None:
            _out, err = process.communicate()
    if process is not None and process.returncode:
        raise BackupFileError("%s is cut short or damaged (%s: %s); it was not imported"
                              % (label, compression, err.decode("utf-8", "replace").strip()[:300]))
    if index is None:
        raise BackupFileError("%s is not %s backup: it has no backup/index.yaml" % (label, ARTICLES[kind]))
    members = MEMBERS[kind]
    if not any(n.startswith(members) for n in names):
        raise BackupFileError("%s holds no %s (no %s): it was not imported" % (label, kind, " or ".join(members)))
    info = parse_index(index)
    info.update(compression=compression, checked=True, size=size)
    return info


# ---------------------------------------------------------------- pure helpers

def check_backup_name(option, value):
    check_path_name(option, value, "backup")


def summarize(backup, only="instance_only"):
    """A backup as the module returns it; only: the field saying the snapshots are left out (instance_only or
    volume_only)."""
    expires = backup.get("expires_at")
    return {
        "name": backup["name"],
        "created_at": backup.get("created_at"),
        "expires_at": None if is_zero_time(expires) else expires,
        only: bool(backup.get(only, backup.get("container_only", False))),
        "optimized_storage": bool(backup.get("optimized_storage", False)),
    }


def created_time(backup):
    """A backup's creation time for ordering: parsed, since LXD trims trailing zeros of the nanoseconds and the
    text of 12:00:00.1Z sorts after that of 12:00:00.12Z; none or unreadable sorts oldest."""
    return parse_lxd_time(backup.get("created_at")) or datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)


def beyond_newest(backups, keep, newest=None):
    """The backups to delete so that the newest `keep` remain (by creation time, then name). `newest` names the
    backup this run made: it counts as the newest, since Incus gives `created_at` to the second and a backup made
    in the same second as an older one would otherwise be ordered by name."""
    ordered = sorted(backups, key=lambda b: (b["name"] == newest, created_time(b), b["name"]), reverse=True)
    return ordered[keep:]


def root_pool(instance):
    """The pool of an instance's root disk (its expanded devices), or None."""
    for device in (instance.get("expanded_devices") or {}).values():
        if device.get("type") == "disk" and device.get("path") == "/" and device.get("pool"):
            return device["pool"]
    return None


# ---------------------------------------------------------------- targets: what is backed up

class InstanceTarget:
    """An instance: its backups under /1.0/instances/<name>/backups, imported by POST /1.0/instances."""

    kind = "instance"
    only = "instance_only"

    def __init__(self, name):
        self.name = name
        self.path = api_path("instances", name)
        self.import_path = "/1.0/instances"
        self.label = "instance %r" % name

    def backup_path(self, name=None):
        return api_path("instances", self.name, "backups", *([] if name is None else [name]))

    def pool(self, client, current=None):
        """The pool its data is on (the root disk's)."""
        return root_pool(current if current is not None else client.get(self.path).metadata)

    def import_headers(self, prefix, pool):
        headers = {prefix + "name": self.name}
        if pool:
            headers[prefix + "pool"] = pool
        return headers

    def summary(self, client, current):
        snapshots = client.get(self.path + "/snapshots").metadata or []
        return {"name": current["name"], "status": current.get("status"), "type": current.get("type"),
                "pool": root_pool(current), "snapshots": [s.rsplit("/", 1)[-1] for s in snapshots]}

    def leftovers(self, pool):
        """What a failed import may have made, in the order to delete it."""
        paths = [self.path]
        if pool:
            paths += [api_path("storage-pools", pool, "volumes", kind, self.name)
                      for kind in ("container", "virtual-machine")]
        return paths


class VolumeTarget:
    """A custom volume: its backups under /1.0/storage-pools/<pool>/volumes/custom/<name>/backups, imported by
    POST /1.0/storage-pools/<pool>/volumes/custom (the pool is the one it is imported to)."""

    kind = "volume"
    only = "volume_only"

    def __init__(self, pool, name):
        self.name = name
        self.volume_pool = pool
        self.path = volume_path(pool, name)
        self.import_path = volume_path(pool)
        self.label = "volume %r on pool %r" % (name, pool)

    def backup_path(self, name=None):
        return volume_path(self.volume_pool, self.name, "backups", *([] if name is None else [name]))

    def pool(self, client, current=None):
        return self.volume_pool

    def import_headers(self, prefix, pool):
        return {prefix + "name": self.name}

    def summary(self, client, current):
        snapshots = client.get(self.path + "/snapshots").metadata or []
        return {"name": current["name"], "pool": self.volume_pool, "content_type": current.get("content_type"),
                "snapshots": [s.rsplit("/", 1)[-1] for s in snapshots]}

    def leftovers(self, pool):
        return [self.path]


# ---------------------------------------------------------------- transport (no module: other features call these)

def download_to_file(client, path, dest):
    """Stream GET path (a backup's export) into the file dest: a temporary file beside it, renamed when complete,
    mode 0600 (a backup holds everything). Returns its size; LXDError naming dest when it cannot be written."""
    folder = os.path.dirname(os.path.abspath(dest))
    try:
        handle, partial = tempfile.mkstemp(dir=folder, prefix=".%s." % os.path.basename(dest), suffix=".part")
    except OSError as exc:
        raise LXDError("dest %s: cannot write the backup there: %s" % (dest, exc.strerror or exc))
    try:
        with os.fdopen(handle, "wb") as sink:
            client.download(path, sink)
            sink.flush()
            os.fsync(sink.fileno())
        os.chmod(partial, 0o600)
        os.rename(partial, dest)
    except BaseException as exc:
        if os.path.exists(partial):
            os.unlink(partial)
        if isinstance(exc, OSError):
            raise LXDError("dest %s: cannot write the backup there: %s" % (dest, exc.strerror or exc))
        raise
    return os.path.getsize(dest)


def upload_file(client, target, source, info, pool=None):
    """Import the checked backup file source (check_backup_file's info) as target; when the daemon fails, what it
    may have made is removed and LXDError says so."""
    prefix = KIND_FACTS[client.daemon_kind()]["header_prefix"]
    try:
        with open(source, "rb") as handle:
            client.upload(target.import_path, handle, info["size"], headers=target.import_headers(prefix, pool),
                          what="import of %s as %s" % (source, target.name))
    except LXDError as exc:
        left = clean_failed_import(client, target, pool or info.get("pool"))
        where = "" if client.project == "default" else " in project %r" % client.project
        raise LXDError("import of %s as %s%s failed, %s: %s" % (
            source, target.label, where, "nothing was made" if left is None
            else "and it may have left something behind (%s)" % left, exc.error or exc.message))


def clean_failed_import(client, target, pool):
    """Delete what a failed import may have left (the daemons clean up after themselves; this makes sure).
    Returns None, or what could not be deleted."""
    try:
        for path in target.leftovers(pool):
            if client.exists(path) is not None:
                client.delete(path)
    except LXDError as exc:
        return exc.message
    return None


def export_to_file(client, target, dest, compression_algorithm=None, only=False, optimized_storage=False):
    """Back target up into the file dest through a backup made for it and deleted again; returns dest's size."""
    name = datetime.datetime.now(datetime.timezone.utc).strftime("lxdops-transfer-%Y%m%d-%H%M%S-%f")
    body = {"name": name, target.only: bool(only), "optimized_storage": bool(optimized_storage)}
    if compression_algorithm:
        body["compression_algorithm"] = compression_algorithm
    client.post(target.backup_path(), body)
    try:
        return download_to_file(client, target.backup_path(name) + "/export", dest)
    finally:
        client.delete(target.backup_path(name))


def import_file(client, target, source, pool=None):
    """Read the backup file source through, then import it as target (which must not exist); returns the file's
    check_backup_file info. BackupFileError (before any request) for a cut or damaged file."""
    info = check_backup_file(source, target.kind)
    upload_file(client, target, source, info, pool)
    return info


def copy_through_file(source_client, target_client, source_target, target_target, folder=None,
                      compression_algorithm=None):
    """Copy an instance or volume between two servers (LXD to Incus too) through a backup file in folder (a
    temporary folder by default), removed afterwards."""
    workdir = tempfile.mkdtemp(prefix="lxdops-transfer-", dir=folder)
    path = os.path.join(workdir, "backup")
    try:
        export_to_file(source_client, source_target, path, compression_algorithm=compression_algorithm)
        return import_file(target_client, target_target, path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------- the manager

class BackupManager(Manager):
    def validate(self):
        p = self.params
        state = p["state"]
        if p.get("volume") is not None:
            check_volume_name("pool", p["pool"], "pool")
            check_volume_name("volume", p["volume"])
            if p["instance_only"]:
                raise ConfigError("instance_only applies to instance backups; for volume %r give volume_only"
                                  % p["volume"])
            self.target = VolumeTarget(p["pool"], p["volume"])
        else:
            check_name("instance", p["instance"])
            if p["volume_only"]:
                raise ConfigError("volume_only applies to volume backups; for instance %r give instance_only"
                                  % p["instance"])
            self.target = InstanceTarget(p["instance"])
        for option in MODULE_OPTIONS:
            if option == "pool" and self.target.kind == "volume":
                continue
            if option in self.module.given and p[option] not in (None, False) and option not in STATE_OPTIONS[state]:
                raise ConfigError("%s does not apply to state=%s (it applies to state=%s)" % (
                    option, state, ", ".join(s for s, opts in STATE_OPTIONS.items() if option in opts)))
        if p["name"] is not None:
            check_backup_name("name", p["name"])
        elif state == "absent" and p["keep"] is None:
            raise ConfigError("state=absent needs name (the backup to delete) or keep (how many of the newest to "
                              "keep)")
        if p["keep"] is not None and p["keep"] < 1:
            raise ConfigError("keep %r is not accepted: the number of newest backups to keep, 1 or more (state=absent "
                              "with name deletes one backup)" % p["keep"])
        self.expires_at = None
        if p["expires_at"] is not None:
            self.expires_at = parse_expires_at(p["expires_at"])
        if p["expiry"] is not None:
            expiry_to_timestamp(p["expiry"], datetime.datetime.now(datetime.timezone.utc))
        if p["dest"] is not None:
            folder = os.path.dirname(p["dest"]) or "."
            if os.path.isdir(p["dest"]):
                raise ConfigError("dest %r is a folder: give the path of the file to write (e.g. %s/%s.tar.gz)"
                                  % (p["dest"], p["dest"].rstrip("/"), p["name"] or self.target.name))
            if not os.path.isdir(folder):
                raise ConfigError("dest %r: the folder %s does not exist on this host" % (p["dest"], folder))
        if state == "imported":
            if not p["source"]:
                raise ConfigError("state=imported needs source, the backup file to import")
            if not os.path.isfile(p["source"]):
                raise ConfigError("source %r: no such file on this host" % p["source"])
            if not os.access(p["source"], os.R_OK):
                raise ConfigError("source %r cannot be read by this user" % p["source"])
            if p["pool"] is not None and self.target.kind == "instance":
                check_name("pool", p["pool"], what="storage pool")

    def where(self):
        return "" if self.client.project == "default" else " in project %r" % self.client.project

    def summarize(self, backup):
        return summarize(backup, self.target.only)

    def list_backups(self):
        try:
            return self.client.get(self.target.backup_path(), params={"recursion": 1}).metadata or []
        except LXDNotFound:
            raise LXDError("%s does not exist%s" % (self.target.label, self.where()))

    def apply(self):
        p = self.params
        if p["state"] == "imported":
            self.import_backup()
            return
        backups = self.list_backups()
        by_name = dict((b["name"], b) for b in backups)
        if p["state"] == "present":
            name = p["name"] or datetime.datetime.now(datetime.timezone.utc).strftime(NAME_FORMAT)
            self.result["backup"] = name
            if name not in by_name:
                by_name[name] = self.create(name)
            if p["dest"]:
                created = self.actions == ["create"]
                try:
                    self.export(name, created=created)
                except LXDError:
                    if created and not self.check_mode:
                        # The backup was made for this export: a failed run leaves the server as it was.
                        self.client.delete(self.target.backup_path(name))
                        self.actions.remove("create")
                    raise
            if p["keep"]:
                made = name if "create" in self.actions else None
                self.prune(list(by_name.values()), p["keep"], protect=name, newest=made)
        elif p["state"] == "absent":
            if p["name"] in by_name:
                self.tracker.add(("backups", p["name"]), self.summarize(by_name[p["name"]]), None)
                self.write("delete", self.client.delete, self.target.backup_path(p["name"]))
                del by_name[p["name"]]
            if p["keep"]:
                self.prune(list(by_name.values()), p["keep"])
        if self.actions and not self.check_mode:
            backups = self.list_backups()
        self.result["backups"] = [self.summarize(b) for b in sorted(backups, key=created_time)]

    # ------------------------------------------------------------ create, export, prune

    def optimized_allowed(self):
        """Whether the target's pool makes optimized backups (the daemon quietly makes a plain one where it cannot,
        so the module asks the pool first and says so)."""
        pool = self.target.pool(self.client)
        driver = None
        if pool:
            driver = (self.client.exists(api_path("storage-pools", pool), project=False) or {}).get("driver")
        if driver in OPTIMIZED_DRIVERS:
            return True
        self.module.warn("optimized_storage: the pool %s of %s is %s, which makes no optimized backups (only %s do); "
                         "a plain backup is made"
                         % (pool, self.target.label, driver or "unknown", ", ".join(OPTIMIZED_DRIVERS)))
        return False

    def create(self, name):
        p = self.params
        only = self.target.only
        body = {"name": name, only: bool(p[only]),
                "optimized_storage": bool(p["optimized_storage"]) and self.optimized_allowed()}
        if p["compression_algorithm"]:
            body["compression_algorithm"] = p["compression_algorithm"]
        expires = self.expires_at
        if expires is None and p["expiry"]:
            expires = expiry_to_timestamp(p["expiry"], datetime.datetime.now(datetime.timezone.utc))
        if expires is not None:
            body["expires_at"] = format_rfc3339(expires)
        planned = {"name": name, "created_at": format_rfc3339(datetime.datetime.now(datetime.timezone.utc)),
                   "expires_at": body.get("expires_at"), only: bool(p[only]),
                   "optimized_storage": body["optimized_storage"]}
        self.tracker.add(("backups", name), None, dict(planned))
        self.write("create", self.client.post, self.target.backup_path(), body)
        return planned

    def export(self, name, created):
        dest = self.params["dest"]
        before = {"path": dest, "size": os.path.getsize(dest)} if os.path.isfile(dest) else None
        self.result["dest"] = before
        path = self.target.backup_path(name) + "/export"
        if created and self.check_mode:
            # The backup does not exist yet: its export cannot be sized.
            self.tracker.add(("dest",), before, {"path": dest, "size": None})
            self.actions.append("export")
            return
        sizes = {}

        def size_only(headers):
            sizes["length"] = int(headers.get("Content-Length") or -1)
            return False

        if before is not None or self.check_mode:
            # Same backup, same size: the file there is this export (decided by name and size, not re-read).
            self.client.download(path, None, accept=size_only)
            if before is not None and sizes["length"] == before["size"]:
                return
            if self.check_mode:
                self.tracker.add(("dest",), before, {"path": dest, "size": sizes["length"]})
                self.actions.append("export")
                return
        after = {"path": dest, "size": download_to_file(self.client, path, dest)}
        self.tracker.add(("dest",), before, after)
        self.actions.append("export")
        self.result["dest"] = after

    def prune(self, backups, keep, protect=None, newest=None):
        for backup in beyond_newest(backups, keep, newest):
            if backup["name"] == protect:
                continue
            self.tracker.add(("backups", backup["name"]), self.summarize(backup), None)
            self.write("delete %s" % backup["name"], self.client.delete, self.target.backup_path(backup["name"]))

    # ------------------------------------------------------------ import

    def import_backup(self):
        p = self.params
        target = self.target
        existing = self.client.exists(target.path)
        if existing is not None:
            # Never overwritten: an import is a restore to a new instance or volume; delete the old one first.
            self.result[target.kind] = target.summary(self.client, existing)
            return
        info = check_backup_file(p["source"], target.kind)
        self.result["file"] = info
        if not info["checked"]:
            self.module.warn("%s is compressed with %s, which is not installed on this host: the file was not read "
                             "through before the upload (the daemon still refuses a cut stream)"
                             % (p["source"], info["compression"]))
        pool = p["pool"] if target.kind == "instance" else None
        planned = {"name": target.name, "pool": p["pool"] or info.get("pool"), "snapshots": info.get("snapshots") or []}
        self.tracker.add((target.kind,), None, planned)
        if p["pool"] and self.client.exists(api_path("storage-pools", p["pool"]), project=False) is None:
            raise LXDError("pool %r does not exist on %s: the backup was not imported" % (p["pool"], self.client.url))
        if self.check_mode:
            self.actions.append("import")
            return
        self.write("import", upload_file, self.client, target, p["source"], info, pool)
        if target.kind == "instance" and info.get("name") and info["name"] != target.name:
            self.new_hardware_addresses()
        self.result[target.kind] = target.summary(self.client, self.client.get(target.path).metadata)

    def new_hardware_addresses(self):
        """A copy under another name gets MAC addresses of its own (as a copy does): beside the original, the
        same ones keep it from starting (Incus) or clash on the network."""
        current = self.client.get(self.target.path)
        instance = current.metadata
        config = dict((k, v) for k, v in instance["config"].items() if not (is_volatile(k) and k.endswith(".hwaddr")))
        if config == instance["config"]:
            return
        body = dict((k, instance[k]) for k in ("architecture", "devices", "ephemeral", "profiles", "stateful",
                                               "description") if k in instance)
        body["config"] = config
        self.write("new hardware addresses", self.client.put, self.target.path, body, etag=current.etag)
