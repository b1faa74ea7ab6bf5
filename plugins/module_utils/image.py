# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Images: fingerprints of local files, upload bodies, copy requests, plans (pure), and the manager.

An image is known by its fingerprint: the SHA-256 of the unified tarball, or of the metadata tarball followed by
the rootfs of a split image. It is computed here from the files before anything is sent, so an image that is
already on the server is never uploaded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from urllib.parse import urlencode, urlparse

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDError,
    LXDNotFound,
    api_path,
    client_from_options,
    load_pem_certificate,
)
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError, to_lxd_string
from ansible_collections.lxdops.server.plugins.module_utils.daemon import KIND_FACTS
from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import format_rfc3339, parse_lxd_time, parse_rfc3339
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager

# lxd and incus both name another server of the family; the request gets the name the target daemon uses.
PROTOCOLS = ("lxd", "incus", "simplestreams")
FAMILY = ("lxd", "incus")
IMAGE_TYPES = ("container", "virtual-machine")
FINGERPRINT_FORM = "64 hexadecimal digits (the SHA-256 the daemon shows as the image's fingerprint)"
# A virtual machine's rootfs is a qcow2 disk; the daemon wants it under another part name.
QCOW2_MAGIC = b"QFI\xfb"
CHUNK = 1 << 20
# An upload or a copy moves the whole image: never given less time than this.
TRANSFER_TIMEOUT = 600
# Fields of PUT /1.0/images/<fingerprint>: all are sent back, or the daemon resets them.
PUT_FIELDS = ("auto_update", "properties", "public", "expires_at", "profiles")


def check_fingerprint(option, value):
    """The fingerprint in lowercase; raise ConfigError unless it is a full SHA-256."""
    text = str(value or "").strip().lower()
    if not re.match(r"^[0-9a-f]{64}$", text):
        raise ConfigError("%s %r is not accepted; give %s" % (option, value, FINGERPRINT_FORM))
    return text


def files_sha256(paths):
    """SHA-256 of the files read one after the other, in chunks (never whole in memory)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
    return digest.hexdigest()


def check_file(option, path):
    """An image file that exists and can be read; raise ConfigError naming the option."""
    if not os.path.isfile(path):
        raise ConfigError("%s %r is not accepted: no such file on the host the module runs on" % (option, path))
    if not os.access(path, os.R_OK):
        raise ConfigError("%s %r is not accepted: the file cannot be read (permissions)" % (option, path))


def normalize_aliases(aliases, option="aliases"):
    """[name or {name, description}] -> {name: description or None (None: keep the current description)}."""
    result = {}
    for entry in aliases or []:
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - {"name", "description"})
            if unknown:
                raise ConfigError("%s: an entry has unknown keys %s; accepted: name, description" % (option, unknown))
            name, description = entry.get("name"), entry.get("description")
        else:
            name, description = entry, None
        if not isinstance(name, str) or not name.strip() or name != name.strip() or any(c in name for c in "\n\t"):
            raise ConfigError("%s: alias name %r is not accepted; give a non-empty name without surrounding "
                              "or control white space (debian/12)" % (option, name))
        if name in result:
            raise ConfigError("%s: alias %r is given twice" % (option, name))
        if description is not None and not isinstance(description, str):
            raise ConfigError("%s: the description of alias %r must be a string" % (option, name))
        result[name] = description
    return result


def normalize_properties(properties):
    """{key: YAML scalar or null} -> {key: LXD string or None (None: remove the property)}."""
    result = {}
    for key, value in (properties or {}).items():
        try:
            result[str(key)] = to_lxd_string(value)
        except ConfigError as exc:
            raise ConfigError("properties.%s: value %r is not accepted; give %s" % (key, value, exc))
    return result


def normalize_expires_at(value):
    """An RFC 3339 time -> the same instant as the daemon writes it (UTC, Z)."""
    try:
        return format_rfc3339(parse_rfc3339(value))
    except ValueError:
        raise ConfigError("expires_at %r is not accepted; give an RFC 3339 time (2027-01-31T00:00:00Z)" % (value,))


def expiry_of(value):
    """The expiry an image shows: None for none (Go's zero time, or the Unix epoch LXD writes for none)."""
    moment = parse_lxd_time(value)
    if moment is None or moment.year <= 1970:
        return None
    return moment


class ConcatenatedBody:
    """A read-only file object over byte strings and files, one after the other: a streamed request body.

    tell() and seek() let the client send it again from the start (its retry of a dropped connection).
    """

    def __init__(self, pieces):
        self._pieces = [("bytes", piece, len(piece)) if isinstance(piece, bytes)
                        else ("file", piece, os.path.getsize(piece)) for piece in pieces]
        self.length = sum(size for _kind, _piece, size in self._pieces)
        self._position = 0
        self._handle = None
        self._handle_index = None

    def tell(self):
        return self._position

    def seek(self, position, whence=0):
        if whence != 0:
            raise ValueError("only absolute positions")
        self._position = max(0, min(position, self.length))
        return self._position

    def read(self, size=-1):
        if size is None or size < 0:
            size = self.length - self._position
        out = []
        while size > 0 and self._position < self.length:
            start = 0
            for index, (kind, piece, length) in enumerate(self._pieces):
                if self._position < start + length:
                    offset = self._position - start
                    take = min(size, length - offset)
                    if kind == "bytes":
                        data = piece[offset:offset + take]
                    else:
                        data = self._read_file(index, piece, offset, take)
                    if not data:
                        raise IOError("%s became shorter while it was sent" % piece)
                    out.append(data)
                    self._position += len(data)
                    size -= len(data)
                    break
                start += length
        return b"".join(out)

    def _read_file(self, index, path, offset, count):
        if self._handle_index != index:
            self.close()
            self._handle = open(path, "rb")
            self._handle_index = index
        self._handle.seek(offset)
        return self._handle.read(count)

    def close(self):
        if self._handle is not None:
            self._handle.close()
        self._handle = self._handle_index = None


def upload_body(file_path, rootfs_path=None, boundary=None):
    """(body, content type) for POST /1.0/images: the unified tarball as it is, or a split image as multipart
    form data with the parts `metadata` then `rootfs` (`rootfs.img` for a virtual machine's qcow2 disk)."""
    if rootfs_path is None:
        return ConcatenatedBody([file_path]), "application/octet-stream"
    boundary = boundary or uuid.uuid4().hex
    with open(rootfs_path, "rb") as handle:
        rootfs_part = "rootfs.img" if handle.read(4) == QCOW2_MAGIC else "rootfs"

    def head(part, path):
        filename = os.path.basename(path).replace("\\", "\\\\").replace('"', '\\"')
        return ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n" % (boundary, part, filename)).encode("utf-8")

    pieces = [head("metadata", file_path), file_path, b"\r\n", head(rootfs_part, rootfs_path), rootfs_path,
              ("\r\n--%s--\r\n" % boundary).encode("ascii")]
    return ConcatenatedBody(pieces), "multipart/form-data; boundary=%s" % boundary


def upload_headers(kind, fingerprint, content_type, length, filename, public=None, properties=None):
    """Headers of an image upload; the daemon checks the fingerprint against what it receives."""
    prefix = KIND_FACTS[kind]["header_prefix"]
    headers = {"Content-Type": content_type, "Content-Length": str(length),
               prefix + "fingerprint": fingerprint, prefix + "filename": filename}
    if public is not None:
        headers[prefix + "public"] = "true" if public else "false"
    wanted = dict((k, v) for k, v in (properties or {}).items() if v is not None)
    if wanted:
        headers[prefix + "properties"] = urlencode(sorted(wanted.items()))
    return headers


def copy_request(server, protocol, alias=None, fingerprint=None, certificate=None, secret=None, project=None,
                 image_type=None, public=None, auto_update=None, properties=None):
    """The POST /1.0/images body that makes the daemon pull an image from another server."""
    source = {"type": "image", "mode": "pull", "server": server, "protocol": protocol}
    if alias:
        source["alias"] = alias
    else:
        source["fingerprint"] = fingerprint
    for key, value in (("certificate", certificate), ("secret", secret), ("image_type", image_type)):
        if value:
            source[key] = value
    if project and project != "default":
        source["project"] = project
    body = {"source": source}
    if public is not None:
        body["public"] = public
    if auto_update is not None:
        body["auto_update"] = auto_update
    wanted = dict((k, v) for k, v in (properties or {}).items() if v is not None)
    if wanted:
        body["properties"] = wanted
    return body


def same_server(a, b):
    """Whether two server urls name the same server (scheme, host and port; a trailing slash is no difference)."""
    return (a or "").rstrip("/").lower() == (b or "").rstrip("/").lower()


def find_copied(images, server, protocol, alias):
    """The local image an earlier copy of `alias` from `server` made (the daemon keeps its update source)."""
    for image in images or []:
        source = image.get("update_source") or {}
        if (source.get("alias") == alias and source.get("protocol") == protocol
                and same_server(source.get("server"), server) and not image.get("cached")):
            return image
    return None


def summary(image, fingerprint=None):
    """What the module manages of an image, as diff mode shows it."""
    image = image or {}
    return {
        "fingerprint": image.get("fingerprint") or fingerprint,
        "aliases": dict((a["name"], a.get("description", "")) for a in image.get("aliases") or []),
        "public": bool(image.get("public")),
        "auto_update": bool(image.get("auto_update")),
        "properties": dict(image.get("properties") or {}),
        "expires_at": format_rfc3339(expiry_of(image.get("expires_at"))) if expiry_of(image.get("expires_at"))
        else None,
    }


def plan_image_update(current, tracker, public=None, auto_update=None, properties=None, expires_at=None):
    """The PUT body for an existing image (None when nothing changes); records the changes in tracker."""
    body = dict((key, current.get(key)) for key in PUT_FIELDS if key in current)
    body["properties"] = dict(current.get("properties") or {})
    changed = False
    for key, wanted in (("public", public), ("auto_update", auto_update)):
        if wanted is not None and bool(current.get(key)) != wanted:
            tracker.add((key,), bool(current.get(key)), wanted)
            body[key] = wanted
            changed = True
    for key, value in (properties or {}).items():
        old = body["properties"].get(key)
        if value is None and key in body["properties"]:
            del body["properties"][key]
        elif value is not None and old != value:
            body["properties"][key] = value
        else:
            continue
        tracker.add(("properties", key), old, value)
        changed = True
    if expires_at is not None:
        old = expiry_of(current.get("expires_at"))
        if old != parse_rfc3339(expires_at):
            tracker.add(("expires_at",), format_rfc3339(old) if old else None, expires_at)
            body["expires_at"] = expires_at
            changed = True
    return body if changed else None


def plan_aliases(fingerprint, wanted, existing, purge=False):
    """Alias changes that make `wanted` ({name: description or None}) point at the image.

    existing: {name: {"target": fingerprint, "description": text}} for every alias of the project.
    An alias that points at another image is moved to this one. With purge, this image's other aliases go.
    Returns [(action, name, body)], action one of create, move, describe, delete.
    """
    steps = []
    for name, description in wanted.items():
        current = existing.get(name)
        if current is None:
            steps.append(("create", name, {"name": name, "target": fingerprint, "description": description or ""}))
        elif current.get("target") != fingerprint:
            keep = current.get("description", "") if description is None else description
            steps.append(("move", name, {"target": fingerprint, "description": keep}))
        elif description is not None and description != current.get("description", ""):
            steps.append(("describe", name, {"target": fingerprint, "description": description}))
    if purge:
        for name, current in sorted(existing.items()):
            if current.get("target") == fingerprint and name not in wanted:
                steps.append(("delete", name, None))
    return steps


class ImageManager(Manager):
    """Brings one image to the server (from files or another server), or removes it."""

    def validate(self):
        p = self.params
        self.fingerprint = check_fingerprint("fingerprint", p["fingerprint"]) if p["fingerprint"] else None
        self.aliases = normalize_aliases(p["aliases"])
        self.properties = normalize_properties(p["properties"])
        self.expires_at = normalize_expires_at(p["expires_at"]) if p["expires_at"] is not None else None
        self.remote = p["remote"]
        if p["rootfs_file"] and not p["file"]:
            raise ConfigError("rootfs_file is given without file: a split image needs file (its metadata tarball) "
                              "and rootfs_file")
        if p["file"] and self.remote:
            raise ConfigError("file and remote are both given: an image comes from files or from a remote, not both")
        if self.remote:
            if self.remote["protocol"] in FAMILY:
                self.remote["protocol"] = "lxd"
            self.validate_remote()
        if p["auto_update"] and not self.remote:
            raise ConfigError("auto_update=true needs remote: only an image copied from a server can be updated "
                              "from it (an image loaded from files has no source to update from)")
        self.files = [p["file"]] + ([p["rootfs_file"]] if p["rootfs_file"] else []) if p["file"] else []
        for option, path in zip(("file", "rootfs_file"), self.files):
            check_file(option, path)
        if self.files:
            computed = files_sha256(self.files)
            if self.fingerprint and self.fingerprint != computed:
                raise ConfigError("fingerprint %s does not match the files given: their SHA-256 is %s (for a split "
                                  "image: of file then rootfs_file)" % (self.fingerprint, computed))
            self.fingerprint = computed
        if p["state"] == "absent":
            if self.remote:
                raise ConfigError("state=absent takes fingerprint, aliases or file to name the image, not remote")
            if not (self.fingerprint or self.aliases):
                raise ConfigError("state=absent needs fingerprint, aliases or file to name the image to delete")
        elif not (self.fingerprint or self.remote):
            raise ConfigError("state=present needs file (and rootfs_file for a split image), remote, or the "
                              "fingerprint of an image already on the server")

    def validate_remote(self):
        r = self.remote
        if bool(r.get("alias")) == bool(r.get("fingerprint")):
            raise ConfigError("remote needs exactly one of remote.alias and remote.fingerprint (the image there)")
        if r.get("fingerprint"):
            r["fingerprint"] = check_fingerprint("remote.fingerprint", r["fingerprint"])
            if self.fingerprint and self.fingerprint != r["fingerprint"]:
                raise ConfigError("fingerprint %s and remote.fingerprint %s differ; give one"
                                  % (self.fingerprint, r["fingerprint"]))
            self.fingerprint = r["fingerprint"]
        url = r.get("url") or ""
        parsed = urlparse(url)
        if parsed.scheme != "https" or not parsed.hostname:
            raise ConfigError("remote.url %r is not accepted: the daemon pulls images over https; give "
                              "https://host[:port]%s" % (url, "/path" if r["protocol"] == "simplestreams" else ""))
        if not r.get("verify", True) and not r.get("server_cert"):
            raise ConfigError("remote.verify=false is not accepted without remote.server_cert: the daemon itself "
                              "connects to the remote and checks it against a certificate authority or the pinned "
                              "certificate; give remote.server_cert (the remote's server.crt) to pin it")
        self.remote_pem = load_pem_certificate(r["server_cert"], "remote.server_cert", error=ConfigError) \
            if r.get("server_cert") else None
        if r["protocol"] == "simplestreams":
            for option in ("secret", "client_cert", "client_key", "trust_token", "trust_password"):
                if r.get(option):
                    raise ConfigError("remote.%s is not accepted with remote.protocol=simplestreams (a simplestreams "
                                      "server serves public images only); it is for protocol lxd" % option)

    # ------------------------------------------------------------ reading

    def image(self, fingerprint):
        return self.client.exists(api_path("images", fingerprint))

    def all_aliases(self):
        aliases = self.client.get("/1.0/images/aliases", params={"recursion": 1}).metadata or []
        return dict((a["name"], {"target": a.get("target"), "description": a.get("description", "")})
                    for a in aliases)

    # ------------------------------------------------------------ apply

    def apply(self):
        if self.params["state"] == "absent":
            self.apply_absent()
            return
        self.undo = []
        try:
            self.apply_present()
        except Exception:
            self.roll_back()
            raise

    def apply_absent(self):
        targets = []
        if self.fingerprint:
            targets.append(self.fingerprint)
        if self.aliases:
            existing = self.all_aliases()
            targets += [existing[name]["target"] for name in self.aliases if name in existing]
        deleted = []
        for fingerprint in targets:
            if fingerprint in deleted:
                continue
            current = self.image(fingerprint)
            if current is None:
                continue
            self.tracker.add(("images", fingerprint), summary(current), None)
            self.write("delete", self.client.delete, api_path("images", fingerprint),
                       timeout=max(self.client.timeout, TRANSFER_TIMEOUT))
            deleted.append(fingerprint)
        self.result = {"image": {}, "fingerprint": targets[0] if len(targets) == 1 else None, "deleted": deleted}

    def apply_present(self):
        p = self.params
        fingerprint = self.fingerprint
        current = None
        if fingerprint:
            current = self.image(fingerprint)
        elif self.remote["protocol"] == "simplestreams":
            images = self.client.get("/1.0/images", params={"recursion": 1}).metadata or []
            current = find_copied(images, self.remote["url"], "simplestreams", self.remote["alias"])
            fingerprint = current["fingerprint"] if current else None
        remote_info = None
        if self.remote and self.remote["protocol"] == "lxd" and (current is None or self.remote.get("alias")):
            remote_info = self.resolve_lxd_remote()
            fingerprint = remote_info["fingerprint"]
            current = self.image(fingerprint)
        if current is None:
            if not self.files and not self.remote:
                raise LXDError("image %s is not on %s; give file (and rootfs_file) or remote to bring it there"
                               % (fingerprint, self.client.url))
            fingerprint = self.create(fingerprint, remote_info)
            if not self.check_mode:
                current = self.image(fingerprint)
                if current is None:
                    raise LXDError("image %s was created on %s but cannot be read back" % (fingerprint, self.client.url))
        if current is not None:
            body = plan_image_update(current, self.tracker, p["public"], p["auto_update"], self.properties,
                                     self.expires_at)
            if body is not None:
                self.write("update", self.client.put, api_path("images", fingerprint), body,
                           etag=self.client.get(api_path("images", fingerprint)).etag)
        self.apply_aliases(fingerprint)
        if current is not None and self.actions and not self.check_mode:
            current = self.image(fingerprint)
        self.result = {"image": current or {}, "fingerprint": fingerprint}

    def create(self, fingerprint, remote_info):
        p = self.params
        planned = {"fingerprint": fingerprint, "public": bool(p["public"]), "auto_update": bool(p["auto_update"]),
                   "properties": dict((k, v) for k, v in self.properties.items() if v is not None),
                   "expires_at": self.expires_at}
        if self.files:
            planned["source"] = {"files": [os.path.basename(f) for f in self.files]}
            self.tracker.add(("image",), None, planned)
            self.write("upload", self.upload, fingerprint)
        else:
            planned["source"] = {"server": self.remote["url"], "protocol": self.remote["protocol"],
                                 "image": self.remote.get("alias") or self.remote.get("fingerprint")}
            self.tracker.add(("image",), None, planned)
            made = self.write("copy", self.copy, fingerprint, remote_info)
            fingerprint = made or fingerprint
        if not self.check_mode:
            self.undo.append(("image", fingerprint))
        return fingerprint

    def upload(self, fingerprint):
        p = self.params
        body, content_type = upload_body(self.files[0], self.files[1] if len(self.files) > 1 else None)
        headers = upload_headers(self.client.daemon_kind(), fingerprint, content_type, body.length,
                                 os.path.basename(self.files[0]), p["public"], self.properties)
        timeout = max(self.client.timeout, TRANSFER_TIMEOUT)
        try:
            raw = self.client.request_raw("POST", "/1.0/images", data=body, headers=headers, timeout=timeout)
        finally:
            body.close()
        try:
            operation = json.loads(raw.body.decode("utf-8")).get("operation")
        except ValueError:
            operation = None
        if not operation:
            raise LXDError("%s answered the upload of image %s without an operation" % (self.client.url, fingerprint))
        meta = self.client.wait_operation(operation, what="upload of image %s" % fingerprint, timeout=timeout)
        made = (meta.get("metadata") or {}).get("fingerprint")
        if made and made != fingerprint:
            raise LXDError("%s made image %s from the upload, not %s" % (self.client.url, made, fingerprint))
        return fingerprint

    def copy(self, fingerprint, remote_info):
        p, r = self.params, self.remote
        alias, secret = r.get("alias"), r.get("secret")
        if remote_info is not None:
            secret = secret or remote_info.get("secret")
            if not remote_info["public"]:
                # The daemon pulls as an unknown client: a private image is reached by fingerprint and secret only.
                alias = None
        server = remote_info["server"] if remote_info else r["url"].rstrip("/")
        protocol = r["protocol"]
        if protocol == "lxd":
            protocol = KIND_FACTS[self.client.daemon_kind()]["image_protocol"]
        body = copy_request(server, protocol, alias=alias, fingerprint=fingerprint,
                            certificate=self.remote_pem, secret=secret, project=r.get("project"),
                            image_type=r.get("image_type"), public=p["public"], auto_update=p["auto_update"],
                            properties=self.properties)
        meta = self.client.post("/1.0/images", body, timeout=max(self.client.timeout, TRANSFER_TIMEOUT)).metadata
        made = ((meta or {}).get("metadata") or {}).get("fingerprint")
        if not made:
            raise LXDError("%s copied the image from %s but did not say its fingerprint" % (self.client.url, server))
        if fingerprint and made != fingerprint:
            raise LXDError("%s copied image %s from %s, not %s" % (self.client.url, made, server, fingerprint))
        return made

    def resolve_lxd_remote(self):
        """The remote image's fingerprint and whether it is public; a secret for a private one when trusted."""
        r = self.remote
        try:
            remote = client_from_options(r)
        except LXDError:
            if r.get("alias"):
                raise
            # No client certificate here: the daemon can still pull a public image (or one with remote.secret).
            return {"fingerprint": r["fingerprint"], "public": not r.get("secret"), "server": r["url"].rstrip("/")}
        try:
            fingerprint = r.get("fingerprint")
            if r.get("alias"):
                try:
                    fingerprint = remote.get(api_path("images", "aliases", r["alias"])).metadata["target"]
                except LXDNotFound:
                    raise LXDError("alias %r is not on %s (project %s), or it names a private image and this client "
                                   "is not trusted there: give remote.fingerprint with remote.secret, or client "
                                   "credentials the remote trusts" % (r["alias"], remote.url, remote.project))
            params = {"secret": r["secret"]} if r.get("secret") else None
            try:
                image = remote.get(api_path("images", fingerprint), params=params).metadata
            except LXDNotFound:
                raise LXDError("image %s is not on %s (project %s), or it is private and neither a trusted client "
                               "certificate nor remote.secret was given" % (fingerprint, remote.url, remote.project))
            info = {"fingerprint": image.get("fingerprint") or fingerprint, "public": bool(image.get("public")),
                    "server": remote.url}
            if not info["public"] and not r.get("secret") and not self.check_mode \
                    and self.image(info["fingerprint"]) is None:
                info["secret"] = self.image_secret(remote, info["fingerprint"])
            return info
        finally:
            remote.close()

    @staticmethod
    def image_secret(remote, fingerprint):
        """A one-time secret for a private image, from a remote that trusts us (what `lxc image copy` does)."""
        response = remote.post(api_path("images", fingerprint, "secret"), {}, wait=False)
        meta = (response.metadata or {}).get("metadata") or {}
        if not meta.get("secret") and response.operation:
            meta = (remote.get(response.operation, project=False).metadata or {}).get("metadata") or {}
        if not meta.get("secret"):
            raise LXDError("%s gave no secret for private image %s" % (remote.url, fingerprint))
        return meta["secret"]

    def apply_aliases(self, fingerprint):
        if not self.aliases and not self.params["purge_aliases"]:
            return
        existing = self.all_aliases()
        for action, name, body in plan_aliases(fingerprint, self.aliases, existing, self.params["purge_aliases"]):
            old = existing.get(name)
            self.tracker.add(("aliases", name), old, None if action == "delete" else
                             {"target": fingerprint, "description": body["description"]})
            path = api_path("images", "aliases", name)
            if action == "create":
                self.write("alias " + name, self.client.post, "/1.0/images/aliases", body)
                self.undo.append(("alias-create", name))
            elif action == "delete":
                self.write("unalias " + name, self.client.delete, path)
                self.undo.append(("alias-restore", name, old))
            else:
                self.write("alias " + name, self.client.put, path, body)
                self.undo.append(("alias-restore", name, old))

    def roll_back(self):
        """Undo what this run did, newest first, so a failed run leaves the server as it was."""
        if self.check_mode:
            return
        for step in reversed(getattr(self, "undo", [])):
            try:
                if step[0] == "image":
                    self.client.delete(api_path("images", step[1]))
                elif step[0] == "alias-create":
                    self.client.delete(api_path("images", "aliases", step[1]))
                else:
                    name, old = step[1], step[2]
                    path = api_path("images", "aliases", name)
                    if self.client.exists(path) is None:
                        self.client.post("/1.0/images/aliases", dict(old, name=name))
                    else:
                        self.client.put(path, old)
            except LXDError:
                pass
