# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Instance backups: create, export to a file, list, delete, keep the newest N, import a file as an instance.

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
from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import format_rfc3339, is_zero_time
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager, check_name
from ansible_collections.lxdops.server.plugins.module_utils.snapshot import (
    check_snapshot_name,
    expiry_to_timestamp,
    parse_expires_at,
)

# What the daemons compress a backup with (the command must exist on the server); none: a plain tarball.
COMPRESSIONS = ("gzip", "bzip2", "xz", "lzma", "lz4", "zstd", "none")
# Storage drivers whose optimized backups hold the driver's own stream; on others the daemon quietly makes a plain one.
OPTIMIZED_DRIVERS = ("btrfs", "zfs")
NAME_FORMAT = "backup-%Y%m%d-%H%M%S"
# Options each state reads (the connection options and instance, state apply everywhere).
STATE_OPTIONS = {
    "present": ("name", "instance_only", "optimized_storage", "compression_algorithm", "expires_at", "expiry",
                "dest", "keep"),
    "absent": ("name", "keep"),
    "listed": (),
    "imported": ("source", "pool"),
}
MODULE_OPTIONS = ("name", "instance_only", "optimized_storage", "compression_algorithm", "expires_at", "expiry",
                  "dest", "keep", "source", "pool")

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


def check_backup_file(path):
    """Read a backup file through (decompressing it) to its end; return what it holds.

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
        raise BackupFileError("%s is not an instance backup: neither a tar archive nor one compressed with %s"
                              % (label, ", ".join(c for c in COMPRESSIONS if c != "none")))
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
        raise BackupFileError("%s is not an instance backup: it has no backup/index.yaml" % label)
    if not any(n.startswith(("backup/container", "backup/virtual-machine")) for n in names):
        raise BackupFileError("%s holds no instance (no backup/container or backup/virtual-machine): it was not "
                              "imported" % label)
    info = parse_index(index)
    info.update(compression=compression, checked=True, size=size)
    return info


# ---------------------------------------------------------------- pure helpers

def check_backup_name(option, value):
    try:
        check_snapshot_name(option, value)
    except ConfigError:
        raise ConfigError("%s %r is not a valid backup name: it must be non-empty, without '/' or surrounding "
                          "spaces" % (option, value))


def summarize(backup):
    expires = backup.get("expires_at")
    return {
        "name": backup["name"],
        "created_at": backup.get("created_at"),
        "expires_at": None if is_zero_time(expires) else expires,
        "instance_only": bool(backup.get("instance_only", backup.get("container_only", False))),
        "optimized_storage": bool(backup.get("optimized_storage", False)),
    }


def beyond_newest(backups, keep):
    """The backups to delete so that the newest `keep` remain (by creation time, then name)."""
    ordered = sorted(backups, key=lambda b: (b.get("created_at") or "", b["name"]), reverse=True)
    return ordered[keep:]


def root_pool(instance):
    """The pool of an instance's root disk (its expanded devices), or None."""
    for device in (instance.get("expanded_devices") or {}).values():
        if device.get("type") == "disk" and device.get("path") == "/" and device.get("pool"):
            return device["pool"]
    return None


# ---------------------------------------------------------------- the manager

class BackupManager(Manager):
    def validate(self):
        p = self.params
        check_name("instance", p["instance"])
        state = p["state"]
        for option in MODULE_OPTIONS:
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
                                  % (p["dest"], p["dest"].rstrip("/"), p["name"] or p["instance"]))
            if not os.path.isdir(folder):
                raise ConfigError("dest %r: the folder %s does not exist on this host" % (p["dest"], folder))
        if state == "imported":
            if not p["source"]:
                raise ConfigError("state=imported needs source, the backup file to import")
            if not os.path.isfile(p["source"]):
                raise ConfigError("source %r: no such file on this host" % p["source"])
            if not os.access(p["source"], os.R_OK):
                raise ConfigError("source %r cannot be read by this user" % p["source"])
            if p["pool"] is not None:
                check_name("pool", p["pool"], what="storage pool")
        self.instance_path = api_path("instances", p["instance"])

    def where(self):
        return "" if self.client.project == "default" else " in project %r" % self.client.project

    def backup_path(self, name):
        return api_path("instances", self.params["instance"], "backups", name)

    def list_backups(self):
        try:
            return self.client.get(self.instance_path + "/backups", params={"recursion": 1}).metadata or []
        except LXDNotFound:
            raise LXDError("instance %r does not exist%s" % (self.params["instance"], self.where()))

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
                        self.client.delete(self.backup_path(name))
                        self.actions.remove("create")
                    raise
            if p["keep"]:
                self.prune(list(by_name.values()), p["keep"], protect=name)
        elif p["state"] == "absent":
            if p["name"] in by_name:
                self.tracker.add(("backups", p["name"]), summarize(by_name[p["name"]]), None)
                self.write("delete", self.client.delete, self.backup_path(p["name"]))
                del by_name[p["name"]]
            if p["keep"]:
                self.prune(list(by_name.values()), p["keep"])
        if self.actions and not self.check_mode:
            backups = self.list_backups()
        self.result["backups"] = [summarize(b) for b in sorted(backups, key=lambda b: b.get("created_at") or "")]

    # ------------------------------------------------------------ create, export, prune

    def optimized_allowed(self):
        """Whether the instance's root pool makes optimized backups (the daemon quietly makes a plain one where
        it cannot, so the module asks the pool first and says so)."""
        instance = self.client.get(self.instance_path).metadata
        pool = root_pool(instance)
        driver = None
        if pool:
            driver = (self.client.exists(api_path("storage-pools", pool), project=False) or {}).get("driver")
        if driver in OPTIMIZED_DRIVERS:
            return True
        self.module.warn("optimized_storage: the pool %s of instance %s is %s, which makes no optimized backups "
                         "(only %s do); a plain backup is made"
                         % (pool, self.params["instance"], driver or "unknown", ", ".join(OPTIMIZED_DRIVERS)))
        return False

    def create(self, name):
        p = self.params
        body = {"name": name, "instance_only": p["instance_only"],
                "optimized_storage": bool(p["optimized_storage"]) and self.optimized_allowed()}
        if p["compression_algorithm"]:
            body["compression_algorithm"] = p["compression_algorithm"]
        expires = self.expires_at
        if expires is None and p["expiry"]:
            expires = expiry_to_timestamp(p["expiry"], datetime.datetime.now(datetime.timezone.utc))
        if expires is not None:
            body["expires_at"] = format_rfc3339(expires)
        planned = {"name": name, "created_at": format_rfc3339(datetime.datetime.now(datetime.timezone.utc)),
                   "expires_at": body.get("expires_at"), "instance_only": p["instance_only"],
                   "optimized_storage": body["optimized_storage"]}
        self.tracker.add(("backups", name), None, dict(planned))
        self.write("create", self.client.post, self.instance_path + "/backups", body)
        return planned

    def export(self, name, created):
        dest = self.params["dest"]
        before = {"path": dest, "size": os.path.getsize(dest)} if os.path.isfile(dest) else None
        self.result["dest"] = before
        path = self.backup_path(name) + "/export"
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
        folder = os.path.dirname(os.path.abspath(dest))
        try:
            handle, partial = tempfile.mkstemp(dir=folder, prefix=".%s." % os.path.basename(dest), suffix=".part")
        except OSError as exc:
            raise LXDError("dest %s: cannot write the backup there: %s" % (dest, exc.strerror or exc))
        try:
            with os.fdopen(handle, "wb") as sink:
                self.client.download(path, sink)
                sink.flush()
                os.fsync(sink.fileno())
            # Backups hold everything in the instance: readable by the owner only.
            os.chmod(partial, 0o600)
            os.rename(partial, dest)
        except BaseException as exc:
            if os.path.exists(partial):
                os.unlink(partial)
            if isinstance(exc, OSError):
                raise LXDError("dest %s: cannot write the backup there: %s" % (dest, exc.strerror or exc))
            raise
        after = {"path": dest, "size": os.path.getsize(dest)}
        self.tracker.add(("dest",), before, after)
        self.actions.append("export")
        self.result["dest"] = after

    def prune(self, backups, keep, protect=None):
        for backup in beyond_newest(backups, keep):
            if backup["name"] == protect:
                continue
            self.tracker.add(("backups", backup["name"]), summarize(backup), None)
            self.write("delete %s" % backup["name"], self.client.delete, self.backup_path(backup["name"]))

    # ------------------------------------------------------------ import

    def instance_summary(self, instance):
        snapshots = self.client.get(self.instance_path + "/snapshots").metadata or []
        return {"name": instance["name"], "status": instance.get("status"), "type": instance.get("type"),
                "pool": root_pool(instance), "snapshots": [s.rsplit("/", 1)[-1] for s in snapshots]}

    def import_backup(self):
        p = self.params
        existing = self.client.exists(self.instance_path)
        if existing is not None:
            # Never overwritten: an import is a restore to a new instance; delete the old one first on purpose.
            self.result["instance"] = self.instance_summary(existing)
            return
        info = check_backup_file(p["source"])
        self.result["file"] = info
        if not info["checked"]:
            self.module.warn("%s is compressed with %s, which is not installed on this host: the file was not read "
                             "through before the upload (the daemon still refuses a cut stream)"
                             % (p["source"], info["compression"]))
        prefix = KIND_FACTS[self.client.daemon_kind()]["header_prefix"]
        headers = {prefix + "name": p["instance"]}
        if p["pool"]:
            headers[prefix + "pool"] = p["pool"]
        self.tracker.add(("instance",), None, {"name": p["instance"], "pool": p["pool"] or info.get("pool"),
                                               "snapshots": info.get("snapshots") or []})
        if p["pool"] and self.client.exists(api_path("storage-pools", p["pool"]), project=False) is None:
            raise LXDError("pool %r does not exist on %s: the backup was not imported" % (p["pool"], self.client.url))
        if self.check_mode:
            self.actions.append("import")
            return
        try:
            with open(p["source"], "rb") as source:
                self.write("import", self.client.upload, "/1.0/instances", source, info["size"], headers=headers,
                           what="import of %s as %s" % (p["source"], p["instance"]))
        except LXDError as exc:
            self.clean_failed_import(p["pool"] or info.get("pool"))
            raise LXDError("import of %s as %s%s failed, nothing was made: %s" % (
                p["source"], p["instance"], self.where(), exc.error or exc.message))
        if info.get("name") and info["name"] != p["instance"]:
            self.new_hardware_addresses()
        self.result["instance"] = self.instance_summary(self.client.get(self.instance_path).metadata)

    def new_hardware_addresses(self):
        """A copy under another name gets MAC addresses of its own (as a copy does): beside the original, the
        same ones keep it from starting (Incus) or clash on the network."""
        current = self.client.get(self.instance_path)
        instance = current.metadata
        config = dict((k, v) for k, v in instance["config"].items() if not (is_volatile(k) and k.endswith(".hwaddr")))
        if config == instance["config"]:
            return
        body = dict((k, instance[k]) for k in ("architecture", "devices", "ephemeral", "profiles", "stateful",
                                               "description") if k in instance)
        body["config"] = config
        self.write("new hardware addresses", self.client.put, self.instance_path, body, etag=current.etag)

    def clean_failed_import(self, pool):
        """What a failed import may have left (the daemons clean up after themselves; this makes sure)."""
        try:
            if self.client.exists(self.instance_path) is not None:
                self.client.delete(self.instance_path)
            if pool:
                for kind in ("container", "virtual-machine"):
                    volume = api_path("storage-pools", pool, "volumes", kind, self.params["instance"])
                    if self.client.exists(volume) is not None:
                        self.client.delete(volume)
        except LXDError as exc:
            self.module.warn("the failed import may have left something behind: %s" % exc.message)
